"""The lead inspector's consistency check: every force's grades per question side by side,
with advisory warnings. A warning is a question to ask, never a grade computed or changed."""

from __future__ import annotations

from dataclasses import dataclass, field

from peelkit import reference
from peelkit.judgments import GRADED, question_set
from peelkit.workbench.roles import Actor
from peelkit.workbench.service import Workbench

#: best first: a lower rank is a better grade
RANK = {g: i for i, g in enumerate(GRADED)}


@dataclass(frozen=True)
class Row:
    force: str
    name: str
    state: str | None
    overall: str | None
    previous: str | None
    questions: dict[int, str | None]
    warnings: list[str] = field(default_factory=list)


def warnings(
    overall: str | None, previous: str | None, questions: dict[int, str | None]
) -> list[str]:
    """Advisory warnings on one force's grades (docs/workbench.md lists them)."""
    out: list[str] = []
    graded = [g for g in questions.values() if g in RANK]
    if overall in RANK and graded:
        if all(RANK[overall] < RANK[g] for g in graded):
            out.append("The overall grade is better than every question's grade.")
        if all(RANK[overall] > RANK[g] for g in graded):
            out.append("The overall grade is worse than every question's grade.")
    if overall in RANK and previous in RANK and abs(RANK[overall] - RANK[previous]) >= 2:
        out.append(f"The overall grade moved two or more steps since last time ({previous}).")
    if overall == "not yet graded" or any(g == "not yet graded" for g in questions.values()):
        out.append("Some grades are not given yet.")
    return out


def table(wb: Workbench, actor: Actor, cycle: int) -> list[Row]:
    """A row for each of the 43 forces (those without judgments yet say so)."""
    found = wb.contents(actor, cycle)
    numbers = [q.number for q in question_set(cycle).question]
    rows = []
    for force in reference.territorial_forces():
        if force.code not in found:
            rows.append(Row(force.code, force.name, None, None, None, dict.fromkeys(numbers)))
            continue
        status, content = found[force.code]
        grades = {q["number"]: q["grade"] for q in content.get("questions", ())}
        questions = {n: grades.get(n) for n in numbers}
        overall = content["overall"]["grade"]
        previous = content["overall"].get("previous_grade")
        rows.append(
            Row(
                force.code,
                force.name,
                status.state,
                overall,
                previous,
                questions,
                warnings(overall, previous, questions),
            )
        )
    return rows
