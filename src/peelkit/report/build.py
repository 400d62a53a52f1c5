"""Build a force report's document tree from benchmark records, judgments and the catalogue.

Nothing here computes a statistic: every value, England and Wales figure, verdict and rank
comes from a :class:`~peelkit.indicators.engine.BenchmarkRecord`; every grade and finding from
the inspectors' :class:`~peelkit.judgments.Judgments`; every term from ``glossary.toml``; the
fixed texts from ``texts-<cycle>.toml``. Generated sentences take their numbers and comparison
words from the same record as the table or chart beside them.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Iterator
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

from peelkit import display, placeholders, reference
from peelkit.indicators.catalogue import Indicator, catalogue
from peelkit.indicators.engine import EXCLUDED, TOTAL_ASSIGNED, BenchmarkRecord
from peelkit.indicators.periods import PeriodEnd, for_cycle
from peelkit.judgments import NOT_RECORDED, Judgments, question_set
from peelkit.placeholders import PLACEHOLDER
from peelkit.report import layout as layouts
from peelkit.report.document import (
    Bar,
    Block,
    Cell,
    Chart,
    Fact,
    Figure,
    GradeBlock,
    Items,
    Num,
    Paragraph,
    Part,
    Report,
    Row,
    Section,
    Table,
    Who,
)
from peelkit.report.gaps import find_gaps

NO_VALUE = display.NO_VALUE


@cache
def glossary() -> dict[str, Any]:
    text = resources.files("peelkit.report").joinpath("glossary.toml").read_text("utf-8")
    return tomllib.loads(text)


@cache
def texts(name: str) -> dict[str, Any]:
    """A fixed texts file of the package, named by a layout (``texts-2016.toml``); every
    placeholder in it is checked when it is read."""
    return parse_texts(resources.files("peelkit.report").joinpath(name).read_text("utf-8"), name)


def parse_texts(text: str, name: str) -> dict[str, Any]:
    """A fixed texts file read and checked: an unknown placeholder is an error naming the file
    and the key."""
    data = tomllib.loads(text)
    for key, value in _strings(data):
        placeholders.check(value, placeholders.PROSE, f"{name}: {key}")
    return data


def _strings(data: Any, key: str = "") -> Iterator[tuple[str, str]]:
    """Every string of a TOML document, with its dotted key."""
    if isinstance(data, str):
        yield key, data
    elif isinstance(data, dict):
        for k, v in data.items():
            yield from _strings(v, f"{key}.{k}" if key else k)
    elif isinstance(data, list):
        for n, v in enumerate(data):
            yield from _strings(v, f"{key}[{n}]")


def force_phrase(code: str, start: bool = False) -> str:
    """The force as prose names it: 'the Metropolitan Police Service', 'Kent Police'."""
    name = reference.force_by_code()[code].name
    phrase = f"the {name}" if name.endswith("Service") else name
    return phrase[0].upper() + phrase[1:] if start else phrase


class Records:
    """Benchmark records by indicator, row and force."""

    def __init__(self, records: Iterable[BenchmarkRecord]) -> None:
        self.by_key: dict[tuple[str, str | None, str, str], BenchmarkRecord] = {}
        self.rows: dict[tuple[str, str], list[BenchmarkRecord]] = {}
        for r in records:
            self.by_key[(r.indicator_id, r.breakdown_key, r.force_code, r.period)] = r
            self.rows.setdefault((r.indicator_id, r.period), []).append(r)

    def get(self, indicator: str, force: str, row: str | None = None) -> BenchmarkRecord:
        """The record of the indicator's own period (the latest of a series)."""
        matches = [
            r
            for (i, b, f, _), r in self.by_key.items()
            if i == indicator and f == force and b == row
        ]
        if not matches:
            raise KeyError((indicator, row, force))
        return matches[-1]

    def all_forces(self, indicator: str, row: str | None = None) -> list[BenchmarkRecord]:
        """Every force's record of the indicator's own period (the latest of a series)."""
        periods = [p for (i, b, _, p) in self.by_key if i == indicator and b == row]
        return [r for r in self.rows[(indicator, periods[-1])] if r.breakdown_key == row]

    def series(self, indicator: str, force: str) -> list[BenchmarkRecord]:
        return [r for (i, _, f, _), r in self.by_key.items() if i == indicator and f == force]

    def breakdown(self, indicator: str, force: str, key: str) -> BenchmarkRecord | None:
        """The row of a broken-down indicator by its key: an outcome type ("1"), a Figure 4
        group by its name (its key is "group:<name>"), "total", a data return's qualifier."""
        for (i, b, f, _), r in self.by_key.items():
            if i == indicator and f == force and b in (key, f"group:{key}"):
                return r
        return None


def shown(value: float | None, decimals: int, magnitude: bool = False) -> str:
    return display.figure(value, decimals, magnitude=magnitude)


def num(record: BenchmarkRecord, who: Who, subject: str, magnitude: bool = False) -> Num:
    ind = catalogue().get(record.indicator_id)
    value = record.value if who == "force" else record.england_and_wales
    return Num(
        text=shown(value, ind.decimals, magnitude),
        value=value,
        indicator=record.indicator_id,
        row=record.breakdown,
        row_key=record.breakdown_key,
        who=who,
        force=record.force_code if who == "force" else subject,
        period=record.period,
        magnitude=magnitude,
    )


def ranked_bars(records: Iterable[BenchmarkRecord], subject: str | None) -> tuple[Bar, ...]:
    """Every force's record of one indicator, period and row as a bar, highest first; forces
    without a value come last, named with the reason and never drawn as zero (the subject
    force without a value is left out: its notes and text alternative say so)."""
    names = reference.force_by_code()
    bars = []
    for r in sorted(records, key=lambda r: (r.value is None, -(r.value or 0))):
        if r.force_code == subject and r.value is None:
            continue  # said in the notes and the text alternative, never an empty bar
        bars.append(
            Bar(
                r.force_code,
                names[r.force_code].name,
                num(r, "force", r.force_code),
                r.force_code == subject,
                None if r.value is not None else r.coverage,
            )
        )
    return tuple(bars)


def ranked_chart(
    records: Iterable[BenchmarkRecord], indicator: str, subject: str | None, row: str | None = None
) -> Chart | None:
    """The report's ranked bar chart of ``indicator`` (its own period, the latest of a series;
    the row ``row`` of a broken-down one) with ``subject`` highlighted, or none highlighted;
    None when no force has a value."""
    ind = catalogue().get(indicator)
    mine = [r for r in records if r.indicator_id == indicator and r.breakdown_key == row]
    if not mine:
        return None
    # ISO text orders as the dates do: records as published (JSON rows) draw the same chart
    latest = max(str(r.window_end or "") for r in mine)
    mine = [r for r in mine if str(r.window_end or "") == latest]
    if all(r.value is None for r in mine):
        return None
    return Chart("bars", ind.unit, ranked_bars(mine, subject), num(mine[0], "ew", subject or ""))


class Builder:
    """Builds one force's report from its layout (:mod:`peelkit.report.layout`)."""

    def __init__(
        self,
        records: Iterable[BenchmarkRecord],
        force: str,
        when: PeriodEnd,
        label: str | None,
        judgments: Judgments | None,
        layout: layouts.Layout,
    ) -> None:
        self.all_records = list(records)
        self.records = Records(self.all_records)
        self.force = force
        self.when = when
        self.cycle = when.cycle
        self.label = label
        self.layout = layout
        self.texts = texts(layout.texts)
        self.book = catalogue()
        if layout.judged and when.cycle is None:
            raise ValueError(f"the {layout.title!r} layout is a cycle's: give its cycle")
        self.j = judgments  # None: no inspectors' judgments were loaded for this force
        self.questions = question_set(when.cycle) if when.cycle is not None else None
        self.figure_count = 0
        self.drawn: set[str] = set()  # the indicators drawn as figures (not replaced)
        # each statement of what is missing, by id, with the indicators it is about
        self.stated: dict[int, tuple[Paragraph, frozenset[str]]] = {}
        self.names = reference.force_by_code()

    # -- spans -------------------------------------------------------------------------------

    def spans(self, text: str) -> tuple[Part, ...]:
        """Prose with its placeholders filled from data (docs/judgments.md)."""
        parts: list[Part] = []
        at = 0
        for match in PLACEHOLDER.finditer(text):
            if match.start() > at:
                parts.append(text[at : match.start()])
            key = match.group(1).split(":")
            start = match.start() == 0 or text[: match.start()].rstrip().endswith((".", ":"))
            if key[0] == "force":
                parts.append(force_phrase(self.force, start))
            elif key[0] == "cycle":
                parts.append(str(self.cycle))
            elif key[0] == "previous_cycle":
                assert self.questions is not None
                parts.append(str(self.questions.previous_cycle))
            elif key[0] == "period_end":
                parts.append(f"{self.when.end.day} {self.when.end:%B %Y}")
            elif key[0] == "population_year":
                parts.append(str(self.when.population_year))
            elif key[0] == "population_rule":
                parts.append(self.when.population_rule_text)
            elif key[0] == "year":
                parts.append(key[1])
            elif key[0] == "fact" and self.j:
                fact = self.j.facts[key[1]]
                parts.append(Fact(key[1], display.as_given(fact.value), float(fact.value)))
            elif key[0] == "indicator":
                who: Who = "ew" if len(key) == 3 else "force"
                parts.append(num(self.records.get(key[1], self.force), who, self.force))
            else:  # checked when the text was read; never left out silently
                raise KeyError(f"no value for the placeholder {match.group(0)} in {text[:80]!r}")
            at = match.end()
        if at < len(text):
            parts.append(text[at:])
        return tuple(parts)

    def para(self, text: str, role: str = "prose") -> Paragraph:
        """Prose with its placeholders filled; prose citing a figure the force has no value
        of is replaced by the statement of what is missing (never a sentence around a gap)."""
        parts = self.spans(text)
        gaps = [p for p in parts if isinstance(p, Num) and p.value is None]
        if gaps:
            records = [self.records.get(n.indicator, self.force) for n in gaps]
            titles = ", ".join(dict.fromkeys(self.book.get(n.indicator).title for n in gaps))
            return self.missing(f"A passage citing {titles[0].lower() + titles[1:]}", records)
        return Paragraph(parts, role)

    def once(self, section: Section) -> Section:
        """The section with each statement of what is missing said once: a sentence's
        statement is dropped when the figure before it already said the same."""
        said: set[str] = set()
        kept: list[Block] = []
        for block in section.blocks:
            if isinstance(block, Figure):
                self.drawn.add(block.indicator)
            entry = self.stated.get(id(block))
            if entry is not None and entry[0] is block:
                about = entry[1]
                if about and about <= said:
                    continue
                said |= about
            kept.append(block)
        section.blocks = kept
        return section

    def missing(self, what: str, records: Iterable[BenchmarkRecord]) -> Paragraph:
        """The one statement that replaces a sentence, table or figure without values: what
        is missing and why, from the records' coverage and note."""
        records = list(records)
        why = "; ".join(dict.fromkeys(r.note or r.coverage for r in records if r.value is None))
        why = why if records else "no rows for this force in the warehouse"
        statement = Paragraph(
            (
                f"{what[0].upper() + what[1:]}: not available for {force_phrase(self.force)}"
                + (f" ({why})." if why else "."),
            ),
            "missing",
        )
        self.stated[id(statement)] = (statement, frozenset(r.indicator_id for r in records))
        return statement

    def record(self, indicator: str, row: str | None = None) -> BenchmarkRecord:
        return self.records.get(indicator, self.force, row)

    def compare_words(self, record: BenchmarkRecord, ranked: bool) -> str:
        words = glossary()["comparison"]
        key = record.rank_verdict if ranked and record.rank_verdict else record.verdict
        return str(words.get(key, key))

    # -- the report --------------------------------------------------------------------------

    def build(self) -> Report:
        name = self.names[self.force].name
        sections: list[Section] = []
        for part in self.layout.section:
            if part.kind == "introduction":
                sections.append(self.introduction())
            elif part.kind == "force in numbers":
                sections.append(self.force_in_numbers())
            elif part.kind == "overview":
                sections.append(self.overview())
            elif part.kind == "question":
                assert part.question is not None
                sections.append(self.question(part.question, part))
            elif part.kind == "data":
                sections.append(self.context(part, level=1))
            elif part.kind == "next steps":
                blocks: list[Block] = [self.para(t) for t in self.texts["next_steps"]]
                sections.append(Section("next-steps", "Next steps", 1, blocks))
            else:
                sections.append(self.annex())
        return Report(
            force=self.force,
            force_name=name,
            cycle=self.cycle,
            title=self.title(self.layout.title),
            subtitle=self.title(self.layout.subtitle),
            published=(self.j.published if self.j else None) or "",
            label=self.label,
            sections=sections,
            period_end=self.when.end.isoformat(),
            stem=self.title(self.layout.file),
            notice=self.notice(),
        )

    def title(self, pattern: str) -> str:
        """A layout's title pattern filled in (placeholders checked when it was read)."""
        values = {
            "pillar": self.questions.pillar if self.questions else "effectiveness",
            "cycle": str(self.cycle or ""),
            "force": force_phrase(self.force),
            "force_name": self.names[self.force].name,
            "period_end": f"{self.when.end.day} {self.when.end:%B %Y}",
            "period_end_iso": self.when.end.isoformat(),
        }
        return PLACEHOLDER.sub(lambda m: values[m.group(1)], pattern)

    def notice(self) -> tuple[str, ...]:
        """The front page's notice of what the report lacks for want of data (report.gaps)."""
        gaps = find_gaps(self.all_records, self.force)
        if not gaps.missing:
            return ()
        return (
            f"This report lacks {len(gaps.missing)} of its {gaps.indicators} indicators for "
            f"{force_phrase(self.force)}: the warehouse does not hold their data. Where a "
            "figure or sentence would be, the report says what is missing. To complete it, "
            "load:",
            *gaps.to_load(),
        )

    def introduction(self) -> Section:
        t = self.texts
        blocks: list[Block] = [self.para(p) for p in t["introduction"]]
        if self.questions is None or not self.layout.judged:
            return Section("introduction", "Introduction", 1, blocks)
        blocks.append(Paragraph((self.questions.headline,), "headline"))
        blocks.append(self.para(t["introduction_questions"]))
        blocks.append(
            Items(tuple(Paragraph((q.text,)) for q in self.questions.question), ordered=True)
        )
        blocks.append(self.para(t["introduction_end"]))
        return Section("introduction", "Introduction", 1, blocks)

    def force_in_numbers(self) -> Section:
        rows = []
        shown_records = []
        for ind in self.book.indicator:
            if "Force in numbers" not in ind.appears_in or ind.breakdown or ind.series_years:
                continue
            r = self.record(ind.id)
            shown_records.append(r)
            rows.append(
                Row(
                    (
                        Cell(ind.title, header=True),
                        Cell(r.period),
                        Cell(ind.unit),
                        Cell(num(r, "force", self.force)),
                        Cell(num(r, "ew", self.force)),
                    )
                )
            )
        table = Table(
            "force-in-numbers-table",  # one id, one element: the section is force-in-numbers
            "Force in numbers",
            ("Indicator", "Period", "Unit", self.names[self.force].name, "England and Wales"),
            tuple(rows),
            notes=(
                f"{NO_VALUE} : no figure (the force could not supply it, or it is excluded; "
                "see Annex A).",
                *self.unavailable_note(shown_records),
            ),
        )
        if all(r.value is None for r in shown_records):
            return Section(
                "force-in-numbers",
                "Force in numbers",
                1,
                [self.missing("The force's figures", shown_records)],
            )
        return Section("force-in-numbers", "Force in numbers", 1, [table])

    def unavailable_note(
        self, records: list[BenchmarkRecord], by_period: bool = False
    ) -> tuple[str, ...]:
        """A table's note naming its rows the force has no value of, and why."""
        gone = [
            (
                f"the {r.period}"
                if by_period
                else self.book.get(r.indicator_id).title
                + (f" {r.breakdown}" if r.breakdown else "")
            )
            + f" ({r.note or r.coverage})"
            for r in records
            if r.value is None
        ]
        if not gone:
            return ()
        return (f"Not available for {self.names[self.force].name}: " + "; ".join(gone) + ".",)

    def against_ew(self, r: BenchmarkRecord, unit: str, ranked: bool) -> tuple[Part, ...]:
        """The comparison that ends a sentence: England and Wales's value and the verdict, or,
        without an England and Wales value, that there is none to compare with."""
        if r.england_and_wales is None:
            return (f"{unit}; there is no England and Wales figure to compare it with.",)
        return (
            f"{unit}, compared with ",
            num(r, "ew", self.force),
            f"{unit} across England and Wales; this is {self.compare_words(r, ranked)}.",
        )

    def grade_words(self, grade: str | None) -> str:
        return str(glossary()["grade"].get(grade or NOT_RECORDED, grade))

    def overview(self) -> Section:
        assert self.questions is not None
        if self.j is None:
            return self.overview_without_judgments()
        overall = self.j.overall
        blocks: list[Block] = [GradeBlock(overall.grade, "Overall judgment")]
        if overall.previous_grade:
            same = overall.previous_grade == overall.grade
            text = (
                "Our overall judgment is the same as last year."
                if same
                else f"Last year the force was judged "
                f"'{self.grade_words(overall.previous_grade).lower()}'."
            )
            blocks.append(Paragraph((text,)))
        if overall.summary:
            blocks.append(self.para(overall.summary, "summary"))
        rows = []
        for q in self.questions.question:
            judged = self.j.question(q.number)
            grade = judged.grade if judged else NOT_RECORDED
            rows.append(Row((Cell(q.text, header=True), Cell(self.grade_words(grade)))))
        blocks.append(
            Table(
                "grades", "Grades by question", ("Question", "Grade"), tuple(rows), comparison=False
            )
        )
        if overall.overall_summary:
            blocks.append(Paragraph(("Overall summary",), "subheading"))
            blocks += [self.para(p) for p in overall.overall_summary]
        return Section("overview", f"Overview – {self.questions.headline}", 1, blocks)

    def overview_without_judgments(self) -> Section:
        assert self.questions is not None
        rows = tuple(
            Row((Cell(q.text, header=True), Cell(self.grade_words(NOT_RECORDED))))
            for q in self.questions.question
        )
        blocks: list[Block] = [
            GradeBlock(NOT_RECORDED, "Overall judgment"),
            Paragraph(
                (
                    "No inspectors' judgments were loaded for "
                    f"{force_phrase(self.force)} in this cycle: the report shows no grades, "
                    "findings or recommendations, only the data.",
                ),
                "missing",
            ),
            Table("grades", "Grades by question", ("Question", "Grade"), rows, comparison=False),
        ]
        return Section("overview", f"Overview – {self.questions.headline}", 1, blocks)

    def question(self, number: int, part: layouts.Section) -> Section:
        assert self.questions is not None
        q = self.questions.get(number)
        judged = self.j.question(number) if self.j else None
        section = Section(f"question-{number}", q.text, 1)
        if part.blocks:
            section.children.append(self.context(part, level=2))
        findings = Section(f"question-{number}-summary", "Summary of findings", 2)
        grade = judged.grade if judged else NOT_RECORDED
        findings.blocks.append(GradeBlock(grade, "Grade"))
        if judged and judged.previous_grade and judged.previous_grade != judged.grade:
            findings.blocks.append(
                Paragraph(
                    (
                        f"In {self.questions.previous_cycle} this question was judged "
                        f"'{self.grade_words(judged.previous_grade).lower()}'.",
                    )
                )
            )
        if judged:
            findings.blocks += [self.para(p, "summary") for p in judged.summary]
        section.children.append(findings)
        if judged and judged.areas_for_improvement:
            section.children.append(
                Section(
                    f"question-{number}-afi",
                    "Areas for improvement",
                    2,
                    [
                        Items(
                            tuple(self.para(a, "finding") for a in judged.areas_for_improvement),
                            role="finding",
                        )
                    ],
                )
            )
        for c, cause in enumerate(judged.causes_of_concern if judged else ()):
            blocks: list[Block] = [self.para(cause.text, "finding")]
            concern = Section(f"question-{number}-cause-{c + 1}", "Cause of concern", 2, blocks)
            recs = Section(f"question-{number}-recommendations-{c + 1}", "Recommendations", 2)
            for rec in cause.recommendations:
                recs.blocks.append(self.para(rec.text, "finding"))
                recs.blocks.append(
                    Items(tuple(self.para(a, "finding") for a in rec.actions), role="finding")
                )
            section.children += [concern, recs]
        return section

    # -- context sections: figures and sentences, as the layout places them ----------------

    def context(self, part: layouts.Section, level: int) -> Section:
        assert part.id is not None and part.heading is not None
        section = Section(part.id, self.title(part.heading), level)
        for block in part.blocks:
            made = self.block(block)
            if made is not None:
                section.blocks.append(made)
            if isinstance(made, Figure):
                self.drawn.add(made.indicator)
        return self.once(section)

    def block(self, block: layouts.Block) -> Block | None:
        if block.note is not None:
            if not set(block.when_drawn) <= self.drawn:
                return None  # a note about figures that were not drawn
            return Paragraph((glossary()["terms"][block.note],), "note")
        if block.sentence is not None:
            return self.sentence(block)
        assert block.indicator is not None or block.indicators
        if block.figure == "series":
            return self.series_figure(block.indicator or "")
        if block.figure == "ranked bars":
            return self.bars_figure(block.indicator or "")
        if block.figure == "pair table":
            return self.pair_table_figure(list(block.indicators), block.title or "", block.notes)
        figure = {
            "outcome groups": self.figure_4,
            "listed rows": self.figure_8,
            "shares by type": self.figure_10,
        }[block.style or "listed rows"]
        return figure(block.indicator or "")

    def sentence(self, block: layouts.Block) -> Paragraph:
        """A sentence of the layout's pattern, every number and word from one record (its
        variant '…_without_ew' when there is no England and Wales figure); the statement of
        what is missing when the record has no value."""
        assert block.indicator is not None and block.sentence is not None
        if block.row is None:
            r: BenchmarkRecord | None = self.record(block.indicator)
        else:
            r = self.records.breakdown(block.indicator, self.force, block.row)
        if r is None or r.value is None:
            return self.missing(block.what, [r] if r else [])
        name = block.sentence
        if r.england_and_wales is None and f"{name}_without_ew" in self.layout.sentences:
            name = f"{name}_without_ew"
        pattern = self.layout.sentences[name]
        parts: list[Part] = []
        at = 0
        for match in PLACEHOLDER.finditer(pattern):
            if match.start() > at:
                parts.append(pattern[at : match.start()])
            parts.append(self.fill(match.group(1), r, block))
            at = match.end()
        parts.append(pattern[at:])
        return Paragraph(tuple(p for p in parts if p != ""))

    def fill(self, key: str, r: BenchmarkRecord, block: layouts.Block) -> Part:
        """One placeholder of a sentence pattern (layout.SENTENCE_PLACEHOLDERS)."""
        if key in ("what", "What"):
            return block.what[0].upper() + block.what[1:] if key == "What" else block.what
        if key in ("force", "Force"):
            return force_phrase(self.force, start=key == "Force")
        if key == "unit":
            return block.unit
        if key in ("period", "Period"):
            return r.period[0].upper() + r.period[1:] if key == "Period" else r.period
        if key in ("earlier", "later"):
            assert r.base_window is not None and r.window is not None  # a change's record
            return r.base_window if key == "earlier" else r.window
        change = key in ("value", "ew") and block.sentence == "change"
        if key == "value":
            return num(r, "force", self.force, magnitude=change)
        if key == "ew":
            return num(r, "ew", self.force, magnitude=change)
        if key == "comparison":
            return self.compare_words(r, block.ranked)
        if key == "went":
            return "increased" if (r.value or 0) >= 0 else "decreased"
        if key == "ew_went":
            return "an increase" if (r.england_and_wales or 0) >= 0 else "a decrease"
        raise KeyError(key)  # the layout's placeholders were checked when it was read

    # -- figures ---------------------------------------------------------------------------

    def next_figure(self) -> int:
        self.figure_count += 1
        return self.figure_count

    def source(self, ind: Indicator) -> str:
        sources = {ind.numerator.source, ind.denominator.source}
        words = []
        if sources & {"recorded_crime", "population"}:
            words.append("Home Office data")
        if "crime_outcomes" in sources:
            words.append("Home Office crime outcomes data")
        if "data_returns" in sources:
            words.append("HMIC data return")
        return "Source: " + ", ".join(dict.fromkeys(words))

    def exclusion_notes(
        self, records: list[BenchmarkRecord], subject_too: bool = False
    ) -> tuple[str, ...]:
        notes = []
        for r in records:
            if r.value is None and (subject_too or r.force_code != self.force):
                notes.append(
                    f"{self.names[r.force_code].name}: {r.coverage}"
                    + (f" ({r.note})" if r.note else "")
                )
        if not notes:
            return ()
        return ("Not shown (never as zero): " + "; ".join(notes) + ".",)

    def bars_figure(self, indicator: str) -> Block:
        """Every force's value as a bar. Forces without a value are named, never drawn; when
        the subject force has none, the chart draws the others and says so; when no force
        has one, the statement of what is missing replaces the figure."""
        ind = self.book.get(indicator)
        records = self.records.all_forces(indicator)
        subject = self.record(indicator)
        number = self.next_figure()  # numbers are stable: Figure N is always the same figure
        if all(r.value is None for r in records):
            return self.missing(ind.title, [subject])
        bars = ranked_bars(records, self.force)
        ew = num(subject, "ew", self.force)
        rows = [
            Row((Cell(b.name, header=True), Cell(b.num)), "subject" if b.subject else "member")
            for b in bars
        ]
        rows.append(Row((Cell("England and Wales", header=True), Cell(ew)), "total"))
        table = Table(
            f"figure-{number}-data", f"Figure {number} data", ("Force", ind.unit), tuple(rows)
        )
        valued = [b for b in bars if b.num.value is not None]
        absent = subject.value is None
        name = self.names[self.force].name
        mine = (
            f"{name} is not shown ({subject.note or subject.coverage})"
            if absent
            else f"{name}: {subject_text(subject, ind)}"
        )
        alt = (
            f"Bar chart of {ind.title.lower()} ({ind.unit}) for {len(valued)} forces, "
            f"highest first. {mine}; "
            + (f"England and Wales: {ew.text}. " if ew.value is not None else "")
            + f"Highest: {valued[0].name} "
            f"({valued[0].num.text}); lowest: {valued[-1].name} ({valued[-1].num.text})."
        )
        return Figure(
            number=number,
            title=f"{ind.title} ({ind.unit}), by force, {subject.period}",
            indicator=indicator,
            table=table,
            chart=Chart("bars", ind.unit, tuple(bars), ew),
            alt=alt,
            notes=self.exclusion_notes(records, subject_too=absent) + ind.caveats[:1],
            source=self.source(ind),
            period=subject.period,
            unit=ind.unit,
        )

    def series_figure(self, indicator: str) -> Block:
        """The force beside England and Wales over the years; the statement of what is
        missing when the force has no value in any year."""
        ind = self.book.get(indicator)
        series = self.records.series(indicator, self.force)
        number = self.next_figure()
        if all(r.value is None for r in series):
            return self.missing(ind.title, series)
        points = tuple(
            (r.period, num(r, "force", self.force), num(r, "ew", self.force)) for r in series
        )
        rows = tuple(Row((Cell(p, header=True), Cell(f), Cell(e))) for p, f, e in points)
        table = Table(
            f"figure-{number}-data",
            f"Figure {number} data",
            ("Period", self.names[self.force].name, "England and Wales"),
            rows,
        )
        complete = all(f.value is not None and e.value is not None for _, f, e in points)
        valued = [(p, f) for p, f, _ in points if f.value is not None]
        alt = (
            f"Line chart of {ind.title.lower()} ({ind.unit}) over {len(points)} years for "
            f"{self.names[self.force].name} and England and Wales: from {points[0][1].text} and "
            f"{points[0][2].text} in the {points[0][0]} to {points[-1][1].text} and "
            f"{points[-1][2].text} in the {points[-1][0]}."
            if complete
            else f"Line chart of {ind.title.lower()} ({ind.unit}) over {len(points)} years for "
            f"{self.names[self.force].name} and England and Wales. "
            f"{self.names[self.force].name} has a value for {len(valued)} of them: "
            f"{valued[0][1].text} in the {valued[0][0]} to {valued[-1][1].text} in the "
            f"{valued[-1][0]}."
        )
        year = series[-1].population_year
        return Figure(
            number=number,
            title=f"{ind.title} ({ind.unit}), {points[0][0]} to {points[-1][0]}",
            indicator=indicator,
            table=table,
            chart=Chart("series", ind.unit, series=points),
            alt=alt,
            notes=((f"Every year's rate uses the mid-{year} population.",) if year else ())
            + self.unavailable_note(list(series), by_period=True),
            source=self.source(ind),
            period=series[-1].period,
            unit=ind.unit,
        )

    def pair_table_figure(
        self, indicators: list[str], title: str, notes: tuple[str, ...] = ()
    ) -> Block:
        number = self.next_figure()
        records = [self.record(i) for i in indicators]
        if all(r.value is None for r in records):
            return self.missing(title, records)
        rows = []
        for i, r in zip(indicators, records, strict=True):
            rows.append(
                Row(
                    (
                        Cell(
                            glossary()["figure_2_rows"].get(i, self.book.get(i).title), header=True
                        ),
                        Cell(num(r, "force", self.force)),
                        Cell(num(r, "ew", self.force)),
                    )
                )
            )
        first = self.record(indicators[0])
        table = Table(
            f"figure-{number}-data",
            f"Figure {number}",
            ("Rates", self.names[self.force].name, "England and Wales"),
            tuple(rows),
        )
        return Figure(
            number=number,
            title=f"{title}, {first.period}",
            indicator=indicators[0],
            table=table,
            chart=None,
            alt=f"Table of {title.lower()} for {self.names[self.force].name} and England and "
            "Wales.",
            notes=notes + self.unavailable_note(records),
            source=self.source(self.book.get(indicators[0])),
            period=first.period,
            unit=self.book.get(indicators[0]).unit,
        )

    def figure_4(self, indicator: str) -> Block:
        ind = self.book.get(indicator)
        number = self.next_figure()
        mine: list[BenchmarkRecord] = []
        outcome = {str(o.number): o for o in reference.outcome_types()}
        labels = glossary()["figure_4_rows"]
        rows: list[Row] = []
        shown_rows: dict[str, tuple[str, str]] = {}
        footnote = ""
        for entry in glossary()["figure_4"]:
            if "row" in entry:
                key = entry["row"]
                r = self.records.breakdown(indicator, self.force, key)
                label = labels.get(key, outcome[key].description)
                kind = "member"
                number_text = "" if key == "0" else key
            elif "group" in entry:
                key = entry["group"]
                r = self.records.breakdown(indicator, self.force, key)
                label = key
                kind = "group"
                number_text = "*" if entry.get("note") else ""
                if entry.get("note"):
                    members = [
                        o.description for o in reference.outcome_types() if o.figure_4_group == key
                    ]
                    footnote = "* Includes the following outcome types: " + ", ".join(members) + "."
            else:
                key = TOTAL_ASSIGNED
                r = self.records.breakdown(indicator, self.force, key)
                label, kind, number_text = entry["total"], "total", ""
            if r is None:
                continue
            mine.append(r)
            if entry.get("blank"):
                cells = (Cell(number_text), Cell(label, header=True), Cell(""), Cell(""))
            else:
                force_num, ew_num = num(r, "force", self.force), num(r, "ew", self.force)
                shown_rows[str(key)] = (force_num.text, ew_num.text)
                cells = (Cell(number_text), Cell(label, header=True), Cell(force_num), Cell(ew_num))
            rows.append(Row(cells, kind))
        if all(r.value is None for r in mine):
            return self.missing(ind.title, mine[-1:])
        notes = [n for n in (footnote,) if n]
        if not self.figure_4_adds_up(shown_rows):
            notes.append(glossary()["terms"]["rounding"])
        charged = self.records.breakdown(indicator, self.force, "1")
        if charged is not None:
            notes += self.exclusion_notes(self.records.all_forces(indicator, charged.breakdown_key))
        table = Table(
            f"figure-{number}-data",
            f"Figure {number}",
            (
                "Outcome number",
                "Outcome type / group",
                self.names[self.force].name,
                "England and Wales",
            ),
            tuple(rows),
        )
        first = self.records.all_forces(indicator, charged.breakdown_key)[0] if charged else None
        period = first.period if first else ""
        return Figure(
            number=number,
            title="Proportion of outcomes assigned to offences recorded in the "
            f"{period}, by outcome type (percent)",
            indicator=indicator,
            table=table,
            chart=None,
            alt=f"Table of the share of offences recorded in the {period} by the outcome "
            f"assigned, for {self.names[self.force].name} and England and Wales.",
            notes=tuple(notes),
            source=self.source(ind),
            period=period,
            unit="percent",
        )

    def figure_4_adds_up(self, rows: dict[str, tuple[str, str]]) -> bool:
        """Do the displayed members add to the displayed groups and total (both columns)?"""
        groups: dict[str, list[str]] = {}
        for o in reference.outcome_types():
            groups.setdefault(o.figure_4_group, []).append(str(o.number))
        for column in (0, 1):
            for group, members in groups.items():
                if group not in rows or not all(m in rows for m in members):
                    continue
                if _add(rows[m][column] for m in members) != _dec(rows[group][column]):
                    return False
            total = TOTAL_ASSIGNED
            if total in rows:
                tops = []
                for entry in glossary()["figure_4"]:
                    key = entry.get("row") or entry.get("group")
                    if key and key != "0" and key in rows:
                        member_of_shown_group = "row" in entry and any(
                            entry["row"] in groups.get(g, []) and g in rows for g in groups
                        )
                        if not member_of_shown_group:
                            tops.append(rows[key][column])
                if _add(tops) != _dec(rows[total][column]):
                    return False
        return True

    def figure_8(self, indicator: str) -> Block:
        ind = self.book.get(indicator)
        number = self.next_figure()
        found = [
            (label, self.records.breakdown(indicator, self.force, key))
            for key, label in glossary()["figure_8_rows"].items()
        ]
        mine = [(label, r) for label, r in found if r is not None]
        if all(r.value is None for _, r in mine):
            return self.missing(ind.title, [r for _, r in mine])
        rows = []
        for label, r in mine:
            rows.append(
                Row(
                    (
                        Cell(label, header=True),
                        Cell(num(r, "force", self.force)),
                        Cell(num(r, "ew", self.force)),
                    )
                )
            )
        first = self.records.breakdown(indicator, self.force, "1")
        period = first.period if first else ""
        records = self.records.all_forces(indicator, first.breakdown_key) if first else []
        table = Table(
            f"figure-{number}-data",
            f"Figure {number}",
            ("Outcome type / group", self.names[self.force].name, "England and Wales"),
            tuple(rows),
        )
        return Figure(
            number=number,
            title=f"Rate of outcomes recorded in the {period} for domestic abuse related "
            "offences (per 100 domestic abuse offences)",
            indicator=indicator,
            table=table,
            chart=None,
            alt="Table of domestic abuse outcome rates for "
            f"{self.names[self.force].name} and England and Wales.",
            notes=(*self.exclusion_notes(records), glossary()["terms"]["not_comparable"]),
            source=self.source(ind),
            period=period,
            unit=ind.unit,
        )

    def figure_10(self, indicator: str) -> Block:
        ind = self.book.get(indicator)
        number = self.next_figure()
        mine = sorted(
            (
                r
                for (i, b, f, _), r in self.records.by_key.items()
                if i == indicator and f == self.force and b
            ),
            key=lambda r: -(r.england_and_wales or 0),
        )
        if all(r.value is None for r in mine):
            return self.missing(ind.title, mine)
        rows = [
            Row(
                (
                    Cell(r.breakdown or "", header=True),
                    Cell(num(r, "force", self.force)),
                    Cell(num(r, "ew", self.force)),
                )
            )
            for r in mine
        ]
        notes: list[str] = []
        columns: tuple[Who, Who] = ("force", "ew")
        for column in columns:
            texts_ = [num(r, column, self.force).text for r in mine]
            if all(t != NO_VALUE for t in texts_) and _add(texts_) != Decimal(100):
                notes.append(glossary()["terms"]["rounding"])
                break
        period = mine[0].period if mine else ""
        records = self.records.all_forces(indicator, mine[0].breakdown_key) if mine else []
        bars = tuple(
            Bar(self.force, r.breakdown or "", num(r, "force", self.force), True) for r in mine
        )
        table = Table(
            f"figure-{number}-data",
            f"Figure {number}",
            ("Predominant crime type", self.names[self.force].name, "England and Wales"),
            tuple(rows),
        )
        return Figure(
            number=number,
            title=f"Active organised crime groups by predominant crime type, {period} (percent)",
            indicator=indicator,
            table=table,
            chart=Chart(
                "pair",
                "percent",
                bars=bars,
                labels=tuple(r.breakdown or "" for r in mine),
                series=tuple(
                    (r.breakdown or "", num(r, "force", self.force), num(r, "ew", self.force))
                    for r in mine
                ),
            ),
            alt="Bar chart of the shares of active organised crime groups by predominant crime "
            f"type, {self.names[self.force].name} beside England and Wales.",
            notes=tuple(notes) + self.exclusion_notes(records),
            source=self.source(ind),
            period=period,
            unit="percent",
        )

    # -- annex -----------------------------------------------------------------------------

    def annex(self) -> Section:
        t = self.texts
        s = Section(
            "annex-a",
            "Annex A – About the data",
            1,
            [self.para(p) for p in t["annex_intro"]],
            names_forces=True,
        )
        if self.j and "case_files_reviewed" in self.j.facts:
            s.children.append(
                Section("annex-a-files", "Review of crime files", 2, [self.para(t["case_files"])])
            )
        s.children.append(
            Section(
                "annex-a-ranks",
                "Comparisons with England and Wales",
                2,
                [self.para(t["comparison_rule"])],
            )
        )
        for ind in self.book.indicator:
            applied = self.applied(ind)
            about = ind.annex if self.layout.judged else self.definition(ind)
            blocks: list[Block] = [Paragraph((about,))]
            if applied:
                blocks.append(Items(tuple(Paragraph((a,)) for a in applied), role="comparison"))
            blocks += [Paragraph((c,), "note") for c in ind.caveats]
            s.children.append(
                Section(f"annex-{ind.id.lower()}", f"{ind.title} ({ind.id})", 2, blocks)
            )
        return s

    def definition(self, ind: Indicator) -> str:
        """An indicator described from its definitions and the period computed (a data
        profile: the 2016 annex's wording names 2016's dates and releases)."""
        mine = [r for r in self.records.series(ind.id, self.force)]
        periods = ", ".join(dict.fromkeys(r.period for r in mine)) or "no period"
        return (
            f"{ind.numerator.definition} ({ind.numerator.source}), per "
            f"{ind.denominator.definition.lower()} ({ind.denominator.source}); {ind.unit}; "
            f"{periods}."
        )

    def applied(self, ind: Indicator) -> list[str]:
        """The exclusions and notes the computation actually applied, force by force."""
        seen: dict[str, str] = {}
        for (i, _, f, _), r in self.records.by_key.items():
            if i != ind.id or f in seen:
                continue
            if r.coverage == EXCLUDED or r.note:
                seen[f] = f"{self.names[f].name}: {r.coverage}" + (f" — {r.note}" if r.note else "")
        return [seen[f] for f in sorted(seen, key=lambda f: self.names[f].name)]


def subject_text(record: BenchmarkRecord, ind: Indicator) -> str:
    return (
        shown(record.value, ind.decimals)
        if record.value is not None
        else f"no value ({record.coverage})"
    )


def _dec(text: str) -> Decimal:
    return Decimal(text.replace(",", "")) if text not in ("", NO_VALUE) else Decimal(0)


def _add(texts_: Iterable[str]) -> Decimal:
    return sum((_dec(t) for t in texts_), Decimal(0))


def build_report(
    records: Iterable[BenchmarkRecord],
    judgments: Judgments | None,
    cycle: int = 2016,
    label: str | None = None,
    force: str | None = None,
) -> Report:
    """The force report of ``force`` (by default ``judgments.force``) in ``cycle``, from the
    benchmark records of every force (charts compare forces) and the inspectors' judgments
    (None: none were loaded, and the report says so)."""
    code = force or (judgments.force if judgments else None)
    if code is None:
        raise ValueError("build_report needs the force when there are no judgments")
    when = for_cycle(cycle)
    layout = layouts.layout_for(cycle)
    return Builder(records, code, when, label, judgments, layout).build()


def build_profile(
    records: Iterable[BenchmarkRecord], force: str, when: PeriodEnd, label: str | None = None
) -> Report:
    """A data profile of ``force``: the report's data sections for any period end, without
    inspectors' judgments (layouts/data-profile.toml)."""
    layout = layouts.layout("data-profile")
    return Builder(records, force, when, label, None, layout).build()
