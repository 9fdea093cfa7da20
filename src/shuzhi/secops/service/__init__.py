"""Security operations (docs/secops.md): ``alerts`` (thresholds, evaluation, alerts) and
``response`` (containment, incidents and drills)."""

from shuzhi.secops.service.alerts import (
    acknowledge_alert,
    claim,
    evaluate,
    get_alert,
    list_alerts,
    list_thresholds,
    mark_false_positive,
    open_alerts_by_severity,
    set_threshold,
)
from shuzhi.secops.service.response import (
    close_incident,
    contain,
    get_incident,
    lift_containment,
    list_containments,
    list_incidents,
    note_incident,
    open_incident,
)

__all__ = [
    "acknowledge_alert",
    "claim",
    "close_incident",
    "contain",
    "evaluate",
    "get_alert",
    "get_incident",
    "lift_containment",
    "list_alerts",
    "list_containments",
    "list_incidents",
    "list_thresholds",
    "mark_false_positive",
    "note_incident",
    "open_alerts_by_severity",
    "open_incident",
    "set_threshold",
]
