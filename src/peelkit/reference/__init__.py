"""Reference data shipped with peelkit, as data files with their sources named.

The files live in ``reference/data/`` and are described, with their sources, in
``reference/data/SOURCES.md``. This module reads them once and offers typed look-ups; the
warehouse copies them into its reference tables so that SQL can join on them.
"""

from __future__ import annotations

import csv
import difflib
from dataclasses import dataclass
from functools import cache
from importlib import resources

from peelkit.errors import ReferenceDataError, UnknownForce

TERRITORIAL = "territorial"


@dataclass(frozen=True)
class Force:
    """A police force or other body that appears in police data."""

    code: str  # ONS PFA code for the 43 territorial forces; a short id for other bodies
    name: str  # usual name, e.g. "Metropolitan Police Service"
    ons_name: str | None  # PFA16NM, e.g. "Metropolitan Police"
    slug: str  # police.uk force id, e.g. "metropolitan"
    kind: str  # territorial | non-territorial force | fraud body | outside England and Wales
    country: str | None

    @property
    def territorial(self) -> bool:
        return self.kind == TERRITORIAL


@dataclass(frozen=True)
class OutcomeType:
    """A Home Office crime outcome type (0 is the pseudo-type 'not yet assigned')."""

    number: int
    description: str
    figure_4_group: str
    figure_4_order: int | None
    introduced: str


@dataclass(frozen=True)
class Offence:
    """One code of the Home Office offence classification."""

    code: str
    description: str
    group: str
    subgroup: str
    crime_category: str  # victim-based | other crimes against society | fraud


@dataclass(frozen=True)
class DataReturnItem:
    """An item of the inspectorate's force data return."""

    item: str
    description: str
    unit: str
    period_kind: str  # "12 months" or "as at"


def _rows(name: str) -> list[dict[str, str]]:
    text = resources.files("peelkit.reference").joinpath("data", name).read_text("utf-8")
    return list(csv.DictReader(text.splitlines()))


@cache
def forces() -> tuple[Force, ...]:
    """Every force and body, territorial forces first in ONS code order."""
    return tuple(
        Force(
            code=r["code"],
            name=r["name"],
            ons_name=r["ons_name"] or None,
            slug=r["slug"],
            kind=r["kind"],
            country=r["country"] or None,
        )
        for r in _rows("forces.csv")
    )


@cache
def territorial_forces() -> tuple[Force, ...]:
    return tuple(f for f in forces() if f.territorial)


@cache
def regions() -> dict[str, str]:
    """The region of each territorial force (an English region or Wales), by force code."""
    return {row["code"]: row["region"] for row in _rows("force_regions.csv")}


def region_of(code: str) -> str | None:
    """The region of a territorial force; None for other bodies."""
    return regions().get(code)


@cache
def force_by_code() -> dict[str, Force]:
    return {f.code: f for f in forces()}


@cache
def force_by_slug() -> dict[str, Force]:
    return {f.slug: f for f in forces()}


@cache
def force_aliases() -> dict[str, str]:
    """Every name a force goes by in the sources, mapped to its code."""
    aliases: dict[str, str] = {}
    known = force_by_code()
    for r in _rows("force_aliases.csv"):
        if r["code"] not in known:
            raise ReferenceDataError(f"force_aliases.csv names unknown force code {r['code']!r}")
        if aliases.setdefault(r["alias"], r["code"]) != r["code"]:
            raise ReferenceDataError(f"force_aliases.csv gives {r['alias']!r} two codes")
    return aliases


@cache
def force_alias_rows() -> tuple[tuple[str, str, str], ...]:
    return tuple((r["alias"], r["code"], r["seen_in"]) for r in _rows("force_aliases.csv"))


@cache
def _any_name() -> dict[str, str]:
    by_code = {f.code: f.code for f in forces()} | {f.slug: f.code for f in forces()}
    return by_code | force_aliases()


def force_code_of(name: str) -> str | None:
    """The code of the force ``name`` is a code, police.uk id or known spelling of, or None."""
    return _any_name().get(name)


def force_named(name: str, typed_as: str) -> str:
    """The code of the force ``name`` names (an ONS code, a police.uk id or any spelling of its
    name); UnknownForce, with the closest known names, when it names none. ``typed_as`` is the
    argument as the user typed it ("--force", "force")."""
    code = force_code_of(name)
    if code is not None:
        return code
    closest = closest_force_names(name)
    raise UnknownForce(
        f"{typed_as} {name!r} is not a known force. Closest known names: {', '.join(closest)}. "
        "Give an ONS code (E23000001), a police.uk id (metropolitan) or a force name.",
        path=typed_as,
        name=name,
        line=None,
        closest=closest,
    )


def closest_force_names(name: str, n: int = 5) -> list[str]:
    """The known force names that look most like ``name`` (for error messages)."""
    names = list(force_aliases())
    folded = {a.casefold(): a for a in names}
    matches = difflib.get_close_matches(name.casefold(), list(folded), n=n, cutoff=0.5)
    if not matches:
        matches = difflib.get_close_matches(name.casefold(), list(folded), n=n, cutoff=0.0)
    return [folded[m] for m in matches]


@cache
def outcome_types() -> tuple[OutcomeType, ...]:
    return tuple(
        OutcomeType(
            number=int(r["outcome_type"]),
            description=r["outcome_description"],
            figure_4_group=r["figure_4_group"],
            figure_4_order=int(r["figure_4_order"]) if r["figure_4_order"] else None,
            introduced=r["introduced"],
        )
        for r in _rows("outcome_types.csv")
    )


@cache
def offences() -> tuple[Offence, ...]:
    return tuple(
        Offence(
            code=r["offence_code"],
            description=r["offence_description"],
            group=r["offence_group"],
            subgroup=r["offence_subgroup"],
            crime_category=r["crime_category"],
        )
        for r in _rows("offence_classification.csv")
    )


@cache
def data_return_items() -> tuple[DataReturnItem, ...]:
    return tuple(
        DataReturnItem(
            item=r["item"],
            description=r["description"],
            unit=r["unit"],
            period_kind=r["period_kind"],
        )
        for r in _rows("data_return_items.csv")
    )


@dataclass(frozen=True)
class PopulationAdjustment:
    """A population added to a force's residents (the City of London's transient population)."""

    force_code: str
    basis: str
    population: int
    first_year: int
    last_year: int
    source: str


@cache
def population_adjustments() -> tuple[PopulationAdjustment, ...]:
    return tuple(
        PopulationAdjustment(
            r["force_code"],
            r["basis"],
            int(r["population"]),
            int(r["first_year"]),
            int(r["last_year"]),
            r["source"],
        )
        for r in _rows("population_adjustments.csv")
    )


def sql_enum(values: list[str] | tuple[str, ...]) -> str:
    """A DuckDB ENUM type literal over ``values`` (used to validate vocabularies while reading)."""
    quoted = ", ".join("'" + v.replace("'", "''") + "'" for v in sorted(set(values)))
    return f"ENUM({quoted})"
