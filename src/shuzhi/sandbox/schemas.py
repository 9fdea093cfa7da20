"""Sandbox input and output: the terms of a sandbox grant, a query and its answer."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from shuzhi.sandbox.rules import DEFAULT_K, MAX_K, MIN_K, ColumnRole
from shuzhi.sharing.schemas import DecisionIn, RequestCreate

ColumnName = Annotated[str, Field(min_length=1, max_length=200)]


class SandboxTermsIn(BaseModel):
    """Per dataset: a role per column (unlisted: hidden), the column counting distinct
    people, the minimum group size, and whether differential privacy is required."""

    columns: dict[ColumnName, ColumnRole] = Field(min_length=1, max_length=500)
    extremes: list[ColumnName] = Field(
        default_factory=list,
        max_length=500,
        description="aggregate columns MIN/MAX/quantiles may be taken of (they release one"
        " person's value)",
    )
    entity_column: ColumnName = Field(description="the column identifying a person/entity")
    k: int = Field(default=DEFAULT_K, ge=MIN_K, le=MAX_K, description="minimum group size")
    dp_required: bool = False
    epsilon: float | None = Field(default=None, gt=0, le=10, description="ε budget")
    delta: float | None = Field(
        default=None, gt=0, le=0.001, description="δ budget (default 1e-5 when DP is required)"
    )
    bounds: dict[ColumnName, tuple[float, float]] = Field(
        default_factory=dict,
        max_length=500,
        description="per aggregate column, the range a value is clamped to before a"
        " differentially private SUM/AVG (public, set by the provider, never read from data)",
    )


class SandboxRequestIn(RequestCreate):
    """A share request with the ``sandbox`` delivery mode and its terms. ``columns`` and
    ``delivery`` are derived from the terms (the non-hidden columns; sandbox only)."""

    columns: list[ColumnName] = Field(default_factory=list, max_length=500)
    terms: SandboxTermsIn


class SandboxDecisionIn(DecisionIn):
    """The provider's decision; ``terms`` (partly_approve) may only narrow the asked ones."""

    terms: SandboxTermsIn | None = None


class QueryIn(BaseModel):
    sql: Annotated[str, Field(min_length=1, max_length=20_000)]
    # Under differential privacy: the ε this query may spend (default: a tenth of the budget).
    epsilon: float | None = Field(default=None, gt=0, le=10)


class QueryOut(BaseModel):
    id: int
    status: Literal["done", "refused"]
    columns: list[str]
    rows: list[list[Any]]
    # Groups left out for having fewer than k people: never told to the analyst (None),
    # since the count itself would tell which groups are small; the providers see it.
    suppressed: int | None
    epsilon_spent: float | None = None
    delta_spent: float | None = None
    # Under differential privacy: per row, per column, the 95 % interval [low, high] of an
    # aggregate (None for a group column).
    intervals: list[list[list[float] | None]] | None = None
    reason: str | None = None
    rule: str | None = None
    k: int | None = None


class ColumnOut(BaseModel):
    name: str
    type: str
    role: ColumnRole
    extremes: bool


class SandboxGrantOut(BaseModel):
    grant_id: int
    resource_code: str
    table: str  # the stable name a query may use instead of the resource code
    entry_name: str
    provider_unit_id: int
    application_code: str
    purpose: str
    expires_at: datetime
    entity_column: str
    k: int
    dp_required: bool
    epsilon: float | None
    delta: float | None
    columns: list[ColumnOut]


class QueryRecordOut(BaseModel):
    id: int
    analyst: str
    unit_id: int
    actor: str
    sql: str
    status: str
    rule: str | None
    reason: str | None
    plan: dict[str, Any]
    rows_released: int
    suppressed: int
    created_at: datetime


class BudgetOut(BaseModel):
    """One grant's differential-privacy budget as the analyst has spent it."""

    grant_id: int
    resource_code: str
    epsilon_budget: float
    epsilon_spent: float
    epsilon_remaining: float
    delta_budget: float
    delta_spent: float
    delta_remaining: float
    queries: int
    default_query_epsilon: float


# ---- releases ---------------------------------------------------------------------------

ReleaseTargetName = Literal["download", "portal", "data_product"]
TemplateValue = Annotated[str, Field(min_length=1, max_length=200)] | int | float


class ReleaseIn(BaseModel):
    """Take one answered query's figures out of the sandbox."""

    query_id: int
    purpose: Annotated[str, Field(min_length=1, max_length=2000)]
    target: ReleaseTargetName = "download"


class ReleaseDecisionIn(BaseModel):
    approve: bool
    reason: Annotated[str, Field(max_length=2000)] = ""


class ReviewOut(BaseModel):
    provider_unit_id: int
    status: str
    reason: str | None
    decided_by: str | None
    decided_at: datetime | None


class ReleaseOut(BaseModel):
    id: int
    query_id: int
    unit_id: int
    requested_by: str
    purpose: str
    target: str
    status: Literal["pending", "approved", "refused"]
    sql: str
    columns: list[str]
    rows: list[list[Any]]
    suppressed: int | None  # None, as in the answer
    epsilon_spent: float | None = None
    intervals: list[list[list[float] | None]] | None = None
    template_id: int | None
    reviews: list[ReviewOut]
    created_at: datetime
    decided_at: datetime | None


class TemplateIn(BaseModel):
    """A parameterised query: ``{name}`` in the SQL stands for one of the allowed values."""

    name: Annotated[str, Field(min_length=1, max_length=200)]
    sql: Annotated[str, Field(min_length=1, max_length=20_000)]
    parameters: dict[
        Annotated[str, Field(pattern=r"^[a-z_][a-z0-9_]{0,39}$")],
        Annotated[list[TemplateValue], Field(min_length=1, max_length=200)],
    ] = Field(default_factory=dict, max_length=20)
    targets: list[ReleaseTargetName] = Field(default=["download"], min_length=1)


class TemplateOut(BaseModel):
    id: int
    provider_unit_id: int
    name: str
    sql: str
    parameters: dict[str, list[Any]]
    targets: list[str]
    created_by: str
    active: bool


class TemplateRunIn(BaseModel):
    parameters: dict[str, TemplateValue] = Field(default_factory=dict, max_length=20)
    purpose: Annotated[str, Field(min_length=1, max_length=2000)]
    target: ReleaseTargetName = "download"


class TemplateRunOut(BaseModel):
    answer: QueryOut
    release: ReleaseOut


class SandboxUseOut(BaseModel):
    """One analyst unit's use of the sandbox (the cockpit's figures)."""

    unit_code: str
    unit_name: str
    answered: int = 0
    refused: int = 0
    releases_requested: int = 0
    releases_approved: int = 0
