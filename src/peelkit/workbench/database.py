"""The workbench database: SQLite by default (a file, nothing to start), PostgreSQL by URL.

Writes are serialised: on SQLite every write transaction starts with ``BEGIN IMMEDIATE`` (a
plain ``BEGIN`` fails with "database is locked" when writers meet); on PostgreSQL it takes one
transaction-scoped advisory lock first. The workbench's writes are small and few, and one at a
time keeps the audit chain linear and makes deadlocks impossible.

The schema is made and upgraded by Alembic (``migrations/``): ``Database.upgrade()`` brings
any earlier version to the head; opening a database that is behind refuses to write to it.
"""

from __future__ import annotations

import os
import select
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError

from peelkit.errors import WorkbenchError

DEFAULT_DATABASE = Path("peelkit-workbench.sqlite")
#: The advisory lock that serialises the workbench's writes on PostgreSQL.
WRITE_LOCK = 0x5045454C  # "PEEL"
MIGRATIONS = Path(__file__).parent / "migrations"


def database_url(given: str | Path | None = None) -> str:
    """The SQLAlchemy URL of ``given``: a URL as it is (``postgresql://`` taken to mean
    psycopg 3), a path as a SQLite file; default ``$PEELKIT_DATABASE``, else
    ``peelkit-workbench.sqlite`` in the working folder."""
    given = given if given is not None else os.environ.get("PEELKIT_DATABASE") or DEFAULT_DATABASE
    text_ = str(given)
    if "://" not in text_:
        return f"sqlite:///{Path(text_).resolve()}"
    for prefix in ("postgresql://", "postgres://"):
        if text_.startswith(prefix):
            return "postgresql+psycopg://" + text_[len(prefix) :]
    if not text_.startswith(("sqlite://", "postgresql+psycopg://")):
        raise WorkbenchError(
            f"the workbench database {text_!r} is neither a SQLite file nor a PostgreSQL URL; "
            "give a path, or postgresql://USER@HOST/DATABASE"
        )
    return text_


def shown(url: str) -> str:
    """``url`` without its password, for messages and logs."""
    return make_url(url).render_as_string(hide_password=True)


class Database:
    """One workbench database: ``read()`` and ``write()`` transactions, and migrations."""

    def __init__(self, url: str | Path | None = None) -> None:
        self.url = database_url(url)
        self.sqlite = self.url.startswith("sqlite")
        self.engine: Engine = self._engine()
        # SQLite has one writer at a time, and a connection that finds the file locked sleeps
        # (1, 2, 5 … 100 ms) before trying again: the threads of one process queue here instead,
        # so a save waits only as long as the save before it. Other processes still meet
        # SQLite's lock (and its busy timeout); PostgreSQL's advisory lock queues without sleeps.
        self._writer: AbstractContextManager[Any] = (
            threading.RLock() if self.sqlite else nullcontext()
        )

    def _engine(self) -> Engine:
        if self.sqlite:
            engine = create_engine(self.url, connect_args=dict(timeout=30))

            @event.listens_for(engine, "connect")
            def _pragmas(dbapi: Any, _record: Any) -> None:
                # Python's sqlite3 would open transactions itself; we issue BEGIN ourselves
                dbapi.isolation_level = None
                cursor = dbapi.cursor()
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=FULL")
                cursor.execute("PRAGMA foreign_keys=ON")
                cursor.execute("PRAGMA busy_timeout=30000")
                cursor.close()

            @event.listens_for(engine, "begin")
            def _begin(conn: Connection) -> None:
                conn.exec_driver_sql(
                    "BEGIN IMMEDIATE" if conn.info.get("writing") else "BEGIN DEFERRED"
                )

            return engine
        engine = create_engine(self.url, pool_size=5, max_overflow=10)

        @event.listens_for(engine, "checkout")
        def _alive(dbapi: Any, _record: Any, _proxy: Any) -> None:
            # A pooled connection the server has closed (a restart, an administrator, an idle
            # timeout) is given up for a new one. The server says so on the socket before
            # closing it, so an idle connection with something to read is dead: a look at
            # the socket, where SQLAlchemy's pre-ping would cost a round trip on every
            # checkout (a workbench page checks out one or two).
            if dbapi.closed or dbapi.broken or select.select([dbapi.fileno()], [], [], 0)[0]:
                raise DisconnectionError("the database closed this connection")

        return engine

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One write transaction, alone: committed at the end, rolled back on any error."""
        with self._writer, self.engine.connect() as conn:
            conn.info["writing"] = True
            try:
                with conn.begin():
                    if not self.sqlite:
                        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": WRITE_LOCK})
                    yield conn
            finally:
                conn.info["writing"] = False

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """One read transaction, seeing one moment in all its statements (``snapshot``): a
        page that reads a status, its version and its comments never mixes two saves."""
        with self.snapshot() as conn:
            yield conn

    @contextmanager
    def snapshot(self) -> Iterator[Connection]:
        """One read-only transaction that sees the database as it was at its first read, in
        every statement (a backup). SQLite's read transactions are such snapshots already (WAL);
        PostgreSQL's default, READ COMMITTED, would let each statement see later commits, so
        this one is REPEATABLE READ."""
        with self.engine.connect() as conn:
            if not self.sqlite:
                conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
            with conn.begin():
                yield conn

    @contextmanager
    def statement(self) -> Iterator[Connection]:
        """A connection for one read-only statement, which sees one moment by itself: on
        PostgreSQL without BEGIN and COMMIT around it (autocommit), two round trips fewer for
        what the public site asks on every request (release.switch)."""
        if self.sqlite:
            with self.snapshot() as conn:
                yield conn
            return
        with self.engine.connect() as conn:
            yield conn.execution_options(isolation_level="AUTOCOMMIT")

    def dispose(self) -> None:
        """Close every pooled connection (the database can then be dropped or moved)."""
        self.engine.dispose()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *_: object) -> None:
        self.dispose()

    # -- migrations --------------------------------------------------------------------------

    def _alembic(self) -> Any:
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.set_main_option("sqlalchemy.url", self.url.replace("%", "%%"))
        config.attributes["engine"] = self.engine
        return config

    def upgrade(self, revision: str = "head") -> None:
        """Bring the schema to ``revision`` (default the newest), keeping every row."""
        from alembic import command

        command.upgrade(self._alembic(), revision)

    def revision(self) -> str | None:
        """The schema version of the database (None: not a workbench database yet)."""
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def head(self) -> str:
        from alembic.script import ScriptDirectory

        head = ScriptDirectory.from_config(self._alembic()).get_current_head()
        assert head is not None
        return head

    def check_current(self) -> None:
        """Refuse to work on a database whose schema is not the newest."""
        found = self.revision()
        if found != self.head():
            what = "is not a workbench database yet" if found is None else f"is at {found}"
            raise WorkbenchError(
                f"the workbench database {shown(self.url)} {what}; the newest schema is "
                f"{self.head()}. Run `peelkit workbench upgrade --database …` first"
            )


def open_database(url: str | Path | None = None, *, upgrade: bool = True) -> Database:
    """The workbench database at ``url``, its schema brought to the newest (made if new)."""
    db = Database(url)
    try:
        if upgrade:
            db.upgrade()
        else:
            db.check_current()
    except BaseException:
        db.dispose()
        raise
    return db
