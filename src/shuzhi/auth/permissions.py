"""Authorisation = role × unit scope, decided here and called from every service function.

Each operation has a rule naming the roles that may perform it anywhere in the region and
the roles that may perform it only on their own unit. A service calls
``require(ctx, "approve_filing", unit_id)`` before doing anything; the operation name is the
service function's name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from shuzhi import hooks
from shuzhi.context import Ctx, Role
from shuzhi.errors import Forbidden, Unauthenticated

REGION_READERS = frozenset({Role.CDO, Role.CDO_EXECUTIVE, Role.AUDITOR})
EXECUTIVE = frozenset({Role.CDO_EXECUTIVE})
LEADERS = frozenset({Role.CDO, Role.CDO_EXECUTIVE})
UNIT_STAFF = frozenset({Role.UNIT_CDO, Role.DATA_LIAISON})
OPERATORS = frozenset({Role.OPERATOR})
NOBODY: frozenset[Role] = frozenset()


@dataclass(frozen=True)
class Rule:
    region: frozenset[Role]
    own_unit: frozenset[Role] = NOBODY


RULES: dict[str, Rule] = {
    # org
    "view_units": Rule(REGION_READERS | UNIT_STAFF),
    "manage_units": Rule(EXECUTIVE),
    "view_people": Rule(REGION_READERS, UNIT_STAFF),
    "manage_people": Rule(EXECUTIVE, UNIT_STAFF),
    "create_appointment": Rule(EXECUTIVE, UNIT_STAFF),
    "submit_filing": Rule(EXECUTIVE, UNIT_STAFF),
    "approve_filing": Rule(LEADERS),
    "return_filing": Rule(LEADERS),
    "end_appointment": Rule(EXECUTIVE, frozenset({Role.UNIT_CDO})),
    "view_appointments": Rule(REGION_READERS, UNIT_STAFF),
    "export_roster": Rule(REGION_READERS, UNIT_STAFF),
    "view_org_overview": Rule(REGION_READERS, UNIT_STAFF),
    # accounts
    "manage_users": Rule(EXECUTIVE),
    "view_users": Rule(REGION_READERS),
    "manage_api_keys": Rule(EXECUTIVE),
    "reset_password": Rule(EXECUTIVE),
    "change_own_password": Rule(frozenset(Role)),
    "manage_own_totp": Rule(REGION_READERS),
    # audit
    "view_audit": Rule(REGION_READERS),
    "export_audit": Rule(REGION_READERS),
    "verify_audit": Rule(frozenset({Role.AUDITOR, Role.CDO_EXECUTIVE})),
    # the whole log with its hashes for the SIEM: the bureau's security roles only
    "export_audit_siem": Rule(frozenset({Role.AUDITOR, Role.CDO_EXECUTIVE})),
    # moving closed months to files: the machine operator, on the command line only
    "archive_audit": Rule(NOBODY),
    # catalog: staff read the published catalogue; only the owning unit compiles its entries
    "view_catalog": Rule(REGION_READERS | UNIT_STAFF | frozenset({Role.CONSUMER})),
    "view_entry_drafts": Rule(REGION_READERS, UNIT_STAFF),
    "create_entry": Rule(NOBODY, UNIT_STAFF),
    "update_entry": Rule(NOBODY, UNIT_STAFF),
    "submit_entry": Rule(NOBODY, UNIT_STAFF),
    "approve_entry": Rule(NOBODY, frozenset({Role.UNIT_CDO})),
    "return_entry": Rule(NOBODY, frozenset({Role.UNIT_CDO})),
    "revise_entry": Rule(NOBODY, UNIT_STAFF),
    "withdraw_entry": Rule(NOBODY, frozenset({Role.UNIT_CDO})),
    "set_publish_date": Rule(NOBODY),
    "export_catalog": Rule(REGION_READERS | UNIT_STAFF | frozenset({Role.CONSUMER})),
    "view_code_tables": Rule(REGION_READERS | UNIT_STAFF | frozenset({Role.CONSUMER})),
    "manage_code_tables": Rule(EXECUTIVE),
    "manage_data_elements": Rule(EXECUTIVE),
    "view_source_conflicts": Rule(REGION_READERS, UNIT_STAFF),
    "resolve_source_conflict": Rule(EXECUTIVE),
    "view_function_list": Rule(REGION_READERS, UNIT_STAFF),
    "manage_function_list": Rule(EXECUTIVE, UNIT_STAFF),
    "view_compile_rate": Rule(REGION_READERS | UNIT_STAFF),
    # catalog: the Excel compile template and the IT-project gate
    "import_workbook": Rule(NOBODY, UNIT_STAFF),
    "export_workbook": Rule(REGION_READERS, UNIT_STAFF),
    "view_projects": Rule(REGION_READERS, UNIT_STAFF),
    "create_project": Rule(EXECUTIVE, UNIT_STAFF),
    "update_project": Rule(EXECUTIVE, UNIT_STAFF),
    "check_project_gate": Rule(LEADERS, UNIT_STAFF),
    "approve_project": Rule(EXECUTIVE),
    "accept_project": Rule(EXECUTIVE),
    # lake: the owning unit loads its data; its CDO decides on drift and classification
    "ingest": Rule(EXECUTIVE, UNIT_STAFF),
    "view_datasets": Rule(REGION_READERS, UNIT_STAFF),
    "view_dataset_rows": Rule(EXECUTIVE, UNIT_STAFF),
    "accept_drift": Rule(EXECUTIVE, frozenset({Role.UNIT_CDO})),
    "reject_drift": Rule(EXECUTIVE, frozenset({Role.UNIT_CDO})),
    "override_classification": Rule(EXECUTIVE, frozenset({Role.UNIT_CDO})),
    "define_source": Rule(EXECUTIVE, UNIT_STAFF),
    "run_due_sources": Rule(EXECUTIVE),
    "collect_lake_garbage": Rule(EXECUTIVE),
    "list_lake_tables": Rule(EXECUTIVE),
    "view_freshness": Rule(REGION_READERS, UNIT_STAFF),
    # quality: problems go back to the source unit; the bureau or its CDO verifies fixes
    "define_quality_rule": Rule(EXECUTIVE, UNIT_STAFF),
    "update_quality_rule": Rule(EXECUTIVE, UNIT_STAFF),
    "delete_quality_rule": Rule(EXECUTIVE, UNIT_STAFF),
    "view_quality": Rule(REGION_READERS, UNIT_STAFF),
    "mark_issue_fixed": Rule(NOBODY, UNIT_STAFF),
    "verify_issue": Rule(EXECUTIVE, frozenset({Role.UNIT_CDO})),
    # masterdata: the bureau defines and runs its base libraries; golden records are read
    # by the region's readers and the owning unit's staff (masked unless the executive CDO)
    "view_masterdata": Rule(REGION_READERS, UNIT_STAFF),
    "define_masterdata_library": Rule(EXECUTIVE, frozenset({Role.UNIT_CDO})),
    "add_masterdata_member": Rule(EXECUTIVE, UNIT_STAFF),
    "remove_masterdata_member": Rule(EXECUTIVE, UNIT_STAFF),
    "run_masterdata_library": Rule(EXECUTIVE, UNIT_STAFF),
    "view_masterdata_entity": Rule(REGION_READERS, UNIT_STAFF),
    "lookup_masterdata_entity": Rule(REGION_READERS, UNIT_STAFF),
    "view_masterdata_review_pair": Rule(REGION_READERS, UNIT_STAFF),
    "decide_masterdata_review_pair": Rule(EXECUTIVE, UNIT_STAFF),
    # push-back (反哺基层): the library's unit defines and refreshes what a street receives;
    # the street (the target unit) sees its push-backs, reads its records masked per its
    # grant and reports wrong values; the bureau's readers see every push-back's status
    "define_masterdata_pushback": Rule(EXECUTIVE, UNIT_STAFF),
    "refresh_masterdata_pushbacks": Rule(EXECUTIVE, UNIT_STAFF),
    "retire_masterdata_pushback": Rule(EXECUTIVE, UNIT_STAFF),
    "view_masterdata_pushback": Rule(REGION_READERS, UNIT_STAFF),
    "read_masterdata_pushback": Rule(NOBODY, UNIT_STAFF),
    "report_masterdata_record": Rule(NOBODY, UNIT_STAFF),
    # sharing: the consumer unit's staff ask; the provider's CDO decides; the bureau arbitrates
    "submit_share_request": Rule(NOBODY, UNIT_STAFF),
    "withdraw_share_request": Rule(NOBODY, UNIT_STAFF),
    "decide_share_request": Rule(EXECUTIVE, frozenset({Role.UNIT_CDO})),
    "extend_share_request": Rule(NOBODY, frozenset({Role.UNIT_CDO})),
    "escalate_overdue": Rule(EXECUTIVE),
    "appeal_share_request": Rule(NOBODY, UNIT_STAFF),
    "arbitrate_share_request": Rule(LEADERS),
    "renew_grant": Rule(NOBODY, UNIT_STAFF),
    "revoke_grant": Rule(EXECUTIVE, frozenset({Role.UNIT_CDO})),
    "view_share_requests": Rule(REGION_READERS, UNIT_STAFF),
    "view_grants": Rule(REGION_READERS, UNIT_STAFF),
    "register_application": Rule(EXECUTIVE, UNIT_STAFF),
    "retire_application": Rule(EXECUTIVE, frozenset({Role.UNIT_CDO})),
    "view_applications": Rule(REGION_READERS, UNIT_STAFF),
    "create_app_key": Rule(NOBODY, UNIT_STAFF),
    "rotate_app_key": Rule(NOBODY, UNIT_STAFF),
    "revoke_app_key": Rule(EXECUTIVE, UNIT_STAFF),
    "view_sharing_calendar": Rule(REGION_READERS | UNIT_STAFF),
    "manage_sharing_calendar": Rule(EXECUTIVE),
    "view_notifications": Rule(frozenset(Role)),
    "manage_own_notices": Rule(frozenset(Role)),
    "view_notice_outbox": Rule(REGION_READERS),
    # sandbox: the analyst unit's staff and systems ask; the provider sees what was asked
    "run_sandbox_query": Rule(NOBODY, UNIT_STAFF | frozenset({Role.CONSUMER})),
    "view_sandbox_grants": Rule(REGION_READERS, UNIT_STAFF | frozenset({Role.CONSUMER})),
    "view_sandbox_queries": Rule(REGION_READERS, UNIT_STAFF),
    # releases: the analyst asks, every provider unit's CDO decides; templates pre-approved
    "request_sandbox_release": Rule(NOBODY, UNIT_STAFF | frozenset({Role.CONSUMER})),
    "decide_sandbox_release": Rule(NOBODY, frozenset({Role.UNIT_CDO})),
    "view_sandbox_releases": Rule(REGION_READERS, UNIT_STAFF | frozenset({Role.CONSUMER})),
    "download_sandbox_release": Rule(NOBODY, UNIT_STAFF | frozenset({Role.CONSUMER})),
    "manage_sandbox_templates": Rule(NOBODY, frozenset({Role.UNIT_CDO})),
    "view_sandbox_templates": Rule(REGION_READERS, UNIT_STAFF | frozenset({Role.CONSUMER})),
    # gateway: call statistics, region-wide or of the calls a unit made or served
    "view_call_stats": Rule(REGION_READERS, UNIT_STAFF | frozenset({Role.CONSUMER})),
    # portal: the provider's CDO opens its data and decides applications; the bureau may close
    "open_dataset": Rule(NOBODY, frozenset({Role.UNIT_CDO})),
    "republish_dataset": Rule(NOBODY, frozenset({Role.UNIT_CDO})),
    "close_dataset": Rule(EXECUTIVE, frozenset({Role.UNIT_CDO})),
    "view_publications": Rule(REGION_READERS, UNIT_STAFF),
    "view_open_applications": Rule(REGION_READERS, UNIT_STAFF),
    "decide_open_application": Rule(NOBODY, frozenset({Role.UNIT_CDO})),
    "revoke_open_application": Rule(EXECUTIVE, frozenset({Role.UNIT_CDO})),
    "view_portal_figures": Rule(REGION_READERS | UNIT_STAFF),
    # assess: the bureau runs rounds; units answer for themselves; another unit's CDO or the
    # bureau's executive reviews (never the assessed unit, checked in the service)
    "view_assessment_models": Rule(REGION_READERS | UNIT_STAFF),
    "seed_assessment_models": Rule(EXECUTIVE),
    "edit_assessment_model": Rule(EXECUTIVE),
    "open_assessment_round": Rule(LEADERS),
    "close_assessment_round": Rule(LEADERS),
    "view_assessment": Rule(REGION_READERS, UNIT_STAFF),
    "answer_indicator": Rule(NOBODY, UNIT_STAFF),
    "attach_evidence_document": Rule(NOBODY, UNIT_STAFF),
    "submit_answers": Rule(NOBODY, UNIT_STAFF),
    "collect_platform_evidence": Rule(EXECUTIVE),
    "review_answer": Rule(frozenset({Role.CDO_EXECUTIVE, Role.UNIT_CDO})),
    "manage_improvement_plan": Rule(EXECUTIVE, UNIT_STAFF),
    # cockpit: leaders see the region, unit staff their own unit; leaders define indicators
    "view_cockpit": Rule(REGION_READERS, UNIT_STAFF),
    "export_cockpit": Rule(REGION_READERS, UNIT_STAFF),
    "take_snapshot": Rule(EXECUTIVE),
    "snapshot_points": Rule(REGION_READERS),
    "record_history": Rule(EXECUTIVE),
    "view_scenarios": Rule(REGION_READERS, UNIT_STAFF),
    "register_scenario": Rule(EXECUTIVE, UNIT_STAFF),
    "reach_milestone": Rule(EXECUTIVE, UNIT_STAFF),
    "cancel_scenario": Rule(EXECUTIVE, frozenset({Role.UNIT_CDO})),
    "view_indicators": Rule(REGION_READERS, UNIT_STAFF),
    "define_indicator": Rule(LEADERS, frozenset({Role.UNIT_CDO})),
    "update_indicator": Rule(LEADERS, frozenset({Role.UNIT_CDO})),
    "evaluate_indicators": Rule(LEADERS, frozenset({Role.UNIT_CDO})),
    "acknowledge_alert": Rule(LEADERS, frozenset({Role.UNIT_CDO})),
    # market: the bureau admits parties and drafts agreements, the CDO approves them; an
    # operator builds, submits and registers its own products; the bureau reviews them
    "view_market_parties": Rule(REGION_READERS, OPERATORS),
    "apply_market_party": Rule(EXECUTIVE),
    "decide_market_party": Rule(EXECUTIVE),
    "suspend_market_party": Rule(EXECUTIVE),
    "revoke_market_party": Rule(LEADERS),
    "view_agreements": Rule(REGION_READERS, OPERATORS),
    "draft_agreement": Rule(EXECUTIVE),
    "approve_agreement": Rule(frozenset({Role.CDO})),
    "activate_agreement": Rule(EXECUTIVE),
    "suspend_agreement": Rule(EXECUTIVE),
    "terminate_agreement": Rule(LEADERS),
    "expire_agreements": Rule(EXECUTIVE),
    "attach_agreement_grant": Rule(EXECUTIVE),
    "view_products": Rule(REGION_READERS, OPERATORS),
    "create_product": Rule(NOBODY, OPERATORS),
    "submit_product": Rule(NOBODY, OPERATORS),
    "review_product_compliance": Rule(EXECUTIVE),
    "view_registrations": Rule(REGION_READERS, OPERATORS),
    "register_product": Rule(NOBODY, OPERATORS),
    "register_resource": Rule(EXECUTIVE, frozenset({Role.UNIT_CDO})),
    "confirm_registration": Rule(EXECUTIVE),
    "resolve_objection": Rule(EXECUTIVE),
    "record_registration_event": Rule(EXECUTIVE),
    "record_upstream_code": Rule(EXECUTIVE),
    "export_registration": Rule(EXECUTIVE, OPERATORS),
    # market books: the bureau publishes the annual disclosure; an operator (or a state-owned
    # enterprise's operator account) keeps its own data assets' costs for the balance sheet
    "view_disclosure": Rule(REGION_READERS),
    "export_disclosure": Rule(REGION_READERS),
    "publish_disclosure": Rule(EXECUTIVE),
    "declare_data_asset": Rule(NOBODY, OPERATORS),
    "record_cost_item": Rule(NOBODY, OPERATORS),
    "record_asset_reduction": Rule(NOBODY, OPERATORS),
    "view_balance_sheet": Rule(NOBODY, OPERATORS),
    # market trading: a buyer (an operator-role account of an approved party) applies, takes
    # its delivery key and evaluates; the selling operator signs, delivers and files
    "view_contracts": Rule(REGION_READERS, OPERATORS),
    "apply_purchase": Rule(NOBODY, OPERATORS),
    "sign_contract": Rule(NOBODY, OPERATORS),
    "end_contract": Rule(LEADERS, OPERATORS),
    "expire_contracts": Rule(EXECUTIVE),
    "create_delivery_key": Rule(NOBODY, OPERATORS),
    "record_file_delivery": Rule(NOBODY, OPERATORS),
    "file_transaction": Rule(EXECUTIVE, OPERATORS),
    "evaluate_contract": Rule(NOBODY, OPERATORS),
    "view_market_revenue": Rule(REGION_READERS, OPERATORS),
    # secops: the bureau watches every flow (its executive is the security officer); a unit's
    # CDO answers for the alerts on its own data; lifting a containment is the bureau's call
    "view_security_alerts": Rule(REGION_READERS, frozenset({Role.UNIT_CDO})),
    "handle_security_alert": Rule(LEADERS, frozenset({Role.UNIT_CDO})),
    "view_secops_thresholds": Rule(REGION_READERS),
    "set_secops_threshold": Rule(EXECUTIVE),
    "evaluate_secops": Rule(EXECUTIVE),
    "contain_subject": Rule(EXECUTIVE, frozenset({Role.UNIT_CDO})),
    "lift_containment": Rule(EXECUTIVE),
    "view_incidents": Rule(REGION_READERS, frozenset({Role.UNIT_CDO})),
    "manage_incidents": Rule(LEADERS, frozenset({Role.UNIT_CDO})),
    # the risk register: the bureau reads every unit's, a unit's CDO its own and answers for it
    "view_risk_register": Rule(REGION_READERS, frozenset({Role.UNIT_CDO})),
    "assess_risk": Rule(LEADERS, frozenset({Role.UNIT_CDO})),
    "export_risk_report": Rule(REGION_READERS, frozenset({Role.UNIT_CDO})),
    # the monthly report of a unit; the periodic grant review: the provider unit's CDO
    # confirms its grants are still needed (its liaison sees the queue)
    "view_security_report": Rule(REGION_READERS, frozenset({Role.UNIT_CDO})),
    "view_grant_reviews": Rule(REGION_READERS, UNIT_STAFF),
    "confirm_grant_review": Rule(EXECUTIVE, frozenset({Role.UNIT_CDO})),
}


def _record_denial(operation: str, target: str) -> Callable[[Ctx], None]:
    def hook(ctx: Ctx) -> None:
        hooks.publish(ctx, hooks.OperationRefused(operation=operation, target=target))

    return hook


def allowed(ctx: Ctx, operation: str, unit_id: int | None = None) -> bool:
    """Whether the actor may perform ``operation`` on ``unit_id`` (None: within its own scope)."""
    rule = RULES[operation]
    role = ctx.actor.role
    if ctx.actor.kind == "system":
        return True
    if role is None:
        return False
    if role in rule.region:
        return True
    if role in rule.own_unit:
        return unit_id is None or unit_id == ctx.actor.unit_id
    return False


def require(ctx: Ctx, operation: str, unit_id: int | None = None, target: str = "") -> None:
    """Raise unless the actor may perform the operation; refusals are audited."""
    if operation not in RULES:
        raise KeyError(f"no permission rule for operation {operation!r}")
    if not ctx.actor.is_authenticated:
        raise Unauthenticated()
    if allowed(ctx, operation, unit_id):
        return
    err = Forbidden(operation=operation, target=target)
    err.after_rollback = _record_denial(operation, target)
    raise err


def scope_unit(ctx: Ctx, operation: str) -> int | None:
    """The unit a listing must be limited to: None when the actor sees the whole region."""
    require(ctx, operation)
    role = ctx.actor.role
    if ctx.actor.kind == "system" or (role is not None and role in RULES[operation].region):
        return None
    return ctx.actor.unit_id


def deny(operation: str, target: str, zh: str, en: str) -> Forbidden:
    """A refusal decided by a business rule (e.g. no self-approval), audited like any other."""
    err = Forbidden(zh, en, operation=operation, target=target)
    err.after_rollback = _record_denial(operation, target)
    return err
