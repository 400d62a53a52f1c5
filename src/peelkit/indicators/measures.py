"""Numerators and denominators as Ibis expressions: one plain function per source table.

Every numerator and denominator an indicator needs is a *measure*: a selection (offence codes,
outcome types, a data return item, a population column) over a period. The measures of one
source table are written as rows of a small *selection table* — data, like the catalogue they
come from — and one Ibis expression per source table computes all of them at once: the rows of
the most recent load for each key (a later release revises figures), joined to the selection,
summed per measure and force.

Each function returns one row per measure, force (and breakdown key): ``measure``,
``force_code``, ``key`` (the breakdown key, or NULL), ``value`` (NULL when nothing was
supplied), ``status`` ('supplied' or 'could not supply'), ``parts`` (how many quarters or rows
the value sums) and ``load_ids`` (lineage). The expressions do not depend on the catalogue, so
they are compiled once; they run on DuckDB by default and, being plain Ibis, on any backend
Ibis supports.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import sqlglot
from sqlglot import exp

from peelkit import reference
from peelkit.indicators.catalogue import Measure
from peelkit.indicators.periods import Period

TRACKED = "outcomes_for_offences_recorded_in_quarter"

#: The selection table of each source: one row per measure and selected member.
SELECTIONS: dict[str, pa.Schema] = {
    "recorded_crime": pa.schema(
        [
            ("measure", pa.int32()),
            ("offence_code", pa.string()),
            ("quarter_start", pa.date32()),
        ]
    ),
    "crime_outcomes": pa.schema(
        [
            ("measure", pa.int32()),
            ("outcome_type", pa.int32()),
            ("quarter_start", pa.date32()),
            ("keyed", pa.bool_()),
        ]
    ),
    "population": pa.schema(
        [
            ("measure", pa.int32()),
            ("year", pa.int32()),
            ("count_households", pa.bool_()),
        ]
    ),
    "data_returns": pa.schema(
        [
            ("measure", pa.int32()),
            ("item", pa.string()),
            ("period_start", pa.date32()),
            ("period_end", pa.date32()),
            ("keyed", pa.bool_()),
        ]
    ),
}


def selection_name(source: str) -> str:
    """The name a selection table has in the backend while the measures run."""
    return f"peelkit_selection_{source}"


@cache
def _offence_codes(
    category: tuple[str, ...],
    group: tuple[str, ...],
    subgroup: tuple[str, ...],
    codes: tuple[str, ...],
) -> tuple[str, ...]:
    chosen = []
    for o in reference.offences():
        if category and o.crime_category not in category:
            continue
        if group and o.group not in group:
            continue
        if subgroup and o.subgroup not in subgroup:
            continue
        if codes and o.code not in codes:
            continue
        chosen.append(o.code)
    return tuple(chosen)


def selection_rows(
    measure: int,
    m: Measure,
    period: Period,
    population_year: int,
    tracked: bool,
    keyed: bool = False,
) -> list[dict[str, Any]]:
    """The rows of ``m``'s source selection table that define measure number ``measure``."""
    if m.source == "recorded_crime":
        codes = _offence_codes(
            m.crime_category, m.offence_group, m.offence_subgroup, m.offence_code
        )
        return [
            {"measure": measure, "offence_code": c, "quarter_start": q}
            for c in codes
            for q in period.quarters()
        ]
    if m.source == "crime_outcomes":
        if not tracked:
            raise ValueError("the crime outcomes table holds tracked outcomes only here")
        types = m.outcome_types or tuple(o.number for o in reference.outcome_types())
        return [
            {"measure": measure, "outcome_type": t, "quarter_start": q, "keyed": keyed}
            for t in types
            for q in period.quarters()
        ]
    if m.source == "population":
        households = m.population_column == "households"
        return [{"measure": measure, "year": population_year, "count_households": households}]
    if m.source == "data_returns":
        return [
            {
                "measure": measure,
                "item": m.item,
                "period_start": period.start,
                "period_end": period.end,
                "keyed": keyed,
            }
        ]
    raise ValueError(f"no warehouse table holds {m.source!r} data yet")


def selection_placeholder(source: str) -> ir.Table:
    """The selection table of ``source`` by name, for expressions compiled to SQL before the
    table is registered (the SQL names it; the rows are supplied at run time)."""
    return ibis.table(ibis.Schema.from_pyarrow(SELECTIONS[source]), name=selection_name(source))


def selection_table(source: str, rows: Iterable[dict[str, Any]]) -> pa.Table:
    return pa.Table.from_pylist(list(rows), schema=SELECTIONS[source])


def _latest_release(t: ir.Table, selections: ir.Table) -> ir.Table:
    """The rows of the quarters the measures ask for, each force's quarter from the most
    recent load that holds it. A Home Office table publishes every offence of each force's
    quarter and each release revises earlier quarters, so a later release replaces a force's
    quarter as a whole (an offence it no longer lists is not kept from an older release)."""
    t = t.filter(
        t.quarter_start >= selections.quarter_start.min(),
        t.quarter_start <= selections.quarter_start.max(),
    )
    latest = t.group_by(["force_code", "quarter_start"]).aggregate(load_id=t.load_id.max())
    return t.semi_join(latest, ["force_code", "quarter_start", "load_id"])


def _by_measure(t: ir.Table, counted: str) -> ir.Table:
    """Sum ``counted`` per measure, force and key; count the quarters; name the loads."""
    t = t.group_by(["measure", "force_code", "key", "quarter_start", "load_id"]).aggregate(
        counted=t[counted].sum()
    )
    return t.group_by(["measure", "force_code", "key"]).aggregate(
        value=t.counted.sum().cast("float64"),
        status=ibis.literal("supplied"),
        parts=t.quarter_start.nunique(),
        load_ids=t.load_id.collect(distinct=True),
    )


def recorded_crime(backend: ibis.BaseBackend, selections: ir.Table) -> ir.Table:
    """Recorded crime per force over each measure's offences and 12-month window."""
    t = _latest_release(backend.table("recorded_crime"), selections)
    t = t.join(selections, ["offence_code", "quarter_start"])
    return _by_measure(t.mutate(key=ibis.null("string")), "offences")


def tracked_outcomes(backend: ibis.BaseBackend, selections: ir.Table) -> ir.Table:
    """Offences (excluding fraud) recorded in each window, by the outcome each has been
    assigned (Figure 4): per force, or per force and outcome type where the measure is keyed."""
    t = _latest_release(backend.table("crime_outcomes"), selections)
    classes = backend.table("offence_classification")
    t = t.semi_join(classes.filter(classes.crime_category != "fraud"), "offence_code")
    t = t.group_by(["force_code", "quarter_start", "outcome_type", "load_id"]).aggregate(
        outcomes=t[TRACKED].sum()
    )
    s = selections
    t = t.join(s, [t.outcome_type == s.outcome_type, t.quarter_start == s.quarter_start])
    t = t.mutate(key=ibis.ifelse(t.keyed, t.outcome_type.cast("string"), ibis.null("string")))
    return _by_measure(t, "outcomes")


def population(backend: ibis.BaseBackend, selections: ir.Table) -> ir.Table:
    """Population (or households) per force in each measure's mid-year estimate; the rows of
    one force and year are summed (City of London: resident and transient)."""
    t = backend.table("population")
    t = t.mutate(latest_load=t.load_id.max().over(group_by=["force_code", "year"]))
    t = t.filter(t.load_id == t.latest_load)
    s = selections
    t = t.join(s, t.year == s.year)
    t = t.mutate(
        key=ibis.null("string"),
        counted=ibis.ifelse(t.count_households, t.households, t.population),
    )
    return t.group_by(["measure", "force_code", "key"]).aggregate(
        value=t.counted.sum().cast("float64"),
        status=ibis.literal("supplied"),
        parts=t.counted.count(),
        load_ids=t.load_id.collect(distinct=True),
    )


def data_return(backend: ibis.BaseBackend, selections: ir.Table) -> ir.Table:
    """A force's return of each measure's item for its period (or 'as at' date); 'could not
    supply' when the force said so. Keyed measures keep the item's qualifiers apart."""
    t = backend.table("data_returns")
    window = ["force_code", "item", "period_start", "period_end"]
    t = t.mutate(latest_load=t.load_id.max().over(group_by=window))
    t = t.filter(t.load_id == t.latest_load)
    s = selections
    t = t.join(
        s,
        [
            t.item == s.item,
            t.period_end == s.period_end,
            t.period_start.identical_to(s.period_start),
        ],
    )
    t = t.mutate(key=ibis.ifelse(t.keyed, t.qualifier, ibis.null("string")))
    supplied = t.status == "supplied"
    return t.group_by(["measure", "force_code", "key"]).aggregate(
        value=t.value.sum(where=supplied),
        status=ibis.ifelse(supplied.any(), "supplied", "could not supply"),
        parts=t.value.count(),
        load_ids=t.load_id.collect(distinct=True),
    )


#: The expression that computes the measures of each source table (the costliest to run
#: first, so that the others are compiled while it runs).
BY_SOURCE = {
    "crime_outcomes": tracked_outcomes,
    "recorded_crime": recorded_crime,
    "data_returns": data_return,
    "population": population,
}


def by_force(
    backend: ibis.BaseBackend,
    m: Measure,
    period: Period,
    population_year: int,
    tracked: bool = False,
    keyed: bool = False,
) -> ir.Table:
    """One measure on its own, per force (and breakdown key): the expression of its source over
    a one-measure selection."""
    rows = selection_rows(0, m, period, population_year, tracked, keyed)
    selection = ibis.memtable(selection_table(m.source, rows))
    return BY_SOURCE[m.source](backend, selection).drop("measure")


def standalone_sql(
    backend: ibis.BaseBackend,
    m: Measure,
    period: Period,
    population_year: int,
    tracked: bool,
    keyed: bool = False,
    force_code: str | None = None,
) -> str:
    """The DuckDB SQL of one measure that runs on its own (``peelkit query``): the measure's
    selection rows are written into the query as a VALUES list."""
    rows = selection_rows(0, m, period, population_year, tracked, keyed)
    name = selection_name(m.source)
    expr = BY_SOURCE[m.source](backend, selection_placeholder(m.source))
    if force_code is not None:
        expr = expr.filter(expr.force_code == force_code)
    body = sqlglot.parse_one(
        str(ibis.to_sql(expr.drop("measure"), dialect="duckdb")), read="duckdb"
    )
    values = exp.values(
        [tuple(row.values()) for row in rows], alias=name, columns=SELECTIONS[m.source].names
    )
    query = exp.select("*").from_(exp.paren(body, copy=False).as_("measure_by_force"))
    return query.with_(name, as_=exp.select("*").from_(values)).sql(dialect="duckdb", pretty=True)
