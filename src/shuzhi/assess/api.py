"""JSON API of the assessment capability (/api/v1/assess)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, File, UploadFile
from pydantic import BaseModel
from starlette.responses import Response

from shuzhi.assess import service
from shuzhi.assess.documents import MAX_BYTES, MEDIA_TYPES
from shuzhi.assess.schemas import (
    ActionIn,
    ActionOut,
    AnswerIn,
    AnswerOut,
    DocumentOut,
    IndicatorEdit,
    ModelIn,
    ModelOut,
    RegionReport,
    ReviewIn,
    RoundIn,
    RoundOut,
    RoundResults,
    UnitPlan,
    UnitReport,
    UnitSheet,
    WeightsIn,
)
from shuzhi.web.deps import CtxDep

router = APIRouter(prefix="/api/v1/assess", tags=["assess"])


class Collect(BaseModel):
    unit_codes: list[str] | None = None


class CollectOut(BaseModel):
    units: dict[str, tuple[int, int]]


class Submitted(BaseModel):
    submitted: int


def read_upload(upload: UploadFile) -> bytes:
    """At most one byte over the limit is read: a larger file is refused by the service."""
    return upload.file.read(MAX_BYTES + 1)


@router.get("/models")
def models(ctx: CtxDep) -> list[ModelOut]:
    return service.list_assessment_models(ctx)


@router.post("/models/seed")
def seed(ctx: CtxDep) -> list[ModelOut]:
    return service.seed_assessment_models(ctx)


@router.post("/models", status_code=201)
def define_model(ctx: CtxDep, data: ModelIn) -> ModelOut:
    return service.define_assessment_model(ctx, data)


@router.get("/models/{code}")
def model(ctx: CtxDep, code: str) -> ModelOut:
    return service.get_assessment_model(ctx, code)


@router.put("/models/{code}/weights")
def weights(ctx: CtxDep, code: str, data: WeightsIn) -> ModelOut:
    return service.set_assessment_weights(ctx, code, data)


@router.patch("/models/{code}/indicators/{indicator}")
def edit_indicator(ctx: CtxDep, code: str, indicator: str, data: IndicatorEdit) -> ModelOut:
    return service.edit_assessment_indicator(ctx, code, indicator, data)


@router.get("/rounds")
def rounds(ctx: CtxDep) -> list[RoundOut]:
    return service.list_assessment_rounds(ctx)


@router.post("/rounds", status_code=201)
def open_round(ctx: CtxDep, data: RoundIn) -> RoundOut:
    return service.open_assessment_round(ctx, data)


@router.get("/rounds/{round_id}")
def get_round(ctx: CtxDep, round_id: int) -> RoundOut:
    return service.get_assessment_round(ctx, round_id)


@router.post("/rounds/{round_id}/close")
def close_round(ctx: CtxDep, round_id: int) -> RoundOut:
    return service.close_assessment_round(ctx, round_id)


@router.get("/rounds/{round_id}/results")
def results(ctx: CtxDep, round_id: int) -> RoundResults:
    """Per unit: overall score and level, per-domain scores (a self-assessment)."""
    return service.round_results(ctx, round_id)


@router.post("/rounds/{round_id}/evidence")
def collect(ctx: CtxDep, round_id: int, data: Collect | None = None) -> CollectOut:
    units = service.collect_platform_evidence(ctx, round_id, data.unit_codes if data else None)
    return CollectOut(units=units)


@router.get("/rounds/{round_id}/report")
def region_report(ctx: CtxDep, round_id: int) -> RegionReport:
    """Ranking, level distribution, domain heat map and change since each unit's previous
    closed round (a self-assessment)."""
    return service.region_report(ctx, round_id)


@router.get("/rounds/{round_id}/units/{unit_code}/report")
def unit_report(ctx: CtxDep, round_id: int, unit_code: str) -> UnitReport:
    """One unit: domains, items, evidence, gaps and the change since its previous round."""
    return service.unit_report(ctx, round_id, unit_code)


@router.get("/rounds/{round_id}/units/{unit_code}")
def sheet(ctx: CtxDep, round_id: int, unit_code: str) -> UnitSheet:
    return service.unit_assessment_sheet(ctx, round_id, unit_code)


@router.get("/rounds/{round_id}/units/{unit_code}/answers")
def answers(ctx: CtxDep, round_id: int, unit_code: str) -> list[AnswerOut]:
    return service.unit_answers(ctx, round_id, unit_code)


@router.put("/rounds/{round_id}/units/{unit_code}/answers/{indicator}")
def answer(ctx: CtxDep, round_id: int, unit_code: str, indicator: str, data: AnswerIn) -> AnswerOut:
    return service.save_assessment_answer(ctx, round_id, unit_code, indicator, data)


@router.post("/rounds/{round_id}/units/{unit_code}/answers/{indicator}/documents", status_code=201)
def attach(
    ctx: CtxDep,
    round_id: int,
    unit_code: str,
    indicator: str,
    file: Annotated[UploadFile, File()],
) -> DocumentOut:
    data = read_upload(file)
    return service.attach_assessment_document(
        ctx, round_id, unit_code, indicator, file.filename or "", data
    )


@router.post("/rounds/{round_id}/units/{unit_code}/answers/{indicator}/review")
def review(ctx: CtxDep, round_id: int, unit_code: str, indicator: str, data: ReviewIn) -> AnswerOut:
    return service.review_assessment_answer(ctx, round_id, unit_code, indicator, data)


@router.post("/rounds/{round_id}/units/{unit_code}/submit")
def submit(ctx: CtxDep, round_id: int, unit_code: str) -> Submitted:
    return Submitted(submitted=service.submit_assessment_answers(ctx, round_id, unit_code))


@router.get("/rounds/{round_id}/units/{unit_code}/plan")
def plan(ctx: CtxDep, round_id: int, unit_code: str) -> UnitPlan:
    return service.unit_improvement_plan(ctx, round_id, unit_code)


@router.post("/rounds/{round_id}/units/{unit_code}/plan/actions", status_code=201)
def add_action(ctx: CtxDep, round_id: int, unit_code: str, data: ActionIn) -> ActionOut:
    return service.add_improvement_action(ctx, round_id, unit_code, data)


@router.put("/actions/{action_id}")
def update_action(ctx: CtxDep, action_id: int, data: ActionIn) -> ActionOut:
    return service.update_improvement_action(ctx, action_id, data)


@router.get("/documents/{document_id}")
def document(ctx: CtxDep, document_id: int) -> Response:
    doc, data = service.read_assessment_document(ctx, document_id)
    return document_response(doc, data)


def document_response(doc: DocumentOut, data: bytes) -> Response:
    """A stored document as an attachment, never rendered inline by the browser."""
    return Response(
        data,
        media_type=MEDIA_TYPES.get(doc.kind, "application/octet-stream"),
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(doc.filename)}",
            "X-Content-Type-Options": "nosniff",
        },
    )
