"""A client of the workbench's API for the kill test (tests/test_workbench_kill.py): it drives
``peelkit serve`` over HTTP in the loop of ``workbench_workers.next_operation`` — large saves
(``PUT`` with ``If-Match``), the workflow's steps (``POST …/steps``), a release due at once
(``POST /api/v1/workbench/releases``) and corrections — signed in as the users of
tests/workbench_support.py, and writes the log the test reads:

    ready SEQ            signed in; SEQ is the last audit entry then
    begin FORCE          before reading the force (GET, nothing written)
    write OP             just before the write's request is sent
    done FORCE OP SEQ    after its 2xx answer (SEQ: the last audit entry then)
    held FORCE           its next operation is one the client was told not to start
    lost OP              the connection broke before an answer (the server was killed)

each line flushed to disk. The client reads the database only for SEQ (the test's
bookkeeping); everything it writes goes through the server. An answer other than 2xx is a
failure: the client says so on stderr and exits 1.

    python -m tests.workbench_api_client BASE_URL DATABASE_URL LOG SEED \
        [--operations N] [--hold schedule] [--until save]
"""

from __future__ import annotations

import copy
import os
import random
import re
import time
from collections.abc import Callable
from typing import Any

import httpx

from peelkit.workbench.database import Database
from tests.workbench_support import KENT, MET, PASSWORD
from tests.workbench_workers import CYCLE, KILL_FORCES, last_seq

USERS = ("inspector", "kent_inspector", "lead")
#: the version a save makes, also in the judgments' ``source``: it is in the published grades
#: (``/api/v1/grades``), so the test can tell which release the public site serves
MARK = re.compile(r" \(version \d+\)$")


class Failed(Exception):
    """The server answered, but not with success: the loop is wrong or the server is."""


class Api:
    def __init__(self, base: str) -> None:
        # one connection per user would do as well; a save's body is a few hundred kilobytes
        self.http = httpx.Client(base_url=base, timeout=httpx.Timeout(300.0))
        self.tokens: dict[str, str] = {}

    def sign_in(self, username: str, wait: float = 0.0) -> None:
        """Sign in; waiting up to ``wait`` seconds for the server to answer at all (the client
        starts with the server)."""
        deadline = time.monotonic() + wait
        while True:
            try:
                r = self.http.post(
                    "/api/v1/workbench/session", json={"username": username, "password": PASSWORD}
                )
                break
            except httpx.ConnectError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        self.tokens[username] = self._ok(r)["token"]

    def _ok(self, r: httpx.Response) -> Any:
        if not r.is_success:
            raise Failed(f"{r.request.method} {r.request.url.path}: {r.status_code} {r.text[:500]}")
        return r.json() if r.content else None

    def call(
        self, method: str, path: str, as_: str, *, lock: int | None = None, body: Any = None
    ) -> tuple[Any, int | None]:
        headers = {"Authorization": f"Bearer {self.tokens[as_]}"}
        if lock is not None:
            headers["If-Match"] = f'"{lock}"'
        r = self.http.request(method, path, headers=headers, json=body)
        data = self._ok(r)
        etag = r.headers.get("etag")
        return data, int(etag.strip('"')) if etag else None


def next_operation(
    api: Api,
    force: str,
    rng: random.Random,
    announce: Callable[[str], None],
    hold: frozenset[str] = frozenset(),
) -> str | None:
    """``workbench_workers.next_operation`` over HTTP: the same choices from the same draws;
    None, and nothing written, when it would be an operation in ``hold``."""
    inspector = "inspector" if force == MET else "kent_inspector"
    assert force in (MET, KENT)
    path = f"/api/v1/workbench/judgments/{CYCLE}/{force}"
    got, lock = api.call("GET", path, "lead")
    s = got["status"]
    assert lock == s["lock"], (lock, s)
    state = s["state"]
    if state in ("draft", "returned"):
        if s["author"] == inspector and rng.random() < 0.35:
            action = "submit" if state == "draft" else "resubmit"
            announce(action)
            api.call("POST", f"{path}/steps", inspector, lock=lock, body={"action": action})
            return action
        data = copy.deepcopy(got["judgments"])
        words = rng.randint(20_000, 80_000)
        number = s["version"] + 1
        data["overall"]["summary"] = f"Version {number}. " + "word " * words
        data["source"] = MARK.sub("", data["source"]) + f" (version {number})"
        announce("save")
        api.call("PUT", path, inspector, lock=lock, body=data)
        return "save"
    lead_steps = {
        "submitted": "moderate",
        "resubmitted": "moderate",
        "moderated": "open factual accuracy check",
        "factual accuracy check": "approve",
    }
    if state in lead_steps:
        action = lead_steps[state]
        announce(action)
        api.call("POST", f"{path}/steps", "lead", lock=lock, body={"action": action})
        return action
    if state == "approved":
        if "schedule" in hold:
            return None
        announce("schedule")
        api.call(
            "POST",
            "/api/v1/workbench/releases",
            "lead",
            body={"cycle": CYCLE, "forces": [force], "at": None},
        )
        return "schedule"
    if state == "published":
        announce("correct")
        api.call(
            "POST",
            f"{path}/steps",
            "lead",
            lock=lock,
            body={"action": "correct", "comment": "A figure was wrong."},
        )
        return "correct"
    raise AssertionError(f"{force} is {state}: nothing to do")


def run(
    base: str,
    url: str,
    log: str,
    seed: int,
    operations: int | None = None,
    hold: frozenset[str] = frozenset(),
    until: str | None = None,
) -> None:
    """Sign in, then run ``next_operation`` on the Met and Kent in turn (either first) until
    killed (or ``operations`` done, or an ``until`` operation done). An operation in ``hold``
    is not started (``held FORCE OP``): the other force goes instead, or, when neither can,
    the client waits."""
    rng = random.Random(seed)
    db = Database(url)
    api = Api(base)
    with open(log, "a", encoding="utf-8") as f:

        def say(line: str) -> None:
            f.write(line + "\n")
            f.flush()
            os.fsync(f.fileno())

        for username in USERS:
            api.sign_in(username, wait=60.0)
        sent: list[str] = []

        def announce(op: str) -> None:
            sent.append(op)
            say(f"write {op}")

        say(f"ready {last_seq(db)}")
        first = rng.randrange(len(KILL_FORCES))  # either force may go first
        n = done_count = held = 0
        while operations is None or done_count < operations:
            force = KILL_FORCES[(first + n) % len(KILL_FORCES)]
            n += 1
            say(f"begin {force}")
            sent.clear()
            try:
                done = next_operation(api, force, rng, announce, hold)
            except httpx.TransportError:
                if sent:
                    say(f"lost {sent[0]}")
                raise SystemExit(0) from None
            if done is None:
                say(f"held {force}")
                held += 1
                if held >= len(KILL_FORCES):  # nothing to do but what is held
                    time.sleep(0.05)
                continue
            held = 0
            done_count += 1
            say(f"done {force} {done} {last_seq(db)}")
            if done == until:
                break
    db.dispose()


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("base")
    parser.add_argument("database")
    parser.add_argument("log")
    parser.add_argument("seed", type=int)
    parser.add_argument("--operations", type=int)
    parser.add_argument("--hold", action="append", default=[])
    parser.add_argument("--until")
    args = parser.parse_args()
    run(
        args.base,
        args.database,
        args.log,
        args.seed,
        args.operations,
        frozenset(args.hold),
        args.until,
    )
