"""Benchmark records on a small national fixture, checked against sums done here by hand.

The fixture is written in the official formats and loaded through the real readers, so the
whole path — files, warehouse, Ibis expressions, records — is exercised.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import date
from pathlib import Path

import duckdb
import ibis
import pytest

from peelkit import reference
from peelkit.indicators import measures
from peelkit.indicators.catalogue import Measure
from peelkit.indicators.engine import (
    COMPUTED,
    EXCLUDED,
    NO_DATA,
    NOT_SUPPLIED,
    PARTIAL,
    BenchmarkRecord,
    compute,
)
from peelkit.indicators.periods import Period
from peelkit.ingest import ingest
from peelkit.warehouse import open_warehouse
from tests.conftest import OUTCOMES_HEADER, PRC_HEADER

FORCES = [f for f in reference.territorial_forces()]
DORSET, DERBYSHIRE, CITY, DURHAM = "E23000039", "E23000018", "E23000034", "E23000008"
NOTTS = "E23000019"
WARWICKSHIRE, WEST_MERCIA, KENT = "E23000017", "E23000016", "E23000032"
WINDOW = [("2015/16", 2), ("2015/16", 3), ("2015/16", 4), ("2016/17", 1)]
BEFORE = ("2015/16", 1)  # outside the 12 months to 30 June 2016: must not count
ASSAULT = ["Assault with injury", "Violence against the person", "Violence with injury", "8N"]
DRUGS = ["Trafficking in controlled drugs", "Drug offences", "Trafficking of drugs", "92A"]
OUTCOMES = {0: 2, 1: 3, 14: 1, 16: 2, 18: 4}  # tracked count per quarter, times the scale
OCG_TYPES = {"drug activity": 6, "fraud": 3, "other": 1}
DA_OUTCOMES = {1: 25, 3: 9}  # per 100 + i domestic abuse offences, times the force's scale
HUMBERSIDE = "E23000012"


def population(i: int) -> int:
    return 100_000 * (i + 1)


def assaults(i: int, q: int) -> int:
    return 10 * (i + 1) + q


def scale(i: int) -> int:
    return i % 3 + 1


def write(path: Path, rows: list[list[object]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    return path


@pytest.fixture(scope="module")
def national(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    folder = tmp_path_factory.mktemp("national")
    pop = [["code", "year", "population", "households", "source"]]
    prc, out = [PRC_HEADER], [OUTCOMES_HEADER]
    returns = [["force", "item", "period", "value", "unit", "note"]]
    for i, f in enumerate(FORCES):
        pop.append([f.code, 2015, population(i), population(i) // 2, "test fixture"])
        for q, (year, quarter) in enumerate([BEFORE, *WINDOW]):
            prc.append([year, quarter, f.ons_name, *ASSAULT, f" {assaults(i, q)} "])
            prc.append([year, quarter, f.ons_name, *DRUGS, " 5 "])
            if f.code == DERBYSHIRE and (year, quarter) == WINDOW[-1]:
                continue  # Derbyshire: three quarters of outcomes
            for outcome, n in OUTCOMES.items():
                out.append(
                    [
                        year,
                        quarter,
                        f.ons_name,
                        *ASSAULT,
                        "x",
                        "x",
                        outcome,
                        f" {n * scale(i)} ",
                        "",
                    ]
                )
        if f.code != WARWICKSHIRE:
            ocgs = 30 if f.code == WEST_MERCIA else 10 + i
            returns.append([f.code, "ocgs_active", "2016-07-01", ocgs, "groups", ""])
        for kind, n in OCG_TYPES.items():
            if f.code != HUMBERSIDE:
                returns.append(
                    [f.code, f"ocgs_predominant_type:{kind}", "2016-07-01", n, "groups", ""]
                )
        for outcome, n in DA_OUTCOMES.items():  # untracked: outcomes recorded in the window
            returns.append(
                [
                    f.code,
                    f"domestic_abuse_outcomes:{outcome}",
                    "2015-07-01/2016-06-30",
                    n * scale(i),
                    "outcomes",
                    "",
                ]
            )
        arrests = "could not supply" if f.code == DURHAM else 40 + i
        returns.append(
            [f.code, "domestic_abuse_arrests", "2015-07-01/2016-06-30", arrests, "arrests", ""]
        )
        offences = "could not supply" if f.code == KENT else 100 + i
        returns.append(
            [f.code, "domestic_abuse_offences", "2015-07-01/2016-06-30", offences, "offences", ""]
        )
    prc.append([WINDOW[0][0], WINDOW[0][1], "British Transport Police", *ASSAULT, " 999 "])
    files = [
        write(folder / "population.csv", pop),
        write(folder / "prc.csv", prc),
        write(folder / "outcomes.csv", out),
        write(folder / "returns.csv", returns),
    ]
    con = open_warehouse(folder / "w.duckdb")
    report = ingest(con, files)
    assert report.rejects == []
    return con


def by_force(records: list[BenchmarkRecord], row: str | None = None) -> dict[str, BenchmarkRecord]:
    return {r.force_code: r for r in records if r.breakdown == row}


def test_recorded_crime_rate_sums_the_window_and_pools_england_and_wales(national):
    records = by_force(compute(national, indicator_ids=["FIN-2"]))
    assert len(records) == 43
    for i, f in enumerate(FORCES):
        crimes = sum(assaults(i, q) + 5 for q in range(1, 5))  # window quarters only
        assert records[f.code].value == pytest.approx(crimes / population(i) * 1000)
        assert records[f.code].coverage == COMPUTED
    total = sum(assaults(i, q) + 5 for i in range(43) for q in range(1, 5))  # no BTP
    people = sum(population(i) for i in range(43))
    met = records["E23000001"]
    assert (met.ew_numerator, met.ew_denominator) == (total, people)
    assert met.england_and_wales == pytest.approx(total / people * 1000)
    assert len(met.ew_forces) == 43 and "BTP" not in met.ew_forces
    assert met.ci95 is not None and met.ci95.method == "Byar's method"
    assert met.ci998 is not None and met.ci998.lower < met.ci95.lower


def test_households_are_the_denominator_of_burglary_style_rates(national):
    victim_based = by_force(compute(national, indicator_ids=["FIG-2a"]))
    i = 5
    code = FORCES[i].code
    crimes = sum(assaults(i, q) for q in range(1, 5))  # drug trafficking is not victim-based
    assert victim_based[code].value == pytest.approx(crimes / population(i) * 1000)


def test_tracked_outcome_shares_exclude_dorset_and_note_derbyshires_three_quarters(national):
    records = by_force(compute(national, indicator_ids=["FIN-5"]))
    dorset, derbyshire = records[DORSET], records[DERBYSHIRE]
    assert (dorset.value, dorset.coverage) == (None, EXCLUDED)
    assert "Niche" in (dorset.note or "")
    assert derbyshire.coverage == PARTIAL and "three quarters" in (derbyshire.note or "")
    per_quarter = sum(OUTCOMES.values())
    for f in FORCES:
        if f.code == DORSET:
            continue
        assert records[f.code].value == pytest.approx(OUTCOMES[1] / per_quarter * 100)
    ew = records["E23000001"]
    assert DORSET not in ew.ew_forces and len(ew.ew_forces) == 42
    quarters = {f.code: (3 if f.code == DERBYSHIRE else 4) for f in FORCES if f.code != DORSET}
    numerator = sum(
        OUTCOMES[1] * scale(i) * quarters[f.code] for i, f in enumerate(FORCES) if f.code != DORSET
    )
    assert ew.ew_numerator == numerator
    assert ew.ci95 is not None and ew.ci95.method == "Wilson score"


def test_outcome_16_alone_and_outcomes_14_and_16_are_different_measures(national):
    fin6 = by_force(compute(national, indicator_ids=["FIN-6"]))["E23000001"]
    fig5 = by_force(compute(national, indicator_ids=["FIG-5"]))["E23000001"]
    per_quarter = sum(OUTCOMES.values())
    assert fin6.value == pytest.approx(OUTCOMES[16] / per_quarter * 100)
    assert fig5.value == pytest.approx((OUTCOMES[14] + OUTCOMES[16]) / per_quarter * 100)


def test_figure_4_group_rows_are_the_sum_of_their_unrounded_members(national):
    records = compute(national, indicator_ids=["FIG-4"])
    rows = defaultdict(dict)
    for r in records:
        rows[r.breakdown][r.force_code] = r
    group = "group: Evidential difficulties (victim does not support police action)"
    for code, record in rows[group].items():
        if record.value is None:
            continue
        members = [rows[k][code].value for k in rows if k and k.split(" ")[0] in ("14", "16")]
        assert record.value == pytest.approx(sum(members))
    total = rows["Total offences assigned an outcome"]["E23000001"]
    not_yet = rows["0 Not yet assigned an outcome"]["E23000001"]
    assert total.value + not_yet.value == pytest.approx(100)


def test_combined_ocg_count_uses_the_combined_population_and_counts_once(national):
    records = by_force(compute(national, indicator_ids=["FIN-11"]))
    i_w = next(i for i, f in enumerate(FORCES) if f.code == WARWICKSHIRE)
    i_m = next(i for i, f in enumerate(FORCES) if f.code == WEST_MERCIA)
    rate = 30 / (population(i_w) + population(i_m)) * 1_000_000
    assert records[WARWICKSHIRE].value == pytest.approx(rate)
    assert records[WEST_MERCIA].value == pytest.approx(rate)
    assert (records[CITY].value, records[CITY].coverage) == (None, EXCLUDED)
    others = [
        (10 + i, population(i))
        for i, f in enumerate(FORCES)
        if f.code not in (CITY, WARWICKSHIRE, WEST_MERCIA)
    ]
    groups = sum(n for n, _ in others) + 30
    people = sum(p for _, p in others) + population(i_w) + population(i_m)
    assert records["E23000001"].england_and_wales == pytest.approx(groups / people * 1_000_000)


def test_could_not_supply_is_a_state_never_a_zero(national):
    records = by_force(compute(national, indicator_ids=["FIG-7"]))
    kent, durham = records[KENT], records[DURHAM]
    assert (kent.value, kent.numerator, kent.coverage) == (None, None, NOT_SUPPLIED)
    assert (durham.value, durham.coverage) == (None, EXCLUDED)  # the annex names Durham
    assert KENT not in records["E23000001"].ew_forces
    assert records["E23000001"].value == pytest.approx(40 / 100 * 100)


def test_indicators_without_data_say_so_for_every_force(national):
    records = compute(national, indicator_ids=["FIN-1", "TXT-PS"])
    assert {r.coverage for r in records} == {NO_DATA}
    assert all(r.value is None and r.verdict == "not compared" for r in records)


def test_every_value_names_the_loads_it_came_from(national):
    met = by_force(compute(national, indicator_ids=["FIN-2"]))["E23000001"]
    kinds = {
        k
        for (k,) in national.execute(
            "SELECT kind FROM loads WHERE load_id IN (SELECT unnest(?))", [list(met.load_ids)]
        ).fetchall()
    }
    assert kinds == {"recorded_crime", "population"}


def test_ranks_and_verdicts_follow_the_rules(national):
    records = by_force(compute(national, indicator_ids=["FIN-2"]))
    ranked = sorted(records.values(), key=lambda r: -(r.value or 0))
    assert [r.rank for r in ranked[:3]] == [1, 2, 3]
    assert {r.rank_verdict for r in ranked[:10]} == {"one of the highest"}
    assert {r.rank_verdict for r in ranked[-10:]} == {"one of the lowest"}
    assert all(r.verdict in ("higher", "lower", "similar") for r in ranked)


def test_real_recorded_crime_excluding_fraud_matches_independent_sums(real_data, tmp_path):
    path = real_data / "home-office-prc" / "prc-pfa-mar2013-onwards-tables201718.csv"
    con = open_warehouse(tmp_path / "prc.duckdb")
    ingest(con, [path])
    measure = Measure(
        definition="crime excluding fraud",
        source="recorded_crime",
        crime_category=("victim-based", "other crimes against society"),
    )
    financial_year = Period(date(2017, 4, 1), date(2018, 3, 31), "2017/18")
    backend = ibis.duckdb.from_connection(con)
    got = measures.by_force(backend, measure, financial_year, 2017).to_pyarrow().to_pylist()
    totals = {r["force_code"]: r["value"] for r in got}
    fraud_groups = {"Fraud offences"}
    expected: dict[str, int] = defaultdict(int)
    aliases = reference.force_aliases()
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["Offence Group"] in fraud_groups:
                continue
            text = row["Number of Offences"].strip()
            expected[aliases[row["Force Name"]]] += 0 if text == "-00" else int(text)
    assert totals == pytest.approx(dict(expected))
    assert len(totals) == 44  # 43 forces and BTP; the fraud bodies have no non-fraud crime


def test_explain_shows_the_numbers_the_rule_and_files_and_its_sql_reproduces_them(national):
    from peelkit.service import explain

    result = explain(national, "E23000001", "FIN-5", sql=True)
    record, text = result.record, result.text
    assert f"{record.value:,.2f} percent" in text
    assert "England and Wales:" in text and "over 42 forces" in text
    assert "Dorset Police: unreliable outcome recording" in text
    assert "outcomes.csv" in text and "population.csv" not in text
    sql = text.split("SQL of the numerator (run it with peelkit query):\n")[1]
    sql = sql.split("\nSQL of the denominator")[0]
    [row] = national.execute(sql).fetchall()
    assert row[2] == record.numerator  # (force_code, key, value, ...)


def test_explain_names_the_rows_of_a_broken_down_indicator(national):
    from peelkit.service import BadArgument, explain

    with pytest.raises(BadArgument, match="has rows") as raised:
        explain(national, "E23000001", "FIG-4")
    assert raised.value.param == "row"
    result = explain(national, "E23000001", "FIG-4", row="1 Charged/Summonsed")
    assert "FIG-4" in result.text and "Charged/Summonsed" in result.text


def test_figure_1_is_a_five_year_series_on_the_stated_population_year(national):
    series = [r for r in compute(national, indicator_ids=["FIG-1"]) if r.force_code == "E23000001"]
    assert [r.period for r in series] == [f"12 months to 30 June {y}" for y in range(2012, 2017)]
    latest = by_force(compute(national, indicator_ids=["FIN-2"]))["E23000001"]
    assert series[-1].value == pytest.approx(latest.value)
    assert series[-1].population_year == latest.population_year == 2015
    assert series[-2].coverage == NO_DATA
    assert series[-2].note == (
        "numerator: recorded crime for Metropolitan Police Service lacks 2014/15 Q2–Q4 of the "
        "12 months to 30 June 2015 (it has 2015/16 Q1); load the Home Office police recorded "
        "crime table (Police Force Area) for those quarters"
    )
    assert {r.coverage for r in series[:3]} == {NO_DATA}
    share = by_force(compute(national, indicator_ids=["FIN-5"]))["E23000001"]
    assert share.population_year is None


def test_untracked_domestic_abuse_outcomes_are_rates_per_offence_with_their_exclusions(national):
    records = compute(national, indicator_ids=["FIG-8"])
    charged = {r.force_code: r for r in records if r.breakdown == "1"}
    assert {r.breakdown for r in records} == {"1", "3"}
    i = next(n for n, f in enumerate(FORCES) if f.code == "E23000001")
    met = charged["E23000001"]
    assert met.value == pytest.approx(25 * scale(i) / (100 + i) * 100)
    assert charged[DORSET].coverage == EXCLUDED and charged[NOTTS].coverage == EXCLUDED
    assert charged[KENT].coverage == NOT_SUPPLIED  # its offences could not be supplied
    assert {DORSET, NOTTS, KENT}.isdisjoint(met.ew_forces) and len(met.ew_forces) == 40
    # untracked rates are not shares of a cohort: no "not yet assigned" row, no Figure 4 groups
    assert not any(r.breakdown and r.breakdown.startswith("group") for r in records)


def test_ocg_shares_by_predominant_type_leave_out_humberside(national):
    records = compute(national, indicator_ids=["FIG-10"])
    drugs = {r.force_code: r for r in records if r.breakdown == "drug activity"}
    total = sum(OCG_TYPES.values())
    assert drugs["E23000001"].value == pytest.approx(6 / total * 100)
    assert drugs[HUMBERSIDE].coverage == EXCLUDED
    assert HUMBERSIDE not in drugs["E23000001"].ew_forces


def test_a_later_release_replaces_a_forces_quarter_as_a_whole(tmp_path):
    """The second release revises Kent's last quarter (assaults 50 -> 70) and no longer lists
    drug trafficking there; Kent's other quarters and the other force come from the first."""
    kent, surrey = reference.force_by_code()[KENT], reference.force_by_code()["E23000031"]
    first, second = [PRC_HEADER], [PRC_HEADER]
    for f in (kent, surrey):
        for year, quarter in WINDOW:
            first.append([year, quarter, f.ons_name, *ASSAULT, " 50 "])
            first.append([year, quarter, f.ons_name, *DRUGS, " 5 "])
    second.append([*WINDOW[-1], kent.ons_name, *ASSAULT, " 70 "])
    con = open_warehouse(tmp_path / "w.duckdb")
    ingest(con, [write(tmp_path / "prc-first.csv", first)])
    ingest(con, [write(tmp_path / "prc-second.csv", second)])
    loads = dict(con.execute("SELECT path, load_id FROM loads").fetchall())
    measure = Measure(definition="all crime", source="recorded_crime")
    window = Period(date(2015, 7, 1), date(2016, 6, 30), "12 months to 30 June 2016")
    backend = ibis.duckdb.from_connection(con)
    got = {
        r["force_code"]: r
        for r in measures.by_force(backend, measure, window, 2015).to_pyarrow().to_pylist()
    }
    assert got[KENT]["value"] == 3 * (50 + 5) + 70
    assert got[surrey.code]["value"] == 4 * (50 + 5)
    assert got[KENT]["parts"] == got[surrey.code]["parts"] == 4
    assert sorted(got[KENT]["load_ids"]) == sorted(loads.values())
    assert got[surrey.code]["load_ids"] == [loads[str(tmp_path / "prc-first.csv")]]


def test_explain_computes_once_even_for_a_period_typed_as_printed(demo_run, monkeypatch):
    import duckdb

    from peelkit import service
    from peelkit.indicators import engine

    calls = []
    compute = engine.compute

    def counted(*args, **kwargs):
        calls.append(kwargs.get("period_end"))
        return compute(*args, **kwargs)

    monkeypatch.setattr(engine, "compute", counted)
    con = duckdb.connect(str(demo_run.warehouse), read_only=True)
    try:
        text = service.explain(con, "E23000001", "FIG-1", "12 months to 30 June 2014").text
    finally:
        con.close()
    assert "12 months to 30 June 2014" in text
    assert len(calls) == 1


def test_rows_carry_keys_and_periods_carry_dates_so_nothing_parses_a_label(demo_run):
    import duckdb

    con = duckdb.connect(str(demo_run.warehouse), read_only=True)
    try:
        records = compute(con, indicator_ids=["FIG-4", "FIN-3"])
    finally:
        con.close()
    met = [r for r in records if r.force_code == "E23000001"]
    keys = {r.breakdown_key: r.breakdown for r in met if r.indicator_id == "FIG-4"}
    assert keys["1"] == "1 Charged/Summonsed"
    assert keys["total"] == "Total offences assigned an outcome"
    assert any(k.startswith("group:") and v == "group: " + k[6:] for k, v in keys.items())
    [change] = [r for r in met if r.indicator_id == "FIN-3"]
    assert change.window == "12 months to 30 June 2016"
    assert change.base_window == "12 months to 30 June 2015"
    assert change.period == f"{change.base_window} to {change.window}"
    assert (change.window_start, change.window_end) == (date(2015, 7, 1), date(2016, 6, 30))


def test_no_code_splits_a_label_to_find_a_key():
    import re
    from pathlib import Path

    import peelkit

    source = Path(peelkit.__file__).parent
    splitting = re.compile(r"(breakdown|period|row|\bb)\.(r?split|partition)\(")
    offenders = [
        f"{path.relative_to(source)}:{n}: {line.strip()}"
        for path in sorted(source.rglob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if splitting.search(line)
    ]
    assert offenders == []
