"""An ingest killed with SIGKILL part-way leaves the warehouse exactly as it was.

A real ``peelkit ingest`` process loads a synthetic national sample (1.5 million street rows
plus the two Home Office tables, about 400 MB) into a warehouse that already holds one good
load. The Home Office tables are loaded first, in their own batches, and progress is printed
on standard error as plain ``loaded ...`` lines (standard error is not a terminal); the street
batch then takes several seconds. The process is killed with SIGKILL shortly after
the first ``loaded`` line — inside the one transaction of the ingest, with rows of finished
files already written to it — and the reopened warehouse must equal its snapshot from before.
A normal ingest of the same folder must then load every file.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from peelkit.demo.sample import SampleSpec, write_sample
from peelkit.ingest import ingest
from peelkit.warehouse import open_warehouse, snapshot

SPEC = SampleSpec(street_rows=1_500_000, home_office=True, tidy=False, police_uk_kinds=("street",))
# a month outside the sample's (2015-07 to 2016-06): the sample would replace a month it also has
CITY_2016_07 = Path("police-uk-city-of-london/2016-07/2016-07-city-of-london-street.csv")


def peelkit_ingest(folder: Path, warehouse: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "peelkit.cli",
        "ingest",
        str(folder),
        "--warehouse",
        str(warehouse),
    ]


def quiet_env() -> dict[str, str]:
    # Wide lines, so that a 'loaded ...' line is never wrapped by the console.
    return dict(os.environ, COLUMNS="1000", TERM="dumb")


def read_lines(stream, lines: queue.Queue[str | None]) -> None:
    for line in stream:
        lines.put(line.rstrip("\n"))
    lines.put(None)


@pytest.mark.slow
def test_ingest_killed_mid_load_leaves_warehouse_as_it_was_and_next_ingest_loads_all(
    tmp_path, real_data
):
    folder = tmp_path / "sample"
    files = write_sample(folder, SPEC)
    assert len(files) == 43 * 12 + 2
    warehouse = tmp_path / "warehouse.duckdb"

    con = open_warehouse(warehouse)
    try:
        first = ingest(con, [real_data / CITY_2016_07])
        assert [(f.status, f.rows_loaded) for f in first.files] == [("loaded", 536)]
        before = snapshot(con)
    finally:
        con.close()

    process = subprocess.Popen(
        peelkit_ingest(folder, warehouse),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=quiet_env(),
    )
    lines: queue.Queue[str | None] = queue.Queue()
    reader = threading.Thread(target=read_lines, args=(process.stderr, lines), daemon=True)
    reader.start()
    seen: list[str] = []
    try:
        deadline = time.monotonic() + 300
        while not any(line.startswith("loaded ") for line in seen):
            line = lines.get(timeout=max(deadline - time.monotonic(), 0.1))
            assert line is not None, "peelkit ingest ended before loading any file:\n" + "\n".join(
                seen
            )
            seen.append(line)
        time.sleep(0.5)  # into the street batch, the long part of the transaction
        still_running = process.poll() is None
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    reader.join(timeout=10)
    assert process.stderr is not None
    process.stderr.close()
    while not lines.empty():
        if (line := lines.get_nowait()) is not None:
            seen.append(line)

    assert still_running, "the ingest finished before it could be killed: make the sample bigger"
    assert process.returncode == -signal.SIGKILL
    loaded_lines = [line for line in seen if line.startswith("loaded ")]
    assert 1 <= len(loaded_lines) < len(files), loaded_lines

    con = open_warehouse(warehouse)
    try:
        assert snapshot(con) == before
    finally:
        con.close()

    again = subprocess.run(
        peelkit_ingest(folder, warehouse),
        capture_output=True,
        text=True,
        env=quiet_env(),
        timeout=600,
    )
    assert again.returncode == 0, again.stderr
    assert "already in the warehouse" not in again.stdout  # nothing survived the killed run

    street_files = [f for f in files if f.name.endswith("-street.csv")]
    street_rows = sum(f.read_bytes().count(b"\n") - 1 for f in street_files)
    con = open_warehouse(warehouse)
    try:
        # The first load is untouched (a full snapshot of 1.5 million rows would be slow).
        for table, rows in before.items():
            first_load = con.execute(f"SELECT * FROM {table} WHERE load_id = 1").fetchall()
            assert sorted(first_load, key=repr) == rows, table
        loads = con.execute(
            "SELECT kind, count(*), sum(rows_read), sum(rows_loaded), sum(rows_rejected) "
            "FROM loads WHERE load_id > 1 GROUP BY kind ORDER BY kind"
        ).fetchall()
        load_ids = [
            row[0] for row in con.execute("SELECT load_id FROM loads ORDER BY 1").fetchall()
        ]
        street_in_table = con.execute(
            "SELECT count(*) FROM police_uk_street WHERE load_id > 1"
        ).fetchone()
    finally:
        con.close()
    assert [(kind, files_, rejected) for kind, files_, _, _, rejected in loads] == [
        ("crime_outcomes", 1, 0),
        ("police_uk_street", len(street_files), 0),
        ("recorded_crime", 1, 0),
    ]
    assert loads[1][2:4] == (street_rows, street_rows)
    assert street_in_table == (street_rows,)
    assert load_ids == list(range(1, len(files) + 2))
