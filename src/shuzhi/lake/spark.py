"""``QueryEngine`` on Apache Spark, for deployments whose datasets outgrow one machine.

Optional: ``pip install 'shuzhi[spark]'`` (PySpark carries Spark's jars; Java 17 must be
installed) and ``SHUZHI_QUERY_ENGINE=spark``. The engine builds the same statements as
``DuckDBEngine`` (``lake.sql.Statements``) in the ``SPARK`` dialect, binds the same values
as parameters, and keeps the semantics documented in ``lake.query``; the cross-engine
golden tests hold both to identical answers.

A process has one Spark session (one JVM driver), started on first use against
``SHUZHI_SPARK_MASTER`` (``local[2]``, ``spark://host:7077``, ``yarn`` …). A session that
cannot start is an ``Unavailable`` error naming the setting; nothing falls back silently.
On a cluster the lake directory must be shared storage mounted at the same path on every
executor.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import logging
import re
import shutil
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import pyarrow as pa
import pyarrow.parquet as pq

from shuzhi.errors import ShuzhiError, Unavailable
from shuzhi.lake.manifest import Version
from shuzhi.lake.profile import Profile, compute_profile
from shuzhi.lake.query import SORTED_PREFIX, SPILL_DIR, EngineCapabilities, StatementEngine
from shuzhi.lake.sql import (
    MAX_IN_VALUES,
    POSITION,
    SPARK,
    Filter,
    Order,
    Statements,
    bad_request,
    read_schema,
)
from shuzhi.lake.writer import locked
from shuzhi.settings import SPARK_MASTER

SPARK_CAPABILITIES = EngineCapabilities(
    name="spark",
    max_in_values=MAX_IN_VALUES,
    max_scan_rows=None,
    keyset_pagination=True,
    approximate_distinct=True,
    batch_rows=65_536,
)

# Above this many rows a scan is streamed partition by partition instead of collected.
COLLECT_ROWS = 1_000_000
VIEWS_KEPT = 256
# The profile's per-column scans are separate Spark jobs: this many are submitted at once
# (the per-job scheduling latency overlaps; the cluster shares its cores among them).
PROFILE_JOBS = 4

log = logging.getLogger("shuzhi.lake")
_lock = threading.Lock()
_session: tuple[str, Any] | None = None
T = TypeVar("T")
_engines = itertools.count(1)


def _start_failure(master: str, reason: str) -> Unavailable:
    return Unavailable(
        f"Spark 会话无法启动（SHUZHI_SPARK_MASTER={master}）：{reason}。"
        "请检查 SHUZHI_SPARK_MASTER 与 Java 17，或设置 SHUZHI_QUERY_ENGINE=duckdb。",
        f"The Spark session could not start (SHUZHI_SPARK_MASTER={master}): {reason}. "
        "Check SHUZHI_SPARK_MASTER and Java 17, or set SHUZHI_QUERY_ENGINE=duckdb.",
    )


def _job_failure(master: str, exc: BaseException) -> Unavailable:
    # Spark's message may name files and hosts: it goes to the server log, not to callers.
    log.error("Spark job failed on %s", master, exc_info=exc)
    return Unavailable(
        f"Spark 作业失败（SHUZHI_SPARK_MASTER={master}），详情见服务器日志。请稍后重试。",
        f"The Spark job failed (SHUZHI_SPARK_MASTER={master}); the server log has the details."
        " Try again later.",
    )


def spark_session(master: str, driver_memory: str = "1g") -> Any:
    """The process's Spark session, started on first use (one JVM per process)."""
    global _session
    with _lock:
        if _session is not None:
            running, session = _session
            if running != master:
                raise _start_failure(master, f"this process already runs Spark on {running}")
            if _alive(session):
                return session
            _session = None  # its JVM died (e.g. out of memory) or it was stopped: start anew
            _forget(session)
        if not SPARK_MASTER.fullmatch(master):
            raise _start_failure(master, "not a Spark master URL")
        try:
            from pyspark.sql import SparkSession
        except ImportError:
            raise _start_failure(
                master, "PySpark is not installed (pip install 'shuzhi[spark]')"
            ) from None
        builder = (
            SparkSession.builder.master(master)
            .appName("shuzhi")
            .config("spark.driver.memory", driver_memory)
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.ansi.enabled", "true")
            .config("spark.sql.parquet.inferTimestampNTZ.enabled", "true")
        )
        # Input splits of 16 MB (a few Parquet row groups): a streamed answer holds at most
        # two splits in the driver at a time.
        builder = builder.config("spark.sql.files.maxPartitionBytes", "16m")
        if master.startswith("local"):
            # A handful of cores: few shuffle partitions (adaptive execution merges more).
            builder = builder.config("spark.sql.shuffle.partitions", "4")
        try:
            session = builder.getOrCreate()
        except Exception as exc:  # the JVM or the master refused: say which setting
            lines = str(exc).strip().splitlines() or [type(exc).__name__]
            raise _start_failure(master, lines[0][:300]) from exc
        session.sparkContext.setLogLevel("ERROR")
        _session = (master, session)
        return session


def _alive(session: Any) -> bool:
    try:
        return not session.sparkContext._jsc.sc().isStopped()
    except Exception:  # the JVM is gone
        return False


def _forget(session: Any) -> None:
    """Let PySpark start a new JVM: it would otherwise reuse the gateway of a dead one."""
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    with contextlib.suppress(Exception):  # the JVM is gone already
        session.stop()
    gateway = SparkContext._gateway
    if gateway is not None:
        try:
            gateway.jvm.java.lang.System.currentTimeMillis()
        except Exception:
            SparkContext._gateway = None
            SparkContext._jvm = None
    SparkContext._active_spark_context = None
    SparkSession._instantiatedSession = None
    SparkSession._activeSession = None


def stop_session() -> None:
    """Stop the process's Spark session (tests, shutdown)."""
    global _session
    with _lock:
        if _session is not None:
            _session[1].stop()
            _session = None


def _arrow_schema(frame: Any) -> pa.Schema:
    """The Arrow schema of a Spark frame's answer, as plain fields (times in UTC)."""
    from pyspark.sql.pandas.types import to_arrow_schema

    schema = to_arrow_schema(frame.schema, timezone="UTC")
    return pa.schema([pa.field(f.name, f.type) for f in schema])


def _hadoop_path(path: Path) -> str:
    """A local file for Spark's reader: glob characters escaped, the local file system named."""
    escaped = re.sub(r"([\\*?\[\]{}])", r"\\\1", str(path))
    return "file:" + escaped


class _Rows:
    def __init__(self, rows: list[Any]) -> None:
        self._rows = rows

    def fetchone(self) -> Any:
        return self._rows[0] if self._rows else None

    def fetchall(self) -> list[Any]:
        return self._rows


class _Cursor:
    """Just enough of a DB-API cursor over Spark SQL for ``compute_profile``; statements may
    run from several threads at once (each answer is its own object)."""

    def __init__(self, session: Any) -> None:
        self._session = session

    def execute(self, sql: str, params: Sequence[Any] = ()) -> _Rows:
        return _Rows([tuple(r) for r in self._session.sql(sql, args=list(params)).collect()])


class SparkEngine(StatementEngine):
    """``QueryEngine`` on a Spark session, over the versions' Parquet files in the lake."""

    capabilities = SPARK_CAPABILITIES
    dialect = SPARK

    def __init__(self, root: Path, *, master: str = "local[2]", driver_memory: str = "1g"):
        self.root = root.resolve()
        self.master = master
        self.driver_memory = driver_memory
        self._current = spark_session(master, driver_memory)
        self._views: OrderedDict[str, str] = OrderedDict()
        self._views_lock = threading.Lock()
        self._serial = next(_engines)

    @property
    def _session(self) -> Any:
        """The process's session; after its JVM died, a new one (the views start afresh)."""
        session = spark_session(self.master, self.driver_memory)
        if session is not self._current:
            with self._views_lock:
                self._views.clear()
                self._current = session
        return session

    def close(self) -> None:
        # The session belongs to the process (other engines may share it): drop only ours.
        with self._views_lock:
            if _alive(self._current):
                for name in self._views.values():
                    self._current.catalog.dropTempView(name)
                    self._current.catalog.dropTempView(name + "_n")
            self._views.clear()

    def _view(self, path: Path) -> str:
        """The temporary view of one version's file (and ``<view>_n``, with positions)."""
        key = str(path)
        session = self._session
        with self._views_lock:
            name = self._views.get(key)
            if name is not None:
                self._views.move_to_end(key)
                return name
            from pyspark.sql import functions as F

            # Named per engine too: engines sharing the session never drop each other's.
            name = f"v{self._serial}_" + hashlib.sha256(key.encode()).hexdigest()[:24]
            frame = self._guard(lambda: session.read.parquet(_hadoop_path(path)))
            frame.createOrReplaceTempView(name)
            # Parquet's row index: the 0-based position of the row within its file.
            frame.select("*", F.col("_metadata.row_index").alias(POSITION)).createOrReplaceTempView(
                name + "_n"
            )
            self._views[key] = name
            while len(self._views) > VIEWS_KEPT:
                _, old = self._views.popitem(last=False)
                session.catalog.dropTempView(old)
                session.catalog.dropTempView(old + "_n")
            return name

    def _statements(self, version: Version) -> Statements:
        path = version.data_path.resolve()
        if not path.is_relative_to(self.root):
            raise bad_request(
                "该版本不在数据湖目录中。", "The version lies outside the lake directory."
            )
        schema = read_schema(str(path))
        view = self._view(path)
        return Statements(SPARK, schema, view, (), numbered=view + "_n")

    def _guard(self, work: Callable[[], T]) -> T:
        """Run Spark work; a failed or cancelled job (an executor lost, the job killed)
        becomes an ``Unavailable`` error, so callers clean up as for any refused step."""
        try:
            return work()
        except ShuzhiError:
            raise
        except Exception as exc:
            raise _job_failure(self.master, exc) from exc

    def _frame(self, sql: str, params: list[Any]) -> Any:
        return self._guard(lambda: self._session.sql(sql, args=params))

    def _table(self, sql: str, params: list[Any]) -> pa.Table:
        table: pa.Table = self._guard(lambda: self._frame(sql, params).toArrow())
        # Spark labels columns with its own field metadata; answers carry plain fields.
        return pa.Table.from_arrays(table.columns, names=table.column_names)

    def scan(
        self,
        version: Version,
        columns: Sequence[str] | None = None,
        filters: Sequence[Filter] = (),
        order_by: Sequence[Order] = (),
        limit: int | None = None,
        after_key: Sequence[Any] | None = None,
    ) -> Iterator[pa.RecordBatch]:
        sql, params = self._statements(version).scan(columns, filters, order_by, limit, after_key)
        rows = version.row_count if limit is None else min(limit, version.row_count)
        return self._stream(sql, params, rows)

    def _stream(self, sql: str, params: list[Any], rows: int) -> Iterator[pa.RecordBatch]:
        """The answer in Arrow batches. Up to ``COLLECT_ROWS`` rows (the version's size or the
        limit) it is collected at once, as Arrow; larger answers (exports) come one partition
        at a time, in order, so neither driver holds them whole."""
        size = self.capabilities.batch_rows
        if rows <= COLLECT_ROWS:
            yield from self._table(sql, params).to_batches(size)
            return
        frame = self._frame(sql, params)
        schema = _arrow_schema(frame)
        rows_of = self._guard(lambda: frame.toLocalIterator(prefetchPartitions=True))
        while True:
            pending = self._guard(lambda: [r for _, r in zip(range(size), rows_of, strict=False)])
            if not pending:
                return
            yield pa.RecordBatch.from_pylist([r.asDict() for r in pending], schema=schema)

    def key_positions(self, version: Version, key_column: str) -> Iterator[pa.RecordBatch]:
        sql, params = self._statements(version).key_positions(key_column)
        return self._sorted(sql, params, version.row_count)

    def key_rows(
        self, version: Version, key_column: str, columns: Sequence[str]
    ) -> Iterator[pa.RecordBatch]:
        """``columns`` of every row with a key, sorted by key then position (as
        ``DuckDBEngine.key_rows``): sorted by the cluster, read back in order."""
        sql, params = self._statements(version).key_rows(key_column, columns)
        return self._sorted(sql, params, version.row_count)

    def _sorted(self, sql: str, params: list[Any], rows: int) -> Iterator[pa.RecordBatch]:
        """An ordered answer in Arrow batches. Up to ``COLLECT_ROWS`` rows it is collected at
        once; larger, the cluster sorts it and writes it as Parquet files under the lake's
        spill directory, one per range of the sort, which are read back in the ranges' order
        (their names) one at a time and then removed: neither the driver nor this process
        holds the answer whole, and no row passes through Python one at a time."""
        if rows <= COLLECT_ROWS:
            yield from self._table(sql, params).to_batches(self.capabilities.batch_rows)
            return
        frame = self._frame(sql, params)
        schema = _arrow_schema(frame)
        # Locked while in use: ``shuzhi lake gc`` removes what a killed process left.
        holder = self.root / SPILL_DIR / f"{SORTED_PREFIX}{uuid.uuid4().hex}"
        work = holder / "rows"
        try:
            with locked(holder):
                self._guard(lambda: frame.write.parquet(_hadoop_path(work)))
                for part in sorted(work.glob("part-*.parquet")):
                    # Spark writes times as INT96 unless told otherwise: read as microseconds.
                    stored = pq.ParquetFile(part, coerce_int96_timestamp_unit="us")
                    for batch in stored.iter_batches(self.capabilities.batch_rows):
                        yield pa.RecordBatch.from_arrays(
                            [c.cast(f.type) for c, f in zip(batch.columns, schema, strict=True)],
                            schema=schema,
                        )
        finally:
            shutil.rmtree(holder, ignore_errors=True)

    def count(self, version: Version, filters: Sequence[Filter] = ()) -> int:
        sql, params = self._statements(version).count(filters)
        return int(self._guard(lambda: self._frame(sql, params).collect()[0][0]))

    def profile(self, version: Version, top_k: int = 10) -> Profile:
        s = self._statements(version)
        cursor = _Cursor(self._session)
        return self._guard(
            lambda: compute_profile(
                cursor, s.relation, [], s.schema, top_k, s.numbered, SPARK, PROFILE_JOBS
            )
        )
