"""`peelkit query` is read-only: it cannot write or read files, attach databases, install or
load extensions, reach the network or change DuckDB's settings, and runs one statement per call.

Every attempt to break in runs the real command (``python -m peelkit.cli query``) and checks
both the refusal — "Error: <DuckDB's message>" on standard error, exit code 1, no traceback —
and that nothing happened: no file written, the warehouse byte for byte as it was.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import peelkit
from peelkit.errors import QueryError
from peelkit.ingest import ingest
from peelkit.warehouse import (
    QUERY_SETTINGS,
    open_for_query,
    open_read_only,
    open_warehouse,
    run_query,
    snapshot,
)

CITY_2016_01 = Path("police-uk-city-of-london") / "2016-01"
REAL_CSV = CITY_2016_01 / "2016-01-city-of-london-street.csv"
SOURCE = str(Path(peelkit.__file__).resolve().parents[1])


@dataclass
class Query:
    returncode: int
    stdout: str
    stderr: str


@dataclass
class Setup:
    warehouse: Path
    folder: Path  # where a break-in would write; empty at the start of each test
    home: Path  # HOME of the command: where DuckDB would install extensions
    real_csv: Path
    parquet: Path
    other_db: Path


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory, real_data: Path) -> Path:
    path = tmp_path_factory.mktemp("query") / "warehouse.duckdb"
    con = open_warehouse(path)
    try:
        ingest(con, [real_data / CITY_2016_01])
    finally:
        con.close()
    return path


@pytest.fixture
def setup(template: Path, tmp_path: Path, real_data: Path) -> Setup:
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(template, warehouse)
    folder = tmp_path / "out"
    folder.mkdir()
    home = tmp_path / "home"
    home.mkdir()
    parquet = tmp_path / "data.parquet"
    pq.write_table(pa.table({"secret": ["from a parquet file"]}), parquet)
    other = tmp_path / "other.duckdb"
    con = duckdb.connect(str(other))
    con.execute("CREATE TABLE people AS SELECT 'someone else''s data' AS name")
    con.close()
    return Setup(warehouse, folder, home, real_data / REAL_CSV, parquet, other)


def query(sql: str, setup: Setup) -> Query:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([SOURCE, os.environ.get("PYTHONPATH", "")]),
        "HOME": str(setup.home),
        "COLUMNS": "1000",
    }
    done = subprocess.run(
        [sys.executable, "-m", "peelkit.cli", "query", sql, "-w", str(setup.warehouse)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    return Query(done.returncode, done.stdout, done.stderr)


def fingerprint(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def files_under(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*"))


def assert_refused(result: Query, *messages: str) -> None:
    """Exit 1, 'Error: <message>' on standard error, nothing on standard output."""
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert result.stderr.startswith("Error: "), result.stderr
    for message in messages:
        assert message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert "Usage:" not in result.stderr  # an error of the SQL, not of the command line
    assert result.stdout == ""


DISABLED = "file system operations are disabled by configuration"
LOCKED = "the configuration has been locked"
READ_ONLY = "attached in read-only mode"


# Each case: the SQL ({folder}, {csv}, {parquet}, {other} filled in), and what the refusal says.
BREAK_INS = {
    "copy to csv": ("COPY (SELECT 1 AS a) TO '{folder}/x.csv'", DISABLED),
    "copy a table to csv": ("COPY loads TO '{folder}/loads.csv' (HEADER)", DISABLED),
    "copy to parquet": (
        "COPY (SELECT * FROM police_uk_street) TO '{folder}/x.parquet' (FORMAT parquet)",
        DISABLED,
    ),
    "export database": ("EXPORT DATABASE '{folder}/export'", DISABLED),
    "read_csv of a real file": ("SELECT * FROM read_csv('{csv}')", DISABLED),
    "read_csv_auto of a file by name": ("SELECT * FROM '{csv}'", DISABLED),
    "read_text of a real file": ("SELECT content FROM read_text('{csv}')", DISABLED),
    "read_text of /etc/passwd": ("SELECT content FROM read_text('/etc/passwd')", DISABLED),
    "read_blob": ("SELECT content FROM read_blob('{csv}')", DISABLED),
    "read_parquet": ("SELECT * FROM read_parquet('{parquet}')", DISABLED),
    "glob lists files": ("SELECT * FROM glob('{folder}/../*')", DISABLED),
    "attach another database": ("ATTACH '{other}' AS other", DISABLED),
    "attach a new database file": ("ATTACH '{folder}/new.duckdb' AS new", DISABLED),
    "attach in memory": ("ATTACH ':memory:' AS scratch", "read-only mode"),
    "network": ("SELECT * FROM read_csv('https://example.com/data.csv')", DISABLED),
    "install httpfs": ("INSTALL httpfs", DISABLED),
    "force install from a repository": (
        "FORCE INSTALL httpfs FROM 'http://127.0.0.1:9/'",
        DISABLED,
    ),
    "load httpfs": ("LOAD httpfs", "disabled through configuration"),
    "a persistent secret": (
        "CREATE PERSISTENT SECRET s (TYPE s3, KEY_ID 'k', SECRET 'v')",
        'stored_secrets" - ' + DISABLED,
    ),
    "set enable_external_access": ("SET enable_external_access = true", LOCKED),
    "set lock_configuration": ("SET lock_configuration = false", LOCKED),
    "reset lock_configuration": ("RESET lock_configuration", LOCKED),
    "set autoinstall": ("SET autoinstall_known_extensions = true", LOCKED),
    "set allowed_directories": (
        "SET allowed_directories = ['{folder}']",
        LOCKED,
    ),
    "set global threads": ("SET GLOBAL threads = 1", LOCKED),
    "pragma memory_limit": ("PRAGMA memory_limit = '1GB'", LOCKED),
    "create table": ("CREATE TABLE mine AS SELECT 1 AS a", READ_ONLY),
    "insert": ("INSERT INTO peelkit_meta VALUES ('x', 'y')", READ_ONLY),
    "update": ("UPDATE loads SET kind = 'x'", READ_ONLY),
    "delete": ("DELETE FROM loads", READ_ONLY),
    "drop": ("DROP TABLE police_uk_street", READ_ONLY),
    "drop view": ("DROP VIEW coverage", READ_ONLY),
    "alter": ("ALTER TABLE loads ADD COLUMN x INTEGER", READ_ONLY),
    "two statements": ("SELECT 1; SELECT 2", "2 statements; peelkit query runs one"),
    "a select then a copy": (
        "SELECT 1; COPY (SELECT 1) TO '{folder}/x.csv'",
        "2 statements; peelkit query runs one statement per call",
    ),
    "a statement after a comment": (
        "SELECT 1 -- only a comment\n; COPY (SELECT 1) TO '{folder}/x.csv'",
        "2 statements",
    ),
    "a statement after a block comment": (
        "/* a comment; */ SELECT count(*) FROM loads; DELETE FROM loads",
        "2 statements",
    ),
    "a statement after a string with a semicolon": (
        "SELECT ';' AS a; DELETE FROM loads",
        "2 statements",
    ),
    "no statement": ("/* nothing but a comment */", "The SQL has no statement"),
    "an empty string": ("", "The SQL has no statement"),
}


@pytest.mark.parametrize("case", list(BREAK_INS))
def test_a_query_cannot_break_out_and_nothing_happens(case: str, setup: Setup) -> None:
    sql, message = BREAK_INS[case]
    sql = sql.format(
        folder=setup.folder, csv=setup.real_csv, parquet=setup.parquet, other=setup.other_db
    )
    before = fingerprint(setup.warehouse)
    other_before = fingerprint(setup.other_db)
    result = query(sql, setup)
    assert_refused(result, message)
    # nothing happened: no file written or read back, the warehouse byte for byte as it was,
    # no extension installed, the other database untouched
    assert files_under(setup.folder) == []
    assert files_under(setup.home) == []
    assert fingerprint(setup.warehouse) == before
    assert not Path(f"{setup.warehouse}.wal").exists()
    assert fingerprint(setup.other_db) == other_before
    assert "someone else" not in result.stderr and "from a parquet file" not in result.stderr


def test_the_warehouse_is_unchanged_after_every_refused_write(setup: Setup) -> None:
    with open_read_only(setup.warehouse) as con:
        before = snapshot(con)
    for sql in ("DELETE FROM loads", "DROP TABLE loads", "UPDATE loads SET rows_read = 0"):
        assert_refused(query(sql, setup), READ_ONLY)
    with open_read_only(setup.warehouse) as con:
        assert snapshot(con) == before


def test_a_syntax_error_is_exit_1_with_duckdbs_message_not_a_usage_error(setup: Setup) -> None:
    result = query("SELEC count(*) FROM loads", setup)
    assert_refused(result, 'Parser Error: syntax error at or near "SELEC"', "LINE 1:")


def test_an_unknown_table_is_exit_1_with_duckdbs_message(setup: Setup) -> None:
    result = query("SELECT * FROM no_such_table", setup)
    assert_refused(result, "Catalog Error: Table with name no_such_table does not exist")


def test_a_conversion_error_is_exit_1_with_duckdbs_message(setup: Setup) -> None:
    result = query("SELECT CAST(kind AS INTEGER) FROM loads", setup)
    assert result.returncode == 1
    assert "Conversion Error" in result.stderr and "Traceback" not in result.stderr


def test_a_message_with_square_brackets_is_printed_as_it_is(setup: Setup) -> None:
    # Rich markup would swallow "[/]" or "[bold]": the message is text
    result = query("SELECT [1, 2][1] FROM [bold] WHERE '[/]'", setup)
    assert result.returncode == 1
    assert "[bold]" in result.stderr and "Traceback" not in result.stderr


def test_selects_over_tables_and_views_still_print_csv(setup: Setup) -> None:
    forces = query("SELECT count(*) AS n FROM forces", setup)
    assert (forces.returncode, forces.stdout) == (0, "n\n49\n"), forces.stderr
    loads = query("SELECT kind, rows_read FROM loads ORDER BY kind", setup)
    assert list(csv.reader(io.StringIO(loads.stdout))) == [
        ["kind", "rows_read"],
        ["police_uk_outcomes", "574"],
        ["police_uk_stop_search", "150"],
        ["police_uk_street", "446"],
    ]
    coverage = query(
        "SELECT period, status FROM coverage WHERE source = 'police_uk_street' "
        "AND force_code = 'E23000034' ORDER BY period_start LIMIT 1",
        setup,
    )
    assert coverage.returncode == 0, coverage.stderr
    assert coverage.stdout == "period,status\n2016-01,present\n"
    # a semicolon in a string or a comment, and a trailing one, still make one statement
    one = query("SELECT ';' AS a -- a comment; with a semicolon\n;", setup)
    assert (one.returncode, one.stdout) == (0, "a\n;\n"), one.stderr
    assert files_under(setup.folder) == []


def test_the_query_connection_has_every_setting_and_they_exist_in_this_duckdb(
    setup: Setup,
) -> None:
    known = {
        name
        for (name,) in duckdb.connect().execute("SELECT name FROM duckdb_settings()").fetchall()
    }
    assert set(QUERY_SETTINGS) <= known
    con = open_for_query(setup.warehouse)
    try:
        for name, value in QUERY_SETTINGS.items():
            row = con.execute("SELECT current_setting(?)", [name]).fetchone()
            assert row is not None and row[0] == value, name
        # and SQL cannot change any of them back
        for name in QUERY_SETTINGS:
            with pytest.raises(duckdb.Error, match="configuration has been locked"):
                con.execute(f"SET {name} = {not QUERY_SETTINGS[name]}")
        # Python objects in scope are not tables either (replacement scans are external access)
        secret_rows = pa.table({"a": [1]})  # noqa: F841
        with pytest.raises(duckdb.CatalogException, match="secret_rows does not exist"):
            con.execute("SELECT * FROM secret_rows")
    finally:
        con.close()


def test_run_query_counts_statements_with_duckdbs_parser(setup: Setup) -> None:
    con = open_for_query(setup.warehouse)
    try:
        columns, batches = run_query(con, "SELECT 'a;b' AS x /* ; */ ;")
        assert columns == ["x"] and [r for b in batches for r in b] == [("a;b",)]
        with pytest.raises(QueryError, match="3 statements"):
            run_query(con, "SELECT 1; SELECT 2;; SELECT 3")
        with pytest.raises(QueryError, match="syntax error"):
            run_query(con, "SELECT 1; SELEC 2")
    finally:
        con.close()
