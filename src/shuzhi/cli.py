"""The ``shuzhi`` command: run the platform and administer a data directory."""

from __future__ import annotations

import getpass
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from shuzhi.audit import service as audit
from shuzhi.auth import service as auth
from shuzhi.auth.schemas import ApiKeyCreate, UserCreate
from shuzhi.cockpit.cli import cockpit_app
from shuzhi.context import Actor, Role, unit_of_work
from shuzhi.db.engine import Database
from shuzhi.db.migrate import upgrade
from shuzhi.errors import Invalid, ShuzhiError
from shuzhi.lake.cli import lake_app
from shuzhi.lake.ingest_cli import ingest_command
from shuzhi.org import service as org
from shuzhi.org.models import UnitKind
from shuzhi.org.schemas import UnitCreate
from shuzhi.settings import Settings, UnsafeSettings, load_settings
from shuzhi.sharing.cli import sharing_app
from shuzhi.validation import parse

app = typer.Typer(
    help="数治 Shuzhi — platform for the Chief Data Officer system.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
apikey_app = typer.Typer(help="Manage API keys for systems.", no_args_is_help=True)
user_app = typer.Typer(help="Manage staff accounts.", no_args_is_help=True)
audit_app = typer.Typer(help="Inspect the audit log.", no_args_is_help=True)
app.add_typer(apikey_app, name="apikey")
app.add_typer(user_app, name="user")
app.add_typer(audit_app, name="audit")
app.add_typer(lake_app, name="lake")
app.add_typer(sharing_app, name="sharing")
app.add_typer(cockpit_app, name="cockpit")
catalog_app = typer.Typer(help="Data resource catalogue (政务数据资源目录).", no_args_is_help=True)
app.add_typer(catalog_app, name="catalog")
app.command("ingest")(ingest_command)

console = Console()
err_console = Console(stderr=True)

DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        envvar="SHUZHI_DATA_DIR",
        help="Data directory (default ./shuzhi-data); the server and every command share it.",
    ),
]
Host = Annotated[str, typer.Option(help="Address to listen on.")]
Port = Annotated[int, typer.Option(help="Port to listen on.")]


def _cli_actor() -> Actor:
    # Whoever can run commands on the data directory administers the installation.
    return Actor(kind="system", name=f"cli:{getpass.getuser()}")


def _open(data_dir: Path | None) -> Database:
    try:
        settings = load_settings(data_dir=data_dir)
    except UnsafeSettings as exc:
        err_console.print(f"[red]Unsafe settings / 配置不安全:[/] {exc}")
        raise typer.Exit(2) from None
    database = Database(settings)
    upgrade(database)
    return database


def _fail(err: ShuzhiError) -> typer.Exit:
    err_console.print(f"[red]{err.message.zh}[/]\n{err.message.en}")
    if isinstance(err, Invalid):
        for e in err.errors:
            err_console.print(f"  - {e.field}: {e.message.zh} / {e.message.en}")
    return typer.Exit(1)


def _serve(settings: Settings, database: Database, host: str, port: int) -> None:
    import uvicorn

    from shuzhi.app import create_app

    application = create_app(settings, database=database, migrate=False)
    uvicorn.run(application, host=host, port=port, log_level="info", proxy_headers=True)


@app.command()
def init(
    data_dir: DataDir = None,
    region_code: Annotated[str | None, typer.Option(help="Code of the region unit")] = None,
    region_name: Annotated[str | None, typer.Option(help="Name, e.g. 某某区")] = None,
    admin: Annotated[str | None, typer.Option(help="Username of the first CDO executive")] = None,
    admin_password: Annotated[
        str | None,
        typer.Option(
            envvar="SHUZHI_ADMIN_PASSWORD", help="Password for --admin (prompted if omitted)"
        ),
    ] = None,
) -> None:
    """Create the data directory and schema; optionally the region and its first executive."""
    database = _open(data_dir)
    try:
        with unit_of_work(database, _cli_actor()) as ctx:
            if region_code and region_name and org.unit_id_for_code(ctx, region_code) is None:
                org.create_unit(
                    ctx,
                    parse(
                        UnitCreate,
                        {"code": region_code, "name": region_name, "kind": UnitKind.REGION},
                    ),
                )
            if admin:
                password = admin_password or typer.prompt(
                    "Password / 密码", hide_input=True, confirmation_prompt=True
                )
                auth.create_user(
                    ctx,
                    parse(
                        UserCreate,
                        {
                            "username": admin,
                            "display_name": admin,
                            "password": password,
                            "role": Role.CDO_EXECUTIVE,
                            "unit_code": region_code,
                        },
                    ),
                )
    except ShuzhiError as err:
        raise _fail(err) from None
    console.print(f"Initialised / 已初始化: {database.settings.data_dir}")


@app.command()
def serve(data_dir: DataDir = None, host: Host = "127.0.0.1", port: Port = 8000) -> None:
    """Serve the console and API on an existing data directory."""
    database = _open(data_dir)
    console.print(f"Shuzhi: http://{host}:{port}/")
    _serve(database.settings, database, host, port)


@app.command()
def demo(
    data_dir: DataDir = None,
    host: Host = "127.0.0.1",
    port: Port = 8000,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Build the demo, then exit")] = False,
) -> None:
    """Create (idempotently) the demo district and serve it; prints the demo accounts."""
    from shuzhi.demo.district import CREDENTIALS_FILE, build_demo

    database = _open(data_dir)
    accounts = build_demo(database)
    table = Table(title="Demo accounts / 演示账号")
    for column in ("username", "password", "role", "unit"):
        table.add_column(column)
    for a in accounts:
        table.add_row(a.username, a.password, a.role, a.unit or "")
    console.print(table)
    console.print(f"Credentials written to {database.settings.data_dir / CREDENTIALS_FILE}")
    if not no_serve:
        console.print(f"[bold]Open / 打开: http://{host}:{port}/[/]")
        _serve(database.settings, database, host, port)


@user_app.command("add")
def user_add(
    username: str,
    role: Annotated[Role, typer.Option(help="Role of the account")],
    unit: Annotated[str | None, typer.Option(help="Unit code (for unit roles)")] = None,
    name: Annotated[str | None, typer.Option(help="Display name")] = None,
    password: Annotated[
        str | None,
        typer.Option(envvar="SHUZHI_USER_PASSWORD", help="Password (prompted if omitted)"),
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Create a staff account."""
    database = _open(data_dir)
    secret = password or typer.prompt("Password / 密码", hide_input=True, confirmation_prompt=True)
    try:
        with unit_of_work(database, _cli_actor()) as ctx:
            user = auth.create_user(
                ctx,
                parse(
                    UserCreate,
                    {
                        "username": username,
                        "display_name": name or username,
                        "password": secret,
                        "role": role,
                        "unit_code": unit,
                    },
                ),
            )
    except ShuzhiError as err:
        raise _fail(err) from None
    console.print(f"Created user / 已创建账号: {user.username} ({user.role})")


@apikey_app.command("create")
def apikey_create(
    name: Annotated[str, typer.Option(help="What the key is for")],
    role: Annotated[Role, typer.Option(help="Role the key acts with")] = Role.CONSUMER,
    unit: Annotated[str | None, typer.Option(help="Unit code")] = None,
    expires_days: Annotated[int, typer.Option(help="Days until expiry")] = 365,
    data_dir: DataDir = None,
) -> None:
    """Issue an API key; the key is printed once and cannot be shown again."""
    database = _open(data_dir)
    try:
        with unit_of_work(database, _cli_actor()) as ctx:
            created = auth.create_api_key(
                ctx,
                parse(
                    ApiKeyCreate,
                    {
                        "name": name,
                        "role": role,
                        "unit_code": unit,
                        "expires_in_days": expires_days,
                    },
                ),
            )
    except ShuzhiError as err:
        raise _fail(err) from None
    console.print(f"prefix: {created.prefix}  expires: {created.expires_at}")
    console.print("Store this key now; it is shown only once / 请立即保存，仅显示一次:")
    typer.echo(created.token)


@apikey_app.command("list")
def apikey_list(data_dir: DataDir = None) -> None:
    """List API keys (never their secrets)."""
    database = _open(data_dir)
    with unit_of_work(database, _cli_actor()) as ctx:
        keys = auth.list_api_keys(ctx)
    table = Table()
    for column in ("prefix", "name", "role", "unit", "status", "expires", "last used"):
        table.add_column(column)
    for k in keys:
        table.add_row(
            k.prefix,
            k.name,
            k.role,
            k.unit_code or "",
            k.status,
            str(k.expires_at or ""),
            str(k.last_used_at or ""),
        )
    console.print(table)


@apikey_app.command("revoke")
def apikey_revoke(prefix: str, data_dir: DataDir = None) -> None:
    """Revoke an API key by its prefix."""
    database = _open(data_dir)
    try:
        with unit_of_work(database, _cli_actor()) as ctx:
            auth.revoke_api_key(ctx, prefix)
    except ShuzhiError as err:
        raise _fail(err) from None
    console.print(f"Revoked / 已吊销: {prefix}")


@audit_app.command("verify")
def audit_verify(data_dir: DataDir = None) -> None:
    """Recompute the audit hash chain; exit 1 naming the first bad entry if it was tampered with."""
    database = _open(data_dir)
    with unit_of_work(database, _cli_actor()) as ctx:
        report = audit.verify_audit(ctx)
    if report.ok:
        console.print(f"OK: {report.entries} entries, chain intact / 哈希链完整")
        return
    err_console.print(
        f"[red]BROKEN at entry {report.first_bad_seq}[/]: {report.reason}\n"
        f"哈希链在第 {report.first_bad_seq} 条处被破坏"
    )
    raise typer.Exit(1)


UnitOption = Annotated[str | None, typer.Option("--unit", help="Unit code (单位代码)")]


@catalog_app.command("import")
def catalog_import(file: Path, unit: UnitOption = None, data_dir: DataDir = None) -> None:
    """Import a compile-template workbook; all or nothing, exit 1 with the row-level report."""
    from shuzhi.catalog import excel_service

    database = _open(data_dir)
    try:
        content = file.read_bytes()
    except OSError as exc:
        err_console.print(f"[red]Cannot read / 无法读取 {file}:[/] {exc.strerror}")
        raise typer.Exit(2) from None
    try:
        with unit_of_work(database, _cli_actor()) as ctx:
            report = excel_service.import_workbook(ctx, content, unit, filename=file.name)
    except ShuzhiError as err:
        raise _fail(err) from None
    for w in report.warnings:
        err_console.print(f"[yellow]{_where(w)}[/] {w.message_zh} / {w.message_en}")
    if not report.ok:
        table = Table(title="Import refused, nothing imported / 导入未执行，未导入任何内容")
        for column in ("sheet", "row", "column", "问题", "problem"):
            table.add_column(column)
        for e in report.errors:
            table.add_row(
                e.sheet or "", str(e.row or ""), e.column or "", e.message_zh, e.message_en
            )
        err_console.print(table)
        if report.errors_truncated:
            err_console.print(
                f"… {report.error_count - len(report.errors)} more / 另有 "
                f"{report.error_count - len(report.errors)} 处问题未列出"
            )
        err_console.print(f"[red]{report.error_count} problems / 处问题[/]")
        raise typer.Exit(1)
    console.print(
        f"Imported / 已导入: created 新建 {len(report.created)}, updated 修改 "
        f"{len(report.updated)}, revised 修订 {len(report.revised)}, unchanged 未变 "
        f"{len(report.unchanged)}; items 信息项 {report.items_read}"
    )


def _where(p: object) -> str:
    sheet, row, column = (getattr(p, k) for k in ("sheet", "row", "column"))
    return " ".join(str(x) for x in (sheet, f"row {row}" if row else None, column) if x)


@catalog_app.command("export")
def catalog_export(file: Path, unit: UnitOption = None, data_dir: DataDir = None) -> None:
    """Write the catalogue (one unit, or all) as a compile-template workbook."""
    from shuzhi.catalog import excel_service

    database = _open(data_dir)
    try:
        with unit_of_work(database, _cli_actor()) as ctx:
            content = excel_service.export_workbook(ctx, unit)
    except ShuzhiError as err:
        raise _fail(err) from None
    file.write_bytes(content)
    console.print(f"Exported / 已导出: {file}")


# ---- security: classification evaluation and file classification ------------------------

security_app = typer.Typer(help="Classification, grading and masking.", no_args_is_help=True)
app.add_typer(security_app, name="security")


@security_app.command("evaluate")
def security_evaluate(
    minimum: Annotated[
        float, typer.Option("--min", help="Fail if any category's precision or recall is lower")
    ] = 0.95,
    corpus: Annotated[
        Path | None, typer.Option(help="Corpus directory with labels.csv (default: shipped)")
    ] = None,
    show_mistakes: Annotated[bool, typer.Option("--mistakes", help="List misclassified")] = False,
) -> None:
    """Precision and recall of the column classifier on the labelled corpus."""
    from shuzhi.security.categories import info
    from shuzhi.security.evaluation import evaluate_corpus

    report = evaluate_corpus(corpus)
    table = Table(title="Column classification / 字段分类评估")
    for column in ("category", "类别", "columns", "predicted", "precision", "recall"):
        table.add_column(column, justify="left" if column in ("category", "类别") else "right")
    for s in report.scores:
        flag = "" if min(s.precision, s.recall) >= minimum else " [red]✗[/]"
        table.add_row(
            s.category.value,
            info(s.category).label_zh,
            str(s.support),
            str(s.predicted),
            f"{s.precision:.3f}",
            f"{s.recall:.3f}{flag}",
        )
    table.add_section()
    table.add_row(
        "overall (personal)",
        "总体（不含 none）",
        str(report.columns),
        "",
        f"{report.overall_precision:.3f}",
        f"{report.overall_recall:.3f}",
    )
    console.print(table)
    console.print(f"accuracy / 准确率: {report.accuracy:.3f} ({report.correct}/{report.columns})")
    if show_mistakes:
        for m in report.mistakes:
            console.print(
                f"{m.file} {m.column}: {m.expected.value} → {m.got.category.value} "
                f"({m.got.confidence}) {'; '.join(m.got.evidence)}"
            )
    failing = report.below(minimum)
    if failing:
        names = ", ".join(s.category.value for s in failing)
        err_console.print(f"[red]Below {minimum} / 低于阈值:[/] {names}")
        raise typer.Exit(1)


@app.command()
def classify(
    file: Annotated[Path, typer.Argument(help="CSV/TSV/TXT, XLSX, JSON Lines or Parquet file")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Classify the columns of a file without ingesting it (samples the first 1,000 rows)."""
    import json

    from shuzhi.lake.readers import FileSource, sample_columns
    from shuzhi.security.categories import info
    from shuzhi.security.classifier import SAMPLE_LIMIT, classify_table
    from shuzhi.security.grading import NATIONAL, grade_dataset

    try:
        columns = sample_columns(FileSource(file), SAMPLE_LIMIT)
    except ShuzhiError as err:
        raise _fail(err) from None
    results = classify_table(columns)
    if as_json:
        payload = [
            {
                "name": r.name,
                "category": r.category.value,
                "confidence": r.confidence,
                "evidence": r.evidence,
            }
            for r in results
        ]
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    table = Table(title=f"{file.name}")
    for column in ("name", "category", "类别", "confidence", "evidence"):
        table.add_column(column)
    for r in results:
        table.add_row(
            r.name,
            r.category.value,
            info(r.category).label_zh,
            f"{r.confidence:.2f}",
            "; ".join(r.evidence),
        )
    console.print(table)
    rows = max((len(v) for v in columns.values()), default=0)
    grade = grade_dataset((r.category for r in results), rows)
    level = NATIONAL.level(grade.level.value)
    console.print(
        f"grade (floor, from {rows} sampled rows) / 分级（下限）: {level.name_zh} {level.name_en}; "
        f"personal / 个人信息: {grade.personal}; sensitive / 敏感个人信息: "
        f"{grade.sensitive_personal}"
    )


def main() -> None:
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    app()
