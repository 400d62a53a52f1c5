"""Faults of the machine rather than of the data: a full disk, a read-only warehouse, two
commands on one warehouse, a --warehouse that is another program's file, a damaged zip member.

Each is a PeelkitError that the command prints as "Error: …" with exit code 1 and no traceback,
and each leaves the warehouse exactly as it was. The command runs as a real process
(``python -m peelkit.cli``) wherever the command line matters.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
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
from peelkit.errors import UnreadableFile, WarehouseError
from peelkit.ingest import ingest
from peelkit.warehouse import (
    DUCKDB_MAGIC,
    REFERENCE_TABLES,
    SCHEMA_VERSION,
    open_read_only,
    open_warehouse,
    snapshot,
    storage_error,
)

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


# -- 1. a full disk ---------------------------------------------------------------------------

# Runs the command with a file size limit (ulimit -f): a write past it fails with EFBIG, as on a
# full disk, instead of killing the process with SIGXFSZ.
LIMITED = """
import resource, runpy, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
limit = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
sys.argv = ["peelkit", *sys.argv[2:]]
runpy.run_module("peelkit.cli", run_name="__main__")
"""


def test_ingest_past_a_file_size_limit_fails_in_words_and_changes_nothing(
    warehouse: Warehouse, real_data: Path
) -> None:
    # the load's rows (about 4 MB in the write-ahead log) cannot be written past 1 MB
    command = ["ingest", str(real_data / CITY), "-w", str(warehouse.path)]
    done = subprocess.run(
        [sys.executable, "-c", LIMITED, str(1 << 20), *command],
        capture_output=True,
        text=True,
        timeout=300,
        env=env(),
    )
    assert_error(
        done,
        "Error: A file size limit was reached (ulimit -f, or the largest file the disk's file "
        f"system allows) while writing the warehouse {warehouse.path} ({warehouse.path}.wal), "
        "so nothing of this command was saved: the warehouse holds what it held before. Raise "
        "the limit or free some disk space, or choose a warehouse on another disk with "
        "--warehouse, then run the command again.",
    )
    assert warehouse.unchanged()
    # nothing of the failed load was taken for loaded: the same ingest now loads every file
    again = run("ingest", real_data / CITY, "-w", warehouse.path)
    assert again.returncode == 0, again.stderr
    after = state(warehouse.path)[0]
    assert len(after["loads"]) == 18 + 18 + 15


# The same in the library, with DuckDB checkpointing at the COMMIT (as it does when a load is
# larger than its checkpoint threshold): the checkpoint fails and DuckDB invalidates the
# connection. The error must still be the full disk, not the failed ROLLBACK after it.
CHECKPOINT = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
from peelkit.errors import PeelkitError
from peelkit.ingest import ingest
from peelkit.warehouse import open_warehouse, storage_errors
path, folder = sys.argv[1], sys.argv[2]
with storage_errors(path):
    con = open_warehouse(path)
con.execute("SET checkpoint_threshold = '1KB'")
limit = int(sys.argv[3])
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
try:
    with storage_errors(path):
        ingest(con, [folder])
except PeelkitError as exc:
    print(type(exc).__name__, exc)
finally:
    con.close()
"""


def test_a_checkpoint_past_a_file_size_limit_fails_in_words_and_changes_nothing(
    warehouse: Warehouse, real_data: Path
) -> None:
    limit = warehouse.path.stat().st_size  # the file cannot grow
    done = subprocess.run(
        [sys.executable, "-c", CHECKPOINT, str(warehouse.path), str(real_data / CITY), str(limit)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env(),
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(
        "WarehouseError A file size limit was reached (ulimit -f, or the largest file the disk's "
        f"file system allows) while writing the warehouse {warehouse.path}"
    ), done.stdout + done.stderr
    assert warehouse.unchanged()


@pytest.mark.parametrize(
    ("duckdb_message", "expected"),
    [
        (
            'Could not write file "{wal}": No space left on device',
            "The disk is full while writing the warehouse {path} ({wal}), so nothing of this "
            "command was saved: the warehouse holds what it held before. Free some disk space, "
            "or choose a warehouse on another disk with --warehouse, then run the command again.",
        ),
        (
            'Could not write file "{path}": Disk quota exceeded',
            "The disk quota is used up while writing the warehouse {path}, so nothing of this "
            "command was saved: the warehouse holds what it held before. Free some space within "
            "the quota, or choose",
        ),
        (
            'Cannot open file "{path}": Read-only file system',
            "Cannot write to the warehouse {path}: it is on a read-only file system.",
        ),
    ],
)
def test_other_storage_faults_are_said_in_words(
    tmp_path: Path, duckdb_message: str, expected: str
) -> None:
    # ENOSPC, EDQUOT and EROFS need a small or read-only file system to happen for real
    path = tmp_path / "w.duckdb"
    exc = duckdb.IOException(duckdb_message.format(path=path, wal=f"{path}.wal"))
    message = str(storage_error(path, exc, writing=True))
    assert message.startswith(expected.format(path=path, wal=f"{path}.wal")), message


# -- 2. a read-only warehouse -----------------------------------------------------------------


@pytest.fixture(scope="module")
def unprivileged() -> list[str]:
    """A command prefix under which file permissions apply. Root ignores them (it has
    CAP_DAC_OVERRIDE): as root, run the command with that capability dropped (setpriv), and
    skip when that is not possible here."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root, which ignores file permissions, and setpriv is missing")
    prefix = [setpriv, "--bounding-set=-dac_override,-dac_read_search"]
    probe = subprocess.run(
        [*prefix, sys.executable, "-c", "open('/proc/self/status')"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    if probe.returncode != 0:
        pytest.skip(
            "running as root, which ignores file permissions, and root's CAP_DAC_OVERRIDE "
            f"cannot be dropped here (setpriv: {probe.stderr.strip()[:200]})"
        )
    return prefix


@pytest.fixture
def read_only(tmp_path: Path, unprivileged: list[str]) -> Iterator[list[str]]:
    """Check that read-only really is read-only under the prefix; restore permissions after."""
    probe_file = tmp_path / "probe"
    probe_file.write_text("x")
    probe_file.chmod(0o444)
    done = subprocess.run(
        [*unprivileged, sys.executable, "-c", f"open({str(probe_file)!r}, 'a')"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0 and "Permission denied" in done.stderr, done.stderr
    try:
        yield unprivileged
    finally:
        for path in [tmp_path, *tmp_path.rglob("*")]:
            path.chmod(path.stat().st_mode | stat.S_IWUSR | stat.S_IXUSR)


def test_ingest_into_a_read_only_warehouse_fails_in_words_and_changes_nothing(
    warehouse: Warehouse, read_only: list[str], real_data: Path
) -> None:
    warehouse.path.chmod(0o444)
    digest = sha256(warehouse.path)
    done = run("ingest", real_data / CITY / "2016-02", "-w", warehouse.path, prefix=read_only)
    assert_error(
        done,
        f"Error: Cannot write to the warehouse {warehouse.path}: the file is read-only "
        f"(permission denied). Make it writable (chmod u+w {warehouse.path}), or choose "
        "another --warehouse.",
    )
    assert sha256(warehouse.path) == digest
    assert not Path(f"{warehouse.path}.wal").exists()
    assert warehouse.unchanged()
    # reading it is still fine
    query = run("query", "SELECT count(*) AS n FROM loads", "-w", warehouse.path, prefix=read_only)
    assert (query.returncode, query.stdout) == (0, "n\n3\n"), query.stderr


def test_a_new_warehouse_in_a_read_only_folder_fails_in_words(
    tmp_path: Path, read_only: list[str], real_data: Path
) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    target = folder / "new.duckdb"
    done = run("ingest", real_data / CITY / "2016-02", "-w", target, prefix=read_only)
    assert_error(
        done,
        f"Error: Cannot write to the warehouse {target}: the folder {folder} is read-only "
        "(permission denied). Choose --warehouse in a folder you can write to.",
    )
    assert list(folder.iterdir()) == []


def test_a_writable_warehouse_in_a_read_only_folder_names_the_folder_and_changes_nothing(
    tmp_path: Path, template: tuple[Path, State], read_only: list[str], real_data: Path
) -> None:
    # DuckDB writes its write-ahead log beside the file: the folder must be writable too
    folder = tmp_path / "locked"
    folder.mkdir()
    path = folder / "warehouse.duckdb"
    shutil.copyfile(template[0], path)
    folder.chmod(0o555)
    done = run("ingest", real_data / CITY / "2016-02", "-w", path, prefix=read_only)
    assert_error(
        done,
        f"Error: Cannot write to the warehouse {path}: the folder {folder} is read-only "
        f"(permission denied for {path}.wal).",
    )
    assert state(path) == template[1]


# -- 3. two commands on one warehouse ---------------------------------------------------------


@pytest.mark.parametrize("command", ["ingest", "query"])
def test_a_warehouse_held_by_another_process_is_busy_after_the_wait(
    warehouse: Warehouse, real_data: Path, command: str
) -> None:
    args = (
        ("ingest", real_data / CITY / "2016-02")
        if command == "ingest"
        else ("query", "SELECT count(*) FROM loads")
    )
    holder = duckdb.connect(str(warehouse.path))  # this process holds the write lock
    try:
        done = run(*args, "-w", warehouse.path, PEELKIT_WAIT="0.5")
    finally:
        holder.close()
    assert_error(
        done,
        f"The warehouse {warehouse.path} is in use by another process (PID {os.getpid()}: ",
        "waiting up to 0.5 s for it to finish",
        "probably another peelkit command, and was still in use after 0.5 s. Wait for it to "
        "finish, then run this command again",
    )
    assert done.stdout == ""
    assert warehouse.unchanged()


def test_an_ingest_waits_for_the_warehouse_and_loads_when_it_is_released(
    warehouse: Warehouse, real_data: Path
) -> None:
    holder = duckdb.connect(str(warehouse.path))
    try:
        process = subprocess.Popen(
            peelkit_args("ingest", real_data / CITY / "2016-02", "-w", warehouse.path),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env(PEELKIT_WAIT="300"),
        )
        assert process.stderr is not None
        first = process.stderr.readline()  # blocks until the ingest finds the lock held
        assert f"The warehouse {warehouse.path} is in use by another process" in first
        assert "waiting up to 300 s" in first
    finally:
        holder.close()  # released while it waits
    out, rest = process.communicate(timeout=300)
    assert process.returncode == 0, first + rest
    assert "police_uk_street" in out
    loads = state(warehouse.path)[0]["loads"]
    assert len(loads) == 3 + 3


def test_two_ingests_at_once_both_load_one_after_the_other(
    warehouse: Warehouse, real_data: Path
) -> None:
    processes = [
        subprocess.Popen(
            peelkit_args("ingest", real_data / CITY / month, "-w", warehouse.path),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env(PEELKIT_WAIT="300"),
        )
        for month in ("2016-02", "2016-03")
    ]
    for process in processes:
        out, errors = process.communicate(timeout=300)
        assert process.returncode == 0, out + errors
    after = state(warehouse.path)[0]
    months = sorted({str(path).split("/")[-2] for (_, path, *_rest) in after["loads"]})
    assert months == ["2016-01", "2016-02", "2016-03"]
    assert len(after["loads"]) == 9


def test_a_wait_that_is_not_a_number_is_an_error(warehouse: Warehouse) -> None:
    holder = duckdb.connect(str(warehouse.path))
    try:
        done = run("query", "SELECT 1", "-w", warehouse.path, PEELKIT_WAIT="soon")
    finally:
        holder.close()
    assert_error(done, "The environment variable PEELKIT_WAIT='soon' is not a number of seconds")


# -- 4. a --warehouse that is another program's file ------------------------------------------


def test_duckdb_files_carry_the_magic_bytes_peelkit_checks(tmp_path: Path) -> None:
    path = tmp_path / "made-by-duckdb.duckdb"
    duckdb.connect(str(path)).close()
    assert path.read_bytes()[8:12] == DUCKDB_MAGIC == b"DUCK"


@pytest.mark.parametrize(
    ("content", "looks_like"),
    [
        (b"Crime ID,Month,Reported by\n1,2016-01,City\n", "a CSV file"),
        (b"", "an empty file: 0 bytes"),
        (b"SQLite format 3\x00" + bytes(100), "an SQLite database"),
        (b"PK\x03\x04" + bytes(100), "a zip archive or an .xlsx/.ods spreadsheet"),
        (b"PAR1" + bytes(100), "a Parquet file"),
        (b"just some notes\nabout the data\n", "a text file"),
    ],
)
@pytest.mark.parametrize("command", ["ingest", "query", "coverage"])
def test_a_file_that_is_not_a_duckdb_database_is_refused_and_left_alone(
    tmp_path: Path, real_data: Path, content: bytes, looks_like: str, command: str
) -> None:
    path = tmp_path / "notadb.csv"
    path.write_bytes(content)
    args = {
        "ingest": ("ingest", real_data / CITY / "2016-02"),
        "query": ("query", "SELECT 1"),
        "coverage": ("coverage",),
    }[command]
    done = run(*args, "-w", path)
    assert_error(
        done,
        f"Error: {path} is not a DuckDB database (it looks like {looks_like}), so peelkit will "
        "not open it as a warehouse. Choose a new file name for --warehouse (peelkit creates "
        "the file), or the warehouse peelkit made.",
    )
    assert path.read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notadb.csv"]


def test_a_folder_as_warehouse_is_refused(tmp_path: Path) -> None:
    done = run("query", "SELECT 1", "-w", tmp_path)
    assert_error(done, f"Error: {tmp_path} is a folder, not a DuckDB database file.")


def test_another_programs_duckdb_database_is_not_made_a_warehouse(
    tmp_path: Path, real_data: Path
) -> None:
    path = tmp_path / "theirs.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE people (name VARCHAR); INSERT INTO people VALUES ('someone')")
    con.execute("CREATE VIEW everyone AS SELECT * FROM people")
    con.close()
    digest = sha256(path)
    done = run("ingest", real_data / CITY / "2016-02", "-w", path)
    assert_error(
        done,
        f"Error: {path} is a DuckDB database but not a peelkit warehouse: it has 2 table(s) or "
        "view(s) of its own (everyone, people) and no peelkit_meta table, and peelkit does not "
        "add its tables to another program's database. Choose a new file name for "
        "--warehouse, or the warehouse peelkit made.",
    )
    assert sha256(path) == digest
    query = run("query", "SELECT 1", "-w", path)
    assert_error(query, f"Error: {path} is a DuckDB database but not a peelkit warehouse")


def test_an_empty_duckdb_database_becomes_a_warehouse(tmp_path: Path, real_data: Path) -> None:
    path = tmp_path / "empty.duckdb"
    duckdb.connect(str(path)).close()
    done = run("ingest", real_data / CITY / "2016-02", "-w", path)
    assert done.returncode == 0, done.stderr
    assert len(state(path)[0]["loads"]) == 3


def _set_schema_version(path: Path, version: str) -> None:
    con = duckdb.connect(str(path))
    con.execute("UPDATE peelkit_meta SET value = ? WHERE key = 'schema_version'", [version])
    con.close()


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        (
            str(int(SCHEMA_VERSION) + 1),
            "is a warehouse of schema version {v}, made by a newer peelkit; this peelkit reads "
            f"and writes version {SCHEMA_VERSION} only. Upgrade peelkit (pip install --upgrade "
            "peelkit), or use a new --warehouse file.",
        ),
        (
            str(int(SCHEMA_VERSION) - 1),
            "is a warehouse of schema version {v}, made by an older peelkit; this peelkit reads "
            f"and writes version {SCHEMA_VERSION} only and does not convert warehouses. Load "
            "the source files again into a new --warehouse file, or use the peelkit that made "
            "it.",
        ),
    ],
)
def test_a_warehouse_of_another_schema_version_is_refused_alike_for_reading_and_writing(
    warehouse: Warehouse, real_data: Path, version: str, expected: str
) -> None:
    _set_schema_version(warehouse.path, version)
    digest = sha256(warehouse.path)
    message = f"Error: {warehouse.path} " + expected.format(v=version)
    assert_error(run("ingest", real_data / CITY / "2016-02", "-w", warehouse.path), message)
    assert_error(run("query", "SELECT 1", "-w", warehouse.path), message)
    assert_error(run("coverage", "-w", warehouse.path), message)
    assert sha256(warehouse.path) == digest
    with pytest.raises(WarehouseError, match="schema version"):
        open_read_only(warehouse.path)


def _duckdb_checksum(block: bytes) -> int:
    """DuckDB's checksum of a header block (common/checksum.cpp: each 8-byte word times a
    constant, xor-ed into 5381)."""
    result = 5381
    for (word,) in struct.iter_unpack("<Q", block[: len(block) // 8 * 8]):
        result ^= (word * 0xBF58476D1CE4E5B9) & 0xFFFF_FFFF_FFFF_FFFF
    return result


def test_a_warehouse_written_by_a_newer_duckdb_is_refused_in_words(warehouse: Warehouse) -> None:
    # The main header: a checksum (8 bytes) of the rest of the 4096-byte block, "DUCK", then
    # the storage version. Give it a version no DuckDB reads yet, with a matching checksum.
    data = bytearray(warehouse.path.read_bytes())
    data[12:20] = struct.pack("<Q", 100_000)
    data[0:8] = struct.pack("<Q", _duckdb_checksum(bytes(data[8:4096])))
    warehouse.path.write_bytes(bytes(data))
    with pytest.raises(duckdb.IOException, match="created with a newer version of DuckDB"):
        duckdb.connect(str(warehouse.path), read_only=True)  # what DuckDB itself says
    for args in (("query", "SELECT 1"), ("ingest", str(CITY))):
        done = run(*args, "-w", warehouse.path)
        assert_error(
            done,
            f"Error: {warehouse.path} was written by a newer DuckDB (storage version 100000) "
            f"than the DuckDB {duckdb.__version__} this peelkit uses, which cannot read it. "
            "Upgrade peelkit and DuckDB",
        )
    assert warehouse.path.read_bytes() == bytes(data)


def test_a_damaged_warehouse_file_is_refused_in_words(warehouse: Warehouse) -> None:
    data = bytearray(warehouse.path.read_bytes())
    data[100] ^= 0xFF  # inside the checksummed header
    warehouse.path.write_bytes(bytes(data))
    done = run("query", "SELECT 1", "-w", warehouse.path)
    assert_error(
        done,
        f"Error: The warehouse {warehouse.path} is damaged: Corrupt database file",
        "Restore it from a copy, or load the source files again into a new --warehouse file.",
    )


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
