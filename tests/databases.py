"""Fresh empty databases for the inspection workbench's tests, which run on SQLite (the
workbench's default) and on a real PostgreSQL server (the ``workbench_url`` fixture in
conftest.py gives every test both).

SQLite is a file in the test's folder. PostgreSQL is a database of the test's own, created
through the URL in ``PEELKIT_TEST_POSTGRES`` (a role that may create databases: scripts/postgres
provides one and prints its URL, and scripts/test sets the variable) and dropped afterwards.
Without that variable the PostgreSQL tests are skipped, unless ``PEELKIT_REQUIRE_POSTGRES=1``
(scripts/test, so CI), which makes them fail instead.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import URL, make_url

KINDS = ("sqlite", "postgresql")
URL_VARIABLE = "PEELKIT_TEST_POSTGRES"
REQUIRE_VARIABLE = "PEELKIT_REQUIRE_POSTGRES"
DATABASE_PREFIX = "peelkit_t_"
NOT_CONFIGURED = (
    f"No PostgreSQL server for the tests: run scripts/postgres and set {URL_VARIABLE} to the "
    "URL it prints (scripts/test does both), or to a server of your own (the URL of a role "
    "that may create databases)."
)


def postgres_admin_url() -> str | None:
    """The SQLAlchemy URL of a role that may create and drop databases
    (``PEELKIT_TEST_POSTGRES``), or None when no PostgreSQL server is configured."""
    return os.environ.get(URL_VARIABLE, "").strip() or None


def postgres_required() -> bool:
    """``PEELKIT_REQUIRE_POSTGRES=1``: a missing server fails the tests instead of skipping."""
    return os.environ.get(REQUIRE_VARIABLE, "").strip() == "1"


def require_postgres() -> URL:
    """The admin URL; skips the test when there is none (fails it when one is required)."""
    url = postgres_admin_url()
    if url is None:
        if postgres_required():
            pytest.fail(f"{NOT_CONFIGURED} ({REQUIRE_VARIABLE}=1: they must run.)", pytrace=False)
        pytest.skip(NOT_CONFIGURED)
    return make_url(url)


def _admin_connection(admin: URL) -> psycopg.Connection[tuple[object, ...]]:
    # psycopg reads the URL without SQLAlchemy's driver name; CREATE and DROP DATABASE cannot
    # run inside a transaction.
    libpq = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        return psycopg.connect(libpq, autocommit=True, connect_timeout=10)
    except psycopg.OperationalError as error:
        pytest.fail(
            f"The PostgreSQL server of {URL_VARIABLE}={admin.render_as_string(hide_password=True)}"
            f" does not answer (run scripts/postgres): {error}",
            pytrace=False,
        )


@contextmanager
def fresh_database(kind: str, tmp_path: Path) -> Iterator[str]:
    """A new empty database of that kind ("sqlite" or "postgresql"): yields its SQLAlchemy URL
    and deletes the database afterwards, whatever is still connected to it. Each call makes a
    different one, so a test may hold several (and hand their URLs to subprocesses).

    SQLite: ``sqlite:///{tmp_path}/workbench.sqlite`` (workbench-2.sqlite, ... when the test
    already holds one). PostgreSQL: ``peelkit_t_<random hex>``, UTF-8 with the C collation
    (ordered by code point, as SQLite orders text, whatever the server's own locale), made from
    template0 so nothing in the server's template1 comes with it."""
    if kind == "sqlite":
        with _fresh_sqlite(tmp_path) as url:
            yield url
    elif kind == "postgresql":
        with _fresh_postgres() as url:
            yield url
    else:
        raise ValueError(f"no database of kind {kind!r}: {', '.join(KINDS)}")


# The SQLite files handed out and not yet deleted: a nested call must not be given the same
# name before anything has created the file (the file itself is left to the workbench to make).
_claimed: set[Path] = set()


@contextmanager
def _fresh_sqlite(tmp_path: Path) -> Iterator[str]:
    path = tmp_path / "workbench.sqlite"
    number = 1
    while path in _claimed or path.exists():
        number += 1
        path = tmp_path / f"workbench-{number}.sqlite"
    _claimed.add(path)
    try:
        yield f"sqlite:///{path}"
    finally:
        _claimed.discard(path)
        for suffix in ("", "-wal", "-shm", "-journal"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)


@contextmanager
def _fresh_postgres() -> Iterator[str]:
    admin = require_postgres()
    name = DATABASE_PREFIX + secrets.token_hex(8)
    with _admin_connection(admin) as con:
        con.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C'").format(
                sql.Identifier(name)
            )
        )
    # The workbench's driver: a plain postgresql:// would mean psycopg2, which is not installed.
    driver = "postgresql+psycopg" if admin.drivername == "postgresql" else admin.drivername
    try:
        yield admin.set(drivername=driver, database=name).render_as_string(hide_password=False)
    finally:
        # WITH (FORCE): a connection the test left open (an engine not disposed, a subprocess
        # still running) does not keep the database.
        with _admin_connection(admin) as con:
            con.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def database_exists(url: str) -> bool:
    """Whether the database of a URL from ``fresh_database`` still exists."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return Path(parsed.database or "").exists()
    with _admin_connection(require_postgres()) as con:
        row = con.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (parsed.database,)
        ).fetchone()
    return row is not None
