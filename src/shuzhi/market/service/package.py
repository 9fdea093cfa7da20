"""The export package of a registration record, for submission to the national or provincial
registration platform: the form data as JSON and XLSX and the sample's hash, in one zip."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from openpyxl import Workbook

from shuzhi.audit.service import record
from shuzhi.auth.permissions import require
from shuzhi.context import Ctx
from shuzhi.market.events import RegistrationExported
from shuzhi.market.models import Registration
from shuzhi.market.service.common import registration_row
from shuzhi.security import cells

FORM_ROWS: list[tuple[str, str, str]] = [
    ("basic", "introduction", "数据介绍"),
    ("basic", "data_type", "数据类型"),
    ("basic", "industry", "所属行业"),
    ("basic", "region", "归属地域"),
    ("basic", "source", "数据来源"),
    ("basic", "coverage", "覆盖范围"),
    ("basic", "scale", "数据规模"),
    ("basic", "involves_personal_information", "是否涉及个人信息"),
    ("basic", "period_from", "起始时间"),
    ("basic", "period_to", "截止时间"),
    ("agent", "broker_id", "委托代理（经纪人）"),
    ("agent", "mandate", "委托事项"),
    ("storage", "location", "存储位置"),
    ("storage", "method", "存储方式"),
    ("documents", "description", "说明文档"),
    ("documents", "commitment", "登记承诺书"),
    ("documents", "commitment_signatory", "承诺人"),
]


def _form_data(reg: Registration) -> dict[str, Any]:
    return {
        "registration_number": reg.number,
        "subject_kind": str(reg.subject_kind),
        "name": reg.name,
        "holder": {"name": reg.holder_name, "uscc": reg.holder_uscc},
        "sections": dict(reg.sections),
        "rights": list(reg.rights),
        "certificate": dict(reg.certificate),
        "sample_sha256": reg.sample_hash,
        "status": str(reg.status),
        "registered_at": reg.registered_at.isoformat() if reg.registered_at else None,
        "valid_until": reg.valid_until.isoformat() if reg.valid_until else None,
        "upstream_code": reg.upstream_code,
    }


def _xlsx(form: dict[str, Any]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "登记表"
    sheet.append(["栏目 Section", "字段 Field", "名称 Label", "内容 Value"])
    sheet.append(["", "registration_number", "登记编号", form["registration_number"]])
    sheet.append(["", "name", "名称", form["name"]])
    sheet.append(["", "holder_name", "登记主体", form["holder"]["name"]])
    sheet.append(["", "holder_uscc", "统一社会信用代码", form["holder"]["uscc"]])
    sheet.append(["", "rights", "确权类型", ",".join(form["rights"])])
    for section, field, label in FORM_ROWS:
        value = form["sections"].get(section, {}).get(field)
        sheet.append([section, field, label, "" if value is None else str(value)])
    sheet.append(["", "sample_sha256", "样例数据哈希", form["sample_sha256"]])
    cells.seal_workbook(book)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def export_registration(ctx: Ctx, number: str) -> bytes:
    """The package for the national or provincial platform: form data as JSON and XLSX and
    the sample's hash, in one zip (the certificate page is printed from the console)."""
    reg = registration_row(ctx, number)
    require(ctx, "export_registration", reg.holder_unit_id, target=f"registration:{reg.number}")
    form = _form_data(reg)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr(
            "registration.json", json.dumps(form, ensure_ascii=False, indent=2, sort_keys=True)
        )
        package.writestr("registration.xlsx", _xlsx(form))
        package.writestr("sample.sha256", f"{reg.sample_hash}  sample.json\n")
    record(ctx, RegistrationExported(number=reg.number, unit=reg.holder_unit_id))
    return out.getvalue()
