"""The annual disclosure (公共数据资源授权运营信息披露), generated from the ledger.

For a year it has two parts: the implementing agency's (实施机构: its information, each
authorisation agreement in force during the year and its fee cap, 运营服务费上限) and each
operator's (运营机构: its information, the resources authorised to it, its products and
services and their specific fees). It is due by 31 March of the next year; the cockpit
reminds the bureau from 1 March. Publishing keeps the content as it was, with its SHA-256,
and every later export of that year prints the published content.

Products' trading figures come from ``trade_feed.products_of_year``."""

from __future__ import annotations

import hashlib
import io
import json
from datetime import date, datetime, time
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from shuzhi.audit.service import record
from shuzhi.auth.permissions import require
from shuzhi.catalog import service as catalog
from shuzhi.context import Ctx
from shuzhi.db.base import utcnow
from shuzhi.documents import pdf
from shuzhi.errors import Invalid, NotFound
from shuzhi.market.books_events import DisclosureExported, DisclosurePublished
from shuzhi.market.books_models import Disclosure
from shuzhi.market.books_schemas import (
    AgencySection,
    DisclosedAgreement,
    DisclosedProduct,
    DisclosedResource,
    DisclosureOut,
    DisclosureStatusOut,
    OperatorSection,
)
from shuzhi.market.models import Agreement, AgreementStatus, Party
from shuzhi.market.service.agreements import resources_of
from shuzhi.market.service.common import conflict, today
from shuzhi.market.service.trade_feed import products_of_year
from shuzhi.market.texts import TEXTS
from shuzhi.org import service as org
from shuzhi.security import cells

S = AgreementStatus
FIRST_YEAR = 2000
REMIND_FROM = (3, 1)  # the cockpit reminds the bureau from 1 March
DUE = (3, 31)  # due by 31 March of the next year
NEVER_IN_FORCE = (S.DRAFT, S.APPROVED)


def due_on(year: int) -> date:
    return date(year + 1, *DUE)


def yuan(fen: int) -> Decimal:
    """Fen as yuan, exactly (two decimal places)."""
    return (Decimal(fen) / 100).quantize(Decimal("0.01"))


def money(fen: int) -> str:
    return f"{yuan(fen):,.2f}"


def _check_year(year: int, on: date) -> None:
    if not FIRST_YEAR <= year <= on.year:
        raise Invalid.field(
            "year",
            f"年度须在 {FIRST_YEAR} 年至今年（{on.year} 年）之间。",
            f"The year must be between {FIRST_YEAR} and this year ({on.year}).",
        )


def agreements_of_year(ctx: Ctx, year: int) -> list[Agreement]:
    """Agreements in force at some time during ``year``: put in force once, their term
    overlapping the year, and not terminated before it began."""
    start, end = date(year, 1, 1), date(year, 12, 31)
    rows = ctx.db.scalars(
        select(Agreement)
        .where(
            Agreement.status.not_in(NEVER_IN_FORCE),
            Agreement.starts_on <= end,
            Agreement.ends_on >= start,
        )
        .order_by(Agreement.id)
    )
    began = datetime.combine(start, time.min).replace(tzinfo=utcnow().tzinfo)
    return [a for a in rows if not (a.status == S.TERMINATED and a.updated_at < began)]


def _no_data(year: int) -> NotFound:
    return NotFound(
        f"{year} 年没有可披露的授权运营信息（当年没有生效过的授权运营协议），未生成披露文件。",
        f"Nothing to disclose for {year}: no authorisation agreement was in force that year;"
        " no disclosure file was written.",
    )


def _names(ctx: Ctx, codes: list[str]) -> dict[str, str]:
    found = catalog.get_entries(ctx, codes)
    return {code: entry.name for code, entry in found.items()}


def build_disclosure(ctx: Ctx, year: int) -> DisclosureOut:
    """The year's disclosure as the ledger stands now (not audited: callers record)."""
    agreements = agreements_of_year(ctx, year)
    if not agreements:
        raise _no_data(year)
    resources = {a.id: resources_of(ctx, a.id) for a in agreements}
    names = _names(ctx, sorted({c for codes in resources.values() for c in codes}))
    parties: dict[int, Party] = {}
    for a in agreements:
        party = ctx.db.get(Party, a.operator_id)
        if party is not None:
            parties[a.operator_id] = party

    def disclosed(codes: list[str]) -> list[DisclosedResource]:
        return [DisclosedResource(code=c, name=names.get(c, "")) for c in codes]

    listed = [
        DisclosedAgreement(
            id=a.id,
            title=a.title,
            operator_name=parties[a.operator_id].name,
            operator_uscc=parties[a.operator_id].uscc,
            rights=list(a.rights),
            resources=disclosed(resources[a.id]),
            scenarios=list(a.scenarios),
            starts_on=a.starts_on,
            ends_on=a.ends_on,
            status=str(a.status),
            fee_cap_cents=a.fee_cap_cents,
        )
        for a in agreements
    ]
    region = next((u for u in org.all_unit_briefs(ctx) if u.kind == "region"), None)
    agency = AgencySection(
        name=region.name if region else "",
        uscc=(region.uscc or "") if region else "",
        agreements=listed,
    )
    products = products_of_year(ctx, year)
    operators = []
    for operator_id, party in parties.items():
        mine = [a for a in agreements if a.operator_id == operator_id]
        ids = {a.id for a in mine}
        codes = list(dict.fromkeys(c for a in mine for c in resources[a.id]))
        operators.append(
            OperatorSection(
                name=party.name,
                uscc=party.uscc,
                contact=party.contact,
                agreement_ids=sorted(ids),
                resources=disclosed(codes),
                products=[
                    DisclosedProduct(
                        name=p.name,
                        kind=p.kind,
                        scenario=p.scenario,
                        delivery_mode=p.delivery_mode,
                        registration_number=p.registration_number,
                        price_cents=p.price_cents,
                        fee_standard=p.fee_standard,
                        listed=p.listed,
                        contracts=p.contracts,
                        revenue_fen=p.revenue_fen,
                    )
                    for p in products
                    if p.agreement_id in ids
                ],
            )
        )
    return DisclosureOut(
        year=year, due_on=due_on(year), published=False, agency=agency, operators=operators
    )


def _published(ctx: Ctx, year: int) -> Disclosure | None:
    return ctx.db.scalar(select(Disclosure).where(Disclosure.year == year))


def _from_row(row: Disclosure) -> DisclosureOut:
    return DisclosureOut.model_validate(
        {
            **row.content,
            "published": True,
            "published_at": row.published_at,
            "published_by": row.published_by,
            "sha256": row.sha256,
        }
    )


def get_disclosure(ctx: Ctx, year: int) -> DisclosureOut:
    """The published disclosure of ``year``, or (not yet published) a draft from the ledger."""
    require(ctx, "view_disclosure", target=f"disclosure:{year}")
    _check_year(year, today())
    row = _published(ctx, year)
    return _from_row(row) if row is not None else build_disclosure(ctx, year)


def _content(out: DisclosureOut) -> dict[str, object]:
    data = out.model_dump(mode="json")
    for key in ("published", "published_at", "published_by", "sha256"):
        data.pop(key, None)
    return data


def digest(content: dict[str, object]) -> str:
    text = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def publish_disclosure(ctx: Ctx, year: int) -> DisclosureOut:
    """Publish the year's disclosure as it stands: kept unchanged from now on (once a year)."""
    target = f"disclosure:{year}"
    require(ctx, "publish_disclosure", target=target)
    _check_year(year, today())
    if _published(ctx, year) is not None:
        raise conflict(
            "publish_disclosure",
            target,
            f"{year} 年度信息披露已发布，不能重复发布。",
            f"The {year} disclosure is already published.",
        )
    out = build_disclosure(ctx, year)
    content = _content(out)
    row = Disclosure(
        year=year, content=content, sha256=digest(content), published_by=ctx.actor.label
    )
    try:
        with ctx.db.begin_nested():
            ctx.db.add(row)
            ctx.db.flush()
    except IntegrityError:
        raise conflict(
            "publish_disclosure",
            target,
            f"{year} 年度信息披露已发布，不能重复发布。",
            f"The {year} disclosure is already published.",
        ) from None
    record(
        ctx,
        DisclosurePublished(
            year=year,
            sha256=row.sha256,
            operators=len(out.operators),
            agreements=len(out.agency.agreements),
        ),
    )
    return _from_row(row)


def disclosure_status(ctx: Ctx, year: int, on: date | None = None) -> DisclosureStatusOut:
    """Where ``year``'s disclosure stands on ``on``: published, not_due, due, overdue or
    nothing (no agreement in force that year). Counts only: not audited."""
    require(ctx, "view_disclosure", target=f"disclosure:{year}")
    on = on or today()
    row = _published(ctx, year)
    status = "published"
    if row is None:
        if not agreements_of_year(ctx, year):
            status = "nothing"
        elif on < date(year + 1, *REMIND_FROM):
            status = "not_due"
        elif on <= due_on(year):
            status = "due"
        else:
            status = "overdue"
    return DisclosureStatusOut(
        year=year,
        due_on=due_on(year),
        status=status,
        published_at=row.published_at if row else None,
    )


# ---------------------------------------------------------------- files


def _t(ctx: Ctx, key: str) -> str:
    zh, en = TEXTS[key]
    return en if ctx.locale == "en" else zh


def _both(key: str) -> str:
    zh, en = TEXTS[key]
    return f"{zh} {en}"


def _right_names(ctx: Ctx, rights: list[str]) -> str:
    return "、".join(_t(ctx, f"mk.right.{r}") for r in rights)


def _resources_text(resources: list[DisclosedResource]) -> str:
    return "\n".join(f"{r.code} {r.name}".strip() for r in resources)


def _pdf_document(ctx: Ctx, d: DisclosureOut) -> pdf.Document:
    def t(key: str) -> str:
        return _t(ctx, key)

    state = t("mk.disc.published") if d.published else t("mk.disc.draft")
    meta = [
        f"{t('mk.disc.year')}: {d.year} · {t('mk.disc.due_on')}: {d.due_on}",
        f"{t('mk.status')}: {state}"
        + (f" · {d.published_at:%Y-%m-%d %H:%M} UTC" if d.published_at else ""),
    ]
    if d.sha256:
        meta.append(f"SHA-256: {d.sha256}")
    blocks: list[pdf.Block] = [
        pdf.Heading(t("mk.disc.agency")),
        pdf.Paragraph(f"{t('mk.name')}: {d.agency.name}\n{t('mk.uscc')}: {d.agency.uscc or '—'}"),
        pdf.Table(
            [
                t("mk.agreement"),
                t("mk.operator"),
                t("mk.rights"),
                t("mk.resources"),
                t("mk.term"),
                t("mk.disc.fee_cap"),
            ],
            [
                [
                    f"#{a.id} {a.title}",
                    a.operator_name,
                    _right_names(ctx, a.rights),
                    _resources_text(a.resources),
                    f"{a.starts_on} – {a.ends_on}",
                    money(a.fee_cap_cents),
                ]
                for a in d.agency.agreements
            ],
            widths=[3, 2.5, 2, 3, 2, 1.6],
        ),
        pdf.Heading(t("mk.disc.operators")),
    ]
    for o in d.operators:
        blocks += [
            pdf.Heading(o.name, level=2),
            pdf.Paragraph(
                f"{t('mk.uscc')}: {o.uscc}\n{t('mk.contact')}: {o.contact or '—'}\n"
                f"{t('mk.agreements')}: {', '.join(f'#{i}' for i in o.agreement_ids)}"
            ),
            pdf.Table(
                [t("mk.disc.resource_code"), t("mk.name")],
                [[r.code, r.name] for r in o.resources],
                widths=[2, 5],
            ),
            pdf.Table(
                [
                    t("mk.products"),
                    t("mk.scenario"),
                    t("mk.number"),
                    t("mk.price"),
                    t("mk.disc.fee_standard"),
                    t("mk.disc.contracts"),
                    t("mk.disc.revenue"),
                ],
                [
                    [
                        p.name,
                        p.scenario,
                        p.registration_number,
                        money(p.price_cents),
                        p.fee_standard,
                        p.contracts,
                        money(p.revenue_fen),
                    ]
                    for p in o.products
                ],
                widths=[2.5, 2, 2.4, 1.5, 3, 1.1, 1.5],
                empty=t("mk.disc.no_products"),
            ),
        ]
    return pdf.Document(
        title=f"{d.year} {t('mk.disc.title')}",
        meta=meta,
        blocks=blocks,
        footer=t("mk.disc.footer"),
        wide=True,
    )


def _xlsx(d: DisclosureOut) -> bytes:
    book = Workbook()
    info = book.active
    assert info is not None
    info.title = "说明"
    state = _both("mk.disc.published") if d.published else _both("mk.disc.draft")
    info.append([f"{d.year} {_both('mk.disc.title')}"])
    info["A1"].font = Font(bold=True, size=13)
    info.append([_both("mk.disc.year"), d.year])
    info.append([_both("mk.disc.due_on"), d.due_on])
    info.append([_both("mk.status"), state])
    info.append(
        [
            _both("mk.disc.published_at"),
            d.published_at.replace(tzinfo=None) if d.published_at else "—",
        ]
    )
    info.append(["SHA-256", d.sha256 or "—"])
    info.append([_both("mk.disc.agency"), d.agency.name])
    info.append([_both("mk.uscc"), d.agency.uscc or "—"])
    agreements = book.create_sheet("实施机构")
    agreements.append(
        [
            _both(k)
            for k in (
                "mk.agreement",
                "mk.name",
                "mk.operator",
                "mk.uscc",
                "mk.rights",
                "mk.resources",
                "mk.scenario",
                "mk.disc.starts_on",
                "mk.disc.ends_on",
                "mk.status",
                "mk.disc.fee_cap",
            )
        ]
    )
    for a in d.agency.agreements:
        agreements.append(
            [
                a.id,
                a.title,
                a.operator_name,
                a.operator_uscc,
                ", ".join(a.rights),
                _resources_text(a.resources),
                "；".join(a.scenarios),
                a.starts_on,
                a.ends_on,
                a.status,
                yuan(a.fee_cap_cents),
            ]
        )
    operators = book.create_sheet("运营机构")
    operators.append(
        [
            _both(k)
            for k in ("mk.operator", "mk.uscc", "mk.contact", "mk.agreements", "mk.resources")
        ]
    )
    for o in d.operators:
        operators.append(
            [
                o.name,
                o.uscc,
                o.contact,
                ", ".join(str(i) for i in o.agreement_ids),
                _resources_text(o.resources),
            ]
        )
    products = book.create_sheet("产品与收费")
    products.append(
        [
            _both(k)
            for k in (
                "mk.operator",
                "mk.products",
                "mk.kind",
                "mk.scenario",
                "mk.disc.delivery",
                "mk.number",
                "mk.price",
                "mk.disc.fee_standard",
                "mk.disc.listed",
                "mk.disc.contracts",
                "mk.disc.revenue",
            )
        ]
    )
    for o in d.operators:
        for p in o.products:
            products.append(
                [
                    o.name,
                    p.name,
                    p.kind,
                    p.scenario,
                    p.delivery_mode,
                    p.registration_number or "—",
                    yuan(p.price_cents),
                    p.fee_standard,
                    p.listed,
                    p.contracts,
                    yuan(p.revenue_fen),
                ]
            )
    for sheet in book.worksheets[1:]:
        for cell in sheet[1]:
            cell.font = Font(bold=True)
    cells.seal_workbook(book)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def export_disclosure(ctx: Ctx, year: int, file_format: str) -> bytes:
    """The disclosure of ``year`` as ``xlsx`` or ``pdf`` (the published content once
    published); a year with nothing to disclose is refused and no file is made."""
    require(ctx, "export_disclosure", target=f"disclosure:{year}")
    if file_format not in ("xlsx", "pdf"):
        raise Invalid.field(
            "format", "导出格式只能是 xlsx 或 pdf。", "The file format is xlsx or pdf."
        )
    found = get_disclosure(ctx, year)
    data = _xlsx(found) if file_format == "xlsx" else pdf.render(_pdf_document(ctx, found))
    record(ctx, DisclosureExported(year=year, file_format=file_format, published=found.published))
    return data
