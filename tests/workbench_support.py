"""Shared by the workbench's tests: a workbench on a fresh database with one user of each
role, under a clock the test moves."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from peelkit.judgments import demo_judgments
from peelkit.workbench.database import open_database
from peelkit.workbench.roles import Actor
from peelkit.workbench.service import Workbench

MET = "E23000001"
KENT = "E23000032"
PASSWORD = "correct horse battery staple"
START = datetime(2027, 2, 1, 9, 0, tzinfo=UTC)


@dataclass
class Clock:
    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@dataclass
class Team:
    """A workbench with its users: an admin, two lead inspectors, an inspector of the Met,
    an inspector of Kent, an analyst, the Met's force liaison and Kent's."""

    wb: Workbench
    clock: Clock
    actors: dict[str, Actor] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Actor:
        try:
            return self.actors[name]
        except KeyError:
            raise AttributeError(name) from None


USERS = (
    ("admin", "admin", None, ()),
    ("lead", "lead inspector", None, ()),
    ("lead2", "lead inspector", None, ()),
    ("inspector", "inspector", None, (MET,)),
    ("kent_inspector", "inspector", None, (KENT,)),
    ("analyst", "analyst", None, ()),
    ("liaison", "force liaison", MET, ()),
    ("kent_liaison", "force liaison", KENT, ()),
)


def team(url: str, site: Path | None = None) -> Team:
    clock = Clock()
    wb = Workbench(open_database(url), clock=clock, site=site)
    t = Team(wb, clock)
    for name, role, force, assigned in USERS:
        wb.add_user(
            None,
            name,
            name.replace("_", " ").title(),
            role,
            PASSWORD,
            force=force,
            assigned=assigned,
        )
        t.actors[name] = wb.actor(name)
    return t


def met_draft(t: Team) -> int:
    """The demo's Met 2016 judgments imported by the Met's inspector; the lock."""
    return t.wb.import_judgments(t.inspector, demo_judgments()[MET]).lock


def to_approved(t: Team, force: str = MET) -> int:
    """Walk ``force``'s judgments (imported by its inspector) to 'approved'; the lock."""
    wb = t.wb
    by = t.inspector if force == MET else t.kent_inspector
    lock = wb.draft(by, force, 2016).status.lock
    lock = wb.step(by, force, 2016, "submit", lock=lock).lock
    lock = wb.step(t.lead, force, 2016, "moderate", lock=lock).lock
    lock = wb.step(t.lead, force, 2016, "open factual accuracy check", lock=lock).lock
    return wb.step(t.lead, force, 2016, "approve", lock=lock).lock
