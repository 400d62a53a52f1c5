"""Concurrent editing, in separate processes on one database, against SQLite and PostgreSQL:
"10 inspectors editing different forces and one lead inspector moderating, in parallel: no
lost update, no deadlock". And two saves of the same force from the same lock: exactly one
wins, the other is told its version is stale, nothing is overwritten.

Every worker runs in a process of its own (multiprocessing's spawn: a fresh interpreter, its
own Workbench and connections, as the server's workers will be); the test waits for them
with a deadline and kills what is left, so a deadlock fails the test instead of hanging it.
Meanwhile the test takes backups: each must restore to a database that keeps every invariant
(a backup is one consistent snapshot even while ten processes write)."""

from __future__ import annotations

import json
import multiprocessing
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from peelkit.judgments import demo_judgments
from peelkit.workbench import audit
from peelkit.workbench.backup import backup, restore
from peelkit.workbench.database import Database, open_database
from peelkit.workbench.service import Workbench
from peelkit.workbench.tables import versions, workflow
from tests import workbench_workers as workers
from tests.databases import fresh_database
from tests.workbench_support import PASSWORD

INSPECTORS = 10
SAVES = 15
#: every process must be done by then (a deadlock would otherwise hang the test)
DEADLINE = 300.0
SPAWN = multiprocessing.get_context("spawn")


def _kind(url: str) -> str:
    return "sqlite" if url.startswith("sqlite") else "postgresql"


def _run(processes: list[Any], deadline: float, during: Any = None, failed: Any = None) -> float:
    """Start, wait for all (calling ``during`` meanwhile), kill what outlives the deadline;
    the seconds it took."""
    started = time.monotonic()
    for p in processes:
        p.start()
    try:
        while any(p.is_alive() for p in processes):
            if time.monotonic() - started > deadline:
                pytest.fail(
                    f"{sum(p.is_alive() for p in processes)} worker(s) still running after "
                    f"{deadline:.0f} s: a deadlock, or a lock never released"
                )
            if during is not None:
                during()
            for p in processes:  # a worker that failed: stop now rather than at the deadline
                if not p.is_alive() and p.exitcode != 0:
                    pytest.fail(f"worker {p.name} died (exit code {p.exitcode})")
            if failed is not None and (why := failed()):
                pytest.fail(why)
            time.sleep(0.05)
    finally:
        for p in processes:
            if p.is_alive():
                p.kill()
            p.join(10)
    return time.monotonic() - started


def _first_error(paths: list[Path]) -> str | None:
    for path in paths:
        if path.exists() and (errors := json.loads(path.read_text(encoding="utf-8"))["errors"]):
            return f"{path.stem}: {errors[0]}"
    return None


def _results(paths: list[Path]) -> list[dict[str, Any]]:
    out = []
    for path in paths:
        assert path.exists(), f"{path.name}: the worker died without a word"
        out.append(json.loads(path.read_text(encoding="utf-8")))
    return out


def test_ten_inspectors_and_a_lead_in_parallel_lose_no_update_and_never_deadlock(
    workbench_url: str, tmp_path: Path
) -> None:
    forces = sorted(demo_judgments())[:INSPECTORS]
    with open_database(workbench_url) as db:
        wb = Workbench(db)
        wb.add_user(None, "lead", "Lead", "lead inspector", PASSWORD)
        for i, force in enumerate(forces):
            wb.add_user(None, f"insp{i}", f"Inspector {i}", "inspector", PASSWORD, assigned=[force])
            wb.import_judgments(wb.actor(f"insp{i}"), demo_judgments()[force])

        outs = [tmp_path / f"insp{i}.json" for i in range(INSPECTORS)] + [tmp_path / "lead.json"]
        processes = [
            SPAWN.Process(
                target=workers.inspector,
                args=(workbench_url, f"insp{i}", force, SAVES, str(outs[i])),
                name=f"insp{i}",
            )
            for i, force in enumerate(forces)
        ]
        processes.append(
            SPAWN.Process(target=workers.lead, args=(workbench_url, "lead", forces, str(outs[-1])))
        )
        backups: list[Path] = []
        last_backup = [time.monotonic()]

        def take_backup() -> None:  # while they write: a snapshot must still be consistent
            if len(backups) < 4 and time.monotonic() - last_backup[0] > 2.0:
                backups.append(tmp_path / f"during-{len(backups)}.backup.gz")
                backup(db, backups[-1])
                last_backup[0] = time.monotonic()

        seconds = _run(processes, DEADLINE, take_backup, lambda: _first_error(outs))
        results = _results(outs)
        errors = [e for r in results for e in r["errors"]]
        assert not errors, errors[0]
        for text in ("database is locked", "deadlock"):
            assert not any(text in e.lower() for e in errors)
        inspectors_, lead_ = results[:-1], results[-1]

        with db.read() as conn:
            assert audit.verify(conn).intact  # linear: no gap, no fork, nothing changed
            for i, force in enumerate(forces):
                found = {
                    v.number: json.loads(v.content)
                    for v in conn.execute(select(versions).where(versions.c.force == force))
                }
                made = inspectors_[i]["saves"]
                lead_version = lead_["saves"][force]
                assert len(made) == SAVES
                # every successful save is a version with its content: no lost update
                for number, marker in made:
                    assert found[number]["overall"]["summary"].endswith(marker)
                assert found[lead_version]["source"].endswith(workers.LEAD_NOTE)
                # the versions are 1..n, n = the import + every save, without gap
                assert sorted(found) == list(range(1, SAVES + 3))
                # and everything after the lead's edit keeps it
                for number in range(lead_version, SAVES + 3):
                    assert found[number]["source"].endswith(workers.LEAD_NOTE)
                row = conn.execute(select(workflow).where(workflow.c.force == force)).one()
                assert row.state == "approved"
                entries = conn.execute(
                    select(func.count())
                    .select_from(audit.audit)
                    .where(audit.audit.c.force == force)
                ).scalar_one()
                assert row.lock == entries  # the lock counts every change, each audited
        for force in forces:
            assert workers.version_chain_problems(db, force) == []
        assert workers.invariants(db) == []

    stale = sum(r["stale"] for r in results)
    print(
        f"\n{_kind(workbench_url)}: {INSPECTORS} inspectors x {SAVES} saves + lead in "
        f"{seconds:.1f} s; {stale} stale versions retried; {len(backups)} backups taken meanwhile"
    )
    # each backup taken while they wrote restores to a database that keeps every invariant
    assert backups
    for file in backups:
        with fresh_database(_kind(workbench_url), tmp_path) as url, Database(url) as copy:
            restore(copy, file)
            assert workers.invariants(copy) == []


def test_two_saves_of_the_same_force_from_the_same_lock_one_wins_the_other_is_stale(
    workbench_url: str, tmp_path: Path
) -> None:
    force, rounds = "E23000001", 10
    with open_database(workbench_url) as db:
        wb = Workbench(db)
        wb.add_user(None, "lead", "Lead", "lead inspector", PASSWORD)
        wb.add_user(None, "insp", "Inspector", "inspector", PASSWORD, assigned=[force])
        wb.import_judgments(wb.actor("insp"), demo_judgments()[force])
        barrier = SPAWN.Barrier(2)
        outs = [tmp_path / "a.json", tmp_path / "b.json"]
        processes = [
            SPAWN.Process(
                target=workers.racer, args=(workbench_url, who, force, rounds, barrier, str(out))
            )
            for who, out in zip(("insp", "lead"), outs, strict=True)
        ]
        _run(processes, DEADLINE)
        a, b = _results(outs)
        assert not a["errors"] and not b["errors"], (a["errors"] + b["errors"])[0]
        won = {r: (lock, v) for r, lock, v in a["won"] + b["won"]}
        stale = {r: (lock, found) for r, lock, found in a["stale"] + b["stale"]}
        assert sorted(won) == sorted(stale) == list(range(rounds))  # one each, every round
        for r in range(rounds):
            assert won[r][0] == stale[r][0] == r + 1  # both read the same lock
            assert stale[r][1] == r + 2  # and the loser was told the winner's
        with db.read() as conn:
            contents = {
                v.number: json.loads(v.content)["overall"]["summary"]
                for v in conn.execute(select(versions).where(versions.c.force == force))
            }
        assert sorted(contents) == list(range(1, rounds + 2))
        for r in range(rounds):  # each version is its winner's, on top of the one before
            winner = "insp" if r in {x[0] for x in a["won"]} else "lead"
            number = won[r][1]
            assert number == r + 2
            assert contents[number] == contents[number - 1] + f" [{winner} round {r}]"
        assert workers.invariants(db) == []
