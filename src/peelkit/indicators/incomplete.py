"""Inputs loaded incomplete: rows of a file rejected, or a damaged file loaded anyway.

A figure computed from a file whose rows were partly rejected is not "computed" as if the file
were whole: one Metropolitan Police row of a Home Office table made unreadable by an unquoted
comma takes that offence out of the Met's quarter, and its rate falls without a word. Each
rejected row is recorded with the force and period it belongs to where its file or its own
fields say so (``rejected_rows.force_code``, ``period_start``); one that says neither counts
against every force and period of its file. A file loaded with ``ingest --accept-damaged``
carries its damage (``loads.damage``). What the plausibility rules found in a load
(``findings``) travels with every figure of that force and period in its note, and changes
nothing else. The catalogue's rule (``[defaults] incomplete_inputs``)
decides what such a figure is: withheld, or shown with its caveat.

The ledger is read once per computation, from the warehouse itself (on any backend).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

    from peelkit.indicators.periods import Period


@dataclass(frozen=True)
class _Rejected:
    force_code: str | None
    period_start: date | None
    rows: int
    first_line: int | None
    reason: str


@dataclass(frozen=True)
class _Finding:
    force_code: str
    period_start: date | None
    rule: str
    detail: str


@dataclass(frozen=True)
class Incomplete:
    """Per load: its rejected rows (by force and period), its damage, and what the
    plausibility rules found in it (findings never change a figure; they travel with it)."""

    rejected: dict[int, tuple[_Rejected, ...]]
    damaged: dict[int, str]
    findings: dict[int, tuple[_Finding, ...]] = field(default_factory=dict)

    @classmethod
    def read(cls, con: duckdb.DuckDBPyConnection) -> Incomplete:
        rejected: dict[int, list[_Rejected]] = {}
        for load_id, force_code, period_start, rows, first_line, reason in con.execute(
            """
            SELECT load_id, force_code, period_start, count(DISTINCT line), min(line),
                   arg_min(reason, coalesce(line, 0))
            FROM rejected_rows GROUP BY ALL ORDER BY ALL
            """
        ).fetchall():
            rejected.setdefault(int(load_id), []).append(
                _Rejected(force_code, period_start, int(rows), first_line, str(reason))
            )
        damaged = dict(
            con.execute("SELECT load_id, damage FROM loads WHERE damage IS NOT NULL").fetchall()
        )
        findings: dict[int, list[_Finding]] = {}
        for load_id, force_code, period_start, rule, detail in con.execute(
            "SELECT load_id, force_code, period_start, rule, detail FROM findings ORDER BY ALL"
        ).fetchall():
            findings.setdefault(int(load_id), []).append(
                _Finding(force_code, period_start, rule, detail)
            )
        return cls(
            {k: tuple(v) for k, v in rejected.items()},
            damaged,
            {k: tuple(v) for k, v in findings.items()},
        )

    def found(
        self, load_ids: tuple[int, ...], force_code: str, windows: list[Period]
    ) -> str | None:
        """What the plausibility rules found in the loads of one force's figure, for this force
        and a period inside its windows, in words; None if nothing."""
        said = [
            f"{f.rule} in load {load_id}: {f.detail}"
            for load_id in load_ids
            for f in self.findings.get(load_id, ())
            if f.force_code == force_code
            and (f.period_start is None or any(_within(f.period_start, w) for w in windows))
        ]
        return ("plausibility findings: " + "; ".join(said)) if said else None

    def said(self, load_ids: tuple[int, ...], force_code: str, windows: list[Period]) -> str | None:
        """What is incomplete in the inputs of one force's figure, in words; None if nothing.

        A rejected row counts when it belongs to this force (or to no force it could be told
        from) and to a period inside one of the figure's windows (or to no period it could be
        told from)."""
        said: list[str] = []
        for load_id in load_ids:
            if load_id in self.damaged:
                said.append(f"load {load_id} is a damaged file ({self.damaged[load_id]})")
            mine = [
                r
                for r in self.rejected.get(load_id, ())
                if r.force_code in (None, force_code)
                and (r.period_start is None or any(_within(r.period_start, w) for w in windows))
            ]
            if mine:
                rows = sum(r.rows for r in mine)
                first = min(mine, key=lambda r: r.first_line or 0)
                where = f"line {first.first_line}: " if first.first_line is not None else ""
                said.append(
                    f"{rows} row{'s' if rows != 1 else ''} of load {load_id} rejected "
                    f"({where}{first.reason})"
                )
        return "; ".join(said) or None


def _within(day: date, window: Period) -> bool:
    if window.start is None:  # an 'as at' date
        return day == window.end
    return window.start <= day <= window.end
