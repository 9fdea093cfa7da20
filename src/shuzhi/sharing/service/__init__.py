"""Share requests, decisions and grants (共享申请与授权).

A consumer unit's liaison or CDO asks for a published entry of another unit, naming the
columns (data items), purpose, legal basis, duration, delivery modes and the application
that will call. The entry's share type routes the request — strictest of the entry and the
requested items:

- unconditional → granted at once;
- conditional   → the provider unit CDO's queue, due in N working days (per jurisdiction);
  when the deadline passes the request is escalated to the executive, who may then decide
  (the provider's CDO still may, late);
- not_shared    → refused with the entry's recorded legal basis; the requester may appeal to
  the executive, who arbitrates (but can never grant an item catalogued as not shared).

The provider may extend a pending deadline once, by ``SHUZHI_SHARING_EXTENSION_DAYS``
working days, with a reason (check period). A deadline counted over a calendar year not yet
declared complete is provisional (weekdays only) and counted again when the year is.

Decisions: approve (as asked), partly approve (fewer columns, stricter masking, extra row
conditions, shorter expiry, fewer delivery modes, a lower rate limit) or refuse with a
reason of at least ten characters (and, for a conditional entry, the basis cited). A
requester may withdraw before the decision; a grant may be renewed (a new request, routed
the same way) or revoked by the provider's CDO or the executive. Status changes are
conditional updates, so racing decisions and revocations cannot both win; at most one
active grant exists per application and entry. Every step is audited and notified.
"""

from __future__ import annotations

from shuzhi.sharing.service.common import (
    EXEC_ROLES,
    KEY_CATEGORIES,
    MAX_ID,
    STAFF_ROLES,
    WAITING,
    S,
    grant_status,
)
from shuzhi.sharing.service.deadlines import extend_share_request, set_calendar_year
from shuzhi.sharing.service.figures import active_grant_figures, request_figures
from shuzhi.sharing.service.form import (
    FormColumn,
    RequestForm,
    RequestPage,
    request_form,
    request_page,
    shareable_entries,
)
from shuzhi.sharing.service.grants import (
    agreement_ended,
    entry_republished,
    entry_withdrawn,
    get_grant,
    grant_actions,
    grants_for_entry,
    list_grants,
    masks_follow_data,
    on_agreement_ended,
    on_classification_changed,
    on_entry_republished,
    on_entry_withdrawn,
    on_version_accepted,
    on_version_loaded,
    renew_grant,
    revoke_grant,
    rows_without_key,
)
from shuzhi.sharing.service.notices import (
    get_notice_address,
    list_notice_outbox,
    list_notifications,
    mark_notifications_read,
    outbox_counts,
    post_notice,
    set_notice_address,
    unread_count,
)
from shuzhi.sharing.service.requests import (
    appeal_share_request,
    arbitrate_share_request,
    decide_share_request,
    decision_queue,
    escalate_overdue,
    executive_queue,
    get_share_request,
    list_share_requests,
    request_actions,
    submit_share_request,
    withdraw_share_request,
)

__all__ = [
    "EXEC_ROLES",
    "KEY_CATEGORIES",
    "MAX_ID",
    "STAFF_ROLES",
    "WAITING",
    "FormColumn",
    "RequestForm",
    "RequestPage",
    "S",
    "active_grant_figures",
    "agreement_ended",
    "appeal_share_request",
    "arbitrate_share_request",
    "decide_share_request",
    "decision_queue",
    "entry_republished",
    "entry_withdrawn",
    "escalate_overdue",
    "executive_queue",
    "extend_share_request",
    "get_grant",
    "get_notice_address",
    "get_share_request",
    "grant_actions",
    "grant_status",
    "grants_for_entry",
    "list_grants",
    "list_notice_outbox",
    "list_notifications",
    "list_share_requests",
    "mark_notifications_read",
    "masks_follow_data",
    "on_agreement_ended",
    "on_classification_changed",
    "on_entry_republished",
    "on_entry_withdrawn",
    "on_version_accepted",
    "on_version_loaded",
    "outbox_counts",
    "post_notice",
    "renew_grant",
    "request_actions",
    "request_figures",
    "request_form",
    "request_page",
    "revoke_grant",
    "rows_without_key",
    "set_calendar_year",
    "set_notice_address",
    "shareable_entries",
    "submit_share_request",
    "unread_count",
    "withdraw_share_request",
]
