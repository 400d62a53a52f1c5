"""What peelkit does, for every interface: the command line, and the site and its API.

An interface parses what the user asked, calls these functions and presents what they return;
it never queries the warehouse or computes a statistic itself. Each function does its work
once: the benchmark records of a period are computed by ``compute_records`` — the one caller
of the indicator engine — once per request, and handed on to whatever renders them (a table,
a report, an explanation). Only ``check_report`` computes again, on purpose: it compares a
rendered report with freshly computed records.

Arguments are checked here, in the same words everywhere: a force by any of its names
(``force_code``), a cycle or a quarter end (``period``), indicator ids (``indicator_ids``). A
value that cannot be used raises ``BadArgument`` naming the argument by its domain name
(``force``, ``period_end``, ``indicator``, ``source``, ``row``); an interface says it in its
own terms (``--period-end`` on the command line, a query parameter on the API).

Heavy libraries (Ibis, matplotlib, WeasyPrint) are imported inside the functions that need
them, so an interface starts fast.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from peelkit import reference
from peelkit.errors import InputError, UnknownForce
from peelkit.indicators.periods import PeriodEnd, for_cycle, for_date
from peelkit.warehouse import DEFAULT_PATH, Waiting

if TYPE_CHECKING:
    import duckdb

    from peelkit.coverage import Coverage
    from peelkit.demo.generate import DemoSpec
    from peelkit.demo.pipeline import DemoResult
    from peelkit.indicators.engine import BenchmarkRecord
    from peelkit.indicators.explain import Explanation
    from peelkit.ingest import IngestReport, Progress
    from peelkit.judgments import Judgments
    from peelkit.report.batch import Rendered


class BadArgument(InputError):
    """A value the user gave that cannot be used; ``param`` is the argument's domain name."""

    def __init__(self, message: str, *, param: str) -> None:
        super().__init__(message)
        self.param = param


# -- arguments, the same everywhere ---------------------------------------------------------


def force_code(name: str, param: str = "force") -> str:
    """The code of the force ``name`` names: an ONS code, a police.uk id or any spelling."""
    try:
        return reference.force_named(name, param)
    except UnknownForce as exc:
        raise BadArgument(str(exc).removeprefix(f"{param} "), param=param) from exc


def period(cycle: int = 2016, period_end: str | date | None = None) -> PeriodEnd:
    """A cycle peelkit knows, or the data to a quarter end (which wins when given); a cycle
    or a date that is not a quarter end is an UnknownPeriod saying which are."""
    if period_end is None:
        return for_cycle(cycle)
    if isinstance(period_end, str):
        try:
            period_end = date.fromisoformat(period_end)
        except ValueError as exc:
            raise BadArgument(
                f"{period_end!r} is not a date; give a quarter end as YYYY-MM-DD, e.g. 2018-03-31",
                param="period_end",
            ) from exc
    return for_date(period_end)


def indicator_ids(ids: Iterable[str] | None) -> list[str] | None:
    """The given indicator ids, each checked against the catalogue; None for all."""
    from peelkit.indicators.catalogue import catalogue

    wanted = list(ids or [])
    known = {i.id for i in catalogue().indicator}
    unknown = [i for i in wanted if i not in known]
    if unknown:
        raise BadArgument(
            f"{', '.join(unknown)} not in the catalogue; see 'peelkit indicators list'",
            param="indicator",
        )
    return wanted or None


# -- the warehouse --------------------------------------------------------------------------


@contextmanager
def reading(
    warehouse: Path = DEFAULT_PATH, on_wait: Waiting | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """The warehouse open read-only for the block (``on_wait`` is told once when another
    process holds it and the call waits)."""
    from peelkit.warehouse import reading as open_reading

    with open_reading(warehouse, on_wait=on_wait) as con:
        yield con


def ingest(
    warehouse: Path,
    paths: Sequence[Path],
    *,
    strict: bool = False,
    force: str | None = None,
    label: str | None = None,
    accept_damaged: bool = False,
    progress: Progress | None = None,
    on_wait: Waiting | None = None,
) -> IngestReport:
    """Load files, folders and zip archives into the warehouse (created if needed): all of
    them, or none. A full disk or a read-only file is a WarehouseError in words."""
    from peelkit import ingest as loading
    from peelkit.warehouse import open_warehouse, storage_errors

    with storage_errors(warehouse):
        con = open_warehouse(warehouse, on_wait=on_wait)
        try:
            return loading.ingest(
                con,
                paths,
                strict=strict,
                force=force,
                progress=progress or loading.no_progress,
                label=label,
                accept_damaged=accept_damaged,
            )
        finally:
            con.close()


def coverage(
    con: duckdb.DuckDBPyConnection, force: str | None = None, source: str | None = None
) -> Coverage:
    """Per force, period and source: present, partial or absent, and why; with the
    plausibility rules' findings. ``source`` must be one the warehouse holds."""
    from peelkit.coverage import read_coverage

    code = force_code(force) if force else None
    found = read_coverage(con, code)
    if source and source not in found.sources:
        raise BadArgument(
            f"{source!r} is not a source in this warehouse; it has: "
            + (", ".join(found.sources) or "nothing yet (peelkit ingest loads files)"),
            param="source",
        )
    return read_coverage(con, code, source) if source else found


# -- benchmark records ----------------------------------------------------------------------


def compute_records(
    con: duckdb.DuckDBPyConnection,
    when: PeriodEnd,
    indicator_ids: list[str] | None = None,
    backend: str = "duckdb",
) -> list[BenchmarkRecord]:
    """Every force's benchmark records for the data to ``when``: the one place the indicator
    engine is run (tests count the calls: once per command)."""
    from peelkit.indicators import engine

    if backend not in ("duckdb", "pyspark"):
        raise BadArgument("choose duckdb or pyspark", param="backend")
    return engine.compute(con, period_end=when.end, indicator_ids=indicator_ids, backend=backend)


@dataclass(frozen=True)
class Records:
    """Benchmark records computed once for a period, with the warehouse's data labels."""

    when: PeriodEnd
    records: list[BenchmarkRecord]
    labels: tuple[str, ...]

    @property
    def label(self) -> str | None:
        return "; ".join(self.labels) or None


def records(
    warehouse: Path,
    when: PeriodEnd,
    indicator_ids: list[str] | None = None,
    backend: str = "duckdb",
    on_wait: Waiting | None = None,
) -> Records:
    """The records of every force for ``when`` (the warehouse is closed before returning)."""
    from peelkit.warehouse import data_labels

    with reading(warehouse, on_wait) as con:
        computed = compute_records(con, when, indicator_ids, backend)
        return Records(when, computed, data_labels(con))


def explain(
    con: duckdb.DuckDBPyConnection,
    force: str,
    indicator: str,
    period: str | int | PeriodEnd = 2016,
    row: str | None = None,
    sql: bool = False,
) -> Explanation:
    """How one figure was made: the numbers, the rule, the forces left out, the source files
    (and with ``sql`` the queries that reproduce it). ``period`` is a cycle, a quarter end or
    a period exactly as a record names it ('12 months to 30 June 2014')."""
    from peelkit.indicators import explain as explaining

    indicator_ids([indicator])
    code = force_code(force)
    when, label = explaining.resolve_period(indicator, period)
    computed = compute_records(con, when, [indicator])
    try:
        return explaining.explain(con, computed, code, indicator, when, label, row, sql=sql)
    except explaining.NoSuchFigure as exc:
        raise BadArgument(str(exc), param=exc.param) from exc


# -- judgments and reports ------------------------------------------------------------------


def judgments(cycle: int, folder: Path | None, labels: Iterable[str] = ()) -> dict[str, Judgments]:
    """The inspectors' judgments of ``cycle``: from ``folder``, else the demo's on a warehouse
    holding the demo dataset (by its data labels), else none."""
    from peelkit.judgments import default_judgments, load_folder

    return load_folder(folder, cycle) if folder else default_judgments(cycle, labels)


def reports(
    warehouse: Path,
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
    on_wait: Waiting | None = None,
) -> list[Rendered]:
    """Write the reports of ``forces`` under ``out/<force>/`` for ``when`` (a cycle's inspection
    report, or a data profile): the records are computed once, the warehouse closed, and the
    reports rendered from them (report/batch.py)."""
    from peelkit.report.batch import render_records

    computed = records(warehouse, when, on_wait=on_wait)
    return render_records(
        computed.records,
        computed.labels,
        forces,
        out,
        when,
        judgments_folder=judgments_folder,
        pdf=pdf,
        workers=workers,
        done=done,
        rebuild=rebuild,
        allow_gaps=allow_gaps,
        start_method=start_method,
    )


def national(
    warehouse: Path,
    when: PeriodEnd,
    out: Path,
    judgments_folder: Path | None = None,
    pdf: bool = True,
    on_wait: Waiting | None = None,
) -> Path:
    """Write the national overview of a cycle (HTML, and the PDF with ``pdf``); its page."""
    from peelkit.report.national import build_national, write_national

    if when.cycle is None:
        raise BadArgument("the national overview is of a cycle", param="cycle")
    computed = records(warehouse, when, on_wait=on_wait)
    found = judgments(when.cycle, judgments_folder, computed.labels)
    page = build_national(computed.records, found, when.cycle, computed.label)
    return write_national(page, out, pdf=pdf)


def check_report(
    target: Path, warehouse: Path = DEFAULT_PATH, on_wait: Waiting | None = None
) -> list[str]:
    """A rendered report (its folder or HTML file) checked against records computed afresh
    — on purpose, the one place records are computed a second time — for the period the report
    says it shows: every problem found, none when it agrees with its data."""
    from peelkit.report.check import check_report as check

    with reading(warehouse, on_wait) as con:
        cache: dict[date, list[BenchmarkRecord]] = {}

        def fresh(end: date) -> list[BenchmarkRecord]:
            if end not in cache:
                cache[end] = compute_records(con, for_date(end))
            return cache[end]

        return check(target, fresh)


# -- the demo -------------------------------------------------------------------------------


def demo(
    out: Path,
    warehouse: Path,
    spec: DemoSpec | None = None,
    step: Callable[[str], None] = lambda _: None,
    reports_folder: Path | None = None,
    site: Path | None = None,
) -> DemoResult:
    """Write the demo dataset, load it, compute the 2016 records once and, given
    ``reports_folder``, render the Metropolitan Police's report from them; given ``site``,
    publish them for the site."""
    from peelkit.demo.pipeline import run_demo
    from peelkit.warehouse import storage_errors

    with storage_errors(warehouse):
        return run_demo(out, warehouse, spec, step, reports_folder, site)


def query(
    warehouse: Path, sql: str, on_wait: Waiting | None = None
) -> tuple[list[str], Iterator[list[tuple[Any, ...]]]]:
    """One read-only SQL statement: its column names and its rows in batches (the warehouse
    is closed once the batches are consumed)."""
    from peelkit.warehouse import open_for_query, run_query

    con = open_for_query(warehouse, on_wait=on_wait)
    try:
        columns, batches = run_query(con, sql)
    except BaseException:
        con.close()
        raise

    def rows() -> Iterator[list[tuple[Any, ...]]]:
        try:
            yield from batches
        finally:
            con.close()

    return columns, rows()
