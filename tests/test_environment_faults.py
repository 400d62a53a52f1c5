"""Faults of the machine rather than of the data: a damaged zip member.

Each is a PeelkitError that the command prints as "Error: …" with exit code 1 and no traceback,
and each leaves the warehouse exactly as it was. The command runs as a real process
(``python -m peelkit.cli``) wherever the command line matters.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import struct
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

import peelkit
from peelkit.errors import UnreadableFile
from peelkit.ingest import ingest
from peelkit.warehouse import REFERENCE_TABLES, open_read_only, open_warehouse, snapshot

CITY = Path("police-uk-city-of-london")
CITY_2016_01 = CITY / "2016-01"
STREET_2016_02 = CITY / "2016-02" / "2016-02-city-of-london-street.csv"
SOURCE = str(Path(peelkit.__file__).resolve().parents[1])

State = tuple[dict[str, list[tuple[object, ...]]], dict[str, int]]


def env(**extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([SOURCE, os.environ.get("PYTHONPATH", "")]),
        "COLUMNS": "1000",
        "TERM": "dumb",
        **extra,
    }


def peelkit_args(*args: str | Path) -> list[str]:
    return [sys.executable, "-m", "peelkit.cli", *map(str, args)]


def run(
    *args: str | Path, prefix: list[str] | None = None, **extra: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*(prefix or []), *peelkit_args(*args)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env(**extra),
    )


def assert_error(done: subprocess.CompletedProcess[str], *messages: str) -> None:
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Error: " in done.stderr, done.stderr
    message = " ".join(done.stderr.split())  # the console may wrap long lines
    for expected in messages:
        assert expected in message, done.stderr
    assert "Traceback" not in done.stderr


def state(path: Path) -> State:
    """Every ledger and fact row, and the number of rows of every reference table."""
    con = open_read_only(path)
    try:
        counts = {}
        for table in REFERENCE_TABLES:
            row = con.execute(f"SELECT count(*) FROM {table}").fetchone()
            counts[table] = int(row[0]) if row else -1
        return snapshot(con), counts
    finally:
        con.close()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory, real_data: Path) -> tuple[Path, State]:
    """A warehouse holding one good load (City of London, January 2016)."""
    path = tmp_path_factory.mktemp("faults") / "warehouse.duckdb"
    con = open_warehouse(path)
    try:
        report = ingest(con, [real_data / CITY_2016_01])
        assert len(report.loaded) == 3
    finally:
        con.close()
    return path, state(path)


@dataclass
class Warehouse:
    path: Path
    before: State

    def unchanged(self) -> bool:
        return state(self.path) == self.before


@pytest.fixture
def warehouse(template: tuple[Path, State], tmp_path: Path) -> Warehouse:
    path = tmp_path / "warehouse.duckdb"
    shutil.copyfile(template[0], path)
    return Warehouse(path, template[1])


# -- 5. a damaged member of a zip archive -----------------------------------------------------

MEMBER = "2016-02/2016-02-city-of-london-street.csv"


def _zip_with_member(real_data: Path, archive: Path) -> tuple[bytearray, int, int]:
    """A zip of a real street file; its bytes, and where the member's compressed data starts
    and how long it is."""
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(real_data / STREET_2016_02, MEMBER)
    data = bytearray(archive.read_bytes())
    with zipfile.ZipFile(archive) as zf:
        info = zf.getinfo(MEMBER)
    offset = info.header_offset
    name_length, extra_length = struct.unpack("<HH", data[offset + 26 : offset + 30])
    return data, offset + 30 + name_length + extra_length, info.compress_size


def _read_error(archive: Path) -> BaseException | None:
    try:
        with zipfile.ZipFile(archive) as zf:
            zf.read(MEMBER)
    except Exception as exc:
        return exc
    return None


def invalid_deflate_zip(real_data: Path, archive: Path) -> Path:
    """The member's first deflate block header says block type 3, which does not exist."""
    data, start, _ = _zip_with_member(real_data, archive)
    data[start] = 0b111  # BFINAL 1, BTYPE 11
    archive.write_bytes(bytes(data))
    assert "invalid block type" in str(_read_error(archive))
    return archive


def bad_crc_zip(real_data: Path, archive: Path) -> Path:
    """One bit of the member's compressed data flipped where it still inflates: the bytes
    differ from the ones the CRC-32 was taken of."""
    data, start, size = _zip_with_member(real_data, archive)
    for position in range(start + size // 2, start + size):
        changed = bytearray(data)
        changed[position] ^= 0x01
        archive.write_bytes(bytes(changed))
        if "Bad CRC-32" in str(_read_error(archive)):
            return archive
    raise AssertionError("no single-bit change gave a CRC-32 error")


def test_the_broken_zip_builders_make_the_errors_they_say(real_data: Path, tmp_path: Path) -> None:
    zlib_error = _read_error(invalid_deflate_zip(real_data, tmp_path / "a.zip"))
    assert type(zlib_error).__name__ == "error" and type(zlib_error).__module__ == "zlib"
    crc_error = _read_error(bad_crc_zip(real_data, tmp_path / "b.zip"))
    assert isinstance(crc_error, zipfile.BadZipFile)


@pytest.fixture
def con_before(warehouse: Warehouse) -> Iterator[duckdb.DuckDBPyConnection]:
    con = open_warehouse(warehouse.path)
    try:
        yield con
    finally:
        con.close()


DAMAGED = {
    "invalid compressed data": (
        invalid_deflate_zip,
        "is damaged inside the archive (invalid compressed data: Error -3 while decompressing "
        "data: invalid block type). Download the archive again.",
    ),
    "bad CRC-32": (
        bad_crc_zip,
        "is damaged inside the archive (bad CRC-32: its bytes are not the ones the archive "
        "recorded). Download the archive again.",
    ),
}


@pytest.mark.parametrize("case", list(DAMAGED))
def test_a_damaged_zip_member_is_unreadable_naming_archive_and_member_and_loads_nothing(
    case: str, con_before: duckdb.DuckDBPyConnection, warehouse: Warehouse, real_data: Path
) -> None:
    build, message = DAMAGED[case]
    folder = warehouse.path.parent / "data"
    folder.mkdir()
    archive = build(real_data, folder / "2016-02.zip")
    # beside good files: the ingest fails as a whole
    shutil.copyfile(
        real_data / CITY / "2016-03" / "2016-03-city-of-london-street.csv",
        folder / "2016-03-city-of-london-street.csv",
    )
    with pytest.raises(UnreadableFile) as caught:
        ingest(con_before, [folder])
    assert str(caught.value) == f"{archive}!{MEMBER} {message}"
    assert caught.value.path == f"{archive}!{MEMBER}"
    assert snapshot(con_before) == warehouse.before[0]


@pytest.mark.parametrize("case", list(DAMAGED))
def test_the_command_prints_the_damaged_member_and_changes_nothing(
    case: str, warehouse: Warehouse, real_data: Path, tmp_path: Path
) -> None:
    build, message = DAMAGED[case]
    archive = build(real_data, tmp_path / "2016-02.zip")
    done = run("ingest", archive, real_data / CITY / "2016-03", "-w", warehouse.path)
    assert_error(done, f"Error: {archive}!{MEMBER} {message}")
    assert warehouse.unchanged()


def test_a_zip_cut_in_half_is_not_a_readable_archive(
    warehouse: Warehouse, real_data: Path, tmp_path: Path
) -> None:
    data, _, _ = _zip_with_member(real_data, tmp_path / "whole.zip")
    archive = tmp_path / "2016-02.zip"
    archive.write_bytes(bytes(data[: len(data) // 2]))
    done = run("ingest", archive, "-w", warehouse.path)
    assert_error(
        done,
        f"Error: {archive} is not a readable zip archive (File is not a zip file). Download it "
        "again, or unpack it and give the folder instead.",
    )
    assert warehouse.unchanged()
