"""Malformed CSV thrown at every reader: rows are accounted for, or nothing changes.

For each CSV format peelkit reads (``csv_formats()``), Hypothesis starts from the format's
exact header and writes rows of random text, wrong field counts, stray quotes, embedded
newlines, invalid UTF-8, a BOM, CRLF or CR line ends, files with no rows or no bytes at all,
and binary junk — as a plain file or as a member of a monthly archive zip, alone or beside a
good file of the same format, strict or not.

The property: ``ingest`` either succeeds, and then every row it read is either loaded or
rejected (rows_read == rows_loaded + rows_rejected for every load, in the report and in the
``loads`` table) and every rejection has a line >= 2 and a reason; or it raises a
``PeelkitError`` and the warehouse snapshot is exactly what it was. Any other exception is a
bug.
"""

from __future__ import annotations

import csv
import io
import shutil
import tempfile
import zipfile
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from peelkit.errors import PeelkitError
from peelkit.ingest import ingest
from peelkit.readers import csv_formats
from peelkit.readers.base import CsvFormat
from peelkit.warehouse import snapshot
from tests.fuzzing import Template, check_accounted, make_template

CITY = "City of London Police"
CRIME_ID = "9a0874c4253249e9b19acf901553a1b2b283306a7d4e8e12ad5970d6d51a1812"

#: Good rows of every CSV format, as the official files write them (keyed by reader class).
SAMPLES: dict[str, tuple[str, ...]] = {
    "PoliceUkStreet": (
        f",2016-01,{CITY},{CITY},-0.111497,51.518226,On or near Pedestrian Subway,E01000914,"
        "Camden 028B,Anti-social behaviour,,",
        f"{CRIME_ID},2016-01,{CITY},{CITY},-0.077596,51.515849,On or near ARTIZAN STREET,"
        "E01000005,City of London 001E,Other theft,Under investigation,",
        f",2016-01,{CITY},{CITY},,,No Location,,,Anti-social behaviour,,",
    ),
    "PoliceUkOutcomes": (
        f"{CRIME_ID},2016-01,{CITY},{CITY},-0.077596,51.515849,On or near ARTIZAN STREET,"
        "E01000005,City of London 001E,Offender given a caution",
    ),
    "PoliceUkStopSearch": (
        "Person and Vehicle search,2016-01-01T08:05:00+00:00,,,,,Male,18-24,"
        "White - White British (W1),White,Misuse of Drugs Act 1971 (section 23),"
        "Controlled drugs,Nothing found - no further action,,True",
        "Person search,2016-01-14T21:30:00+00:00,False,,51.515849,-0.077596,Female,25-34,,,"
        "Police and Criminal Evidence Act 1984 (section 1),Stolen goods,Arrest,True,False",
    ),
    "RecordedCrime": (
        "2017/18,1,Avon and Somerset,Absconding from lawful custody,Miscellaneous crimes,"
        "Miscellaneous crimes,80, 2 ",
        "2017/18,1,Metropolitan Police,Homicide,Violence against the person,Homicide,"
        "1/4.1/4.10/4.2,-00 ",
        "2017/18,2,Action Fraud,Fraud offences recorded by Action Fraud,Fraud offences,"
        'Fraud: action fraud,AF," 66,776 "',
    ),
    "CrimeOutcomes": (
        "2015/16,1,Kent,Homicide,Violence against the person,Homicide,1/4.1/4.10/4.2,"
        "Charged/Summonsed,Charged/Summonsed,1, 3 , 4 ",
        '2015/16,4,"London, City of",Robbery of personal property,Robbery,'
        "Robbery of personal property,34B,Not yet assigned an outcome,"
        "Not yet assigned an outcome,0,-00 , 1 ",
    ),
    "LadCspPfaLookup": (
        "E07000144,Broadland,E22000219,Broadland,E23000024,Norfolk,1",
        "E07000006,South Bucks,E22000311,South Bucks,E23000029,Thames Valley,2",
    ),
    "Population": (
        "E23000001,2015,8650000,3480000,ONS mid-2015 estimates",
        "kent,2014,1800000,,ONS mid-2014 estimates",
    ),
    "PopulationWithBasis": (
        "E23000001,2015,8650000,3480000,ONS mid-2015 estimates,resident",
        f"{CITY},2015,7400,,ONS mid-2015 estimates,resident and transient",
    ),
    "DataReturns": (
        "Kent,ocgs_active,2016-07-01,12,groups,",
        "Durham,domestic_abuse_arrests,2015-07-01/2016-06-30,could not supply,arrests,none",
        "E23000001,calls_for_assistance,2015-07-01/2016-06-30,870000,calls,synthetic",
    ),
}

#: police.uk files are named in the archive layout, so a stop-and-search file has its force.
FILE_NAMES = {
    "PoliceUkStreet": "2016-01-city-of-london-street.csv",
    "PoliceUkOutcomes": "2016-01-city-of-london-outcomes.csv",
    "PoliceUkStopSearch": "2016-01-city-of-london-stop-and-search.csv",
}

#: Pieces that break CSV or typed values in interesting ways.
PIECES = (
    "",
    " ",
    '"',
    '""',
    ",",
    "\n",
    "\r\n",
    "\r",
    "\x00",
    "\ufeff",
    "é",
    "-00",
    " 3 ",
    "-5",
    "1e309",
    "NaN",
    "inf",
    "2016-13",
    "2016-01",
    "2017/18",
    "could not supply",
    "True",
    "Kentt Police",
    "Kent",
    CITY,
    "E23000001",
    "1/4.1/4.10/4.2",
)

FORMATS = csv_formats()


def class_name(fmt: CsvFormat) -> str:
    return type(fmt).__name__


def sample_fields(fmt: CsvFormat) -> list[list[str]]:
    return [next(csv.reader([row])) for row in SAMPLES[class_name(fmt)]]


def file_name(fmt: CsvFormat) -> str:
    return FILE_NAMES.get(class_name(fmt), f"{fmt.kind}-{class_name(fmt)}.csv")


def good_file_bytes(fmt: CsvFormat) -> bytes:
    return ("\n".join([",".join(fmt.header), *SAMPLES[class_name(fmt)]]) + "\n").encode()


# -- strategies --------------------------------------------------------------------------------


def field_text(fmt: CsvFormat) -> st.SearchStrategy[str]:
    known = sorted({v for row in sample_fields(fmt) for v in row})
    return st.one_of(
        st.sampled_from(PIECES),
        st.sampled_from(known),
        st.text(max_size=12),
        st.lists(st.sampled_from(PIECES) | st.text(max_size=3), max_size=4).map("".join),
    )


@st.composite
def row_bytes(draw: st.DrawFn, fmt: CsvFormat) -> bytes:
    width = len(fmt.header)
    shape = draw(st.sampled_from(["valid", "mutated", "mutated", "random", "junk"]))
    if shape == "junk":
        return draw(st.binary(max_size=40))
    if shape == "random":
        fields = draw(st.lists(field_text(fmt), max_size=width + 2))
    else:
        fields = list(draw(st.sampled_from(sample_fields(fmt))))
        if shape == "mutated":
            for i in draw(st.lists(st.integers(0, width - 1), min_size=1, max_size=3)):
                fields[i] = draw(field_text(fmt))
            change = draw(st.sampled_from(["same", "same", "drop", "add"]))
            if change == "drop":
                del fields[draw(st.integers(0, width - 1))]
            elif change == "add":
                fields.append(draw(field_text(fmt)))
    quoting = draw(st.sampled_from(["minimal", "all", "raw"]))
    if quoting == "raw":  # as a hand-edited file: quotes and newlines left as typed
        text = ",".join(fields)
    else:
        out = io.StringIO()
        mode = csv.QUOTE_ALL if quoting == "all" else csv.QUOTE_MINIMAL
        csv.writer(out, lineterminator="", quoting=mode).writerow(fields)
        text = out.getvalue()
    return text.encode("utf-8")


@st.composite
def malformed_csv(draw: st.DrawFn, fmt: CsvFormat) -> bytes:
    shape = draw(st.sampled_from(["rows"] * 6 + ["empty", "header only", "binary"]))
    if shape == "empty":
        return b""
    if shape == "binary":
        return draw(st.binary(min_size=1, max_size=300))
    header = ",".join(fmt.header).encode()
    rows = draw(st.lists(row_bytes(fmt), min_size=1, max_size=8)) if shape == "rows" else []
    newline = draw(st.sampled_from([b"\n", b"\n", b"\r\n", b"\r"]))
    data = newline.join([header, *rows])
    if draw(st.booleans()):
        data += newline
    if draw(st.booleans()):
        data = b"\xef\xbb\xbf" + data
    if draw(st.booleans()):  # invalid UTF-8, usually after the header
        where = draw(st.integers(min_value=0, max_value=len(data)))
        if draw(st.integers(0, 4)) != 0:
            where = max(where, len(header) + 4)
        junk = draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x80\x80", b"\xfe\xff"]))
        data = data[:where] + junk + data[where:]
    return data


# -- the template warehouse (shared with the fuzz tests) -------------------------------------------


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory, real_data: Path) -> Template:
    """A warehouse made by open_warehouse with good real loads, copied for every example."""
    return make_template(tmp_path_factory.mktemp("property-template"), real_data)


@pytest.mark.parametrize("fmt", FORMATS, ids=class_name)
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_malformed_csv_is_accounted_for_row_by_row_or_fails_with_peelkit_error_changing_nothing(
    fmt: CsvFormat, template: Template, data: st.DataObject
) -> None:
    content = data.draw(malformed_csv(fmt), label="content")
    in_zip = data.draw(st.booleans(), label="in_zip")
    with_good_file = data.draw(st.booleans(), label="with_good_file")
    strict = data.draw(st.booleans(), label="strict")

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        warehouse = folder / "warehouse.duckdb"
        shutil.copyfile(template.path, warehouse)
        paths: list[Path] = []
        if with_good_file:
            good = folder / "good" / file_name(fmt)
            good.parent.mkdir()
            good.write_bytes(good_file_bytes(fmt))
            paths.append(good)
        if in_zip:
            archive = folder / "2016-01.zip"
            with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
                zf.writestr(f"2016-01/{file_name(fmt)}", content)
            paths.append(archive)
        else:
            bad = folder / "bad" / file_name(fmt)
            bad.parent.mkdir()
            bad.write_bytes(content)
            paths.append(bad)

        # The template was made by open_warehouse; a plain connect saves its schema refresh.
        con = duckdb.connect(str(warehouse))
        try:
            before = snapshot(con)
            assert before == template.before
            try:
                report = ingest(con, paths, strict=strict)
            except PeelkitError as error:
                # peelkit raises InputError itself when it cannot account for a row: that is
                # the property failing, not a user error.
                assert "peelkit bug" not in str(error), str(error)
                assert snapshot(con) == before
                return
            check_accounted(con, report.files, report.rejects, strict)
            assert_only_added_or_replaced(con, before, snapshot(con))
        finally:
            con.close()


def assert_only_added_or_replaced(
    con: duckdb.DuckDBPyConnection,
    before: dict[str, list[tuple[object, ...]]],
    after: dict[str, list[tuple[object, ...]]],
) -> None:
    """A load only adds, except that a force-period published again replaces the earlier
    load's: its ledger rows stay with superseded_by set, and a police.uk month's rows go."""
    replaced = set(
        con.execute(
            "SELECT source, load_id, force_code, period_start FROM load_periods "
            "WHERE superseded_by IS NOT NULL"
        ).fetchall()
    )
    for table, rows in before.items():
        kept = set(after[table])
        if table == "load_periods":  # the same row, perhaps now superseded
            kept = {(*row[:-1], None) for row in kept}
        for row in set(rows) - kept:
            assert table.startswith("police_uk_"), (table, row)
            columns = [c[0] for c in con.execute(f"DESCRIBE {table}").fetchall()]
            named = dict(zip(columns, row, strict=True))
            key = (table, named["load_id"], named["force_code"], named["month"])
            assert key in replaced, (table, row)


#: Faults whose verdict is known: (column index, bad value, the field its reject must name).
FAULTS: dict[str, tuple[tuple[int, str, str], ...]] = {
    "PoliceUkStreet": (
        (1, "2016-13", "Month"),
        (4, "abc", "Longitude"),
        (3, "", "Falls within"),
        (9, "", "Crime type"),
    ),
    "RecordedCrime": (
        (0, "2017/19", "Financial Year"),
        (1, "5", "Financial Quarter"),
        (6, "NOPE", "Offence Code"),
        (7, "abc", "Number of Offences"),
    ),
}
#: A free-text column that may hold line breaks (quoted, as CSV allows).
FREE_TEXT = {"PoliceUkStreet": 6, "RecordedCrime": 3}
LOCATED = [f for f in FORMATS if class_name(f) in FAULTS]


@st.composite
def located_faults(
    draw: st.DrawFn, fmt: CsvFormat
) -> tuple[bytes, int, dict[int, tuple[str | None, str | None]]]:
    """Good and bad rows, some spanning lines; returns the bytes, the number of rows, and
    for each bad row its physical line -> (field, exact reason or None)."""
    name = class_name(fmt)
    width = len(fmt.header)
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    out = io.StringIO()
    out.write(",".join(fmt.header) + newline)
    writer = csv.writer(out, lineterminator=newline)
    expected: dict[int, tuple[str | None, str | None]] = {}
    line = 2
    rows = draw(st.integers(1, 8))
    for _ in range(rows):
        fields = list(draw(st.sampled_from(sample_fields(fmt))))
        breaks = draw(st.integers(0, 2))
        if breaks:
            fields[FREE_TEXT[name]] = newline.join(["On or near"] * (breaks + 1))
        verdict = draw(st.sampled_from(["good", "good", "fault", "short"]))
        if verdict == "fault":
            column, value, field = draw(st.sampled_from(FAULTS[name]))
            fields[column] = value
            expected[line] = (field, None)
        elif verdict == "short":
            fields = fields[: draw(st.integers(FREE_TEXT[name] + 1, width - 1))]
            expected[line] = (None, f"expected {width} fields, found {len(fields)}")
        writer.writerow(fields)
        line += 1 + breaks
    return out.getvalue().encode(), rows, expected


@pytest.mark.parametrize("fmt", LOCATED, ids=class_name)
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_each_bad_row_is_rejected_at_its_physical_line_naming_its_field(
    fmt: CsvFormat, template: Template, data: st.DataObject
) -> None:
    content, rows, expected = data.draw(located_faults(fmt), label="file")

    with tempfile.TemporaryDirectory() as tmp:
        warehouse = Path(tmp) / "warehouse.duckdb"
        shutil.copyfile(template.path, warehouse)
        path = Path(tmp) / file_name(fmt)
        path.write_bytes(content)
        con = duckdb.connect(str(warehouse))
        try:
            report = ingest(con, [path])
        finally:
            con.close()

    [result] = report.files
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (
        rows,
        rows - len(expected),
        len(expected),
    )
    got = {r.line: (r.field, r.reason) for r in report.rejects}
    assert sorted(got) == sorted(expected)
    for line, (field, reason) in expected.items():
        assert got[line][0] == field, (line, got[line])
        if reason is not None:
            assert got[line][1] == reason, (line, got[line])


@pytest.mark.parametrize("fmt", FORMATS, ids=class_name)
def test_sample_rows_of_every_reader_load_without_rejects(fmt, template, tmp_path):
    """The generators start from good rows: each format's samples load, none rejected."""
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(template.path, warehouse)
    path = tmp_path / file_name(fmt)
    path.write_bytes(good_file_bytes(fmt))
    con = duckdb.connect(str(warehouse))
    try:
        report = ingest(con, [path], strict=True)
    finally:
        con.close()
    [result] = report.files
    n = len(SAMPLES[class_name(fmt)])
    assert (result.kind, result.status) == (fmt.kind, "loaded")
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (n, n, 0)
