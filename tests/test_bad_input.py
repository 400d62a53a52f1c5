"""Bad input: every error a user can cause says what, where and what to do — and changes nothing.

Each test first loads a good real file, takes ``snapshot()`` of the warehouse, then attempts
the bad load. A load that raises must leave the snapshot exactly as it was; a load that
rejects rows must add exactly the good rows and a ``rejected_rows`` entry per bad row.

The command is also run in-process with typer's ``CliRunner`` on ``peelkit.cli.app``: there a
PeelkitError propagates as ``result.exception`` (``peelkit.cli.main`` is what turns it into
exit status 1 and a message on standard error, tested once at the end of the header cases).
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner, Result

from peelkit import cli
from peelkit.demo.sample import OUTCOMES_TABLE_HEADER, PRC_HEADER, STREET_HEADER
from peelkit.errors import (
    InputError,
    MissingContext,
    PeelkitError,
    RejectedRows,
    UnknownForce,
    UnknownFormat,
)
from peelkit.ingest import ingest
from peelkit.readers import csv_formats
from peelkit.warehouse import open_warehouse, reading, snapshot

runner = CliRunner()

CITY = "City of London Police"
CITY_2016_01 = Path("police-uk-city-of-london/2016-01/2016-01-city-of-london-street.csv")
CITY_2016_02 = Path("police-uk-city-of-london/2016-02/2016-02-city-of-london-street.csv")
MET_SEARCHES_2015_10 = Path(
    "police-uk-stop-and-search/2015-10/2015-10-metropolitan-stop-and-search.csv"
)

DATA_RETURNS_HEADER = "force,item,period,value,unit,note"
HOMICIDE = "Homicide,Violence against the person,Homicide,1/4.1/4.10/4.2"
ROBBERY = "Robbery of personal property,Robbery,Robbery of personal property,34B"


def street_row(
    *,
    month: str = "2016-02",  # not the template's month (2016-01), which a load would replace
    reported_by: str = CITY,
    falls_within: str = CITY,
    longitude: str = "-0.111497",
    location: str = "On or near Pedestrian Subway",
    crime_type: str = "Anti-social behaviour",
) -> str:
    return (
        f",{month},{reported_by},{falls_within},{longitude},51.518226,{location},"
        f"E01000914,Camden 028B,{crime_type},,"
    )


def write(path: Path, header: str, rows: list[str]) -> Path:
    path.write_text(header + "\n" + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path


# -- fixtures: a warehouse with an initial good load, and its snapshot -------------------------


@dataclass
class Loaded:
    path: Path
    before: dict[str, list[tuple[object, ...]]]

    def snapshot(self) -> dict[str, list[tuple[object, ...]]]:
        with reading(self.path) as con:
            return snapshot(con)


def _initial_load(path: Path, real_data: Path) -> dict[str, list[tuple[object, ...]]]:
    con = open_warehouse(path)
    try:
        report = ingest(con, [real_data / CITY_2016_01])
        assert [(f.status, f.rows_loaded) for f in report.files] == [("loaded", 446)]
        before = snapshot(con)
    finally:
        con.close()
    assert len(before["loads"]) == 1 and len(before["police_uk_street"]) == 446
    return before


@pytest.fixture(scope="session")
def template(
    tmp_path_factory: pytest.TempPathFactory, real_data: Path
) -> tuple[Path, dict[str, list[tuple[object, ...]]]]:
    """A warehouse file with one good load, made once and copied for each test."""
    path = tmp_path_factory.mktemp("template") / "warehouse.duckdb"
    return path, _initial_load(path, real_data)


@pytest.fixture
def loaded(warehouse_path: Path, template) -> Loaded:
    """A closed warehouse file holding one good load (for CLI runs), with its snapshot."""
    shutil.copyfile(template[0], warehouse_path)
    return Loaded(warehouse_path, template[1])


@pytest.fixture
def con_before(
    warehouse_path: Path, template
) -> Iterator[tuple[duckdb.DuckDBPyConnection, dict[str, list[tuple[object, ...]]]]]:
    """An open warehouse holding one good load (for API calls), with its snapshot."""
    shutil.copyfile(template[0], warehouse_path)
    con = open_warehouse(warehouse_path)
    try:
        assert snapshot(con) == template[1]
        yield con, template[1]
    finally:
        con.close()


def cli_ingest(*args: str) -> Result:
    return runner.invoke(cli.app, ["ingest", *args], catch_exceptions=True)


def load_row(con: duckdb.DuckDBPyConnection, load_id: int) -> tuple[object, ...]:
    row = con.execute(
        "SELECT rows_read, rows_loaded, rows_rejected FROM loads WHERE load_id = ?", [load_id]
    ).fetchone()
    assert row is not None, f"no loads row for load {load_id}"
    return row


def rejected(con: duckdb.DuckDBPyConnection, load_id: int) -> list[tuple[object, ...]]:
    return con.execute(
        "SELECT line, field, reason, raw FROM rejected_rows WHERE load_id = ? ORDER BY line",
        [load_id],
    ).fetchall()


def assert_only_added(
    before: dict[str, list[tuple[object, ...]]], after: dict[str, list[tuple[object, ...]]]
) -> None:
    """Every row of ``before`` is still in ``after``: a load only ever adds."""
    for table, rows in before.items():
        remaining = list(after[table])
        for row in rows:
            assert row in remaining, f"{table} lost {row!r}"
            remaining.remove(row)


# -- 1. wrong or unknown header ----------------------------------------------------------------


def test_renamed_street_column_raises_unknown_format_naming_file_found_and_expected_header(
    con_before, tmp_path
):
    con, before = con_before
    renamed = STREET_HEADER.replace("Falls within", "Falls Within")
    bad = write(tmp_path / "2016-03-city-of-london-street.csv", renamed, [street_row()])

    with pytest.raises(UnknownFormat) as caught:
        ingest(con, [bad])

    message = str(caught.value)
    assert caught.value.path == str(bad)
    assert message.startswith(f"{bad}: the header is not one peelkit reads")
    assert f"found:    {renamed!r}" in message
    assert f"expected: {STREET_HEADER}  (police.uk street-level crime)" in message
    assert "missing 'Falls within'; unexpected 'Falls Within'" in message
    assert "restore the original header" in message and "peelkit formats" in message
    assert snapshot(con) == before


def test_unknown_header_names_file_expected_and_found_header(con_before, tmp_path):
    con, before = con_before
    bad = write(tmp_path / "mystery.csv", "when,where,how many", ["2016-01,Kent,3"])

    with pytest.raises(UnknownFormat) as caught:
        ingest(con, [bad])

    message = str(caught.value)
    assert caught.value.path == str(bad)
    assert str(bad) in message
    assert "found:    'when,where,how many'" in message
    expected_line = next(line for line in message.splitlines() if "expected:" in line)
    assert any(fmt.expected() in expected_line for fmt in csv_formats())
    assert "unexpected 'when', 'where', 'how many'" in message
    assert "peelkit formats" in message
    assert snapshot(con) == before


def test_unknown_header_among_good_files_loads_none_of_them(con_before, real_data, tmp_path):
    con, before = con_before
    good = real_data / CITY_2016_02
    bad = write(tmp_path / "mystery.csv", "when,where,how many", ["2016-01,Kent,3"])

    with pytest.raises(UnknownFormat, match=r"mystery\.csv"):
        ingest(con, [good, bad])

    assert snapshot(con) == before


def test_cli_ingest_of_renamed_header_fails_with_unknown_format_and_changes_nothing(
    loaded, tmp_path
):
    renamed = STREET_HEADER.replace("LSOA name", "LSOA Name")
    bad = write(tmp_path / "street.csv", renamed, [street_row()])

    result = cli_ingest(str(bad), "--warehouse", str(loaded.path))

    assert result.exit_code == 1
    assert isinstance(result.exception, UnknownFormat)
    message = str(result.exception)
    assert str(bad) in message and renamed in message and STREET_HEADER in message
    assert "missing 'LSOA name'; unexpected 'LSOA Name'" in message
    assert loaded.snapshot() == loaded.before


def test_main_exits_1_with_the_error_message_on_stderr_for_an_unknown_header(
    loaded, tmp_path, monkeypatch, capsys
):
    bad = write(tmp_path / "mystery.csv", "when,where,how many", ["2016-01,Kent,3"])
    monkeypatch.setattr(
        sys, "argv", ["peelkit", "ingest", str(bad), "--warehouse", str(loaded.path)]
    )

    with pytest.raises(SystemExit) as exited:
        cli.main()

    assert exited.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("Error: ")
    assert str(bad) in err and "the header is not one peelkit reads" in err
    assert "'when,where,how many'" in err and "Traceback" not in err
    assert loaded.snapshot() == loaded.before


# -- 2. bad rows are rejected with their line, field and reason; good rows load ---------------


def test_street_rows_with_bad_month_longitude_or_field_count_are_rejected_with_line_and_field(
    con_before, tmp_path
):
    con, before = con_before
    rows = [
        street_row(),  # line 2
        street_row(month="2016-13"),  # line 3
        street_row(crime_type="Burglary"),  # line 4
        street_row(longitude="abc"),  # line 5
        ",2016-01,City of London Police,City of London Police,-0.1,51.5",  # line 6: 6 fields
        street_row(crime_type="Robbery"),  # line 7
    ]
    path = write(tmp_path / "street.csv", STREET_HEADER, rows)

    report = ingest(con, [path])

    [result] = report.files
    assert (result.status, result.load_id) == ("loaded", 2)
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (6, 3, 3)
    assert load_row(con, 2) == (6, 3, 3)
    got = rejected(con, 2)
    assert [(line, field) for line, field, _, _ in got] == [
        (3, "Month"),
        (5, "Longitude"),
        (6, None),
    ]
    assert got[0][2] == "expected a month as YYYY-MM; found '2016-13'"
    assert got[1][2] == "expected a longitude in decimal degrees; found 'abc'"
    assert got[2][2].startswith("expected 12 fields, found ")
    assert [raw for _, _, _, raw in got] == [rows[1], rows[3], rows[4]]
    assert sorted(
        con.execute("SELECT crime_type FROM police_uk_street WHERE load_id = 2").fetchall()
    ) == [("Anti-social behaviour",), ("Burglary",), ("Robbery",)]
    assert len(report.rejects) == 3
    after = snapshot(con)
    assert_only_added(before, after)
    assert len(after["police_uk_street"]) == len(before["police_uk_street"]) + 3


def test_prc_number_of_offences_abc_is_rejected_with_line_and_field(con_before, tmp_path):
    con, before = con_before
    rows = [
        f"2017/18,1,Kent,{HOMICIDE}, 3 ",  # line 2
        f"2017/18,1,Kent,{HOMICIDE},abc",  # line 3
        f"2017/18,1,Kent,{ROBBERY},-00 ",  # line 4: '-00' is zero, as published
    ]
    path = write(tmp_path / "prc.csv", PRC_HEADER, rows)

    [result] = ingest(con, [path]).files

    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (3, 2, 1)
    assert load_row(con, 2) == (3, 2, 1)
    assert rejected(con, 2) == [
        (
            3,
            "Number of Offences",
            "expected a whole number (spaces around it and '-00' for zero are accepted)",
            rows[1],
        )
    ]
    assert sorted(
        con.execute(
            "SELECT force_code, offence_code, offences FROM recorded_crime WHERE load_id = 2"
        ).fetchall()
    ) == [("E23000032", "1/4.1/4.10/4.2", 3), ("E23000032", "34B", 0)]
    assert_only_added(before, snapshot(con))


def test_data_return_value_minus_5_or_n_a_is_rejected_with_line_and_field(con_before, tmp_path):
    con, before = con_before
    rows = [
        "Kent,ocgs_active,2016-07-01,12,groups,",  # line 2
        "Kent,calls_for_assistance,2015-07-01/2016-06-30,-5,calls,",  # line 3
        "Durham,ocgs_active,2016-07-01,n/a,groups,",  # line 4
        "Durham,domestic_abuse_arrests,2015-07-01/2016-06-30,could not supply,arrests,none",
    ]
    path = write(tmp_path / "returns.csv", DATA_RETURNS_HEADER, rows)

    [result] = ingest(con, [path]).files

    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (4, 2, 2)
    assert load_row(con, 2) == (4, 2, 2)
    reason = "expected a number of 0 or more, or the words 'could not supply'"
    assert rejected(con, 2) == [(3, "value", reason, rows[1]), (4, "value", reason, rows[2])]
    assert sorted(
        con.execute(
            "SELECT force_code, item, status, value FROM data_returns WHERE load_id = 2"
        ).fetchall()
    ) == [
        ("E23000008", "domestic_abuse_arrests", "could not supply", None),
        ("E23000032", "ocgs_active", "supplied", 12.0),
    ]
    assert_only_added(before, snapshot(con))


def test_cli_ingest_with_bad_rows_succeeds_and_prints_file_line_field_and_reason(loaded, tmp_path):
    path = write(
        tmp_path / "street.csv", STREET_HEADER, [street_row(), street_row(month="2016-13")]
    )

    result = cli_ingest(str(path), "--warehouse", str(loaded.path))

    assert result.exit_code == 0, result.output
    assert result.exception is None
    assert "1 rejected row(s)" in result.stdout
    assert f"{path}, line 3, field Month: expected a month as YYYY-MM; found '2016-13'" in (
        result.stdout.replace("\n", "")
    )
    after = loaded.snapshot()
    assert_only_added(loaded.before, after)
    assert len(after["rejected_rows"]) == 1


def test_rows_with_too_few_or_too_many_fields_are_rejected_with_their_real_field_count(
    con_before, tmp_path
):
    con, _ = con_before
    rows = [
        street_row() + ",x,y",  # line 2: 14 fields
        f",2016-01,{CITY},{CITY},-0.1,51.5",  # line 3: 6 fields
        f",2016-01,{CITY},{CITY}",  # line 4: 4 fields
        street_row(),  # line 5
    ]
    path = write(tmp_path / "street.csv", STREET_HEADER, rows)

    [result] = ingest(con, [path]).files

    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (4, 1, 3)
    assert [(line, field, reason) for line, field, reason, _ in rejected(con, 2)] == [
        (2, None, "expected 12 fields, found 14"),
        (3, None, "expected 12 fields, found 6"),
        (4, None, "expected 12 fields, found 4"),
    ]


def test_row_missing_a_field_is_rejected_not_taken_as_an_unknown_force(con_before, tmp_path):
    con, before = con_before
    rows = [
        street_row(),  # line 2
        # line 3: the 'Reported by' value was dropped, so the longitude sits under
        # 'Falls within'; the row has 11 fields and must be rejected for that.
        f",2016-01,{CITY},-0.1,51.5,On or near X,E01000914,Camden 028B,Anti-social behaviour,,",
    ]
    path = write(tmp_path / "street.csv", STREET_HEADER, rows)

    [result] = ingest(con, [path]).files

    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (2, 1, 1)
    assert [(line, field) for line, field, _, _ in rejected(con, result.load_id)] == [(3, None)]
    assert_only_added(before, snapshot(con))


def test_bad_row_ending_in_a_trailing_comma_is_rejected_not_a_failed_ingest(con_before, tmp_path):
    con, before = con_before
    rows = [
        "Kent,ocgs_active,2016-07-01,12,groups,",  # line 2
        "Kent,ocgs_active,2016-07-01,-5,groups,,",  # line 3: a 7th, empty field
    ]
    path = write(tmp_path / "returns.csv", DATA_RETURNS_HEADER, rows)

    [result] = ingest(con, [path]).files

    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (2, 1, 1)
    assert [line for line, _, _, _ in rejected(con, result.load_id)] == [3]
    assert_only_added(before, snapshot(con))


def test_rejected_row_after_a_multiline_quoted_field_gets_its_physical_line_number(
    con_before, tmp_path
):
    con, _ = con_before
    rows = [
        street_row(location='"On or near\nPedestrian Subway"'),  # lines 2-3: one record
        street_row(month="2016-13"),  # line 4
    ]
    path = write(tmp_path / "street.csv", STREET_HEADER, rows)

    [result] = ingest(con, [path]).files

    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (2, 1, 1)
    assert [(line, field) for line, field, _, _ in rejected(con, result.load_id)] == [(4, "Month")]


def test_rows_are_accounted_for_when_a_multiline_field_precedes_a_bad_value_and_a_bad_count(
    con_before, tmp_path
):
    con, _ = con_before
    rows = [
        '2017/18,1,Kent,"Homicide\n(all kinds)",Violence against the person,Homicide,'
        "1/4.1/4.10/4.2, 3 ",  # lines 2-3: one record
        f"2017/18,1,Kent,{HOMICIDE},abc",  # line 4: fails the count check
        "2017/18,1,Kent,Homicide,Violence against the person,Homicide,NOPE, 3 ",  # line 5
    ]
    path = write(tmp_path / "prc.csv", PRC_HEADER, rows)

    [result] = ingest(con, [path]).files

    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (3, 1, 2)
    assert [line for line, _, _, _ in rejected(con, result.load_id)] == [4, 5]


def test_unknown_offence_code_is_rejected_in_field_offence_code(con_before, tmp_path):
    con, _ = con_before
    rows = [
        f"2017/18,1,Kent,{HOMICIDE}, 3 ",
        "2017/18,1,Kent,Robbery of personal property,Robbery,Robbery of personal property,NOPE, 3 ",
    ]
    path = write(tmp_path / "prc.csv", PRC_HEADER, rows)

    [result] = ingest(con, [path]).files

    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (2, 1, 1)
    [(line, field, reason, _)] = rejected(con, result.load_id)
    assert (line, field) == (3, "Offence Code")
    assert reason == (
        "expected an offence code of the Home Office offence classification; found 'NOPE'"
    )


def test_unknown_outcome_type_is_rejected_in_field_outcome_type(con_before, tmp_path):
    con, _ = con_before
    row = f"2015/16,1,Kent,{HOMICIDE},Charged/Summonsed,Charged/Summonsed,{{t}}, 3 , 4 "
    path = write(
        tmp_path / "outcomes.csv", OUTCOMES_TABLE_HEADER, [row.format(t=1), row.format(t=99)]
    )

    [result] = ingest(con, [path]).files

    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (2, 1, 1)
    [(line, field, reason, _)] = rejected(con, result.load_id)
    assert (line, field) == (3, "Outcome Type")
    assert reason == "expected a Home Office outcome type number from 0 to 22; found '99'"


def test_prc_financial_year_that_is_not_a_year_is_rejected_not_an_unreadable_file(
    con_before, tmp_path
):
    con, before = con_before
    rows = [
        f"2017/18,1,Kent,{HOMICIDE}, 3 ",  # line 2
        f"abcd,1,Kent,{HOMICIDE}, 3 ",  # line 3
    ]
    path = write(tmp_path / "prc.csv", PRC_HEADER, rows)

    [result] = ingest(con, [path]).files

    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (2, 1, 1)
    assert rejected(con, result.load_id) == [
        (3, "Financial Year", "expected a financial year such as 2016/17", rows[1])
    ]
    assert_only_added(before, snapshot(con))


def test_prc_blank_financial_year_and_quarter_is_rejected_not_a_raw_duckdb_error(
    con_before, tmp_path
):
    con, before = con_before
    rows = [
        f"2017/18,1,Kent,{HOMICIDE}, 3 ",  # line 2
        f" ,,Kent,{HOMICIDE}, 3 ",  # line 3: blank year, empty quarter
    ]
    path = write(tmp_path / "prc.csv", PRC_HEADER, rows)

    [result] = ingest(con, [path]).files

    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (2, 1, 1)
    assert {field for line, field, _, _ in rejected(con, result.load_id)} >= {
        "Financial Year",
        "Financial Quarter",
    }
    assert {line for line, _, _, _ in rejected(con, result.load_id)} == {3}
    assert_only_added(before, snapshot(con))


# -- 3. --strict: any rejected row fails the whole ingest --------------------------------------


def test_strict_ingest_with_a_rejected_row_raises_rejected_rows_and_loads_no_file(
    con_before, real_data, tmp_path
):
    con, before = con_before
    bad = write(
        tmp_path / "street.csv",
        STREET_HEADER,
        [street_row(), street_row(month="2016-13"), f",2016-01,{CITY},{CITY}"],
    )

    with pytest.raises(RejectedRows) as caught:
        ingest(con, [real_data / CITY_2016_02, bad], strict=True)

    message = str(caught.value)
    assert message.startswith("--strict: 2 row(s) were rejected, so nothing was loaded:")
    assert f"  {bad}, line 3, field Month: expected a month as YYYY-MM; found '2016-13'" in message
    assert f"  {bad}, line 4, field (whole line): expected 12 fields, found " in message
    assert "load without --strict" in message
    assert snapshot(con) == before  # the good 2016-02 file of the same ingest is not loaded


def test_strict_ingest_without_rejected_rows_loads(con_before, real_data):
    con, before = con_before

    report = ingest(con, [real_data / CITY_2016_02], strict=True)

    assert [(f.status, f.rows_read, f.rows_rejected) for f in report.files] == [("loaded", 509, 0)]
    assert_only_added(before, snapshot(con))


def test_cli_strict_ingest_with_a_rejected_row_fails_and_changes_nothing(
    loaded, real_data, tmp_path
):
    bad = write(
        tmp_path / "returns.csv", DATA_RETURNS_HEADER, ["Kent,ocgs_active,2016-07-01,-5,groups,"]
    )

    result = cli_ingest(
        str(real_data / CITY_2016_02), str(bad), "--strict", "--warehouse", str(loaded.path)
    )

    assert result.exit_code == 1
    assert isinstance(result.exception, RejectedRows)
    message = str(result.exception)
    assert f"{bad}, line 2, field value: expected a number of 0 or more" in message
    assert "load without --strict" in message
    assert loaded.snapshot() == loaded.before


# -- 4. unknown force names --------------------------------------------------------------------


def test_unknown_falls_within_raises_unknown_force_with_closest_names_and_line(
    con_before, tmp_path
):
    con, before = con_before
    rows = [
        street_row(reported_by="Kent Police", falls_within="Kent Police"),
        street_row(reported_by="Kent Police", falls_within="Kentt Police"),  # line 3
    ]
    bad = write(tmp_path / "street.csv", STREET_HEADER, rows)

    with pytest.raises(UnknownForce) as caught:
        ingest(con, [bad])

    error = caught.value
    assert (error.path, error.name, error.line) == (str(bad), "Kentt Police", 3)
    assert error.closest[0] == "Kent Police"
    message = str(error)
    assert message.startswith(
        f"{bad}, line 3, field 'Falls within': 'Kentt Police' is not a known force name."
    )
    assert "Closest known names: Kent Police, " in message
    assert "force_aliases.csv" in message  # what to do if the spelling is real
    assert snapshot(con) == before


def test_unknown_prc_force_name_raises_unknown_force_suggesting_metropolitan_police(
    con_before, tmp_path
):
    con, before = con_before
    rows = [
        f"2017/18,1,Metropolitan Police,{HOMICIDE}, 3 ",
        f"2017/18,1,Metropolitan Polise,{HOMICIDE}, 4 ",  # line 3
    ]
    bad = write(tmp_path / "prc.csv", PRC_HEADER, rows)

    with pytest.raises(UnknownForce) as caught:
        ingest(con, [bad])

    error = caught.value
    assert (error.name, error.line) == ("Metropolitan Polise", 3)
    assert "Metropolitan Police" in error.closest
    message = str(error)
    assert f"{bad}, line 3, field 'Force Name': 'Metropolitan Polise'" in message
    assert "Closest known names: Metropolitan Police, " in message
    assert snapshot(con) == before


def test_cli_unknown_force_fails_with_unknown_force_and_changes_nothing(loaded, tmp_path):
    bad = write(
        tmp_path / "street.csv",
        STREET_HEADER,
        [street_row(reported_by="Kentt Police", falls_within="Kent Police")],
    )

    result = cli_ingest(str(bad), "--warehouse", str(loaded.path))

    assert result.exit_code == 1
    assert isinstance(result.exception, UnknownForce)
    message = str(result.exception)
    assert f"{bad}, line 2, field 'Reported by': 'Kentt Police'" in message
    assert "Kent Police" in message
    assert loaded.snapshot() == loaded.before


def test_unknown_force_option_raises_unknown_force_with_closest_names(
    con_before, real_data, tmp_path
):
    con, before = con_before
    searches = tmp_path / "searches.csv"
    shutil.copyfile(real_data / MET_SEARCHES_2015_10, searches)

    with pytest.raises(UnknownForce) as caught:
        ingest(con, [searches], force="Metropolitan Polise")

    assert caught.value.name == "Metropolitan Polise"
    message = str(caught.value)
    assert message.startswith("--force 'Metropolitan Polise' is not a known force.")
    assert "Closest known names: Metropolitan Police, " in message
    assert "--force" in message and "metropolitan" in message
    assert snapshot(con) == before


# -- 5. the same file twice is loaded once -----------------------------------------------------


def test_file_loaded_in_an_earlier_ingest_is_reported_already_loaded_with_first_load_id(
    con_before, real_data
):
    con, before = con_before

    report = ingest(con, [real_data / CITY_2016_01])

    assert [(f.status, f.load_id) for f in report.files] == [("already loaded", 1)]
    assert report.loaded == [] and report.rejects == []
    assert snapshot(con) == before


def test_same_file_given_twice_in_one_ingest_is_loaded_once(con_before, real_data):
    con, before = con_before
    path = real_data / CITY_2016_02

    report = ingest(con, [path, path])

    assert sorted((f.status, f.load_id) for f in report.files) == [
        ("already loaded", 2),
        ("loaded", 2),
    ]
    after = snapshot(con)
    assert len(after["loads"]) == len(before["loads"]) + 1
    assert len(after["police_uk_street"]) == len(before["police_uk_street"]) + 509
    again = ingest(con, [path])
    assert [(f.status, f.load_id) for f in again.files] == [("already loaded", 2)]
    assert snapshot(con) == after


def test_byte_identical_copy_under_another_name_is_already_loaded(con_before, real_data, tmp_path):
    con, before = con_before
    copy = tmp_path / "street-copy-renamed.csv"
    shutil.copyfile(real_data / CITY_2016_01, copy)

    report = ingest(con, [copy])

    assert [(f.display, f.status, f.load_id) for f in report.files] == [
        (str(copy), "already loaded", 1)
    ]
    assert snapshot(con) == before


def test_files_of_one_size_but_other_bytes_both_load_with_their_own_checksums(
    con_before, real_data, tmp_path
):
    """Only files of the same size are compared before loading; the rest are checksummed
    while they load, and every load's ledger row carries its own file's sha256."""
    import hashlib

    con, before = con_before
    original = (real_data / CITY_2016_02).read_bytes()
    one, other = tmp_path / "one" / "2016-02", tmp_path / "other" / "2016-02"
    one.mkdir(parents=True)
    other.mkdir(parents=True)
    (one / CITY_2016_02.name).write_bytes(original)
    # the same size, one crime type's letter changed: another file
    changed = original.replace(b"Burglary", b"burglary", 1)
    assert changed != original and len(changed) == len(original)
    (other / CITY_2016_02.name).write_bytes(changed)

    report = ingest(con, [one, other])

    assert [f.status for f in report.files] == ["loaded", "loaded"]
    assert len(snapshot(con)["loads"]) == len(before["loads"]) + 2
    sums = dict(con.execute("SELECT path, sha256 FROM loads WHERE load_id > 1").fetchall())
    assert sums == {
        str(one / CITY_2016_02.name): hashlib.sha256(original).hexdigest(),
        str(other / CITY_2016_02.name): hashlib.sha256(changed).hexdigest(),
    }


def test_a_file_checksummed_while_loading_records_its_sha256_and_line_count(con_before, real_data):
    import hashlib

    con, _ = con_before
    path = real_data / CITY_2016_02
    ingest(con, [path])
    row = con.execute("SELECT sha256, rows_read FROM loads WHERE path = ?", [str(path)]).fetchone()
    data = path.read_bytes()
    assert row == (hashlib.sha256(data).hexdigest(), data.count(b"\n") - 1)


def test_original_and_copy_in_one_ingest_load_once(con_before, real_data, tmp_path):
    con, before = con_before
    copy = tmp_path / "copy.csv"
    shutil.copyfile(real_data / CITY_2016_02, copy)

    report = ingest(con, [real_data / CITY_2016_02, copy])

    assert sorted((f.status, f.load_id) for f in report.files) == [
        ("already loaded", 2),
        ("loaded", 2),
    ]
    after = snapshot(con)
    assert len(after["loads"]) == 2
    assert len(after["police_uk_street"]) == len(before["police_uk_street"]) + 509


def test_cli_ingest_of_an_already_loaded_file_reports_it_and_changes_nothing(loaded, real_data):
    result = cli_ingest(str(real_data / CITY_2016_01), "--warehouse", str(loaded.path))

    assert result.exit_code == 0, result.output
    assert "1 file(s) were already in the warehouse (same sha256)" in result.stdout
    assert loaded.snapshot() == loaded.before


# -- 6. a stop-and-search file that does not say its force --------------------------------------


def test_renamed_stop_and_search_file_without_force_raises_missing_context(
    con_before, real_data, tmp_path
):
    con, before = con_before
    searches = tmp_path / "searches.csv"
    shutil.copyfile(real_data / MET_SEARCHES_2015_10, searches)

    with pytest.raises(MissingContext) as caught:
        ingest(con, [searches])

    message = str(caught.value)
    assert caught.value.path == str(searches)
    assert message.startswith(f"{searches}: a police.uk stop and search file does not say")
    assert "YYYY-MM-<force>-stop-and-search.csv" in message
    assert "--force metropolitan" in message
    assert snapshot(con) == before


def test_renamed_stop_and_search_file_loads_with_force_metropolitan(
    con_before, real_data, tmp_path
):
    con, before = con_before
    searches = tmp_path / "searches.csv"
    shutil.copyfile(real_data / MET_SEARCHES_2015_10, searches)

    [result] = ingest(con, [searches], force="metropolitan").files

    assert (result.status, result.rows_read, result.rows_loaded) == ("loaded", 14916, 14916)
    assert con.execute(
        "SELECT force_code, count(*) FROM police_uk_stop_search WHERE load_id = ? GROUP BY 1",
        [result.load_id],
    ).fetchall() == [("E23000001", 14916)]
    assert_only_added(before, snapshot(con))


def test_cli_renamed_stop_and_search_fails_without_force_and_loads_with_it(
    loaded, real_data, tmp_path
):
    searches = tmp_path / "searches.csv"
    shutil.copyfile(real_data / MET_SEARCHES_2015_10, searches)

    failed = cli_ingest(str(searches), "--warehouse", str(loaded.path))
    assert failed.exit_code == 1
    assert isinstance(failed.exception, MissingContext)
    assert str(searches) in str(failed.exception) and "--force" in str(failed.exception)
    assert loaded.snapshot() == loaded.before

    worked = cli_ingest(str(searches), "--force", "metropolitan", "--warehouse", str(loaded.path))
    assert worked.exit_code == 0, worked.output
    assert "14,916" in worked.stdout
    assert len(loaded.snapshot()["police_uk_stop_search"]) == 14916


# -- 7. a load that fails part-way changes nothing ---------------------------------------------


def test_unknown_force_in_second_file_leaves_warehouse_exactly_as_it_was(con_before, tmp_path):
    con, before = con_before
    folder = tmp_path / "mixed"
    folder.mkdir()
    # Loaded in this order: the recorded-crime batch commits its INSERT inside the
    # transaction before the street batch meets the unknown force.
    write(folder / "a-prc.csv", PRC_HEADER, [f"2017/18,1,Kent,{HOMICIDE}, 3 "])
    write(
        folder / "b-street.csv",
        STREET_HEADER,
        [street_row(), street_row(falls_within="Kentt Police")],
    )
    write(folder / "c-returns.csv", DATA_RETURNS_HEADER, ["Kent,ocgs_active,2016-07-01,12,groups,"])

    with pytest.raises(UnknownForce, match=r"b-street\.csv, line 3"):
        ingest(con, [folder])

    assert snapshot(con) == before

    # The same folder with the force name fixed loads all three, with the next load ids.
    write(folder / "b-street.csv", STREET_HEADER, [street_row(), street_row()])
    report = ingest(con, [folder])
    assert [(Path(f.display).name, f.status, f.load_id) for f in report.files] == [
        ("a-prc.csv", "loaded", 2),
        ("b-street.csv", "loaded", 3),
        ("c-returns.csv", "loaded", 4),
    ]
    assert_only_added(before, snapshot(con))


def test_unknown_force_in_second_of_several_street_files_leaves_warehouse_unchanged(
    con_before, real_data, tmp_path
):
    con, before = con_before
    bad = write(
        tmp_path / "2016-03-kent-street.csv",
        STREET_HEADER,
        [street_row(reported_by="Kent Police", falls_within="Kentt Police")],
    )
    good = write(tmp_path / "2016-04-street.csv", STREET_HEADER, [street_row(month="2016-04")])

    with pytest.raises(UnknownForce) as caught:
        ingest(con, [real_data / CITY_2016_02, bad, good])

    assert caught.value.path == str(bad) and caught.value.line == 2
    assert snapshot(con) == before


def test_unreadable_path_fails_with_input_error_naming_it_and_changes_nothing(con_before, tmp_path):
    con, before = con_before
    missing = tmp_path / "nowhere" / "street.csv"

    with pytest.raises(InputError) as caught:
        ingest(con, [missing])

    assert str(missing) in str(caught.value)
    assert "Give a file, a folder or a zip archive" in str(caught.value)
    assert snapshot(con) == before


# -- files that are not data as a user downloads them ----------------------------------------


def test_a_utf16_file_is_named_as_such_not_printed_as_escapes(con_before, tmp_path):
    con, before = con_before
    good = STREET_HEADER + "\n" + street_row() + "\n"
    for name, data in (
        ("excel-unicode.csv", good.encode("utf-16")),  # with a byte order mark
        ("no-bom.csv", good.encode("utf-16-le")),
    ):
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(UnknownFormat) as raised:
            ingest(con, [path])
        message = str(raised.value)
        assert message.startswith(f"{path} is UTF-16 encoded") and "save it as utf-8" in (
            message.lower()
        )
        assert "\\x00" not in message and len(message) < 300
    assert snapshot(con) == before


def test_latin1_bytes_in_the_header_are_named_with_their_line(con_before, tmp_path):
    con, before = con_before
    path = tmp_path / "latin1.csv"
    path.write_bytes(
        b"code,year,population,households,source\n"
        + b"E23000001,2015,1,,Caf\xe9\nE23000002,2015,1,,ONS\n"
    )
    with pytest.raises(UnknownFormat, match=r"line 2: byte 0xe9 is not UTF-8"):
        ingest(con, [path])
    assert snapshot(con) == before


@pytest.mark.parametrize("content", [b"", b"\n\n", b"   \r\n"])
def test_an_empty_file_is_said_to_be_empty(con_before, tmp_path, content):
    con, before = con_before
    path = tmp_path / "download.csv"
    path.write_bytes(content)
    with pytest.raises(UnknownFormat, match=r"download\.csv is empty"):
        ingest(con, [path])
    assert snapshot(con) == before


def test_a_header_only_file_loads_with_a_warning_of_0_rows(loaded, tmp_path):
    path = write(tmp_path / "2016-03-city-of-london-street.csv", STREET_HEADER, [])
    result = cli_ingest(str(path), "-w", str(loaded.path))
    assert result.exit_code == 0, result.output
    assert f"warning: {path}: 0 rows" in " ".join(result.output.split())


def test_a_folder_with_several_bad_files_names_them_all_and_skips_what_is_not_data(
    loaded, tmp_path, real_data
):
    folder = tmp_path / "download"
    folder.mkdir()
    shutil.copy(real_data / CITY_2016_02, folder)
    (folder / "README.md").write_text("notes", encoding="utf-8")
    (folder / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (folder / "Thumbs.db").write_bytes(b"\x00")
    (folder / "empty.csv").write_bytes(b"")
    (folder / "utf16.csv").write_bytes((STREET_HEADER + "\n").encode("utf-16"))
    write(folder / "other.csv", "a,b,c", ["1,2,3"])
    result = cli_ingest(str(folder), "-w", str(loaded.path))
    assert result.exit_code != 0
    message = str(result.exception)
    assert message.startswith("3 of the 4 files are not files peelkit reads")
    for name, why in (("empty.csv", "is empty"), ("utf16.csv", "UTF-16"), ("other.csv", "header")):
        assert any(name in line and why in line for line in message.splitlines()), name
    assert loaded.snapshot() == loaded.before  # all or nothing
    (folder / "empty.csv").unlink()
    (folder / "utf16.csv").unlink()
    (folder / "other.csv").unlink()
    ok = cli_ingest(str(folder), "-w", str(loaded.path))
    assert ok.exit_code == 0, ok.output
    words = " ".join(ok.output.split())
    assert (
        "Skipped 3 file(s) in the folders that are not data: .DS_Store, README.md, Thumbs.db"
        in (words)
    )


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(content=st.binary(max_size=600))
def test_any_bytes_either_load_or_fail_with_a_short_message_naming_the_file(
    con_before, tmp_path, content
):
    con, before = con_before
    path = tmp_path / "anything.csv"
    path.write_bytes(content)
    try:
        ingest(con, [path])
    except PeelkitError as exc:
        assert str(path) in str(exc)
        assert len(str(exc)) < 3000
        assert snapshot(con) == before
