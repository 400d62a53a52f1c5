"""Loading source files into the warehouse: all of them, or none.

An ingest recognises every file from its header, checksums it, skips files already loaded
(same sha256), then loads the rest in one transaction: each file gets a row in ``loads`` and
its rows carry that ``load_id``; rows that do not parse or fail a check go to
``rejected_rows`` with their line, field and reason. Any error — an unknown force, a file that
cannot be read, a rejection under ``strict`` — rolls the whole transaction back, so a failed or
killed ingest leaves the warehouse exactly as it was.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import io
import itertools
import os
import re
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb

from peelkit import __version__, reference
from peelkit.errors import (
    DamagedFile,
    InputError,
    MissingContext,
    RejectedRows,
    UnknownForce,
    UnknownFormat,
    UnreadableFile,
)
from peelkit.plausibility import record_findings
from peelkit.readers import recognise
from peelkit.readers.base import IN_SCOPE, CsvFormat, Format, Part, PlannedLoad, Reject
from peelkit.readers.files import Digest, SourceFile, close_archives, digest, discover
from peelkit.readers.ons_population import MidYearEstimates
from peelkit.readers.spreadsheets import sheets_as_csv, workforce_rows
from peelkit.warehouse import insert_rows

#: How many bytes of CSV one read_csv call takes at most (DuckDB parallelises inside a call).
BATCH_BYTES = 768 * 1024 * 1024

LOADS_COLUMNS = (
    "load_id",
    "path",
    "member",
    "sha256",
    "kind",
    "bytes",
    "rows_read",
    "rows_loaded",
    "rows_rejected",
    "started_at",
    "finished_at",
    "peelkit_version",
    "label",
    "damage",
)
PERIOD_COLUMNS = (
    "load_id",
    "source",
    "force_code",
    "period",
    "period_start",
    "period_kind",
    "rows",
)

#: The columns a reader's periods_sql() gives, in order (superseded_by is set afterwards).
PERIODS_SELECTED = (
    "(load_id, source, force_code, period, period_start, period_kind, rows, asb_rows, note)"
)

#: police.uk tables: a republished force-month's earlier rows are deleted, not kept.
POLICE_UK_TABLES = ("police_uk_street", "police_uk_outcomes", "police_uk_stop_search")

Progress = Callable[[str, int, str], None]
"""progress(event, amount, label): event is 'hash-total', 'hash', 'load-total' or 'load'."""

STRUCTURAL = {
    "MISSING COLUMNS",
    "TOO MANY COLUMNS",
    "UNQUOTED VALUE",
    "LINE SIZE OVER MAXIMUM",
    "INVALID ENCODING",
    "INVALID STATE",
}
CAST_VALUE = re.compile(r'Could not convert string "(.*)" to', re.DOTALL)


@dataclass
class FileResult:
    """What happened to one file of an ingest."""

    display: str
    kind: str
    status: str  # 'loaded' or 'already loaded'
    load_id: int
    bytes: int
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    damage: str | None = None  # where the file looks damaged (loaded with accept_damaged)


@dataclass
class IngestReport:
    files: list[FileResult] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    seconds: float = 0.0
    passed_over: list[str] = field(default_factory=list)  # files in folders that are not data
    # earlier loads' force-periods that these files published again: (source, force, period,
    # earlier load, this load)
    replaced: list[tuple[str, str, str, int, int]] = field(default_factory=list)

    @property
    def empty(self) -> list[FileResult]:
        """Files loaded with a header and no rows."""
        return [f for f in self.loaded if f.rows_read == 0]

    @property
    def loaded(self) -> list[FileResult]:
        return [f for f in self.files if f.status == "loaded"]

    @property
    def skipped(self) -> list[FileResult]:
        return [f for f in self.files if f.status != "loaded"]


def no_progress(event: str, amount: int, label: str) -> None:
    """The progress of an ingest nobody watches."""
    return None


def ingest(
    con: duckdb.DuckDBPyConnection,
    paths: Iterable[Path | str],
    *,
    strict: bool = False,
    force: str | None = None,
    progress: Progress = no_progress,
    label: str | None = None,
    accept_damaged: bool = False,
) -> IngestReport:
    """Load every file under ``paths`` into the warehouse ``con``, in one transaction.

    ``label`` is recorded with each load and carried by everything computed from it (the
    demo's "Demo data — synthetic, not official statistics"). A damaged file (cut short, or
    holding rows of another month than its name says) fails the whole load unless
    ``accept_damaged``: then its complete rows load and the ledger records the damage, which
    coverage and every figure computed from the file carry."""
    started = time.perf_counter()
    passed_over: list[str] = []
    given = [Path(p) for p in paths]
    sources = discover(given, passed_over)
    try:
        return _ingest(
            con,
            sources,
            passed_over,
            given,
            strict,
            force,
            progress,
            label,
            accept_damaged,
            started,
        )
    finally:
        close_archives(sources)  # also when a file is refused: no archive left to the GC


def _ingest(
    con: duckdb.DuckDBPyConnection,
    sources: list[SourceFile],
    passed_over: list[str],
    paths: list[Path],
    strict: bool,
    force: str | None,
    progress: Progress,
    label: str | None,
    accept_damaged: bool,
    started: float,
) -> IngestReport:
    if not sources:
        raise InputError(
            "No loadable files (.csv, .ods, .xls, .xlsx or .zip) were found in "
            + ", ".join(str(p) for p in paths)
            + ". Give files, folders or monthly archive zips."
        )
    override = reference.force_named(force, "--force") if force else None
    recognised = _recognise_all(sources)
    contexts = {s.display: _context(s, fmt, override) for s, fmt in recognised}

    # A file can only repeat a load (or another file given now) of the same size, so only
    # those files are checksummed before the load starts; the others are checksummed by
    # threads while DuckDB loads (hashlib frees the GIL) and their digests are awaited when
    # their line counts and the ledger need them.
    loaded_sizes = {int(b) for (b,) in con.execute("SELECT DISTINCT bytes FROM loads").fetchall()}
    sizes = Counter(s.size for s in sources)
    first = [s for s in sources if s.size in loaded_sizes or sizes[s.size] > 1]
    progress("hash-total", sum(s.size for s in sources), "")
    pool = ThreadPoolExecutor(max_workers=os.cpu_count() or 2)
    try:
        checksums: dict[str, Future[Digest]] = {}
        for s in first + [s for s in sources if s.size not in loaded_sizes and sizes[s.size] == 1]:
            checksums[s.display] = pool.submit(digest, s)
            checksums[s.display].add_done_callback(_report_hashed(progress, s))
        return _plan_and_load(
            con,
            recognised,
            contexts,
            {s.display for s in first},
            checksums,
            passed_over,
            strict,
            progress,
            label,
            accept_damaged,
            started,
        )
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _report_hashed(progress: Progress, source: SourceFile) -> Callable[[Future[Digest]], None]:
    def hashed(_: Future[Digest]) -> None:
        progress("hash", source.size, source.display)

    return hashed


def _plan_and_load(
    con: duckdb.DuckDBPyConnection,
    recognised: list[tuple[SourceFile, Format]],
    contexts: dict[str, tuple[str | None, date | None]],
    checked_first: set[str],
    checksums: dict[str, Future[Digest]],
    passed_over: list[str],
    strict: bool,
    progress: Progress,
    label: str | None,
    accept_damaged: bool,
    started: float,
) -> IngestReport:
    report = IngestReport(passed_over=passed_over)
    known = dict(con.execute("SELECT sha256, load_id FROM loads").fetchall())
    row = con.execute("SELECT coalesce(max(load_id), 0) FROM loads").fetchone()
    next_id = int(row[0]) + 1 if row else 1
    plans: list[PlannedLoad] = []
    for s, fmt in recognised:
        checksum: Digest | Future[Digest] = checksums[s.display]
        if s.display in checked_first:
            d = checksums[s.display].result()
            if d.sha256 in known:
                report.files.append(
                    FileResult(s.display, fmt.kind, "already loaded", known[d.sha256], s.size)
                )
                continue
            known[d.sha256] = next_id
            checksum = d
        force_code, month = contexts[s.display]
        plans.append(PlannedLoad(s, checksum, next_id, fmt, force_code, month))
        next_id += 1

    replaced: list[tuple[str, str, str, int, int]] = []
    if plans:
        con.execute("BEGIN TRANSACTION")
        try:
            rejects = _load(con, plans, progress, label)
            replaced = _replace_earlier_releases(con, [p.load_id for p in plans])
            damaged = [p for p in plans if p.damage]
            if damaged and not accept_damaged:
                raise DamagedFile(_damaged_message(damaged), path=damaged[0].source.display)
            if strict and rejects:
                raise RejectedRows(_strict_message(plans, rejects))
            con.execute("COMMIT")
        except BaseException:
            # A COMMIT that failed (a full disk) has rolled back already, and a database
            # DuckDB invalidated cannot roll back: the error to raise is the one that got here.
            with contextlib.suppress(duckdb.Error):
                con.execute("ROLLBACK")
            raise
        finally:
            _drop_temp(con)
        report.rejects = rejects
    for p in plans:
        report.files.append(
            FileResult(
                p.source.display,
                p.fmt.kind,
                "loaded",
                p.load_id,
                p.source.size,
                p.rows_read,
                p.rows_loaded,
                p.rows_rejected,
                p.damage,
            )
        )
    report.replaced = replaced
    report.files.sort(key=lambda f: (f.load_id, f.status != "loaded"))
    report.seconds = time.perf_counter() - started
    return report


def _recognise_all(sources: list[SourceFile]) -> list[tuple[SourceFile, Format]]:
    """Every file's format; when files are not recognised, one error names them all."""
    recognised, problems = [], []
    for s in sources:
        try:
            recognised.append((s, recognise(s)))
        except (UnknownFormat, DamagedFile, UnreadableFile) as exc:
            problems.append(exc)
    if len(problems) == 1:
        raise problems[0]
    if problems:
        kinds = {type(p) for p in problems}
        error = kinds.pop() if len(kinds) == 1 else InputError
        what = "are not files peelkit reads" if error is UnknownFormat else "cannot be loaded"
        raise error(
            f"{len(problems)} of the {len(sources)} files {what}, so nothing was loaded:\n"
            + "\n".join(f"  - {_first_sentence(str(p))}" for p in problems[:20])
            + (f"\n  … and {len(problems) - 20} more" if len(problems) > 20 else "")
            + "\nLoad one of them alone for the details; 'peelkit formats' lists every header "
            "peelkit reads.",
            path=problems[0].path,
        )
    return recognised


def _first_sentence(message: str) -> str:
    first = message.splitlines()[0]
    return first if len(first) <= 240 else first[:237] + "…"


def _context(
    source: SourceFile, fmt: Format, override: str | None
) -> tuple[str | None, date | None]:
    force_code, month = fmt.context(source)
    if override:
        force_code = override
    if fmt.needs_context() and force_code is None:
        raise MissingContext(
            f"{source.display}: a {fmt.title} file does not say which force it covers, and its "
            "name is not in the police.uk archive layout YYYY-MM-<force>-stop-and-search.csv "
            "with a known police.uk force id. Rename it to that layout, or pass --force "
            "(e.g. --force metropolitan) to say which force it is.",
            path=source.display,
        )
    return force_code, month


# -- the load itself, inside the transaction -------------------------------------------------


def _load(
    con: duckdb.DuckDBPyConnection,
    plans: list[PlannedLoad],
    progress: Progress,
    label: str | None = None,
) -> list[Reject]:
    now = datetime.now(UTC)
    progress("load-total", sum(p.source.size for p in plans), "")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE __file_loads (duck_path VARCHAR, load_id INTEGER, "
        "ctx_force_code VARCHAR, ctx_month DATE, line_offset INTEGER)"
    )
    con.execute("CREATE OR REPLACE TEMP TABLE __scope (load_id INTEGER)")
    memfs = _MemoryFiles(con)
    named_types = _create_enum_types(con, plans)
    rejects: list[Reject] = []

    by_reader: dict[str, list[PlannedLoad]] = defaultdict(list)
    for p in plans:
        by_reader[_reader_key(p.fmt)].append(p)
    loader = _Loader(con, memfs, named_types, progress)
    for group in sorted(by_reader.values(), key=lambda g: g[0].fmt.load_order):
        rejects += group[0].fmt.load(loader, group)  # each format loads itself

    _empty_file_periods(con, plans)
    for name in named_types.values():  # in the transaction: a failed load leaves none behind
        con.execute(f"DROP TYPE {name}")

    insert_rows(
        con,
        "rejected_rows",
        ("load_id", "line", "field", "reason", "raw", "force_code", "period_start"),
        [
            (r.load_id, r.line, r.field, r.reason, r.raw, r.force_code, r.period_start)
            for r in rejects
        ],
    )
    finished = datetime.now(UTC)
    insert_rows(
        con,
        "loads",
        LOADS_COLUMNS,
        [
            (
                p.load_id,
                str(p.source.path),
                p.source.member,
                p.digest.sha256,
                p.fmt.kind,
                p.source.size,
                p.rows_read,
                p.rows_loaded,
                p.rows_rejected,
                now,
                finished,
                __version__,
                label,
                p.damage,
            )
            for p in plans
        ],
    )
    record_findings(con, [p.load_id for p in plans])
    return rejects


class _Loader:
    """How ingest loads a group of files of one format (readers.base.Loader), in the open
    transaction: CSV text batch by batch through DuckDB, spreadsheet tables and estimates
    through their readers."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        memfs: _MemoryFiles,
        named_types: dict[str, str],
        progress: Progress,
    ) -> None:
        self.con, self.memfs, self.named_types, self.progress = con, memfs, named_types, progress

    def load_csv(
        self, fmt: CsvFormat, plans: list[PlannedLoad], sheets: bool = False
    ) -> list[Reject]:
        """Files (or, with ``sheets``, spreadsheet sheets) read by ``fmt``'s declaration."""
        rejects: list[Reject] = []
        for batch in _batches(plans):
            rejects += _load_csv_batch(
                self.con, fmt, batch, self.memfs, self.progress, self.named_types, sheets
            )
        _set_scope(self.con, [p.load_id for p in plans])
        self.con.execute(f"INSERT INTO load_periods {PERIODS_SELECTED} {fmt.periods_sql()}")
        return rejects

    def load_workforce(self, plans: list[PlannedLoad]) -> list[Reject]:
        return _load_workforce(self.con, plans, self.progress)

    def load_estimates(self, fmt: MidYearEstimates, plans: list[PlannedLoad]) -> list[Reject]:
        _load_estimates(self.con, fmt, plans, self.progress)
        return []


def _create_enum_types(con: duckdb.DuckDBPyConnection, plans: list[PlannedLoad]) -> dict[str, str]:
    """Each ENUM column type of the plans' readers as a named type (see read_csv_sql)."""
    enums: dict[str, str] = {}
    for p in plans:
        fmt = p.fmt.csv_reader()
        if fmt is None:
            continue
        for c in fmt.columns:
            if c.type.startswith("ENUM(") and c.type not in enums:
                enums[c.type] = f"__peelkit_enum_{len(enums)}"
                con.execute(f"CREATE TYPE {enums[c.type]} AS {c.type}")
    return enums


def _reader_key(fmt: Format) -> str:
    """Files read by the same declared reader load together (one lookup year, one header)."""
    return type(fmt).__name__ + ":" + fmt.title + ":" + str(getattr(fmt, "with_basis", ""))


def _batches(group: list[PlannedLoad]) -> Iterable[list[PlannedLoad]]:
    batch: list[PlannedLoad] = []
    size = 0
    for p in group:
        if batch and size + p.source.size > BATCH_BYTES:
            yield batch
            batch, size = [], 0
        batch.append(p)
        size += p.source.size
    if batch:
        yield batch


class _MemoryFiles:
    """The in-memory files DuckDB reads zip members and spreadsheet sheets from (memory://…):
    fsspec's memory filesystem, imported and registered with DuckDB only when a load first
    needs one (plain CSV files on disk never do)."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self._fs: Any = None

    @property
    def fs(self) -> Any:
        if self._fs is None:
            import fsspec

            self._fs = fsspec.filesystem("memory")
            if "memory" not in self.con.list_filesystems():
                self.con.register_filesystem(self._fs)
        return self._fs

    def pipe_file(self, path: str, data: bytes) -> None:
        self.fs.pipe_file(path, data)

    def cat_file(self, path: str) -> bytes:
        return bytes(self.fs.cat_file(path))

    def rm_file(self, path: str) -> None:
        self.fs.rm_file(path)


def _prepare_parts(p: PlannedLoad, memfs: _MemoryFiles, fmt: CsvFormat, sheets: bool) -> None:
    if sheets:
        for sheet, offset, data in sheets_as_csv(p.source, fmt):
            path = f"memory:///peelkit/{p.load_id}/{sheet}.csv"
            memfs.pipe_file(path, data)
            p.parts.append(Part(path, offset, data.count(b"\n") - 1, f"sheet {sheet}"))
    elif p.source.member is not None:
        data = p.source.read_bytes()
        path = f"memory:///peelkit/{p.load_id}/{Path(p.source.member).name}"
        memfs.pipe_file(path, data)
        p.parts.append(Part(path))
    else:
        p.parts.append(Part(str(p.source.path.resolve())))


def _read_part(part: Part, memfs: _MemoryFiles) -> bytes:
    if part.duck_path.startswith("memory://"):
        return memfs.cat_file(part.duck_path)
    return Path(part.duck_path).read_bytes()


_batch_counter = itertools.count()


def _load_csv_batch(
    con: duckdb.DuckDBPyConnection,
    fmt: CsvFormat,
    batch: list[PlannedLoad],
    memfs: _MemoryFiles,
    progress: Progress,
    named_types: dict[str, str],
    sheets: bool = False,
) -> list[Reject]:
    for p in batch:
        _prepare_parts(p, memfs, fmt, sheets)
    con.execute("DELETE FROM __file_loads")
    insert_rows(
        con,
        "__file_loads",
        ("duck_path", "load_id", "ctx_force_code", "ctx_month", "line_offset"),
        [
            (part.duck_path, p.load_id, p.force_code, p.month, part.line_offset)
            for p in batch
            for part in p.parts
        ],
    )
    paths = [part.duck_path for p in batch for part in p.parts]
    if not paths:  # spreadsheets without a matching sheet cannot get here; keep the ledger right
        return []
    rejects_name = f"__rejects_{next(_batch_counter)}"
    rows = (
        f"(SELECT r.*, fl.load_id, fl.ctx_force_code, fl.ctx_month "
        f"FROM {fmt.read_csv_sql(paths, rejects_name, named_types)} AS r "
        f"JOIN __file_loads AS fl ON fl.duck_path = r.__file "
        f"WHERE {fmt.ok_predicate()})"
    )
    try:
        con.execute(fmt.insert_sql(rows))
    except duckdb.Error as exc:
        raise _unreadable(batch, exc) from exc

    if not sheets:  # a whole file's data lines: its line count, checksummed meanwhile
        for p in batch:
            p.parts[0].data_rows = p.digest.lines - 1
    by_load = {p.load_id: p for p in batch}
    duck_rejects = _duck_rejects(con, fmt, rejects_name, by_load, memfs)
    _set_scope(con, list(by_load))
    accepted = dict(con.execute(fmt.accepted_rows_sql()).fetchall())
    rejects: list[Reject] = []
    for p in batch:
        mine = [r for r in duck_rejects if r.load_id == p.load_id]
        p.rows_loaded = int(accepted.get(p.load_id, 0) or 0)
        expected = sum(part.data_rows or 0 for part in p.parts)
        duck_lines = {r.line for r in mine}
        if p.rows_loaded + len(duck_lines) == expected and not (
            fmt.all_checks() and any(part.data_rows is None for part in p.parts)
        ):
            p.rows_read = expected
        else:
            records, check_rejects = fmt.locate_failed_checks(
                con, p, lambda part: _read_part(part, memfs)
            )
            mine += check_rejects
            p.rows_read = records
            accounted = p.rows_loaded + len({r.line for r in mine})
            if accounted != records:
                raise UnreadableFile(
                    f"{p.source.display} cannot be read consistently: read line by line it has "
                    f"{records} rows, but only {accounted} could be loaded or rejected one by "
                    f"one{_damage_hint(p, memfs)}. Nothing was loaded. Open the file in a text "
                    "editor, repair or remove the damaged lines, and load it again.",
                    path=p.source.display,
                )
        mine = [_attributed(fmt, p, r) for r in mine]
        p.rows_rejected = len({r.line for r in mine})
        p.damage = _cut_short(fmt, p, mine)
        rejects += mine
        progress("load", p.source.size, p.source.display)
    if fmt.month_column is not None:
        _check_months(con, fmt, batch, memfs)
    for p in batch:
        for part in p.parts:
            if part.duck_path.startswith("memory://"):
                memfs.rm_file(part.duck_path)
    return rejects


def _attributed(fmt: CsvFormat, p: PlannedLoad, r: Reject) -> Reject:
    """The reject with the force and period it belongs to, where the file or row says."""
    force_code, period_start = fmt.reject_context(r.raw, p)
    return dataclasses.replace(r, force_code=force_code, period_start=period_start)


def _cut_short(fmt: CsvFormat, p: PlannedLoad, rejects: list[Reject]) -> str | None:
    """Where a CSV file looks cut off (an interrupted download): it does not end with a line
    break and its last line is rejected, or its format is always published with one."""
    sheet = p.fmt.csv_reader() is not p.fmt  # a spreadsheet's sheets, written out by peelkit
    if sheet or p.digest.ends_with_newline or p.digest.lines < 2:
        return None
    last = p.digest.lines  # physical line number of the last line (the header is line 1)
    cut = [r for r in rejects if r.line == last]
    if cut:
        return f"it ends mid-record: line {last}, its last, is cut short ({cut[0].reason})"
    if fmt.ends_with_line_break:
        return (
            f"it ends without a line break after line {last}, and {fmt.title} files always end "
            "with one: the last record may be cut short"
        )
    return None


def _check_months(
    con: duckdb.DuckDBPyConnection,
    fmt: CsvFormat,
    batch: list[PlannedLoad],
    memfs: _MemoryFiles,
) -> None:
    """A one-month file whose rows are of another month than its name (and folder) says is
    damaged: the first such line is named."""
    assert fmt.month_column is not None
    _set_scope(con, [p.load_id for p in batch])
    found = dict(
        con.execute(
            f"SELECT load_id, list(DISTINCT strftime(month, '%Y-%m') ORDER BY 1) "
            f"FROM {fmt.table} WHERE {IN_SCOPE} GROUP BY load_id"
        ).fetchall()
    )
    for p in batch:
        if p.month is None:
            continue
        said = p.month.strftime("%Y-%m")
        folder = _folder_month(p.source)
        if folder is not None and folder != said:
            p.damage = p.damage or (
                f"its name says {said} but its folder says {folder}: rows of one month in the "
                "other's place"
            )
            continue
        others = [m for m in found.get(p.load_id, []) if m != said]
        if others and p.damage is None:
            line = _first_line_where(p, fmt.month_column, said, memfs)
            p.damage = (
                f"it holds rows of {', '.join(others)} although its name says {said} "
                f"(line {line} is the first)"
            )


def _folder_month(source: SourceFile) -> str | None:
    """The month of the folder a police.uk file sits in (archive layout YYYY-MM/…), if any."""
    folder = Path(source.member).parent.name if source.member else source.path.parent.name
    return folder if re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", folder) else None


def _first_line_where(
    p: PlannedLoad,
    column: str,
    expected: str,
    memfs: _MemoryFiles,
) -> int | None:
    """The physical line number of the first row whose ``column`` is not ``expected``."""
    for part in p.parts:
        reader = csv.reader(
            io.StringIO(_read_part(part, memfs).decode("utf-8-sig", "replace"), newline="")
        )
        header = next(reader, [])
        if column not in header:
            return None
        index, start = header.index(column), reader.line_num + 1
        for row in reader:
            if len(row) > index and row[index].strip() != expected:
                return start + part.line_offset
            start = reader.line_num + 1
    return None


def _damaged_message(damaged: list[PlannedLoad]) -> str:
    lines = [f"  - {p.source.display}: {p.damage}" for p in damaged[:20]]
    more = f"\n  … and {len(damaged) - 20} more" if len(damaged) > 20 else ""
    return (
        f"{len(damaged)} file(s) look damaged, so nothing was loaded:\n"
        + "\n".join(lines)
        + more
        + "\nDownload them again (an interrupted download cuts a file short; a file holding "
        "another month's rows may have been renamed). To load their "
        "complete rows anyway, run ingest again with --accept-damaged: the ledger then records "
        "each file as damaged, and coverage and every figure computed from it say so."
    )


def _replace_earlier_releases(
    con: duckdb.DuckDBPyConnection, load_ids: list[int]
) -> list[tuple[str, str, str, int, int]]:
    """Republished data replaces, never adds: each force-period these loads cover supersedes
    the same force-period of earlier loads (the latest load wins, as for a Home Office
    quarter). police.uk publishes every month again in each monthly archive, so the earlier
    rows of a replaced police.uk force-month are deleted (the ledger keeps the load and says
    which load replaced it); other sources keep every release, and the indicators read the
    latest."""
    _set_scope(con, load_ids)
    replaced = con.execute(
        f"""
        WITH new AS (
            SELECT source, force_code, period_start, period_kind, max(load_id) AS load_id
            FROM load_periods WHERE {IN_SCOPE} GROUP BY ALL
        )
        UPDATE load_periods AS old SET superseded_by = new.load_id
        FROM new
        WHERE old.source = new.source AND old.force_code = new.force_code
          AND old.period_start = new.period_start AND old.period_kind = new.period_kind
          AND old.load_id < new.load_id AND old.superseded_by IS NULL
        RETURNING source, force_code, period, load_id, superseded_by, period_start
        """
    ).fetchall()
    gone = [(r[0], r[3], r[1], r[5]) for r in replaced if r[0] in POLICE_UK_TABLES]
    if gone:  # one DELETE per table: an archive can republish thousands of force-months
        con.execute(
            "CREATE OR REPLACE TEMP TABLE __replaced "
            "(source VARCHAR, load_id INTEGER, force_code VARCHAR, month DATE)"
        )
        insert_rows(con, "__replaced", ("source", "load_id", "force_code", "month"), gone)
        for table in sorted({g[0] for g in gone}):
            con.execute(
                f"""
                DELETE FROM {table} AS t USING __replaced AS r
                WHERE r.source = '{table}' AND t.load_id = r.load_id
                  AND t.force_code = r.force_code AND t.month = r.month
                """
            )
        con.execute("DROP TABLE __replaced")
    return sorted((r[0], r[1], r[2], r[3], r[4]) for r in replaced)


def _damage_hint(p: PlannedLoad, memfs: _MemoryFiles) -> str:
    """Where a file that two readings disagree on looks damaged, if it is plain to see."""
    hints = []
    for part in p.parts:
        data = _read_part(part, memfs)
        if b"\x00" in data:
            line = data[: data.index(b"\x00")].count(b"\n") + 1 + part.line_offset
            hints.append(f"a NUL byte on line {line}")
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1 + part.line_offset
            hints.append(f"bytes that are not UTF-8 on line {line}")
    return " (it has " + " and ".join(hints) + ")" if hints else ""


def _duck_rejects(
    con: duckdb.DuckDBPyConnection,
    fmt: CsvFormat,
    name: str,
    by_load: dict[int, PlannedLoad],
    memfs: _MemoryFiles,
) -> list[Reject]:
    """DuckDB's rejects for the batch, one per bad field (or one per line when its shape is
    wrong), at physical line numbers."""
    try:
        rows = con.execute(
            f"""
            SELECT fl.load_id, fl.duck_path, fl.line_offset, e.line_byte_position,
                   e.column_name, e.error_type, e.error_message, e.csv_line
            FROM {name}_errors AS e
            JOIN {name}_scans AS s USING (scan_id, file_id)
            JOIN __file_loads AS fl ON fl.duck_path = s.file_path
            ORDER BY fl.load_id, e.line_byte_position, e.column_idx
            """
        ).fetchall()
    except duckdb.CatalogException:
        return []  # no file of the batch had an error, so DuckDB made no rejects table
    finally:
        con.execute(f"DROP TABLE IF EXISTS {name}_errors")
        con.execute(f"DROP TABLE IF EXISTS {name}_scans")
    if not rows:
        return []
    lines = _physical_lines(rows, memfs)
    by_line: dict[tuple[int, int], list[tuple[str, str, str | None, str | None]]] = defaultdict(
        list
    )
    for load_id, duck_path, _, position, column, error_type, message, raw in rows:
        line, record = lines[(duck_path, position)]
        by_line[(load_id, line)].append((column, error_type, message, record or raw))
    out: list[Reject] = []
    for (load_id, line), errors in by_line.items():
        raw = errors[0][3]
        shape = [e for e in errors if e[1] in STRUCTURAL]
        if shape:  # a row of the wrong shape: its values are in the wrong columns, so say only that
            out.append(Reject(load_id, line, None, _structural_reason(fmt, shape[0], raw), raw))
            continue
        for column, error_type, message, _ in errors:
            if error_type != "CAST":
                out.append(Reject(load_id, line, column, f"{error_type.lower()}: {message}", raw))
                continue
            match = CAST_VALUE.search(message or "")
            value = match.group(1) if match else None
            if column in fmt.force_columns and value not in (None, ""):
                p = by_load[load_id]
                closest = reference.closest_force_names(value)
                raise UnknownForce(
                    f"{p.source.display}, line {line}, field {column!r}: {value!r} is not a known "
                    f"force name. Closest known names: {', '.join(closest)}. If {value!r} is a "
                    "real spelling of a force's name, add it to "
                    "src/peelkit/reference/data/force_aliases.csv with the source it was seen in.",
                    path=p.source.display,
                    name=value,
                    line=line,
                    closest=closest,
                )
            out.append(Reject(load_id, line, column, fmt.cast_reason(column, value), raw))
    return out


def _csv_text(fields: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(fields)  # quotes fields holding line ends
    return out.getvalue()[:-1]


def _line_start(data: bytes, position: int) -> int:
    """The start of the line DuckDB's byte position points into (it can be one byte past the
    start, or at the line end just before it)."""
    start = min(max(position, 0), len(data))
    while start < len(data) and data[start : start + 1] in (b"\r", b"\n"):
        start += 1
    while start > 0 and data[start - 1 : start] not in (b"\r", b"\n"):
        start -= 1
    return start


def _physical_lines(
    rows: list[tuple[Any, ...]], memfs: _MemoryFiles
) -> dict[tuple[str, int], tuple[int, str]]:
    """Line number as a text editor shows it, and the record's text, at each of DuckDB's byte
    positions (DuckDB's own line count counts records, so a quoted field spanning lines
    would shift it; its csv_line can start with the line end before the record)."""
    positions: dict[str, set[int]] = defaultdict(set)
    offsets: dict[str, int] = {}
    for _, duck_path, offset, position, *_ in rows:
        positions[duck_path].add(int(position))
        offsets[duck_path] = int(offset)
    lines: dict[tuple[str, int], tuple[int, str]] = {}
    for duck_path, wanted in positions.items():
        data = _read_part(Part(duck_path), memfs)
        newlines, previous = 0, 0
        for position in sorted(wanted):
            start = _line_start(data, position)
            newlines += (  # \n, \r\n and a lone \r each end a line, as csv and editors count
                data.count(b"\n", previous, start)
                + data.count(b"\r", previous, start)
                - data.count(b"\r\n", previous, start)
            )
            previous = start
            text = data[start : start + 65536].decode("utf-8", errors="replace")
            record = next(csv.reader(io.StringIO(text, newline="")), [])
            lines[(duck_path, position)] = (newlines + 1 + offsets[duck_path], _csv_text(record))
    return lines


def _structural_reason(
    fmt: CsvFormat, error: tuple[str, str, str | None, str | None], raw: str | None
) -> str:
    _, error_type, message, _ = error
    width = len(fmt.header)
    if error_type in ("MISSING COLUMNS", "TOO MANY COLUMNS"):
        found = len(next(csv.reader(io.StringIO(raw or "", newline="")), []))
        return f"expected {width} fields, found {found}"
    if error_type == "INVALID ENCODING":
        return "the line is not valid UTF-8 text; save the file as UTF-8"
    if error_type == "UNQUOTED VALUE":
        return "a quote character inside a field that is not quoted"
    return f"{error_type.lower()}: {message}"


def _set_scope(con: duckdb.DuckDBPyConnection, load_ids: Sequence[int]) -> None:
    con.execute("DELETE FROM __scope")
    insert_rows(con, "__scope", ("load_id",), [(i,) for i in load_ids])


def _empty_file_periods(con: duckdb.DuckDBPyConnection, plans: list[PlannedLoad]) -> None:
    """A police.uk file with a header and no rows is recorded as covering its force-month."""
    rows = [
        (p.load_id, p.fmt.kind, p.force_code, p.month.strftime("%Y-%m"), p.month, "month", 0)
        for p in plans
        if p.rows_loaded == 0 and p.force_code and p.month is not None
    ]
    insert_rows(con, "load_periods", PERIOD_COLUMNS, rows)


def _load_workforce(
    con: duckdb.DuckDBPyConnection, group: list[PlannedLoad], progress: Progress
) -> list[Reject]:
    rejects: list[Reject] = []
    for p in group:
        rows, mine, read = workforce_rows(p.source, p.load_id)
        insert_rows(
            con,
            "workforce",
            ("force_code", "worker_type", "unit", "as_at", "value", "load_id"),
            rows,
        )
        p.rows_read = read
        p.rows_loaded = read - len({r.line for r in mine})
        p.rows_rejected = len({r.line for r in mine})
        rejects += mine
        progress("load", p.source.size, p.source.display)
    ids = ", ".join(str(p.load_id) for p in group)
    con.execute(
        f"""
        INSERT INTO load_periods
            (load_id, source, force_code, period, period_start, period_kind, rows, asb_rows,
             note)
        SELECT load_id, 'workforce', force_code, CAST(as_at AS VARCHAR), as_at, 'as at',
               count(*), NULL, NULL
        FROM workforce WHERE load_id IN ({ids}) GROUP BY ALL
        """
    )
    return rejects


def _load_estimates(
    con: duckdb.DuckDBPyConnection,
    fmt: MidYearEstimates,
    group: list[PlannedLoad],
    progress: Progress,
) -> None:
    """ONS mid-year estimates: the districts as published into ``lad_population``, and their
    sums per police force area (with the City of London's transient population) into
    ``population``, through the lookup of the districts' own geography."""
    for p in group:
        estimates = fmt.read(p.source)
        insert_rows(
            con,
            "lad_population",
            ("lad_code", "lad_name", "year", "population", "line", "load_id"),
            [
                (r.lad_code, r.lad_name, r.year, r.population, r.line, p.load_id)
                for r in estimates.rows
            ],
        )
        p.rows_read = estimates.read
        p.rows_loaded = len({r.lad_code for r in estimates.rows})
        p.rows_rejected = 0
        left = "; ".join(f"{n} rows of {why} left out" for why, n in estimates.left_out.items())
        for year in sorted({r.year for r in estimates.rows}):
            districts = {r.lad_code for r in estimates.rows if r.year == year}
            lookup = _lookup_for(con, p.source.display, year, districts)
            source = (
                f"ONS mid-{year} population estimates ({Path(p.source.name).name}): "
                f"{len(districts)} local authority districts summed through the ONS LAD to "
                f"CSP to PFA lookup (December {lookup})"
            )
            con.execute(
                """
                INSERT INTO population
                SELECT l.pfa_code, ?, sum(e.population), NULL, 'resident', ?, ?
                FROM lad_population AS e
                JOIN (SELECT DISTINCT lad_code, pfa_code FROM lad_csp_pfa WHERE year = ?) AS l
                  USING (lad_code)
                WHERE e.load_id = ? AND e.year = ?
                GROUP BY l.pfa_code
                """,
                [year, source, p.load_id, lookup, p.load_id, year],
            )
            insert_rows(
                con,
                "population",
                ("force_code", "year", "population", "households", "basis", "source", "load_id"),
                [
                    (a.force_code, year, a.population, None, a.basis, a.source, p.load_id)
                    for a in reference.population_adjustments()
                    if a.first_year <= year <= a.last_year
                ],
            )
        con.execute(
            """
            INSERT INTO load_periods
            (load_id, source, force_code, period, period_start, period_kind, rows, asb_rows,
             note)
            SELECT load_id, 'population', force_code, 'mid-' || CAST(year AS VARCHAR),
                   make_date(year, 6, 30), 'year', count(*), NULL, ?
            FROM population WHERE load_id = ? GROUP BY ALL
            """,
            [left or None, p.load_id],
        )
        progress("load", p.source.size, p.source.display)


def _lookup_for(
    con: duckdb.DuckDBPyConnection, display: str, year: int, districts: set[str]
) -> int:
    """The year of the loaded LAD → CSP → PFA lookup whose districts are exactly those of the
    estimates (nearest to their year); an error naming the districts that do not match."""
    lookups = {
        int(y): set(codes)
        for y, codes in con.execute(
            "SELECT year, list(DISTINCT lad_code) FROM lad_csp_pfa GROUP BY year"
        ).fetchall()
    }
    matching = [y for y, codes in lookups.items() if codes == districts]
    if matching:
        return min(matching, key=lambda y: (abs(y - year), -y))
    if not lookups:
        raise InputError(
            f"{display}: the mid-{year} estimates are summed to police force areas through the "
            "ONS Local Authority District to Community Safety Partnership to Police Force Area "
            f"lookup, and none is loaded. Load the lookup for {year} (LAD{year % 100:02d}CD,…) "
            "in the same ingest or before, and load the estimates again.",
            path=display,
        )
    best = max(lookups, key=lambda y: (len(lookups[y] & districts), -abs(y - year)))
    not_in_lookup = sorted(districts - lookups[best])
    not_estimated = sorted(lookups[best] - districts)
    said = []
    if not_in_lookup:
        said.append(
            f"{len(not_in_lookup)} district(s) of the estimates are not in it: "
            + ", ".join(not_in_lookup[:8])
            + (" …" if len(not_in_lookup) > 8 else "")
        )
    if not_estimated:
        said.append(
            f"{len(not_estimated)} district(s) of it have no estimate: "
            + ", ".join(not_estimated[:8])
            + (" …" if len(not_estimated) > 8 else "")
        )
    raise InputError(
        f"{display}: the local authority districts of the mid-{year} estimates do not match any "
        f"loaded LAD to CSP to PFA lookup (the closest is December {best}: "
        + "; ".join(said)
        + f"). District codes change over the years: load the ONS LAD to CSP to PFA lookup for "
        f"{year} and load the estimates again.",
        path=display,
    )


def _unreadable(batch: list[PlannedLoad], exc: duckdb.Error) -> InputError:
    names = ", ".join(p.source.display for p in batch[:5]) + (" …" if len(batch) > 5 else "")
    return UnreadableFile(
        f"DuckDB could not read {names}: {str(exc).splitlines()[0]}. Check that the file is "
        "UTF-8 CSV with a comma delimiter and double-quote quoting, as published.",
        path=batch[0].source.display,
    )


def _strict_message(plans: list[PlannedLoad], rejects: list[Reject]) -> str:
    names = {p.load_id: p.source.display for p in plans}
    lines = [
        f"  {names[r.load_id]}, line {r.line}, field {r.field or '(whole line)'}: {r.reason}"
        for r in rejects[:10]
    ]
    more = f"\n  … and {len(rejects) - 10} more" if len(rejects) > 10 else ""
    return (
        f"--strict: {len(rejects)} row(s) were rejected, so nothing was loaded:\n"
        + "\n".join(lines)
        + more
        + "\nFix the rows, or load without --strict to keep the good rows and record the bad "
        "ones in rejected_rows."
    )


def _drop_temp(con: duckdb.DuckDBPyConnection) -> None:
    for table in ("__file_loads", "__scope", "__replaced"):
        with contextlib.suppress(duckdb.Error):
            con.execute(f"DROP TABLE IF EXISTS {table}")


__all__ = ["FileResult", "IngestReport", "ingest"]
