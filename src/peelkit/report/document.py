"""The force report as a document tree: data, built once, rendered to HTML, PDF, SVG and CSV.

Every number in the tree is a :class:`Num` that carries the benchmark record it was taken from
(indicator, row, whose value), so the renderers print it, the CSV lists it and ``peelkit report
check`` can compare it with the computed value. Facts from the judgments are :class:`Fact`
spans, stored once. No renderer computes a statistic or types a number.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Who = Literal["force", "ew"]


@dataclass(frozen=True)
class Num:
    """A displayed number: the value of one benchmark record, rounded for display."""

    text: str  # as displayed, e.g. "85.7" or "—"
    value: float | None  # unrounded, from the record
    indicator: str
    row: str | None
    who: Who
    force: str  # the force code of the record (or the subject force, for England and Wales)
    period: str = ""
    magnitude: bool = False  # shown without its sign ("decreased by 6.3 percent")
    row_key: str | None = None  # the record's breakdown key (``row`` is its label)


@dataclass(frozen=True)
class Fact:
    """A fieldwork figure from the judgments, the same everywhere it is cited."""

    name: str
    text: str
    value: float


@dataclass(frozen=True)
class Ref:
    """A cross-reference: to a figure ("Figure 4") or to Annex A."""

    kind: Literal["figure", "annex"]
    target: str  # "4" or "A"
    text: str


Part = str | Num | Fact | Ref


@dataclass(frozen=True)
class Paragraph:
    parts: tuple[Part, ...]
    role: str = "prose"  # prose | summary | finding


@dataclass(frozen=True)
class Items:
    """A list: areas for improvement, recommendation actions, questions."""

    items: tuple[Paragraph, ...]
    ordered: bool = False
    role: str = "prose"


@dataclass(frozen=True)
class Cell:
    content: str | Num
    header: bool = False


@dataclass(frozen=True)
class Row:
    cells: tuple[Cell, ...]
    kind: str = "member"  # member | group | total | header


@dataclass(frozen=True)
class Table:
    id: str
    caption: str
    columns: tuple[str, ...]
    rows: tuple[Row, ...]
    notes: tuple[str, ...] = ()
    comparison: bool = True  # lists forces or England and Wales side by side


@dataclass(frozen=True)
class Bar:
    force: str  # code
    name: str
    num: Num  # value None: excluded or no data
    subject: bool = False
    reason: str | None = None  # why there is no value


@dataclass(frozen=True)
class Chart:
    kind: Literal["bars", "series", "pair", "stack"]
    unit: str
    bars: tuple[Bar, ...] = ()  # bars: one per force; pair: one per row (force vs E&W)
    england_and_wales: Num | None = None
    series: tuple[tuple[str, Num, Num], ...] = ()  # (period, force, E&W)
    labels: tuple[str, ...] = ()  # pair charts: the row labels
    # stack charts: per column (e.g. a question), the count of each category (e.g. a grade)
    stack: tuple[tuple[str, tuple[tuple[str, int], ...]], ...] = ()


@dataclass(frozen=True)
class Figure:
    number: int
    title: str
    indicator: str
    table: Table
    chart: Chart | None
    alt: str
    notes: tuple[str, ...]
    source: str
    period: str
    unit: str


@dataclass(frozen=True)
class GradeBlock:
    grade: str
    label: str  # e.g. "Overall judgment"


Block = Paragraph | Items | Table | Figure | GradeBlock


@dataclass
class Section:
    id: str
    title: str
    level: int
    blocks: list[Block] = field(default_factory=list)
    children: list[Section] = field(default_factory=list)
    names_forces: bool = False  # a data-rules section that names the forces each rule covers

    def walk(self) -> list[Section]:
        out = [self]
        for child in self.children:
            out += child.walk()
        return out


@dataclass
class Report:
    force: str
    force_name: str
    cycle: int | None  # None: a data profile
    title: str
    subtitle: str
    published: str
    label: str | None
    sections: list[Section]
    period_end: str = ""  # ISO date: the data the report's records were computed to
    stem: str = ""  # the name of its files, from the layout
    # what the report lacks for want of data, said on its front page (peelkit.report.gaps)
    notice: tuple[str, ...] = ()

    def walk(self) -> list[Section]:
        return [s for top in self.sections for s in top.walk()]

    def figures(self) -> list[Figure]:
        return [b for s in self.walk() for b in s.blocks if isinstance(b, Figure)]

    def numbers(self) -> list[Num]:
        """Every number the report shows, in document order."""
        found: list[Num] = []
        for section in self.walk():
            for block in section.blocks:
                found += numbers_in(block)
        return found


def numbers_in(block: Block) -> list[Num]:
    """The numbers a block shows, in order."""
    if isinstance(block, Paragraph):
        return [p for p in block.parts if isinstance(p, Num)]
    if isinstance(block, Items):
        return [n for item in block.items for n in numbers_in(item)]
    if isinstance(block, Table):
        return [c.content for r in block.rows for c in r.cells if isinstance(c.content, Num)]
    if isinstance(block, Figure):
        return numbers_in(block.table)
    return []
