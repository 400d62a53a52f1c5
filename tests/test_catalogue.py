"""The indicator catalogue covers every indicator of methodology.md §2.2 with the 2016
exclusions."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from peelkit.cli import app
from peelkit.errors import ReferenceDataError
from peelkit.indicators.catalogue import CATALOGUE_FILE, catalogue, parse_catalogue
from tests.conftest import REPO, shared_folder

DORSET, NOTTS, CITY = "E23000039", "E23000019", "E23000034"


def methodology_indicator_ids() -> set[str]:
    text = (REPO / "docs" / "methodology.md").read_text(encoding="utf-8")
    section = text[text.index("### 2.2 Index of indicators") : text.index("### 2.3")]
    ids: set[str] = set()
    for line in section.splitlines():
        cell = re.match(r"\| ((?:FIN|FIG|TXT)-[^|]+?) \|", line)
        if cell:
            ids.update(part.strip() for part in cell.group(1).split("/"))
    return ids


def seed_annex() -> str:
    text = (shared_folder() / "seed" / "peel-effectiveness-2016-metropolitan.txt").read_text(
        encoding="utf-8"
    )
    return " ".join(text[text.index("Annex A – About the data") :].split())


def test_every_indicator_of_the_methodology_is_defined():
    wanted = methodology_indicator_ids()
    assert len(wanted) >= 29
    defined = {i.id for i in catalogue().indicator}
    assert wanted - {"FIG-9"} <= defined  # FIG-9 is the same measure as FIN-11
    assert defined <= wanted  # and the methodology lists every indicator, Figure 1's series too


def test_every_indicator_has_definitions_a_source_and_annex_text():
    for indicator in catalogue().indicator:
        assert indicator.numerator.definition and indicator.numerator.source
        assert indicator.denominator.definition and indicator.denominator.source
        assert len(indicator.annex) >= 20, indicator.id


@pytest.mark.parametrize(
    ("indicator", "forces"),
    [
        ("FIN-5", {DORSET}),
        ("FIN-6", {DORSET}),
        ("FIN-7", {DORSET}),
        ("FIG-4", {DORSET}),
        ("FIG-5", {DORSET}),
        ("FIG-8", {DORSET, NOTTS}),
        ("FIN-11", {CITY}),
        ("FIG-6", {CITY, "E23000035", "E23000028", "E23000037", "E23000003"}),
        ("FIG-7", {"E23000018", "E23000008", "E23000037"}),
        ("FIG-10", {"E23000012"}),
    ],
)
def test_the_2016_exclusions_are_in_the_catalogue(indicator, forces):
    assert set(catalogue().get(indicator).excluded_forces) == forces


def test_partial_periods_and_combined_counts_are_recorded():
    outcomes = catalogue().get("FIG-4")
    assert {p.force for p in outcomes.partial_periods} == {"E23000018", "E23000025"}
    assert {p.force for p in catalogue().get("FIG-6").partial_periods} == {"E23000025"}
    [combined] = catalogue().get("FIN-11").combined
    assert set(combined.forces) == {"E23000017", "E23000016"}


def test_exclusion_wording_is_the_annex_wording_of_the_seed_report():
    annex = seed_annex()
    for indicator in catalogue().indicator:
        for note in (*indicator.exclusions, *indicator.combined):
            assert " ".join(note.annex.split()) in annex, (indicator.id, note.annex)


def test_victim_satisfaction_is_an_unweighted_mean_and_the_rest_pooled():
    methods = {i.id: i.england_and_wales for i in catalogue().indicator}
    assert methods.pop("FIN-12") == "unweighted mean of force rates"
    assert set(methods.values()) == {"pooled ratio"}


def test_tracked_and_untracked_outcomes_are_different_calculations():
    assert catalogue().get("FIG-4").calculation == "tracked outcome share"
    assert catalogue().get("FIG-8").calculation == "untracked outcome rate"
    assert catalogue().get("FIN-6").numerator.outcome_types == (16,)
    assert catalogue().get("FIG-5").numerator.outcome_types == (14, 16)


def test_a_broken_entry_is_refused_naming_the_file_indicator_and_key():
    broken = """
[defaults]
england_and_wales = "pooled ratio"
population_year = 2015
excluded_everywhere = ["BTP"]

[[indicator]]
id = "FIN-99"
title = "Something"
appears_in = ["text"]
numerator = { definition = "Things", source = "nowhere" }
denominator = { definition = "Population", source = "population" }
unit = "per 1,000 population"
multiplier = 1000
calculation = "rate"
period = "12 months to 30 June 2016"
polarity = "no preferred direction"
decimals = 1
exclusions = [{ force = "E23000099", reason = "x", annex = "too short" }]
annex = ""
"""
    with pytest.raises(ReferenceDataError) as caught:
        parse_catalogue(broken)
    message = str(caught.value)
    assert CATALOGUE_FILE in message
    assert "indicator FIN-99 → numerator.source" in message
    assert "indicator FIN-99 → annex" in message
    assert "E23000099" in message


def test_indicators_list_shows_the_catalogue():
    result = CliRunner().invoke(app, ["indicators", "list"])
    assert result.exit_code == 0, result.output
    cells = result.output.split()  # a table 100 columns wide wraps its cells over lines
    for text in ("FIN-1", "TXT-PS", "Calls for assistance", "per 1,000 population", "Dorset"):
        assert all(word in cells for word in text.split()), text


def test_one_label_one_measure():
    """The 2016 Met report used one label for outcome 16 alone and for outcomes 14 and 16
    (methodology.md §8.8): every indicator here has its own title."""
    book = catalogue()
    titles = [i.title.casefold() for i in book.indicator]
    assert len(titles) == len(set(titles))
    assert book.get("FIN-6").title != book.get("FIG-5").title
