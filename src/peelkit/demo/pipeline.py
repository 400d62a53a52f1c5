"""``peelkit demo``: write the demo dataset, load it through the real readers, compute every
indicator, and say where the Metropolitan Police stands against England and Wales."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from peelkit import display
from peelkit.demo.generate import MET, DemoSpec, write_demo
from peelkit.demo.sample import LABEL
from peelkit.indicators.catalogue import catalogue
from peelkit.indicators.engine import BenchmarkRecord
from peelkit.indicators.periods import for_cycle
from peelkit.ingest import IngestReport, ingest
from peelkit.service import compute_records
from peelkit.warehouse import data_labels, open_warehouse

STEPS = (
    "Writing the demo dataset",
    "Loading it into the warehouse",
    "Computing the indicators",
    "Writing the Metropolitan Police report",
    "Publishing the site",
)


@dataclass
class DemoResult:
    files: list[Path]
    report: IngestReport
    records: list[BenchmarkRecord]
    seconds: dict[str, float] = field(default_factory=dict)
    force_report: Path | None = None  # the Met's report (HTML; the PDF beside it)
    published: Path | None = None  # the site's bundle, when published


def run_demo(
    out: Path,
    warehouse: Path,
    spec: DemoSpec | None = None,
    step: Callable[[str], None] = lambda _: None,
    reports: Path | None = None,
    site: Path | None = None,
) -> DemoResult:
    """Write the dataset into ``out``, ingest it into ``warehouse`` (labelled as synthetic),
    compute every indicator of the 2016 cycle and, given ``reports``, write the Metropolitan
    Police's 2016 report there; given ``site``, publish what the site serves there (the
    records computed here, and the Met's report). ``step`` is told as each step starts."""
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    step(STEPS[0])
    files = write_demo(out, spec or DemoSpec())
    seconds["write"] = time.perf_counter() - started
    step(STEPS[1])
    con = open_warehouse(warehouse)
    try:
        report = ingest(con, [out], label=LABEL)
        seconds["ingest"] = time.perf_counter() - started - seconds["write"]
        step(STEPS[2])
        records = compute_records(con, for_cycle(2016))  # once: the Met's report uses them
        labels = data_labels(con)
    finally:
        con.close()
    seconds["indicators"] = time.perf_counter() - started - seconds["write"] - seconds["ingest"]
    force_report = None
    if reports is not None:
        step(STEPS[3])
        from peelkit.report.batch import render_records

        before = time.perf_counter()
        [rendered] = render_records(records, labels, [MET], reports, for_cycle(2016))
        force_report = rendered.files.html
        seconds["report"] = time.perf_counter() - before
    published = None
    if site is not None:
        step(STEPS[4])
        from peelkit.publish import publish

        before = time.perf_counter()
        met = [("2016", MET, force_report.parent)] if force_report is not None else []
        published = publish(
            warehouse, site, reports=False, computed={"2016": records}, rendered=met
        ).folder
        seconds["publish"] = time.perf_counter() - before
    seconds["total"] = time.perf_counter() - started
    return DemoResult(files, report, records, seconds, force_report, published)


@dataclass(frozen=True)
class SummaryRow:
    indicator: str
    title: str
    period: str
    force: str
    england_and_wales: str
    verdict: str
    rank: str


def met_summary(records: list[BenchmarkRecord]) -> list[SummaryRow]:
    """The Met's record of each indicator without rows, as the report would print it."""
    book = catalogue()
    rows = []
    for r in records:
        if r.force_code != MET or r.breakdown is not None:
            continue
        ind = book.get(r.indicator_id)
        rank = f"{r.rank} of {r.ranked}: {r.rank_verdict}" if r.rank is not None else ""
        rows.append(
            SummaryRow(
                indicator=ind.id,
                title=ind.title,
                period=r.period,
                force=_shown(r.value, ind.decimals, ind.unit),
                england_and_wales=_shown(r.england_and_wales, ind.decimals, ind.unit),
                verdict=r.verdict if r.value is not None else r.coverage,
                rank=rank,
            )
        )
    return rows


def _shown(value: float | None, decimals: int, unit: str) -> str:
    return display.figure_with_unit(value, decimals, unit)
