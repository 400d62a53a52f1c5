"""Ingest speed of peelkit against bare DuckDB and pandas, measured in the same run.

Writes N synthetic police.uk street rows (12 months x 43 forces, the demo's own writer), then
times three ways of loading the same files, each in a fresh subprocess, with the page cache
warmed for all alike:

  (a) peelkit: open_warehouse + ingest (full validation, rejects, ledger) + CHECKPOINT + close
  (b) DuckDB:  CREATE TABLE t AS SELECT * FROM read_csv([...], header=true) + CHECKPOINT + close
  (c) pandas:  pd.read_csv of every file + pd.concat (in memory only)

and prints rows/s, the ratios speed(a)/speed(b) (goal >= 0.8) and speed(a)/speed(c)
(goal >= 5), peak RSS of each subprocess, and the row count each variant ended with.

    .venv/bin/python benchmarks/ingest.py --rows 6000000
    .venv/bin/python benchmarks/ingest.py --rows 200000 --repeat 3 --keep /tmp/peelkit-bench
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from _common import work_folder

GOAL_VS_DUCKDB = 0.8
GOAL_VS_PANDAS = 5.0

VARIANTS = {
    "a": "peelkit ingest (validated)",
    "b": "duckdb read_csv (auto-detect)",
    "c": "pandas read_csv + concat",
}


# -- the measured variants, each run in its own subprocess ------------------------------------


def street_files(sample: Path) -> list[Path]:
    return sorted(sample.glob("police-uk/*/*-street.csv"))


def run_peelkit(sample: Path, db: Path) -> int:
    from peelkit.ingest import ingest
    from peelkit.warehouse import open_warehouse

    con = open_warehouse(db)
    report = ingest(con, [sample])
    con.execute("CHECKPOINT")
    con.close()
    if report.rejects:
        raise SystemExit(f"peelkit rejected {len(report.rejects)} rows of the synthetic sample")
    return -1  # counted from the file after the clock stops


def run_duckdb(sample: Path, db: Path) -> int:
    import duckdb

    files = [str(p) for p in street_files(sample)]
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE t AS SELECT * FROM read_csv(?, header = true)", [files])
    con.execute("CHECKPOINT")
    con.close()
    return -1


def run_pandas(sample: Path, db: Path) -> int:
    import pandas as pd

    frames = [pd.read_csv(p) for p in street_files(sample)]
    df = pd.concat(frames, ignore_index=True)
    return len(df)


def count_after(variant: str, db: Path) -> int:
    """Row count as durably stored, read back from the closed database file."""
    import duckdb

    table = {"a": "police_uk_street", "b": "t"}[variant]
    con = duckdb.connect(str(db), read_only=True)
    try:
        row = con.execute(f"SELECT count(*) FROM {table}").fetchone()
    finally:
        con.close()
    return int(row[0]) if row else 0


def child(variant: str, sample: Path, db: Path) -> None:
    """One measurement: import first, then time the load only; print a JSON line."""
    import importlib
    import resource

    # Every variant pays the same imports, outside the clock.
    for module in ("duckdb", "pandas", "peelkit.ingest", "peelkit.warehouse"):
        importlib.import_module(module)
    run = {"a": run_peelkit, "b": run_duckdb, "c": run_pandas}[variant]
    for leftover in (db, db.with_name(db.name + ".wal")):
        leftover.unlink(missing_ok=True)
    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    rows = run(sample, db)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    if rows < 0:
        rows = count_after(variant, db)
    print(json.dumps({"seconds": seconds, "cpu": cpu, "rows": rows, "peak_kib": after.ru_maxrss}))


# -- the driver --------------------------------------------------------------------------------


@dataclass
class Result:
    variant: str
    seconds: list[float]
    cpu: list[float]
    rows: list[int]
    peak_kib: int

    @property
    def best(self) -> float:
        return min(self.seconds)


def measure(variant: str, sample: Path, work: Path) -> tuple[float, float, int, int]:
    db = work / f"{variant}.duckdb"
    os.sync()  # no variant pays for writing back another's (or the sample's) dirty pages
    cmd = [sys.executable, __file__, "--child", variant, "--sample", str(sample), "--db", str(db)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"variant ({variant}) failed with exit code {proc.returncode}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    return float(out["seconds"]), float(out["cpu"]), int(out["rows"]), int(out["peak_kib"])


def warm(files: list[Path]) -> tuple[int, int]:
    """Read every file once (page cache warm for all variants); returns bytes and data rows."""
    total = rows = 0
    for p in files:
        data = p.read_bytes()
        total += len(data)
        rows += data.count(b"\n") - 1  # every line ends with a newline; minus the header
    return total, rows


def write(sample: Path, rows: int) -> float:
    from peelkit.synthetic import SampleSpec, write_sample

    started = time.perf_counter()
    write_sample(
        sample,
        SampleSpec(street_rows=rows, home_office=False, tidy=False, police_uk_kinds=("street",)),
    )
    return time.perf_counter() - started


def human_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1024
    return f"{n:.1f} GiB"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=6_000_000, help="street rows to write")
    parser.add_argument(
        "--repeat",
        type=int,
        default=None,
        help="runs of each variant, minimum reported (default 3 up to 1M rows, else 1)",
    )
    parser.add_argument(
        "--keep", type=Path, default=None, help="write into DIR and keep the files afterwards"
    )
    parser.add_argument("--child", choices=sorted(VARIANTS), help=argparse.SUPPRESS)
    parser.add_argument("--sample", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        child(args.child, args.sample, args.db)
        return 0

    repeat = args.repeat or (3 if args.rows <= 1_000_000 else 1)
    work = work_folder(args.keep, "peelkit-bench-", parser)
    sample = work / "sample"

    import duckdb
    import pandas as pd

    from peelkit import __version__

    print(
        f"peelkit {__version__}, duckdb {duckdb.__version__}, pandas {pd.__version__}, "
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs, {platform.platform()}"
    )
    print(f"work folder: {work}{' (kept)' if args.keep else ' (removed at the end)'}")
    try:
        seconds = write(sample, args.rows)
        files = street_files(sample)
        total, rows = warm(files)
        print(
            f"write: {rows:,} street rows ({args.rows:,} asked) in {len(files)} files, "
            f"{total:,} bytes ({human_bytes(total)}), {seconds:.1f} s"
        )
        warm(files)  # once more, so the files just written are read from cache alike
        os.sync()
        print(f"load average before timing: {os.getloadavg()[0]:.2f} (should be near 0)")

        results = {v: Result(v, [], [], [], 0) for v in VARIANTS}
        for run in range(1, repeat + 1):
            for v in VARIANTS:  # interleaved, so drift in the machine affects all alike
                secs, cpu, n, peak = measure(v, sample, work)
                r = results[v]
                r.seconds.append(secs)
                r.cpu.append(cpu)
                r.rows.append(n)
                r.peak_kib = max(r.peak_kib, peak)
                print(
                    f"  run {run}/{repeat} ({v}) {VARIANTS[v]:<30} {secs:8.2f} s  "
                    f"cpu {cpu:6.1f} s  {n:,} rows  peak RSS {human_bytes(peak * 1024)}  "
                    f"load avg {os.getloadavg()[0]:.2f}",
                    flush=True,
                )

        print()
        print(
            f"{'variant':<34} {'best s':>8} {'cpu s':>7} {'rows/s':>12} {'MB/s':>8} "
            f"{'peak RSS':>11}  rows"
        )
        for v, r in results.items():
            print(
                f"({v}) {VARIANTS[v]:<30} {r.best:8.2f} {min(r.cpu):7.1f} {rows / r.best:12,.0f} "
                f"{total / r.best / 1e6:8.1f} {human_bytes(r.peak_kib * 1024):>11}  "
                f"{', '.join(f'{n:,}' for n in r.rows)}"
            )
        a, b, c = (results[v].best for v in VARIANTS)
        vs_duckdb, vs_pandas = b / a, c / a
        print()
        print(
            f"speed(a)/speed(b) = {vs_duckdb:.2f}  (goal >= {GOAL_VS_DUCKDB}: "
            f"{'met' if vs_duckdb >= GOAL_VS_DUCKDB else 'NOT met'})"
        )
        print(
            f"speed(a)/speed(c) = {vs_pandas:.2f}  (goal >= {GOAL_VS_PANDAS}: "
            f"{'met' if vs_pandas >= GOAL_VS_PANDAS else 'NOT met'})"
        )
        counts_ok = all(n == rows for r in results.values() for n in r.rows)
        print(
            f"row counts: written {rows:,}; "
            + "; ".join(f"({v}) {', '.join(f'{n:,}' for n in r.rows)}" for v, r in results.items())
            + f" -> {'all equal' if counts_ok else 'MISMATCH'}"
        )
        if rows != args.rows:
            print(
                f"note: the writer rounds each force-month file to whole rows, so it wrote "
                f"{rows:,} rows for --rows {args.rows:,}; the counts are checked against {rows:,}"
            )
        return 0 if counts_ok else 1
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
