"""Open data (数据开放): what the provider opens, what the public reads, who may read more.

Publication guard: an entry is opened only when it is published in the catalogue, its open
type is unconditional or conditional, and its current dataset version holds no personal
column the provider has not confirmed to be served de-identified. The guard is checked again
whenever data leaves: a newer version with an unconfirmed personal column stops downloads
until the provider republishes.

Reading is public and needs no account: these functions take an anonymous ``Ctx``.
Conditionally open data is read only with the key of an approved application.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import NoReturn

import pyarrow as pa
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError

from shuzhi import hooks
from shuzhi.audit.service import record
from shuzhi.auth import throttle
from shuzhi.auth.passwords import (
    check_strength,
    dummy_hash,
    hash_password,
    needs_rehash,
    verify_password,
)
from shuzhi.auth.permissions import allowed, require, scope_unit
from shuzhi.auth.service import new_token, token_digest, token_matches, token_prefix
from shuzhi.catalog import codes as catalog_codes
from shuzhi.catalog import service as catalog
from shuzhi.catalog.schemas import EntryOut, EntryStatus, OpenType
from shuzhi.context import SYSTEM, Ctx, unit_of_work
from shuzhi.db.base import utcnow
from shuzhi.db.cas import affected
from shuzhi.db.engine import Database
from shuzhi.errors import (
    Conflict,
    ErrorCollector,
    FieldError,
    Forbidden,
    Invalid,
    Message,
    NotFound,
    TooManyRequests,
    Unauthenticated,
)
from shuzhi.lake import service as lake
from shuzhi.lake.manifest import Version
from shuzhi.lake.schemas import ColumnClassification, ColumnOut, VersionOut
from shuzhi.org import service as org
from shuzhi.portal import tally
from shuzhi.portal.events import (
    ApplicantKeyIssued,
    ApplicantLoggedIn,
    ApplicantLoginFailed,
    ApplicantPasswordChanged,
    ApplicantRegistered,
    DatasetClosed,
    DatasetOpened,
    DatasetRepublished,
    OpenApplicationDecided,
    OpenApplicationRevoked,
    OpenApplicationSubmitted,
    OpenDataDownloaded,
)
from shuzhi.portal.models import (
    Applicant,
    ApplicantKey,
    ApplicationStatus,
    OpenApplication,
    Publication,
    PublicationStatus,
    UsageCount,
    UsageKind,
    Visitor,
)
from shuzhi.portal.schemas import (
    ApplicantIn,
    ApplicantOut,
    ApplicantPasswordChange,
    ApplicationIn,
    ApplicationOut,
    Candidate,
    DayFigures,
    IssuedKey,
    OpenBrief,
    OpenColumn,
    OpenDataset,
    OpenPage,
    PortalFigures,
    Preview,
    PublicationOut,
    UnitFigures,
)
from shuzhi.search import service as search
from shuzhi.security.categories import CATEGORY_INFO, Category
from shuzhi.security.masking import MaskLevel

SEARCH_KIND = "open_dataset"
FACETS = ("unit", "class", "open_type", "update_cycle", "format")
APPLICANT_KEY_KIND = "szo"  # open-data applicant keys; never taken for staff or system keys
AGREEMENT_VERSION = "2026-1"
DECISION_DAYS = 10  # the provider answers within ten days (Guizhou's rule, the common one)
KEY_DAYS = 365
PREVIEW_ROWS = 20
MAX_PAGE = search.MAX_LIMIT
APPLICANT_KINDS = ("person", "company", "research")


# ---------------------------------------------------------------- the guard


def _personal(classification: list[ColumnClassification]) -> dict[str, str]:
    """Columns holding personal information per the classification: {column: category}."""
    return {c.name: c.category for c in classification if c.personal or c.sensitive}


def _public_level(category: str) -> MaskLevel:
    """How a confirmed personal column is served: its default masking, pseudonyms partial."""
    try:
        level = CATEGORY_INFO[Category(category)].default_level
    except ValueError:
        return MaskLevel.REDACT
    if level in (MaskLevel.NONE, MaskLevel.PSEUDONYM):
        return MaskLevel.PARTIAL
    return level


def _published_entry(ctx: Ctx, resource_code: str) -> EntryOut:
    """The entry as last published (never a unit's working copy)."""
    out = catalog.get_entry(ctx, resource_code)
    if out.status is EntryStatus.WITHDRAWN:
        raise Conflict(
            f"目录 {resource_code} 已撤销，不能开放。",
            f"Entry {resource_code} has been withdrawn from the catalogue; it cannot be opened.",
        )
    if out.status not in (EntryStatus.PUBLISHED,) and out.published_version is not None:
        out = catalog.get_entry(ctx, resource_code, out.published_version)
    elif out.status is not EntryStatus.PUBLISHED:
        raise Conflict(
            f"目录 {resource_code} 尚未发布，不能开放。",
            f"Entry {resource_code} is not published in the catalogue; it cannot be opened.",
        )
    return out


@dataclass(frozen=True)
class _Checked:
    entry: EntryOut
    unit_id: int
    version: VersionOut
    personal: dict[str, str]


def _check(ctx: Ctx, resource_code: str, confirm_deidentified: bool, operation: str) -> _Checked:
    # Roles that may never open are refused as this operation, before the catalogue is read.
    require(ctx, operation, target=resource_code)
    entry = _published_entry(ctx, resource_code)
    unit_id = org.unit_id_for_code(ctx, entry.unit_code)
    if unit_id is None:
        raise NotFound("提供单位不存在。", "The providing unit does not exist.")
    require(ctx, operation, unit_id, resource_code)
    if entry.open_type is OpenType.NOT_OPEN:
        raise Conflict(
            "该目录的开放属性为“不予开放”，不能开放。请先在目录中修改开放属性并重新发布。",
            "The entry's open type is 'not open'; change it in the catalogue and publish first.",
        )
    current = lake.current_version(ctx, resource_code)
    if current is None:
        raise Conflict(
            "该目录尚未归集数据，没有可开放的数据版本。",
            "No data has been loaded for this entry; there is no version to open.",
        )
    out, _version = current
    personal = _personal(out.classification)
    if personal and not confirm_deidentified:
        raise Invalid(
            "最新数据版本含个人信息，须由提供单位确认以脱敏版本开放。",
            "The latest version holds personal information; the provider must confirm "
            "that it is opened de-identified.",
            errors=[
                _field_error(
                    "confirm_deidentified",
                    f"含个人信息的列：{'、'.join(sorted(personal))}",
                    f"Columns with personal information: {', '.join(sorted(personal))}",
                )
            ],
        )
    return _Checked(entry, unit_id, out, personal)


def _field_error(name: str, zh: str, en: str) -> FieldError:
    return FieldError(name, Message(zh, en))


def _search_doc(p: Publication, entry: EntryOut) -> search.SearchDoc:
    body = [
        entry.abstract,
        " ".join(i.name for i in entry.items),
        entry.unit_name,
        entry.resource_code,
    ]
    return search.SearchDoc(
        kind=SEARCH_KIND,
        key=p.resource_code,
        title=entry.name,
        body="\n".join(b for b in body if b),
        facets={
            "unit": entry.unit_code,
            "class": entry.class_code,
            "open_type": entry.open_type.value,
            "update_cycle": entry.update_cycle,
            "format": entry.format_code,
        },
    )


def _publication_out(p: Publication) -> PublicationOut:
    entry = EntryOut.model_validate_json(p.entry_json)
    return PublicationOut(
        resource_code=p.resource_code,
        name=entry.name,
        unit_code=entry.unit_code,
        status=PublicationStatus(p.status),
        open_type=p.open_type,
        checked_version=p.checked_version,
        deidentified=json.loads(p.deidentified_json),
        record_count=p.record_count,
        opened_by=p.opened_by,
        opened_at=p.opened_at,
        closed_at=p.closed_at,
        close_reason=p.close_reason or "",
    )


def _open_columns(
    entry: EntryOut, columns: list[ColumnOut], hidden: dict[str, str]
) -> list[OpenColumn]:
    described = {i.name: i.description or i.name for i in entry.items}
    return [
        OpenColumn(
            name=c.name,
            type=c.type,
            description=described.get(c.name, ""),
            deidentified=c.name in hidden,
        )
        for c in columns
    ]


def _store(ctx: Ctx, p: Publication, checked: _Checked) -> None:
    version = checked.version
    p.unit_id = checked.unit_id
    p.status = PublicationStatus.OPEN
    p.open_type = checked.entry.open_type
    p.entry_json = checked.entry.model_dump_json()
    p.checked_version = version.number
    p.deidentified_json = json.dumps(checked.personal, ensure_ascii=False, sort_keys=True)
    p.record_count = version.row_count
    columns = _open_columns(checked.entry, version.columns, checked.personal)
    p.columns_json = json.dumps([c.model_dump() for c in columns], ensure_ascii=False)
    p.closed_at = None
    p.close_reason = ""
    ctx.db.flush()
    search.index_documents(ctx, [_search_doc(p, checked.entry)])


def open_dataset(
    ctx: Ctx, resource_code: str, confirm_deidentified: bool = False
) -> PublicationOut:
    """Open a published entry and its current data to the public (the guard decides)."""
    code = resource_code.strip()
    checked = _check(ctx, code, confirm_deidentified, "open_dataset")
    p = ctx.db.scalar(select(Publication).where(Publication.resource_code == code))
    if p is not None and p.status == PublicationStatus.OPEN:
        raise Conflict(
            "该目录已开放；内容有变化时请使用“重新发布”。",
            "The entry is already open; republish it to show changes.",
        )
    if p is None:
        p = Publication(resource_code=code, opened_by=ctx.actor.label, entry_json="{}")
        ctx.db.add(p)
    else:
        p.opened_by, p.opened_at = ctx.actor.label, utcnow()
    _store(ctx, p, checked)
    record(
        ctx,
        DatasetOpened(
            code,
            checked.unit_id,
            checked.entry.open_type.value,
            checked.version.number,
            sorted(checked.personal),
        ),
    )
    return _publication_out(p)


def republish_dataset(
    ctx: Ctx, resource_code: str, confirm_deidentified: bool = False
) -> PublicationOut:
    """Show the entry's latest published text and current data version (guard checked again)."""
    p = _publication(ctx, resource_code)
    checked = _check(ctx, p.resource_code, confirm_deidentified, "republish_dataset")
    if p.status != PublicationStatus.OPEN:
        raise Conflict("该目录未开放，请先开放。", "The entry is not open; open it first.")
    _store(ctx, p, checked)
    p.republished_at = utcnow()
    record(
        ctx,
        DatasetRepublished(
            p.resource_code,
            checked.unit_id,
            checked.entry.open_type.value,
            checked.version.number,
            sorted(checked.personal),
        ),
    )
    return _publication_out(p)


def close_dataset(ctx: Ctx, resource_code: str, reason: str) -> PublicationOut:
    """Take an open dataset off the portal; the reason is kept and audited."""
    p = _publication(ctx, resource_code)
    require(ctx, "close_dataset", p.unit_id, p.resource_code)
    if not reason.strip():
        raise Invalid.field("reason", "请填写关闭开放的原因。", "Give a reason for closing.")
    if p.status != PublicationStatus.OPEN:
        raise Conflict("该目录未开放。", "The entry is not open.")
    _close(ctx, p, reason.strip())
    return _publication_out(p)


def _close(ctx: Ctx, p: Publication, reason: str) -> None:
    p.status, p.closed_at, p.close_reason = PublicationStatus.CLOSED, utcnow(), reason
    search.remove_documents(ctx, SEARCH_KIND, [p.resource_code])
    record(ctx, DatasetClosed(p.resource_code, p.unit_id, reason))


def _open_publication(ctx: Ctx, resource_code: str) -> Publication | None:
    return ctx.db.scalar(
        select(Publication).where(
            Publication.resource_code == resource_code,
            Publication.status == PublicationStatus.OPEN,
        )
    )


def entry_withdrawn(ctx: Ctx, resource_code: str, reason: str) -> bool:
    """Close the publication of an entry taken out of the catalogue (called by the catalogue
    in the withdrawing transaction); True if one was open."""
    p = _open_publication(ctx, resource_code)
    if p is None:
        return False
    _close(ctx, p, f"目录已撤销：{reason}")
    return True


def entry_republished(ctx: Ctx, resource_code: str) -> bool:
    """Close the publication when a newly published revision makes the entry not open (the
    portal keeps showing the text it was opened with until the provider republishes)."""
    p = _open_publication(ctx, resource_code)
    if p is None or catalog.get_entry(ctx, resource_code).open_type is not OpenType.NOT_OPEN:
        return False
    _close(ctx, p, "目录修订后开放属性为“不予开放”")
    return True


def on_entry_withdrawn(ctx: Ctx, event: hooks.EntryWithdrawn) -> None:
    """Subscriber: a withdrawn entry's publication closes."""
    entry_withdrawn(ctx, event.resource_code, event.reason)


def on_entry_republished(ctx: Ctx, event: hooks.EntryRepublished) -> None:
    """Subscriber: a revision that makes the entry not open closes its publication."""
    entry_republished(ctx, event.resource_code)


def _publication(ctx: Ctx, resource_code: str) -> Publication:
    code = resource_code.strip() if isinstance(resource_code, str) else ""
    p = (
        ctx.db.scalar(select(Publication).where(Publication.resource_code == code))
        if code and "\x00" not in code
        else None
    )
    if p is None:
        raise NotFound(f"开放目录 {code[:64]} 不存在。", f"Open dataset {code[:64]} not found.")
    return p


def list_publications(ctx: Ctx) -> list[PublicationOut]:
    """Open and closed publications the actor may manage (own unit for unit staff)."""
    unit = scope_unit(ctx, "view_publications")
    query = select(Publication).order_by(Publication.resource_code)
    if unit is not None:
        query = query.where(Publication.unit_id == unit)
    return [_publication_out(p) for p in ctx.db.scalars(query)]


def open_candidates(ctx: Ctx, limit: int = 200) -> list[Candidate]:
    """Published entries of the actor's unit whose open type allows opening, guard findings."""
    unit = scope_unit(ctx, "view_publications")
    filters = {"status": ["published"], "open_type": ["unconditional", "conditional"]}
    if unit is not None:
        brief = org.unit_brief(ctx, unit)
        filters["unit"] = [brief.code if brief else ""]
    page = catalog.list_entries(ctx, filters=filters, limit=limit)
    states = dict(
        ctx.db.execute(
            select(Publication.resource_code, Publication.status).where(
                Publication.resource_code.in_([e.resource_code for e in page.items])
            )
        ).all()
    )
    out = []
    for e in page.items:
        current = lake.current_version(ctx, e.resource_code)
        personal = sorted(_personal(current[0].classification)) if current else []
        state = states.get(e.resource_code)
        out.append(
            Candidate(
                resource_code=e.resource_code,
                name=e.name,
                open_type=e.open_type.value,
                has_data=current is not None,
                personal_columns=personal,
                publication=PublicationStatus(state) if state else None,
            )
        )
    return out


# ---------------------------------------------------------------- public reading


def _open(ctx: Ctx, resource_code: str) -> Publication:
    p = _publication(ctx, resource_code)
    if p.status != PublicationStatus.OPEN:
        raise NotFound(
            f"开放目录 {p.resource_code} 不存在。", f"Open dataset {p.resource_code} not found."
        )
    return p


def _dataset(ctx: Ctx, p: Publication) -> tuple[OpenDataset, Version | None]:
    entry = EntryOut.model_validate_json(p.entry_json)
    hidden: dict[str, str] = json.loads(p.deidentified_json)
    current = lake.current_version(ctx, p.resource_code)
    version: Version | None = None
    available = False
    columns: list[OpenColumn] = []
    if current is not None:
        out, version = current
        available = set(_personal(out.classification)) <= set(hidden)
        columns = _open_columns(entry, out.columns, hidden)
    return (
        OpenDataset(
            resource_code=p.resource_code,
            unit_id=p.unit_id,
            status=PublicationStatus(p.status),
            entry=entry,
            columns=columns,
            record_count=version.row_count if version is not None else p.record_count,
            version=current[0].number if current is not None else None,
            data_available=available,
            opened_at=p.opened_at,
            modified_at=p.republished_at or p.opened_at,
        ),
        version if available else None,
    )


def _listed(ctx: Ctx, p: Publication) -> OpenDataset:
    """An open dataset for listings: the version checked when it was opened or republished.

    Listings (CKAN, DCAT) read only the publication; the dataset page and downloads read
    the current version, and a newer one is listed once the provider republishes.
    """
    if p.columns_json is None:
        return _dataset(ctx, p)[0]
    return OpenDataset(
        resource_code=p.resource_code,
        unit_id=p.unit_id,
        status=PublicationStatus(p.status),
        entry=EntryOut.model_validate_json(p.entry_json),
        columns=[OpenColumn.model_validate(c) for c in json.loads(p.columns_json)],
        record_count=p.record_count,
        version=p.checked_version,
        data_available=True,  # the guard held for this version when it was (re)published
        opened_at=p.opened_at,
        modified_at=p.republished_at or p.opened_at,
    )


def get_open_dataset(ctx: Ctx, resource_code: str) -> OpenDataset:
    """An open dataset's metadata and schema (anyone); counts a view."""
    return dataset_page(ctx, resource_code)[0]


def dataset_page(ctx: Ctx, resource_code: str) -> tuple[OpenDataset, Preview | None]:
    """A dataset page: metadata, schema and, for unconditional data, a masked preview."""
    p = _open(ctx, resource_code)
    found, version = _dataset(ctx, p)
    count_use(ctx, p, UsageKind.VIEW)
    if found.conditional or version is None:
        return found, None
    rows = [
        [None if v is None else str(v) for v in row]
        for batch in masked_batches(ctx, p, version, limit=PREVIEW_ROWS)
        for row in zip(*(c.to_pylist() for c in batch.columns), strict=True)
    ]
    return found, Preview(columns=[c.name for c in version.columns], rows=rows)


def _brief(p: Publication, entry: EntryOut) -> OpenBrief:
    return OpenBrief(
        resource_code=p.resource_code,
        name=entry.name,
        abstract=entry.abstract,
        unit_code=entry.unit_code,
        unit_name=entry.unit_name,
        open_type=p.open_type,
        update_cycle=entry.update_cycle,
        record_count=p.record_count,
        opened_at=p.opened_at,
    )


def search_open(
    ctx: Ctx,
    q: str = "",
    *,
    filters: dict[str, list[str]] | None = None,
    limit: int = 20,
    offset: int = 0,
    sort: str = "relevance",
) -> OpenPage:
    """Chinese search over open datasets with facets (the catalogue's search, own documents)."""
    wanted = {k: v for k, v in (filters or {}).items() if v}
    unknown = set(wanted) - set(FACETS)
    if unknown:
        raise Invalid.field(
            "filters",
            f"未知的筛选项：{', '.join(sorted(unknown))[:100]}。",
            f"Unknown filter: {', '.join(sorted(unknown))[:100]}.",
        )
    if limit < 0 or limit > MAX_PAGE:
        raise Invalid.field(
            "rows", f"每页最多 {MAX_PAGE} 条。", f"At most {MAX_PAGE} results per page."
        )
    if offset < 0 or offset > search.MAX_OFFSET:
        raise Invalid.field(
            "start",
            f"起始位置须在 0 到 {search.MAX_OFFSET} 之间。",
            f"The start must be between 0 and {search.MAX_OFFSET}.",
        )
    result = search.search(
        ctx,
        SEARCH_KIND,
        q,
        filters=wanted,
        facet_fields=FACETS,
        limit=max(1, limit),
        offset=offset,
        sort=sort if q.strip() or sort == "key" else "key",
    )
    keys = result.keys if limit > 0 else []
    rows = {
        p.resource_code: p
        for p in ctx.db.scalars(
            select(Publication).where(
                Publication.resource_code.in_(keys),
                Publication.status == PublicationStatus.OPEN,
            )
        )
    }
    items = [
        _brief(rows[k], EntryOut.model_validate_json(rows[k].entry_json)) for k in keys if k in rows
    ]
    return OpenPage(total=result.total, items=items, facets=result.facets, labels=labels(ctx))


_LABELS: dict[tuple[int, str], tuple[float, dict[str, dict[str, str]]]] = {}
LABELS_SECONDS = 60.0


def labels(ctx: Ctx) -> dict[str, dict[str, str]]:
    """Code labels for public pages (update cycles, classes) and unit names under "unit".

    Kept per process for a minute: public pages are read far more often than codes change.
    """
    key = (id(ctx.database), ctx.locale)
    now = time.monotonic()
    cached = _LABELS.get(key)
    if cached is not None and now - cached[0] < LABELS_SECONDS:
        return cached[1]
    found = dict(catalog_codes.code_labels(ctx, ctx.locale))
    found["unit"] = {u.code: u.name for u in org.all_unit_briefs(ctx)}
    _LABELS[key] = (now, found)
    return found


def list_open_codes(ctx: Ctx) -> list[str]:
    """Every open dataset's resource code, sorted (CKAN package_list, the sitemap)."""
    return list(
        ctx.db.scalars(
            select(Publication.resource_code)
            .where(Publication.status == PublicationStatus.OPEN)
            .order_by(Publication.resource_code)
        )
    )


def open_datasets(ctx: Ctx, codes: list[str] | None = None) -> list[OpenDataset]:
    """Open datasets (all, or the given codes) for DCAT and CKAN listings; no view counted."""
    query = select(Publication).where(Publication.status == PublicationStatus.OPEN)
    if codes is not None:
        query = query.where(Publication.resource_code.in_(codes))
    return [_listed(ctx, p) for p in ctx.db.scalars(query.order_by(Publication.resource_code))]


def open_units(ctx: Ctx) -> list[UnitFigures]:
    """Units with open datasets, with their counts (the portal's unit list)."""
    return [u for u in _unit_figures(ctx) if u.open_entries]


def open_unit(ctx: Ctx, unit_code: str) -> UnitFigures:
    for u in _unit_figures(ctx):
        if u.unit_code == unit_code and u.open_entries:
            return u
    raise NotFound("该单位没有开放数据。", "This unit has no open data.")


# ---------------------------------------------------------------- data leaving the portal


@dataclass(frozen=True)
class DataRelease:
    """Everything a download needs once the request's transaction is over."""

    resource_code: str
    name: str
    version: Version
    masks: dict[str, str]  # column → category served de-identified


def release(ctx: Ctx, resource_code: str, fmt: str, token: str | None = None) -> DataRelease:
    """Check that data may leave (open, guard still holds, key for conditional) and audit it."""
    p = _open(ctx, resource_code)
    dataset, version = _dataset(ctx, p)
    applicant: int | None = None
    if dataset.conditional:
        applicant = authorised_applicant(ctx, token, p.resource_code)
    if version is None:
        raise Conflict(
            "该数据集的新版本待提供单位复核，暂不能下载。",
            "A newer version of this dataset awaits the provider's review; try again later.",
        )
    count_use(ctx, p, UsageKind.DOWNLOAD if fmt != "api" else UsageKind.API)
    record(
        ctx, OpenDataDownloaded(p.resource_code, p.unit_id, fmt, dataset.version or 0, applicant)
    )
    return DataRelease(
        p.resource_code, dataset.entry.name, version, json.loads(p.deidentified_json)
    )


def masked_batches(
    ctx: Ctx, p: Publication | DataRelease, version: Version, limit: int | None = None
) -> Iterator[pa.RecordBatch]:
    """Record batches of the version with confirmed personal columns masked."""
    from shuzhi.portal.data import mask_batches

    masks = p.masks if isinstance(p, DataRelease) else json.loads(p.deidentified_json)
    engine = lake.query_engine(ctx)
    return mask_batches(
        engine.scan(version, limit=limit),
        {c: (cat, _public_level(cat)) for c, cat in masks.items()},
    )


# ---------------------------------------------------------------- usage statistics


def seed_usage(ctx: Ctx, counts: dict[tuple[str, UsageKind, date], int]) -> None:
    """Past usage in one go (the demo; figures carried over from a previous portal)."""
    if ctx.actor.kind != "system":
        raise Forbidden(operation="seed_usage")
    units = dict(
        ctx.db.execute(
            select(Publication.resource_code, Publication.unit_id).where(
                Publication.resource_code.in_({code for code, _, _ in counts})
            )
        ).all()
    )
    existing = {
        (r.resource_code, r.kind, r.day)
        for r in ctx.db.execute(
            select(UsageCount.resource_code, UsageCount.kind, UsageCount.day).where(
                UsageCount.resource_code.in_(units)
            )
        )
    }
    fresh = []
    for (code, kind, day), n in counts.items():
        if code not in units:
            continue
        if (code, kind.value, day) in existing:
            ctx.db.execute(
                update(UsageCount)
                .where(
                    UsageCount.day == day,
                    UsageCount.resource_code == code,
                    UsageCount.kind == kind.value,
                )
                .values(count=UsageCount.count + n)
            )
        else:
            fresh.append(
                {
                    "day": day,
                    "resource_code": code,
                    "unit_id": units[code],
                    "kind": kind,
                    "count": n,
                }
            )
    if fresh:
        ctx.db.execute(insert(UsageCount), fresh)


def count_use(
    ctx: Ctx, p: Publication, kind: UsageKind, n: int = 1, day: date | None = None
) -> None:
    """Add to a day's count for a dataset (one row per dataset, kind and day).

    Views and API reads of a read request go to the process's tally, written in batches
    (see ``tally``); a download is audited, so its request writes anyway and its count
    goes with the audit record.
    """
    today = day or datetime.now(UTC).date()
    code, unit_id = p.resource_code, p.unit_id
    if not ctx.reading or kind is UsageKind.DOWNLOAD:
        ctx.write(lambda c: _add_use(c, code, unit_id, kind, n, today))
        return
    pending = tally.tally_for(ctx.database)
    if pending.add((today, code, unit_id, kind), n):
        ctx.write(lambda c: _write_counts(c, pending.take()))


def _write_counts(ctx: Ctx, counts: dict[tally.Key, int]) -> None:
    for (day, code, unit_id, kind), n in sorted(counts.items()):
        _add_use(ctx, code, unit_id, kind, n, day)


def flush_usage(database: Database) -> int:
    """Write the usage counts this process still holds (at shutdown); how many were held."""
    pending = tally.forget(database)
    counts = pending.take() if pending is not None else {}
    if counts:
        with unit_of_work(database, SYSTEM) as ctx:
            _write_counts(ctx, counts)
    return len(counts)


def _add_use(ctx: Ctx, code: str, unit_id: int, kind: UsageKind, n: int, day: date) -> None:
    where = (
        UsageCount.day == day,
        UsageCount.resource_code == code,
        UsageCount.kind == kind.value,
    )
    done = ctx.db.execute(update(UsageCount).where(*where).values(count=UsageCount.count + n))
    if affected(done):
        return
    try:
        with ctx.db.begin_nested():
            ctx.db.add(UsageCount(day=day, resource_code=code, unit_id=unit_id, kind=kind, count=n))
    except IntegrityError:  # another request created today's row first
        ctx.db.execute(update(UsageCount).where(*where).values(count=UsageCount.count + n))


def count_api_use(ctx: Ctx, resource_code: str) -> None:
    """A CKAN or data API read of one open dataset."""
    p = ctx.db.scalar(select(Publication).where(Publication.resource_code == resource_code))
    if p is not None:
        count_use(ctx, p, UsageKind.API)


def visitor_digest(secret: str, day: date, client: str) -> str:
    """A day-bound keyed digest of a client address: counts visitors, identifies nobody."""
    message = f"{day.isoformat()}|{client}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:32]


def count_visitor(ctx: Ctx) -> None:
    """Remember today's visitor by digest only (the address itself is never stored)."""
    if not ctx.client:
        return
    today = datetime.now(UTC).date()
    digest = visitor_digest(ctx.settings.secret_key, today, ctx.client)
    seen = ctx.db.scalar(select(Visitor.id).where(Visitor.day == today, Visitor.digest == digest))
    if seen is None:
        ctx.write(lambda c: _add_visitor(c, today, digest))


def _add_visitor(ctx: Ctx, day: date, digest: str) -> None:
    try:
        with ctx.db.begin_nested():
            ctx.db.add(Visitor(day=day, digest=digest))
    except IntegrityError:  # seen by a concurrent request
        pass


def _unit_figures(ctx: Ctx) -> list[UnitFigures]:
    units = {u.id: u for u in org.all_unit_briefs(ctx)}
    opened = ctx.db.execute(
        select(
            Publication.unit_id, func.count(), func.coalesce(func.sum(Publication.record_count), 0)
        )
        .where(Publication.status == PublicationStatus.OPEN)
        .group_by(Publication.unit_id)
    ).all()
    used = ctx.db.execute(
        select(UsageCount.unit_id, UsageCount.kind, func.sum(UsageCount.count)).group_by(
            UsageCount.unit_id, UsageCount.kind
        )
    ).all()
    counts: dict[tuple[int, str], int] = {(u, k): int(n) for u, k, n in used}
    out = []
    for unit_id, brief in units.items():
        entries, records = next(((int(e), int(r)) for u, e, r in opened if u == unit_id), (0, 0))
        views = counts.get((unit_id, UsageKind.VIEW), 0)
        downloads = counts.get((unit_id, UsageKind.DOWNLOAD), 0)
        calls = counts.get((unit_id, UsageKind.API), 0)
        if entries or views or downloads or calls:
            out.append(
                UnitFigures(
                    unit_id=unit_id,
                    unit_code=brief.code,
                    unit_name=brief.name,
                    open_entries=entries,
                    open_records=records,
                    views=views,
                    downloads=downloads,
                    api_calls=calls,
                )
            )
    return out


def _figures(ctx: Ctx, days: int) -> PortalFigures:
    units = _unit_figures(ctx)
    conditional = ctx.db.scalar(
        select(func.count()).where(
            Publication.status == PublicationStatus.OPEN,
            Publication.open_type == OpenType.CONDITIONAL,
        )
    )
    since = datetime.now(UTC).date() - timedelta(days=max(0, days - 1))
    per_day: dict[date, dict[str, int]] = {}
    for day, kind, n in ctx.db.execute(
        select(UsageCount.day, UsageCount.kind, func.sum(UsageCount.count))
        .where(UsageCount.day >= since)
        .group_by(UsageCount.day, UsageCount.kind)
    ).all():
        per_day.setdefault(day, {})[kind] = int(n)
    visitors = dict(
        ctx.db.execute(
            select(Visitor.day, func.count()).where(Visitor.day >= since).group_by(Visitor.day)
        ).all()
    )
    return PortalFigures(
        open_entries=sum(u.open_entries for u in units),
        conditional_entries=int(conditional or 0),
        open_records=sum(u.open_records for u in units),
        views=sum(u.views for u in units),
        downloads=sum(u.downloads for u in units),
        api_calls=sum(u.api_calls for u in units),
        units=units,
        days=[
            DayFigures(
                day=d,
                views=per_day.get(d, {}).get(UsageKind.VIEW, 0),
                downloads=per_day.get(d, {}).get(UsageKind.DOWNLOAD, 0),
                api_calls=per_day.get(d, {}).get(UsageKind.API, 0),
                visitors=int(visitors.get(d, 0)),
            )
            for d in sorted(set(per_day) | set(visitors))
            if days > 0
        ],
    )


def portal_figures(ctx: Ctx, days: int = 30) -> PortalFigures:
    """Open entries, records, downloads and API calls, per unit and per day (the cockpit)."""
    require(ctx, "view_portal_figures")
    return _figures(ctx, days)


def home_figures(ctx: Ctx) -> PortalFigures:
    """The public home page's counts (totals are public; anyone may read them)."""
    return _figures(ctx, 0)


# ---------------------------------------------------------------- applicants and applications


def _applicant_out(a: Applicant) -> ApplicantOut:
    return ApplicantOut(
        id=a.id, email=a.email, name=a.name, organisation=a.organisation, kind=a.kind
    )


def register_applicant(ctx: Ctx, data: ApplicantIn) -> ApplicantOut:
    """A member of the public opens an account to apply for conditionally open data."""
    errors = ErrorCollector()
    email = data.email.strip().lower()
    if "@" not in email or email.startswith("@") or email.endswith("@"):
        errors.add("email", "请填写有效的电子邮箱。", "Enter a valid e-mail address.")
    if data.kind not in APPLICANT_KINDS:
        errors.add("kind", "申请人类型无效。", "Unknown applicant type.")
    check_strength(data.password, errors, username=email, display_name=data.name.strip())
    errors.raise_if_any()
    if ctx.db.scalar(select(Applicant.id).where(Applicant.email == email)) is not None:
        raise Conflict("该邮箱已注册，请直接登录。", "This e-mail is already registered; log in.")
    applicant = Applicant(
        email=email,
        name=data.name.strip(),
        organisation=data.organisation.strip(),
        kind=data.kind,
        password_hash=hash_password(ctx.settings, data.password),
    )
    ctx.db.add(applicant)
    ctx.db.flush()
    record(ctx, ApplicantRegistered(applicant.id, data.kind))
    return _applicant_out(applicant)


_WRONG_LOGIN = ("邮箱或密码不正确。", "Wrong e-mail or password.")
_EMAIL_CHARS = 200  # the column's width


def _gate(ctx: Ctx, email: str) -> None:
    """Serialise and throttle an applicant's attempt (``auth.throttle``, applicant namespace).

    A throttled attempt is refused before the password is checked and is not counted; the
    refusal is audited after the rollback.
    """
    throttle.serialise(ctx, email, ctx.client, namespace=throttle.APPLICANT)
    wait = throttle.wait_seconds(ctx, email, ctx.client, namespace=throttle.APPLICANT)
    if wait is None:
        return
    err = TooManyRequests(
        f"登录失败次数过多，请 {wait} 秒后再试。",
        f"Too many failed logins; try again in {wait} seconds.",
        retry_after=wait,
    )
    event = ApplicantLoginFailed(email=email[:_EMAIL_CHARS], client=ctx.client, reason="throttled")
    err.after_rollback = lambda c: record(c, event, outcome="failed")
    raise err


def _refuse(ctx: Ctx, email: str, reason: str, message: tuple[str, str] = _WRONG_LOGIN) -> NoReturn:
    """Count and audit a failed check, committed at once (while the attempt's locks are
    held), then refuse."""
    throttle.record_failure(ctx, email, ctx.client, namespace=throttle.APPLICANT)
    event = ApplicantLoginFailed(email=email[:_EMAIL_CHARS], client=ctx.client, reason=reason)
    record(ctx, event, outcome="failed")
    ctx.db.commit()
    raise Unauthenticated(*message)


def login_applicant(ctx: Ctx, email: str, password: str) -> tuple[ApplicantOut, int]:
    """The applicant and the session epoch to sign into the portal's own cookie.

    Throttled like staff log-ins (in the applicant namespace); an unknown e-mail costs the
    same argon2 work as a known one.
    """
    typed = email.strip().lower()
    _gate(ctx, typed)
    found = None
    if len(typed) <= _EMAIL_CHARS:
        found = ctx.db.scalar(select(Applicant).where(Applicant.email == typed))
    stored = found.password_hash if found is not None else dummy_hash(ctx.settings)
    if not verify_password(ctx.settings, stored, password) or found is None:
        _refuse(ctx, typed, "bad credentials")
    if needs_rehash(ctx.settings, found.password_hash):
        found.password_hash = hash_password(ctx.settings, password)
    # failures are forgotten before the audit log's head is taken (lock order: failures, head)
    throttle.forget_failures(ctx, typed, ctx.client, namespace=throttle.APPLICANT)
    record(ctx, ApplicantLoggedIn(found.id, ctx.client))
    return _applicant_out(found), found.epoch


def change_applicant_password(
    ctx: Ctx, applicant: ApplicantOut, data: ApplicantPasswordChange
) -> int:
    """A logged-in applicant sets a new password, knowing the current one.

    The current password is throttled and counted like a log-in; the new one must meet the
    password policy. Every other session of the applicant ends: the new session epoch is
    returned for the browser that made the change.
    """
    found = ctx.db.get(Applicant, applicant.id)
    if found is None:
        raise Unauthenticated("请先登录。", "Log in first.")
    _gate(ctx, found.email)
    if not verify_password(ctx.settings, found.password_hash, data.current_password):
        _refuse(
            ctx,
            found.email,
            "bad current password",
            ("当前密码不正确。", "The current password is not correct."),
        )
    errors = ErrorCollector()
    check_strength(
        data.new_password, errors, "new_password", username=found.email, display_name=found.name
    )
    if not errors.errors and verify_password(ctx.settings, found.password_hash, data.new_password):
        errors.add(
            "new_password",
            "新密码不能与当前密码相同。",
            "The new password must differ from the current one.",
        )
    errors.raise_if_any()
    found.password_hash = hash_password(ctx.settings, data.new_password)
    found.epoch += 1
    throttle.forget_failures(ctx, found.email, ctx.client, namespace=throttle.APPLICANT)
    record(ctx, ApplicantPasswordChanged(found.id))
    return found.epoch


def applicant_for_session(ctx: Ctx, applicant_id: int, epoch: int) -> ApplicantOut | None:
    found = ctx.db.get(Applicant, applicant_id)
    if found is None or found.epoch != epoch:
        return None
    return _applicant_out(found)


def _application_out(ctx: Ctx, a: OpenApplication, now: datetime) -> ApplicationOut:
    applicant = ctx.db.get(Applicant, a.applicant_id)
    p = ctx.db.scalar(select(Publication).where(Publication.resource_code == a.resource_code))
    name = EntryOut.model_validate_json(p.entry_json).name if p else a.resource_code
    return ApplicationOut(
        id=a.id,
        resource_code=a.resource_code,
        dataset_name=name,
        applicant_name=applicant.name if applicant else "",
        applicant_organisation=applicant.organisation if applicant else "",
        purpose=a.purpose,
        agreement_version=a.agreement_version,
        status=ApplicationStatus(a.status),
        due_at=a.due_at,
        overdue=a.status == ApplicationStatus.PENDING and a.due_at < now,
        decided_by=a.decided_by,
        decided_at=a.decided_at,
        decision_note=a.decision_note,
        created_at=a.created_at,
    )


def submit_open_application(
    ctx: Ctx, applicant: ApplicantOut, data: ApplicationIn
) -> ApplicationOut:
    """Apply for a conditionally open dataset: purpose stated, data-use agreement accepted."""
    p = _open(ctx, data.resource_code)
    errors = ErrorCollector()
    if p.open_type != OpenType.CONDITIONAL:
        errors.add(
            "resource_code",
            "该数据集无条件开放，无需申请，可直接下载。",
            "This dataset is open without conditions; download it directly.",
        )
    if len(data.purpose.strip()) < 10:
        errors.add(
            "purpose",
            "请说明数据用途（至少 10 个字）。",
            "Describe what the data is for (at least 10 characters).",
        )
    if not data.accept_agreement:
        errors.add(
            "accept_agreement",
            "须阅读并同意《数据利用协议》。",
            "You must read and accept the data-use agreement.",
        )
    errors.raise_if_any()
    pending = ctx.db.scalar(
        select(OpenApplication.id).where(
            OpenApplication.applicant_id == applicant.id,
            OpenApplication.resource_code == p.resource_code,
            OpenApplication.status.in_([ApplicationStatus.PENDING, ApplicationStatus.APPROVED]),
        )
    )
    if pending is not None:
        raise Conflict(
            "您对该数据集已有待审批或已通过的申请。",
            "You already have a pending or approved application for this dataset.",
        )
    now = utcnow()
    application = OpenApplication(
        applicant_id=applicant.id,
        resource_code=p.resource_code,
        unit_id=p.unit_id,
        purpose=data.purpose.strip(),
        agreement_version=AGREEMENT_VERSION,
        agreed_at=now,
        due_at=now + timedelta(days=DECISION_DAYS),
    )
    ctx.db.add(application)
    ctx.db.flush()
    record(
        ctx,
        OpenApplicationSubmitted(
            application.id,
            p.unit_id,
            p.resource_code,
            applicant.id,
            AGREEMENT_VERSION,
            application.due_at.isoformat(),
        ),
    )
    return _application_out(ctx, application, now)


def my_applications(ctx: Ctx, applicant: ApplicantOut) -> list[ApplicationOut]:
    now = utcnow()
    rows = ctx.db.scalars(
        select(OpenApplication)
        .where(OpenApplication.applicant_id == applicant.id)
        .order_by(OpenApplication.id.desc())
    )
    return [_application_out(ctx, a, now) for a in rows]


def list_open_applications(ctx: Ctx) -> list[ApplicationOut]:
    """Applications to the actor's unit (region readers: all), pending first."""
    unit = scope_unit(ctx, "view_open_applications")
    query = select(OpenApplication).order_by(
        OpenApplication.status != "pending", OpenApplication.due_at
    )
    if unit is not None:
        query = query.where(OpenApplication.unit_id == unit)
    now = utcnow()
    return [_application_out(ctx, a, now) for a in ctx.db.scalars(query)]


def _application(ctx: Ctx, application_id: int) -> OpenApplication:
    found = ctx.db.get(OpenApplication, application_id)
    if found is None:
        raise NotFound("开放申请不存在。", "No such open-data application.")
    return found


def decide_open_application(
    ctx: Ctx, application_id: int, approve: bool, note: str
) -> ApplicationOut:
    """The provider unit's CDO approves or refuses; a refusal must give its reason."""
    a = _application(ctx, application_id)
    require(ctx, "decide_open_application", a.unit_id, str(a.id))
    if a.status != ApplicationStatus.PENDING:
        raise Conflict("该申请已处理。", "This application has already been decided.")
    if not approve and not note.strip():
        raise Invalid.field("note", "不同意时须说明理由。", "Give the reason for a refusal.")
    a.status = ApplicationStatus.APPROVED if approve else ApplicationStatus.REFUSED
    a.decided_by, a.decided_at, a.decision_note = ctx.actor.label, utcnow(), note.strip()
    record(ctx, OpenApplicationDecided(a.id, a.unit_id, a.status, a.decision_note))
    return _application_out(ctx, a, utcnow())


def revoke_open_application(ctx: Ctx, application_id: int, reason: str) -> ApplicationOut:
    """Withdraw an approval: every key of the application stops working at once."""
    a = _application(ctx, application_id)
    require(ctx, "revoke_open_application", a.unit_id, str(a.id))
    if a.status != ApplicationStatus.APPROVED:
        raise Conflict("只有已通过的申请可以撤销。", "Only approved applications can be revoked.")
    if not reason.strip():
        raise Invalid.field("reason", "请填写撤销原因。", "Give a reason for the revocation.")
    a.status, a.decision_note = ApplicationStatus.REVOKED, reason.strip()
    now = utcnow()
    ctx.db.execute(
        update(ApplicantKey)
        .where(ApplicantKey.application_id == a.id, ApplicantKey.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    record(ctx, OpenApplicationRevoked(a.id, a.unit_id, reason.strip()))
    return _application_out(ctx, a, now)


def issue_applicant_key(ctx: Ctx, applicant: ApplicantOut, application_id: int) -> IssuedKey:
    """A key for an approved application of the applicant (shown once)."""
    a = _application(ctx, application_id)
    if a.applicant_id != applicant.id:
        raise NotFound("开放申请不存在。", "No such open-data application.")
    if a.status != ApplicationStatus.APPROVED:
        raise Conflict("申请尚未通过，不能获取密钥。", "The application is not approved.")
    prefix, token = new_token(APPLICANT_KEY_KIND)
    now = utcnow()
    key = ApplicantKey(
        application_id=a.id,
        applicant_id=applicant.id,
        prefix=prefix,
        key_hash=token_digest(token),
        expires_at=now + timedelta(days=KEY_DAYS),
    )
    ctx.db.add(key)
    ctx.db.flush()
    record(ctx, ApplicantKeyIssued(a.id, a.unit_id, prefix))
    return IssuedKey(application_id=a.id, prefix=prefix, token=token, expires_at=key.expires_at)


def authorised_applicant(ctx: Ctx, token: str | None, resource_code: str) -> int:
    """The applicant whose key may read this conditional dataset, or a clear 401/403."""
    if not token:
        raise Unauthenticated(
            "该数据集有条件开放，请先申请并使用获批的 API 密钥。",
            "This dataset is open on conditions: apply, then use the key you are given.",
        )
    prefix = token_prefix(token, APPLICANT_KEY_KIND) if "\x00" not in token else None
    row = (
        ctx.db.execute(
            select(ApplicantKey, OpenApplication)
            .join(OpenApplication, OpenApplication.id == ApplicantKey.application_id)
            .where(ApplicantKey.prefix == prefix)
        ).first()
        if prefix
        else None
    )
    if row is None or not token_matches(row[0].key_hash, token):
        raise Unauthenticated("API 密钥无效。", "The API key is not valid.")
    key, application = row
    if key.revoked_at is not None or key.expires_at <= utcnow():
        raise Unauthenticated("API 密钥已失效。", "The API key has been revoked or has expired.")
    if application.status != ApplicationStatus.APPROVED:
        raise Forbidden("申请已被撤销。", "The application has been revoked.")
    if application.resource_code != resource_code:
        raise Forbidden("该密钥未获准读取此数据集。", "This key is not approved for this dataset.")
    return int(application.applicant_id)


def may_manage(ctx: Ctx, unit_id: int) -> bool:
    return allowed(ctx, "open_dataset", unit_id)
