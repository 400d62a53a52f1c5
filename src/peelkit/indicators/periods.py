"""Periods: the period end a computation is made for, and the data window of each indicator.

Indicators are computed for a *period end* — the last day of a quarter. An inspection cycle
names one (the 2016 cycle used data to 30 June 2016); any other quarter end the data cover gives
a *data profile*. The catalogue declares each indicator's window relative to the period end
("12 months to the period end"), and ``cycles.toml`` declares the known cycles and the rule that
chooses the population estimate for a period end. Nothing here knows a calendar year by heart.
"""

from __future__ import annotations

import calendar
import tomllib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from importlib import resources
from typing import Literal

from peelkit.errors import PeelkitError

CYCLES_FILE = "cycles.toml"

WindowRule = Literal[
    "12 months to the period end",
    "financial year to the period end",
    "as at the day after the period end",
    "two months after the period end",
]
PopulationRule = Literal["latest published at the period end", "mid-year in the window"]


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _months_before(day: date, months: int) -> date:
    """The last day of the month ``months`` before ``day``'s month."""
    index = day.year * 12 + day.month - 1 - months
    return _month_end(index // 12, index % 12 + 1)


def _long(day: date) -> str:
    return f"{day.day} {day:%B} {day.year}"


@dataclass(frozen=True)
class Period:
    """A window of whole months (``start`` to ``end``, inclusive), or an 'as at' date
    (``start`` None). ``label`` is how every output names it ("12 months to 31 March 2018")."""

    start: date | None
    end: date
    label: str

    @classmethod
    def months_to(cls, end: date, months: int = 12) -> Period:
        start = _months_before(end, months) + timedelta(days=1)
        if months == 12:
            return cls(start, end, f"12 months to {_long(end)}")
        return cls(start, end, f"{start:%B} to {end:%B %Y}")

    @classmethod
    def as_at(cls, day: date) -> Period:
        return cls(None, day, f"as at {_long(day)}")

    def quarters(self) -> tuple[date, ...]:
        """The first days of the quarters in the window (quarterly tables are keyed by them)."""
        if self.start is None:
            raise ValueError(f"{self.label} is a date, not a window of quarters")
        starts, first = [], self.start
        while first <= self.end:
            starts.append(first)
            month = first.month + 3
            first = first.replace(year=first.year + (month - 1) // 12, month=(month - 1) % 12 + 1)
        return tuple(starts)

    def years_before(self, years: int) -> Period:
        """The same window ``years`` earlier, named the same way."""
        if self.start is None:
            return Period.as_at(self.end.replace(year=self.end.year - years))
        start, end = self.start, self.end
        months = (end.year - start.year) * 12 + end.month - start.month + 1
        return Period.months_to(_months_before(end, 12 * years), months)


def quarter_name(quarter_start: date) -> str:
    """A financial quarter as the Home Office tables and ``coverage`` name it: '2017/18 Q1'."""
    year = quarter_start.year - (1 if quarter_start.month < 4 else 0)
    number = ((quarter_start.month - 4) % 12) // 3 + 1
    return f"{year}/{(year + 1) % 100:02d} Q{number}"


def consecutive(starts: list[date], months: int) -> list[list[date]]:
    """Sorted period starts grouped into runs ``months`` apart (months, quarters, years)."""
    runs: list[list[date]] = []
    for start in sorted(starts):
        if runs and _months_before(runs[-1][-1], -months) == _month_end(start.year, start.month):
            runs[-1].append(start)
        else:
            runs.append([start])
    return runs


def quarters_text(starts: list[date]) -> str:
    """Quarters as runs: '2016/17 Q1–Q4', '2015/16 Q3–2016/17 Q2', '2016/17 Q1, Q3'."""
    said = []
    for run in consecutive(starts, 3):
        first, last = quarter_name(run[0]), quarter_name(run[-1])
        if first == last:
            said.append(first)
        elif first[:7] == last[:7]:
            said.append(f"{first}–{last[8:]}")
        else:
            said.append(f"{first}–{last}")
    return ", ".join(said)


@dataclass(frozen=True)
class PeriodEnd:
    """What a computation is for: the period end, the cycle it belongs to (None for a data
    profile) and the rule that picks the population estimate used as every denominator."""

    end: date
    cycle: int | None
    population_rule: PopulationRule

    @property
    def title(self) -> str:
        if self.cycle is not None:
            return f"PEEL {self.cycle}, data to {_long(self.end)}"
        return f"data profile, data to {_long(self.end)}"

    @property
    def population_year(self) -> int:
        """The ONS mid-year estimate every population denominator uses."""
        e = self.end
        if self.population_rule == "latest published at the period end":
            # mid-year Y is published in June of Y+1 (mid-2015: 23 June 2016)
            published = _cycles().published_month
            return e.year - 1 if e.month >= published else e.year - 2
        # the 30 June inside the 12 months to the period end
        return e.year if e.month >= 6 else e.year - 1

    @property
    def population_rule_text(self) -> str:
        return _cycles().population_rules[self.population_rule]

    def window(self, rule: WindowRule) -> Period:
        """The window a catalogue rule names, for this period end."""
        e = self.end
        if rule == "12 months to the period end":
            return Period.months_to(e)
        if rule == "financial year to the period end":
            year = e.year if e.month >= 3 else e.year - 1
            return Period.months_to(date(year, 3, 31))
        if rule == "as at the day after the period end":
            return Period.as_at(e + timedelta(days=1))
        if rule == "two months after the period end":
            after = _months_before(e, -2)
            return Period.months_to(after, 2)
        raise ValueError(f"unknown window rule {rule!r}")


@dataclass(frozen=True)
class _Cycles:
    period_ends: dict[int, date]
    rules: dict[int, PopulationRule]
    profile_rule: PopulationRule
    population_rules: dict[str, str]
    published_month: int


@cache
def _cycles() -> _Cycles:
    text = resources.files("peelkit.indicators").joinpath(CYCLES_FILE).read_text("utf-8")
    data = tomllib.loads(text)
    rules = data["population_rules"]
    cycles = data["cycle"]
    for c in cycles:
        if c["population_rule"] not in rules:
            raise ValueError(f"{CYCLES_FILE}: cycle {c['year']} names an unknown population rule")
    return _Cycles(
        period_ends={int(c["year"]): c["period_end"] for c in cycles},
        rules={int(c["year"]): c["population_rule"] for c in cycles},
        profile_rule=data["profile"]["population_rule"],
        population_rules=dict(rules),
        published_month=int(data["ons_mid_year_estimates_published_month"]),
    )


def known_cycles() -> tuple[int, ...]:
    return tuple(sorted(_cycles().period_ends))


class UnknownPeriod(PeelkitError):
    """A cycle peelkit does not know, or a period end that is not a quarter end."""


def for_cycle(cycle: int) -> PeriodEnd:
    """The period end of an inspection cycle peelkit knows."""
    known = _cycles()
    if cycle not in known.period_ends:
        cycles = ", ".join(str(c) for c in known_cycles())
        raise UnknownPeriod(
            f"peelkit knows the PEEL cycle(s) {cycles}, not {cycle}; for data to another date "
            "give --period-end YYYY-MM-DD (a quarter end) instead"
        )
    return PeriodEnd(known.period_ends[cycle], cycle, known.rules[cycle])


def for_date(end: date) -> PeriodEnd:
    """The period end of a quarter end: a data profile, or the cycle whose data end there (one
    date, one meaning: --period-end 2016-06-30 is the 2016 cycle)."""
    if end.month % 3 or end != _month_end(end.year, end.month):
        raise UnknownPeriod(
            f"{end.isoformat()} is not the end of a quarter; give 31 March, 30 June, "
            "30 September or 31 December of a year"
        )
    for cycle, cycle_end in _cycles().period_ends.items():
        if cycle_end == end:
            return for_cycle(cycle)
    return PeriodEnd(end, None, _cycles().profile_rule)


def parse_period_end(text: str) -> PeriodEnd:
    """A period end as a user types it: a cycle ('2016'), a date ('2018-03-31'), or a period
    exactly as ``peelkit indicators`` prints it ('12 months to 31 March 2018')."""
    text = text.strip()
    if text.isdigit() and len(text) == 4:
        return for_cycle(int(text))
    as_at = text.lower().startswith("as at ")
    for prefix in ("12 months to ", "as at "):
        if text.lower().startswith(prefix):
            text = text[len(prefix) :]
    if " to 12 months to " in text:  # a change, as printed: the later period counts
        text = text.rsplit(" to 12 months to ", 1)[1]
    try:
        end = date.fromisoformat(text)
    except ValueError:
        try:
            end = datetime.strptime(text, "%d %B %Y").date()
        except ValueError as exc:
            raise UnknownPeriod(
                f"{text!r} is not a period: give a cycle (2016), a quarter end (2018-03-31) or "
                "a period as 'peelkit indicators' prints it ('12 months to 31 March 2018')"
            ) from exc
    if as_at:
        end -= timedelta(days=1)  # "as at 1 July 2016" belongs to data to 30 June 2016
    return for_date(end)
