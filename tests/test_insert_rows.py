"""warehouse.insert_rows: many Python rows into a table in one statement, values unchanged."""

from __future__ import annotations

from datetime import UTC, date, datetime

import duckdb

from peelkit.warehouse import insert_rows


def test_insert_rows_keeps_every_value_and_type():
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE t (id INTEGER, big BIGINT, name VARCHAR, day DATE, seen_at TIMESTAMPTZ, "
        "value DOUBLE, note VARCHAR DEFAULT 'default')"
    )
    at = datetime(2016, 6, 30, 23, 59, 1, 500, tzinfo=UTC)
    rows = [
        (1, 2**40, 'He said "no", then left', date(2016, 1, 1), at, 2),
        (2, None, None, None, None, 2.5),
        (3, -1, "Ynys Môn; \n two lines", date(2015, 12, 31), at, None),
    ]
    # Columns in another order than the table's, and one column left to its default.
    insert_rows(
        con,
        "t",
        ("value", "id", "big", "name", "day", "seen_at"),
        [(r[5], r[0], r[1], r[2], r[3], r[4]) for r in rows],
    )
    got = con.execute(
        "SELECT id, big, name, day, epoch_us(seen_at), value, note FROM t ORDER BY id"
    ).fetchall()
    epoch = int((at - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds() * 1_000_000)
    assert got == [
        (1, 2**40, 'He said "no", then left', date(2016, 1, 1), epoch, 2.0, "default"),
        (2, None, None, None, None, 2.5, "default"),
        (3, -1, "Ynys Môn; \n two lines", date(2015, 12, 31), epoch, None, "default"),
    ]


def test_insert_rows_of_nothing_leaves_the_table_alone():
    con = duckdb.connect()
    con.execute("CREATE TABLE t (id INTEGER)")
    insert_rows(con, "t", ("id",), [])
    insert_rows(con, "t", ("id",), iter([(7,), (8,)]))
    assert con.execute("SELECT id FROM t ORDER BY id").fetchall() == [(7,), (8,)]
