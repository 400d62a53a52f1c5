"""Inspectors' judgments as data: the format, its validation, and the demo's judgments."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from peelkit.errors import InvalidJudgments
from peelkit.judgments import demo_judgments, load_judgments, parse_judgments, question_set

MET = "E23000001"

VALID: dict[str, Any] = {
    "force": "metropolitan",
    "cycle": 2016,
    "source": "a test",
    "overall": {"grade": "requires improvement", "summary": "{force} requires improvement."},
    "facts": {"case_files_reviewed": {"value": 90, "wording": "case files reviewed"}},
    "questions": [
        {
            "number": 1,
            "grade": "good",
            "summary": ["{force} is good; we reviewed {fact:case_files_reviewed}."],
            "areas_for_improvement": ["The force should improve."],
        },
        {
            "number": 3,
            "grade": "inadequate",
            "summary": [
                "It has {indicator:FIG-6} against {indicator:FIG-6:ew} since {previous_cycle}."
            ],
            "causes_of_concern": [
                {
                    "text": "The approach is a cause of concern.",
                    "recommendations": [{"text": "The force should act by:", "actions": ["one;"]}],
                }
            ],
        },
        {"number": 5, "grade": "ungraded"},
    ],
}


def changed(path: str, value: Any) -> dict[str, Any]:
    data = copy.deepcopy(VALID)
    target: Any = data
    keys = path.split(".")
    for key in keys[:-1]:
        target = target[int(key)] if key.isdigit() else target[key]
    last = keys[-1]
    if value is KeyError:
        del target[last]
    elif last.isdigit():
        target[int(last)] = value
    else:
        target[last] = value
    return data


def problems(data: dict[str, Any]) -> list[str]:
    with pytest.raises(InvalidJudgments) as caught:
        parse_judgments(data, "met.toml")
    assert "met.toml" in str(caught.value)
    return caught.value.problems


def test_a_valid_file_loads_with_the_force_code():
    j = parse_judgments(copy.deepcopy(VALID))
    assert j.force == MET and j.question(3) is not None and j.question(2) is None


@pytest.mark.parametrize(
    "path, value, expected",
    [
        ("overall.grade", "adequate", "overall.grade: a grade is one of"),
        ("questions.0.grade", "Good", "questions[0].grade"),
        ("overall.colour", "red", "overall.colour: Extra inputs are not permitted; remove"),
        ("source", KeyError, "source: Field required; add this key"),
        ("force", "British Transport Police", "not one of the 43 territorial forces"),
        ("force", "Metropolitn Police", "closest: Metropolitan Police"),
        ("cycle", 2012, "no question set for the 2012 cycle"),
        ("questions.2.grade", "good", "question 5 is not graded in 2016; write 'ungraded'"),
        ("questions.0.grade", "ungraded", "question 1 is graded in 2016"),
        ("questions.0.number", 9, "has no question 9"),
        ("questions.0.number", 3, "question 3 appears more than once"),
        ("questions.1.causes_of_concern.0.recommendations", [], "at least one recommendation"),
        ("questions.0.summary", ["We reviewed {fact:files}."], "{fact:files} names no fact"),
        ("questions.0.summary", ["{indicator:FIG-99}"], "FIG-99 is not in the indicator catalogue"),
        ("questions.0.summary", ["{indicator:FIG-6:met}"], "write {indicator:FIG-6:ew}"),
        ("questions.0.summary", ["{forse} is good."], "unknown placeholder {forse}"),
        (
            "questions.0.summary",
            ["Crime decreased by 6.3 percent in Bedfordshire."],
            "names another force ('Bedfordshire')",
        ),
        ("overall.summary", "The Metropolitan Police Service is good.", "write {force}"),
        (
            "questions.1.summary",
            ["Considered as part of HMIC's 2015 effectiveness assessment."],
            "types the year 2015; write {previous_cycle}",
        ),
        ("questions.1.summary", ["Inspected in 2016."], "types the year 2016; write {cycle}"),
    ],
)
def test_each_problem_names_the_key_and_the_fix(path, value, expected):
    found = problems(changed(path, value))
    assert any(expected in p for p in found), found


def test_all_problems_are_listed_at_once():
    data = changed("overall.summary", "In 2016 the Metropolitan Police Service did well.")
    data["questions"][0]["summary"] = ["{fact:nothing}"]
    assert len(problems(data)) == 3


def test_a_broken_file_names_the_file_and_the_line(tmp_path: Path):
    bad = tmp_path / "bad.toml"
    bad.write_text('force = "metropolitan"\ncycle = \n', encoding="utf-8")
    with pytest.raises(InvalidJudgments, match=r"bad.toml is not valid UTF-8 TOML.*line 2"):
        load_judgments(bad)


def test_the_2016_question_set_is_the_reports():
    questions = question_set(2016)
    assert (
        questions.headline
        == "How effective is the force at keeping people safe and reducing crime?"
    )
    assert [q.graded for q in questions.question] == [True, True, True, True, False]
    assert (
        questions.get(4).text
        == "How effective is the force at tackling serious and organised crime?"
    )


def test_the_demo_ships_all_43_overall_grades_and_the_met_in_full():
    found = demo_judgments(2016)
    assert len(found) == 43
    grades = [j.overall.grade for j in found.values()]
    assert (grades.count("outstanding"), grades.count("good")) == (1, 28)
    assert (grades.count("requires improvement"), grades.count("inadequate")) == (13, 1)
    met = found[MET]
    assert met.overall.grade == met.overall.previous_grade == "requires improvement"
    assert [met.question(n).grade for n in range(1, 6)] == [  # type: ignore[union-attr]
        "good",
        "requires improvement",
        "inadequate",
        "requires improvement",
        "ungraded",
    ]
    assert [len(met.question(n).areas_for_improvement) for n in range(1, 6)] == [3, 3, 0, 5, 0]  # type: ignore[union-attr]
    [cause] = met.question(3).causes_of_concern  # type: ignore[union-attr]
    [recommendation] = cause.recommendations
    assert len(recommendation.actions) == 8
    assert met.question(4).previous_grade == "good"  # type: ignore[union-attr]


def _normal(text: str) -> str:
    return " ".join(text.replace("’", "'").split()).casefold()


def test_the_met_findings_are_the_published_reports_words(seed_report):
    seed = _normal(seed_report.read_text("utf-8"))
    met = demo_judgments(2016)[MET]
    texts = [t for q in met.questions for t in q.areas_for_improvement]
    for q in met.questions:
        for cause in q.causes_of_concern:
            texts.append(cause.text)
            for r in cause.recommendations:
                texts += [r.text, *r.actions]
    assert len(texts) == 11 + 1 + 1 + 8
    for text in texts:
        words = _normal(text.replace("{force}", "Metropolitan Police Service"))
        assert words in seed, text
