"""The registration ledger: first registration with public notice, objections, certificate
check, later events, export package, unique numbers."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from shuzhi.audit import service as audit
from shuzhi.context import ANONYMOUS, SYSTEM, Role
from shuzhi.db.base import utcnow
from shuzhi.db.engine import Database
from shuzhi.errors import Conflict, Invalid, NotFound
from shuzhi.market import service
from shuzhi.market.schemas import ObjectionIn, RegistrationEventIn, ResourceRegistrationIn
from tests.conftest import acting
from tests.factories import seed_org
from tests.market.helpers import (
    active_agreement,
    broker,
    compliant_product,
    executive,
    figures_entry,
    form,
    operator_party,
    registered_story,
)

OBJECTION = ObjectionIn(
    name="某区交通运输企业",
    contact="13900000000",
    reason="样例数据中的线路轨迹为本公司自有数据，未经授权。",
)


def _after_notice() -> datetime:
    return utcnow() + timedelta(days=service.NOTICE_DAYS, minutes=1)


def test_a_failed_compliance_check_cannot_be_registered(database: Database) -> None:
    seeded = seed_org(database)
    party = operator_party(database, seeded)
    code = figures_entry(database)
    agreement = active_agreement(database, seeded, party.id, [code])
    failed = compliant_product(database, seeded, agreement.id, [code], passed=False)
    with pytest.raises(Conflict) as caught, acting(database, seeded.actor(Role.OPERATOR)) as ctx:
        service.register_product(ctx, failed.id, form())
    assert "合规审查" in caught.value.message.zh and "compliance" in caught.value.message.en
    with acting(database, SYSTEM) as ctx:
        assert service.list_registrations(ctx) == []
        refusal = audit.view_audit(ctx, action="market.refused").items[0]
    assert refusal.details["operation"] == "register_product"


def test_notice_objection_blocks_until_resolved(database: Database) -> None:
    seeded = seed_org(database)
    _agreement, _product, filed = registered_story(database, seeded)
    number = filed.number
    assert service.NUMBER_FORMAT.match(number)
    assert filed.status == "notice" and [e.kind for e in filed.events] == ["first"]
    # under notice: no public certificate yet, but listed among the notices
    with acting(database, ANONYMOUS) as ctx:
        with pytest.raises(NotFound):
            service.verify_certificate(ctx, number)
        assert [n.registration_number for n in service.list_notices(ctx)] == [number]
        objection = service.file_objection(ctx, number, OBJECTION)
    # the notice period is still running
    with pytest.raises(Conflict), acting(database, executive(seeded)) as ctx:
        service.confirm_registration(ctx, number)
    with pytest.raises(Conflict) as caught, acting(database, executive(seeded)) as ctx:
        service.confirm_registration(ctx, number, now=_after_notice())
    assert "异议" in caught.value.message.zh and "objection" in caught.value.message.en
    with acting(database, executive(seeded)) as ctx:
        service.resolve_objection(
            ctx,
            number,
            objection.id,
            upheld=False,
            resolution="经核实，轨迹数据来源于公交集团自有车辆",
        )
        done = service.confirm_registration(ctx, number, now=_after_notice())
    assert done.status == "registered" and done.valid_until is not None
    assert [e.kind for e in done.events] == ["first", "objection"]
    with acting(database, ANONYMOUS) as ctx:
        public = service.verify_certificate(ctx, number, done.verification_code.lower())
        assert public.code_matches is True and public.holder == "城市数据集团有限公司"
        assert service.verify_certificate(ctx, number, "WRONG").code_matches is False
        # objections are only taken during the notice
        with pytest.raises(Conflict):
            service.file_objection(ctx, number, OBJECTION)


def test_an_upheld_objection_cancels_the_filing(database: Database) -> None:
    seeded = seed_org(database)
    _a, _p, filed = registered_story(database, seeded)
    with acting(database, ANONYMOUS) as ctx:
        objection = service.file_objection(ctx, filed.number, OBJECTION)
    with acting(database, executive(seeded)) as ctx:
        out = service.resolve_objection(
            ctx, filed.number, objection.id, upheld=True, resolution="权属存在争议，不予登记"
        )
    assert out.status == "cancelled" and out.events[-1].kind == "cancel"


def test_objection_after_notice_is_refused(database: Database) -> None:
    seeded = seed_org(database)
    _a, _p, filed = registered_story(database, seeded)
    with pytest.raises(Conflict), acting(database, ANONYMOUS) as ctx:
        service.file_objection(ctx, filed.number, OBJECTION, now=_after_notice())


def test_duplicate_registration_numbers_are_refused_by_the_database(database: Database) -> None:
    seeded = seed_org(database)
    party = operator_party(database, seeded)
    code = figures_entry(database)
    agreement = active_agreement(database, seeded, party.id, [code])
    first = compliant_product(database, seeded, agreement.id, [code])
    second = compliant_product(database, seeded, agreement.id, [code])
    number = f"SZDJ-{utcnow().year}-P-000777"
    with acting(database, seeded.actor(Role.OPERATOR)) as ctx:
        service.register_product(ctx, first.id, form(number=number))
    with pytest.raises(Conflict) as caught, acting(database, seeded.actor(Role.OPERATOR)) as ctx:
        service.register_product(ctx, second.id, form(number=number))
    assert number in caught.value.message.zh
    with acting(database, seeded.actor(Role.OPERATOR)) as ctx, pytest.raises(Invalid):
        service.register_product(ctx, second.id, form(number="DJ-1"))
    with acting(database, SYSTEM) as ctx:
        assert [r.number for r in service.list_registrations(ctx)] == [number]
    # the next issued number follows the highest one
    with acting(database, seeded.actor(Role.OPERATOR)) as ctx:
        issued = service.register_product(ctx, second.id, form())
    assert issued.number == f"SZDJ-{utcnow().year}-P-000778"


def test_an_expired_broker_cannot_act_as_agent(database: Database) -> None:
    seeded = seed_org(database)
    party = operator_party(database, seeded)
    code = figures_entry(database)
    agreement = active_agreement(database, seeded, party.id, [code])
    product = compliant_product(database, seeded, agreement.id, [code])
    lapsed = broker(database, seeded, until=utcnow().date() - timedelta(days=1), grade="B")
    valid = broker(database, seeded, until=utcnow().date() + timedelta(days=200))
    with pytest.raises(Invalid) as caught, acting(database, seeded.actor(Role.OPERATOR)) as ctx:
        service.register_product(ctx, product.id, form(agent={"broker_id": lapsed.id}))
    assert "过期" in caught.value.errors[0].message.zh
    with acting(database, seeded.actor(Role.OPERATOR)) as ctx:
        out = service.register_product(
            ctx, product.id, form(agent={"broker_id": valid.id, "mandate": "代理登记"})
        )
    assert out.sections["agent"]["broker_id"] == valid.id


def test_the_commitment_letter_is_required(database: Database) -> None:
    seeded = seed_org(database)
    party = operator_party(database, seeded)
    code = figures_entry(database)
    agreement = active_agreement(database, seeded, party.id, [code])
    product = compliant_product(database, seeded, agreement.id, [code])
    bad = form(
        documents={"description": "说明", "commitment": False, "commitment_signatory": "王五"}
    )
    with pytest.raises(Invalid) as caught, acting(database, seeded.actor(Role.OPERATOR)) as ctx:
        service.register_product(ctx, product.id, bad)
    assert caught.value.errors[0].field == "documents.commitment"


def test_later_events_export_and_upstream_code(database: Database) -> None:
    seeded = seed_org(database)
    _a, product, filed = registered_story(database, seeded)
    with acting(database, executive(seeded)) as ctx:
        service.confirm_registration(ctx, filed.number, now=_after_notice())
        service.record_registration_event(
            ctx,
            filed.number,
            RegistrationEventIn(
                kind="licence", note="许可某图商使用两年", details={"licensee": "某图商"}
            ),
        )
        with pytest.raises(Invalid):
            service.record_registration_event(
                ctx, filed.number, RegistrationEventIn(kind="first", note="再次首次登记")
            )
    with acting(database, executive(seeded)) as ctx:
        out = service.record_upstream_code(ctx, filed.number, "GD-2026-0001234")
        assert out.upstream_code == "GD-2026-0001234"
    with acting(database, seeded.actor(Role.OPERATOR)) as ctx:
        package = service.export_registration(ctx, filed.number)
    with zipfile.ZipFile(io.BytesIO(package)) as z:
        names = set(z.namelist())
        data = json.loads(z.read("registration.json"))
        book = load_workbook(io.BytesIO(z.read("registration.xlsx")))
    assert names == {"registration.json", "registration.xlsx", "sample.sha256"}
    assert (
        data["sample_sha256"] == product.sample_hash and data["upstream_code"] == "GD-2026-0001234"
    )
    assert data["sections"]["documents"]["commitment"] is True
    values = [row[3] for row in book.active.iter_rows(values_only=True)]
    assert filed.number in values and product.sample_hash in values
    with acting(database, executive(seeded)) as ctx:
        cancelled = service.record_registration_event(
            ctx, filed.number, RegistrationEventIn(kind="cancel", note="产品停止运营，申请注销")
        )
    assert cancelled.status == "cancelled"
    assert [e.kind for e in cancelled.events] == ["first", "licence", "cancel"]
    with acting(database, ANONYMOUS) as ctx:
        assert service.verify_certificate(ctx, filed.number).status == "cancelled"


def test_public_resource_registration(database: Database) -> None:
    seeded = seed_org(database)
    code = figures_entry(database, unit="B")
    data = ResourceRegistrationIn.model_validate(
        {**form().model_dump(), "resource_code": code, "name": "企业登记统计数据"}
    )
    with acting(database, seeded.other_unit_actor(Role.UNIT_CDO)) as ctx:
        out = service.register_resource(ctx, data)
    assert out.subject_kind == "resource" and out.rights == ["holding"]
    assert out.holder_name == "区乙局" and out.number.split("-")[2] == "R"
    with pytest.raises(Conflict), acting(database, executive(seeded)) as ctx:
        service.register_resource(ctx, data)


@given(st.text(max_size=24))
def test_number_format_accepts_only_the_documented_shape(text: str) -> None:
    ok = service.NUMBER_FORMAT.match(text) is not None
    parts = text.split("-")
    shaped = (
        len(parts) == 4
        and parts[0] == "SZDJ"
        and len(parts[1]) == 4
        and parts[1].isascii()
        and parts[1].isdigit()
        and parts[2] in ("P", "R")
        and len(parts[3]) == 6
        and parts[3].isascii()
        and parts[3].isdigit()
    )
    assert ok == shaped
