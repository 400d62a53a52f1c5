"""Processes that use one workbench database at the same time, for the concurrency and kill
tests (tests/test_workbench_concurrency.py, tests/test_workbench_kill.py), and the invariants
a workbench database keeps whatever happens to them.

Each worker is a separate process (multiprocessing's spawn) with its own ``Workbench`` on the
same database URL, as the server's workers are. A worker never lets an exception escape: it
writes what it did and what went wrong to a JSON file the test reads. The kill test drives the
server itself, through its API, in the loop of ``next_operation``
(tests/workbench_api_client.py)."""

from __future__ import annotations

import copy
import json
import os
import random
import time
import traceback
from typing import Any

from sqlalchemy import func, select

from peelkit.errors import StaleVersion
from peelkit.workbench import audit
from peelkit.workbench.database import Database, open_database
from peelkit.workbench.roles import Actor
from peelkit.workbench.service import Workbench, changes
from peelkit.workbench.tables import releases, versions, workflow

CYCLE = 2016
#: what the lead inspector writes into a returned draft (its ``source``)
LEAD_NOTE = " [checked by the lead inspector]"
#: a worker that is not done by then gives up (the test fails rather than hangs)
WORKER_SECONDS = 240.0


def _write(path: str, result: dict[str, Any]) -> None:
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(result, f)
    os.replace(tmp, path)


def _moved_by_others(wb: Workbench, me: Actor, force: str, others: set[str]) -> bool:
    """Whether the force changed after ``me``'s last change, and only through ``others``:
    a StaleVersion is expected then (someone else's step moved it), and only then."""
    entries = wb.history(me, force, CYCLE)
    mine = [i for i, e in enumerate(entries) if e.actor == me.username]
    after = entries[mine[-1] + 1 :] if mine else entries
    return bool(after) and all(e.actor in others for e in after)


def _wait_for(wb: Workbench, by: Actor, force: str, ok: Any, deadline: float) -> Any:
    while True:
        draft = wb.draft(by, force, CYCLE)
        if ok(draft):
            return draft
        if time.monotonic() > deadline:
            raise TimeoutError(f"{force} stayed {draft.status.state} (lock {draft.status.lock})")
        time.sleep(0.02)


def inspector(url: str, username: str, force: str, saves: int, out: str) -> None:
    """Save ``force``'s judgments ``saves`` times (each time a new ``overall.summary``, read
    first with its lock), submitting halfway; once the lead inspector returns it, the other
    saves, the last only after the lead's own edit is in, then resubmit. A StaleVersion is
    retried (re-read, change re-applied) only when the lead's step or edit moved it."""
    result: dict[str, Any] = {"saves": [], "stale": 0, "steps": [], "errors": []}
    deadline = time.monotonic() + WORKER_SECONDS
    db = None
    try:
        db = open_database(url, upgrade=False)
        wb = Workbench(db)
        me = wb.actor(username)
        base = wb.draft(me, force, CYCLE).content["overall"].get("summary", "")

        def save(k: int) -> None:
            marker = f" [{username} save {k}]"
            while True:
                draft = wb.draft(me, force, CYCLE)
                data = copy.deepcopy(draft.content)
                data["overall"]["summary"] = base + marker
                try:
                    status = wb.save(me, data, lock=draft.status.lock)
                except StaleVersion:
                    if not _moved_by_others(wb, me, force, {"lead"}):
                        raise
                    result["stale"] += 1
                    continue
                result["saves"].append([status.version, marker])
                return

        def step(action: str) -> None:
            while True:
                lock = wb.draft(me, force, CYCLE).status.lock
                try:
                    wb.step(me, force, CYCLE, action, lock=lock)
                except StaleVersion:
                    if not _moved_by_others(wb, me, force, {"lead"}):
                        raise
                    result["stale"] += 1
                    continue
                result["steps"].append(action)
                return

        half = saves // 2
        for k in range(half):
            save(k)
        step("submit")
        _wait_for(wb, me, force, lambda d: d.status.state == "returned", deadline)
        for k in range(half, saves - 1):
            save(k)
        _wait_for(wb, me, force, lambda d: d.content["source"].endswith(LEAD_NOTE), deadline)
        save(saves - 1)  # the last version is the inspector's: the lead may approve it
        step("resubmit")
    except BaseException as exc:
        result["errors"].append("".join(traceback.format_exception(exc)))
    finally:
        if db is not None:
            db.dispose()
        _write(out, result)


def lead(url: str, username: str, forces: list[str], out: str) -> None:
    """Moderate whatever is submitted, at once: return a first submission with a comment,
    edit the returned draft (its ``source``; retried when the inspector's save moved it),
    then moderate, open the factual accuracy check and approve the resubmission."""
    result: dict[str, Any] = {"saves": {}, "stale": 0, "steps": [], "errors": []}
    deadline = time.monotonic() + WORKER_SECONDS
    db = None
    try:
        db = open_database(url, upgrade=False)
        wb = Workbench(db)
        me = wb.actor(username)
        owner: dict[str, str] = {}  # each force's inspector
        for user in wb.list_users(None):
            for f in user.assigned:
                owner[f] = user.username
        edited: set[str] = set()
        while True:
            statuses = {s.force: s for s in wb.status(me, CYCLE) if s.force in forces}
            if all(s.state == "approved" for s in statuses.values()):
                break
            if time.monotonic() > deadline:
                raise TimeoutError(
                    "not all approved: "
                    + ", ".join(f"{f} {s.state}" for f, s in sorted(statuses.items()))
                )
            acted = False
            for force, s in sorted(statuses.items()):
                if s.state == "submitted":
                    wb.step(me, force, CYCLE, "return", lock=s.lock, comment="Say more.")
                    result["steps"].append([force, "return"])
                    acted = True
                elif s.state == "returned" and force not in edited:
                    while True:
                        draft = wb.draft(me, force, CYCLE)
                        data = copy.deepcopy(draft.content)
                        data["source"] += LEAD_NOTE
                        try:
                            status = wb.save(me, data, lock=draft.status.lock)
                        except StaleVersion:
                            if not _moved_by_others(wb, me, force, {owner[force]}):
                                raise
                            result["stale"] += 1
                            continue
                        result["saves"][force] = status.version
                        break
                    edited.add(force)
                    acted = True
                elif s.state == "resubmitted":
                    lock = s.lock
                    for action in ("moderate", "open factual accuracy check", "approve"):
                        lock = wb.step(me, force, CYCLE, action, lock=lock).lock
                        result["steps"].append([force, action])
                    acted = True
            if not acted:
                time.sleep(0.02)
    except BaseException as exc:
        result["errors"].append("".join(traceback.format_exception(exc)))
    finally:
        if db is not None:
            db.dispose()
        _write(out, result)


def racer(url: str, username: str, force: str, rounds: int, barrier: Any, out: str) -> None:
    """Each round: read the force's lock (both racers read the same one: nobody writes
    between the first two barriers), then save a different content from it, at once."""
    result: dict[str, Any] = {"won": [], "stale": [], "errors": []}
    db = None
    try:
        db = open_database(url, upgrade=False)
        wb = Workbench(db)
        me = wb.actor(username)
        for r in range(rounds):
            barrier.wait(timeout=60)
            draft = wb.draft(me, force, CYCLE)
            data = copy.deepcopy(draft.content)
            data["overall"]["summary"] += f" [{username} round {r}]"
            barrier.wait(timeout=60)
            try:
                status = wb.save(me, data, lock=draft.status.lock)
                result["won"].append([r, draft.status.lock, status.version])
            except StaleVersion as exc:
                result["stale"].append([r, draft.status.lock, exc.found])
            barrier.wait(timeout=60)
    except BaseException as exc:
        result["errors"].append("".join(traceback.format_exception(exc)))
        barrier.abort()
    finally:
        if db is not None:
            db.dispose()
        _write(out, result)


# -- what a killed process may leave: old or new, never between ------------------------------


def next_operation(
    wb: Workbench,
    actors: dict[str, Actor],
    force: str,
    rng: random.Random,
    announce: Any = lambda _op: None,
) -> str:
    """Take the next step of ``force``'s judgments round their whole life, whatever state it
    is in: large saves and a submission in draft, moderation, the factual accuracy check,
    approval, a release (due at once, so published in the same transaction) and a correction
    back to draft. ``announce(op)`` is called just before the write. Returns what it did."""
    inspector_ = actors["inspector"] if force == "E23000001" else actors["kent_inspector"]
    lead_ = actors["lead"]
    draft = wb.draft(lead_, force, CYCLE)
    s = draft.status
    if s.state in ("draft", "returned"):
        if s.author == inspector_.username and rng.random() < 0.35:
            action = "submit" if s.state == "draft" else "resubmit"
            announce(action)
            wb.step(inspector_, force, CYCLE, action, lock=s.lock)
            return action
        data = copy.deepcopy(draft.content)
        # a large version: a few hundred kilobytes of text, so a kill often lands in its write
        words = rng.randint(20_000, 80_000)
        data["overall"]["summary"] = f"Version {s.version + 1}. " + "word " * words
        announce("save")
        wb.save(inspector_, data, lock=s.lock)
        return "save"
    if s.state in ("submitted", "resubmitted"):
        announce("moderate")
        wb.step(lead_, force, CYCLE, "moderate", lock=s.lock)
        return "moderate"
    if s.state == "moderated":
        announce("open factual accuracy check")
        wb.step(lead_, force, CYCLE, "open factual accuracy check", lock=s.lock)
        return "open factual accuracy check"
    if s.state == "factual accuracy check":
        announce("approve")
        wb.step(lead_, force, CYCLE, "approve", lock=s.lock)
        return "approve"
    if s.state == "approved":
        announce("schedule")
        wb.schedule(lead_, CYCLE, [force], None)
        return "schedule"
    if s.state == "published":
        announce("correct")
        wb.step(lead_, force, CYCLE, "correct", lock=s.lock, comment="A figure was wrong.")
        return "correct"
    raise AssertionError(f"{force} is {s.state}: nothing to do")


KILL_FORCES = ("E23000001", "E23000032")


def last_seq(db: Database) -> int:
    with db.read() as conn:
        return int(conn.execute(select(func.coalesce(func.max(audit.audit.c.seq), 0))).scalar())


def invariants(db: Database, checked: set[int] | None = None) -> list[str]:
    """What must hold in any workbench database, whatever was interrupted: each workflow row
    points to versions of its own force; its lock counts the audit entries of its force; the
    versions of a force are numbered 1..n and each holds valid judgments; every released
    force is scheduled or was published with its version, and every scheduled force belongs
    to a release; the audit chain verifies. ``checked``: ids of versions whose content was
    validated already (a version never changes), skipped and added to."""
    problems: list[str] = []
    with db.read() as conn:
        verified = audit.verify(conn)
        problems += [f"audit: {p}" for p in verified.problems]
        by_id = {
            v.id: v
            for v in conn.execute(
                select(versions.c.id, versions.c.force, versions.c.cycle, versions.c.number)
            )
        }
        new_ids = [i for i in by_id if checked is None or i not in checked]
        contents = {
            v.id: v.content
            for v in conn.execute(
                select(versions.c.id, versions.c.content).where(versions.c.id.in_(new_ids))
            )
        }
        rows = list(conn.execute(select(workflow)))
        audited: dict[tuple[str, int], int] = {}
        published: set[tuple[str, int, int]] = set()
        for e in audit.entries(conn):
            if e.force is not None and e.cycle is not None:
                audited[(e.force, e.cycle)] = audited.get((e.force, e.cycle), 0) + 1
            if e.action == "published":
                published.add((e.force or "", e.cycle or 0, int(e.detail["version_id"])))
        released = list(conn.execute(select(releases)))
    numbers: dict[tuple[str, int], list[int]] = {}
    for v in by_id.values():
        numbers.setdefault((v.force, v.cycle), []).append(v.number)
        if v.id not in contents:
            continue
        try:
            Workbench.check(json.loads(contents[v.id]))
        except Exception as exc:
            problems.append(f"version {v.id} ({v.force} {v.number}) is not valid: {exc}")
        else:
            if checked is not None:
                checked.add(v.id)
    for key, found in numbers.items():
        if sorted(found) != list(range(1, len(found) + 1)):
            problems.append(f"{key} has versions {sorted(found)}, not 1..{len(found)}")
    for row in rows:
        key = (row.force, row.cycle)
        for name in ("version_id", "published_version_id"):
            vid = getattr(row, name)
            if vid is None:
                continue
            v = by_id.get(vid)
            if v is None or (v.force, v.cycle) != key:
                problems.append(f"{key}'s {name} {vid} is not a version of its own")
        if row.lock != audited.get(key, 0):
            problems.append(f"{key} has lock {row.lock} but {audited.get(key, 0)} audit entries")
    state = {(r.force, r.cycle): r for r in rows}
    in_releases: set[tuple[str, int, int]] = set()
    for rel in released:
        for item in json.loads(rel.content):
            k = (item["force"], item["cycle"], item["version_id"])
            if rel.cancelled_at is None:
                in_releases.add(k)
            row = state.get(k[:2])
            now_scheduled = row is not None and row.state == "scheduled" and row.version_id == k[2]
            if rel.cancelled_at is None and not now_scheduled and k not in published:
                problems.append(f"release {rel.id}: {k} is neither scheduled nor published")
    for row in rows:
        if row.state == "scheduled" and (row.force, row.cycle, row.version_id) not in in_releases:
            problems.append(f"{row.force} is scheduled but in no release")
    return problems


def version_chain_problems(db: Database, force: str) -> list[str]:
    """Each version of ``force`` is the one before it with exactly one author's change: the
    inspector's ``overall.summary`` or the lead's ``source`` (nothing else lost or mixed)."""
    problems = []
    with db.read() as conn:
        found = list(
            conn.execute(
                select(versions.c.number, versions.c.content)
                .where(versions.c.force == force)
                .order_by(versions.c.number)
            )
        )
    contents = [json.loads(v.content) for v in found]
    for before, after, v in zip(contents, contents[1:], found[1:], strict=False):
        changed = set(changes(before, after))
        if changed not in ({"overall.summary"}, {"source"}):
            problems.append(f"{force} version {v.number} changed {sorted(changed)}")
    return problems
