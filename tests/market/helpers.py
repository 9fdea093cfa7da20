"""Market test data: an operator of department A's organisation, agreements over published
entries of department B, products and registration forms."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import count
from typing import Any

from sqlalchemy import select

from shuzhi.context import SYSTEM, Actor, Role
from shuzhi.db.base import utcnow
from shuzhi.db.engine import Database
from shuzhi.lake import service as lake
from shuzhi.lake.models import Dataset, DatasetVersion
from shuzhi.lake.readers import FileSource
from shuzhi.market import service
from shuzhi.market.models import Party
from shuzhi.market.schemas import (
    AgreementIn,
    AgreementOut,
    ComplianceReview,
    PartyIn,
    PartyOut,
    ProductIn,
    ProductOut,
    RegistrationIn,
    RegistrationOut,
)
from tests.catalog.helpers import item
from tests.conftest import acting
from tests.factories import Org, uscc
from tests.lake.helpers import published_entry, write_csv
from tests.scratch import Scratch

_n = count(100)
_dir = Scratch("shuzhi-market-")

FIGURES = [item("行业"), item("企业数", data_type="N", length=8)]
SCENARIO = "企业经营健康评价"


def figures_entry(database: Database, unit: str = "B", loaded: bool = True) -> str:
    """A published entry of business figures (no personal information), with data loaded."""
    code = published_entry(database, unit, items=FIGURES)
    if loaded:
        rows = [["制造业", "120"], ["批发零售", "340"], ["住宿餐饮", "88"]]
        path = write_csv(_dir / f"f{next(_n)}.csv", rows, header=["行业", "企业数"])
        with acting(database, SYSTEM) as ctx:
            lake.ingest(ctx, code, FileSource(path))
    return code


def mark_core(database: Database, code: str) -> None:
    """Grade the entry's current version 核心数据 (as a security review would record it)."""
    with acting(database, SYSTEM) as ctx:
        dataset = ctx.db.scalar(select(Dataset).where(Dataset.resource_code == code))
        assert dataset is not None
        row = ctx.db.scalar(
            select(DatasetVersion).where(
                DatasetVersion.dataset_id == dataset.id, DatasetVersion.status == "current"
            )
        )
        assert row is not None
        grade = dict(row.grade_json)
        grade.update(level="core", level_zh="核心数据", level_en="Core data", national_level="core")
        row.grade_json = grade


def party_data(**over: Any) -> dict[str, Any]:
    return {
        "kind": "operator",
        "name": "城市数据集团有限公司",
        "uscc": uscc(next(_n)),
        "contact": "李四 020-12345678",
        **over,
    }


def executive(seeded: Org) -> Actor:
    return seeded.actor(Role.CDO_EXECUTIVE)


def operator_party(
    database: Database, seeded: Org, unit: str | None = "A", **over: Any
) -> PartyOut:
    """An approved operator whose organisation is ``unit`` (the seeded operator's unit A)."""
    with acting(database, executive(seeded)) as ctx:
        party = service.apply_market_party(
            ctx, PartyIn.model_validate(party_data(unit_code=unit, **over))
        )
        return service.decide_market_party(ctx, party.id, approve=True)


def broker(database: Database, seeded: Org, until: date, grade: str = "A") -> PartyOut:
    """An approved broker whose licence runs until ``until`` (a past date: it was valid when
    approved and has run out since)."""
    with acting(database, executive(seeded)) as ctx:
        party = service.apply_market_party(
            ctx,
            PartyIn.model_validate(
                party_data(
                    kind="broker",
                    name=f"数据经纪{next(_n)}有限公司",
                    licence_grade=grade,
                    licence_sector="交通运输",
                    licence_valid_from=str(utcnow().date() - timedelta(days=400)),
                    licence_valid_until=str(max(until, utcnow().date())),
                )
            ),
        )
        approved = service.decide_market_party(ctx, party.id, approve=True)
    if until < utcnow().date():
        with acting(database, SYSTEM) as ctx:
            row = ctx.db.get(Party, approved.id)
            assert row is not None
            row.licence_valid_until = until
        approved = approved.model_copy(update={"licence_valid_until": until})
    return approved


def agreement_data(operator_id: int, resources: list[str], **over: Any) -> dict[str, Any]:
    today = utcnow().date()
    return {
        "title": "公共数据授权运营协议（经营主体）",
        "operator_id": operator_id,
        "resources": resources,
        "rights": ["processing", "operating"],
        "scenarios": [SCENARIO, "普惠金融授信"],
        "fee_cap_cents": 50_000_000,
        "security_obligations": "原始数据不出域，数据可用不可见；按季度报送安全评估。",
        "exit_terms": "协议终止后 30 日内删除全部加工结果并提交销毁证明。",
        "breach_terms": "违反安全义务的，实施机构可暂停或终止协议并追究责任。",
        "starts_on": str(today - timedelta(days=1)),
        "ends_on": str(today + timedelta(days=365)),
        **over,
    }


def active_agreement(
    database: Database, seeded: Org, operator_id: int, resources: list[str], **over: Any
) -> AgreementOut:
    """Drafted by the executive, approved by the CDO, put into force by the executive."""
    with acting(database, executive(seeded)) as ctx:
        drafted = service.draft_agreement(
            ctx, AgreementIn.model_validate(agreement_data(operator_id, resources, **over))
        )
    with acting(database, seeded.actor(Role.CDO)) as ctx:
        service.approve_agreement(ctx, drafted.id)
    with acting(database, executive(seeded)) as ctx:
        return service.activate_agreement(ctx, drafted.id)


def product_data(agreement_id: int, inputs: list[str], **over: Any) -> dict[str, Any]:
    return {
        "name": "企业经营健康指数",
        "kind": "product",
        "agreement_id": agreement_id,
        "inputs": inputs,
        "processing": "按行业汇总企业数与社保缴纳人数，计算经营健康指数，不含个人明细。",
        "scenario": SCENARIO,
        "update_frequency": "monthly",
        "delivery_mode": "api",
        "price_cents": 20_000_000,
        "fee_standard": "按年订阅，每年 20 万元；单次调用不另收费。",
        "sample": [{"行业": "制造业", "指数": 86.5}, {"行业": "批发零售", "指数": 79.1}],
        **over,
    }


def passing_review() -> ComplianceReview:
    ok = {"passed": True, "note": ""}
    return ComplianceReview.model_validate(
        {
            "source_legality": ok,
            "authorisation_chain": ok,
            "personal_information": ok,
            "security_assessment": ok,
        }
    )


def failing_review() -> ComplianceReview:
    data = passing_review().model_dump()
    data["security_assessment"] = {"passed": False, "note": "未提交第三方安全评估报告。"}
    return ComplianceReview.model_validate(data)


def compliant_product(
    database: Database,
    seeded: Org,
    agreement_id: int,
    inputs: list[str],
    passed: bool = True,
    **over: Any,
) -> ProductOut:
    with acting(database, seeded.actor(Role.OPERATOR)) as ctx:
        made = service.create_product(
            ctx, ProductIn.model_validate(product_data(agreement_id, inputs, **over))
        )
        service.submit_product(ctx, made.id)
    with acting(database, executive(seeded)) as ctx:
        review = passing_review() if passed else failing_review()
        return service.review_product_compliance(ctx, made.id, review)


def form(**over: Any) -> RegistrationIn:
    data: dict[str, Any] = {
        "basic": {
            "introduction": "按行业反映本区企业经营健康状况的月度指数。",
            "data_type": "统计指数",
            "industry": "综合",
            "region": "广东省广州市",
            "source": "授权运营的住房公积金、社会保险、市场主体登记数据。",
            "coverage": "全区",
            "scale": "约 3 万家企业",
            "involves_personal_information": False,
        },
        "storage": {"location": "区政务云", "method": "数据库"},
        "documents": {
            "description": "产品说明书、加工规则与质量报告。",
            "commitment": True,
            "commitment_signatory": "王五",
        },
        **over,
    }
    return RegistrationIn.model_validate(data)


def registered_story(
    database: Database, seeded: Org
) -> tuple[AgreementOut, ProductOut, RegistrationOut]:
    """Operator → agreement over a figures entry → compliant product → registration filed."""
    party = operator_party(database, seeded)
    code = figures_entry(database)
    agreement = active_agreement(database, seeded, party.id, [code])
    product = compliant_product(database, seeded, agreement.id, [code])
    with acting(database, seeded.actor(Role.OPERATOR)) as ctx:
        filed = service.register_product(ctx, product.id, form())
    return agreement, product, filed
