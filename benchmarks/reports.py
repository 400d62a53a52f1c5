"""All 43 force reports (HTML + PDF + SVG figures + CSV) from the demo warehouse, timed.

Builds the demo warehouse (``run_demo``, not timed), then times ``peelkit report --all``'s
work — one computation of the benchmark records, then each force's report built and rendered
in its own process, the cores shared out — and prints the total, each report's time and pages,
and the slowest and fastest. Then it runs again with nothing changed: every report's inputs are
as before, so none is made again. Goals on 2 cores: all 43 under 120 s cold, the unchanged
second run under 10 s.

    .venv/bin/python benchmarks/reports.py
    .venv/bin/python benchmarks/reports.py --keep /tmp/peelkit-reports
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
import time
from pathlib import Path

from _common import work_folder

GOAL_SECONDS = 120.0
GOAL_UNCHANGED_SECONDS = 10.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="work in this (empty) folder and keep it")
    parser.add_argument("--workers", type=int, default=None, help="processes (default: cores)")
    args = parser.parse_args()

    from peelkit import __version__
    from peelkit.demo.pipeline import run_demo
    from peelkit.indicators.periods import for_cycle
    from peelkit.reference import force_by_code, territorial_forces
    from peelkit.service import reports

    print(
        f"peelkit {__version__}, Python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"{platform.platform()}"
    )
    work = work_folder(args.keep, "peelkit-reports-", parser)
    keep = args.keep is not None
    try:
        started = time.perf_counter()
        warehouse = work / "demo.duckdb"
        run_demo(work / "data", warehouse)
        print(f"demo warehouse built in {time.perf_counter() - started:.1f} s (not timed)")
        forces = [f.code for f in territorial_forces()]
        load = os.getloadavg()[0]
        print(f"load average before timing: {load:.2f} (should be near 0)")
        started = time.perf_counter()
        rendered = reports(
            warehouse, forces, work / "reports", for_cycle(2016), workers=args.workers, rebuild=True
        )
        total = time.perf_counter() - started
        names = force_by_code()
        for r in sorted(rendered, key=lambda r: r.seconds):
            size = sum(p.stat().st_size for p in r.files.html.parent.iterdir()) / 1e6
            name = names[r.force].name
            print(f"  {name:<40} {r.seconds:6.1f} s  {r.pages:3d} pages  {size:5.1f} MB")
        seconds = [r.seconds for r in rendered]
        pages = [r.pages or 0 for r in rendered]
        bad = [r for r in rendered if not (r.files.pdf and r.files.pdf.stat().st_size > 10_000)]
        print(
            f"\n{len(rendered)} reports (HTML, PDF, SVG figures, numbers CSV) in {total:.1f} s "
            f"wall; per report {statistics.median(seconds):.1f} s median "
            f"({min(seconds):.1f}–{max(seconds):.1f} s) in one process each; "
            f"{sum(pages)} pages ({min(pages)}–{max(pages)} a report)"
        )
        verdict = "met" if total < GOAL_SECONDS else "NOT met"
        print(f"goal: all 43 under {GOAL_SECONDS:.0f} s: {verdict}")
        if bad or len(rendered) != 43:
            print(f"FAILED: {len(bad)} reports without a PDF, {len(rendered)} reports")
            return 1
        started = time.perf_counter()
        again = reports(warehouse, forces, work / "reports", for_cycle(2016), workers=args.workers)
        warm = time.perf_counter() - started
        kept = sum(r.unchanged for r in again)
        print(f"\nsecond run, inputs unchanged: {kept} of {len(again)} not rebuilt, {warm:.1f} s")
        verdict = "met" if warm < GOAL_UNCHANGED_SECONDS and kept == 43 else "NOT met"
        print(f"goal: unchanged run under {GOAL_UNCHANGED_SECONDS:.0f} s: {verdict}")
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
