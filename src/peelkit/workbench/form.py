"""The judgments form of the workbench's pages: a judgments document as named form fields,
the fields back as a document, and each problem of ``peelkit judgments check`` at the field
it belongs to (the GOV.UK error summary links to it).

Lists of paragraphs (summaries, areas for improvement, actions) are one text area each, one
paragraph per blank-line-separated block. Every question, cause of concern and fact has one
empty slot more than it uses, so a new one can be written without JavaScript."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from peelkit.judgments import question_set


def paragraphs(text: str) -> list[str]:
    """The paragraphs of a text area: blocks separated by blank lines, each on one line."""
    blocks = re.split(r"\n\s*\n", text.replace("\r\n", "\n").strip())
    return [" ".join(block.split()) for block in blocks if block.strip()]


def joined(items: Any) -> str:
    return "\n\n".join(items or ())


@dataclass
class Slot:
    """A cause of concern in the form: its text, and its recommendations (text, actions)."""

    text: str = ""
    recommendations: list[tuple[str, str]] = field(default_factory=list)


def fields(content: Mapping[str, Any]) -> dict[str, str]:
    """The form's field values for a judgments document. A question the document does not
    have shows as 'not yet graded' and stays out of the document until it is given a grade
    or a text (``q<N>.present`` marks those it has)."""
    out: dict[str, str] = {
        "force": str(content.get("force", "")),
        "cycle": str(content.get("cycle", "")),
        "source": str(content.get("source", "")),
        "published": str(content.get("published", "") or ""),
    }
    overall = content.get("overall", {})
    out["overall.grade"] = overall.get("grade", "not yet graded")
    out["overall.previous_grade"] = overall.get("previous_grade", "") or ""
    out["overall.summary"] = overall.get("summary", "") or ""
    out["overall.overall_summary"] = joined(overall.get("overall_summary"))
    cycle = content.get("cycle")
    if isinstance(cycle, int):
        for asked in question_set(cycle).question:
            out[f"q{asked.number}.grade"] = "not yet graded" if asked.graded else "ungraded"
    for q in content.get("questions", ()):
        n = q["number"]
        out[f"q{n}.present"] = "1"
        out[f"q{n}.grade"] = q.get("grade", "not yet graded")
        out[f"q{n}.previous_grade"] = q.get("previous_grade", "") or ""
        out[f"q{n}.summary"] = joined(q.get("summary"))
        out[f"q{n}.areas_for_improvement"] = joined(q.get("areas_for_improvement"))
        for c, cause in enumerate(q.get("causes_of_concern", ())):
            out[f"q{n}.coc{c}.text"] = cause["text"]
            for r, rec in enumerate(cause.get("recommendations", ())):
                out[f"q{n}.coc{c}.rec{r}.text"] = rec["text"]
                out[f"q{n}.coc{c}.rec{r}.actions"] = joined(rec.get("actions"))
    for i, (name, fact) in enumerate(sorted(content.get("facts", {}).items())):
        out[f"fact{i}.name"] = name
        out[f"fact{i}.value"] = str(fact["value"])
        out[f"fact{i}.wording"] = fact["wording"]
        out[f"fact{i}.note"] = fact.get("note", "") or ""
    return out


def slots(content: Mapping[str, Any], cycle: int) -> dict[str, Any]:
    """How many causes, recommendations and facts the form shows (one empty slot more)."""
    causes: dict[int, list[int]] = {}
    for q in question_set(cycle).question:
        found: Mapping[str, Any] = next(
            (x for x in content.get("questions", ()) if x["number"] == q.number), {}
        )
        causes[q.number] = [
            len(c.get("recommendations", ())) + 1 for c in found.get("causes_of_concern", ())
        ] + [1]
    return {"causes": causes, "facts": len(content.get("facts", {})) + 1}


def _number(text: str) -> float | int | str:
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text  # the check says it is not a number


def document(form: Mapping[str, str], cycle: int) -> dict[str, Any]:
    """The judgments document the form's fields describe (validated by the service)."""

    def get(name: str) -> str:
        return (form.get(name) or "").strip()

    doc: dict[str, Any] = {"force": get("force"), "cycle": cycle, "source": get("source")}
    if get("published"):
        doc["published"] = get("published")
    overall: dict[str, Any] = {"grade": get("overall.grade")}
    if get("overall.previous_grade"):
        overall["previous_grade"] = get("overall.previous_grade")
    if get("overall.summary"):
        overall["summary"] = " ".join(get("overall.summary").split())
    if paragraphs(get("overall.overall_summary")):
        overall["overall_summary"] = paragraphs(get("overall.overall_summary"))
    doc["overall"] = overall
    questions = []
    for q in question_set(cycle).question:
        n = q.number
        entry: dict[str, Any] = {"number": n, "grade": get(f"q{n}.grade")}
        if get(f"q{n}.previous_grade"):
            entry["previous_grade"] = get(f"q{n}.previous_grade")
        for key in ("summary", "areas_for_improvement"):
            if paragraphs(get(f"q{n}.{key}")):
                entry[key] = paragraphs(get(f"q{n}.{key}"))
        causes = []
        c = 0
        while f"q{n}.coc{c}.text" in form:
            recs = []
            r = 0
            while f"q{n}.coc{c}.rec{r}.text" in form:
                text = get(f"q{n}.coc{c}.rec{r}.text")
                actions = paragraphs(get(f"q{n}.coc{c}.rec{r}.actions"))
                if text or actions:
                    recs.append({"text": " ".join(text.split()), "actions": actions})
                r += 1
            text = get(f"q{n}.coc{c}.text")
            if text or recs:
                causes.append({"text": " ".join(text.split()), "recommendations": recs})
            c += 1
        if causes:
            entry["causes_of_concern"] = causes
        default = "not yet graded" if q.graded else "ungraded"
        if get(f"q{n}.present") or len(entry) > 2 or entry["grade"] != default:
            questions.append(entry)
    doc["questions"] = questions
    facts: dict[str, Any] = {}
    i = 0
    while f"fact{i}.name" in form:
        name = get(f"fact{i}.name")
        if name:
            fact: dict[str, Any] = {
                "value": _number(get(f"fact{i}.value")),
                "wording": get(f"fact{i}.wording"),
            }
            if get(f"fact{i}.note"):
                fact["note"] = get(f"fact{i}.note")
            facts[name] = fact
        i += 1
    if facts:
        doc["facts"] = facts
    return doc


_QUESTION = re.compile(r"^questions\[(?:number=)?(\d+)\]\.?(.*)$")


def field_of(key: str, doc: Mapping[str, Any]) -> str:
    """The form field a problem's key belongs to (``form`` when none does)."""
    if key in ("force", "cycle", "source", "published"):
        return key
    if key.startswith("overall."):
        name = key.split("[", 1)[0]
        return (
            name
            if name
            in (
                "overall.grade",
                "overall.previous_grade",
                "overall.summary",
                "overall.overall_summary",
            )
            else "overall.grade"
        )
    if key.startswith("facts."):
        name = key.split(".")[1]
        names = sorted(doc.get("facts", {}))
        return f"fact{names.index(name)}.value" if name in names else "form"
    m = _QUESTION.match(key)
    if m:
        index, rest = int(m.group(1)), m.group(2)
        if "number=" in key:
            n = index
        else:  # pydantic counts the list's items
            listed = doc.get("questions", [])
            n = listed[index]["number"] if index < len(listed) else index + 1
        cause = re.match(r"causes_of_concern\[(\d+)\](?:\.recommendations\[(\d+)\])?", rest)
        if cause:
            if cause.group(2) is not None:
                return f"q{n}.coc{cause.group(1)}.rec{cause.group(2)}.text"
            return f"q{n}.coc{cause.group(1)}.text"
        part = rest.split("[", 1)[0].split(".", 1)[0] or "grade"
        return f"q{n}.{part}"
    return "form"


def field_id(name: str) -> str:
    """An HTML id for a field name (``q3.coc0.text`` → ``q3-coc0-text``)."""
    return re.sub(r"[^A-Za-z0-9-]", "-", name)


def by_field(problems: Mapping[str, list[str]], doc: Mapping[str, Any]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, found in problems.items():
        out.setdefault(field_of(key, doc), []).extend(found)
    return out
