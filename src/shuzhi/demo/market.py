"""Demo data market: the district authorises 青川城市数据集团 (the city data group) to operate
public data. Under one agreement it builds 企业经营健康指数 from three departments' figures
(税务局 tax credit, 统计局 business indicators, 工信局 electricity use) and a bus-trajectory
product from the transport bureau's vehicle positions. Both pass the compliance review and
are registered with two brokers of different grades as agents; one objection is filed
during the public notice and dismissed. A logistics company buys the trajectory product for
¥200,000 a year, delivered through the gateway; the contract is filed and evaluated.

Built once, through the normal services. ``demo-credentials.json`` gets, under
``"market"``, the operator's and the buyer's accounts, the buyer's product API key and an
example call. The year's books (数据资产入表 of the operator's resource, the 2026 annual
disclosure) are recorded on it through ``service.seed_books``."""

from __future__ import annotations

import random
import tempfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import select

from shuzhi.auth import service as auth
from shuzhi.auth.models import User
from shuzhi.auth.passwords import verify_password
from shuzhi.auth.schemas import PasswordReset, UserCreate
from shuzhi.catalog import service as catalog
from shuzhi.catalog.schemas import EntryCreate
from shuzhi.context import ANONYMOUS, Actor, Ctx, Role, unit_of_work
from shuzhi.db.base import utcnow
from shuzhi.db.engine import Database
from shuzhi.demo.sharing import key_works, stored_credentials
from shuzhi.lake import service as lake
from shuzhi.lake.readers import FileSource
from shuzhi.market import service as market
from shuzhi.market.models import Contract, Party, Registration
from shuzhi.market.schemas import (
    AgreementIn,
    ComplianceReview,
    ObjectionIn,
    PartyIn,
    ProductIn,
    RegistrationIn,
)
from shuzhi.market.trade_schemas import EvaluationIn, PurchaseIn, SignIn
from shuzhi.org import service as org
from shuzhi.sandbox import releases
from shuzhi.sandbox import service as sandbox
from shuzhi.sandbox.schemas import (
    QueryIn,
    ReleaseDecisionIn,
    ReleaseIn,
    SandboxDecisionIn,
    SandboxRequestIn,
)
from shuzhi.security.categories import Category
from shuzhi.sharing import apps_service as apps
from shuzhi.sharing.schemas import ApplicationIn
from shuzhi.standards.identifiers import uscc_from_parts

SEED = 20261206
DIVISION = "330182"
OPERATOR_NAME = "青川城市数据集团有限公司"
BUYER_NAME = "青川智运物流科技有限公司"
OPERATOR_USER = "csjt.operator"
BUYER_USER = "zywl.buyer"
UNITS = ("SWUJ", "TJJ", "GXJ", "JTJ")
HEALTH_SCENARIO = "企业经营健康评价"
HEALTH_PRICE_CENTS = 12_000_000  # ¥120,000 a year
BUS_SCENARIO = "公交出行与物流线路优化"
BUS_PRICE_CENTS = 20_000_000  # ¥200,000 a year
BOOKS_YEAR = 2026  # the year of the demo's disclosure and balance sheet
INDUSTRIES = ("制造业", "批发和零售业", "住宿和餐饮业", "交通运输业", "信息技术服务业", "建筑业")
LINES = ("1路", "5路", "12路", "K3路", "游2路")

CODE = "统一社会信用代码"
ENTERPRISES_PER_INDUSTRY = 20
PERIOD = "2026 年 1—10 月"

# (key, unit, entry name, abstract, columns: name → N (numeric) or C)
SPECS: list[tuple[str, str, str, str, dict[str, str]]] = [
    (
        "tax",
        "SWUJ",
        "企业纳税信用评价信息",
        f"辖区企业{PERIOD}的纳税信用等级与评价得分。",
        {CODE: "C", "行业": "C", "纳税信用等级": "C", "纳税信用得分": "N"},
    ),
    (
        "business",
        "TJJ",
        "规模以上企业经营指标信息",
        f"辖区规模以上企业{PERIOD}累计营业收入与利润总额（万元）。",
        {CODE: "C", "行业": "C", "营业收入": "N", "利润总额": "N"},
    ),
    (
        "power",
        "GXJ",
        "企业用电量信息",
        f"辖区企业{PERIOD}累计用电量（万千瓦时）。",
        {CODE: "C", "行业": "C", "用电量": "N"},
    ),
    (
        "bus",
        "JTJ",
        "公交车辆运行轨迹信息",
        "公交车辆按分钟采集的线路、车辆自编号、位置与速度。",
        {"线路": "C", "车辆自编号": "C", "采集时间": "C", "经度": "N", "纬度": "N", "速度": "N"},
    ),
]
# The sandbox terms each provider grants the operator's analyst (the enterprise code joins
# the three datasets and is never shown; at least ten enterprises in every group).
TERMS: dict[str, dict[str, str]] = {
    "tax": {CODE: "join_key", "行业": "dimension", "纳税信用等级": "dimension"}
    | {"纳税信用得分": "aggregate"},
    "business": {CODE: "join_key", "行业": "dimension", "营业收入": "aggregate"}
    | {"利润总额": "aggregate"},
    "power": {CODE: "join_key", "行业": "dimension", "用电量": "aggregate"},
}
SANDBOX_APP = "CSJT-SANDBOX"
ANALYST_USER = "csjt.analyst"
K = 10


def health_query(codes: dict[str, str]) -> str:
    """The index per industry: tax credit (60 %) and profit margin (40 %), with the average
    electricity use as the activity figure."""
    return (
        "SELECT t.行业, COUNT(*) AS 企业数, "
        "ROUND(0.6 * AVG(t.纳税信用得分) + 400 * SUM(b.利润总额) / SUM(b.营业收入), 1)"
        " AS 健康指数, ROUND(AVG(p.用电量), 1) AS 户均用电量 "
        f'FROM "{codes["tax"]}" t JOIN "{codes["business"]}" b ON t.{CODE} = b.{CODE} '
        f'JOIN "{codes["power"]}" p ON t.{CODE} = p.{CODE} '
        "GROUP BY t.行业 ORDER BY t.行业"
    )


@dataclass
class MarketDemo:
    """What the demo market built: the later parts of the market story (the annual
    disclosure, 数据资产入表) build on these."""

    operator_party_id: int
    agreement_id: int
    product_ids: dict[str, int]
    registrations: dict[str, str]
    contract_id: int  # the trajectory service's
    health_contract_id: int  # the health index's


def _rows(key: str, rng: random.Random) -> list[dict[str, Any]]:
    if key == "bus":
        rows = []
        for line in LINES:
            for bus in range(1, 5):
                for minute in range(0, 120, 5):
                    rows.append(
                        {
                            "线路": line,
                            "车辆自编号": f"QC-{LINES.index(line) + 1:02d}{bus:02d}",
                            "采集时间": f"2026-11-02 07:{minute // 60:01d}{minute % 60:02d}",
                            "经度": round(120.10 + rng.uniform(0, 0.08), 5),
                            "纬度": round(30.20 + rng.uniform(0, 0.06), 5),
                            "速度": round(rng.uniform(0, 45), 1),
                        }
                    )
        return rows
    rows = []
    for i, industry in enumerate(INDUSTRIES):
        for n in range(ENTERPRISES_PER_INDUSTRY):
            body = f"MA{i + 1:01d}{n:02d}" + "".join(rng.choice("0123456789") for _ in range(3))
            score = rng.randint(55, 99)
            revenue = round(rng.uniform(2_000, 60_000), 1)
            rows.append(
                {
                    CODE: uscc_from_parts("9", "1", DIVISION, body),
                    "行业": industry,
                    "纳税信用等级": "A" if score >= 90 else "B" if score >= 70 else "M",
                    "纳税信用得分": score,
                    "营业收入": revenue,
                    "利润总额": round(revenue * rng.uniform(-0.03, 0.12), 1),
                    "用电量": round(rng.uniform(20, 900), 1),
                }
            )
    return rows


def _entry(ctx: Ctx, unit: str, name: str, abstract: str, columns: dict[str, str]) -> str:
    items = [
        {"name": c, "data_type": t, "length": 50, "share_type": "conditional"}
        for c, t in columns.items()
    ]
    data = EntryCreate.model_validate(
        {
            "name": name,
            "abstract": abstract,
            "unit_code": unit,
            "class_code": "3",
            "subclass_code": "01",
            "group_code": "001",
            "format_code": "3",
            "format_subtype": "MySQL",
            "share_type": "conditional",
            "share_conditions": "经授权运营协议授权后，由运营机构加工为数据产品使用",
            "not_shared_basis": "《青川区公共数据授权运营管理办法》第十条",
            "share_method": "platform",
            "share_method_type": "interface",
            "open_type": "not_open",
            "not_open_reason": "other",
            "not_open_note": "纳入公共数据授权运营，经运营机构加工后以数据产品形式提供",
            "update_cycle": "4",
            "items": items,
        }
    )
    code = catalog.create_entry(ctx, data).resource_code
    catalog.submit_entry(ctx, code)
    catalog.approve_entry(ctx, code)
    return code


def _confirm_classification(ctx: Ctx, code: str) -> None:
    """The source unit reviews the classifier's guesses: these figures and bus positions
    describe industries and vehicles, not people, so each personal guess is corrected to "no
    personal information" (a guess left unconfirmed would keep the resource out of any
    product, and a personal column out of API delivery)."""
    current = lake.current_version(ctx, code)
    if current is None:
        return
    for column in current[0].classification:
        if column.personal and not column.overridden:
            lake.override_classification(
                ctx, code, column.name, Category.NONE.value, "数源单位核对：不含个人信息"
            )


def _datasets(database: Database, actor: Actor) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """The four resources loaded (codes by key), and the bus positions as loaded."""
    rng = random.Random(SEED)
    codes: dict[str, str] = {}
    enterprises = _rows("enterprises", rng)
    bus = _rows("bus", rng)
    with tempfile.TemporaryDirectory(prefix="shuzhi-demo-market-") as tmp:
        for key, unit, name, abstract, columns in SPECS:
            with unit_of_work(database, actor) as ctx:
                codes[key] = _entry(ctx, unit, name, abstract, columns)
            rows = bus if key == "bus" else enterprises
            path = Path(tmp) / f"{key}.parquet"
            pq.write_table(pa.table({c: [r[c] for r in rows] for c in columns}), path)
            with unit_of_work(database, actor) as ctx:
                lake.ingest(ctx, codes[key], FileSource(path))
            with unit_of_work(database, actor) as ctx:
                _confirm_classification(ctx, codes[key])
    lake.close_engine(database)
    return codes, bus


def _reviewer(ctx: Ctx, unit: str) -> Actor:
    """The provider unit's CDO deciding on its data in the sandbox (the demo records the
    decisions in that unit's name)."""
    unit_id = org.unit_id_for_code(ctx, unit)
    return Actor(kind="system", name=f"demo:{unit}.cdo", role=Role.UNIT_CDO, unit_id=unit_id)


def _sandbox_release(
    database: Database, actor: Actor, analyst: Actor, unit_code: str, codes: dict[str, str]
) -> int:
    """The operator's analyst gets sandbox access to the three departments' enterprise data
    (each provider grants its terms), counts the index per industry inside the sandbox
    (groups of fewer than ten enterprises suppressed) and asks to release the figures to a
    data product; each provider approves. Returns the approved release's id."""
    with unit_of_work(database, analyst) as ctx:
        apps.register_application(
            ctx,
            ApplicationIn(
                code=SANDBOX_APP,
                name="城市数据集团数据沙箱加工",
                description="在数据沙箱内加工企业经营健康指数（只输出行业汇总）。",
                unit_code=unit_code,
            ),
        )
    for key, terms in TERMS.items():
        with unit_of_work(database, analyst) as ctx:
            asked = sandbox.request_sandbox(
                ctx,
                SandboxRequestIn.model_validate(
                    {
                        "resource_code": codes[key],
                        "application_code": SANDBOX_APP,
                        "unit_code": unit_code,
                        "purpose": "依授权运营协议在沙箱内加工企业经营健康指数，只输出行业汇总",
                        "legal_basis": "《青川区公共数据授权运营管理办法》第十条；授权运营协议",
                        "terms": {"columns": terms, "entity_column": CODE, "k": K},
                    }
                ),
            )
        if asked.grant_id is None:
            with unit_of_work(database, actor) as ctx:
                provider = _reviewer(ctx, asked.provider_unit_code)
            with unit_of_work(database, provider) as ctx:
                sandbox.decide_sandbox(
                    ctx, asked.id, SandboxDecisionIn.model_validate({"outcome": "approve"})
                )
    with unit_of_work(database, analyst) as ctx:
        answer = releases.answer_query(ctx, QueryIn(sql=health_query(codes)))
        release = releases.request_release(
            ctx,
            ReleaseIn(
                query_id=answer.id,
                purpose="企业经营健康指数（行业汇总）作为数据产品发布",
                target="data_product",
            ),
        )
    for unit in ("SWUJ", "TJJ", "GXJ"):
        with unit_of_work(database, actor) as ctx:
            provider = _reviewer(ctx, unit)
        with unit_of_work(database, provider) as ctx:
            releases.decide_release(
                ctx, release.id, ReleaseDecisionIn(approve=True, reason="只含行业汇总")
            )
    return release.id


def _load_bus_output(
    database: Database, operator: Actor, product_id: int, rows: list[dict[str, Any]]
) -> None:
    """The operator loads the cleaned trajectories it produced as the service's output."""
    columns = SPECS[3][4]
    with tempfile.TemporaryDirectory(prefix="shuzhi-demo-market-") as tmp:
        path = Path(tmp) / "bus-output.parquet"
        pq.write_table(pa.table({c: [r[c] for r in rows] for c in columns}), path)
        with unit_of_work(database, operator) as ctx:
            market.load_product_output(ctx, product_id, FileSource(path))


def _party(ctx: Ctx, rng: random.Random, **data: Any) -> int:
    body = "MA" + "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(6))
    applied = market.apply_market_party(
        ctx, PartyIn.model_validate({"uscc": uscc_from_parts("9", "1", DIVISION, body), **data})
    )
    return market.decide_market_party(ctx, applied.id, approve=True, reason="材料齐全").id


def _account(
    ctx: Ctx, username: str, password: str, unit_code: str, role: Role = Role.OPERATOR
) -> Actor:
    user = ctx.db.scalar(select(User).where(User.username == username))
    if user is None:
        auth.create_user(
            ctx,
            UserCreate(
                username=username,
                display_name=username,
                password=password,
                role=role,
                unit_code=unit_code,
            ),
        )
        user = ctx.db.scalar(select(User).where(User.username == username))
    elif not verify_password(ctx.settings, user.password_hash, password):
        auth.reset_password(
            ctx, username, PasswordReset(new_password=password, require_change=False)
        )
    assert user is not None
    return auth.actor_for_user(user)


def _form(introduction: str, industry: str, scale: str, broker_id: int) -> RegistrationIn:
    return RegistrationIn.model_validate(
        {
            "basic": {
                "introduction": introduction,
                "data_type": "统计指数" if industry == "综合" else "时空轨迹",
                "industry": industry,
                "region": "浙江省杭州市青川区",
                "source": "经授权运营协议授权的区级公共数据。",
                "coverage": "全区",
                "scale": scale,
                "involves_personal_information": False,
            },
            "agent": {"broker_id": broker_id, "mandate": "代理办理首次登记并提交登记材料。"},
            "storage": {"location": "区政务云数据运营专区", "method": "数据库与接口服务"},
            "documents": {
                "description": "产品说明书、加工规则与质量报告。",
                "commitment": True,
                "commitment_signatory": "陈立群",
            },
        }
    )


def _review() -> ComplianceReview:
    ok = {"passed": True, "note": "材料齐全，核验通过。"}
    return ComplianceReview.model_validate(
        {
            "source_legality": ok,
            "authorisation_chain": ok,
            "personal_information": ok,
            "security_assessment": ok,
        }
    )


def _build(database: Database, actor: Actor, password: str) -> MarketDemo:
    codes, bus_rows = _datasets(database, actor)
    rng = random.Random(SEED)
    today = utcnow().date()
    with unit_of_work(database, actor) as ctx:
        operator_id = _party(
            ctx, rng, kind="operator", name=OPERATOR_NAME, contact="陈立群 0571-86000001"
        )
        buyer_id = _party(
            ctx,
            rng,
            kind="merchant",
            name=BUYER_NAME,
            contact="王海 0571-86000002",
            merchant_classes=["supply_demand"],
        )
        brokers = [
            _party(
                ctx,
                rng,
                kind="broker",
                name=name,
                contact=contact,
                licence_grade=grade,
                licence_sector=sector,
                licence_valid_from=str(today - timedelta(days=200)),
                licence_valid_until=str(today + timedelta(days=530)),
            )
            for name, contact, grade, sector in (
                ("青川数联经纪服务有限公司", "赵敏 0571-86000003", "A", "交通运输"),
                ("钱塘数据经纪有限公司", "孙悦 0571-86000004", "B", "商贸金融"),
            )
        ]
        agreement = market.draft_agreement(
            ctx,
            AgreementIn.model_validate(
                {
                    "title": "青川区公共数据授权运营协议（2026—2030）",
                    "operator_id": operator_id,
                    "resources": list(codes.values()),
                    "rights": ["processing", "operating"],
                    "scenarios": [HEALTH_SCENARIO, BUS_SCENARIO],
                    "fee_cap_cents": 50_000_000,
                    "revenue_share_percent": 10,
                    "security_obligations": "原始数据不出运营专区，数据可用不可见；"
                    "按季度报送安全评估。",
                    "exit_terms": "协议终止后 30 日内删除全部加工结果并提交销毁证明。",
                    "breach_terms": "违反安全义务的，实施机构可暂停或终止协议并追究责任。",
                    "starts_on": str(today - timedelta(days=60)),
                    "ends_on": str(today + timedelta(days=4 * 365)),
                }
            ),
        )
        market.approve_agreement(ctx, agreement.id)
        market.activate_agreement(ctx, agreement.id)
        operator_unit = market.get_market_party(ctx, operator_id).unit_code or ""
        buyer_unit = market.get_market_party(ctx, buyer_id).unit_code or ""
        operator = _account(ctx, OPERATOR_USER, password, operator_unit)
        analyst = _account(ctx, ANALYST_USER, password, operator_unit, Role.DATA_LIAISON)
        buyer = _account(ctx, BUYER_USER, password, buyer_unit)
    release = _sandbox_release(database, actor, analyst, operator_unit, codes)
    products = {
        "health": {
            "name": "企业经营健康指数",
            "inputs": [codes["tax"], codes["business"], codes["power"]],
            "processing": "在数据沙箱内按统一社会信用代码关联纳税信用、营业收入与利润、"
            "用电量三类数据，按行业加权计算 0—100 的经营健康指数（纳税信用 60 %、利润率 40 %）；"
            "不足十家企业的行业不输出，只含行业汇总，不含单个企业明细。",
            "scenario": HEALTH_SCENARIO,
            "update_frequency": "monthly",
            "price_cents": HEALTH_PRICE_CENTS,
            "fee_standard": "按年订阅，每年 12 万元。",
            "sample": [],  # the released figures are the sample
            "sandbox_release_id": release,
        },
        "bus": {
            "name": "公交车辆实时轨迹数据服务",
            "kind": "service",
            "inputs": [codes["bus"]],
            "processing": "清洗公交车辆定位数据，剔除漂移点，"
            "按分钟输出线路、车辆自编号、位置与速度。",
            "scenario": BUS_SCENARIO,
            "update_frequency": "realtime",
            "price_cents": BUS_PRICE_CENTS,
            "fee_standard": "按年订阅，每年 20 万元；接口调用不另收费。",
            "sample": [
                {"线路": "1路", "车辆自编号": "QC-0101", "经度": 120.1432, "纬度": 30.2311},
            ],
        },
    }
    product_ids: dict[str, int] = {}
    numbers: dict[str, str] = {}
    forms = {
        "health": _form(
            "按行业反映本区企业经营健康状况的月度指数。", "综合", "6 个行业、120 家企业", brokers[1]
        ),
        "bus": _form(
            "本区公交车辆按分钟更新的运行轨迹。", "交通运输", "5 条线路、20 辆车", brokers[0]
        ),
    }
    for key, data in products.items():
        with unit_of_work(database, operator) as ctx:
            made = market.create_product(
                ctx,
                ProductIn.model_validate(
                    {"agreement_id": agreement.id, "delivery_mode": "api", **data}
                ),
            )
        if key == "bus":
            _load_bus_output(database, operator, made.id, bus_rows)
        with unit_of_work(database, actor) as ctx:
            output = market.get_product(ctx, made.id).output_resource_code
            assert output is not None
            _confirm_classification(ctx, output)
        with unit_of_work(database, operator) as ctx:
            market.submit_product(ctx, made.id)
        with unit_of_work(database, actor) as ctx:
            market.review_product_compliance(ctx, made.id, _review())
        with unit_of_work(database, operator) as ctx:
            numbers[key] = market.register_product(ctx, made.id, forms[key]).number
        product_ids[key] = made.id
    # One objection during the public notice, dismissed after checking the sources.
    with unit_of_work(database, ANONYMOUS) as ctx:
        objection = market.file_objection(
            ctx,
            numbers["health"],
            ObjectionIn(
                name="青川区某会计师事务所",
                contact="0571-86000005",
                reason="指数所用的用电量数据是否已取得工信局授权，请核实授权链条。",
            ),
        )
    with unit_of_work(database, actor) as ctx:
        market.resolve_objection(
            ctx,
            numbers["health"],
            objection.id,
            upheld=False,
            resolution="经核，用电量数据在授权运营协议的授权范围内，异议不成立。",
        )
        # The notice period (ten days) is over for the demo.
        for number in numbers.values():
            row = ctx.db.scalar(select(Registration).where(Registration.number == number))
            assert row is not None
            row.notice_ends_at = utcnow() - timedelta(minutes=1)
    with unit_of_work(database, actor) as ctx:
        for number in numbers.values():
            market.confirm_registration(ctx, number)
    # The logistics company buys the trajectory service for ¥200,000 a year.
    with unit_of_work(database, buyer) as ctx:
        applied = market.apply_purchase(
            ctx,
            PurchaseIn(
                registration_number=numbers["bus"],
                buyer_party_id=buyer_id,
                purpose="优化城区配送线路、避开公交高峰路段，提升末端配送时效。",
            ),
        )
    with unit_of_work(database, operator) as ctx:
        market.sign_contract(
            ctx,
            applied.id,
            SignIn(price_cents=BUS_PRICE_CENTS, ends_on=today + timedelta(days=365)),
        )
        market.file_transaction(ctx, applied.id)
    # It also subscribes to the health index, delivered through the gateway: the released
    # figures, never the departments' enterprise records.
    with unit_of_work(database, buyer) as ctx:
        health = market.apply_purchase(
            ctx,
            PurchaseIn(
                registration_number=numbers["health"],
                buyer_party_id=buyer_id,
                purpose="评估合作承运商所在行业的经营稳定性，辅助结算账期管理。",
            ),
        )
    with unit_of_work(database, operator) as ctx:
        market.sign_contract(
            ctx,
            health.id,
            SignIn(price_cents=HEALTH_PRICE_CENTS, ends_on=today + timedelta(days=365)),
        )
        market.file_transaction(ctx, health.id)
    lake.close_engine(database)
    return MarketDemo(operator_id, agreement.id, product_ids, numbers, applied.id, health.id)


def _existing(database: Database, actor: Actor) -> MarketDemo | None:
    with unit_of_work(database, actor) as ctx:
        party = ctx.db.scalar(select(Party).where(Party.name == OPERATOR_NAME))
        if party is None:
            return None
        agreement = market.list_agreements(ctx)[0]
        products = {p.name: p.id for p in market.list_products(ctx)}
        regs = {r.product_id: r.number for r in market.list_registrations(ctx)}
        ids = {
            "health": products.get("企业经营健康指数", 0),
            "bus": products.get("公交车辆实时轨迹数据服务", 0),
        }
        contracts = {
            c.product_id: c.id
            for c in ctx.db.scalars(select(Contract).order_by(Contract.id.desc()))
        }
        if ids["bus"] not in contracts or ids["health"] not in contracts:
            return None
        return MarketDemo(
            party.id,
            agreement.id,
            ids,
            {k: regs.get(v, "") for k, v in ids.items()},
            contracts[ids["bus"]],
            contracts[ids["health"]],
        )


def _buyer_key(
    database: Database, actor: Actor, contract_id: int, password: str, comment: str
) -> dict[str, Any]:
    with unit_of_work(database, actor) as ctx:
        buyer_unit = market.get_contract(ctx, contract_id).buyer_unit_code
        buyer = _account(ctx, BUYER_USER, password, buyer_unit)
    with unit_of_work(database, buyer) as ctx:
        key = market.create_delivery_key(ctx, contract_id)
        delivered = market.get_contract(ctx, contract_id)
        if delivered.rating is None:
            market.evaluate_contract(ctx, contract_id, EvaluationIn(rating=5, comment=comment))
    return {"api_key": key.token, "endpoint": key.endpoint, "resource_code": key.resource_code}


def _books(database: Database, actor: Actor, built: MarketDemo) -> None:
    """The 2026 books on what the market story made: the operator's tax-credit resource (the
    health index's first input) on its balance sheet with its costs, and the 2026 annual
    disclosure published (with the trade above in it). Recorded once."""
    with unit_of_work(database, actor) as ctx:
        uscc = market.get_market_party(ctx, built.operator_party_id).uscc
        resource = market.get_product(ctx, built.product_ids["health"]).inputs[0]
        market.seed_books(ctx, uscc, resource, year=BOOKS_YEAR)


def build_market(
    database: Database, actor: Actor, credentials: Path, password: str
) -> dict[str, Any] | None:
    """Build the demo market once; return what ``demo-credentials.json`` records for it."""
    with unit_of_work(database, actor) as ctx:
        if not all(org.unit_id_for_code(ctx, u) is not None for u in UNITS):
            return None
    built = _existing(database, actor)
    stored = stored_credentials(credentials, "market")
    if built is None:
        built = _build(database, actor, password)
    elif stored and all(
        key_works(database, actor, str(k))
        for k in (stored.get("api_key", ""), stored.get("health_index", {}).get("api_key", ""))
    ):
        _books(database, actor, built)
        return stored
    _books(database, actor, built)
    delivery = _buyer_key(database, actor, built.contract_id, password, "接口稳定，轨迹更新及时。")
    health = _buyer_key(
        database, actor, built.health_contract_id, password, "行业指数口径清楚，按月更新。"
    )
    with unit_of_work(database, actor) as ctx:
        contract = market.get_contract(ctx, built.contract_id)
        operator_unit = contract.operator_unit_code
        buyer_unit = contract.buyer_unit_code
        release = market.get_product(ctx, built.product_ids["health"]).sandbox_release_id
    return {
        "operator": {"username": OPERATOR_USER, "password": password, "unit": operator_unit},
        "analyst": {"username": ANALYST_USER, "password": password, "unit": operator_unit},
        "buyer": {"username": BUYER_USER, "password": password, "unit": buyer_unit},
        "registrations": built.registrations,
        "contract_id": built.contract_id,
        **delivery,
        "example": f"curl -H 'Authorization: Bearer {delivery['api_key']}' "
        f"'http://127.0.0.1:8000{delivery['endpoint']}?limit=5'",
        # The health index: the figures released from the sandbox, through the gateway
        "health_index": {
            "contract_id": built.health_contract_id,
            "sandbox_release_id": release,
            **health,
            "example": f"curl -H 'Authorization: Bearer {health['api_key']}' "
            f"'http://127.0.0.1:8000{health['endpoint']}'",
        },
    }
