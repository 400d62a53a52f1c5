"""Every operation of the workbench, each one transaction that authorises the actor
(``roles.authorize``), writes, and appends its audit entry — or does nothing at all.

The command line, the pages and the API all call this class; none of them writes to the
database or decides a permission itself."""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, and_, select, update

from peelkit import reference
from peelkit.errors import (
    Forbidden,
    InvalidInput,
    InvalidJudgments,
    InvalidStep,
    NotFound,
    SignInRefused,
    StaleVersion,
)
from peelkit.judgments import Judgments, parse_judgments
from peelkit.workbench import accounts, audit, release, workflow
from peelkit.workbench.accounts import Session, User
from peelkit.workbench.clock import Clock, aware, system_clock
from peelkit.workbench.database import Database
from peelkit.workbench.roles import ROLES, Actor, allows, authorize
from peelkit.workbench.tables import (
    assignments,
    comments,
    corrections,
    releases,
    users,
    versions,
)
from peelkit.workbench.tables import workflow as workflow_table

#: The actor of commands typed at the server by whoever holds the database (peelkit users …).
OPERATOR = "operator"
#: The actor of what happens by itself at a set time (a scheduled release).
SYSTEM = "system"


@dataclass(frozen=True)
class Comment:
    author: str | None
    kind: str
    text: str
    at: datetime
    version: int


@dataclass(frozen=True)
class Status:
    """Where one force's judgments stand in a cycle."""

    force: str
    cycle: int
    state: workflow.State
    lock: int
    version: int
    author: str | None
    updated_at: datetime
    published_version: int | None


@dataclass(frozen=True)
class Draft:
    """What a reader of one force's judgments sees: its status, the content of its current
    version (and of the published one), the comments and the versions before."""

    status: Status
    content: dict[str, Any]
    published: dict[str, Any] | None
    comments: list[Comment]
    versions: list[tuple[int, str | None, datetime]]
    notices: list[tuple[datetime, str]]


def content_of(judgments: Judgments) -> dict[str, Any]:
    """A judgments document as stored (and exported): its TOML keys, without empty values."""
    return judgments.model_dump(mode="json", exclude_none=True)


def flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """``data`` as path → value, for showing what changed between two versions."""
    out: dict[str, Any] = {}
    if isinstance(data, Mapping):
        for k, v in data.items():
            out |= flatten(v, f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(data, (list, tuple)):
        for i, v in enumerate(data):
            out |= flatten(v, f"{prefix}[{i}]")
    else:
        out[prefix] = data
    return out


def changes(before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """Each changed path with [before, after] (None where a path is new or gone)."""
    old, new = flatten(before or {}), flatten(after)
    return {
        k: [old.get(k), new.get(k)]
        for k in sorted(old.keys() | new.keys())
        if old.get(k) != new.get(k)
    }


def _force_code(force: str) -> str:
    code = reference.force_code_of(force)
    if code is None or not reference.force_by_code()[code].territorial:
        raise NotFound(f"{force!r} is not one of the 43 territorial forces")
    return code


#: how long the public site may go on with what release.switch said, at most (seconds)
SWITCH_RECHECK = 2.0
#: the file in the site's folder replaced each time the releases change (Workbench.switch)
SIGNAL = "releases.changed"


@dataclass(frozen=True)
class _Switch:
    """What release.switch said at ``asked`` (the workbench's clock)."""

    due: str | None
    next: datetime | None
    asked: datetime
    generation: int
    signal: tuple[int, int] | None
    fresh_until: float


class Workbench:
    """The workbench on one database (and, for publication, one site)."""

    def __init__(
        self, db: Database, *, clock: Clock = system_clock, site: Path | None = None
    ) -> None:
        self.db = db
        self.clock = clock
        self.site = site
        # what release.switch said last (switch), and a count of this process's changes
        self._switched: _Switch | None = None
        self._generation = 0
        self._changing = threading.Lock()

    # -- who is acting -----------------------------------------------------------------------

    def actor(self, username: str) -> Actor:
        """The actor named on the command line (``--as``): an active user."""
        with self.db.read() as conn:
            user = accounts.load_user(conn, username=username)
        if user is None or not user.active:
            raise NotFound(f"no active user {username!r}; see `peelkit users list`")
        return user.actor()

    # -- users -------------------------------------------------------------------------------

    def _manage(self, conn: Connection, by: Actor | None) -> str:
        if by is not None:
            authorize(by, "manage users")
            return by.username
        return OPERATOR

    def add_user(
        self,
        by: Actor | None,
        username: str,
        display_name: str,
        role: str,
        password: str,
        *,
        force: str | None = None,
        assigned: Iterable[str] = (),
    ) -> User:
        problems: dict[str, list[str]] = {}
        if not accounts.USERNAME.fullmatch(username):
            problems["username"] = [
                "a user name is 2 to 63 lower-case letters, digits, '.', '_' or '-'"
            ]
        if role not in ROLES:
            problems["role"] = ["a role is one of: " + ", ".join(ROLES)]
        if (p := accounts.password_problem(password)) is not None:
            problems["password"] = [p]
        if not display_name.strip():
            problems["display_name"] = ["write the person's name"]
        code = None
        if role == "force liaison":
            code = reference.force_code_of(force or "")
            if code is None:
                problems["force"] = ["a force liaison belongs to one of the 43 forces; name it"]
        elif force:
            problems["force"] = ["only a force liaison belongs to a force"]
        forces = []
        for f in assigned:
            c = reference.force_code_of(f)
            if c is None:
                problems.setdefault("assigned", []).append(f"{f!r} is not a force")
            else:
                forces.append(c)
        if forces and role != "inspector":
            problems.setdefault("assigned", []).append("only inspectors are assigned forces")
        if problems:
            raise InvalidInput(f"cannot add user {username!r}", problems=problems)
        hashed = accounts.hash_password(password)  # slow (argon2): before the transaction
        now = self.clock()
        with self.db.write() as conn:
            who = self._manage(conn, by)
            if accounts.load_user(conn, username=username) is not None:
                raise InvalidInput(
                    f"a user {username!r} exists already",
                    problems={"username": ["this name is taken; choose another"]},
                )
            new_id = conn.execute(
                users.insert().values(
                    username=username,
                    display_name=display_name.strip(),
                    role=role,
                    force=code,
                    password_hash=hashed,
                    active=True,
                    failed_sign_ins=0,
                    created_at=now,
                )
            ).inserted_primary_key[0]  # type: ignore[index]
            for c in sorted(set(forces)):
                conn.execute(assignments.insert().values(user_id=new_id, force=c))
            audit.append(
                conn,
                now,
                who,
                "user added",
                {
                    "username": username,
                    "role": role,
                    "force": code,
                    "assigned": sorted(set(forces)),
                },
            )
            user = accounts.load_user(conn, id=new_id)
        assert user is not None
        return user

    def list_users(self, by: Actor | None) -> list[User]:
        if by is not None:
            authorize(by, "manage users")
        with self.db.read() as conn:
            return accounts.all_users(conn)

    def _user(self, conn: Connection, username: str) -> User:
        user = accounts.load_user(conn, username=username)
        if user is None:
            raise NotFound(f"no user {username!r}; see `peelkit users list`")
        return user

    def disable_user(self, by: Actor | None, username: str) -> None:
        now = self.clock()
        with self.db.write() as conn:
            who = self._manage(conn, by)
            user = self._user(conn, username)
            conn.execute(update(users).where(users.c.id == user.id).values(active=False))
            ended = accounts.end_sessions(conn, user_id=user.id)
            audit.append(
                conn, now, who, "user disabled", {"username": username, "sessions ended": ended}
            )

    def enable_user(self, by: Actor | None, username: str) -> None:
        now = self.clock()
        with self.db.write() as conn:
            who = self._manage(conn, by)
            user = self._user(conn, username)
            conn.execute(
                update(users)
                .where(users.c.id == user.id)
                .values(active=True, failed_sign_ins=0, locked_until=None)
            )
            audit.append(conn, now, who, "user enabled", {"username": username})

    def reset_password(self, by: Actor | None, username: str, password: str) -> None:
        if (p := accounts.password_problem(password)) is not None:
            raise InvalidInput("cannot set that password", problems={"password": [p]})
        hashed = accounts.hash_password(password)
        now = self.clock()
        with self.db.write() as conn:
            who = self._manage(conn, by)
            user = self._user(conn, username)
            conn.execute(
                update(users)
                .where(users.c.id == user.id)
                .values(password_hash=hashed, failed_sign_ins=0, locked_until=None)
            )
            ended = accounts.end_sessions(conn, user_id=user.id)
            audit.append(
                conn, now, who, "password reset", {"username": username, "sessions ended": ended}
            )

    def assign(self, by: Actor | None, username: str, forces: Iterable[str]) -> None:
        codes = sorted({_force_code(f) for f in forces})
        now = self.clock()
        with self.db.write() as conn:
            who = self._manage(conn, by)
            user = self._user(conn, username)
            if user.role != "inspector":
                raise InvalidInput(
                    f"{username} is a {user.role}; only inspectors are assigned forces",
                    problems={"assigned": ["only inspectors are assigned forces"]},
                )
            conn.execute(assignments.delete().where(assignments.c.user_id == user.id))
            for c in codes:
                conn.execute(assignments.insert().values(user_id=user.id, force=c))
            audit.append(
                conn,
                now,
                who,
                "assignments changed",
                {"username": username, "before": list(user.assigned), "after": codes},
            )

    # -- signing in --------------------------------------------------------------------------

    def sign_in(
        self, username: str, password: str, address: str | None = None
    ) -> tuple[User, str, str]:
        """Check the name and password; a new session (user, token, CSRF secret) on success.
        Every attempt is audited with the client's ``address``; five failures in a row lock the
        account for a while, and many failures from one address (whatever the names tried)
        throttle that address."""
        now = self.clock()
        if address is not None and self._throttled(address, now):
            with self.db.write() as conn:
                audit.append(
                    conn,
                    now,
                    OPERATOR,
                    "sign-in refused",
                    {"username": username[:64], "why": "throttled", "address": address},
                )
            raise SignInRefused(
                "too many failed sign-ins from your address; wait 15 minutes and try again"
            )
        with self.db.read() as conn:
            user = accounts.load_user(conn, username=username)
            row = (
                conn.execute(select(users.c.password_hash).where(users.c.id == user.id)).first()
                if user
                else None
            )
        ok = accounts.verify_password(password, row.password_hash if row else None)  # slow
        refused = "wrong user name or password, or the account is locked or disabled"
        token = csrf = None
        # a refusal is recorded (failure count, lock-out, audit) and committed, then raised
        with self.db.write() as conn:
            user = accounts.load_user(conn, username=username)
            if user is None:
                audit.append(
                    conn,
                    now,
                    OPERATOR,
                    "sign-in refused",
                    {"username": username[:64], "why": "unknown user", "address": address},
                )
            elif not user.active:
                audit.append(
                    conn,
                    now,
                    user.username,
                    "sign-in refused",
                    {"why": "disabled", "address": address},
                )
            elif user.locked_until is not None and user.locked_until > now:
                audit.append(
                    conn,
                    now,
                    user.username,
                    "sign-in refused",
                    {"why": "locked out", "address": address},
                )
            elif not ok:
                failed = (
                    int(
                        conn.execute(
                            select(users.c.failed_sign_ins).where(users.c.id == user.id)
                        ).scalar_one()
                    )
                    + 1
                )
                locked = (
                    now + accounts.LOCK_FOR if failed >= accounts.FAILURES_BEFORE_LOCK else None
                )
                conn.execute(
                    update(users)
                    .where(users.c.id == user.id)
                    .values(failed_sign_ins=0 if locked else failed, locked_until=locked)
                )
                detail: dict[str, Any] = {
                    "why": "wrong password",
                    "failures": failed,
                    "address": address,
                }
                if locked:
                    detail["locked until"] = locked.isoformat()
                audit.append(conn, now, user.username, "sign-in refused", detail)
            else:
                conn.execute(
                    update(users)
                    .where(users.c.id == user.id)
                    .values(failed_sign_ins=0, locked_until=None)
                )
                token, csrf = accounts.new_session(conn, user.id, now)
                audit.append(conn, now, user.username, "signed in", {"address": address})
        if user is None or token is None or csrf is None:
            raise SignInRefused(refused)
        return user, token, csrf

    def _throttled(self, address: str, now: datetime) -> bool:
        """Whether ``address`` has had THROTTLE_AFTER refused sign-ins in the last
        accounts.LOCK_FOR (counted in the audit trail, which every worker shares)."""
        from peelkit.workbench.tables import audit as audit_table

        with self.db.read() as conn:
            recent = conn.execute(
                select(audit_table.c.detail).where(
                    and_(
                        audit_table.c.action == "sign-in refused",
                        audit_table.c.at >= now - accounts.LOCK_FOR,
                    )
                )
            ).scalars()
            count = sum(1 for d in recent if json.loads(d).get("address") == address)
        return count >= accounts.THROTTLE_AFTER

    def sign_out(self, token: str) -> None:
        now = self.clock()
        with self.db.write() as conn:
            found = accounts.find_session(conn, token, now)
            if accounts.end_sessions(conn, token=token) and found is not None:
                audit.append(conn, now, found.user.username, "signed out", {})

    def session(self, token: str) -> Session | None:
        with self.db.statement() as conn:
            return accounts.find_session(conn, token, self.clock())

    # -- judgments ---------------------------------------------------------------------------

    def _row(self, conn: Connection, force: str, cycle: int) -> Any:
        return conn.execute(
            select(workflow_table).where(
                and_(workflow_table.c.force == force, workflow_table.c.cycle == cycle)
            )
        ).first()

    def _status(self, conn: Connection, row: Any) -> Status:
        current = conn.execute(
            select(versions.c.number, users.c.username)
            .select_from(versions.outerjoin(users, users.c.id == versions.c.author_id))
            .where(versions.c.id == row.version_id)
        ).one()
        published = None
        if row.published_version_id is not None:
            published = conn.execute(
                select(versions.c.number).where(versions.c.id == row.published_version_id)
            ).scalar_one()
        return Status(
            row.force,
            row.cycle,
            row.state,
            row.lock,
            current.number,
            current.username,
            row.updated_at,
            published,
        )

    def _content(self, conn: Connection, version_id: int) -> dict[str, Any]:
        text_ = conn.execute(
            select(versions.c.content).where(versions.c.id == version_id)
        ).scalar_one()
        return dict(json.loads(text_))

    def _readable(self, conn: Connection, by: Actor, force: str, cycle: int) -> Any:
        """The workflow row of ``force`` × ``cycle`` if ``by`` may read it; else NotFound."""
        code = _force_code(force)
        return self._authorize_read(by, code, cycle, self._row(conn, code, cycle))

    @staticmethod
    def _authorize_read(by: Actor, code: str, cycle: int, row: Any) -> Any:
        """``row`` (the workflow row of ``code`` × ``cycle``, or None) if ``by`` may read it;
        else NotFound, the same whether it is missing or out of ``by``'s scope."""
        if row is None:
            if not allows(by, "read judgments", code):
                raise NotFound("no such force's judgments here")
            raise NotFound(f"no judgments for {code} in {cycle} yet; import or write them first")
        authorize(by, "read judgments", code, row.state)
        return row

    def status(self, by: Actor, cycle: int | None = None) -> list[Status]:
        """Where every force the actor may read stands (in ``cycle``, or every cycle)."""
        with self._settled() as conn:
            query = select(workflow_table).order_by(workflow_table.c.cycle, workflow_table.c.force)
            if cycle is not None:
                query = query.where(workflow_table.c.cycle == cycle)
            return [
                self._status(conn, row)
                for row in conn.execute(query).all()
                if allows(by, "read judgments", row.force, row.state)
            ]

    def contents(self, by: Actor, cycle: int) -> dict[str, tuple[Status, dict[str, Any]]]:
        """Every force's status and current content in ``cycle`` that ``by`` may read, in one
        read (the moderation view's 43 forces)."""
        out: dict[str, tuple[Status, dict[str, Any]]] = {}
        with self._settled() as conn:
            found = self._current(conn, workflow_table.c.cycle == cycle)
        for row, status, content in found:
            if allows(by, "read judgments", row.force, row.state):
                out[row.force] = (status, dict(json.loads(content)))
        return out

    def _current(
        self, conn: Connection, *where: Any, writing: bool = False
    ) -> list[tuple[Any, Status, str]]:
        """The workflow rows ``where`` says, each with its status and its current version's
        content (JSON), in one query. ``writing`` (under the write lock): each row also says
        whether any force is scheduled (``scheduled``: a release may be due, to settle
        first) and carries the audit trail's last entry (``audit.last_columns``)."""
        published = versions.alias("published")
        extra: list[Any] = []
        if writing:
            other = workflow_table.alias("any_force")  # any force, not this row's
            scheduled = select(other.c.force).where(other.c.state == "scheduled")
            extra = [scheduled.exists().label("scheduled"), *audit.last_columns()]
        rows = conn.execute(
            select(
                workflow_table,
                versions.c.content,
                versions.c.number.label("version_number"),
                users.c.username.label("author"),
                published.c.number.label("published_number"),
                *extra,
            )
            .select_from(
                workflow_table.join(versions, versions.c.id == workflow_table.c.version_id)
                .outerjoin(users, users.c.id == versions.c.author_id)
                .outerjoin(published, published.c.id == workflow_table.c.published_version_id)
            )
            .where(*where)
        ).all()
        return [
            (
                row,
                Status(
                    row.force,
                    row.cycle,
                    row.state,
                    row.lock,
                    row.version_number,
                    row.author,
                    row.updated_at,
                    row.published_number,
                ),
                row.content,
            )
            for row in rows
        ]

    def draft(self, by: Actor, force: str, cycle: int) -> Draft:
        with self._settled() as conn:
            # the row, its status and its content in one query (a page asks on every request)
            code = _force_code(force)
            current = self._current(
                conn, workflow_table.c.force == code, workflow_table.c.cycle == cycle
            )
            self._authorize_read(by, code, cycle, current[0][0] if current else None)
            row, status, text_ = current[0]
            found = conn.execute(
                select(
                    comments.c.kind,
                    comments.c.text,
                    comments.c.created_at,
                    users.c.username,
                    versions.c.number,
                )
                .select_from(
                    comments.outerjoin(users, users.c.id == comments.c.author_id).join(
                        versions, versions.c.id == comments.c.version_id
                    )
                )
                .where(and_(comments.c.force == row.force, comments.c.cycle == cycle))
                .order_by(comments.c.id)
            ).all()
            listed = conn.execute(
                select(versions.c.number, users.c.username, versions.c.created_at)
                .select_from(versions.outerjoin(users, users.c.id == versions.c.author_id))
                .where(and_(versions.c.force == row.force, versions.c.cycle == cycle))
                .order_by(versions.c.number)
            ).all()
            notices = conn.execute(
                select(corrections.c.created_at, corrections.c.notice)
                .where(and_(corrections.c.force == row.force, corrections.c.cycle == cycle))
                .order_by(corrections.c.id)
            ).all()
            return Draft(
                status,
                dict(json.loads(text_)),
                self._content(conn, row.published_version_id) if row.published_version_id else None,
                [Comment(c.username, c.kind, c.text, c.created_at, c.number) for c in found],
                [(v.number, v.username, v.created_at) for v in listed],
                [(n.created_at, n.notice) for n in notices],
            )

    def version(self, by: Actor, force: str, cycle: int, number: int) -> dict[str, Any]:
        with self.db.read() as conn:
            row = self._readable(conn, by, force, cycle)
            text_ = conn.execute(
                select(versions.c.content).where(
                    and_(
                        versions.c.force == row.force,
                        versions.c.cycle == cycle,
                        versions.c.number == number,
                    )
                )
            ).scalar()
            if text_ is None:
                raise NotFound(f"{row.force} has no version {number} in {cycle}")
            return dict(json.loads(text_))

    @staticmethod
    def check(data: Mapping[str, Any], name: str = "the judgments") -> Judgments:
        """Validate a judgments document exactly as ``peelkit judgments check`` does; the
        problems come back field by field (``InvalidInput.problems``)."""
        try:
            return parse_judgments(dict(data), name)
        except InvalidJudgments as exc:
            by_field: dict[str, list[str]] = {}
            for problem in exc.problems:
                key, _, message = problem.partition(": ")
                by_field.setdefault(key, []).append(message or problem)
            raise InvalidInput(str(exc), problems=by_field) from exc

    def save(
        self, by: Actor, data: Mapping[str, Any], *, lock: int | None, name: str = "the judgments"
    ) -> Status:
        """Save a new version of a force's judgments (``data`` as a TOML document holds
        them). ``lock`` is the lock of the version the editor read; a save against an older
        one is refused (``StaleVersion``) and nothing is written. ``lock`` None creates the
        force's judgments, which must not exist yet."""
        code = reference.force_code_of(str(data.get("force", "")))
        if code is not None and isinstance(data.get("cycle"), int):
            # who may edit is decided before anything is said about the content (one statement)
            with self.db.statement() as conn:
                found = self._row(conn, code, data["cycle"])
            authorize(by, "edit judgments", code, found.state if found else "draft")
        judgments = self.check(data, name)
        content = content_of(judgments)
        now = self.clock()
        with self.db.write() as conn:
            # the row, its status, its content and the audit trail's last entry in one query:
            # the write lock is held. A release due is settled first (as every write does)
            where = (
                workflow_table.c.force == judgments.force,
                workflow_table.c.cycle == judgments.cycle,
            )
            current = self._current(conn, *where, writing=True)
            if not current or current[0][0].scheduled:
                self._settle(conn, now)
                current = self._current(conn, *where, writing=True)
            row = current[0][0] if current else None
            state = row.state if row is not None else "draft"
            authorize(by, "edit judgments", judgments.force, state)
            if row is None:
                if lock is not None:
                    raise NotFound(f"no judgments for {judgments.force} in {judgments.cycle}")
                version_id = self._new_version(conn, judgments, content, by, now, 1)
                conn.execute(
                    workflow_table.insert().values(
                        force=judgments.force,
                        cycle=judgments.cycle,
                        state="draft",
                        version_id=version_id,
                        published_version_id=None,
                        lock=1,
                        updated_at=now,
                    )
                )
                audit.append(
                    conn,
                    now,
                    by.username,
                    "judgments created",
                    {"version": 1, "changes": changes(None, content)},
                    force=judgments.force,
                    cycle=judgments.cycle,
                )
            else:
                if lock is None or lock != row.lock:
                    raise StaleVersion(
                        f"{judgments.force}'s judgments have changed since they were read "
                        f"(read at lock {lock}, now {row.lock}); nothing was saved",
                        expected=lock or 0,
                        found=row.lock,
                    )
                if state not in workflow.EDITABLE:
                    raise InvalidStep(
                        f"{judgments.force}'s judgments are {state}: they can be edited only "
                        "in draft or when returned"
                    )
                _, status, text_ = current[0]
                before = dict(json.loads(text_))
                if before == content:
                    return status
                number = status.version + 1
                version_id = self._new_version(conn, judgments, content, by, now, number)
                self._move(conn, row, state, now, version_id=version_id)
                audit.append(
                    conn,
                    now,
                    by.username,
                    "judgments saved",
                    {"version": number, "changes": changes(before, content)},
                    force=judgments.force,
                    cycle=judgments.cycle,
                    last=audit.last_of(row),
                )
                # what _move and the new version wrote (not read again: the write lock is held)
                return dataclasses.replace(
                    status, lock=row.lock + 1, version=number, author=by.username, updated_at=now
                )
            return self._status(conn, self._row(conn, judgments.force, judgments.cycle))

    def _new_version(
        self,
        conn: Connection,
        j: Judgments,
        content: dict[str, Any],
        by: Actor | None,
        now: datetime,
        number: int,
    ) -> int:
        return int(
            conn.execute(
                versions.insert().values(
                    force=j.force,
                    cycle=j.cycle,
                    number=number,
                    content=json.dumps(content, ensure_ascii=False, sort_keys=True),
                    author_id=by.id if by else None,
                    created_at=now,
                )
            ).inserted_primary_key[0]  # type: ignore[index]
        )

    def _move(self, conn: Connection, row: Any, state: str, now: datetime, **values: Any) -> None:
        """Change the row, checking that nobody changed it in between (its lock)."""
        done = conn.execute(
            update(workflow_table)
            .where(
                and_(
                    workflow_table.c.force == row.force,
                    workflow_table.c.cycle == row.cycle,
                    workflow_table.c.lock == row.lock,
                )
            )
            .values(state=state, lock=row.lock + 1, updated_at=now, **values)
        ).rowcount
        if done != 1:  # cannot happen while writes are serialised; refuse rather than overwrite
            raise StaleVersion("the judgments changed during the save", expected=row.lock, found=-1)

    def import_toml(self, by: Actor, text_: str, name: str = "<import>") -> Status:
        """Import one judgments file (TOML) as a new version, or as new judgments."""
        import tomllib

        try:
            data = tomllib.loads(text_)
        except tomllib.TOMLDecodeError as exc:
            raise InvalidInput(
                f"{name} is not valid TOML: {exc}", problems={"file": [str(exc)]}
            ) from exc
        code = reference.force_code_of(str(data.get("force", "")))
        lock = None
        if code is not None and isinstance(data.get("cycle"), int):
            with self.db.read() as conn:
                row = self._row(conn, code, data["cycle"])
                lock = row.lock if row is not None else None
        return self.save(by, data, lock=lock, name=name)

    def import_judgments(self, by: Actor, judgments: Judgments) -> Status:
        with self.db.read() as conn:
            row = self._row(conn, judgments.force, judgments.cycle)
        return self.save(by, content_of(judgments), lock=row.lock if row else None)

    def export_toml(self, by: Actor, force: str, cycle: int, *, published: bool = False) -> str:
        """The judgments as the TOML file inspectors edit (``import`` reads it back the same)."""
        import tomli_w

        draft = self.draft(by, force, cycle)
        content = draft.published if published else draft.content
        if content is None:
            raise NotFound(f"{draft.status.force}'s judgments of {cycle} are not published yet")
        return tomli_w.dumps(content, multiline_strings=True)

    def step(
        self,
        by: Actor,
        force: str,
        cycle: int,
        action: str,
        *,
        lock: int,
        comment: str | None = None,
    ) -> Status:
        """Take a workflow step (submit, return, moderate, …) from the state read at ``lock``."""
        if action not in workflow.STEP_BY_ACTION or action in ("schedule", "unschedule"):
            raise InvalidStep(f"{action!r} is not a step here; schedule with `schedule`")
        rule = workflow.step(action)
        if rule.needs_comment and not (comment or "").strip():
            raise InvalidInput(
                f"{rule.wording}: say why", problems={"comment": ["write a comment"]}
            )
        now = self.clock()
        with self.db.write() as conn:
            self._settle(conn, now)
            row = self._readable(conn, by, force, cycle)
            authorize(by, action, row.force, row.state)
            if row.lock != lock:
                raise StaleVersion(
                    f"{row.force}'s judgments have changed since they were read; look again",
                    expected=lock,
                    found=row.lock,
                )
            if row.state not in rule.sources:
                raise InvalidStep(
                    f"{row.force}'s judgments are {row.state}; '{action}' is possible only "
                    f"from {', '.join(sorted(rule.sources))}"
                )
            values: dict[str, Any] = {}
            if action == "approve":
                author = conn.execute(
                    select(versions.c.author_id).where(versions.c.id == row.version_id)
                ).scalar()
                if author == by.id:
                    raise Forbidden(
                        "a lead inspector approves only a version someone else wrote; ask "
                        "another lead inspector"
                    )
            if action == "correct":
                judgments = self.check(self._content(conn, row.version_id))
                number = self._status(conn, row).version + 1
                values["version_id"] = self._new_version(
                    conn, judgments, self._content(conn, row.version_id), by, now, number
                )
                conn.execute(
                    corrections.insert().values(
                        force=row.force,
                        cycle=cycle,
                        version_id=values["version_id"],
                        notice=comment.strip() if comment else "",
                        author_id=by.id,
                        created_at=now,
                    )
                )
            if comment and comment.strip():
                conn.execute(
                    comments.insert().values(
                        force=row.force,
                        cycle=cycle,
                        version_id=values.get("version_id", row.version_id),
                        author_id=by.id,
                        kind=action,
                        text=comment.strip(),
                        created_at=now,
                    )
                )
            self._move(conn, row, rule.target, now, **values)
            audit.append(
                conn,
                now,
                by.username,
                action,
                {"state": [row.state, rule.target]}
                | ({"comment": comment.strip()} if comment else {}),
                force=row.force,
                cycle=cycle,
            )
            return self._status(conn, self._row(conn, row.force, cycle))

    def comment(self, by: Actor, force: str, cycle: int, text_: str) -> None:
        """A comment on the draft during the factual accuracy check (the force's liaison)."""
        if not text_.strip():
            raise InvalidInput("write a comment", problems={"comment": ["write a comment"]})
        now = self.clock()
        with self.db.write() as conn:
            row = self._readable(conn, by, force, cycle)
            authorize(by, "comment on factual accuracy", row.force, row.state)
            if row.state != "factual accuracy check":
                raise InvalidStep("comments are taken during the factual accuracy check")
            conn.execute(
                comments.insert().values(
                    force=row.force,
                    cycle=cycle,
                    version_id=row.version_id,
                    author_id=by.id,
                    kind="factual accuracy",
                    text=text_.strip(),
                    created_at=now,
                )
            )
            audit.append(
                conn,
                now,
                by.username,
                "factual accuracy comment",
                {"comment": text_.strip()},
                force=row.force,
                cycle=cycle,
            )

    # -- publication -------------------------------------------------------------------------

    def settle(self) -> None:
        """Mark as published what a release has made public by now (the public site switched
        at the release time by itself: this only brings the workflow states up to date)."""
        now = self.clock()
        with self.db.read() as conn:
            if not self._due_unsettled(conn, now):
                return
        with self.db.write() as conn:
            self._settle(conn, now)

    @contextmanager
    def _settled(self) -> Iterator[Connection]:
        """A read transaction in which every release due is settled (``settle``): the check
        is made in the same transaction as the reading, and only when a release is due and
        not yet settled is it settled first (a write) and the reading done afresh."""
        now = self.clock()
        with self.db.read() as conn:
            if not self._due_unsettled(conn, now):
                yield conn
                return
        with self.db.write() as conn:
            self._settle(conn, now)
        with self.db.read() as conn:
            yield conn

    def _due_unsettled(self, conn: Connection, now: datetime) -> list[tuple[int, dict[str, Any]]]:
        scheduled = {
            (r.force, r.cycle): r
            for r in conn.execute(
                select(workflow_table).where(workflow_table.c.state == "scheduled")
            )
        }
        if not scheduled:
            return []
        out = []
        for due in conn.execute(
            select(releases).where(and_(releases.c.at <= now, releases.c.cancelled_at.is_(None)))
        ):
            for item in json.loads(due.content):
                row = scheduled.get((item["force"], item["cycle"]))
                if row is not None and row.version_id == item["version_id"]:
                    out.append((due.id, item))
        return out

    def _settle(self, conn: Connection, now: datetime) -> None:
        for release_id, item in self._due_unsettled(conn, now):
            row = self._row(conn, item["force"], item["cycle"])
            self._move(conn, row, "published", now, published_version_id=row.version_id)
            audit.append(
                conn,
                now,
                SYSTEM,
                "published",
                {"release": release_id, "version_id": row.version_id},
                force=row.force,
                cycle=row.cycle,
            )

    def switch(self) -> tuple[str | None, datetime | None]:
        """What the public site serves now, and when that next changes (release.switch).

        The public site asks on every request, so the answer is kept while it cannot have
        changed: until the clock reaches the next release (exactly: the switch at a release's
        time is never late), and while no release was scheduled, cancelled or made by this
        process or (through the site's signal file, ``SIGNAL``) by another one. A change that
        came without the signal (a process killed between its commit and the signal, a
        restore) is seen within ``SWITCH_RECHECK`` seconds."""
        now = self.clock()
        signal = self._signal()
        kept = self._switched
        if (
            kept is not None
            and kept.generation == self._generation
            and kept.signal == signal
            and kept.asked <= now
            and (kept.next is None or now < kept.next)
            and time.monotonic() < kept.fresh_until
        ):
            return kept.due, kept.next
        generation = self._generation  # before the query: a change after it is seen next time
        with self.db.statement() as conn:
            due, next_ = release.switch(conn, now)
        self._switched = _Switch(
            due, next_, now, generation, signal, time.monotonic() + SWITCH_RECHECK
        )
        return due, next_

    def _signal(self) -> tuple[int, int] | None:
        if self.site is None:
            return None
        try:
            found = (self.site / SIGNAL).stat()
        except FileNotFoundError:
            return None
        return found.st_ino, found.st_mtime_ns

    def _releases_changed(self) -> None:
        """Say that the releases changed (after the commit): to this process's ``switch`` and,
        through the site's signal file (a new file each time), to every other process's."""
        with self._changing:
            self._generation += 1
        if self.site is not None and self.site.is_dir():
            fresh = self.site / f".{SIGNAL}.{os.getpid()}.{threading.get_ident()}"
            fresh.write_text(f"{time.time_ns()}\n", encoding="utf-8")
            os.replace(fresh, self.site / SIGNAL)

    def due_bundle(self) -> str | None:
        """The bundle a release makes public now (None: no release is due yet)."""
        with self.db.read() as conn:
            return release.due_bundle(conn, self.clock())

    def schedule(
        self,
        by: Actor,
        cycle: int,
        forces: Iterable[str] | None,
        at: datetime | None,
    ) -> int:
        """Schedule the approved judgments of ``forces`` (default: every approved force of
        ``cycle``) for publication at ``at`` (None: now). The bundle they will be published in
        is made first — records, grades, national overview, reports — and stored unpublished;
        then one transaction checks that nothing changed meanwhile, records the release and
        moves the forces to 'scheduled'. Returns the release's id."""
        authorize(by, "schedule")
        now = self.clock()
        when = aware(at) if at is not None else now
        if when < now:
            raise InvalidInput(
                "a publication time is in the future (or now)",
                problems={"at": ["choose a later time"]},
            )
        self.settle()
        with self.db.read() as conn:
            rows = conn.execute(select(workflow_table).where(workflow_table.c.cycle == cycle)).all()
            chosen = {_force_code(f) for f in forces} if forces is not None else None
            releasing = []
            for row in rows:
                if chosen is not None and row.force not in chosen:
                    continue
                if row.state != "approved":
                    if chosen is not None:
                        authorize(by, "schedule", row.force, row.state)
                        raise InvalidStep(
                            f"{row.force}'s judgments are {row.state}; only approved judgments "
                            "are scheduled"
                        )
                    continue
                authorize(by, "schedule", row.force, row.state)
                releasing.append(row)
            if chosen is not None and (missing := chosen - {r.force for r in rows}):
                for code in sorted(missing):
                    authorize(by, "schedule", code)
                raise NotFound(f"no judgments for {', '.join(sorted(missing))} in {cycle}")
            if not releasing:
                raise InvalidStep(f"no approved judgments to schedule in {cycle}")
            later = [p for p in release.pending(conn, now) if p.at > when]
            if later:
                raise InvalidStep(
                    f"release {later[-1].id} is scheduled later ({later[-1].at.isoformat()}); "
                    "schedule at or after it, or cancel it first"
                )
            included = self._included(conn, {r.force: r for r in releasing}, cycle)
            documents = [self._content(conn, v) for v in included.values()]
            notices = release.notices(conn, included)
            served = release.due_bundle(conn, now)
        bundle = ""
        folder = None
        if self.site is not None:
            folder = self.site / release.JUDGMENTS / f"{now:%Y%m%dT%H%M%S%f}-{secrets.token_hex(4)}"
            release.write_folder(folder, documents)
            try:
                bundle = release.prepare_bundle(
                    self.site, folder, notices, served, [r.force for r in releasing]
                )
            except BaseException:
                release.discard(self.site, "", folder)
                raise
        try:
            with self.db.write() as conn:
                self._settle(conn, now)
                content = []
                for row in releasing:
                    fresh = self._row(conn, row.force, cycle)
                    if fresh.lock != row.lock:
                        raise StaleVersion(
                            f"{row.force}'s judgments changed while the release was prepared; "
                            "schedule again",
                            expected=row.lock,
                            found=fresh.lock,
                        )
                    content.append(
                        {"force": row.force, "cycle": cycle, "version_id": row.version_id}
                    )
                if [p.id for p in release.pending(conn, now) if p.at > when]:
                    raise InvalidStep("a later release was scheduled meanwhile; schedule again")
                release_id = int(
                    conn.execute(
                        releases.insert().values(
                            bundle=bundle,
                            at=when,
                            content=json.dumps(content),
                            created_by=by.id,
                            created_at=now,
                        )
                    ).inserted_primary_key[0]  # type: ignore[index]
                )
                for row in releasing:
                    self._move(conn, row, "scheduled", now)
                    audit.append(
                        conn,
                        now,
                        by.username,
                        "schedule",
                        {
                            "state": ["approved", "scheduled"],
                            "release": release_id,
                            "at": when.isoformat(),
                        },
                        force=row.force,
                        cycle=cycle,
                    )
                audit.append(
                    conn,
                    now,
                    by.username,
                    "release scheduled",
                    {
                        "release": release_id,
                        "at": when.isoformat(),
                        "bundle": bundle,
                        "forces": [r.force for r in releasing],
                    },
                    cycle=cycle,
                )
                self._settle(conn, now)
        except BaseException:
            if self.site is not None and bundle:
                release.discard(self.site, bundle, folder)
            raise
        self._releases_changed()
        return release_id

    def released_judgments(self) -> Path | None:
        """The judgments folder of the bundle a release makes public now (None: no release
        yet): new data is published with the judgments already public, and nothing else."""
        if self.site is None:
            return None
        version = self.due_bundle()
        manifest = release.served_manifest(self.site, version) if version else None
        found = manifest.get("judgments") if manifest else None
        return Path(found) if found else None

    def release_data(self, by: Actor | None, bundle: str) -> int:
        """Release a bundle of new data now (``peelkit publish --database``): the site switches
        to it as to any release. Its judgments are those already public."""
        if by is not None:
            authorize(by, "publish data")
        now = self.clock()
        with self.db.write() as conn:
            self._settle(conn, now)
            later = release.pending(conn, now)
            if later:
                raise InvalidStep(
                    f"release {later[0].id} is scheduled for {later[0].at.isoformat()} and was "
                    "made from the data as it was; publish new data after it, or cancel it "
                    "and schedule it again"
                )
            release_id = int(
                conn.execute(
                    releases.insert().values(
                        bundle=bundle,
                        at=now,
                        content="[]",
                        created_by=by.id if by else None,
                        created_at=now,
                    )
                ).inserted_primary_key[0]  # type: ignore[index]
            )
            audit.append(
                conn,
                now,
                by.username if by else OPERATOR,
                "data published",
                {"release": release_id, "bundle": bundle},
            )
        self._releases_changed()
        return release_id

    def unschedule(self, by: Actor, release_id: int) -> None:
        """Cancel a release that is not due yet (the latest one pending): its forces go back to
        'approved' and its bundle is never served."""
        now = self.clock()
        with self.db.write() as conn:
            self._settle(conn, now)
            found = conn.execute(select(releases).where(releases.c.id == release_id)).first()
            if found is None:
                raise NotFound(f"no release {release_id}")
            items = json.loads(found.content)
            for item in items:
                row = self._row(conn, item["force"], item["cycle"])
                authorize(by, "unschedule", row.force, row.state)
            if found.cancelled_at is not None or found.at <= now:
                raise InvalidStep(f"release {release_id} is already cancelled or published")
            later = [p for p in release.pending(conn, now) if (p.at, p.id) > (found.at, found.id)]
            if later:
                raise InvalidStep(
                    f"release {later[-1].id} is scheduled after this one and includes it; "
                    "cancel that first"
                )
            conn.execute(
                update(releases).where(releases.c.id == release_id).values(cancelled_at=now)
            )
            for item in items:
                row = self._row(conn, item["force"], item["cycle"])
                self._move(conn, row, "approved", now)
                audit.append(
                    conn,
                    now,
                    by.username,
                    "unschedule",
                    {"state": ["scheduled", "approved"], "release": release_id},
                    force=row.force,
                    cycle=row.cycle,
                )
            audit.append(conn, now, by.username, "release cancelled", {"release": release_id})
        self._releases_changed()

    def _included(
        self, conn: Connection, releasing: dict[str, Any], cycle: int
    ) -> dict[tuple[str, int], int]:
        """The version of each force × cycle a new release publishes: the one released now,
        else one scheduled earlier, else the one published (forces never published: none)."""
        out: dict[tuple[str, int], int] = {}
        for row in conn.execute(select(workflow_table)):
            if (row.cycle == cycle and row.force in releasing) or row.state == "scheduled":
                out[(row.force, row.cycle)] = row.version_id
            elif row.published_version_id is not None:
                out[(row.force, row.cycle)] = row.published_version_id
        return out

    def releases(self, by: Actor) -> list[Any]:
        authorize(by, "view releases")
        with self.db.read() as conn:
            return list(conn.execute(select(releases).order_by(releases.c.at, releases.c.id)))

    def history(self, by: Actor, force: str, cycle: int) -> list[audit.Entry]:
        with self.db.read() as conn:
            row = self._readable(conn, by, force, cycle)
            authorize(by, "read audit", row.force, row.state)
            return list(audit.entries(conn, force=row.force, cycle=cycle))

    def verify_audit(self, by: Actor | None) -> audit.Verified:
        if by is not None:
            authorize(by, "verify audit")
        with self.db.read() as conn:
            return audit.verify(conn)
