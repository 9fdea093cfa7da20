"""Findings from cross-checking a dataset against other sources, as quality issues.

Base libraries (``masterdata``) compare what several departments hold about one person
or enterprise; what they find wrong in a source is that source unit's to fix, so it enters
the unit's ordinary quality workflow here, one live issue per dataset and finding.
"""

from __future__ import annotations

from sqlalchemy import select

from shuzhi.context import Ctx
from shuzhi.quality.models import QualityIssue, QualityRule, RuleKind
from shuzhi.quality.service import LIVE_ISSUES


def report_cross_source_issue(
    ctx: Ctx,
    *,
    resource_code: str,
    unit_id: int,
    version_number: int,
    column: str | None,
    key: str,
    failing: int,
    summary: str,
) -> int:
    """For base libraries (``masterdata``): raise, or bring up to date, the live issue of a
    dataset for what cross-checking it against other sources found (``key`` names the
    finding, e.g. ``population:birth_date:values_differ``); returns the issue's id.

    One rule of kind ``cross_source`` per dataset and key stands for the finding, so a
    finding reported again by a later run updates the same live issue instead of adding
    one; once that issue is verified, a new finding opens a new one. Such rules never run
    on a load and are not listed with the dataset's rules. Called inside the library run's
    unit of work (the run was authorised); the issue commits or rolls back with the run.
    """
    rule = next(
        (
            r
            for r in ctx.db.scalars(
                select(QualityRule).where(
                    QualityRule.resource_code == resource_code,
                    QualityRule.kind == RuleKind.CROSS_SOURCE,
                )
            )
            if r.params.get("key") == key
        ),
        None,
    )
    if rule is None:
        rule = QualityRule(
            resource_code=resource_code,
            unit_id=unit_id,
            kind=RuleKind.CROSS_SOURCE,
            column_name=column,
            params={"key": key},
            weight=1.0,
            created_by=ctx.actor.label,
        )
        ctx.db.add(rule)
        ctx.db.flush()
    issue = ctx.db.scalar(
        select(QualityIssue).where(
            QualityIssue.rule_id == rule.id, QualityIssue.status.in_(LIVE_ISSUES)
        )
    )
    if issue is None:
        issue = QualityIssue(
            resource_code=resource_code, unit_id=unit_id, rule_id=rule.id, status="open"
        )
        ctx.db.add(issue)
    issue.version_number, issue.failing, issue.summary = version_number, failing, summary
    ctx.db.flush()
    return issue.id
