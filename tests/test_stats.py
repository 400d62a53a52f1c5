"""The statistics against values computed independently of peelkit's code.

- Wilson: Newcombe (1998), "Two-sided confidence intervals for the single proportion",
  Statistics in Medicine 17, table I (81/263, 15/148, 0/20, 1/29 at 95%).
- Exact Poisson: the defining property, with Poisson probabilities summed here in plain
  Python: at the lower limit P(X >= O) = alpha/2, at the upper limit P(X <= O) = alpha/2.
- Byar's: within a tight tolerance of the exact limits once counts are large, and the formula
  as PHEindicatormethods writes it, evaluated here by hand for one count.
"""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from peelkit import stats
from peelkit.stats import (
    HIGHEST,
    IN_LINE,
    LOWEST,
    Interval,
    Polarity,
    RankRule,
    compare_to_benchmark,
    hmic_rank,
)


@pytest.mark.parametrize(
    ("successes", "trials", "lower", "upper"),
    [
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_matches_newcombes_published_intervals(successes, trials, lower, upper):
    interval = stats.wilson_interval(successes, trials, 0.95, multiplier=1)
    assert interval.lower == pytest.approx(lower, abs=5e-5)
    assert interval.upper == pytest.approx(upper, abs=5e-5)
    assert interval.method == "Wilson score"


def poisson_cdf(k: int, mean: float) -> float:
    term, total = math.exp(-mean), 0.0
    for i in range(k + 1):
        if i:
            term *= mean / i
        total += term
    return total


@pytest.mark.parametrize("level", stats.LEVELS)
@pytest.mark.parametrize("count", [1, 2, 5, 9])
def test_exact_poisson_limits_have_their_defining_tail_probabilities(count, level):
    alpha = 1 - level
    lower, upper = stats.exact_poisson_limits(count, level)
    assert 1 - poisson_cdf(count - 1, lower) == pytest.approx(alpha / 2, rel=1e-6)
    assert poisson_cdf(count, upper) == pytest.approx(alpha / 2, rel=1e-6)


def test_zero_events_have_a_lower_limit_of_zero():
    lower, upper = stats.exact_poisson_limits(0, 0.95)
    assert lower == 0
    assert upper == pytest.approx(-math.log(0.025), rel=1e-9)  # P(X = 0) = alpha/2


def test_byar_formula_by_hand_for_one_count():
    z = 1.959963984540054
    o = 50
    lower = o * (1 - 1 / (9 * o) - z / (3 * math.sqrt(o))) ** 3
    upper = (o + 1) * (1 - 1 / (9 * (o + 1)) + z / (3 * math.sqrt(o + 1))) ** 3
    assert stats.byar_limits(o, 0.95) == pytest.approx((lower, upper), rel=1e-12)
    assert (round(lower, 2), round(upper, 2)) == (37.11, 65.92)


@pytest.mark.parametrize("count", [100, 727, 10_000])
def test_byar_is_close_to_exact_for_large_counts(count):
    byar = stats.byar_limits(count, 0.95)
    exact = stats.exact_poisson_limits(count, 0.95)
    assert byar == pytest.approx(exact, rel=2e-3)


def test_rate_interval_switches_to_exact_below_ten_events_and_scales():
    assert stats.rate_interval(9, 1000, 1000).method.startswith("exact Poisson")
    interval = stats.rate_interval(727, 8_650_000, 1_000_000)
    assert interval.method == "Byar's method"
    assert interval.lower < stats.rate(727, 8_650_000, 1_000_000) < interval.upper
    assert stats.rate(727, 8_650_000, 1_000_000) == pytest.approx(84.05, abs=0.01)


def test_z_values_are_fingertips_levels():
    assert stats.z_value(0.95) == pytest.approx(1.959964, abs=1e-6)
    assert stats.z_value(0.998) == pytest.approx(3.090232, abs=1e-6)


@given(count=st.integers(0, 5_000), extra=st.integers(1, 10_000_000))
def test_rate_interval_contains_the_rate_and_998_is_wider(count, extra):
    denominator = count + extra
    value = stats.rate(count, denominator, 1000)
    narrow = stats.rate_interval(count, denominator, 1000, 0.95)
    wide = stats.rate_interval(count, denominator, 1000, 0.998)
    assert narrow.lower <= value <= narrow.upper
    assert wide.lower <= narrow.lower and wide.upper >= narrow.upper


@given(trials=st.integers(1, 10_000), data=st.data())
def test_wilson_stays_within_0_and_100_and_contains_the_proportion(trials, data):
    successes = data.draw(st.integers(0, trials))
    interval = stats.wilson_interval(successes, trials)
    assert 0 <= interval.lower <= successes / trials * 100 <= interval.upper <= 100 + 1e-9


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (lambda: stats.rate(1, 0), "denominator above 0"),
        (lambda: stats.wilson_interval(5, 4), "between 0 and 4"),
        (lambda: stats.exact_poisson_limits(-1), "0 or more"),
        (lambda: stats.z_value(1.0), "between 0 and 1"),
    ],
)
def test_impossible_inputs_are_refused_with_a_reason(bad, message):
    with pytest.raises(ValueError, match=message):
        bad()


# -- verdicts ------------------------------------------------------------------------------------

CI = Interval(9.0, 11.0, 0.95, "test")


@pytest.mark.parametrize(
    ("value", "comparator", "polarity", "verdict"),
    [
        (10.0, 11.0, Polarity.HIGH_IS_GOOD, "similar"),  # inclusive bound
        (10.0, 12.0, Polarity.HIGH_IS_GOOD, "worse"),
        (10.0, 12.0, Polarity.LOW_IS_GOOD, "better"),
        (10.0, 8.0, Polarity.HIGH_IS_GOOD, "better"),
        (10.0, 8.0, Polarity.LOW_IS_GOOD, "worse"),
        (10.0, 8.0, Polarity.NONE, "higher"),
        (10.0, 12.0, Polarity.NONE, "lower"),
    ],
)
def test_fingertips_overlap_rule_with_polarity(value, comparator, polarity, verdict):
    assert compare_to_benchmark(value, CI, comparator, polarity) == verdict


def test_no_interval_or_no_value_is_not_compared():
    assert compare_to_benchmark(10.0, None, 8.0, Polarity.NONE) == "not compared"
    assert compare_to_benchmark(None, CI, 8.0, Polarity.NONE) == "not compared"
    assert compare_to_benchmark(10.0, CI, None, Polarity.NONE) == "not compared"


# -- HMIC's rank rule ----------------------------------------------------------------------------


def forces(n: int) -> dict[str, float]:
    return {f"force{i:02d}": float(i) for i in range(1, n + 1)}


@pytest.mark.parametrize(
    ("n", "rule", "size"),
    [
        (43, RankRule(), 10),
        (43, RankRule(group_size="half up"), 11),
        (42, RankRule(), 10),
        (42, RankRule(group_size="half up"), 11),
        (42, RankRule(group_size="ceiling"), 11),
        (40, RankRule(group_size="ceiling"), 10),
        (3, RankRule(), 0),
    ],
)
def test_group_size_when_n_is_not_divisible_by_four(n, rule, size):
    assert rule.size(n) == size


def test_top_and_bottom_quarter_of_43_forces():
    values = forces(43)
    assert hmic_rank(values, "force43").verdict == HIGHEST
    assert hmic_rank(values, "force34").verdict == HIGHEST  # 10th from the top
    assert hmic_rank(values, "force33").verdict == IN_LINE  # 11th from the top
    assert hmic_rank(values, "force10").verdict == LOWEST
    assert hmic_rank(values, "force11").verdict == IN_LINE
    result = hmic_rank(values, "force40")
    assert (result.rank, result.ranked, result.group_size) == (4, 43, 10)


def test_tied_forces_share_a_rank_and_a_verdict():
    values = forces(40) | {"tied_a": 31.0, "tied_b": 31.0}  # 42 forces; 31 three times
    a, b = hmic_rank(values, "tied_a"), hmic_rank(values, "tied_b")
    assert a.rank == b.rank == hmic_rank(values, "force31").rank == 10
    assert a.verdict == b.verdict == HIGHEST
    assert hmic_rank(values, "force30").rank == 13


def test_excluded_forces_are_not_ranked_and_do_not_count():
    values = forces(43)
    del values["force43"]  # e.g. excluded for unreliable data: no value, not zero
    result = hmic_rank(values, "force33")
    assert (result.ranked, result.group_size, result.verdict) == (42, 10, HIGHEST)
    with pytest.raises(KeyError, match="not ranked"):
        hmic_rank(values, "force43")


def test_all_forces_equal_are_all_broadly_in_line():
    values = dict.fromkeys(forces(8), 5.0)
    assert {hmic_rank(values, f).verdict for f in values} == {IN_LINE}


def test_ranking_on_displayed_values_is_a_stated_choice():
    values = forces(8) | {"close": 8.04}
    unrounded = hmic_rank(values, "force08")
    displayed = hmic_rank(values, "force08", RankRule(decimals=1))
    assert (unrounded.rank, displayed.rank) == (2, 1)
    assert "rounded half up to 1 decimal" in displayed.rule.describe()


def test_round_half_up_is_not_bankers_rounding():
    assert stats.round_half_up(2.25, 1) == Decimal("2.3")
    assert stats.round_half_up(0.05, 1) == Decimal("0.1")
    assert stats.round_half_up(100.0, 1) == Decimal("100.0")


def test_percent_change_has_no_value_without_a_base():
    assert stats.percent_change(103.3, 100) == pytest.approx(3.3)
    assert stats.percent_change(5, 0) is None
