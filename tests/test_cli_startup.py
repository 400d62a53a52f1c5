"""The command line starts without the heavy stack: each check runs in a fresh interpreter,
because the test process itself has long since imported everything."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import peelkit
from peelkit.warehouse import open_warehouse

# Imported only by the commands that need them (indicators, explain, report, demo, ingest).
HEAVY = ("ibis", "matplotlib", "weasyprint", "scipy", "pandas", "pyspark", "sqlglot")

# Runs `peelkit ARGS...` in-process (as the console script does), then prints on its last line
# which heavy modules are loaded.
PROBE = """
import json, sys
from peelkit.cli import app
args = json.loads(sys.argv[1])
if args:
    try:
        app(args)
    except SystemExit as exc:
        if exc.code not in (0, None):
            raise
print()
print(json.dumps(sorted(m for m in json.loads(sys.argv[2]) if m in sys.modules)))
"""


def run_probe(*args: str, heavy: tuple[str, ...] = HEAVY) -> tuple[str, list[str]]:
    """The command's output, and the heavy modules loaded once it finished."""
    source = str(Path(peelkit.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([source, os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(list(args)), json.dumps(list(heavy))],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    output, _, last = done.stdout.rstrip("\n").rpartition("\n")
    return output, json.loads(last)


def test_importing_the_cli_loads_none_of_the_heavy_libraries():
    # duckdb and pyarrow too: --help, forces and formats never open the warehouse.
    output, loaded = run_probe(heavy=(*HEAVY, "duckdb", "pyarrow", "numpy", "fsspec"))
    assert output == ""
    assert loaded == []


def test_the_probe_sees_heavy_modules_when_a_command_needs_them(warehouse_path):
    # The same probe, after a command that does use the stack (the engine is Ibis expressions
    # compiled to SQL), must report it; else the checks above could not fail.
    open_warehouse(warehouse_path).close()
    output, loaded = run_probe(
        "indicators", "--indicator", "FIN-2", "--format", "csv", "-w", str(warehouse_path)
    )
    assert output.startswith("indicator_id,")
    assert "ibis" in loaded and "sqlglot" in loaded


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--help",), "forces"),
        (("forces",), "Metropolitan Police Service"),
        (("formats",), "Crime ID,Month,Reported by,Falls within"),
    ],
)
def test_light_commands_work_without_the_heavy_libraries(args, expected):
    heavy = (*HEAVY, "duckdb", "pyarrow", "pydantic")
    if args != ("--help",):  # Typer's help is rich text; forces and formats print plain lines
        heavy = (*heavy, "rich")
    output, loaded = run_probe(*args, heavy=heavy)
    assert expected in output
    assert loaded == []


def test_query_and_coverage_load_duckdb_only(warehouse_path):
    # nor rich nor pydantic: both print plain text, and Typer 0.29's pydantic coercion of
    # every option would cost more than a third of the start-up (pyproject.toml pins below it)
    open_warehouse(warehouse_path).close()
    heavy = (*HEAVY, "rich", "pydantic")
    output, loaded = run_probe(
        "query", "SELECT count(*) AS n FROM forces", "-w", str(warehouse_path), heavy=heavy
    )
    assert output.splitlines()[0] == "n" and int(output.splitlines()[1]) > 43
    assert loaded == []
    output, loaded = run_probe("coverage", "-w", str(warehouse_path), heavy=heavy)
    assert "Coverage" in output
    assert loaded == []


def test_ingest_of_csv_files_loads_neither_arrow_nor_pandas(real_data, tmp_path):
    # The ledger and reference rows go in without Arrow: its first scan in DuckDB also imports
    # numpy and pandas, a quarter of a second on every ingest.
    folder = real_data / "police-uk-city-of-london" / "2016-01"
    output, loaded = run_probe(
        "ingest",
        str(folder),
        "-w",
        str(tmp_path / "w.duckdb"),
        heavy=(*HEAVY, "pyarrow", "numpy"),
    )
    assert "police_uk_street" in output and "446" in output
    assert loaded == []
