"""What a grant contains: an entry's requestable columns and the terms a decision fixes.

Columns are the published entry's data items, matched to the dataset's current version
(names equal ignoring spaces and case); before the first load their types count as text and
their categories are guessed from the item names. Terms start from what was requested and
may only narrow: fewer columns, stricter masking, more row conditions, a shorter duration,
fewer delivery modes, a lower rate limit. A column a partial approval drops keeps the
requested conditions on it (the rows stay filtered; the column is not served). Items
catalogued as not shared never pass.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from shuzhi.catalog import service as catalog
from shuzhi.catalog.schemas import EntryOut, EntryStatus, ShareType
from shuzhi.context import Ctx
from shuzhi.errors import Conflict, ErrorCollector, Invalid, NotFound
from shuzhi.lake import service as lake
from shuzhi.lake.query import Filter
from shuzhi.security.categories import CATEGORY_INFO, Category
from shuzhi.security.classifier import classify_column
from shuzhi.security.masking import MaskLevel, may_override, strictest
from shuzhi.sharing import filters
from shuzhi.sharing.calendar_service import policy_for
from shuzhi.sharing.filters import Family
from shuzhi.sharing.grants import DeliveryMode
from shuzhi.sharing.models import Outcome, ShareRequest
from shuzhi.sharing.schemas import ConditionIn, DecisionIn
from shuzhi.validation import text_key

_SHARE_RANK = {ShareType.UNCONDITIONAL: 0, ShareType.CONDITIONAL: 1, ShareType.NOT_SHARED: 2}


def column_key(name: str) -> str:
    """Items and dataset columns match when equal ignoring spaces, case and full-width forms."""
    return text_key(name)


@dataclass
class Columns:
    """An entry's requestable columns: item share types, gateway names, types, categories."""

    entry: EntryOut
    share: dict[str, ShareType] = field(default_factory=dict)  # key → item share type
    item_names: dict[str, str] = field(default_factory=dict)  # key → item name
    names: dict[str, str] = field(default_factory=dict)  # key → dataset column (or item name)
    types: dict[str, Family] = field(default_factory=dict)  # key → value family
    categories: dict[str, str] = field(default_factory=dict)  # key → classification category
    loaded: bool = False

    def key_of(self, name: str) -> str | None:
        key = column_key(name)
        return key if key in self.item_names else None

    def types_by_name(self) -> dict[str, Family]:
        """Families under both spellings (item and dataset column) for condition parsing."""
        out = {self.item_names[k]: f for k, f in self.types.items()}
        out.update({self.names[k]: f for k, f in self.types.items()})
        return out


def published_entry(ctx: Ctx, resource_code: str) -> EntryOut:
    """The entry as last published (never a unit's unpublished working copy)."""
    try:
        if "\x00" in resource_code:
            raise NotFound()
        entry = catalog.get_entry(ctx, resource_code)
        if entry.status == EntryStatus.WITHDRAWN:
            raise Invalid.field(
                "resource_code",
                f"目录 {resource_code} 已撤销，不能申请共享。",
                f"Entry {resource_code} has been withdrawn and cannot be requested.",
            )
        if entry.showing_version is None and entry.status != EntryStatus.PUBLISHED:
            if entry.published_version is None:
                raise NotFound()
            entry = catalog.get_entry(ctx, resource_code, entry.published_version)
    except NotFound:
        raise Invalid.field(
            "resource_code",
            f"没有已发布的目录 {resource_code}。",
            f"No published catalogue entry {resource_code}.",
        ) from None
    return entry


def entry_columns(ctx: Ctx, resource_code: str) -> Columns:
    """Items of the published entry, matched to the dataset's current version when loaded."""
    entry = published_entry(ctx, resource_code)
    cols = Columns(entry=entry)
    for item in entry.items:
        key = column_key(item.name)
        cols.share[key] = ShareType(item.share_type)
        cols.item_names[key] = item.name
        cols.names[key] = item.name
        cols.types[key] = Family.TEXT  # text sources are stored as text
    current = lake.current_version(ctx, resource_code)
    if current is not None:
        version, _files = current
        cols.loaded = True
        by_key: dict[str, tuple[str, str]] = {}
        for c in version.columns:
            by_key.setdefault(column_key(c.source_name), (c.name, c.type))
            by_key.setdefault(column_key(c.name), (c.name, c.type))
        category = {c.name: c.category for c in version.classification}
        for key in cols.item_names:
            if key in by_key:
                name, arrow = by_key[key]
                cols.names[key] = name
                cols.types[key] = filters.family_of(arrow)
                if name in category:
                    cols.categories[key] = category[name]
    for key, name in cols.item_names.items():
        if key not in cols.categories:  # not loaded yet: classify by the item's name alone
            cols.categories[key] = classify_column(name, []).category.value
    return cols


def default_level(category: str) -> MaskLevel:
    try:
        return CATEGORY_INFO[Category(category)].default_level
    except ValueError:
        return MaskLevel.PARTIAL  # an unknown category is hidden rather than shown


# ---------------------------------------------------------------- terms


@dataclass
class Terms:
    columns: list[str]  # keys
    row_filter: list[Filter]  # gateway column names
    masking: dict[str, MaskLevel]  # key → requested level (may only be stricter)
    duration_days: int
    delivery: list[DeliveryMode]
    rate_limit: int


def check_shareable(cols: Columns, keys: Sequence[str], errors: ErrorCollector, field: str) -> None:
    refused = [cols.item_names[k] for k in keys if cols.share[k] == ShareType.NOT_SHARED]
    if refused:
        errors.add(
            field,
            f"以下信息项不予共享，不能申请或授权：{'、'.join(refused)}。",
            f"These data items are not shared and cannot be requested or granted: "
            f"{', '.join(refused)}.",
        )


def column_keys(
    cols: Columns, names: Sequence[str], errors: ErrorCollector, field: str
) -> list[str]:
    keys: list[str] = []
    for name in names:
        key = cols.key_of(name)
        if key is None:
            errors.add(
                field,
                f"目录中没有信息项「{name}」。",
                f"The entry has no data item {name!r}.",
            )
        elif key not in keys:
            keys.append(key)
    return keys


def parse_filter(
    cols: Columns,
    keys: Sequence[str],
    raw: Sequence[ConditionIn],
    errors: ErrorCollector,
    field: str,
    from_text: bool,
) -> list[Filter]:
    """Conditions on the given columns, renamed to the gateway's column names."""
    allowed_names = {cols.item_names[k] for k in keys} | {cols.names[k] for k in keys}
    types = {n: f for n, f in cols.types_by_name().items() if n in allowed_names}
    parsed = filters.parse_conditions(
        [c.model_dump() for c in raw], types, errors, field=field, from_text=from_text
    )
    out = []
    for f in parsed:
        key = cols.key_of(f.column) or column_key(f.column)
        out.append(Filter(cols.names.get(key, f.column), f.op, f.value))
    return out


def route(cols: Columns, keys: Sequence[str]) -> ShareType:
    """Strictest of the entry's share type and the requested items' share types."""
    types = [ShareType(cols.entry.share_type), *(cols.share[k] for k in keys)]
    return max(types, key=lambda t: _SHARE_RANK[t])


def stored_terms(cols: Columns, req: ShareRequest) -> Terms:
    """The terms a request asked for, against the entry as it is now."""
    errors = ErrorCollector()
    keys = column_keys(cols, req.columns, errors, "columns")
    masking = {
        k: MaskLevel(level)
        for name, level in req.masking.items()
        if (k := cols.key_of(name)) is not None
    }
    stored = filters.decode(req.row_filter)
    row_filter = []
    for f in stored:
        key = cols.key_of(f.column)
        if key is None:
            errors.add(
                "row_filter",
                f"条件中的列「{f.column}」已不在目录中。",
                f"Column {f.column!r} is gone.",
            )
            continue
        row_filter.append(Filter(cols.names[key], f.op, f.value))
    if errors.errors:
        raise Conflict(
            "目录信息项已变更，申请中的列或条件不再存在，请重新申请。",
            "The entry's data items changed; the request's columns or conditions no longer"
            " exist. Submit a new request.",
        )
    return Terms(
        columns=keys,
        row_filter=row_filter,
        masking=masking,
        duration_days=req.duration_days,
        delivery=[DeliveryMode(d) for d in req.delivery],
        rate_limit=req.rate_limit_per_minute or 0,  # 0: the jurisdiction's default
    )


def decided_terms(
    ctx: Ctx, cols: Columns, req: ShareRequest, data: DecisionIn, from_form: bool = False
) -> Terms:
    """What a decision grants: the request, narrowed as a partial approval says."""
    terms = stored_terms(cols, req)
    if not terms.rate_limit:
        terms.rate_limit = policy_for(ctx, req.jurisdiction).rate_limit_per_minute
    errors = ErrorCollector()
    narrowing = (
        data.columns is not None
        or data.masking
        or data.row_filter
        or data.duration_days is not None
        or data.delivery is not None
        or data.rate_limit_per_minute is not None
    )
    if data.outcome == Outcome.APPROVE and narrowing:
        raise Invalid.field(
            "outcome",
            "“同意”按申请内容授权；要调整列、脱敏、条件、期限或方式，请选择“部分同意”。",
            "'approve' grants what was asked; to change columns, masking, conditions, duration"
            " or modes choose 'partly_approve'.",
        )
    if data.outcome == Outcome.PARTLY_APPROVE:
        _narrow(cols, terms, data, errors, from_form)
    if ShareType(cols.entry.share_type) == ShareType.NOT_SHARED:
        raise Conflict(
            "该目录登记为不予共享，不能授权；如认定应予共享，请先由提供单位修订目录并重新发布。",
            "The entry is catalogued as not shared and cannot be granted; if it should be"
            " shared, the provider must first revise and republish the entry.",
        )
    # Whatever was asked or decided, items catalogued as not shared are never granted.
    check_shareable(cols, terms.columns, errors, "columns")
    errors.raise_if_any()
    # The requested conditions stay, on dropped columns too: dropping one would widen the
    # rows granted. The gateway filters on such a column and never serves it.
    return terms


def _narrow(
    cols: Columns, terms: Terms, data: DecisionIn, errors: ErrorCollector, from_form: bool
) -> None:
    """A partial approval: each term may only shrink (columns, masking stricter, conditions
    added, shorter duration, fewer modes, a lower rate); every violation is collected."""
    if len(data.reason) < 2:
        errors.add("reason", "部分同意时请说明理由。", "Explain a partial approval.")
    if data.columns is not None:
        _narrow_columns(cols, terms, data.columns, errors)
    _narrow_masking(cols, terms, data.masking, errors)
    terms.row_filter += parse_filter(
        cols, terms.columns, data.row_filter, errors, "row_filter", from_text=from_form
    )
    if data.duration_days is not None:
        if data.duration_days > terms.duration_days:
            errors.add(
                "duration_days",
                "授权期限不能长于申请的期限。",
                "The duration cannot exceed the requested one.",
            )
        terms.duration_days = min(data.duration_days, terms.duration_days)
    if data.delivery is not None:
        wider = [d for d in data.delivery if d not in terms.delivery]
        if wider or not data.delivery:
            errors.add(
                "delivery",
                "交付方式只能在申请的方式中选择，且至少一种。",
                "Choose at least one of the requested delivery modes.",
            )
        terms.delivery = [d for d in terms.delivery if d in data.delivery]
    if data.rate_limit_per_minute is not None:
        if data.rate_limit_per_minute > terms.rate_limit:
            errors.add(
                "rate_limit_per_minute",
                f"调用频率上限不能高于 {terms.rate_limit} 次/分钟。",
                f"The rate limit cannot exceed {terms.rate_limit} per minute.",
            )
        terms.rate_limit = min(data.rate_limit_per_minute, terms.rate_limit)


def _narrow_columns(
    cols: Columns, terms: Terms, columns: Sequence[str], errors: ErrorCollector
) -> None:
    keys = column_keys(cols, columns, errors, "columns")
    extra = [cols.item_names[k] for k in keys if k not in terms.columns]
    if extra:
        errors.add(
            "columns",
            f"只能在申请的列中选择：{'、'.join(extra)} 未被申请。",
            f"Choose among the requested columns: {', '.join(extra)} was not requested.",
        )
    if not keys:
        errors.add("columns", "至少保留一列。", "Keep at least one column.")
    terms.columns = [k for k in terms.columns if k in keys]


def _narrow_masking(
    cols: Columns, terms: Terms, masking: Mapping[str, MaskLevel], errors: ErrorCollector
) -> None:
    for name, level in masking.items():
        key = cols.key_of(name)
        if key is None or key not in terms.columns:
            errors.add(
                "masking",
                f"「{name}」不是授权的列。",
                f"{name!r} is not one of the granted columns.",
            )
            continue
        default = default_level(cols.categories[key])
        if not may_override(default, level):
            errors.add(
                "masking",
                f"「{name}」的脱敏只能加强，不能低于默认的 {default.value}。",
                f"Masking of {name!r} may only be made stricter than its default"
                f" ({default.value}).",
            )
            continue
        terms.masking[key] = strictest(level, terms.masking.get(key, MaskLevel.NONE))
