"""Quality control: rules per dataset, run on every load, scores, and issues routed back to
the unit that supplies the data (open → fixed by its liaison → verified by the bureau or
the unit CDO).

Quality score of a version (0–100)::

    score = 100 × (Σ_r w_r · p_r + p_0) / (Σ_r w_r + 1)

where ``p_r = 1 − failing_r / checked_r`` is the pass rate of active rule ``r`` with weight
``w_r`` (dataset-level rules such as freshness check one thing: pass or fail), and
``p_0 = 1 − reject ratio`` is the share of source rows that could be parsed at all. A
dataset without rules has no score (``None``, shown as "no rules"): its parse rate alone
would read as a perfect 100 beside issues found elsewhere. An entry's score is its current
version's; a unit's score is the mean of its scored entries' scores (``None`` when none of
its entries has rules).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import func, select

from shuzhi import hooks
from shuzhi.audit.service import record
from shuzhi.auth.permissions import allowed, require, scope_unit
from shuzhi.context import Ctx
from shuzhi.db.base import utcnow
from shuzhi.errors import Conflict, NotFound
from shuzhi.lake import service as lake
from shuzhi.lake.manifest import Version
from shuzhi.lake.query import QueryEngine
from shuzhi.org import service as org
from shuzhi.quality.checks import Outcome, RuleSpec, evaluate_all, validate_rule
from shuzhi.quality.events import (
    IssueFixed,
    IssueVerified,
    RejectedVersionIssuesWithdrawn,
    RuleDefined,
    RuleDeleted,
    RuleUpdated,
    VersionChecked,
)
from shuzhi.quality.models import IssueStatus, QualityIssue, QualityResult, QualityRule, RuleKind
from shuzhi.quality.schemas import (
    NO_RULES,
    EntryScore,
    IssueOut,
    ResultOut,
    RuleIn,
    RuleOut,
    RuleSheet,
    ScoreBoard,
    UnitScore,
)
from shuzhi.security.categories import Category

LIVE_ISSUES = (IssueStatus.OPEN, IssueStatus.FIXED)


def _rule_out(r: QualityRule) -> RuleOut:
    return RuleOut(
        id=r.id,
        resource_code=r.resource_code,
        kind=RuleKind(r.kind),
        column=r.column_name,
        params=r.params,
        weight=r.weight,
        active=r.active,
    )


def _known_columns(ctx: Ctx, resource_code: str) -> set[str] | None:
    current = lake.current_version(ctx, resource_code)
    return {n for c in current[1].columns for n in (c.name, c.source_name)} if current else None


def define_quality_rule(ctx: Ctx, resource_code: str, data: RuleIn) -> RuleOut:
    """Add a rule to an entry's dataset; it runs from the next load on."""
    unit_id, _name, _cycle, _items = lake.entry_facts(ctx, resource_code)
    require(ctx, "define_quality_rule", unit_id, resource_code)
    spec = RuleSpec(data.kind, data.column, data.params)
    validate_rule(spec, _known_columns(ctx, resource_code))
    rule = QualityRule(
        resource_code=resource_code,
        unit_id=unit_id,
        kind=data.kind.value,
        column_name=data.column,
        params=data.params,
        weight=data.weight,
        created_by=ctx.actor.label,
    )
    ctx.db.add(rule)
    ctx.db.flush()
    record(ctx, RuleDefined(rule.id, resource_code, unit_id, rule.kind, rule.column_name))
    return _rule_out(rule)


def _active_rule(ctx: Ctx, rule_id: int) -> QualityRule:
    rule = ctx.db.get(QualityRule, rule_id)
    if rule is None or not rule.active or rule.kind == RuleKind.CROSS_SOURCE:
        raise NotFound(f"质量规则 {rule_id} 不存在。", f"Quality rule {rule_id} does not exist.")
    return rule


def rule_dataset(ctx: Ctx, rule_id: int) -> str:
    """The resource code of the dataset a rule checks (for pages that show the rule)."""
    rule = ctx.db.get(QualityRule, rule_id)
    if rule is None:
        raise NotFound(f"质量规则 {rule_id} 不存在。", f"Quality rule {rule_id} does not exist.")
    require(ctx, "view_quality", rule.unit_id, str(rule_id))
    return rule.resource_code


def update_quality_rule(ctx: Ctx, rule_id: int, data: RuleIn) -> RuleOut:
    """Change a rule (kind, column, parameters, weight); it runs so from the next load on."""
    rule = _active_rule(ctx, rule_id)
    require(ctx, "update_quality_rule", rule.unit_id, str(rule_id))
    validate_rule(
        RuleSpec(data.kind, data.column, data.params), _known_columns(ctx, rule.resource_code)
    )
    rule.kind = data.kind
    rule.column_name = data.column
    rule.params = data.params
    rule.weight = data.weight
    ctx.db.flush()
    record(ctx, RuleUpdated(rule.id, rule.resource_code, rule.unit_id, rule.kind, rule.column_name))
    return _rule_out(rule)


def delete_quality_rule(ctx: Ctx, rule_id: int) -> None:
    """Stop running a rule. Its past results and issues stay (they are history)."""
    rule = _active_rule(ctx, rule_id)
    require(ctx, "delete_quality_rule", rule.unit_id, str(rule_id))
    rule.active = False
    ctx.db.flush()
    record(ctx, RuleDeleted(rule.id, rule.resource_code, rule.unit_id, rule.kind, rule.column_name))


def list_quality_rules(ctx: Ctx, resource_code: str) -> list[RuleOut]:
    """The rules a dataset's loads are checked against (deleted ones are not listed)."""
    unit_id, *_ = lake.entry_facts(ctx, resource_code)
    require(ctx, "view_quality", unit_id, resource_code)
    rules = ctx.db.scalars(
        select(QualityRule)
        .where(
            QualityRule.resource_code == resource_code,
            QualityRule.active.is_(True),
            QualityRule.kind != RuleKind.CROSS_SOURCE,
        )
        .order_by(QualityRule.id)
    )
    return [_rule_out(r) for r in rules]


def rule_sheet(ctx: Ctx, resource_code: str) -> RuleSheet | None:
    """For the dataset page: its rules, the columns to pick from and whether the reader may
    edit; None when the reader may not see quality findings of this dataset."""
    unit_id, _name, _cycle, items = lake.entry_facts(ctx, resource_code)
    if not allowed(ctx, "view_quality", unit_id):
        return None
    current = lake.current_version(ctx, resource_code)
    columns = [c.name for c in current[1].columns] if current else [name for name, _ in items]
    return RuleSheet(
        rules=list_quality_rules(ctx, resource_code),
        can_edit=allowed(ctx, "define_quality_rule", unit_id),
        columns=columns,
    )


def _mask_sample(values: list[str], category: Category | None) -> list[str]:
    if category is None:
        return values
    from shuzhi.lake.analysis import mask_value

    return [mask_value(v, category) for v in values]


# A value a check quotes in its message (the freshness check's newest date).
_QUOTED_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _mask_message(message: str, category: Category | None) -> str:
    """A check's message with the column's values it quotes masked as the samples are."""
    if category is None:
        return message
    from shuzhi.lake.analysis import mask_value

    return _QUOTED_DATE.sub(lambda m: mask_value(m.group(0), category), message)


def _column_of(columns: Iterable[tuple[str, str]], rule: QualityRule) -> str:
    """The version's name of the rule's column (a rule may name the source's header)."""
    column = rule.column_name or ""
    return next((name for name, source_name in columns if column in (name, source_name)), "")


# What a check says about itself beside its counts (``Outcome.message``), said in Chinese.
_OUTCOME_ZH: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^no update cycle promise$"), "目录未约定更新周期"),
    (re.compile(r"^no readable date in the column$"), "该列没有可识别的日期"),
    (re.compile(r"^newest (.+)$"), r"最新日期 \1"),
    (re.compile(r"^column '(.+)' is missing$"), r"缺少列 \1"),
    (re.compile(r"^referenced dataset has no current version$"), "被参照的数据集没有当前版本"),
)


def outcome_text(message: str, locale: str) -> str:
    """A check's own remark (stored in English) for the reader."""
    if locale == "en":
        return message
    for pattern, zh in _OUTCOME_ZH:
        if pattern.match(message):
            return pattern.sub(zh, message)
    return message


def _summary(rule: QualityRule, outcome: Outcome) -> str:
    where = f" {rule.column_name}" if rule.column_name else ""
    text = f"{rule.kind}{where}: {outcome.failing} of {outcome.checked} failing"
    return f"{text} ({outcome.message})" if outcome.message else text


@dataclass(frozen=True)
class QualityPlan:
    """A dataset's active rules and what they refer to, read before the checks run."""

    rules: list[QualityRule]
    specs: list[RuleSpec]
    references: dict[int, Version | None]
    max_age: timedelta | None

    def run(
        self, engine: QueryEngine, version: Version, now: datetime | None = None
    ) -> list[Outcome]:
        """Evaluate every rule; reads only the lake, so it may run beside other work."""
        return evaluate_all(
            engine,
            version,
            self.specs,
            references=self.references,
            max_age=self.max_age,
            now=now,
        )


def plan_checks(ctx: Ctx, resource_code: str) -> QualityPlan:
    """For ``lake.service.ingest``: the active rules of a dataset, ready to run on a version."""
    rules = list(
        ctx.db.scalars(
            select(QualityRule)
            .where(
                QualityRule.resource_code == resource_code,
                QualityRule.active.is_(True),
                QualityRule.kind != RuleKind.CROSS_SOURCE,
            )
            .order_by(QualityRule.id)
        )
    )
    specs = [RuleSpec(RuleKind(r.kind), r.column_name, dict(r.params)) for r in rules]
    references: dict[int, Version | None] = {}
    for index, spec in enumerate(specs):
        if spec.kind is RuleKind.REFERENCE:
            found = lake.current_version(ctx, str(spec.params.get("resource_code", "")))
            references[index] = found[1] if found else None
    max_age = lake.cycle_period(lake.update_cycle_of(ctx, resource_code))
    return QualityPlan(rules, specs, references, max_age)


def record_checks(
    ctx: Ctx,
    plan: QualityPlan,
    outcomes: list[Outcome],
    resource_code: str,
    unit_id: int,
    version_key: int,
    number: int,
    version: Version,
    hidden: dict[str, Category],
    reject_ratio: float,
) -> float | None:
    """Store what the rules found in a freshly loaded version, raise issues; return its score
    (None when the dataset has no rules: there is nothing to score it against).

    Called by ``lake.service.ingest`` inside the load's unit of work (the load was already
    authorised); results, issues and the audit record commit or roll back with the load.
    """
    weighted, weights, failing_rules = 1.0 - reject_ratio, 1.0, 0
    columns = [(c.name, c.source_name) for c in version.columns]
    for rule, found in zip(plan.rules, outcomes, strict=True):
        category = hidden.get(_column_of(columns, rule))
        outcome = replace(
            found,
            sample=_mask_sample(found.sample, category),
            message=_mask_message(found.message, category),
        )
        ctx.db.add(
            QualityResult(
                resource_code=resource_code,
                version_key=version_key,
                version_number=number,
                rule_id=rule.id,
                checked=outcome.checked,
                failing=outcome.failing,
                sample_json=outcome.sample,
                message=outcome.message,
            )
        )
        rate = 1.0 - outcome.failing / outcome.checked if outcome.checked else 1.0
        weighted += rule.weight * max(0.0, rate)
        weights += rule.weight
        if outcome.failing:
            failing_rules += 1
            _raise_issue(ctx, rule, unit_id, number, outcome)
    score = round(100.0 * weighted / weights, 1) if plan.rules else None
    record(ctx, VersionChecked(resource_code, unit_id, number, score, failing_rules))
    return score


def check_version(
    ctx: Ctx,
    resource_code: str,
    unit_id: int,
    version_key: int,
    number: int,
    version: Version,
    hidden: dict[str, Category],
    reject_ratio: float,
    now: datetime | None = None,
) -> float | None:
    """Run every active rule on a freshly loaded version; return its score (see
    ``record_checks``)."""
    plan = plan_checks(ctx, resource_code)
    outcomes = plan.run(lake.query_engine(ctx), version, now)
    return record_checks(
        ctx,
        plan,
        outcomes,
        resource_code,
        unit_id,
        version_key,
        number,
        version,
        hidden,
        reject_ratio,
    )


def on_version_written(ctx: Ctx, event: hooks.VersionWritten) -> None:
    """Subscriber: check every freshly written version. The rules run beside the lake's own
    analysis; their results, issues and the score are stored once the version is registered."""
    plan = plan_checks(ctx, event.resource_code)
    engine = lake.query_engine(ctx)

    def run() -> hooks.Finish:
        outcomes = plan.run(engine, event.version)

        def finish(ctx: Ctx, loaded: hooks.VersionLoaded) -> None:
            score = record_checks(
                ctx,
                plan,
                outcomes,
                loaded.resource_code,
                loaded.unit_id,
                loaded.version_key,
                loaded.number,
                loaded.version,
                dict(loaded.hidden),
                loaded.reject_ratio,
            )
            lake.set_quality_score(ctx, loaded.version_key, score)

        return finish

    event.alongside.append(run)


def _raise_issue(ctx: Ctx, rule: QualityRule, unit_id: int, number: int, outcome: Outcome) -> None:
    issue = ctx.db.scalar(
        select(QualityIssue).where(
            QualityIssue.rule_id == rule.id, QualityIssue.status.in_(LIVE_ISSUES)
        )
    )
    if issue is None:
        issue = QualityIssue(
            resource_code=rule.resource_code, unit_id=unit_id, rule_id=rule.id, status="open"
        )
        ctx.db.add(issue)
    issue.version_number, issue.failing = number, outcome.failing
    issue.summary = _summary(rule, outcome)
    ctx.db.flush()


def on_version_rejected(ctx: Ctx, event: hooks.VersionRejected) -> None:
    """Subscriber: a rejected version's findings are not the unit's to fix.

    A live issue that now points at the rejected version either goes back to what the
    current version found for the same rule (when that failed too), or is withdrawn (deleted;
    the rejected version's results stay stored with it, and the audit log records the count).
    """
    issues = ctx.db.scalars(
        select(QualityIssue).where(
            QualityIssue.resource_code == event.resource_code,
            QualityIssue.version_number == event.number,
            QualityIssue.status.in_(LIVE_ISSUES),
        )
    ).all()
    if not issues:
        return
    current = lake.current_version(ctx, event.resource_code)
    withdrawn = restored = 0
    for issue in issues:
        found = None
        if current is not None:
            found = ctx.db.scalar(
                select(QualityResult).where(
                    QualityResult.resource_code == event.resource_code,
                    QualityResult.version_number == current[0].number,
                    QualityResult.rule_id == issue.rule_id,
                    QualityResult.failing > 0,
                )
            )
        rule = ctx.db.get(QualityRule, issue.rule_id)
        if found is None or rule is None or current is None:
            ctx.db.delete(issue)
            withdrawn += 1
            continue
        outcome = Outcome(found.checked, found.failing, message=found.message)
        issue.version_number, issue.failing = current[0].number, found.failing
        issue.summary = _summary(rule, outcome)
        restored += 1
    ctx.db.flush()
    record(
        ctx,
        RejectedVersionIssuesWithdrawn(
            event.resource_code, event.unit_id, event.number, withdrawn, restored
        ),
    )


def version_results(ctx: Ctx, resource_code: str, number: int) -> list[ResultOut]:
    """What each rule found in one version. Samples are stored masked as the column was at
    the load, and masked again as the lake shows the version now (``lake.hidden_columns_of``),
    so that a later override or stricter classification reaches old results too."""
    version = lake.get_dataset_version(ctx, resource_code, number)  # checks permission
    hidden = lake.hidden_columns_of(ctx, resource_code, version.number)
    columns = [(c.name, c.source_name) for c in version.columns]
    rows = ctx.db.execute(
        select(QualityResult, QualityRule)
        .join(QualityRule, QualityRule.id == QualityResult.rule_id)
        .where(
            QualityResult.resource_code == resource_code,
            QualityResult.version_number == version.number,
        )
        .order_by(QualityRule.id)
    ).all()
    return [
        ResultOut(
            rule_id=rule.id,
            kind=RuleKind(rule.kind),
            column=rule.column_name,
            checked=res.checked,
            failing=res.failing,
            pass_rate=round(1 - res.failing / res.checked, 4) if res.checked else 1.0,
            sample=_mask_sample(res.sample_json, hidden.get(_column_of(columns, rule))),
            message=_mask_message(res.message, hidden.get(_column_of(columns, rule))),
        )
        for res, rule in rows
    ]


def _issue_out(ctx: Ctx, issue: QualityIssue, rule: QualityRule) -> IssueOut:
    unit = org.unit_brief(ctx, issue.unit_id)
    return IssueOut(
        id=issue.id,
        resource_code=issue.resource_code,
        unit_code=unit.code if unit else "",
        unit_name=unit.name if unit else "",
        rule_id=rule.id,
        kind=RuleKind(rule.kind),
        column=rule.column_name,
        version_number=issue.version_number,
        failing=issue.failing,
        summary=issue.summary,
        status=IssueStatus(issue.status),
        fixed_by=issue.fixed_by,
        fix_note=issue.fix_note,
        verified_by=issue.verified_by,
        created_at=issue.created_at,
    )


def list_quality_issues(
    ctx: Ctx, *, status: IssueStatus | None = None, resource_code: str | None = None
) -> list[IssueOut]:
    """Issues, per unit: unit staff see their own unit's, the bureau sees all."""
    scope = scope_unit(ctx, "view_quality")
    query = select(QualityIssue, QualityRule).join(
        QualityRule, QualityRule.id == QualityIssue.rule_id
    )
    if scope is not None:
        query = query.where(QualityIssue.unit_id == scope)
    if status is not None:
        query = query.where(QualityIssue.status == status)
    if resource_code:
        query = query.where(QualityIssue.resource_code == resource_code)
    rows = ctx.db.execute(query.order_by(QualityIssue.unit_id, QualityIssue.id.desc())).all()
    return [_issue_out(ctx, i, r) for i, r in rows]


def _issue(ctx: Ctx, issue_id: int) -> tuple[QualityIssue, QualityRule]:
    row = ctx.db.execute(
        select(QualityIssue, QualityRule)
        .join(QualityRule, QualityRule.id == QualityIssue.rule_id)
        .where(QualityIssue.id == issue_id)
    ).first()
    if row is None:
        raise NotFound(f"质量问题 {issue_id} 不存在。", f"Quality issue {issue_id} does not exist.")
    return row[0], row[1]


def mark_issue_fixed(ctx: Ctx, issue_id: int, note: str = "") -> IssueOut:
    """The source unit says it corrected the data."""
    issue, rule = _issue(ctx, issue_id)
    require(ctx, "mark_issue_fixed", issue.unit_id, str(issue_id))
    if issue.status != IssueStatus.OPEN:
        raise Conflict(
            "只有未处理的问题可以标记为已整改。", "Only open issues can be marked fixed."
        )
    issue.status, issue.fixed_by, issue.fixed_at = IssueStatus.FIXED, ctx.actor.label, utcnow()
    issue.fix_note = note.strip()
    ctx.db.flush()
    record(ctx, IssueFixed(issue.id, issue.resource_code, issue.unit_id, note.strip()))
    return _issue_out(ctx, issue, rule)


def verify_issue(ctx: Ctx, issue_id: int, note: str = "") -> IssueOut:
    """The bureau or the unit CDO confirms the fix."""
    issue, rule = _issue(ctx, issue_id)
    require(ctx, "verify_issue", issue.unit_id, str(issue_id))
    if issue.status != IssueStatus.FIXED:
        raise Conflict("只有已整改的问题可以核验。", "Only fixed issues can be verified.")
    issue.status = IssueStatus.VERIFIED
    issue.verified_by, issue.verified_at = ctx.actor.label, utcnow()
    ctx.db.flush()
    record(ctx, IssueVerified(issue.id, issue.resource_code, issue.unit_id, note.strip()))
    return _issue_out(ctx, issue, rule)


def quality_scores(ctx: Ctx) -> ScoreBoard:
    """Score per entry (its current version) and per unit (mean of its scored entries).

    An entry whose dataset has no rules has no score (``reason="no_rules"``), never 100.
    """
    scope = scope_unit(ctx, "view_quality")
    current = lake.current_scores(ctx)
    units = {u.id: u for u in org.all_unit_briefs(ctx)}
    open_counts = dict(
        ctx.db.execute(
            select(QualityIssue.unit_id, func.count())
            .where(QualityIssue.status.in_(LIVE_ISSUES))
            .group_by(QualityIssue.unit_id)
        ).all()
    )
    entries: list[EntryScore] = []
    per_unit: dict[int, list[float | None]] = {}
    for code, unit_id, number, score in current:
        if scope is not None and unit_id != scope:
            continue
        unit = units.get(unit_id)
        entries.append(
            EntryScore(
                resource_code=code,
                unit_code=unit.code if unit else "",
                version_number=number,
                score=score,
                reason=NO_RULES if score is None else None,
            )
        )
        per_unit.setdefault(unit_id, []).append(score)
    out = []
    for u, all_scores in sorted(per_unit.items()):
        scores = [s for s in all_scores if s is not None]
        out.append(
            UnitScore(
                unit_code=units[u].code if u in units else "",
                unit_name=units[u].name if u in units else "",
                entries=len(all_scores),
                scored_entries=len(scores),
                score=round(sum(scores) / len(scores), 1) if scores else None,
                reason=None if scores else NO_RULES,
                open_issues=int(open_counts.get(u, 0)),
            )
        )
    return ScoreBoard(entries=entries, units=out)
