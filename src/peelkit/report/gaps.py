"""What a force report lacks, and whether it is worth writing.

A report is made of the catalogue's indicators. An indicator the force has no value of
*for want of data* (coverage "no data": nothing loaded for the force and period, too few
quarters, a zero denominator) is a gap; an indicator the catalogue or the force's data return
excludes is not (the report explains exclusions in Annex A). ``peelkit report`` refuses a
report whose gaps are more than :data:`MAX_MISSING_SHARE` of its indicators, and says what to
load; with ``--allow-gaps`` it writes the report with a notice on its front page.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from peelkit import reference
from peelkit.errors import InputError
from peelkit.indicators.catalogue import catalogue
from peelkit.indicators.engine import EXCLUDED, BenchmarkRecord
from peelkit.indicators.gaps import TO_LOAD

# Refuse a report when more than this share of its indicators have no value for the force for
# want of data (docs/report.md). Half: a report that is mostly gaps says little but what is
# missing.
MAX_MISSING_SHARE = 0.5


@dataclass(frozen=True)
class Gap:
    """One of the report's indicators that has no value for the force for want of data."""

    indicator: str
    sources: tuple[str, ...]  # the catalogue's sources of its numerator and denominator
    reason: str  # from the records' note (or coverage)


@dataclass(frozen=True)
class Gaps:
    force: str
    indicators: int  # how many indicators the report is made of
    missing: tuple[Gap, ...]

    @property
    def share(self) -> float:
        return len(self.missing) / self.indicators if self.indicators else 0.0

    @property
    def too_many(self) -> bool:
        return self.share > MAX_MISSING_SHARE

    def to_load(self) -> list[str]:
        """What to load, one line per source and missing input, with the indicators it fills."""
        return _lines(self.missing)


def _sources_text(sources: tuple[str, ...]) -> str:
    return " and ".join(s.replace("_", " ") for s in sources)


def _lines(gaps: Iterable[Gap]) -> list[str]:
    """One line per source and what to load, deduplicated, naming the indicators it leaves
    empty (the records' notes say which quarters or years each one lacks)."""
    grouped: dict[tuple[tuple[str, ...], str], list[str]] = {}
    for gap in gaps:
        loads = [
            clause.removesuffix(" for those quarters")
            for clause in re.findall(r"; (load [^;]+)", gap.reason)
        ]
        what = " and ".join(dict.fromkeys(loads)) if loads else gap.reason
        ids = grouped.setdefault((gap.sources, what), [])
        if gap.indicator not in ids:
            ids.append(gap.indicator)
    return [
        f"{_sources_text(sources)}: {what} ({', '.join(ids)})"
        for (sources, what), ids in grouped.items()
    ]


def find_gaps(records: Iterable[BenchmarkRecord], force: str) -> Gaps:
    """The indicators of the report on ``force`` that have no value for want of data. An
    indicator counts as shown when any row of its latest period has a value for the force."""
    by_indicator: dict[str, list[BenchmarkRecord]] = {}
    for r in records:
        if r.force_code == force:
            by_indicator.setdefault(r.indicator_id, []).append(r)
    missing = []
    book = catalogue()
    for ind in book.indicator:
        mine = by_indicator.get(ind.id, [])
        mine = [r for r in mine if r.period == mine[-1].period]  # a series: its latest period
        if any(r.value is not None for r in mine):
            continue
        if mine and all(r.coverage == EXCLUDED for r in mine):
            continue
        # the gap says what is missing without naming the force: forces share a line
        reasons = dict.fromkeys(
            r.gap or r.note or r.coverage for r in mine if r.coverage != EXCLUDED
        )
        sources = tuple(dict.fromkeys((ind.numerator.source, ind.denominator.source)))
        if not reasons:  # not one row of it for this force: what its sources are loaded from
            reasons = dict.fromkeys(
                [
                    "no rows for this force in the warehouse"
                    + "".join(f"; load {TO_LOAD[s]}" for s in sources if s in TO_LOAD)
                ]
            )
        missing.append(Gap(ind.id, sources, "; ".join(reasons)))
    return Gaps(force, len(book.indicator), tuple(missing))


def refuse_gaps(records: list[BenchmarkRecord], forces: list[str], what: str) -> None:
    """Raise (listing what to load) if any of ``forces`` has too many gaps for a report."""
    short = [g for g in (find_gaps(records, f) for f in forces) if g.too_many]
    if not short:
        return
    names = reference.force_by_code()
    who = (
        names[short[0].force].name
        if len(short) == 1
        else f"{len(short)} forces ({', '.join(names[g.force].name for g in short[:3])}"
        + (", …)" if len(short) > 3 else ")")
    )
    worst = max(short, key=lambda g: g.share)
    lines = _lines(gap for g in short for gap in g.missing)
    raise InputError(
        f"The warehouse lacks most of the data of the report on {who} ({what}): "
        f"{len(worst.missing)} of its {worst.indicators} indicators have no value (more than "
        f"{MAX_MISSING_SHARE:.0%} refuses). Load:\n"
        + "\n".join(f"  - {line}" for line in lines)
        + "\nor write the report anyway, with a notice of what is missing: --allow-gaps."
    )
