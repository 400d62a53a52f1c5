"""Publication times typed in UK time, across both clock changes of 2027 (forward an hour at
01:00 GMT on Sunday 28 March, back an hour at 02:00 BST on Sunday 31 October): a time without
an offset is Europe/London's, a time the clocks skip or show twice is refused saying what to
type instead, and a release scheduled across a change switches at the right UTC instant."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from peelkit.errors import InvalidInput
from peelkit.judgments import demo_judgments
from peelkit.workbench.clock import london
from tests.workbench_support import KENT, MET, Team, met_draft, team, to_approved


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("typed", "instant"),
    [
        # spring: GMT (+00:00) until 01:00, BST (+01:00) from 02:00
        (datetime(2027, 3, 27, 12, 0), utc(2027, 3, 27, 12, 0)),
        (datetime(2027, 3, 28, 0, 0), utc(2027, 3, 28, 0, 0)),
        (datetime(2027, 3, 28, 0, 59, 59), utc(2027, 3, 28, 0, 59, 59)),
        (datetime(2027, 3, 28, 2, 0), utc(2027, 3, 28, 1, 0)),
        (datetime(2027, 3, 28, 2, 30), utc(2027, 3, 28, 1, 30)),
        (datetime(2027, 3, 29, 9, 0), utc(2027, 3, 29, 8, 0)),
        # autumn: BST until 02:00 BST, GMT from 01:00 GMT (01:00-01:59 shown twice)
        (datetime(2027, 10, 30, 12, 0), utc(2027, 10, 30, 11, 0)),
        (datetime(2027, 10, 31, 0, 59, 59), utc(2027, 10, 30, 23, 59, 59)),
        (datetime(2027, 10, 31, 2, 0), utc(2027, 10, 31, 2, 0)),
        (datetime(2027, 10, 31, 2, 30), utc(2027, 10, 31, 2, 30)),
        (datetime(2027, 11, 1, 9, 0), utc(2027, 11, 1, 9, 0)),
    ],
)
def test_a_time_without_an_offset_is_uk_time_on_both_sides_of_each_change(typed, instant):
    assert london(typed) == instant
    assert london(typed).utcoffset() == typed - instant.replace(tzinfo=None)


def test_a_time_with_an_offset_is_taken_as_it_is():
    gmt_in_the_gap = datetime.fromisoformat("2027-03-28T01:30+00:00")
    assert london(gmt_in_the_gap) == utc(2027, 3, 28, 1, 30)
    assert london(datetime.fromisoformat("2027-10-31T01:30+01:00")) == utc(2027, 10, 31, 0, 30)


def refused(typed: datetime) -> str:
    with pytest.raises(InvalidInput) as refusal:
        london(typed)
    [problem] = refusal.value.problems["at"]
    assert problem in str(refusal.value)
    return problem


def suggested(problem: str) -> list[datetime]:
    """The times, with their offsets, a refusal says to type instead (as --at takes them)."""
    import re

    found = re.findall(r"\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d)?[+-]\d\d:\d\d", problem)
    return [datetime.fromisoformat(s) for s in found]


@pytest.mark.parametrize("minute", [(1, 0), (1, 30), (1, 59)])
def test_a_time_the_clocks_skip_in_spring_is_refused_naming_both_readings(minute):
    typed = datetime(2027, 3, 28, *minute)
    problem = refused(typed)
    assert "does not exist in UK time" in problem and "clocks go forward" in problem
    before, after = suggested(problem)
    # the two instants the typist may have meant: the time read as GMT, and as BST
    assert london(before) == typed.replace(tzinfo=UTC) - timedelta(hours=1)
    assert london(after) == typed.replace(tzinfo=UTC)
    assert before.utcoffset() == timedelta(0) and after.utcoffset() == timedelta(hours=1)
    assert f"{before:%H:%M} GMT" in problem and f"{after:%H:%M} BST" in problem


@pytest.mark.parametrize("minute", [(1, 0), (1, 30), (1, 59)])
def test_a_time_the_clocks_show_twice_in_autumn_is_refused_naming_both(minute):
    typed = datetime(2027, 10, 31, *minute)
    problem = refused(typed)
    assert "happens twice in UK time" in problem and "clocks go back" in problem
    first, second = suggested(problem)
    assert first.replace(tzinfo=None) == second.replace(tzinfo=None) == typed
    assert london(first) == typed.replace(tzinfo=UTC) - timedelta(hours=1)  # BST
    assert london(second) == typed.replace(tzinfo=UTC)  # GMT
    assert "first (BST)" in problem and "second (GMT)" in problem


def test_the_command_line_refuses_an_ambiguous_time_before_anything_is_scheduled(tmp_path):
    from typer.testing import CliRunner

    from peelkit.cli import app

    path = tmp_path / "wb.sqlite"
    t = team(f"sqlite:///{path}")
    met_draft(t)
    to_approved(t)
    site, database = ["--site", str(tmp_path / "site")], ["--database", str(path)]
    result = CliRunner().invoke(
        app, ["judgments", "schedule", "--at", "2027-10-31T01:30", "--as", "lead", *site, *database]
    )
    assert isinstance(result.exception, InvalidInput)
    assert "2027-10-31T01:30+01:00" in str(result.exception)
    assert {s.force: s.state for s in t.wb.status(t.lead, 2016)} == {MET: "approved"}


# -- releases across a change, on the workbench alone (no site) -------------------------------


@pytest.fixture
def t(workbench_url: str) -> Iterator[Team]:
    """The Met's and Kent's judgments approved, on a fresh database."""
    t = team(workbench_url)
    try:
        met_draft(t)
        to_approved(t)
        t.wb.import_judgments(t.kent_inspector, demo_judgments()[KENT])
        to_approved(t, KENT)
        yield t
    finally:
        t.wb.db.dispose()  # before the database is dropped


def states(t: Team) -> dict[str, str]:
    return {s.force: s.state for s in t.wb.status(t.lead, 2016)}


def switches_at(t: Team, force: str, instant: datetime) -> None:
    """``force``'s release is the next switch, still scheduled a second before ``instant``
    and published at it."""
    t.clock.now = instant - timedelta(seconds=1)
    assert t.wb.switch()[1] == instant
    assert states(t)[force] == "scheduled"
    t.clock.now = instant
    assert states(t)[force] == "published"


@pytest.mark.parametrize(
    ("scheduled_at", "typed", "instant"),
    [
        # on Saturday in GMT, for Sunday 09:00 BST: 08:00 UTC (not 09:00)
        (utc(2027, 3, 27, 12, 0), datetime(2027, 3, 28, 9, 0), utc(2027, 3, 28, 8, 0)),
        # on Saturday in BST, for Sunday 09:00 GMT: 09:00 UTC (not 08:00)
        (utc(2027, 10, 30, 12, 0), datetime(2027, 10, 31, 9, 0), utc(2027, 10, 31, 9, 0)),
    ],
    ids=["spring", "autumn"],
)
def test_a_release_scheduled_across_a_change_switches_at_the_right_instant(
    t, scheduled_at, typed, instant
):
    t.clock.now = scheduled_at
    t.wb.schedule(t.lead, 2016, [MET], london(typed))
    t.clock.now = instant - timedelta(hours=1)  # the instant the other offset would give
    assert states(t)[MET] == "scheduled"
    switches_at(t, MET, instant)


def test_the_two_0130s_of_the_autumn_night_are_two_releases_an_hour_apart(t):
    t.clock.now = utc(2027, 10, 30, 12, 0)
    first = london(datetime.fromisoformat("2027-10-31T01:30+01:00"))
    second = london(datetime.fromisoformat("2027-10-31T01:30+00:00"))
    t.wb.schedule(t.lead, 2016, [MET], first)
    t.wb.schedule(t.lead, 2016, [KENT], second)
    switches_at(t, MET, utc(2027, 10, 31, 0, 30))
    assert states(t)[KENT] == "scheduled"
    switches_at(t, KENT, utc(2027, 10, 31, 1, 30))


def test_across_the_spring_gap_0030_gmt_and_0230_bst_are_an_hour_apart(t):
    t.clock.now = utc(2027, 3, 27, 12, 0)
    t.wb.schedule(t.lead, 2016, [MET], london(datetime(2027, 3, 28, 0, 30)))
    t.wb.schedule(t.lead, 2016, [KENT], london(datetime(2027, 3, 28, 2, 30)))
    switches_at(t, MET, utc(2027, 3, 28, 0, 30))
    assert states(t)[KENT] == "scheduled"
    switches_at(t, KENT, utc(2027, 3, 28, 1, 30))
