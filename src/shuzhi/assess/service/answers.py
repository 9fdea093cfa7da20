"""A unit's answers: attestations and documents by its staff, platform indicators measured
by the platform; submitted for review before the deadline."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from shuzhi.assess import documents
from shuzhi.assess.events import (
    AnswerSaved,
    AnswersSubmitted,
    DocumentAttached,
    DocumentRead,
    EvidenceCollected,
)
from shuzhi.assess.facts import Facts
from shuzhi.assess.models import (
    AnswerState,
    AssessAnswer,
    AssessDocument,
    AssessRound,
    Evidence,
    Verdict,
)
from shuzhi.assess.probes import measure
from shuzhi.assess.schemas import AnswerIn, AnswerOut, DocumentOut, EvidenceLine
from shuzhi.assess.service.common import (
    answer_of,
    answer_out,
    answers_of,
    as_of,
    document_out,
    get_round,
    indicator_of,
    open_round,
    require_see,
    round_unit,
    today,
    unit_of,
    walk,
)
from shuzhi.assess.service.modelling import model_snapshot
from shuzhi.assess.service.rounds import visible_units
from shuzhi.audit.service import record
from shuzhi.auth.permissions import require
from shuzhi.context import Ctx
from shuzhi.db.base import utcnow
from shuzhi.db.cas import compare_and_set
from shuzhi.errors import Conflict, Invalid, NotFound
from shuzhi.org import service as org

MAX_DOCUMENTS = 10
PLATFORM = "platform"


def _before_deadline(r: AssessRound) -> None:
    if today() > r.deadline:
        raise Conflict(
            f"本轮评估已于 {r.deadline.isoformat()} 截止，不能再填报。",
            f"The round's deadline ({r.deadline.isoformat()}) has passed; answers are closed.",
        )


def _editable(
    ctx: Ctx, r: AssessRound, unit_id: int, code: str, kinds: tuple[Evidence, ...]
) -> AssessAnswer:
    """The unit's answer to ``code`` ready to change (a returned one goes back to draft)."""
    ind = indicator_of(r.snapshot, code)
    kind = Evidence(ind["evidence"])
    if kind is Evidence.PLATFORM:
        raise Conflict(
            f"指标 {code} 由平台自动采集，不能填报。",
            f"Indicator {code} is measured by the platform and cannot be answered.",
        )
    if kind not in kinds:
        raise Conflict(
            f"指标 {code} 不以上传材料佐证。", f"Indicator {code} is not evidenced by a document."
        )
    answer = answer_of(ctx, r.id, unit_id, code)
    if answer is None:
        answer = AssessAnswer(
            round_id=r.id,
            unit_id=unit_id,
            indicator=code,
            evidence=kind,
            met=False,
            statement="",
        )
        ctx.db.add(answer)
    elif answer.state in (AnswerState.SUBMITTED, AnswerState.ACCEPTED):
        raise Conflict(
            f"指标 {code} 的填报已提交，不能再修改。",
            f"The answer to {code} is submitted and can no longer change.",
        )
    answer.state = AnswerState.DRAFT
    answer.provided_by = ctx.actor.label
    answer.provided_at = utcnow()
    return answer


def _documents(ctx: Ctx, answer_id: int) -> list[AssessDocument]:
    return list(
        ctx.db.scalars(
            select(AssessDocument)
            .where(AssessDocument.answer_id == answer_id)
            .order_by(AssessDocument.id)
        )
    )


def save_assessment_answer(
    ctx: Ctx, round_id: int, unit_code: str, indicator: str, data: AnswerIn
) -> AnswerOut:
    """A unit's own answer to an attestation or document indicator (kept as a draft)."""
    unit = unit_of(ctx, unit_code)
    require(ctx, "answer_indicator", unit.id, f"{round_id}:{indicator}")
    r = open_round(ctx, round_id)
    round_unit(ctx, round_id, unit.id)
    _before_deadline(r)
    answer = _editable(ctx, r, unit.id, indicator, (Evidence.ATTESTATION, Evidence.DOCUMENT))
    answer.met = data.met
    answer.statement = data.statement.strip()
    ctx.db.flush()
    record(ctx, AnswerSaved(round_id=r.id, unit=unit.id, indicator=indicator, met=data.met))
    ind = indicator_of(r.snapshot, indicator)
    return answer_out(answer, int(ind["window_days"]), utcnow(), _documents(ctx, answer.id))


def document_dir(ctx: Ctx) -> Path:
    return ctx.settings.data_dir / "assess" / "documents"


def _store_file(ctx: Ctx, digest: str, data: bytes) -> None:
    """Write the file under its digest, atomically, readable by the owner only. A file this
    call wrote is removed again if the transaction then rolls back, unless a committed
    document refers to the same content by then."""
    folder = document_dir(ctx) / digest[:2]
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    target = folder / digest
    if target.exists():
        return
    fd, temp = tempfile.mkstemp(dir=folder, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.chmod(temp, 0o600)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    database = ctx.database

    def forget(_session: Session) -> None:
        with database.sessions() as check:
            held = check.scalar(select(func.count()).where(AssessDocument.sha256 == digest))
        if not held:
            target.unlink(missing_ok=True)

    event.listen(ctx.db, "after_rollback", forget, once=True)
    event.listen(ctx.db, "after_commit", lambda _s: _forget_listener(ctx.db, forget), once=True)


def _forget_listener(session: Session, listener: Callable[[Session], None]) -> None:
    """Committed: the file is referenced; a later rollback of the session must not touch it."""
    if event.contains(session, "after_rollback", listener):
        event.remove(session, "after_rollback", listener)


def attach_assessment_document(
    ctx: Ctx, round_id: int, unit_code: str, indicator: str, filename: str, data: bytes
) -> DocumentOut:
    """Attach a document to a document indicator's answer (checked by content, stored by
    digest; the display name is sanitised)."""
    unit = unit_of(ctx, unit_code)
    require(ctx, "attach_evidence_document", unit.id, f"{round_id}:{indicator}")
    r = open_round(ctx, round_id)
    round_unit(ctx, round_id, unit.id)
    _before_deadline(r)
    checked = documents.check_document(filename, data)
    answer = _editable(ctx, r, unit.id, indicator, (Evidence.DOCUMENT,))
    ctx.db.flush()
    held = ctx.db.scalar(select(func.count()).where(AssessDocument.answer_id == answer.id))
    if (held or 0) >= MAX_DOCUMENTS:
        raise Invalid.field(
            "file",
            f"每个指标最多 {MAX_DOCUMENTS} 份材料。",
            f"At most {MAX_DOCUMENTS} documents per indicator.",
        )
    digest = hashlib.sha256(data).hexdigest()
    _store_file(ctx, digest, data)
    doc = AssessDocument(
        answer_id=answer.id,
        filename=checked.filename,
        kind=checked.kind,
        size=len(data),
        sha256=digest,
        uploaded_by=ctx.actor.label,
    )
    ctx.db.add(doc)
    ctx.db.flush()
    record(
        ctx,
        DocumentAttached(
            round_id=r.id,
            unit=unit.id,
            indicator=indicator,
            document_id=doc.id,
            kind=doc.kind,
            size=doc.size,
            sha256=digest,
        ),
    )
    return document_out(doc)


def read_assessment_document(ctx: Ctx, document_id: int) -> tuple[DocumentOut, bytes]:
    """A document's bytes, for the unit, its reviewer and the bureau (audited)."""
    require(ctx, "view_assessment")
    doc = ctx.db.get(AssessDocument, document_id)
    answer = ctx.db.get(AssessAnswer, doc.answer_id) if doc else None
    if doc is None or answer is None:
        raise NotFound(f"材料 {document_id} 不存在。", f"Document {document_id} does not exist.")
    require_see(ctx, round_unit(ctx, answer.round_id, answer.unit_id))
    path = document_dir(ctx) / doc.sha256[:2] / doc.sha256
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise NotFound(
            f"材料 {document_id} 的文件已不在存储中。",
            f"The file of document {document_id} is missing from storage.",
        ) from None
    record(
        ctx,
        DocumentRead(
            round_id=answer.round_id,
            unit=answer.unit_id,
            indicator=answer.indicator,
            document_id=doc.id,
        ),
    )
    return document_out(doc), data


def submit_assessment_answers(ctx: Ctx, round_id: int, unit_code: str) -> int:
    """Submit every draft answer of the unit for review; a document indicator answered
    "met" needs at least one document. Nothing is submitted unless all can be."""
    unit = unit_of(ctx, unit_code)
    require(ctx, "submit_answers", unit.id, str(round_id))
    r = open_round(ctx, round_id)
    round_unit(ctx, round_id, unit.id)
    _before_deadline(r)
    drafts = [a for a in answers_of(ctx, r.id, unit.id).values() if a.state is AnswerState.DRAFT]
    if not drafts:
        raise Conflict("没有待提交的填报。", "There is no draft answer to submit.")
    missing = [
        a.indicator
        for a in drafts
        if a.evidence is Evidence.DOCUMENT and a.met and not _documents(ctx, a.id)
    ]
    if missing:
        raise Invalid.field(
            "documents",
            "以下指标声明已达到但未上传材料：" + "、".join(missing),
            "These indicators are answered as met but have no document: " + ", ".join(missing),
        )
    for a in drafts:
        # A colleague submitting at the same moment: the answer is submitted either way.
        compare_and_set(
            ctx.db, a, AssessAnswer.state == AnswerState.DRAFT, state=AnswerState.SUBMITTED
        )
    record(ctx, AnswersSubmitted(round_id=r.id, unit=unit.id, answers=len(drafts)))
    return len(drafts)


def collect_platform_evidence(
    ctx: Ctx, round_id: int, unit_codes: list[str] | None = None, now: datetime | None = None
) -> dict[str, tuple[int, int]]:
    """Measure every platform indicator of the round for its units (or the ones given):
    unit code → (indicators measured, passed). A measurement equal to the accepted one
    keeps its review and renews its date; a changed one goes back to review."""
    require(ctx, "collect_platform_evidence", None, str(round_id))
    r = open_round(ctx, round_id)
    moment = now or utcnow()
    facts = Facts(ctx)
    platform = [ind for _d, _i, ind in walk(r.snapshot) if ind["evidence"] == Evidence.PLATFORM]
    out: dict[str, tuple[int, int]] = {}
    if unit_codes is None:
        units = [b for ru in visible_units(ctx, r.id) if (b := org.unit_brief(ctx, ru.unit_id))]
    else:
        units = [unit_of(ctx, c) for c in unit_codes]
        for u in units:
            round_unit(ctx, r.id, u.id)
    for unit in units:
        answers = answers_of(ctx, r.id, unit.id)
        passed = 0
        for ind in platform:
            m = measure(facts, unit, ind["probe"], float(ind["threshold"]), ind.get("partial_at"))
            passed += m.verdict is Verdict.PASS
            details = {**m.details, "collected_by": ctx.actor.label}
            a = answers.get(ind["code"])
            if a is None:
                a = AssessAnswer(
                    round_id=r.id,
                    unit_id=unit.id,
                    indicator=ind["code"],
                    evidence=Evidence.PLATFORM,
                    statement="",
                )
                ctx.db.add(a)
            same = a.value == m.value and a.verdict == m.verdict and a.state is AnswerState.ACCEPTED
            if not same:
                a.state = AnswerState.SUBMITTED
                a.reviewed_by = None
                a.reviewed_at = None
                a.review_reason = ""
            a.value = m.value
            a.verdict = m.verdict
            a.met = m.verdict is Verdict.PASS
            a.details = details
            a.provided_by = PLATFORM
            a.provided_at = moment
        ctx.db.flush()
        record(
            ctx,
            EvidenceCollected(round_id=r.id, unit=unit.id, indicators=len(platform), passed=passed),
        )
        out[unit.code] = (len(platform), passed)
    return out


def unit_answers(ctx: Ctx, round_id: int, unit_code: str) -> list[AnswerOut]:
    """Every answer of a unit in a round (for its staff, its reviewer and the bureau)."""
    unit = unit_of(ctx, unit_code)
    require(ctx, "view_assessment")
    ru = round_unit(ctx, round_id, unit.id)
    require_see(ctx, ru)
    r = get_round(ctx, round_id)
    moment = as_of(r)
    out = []
    for code, a in sorted(answers_of(ctx, round_id, unit.id).items()):
        ind = indicator_of(r.snapshot, code)
        out.append(answer_out(a, int(ind["window_days"]), moment, _documents(ctx, a.id)))
    return out


def unit_platform_evidence(
    ctx: Ctx, unit_code: str, round_id: int | None = None, model_code: str = "dcmm-2025"
) -> list[EvidenceLine]:
    """Every platform indicator's value and verdict for one unit: collected and stored in
    the round given (which must be open), or measured without storing against a model."""
    unit = unit_of(ctx, unit_code)
    require(ctx, "collect_platform_evidence", None, unit.code)
    if round_id is not None:
        collect_platform_evidence(ctx, round_id, [unit.code])
        snapshot = get_round(ctx, round_id).snapshot
        stored = answers_of(ctx, round_id, unit.id)
        readings = {
            code: (a.value, a.verdict or Verdict.FAIL, a.details) for code, a in stored.items()
        }
    else:
        snapshot = model_snapshot(ctx, model_code)
        facts = Facts(ctx)
        readings = {}
        for _d, _i, ind in walk(snapshot):
            if ind["evidence"] == Evidence.PLATFORM:
                m = measure(
                    facts, unit, ind["probe"], float(ind["threshold"]), ind.get("partial_at")
                )
                readings[ind["code"]] = (m.value, m.verdict, m.details)
    out = []
    for _d, _i, ind in walk(snapshot):
        if ind["evidence"] != Evidence.PLATFORM or ind["code"] not in readings:
            continue
        value, verdict, details = readings[ind["code"]]
        out.append(
            EvidenceLine(
                indicator=ind["code"],
                probe=ind["probe"],
                text_zh=ind["text_zh"],
                text_en=ind["text_en"],
                value=value,
                threshold=float(ind["threshold"]),
                verdict=verdict,
                figures=details.get("figures", {}),
            )
        )
    return out
