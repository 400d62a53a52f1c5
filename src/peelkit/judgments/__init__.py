"""What the inspectors decide, as data: one TOML file per force and cycle (docs/judgments.md).

A judgments file holds the overall grade and the grade of each core question (with last
cycle's), the summary prose, areas for improvement, causes of concern with their
recommendations and actions, and the fieldwork figures the prose cites, stored once. Prose
never types a number or a force's name: it refers to them — ``{force}``, ``{cycle}``,
``{previous_cycle}``, ``{fact:NAME}``, ``{indicator:ID}`` (the force's value) and
``{indicator:ID:ew}`` (England and Wales), ``{year:YYYY}`` (a year that is not the cycle's,
written on purpose) — and the report fills them in from data.

The parts: ``model`` (the typed judgments and the grade vocabulary), ``questions`` (the
question set of a cycle, ``questions-<cycle>.toml``), ``checks`` (validation) and ``files``
(reading files and folders, and which judgments a report uses). Validation names the file,
the key and the fix for every problem, and refuses what would make a report contradict
itself: an unknown placeholder, a fact or indicator that does not exist, another force's name
in the prose, this force's name typed out, a graded question without a grade, a cause of
concern without a recommendation.
"""

from __future__ import annotations

from peelkit.judgments.checks import any_of, force_spellings, parse_judgments
from peelkit.judgments.files import (
    default_judgments,
    demo_folder,
    demo_judgments,
    load_folder,
    load_judgments,
)
from peelkit.judgments.model import (
    COUNTED,
    GRADED,
    NOT_RECORDED,
    CauseOfConcern,
    Fact,
    Grade,
    Judgments,
    Overall,
    QuestionJudgment,
    Recommendation,
)
from peelkit.judgments.questions import Question, QuestionSet, question_set, questions_previous

__all__ = [
    "COUNTED",
    "GRADED",
    "NOT_RECORDED",
    "CauseOfConcern",
    "Fact",
    "Grade",
    "Judgments",
    "Overall",
    "Question",
    "QuestionJudgment",
    "QuestionSet",
    "Recommendation",
    "any_of",
    "default_judgments",
    "demo_folder",
    "demo_judgments",
    "force_spellings",
    "load_folder",
    "load_judgments",
    "parse_judgments",
    "question_set",
    "questions_previous",
]
