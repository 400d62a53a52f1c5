"""Indicator speed of peelkit's engine against a straightforward pandas version, same run.

Builds a warehouse from the synthetic national sample (Home Office recorded crime and crime
outcomes tables, population, data returns; the demo's own writer and the real ingest), then
times, each in a fresh subprocess, every indicator of the catalogue for all 43 forces:

  (a) engine: peelkit.indicators.engine.compute(con) (Ibis measures compiled to SQL, run
      on DuckDB, then exclusions, England and Wales, intervals, verdicts and ranks)
  (b) pandas: the tables read into pandas (con.execute(...).df()), then the same
      selections, rates, intervals, England and Wales values and ranks in pandas

cold (the first call in the process: for (a) it includes compiling Ibis to SQL) and warm (a
second call in the same process), best of N. It checks that (b) gives the engine's values,
and prints the ratios time(b)/time(a) (goals: (a) warm under 1 s, and >= 10x faster than (b)).

    .venv/bin/python benchmarks/indicators.py
    .venv/bin/python benchmarks/indicators.py --years 6 --repeat 5 --keep /tmp/peelkit-ind
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from _common import work_folder

GOAL_SECONDS = 1.0
GOAL_VS_PANDAS = 10.0
REL_TOLERANCE = 1e-9
TABLES = ("recorded_crime", "crime_outcomes", "population", "data_returns")
MUST_MATCH = (
    ("FIN-2", None),
    ("FIN-5", None),
    ("FIN-11", None),
    ("FIG-4", "1 Charged/Summonsed"),
)
VARIANTS = {"a": "peelkit engine (Ibis -> DuckDB)", "b": "pandas (read + compute)"}


# -- building the warehouse ---------------------------------------------------------------------


def shift_years(source: Path, target: Path, years: int) -> int:
    """Copy a Home Office table with its financial years moved ``years`` back.

    Only the four quarters of 2015/16 are copied (so the copy never overlaps another year):
    2015/16 becomes 2014/15 for ``years`` = 1, and so on. Returns the data rows written.
    """
    first = 2015 - years
    label = f"{first}/{(first + 1) % 100:02d},"
    rows = 0
    with source.open(encoding="utf-8") as src, target.open("w", encoding="utf-8") as out:
        out.write(src.readline())
        for line in src:
            if line.startswith("2015/16,"):
                out.write(label + line[len("2015/16,") :])
                rows += 1
    return rows


def build(work: Path, years: int) -> tuple[Path, float, float]:
    """Write the sample (plus ``years`` - 1 earlier financial years) and ingest it."""
    from peelkit.demo.sample import SampleSpec, write_sample
    from peelkit.ingest import ingest
    from peelkit.warehouse import open_warehouse

    sample, db = work / "sample", work / "warehouse.duckdb"
    started = time.perf_counter()
    write_sample(
        sample, SampleSpec(street_rows=1_000, police_uk=False, home_office=True, tidy=True)
    )
    office = sample / "home-office"
    for back in range(1, years):
        for name in ("prc-pfa-synthetic", "prc-outcomes-synthetic"):
            shift_years(office / f"{name}.csv", office / f"{name}-{back}y-earlier.csv", back)
    written = time.perf_counter() - started
    started = time.perf_counter()
    con = open_warehouse(db)
    report = ingest(con, [sample])
    con.execute("CHECKPOINT")
    con.close()
    if report.rejects:
        raise SystemExit(f"peelkit rejected {len(report.rejects)} rows of the synthetic sample")
    return db, written, time.perf_counter() - started


# -- (b) the pandas version ---------------------------------------------------------------------


def pandas_records(
    con: Any, cycle: int = 2016, timings: dict[str, float] | None = None
) -> list[dict[str, Any]]:
    """Every indicator for every force, in pandas, from the catalogue's definitions."""
    import pandas as pd

    from peelkit import reference, stats
    from peelkit.indicators.catalogue import catalogue
    from peelkit.indicators.periods import for_cycle

    started = time.perf_counter()
    book = catalogue()
    when = for_cycle(cycle)
    year = when.population_year
    forces = [f.code for f in reference.territorial_forces()]
    outcome_names = {str(o.number): o for o in reference.outcome_types()}

    classes = con.execute(
        "SELECT offence_code, offence_group, offence_subgroup, crime_category "
        "FROM offence_classification"
    ).df()
    rc = con.execute(
        "SELECT force_code, quarter_start, offence_code, offences, load_id FROM recorded_crime"
    ).df()
    co = con.execute(
        "SELECT force_code, quarter_start, offence_code, outcome_type, "
        "outcomes_for_offences_recorded_in_quarter AS tracked, load_id FROM crime_outcomes"
    ).df()
    pop = con.execute(
        "SELECT force_code, year, population, households, load_id FROM population"
    ).df()
    dr = con.execute(
        "SELECT force_code, item, qualifier, period_start, period_end, status, value, load_id "
        "FROM data_returns"
    ).df()
    if timings is not None:
        timings["read"] = time.perf_counter() - started

    def latest(t: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
        return t[t.load_id == t.groupby(keys).load_id.transform("max")]

    # Each force's quarter from the latest load that holds it (a later release replaces the
    # quarter as a whole); keyed by quarter, so this commutes with the window.
    rc = latest(rc.merge(classes, on="offence_code"), ["force_code", "quarter_start"])
    co = latest(co, ["force_code", "quarter_start"]).merge(classes, on="offence_code")
    co = co[co.crime_category != "fraud"]

    # A side: {key: {force: (value, status, parts)}}
    Side = tuple[float | None, str | None, int]
    cache: dict[Any, dict[str | None, dict[str, Side]]] = {}

    def as_sides(g: pd.DataFrame) -> dict[str | None, dict[str, Side]]:
        out: dict[str | None, dict[str, Side]] = {}
        for row in g.itertuples(index=False):
            value = None if pd.isna(row.value) else float(row.value)
            key = None if pd.isna(row.key) else str(row.key)
            out.setdefault(key, {})[row.force_code] = (value, row.status, int(row.parts))
        return out

    def in_window(t: pd.DataFrame, period: Any) -> pd.DataFrame:
        start, end = pd.Timestamp(period.start), pd.Timestamp(period.end)
        return t[(t.quarter_start >= start) & (t.quarter_start <= end)]

    def measure(m: Any, period: Any, keyed: bool) -> dict[str | None, dict[str, Side]]:
        memo = (m.model_dump_json(exclude={"definition"}), period, keyed)
        if memo in cache:
            return cache[memo]
        if m.source == "recorded_crime":
            t = in_window(rc, period)
            for column in ("crime_category", "offence_group", "offence_subgroup", "offence_code"):
                chosen = getattr(m, column)
                if chosen:
                    t = t[t[column].isin(chosen)]
            g = t.groupby("force_code", as_index=False).agg(
                value=("offences", "sum"), parts=("quarter_start", "nunique")
            )
            g["key"], g["status"] = None, "supplied"
        elif m.source == "crime_outcomes":
            t = in_window(co, period)
            if m.outcome_types:
                t = t[t.outcome_type.isin(m.outcome_types)]
            by = ["force_code", "outcome_type"] if keyed else ["force_code"]
            g = t.groupby(by, as_index=False).agg(
                value=("tracked", "sum"), parts=("quarter_start", "nunique")
            )
            g["key"] = g.outcome_type.astype(str) if keyed else None
            g["status"] = "supplied"
        elif m.source == "population":
            t = latest(pop[pop.year == year], ["force_code", "year"])
            g = t.groupby("force_code", as_index=False).agg(
                value=(m.population_column, "sum"), parts=(m.population_column, "count")
            )
            g["key"], g["status"] = None, "supplied"
        else:  # data_returns
            t = dr[(dr.item == m.item) & (dr.period_end == pd.Timestamp(period.end))]
            if period.start is None:
                t = t[t.period_start.isna()]
            else:
                t = t[t.period_start == pd.Timestamp(period.start)]
            t = latest(t, ["force_code", "item"]).copy()
            t["key"] = t.qualifier if keyed else None
            t["supplied"] = t.status == "supplied"
            t["supplied_value"] = t.value.where(t.supplied)
            g = t.groupby(["force_code", "key"], as_index=False, dropna=False).agg(
                value=("supplied_value", lambda v: v.sum(min_count=1)),
                any_supplied=("supplied", "any"),
                parts=("value", "count"),
            )
            g["status"] = g.any_supplied.map({True: "supplied", False: "could not supply"})
        cache[memo] = as_sides(g)
        return cache[memo]

    def value_of(ind: Any, num: float, den: float) -> float:
        if ind.calculation == "change":
            return (num - den) / den * 100
        return num / den * ind.multiplier

    records: list[dict[str, Any]] = []
    for ind in book.indicator:
        latest_period = when.window(ind.window)
        periods = [latest_period]
        if ind.series_years:
            periods = [latest_period.years_before(n) for n in range(ind.series_years - 1, -1, -1)]
        if "survey" in (ind.numerator.source, ind.denominator.source):
            records += [
                {
                    "indicator_id": ind.id,
                    "breakdown": None,
                    "force_code": code,
                    "period": latest_period.label,
                    "coverage": "no data",
                }
                for code in forces
            ]
            continue
        excluded = {e.force for e in ind.exclusions}
        partial = {p.force: p.reason for p in ind.partial_periods}
        combined = {code: group.forces for group in ind.combined for code in group.forces}
        shares = ind.calculation == "tracked outcome share"
        quarterly = [
            m.source in ("recorded_crime", "crime_outcomes")
            for m in (ind.numerator, ind.denominator)
        ]
        for period in periods:
            earlier = period.years_before(ind.change_years) if ind.change_years else period
            label = f"{earlier.label} to {period.label}" if ind.change_years else period.label
            top = measure(ind.numerator, period, ind.breakdown is not None)
            bottom = measure(ind.denominator, earlier, False).get(None, {})

            # The rows: one, or one per breakdown key (+ Figure 4's groups and total).
            if ind.breakdown is None:
                rows = [(None, top.get(None, {}))]
            else:
                keys = sorted((k for k in top if k is not None), key=lambda k: (len(k), k))
                if not shares:
                    rows = [(k, top[k]) for k in keys]
                else:
                    rows = [(f"{k} {outcome_names[k].description}", top[k]) for k in keys]
                    groups: dict[str, list[str]] = {}
                    for k in keys:
                        groups.setdefault(outcome_names[k].figure_4_group, []).append(k)
                    sums = [(f"group: {g}", ks) for g, ks in groups.items() if len(ks) > 1]
                    sums.append(
                        ("Total offences assigned an outcome", [k for k in keys if k != "0"])
                    )
                    for name, ks in sums:
                        summed = (
                            pd.DataFrame(
                                [(k, f, *top[k][f]) for k in ks for f in top[k]],
                                columns=["key", "force", "value", "status", "parts"],
                            )
                            .groupby("force")
                            .agg(value=("value", "sum"), parts=("parts", "max"))
                        )
                        rows.append(
                            (
                                name,
                                {
                                    f: (r.value, "supplied", int(r.parts))
                                    for f, r in summed.iterrows()
                                },
                            )
                        )

            for row_label, row in rows:
                found: dict[str, tuple[float, float, float]] = {}
                coverage: dict[str, str] = {}
                for code in forces:
                    num, den = row.get(code, (None, None, 0)), bottom.get(code, (None, None, 0))
                    if code in combined:
                        group = combined[code]
                        nums = [row[c][0] for c in group if c in row and row[c][0] is not None]
                        dens = [
                            bottom[c][0] for c in group if c in bottom and bottom[c][0] is not None
                        ]
                        if nums and len(dens) == len(group):
                            num, den = (max(nums), "supplied", 1), (sum(dens), "supplied", 1)
                    if code in excluded:
                        coverage[code] = "excluded"
                        continue
                    if "could not supply" in (num[1], den[1]):
                        coverage[code] = "could not supply"
                        continue
                    if num[0] is None and shares and den[0]:
                        num = (0.0, "supplied", den[2])
                    if num[0] is None or den[0] is None:
                        coverage[code] = "no data"
                        continue
                    short = [
                        s[2]
                        for s, q in zip((num, den), quarterly, strict=True)
                        if q and 0 < s[2] < 4
                    ]
                    if (short and not shares) or den[0] == 0:
                        coverage[code] = "no data"
                        continue
                    found[code] = (value_of(ind, num[0], den[0]), num[0], den[0])
                    note = code in partial or bool(short)
                    coverage[code] = (
                        "partial period" if note and code not in combined else "computed"
                    )

                frame = pd.DataFrame.from_dict(
                    found, orient="index", columns=["value", "num", "den"]
                )
                ew = ew_num = ew_den = None
                if len(frame):
                    if ind.england_and_wales == "unweighted mean of force rates":
                        ew = float(frame.value.mean())
                    else:
                        # A combined count counts once: keep the first force of each group.
                        groups_of = pd.Series([combined.get(c, (c,)) for c in frame.index])
                        once = frame[~groups_of.duplicated().to_numpy()]
                        ew_num, ew_den = float(once.num.sum()), float(once.den.sum())
                        ew = value_of(ind, ew_num, ew_den)
                    frame["from_top"] = frame.value.rank(method="min", ascending=False)
                    frame["from_bottom"] = frame.value.rank(method="min")
                    k = stats.RankRule().size(len(frame))
                for code in forces:
                    rec: dict[str, Any] = {
                        "indicator_id": ind.id,
                        "breakdown": row_label,
                        "force_code": code,
                        "period": label,
                        "coverage": coverage[code],
                        "england_and_wales": ew,
                        "ew_numerator": ew_num,
                        "ew_denominator": ew_den,
                    }
                    if code in found:
                        r = frame.loc[code]
                        ci95 = ci998 = None
                        if ind.calculation == "change":
                            pass
                        elif (shares or ind.calculation == "proportion") and 0 <= r.num <= r.den:
                            ci95 = stats.wilson_interval(r.num, r.den, 0.95, ind.multiplier)
                            ci998 = stats.wilson_interval(r.num, r.den, 0.998, ind.multiplier)
                        elif r.num >= 0:
                            ci95 = stats.rate_interval(r.num, r.den, ind.multiplier, 0.95)
                            ci998 = stats.rate_interval(r.num, r.den, ind.multiplier, 0.998)
                        top_end, bottom_end = r.from_top <= k, r.from_bottom <= k
                        rec.update(
                            value=float(r.value),
                            numerator=float(r.num),
                            denominator=float(r.den),
                            ci95_lower=ci95.lower if ci95 else None,
                            ci95_upper=ci95.upper if ci95 else None,
                            ci998_lower=ci998.lower if ci998 else None,
                            ci998_upper=ci998.upper if ci998 else None,
                            verdict=stats.compare_to_benchmark(r.value, ci95, ew, ind.polarity),
                            rank=int(r.from_top),
                            ranked=len(frame),
                            rank_verdict=stats.HIGHEST
                            if top_end and not bottom_end
                            else stats.LOWEST
                            if bottom_end and not top_end
                            else stats.IN_LINE,
                        )
                    records.append(rec)
    if timings is not None:
        timings["total"] = time.perf_counter() - started
    return records


# -- the measured variants, each run in its own subprocess ---------------------------------------


def run_engine(con: Any) -> list[Any]:
    from peelkit.indicators.engine import compute

    return compute(con)


def child(variant: str, db: Path, runs: int) -> None:
    """Cold (first call) and warm (the best of the next ``runs`` - 1 calls) in one process."""
    import importlib

    for module in ("duckdb", "pandas", "ibis", "scipy.stats", "peelkit.indicators.engine"):
        importlib.import_module(module)
    from peelkit import reference
    from peelkit.indicators.catalogue import catalogue
    from peelkit.warehouse import open_read_only

    catalogue(), reference.territorial_forces(), reference.outcome_types()  # outside the clock
    con = open_read_only(db)
    run = run_engine if variant == "a" else pandas_records
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        records = run(con)
        seconds.append(time.perf_counter() - started)
    con.close()
    print(json.dumps({"cold": seconds[0], "warm": min(seconds[1:]), "records": len(records)}))


def profile_engine(db: Path) -> None:
    """Where the engine's time goes, cold then warm: compiling, executing, assembling."""
    import ibis

    from peelkit.indicators import engine
    from peelkit.indicators.catalogue import catalogue
    from peelkit.indicators.gaps import Availability
    from peelkit.indicators.periods import for_cycle
    from peelkit.warehouse import open_read_only

    book = catalogue()
    con = open_read_only(db)
    when = for_cycle(2016)
    requests = [r for ind in book.indicator for r in engine._requests(ind, when)]
    for label in ("cold", "warm"):
        t0 = time.perf_counter()
        fetch = engine._Fetcher(ibis.duckdb.from_connection(con), con)
        todo = {fetch._key(r): r for r in requests}
        sqls = [fetch._sql(s) for s in {r[0].source for r in todo.values()} - {"survey"}]
        t1 = time.perf_counter()
        fetch.prefetch(requests)
        t2 = time.perf_counter()
        for ind in book.indicator:
            engine._indicator_records(
                fetch, ind, when, engine.DEFAULT_RANK_RULE, Availability(fetch.backend)
            )
        t3 = time.perf_counter()
        print(
            f"  engine {label}: {len(todo)} distinct measures; compile Ibis -> SQL "
            f"{t1 - t0:.3f} s, execute {t2 - t1:.3f} s, records {t3 - t2:.3f} s "
            f"({len(sqls)} SQL texts)"
        )
    for label in ("1st call", "2nd call"):
        timings: dict[str, float] = {}
        pandas_records(con, timings=timings)
        print(
            f"  pandas {label}: read the tables {timings['read']:.3f} s, "
            f"compute {timings['total'] - timings['read']:.3f} s"
        )
    con.close()


# -- the driver ---------------------------------------------------------------------------------


def measure(variant: str, db: Path, runs: int) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--child", variant, "--db", str(db), "--runs", str(runs)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"variant ({variant}) failed with exit code {proc.returncode}")
    out: dict[str, float] = json.loads(proc.stdout.strip().splitlines()[-1])
    return out


def same(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, float) or isinstance(b, float):
        return math.isclose(float(a), float(b), rel_tol=REL_TOLERANCE, abs_tol=1e-12)
    return bool(a == b)


def verify(db: Path) -> tuple[int, list[str], dict[tuple[str, str | None], int]]:
    """Compare every record of (b) with the engine's; returns (values compared, problems)."""
    from peelkit.warehouse import open_read_only

    con = open_read_only(db)
    engine_rows, pandas_rows = [r.as_row() for r in run_engine(con)], pandas_records(con)
    con.close()
    mine = {
        (r["indicator_id"], r["breakdown"], r["force_code"], r["period"]): r for r in pandas_rows
    }
    numbers = (
        "value",
        "numerator",
        "denominator",
        "england_and_wales",
        "ew_numerator",
        "ew_denominator",
        "ci95_lower",
        "ci95_upper",
        "ci998_lower",
        "ci998_upper",
    )
    labels = ("coverage", "verdict", "rank", "ranked", "rank_verdict")
    compared, problems = 0, []
    valued: dict[tuple[str, str | None], int] = {key: 0 for key in MUST_MATCH}
    if len(engine_rows) != len(pandas_rows):
        problems.append(f"{len(engine_rows)} engine records but {len(pandas_rows)} from pandas")
    for e in engine_rows:
        key = (e["indicator_id"], e["breakdown"], e["force_code"], e["period"])
        p = mine.get(key)
        if p is None:
            problems.append(f"pandas has no record for {key}")
            continue
        for name in numbers + labels:
            want = e[name]
            if name == "verdict" and e["value"] is None:
                want = None  # pandas leaves 'not compared' out
            if not same(want, p.get(name)):
                problems.append(f"{key} {name}: engine {e[name]!r}, pandas {p.get(name)!r}")
            elif want is not None:
                compared += 1
        if e["value"] is not None and (e["indicator_id"], e["breakdown"]) in valued:
            valued[(e["indicator_id"], e["breakdown"])] += 1
    return compared, problems, valued


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--years",
        type=int,
        default=6,
        help="financial years of Home Office tables: the sample's 2015/16 (+ 2016/17 Q1) and "
        "copies of 2015/16 moved back 1..K-1 years (default 6: back to 2010/11)",
    )
    parser.add_argument("--repeat", type=int, default=3, help="subprocesses per variant (best)")
    parser.add_argument("--runs", type=int, default=3, help="calls per subprocess (1 cold + warm)")
    parser.add_argument("--keep", type=Path, default=None, help="build in DIR and keep it")
    parser.add_argument("--child", choices=sorted(VARIANTS), help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        child(args.child, args.db, args.runs)
        return 0
    if args.years < 1 or args.runs < 2 or args.repeat < 1:
        parser.error("--years >= 1, --runs >= 2 and --repeat >= 1")

    work = work_folder(args.keep, "peelkit-bench-ind-", parser)

    import duckdb
    import ibis
    import pandas as pd

    from peelkit import __version__

    print(
        f"peelkit {__version__}, duckdb {duckdb.__version__}, ibis {ibis.__version__}, "
        f"pandas {pd.__version__}, Python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"{platform.platform()}"
    )
    print(f"work folder: {work}{' (kept)' if args.keep else ' (removed at the end)'}")
    try:
        db, written, loaded = build(work, args.years)
        con = duckdb.connect(str(db), read_only=True)
        counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}  # type: ignore[index]
        quarters = con.execute(
            "SELECT min(quarter_start), max(quarter_start), count(DISTINCT quarter_start) "
            "FROM recorded_crime"
        ).fetchone()
        con.close()
        print(
            f"warehouse: written in {written:.1f} s, ingested in {loaded:.1f} s, "
            f"{db.stat().st_size / 2**20:.1f} MiB; quarters {quarters[0]} to {quarters[1]} "  # type: ignore[index]
            f"({quarters[2]} quarters)"  # type: ignore[index]
        )
        print("rows: " + ", ".join(f"{t} {n:,}" for t, n in counts.items()))
        print(f"load average before timing: {os.getloadavg()[0]:.2f} (should be near 0)")

        best: dict[str, dict[str, float]] = {
            v: {"cold": math.inf, "warm": math.inf} for v in VARIANTS
        }
        for run in range(1, args.repeat + 1):
            for v in VARIANTS:  # interleaved
                out = measure(v, db, args.runs)
                for phase in ("cold", "warm"):
                    best[v][phase] = min(best[v][phase], out[phase])
                print(
                    f"  run {run}/{args.repeat} ({v}) {VARIANTS[v]:<32} cold {out['cold']:7.3f} s  "
                    f"warm {out['warm']:7.3f} s  {int(out['records']):,} records  "
                    f"load avg {os.getloadavg()[0]:.2f}",
                    flush=True,
                )
        print()
        print(f"{'variant':<36} {'cold s':>8} {'warm s':>8}")
        for v in VARIANTS:
            print(f"({v}) {VARIANTS[v]:<32} {best[v]['cold']:8.3f} {best[v]['warm']:8.3f}")
        print()
        for phase in ("cold", "warm"):
            a, b = best["a"][phase], best["b"][phase]
            print(
                f"{phase}: time(a) = {a:.3f} s (goal < {GOAL_SECONDS:g} s: "
                f"{'met' if a < GOAL_SECONDS else 'NOT met'}); time(b)/time(a) = {b / a:.2f} "
                f"(goal >= {GOAL_VS_PANDAS:g}: {'met' if b / a >= GOAL_VS_PANDAS else 'NOT met'})"
            )
        print()
        print("where the time goes (in this process, after the runs above; in-process timers):")
        profile_engine(db)
        print()
        compared, problems, valued = verify(db)
        empty = [f"{i} {r or ''}".strip() for (i, r), n in valued.items() if n == 0]
        checked = "; ".join(
            f"{i}{' ' + r if r else ''}: {n} forces" for (i, r), n in valued.items()
        )
        if problems or empty:
            for line in problems[:20]:
                print(f"  mismatch: {line}")
            if empty:
                print(f"  no values to compare for: {', '.join(empty)}")
            print(
                f"correctness: {len(problems)} mismatches in {compared:,} values compared: FAILED"
            )
            return 1
        print(
            f"correctness: {compared:,} values compared (every record of every indicator, "
            f"within {REL_TOLERANCE:g} relative), all matched; with values for {checked}"
        )
        return 0
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
