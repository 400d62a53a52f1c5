"""The warehouse: one DuckDB file holding reference data, the load ledger and the facts.

``open_warehouse`` creates the schema when needed and refreshes the reference tables from the
package. Facts are only ever written by :mod:`peelkit.ingest`, one transaction per ingest, so a
failed or killed load leaves the file exactly as it was.

``open_for_query`` and ``run_query`` are the read-only query: the warehouse opened read-only
with DuckDB's access to files, other databases, extensions and the network switched off and
locked, and one SQL statement per call. Every way of opening a warehouse first checks that the
file is a DuckDB database and a peelkit warehouse of this schema version, waits a little for
another process that holds the warehouse, and says in words when the disk is full or the file
read-only (``storage_errors``).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from peelkit import reference
from peelkit.errors import QueryError, WarehouseError

if TYPE_CHECKING:
    import duckdb

# duckdb is imported where it is used, so that commands that never open the warehouse
# (peelkit --help, forces, formats) start without it.

DEFAULT_PATH = Path("peelkit.duckdb")
SCHEMA_VERSION = "4"

#: The fact tables, in the order docs/warehouse.md describes them.
FACT_TABLES = (
    "police_uk_street",
    "police_uk_outcomes",
    "police_uk_stop_search",
    "recorded_crime",
    "crime_outcomes",
    "population",
    "data_returns",
    "lad_csp_pfa",
    "workforce",
)
REFERENCE_TABLES = (
    "forces",
    "force_aliases",
    "outcome_types",
    "offence_classification",
    "data_return_items",
)
LEDGER_TABLES = ("loads", "rejected_rows", "load_periods", "findings")

#: DuckDB's settings for a read-only query (``peelkit query``, and the web site): no file is
#: read or written (COPY, EXPORT, read_csv, ATTACH, Python objects by name), no extension is
#: installed or loaded, nothing reaches the network — and ``lock_configuration`` comes last, so
#: that SQL cannot SET any of them back.
QUERY_SETTINGS: dict[str, bool] = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
    "lock_configuration": True,
}

#: How long opening a warehouse waits for another process that holds it (PEELKIT_WAIT overrides).
WAIT_SECONDS = 10.0
WAIT_VARIABLE = "PEELKIT_WAIT"

#: A DuckDB database file has these bytes at offset 8 of its header.
DUCKDB_MAGIC = b"DUCK"

Waiting = Callable[[str], None]


def schema_sql() -> str:
    return resources.files("peelkit").joinpath("schema.sql").read_text("utf-8")


def _connect(
    path: Path | str,
    read_only: bool,
    config: dict[str, bool] | None = None,
    on_wait: Waiting | None = None,
) -> duckdb.DuckDBPyConnection:
    """Connect, after checking the file is a DuckDB database; while another process holds the
    warehouse, try again for up to WAIT_SECONDS (``on_wait`` is told once) before giving up."""
    import duckdb

    check_duckdb_file(path)
    deadline: float | None = None
    wait = 0.0
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only, config=_settings(config))
        except duckdb.Error as exc:
            if not _is_lock_conflict(exc):
                raise storage_error(path, exc, writing=not read_only) from exc
            now = time.monotonic()
            if deadline is None:
                wait = wait_seconds()
                deadline = now + wait
                if on_wait is not None and wait > 0:
                    on_wait(
                        f"The warehouse {path} is in use by another process{_holder(exc)}; "
                        f"waiting up to {_display().seconds(wait)} for it to finish…"
                    )
            if now >= deadline:
                raise WarehouseError(
                    f"The warehouse {path} is in use by another process{_holder(exc)}, probably "
                    "another peelkit command, and was still in use after "
                    f"{_display().seconds(wait)}. "
                    "Wait for it to finish, then run this command again (or give another "
                    "--warehouse)."
                ) from exc
            time.sleep(0.1)


def _settings(config: dict[str, bool] | None) -> dict[str, str | bool | int | float | list[str]]:
    return dict(config or {})


def wait_seconds() -> float:
    """How long to wait for a warehouse another process holds: PEELKIT_WAIT, or 10 s."""
    value = os.environ.get(WAIT_VARIABLE)
    if value is None or not value.strip():
        return WAIT_SECONDS
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not seconds >= 0:  # also NaN
        raise WarehouseError(
            f"The environment variable {WAIT_VARIABLE}={value!r} is not a number of seconds. "
            f"Set it to how long to wait for a busy warehouse (e.g. {WAIT_VARIABLE}=30), or unset "
            "it for the default of 10 s."
        )
    return seconds


def _is_lock_conflict(exc: Exception) -> bool:
    return "Could not set lock on file" in str(exc)


def _holder(exc: Exception) -> str:
    """' (PID 1234: /usr/bin/python3)' from DuckDB's lock message, or ''."""
    found = re.search(r"Conflicting lock is held in (.*?) \(PID (\d+)\)", str(exc))
    return f" (PID {found.group(2)}: {found.group(1)})" if found else ""


def check_duckdb_file(path: Path | str) -> None:
    """Refuse an existing file that is not a DuckDB database (a CSV given as --warehouse, an
    empty file) before DuckDB touches it; a path that does not exist yet is fine."""
    path = Path(path)
    if not path.exists():
        return
    if path.is_dir():
        raise WarehouseError(
            f"{path} is a folder, not a DuckDB database file. Give a file name for --warehouse, "
            f"e.g. {path / DEFAULT_PATH}."
        )
    head = _head(path)
    if len(head) < len(DUCKDB_MAGIC) + 8:
        # DuckDB writes the header as soon as it creates a file: a file that is still empty
        # a moment later is not one being made by another peelkit.
        time.sleep(0.2)
        head = _head(path)
    if head[8:12] == DUCKDB_MAGIC:
        return
    raise WarehouseError(
        f"{path} is not a DuckDB database (it looks like {looks_like(head)}), so peelkit will not "
        "open it as a warehouse. Choose a new file name for --warehouse (peelkit creates the "
        "file), or the warehouse peelkit made."
    )


def _head(path: Path) -> bytes:
    try:
        with path.open("rb") as fh:
            return fh.read(4096)
    except OSError as exc:
        raise WarehouseError(
            f"Cannot read the warehouse {path}: {exc.strerror or exc}. Check the file's "
            "permissions, or choose another --warehouse."
        ) from exc


def looks_like(head: bytes) -> str:
    """What a file that is not a DuckDB database seems to be, from its first bytes."""
    if not head:
        return "an empty file: 0 bytes"
    magic = (
        (b"SQLite format 3\0", "an SQLite database"),
        (b"PK\x03\x04", "a zip archive or an .xlsx/.ods spreadsheet"),
        (b"PK\x05\x06", "an empty zip archive"),
        (b"PAR1", "a Parquet file"),
        (b"\x1f\x8b", "a gzip file"),
        (b"%PDF", "a PDF"),
        (b"\xd0\xcf\x11\xe0", "an .xls spreadsheet or another old Office file"),
    )
    for start, kind in magic:
        if head.startswith(start):
            return kind
    try:
        text = head.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        # a character cut in two at the end of the bytes read is still text
        if exc.start < len(head) - 3:
            return (
                f"a binary file of another kind: {_display().count(len(head))}+ bytes, not "
                "DuckDB's header"
            )
        text = head[: exc.start].decode("utf-8-sig")
    first = text.splitlines()[0] if text.strip() else ""
    if "," in first or ";" in first or "\t" in first:
        return "a CSV file"
    return "a text file"


def storage_error(path: Path | str, exc: Exception, *, writing: bool) -> WarehouseError:
    """A DuckDB error in opening or writing the warehouse, in words: a full disk, a read-only
    file, a file of a newer DuckDB, a damaged file. Anything else keeps DuckDB's message."""
    message = str(exc)
    text = message.lower()
    path = Path(path)
    # the file DuckDB failed on, when it is not the warehouse itself (its .wal, its .tmp folder)
    found = re.search(r'(?:file|directory) "([^"]+)"', message)
    other = found.group(1) if found and Path(found.group(1)).resolve() != path.resolve() else None
    if "file too large" in text or "no space left" in text or "disk quota" in text:
        if "file too large" in text:
            what = (
                "A file size limit was reached (ulimit -f, or the largest file the disk's file "
                "system allows)"
            )
            fix = "Raise the limit or free some disk space"
        elif "disk quota" in text:
            what, fix = "The disk quota is used up", "Free some space within the quota"
        else:
            what, fix = "The disk is full", "Free some disk space"
        return WarehouseError(
            f"{what} while writing the warehouse {path}{f' ({other})' if other else ''}, so "
            "nothing of this command was saved: the warehouse holds what it held before. "
            f"{fix}, or choose a warehouse on another disk with --warehouse, then run the "
            "command again."
        )
    if "read-only file system" in text:
        return WarehouseError(
            f"Cannot write to the warehouse {path}: it is on a read-only file system. Choose a "
            "--warehouse on a disk you can write to."
        )
    if "permission denied" in text:
        if not writing:
            return WarehouseError(
                f"Cannot read the warehouse {path}: permission denied. Check the file's "
                "permissions, or choose another --warehouse."
            )
        if path.exists() and other is None:
            return WarehouseError(
                f"Cannot write to the warehouse {path}: the file is read-only (permission "
                f"denied). Make it writable (chmod u+w {path}), or choose another --warehouse."
            )
        return WarehouseError(
            f"Cannot write to the warehouse {path}: the folder {path.resolve().parent} is "
            f"read-only (permission denied{f' for {other}' if other else ''}). Choose "
            "--warehouse in a folder you can write to."
        )
    if "newer version of duckdb" in text:
        import duckdb

        storage = re.search(r"storage version number (\d+)", message)
        number = f" (storage version {storage.group(1)})" if storage else ""
        return WarehouseError(
            f"{path} was written by a newer DuckDB{number} than the DuckDB {duckdb.__version__} "
            "this peelkit uses, which cannot read it. Upgrade peelkit and DuckDB (pip install "
            "--upgrade peelkit duckdb), or use the program that wrote it; or choose a new file "
            "name for --warehouse."
        )
    if "not a valid duckdb database file" in text:
        head = _head(path) if path.is_file() else b""
        return WarehouseError(
            f"{path} is not a DuckDB database (it looks like {looks_like(head)}), so peelkit "
            "will not open it as a warehouse. Choose a new file name for --warehouse (peelkit "
            "creates the file), or the warehouse peelkit made."
        )
    if "corrupt database file" in text:
        return WarehouseError(
            f"The warehouse {path} is damaged: {message.splitlines()[0]}. Restore it from a "
            "copy, or load the source files again into a new --warehouse file."
        )
    if "no such file or directory" in text and not path.parent.is_dir():
        return WarehouseError(
            f"Cannot create the warehouse {path}: the folder {path.parent} does not exist. "
            "Create it, or choose another --warehouse."
        )
    return WarehouseError(f"Cannot open the warehouse {path}: {message.splitlines()[0]}")


_STORAGE_FAULTS = (
    "file too large",
    "no space left",
    "disk quota",
    "read-only file system",
    "permission denied",
)


@contextmanager
def storage_errors(path: Path | str) -> Iterator[None]:
    """Turn a DuckDB error caused by the disk under the warehouse (full, a file size limit,
    read-only) into a WarehouseError that says so; other errors pass unchanged."""
    import duckdb

    try:
        yield
    except duckdb.Error as exc:
        if any(fault in str(exc).lower() for fault in _STORAGE_FAULTS):
            raise storage_error(path, exc, writing=True) from exc
        raise


def open_warehouse(
    path: Path | str = DEFAULT_PATH, on_wait: Waiting | None = None
) -> duckdb.DuckDBPyConnection:
    """Open (creating if needed) a warehouse for writing, with reference tables up to date."""
    con = _connect(path, read_only=False, on_wait=on_wait)
    try:
        with storage_errors(path):
            version = _schema_version(con)
            if version is None:
                _refuse_other_database(con, path)
            elif version != SCHEMA_VERSION:
                raise WarehouseError(_version_message(path, version))
            con.execute("BEGIN")
            con.execute(schema_sql())
            con.execute(
                "INSERT OR REPLACE INTO peelkit_meta VALUES ('schema_version', ?)",
                [SCHEMA_VERSION],
            )
            _refresh_reference(con)
            con.execute("COMMIT")
    except BaseException:
        con.close()
        raise
    return con


def open_read_only(
    path: Path | str = DEFAULT_PATH, on_wait: Waiting | None = None
) -> duckdb.DuckDBPyConnection:
    """Open an existing warehouse read-only (for reports and indicators)."""
    return _open_existing(path, None, on_wait)


def open_for_query(
    path: Path | str = DEFAULT_PATH, on_wait: Waiting | None = None
) -> duckdb.DuckDBPyConnection:
    """Open an existing warehouse for running SQL that anyone may have written: read-only, and
    with QUERY_SETTINGS, so that the SQL cannot write or read any file, attach a database,
    install or load an extension, reach the network or change these settings. Run the SQL with
    ``run_query`` (one statement per call).

    DuckDB shares one database per file in a process: every connection to the file in this
    process must be made the same way (open_for_query) while one is open."""
    return _open_existing(path, QUERY_SETTINGS, on_wait)


def _open_existing(
    path: Path | str, config: dict[str, bool] | None, on_wait: Waiting | None
) -> duckdb.DuckDBPyConnection:
    if not Path(path).exists():
        raise WarehouseError(
            f"There is no warehouse at {path}. Run 'peelkit ingest PATH...' or 'peelkit demo' "
            "first, or point --warehouse at an existing file."
        )
    con = _connect(path, read_only=True, config=config, on_wait=on_wait)
    try:
        version = _schema_version(con)
        if version is None:
            raise WarehouseError(
                f"{path} is a DuckDB database but not a peelkit warehouse (it has no "
                "peelkit_meta table). Point --warehouse at the warehouse peelkit made, or make "
                "one with 'peelkit ingest PATH...' or 'peelkit demo'."
            )
        if version != SCHEMA_VERSION:
            raise WarehouseError(_version_message(path, version))
    except BaseException:
        con.close()
        raise
    return con


def _version_message(path: Path | str, version: str) -> str:
    """What to do with a warehouse of another schema version (reading or writing)."""
    newer = version.isdigit() and SCHEMA_VERSION.isdigit() and int(version) > int(SCHEMA_VERSION)
    if newer:
        return (
            f"{path} is a warehouse of schema version {version}, made by a newer peelkit; this "
            f"peelkit reads and writes version {SCHEMA_VERSION} only. Upgrade peelkit (pip "
            "install --upgrade peelkit), or use a new --warehouse file."
        )
    return (
        f"{path} is a warehouse of schema version {version}, made by an older peelkit; this "
        f"peelkit reads and writes version {SCHEMA_VERSION} only and does not convert "
        "warehouses. Load the source files again into a new --warehouse file, or use the "
        "peelkit that made it."
    )


def _refuse_other_database(con: duckdb.DuckDBPyConnection, path: Path | str) -> None:
    """A DuckDB database without peelkit_meta may become a warehouse only if it is empty:
    peelkit does not add its tables to another program's database."""
    rows = con.execute(
        "SELECT schema_name || '.' || table_name FROM duckdb_tables() WHERE NOT temporary "
        "UNION ALL SELECT schema_name || '.' || view_name FROM duckdb_views() "
        "WHERE NOT internal AND NOT temporary ORDER BY 1"
    ).fetchall()
    if rows:
        names = [str(r[0]).removeprefix("main.") for r in rows]
        shown = ", ".join(names[:5]) + (", …" if len(names) > 5 else "")
        raise WarehouseError(
            f"{path} is a DuckDB database but not a peelkit warehouse: it has {len(names)} "
            f"table(s) or view(s) of its own ({shown}) and no peelkit_meta table, and peelkit "
            "does not add its tables to another program's database. Choose a new file name "
            "for --warehouse, or the warehouse peelkit made."
        )


@contextmanager
def reading(
    path: Path | str = DEFAULT_PATH, on_wait: Waiting | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """The warehouse open read-only for the block, closed after it."""
    con = open_read_only(path, on_wait=on_wait)
    try:
        yield con
    finally:
        con.close()


def run_query(
    con: duckdb.DuckDBPyConnection, sql: str, batch_rows: int = 10_000
) -> tuple[list[str], Iterator[list[tuple[Any, ...]]]]:
    """Run one SQL statement (on a connection from open_for_query): its column names, and its
    rows in batches. Several statements, or none, are refused; DuckDB's errors (a syntax error,
    an unknown table, a refused operation) are QueryErrors with DuckDB's message."""
    import duckdb

    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as exc:
        raise QueryError(str(exc)) from exc
    if not statements:
        raise QueryError(
            "The SQL has no statement. Give one, e.g. peelkit query 'SELECT count(*) FROM loads'."
        )
    if len(statements) > 1:
        raise QueryError(
            f"The SQL has {len(statements)} statements; peelkit query runs one statement per "
            "call. Run them one at a time."
        )
    try:
        cursor = con.execute(statements[0])
    except duckdb.Error as exc:
        raise QueryError(str(exc)) from exc
    columns = [d[0] for d in cursor.description or []]

    def batches() -> Iterator[list[tuple[Any, ...]]]:
        while True:
            try:
                rows = cursor.fetchmany(batch_rows)
            except duckdb.Error as exc:
                raise QueryError(str(exc)) from exc
            if not rows:
                return
            yield rows

    return columns, batches()


def _schema_version(con: duckdb.DuckDBPyConnection) -> str | None:
    # duckdb_tables() rather than information_schema: a third of the time at every start
    exists = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'peelkit_meta'"
    ).fetchone()
    if not exists or exists[0] == 0:
        return None
    row = con.execute("SELECT value FROM peelkit_meta WHERE key = 'schema_version'").fetchone()
    return None if row is None else str(row[0])


def _refresh_reference(con: duckdb.DuckDBPyConnection) -> None:
    for table in REFERENCE_TABLES:
        con.execute(f"DELETE FROM {table}")
    insert_rows(
        con,
        "forces",
        ("code", "name", "ons_name", "slug", "kind", "country"),
        [(f.code, f.name, f.ons_name, f.slug, f.kind, f.country) for f in reference.forces()],
    )
    insert_rows(con, "force_aliases", ("alias", "code", "seen_in"), reference.force_alias_rows())
    insert_rows(
        con,
        "outcome_types",
        ("outcome_type", "outcome_description", "figure_4_group", "figure_4_order", "introduced"),
        [
            (o.number, o.description, o.figure_4_group, o.figure_4_order, o.introduced)
            for o in reference.outcome_types()
        ],
    )
    insert_rows(
        con,
        "offence_classification",
        (
            "offence_code",
            "offence_description",
            "offence_group",
            "offence_subgroup",
            "crime_category",
        ),
        [
            (o.code, o.description, o.group, o.subgroup, o.crime_category)
            for o in reference.offences()
        ],
    )
    insert_rows(
        con,
        "data_return_items",
        ("item", "description", "unit", "period_kind"),
        [(i.item, i.description, i.unit, i.period_kind) for i in reference.data_return_items()],
    )


def insert_rows(
    con: duckdb.DuckDBPyConnection,
    table: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[object]],
) -> None:
    """INSERT many rows at once: one list parameter per column, unnested side by side.

    Row-by-row executemany is ~100x slower. Registering an Arrow table was as fast, but the
    first Arrow scan makes DuckDB import pyarrow, numpy and pandas (~0.25 s), which every
    ingest paid for a few hundred ledger and reference rows."""
    rows = list(rows)
    if not rows:
        return
    select = ", ".join(f'unnest(${i + 1}) AS "{name}"' for i, name in enumerate(columns))
    con.execute(
        f"INSERT INTO {table} BY NAME SELECT {select}",
        [[r[i] for r in rows] for i in range(len(columns))],
    )


def snapshot(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every ledger and fact table, sorted (proves a failed load changed nothing)."""
    out: dict[str, list[tuple[object, ...]]] = {}
    for table in LEDGER_TABLES + FACT_TABLES:
        rows = con.execute(f"SELECT * FROM {table}").fetchall()
        out[table] = sorted(rows, key=repr)
    return out


def data_labels(con: duckdb.DuckDBPyConnection) -> tuple[str, ...]:
    """The labels loads were given (e.g. the demo's "synthetic, not official statistics"):
    everything derived from this warehouse must carry them."""
    rows = con.execute(
        "SELECT DISTINCT label FROM loads WHERE label IS NOT NULL ORDER BY label"
    ).fetchall()
    return tuple(label for (label,) in rows)


def _display() -> ModuleType:
    """peelkit.display, imported only when a message needs it."""
    from peelkit import display

    return display
