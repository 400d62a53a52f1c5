"""How the command line presents results: the consoles, tables that fit the screen, plain
aligned columns and wrapped text, and benchmark records in each output format (a registry of
renderers: table, csv, json, parquet). The command line parses arguments and calls the library;
everything it shows goes through here. Nothing heavy is imported until it is used: commands
that print plain lines never load rich.
"""

from __future__ import annotations

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
    from rich.table import Table

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
