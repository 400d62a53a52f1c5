"""The national demo dataset: every source the 2016 force reports draw on, for all 43 forces.

Everything here is synthetic — "Demo data — synthetic, not official statistics" — but every
file is written in its official (or peelkit's documented tidy) format and loaded through the
real readers. The data are built so that the engine gives back, at the report's displayed
precision, every figure the 2016 Metropolitan Police report states for the Met and for England
and Wales (``calibration.toml``); other forces get plausible values around them. The data gaps
of 2016 are in the data: forces that could not supply an item say so, Derbyshire and Suffolk
have three quarters of outcomes, Warwickshire and West Mercia report one organised crime group
count, Humberside has no predominant crime types.

Populations are approximations (``populations.csv``): official mid-2015 police force area
estimates are not available offline. Residents add up to the ONS England and Wales mid-2015
total, 57,885,413; the Met's 8,664,953 is Greater London's 8,673,713 less the City of London's
residents, which fits the report's 727 organised crime groups at 84 per million.

The same seed gives the same bytes.
"""

from __future__ import annotations

import csv
import io
import math
import random
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from peelkit import reference
from peelkit.demo.allocate import apportion, transport
from peelkit.demo.sample import (
    LABEL,
    OUTCOMES_TABLE_HEADER,
    PRC_HEADER,
    SampleSpec,
    ho_count,
    prc_name,
    write_police_uk,
)
from peelkit.indicators.catalogue import catalogue
from peelkit.readers.tidy import DataReturns, PopulationWithBasis

MET = "E23000001"
CITY = "E23000034"
CITY_TRANSIENT = 344_000  # approximation: daytime workers and visitors, as HMIC counts them
FIRST_YEAR, LAST_YEAR = 2010, 2016  # financial years 2010/11 to 2016/17
OUTCOMES_FROM = 2014  # the outcomes framework began in April 2014
CYCLE = 2016
STREET_ROWS_PER_SCALE = 5_000_000  # police.uk street rows in a year, nationally, at scale 1

# Forces named by the 2016 data rules (methodology.md §2.10).
DORSET, NOTTS, DERBYSHIRE, SUFFOLK = "E23000039", "E23000019", "E23000018", "E23000025"
DURHAM, GLOUCESTERSHIRE, HUMBERSIDE = "E23000008", "E23000037", "E23000012"
WARWICKSHIRE, WEST_MERCIA = "E23000017", "E23000016"
NO_VULNERABILITY_DATA = (CITY, "E23000035", "E23000028", GLOUCESTERSHIRE, "E23000003")
NO_DA_ARREST_DATA = (DERBYSHIRE, DURHAM, GLOUCESTERSHIRE)
THREE_QUARTERS_OF_OUTCOMES = (DERBYSHIRE, SUFFOLK)

OCG_TYPES = {  # predominant crime type: national share (drug activity the most common)
    "drug activity": 0.52,
    "organised acquisitive crime": 0.14,
    "fraud": 0.08,
    "violence": 0.06,
    "money laundering": 0.05,
    "firearms": 0.04,
    "modern slavery and human trafficking": 0.04,
    "child sexual exploitation": 0.02,
    "other": 0.05,
}
DA_OUTCOME_TYPES = ("1", "2", "3", "8", "15", "16")
SEASON = (0.262, 0.246, 0.236, 0.256)  # Jul-Sep, Oct-Dec, Jan-Mar, Apr-Jun


@dataclass(frozen=True)
class DemoSpec:
    """What to write. ``scale`` sizes the optional police.uk files (1.0: about 5 million street
    rows, a year of national volume); the Home Office and tidy tables are always national."""

    seed: int = 2016
    police_uk: bool = False
    scale: float = 1.0


@dataclass(frozen=True)
class Planted:
    indicator: str
    row: str
    who: str
    stated: str | None
    planted: float | None
    rank: str | None
    note: str | None


@cache
def calibration() -> tuple[Planted, ...]:
    """The figures the demo is built to reproduce (``calibration.toml``)."""
    text = resources.files("peelkit.demo").joinpath("calibration.toml").read_text("utf-8")
    return tuple(
        Planted(
            indicator=v["indicator"],
            row=v.get("row", ""),
            who=v["who"],
            stated=v.get("stated"),
            planted=v.get("planted"),
            rank=v.get("rank"),
            note=v.get("note"),
        )
        for v in tomllib.loads(text)["value"]
    )


def planted(indicator: str, who: str, row: str = "") -> float:
    for v in calibration():
        if (v.indicator, v.who, v.row) == (indicator, who, row) and v.planted is not None:
            return v.planted
    raise KeyError(f"no planted value for {indicator} {row!r} ({who})")


@cache
def populations() -> dict[str, tuple[int, int]]:
    """Approximate mid-2015 residents and households per force (``populations.csv``)."""
    text = resources.files("peelkit.demo").joinpath("populations.csv").read_text("utf-8")
    rows = csv.DictReader(io.StringIO(text))
    return {r["code"]: (int(r["population_mid_2015"]), int(r["households_mid_2015"])) for r in rows}


# -- calibration helpers ----------------------------------------------------------------------


def calibrate(
    denominators: Mapping[str, float],
    included: Iterable[str],
    met: float | None,
    england_and_wales: float,
    multiplier: float,
    factor: Callable[[str], float],
    fixed: dict[str, float] | None = None,
    met_count: int | None = None,
) -> dict[str, int]:
    """Counts over ``denominators`` such that the Met's rate is ``met`` (or its count
    ``met_count``), forces in ``fixed`` have their given rates, and the pooled rate of the
    ``included`` forces is ``england_and_wales``; the other forces share what is left in
    proportion to their denominator times ``factor(force)``. Forces not included get a rate
    of ``england_and_wales`` times their factor."""
    included = [f for f in denominators if f in set(included)]
    fixed = dict(fixed or {})
    counts: dict[str, int] = {}
    if met_count is not None:
        counts[MET] = met_count
    elif met is not None:
        fixed[MET] = met
    for force, value in fixed.items():
        counts[force] = round(value * denominators[force] / multiplier)
    need = round(england_and_wales * sum(denominators[f] for f in included) / multiplier)
    free = [f for f in included if f not in counts]
    left = need - sum(counts[f] for f in included if f in counts)
    if left < 0:
        raise ValueError("the fixed forces already exceed the England and Wales total")
    for force, part in zip(
        free, apportion(left, [denominators[f] * factor(f) for f in free]), strict=True
    ):
        counts[force] = part
    for force in denominators:
        if force not in counts:
            counts[force] = round(
                england_and_wales * factor(force) * denominators[force] / multiplier
            )
    return counts


def calibrated(
    indicator: str,
    denominators: Mapping[str, float],
    included: Iterable[str],
    factor: Callable[[str], float],
    row: str = "",
    **extra: Any,
) -> dict[str, int]:
    """:func:`calibrate` to an indicator's planted Met and England-and-Wales values, with the
    catalogue's multiplier (without a Met value when its count is given: ``met_count``)."""
    met = None if "met_count" in extra else planted(indicator, "met", row)
    multiplier = catalogue().get(indicator).multiplier
    ew = planted(indicator, "ew", row)
    return calibrate(denominators, included, met, ew, multiplier, factor, **extra)


def calibrate_change(
    later: Mapping[str, int],
    included: Iterable[str],
    met_change: float,
    england_and_wales_change: float,
    change: Callable[[str], float],
) -> dict[str, int]:
    """Earlier-period counts such that the Met's percentage change from them to ``later`` is
    ``met_change`` and the pooled change of the ``included`` forces ``england_and_wales_change``;
    the others' changes are about ``change(force)`` (all scaled by one factor to fit)."""
    included = [f for f in later if f in set(included)]
    earlier = {MET: round(later[MET] / (1 + met_change / 100))}
    need = round(sum(later[f] for f in included) / (1 + england_and_wales_change / 100))
    free = [f for f in included if f != MET]
    weights = [later[f] / (1 + change(f) / 100) for f in free]
    for force, part in zip(free, apportion(need - earlier[MET], weights), strict=True):
        earlier[force] = part
    for force in later:
        if force not in earlier:
            earlier[force] = round(later[force] / (1 + change(force) / 100))
    return earlier


# -- the generator ----------------------------------------------------------------------------


@dataclass
class _Nation:
    """Every count the files are written from, built once from the seed."""

    rng: random.Random
    forces: list[str]
    population: dict[int, dict[str, int]] = field(default_factory=dict)  # year -> force -> n
    households: dict[int, dict[str, int]] = field(default_factory=dict)
    # YE-June year -> force -> component -> count (S, A, B, Vr victim-based; O other)
    crime: dict[int, dict[str, dict[str, int]]] = field(default_factory=dict)
    returns: list[tuple[str, str, str, object, str, str]] = field(default_factory=list)
    # (force, financial year, quarter) -> offence code -> recorded offences
    by_code: dict[tuple[str, int, int], dict[str, int]] = field(default_factory=dict)

    def lognormal(self, sigma: float) -> Callable[[str], float]:
        draws = {f: self.rng.lognormvariate(0.0, sigma) for f in self.forces}
        return lambda force: draws[force]

    def uniform(self, low: float, high: float) -> Callable[[str], float]:
        draws = {f: self.rng.uniform(low, high) for f in self.forces}
        return lambda force: draws[force]


def write_demo(folder: Path, spec: DemoSpec = DemoSpec()) -> list[Path]:
    """Write the demo dataset under ``folder``; returns the files written, in order."""
    folder.mkdir(parents=True, exist_ok=True)
    nation = _Nation(random.Random(spec.seed), [f.code for f in reference.territorial_forces()])
    _build_population(nation)
    _build_recorded_crime(nation)
    nation.by_code = _by_code(nation, spec.seed)
    written = [_write_readme(folder, spec)]
    office = folder / "home-office"
    office.mkdir(exist_ok=True)
    written.append(_write_prc(office, nation))
    written.append(_write_outcomes(office, nation))
    tidy = folder / "peelkit"
    tidy.mkdir(exist_ok=True)
    written.append(_write_population(tidy, nation))
    _build_returns(nation)
    written.append(_write_returns(tidy, nation))
    if spec.police_uk:
        sample = SampleSpec(
            street_rows=round(STREET_ROWS_PER_SCALE * spec.scale),
            months=12,
            first_month=date(CYCLE - 1, 7, 1),
            seed=spec.seed,
            home_office=False,
            tidy=False,
        )
        written += write_police_uk(folder / "police-uk", sample, nation.rng)
    return written


def _write_readme(folder: Path, spec: DemoSpec) -> Path:
    path = folder / "README.txt"
    path.write_text(
        f"{LABEL}.\n\n"
        f"Written by peelkit (peelkit.demo, seed {spec.seed}) in the official file formats so "
        "that the real readers load them. No figure in these files is real. They are built so "
        "that peelkit's indicators reproduce the figures the 2016 PEEL effectiveness report on "
        "the Metropolitan Police states for the Met and for England and Wales; every other "
        "force's figures are invented. Populations are approximations.\n",
        encoding="utf-8",
    )
    return path


# -- population ---------------------------------------------------------------------------------


def _build_population(nation: _Nation) -> None:
    for year in range(FIRST_YEAR, LAST_YEAR + 1):
        people, homes = {}, {}
        for force in nation.forces:
            residents, households = populations()[force]
            growth = 1.012 if force == MET else 1.0075
            people[force] = round(residents * growth ** (year - 2015))
            homes[force] = round(households * 1.008 ** (year - 2015))
        nation.population[year] = people
        nation.households[year] = homes


def _rate_population(nation: _Nation, year: int = 2015) -> dict[str, int]:
    """The population rates are per: residents, and for the City also its transient population."""
    people = dict(nation.population[year])
    people[CITY] += CITY_TRANSIENT
    return people


def _write_population(root: Path, nation: _Nation) -> Path:
    out = io.StringIO()
    rows = csv.writer(out, lineterminator="\n")
    rows.writerow(PopulationWithBasis().header)
    for year in range(FIRST_YEAR, LAST_YEAR + 1):
        for force in nation.forces:
            people = nation.population[year][force]
            basis = "resident"
            if force == CITY:
                people += CITY_TRANSIENT
                basis = "resident and transient"
            source = f"{LABEL}; approximate mid-{year} estimate"
            rows.writerow([force, year, people, nation.households[year][force], source, basis])
    path = root / "population-mid-2010-to-2016-synthetic.csv"
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


# -- recorded crime -----------------------------------------------------------------------------


def _component(offence: reference.Offence) -> str:
    if offence.crime_category == "fraud":
        return "fraud"
    if offence.crime_category == "other crimes against society":
        return "O"
    if offence.group == "Sexual offences":
        return "S"
    if offence.code in ("8N", "8P", "8S"):
        return "A"
    if offence.subgroup == "Domestic burglary":
        return "B"
    return "Vr"


def _build_recorded_crime(nation: _Nation) -> None:
    forces, rng = nation.forces, nation.rng
    people = _rate_population(nation)
    homes = nation.households[2015]
    p = planted
    total = calibrated("FIN-2", people, forces, nation.lognormal(0.22))
    victim = calibrate(
        {f: float(total[f]) for f in forces},
        forces,
        100 * p("FIG-2a", "met") / p("FIN-2", "met"),
        100 * p("FIG-2a", "ew") / p("FIN-2", "ew"),
        100,
        nation.lognormal(0.025),
    )
    sexual = calibrated("FIG-2b", people, forces, nation.lognormal(0.15))
    assault = calibrated("FIG-2c", people, forces, nation.lognormal(0.2))
    burglary = calibrated("FIG-2d", homes, forces, nation.lognormal(0.3))

    # One year earlier: 39 of the 43 forces recorded more crime (the Met +3.3%).
    falling = set(rng.sample([f for f in forces if f != MET], 4))
    rise = {
        f: (rng.uniform(-7.0, -2.5) if f in falling else rng.uniform(3.0, 17.0)) for f in forces
    }
    total15 = calibrate_change(total, forces, p("FIN-3", "met"), p("FIN-3", "ew"), rise.__getitem__)
    # Five years earlier (12 months to June 2011): total and victim-based crime.
    five = {f: rng.uniform(-16.0, 9.0) for f in forces}
    total11 = calibrate_change(total, forces, p("FIN-4", "met"), p("FIN-4", "ew"), five.__getitem__)
    victim_five = {f: five[f] + rng.uniform(1.5, 4.5) for f in forces}
    victim11 = calibrate_change(
        victim, forces, p("TXT-VB5", "met"), p("TXT-VB5", "ew"), victim_five.__getitem__
    )

    def split(t: int, v: int, force: str, shares: dict[str, float]) -> dict[str, int]:
        if not 0 < v < t:
            raise ValueError(f"{force}: victim-based crime {v} is not within all crime {t}")
        parts = dict(
            zip(
                ("S", "A", "B", "Vr"),
                apportion(v, [shares[k] for k in ("S", "A", "B", "Vr")]),
                strict=True,
            )
        )
        return {**parts, "O": t - v}

    for force in forces:
        rest = victim[force] - sexual[force] - assault[force] - burglary[force]
        if rest <= 0:
            raise ValueError(f"{force}: sexual, assault and burglary exceed victim-based crime")
        now = {"S": sexual[force], "A": assault[force], "B": burglary[force], "Vr": rest}
        shares = {k: v / victim[force] for k, v in now.items()}
        nation.crime.setdefault(2016, {})[force] = {**now, "O": total[force] - victim[force]}
        victim15 = round(total15[force] * victim[force] / total[force])
        nation.crime.setdefault(2015, {})[force] = split(total15[force], victim15, force, shares)
        nation.crime.setdefault(2011, {})[force] = split(
            total11[force], victim11[force], force, shares
        )
        for year in (2012, 2013, 2014):  # the dip and rise of the years between
            t = (year - 2011) / 4
            dip = 1 - 0.05 * math.sin(math.pi * t)
            all_crime = round(total11[force] ** (1 - t) * total15[force] ** t * dip)
            vb = round(victim11[force] ** (1 - t) * victim15**t * dip)
            nation.crime.setdefault(year, {})[force] = split(all_crime, vb, force, shares)
        nation.crime.setdefault(2010, {})[force] = split(
            round(total11[force] * 1.04), round(victim11[force] * 1.03), force, shares
        )
        nation.crime.setdefault(2017, {})[force] = split(
            round(total[force] * 1.06), round(victim[force] * 1.05), force, shares
        )


def _quarters() -> list[tuple[int, int]]:
    """(financial year's first calendar year, quarter) from 2010/11 Q1 to 2016/17 Q4."""
    return [(y, q) for y in range(FIRST_YEAR, LAST_YEAR + 1) for q in (1, 2, 3, 4)]


def _june_year(fy: int, quarter: int) -> int:
    """The 12 months to 30 June that a financial quarter belongs to (Q1 = April to June)."""
    return fy if quarter == 1 else fy + 1


def _season(quarter: int) -> int:
    return {2: 0, 3: 1, 4: 2, 1: 3}[quarter]


def _fy_label(fy: int) -> str:
    return f"{fy}/{(fy + 1) % 100:02d}"


@cache
def _code_weights(seed: int) -> dict[str, float]:
    rng = random.Random(seed * 7919)
    return {o.code: rng.lognormvariate(0.0, 1.1) for o in reference.offences()}


def _by_code(nation: _Nation, seed: int) -> dict[tuple[str, int, int], dict[str, int]]:
    """(force, financial year, quarter) -> offence code -> recorded offences."""
    weights = _code_weights(seed)
    components: dict[str, list[str]] = {}
    for o in reference.offences():
        components.setdefault(_component(o), []).append(o.code)
    out: dict[tuple[str, int, int], dict[str, int]] = {}
    for force in nation.forces:
        per_year: dict[int, dict[str, list[int]]] = {}
        for year, by_force in nation.crime.items():
            per_year[year] = {k: apportion(n, SEASON) for k, n in by_force[force].items()}
        for fy, quarter in _quarters():
            year = _june_year(fy, quarter)
            counts: dict[str, int] = {}
            for component, codes in components.items():
                if component == "fraud":
                    continue
                n = per_year[year][component][_season(quarter)]
                for code, part in zip(
                    codes, apportion(n, [weights[c] for c in codes]), strict=True
                ):
                    counts[code] = part
            out[(force, fy, quarter)] = counts
    return out


def _write_prc(root: Path, nation: _Nation) -> Path:
    nation_counts = nation.by_code
    offences = reference.offences()
    bodies = [f for f in reference.forces() if f.kind in ("non-territorial force", "fraud body")]
    others = random.Random(31)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    out.write(PRC_HEADER + "\n")
    names = reference.force_by_code()
    for fy, quarter in _quarters():
        for force in nation.forces:
            counts = nation_counts[(force, fy, quarter)]
            for o in offences:
                if o.crime_category == "fraud":
                    continue
                key = [
                    _fy_label(fy),
                    quarter,
                    prc_name(names[force]),
                    o.description,
                    o.group,
                    o.subgroup,
                    o.code,
                ]
                writer.writerow([*key, ho_count(counts[o.code])])
        for body in bodies:
            fraud_body = body.kind == "fraud body"
            for o in offences:
                if (o.crime_category == "fraud") != fraud_body:
                    continue
                scale = 30_000 if fraud_body else 60
                count = int(others.expovariate(1.0) * scale)
                key = [
                    _fy_label(fy),
                    quarter,
                    prc_name(body),
                    o.description,
                    o.group,
                    o.subgroup,
                    o.code,
                ]
                writer.writerow([*key, ho_count(count)])
    path = root / "prc-pfa-2010-11-to-2016-17-synthetic.csv"
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


# -- crime outcomes -----------------------------------------------------------------------------


def _outcome_numbers() -> list[int]:
    return [o.number for o in reference.outcome_types()]


def _window() -> list[tuple[int, int]]:
    """The quarters of the 12 months to 30 June 2016."""
    return [(CYCLE - 1, 2), (CYCLE - 1, 3), (CYCLE - 1, 4), (CYCLE, 1)]


def _has_outcomes(force: str, fy: int, quarter: int) -> bool:
    """Derbyshire and Suffolk supplied the first three quarters of the year only."""
    return not (force in THREE_QUARTERS_OF_OUTCOMES and (fy, quarter) >= (CYCLE, 1))


def _window_outcomes(nation: _Nation, recorded: dict[str, int]) -> dict[str, list[int]]:
    """Per force, the offences recorded in the window by the outcome type each was assigned:
    the Met's and England and Wales's shares are the report's (``calibration.toml``)."""
    types = _outcome_numbers()
    rng = nation.rng

    def shares(who: str) -> list[float]:
        values = []
        for k in types:
            try:
                values.append(planted("FIG-4", who, str(k)) / 100)
            except KeyError:
                values.append(0.0)
        values[types.index(0)] = 1 - sum(values)
        return values

    met_shares, ew_shares = shares("met"), shares("ew")
    counted = [f for f in nation.forces if f != DORSET]
    out: dict[str, list[int]] = {}
    met_counts = [round(s * recorded[MET]) for s in met_shares]
    met_counts[types.index(0)] = recorded[MET] - (sum(met_counts) - met_counts[types.index(0)])
    out[MET] = met_counts
    everyone = sum(recorded[f] for f in counted)
    others = [f for f in counted if f != MET]
    need = [round(s * everyone) - m for s, m in zip(ew_shares, met_counts, strict=True)]
    rest = sum(recorded[f] for f in others)
    need[types.index(0)] = rest - (sum(need) - need[types.index(0)])
    base = [n / rest for n in need]
    # Forces differ from England and Wales along a few directions that change no total.
    ideal = [[recorded[f] * b for b in base] for f in others]
    for _ in range(3):
        w = [rng.uniform(-1, 1) if b > 0 else 0.0 for b in base]
        mean = sum(b * x for b, x in zip(base, w, strict=True))
        w = [x - mean if b > 0 else 0.0 for b, x in zip(base, w, strict=True)]
        a = {f: rng.uniform(-0.12, 0.12) for f in others}
        centre = sum(recorded[f] * a[f] for f in others) / rest
        for i, f in enumerate(others):
            shift = a[f] - centre
            for k, b in enumerate(base):
                ideal[i][k] += recorded[f] * b * shift * w[k]
    if min(min(line) for line in ideal) < 0:
        raise ValueError("a force's outcome share came out negative")
    table = transport([recorded[f] for f in others], need, ideal)
    for f, line in zip(others, table, strict=True):
        out[f] = line
    noisy = [s * rng.uniform(0.8, 1.2) for s in ew_shares]
    out[DORSET] = apportion(recorded[DORSET], noisy)
    return out


def _write_outcomes(root: Path, nation: _Nation) -> Path:
    by_code = nation.by_code
    types = _outcome_numbers()
    outcomes = {o.number: o for o in reference.outcome_types()}
    offences = [o for o in reference.offences() if o.crime_category != "fraud"]
    names = reference.force_by_code()
    window = _window()
    recorded = {
        f: sum(sum(by_code[(f, fy, q)].values()) for fy, q in window if _has_outcomes(f, fy, q))
        for f in nation.forces
    }
    assigned = _window_outcomes(nation, recorded)
    noise = random.Random(47)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    out.write(OUTCOMES_TABLE_HEADER + "\n")
    for fy, quarter in [q for q in _quarters() if q[0] >= OUTCOMES_FROM]:
        for force in nation.forces:
            if not _has_outcomes(force, fy, quarter):
                continue
            counts = by_code[(force, fy, quarter)]
            cells = [counts[o.code] for o in offences]
            if (fy, quarter) in window:
                # this quarter's share of the force's window counts, type by type
                quarters = [q for q in window if _has_outcomes(force, *q)]
                sizes = [sum(by_code[(force, *q)].values()) for q in quarters]
                by_quarter = transport(sizes, assigned[force])
                per_type = by_quarter[quarters.index((fy, quarter))]
            else:
                shares = [n / max(1, recorded[force]) for n in assigned[force]]
                unassigned = shares[types.index(0)]
                older = (fy, quarter) < window[0]
                moved = unassigned * (0.7 if older else -1.5)
                shares[types.index(0)] -= moved
                shares[types.index(18)] += moved
                per_type = apportion(sum(cells), [max(0.0, s) for s in shares])
            table = transport(cells, per_type)
            for o, line in zip(offences, table, strict=True):
                for k, n in zip(types, line, strict=True):
                    untracked = 0 if k == 0 else round(n * noise.uniform(0.9, 1.1))
                    if n == 0 and untracked == 0:
                        continue
                    writer.writerow(
                        [
                            _fy_label(fy),
                            quarter,
                            prc_name(names[force]),
                            o.description,
                            o.group,
                            o.subgroup,
                            o.code,
                            outcomes[k].description,
                            outcomes[k].figure_4_group,
                            k,
                            ho_count(n),
                            "" if k == 0 else ho_count(untracked),
                        ]
                    )
    path = root / "prc-outcomes-2014-15-to-2016-17-synthetic.csv"
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


# -- force data returns and surveys ---------------------------------------------------------


YEAR_TO_JUNE = f"{CYCLE - 1}-07-01/{CYCLE}-06-30"
YEAR_BEFORE = f"{CYCLE - 2}-07-01/{CYCLE - 1}-06-30"
AS_AT = f"{CYCLE}-07-01"


def _build_returns(nation: _Nation) -> None:
    forces, rng, p = nation.forces, nation.rng, planted
    people = _rate_population(nation)
    total = {f: float(sum(nation.crime[2016][f].values())) for f in forces}
    add = nation.returns.append

    def put(
        item: str,
        period: str,
        counts: dict[str, int] | dict[str, float],
        unit: str,
        missing: Sequence[str] = (),
        absent: Sequence[str] = (),
        why: str = "",
    ) -> None:
        for force in forces:
            if force in absent:
                continue
            if force in missing:
                add((force, item, period, "could not supply", unit, f"{LABEL}; {why}"))
            else:
                add((force, item, period, counts[force], unit, LABEL))

    calls = calibrated("FIN-1", people, forces, nation.lognormal(0.18))
    put("calls_for_assistance", YEAR_TO_JUNE, calls, "calls")
    da_calls = calibrated("FIN-9", people, forces, nation.lognormal(0.25))
    put("domestic_abuse_calls", YEAR_TO_JUNE, da_calls, "calls")

    offences = calibrated("FIN-10", total, forces, nation.lognormal(0.2))
    put("domestic_abuse_offences", YEAR_TO_JUNE, offences, "offences")
    growth = nation.uniform(6.0, 42.0)
    earlier = calibrate_change(
        offences, forces, p("TXT-DAchg", "met"), p("TXT-DAchg", "ew"), growth
    )
    put("domestic_abuse_offences", YEAR_BEFORE, earlier, "offences")
    march = {f: round(earlier[f] * rng.uniform(0.9, 0.97)) for f in forces}
    put("domestic_abuse_offences", f"{CYCLE - 2}-04-01/{CYCLE - 1}-03-31", march, "offences")
    da = {f: float(offences[f]) for f in forces}

    arrests = calibrated(
        "FIG-7", da, [f for f in forces if f not in NO_DA_ARREST_DATA], nation.lognormal(0.2)
    )
    put(
        "domestic_abuse_arrests",
        YEAR_TO_JUNE,
        arrests,
        "arrests",
        missing=NO_DA_ARREST_DATA,
        why="no domestic abuse arrest data",
    )
    dvpo = calibrated("TXT-DVPO", da, forces, nation.lognormal(0.35), met_count=126)
    put("dvpo_applications", YEAR_TO_JUNE, dvpo, "applications")
    granted = {f: (120 if f == MET else round(dvpo[f] * rng.uniform(0.85, 0.98))) for f in forces}
    put("dvpo_granted", YEAR_TO_JUNE, granted, "orders")
    counted = [f for f in forces if f not in (DORSET, NOTTS)]
    for k in DA_OUTCOME_TYPES:
        sigma = 0.2 if k == "3" else 0.3
        outcomes = calibrated("FIG-8", da, counted, nation.lognormal(sigma), row=k)
        put(
            f"domestic_abuse_outcomes:{k}",
            YEAR_TO_JUNE,
            outcomes,
            "outcomes",
            missing=(DORSET,),
            why="unable to submit domestic abuse outcomes data",
        )

    # Figure 6: the report gives the range across forces, 3.9 to 44.4 percent; the rest are
    # spread evenly (on a log scale) between, so that the Met's 10.0 is broadly in line.
    supplying = [f for f in forces if f not in NO_VULNERABILITY_DATA and f != MET]
    lowest, highest = rng.sample(supplying, 2)
    free = [f for f in supplying if f not in (lowest, highest)]
    levels = [6.0 * (28.0 / 6.0) ** (i / (len(free) - 1)) for i in range(len(free))]
    rng.shuffle(levels)
    level = dict(zip(free, levels, strict=True))
    vulnerable = calibrated(
        "FIG-6",
        total,
        [f for f in forces if f not in NO_VULNERABILITY_DATA],
        lambda f: level.get(f, 14.3) / 14.3,
        fixed={lowest: 3.9, highest: 44.4},
    )
    put(
        "vulnerable_victim_crimes",
        YEAR_TO_JUNE,
        vulnerable,
        "crimes",
        missing=NO_VULNERABILITY_DATA,
        why="unable to provide vulnerable victim data",
    )

    control = {f: round(calls[f] * rng.uniform(0.85, 1.0)) for f in forces}
    put("control_room_incidents", YEAR_TO_JUNE, control, "incidents")
    mental = calibrated(
        "TXT-MH", {f: float(control[f]) for f in forces}, forces, nation.lognormal(0.3)
    )
    put("mental_health_incidents", YEAR_TO_JUNE, mental, "incidents")
    powers = calibrated("TXT-ASBP", people, forces, nation.lognormal(0.35))
    put("asb_power_uses", YEAR_TO_JUNE, powers, "uses")

    asb = calibrated("FIN-8", people, forces, nation.lognormal(0.25))
    put("asb_incidents", f"{CYCLE - 1}-04-01/{CYCLE}-03-31", asb, "incidents")
    asb_change = nation.uniform(-18.0, 4.0)
    asb_before = calibrate_change(asb, forces, p("FIG-3", "met"), p("FIG-3", "ew"), asb_change)
    put("asb_incidents", f"{CYCLE - 2}-04-01/{CYCLE - 1}-03-31", asb_before, "incidents")

    _build_ocgs(nation, people)
    _build_satisfaction(nation)


def _build_ocgs(nation: _Nation, people: dict[str, int]) -> None:
    """Active organised crime groups as at 1 July 2016: the Met's 727; Warwickshire and West
    Mercia as one count (reported under West Mercia); the City left out of England and Wales."""
    rng = nation.rng
    units = {f: float(people[f]) for f in nation.forces if f not in (WARWICKSHIRE,)}
    units[WEST_MERCIA] += people[WARWICKSHIRE]
    groups = calibrated(
        "FIN-11", units, [f for f in units if f != CITY], nation.lognormal(0.3), met_count=727
    )
    for force in nation.forces:
        if force == WARWICKSHIRE:
            continue  # reported with West Mercia
        note = LABEL + ("; Warwickshire and West Mercia combined" if force == WEST_MERCIA else "")
        nation.returns.append((force, "ocgs_active", AS_AT, groups[force], "groups", note))
        if force == HUMBERSIDE:
            continue  # could not provide predominant crime types in time
        weights = [share * rng.lognormvariate(0.0, 0.35) for share in OCG_TYPES.values()]
        weights[0] = max(weights[0], max(weights[1:]) * 1.3)  # drug activity most common
        for kind, n in zip(OCG_TYPES, apportion(groups[force], weights), strict=True):
            nation.returns.append(
                (force, f"ocgs_predominant_type:{kind}", AS_AT, n, "groups", LABEL)
            )


def _build_satisfaction(nation: _Nation) -> None:
    """Victim satisfaction (England and Wales: the unweighted mean of force rates) and HMIC's
    Ipsos MORI survey of public attitudes (weighted respondents, 331 to 429 a force)."""
    rng, forces = nation.rng, nation.forces
    respondents = {f: max(900, min(9000, round(populations()[f][0] / 900))) for f in forces}
    rates = {f: rng.gauss(84.5, 2.5) for f in forces}
    rates[MET] = planted("FIN-12", "met")
    others = [f for f in forces if f != MET]
    target = planted("FIN-12", "ew") * len(forces)
    shift = (target - sum(rates.values())) / len(others)
    for f in others:
        rates[f] += shift
    satisfied = {f: round(rates[f] * respondents[f] / 100) for f in forces}
    biggest = max(others, key=lambda f: respondents[f])
    for _ in range(50):  # whole respondents: nudge one force until the mean is the target
        mean = sum(100 * satisfied[f] / respondents[f] for f in forces) / len(forces)
        gap = planted("FIN-12", "ew") - mean
        if abs(gap) < 0.005:
            break
        satisfied[biggest] += round(gap * len(forces) * respondents[biggest] / 100) or (
            1 if gap > 0 else -1
        )
    for force in forces:
        nation.returns.append(
            (
                force,
                "victim_satisfaction_respondents",
                YEAR_TO_JUNE,
                respondents[force],
                "respondents",
                LABEL,
            )
        )
        nation.returns.append(
            (
                force,
                "victim_satisfaction_satisfied",
                YEAR_TO_JUNE,
                satisfied[force],
                "respondents",
                LABEL,
            )
        )
    for year, met_share, met_n in ((CYCLE, planted("TXT-PS", "met"), 429), (CYCLE - 1, 51.0, 417)):
        period = f"{year}-07-01/{year}-08-31"
        for force in forces:
            n = met_n if force == MET else rng.randint(331, 428)
            share = met_share if force == MET else rng.uniform(50.0, 68.0)
            weighted = round(n * share / 100, 1)
            note = f"{LABEL}; Ipsos MORI survey for HMIC (weighted)"
            nation.returns.append(
                (force, "public_satisfaction_respondents", period, n, "respondents", note)
            )
            nation.returns.append(
                (force, "public_satisfaction_satisfied", period, weighted, "respondents", note)
            )


def _write_returns(root: Path, nation: _Nation) -> Path:
    names = reference.force_by_code()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(DataReturns().header)
    for force, item, period, value, unit, note in nation.returns:
        writer.writerow(
            [names[force].ons_name or names[force].name, item, period, value, unit, note]
        )
    path = root / "data-returns-2016-synthetic.csv"
    path.write_text(out.getvalue(), encoding="utf-8")
    return path
