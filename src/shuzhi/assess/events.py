"""Audit events of the assessment capability."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from shuzhi.audit.events import AuditEvent


@dataclass(frozen=True)
class ModelsSeeded(AuditEvent):
    action: ClassVar[str] = "assess.models_seeded"
    target_type: ClassVar[str] = "assess_model"
    target_fields: ClassVar[tuple[str, ...]] = ("models",)
    models: str
    indicators: int


@dataclass(frozen=True)
class ModelEdited(AuditEvent):
    """A model's weights, bands or indicators changed (its revision grew)."""

    action: ClassVar[str] = "assess.model_edited"
    target_type: ClassVar[str] = "assess_model"
    target_fields: ClassVar[tuple[str, ...]] = ("model",)
    model: str
    revision: int
    change: str


@dataclass(frozen=True)
class RoundOpened(AuditEvent):
    action: ClassVar[str] = "assess.round_opened"
    target_type: ClassVar[str] = "assess_round"
    target_fields: ClassVar[tuple[str, ...]] = ("round_id",)
    round_id: int
    model: str
    revision: int
    units: int
    deadline: str


@dataclass(frozen=True)
class RoundClosed(AuditEvent):
    action: ClassVar[str] = "assess.round_closed"
    target_type: ClassVar[str] = "assess_round"
    target_fields: ClassVar[tuple[str, ...]] = ("round_id",)
    round_id: int


@dataclass(frozen=True)
class _AnswerEvent(AuditEvent):
    target_type: ClassVar[str] = "assess_answer"
    target_fields: ClassVar[tuple[str, ...]] = ("round_id", "indicator")
    unit_field: ClassVar[str | None] = "unit"
    round_id: int
    unit: int
    indicator: str


@dataclass(frozen=True)
class AnswerSaved(_AnswerEvent):
    action: ClassVar[str] = "assess.answer_saved"
    met: bool


@dataclass(frozen=True)
class DocumentAttached(_AnswerEvent):
    action: ClassVar[str] = "assess.document_attached"
    document_id: int
    kind: str
    size: int
    sha256: str


@dataclass(frozen=True)
class DocumentRead(_AnswerEvent):
    action: ClassVar[str] = "assess.document_read"
    document_id: int


@dataclass(frozen=True)
class AnswersSubmitted(AuditEvent):
    action: ClassVar[str] = "assess.answers_submitted"
    target_type: ClassVar[str] = "assess_round"
    target_fields: ClassVar[tuple[str, ...]] = ("round_id",)
    unit_field: ClassVar[str | None] = "unit"
    round_id: int
    unit: int
    answers: int


@dataclass(frozen=True)
class EvidenceCollected(AuditEvent):
    """Platform indicators measured for a unit (values are category figures)."""

    action: ClassVar[str] = "assess.evidence_collected"
    target_type: ClassVar[str] = "assess_round"
    target_fields: ClassVar[tuple[str, ...]] = ("round_id",)
    unit_field: ClassVar[str | None] = "unit"
    round_id: int
    unit: int
    indicators: int
    passed: int


@dataclass(frozen=True)
class AnswerReviewed(_AnswerEvent):
    action: ClassVar[str] = "assess.answer_reviewed"
    decision: str
    reason: str


@dataclass(frozen=True)
class ReportExported(AuditEvent):
    """A round's report (the region's, or one unit's: ``unit``) was downloaded."""

    action: ClassVar[str] = "assess.report_exported"
    target_type: ClassVar[str] = "assess_round"
    target_fields: ClassVar[tuple[str, ...]] = ("round_id",)
    unit_field: ClassVar[str | None] = "unit"
    round_id: int
    unit: int | None
    file_format: str


@dataclass(frozen=True)
class AnswersViewed(AuditEvent):
    """Someone read a unit's answers and evidence."""

    action: ClassVar[str] = "assess.answers_viewed"
    target_type: ClassVar[str] = "assess_round"
    target_fields: ClassVar[tuple[str, ...]] = ("round_id",)
    unit_field: ClassVar[str | None] = "unit"
    round_id: int
    unit: int


@dataclass(frozen=True)
class _ActionEvent(AuditEvent):
    target_type: ClassVar[str] = "assess_action"
    target_fields: ClassVar[tuple[str, ...]] = ("action_id",)
    unit_field: ClassVar[str | None] = "unit"
    action_id: int
    round_id: int
    unit: int
    status: str


@dataclass(frozen=True)
class ActionAdded(_ActionEvent):
    action: ClassVar[str] = "assess.action_added"


@dataclass(frozen=True)
class ActionUpdated(_ActionEvent):
    action: ClassVar[str] = "assess.action_updated"
