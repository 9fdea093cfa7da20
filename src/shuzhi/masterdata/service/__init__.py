"""Base libraries: define them, feed them member datasets, run them, read their entities.

Every function takes the acting ``Ctx`` first, checks ``require(ctx, <function name>,
owning unit)`` and records what it did in the audit log. One module per part of the work:
``libraries`` (definitions and members), ``runs`` (a run computed by ``runner`` and written
in one transaction, with ``results``: entities, memberships, events, conflicts), ``review``
(clerical review) and ``entities`` (reading golden records: checked, masked, audited).
"""

from __future__ import annotations

from shuzhi.masterdata.pushback import (
    define_masterdata_pushback,
    delivered_pushbacks,
    get_masterdata_pushback,
    list_masterdata_pushbacks,
    retire_masterdata_pushback,
)
from shuzhi.masterdata.pushback_delivery import refresh_masterdata_pushbacks
from shuzhi.masterdata.pushback_reports import (
    list_masterdata_reports,
    read_masterdata_pushback,
    report_masterdata_record,
)
from shuzhi.masterdata.service.entities import lookup_masterdata_entity, view_masterdata_entity
from shuzhi.masterdata.service.libraries import (
    add_masterdata_member,
    define_masterdata_library,
    get_masterdata_library,
    list_masterdata_libraries,
    list_masterdata_runs,
    masterdata_figures,
    remove_masterdata_member,
)
from shuzhi.masterdata.service.review import (
    decide_masterdata_review_pair,
    list_masterdata_review,
    view_masterdata_review_pair,
)
from shuzhi.masterdata.service.runs import run_masterdata_library

__all__ = [
    "add_masterdata_member",
    "decide_masterdata_review_pair",
    "define_masterdata_library",
    "define_masterdata_pushback",
    "delivered_pushbacks",
    "get_masterdata_library",
    "get_masterdata_pushback",
    "list_masterdata_libraries",
    "list_masterdata_pushbacks",
    "list_masterdata_reports",
    "list_masterdata_review",
    "list_masterdata_runs",
    "lookup_masterdata_entity",
    "masterdata_figures",
    "read_masterdata_pushback",
    "refresh_masterdata_pushbacks",
    "remove_masterdata_member",
    "report_masterdata_record",
    "retire_masterdata_pushback",
    "run_masterdata_library",
    "view_masterdata_entity",
    "view_masterdata_review_pair",
]
