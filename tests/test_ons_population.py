"""ONS mid-year population estimates, as published, summed to police force areas.

No published estimates file is among the real data, so the fixtures are written here in the
layouts ONS publishes (docs/formats.md says where each layout was seen): the MYE2 table with
its title rows, as CSV and as a spreadsheet, and the MYEB long CSV. Every one covers exactly the
348 districts of the real December 2016 LAD → CSP → PFA lookup; the populations are the demo's
approximate force populations shared over each force's districts (a fixture, not ONS figures).
The real 2017/18 recorded crime table is then computed per 1,000 of them.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import date
from importlib import resources
from pathlib import Path

import pytest

from peelkit import reference
from peelkit.errors import InputError
from peelkit.indicators.engine import COMPUTED, compute
from peelkit.ingest import ingest
from peelkit.service import explain
from peelkit.warehouse import open_warehouse, snapshot
from tests.test_readers import write_ods

LOOKUP = (
    "ons-geography/Local_Authority_District_to_Community_Safety_Partnerships_to_Police_Force_"
    "Areas__December_2016__Lookup_in_England_and_Wales.csv"
)
PRC = "home-office-prc/prc-pfa-mar2013-onwards-tables201718.csv"
CITY, KENT = "E23000034", "E23000032"
TRANSIENT = 405_600
AGES = [str(a) for a in range(90)] + ["90+"]


def districts(real_data: Path) -> list[tuple[str, str, str]]:
    """(LAD code, name, PFA code) of every row of the real lookup."""
    with (real_data / LOOKUP).open(encoding="utf-8-sig", newline="") as fh:
        return [(r["LAD16CD"], r["LAD16NM"], r["PFA16CD"]) for r in csv.DictReader(fh)]


def fixture_populations(real_data: Path) -> dict[str, int]:
    """A population per district: each force's demo population shared over its districts."""
    text = resources.files("peelkit.demo").joinpath("populations.csv").read_text("utf-8")
    force_people = {r["code"]: int(r["population_mid_2015"]) for r in csv.DictReader(text.split())}
    by_force: dict[str, list[str]] = defaultdict(list)
    for lad, _, pfa in districts(real_data):
        by_force[pfa].append(lad)
    people = {}
    for pfa, lads in by_force.items():
        share, rest = divmod(force_people[pfa], len(lads))
        for n, lad in enumerate(lads):
            people[lad] = share + (1 if n < rest else 0)
    return people


def mye2_rows(real_data: Path, year: int, extra: list[list[object]] = ()) -> list[list[object]]:
    """The MYE2 table as ONS lays it out: title rows, header, the UK, countries, regions,
    counties and districts, Scotland and Northern Ireland, footnotes."""
    people = fixture_populations(real_data)
    rows: list[list[object]] = [
        [
            f"MYE2: Population estimates: Persons by single year of age and sex for local "
            f"authorities in the UK, mid-{year}"
        ],
        [],
        ["Source: fixture in the ONS layout (peelkit tests)"],
        [],
        ["Code", "Name", "Geography1", "All ages", *AGES],
        ["K02000001", "UNITED KINGDOM", "Country", 66_040_229, *([1] * len(AGES))],
        ["E92000001", "ENGLAND", "Country", 55_619_430, *([1] * len(AGES))],
        ["E12000007", "LONDON", "Region", 8_825_001, *([1] * len(AGES))],
        ["E10000016", "Kent", "County", 1_540_400, *([1] * len(AGES))],
        ["E11000001", "Greater Manchester (Met County)", "Metropolitan County", 2_798_799],
    ]
    for lad, name, _ in districts(real_data):
        rows.append([lad, name, "Unitary Authority", f"{people[lad]:,}", *([0] * len(AGES))])
    rows += [
        ["S92000003", "SCOTLAND", "Country", 5_424_800],
        ["S12000033", "Aberdeen City", "Council Area", 228_800],
        ["N09000001", "Antrim and Newtownabbey", "Local Government District", 142_492],
        *extra,
        [],
        ["Note: estimates are rounded; figures may not sum."],
    ]
    return rows


def write_csv(path: Path, rows: list[list[object]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    return path


def write_mye2_ods(path: Path, sheet: str, rows: list[list[object]]) -> Path:
    """The MYE2 sheet in a workbook, after a contents sheet, as ONS publishes it."""
    write_ods(path, {"Contents": [], sheet: rows})
    return path


def expected_totals(real_data: Path) -> dict[str, int]:
    """The fixture's districts summed per force area straight from the lookup file."""
    people = fixture_populations(real_data)
    totals: dict[str, int] = defaultdict(int)
    for lad, _, pfa in districts(real_data):
        totals[pfa] += people[lad]
    return dict(totals)


def population_rows(con, year: int) -> dict[str, dict[str, int]]:
    found: dict[str, dict[str, int]] = defaultdict(dict)
    for code, basis, people in con.execute(
        "SELECT force_code, basis, population FROM population WHERE year = ?", [year]
    ).fetchall():
        found[code][basis] = people
    return found


@pytest.mark.parametrize("form", ["csv", "ods"])
def test_the_mye2_table_is_summed_to_force_areas_through_the_lookup(real_data, tmp_path, form):
    rows = mye2_rows(real_data, 2017)
    if form == "csv":
        estimates = write_csv(tmp_path / "ukmidyearestimates2017.csv", rows)
    else:
        estimates = write_mye2_ods(tmp_path / "ukmidyearestimates2017.ods", "MYE2 - All", rows)
    con = open_warehouse(tmp_path / "w.duckdb")
    report = ingest(con, [estimates, real_data / LOOKUP])  # either order: the lookup loads first
    kinds = {f.kind for f in report.loaded}
    assert kinds == {"ons_population", "lad_csp_pfa"}
    got = population_rows(con, 2017)
    totals = expected_totals(real_data)
    assert {code: bases["resident"] for code, bases in got.items()} == totals
    assert len(got) == 43
    assert got[CITY] == {"resident": totals[CITY], "transient": TRANSIENT}
    [(districts_loaded,)] = con.execute("SELECT count(*) FROM lad_population").fetchall()
    assert districts_loaded == 348
    [(source, note)] = con.execute(
        "SELECT p.source, lp.note FROM population p JOIN load_periods lp USING (load_id, "
        "force_code) WHERE p.force_code = ? AND p.basis = 'resident'",
        [KENT],
    ).fetchall()
    assert "ONS mid-2017 population estimates" in source and "(December 2016)" in source
    assert "348 local authority districts" in source
    assert "Scotland and Northern Ireland" in note and "countries, regions and counties" in note


def test_the_myeb_long_csv_gives_every_year_it_holds(real_data, tmp_path):
    people = fixture_populations(real_data)
    rows: list[list[object]] = [
        ["ladcode18", "laname18", "country", "sex", "age", "population_2016", "population_2017"]
    ]
    for lad, name, _ in districts(real_data):
        for sex in (1, 2):
            rows.append([lad, name, lad[0], sex, 0, people[lad] - 10 * sex, people[lad]])
            rows.append([lad, name, lad[0], sex, 1, 10 * sex, 0])
    rows.append(["S12000033", "Aberdeen City", "S", 1, 0, 100, 100])
    path = write_csv(tmp_path / "MYEB1_detailed_population_estimates_series_UK.csv", rows)
    con = open_warehouse(tmp_path / "w.duckdb")
    ingest(con, [real_data / LOOKUP, path])
    totals = expected_totals(real_data)
    for year, factor in ((2016, 2), (2017, 2)):
        got = population_rows(con, year)
        assert {c: b["resident"] for c, b in got.items()} == {
            c: t * factor for c, t in totals.items()
        }


def test_districts_that_do_not_match_the_lookup_fail_the_load_and_change_nothing(
    real_data, tmp_path
):
    con = open_warehouse(tmp_path / "w.duckdb")
    ingest(con, [real_data / LOOKUP])
    before = snapshot(con)
    odd = [["E07000999", "Nowhere", "Non-metropolitan District", 1000]]
    estimates = write_csv(tmp_path / "mye2017.csv", mye2_rows(real_data, 2017, odd))
    with pytest.raises(InputError, match=r"E07000999.*lookup for 2017") as raised:
        ingest(con, [estimates])
    assert "mye2017.csv" in str(raised.value)
    assert snapshot(con) == before


def test_estimates_without_any_lookup_say_which_to_load(real_data, tmp_path):
    con = open_warehouse(tmp_path / "w.duckdb")
    estimates = write_csv(tmp_path / "mye.csv", mye2_rows(real_data, 2017))
    with pytest.raises(InputError, match=r"none is loaded\. Load the lookup for 2017"):
        ingest(con, [estimates])


def test_a_year_the_file_does_not_name_is_an_error_not_a_guess(real_data, tmp_path):
    rows = mye2_rows(real_data, 2017)[4:]  # no title rows
    estimates = write_csv(tmp_path / "population-table.csv", rows)
    con = open_warehouse(tmp_path / "w.duckdb")
    with pytest.raises(InputError, match="which mid-year the estimates are for"):
        ingest(con, [real_data / LOOKUP, estimates])


def test_lookups_of_several_years_are_kept_and_the_nearest_matching_one_is_used(
    real_data, tmp_path
):
    text = (real_data / LOOKUP).read_text(encoding="utf-8-sig")
    later = tmp_path / "lookup-2017.csv"
    later.write_text(text.replace("16CD", "17CD").replace("16NM", "17NM"), encoding="utf-8")
    con = open_warehouse(tmp_path / "w.duckdb")
    estimates = write_csv(tmp_path / "mye.csv", mye2_rows(real_data, 2017))
    ingest(con, [real_data / LOOKUP, later, estimates])
    years = con.execute("SELECT year, count(*) FROM lad_csp_pfa GROUP BY year ORDER BY 1")
    assert years.fetchall() == [(2016, 348), (2017, 348)]
    [(source,)] = con.execute(
        "SELECT source FROM population WHERE force_code = ? AND basis = 'resident'", [KENT]
    ).fetchall()
    assert "(December 2017)" in source


@pytest.fixture(scope="module")
def real_with_estimates(real_data, tmp_path_factory):
    folder = tmp_path_factory.mktemp("estimates")
    estimates = write_csv(folder / "ukmidyearestimates2017.csv", mye2_rows(real_data, 2017))
    con = open_warehouse(folder / "w.duckdb")
    ingest(con, [real_data, estimates])  # every real file, and the estimates
    return con


def test_real_recorded_crime_to_march_2018_per_1000_of_the_estimates(
    real_data, real_with_estimates
):
    """The issue's acceptance: real files and an estimates file in the published layout give
    real values for every force's recorded-crime indicators, checked against the files."""
    records = compute(real_with_estimates, period_end=date(2018, 3, 31), indicator_ids=["FIN-2"])
    totals = expected_totals(real_data)
    crimes: dict[str, int] = defaultdict(int)
    aliases = reference.force_aliases()
    with (real_data / PRC).open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["Offence Group"] != "Fraud offences":
                text = row["Number of Offences"].strip()
                crimes[aliases[row["Force Name"]]] += 0 if text == "-00" else int(text)
    assert len(records) == 43 and {r.coverage for r in records} == {COMPUTED}
    for r in records:
        people = totals[r.force_code] + (TRANSIENT if r.force_code == CITY else 0)
        assert r.value == pytest.approx(crimes[r.force_code] / people * 1000)
        assert r.population_year == 2017
    ew = sum(crimes[c] for c in totals) / (sum(totals.values()) + TRANSIENT) * 1000
    assert records[0].england_and_wales == pytest.approx(ew)


def test_explain_shows_the_city_of_londons_residents_and_transient_population(
    real_with_estimates,
):
    text = explain(real_with_estimates, CITY, "FIN-2", "2018-03-31").text
    assert "Population: ONS mid-2017 estimate" in text
    assert f"transient: {TRANSIENT:,} population" in text
    assert "resident: " in text and "2011 Census workday population" in text
