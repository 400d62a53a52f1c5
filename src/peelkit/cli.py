"""The peelkit command: ingest, coverage, query, forces, formats, indicators, explain,
judgments, report, national and demo. It parses arguments, calls the library and presents
the results through ``peelkit.present``; the work is done by the library."""

from __future__ import annotations

import contextlib
import csv
import sys
import time
from contextlib import AbstractContextManager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from peelkit import reference
from peelkit.errors import PeelkitError, UnknownForce
from peelkit.indicators.periods import (
    PeriodEnd,
    consecutive,
    for_cycle,
    for_date,
    quarters_text,
)
from peelkit.present import (
    RENDERERS,
    columns,
    console,
    err,
    real_console,
    rich_table,
    wrapped,
    write_records,
)
from peelkit.warehouse import DEFAULT_PATH, reading

# Commands start fast: the libraries a command needs (DuckDB, Arrow, Ibis, scipy, matplotlib,
# WeasyPrint, the demo generator) are imported inside it, never here (tests/test_cli_startup.py
# checks).
if TYPE_CHECKING:
    import duckdb
    from rich.progress import TaskID

    from peelkit.ingest import IngestReport
    from peelkit.report.batch import Rendered

app = typer.Typer(
    help="PEEL police effectiveness indicators from official police data for England and Wales.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
WarehouseOpt = Annotated[Path, typer.Option("--warehouse", "-w", help="The DuckDB warehouse file.")]


def main() -> None:
    try:
        app()
    except PeelkitError as exc:
        from rich.markup import escape

        # escaped: a message quoting SQL or a file ("[1, 2]", "[/]") is text, not Rich markup
        err.print(f"[bold red]Error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        sys.exit(1)


def _waiting(message: str) -> None:
    """Said once when the warehouse is held by another process and the command waits."""
    err.print(message, highlight=False, markup=False, soft_wrap=True)


class _PlainProgress:
    """Bytes checksummed and loaded as plain lines on standard error, for a log or a pipe (no
    rich to import: the ingest command's own start-up counts in its speed)."""

    def __init__(self) -> None:
        self.bar = contextlib.nullcontext()
        self.totals: dict[str, int] = {}
        self.done: dict[str, int] = {}
        self.next_report = 0.0

    def __call__(self, event: str, amount: int, label: str) -> None:
        phase = event.removesuffix("-total")
        if event.endswith("-total"):
            self.totals[phase], self.done[phase] = amount, 0
            title = "Checksums" if phase == "hash" else "Loading"
            print(f"{title}: {amount:,} bytes", file=sys.stderr)
            return
        self.done[phase] = self.done.get(phase, 0) + amount
        if phase == "load":
            share = self.done[phase] / max(self.totals.get(phase, 0), 1)
            if share >= self.next_report or share >= 1.0:
                print(f"loaded {share:.0%} of the bytes, up to {label}", file=sys.stderr)
                self.next_report = share + 0.05


class _RichProgress:
    """Bytes checksummed and loaded, as two bars on a terminal (_PlainProgress elsewhere)."""

    def __init__(self) -> None:
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TransferSpeedColumn,
        )

        self.bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeElapsedColumn(),
            console=real_console(err),
        )
        self.tasks: dict[str, TaskID] = {}

    def __call__(self, event: str, amount: int, label: str) -> None:
        phase = event.removesuffix("-total")
        if event.endswith("-total"):
            title = "Checksums" if phase == "hash" else "Loading"
            self.tasks[phase] = self.bar.add_task(title, total=amount)
        else:
            self.bar.advance(self.tasks[phase], amount)


@app.command("ingest")
def ingest_command(
    paths: Annotated[
        list[Path], typer.Argument(help="Files, folders or zip archives, in any mix.")
    ],
    warehouse: WarehouseOpt = DEFAULT_PATH,
    strict: Annotated[
        bool, typer.Option(help="Fail the whole load if any row is rejected.")
    ] = False,
    force: Annotated[
        str | None,
        typer.Option(
            help="The force of files that do not say (e.g. a renamed stop-and-search file)."
        ),
    ] = None,
    label: Annotated[
        str | None,
        typer.Option(
            help="A label for these files that every output computed from them will carry "
            "(e.g. 'synthetic test data')."
        ),
    ] = None,
    accept_damaged: Annotated[
        bool,
        typer.Option(
            help="Load the complete rows of damaged files (cut short, or with rows of another "
            "month) instead of refusing them; coverage and every figure then say so."
        ),
    ] = False,
) -> None:
    """Load source files into the warehouse: all of them, or none."""
    from peelkit.ingest import ingest
    from peelkit.warehouse import open_warehouse, storage_errors

    # a full disk or a read-only file, in open_warehouse or at the ingest's COMMIT, is said
    # in words (the transaction is not committed, so the warehouse is as it was)
    with storage_errors(warehouse):
        con = open_warehouse(warehouse, on_wait=_waiting)
        try:
            progress = _RichProgress() if sys.stderr.isatty() else _PlainProgress()
            with progress.bar:
                report = ingest(
                    con,
                    paths,
                    strict=strict,
                    force=force,
                    progress=progress,
                    label=label,
                    accept_damaged=accept_damaged,
                )
        finally:
            con.close()
    _print_report(report)


def _print_report(report: IngestReport) -> None:
    """The ingest's summary: a table on a terminal; plain lines in a log or a pipe, where no
    rich is imported (the command's own start-up counts in its speed)."""
    plain = not sys.stdout.isatty()
    header = ("kind", "files", "rows read", "loaded", "rejected", "already loaded")
    rows: list[tuple[str, ...]] = []
    for kind in sorted({f.kind for f in report.files}):
        mine = [f for f in report.files if f.kind == kind]
        loaded = [f for f in mine if f.status == "loaded"]
        rows.append(
            (
                kind,
                f"{len(mine):,}",
                f"{sum(f.rows_read for f in loaded):,}",
                f"{sum(f.rows_loaded for f in loaded):,}",
                f"{sum(f.rows_rejected for f in loaded):,}",
                f"{len(mine) - len(loaded):,}",
            )
        )
    title = f"Ingest into the warehouse ({report.seconds:.1f} s)"
    if plain:
        print(title)
        print(columns(header, rows, right=(1, 2, 3, 4, 5)))
    else:
        table = rich_table(title=title)
        for n, column in enumerate(header):
            table.add_column(column, justify="left" if n == 0 else "right")
        for row in rows:
            table.add_row(*row)
        console.print(table)

    def say(text: str, marked: str = "") -> None:
        """A line; ``marked`` (e.g. 'warning:') is coloured on a terminal."""
        if plain:
            print(f"{marked} {text}" if marked else text)
        else:
            head = f"[yellow]{marked}[/] " if marked else ""
            console.print(head + _escape(text), highlight=False)

    for empty in report.empty:
        say(f"{empty.display}: 0 rows (a header and no data rows).", "warning:")
    for damaged in (f for f in report.loaded if f.damage):
        say(
            f"{damaged.display}: {damaged.damage}. Its complete rows are loaded "
            "(--accept-damaged); coverage shows its periods as partial.",
            "damaged:",
        )
    if report.replaced:
        say(
            f"{len(report.replaced)} force-period(s) published again replace their earlier "
            "loads (the latest load wins), e.g.:"
        )
        force_names = {f.code: f.name for f in reference.forces()}
        for source, force_code, period, earlier, later in report.replaced[:5]:
            say(
                f"  {source}, {force_names.get(force_code, force_code)}, {period}: load {later} "
                f"replaces load {earlier}"
            )
    if report.passed_over:
        shown = ", ".join(report.passed_over[:8]) + (" …" if len(report.passed_over) > 8 else "")
        say(f"Skipped {len(report.passed_over)} file(s) in the folders that are not data: {shown}")
    if report.skipped:
        say(
            f"{len(report.skipped)} file(s) were already in the warehouse (same sha256): "
            "nothing was loaded again."
        )
    if report.rejects:
        say(f"{len(report.rejects)} rejected row(s) are in the table rejected_rows, e.g.:")
        names = {f.load_id: f.display for f in report.files}
        for r in report.rejects[:5]:
            say(
                f"  {names.get(r.load_id, r.load_id)}, line {r.line}, "
                f"field {r.field or '(whole line)'}: {r.reason}"
            )


def _escape(text: str) -> str:
    """Text printed through rich as it is (no [markup] read in file names or reasons)."""
    return text.replace("[", "\\[")


@app.command("coverage")
def coverage_command(
    warehouse: WarehouseOpt = DEFAULT_PATH,
    force: Annotated[
        str | None, typer.Option(help="One force: code, police.uk id or name.")
    ] = None,
    source: Annotated[str | None, typer.Option(help="One source, e.g. police_uk_street.")] = None,
    all_rows: Annotated[
        bool, typer.Option("--all", help="List every force-period, not only the gaps.")
    ] = False,
) -> None:
    """Per force, period and source: present, partial or absent, and why. By default the gaps
    are summarised per force and source; --all lists every force-period."""
    with _reading(warehouse) as con:
        # the view is computed once: every force-period of it, filtered and grouped here
        rows = con.execute(
            "SELECT source, force_code, force_name, period, period_start, period_kind, status, "
            "reason FROM coverage ORDER BY source, force_name, period_start"
        ).fetchall()
        findings = _findings(con)
    sources = sorted({r[0] for r in rows})
    if source and source not in sources:
        raise typer.BadParameter(
            f"{source!r} is not a source in this warehouse; it has: "
            + (", ".join(sources) or "nothing yet (peelkit ingest loads files)"),
            param_hint="--source",
        )
    code = _force_code(force, "--force") if force else None
    rows = [r for r in rows if (not source or r[0] == source) and (not code or r[1] == code)]
    # Plain aligned text, never truncated: a source name or period cut short ("data_return:
    # domest…") is no use, and plain lines are quick to print and to grep.
    names = sorted({r[0] for r in rows})
    counted = []
    for name in names:
        mine = [r for r in rows if r[0] == name]
        counts = [sum(r[6] == status for r in mine) for status in ("present", "partial", "absent")]
        counted.append((name, len({r[3] for r in mine}), *counts))
    print("Coverage: force × period per source")
    print(
        columns(
            ("source", "periods", "present", "partial", "absent"),
            [(n, *(f"{c:,}" for c in cs)) for n, *cs in counted],
            right=(1, 2, 3, 4),
        )
    )
    if not source and not force:
        _print_sources_not_loaded(set(sources))
    if all_rows:
        print("\nEvery force-period")
        print(
            columns(
                ("source", "force", "period", "status", "reason"),
                [(r[0], r[2], r[3], r[6], r[7] or "") for r in rows],
            )
        )
        _print_findings(findings, source, code, all_rows)
        return
    # one force's gap: its periods of one source with the same status and reason ...
    runs: dict[tuple[str, str, str, str, str], list[tuple[date, str]]] = {}
    for src, _, force_name, period, start, kind, status, reason in rows:
        if status != "present":
            runs.setdefault((src, status, reason or "", kind, force_name), []).append(
                (start, period)
            )
    if not runs:
        print("\nNo gaps: every period of every source is present.")
        _print_findings(findings, source, code, all_rows)
        return
    # ... and forces with the same gap (source, periods and reason) share an entry
    same: dict[tuple[str, str, str, str], list[str]] = {}
    for (src, status, reason, kind, force_name), got in runs.items():
        periods_text = _runs(kind, [g[0] for g in got], [g[1] for g in got])
        same.setdefault((src, status, periods_text, reason), []).append(force_name)
    territorial = [f.name for f in reference.territorial_forces()]
    print("\nGaps, per source (--all lists every force-period)")
    shown = None
    for (src, status, periods_text, reason), force_names in sorted(same.items()):
        if src != shown:
            print(f"\n{src}")
            shown = src
        print(wrapped(f"{status} {periods_text}: {reason}", indent=2))
        print(wrapped(_forces_text(force_names, territorial), indent=6))
    _print_findings(findings, source, code, all_rows)


#: How many findings of one rule and source ``coverage`` lists before summarising the rest.
FINDINGS_SHOWN = 5


def _findings(con: duckdb.DuckDBPyConnection) -> list[tuple[Any, ...]] | None:
    """Every finding of the plausibility rules with its force's name and its file(s); None for
    a warehouse made before the rules (it has no findings table)."""
    exists = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'findings'"
    ).fetchone()
    if not exists or exists[0] == 0:
        return None
    return con.execute(
        """
        SELECT f.source, f.rule, coalesce(fo.name, f.force_code), f.force_code, f.period,
               f.load_id, l.path || coalesce('!' || l.member, ''), f.other_load_id,
               o.path || coalesce('!' || o.member, ''), f.detail
        FROM findings AS f
        LEFT JOIN forces AS fo ON fo.code = f.force_code
        LEFT JOIN loads AS l ON l.load_id = f.load_id
        LEFT JOIN loads AS o ON o.load_id = f.other_load_id
        ORDER BY f.source, f.rule, 3, f.period_start, f.load_id, f.other_load_id, f.detail
        """
    ).fetchall()


def _print_findings(
    findings: list[tuple[Any, ...]] | None, source: str | None, code: str | None, every: bool
) -> None:
    """The plausibility rules' findings, per source and rule: each names the force, the period,
    the detail and the file(s); more than a few of one rule are summarised unless ``every``."""
    from peelkit.plausibility import rules

    if findings is None:
        print(
            "\nFindings: none recorded; this warehouse was made before peelkit checked "
            "plausibility (files loaded from now on are checked)."
        )
        return
    findings = [
        f for f in findings if (not source or f[0] == source) and (not code or f[3] == code)
    ]
    if not findings:
        print("\nFindings: none; the plausibility rules flagged nothing in the loaded files.")
        return
    titles = rules().titles()
    print(
        "\nFindings of the plausibility rules, per source (the rows are used as loaded"
        + ("" if every else "; --all lists every finding")
        + ")"
    )
    groups: dict[tuple[str, str], list[tuple[Any, ...]]] = {}
    for f in findings:
        groups.setdefault((f[0], f[1]), []).append(f)
    shown = None
    for (src, rule), mine in groups.items():
        if src != shown:
            print(f"\n{src}")
            shown = src
        print(wrapped(f"{rule}: {titles.get(rule, rule)} ({len(mine)})", indent=2))
        for _, _, force_name, _, period, load_id, path, other_id, other, detail in (
            mine if every else mine[:FINDINGS_SHOWN]
        ):
            print(wrapped(f"{force_name}, {period}: {detail}", indent=4))
            print(f"      load {load_id}: {path}")
            if other_id is not None:
                print(f"      load {other_id}: {other}")
        if not every and len(mine) > FINDINGS_SHOWN:
            rest = mine[FINDINGS_SHOWN:]
            forces = sorted({f[2] for f in rest})
            print(
                wrapped(
                    f"… and {len(rest)} more, of {_forces_text(forces, [])}, "
                    f"{rest[0][4]} to {rest[-1][4]}",
                    indent=4,
                )
            )


def _forces_text(names: list[str], territorial: list[str]) -> str:
    """Forces as a short phrase: the names, or 'N forces: all but …' when most are there."""
    if len(names) <= 4:
        return "; ".join(names)
    others = [t for t in territorial if t not in names]
    if len(names) + len(others) == len(territorial) and len(others) <= 4:
        return f"{len(names)} forces: all but " + "; ".join(others) if others else "all 43"
    return f"{len(names)} forces: " + "; ".join(names)


def _print_sources_not_loaded(sources: set[str]) -> None:
    """The indicators' sources of which nothing at all is loaded, and what to load."""
    from peelkit.indicators.gaps import TO_LOAD

    absent = [s for s in TO_LOAD if s not in sources and not any(x.startswith(s) for x in sources)]
    if "data_returns" in absent and any(x.startswith("data_return:") for x in sources):
        absent.remove("data_returns")
    for name in absent:
        print(wrapped(f"{name}: nothing loaded for any force; load {TO_LOAD[name]}.", indent=0))


def _runs(kind: str, starts: list[date], periods: list[str]) -> str:
    """Consecutive months, quarters or years shown as one run: '2016/17 Q1–Q4', '2016-01 to
    2016-06', 'mid-2012 to mid-2014'."""
    if kind == "quarter":
        return quarters_text(starts)
    step = {"month": 1, "year": 12}.get(kind)
    if step is None:
        return ", ".join(periods)
    name = dict(zip(starts, periods, strict=True))
    return ", ".join(
        name[r[0]] if len(r) == 1 else f"{name[r[0]]} to {name[r[-1]]}"
        for r in consecutive(starts, step)
    )


def _reading(path: Path) -> AbstractContextManager[duckdb.DuckDBPyConnection]:
    """The warehouse open read-only, saying so while another process holds it."""
    return reading(path, on_wait=_waiting)


@app.command("query")
def query_command(
    sql: Annotated[str, typer.Argument(help="One SQL statement; the result is written as CSV.")],
    warehouse: WarehouseOpt = DEFAULT_PATH,
) -> None:
    """Run one read-only SQL statement against the warehouse and write CSV to standard output.
    The SQL cannot change the warehouse, read or write other files, attach databases, load
    extensions or reach the network."""
    from peelkit.warehouse import open_for_query, run_query

    con = open_for_query(warehouse, on_wait=_waiting)
    try:
        columns, batches = run_query(con, sql)
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        for rows in batches:
            writer.writerows(rows)
    finally:
        con.close()


@app.command("forces")
def forces_command() -> None:
    """The forces and other bodies peelkit knows, with codes, police.uk ids and name spellings."""
    aliases: dict[str, list[str]] = {}
    for alias, code, _ in reference.force_alias_rows():
        aliases.setdefault(code, []).append(alias)
    forces = reference.forces()
    width = max(len(f.name) for f in forces) + 2
    slug_width = max(len(f.slug) for f in forces) + 2
    # plain lines: no rich to import, and nothing to strip when piped
    print(f"{'code':<13}{'name':<{width}}{'police.uk id':<{slug_width}}kind")
    for f in forces:
        print(f"{f.code:<13}{f.name:<{width}}{f.slug:<{slug_width}}{f.kind}")
        others = [a for a in aliases.get(f.code, []) if a != f.name]
        if others:
            print(wrapped("also in the sources: " + "; ".join(others), indent=13))


@app.command("formats")
def formats_command() -> None:
    """Every source format peelkit reads, with the exact header it expects."""
    from peelkit.readers import all_formats

    print("Source formats (files are recognised by their header):")
    for fmt in all_formats():
        print(f"\n{fmt.kind}: {fmt.title}")
        # the header whole, on one line, to compare or copy (never wrapped)
        print(f"  {fmt.expected()}")


indicators_app = typer.Typer(help="The PEEL indicators: benchmark records, and the catalogue.")
app.add_typer(indicators_app, name="indicators")

FORMATS = tuple(RENDERERS)


@indicators_app.callback(invoke_without_command=True)
def indicators_command(
    ctx: typer.Context,
    warehouse: WarehouseOpt = DEFAULT_PATH,
    force: Annotated[
        str | None, typer.Option(help="One force: code, police.uk id or name.")
    ] = None,
    indicator: Annotated[
        list[str] | None, typer.Option(help="Indicator id(s), e.g. FIN-2 (default: all).")
    ] = None,
    cycle: Annotated[
        int, typer.Option(help="The inspection cycle (2016: data to 30 June 2016).")
    ] = 2016,
    period_end: Annotated[
        str | None,
        typer.Option(
            help="Compute for the data to this quarter end instead of a cycle, e.g. 2018-03-31 "
            "(a data profile)."
        ),
    ] = None,
    output: Annotated[
        str, typer.Option("--format", help="table, csv, json or parquet (parquet needs --out).")
    ] = "table",
    out: Annotated[Path | None, typer.Option(help="Write to this file instead of stdout.")] = None,
    backend: Annotated[
        str, typer.Option(help="duckdb, or pyspark (the same expressions on Spark).")
    ] = "duckdb",
) -> None:
    """Benchmark records: each force's value, England and Wales, intervals, verdicts, ranks."""
    if ctx.invoked_subcommand is not None:
        return
    from peelkit.indicators.catalogue import catalogue
    from peelkit.indicators.engine import compute

    if output not in FORMATS:
        raise typer.BadParameter(f"choose one of {', '.join(FORMATS)}", param_hint="--format")
    known = {i.id for i in catalogue().indicator}
    unknown = [i for i in indicator or [] if i not in known]
    if unknown:
        raise typer.BadParameter(
            f"{', '.join(unknown)} not in the catalogue; see 'peelkit indicators list'",
            param_hint="--indicator",
        )
    code = _force_code(force, "--force") if force else None
    when = _period_end(cycle, period_end)
    if backend not in ("duckdb", "pyspark"):
        raise typer.BadParameter("choose duckdb or pyspark", param_hint="--backend")
    with _reading(warehouse) as con:
        records = compute(
            con, indicator_ids=indicator or None, backend=backend, period_end=when.end
        )
    rows = [r.as_row() for r in records if code is None or r.force_code == code]
    write_records(rows, output, out, when.title)


def _period_end(cycle: int, period_end: str | None) -> PeriodEnd:
    """--cycle, or --period-end YYYY-MM-DD (which wins): a known cycle or a quarter end."""
    if period_end is None:
        return for_cycle(cycle)
    try:
        day = date.fromisoformat(period_end)
    except ValueError as exc:
        raise typer.BadParameter(
            f"{period_end!r} is not a date; give a quarter end as YYYY-MM-DD, e.g. 2018-03-31",
            param_hint="--period-end",
        ) from exc
    return for_date(day)


def _force_code(force: str, typed_as: str = "force") -> str:
    """A force by any of its names; ``typed_as`` names the argument as the user typed it. An
    unknown name is a usage error, with the closest known names (reference.force_named)."""
    try:
        return reference.force_named(force, typed_as)
    except UnknownForce as exc:
        raise typer.BadParameter(
            str(exc).removeprefix(f"{typed_as} "), param_hint=typed_as
        ) from exc


@indicators_app.command("list")
def indicators_list_command() -> None:
    """The indicator catalogue: what each indicator counts, per what, when, and who is left out."""
    from peelkit.indicators.catalogue import catalogue

    by_code = reference.force_by_code()
    table = rich_table(title="PEEL 2016 effectiveness indicators")
    for column in ("id", "title", "unit", "period", "England and Wales", "excluded"):
        table.add_column(column)
    for i in catalogue().indicator:
        excluded = "; ".join(f"{by_code[e.force].name} ({e.reason})" for e in i.exclusions)
        table.add_row(i.id, i.title, i.unit, i.period, i.england_and_wales, excluded)
    console.print(table)


@app.command("explain")
def explain_command(
    force: Annotated[str, typer.Argument(help="The force: code, police.uk id or name.")],
    indicator: Annotated[str, typer.Argument(help="The indicator id, e.g. FIN-2.")],
    period: Annotated[
        str,
        typer.Argument(
            help="A cycle (2016), a quarter end (2018-03-31), or a period as 'peelkit "
            "indicators' prints it ('12 months to 30 June 2014')."
        ),
    ] = "2016",
    row: Annotated[
        str | None, typer.Option(help="The row of a broken-down indicator (Figure 4, 8, 10).")
    ] = None,
    sql: Annotated[
        bool, typer.Option("--sql", help="Add the SQL that reproduces the numbers (long).")
    ] = False,
    period_end: Annotated[
        str | None,
        typer.Option(help="The same as PERIOD given as a quarter end, e.g. 2018-03-31."),
    ] = None,
    warehouse: WarehouseOpt = DEFAULT_PATH,
) -> None:
    """How a figure was made: the numbers, the rule, the forces left out, the source files."""
    from peelkit.indicators.catalogue import catalogue
    from peelkit.indicators.explain import explain

    if period_end is not None:
        period = _period_end(2016, period_end).end.isoformat()
    if indicator not in {i.id for i in catalogue().indicator}:
        raise typer.BadParameter(
            f"{indicator!r} is not in the catalogue; see 'peelkit indicators list'",
            param_hint="INDICATOR",
        )
    with _reading(warehouse) as con:
        try:
            result = explain(con, _force_code(force), indicator, period, row, sql=sql)
        except KeyError as exc:
            hint = "--row" if row or "has rows" in str(exc) else "PERIOD"
            raise typer.BadParameter(str(exc.args[0]), param_hint=hint) from exc
        except StopIteration as exc:
            raise typer.BadParameter(f"no row {row!r}", param_hint="--row") from exc
    console.print(result.text, highlight=False, markup=False, soft_wrap=True)


judgments_app = typer.Typer(help="The inspectors' judgments: grades, findings, recommendations.")
app.add_typer(judgments_app, name="judgments")


@judgments_app.command("check")
def judgments_check_command(
    paths: Annotated[list[Path], typer.Argument(help="Judgments files (.toml) or folders.")],
) -> None:
    """Validate judgments files; every problem names the file, the key and the fix."""
    from peelkit.errors import InvalidJudgments
    from peelkit.judgments import load_judgments

    files = [f for p in paths for f in (sorted(p.glob("*.toml")) if p.is_dir() else [p])]
    failed = 0
    for path in files:
        try:
            j = load_judgments(path)
        except InvalidJudgments as exc:
            failed += 1
            err.print(f"[bold red]{path}[/]: {exc}", highlight=False, soft_wrap=True)
            continue
        findings = sum(len(q.areas_for_improvement) for q in j.questions)
        causes = sum(len(q.causes_of_concern) for q in j.questions)
        console.print(
            f"{path}: valid — {reference.force_by_code()[j.force].name}, {j.cycle}: "
            f"overall {j.overall.grade}; {len(j.questions)} questions, {findings} areas for "
            f"improvement, {causes} cause(s) of concern",
            highlight=False,
        )
    if failed:
        raise typer.Exit(1)


@judgments_app.command("list")
def judgments_list_command(
    cycle: Annotated[int, typer.Option(help="The inspection cycle.")] = 2016,
    folder: Annotated[
        Path | None, typer.Option(help="A folder of judgments (default: the demo's).")
    ] = None,
) -> None:
    """Every force's grades in a cycle, by question."""
    from peelkit.judgments import demo_judgments, load_folder, question_set

    for_cycle(cycle)  # a cycle peelkit knows, or a clear error
    found = load_folder(folder, cycle) if folder else demo_judgments(cycle)
    questions = question_set(cycle)
    table = rich_table(title=f"PEEL {questions.pillar} {cycle}: grades")
    table.add_column("force", no_wrap=True)
    table.add_column("overall")
    for q in questions.question:
        table.add_column(f"Q{q.number}")
    names = reference.force_by_code()
    for code in sorted(found, key=lambda c: names[c].name):
        j = found[code]
        grades = []
        for q in questions.question:
            judged = j.question(q.number)
            grades.append(judged.grade if judged else "not recorded")
        table.add_row(names[code].name, j.overall.grade, *grades)
    console.print(table)


@app.command("report")
def report_command(
    target: Annotated[
        str | None,
        typer.Argument(
            help="The force (code, police.uk id or name); or 'check' followed by a report folder."
        ),
    ] = None,
    folder: Annotated[
        Path | None,
        typer.Argument(help="With 'check': a rendered report's folder or its HTML file."),
    ] = None,
    warehouse: WarehouseOpt = DEFAULT_PATH,
    cycle: Annotated[int, typer.Option(help="The inspection cycle.")] = 2016,
    out: Annotated[Path, typer.Option(help="Where to write the reports.")] = Path(
        "peelkit-reports"
    ),
    all_forces: Annotated[bool, typer.Option("--all", help="Every force's report.")] = False,
    judgments: Annotated[
        Path | None,
        typer.Option(
            help="A folder of judgments files (docs/judgments.md). Default: the demo's on a "
            "warehouse holding the demo dataset, none on any other."
        ),
    ] = None,
    pdf: Annotated[bool, typer.Option(help="Also write the PDF (WeasyPrint).")] = True,
    period_end: Annotated[
        str | None,
        typer.Option(
            help="A data profile for the data to this quarter end (e.g. 2018-03-31) instead of "
            "a cycle's inspection report."
        ),
    ] = None,
    rebuild: Annotated[
        bool,
        typer.Option(
            "--rebuild", help="Make every report again, even those whose inputs are unchanged."
        ),
    ] = False,
    allow_gaps: Annotated[
        bool,
        typer.Option(
            "--allow-gaps",
            help="Write the report even when the warehouse lacks most of its data (a notice "
            "on the front page says what is missing); without it, peelkit refuses and says "
            "what to load.",
        ),
    ] = False,
) -> None:
    """Write force reports (HTML, PDF, SVG figures, CSV of the numbers): peelkit report FORCE,
    or --all; 'peelkit report check FOLDER|FILE.html' checks a rendered report against the
    warehouse."""
    from peelkit.report.batch import render_reports

    when = _period_end(cycle, period_end)  # a cycle peelkit knows, or a quarter end
    if target == "check":
        if folder is None:
            raise typer.BadParameter(
                "give a rendered report's folder or its HTML file", param_hint="FOLDER"
            )
        _report_check(folder, warehouse)
        return
    if all_forces:
        forces = [f.code for f in reference.territorial_forces()]
    elif target:
        forces = [_force_code(target)]
    else:
        raise typer.BadParameter("name a force, or give --all", param_hint="FORCE")
    started = time.perf_counter()

    def done(r: Rendered) -> None:
        pages = f", {r.pages} pages" if r.pages else ""
        what = "unchanged, not rebuilt" if r.unchanged else f"{r.seconds:.1f} s{pages}"
        console.print(
            f"{reference.force_by_code()[r.force].name}: {r.files.html.parent}/ ({what})",
            highlight=False,
        )

    made = render_reports(
        warehouse,
        forces,
        out,
        cycle,
        judgments,
        pdf,
        done=done,
        period_end=when.end,
        rebuild=rebuild,
        allow_gaps=allow_gaps,
    )
    kept = sum(r.unchanged for r in made)
    console.print(
        f"{len(made) - kept} report(s) written, {kept} unchanged (their records, judgments, "
        f"templates and code are as before; --rebuild makes them again) under {out}/ in "
        f"{time.perf_counter() - started:.1f} s.",
        highlight=False,
    )


@app.command("national")
def national_command(
    warehouse: WarehouseOpt = DEFAULT_PATH,
    cycle: Annotated[int, typer.Option(help="The inspection cycle.")] = 2016,
    out: Annotated[Path, typer.Option(help="Where to write the overview.")] = Path(
        "peelkit-reports/national"
    ),
    judgments: Annotated[
        Path | None,
        typer.Option(
            help="A folder of judgments files. Default: the demo's on a warehouse holding the "
            "demo dataset, none on any other."
        ),
    ] = None,
    pdf: Annotated[bool, typer.Option(help="Also write the PDF (WeasyPrint).")] = True,
) -> None:
    """The national overview: every force's grades by question, the distribution of grades,
    and for each indicator the forces ranked with their benchmark verdicts."""
    from peelkit.indicators.engine import compute
    from peelkit.judgments import default_judgments, load_folder
    from peelkit.report.national import build_national, write_national
    from peelkit.warehouse import data_labels

    for_cycle(cycle)  # a cycle peelkit knows, or a clear error
    started = time.perf_counter()
    with _reading(warehouse) as con:
        records = compute(con, cycle=cycle)
        labels = data_labels(con)
    label = "; ".join(labels) or None
    found = load_folder(judgments, cycle) if judgments else default_judgments(cycle, labels)
    page = write_national(build_national(records, found, cycle, label), out, pdf=pdf)
    console.print(
        f"The national overview: {page}{' and ' + str(page.with_suffix('.pdf')) if pdf else ''} "
        f"({time.perf_counter() - started:.1f} s).",
        highlight=False,
    )


def _report_check(folder: Path, warehouse: Path) -> None:
    from peelkit.report.check import check_report

    with _reading(warehouse) as con:
        problems = check_report(folder, con)
    if problems:
        for p in problems:
            err.print(f"[bold red]✗[/] {p}", highlight=False)
        err.print(f"{folder}: {len(problems)} problem(s)", highlight=False)
        raise typer.Exit(1)
    console.print(f"{folder}: the report agrees with its data", highlight=False)


@app.command("demo")
def demo_command(
    warehouse: WarehouseOpt = DEFAULT_PATH,
    out: Annotated[Path, typer.Option(help="Where to write the demo dataset.")] = Path(
        "peelkit-demo-data"
    ),
    police_uk: Annotated[
        bool,
        typer.Option(
            "--police-uk", help="Also write police.uk street, outcomes and stop-and-search files."
        ),
    ] = False,
    scale: Annotated[
        float,
        typer.Option(
            min=0.001,
            help="Size of the police.uk files: 1.0 is about 5 million street rows (a year, "
            "nationally).",
        ),
    ] = 1.0,
    seed: Annotated[int, typer.Option(help="The generator's seed (same seed, same bytes).")] = 2016,
    reports: Annotated[
        Path, typer.Option(help="Where to write the Metropolitan Police report.")
    ] = Path("peelkit-reports"),
) -> None:
    """Write the national demo dataset (synthetic, official formats), load it, compute every
    indicator and show where the Metropolitan Police stands against England and Wales."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from peelkit.demo.generate import DemoSpec
    from peelkit.demo.pipeline import STEPS, met_summary, run_demo
    from peelkit.demo.sample import LABEL
    from peelkit.warehouse import storage_errors

    console.print(f"[bold]{LABEL}[/]")
    spec = DemoSpec(seed=seed, police_uk=police_uk, scale=scale)
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("step {task.completed:.0f} of {task.total:.0f}"),
        TimeElapsedColumn(),
        console=real_console(err),
        disable=not err.is_terminal,
    )
    task = progress.add_task("Demo", total=len(STEPS))
    reports_folder = reports
    seen: list[str] = []

    def step(name: str) -> None:
        if seen:
            progress.advance(task)
        seen.append(name)
        progress.update(task, description=name)
        if not err.is_terminal:
            err.print(f"{name}…", highlight=False)

    with progress, storage_errors(warehouse):
        result = run_demo(out, warehouse, spec, step, reports_folder)
        progress.advance(task)
    _print_report(result.report)
    table = rich_table(
        title="Metropolitan Police Service against England and Wales, PEEL 2016 indicators",
        caption=LABEL,
    )
    for column in ("id", "indicator", "period", "Met", "England and Wales", "verdict", "rank"):
        table.add_column(
            column, justify="right" if column in ("Met", "England and Wales") else "left"
        )
    for row in met_summary(result.records):
        table.add_row(
            row.indicator,
            row.title,
            row.period,
            row.force,
            row.england_and_wales,
            row.verdict,
            row.rank,
        )
    console.print(table)
    t = result.seconds
    console.print(
        f"Wrote {len(result.files):,} files under {out}/ in {t['write']:.1f} s; loaded in "
        f"{t['ingest']:.1f} s; {len(result.records):,} benchmark records in "
        f"{t['indicators']:.1f} s.",
        highlight=False,
    )
    if result.force_report is not None:
        pdf = result.force_report.with_suffix(".pdf")
        console.print(
            f"The Metropolitan Police Service's 2016 report ({LABEL.lower()}): "
            f"{result.force_report} and {pdf} ({t['report']:.1f} s).",
            highlight=False,
        )
    w = "" if warehouse == DEFAULT_PATH else f" -w {warehouse}"
    console.print(f"The warehouse is {warehouse}. Next, for example:", highlight=False)
    for hint in (
        f"peelkit indicators --force metropolitan{w}",
        f"peelkit explain metropolitan FIN-2{w}",
        f"peelkit coverage{w}",
        f"peelkit report --all{w}",
    ):
        console.print(f"  {hint}", highlight=False, markup=False)


if __name__ == "__main__":
    main()
