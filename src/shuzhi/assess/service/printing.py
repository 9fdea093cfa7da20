"""Reports of a round as PDF files, generated on the server: for the region (ranking, level
distribution, domain heat map, year-on-year change) and for one unit (radar and domains,
items, evidence, gaps), in the reader's language, with the charts the pages show. Same
permissions and audit record as the Excel download."""

from __future__ import annotations

from collections.abc import Sequence

from shuzhi.assess.charts import bars, radar, shade
from shuzhi.assess.events import ReportExported
from shuzhi.assess.schemas import RegionReport, UnitReport
from shuzhi.assess.service.common import unit_of
from shuzhi.assess.service.reports import region_report, unit_report
from shuzhi.assess.texts import TEXTS
from shuzhi.audit.service import record
from shuzhi.context import Ctx
from shuzhi.db.base import utcnow
from shuzhi.documents import pdf

FOOTER = "自评估结果，非认证结论 / a self-assessment, never a certification"


def _t(ctx: Ctx, key: str, **values: object) -> str:
    zh, en = TEXTS[key]
    text = en if ctx.locale == "en" else zh
    return text.format(**values) if values else text


def _named(ctx: Ctx, zh: str, en: str) -> str:
    return en if ctx.locale == "en" else zh


def _level(ctx: Ctx, levels: Sequence[Sequence[str]], n: int) -> str:
    if n == 0:
        return _t(ctx, "assess.level_0")
    return f"{n} · {_named(ctx, levels[n - 1][0], levels[n - 1][1])}"


def _meta(ctx: Ctx, kind: str, model: str, status: str) -> list[str]:
    moment = utcnow().strftime("%Y-%m-%d %H:%M UTC")
    return [
        f"{_t(ctx, kind)} · {_t(ctx, 'assess.readiness')}",
        _t(ctx, "assess.pdf.model", model=model, status=_t(ctx, f"assess.status.{status}")),
        _t(ctx, "assess.pdf.generated", moment=moment),
    ]


def export_report_pdf(ctx: Ctx, round_id: int, unit_code: str | None = None) -> bytes:
    """The region's report (or one unit's) as a PDF file (audited as the Excel one is)."""
    if unit_code is None:
        data = pdf.render(_region_document(ctx, region_report(ctx, round_id)))
        record(ctx, ReportExported(round_id=round_id, unit=None, file_format="pdf"))
        return data
    report = unit_report(ctx, round_id, unit_code)
    data = pdf.render(_unit_document(ctx, report))
    unit = unit_of(ctx, unit_code)
    record(ctx, ReportExported(round_id=round_id, unit=unit.id, file_format="pdf"))
    return data


def _shaded(scores: Sequence[float]) -> list[pdf.Cell]:
    return [pdf.Shade(f"{s:.2f}", shade(s)) for s in scores]


def _region_document(ctx: Ctx, rep: RegionReport) -> pdf.Document:
    t = _t
    unit, level, score = t(ctx, "assess.pdf.unit"), t(ctx, "assess.level"), t(ctx, "assess.score")
    top = max(rep.distribution, default=0) or 1
    moved = [r for r in rep.ranking if r.change is not None]
    ranking = bars([(r.unit_name, r.score) for r in rep.ranking], top=5)
    spread = bars([(str(n), float(c)) for n, c in enumerate(rep.distribution)], top=top)
    blocks: list[pdf.Block] = [
        pdf.Heading(t(ctx, "assess.ranking")),
        pdf.Chart(ranking.svg(t(ctx, "assess.ranking"))),
        pdf.Table(
            [t(ctx, "assess.rank"), unit, level, score],
            [[r.rank, r.unit_name, _level(ctx, rep.levels, r.level), r.score] for r in rep.ranking],
            widths=[1, 4, 3, 1.5],
            empty=t(ctx, "assess.pdf.none"),
        ),
        pdf.Heading(t(ctx, "assess.distribution")),
        pdf.Chart(spread.svg(t(ctx, "assess.distribution"))),
        pdf.Table(
            [level, t(ctx, "assess.unit_count")],
            [[_level(ctx, rep.levels, n), c] for n, c in enumerate(rep.distribution)],
            widths=[3, 1],
        ),
        pdf.Heading(t(ctx, "assess.heat")),
        pdf.Table(
            [unit, *(_named(ctx, d.name_zh, d.name_en) for d in rep.domains)],
            [
                *([h.unit_name, *_shaded(h.scores)] for h in rep.heat),
                [t(ctx, "assess.region_mean"), *_shaded([d.score for d in rep.domains])],
            ],
            widths=[2.4, *[1] * len(rep.domains)],
        ),
        pdf.Heading(t(ctx, "assess.yoy")),
    ]
    if moved:
        change = bars([(r.unit_name, r.change or 0.0) for r in moved])
        blocks.append(pdf.Chart(change.svg(t(ctx, "assess.yoy"))))
    blocks.append(
        pdf.Table(
            [unit, t(ctx, "assess.previous"), level, score, t(ctx, "assess.change")],
            [
                [
                    r.unit_name,
                    r.previous_round_title,
                    f"{r.previous_level} → {r.level}",
                    f"{r.previous_score} → {r.score}",
                    f"{r.change:+.3f}",
                ]
                if r.previous_round_id is not None and r.change is not None
                else [r.unit_name, t(ctx, "assess.no_previous"), None, None, None]
                for r in rep.ranking
            ],
            widths=[3, 3, 1.5, 2, 1.2],
            empty=t(ctx, "assess.pdf.none"),
        )
    )
    return pdf.Document(
        title=f"{rep.title} · {t(ctx, 'assess.region_report')}",
        meta=_meta(ctx, "assess.region_report", rep.model_code, rep.status),
        blocks=blocks,
        footer=FOOTER,
    )


def _unit_document(ctx: Ctx, rep: UnitReport) -> pdf.Document:
    t = _t
    level, score = t(ctx, "assess.level"), t(ctx, "assess.score")
    gaps = t(ctx, "assess.gap_count")
    overall = (
        f"{t(ctx, 'assess.overall')}：{_level(ctx, rep.levels, rep.level)} · {score} {rep.score}"
    )
    if rep.previous_round_id is not None:
        overall += (
            f" · {t(ctx, 'assess.previous')}（{rep.previous_round_title}）"
            f"{rep.previous_level} · {rep.previous_score}"
        )
    chart = radar([(_named(ctx, d.name_zh, d.name_en), d.score) for d in rep.domains])
    evidence: list[list[pdf.Cell]] = []
    for e in rep.evidence:
        kind = t(ctx, f"assess.evidence.{e.evidence}")
        state = t(ctx, f"assess.state.{e.state}")
        if e.verdict:
            state += f" · {t(ctx, f'assess.verdict.{e.verdict}')}"
        if e.expired:
            state += f" · {t(ctx, 'assess.expired')}"
        evidence.append(
            [
                f"{e.indicator}\n{kind}" + (f" · {e.value}" if e.value is not None else ""),
                e.level,
                state,
                f"{e.provided_by} · {e.provided_at.date()}",
                e.documents,
                "\n".join(e.links[:3]) or None,
            ]
        )
    blocks: list[pdf.Block] = [
        pdf.Paragraph(overall),
        pdf.Heading(t(ctx, "assess.domains")),
        pdf.Chart(chart.svg(t(ctx, "assess.radar"))),
        pdf.Table(
            [t(ctx, "assess.domain"), level, score, t(ctx, "assess.previous")],
            [
                [
                    _named(ctx, d.name_zh, d.name_en),
                    _level(ctx, rep.levels, d.level),
                    d.score,
                    rep.previous_domains.get(d.code),
                ]
                for d in rep.domains
            ],
            widths=[3, 3, 1.2, 1.2],
        ),
        pdf.Heading(t(ctx, "assess.items_table")),
        pdf.Table(
            [t(ctx, "assess.domain"), t(ctx, "assess.items_table"), level, score, gaps],
            [
                [
                    _named(ctx, i.domain_name_zh, i.domain_name_en),
                    _named(ctx, i.name_zh, i.name_en),
                    i.level,
                    i.score,
                    i.gaps,
                ]
                for i in rep.items
            ],
            widths=[2, 4, 1, 1, 1.2],
        ),
        pdf.Heading(t(ctx, "assess.evidence_list")),
        pdf.Table(
            [
                t(ctx, "assess.indicator"),
                level,
                t(ctx, "assess.pdf.status"),
                t(ctx, "assess.provided_by_at"),
                t(ctx, "assess.documents_n"),
                t(ctx, "assess.pdf.links"),
            ],
            evidence,
            widths=[4, 0.8, 2.2, 2.4, 1, 2.6],
            empty=t(ctx, "assess.pdf.none"),
        ),
        pdf.Heading(t(ctx, "assess.gaps")),
        pdf.Table(
            [t(ctx, "assess.items_table"), level, t(ctx, "assess.indicator")],
            [
                [
                    _named(ctx, g.item_name_zh, g.item_name_en),
                    f"{g.level} → {g.next_level}",
                    f"{_named(ctx, g.text_zh, g.text_en)}\n{g.indicator}",
                ]
                for g in rep.gaps
            ],
            widths=[2.5, 1, 6],
            empty=t(ctx, "assess.no_gaps"),
        ),
    ]
    return pdf.Document(
        title=f"{rep.unit_name} · {rep.title}",
        meta=_meta(ctx, "assess.unit_report", rep.model_code, rep.status),
        blocks=blocks,
        footer=FOOTER,
    )
