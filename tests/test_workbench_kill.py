"""``kill -9`` of the server in the middle of a save or a publication leaves the database at
the old or the new state, never between: 20 runs on SQLite and 20 on PostgreSQL, each
starting the real server (``python -m peelkit.cli serve --site SITE --database URL``) and a
client that drives its API (tests/workbench_api_client.py), then SIGKILLing the server at a
random (seeded) moment and checking that

- every invariant holds (``workbench_workers.invariants``: workflow rows point to versions of
  their own force, each lock counts its force's audit entries, versions are 1..n and each
  holds valid judgments — none half-written — every released force is scheduled or was
  published, every scheduled force is in a release, the audit chain verifies);
- what was written after the last answer the client had is one whole operation or nothing
  (its audit entries share one time and are that operation's, all of them), and nothing
  when no write was in flight;
- the site on disk: the pointer file is as it was, every release names a whole bundle, and a
  kill while a release's bundle was being made (seconds, before its transaction) leaves the
  database unchanged and at most that orphan bundle and its judgments folder;
- the next write works directly, and through the server restarted (every run's server is the
  restart after the previous kill, and one more is started after the last), whose public site
  serves the release the database says is due — not an orphan bundle — with the versions it
  published (``/api/v1/cycles``, ``/api/v1/grades``), and whose bundles' reports are as they
  were when first served.

The client cannot see the server's transaction begin; the test watches from outside: the
client's log (``write …`` just before a request), the bundles on disk, and the server's write
lock (PostgreSQL: the workbench's advisory lock granted, in pg_locks; SQLite: the WAL write
lock, byte 120 of the -shm file, in /proc/locks). Kills are aimed (``AIMS``) at 0-30 ms after
a save or a release is sent, at a moment of the seconds a release's bundle takes, inside a
save's or a release's transaction (the server stepped into it: run in slices of a
millisecond or so, SIGSTOPped in between, killed stopped), just after a release's commit, or
at any moment; each kill is classified by what was found: answered, committed with no
answer, rolled back (the write lock held at the kill, none of it kept), or not begun.
The server runs in a session of its own (``start_new_session``): with one worker uvicorn
serves in the process ``peelkit serve`` is, which holds the database's connections (checked
once it is ready). That process is killed; then no other process of its group (the workers
rendering a bundle's reports, from a fork server) may hold the database, and the group is
killed too. Every release makes a
bundle (about 10 s here), so the client holds releases back in the runs not aimed at one: a
run takes 2-14 s, 20 of them about 2 minutes per database."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from peelkit.judgments import demo_judgments
from peelkit.publish import BUNDLES, POINTER
from peelkit.workbench import audit, release
from peelkit.workbench.database import WRITE_LOCK, Database
from peelkit.workbench.service import Workbench
from peelkit.workbench.tables import releases, versions, workflow
from tests import workbench_workers as workers
from tests.conftest import DemoRun
from tests.workbench_support import PASSWORD, Clock, Team, team, to_approved

pytestmark = pytest.mark.slow

RUNS = 20
SEED = 20261129
REPO = Path(__file__).resolve().parents[1]
#: the server must answer, and the client be signed in, by then
READY_SECONDS = 60.0
#: what the runs aim at, in this order unless a save cannot be reached (below):
#: - "save", "schedule": 0-30 ms after the client sends a save or a release (a release's
#:   server then makes its bundle, seconds, before its transaction);
#: - "bundle": 0.03-8 s after the client sends a release: while its bundle is being made;
#: - "save transaction", "release transaction": inside that write's transaction, stepped into
#:   (``ServerHarness._step_into_transaction``); a release's once its bundle is on disk;
#: - "release commit": just after the release's transaction committed (stepped through);
#: - "any moment": 0.05-1.5 s after the client is ready.
#: Each bundle costs about 10 s, so the client makes releases only in the runs aimed at one
#: (RELEASES); in the others it holds them back, doing the other force's operations. When
#: neither force can reach a save without a release, the next run aimed at a release is
#: brought forward (the forces move on), or one more "release commit" made.
AIMS = (
    *("save transaction", "schedule", "release commit", "save", "save transaction"),
    *("any moment", "release transaction", "save transaction", "release commit", "save"),
    *("bundle", "save transaction", "any moment", "release commit", "save transaction"),
    *("release transaction", "save", "schedule", "bundle", "save transaction"),
)
RELEASES = ("schedule", "bundle", "release transaction", "release commit")
#: each operation's audit entries, all of them when it is committed (in this order)
ENTRIES = {
    "save": ["judgments saved"],
    "schedule": ["schedule", "release scheduled", "published"],
}


@dataclass
class Running:
    """What a harness started: ``victim`` is the server, the process killed; ``helpers`` the
    client, whose ``log`` is described in tests/workbench_api_client.py; ``served`` is what
    the restarted server's public API said first (``/api/v1/cycles``' version and
    ``/api/v1/grades``)."""

    victim: subprocess.Popen[bytes]
    log: Path
    helpers: tuple[subprocess.Popen[bytes], ...] = ()
    served: dict[str, Any] = field(default_factory=dict)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _group(pgid: int) -> list[int]:
    """The processes of a process group (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid and fields[0] != "Z":
                found.append(int(entry.name))
    return found


def _forked(pgid: int) -> list[int]:
    """The processes of the group forked from another one (running its program): the report
    workers a bundle is made with."""

    def cmdline(pid: int | str) -> bytes:
        with contextlib.suppress(OSError):
            return Path(f"/proc/{pid}/cmdline").read_bytes()
        return b""

    found = []
    for pid in _group(pgid):
        if pid == pgid:
            continue
        with contextlib.suppress(OSError, IndexError):
            parent = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1]
            if cmdline(pid) and cmdline(pid) == cmdline(parent):
                found.append(pid)
    return found


def _sockets(pid: int) -> set[str]:
    """What the process's file descriptors are open on (files; sockets as socket:[inode])."""
    out = set()
    with contextlib.suppress(OSError):
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                out.add(os.readlink(fd))
    return out


def _serve(site: Path, url: str, out: Path) -> tuple[subprocess.Popen[bytes], str]:
    """``python -m peelkit.cli serve`` on the site and the database, on a free port, in a
    session of its own (its process group: what it starts goes with it); its base URL."""
    port = _free_port()
    with open(out, "wb") as f:  # the child keeps its own copy
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "peelkit.cli",
                "serve",
                "--site",
                str(site),
                "--database",
                url,
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            cwd=REPO,
            stdout=f,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return server, f"http://127.0.0.1:{port}"


class ServerHarness:
    """The real server on the database and the site, in its own session (its process group
    holds whatever it starts, such as the workers that render a bundle's reports), and a
    client process driving its API in the loop of ``workbench_workers.next_operation``,
    writing the log. ``victim`` is the server: with one worker, uvicorn serves in the process
    ``peelkit serve`` is, and that process holds the database's connections (checked once
    ready); ``kill`` kills it, then checks and kills the rest of its group."""

    def __init__(self, url: str, site: Path) -> None:
        self.url = url
        self.site = site
        self.sqlite = url.startswith("sqlite")
        self.path = Path(make_url(url).database or "") if self.sqlite else None
        self.watcher: Any = None
        if not self.sqlite:
            import psycopg

            libpq = make_url(url).set(drivername="postgresql")
            self.watcher = psycopg.connect(
                libpq.render_as_string(hide_password=False), autocommit=True
            )

    def close(self) -> None:
        if self.watcher is not None:
            self.watcher.close()

    def start(
        self,
        log: Path,
        seed: int,
        operations: int | None = None,
        hold: tuple[str, ...] = (),
        until: str | None = None,
    ) -> Running:
        victim, base = _serve(self.site, self.url, log.with_suffix(".server"))
        with open(log.with_suffix(".err"), "wb") as err:  # it waits for the server
            client = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tests.workbench_api_client",
                    base,
                    self.url,
                    str(log),
                    str(seed),
                    *(["--operations", str(operations)] if operations is not None else []),
                    *(f"--hold={op}" for op in hold),
                    *([f"--until={until}"] if until is not None else []),
                ],
                cwd=REPO,
                stdout=subprocess.DEVNULL,
                stderr=err,
            )
        running = Running(victim, log, (client,))
        # what the public site serves once the server answers (nothing can be released before
        # that is read: the client is signing in, and a release's bundle takes seconds)
        deadline = time.monotonic() + READY_SECONDS
        while not running.served:
            try:
                r = httpx.get(f"{base}/api/v1/grades", params={"cycle": workers.CYCLE})
                assert r.status_code == 200, r.text
                version = httpx.get(f"{base}/api/v1/cycles").json()["version"]
                running.served = {"version": version, "grades": r.json()}
            except httpx.TransportError:
                if victim.poll() is not None or time.monotonic() > deadline:
                    self.stop(running)
                    pytest.fail(
                        f"the server did not start:\n{log.with_suffix('.server').read_text()}"
                    )
                time.sleep(0.02)
        return running

    def _check_alive(self, running: Running, what: str) -> None:
        client = running.helpers[0]
        if running.victim.poll() is not None or client.poll() is not None:
            self.stop(running)
            pytest.fail(
                f"{what}: the server ended with {running.victim.returncode}, the client with "
                f"{client.returncode}:\n{running.log.with_suffix('.server').read_text()}\n"
                f"{running.log.with_suffix('.err').read_text()}"
            )

    def wait_ready(self, running: Running) -> None:
        deadline = time.monotonic() + READY_SECONDS
        while not (running.log.exists() and running.log.read_text().startswith("ready")):
            self._check_alive(running, "before the client was ready")
            if time.monotonic() > deadline:
                self.stop(running)
                pytest.fail(f"the client was not ready after {READY_SECONDS:.0f} s")
            time.sleep(0.02)
        holders = self.holders(running.victim.pid)
        assert holders == {running.victim.pid}, (
            f"the database's connections are held by {holders}, not the server {running.victim.pid}"
        )

    def holders(self, pgid: int) -> set[int]:
        """The processes of the server's group that hold a connection to the database: an open
        SQLite file, or a socket PostgreSQL sees as one of this database's clients."""
        group = _group(pgid)
        if self.sqlite:
            return {p for p in group if str(self.path) in _sockets(p)}
        ports = {
            int(row[0])
            for row in self.watcher.execute(
                "SELECT client_port FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND client_port IS NOT NULL"
            )
        }
        inodes = set()
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            for line in Path(table).read_text().splitlines()[1:]:
                f = line.split()
                if int(f[1].rsplit(":", 1)[1], 16) in ports:
                    inodes.add(f"socket:[{f[9]}]")
        return {p for p in group if _sockets(p) & inodes}

    def _lines(self, running: Running, what: str, deadline: float) -> list[str]:
        self._check_alive(running, what)
        if time.monotonic() > deadline:
            self.stop(running)
            pytest.fail(f"{what}: not seen in time (log: {running.log.read_text()[-300:]!r})")
        return running.log.read_text().splitlines()

    def aim(self, running: Running, aim: str, rng: random.Random) -> str:
        """Wait for the moment ``aim`` names (polling every millisecond or so), then a random
        delay; what the kill was actually aimed at (a release met first: its bundle)."""
        deadline = time.monotonic() + 120
        if aim == "any moment":
            time.sleep(rng.uniform(0.05, 1.5))
            return aim
        op = "save" if aim.startswith("save") else "schedule"
        if aim == "bundle":
            self._lines(running, "waiting for 'write schedule'", deadline)
            while not running.log.read_text().endswith("\nwrite schedule\n"):
                time.sleep(0.001)
                self._lines(running, "waiting for 'write schedule'", deadline)
            time.sleep(rng.uniform(0.03, 8.0))
            return aim
        bundles = self.site / BUNDLES
        while True:
            before = set(os.listdir(bundles))
            lines = self._lines(running, f"waiting for 'write {op}'", deadline)
            while lines[-1] not in (f"write {op}", "write schedule"):
                if lines[-1].startswith("held") and lines[-3].startswith("held"):
                    return "idle"  # both forces wait for a release the client holds back
                time.sleep(0.001)
                lines = self._lines(running, f"waiting for 'write {op}'", deadline)
            releasing = aim.startswith("release ")
            if aim in ("save", "schedule") or (lines[-1] == "write schedule" and not releasing):
                # the request on its way, or (a release) its bundle being made: seconds of it
                time.sleep(rng.uniform(0.0, 0.03))
                return "schedule" if lines[-1] == "write schedule" else aim
            if releasing:  # its bundle first: complete on disk
                while not any(
                    (bundles / name / "corrections.json").exists()
                    for name in set(os.listdir(bundles)) - before
                    if not name.startswith(".")
                ):
                    self._lines(running, "waiting for the release's bundle", deadline)
                    time.sleep(0.001)
            # then its transaction, which lasts milliseconds: stepped into (or through)
            through = aim == "release commit"
            # a save's transaction lasts 15-35 ms here, a release's 5-20: killed at once
            slices = 3 if op == "save" else 0
            if self._step_into_transaction(running, len(lines), rng, deadline, through, slices):
                return aim

    def _step_into_transaction(
        self,
        running: Running,
        sent: int,
        rng: random.Random,
        deadline: float,
        through: bool = False,
        slices: int = 3,
    ) -> bool:
        """Let the server run in slices of 0.2-2 ms, stopped in between (SIGSTOP to its group),
        until it holds the write lock (``writing``); then 0 to ``slices`` slices more (it may
        commit in them), or with ``through``, in slices of 0-0.2 ms, until it has let the lock
        go (committed; it may have answered in that slice); and leave it stopped for the
        kill. False, and running, when its answer came before its transaction was seen (the
        caller waits for the next one)."""
        pgid = running.victim.pid
        more = None
        while True:
            os.killpg(pgid, signal.SIGSTOP)
            writing = self.writing(running)
            if more is None and writing:
                more = rng.randint(0, slices)
            if more is not None:
                if through and not writing:
                    return True  # committed; answered perhaps, in the last slice
                if not through and more == 0:
                    return True  # stopped, so that the kill meets what was seen
                more -= 1
            elif len(self._lines(running, "stepping into a transaction", deadline)) > sent:
                os.killpg(pgid, signal.SIGCONT)
                return False
            os.killpg(pgid, signal.SIGCONT)
            if through and more is not None:  # between its commit and its answer: ~1 ms
                time.sleep(rng.uniform(0.0, 0.0002))
            else:
                time.sleep(rng.uniform(0.0002, 0.002))

    def writing(self, running: Running) -> bool:
        """Whether the server is inside a write transaction now: holds the workbench's write
        lock (PostgreSQL: its advisory lock; SQLite: the WAL write lock)."""
        if self.watcher is not None:
            row = self.watcher.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
                "AND classid = %s AND objid = %s",
                (WRITE_LOCK >> 32, WRITE_LOCK & 0xFFFFFFFF),
            ).fetchone()
            return bool(row and row[0])
        try:
            inode = os.stat(f"{self.path}-shm").st_ino
        except FileNotFoundError:
            return False
        for line in Path("/proc/locks").read_text().splitlines():
            f = line.split()
            if f[1] == "->":  # a waiter
                continue
            if f[3] == "WRITE" and f[5].endswith(f":{inode}") and f[6:8] == ["120", "120"]:
                return int(f[4]) in _group(running.victim.pid)
        return False

    def kill(self, running: Running) -> None:
        """``kill -9`` of the server's process (as an operator, or the OOM killer, kills it);
        then nothing of its process group may hold the database, and what remains of the
        group (report workers, a fork server) is killed too."""
        pgid = running.victim.pid
        os.kill(pgid, signal.SIGKILL)
        code = running.victim.wait(30)
        if code != -signal.SIGKILL:  # it had stopped by itself: a failure of its own
            pytest.fail(
                f"the server ended with {code} before it was killed:\n"
                f"{running.log.with_suffix('.server').read_text()}"
            )
        holding = self.holders(pgid)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while left := _group(pgid):
            if time.monotonic() > deadline:
                pytest.fail(
                    "still alive 30 s after the kill: "
                    + "; ".join(Path(f"/proc/{p}/stat").read_text()[:80] for p in left)
                )
            time.sleep(0.01)
        for helper in running.helpers:
            helper.kill()
            helper.wait(30)
        assert not holding, f"after the server's death, {holding} of its group held the database"

    def stop(self, running: Running) -> None:
        for p in (*running.helpers, running.victim):
            if p.poll() is None:
                if p is running.victim:
                    os.killpg(p.pid, signal.SIGKILL)
                else:
                    p.kill()
                p.wait(30)


def _prepare(url: str) -> None:
    """The team of tests/workbench_support.py, with the Met's and Kent's drafts."""
    t = team(url)
    t.wb.import_judgments(t.inspector, demo_judgments()["E23000001"])
    t.wb.import_judgments(t.kent_inspector, demo_judgments()["E23000032"])
    t.wb.db.dispose()


def _site(demo_run: DemoRun, into: Path) -> Path:
    """A copy of the demo's published site (a release writes bundles into it), marked as
    published without PDFs: a release's bundle then takes about 10 s here instead of 15."""
    site = into / "site"
    shutil.copytree(demo_run.site, site)
    manifest = site / BUNDLES / (site / POINTER).read_text().strip() / "manifest.json"
    data = json.loads(manifest.read_text(encoding="utf-8"))
    data["pdf"] = False
    manifest.write_text(json.dumps(data), encoding="utf-8")
    return site


def _next_aim(plan: list[str], save_reachable: bool) -> str:
    """The next aim of ``plan`` (taken from it); when it is a save that cannot be reached,
    the first release aim after it that moves a force on (or an extra "release commit")."""
    if save_reachable or not plan[0].startswith("save"):
        return plan.pop(0)
    for i, aim in enumerate(plan):
        if aim in ("release commit", "release transaction"):
            return plan.pop(i)
    return "release commit"


def _save_reachable(db: Database) -> bool:
    """Whether a force can be saved without a release first: in draft, returned, or
    published (a correction then)."""
    with db.read() as conn:
        states = {
            r.state
            for r in conn.execute(
                select(workflow.c.state).where(workflow.c.force.in_(workers.KILL_FORCES))
            )
        }
    return bool(states & {"draft", "returned", "published"})


def _after_last_done(db: Database, lines: list[str]) -> list[audit.Entry]:
    seq = 0
    for line in lines:
        if line.startswith(("ready", "done")):
            seq = int(line.split()[-1])
    with db.read() as conn:
        return [e for e in audit.entries(conn) if e.seq > seq]


def _public_problems(
    db: Database, site: Path, served: dict[str, Any], reports: dict[str, dict[str, str]]
) -> list[str]:
    """What the public site serves (``/api/v1/cycles``' version, ``/api/v1/grades``) against
    the database: the bundle of the latest release due (the site's own pointer before any),
    its grades, in which every force published has the version the database says it
    published. And the files of every bundle it served, as they were then (``reports``:
    bundle → file → sha256, added to)."""
    problems = []
    with db.read() as conn:
        due = release.due_bundle(conn, datetime.now(UTC))
        published = {
            r.force: r.content
            for r in conn.execute(
                select(workflow.c.force, versions.c.content)
                .join(versions, versions.c.id == workflow.c.published_version_id)
                .where(workflow.c.cycle == workers.CYCLE)
            )
        }
    due = due or (site / POINTER).read_text().strip()
    if served["version"] != due:
        problems.append(f"the public site serves bundle {served['version']}, not {due}")
    folder = site / BUNDLES / due
    expected = json.loads((folder / "grades" / f"{workers.CYCLE}.json").read_text())
    if served["grades"] != expected:
        problems.append(f"the public site does not serve the grades of bundle {due}")
    for force, content in published.items():
        data = json.loads(content)
        got = served["grades"]["forces"][force]
        if (got["source"], got["overall"]) != (data["source"], data["overall"]["grade"]):
            problems.append(
                f"{force}: served {got['source']!r} ({got['overall']}), published "
                f"{data['source']!r} ({data['overall']['grade']})"
            )
    reports.setdefault(due, _digests(folder / "reports"))
    for bundle, files in reports.items():
        if _digests(site / BUNDLES / bundle / "reports") != files:
            problems.append(f"the reports of bundle {bundle}, served, have changed since")
    return problems


def _digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _named_on_disk(db: Database, site: Path) -> tuple[set[str], set[str], list[str]]:
    """The bundles and judgments folders the releases (and the site's pointer) name, and what
    is wrong with them: each release's bundle complete (its manifest, its correction notices,
    its judgments folder)."""
    problems = []
    with db.read() as conn:
        named = {r.bundle for r in conn.execute(select(releases.c.bundle)) if r.bundle}
    judged = set()
    for bundle in named:
        folder = site / BUNDLES / bundle
        manifest = folder / "manifest.json"
        if not manifest.is_file() or not (folder / "corrections.json").is_file():
            problems.append(f"bundle {bundle} of a release is not complete")
            continue
        judgments = json.loads(manifest.read_text()).get("judgments")
        if not judgments or not Path(judgments).is_dir():
            problems.append(f"bundle {bundle}'s judgments {judgments} are missing")
        else:
            judged.add(Path(judgments).name)
    named.add((site / POINTER).read_text().strip())
    return named, judged, problems


def _on_disk(site: Path) -> tuple[set[str], set[str]]:
    folder = site / release.JUDGMENTS
    return set(os.listdir(site / BUNDLES)), set(os.listdir(folder)) if folder.is_dir() else set()


def test_kill_9_of_the_server_mid_save_or_publication_leaves_the_old_or_the_new_state(
    workbench_url: str, tmp_path: Path, demo_run: DemoRun
) -> None:
    kind = "sqlite" if workbench_url.startswith("sqlite") else "postgresql"
    rng = random.Random(f"{SEED}-{kind}")
    url = workbench_url
    site = _site(demo_run, tmp_path)
    pointer = (site / POINTER).read_bytes()
    _prepare(url)
    harness = ServerHarness(url, site)
    # what each kill met: the write in flight and what became of it
    outcomes: Counter[str] = Counter()
    aims: Counter[str] = Counter()
    operating: Counter[str] = Counter()
    done_before: Counter[str] = Counter()
    # bundles (or their unfinished folders) no release names: at first, those the copied site
    # holds besides the one its pointer names (the session's demo site may have published
    # more than once: tests/test_cli.py runs peelkit demo on it again)
    orphans, orphan_judgments = _on_disk(site)
    orphans.discard(pointer.decode().strip())
    plan = list(AIMS)
    checked: set[int] = set()
    served_reports: dict[str, dict[str, str]] = {}  # each bundle served: its reports' files
    seconds: list[float] = []
    started = time.monotonic()
    try:
        for run in range(RUNS):
            run_started = time.monotonic()
            log = tmp_path / f"run-{run}.log"
            with Database(url) as db:
                aim = _next_aim(plan, _save_reachable(db))
            hold = () if aim in RELEASES else ("schedule",)
            running = harness.start(log, rng.randrange(1 << 30), hold=hold)
            with Database(url) as db:  # the restarted server serves the release that is due
                problems = _public_problems(db, site, running.served, served_reports)
                assert not problems, f"run {run}: {problems}"
            harness.wait_ready(running)
            aim = harness.aim(running, aim, rng)
            aims[aim] += 1
            in_transaction = harness.writing(running)
            harness.kill(running)
            lines = running.log.read_text().splitlines()
            last = lines[-1]
            pending = last.startswith(("write ", "lost "))  # sent, and no answer came
            op = last.split(maxsplit=1)[1] if pending else None
            done_before.update(line.split()[2] for line in lines if line.startswith("done"))
            with Database(url) as db:
                problems = workers.invariants(db, checked)
                assert not problems, f"run {run} (last: {last!r}): {problems}"
                beyond = _after_last_done(db, lines)
                # one whole operation or nothing past the last answer: its entries share one
                # time and are all of that operation's; nothing when no write was in flight
                assert len({e.at for e in beyond}) <= 1, (run, beyond)
                if not pending:
                    assert beyond == [], (run, last, beyond)
                elif beyond:
                    actions = [e.action for e in beyond]
                    assert actions == ENTRIES.get(op or "", [op]), (run, op, actions)
                operating["a write" if pending else "no write"] += 1
                if pending:
                    outcomes[
                        f"{op}: "
                        + (
                            "committed, no answer"
                            if beyond
                            else "rolled back"
                            if in_transaction
                            else "not begun"
                        )
                    ] += 1
                # the site on disk: the pointer as it was, each release's bundle whole; a kill
                # before a release's transaction leaves at most its bundle and judgments
                assert (site / POINTER).read_bytes() == pointer
                named, judged, problems = _named_on_disk(db, site)
                assert not problems, (run, problems)
                bundles, judgments = _on_disk(site)
                stray = sorted(bundles - named - orphans)
                stray_judgments = sorted(judgments - judged - orphan_judgments)
                if op == "schedule" and not beyond:
                    assert len(stray) <= 1 and len(stray_judgments) <= 1, (run, stray)
                    orphans.update(stray)
                    orphan_judgments.update(stray_judgments)
                else:
                    assert not stray and not stray_judgments, (run, op, stray, stray_judgments)
                # the next write works, directly, as another process would write: one
                # force's next operation (a release only through the server, which makes its
                # bundle; a sign-in when both forces wait for one)
                wb = Workbench(db)
                actors = {n: wb.actor(n) for n in ("inspector", "kent_inspector", "lead")}
                states = {
                    f: wb.draft(actors["lead"], f, workers.CYCLE).status.state
                    for f in workers.KILL_FORCES
                }
                # a force that can be saved is left so, for the next run's save if it can
                movable = sorted(
                    (f for f, state in states.items() if state != "approved"),
                    key=lambda f: states[f] in ("draft", "returned", "published"),
                )
                if movable:
                    workers.next_operation(wb, actors, movable[0], rng)
                else:
                    wb.sign_in("lead", PASSWORD)
                assert workers.invariants(db, checked) == []
            seconds.append(time.monotonic() - run_started)
            if os.environ.get("PEELKIT_KILL_TRACE"):  # a line per run, with pytest -s
                print(
                    f"run {run} {aim}: {last!r}, {len(beyond)} entries after, "
                    f"in transaction {in_transaction}, stray {stray} {stray_judgments}, "
                    f"{seconds[-1]:.1f} s"
                )
        # and through the server restarted once more: the forces' next operations, answered,
        # until a save is (a release on the way if a force needs one to be saved again)
        log = tmp_path / "after.log"
        running = harness.start(log, rng.randrange(1 << 30), until="save")
        try:
            with Database(url) as db:
                problems = _public_problems(db, site, running.served, served_reports)
                assert not problems, f"after the runs: {problems}"
            assert running.helpers[0].wait(300) == 0, log.with_suffix(".err").read_text()
            after = [x.split()[2] for x in log.read_text().splitlines() if x.startswith("done")]
            assert after[-1:] == ["save"], after
            done_before.update(after)
        finally:
            harness.stop(running)
        with Database(url) as db:
            assert workers.invariants(db, checked) == []
            with db.read() as conn:
                published = conn.execute(
                    select(audit.audit.c.seq).where(audit.audit.c.action == "published")
                ).all()
                total = audit.count(conn)
    finally:
        harness.close()
    print(
        f"\n{kind}: {RUNS} kills of the server in {time.monotonic() - started:.1f} s "
        f"(runs {min(seconds):.1f}-{max(seconds):.1f} s), aimed at "
        + ", ".join(f"{k} {v}" for k, v in sorted(aims.items()))
        + f"; killed with {operating['a write']} "
        f"writes unanswered, {operating['no write']} with none: "
        + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items()))
        + "; answered by the server (before the kills, and after them until a save): "
        + ", ".join(f"{k} {v}" for k, v in sorted(done_before.items()))
        + f"; {len(published)} publications, {total} audit entries; orphans left by kills "
        f"before a release's transaction: {len(orphans)} bundles ("
        f"{sum(o.startswith('.') for o in orphans)} unfinished), {len(orphan_judgments)} "
        "judgments folders"
    )
    # the kills met what they were aimed at: saves and releases inside their transactions
    # (none of it kept), a release committed with no answer, releases while their bundles
    # were made; and operations went through the server in between (a save at the end, above)
    assert outcomes["save: rolled back"] and outcomes["schedule: rolled back"], outcomes
    assert outcomes["schedule: not begun"] and outcomes["schedule: committed, no answer"]
    assert len(published) >= 2 and sum(done_before.values()) >= 10, (done_before, published)


def test_kill_9_of_the_server_alone_while_it_renders_reports_leaves_nothing_on_the_database(
    workbench_url: str, tmp_path: Path, demo_run: DemoRun
) -> None:
    """``kill -9 PID`` of the server (or the OOM killer's) while a release's reports are
    rendered in worker processes: once it is dead, no process holds a connection to the
    database — forked workers held copies of the server's, and lived on, so PostgreSQL never
    saw them close (nor would it a transaction open in another thread at the fork) — and its
    workers end by themselves; the release is not made."""
    url = workbench_url
    site = _site(demo_run, tmp_path)
    _prepare(url)
    with Database(url) as db:
        wb = Workbench(db)
        t = Team(wb, Clock(), {n: wb.actor(n) for n in ("inspector", "kent_inspector", "lead")})
        for force in workers.KILL_FORCES:
            to_approved(t, force)  # both released at once: two reports, rendered in parallel
    harness = ServerHarness(url, site)
    server, base = _serve(site, url, tmp_path / "server.out")
    try:
        deadline = time.monotonic() + READY_SECONDS
        while True:
            try:
                token = httpx.post(
                    f"{base}/api/v1/workbench/session",
                    json={"username": "lead", "password": PASSWORD},
                ).json()["token"]
                break
            except httpx.TransportError:
                assert server.poll() is None and time.monotonic() < deadline
                time.sleep(0.05)
        answers: list[Any] = []

        def release() -> None:
            try:
                answers.append(
                    httpx.post(
                        f"{base}/api/v1/workbench/releases",
                        json={"cycle": workers.CYCLE, "forces": list(workers.KILL_FORCES)},
                        headers={"Authorization": f"Bearer {token}"},
                        timeout=300,
                    )
                )
            except httpx.TransportError as exc:
                answers.append(exc)

        sender = threading.Thread(target=release)
        sender.start()
        # its report workers: processes of its group forked (not started as programs) from
        # another of them — the server (fork), or a fork server
        deadline = time.monotonic() + 120
        while not _forked(server.pid):
            assert not answers and time.monotonic() < deadline, answers
            time.sleep(0.005)
        time.sleep(0.2)
        assert not answers, answers
        os.kill(server.pid, signal.SIGKILL)
        assert server.wait(30) == -signal.SIGKILL
        holding = harness.holders(server.pid)
        deadline = time.monotonic() + 10
        while _group(server.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        left = _group(server.pid)
        sender.join(max(0.0, deadline - time.monotonic()))
        assert holding == set(), f"after the server's death, {holding} hold the database"
        assert left == [], f"its processes {left} outlived it by 10 s"
        # and the client saw its connection close (no process kept a copy of it open)
        assert answers and isinstance(answers[0], httpx.TransportError), answers
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)
        harness.close()
    with Database(url) as db:
        assert workers.invariants(db) == []
        wb = Workbench(db)
        lead = wb.actor("lead")
        states = {f: wb.draft(lead, f, workers.CYCLE).status.state for f in workers.KILL_FORCES}
        assert set(states.values()) == {"approved"}, states
