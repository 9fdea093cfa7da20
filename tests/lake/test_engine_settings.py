"""Choosing the query engine by setting; a Spark session that cannot start says which setting."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from shuzhi.db.engine import Database
from shuzhi.errors import Unavailable
from shuzhi.lake.query import DuckDBEngine
from shuzhi.lake.service import close_engine, open_engine
from shuzhi.settings import InvalidSetting, Settings, load_settings
from tests.engines import SPARK_MASTER, make_engine

SRC = str(Path(__file__).resolve().parents[2] / "src")


def test_engine_settings_come_from_the_environment(tmp_path: Path) -> None:
    defaults = load_settings({}, data_dir=tmp_path)
    assert (defaults.query_engine, defaults.spark_master, defaults.spark_driver_memory) == (
        "duckdb",
        "local[2]",
        "1g",
    )
    chosen = load_settings(
        {
            "SHUZHI_QUERY_ENGINE": "Spark",
            "SHUZHI_SPARK_MASTER": "spark://10.0.0.5:7077",
            "SHUZHI_SPARK_DRIVER_MEMORY": "4g",
        },
        data_dir=tmp_path,
    )
    assert (chosen.query_engine, chosen.spark_master, chosen.spark_driver_memory) == (
        "spark",
        "spark://10.0.0.5:7077",
        "4g",
    )
    for master in ("local", "local[*]", "local[4,2]", "yarn", "k8s://https://k:6443"):
        assert load_settings({"SHUZHI_SPARK_MASTER": master}, data_dir=tmp_path)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SHUZHI_QUERY_ENGINE", "oracle"),
        ("SHUZHI_SPARK_MASTER", "locl[2]"),
        ("SHUZHI_SPARK_MASTER", "local[0]"),
        ("SHUZHI_SPARK_MASTER", "spark://"),
        ("SHUZHI_SPARK_DRIVER_MEMORY", "lots"),
        ("SHUZHI_SPARK_DRIVER_MEMORY", "0g"),
    ],
)
def test_a_malformed_engine_setting_is_refused_by_name(
    tmp_path: Path, name: str, value: str
) -> None:
    with pytest.raises(InvalidSetting, match=name) as refused:
        load_settings({name: value}, data_dir=tmp_path)
    assert "/" in str(refused.value)  # Chinese, then English


def test_duckdb_is_the_default_engine(settings: Settings) -> None:
    database = Database(settings)
    try:
        assert isinstance(open_engine(database), DuckDBEngine)
    finally:
        close_engine(database)
        database.dispose()


@pytest.mark.parametrize("settings", ["sqlite"], indirect=True)
@pytest.mark.spark
@pytest.mark.xdist_group("spark")
def test_spark_is_chosen_by_setting(settings: Settings) -> None:
    make_engine("spark", settings.data_dir)  # the test session's Spark (or its opt-out)
    database = Database(settings.with_overrides(query_engine="spark", spark_master=SPARK_MASTER))
    try:
        engine = open_engine(database)
        assert engine.capabilities.name == "spark"
    finally:
        close_engine(database)
        database.dispose()


def _start_in_child(tmp_path: Path, env: dict[str, str], code: str) -> dict[str, str]:
    script = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from shuzhi.errors import Unavailable\n"
        f"{code}\n"
        "from shuzhi.lake.spark import SparkEngine\n"
        "try:\n"
        f"    SparkEngine(Path({str(tmp_path)!r}), master='local[1]')\n"
        "except Unavailable as exc:\n"
        "    print(json.dumps({'zh': exc.message.zh, 'en': exc.message.en}))\n"
        "    sys.exit(3)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, "PYTHONPATH": SRC, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 3, done.stderr[-2000:]
    found: dict[str, str] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def test_a_spark_session_without_java_fails_naming_the_setting(tmp_path: Path) -> None:
    found = _start_in_child(tmp_path, {"JAVA_HOME": str(tmp_path / "no-java")}, "")
    assert "SHUZHI_SPARK_MASTER=local[1]" in found["zh"] and "无法启动" in found["zh"]
    assert "could not start" in found["en"] and "SHUZHI_QUERY_ENGINE=duckdb" in found["en"]


def test_without_pyspark_the_error_says_how_to_install_it(tmp_path: Path) -> None:
    found = _start_in_child(tmp_path, {}, "sys.modules['pyspark'] = None")
    assert "shuzhi[spark]" in found["en"] and "SHUZHI_SPARK_MASTER" in found["zh"]


@pytest.mark.spark
@pytest.mark.xdist_group("spark")
def test_a_second_master_in_one_process_is_refused(tmp_path: Path) -> None:
    from shuzhi.lake.spark import SparkEngine

    make_engine("spark", tmp_path)
    with pytest.raises(Unavailable) as refused:
        SparkEngine(tmp_path, master="local[3]")
    assert "SHUZHI_SPARK_MASTER=local[3]" in refused.value.message.en


@pytest.mark.spark
@pytest.mark.xdist_group("spark")
def test_an_engine_outlives_the_death_of_its_jvm(tmp_path: Path) -> None:
    """A driver JVM lost (killed, or dead of an out-of-memory error) fails only the
    statements it was running; the next statement starts a new session."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from shuzhi.lake.manifest import RejectSummary, Version
    from shuzhi.lake.spark import spark_session

    (tmp_path / "v").mkdir()
    pq.write_table(pa.table({"a": ["x", "y", "x"]}), tmp_path / "v" / "d.parquet")
    version = Version(
        tmp_path / "v", "v", 1, "", "d.parquet", "", 0, 3, (), "", {}, RejectSummary(), {}
    )
    engine = make_engine("spark", tmp_path)
    assert engine.count(version) == 3
    process = spark_session(SPARK_MASTER).sparkContext._gateway.proc
    process.kill()  # the JVM this test process started for Spark
    process.wait(timeout=60)
    assert engine.lookup(version, "a", "x") == [{"a": "x"}, {"a": "x"}]
    assert spark_session(SPARK_MASTER).sparkContext._gateway.proc.pid != process.pid
