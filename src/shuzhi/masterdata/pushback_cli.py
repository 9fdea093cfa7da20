"""``shuzhi masterdata pushback-…`` and ``report``: push-back to the grass roots from the
command line (as the system actor, like every command on the data directory)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from shuzhi.command import DataDir, acting, console, fail
from shuzhi.errors import Invalid
from shuzhi.masterdata.pushback_schemas import PushbackOut


def say(text: str) -> None:
    console.print(text, markup=False, soft_wrap=True)


def _pairs(given: list[str] | None, option: str) -> dict[str, str]:
    pairs = [g.split("=", 1) for g in given or []]
    if any(len(p) != 2 or not p[0].strip() or not p[1].strip() for p in pairs):
        raise fail(Invalid(f"{option} 应写作 名称=值。", f"{option} takes NAME=VALUE."))
    return {k.strip(): v.strip() for k, v in pairs}


def _print(p: PushbackOut) -> None:
    group = "; ".join(c.text_en for c in p.conditions) or "all"
    say(
        f"#{p.id} {p.name} → {p.target_unit_code} ({p.division_code} {p.street}"
        f"{' ' + p.community if p.community else ''}; {group}): status / 状态 {p.status.value},"
        f" run / 运行 {p.last_run_id or '-'}, rows / 记录 {p.rows if p.rows is not None else '-'},"
        f" version / 版本 {p.version or '-'}, dataset / 数据集 {p.resource_code},"
        f" grant / 授权 {p.grant_id or '-'} ({p.grant_status or '-'})"
    )
    if p.error_en:
        say(f"  {p.error_zh} / {p.error_en}")


def define_command(
    library: Annotated[str, typer.Argument(help="Library code, e.g. population")],
    name: Annotated[str, typer.Option("--name", help="城西街道居民, 高龄独居老人…")],
    unit: Annotated[str, typer.Option("--unit", help="The street unit's code")],
    division: Annotated[str, typer.Option("--division", help="County division code, 330106")],
    street: Annotated[str, typer.Option("--street", help="乡镇街道, e.g. 北山街道")],
    columns: Annotated[str, typer.Option("--columns", help="Attributes: 姓名,公民身份号码,…")],
    community: Annotated[str | None, typer.Option("--community", help="社区/村")] = None,
    min_age: Annotated[int | None, typer.Option("--min-age", min=0, max=150)] = None,
    max_age: Annotated[int | None, typer.Option("--max-age", min=0, max=150)] = None,
    equals: Annotated[
        list[str] | None, typer.Option("--equals", help="ATTRIBUTE=VALUE, e.g. 性别=女")
    ] = None,
    in_dataset: Annotated[
        list[str] | None, typer.Option("--in-dataset", help="A member dataset it has a record in")
    ] = None,
    not_in_dataset: Annotated[
        list[str] | None, typer.Option("--not-in-dataset", help="… or has none in")
    ] = None,
    mask: Annotated[
        list[str] | None, typer.Option("--mask", help="ATTRIBUTE=partial|pseudonym|redact")
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Define a push-back of LIBRARY to a street: its dataset, the street's application and
    grant are set up at once; it is delivered after every run made current."""
    from shuzhi.masterdata import pushback
    from shuzhi.masterdata.pushback_schemas import PushbackIn
    from shuzhi.validation import parse

    conditions: list[dict[str, Any]] = []
    if min_age is not None or max_age is not None:
        conditions.append({"kind": "age", "min_age": min_age, "max_age": max_age})
    for attribute, value in _pairs(equals, "--equals").items():
        conditions.append({"kind": "equals", "attribute": attribute, "value": value})
    conditions += [{"kind": "in_dataset", "resource_code": c} for c in in_dataset or []]
    conditions += [{"kind": "not_in_dataset", "resource_code": c} for c in not_in_dataset or []]
    with acting(data_dir) as ctx:
        data = parse(
            PushbackIn,
            {
                "name": name,
                "target_unit_code": unit,
                "division_code": division,
                "street": street,
                "community": community,
                "columns": [c.strip() for c in columns.replace("，", ",").split(",") if c.strip()],
                "conditions": conditions,
                "masking": _pairs(mask, "--mask"),
            },
        )
        out = pushback.define_masterdata_pushback(ctx, library, data)
    _print(out)


def list_command(
    library: Annotated[str, typer.Argument(help="Library code")],
    data_dir: DataDir = None,
) -> None:
    """LIBRARY's push-backs with their delivery status."""
    from shuzhi.masterdata import pushback

    with acting(data_dir) as ctx:
        rows = pushback.list_masterdata_pushbacks(ctx, library)
    for p in rows:
        _print(p)
    if not rows:
        say("no push-back / 暂无反哺定义")


def refresh_command(
    library: Annotated[str, typer.Argument(help="Library code")],
    pushback_id: Annotated[int | None, typer.Option("--id", help="Only this push-back")] = None,
    data_dir: DataDir = None,
) -> None:
    """Deliver LIBRARY's push-backs now from its current run (after defining one, or to
    retry a failed delivery); exit 1 when a delivery failed."""
    from shuzhi.masterdata import pushback_delivery

    with acting(data_dir) as ctx:
        rows = pushback_delivery.refresh_masterdata_pushbacks(ctx, library, pushback_id)
    for p in rows:
        _print(p)
    if any(p.status.value == "failed" for p in rows):
        raise typer.Exit(1)


def retire_command(
    library: Annotated[str, typer.Argument(help="Library code")],
    pushback_id: Annotated[int, typer.Argument(help="The push-back's number")],
    reason: Annotated[str, typer.Option("--reason", help="Why it stops")],
    data_dir: DataDir = None,
) -> None:
    """Stop a push-back: its grant is revoked, later runs leave it alone."""
    from shuzhi.masterdata import pushback

    with acting(data_dir) as ctx:
        out = pushback.retire_masterdata_pushback(ctx, library, pushback_id, reason)
    _print(out)


def report_command(
    library: Annotated[str, typer.Argument(help="Library code")],
    pushback_id: Annotated[int, typer.Argument(help="The push-back's number")],
    entity: Annotated[str, typer.Option("--entity", help="Entity ID of the delivered record")],
    attribute: Annotated[str, typer.Option("--attribute", help="出生日期, name, …")],
    problem: Annotated[str, typer.Option("--problem", help="What is wrong")],
    proposed: Annotated[str, typer.Option("--proposed", help="The right value")] = "",
    data_dir: DataDir = None,
) -> None:
    """File a street's report of a wrong delivered value (on the street's behalf); it becomes
    a quality issue of the unit that supplied the value."""
    from shuzhi.masterdata import pushback_reports
    from shuzhi.masterdata.pushback_schemas import ReportIn
    from shuzhi.validation import parse

    with acting(data_dir) as ctx:
        data = parse(
            ReportIn,
            {"entity_id": entity, "attribute": attribute, "problem": problem, "proposed": proposed},
        )
        out = pushback_reports.report_masterdata_record(ctx, library, pushback_id, data)
    say(
        f"report / 反馈 #{out.id}: {out.attribute} of {out.entity_id} → {out.unit_code}"
        f" ({out.resource_code}, version {out.version}, row {out.row}); quality issue / 质量问题"
        f" #{out.quality_issue_id}"
    )


def register(app: typer.Typer) -> None:
    """Add the push-back commands to ``shuzhi masterdata``."""
    app.command("pushback-define")(define_command)
    app.command("pushbacks")(list_command)
    app.command("pushback-refresh")(refresh_command)
    app.command("pushback-retire")(retire_command)
    app.command("report")(report_command)
