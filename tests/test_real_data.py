"""Every real file in ../shared/data/real loads, with the counts and quirks its README documents.

Expected numbers below are copied from shared/data/real/README.md, or computed here from the
raw files with Python's csv module, independently of peelkit's readers.
"""

from __future__ import annotations

import csv
from collections import Counter
from datetime import date
from pathlib import Path

import duckdb
import pytest

from peelkit.ingest import ingest
from peelkit.warehouse import open_warehouse

# month: (street rows, of which ASB, outcomes rows, stop-and-search rows or None)
CITY_OF_LONDON = {
    "2016-01": (446, 65, 574, 150),
    "2016-02": (509, 92, 479, 102),
    "2016-03": (499, 57, 620, 114),
    "2016-04": (512, 79, 438, 108),
    "2016-05": (458, 50, 419, 99),
    "2016-06": (500, 64, 548, 99),
    "2016-07": (536, 73, 418, 99),
    "2016-08": (590, 96, 590, 125),
    "2016-09": (648, 155, 473, 99),
    "2016-10": (608, 168, 551, 104),
    "2016-11": (634, 167, 661, 117),
    "2016-12": (646, 157, 376, 114),
    "2017-01": (483, 129, 477, 100),
    "2017-02": (597, 146, 658, 120),
    "2017-03": (715, 179, 609, 88),
    "2017-04": (626, 152, 422, None),
    "2017-05": (505, 0, 399, None),
    "2017-06": (606, 151, 424, None),
}
OLDER_STOP_SEARCH = {
    ("2015-03", "city-of-london"): 114,
    ("2015-04", "city-of-london"): 166,
    ("2015-05", "city-of-london"): 110,
    ("2015-06", "city-of-london"): 107,
    ("2015-07", "city-of-london"): 132,
    ("2015-08", "city-of-london"): 150,
    ("2015-09", "city-of-london"): 140,
    ("2015-10", "city-of-london"): 92,
    ("2015-10", "metropolitan"): 14916,
    ("2015-11", "city-of-london"): 131,
    ("2015-11", "metropolitan"): 13227,
    ("2015-12", "city-of-london"): 105,
    ("2015-12", "metropolitan"): 11594,
    ("2016-01", "metropolitan"): 15026,
}
CITY = "E23000034"
MET = "E23000001"


@pytest.fixture(scope="module")
def loaded(real_data: Path, tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    con = open_warehouse(tmp_path_factory.mktemp("real") / "real.duckdb")
    report = ingest(con, [real_data])
    assert all(f.status == "loaded" for f in report.files)
    return con


def one(con: duckdb.DuckDBPyConnection, sql: str, params: list[object] | None = None) -> object:
    row = con.execute(sql, params or []).fetchone()
    assert row is not None
    return row[0]


def load_of(con: duckdb.DuckDBPyConnection, name: str) -> tuple[int, int, int, int]:
    row = con.execute(
        "SELECT load_id, rows_read, rows_loaded, rows_rejected FROM loads WHERE path LIKE ?",
        ["%/" + name],
    ).fetchone()
    assert row is not None, f"{name} was not loaded"
    return row


def test_every_real_file_loads_once_with_no_rejections(loaded, real_data):
    files = [p for p in real_data.rglob("*") if p.suffix in (".csv", ".ods")]
    assert len(files) == 69
    assert one(loaded, "SELECT count(*) FROM loads") == 69
    assert one(loaded, "SELECT sum(rows_rejected) FROM loads") == 0
    assert one(loaded, "SELECT count(*) FROM loads WHERE rows_read <> rows_loaded") == 0


@pytest.mark.parametrize("month", sorted(CITY_OF_LONDON))
def test_city_of_london_month_counts_match_the_readme(loaded, month):
    street, asb, outcomes, searches = CITY_OF_LONDON[month]
    _, read, rows, _ = load_of(loaded, f"{month}-city-of-london-street.csv")
    assert read == rows == street
    in_table = loaded.execute(
        "SELECT count(*), count(*) FILTER (crime_type = 'Anti-social behaviour') "
        "FROM police_uk_street WHERE month = ? AND force_code = ?",
        [date.fromisoformat(month + "-01"), CITY],
    ).fetchone()
    assert in_table == (street, asb)
    assert load_of(loaded, f"{month}-city-of-london-outcomes.csv")[1] == outcomes
    if searches is not None:
        assert load_of(loaded, f"{month}-city-of-london-stop-and-search.csv")[1] == searches


def test_police_uk_totals_match_the_readme(loaded):
    assert one(loaded, "SELECT count(*) FROM police_uk_street") == 10_118
    asb = "SELECT count(*) FROM police_uk_street WHERE crime_type = 'Anti-social behaviour'"
    assert one(loaded, asb) == 1_980
    assert one(loaded, "SELECT count(*) FROM police_uk_outcomes") == 9_136
    city_searches = "SELECT count(*) FROM police_uk_stop_search WHERE month >= DATE '2016-01-01'"
    city_searches += f" AND force_code = '{CITY}'"
    assert one(loaded, city_searches) == 1_638


@pytest.mark.parametrize(("month", "force"), sorted(OLDER_STOP_SEARCH))
def test_older_stop_and_search_files_with_crlf_load_every_row(loaded, month, force):
    _, read, rows, rejected = load_of(loaded, f"{month}-{force}-stop-and-search.csv")
    assert read == rows == OLDER_STOP_SEARCH[(month, force)]
    assert rejected == 0


def test_asb_rows_have_no_crime_id_and_no_outcome(loaded):
    rows = loaded.execute(
        "SELECT count(*) FILTER (crime_id IS NOT NULL), "
        "count(*) FILTER (last_outcome_category IS NOT NULL) "
        "FROM police_uk_street WHERE crime_type = 'Anti-social behaviour'"
    ).fetchone()
    assert rows == (0, 0)
    crimes = loaded.execute(
        "SELECT count(*), count(*) FILTER (regexp_full_match(crime_id, '[0-9a-f]{64}')) "
        "FROM police_uk_street WHERE crime_type <> 'Anti-social behaviour'"
    ).fetchone()
    assert crimes is not None and crimes[0] == crimes[1] == 10_118 - 1_980


def test_no_location_rows_load_with_missing_coordinates_not_zero(loaded):
    rows = loaded.execute(
        "SELECT count(*), count(longitude), count(latitude), count(lsoa_code) "
        "FROM police_uk_street WHERE location = 'No Location'"
    ).fetchone()
    assert rows == (465, 0, 0, 0)
    assert one(loaded, "SELECT count(*) FROM police_uk_street WHERE longitude = 0") == 0


def test_utc_times_before_midnight_stay_in_the_file_month(loaded):
    rows = loaded.execute(
        "SELECT count(*), min(month), max(month) FROM police_uk_stop_search "
        "WHERE force_code = ? AND date < TIMESTAMPTZ '2015-10-01 00:00:00+00'",
        [MET],
    ).fetchone()
    assert rows == (20, date(2015, 10, 1), date(2015, 10, 1))


def test_empty_asb_month_is_partial_coverage_with_its_reason(loaded):
    row = loaded.execute(
        "SELECT status, reason, rows FROM coverage "
        "WHERE source = 'police_uk_street' AND force_code = ? AND period = '2017-05'",
        [CITY],
    ).fetchone()
    assert row is not None
    assert row[0] == "partial"
    assert "no anti-social behaviour rows" in row[1]
    assert row[2] == 505


def test_missing_stop_and_search_months_are_absent_not_zero(loaded):
    rows = loaded.execute(
        "SELECT period, status, rows FROM coverage WHERE source = 'police_uk_stop_search' "
        "AND force_code = ? AND period >= '2017-04' ORDER BY period",
        [CITY],
    ).fetchall()
    assert rows == [("2017-04", "absent", 0), ("2017-05", "absent", 0), ("2017-06", "absent", 0)]
    met_only = loaded.execute(
        "SELECT list(period ORDER BY period) FROM coverage "
        "WHERE source = 'police_uk_stop_search' AND force_code = ? AND status = 'present'",
        [MET],
    ).fetchone()
    assert met_only == (["2015-10", "2015-11", "2015-12", "2016-01"],)


# -- Home Office recorded crime ----------------------------------------------------------------


def raw_prc(real_data: Path) -> list[dict[str, str]]:
    path = real_data / "home-office-prc" / "prc-pfa-mar2013-onwards-tables201718.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_recorded_crime_loads_every_row_and_force_totals_match(loaded, real_data):
    raw = raw_prc(real_data)
    assert len(raw) == 23_068
    _, read, rows, rejected = load_of(loaded, "prc-pfa-mar2013-onwards-tables201718.csv")
    assert (read, rows, rejected) == (23_068, 23_068, 0)
    assert one(loaded, "SELECT sum(source_rows) FROM recorded_crime") == 23_068
    totals = dict(
        loaded.execute(
            "SELECT f.ons_name, sum(offences) FROM recorded_crime JOIN forces f "
            "ON f.code = force_code WHERE f.kind = 'territorial' GROUP BY 1"
        ).fetchall()
    )
    assert totals["Metropolitan Police"] == 815_528
    assert totals["Avon and Somerset"] == 140_071
    assert totals["Dyfed-Powys"] == 25_742
    independent: Counter[str] = Counter()
    for r in raw:
        text = r["Number of Offences"].strip()
        independent[r["Force Name"]] += 0 if text == "-00" else int(text)
    assert totals["Devon & Cornwall"] == independent["Devon and Cornwall"]
    assert totals["London, City of"] == independent["London, City of"]


def test_padded_numbers_and_minus_zero_are_read_as_published(loaded, real_data):
    raw = raw_prc(real_data)
    minus_zero = [r for r in raw if r["Number of Offences"] == "-00 "]
    assert len(minus_zero) == 5_792
    padded = [r for r in raw if r["Number of Offences"].startswith(" ")]
    assert padded, "the file pads counts with spaces"
    sample = next(r for r in minus_zero if r["Offence Code"] != "1/4.1/4.10/4.2")
    value = one(
        loaded,
        "SELECT offences FROM recorded_crime JOIN force_aliases a ON a.code = force_code "
        "WHERE a.alias = ? AND financial_quarter = ? AND offence_code = ?",
        [sample["Force Name"], int(sample["Financial Quarter"]), sample["Offence Code"]],
    )
    assert value == 0


def test_repeated_homicide_rows_are_summed(loaded, real_data):
    met_q1 = [
        r
        for r in raw_prc(real_data)
        if r["Force Name"] == "Metropolitan Police"
        and r["Financial Quarter"] == "1"
        and r["Offence Code"] == "1/4.1/4.10/4.2"
    ]
    assert [r["Number of Offences"] for r in met_q1] == ["-00 ", "-00 ", " 2 ", " 46 "]
    row = loaded.execute(
        "SELECT offences, source_rows FROM recorded_crime WHERE force_code = ? "
        "AND financial_quarter = 1 AND offence_code = '1/4.1/4.10/4.2'",
        [MET],
    ).fetchone()
    assert row == (48, 4)


def test_btp_and_fraud_bodies_are_recognised_as_non_territorial(loaded):
    kinds = dict(
        loaded.execute(
            "SELECT f.name, f.kind FROM (SELECT DISTINCT force_code FROM recorded_crime) "
            "JOIN forces f ON f.code = force_code WHERE f.kind <> 'territorial'"
        ).fetchall()
    )
    assert kinds == {
        "British Transport Police": "non-territorial force",
        "Action Fraud": "fraud body",
        "CIFAS": "fraud body",
        "UK Finance": "fraud body",
        "Financial Fraud Action UK": "fraud body",
    }
    territorial = "SELECT count(DISTINCT force_code) FROM recorded_crime r JOIN forces f "
    territorial += "ON f.code = r.force_code WHERE f.kind = 'territorial'"
    assert one(loaded, territorial) == 43


def test_every_offence_code_in_use_is_in_the_classification(loaded):
    assert one(loaded, "SELECT count(DISTINCT offence_code) FROM recorded_crime") == 132
    unknown = "SELECT count(*) FROM recorded_crime WHERE offence_code NOT IN "
    unknown += "(SELECT offence_code FROM offence_classification)"
    assert one(loaded, unknown) == 0


# -- ONS lookup and workforce ------------------------------------------------------------------


def test_ons_lookup_with_bom_gives_all_43_pfas_matching_the_reference(loaded):
    _, read, rows, rejected = load_of(
        loaded,
        "Local_Authority_District_to_Community_Safety_Partnerships_to_Police_Force_Areas"
        "__December_2016__Lookup_in_England_and_Wales.csv",
    )
    assert (read, rows, rejected) == (348, 348, 0)
    assert one(loaded, "SELECT count(DISTINCT csp_code) FROM lad_csp_pfa") == 315
    pfas = loaded.execute("SELECT DISTINCT pfa_code, pfa_name FROM lad_csp_pfa").fetchall()
    reference = loaded.execute(
        "SELECT code, ons_name FROM forces WHERE kind = 'territorial'"
    ).fetchall()
    assert sorted(pfas) == sorted(reference)


FILE_2015 = "(SELECT min(load_id) FROM workforce WHERE as_at = DATE '2014-09-30')"


@pytest.mark.parametrize(
    ("alias", "officers"),
    [("Metropolitan Police", 31_793), ("London, City of", 718), ("Cleveland", 1_315)],
)
def test_workforce_sep_2015_officers_match_the_published_table(loaded, alias, officers):
    value = one(
        loaded,
        "SELECT value FROM workforce w JOIN force_aliases a ON a.code = w.force_code "
        "WHERE a.alias = ? AND worker_type = 'police officers' AND as_at = DATE '2015-09-30' "
        f"AND w.load_id = {FILE_2015}",
        [alias],
    )
    assert isinstance(value, float) and round(value) == officers


def test_a_revised_figure_in_a_later_release_is_kept_beside_the_first(loaded):
    values = loaded.execute(
        "SELECT value FROM workforce WHERE force_code = ? AND worker_type = 'police officers' "
        "AND as_at = DATE '2015-09-30' ORDER BY load_id",
        [MET],
    ).fetchall()
    assert sorted(round(v) for (v,) in values) == [31_793, 32_183]


def test_workforce_reads_west_midlands_force_not_region_and_strips_footnote_digits(loaded):
    rows = dict(
        loaded.execute(
            "SELECT f.ons_name, count(*) FROM workforce JOIN forces f ON f.code = force_code "
            "WHERE f.ons_name IN ('West Midlands', 'Wiltshire', 'Derbyshire') GROUP BY 1"
        ).fetchall()
    )
    # 5 tables x 3 dates x 2 files
    assert rows == {"West Midlands": 30, "Wiltshire": 30, "Derbyshire": 30}
    total = one(
        loaded,
        "SELECT round(sum(value)) FROM workforce w JOIN forces f ON f.code = w.force_code "
        "WHERE f.kind = 'territorial' AND worker_type = 'police officers' "
        f"AND as_at = DATE '2015-09-30' AND w.load_id = {FILE_2015}",
    )
    assert total == 125_185  # "Total 43 forces", September 2015, in the 2015 file
