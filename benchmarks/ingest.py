"""Ingest speed of peelkit against bare DuckDB and Polars, measured in the same run.

Writes N synthetic police.uk street rows (12 months x 43 forces, the demo's own writer; default
1.2 million), then times loading the same files six ways, each in a fresh subprocess, with the
page cache warmed for all alike:

  whole process (the clock runs from starting the interpreter to its exit):
    (A) peelkit:  python -m peelkit.cli ingest SAMPLE -w DB   (the command a user types)
    (B) DuckDB:   python -c "<connect, CREATE TABLE t AS SELECT * FROM read_csv([...]), CHECKPOINT>"
    (C) Polars:   python -c "<pl.scan_csv([...]).sink_parquet(OUT)>"
  load only (imports done before the clock starts, the clock stops before exit):
    (a) peelkit:  open_warehouse + ingest (full validation, rejects, ledger) + CHECKPOINT + close
    (b) DuckDB:   the same statements as (B)
    (c) Polars:   the same call as (C)

and prints rows/s, the ratios speed(A)/speed(B) (goal >= 0.9) and speed(a)/speed(b)
(goal >= 0.8), the ratios to Polars for information, peak RSS, and the rows each variant stored.

    .venv/bin/python benchmarks/ingest.py                      # 1.2M rows, best of 3
    .venv/bin/python benchmarks/ingest.py --rows 200000        # a quick run
    .venv/bin/python benchmarks/ingest.py --rows 6000000 --keep /tmp/peelkit-bench
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from _common import work_folder

DEFAULT_ROWS = 1_200_000
GOAL_PROCESS_VS_DUCKDB = 0.9
GOAL_LOAD_VS_DUCKDB = 0.8

# key: (tool, what the clock covers, label)
VARIANTS = {
    "A": ("peelkit", "process", "peelkit ingest (the command)"),
    "B": ("duckdb", "process", "duckdb read_csv (own process)"),
    "C": ("polars", "process", "polars csv -> parquet (own process)"),
    "a": ("peelkit", "load", "peelkit ingest() (validated)"),
    "b": ("duckdb", "load", "duckdb read_csv (auto-detect)"),
    "c": ("polars", "load", "polars scan_csv -> sink_parquet"),
}
OUTPUT = {"peelkit": "peelkit.duckdb", "duckdb": "duckdb.duckdb", "polars": "polars.parquet"}
STREET_GLOB = "police-uk/*/*-street.csv"

# The whole-process baselines: what a user would write, run as `python -c SCRIPT SAMPLE OUT`.
DUCKDB_SCRIPT = f"""
import sys
from pathlib import Path
import duckdb
files = [str(p) for p in sorted(Path(sys.argv[1]).glob({STREET_GLOB!r}))]
con = duckdb.connect(sys.argv[2])
con.execute("CREATE TABLE t AS SELECT * FROM read_csv(?, header = true)", [files])
con.execute("CHECKPOINT")
con.close()
"""
POLARS_SCRIPT = f"""
import sys
from pathlib import Path
import polars as pl
files = [str(p) for p in sorted(Path(sys.argv[1]).glob({STREET_GLOB!r}))]
pl.scan_csv(files).sink_parquet(sys.argv[2])
"""


def street_files(sample: Path) -> list[Path]:
    return sorted(sample.glob(STREET_GLOB))


# -- the load-only variants, each run in its own subprocess -----------------------------------


def run_peelkit(sample: Path, out: Path) -> None:
    from peelkit.ingest import ingest
    from peelkit.warehouse import open_warehouse

    con = open_warehouse(out)
    ingest(con, [sample])
    con.execute("CHECKPOINT")
    con.close()


def run_duckdb(sample: Path, out: Path) -> None:
    import duckdb

    files = [str(p) for p in street_files(sample)]
    con = duckdb.connect(str(out))
    con.execute("CREATE TABLE t AS SELECT * FROM read_csv(?, header = true)", [files])
    con.execute("CHECKPOINT")
    con.close()


def run_polars(sample: Path, out: Path) -> None:
    import polars as pl

    files = [str(p) for p in street_files(sample)]
    pl.scan_csv(files).sink_parquet(out)


def child(variant: str, sample: Path, out: Path) -> None:
    """One load-only measurement: import first, then time the load; print a JSON line."""
    import importlib
    import resource

    # Every variant pays the same imports, outside the clock.
    for module in ("duckdb", "polars", "peelkit.ingest", "peelkit.warehouse"):
        importlib.import_module(module)
    run = {"peelkit": run_peelkit, "duckdb": run_duckdb, "polars": run_polars}
    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    run[VARIANTS[variant][0]](sample, out)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    print(json.dumps({"seconds": seconds, "cpu": cpu}))


# -- the driver --------------------------------------------------------------------------------


@dataclass
class Run:
    seconds: float
    cpu: float
    peak_kib: int
    rows: int


@dataclass
class Result:
    variant: str
    runs: list[Run]

    @property
    def best(self) -> float:
        return min(r.seconds for r in self.runs)

    @property
    def best_cpu(self) -> float:
        return min(r.cpu for r in self.runs)

    @property
    def peak_kib(self) -> int:
        return max(r.peak_kib for r in self.runs)


def spawn(cmd: list[str]) -> tuple[float, float, int, str]:
    """Run ``cmd`` to its exit: wall seconds from start to exit, its CPU seconds, its peak RSS
    (KiB) and its standard output. Exits with its output if it fails."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", errors="replace")
        if proc.returncode != 0:
            sys.stderr.write(stdout + err.read().decode("utf-8", errors="replace"))
            raise SystemExit(f"{cmd[:4]} … failed with exit code {proc.returncode}")
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, stdout


def command(variant: str, sample: Path, out: Path) -> list[str]:
    tool, clock, _ = VARIANTS[variant]
    if clock == "load":
        args = ["--child", variant, "--sample", str(sample), "--out", str(out)]
        return [sys.executable, __file__, *args]
    if tool == "peelkit":
        return [sys.executable, "-m", "peelkit.cli", "ingest", str(sample), "-w", str(out)]
    script = DUCKDB_SCRIPT if tool == "duckdb" else POLARS_SCRIPT
    return [sys.executable, "-c", script, str(sample), str(out)]


def stored_rows(tool: str, out: Path) -> int:
    """Rows as durably stored, read back from the closed output file."""
    if tool == "polars":
        import polars as pl

        return int(pl.scan_parquet(out).select(pl.len()).collect().item())
    import duckdb

    con = duckdb.connect(str(out), read_only=True)
    try:
        if tool == "peelkit":
            rejected = con.execute("SELECT count(*) FROM rejected_rows").fetchone()
            if rejected and rejected[0]:
                raise SystemExit(f"peelkit rejected {rejected[0]} rows of the synthetic sample")
        table = "police_uk_street" if tool == "peelkit" else "t"
        row = con.execute(f"SELECT count(*) FROM {table}").fetchone()
    finally:
        con.close()
    return int(row[0]) if row else 0


def measure(variant: str, sample: Path, work: Path) -> Run:
    tool, clock, _ = VARIANTS[variant]
    out = work / OUTPUT[tool]
    for leftover in (out, out.with_name(out.name + ".wal")):
        leftover.unlink(missing_ok=True)
    os.sync()  # no variant pays for writing back another's (or the sample's) dirty pages
    seconds, cpu, peak_kib, stdout = spawn(command(variant, sample, out))
    if clock == "load":  # the child's own clock, around the load only
        inner = json.loads(stdout.strip().splitlines()[-1])
        seconds, cpu = float(inner["seconds"]), float(inner["cpu"])
    return Run(seconds, cpu, peak_kib, stored_rows(tool, out))


def warm(files: list[Path]) -> tuple[int, int]:
    """Read every file once (page cache warm for all variants); returns bytes and data rows."""
    total = rows = 0
    for p in files:
        data = p.read_bytes()
        total += len(data)
        rows += data.count(b"\n") - 1  # every line ends with a newline; minus the header
    return total, rows


def write(sample: Path, rows: int) -> float:
    from peelkit.demo.sample import SampleSpec, write_sample

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


def ratio_line(name: str, value: float, goal: float | None) -> str:
    if goal is None:
        return f"{name} = {value:.2f}  (for information; no goal)"
    verdict = "met" if value >= goal else "NOT met"
    return f"{name} = {value:.2f}  (goal >= {goal}: {verdict})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rows", type=int, default=DEFAULT_ROWS, help=f"street rows to write ({DEFAULT_ROWS:,})"
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=None,
        help="runs of each variant, minimum reported (default 3 up to 1.2M rows, else 1)",
    )
    parser.add_argument(
        "--keep", type=Path, default=None, help="write into DIR and keep the files afterwards"
    )
    parser.add_argument("--child", choices=sorted(VARIANTS), help=argparse.SUPPRESS)
    parser.add_argument("--sample", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        child(args.child, args.sample, args.out)
        return 0

    repeat = args.repeat or (3 if args.rows <= DEFAULT_ROWS else 1)
    work = work_folder(args.keep, "peelkit-bench-", parser)
    sample = work / "sample"

    import duckdb
    import polars as pl

    from peelkit import __version__

    print(
        f"peelkit {__version__}, duckdb {duckdb.__version__}, polars {pl.__version__}, "
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

        results = {v: Result(v, []) for v in VARIANTS}
        for n in range(1, repeat + 1):
            for v in VARIANTS:  # interleaved, so drift in the machine affects all alike
                run = measure(v, sample, work)
                results[v].runs.append(run)
                print(
                    f"  run {n}/{repeat} ({v}) {VARIANTS[v][2]:<36} {run.seconds:7.2f} s  "
                    f"cpu {run.cpu:6.1f} s  {run.rows:,} rows  "
                    f"peak RSS {human_bytes(run.peak_kib * 1024)}  "
                    f"load avg {os.getloadavg()[0]:.2f}",
                    flush=True,
                )

        print()
        print(
            f"{'variant':<40} {'clock':<8} {'best s':>7} {'cpu s':>6} {'rows/s':>10} "
            f"{'MB/s':>6} {'peak RSS':>10}"
        )
        for v, r in results.items():
            print(
                f"({v}) {VARIANTS[v][2]:<36} {VARIANTS[v][1]:<8} {r.best:7.2f} "
                f"{r.best_cpu:6.1f} {rows / r.best:10,.0f} {total / r.best / 1e6:6.1f} "
                f"{human_bytes(r.peak_kib * 1024):>10}"
            )
        best = {v: r.best for v, r in results.items()}
        print()
        print(
            ratio_line(
                "whole process: speed(A)/speed(B)", best["B"] / best["A"], GOAL_PROCESS_VS_DUCKDB
            )
        )
        print(
            ratio_line(
                "load only:     speed(a)/speed(b)", best["b"] / best["a"], GOAL_LOAD_VS_DUCKDB
            )
        )
        print(ratio_line("whole process: speed(A)/speed(C)", best["C"] / best["A"], None))
        print(ratio_line("load only:     speed(a)/speed(c)", best["c"] / best["a"], None))
        counts_ok = all(run.rows == rows for r in results.values() for run in r.runs)
        print(
            f"row counts: written {rows:,}; "
            + "; ".join(
                f"({v}) {', '.join(f'{run.rows:,}' for run in r.runs)}" for v, r in results.items()
            )
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
