"""``peelkit report``: force reports for one force or all 43, from one computation.

The benchmark records are computed once (every force's report compares it with every other
force); each report is then built and rendered in its own process, the cores shared out."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from peelkit import reference
from peelkit.indicators.engine import BenchmarkRecord, compute
from peelkit.judgments import Judgments, default_judgments, load_folder
from peelkit.report.build import build_report
from peelkit.report.gaps import refuse_gaps
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
    report = build_report(
        records, judgments.get(force), cycle, label if isinstance(label, str) else None, force
    )
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
    allow_gaps: bool = False,
) -> list[Rendered]:
    """Write the reports of ``forces`` under ``out/<force>/``. Without ``allow_gaps``, refuse
    (saying what to load) when the warehouse lacks most of a report's data (report.gaps)."""
    con = open_read_only(warehouse)
    try:
        records = compute(con, cycle=cycle)
        labels = data_labels(con)
    finally:
        con.close()
    label = "; ".join(labels) or None
    if not allow_gaps:
        refuse_gaps(records, forces, cycle)
    if judgments_folder:
        judgments = load_folder(judgments_folder, cycle)
    else:
        judgments = default_judgments(cycle, labels)
    missing = [f for f in forces if f not in judgments] if judgments_folder else []
    if missing:
        names = ", ".join(reference.force_by_code()[f].name for f in missing)
        from peelkit.errors import InputError

        raise InputError(
            f"No judgments for {names} in {cycle}. Add a judgments file (docs/judgments.md) or "
            "a row in overall-grades.csv to the judgments folder."
        )
    _SHARED.update(records=records, judgments=judgments, out=out, cycle=cycle, label=label, pdf=pdf)
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
