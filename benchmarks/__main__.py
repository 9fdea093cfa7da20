"""Run every benchmark module in turn (``make bench``)."""

from __future__ import annotations

import pkgutil
import runpy
import sys
from pathlib import Path


def main() -> None:
    modules = pkgutil.iter_modules([str(Path(__file__).parent)])
    names = sorted(m.name for m in modules if m.name.endswith("_bench"))
    if not names:
        print("no benchmarks yet")
        return
    for name in names:
        print(f"\n=== benchmarks.{name} ===", flush=True)
        sys.argv = [name]
        runpy.run_module(f"benchmarks.{name}", run_name="__main__")


if __name__ == "__main__":
    main()
