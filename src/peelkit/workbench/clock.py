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
    (GMT or BST as the date has it), one with an offset is taken as it is. A time without an
    offset that the clocks skip (the hour lost in spring) or show twice (the hour repeated in
    autumn) means no one instant: it is refused (``InvalidInput``, problems under "at"), naming
    the times to type instead, with their offsets."""
    if when.tzinfo is not None:
        return when
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("Europe/London")
    first, second = when.replace(tzinfo=zone, fold=0), when.replace(tzinfo=zone, fold=1)
    if first.utcoffset() == second.utcoffset():
        return first
    from peelkit.errors import InvalidInput

    typed = when.isoformat(sep=" ", timespec="minutes" if not when.second else "seconds")
    if first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != when:
        # in the gap: read with the offset before the change or after it, an hour apart
        earlier = second.astimezone(UTC).astimezone(zone)
        later = first.astimezone(UTC).astimezone(zone)
        problem = (
            f"{typed} does not exist in UK time: the clocks go forward an hour that night "
            f"({earlier.tzname()} to {later.tzname()}). Type the time with its offset: "
            f"{_typed(earlier)} ({earlier:%H:%M} {earlier.tzname()}, before the change) or "
            f"{_typed(later)} ({later:%H:%M} {later.tzname()}, after it)"
        )
    else:
        problem = (
            f"{typed} happens twice in UK time: the clocks go back an hour that night "
            f"({first.tzname()} to {second.tzname()}). Type the time with its offset: "
            f"{_typed(first)} for the first ({first.tzname()}) or {_typed(second)} for the "
            f"second ({second.tzname()})"
        )
    raise InvalidInput(f"cannot take that publication time: {problem}", problems={"at": [problem]})


def _typed(when: datetime) -> str:
    """An aware time as it is typed back (``--at``): to the minute, with its offset."""
    return when.isoformat(timespec="minutes" if not when.second else "seconds")
