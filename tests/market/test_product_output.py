"""A data product's own output: loaded from its sandbox release (or by the operator) as a lake
dataset of the operator's unit; API contracts deliver it and never an input; a new release is
a new version under the same grant; file contracts download it as formula-safe CSV."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from shuzhi.audit import service as audit
from shuzhi.auth import service as auth
from shuzhi.auth.schemas import ApiKeyCreate, UserCreate
from shuzhi.catalog import service as catalog
from shuzhi.context import SYSTEM, Role
from shuzhi.db.base import utcnow
from shuzhi.db.engine import Database
from shuzhi.errors import Conflict, Invalid, NotFound
from shuzhi.lake import service as lake
from shuzhi.market import service
from shuzhi.market.trade_schemas import PurchaseIn, SignIn
from shuzhi.sandbox import releases
from shuzhi.sandbox.schemas import QueryIn, ReleaseDecisionIn, ReleaseIn
from tests.conftest import acting, actor
from tests.factories import PASSWORD, Org, seed_org
from tests.market.helpers import (
    active_agreement,
    compliant_product,
    executive,
    form,
    operator_party,
)
from tests.market.test_sandbox_product import _confirm_personal, _release
from tests.market.trade_helpers import (
    OUTPUT,
    PURPOSE,
    Listed,
    buyer,
    listed_product,
    load_output,
    pass_notice,
)
from tests.sandbox.helpers import Sandbox, sandbox
from tests.web.helpers import login

ENDS = timedelta(days=90)


def _released(database: Database, release_id: int) -> tuple[list[str], list[list[object]]]:
    with acting(database, SYSTEM) as ctx:
        found = releases.product_release(ctx, release_id)
    assert found is not None
    return releases.release_table(found[0])


def _rows(database: Database, code: str) -> tuple[int, list[str], list[list[object]]]:
    """The output's current version: (number, columns, rows as stored)."""
    with acting(database, SYSTEM) as ctx:
        current = lake.current_version(ctx, code)
        assert current is not None
        version, files = current
        out = [
            [r[c.name] for c in files.columns]
            for b in lake.query_engine(ctx).scan(files)
            for r in b.to_pylist()
        ]
        return version.number, [c.name for c in files.columns], out


def _release_product(database: Database, seeded: Org) -> tuple[Sandbox, Listed, int]:
    """An operator of A builds a product from an approved sandbox release of its unit's
    analyst; it passes the review and is registered (notice over, confirmed)."""
    sb = sandbox(database, seeded)
    _confirm_personal(database, seeded, sb.health, "B")
    _confirm_personal(database, seeded, sb.population, "S")
    party = operator_party(database, seeded)
    inputs = [sb.health, sb.population]
    agreement = active_agreement(database, seeded, party.id, inputs)
    release = _release(sb, "data_product")
    product = compliant_product(
        database, seeded, agreement.id, inputs, sample=[], sandbox_release_id=release
    )
    with acting(database, seeded.actor(Role.OPERATOR)) as ctx:
        number = service.register_product(ctx, product.id, form()).number
    pass_notice(database, number)
    with acting(database, executive(seeded)) as ctx:
        service.confirm_registration(ctx, number)
    return (
        sb,
        Listed(agreement.id, product.id, number, sb.health, product.output_resource_code),
        release,
    )


def _contract(
    database: Database, seeded: Org, listed: Listed, mode: str = "api"
) -> tuple[int, int]:
    """(contract id, buyer party id): the buyer in S applies; the operator signs."""
    party_id, who = buyer(database, seeded)
    with acting(database, who) as ctx:
        applied = service.apply_purchase(
            ctx,
            PurchaseIn(
                registration_number=listed.number,
                buyer_party_id=party_id,
                purpose=PURPOSE,
                delivery_mode=mode,
            ),
        )
    with acting(database, seeded.actor(Role.OPERATOR)) as ctx:
        service.sign_contract(
            ctx, applied.id, SignIn(price_cents=100_00, ends_on=utcnow().date() + ENDS)
        )
    return applied.id, party_id


def test_the_release_becomes_the_products_own_output(database: Database) -> None:
    seeded = seed_org(database)
    _sb, listed, release = _release_product(database, seeded)
    assert listed.output is not None and listed.output not in (listed.resource,)
    columns, rows = _released(database, release)
    number, stored_columns, stored = _rows(database, listed.output)
    assert number == 1 and stored_columns == columns == ["社区", "n"]
    assert stored == rows and rows  # the released figures exactly, suppressed rows left out
    with acting(database, SYSTEM) as ctx:
        entry = catalog.get_entry(ctx, listed.output)
        assert entry.unit_code == "A"  # owned by the operator's unit
        current = lake.current_version(ctx, listed.output)
        assert current is not None and current[0].classification  # classified like any load
        loaded = audit.view_audit(ctx, action="market.product_output_loaded").items
    assert loaded[0].details["resource_code"] == listed.output
    assert loaded[0].details["release_id"] == release


def test_api_delivery_serves_the_output_and_a_new_release_is_a_new_version(
    client: TestClient, database: Database
) -> None:
    seeded = seed_org(database)
    sb, listed, first = _release_product(database, seeded)
    contract_id, _party = _contract(database, seeded, listed)
    with acting(database, actor(Role.OPERATOR, seeded.unit_ids["S"], name="s.buyer")) as ctx:
        key = service.create_delivery_key(ctx, contract_id)
    assert key.resource_code == listed.output
    headers = {"Authorization": f"Bearer {key.token}"}
    served = client.get(key.endpoint, headers=headers)
    assert served.status_code == 200, served.text
    items = served.json()["items"]
    columns, rows = _released(database, first)
    assert sorted(tuple(str(i[c]) for c in columns) for i in items) == sorted(
        tuple(str(v) for v in r) for r in rows
    )
    assert all("身份证号" not in i and "医疗费用" not in i for i in items)  # never an input
    # The analyst counts again (fewer communities pass); a new release of the same product.
    sql = (
        f'SELECT h.社区, COUNT(*) AS n FROM "{sb.health}" h JOIN "{sb.population}" p'
        " ON h.身份证号 = p.身份证号 WHERE p.独居 = '是' AND h.慢病 = '是'"
        " GROUP BY h.社区 ORDER BY h.社区"
    )
    second = _release_query(sb, sql)
    with acting(database, seeded.actor(Role.OPERATOR)) as ctx:
        service.load_product_release(ctx, listed.product_id, second)
        assert service.get_product(ctx, listed.product_id).sandbox_release_id == second
    number, _cols, stored = _rows(database, listed.output or "")
    assert number == 2 and stored == _released(database, second)[1] != rows
    # The gateway keeps a resource's current version for a few seconds (cache_seconds); a
    # new version is served once that has passed, as here.
    client.app.state.gateway.versions.clear()  # type: ignore[attr-defined]
    again = client.get(key.endpoint, headers=headers)  # the same key, the same grant
    assert again.status_code == 200, again.text
    assert sorted(str(i["n"]) for i in again.json()["items"]) == sorted(str(r[1]) for r in stored)


def _release_query(sb: Sandbox, sql: str) -> int:
    with acting(sb.database, sb.analyst) as ctx:
        answer = releases.answer_query(ctx, QueryIn(sql=sql))
        asked = releases.request_release(
            ctx, ReleaseIn(query_id=answer.id, purpose="社区独居慢病老人数", target="data_product")
        )
    providers = {r.provider_unit_id for r in asked.reviews}
    for unit in ("B", "S"):
        if sb.seeded.unit_ids[unit] not in providers:
            continue
        cdo = actor(Role.UNIT_CDO, sb.seeded.unit_ids[unit], name=f"{unit.lower()}.cdo")
        with acting(sb.database, cdo) as ctx:
            releases.decide_release(ctx, asked.id, ReleaseDecisionIn(approve=True))
    return asked.id


def test_a_new_release_must_be_the_products_and_have_its_columns(database: Database) -> None:
    seeded = seed_org(database)
    sb, listed, _first = _release_product(database, seeded)
    other = _release_query(
        sb,
        f'SELECT h.慢病, COUNT(*) AS n FROM "{sb.health}" h GROUP BY h.慢病 ORDER BY h.慢病',
    )
    with (
        pytest.raises(Invalid) as caught,
        acting(database, seeded.actor(Role.OPERATOR)) as ctx,
    ):
        service.load_product_release(ctx, listed.product_id, other)
    assert "differ" in caught.value.message.en or any(
        "differ" in e.message.en for e in caught.value.errors
    )
    assert _rows(database, listed.output or "")[0] == 1  # nothing loaded
    with acting(database, SYSTEM) as ctx:
        refusal = audit.view_audit(ctx, action="market.refused").items[0]
    assert refusal.details["operation"] == "load_product_release"


def test_a_product_without_output_is_not_signed_for_api_delivery(database: Database) -> None:
    seeded = seed_org(database)
    listed = listed_product(database, seeded, output=False)
    party_id, who = buyer(database, seeded)
    with acting(database, who) as ctx:
        applied = service.apply_purchase(
            ctx,
            PurchaseIn(registration_number=listed.number, buyer_party_id=party_id, purpose=PURPOSE),
        )
    with (
        pytest.raises(Invalid) as caught,
        acting(database, seeded.actor(Role.OPERATOR)) as ctx,
    ):
        service.sign_contract(
            ctx, applied.id, SignIn(price_cents=100_00, ends_on=utcnow().date() + ENDS)
        )
    (error,) = caught.value.errors
    assert error.field == "delivery_mode" and "尚未形成产品结果" in error.message.zh
    assert "no output of its own" in error.message.en
    with acting(database, SYSTEM) as ctx:
        contract = service.get_contract(ctx, applied.id)
        refusal = audit.view_audit(ctx, action="market.refused").items[0]
    assert contract.status == "applied" and contract.grant_id is None
    assert refusal.details["operation"] == "sign_contract"
    # Once the operator loads its result, the same contract signs and delivers the output.
    output = load_output(database, seeded, listed.product_id, OUTPUT)
    with acting(database, seeded.actor(Role.OPERATOR)) as ctx:
        done = service.sign_contract(
            ctx, applied.id, SignIn(price_cents=100_00, ends_on=utcnow().date() + ENDS)
        )
    assert done.resource_code == output != listed.resource


def _buyer_account(database: Database) -> None:
    with acting(database, SYSTEM) as ctx:
        auth.create_user(
            ctx,
            UserCreate(
                username="s.buyer",
                display_name="s.buyer",
                password=PASSWORD,
                role=Role.OPERATOR,
                unit_code="S",
            ),
        )


def test_the_file_buyer_downloads_the_output_and_nobody_else(
    client: TestClient, database: Database
) -> None:
    seeded = seed_org(database)
    listed = listed_product(database, seeded)
    contract_id, _party = _contract(database, seeded, listed, mode="file")
    buyer_actor = actor(Role.OPERATOR, seeded.unit_ids["S"], name="s.buyer")
    with acting(database, buyer_actor) as ctx:
        content, name = service.download_product_file(ctx, contract_id)
    assert name.startswith(listed.number) and name.endswith(".csv")
    table = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert table[0] == ["行业", "健康指数"] and sorted(table[1:]) == sorted(OUTPUT)
    # The seller, another unit, the region's CDO: no such file (as for a contract that
    # does not exist); each refusal is audited.
    others = [seeded.actor(Role.OPERATOR), seeded.actor(Role.CDO), seeded.actor(Role.UNIT_CDO)]
    for who in others:
        with pytest.raises(NotFound) as caught, acting(database, who) as ctx:
            service.download_product_file(ctx, contract_id)
        with pytest.raises(NotFound) as missing, acting(database, who) as ctx:
            service.download_product_file(ctx, contract_id + 100)
        assert caught.value.message.en.replace(str(contract_id), "#") == (
            missing.value.message.en.replace(str(contract_id + 100), "#")
        )
    with acting(database, SYSTEM) as ctx:
        downloads = audit.view_audit(ctx, action="market.file_downloaded").items
        refusals = audit.view_audit(ctx, action="market.refused").items
        contract = service.get_contract(ctx, contract_id)
    assert len(downloads) == 1 and downloads[0].details["rows"] == len(OUTPUT)
    assert downloads[0].details["resource_code"] == listed.output
    assert sum(r.details["operation"] == "download_product_file" for r in refusals) == 6
    assert contract.downloads == 1 and contract.delivered_at is not None
    # Through the API and the console, as the buyer's account; anonymous callers get 401.
    _buyer_account(database)
    assert client.get(f"/api/v1/market/contracts/{contract_id}/file.csv").status_code == 401
    login(client, "s.buyer", PASSWORD)
    api = client.get(f"/api/v1/market/contracts/{contract_id}/file.csv")
    assert api.status_code == 200 and api.headers["content-type"].startswith("text/csv")
    assert "attachment" in api.headers["content-disposition"]
    page = client.get(f"/market/trade/contracts/{contract_id}/file.csv")
    assert page.status_code == 200 and page.content.decode("utf-8-sig").startswith("行业,健康指数")
    assert client.get(f"/market/trade/contracts/{contract_id + 100}/file.csv").status_code == 404
    with acting(database, SYSTEM) as ctx:
        assert service.get_contract(ctx, contract_id).downloads == 3
    # An API contract has no file; a contract that ended serves none.
    with acting(database, seeded.actor(Role.OPERATOR)) as ctx:
        service.end_contract(ctx, contract_id, "买方违反合同约定的使用范围")
    with pytest.raises(Conflict), acting(database, buyer_actor) as ctx:
        service.download_product_file(ctx, contract_id)


def test_cells_that_would_start_a_formula_are_neutralised(database: Database) -> None:
    seeded = seed_org(database)
    listed = listed_product(database, seeded, output=False)
    hostile = [
        ['=HYPERLINK("http://example.invalid","点此")', "81.5"],
        ["+cmd|' /C calc'!A0", "-2+3"],
        ["@SUM(A1)", "-5"],
        ["制造业", "64.2"],
    ]
    load_output(database, seeded, listed.product_id, hostile)
    contract_id, _party = _contract(database, seeded, listed, mode="file")
    with acting(database, actor(Role.OPERATOR, seeded.unit_ids["S"], name="s.buyer")) as ctx:
        content, _name = service.download_product_file(ctx, contract_id)
    cells = {c for row in csv.reader(io.StringIO(content.decode("utf-8-sig"))) for c in row}
    assert '\'=HYPERLINK("http://example.invalid","点此")' in cells
    assert "'+cmd|' /C calc'!A0" in cells and "'@SUM(A1)" in cells and "'-2+3" in cells
    assert "-5" in cells  # a plain number stays a number
    assert not any(c.startswith(("=", "+", "@")) for c in cells)


def test_the_output_routes_over_the_api(client: TestClient, database: Database) -> None:
    """The operator uploads its product's result (a new version each time); a product built
    from releases takes only releases; another unit's operator is refused."""
    seeded = seed_org(database)
    listed = listed_product(database, seeded, output=False)
    with acting(database, SYSTEM) as ctx:
        token = auth.create_api_key(
            ctx, ApiKeyCreate(name="operator", role=Role.OPERATOR, unit_code="A")
        ).token
        other = auth.create_api_key(
            ctx, ApiKeyCreate(name="other", role=Role.OPERATOR, unit_code="B")
        ).token
    url = f"/api/v1/market/products/{listed.product_id}/output"
    body = "行业,健康指数\n制造业,81.5\n批发零售,73.0\n".encode()
    files = {"file": ("result.csv", body, "text/csv")}
    refused = client.post(url, headers={"Authorization": f"Bearer {other}"}, files=files)
    assert refused.status_code == 403
    first = client.post(url, headers={"Authorization": f"Bearer {token}"}, files=files)
    assert first.status_code == 201, first.text
    code = first.json()["output_resource_code"]
    assert code and code != listed.resource
    more = body + "住宿餐饮,64.2\n".encode()
    again = client.post(
        url,
        headers={"Authorization": f"Bearer {token}"},
        files={"file": ("result.csv", more, "text/csv")},
    )
    assert again.status_code == 201 and again.json()["output_resource_code"] == code
    number, _columns, rows = _rows(database, code)
    assert number == 2 and len(rows) == 3
    # This product is not built from sandbox releases: a release is not its output.
    release = client.post(
        f"/api/v1/market/products/{listed.product_id}/release",
        headers={"Authorization": f"Bearer {token}"},
        json={"sandbox_release_id": 1},
    )
    assert release.status_code == 422
    assert {e["field"] for e in release.json()["errors"]} == {"sandbox_release_id"}
