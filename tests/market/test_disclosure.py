"""The annual disclosure: built from the ledger, published once, printed as PDF and XLSX,
its status for the cockpit's reminder."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from shuzhi.audit import service as audit
from shuzhi.context import Role
from shuzhi.db.base import utcnow
from shuzhi.db.engine import Database
from shuzhi.errors import Conflict, Forbidden, Invalid, NotFound
from shuzhi.market import service
from shuzhi.market.schemas import ProductIn
from tests.conftest import acting
from tests.factories import Org, seed_org
from tests.market.helpers import (
    active_agreement,
    executive,
    figures_entry,
    operator_party,
    passing_review,
    product_data,
)

FORMULA = '=HYPERLINK("http://x","点此")'


def _story(database: Database, seeded: Org, fee_standard: str = "按年订阅，每年 20 万元。") -> int:
    """An operator with an agreement in force this year and one compliant product."""
    party = operator_party(database, seeded)
    code = figures_entry(database)
    agreement = active_agreement(database, seeded, party.id, [code])
    with acting(database, seeded.actor(Role.OPERATOR)) as ctx:
        made = service.create_product(
            ctx,
            ProductIn.model_validate(product_data(agreement.id, [code], fee_standard=fee_standard)),
        )
        service.submit_product(ctx, made.id)
    with acting(database, executive(seeded)) as ctx:
        service.review_product_compliance(ctx, made.id, passing_review())
    return agreement.id


def _pdf_text(data: bytes) -> str:
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return re.sub(r"\s+", "", text)


def test_a_year_without_agreements_is_refused_in_both_languages(database: Database) -> None:
    seeded = seed_org(database)
    year = utcnow().year
    with acting(database, executive(seeded)) as ctx, pytest.raises(NotFound) as err:
        service.get_disclosure(ctx, year)
    assert str(year) in err.value.message.zh and "Nothing to disclose" in err.value.message.en
    with acting(database, executive(seeded)) as ctx, pytest.raises(Invalid):
        service.get_disclosure(ctx, year + 1)  # a year that has not begun


def test_disclosure_has_the_agency_and_operator_sections(database: Database) -> None:
    seeded = seed_org(database)
    agreement_id = _story(database, seeded)
    year = utcnow().year
    with acting(database, seeded.actor(Role.AUDITOR)) as ctx:
        d = service.get_disclosure(ctx, year)
    assert not d.published and d.due_on == date(year + 1, 3, 31)
    assert d.agency.name == "测试区"
    (a,) = d.agency.agreements
    assert (a.id, a.fee_cap_cents, a.status) == (agreement_id, 50_000_000, "active")
    assert a.resources[0].name  # the catalogue entry's name
    (o,) = d.operators
    assert o.name == "城市数据集团有限公司" and o.agreement_ids == [agreement_id]
    assert [r.code for r in o.resources] == [r.code for r in a.resources]
    (p,) = o.products
    assert (p.name, p.price_cents, p.registration_number) == ("企业经营健康指数", 20_000_000, None)
    # trading figures come from the trade feed: zero until trades are recorded
    assert (p.listed, p.contracts, p.revenue_fen) == (False, 0, 0)
    with acting(database, seeded.actor(Role.OPERATOR)) as ctx, pytest.raises(Forbidden):
        service.get_disclosure(ctx, year)


def test_publishing_keeps_the_content_and_happens_once(database: Database) -> None:
    seeded = seed_org(database)
    agreement_id = _story(database, seeded)
    year = utcnow().year
    with acting(database, seeded.actor(Role.CDO)) as ctx, pytest.raises(Forbidden):
        service.publish_disclosure(ctx, year)
    with acting(database, executive(seeded)) as ctx:
        published = service.publish_disclosure(ctx, year)
    assert published.published and published.sha256 and len(published.sha256) == 64
    with pytest.raises(Conflict), acting(database, executive(seeded)) as ctx:
        service.publish_disclosure(ctx, year)
    # the ledger moves on; the published disclosure stays as it was
    with acting(database, executive(seeded)) as ctx:
        service.suspend_agreement(ctx, agreement_id, "季度安全评估未按期报送")
        again = service.get_disclosure(ctx, year)
    assert again.agency.agreements[0].status == "active" and again.sha256 == published.sha256
    with acting(database, seeded.actor(Role.AUDITOR)) as ctx:
        actions = {
            e.action for e in audit.view_audit(ctx, action="market.disclosure_published").items
        }
        refused = audit.view_audit(ctx, action="market.refused").items
    assert actions == {"market.disclosure_published"}
    assert any(e.details.get("operation") == "publish_disclosure" for e in refused)


def test_pdf_and_xlsx_carry_the_disclosure_and_no_formula(database: Database) -> None:
    seeded = seed_org(database)
    _story(database, seeded, fee_standard=FORMULA)
    year = utcnow().year
    with acting(database, executive(seeded)) as ctx:
        data = service.export_disclosure(ctx, year, "pdf")
    text = _pdf_text(data)
    assert data.startswith(b"%PDF")
    for expected in (
        str(year),
        "实施机构",
        "城市数据集团有限公司",
        "500,000.00",
        "企业经营健康指数",
    ):
        assert expected in text, expected
    assert "HYPERLINK" in text  # printed as typed
    with acting(database, executive(seeded)) as ctx:
        ctx.locale = "en"
        english = _pdf_text(service.export_disclosure(ctx, year, "pdf"))
    assert "Implementingagency" in english
    with acting(database, executive(seeded)) as ctx:
        book = load_workbook(io.BytesIO(service.export_disclosure(ctx, year, "xlsx")))
    assert book.sheetnames == ["说明", "实施机构", "运营机构", "产品与收费"]
    agreements = list(book["实施机构"].iter_rows(min_row=2, values_only=True))
    assert agreements[0][2] == "城市数据集团有限公司" and float(agreements[0][-1]) == 500000.0
    cell = book["产品与收费"]["H2"]
    assert (cell.value, cell.data_type, cell.quotePrefix) == (FORMULA, "s", True)
    with acting(database, executive(seeded)) as ctx, pytest.raises(Invalid):
        service.export_disclosure(ctx, year, "docx")


def test_status_reminds_from_march_and_turns_overdue(database: Database) -> None:
    seeded = seed_org(database)
    _story(database, seeded)
    year = utcnow().year
    with acting(database, executive(seeded)) as ctx:
        steps = {
            day: service.disclosure_status(ctx, year, day).status
            for day in (
                date(year, 12, 31),
                date(year + 1, 2, 28),
                date(year + 1, 3, 1),
                date(year + 1, 3, 31),
                date(year + 1, 4, 1),
            )
        }
        assert service.disclosure_status(ctx, year - 1).status == "nothing"
    assert list(steps.values()) == ["not_due", "not_due", "due", "due", "overdue"]
    with acting(database, executive(seeded)) as ctx:
        service.publish_disclosure(ctx, year)
        assert service.disclosure_status(ctx, year, date(year + 1, 4, 1)).status == "published"
