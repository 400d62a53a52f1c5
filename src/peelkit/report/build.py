"""Build a force report's document tree from benchmark records, judgments and the catalogue.

Nothing here computes a statistic: every value, England and Wales figure, verdict and rank
comes from a :class:`~peelkit.indicators.engine.BenchmarkRecord`; every grade and finding from
the inspectors' :class:`~peelkit.judgments.Judgments`; every term from ``glossary.toml``; the
fixed texts from ``texts-<cycle>.toml``. Generated sentences take their numbers and comparison
words from the same record as the table or chart beside them.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

from peelkit import reference, stats
from peelkit.indicators.catalogue import Indicator, catalogue
from peelkit.indicators.engine import EXCLUDED, BenchmarkRecord
from peelkit.judgments import PLACEHOLDER, Judgments, question_set
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

NO_VALUE = "—"


@cache
def glossary() -> dict[str, Any]:
    text = resources.files("peelkit.report").joinpath("glossary.toml").read_text("utf-8")
    return tomllib.loads(text)


@cache
def texts(cycle: int) -> dict[str, Any]:
    text = resources.files("peelkit.report").joinpath(f"texts-{cycle}.toml").read_text("utf-8")
    return tomllib.loads(text)


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
            self.by_key[(r.indicator_id, r.breakdown, r.force_code, r.period)] = r
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
        return [r for r in self.rows[(indicator, periods[-1])] if r.breakdown == row]

    def series(self, indicator: str, force: str) -> list[BenchmarkRecord]:
        return [r for (i, _, f, _), r in self.by_key.items() if i == indicator and f == force]

    def breakdown(self, indicator: str, force: str, key: str) -> BenchmarkRecord | None:
        """The row of a broken-down indicator whose key is ``key`` (an outcome type, a type)."""
        for (i, b, f, _), r in self.by_key.items():
            if i != indicator or f != force or b is None:
                continue
            if b == key or b.split(" ")[0] == key or b == f"group: {key}":
                return r
        return None


def shown(value: float | None, decimals: int, magnitude: bool = False) -> str:
    if value is None:
        return NO_VALUE
    if magnitude:
        value = abs(value)
    return f"{stats.round_half_up(value, decimals):,}"


def num(record: BenchmarkRecord, who: Who, subject: str, magnitude: bool = False) -> Num:
    ind = catalogue().get(record.indicator_id)
    value = record.value if who == "force" else record.england_and_wales
    return Num(
        text=shown(value, ind.decimals, magnitude),
        value=value,
        indicator=record.indicator_id,
        row=record.breakdown,
        who=who,
        force=record.force_code if who == "force" else subject,
        period=record.period,
        magnitude=magnitude,
    )


class Builder:
    def __init__(
        self,
        records: Iterable[BenchmarkRecord],
        judgments: Judgments | None,
        cycle: int,
        label: str | None,
        force: str,
    ) -> None:
        self.all_records = list(records)
        self.records = Records(self.all_records)
        self.j = judgments  # None: no inspectors' judgments were loaded for this force
        self.force = force
        self.cycle = cycle
        self.label = label
        self.book = catalogue()
        self.questions = question_set(cycle)
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
                parts.append(str(self.questions.previous_cycle))
            elif key[0] == "year":
                parts.append(key[1])
            elif key[0] == "fact" and self.j:
                fact = self.j.facts[key[1]]
                parts.append(Fact(key[1], f"{fact.value:,}", float(fact.value)))
            elif key[0] == "indicator":
                who: Who = "ew" if len(key) == 3 else "force"
                parts.append(num(self.records.get(key[1], self.force), who, self.force))
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
        sections = [
            self.introduction(),
            self.force_in_numbers(),
            self.overview(),
            *[self.question(q.number) for q in self.questions.question],
            Section(
                "next-steps",
                "Next steps",
                1,
                [self.para(t) for t in texts(self.cycle)["next_steps"]],
            ),
            self.annex(),
        ]
        return Report(
            force=self.force,
            force_name=name,
            cycle=self.cycle,
            title=f"PEEL: Police {self.questions.pillar} {self.cycle}",
            subtitle=f"An inspection of {force_phrase(self.force)}",
            published=(self.j.published if self.j else None) or "",
            label=self.label,
            sections=sections,
            notice=self.notice(),
        )

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
        t = texts(self.cycle)
        blocks: list[Block] = [self.para(p) for p in t["introduction"]]
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
            "force-in-numbers",
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
        return str(glossary()["grade"].get(grade or "not recorded", grade))

    def overview(self) -> Section:
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
            grade = judged.grade if judged else "not recorded"
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
        rows = tuple(
            Row((Cell(q.text, header=True), Cell(self.grade_words("not recorded"))))
            for q in self.questions.question
        )
        blocks: list[Block] = [
            GradeBlock("not recorded", "Overall judgment"),
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

    def question(self, number: int) -> Section:
        q = self.questions.get(number)
        judged = self.j.question(number) if self.j else None
        section = Section(f"question-{number}", q.text, 1)
        context = {
            1: self.crime_context,
            2: self.outcomes_context,
            3: self.vulnerability_context,
            4: self.organised_crime_context,
        }.get(number)
        if context:
            section.children += context()
        findings = Section(f"question-{number}-summary", "Summary of findings", 2)
        grade = judged.grade if judged else "not recorded"
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

    # -- context sections with figures -----------------------------------------------------

    def change_sentence(self, indicator: str, subject: str) -> Paragraph:
        r = self.record(indicator)
        force = num(r, "force", self.force, magnitude=True)
        ew = num(r, "ew", self.force, magnitude=True)
        if r.value is None:
            return self.missing(f"The change in {subject} from the {r.period}", [r])
        went = "increased" if r.value >= 0 else "decreased"
        ew_went = "an increase" if (r.england_and_wales or 0) >= 0 else "a decrease"
        earlier, later = r.period.split(" to 12 months", 1)
        if r.england_and_wales is None:
            return Paragraph(
                (
                    f"When compared with the {earlier}, {subject} for the 12 months{later} "
                    f"{went} by ",
                    force,
                    f" percent in {force_phrase(self.force)}; there is no England and Wales "
                    "figure to compare it with.",
                )
            )
        return Paragraph(
            (
                f"When compared with the {earlier}, {subject} for the 12 months{later} {went} by ",
                force,
                f" percent in {force_phrase(self.force)}, compared with {ew_went} of ",
                ew,
                " percent across all forces in England and Wales.",
            )
        )

    def value_sentence(
        self, indicator: str, what: str, ranked: bool = False, unit: str = ""
    ) -> Paragraph:
        r = self.record(indicator)
        if r.value is None:
            return self.missing(what, [r])
        return Paragraph(
            (
                f"In the {r.period}, {what} in {force_phrase(self.force)} was ",
                num(r, "force", self.force),
                *self.against_ew(r, unit, ranked),
            )
        )

    def crime_context(self) -> list[Section]:
        area = (
            "How much crime and anti-social behaviour is there in the area of "
            f"{force_phrase(self.force)}?"
        )
        s = Section("question-1-context", area, 2)
        s.blocks.append(self.series_figure("FIG-1"))
        s.blocks.append(self.change_sentence("FIN-4", "police-recorded crime (excluding fraud)"))
        s.blocks.append(self.change_sentence("TXT-VB5", "victim-based crime"))
        s.blocks.append(self.change_sentence("FIN-3", "police-recorded crime (excluding fraud)"))
        s.blocks.append(
            self.pair_table_figure(
                ["FIN-2", "FIG-2a", "FIG-2b", "FIG-2c", "FIG-2d"],
                "Police-recorded crime rates (per 1,000 population)",
                notes=(
                    "* The rate of burglary in a dwelling is the rate per 1,000 households, "
                    "rather than population.",
                ),
            )
        )
        s.blocks.append(self.bars_figure("FIG-3"))
        s.blocks.append(
            self.value_sentence(
                "TXT-ASBP", "the use of anti-social behaviour powers per one million population"
            )
        )
        return [self.once(s)]

    def outcomes_context(self) -> list[Section]:
        s = Section("question-2-context", "How well does the force bring offenders to justice?", 2)
        figure_4 = self.figure_4()
        s.blocks.append(figure_4)
        tic = self.records.breakdown("FIG-4", self.force, "4")
        if tic is not None and tic.value is not None:
            s.blocks.append(
                Paragraph(
                    (
                        f"In the {tic.period}, the use of 'taken into consideration' by "
                        f"{force_phrase(self.force)} was ",
                        num(tic, "force", self.force),
                        *self.against_ew(tic, " percent", True),
                    )
                )
            )
        elif tic is not None and isinstance(figure_4, Figure):
            s.blocks.append(self.missing("The use of 'taken into consideration'", [tic]))
        s.blocks.append(self.bars_figure("FIG-5"))
        s.blocks.append(
            self.value_sentence(
                "FIG-5",
                "the share of offences assigned an 'evidential difficulties; victim does not "
                "support action' outcome",
                unit=" percent",
            )
        )
        return [self.once(s)]

    def vulnerability_context(self) -> list[Section]:
        s = Section("question-3-context", "Protecting vulnerable people: the data", 2)
        s.blocks.append(self.bars_figure("FIG-6"))
        s.blocks.append(
            self.value_sentence(
                "FIG-6",
                "the share of police-recorded crime with a vulnerable victim identified",
                ranked=True,
                unit=" percent",
            )
        )
        s.blocks.append(
            self.value_sentence(
                "TXT-MH",
                "the share of incidents flagged as involving mental ill-health",
                unit=" percent",
            )
        )
        s.blocks.append(self.bars_figure("FIG-7"))
        s.blocks.append(
            self.value_sentence(
                "FIG-7", "the domestic abuse arrest rate per 100 domestic abuse crimes"
            )
        )
        s.blocks.append(
            self.value_sentence(
                "TXT-DVPO",
                "the number of domestic violence protection order applications per 100 "
                "domestic abuse crimes",
            )
        )
        figure_8 = self.figure_8()
        s.blocks.append(figure_8)
        adult = self.records.breakdown("FIG-8", self.force, "3")
        if adult is not None and adult.value is not None:
            s.blocks.append(
                Paragraph(
                    (
                        f"In the {adult.period}, the use of 'caution – adults' by "
                        f"{force_phrase(self.force)} in cases with identified domestic abuse was "
                        f"{self.compare_words(adult, True)}.",
                    )
                )
            )
        elif adult is not None and isinstance(figure_8, Figure):
            s.blocks.append(self.missing("The use of 'caution – adults'", [adult]))
        if isinstance(figure_8, Figure) and "FIG-4" in self.drawn:  # it compares the two
            s.blocks.append(Paragraph((glossary()["terms"]["not_comparable"],), "note"))
        return [self.once(s)]

    def organised_crime_context(self) -> list[Section]:
        s = Section("question-4-context", "Organised crime groups: the data", 2)
        r = self.record("FIN-11")
        if r.value is not None:
            s.blocks.append(
                Paragraph(
                    (
                        f"As at 1 July {self.cycle}, {force_phrase(self.force)} was actively "
                        "disrupting, investigating or monitoring ",
                        num(r, "force", self.force),
                        " organised crime groups (OCGs) per million of the population. This "
                        "compares to ",
                        num(r, "ew", self.force),
                        " OCGs per million of the population across England and Wales.",
                    )
                    if r.england_and_wales is not None
                    else (
                        f"As at 1 July {self.cycle}, {force_phrase(self.force)} was actively "
                        "disrupting, investigating or monitoring ",
                        num(r, "force", self.force),
                        " organised crime groups (OCGs) per million of the population; there is "
                        "no England and Wales figure to compare it with.",
                    )
                )
            )
        else:
            s.blocks.append(self.missing("Active organised crime groups per million", [r]))
        s.blocks.append(self.bars_figure("FIN-11"))
        s.blocks.append(self.figure_10())
        return [self.once(s)]

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
        bars = []
        for r in sorted(records, key=lambda r: (r.value is None, -(r.value or 0))):
            if r.force_code == self.force and r.value is None:
                continue  # said in the notes and the text alternative, never an empty bar
            bars.append(
                Bar(
                    r.force_code,
                    self.names[r.force_code].name,
                    num(r, "force", self.force),
                    r.force_code == self.force,
                    None if r.value is not None else r.coverage,
                )
            )
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

    def figure_4(self) -> Block:
        ind = self.book.get("FIG-4")
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
                r = self.records.breakdown("FIG-4", self.force, key)
                label = labels.get(key, outcome[key].description)
                kind = "member"
                number_text = "" if key == "0" else key
            elif "group" in entry:
                key = entry["group"]
                r = self.records.breakdown("FIG-4", self.force, key)
                label = key
                kind = "group"
                number_text = "*" if entry.get("note") else ""
                if entry.get("note"):
                    members = [
                        o.description for o in reference.outcome_types() if o.figure_4_group == key
                    ]
                    footnote = "* Includes the following outcome types: " + ", ".join(members) + "."
            else:
                key = entry["total"]
                r = self.records.breakdown("FIG-4", self.force, key)
                label, kind, number_text = key, "total", ""
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
        charged = self.records.breakdown("FIG-4", self.force, "1")
        if charged is not None:
            notes += self.exclusion_notes(self.records.all_forces("FIG-4", charged.breakdown))
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
        first = self.record("FIN-5")
        return Figure(
            number=number,
            title="Proportion of outcomes assigned to offences recorded in the "
            f"{first.period}, by outcome type (percent)",
            indicator="FIG-4",
            table=table,
            chart=None,
            alt=f"Table of the share of offences recorded in the {first.period} by the outcome "
            f"assigned, for {self.names[self.force].name} and England and Wales.",
            notes=tuple(notes),
            source=self.source(ind),
            period=first.period,
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
            total = "Total offences assigned an outcome"
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

    def figure_8(self) -> Block:
        ind = self.book.get("FIG-8")
        number = self.next_figure()
        found = [
            (label, self.records.breakdown("FIG-8", self.force, key))
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
        first = self.records.breakdown("FIG-8", self.force, "1")
        period = first.period if first else ""
        records = self.records.all_forces("FIG-8", first.breakdown) if first else []
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
            indicator="FIG-8",
            table=table,
            chart=None,
            alt="Table of domestic abuse outcome rates for "
            f"{self.names[self.force].name} and England and Wales.",
            notes=(*self.exclusion_notes(records), glossary()["terms"]["not_comparable"]),
            source=self.source(ind),
            period=period,
            unit=ind.unit,
        )

    def figure_10(self) -> Block:
        ind = self.book.get("FIG-10")
        number = self.next_figure()
        mine = sorted(
            (
                r
                for (i, b, f, _), r in self.records.by_key.items()
                if i == "FIG-10" and f == self.force and b
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
        records = self.records.all_forces("FIG-10", mine[0].breakdown) if mine else []
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
            indicator="FIG-10",
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
        t = texts(self.cycle)
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
            blocks: list[Block] = [Paragraph((ind.annex,))]
            if applied:
                blocks.append(Items(tuple(Paragraph((a,)) for a in applied), role="comparison"))
            blocks += [Paragraph((c,), "note") for c in ind.caveats]
            s.children.append(
                Section(f"annex-{ind.id.lower()}", f"{ind.title} ({ind.id})", 2, blocks)
            )
        return s

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
    return Builder(records, judgments, cycle, label, code).build()
