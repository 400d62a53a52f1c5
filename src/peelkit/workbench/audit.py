"""The audit trail: every change (who, when, what, before → after), every workflow step,
sign-in and permission change, appended in the same transaction as the change itself.

Each entry's hash is the sha256 of its content and the previous entry's hash, so changing,
removing or inserting an entry anywhere breaks the chain from there on; ``verify`` walks it
and names the first entry that does not match. The database refuses UPDATE and DELETE on the
table (triggers), and writes are serialised (``database``), so the chain never forks."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

from peelkit.workbench.clock import aware
from peelkit.workbench.tables import audit

GENESIS = "0" * 64


@dataclass(frozen=True)
class Entry:
    seq: int
    at: datetime
    actor: str
    action: str
    force: str | None
    cycle: int | None
    detail: dict[str, Any]
    prev_hash: str
    hash: str


def _digest(
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    force: str | None,
    cycle: int | None,
    detail: str,
    prev_hash: str,
) -> str:
    content = json.dumps(
        [
            seq,
            at.isoformat(timespec="microseconds"),
            actor,
            action,
            force,
            cycle,
            detail,
            prev_hash,
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


def last_columns() -> list[Any]:
    """The last entry's seq and hash as two columns (``audit_seq``, ``audit_hash``), for a
    statement of a write transaction that reads them with what it reads anyway: one round
    trip fewer while the write lock is held. ``last_of`` reads them from its row."""
    return [
        select(column).order_by(audit.c.seq.desc()).limit(1).scalar_subquery().label(name)
        for column, name in ((audit.c.seq, "audit_seq"), (audit.c.hash, "audit_hash"))
    ]


def last_of(row: Any) -> tuple[int, str]:
    """The last entry's (seq, hash) from a row with ``last_columns``; (0, GENESIS) if none."""
    return (0, GENESIS) if row.audit_seq is None else (int(row.audit_seq), str(row.audit_hash))


def append(
    conn: Connection,
    at: datetime,
    actor: str,
    action: str,
    detail: dict[str, Any],
    *,
    force: str | None = None,
    cycle: int | None = None,
    last: tuple[int, str] | None = None,
) -> Entry:
    """Append one entry, chained to the last one, inside the caller's write transaction.
    ``last`` is the last entry's (seq, hash) when the caller read it in this transaction,
    under the write lock (``last_columns``); else it is read here."""
    at = aware(at)
    if last is None:
        last = last_of(conn.execute(select(*last_columns())).one())
    seq, prev = last[0] + 1, last[1]
    text_ = json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str)
    digest = _digest(seq, at, actor, action, force, cycle, text_, prev)
    conn.execute(
        audit.insert().values(
            seq=seq,
            at=at,
            actor=actor,
            action=action,
            force=force,
            cycle=cycle,
            detail=text_,
            prev_hash=prev,
            hash=digest,
        )
    )
    return Entry(seq, at, actor, action, force, cycle, detail, prev, digest)


def entries(
    conn: Connection, *, force: str | None = None, cycle: int | None = None
) -> Iterator[Entry]:
    query = select(audit).order_by(audit.c.seq)
    if force is not None:
        query = query.where(audit.c.force == force)
    if cycle is not None:
        query = query.where(audit.c.cycle == cycle)
    for row in conn.execute(query):
        yield Entry(
            row.seq,
            row.at,
            row.actor,
            row.action,
            row.force,
            row.cycle,
            json.loads(row.detail),
            row.prev_hash,
            row.hash,
        )


@dataclass(frozen=True)
class Verified:
    entries: int
    problems: list[str]

    @property
    def intact(self) -> bool:
        return not self.problems


def verify(conn: Connection) -> Verified:
    """Walk the whole chain: every entry's hash recomputed from its stored content, every link
    to the previous entry, and no gap in the sequence."""
    problems: list[str] = []
    prev = GENESIS
    expected = 1
    count = 0
    for row in conn.execute(select(audit).order_by(audit.c.seq)):
        count += 1
        if row.seq != expected:
            problems.append(f"entry {expected} is missing (the next entry is {row.seq})")
        if row.prev_hash != prev:
            problems.append(
                f"entry {row.seq} ({row.action} by {row.actor}) does not follow the entry "
                "before it: an entry was removed, inserted or changed"
            )
        recomputed = _digest(
            row.seq, row.at, row.actor, row.action, row.force, row.cycle, row.detail, row.prev_hash
        )
        if recomputed != row.hash:
            problems.append(
                f"entry {row.seq} ({row.action} by {row.actor} at {row.at.isoformat()}) has "
                "been changed: its content no longer matches its hash"
            )
        prev = row.hash
        expected = row.seq + 1
    return Verified(count, problems)


def count(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(audit)).scalar_one())
