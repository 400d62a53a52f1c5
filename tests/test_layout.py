"""The report's layout as data: a cycle's report and a data profile are layout files."""

from __future__ import annotations

import re
from datetime import date

import pytest

from peelkit.errors import ReferenceDataError
from peelkit.indicators.engine import compute
from peelkit.indicators.periods import for_date
from peelkit.report.build import build_profile
from peelkit.report.document import Figure, Paragraph
from peelkit.report.layout import layout, layout_for, parse_layout
from peelkit.report.render import write_report
from tests.conftest import real_prc_with_populations

KENT = "E23000032"

MINIMAL = """
title = "PEEL {cycle}"
subtitle = "{force}"
file = "report-{cycle}"
texts = "texts-2016.toml"
[sentences]
value = "In the {period}, {what} was {value}, against {ew}."
value_without_ew = "In the {period}, {what} was {value}."
[[section]]
kind = "data"
id = "crime"
heading = "Crime in {force}"
blocks = [ { sentence = "value", indicator = "FIN-2", what = "crime" } ]
"""


def test_the_packaged_layouts_are_valid_and_named_by_period():
    inspection, profile = layout("peel-2016"), layout("data-profile")
    assert inspection.judged and not profile.judged
    assert layout_for(2016) == inspection and layout_for(None) == profile
    kinds = {b.figure for s in inspection.section for b in s.blocks if b.figure}
    assert kinds == {"series", "ranked bars", "pair table", "breakdown table"}


@pytest.mark.parametrize(
    ("old", "new", "complaint"),
    [
        ("", "", None),
        ("{period}, {what} was {value}.", "{periode}, {what}", "unknown placeholder(s) {periode}"),
        ('title = "PEEL {cycle}"', 'title = "PEEL {year}"', "unknown placeholder(s) {year}"),
        ('{ sentence = "value"', '{ sentence = "valeur"', "sentence 'valeur' is not in"),
        ('value_without_ew = "In the {period}, {what} was {value}."', "", "value_without_ew"),
        ('kind = "data"', 'kind = "datas"', "kind"),
        ('{ sentence = "value", indicator = "FIN-2", ', "{ ", "one of: figure"),
    ],
)
def test_a_layout_is_checked_when_read(old, new, complaint):
    text = MINIMAL.replace(old, new) if old else MINIMAL
    if complaint is None:
        assert parse_layout(text, "test.toml").sentences["value_without_ew"]
        return
    with pytest.raises(ReferenceDataError, match=re.escape(complaint)) as raised:
        parse_layout(text, "test.toml")
    assert "test.toml" in str(raised.value)


@pytest.fixture(scope="module")
def real_profile(real_data, tmp_path_factory):
    folder = tmp_path_factory.mktemp("profile")
    con = real_prc_with_populations(real_data, folder, {KENT: (2017, 1_830_000)})
    when = for_date(date(2018, 3, 31))
    records = compute(con, period_end=when.end)
    return con, records, when, folder


def test_a_period_without_judgments_gives_a_data_profile_titled_so(real_profile):
    _, records, when, folder = real_profile
    report = build_profile(records, KENT, when)
    assert report.title == "Data profile: Kent Police"
    assert "Not an inspection" in report.subtitle and "31 March 2018" in report.subtitle
    assert report.cycle is None and report.period_end == "2018-03-31"
    titles = [s.title for s in report.walk()]
    assert not any("Summary of findings" in t or "Overview" in t for t in titles)
    assert not any("grade" in t.lower() for t in titles)
    # the crime rate is the record's, in the pair table and the prose alike
    [kent] = [r for r in records if r.indicator_id == "FIN-2" and r.force_code == KENT]
    shown = [
        n
        for n in report.numbers()
        if n.indicator == "FIN-2" and n.who == "force" and n.force == KENT
    ]
    assert shown and {n.value for n in shown} == {kent.value}
    files = write_report(report, folder / "kent", pdf=False)
    assert files.html.name == "data-profile-2018-03-31.html"
    page = files.html.read_text(encoding="utf-8")
    assert 'data-period-end="2018-03-31"' in page and "Data profile: Kent Police" in page


def test_a_sentence_without_its_value_says_why_instead(real_profile):
    _, records, when, _ = real_profile
    report = build_profile(records, KENT, when)
    crime = next(s for s in report.walk() if s.id == "crime")
    sentences = [
        "".join(p if isinstance(p, str) else getattr(p, "text", "") for p in b.parts)
        for b in crime.blocks
        if isinstance(b, Paragraph)
    ]
    five_years, victim_based, one_year = [
        s for s in sentences if s.startswith(("Police-recorded crime (", "Victim-based crime"))
    ]
    assert five_years.startswith("Police-recorded crime (excluding fraud): not available for Kent")
    assert "lacks 2012/13 Q1–Q4 of the 12 months to 31 March 2013" in five_years
    assert victim_based.startswith("Victim-based crime: not available for Kent Police")
    assert "lacks 2016/17 Q1–Q4" in one_year
    assert not any("—" in s for s in sentences)
    assert any(isinstance(b, Figure) for b in crime.blocks)


def test_a_texts_file_with_an_unknown_placeholder_is_refused_naming_file_and_key():
    from importlib import resources

    from peelkit.report.build import parse_texts, texts

    shipped = resources.files("peelkit.report").joinpath("texts-2016.toml").read_text("utf-8")
    assert texts("texts-2016.toml") == parse_texts(shipped, "texts-2016.toml")
    sentence = "This report sets out our findings for {force}."
    assert sentence in shipped
    broken = shipped.replace(sentence, sentence.replace("{force}", "{forse}"))
    with pytest.raises(
        ValueError, match=r"^texts-2016\.toml: .*unknown placeholder\(s\) \{forse\}"
    ):
        parse_texts(broken, "texts-2016.toml")


def test_every_key_of_the_glossary_is_used_by_the_report():
    import re
    from pathlib import Path

    import peelkit.report
    from peelkit.report.build import glossary

    source = "\n".join(
        p.read_text(encoding="utf-8") for p in Path(peelkit.report.__file__).parent.glob("*.py")
    )
    unused = [
        f"{section}.{key}"
        for section, entries in glossary().items()
        if isinstance(entries, dict) and section not in ("grade", "comparison")
        for key in entries
        if not re.search(rf"[\"']{re.escape(key)}[\"']", source)
        and section not in ("figure_2_rows", "figure_4_rows", "figure_8_rows")
    ]
    assert unused == []
