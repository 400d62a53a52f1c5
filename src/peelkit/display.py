"""How peelkit writes a figure, everywhere it shows one: the command line, ``explain``, the
report, the national overview and the demo's summary.

A figure is rounded half up to its indicator's precision (the catalogue's ``decimals``), as
people round (2.25 → 2.3), with thousands separators; a missing value is one mark, never zero;
an interval is its two ends. Outputs render benchmark records and never recompute a statistic:
these functions only write what a record holds.
"""

from __future__ import annotations

from peelkit.stats import round_half_up

#: What every output shows where a record has no value (its coverage and note say why).
NO_VALUE = "—"

_PERCENT_UNITS = ("percent", "percent change")


def figure(value: float | None, decimals: int, *, magnitude: bool = False) -> str:
    """``value`` rounded half up to ``decimals`` places, with thousands separators; its size
    without the sign when ``magnitude`` (a sentence says "fell by 6.3 percent")."""
    if value is None:
        return NO_VALUE
    return f"{round_half_up(abs(value) if magnitude else value, decimals):,}"


def figure_with_unit(value: float | None, decimals: int, unit: str) -> str:
    """A figure followed by % when its unit is a percentage."""
    text = figure(value, decimals)
    return text + ("%" if value is not None and unit in _PERCENT_UNITS else "")


def interval(lower: float | None, upper: float | None, decimals: int) -> str:
    """An interval as its two ends, "7.6 – 8.2"; empty when there is none."""
    if lower is None or upper is None:
        return ""
    return f"{figure(lower, decimals)} – {figure(upper, decimals)}"


def count(value: float | None) -> str:
    """A count (offences, people, rows) as a whole number with thousands separators."""
    return figure(value, 0)


def as_given(value: float | int) -> str:
    """A number exactly as it was given (a fact the inspectors counted: 60, 2.5), with
    thousands separators."""
    return f"{value:,}"


def share(fraction: float) -> str:
    """A fraction as a whole percentage, "10%"."""
    return f"{round_half_up(fraction * 100, 0):,}%"


def seconds(value: float) -> str:
    """A duration the user set or waited, as briefly as it is exact: "30 s", "0.5 s"."""
    return f"{value:g} s"
