"""Security operations (docs/secops.md): ``alerts`` (thresholds, evaluation, alerts),
``response`` (containment, incidents and drills), ``risk`` (the risk register) and
``risk_report`` (the annual important-data risk assessment report)."""

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
from shuzhi.secops.service.risk import (
    answer_risk_questions,
    confirm_risk_assessment,
    get_risk_subject,
    overdue_risk_assessments,
    reassess_due,
    reassess_risk,
    risk_register,
)
from shuzhi.secops.service.risk_report import export_risk_report_pdf, risk_report

__all__ = [
    "acknowledge_alert",
    "answer_risk_questions",
    "claim",
    "close_incident",
    "confirm_risk_assessment",
    "contain",
    "evaluate",
    "export_risk_report_pdf",
    "get_alert",
    "get_incident",
    "get_risk_subject",
    "lift_containment",
    "list_alerts",
    "list_containments",
    "list_incidents",
    "list_thresholds",
    "mark_false_positive",
    "note_incident",
    "open_alerts_by_severity",
    "open_incident",
    "overdue_risk_assessments",
    "reassess_due",
    "reassess_risk",
    "risk_register",
    "risk_report",
    "set_threshold",
]
