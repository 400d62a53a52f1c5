"""The question set of a cycle (``questions-<cycle>.toml``): each core question worded as
that cycle's reports print it, and whether it is graded."""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources

from pydantic import Field

from peelkit.declared import Declared
from peelkit.errors import ReferenceDataError


class Question(Declared):
    number: int = Field(ge=1)
    text: str
    short: str
    graded: bool
    sub_questions: tuple[str, ...] = ()


class QuestionSet(Declared):
    """The questions of one cycle, worded as that cycle's reports print them."""

    cycle: int
    pillar: str
    headline: str
    previous_cycle: int | None = None
    question: tuple[Question, ...]

    def get(self, number: int) -> Question:
        for q in self.question:
            if q.number == number:
                return q
        raise KeyError(number)


@cache
def question_set(cycle: int) -> QuestionSet:
    """The question set of ``cycle`` (``questions-<cycle>.toml`` in this package)."""
    name = f"questions-{cycle}.toml"
    path = resources.files("peelkit.judgments").joinpath(name)
    if not path.is_file():
        raise ReferenceDataError(f"peelkit has no question set for the {cycle} cycle ({name})")
    return QuestionSet.model_validate(tomllib.loads(path.read_text("utf-8")))


def questions_previous(cycle: int) -> int | None:
    return question_set(cycle).previous_cycle
