"""The indicator catalogue: ``catalogue.toml`` read and validated into typed definitions.

Every indicator a PEEL 2016 effectiveness report shows is one entry of data — its title,
numerator and denominator, unit, period, source tables, polarity, England-and-Wales method,
exclusions with their annex wording, display precision and caveats. The CLI, the methods annex
and the computation all read these definitions; none is written out again in code.
"""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from typing import Literal

from pydantic import Field, ValidationError, field_validator

from peelkit import reference
from peelkit.declared import Declared
from peelkit.errors import ReferenceDataError
from peelkit.indicators.periods import WindowRule
from peelkit.stats import Polarity

CATALOGUE_FILE = "catalogue.toml"

Source = Literal["recorded_crime", "crime_outcomes", "population", "data_returns"]
Calculation = Literal[
    "rate", "proportion", "change", "tracked outcome share", "untracked outcome rate"
]
CRIME_CATEGORIES = {"victim-based", "other crimes against society", "fraud"}


class Measure(Declared):
    """A numerator or denominator: what is counted, from which table, with which selection."""

    definition: str = Field(min_length=3)
    source: Source
    item: str | None = None
    crime_category: tuple[str, ...] = ()
    offence_group: tuple[str, ...] = ()
    offence_subgroup: tuple[str, ...] = ()
    offence_code: tuple[str, ...] = ()
    outcome_types: tuple[int, ...] = ()
    population_column: Literal["population", "households"] = "population"

    @field_validator("item")
    @classmethod
    def _known_item(cls, item: str | None) -> str | None:
        known = {i.item for i in reference.data_return_items()}
        if item is not None and item not in known:
            raise ValueError(f"{item!r} is not a data return item ({', '.join(sorted(known))})")
        return item

    @field_validator("crime_category")
    @classmethod
    def _known_category(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        unknown = set(values) - CRIME_CATEGORIES
        if unknown:
            raise ValueError(f"unknown crime categories {sorted(unknown)}")
        return values

    @field_validator("offence_code")
    @classmethod
    def _known_codes(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        unknown = set(values) - {o.code for o in reference.offences()}
        if unknown:
            raise ValueError(f"offence codes not in the classification: {sorted(unknown)}")
        return values

    @field_validator("outcome_types")
    @classmethod
    def _known_outcomes(cls, values: tuple[int, ...]) -> tuple[int, ...]:
        unknown = set(values) - {o.number for o in reference.outcome_types()}
        if unknown:
            raise ValueError(f"outcome types not in the Home Office framework: {sorted(unknown)}")
        return values


def _known_force(code: str) -> str:
    if code not in reference.force_by_code():
        raise ValueError(
            f"{code!r} is not a force code; closest: "
            + ", ".join(reference.closest_force_names(code))
        )
    return code


class Exclusion(Declared):
    """A force left out of the chart and the England-and-Wales figure, and why."""

    force: str
    reason: str = Field(min_length=3)
    annex: str = Field(min_length=10)

    _force = field_validator("force")(_known_force)


class PartialPeriod(Declared):
    """A force whose figure covers less than the period (kept, with a note)."""

    force: str
    reason: str = Field(min_length=3)

    _force = field_validator("force")(_known_force)


class ForceNote(Declared):
    """Something a reader must know about one force's figure, which is still used (e.g. a
    force in the out-of-court disposals pilot, or a corrected resubmission)."""

    force: str
    note: str = Field(min_length=3)

    _force = field_validator("force")(_known_force)


class Combined(Declared):
    """Forces that reported one figure together (the rate uses their combined denominator)."""

    forces: tuple[str, ...] = Field(min_length=2)
    reason: str = Field(min_length=3)
    annex: str = Field(min_length=10)
    # "summed": each force has its own denominator (population), added up; "reported
    # together": the denominator comes with the joint figure (the group's total of OCGs)
    denominator: Literal["summed", "reported together"] = "summed"

    @field_validator("forces")
    @classmethod
    def _known(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_known_force(v) for v in values)


class Indicator(Declared):
    id: str = Field(pattern=r"^(FIN|FIG|TXT)-[0-9A-Za-z]+$")
    title: str = Field(min_length=3)
    appears_in: tuple[str, ...] = Field(min_length=1)
    numerator: Measure
    denominator: Measure
    unit: str
    multiplier: int = Field(gt=0)
    calculation: Calculation
    period: str = Field(min_length=3)
    window: WindowRule
    change_years: int | None = Field(default=None, ge=1)
    series_years: int | None = Field(default=None, ge=2)
    polarity: Polarity
    decimals: int = Field(ge=0, le=2)
    england_and_wales: Literal["pooled ratio", "unweighted mean of force rates"] = "pooled ratio"
    breakdown: str | None = None
    rank_rule: bool = False
    exclusions: tuple[Exclusion, ...] = ()
    partial_periods: tuple[PartialPeriod, ...] = ()
    combined: tuple[Combined, ...] = ()
    force_notes: tuple[ForceNote, ...] = ()
    caveats: tuple[str, ...] = ()
    annex: str = Field(min_length=20)

    @property
    def excluded_forces(self) -> tuple[str, ...]:
        return tuple(e.force for e in self.exclusions)


class Defaults(Declared):
    england_and_wales: Literal["pooled ratio", "unweighted mean of force rates"]
    excluded_everywhere: tuple[str, ...]
    # a force's figure whose inputs had rows rejected or a file damaged (indicators/incomplete.py)
    incomplete_inputs: Literal["withhold", "show with caveat"]


class Catalogue(Declared):
    defaults: Defaults
    indicator: tuple[Indicator, ...]

    def get(self, indicator_id: str) -> Indicator:
        for entry in self.indicator:
            if entry.id == indicator_id:
                return entry
        raise KeyError(f"{indicator_id!r} is not in the catalogue")


def _where(error: dict[str, object], data: dict[str, object]) -> str:
    location = list(error.get("loc", ()))  # type: ignore[call-overload]
    if len(location) >= 2 and location[0] == "indicator" and isinstance(location[1], int):
        entries = data.get("indicator", [])
        if isinstance(entries, list) and location[1] < len(entries):
            entry = entries[location[1]]
            name = entry.get("id", f"#{location[1] + 1}") if isinstance(entry, dict) else "?"
            return f"indicator {name} → " + ".".join(str(p) for p in location[2:])
    return ".".join(str(p) for p in location)


def parse_catalogue(text: str, name: str = CATALOGUE_FILE) -> Catalogue:
    """Validate catalogue text; errors name the file, the indicator and the key."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ReferenceDataError(f"{name} is not valid TOML: {exc}") from exc
    try:
        catalogue = Catalogue.model_validate(data)
    except ValidationError as exc:
        problems = "\n".join(f"  {_where(dict(e), data)}: {e['msg']}" for e in exc.errors())
        raise ReferenceDataError(f"{name} has {exc.error_count()} problem(s):\n{problems}") from exc
    ids = [i.id for i in catalogue.indicator]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ReferenceDataError(f"{name} defines {', '.join(duplicates)} more than once")
    return catalogue


@cache
def catalogue() -> Catalogue:
    text = resources.files("peelkit.indicators").joinpath(CATALOGUE_FILE).read_text("utf-8")
    return parse_catalogue(text)
