"""What the inspectors decide, as data: one TOML file per force and cycle (docs/judgments.md).

A judgments file holds the overall grade and the grade of each core question (with last
cycle's), the summary prose, areas for improvement, causes of concern with their
recommendations and actions, and the fieldwork figures the prose cites, stored once. Prose
never types a number or a force's name: it refers to them — ``{force}``, ``{cycle}``,
``{previous_cycle}``, ``{fact:NAME}``, ``{indicator:ID}`` (the force's value) and
``{indicator:ID:ew}`` (England and Wales), ``{year:YYYY}`` (a year that is not the cycle's,
written on purpose) — and the report fills them in from data.

The question set belongs to the cycle (``questions-<cycle>.toml``). Validation names the file,
the key and the fix for every problem, and refuses what would make a report contradict
itself: an unknown placeholder, a fact or indicator that does not exist, another force's name
in the prose, this force's name typed out, a graded question without a grade, a cause of
concern without a recommendation.
"""

from __future__ import annotations

import csv
import re
import tomllib
from collections.abc import Iterable
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError

from peelkit import placeholders, reference
from peelkit.declared import Declared
from peelkit.errors import InvalidJudgments, ReferenceDataError

Grade = Literal[
    "outstanding", "good", "requires improvement", "inadequate", "ungraded", "not yet graded"
]
GRADED = ("outstanding", "good", "requires improvement", "inadequate")
#: What the reports show for a question whose force has no judgments loaded (never borrowed).
NOT_RECORDED = "not recorded"
#: The grades as the national overview counts them, best first.
COUNTED = (*GRADED, "ungraded", NOT_RECORDED)


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


def load_judgments(path: Path) -> Judgments:
    """Read and validate one judgments file; every problem names the key and the fix."""
    name = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InvalidJudgments(f"{name} does not exist", path=name, problems=[]) from exc
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InvalidJudgments(
            f"{name} is not valid UTF-8 TOML: {exc}. Fix the syntax at that line.",
            path=name,
            problems=[str(exc)],
        ) from exc
    return parse_judgments(data, name)


def parse_judgments(data: dict[str, Any], name: str = "<judgments>") -> Judgments:
    try:
        judgments = Judgments.model_validate(data)
    except ValidationError as exc:
        problems = [_pydantic_problem(dict(e)) for e in exc.errors()]
        raise _invalid(name, problems) from exc
    problems = _problems(judgments)
    if problems:
        raise _invalid(name, problems)
    code = reference.force_code_of(judgments.force)
    assert code is not None  # checked in _problems
    return judgments.model_copy(update={"force": code})


def _invalid(name: str, problems: list[str]) -> InvalidJudgments:
    listed = "\n".join(f"  - {p}" for p in problems)
    return InvalidJudgments(
        f"{name} has {len(problems)} problem(s):\n{listed}", path=name, problems=problems
    )


_FIXES = {
    "literal_error": "use one of the allowed values",
    "missing": "add this key",
    "extra_forbidden": "remove this key or check its spelling (see docs/judgments.md)",
    "string_too_short": "write the text out",
}


def _pydantic_problem(error: dict[str, Any]) -> str:
    key = ".".join(
        f"[{p}]" if isinstance(p, int) else str(p) for p in error.get("loc", ())
    ).replace(".[", "[")
    fix = _FIXES.get(str(error.get("type")), "")
    message = str(error.get("msg"))
    if error.get("type") == "literal_error" and "grade" in key:
        message = "a grade is one of: " + ", ".join(f"'{g}'" for g in Grade.__args__)  # type: ignore[attr-defined]
        message += f" (found {error.get('input')!r})"
    return f"{key}: {message}" + (f"; {fix}" if fix else "")


def _problems(j: Judgments) -> list[str]:
    problems: list[str] = []
    code = reference.force_code_of(j.force)
    if code is None or not reference.force_by_code()[code].territorial:
        closest = ", ".join(reference.closest_force_names(j.force))
        return [f"force: {j.force!r} is not one of the 43 territorial forces; closest: {closest}"]
    try:
        questions = question_set(j.cycle)
    except ReferenceDataError as exc:
        return [f"cycle: {exc}; use a cycle peelkit knows (2016)"]
    numbers = [q.number for q in j.questions]
    for n in sorted({n for n in numbers if numbers.count(n) > 1}):
        problems.append(f"questions: question {n} appears more than once; keep one")
    for q in j.questions:
        key = f"questions[number={q.number}]"
        try:
            asked = questions.get(q.number)
        except KeyError:
            problems.append(
                f"{key}: the {j.cycle} question set has no question {q.number}; "
                f"use 1 to {len(questions.question)}"
            )
            continue
        if asked.graded and q.grade == "ungraded":
            problems.append(
                f"{key}.grade: question {q.number} is graded in {j.cycle}; give its grade, "
                "or 'not yet graded' before publication"
            )
        if not asked.graded and q.grade in GRADED:
            problems.append(
                f"{key}.grade: question {q.number} is not graded in {j.cycle}; write 'ungraded'"
            )
        for c, cause in enumerate(q.causes_of_concern):
            if not cause.recommendations:
                problems.append(
                    f"{key}.causes_of_concern[{c}]: a cause of concern comes with at least one "
                    "recommendation; add [[questions.causes_of_concern.recommendations]]"
                )
    problems += _prose_problems(j, code)
    return problems


def _prose_problems(j: Judgments, code: str) -> list[str]:
    from peelkit.indicators.catalogue import catalogue

    indicators = {i.id for i in catalogue().indicator}
    problems: list[str] = []
    own = force_spellings(code)
    others = [
        n
        for other in reference.territorial_forces()
        if other.code != code
        for n in force_spellings(other.code)
    ]
    other_pattern = any_of(others)
    own_pattern = any_of(own)
    for key, text in j.prose():
        for parts in placeholders.found(text):
            found = ":".join(parts)
            if found in ("force", "cycle", "previous_cycle"):
                continue
            if parts[0] == "fact" and len(parts) == 2:
                if parts[1] not in j.facts:
                    problems.append(
                        f"{key}: {{{found}}} names no fact; add [facts.{parts[1]}] with its value"
                    )
                continue
            if parts[0] == "year" and len(parts) == 2 and re.fullmatch(r"(19|20)\d\d", parts[1]):
                continue  # a year that is not the cycle's, written on purpose
            if parts[0] == "indicator" and len(parts) in (2, 3):
                if parts[1] not in indicators:
                    problems.append(
                        f"{key}: {{{found}}}: {parts[1]} is not in the indicator catalogue "
                        "(peelkit indicators list)"
                    )
                elif len(parts) == 3 and parts[2] != "ew":
                    problems.append(f"{key}: {{{found}}}: write {{indicator:{parts[1]}:ew}}")
                continue
            problems.append(
                f"{key}: unknown placeholder {{{found}}}; use {{force}}, {{cycle}}, "
                "{previous_cycle}, {fact:NAME}, {indicator:ID}[:ew] or {year:YYYY}"
            )
        if other_pattern and (m := other_pattern.search(text)):
            problems.append(
                f"{key}: names another force ({m.group(0)!r}); other forces belong only in "
                "comparison tables and charts, which the report makes from data"
            )
        if own_pattern and (m := own_pattern.search(text)):
            problems.append(f"{key}: types the force's name ({m.group(0)!r}); write {{force}}")
        for year, placeholder in (
            (j.cycle, "{cycle}"),
            (questions_previous(j.cycle), "{previous_cycle}"),
        ):
            if year is not None and re.search(rf"(?<![\d/:]){year}(?![\d/])", text):
                problems.append(
                    f"{key}: types the year {year}; write {placeholder} so it always matches "
                    f"the cycle, or {{year:{year}}} if it names something else"
                )
    return problems


def questions_previous(cycle: int) -> int | None:
    return question_set(cycle).previous_cycle


def force_spellings(code: str) -> list[str]:
    """Every way the sources and prose spell a force's name (for finding it in text)."""
    force = reference.force_by_code()[code]
    names = {force.name, *(a for a, c in reference.force_aliases().items() if c == code)}
    if force.ons_name:
        names.add(force.ons_name)
    return sorted(names, key=len, reverse=True)


def any_of(names: list[str]) -> re.Pattern[str] | None:
    """A pattern matching any of ``names`` as whole words; None for no names."""
    if not names:
        return None
    return re.compile(r"(?<![\w-])(" + "|".join(re.escape(n) for n in names) + r")(?![\w-])")


def demo_folder(cycle: int = 2016) -> Path:
    """Where the demo's judgments of ``cycle`` are (``peelkit/demo/judgments/<cycle>/``)."""
    return Path(str(resources.files("peelkit.demo").joinpath("judgments", str(cycle))))


def load_folder(folder: Path, cycle: int) -> dict[str, Judgments]:
    """Every force's judgments in ``folder``: a ``<force>.toml`` file each, and, for forces
    without one, the overall grade from ``overall-grades.csv`` (force,name,overall_grade)."""
    found: dict[str, Judgments] = {}
    for path in sorted(folder.glob("*.toml")):
        j = load_judgments(path)
        if j.cycle != cycle:
            continue
        if j.force in found:
            raise InvalidJudgments(
                f"{path}: a second judgments file for {j.force} in {cycle}; keep one",
                path=str(path),
                problems=[],
            )
        found[j.force] = j
    grades = folder / "overall-grades.csv"
    if grades.is_file():
        with grades.open(encoding="utf-8", newline="") as fh:
            for line, row in enumerate(csv.DictReader(fh), start=2):
                code = reference.force_code_of(row.get("force") or "")
                if code is None:
                    raise InvalidJudgments(
                        f"{grades} line {line}: force {row.get('force')!r} is not a known force",
                        path=str(grades),
                        problems=[],
                    )
                if code in found:
                    if found[code].overall.grade != row.get("overall_grade"):
                        raise InvalidJudgments(
                            f"{grades} line {line}: overall grade {row.get('overall_grade')!r} "
                            f"disagrees with {code}'s judgments file "
                            f"({found[code].overall.grade!r}); make them agree",
                            path=str(grades),
                            problems=[],
                        )
                    continue
                found[code] = parse_judgments(
                    {
                        "force": code,
                        "cycle": cycle,
                        "source": f"{grades.name}: published overall grade only",
                        "overall": {"grade": row.get("overall_grade")},
                    },
                    f"{grades} line {line}",
                )
    return found


@cache
def demo_judgments(cycle: int = 2016) -> dict[str, Judgments]:
    """The judgments shipped with the demo: the Metropolitan Police's in full, and the
    published overall grade of every other force."""
    return load_folder(demo_folder(cycle), cycle)


def default_judgments(cycle: int, labels: Iterable[str]) -> dict[str, Judgments]:
    """The judgments a report uses when no folder is given: the demo's, but only on a warehouse
    holding the demo dataset (its loads carry ``peelkit.demo.sample.LABEL``, see
    ``warehouse.data_labels``); none on any other warehouse, whose reports then say that no
    judgments were loaded. A report never borrows the demo's grades."""
    from peelkit.demo.sample import LABEL

    return demo_judgments(cycle) if LABEL in labels else {}


__all__ = [
    "COUNTED",
    "GRADED",
    "NOT_RECORDED",
    "Grade",
    "Judgments",
    "QuestionSet",
    "default_judgments",
    "demo_judgments",
    "load_folder",
    "load_judgments",
    "parse_judgments",
    "question_set",
]
