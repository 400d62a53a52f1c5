"""Any period the data cover: period ends, windows, population rules, and why a value is missing.

The real-data tests load the real Home Office recorded crime table for 2017/18 and compute the
indicators for the 12 months to 31 March 2018, checking the values against sums made here from
the file itself, and the words of every missing value.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import date

import pytest

from peelkit import reference
from peelkit.indicators.engine import COMPUTED, NO_DATA, compute
from peelkit.indicators.periods import (
    Period,
    UnknownPeriod,
    for_cycle,
    for_date,
    known_cycles,
    parse_period_end,
    quarters_text,
)
from tests.conftest import REAL_PRC, real_prc_with_populations

KENT, CITY, MET = "E23000032", "E23000034", "E23000001"


def test_the_2016_cycle_is_data_to_30_june_2016_with_the_mid_2015_population():
    cycle = for_cycle(2016)
    assert cycle.end == date(2016, 6, 30) and cycle.cycle == 2016
    assert cycle.population_year == 2015
    assert cycle.window("12 months to the period end").label == "12 months to 30 June 2016"
    assert cycle.window("financial year to the period end").label == "12 months to 31 March 2016"
    assert cycle.window("as at the day after the period end").label == "as at 1 July 2016"
    assert cycle.window("two months after the period end").label == "July to August 2016"
    assert known_cycles() == (2016,)


def test_a_cycle_peelkit_does_not_know_is_refused():
    with pytest.raises(UnknownPeriod, match=r"knows the PEEL cycle.*2016.*not 2099.*--period-end"):
        for_cycle(2099)


def test_a_data_profile_uses_the_mid_year_inside_its_window():
    march = for_date(date(2018, 3, 31))
    assert march.cycle is None and march.population_year == 2017
    assert "data profile" in march.title
    window = march.window("12 months to the period end")
    assert (window.start, window.end) == (date(2017, 4, 1), date(2018, 3, 31))
    assert [q.isoformat() for q in window.quarters()] == [
        "2017-04-01",
        "2017-07-01",
        "2017-10-01",
        "2018-01-01",
    ]
    assert window.years_before(1).label == "12 months to 31 March 2017"
    assert for_date(date(2017, 12, 31)).population_year == 2017
    assert for_date(date(2017, 9, 30)).window("financial year to the period end").label == (
        "12 months to 31 March 2017"
    )
    # one date, one meaning: the 2016 cycle's period end is the 2016 cycle
    assert for_date(date(2016, 6, 30)) == for_cycle(2016)


@pytest.mark.parametrize("day", [date(2018, 3, 30), date(2018, 4, 30), date(2018, 2, 28)])
def test_a_period_end_must_be_a_quarter_end(day):
    with pytest.raises(UnknownPeriod, match="not the end of a quarter"):
        for_date(day)


@pytest.mark.parametrize(
    ("typed", "end"),
    [
        ("2016", date(2016, 6, 30)),
        ("2018-03-31", date(2018, 3, 31)),
        ("12 months to 31 March 2018", date(2018, 3, 31)),
        ("as at 1 July 2016", date(2016, 6, 30)),
        ("12 months to 31 March 2017 to 12 months to 31 March 2018", date(2018, 3, 31)),
    ],
)
def test_a_period_is_accepted_as_indicators_prints_it(typed, end):
    assert parse_period_end(typed).end == end


def test_quarters_are_named_as_runs():
    q = [date(2016, 4, 1), date(2016, 7, 1), date(2016, 10, 1), date(2017, 1, 1)]
    assert quarters_text(q) == "2016/17 Q1–Q4"
    assert quarters_text([date(2016, 1, 1), date(2016, 4, 1)]) == "2015/16 Q4–2016/17 Q1"
    assert quarters_text([date(2016, 4, 1), date(2016, 10, 1)]) == "2016/17 Q1, 2016/17 Q3"
    assert Period.months_to(date(2018, 3, 31)).quarters()[0] == date(2017, 4, 1)


@pytest.fixture(scope="module")
def real_2018(real_data, tmp_path_factory):
    """The real 2017/18 recorded crime table, and mid-2017 populations for two forces only."""
    folder = tmp_path_factory.mktemp("real-2018")
    return real_prc_with_populations(
        real_data, folder, {KENT: (2017, 1_830_000), MET: (2017, 8_800_000)}
    )


def _independent_totals(real_data) -> dict[str, int]:
    """Crime excluding fraud per force in 2017/18, summed straight from the file."""
    totals: dict[str, int] = defaultdict(int)
    aliases = reference.force_aliases()
    with (real_data / REAL_PRC).open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["Offence Group"] == "Fraud offences":
                continue
            text = row["Number of Offences"].strip()
            totals[aliases[row["Force Name"]]] += 0 if text == "-00" else int(text)
    return totals


def test_real_recorded_crime_rates_to_march_2018_match_the_file(real_data, real_2018):
    records = compute(real_2018, period_end=date(2018, 3, 31), indicator_ids=["FIN-2"])
    by_force = {r.force_code: r for r in records}
    totals = _independent_totals(real_data)
    for code, people in ((KENT, 1_830_000), (MET, 8_800_000)):
        r = by_force[code]
        assert r.coverage == COMPUTED
        assert r.numerator == totals[code]
        assert r.value == pytest.approx(totals[code] / people * 1000)
        assert r.period == "12 months to 31 March 2018"
        assert (r.population_year, r.cycle, r.period_end) == (2017, None, date(2018, 3, 31))
    assert by_force[KENT].england_and_wales == pytest.approx(
        (totals[KENT] + totals[MET]) / (1_830_000 + 8_800_000) * 1000
    )


def test_every_missing_value_names_its_missing_input(real_2018):
    records = compute(real_2018, period_end=date(2018, 3, 31))
    missing = [r for r in records if r.value is None and r.coverage == NO_DATA]
    assert missing and all(r.note for r in missing)
    assert not any("nothing in the warehouse" in (r.note or "") for r in records)
    city = {r.indicator_id: r for r in records if r.force_code == CITY and r.breakdown is None}
    assert city["FIN-2"].note == (
        "denominator: no mid-2017 population estimate for City of London Police (none is "
        "loaded for this force); load the ONS mid-year population estimates (or a population "
        "CSV)"
    )
    kent = {r.indicator_id: r for r in records if r.force_code == KENT and r.breakdown is None}
    assert kent["FIN-3"].note == (
        "denominator: recorded crime for Kent Police lacks 2016/17 Q1–Q4 of the 12 months to "
        "31 March 2017; load the Home Office police recorded crime table (Police Force Area) "
        "for those quarters"
    )
    assert kent["FIN-5"].note is not None and kent["FIN-5"].note.startswith(
        "numerator: crime outcomes for Kent Police lacks 2017/18 Q1–Q4"
    )
    assert "force data return of calls_for_assistance" in (kent["FIN-1"].note or "")
    assert "(loaded: mid-2017)" not in (kent["FIN-1"].note or "")  # the population is there


def test_a_population_of_another_year_is_named_as_loaded(real_data, tmp_path):
    con = real_prc_with_populations(real_data, tmp_path, {KENT: (2015, 1_800_000)})
    [kent] = [
        r
        for r in compute(con, period_end=date(2018, 3, 31), indicator_ids=["FIN-2"])
        if r.force_code == KENT
    ]
    assert kent.note == (
        "denominator: no mid-2017 population estimate for Kent Police (loaded: mid-2015); load "
        "the ONS mid-year population estimates (or a population CSV)"
    )


def test_forces_missing_the_same_input_share_one_gap(real_2018):
    records = compute(real_2018, period_end=date(2018, 3, 31), indicator_ids=["FIN-2"])
    missing = [r for r in records if r.value is None]
    assert len(missing) == 41  # every force but Kent and the Met lacks a mid-2017 population
    assert {r.gap for r in missing} == {
        "denominator: no mid-2017 population estimate; load the ONS mid-year population "
        "estimates (or a population CSV)"
    }
    assert all(reference.force_by_code()[r.force_code].name in (r.note or "") for r in missing)
    assert {r.gap for r in records if r.value is not None} == {None}
