"""The key index answers exactly as the engine does: any text (separators and the escape
character included), nulls, keys shared by many rows (in load order, across blocks and
within one part), missing keys, and versions split into several parts."""

from __future__ import annotations

import itertools
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from shuzhi.gateway import keybuild, keyindex
from shuzhi.lake.manifest import ColumnSchema, RejectSummary, Version
from shuzhi.lake.query import DuckDBEngine, Filter, Op, Order

COLUMNS = ("k", "a", "b")
_serial = itertools.count()


def _version(root: Path, rows: list[tuple[str | None, ...]]) -> Version:
    directory = root / "datasets" / "T" / f"{next(_serial)}"
    directory.mkdir(parents=True)
    table = pa.table(
        {name: pa.array([r[i] for r in rows], pa.string()) for i, name in enumerate(COLUMNS)}
    )
    data_file = "v000001-000000000000.parquet"
    pq.write_table(table, directory / data_file)
    return Version(
        directory=directory,
        version_id="v000001-000000000000",
        sequence=1,
        created_at="2026-01-01T00:00:00Z",
        data_file=data_file,
        data_file_sha256=f"{next(_serial):064d}",
        data_bytes=(directory / data_file).stat().st_size,
        row_count=len(rows),
        columns=tuple(ColumnSchema(n, "string", n) for n in COLUMNS),
        content_hash="",
        source={},
        rejects=RejectSummary(),
        timings={},
    )


def _index(root: Path, version: Version) -> keyindex.KeyIndex:
    engine = DuckDBEngine(root / "datasets")
    try:
        path = keybuild.ensure(engine, root, version, "k")
    finally:
        engine.close()
    assert path is not None
    return keyindex.KeyIndex(path, "k")


def _agree(root: Path, rows: list[tuple[str | None, ...]], probes: list[str]) -> None:
    version = _version(root, rows)
    index = _index(root, version)
    engine = DuckDBEngine(root / "datasets")
    try:
        for key in probes:
            for limit in (1, 2, 100):
                expected = engine.lookup(version, "k", key, ["b", "a", "k"], limit)
                assert index.get(key, ["b", "a", "k"], limit) == expected, (key, limit)
    finally:
        engine.close()


TEXT = st.text(
    alphabet=st.sampled_from(["x", "y", "é", "号", " ", "\x1b", "\x1e", "\x1f", "N", ">", "?"]),
    max_size=4,
)
ROWS = st.lists(
    st.tuples(TEXT, st.none() | TEXT, st.none() | TEXT) | st.tuples(st.none(), TEXT, TEXT),
    max_size=40,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=ROWS, block=st.integers(1, 5), part=st.integers(3, 50), extra=st.lists(TEXT))
@example(rows=[("\x1bN", None, None)], block=1, part=3, extra=[])  # a value like the null mark
# A probe holding a separator must not match across the fields of a row with an empty key.
@example(rows=[("", "", None), ("x", "x", None)], block=2, part=3, extra=["\x1f", "\x1f\x1f"])
def test_lookups_equal_engine_lookups(
    rows: list[tuple[str | None, ...]], block: int, part: int, extra: list[str]
) -> None:
    # Slices of two blocks: rows are joined into text a few blocks at a time.
    keys = sorted({r[0] for r in rows if r[0] is not None})
    with (
        tempfile.TemporaryDirectory() as tmp,
        pytest.MonkeyPatch.context() as patch,
    ):
        patch.setattr(keybuild, "BLOCK_ROWS", block)
        patch.setattr(keybuild, "PART_ROWS", part)
        patch.setattr(keybuild, "SLICE_ROWS", 2 * block)
        _agree(Path(tmp), rows, keys + extra)


def test_many_rows_sharing_keys_across_blocks_and_parts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(keybuild, "BLOCK_ROWS", 4)
    monkeypatch.setattr(keybuild, "PART_ROWS", 50)
    rows: list[tuple[str | None, ...]] = [
        (f"{i % 17:03d}", f"row {i}", None if i % 5 else "five") for i in range(300)
    ]
    version = _version(tmp_path, rows)
    index = _index(tmp_path, version)
    assert len(list(index.path.glob("part-*.blk"))) > 1
    found = index.get("004", ["a"], 100)
    assert [r["a"] for r in found] == [f"row {i}" for i in range(4, 300, 17)]
    assert index.get("017", ["a"], 100) == [] and index.get("", ["a"], 100) == []


def test_a_version_of_the_key_column_alone(tmp_path: Path) -> None:
    rows = [("b",), ("a",), ("b",), ("c\x1e",)]
    directory = tmp_path / "datasets" / "K" / "1"
    directory.mkdir(parents=True)
    pq.write_table(pa.table({"k": pa.array([r[0] for r in rows])}), directory / "v.parquet")
    version = Version(
        directory=directory,
        version_id="v000001-000000000000",
        sequence=1,
        created_at="2026-01-01T00:00:00Z",
        data_file="v.parquet",
        data_file_sha256="0" * 64,
        data_bytes=1,
        row_count=len(rows),
        columns=(ColumnSchema("k", "string", "k"),),
        content_hash="",
        source={},
        rejects=RejectSummary(),
        timings={},
    )
    index = _index(tmp_path, version)
    assert index.get("b", ["k"], 10) == [{"k": "b"}, {"k": "b"}]
    assert index.get("c\x1e", ["k"], 10) == [{"k": "c\x1e"}]
    assert index.get("a", ["k"], 10) == [{"k": "a"}] and index.get("d", ["k"], 10) == []


class _Failing(DuckDBEngine):
    """An engine whose answers of more than one batch fail after the first (a disk filled up
    while its sort spilled): the build's one row for the column types goes through, its pass
    in key order does not."""

    def _stream(self, cursor: Any, sql: str, params: list[Any]) -> Iterator[pa.RecordBatch]:
        batches = super()._stream(cursor, sql, params)
        yield from itertools.islice(batches, 1)
        for _ in batches:
            raise OSError("no space left on device")


def test_a_failed_build_leaves_nothing_and_does_not_hang(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(keybuild, "PART_ROWS", 5)
    version = _version(tmp_path, [(f"k{i:02d}", "a", "b") for i in range(40)])
    engine = _Failing(tmp_path / "datasets")
    engine.capabilities = replace(engine.capabilities, batch_rows=4)
    try:
        with pytest.raises(OSError, match="no space"):
            keybuild.ensure(engine, tmp_path, version, "k")
    finally:
        engine.close()
    assert [p.name for p in (tmp_path / keyindex.INDEX_DIR).iterdir()] == [
        keyindex.index_path(tmp_path, version, "k").with_suffix(".lock").name
    ]


class _OtherCollation(DuckDBEngine):
    """An engine whose sorted scans follow another order than the code points'."""

    def scan(
        self,
        version: Version,
        columns: Sequence[str] | None = None,
        filters: Sequence[Filter] = (),
        order_by: Sequence[Order] = (),
        limit: int | None = None,
        after_key: Sequence[Any] | None = None,
    ) -> Iterator[pa.RecordBatch]:
        flipped = [replace(o, descending=True) for o in order_by]
        return super().scan(version, columns, filters, flipped, limit, after_key)


def test_an_engine_sorting_otherwise_still_gives_a_true_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(keybuild, "PART_ROWS", 7)
    rows: list[tuple[str | None, ...]] = [
        (f"k{(i * 7) % 30:02d}", f"a{i}", None) for i in range(30)
    ]
    version = _version(tmp_path, rows)
    engine = _OtherCollation(tmp_path / "datasets")
    try:
        path = keybuild.ensure(engine, tmp_path, version, "k")
    finally:
        engine.close()
    assert path is not None
    index = keyindex.KeyIndex(path, "k")
    for i in range(30):
        assert index.get(f"k{(i * 7) % 30:02d}", ["a"], 5) == [{"a": f"a{i}"}]


def test_a_large_index_compresses_with_its_dictionary(tmp_path: Path) -> None:
    # Enough rows for the dictionary to be trained (several hundred KB of row text).
    rows: list[tuple[str | None, ...]] = [
        (f"{i * 7919 % 100_003:06d}", f"城区{i % 37}路{i % 101}号 住户{i}", None if i % 9 else "x")
        for i in range(30_000)
    ]
    version = _version(tmp_path, rows)
    index = _index(tmp_path, version)
    assert (index.path / keyindex.DICTIONARY).exists()
    engine = DuckDBEngine(tmp_path / "datasets")
    try:
        for key in [r[0] for r in rows[::997]] + ["999999"]:
            assert key is not None
            expected = engine.lookup(version, "k", key, ["a", "b"], 10)
            assert index.get(key, ["a", "b"], 10) == expected
    finally:
        engine.close()


def test_duckdb_builds_from_its_sort_of_keys_and_positions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The engine sorts (key, row position): one sort, keys repeating or not; the Arrow-side
    # sort is only for engines that cannot.
    monkeypatch.setattr(keybuild, "PART_ROWS", 5)

    def refused(*args: Any, **kwargs: Any) -> Iterator[Any]:
        raise AssertionError("the engine's (key, position) sort was not used")

    monkeypatch.setattr(keybuild, "_parts", refused)
    rows: list[tuple[str | None, ...]] = [
        (None if i % 11 == 0 else f"k{(i * 7) % 9}", f"a{i}", None if i % 3 else "\x1fx")
        for i in range(60)
    ]
    version = _version(tmp_path, rows)
    index = _index(tmp_path, version)
    assert len(index._files) > 1
    _agree(tmp_path, rows, [f"k{i}" for i in range(10)])


@pytest.mark.parametrize("native", [True, False])
def test_a_version_without_keys_gives_an_empty_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, native: bool
) -> None:
    if not native:
        monkeypatch.setattr(keybuild, "_numbered", lambda *args: False)
    keyless: list[tuple[str | None, ...]] = [(None, "a", "b"), (None, None, "c")]
    for rows in ([], keyless):
        index = _index(tmp_path, _version(tmp_path, rows))
        assert index.get("a", ["a", "b"], 10) == [] and index.get("", ["k"], 10) == []


class _Counting(DuckDBEngine):
    """An engine that counts its scans filtered on the key and its passes in key order."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.filtered_scans = 0
        self.passes = 0

    def scan(
        self, version: Version, columns: Any = None, filters: Any = (), *args: Any, **kwargs: Any
    ) -> Iterator[pa.RecordBatch]:
        self.filtered_scans += any(f.op is not Op.NOT_NULL for f in filters)
        return super().scan(version, columns, filters, *args, **kwargs)

    def key_rows(self, *args: Any) -> Iterator[pa.RecordBatch]:
        self.passes += 1
        return super().key_rows(*args)


ROWS_OF_MANY_PARTS: list[tuple[str | None, ...]] = [
    (
        None if i % 13 == 0 else f"k{(i * 7) % 23:02d}",
        f"a{i}\x1f" if i % 17 == 0 else f"a{i}",
        None if i % 3 else "b",
    )
    for i in range(120)
]


def test_a_version_of_many_parts_gives_a_true_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(keybuild, "PART_ROWS", 7)
    version = _version(tmp_path, ROWS_OF_MANY_PARTS)
    engine = _Counting(tmp_path / "datasets")
    try:
        path = keybuild.ensure(engine, tmp_path, version, "k")
        assert path is not None
        # One pass in key order however many parts: no scan filtered on a key range.
        assert (engine.passes, engine.filtered_scans) == (1, 0)
        index = keyindex.KeyIndex(path, "k")
        assert len(index._files) > 1
        for key in [f"k{i:02d}" for i in range(25)]:
            expected = engine.lookup(version, "k", key, ["a", "b", "k"], 100)
            assert index.get(key, ["a", "b", "k"], 100) == expected, key
    finally:
        engine.close()


def _upper_after_lower(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """Rows sorted by key (the first column) as another collation sorts them, capitals after
    small letters, in two batches: the first of eight rows."""
    rows = pa.Table.from_batches(list(batches))
    keys = rows.column(0).to_pylist()
    order = sorted(range(len(keys)), key=lambda i: (keys[i].isupper(), keys[i].lower(), i))
    ordered = rows.take(order)
    return iter([*ordered.slice(0, 8).to_batches(), *ordered.slice(8).to_batches()])


class _UpperAfterLower(DuckDBEngine):
    """An engine whose sorts (key and position, whole rows, sorted scans) follow another
    collation than the code points'."""

    def key_rows(self, version: Version, key: str, columns: Sequence[str]) -> Any:
        return _upper_after_lower(super().key_rows(version, key, columns))

    def key_positions(self, version: Version, key: str) -> Any:
        return _upper_after_lower(super().key_positions(version, key))

    def scan(self, version: Version, *args: Any, **kwargs: Any) -> Iterator[pa.RecordBatch]:
        batches = super().scan(version, *args, **kwargs)
        return _upper_after_lower(batches) if kwargs.get("order_by") else batches


@pytest.mark.parametrize("path", ["one pass", "sorted scan"])
def test_a_disorder_where_a_part_is_cut_still_gives_a_true_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    # The engine's order: b … h, B, C, D. Eight rows make a part, cut before its last key
    # (B), so each part is in order by itself and only the second starting below the first's
    # last key (h) tells that the order is not the code points'.
    monkeypatch.setattr(keybuild, "PART_ROWS", 8)
    if path == "sorted scan":
        monkeypatch.setattr(keybuild, "_numbered", lambda *args: False)
    rows: list[tuple[str | None, ...]] = [(k, f"a{k}", None) for k in "bcdefghBCD"]
    version = _version(tmp_path, rows)
    engine = _UpperAfterLower(tmp_path / "datasets")
    try:
        built = keybuild.ensure(engine, tmp_path, version, "k")
        assert built is not None
        index = keyindex.KeyIndex(built, "k")
        for key, _, _ in rows:
            assert index.get(str(key), ["a"], 5) == [{"a": f"a{key}"}], key
    finally:
        engine.close()


def test_a_part_is_combined_in_the_build_pool() -> None:
    """The part's text is combined with memory from the build's pool, not the default
    pool (``ChunkedArray.combine_chunks`` ignores the pool it is given)."""
    chunks = [pa.array([f"{n:08d}" * 16] * 5000, pa.large_string()) for n in range(8)]
    text = pa.chunked_array(chunks)
    size = sum(c.nbytes for c in chunks)
    default = pa.default_memory_pool()
    in_pool, in_default = keybuild.POOL.bytes_allocated(), default.bytes_allocated()
    combined = keybuild._combined(text)
    assert combined.equals(pa.concat_arrays(chunks))
    assert keybuild.POOL.bytes_allocated() - in_pool >= size
    if keybuild.POOL is not default:
        assert default.bytes_allocated() - in_default < size // 2
    alone = keybuild._combined(pa.chunked_array([chunks[0]]))  # one chunk: not copied
    assert alone.buffers()[2].address == chunks[0].buffers()[2].address
    assert len(keybuild._combined(pa.chunked_array([], pa.large_string()))) == 0
