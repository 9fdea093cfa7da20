"""Delimited text files: encoding and delimiter detection, header cleanup, streaming clean copy.

Government exports arrive as UTF-8 (with or without BOM), GBK or GB18030. The encoding is
decided from a prefix sample; when that sample is pure ASCII, reading continues to the first
chunk holding non-ASCII bytes, so a file whose Chinese text starts late is still detected.
GBK is decoded with the GB18030 codec (a superset), so rare characters do not break a load.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import BinaryIO

from shuzhi.errors import Invalid
from shuzhi.lake.limits import (
    MAX_COLUMN_NAME_CHARS,
    MAX_COLUMNS,
    MAX_FIELDS_PER_LINE,
    MAX_HEADER_BYTES,
    refuse,
    size_text,
    too_many_columns,
)
from shuzhi.lake.rejects import Reject, RejectReason, RejectSink

SAMPLE_BYTES = 64 * 1024
ASCII_PROBE_LIMIT = 64 * 1024 * 1024
CHUNK_BYTES = 1024 * 1024
DELIMITERS = (",", "\t", ";", "|")
SNIFF_LINES = 50

# Two UTF-8 encoded CJK characters in a row (lead byte E3–E9, two continuation bytes 80–BF,
# twice) mark a UTF-8 line inside a GBK file. Searched as a substring of byte classes (lead
# L, continuation C), which is much faster on Chinese text than a regular expression.
_UTF8_CLASSES = bytes(
    ord("L") if 0xE3 <= b <= 0xE9 else ord("C") if 0x80 <= b <= 0xBF else ord(".")
    for b in range(256)
)
_UTF8_CJK_CLASSES = b"LCCLCC"


class _Crowding:
    """Finds lines with ``MAX_FIELDS_PER_LINE`` or more delimiters. Quotes are not
    considered (a quoted field full of delimiters counts too). DuckDB's handling of a row
    with far more fields than the header grows with the square of the fields (16,000
    fields: 4 s), so such lines are rejects before it sees them.

    Such a line is at least ``limit`` bytes long, so it covers one of every ``limit``
    consecutive byte positions: only the lines at positions ``limit`` bytes apart are looked
    at (their delimiters counted when they are that long), and the file's ordinary short
    lines cost a few hundred short searches per megabyte instead of a pass over every byte.
    """

    def __init__(self, delimiter: str, limit: int = MAX_FIELDS_PER_LINE) -> None:
        self.delimiter = delimiter.encode("ascii")
        self.limit = limit
        self.carry = 0  # delimiters of the unfinished line at the end of the last chunk

    def feed(self, chunk: bytes) -> bool:
        """Whether a line crossing or inside ``chunk`` (streamed in order) is crowded."""
        first = chunk.find(b"\n")
        if first < 0:
            self.carry = min(self.limit, self.carry + chunk.count(self.delimiter))
            return self.carry >= self.limit
        crowded = self.carry + chunk.count(self.delimiter, 0, first) >= self.limit
        last = chunk.rfind(b"\n")
        self.carry = min(self.limit, chunk.count(self.delimiter, last + 1))
        return crowded or self.carry >= self.limit or self.in_lines(chunk, first + 1, last + 1)

    def in_lines(self, data: bytes, start: int = 0, end: int | None = None) -> bool:
        """Whether a line of ``data[start:end]`` is crowded; the range starts a line and
        ends just after a newline."""
        end = len(data) if end is None else end
        probe = start
        while probe < end:
            line_end = data.find(b"\n", probe, end)
            before = data.rfind(b"\n", start, probe)
            line_start = start if before < 0 else before + 1
            if line_end - line_start < self.limit:
                probe += self.limit  # this line is short and ends before the next probe
                continue
            if data.count(self.delimiter, line_start, line_end) >= self.limit:
                return True
            probe = line_end + 1
        return False

    def crowded(self, line: bytes) -> bool:
        return line.count(self.delimiter) >= self.limit


class Encoding(StrEnum):
    UTF8 = "utf-8"
    UTF8_BOM = "utf-8-sig"
    GBK = "gbk"
    GB18030 = "gb18030"

    @property
    def codec(self) -> str:
        """The Python codec actually used to decode (GBK via its superset GB18030)."""
        return {"utf-8": "utf-8", "utf-8-sig": "utf-8", "gbk": "gb18030"}.get(self.value, "gb18030")

    @property
    def is_utf8(self) -> bool:
        return self in (Encoding.UTF8, Encoding.UTF8_BOM)


def _invalid(zh: str, en: str) -> Invalid:
    return Invalid.field("source", zh, en)


def _looks_binary(data: bytes) -> bool:
    if b"\x00" in data:
        return True
    controls = sum(1 for b in data[:4096] if b < 9 or 13 < b < 32 or b == 127)
    return controls > len(data[:4096]) * 0.02


def _decodes(data: bytes, codec: str) -> bool:
    # final=False: a multi-byte character cut at the end of the sample is not an error.
    try:
        codecs.getincrementaldecoder(codec)(errors="strict").decode(data, final=False)
    except UnicodeDecodeError:
        return False
    return True


def _probe_codec(encoding: Encoding) -> str:
    # Detection tells GBK from GB18030 with the strict GBK codec; decoding uses GB18030.
    return "gbk" if encoding is Encoding.GBK else encoding.codec


def detect_encoding(path: Path) -> Encoding:
    """Decide the encoding from a prefix sample; raise ``Invalid`` for empty or binary files."""
    with open(path, "rb") as fh:
        head = fh.read(SAMPLE_BYTES)
        if not head.strip(b"\r\n\t \xef\xbb\xbf"):
            raise _invalid("文件为空。", "The file is empty.")
        if head.startswith(codecs.BOM_UTF8):
            return Encoding.UTF8_BOM
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            raise _invalid(
                "不支持 UTF-16 编码，请另存为 UTF-8 或 GBK。",
                "UTF-16 is not supported; save the file as UTF-8 or GBK.",
            )
        if _looks_binary(head):
            raise _invalid(
                "这不是文本文件（可能是二进制或压缩文件），请上传 CSV/TSV 文本。",
                "This is not a text file (binary or compressed?); upload CSV/TSV text.",
            )
        probe = head
        read = len(head)
        while probe.isascii() and read < ASCII_PROBE_LIMIT:
            chunk = fh.read(CHUNK_BYTES)
            if not chunk:
                return Encoding.UTF8
            read += len(chunk)
            if not chunk.isascii():
                # Start after a newline: no encoding we accept uses 0x0A inside a character.
                probe = chunk[chunk.find(b"\n") + 1 :]
        if probe.isascii():
            return Encoding.UTF8
    if _decodes(probe, "utf-8"):
        return Encoding.UTF8
    # UTF-8 text often decodes as GBK too, so UTF-8 is decided by a line vote first: a file
    # that is mostly UTF-8 stays UTF-8 and its odd lines become rejects.
    lines = [line for line in probe.split(b"\n")[:-1] if not line.isascii()]
    utf8_lines = sum(_decodes(line, "utf-8") for line in lines)
    if utf8_lines * 2 > len(lines):
        return Encoding.UTF8
    for encoding in (Encoding.GBK, Encoding.GB18030):
        if _decodes(probe, _probe_codec(encoding)):
            return encoding
    if sum(_decodes(line, "gb18030") for line in lines) * 2 > len(lines):
        return Encoding.GB18030
    raise _invalid(
        "无法识别文件编码（支持 UTF-8、GBK、GB18030），文件可能已损坏或混用了多种编码。",
        "Cannot recognise the encoding (UTF-8, GBK, GB18030 are supported); the file may be"
        " damaged or mix encodings.",
    )


def read_text_sample(path: Path, encoding: Encoding, limit: int = SAMPLE_BYTES) -> str:
    """Decoded prefix of the file, cut at the last complete line when the file is longer."""
    with open(path, "rb") as fh:
        data = fh.read(limit)
        more = bool(fh.read(1))
    if data.startswith(codecs.BOM_UTF8):
        data = data[3:]
    if more and b"\n" in data:
        data = data[: data.rfind(b"\n") + 1]
    return data.decode(encoding.codec, errors="replace")


def read_header_sample(path: Path, encoding: Encoding) -> str:
    """The decoded start of the file for delimiter and header detection: ``SAMPLE_BYTES``,
    or more until the first line that is not blank ends (cut at the last complete line).

    Refuses a header line longer than ``MAX_HEADER_BYTES``, such as a large file without a
    single line break, before anything parses it.
    """
    with open(path, "rb") as fh:
        data = fh.read(SAMPLE_BYTES)
        while True:
            start = len(data) - len(data.lstrip())
            if data.find(b"\n", start) >= 0:
                more = bool(fh.read(1))
                break
            if len(data) - start > MAX_HEADER_BYTES:
                limit = size_text(MAX_HEADER_BYTES)
                raise refuse(
                    f"表头行超过 {limit}（其中没有换行），这不像是分隔符文本文件。",
                    f"The header line is longer than {limit} (no line break in it);"
                    " this does not look like a delimited text file.",
                )
            chunk = fh.read(SAMPLE_BYTES)
            if not chunk:
                more = False
                break
            data += chunk
    if data.startswith(codecs.BOM_UTF8):
        data = data[3:]
    if more:
        data = data[: data.rfind(b"\n") + 1]
    return data.decode(encoding.codec, errors="replace")


def detect_delimiter(sample: str, suffix: str = "") -> str:
    """The candidate that splits the sample's first lines into the most consistent field count."""
    lines = sample.splitlines()[:SNIFF_LINES]
    preferred = "\t" if suffix.lower() == ".tsv" else ","
    best, best_score = preferred, (0, 0)
    for candidate in sorted(DELIMITERS, key=lambda d: d != preferred):
        try:
            counts = [
                len(row) for row in csv.reader(io.StringIO("\n".join(lines)), delimiter=candidate)
            ]
        except csv.Error:  # a NUL, or a field longer than the csv module's limit
            continue
        if not counts:
            continue
        width = max(set(counts), key=counts.count)
        if width < 2:
            continue
        score = (counts.count(width), width)
        if score > best_score:
            best, best_score = candidate, score
    return best


def parse_header(sample: str, delimiter: str) -> list[str]:
    try:
        for row in csv.reader(io.StringIO(sample), delimiter=delimiter):
            if any(cell.strip() for cell in row):
                return row
    except csv.Error as exc:
        raise _invalid(
            f"表头行无法读取：{exc}。", f"The header line cannot be read: {exc}."
        ) from None
    return []


def clean_names(names: list[str]) -> list[str]:
    """Trim and NFKC-normalise headers; empty ones become col_N; duplicates get _2, _3, …

    Uniqueness is case-insensitive because the query engine's identifiers are. Linear in
    the number of names: each base name remembers the next suffix to try, and a suffix is
    passed over only when that name is already taken (once per taken name). Refuses more
    than ``MAX_COLUMNS`` names or a name longer than ``MAX_COLUMN_NAME_CHARS``.
    """
    if len(names) > MAX_COLUMNS:
        raise too_many_columns(len(names))
    cleaned: list[str] = []
    taken: set[str] = set()
    next_suffix: dict[str, int] = {}
    for position, raw in enumerate(names, start=1):
        name = unicodedata.normalize("NFKC", raw.replace("\ufeff", "")).strip()
        name = " ".join(name.split())
        if len(name) > MAX_COLUMN_NAME_CHARS:
            raise refuse(
                f"第 {position} 列的列名过长（{len(name):,} 个字符，上限"
                f" {MAX_COLUMN_NAME_CHARS} 个）。",
                f"The name of column {position} is too long ({len(name):,} characters;"
                f" the limit is {MAX_COLUMN_NAME_CHARS}).",
            )
        if not name:
            name = f"col_{position}"
        candidate, key = name, name.lower()
        if key in taken:
            n = next_suffix.get(key, 2)
            while f"{name}_{n}".lower() in taken:
                n += 1
            next_suffix[key] = n + 1
            candidate = f"{name}_{n}"
        taken.add(candidate.lower())
        cleaned.append(candidate)
    return cleaned


def scan_utf8(
    path: Path,
    max_line_bytes: int,
    hasher: hashlib._Hash,
    progress: Callable[[int], None] | None = None,
    delimiter: str | None = None,
) -> bool:
    """Hash the file; return True if some line is longer than ``max_line_bytes`` or has
    ``MAX_FIELDS_PER_LINE`` or more ``delimiter`` bytes (then it must be cleaned first)."""
    chunk_size = min(CHUNK_BYTES, max_line_bytes)
    run = 0
    overlong = False
    crowding = _Crowding(delimiter) if delimiter else None
    with open(path, "rb") as fh:
        while chunk := fh.read(chunk_size):
            hasher.update(chunk)
            if progress is not None:
                progress(len(chunk))
            if overlong:
                continue
            if crowding is not None and crowding.feed(chunk):
                overlong = True
                continue
            first = chunk.find(b"\n")
            if first < 0:
                run += len(chunk)
            else:
                overlong = run + first > max_line_bytes
                run = len(chunk) - chunk.rfind(b"\n") - 1
            overlong = overlong or run > max_line_bytes
    return overlong


@dataclass
class CleanCopy:
    """Result of a clean copy: which source lines were dropped (to map line numbers back)."""

    lines: int = 0
    dropped: list[int] = field(default_factory=list)

    def original_line(self, copied_line: int) -> int:
        """Line number in the source of line ``copied_line`` of the copy."""
        line = copied_line
        for dropped in self.dropped:
            if dropped <= line:
                line += 1
            else:
                break
        return line


class _Copier:
    def __init__(
        self,
        encoding: Encoding,
        out: BinaryIO,
        rejects: RejectSink,
        max_line_bytes: int,
        delimiter: str | None = None,
    ) -> None:
        self.crowding = _Crowding(delimiter) if delimiter else None
        self.codec = encoding.codec
        self.check_mixed = not encoding.is_utf8
        self.out = out
        self.rejects = rejects
        self.max_line_bytes = max_line_bytes
        self.result = CleanCopy()

    def drop(self, line: int, reason: RejectReason, detail: str, raw: bytes) -> None:
        if line == 1:
            raise _invalid(
                f"表头行无法读取：{detail}。", f"The header line cannot be read: {detail}."
            )
        self.result.dropped.append(line)
        self.rejects.add(Reject.of(line, reason, detail, raw))

    def lines(self, block: bytes, first_line: int) -> None:
        """Write complete lines (``block`` ends with a newline), rejecting the bad ones."""
        bad_spans = self._utf8_lines(block) if self.check_mixed else set()
        crowded = self.crowding is not None and self.crowding.in_lines(block)
        if not bad_spans and not crowded:
            try:
                self.out.write(block.decode(self.codec).encode("utf-8"))
                return
            except UnicodeDecodeError:
                pass
        start, line = 0, first_line
        while start < len(block):
            end = block.index(b"\n", start) + 1
            raw = block[start:end]
            if crowded and self.crowding is not None and self.crowding.crowded(raw):
                detail = f"{MAX_FIELDS_PER_LINE} or more fields"
                self.drop(line, RejectReason.TOO_MANY_FIELDS, detail, raw)
            elif start in bad_spans:
                self.drop(line, RejectReason.MIXED_ENCODING, "UTF-8 line in a GBK file", raw)
            else:
                try:
                    self.out.write(raw.decode(self.codec).encode("utf-8"))
                except UnicodeDecodeError as exc:
                    detail = f"bytes not valid {self.codec} at column {exc.start + 1}"
                    self.drop(line, RejectReason.INVALID_ENCODING, detail, raw)
            start, line = end, line + 1

    def _utf8_lines(self, block: bytes) -> set[int]:
        """Start offsets of lines that are valid UTF-8 with Chinese text (mixed encodings)."""
        found: set[int] = set()
        classes = block.translate(_UTF8_CLASSES)
        hit = classes.find(_UTF8_CJK_CLASSES)
        while hit >= 0:
            start = block.rfind(b"\n", 0, hit) + 1
            end = block.find(b"\n", hit)
            end = end if end >= 0 else len(block)
            try:
                block[start:end].decode("utf-8")
                found.add(start)
            except UnicodeDecodeError:
                pass
            hit = classes.find(_UTF8_CJK_CLASSES, end)  # one test per line
        return found


def clean_copy(
    path: Path,
    out: BinaryIO,
    encoding: Encoding,
    rejects: RejectSink,
    max_line_bytes: int,
    hasher: hashlib._Hash | None = None,
    progress: Callable[[int], None] | None = None,
    delimiter: str | None = None,
) -> CleanCopy:
    """Stream ``path`` to ``out`` as UTF-8, rejecting overlong, undecodable and mixed lines.

    With ``delimiter``, lines with ``MAX_FIELDS_PER_LINE`` or more delimiters are rejects
    too. Memory stays bounded by ``max_line_bytes``: an overlong line is skipped as it streams,
    never held whole. Line numbers in the copy map back with ``CleanCopy.original_line``.
    """
    copier = _Copier(encoding, out, rejects, max_line_bytes, delimiter)
    chunk_size = min(CHUNK_BYTES, max_line_bytes)
    carry = b""
    skipping = False
    line = 0  # complete source lines handled so far
    first = True
    with open(path, "rb") as fh:
        while chunk := fh.read(chunk_size):
            if hasher is not None:
                hasher.update(chunk)
            if progress is not None:
                progress(len(chunk))
            if first:
                first = False
                if chunk.startswith(codecs.BOM_UTF8):
                    chunk = chunk[3:]
            if skipping:
                newline = chunk.find(b"\n")
                if newline < 0:
                    continue
                skipping, line, chunk = False, line + 1, chunk[newline + 1 :]
            elif carry:
                newline = chunk.find(b"\n")
                length = len(carry) + (newline if newline >= 0 else len(chunk))
                if length > max_line_bytes:
                    detail = f"line longer than {max_line_bytes} bytes"
                    copier.drop(line + 1, RejectReason.LINE_TOO_LONG, detail, carry)
                    carry = b""
                    if newline < 0:
                        skipping = True
                        continue
                    line, chunk = line + 1, chunk[newline + 1 :]
                else:
                    chunk, carry = carry + chunk, b""
            last = chunk.rfind(b"\n")
            if last < 0:
                carry = chunk
                continue
            block, carry = chunk[: last + 1], chunk[last + 1 :]
            copier.lines(block, line + 1)
            line += block.count(b"\n")
        if skipping:
            line += 1
        elif carry:
            copier.lines(carry + b"\n", line + 1)
            line += 1
    copier.result.lines = line
    return copier.result
