"""The workbench's test databases (tests/databases.py): every test that asks for
``workbench_url`` gets a fresh empty database of its own, on SQLite and on a real PostgreSQL,
deleted afterwards; without a PostgreSQL server those tests are skipped, or fail when one is
required (scripts/test, so CI)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, inspect, make_url, text

from tests.databases import (
    DATABASE_PREFIX,
    KINDS,
    REQUIRE_VARIABLE,
    URL_VARIABLE,
    database_exists,
    fresh_database,
)


@contextmanager
def engine_of(url: str) -> Iterator[Engine]:
    engine = create_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()


def table_names(url: str) -> list[str]:
    with engine_of(url) as engine:
        return inspect(engine).get_table_names()


def make_table(url: str, name: str) -> None:
    with engine_of(url) as engine, engine.begin() as con:
        con.execute(text(f"CREATE TABLE {name} (id integer primary key, note text)"))
        con.execute(text(f"INSERT INTO {name} (id, note) VALUES (1, 'left here')"))


def test_the_url_connects_with_sqlalchemy_to_an_empty_database_of_its_kind(
    workbench_url: str, request: pytest.FixtureRequest
) -> None:
    kind = request.node.callspec.params["workbench_url"]
    with engine_of(workbench_url) as engine, engine.connect() as con:
        assert engine.dialect.name == kind
        assert con.execute(text("SELECT 1")).scalar_one() == 1
        assert inspect(con).get_table_names() == []


def test_sqlite_is_a_file_in_the_tests_folder(tmp_path: Path) -> None:
    with fresh_database("sqlite", tmp_path) as url:
        assert url == f"sqlite:///{tmp_path}/workbench.sqlite"


def test_postgresql_is_a_real_server_and_a_database_named_for_the_test(tmp_path: Path) -> None:
    with fresh_database("postgresql", tmp_path) as url, engine_of(url) as engine:
        parsed = make_url(url)
        assert parsed.drivername == "postgresql+psycopg"
        assert parsed.database is not None and parsed.database.startswith(DATABASE_PREFIX)
        with engine.connect() as con:
            assert con.execute(text("SELECT current_database()")).scalar_one() == parsed.database
            assert "PostgreSQL" in con.execute(text("SELECT version()")).scalar_one()
            # UTF-8 with the C collation, whatever the server's own locale.
            assert con.execute(text("SHOW server_encoding")).scalar_one() == "UTF8"
            assert con.execute(text("SHOW lc_collate")).scalar_one() == "C"


# Each of these two tests checks that its database is new (not the other's: each leaves a table
# behind) and empty, whichever of them runs first, or alone.
seen: set[str] = set()


@pytest.mark.parametrize("turn", ["first", "second"])
def test_two_tests_get_different_empty_databases(workbench_url: str, turn: str) -> None:
    assert workbench_url not in seen
    seen.add(workbench_url)
    assert table_names(workbench_url) == []
    make_table(workbench_url, f"left_by_{turn}")


@pytest.mark.parametrize("kind", KINDS)
def test_one_test_may_hold_several_separate_databases(kind: str, tmp_path: Path) -> None:
    with fresh_database(kind, tmp_path) as one, fresh_database(kind, tmp_path) as other:
        assert one != other
        make_table(one, "only_in_one")
        assert table_names(one) == ["only_in_one"]
        assert table_names(other) == []


@pytest.mark.parametrize("kind", KINDS)
def test_the_database_is_gone_after_the_context_even_if_still_connected(
    kind: str, tmp_path: Path
) -> None:
    with fresh_database(kind, tmp_path) as unused:
        assert database_exists(unused) == (kind == "postgresql")  # SQLite: made on first use
    assert not database_exists(unused)
    with fresh_database(kind, tmp_path) as url:
        engine = create_engine(url)
        con = engine.connect()  # left open across the drop: WITH (FORCE) ends it
        con.execute(text("CREATE TABLE kept_open (id integer)"))
        con.commit()
        assert database_exists(url)
    assert not database_exists(url)
    con.invalidate()  # the server has ended it: close it without the pool's rollback
    engine.dispose()


@pytest.mark.parametrize("kind", KINDS)
def test_a_table_made_in_one_fresh_database_is_absent_from_the_next(
    kind: str, tmp_path: Path
) -> None:
    with fresh_database(kind, tmp_path) as url:
        make_table(url, "made_before")
        assert table_names(url) == ["made_before"]
    with fresh_database(kind, tmp_path) as url:
        assert table_names(url) == []


def test_an_unknown_kind_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="sqlite, postgresql"), fresh_database("mysql", tmp_path):
        pass


def test_without_a_server_the_postgresql_tests_are_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(URL_VARIABLE, raising=False)
    monkeypatch.delenv(REQUIRE_VARIABLE, raising=False)
    with (
        pytest.raises(pytest.skip.Exception, match="run scripts/postgres"),
        fresh_database("postgresql", tmp_path),
    ):
        pass
    with fresh_database("sqlite", tmp_path) as url:
        assert url.startswith("sqlite:///")


def test_without_a_server_when_one_is_required_they_fail(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(URL_VARIABLE, raising=False)
    monkeypatch.setenv(REQUIRE_VARIABLE, "1")
    with (
        pytest.raises(pytest.fail.Exception, match="run scripts/postgres"),
        fresh_database("postgresql", tmp_path),
    ):
        pass


def test_a_server_that_does_not_answer_fails_the_test_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Port 1 on the loopback: nothing listens there, so the connection is refused at once.
    monkeypatch.setenv(URL_VARIABLE, "postgresql+psycopg://someone:secret@127.0.0.1:1/postgres")
    with pytest.raises(pytest.fail.Exception) as failure, fresh_database("postgresql", tmp_path):
        pass
    assert "does not answer" in str(failure.value)
    assert "127.0.0.1:1" in str(failure.value)
    assert "secret" not in str(failure.value)
