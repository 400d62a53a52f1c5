"""``peelkit report``: force reports for one force or all 43, from one computation.

The benchmark records are computed once (every force's report compares it with every other
force); each report is then built and rendered in its own process, the cores shared out."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from peelkit import reference
from peelkit.indicators.engine import BenchmarkRecord, compute
from peelkit.indicators.periods import PeriodEnd, for_cycle, for_date
from peelkit.judgments import Judgments, demo_judgments, load_folder
from peelkit.report.build import build_profile, build_report
from peelkit.report.render import ReportFiles, write_report
from peelkit.warehouse import data_labels, open_read_only


@dataclass(frozen=True)
class Rendered:
    force: str
    files: ReportFiles
    seconds: float
    pages: int | None


_SHARED: dict[str, object] = {}


def _render_one(force: str) -> Rendered:
    started = time.perf_counter()
    records: list[BenchmarkRecord] = _SHARED["records"]  # type: ignore[assignment]
    judgments: dict[str, Judgments] = _SHARED["judgments"]  # type: ignore[assignment]
    out: Path = _SHARED["out"]  # type: ignore[assignment]
    cycle: int = _SHARED["cycle"]  # type: ignore[assignment]
    label = _SHARED["label"]
    when: PeriodEnd = _SHARED["when"]  # type: ignore[assignment]
    text = label if isinstance(label, str) else None
    if when.cycle is None:
        report = build_profile(records, force, when, text)
    else:
        report = build_report(records, judgments[force], cycle, text)
    folder = out / reference.force_by_code()[force].slug
    files = write_report(report, folder, pdf=bool(_SHARED["pdf"]))
    return Rendered(force, files, time.perf_counter() - started, files.pages)


def render_reports(
    warehouse: Path,
    forces: list[str],
    out: Path,
    cycle: int = 2016,
    judgments_folder: Path | None = None,
    pdf: bool = True,
    workers: int | None = None,
    done: Callable[[Rendered], None] = lambda _: None,
    period_end: date | None = None,
) -> list[Rendered]:
    """Write the reports of ``forces`` under ``out/<force>/``: for ``cycle``, or for the data to
    ``period_end`` (a data profile, unless it is a cycle's period end)."""
    when = for_date(period_end) if period_end is not None else for_cycle(cycle)
    cycle = when.cycle or cycle
    judgments: dict[str, Judgments] = {}
    if when.cycle is not None:
        judgments = (
            load_folder(judgments_folder, cycle) if judgments_folder else demo_judgments(cycle)
        )
    missing = [f for f in forces if when.cycle is not None and f not in judgments]
    if missing:
        names = ", ".join(reference.force_by_code()[f].name for f in missing)
        from peelkit.errors import InputError

        raise InputError(
            f"No judgments for {names} in {cycle}. Add a judgments file (docs/judgments.md) or "
            "a row in overall-grades.csv to the judgments folder."
        )
    con = open_read_only(warehouse)
    try:
        records = compute(con, period_end=when.end)
        label = "; ".join(data_labels(con)) or None
    finally:
        con.close()
    _SHARED.update(
        records=records, judgments=judgments, out=out, cycle=cycle, label=label, pdf=pdf, when=when
    )
    results: list[Rendered] = []
    workers = workers or min(len(forces), os.cpu_count() or 1)
    if workers <= 1 or len(forces) == 1:
        for force in forces:
            results.append(_render_one(force))
            done(results[-1])
        return results
    with ProcessPoolExecutor(max_workers=workers) as pool:  # forked: the records are inherited
        for rendered in pool.map(_render_one, forces):
            results.append(rendered)
            done(rendered)
    return results
