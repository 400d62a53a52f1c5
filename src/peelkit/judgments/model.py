"""The inspectors' judgments on one force in one cycle, as typed data: grades per question
(with last cycle's), summaries, areas for improvement, causes of concern with their
recommendations and actions, and the fieldwork facts the prose cites."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from peelkit.declared import Declared

Grade = Literal[
    "outstanding", "good", "requires improvement", "inadequate", "ungraded", "not yet graded"
]
GRADED = ("outstanding", "good", "requires improvement", "inadequate")
#: What the reports show for a question whose force has no judgments loaded (never borrowed).
NOT_RECORDED = "not recorded"
#: The grades as the national overview counts them, best first.
COUNTED = (*GRADED, "ungraded", NOT_RECORDED)


class Fact(Declared):
    """A fieldwork figure the prose cites, stored once (e.g. case files reviewed)."""

    value: float | int
    wording: str = Field(min_length=2)
    note: str | None = None


class Recommendation(Declared):
    text: str = Field(min_length=10)
    actions: tuple[str, ...] = ()


class CauseOfConcern(Declared):
    text: str = Field(min_length=10)
    recommendations: tuple[Recommendation, ...] = ()


class QuestionJudgment(Declared):
    number: int = Field(ge=1)
    grade: Grade
    previous_grade: Grade | None = None
    summary: tuple[str, ...] = ()
    areas_for_improvement: tuple[str, ...] = ()
    causes_of_concern: tuple[CauseOfConcern, ...] = ()


class Overall(Declared):
    grade: Grade
    previous_grade: Grade | None = None
    summary: str | None = None
    overall_summary: tuple[str, ...] = ()


class Judgments(Declared):
    """The inspectors' judgments on one force in one cycle."""

    force: str
    cycle: int
    published: str | None = None
    source: str = Field(min_length=5)
    overall: Overall
    facts: dict[str, Fact] = Field(default_factory=dict)
    questions: tuple[QuestionJudgment, ...] = ()

    def question(self, number: int) -> QuestionJudgment | None:
        return next((q for q in self.questions if q.number == number), None)

    def prose(self) -> list[tuple[str, str]]:
        """Every prose field as (key, text), for checks and rendering."""
        out: list[tuple[str, str]] = []
        if self.overall.summary:
            out.append(("overall.summary", self.overall.summary))
        out += [
            (f"overall.overall_summary[{i}]", t) for i, t in enumerate(self.overall.overall_summary)
        ]
        for q in self.questions:
            key = f"questions[number={q.number}]"
            out += [(f"{key}.summary[{i}]", t) for i, t in enumerate(q.summary)]
            out += [
                (f"{key}.areas_for_improvement[{i}]", t)
                for i, t in enumerate(q.areas_for_improvement)
            ]
            for c, cause in enumerate(q.causes_of_concern):
                out.append((f"{key}.causes_of_concern[{c}].text", cause.text))
                for r, rec in enumerate(cause.recommendations):
                    rkey = f"{key}.causes_of_concern[{c}].recommendations[{r}]"
                    out.append((f"{rkey}.text", rec.text))
                    out += [(f"{rkey}.actions[{a}]", t) for a, t in enumerate(rec.actions)]
        return out
