"""Screenshot of the cockpit on the demo district for the docs (docs/cockpit.png).

    python scripts/cockpit_screenshot.py [--workdir DIR] [--out docs/cockpit.png]

Uses the system Chromium (``SHUZHI_CHROMIUM`` or ``chromium``) and the CJK fonts installed
on the machine; the demo district is built in ``--workdir`` if it is not there yet.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.cockpit_bench import cdo_page, served_demo


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=Path("docs/cockpit.png"))
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.gettempdir()) / "shuzhi-cockpit-bench"
    with served_demo(workdir.resolve()) as (base, password), cdo_page(base, password) as page:
        page.goto(f"{base}/cockpit?days=365")
        page.wait_for_selector("html[data-charts-ready]", state="attached")
        page.screenshot(path=str(args.out), full_page=True)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
