"""The workbench's schema (SQLAlchemy Core). Alembic's migrations in ``migrations/versions``
build exactly this; a test compares a migrated database with it on SQLite and PostgreSQL.

Times are stored in UTC (``UTCDateTime``) and shown in Europe/London. Content is JSON text:
a judgments version holds the same document as its TOML file."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator

from peelkit.workbench.clock import aware

metadata = MetaData(
    naming_convention={
        "pk": "pk_%(table_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ix": "ix_%(table_name)s_%(column_0_name)s",
    }
)


class UTCDateTime(TypeDecorator[datetime]):
    """A UTC time, stored without an offset (SQLite has none) and read back aware."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        return None if value is None else aware(value).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        return None if value is None else aware(value)


users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("display_name", String(200), nullable=False),
    Column("role", String(32), nullable=False),
    # a force liaison's one force (a force code); NULL for every other role
    Column("force", String(16), nullable=True),
    Column("password_hash", String(255), nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("failed_sign_ins", Integer, nullable=False, default=0),
    Column("locked_until", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
)

# The forces an inspector is assigned to (their drafts are the ones they may edit).
assignments = Table(
    "assignments",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id"), primary_key=True),
    Column("force", String(16), primary_key=True),
)

# Server-side sessions: the cookie holds a random token, the table its sha256, so a session
# ends for real at sign-out (the row goes) and a stolen table gives no usable cookie.
sessions = Table(
    "sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("csrf_secret", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
)

# Every version of every force's judgments; a version is never changed once written.
versions = Table(
    "judgment_versions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("force", String(16), nullable=False),
    Column("cycle", Integer, nullable=False),
    Column("number", Integer, nullable=False),
    Column("content", Text, nullable=False),
    Column("author_id", Integer, ForeignKey("users.id"), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("force", "cycle", "number"),
)

# Where each force × cycle stands: its state, the version being worked on, the version the
# public sees, and ``lock``, which every change increments (optimistic locking: a save names
# the lock it read, and a save against an older one is refused).
workflow = Table(
    "workflow",
    metadata,
    Column("force", String(16), primary_key=True),
    Column("cycle", Integer, primary_key=True),
    Column("state", String(32), nullable=False),
    Column("version_id", Integer, ForeignKey("judgment_versions.id"), nullable=False),
    Column("published_version_id", Integer, ForeignKey("judgment_versions.id"), nullable=True),
    Column("lock", Integer, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

comments = Table(
    "comments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("force", String(16), nullable=False),
    Column("cycle", Integer, nullable=False),
    Column("version_id", Integer, ForeignKey("judgment_versions.id"), nullable=False),
    Column("author_id", Integer, ForeignKey("users.id"), nullable=True),
    # return (the lead inspector's reasons), factual accuracy (the force's liaison), note
    Column("kind", String(32), nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

# The audit trail: append-only (triggers refuse UPDATE and DELETE) and hash-chained — each
# entry's hash covers its content and the previous entry's hash, and ``prev_hash`` is unique,
# so the chain can neither be edited unseen nor fork.
audit = Table(
    "audit",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(64), nullable=False),
    Column("action", String(64), nullable=False),
    Column("force", String(16), nullable=True),
    Column("cycle", Integer, nullable=True),
    Column("detail", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False, unique=True),
    Column("hash", String(64), nullable=False, unique=True),
)

# Schema version 2: releases and corrections.

# A release switches the public site to a bundle at a time: the bundle is written and its
# reports rendered when the release is scheduled, and served from ``at`` on. The public site
# serves the latest release due that was not cancelled — the one switch between unpublished
# and public.
releases = Table(
    "releases",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("bundle", String(200), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    # what it releases: [{"force", "cycle", "version_id"}] as JSON
    Column("content", Text, nullable=False),
    Column("created_by", Integer, ForeignKey("users.id"), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("cancelled_at", UTCDateTime, nullable=True),
)

# After publication a change is a correction: a new version, published with a public notice.
corrections = Table(
    "corrections",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("force", String(16), nullable=False),
    Column("cycle", Integer, nullable=False),
    Column("version_id", Integer, ForeignKey("judgment_versions.id"), nullable=False),
    Column("notice", Text, nullable=False),
    Column("author_id", Integer, ForeignKey("users.id"), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
)
