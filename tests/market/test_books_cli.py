"""``shuzhi market disclosure`` and ``shuzhi market balance-sheet`` write whole files, and
nothing for a year with nothing to disclose."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from openpyxl import load_workbook
from typer.testing import CliRunner

from shuzhi.cli import app
from shuzhi.context import Role
from shuzhi.db.base import utcnow
from shuzhi.db.engine import Database
from shuzhi.market import service
from shuzhi.market.books_schemas import AssetIn, CostItemIn
from shuzhi.settings import Settings
from tests.conftest import acting
from tests.factories import seed_org
from tests.market.helpers import active_agreement, figures_entry, operator_party

runner = CliRunner()


def _run(settings: Settings, *args: str) -> tuple[int, str]:
    env = {
        "SHUZHI_DATA_DIR": str(settings.data_dir),
        "SHUZHI_DATABASE_URL": settings.database_url,
        "SHUZHI_SECRET_KEY": settings.secret_key,
        "SHUZHI_CREDENTIALS_KEY": settings.credentials_key,
    }
    result = runner.invoke(app, list(args), env=env)
    return result.exit_code, result.output


def test_disclosure_and_balance_sheet_files(
    database: Database, settings: Settings, tmp_path: Path
) -> None:
    seeded = seed_org(database)
    year = utcnow().year
    tmp_path = tmp_path / "out"  # the data directory is tmp_path itself
    tmp_path.mkdir()
    empty = tmp_path / "empty.xlsx"
    code, output = _run(settings, "market", "disclosure", "--year", str(year), "--out", str(empty))
    assert code == 1 and "没有可披露" in output and "Nothing to disclose" in output
    assert not empty.exists() and list(tmp_path.iterdir()) == []
    party = operator_party(database, seeded)
    entry = figures_entry(database)
    active_agreement(database, seeded, party.id, [entry])
    out = tmp_path / "disclosure.xlsx"
    code, output = _run(settings, "market", "disclosure", "--year", str(year), "--out", str(out))
    assert code == 0, output
    assert load_workbook(out)["实施机构"]["C2"].value == party.name
    as_pdf = tmp_path / "disclosure.pdf"
    code, _ = _run(settings, "market", "disclosure", "--year", str(year), "--out", str(as_pdf))
    assert code == 0 and as_pdf.read_bytes().startswith(b"%PDF")
    with acting(database, seeded.actor(Role.OPERATOR)) as ctx:
        service.declare_data_asset(
            ctx, party.uscc, AssetIn(resource_code=entry, name="企业经营数据", use="for_sale")
        )
        service.record_cost_item(
            ctx,
            party.uscc,
            entry,
            CostItemIn(
                category="cleaning", incurred_on=date(2025, 3, 1), amount="880", basis="全额"
            ),
        )
    books = tmp_path / "books.xlsx"
    code, output = _run(
        settings,
        "market",
        "balance-sheet",
        "--org",
        party.uscc,
        "--year",
        "2025",
        "--out",
        str(books),
    )
    assert code == 0, output
    sheet = load_workbook(books)["附注表B 存货"]
    rows = {r[0]: r[4] for r in sheet.iter_rows(min_row=4, values_only=True)}
    assert rows["4. 期末余额 4. Ending balance"] == 0  # the allowance (the last such row)
    ending = next(r for r in sheet.iter_rows(min_row=4, values_only=True) if "期末余额" in r[0])
    assert ending[4] == 880  # the original cost at the end of the year
    assert "没有减值" in output
    code, output = _run(
        settings,
        "market",
        "balance-sheet",
        "--org",
        "91110000000000000X",
        "--year",
        "2025",
        "--out",
        str(tmp_path / "nobody.xlsx"),
    )
    assert code == 1 and not (tmp_path / "nobody.xlsx").exists()
