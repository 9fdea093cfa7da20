"""Docs are checked where it is cheap: every CLI command and setting is documented."""

from __future__ import annotations

import re
from pathlib import Path

import typer

from shuzhi.cli import app

ROOT = Path(__file__).resolve().parents[1]


def _commands(group: typer.Typer, prefix: str = "") -> list[str]:
    names = [
        f"{prefix}{c.name or c.callback.__name__}".strip()  # type: ignore[union-attr]
        for c in group.registered_commands
    ]
    for sub in group.registered_groups:
        names += _commands(sub.typer_instance, f"{prefix}{sub.name} ")  # type: ignore[arg-type]
    return names


def test_every_cli_command_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for command in _commands(app):
        assert f"shuzhi {command}" in readme, f"README does not document 'shuzhi {command}'"


def test_every_setting_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    source = (ROOT / "src" / "shuzhi" / "settings.py").read_text(encoding="utf-8")
    for variable in set(re.findall(r'"(SHUZHI_[A-Z_]+)"', source)):
        assert variable in readme, f"README does not document {variable}"


def test_readme_has_exactly_two_setup_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("## Two commands", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in block.strip().splitlines()]
    assert commands == ["make demo", "make test"]
