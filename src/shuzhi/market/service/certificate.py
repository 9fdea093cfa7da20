"""The registration certificate (数据登记证书) as a PDF, generated on the server through the
shared document renderer (``shuzhi.documents.pdf``): the certificate's facts in both
languages, its verification code and where to check it."""

from __future__ import annotations

from shuzhi.audit.service import record
from shuzhi.context import Ctx
from shuzhi.documents import pdf
from shuzhi.market.events import CertificateIssued
from shuzhi.market.models import RegistrationStatus
from shuzhi.market.service.common import conflict, registration_row
from shuzhi.market.service.registry import get_registration

CHECK_PATH = "/open/market/verify/{number}"

_RIGHTS = {
    "holding": "数据资源持有权 / data resource holding right",
    "processing": "数据加工使用权 / data processing and use right",
    "operating": "数据产品经营权 / data product operation right",
}
_SUBJECTS = {
    "product": "数据产品 / data product",
    "resource": "公共数据资源 / public data resource",
}
# Certificate fields beyond the ones printed above them, with their bilingual labels.
_FIELDS = {
    "introduction": "简介 / Introduction",
    "data_type": "数据类型 / Data type",
    "industry": "行业 / Industry",
    "region": "地域 / Region",
    "scenario": "应用场景 / Scenario",
    "source": "数据来源 / Source",
    "personal_information": "涉及个人信息 / Personal information",
    "coverage": "覆盖范围 / Coverage",
    "scale": "数据规模 / Scale",
    "update_frequency": "更新频率 / Update frequency",
    "period": "数据时间范围 / Period",
}


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "是 / yes" if value else "否 / no"
    return str(value)


def certificate_pdf(ctx: Ctx, number: str) -> bytes:
    """The certificate of a registration in effect, as a PDF (audited)."""
    found = get_registration(ctx, number)
    if found.status != RegistrationStatus.REGISTERED:
        raise conflict(
            "certificate_pdf",
            f"registration:{found.number}",
            "该登记尚未生效，没有证书。",
            "The registration is not in effect; it has no certificate yet.",
        )
    rows: list[list[pdf.Cell]] = [
        ["登记编号 / Registration number", found.number],
        ["查验码 / Verification code", found.verification_code],
        ["名称 / Name", found.name],
        ["登记对象 / Subject", _SUBJECTS.get(found.subject_kind.value, found.subject_kind.value)],
        ["登记主体 / Holder", found.holder_name],
        ["统一社会信用代码 / Unified social credit code", found.holder_uscc],
        ["确权类型 / Rights", "\n".join(_RIGHTS.get(r, r) for r in found.rights)],
    ]
    for key, label in _FIELDS.items():
        value = found.certificate.get(key)
        if value not in (None, ""):
            rows.append([label, _text(value)])
    rows += [
        [
            "登记日期 / Registered on",
            found.registered_at.date().isoformat() if found.registered_at else "",
        ],
        ["有效期至 / Valid until", found.valid_until.isoformat() if found.valid_until else ""],
        ["样例数据存证 SHA-256 / Sample digest", found.sample_hash or "—"],
    ]
    if found.upstream_code:
        rows.append(["上级平台登记编码 / Upstream code", found.upstream_code])
    check = CHECK_PATH.format(number=found.number)
    document = pdf.Document(
        title="数据登记证书 / Data registration certificate",
        meta=[
            f"登记编号 / No. {found.number}",
            f"查验码 / Verification code {found.verification_code}",
        ],
        blocks=[
            pdf.Table(["项目 / Item", "内容 / Entry"], rows, widths=[0.34, 0.66]),
            pdf.Paragraph(
                "本证书由平台依登记记录生成，可在公共数据开放平台按登记编号与查验码查验："
                f"{check}?code={found.verification_code}\n"
                "Generated from the registration ledger; check it on the public portal with the"
                f" registration number and verification code: {check}?code="
                f"{found.verification_code}"
            ),
        ],
        footer=f"{found.number} · 查验码 {found.verification_code}",
    )
    data = pdf.render(document)
    unit = registration_row(ctx, found.number).holder_unit_id
    record(ctx, CertificateIssued(number=found.number, unit=unit))
    return data
