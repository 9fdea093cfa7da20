"""Market rows of the permission matrix (tests/auth/test_permission_matrix.py).

Each call targets objects of the unit under test: a party whose organisation is that unit,
its agreement, product and registration. The operator account belongs to department A."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from itertools import count

from shuzhi.context import SYSTEM, Ctx, Role
from shuzhi.db.base import utcnow
from shuzhi.db.engine import Database
from shuzhi.market import service
from shuzhi.market.models import Registration
from shuzhi.market.schemas import (
    AgreementIn,
    ObjectionIn,
    PartyIn,
    ProductIn,
    RegistrationEventIn,
    ResourceRegistrationIn,
)
from tests.conftest import acting
from tests.market.helpers import (
    agreement_data,
    figures_entry,
    form,
    party_data,
    passing_review,
    product_data,
)
from tests.sharing.helpers import application, request, shared_entry

R = {Role.CDO, Role.CDO_EXECUTIVE, Role.AUDITOR}
EXEC = {Role.CDO_EXECUTIVE}
LEADERS = {Role.CDO, Role.CDO_EXECUTIVE}
OP = {Role.OPERATOR}
NONE: set[Role] = set()

EXPECTED: dict[str, tuple[set[Role], set[Role]]] = {
    "view_market_parties": (R | OP, R),
    "apply_market_party": (EXEC, EXEC),
    "decide_market_party": (EXEC, EXEC),
    "suspend_market_party": (EXEC, EXEC),
    "revoke_market_party": (LEADERS, LEADERS),
    "view_agreements": (R | OP, R),
    "draft_agreement": (EXEC, EXEC),
    "approve_agreement": ({Role.CDO}, {Role.CDO}),
    "activate_agreement": (EXEC, EXEC),
    "suspend_agreement": (EXEC, EXEC),
    "terminate_agreement": (LEADERS, LEADERS),
    "expire_agreements": (EXEC, EXEC),
    "attach_agreement_grant": (EXEC, EXEC),
    "view_products": (R | OP, R),
    "create_product": (OP, NONE),
    "submit_product": (OP, NONE),
    "review_product_compliance": (EXEC, EXEC),
    "view_registrations": (R | OP, R),
    "register_product": (OP, NONE),
    "register_resource": (EXEC | {Role.UNIT_CDO}, EXEC),
    "confirm_registration": (EXEC, EXEC),
    "resolve_objection": (EXEC, EXEC),
    "record_registration_event": (EXEC, EXEC),
    "record_upstream_code": (EXEC, EXEC),
    "export_registration": (EXEC | OP, EXEC),
}

_n = count()
_entries: dict[str, str] = {}


def _entry(database: Database) -> str:
    """One published entry of department S per database (no data: nothing to grade)."""
    url = database.settings.database_url
    if url not in _entries:
        _entries[url] = figures_entry(database, unit="S", loaded=False)
    return _entries[url]


def _applied(database: Database, unit: str) -> int:
    with acting(database, SYSTEM) as ctx:
        data = PartyIn.model_validate(party_data(unit_code=unit, name=f"运营机构{next(_n)}"))
        return service.apply_market_party(ctx, data).id


def _party(database: Database, unit: str) -> int:
    party_id = _applied(database, unit)
    with acting(database, SYSTEM) as ctx:
        service.decide_market_party(ctx, party_id, approve=True)
    return party_id


def _agreement(database: Database, unit: str, state: str = "active") -> int:
    party_id = _party(database, unit)
    with acting(database, SYSTEM) as ctx:
        data = AgreementIn.model_validate(agreement_data(party_id, [_entry(database)]))
        agreement_id = service.draft_agreement(ctx, data).id
        if state in ("approved", "active"):
            service.approve_agreement(ctx, agreement_id)
        if state == "active":
            service.activate_agreement(ctx, agreement_id)
    return agreement_id


def _product(database: Database, unit: str, state: str = "draft") -> int:
    agreement_id = _agreement(database, unit)
    with acting(database, SYSTEM) as ctx:
        data = ProductIn.model_validate(product_data(agreement_id, [_entry(database)]))
        product_id = service.create_product(ctx, data).id
        if state in ("in_review", "compliant"):
            service.submit_product(ctx, product_id)
        if state == "compliant":
            service.review_product_compliance(ctx, product_id, passing_review())
    return product_id


def _filed(database: Database, unit: str, notice_over: bool = False) -> str:
    product_id = _product(database, unit, "compliant")
    with acting(database, SYSTEM) as ctx:
        number = service.register_product(ctx, product_id, form()).number
        if notice_over:
            row = ctx.db.get(Registration, service.get_registration(ctx, number).id)
            assert row is not None
            row.notice_ends_at = utcnow() - timedelta(minutes=1)
    return number


def _registered(database: Database, unit: str) -> str:
    number = _filed(database, unit, notice_over=True)
    with acting(database, SYSTEM) as ctx:
        service.confirm_registration(ctx, number)
    return number


def _objected(database: Database, unit: str) -> tuple[str, int]:
    number = _filed(database, unit)
    with acting(database, SYSTEM) as ctx:
        objection = service.file_objection(
            ctx,
            number,
            ObjectionIn(
                name="异议人", contact="13900000000", reason="该产品所用数据的权属存在争议。"
            ),
        )
    return number, objection.id


def _granted(database: Database, unit: str) -> tuple[int, int]:
    """An agreement of ``unit``'s operator and a grant to ``unit`` of an entry it covers."""
    entry = shared_entry(database, "unconditional", unit="S")
    party_id = _party(database, unit)
    with acting(database, SYSTEM) as ctx:
        data = AgreementIn.model_validate(agreement_data(party_id, [entry]))
        agreement_id = service.draft_agreement(ctx, data).id
        service.approve_agreement(ctx, agreement_id)
        service.activate_agreement(ctx, agreement_id)
    app = application(database, unit)
    out = request(database, SYSTEM, entry, app, unit_code=unit)
    assert out.grant_id is not None
    return agreement_id, out.grant_id


def _resource(database: Database, unit: str) -> ResourceRegistrationIn:
    code = figures_entry(database, unit=unit, loaded=False)
    return ResourceRegistrationIn.model_validate(
        {**form().model_dump(), "resource_code": code, "name": "企业统计数据"}
    )


def _int(a: object) -> int:
    return int(str(a))


def _pair(a: object) -> tuple[object, object]:
    assert isinstance(a, tuple)
    return a[0], a[1]


REASON = "依据协议第十二条的约定处理"

Prep = Callable[[Database, str], object]
Call = Callable[[Ctx, object], object]
OPERATIONS: dict[str, tuple[Prep, Call]] = {
    "view_market_parties": (_party, lambda c, p: service.get_market_party(c, _int(p))),
    "apply_market_party": (
        lambda d, u: u,
        lambda c, u: service.apply_market_party(c, PartyIn.model_validate(party_data())),
    ),
    "decide_market_party": (
        _applied,
        lambda c, p: service.decide_market_party(c, _int(p), approve=True),
    ),
    "suspend_market_party": (
        _party,
        lambda c, p: service.suspend_market_party(c, _int(p), REASON),
    ),
    "revoke_market_party": (_party, lambda c, p: service.revoke_market_party(c, _int(p), REASON)),
    "view_agreements": (_agreement, lambda c, a: service.get_agreement(c, _int(a))),
    "draft_agreement": (
        lambda d, u: (_party(d, u), _entry(d)),
        lambda c, a: service.draft_agreement(
            c,
            AgreementIn.model_validate(agreement_data(int(str(_pair(a)[0])), [str(_pair(a)[1])])),
        ),
    ),
    "approve_agreement": (
        lambda d, u: _agreement(d, u, "draft"),
        lambda c, a: service.approve_agreement(c, _int(a)),
    ),
    "activate_agreement": (
        lambda d, u: _agreement(d, u, "approved"),
        lambda c, a: service.activate_agreement(c, _int(a)),
    ),
    "suspend_agreement": (_agreement, lambda c, a: service.suspend_agreement(c, _int(a), REASON)),
    "terminate_agreement": (
        _agreement,
        lambda c, a: service.terminate_agreement(c, _int(a), REASON),
    ),
    "expire_agreements": (lambda d, u: u, lambda c, u: service.expire_agreements(c)),
    "attach_agreement_grant": (
        _granted,
        lambda c, a: service.attach_agreement_grant(
            c, int(str(_pair(a)[0])), int(str(_pair(a)[1]))
        ),
    ),
    "view_products": (_product, lambda c, p: service.get_product(c, _int(p))),
    "create_product": (
        lambda d, u: (_agreement(d, u), _entry(d)),
        lambda c, a: service.create_product(
            c,
            ProductIn.model_validate(product_data(int(str(_pair(a)[0])), [str(_pair(a)[1])])),
        ),
    ),
    "submit_product": (_product, lambda c, p: service.submit_product(c, _int(p))),
    "review_product_compliance": (
        lambda d, u: _product(d, u, "in_review"),
        lambda c, p: service.review_product_compliance(c, _int(p), passing_review()),
    ),
    "view_registrations": (_filed, lambda c, n: service.get_registration(c, str(n))),
    "register_product": (
        lambda d, u: _product(d, u, "compliant"),
        lambda c, p: service.register_product(c, _int(p), form()),
    ),
    "register_resource": (
        _resource,
        lambda c, r: service.register_resource(c, ResourceRegistrationIn.model_validate(r)),
    ),
    "confirm_registration": (
        lambda d, u: _filed(d, u, notice_over=True),
        lambda c, n: service.confirm_registration(c, str(n)),
    ),
    "resolve_objection": (
        _objected,
        lambda c, a: service.resolve_objection(
            c, str(_pair(a)[0]), int(str(_pair(a)[1])), upheld=False, resolution=REASON
        ),
    ),
    "record_registration_event": (
        _registered,
        lambda c, n: service.record_registration_event(
            c, str(n), RegistrationEventIn(kind="change", note="更新频率由月改为周")
        ),
    ),
    "record_upstream_code": (
        _filed,
        lambda c, n: service.record_upstream_code(c, str(n), "GD-2026-000001"),
    ),
    "export_registration": (_filed, lambda c, n: service.export_registration(c, str(n))),
}
