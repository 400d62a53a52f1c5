"""The peelkit command line: ingest, coverage, query, forces, formats and demo."""

from __future__ import annotations

import csv
import json
import sys
import time
from pathlib import Path
from typing import Annotated

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from peelkit import reference, synthetic
from peelkit.demo.generate import DemoSpec
from peelkit.demo.run import STEPS, met_summary, run_demo
from peelkit.errors import InvalidJudgments, PeelkitError
from peelkit.indicators.catalogue import catalogue
from peelkit.indicators.engine import compute
from peelkit.indicators.explain import explain
from peelkit.ingest import IngestReport, ingest
from peelkit.judgments import (
    default_judgments,
    demo_judgments,
    load_folder,
    load_judgments,
    question_set,
)
from peelkit.readers import all_formats
from peelkit.report.run import Rendered, render_reports
from peelkit.warehouse import DEFAULT_PATH, data_labels, open_read_only, open_warehouse

app = typer.Typer(
    help="PEEL police effectiveness indicators from official police data for England and Wales.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# Wide, unwrapped tables when the output goes to a file or a pipe rather than a terminal.
console = Console(width=None if sys.stdout.isatty() else 200)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 200)

WarehouseOpt = Annotated[Path, typer.Option("--warehouse", "-w", help="The DuckDB warehouse file.")]


def main() -> None:
    try:
        app()
    except PeelkitError as exc:
        err.print(f"[bold red]Error:[/] {exc}", highlight=False, markup=True, soft_wrap=True)
        sys.exit(1)


class _RichProgress:
    """Bytes checksummed and loaded, as two bars; plain lines when not on a terminal."""

    def __init__(self) -> None:
        self.interactive = err.is_terminal
        self.bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeElapsedColumn(),
            console=err,
            disable=not self.interactive,
        )
        self.tasks: dict[str, TaskID] = {}
        self.totals: dict[str, int] = {}
        self.done: dict[str, int] = {}
        self.next_report = 0.0

    def __call__(self, event: str, amount: int, label: str) -> None:
        phase = event.removesuffix("-total")
        if event.endswith("-total"):
            title = "Checksums" if phase == "hash" else "Loading"
            self.tasks[phase] = self.bar.add_task(title, total=amount)
            self.totals[phase], self.done[phase] = amount, 0
            if not self.interactive:
                err.print(f"{title}: {amount:,} bytes", highlight=False)
            return
        self.bar.advance(self.tasks[phase], amount)
        self.done[phase] += amount
        if not self.interactive and phase == "load":
            share = self.done[phase] / max(self.totals[phase], 1)
            if share >= self.next_report or share >= 1.0:
                err.print(f"loaded {share:.0%} of the bytes, up to {label}", highlight=False)
                self.next_report = share + 0.05


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
) -> None:
    """Load source files into the warehouse: all of them, or none."""
    con = open_warehouse(warehouse)
    try:
        progress = _RichProgress()
        with progress.bar:
            report = ingest(con, paths, strict=strict, force=force, progress=progress, label=label)
    finally:
        con.close()
    _print_report(report)


def _print_report(report: IngestReport) -> None:
    table = Table(title=f"Ingest into the warehouse ({report.seconds:.1f} s)")
    for column, justify in (
        ("kind", "left"),
        ("files", "right"),
        ("rows read", "right"),
        ("loaded", "right"),
        ("rejected", "right"),
        ("already loaded", "right"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    kinds = sorted({f.kind for f in report.files})
    for kind in kinds:
        mine = [f for f in report.files if f.kind == kind]
        loaded = [f for f in mine if f.status == "loaded"]
        table.add_row(
            kind,
            f"{len(mine):,}",
            f"{sum(f.rows_read for f in loaded):,}",
            f"{sum(f.rows_loaded for f in loaded):,}",
            f"{sum(f.rows_rejected for f in loaded):,}",
            f"{len(mine) - len(loaded):,}",
        )
    console.print(table)
    if report.skipped:
        console.print(
            f"{len(report.skipped)} file(s) were already in the warehouse (same sha256): "
            "nothing was loaded again.",
            highlight=False,
        )
    if report.rejects:
        console.print(
            f"[yellow]{len(report.rejects)} rejected row(s)[/] are in the table rejected_rows, "
            "e.g.:",
            highlight=False,
        )
        names = {f.load_id: f.display for f in report.files}
        for r in report.rejects[:5]:
            console.print(
                f"  {names.get(r.load_id, r.load_id)}, line {r.line}, "
                f"field {r.field or '(whole line)'}: {r.reason}",
                highlight=False,
                markup=False,
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
    """Per force, period and source: present, partial or absent, and why."""
    with _reading(warehouse) as con:
        where, params = _coverage_filter(force, source)
        summary = con.execute(
            f"SELECT source, count(DISTINCT period), count(*) FILTER (status = 'present'), "
            f"count(*) FILTER (status = 'partial'), count(*) FILTER (status = 'absent') "
            f"FROM coverage {where} GROUP BY source ORDER BY source",
            params,
        ).fetchall()
        table = Table(title="Coverage: force × period per source")
        for column in ("source", "periods", "present", "partial", "absent"):
            table.add_column(column, justify="left" if column == "source" else "right")
        for row in summary:
            table.add_row(*[f"{v:,}" if isinstance(v, int) else str(v) for v in row])
        console.print(table)
        detail_where = where + (" AND " if where else "WHERE ") + "status <> 'present'"
        rows = con.execute(
            "SELECT source, force_name, period, status, reason FROM coverage "
            f"{where if all_rows else detail_where} ORDER BY source, force_name, period_start "
            "LIMIT 500",
            params,
        ).fetchall()
        if rows:
            detail = Table(title="Gaps" if not all_rows else "Every force-period")
            for column in ("source", "force", "period", "status", "reason"):
                detail.add_column(column)
            for row in rows:
                detail.add_row(*[str(v or "") for v in row])
            console.print(detail)
            if len(rows) == 500:
                console.print("(first 500 rows; narrow with --force or --source)")


def _coverage_filter(force: str | None, source: str | None) -> tuple[str, list[str]]:
    clauses, params = [], []
    if force:
        clauses.append("force_code = ?")
        params.append(_force_code(force))
    if source:
        clauses.append("source = ?")
        params.append(source)
    return ("WHERE " + " AND ".join(clauses)) if clauses else "", params


class _reading:
    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self) -> duckdb.DuckDBPyConnection:
        self.con = open_read_only(self.path)
        return self.con

    def __exit__(self, *exc: object) -> None:
        self.con.close()


@app.command("query")
def query_command(
    sql: Annotated[str, typer.Argument(help="A SQL query; the result is written as CSV.")],
    warehouse: WarehouseOpt = DEFAULT_PATH,
) -> None:
    """Run a read-only SQL query against the warehouse and write CSV to standard output."""
    with _reading(warehouse) as con:
        try:
            cursor = con.execute(sql)
        except duckdb.Error as exc:
            raise typer.BadParameter(str(exc).splitlines()[0], param_hint="SQL") from exc
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow([d[0] for d in cursor.description or []])
        while rows := cursor.fetchmany(10_000):
            writer.writerows(rows)


@app.command("forces")
def forces_command() -> None:
    """The forces and other bodies peelkit knows, with codes, police.uk ids and name spellings."""
    aliases: dict[str, list[str]] = {}
    for alias, code, _ in reference.force_alias_rows():
        aliases.setdefault(code, []).append(alias)
    table = Table(title="Forces")
    for column in ("code", "name", "police.uk id", "kind", "other names in the sources"):
        table.add_column(column)
    for f in reference.forces():
        others = [a for a in aliases.get(f.code, []) if a != f.name]
        table.add_row(f.code, f.name, f.slug, f.kind, "; ".join(others))
    console.print(table)


@app.command("formats")
def formats_command() -> None:
    """Every source format peelkit reads, with the exact header it expects."""
    table = Table(title="Source formats")
    for column in ("kind", "format", "expected header"):
        table.add_column(column)
    for fmt in all_formats():
        table.add_row(fmt.kind, fmt.title, fmt.expected())
    console.print(table)


indicators_app = typer.Typer(help="The PEEL indicators: benchmark records, and the catalogue.")
app.add_typer(indicators_app, name="indicators")

FORMATS = ("table", "csv", "json", "parquet")


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
        int, typer.Option(help="The inspection cycle (2016: data to June 2016).")
    ] = 2016,
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
    known = {i.id for i in catalogue().indicator}
    unknown = [i for i in indicator or [] if i not in known]
    if unknown:
        raise typer.BadParameter(
            f"{', '.join(unknown)} not in the catalogue; see 'peelkit indicators list'",
            param_hint="--indicator",
        )
    code = _force_code(force) if force else None
    with _reading(warehouse) as con:
        if backend not in ("duckdb", "pyspark"):
            raise typer.BadParameter("choose duckdb or pyspark", param_hint="--backend")
        records = compute(con, cycle=cycle, indicator_ids=indicator or None, backend=backend)
    rows = [r.as_row() for r in records if code is None or r.force_code == code]
    _write_records(rows, output, out)


def _force_code(force: str) -> str:
    code = reference.force_code_of(force)
    if code is None:
        raise typer.BadParameter(
            f"{force!r} is not a known force. Closest: "
            + ", ".join(reference.closest_force_names(force)),
            param_hint="--force",
        )
    return code


def _write_records(rows: list[dict[str, object]], output: str, out: Path | None) -> None:
    if output == "parquet":
        if out is None:
            raise typer.BadParameter("parquet is written to a file: add --out FILE.parquet")
        pq.write_table(pa.Table.from_pylist(rows), out)
        console.print(f"Wrote {len(rows):,} records to {out}", highlight=False)
        return
    stream = out.open("w", encoding="utf-8", newline="") if out else sys.stdout
    try:
        if output == "json":
            json.dump(rows, stream, indent=1, default=str)
            stream.write("\n")
        elif output == "csv":
            flat = [
                {k: (";".join(map(str, v)) if isinstance(v, list) else v) for k, v in row.items()}
                for row in rows
            ]
            fields = list(flat[0]) if flat else []
            writer = csv.DictWriter(stream, fieldnames=fields, lineterminator="\n")
            writer.writeheader()
            writer.writerows(flat)
        else:
            _print_records(rows)
    finally:
        if out:
            stream.close()


def _print_records(rows: list[dict[str, object]]) -> None:
    names = {f.code: f.name for f in reference.forces()}
    labels = sorted({str(r["data_label"]) for r in rows if r.get("data_label")})
    table = Table(title="Benchmark records", caption="; ".join(labels) or None)
    for column in (
        "indicator",
        "row",
        "force",
        "value",
        "England and Wales",
        "95% interval",
        "verdict",
        "rank",
        "coverage",
    ):
        table.add_column(column)
    for r in rows:
        value, ew = r["value"], r["england_and_wales"]
        low, high = r["ci95_lower"], r["ci95_upper"]
        table.add_row(
            str(r["indicator_id"]),
            str(r["breakdown"] or ""),
            names.get(str(r["force_code"]), str(r["force_code"])),
            "—" if value is None else f"{value:,.2f}",
            "—" if ew is None else f"{ew:,.2f}",
            "" if low is None else f"{low:,.2f} – {high:,.2f}",
            str(r["verdict"]),
            "" if r["rank"] is None else f"{r['rank']}/{r['ranked']} {r['rank_verdict']}",
            str(r["coverage"]) + (f" ({r['note']})" if r["note"] else ""),
        )
    console.print(table)


@indicators_app.command("list")
def indicators_list_command() -> None:
    """The indicator catalogue: what each indicator counts, per what, when, and who is left out."""
    by_code = reference.force_by_code()
    table = Table(title="PEEL 2016 effectiveness indicators")
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
    period: Annotated[int, typer.Argument(help="The inspection cycle, e.g. 2016.")] = 2016,
    row: Annotated[
        str | None, typer.Option(help="The row of a broken-down indicator (Figure 4, 8, 10).")
    ] = None,
    warehouse: WarehouseOpt = DEFAULT_PATH,
) -> None:
    """How a figure was made: the numbers, the rule, the forces left out, the source files."""
    if indicator not in {i.id for i in catalogue().indicator}:
        raise typer.BadParameter(
            f"{indicator!r} is not in the catalogue; see 'peelkit indicators list'",
            param_hint="INDICATOR",
        )
    with _reading(warehouse) as con:
        try:
            result = explain(con, _force_code(force), indicator, period, row)
        except (KeyError, StopIteration) as exc:
            raise typer.BadParameter(str(exc) or f"no row {row!r}", param_hint="--row") from exc
    console.print(result.text, highlight=False, markup=False, soft_wrap=True)


judgments_app = typer.Typer(help="The inspectors' judgments: grades, findings, recommendations.")
app.add_typer(judgments_app, name="judgments")


@judgments_app.command("check")
def judgments_check_command(
    paths: Annotated[list[Path], typer.Argument(help="Judgments files (.toml) or folders.")],
) -> None:
    """Validate judgments files; every problem names the file, the key and the fix."""
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
    found = load_folder(folder, cycle) if folder else demo_judgments(cycle)
    questions = question_set(cycle)
    table = Table(title=f"PEEL {questions.pillar} {cycle}: grades")
    table.add_column("force")
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
        console.print(
            f"{reference.force_by_code()[r.force].name}: {r.files.html.parent}/ "
            f"({r.seconds:.1f} s{pages})",
            highlight=False,
        )

    render_reports(warehouse, forces, out, cycle, judgments, pdf, done=done, allow_gaps=allow_gaps)
    console.print(
        f"Wrote {len(forces)} report(s) under {out}/ in {time.perf_counter() - started:.1f} s.",
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
    from peelkit.report.national import build_national, write_national

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
    console.print(f"[bold]{synthetic.LABEL}[/]")
    spec = DemoSpec(seed=seed, police_uk=police_uk, scale=scale)
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("step {task.completed:.0f} of {task.total:.0f}"),
        TimeElapsedColumn(),
        console=err,
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
        result = run_demo(out, warehouse, spec, step, reports_folder)
        progress.advance(task)
    _print_report(result.report)
    table = Table(
        title="Metropolitan Police Service against England and Wales, PEEL 2016 indicators",
        caption=synthetic.LABEL,
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
            f"The Metropolitan Police Service's 2016 report ({synthetic.LABEL.lower()}): "
            f"{result.force_report} and {pdf} ({t['report']:.1f} s).",
            highlight=False,
        )
    console.print(
        f"The warehouse is {warehouse}. Next: peelkit report --all, peelkit indicators --force "
        "metropolitan, peelkit explain metropolitan FIG-6",
        highlight=False,
    )


if __name__ == "__main__":
    main()
