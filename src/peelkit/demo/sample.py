"""Synthetic samples in the official file formats: police.uk files at any volume (used by
``peelkit demo --police-uk``) and the benchmarks' Home Office and tidy samples.

Everything here is made up — "Demo data — synthetic, not official statistics" — but every file
is written exactly as the official source writes it (header, quoting, padding quirks, archive
layout), so loading it exercises the real readers. The same seed gives the same bytes.

It also leaves deliberate gaps, as real data has them: one force's street file for the last
month has no anti-social behaviour rows, one force has no outcomes file for one month, one
force could not supply an item of its data return.
"""

from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from peelkit import reference
from peelkit.readers import csv_formats
from peelkit.readers.police_uk import CRIME_TYPES
from peelkit.readers.tidy import DataReturns, Population

LABEL = "Demo data — synthetic, not official statistics"


def _header(kind: str) -> str:
    """A source format's exact header, as its reader declares it: written, never retyped."""
    return next(f for f in csv_formats() if f.kind == kind).expected()


STREET_HEADER = _header("police_uk_street")
OUTCOMES_HEADER = _header("police_uk_outcomes")
STOP_SEARCH_HEADER = _header("police_uk_stop_search")
PRC_HEADER = _header("recorded_crime")
OUTCOMES_TABLE_HEADER = _header("crime_outcomes")

CURRENT_CRIME_TYPES = tuple(
    t for t in CRIME_TYPES if t not in ("Public disorder and weapons", "Violent crime")
)
STREET_OUTCOMES = (
    "Investigation complete; no suspect identified",
    "Under investigation",
    "Unable to prosecute suspect",
    "Status update unavailable",
    "Offender given a caution",
    "Awaiting court outcome",
    "Local resolution",
)
OUTCOME_TYPES = (
    "Investigation complete; no suspect identified",
    "Suspect charged",
    "Unable to prosecute suspect",
    "Offender given a caution",
    "Local resolution",
)

# Rough relative sizes of forces (the Metropolitan Police is by far the largest).
_BIG = {
    "metropolitan": 12.0,
    "greater-manchester": 4.0,
    "west-midlands": 4.0,
    "west-yorkshire": 3.5,
    "thames-valley": 3.0,
    "city-of-london": 0.15,
}


@dataclass(frozen=True)
class SampleSpec:
    """What to write: police.uk rows in all, over how many months from ``first_month``."""

    street_rows: int = 200_000
    months: int = 12
    first_month: date = date(2015, 7, 1)
    seed: int = 2016
    police_uk: bool = True
    police_uk_kinds: tuple[str, ...] = ("street", "outcomes", "stop-and-search")
    home_office: bool = True
    tidy: bool = True
    gaps: bool = True


def _weights() -> dict[str, float]:
    forces = reference.territorial_forces()
    raw = {f.slug: _BIG.get(f.slug, 1.0) for f in forces}
    total = sum(raw.values())
    return {slug: w / total for slug, w in raw.items()}


def _months(spec: SampleSpec) -> list[date]:
    out = []
    y, m = spec.first_month.year, spec.first_month.month
    for _ in range(spec.months):
        out.append(date(y, m, 1))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def write_sample(folder: Path, spec: SampleSpec = SampleSpec()) -> list[Path]:
    """Write the sample under ``folder``; returns the files written, in order."""
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    (folder / "README.txt").write_text(
        f"{LABEL}.\nWritten by peelkit.demo.sample with seed {spec.seed}. The files use the "
        "official formats so that the real readers load them; no figure in them is real.\n",
        encoding="utf-8",
    )
    rng = random.Random(spec.seed)
    if spec.police_uk:
        written += write_police_uk(folder / "police-uk", spec, rng)
    if spec.home_office:
        written += _write_home_office(folder / "home-office", spec, rng)
    if spec.tidy:
        written += _write_tidy(folder / "peelkit", spec, rng)
    return written


def _hex64(rng: random.Random) -> str:
    return f"{rng.getrandbits(256):064x}"


def write_police_uk(root: Path, spec: SampleSpec, rng: random.Random) -> list[Path]:
    weights = _weights()
    forces = reference.territorial_forces()
    months = _months(spec)
    per_month = spec.street_rows / max(len(months), 1)
    written: list[Path] = []
    for month in months:
        label = month.strftime("%Y-%m")
        folder = root / label
        folder.mkdir(parents=True, exist_ok=True)
        for force in forces:
            n = max(1, round(per_month * weights[force.slug]))
            lon0 = -4.0 + (sum(map(ord, force.slug)) % 500) / 100.0
            lat0 = 50.5 + (sum(map(ord, force.slug)) % 400) / 100.0
            no_asb = spec.gaps and force.slug == "city-of-london" and month == months[-1]
            street = io.StringIO()
            street.write(STREET_HEADER + "\n")
            ids: list[str] = []
            for i in range(n):
                crime_type = "Anti-social behaviour" if i == 0 else rng.choice(CURRENT_CRIME_TYPES)
                if crime_type == "Anti-social behaviour" and no_asb:
                    crime_type = "Other theft"
                lsoa = f"E01{rng.randrange(0, 33000):06d}"
                if crime_type == "Anti-social behaviour":
                    crime_id, outcome = "", ""
                else:
                    crime_id = _hex64(rng)
                    outcome = rng.choice(STREET_OUTCOMES)
                    if i % 3 == 0:
                        ids.append(crime_id)
                if i % 40 == 0:
                    street.write(
                        f"{crime_id},{label},{force.name},{force.name},,,No Location,,,"
                        f"{crime_type},{outcome},\n"
                    )
                    continue
                street.write(
                    f"{crime_id},{label},{force.name},{force.name},"
                    f"{lon0 + rng.random() / 5:.6f},{lat0 + rng.random() / 5:.6f},"
                    f"On or near Synthetic Street,{lsoa},Synthetic {lsoa[-4:]},"
                    f"{crime_type},{outcome},\n"
                )
            if "street" in spec.police_uk_kinds:
                path = folder / f"{label}-{force.slug}-street.csv"
                path.write_text(street.getvalue(), encoding="utf-8")
                written.append(path)

            if "outcomes" in spec.police_uk_kinds and not (
                spec.gaps
                and force.slug == "dorset"
                and month == months[-2 if len(months) > 1 else 0]
            ):
                outcomes = io.StringIO()
                outcomes.write(OUTCOMES_HEADER + "\n")
                for crime_id in ids:
                    outcomes.write(
                        f"{crime_id},{label},{force.name},{force.name},"
                        f"{lon0:.6f},{lat0:.6f},On or near Synthetic Street,,,"
                        f"{rng.choice(OUTCOME_TYPES)}\n"
                    )
                path = folder / f"{label}-{force.slug}-outcomes.csv"
                path.write_text(outcomes.getvalue(), encoding="utf-8")
                written.append(path)

            if "stop-and-search" not in spec.police_uk_kinds:
                continue
            searches = io.StringIO()
            searches.write(STOP_SEARCH_HEADER + "\n")
            for _ in range(max(1, n // 10)):
                day = rng.randrange(1, 28)
                searches.write(
                    f"Person search,{label}-{day:02d}T{rng.randrange(0, 24):02d}:"
                    f"{rng.randrange(0, 60):02d}:00+00:00,,,{lat0:.6f},{lon0:.6f},"
                    f"{rng.choice(('Male', 'Female'))},{rng.choice(('18-24', '25-34', 'over 34'))},"
                    ",,Misuse of Drugs Act 1971 (section 23),Controlled drugs,"
                    f"{rng.choice(('A no further action disposal', 'Arrest'))},,False\n"
                )
            path = folder / f"{label}-{force.slug}-stop-and-search.csv"
            path.write_text(searches.getvalue(), encoding="utf-8")
            written.append(path)
    return written


def prc_name(force: reference.Force) -> str:
    return {"E23000035": "Devon and Cornwall"}.get(force.code, force.ons_name or force.name)


def ho_count(value: int) -> str:
    """A count as the Home Office's Excel export writes it: padded, '-00' for zero."""
    return "-00 " if value == 0 else f" {value} "


def _write_home_office(root: Path, spec: SampleSpec, rng: random.Random) -> list[Path]:
    root.mkdir(parents=True, exist_ok=True)
    weights = _weights()
    offences = reference.offences()
    bodies = [f for f in reference.forces() if f.kind != "outside England and Wales"]
    quarters = [("2015/16", 1), ("2015/16", 2), ("2015/16", 3), ("2015/16", 4), ("2016/17", 1)]
    prc = io.StringIO()
    writer = csv.writer(prc, lineterminator="\n")
    prc.write(PRC_HEADER + "\n")
    outcomes = io.StringIO()
    owriter = csv.writer(outcomes, lineterminator="\n")
    outcomes.write(OUTCOMES_TABLE_HEADER + "\n")
    outcome_types = reference.outcome_types()
    for year, quarter in quarters:
        for body in bodies:
            fraud_body = body.kind == "fraud body"
            for offence in offences:
                if (offence.crime_category == "fraud") != fraud_body:
                    continue
                scale = 40_000 if fraud_body else 180_000 * weights.get(body.slug, 0.01)
                count = max(0, int(rng.expovariate(1.0) * scale / 60))
                key = [
                    year,
                    quarter,
                    prc_name(body),
                    offence.description,
                    offence.group,
                    offence.subgroup,
                    offence.code,
                ]
                writer.writerow([*key, ho_count(count)])
                if fraud_body or count == 0 or body.kind != "territorial":
                    continue
                remaining = count
                for outcome in outcome_types[:19]:
                    share = (
                        remaining if outcome.number == 18 else int(remaining * rng.random() * 0.2)
                    )
                    remaining -= share
                    if share:
                        owriter.writerow(
                            [
                                *key,
                                outcome.description,
                                outcome.figure_4_group,
                                outcome.number,
                                ho_count(share),
                                ho_count(int(share * 1.05)),
                            ]
                        )
    p1 = root / "prc-pfa-synthetic.csv"
    p1.write_text(prc.getvalue(), encoding="utf-8")
    p2 = root / "prc-outcomes-synthetic.csv"
    p2.write_text(outcomes.getvalue(), encoding="utf-8")
    return [p1, p2]


def _write_tidy(root: Path, spec: SampleSpec, rng: random.Random) -> list[Path]:
    root.mkdir(parents=True, exist_ok=True)
    weights = _weights()
    pop = io.StringIO()
    rows = csv.writer(pop, lineterminator="\n")
    rows.writerow(Population().header)
    for force in reference.territorial_forces():
        people = int(57_885_413 * weights[force.slug])
        for year in (2014, 2015):
            rows.writerow([force.code, year, people, int(people / 2.4), LABEL])
    p1 = root / "population-synthetic.csv"
    p1.write_text(pop.getvalue(), encoding="utf-8")

    ret = io.StringIO()
    out = csv.writer(ret, lineterminator="\n")
    out.writerow(DataReturns().header)
    period = "2015-07-01/2016-06-30"
    for force in reference.territorial_forces():
        people = int(57_885_413 * weights[force.slug])
        calls = int(people * 0.1 * (0.8 + rng.random() * 0.4))
        out.writerow([force.ons_name, "calls_for_assistance", period, calls, "calls", LABEL])
        if spec.gaps and force.slug == "durham":
            out.writerow(
                [
                    force.ons_name,
                    "domestic_abuse_arrests",
                    period,
                    "could not supply",
                    "arrests",
                    "no arrest data",
                ]
            )
        else:
            out.writerow(
                [
                    force.ons_name,
                    "domestic_abuse_arrests",
                    period,
                    int(people * 0.004),
                    "arrests",
                    LABEL,
                ]
            )
        out.writerow(
            [force.ons_name, "ocgs_active", "2016-07-01", int(people * 46 / 1e6), "groups", LABEL]
        )
    p2 = root / "data-returns-synthetic.csv"
    p2.write_text(ret.getvalue(), encoding="utf-8")
    return [p1, p2]
