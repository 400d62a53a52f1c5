"""What the warehouse holds, per force, period and source: present, partial or absent, and why;
the gaps grouped as a reader wants them; and the plausibility rules' findings.

The ``coverage`` view (warehouse.py) decides each force-period's status and reason; this module
reads it once and shapes it — filtered to a force or a source, counted per source, and each
gap told once for every force that shares it ("absent 2016/17 Q1–Q4: … — 41 forces: all but
…"). Interfaces (the command line, the site) present these values; they do not query.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from peelkit import reference
from peelkit.indicators.periods import consecutive, quarters_text

if TYPE_CHECKING:
    import duckdb

STATUSES = ("present", "partial", "absent")


@dataclass(frozen=True)
class CoverageRow:
    """One force-period of one source."""

    source: str
    force_code: str
    force_name: str
    period: str
    period_start: date
    period_kind: str  # month, quarter or year
    status: str  # one of STATUSES
    reason: str | None


@dataclass(frozen=True)
class SourceCount:
    """How many force-periods of a source are present, partial and absent."""

    source: str
    periods: int
    present: int
    partial: int
    absent: int


@dataclass(frozen=True)
class Gap:
    """Periods of a source that are not present, for the same reason, in one or more forces."""

    source: str
    status: str
    periods: str  # the periods as runs: '2016/17 Q1–Q4', '2016-01 to 2016-06'
    reason: str
    force_names: tuple[str, ...]

    @property
    def forces(self) -> str:
        return forces_text(list(self.force_names))


@dataclass(frozen=True)
class Finding:
    """One finding of the plausibility rules, with its force's name and its file(s)."""

    source: str
    rule: str
    force_name: str
    force_code: str | None
    period: str
    load_id: int
    path: str
    other_load_id: int | None
    other_path: str | None
    detail: str


@dataclass(frozen=True)
class Coverage:
    """The coverage of a warehouse, filtered to a force and/or a source when asked."""

    rows: list[CoverageRow]
    sources: list[str]  # every source the warehouse holds (before filtering)
    findings: list[Finding] | None  # None: a warehouse made before the plausibility rules

    def counts(self) -> list[SourceCount]:
        counted = []
        for name in sorted({r.source for r in self.rows}):
            mine = [r for r in self.rows if r.source == name]
            statuses = [sum(r.status == s for r in mine) for s in STATUSES]
            counted.append(SourceCount(name, len({r.period for r in mine}), *statuses))
        return counted

    def gaps(self) -> list[Gap]:
        """Each force's periods of a source with the same status and reason as runs, and the
        forces with the same runs and reason in one entry; sorted by source."""
        runs: dict[tuple[str, str, str, str, str], list[tuple[date, str]]] = {}
        for r in self.rows:
            if r.status != "present":
                key = (r.source, r.status, r.reason or "", r.period_kind, r.force_name)
                runs.setdefault(key, []).append((r.period_start, r.period))
        same: dict[tuple[str, str, str, str], list[str]] = {}
        for (src, status, reason, kind, force_name), got in runs.items():
            periods = period_runs(kind, [g[0] for g in got], [g[1] for g in got])
            same.setdefault((src, status, periods, reason), []).append(force_name)
        return [
            Gap(src, status, periods, reason, tuple(names))
            for (src, status, periods, reason), names in sorted(same.items())
        ]


def read_coverage(
    con: duckdb.DuckDBPyConnection, force_code: str | None = None, source: str | None = None
) -> Coverage:
    """The coverage view, read once, filtered to ``force_code`` and ``source`` when given
    (``source`` must be one the warehouse holds: see ``Coverage.sources``)."""
    rows = [
        CoverageRow(*r)
        for r in con.execute(
            "SELECT source, force_code, force_name, period, period_start, period_kind, status, "
            "reason FROM coverage ORDER BY source, force_name, period_start"
        ).fetchall()
    ]
    sources = sorted({r.source for r in rows})
    found = read_findings(con)
    keep = [
        r
        for r in rows
        if (not source or r.source == source) and (not force_code or r.force_code == force_code)
    ]
    if found is not None:
        found = [
            f
            for f in found
            if (not source or f.source == source) and (not force_code or f.force_code == force_code)
        ]
    return Coverage(keep, sources, found)


def read_findings(con: duckdb.DuckDBPyConnection) -> list[Finding] | None:
    """Every finding of the plausibility rules with its force's name and its file(s); None for
    a warehouse made before the rules (it has no findings table)."""
    exists = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'findings'"
    ).fetchone()
    if not exists or exists[0] == 0:
        return None
    return [
        Finding(*r)
        for r in con.execute(
            """
            SELECT f.source, f.rule, coalesce(fo.name, f.force_code), f.force_code, f.period,
                   f.load_id, l.path || coalesce('!' || l.member, ''), f.other_load_id,
                   o.path || coalesce('!' || o.member, ''), f.detail
            FROM findings AS f
            LEFT JOIN forces AS fo ON fo.code = f.force_code
            LEFT JOIN loads AS l ON l.load_id = f.load_id
            LEFT JOIN loads AS o ON o.load_id = f.other_load_id
            ORDER BY f.source, f.rule, 3, f.period_start, f.load_id, f.other_load_id, f.detail
            """
        ).fetchall()
    ]


def sources_not_loaded(sources: list[str]) -> list[tuple[str, str]]:
    """The indicators' sources of which nothing at all is loaded, each with what to load."""
    from peelkit.indicators.gaps import TO_LOAD

    absent = [s for s in TO_LOAD if s not in sources and not any(x.startswith(s) for x in sources)]
    if "data_returns" in absent and any(x.startswith("data_return:") for x in sources):
        absent.remove("data_returns")
    return [(name, TO_LOAD[name]) for name in absent]


def forces_text(names: list[str], territorial: list[str] | None = None) -> str:
    """Forces as a short phrase: the names, or 'N forces: all but …' when most are there
    (``territorial`` defaults to the 43 territorial forces)."""
    if territorial is None:
        territorial = [f.name for f in reference.territorial_forces()]
    if len(names) <= 4:
        return "; ".join(names)
    others = [t for t in territorial if t not in names]
    if len(names) + len(others) == len(territorial) and len(others) <= 4:
        return f"{len(names)} forces: all but " + "; ".join(others) if others else "all 43"
    return f"{len(names)} forces: " + "; ".join(names)


def period_runs(kind: str, starts: list[date], periods: list[str]) -> str:
    """Consecutive months, quarters or years shown as one run: '2016/17 Q1–Q4', '2016-01 to
    2016-06', 'mid-2012 to mid-2014'."""
    if kind == "quarter":
        return quarters_text(starts)
    step = {"month": 1, "year": 12}.get(kind)
    if step is None:
        return ", ".join(periods)
    name = dict(zip(starts, periods, strict=True))
    return ", ".join(
        name[r[0]] if len(r) == 1 else f"{name[r[0]]} to {name[r[-1]]}"
        for r in consecutive(starts, step)
    )
