"""Why a value is missing: which input, which source table, what is there and what to load.

A benchmark record without a value says which of its inputs — numerator or denominator — is
missing, from which source table, which of the quarters, years or returns it needs are loaded
and which are not, and what a user loads to fill the gap ("denominator: no mid-2017 population
estimate for Kent Police; load the ONS mid-year population estimates"). It never says "nothing
in the warehouse" when part of the input is there.

What the warehouse holds is read once per computation, and only when some value is missing, as
small Ibis queries (so that the Spark backend gives the same words).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import TYPE_CHECKING, Any

from peelkit import reference
from peelkit.indicators.periods import Period, quarters_text

if TYPE_CHECKING:
    import ibis

    from peelkit.indicators.catalogue import Measure

#: What a user loads to fill a gap in each source table (``peelkit formats`` lists them).
TO_LOAD = {
    "recorded_crime": "the Home Office police recorded crime table (Police Force Area)",
    "crime_outcomes": "the Home Office crime outcomes open data table",
    "population": "the ONS mid-year population estimates (or a population CSV)",
    "households": "household estimates as a population CSV with a households column",
    "data_returns": "the inspectorate's force data returns (a data returns CSV)",
}
WHAT = {"recorded_crime": "recorded crime", "crime_outcomes": "crime outcomes"}


class Availability:
    """Which periods each source table holds for each force, read on first use."""

    def __init__(self, backend: ibis.BaseBackend) -> None:
        self.backend = backend

    def _rows(self, expr: Any) -> list[dict[str, Any]]:
        return list(expr.to_pyarrow().to_pylist())

    def _quarters(self, table: str) -> dict[str, set[date]]:
        t = self.backend.table(table)
        found: dict[str, set[date]] = {}
        for row in self._rows(t.select("force_code", "quarter_start").distinct()):
            found.setdefault(row["force_code"], set()).add(row["quarter_start"])
        return found

    @cached_property
    def recorded_crime(self) -> dict[str, set[date]]:
        return self._quarters("recorded_crime")

    @cached_property
    def crime_outcomes(self) -> dict[str, set[date]]:
        return self._quarters("crime_outcomes")

    @cached_property
    def population(self) -> dict[str, dict[int, bool]]:
        """Per force, the mid-year estimates loaded and whether they carry households."""
        t = self.backend.table("population")
        t = t.group_by(["force_code", "year"]).aggregate(households=t.households.count())
        found: dict[str, dict[int, bool]] = {}
        for row in self._rows(t):
            found.setdefault(row["force_code"], {})[int(row["year"])] = row["households"] > 0
        return found

    @cached_property
    def data_returns(self) -> dict[tuple[str, str], set[tuple[date | None, date]]]:
        t = self.backend.table("data_returns")
        t = t.select("force_code", "item", "period_start", "period_end").distinct()
        found: dict[tuple[str, str], set[tuple[date | None, date]]] = {}
        for row in self._rows(t):
            key = (row["force_code"], row["item"])
            found.setdefault(key, set()).add((row["period_start"], row["period_end"]))
        return found


def _period_text(start: date | None, end: date) -> str:
    if start is None:
        return f"as at {end.isoformat()}"
    return f"{start.isoformat()} to {end.isoformat()}"


@dataclass(frozen=True)
class Missing:
    """One missing input of a force's figure: ``note`` says it whole for that force; ``gap``
    says it without the force, so that forces with the same gap can be named together."""

    note: str
    gap: str


def missing_input(
    side: str,
    measure: Measure,
    period: Period,
    population_year: int,
    force_code: str,
    found: Availability,
) -> Missing:
    """``side`` (numerator or denominator) of a force's figure is missing or incomplete: what
    the warehouse holds of it, and what to load."""
    force = reference.force_by_code()[force_code].name
    source = measure.source
    if source in ("recorded_crime", "crime_outcomes"):
        have_all = getattr(found, source).get(force_code, set())
        wanted = list(period.quarters())
        have = [q for q in wanted if q in have_all]
        absent = [q for q in wanted if q not in have_all]
        what = WHAT[source]
        if not absent:  # all quarters loaded, but none of them holds the selected offences
            gap = f"{side}: no rows for {measure.definition.lower()} in the {period.label}"
            return Missing(
                f"{side}: {what} for {force} in the {period.label} has no rows for "
                f"{measure.definition.lower()}",
                gap,
            )
        held = f" (it has {quarters_text(have)})" if have else ""
        load = f"load {TO_LOAD[source]} for those quarters"
        return Missing(
            f"{side}: {what} for {force} lacks {quarters_text(absent)} of the {period.label}"
            f"{held}; {load}",
            f"{side}: {what} lacks {quarters_text(absent)} of the {period.label}; {load}",
        )
    if source == "population":
        households = measure.population_column == "households"
        years = found.population.get(force_code, {})
        kind = "household" if households else "population"
        loaded = sorted(y for y, has in years.items() if has or not households)
        held = (
            f" (loaded: {', '.join(f'mid-{y}' for y in loaded)})"
            if loaded
            else " (none is loaded for this force)"
        )
        load = f"load {TO_LOAD['households' if households else 'population']}"
        return Missing(
            f"{side}: no mid-{population_year} {kind} estimate for {force}{held}; {load}",
            f"{side}: no mid-{population_year} {kind} estimate; {load}",
        )
    if source == "data_returns":
        item = measure.item or ""
        returns = found.data_returns.get((force_code, item), set())
        held = ""
        if returns:
            periods = sorted(returns, key=lambda p: (p[1], p[0] or p[1]))
            held = " (loaded for " + ", ".join(_period_text(*p) for p in periods) + ")"
        load = f"load {TO_LOAD['data_returns']}"
        return Missing(
            f"{side}: no force data return of {item} for the {period.label} from {force}"
            f"{held}; {load}",
            f"{side}: no force data return of {item} for the {period.label}; {load}",
        )
    return Missing(
        f"{side}: no {source} data for {force} in the {period.label}",
        f"{side}: no {source} data in the {period.label}",
    )
