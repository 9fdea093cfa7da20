"""IT project I/O shapes; the budget is in 万元 (stored as whole yuan)."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, Field

from shuzhi.catalog.projects.models import (
    FindingStatus,
    GateOutcome,
    GateStage,
    ProjectStatus,
)
from shuzhi.catalog.schemas import Code, OptCode, Text


class DatasetIn(BaseModel):
    name: Annotated[Text, Field(min_length=2, max_length=200)]
    resource_code: Annotated[Code, Field(max_length=64)] = ""
    note: Annotated[Text, Field(max_length=200)] = ""


class ProjectFields(BaseModel):
    name: Annotated[Text, Field(min_length=2, max_length=200)]
    budget: Decimal = Field(
        default=Decimal(0), ge=0, le=10**8, decimal_places=2, description="万元"
    )
    description: Annotated[Text, Field(max_length=2000)] = ""
    datasets: list[DatasetIn] = Field(default_factory=list, max_length=200)


class ProjectCreate(ProjectFields):
    code: Annotated[Code, Field(min_length=2, max_length=40, pattern=r"^[A-Za-z0-9_\-]+$")]
    unit_code: OptCode = Field(default=None, description="owner unit; default: your own unit")


class ProjectUpdate(ProjectFields):
    pass


class ProjectDecision(BaseModel):
    on: date | None = Field(default=None, description="the decision's date; default today")
    note: Annotated[Text, Field(max_length=2000)] = ""


class Finding(BaseModel):
    check: str = Field(description="declared, catalogued, published or aggregated")
    status: FindingStatus
    dataset: str = ""
    resource_code: str | None = None
    reason_zh: str
    reason_en: str


class GateResult(BaseModel):
    stage: GateStage
    outcome: GateOutcome
    findings: list[Finding]
    checked_by: str
    checked_at: datetime


class DatasetOut(BaseModel):
    name: str
    resource_code: str
    note: str


class ProjectOut(BaseModel):
    code: str
    name: str
    unit_code: str
    unit_name: str
    budget: Decimal
    description: str
    status: ProjectStatus
    approval_date: date | None
    acceptance_date: date | None
    datasets: list[DatasetOut]
    last_gate: GateResult | None
    gate_history: list[GateResult] = []


def datasets_from_lines(text: str) -> list[dict[str, str]]:
    """Form input, one data set a line: ``名称 | 信息资源代码 | 说明`` (code and note optional)."""
    out = []
    for line in text.splitlines():
        parts = [p.strip() for p in re.split(r"[|｜\t]", line)]
        if not parts[0]:
            continue
        out.append(
            {
                "name": parts[0],
                "resource_code": parts[1] if len(parts) > 1 else "",
                "note": parts[2] if len(parts) > 2 else "",
            }
        )
    return out


def datasets_to_lines(datasets: list[DatasetOut]) -> str:
    lines = []
    for d in datasets:
        parts = [d.name, d.resource_code, d.note]
        while parts and not parts[-1]:
            parts.pop()
        lines.append(" | ".join(parts))
    return "\n".join(lines)
