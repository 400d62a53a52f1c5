"""The data window of an indicator in an inspection cycle ("12 months to 30 June 2016")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Period:
    """A 12-month window (``start`` to ``end``, inclusive) or an 'as at' date (``start`` None)."""

    start: date | None
    end: date
    label: str

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
        start = None if self.start is None else self.start.replace(year=self.start.year - years)
        end = self.end.replace(year=self.end.year - years)
        return Period(start, end, self.label.replace(str(self.end.year), str(end.year)))


def window(rule: str, cycle: int) -> Period:
    """The window a rule names in a cycle: the 2016 cycle used data to 30 June 2016."""
    if rule == "12 months to 30 June":
        return Period(date(cycle - 1, 7, 1), date(cycle, 6, 30), f"12 months to 30 June {cycle}")
    if rule == "12 months to 31 March":
        return Period(date(cycle - 1, 4, 1), date(cycle, 3, 31), f"12 months to 31 March {cycle}")
    if rule == "as at 1 July":
        return Period(None, date(cycle, 7, 1), f"as at 1 July {cycle}")
    if rule == "survey fieldwork":
        return Period(date(cycle, 7, 1), date(cycle, 8, 31), f"July to August {cycle}")
    raise ValueError(f"unknown period rule {rule!r}")
