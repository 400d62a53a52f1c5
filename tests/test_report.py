"""The force report: rendered from the demo warehouse, read back from its PDF and HTML, held
against the seed report, and checked by ``peelkit report check`` — which must catch each of
the seed report's faults when they are planted in a rendered report."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from peelkit.cli import app
from peelkit.judgments import demo_judgments
from peelkit.report.check import check_html
from peelkit.warehouse import open_read_only
from tests.support import fresh

MET = "E23000001"
runner = CliRunner()


@pytest.fixture(scope="module")
def met_report(demo_run, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("reports")
    result = runner.invoke(
        app,
        [
            "report",
            "metropolitan",
            "--cycle",
            "2016",
            "-w",
            str(demo_run.warehouse),
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    return out / "metropolitan"


@pytest.fixture(scope="module")
def pdf_lines(met_report) -> list[list[str]]:
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext (poppler-utils) is missing: scripts/setup installs it")
    pdf = met_report / "peel-effectiveness-2016.pdf"
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    return [re.split(r"\s{2,}", line.strip()) for line in text.splitlines() if line.strip()]


def _seed_rows(seed: str, start: str, stop: str) -> list[list[str]]:
    """Tab-separated table rows of the seed between two lines."""
    block = seed[seed.index(start) : seed.index(stop, seed.index(start))]
    return [line.split("\t") for line in block.splitlines() if "\t" in line]


def _find_row(lines: list[list[str]], label: str, values: list[str]) -> bool:
    """A PDF table row: its first line starts the label (it may wrap) and ends with the values."""
    norm = _norm(label)
    for cells in lines:
        if len(cells) >= len(values) + 1 and cells[-len(values) :] == values:
            first = _norm(cells[-len(values) - 1])
            if first and norm.startswith(first):
                return True
    return False


def _norm(text: str) -> str:
    text = text.replace("-", "–").replace("/ ", "/").replace("*", "")
    return " ".join(text.split()).casefold()


def _flat(text: str) -> str:
    """Words as pdftotext gives them: a hyphen at a line end is dropped when it joins lines."""
    return " ".join(text.replace("-", "").split())


def test_the_report_files_are_written(met_report):
    names = {p.name for p in met_report.iterdir()}
    assert {"peel-effectiveness-2016.html", "peel-effectiveness-2016.pdf"} <= names
    assert "peel-effectiveness-2016-numbers.csv" in names
    assert {f"figure-{n}.svg" for n in (1, 3, 5, 6, 7, 9, 10)} <= names
    svg = (met_report / "figure-6.svg").read_text(encoding="utf-8")
    assert "Metropolitan Police Service" in svg and "England and Wales" in svg


@pytest.mark.parametrize(
    "figure, start, stop",
    [
        ("Figure 2", "Rates per 1,000 population\tMetropolitan Police", "^{*} The rate"),
        ("Figure 4", "Outcome number\tOutcome type / group", "*Includes the following"),
        (
            "Figure 8",
            "Outcome type / group\tMetropolitan Police\tEngland and Wales\nCharged",
            "Source: HMIC data return",
        ),
    ],
)
def test_figure_tables_in_the_pdf_match_the_seed(pdf_lines, seed_report, figure, start, stop):
    seed = seed_report.read_text(encoding="utf-8")
    rows = _seed_rows(seed, start, stop)[1:]
    checked = 0
    for row in rows:
        cells = [c.strip() for c in row if c.strip()]
        values = [c for c in cells if re.fullmatch(r"\d+\.\d+", c)]
        label = next((c for c in cells if not re.fullmatch(r"[\d.*]+", c)), "")
        if not values or label == "Total" or len(values) != 2:
            continue
        assert _find_row(pdf_lines, label.rstrip("*"), values), f"{figure}: {label} {values}"
        checked += 1
    assert checked >= {"Figure 2": 5, "Figure 4": 17, "Figure 8": 6}[figure]


def test_grades_findings_cause_of_concern_and_recommendations_are_in_the_pdf(
    met_report, seed_report
):
    pdf = met_report / "peel-effectiveness-2016.pdf"
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    flat = _flat(text)
    layout = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    seed = _flat(seed_report.read_text(encoding="utf-8"))
    met = demo_judgments(2016)[MET]
    for q in met.questions:
        for afi in q.areas_for_improvement:
            assert _flat(afi) in flat
            assert _flat(afi) in seed
        for cause in q.causes_of_concern:
            opening = "The Metropolitan Police Service's approach to protecting vulnerable people"
            assert opening in flat and opening in seed
            for rec in cause.recommendations:
                for action in [rec.text, *rec.actions]:
                    assert _flat(action) in flat, action
    for question, grade in [
        ("preventing crime, tackling anti-social behaviour and keeping people safe?", "Good"),
        ("investigating crime and reducing re-offending?", "Requires improvement"),
        ("protecting those who are vulnerable from harm, and supporting victims?", "Inadequate"),
        ("tackling serious and organised crime?", "Requires improvement"),
        ("specialist capabilities?", "Ungraded"),
    ]:
        # the grades table: the row's first line holds the question's opening and the grade
        opening, first_word = question[:30], grade.split()[0]
        assert any(opening in line and first_word in line for line in layout), question
    assert "Overall judgment Requires improvement" in flat.replace(
        "OVERALL JUDGMENT", "Overall judgment"
    )


def test_the_rendered_report_passes_the_check(met_report, demo_run):
    result = runner.invoke(app, ["report", "check", str(met_report), "-w", str(demo_run.warehouse)])
    assert result.exit_code == 0, result.output
    assert "agrees with its data" in result.output


def test_the_report_is_labelled_as_synthetic(met_report):
    html = (met_report / "peel-effectiveness-2016.html").read_text(encoding="utf-8")
    assert "Demo data — synthetic, not official statistics" in html
    numbers = (met_report / "peel-effectiveness-2016-numbers.csv").read_text(encoding="utf-8")
    assert numbers.count("synthetic, not official statistics") == numbers.count("\n") - 1


# -- the seed report's faults, planted in a rendered report -------------------------------


def _plant(html: str, old: str, new: str, count: int = 1) -> str:
    assert old in html, old
    return html.replace(old, new, count)


@pytest.fixture(scope="module")
def html_and_con(met_report, demo_run):
    html = (met_report / "peel-effectiveness-2016.html").read_text(encoding="utf-8")
    con = open_read_only(demo_run.warehouse)
    yield html, con
    con.close()


def test_planted_wrong_number_next_to_a_label_is_caught(html_and_con):
    html, con = html_and_con
    bad = re.sub(
        r'(data-indicator="FIN-2" data-row="" data-row-key="" data-who="force"[^>]*>)85\.7<',
        r"\g<1>86.7<",
        html,
        count=1,
    )
    assert bad != html
    assert any("FIN-2 for the force shows '86.7'" in p for p in check_html(bad, fresh(con)))


def test_planted_other_force_name_in_the_prose_is_caught(html_and_con):
    html, con = html_and_con
    bad = _plant(
        html,
        " percent in the Metropolitan Police Service, compared with",
        " percent in Bedfordshire, compared with",
    )
    assert any("another force ('Bedfordshire')" in p for p in check_html(bad, fresh(con)))


def test_planted_reference_to_a_missing_figure_is_caught(html_and_con):
    html, con = html_and_con
    bad = _plant(html, '<p class="summary">', '<p class="summary">As Figure 12 shows, ')
    assert any("'Figure 12' is referred to" in p for p in check_html(bad, fresh(con)))


def test_planted_group_row_that_is_not_the_sum_of_its_members_is_caught(html_and_con):
    html, con = html_and_con
    bad = re.sub(
        r'<data value="[^"]*" (data-indicator="FIG-4" data-row="group: Out-of-court \(formal\)" '
        r'data-row-key="group:Out-of-court \(formal\)" data-who="force")',
        r'<data value="4.1" \1',
        html,
        count=1,
    )
    assert bad != html
    assert any("is not the sum of its members" in p for p in check_html(bad, fresh(con)))


def test_planted_missing_rounding_note_is_caught(html_and_con):
    html, con = html_and_con
    bad = _plant(html, '<p class="note">Figures may not sum due to rounding.</p>', "", count=10)
    assert any("may not sum due to rounding" in p for p in check_html(bad, fresh(con)))


def test_planted_second_value_for_one_fact_is_caught(html_and_con):
    html, con = html_and_con
    fact = re.search(r'<data value="([^"]+)" data-fact="case_files_reviewed">([^<]+)</data>', html)
    assert fact, "the annex cites the case files reviewed"
    bad = html.replace(
        "</main>",
        '<p>We reviewed <data value="60" data-fact="case_files_reviewed">60</data> files.</p>'
        "</main>",
    )
    assert any("'case_files_reviewed' is shown as 60, 90" in p for p in check_html(bad, fresh(con)))


def test_every_forces_report_passes_the_check(demo_run, tmp_path):
    result = runner.invoke(
        app, ["report", "--all", "--no-pdf", "-w", str(demo_run.warehouse), "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    folders = sorted(p for p in tmp_path.iterdir() if p.is_dir())
    assert len(folders) == 43
    con = open_read_only(demo_run.warehouse)
    try:
        for folder in folders:
            page = next(folder.glob("*.html"))
            assert check_html(page.read_text(encoding="utf-8"), fresh(con), folder.name) == []
    finally:
        con.close()


def test_the_national_overview_has_grades_distribution_and_ranked_tables(demo_run, tmp_path):
    result = runner.invoke(
        app, ["national", "--no-pdf", "-w", str(demo_run.warehouse), "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    html = (tmp_path / "peel-national-2016.html").read_text(encoding="utf-8")
    assert (
        "Grades by force and question" in html
        and html.count('<tr class="row-member"><th scope="row">') > 43
    )
    assert "Durham Constabulary</th><td>Outstanding</td>" in html
    assert "Bedfordshire Police</th><td>Inadequate</td>" in html
    assert (tmp_path / "figure-1.svg").is_file()  # the distribution of grades
    ranked = re.search(
        r"Crimes recorded \(excluding fraud\) \(per 1,000 population\).*?</table>", html, re.S
    )
    assert (
        ranked and ranked.group(0).count("<tr") == 1 + 1 + 43
    )  # header, England and Wales, forces
    assert "synthetic, not official statistics" in html


def test_planted_one_label_for_two_measures_is_caught(html_and_con):
    """The 2016 Met report called outcome 16 alone and outcomes 14 and 16 by one name."""
    html, con = html_and_con
    fin6 = (
        "Crime outcomes: evidential difficulties; suspect identified; victim does not support "
        "further action"
    )
    fig5 = "Evidential difficulties; victim does not support action"
    bad = _plant(html, f'<th scope="row">{fin6}</th>', f'<th scope="row">{fig5}</th>')
    assert any("one label, one measure" in p for p in check_html(bad, fresh(con)))


def test_no_id_is_used_twice_in_a_report(demo_run):
    """Duplicate ids break links, labels and assistive technology (and WeasyPrint warns)."""
    for page in demo_run.reports.glob("*/*.html"):
        ids = re.findall(r'\bid="([^"]+)"', page.read_text(encoding="utf-8"))
        assert sorted({i for i in ids if ids.count(i) > 1}) == [], page
