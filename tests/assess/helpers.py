"""Shared set-up of the assessment tests: the national models seeded and a round over the
test region's departments A and B (A reviewed by B, B by A) and street S."""

from __future__ import annotations

from datetime import timedelta

from shuzhi.assess import service
from shuzhi.assess.schemas import RoundIn
from shuzhi.context import SYSTEM
from shuzhi.db.base import utcnow
from shuzhi.db.engine import Database
from tests.conftest import acting

ATTEST = "governance.organisation.l1"  # an attestation indicator of dcmm-2025 (level 1)
DOC = "governance.organisation.l2"  # a document indicator (level 2)
PLATFORM = "security.audit.l3.audit_chain_intact"


def open_round(
    database: Database,
    model: str = "dcmm-2025",
    units: tuple[str, ...] = ("A", "B", "S"),
    days: int = 30,
) -> int:
    today = utcnow().date()
    with acting(database, SYSTEM) as ctx:
        service.seed_assessment_models(ctx)
        made = service.open_assessment_round(
            ctx,
            RoundIn(
                title="2026 年度数据管理能力自评估",
                model_code=model,
                unit_codes=list(units),
                period_start=today.replace(month=1, day=1),
                period_end=today,
                deadline=today + timedelta(days=days),
                reviewers={"A": "B", "B": "A"} if "B" in units else {},
            ),
        )
    return made.id


PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
