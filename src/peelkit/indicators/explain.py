"""Why a figure is what it is: the rule, the numbers, who was left out, and the source files.

``explain`` renders one benchmark record as plain text a reader can check by hand. It does
not compute anything (``peelkit.service.explain`` computes the indicator's records once and
hands them here): the numbers come from the record the engine made, the SQL shows the
expressions the engine ran (re-runnable with ``peelkit query``), and the files come from the
load ledger through the record's load ids.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import duckdb
import ibis

from peelkit import display, reference
from peelkit.indicators import measures
from peelkit.indicators.catalogue import Indicator, catalogue
from peelkit.indicators.engine import BenchmarkRecord, period_labels
from peelkit.indicators.periods import PeriodEnd, for_cycle, known_cycles, parse_period_end


@dataclass(frozen=True)
class Explanation:
    record: BenchmarkRecord
    text: str


class Ledger:
    """The load ledger, rejected rows, plausibility findings and population rows, read once
    from the warehouse: an explanation looks its lines up here, so that explaining every force
    × indicator (peelkit publish) reads the warehouse four times, not four times each."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.loads = {
            row[0]: row[1:]
            for row in con.execute(
                "SELECT load_id, path, member, sha256, kind, rows_loaded, damage FROM loads"
            ).fetchall()
        }
        self.rejected: dict[int, list[tuple[Any, ...]]] = {}
        for row in con.execute(
            "SELECT load_id, line, coalesce(field, '(whole line)'), reason, raw, period_start, "
            "force_code FROM rejected_rows ORDER BY load_id, line"
        ).fetchall():
            self.rejected.setdefault(row[0], []).append(row)
        exists = con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'findings'"
        ).fetchone()
        self.findings: dict[str, list[tuple[Any, ...]]] | None = None
        if exists and exists[0]:
            self.findings = {}
            for row in con.execute(
                "SELECT force_code, rule, source, period, load_id, detail FROM findings "
                "ORDER BY source, period_start, rule, load_id, detail"
            ).fetchall():
                self.findings.setdefault(row[0], []).append(row[1:])
        self.population: dict[tuple[str, int], list[tuple[Any, ...]]] = {}
        for row in con.execute(
            "SELECT force_code, year, basis, population, households, source, load_id "
            "FROM population "
            "QUALIFY load_id = max(load_id) OVER (PARTITION BY force_code, year) ORDER BY basis"
        ).fetchall():
            self.population.setdefault((row[0], row[1]), []).append(row[2:])


def _number(value: float | None, decimals: int = 2) -> str:
    return display.figure(value, decimals)


def resolve_period(
    indicator_id: str, period: str | int | PeriodEnd
) -> tuple[PeriodEnd, str | None]:
    """The period end a user means, and the period label to pick when they typed one: a cycle
    (2016), a quarter end (2018-03-31), or a period exactly as ``peelkit indicators`` prints it
    — including an earlier year of a cycle's series ('12 months to 30 June 2014')."""
    if isinstance(period, PeriodEnd):
        return period, None
    if isinstance(period, int):
        return for_cycle(period), None
    text = period.strip()
    if re.fullmatch(r"\d{4}(-\d{2}-\d{2})?", text):  # a cycle or a quarter end
        return parse_period_end(text), None
    ind = catalogue().get(indicator_id)
    for cycle in sorted(known_cycles(), reverse=True):  # labels are known without computing
        if text in period_labels(ind, for_cycle(cycle)):
            return for_cycle(cycle), text
    return parse_period_end(text), text


class NoSuchFigure(KeyError):
    """The records hold no figure for the period or row asked for; ``param`` names which
    argument to change ("period" or "row")."""

    def __init__(self, message: str, param: str) -> None:
        super().__init__(message)
        self.param = param

    def __str__(self) -> str:
        return str(self.args[0])


def explain(
    con: duckdb.DuckDBPyConnection,
    records: list[BenchmarkRecord],
    force_code: str,
    indicator_id: str,
    when: PeriodEnd,
    label: str | None = None,
    breakdown: str | None = None,
    sql: bool = False,
    ledger: Ledger | None = None,
) -> Explanation:
    """A readable page about one figure of ``records`` (the indicator's records for ``when``,
    computed by the caller), the one of ``force_code``, the period ``label`` (the latest year
    of a series when None) and the row ``breakdown``; ``sql`` adds the queries that reproduce
    its numerator and denominator (long: a measure's selection is written out as a VALUES
    list). The numbers are the record's: nothing is recomputed. ``ledger`` is the warehouse's
    ledger already read (read here when None)."""
    ind = catalogue().get(indicator_id)
    records = [r for r in records if r.force_code == force_code and r.indicator_id == ind.id]
    if label is not None:
        shown = sorted({r.period for r in records})
        records = [r for r in records if r.period == label]
        if not records:
            raise NoSuchFigure(
                f"{indicator_id} has no period {label!r}; it has: {', '.join(shown)}", "period"
            )
    elif ind.series_years:
        records = [r for r in records if r.period == records[-1].period]  # the latest year
    if breakdown is None and records and records[0].breakdown is not None:
        rows = ", ".join(repr(r.breakdown) for r in records)
        raise NoSuchFigure(f"{indicator_id} has rows; name one with --row: {rows}", "row")
    record = next((r for r in records if r.breakdown == breakdown), None)
    if record is None:
        raise NoSuchFigure(f"no row {breakdown!r}", "row")
    names = reference.force_by_code()
    ledger = ledger or Ledger(con)
    lines = [
        f"{ind.id} {ind.title}" + (f" — {breakdown}" if breakdown else ""),
        f"{names[force_code].name}, {record.period} ({when.title})",
        "",
        *_value_lines(ind, record),
        "",
        *_rule_lines(ind, record),
        *_population_lines(ledger, ind, record, when),
        "",
        *_source_lines(con, ledger, ind, record, force_code, when, sql),
    ]
    if record.data_label:
        lines[:0] = [f"[{record.data_label}]", ""]
    if ind.caveats:
        lines += ["", "Caveats:", *(f"  - {c}" for c in ind.caveats)]
    lines += ["", "Annex A:", f"  {ind.annex}"]
    return Explanation(record, "\n".join(lines))


def _population_lines(
    ledger: Ledger, ind: Indicator, r: BenchmarkRecord, when: PeriodEnd
) -> list[str]:
    """The population rows behind a population denominator: each basis (the City of London's
    resident and transient population) with its source."""
    if r.population_year is None:
        return []
    column = ind.denominator.population_column
    lines = [
        f"Population: ONS mid-{r.population_year} estimate — {when.population_rule_text}",
    ]
    index = 1 if column == "population" else 2
    rows = [
        (row[0], row[index], row[3], row[4])
        for row in ledger.population.get((r.force_code, r.population_year), [])
    ]
    for basis, count, source, load_id in rows:
        shown = display.count(count)
        lines.append(f"  {basis}: {shown} {column} ({source}; load {load_id})")
    if not rows:
        lines.append("  no population rows for this force and year are loaded")
    return lines


def _value_lines(ind: Indicator, r: BenchmarkRecord) -> list[str]:
    if r.value is None:
        return [f"No value: {r.coverage}" + (f" — {r.note}" if r.note else "") + "."]
    how = (
        f"({_number(r.numerator, 0)} − {_number(r.denominator, 0)}) / "
        f"{_number(r.denominator, 0)} × 100"
        if ind.calculation == "change"
        else f"{_number(r.numerator, 0)} / {_number(r.denominator, 0)} × "
        f"{display.count(ind.multiplier)}"
    )
    lines = [f"Value: {_number(r.value)} {ind.unit} = {how}"]
    if r.note:
        lines.append(f"Note: {r.note} ({r.coverage})")
    if r.england_and_wales is not None:
        pooled = (
            f" = {_number(r.ew_numerator, 0)} / {_number(r.ew_denominator, 0)}"
            if r.ew_numerator is not None
            else ""
        )
        lines.append(
            f"England and Wales: {_number(r.england_and_wales)}{pooled} "
            f"({r.ew_method} over {len(r.ew_forces)} forces)"
        )
    if r.ci95 and r.ci998:
        lines.append(
            f"95% interval: {_number(r.ci95.lower)} to {_number(r.ci95.upper)}; 99.8%: "
            f"{_number(r.ci998.lower)} to {_number(r.ci998.upper)} ({r.ci95.method})"
        )
    elif r.interval_note:
        lines.append(f"Interval: none — {r.interval_note}")
    return lines


def _rule_lines(ind: Indicator, r: BenchmarkRecord) -> list[str]:
    lines = [
        f"Numerator: {ind.numerator.definition} [{ind.numerator.source}]",
        f"Denominator: {ind.denominator.definition} [{ind.denominator.source}]",
        f"Verdict against England and Wales: {r.verdict} (Fingertips: similar when the England "
        f"and Wales value lies inside the force's 95% interval; polarity: {ind.polarity.value})",
    ]
    if r.rank is not None:
        lines.append(f"Rank: {r.rank} of {r.ranked} — {r.rank_verdict} ({r.rank_rule})")
    names = reference.force_by_code()
    if ind.exclusions:
        lines.append("Forces left out of England and Wales and the chart:")
        lines += [f"  - {names[e.force].name}: {e.reason}" for e in ind.exclusions]
    others = sorted(
        set(f.code for f in reference.territorial_forces())
        - set(r.ew_forces)
        - set(ind.excluded_forces)
    )
    if others and r.ew_forces:
        lines.append(
            "Also without a value (not in England and Wales): "
            + ", ".join(names[c].name for c in others)
        )
    return lines


def _incomplete_lines(ledger: Ledger, r: BenchmarkRecord, force: str) -> list[str]:
    """The damage and the rejected rows of the figure's loads that belong to this force (or to
    no force they could be told from), as the ledger holds them."""
    lines = [
        f"  load {load_id} is damaged: {ledger.loads[load_id][5]}"
        for load_id in sorted(r.load_ids)
        if load_id in ledger.loads and ledger.loads[load_id][5] is not None
    ]
    rejected = [
        row[:6]
        for load_id in sorted(r.load_ids)
        for row in ledger.rejected.get(load_id, [])
        if row[6] is None or row[6] == force
    ]
    if rejected:
        lines.append(
            f"Rejected rows of these loads that may belong to this figure ({len(rejected)}):"
        )
        for load_id, line, field, reason, raw, start in rejected[:10]:
            when = f" (of the period starting {start})" if start else ""
            lines.append(f"  load {load_id}, line {line}, field {field}: {reason}{when}")
            if raw:
                lines.append(f"    {raw[:160]}")
        if len(rejected) > 10:
            lines.append(
                f'  … and {len(rejected) - 10} more: peelkit query "SELECT * FROM rejected_rows '
                f'WHERE load_id IN ({", ".join(map(str, r.load_ids))})"'
            )
    return lines


def _finding_lines(ledger: Ledger, r: BenchmarkRecord) -> list[str]:
    """What the plausibility rules found in the loads the figure used, for its force."""
    from peelkit.plausibility import rules

    if not r.load_ids:
        return []
    if ledger.findings is None:
        return ["Plausibility findings: not recorded (the warehouse predates the rules)"]
    found = [f for f in ledger.findings.get(r.force_code, []) if f[3] in r.load_ids]
    if not found:
        return ["Plausibility findings: none in these loads for this force"]
    titles = rules().titles()
    lines = [
        "Plausibility findings in these loads for this force (the figure uses the rows as loaded):"
    ]
    for rule, source, period, load_id, detail in found:
        lines.append(
            f"  - {rule} ({titles.get(rule, rule)}), {source} {period}, load {load_id}: {detail}"
        )
    return lines


def _source_lines(
    con: duckdb.DuckDBPyConnection,
    ledger: Ledger,
    ind: Indicator,
    r: BenchmarkRecord,
    force: str,
    when: PeriodEnd,
    sql: bool,
) -> list[str]:
    lines = ["Source files:"]
    if r.load_ids:
        for load_id in sorted(r.load_ids):
            if load_id not in ledger.loads:
                continue
            path, member, sha, kind, rows, _ = ledger.loads[load_id]
            where = f"{path}!{member}" if member else path
            lines.append(
                f"  load {load_id}: {kind} {where} (sha256 {sha[:12]}…, {display.count(rows)} rows)"
            )
        lines += _incomplete_lines(ledger, r, force)
    else:
        lines.append("  none: no value was computed")
    lines += _finding_lines(ledger, r)
    if not sql:
        lines += ["", "Add --sql for the queries that reproduce the numerator and denominator."]
        return lines
    return lines + sql_lines(con, ind, r, when, force)


def sql_lines(
    con: duckdb.DuckDBPyConnection,
    ind: Indicator,
    r: BenchmarkRecord,
    when: PeriodEnd,
    force: str | None,
) -> list[str]:
    """The SQL that reproduces the numerator and the denominator of ``r``'s period: for
    ``force``, or for every force (one row each) when None."""
    lines: list[str] = []
    backend = ibis.duckdb.from_connection(con)
    period = when.window(ind.window)
    if ind.series_years:
        period = next(
            p for n in range(ind.series_years) if (p := period.years_before(n)).label == r.period
        )
    year = when.population_year
    tracked = ind.calculation == "tracked outcome share"
    for name, measure in (("numerator", ind.numerator), ("denominator", ind.denominator)):
        at = period
        if name == "denominator" and ind.change_years:
            at = period.years_before(ind.change_years)
        text = measures.standalone_sql(backend, measure, at, year, tracked, force_code=force)
        lines += [f"SQL of the {name} (run it with peelkit query):", text]
    return lines
