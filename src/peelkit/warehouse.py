"""The warehouse: one DuckDB file holding reference data, the load ledger and the facts.

``open_warehouse`` creates the schema when needed and refreshes the reference tables from the
package. Facts are only ever written by :mod:`peelkit.ingest`, one transaction per ingest, so a
failed or killed load leaves the file exactly as it was.

``open_for_query`` and ``run_query`` are the read-only query: the warehouse opened read-only
with DuckDB's access to files, other databases, extensions and the network switched off and
locked, and one SQL statement per call.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from peelkit import reference
from peelkit.errors import QueryError, WarehouseError

if TYPE_CHECKING:
    import duckdb

# duckdb is imported where it is used, so that commands that never open the warehouse
# (peelkit --help, forces, formats) start without it.

DEFAULT_PATH = Path("peelkit.duckdb")
SCHEMA_VERSION = "3"

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
LEDGER_TABLES = ("loads", "rejected_rows", "load_periods")

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


def schema_sql() -> str:
    return resources.files("peelkit").joinpath("schema.sql").read_text("utf-8")


def _connect(
    path: Path | str, read_only: bool, config: dict[str, bool] | None = None
) -> duckdb.DuckDBPyConnection:
    import duckdb

    try:
        return duckdb.connect(str(path), read_only=read_only, config=_settings(config))
    except duckdb.IOException as exc:
        raise WarehouseError(
            f"Cannot open the warehouse {path}: {exc}. If another peelkit command is using it, "
            "wait for it to finish; if the file is not a DuckDB database, choose another path "
            "with --warehouse."
        ) from exc


def _settings(config: dict[str, bool] | None) -> dict[str, str | bool | int | float | list[str]]:
    return dict(config or {})


def open_warehouse(path: Path | str = DEFAULT_PATH) -> duckdb.DuckDBPyConnection:
    """Open (creating if needed) a warehouse for writing, with reference tables up to date."""
    con = _connect(path, read_only=False)
    try:
        version = _schema_version(con)
        if version not in (None, SCHEMA_VERSION):
            raise WarehouseError(
                f"{path} has warehouse schema version {version}; this peelkit writes version "
                f"{SCHEMA_VERSION}. Use a new --warehouse file or the peelkit that made it."
            )
        con.execute("BEGIN")
        con.execute(schema_sql())
        con.execute(
            "INSERT OR REPLACE INTO peelkit_meta VALUES ('schema_version', ?)", [SCHEMA_VERSION]
        )
        _refresh_reference(con)
        con.execute("COMMIT")
    except BaseException:
        con.close()
        raise
    return con


def open_read_only(path: Path | str = DEFAULT_PATH) -> duckdb.DuckDBPyConnection:
    """Open an existing warehouse read-only (for reports and indicators)."""
    return _open_existing(path, None)


def open_for_query(path: Path | str = DEFAULT_PATH) -> duckdb.DuckDBPyConnection:
    """Open an existing warehouse for running SQL that anyone may have written: read-only, and
    with QUERY_SETTINGS, so that the SQL cannot write or read any file, attach a database,
    install or load an extension, reach the network or change these settings. Run the SQL with
    ``run_query`` (one statement per call).

    DuckDB shares one database per file in a process: every connection to the file in this
    process must be made the same way (open_for_query) while one is open."""
    return _open_existing(path, QUERY_SETTINGS)


def _open_existing(path: Path | str, config: dict[str, bool] | None) -> duckdb.DuckDBPyConnection:
    if not Path(path).exists():
        raise WarehouseError(
            f"There is no warehouse at {path}. Run 'peelkit ingest PATH...' or 'peelkit demo' "
            "first, or point --warehouse at an existing file."
        )
    con = _connect(path, read_only=True, config=config)
    if _schema_version(con) is None:
        con.close()
        raise WarehouseError(f"{path} is a DuckDB file but not a peelkit warehouse.")
    return con


@contextmanager
def reading(path: Path | str = DEFAULT_PATH) -> Iterator[duckdb.DuckDBPyConnection]:
    con = open_read_only(path)
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
