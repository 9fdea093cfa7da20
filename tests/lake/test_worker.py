"""Loads in a worker process: results, refusals and progress cross the process boundary;
a load over its time or memory limit is killed and refused, and the dataset is untouched."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import shuzhi
import tests
from shuzhi.errors import Invalid
from shuzhi.lake.manifest import current_version
from shuzhi.lake.readers import FileSource
from shuzhi.lake.worker import (
    WorkerCrashed,
    WorkerLimits,
    children_usage,
    load_in_worker,
    run_job,
)
from shuzhi.settings import Settings
from tests.lake.conftest import PEOPLE, write_csv

pytestmark = pytest.mark.slow


def messages(err: Invalid) -> str:
    return " ".join(f"{e.message.zh} {e.message.en}" for e in err.errors)


def big_csv(path: Path, rows: int = 400_000) -> Path:
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("id,name,amount,date\n")
        for i in range(rows):
            fh.write(f"{i},张三{i},{i % 1000}.50,2024-01-{i % 28 + 1:02d}\n")
    return path


def test_load_in_worker_gives_the_version_and_relays_progress(
    people_csv: Path, tmp_path: Path
) -> None:
    seen: list[int] = []
    result = load_in_worker(FileSource(people_csv, on_bytes=seen.append), tmp_path / "ds")
    assert result.version.row_count == len(PEOPLE) - 1
    assert current_version(tmp_path / "ds") == result.version
    assert seen and seen == sorted(seen) and seen[-1] == people_csv.stat().st_size


def test_refusals_cross_the_process_in_both_languages(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    path.write_text(",".join(["abc"] * 8000) + "\n")
    with pytest.raises(Invalid) as caught:
        load_in_worker(FileSource(path), tmp_path / "ds")
    assert "列数过多" in messages(caught.value) and "Too many columns" in messages(caught.value)
    assert caught.value.after_rollback is None


def test_a_load_over_its_time_limit_is_killed_and_refused(tmp_path: Path) -> None:
    directory = tmp_path / "ds"
    first = load_in_worker(FileSource(write_csv(tmp_path / "a.csv", PEOPLE)), directory)
    with pytest.raises(Invalid) as caught:
        load_in_worker(
            FileSource(big_csv(tmp_path / "big.csv")), directory, limits=WorkerLimits(seconds=0.05)
        )
    assert "0.05" in messages(caught.value) and "时间上限" in messages(caught.value)
    assert current_version(directory) == first.version
    # The killed load left its work directory; the next load removes it and succeeds.
    again = load_in_worker(FileSource(write_csv(tmp_path / "b.csv", PEOPLE[:2])), directory)
    assert again.version.sequence == 2
    assert not [p for p in directory.iterdir() if p.name.startswith(".tmp-")]


def test_a_load_over_its_memory_limit_is_killed_and_refused(tmp_path: Path) -> None:
    with pytest.raises(Invalid) as caught:
        load_in_worker(
            FileSource(big_csv(tmp_path / "big.csv")),
            tmp_path / "ds",
            limits=WorkerLimits(memory_mb=30),
        )
    assert "30 MB" in messages(caught.value)
    assert current_version(tmp_path / "ds") is None


def _exit_job(relay: Any) -> None:
    os._exit(3)


def _failing_job(relay: Any) -> None:
    raise KeyError("a defect")


def test_a_worker_that_dies_is_reported_and_a_defect_is_not_a_refusal() -> None:
    with pytest.raises(Invalid) as caught:
        run_job(_exit_job, (), WorkerLimits())
    assert "exit code 3" in messages(caught.value)
    with pytest.raises(WorkerCrashed, match="KeyError"):
        run_job(_failing_job, (), WorkerLimits())


def _engine_failing_job(relay: Any) -> None:
    import duckdb

    duckdb.execute("SELECT CAST('110101199003074518x' AS INTEGER)").fetchall()


def test_a_defect_reports_no_value_the_engine_quoted() -> None:
    with pytest.raises(WorkerCrashed) as caught:
        run_job(_engine_failing_job, (), WorkerLimits())
    said = str(caught.value)
    assert "ConversionException" in said and "110101199003074518" not in said


def test_limits_come_from_the_settings(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database_url="sqlite://", secret_key="x")
    assert WorkerLimits.of(settings) == WorkerLimits()
    tuned = settings.with_overrides(load_seconds=60, load_memory_mb=512)
    assert WorkerLimits.of(tuned) == WorkerLimits(seconds=60, memory_mb=512)


def _answer(relay: Any) -> str:
    return "answered"


MAIN_SCRIPT = """
import os
import sys

with open(os.environ["IMPORTS_LOG"], "a") as log:
    log.write(__name__ + "\\n")

if __name__ == "__main__":
    from shuzhi.lake.worker import WorkerLimits, run_job
    from tests.lake.test_worker import _answer

    print(run_job(_answer, (), WorkerLimits()))
"""


def test_a_load_does_not_run_the_programs_main_module_again(tmp_path: Path) -> None:
    """multiprocessing's children import the parent's main module (for the ``shuzhi``
    command the whole application); a load's child needs only the worker's own modules."""
    script = tmp_path / "main_program.py"
    script.write_text(MAIN_SCRIPT, encoding="utf-8")
    imports = tmp_path / "imports.log"
    roots = [str(Path(shuzhi.__file__).parents[1]), str(Path(tests.__file__).parents[1])]
    env = {**os.environ, "IMPORTS_LOG": str(imports), "PYTHONPATH": os.pathsep.join(roots)}
    done = subprocess.run(
        [sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "answered"
    # Run once as the program; imported again (as __mp_main__) by a child, it would log twice.
    assert imports.read_text(encoding="utf-8").split() == ["__main__"]


def _progress_bar_of_a_load(relay: Any, workdir: Path) -> bool:
    from shuzhi.lake.writer import LoadOptions, _duckdb_connection

    con = _duckdb_connection(LoadOptions(), workdir)
    try:
        return bool(con.execute("SELECT current_setting('enable_progress_bar')").fetchone()[0])
    finally:
        con.close()


def test_a_load_prints_no_progress_bar(tmp_path: Path) -> None:
    """The fork server has no main script, so the engine takes it for an interactive
    session and would draw its progress bar on the server's output during long loads."""
    assert run_job(_progress_bar_of_a_load, (tmp_path,), WorkerLimits()) is False


def _busy(relay: Any, seconds: float) -> None:
    import time

    started = time.process_time()
    while time.process_time() - started < seconds:
        pass


def test_the_cpu_time_and_memory_of_finished_jobs_are_counted() -> None:
    cpu, _ = children_usage()
    run_job(_busy, (0.3,), WorkerLimits())
    after, peak = children_usage()
    assert after - cpu >= 0.3
    assert peak > 1
