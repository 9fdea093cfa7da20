"""Metadata validation rules (standards §1 and §7.1), as a registry of small pure checks.

Each rule has a stable id, reports bilingual field errors into an ``ErrorCollector`` and
needs only the submitted fields, the code tables and the segment lengths, so the
conformance tests can exercise every rule without a database. Rules that need stored data
(duplicate codes, related entries, data elements) are checked in ``service``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from shuzhi.catalog.models import CodeTable, OpenType, ShareType
from shuzhi.catalog.schemas import EntryFields, SegmentLengths
from shuzhi.catalog.seeds import FIXED_WIDTH_TYPES, STRUCTURED_FORMATS
from shuzhi.errors import ErrorCollector


@dataclass(frozen=True)
class CodeBook:
    """Active code-table values: table → code → parent code."""

    tables: Mapping[str, Mapping[str, str | None]]

    def has(self, table: CodeTable, code: str, parent: str | None = None) -> bool:
        values = self.tables.get(table, {})
        if code not in values:
            return False
        return parent is None or values[code] == parent

    def children(self, table: CodeTable, parent: str) -> list[str]:
        return [c for c, p in self.tables.get(table, {}).items() if p == parent]


Check = Callable[[EntryFields, CodeBook, SegmentLengths, ErrorCollector], None]


@dataclass(frozen=True)
class Rule:
    id: str
    summary: str
    check: Check


RULES: list[Rule] = []


def rule(rule_id: str, summary: str) -> Callable[[Check], Check]:
    def register(check: Check) -> Check:
        RULES.append(Rule(rule_id, summary, check))
        return check

    return register


@rule("classification_codes", "类 and 项 come from the classification code tables")
def _classification(f: EntryFields, book: CodeBook, seg: SegmentLengths, e: ErrorCollector) -> None:
    if not book.has(CodeTable.RESOURCE_CLASS, f.class_code):
        e.add("class_code", f"分类「类」{f.class_code} 不在代码表中。", "Unknown class code.")
    elif not book.has(CodeTable.RESOURCE_SUBCLASS, f.class_code + f.subclass_code, f.class_code):
        e.add(
            "subclass_code",
            f"分类「项」{f.subclass_code} 不属于类 {f.class_code}。",
            f"Subclass {f.subclass_code} is not under class {f.class_code}.",
        )


@rule("segment_lengths", "classification segments and sequence code have the configured lengths")
def _segments(f: EntryFields, book: CodeBook, seg: SegmentLengths, e: ErrorCollector) -> None:
    exact = [
        ("class_code", f.class_code, seg.class_, "类"),
        ("subclass_code", f.subclass_code, seg.subclass, "项"),
        ("group_code", f.group_code, seg.group, "目"),
    ]
    for name, value, length, zh in exact:
        if len(value) != length:
            e.add(name, f"「{zh}」应为 {length} 位数字。", f"Must be {length} digits.")
    if len(f.detail_code) > seg.detail_max:
        e.add(
            "detail_code",
            f"「细目」最多 {seg.detail_max} 位数字。",
            f"At most {seg.detail_max} digits.",
        )
    if len(f.sequence_code) > seg.sequence:
        e.add(
            "sequence_code",
            f"顺序码最多 {seg.sequence} 位数字。",
            f"The sequence code has at most {seg.sequence} digits.",
        )
    elif f.sequence_code and int(f.sequence_code) == 0:
        e.add("sequence_code", "顺序码不能为 0。", "The sequence code cannot be zero.")


@rule("format_code", "信息资源格式 and its subtype come from the format code tables")
def _format(f: EntryFields, book: CodeBook, seg: SegmentLengths, e: ErrorCollector) -> None:
    if not book.has(CodeTable.FORMAT, f.format_code):
        e.add("format_code", "信息资源格式不在代码表中。", "Unknown resource format.")
        return
    subtypes = book.children(CodeTable.FORMAT_SUBTYPE, f.format_code)
    if f.format_subtype and subtypes:
        labels = {s.split(".", 1)[-1].lower() for s in subtypes}
        if f.format_subtype.lower() not in labels:
            e.add(
                "format_subtype",
                f"格式类型「{f.format_subtype}」不属于该格式分类。",
                f"Format subtype '{f.format_subtype}' does not belong to this format.",
            )


@rule("update_cycle", "更新周期 is an active value of the update-cycle code table")
def _cycle(f: EntryFields, book: CodeBook, seg: SegmentLengths, e: ErrorCollector) -> None:
    if not book.has(CodeTable.UPDATE_CYCLE, f.update_cycle):
        e.add("update_cycle", "更新周期不在代码表中。", "Unknown update cycle.")


@rule("share_conditions_required", "有条件共享 requires the share conditions")
def _share_conditions(
    f: EntryFields, book: CodeBook, seg: SegmentLengths, e: ErrorCollector
) -> None:
    if f.share_type == ShareType.CONDITIONAL and len(f.share_conditions) < 2:
        e.add(
            "share_conditions",
            "有条件共享必须填写共享条件。",
            "Conditional sharing needs the share conditions.",
        )


@rule("not_shared_basis_required", "不予共享 requires the legal or policy basis")
def _not_shared_basis(
    f: EntryFields, book: CodeBook, seg: SegmentLengths, e: ErrorCollector
) -> None:
    if f.share_type == ShareType.NOT_SHARED:
        check_share_basis(f.share_type, f.not_shared_basis, e)


@rule("conditional_basis_required", "有条件共享 requires its basis (GB/T 21063, 国发〔2016〕51号)")
def _conditional_basis(
    f: EntryFields, book: CodeBook, seg: SegmentLengths, e: ErrorCollector
) -> None:
    if f.share_type == ShareType.CONDITIONAL:
        check_share_basis(f.share_type, f.not_shared_basis, e)


# The fewest characters a basis can name a law, regulation or document in (《保密法》).
MIN_BASIS_CHARS = 4


def check_share_basis(share_type: str, basis: str, e: ErrorCollector) -> None:
    """有条件共享 and 不予共享 state their basis (依据) in ``not_shared_basis``: the law,
    regulation or policy document that conditions or forbids sharing. Checked on save, on
    submission and again on publication."""
    if share_type == ShareType.UNCONDITIONAL or len(basis.strip()) >= MIN_BASIS_CHARS:
        return
    if share_type == ShareType.CONDITIONAL:
        e.add(
            "not_shared_basis",
            "有条件共享必须写明共享依据（法律、行政法规、政策文件等，至少 4 个字），"
            "如《政务数据共享条例》的相关条款。",
            "Conditional sharing needs its basis (a law, regulation or policy document, at"
            " least 4 characters), e.g. the provision of the government data sharing"
            " regulation it rests on.",
        )
    else:
        e.add(
            "not_shared_basis",
            "不予共享必须写明法律、行政法规或政策依据（至少 4 个字）。",
            "Not sharing needs its basis in law, regulation or policy (at least 4 characters).",
        )


@rule("share_method", "a shared resource names its share method (and platform type)")
def _share_method(f: EntryFields, book: CodeBook, seg: SegmentLengths, e: ErrorCollector) -> None:
    if f.share_type == ShareType.NOT_SHARED and not f.share_method:
        return
    if not f.share_method:
        e.add("share_method", "请选择共享方式。", "Choose the share method.")
        return
    if not book.has(CodeTable.SHARE_METHOD, f.share_method):
        e.add("share_method", "共享方式不在代码表中。", "Unknown share method.")
        return
    types = book.children(CodeTable.SHARE_METHOD_TYPE, f.share_method)
    if types and f.share_method_type not in types:
        e.add(
            "share_method_type",
            "请选择该共享方式下的类型（如接口、文件、库表）。",
            "Choose a type under this share method (API, file, table).",
        )
    if not types and f.share_method_type:
        e.add(
            "share_method_type",
            "该共享方式没有细分类型。",
            "This share method has no types.",
        )


@rule("open_conditions_required", "有条件开放 requires the open conditions")
def _open_conditions(
    f: EntryFields, book: CodeBook, seg: SegmentLengths, e: ErrorCollector
) -> None:
    if f.open_type == OpenType.CONDITIONAL and len(f.open_conditions) < 2:
        e.add(
            "open_conditions",
            "有条件开放必须填写开放条件。",
            "Conditional opening needs the open conditions.",
        )


@rule("not_open_reason_required", "不予开放 requires a reason from the code table")
def _not_open_reason(
    f: EntryFields, book: CodeBook, seg: SegmentLengths, e: ErrorCollector
) -> None:
    if f.open_type != OpenType.NOT_OPEN:
        return
    if not book.has(CodeTable.NOT_OPEN_REASON, f.not_open_reason):
        e.add(
            "not_open_reason",
            "不予开放必须选择理由（法律法规、政策文件、涉及敏感信息或其他）。",
            "Not opening needs a reason (law, policy, sensitive information or other).",
        )
    elif f.not_open_reason == "other" and len(f.not_open_note) < 2:
        e.add("not_open_note", "理由为「其他」时请说明。", "Explain the 'other' reason.")


@rule("not_shared_not_open", "a resource not shared inside government is not opened either")
def _not_shared_not_open(
    f: EntryFields, book: CodeBook, seg: SegmentLengths, e: ErrorCollector
) -> None:
    if f.share_type == ShareType.NOT_SHARED and f.open_type != OpenType.NOT_OPEN:
        e.add(
            "open_type",
            "不予共享的资源不能向社会开放。",
            "A resource that is not shared cannot be open to the public.",
        )


@rule("classified_not_open", "涉密 resources are never open to the public")
def _classified(f: EntryFields, book: CodeBook, seg: SegmentLengths, e: ErrorCollector) -> None:
    if f.is_classified and f.open_type != OpenType.NOT_OPEN:
        e.add(
            "open_type",
            "涉密信息资源不得向社会开放。",
            "Classified resources cannot be open to the public.",
        )


@rule("structured_items", "电子表格/数据库 resources list their data items")
def _structured(f: EntryFields, book: CodeBook, seg: SegmentLengths, e: ErrorCollector) -> None:
    if f.format_code not in STRUCTURED_FORMATS:
        return
    if not f.items:
        e.add(
            "items",
            "电子表格、数据库类资源必须填写信息项。",
            "Spreadsheet and database resources must list their data items.",
        )


@rule("item_length_required", "structured items of a variable-width type give their length")
def _item_length(f: EntryFields, book: CodeBook, seg: SegmentLengths, e: ErrorCollector) -> None:
    # 数据长度 is the storage size of structured data (standards §1.6): a date or an integer
    # has a fixed one, a character or numeric item declares its own.
    if f.format_code not in STRUCTURED_FORMATS:
        return
    for i, item in enumerate(f.items):
        if item.length is None and item.data_type.upper() not in FIXED_WIDTH_TYPES:
            e.add(
                f"items.{i}.length",
                f"信息项「{item.name}」须填写数据长度（字符型、数值型等须写明长度；"
                "日期型、整型等可不填）。",
                f"Data item '{item.name}' needs a length (character and numeric items declare"
                " one; date, integer and similar items may leave it blank).",
            )


@rule("item_data_type", "every data item's type is in the data-type code table")
def _item_types(f: EntryFields, book: CodeBook, seg: SegmentLengths, e: ErrorCollector) -> None:
    for i, item in enumerate(f.items):
        if not book.has(CodeTable.DATA_TYPE, item.data_type.upper()):
            e.add(
                f"items.{i}.data_type",
                f"信息项「{item.name}」的数据类型「{item.data_type}」无效"
                "（应为 C/N/Y/D/T/L/M/G/B/I/F）。",
                f"Data item '{item.name}' has an unknown type '{item.data_type}'.",
            )


@rule("item_names_unique", "data item names are unique within an entry")
def _item_names(f: EntryFields, book: CodeBook, seg: SegmentLengths, e: ErrorCollector) -> None:
    seen: set[str] = set()
    for i, item in enumerate(f.items):
        if item.name in seen:
            e.add(
                f"items.{i}.name",
                f"信息项名称「{item.name}」重复。",
                f"Data item name '{item.name}' is repeated.",
            )
        seen.add(item.name)


@rule("item_share_type", "item share types agree with the resource share type")
def _item_share(f: EntryFields, book: CodeBook, seg: SegmentLengths, e: ErrorCollector) -> None:
    # 无条件共享 means every item goes to every department; 不予共享 means none does.
    for i, item in enumerate(f.items):
        if f.share_type == ShareType.UNCONDITIONAL and item.share_type != f.share_type:
            e.add(
                f"items.{i}.share_type",
                f"资源为无条件共享，信息项「{item.name}」也须无条件共享"
                "（否则资源应为有条件共享）。",
                f"The resource is shared unconditionally, so item '{item.name}' must be too"
                " (otherwise the resource is conditional).",
            )
        elif f.share_type == ShareType.NOT_SHARED and item.share_type != f.share_type:
            e.add(
                f"items.{i}.share_type",
                f"资源不予共享，信息项「{item.name}」也不能共享。",
                f"The resource is not shared, so item '{item.name}' cannot be shared.",
            )


@rule("item_source_needs_element", "claiming to be a source requires a standard data element")
def _item_source(f: EntryFields, book: CodeBook, seg: SegmentLengths, e: ErrorCollector) -> None:
    for i, item in enumerate(f.items):
        if item.is_source and not item.element_code:
            e.add(
                f"items.{i}.element_code",
                f"信息项「{item.name}」声明为权威来源时须关联数据元。",
                f"Item '{item.name}' claims to be a source: link it to a data element.",
            )


@rule("related_codes_unique", "related resource codes are listed once each")
def _related(f: EntryFields, book: CodeBook, seg: SegmentLengths, e: ErrorCollector) -> None:
    if len(set(f.related_codes)) != len(f.related_codes):
        e.add("related_codes", "关联资源代码有重复。", "A related resource code is repeated.")


def check_entry(f: EntryFields, book: CodeBook, seg: SegmentLengths, e: ErrorCollector) -> None:
    """Run every rule; the collector then holds all problems at once."""
    for r in RULES:
        r.check(f, book, seg, e)
