"""Demo sandbox: the district serving special groups during an emergency. The 城西街道 street
office counts, per community, elderly residents who live alone and have a chronic condition,
from three departments' sensitive data it may not see row by row: the health commission's
chronic-disease records (卫健委), the public security bureau's household register with living
arrangements (公安局) and the social-security bureau's pension payments (人社局, which requires
differential privacy). All three share the resident ID as a join key.

Built once, through the normal services: catalogue entries, typed Parquet loaded into the
lake, sandbox requests decided by the providers, a few queries (small communities
suppressed, one differentially private query, one refusal) and one release request left
pending. ``demo-credentials.json``
gets a working analyst key, the resource codes and an example query under ``"sandbox"``.
"""

from __future__ import annotations

import json
import random
import tempfile
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import select

from shuzhi.catalog import service as catalog
from shuzhi.catalog.schemas import EntryCreate
from shuzhi.context import Actor, Ctx, Role, unit_of_work
from shuzhi.db.base import utcnow
from shuzhi.db.engine import Database
from shuzhi.demo.sharing import CONSUMER, _actor, _key, key_works, stored_credentials
from shuzhi.errors import ShuzhiError
from shuzhi.lake import service as lake
from shuzhi.lake.readers import FileSource
from shuzhi.org import service as org
from shuzhi.sandbox import releases
from shuzhi.sandbox import service as sandbox
from shuzhi.sandbox.models import SandboxTerms
from shuzhi.sandbox.schemas import QueryIn, ReleaseIn, SandboxDecisionIn, SandboxRequestIn
from shuzhi.sharing.access import authenticate_application
from shuzhi.sharing.grants import AppPrincipal
from shuzhi.standards.identifiers import ric_check_char

SEED = 20261205
ANALYST_UNIT = "JD-CX"
UNITS = ("GAJ", "WJW", "RSJ", ANALYST_UNIT)
# Community → residents aged 60+ (the smallest communities fall below k once filtered).
COMMUNITIES = {
    "文昌社区": 420,
    "青川社区": 360,
    "望江社区": 300,
    "锦绣社区": 240,
    "滨河社区": 150,
    "建设社区": 60,
    "新桥社区": 24,
}
K = 10
ID = "公民身份号码"
PURPOSE = "疫情期间为辖区独居、患慢性病老年人提供上门服务，需按社区统计人数"
BASIS = "《浙江省公共数据条例》第二十六条"

# (key, unit, entry name, abstract, columns with roles, terms beyond the roles)
SPECS: list[tuple[str, str, str, str, dict[str, str], dict[str, Any]]] = [
    (
        "population",
        "GAJ",
        "户籍人口居住状况信息",
        "户籍老年人口的所在社区、年龄与居住状况（独居、与配偶同住、与子女同住）。",
        {
            ID: "join_key",
            "姓名": "hidden",
            "社区": "dimension",
            "年龄": "dimension",
            "居住状况": "dimension",
        },
        {},
    ),
    (
        "health",
        "WJW",
        "老年人慢性病管理信息",
        "辖区老年人慢性病（高血压、糖尿病等）登记管理与年度随访情况。",
        {ID: "join_key", "慢性病": "dimension", "病种": "hidden", "年度随访次数": "aggregate"},
        {},
    ),
    (
        "social_security",
        "RSJ",
        "养老保险待遇发放信息",
        "退休人员基本养老保险月待遇发放情况。",
        {ID: "join_key", "参保类型": "dimension", "月养老金": "aggregate"},
        {"dp_required": True, "epsilon": 2.0, "delta": 1e-6, "bounds": {"月养老金": [0, 10000]}},
    ),
]


def example_query(codes: dict[str, str]) -> str:
    return (
        f'SELECT p.社区, COUNT(*) AS 人数 FROM "{codes["population"]}" p '
        f'JOIN "{codes["health"]}" h ON p.{ID} = h.{ID} '
        "WHERE p.居住状况 = '独居' AND p.年龄 >= 65 AND h.慢性病 = '是' "
        "GROUP BY p.社区 ORDER BY p.社区"
    )


def dp_example_query(codes: dict[str, str]) -> str:
    return (
        "SELECT 参保类型, COUNT(*) AS 人数, AVG(月养老金) AS 平均月养老金 "
        f'FROM "{codes["social_security"]}" GROUP BY 参保类型 ORDER BY 参保类型'
    )


def _people(rng: random.Random) -> list[dict[str, Any]]:
    people = []
    n = 0
    for community, size in COMMUNITIES.items():
        for _ in range(size):
            n += 1
            age = rng.randint(60, 96)
            first17 = f"330106{2026 - age}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
            first17 += f"{n % 1000:03d}"
            people.append(
                {
                    ID: first17 + ric_check_char(first17),
                    "姓名": rng.choice("王李张刘陈杨黄赵吴周") + rng.choice("秀英桂兰建国志明"),
                    "社区": community,
                    "年龄": age,
                    "居住状况": rng.choices(("独居", "与配偶同住", "与子女同住"), (3, 4, 3))[0],
                    "慢性病": "是" if rng.random() < 0.55 else "否",
                    "病种": rng.choice(("高血压", "糖尿病", "冠心病", "慢阻肺")),
                    "年度随访次数": rng.randint(0, 12),
                    "参保类型": rng.choice(("城镇职工基本养老保险", "城乡居民基本养老保险")),
                    "月养老金": round(rng.uniform(300, 6500), 2),
                }
            )
    return people


def _entry(ctx: Ctx, unit: str, name: str, abstract: str, columns: list[str]) -> str:
    items = [
        {
            "name": c,
            "data_type": "N" if c in ("年龄", "年度随访次数", "月养老金") else "C",
            "length": 50,
            "share_type": "conditional",
        }
        for c in columns
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
            "share_conditions": "仅在数据沙箱中以聚合统计方式使用，不提供明细",
            "not_shared_basis": "《中华人民共和国个人信息保护法》第二十八条",
            "share_method": "platform",
            "share_method_type": "interface",
            "open_type": "not_open",
            "not_open_reason": "sensitive",
            "update_cycle": "4",
            "items": items,
        }
    )
    code = catalog.create_entry(ctx, data).resource_code
    catalog.submit_entry(ctx, code)
    catalog.approve_entry(ctx, code)
    return code


def _principal(database: Database, actor: Actor, token: str) -> AppPrincipal:
    with unit_of_work(database, actor) as ctx:
        return authenticate_application(ctx.db, token, utcnow())


def _as_app(principal: AppPrincipal) -> Actor:
    return Actor(
        kind="api_key",
        id=principal.key_id,
        name=f"app:{principal.application_code}",
        role=Role.CONSUMER,
        unit_id=principal.unit_id,
    )


def _build(database: Database, actor: Actor) -> tuple[dict[str, str], str]:
    rng = random.Random(SEED)
    people = _people(rng)
    codes: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="shuzhi-demo-sandbox-") as tmp:
        for key, unit, name, abstract, roles, _terms in SPECS:
            with unit_of_work(database, actor) as ctx:
                codes[key] = _entry(ctx, unit, name, abstract, list(roles))
            path = Path(tmp) / f"{key}.parquet"
            pq.write_table(pa.table({c: [p[c] for p in people] for c in roles}), path)
            with unit_of_work(database, actor) as ctx:
                lake.ingest(ctx, codes[key], FileSource(path))
    for key, _unit, _name, _abstract, roles, extra in SPECS:
        terms = {"columns": roles, "entity_column": ID, "k": K, **extra}
        with unit_of_work(database, actor) as ctx:
            liaison = _actor(ctx, ANALYST_UNIT, "liaison", actor)
        data = SandboxRequestIn.model_validate(
            {
                "resource_code": codes[key],
                "application_code": CONSUMER,
                "unit_code": ANALYST_UNIT,
                "purpose": PURPOSE,
                "legal_basis": BASIS,
                "terms": terms,
            }
        )
        with unit_of_work(database, liaison) as ctx:
            asked = sandbox.request_sandbox(ctx, data)
        with unit_of_work(database, actor) as ctx:
            cdo = _actor(ctx, asked.provider_unit_code, "cdo", actor)
        with unit_of_work(database, cdo) as ctx:
            sandbox.decide_sandbox(
                ctx, asked.id, SandboxDecisionIn.model_validate({"outcome": "approve"})
            )
    token = _key(database, actor, ANALYST_UNIT, CONSUMER)
    _queries(database, actor, codes, token)
    lake.close_engine(database)
    return codes, token


def _queries(database: Database, actor: Actor, codes: dict[str, str], token: str) -> None:
    """Answered queries (small communities suppressed), one refusal, one pending release."""
    principal = _principal(database, actor, token)
    with unit_of_work(database, _as_app(principal)) as ctx:
        releases.answer_query(
            ctx,
            QueryIn(
                sql=f'SELECT 社区, COUNT(*) AS 老年人数 FROM "{codes["population"]}" '
                "GROUP BY 社区 ORDER BY 社区"
            ),
            application=principal,
        )
    # Differential privacy (the social-security grant requires it): noisy figures with
    # 95 % intervals, ε charged to the analyst's budget.
    with unit_of_work(database, _as_app(principal)) as ctx:
        releases.answer_query(
            ctx, QueryIn(sql=dp_example_query(codes), epsilon=0.5), application=principal
        )
    try:
        with unit_of_work(database, _as_app(principal)) as ctx:
            releases.answer_query(
                ctx,
                QueryIn(sql=f'SELECT 姓名, 社区 FROM "{codes["population"]}"'),
                application=principal,
            )
    except ShuzhiError:
        pass  # refused (hidden column, row level) and audited, as the demo means it to be
    with unit_of_work(database, actor) as ctx:
        liaison = _actor(ctx, ANALYST_UNIT, "liaison", actor)
    with unit_of_work(database, liaison) as ctx:
        answer = releases.answer_query(ctx, QueryIn(sql=example_query(codes)))
        releases.request_release(
            ctx,
            ReleaseIn(
                query_id=answer.id,
                purpose="向街道应急指挥部报送各社区独居慢病老人人数，安排上门服务",
                target="download",
            ),
        )


def _existing(database: Database, actor: Actor) -> dict[str, str] | None:
    """The resource codes of an earlier build (found by the granted sandbox terms)."""
    with unit_of_work(database, actor) as ctx:
        rows = ctx.db.scalars(select(SandboxTerms.resource_code)).all()
        if not rows:
            return None
        found: dict[str, str] = {}
        for code in rows:
            entry = catalog.get_entry(ctx, code)
            for key, _unit, name, *_rest in SPECS:
                if entry.name == name:
                    found[key] = code
        return found if len(found) == len(SPECS) else None


def build_sandbox(database: Database, actor: Actor, credentials: Path) -> dict[str, Any] | None:
    """Build the demo sandbox once; return what ``demo-credentials.json`` records for it."""
    with unit_of_work(database, actor) as ctx:
        if not all(org.unit_id_for_code(ctx, u) is not None for u in UNITS):
            return None
    codes = _existing(database, actor)
    if codes is None:
        codes, token = _build(database, actor)
    else:
        stored = stored_credentials(credentials, "sandbox")
        if stored and key_works(database, actor, str(stored.get("api_key", ""))):
            return stored
        token = _key(database, actor, ANALYST_UNIT, CONSUMER)
    sql = example_query(codes)
    return {
        "application": CONSUMER,
        "unit": ANALYST_UNIT,
        "api_key": token,
        "datasets": codes,
        "k": K,
        "example_query": sql,
        "dp_example_query": dp_example_query(codes),
        "example": "curl -H 'Authorization: Bearer "
        + token
        + "' -H 'Content-Type: application/json' http://127.0.0.1:8000/api/v1/sandbox/queries"
        + " -d '"
        + json.dumps({"sql": sql}, ensure_ascii=False).replace("'", "'\\''")
        + "'",
    }
