"""Plausibility rules: implausible data are flagged after each load, never changed.

Each rule is tripped by a copy of a real file with the fault the rule looks for (written under
its real archive name in tmp_path), and not tripped by the real files as published.
"""

from __future__ import annotations

import csv
import shutil
from collections.abc import Iterable
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from peelkit import plausibility
from peelkit.cli import app
from peelkit.errors import ReferenceDataError
from peelkit.ingest import IngestReport, ingest
from peelkit.plausibility import parse_rules, record_findings, rules
from peelkit.service import explain
from peelkit.warehouse import FACT_TABLES, open_warehouse
from tests.conftest import REAL_PRC, real_prc_with_populations

CITY = "E23000034"
MET = "E23000001"
KENT = "E23000032"
CITY_FOLDER = Path("police-uk-city-of-london")
RULES_TEXT = (Path(plausibility.__file__).parent / "plausibility.toml").read_text("utf-8")


# -- helpers ------------------------------------------------------------------------------------


def load(con: duckdb.DuckDBPyConnection, *paths: Path) -> IngestReport:
    """Every ingest of these tests. A file whose rows are of another month than its name is
    refused unless the load accepts damaged files: the rules' findings are about what loads."""
    return ingest(con, list(paths), accept_damaged=True)


def city(real_data: Path, month: str, kind: str = "street") -> Path:
    return real_data / CITY_FOLDER / month / f"{month}-city-of-london-{kind}.csv"


def read(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))


def write(path: Path, rows: Iterable[list[str]], line_end: str = "\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator=line_end).writerows(rows)
    return path


def archive_copy(folder: Path, month: str, rows: list[list[str]], kind: str = "street") -> Path:
    """A changed copy of a City of London file, under its archive name."""
    return write(folder / month / f"{month}-city-of-london-{kind}.csv", rows)


def findings(con: duckdb.DuckDBPyConnection, rule: str | None = None) -> list[tuple[object, ...]]:
    return con.execute(
        "SELECT rule, source, force_code, period, rows, load_id, other_load_id, detail "
        "FROM findings WHERE ? IS NULL OR rule = ? ORDER BY ALL",
        [rule, rule],
    ).fetchall()


def load_id(con: duckdb.DuckDBPyConnection, path: Path) -> int:
    row = con.execute("SELECT load_id FROM loads WHERE path = ?", [str(path)]).fetchone()
    assert row is not None, f"{path} was not loaded"
    return int(row[0])


def first_crime(rows: list[list[str]]) -> list[str]:
    return next(r for r in rows[1:] if r[0])  # a crime: ASB rows have no Crime ID


@pytest.fixture
def con(tmp_path: Path) -> Iterable[duckdb.DuckDBPyConnection]:
    c = open_warehouse(tmp_path / "w.duckdb")
    yield c
    c.close()


# -- the real data as published --------------------------------------------------------------


def test_the_real_files_as_published_trip_no_rule(real_data, tmp_path):
    con = open_warehouse(tmp_path / "real.duckdb")
    report = load(con, real_data)
    assert len(report.loaded) == 69
    assert findings(con) == []
    con.close()
    out = CliRunner().invoke(app, ["coverage", "-w", str(tmp_path / "real.duckdb")]).output
    assert "Findings: none; the plausibility rules flagged nothing" in out


# -- low-month -------------------------------------------------------------------------------


def test_a_month_cut_to_a_fifth_of_its_rows_is_flagged_against_the_forces_previous_months(
    con, real_data, tmp_path
):
    first_half = [city(real_data, f"2016-0{m}") for m in range(1, 7)]  # 446-512 rows a month
    cut = archive_copy(tmp_path, "2016-07", read(city(real_data, "2016-07"))[:101])
    load(con, *first_half)
    load(con, cut)
    assert findings(con) == [
        (
            "low-month",
            "police_uk_street",
            CITY,
            "2016-07",
            100,
            load_id(con, cut),
            None,
            "100 rows, 20% of the median 500 of its 6 previous loaded months (2016-01 to "
            "2016-06); flagged under 50%",
        )
    ]


def test_the_real_months_and_a_low_month_without_enough_history_are_not_flagged(
    con, real_data, tmp_path
):
    load(con, *(city(real_data, f"2016-0{m}") for m in range(1, 8)))
    assert findings(con) == []
    # two months of history are fewer than the three the rule needs
    other = open_warehouse(tmp_path / "short.duckdb")
    cut = archive_copy(tmp_path, "2016-03", read(city(real_data, "2016-03"))[:51])
    load(other, city(real_data, "2016-01"), city(real_data, "2016-02"), cut)
    assert findings(other) == []


# -- duplicates ------------------------------------------------------------------------------


def test_a_street_file_holding_one_record_13_times_is_flagged(con, real_data, tmp_path):
    rows = read(city(real_data, "2016-08"))
    copied = archive_copy(tmp_path, "2016-08", rows + [first_crime(rows)] * 12)
    load(con, copied)
    [(rule, source, force, period, extra, loaded, other, detail)] = findings(con)
    assert (rule, source, force, period, extra, loaded, other) == (
        "duplicates",
        "police_uk_street",
        CITY,
        "2016-08",
        12,
        load_id(con, copied),
        None,
    )
    assert detail == (
        "12 extra row(s): 1 record(s) more than once in this file, one 13 times "
        f"(crime_id {first_crime(rows)[0]})"
    )


def test_the_real_street_file_with_its_identical_asb_rows_is_not_flagged(con, real_data):
    # the real 2017-01 file lists one anti-social behaviour report 16 times, "On or near Police
    # Station": ASB rows have no Crime ID and a location snapped to a map point
    load(con, city(real_data, "2017-01"), city(real_data, "2016-07", "outcomes"))
    assert findings(con) == []


def test_a_month_loaded_again_from_another_file_replaces_it_and_is_no_duplicate(
    con, real_data, tmp_path
):
    rows = read(city(real_data, "2016-08"))
    rows[1][10] = "Under investigation" if rows[1][10] != "Under investigation" else "Unknown"
    again = archive_copy(tmp_path, "2016-08", rows)  # a later download: one outcome updated
    load(con, city(real_data, "2016-08"))
    report = load(con, again)
    assert [r[:3] for r in report.replaced] == [("police_uk_street", CITY, "2016-08")]
    assert findings(con) == []
    assert con.execute("SELECT count(*) FROM police_uk_street").fetchone() == (len(rows) - 1,)


def test_an_offence_listed_twice_for_a_force_and_quarter_is_flagged_and_homicide_is_not(
    con, real_data, tmp_path
):
    rows = read(real_data / REAL_PRC)
    kent_q1 = [r for r in rows[1:] if r[2] == "Kent" and r[1].strip() == "1"]
    robbery = next(r for r in kent_q1 if r[6] == "34B")
    assert sum(r[6] == "1/4.1/4.10/4.2" for r in kent_q1) == 4  # as published: summed
    copy = write(tmp_path / "prc.csv", [rows[0], *kent_q1, robbery])
    load(con, copy)
    assert [f[:6] for f in findings(con)] == [
        ("duplicates", "recorded_crime", KENT, "2017/18 Q1", 1, load_id(con, copy))
    ]


# -- other-force -----------------------------------------------------------------------------


def test_a_row_of_another_force_in_a_city_file_is_flagged(con, real_data, tmp_path):
    rows = read(city(real_data, "2016-03"))
    rows[5][3] = "Metropolitan Police Service"  # Falls within
    changed = archive_copy(tmp_path, "2016-03", rows)
    load(con, changed)
    assert findings(con) == [
        (
            "other-force",
            "police_uk_street",
            MET,
            "2016-03",
            1,
            load_id(con, changed),
            None,
            "1 row(s) falling within Metropolitan Police Service in the file of City of London "
            "Police (2016-03-city-of-london-street.csv)",
        )
    ]


def test_the_real_city_files_hold_only_city_rows(con, real_data):
    load(con, *(city(real_data, "2016-03", kind) for kind in ("street", "outcomes")))
    assert findings(con, "other-force") == []


# -- other-month -----------------------------------------------------------------------------


def test_a_row_of_another_month_in_a_months_file_is_flagged(con, real_data, tmp_path):
    rows = read(city(real_data, "2016-09", "outcomes"))
    rows[7][1] = "2016-08"  # Month
    changed = archive_copy(tmp_path, "2016-09", rows, "outcomes")
    load(con, changed)
    assert findings(con) == [
        (
            "other-month",
            "police_uk_outcomes",
            CITY,
            "2016-08",
            1,
            load_id(con, changed),
            None,
            "1 row(s) dated 2016-08 in the file of 2016-09 (2016-09-city-of-london-outcomes.csv)",
        )
    ]


def test_stop_and_search_times_are_read_in_london_time_for_the_month(con, real_data):
    # 20 Met searches of the October 2015 file are at 23:xx UTC on 30 September: October in BST
    met = real_data / "police-uk-stop-and-search" / "2015-10"
    load(con, met / "2015-10-metropolitan-stop-and-search.csv")
    assert findings(con) == []


# -- quarter-move ----------------------------------------------------------------------------


def scaled_prc(real_data: Path, path: Path, factor: float, line_end: str = "\n") -> Path:
    """The real recorded crime table with the Metropolitan Police's 2017/18 Q1 counts scaled."""
    rows = read(real_data / REAL_PRC)
    for r in rows[1:]:
        count = r[7].strip()
        if r[2] == "Metropolitan Police" and r[1].strip() == "1" and count != "-00":
            r[7] = f" {round(int(count) * factor)} "
    return write(path, rows, line_end)


def test_a_quarter_whose_total_moves_more_than_5_percent_is_flagged_for_that_force_only(
    con, real_data, tmp_path
):
    load(con, real_data / REAL_PRC)
    revised = scaled_prc(real_data, tmp_path / "prc-revised.csv", 1.1)
    load(con, revised)
    first = load_id(con, real_data / REAL_PRC)
    [(rule, source, force, period, rows, loaded, other, detail)] = findings(con)
    assert (rule, source, force, period, loaded, other) == (
        "quarter-move",
        "recorded_crime",
        MET,
        "2017/18 Q1",
        load_id(con, revised),
        first,
    )
    assert rows == 131  # the Met's rows of the quarter in the new release
    assert detail.startswith("total 224,061 against 203,688 in the previous release, load ")
    assert detail.endswith(": +10.0%, more than 5%")


def test_small_moves_and_the_same_rows_released_again_are_not_flagged(con, real_data, tmp_path):
    load(con, real_data / REAL_PRC)
    byte_copy = tmp_path / "renamed.csv"
    shutil.copyfile(real_data / REAL_PRC, byte_copy)
    assert [f.status for f in load(con, byte_copy).files] == ["already loaded"]
    crlf = scaled_prc(real_data, tmp_path / "crlf.csv", 1.0, "\r\n")  # new bytes, same rows
    small = scaled_prc(real_data, tmp_path / "small.csv", 1.03)
    assert len(load(con, crlf).loaded) == 1 and len(load(con, small).loaded) == 1
    assert findings(con) == []


# -- findings never change the data ----------------------------------------------------------


def damaged_files(real_data: Path, folder: Path) -> list[Path]:
    """Files with every fault the rules look for."""
    street = read(city(real_data, "2016-08"))
    street[-1][3] = "Metropolitan Police Service"
    street[-2][1] = "2016-07"  # into a month already found low: not found low again
    return [
        *(city(real_data, f"2016-0{m}") for m in range(1, 7)),
        archive_copy(folder, "2016-07", read(city(real_data, "2016-07"))[:101]),
        archive_copy(folder, "2016-08", street + [first_crime(street)] * 12),
        real_data / REAL_PRC,
        scaled_prc(real_data, folder / "prc-revised.csv", 1.2),
    ]


def test_findings_never_change_the_data(real_data, tmp_path, monkeypatch):
    files = damaged_files(real_data, tmp_path / "files")
    checked = open_warehouse(tmp_path / "checked.duckdb")
    for f in files:
        load(checked, f)
    monkeypatch.setattr(plausibility, "rules", lambda: parse_rules(""))
    unchecked = open_warehouse(tmp_path / "unchecked.duckdb")
    for f in files:
        load(unchecked, f)
    assert {f[0] for f in findings(checked)} == {
        "low-month",
        "duplicates",
        "other-force",
        "other-month",
        "quarter-move",
    }
    assert findings(unchecked) == []
    for table in (*FACT_TABLES, "load_periods", "rejected_rows"):
        sql = f"SELECT * FROM {table} ORDER BY ALL"
        assert checked.execute(sql).fetchall() == unchecked.execute(sql).fetchall(), table
    ledger = "SELECT load_id, path, sha256, rows_read, rows_loaded, rows_rejected FROM loads"
    assert checked.execute(ledger).fetchall() == unchecked.execute(ledger).fetchall()


def test_running_the_rules_again_replaces_the_findings_of_those_loads(real_data, tmp_path):
    con = open_warehouse(tmp_path / "w.duckdb")
    for f in damaged_files(real_data, tmp_path / "files"):
        load(con, f)
    before = findings(con)
    ids = [i for (i,) in con.execute("SELECT load_id FROM loads").fetchall()]
    assert record_findings(con, ids) == len(before)
    # the same findings of the same loads; low-month now counts the row of 2016-07 that the
    # 2016-08 file brought after the month was judged
    assert [f[:4] + f[5:7] for f in findings(con)] == [f[:4] + f[5:7] for f in before]


# -- shown by coverage and explain -----------------------------------------------------------


def test_coverage_shows_the_findings_per_source_and_rule_with_their_files(real_data, tmp_path):
    wh = tmp_path / "w.duckdb"
    con = open_warehouse(wh)
    files = damaged_files(real_data, tmp_path / "files")
    for f in files:
        load(con, f)
    con.close()
    out = CliRunner().invoke(app, ["coverage", "-w", str(wh)]).output
    section = out.split("Findings of the plausibility rules, per source")[1]
    assert section.index("police_uk_street") < section.index("recorded_crime")
    words = " ".join(section.split())
    assert (
        "low-month: A force-month with far fewer rows than the force's own recent months (1)"
        in (words)
    )
    assert "City of London Police, 2016-07: 100 rows, 20% of the median" in words
    assert f"load 7: {files[6]}" in section
    assert "Metropolitan Police Service, 2016-08: 1 row(s) falling within" in words
    assert "Metropolitan Police Service, 2017/18 Q1: total" in words
    assert f"load 9: {real_data / REAL_PRC}" in section  # the previous release
    met_only = CliRunner().invoke(app, ["coverage", "-w", str(wh), "--force", "metropolitan"])
    assert "low-month" not in met_only.output and "quarter-move" in met_only.output


def test_coverage_summarises_many_findings_and_all_lists_every_one(real_data, tmp_path):
    rows = read(real_data / REAL_PRC)
    forces = sorted({r[2] for r in rows[1:] if r[6] == "34B"})[:8]
    doubled = [r for r in rows[1:] if r[2] in forces and r[1].strip() == "1" and r[6] == "34B"]
    wh = tmp_path / "w.duckdb"
    con = open_warehouse(wh)
    load(con, write(tmp_path / "prc.csv", [rows[0], *doubled, *doubled]))
    con.close()
    short = CliRunner().invoke(app, ["coverage", "-w", str(wh)]).output
    assert "duplicates: Records that appear more than once (8)" in short
    assert "… and 3 more, of " in short and "--all lists every finding" in short
    every = CliRunner().invoke(app, ["coverage", "-w", str(wh), "--all"]).output
    assert "… and" not in every.split("Findings of")[1]
    words = " ".join(every.split())
    assert words.count("1 extra row(s): 1 record(s) more than once in this file") == 8


def test_coverage_of_a_warehouse_made_before_the_rules_says_none_were_recorded(tmp_path):
    wh = tmp_path / "old.duckdb"
    con = open_warehouse(wh)
    con.execute("DROP TABLE findings")
    con.close()
    out = CliRunner().invoke(app, ["coverage", "-w", str(wh)])
    assert out.exit_code == 0, out.output
    assert "Findings: none recorded; this warehouse was made before" in out.output


def test_explain_lists_the_findings_of_the_loads_behind_the_figure(real_data, tmp_path):
    people = {MET: (2017, 8_825_000), KENT: (2017, 1_846_000)}
    con = real_prc_with_populations(real_data, tmp_path, people)
    load(con, scaled_prc(real_data, tmp_path / "prc-revised.csv", 1.1))
    met = explain(con, MET, "FIN-2", "2018-03-31").text
    assert "Plausibility findings in these loads for this force" in met
    assert "quarter-move (A quarter's total that moved between releases), recorded_crime " in met
    assert "2017/18 Q1, load 3: total 224,061 against 203,688" in met
    kent = explain(con, KENT, "FIN-2", "2018-03-31").text
    assert "Plausibility findings: none in these loads for this force" in kent


# -- the rules file --------------------------------------------------------------------------


def test_the_packaged_rules_declare_each_check_with_its_parameters():
    declared = {r.id: r for r in rules().rules}
    assert list(declared) == [
        "low-month",
        "duplicates",
        "other-force",
        "other-month",
        "quarter-move",
    ]
    low = declared["low-month"]
    assert isinstance(low, plausibility.LowMonth)
    assert (low.share, low.months, low.min_months) == (0.5, 6, 3)
    move = declared["quarter-move"]
    assert isinstance(move, plausibility.QuarterMove) and move.share == 0.05
    dup = declared["duplicates"]
    assert isinstance(dup, plausibility.Duplicates)
    assert dup.of("recorded_crime").usual_copies == (("1/4.1/4.10/4.2", 4),)


@pytest.mark.parametrize(
    ("old", "new", "complaint"),
    [
        ("{months} previous", "{monhts} previous", "rule low-month → finding: unknown placeholder"),
        ("{other_file}): {change", "{file_name}): {change", "rule quarter-move → finding: "),
        ("{rows:,} row(s) falling", "{rows:%Y} row(s) falling", "rule other-force → finding:"),
        ('id = "low-month"', 'id = "low-months"', "'low-months' is not a rule peelkit runs"),
        ("share = 0.05", "share = 5", "rule quarter-move → share: expected a share between"),
        ("min_months = 3", "min_months = 7", "rule low-month → min_months: is more than"),
        ("min_months = 3", "min_month = 3", "min_months: missing"),
        ('sources = ["recorded_crime"]', 'sources = ["police_uk_street"]', "not a source this"),
        ("[rule.records.recorded_crime]", "[rule.records.crime_outcomes]", "one entry per source"),
        (
            'record = ["offence_code"]\nwithin_file = true',
            'record = ["offence_code"]\nwithin_file = 0',
            "records.recorded_crime → within_file",
        ),
        ('time_zone = "Europe/London"', "time_zone = 1", "rule other-month → time_zone"),
    ],
)
def test_the_rules_file_is_checked_when_read_naming_the_file_and_key(old, new, complaint):
    assert old in RULES_TEXT
    with pytest.raises(ReferenceDataError, match=r"^plausibility\.toml") as caught:
        parse_rules(RULES_TEXT.replace(old, new, 1))
    assert complaint in str(caught.value)


def test_a_column_the_table_lacks_is_an_error_naming_the_rule_and_key(con, real_data):
    text = RULES_TEXT.replace('row_force = "force_code"', 'row_force = "falls_within"')
    with pytest.raises(ReferenceDataError, match="rule other-force → row_force: police_uk_street"):
        record_findings(con, [1], parse_rules(text))
