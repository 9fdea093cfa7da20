"""Import and export of the compile template: every row checked, the whole file or nothing.

Import policy (also in docs/catalog-excel.md and in every report):

* **All or nothing.** The file is read and every row checked; entries are then written
  through ``service.create_entry``/``update_entry`` (the one place for validation, audit and
  search indexing). One problem anywhere and the whole import is rolled back: a half-loaded
  catalogue is worse than none, and the report lists every problem so one fix-and-retry
  cycle is enough.
* **Existing entries** are found by resource code. A draft of the importing unit is updated;
  a published (or withdrawn) one gets a new draft version (``revise_entry``), leaving the
  published version readable until the unit CDO approves the new one; a changed row of an
  entry under review (submitted) is refused; an entry of another unit is never touched. Rows
  identical to the stored entry change nothing whatever its state, so re-importing an export
  (which includes drafts and entries under review) is a no-op.
* **Every fault in one report**: rows with a problem of their own are still checked against
  the rules, values the schema refuses are replaced by stand-ins so the rest of the row is
  checked, and when the file has faults the clean rows still go through the service (then
  rolled back) so faults only stored data can show are listed too.
* **Missing columns keep stored values**: a column absent from the file leaves that field of
  an existing entry as it is; a present but blank cell clears it. Without a 信息项 sheet
  existing data items are kept; with one, each entry's items are exactly its rows there.
* Import never submits or approves: 发布日期 and status are lifecycle facts, read only;
  whatever those columns hold is ignored (a 发布日期 that is not a date is a warning).
* 信息资源提供方代码 is written as the unit's unified social credit code (as the API and DCAT
  give it; the unit code for a unit without one); import accepts either code.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from shuzhi.audit.service import record
from shuzhi.auth.permissions import require
from shuzhi.catalog import codes, service, sources
from shuzhi.catalog.excel import (
    ENTRY_COLUMNS,
    ITEM_COLUMNS,
    CodeValue,
    EntryRow,
    ImportProblem,
    ItemRow,
    Layout,
    ProblemLog,
    Vocabulary,
    read_workbook,
)
from shuzhi.catalog.excel.events import CatalogImported, CatalogImportRejected
from shuzhi.catalog.models import EntryStatus
from shuzhi.catalog.rules import check_entry
from shuzhi.catalog.schemas import EntryCreate, EntryFields, EntryOut, EntryUpdate
from shuzhi.context import Ctx
from shuzhi.errors import ErrorCollector, FieldError, Invalid, ShuzhiError
from shuzhi.org import service as org
from shuzhi.validation import text_key, translate

MAX_FILE_BYTES = 50 * 1024 * 1024
ENTRY_HEADER = {c.key: c.header for c in ENTRY_COLUMNS}
ITEM_HEADER = {c.key: c.header for c in ITEM_COLUMNS}
# Service field names that are shown in another column of the template.
ENTRY_FIELD_COLUMN = {"sequence_code": "resource_code", "unit_code": "unit_code"}


class ImportReport(BaseModel):
    """What an import did, or every reason it did nothing."""

    ok: bool
    policy: Literal["all_or_nothing"] = "all_or_nothing"
    policy_zh: str = "整体导入：文件中任何一处有错，则全部不导入。"
    policy_en: str = "All or nothing: one problem anywhere and nothing is imported."
    filename: str = ""
    entries_read: int = 0
    items_read: int = 0
    created: list[str] = []
    updated: list[str] = []
    revised: list[str] = []
    unchanged: list[str] = []
    error_count: int = 0
    errors: list[ImportProblem] = []
    errors_truncated: bool = False
    warning_count: int = 0
    warnings: list[ImportProblem] = []


# ---------------------------------------------------------------- vocabulary


def vocabulary(ctx: Ctx, *, active_only: bool = True) -> Vocabulary:
    """The code tables and data elements as the template reader needs them."""
    tables = {
        table: [
            CodeValue(v.code, v.label_zh, v.label_en, v.national_code, v.parent_code)
            for v in values
        ]
        for table, values in codes.list_code_tables(ctx, active_only=active_only).items()
    }
    by_code, by_term = sources.element_lookup(ctx)
    code_of = {element_id: code for code, element_id in by_code.items()}
    elements: dict[str, list[str]] = {code: [] for code in by_code}
    for term, element_id in by_term.items():
        elements[code_of[element_id]].append(term)
    return Vocabulary(tables, elements)


def _widths(ctx: Ctx) -> dict[str, int]:
    seg = codes.segment_lengths(ctx)
    return {
        "class": seg.class_,
        "subclass": seg.subclass,
        "group": seg.group,
        "detail_max": seg.detail_max,
        "sequence": seg.sequence,
    }


# ---------------------------------------------------------------- import


Action = Literal["create", "update", "revise", "unchanged"]


@dataclass
class _Plan:
    """One entry row ready for the service, with where each of its fields came from."""

    row: EntryRow
    unit_id: int
    unit_code: str
    items: list[ItemRow]
    existing: EntryOut | None = None
    data: dict[str, Any] = field(default_factory=dict)
    deferred_related: list[str] = field(default_factory=list)
    action: Action = "create"


class _Importer:
    def __init__(
        self,
        ctx: Ctx,
        problems: ProblemLog,
        entry_layout: Layout,
        item_layout: Layout | None,
        sequence_width: int,
    ):
        self.ctx, self.problems, self.sequence_width = ctx, problems, sequence_width
        self.code_book, self.lengths = codes.code_book(ctx), codes.segment_lengths(ctx)
        self.entry_layout, self.item_layout = entry_layout, item_layout
        # Cells the reader already reported: a value that could not be read is, to the
        # rules, also a missing one; the cell is reported once.
        self.read_cells = frozenset(problems.cells)

    # where problems go ------------------------------------------------------------------

    def error(
        self, sheet: str | None, row: int | None, column: str | None, zh: str, en: str
    ) -> None:
        if column is None or (sheet, row, column) not in self.read_cells:
            self.problems.error(sheet, row, column, zh, en)

    def entry_error(self, plan: _Plan, key: str | None, zh: str, en: str) -> None:
        column = None
        if key is not None:
            key = ENTRY_FIELD_COLUMN.get(key, key)
            if key in ("class_code", "subclass_code", "group_code", "detail_code") and (
                key not in self.entry_layout.fields
            ):
                key = "resource_code"
            column = self.entry_layout.column(key) or ENTRY_HEADER.get(key)
        self.error(self.entry_layout.sheet, plan.row.row, column, zh, en)

    def field_errors(self, plan: _Plan, errors: list[FieldError]) -> None:
        for e in errors:
            parts = e.field.split(".")
            if parts[0] == "items" and len(parts) >= 2 and parts[1].isdigit():
                index = int(parts[1])
                attr = parts[2] if len(parts) > 2 else None
                if index < len(plan.items) and self.item_layout is not None:
                    item = plan.items[index]
                    column = None
                    if attr is not None:
                        column = self.item_layout.column(attr) or ITEM_HEADER.get(attr)
                    self.error(self.item_layout.sheet, item.row, column, e.message.zh, e.message.en)
                    continue
                name = plan.data.get("items", [{}] * (index + 1))[index].get("name", "")
                self.entry_error(
                    plan,
                    None,
                    f"信息项「{name}」：{e.message.zh}",
                    f"Item '{name}': {e.message.en}",
                )
                continue
            key = parts[0] if parts[0] in ENTRY_HEADER or parts[0] in ENTRY_FIELD_COLUMN else None
            self.entry_error(plan, key, e.message.zh, e.message.en)

    def fail(self, plan: _Plan, err: ShuzhiError) -> None:
        if isinstance(err, Invalid) and err.errors:
            self.field_errors(plan, err.errors)
        else:
            self.entry_error(plan, "resource_code", err.message.zh, err.message.en)
        if err.after_rollback is not None:
            self.ctx.fail(err)  # keeps e.g. the audit record of a refusal

    # steps ------------------------------------------------------------------------------

    def prepare(self, plan: _Plan, new_codes: Mapping[str, int]) -> bool:
        """Merge the row over the stored entry (if any) and validate it as service input."""
        row = plan.row
        base: dict[str, Any] = {}
        if plan.existing is not None:
            current = plan.existing
            if current.unit_code != plan.unit_code:
                self.entry_error(
                    plan,
                    "resource_code",
                    f"信息资源代码 {row.resource_code} 属于其他单位（{current.unit_name}），"
                    "不能导入修改。",
                    f"Resource code {row.resource_code} belongs to another unit"
                    f" ({current.unit_name}); it cannot be changed by this import.",
                )
                return False
            base = _fields_of(current)
        base.update(row.values)
        if self.item_layout is not None or plan.existing is None:
            base["items"] = [_item_input(i.values, base.get("share_type")) for i in plan.items]
        # Related codes naming entries this file creates later are set in a second pass.
        related = list(base.get("related_codes", []))
        later = [c for c in related if new_codes.get(c, 0) > row.row]
        if later:
            plan.deferred_related = related
            base["related_codes"] = [c for c in related if c not in later]
        base["unit_code"] = plan.unit_code
        plan.data = base
        try:
            fields = EntryFields.model_validate(base)
        except ValidationError as exc:
            self.field_errors(plan, translate(exc.errors()))
            # The rules still look at the rest of the row, so one report lists everything.
            lenient = _lenient(base, exc.errors(), plan.existing)
            if lenient is not None:
                self.check_rules(plan, lenient)
            return False
        existing = plan.existing
        if existing is not None and self.unchanged(plan, existing):
            # An unchanged row is left alone whatever the entry's state: re-importing an
            # export that includes entries under review changes nothing and is no error.
            plan.action = "unchanged"
            return True
        ok = self.check_rules(plan, fields)
        if existing is not None and existing.status == EntryStatus.SUBMITTED:
            self.entry_error(
                plan,
                "resource_code",
                f"目录 {row.resource_code} 正在审核中，不能导入修改（未修改的行会跳过）；"
                "请审核或退回后再导入。",
                f"Entry {row.resource_code} is under review and cannot be changed by an import"
                " (unchanged rows are skipped); approve or return it first.",
            )
            return False
        if not ok:
            return False
        if existing is None:
            plan.action = "create"
        elif existing.status in (EntryStatus.PUBLISHED, EntryStatus.WITHDRAWN):
            plan.action = "revise"
        else:
            plan.action = "update"
        return True

    def check_rules(self, plan: _Plan, fields: EntryFields) -> bool:
        errors = ErrorCollector()
        check_entry(fields, self.code_book, self.lengths, errors)
        self.field_errors(plan, errors.errors)
        return not errors.errors

    def unchanged(self, plan: _Plan, existing: EntryOut) -> bool:
        update = EntryUpdate.model_validate(plan.data)
        return _same(update, existing, self.sequence_width) and not plan.deferred_related

    def write(self, plan: _Plan, report: ImportReport) -> None:
        """Create, update or revise the entry through the catalogue service."""
        code = plan.row.resource_code
        try:
            with self.ctx.db.begin_nested():
                if plan.action == "create":
                    out = service.create_entry(self.ctx, EntryCreate.model_validate(plan.data))
                    plan.row.resource_code = out.resource_code
                    report.created.append(out.resource_code)
                    return
                if plan.action == "unchanged":
                    report.unchanged.append(code)
                    return
                if plan.action == "revise":
                    service.revise_entry(self.ctx, code)
                    report.revised.append(code)
                else:
                    report.updated.append(code)
                service.update_entry(self.ctx, code, EntryUpdate.model_validate(plan.data))
        except ShuzhiError as err:
            self.fail(plan, err)

    def link_related(self, plan: _Plan) -> None:
        """Second pass: entries whose related codes were created later in the file."""
        data = {**plan.data, "related_codes": plan.deferred_related}
        try:
            with self.ctx.db.begin_nested():
                service.update_entry(
                    self.ctx, plan.row.resource_code, EntryUpdate.model_validate(data)
                )
        except ShuzhiError as err:
            self.fail(plan, err)


# Stand-ins for values the schema refused, so the rules can look at the rest of a row: they
# are valid and trigger no rule of their own (a date needs no length; placeholder names are
# unique). Entry fields that steer other rules (share and open type) have none.
_ITEM_STAND_INS: dict[str, Any] = {
    "data_type": "D",
    "length": None,
    "element_code": None,
    "is_source": False,
    "description": "",
}
_ENTRY_STAND_INS: dict[str, Any] = {"name": "——", "abstract": "——", "items": []}


def _lenient(
    data: Mapping[str, Any], errors: Sequence[Any], existing: EntryOut | None
) -> EntryFields | None:
    """The row with every refused value replaced by a harmless stand-in, or None."""
    out: dict[str, Any] = dict(data)
    items = [dict(i) if isinstance(i, Mapping) else {} for i in out.get("items") or []]
    stored = EntryUpdate.model_fields
    for err in errors:
        loc = err.get("loc", ())
        if not loc:
            return None
        key = loc[0]
        if key == "items" and len(loc) >= 3 and isinstance(loc[1], int) and loc[1] < len(items):
            attr = str(loc[2])
            if attr == "name":
                items[loc[1]]["name"] = f"#{loc[1] + 1}"
            elif attr == "share_type":
                items[loc[1]]["share_type"] = out.get("share_type")
            elif attr in _ITEM_STAND_INS:
                items[loc[1]][attr] = _ITEM_STAND_INS[attr]
            else:
                return None
        elif key in _ENTRY_STAND_INS:
            out[key] = _ENTRY_STAND_INS[key]
        elif existing is not None and key in stored:
            out[key] = getattr(existing, str(key))
        elif key in stored and not stored[str(key)].is_required():
            out.pop(str(key))
        else:
            return None
    if out.get("items"):
        out["items"] = items
    try:
        return EntryFields.model_validate(out)
    except ValidationError:
        return None


def _item_input(values: Mapping[str, Any], entry_share_type: object) -> dict[str, Any]:
    """A blank item share type means: the same as the resource's."""
    # Blank cells are left out so the schema's defaults apply.
    item = {k: v for k, v in values.items() if v is not None}
    if not item.get("share_type"):
        item["share_type"] = entry_share_type or "unconditional"
    if not item.get("data_type"):
        item.pop("data_type", None)
    return item


def _fields_of(out: EntryOut) -> dict[str, Any]:
    """A stored entry as service input (the base a row's columns are laid over)."""
    data = EntryUpdate.model_validate(out.model_dump(mode="json")).model_dump(mode="json")
    data["task_ids"] = list(out.task_ids)
    return data


def _same(update: EntryUpdate, existing: EntryOut, sequence_width: int) -> bool:
    mine = update.model_dump(mode="json")
    mine["sequence_code"] = mine["sequence_code"].zfill(sequence_width)
    stored = EntryUpdate.model_validate(existing.model_dump(mode="json")).model_dump(mode="json")
    # An item without a data element gets one from its name in the service: same name, same one.
    for mine_item, stored_item in zip(mine["items"], stored["items"], strict=False):
        if mine_item["element_code"] is None and mine_item["name"] == stored_item["name"]:
            mine_item["element_code"] = stored_item["element_code"]
    return bool(mine == stored)


def _target_unit(ctx: Ctx, unit_code: str | None) -> tuple[int | None, str | None]:
    """The unit every row must belong to: --unit, else the actor's own (None: per row)."""
    if unit_code:
        unit_id = org.unit_id_for_code(ctx, unit_code.strip())
        if unit_id is None:
            raise Invalid.field(
                "unit", f"单位 {unit_code} 不存在。", f"Unit {unit_code} does not exist."
            )
        return unit_id, unit_code.strip()
    if ctx.actor.kind == "system" or ctx.actor.unit_id is None:
        return None, None
    brief = org.unit_brief(ctx, ctx.actor.unit_id)
    return ctx.actor.unit_id, brief.code if brief else None


def import_workbook(
    ctx: Ctx, content: bytes, unit_code: str | None = None, filename: str = ""
) -> ImportReport:
    """Load a compile-template workbook; on any problem nothing is kept (see module docs)."""
    target_id, target_code = _target_unit(ctx, unit_code)
    require(ctx, "import_workbook", target_id, target=f"unit:{target_code or '*'}")
    problems = ProblemLog()
    # The file name is the audit target; an upload without one is still one workbook.
    report = ImportReport(ok=False, filename=filename or "workbook")
    if len(content) > MAX_FILE_BYTES:
        problems.error(
            None,
            None,
            None,
            f"文件超过 {MAX_FILE_BYTES // 1024 // 1024} MB，请拆分后导入。",
            f"The file is larger than {MAX_FILE_BYTES // 1024 // 1024} MB; split it.",
        )
        return _finish(ctx, report, problems, target_id)
    widths = _widths(ctx)
    parsed = read_workbook(content, vocabulary(ctx), widths, problems)
    if parsed is None or problems.full:
        return _finish(ctx, report, problems, target_id)
    report.entries_read, report.items_read = len(parsed.entries), len(parsed.items)
    importer = _Importer(ctx, problems, parsed.entry_layout, parsed.item_layout, widths["sequence"])
    plans = _plans(ctx, importer, parsed.entries, parsed.items, target_id, target_code)
    written = [p.row.resource_code for p in plans if p.row.resource_code]
    stored = service.get_entries(ctx, written) if written else {}
    for plan in plans:
        plan.existing = stored.get(plan.row.resource_code.strip())
    new_codes = {
        p.row.resource_code: p.row.row for p in plans if p.existing is None and p.row.resource_code
    }
    # Every row is checked, those with problems of their own too (their other faults belong
    # in the same report); only rows without any problem go on to the service.
    ready = [
        p
        for p in plans
        if importer.prepare(p, new_codes) and p.row.ok and all(i.ok for i in p.items)
    ]
    if problems.full:
        return _finish(ctx, report, problems, target_id)
    if problems.failed:
        # The rows that passed are still written (and rolled back with the rest) to find
        # what only stored data shows: names, codes and related entries already taken or
        # missing. Related codes naming refused rows of this file are not held against them.
        refused = {e.resource_code for e in parsed.entries} - {p.row.resource_code for p in ready}
        for plan in ready:
            related = plan.data.get("related_codes", [])
            plan.data["related_codes"] = [c for c in related if c not in refused]
            plan.deferred_related = [c for c in plan.deferred_related if c not in refused]
    else:
        # Recorded first, in the same transaction: rolled back with everything else if a
        # row fails below.
        actions = [p.action for p in ready]
        record(
            ctx,
            CatalogImported(
                filename=report.filename,
                unit=target_id,
                created=actions.count("create"),
                updated=actions.count("update"),
                revised=actions.count("revise"),
                unchanged=actions.count("unchanged"),
                items=report.items_read,
            ),
        )
    with service.deferred_indexing(ctx):  # index every written entry once, at the end
        for plan in ready:
            importer.write(plan, report)
        for plan in ready:
            if plan.deferred_related:
                importer.link_related(plan)
    return _finish(ctx, report, problems, target_id)


def _plans(
    ctx: Ctx,
    importer: _Importer,
    entries: list[EntryRow],
    items: list[ItemRow],
    target_id: int | None,
    target_code: str | None,
) -> list[_Plan]:
    """Attach items to their entry rows and settle each row's unit."""
    by_code = {e.resource_code: e for e in entries if e.resource_code}
    by_name = {text_key(str(e.values.get("name"))): e for e in entries}
    grouped: dict[int, list[ItemRow]] = {}
    for item in items:
        owner = (
            by_code.get(item.resource_code)
            if item.resource_code
            else by_name.get(text_key(item.resource_name))
        )
        if owner is not None:
            grouped.setdefault(owner.row, []).append(item)
    units = _provider_codes(ctx)
    plans = []
    for entry in entries:
        plan = _Plan(entry, 0, "", grouped.get(entry.row, []))
        written = entry.unit_code
        if target_id is not None and target_code is not None:
            if written and units.get(_provider_key(written), (None, ""))[0] != target_id:
                importer.entry_error(
                    plan,
                    "unit_code",
                    f"本行属于单位 {written}，不是导入单位 {target_code}；不能导入其他单位的目录。",
                    f"This row belongs to unit {written}, not {target_code}; another unit's"
                    " entries cannot be imported.",
                )
                continue
            plan.unit_id, plan.unit_code = target_id, target_code
        else:
            if not written:
                importer.entry_error(
                    plan,
                    "unit_code",
                    "请填写信息资源提供方代码，或在导入时指定单位。",
                    "Give the provider unit code, or name the unit when importing.",
                )
                continue
            unit_id, code = units.get(_provider_key(written), (None, ""))
            if unit_id is None:
                importer.entry_error(
                    plan, "unit_code", f"单位 {written} 不存在。", f"Unit {written} does not exist."
                )
                continue
            plan.unit_id, plan.unit_code = unit_id, code
        plans.append(plan)
    return plans


def _provider_key(written: str) -> str:
    """信息资源提供方代码 as compared: half-width, no spaces, capitals (credit codes)."""
    return "".join(unicodedata.normalize("NFKC", written).split()).upper()


def _provider_codes(ctx: Ctx) -> dict[str, tuple[int, str]]:
    """Provider code → (unit id, unit code): the unified social credit code that export writes
    (as the API and DCAT do), and the internal unit code that older files carry."""
    out: dict[str, tuple[int, str]] = {}
    units = org.all_unit_briefs(ctx)
    for unit in units:
        if unit.uscc:
            out[_provider_key(unit.uscc)] = (unit.id, unit.code)
    for unit in units:
        out.setdefault(_provider_key(unit.code), (unit.id, unit.code))
    return out


def _finish(
    ctx: Ctx, report: ImportReport, problems: ProblemLog, unit_id: int | None
) -> ImportReport:
    report.error_count, report.errors = problems.error_count, problems.errors
    report.errors_truncated = problems.error_count > len(problems.errors)
    report.warning_count, report.warnings = problems.warning_count, problems.warnings
    if problems.failed:
        report.ok = False
        report.created, report.updated, report.revised, report.unchanged = [], [], [], []
        rejection = Invalid(
            f"导入未执行：发现 {problems.error_count} 处问题，文件中的内容均未导入。",
            f"Nothing was imported: {problems.error_count} problems were found.",
        )
        rejection.after_rollback = _record_rejection(report.filename, unit_id, problems.error_count)
        ctx.fail(rejection)  # the unit of work rolls back everything this import wrote
        return report
    report.ok = True
    return report


def _record_rejection(filename: str, unit_id: int | None, errors: int) -> Callable[[Ctx], None]:
    def hook(ctx: Ctx) -> None:
        record(
            ctx, CatalogImportRejected(filename=filename, unit=unit_id, errors=errors), "rejected"
        )

    return hook
