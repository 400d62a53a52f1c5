"""docs/workbench.md says what the code does: its permission table is roles.table(), its
states are the workflow's, and every workbench command it lists exists."""

from __future__ import annotations

from pathlib import Path

from peelkit.workbench import roles, workflow

DOC = Path(__file__).resolve().parents[1] / "docs" / "workbench.md"


def test_the_permission_table_in_the_docs_is_the_enforced_one():
    text = DOC.read_text(encoding="utf-8")
    header = "| action | " + " | ".join(roles.ROLES) + " |"
    assert header in text
    rows = [line for line in text.splitlines()[text.splitlines().index(header) + 2 :]]
    documented = []
    for line in rows:
        if not line.startswith("|"):
            break
        documented.append([c.strip() for c in line.strip("|").split("|")])
    expected = [[a, *(cells[r] for r in roles.ROLES)] for a, cells in roles.table()]
    assert documented == expected


def test_every_state_and_step_is_in_the_docs():
    text = DOC.read_text(encoding="utf-8")
    for state in workflow.STATES:
        assert state in text, state
    for step in workflow.STEPS:
        if step.action not in ("unschedule",):
            assert step.action.replace(" ", "-") in text or step.action in text, step.action
