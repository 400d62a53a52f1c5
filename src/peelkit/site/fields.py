"""The judgments form's fields as GOV.UK Design System HTML: a select (a grade), a textarea and
a text input, each in its form group with its label, hint and error messages.

The judgments page has some 270 of them. As Jinja macros they took about half of the page's
rendering (a macro call is costly); these functions write the same HTML. The template
calls them as it called the macros (``{{ area('q1.summary', 'Summary', hint, 8) }}``): they
read the form's ``fields`` (name → value) and ``problems`` (name → messages) from the page's
context. Every value and text is escaped."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape

from peelkit.workbench.form import field_id

__all__ = ["area", "grade", "line"]


def _problems(context: Context, name: str) -> list[str]:
    found: Mapping[str, list[str]] = context.get("problems") or {}
    return list(found.get(name, ()))


def _value(context: Context, name: str) -> str:
    values: Mapping[str, str] = context.get("fields") or {}
    return str(values.get(name, ""))


def _opening(id_: str, label: str, hint: str | None, problems: list[str]) -> str:
    """A field's form group opened, its label, its hint and its error messages."""
    error = " govuk-form-group--error" if problems else ""
    hinted = f'  <div id="{id_}-hint" class="govuk-hint">{escape(hint)}</div>\n' if hint else ""
    return (
        f'<div class="govuk-form-group{error}">\n'
        f'  <label class="govuk-label" for="{id_}">{escape(label)}</label>\n'
        f"{hinted}{_messages(id_, problems)}"
    )


def _messages(id_: str, problems: list[str]) -> str:
    """The GOV.UK error message of each problem (the error summary links to the field)."""
    return "".join(
        f'<p id="{id_}-error-{i}" class="govuk-error-message">'
        f'<span class="govuk-visually-hidden">Error:</span> {escape(p)}</p>\n'
        for i, p in enumerate(problems, start=1)
    )


def _described(id_: str, problems: list[str], hint: str | None) -> str:
    """aria-describedby: the field's hint, then its error messages."""
    ids = [f"{id_}-hint"] if hint else []
    ids += [f"{id_}-error-{i}" for i in range(1, len(problems) + 1)]
    return f' aria-describedby="{" ".join(ids)}"' if ids else ""


@pass_context
def grade(
    context: Context, name: str, label: str, choices: Iterable[str], allow_empty: bool = False
) -> Markup:
    """A grade: a select of ``choices`` (with 'none' first when ``allow_empty``)."""
    id_, problems, chosen = escape(field_id(name)), _problems(context, name), _value(context, name)
    error = " govuk-select--error" if problems else ""
    options = '<option value="">none (first inspection)</option>' if allow_empty else ""
    options += "".join(
        f'<option value="{escape(g)}"{" selected" if chosen == g else ""}>{escape(g)}</option>'
        for g in choices
    )
    return Markup(
        _opening(id_, label, None, problems)
        + f'  <select class="govuk-select{error}" id="{id_}" name="{escape(name)}"'
        + f"{_described(id_, problems, None)}>\n    {options}\n  </select>\n</div>\n"
    )


@pass_context
def area(context: Context, name: str, label: str, hint: str | None = None, rows: int = 5) -> Markup:
    """A textarea (paragraphs, one per block)."""
    id_, problems = escape(field_id(name)), _problems(context, name)
    error = " govuk-textarea--error" if problems else ""
    return Markup(
        _opening(id_, label, hint, problems)
        + f'  <textarea class="govuk-textarea{error}" id="{id_}" name="{escape(name)}" '
        + f'rows="{int(rows)}"{_described(id_, problems, hint)}>'
        + f"{escape(_value(context, name))}</textarea>\n</div>\n"
    )


@pass_context
def line(
    context: Context,
    name: str,
    label: str,
    hint: str | None = None,
    width: str = "govuk-!-width-full",
) -> Markup:
    """A one-line text input."""
    id_, problems = escape(field_id(name)), _problems(context, name)
    error = " govuk-input--error" if problems else ""
    return Markup(
        _opening(id_, label, hint, problems)
        + f'  <input class="govuk-input {escape(width)}{error}" id="{id_}" name="{escape(name)}"'
        + f' type="text" value="{escape(_value(context, name))}"'
        + f"{_described(id_, problems, hint)}>\n</div>\n"
    )
