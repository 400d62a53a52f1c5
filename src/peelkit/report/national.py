"""The national overview (``peelkit national``): every force's grades by question, the
distribution of grades, and for each indicator the forces ranked with their benchmark verdicts.
Built, like a force report, as a document tree from judgments and benchmark records, and
rendered by the same template."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from peelkit import display, reference
from peelkit.indicators.catalogue import catalogue
from peelkit.indicators.engine import BenchmarkRecord
from peelkit.judgments import COUNTED, NOT_RECORDED, Judgments, question_set
from peelkit.report.build import Records, glossary, num
from peelkit.report.document import (
    Cell,
    Chart,
    Figure,
    Paragraph,
    Report,
    Row,
    Section,
    Table,
)

ENGLAND_AND_WALES = "E92000001"  # the ONS code of England and Wales


def build_national(
    records: Iterable[BenchmarkRecord],
    judgments: dict[str, Judgments],
    cycle: int = 2016,
    label: str | None = None,
) -> Report:
    records = list(records)
    index = Records(records)
    questions = question_set(cycle)
    names = reference.force_by_code()
    words = glossary()["grade"]
    forces = sorted(
        {f.code for f in reference.territorial_forces()} | set(judgments),
        key=lambda c: names[c].name,
    )

    def grade(code: str, number: int | None) -> str:
        j = judgments.get(code)
        if j is None:
            return NOT_RECORDED  # no judgments loaded for this force: never borrowed
        if number is None:
            return j.overall.grade
        q = j.question(number)
        return q.grade if q else NOT_RECORDED

    columns = [("Overall", None), *[(f"Q{q.number}", q.number) for q in questions.question]]
    grade_rows = tuple(
        Row((Cell(names[c].name, header=True), *(Cell(words[grade(c, n)]) for _, n in columns)))
        for c in forces
    )
    grades_table = Table(
        "grades-by-force",
        "Grades by force and question",
        ("Force", *(label_ for label_, _ in columns)),
        grade_rows,
    )
    counts = []
    for label_, n in columns:
        found = [grade(c, n) for c in forces]
        counts.append((label_, tuple((words[g], found.count(g)) for g in COUNTED)))
    distribution_rows = tuple(
        Row((Cell(words[g], header=True), *(Cell(str(dict(c)[words[g]])) for _, c in counts)))
        for g in COUNTED
    )
    distribution = Figure(
        number=1,
        title=f"Distribution of grades, PEEL {questions.pillar} {cycle} (number of forces)",
        indicator="grades",
        table=Table(
            "grade-distribution",
            "Grades",
            ("Grade", *(c for c, _ in counts)),
            distribution_rows,
            comparison=False,
        ),
        chart=Chart("stack", "number of forces", stack=tuple(counts)),
        alt="Stacked bar chart of the number of forces given each grade, overall and for each "
        "core question.",
        notes=(
            "Not recorded: the question grades of forces whose judgments peelkit holds only "
            "as a published overall grade.",
        ),
        source="Source: inspectors' judgments (peelkit judgments)",
        period=str(cycle),
        unit="number of forces",
    )
    key = Section(
        "questions",
        "The questions",
        2,
        [
            Paragraph((f"Q{q.number}: {q.text}" + ("" if q.graded else " (not graded)"),))
            for q in questions.question
        ],
    )
    unjudged = [c for c in forces if c not in judgments]
    said: list[Paragraph] = []
    if unjudged:
        said.append(
            Paragraph(
                (
                    "No inspectors' judgments were loaded for this cycle: every grade reads "
                    "'Not recorded'."
                    if len(unjudged) == len(forces)
                    else f"No inspectors' judgments were loaded for {len(unjudged)} of the "
                    f"{len(forces)} forces in this cycle: their grades read 'Not recorded'.",
                ),
                "missing",
            )
        )
    grades_section = Section(
        "grades", "Grades", 1, [*said, grades_table, distribution], [key], names_forces=True
    )
    indicator_sections = []
    book = catalogue()
    for ind in book.indicator:
        labels = {r.breakdown_key: r.breakdown for r in records if r.indicator_id == ind.id}
        rows_of = sorted(labels, key=lambda k: (k is not None, labels[k] or ""))
        blocks: list[Table | Paragraph] = [Paragraph((ind.annex,), "note")]
        for breakdown in rows_of:
            ranked = sorted(
                index.all_forces(ind.id, breakdown),
                key=lambda r: (r.rank is None, r.rank or 0, names[r.force_code].name),
            )
            if not ranked:
                continue
            first = ranked[0]
            table_rows = [
                Row(
                    (
                        Cell(""),
                        Cell("England and Wales", header=True),
                        Cell(num(first, "ew", ENGLAND_AND_WALES)),
                        Cell(""),
                        Cell(""),
                        Cell(""),
                    ),
                    "total",
                )
            ]
            for r in ranked:
                interval = (
                    display.interval(r.ci95.lower, r.ci95.upper, ind.decimals) if r.ci95 else ""
                )
                table_rows.append(
                    Row(
                        (
                            Cell(str(r.rank) if r.rank else ""),
                            Cell(names[r.force_code].name, header=True),
                            Cell(num(r, "force", r.force_code)),
                            Cell(interval),
                            Cell(r.verdict if r.value is not None else r.coverage),
                            Cell(r.rank_verdict or (r.note or "")),
                        )
                    )
                )
            title = ind.title + (f" — {labels[breakdown]}" if breakdown else "")
            blocks.append(
                Table(
                    f"{ind.id.lower()}-{len(blocks)}",
                    f"{title} ({ind.unit}), {first.period}",
                    (
                        "Rank",
                        "Force",
                        "Value",
                        "95% interval",
                        "Against England and Wales",
                        "Rank verdict / note",
                    ),
                    tuple(table_rows),
                )
            )
        indicator_sections.append(
            Section(
                f"indicator-{ind.id.lower()}",
                f"{ind.title} ({ind.id})",
                2,
                list(blocks),
                names_forces=True,
            )
        )
    indicators = Section(
        "indicators",
        "Indicators: forces ranked",
        1,
        [Paragraph((glossary()["terms"]["rank_rule"],))],
        indicator_sections,
        names_forces=True,
    )
    return Report(
        force=ENGLAND_AND_WALES,
        force_name="England and Wales",
        cycle=cycle,
        title=f"PEEL: Police {questions.pillar} {cycle}",
        subtitle="The national overview: the 43 forces of England and Wales",
        published="",
        label=label,
        sections=[grades_section, indicators],
    )


def write_national(report: Report, folder: Path, pdf: bool = True) -> Path:
    from peelkit.report.render import write_report

    files = write_report(report, folder, pdf=pdf, stem=f"peel-national-{report.cycle}")
    return files.html
