"""IT projects and the data gate (信息化项目数据关口).

At approval (立项) and at acceptance (验收) the project's declared data sets must be
catalogued: each names a catalogue entry (by resource code, or by the unit's entry of that
name) that exists and is published. At acceptance the data must also be aggregated; until
the aggregation capability exists ``aggregation_check`` answers "not yet checkable", and
the gate's outcome is ``incomplete`` rather than a pretended pass. Only ``failed`` blocks a
decision; every check is stored with its findings and audited.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from sqlalchemy import select

from shuzhi.audit.service import record
from shuzhi.auth.permissions import require, scope_unit
from shuzhi.catalog import service as catalog
from shuzhi.catalog.models import CatalogEntry, EntryStatus
from shuzhi.catalog.projects.events import (
    GateChecked,
    ProjectAccepted,
    ProjectApproved,
    ProjectCreated,
    ProjectUpdated,
)
from shuzhi.catalog.projects.models import (
    FindingStatus,
    GateCheck,
    GateOutcome,
    GateStage,
    ItProject,
    ProjectDataset,
    ProjectStatus,
)
from shuzhi.catalog.projects.schemas import (
    DatasetOut,
    Finding,
    GateResult,
    ProjectCreate,
    ProjectDecision,
    ProjectFields,
    ProjectOut,
    ProjectUpdate,
)
from shuzhi.context import Ctx
from shuzhi.db.base import utcnow
from shuzhi.errors import Conflict, Invalid, NotFound
from shuzhi.org import service as org
from shuzhi.validation import text_key

YUAN_PER_WAN = 10_000
STATUS_ZH = {
    EntryStatus.DRAFT: "草稿",
    EntryStatus.SUBMITTED: "待审核",
    EntryStatus.PUBLISHED: "已发布",
    EntryStatus.WITHDRAWN: "已撤销",
}


# ---------------------------------------------------------------- reading


def _project(ctx: Ctx, code: str) -> ItProject:
    project = ctx.db.scalar(select(ItProject).where(ItProject.code == code.strip()))
    if project is None:
        raise NotFound(f"信息化项目 {code} 不存在。", f"IT project {code} does not exist.")
    return project


def _gate_out(check: GateCheck) -> GateResult:
    return GateResult.model_validate(check, from_attributes=True)


def _out(ctx: Ctx, project: ItProject, *, history: bool = False) -> ProjectOut:
    unit = org.unit_brief(ctx, project.unit_id)
    datasets = ctx.db.scalars(
        select(ProjectDataset)
        .where(ProjectDataset.project_id == project.id)
        .order_by(ProjectDataset.position)
    )
    checks = list(
        ctx.db.scalars(
            select(GateCheck).where(GateCheck.project_id == project.id).order_by(GateCheck.id)
        )
    )
    gates = [_gate_out(c) for c in (checks if history else checks[-1:])]
    return ProjectOut(
        code=project.code,
        name=project.name,
        unit_code=unit.code if unit else "",
        unit_name=unit.name if unit else "",
        budget=Decimal(project.budget_yuan) / YUAN_PER_WAN,
        description=project.description,
        status=ProjectStatus(project.status),
        approval_date=project.approval_date,
        acceptance_date=project.acceptance_date,
        datasets=[
            DatasetOut(name=d.name, resource_code=d.resource_code, note=d.note) for d in datasets
        ],
        last_gate=gates[-1] if gates else None,
        gate_history=gates if history else [],
    )


def list_projects(ctx: Ctx, unit_code: str | None = None) -> list[ProjectOut]:
    """Projects with their latest gate result (unit staff: their own unit's)."""
    scope = scope_unit(ctx, "view_projects")
    query = select(ItProject).order_by(ItProject.code)
    if scope is not None:
        query = query.where(ItProject.unit_id == scope)
    if unit_code:
        query = query.where(ItProject.unit_id == (org.unit_id_for_code(ctx, unit_code) or 0))
    return [_out(ctx, p) for p in ctx.db.scalars(query)]


def get_project(ctx: Ctx, code: str) -> ProjectOut:
    project = _project(ctx, code)
    require(ctx, "view_projects", project.unit_id, target=code)
    return _out(ctx, project, history=True)


# ---------------------------------------------------------------- writing


def _write(ctx: Ctx, project: ItProject, data: ProjectFields) -> None:
    project.name = data.name
    project.budget_yuan = int((data.budget * YUAN_PER_WAN).to_integral_value())
    project.description = data.description
    names = [d.name for d in data.datasets]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise Invalid.field(
            "datasets",
            f"数据资源「{'、'.join(repeated)}」重复申报。",
            f"Data set(s) {', '.join(repeated)} declared twice.",
        )
    ctx.db.flush()
    ctx.db.query(ProjectDataset).filter(ProjectDataset.project_id == project.id).delete(
        synchronize_session=False
    )
    ctx.db.add_all(
        ProjectDataset(
            project_id=project.id,
            position=i,
            name=d.name,
            resource_code=d.resource_code,
            note=d.note,
        )
        for i, d in enumerate(data.datasets, start=1)
    )
    ctx.db.flush()


def create_project(ctx: Ctx, data: ProjectCreate) -> ProjectOut:
    """Record a unit's IT project with the data sets it will produce."""
    unit_id = org.unit_id_for_code(ctx, data.unit_code) if data.unit_code else ctx.actor.unit_id
    if unit_id is None:
        raise Invalid.field("unit_code", "请指定项目所属单位。", "Name the project's unit.")
    require(ctx, "create_project", unit_id, target=data.code)
    if ctx.db.scalar(select(ItProject.id).where(ItProject.code == data.code)) is not None:
        raise Conflict(f"项目编号 {data.code} 已存在。", f"Project code {data.code} exists.")
    project = ItProject(
        unit_id=unit_id,
        code=data.code,
        status=ProjectStatus.PROPOSED,
        created_by=ctx.actor.label,
    )
    ctx.db.add(project)
    _write(ctx, project, data)
    record(ctx, ProjectCreated(code=project.code, unit=unit_id, name=project.name))
    return _out(ctx, project, history=True)


def update_project(ctx: Ctx, code: str, data: ProjectUpdate) -> ProjectOut:
    """Change a project's details or declared data; an accepted project is closed."""
    project = _project(ctx, code)
    require(ctx, "update_project", project.unit_id, target=code)
    if project.status == ProjectStatus.ACCEPTED:
        raise Conflict("项目已验收，不能再修改。", "The project was accepted; it is closed.")
    _write(ctx, project, data)
    record(ctx, ProjectUpdated(code=project.code, unit=project.unit_id))
    return _out(ctx, project, history=True)


# ---------------------------------------------------------------- the gate


def aggregation_check(ctx: Ctx, resource_code: str) -> Finding:
    """Extension point: whether the entry's data is aggregated (归集) into the lake.

    The aggregation capability does not exist yet, so the honest answer is "not yet
    checkable"; when it does, this asks its service for the entry's latest dataset version.
    """
    return Finding(
        check="aggregated",
        status=FindingStatus.NOT_CHECKABLE,
        resource_code=resource_code,
        reason_zh="数据归集能力尚未上线，暂无法核验该资源是否已归集。",
        reason_en="Data aggregation is not available yet; whether it is aggregated cannot be"
        " checked.",
    )


def _code_by_name(ctx: Ctx, unit_id: int, name: str) -> str | None:
    return ctx.db.scalar(
        select(CatalogEntry.resource_code).where(
            CatalogEntry.unit_id == unit_id,
            CatalogEntry.name_key == text_key(name),
            CatalogEntry.status != EntryStatus.WITHDRAWN,
        )
    )


def _dataset_findings(ctx: Ctx, project: ItProject, d: ProjectDataset) -> Finding:
    code = d.resource_code or _code_by_name(ctx, project.unit_id, d.name)
    if not code:
        return Finding(
            check="catalogued",
            status=FindingStatus.FAILED,
            dataset=d.name,
            reason_zh=f"「{d.name}」未编目：没有填写信息资源代码，本单位也没有同名目录。",
            reason_en=f"'{d.name}' is not catalogued: no resource code and no entry of that"
            " name in the unit.",
        )
    try:
        entry = catalog.get_entry(ctx, code)
    except NotFound:
        return Finding(
            check="catalogued",
            status=FindingStatus.FAILED,
            dataset=d.name,
            resource_code=code,
            reason_zh=f"信息资源代码 {code} 不存在（或尚未发布）。",
            reason_en=f"Resource code {code} does not exist (or is not published).",
        )
    if entry.status == EntryStatus.WITHDRAWN:
        return Finding(
            check="published",
            status=FindingStatus.FAILED,
            dataset=d.name,
            resource_code=code,
            reason_zh=f"目录 {code} 已撤销。",
            reason_en=f"Entry {code} was withdrawn.",
        )
    if entry.published_version is None:
        return Finding(
            check="published",
            status=FindingStatus.FAILED,
            dataset=d.name,
            resource_code=code,
            reason_zh=f"目录 {code} 尚未发布（当前：{STATUS_ZH.get(entry.status, '')}）。",
            reason_en=f"Entry {code} is not published yet (now: {entry.status}).",
        )
    return Finding(
        check="published",
        status=FindingStatus.PASSED,
        dataset=d.name,
        resource_code=code,
        reason_zh=f"已编目并发布（{entry.name}，第 {entry.published_version} 版）。",
        reason_en=f"Catalogued and published ({entry.name}, version {entry.published_version}).",
    )


def evaluate_gate(
    ctx: Ctx, project: ItProject, stage: GateStage
) -> tuple[GateOutcome, list[Finding]]:
    """Every finding of the gate at a stage, and the outcome they add up to."""
    datasets = list(
        ctx.db.scalars(
            select(ProjectDataset)
            .where(ProjectDataset.project_id == project.id)
            .order_by(ProjectDataset.position)
        )
    )
    findings: list[Finding] = []
    if not datasets:
        findings.append(
            Finding(
                check="declared",
                status=FindingStatus.FAILED,
                reason_zh="项目未申报其产生的数据资源。",
                reason_en="The project declares no data sets it produces.",
            )
        )
    for d in datasets:
        finding = _dataset_findings(ctx, project, d)
        findings.append(finding)
        if stage == GateStage.ACCEPTANCE and finding.status == FindingStatus.PASSED:
            aggregated = aggregation_check(ctx, finding.resource_code or "")
            findings.append(aggregated.model_copy(update={"dataset": d.name}))
    statuses = {f.status for f in findings}
    if FindingStatus.FAILED in statuses:
        return GateOutcome.FAILED, findings
    if FindingStatus.NOT_CHECKABLE in statuses:
        return GateOutcome.INCOMPLETE, findings
    return GateOutcome.PASSED, findings


def _store(ctx: Ctx, project: ItProject, stage: GateStage) -> GateResult:
    outcome, findings = evaluate_gate(ctx, project, stage)
    check = GateCheck(
        project_id=project.id,
        stage=stage,
        outcome=outcome,
        findings=[f.model_dump(mode="json") for f in findings],
        checked_by=ctx.actor.label,
        checked_at=utcnow(),
    )
    ctx.db.add(check)
    ctx.db.flush()
    failed = sum(f.status == FindingStatus.FAILED for f in findings)
    record(
        ctx,
        GateChecked(
            code=project.code, unit=project.unit_id, stage=stage, outcome=outcome, failed=failed
        ),
    )
    return _gate_out(check)


def check_project_gate(ctx: Ctx, code: str, stage: GateStage) -> GateResult:
    """Run the gate now (e.g. before applying), keeping the result as evidence."""
    project = _project(ctx, code)
    require(ctx, "check_project_gate", project.unit_id, target=code)
    return _store(ctx, project, stage)


def _blocked(result: GateResult, code: str, stage: GateStage) -> Conflict:
    reasons_zh = "；".join(f.reason_zh for f in result.findings if f.status == "failed")
    reasons_en = "; ".join(f.reason_en for f in result.findings if f.status == "failed")
    step_zh = "立项" if stage == GateStage.APPROVAL else "验收"
    err = Conflict(
        f"项目 {code} 未通过数据编目关口，不能{step_zh}：{reasons_zh}",
        f"Project {code} fails the data gate and cannot be {stage}d: {reasons_en}",
    )
    return err


def _decide(
    ctx: Ctx,
    code: str,
    decision: ProjectDecision,
    stage: GateStage,
    from_status: ProjectStatus,
    to_status: ProjectStatus,
) -> ProjectOut:
    operation = "approve_project" if stage == GateStage.APPROVAL else "accept_project"
    project = _project(ctx, code)
    require(ctx, operation, project.unit_id, target=code)
    if project.status != from_status:
        raise Conflict(
            f"项目当前状态为「{project.status}」，不能执行此操作。",
            f"The project is '{project.status}'; this step is not possible now.",
        )
    result = _store(ctx, project, stage)
    if result.outcome == GateOutcome.FAILED:
        err = _blocked(result, code, stage)
        err.after_rollback = _keep_failed_check(project.id, stage)
        raise err
    day = decision.on or utcnow().date()
    project.status = to_status
    if stage == GateStage.APPROVAL:
        project.approval_date = day
        record(
            ctx,
            ProjectApproved(
                code=code, unit=project.unit_id, on=day.isoformat(), note=decision.note
            ),
        )
    else:
        project.acceptance_date = day
        record(
            ctx,
            ProjectAccepted(
                code=code, unit=project.unit_id, on=day.isoformat(), note=decision.note
            ),
        )
    ctx.db.flush()
    return _out(ctx, project, history=True)


def _keep_failed_check(project_id: int, stage: GateStage) -> Callable[[Ctx], None]:
    """The refused decision rolls back, but the failed check is evidence: store it again."""

    def hook(ctx: Ctx) -> None:
        project = ctx.db.get(ItProject, project_id)
        if project is not None:
            _store(ctx, project, stage)

    return hook


def approve_project(ctx: Ctx, code: str, decision: ProjectDecision) -> ProjectOut:
    """立项: allowed only when the gate does not fail."""
    return _decide(
        ctx, code, decision, GateStage.APPROVAL, ProjectStatus.PROPOSED, ProjectStatus.APPROVED
    )


def accept_project(ctx: Ctx, code: str, decision: ProjectDecision) -> ProjectOut:
    """验收: allowed only when the gate does not fail (aggregation may be not yet checkable)."""
    return _decide(
        ctx, code, decision, GateStage.ACCEPTANCE, ProjectStatus.APPROVED, ProjectStatus.ACCEPTED
    )
