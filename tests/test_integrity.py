"""Damaged files, republished months and rejected rows never pass as complete, correct data.

Real files from ../shared/data/real, damaged as users meet them: a download cut off mid-line,
a month published again with other rows, a file holding rows of another month, a Home Office
row made unreadable by an unquoted comma.
"""

from __future__ import annotations

import zipfile
from datetime import date
from pathlib import Path

import duckdb
import pytest

from peelkit.errors import DamagedFile, UnreadableFile
from peelkit.indicators.catalogue import catalogue
from peelkit.indicators.engine import INCOMPLETE, compute
from peelkit.indicators.periods import for_date
from peelkit.ingest import ingest
from peelkit.report.build import build_profile
from peelkit.report.render import write_report
from peelkit.service import explain
from peelkit.warehouse import open_warehouse, snapshot
from tests.conftest import REAL_PRC

CITY = "E23000034"
MET = "E23000001"
STREET_2016_03 = Path("police-uk-city-of-london/2016-03/2016-03-city-of-london-street.csv")
STREET_2016_04 = Path("police-uk-city-of-london/2016-04/2016-04-city-of-london-street.csv")
ARCHIVE_NAME = "2016-03/2016-03-city-of-london-street.csv"


def archive_file(folder: Path, data: bytes, name: str = ARCHIVE_NAME) -> Path:
    """``data`` written under the police.uk archive layout below ``folder``."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return folder


def coverage_of(con: duckdb.DuckDBPyConnection, source: str, force: str, period: str):
    return con.execute(
        "SELECT status, reason, rows, rejected FROM coverage "
        "WHERE source = ? AND force_code = ? AND period = ?",
        [source, force, period],
    ).fetchone()


@pytest.fixture
def con(tmp_path: Path):
    con = open_warehouse(tmp_path / "w.duckdb")
    yield con
    con.close()


# -- 1. a file cut off mid-line -----------------------------------------------------------------


def cut(real_data: Path) -> tuple[bytes, int]:
    """The real 2016-03 street file cut mid-line after 60,000 bytes, and its whole lines."""
    data = (real_data / STREET_2016_03).read_bytes()[:60_000]
    assert not data.endswith(b"\n")
    return data, data.count(b"\n")  # lines ended: the header and the complete rows


def test_a_file_cut_mid_line_fails_the_load_naming_the_file_and_line(con, real_data, tmp_path):
    data, whole = cut(real_data)
    folder = archive_file(tmp_path / "cut", data)
    good = real_data / STREET_2016_04
    before = snapshot(con)

    with pytest.raises(DamagedFile) as caught:
        ingest(con, [good, folder])

    message = str(caught.value)
    last = whole + 1
    assert f"{ARCHIVE_NAME}: it ends mid-record: line {last}, its last, is cut short" in message
    assert "expected 12 fields, found" in message
    assert "Download them again" in message and "--accept-damaged" in message
    assert snapshot(con) == before  # not even the good file


def test_a_cut_file_inside_a_zip_archive_is_named_with_its_archive(con, real_data, tmp_path):
    data, _ = cut(real_data)
    archive = tmp_path / "2016-03.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(ARCHIVE_NAME, data)
    with pytest.raises(DamagedFile) as caught:
        ingest(con, [archive])
    assert f"{archive}!{ARCHIVE_NAME}: it ends mid-record" in str(caught.value)


def test_accept_damaged_loads_the_complete_rows_and_coverage_says_partial(con, real_data, tmp_path):
    data, whole = cut(real_data)
    folder = archive_file(tmp_path / "cut", data)

    report = ingest(con, [folder], accept_damaged=True)

    [loaded] = report.files
    complete = whole - 1  # the header is not a row
    assert (loaded.rows_read, loaded.rows_loaded, loaded.rows_rejected) == (
        complete + 1,
        complete,
        1,
    )
    assert loaded.damage is not None and f"line {whole + 1}, its last" in loaded.damage
    damage = con.execute("SELECT damage FROM loads WHERE load_id = ?", [loaded.load_id]).fetchone()
    assert damage == (loaded.damage,)
    status, reason, rows, _ = coverage_of(con, "police_uk_street", CITY, "2016-03")
    assert status == "partial" and rows == complete
    assert reason.startswith("file damaged: it ends mid-record")


def test_a_whole_file_is_not_damaged(con, real_data):
    [loaded] = ingest(con, [real_data / STREET_2016_03]).files
    assert loaded.damage is None
    assert coverage_of(con, "police_uk_street", CITY, "2016-03")[0] == "present"


def test_a_police_uk_file_without_its_final_line_break_is_damaged_even_if_it_parses(
    con, real_data, tmp_path
):
    # cut exactly before the last line break: every field of the last row is there, but the
    # published files always end with one, so the last value may be cut short
    data = (real_data / STREET_2016_03).read_bytes().rstrip(b"\n")
    folder = archive_file(tmp_path / "cut", data)
    with pytest.raises(DamagedFile, match="ends without a line break after line 500"):
        ingest(con, [folder])


WORKFORCE = Path("home-office-workforce/police-workforce-tables-sep16.ods")


@pytest.mark.parametrize("keep", [0.5, 0.999])
def test_a_spreadsheet_cut_short_is_refused_as_damaged(con, real_data, tmp_path, keep):
    data = (real_data / WORKFORCE).read_bytes()
    cut_file = tmp_path / "police-workforce-tables-sep16.ods"
    cut_file.write_bytes(data[: int(len(data) * keep)])
    before = snapshot(con)
    with pytest.raises(DamagedFile) as caught:
        ingest(con, [cut_file])
    assert str(caught.value).startswith(
        f"{cut_file} is a damaged spreadsheet: its zip container is cut short or corrupt"
    )
    assert "Download it again" in str(caught.value)
    assert snapshot(con) == before


def test_a_spreadsheet_whose_xml_is_cut_is_named_as_unreadable_not_unknown(
    con, real_data, tmp_path
):
    damaged = tmp_path / "police-workforce-tables-sep16.ods"
    with (
        zipfile.ZipFile(real_data / WORKFORCE) as whole,
        zipfile.ZipFile(damaged, "w") as out,
    ):
        for info in whole.infolist():
            data = whole.read(info.filename)
            out.writestr(info, data[: len(data) // 2] if info.filename == "content.xml" else data)
    with pytest.raises(UnreadableFile) as caught:
        ingest(con, [damaged])
    assert "looks like a spreadsheet but cannot be read" in str(caught.value)
    assert "it may be damaged. Download it again" in str(caught.value)


# -- 4. republished data replaces, never adds -------------------------------------------------


def test_a_month_loaded_again_replaces_the_earlier_load_and_counts_once(con, real_data, tmp_path):
    whole = (real_data / STREET_2016_03).read_bytes()
    lines = whole.splitlines(keepends=True)
    first = archive_file(tmp_path / "first", whole)  # 499 rows
    again = archive_file(tmp_path / "again", b"".join(lines[:200]))  # 199 rows, republished

    ingest(con, [first])
    report = ingest(con, [again])

    assert [(r[0], r[1], r[2]) for r in report.replaced] == [("police_uk_street", CITY, "2016-03")]
    assert con.execute("SELECT count(*) FROM police_uk_street").fetchone() == (199,)
    assert con.execute(
        "SELECT load_id, rows, superseded_by FROM load_periods ORDER BY load_id"
    ).fetchall() == [(1, 499, 2), (2, 199, None)]
    assert coverage_of(con, "police_uk_street", CITY, "2016-03")[:3] == ("present", None, 199)


def test_the_same_month_twice_in_one_ingest_counts_once_the_later_load_wins(
    con, real_data, tmp_path
):
    whole = (real_data / STREET_2016_03).read_bytes()
    lines = whole.splitlines(keepends=True)
    archive_file(tmp_path / "a", whole)
    archive_file(tmp_path / "b", b"".join(lines[:101]))

    ingest(con, [tmp_path / "a", tmp_path / "b"])

    assert con.execute("SELECT count(*) FROM police_uk_street").fetchone() == (100,)
    assert coverage_of(con, "police_uk_street", CITY, "2016-03")[2] == 100


def test_a_home_office_release_replaces_the_quarters_it_publishes_again(con, real_data, tmp_path):
    ingest(con, [real_data / REAL_PRC])
    again = tmp_path / "prc-again.csv"
    text = (real_data / REAL_PRC).read_text(encoding="utf-8")
    again.write_text(text.replace(" 18540 \n", " 18541 \n"), encoding="utf-8")

    ingest(con, [again])

    # both releases are kept (releases are compared), coverage counts the latest once
    current = con.execute(
        "SELECT count(DISTINCT load_id) FROM load_periods WHERE superseded_by IS NULL"
    ).fetchone()
    assert current == (1,)
    rows = con.execute(
        "SELECT sum(rows) FROM coverage WHERE source = 'recorded_crime' AND force_code = ?",
        [MET],
    ).fetchone()
    in_file = sum(1 for line in text.splitlines() if ",Metropolitan Police," in line)
    assert rows == (in_file,)


def test_rows_of_another_month_than_the_file_name_are_refused(con, real_data, tmp_path):
    whole = (real_data / STREET_2016_03).read_bytes()
    april = (real_data / STREET_2016_04).read_bytes().splitlines(keepends=True)[1:4]
    folder = archive_file(tmp_path / "mixed", whole + b"".join(april))
    before = snapshot(con)

    with pytest.raises(DamagedFile) as caught:
        ingest(con, [folder])

    assert "it holds rows of 2016-04 although its name says 2016-03 (line 501 is the first)" in (
        str(caught.value)
    )
    assert snapshot(con) == before

    [loaded] = ingest(con, [folder], accept_damaged=True).files
    assert loaded.damage is not None and "2016-04" in loaded.damage
    assert coverage_of(con, "police_uk_street", CITY, "2016-03")[0] == "partial"


def test_a_file_whose_folder_says_another_month_is_refused(con, real_data, tmp_path):
    whole = (real_data / STREET_2016_03).read_bytes()
    folder = archive_file(tmp_path / "moved", whole, "2016-04/2016-03-city-of-london-street.csv")
    with pytest.raises(DamagedFile, match="its name says 2016-03 but its folder says 2016-04"):
        ingest(con, [folder])


# -- 3. a rejected row is never a silent zero ----------------------------------------------------


def prc_with_a_broken_row(
    real_data: Path, folder: Path, row: str = "2017/18,1,Metropolitan Police,"
) -> tuple[Path, int]:
    """The real 2017/18 table again, with an unquoted comma in the assault-with-injury row that
    starts with ``row`` (by default the Met's Q1: 8N, 18,540 offences): the row has 9 fields
    and is rejected."""
    lines = (real_data / REAL_PRC).read_text(encoding="utf-8").splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if line.startswith(row + "Assault with injury,"))
    lines[index] = lines[index].replace("Assault with injury,", "Assault, with injury,", 1)
    path = folder / "prc-pfa-2017-18-second-release.csv"
    path.write_text("".join(lines), encoding="utf-8")
    return path, index + 1


@pytest.fixture
def prc_and_populations(tmp_path: Path, real_data: Path):
    population = tmp_path / "population.csv"
    population.write_text(
        "code,year,population,households,source\n"
        f"{MET},2017,8825000,,test figure\n{CITY},2017,7400,,test figure\n",
        encoding="utf-8",
    )
    con = open_warehouse(tmp_path / "w.duckdb")
    ingest(con, [real_data / REAL_PRC, population])
    yield con
    con.close()


def test_a_rejected_row_makes_its_force_and_quarter_partial_and_withholds_the_figure(
    prc_and_populations, real_data, tmp_path
):
    con = prc_and_populations
    met_before = next(
        r
        for r in compute(con, period_end=date(2018, 3, 31), indicator_ids=["FIG-2c"])
        if r.force_code == MET
    )
    assert met_before.coverage == "computed" and met_before.value is not None

    second, line = prc_with_a_broken_row(real_data, tmp_path)
    report = ingest(con, [second])

    [reject] = report.rejects
    assert (reject.line, reject.force_code, reject.period_start) == (line, MET, date(2017, 4, 1))
    assert reject.reason == "expected 8 fields, found 9"
    # coverage: the Met's first quarter only is partial, with the count and where to look
    status, reason, _, rejected = coverage_of(con, "recorded_crime", MET, "2017/18 Q1")
    assert (status, rejected) == ("partial", 1)
    assert reason.startswith("1 row rejected (peelkit query")
    assert coverage_of(con, "recorded_crime", MET, "2017/18 Q2")[0] == "present"
    assert coverage_of(con, "recorded_crime", CITY, "2017/18 Q1")[0] == "present"

    records = compute(con, period_end=date(2018, 3, 31), indicator_ids=["FIG-2c"])
    met = next(r for r in records if r.force_code == MET)
    assert met.coverage == INCOMPLETE == "partial" and met.value is None and met.rank is None
    assert met.note is not None and met.note.startswith("withheld: inputs incomplete: 1 row")
    assert met.note is not None and f"line {line}: expected 8 fields, found 9" in met.note
    assert report.files[0].load_id in met.load_ids
    city = next(r for r in records if r.force_code == CITY)
    assert city.coverage == "computed" and city.value is not None
    assert city.note is not None and "includes the incomplete inputs of Metropolitan" in city.note


def test_a_rejected_row_of_another_force_leaves_the_figure_computed(
    prc_and_populations, real_data, tmp_path
):
    con = prc_and_populations
    second, _ = prc_with_a_broken_row(real_data, tmp_path, '2017/18,2,"London, City of",')
    [reject] = ingest(con, [second]).rejects
    assert (reject.force_code, reject.period_start) == (CITY, date(2017, 7, 1))

    records = compute(con, period_end=date(2018, 3, 31), indicator_ids=["FIG-2c"])
    met = next(r for r in records if r.force_code == MET)
    city = next(r for r in records if r.force_code == CITY)
    assert met.coverage == "computed" and met.value is not None
    assert "City of London Police" in (met.note or "")  # its England and Wales includes it
    assert city.coverage == "partial" and city.value is None
    assert coverage_of(con, "recorded_crime", CITY, "2017/18 Q2")[0] == "partial"
    assert coverage_of(con, "recorded_crime", CITY, "2017/18 Q1")[0] == "present"


def test_the_catalogue_can_show_such_a_figure_with_its_caveat_unranked(
    prc_and_populations, real_data, tmp_path
):
    con = prc_and_populations
    second, line = prc_with_a_broken_row(real_data, tmp_path)
    ingest(con, [second])
    book = catalogue()
    caveat = book.model_copy(
        update={
            "defaults": book.defaults.model_copy(update={"incomplete_inputs": "show with caveat"})
        }
    )
    records = compute(con, period_end=date(2018, 3, 31), indicator_ids=["FIG-2c"], book=caveat)
    met = next(r for r in records if r.force_code == MET)
    assert met.coverage == INCOMPLETE and met.value is not None and met.rank is None
    assert met.note is not None and f"line {line}" in met.note
    # Q1's 18,540 assaults are missing from the value shown
    assert met.numerator is not None and met.numerator < 71_501


def test_explain_names_the_rejected_row_behind_a_withheld_figure(
    prc_and_populations, real_data, tmp_path
):
    con = prc_and_populations
    second, line = prc_with_a_broken_row(real_data, tmp_path)
    ingest(con, [second])
    text = explain(con, MET, "FIG-2c", "2018-03-31").text
    assert "No value: partial — withheld: inputs incomplete: 1 row of load 3 rejected" in text
    assert f"load 3, line {line}, field (whole line): expected 8 fields, found 9" in text
    assert "2017/18,1,Metropolitan Police,Assault, with injury," in text


def test_the_report_shows_a_withheld_figure_as_withheld_never_as_a_number(
    prc_and_populations, real_data, tmp_path
):
    con = prc_and_populations
    second, _ = prc_with_a_broken_row(real_data, tmp_path)
    ingest(con, [second])
    when = for_date(date(2018, 3, 31))
    records = compute(con, period_end=when.end)
    report = build_profile(records, MET, when)
    shown = [n for n in report.numbers() if n.indicator == "FIG-2c" and n.force == MET]
    assert shown == []  # no number of the Met's is drawn or written for it
    page = write_report(report, tmp_path / "met", pdf=False).html.read_text(encoding="utf-8")
    assert "withheld: inputs incomplete: 1 row of load 3 rejected" in page


def test_a_plausibility_finding_travels_with_the_figure_and_changes_nothing(
    prc_and_populations, real_data, tmp_path
):
    con = prc_and_populations
    before = next(
        r
        for r in compute(con, period_end=date(2018, 3, 31), indicator_ids=["FIN-2"])
        if r.force_code == MET
    )
    # a second release in which the Met's 2017/18 Q1 counts are a tenth higher
    out = []
    for line in (real_data / REAL_PRC).read_text(encoding="utf-8").splitlines(keepends=True):
        if line.startswith("2017/18,1,Metropolitan Police,"):
            head, _, count = line.rstrip("\n").rpartition(",")
            if count.strip().isdigit():
                line = f"{head}, {round(int(count) * 1.1)} \n"
        out.append(line)
    second = tmp_path / "prc-second-release.csv"
    second.write_text("".join(out), encoding="utf-8")
    ingest(con, [second])
    assert con.execute("SELECT rule, force_code FROM findings").fetchall() == [
        ("quarter-move", MET)
    ]

    after = next(
        r
        for r in compute(con, period_end=date(2018, 3, 31), indicator_ids=["FIN-2"])
        if r.force_code == MET
    )
    assert after.coverage == "computed" and after.value is not None
    assert after.value > before.value  # the new release is used, as loaded
    assert after.note is not None and "plausibility findings: quarter-move in load 3" in after.note
    city = next(
        r
        for r in compute(con, period_end=date(2018, 3, 31), indicator_ids=["FIN-2"])
        if r.force_code == CITY
    )
    assert "plausibility" not in (city.note or "")


def test_a_zip_member_whose_compression_method_is_damaged_is_named_with_its_archive(
    con, real_data, tmp_path
):
    # found by scripts/fuzz: zipfile raised NotImplementedError, a traceback
    archive = tmp_path / "2016-01.zip"
    member = "2016-01/2016-01-city-of-london-street.csv"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(real_data / "police-uk-city-of-london" / member, member)
    data = bytearray(archive.read_bytes())
    data[8] = 99  # the local header's compression method
    data[data.rfind(b"PK\x01\x02") + 10] = 99  # and the central directory's
    archive.write_bytes(bytes(data))
    before = snapshot(con)
    with pytest.raises(UnreadableFile, match="its compression method is not one zip readers know"):
        ingest(con, [archive])
    assert snapshot(con) == before
