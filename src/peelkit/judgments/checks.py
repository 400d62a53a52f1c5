"""Validation of a judgments file's content: every problem names the key and the fix, and what
would make a report contradict itself is refused — an unknown placeholder, a fact or indicator
that does not exist, another force's name in the prose, this force's name or the cycle's year
typed out, a graded question without a grade, a cause of concern without a recommendation."""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

from peelkit import placeholders, reference
from peelkit.errors import InvalidJudgments, ReferenceDataError
from peelkit.judgments.model import GRADED, Grade, Judgments
from peelkit.judgments.questions import question_set, questions_previous


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
