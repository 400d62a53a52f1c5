"""The demo dataset: the engine, reading the demo files through the real readers, gives back
every figure the 2016 Metropolitan Police report states; the 2016 data gaps are in the data;
the same seed gives the same bytes; everything is labelled synthetic."""

from __future__ import annotations

import hashlib
from decimal import Decimal

import pytest

from peelkit import stats
from peelkit.demo import DemoSpec, calibration
from peelkit.demo.allocate import apportion, transport
from peelkit.demo.pipeline import run_demo
from peelkit.demo.sample import LABEL
from peelkit.indicators.engine import COMPUTED, EXCLUDED, PARTIAL, BenchmarkRecord, compute
from peelkit.warehouse import open_read_only

MET = "E23000001"
DORSET, NOTTS, CITY, HUMBERSIDE = "E23000039", "E23000019", "E23000034", "E23000012"
DERBYSHIRE, SUFFOLK, DURHAM, GLOS = "E23000018", "E23000025", "E23000008", "E23000037"
WARWICKSHIRE, WEST_MERCIA = "E23000017", "E23000016"


@pytest.fixture(scope="module")
def records(demo_run) -> list[BenchmarkRecord]:
    con = open_read_only(demo_run.warehouse)
    try:
        return compute(con)
    finally:
        con.close()


def _row(records: list[BenchmarkRecord], indicator: str, row: str, force: str = MET):
    for r in records:
        if r.indicator_id != indicator or r.force_code != force:
            continue
        label = r.breakdown or ""
        if label == row or (row.isdigit() and label.split(" ")[0] == row):
            return r
    raise KeyError((indicator, row, force))


def _at_precision(value: float, stated: str) -> Decimal:
    decimals = -Decimal(stated).as_tuple().exponent
    return stats.round_half_up(value, int(decimals))


STATED = [v for v in calibration() if v.stated is not None]


@pytest.mark.parametrize(
    "value", STATED, ids=[f"{v.indicator}:{v.row or '-'}:{v.who}" for v in STATED]
)
def test_the_engine_gives_back_every_figure_the_report_states(records, value):
    record = _row(records, value.indicator, value.row)
    got = record.value if value.who == "met" else record.england_and_wales
    assert got is not None, f"{value.indicator} {value.row}: no value ({record.coverage})"
    assert _at_precision(got, value.stated) == Decimal(value.stated)
    if value.rank and value.who == "met":
        assert record.rank_verdict == value.rank


def test_every_planted_value_rounds_to_what_the_report_prints():
    for v in calibration():
        if v.stated is not None and v.planted is not None:
            assert _at_precision(v.planted, v.stated) == Decimal(v.stated), v
        if v.stated is None:
            assert v.note or v.indicator == "FIG-4", f"{v.indicator} {v.who}: say where it is from"


def test_the_report_s_other_facts_hold(records):
    rose = [r for r in records if r.indicator_id == "FIN-3" and r.value and r.value > 0]
    assert len(rose) == 39  # "39 of the 43 forces recorded more crime"
    vulnerable = [r.value for r in records if r.indicator_id == "FIG-6" and r.value is not None]
    assert (round(min(vulnerable), 1), round(max(vulnerable), 1)) == (3.9, 44.4)
    assert _row(records, "FIN-11", "").numerator == 727
    assert _row(records, "TXT-DVPO", "").numerator == 126
    assert _row(records, "TXT-PS", "").denominator == 429
    met_ocgs = {
        r.breakdown: r.value for r in records if r.indicator_id == "FIG-10" and r.force_code == MET
    }
    assert max(met_ocgs, key=lambda k: met_ocgs[k] or 0) == "drug activity"
    ew = {
        r.breakdown: r.england_and_wales
        for r in records
        if r.indicator_id == "FIG-10" and r.force_code == MET
    }
    assert max(ew, key=lambda k: ew[k] or 0) == "drug activity"
    group = _row(records, "FIG-4", "group: Out-of-court (formal)")
    members = [_row(records, "FIG-4", k) for k in ("2", "3", "6")]
    assert group.numerator == sum(m.numerator for m in members)


# The 2016 data rules of methodology.md §2.10, as they must show in the demo's records.
RULES = [
    ("FIN-5", DORSET, EXCLUDED, "Niche"),
    ("FIN-6", DORSET, EXCLUDED, "Niche"),
    ("FIN-7", DORSET, EXCLUDED, "Niche"),
    ("FIG-4", DORSET, EXCLUDED, "Niche"),
    ("FIG-5", DORSET, EXCLUDED, "Niche"),
    ("FIG-8", DORSET, EXCLUDED, "Niche"),
    ("FIG-8", NOTTS, EXCLUDED, "conversion"),
    ("FIN-11", CITY, EXCLUDED, "remit"),
    ("FIG-6", CITY, EXCLUDED, "could not supply"),
    ("FIG-6", "E23000035", EXCLUDED, "could not supply"),
    ("FIG-6", "E23000028", EXCLUDED, "could not supply"),
    ("FIG-6", GLOS, EXCLUDED, "could not supply"),
    ("FIG-6", "E23000003", EXCLUDED, "could not supply"),
    ("FIG-6", SUFFOLK, PARTIAL, "eight months"),
    ("FIG-7", DERBYSHIRE, EXCLUDED, "could not supply"),
    ("FIG-7", DURHAM, EXCLUDED, "could not supply"),
    ("FIG-7", GLOS, EXCLUDED, "could not supply"),
    ("FIG-7", "E23000023", COMPUTED, "manual custody audit"),
    ("FIG-7", "E23000003", COMPUTED, "23 days"),
    ("FIG-10", HUMBERSIDE, EXCLUDED, "predominant crime types"),
    ("FIG-10", WARWICKSHIRE, COMPUTED, "together"),
    ("FIN-11", WARWICKSHIRE, COMPUTED, "combined"),
    ("FIN-11", WEST_MERCIA, COMPUTED, "combined"),
    ("FIN-5", DERBYSHIRE, PARTIAL, "three quarters"),
    ("FIG-4", SUFFOLK, PARTIAL, "three quarters"),
    ("FIN-5", "E23000021", COMPUTED, "pilot"),
    ("FIG-4", "E23000015", COMPUTED, "pilot"),
    ("FIG-5", "E23000010", COMPUTED, "pilot"),
    ("FIN-8", WARWICKSHIRE, COMPUTED, "pro rata"),
    ("FIG-3", "E23000011", COMPUTED, "corrected"),
    ("FIN-8", "E23000026", COMPUTED, "corrected"),
]


@pytest.mark.parametrize("indicator, force, coverage, reason", RULES)
def test_every_2016_data_rule_shows_in_the_demo_output(records, indicator, force, coverage, reason):
    rows = [r for r in records if r.indicator_id == indicator and r.force_code == force]
    assert rows
    for r in rows:
        if r.breakdown and r.breakdown.startswith(("group:", "Total")):
            continue
        assert r.coverage == coverage and reason in (r.note or ""), r
        assert (r.value is None) == (coverage == EXCLUDED)
        if coverage == EXCLUDED:
            assert force not in r.ew_forces


def test_british_transport_police_is_never_in_england_and_wales(records):
    assert all("BTP" not in r.ew_forces for r in records)


def test_the_gaps_are_in_the_data_not_in_code(demo_run):
    con = open_read_only(demo_run.warehouse)
    try:
        one = lambda sql: con.execute(sql).fetchone()[0]  # noqa: E731
        assert (
            one(
                f"SELECT count(*) FROM crime_outcomes WHERE force_code = '{DERBYSHIRE}' "
                "AND quarter_start = DATE '2016-04-01'"
            )
            == 0
        )
        assert (
            one(
                f"SELECT count(*) FROM crime_outcomes WHERE force_code = '{DERBYSHIRE}' "
                "AND quarter_start = DATE '2016-01-01'"
            )
            > 0
        )
        assert (
            one(
                f"SELECT count(*) FROM data_returns WHERE force_code = '{WARWICKSHIRE}' "
                "AND item = 'ocgs_active'"
            )
            == 0
        )
        assert (
            one(
                f"SELECT count(*) FROM data_returns WHERE force_code = '{HUMBERSIDE}' "
                "AND item = 'ocgs_predominant_type'"
            )
            == 0
        )
        assert (
            one(
                "SELECT count(DISTINCT force_code) FROM data_returns "
                "WHERE item = 'domestic_abuse_arrests' AND status = 'could not supply'"
            )
            == 3
        )
        assert one("SELECT count(DISTINCT force_code) FROM recorded_crime") == 48
        assert (
            one("SELECT count(DISTINCT quarter_start) FROM recorded_crime") == 28
        )  # every quarter, 2010/11 to 2016/17
        assert one("SELECT count(DISTINCT offence_code) FROM recorded_crime") == 132
    finally:
        con.close()


def test_everything_is_labelled_synthetic(demo_run, records):
    assert LABEL in (demo_run.data / "README.txt").read_text(encoding="utf-8")
    for name in ("population-mid-2010-to-2016-synthetic.csv", "data-returns-2016-synthetic.csv"):
        lines = (demo_run.data / "peelkit" / name).read_text(encoding="utf-8").splitlines()[1:]
        assert lines and all(LABEL in line for line in lines)
    assert all("synthetic" in p.name for p in (demo_run.data / "home-office").iterdir())
    assert {r.data_label for r in records} == {LABEL}
    assert LABEL in demo_run.output


def test_the_same_seed_gives_the_same_bytes_and_the_same_indicators(demo_run, records, tmp_path):
    again = run_demo(tmp_path / "data", tmp_path / "again.duckdb", DemoSpec())
    first = sorted(p for p in demo_run.data.rglob("*") if p.is_file())
    second = sorted(p for p in (tmp_path / "data").rglob("*") if p.is_file())
    assert [p.relative_to(demo_run.data) for p in first] == [
        p.relative_to(tmp_path / "data") for p in second
    ]
    for a, b in zip(first, second, strict=True):
        assert hashlib.sha256(a.read_bytes()).digest() == hashlib.sha256(b.read_bytes()).digest(), a
    assert [r.as_row() for r in again.records] == [r.as_row() for r in records]


def test_apportion_keeps_the_total_and_the_proportions():
    assert apportion(10, [1, 1, 1]) == [4, 3, 3]
    assert sum(apportion(1_000_003, [0.3, 0.2, 0.5])) == 1_000_003
    assert apportion(0, [0, 0]) == [0, 0]
    with pytest.raises(ValueError):
        apportion(5, [0, 0])


def test_transport_keeps_every_row_and_column_total():
    rows, cols = [7, 0, 13, 5], [10, 3, 12]
    table = transport(rows, cols)
    assert [sum(r) for r in table] == rows
    assert [sum(r[j] for r in table) for j in range(3)] == cols
    assert all(x >= 0 for r in table for x in r)
    with pytest.raises(ValueError):
        transport([1, 2], [4])
