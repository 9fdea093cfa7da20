"""Catalogue I/O shapes; text is trimmed and kept as typed, codes are NFKC-normalised.

Field-level rules that need no database (lengths, patterns) live here; rules that depend on
code tables or on other fields (standards §7.1) live in ``catalog.rules``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, Field

# The catalogue's closed vocabularies are part of its public surface (re-exported).
from shuzhi.catalog.models import ConflictStatus as ConflictStatus
from shuzhi.catalog.models import EntryStatus as EntryStatus
from shuzhi.catalog.models import OpenType as OpenType
from shuzhi.catalog.models import ShareType as ShareType
from shuzhi.validation import blank_code_to_none, blank_to_none, clean_code, clean_text

# Free text is kept as typed (trimmed); codes are NFKC-normalised (full-width digits to ASCII).
Text = Annotated[str, BeforeValidator(clean_text)]
OptText = Annotated[str | None, BeforeValidator(blank_to_none)]
Code = Annotated[str, BeforeValidator(clean_code)]
OptCode = Annotated[str | None, BeforeValidator(blank_code_to_none)]
Digits = Annotated[str, BeforeValidator(clean_code), Field(max_length=16, pattern=r"^[0-9]*$")]
CodeValue = Annotated[str, BeforeValidator(clean_code), Field(max_length=40)]
ExtensionValue = str | int | float | bool | None


def _none_to_empty(value: Any) -> Any:
    value = clean_text(value)
    return "" if value is None else value


LongText = Annotated[str, BeforeValidator(_none_to_empty), Field(max_length=2000)]
# 数据长度: blank means "not given". The bounds sit on the int alone: pydantic 2.14 applies
# constraints on an optional type to None as well (TypeError, not a validation error).
Length = Annotated[
    Annotated[int, Field(ge=1, le=10_000_000)] | None, BeforeValidator(blank_code_to_none)
]


class ItemIn(BaseModel):
    """信息项 as submitted: element_code links a standard data element (一数一源)."""

    name: Annotated[Text, Field(min_length=1, max_length=100)]
    data_type: Annotated[Code, Field(min_length=1, max_length=1)]
    length: Length = None
    share_type: ShareType = ShareType.UNCONDITIONAL
    element_code: OptCode = None
    is_source: bool = False
    description: Annotated[Text, Field(max_length=200)] = ""


class EntryFields(BaseModel):
    """The editable metadata of an entry (13 core items + extensions)."""

    name: Annotated[Text, Field(min_length=2, max_length=128)]
    abstract: Annotated[Text, Field(min_length=2, max_length=1000)]
    class_code: Digits
    subclass_code: Digits
    group_code: Digits
    detail_code: Digits = ""
    sequence_code: Digits = Field(
        default="", description="顺序码; empty = next free number in the classification"
    )
    format_code: CodeValue
    format_subtype: Annotated[Text, Field(max_length=40)] = ""
    share_type: ShareType
    share_conditions: LongText = ""
    not_shared_basis: LongText = ""
    share_method: CodeValue = ""
    share_method_type: CodeValue = ""
    open_type: OpenType
    open_conditions: LongText = ""
    not_open_reason: CodeValue = ""
    not_open_note: LongText = ""
    update_cycle: CodeValue
    related_codes: list[Annotated[Code, Field(max_length=64)]] = Field(
        default_factory=list, max_length=50
    )
    is_classified: bool = False
    extension: dict[Annotated[str, Field(max_length=60)], ExtensionValue] = Field(
        default_factory=dict, max_length=50
    )
    items: list[ItemIn] = Field(default_factory=list, max_length=2000)
    task_ids: list[int] = Field(default_factory=list, max_length=200)


class EntryCreate(EntryFields):
    unit_code: OptCode = Field(default=None, description="provider unit; default: your own unit")


class EntryUpdate(EntryFields):
    pass


class EntryDefaults(BaseModel):
    """What a new entry of a unit starts with in the editor."""

    unit_code: str
    class_code: str = Field(description="类 of the unit's latest entry; empty without entries")
    subclass_code: str
    group_code: str = Field(
        description="目: the unit's own (most used), else the first one no other unit uses"
    )


class ItemOut(BaseModel):
    position: int
    name: str
    data_type: str
    length: int | None
    share_type: ShareType
    element_code: str | None = None
    element_name: str | None = None
    is_source: bool = False
    source_unit_code: str | None = Field(
        default=None, description="the element's authoritative source unit, if assigned"
    )
    source_unit_name: str | None = Field(default=None, description="that unit's name")
    description: str = ""


class EntryEventOut(BaseModel):
    version: int
    action: str
    actor: str
    note: str
    at: datetime


class EntryOut(BaseModel):
    resource_code: str
    classification_code: str
    class_code: str
    subclass_code: str
    group_code: str
    detail_code: str
    sequence_code: str
    unit_code: str
    unit_name: str
    provider_code: str = Field(description="信息资源提供方代码: the unit's credit code")
    name: str
    abstract: str
    format_code: str
    format_subtype: str
    share_type: ShareType
    share_conditions: str
    not_shared_basis: str
    share_method: str
    share_method_type: str
    open_type: OpenType
    open_conditions: str
    not_open_reason: str
    not_open_note: str
    update_cycle: str
    publish_date: date | None
    related_codes: list[str]
    is_classified: bool
    extension: dict[str, ExtensionValue]
    items: list[ItemOut]
    status: EntryStatus
    version: int
    published_version: int | None
    submitted_by: str | None = None
    submitted_at: datetime | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None
    return_reason: str | None = None
    withdraw_reason: str | None = None
    task_ids: list[int] = []
    history: list[EntryEventOut] = []
    showing_version: int | None = Field(
        default=None, description="set when this is a published snapshot, not the working copy"
    )


class EntryBrief(BaseModel):
    resource_code: str
    name: str
    unit_code: str
    unit_name: str
    status: EntryStatus
    share_type: ShareType
    open_type: OpenType
    update_cycle: str
    format_code: str
    class_code: str
    version: int
    published_version: int | None
    publish_date: date | None
    items: int


class EntryPage(BaseModel):
    total: int
    items: list[EntryBrief]
    facets: dict[str, dict[str, int]]


class Reason(BaseModel):
    reason: Annotated[Text, Field(min_length=2, max_length=2000)]


class Note(BaseModel):
    note: Annotated[Text, Field(max_length=2000)] = ""


class VersionOut(BaseModel):
    number: int
    published_at: datetime
    approved_by: str


class FieldChange(BaseModel):
    field: str
    before: Any = None
    after: Any = None


class VersionDiff(BaseModel):
    resource_code: str
    from_version: int
    to_version: int | str = Field(description="a version number, or 'working' for the draft")
    fields: list[FieldChange]
    items_added: list[str]
    items_removed: list[str]
    items_changed: list[FieldChange]


# ---------------------------------------------------------------- code tables and settings


class CodeOut(BaseModel):
    table: str
    code: str
    label_zh: str
    label_en: str
    parent_code: str | None
    national_code: str
    sort_order: int
    active: bool
    locked: bool


class CodeIn(BaseModel):
    label_zh: Annotated[Text, Field(min_length=1, max_length=100)]
    label_en: Annotated[Text, Field(max_length=200)] = ""
    parent_code: OptCode = None
    national_code: Annotated[Code, Field(max_length=10)] = ""
    sort_order: int = Field(default=0, ge=0, le=100000)
    active: bool = True


class SegmentLengths(BaseModel):
    class_: int = Field(alias="class", ge=1, le=4)
    subclass: int = Field(ge=1, le=4)
    group: int = Field(ge=1, le=8)
    detail_max: int = Field(ge=0, le=16)
    sequence: int = Field(ge=1, le=16)

    model_config = {"populate_by_name": True}


class AbbreviationsIn(BaseModel):
    """The whole list of search synonym groups (社保 ↔ 社会保险), each two or more terms."""

    groups: list[list[str]] = Field(max_length=5000)


class AbbreviationsOut(BaseModel):
    groups: list[list[str]]
    customised: bool = Field(description="False: the list shipped with the product applies")


# ---------------------------------------------------------------- data elements and conflicts


class ElementIn(BaseModel):
    code: Annotated[Code, Field(min_length=2, max_length=20, pattern=r"^[A-Za-z0-9_\-]+$")]
    name: Annotated[Text, Field(min_length=2, max_length=100)]
    data_type: Annotated[Code, Field(min_length=1, max_length=1)]
    length: Length = None
    synonyms: list[Annotated[Text, Field(min_length=1, max_length=60)]] = Field(
        default_factory=list, max_length=50
    )
    description: Annotated[Text, Field(max_length=2000)] = ""


class ElementOut(BaseModel):
    code: str
    name: str
    data_type: str
    length: int | None
    synonyms: list[str]
    description: str
    source_unit_code: str | None
    source_unit_name: str | None
    items: int = Field(default=0, description="data items that reference the element")


class ConflictOut(BaseModel):
    id: int
    element_code: str
    element_name: str
    claimant_unit_code: str
    claimant_unit_name: str
    source_unit_code: str
    source_unit_name: str
    resource_code: str
    status: ConflictStatus
    raised_at: datetime
    resolved_by: str | None
    resolved_at: datetime | None
    assigned_unit_code: str | None
    note: str


class ConflictResolve(BaseModel):
    source_unit_code: Annotated[Code, Field(min_length=1, max_length=32)]
    note: Annotated[Text, Field(max_length=2000)] = ""


# ---------------------------------------------------------------- functional lists and tasks


class DutyIn(BaseModel):
    unit_code: OptCode = None
    code: Annotated[Code, Field(min_length=1, max_length=40)]
    name: Annotated[Text, Field(min_length=2, max_length=200)]
    sort_order: int = Field(default=0, ge=0, le=100000)


class MatterIn(BaseModel):
    duty_id: int
    code: Annotated[Code, Field(min_length=1, max_length=40)]
    name: Annotated[Text, Field(min_length=2, max_length=200)]


class TaskIn(BaseModel):
    matter_id: int
    name: Annotated[Text, Field(min_length=2, max_length=200)]
    high_value: bool = False
    created_on: date | None = Field(
        default=None, description="when the task was registered (default today; lists taken over)"
    )


class TaskOut(BaseModel):
    id: int
    unit_code: str
    duty_name: str
    matter_code: str
    matter_name: str
    name: str
    high_value: bool
    resource_code: str | None
    done: bool


class MatterOut(BaseModel):
    id: int
    unit_code: str
    unit_name: str
    duty_name: str
    code: str
    name: str
    tasks: int
    done: int


class DutyOut(BaseModel):
    id: int
    unit_code: str
    code: str
    name: str
    matters: int


class UnitRate(BaseModel):
    unit_code: str
    unit_name: str
    tasks: int
    done: int
    rate: float | None = Field(description="done / tasks; null when the unit has no tasks")
    high_value_tasks: int
    high_value_done: int


class CompileRate(BaseModel):
    region: UnitRate
    units: list[UnitRate]


class TrendPoint(BaseModel):
    day: date
    tasks: int
    done: int
    rate: float | None


class CatalogOverview(BaseModel):
    entries: int
    published: int
    submitted: int
    drafts: int
    open_conflicts: int
