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
from shuzhi.lake.readers import FileSource
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
from shuzhi.market.trade_schemas import EvaluationIn, FileDeliveryIn, PurchaseIn, SignIn
from tests.conftest import acting
from tests.lake.helpers import write_csv
from tests.market.helpers import (
    agreement_data,
    figures_entry,
    form,
    party_data,
    passing_review,
    product_data,
)
from tests.scratch import Scratch
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
    "view_contracts": (R | OP, R),
    "apply_purchase": (OP, NONE),
    "sign_contract": (OP, NONE),
    "end_contract": (LEADERS | OP, LEADERS),
    "expire_contracts": (EXEC, EXEC),
    "create_delivery_key": (OP, NONE),
    "record_file_delivery": (OP, NONE),
    "file_transaction": (EXEC | OP, EXEC),
    "evaluate_contract": (OP, NONE),
    "view_market_revenue": (R | OP, R),
}

_n = count()
_outputs = Scratch("shuzhi-matrix-")
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
        # The product's own output, which an API contract delivers.
        path = write_csv(_outputs / f"o{next(_n)}.csv", [["制造业", "81.5"]], ["行业", "健康指数"])
        service.load_product_output(ctx, product_id, FileSource(path))
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


def _other(unit: str) -> str:
    return "B" if unit == "A" else "A"


def _buyer(database: Database, unit: str) -> int:
    with acting(database, SYSTEM) as ctx:
        data = PartyIn.model_validate(
            party_data(
                kind="merchant",
                name=f"数商{next(_n)}",
                merchant_classes=["supply_demand"],
                unit_code=unit,
            )
        )
        party_id = service.apply_market_party(ctx, data).id
        service.decide_market_party(ctx, party_id, approve=True)
    return party_id


def _contract(
    database: Database, seller: str, buyer: str, state: str = "applied", mode: str = "api"
) -> int:
    """A contract for a registered product of ``seller``'s operator, bought by ``buyer``'s
    merchant: applied, signed (``active``) or with the delivery key taken (``delivered``)."""
    number = _registered(database, seller)
    buyer_id = _buyer(database, buyer)
    with acting(database, SYSTEM) as ctx:
        data = PurchaseIn.model_validate(
            {
                "registration_number": number,
                "buyer_party_id": buyer_id,
                "purpose": "供应链授信评估使用",
                "delivery_mode": mode,
            }
        )
        contract_id = service.apply_purchase(ctx, data).id
        if state in ("active", "delivered"):
            ends = utcnow().date() + timedelta(days=90)
            service.sign_contract(ctx, contract_id, SignIn(price_cents=100_000, ends_on=ends))
        if state == "delivered":
            service.create_delivery_key(ctx, contract_id)
    return contract_id


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
    "view_contracts": (
        lambda d, u: _contract(d, u, "S"),
        lambda c, k: service.get_contract(c, _int(k)),
    ),
    "apply_purchase": (
        lambda d, u: (_registered(d, _other(u)), _buyer(d, u)),
        lambda c, a: service.apply_purchase(
            c,
            PurchaseIn(
                registration_number=str(_pair(a)[0]),
                buyer_party_id=int(str(_pair(a)[1])),
                purpose="供应链授信评估使用",
            ),
        ),
    ),
    "sign_contract": (
        lambda d, u: _contract(d, u, _other(u)),
        lambda c, k: service.sign_contract(
            c, _int(k), SignIn(price_cents=100_000, ends_on=utcnow().date() + timedelta(days=30))
        ),
    ),
    "end_contract": (
        lambda d, u: _contract(d, u, _other(u), "active"),
        lambda c, k: service.end_contract(c, _int(k), REASON),
    ),
    "expire_contracts": (lambda d, u: u, lambda c, u: service.expire_contracts(c)),
    "create_delivery_key": (
        lambda d, u: _contract(d, _other(u), u, "active"),
        lambda c, k: service.create_delivery_key(c, _int(k)),
    ),
    "record_file_delivery": (
        lambda d, u: _contract(d, u, _other(u), "active", mode="file"),
        lambda c, k: service.record_file_delivery(
            c, _int(k), FileDeliveryIn(file_name="交付文件.csv", sha256="0" * 64)
        ),
    ),
    "file_transaction": (
        lambda d, u: _contract(d, u, _other(u), "active"),
        lambda c, k: service.file_transaction(c, _int(k)),
    ),
    "evaluate_contract": (
        lambda d, u: _contract(d, _other(u), u, "delivered"),
        lambda c, k: service.evaluate_contract(c, _int(k), EvaluationIn(rating=5)),
    ),
    "view_market_revenue": (
        lambda d, u: u,
        lambda c, u: service.market_revenue(c, unit_code=str(u)),
    ),
}
