"""``shuzhi masterdata``: link department extracts into base-library entities, from files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from shuzhi.command import DataDir, acting, console, fail
from shuzhi.errors import Invalid, ShuzhiError

masterdata_app = typer.Typer(
    help="Base libraries (基础库): link records of many departments into entities.",
    no_args_is_help=True,
)


def _priority(path: Path | None) -> dict[str, list[str]]:
    if path is None:
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise Invalid(
            f"无法读取来源优先级文件 {path.name}：{exc}。",
            f"Cannot read the source priority file {path.name}: {exc}.",
        ) from None
    if not isinstance(data, dict) or not all(
        isinstance(v, list) and all(isinstance(s, str) for s in v) for v in data.values()
    ):
        raise Invalid(
            "来源优先级应为 JSON 对象：属性 → 来源名列表（优先者在前）。",
            "The source priority must be a JSON object: attribute → list of source names,"
            " best first.",
        )
    return {str(k): list(v) for k, v in data.items()}


def say(text: str) -> None:
    console.print(text, markup=False, soft_wrap=True)


@masterdata_app.command("link")
def link_command(
    files: Annotated[
        list[Path], typer.Argument(help="Extracts: CSV/TSV/TXT, XLSX, JSON Lines, Parquet")
    ],
    out: Annotated[Path, typer.Option("--out", help="OUT.csv: source,row,entity_id per record")],
    kind: Annotated[str, typer.Option("--kind", help="person or legal_entity")] = "person",
    rank: Annotated[
        str, typer.Option("--rank", help="Sources by authority, best first: 公安,人社,…")
    ] = "",
    priority: Annotated[
        Path | None,
        typer.Option("--priority", help="JSON: attribute → sources, best first (一数一源)"),
    ] = None,
    threshold: Annotated[
        float, typer.Option("--threshold", min=0.5, max=1.0, help="Match probability to merge")
    ] = 0.99,
    max_block: Annotated[
        int, typer.Option("--max-block", min=2, help="Largest block compared; larger ones reported")
    ] = 200,
    plain: Annotated[
        bool, typer.Option("--plain", help="Compare raw values, without Chinese normalisation")
    ] = False,
) -> None:
    """Link the records of FILE… (no ingest) and write OUT.csv, OUT.golden.csv,
    OUT.conflicts.csv and OUT.pairs.csv."""
    from shuzhi.masterdata.linkage import LinkOptions
    from shuzhi.masterdata.pipeline import link_files, write_outputs

    try:
        run = link_files(
            files,
            kind=kind,
            rank=[s.strip() for s in rank.split(",") if s.strip()],
            priority=_priority(priority),
            options=LinkOptions(threshold=threshold, max_block_size=max_block),
            normalise=not plain,
        )
        paths = write_outputs(run, out)
    except ShuzhiError as err:
        raise fail(err) from None
    r = run.report
    records = run.linkage.stats["records"]
    say(f"records / 记录: {records:,} from {len(files)} files; entities / 实体: {r['entities']:,}")
    en_id, zh_id = (
        ("USCCs", "统一社会信用代码") if kind == "legal_entity" else ("resident IDs", "身份证号")
    )
    say(
        f"usable {en_id} / 有效{zh_id}: {r['usable_ids']:,}"
        f" ({r['usable_ids'] / records:.1%});"
        f" check failed / 校验位错误 {r['ids_check_failed']:,}; malformed / 格式错误"
        f" {r['ids_malformed']:,}; missing / 缺失 {r['ids_missing']:,}"
    )
    if not r["usable_ids"]:
        say(
            f"warning / 注意: no record carries a usable {en_id[:-1]}; links rest on the other"
            f" fields only / 无有效{zh_id}，仅按其他字段链接"
        )
    say(
        f"pairs merged / 合并: {r['pairs_merged']:,}; for review / 待复核 (p ≥ 0.5):"
        f" {r['pairs_for_review']:,}; refused (two verified IDs) / 拒绝合并（两个有效证号）:"
        f" {r['merges_refused_two_verified_ids']:,}"
    )
    duplicates = r["duplicate_rows_per_source"]
    if duplicates:
        listed = ", ".join(f"{s} {n}" for s, n in duplicates.items())  # type: ignore[attr-defined]
        say(f"duplicate rows within a source / 来源内重复行: {listed}")
    for block in run.oversized[:10]:
        say(
            f"oversized block, not compared / 超大块未比较: {block.rule} = {block.key}"
            f" ({block.size:,} records > {max_block})"
        )
    if len(run.oversized) > 10:
        say(f"… {len(run.oversized) - 10} more oversized blocks / 另有超大块")
    say(f"conflicts / 冲突: {r['conflicts']:,}; model trained / 模型训练: {r['trained']}")
    for name, path in paths.items():
        say(f"{name}: {path}")


@masterdata_app.command("evaluate")
def evaluate_command(
    links: Annotated[Path, typer.Argument(help="source,row,entity_id CSV (masterdata link)")],
    truth: Annotated[Path, typer.Option("--truth", help="source,row,entity_id ground truth")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Pairwise precision, recall, F1 and cluster metrics of LINKS against --truth."""
    from dataclasses import asdict

    from shuzhi.masterdata.evaluation import read_assignment, score_links

    try:
        scores = score_links(read_assignment(links), read_assignment(truth))
    except ShuzhiError as err:
        raise fail(err) from None
    if as_json:
        typer.echo(json.dumps(asdict(scores), indent=2))
        return
    s = scores
    for label, value in (
        ("records / 记录", f"{s.records:,}"),
        (
            "pairwise precision / 成对精确率",
            f"{s.precision:.4f} ({s.correct_pairs:,} / {s.linked_pairs:,})",
        ),
        (
            "pairwise recall / 成对召回率",
            f"{s.recall:.4f} ({s.correct_pairs:,} / {s.true_pairs:,})",
        ),
        ("pairwise F1", f"{s.f1:.4f}"),
        ("entities found / true / 实体数", f"{s.entities:,} / {s.true_entities:,}"),
        ("true entities reproduced exactly / 完全一致的实体", f"{s.exact_clusters:.4f}"),
        ("B-cubed precision / recall", f"{s.bcubed_precision:.4f} / {s.bcubed_recall:.4f}"),
    ):
        console.print(f"{label}: {value}", markup=False, soft_wrap=True)


@masterdata_app.command("generate")
def generate_command(
    out_dir: Annotated[Path, typer.Argument(help="Directory for the extracts and truth.csv")],
    records: Annotated[int, typer.Option("--records", min=1, help="About this many rows")] = 10_000,
    seed: Annotated[int, typer.Option("--seed")] = 7,
    kind: Annotated[str, typer.Option("--kind", help="person or legal_entity")] = "person",
) -> None:
    """Write five departments' synthetic extracts with realistic defects and truth.csv."""
    from shuzhi.masterdata.pipeline import check_kind
    from shuzhi.masterdata.synth import generate, generate_entities

    try:
        check_kind(kind)
    except ShuzhiError as err:
        raise fail(err) from None
    files = (generate_entities if kind == "legal_entity" else generate)(records, out_dir, seed)
    for dept, path in files.items():
        console.print(f"{dept}: {path}", markup=False)
    console.print(f"truth: {out_dir / 'truth.csv'}", markup=False)


def _print_run(run: object) -> None:
    from shuzhi.masterdata.schemas import RunOut

    assert isinstance(run, RunOut)
    say(
        f"run / 运行 {run.id} ({run.mode.value}): records / 记录 {run.records_in:,};"
        f" linked this run / 本次链接 {run.records_linked:,}; entities / 实体"
        f" {run.entities_out:,}; links / 合并 {run.links:,}; for review / 待复核"
        f" {run.review_pairs:,}; conflicts / 冲突 {run.conflicts:,}"
    )
    for code, v in sorted(run.versions.items()):
        say(f"  {code}: version / 版本 {v.get('number')}")


@masterdata_app.command("build")
def build_command(
    library: Annotated[str, typer.Argument(help="Library code, e.g. population")],
    data_dir: DataDir = None,
) -> None:
    """Run LIBRARY in full over its members' current versions; the result becomes current."""
    from shuzhi.masterdata import service

    with acting(data_dir) as ctx:
        run = service.run_masterdata_library(ctx, library)
    _print_run(run)


@masterdata_app.command("run")
def run_command(
    library: Annotated[str, typer.Argument(help="Library code, e.g. population")],
    incremental: Annotated[
        bool,
        typer.Option(
            "--incremental", help="Link only the records new or changed since the current run"
        ),
    ] = False,
    data_dir: DataDir = None,
) -> None:
    """Run LIBRARY (in full, or --incremental); the result becomes current."""
    from shuzhi.masterdata import service

    with acting(data_dir) as ctx:
        run = service.run_masterdata_library(ctx, library, incremental=incremental)
    _print_run(run)


@masterdata_app.command("define")
def define_command(
    library: Annotated[str, typer.Argument(help="Library code, e.g. population")],
    name: Annotated[str, typer.Option("--name", help="人口基础库, …")],
    unit: Annotated[str, typer.Option("--unit", help="Owning unit's code (the bureau)")],
    kind: Annotated[str, typer.Option("--kind", help="person or legal_entity")] = "person",
    threshold: Annotated[float, typer.Option("--threshold", min=0.5, max=1.0)] = 0.99,
    data_dir: DataDir = None,
) -> None:
    """Define a base library (empty until members are added)."""
    from pydantic import ValidationError

    from shuzhi.masterdata import service
    from shuzhi.masterdata.schemas import LibraryIn

    try:
        data = LibraryIn.model_validate(
            {"code": library, "name": name, "kind": kind, "unit_code": unit, "threshold": threshold}
        )
    except ValidationError as exc:
        raise fail(
            Invalid(f"基础库定义无效：{exc.errors()[0]['msg']}", f"Invalid library: {exc}")
        ) from None
    with acting(data_dir) as ctx:
        out = service.define_masterdata_library(ctx, data)
    say(f"{out.code}: {out.name} ({out.kind.value}, {out.unit_code})")


@masterdata_app.command("add-member")
def add_member_command(
    library: Annotated[str, typer.Argument(help="Library code")],
    resource_code: Annotated[str, typer.Argument(help="Catalogue entry's resource code")],
    rank: Annotated[int, typer.Option("--rank", min=0, help="Authority, lower first")] = 100,
    mapping: Annotated[
        list[str] | None,
        typer.Option("--map", help="ELEMENT=COLUMN, e.g. 公民身份号码=SFZH (default: by header)"),
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Add a dataset to LIBRARY with its column mapping (checked against its current version)."""
    from shuzhi.masterdata import service
    from shuzhi.masterdata.schemas import MemberIn

    pairs = [m.split("=", 1) for m in mapping or []]
    if any(len(p) != 2 or not p[0].strip() or not p[1].strip() for p in pairs):
        raise fail(Invalid("--map 应写作 数据元=列名。", "--map takes ELEMENT=COLUMN."))
    given = {k.strip(): v.strip() for k, v in pairs} if pairs else None
    with acting(data_dir) as ctx:
        out = service.add_masterdata_member(
            ctx, library, MemberIn(resource_code=resource_code, rank=rank, mapping=given)
        )
    for m in out.members:
        cols = ", ".join(f"{f}={c}" for f, c in sorted(m.mapping.items()))
        say(f"{m.resource_code} ({m.unit_code}, rank {m.rank}): {cols}")
