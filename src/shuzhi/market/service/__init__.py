"""The data market's operations, one module per part of the work: ``parties``,
``agreements`` (with ``covers``), ``products`` and ``registry`` (the registration ledger)."""

from __future__ import annotations

from shuzhi.market.service.agreements import (
    activate_agreement,
    approve_agreement,
    attach_agreement_grant,
    covers,
    draft_agreement,
    expire_agreements,
    get_agreement,
    list_agreements,
    operator_may_use,
    suspend_agreement,
    terminate_agreement,
    why_not_covered,
)
from shuzhi.market.service.balance import (
    balance_sheet,
    declare_data_asset,
    export_balance_sheet,
    record_cost_item,
)
from shuzhi.market.service.books_demo import seed_books
from shuzhi.market.service.disclosure import (
    disclosure_status,
    export_disclosure,
    get_disclosure,
    publish_disclosure,
)
from shuzhi.market.service.figures import market_figures
from shuzhi.market.service.notice import (
    file_objection,
    list_notices,
    resolve_objection,
    verify_certificate,
)
from shuzhi.market.service.package import export_registration
from shuzhi.market.service.parties import (
    apply_market_party,
    broker_in_good_standing,
    decide_market_party,
    get_market_party,
    list_market_parties,
    reinstate_market_party,
    revoke_market_party,
    suspend_market_party,
)
from shuzhi.market.service.products import (
    create_product,
    get_product,
    list_products,
    review_product_compliance,
    sample_hash,
    submit_product,
)
from shuzhi.market.service.registry import (
    NOTICE_DAYS,
    NUMBER_FORMAT,
    VALID_YEARS,
    confirm_registration,
    get_registration,
    list_registrations,
    record_registration_event,
    record_upstream_code,
    register_product,
    register_resource,
)

__all__ = [
    "NOTICE_DAYS",
    "NUMBER_FORMAT",
    "VALID_YEARS",
    "activate_agreement",
    "apply_market_party",
    "approve_agreement",
    "attach_agreement_grant",
    "balance_sheet",
    "broker_in_good_standing",
    "confirm_registration",
    "covers",
    "create_product",
    "decide_market_party",
    "declare_data_asset",
    "disclosure_status",
    "draft_agreement",
    "expire_agreements",
    "export_balance_sheet",
    "export_disclosure",
    "export_registration",
    "file_objection",
    "get_agreement",
    "get_disclosure",
    "get_market_party",
    "get_product",
    "get_registration",
    "list_agreements",
    "list_market_parties",
    "list_notices",
    "list_products",
    "list_registrations",
    "market_figures",
    "operator_may_use",
    "publish_disclosure",
    "record_cost_item",
    "record_registration_event",
    "record_upstream_code",
    "register_product",
    "register_resource",
    "reinstate_market_party",
    "resolve_objection",
    "review_product_compliance",
    "revoke_market_party",
    "sample_hash",
    "seed_books",
    "submit_product",
    "suspend_agreement",
    "suspend_market_party",
    "terminate_agreement",
    "verify_certificate",
    "why_not_covered",
]
