"""Readers: JSON Lines, with nesting and size limits."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

import pyarrow as pa

from shuzhi.lake.limits import (
    JSONL_SCHEMA_BYTES,
    MAX_COLUMNS,
    MAX_JSON_DEPTH,
    too_many_columns,
)
from shuzhi.lake.progress import ByteMeter
from shuzhi.lake.readers.common import (
    JSONL_SCHEMA_LINES,
    FileSource,
    Reader,
    ReadOptions,
    _existing,
    _hasher,
    _invalid,
    _string_batch,
    text_value,
)
from shuzhi.lake.rejects import Reject, RejectReason, RejectSink
from shuzhi.lake.text import (
    clean_names,
)


def _json_depth_over(value: object, limit: int) -> bool:
    """Whether arrays and objects nest deeper than ``limit`` (iterative: no recursion)."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item
        assert isinstance(children, Iterable)
        for child in children:
            if isinstance(child, dict | list):
                if depth + 1 > limit:
                    return True
                stack.append((child, depth + 1))
    return False


class JsonLinesReader(Reader):
    """One JSON object per line (UTF-8); columns are the keys seen in the first lines
    (``JSONL_SCHEMA_LINES`` lines or ``JSONL_SCHEMA_BYTES`` bytes, whichever comes first)."""

    format = "jsonl"

    def __init__(self, source: FileSource, options: ReadOptions) -> None:
        self.path = _existing(source.path)
        self.options = options
        self._fh = open(self.path, "rb")  # noqa: SIM115 — closed by close()
        self._meter = ByteMeter(source.on_bytes, self.path.stat().st_size)
        self._hasher = _hasher({"format": self.format})
        self._line = 0
        self._head: list[tuple[int, dict[str, Any] | Reject]] = []
        keys: dict[str, None] = {}
        for number, item in self._parsed_lines():
            self._head.append((number, item))
            if isinstance(item, dict):
                keys.update(dict.fromkeys(item))
                if len(keys) > MAX_COLUMNS:
                    self._fh.close()
                    raise too_many_columns(len(keys))
            if len(self._head) >= JSONL_SCHEMA_LINES or self._fh.tell() > JSONL_SCHEMA_BYTES:
                break
        if not keys:
            self._fh.close()
            raise _invalid("文件中没有 JSON 对象。", "The file holds no JSON objects.")
        self.source_columns = list(keys)
        self.columns = clean_names(self.source_columns)

    def describe(self) -> dict[str, Any]:
        return {
            "kind": "file",
            "format": self.format,
            "name": self.path.name,
            "bytes": self.path.stat().st_size,
        }

    def _read_line(self) -> tuple[bytes, bool] | None:
        """Next line (bounded), and whether it was too long (then only its prefix)."""
        cap = self.options.max_line_bytes
        data = self._fh.readline(cap + 1)
        if not data:
            return None
        self._hasher.update(data)
        if len(data) <= cap or data.endswith(b"\n"):
            self._meter.at(self._fh.tell())
            return data, False
        prefix = data
        while data and not data.endswith(b"\n"):
            data = self._fh.readline(1024 * 1024)
            self._hasher.update(data)
        self._meter.at(self._fh.tell())
        return prefix, True

    def _parsed_lines(self) -> Iterator[tuple[int, dict[str, Any] | Reject]]:
        while (read := self._read_line()) is not None:
            data, overlong = read
            self._line += 1
            number = self._line
            if number == 1 and data.startswith(b"\xef\xbb\xbf"):
                data = data[3:]
            if overlong:
                detail = f"line longer than {self.options.max_line_bytes} bytes"
                yield number, Reject.of(number, RejectReason.LINE_TOO_LONG, detail, data)
                continue
            if not data.strip():
                continue
            try:
                item = json.loads(data.decode("utf-8"))
            except UnicodeDecodeError as exc:
                detail = f"not UTF-8 at byte {exc.start + 1}"
                yield number, Reject.of(number, RejectReason.INVALID_ENCODING, detail, data)
                continue
            except json.JSONDecodeError as exc:
                yield number, Reject.of(number, RejectReason.INVALID_JSON, exc.msg, data)
                continue
            except RecursionError:
                detail = f"nested deeper than {MAX_JSON_DEPTH} levels"
                yield number, Reject.of(number, RejectReason.INVALID_JSON, detail, data)
                continue
            except ValueError as exc:  # e.g. an integer of more digits than Python converts
                detail = str(exc).splitlines()[0][:200]
                yield number, Reject.of(number, RejectReason.INVALID_JSON, detail, data)
                continue
            if not isinstance(item, dict):
                yield (
                    number,
                    Reject.of(number, RejectReason.NOT_AN_OBJECT, type(item).__name__, data),
                )
                continue
            if _json_depth_over(item, MAX_JSON_DEPTH):
                detail = f"nested deeper than {MAX_JSON_DEPTH} levels"
                yield number, Reject.of(number, RejectReason.INVALID_JSON, detail, data)
                continue
            yield number, item

    def batches(self, rejects: RejectSink) -> Iterator[pa.RecordBatch]:
        known = set(self.source_columns)
        rows: list[list[str | None]] = []

        def items() -> Iterator[tuple[int, dict[str, Any] | Reject]]:
            yield from self._head
            yield from self._parsed_lines()

        for number, item in items():
            if isinstance(item, Reject):
                rejects.add(item)
                continue
            extra = [k for k in item if k not in known]
            if extra:
                raw = json.dumps(item, ensure_ascii=False)
                shown = ", ".join(extra[:20])
                if len(extra) > 20:
                    shown += f" (+{len(extra) - 20})"
                rejects.add(Reject.of(number, RejectReason.UNKNOWN_FIELDS, shown, raw))
                continue
            rows.append([_json_text(item.get(key)) for key in self.source_columns])
            if len(rows) >= self.options.batch_rows:
                yield _string_batch(self.columns, rows)
                rows = []
        if rows:
            yield _string_batch(self.columns, rows)
        self._meter.finish()

    def content_hash(self) -> str:
        return str(self._hasher.hexdigest())

    def close(self) -> None:
        self._fh.close()


def _json_text(value: object) -> str | None:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if isinstance(value, bool | int | float):
        return json.dumps(value)
    return text_value(value)
