"""``peelkit report check``: a rendered report, read back and held against its data.

The check reads the report's HTML as a reader's tool would (no access to how it was built)
and benchmark records computed afresh (``peelkit.service.check_report`` computes them: the
one command that computes a second time, on purpose), and reports every way they
disagree:

- a number next to an indicator label that is not the computed value at the shown precision;
- another force's name outside comparison tables, charts and lists (the force's own prose);
- a figure or annex reference ("Figure 12", a link) that leads nowhere;
- a group row of Figure 4 that is not the sum of its members, or displayed members that do
  not add up to the displayed group without a note saying so;
- a fact (e.g. case files reviewed) shown with two different values;
- one label for two measures: a row labelled with one indicator's title showing another's;
- a sentence built around a missing value: a number with no value in the prose, or a "—"
  where a sentence (or a figure's text alternative) would put a number ("from — and —").
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

from peelkit import display, reference
from peelkit.indicators.catalogue import catalogue
from peelkit.indicators.engine import BenchmarkRecord
from peelkit.indicators.periods import for_cycle
from peelkit.judgments import any_of, force_spellings

ROUNDING_NOTE = "may not sum due to rounding"
NO_VALUE = display.NO_VALUE
# A "—" standing where a sentence puts a number: after a word that takes one ("by —", "was —",
# "from — and —"), and before a space, punctuation or the end.
GAP_IN_SENTENCE = re.compile(
    r"\b(?:by|was|were|is|are|of|from|and|to|at|than|with|be)\s+" + NO_VALUE + r"(?=[\s.,;:)]|$)"
)


@dataclass
class _Element:
    tag: str
    attrs: dict[str, str]
    text: str = ""
    comparison: bool = False
    figure: str | None = None  # data-indicator of the enclosing figure
    row_class: str | None = None


@dataclass
class _Page(HTMLParser):
    data: list[_Element] = field(default_factory=list)
    prose: list[str] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)
    links: list[str] = field(default_factory=list)
    notes: dict[str, list[str]] = field(default_factory=dict)  # figure indicator -> notes
    rows: dict[str, list[tuple[str, list[_Element]]]] = field(default_factory=dict)
    # every table row: its row header's text and the indicators of the numbers in it
    labelled: list[tuple[_Element, set[str]]] = field(default_factory=list)
    headings: list[str] = field(default_factory=list)
    alts: list[str] = field(default_factory=list)  # the figures' text alternatives

    def __post_init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, dict[str, str]]] = []
        self.open: list[_Element] = []
        self.text_stack: list[list[str]] = []

    def _inside(self, key: str) -> str | None:
        for _, attrs in reversed(self.stack):
            if key in attrs:
                return attrs[key]
        return None

    def handle_starttag(self, tag: str, attrs_list: list[tuple[str, str | None]]) -> None:
        attrs = {k: v or "" for k, v in attrs_list}
        if tag == "img" and attrs.get("alt"):
            self.alts.append(" ".join(attrs["alt"].split()))
        if tag in ("img", "meta", "br", "link"):
            if "id" in attrs:
                self.ids.add(attrs["id"])
            return
        self.stack.append((tag, attrs))
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("href", "").startswith("#"):
            self.links.append(attrs["href"][1:])
        if tag == "tr":
            figure = self._inside("data-indicator")
            if figure:
                self.rows.setdefault(figure, []).append((attrs.get("class", ""), []))
            self.labelled.append((_Element("th", {}), set()))
        if tag == "th" and attrs.get("scope") == "row" and self.labelled:
            self.open.append(self.labelled[-1][0])
        if tag in ("data", "p", "li", "h1", "h2", "h3", "h4", "h5"):
            element = _Element(
                tag,
                attrs,
                comparison=self._inside("data-comparison") is not None,
                figure=self._figure(),
            )
            self.open.append(element)
            if tag == "data":
                self.data.append(element)
                if self._inside_tag("tr") and self.labelled and "data-indicator" in attrs:
                    self.labelled[-1][1].add(attrs["data-indicator"])
                figure = self._figure()
                if figure and self.rows.get(figure) and self._inside_tag("tr"):
                    self.rows[figure][-1][1].append(element)

    def _figure(self) -> str | None:
        for tag, attrs in reversed(self.stack):
            if tag == "figure":
                return attrs.get("data-indicator")
        return None

    def _inside_tag(self, name: str) -> bool:
        return any(tag == name for tag, _ in self.stack)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("img", "meta", "br", "link"):
            return
        while self.stack:
            top, _ = self.stack.pop()
            if top == tag:
                break
        if self.open and self.open[-1].tag == tag:
            element = self.open.pop()
            text = " ".join(element.text.split())
            if tag not in ("data", "th") and not element.comparison and text != "":
                self.prose.append(text)
            if tag in ("h3", "h4"):
                self.headings.append(text)
            if tag == "p" and "alt" in element.attrs.get("class", "").split() and text:
                self.alts.append(text)
            if tag == "p" and element.figure and "note" in element.attrs.get("class", ""):
                self.notes.setdefault(element.figure, []).append(text)

    def handle_data(self, data: str) -> None:
        for element in self.open:
            element.text += data


#: The benchmark records of every force for the data to a period end, computed afresh.
Fresh = Callable[[date], list[BenchmarkRecord]]


def check_report(folder: Path, fresh: Fresh) -> list[str]:
    """Every disagreement between the rendered report in ``folder`` (or the report's HTML
    file itself) and records computed afresh by ``fresh`` for the period it shows."""
    if folder.is_file():
        if folder.suffix.lower() not in (".html", ".htm"):
            return [f"{folder}: not a report's HTML file (give the .html file or its folder)"]
        pages = [folder]
    else:
        pages = sorted(folder.glob("*.html"))
    if not pages:
        return [f"{folder}: no report (.html) in this folder"]
    problems: list[str] = []
    for page in pages:
        problems += check_html(page.read_text(encoding="utf-8"), fresh, page.name)
    return problems


def check_html(text: str, fresh: Fresh, name: str = "report") -> list[str]:
    parser = _Page()
    parser.feed(text)
    cycle_match = re.search(r'data-cycle="(\d{4})"', text)
    end_match = re.search(r'data-period-end="(\d{4}-\d{2}-\d{2})"', text)
    force_match = re.search(r'<body data-force="([^"]+)"', text)
    if not (cycle_match or end_match) or not force_match:
        return [f"{name}: not a peelkit force report (no force or period on <body>)"]
    force = force_match.group(1)
    if end_match:  # the period end the report was computed to (a cycle's, or a profile's)
        computed = fresh(date.fromisoformat(end_match.group(1)))
    else:
        assert cycle_match is not None
        computed = fresh(for_cycle(int(cycle_match.group(1))).end)
    records = {(r.indicator_id, r.breakdown_key or "", r.force_code, r.period): r for r in computed}
    problems = _numbers(parser, records, name)
    problems += _names_in_prose(parser, force, name)
    problems += _references(parser, name)
    problems += _figure_4(parser, name)
    problems += _facts(parser, name)
    problems += _labels(parser, name)
    problems += _gaps_in_sentences(parser, name)
    return problems


def _numbers(
    page: _Page, records: dict[tuple[str, str, str, str], BenchmarkRecord], name: str
) -> list[str]:
    book = catalogue()
    problems = []
    for e in page.data:
        a = e.attrs
        if "data-indicator" not in a:
            continue
        key = (
            a["data-indicator"],
            a.get("data-row-key", ""),
            a.get("data-force", ""),
            a.get("data-period", ""),
        )
        record = records.get(key)
        label = f"{a['data-indicator']}{' ' + a['data-row'] if a.get('data-row') else ''}"
        if record is None:
            problems.append(f"{name}: {label} ({a.get('data-period')}) has no computed record")
            continue
        value = record.value if a.get("data-who") == "force" else record.england_and_wales
        decimals = book.get(record.indicator_id).decimals
        expected = display.figure(value, decimals, magnitude=bool(a.get("data-magnitude")))
        if e.text.strip() != expected:
            who = "England and Wales" if a.get("data-who") == "ew" else "the force"
            problems.append(
                f"{name}: {label} for {who} shows {e.text.strip()!r}; the computed value is "
                f"{expected!r}"
            )
    return problems


def _names_in_prose(page: _Page, force: str, name: str) -> list[str]:
    others = [
        n
        for f in reference.territorial_forces()
        if f.code != force
        for n in force_spellings(f.code)
    ]
    pattern = any_of(others)
    problems = []
    for text in page.prose:
        if pattern and (m := pattern.search(text)):
            problems.append(
                f"{name}: another force ({m.group(0)!r}) is named in the prose: {text[:90]!r}"
            )
    return problems


def _references(page: _Page, name: str) -> list[str]:
    problems = [f"{name}: a link to #{t} leads nowhere" for t in page.links if t not in page.ids]
    for text in page.prose:
        for number in re.findall(r"\bFigures? (\d+)", text):
            if f"figure-{number}" not in page.ids:
                problems.append(f"{name}: 'Figure {number}' is referred to but not in the report")
        if re.search(r"\b[Aa]nnex A\b", text) and "annex-a" not in page.ids:
            problems.append(f"{name}: Annex A is referred to but not in the report")
    return problems


def _figure_4(page: _Page, name: str) -> list[str]:
    rows = page.rows.get("FIG-4", [])
    problems = []
    groups: dict[str, list[str]] = {}
    for o in reference.outcome_types():
        groups.setdefault(o.figure_4_group, []).append(str(o.number))
    by_row: dict[str, list[_Element]] = {}
    for _, cells in rows:
        if cells:
            by_row[cells[0].attrs.get("data-row-key", "")] = cells
    rounded_apart = False
    for group, members in groups.items():
        key = f"group:{group}"
        if key not in by_row:
            continue
        present = [m for m in by_row if m in members]
        if len(present) != len(members):
            continue
        for column in (0, 1):
            group_cell = by_row[key][column]
            cells = [by_row[m][column] for m in present] + [group_cell]
            if any(not c.attrs.get("value") for c in cells):
                continue  # no value (an excluded force): nothing to add up
            unrounded = sum(Decimal(by_row[m][column].attrs.get("value") or 0) for m in present)
            if abs(unrounded - Decimal(group_cell.attrs.get("value") or 0)) > Decimal("1e-9"):
                problems.append(
                    f"{name}: Figure 4 row {group!r} ({group_cell.text}) is not the sum of its "
                    "members"
                )
            shown = sum(Decimal(by_row[m][column].text) for m in present)
            if shown != Decimal(group_cell.text):
                rounded_apart = True
    if rounded_apart and not any(ROUNDING_NOTE in n for n in page.notes.get("FIG-4", [])):
        problems.append(
            f"{name}: Figure 4's displayed rows do not add up to its group rows and no note says "
            "'figures may not sum due to rounding'"
        )
    return problems


def _facts(page: _Page, name: str) -> list[str]:
    seen: dict[str, set[str]] = {}
    for e in page.data:
        if "data-fact" in e.attrs:
            seen.setdefault(e.attrs["data-fact"], set()).add(e.text.strip())
    return [
        f"{name}: the fact {fact!r} is shown as {', '.join(sorted(values))}: one fact, one value"
        for fact, values in seen.items()
        if len(values) > 1
    ]


def _labels(page: _Page, name: str) -> list[str]:
    """One label, one measure: a row labelled with one indicator's title (as the annex
    headings name it, 'Title (ID)') must show that indicator's numbers."""
    titles: dict[str, str] = {}
    for heading in page.headings:
        if m := re.fullmatch(r"(.+) \(((?:FIN|FIG|TXT)-[0-9A-Za-z]+)\)", heading):
            titles[m.group(1).casefold()] = m.group(2)
    problems = []
    for header, indicators in page.labelled:
        label = " ".join(header.text.split()).casefold()
        owner = titles.get(label)
        if owner and indicators and owner not in indicators:
            problems.append(
                f"{name}: the label {header.text.strip()!r} names {owner} but its row shows "
                f"{', '.join(sorted(indicators))}: one label, one measure"
            )
    return problems


def _gaps_in_sentences(page: _Page, name: str) -> list[str]:
    """A report never builds a sentence around a number it does not have: it says what is
    missing instead (docs/report.md)."""
    problems = []
    for e in page.data:
        a = e.attrs
        empty = a.get("value", "") == "" or e.text.strip() in ("", NO_VALUE)
        if "data-indicator" in a and not e.comparison and empty:
            problems.append(
                f"{name}: a sentence is built around a missing value "
                f"({a['data-indicator']}{' ' + a['data-row'] if a.get('data-row') else ''} "
                f"has none); say what is missing instead"
            )
    for text in dict.fromkeys([*page.prose, *page.alts]):
        if GAP_IN_SENTENCE.search(text):
            problems.append(
                f"{name}: a sentence is built around a missing value ({NO_VALUE!r} where a "
                f"number belongs): {text[:90]!r}"
            )
    return problems
