"""Cockpit exports (Excel workbook, chart CSV) never hold a live formula."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from openpyxl import load_workbook

from shuzhi.cockpit import service
from shuzhi.cockpit.schemas import ScenarioCreate
from shuzhi.context import SYSTEM, Role
from shuzhi.db.base import utcnow
from shuzhi.db.engine import Database
from shuzhi.security.cells import needs_guard
from tests.conftest import acting
from tests.factories import seed_org

NAME = '=HYPERLINK("http://evil.example","出生一件事")'
OWNER = "@SUM(1)"


def test_workbook_and_chart_csv_are_inert(database: Database) -> None:
    seeded = seed_org(database)
    today = utcnow().date()
    scenario = ScenarioCreate.model_validate(
        {
            "year": today.year,
            "name": NAME,
            "goal": "-2+3",
            "owner": OWNER,
            "milestones": f"上线 {today + timedelta(days=30)}",
        }
    )
    with acting(database, seeded.actor(Role.DATA_LIAISON)) as ctx:
        service.register_scenario(ctx, scenario)
    with acting(database, SYSTEM) as ctx:
        service.take_snapshot(ctx, today - timedelta(days=1))
    with acting(database, seeded.actor(Role.CDO)) as ctx:
        content = service.export_cockpit(ctx)
        scenarios_csv = service.chart_csv(ctx, "scenarios")
        ranking_csv = service.chart_csv(ctx, "ranking")

    book = load_workbook(io.BytesIO(content))
    cells = {c.value: c for row in book["应用场景"].iter_rows() for c in row}
    for value in (NAME, OWNER):
        assert (cells[value].data_type, cells[value].quotePrefix) == ("s", True)
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate)
                if isinstance(cell.value, str) and needs_guard(cell.value):
                    assert cell.quotePrefix, (sheet.title, cell.coordinate)

    rows = list(csv.reader(io.StringIO(scenarios_csv)))
    assert rows[1][1] == "'" + NAME
    assert not any(needs_guard(c) for r in rows for c in r)
    ranking = list(csv.reader(io.StringIO(ranking_csv)))
    assert ranking[0][:3] == ["rank", "unit_code", "unit_name"]
    for row in ranking[1:]:  # figures are written as numbers, never as guarded text
        assert all(not c.startswith("'") for c in row)
        assert all(c == "" or float(c) == float(c) for c in row[3:])
