"""Listing and trading: only registered, compliant products are listed and traded; a contract
delivered through the gateway with the buyer's key, refused once the contract ended; file
delivery, transaction filing, evaluation and the revenue with the share owed back."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from pypdf import PdfReader

from shuzhi.audit import service as audit
from shuzhi.context import ANONYMOUS, SYSTEM, Role
from shuzhi.db.base import utcnow
from shuzhi.db.engine import Database
from shuzhi.errors import Conflict, Invalid
from shuzhi.lake import service as lake
from shuzhi.market import service
from shuzhi.market.models import Contract
from shuzhi.market.service import trade_feed
from shuzhi.market.service.listing import yuan
from shuzhi.market.trade_schemas import EvaluationIn, FileDeliveryIn, PurchaseIn, SignIn
from shuzhi.market.trade_views import yuan_to_cents
from tests.conftest import acting
from tests.factories import seed_org
from tests.market.helpers import executive
from tests.market.trade_helpers import OUTPUT, PURPOSE, buyer, listed_product, signed


def test_only_registered_compliant_products_are_listed(
    client: TestClient, database: Database
) -> None:
    seeded = seed_org(database)
    under_notice = listed_product(database, seeded, register=False)
    listed = listed_product(database, seeded)
    body = client.get("/api/v1/market/products").json()
    assert body["total"] == 1
    item = body["items"][0]
    assert item["registration_number"] == listed.number
    assert item["name"] == "企业经营健康指数" and item["operator"] == "城市数据集团有限公司"
    assert item["price_cents"] == 20_000_000 and item["price"] == "¥200,000.00"
    one = client.get(f"/api/v1/market/products/listed/{listed.number}").json()
    assert one["name"] == item["name"]
    assert client.get(f"/api/v1/market/products/listed/{under_notice.number}").status_code == 404
    # the public page in both languages, server-rendered
    zh = client.get("/open/market", headers={"Accept-Language": "zh-CN"})
    assert zh.status_code == 200 and "数据产品交易大厅" in zh.text and listed.number in zh.text
    assert under_notice.number not in zh.text
    en = client.get("/open/market?lang=en", headers={"Accept-Language": "en"})
    assert "Data product listing" in en.text and "¥200,000.00" in en.text
    # no trade without registration: the product under notice cannot be applied for
    party_id, who = buyer(database, seeded)
    with pytest.raises(Invalid) as caught, acting(database, who) as ctx:
        service.apply_purchase(
            ctx,
            PurchaseIn(
                registration_number=under_notice.number, buyer_party_id=party_id, purpose=PURPOSE
            ),
        )
    assert "无登记不交易" in caught.value.errors[0].message.zh
    assert "not registered" in caught.value.errors[0].message.en
    with acting(database, SYSTEM) as ctx:
        assert ctx.db.query(Contract).count() == 0
        refusal = audit.view_audit(ctx, action="market.refused").items[0]
    assert refusal.details["operation"] == "apply_purchase"


def test_a_suspended_agreement_takes_the_product_off_the_listing(database: Database) -> None:
    seeded = seed_org(database)
    listed = listed_product(database, seeded)
    with acting(database, executive(seeded)) as ctx:
        service.suspend_agreement(ctx, listed.agreement_id, "安全评估逾期未提交")
    with acting(database, ANONYMOUS) as ctx:
        assert service.list_listed_products(ctx).total == 0


def test_api_delivery_through_the_gateway_until_the_contract_ends(
    client: TestClient, database: Database
) -> None:
    seeded = seed_org(database)
    listed = listed_product(database, seeded)
    party_id, who = buyer(database, seeded)
    contract = signed(database, seeded, listed, party_id, who)
    assert contract.status == "active" and contract.grant_id is not None
    assert contract.resource_code == listed.output != listed.resource
    # only the buyer takes the key
    with pytest.raises(Exception) as caught, acting(database, seeded.actor(Role.OPERATOR)) as ctx:
        service.create_delivery_key(ctx, contract.id)
    assert type(caught.value).__name__ == "Forbidden"
    with acting(database, who) as ctx:
        key = service.create_delivery_key(ctx, contract.id)
    assert key.expires_at.date() <= contract.ends_on  # type: ignore[operator]
    headers = {"Authorization": f"Bearer {key.token}"}
    served = client.get(key.endpoint, headers=headers)
    assert served.status_code == 200, served.text
    items = served.json()["items"]
    assert {(r["行业"], r["健康指数"]) for r in items} == {tuple(r) for r in OUTPUT}
    assert all("企业数" not in r for r in items)  # the output, never the input register
    # the operator ends the contract: the same key is refused from the next call
    with acting(database, seeded.actor(Role.OPERATOR)) as ctx:
        ended = service.end_contract(ctx, contract.id, "买方违反合同约定的使用范围")
    assert ended.status == "ended"
    client.app.state.gateway.check_revision()  # type: ignore[attr-defined]  # the 1 s poll
    refused = client.get(key.endpoint, headers=headers)
    assert refused.status_code == 403
    with acting(database, who) as ctx, pytest.raises(Conflict):
        service.create_delivery_key(ctx, contract.id)


def test_a_contract_past_its_term_is_ended_and_its_grant_revoked(
    client: TestClient, database: Database
) -> None:
    seeded = seed_org(database)
    listed = listed_product(database, seeded)
    party_id, who = buyer(database, seeded)
    contract = signed(database, seeded, listed, party_id, who, days=30)
    with acting(database, who) as ctx:
        key = service.create_delivery_key(ctx, contract.id)
    headers = {"Authorization": f"Bearer {key.token}"}
    assert client.get(key.endpoint, headers=headers).status_code == 200
    with acting(database, executive(seeded)) as ctx:
        ended = service.expire_contracts(ctx, on=utcnow().date() + timedelta(days=31))
    assert ended == [contract.id]
    client.app.state.gateway.check_revision()  # type: ignore[attr-defined]  # the 1 s poll
    assert client.get(key.endpoint, headers=headers).status_code == 403


def test_signing_checks_price_and_term_and_writes_nothing_when_refused(
    database: Database,
) -> None:
    seeded = seed_org(database)
    listed = listed_product(database, seeded)
    party_id, who = buyer(database, seeded)
    with acting(database, who) as ctx:
        applied = service.apply_purchase(
            ctx,
            PurchaseIn(registration_number=listed.number, buyer_party_id=party_id, purpose=PURPOSE),
        )
    far = utcnow().date() + timedelta(days=3000)
    with pytest.raises(Invalid) as caught, acting(database, seeded.actor(Role.OPERATOR)) as ctx:
        service.sign_contract(ctx, applied.id, SignIn(price_cents=10**12, ends_on=far))
    fields = {e.field for e in caught.value.errors}
    assert fields == {"price_cents", "ends_on"}
    with acting(database, SYSTEM) as ctx:
        assert service.get_contract(ctx, applied.id).status == "applied"
        assert service.get_contract(ctx, applied.id).grant_id is None


def test_a_resource_holding_personal_information_is_never_delivered_by_api(
    database: Database,
) -> None:
    seeded = seed_org(database)
    listed = listed_product(database, seeded)
    # The provider confirms one column as personal names after the product was listed.
    with acting(database, SYSTEM) as ctx:
        assert listed.output is not None
        lake.override_classification(ctx, listed.output, "行业", "person_name", "测试")
    party_id, who = buyer(database, seeded)
    with acting(database, who) as ctx:
        applied = service.apply_purchase(
            ctx,
            PurchaseIn(registration_number=listed.number, buyer_party_id=party_id, purpose=PURPOSE),
        )
    ends = utcnow().date() + timedelta(days=30)
    with pytest.raises(Invalid) as caught, acting(database, seeded.actor(Role.OPERATOR)) as ctx:
        service.sign_contract(ctx, applied.id, SignIn(price_cents=100_00, ends_on=ends))
    (error,) = caught.value.errors
    assert error.field == "delivery_mode" and "行业" in error.message.zh
    assert "personal information" in error.message.en
    with acting(database, SYSTEM) as ctx:
        contract = service.get_contract(ctx, applied.id)
    assert contract.status == "applied" and contract.grant_id is None


def test_filing_evaluation_and_revenue(database: Database) -> None:
    seeded = seed_org(database)
    listed = listed_product(database, seeded, share_percent=15)
    party_id, who = buyer(database, seeded)
    contract = signed(database, seeded, listed, party_id, who)
    # not delivered yet: nothing to evaluate
    with pytest.raises(Conflict), acting(database, who) as ctx:
        service.evaluate_contract(ctx, contract.id, EvaluationIn(rating=5))
    with acting(database, who) as ctx:
        service.create_delivery_key(ctx, contract.id)
        rated = service.evaluate_contract(
            ctx, contract.id, EvaluationIn(rating=4, comment="数据更新及时，接口稳定。")
        )
    assert rated.rating == 4
    with pytest.raises(Conflict), acting(database, who) as ctx:
        service.evaluate_contract(ctx, contract.id, EvaluationIn(rating=1))
    with acting(database, seeded.actor(Role.OPERATOR)) as ctx:
        filed = service.file_transaction(ctx, contract.id)
    assert filed.filing_number == f"SZJY-{utcnow().year}-000001"
    with pytest.raises(Conflict), acting(database, seeded.actor(Role.OPERATOR)) as ctx:
        service.file_transaction(ctx, contract.id)
    with acting(database, seeded.actor(Role.AUDITOR)) as ctx:
        revenue = service.market_revenue(ctx)
    assert revenue.total_cents == 20_000_000 and revenue.share_owed_cents == 3_000_000
    assert [(p.name, p.revenue_cents) for p in revenue.products] == [
        ("企业经营健康指数", 20_000_000)
    ]
    assert revenue.operators[0].share_owed_cents == 3_000_000
    assert [r.key for r in revenue.resources] == [listed.resource]
    # the books read the same figures through their trade feed
    with acting(database, SYSTEM) as ctx:
        totals = trade_feed.trade_totals(ctx, utcnow().year)
        [year] = trade_feed.products_of_year(ctx, utcnow().year)
    assert (totals.listed, totals.traded, totals.revenue_fen) == (1, 1, 20_000_000)
    assert (year.listed, year.contracts, year.revenue_fen) == (True, 1, 20_000_000)
    # the buyer's unit sells nothing: its revenue is empty
    with acting(database, who) as ctx:
        assert service.market_revenue(ctx).total_cents == 0
    with acting(database, SYSTEM) as ctx:
        actions = [e.action for e in audit.view_audit(ctx, limit=200).items]
    for action in ("contract_applied", "contract_signed", "delivery_key_issued"):
        assert f"market.{action}" in actions
    assert "market.transaction_filed" in actions and "market.contract_evaluated" in actions


def test_file_delivery_is_recorded_with_its_digest(database: Database) -> None:
    seeded = seed_org(database)
    listed = listed_product(database, seeded)
    party_id, who = buyer(database, seeded)
    with acting(database, who) as ctx:
        applied = service.apply_purchase(
            ctx,
            PurchaseIn(
                registration_number=listed.number,
                buyer_party_id=party_id,
                purpose=PURPOSE,
                delivery_mode="file",
            ),
        )
    with acting(database, seeded.actor(Role.OPERATOR)) as ctx:
        applied = service.sign_contract(
            ctx,
            applied.id,
            SignIn(price_cents=500_000, ends_on=utcnow().date() + timedelta(days=90)),
        )
        assert applied.grant_id is None
        done = service.record_file_delivery(
            ctx, applied.id, FileDeliveryIn(file_name="健康指数-2026Q4.csv", sha256="a" * 64)
        )
    assert done.delivered_at is not None and done.file_sha256 == "a" * 64


def test_certificate_pdf_carries_the_verification_code(
    client: TestClient, database: Database
) -> None:
    seeded = seed_org(database)
    listed = listed_product(database, seeded)
    under_notice = listed_product(database, seeded, register=False)
    with acting(database, seeded.actor(Role.OPERATOR)) as ctx:
        data = service.certificate_pdf(ctx, listed.number)
        code = service.get_registration(ctx, listed.number).verification_code
    assert data.startswith(b"%PDF")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    assert listed.number in text and code in text
    assert "数据登记证书" in text and "Data registration certificate" in text
    assert "企业经营健康指数" in text and f"/open/market/verify/{listed.number}" in text
    # the code printed is the one the public check accepts
    check = client.get(f"/api/v1/market/verify/{listed.number}?code={code}").json()
    assert check["code_matches"] is True
    with pytest.raises(Conflict), acting(database, seeded.actor(Role.OPERATOR)) as ctx:
        service.certificate_pdf(ctx, under_notice.number)
    with acting(database, SYSTEM) as ctx:
        issued = audit.view_audit(ctx, action="market.certificate_issued").items
    assert [e.details["number"] for e in issued] == [listed.number]


@given(st.integers(min_value=0, max_value=10**13))
def test_prices_in_yuan_read_back_as_the_same_fen(cents: int) -> None:
    shown = yuan(cents)
    assert shown.startswith("¥") and shown[-3] == "."
    assert yuan_to_cents(shown) == cents


@given(st.text(max_size=20))
def test_a_price_that_is_not_a_number_is_left_for_validation(text: str) -> None:
    parsed = yuan_to_cents(text)
    assert isinstance(parsed, int) or parsed == text
