"""Backup and restore of the workbench database: ``peelkit backup FILE``, ``peelkit restore FILE``.

A backup is one portable file, gzip'd JSON lines, the same whichever database wrote it, so a
SQLite backup restores into PostgreSQL and back:

- line 1, the header: the format, peelkit's version, the schema revision (``Database.revision``),
  the time, the kind of database it came from, every table in dependency order with its columns
  and its number of rows, and the sha256 of everything after the header line;
- then one line per row, ``[table, [value, ...]]`` in the header's column order, tables in
  that order (a row's references come before it), rows by primary key. Times are ISO 8601 in
  UTC with their offset, to the microsecond (the audit trail's hashes cover them).

``backup`` reads the whole database in one read transaction (``Database.snapshot``: what one
moment saw, even while others write), writes the file under a temporary name beside it and
renames it when complete, so FILE is a whole backup or absent, never half of one.

``restore`` first reads the whole file and checks it (header, sha256, every line, the row
counts) before touching the database, then writes everything in ONE write transaction: it
refuses a database that holds any row unless ``replace`` (which empties it in the same
transaction), inserts every row, sets PostgreSQL's id sequences past the restored ids, checks
the row counts and verifies the audit trail's chain, and appends a "backup restored" entry to
it. Any problem rolls all of it back and says what and what to do.

The audit table refuses UPDATE and DELETE (its triggers, made by migration 0001). Inserting
rows is allowed; emptying it for ``replace`` lifts the guard inside the transaction only: on
PostgreSQL ``ALTER TABLE audit DISABLE TRIGGER USER`` … ``ENABLE``; on SQLite, which cannot
disable a trigger, its triggers are dropped and made again from the SQL SQLite kept of them
(``sqlite_master``: the migration's own statements, not a copy). A failure anywhere rolls that
back too, so the guard is never left off.

Schema revisions: a backup restores into a database at its own revision. A new database (no
workbench schema yet) is made at the backup's revision by the migrations; when that is older
than this peelkit's newest, the restored database is then upgraded (a second transaction: if
the upgrade fails the database is left restored at the older revision, and ``peelkit
workbench upgrade`` finishes it). An existing database at another revision is refused, as is a
backup of a revision this peelkit does not know (made by a newer peelkit).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import secrets
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, DateTime, MetaData, Table, func, inspect, select, text
from sqlalchemy.exc import DBAPIError

from peelkit.errors import BackupRefused
from peelkit.workbench import audit
from peelkit.workbench.clock import Clock, aware, system_clock
from peelkit.workbench.database import Database, shown
from peelkit.workbench.tables import metadata

FORMAT = "peelkit workbench backup"
FORMAT_VERSION = 1
#: rows inserted per statement when restoring
BATCH = 500
#: the audit entry a restore appends
RESTORED = "backup restored"


@dataclass(frozen=True)
class TableInfo:
    name: str
    columns: list[str]
    rows: int


@dataclass(frozen=True)
class Header:
    peelkit: str
    revision: str
    created_at: datetime
    database: str
    tables: list[TableInfo]
    sha256: str

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)

    def counts(self) -> dict[str, int]:
        return {t.name: t.rows for t in self.tables}


@dataclass
class Restored:
    header: Header
    replaced: dict[str, int] = field(default_factory=dict)
    upgraded_to: str | None = None
    audit_entries: int = 0


# -- writing -----------------------------------------------------------------------------------


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return aware(value).isoformat(timespec="microseconds")
    return value


def _line(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"


def _known_revisions(db: Database) -> list[str]:
    from alembic.script import ScriptDirectory

    return [s.revision for s in ScriptDirectory.from_config(db._alembic()).walk_revisions()]


def _workbench_tables(conn: Connection) -> list[Table]:
    """The tables of ``tables.metadata`` this database has (all of them at the newest
    revision; fewer at an older one), as the database has them, in dependency order."""
    present = set(inspect(conn).get_table_names())
    names = [t.name for t in metadata.sorted_tables if t.name in present]
    found = MetaData()
    found.reflect(conn, only=names)
    return [found.tables[name] for name in names]


def backup(db: Database, path: Path, *, clock: Clock = system_clock) -> Header:
    """Write a backup of ``db`` to ``path`` (replaced if it exists), atomically."""
    from peelkit import __version__

    path = Path(path)
    revision = db.revision()
    if revision is None:
        raise BackupRefused(f"{shown(db.url)} is not a workbench database: nothing to back up")
    if revision not in _known_revisions(db):
        raise BackupRefused(
            f"{shown(db.url)} is at schema {revision}, which this peelkit does not know (a newer "
            "peelkit made it): back it up with that version"
        )
    partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}.partial")
    body = hashlib.sha256()
    infos: list[TableInfo] = []
    try:
        # the rows go to a temporary file first: the header, which comes first, holds their
        # sha256 and counts
        with open(partial.with_suffix(".rows"), "w+b") as rows_file:
            with db.snapshot() as conn:
                for table in _workbench_tables(conn):
                    columns = [c.name for c in table.columns]
                    order = list(table.primary_key.columns) or list(table.columns)
                    count = 0
                    for row in conn.execute(select(table).order_by(*order)):
                        line = _line([table.name, [_encode(v) for v in row]])
                        body.update(line)
                        rows_file.write(line)
                        count += 1
                    infos.append(TableInfo(table.name, columns, count))
            header = Header(
                peelkit=__version__,
                revision=revision,
                created_at=aware(clock()),
                database="sqlite" if db.sqlite else "postgresql",
                tables=infos,
                sha256=body.hexdigest(),
            )
            rows_file.seek(0)
            with open(partial, "wb") as raw:
                with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as out:
                    out.write(_line(_header_json(header)))
                    while chunk := rows_file.read(1 << 20):
                        out.write(chunk)
                raw.flush()
                os.fsync(raw.fileno())
        os.replace(partial, path)
        _fsync_folder(path.parent)
    except OSError as exc:
        raise BackupRefused(f"cannot write the backup {path}: {exc}") from exc
    finally:
        partial.unlink(missing_ok=True)
        partial.with_suffix(".rows").unlink(missing_ok=True)
    return header


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _header_json(h: Header) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "peelkit": h.peelkit,
        "revision": h.revision,
        "created_at": h.created_at.isoformat(timespec="microseconds"),
        "database": h.database,
        "tables": [{"name": t.name, "columns": t.columns, "rows": t.rows} for t in h.tables],
        "sha256": h.sha256,
    }


# -- reading -----------------------------------------------------------------------------------

DAMAGED = "restore from another backup (nothing was written)"


def _refuse(path: Path, what: str) -> BackupRefused:
    return BackupRefused(f"the backup {path} {what}; {DAMAGED}")


def _open(path: Path) -> gzip.GzipFile:
    try:
        return gzip.open(path, "rb")
    except OSError as exc:
        raise BackupRefused(f"cannot read the backup {path}: {exc}") from exc


def _parse_header(path: Path, first: bytes) -> Header:
    try:
        data = json.loads(first)
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise _refuse(path, "is not a peelkit workbench backup")
        if data.get("format_version") != FORMAT_VERSION:
            raise BackupRefused(
                f"the backup {path} is of format {data.get('format_version')!r}, which this "
                f"peelkit ({FORMAT_VERSION}) does not read: restore it with the peelkit that "
                f"made it ({data.get('peelkit')})"
            )
        return Header(
            peelkit=str(data["peelkit"]),
            revision=str(data["revision"]),
            created_at=aware(datetime.fromisoformat(data["created_at"])),
            database=str(data["database"]),
            tables=[
                TableInfo(str(t["name"]), [str(c) for c in t["columns"]], int(t["rows"]))
                for t in data["tables"]
            ],
            sha256=str(data["sha256"]),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise _refuse(path, f"has a damaged header ({exc})") from exc


def _lines(path: Path) -> Iterator[bytes]:
    """Every line of the file, the header first; a damaged or cut gzip stream is refused."""
    try:
        with _open(path) as f:
            yield from f
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise _refuse(path, f"is damaged or cut short ({exc})") from exc
    except OSError as exc:
        raise BackupRefused(f"cannot read the backup {path}: {exc}") from exc


def _rows(path: Path, header: Header) -> Iterator[tuple[TableInfo, list[Any]]]:
    """Each row with its table, checked against the header as it goes: tables in the header's
    order, each with its number of rows and columns, and at the end the sha256 of them all.
    Raises when anything differs (a restore reading this rolls back)."""
    lines = _lines(path)
    next(lines, None)  # the header
    digest = hashlib.sha256()
    tables = iter(header.tables)
    table: TableInfo | None = None
    seen = 0
    number = 1
    for line in lines:
        number += 1
        digest.update(line)
        try:
            name, values = json.loads(line)
        except (ValueError, TypeError) as exc:
            raise _refuse(path, f"has a damaged line {number}") from exc
        while table is None or name != table.name:
            if table is not None and seen != table.rows:
                raise _refuse(path, f"has {seen} rows of {table.name}, its header {table.rows}")
            table = next(tables, None)
            seen = 0
            if table is None:
                raise _refuse(
                    path, f"has rows of {name!r} (line {number}) its header does not list"
                )
        if not isinstance(values, list) or len(values) != len(table.columns):
            raise _refuse(path, f"has a row of {name} with the wrong columns (line {number})")
        seen += 1
        yield table, values
    if table is not None and seen != table.rows:
        raise _refuse(path, f"has {seen} rows of {table.name}, its header {table.rows}")
    for rest in tables:
        if rest.rows:
            raise _refuse(path, f"has no rows of {rest.name}, its header {rest.rows}")
    if digest.hexdigest() != header.sha256:
        raise _refuse(path, "does not match its checksum (sha256): it was changed or cut short")


def read_header(path: Path) -> Header:
    """The header of the backup at ``path``, after checking the whole file against it."""
    path = Path(path)
    if not path.is_file():
        raise BackupRefused(f"no backup file {path}")
    first = next(_lines(path), b"")
    if not first:
        raise _refuse(path, "is empty")
    header = _parse_header(path, first)
    for _ in _rows(path, header):
        pass
    return header


# -- restoring ---------------------------------------------------------------------------------


def _decoded(table: Table, columns: list[str]) -> list[bool]:
    """Which of the backup's columns are times (ISO text in the file, naive UTC in the
    database, as ``tables.UTCDateTime`` stores them)."""
    return [isinstance(table.c[c].type, DateTime) for c in columns]


def _decode(value: Any, is_time: bool) -> Any:
    if is_time and value is not None:
        return aware(datetime.fromisoformat(value)).replace(tzinfo=None)
    return value


def _counts(conn: Connection, tables: list[Table]) -> dict[str, int]:
    return {
        t.name: int(conn.execute(select(func.count()).select_from(t)).scalar_one()) for t in tables
    }


def _empty(conn: Connection, db: Database, tables: list[Table]) -> None:
    """Delete every row (dependents first), lifting the audit trail's guard meanwhile."""
    triggers: list[Any] = []
    if db.sqlite:
        triggers = list(
            conn.execute(
                text(
                    "SELECT name, sql FROM sqlite_master "
                    "WHERE type = 'trigger' AND tbl_name = 'audit'"
                )
            )
        )
        for name, _sql in triggers:
            conn.exec_driver_sql(f'DROP TRIGGER "{name}"')
    else:
        conn.exec_driver_sql("ALTER TABLE audit DISABLE TRIGGER USER")
    for table in reversed(tables):
        conn.execute(table.delete())
    if db.sqlite:
        for _name, sql in triggers:
            conn.exec_driver_sql(sql)
    else:
        conn.exec_driver_sql("ALTER TABLE audit ENABLE TRIGGER USER")


def _set_sequences(conn: Connection, tables: list[Table]) -> None:
    """PostgreSQL: each serial or identity column's sequence set past the ids restored, or the
    next insert would be given an id that exists."""
    quote = conn.dialect.identifier_preparer.quote
    for table in tables:
        for column in table.primary_key.columns:
            sequence = conn.execute(
                text("SELECT pg_get_serial_sequence(:t, :c)"),
                {"t": quote(table.name), "c": column.name},
            ).scalar()
            if sequence is None:
                continue
            conn.execute(
                text(
                    f"SELECT setval(:s, (SELECT coalesce(max({quote(column.name)}), 0) + 1 "
                    f"FROM {quote(table.name)}), false)"
                ),
                {"s": sequence},
            )


def restore(
    db: Database, path: Path, *, replace: bool = False, clock: Clock = system_clock
) -> Restored:
    """Restore the backup at ``path`` into ``db`` (see the module's docstring)."""
    path = Path(path)
    header = read_header(path)  # the whole file checked before anything is written
    known = _known_revisions(db)
    if header.revision not in known:
        raise BackupRefused(
            f"the backup {path} is of schema {header.revision}, which this peelkit does not know "
            f"(it knows {', '.join(reversed(known))}): it was made by a newer peelkit "
            f"({header.peelkit}); restore it with that version or a later one"
        )
    done = Restored(header)
    try:
        found = db.revision()
        if found is None:
            db.upgrade(header.revision)  # a new database: made at the backup's revision
        elif found != header.revision:
            raise BackupRefused(
                f"the backup {path} is of schema {header.revision} and {shown(db.url)} is at "
                f"{found}: restore it into a new database (nothing there yet), which is made "
                f"at {header.revision}, restored, then upgraded to {db.head()}"
            )
        with db.write() as conn:
            tables = {t.name: t for t in _workbench_tables(conn)}
            for info in header.tables:
                table = tables.get(info.name)
                if table is None:
                    raise BackupRefused(
                        f"the backup {path} has a table {info.name} that {shown(db.url)} at "
                        f"schema {found or header.revision} does not: nothing was written"
                    )
                if missing := [c for c in info.columns if c not in table.c]:
                    raise BackupRefused(
                        f"the backup {path} has columns {', '.join(missing)} of {info.name} "
                        f"that {shown(db.url)} does not: nothing was written"
                    )
            ordered = list(tables.values())
            before = _counts(conn, ordered)
            if any(before.values()):
                if not replace:
                    held = ", ".join(f"{n} {name}" for name, n in before.items() if n)
                    raise BackupRefused(
                        f"{shown(db.url)} is not empty ({held}): restore into a new database, "
                        "or give --replace to replace everything in it with the backup "
                        "(nothing was written)"
                    )
                _empty(conn, db, ordered)
                done.replaced = {k: v for k, v in before.items() if v}
            batch: list[dict[str, Any]] = []
            current: TableInfo | None = None
            times: list[bool] = []

            def flush() -> None:
                if batch and current is not None:
                    conn.execute(tables[current.name].insert(), batch)
                    batch.clear()

            for info, values in _rows(path, header):
                if info is not current:
                    flush()
                    current = info
                    times = _decoded(tables[info.name], info.columns)
                batch.append(
                    {c: _decode(v, t) for c, v, t in zip(info.columns, values, times, strict=True)}
                )
                if len(batch) >= BATCH:
                    flush()
            flush()
            if not db.sqlite:
                _set_sequences(conn, ordered)
            counted = _counts(conn, ordered)
            expected = {name: header.counts().get(name, 0) for name in tables}
            if counted != expected:
                wrong = [
                    f"{n}: {counted[n]}, not {expected[n]}"
                    for n in tables
                    if counted[n] != expected[n]
                ]
                raise BackupRefused(
                    f"the restored rows do not add up ({'; '.join(wrong)}): nothing was "
                    "restored; restore from another backup"
                )
            verified = audit.verify(conn)
            if not verified.intact:
                raise BackupRefused(
                    f"the audit trail in the backup {path} does not verify "
                    f"({verified.problems[0]}{' …' if len(verified.problems) > 1 else ''}): "
                    f"nothing was restored; {DAMAGED.split(' (')[0]}"
                )
            from peelkit.workbench.service import OPERATOR

            audit.append(
                conn,
                aware(clock()),
                OPERATOR,
                RESTORED,
                {
                    "file": path.name,
                    "sha256": header.sha256,
                    "made at": header.created_at.isoformat(),
                    "made by peelkit": header.peelkit,
                    "from": header.database,
                    "revision": header.revision,
                    "rows": header.counts(),
                    "replaced": done.replaced,
                },
            )
            done.audit_entries = verified.entries + 1
    except DBAPIError as exc:
        raise BackupRefused(
            f"the restore into {shown(db.url)} failed and was rolled back, nothing was "
            f"written: {exc.orig or exc}. Check the database, then run the restore again"
        ) from exc
    if header.revision != db.head():
        try:
            db.upgrade()
        except Exception as exc:
            raise BackupRefused(
                f"the backup was restored at schema {header.revision}, but the upgrade to "
                f"{db.head()} failed: {exc}. Run `peelkit workbench upgrade` to finish"
            ) from exc
        done.upgraded_to = db.head()
    return done
