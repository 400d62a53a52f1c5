"""Numerators and denominators as Ibis expressions: one plain function per source table.

Each function takes the backend's tables and returns one row per force (and breakdown key):
``force_code``, ``key`` (the breakdown key, or NULL), ``value`` (NULL when nothing was
supplied), ``status`` ('supplied' or 'could not supply'), ``parts`` (how many quarters or rows
the value sums) and ``load_ids`` (lineage). They run on DuckDB by default and, being plain
Ibis, on any backend Ibis supports.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from peelkit.indicators.catalogue import Measure
from peelkit.indicators.periods import Period

TRACKED = "outcomes_for_offences_recorded_in_quarter"


def _latest_load(t: ir.Table, *keys: str) -> ir.Table:
    """Keep the rows of the most recent load for each key (a later release revises figures)."""
    t = t.mutate(latest_load=t.load_id.max().over(group_by=list(keys)))
    return t.filter(t.load_id == t.latest_load).drop("latest_load")


def _offence_selection(t: ir.Table, m: Measure) -> ir.Table:
    if m.crime_category:
        t = t.filter(t.crime_category.isin(m.crime_category))
    if m.offence_group:
        t = t.filter(t.offence_group.isin(m.offence_group))
    if m.offence_subgroup:
        t = t.filter(t.offence_subgroup.isin(m.offence_subgroup))
    if m.offence_code:
        t = t.filter(t.offence_code.isin(m.offence_code))
    return t


def recorded_crime(backend: ibis.BaseBackend, m: Measure, period: Period) -> ir.Table:
    crimes = backend.table("recorded_crime")
    classes = backend.table("offence_classification")
    t = crimes.join(classes, "offence_code")
    t = t.filter(t.quarter_start >= period.start, t.quarter_start <= period.end)
    t = _latest_load(t, "force_code", "quarter_start", "offence_code")
    t = _offence_selection(t, m).mutate(key=ibis.null("string"))
    return t.group_by(["force_code", "key"]).aggregate(
        value=t.offences.sum().cast("float64"),
        status=ibis.literal("supplied"),
        parts=t.quarter_start.nunique(),
        load_ids=t.load_id.collect(distinct=True),
    )


def tracked_outcomes(
    backend: ibis.BaseBackend, m: Measure, period: Period, keyed: bool = False
) -> ir.Table:
    """Offences recorded in the window, by the outcome each has been assigned (Figure 4)."""
    t = backend.table("crime_outcomes")
    classes = backend.table("offence_classification")
    t = t.join(classes, "offence_code")
    t = t.filter(t.quarter_start >= period.start, t.quarter_start <= period.end)
    t = t.filter(t.crime_category != "fraud")
    t = _latest_load(t, "force_code", "quarter_start", "offence_code", "outcome_type")
    if m.outcome_types:
        t = t.filter(t.outcome_type.isin(m.outcome_types))
    t = t.mutate(key=t.outcome_type.cast("string") if keyed else ibis.null("string"))
    return t.group_by(["force_code", "key"]).aggregate(
        value=t[TRACKED].sum().cast("float64"),
        status=ibis.literal("supplied"),
        parts=t.quarter_start.nunique(),
        load_ids=t.load_id.collect(distinct=True),
    )


def population(backend: ibis.BaseBackend, m: Measure, year: int) -> ir.Table:
    t = backend.table("population")
    t = _latest_load(t.filter(t.year == year), "force_code", "year")
    t = t.mutate(key=ibis.null("string"))
    column = t[m.population_column]
    return t.group_by(["force_code", "key"]).aggregate(
        value=column.sum().cast("float64"),
        status=ibis.literal("supplied"),
        parts=column.count(),
        load_ids=t.load_id.collect(distinct=True),
    )


def data_return(
    backend: ibis.BaseBackend, m: Measure, period: Period, keyed: bool = False
) -> ir.Table:
    t = backend.table("data_returns")
    t = t.filter(t.item == m.item, t.period_end == period.end)
    t = t.filter(
        t.period_start.isnull() if period.start is None else t.period_start == period.start
    )
    t = _latest_load(t, "force_code", "item")
    t = t.mutate(key=t.qualifier if keyed else ibis.null("string"))
    supplied = t.status == "supplied"
    return t.group_by(["force_code", "key"]).aggregate(
        value=t.value.sum(where=supplied),
        status=ibis.ifelse(supplied.any(), "supplied", "could not supply"),
        parts=t.value.count(),
        load_ids=t.load_id.collect(distinct=True),
    )


def by_force(
    backend: ibis.BaseBackend,
    m: Measure,
    period: Period,
    population_year: int,
    tracked: bool,
    keyed: bool = False,
) -> ir.Table:
    """The measure for every force that has it, from the source its definition names; with
    ``keyed``, one row per force and breakdown key (outcome type, or the item's qualifier)."""
    if m.source == "recorded_crime":
        return recorded_crime(backend, m, period)
    if m.source == "crime_outcomes":
        if not tracked:
            raise ValueError("the crime outcomes table holds tracked outcomes only here")
        return tracked_outcomes(backend, m, period, keyed)
    if m.source == "population":
        return population(backend, m, population_year)
    if m.source == "data_returns":
        return data_return(backend, m, period, keyed)
    raise ValueError(f"no warehouse table holds {m.source!r} data yet")
