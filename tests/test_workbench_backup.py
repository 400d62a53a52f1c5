"""``peelkit backup`` and ``peelkit restore``: a backup restores row for row into a fresh
database of either kind (SQLite → PostgreSQL and back), the audit trail still verifies, people
sign in with the same passwords and the next save works; a damaged backup, or one of another
schema, or a database that is not empty, is refused with nothing written."""

from __future__ import annotations

import gzip
import hashlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from peelkit.errors import BackupRefused
from peelkit.judgments import demo_judgments
from peelkit.workbench import audit
from peelkit.workbench.backup import RESTORED, backup, read_header, restore
from peelkit.workbench.database import Database, open_database
from peelkit.workbench.service import Workbench, content_of
from peelkit.workbench.tables import metadata
from tests.databases import KINDS, fresh_database
from tests.workbench_support import KENT, MET, PASSWORD, Clock, Team, met_draft, team


def populate(t: Team) -> None:
    """Users of every role, a Met draft walked through a return, moderation, the factual
    accuracy check with the liaison's comment, approval, a release (published), a correction
    with its notice and an edit of it; Kent's draft; a signed-in session."""
    wb = t.wb
    lock = met_draft(t)
    data = content_of(demo_judgments()[MET])
    data["overall"]["grade"] = "good"
    lock = wb.save(t.inspector, data, lock=lock).lock
    lock = wb.step(t.inspector, MET, 2016, "submit", lock=lock).lock
    lock = wb.step(t.lead, MET, 2016, "return", lock=lock, comment="Say more — ünïcode.").lock
    lock = wb.step(t.inspector, MET, 2016, "resubmit", lock=lock).lock
    lock = wb.step(t.lead, MET, 2016, "moderate", lock=lock).lock
    lock = wb.step(t.lead, MET, 2016, "open factual accuracy check", lock=lock).lock
    wb.comment(t.liaison, MET, 2016, "Figures checked.")
    wb.step(t.lead, MET, 2016, "approve", lock=lock)
    t.clock.advance(minutes=5)
    wb.schedule(t.lead, 2016, [MET], t.clock.now + __import__("datetime").timedelta(hours=1))
    t.clock.advance(hours=2)
    lock = wb.draft(t.lead, MET, 2016).status.lock  # settles: published
    lock = wb.step(t.lead, MET, 2016, "correct", lock=lock, comment="A figure was wrong.").lock
    data["overall"]["grade"] = "requires improvement"
    wb.save(t.inspector, data, lock=lock)
    wb.import_judgments(t.kent_inspector, demo_judgments()[KENT])
    wb.sign_in("analyst", PASSWORD)


def dump(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, by primary key."""
    with db.read() as conn:
        return {
            table.name: [
                tuple(row)
                for row in conn.execute(select(table).order_by(*table.primary_key.columns))
            ]
            for table in metadata.sorted_tables
        }


def counts(db: Database) -> dict[str, int]:
    return {name: len(rows) for name, rows in dump(db).items()}


@pytest.fixture(scope="module", params=KINDS)
def source(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Team]:
    """A populated database of each kind, made once for the module: no test changes it (a
    test that must is given a database of its own), and every refused restore into it is
    checked to leave it exactly as it was."""
    with fresh_database(request.param, tmp_path_factory.mktemp("source")) as url:
        t = team(url)
        populate(t)
        yield t
        t.wb.db.dispose()


@pytest.mark.parametrize("target_kind", ["sqlite", "postgresql"])
def test_a_backup_restores_row_for_row_into_a_fresh_database_of_either_kind(
    source: Team, target_kind: str, tmp_path: Path
) -> None:
    file = tmp_path / "wb.backup.gz"
    header = backup(source.wb.db, file)
    assert header.revision == "0002" and header.rows == sum(counts(source.wb.db).values())
    assert header.counts()["audit"] > 20 and header.counts()["releases"] == 1
    before = dump(source.wb.db)
    with fresh_database(target_kind, tmp_path) as url, Database(url) as target:
        done = restore(target, file)
        after = dump(target)
        # every table equal row for row; the audit trail has one entry more: the restore
        assert {k: v for k, v in after.items() if k != "audit"} == {
            k: v for k, v in before.items() if k != "audit"
        }
        assert after["audit"][:-1] == before["audit"]
        with target.read() as conn:
            verified = audit.verify(conn)
            last = list(audit.entries(conn))[-1]
        assert verified.intact and verified.entries == len(before["audit"]) + 1
        assert done.audit_entries == verified.entries
        assert last.action == RESTORED and last.detail["sha256"] == header.sha256
        # the same people sign in with the same passwords, and the next save, step and user
        # get new ids (PostgreSQL's sequences were set past the restored ones)
        clock = Clock(source.clock.now)
        wb = Workbench(target, clock=clock)
        wb.sign_in("inspector", PASSWORD)
        inspector, lead = wb.actor("inspector"), wb.actor("lead")
        draft = wb.draft(inspector, MET, 2016)
        assert draft.status.state == "draft" and draft.notices[0][1] == "A figure was wrong."
        data = dict(draft.content)
        data["overall"] = dict(data["overall"], grade="outstanding")
        status = wb.save(inspector, data, lock=draft.status.lock)
        assert status.version == draft.status.version + 1
        wb.step(lead, KENT, 2016, "submit", lock=wb.draft(lead, KENT, 2016).status.lock)
        wb.add_user(None, "newcomer", "New Comer", "analyst", PASSWORD)
        assert wb.verify_audit(None).intact
        with target.read() as conn:
            top = conn.execute(text("SELECT max(id) FROM judgment_versions")).scalar_one()
        assert top == max(r[0] for r in before["judgment_versions"]) + 1


def test_a_backup_is_written_whole_or_not_at_all(source: Team, tmp_path: Path, monkeypatch):
    file = tmp_path / "wb.backup.gz"
    file.write_bytes(b"the previous backup")
    import peelkit.workbench.backup as module

    def broken(*_: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(module.os, "fsync", broken)
    with pytest.raises(BackupRefused, match="disk full"):
        backup(source.wb.db, file)
    assert file.read_bytes() == b"the previous backup"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".wb")) == []


def _rewrite(file: Path, edit) -> Path:  # type: ignore[no-untyped-def]
    lines = gzip.decompress(file.read_bytes()).splitlines(keepends=True)
    lines = edit(lines)
    out = file.with_name("edited-" + file.name)
    out.write_bytes(gzip.compress(b"".join(lines)))
    return out


def _with_checksum(lines: list[bytes]) -> list[bytes]:
    """The header's sha256 recomputed: a file edited by someone who knows the format."""
    header = json.loads(lines[0])
    header["sha256"] = hashlib.sha256(b"".join(lines[1:])).hexdigest()
    return [json.dumps(header).encode() + b"\n", *lines[1:]]


def _edit_username(lines: list[bytes]) -> list[bytes]:
    return [line.replace(b'"lead2"', b'"mallory"') for line in lines]


def _edit_audit(lines: list[bytes]) -> list[bytes]:
    out = []
    for line in lines:
        name, values = json.loads(line) if not line.startswith(b"{") else (None, None)
        if name == "audit" and values[0] == 5:
            values[2] = "someone else"
            line = json.dumps([name, values]).encode() + b"\n"
        out.append(line)
    return out


def _drop_row(lines: list[bytes]) -> list[bytes]:
    return [line for line in lines if not line.startswith(b'["comments"')]


def _cut(file: Path) -> Path:
    out = file.with_name("cut-" + file.name)
    out.write_bytes(file.read_bytes()[: file.stat().st_size // 2])
    return out


def _plain(file: Path) -> Path:
    out = file.with_name("plain-" + file.name)
    out.write_bytes(gzip.decompress(file.read_bytes()))
    return out


DAMAGE = {
    "cut short": _cut,
    "a row edited": lambda f: _rewrite(f, _edit_username),
    "a row removed, checksum recomputed": lambda f: _rewrite(
        f, lambda ls: _with_checksum(_drop_row(ls))
    ),
    "an audit entry edited, checksum recomputed": lambda f: _rewrite(
        f, lambda ls: _with_checksum(_edit_audit(ls))
    ),
    "not gzip": _plain,
}
WHY = {
    "cut short": "cut short",
    "a row edited": "checksum",
    "a row removed, checksum recomputed": "rows of comments",
    "an audit entry edited, checksum recomputed": "audit trail",
    "not gzip": "damaged",
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_damaged_or_edited_backup_is_refused_and_nothing_is_written(
    source: Team, damage: str, tmp_path: Path
) -> None:
    file = tmp_path / "wb.backup.gz"
    backup(source.wb.db, file)
    damaged = DAMAGE[damage](file)
    kind = "sqlite" if source.wb.db.sqlite else "postgresql"
    with fresh_database(kind, tmp_path) as url, Database(url) as target:
        with pytest.raises(BackupRefused, match=WHY[damage]) as refused:
            restore(target, damaged)
        assert "nothing was" in str(refused.value)
        if target.revision() is not None:  # checked in the transaction: the schema, no row
            assert not any(counts(target).values())
    # and into the source itself with --replace: it stays exactly as it was
    before = dump(source.wb.db)
    with pytest.raises(BackupRefused, match=WHY[damage]):
        restore(source.wb.db, damaged, replace=True)
    assert dump(source.wb.db) == before


def test_a_database_that_is_not_empty_is_refused_without_replace(source: Team, tmp_path: Path):
    file = tmp_path / "wb.backup.gz"
    backup(source.wb.db, file)
    kind = "sqlite" if source.wb.db.sqlite else "postgresql"
    with fresh_database(kind, tmp_path) as url:
        other = team(url)
        other.wb.import_judgments(other.inspector, demo_judgments()[MET])
        before = dump(other.wb.db)
        with pytest.raises(BackupRefused, match=r"not empty .*--replace"):
            restore(other.wb.db, file)
        assert dump(other.wb.db) == before
        done = restore(other.wb.db, file, replace=True)
        assert done.replaced["users"] == 8 and done.replaced["audit"] == len(before["audit"])
        after = dump(other.wb.db)
        assert after["users"] == dump(source.wb.db)["users"]
        assert other.wb.verify_audit(None).intact
        # the guard lifted to empty the audit trail is back
        for statement in ("UPDATE audit SET actor = 'x'", "DELETE FROM audit"):
            with pytest.raises(Exception, match="append-only"), other.wb.db.write() as conn:
                conn.execute(text(statement))
        other.wb.db.dispose()


def test_a_backup_of_the_older_schema_restores_into_a_new_database_and_is_upgraded(
    workbench_url: str, tmp_path: Path
) -> None:
    with Database(workbench_url) as old:
        old.upgrade("0001")
        with old.write() as conn:
            conn.execute(
                text(
                    "INSERT INTO users (username, display_name, role, force, password_hash, "
                    "active, failed_sign_ins, created_at) VALUES ('old', 'Old User', "
                    "'inspector', NULL, 'x', true, 0, '2026-01-01 00:00:00')"
                )
            )
            audit.append(conn, Clock()(), "operator", "user added", {"username": "old"})
        file = tmp_path / "old.backup.gz"
        header = backup(old, file)
    assert header.revision == "0001"
    assert set(header.counts()) == {t.name for t in metadata.tables.values()} - {
        "releases",
        "corrections",
    }
    kind = "postgresql" if "postgresql" in workbench_url else "sqlite"
    with fresh_database(kind, tmp_path) as url, Database(url) as target:
        done = restore(target, file)
        assert done.upgraded_to == "0002" and target.revision() == "0002"
        with target.read() as conn:
            assert conn.execute(text("SELECT username FROM users")).scalars().all() == ["old"]
            assert audit.verify(conn).entries == 2
    with fresh_database(kind, tmp_path) as url, open_database(url) as newest:
        with pytest.raises(BackupRefused, match=r"schema 0001 .* at 0002: restore it into a new"):
            restore(newest, file)
        assert not any(counts(newest).values())


def test_a_backup_of_an_unknown_schema_is_refused(source: Team, tmp_path: Path) -> None:
    file = tmp_path / "wb.backup.gz"
    backup(source.wb.db, file)

    def newer(lines: list[bytes]) -> list[bytes]:
        header = json.loads(lines[0])
        header["revision"] = "0099"
        return [json.dumps(header).encode() + b"\n", *lines[1:]]

    with pytest.raises(BackupRefused, match=r"0099.*newer peelkit"):
        restore(source.wb.db, _rewrite(file, newer), replace=True)
    assert read_header(file).revision == "0002"


def _peelkit(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "peelkit.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_backup_and_restore_exit_codes_and_messages(source: Team, tmp_path: Path) -> None:
    url = source.wb.db.url
    file = tmp_path / "wb.backup.gz"
    done = _peelkit("backup", str(file), "--database", url, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Backed up" in done.stdout and "schema 0002" in done.stdout
    target = tmp_path / "restored.sqlite"
    done = _peelkit("restore", str(file), "--database", str(target), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Restored" in done.stdout and "The audit trail is intact" in done.stdout
    done = _peelkit("restore", str(file), "--database", str(target), cwd=tmp_path)
    assert done.returncode == 1
    assert "Error:" in done.stderr and "not empty" in done.stderr and "--replace" in done.stderr
    done = _peelkit("restore", str(file), "--replace", "--database", str(target), cwd=tmp_path)
    assert done.returncode == 0, done.stderr and "replacing" in done.stdout
    cut = tmp_path / "cut.gz"
    cut.write_bytes(file.read_bytes()[:200])
    done = _peelkit("restore", str(cut), "--replace", "--database", str(target), cwd=tmp_path)
    assert done.returncode == 1 and "cut short" in done.stderr
    done = _peelkit("restore", str(tmp_path / "none.gz"), "--database", str(target), cwd=tmp_path)
    assert done.returncode == 1 and "no backup file" in done.stderr
    done = _peelkit("audit", "verify", "--database", str(target), cwd=tmp_path)
    assert done.returncode == 0 and "intact" in done.stdout
