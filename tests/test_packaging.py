"""The package metadata: a licence as an SPDX expression, with a backend that reads it."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def test_licence_is_an_spdx_expression() -> None:
    data = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))
    # A TOML table ({text = ...} or {file = ...}) is deprecated by setuptools.
    assert data["project"]["license"] == "Apache-2.0"
    for pattern in data["project"].get("license-files", []):
        assert list(PYPROJECT.parent.glob(pattern)), pattern
    # SPDX strings are read from setuptools 77 on; the build must ask for at least that.
    [backend] = [r for r in data["build-system"]["requires"] if r.startswith("setuptools")]
    found = re.fullmatch(r"setuptools>=(\d+)(\.\d+)*", backend)
    assert found and int(found.group(1)) >= 77, backend


def test_the_licence_text_ships_with_the_package() -> None:
    data = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))
    assert "LICENSE" in data["project"]["license-files"]
    text = (PYPROJECT.parent / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in text and "Version 2.0, January 2004" in text
