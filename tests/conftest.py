"""Shared fixtures: the real data folder (read-only, never copied), fresh warehouses, and fresh
workbench databases on SQLite and PostgreSQL (tests/databases.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from peelkit.warehouse import open_warehouse
from tests.databases import KINDS, fresh_database

REPO = Path(__file__).resolve().parents[1]

# The Home Office tables' headers, written out here independently of the readers' declarations.
PRC_HEADER = [
    "Financial Year",
    "Financial Quarter",
    "Force Name",
    "Offence Description",
    "Offence Group",
    "Offence Subgroup",
    "Offence Code",
    "Number of Offences",
]
OUTCOMES_HEADER = [
    *PRC_HEADER[:7],
    "Outcome Description",
    "Outcome Group",
    "Outcome Type",
    "Force outcomes for offences recorded in quarter",
    "Force outcomes recorded in quarter",
]


def shared_folder() -> Path:
    configured = os.environ.get("PEELKIT_SHARED")
    return Path(configured) if configured else REPO.parent / "shared"


@pytest.fixture(scope="session")
def real_data() -> Path:
    """../shared/data/real: the real public files the tests load (read-only)."""
    folder = shared_folder() / "data" / "real"
    if not folder.is_dir():
        pytest.fail(
            f"The real data folder {folder} is missing. Tests read it from ../shared/data/real "
            "beside the repository, or from $PEELKIT_SHARED/data/real."
        )
    return folder


@pytest.fixture(scope="session")
def seed_report() -> Path:
    """The text of the 2016 PEEL effectiveness report on the Metropolitan Police (the model)."""
    path = shared_folder() / "seed" / "peel-effectiveness-2016-metropolitan.txt"
    if not path.is_file():
        pytest.fail(f"The seed report {path} is missing (../shared/seed beside the repository).")
    return path


@pytest.fixture
def warehouse_path(tmp_path: Path) -> Path:
    return tmp_path / "warehouse.duckdb"


@pytest.fixture
def warehouse(warehouse_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    con = open_warehouse(warehouse_path)
    try:
        yield con
    finally:
        con.close()


@pytest.fixture(params=KINDS)
def workbench_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The SQLAlchemy URL of a fresh empty workbench database: every test that asks for it runs
    twice, ids sqlite and postgresql (skipped without a PostgreSQL server, failed instead under
    PEELKIT_REQUIRE_POSTGRES=1: see tests/databases.py)."""
    with fresh_database(request.param, tmp_path) as url:
        yield url


class DemoRun:
    """``peelkit demo`` run once per test session, as a user runs it."""

    def __init__(self, folder: Path) -> None:
        from typer.testing import CliRunner

        from peelkit.cli import app

        self.folder = folder
        self.warehouse = folder / "demo.duckdb"
        self.data = folder / "data"
        self.reports = folder / "reports"
        self.site = folder / "site"
        result = CliRunner().invoke(
            app,
            [
                "demo",
                "-w",
                str(self.warehouse),
                "--out",
                str(self.data),
                "--reports",
                str(self.reports),
                "--site",
                str(self.site),
            ],
        )
        assert result.exit_code == 0, result.output
        self.output = result.output


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    return DemoRun(tmp_path_factory.mktemp("demo"))


REAL_PRC = Path("home-office-prc") / "prc-pfa-mar2013-onwards-tables201718.csv"


def real_prc_with_populations(
    real_data: Path, folder: Path, populations: dict[str, tuple[int, int]]
) -> duckdb.DuckDBPyConnection:
    """A warehouse holding the real 2017/18 recorded crime table and, as peelkit's population
    CSV, the given force populations: {force code: (year, people)}."""
    population = folder / "population.csv"
    population.write_text(
        "code,year,population,households,source\n"
        + "".join(
            f"{code},{year},{people},,test figure\n" for code, (year, people) in populations.items()
        ),
        encoding="utf-8",
    )
    from peelkit.ingest import ingest

    con = open_warehouse(folder / "w.duckdb")
    ingest(con, [real_data / REAL_PRC, population])
    return con
