"""Spreadsheet cells that stay data: no file the platform writes can run a formula.

Excel, WPS and LibreOffice read a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a
formula, also after leading spaces, and a leading TAB or CR can hide one; East Asian input
turns the full-width ``＝＋－＠`` into their ASCII forms. A value someone typed into a form or
an uploaded file (``=HYPERLINK("http://…", "点此")``, ``-2+3+cmd|' /C calc'!A0``) would then
act on the computer of whoever opens the download.

One rule for every writer:

* **numbers, dates and booleans** (numeric Arrow columns, Python numbers) are never touched:
  -5 in a numeric column is the number -5;
* **text** that could start a formula is neutralised. In CSV it gets a single quote in front,
  the rest kept as it is (OWASP's CSV-injection guidance); in XLSX it is typed as text (``s``,
  never a formula) and carries Excel's quote-prefix flag, which is what Excel stores when a
  person types ``'`` before a value: shown and read back unchanged, still text once edited.
  One exception: text that is *entirely* a plain decimal number (``-5``, ``+3.25``,
  ``-1.5e3``) is left as it is. The lake keeps every column as text, so this is how a
  catalogue's numeric column arrives; a spreadsheet reads such a value as that number and
  nothing else, so it can hold no formula (``-2+3``, ``-5 `` or ``－5`` are not plain numbers
  and are guarded).

Imports that read the platform's own files back drop the guard quote (``unguard``);
``unguard(guard(x)) == x`` for every text.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import IO, Any

import pyarrow as pa
import pyarrow.compute as pc
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE, Cell

GUARD = "'"
# A formula starts with one of these (full-width forms included).
TRIGGERS = "=+-@\uff1d\uff0b\uff0d\uff20"
# These start or hide a formula on their own.
LEADING_CONTROLS = "\t\r"
# Spaces a spreadsheet may skip before a trigger.
SPACES = (
    " \t\n\v\f\r\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)


def _class(chars: str, escape: Any) -> str:
    return "[" + "".join(escape(c) for c in chars) + "]"


def _pattern(escape: Any) -> str:
    lead = _class(TRIGGERS + LEADING_CONTROLS, escape)
    return f"(?:{lead}|{_class(SPACES, escape)}+{_class(TRIGGERS, escape)})"


# A plain decimal number, matched as a whole ([0-9]: ASCII digits only, as in RE2).
_NUMBER = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
_FORMULA = re.compile(_pattern(re.escape))  # used with .match: anchored at the start
# Risky text also behind quotes already there, so that ``unguard`` restores every value
# exactly ('=1 is written ''=1 and read back as '=1).
_QUOTED_FORMULA = re.compile(GUARD + "*" + _pattern(re.escape))
_QUOTED_NUMBER = re.compile(GUARD + "*" + _NUMBER)
# The same rules in RE2 syntax, for Arrow's vectorised kernels (which search anywhere).
ARROW_FORMULA = "^" + GUARD + "*" + _pattern(lambda c: f"\\x{{{ord(c):x}}}")
ARROW_NUMBER = "^" + GUARD + "*" + _NUMBER + "$"
# Error literals openpyxl would store as error cells instead of text.
_XLSX_ERRORS = frozenset(ERROR_CODES)


def needs_guard(text: str) -> bool:
    """True if a spreadsheet could read this text cell as (or into) a formula."""
    return _FORMULA.match(text) is not None and _QUOTED_NUMBER.fullmatch(text) is None


def _guarded(text: str, start: int = 0) -> bool:
    """Whether ``guard`` puts a quote in front of ``text[start:]``."""
    return (
        _QUOTED_FORMULA.match(text, start) is not None
        and _QUOTED_NUMBER.fullmatch(text, start) is None
    )


def guard(text: str) -> str:
    """The text as a CSV cell: a single quote in front when it could start a formula."""
    return GUARD + text if _guarded(text) else text


def unguard(text: str) -> str:
    """The value before ``guard``: drops the guard quote the platform put in front."""
    return text[1:] if text.startswith(GUARD) and _guarded(text, 1) else text


def csv_row(values: Iterable[object]) -> list[object]:
    """A row for ``csv.writer``: text guarded; numbers, dates and blanks unchanged."""
    return [guard(v) if isinstance(v, str) else v for v in values]


class GuardedWriter:
    """``csv.writer`` whose rows pass through ``csv_row``."""

    def __init__(self, fh: IO[str], **fmtparams: Any) -> None:
        self._writer = csv.writer(fh, **fmtparams)

    def writerow(self, row: Iterable[object]) -> Any:
        return self._writer.writerow(csv_row(row))

    def writerows(self, rows: Iterable[Iterable[object]]) -> None:
        self._writer.writerows(csv_row(r) for r in rows)


def csv_writer(fh: IO[str], **fmtparams: Any) -> GuardedWriter:
    """A CSV writer for files people open in a spreadsheet: no cell can be a formula."""
    return GuardedWriter(fh, **fmtparams)


def _text_type(kind: pa.DataType) -> pa.DataType | None:
    """The plain string type a column of this type is guarded as, or None if not text."""
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return kind
    return pa.string() if pa.types.is_string_view(kind) else None


# First bytes (UTF-8) of every text ``guard`` may change: a cheap pre-screen of a column.
_LEADS = pa.array(
    sorted({c.encode()[0] for c in TRIGGERS + LEADING_CONTROLS + SPACES + GUARD}), pa.uint8()
)


def _first_bytes(chunk: pa.Array) -> pa.Array | None:
    """The first byte of every value (of the next value for empty ones), read in place."""
    data = chunk.buffers()[2]
    if len(chunk) == 0 or data is None or data.size == 0:
        return None
    kind = pa.int64() if pa.types.is_large_string(chunk.type) else pa.int32()
    starts = [None, chunk.buffers()[1]]
    offsets = pa.Array.from_buffers(kind, len(chunk), starts, null_count=0, offset=chunk.offset)
    raw = pa.Array.from_buffers(pa.uint8(), data.size, [None, data], null_count=0)
    return pc.take(raw, pc.min_element_wise(offsets, data.size - 1))


def _may_need_guard(text: pa.Array | pa.ChunkedArray) -> bool:
    """False when no value starts with a byte any risky text starts with (most columns).

    May say True for nothing (a null or empty value borrows its neighbour's byte): the
    exact rule runs next. Never says False when a value needs a guard.
    """
    chunks = text.chunks if isinstance(text, pa.ChunkedArray) else [text]
    for chunk in chunks:
        first = _first_bytes(chunk)
        if first is not None and pc.any(pc.is_in(first, value_set=_LEADS)).as_py():
            return True
    return False


def guard_array(array: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """A text column with every risky value guarded (vectorised; other types unchanged)."""
    kind = _text_type(array.type)
    if kind is None:
        return array
    text = array.cast(kind)
    if not _may_need_guard(text):
        return array
    risky = pc.match_substring_regex(text, ARROW_FORMULA)
    if not pc.any(risky).as_py():
        return array
    risky = pc.and_(risky, pc.invert(pc.match_substring_regex(text, ARROW_NUMBER)))
    empty = pa.scalar("", kind)
    guarded = pc.binary_join_element_wise(pa.scalar(GUARD, kind), text, empty)
    return pc.if_else(risky, guarded, text)


def guard_batch(batch: pa.RecordBatch) -> pa.RecordBatch:
    """A record batch ready for a CSV writer: text columns and column names guarded."""
    names = [guard(n) for n in batch.schema.names]
    columns = batch.columns
    arrays = [guard_array(c) for c in columns]
    if names == batch.schema.names and all(a is c for a, c in zip(arrays, columns, strict=True)):
        return batch
    return pa.RecordBatch.from_arrays(arrays, names=names)


def xlsx_value(sheet: Any, value: object, bold: bool = False) -> object:
    """A value for ``sheet.append`` (normal or write-only workbooks).

    Text becomes a text cell (illegal XML characters dropped): typed ``s`` when openpyxl
    would otherwise store a formula or an error, quote-prefixed when it could start a formula.
    Numbers, dates, booleans and blanks are passed on unchanged (a cell when ``bold``).
    """
    if not isinstance(value, str):
        return _bold(WriteOnlyCell(sheet, value=value)) if bold else value
    text, risky = _xlsx_text(value)
    if not (risky or bold or text in _XLSX_ERRORS):
        return text
    cell = WriteOnlyCell(sheet, value=text)
    cell.data_type = "s"
    if risky:
        cell.quotePrefix = True
    return _bold(cell) if bold else cell


def _xlsx_text(value: str) -> tuple[str, bool]:
    """The text to store and whether it needs the quote-prefix flag.

    The value is stored as it is (the flag does the guarding), except that a value which
    already starts with a quote before risky text gets one more, so that ``unguard`` on import
    gives back exactly what was written.
    """
    text = ILLEGAL_CHARACTERS_RE.sub("", value)
    if text.startswith(GUARD) and _guarded(text):
        text = GUARD + text
    return text, needs_guard(text)


def xlsx_row(sheet: Any, values: Iterable[object], bold: bool = False) -> list[object]:
    return [xlsx_value(sheet, v, bold) for v in values]


def seal_workbook(book: Any) -> None:
    """Type every text cell of a workbook built in memory as text, quote-prefixed if risky.

    For workbooks filled with plain values through ``append`` or cell assignment (write-only
    workbooks take ``xlsx_value`` cells instead; do not mix the two): call once before
    ``save``. openpyxl stores text starting with ``=``
    as a formula; after this it is text again, the value unchanged.
    """
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                value = cell.value
                if isinstance(value, str):
                    text, risky = _xlsx_text(value)
                    if text != value:
                        cell.value = text
                    cell.data_type = "s"
                    if risky:
                        cell.quotePrefix = True


def _bold(cell: Cell) -> Cell:
    from openpyxl.styles import Font

    cell.font = Font(bold=True)
    return cell
