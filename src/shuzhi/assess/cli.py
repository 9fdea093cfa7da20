"""``shuzhi assess …``: load the national models, and a unit's platform evidence."""

from __future__ import annotations

import typer
from rich.markup import escape

from shuzhi.assess import service
from shuzhi.command import DataDir, acting, console

assess_app = typer.Typer(
    help="Data management capability assessment (数据管理能力评估).", no_args_is_help=True
)


@assess_app.command("seed")
def seed(data_dir: DataDir = None) -> None:
    """Load the DCMM 2018 and 2025 models (those not loaded yet; edits are kept)."""
    with acting(data_dir) as ctx:
        added = service.seed_assessment_models(ctx)
    for m in added:
        console.print(
            f"{m.code}: {m.domain_count} domains / 能力域, {m.item_count} items / 能力项,"
            f" {m.indicator_count} indicators / 指标"
        )
    console.print(f"Models loaded / 已载入模型: {len(added)}")


@assess_app.command("evidence")
def evidence(
    unit: str = typer.Option(..., "--unit", help="Unit code"),
    round_id: int | None = typer.Option(
        None, "--round", help="Store the measurements in this open round"
    ),
    model: str = typer.Option("dcmm-2025", "--model", help="Model to measure against"),
    data_dir: DataDir = None,
) -> None:
    """Print every platform indicator's value and verdict for a unit."""
    with acting(data_dir) as ctx:
        lines = service.unit_platform_evidence(ctx, unit, round_id, model)
    for line in lines:
        value = "—" if line.value is None else f"{line.value:g}"
        figures = ", ".join(f"{k}={'—' if v is None else v}" for k, v in line.figures.items())
        console.print(
            escape(
                f"{line.indicator}: {value} (threshold {line.threshold:g}) "
                f"[{line.verdict.value}] {figures}"
            )
        )
    passed = sum(1 for line in lines if line.verdict.value == "pass")
    console.print(f"Platform indicators / 平台指标: {len(lines)}; passed / 达标: {passed}")
