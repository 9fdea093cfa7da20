"""Releases: figures leaving the sandbox. An answered query's figures, exactly as answered,
become a release request that every provider unit whose data the query touched approves or
refuses (with a reason); templates a provider pre-approved are released without review.
Only approved releases can be downloaded, as formula-safe CSV or XLSX.

Also the sandbox's use per unit, which the cockpit reads (``use_per_unit``)."""

from __future__ import annotations

import io
import re
from typing import Any

from sqlalchemy import func, select

from shuzhi.audit import service as audit
from shuzhi.auth.permissions import deny, require, scope_unit
from shuzhi.context import Ctx
from shuzhi.db.base import utcnow
from shuzhi.errors import Conflict, ErrorCollector, Invalid, NotFound
from shuzhi.org import service as org
from shuzhi.sandbox import checker, service
from shuzhi.sandbox.events import (
    ReleaseDownloaded,
    ReleaseRequested,
    ReleaseReviewed,
    TemplateCreated,
)
from shuzhi.sandbox.models import (
    QueryStatus,
    ReleaseStatus,
    ReleaseTarget,
    SandboxQuery,
    SandboxQueryDataset,
    SandboxRelease,
    SandboxReleaseReview,
    SandboxResult,
    SandboxTemplate,
)
from shuzhi.sandbox.rules import QueryRefused
from shuzhi.sandbox.schemas import (
    QueryIn,
    QueryOut,
    ReleaseDecisionIn,
    ReleaseIn,
    ReleaseOut,
    ReviewOut,
    SandboxUseOut,
    TemplateIn,
    TemplateOut,
    TemplateRunIn,
    TemplateRunOut,
)
from shuzhi.security import cells
from shuzhi.sharing.grants import AppPrincipal
from shuzhi.validation import required_reason

PARAMETER = re.compile(r"\{([a-z_][a-z0-9_]{0,39})\}")
FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


# ---- answers kept for release -----------------------------------------------------------


def answer_query(
    ctx: Ctx,
    data: QueryIn,
    *,
    application: AppPrincipal | None = None,
    unit_code: str | None = None,
) -> QueryOut:
    """``service.run_query``, keeping the answer exactly as released so that it can be
    asked to leave the sandbox later (a refusal keeps nothing)."""
    answer = service.run_query(ctx, data, application=application, unit_code=unit_code)
    ctx.db.add(SandboxResult(query_id=answer.id, answer=answer.model_dump(mode="json")))
    return answer


# ---- release requests -------------------------------------------------------------------


def _query_of_caller(ctx: Ctx, query_id: int, application: AppPrincipal | None) -> SandboxQuery:
    row = ctx.db.get(SandboxQuery, query_id)
    if row is None or (
        application is not None and row.application_id != application.application_id
    ):
        raise NotFound("沙箱查询不存在。", "No such sandbox query.")
    require(ctx, "request_sandbox_release", row.unit_id, f"sandbox_query:{query_id}")
    if row.status != QueryStatus.DONE:
        raise Invalid.field(
            "query_id",
            "被拒绝的查询没有可发布的结果。",
            "A refused query has no figures to release.",
        )
    return row


def _file(
    ctx: Ctx,
    query: SandboxQuery,
    purpose: str,
    target: str,
    template: SandboxTemplate | None = None,
) -> SandboxRelease:
    kept = ctx.db.get(SandboxResult, query.id)
    if kept is None:
        raise Invalid.field(
            "query_id",
            "该查询的结果未保存（须在沙箱中运行后申请发布）。",
            "This query's answer was not kept: run it in the sandbox, then ask to release it.",
        )
    purpose = purpose.strip()
    if not purpose:
        raise Invalid.field("purpose", "请填写用途。", "Give the purpose of the release.")
    providers = sorted(
        set(
            ctx.db.scalars(
                select(SandboxQueryDataset.provider_unit_id).where(
                    SandboxQueryDataset.query_id == query.id
                )
            )
        )
    )
    now = utcnow()
    release = SandboxRelease(
        query_id=query.id,
        unit_id=query.unit_id,
        requested_by=ctx.actor.label,
        purpose=purpose,
        target=ReleaseTarget(target),
        figures=dict(kept.answer),
        status=ReleaseStatus.PENDING,
        template_id=template.id if template else None,
    )
    ctx.db.add(release)
    ctx.db.flush()
    for unit in providers:
        review = SandboxReleaseReview(
            release_id=release.id, provider_unit_id=unit, status=ReleaseStatus.PENDING
        )
        if template is not None and unit == template.provider_unit_id:
            review.status, review.decided_at = ReleaseStatus.APPROVED, now
            review.decided_by = f"template:{template.id}"
            review.reason = template.name
        ctx.db.add(review)
    ctx.db.flush()
    _settle(ctx, release)
    audit.record(
        ctx,
        ReleaseRequested(
            release_id=release.id,
            unit=query.unit_id,
            query_id=query.id,
            target=target,
            purpose=purpose,
            providers=providers,
            template_id=template.id if template else None,
        ),
    )
    return release


def _reviews(ctx: Ctx, release_id: int) -> list[SandboxReleaseReview]:
    return list(
        ctx.db.scalars(
            select(SandboxReleaseReview)
            .where(SandboxReleaseReview.release_id == release_id)
            .order_by(SandboxReleaseReview.provider_unit_id)
        )
    )


def _settle(ctx: Ctx, release: SandboxRelease) -> None:
    """Refused when any provider refused; approved when every provider approved."""
    states = {r.status for r in _reviews(ctx, release.id)}
    if ReleaseStatus.REFUSED in states:
        release.status = ReleaseStatus.REFUSED
    elif states <= {ReleaseStatus.APPROVED}:
        release.status = ReleaseStatus.APPROVED
    else:
        return
    release.decided_at = utcnow()


def _out(ctx: Ctx, release: SandboxRelease) -> ReleaseOut:
    query = ctx.db.get(SandboxQuery, release.query_id)
    figures = release.figures
    return ReleaseOut(
        id=release.id,
        query_id=release.query_id,
        unit_id=release.unit_id,
        requested_by=release.requested_by,
        purpose=release.purpose,
        target=release.target.value,
        status=release.status.value,
        sql=query.sql if query is not None else "",
        columns=list(figures.get("columns", [])),
        rows=list(figures.get("rows", [])),
        suppressed=figures.get("suppressed"),
        epsilon_spent=figures.get("epsilon_spent"),
        intervals=figures.get("intervals"),
        template_id=release.template_id,
        reviews=[
            ReviewOut(
                provider_unit_id=r.provider_unit_id,
                status=r.status.value,
                reason=r.reason,
                decided_by=r.decided_by,
                decided_at=r.decided_at,
            )
            for r in _reviews(ctx, release.id)
        ],
        created_at=release.created_at,
        decided_at=release.decided_at,
    )


def request_release(
    ctx: Ctx, data: ReleaseIn, *, application: AppPrincipal | None = None
) -> ReleaseOut:
    """Ask to take one answered query's figures (as answered) out of the sandbox."""
    query = _query_of_caller(ctx, data.query_id, application)
    return _out(ctx, _file(ctx, query, data.purpose, data.target))


def _release(ctx: Ctx, release_id: int) -> SandboxRelease:
    release = ctx.db.get(SandboxRelease, release_id)
    if release is None:
        raise NotFound("发布申请不存在。", "No such release request.")
    return release


def decide_release(ctx: Ctx, release_id: int, data: ReleaseDecisionIn) -> ReleaseOut:
    """A provider unit's CDO approves or refuses (with a reason) its part of a release."""
    release = _release(ctx, release_id)
    reviews = _reviews(ctx, release.id)
    mine = [r for r in reviews if r.provider_unit_id == ctx.actor.unit_id]
    target = f"sandbox_release:{release.id}"
    require(
        ctx,
        "decide_sandbox_release",
        mine[0].provider_unit_id if mine else (reviews[0].provider_unit_id if reviews else -1),
        target,
    )
    if not mine:
        raise deny(
            "decide_sandbox_release",
            target,
            "只有所用数据的提供单位可以审核发布。",
            "Only a unit whose data the query used may review the release.",
        )
    if release.requested_by == ctx.actor.label:
        raise deny(
            "decide_sandbox_release",
            target,
            "不能审核自己提出的发布申请。",
            "You cannot review a release you asked for.",
        )
    review = mine[0]
    if release.status != ReleaseStatus.PENDING or review.status != ReleaseStatus.PENDING:
        raise Conflict("该发布申请已审核。", "This release has already been reviewed.")
    if data.approve:
        reason = data.reason.strip()
    else:
        reason = required_reason(data.reason, "拒绝发布", "Refusing a release")
    review.status = ReleaseStatus.APPROVED if data.approve else ReleaseStatus.REFUSED
    review.reason = reason or None
    review.decided_by, review.decided_at = ctx.actor.label, utcnow()
    ctx.db.flush()
    _settle(ctx, release)
    audit.record(
        ctx,
        ReleaseReviewed(
            release_id=release.id,
            unit=review.provider_unit_id,
            approve=data.approve,
            reason=reason,
            status=release.status.value,
        ),
    )
    return _out(ctx, release)


def list_releases(
    ctx: Ctx, unit_code: str | None = None, status: str | None = None, limit: int = 100
) -> list[ReleaseOut]:
    """Releases asked by a unit or awaiting its review (default: your unit), newest first."""
    scoped = scope_unit(ctx, "view_sandbox_releases")
    unit = scoped
    if unit_code is not None:
        unit = service._unit(ctx, unit_code)
        require(ctx, "view_sandbox_releases", unit)
    query = select(SandboxRelease).order_by(SandboxRelease.id.desc())
    if unit is not None:
        query = query.where(
            (SandboxRelease.unit_id == unit)
            | SandboxRelease.id.in_(
                select(SandboxReleaseReview.release_id).where(
                    SandboxReleaseReview.provider_unit_id == unit
                )
            )
        )
    if status is not None:
        query = query.where(SandboxRelease.status == ReleaseStatus(status))
    rows = ctx.db.scalars(query.limit(max(1, min(limit, 500))))
    return [_out(ctx, r) for r in rows]


def product_release(ctx: Ctx, release_id: int) -> tuple[ReleaseOut, list[str]] | None:
    """An approved release meant for a data product, with the resources its query used: the
    market's hand-off (the market checks that the unit building the product asked for it).
    None when there is no such release, or it is not approved for a data product."""
    release = ctx.db.get(SandboxRelease, release_id)
    if (
        release is None
        or release.status != ReleaseStatus.APPROVED
        or release.target != ReleaseTarget.DATA_PRODUCT
    ):
        return None
    codes = ctx.db.scalars(
        select(SandboxQueryDataset.resource_code)
        .where(SandboxQueryDataset.query_id == release.query_id)
        .order_by(SandboxQueryDataset.resource_code)
    ).all()
    return _out(ctx, release), list(codes)


def release_file(
    ctx: Ctx, release_id: int, fmt: str = "csv", *, application: AppPrincipal | None = None
) -> tuple[bytes, str, str]:
    """An approved release as a file: (content, media type, file name). Formula-safe."""
    if fmt not in FORMATS:
        raise Invalid.field("format", "格式须为 csv 或 xlsx。", "The format must be csv or xlsx.")
    release = _release(ctx, release_id)
    require(ctx, "download_sandbox_release", release.unit_id, f"sandbox_release:{release_id}")
    query = ctx.db.get(SandboxQuery, release.query_id)
    if application is not None and (
        query is None or query.application_id != application.application_id
    ):
        raise NotFound("发布申请不存在。", "No such release request.")
    if release.status != ReleaseStatus.APPROVED:
        raise NotFound(
            "该发布申请尚未批准，结果不能离开沙箱。",
            "This release has not been approved: its figures cannot leave the sandbox.",
        )
    columns, rows = _table(release.figures)
    if fmt == "csv":
        text = io.StringIO()
        writer = cells.csv_writer(text)
        writer.writerow(columns)
        writer.writerows(rows)
        content = ("\ufeff" + text.getvalue()).encode("utf-8")
    else:
        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.title = f"release-{release.id}"
        sheet.append(columns)
        for row in rows:
            sheet.append(row)
        cells.seal_workbook(book)
        out = io.BytesIO()
        book.save(out)
        content = out.getvalue()
    audit.record(ctx, ReleaseDownloaded(release_id=release.id, unit=release.unit_id, format=fmt))
    return content, FORMATS[fmt], f"sandbox-release-{release.id}.{fmt}"


def release_table(release: ReleaseOut) -> tuple[list[str], list[list[Any]]]:
    """An approved release's table exactly as its download has it (header, rows): what a data
    product built from it delivers."""
    return _table(
        {"columns": release.columns, "rows": release.rows, "intervals": release.intervals}
    )


def _table(figures: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """The released table; under differential privacy each noisy figure is followed by its
    95 % interval (two columns)."""
    columns = list(figures.get("columns", []))
    rows = [list(r) for r in figures.get("rows", [])]
    intervals = figures.get("intervals")
    if not intervals:
        return columns, rows
    noisy = [j for j in range(len(columns)) if any(iv[j] is not None for iv in intervals)]
    header: list[str] = []
    for j, name in enumerate(columns):
        header.append(name)
        if j in noisy:
            header += [f"{name} 95% 下限 low", f"{name} 95% 上限 high"]
    table = []
    for row, iv in zip(rows, intervals, strict=True):
        out: list[Any] = []
        for j, value in enumerate(row):
            out.append(value)
            if j in noisy:
                out += list(iv[j]) if iv[j] is not None else [None, None]
        table.append(out)
    return header, table


# ---- templates --------------------------------------------------------------------------


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        raise TypeError("no booleans")
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def _fill(sql: str, values: dict[str, Any]) -> str:
    return PARAMETER.sub(lambda m: _literal(values[m.group(1)]), sql)


def _template_out(t: SandboxTemplate) -> TemplateOut:
    return TemplateOut(
        id=t.id,
        provider_unit_id=t.provider_unit_id,
        name=t.name,
        sql=t.sql,
        parameters={k: list(v) for k, v in t.parameters.items()},
        targets=list(t.targets.get("targets", [])),
        created_by=t.created_by,
        active=t.active,
    )


def create_template(ctx: Ctx, data: TemplateIn, unit_code: str | None = None) -> TemplateOut:
    """A provider unit's CDO pre-approves a parameterised query over the unit's data."""
    unit = ctx.actor.unit_id if unit_code is None else service._unit(ctx, unit_code)
    require(ctx, "manage_sandbox_templates", unit)
    assert unit is not None
    errors = ErrorCollector()
    used = set(PARAMETER.findall(data.sql))
    for name in sorted(used - set(data.parameters)):
        errors.add(
            "parameters",
            f"参数「{name}」没有允许的取值。",
            f"Parameter {name!r} has no allowed values.",
        )
    for name in sorted(set(data.parameters) - used):
        errors.add(
            "parameters", f"查询中没有参数「{name}」。", f"The query has no parameter {name!r}."
        )
    if not errors.errors:
        try:
            checker.parse(_fill(data.sql, {k: v[0] for k, v in data.parameters.items()}))
        except QueryRefused as err:
            errors.add("sql", err.message.zh, err.message.en)
    errors.raise_if_any()
    row = SandboxTemplate(
        provider_unit_id=unit,
        name=data.name.strip(),
        sql=data.sql,
        parameters={k: list(v) for k, v in data.parameters.items()},
        targets={"targets": list(dict.fromkeys(data.targets))},
        created_by=ctx.actor.label,
        active=True,
    )
    ctx.db.add(row)
    ctx.db.flush()
    audit.record(
        ctx,
        TemplateCreated(
            template_id=row.id, unit=unit, name=row.name, sql=row.sql, parameters=row.parameters
        ),
    )
    return _template_out(row)


def list_templates(ctx: Ctx) -> list[TemplateOut]:
    """The active templates (a template holds no data, only a query the provider allows)."""
    require(ctx, "view_sandbox_templates")
    rows = ctx.db.scalars(
        select(SandboxTemplate).where(SandboxTemplate.active.is_(True)).order_by(SandboxTemplate.id)
    )
    return [_template_out(t) for t in rows]


def run_template(
    ctx: Ctx,
    template_id: int,
    data: TemplateRunIn,
    *,
    application: AppPrincipal | None = None,
    unit_code: str | None = None,
) -> TemplateRunOut:
    """Run a template with allowed values: checked and answered like any query, and its
    figures released at once as far as the template's provider is concerned (other
    providers whose data it touches still review)."""
    template = ctx.db.get(SandboxTemplate, template_id)
    if template is None or not template.active:
        raise NotFound("查询模板不存在。", "No such query template.")
    errors = ErrorCollector()
    for name, allowed in template.parameters.items():
        if name not in data.parameters:
            errors.add(
                f"parameters.{name}", f"请为「{name}」选一个值。", f"Choose a value for {name!r}."
            )
        elif data.parameters[name] not in allowed or isinstance(data.parameters[name], bool):
            errors.add(
                f"parameters.{name}",
                f"「{name}」的取值不在模板允许的范围内。",
                f"The value of {name!r} is not one the template allows.",
            )
    for name in sorted(set(data.parameters) - set(template.parameters)):
        errors.add(
            f"parameters.{name}",
            f"模板没有参数「{name}」。",
            f"The template has no parameter {name!r}.",
        )
    if data.target not in template.targets.get("targets", []):
        errors.add("target", "模板不允许该发布去向。", "The template does not allow this target.")
    errors.raise_if_any()
    sql = _fill(template.sql, dict(data.parameters))
    answer = answer_query(ctx, QueryIn(sql=sql), application=application, unit_code=unit_code)
    query = _query_of_caller(ctx, answer.id, application)
    release = _file(ctx, query, data.purpose, data.target, template)
    return TemplateRunOut(answer=answer, release=_out(ctx, release))


# ---- use per unit (cockpit) -------------------------------------------------------------


def use_per_unit(ctx: Ctx) -> list[SandboxUseOut]:
    """Per analyst unit the actor may see (region readers: all; unit staff: their own):
    queries answered and refused, releases asked and approved. The cockpit reads this.
    Not audited: counts only."""
    scoped = scope_unit(ctx, "view_sandbox_queries")
    counts: dict[int, dict[str, int]] = {}
    queries = select(SandboxQuery.unit_id, SandboxQuery.status, func.count()).group_by(
        SandboxQuery.unit_id, SandboxQuery.status
    )
    asked = select(SandboxRelease.unit_id, SandboxRelease.status, func.count()).group_by(
        SandboxRelease.unit_id, SandboxRelease.status
    )
    if scoped is not None:
        queries = queries.where(SandboxQuery.unit_id == scoped)
        asked = asked.where(SandboxRelease.unit_id == scoped)
    for unit, status, n in ctx.db.execute(queries):
        key = "answered" if status == QueryStatus.DONE else "refused"
        counts.setdefault(unit, {})[key] = int(n)
    for unit, state, n in ctx.db.execute(asked):
        c = counts.setdefault(unit, {})
        c["releases_requested"] = c.get("releases_requested", 0) + int(n)
        if state == ReleaseStatus.APPROVED:
            c["releases_approved"] = c.get("releases_approved", 0) + int(n)
    out = []
    for unit, c in counts.items():
        brief = org.unit_brief(ctx, unit)
        out.append(
            SandboxUseOut(
                unit_code=brief.code if brief else str(unit),
                unit_name=brief.name if brief else "",
                **c,
            )
        )
    return sorted(out, key=lambda u: u.unit_code)
