"""docs/warehouse.md describes every table, column and type of the warehouse, and nothing else."""

from __future__ import annotations

import re

import duckdb

from tests.conftest import REPO

DOC = REPO / "docs" / "warehouse.md"


def documented() -> dict[str, dict[str, str]]:
    tables: dict[str, dict[str, str]] = {}
    current: str | None = None
    for line in DOC.read_text("utf-8").splitlines():
        heading = re.match(r"### (\w+)", line)
        if heading:
            current = heading.group(1)
            tables[current] = {}
            continue
        row = re.match(r"\| (\w+) \| ([A-Z][A-Z \[\]]*?) \|", line)
        if current and row:
            tables[current][row.group(1)] = row.group(2).strip()
    return tables


def actual(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, str]]:
    tables: dict[str, dict[str, str]] = {}
    for table, column, data_type in con.execute(
        "SELECT table_name, column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'main' ORDER BY table_name, ordinal_position"
    ).fetchall():
        tables.setdefault(table, {})[column] = data_type
    return tables


def test_every_table_and_column_is_documented_with_its_type(warehouse):
    assert documented() == actual(warehouse)


def test_doc_names_the_tables_the_issue_requires(warehouse):
    required = {
        "forces",
        "police_uk_street",
        "police_uk_outcomes",
        "police_uk_stop_search",
        "recorded_crime",
        "crime_outcomes",
        "population",
        "data_returns",
        "loads",
        "rejected_rows",
        "coverage",
    }
    assert required <= set(documented())
