"""Force reports for one force or all 43, from records computed once.

The benchmark records are computed once by the caller (``peelkit.service.reports``: every
force's report compares it with every other force) and handed here; each report is then built
and rendered in its own process, the cores shared out."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from peelkit import reference
from peelkit.indicators.engine import BenchmarkRecord
from peelkit.indicators.periods import PeriodEnd
from peelkit.judgments import Judgments, default_judgments, load_folder
from peelkit.report import cache
from peelkit.report.build import build_profile, build_report
from peelkit.report.gaps import refuse_gaps
from peelkit.report.render import ReportFiles, write_report


@dataclass(frozen=True)
class Rendered:
    force: str
    files: ReportFiles
    seconds: float
    pages: int | None
    unchanged: bool = False  # its inputs and files were as before: not made again


@dataclass(frozen=True)
class _Work:
    """What every report of one run is made from, handed to each worker process explicitly
    (never through module state, so that any start method works)."""

    records: list[BenchmarkRecord]
    judgments: dict[str, Judgments]
    out: Path
    when: PeriodEnd
    label: str | None
    pdf: bool
    records_digest: str
    rebuild: bool


_WORK: list[_Work] = []  # the run's work in this process, set by _start


def _start(work: _Work) -> None:
    _WORK[:] = [work]


def _render_one(force: str) -> Rendered:
    started = time.perf_counter()
    work = _WORK[0]
    folder = work.out / reference.force_by_code()[force].slug
    judged = work.judgments.get(force)
    digest = cache.inputs_digest(
        [
            work.records_digest,
            judged.model_dump_json() if judged else "no judgments",
            work.label or "",
            str(work.pdf),
            work.when.end.isoformat(),
        ]
    )
    if not work.rebuild:
        kept = cache.unchanged(folder, digest)
        if kept is not None:
            return Rendered(force, kept, time.perf_counter() - started, kept.pages, True)
    if work.when.cycle is None:
        report = build_profile(work.records, force, work.when, work.label)
    else:
        report = build_report(work.records, judged, work.when.cycle, work.label, force)
    files = write_report(report, folder, pdf=work.pdf)
    cache.record(folder, digest, files)
    return Rendered(force, files, time.perf_counter() - started, files.pages)


def _records_digest(records: list[BenchmarkRecord]) -> str:
    rows = [r.as_row() for r in records]
    return hashlib.sha256(json.dumps(rows, sort_keys=True, default=str).encode()).hexdigest()


def render_records(
    records: list[BenchmarkRecord],
    labels: tuple[str, ...],
    forces: list[str],
    out: Path,
    when: PeriodEnd,
    *,
    judgments_folder: Path | None = None,
    pdf: bool = True,
    workers: int | None = None,
    done: Callable[[Rendered], None] = lambda _: None,
    rebuild: bool = False,
    allow_gaps: bool = False,
    start_method: str | None = None,
) -> list[Rendered]:
    """The reports of ``forces`` from records already computed for ``when`` (every force's:
    reports compare forces) and the warehouse's data labels: under ``out/<force>/``, skipping
    a report whose inputs are unchanged unless ``rebuild``. Without ``allow_gaps``, refuse (saying
    what to load) when the records lack most of a report's data (report.gaps). ``start_method``
    (fork, forkserver or spawn; the platform's default when None) is how worker processes start:
    each is handed the run's work explicitly."""
    label = "; ".join(labels) or None
    if not allow_gaps:
        refuse_gaps(records, forces, when.title)
    judgments: dict[str, Judgments] = {}
    if when.cycle is not None:
        if judgments_folder:
            judgments = load_folder(judgments_folder, when.cycle)
        else:
            judgments = default_judgments(when.cycle, labels)
    missing = [f for f in forces if f not in judgments] if judgments_folder and when.cycle else []
    if missing:
        names = ", ".join(reference.force_by_code()[f].name for f in missing)
        from peelkit.errors import InputError

        raise InputError(
            f"No judgments for {names} in {when.cycle}. Add a judgments file (docs/judgments.md) "
            "or a row in overall-grades.csv to the judgments folder."
        )
    work = _Work(records, judgments, out, when, label, pdf, _records_digest(records), rebuild)
    results: list[Rendered] = []
    workers = workers or min(len(forces), os.cpu_count() or 1)
    if workers <= 1 or len(forces) == 1:
        _start(work)
        for force in forces:
            results.append(_render_one(force))
            done(results[-1])
        return results
    context = multiprocessing.get_context(start_method) if start_method else None
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_start, initargs=(work,)
    ) as pool:
        for rendered in pool.map(_render_one, forces):
            results.append(rendered)
            done(rendered)
    return results
