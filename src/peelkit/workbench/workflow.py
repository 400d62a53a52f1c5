"""The workflow of one force's judgments in one cycle, as data: its states, and the steps
that move between them (docs/workbench.md).

    draft → submitted → (returned ↔ resubmitted) → moderated → factual accuracy check
          → approved → scheduled → published

After publication a change is a correction: ``correct`` opens a new version (a draft again)
while the published one stays public, and it goes through the same steps to a release with
a public notice. Who may take each step is in ``roles``; this table says only from where to
where."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

State = Literal[
    "draft",
    "submitted",
    "returned",
    "resubmitted",
    "moderated",
    "factual accuracy check",
    "approved",
    "scheduled",
    "published",
]
STATES: tuple[State, ...] = State.__args__  # type: ignore[attr-defined]

#: The states in which the text can be edited (by the inspectors, see ``roles``).
EDITABLE: frozenset[State] = frozenset({"draft", "returned"})
#: Until approval, the text may change; from approval on it is locked.
LOCKED: frozenset[State] = frozenset({"approved", "scheduled", "published"})


@dataclass(frozen=True)
class Step:
    """A step of the workflow: its name (the action ``roles`` grants), the states it may be
    taken from and the state it leads to, and whether it needs a comment."""

    action: str
    sources: frozenset[State]
    target: State
    wording: str
    needs_comment: bool = False


STEPS: tuple[Step, ...] = (
    Step("submit", frozenset({"draft"}), "submitted", "Submit for moderation"),
    Step("resubmit", frozenset({"returned"}), "resubmitted", "Resubmit for moderation"),
    Step(
        "return",
        frozenset({"submitted", "resubmitted", "moderated", "factual accuracy check"}),
        "returned",
        "Return to the inspector with comments",
        needs_comment=True,
    ),
    Step("moderate", frozenset({"submitted", "resubmitted"}), "moderated", "Mark as moderated"),
    Step(
        "open factual accuracy check",
        frozenset({"moderated"}),
        "factual accuracy check",
        "Send to the force for the factual accuracy check",
    ),
    Step("approve", frozenset({"factual accuracy check"}), "approved", "Approve for publication"),
    Step("schedule", frozenset({"approved"}), "scheduled", "Schedule publication"),
    Step("unschedule", frozenset({"scheduled"}), "approved", "Cancel the scheduled publication"),
    Step("correct", frozenset({"published"}), "draft", "Open a correction", needs_comment=True),
)
STEP_BY_ACTION = {s.action: s for s in STEPS}


def step(action: str) -> Step:
    return STEP_BY_ACTION[action]


def steps_from(state: State) -> list[Step]:
    """The steps the workflow allows from ``state`` (before asking who may take them)."""
    return [s for s in STEPS if state in s.sources]
