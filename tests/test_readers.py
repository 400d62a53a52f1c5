"""Each reader on small files built for it: zips, spreadsheets, the outcomes table, tidy CSVs."""

from __future__ import annotations

import csv
import zipfile
from datetime import date
from pathlib import Path

import pytest
from odf.opendocument import OpenDocumentSpreadsheet
from odf.table import Table, TableCell, TableRow
from odf.text import P

from peelkit.ingest import ingest
from peelkit.readers import recognise
from peelkit.readers.files import SourceFile
from peelkit.warehouse import open_warehouse
from tests.conftest import OUTCOMES_HEADER

CITY_MONTHS = ("2016-01", "2016-02", "2016-03")


def write_ods(path: Path, sheets: dict[str, list[list[object]]]) -> None:
    doc = OpenDocumentSpreadsheet()
    for name, rows in sheets.items():
        table = Table(name=name)
        for row in rows:
            tr = TableRow()
            for value in row:
                if isinstance(value, (int, float)):
                    cell = TableCell(valuetype="float", value=value)
                else:
                    cell = TableCell(valuetype="string")
                cell.addElement(P(text=str(value)))
                tr.addElement(cell)
            table.addElement(tr)
        doc.spreadsheet.addElement(table)
    doc.save(str(path))


def test_monthly_archive_zip_is_read_without_unpacking(real_data, tmp_path, warehouse):
    archive = tmp_path / "city-archive.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for month in CITY_MONTHS:
            for path in sorted((real_data / "police-uk-city-of-london" / month).iterdir()):
                zf.write(path, f"{month}/{path.name}")
    before = sorted(p.name for p in tmp_path.iterdir())
    report = ingest(warehouse, [archive])
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing unpacked beside it
    assert len(report.loaded) == 9
    rows = warehouse.execute(
        "SELECT kind, member, rows_read, rows_loaded FROM loads WHERE path = ? ORDER BY member",
        [str(archive)],
    ).fetchall()
    assert ("police_uk_street", "2016-01/2016-01-city-of-london-street.csv", 446, 446) in rows
    assert (
        "police_uk_stop_search",
        "2016-03/2016-03-city-of-london-stop-and-search.csv",
        114,
        114,
    ) in rows
    assert warehouse.execute("SELECT count(*) FROM police_uk_street").fetchone() == (
        446 + 509 + 499,
    )


def test_zip_member_and_plain_file_with_same_bytes_load_once(real_data, tmp_path, warehouse):
    street = (
        real_data / "police-uk-city-of-london" / "2016-01" / "2016-01-city-of-london-street.csv"
    )
    archive = tmp_path / "one.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(street, "2016-01/" + street.name)
    first = ingest(warehouse, [street])
    second = ingest(warehouse, [archive])
    assert [f.status for f in second.files] == ["already loaded"]
    assert second.files[0].load_id == first.files[0].load_id


def prc_rows(real_data: Path, n: int) -> list[list[str]]:
    path = real_data / "home-office-prc" / "prc-pfa-mar2013-onwards-tables201718.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))[: n + 1]


def test_recorded_crime_as_ods_loads_like_the_csv(real_data, tmp_path):
    rows = prc_rows(real_data, 400)
    csv_path = tmp_path / "prc.csv"
    with csv_path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    ods_path = tmp_path / "prc.ods"
    write_ods(
        ods_path,
        {
            "Notes": [["Police recorded crime open data"], ["Contains public sector information"]],
            "2017_18": [["Police recorded crime by PFA, 2017/18"], [], *rows],
        },
    )
    results = {}
    for name, path in (("csv", csv_path), ("ods", ods_path)):
        con = open_warehouse(tmp_path / f"{name}.duckdb")
        report = ingest(con, [path])
        assert report.files[0].kind == "recorded_crime"
        assert (report.files[0].rows_read, report.files[0].rows_rejected) == (400, 0)
        results[name] = con.execute(
            "SELECT financial_year, financial_quarter, force_code, offence_code, offences "
            "FROM recorded_crime ORDER BY ALL"
        ).fetchall()
        con.close()
    assert results["csv"] == results["ods"]


def test_ods_reject_lines_are_sheet_rows(real_data, tmp_path, warehouse):
    rows = prc_rows(real_data, 5)
    rows[3][7] = "twelve"
    ods_path = tmp_path / "prc.ods"
    write_ods(ods_path, {"2017_18": [["title"], [], *rows]})
    report = ingest(warehouse, [ods_path])
    assert report.files[0].rows_rejected == 1
    line, field = warehouse.execute("SELECT line, field FROM rejected_rows").fetchone()
    assert (line, field) == (6, "Number of Offences")  # title, blank, header, 2 rows, then it


def test_crime_outcomes_keep_tracked_and_untracked_counts_apart(tmp_path, warehouse):
    path = tmp_path / "outcomes.csv"
    rows = [
        OUTCOMES_HEADER,
        [
            "2016/17",
            "1",
            "Metropolitan Police",
            "Assault with injury",
            "Violence against the person",
            "Violence with injury",
            "8N",
            "Charged/Summonsed",
            "Charged/Summonsed",
            "1",
            " 120 ",
            " 310 ",
        ],
        [
            "2016/17",
            "1",
            "Metropolitan Police",
            "Homicide",
            "Violence against the person",
            "Homicide",
            "1/4.1/4.10/4.2",
            "Charged/Summonsed",
            "Charged/Summonsed",
            "1",
            " 2 ",
            "-00 ",
        ],
        [
            "2016/17",
            "1",
            "Metropolitan Police",
            "Homicide",
            "Violence against the person",
            "Homicide",
            "1/4.1/4.10/4.2",
            "Charged/Summonsed",
            "Charged/Summonsed",
            "1",
            " 3 ",
            " 4 ",
        ],
        [
            "2016/17",
            "1",
            "Metropolitan Police",
            "Assault with injury",
            "Violence against the person",
            "Violence with injury",
            "8N",
            "Not yet assigned",
            "Not yet assigned an outcome",
            "0",
            " 40 ",
            "",
        ],
    ]
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    report = ingest(warehouse, [path])
    assert report.files[0].kind == "crime_outcomes"
    got = warehouse.execute(
        "SELECT offence_code, outcome_type, outcomes_for_offences_recorded_in_quarter, "
        "outcomes_recorded_in_quarter, source_rows, quarter_start FROM crime_outcomes ORDER BY ALL"
    ).fetchall()
    assert got == [
        ("1/4.1/4.10/4.2", 1, 5, 4, 2, date(2016, 4, 1)),
        ("8N", 0, 40, None, 1, date(2016, 4, 1)),  # untracked not given: missing, not zero
        ("8N", 1, 120, 310, 1, date(2016, 4, 1)),
    ]


def test_population_with_and_without_basis_and_missing_households(tmp_path, warehouse):
    plain = tmp_path / "population.csv"
    plain.write_text(
        "code,year,population,households,source\n"
        "E23000001,2015,8650000,3480000,approximation\n"
        "dorset,2015,770000,,approximation\n",
        encoding="utf-8",
    )
    with_basis = tmp_path / "population-basis.csv"
    with_basis.write_text(
        "code,year,population,households,source,basis\n"
        '"London, City of",2015,360000,,HMIC resident plus transient,resident and transient\n',
        encoding="utf-8",
    )
    ingest(warehouse, [plain, with_basis])
    got = warehouse.execute(
        "SELECT force_code, population, households, basis FROM population ORDER BY 1"
    ).fetchall()
    assert got == [
        ("E23000001", 8_650_000, 3_480_000, "resident"),
        ("E23000034", 360_000, None, "resident and transient"),
        ("E23000039", 770_000, None, "resident"),
    ]


def test_could_not_supply_is_a_recorded_state_never_zero(tmp_path, warehouse):
    path = tmp_path / "returns.csv"
    path.write_text(
        "force,item,period,value,unit,note\n"
        "Metropolitan Police,ocgs_active,2016-07-01,727,groups,\n"
        "Durham,domestic_abuse_arrests,2015-07-01/2016-06-30,could not supply,arrests,none kept\n"
        "Humberside,ocgs_predominant_type:drug activity,2016-07-01,12,groups,\n",
        encoding="utf-8",
    )
    report = ingest(warehouse, [path])
    assert report.files[0].rows_rejected == 0
    got = warehouse.execute(
        "SELECT force_code, item, qualifier, period_start, period_end, status, value "
        "FROM data_returns ORDER BY 1"
    ).fetchall()
    assert got == [
        ("E23000001", "ocgs_active", None, None, date(2016, 7, 1), "supplied", 727.0),
        (
            "E23000008",
            "domestic_abuse_arrests",
            None,
            date(2015, 7, 1),
            date(2016, 6, 30),
            "could not supply",
            None,
        ),
        (
            "E23000012",
            "ocgs_predominant_type",
            "drug activity",
            None,
            date(2016, 7, 1),
            "supplied",
            12.0,
        ),
    ]
    coverage = warehouse.execute(
        "SELECT status, reason FROM coverage WHERE source = 'data_return:domestic_abuse_arrests' "
        "AND force_code = 'E23000008'"
    ).fetchone()
    assert coverage == ("absent", "the force could not supply this item")
    others = warehouse.execute(
        "SELECT count(*) FROM coverage WHERE source = 'data_return:ocgs_active' "
        "AND status = 'absent'"
    ).fetchone()
    assert others == (42,)  # every force but the Met sent nothing: absent, not zero


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("police-uk-city-of-london/2016-01/2016-01-city-of-london-street.csv", "police_uk_street"),
        (
            "police-uk-city-of-london/2016-01/2016-01-city-of-london-outcomes.csv",
            "police_uk_outcomes",
        ),
        (
            "police-uk-stop-and-search/2015-10/2015-10-metropolitan-stop-and-search.csv",
            "police_uk_stop_search",
        ),
        ("home-office-prc/prc-pfa-mar2013-onwards-tables201718.csv", "recorded_crime"),
        ("home-office-workforce/police-workforce-tables-sep16.ods", "workforce"),
    ],
)
def test_format_is_recognised_from_the_header_not_the_name(real_data, tmp_path, name, kind):
    renamed = tmp_path / ("renamed" + Path(name).suffix)
    renamed.write_bytes((real_data / name).read_bytes())
    source = SourceFile(renamed, size=renamed.stat().st_size)
    assert recognise(source).kind == kind
