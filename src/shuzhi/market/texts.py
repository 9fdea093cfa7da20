"""Console and portal texts of the data market."""

from __future__ import annotations

TEXTS: dict[str, tuple[str, str]] = {
    "mk.verify_title": ("数据登记证书查验", "Data registration certificate check"),
    "mk.number": ("登记编号", "Registration number"),
    "mk.name": ("名称", "Name"),
    "mk.subject.product": ("数据产品", "Data product"),
    "mk.subject.resource": ("公共数据资源", "Public data resource"),
    "mk.subject": ("登记对象", "Subject"),
    "mk.holder": ("登记主体", "Holder"),
    "mk.uscc": ("统一社会信用代码", "Unified social credit code"),
    "mk.rights": ("确权类型", "Rights"),
    "mk.right.holding": ("数据资源持有权", "Data resource holding right"),
    "mk.right.processing": ("数据加工使用权", "Data processing and use right"),
    "mk.right.operating": ("数据产品经营权", "Data product operation right"),
    "mk.scenario": ("应用场景", "Scenario"),
    "mk.status": ("状态", "Status"),
    "mk.status.registered": ("已登记", "Registered"),
    "mk.status.cancelled": ("已注销", "Cancelled"),
    "mk.status.notice": ("公示中", "Under public notice"),
    "mk.registered_at": ("登记日期", "Registered on"),
    "mk.valid_until": ("有效期至", "Valid until"),
    "mk.sample_hash": ("样例数据存证（SHA-256）", "Sample data digest (SHA-256)"),
    "mk.code": ("查验码", "Verification code"),
    "mk.check": ("查验", "Check"),
    "mk.code_ok": ("查验码与证书一致。", "The verification code matches this certificate."),
    "mk.code_bad": ("查验码与证书不一致。", "The verification code does not match."),
    "mk.notices_title": ("数据登记公示", "Registrations under public notice"),
    "mk.notice_ends": ("公示截止", "Notice ends"),
    "mk.no_notices": ("目前没有公示中的登记。", "No registration is under public notice."),
    "mk.object": ("提出异议", "File an objection"),
    "mk.objection_name": ("姓名或单位", "Name or organisation"),
    "mk.objection_contact": ("联系方式", "Contact"),
    "mk.objection_reason": ("异议理由", "Grounds"),
    "mk.objection_filed": (
        "异议已受理；公示期满前登记机构将处理，处理前该登记不会生效。",
        "Objection received; the registration cannot take effect until it is resolved.",
    ),
    "mk.certificate_title": ("数据登记证书", "Data registration certificate"),
    "mk.certificate_note": (
        "本证书由平台依登记记录生成，可在公共数据开放平台按登记编号与查验码查验。",
        "Generated from the registration ledger; check it on the public portal with the"
        " registration number and verification code.",
    ),
    "mk.print": ("打印", "Print"),
}
