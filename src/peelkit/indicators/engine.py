"""Benchmark records: every indicator for every force, against England and Wales.

For each indicator of the catalogue the numerator and denominator come from
:mod:`peelkit.indicators.measures` as Ibis expressions (one row per force); the rest — the
exclusions, England and Wales, intervals, verdicts and ranks — is decided here, per force,
from those few rows and the catalogue, using :mod:`peelkit.stats`. Outputs render these
records and never recompute a statistic.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import duckdb
import ibis
import ibis.backends.duckdb  # the default backend: loaded with the engine, not on first use
import pyarrow as pa

from peelkit import reference, stats
from peelkit.indicators import measures
from peelkit.indicators.catalogue import Catalogue, Combined, Indicator, Measure, catalogue
from peelkit.indicators.gaps import Availability, Missing, missing_input
from peelkit.indicators.incomplete import Incomplete
from peelkit.indicators.periods import Period, PeriodEnd, for_cycle, for_date
from peelkit.stats import Interval, Polarity, RankRule
from peelkit.warehouse import data_labels

COMPUTED = "computed"
PARTIAL = "partial period"
EXCLUDED = "excluded"
NOT_SUPPLIED = "could not supply"
NO_DATA = "no data"
# inputs incomplete (rows rejected, a damaged file): the note says which; the catalogue's rule
# withholds the value (the note then starts "withheld") or shows it with the caveat, unranked
INCOMPLETE = "partial"
WITHHELD_NOTE = "withheld"
DEFAULT_RANK_RULE = RankRule()


@dataclass(frozen=True)
class BenchmarkRecord:
    """One force × indicator × period: the value, how it compares, and where it came from."""

    indicator_id: str
    breakdown: str | None  # the row of a broken-down indicator (Figure 4, 8, 10), else None
    force_code: str
    period: str
    value: float | None
    numerator: float | None
    denominator: float | None
    unit: str
    population_year: int | None  # the mid-year estimate in the denominator, when it is population
    coverage: str  # computed | partial period | partial (inputs incomplete) | excluded |
    # could not supply | no data
    note: str | None
    england_and_wales: float | None
    ew_numerator: float | None
    ew_denominator: float | None
    ew_method: str
    ew_forces: tuple[str, ...]
    ci95: Interval | None
    ci998: Interval | None
    interval_note: str | None
    verdict: str  # Fingertips' overlap rule against England and Wales
    rank: int | None
    ranked: int | None
    rank_verdict: str | None  # HMIC: one of the highest / one of the lowest / broadly in line
    rank_rule: str
    load_ids: tuple[int, ...] = field(default=())
    data_label: str | None = None  # the label of the loaded data, e.g. synthetic demo data
    gap: str | None = None  # what is missing, without the force's name (the same gap, the same
    # words: outputs name the forces that share it together); the note says it for this force
    cycle: int | None = None  # the inspection cycle computed for; None for a data profile
    period_end: date | None = None  # the period end computed for (windows end relative to it)
    # the row's key, which outputs find it by (an outcome type "1", "group:<group>", "total",
    # a data return's qualifier); ``breakdown`` is its label, only for showing
    breakdown_key: str | None = None
    # the numerator's window as dates and as its label ('12 months to 30 June 2016'; start None
    # for an 'as at' date), and for a change the earlier window it is compared with: ``period``
    # is what records show, "<base_window> to <window>"; nothing parses it back
    window_start: date | None = None
    window_end: date | None = None
    window: str | None = None
    base_window: str | None = None

    def as_row(self) -> dict[str, Any]:
        row = {k: v for k, v in self.__dict__.items() if k not in ("ci95", "ci998")}
        for name in ("ci95", "ci998"):
            interval = getattr(self, name)
            row[f"{name}_lower"] = interval.lower if interval else None
            row[f"{name}_upper"] = interval.upper if interval else None
        row["ew_forces"] = list(self.ew_forces)
        row["load_ids"] = list(self.load_ids)
        return row


@dataclass
class _Side:
    value: float | None = None
    status: str | None = None
    parts: int = 0
    load_ids: tuple[int, ...] = ()


def _add(sides: Iterable[_Side]) -> _Side:
    """The sum of several breakdown rows of one force (a Figure 4 group from its members)."""
    sides = list(sides)
    values = [s.value for s in sides if s.value is not None]
    return _Side(
        value=sum(values) if values else None,
        status="supplied" if values else (sides[0].status if sides else None),
        parts=max((s.parts for s in sides), default=0),
        load_ids=tuple(sorted({i for s in sides for i in s.load_ids})),
    )


Request = tuple[
    Measure, Period, int, bool, bool
]  # measure, period, population year, tracked, keyed
RequestKey = tuple[str, Period, int, bool, bool]
_SQL_CACHE: dict[str, str] = {}  # source table -> the SQL of its measures' expression


class _Fetcher:
    """Computes the measures the indicators ask for: one query per source table.

    The distinct measures of a computation are written as rows of each source's selection
    table (:mod:`peelkit.indicators.measures`), and each source's expression computes all of
    them in one pass. On DuckDB the selection is registered under a fixed name and the SQL of
    the expression, which does not depend on the selection, is compiled once per process
    (compiling costs more than running it); the queries run side by side, each on its own
    cursor. On any other Ibis backend (Spark) the expression is executed by Ibis with the
    selection as an in-memory table.
    """

    def __init__(
        self, backend: ibis.BaseBackend, con: duckdb.DuckDBPyConnection | None = None
    ) -> None:
        self.backend, self.con = backend, con
        self.results: dict[RequestKey, dict[str | None, dict[str, _Side]]] = {}

    @staticmethod
    def _key(request: Request) -> RequestKey:
        m, period, year, tracked, keyed = request
        return (m.model_dump_json(exclude={"definition"}), period, year, tracked, keyed)

    def _sql(self, source: str) -> str:
        if source not in _SQL_CACHE:
            build = measures.BY_SOURCE[source]
            expr = build(self.backend, measures.selection_placeholder(source))
            _SQL_CACHE[source] = str(self.backend.compile(expr))
        return _SQL_CACHE[source]

    def _execute(self, source: str, sql: str, selection: pa.Table) -> list[dict[str, Any]]:
        """Run a source's SQL on its own cursor, with its selection registered there."""
        assert self.con is not None
        cursor = self.con.cursor()
        try:
            cursor.register(measures.selection_name(source), selection)
            result = cursor.execute(sql)
            columns = [d[0] for d in result.description or []]
            return [dict(zip(columns, values, strict=True)) for values in result.fetchall()]
        finally:
            cursor.close()

    def _results(self, selections: dict[str, pa.Table]) -> Iterable[list[dict[str, Any]]]:
        """The rows of each source's measures. On DuckDB, each query starts as soon as it is
        compiled, so compiling the next one overlaps running this one."""
        if self.con is None:
            for source, selection in selections.items():
                build = measures.BY_SOURCE[source]
                expr = build(self.backend, ibis.memtable(selection))
                yield expr.to_pyarrow().to_pylist()
            return
        with ThreadPoolExecutor(max_workers=len(selections) or 1) as pool:
            running = [
                pool.submit(self._execute, source, self._sql(source), selection)
                for source, selection in selections.items()
            ]
            for future in running:
                yield future.result()

    def prefetch(self, requests: Iterable[Request]) -> None:
        """Compute every measure of ``requests`` not computed yet."""
        todo: dict[RequestKey, Request] = {}
        for request in requests:
            key = self._key(request)
            if key not in self.results and key not in todo:
                todo[key] = request
        rows: dict[str, list[dict[str, Any]]] = {s: [] for s in measures.BY_SOURCE}
        for number, request in enumerate(todo.values()):
            rows[request[0].source] += measures.selection_rows(number, *request)
        selections = {s: measures.selection_table(s, r) for s, r in rows.items() if r}
        found: dict[int, dict[str | None, dict[str, _Side]]] = {}
        for result in self._results(selections):
            for row in result:
                found.setdefault(row["measure"], {}).setdefault(row["key"], {})[
                    row["force_code"]
                ] = _Side(
                    value=None if row["value"] is None else float(row["value"]),
                    status=row["status"],
                    parts=int(row["parts"] or 0),
                    load_ids=tuple(sorted(int(i) for i in row["load_ids"] or ())),
                )
        for number, key in enumerate(todo):
            self.results[key] = found.get(number, {})

    def __call__(self, request: Request) -> dict[str | None, dict[str, _Side]]:
        key = self._key(request)
        if key not in self.results:
            self.prefetch([request])
        return self.results[key]


def compute(
    con: duckdb.DuckDBPyConnection,
    cycle: int = 2016,
    indicator_ids: Iterable[str] | None = None,
    rank_rule: RankRule = DEFAULT_RANK_RULE,
    book: Catalogue | None = None,
    backend: str = "duckdb",
    period_end: date | None = None,
) -> list[BenchmarkRecord]:
    """Benchmark records for the chosen indicators (all by default), every territorial force,
    for an inspection ``cycle`` or, given ``period_end`` (a quarter end), for the data to that
    date (a data profile, or the cycle whose data end there).

    ``backend`` is ``duckdb`` (the warehouse itself) or ``pyspark`` (the same expressions on a
    local Spark session; needs the spark extra).
    """
    when = for_date(period_end) if period_end is not None else for_cycle(cycle)
    book = book or catalogue()
    wanted = list(indicator_ids) if indicator_ids is not None else [i.id for i in book.indicator]
    indicators = [book.get(i) for i in wanted]
    if backend == "duckdb":
        fetch = _Fetcher(ibis.duckdb.from_connection(con), con)
    elif backend == "pyspark":
        from peelkit.indicators.spark import spark_backend

        fetch = _Fetcher(spark_backend(con))
    else:
        raise ValueError(f"unknown backend {backend!r}: choose duckdb or pyspark")
    label = "; ".join(data_labels(con)) or None
    fetch.prefetch(r for ind in indicators for r in _requests(ind, when))
    found = Availability(fetch.backend)
    incomplete = Incomplete.read(con)
    records: list[BenchmarkRecord] = []
    for ind in indicators:
        records += _indicator_records(
            fetch, ind, when, rank_rule, found, label, incomplete, book.defaults.incomplete_inputs
        )
    return records


def _windows(ind: Indicator, one: Period) -> tuple[Period, str]:
    """The denominator's window of a period (a year earlier for a change) and the period as
    records name it."""
    earlier = one.years_before(ind.change_years) if ind.change_years else one
    return earlier, f"{earlier.label} to {one.label}" if ind.change_years else one.label


def period_labels(ind: Indicator, when: PeriodEnd) -> list[str]:
    """The periods of an indicator's records for a period end, as records name them (the
    earlier years of a series first), without computing anything."""
    return [_windows(ind, one)[1] for one in _periods(ind, when)]


def _requests(ind: Indicator, when: PeriodEnd) -> list[Request]:
    """The numerator and denominator an indicator needs, for each period it shows."""
    tracked = ind.calculation == "tracked outcome share"
    year = when.population_year
    requests: list[Request] = []
    for period in _periods(ind, when):
        earlier = period.years_before(ind.change_years) if ind.change_years else period
        requests += [
            (ind.numerator, period, year, tracked, ind.breakdown is not None),
            (ind.denominator, earlier, year, tracked, False),
        ]
    return requests


def _periods(ind: Indicator, when: PeriodEnd) -> list[Period]:
    """The window to the period end, or each window of a series, oldest first."""
    latest = when.window(ind.window)
    if not ind.series_years:
        return [latest]
    return [latest.years_before(n) for n in range(ind.series_years - 1, -1, -1)]


def _indicator_records(
    fetch: _Fetcher,
    ind: Indicator,
    when: PeriodEnd,
    rank_rule: RankRule,
    found: Availability,
    label: str | None,
    incomplete: Incomplete,
    incomplete_rule: str,
) -> list[BenchmarkRecord]:
    forces = [f.code for f in reference.territorial_forces()]
    requests = _requests(ind, when)
    records: list[BenchmarkRecord] = []
    for n, one in enumerate(_periods(ind, when)):
        earlier, shown = _windows(ind, one)
        top = fetch(requests[2 * n])
        bottom = fetch(requests[2 * n + 1]).get(None, {})
        context = _Context(
            ind, when, one, earlier, found, shown, rank_rule, label, incomplete, incomplete_rule
        )
        for row_key, row_label, row in _rows(ind, top):
            records += _row_records(context, (row_key, row_label), row, bottom, forces)
    return records


@dataclass(frozen=True)
class _Context:
    """What every record of one indicator and period shares."""

    ind: Indicator
    when: PeriodEnd
    period: Period  # the numerator's window
    earlier: Period  # the denominator's window (differs for a change)
    found: Availability
    shown: str  # the period as records name it
    rank_rule: RankRule
    data_label: str | None
    incomplete: Incomplete
    incomplete_rule: str  # the catalogue's: withhold | show with caveat

    def missing(self, code: str, num: _Side, den: _Side) -> Missing:
        """Which input is missing for a force, and what to load (never 'nothing' when part of
        it is there)."""
        said = []
        year = self.when.population_year
        for name, side, measure, period in (
            ("numerator", num, self.ind.numerator, self.period),
            ("denominator", den, self.ind.denominator, self.earlier),
        ):
            if side.value is None or _short(measure, side):
                said.append(missing_input(name, measure, period, year, code, self.found))
        return Missing("; ".join(m.note for m in said), "; ".join(m.gap for m in said))


def _short(measure: Measure, side: _Side) -> bool:
    """A quarterly measure that sums fewer than the 4 quarters of its window."""
    return measure.source in ("recorded_crime", "crime_outcomes") and 0 < side.parts < 4


#: The key of Figure 4's row of all offences assigned an outcome.
TOTAL_ASSIGNED = "total"


def _rows(
    ind: Indicator, top: dict[str | None, dict[str, _Side]]
) -> list[tuple[str | None, str | None, dict[str, _Side]]]:
    """The rows of an indicator as (key, label, sides): one row, or one per breakdown key, plus
    Figure 4's group rows (key ``group:<group>``, each derived from its members' unrounded
    counts) and its total of assigned outcomes (key ``total``). Outputs find a row by its key;
    the label is only for showing."""
    if ind.breakdown is None:
        return [(None, None, top.get(None, {}))]
    keys = sorted((k for k in top if k is not None), key=lambda k: (len(k), k))
    if ind.calculation != "tracked outcome share":
        return [(k, k, top[k]) for k in keys]
    described = {str(o.number): o for o in reference.outcome_types()}
    rows: list[tuple[str | None, str | None, dict[str, _Side]]] = [
        (k, f"{k} {described[k].description}", top[k]) for k in keys
    ]
    groups: dict[str, list[str]] = {}
    for k in keys:
        groups.setdefault(described[k].figure_4_group, []).append(k)
    for group, members in groups.items():
        if len(members) > 1:
            rows.append((f"group:{group}", f"group: {group}", _sum_rows(top, members)))
    assigned = [k for k in keys if k != "0"]
    rows.append((TOTAL_ASSIGNED, "Total offences assigned an outcome", _sum_rows(top, assigned)))
    return rows


def _sum_rows(top: dict[str | None, dict[str, _Side]], keys: list[str]) -> dict[str, _Side]:
    forces = {code for k in keys for code in top[k]}
    return {code: _add(top[k][code] for k in keys if code in top[k]) for code in forces}


def _row_records(
    context: _Context,
    row_label: tuple[str | None, str | None],  # the row's key and label
    top: dict[str, _Side],
    bottom: dict[str, _Side],
    forces: list[str],
) -> list[BenchmarkRecord]:
    ind, rank_rule = context.ind, context.rank_rule
    excluded = {e.force: e.reason for e in ind.exclusions}
    partial = {p.force: p.reason for p in ind.partial_periods}
    combined = {code: group for group in ind.combined for code in group.forces}
    notes: dict[str, list[str]] = {}
    for n in ind.force_notes:
        notes.setdefault(n.force, []).append(n.note)
    shares = ind.calculation == "tracked outcome share"

    values: dict[str, tuple[float, float, float, tuple[int, ...]]] = {}
    unranked: set[str] = set()
    withheld: set[str] = set()
    states: dict[str, tuple[str, str | None]] = {}
    gaps: dict[str, str] = {}
    for code in forces:
        num, den = top.get(code, _Side()), bottom.get(code, _Side())
        if code in combined:
            num, den = _combine(combined[code], top, bottom, num, den)
        if code in excluded:
            states[code] = (EXCLUDED, excluded[code])
            continue
        if NOT_SUPPLIED in (num.status, den.status):
            states[code] = (NOT_SUPPLIED, "the force could not supply this item")
            continue
        if num.value is None and shares and den.value:
            num = _Side(0.0, "supplied", den.parts, ())  # no offence got this outcome
        short = _short(ind.numerator, num) or _short(ind.denominator, den)
        if num.value is None or den.value is None or (short and not shares):
            missing = context.missing(code, num, den)
            states[code] = (NO_DATA, missing.note)
            gaps[code] = missing.gap
            continue
        if den.value == 0:
            states[code] = (NO_DATA, "the denominator is zero")
            continue
        value = _value(ind, num.value, den.value)
        loads = tuple(sorted({*num.load_ids, *den.load_ids}))
        values[code] = (value, num.value, den.value, loads)
        note: str | None = partial.get(code)
        if note is None and short:
            missing = context.missing(code, num, den)
            note, gaps[code] = f"a partial period: {missing.note}", missing.gap
        coverage = PARTIAL if note else COMPUTED
        lacking = context.incomplete.said(loads, code, [context.period, context.earlier])
        if lacking is not None:  # never "computed" as if the inputs were whole
            coverage = INCOMPLETE
            said_first = f"inputs incomplete: {lacking}"
            if context.incomplete_rule == "withhold":
                said_first = f"{WITHHELD_NOTE}: {said_first}"
                withheld.add(code)
            note = "; ".join(n for n in (said_first, note) if n)
            unranked.add(code)
        found = context.incomplete.found(loads, code, [context.period, context.earlier])
        said = [n for n in (note, combined[code].reason if code in combined else None) if n]
        said += notes.get(code, [])
        said += [found] if found else []
        states[code] = (coverage, "; ".join(said) or None)

    # England and Wales counts what was loaded, of every force; a figure with incomplete
    # inputs is not ranked (and, withheld, not shown)
    ew = _england_and_wales(ind, values, combined)
    if unranked & set(ew[3]):
        names = {f.code: f.name for f in reference.forces()}
        caveat = "England and Wales includes the incomplete inputs of " + ", ".join(
            names.get(c, c) for c in sorted(unranked & set(ew[3]))
        )
        for code in set(values) - withheld:  # every figure compared with it says so
            coverage, note = states[code]
            states[code] = (coverage, "; ".join(n for n in (note, caveat) if n))
    ranks = stats.hmic_ranks(
        {code: v[0] for code, v in values.items() if code not in unranked}, rank_rule
    )
    rule = rank_rule.describe()
    records = []
    for code in forces:
        coverage, note = states[code]
        numbers: dict[str, Any] = {}
        if code in withheld:
            numbers = {"load_ids": values[code][3]}  # no value; where it came from, still
        elif code in values:
            value, num_value, den_value, loads = values[code]
            ci95, ci998, interval_note = _intervals(ind, num_value, den_value)
            numbers = {
                "value": value,
                "numerator": num_value,
                "denominator": den_value,
                "ci95": ci95,
                "ci998": ci998,
                "interval_note": interval_note,
                "verdict": stats.compare_to_benchmark(value, ci95, ew[0], ind.polarity),
                "load_ids": loads,
            }
            if code not in unranked:  # a figure with incomplete inputs is compared, not ranked
                rank = ranks[code]
                numbers |= {"rank": rank.rank, "ranked": rank.ranked, "rank_verdict": rank.verdict}
        numbers["gap"] = gaps.get(code)
        records.append(_record(context, row_label, code, coverage, note, rule, ew, **numbers))
    return records


def _combine(
    group: Combined,
    top: dict[str, _Side],
    bottom: dict[str, _Side],
    num: _Side,
    den: _Side,
) -> tuple[_Side, _Side]:
    """Forces that reported one figure together: that figure over their summed denominators,
    or over the denominator reported with it."""
    nums = [v for c in group.forces if (v := top.get(c, _Side()).value) is not None]
    dens = [v for c in group.forces if (v := bottom.get(c, _Side()).value) is not None]
    summed = group.denominator == "summed"
    if not nums or not dens or (summed and len(dens) != len(group.forces)):
        return num, den
    loads = {
        i
        for c in group.forces
        for side in (top.get(c), bottom.get(c))
        if side
        for i in side.load_ids
    }
    joint = sum(dens) if summed else max(dens)
    return _Side(max(nums), "supplied", 1, tuple(sorted(loads))), _Side(joint, "supplied", 1)


def _population_year(ind: Indicator, year: int | None) -> int | None:
    return year if ind.denominator.source == "population" else None


def _value(ind: Indicator, numerator: float, denominator: float) -> float:
    if ind.calculation == "change":
        change = stats.percent_change(numerator, denominator)
        assert change is not None  # denominator checked above
        return change
    return stats.rate(numerator, denominator, ind.multiplier)


def _england_and_wales(
    ind: Indicator,
    values: dict[str, tuple[float, float, float, tuple[int, ...]]],
    combined: dict[str, Any],
) -> tuple[float | None, float | None, float | None, tuple[str, ...]]:
    included = tuple(sorted(values))
    if not included:
        return None, None, None, ()
    if ind.england_and_wales == "unweighted mean of force rates":
        mean = sum(values[c][0] for c in included) / len(included)
        return mean, None, None, included
    counted: set[str] = set()
    numerator = denominator = 0.0
    for code in included:
        group = tuple(combined[code].forces) if code in combined else (code,)
        if group[0] in counted:
            continue  # a combined count counts once
        counted.update(group)
        numerator += values[code][1]
        denominator += values[code][2]
    return _value(ind, numerator, denominator), numerator, denominator, included


def _intervals(
    ind: Indicator, numerator: float, denominator: float
) -> tuple[Interval | None, Interval | None, str | None]:
    if ind.calculation == "change":
        return None, None, "no confidence interval for a percentage change between two periods"
    if ind.calculation in ("proportion", "tracked outcome share") and 0 <= numerator <= denominator:
        return (
            stats.wilson_interval(numerator, denominator, 0.95, ind.multiplier),
            stats.wilson_interval(numerator, denominator, 0.998, ind.multiplier),
            None,
        )
    if numerator < 0:
        return None, None, "no confidence interval for a negative count"
    return (
        stats.rate_interval(numerator, denominator, ind.multiplier, 0.95),
        stats.rate_interval(numerator, denominator, ind.multiplier, 0.998),
        None,
    )


def _record(
    context: _Context,
    row_label: tuple[str | None, str | None],  # the row's key and label
    code: str,
    coverage: str,
    note: str | None,
    rank_rule: str,
    ew: tuple[float | None, float | None, float | None, tuple[str, ...]] = (None, None, None, ()),
    **numbers: Any,
) -> BenchmarkRecord:
    """A force's record: without ``numbers`` it has no value — never zero, always with the
    reason in its coverage and note."""
    ind, when = context.ind, context.when
    fields: dict[str, Any] = {
        "indicator_id": ind.id,
        "breakdown": row_label[1],
        "breakdown_key": row_label[0],
        "force_code": code,
        "period": context.shown,
        "window_start": context.period.start,
        "window_end": context.period.end,
        "window": context.period.label,
        "base_window": context.earlier.label if context.ind.change_years else None,
        "value": None,
        "numerator": None,
        "denominator": None,
        "unit": ind.unit,
        "population_year": _population_year(ind, when.population_year),
        "coverage": coverage,
        "note": note,
        "england_and_wales": ew[0],
        "ew_numerator": ew[1],
        "ew_denominator": ew[2],
        "ew_method": ind.england_and_wales,
        "ew_forces": ew[3],
        "ci95": None,
        "ci998": None,
        "interval_note": None,
        "verdict": "not compared",
        "rank": None,
        "ranked": None,
        "rank_verdict": None,
        "rank_rule": rank_rule,
        "data_label": context.data_label,
        "cycle": when.cycle,
        "period_end": when.end,
    }
    fields.update(numbers)
    return BenchmarkRecord(**fields)


__all__ = ["BenchmarkRecord", "Polarity", "compute"]
