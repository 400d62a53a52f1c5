"""Accounts: users with argon2 password hashes, sign-in with lock-out, server-side sessions.

A sign-in that fails five times in a row locks the account for fifteen minutes (the counter
is in the database, so every worker sees it); a sign-in under a name nobody has still costs
one argon2 verification, so timing does not tell names apart. A session is a random token in
an ``HttpOnly`` cookie whose sha256 is the row in ``sessions``: a new one at every sign-in (no
fixation), gone at sign-out (no reuse), expiring after eight hours."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Connection, delete, select

from peelkit.workbench.roles import Actor, Role
from peelkit.workbench.tables import assignments, sessions, users

FAILURES_BEFORE_LOCK = 5
#: refused sign-ins from one address within LOCK_FOR before it is throttled (password spraying)
THROTTLE_AFTER = 20
LOCK_FOR = timedelta(minutes=15)
SESSION_FOR = timedelta(hours=8)
MIN_PASSWORD = 12
USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,62}")


@cache
def _hasher():  # type: ignore[no-untyped-def]
    from pwdlib import PasswordHash

    return PasswordHash.recommended()  # argon2id


def hash_password(password: str) -> str:
    return str(_hasher().hash(password))


def verify_password(password: str, hashed: str | None) -> bool:
    """Check ``password`` against ``hashed``; with no hash, verify against a dummy one so the
    time taken does not reveal that the name is unknown."""
    if hashed is None:
        _hasher().verify(password, _dummy_hash())
        return False
    return bool(_hasher().verify(password, hashed))


@cache
def _dummy_hash() -> str:
    return hash_password(secrets.token_hex(16))


def password_problem(password: str) -> str | None:
    if len(password) < MIN_PASSWORD:
        return f"a password has at least {MIN_PASSWORD} characters"
    return None


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class User:
    id: int
    username: str
    display_name: str
    role: Role
    force: str | None
    active: bool
    assigned: tuple[str, ...]
    locked_until: datetime | None

    def actor(self) -> Actor:
        return Actor(self.id, self.username, self.role, self.force, frozenset(self.assigned))


def load_user(
    conn: Connection, *, username: str | None = None, id: int | None = None
) -> User | None:
    query = select(users)
    query = (
        query.where(users.c.username == username)
        if username is not None
        else query.where(users.c.id == id)
    )
    row = conn.execute(query).first()
    return None if row is None else _user(conn, row)


def _user(conn: Connection, row: Any) -> User:
    """The user of a row of ``users``, with the forces assigned to them."""
    assigned = conn.execute(
        select(assignments.c.force)
        .where(assignments.c.user_id == row.id)
        .order_by(assignments.c.force)
    ).scalars()
    return _user_of(row, tuple(assigned))


def _user_of(row: Any, assigned: tuple[str, ...]) -> User:
    return User(
        row.id,
        row.username,
        row.display_name,
        row.role,
        row.force,
        bool(row.active),
        assigned,
        row.locked_until,
    )


def all_users(conn: Connection) -> list[User]:
    ids = conn.execute(select(users.c.id).order_by(users.c.username)).scalars().all()
    return [u for i in ids if (u := load_user(conn, id=i)) is not None]


def new_session(conn: Connection, user_id: int, now: datetime) -> tuple[str, str]:
    """A new session for ``user_id``: (the cookie's token, the session's CSRF secret)."""
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_hex(32)
    conn.execute(
        sessions.insert().values(
            token_hash=token_hash(token),
            user_id=user_id,
            csrf_secret=csrf,
            created_at=now,
            expires_at=now + SESSION_FOR,
        )
    )
    return token, csrf


def end_sessions(conn: Connection, *, token: str | None = None, user_id: int | None = None) -> int:
    query = delete(sessions)
    if token is not None:
        query = query.where(sessions.c.token_hash == token_hash(token))
    elif user_id is not None:
        query = query.where(sessions.c.user_id == user_id)
    else:
        raise ValueError("end which sessions?")
    return conn.execute(query).rowcount


@dataclass(frozen=True)
class Session:
    user: User
    csrf_secret: str
    expires_at: datetime


def find_session(conn: Connection, token: str, now: datetime) -> Session | None:
    """The session of ``token`` with its user, if it has not expired and the user is active.
    Every workbench request asks, so it is one statement: the session, its user and the
    user's assigned forces (a row each, or one row with none), which sees one moment by
    itself (``Database.statement``)."""
    rows = conn.execute(
        select(
            users,
            sessions.c.csrf_secret,
            sessions.c.expires_at,
            assignments.c.force.label("assigned"),
        )
        .join(sessions, sessions.c.user_id == users.c.id)
        .outerjoin(assignments, assignments.c.user_id == users.c.id)
        .where(sessions.c.token_hash == token_hash(token))
        .order_by(assignments.c.force)
    ).all()
    if not rows:
        return None
    row = rows[0]
    if row.expires_at <= now or not row.active:
        return None
    assigned = tuple(r.assigned for r in rows if r.assigned is not None)
    return Session(_user_of(row, assigned), row.csrf_secret, row.expires_at)
