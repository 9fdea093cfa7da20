"""The assessment services, one module per part of the work; callers write
``assess.service.open_assessment_round`` as for a single module."""

from __future__ import annotations

from shuzhi.assess.service.answers import (
    attach_assessment_document,
    collect_platform_evidence,
    read_assessment_document,
    save_assessment_answer,
    submit_assessment_answers,
    unit_answers,
    unit_platform_evidence,
)
from shuzhi.assess.service.modelling import (
    define_assessment_model,
    edit_assessment_indicator,
    get_assessment_model,
    list_assessment_models,
    seed_assessment_models,
    set_assessment_weights,
)
from shuzhi.assess.service.plans import (
    add_improvement_action,
    plan_from_gaps,
    unit_improvement_plan,
    update_improvement_action,
)
from shuzhi.assess.service.printing import export_report_pdf
from shuzhi.assess.service.reports import export_report, region_report, unit_report
from shuzhi.assess.service.review import (
    assessed_levels,
    review_assessment_answer,
    round_results,
    unit_assessment_sheet,
)
from shuzhi.assess.service.rounds import (
    assess_overview,
    close_assessment_round,
    get_assessment_round,
    list_assessment_rounds,
    open_assessment_round,
)

__all__ = [
    "add_improvement_action",
    "assess_overview",
    "assessed_levels",
    "attach_assessment_document",
    "close_assessment_round",
    "collect_platform_evidence",
    "define_assessment_model",
    "edit_assessment_indicator",
    "export_report",
    "export_report_pdf",
    "get_assessment_model",
    "get_assessment_round",
    "list_assessment_models",
    "list_assessment_rounds",
    "open_assessment_round",
    "plan_from_gaps",
    "read_assessment_document",
    "region_report",
    "review_assessment_answer",
    "round_results",
    "save_assessment_answer",
    "seed_assessment_models",
    "set_assessment_weights",
    "submit_assessment_answers",
    "unit_answers",
    "unit_assessment_sheet",
    "unit_improvement_plan",
    "unit_platform_evidence",
    "unit_report",
    "update_improvement_action",
]
