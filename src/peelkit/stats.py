"""The statistics of benchmarking: rates, confidence intervals, verdicts and HMIC's rank rule.

Pure functions, no I/O, no configuration read from anywhere: every rule is an argument.

- Rates use Byar's method for the confidence interval, with exact Poisson limits below 10
  events; proportions use the Wilson score interval. Both as PHEindicatormethods implements
  them (``phe_rate``, ``phe_proportion``), at Fingertips' two levels, 95% and 99.8%.
- :func:`compare_to_benchmark` is Fingertips' default rule: similar when the benchmark's value
  lies inside the area's interval, otherwise better or worse by polarity (higher or lower when
  the indicator has no preferred direction).
- :func:`hmic_rank` is the rule of PEEL 2016 Annex A: forces ranked by value, the top 25
  percent "one of the highest", the bottom 25 percent "one of the lowest", the rest "broadly in
  line". The annex leaves group size, ties and rounding unsaid; :class:`RankRule` makes each a
  stated choice that travels with every result.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import Enum
from functools import cache
from statistics import NormalDist
from typing import Literal

LEVELS = (0.95, 0.998)
BYAR_MINIMUM_COUNT = 10


@dataclass(frozen=True)
class Interval:
    """A confidence interval, with the method and level that made it."""

    lower: float
    upper: float
    level: float
    method: str

    def contains(self, value: float) -> bool:
        return self.lower <= value <= self.upper


@cache
def z_value(level: float) -> float:
    """The two-sided standard normal quantile: 1.959964 for 95%, 3.090232 for 99.8%."""
    if not 0 < level < 1:
        raise ValueError(f"a confidence level is between 0 and 1, not {level}")
    return NormalDist().inv_cdf(1 - (1 - level) / 2)


def rate(count: float, denominator: float, multiplier: float = 1.0) -> float:
    """``count`` per ``multiplier`` of ``denominator`` (e.g. crimes per 1,000 population)."""
    if denominator <= 0:
        raise ValueError(f"a rate needs a denominator above 0, not {denominator}")
    return count / denominator * multiplier


def exact_poisson_limits(count: float, level: float = 0.95) -> tuple[float, float]:
    """Exact limits of a Poisson count (Garwood): chi-square quantiles with 2k and 2k + 2
    degrees of freedom over 2, computed as the equal gamma quantiles (scipy's ``gammaincinv``,
    the same numbers as ``chi2.ppf(q, 2k) / 2`` at a fraction of the cost)."""
    if count < 0:
        raise ValueError(f"a count is 0 or more, not {count}")
    alpha = 1 - level
    from scipy.special import gammaincinv  # scipy costs 0.1 s to import: only when used

    lower = 0.0 if count == 0 else float(gammaincinv(count, alpha / 2))
    upper = float(gammaincinv(count + 1, 1 - alpha / 2))
    return lower, upper


def byar_limits(count: float, level: float = 0.95) -> tuple[float, float]:
    """Byar's approximation to the limits of a Poisson count."""
    if count <= 0:
        raise ValueError(f"Byar's method needs a count above 0, not {count}")
    z = z_value(level)
    lower = count * (1 - 1 / (9 * count) - z / (3 * math.sqrt(count))) ** 3
    upper = (count + 1) * (1 - 1 / (9 * (count + 1)) + z / (3 * math.sqrt(count + 1))) ** 3
    return lower, upper


def rate_interval(
    count: float, denominator: float, multiplier: float = 1.0, level: float = 0.95
) -> Interval:
    """Confidence interval of a crude rate: Byar's method, exact Poisson below 10 events."""
    if denominator <= 0:
        raise ValueError(f"a rate needs a denominator above 0, not {denominator}")
    if count < BYAR_MINIMUM_COUNT:
        lower, upper = exact_poisson_limits(count, level)
        method = "exact Poisson (fewer than 10 events)"
    else:
        lower, upper = byar_limits(count, level)
        method = "Byar's method"
    scale = multiplier / denominator
    return Interval(lower * scale, upper * scale, level, method)


def wilson_interval(
    successes: float, trials: float, level: float = 0.95, multiplier: float = 100.0
) -> Interval:
    """Wilson score interval of a proportion, times ``multiplier`` (100 for percent)."""
    if trials <= 0:
        raise ValueError(f"a proportion needs more than 0 trials, not {trials}")
    if not 0 <= successes <= trials:
        raise ValueError(f"successes must be between 0 and {trials}, not {successes}")
    z = z_value(level)
    centre = 2 * successes + z * z
    spread = z * math.sqrt(z * z + 4 * successes * (1 - successes / trials))
    denominator = 2 * (trials + z * z)
    # At 0 and at all successes the limits are exactly 0 and 1; floating point misses by 1e-16.
    lower = 0.0 if successes == 0 else (centre - spread) / denominator
    upper = 1.0 if successes == trials else (centre + spread) / denominator
    return Interval(lower * multiplier, upper * multiplier, level, "Wilson score")


def percent_change(new: float, old: float) -> float | None:
    """Change from ``old`` to ``new`` in percent; None when ``old`` is 0 (no base to compare)."""
    if old == 0:
        return None
    return (new - old) / old * 100


class Polarity(Enum):
    """Which direction is better for an indicator, in its PEEL context."""

    HIGH_IS_GOOD = "high is good"
    LOW_IS_GOOD = "low is good"
    NONE = "no preferred direction"


def compare_to_benchmark(
    value: float | None,
    interval: Interval | None,
    benchmark: float | None,
    polarity: Polarity,
) -> str:
    """Fingertips' single overlapping-interval rule against a benchmark value.

    'similar' when the benchmark lies in the interval (inclusive); otherwise 'higher' or
    'lower' for an indicator with no preferred direction, else 'better' or 'worse'. 'not
    compared' when there is no value, no interval or no benchmark.
    """
    if value is None or interval is None or benchmark is None:
        return "not compared"
    if interval.contains(benchmark):
        return "similar"
    higher = value > benchmark
    if polarity is Polarity.NONE:
        return "higher" if higher else "lower"
    good = higher if polarity is Polarity.HIGH_IS_GOOD else not higher
    return "better" if good else "worse"


HIGHEST = "one of the highest"
LOWEST = "one of the lowest"
IN_LINE = "broadly in line"


@dataclass(frozen=True)
class RankRule:
    """How HMIC's 'top and bottom 25 percent' is applied; every choice is stated.

    - ``share``: the share of ranked forces in each end group (Annex A: 25 percent).
    - ``group_size``: how a share that is not a whole number of forces is turned into one
      (n = 42 gives 10.5): ``floor`` (10), ``half up`` (11) or ``ceiling`` (11).
    - ``decimals``: values are rounded half up to this many places before ranking (as they
      are displayed), or ranked unrounded when None.
    - Ties always share the best rank among them (competition ranking, as phe_quantile), so
      tied forces get the same verdict. Forces without a value (excluded, could not supply)
      are not ranked and do not count in n.
    """

    share: float = 0.25
    group_size: Literal["floor", "half up", "ceiling"] = "floor"
    decimals: int | None = None

    def size(self, n: int) -> int:
        exact = Decimal(str(n)) * Decimal(str(self.share))
        if self.group_size == "floor":
            return int(exact.to_integral_value(rounding="ROUND_FLOOR"))
        if self.group_size == "ceiling":
            return int(exact.to_integral_value(rounding="ROUND_CEILING"))
        return int(exact.to_integral_value(rounding=ROUND_HALF_UP))

    def describe(self) -> str:
        from peelkit import display  # display rounds with this module's round_half_up

        rounding = (
            "unrounded values"
            if self.decimals is None
            else f"values rounded half up to {self.decimals} decimal places"
        )
        return (
            f"forces ranked on {rounding}; the top and bottom {display.share(self.share)} of "
            "ranked forces "
            f"(group size rounded by {self.group_size}) are 'one of the highest' and 'one of "
            "the lowest'; tied forces share the best rank; forces without a value are not ranked"
        )


@dataclass(frozen=True)
class RankResult:
    rank: int  # 1 = the highest value; tied forces share the best rank
    ranked: int  # forces with a value
    group_size: int
    verdict: str
    rule: RankRule


def hmic_ranks(values: Mapping[str, float], rule: RankRule = RankRule()) -> dict[str, RankResult]:
    """Where every force of ``values`` stands among them by HMIC's rank rule."""
    if rule.decimals is not None:
        values = {k: float(round_half_up(v, rule.decimals)) for k, v in values.items()}
    n = len(values)
    k = rule.size(n)
    ordered = sorted(values.values())
    ranks = {}
    for force, mine in values.items():
        from_top = 1 + n - bisect_right(ordered, mine)  # 1 + forces with a higher value
        from_bottom = 1 + bisect_left(ordered, mine)  # 1 + forces with a lower value
        top, bottom = from_top <= k, from_bottom <= k
        if top and not bottom:
            verdict = HIGHEST
        elif bottom and not top:
            verdict = LOWEST
        else:  # in neither end group, or tied across both (every force equal)
            verdict = IN_LINE
        ranks[force] = RankResult(from_top, n, k, verdict, rule)
    return ranks


def hmic_rank(values: Mapping[str, float], subject: str, rule: RankRule = RankRule()) -> RankResult:
    """Where ``subject`` stands among ``values`` by HMIC's rank rule."""
    if subject not in values:
        raise KeyError(f"{subject!r} has no value, so it is not ranked")
    return hmic_ranks(values, rule)[subject]


def round_half_up(value: float, decimals: int) -> Decimal:
    """Round for display as people do (2.25 -> 2.3), not as Python's round does (-> 2.2)."""
    quantum = Decimal(1).scaleb(-decimals)
    return Decimal(repr(value)).quantize(quantum, rounding=ROUND_HALF_UP)
