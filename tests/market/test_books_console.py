"""The disclosure and balance-sheet pages: printable, both languages, forms that refuse bad
input on the page, downloads through the API."""

from __future__ import annotations

import io
from datetime import date

from fastapi.testclient import TestClient
from pypdf import PdfReader

from shuzhi.db.base import utcnow
from shuzhi.db.engine import Database
from tests.factories import PASSWORD, seed_org
from tests.market.helpers import active_agreement, figures_entry, operator_party
from tests.web.helpers import csrf, login


def test_bureau_publishes_the_disclosure_in_the_console(
    client: TestClient, database: Database
) -> None:
    seeded = seed_org(database)
    year = utcnow().year
    login(client, "exec", PASSWORD)
    empty = client.get(f"/market/disclosure/{year}")
    assert empty.status_code == 404 and 'id="disclosure-missing"' in empty.text
    assert "没有可披露" in empty.text
    party = operator_party(database, seeded)
    active_agreement(database, seeded, party.id, [figures_entry(database)])
    page = client.get(f"/market/disclosure/{year}")
    assert page.status_code == 200 and party.name in page.text and "500,000.00" in page.text
    assert "草稿" in page.text and 'id="publish-disclosure"' in page.text
    english = client.get(f"/market/disclosure/{year}?lang=en")
    assert "1. Implementing agency" in english.text
    published = client.post(
        f"/market/disclosure/{year}/publication",
        data={"csrf_token": csrf(client, f"/market/disclosure/{year}")},
        follow_redirects=False,
    )
    assert published.status_code == 303
    page = client.get(f"/market/disclosure/{year}")
    assert 'data-status="published"' in page.text and 'id="publish-disclosure"' not in page.text
    got = client.get(f"/api/v1/market/disclosures/{year}/export.pdf")
    assert got.status_code == 200 and got.headers["content-type"] == "application/pdf"
    assert party.name in "".join(p.extract_text() for p in PdfReader(io.BytesIO(got.content)).pages)
    api = client.get(f"/api/v1/market/disclosures/{year}").json()
    assert api["published"] and len(api["sha256"]) == 64


def test_operator_keeps_its_books_in_the_console(client: TestClient, database: Database) -> None:
    seeded = seed_org(database)
    party = operator_party(database, seeded)
    code = figures_entry(database)
    active_agreement(database, seeded, party.id, [code])
    login(client, "operator", PASSWORD)
    page = client.get("/market/books?year=2025")
    assert page.status_code == 200 and party.uscc in page.text
    assert "未经审计" in page.text
    token = csrf(client, "/market/books?year=2025")
    declared = client.post(
        "/market/books/assets",
        data={
            "csrf_token": token,
            "year": "2025",
            "resource_code": code,
            "name": "企业经营数据",
            "use": "own_use",
            "origin": "developed",
            "useful_life_months": "10",
            "ready_on": "2025-02-28",
        },
        follow_redirects=False,
    )
    assert declared.status_code == 303
    bad = client.post(
        "/market/books/costs",
        data={
            "csrf_token": token,
            "year": "2025",
            "resource_code": code,
            "category": "cleaning",
            "incurred_on": "2025-01-15",
            "amount": "-3",
            "basis": "按工时",
        },
    )
    assert bad.status_code == 422 and 'data-field="amount"' in bad.text
    good = client.post(
        "/market/books/costs",
        data={
            "csrf_token": token,
            "year": "2025",
            "resource_code": code,
            "category": "cleaning",
            "incurred_on": str(date(2025, 1, 15)),
            "amount": "1000",
            "basis": "按工时",
        },
        follow_redirects=False,
    )
    assert good.status_code == 303
    page = client.get("/market/books?year=2025&lang=en")
    assert "not an audited statement" in page.text and "1,000.00" in page.text
    assert 'data-key="amortisation.increase"' in page.text
    xlsx = client.get(f"/api/v1/market/books/{party.uscc}/2025/export.xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    client.post("/logout", data={"csrf_token": csrf(client, "/market")})
    login(client, "exec", PASSWORD)
    assert client.get(f"/market/books?org={party.uscc}&year=2025").status_code == 403
