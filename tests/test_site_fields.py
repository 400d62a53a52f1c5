"""The judgments form's fields (peelkit.site.fields): whatever a value or a problem says, a
browser reads back exactly that text, in the field it belongs to, and the error messages are
tied to their field (GOV.UK's pattern)."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from jinja2 import Environment

from peelkit.site import fields

ENV = Environment(autoescape=True)
GRADES = ["outstanding", "good", "requires improvement", "inadequate"]


class Parsed(HTMLParser):
    """Every element's attributes, and the text of the textarea and the error messages."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, Any]]] = []
        self.texts: dict[str, str] = {}
        self._open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.elements.append((tag, attributes))
        key = attributes.get("id") or tag
        self._open.append(key if tag in ("textarea", "p", "label") else "")

    def handle_endtag(self, tag: str) -> None:
        if self._open:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        # the text belongs to the nearest open textarea, p or label (a span's is its p's)
        key = next((k for k in reversed(self._open) if k), None)
        if key is not None:
            self.texts[key] = self.texts.get(key, "") + data

    def find(self, tag: str) -> dict[str, Any]:
        [found] = [a for t, a in self.elements if t == tag]
        return found


def render(call: str, **context: Any) -> Parsed:
    html = ENV.from_string(call).render(
        grade=fields.grade, area=fields.area, line=fields.line, grades=GRADES, **context
    )
    parsed = Parsed()
    parsed.feed(html)
    parsed.close()
    return parsed


text = st.text(st.characters(blacklist_categories=["Cs", "Cc"]), max_size=60)


@given(value=text, problem=text)
def test_a_line_gives_back_its_value_and_its_problem_as_text(value, problem):
    parsed = render(
        "{{ line('fact3.value', 'Value', 'A hint') }}",
        fields={"fact3.value": value},
        problems={"fact3.value": [problem]},
    )
    field = parsed.find("input")
    assert field["value"] == value
    assert field["id"] == "fact3-value" and field["name"] == "fact3.value"
    assert field["aria-describedby"] == "fact3-value-hint fact3-value-error-1"
    assert "govuk-input--error" in field["class"]
    assert parsed.texts["fact3-value-error-1"] == "Error: " + problem


@given(value=text)
def test_a_textarea_gives_back_its_text(value):
    parsed = render("{{ area('q1.summary', 'Summary', None, 8) }}", fields={"q1.summary": value})
    field = parsed.find("textarea")
    assert parsed.texts.get("q1-summary", "") == value
    assert field["rows"] == "8"
    assert "aria-describedby" not in field  # no hint, no problem
    assert "govuk-textarea--error" not in field["class"]


@given(chosen=st.sampled_from(["", *GRADES, "<b>not a grade</b>"]))
def test_a_grade_selects_the_one_chosen_and_nothing_else(chosen):
    html = ENV.from_string("{{ grade('overall.grade', 'Grade', grades, True) }}").render(
        grade=fields.grade, grades=GRADES, fields={"overall.grade": chosen}, problems={}
    )
    parsed = Parsed()
    parsed.feed(html)
    options = [a for t, a in parsed.elements if t == "option"]
    assert [o["value"] for o in options] == ["", *GRADES]
    assert [o["value"] for o in options if "selected" in o] == (
        [chosen] if chosen in GRADES else []
    )
    assert "<b>" not in html
