"""How fast the light commands answer: each whole process, from starting the interpreter to its
exit, against the floor of a bare interpreter and of a bare DuckDB process on the same warehouse.

    .venv/bin/python benchmarks/startup.py               # 15 runs of each, interleaved
    .venv/bin/python benchmarks/startup.py --repeat 31   # steadier medians

It builds the demo warehouse first (about 12 s), then times every command and every baseline in
a fresh process, round-robin, so a busy moment hits them all alike.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _common import work_folder

GOAL_SECONDS = 0.3  # issue 9: "start in well under 0.3 s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15, help="runs of each (default 15)")
    parser.add_argument("--keep", type=Path, help="work in this (empty) folder and keep it")
    args = parser.parse_args()
    work = work_folder(args.keep, "peelkit-startup-", parser)
    db = work / "peelkit.duckdb"
    python = sys.executable
    try:
        started = time.perf_counter()
        subprocess.run(
            [python, "-m", "peelkit.cli", "demo", "-w", str(db), "--out", str(work / "data")],
            cwd=work,
            check=True,
            capture_output=True,
        )
        print(f"demo warehouse built in {time.perf_counter() - started:.1f} s: {db}")
        floor = f"import duckdb; duckdb.connect({str(db)!r}, read_only=True).execute('SELECT 1')"
        variants: dict[str, list[str]] = {
            "python (bare interpreter)": [python, "-c", "pass"],
            "python: import duckdb, open the warehouse": [python, "-c", floor],
            "peelkit --help": [python, "-m", "peelkit.cli", "--help"],
            "peelkit forces": [python, "-m", "peelkit.cli", "forces"],
            "peelkit formats": [python, "-m", "peelkit.cli", "formats"],
            "peelkit coverage": [python, "-m", "peelkit.cli", "coverage", "-w", str(db)],
            "peelkit query": [
                python,
                "-m",
                "peelkit.cli",
                "query",
                "SELECT force_code, count(*) FROM recorded_crime GROUP BY ALL",
                "-w",
                str(db),
            ],
        }
        env = {**os.environ, "COLUMNS": "100"}
        times: dict[str, list[float]] = {name: [] for name in variants}
        for _ in range(args.repeat):
            for name, command in variants.items():
                began = time.perf_counter()
                done = subprocess.run(command, cwd=work, env=env, capture_output=True)
                times[name].append(time.perf_counter() - began)
                if done.returncode != 0:
                    sys.exit(f"{name} failed:\n{done.stderr.decode()}")
                if name.startswith("peelkit") and not done.stdout.strip():
                    sys.exit(f"{name} printed nothing")
        load = os.getloadavg()[0]
        bare = statistics.median(times["python: import duckdb, open the warehouse"])
        print(f"\n{args.repeat} runs of each, interleaved; 1-minute load average {load:.2f}")
        print(f"{'variant':<44}{'median s':>10}{'best s':>9}{'over duckdb':>13}  goal")
        failed = []
        for name, got in times.items():
            median = statistics.median(got)
            over = f"{median - bare:+.3f}" if name.startswith("peelkit") else ""
            verdict = ""
            if name.startswith("peelkit"):
                verdict = "met" if median < GOAL_SECONDS else "MISSED"
                if median >= GOAL_SECONDS:
                    failed.append(name)
            print(f"{name:<44}{median:>10.3f}{min(got):>9.3f}{over:>13}  {verdict}")
        print(f"\ngoal: every command's median under {GOAL_SECONDS} s")
        if failed:
            sys.exit("missed: " + ", ".join(failed))
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
