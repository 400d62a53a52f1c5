"""A report on a warehouse that lacks data: it refuses (saying what to load) unless told to go
ahead, then says what is missing instead of writing sentences around numbers it does not
have, borrows no judgments, and passes ``peelkit report check``, which catches a sentence
built around a missing value."""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from peelkit.cli import app
from peelkit.demo.sample import LABEL
from peelkit.errors import InputError
from peelkit.indicators.catalogue import catalogue
from peelkit.indicators.engine import EXCLUDED, compute
from peelkit.judgments import default_judgments, demo_judgments
from peelkit.report.check import check_html
from peelkit.report.gaps import MAX_MISSING_SHARE, find_gaps
from peelkit.warehouse import open_read_only
from tests.support import fresh

CITY = "E23000034"
runner = CliRunner()


@pytest.fixture(scope="module")
def real_warehouse(real_data, tmp_path_factory) -> Path:
    """A warehouse holding only the real files."""
    path = tmp_path_factory.mktemp("real") / "real.duckdb"
    result = runner.invoke(app, ["ingest", str(real_data), "-w", str(path)])
    assert result.exit_code == 0, result.output
    return path


@pytest.fixture(scope="module")
def city_report(real_warehouse, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("reports")
    result = runner.invoke(
        app,
        ["report", "city-of-london", "-w", str(real_warehouse), "--out", str(out), "--allow-gaps"],
    )
    assert result.exit_code == 0, result.output
    return out / "city-of-london"


@pytest.fixture(scope="module")
def city_html(city_report) -> str:
    return (city_report / "peel-effectiveness-2016.html").read_text(encoding="utf-8")


def test_a_report_on_a_warehouse_lacking_most_data_refuses_and_says_what_to_load(
    real_warehouse, tmp_path
):
    result = runner.invoke(
        app, ["report", "city-of-london", "-w", str(real_warehouse), "--out", str(tmp_path)]
    )
    assert result.exit_code != 0
    assert isinstance(result.exception, InputError)
    message = str(result.exception)
    assert "City of London Police" in message and "--allow-gaps" in message
    lines = [line for line in message.splitlines() if line.startswith("  - ")]
    # one line per source and missing input, naming the indicators it leaves empty
    assert any(line.startswith("  - crime outcomes:") and "FIN-5" in line for line in lines)
    assert any(line.startswith("  - recorded crime:") and "FIN-4" in line for line in lines)
    assert len(lines) == len(set(lines)) < 10
    assert not list(tmp_path.iterdir())  # nothing written


def test_every_report_refuses_together_naming_how_many_forces(real_warehouse, tmp_path):
    result = runner.invoke(
        app, ["report", "--all", "--no-pdf", "-w", str(real_warehouse), "--out", str(tmp_path)]
    )
    assert isinstance(result.exception, InputError)
    assert re.search(r"on \d+ forces \(", str(result.exception))


def test_with_allow_gaps_the_front_page_says_what_is_missing(city_html, city_report):
    front = city_html[: city_html.index('<nav class="contents"')]
    notice = re.search(r'<section class="notice"[^>]*>(.*?)</section>', front, re.S)
    assert notice, "the notice is on the front page"
    assert re.search(r"This report lacks \d+ of its \d+ indicators", notice.group(1))
    assert "crime outcomes: " in notice.group(1) and "FIN-5" in notice.group(1)
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext (poppler-utils) is missing: scripts/setup installs it")
    text = subprocess.run(
        ["pdftotext", str(city_report / "peel-effectiveness-2016.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "This report lacks" in " ".join(text.split())


def _sentences(html: str) -> list[str]:
    """The text of every paragraph and list item outside figures, tables and the annex's
    data rules (where a '—' marks a cell without a value), except the tables' legend of
    that mark ('— : no figure …')."""
    html = re.sub(r'<section id="annex-a".*', "", html, flags=re.S)
    html = re.sub(r"<(figure|table)\b.*?</\1>", "", html, flags=re.S)
    texts = [
        " ".join(re.sub(r"<[^>]+>", "", m).split())
        for m in re.findall(r"<(?:p|li)\b[^>]*>(.*?)</(?:p|li)>", html, flags=re.S)
    ]
    return [t for t in texts if not t.startswith("— : no figure")]


def test_no_sentence_is_built_around_a_missing_value(city_html):
    sentences = _sentences(city_html)
    assert len(sentences) > 20
    assert [s for s in sentences if "—" in s] == []
    assert 'data value=""' not in re.sub(r"<(figure|table)\b.*?</\1>", "", city_html, flags=re.S)
    missing = re.findall(r'<p class="missing">([^<]*)</p>', city_html)
    five_years = next(m for m in missing if m.startswith("Police-recorded crime rate"))
    assert five_years.startswith(
        "Police-recorded crime rate (excluding fraud), over five years: not available for "
        "City of London Police (numerator: recorded crime for City of London Police lacks"
    )
    # Figure 1 (the five-year series) has no value at all: the statement replaces it
    assert 'id="figure-1"' not in city_html and "figure-1.svg" not in city_html


def test_no_grade_is_borrowed_from_the_demo(city_html):
    assert demo_judgments(2016)[CITY].overall.grade == "good"  # what must not be borrowed
    grades = re.findall(r'<p class="grade grade-([a-z-]+)">', city_html)
    assert grades and set(grades) == {"not-recorded"}
    assert "No inspectors' judgments were loaded for City of London Police" in city_html.replace(
        "&#39;", "'"
    )


def test_the_demo_judgments_belong_to_the_demo_warehouse_only():
    assert CITY in default_judgments(2016, [LABEL])
    assert default_judgments(2016, []) == {}
    assert default_judgments(2016, ["official data, loaded by hand"]) == {}


def test_the_national_overview_borrows_no_grades(real_warehouse, tmp_path):
    result = runner.invoke(
        app, ["national", "--no-pdf", "-w", str(real_warehouse), "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    html = (tmp_path / "peel-national-2016.html").read_text(encoding="utf-8")
    table = re.search(r'<table id="grades-by-force".*?</table>', html, re.S)
    assert table and table.group(0).count('<tr class="row-member">') == 43
    cells = re.findall(r"<td>([^<]*)</td>", table.group(0))
    assert cells and set(cells) == {"Not recorded"}
    assert "No inspectors&#39; judgments were loaded for this cycle" in html


def test_the_gapped_report_passes_the_check_as_a_folder_and_as_a_file(city_report, real_warehouse):
    for target in (city_report, city_report / "peel-effectiveness-2016.html"):
        result = runner.invoke(app, ["report", "check", str(target), "-w", str(real_warehouse)])
        assert result.exit_code == 0, result.output
        assert "agrees with its data" in result.output
    numbers = city_report / "peel-effectiveness-2016-numbers.csv"
    result = runner.invoke(app, ["report", "check", str(numbers), "-w", str(real_warehouse)])
    assert result.exit_code == 1 and "not a report's HTML file" in " ".join(result.output.split())


@pytest.fixture(scope="module")
def con(real_warehouse):
    con = open_read_only(real_warehouse)
    yield con
    con.close()


def test_planted_number_without_a_value_in_a_sentence_is_caught(city_html, con):
    assert check_html(city_html, fresh(con)) == []
    planted = (
        '<p class="prose">In the 12 months to 30 June 2016, the crime rate in the force was '
        '<data value="" data-indicator="FIN-2" data-row="" data-row-key="" data-who="force" '
        f'data-force="{CITY}" data-period="12 months to 30 June 2016">—</data> per 1,000 '
        "population.</p></main>"
    )
    bad = city_html.replace("</main>", planted, 1)
    problems = check_html(bad, fresh(con))
    assert problems and all("built around a missing value" in p for p in problems)
    assert any("FIN-2" in p for p in problems)


def test_planted_dashes_where_numbers_belong_are_caught(city_html, con):
    prose = city_html.replace(
        "</main>",
        '<p class="prose">Crime went from — and — in the 12 months to 30 June 2012.</p></main>',
        1,
    )
    assert any("'—' where a number belongs" in p for p in check_html(prose, fresh(con)))
    alt = city_html.replace(
        "</main>",
        '<figure data-comparison="true" data-indicator="FIG-1"><p class="alt">Line chart: from '
        "— and — in the 12 months to 30 June 2012.</p></figure></main>",
        1,
    )
    assert any("'—' where a number belongs" in p for p in check_html(alt, fresh(con)))


def test_the_threshold_counts_indicators_without_a_value_for_want_of_data(con):
    records = compute(con, cycle=2016)
    city = find_gaps(records, CITY)
    assert city.too_many and city.share > MAX_MISSING_SHARE
    ids = [ind.id for ind in catalogue().indicator]
    assert {g.indicator for g in city.missing} < set(ids)  # FIN-11 is an exclusion, not a gap
    excluded = {r.indicator_id for r in records if r.force_code == CITY and r.coverage == EXCLUDED}
    assert "FIN-11" in excluded and "FIN-11" not in {g.indicator for g in city.missing}

    # the force with a value everywhere but k indicators (no data): refused above the share
    present = [i for i in ids if any(r.indicator_id == i and r.force_code == CITY for r in records)]

    def missing(k: int) -> list:
        gone = set(present[:k])
        return [
            r
            if r.force_code != CITY
            else dataclasses.replace(r, value=None, coverage="no data", note="planted")
            if r.indicator_id in gone
            else dataclasses.replace(r, value=1.0, coverage="computed", note=None)
            for r in records
        ]

    base = len(find_gaps(missing(0), CITY).missing)  # indicators with no row for the force
    assert base == len(ids) - len(present) < len(ids) * MAX_MISSING_SHARE
    at = int(len(ids) * MAX_MISSING_SHARE) - base
    written, refused = find_gaps(missing(at), CITY), find_gaps(missing(at + 1), CITY)
    assert len(written.missing) == at + base and not written.too_many
    assert len(refused.missing) == at + base + 1 and refused.too_many
    assert {g.reason for g in refused.missing} >= {"planted"}


def test_partly_missing_figures_draw_what_there_is_and_name_what_is_not(con):
    """Every force given a value, then some of the subject's taken away: charts keep the other
    forces, tables keep their rows with a note, sentences become statements."""
    from peelkit.report.build import build_report
    from peelkit.report.document import Figure, Paragraph
    from peelkit.report.render import html

    full = [
        dataclasses.replace(
            r, value=10.0 + n % 7, england_and_wales=12.0, coverage="computed", note=None
        )
        for n, r in enumerate(compute(con, cycle=2016))
    ]
    series = sorted({r.period for r in full if r.indicator_id == "FIG-1"})
    gone = {("FIG-6", None), ("FIN-2", None), ("FIG-1", series[0]), ("FIG-1", series[1])}
    records = [
        dataclasses.replace(r, value=None, coverage="no data", note="planted gap")
        if r.force_code == CITY
        and ((r.indicator_id, None) in gone or (r.indicator_id, r.period) in gone)
        else r
        for r in full
    ]
    report = build_report(records, None, 2016, None, CITY)
    figures = {f.indicator: f for f in report.figures()}
    fig6 = figures["FIG-6"]
    assert fig6.chart and CITY not in {b.force for b in fig6.chart.bars}
    assert len(fig6.chart.bars) == 42
    assert any("City of London Police: no data (planted gap)" in n for n in fig6.notes)
    assert "City of London Police is not shown (planted gap)" in fig6.alt
    fig1 = figures["FIG-1"]
    assert "has a value for 3 of them" in fig1.alt and "—" not in fig1.alt
    assert any(f"the {series[0]} (planted gap)" in n for n in fig1.notes)
    numbers = next(s for s in report.walk() if s.id == "force-in-numbers")
    table = numbers.blocks[0]
    assert not isinstance(table, Paragraph)
    assert any("Not available for City of London Police: " in n for n in table.notes)
    statements = [
        b.parts[0]
        for s in report.walk()
        for b in s.blocks
        if isinstance(b, Paragraph) and b.role == "missing"
    ]
    assert any(
        str(s).startswith("The share of police-recorded crime with a vulnerable")
        for s in statements
    )
    assert [s for s in _sentences(html(report)) if "—" in s] == []
    assert all(isinstance(f, Figure) for f in figures.values())
