"""A force's history as the audit trail records it: rows for the history page and the CSV."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from typing import TextIO

from peelkit.workbench.audit import Entry

COLUMNS = ("seq", "at", "actor", "action", "force", "cycle", "field", "before", "after", "hash")


def rows(entries: Iterable[Entry]) -> list[dict[str, str]]:
    """One row per changed field (before → after); one row for a step without fields."""
    out: list[dict[str, str]] = []
    for e in entries:
        base = {
            "seq": str(e.seq),
            "at": e.at.isoformat(timespec="seconds"),
            "actor": e.actor,
            "action": e.action,
            "force": e.force or "",
            "cycle": str(e.cycle or ""),
            "hash": e.hash,
        }
        changed = e.detail.get("changes")
        if isinstance(changed, dict) and changed:
            for field, (before, after) in changed.items():
                out.append(base | {"field": field, "before": _text(before), "after": _text(after)})
            continue
        other = {k: v for k, v in e.detail.items() if k != "state"}
        state = e.detail.get("state")
        out.append(
            base
            | {
                "field": "state" if state else "",
                "before": _text(state[0]) if state else "",
                "after": _text(state[1]) if state else _text(other) if other else "",
            }
        )
    return out


def _text(value: object) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def write_csv(entries: Iterable[Entry], out: TextIO) -> None:
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows(entries))
