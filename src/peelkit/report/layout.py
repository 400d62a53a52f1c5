"""A report's layout as data: which sections, which figure or sentence goes where.

Each kind of report — an inspection cycle's force report, or a data profile for any period end —
is one file under ``report/layouts/``: its title, the fixed texts it uses, the sentence patterns
its generated prose fills from benchmark records, and its sections in order. A new cycle or a
new kind of profile is a layout file, not new code; :mod:`peelkit.report.build` knows the kinds
of figure and section and reads the layout.

Every placeholder of a title or sentence pattern is checked when the layout is read: an unknown
one is an error naming the file and the key, never a gap in a printed sentence.
"""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from typing import Literal

from pydantic import Field, ValidationError, model_validator

from peelkit import placeholders
from peelkit.declared import Declared
from peelkit.errors import ReferenceDataError

#: What a sentence pattern may say, each filled from the sentence's record (docs/report.md).
SENTENCE_PLACEHOLDERS = frozenset(
    {
        "period",  # the record's period, "12 months to 30 June 2016"
        "Period",  # the same, capitalised to open a sentence ("As at 1 July 2016")
        "earlier",  # a change: the earlier period
        "later",  # a change: the later period
        "force",  # the force as prose names it ("the Metropolitan Police Service")
        "Force",
        "value",  # the force's value, from the record
        "ew",  # England and Wales, from the same record
        "comparison",  # the verdict (or HMIC's rank verdict) in the glossary's words
        "went",  # a change: "increased" or "decreased" (the value is shown without its sign)
        "ew_went",  # "an increase" or "a decrease"
        "unit",  # the block's unit words (" percent")
        "what",  # the block's description of the measure
        "What",
    }
)
TITLE_PLACEHOLDERS = frozenset(
    {"pillar", "cycle", "force", "force_name", "period_end", "period_end_iso"}
)

FigureKind = Literal["series", "ranked bars", "pair table", "breakdown table"]
BreakdownStyle = Literal["outcome groups", "listed rows", "shares by type"]
SectionKind = Literal[
    "introduction", "force in numbers", "overview", "question", "data", "next steps", "annex"
]


class Block(Declared):
    """One figure, generated sentence or glossary note of a section."""

    figure: FigureKind | None = None
    sentence: str | None = None
    note: str | None = None
    indicator: str | None = None
    indicators: tuple[str, ...] = ()
    row: str | None = None
    style: BreakdownStyle | None = None
    title: str | None = None
    notes: tuple[str, ...] = ()
    what: str = ""
    unit: str = ""
    ranked: bool = False  # compare by HMIC's rank verdict, not the interval verdict
    when_drawn: tuple[str, ...] = ()  # a note shown only when these indicators are drawn

    @model_validator(mode="after")
    def _one_kind(self) -> Block:
        kinds = [k for k in (self.figure, self.sentence, self.note) if k is not None]
        if len(kinds) != 1:
            raise ValueError("a block is one of: figure = …, sentence = …, note = …")
        if self.figure == "pair table" and not self.indicators:
            raise ValueError("a pair table names its indicators = […]")
        if self.figure == "breakdown table" and self.style is None:
            raise ValueError("a breakdown table names its style")
        if (self.sentence or (self.figure and self.figure != "pair table")) and not self.indicator:
            raise ValueError("name the block's indicator")
        return self


class Section(Declared):
    kind: SectionKind
    question: int | None = None  # a question section: its number in the cycle's question set
    id: str | None = None  # a context or data section: its anchor
    heading: str | None = None
    blocks: tuple[Block, ...] = ()

    @model_validator(mode="after")
    def _complete(self) -> Section:
        if self.kind == "question" and self.question is None:
            raise ValueError("a question section names its question number")
        if self.kind == "data" and not (self.id and self.heading and self.blocks):
            raise ValueError("a data section has an id, a heading and blocks")
        if self.blocks and not (self.id and self.heading):
            raise ValueError("a section with blocks has an id and a heading")
        return self


class Layout(Declared):
    title: str
    subtitle: str
    file: str  # the stem of the report's files
    texts: str  # the fixed texts file, in peelkit.report
    sentences: dict[str, str] = Field(default_factory=dict)
    section: tuple[Section, ...]

    @model_validator(mode="after")
    def _placeholders(self) -> Layout:
        for key in ("title", "subtitle", "file"):
            _check(getattr(self, key), TITLE_PLACEHOLDERS, key)
        for name, pattern in self.sentences.items():
            _check(pattern, SENTENCE_PLACEHOLDERS, f"sentences.{name}")
        for name, pattern in self.sentences.items():
            uses_ew = "{ew}" in pattern or "{ew_went}" in pattern
            variant = f"{name}_without_ew"
            if uses_ew and not name.endswith("_without_ew") and variant not in self.sentences:
                raise ValueError(
                    f"sentences.{name} names England and Wales: add sentences.{variant} for a "
                    "record without an England and Wales figure"
                )
        for n, s in enumerate(self.section):
            if s.heading:
                _check(s.heading, TITLE_PLACEHOLDERS, f"section {n + 1} heading")
            for b in s.blocks:
                if b.sentence and b.sentence not in self.sentences:
                    raise ValueError(
                        f"section {n + 1}: sentence {b.sentence!r} is not in [sentences] "
                        f"({', '.join(sorted(self.sentences))})"
                    )
        return self

    @property
    def judged(self) -> bool:
        """Does this layout show inspectors' judgments (grades, findings)?"""
        return any(s.kind in ("overview", "question") for s in self.section)


def _check(text: str, allowed: frozenset[str], where: str) -> None:
    placeholders.check(text, allowed, where)


def parse_layout(text: str, name: str) -> Layout:
    """Validate a layout; errors name the file and the key."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ReferenceDataError(f"{name} is not valid TOML: {exc}") from exc
    try:
        return Layout.model_validate(data)
    except ValidationError as exc:
        problems = "\n".join(
            f"  {'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in exc.errors()
        )
        raise ReferenceDataError(f"{name} has {exc.error_count()} problem(s):\n{problems}") from exc


@cache
def layout(name: str) -> Layout:
    """A layout of the package by name: ``peel-2016`` or ``data-profile``."""
    folder = resources.files("peelkit.report").joinpath("layouts")
    path = folder.joinpath(f"{name}.toml")
    if not path.is_file():
        known = sorted(p.name.removesuffix(".toml") for p in folder.iterdir())
        raise ReferenceDataError(f"no report layout {name!r}; known: {', '.join(known)}")
    return parse_layout(path.read_text("utf-8"), f"layouts/{name}.toml")


def layout_for(cycle: int | None) -> Layout:
    """An inspection cycle's layout, or the data profile's for a period without one."""
    return layout("data-profile" if cycle is None else f"peel-{cycle}")
