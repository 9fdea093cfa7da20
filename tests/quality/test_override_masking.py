"""Failing values sampled by a rule are shown masked as the lake shows the version now: an
override of the column after the loads masks the samples of every version."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from shuzhi.context import Role
from shuzhi.db.engine import Database
from shuzhi.lake import service as lake
from shuzhi.lake.readers import FileSource
from shuzhi.quality import service as quality
from shuzhi.quality.models import RuleKind
from shuzhi.quality.schemas import RuleIn
from tests.conftest import acting
from tests.factories import PASSWORD, seed_org
from tests.lake.helpers import (
    NOTE_HEADER,
    NOTE_ITEMS,
    note_rows,
    published_entry,
    shows_a_diagnosis,
    write_csv,
)
from tests.web.helpers import login

API = "/api/v1"


def test_an_override_masks_the_samples_of_every_version(
    client: TestClient, database: Database, tmp_path: Path
) -> None:
    seeded = seed_org(database)
    code = published_entry(database, items=NOTE_ITEMS)
    only_none = RuleIn(kind=RuleKind.ALLOWED_VALUES, column="备注", params={"values": ["无"]})
    with acting(database, seeded.actor(Role.DATA_LIAISON)) as ctx:
        quality.define_quality_rule(ctx, code, only_none)
        for n, rows in ((1, 60), (2, 70)):
            path = write_csv(tmp_path / f"v{n}.csv", note_rows(rows), NOTE_HEADER)
            lake.ingest(ctx, code, FileSource(path))
    auditor = seeded.actor(Role.AUDITOR)
    with acting(database, auditor) as ctx:  # the note was loaded unmasked
        assert shows_a_diagnosis([r.sample for r in quality.version_results(ctx, code, 1)])
    with acting(database, seeded.actor(Role.UNIT_CDO)) as ctx:
        lake.override_classification(ctx, code, "备注", "health", "病情")
    with acting(database, auditor) as ctx:
        for number in (1, 2):
            (result,) = quality.version_results(ctx, code, number)
            assert result.failing > 0 and result.sample
            assert not shows_a_diagnosis(result.sample), number
    login(client, "auditor", PASSWORD)
    for number in (1, 2):
        results = client.get(f"{API}/quality/datasets/{code}/versions/{number}/results")
        assert results.status_code == 200 and results.json()[0]["sample"]
        assert not shows_a_diagnosis(results.json()), number
        page = client.get(f"/datasets/{code}/versions/{number}")
        assert page.status_code == 200 and 'id="quality-results"' in page.text
        assert not shows_a_diagnosis(page.text), number
