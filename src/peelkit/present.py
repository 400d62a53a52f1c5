"""How the command line presents results: the consoles, tables that fit the screen, plain
aligned columns and wrapped text, benchmark records in each output format (a registry of
renderers: table, csv, json, parquet), an ingest's progress and summary, and coverage. The
command line parses arguments and calls ``peelkit.service``; everything it shows goes through
here. Nothing heavy is imported until it is used: commands that print plain lines never load
rich.
"""

from __future__ import annotations

import contextlib
import csv
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from peelkit import display, reference
from peelkit.errors import InputError

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import TaskID
    from rich.table import Table

    from peelkit.coverage import Coverage, Finding
    from peelkit.ingest import IngestReport

# Tables fit the terminal, and 100 columns when the output goes to a file or a pipe (data for
# other programs: --format csv, json or parquet).
# Rich is imported on first use: forces, formats and query print plain lines and never pay
# for it.


class _LazyConsole:
    """A rich Console made when something is first printed through it."""

    def __init__(self, stderr: bool) -> None:
        self._stderr = stderr
        self._console: Console | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real(), name)

    def real(self) -> Console:
        """The rich Console itself, for rich APIs that take one (a Progress)."""
        if self._console is None:
            from rich.console import Console

            stream = sys.stderr if self._stderr else sys.stdout
            self._console = Console(stderr=self._stderr, width=None if stream.isatty() else 100)
        return self._console


def real_console(lazy: Console) -> Console:
    """The rich Console behind ``console`` or ``err`` (made on first use)."""
    return lazy.real() if isinstance(lazy, _LazyConsole) else lazy


console = cast("Console", _LazyConsole(stderr=False))
err = cast("Console", _LazyConsole(stderr=True))


def rich_table(**options: Any) -> Table:
    from rich.table import Table

    return Table(**options)


def columns(
    header: tuple[str, ...], rows: list[tuple[str, ...]], right: tuple[int, ...] = ()
) -> str:
    """Rows as aligned plain-text columns, two spaces apart, nothing cut short."""
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(header)]

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), rule, *(line(r) for r in rows)])


def wrapped(text: str, indent: int) -> str:
    """Text wrapped to the terminal (100 columns when piped), every line indented."""
    import shutil
    import textwrap

    width = shutil.get_terminal_size((100, 24)).columns if sys.stdout.isatty() else 100
    return textwrap.fill(
        text,
        width=width,
        initial_indent=" " * indent,
        subsequent_indent=" " * indent,
        break_on_hyphens=False,
    )


Rows = list[dict[str, object]]


def _parquet(rows: Rows, out: Path | None, title: str) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    if out is None:
        raise InputError("parquet is written to a file: add --out FILE.parquet")
    pq.write_table(pa.Table.from_pylist(rows), out)
    console.print(f"Wrote {len(rows):,} records to {out}", highlight=False)


def _json(rows: Rows, out: Path | None, title: str) -> None:
    with _stream(out) as stream:
        json.dump(rows, stream, indent=1, default=str)
        stream.write("\n")


def _csv(rows: Rows, out: Path | None, title: str) -> None:
    flat = [
        {k: (";".join(map(str, v)) if isinstance(v, list) else v) for k, v in row.items()}
        for row in rows
    ]
    with _stream(out) as stream:
        writer = csv.DictWriter(
            stream, fieldnames=list(flat[0]) if flat else [], lineterminator="\n"
        )
        writer.writeheader()
        writer.writerows(flat)


def _table(rows: Rows, out: Path | None, title: str) -> None:
    if out is not None:
        raise InputError(
            "a table is shown on screen: choose --format csv, json or parquet for --out"
        )
    print_records(rows, title)


class _stream:
    """The file ``out`` for writing, or standard output (left open)."""

    def __init__(self, out: Path | None) -> None:
        self.out = out

    def __enter__(self) -> Any:
        self.stream = self.out.open("w", encoding="utf-8", newline="") if self.out else sys.stdout
        return self.stream

    def __exit__(self, *exc: object) -> None:
        if self.out:
            self.stream.close()


#: How benchmark records are written, by --format: each renderer takes the rows (as
#: BenchmarkRecord.as_row gives them), the file to write (or None for standard output) and a
#: title. A new output format is one entry here.
RENDERERS: dict[str, Callable[[Rows, Path | None, str], None]] = {
    "table": _table,
    "csv": _csv,
    "json": _json,
    "parquet": _parquet,
}


def write_records(rows: Rows, output: str, out: Path | None, title: str) -> None:
    """The records in the output format ``output`` (a key of RENDERERS)."""
    RENDERERS[output](rows, out, title)


def print_records(rows: list[dict[str, object]], title: str) -> None:
    """The records as a table that fits the screen: what all rows share (one indicator, one
    force, one period) goes in the title; each note once, numbered, below the table."""
    names = {f.code: f.name for f in reference.forces()}
    labels = sorted({str(r["data_label"]) for r in rows if r.get("data_label")})

    def indicator(r: dict[str, object]) -> str:
        return str(r["indicator_id"]) + (f" {r['breakdown']}" if r["breakdown"] else "")

    def force(r: dict[str, object]) -> str:
        return names.get(str(r["force_code"]), str(r["force_code"]))

    varying = {}
    shared = []
    for column, cell in (
        ("indicator", indicator),
        ("force", force),
        ("period", lambda r: str(r["period"])),
    ):
        values = {cell(r) for r in rows}
        varying[column] = len(values) > 1
        if len(values) == 1:
            shared.append(values.pop())
    title = ", ".join([*shared, title])
    table = rich_table(title=f"Benchmark records: {title}", caption="; ".join(labels) or None)
    shown: dict[str, dict[str, Any] | None] = {
        "indicator": {} if varying["indicator"] else None,
        "force": {"no_wrap": True} if varying["force"] else None,
        "period": {} if varying["period"] else None,
        "value": {"justify": "right", "no_wrap": True},
        "E&W": {"justify": "right", "no_wrap": True},
        "95% interval": {},
        "verdict": {},
        "rank": {},
        "coverage": {},
    }
    for column, style in shown.items():
        if style is not None:
            table.add_column(column, **style)
    from peelkit.indicators.catalogue import catalogue

    notes: dict[str, int] = {}
    decimals = {ind.id: ind.decimals for ind in catalogue().indicator}  # each at its precision
    for r in rows:
        value, ew, low, high = (
            cast("float | None", r[k])
            for k in ("value", "england_and_wales", "ci95_lower", "ci95_upper")
        )
        coverage = str(r["coverage"])
        if r["note"]:
            number = notes.setdefault(str(r["note"]), len(notes) + 1)
            coverage += f" [{number}]"
        cells = {
            "indicator": str(r["indicator_id"]) + (f" {r['breakdown']}" if r["breakdown"] else ""),
            "force": names.get(str(r["force_code"]), str(r["force_code"])),
            "period": str(r["period"]),
            "value": display.figure(value, decimals[str(r["indicator_id"])]),
            "E&W": display.figure(ew, decimals[str(r["indicator_id"])]),
            "95% interval": display.interval(low, high, decimals[str(r["indicator_id"])]),
            "verdict": str(r["verdict"]),
            "rank": "" if r["rank"] is None else f"{r['rank']}/{r['ranked']} {r['rank_verdict']}",
            "coverage": coverage,
        }
        table.add_row(*(cells[c] for c, style in shown.items() if style is not None))
    console.print(table)
    for note, number in notes.items():
        console.print(f"[{number}] {note}", highlight=False, markup=False)


# -- ingest ----------------------------------------------------------------------------------


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


def ingest_progress() -> _PlainProgress | _RichProgress:
    """Bars on a terminal, plain lines in a log or a pipe (where rich is never imported)."""
    return _RichProgress() if sys.stderr.isatty() else _PlainProgress()


def print_ingest_report(report: IngestReport) -> None:
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
            console.print(head + escape(text), highlight=False)

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


def escape(text: str) -> str:
    """Text printed through rich as it is (no [markup] read in file names or reasons)."""
    return text.replace("[", "\\[")


# -- coverage --------------------------------------------------------------------------------

#: How many findings of one rule and source ``coverage`` lists before summarising the rest.
FINDINGS_SHOWN = 5


def print_coverage(cov: Coverage, every: bool, whole: bool) -> None:
    """Coverage as plain aligned text, never truncated (a source name or period cut short,
    "data_return: domest…", is no use; plain lines are quick to print and to grep): counts per
    source, the sources of which nothing is loaded (``whole``: no force or source was asked
    for), then the gaps grouped — or with ``every`` each force-period — and the findings."""
    from peelkit.coverage import sources_not_loaded

    print("Coverage: force × period per source")
    print(
        columns(
            ("source", "periods", "present", "partial", "absent"),
            [
                (c.source, *(f"{n:,}" for n in (c.periods, c.present, c.partial, c.absent)))
                for c in cov.counts()
            ],
            right=(1, 2, 3, 4),
        )
    )
    if whole:
        for name, what in sources_not_loaded(cov.sources):
            print(wrapped(f"{name}: nothing loaded for any force; load {what}.", indent=0))
    if every:
        print("\nEvery force-period")
        print(
            columns(
                ("source", "force", "period", "status", "reason"),
                [(r.source, r.force_name, r.period, r.status, r.reason or "") for r in cov.rows],
            )
        )
    else:
        gaps = cov.gaps()
        if not gaps:
            print("\nNo gaps: every period of every source is present.")
        else:
            print("\nGaps, per source (--all lists every force-period)")
            shown = None
            for gap in gaps:
                if gap.source != shown:
                    print(f"\n{gap.source}")
                    shown = gap.source
                print(wrapped(f"{gap.status} {gap.periods}: {gap.reason}", indent=2))
                print(wrapped(gap.forces, indent=6))
    print_findings(cov.findings, every)


def print_findings(findings: list[Finding] | None, every: bool) -> None:
    """The plausibility rules' findings, per source and rule: each names the force, the period,
    the detail and the file(s); more than a few of one rule are summarised unless ``every``."""
    from peelkit.coverage import forces_text
    from peelkit.plausibility import rules

    if findings is None:
        print(
            "\nFindings: none recorded; this warehouse was made before peelkit checked "
            "plausibility (files loaded from now on are checked)."
        )
        return
    if not findings:
        print("\nFindings: none; the plausibility rules flagged nothing in the loaded files.")
        return
    titles = rules().titles()
    print(
        "\nFindings of the plausibility rules, per source (the rows are used as loaded"
        + ("" if every else "; --all lists every finding")
        + ")"
    )
    groups: dict[tuple[str, str], list[Finding]] = {}
    for f in findings:
        groups.setdefault((f.source, f.rule), []).append(f)
    shown = None
    for (src, rule), mine in groups.items():
        if src != shown:
            print(f"\n{src}")
            shown = src
        print(wrapped(f"{rule}: {titles.get(rule, rule)} ({len(mine)})", indent=2))
        for f in mine if every else mine[:FINDINGS_SHOWN]:
            print(wrapped(f"{f.force_name}, {f.period}: {f.detail}", indent=4))
            print(f"      load {f.load_id}: {f.path}")
            if f.other_load_id is not None:
                print(f"      load {f.other_load_id}: {f.other_path}")
        if not every and len(mine) > FINDINGS_SHOWN:
            rest = mine[FINDINGS_SHOWN:]
            forces = sorted({f.force_name for f in rest})
            print(
                wrapped(
                    f"… and {len(rest)} more, of {forces_text(forces, [])}, "
                    f"{rest[0].period} to {rest[-1].period}",
                    indent=4,
                )
            )
