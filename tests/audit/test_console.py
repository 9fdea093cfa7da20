"""The audit page: filters, search, readable names, keyset paging, and an audited export."""

from __future__ import annotations

import csv
import io
import re

from fastapi.testclient import TestClient
from openpyxl import load_workbook

from shuzhi.audit import service as audit
from shuzhi.audit.schemas import AuditFilter
from shuzhi.context import Role
from shuzhi.db.engine import Database
from shuzhi.org import service as org
from shuzhi.org.schemas import UnitUpdate
from tests.conftest import acting
from tests.factories import PASSWORD, Org, seed_org, uscc
from tests.web.helpers import login

SEQ = re.compile(r"<tr><td>(\d+)</td>")


def _seqs(html: str) -> list[int]:
    return [int(s) for s in SEQ.findall(html)]


def _seeded(database: Database) -> Org:
    seeded = seed_org(database)
    with acting(database, seeded.actor(Role.CDO_EXECUTIVE)) as ctx:
        # A unit name someone typed as a formula: it must stay text in every export.
        name = '=HYPERLINK("http://x.example","点此")'
        org.update_unit(ctx, "B", UnitUpdate(name=name, parent_code="R", uscc=uscc(2)))
    return seeded


def test_the_page_names_actions_and_filters_them(client: TestClient, database: Database) -> None:
    _seeded(database)
    login(client, "auditor", PASSWORD)
    page = client.get("/audit")
    assert page.status_code == 200
    assert "修改单位" in page.text and "登录" in page.text  # names, not org.unit_updated
    assert ">org.unit_updated<" not in page.text and "user:exec" not in page.text
    only = client.get("/audit", params={"action": "org.unit_updated"})
    assert len(_seqs(only.text)) == 1 and "修改单位" in only.text
    # The text search finds actions by their Chinese name and words in the details.
    by_name = client.get("/audit", params={"q": "修改单位"})
    assert _seqs(by_name.text) == _seqs(only.text)
    by_detail = client.get("/audit", params={"q": "HYPERLINK"})
    assert _seqs(by_detail.text) == _seqs(only.text)
    refused = client.get("/audit", params={"outcome": "denied"})
    assert "没有符合条件的记录" in refused.text
    by_actor = client.get("/audit", params={"actor": "exec"})
    assert _seqs(by_actor.text) and "用户 exec" in by_actor.text
    by_unit = _seqs(client.get("/audit", params={"unit": "B"}).text)
    assert len(by_unit) == 2 and _seqs(only.text)[0] == by_unit[0]  # created, then updated
    future = client.get("/audit", params={"since": "2999-01-01"})
    assert _seqs(future.text) == []


def test_bad_filters_are_explained_in_both_languages(
    client: TestClient, database: Database
) -> None:
    _seeded(database)
    login(client, "auditor", PASSWORD)
    bad = client.get("/audit", params={"since": "2026-13-45", "unit": "NOPE", "outcome": "maybe"})
    assert bad.status_code == 422
    assert "时间“2026-13-45”无法识别" in bad.text and "没有代码为 NOPE 的单位" in bad.text
    reversed_range = client.get("/audit", params={"since": "2026-02-01", "until": "2026-01-01"})
    assert reversed_range.status_code == 422 and "起始时间晚于截止时间" in reversed_range.text
    english = client.get("/audit", params={"since": "yesterday", "lang": "en"})
    assert "Cannot read the time" in english.text


def test_keyset_paging_walks_the_log_without_gaps(client: TestClient, database: Database) -> None:
    seeded = _seeded(database)
    with acting(database, seeded.actor(Role.AUDITOR)) as ctx:
        for _ in range(40):
            audit.verify_audit(ctx)
    login(client, "auditor", PASSWORD)
    with acting(database, seeded.actor(Role.AUDITOR)) as ctx:
        everything = [e.seq for e in audit.view_audit(ctx, limit=500).items]
    seen: list[int] = []
    url = "/audit?size=25"
    while url:
        page = client.get(url)
        seen.extend(_seqs(page.text))
        older = re.search(r'href="(/audit\?[^"]*before=\d+[^"]*)" rel="next"', page.text)
        url = older.group(1).replace("&amp;", "&") if older else ""
    assert seen == sorted(seen, reverse=True) == everything[: len(seen)]
    assert len(seen) == len(everything)
    # Jumping to an entry shows it first; "newer" from there goes back up.
    jump = client.get("/audit", params={"jump": str(everything[30]), "size": "25"})
    assert _seqs(jump.text)[0] == everything[30]
    newer = re.search(r'href="(/audit\?[^"]*after=\d+[^"]*)" rel="prev"', jump.text)
    assert newer
    back = client.get(newer.group(1).replace("&amp;", "&"))
    assert _seqs(back.text) == everything[5:30]


def test_export_is_filtered_guarded_and_audited(client: TestClient, database: Database) -> None:
    seeded = _seeded(database)
    login(client, "cdo", PASSWORD)
    only = {"unit": "B", "action": "org.unit_updated"}
    response = client.get("/audit/export.csv", params=only)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["序号", "时间（UTC）", "操作者"]
    assert len(rows) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["动作"] == "修改单位" and row["单位代码"] == "B"
    assert row["单位"].startswith("'=HYPERLINK")  # cannot run as a formula
    book = client.get("/audit/export.xlsx", params=only)
    sheet = load_workbook(io.BytesIO(book.content)).active
    assert sheet is not None
    cell = sheet.cell(row=2, column=6)
    assert cell.data_type == "s" and cell.quotePrefix and cell.value.startswith("=HYPERLINK")
    with acting(database, seeded.actor(Role.AUDITOR)) as ctx:
        exports = audit.view_audit(ctx, action="audit.exported").items
    assert [e.details["format"] for e in exports] == ["xlsx", "csv"]
    assert all(e.actor == "user:cdo" and '"unit_id"' in e.details["filters"] for e in exports)


def test_unit_staff_may_neither_read_nor_export_the_log(
    client: TestClient, database: Database
) -> None:
    seeded = _seeded(database)
    login(client, "a.cdo", PASSWORD)
    assert client.get("/audit").status_code == 403
    assert client.get("/audit/export.csv").status_code == 403
    with acting(database, seeded.actor(Role.AUDITOR)) as ctx:
        denied = audit.view_audit(ctx, filters=AuditFilter(outcome="denied")).items
    assert {e.details["operation"] for e in denied} == {"view_audit", "export_audit"}


def test_the_api_filters_pages_by_keyset_and_exports(
    client: TestClient, database: Database
) -> None:
    _seeded(database)
    login(client, "auditor", PASSWORD)
    found = client.get("/api/v1/audit/entries", params={"q": "修改单位"}).json()
    assert found["total"] == 1 and found["items"][0]["action"] == "org.unit_updated"
    first = client.get("/api/v1/audit/entries", params={"limit": 3}).json()
    assert first["newer"] is None and first["older"] == first["items"][-1]["seq"]
    second = client.get(
        "/api/v1/audit/entries", params={"limit": 3, "before": first["older"]}
    ).json()
    assert [e["seq"] for e in second["items"]] == [
        first["older"] - 1,
        first["older"] - 2,
        first["older"] - 3,
    ]
    assert second["newer"] == second["items"][0]["seq"]
    bad = client.get("/api/v1/audit/entries", params={"outcome": "maybe"})
    assert bad.status_code == 422 and "结果只能是" in bad.text
    export = client.get("/api/v1/audit/export", params={"format": "csv", "action": "auth.login"})
    assert export.status_code == 200 and export.content.decode("utf-8-sig").count("\n") >= 2
