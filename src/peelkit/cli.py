"""The peelkit command: ingest, coverage, query, forces, formats, indicators, explain,
judgments, report, national and demo. It parses arguments, calls the library and presents
the results through ``peelkit.present``; the work is done by the library."""

from __future__ import annotations

import csv
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from peelkit import reference, service
from peelkit.errors import PeelkitError
from peelkit.present import (
    RENDERERS,
    console,
    err,
    ingest_progress,
    print_coverage,
    print_ingest_report,
    real_console,
    rich_table,
    wrapped,
    write_records,
)
from peelkit.warehouse import DEFAULT_PATH

# Commands start fast: the libraries a command needs (DuckDB, Arrow, Ibis, scipy, matplotlib,
# WeasyPrint, the demo generator) are imported inside it, never here (tests/test_cli_startup.py
# checks).
if TYPE_CHECKING:
    from peelkit.indicators.periods import PeriodEnd
    from peelkit.report.batch import Rendered

app = typer.Typer(
    help="PEEL police effectiveness indicators from official police data for England and Wales.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
WarehouseOpt = Annotated[Path, typer.Option("--warehouse", "-w", help="The DuckDB warehouse file.")]
JudgmentsOpt = Annotated[
    Path | None,
    typer.Option(
        help="A folder of judgments files. Default: the demo's on a warehouse holding the demo "
        "dataset, none on any other."
    ),
]


def main() -> None:
    try:
        app()
    except PeelkitError as exc:
        from rich.markup import escape

        # escaped: a message quoting SQL or a file ("[1, 2]", "[/]") is text, not Rich markup
        err.print(f"[bold red]Error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        sys.exit(1)


@contextmanager
def _arguments(**typed: str) -> Iterator[None]:
    """A value the service cannot use (service.BadArgument) as a usage error naming the
    argument as the user typed it here: ``typed`` maps the service's names (force,
    period_end, …) to this command's (``--force``, ``FORCE``)."""
    try:
        yield
    except service.BadArgument as exc:
        hint = typed.get(exc.param, "--" + exc.param.replace("_", "-"))
        raise typer.BadParameter(str(exc), param_hint=hint) from exc


def _waiting(message: str) -> None:
    """Said once when the warehouse is held by another process and the command waits."""
    err.print(message, highlight=False, markup=False, soft_wrap=True)


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
    site: Annotated[
        Path, typer.Option(help="A site published from this warehouse, to publish again.")
    ] = Path("peelkit-site"),
    publish_site: Annotated[
        bool,
        typer.Option(
            "--publish/--no-publish",
            help="Publish the site again when it was published from this warehouse.",
        ),
    ] = True,
) -> None:
    """Load source files into the warehouse: all of them, or none. A site published from this
    warehouse (--site) is published again when files were loaded."""
    progress = ingest_progress()
    with progress.bar:
        report = service.ingest(
            warehouse,
            paths,
            strict=strict,
            force=force,
            label=label,
            accept_damaged=accept_damaged,
            progress=progress,
            on_wait=_waiting,
        )
    print_ingest_report(report)
    if report.loaded and publish_site and (site / "current").is_file():
        from peelkit.publish import republish_if_published_from

        again = republish_if_published_from(warehouse, site)
        if again is not None:
            print(
                f"The site under {site}/ was published again from the changed warehouse: "
                f"{again.version} ({again.seconds:.1f} s)."
            )


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
    with (
        _arguments(force="--force", source="--source"),
        service.reading(warehouse, _waiting) as con,
    ):
        cov = service.coverage(con, force, source)
    print_coverage(cov, every=all_rows, whole=not source and not force)


@app.command("query")
def query_command(
    sql: Annotated[str, typer.Argument(help="One SQL statement; the result is written as CSV.")],
    warehouse: WarehouseOpt = DEFAULT_PATH,
) -> None:
    """Run one read-only SQL statement against the warehouse and write CSV to standard output.
    The SQL cannot change the warehouse, read or write other files, attach databases, load
    extensions or reach the network."""
    names, batches = service.query(warehouse, sql, on_wait=_waiting)
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(names)
    for rows in batches:
        writer.writerows(rows)


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
    if output not in FORMATS:
        raise typer.BadParameter(f"choose one of {', '.join(FORMATS)}", param_hint="--format")
    with _arguments(force="--force", indicator="--indicator", backend="--backend"):
        ids = service.indicator_ids(indicator)
        code = service.force_code(force) if force else None
        when = service.period(cycle, period_end)
        computed = service.records(warehouse, when, ids, backend, on_wait=_waiting)
    rows = [r.as_row() for r in computed.records if code is None or r.force_code == code]
    write_records(rows, output, out, when.title)


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
    with _arguments(force="FORCE", indicator="INDICATOR", period="PERIOD", row="--row"):
        when: str | PeriodEnd = service.period(2016, period_end) if period_end else period
        with service.reading(warehouse, _waiting) as con:
            result = service.explain(con, force, indicator, when, row, sql=sql)
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

    service.period(cycle)  # a cycle peelkit knows, or a clear error
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
    with _arguments(force="FORCE", period_end="--period-end"):
        when = service.period(cycle, period_end)  # a cycle peelkit knows, or a quarter end
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
            forces = [service.force_code(target)]
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

    made = service.reports(
        warehouse,
        forces,
        out,
        when,
        judgments_folder=judgments,
        pdf=pdf,
        done=done,
        rebuild=rebuild,
        allow_gaps=allow_gaps,
        on_wait=_waiting,
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
    judgments: JudgmentsOpt = None,
    pdf: Annotated[bool, typer.Option(help="Also write the PDF (WeasyPrint).")] = True,
) -> None:
    """The national overview: every force's grades by question, the distribution of grades,
    and for each indicator the forces ranked with their benchmark verdicts."""
    started = time.perf_counter()
    when = service.period(cycle)  # a cycle peelkit knows, or a clear error
    page = service.national(warehouse, when, out, judgments, pdf=pdf, on_wait=_waiting)
    console.print(
        f"The national overview: {page}{' and ' + str(page.with_suffix('.pdf')) if pdf else ''} "
        f"({time.perf_counter() - started:.1f} s).",
        highlight=False,
    )


def _report_check(target: Path, warehouse: Path) -> None:
    """A rendered report against records computed afresh: the one command that computes a
    second time, on purpose (it says so)."""
    err.print(
        "Checking the report against benchmark records computed afresh from the warehouse…",
        highlight=False,
    )
    problems = service.check_report(target, warehouse, on_wait=_waiting)
    if problems:
        for p in problems:
            err.print(f"[bold red]✗[/] {p}", highlight=False)
        err.print(f"{target}: {len(problems)} problem(s)", highlight=False)
        raise typer.Exit(1)
    console.print(f"{target}: the report agrees with its data", highlight=False)


@app.command("publish")
def publish_command(
    warehouse: WarehouseOpt = DEFAULT_PATH,
    site: Annotated[Path, typer.Option(help="The site's folder (bundles and pointer).")] = Path(
        "peelkit-site"
    ),
    judgments: JudgmentsOpt = None,
    reports: Annotated[
        bool, typer.Option(help="Also render and publish every force's report.")
    ] = True,
    pdf: Annotated[bool, typer.Option(help="The reports' PDFs too (WeasyPrint).")] = True,
    period_end: Annotated[
        list[str] | None,
        typer.Option(
            help="Also publish a data profile for the data to this quarter end, e.g. "
            "2018-03-31 (repeat for several)."
        ),
    ] = None,
    database: Annotated[
        str | None,
        typer.Option(
            help="The inspection workbench whose releases switch this site: the new bundle is "
            "released through it, with the judgments it has made public."
        ),
    ] = None,
    as_: Annotated[
        str | None,
        typer.Option("--as", help="With --database: the analyst or lead inspector publishing."),
    ] = None,
) -> None:
    """Publish what the site serves: the records of every cycle (and of the data profiles
    asked for), grades, charts, how each figure was made, coverage and the force reports, as a
    new bundle switched on at once."""
    from peelkit.publish import publish

    workbench = None
    if database is not None:
        from peelkit.workbench.database import open_database
        from peelkit.workbench.service import Workbench

        workbench = Workbench(open_database(database), site=site)
        actor = workbench.actor(as_) if as_ else None
        if actor is not None:  # before an expensive publication
            from peelkit.workbench.roles import authorize

            authorize(actor, "publish data")
        if judgments is None:
            judgments = workbench.released_judgments()

    with _arguments(period_end="--period-end"):
        profiles = [service.period(period_end=end).end for end in period_end or []]

    def step(name: str) -> None:
        err.print(f"{name}…", highlight=False)

    done = publish(
        warehouse,
        site,
        period_ends=profiles,
        judgments_folder=judgments,
        reports=reports,
        pdf=pdf,
        step=step,
        on_wait=_waiting,
        point=workbench is None,
    )
    if workbench is not None:
        workbench.release_data(actor, done.version)
    console.print(
        f"Published {done.version}: {done.records:,} records and {done.reports} reports in "
        f"{done.seconds:.1f} s, under {done.folder}. 'peelkit serve --site {site}' serves it.",
        highlight=False,
    )


@app.command("serve")
def serve_command(
    site: Annotated[Path, typer.Option(help="The site's folder (peelkit publish).")] = Path(
        "peelkit-site"
    ),
    host: Annotated[str, typer.Option(help="The address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="The port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    database: Annotated[
        str | None,
        typer.Option(
            help="Also serve the inspection workbench on this database (a SQLite file or "
            "postgresql://…); its releases then choose what the public sees."
        ),
    ] = None,
) -> None:
    """Serve the published site and its API (read-only; nothing is computed while serving),
    and with --database the inspection workbench."""
    import os

    import uvicorn

    from peelkit.publish import current

    if current(site) is None:
        raise typer.BadParameter(
            f"nothing is published under {site}; run 'peelkit publish' (or 'peelkit demo') first",
            param_hint="--site",
        )
    os.environ["PEELKIT_SITE"] = str(site.resolve())
    if database is not None:
        from peelkit.workbench.database import database_url, open_database

        os.environ["PEELKIT_DATABASE"] = database_url(database)
        open_database(database)  # made or brought to the newest schema once, before workers
    console.print(f"Serving {site} on http://{host}:{port}/ (Ctrl+C stops).", highlight=False)
    uvicorn.run(
        "peelkit.site.serve:app",
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        proxy_headers=True,
    )


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
    site: Annotated[
        Path, typer.Option(help="Where to publish the site ('peelkit serve' serves it).")
    ] = Path("peelkit-site"),
) -> None:
    """Write the national demo dataset (synthetic, official formats), load it, compute every
    indicator and show where the Metropolitan Police stands against England and Wales."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from peelkit.demo.generate import DemoSpec
    from peelkit.demo.pipeline import STEPS, met_summary
    from peelkit.demo.sample import LABEL

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

    with progress:
        result = service.demo(out, warehouse, spec, step, reports_folder, site)
        progress.advance(task)
    print_ingest_report(result.report)
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
    if result.published is not None:
        console.print(
            f"The site is published under {site}/ ({t['publish']:.1f} s).", highlight=False
        )
    w = "" if warehouse == DEFAULT_PATH else f" -w {warehouse}"
    site_option = "" if site == Path("peelkit-site") else f" --site {site}"
    console.print(f"The warehouse is {warehouse}. Next, for example:", highlight=False)
    for hint in (
        f"peelkit indicators --force metropolitan{w}",
        f"peelkit explain metropolitan FIN-2{w}",
        f"peelkit coverage{w}",
        f"peelkit report --all{w}",
        f"peelkit serve{site_option}   (then open http://127.0.0.1:8000/)",
    ):
        console.print(f"  {hint}", highlight=False, markup=False)


from peelkit.workbench.cli import register as _register_workbench  # noqa: E402

_register_workbench(app, judgments_app)

if __name__ == "__main__":
    main()
