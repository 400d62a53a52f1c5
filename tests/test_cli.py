"""The peelkit command, in-process: what a user types and what they see."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from peelkit.cli import app
from peelkit.errors import QueryError, WarehouseError

runner = CliRunner()
CITY_2016_01 = Path("police-uk-city-of-london") / "2016-01"


def invoke(*args: str):
    result = runner.invoke(app, list(args), catch_exceptions=True)
    return result


def test_ingest_prints_a_summary_and_coverage_shows_the_gaps(real_data, tmp_path):
    wh = str(tmp_path / "w.duckdb")
    result = invoke("ingest", str(real_data / "police-uk-city-of-london"), "-w", wh)
    assert result.exit_code == 0, result.output
    assert "police_uk_street" in result.output and "10,118" in result.output
    coverage = invoke("coverage", "-w", wh, "--force", "city-of-london")
    assert coverage.exit_code == 0, coverage.output
    assert "2017-05" in coverage.output and "partial" in coverage.output
    again = invoke("ingest", str(real_data / "police-uk-city-of-london"), "-w", wh)
    assert again.exit_code == 0
    assert "already in the warehouse" in again.output


def test_query_writes_csv_and_cannot_write(real_data, tmp_path):
    wh = str(tmp_path / "w.duckdb")
    assert invoke("ingest", str(real_data / CITY_2016_01), "-w", wh).exit_code == 0
    result = invoke("query", "SELECT kind, rows_read FROM loads ORDER BY kind", "-w", wh)
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.output)))
    assert rows == [
        ["kind", "rows_read"],
        ["police_uk_outcomes", "574"],
        ["police_uk_stop_search", "150"],
        ["police_uk_street", "446"],
    ]
    write = invoke("query", "DELETE FROM loads", "-w", wh)
    assert write.exit_code == 1
    assert isinstance(write.exception, QueryError)  # main() prints it as "Error: ..."
    assert "read-only" in str(write.exception).lower()
    assert invoke("query", "SELECT count(*) AS n FROM loads", "-w", wh).output == "n\n3\n"


def test_query_on_a_missing_warehouse_says_how_to_make_one(tmp_path):
    result = invoke("query", "SELECT 1", "-w", str(tmp_path / "none.duckdb"))
    assert isinstance(result.exception, WarehouseError)
    assert "peelkit ingest" in str(result.exception)


def test_forces_lists_43_territorial_forces_and_other_bodies():
    result = runner.invoke(app, ["forces"])
    assert result.exit_code == 0
    assert result.output.count("territorial") >= 43
    for text in (
        "E23000001",
        "Metropolitan Police Service",
        "city-of-london",
        "British Transport",
        "fraud body",
        "Devon & Cornwall",
    ):
        assert text in result.output


def test_formats_lists_every_exact_header():
    result = runner.invoke(app, ["formats"])
    assert result.exit_code == 0
    assert "Crime ID,Month,Reported by,Falls within" in result.output
    assert "Force outcomes for offences recorded in quarter" in result.output
    assert "code,year,population,households,source" in result.output


def test_demo_prints_the_met_against_england_and_wales_and_is_idempotent(demo_run):
    out = demo_run.output
    assert "synthetic, not official statistics" in out
    assert "Metropolitan Police Service against England and Wales" in out
    assert "85.7" in out and "68.2" in out  # recorded crime: the Met and England and Wales
    report = demo_run.reports / "metropolitan" / "peel-effectiveness-2016.pdf"
    assert report.is_file() and str(report) in " ".join(out.split())
    again = invoke(
        "demo",
        "-w",
        str(demo_run.warehouse),
        "--out",
        str(demo_run.data),
        "--reports",
        str(demo_run.reports),
        "--site",
        str(demo_run.site),
    )
    assert again.exit_code == 0, again.output
    assert "already in the warehouse" in again.output


def test_the_installed_command_turns_errors_into_a_message_and_exit_1(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("not,a,known,header\n1,2,3,4\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "peelkit.cli", "ingest", str(bad), "-w", str(tmp_path / "w.duckdb")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "Error:" in done.stderr and "bad.csv" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    "command",
    [
        "ingest",
        "coverage",
        "query",
        "forces",
        "formats",
        "demo",
        "indicators",
        "explain",
        "judgments",
        "publish",
        "serve",
    ],
)
def test_every_command_has_help(command):
    result = invoke(command, "--help")
    assert result.exit_code == 0
    assert len(result.output) > 100


@pytest.fixture(scope="module")
def demo_warehouse(demo_run) -> str:
    return str(demo_run.warehouse)


def test_indicators_writes_benchmark_records_as_json_csv_and_parquet(demo_warehouse, tmp_path):
    args = ["indicators", "-w", demo_warehouse, "--force", "metropolitan", "--indicator", "FIN-2"]
    result = invoke(*args, "--format", "json")
    assert result.exit_code == 0, result.output
    [record] = json.loads(result.output)
    assert record["indicator_id"] == "FIN-2" and record["force_code"] == "E23000001"
    assert record["value"] == pytest.approx(record["numerator"] / record["denominator"] * 1000)
    assert record["ci95_lower"] < record["value"] < record["ci95_upper"]
    assert record["load_ids"] and len(record["ew_forces"]) == 43
    as_csv = list(csv.DictReader(io.StringIO(invoke(*args, "--format", "csv").output)))
    assert float(as_csv[0]["value"]) == pytest.approx(record["value"])
    out = tmp_path / "records.parquet"
    assert invoke(*args, "--format", "parquet", "--out", str(out)).exit_code == 0
    assert pq.read_table(out).num_rows == 1


def test_indicators_table_shows_exclusions_and_unknown_ids_are_refused(demo_warehouse):
    result = runner.invoke(app, ["indicators", "-w", demo_warehouse, "--indicator", "FIN-5"])
    assert result.exit_code == 0, result.output
    assert "Dorset Police" in result.output and "excluded" in result.output
    wrong = invoke("indicators", "-w", demo_warehouse, "--indicator", "FIN-99")
    assert wrong.exit_code != 0 and "FIN-99" in wrong.output


def test_explain_command_prints_the_explanation(demo_warehouse):
    result = invoke("explain", "metropolitan", "FIN-11", "2016", "-w", demo_warehouse)
    assert result.exit_code == 0, result.output
    assert "Metropolitan Police Service, as at 1 July 2016" in result.output
    assert "City of London Police: not comparable" in result.output
    wrong = invoke("explain", "metropolitan", "FIG-4", "-w", demo_warehouse)
    assert wrong.exit_code != 0 and "--row" in wrong.output


def test_judgments_check_says_valid_or_lists_the_problems(tmp_path):
    from peelkit.judgments import demo_folder

    good = invoke("judgments", "check", str(demo_folder(2016)))
    assert good.exit_code == 0, good.output
    assert "valid" in good.output and "11 areas for improvement" in good.output
    bad = tmp_path / "bad.toml"
    bad.write_text(
        'force = "kent"\ncycle = 2016\nsource = "test"\n[overall]\ngrade = "adequate"\n',
        encoding="utf-8",
    )
    result = invoke("judgments", "check", str(bad))
    assert result.exit_code == 1
    listed = invoke("judgments", "list")
    assert listed.exit_code == 0 and "Durham Constabulary" in listed.output


def test_a_cycle_peelkit_does_not_know_and_a_date_that_is_no_quarter_end_are_refused(
    demo_warehouse,
):
    for args in (("--cycle", "2099"), ("--period-end", "2018-03-30"), ("--period-end", "soon")):
        result = invoke("indicators", "-w", demo_warehouse, *args)
        assert result.exit_code != 0
        said = result.output + str(result.exception)
        assert "2099" in said or "quarter" in said, said
    for command in (("report", "metropolitan"), ("national",), ("judgments", "list")):
        result = invoke(
            *command,
            "--cycle",
            "2099",
            *(("-w", demo_warehouse)[: 2 * (command[0] != "judgments")]),
        )
        assert result.exit_code != 0 and "2099" in str(result.exception), command


def test_indicators_say_what_they_were_computed_for_and_explain_takes_the_period_as_printed(
    demo_warehouse,
):
    args = ["indicators", "-w", demo_warehouse, "--force", "metropolitan", "--format", "json"]
    records = json.loads(invoke(*args, "--indicator", "FIG-1").output)
    assert {(r["cycle"], r["period_end"]) for r in records} == {(2016, "2016-06-30")}
    table = invoke("indicators", "-w", demo_warehouse, "--force", "metropolitan")
    assert "PEEL 2016, data to 30 June 2016" in " ".join(table.output.split())
    earlier = next(r for r in records if r["period"] == "12 months to 30 June 2014")
    page = invoke("explain", "metropolitan", "FIG-1", earlier["period"], "-w", demo_warehouse)
    assert page.exit_code == 0, page.output
    assert "12 months to 30 June 2014" in page.output
    assert f"{earlier['value']:,.2f} per 1,000 population" in page.output
    assert "SELECT" not in page.output and len(page.output.splitlines()) < 60
    with_sql = invoke("explain", "metropolitan", "FIG-1", "--sql", "-w", demo_warehouse)
    assert "SQL of the numerator" in with_sql.output
    wrong = invoke(
        "explain", "metropolitan", "FIN-2", "12 months to 31 May 2016", "-w", demo_warehouse
    )
    assert wrong.exit_code != 0


def test_coverage_summarises_gaps_per_force_and_source_and_refuses_an_unknown_source(
    demo_warehouse,
):
    result = invoke("coverage", "-w", demo_warehouse)
    assert result.exit_code == 0, result.output
    assert "Gaps, per source" in result.output
    assert len(result.output.splitlines()) < 400
    words = " ".join(result.output.split())
    assert "households" in words and "population" in words
    bad = invoke("coverage", "-w", demo_warehouse, "--source", "police_uk_streets")
    assert bad.exit_code != 0 and "police_uk_street" in bad.output


def test_coverage_names_the_sources_of_which_nothing_is_loaded(real_data, tmp_path):
    wh = str(tmp_path / "w.duckdb")
    prc = real_data / "home-office-prc" / "prc-pfa-mar2013-onwards-tables201718.csv"
    assert invoke("ingest", str(prc), "-w", wh).exit_code == 0
    words = " ".join(invoke("coverage", "-w", wh).output.split())
    assert "population: nothing loaded for any force; load the ONS mid-year" in words
    assert "crime_outcomes: nothing loaded for any force" in words
    assert "recorded_crime: nothing loaded" not in words


def test_the_terminal_progress_runs_with_the_real_console():
    # rich's Progress needs the Console itself, not the lazy stand-in (it failed on a terminal)
    from rich.console import Console

    from peelkit.present import _RichProgress, err, real_console

    assert isinstance(real_console(err), Console)
    progress = _RichProgress()
    with progress.bar:
        progress("load-total", 10, "")
        progress("load", 10, "a.csv")
