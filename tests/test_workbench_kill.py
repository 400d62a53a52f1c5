"""``kill -9`` in the middle of a save or a publication leaves the database at the old or the
new state, never between: 20 runs on SQLite and 20 on PostgreSQL, each killing the process
that writes at a random (seeded) moment, then reopening the database and checking that

- every invariant holds (``workbench_workers.invariants``: workflow rows point to versions of
  their own force, each lock counts its force's audit entries, versions are 1..n and each
  holds valid judgments — none half-written — every released force is scheduled or was
  published, every scheduled force is in a release, the audit chain verifies);
- what was written after the last operation the process finished is one whole transaction
  or nothing (its audit entries share one time), and nothing when no operation was running;
- the next write works (no lock left behind, PostgreSQL's sequences fine).

The process killed runs the workbench's service calls in a loop (``python -m
tests.workbench_workers churn``): large saves (a few hundred kilobytes each), the workflow's
steps, a release published at once (``schedule`` without a site: the release transaction
itself; with a site the bundle is made before that transaction, outside the database) and
corrections. The workbench's web server is being written: ``Harness`` is the one seam to
change so that these runs kill the server, with a client driving its API, instead."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from peelkit.judgments import demo_judgments
from peelkit.workbench import audit
from peelkit.workbench.database import Database
from peelkit.workbench.service import Workbench
from tests import workbench_workers as workers
from tests.workbench_support import team

RUNS = 20
SEED = 20261129
REPO = Path(__file__).resolve().parents[1]
#: the process must say it is ready by then
READY_SECONDS = 60.0
#: when each run kills: at a random moment, or 0-10 ms into the transaction of a save or a
#: release
AIMS = ("any moment", "save", "schedule")


@dataclass
class Running:
    """What a harness started: ``victim`` is the process killed; ``log`` has ``ready SEQ``,
    then ``begin …`` before each operation and ``done … SEQ`` after it (SEQ: the last audit
    entry then), flushed to disk."""

    victim: subprocess.Popen[bytes]
    log: Path
    helpers: tuple[subprocess.Popen[bytes], ...] = ()


class Harness:
    """Starts the process to kill. Now: the service loop. For the server: start it on the
    database, then a client process that drives its API in the same loop and writes the same
    log; ``victim`` is the server."""

    def start(self, url: str, log: Path, seed: int) -> Running:
        with open(log.with_suffix(".err"), "wb") as err:  # the child keeps its own copy
            victim = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tests.workbench_workers",
                    "churn",
                    url,
                    str(log),
                    str(seed),
                ],
                cwd=REPO,
                stdout=subprocess.DEVNULL,
                stderr=err,
            )
        return Running(victim, log)

    def wait_ready(self, running: Running) -> None:
        deadline = time.monotonic() + READY_SECONDS
        while not (running.log.exists() and running.log.read_text().startswith("ready")):
            if running.victim.poll() is not None:
                pytest.fail(
                    f"the process died before it was ready:\n"
                    f"{running.log.with_suffix('.err').read_text()}"
                )
            if time.monotonic() > deadline:
                running.victim.kill()
                pytest.fail(f"the process was not ready after {READY_SECONDS:.0f} s")
            time.sleep(0.02)

    def wait_for(self, running: Running, write: str) -> None:
        """Until the process is inside the write transaction of ``write`` (polled every ms)."""
        deadline = time.monotonic() + 60
        while True:
            lines = running.log.read_text().splitlines()
            if lines[-2:] == [f"write {write}", "transaction"]:
                return
            if running.victim.poll() is not None or time.monotonic() > deadline:
                running.victim.kill()
                pytest.fail(
                    f"no {write} transaction in the log (last {lines[-3:]}):\n"
                    f"{running.log.with_suffix('.err').read_text()}"
                )
            time.sleep(0.001)

    def kill(self, running: Running) -> None:
        os.kill(running.victim.pid, signal.SIGKILL)
        code = running.victim.wait(30)
        if code != -signal.SIGKILL:  # it had stopped by itself: a failure of its own
            pytest.fail(
                f"the process ended with {code} before it was killed:\n"
                f"{running.log.with_suffix('.err').read_text()}"
            )
        for helper in running.helpers:
            helper.kill()
            helper.wait(30)


def _prepare(url: str) -> None:
    """The team of tests/workbench_support.py, with the Met's and Kent's drafts."""
    t = team(url)
    t.wb.import_judgments(t.inspector, demo_judgments()["E23000001"])
    t.wb.import_judgments(t.kent_inspector, demo_judgments()["E23000032"])
    t.wb.db.dispose()


WRITING = (
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
    "AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL"
)


def _watcher(url: str) -> Any:
    """PostgreSQL: a connection of the test's own, opened once, that tells whether another is
    inside a transaction that has written (a transaction id), sampled just before each kill."""
    if url.startswith("sqlite"):
        return None
    import psycopg
    from sqlalchemy.engine import make_url

    libpq = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    return psycopg.connect(libpq, autocommit=True)


def _writing(watcher: Any) -> bool:
    if watcher is None:
        return False
    row = watcher.execute(WRITING).fetchone()
    return bool(row and row[0])


def _after_last_done(db: Database, lines: list[str]) -> list[audit.Entry]:
    seq = 0
    for line in lines:
        if line.startswith(("ready", "done")):
            seq = int(line.split()[-1])
    with db.read() as conn:
        return [e for e in audit.entries(conn) if e.seq > seq]


def test_kill_9_mid_save_or_publication_leaves_the_old_or_the_new_state(
    workbench_url: str, tmp_path: Path
) -> None:
    kind = "sqlite" if workbench_url.startswith("sqlite") else "postgresql"
    rng = random.Random(f"{SEED}-{kind}")
    harness = Harness()
    in_flight: Counter[str] = Counter()
    rolled_back: Counter[str] = Counter()  # writes killed inside their transaction
    open_transactions = 0  # PostgreSQL: kills of a process inside its write transaction
    committed_unlogged = 0
    checked: set[int] = set()
    started = time.monotonic()
    url = workbench_url
    _prepare(url)
    watcher = _watcher(url)
    try:
        for run in range(RUNS):
            log = tmp_path / f"run-{run}.log"
            running = harness.start(url, log, rng.randrange(1 << 30))
            harness.wait_ready(running)
            aim = AIMS[run % len(AIMS)]
            if aim == "any moment":
                time.sleep(rng.uniform(0.05, 1.5))
            else:  # into that write's transaction
                harness.wait_for(running, aim)
                time.sleep(rng.uniform(0.0, 0.01))
            writing_now = _writing(watcher)
            harness.kill(running)
            open_transactions += writing_now
            lines = log.read_text().splitlines()
            last = lines[-1]
            operating = not last.startswith(("ready", "done"))
            in_flight["an operation" if operating else "between operations"] += 1
            op = next((x[6:] for x in reversed(lines) if x.startswith("write ")), None)
            done = [line.split()[2] for line in lines if line.startswith("done")]
            with Database(url) as db:
                problems = workers.invariants(db, checked)
                assert not problems, f"run {run} (last: {last!r}): {problems}"
                beyond = _after_last_done(db, lines)
                # one transaction or nothing past the last operation finished: its entries share
                # one time; and nothing at all when no operation was running
                assert len({e.at for e in beyond}) <= 1, (run, beyond)
                if not operating:
                    assert beyond == [], (run, beyond)
                committed_unlogged += bool(beyond)
                if last == "transaction" and not beyond and op is not None:
                    rolled_back[op] += 1  # killed inside its write transaction: none of it
                # the next writes work: both forces' next operation, as another process would
                wb = Workbench(db)
                actors = {n: wb.actor(n) for n in ("inspector", "kent_inspector", "lead")}
                for force in workers.KILL_FORCES:
                    workers.next_operation(wb, actors, force, rng)
                assert workers.invariants(db, checked) == []
            in_flight.update(f"done {op}" for op in done)
    finally:
        if watcher is not None:
            watcher.close()
    with Database(url) as db, db.read() as conn:
        published = conn.execute(
            select(audit.audit.c.seq).where(audit.audit.c.action == "published")
        ).all()
        total = audit.count(conn)
    print(
        f"\n{kind}: {RUNS} kills in {time.monotonic() - started:.1f} s; killed during "
        f"{in_flight['an operation']} operations, {in_flight['between operations']} between "
        f"them ({committed_unlogged} committed, not yet logged); operations finished before "
        f"the kills: "
        + ", ".join(f"{k[5:]} {v}" for k, v in sorted(in_flight.items()) if k.startswith("done "))
        + f"; {len(published)} publications, {total} audit entries; killed inside the "
        + "write transaction, and none of it kept: "
        + ", ".join(f"{k} {v}" for k, v in sorted(rolled_back.items()))
        + (
            f"; {open_transactions} kills inside an open write transaction"
            if kind == "postgresql"
            else ""
        )
    )
    assert in_flight["an operation"] >= RUNS // 2  # most kills land inside an operation
    assert rolled_back["save"] and rolled_back["schedule"]  # some inside a save's, a release's
    assert in_flight["done save"] and in_flight["done schedule"]  # and saves and releases ran
