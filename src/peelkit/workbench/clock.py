"""The application clock: every time the workbench records or compares comes from here, so
tests control time (embargo, lock-out, scheduled publication) without waiting for it.

``PEELKIT_NOW`` (an ISO 8601 time with its offset) fixes the time for a process started by a
test, such as a server killed mid-save; nothing else should set it."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    fixed = os.environ.get("PEELKIT_NOW")
    if fixed:
        return aware(datetime.fromisoformat(fixed))
    return datetime.now(UTC)


def aware(when: datetime) -> datetime:
    """``when`` in UTC; a naive time is taken as UTC already (as the database stores it)."""
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def london(when: datetime) -> datetime:
    """``when`` as typed by a person in the UK: a time without an offset is Europe/London's
    (GMT or BST as the date has it), one with an offset is taken as it is."""
    if when.tzinfo is not None:
        return when
    from zoneinfo import ZoneInfo

    return when.replace(tzinfo=ZoneInfo("Europe/London"))
