"""Plausibility rules: implausible data are flagged, never silently used and never changed.

``plausibility.toml`` declares the rules — a force-month far below the force's recent months,
duplicate records, rows of another force or another month than their file states, a Home
Office quarter whose total moved between releases — with their parameters and the text of
their findings. :func:`record_findings` runs every declared rule over the new loads of an
ingest, inside its transaction, as DuckDB SQL, and inserts what it finds into the ledger table
``findings``: which load, source, force and period, how many rows, and the finding in words.
Nothing else is written: the flagged rows stay loaded and are used as published, and the
findings travel with them (``peelkit coverage``, ``peelkit explain``).

The rules file is read and checked without pydantic, so that ``peelkit coverage``, which shows
the rules' titles, starts as quickly as before. Every placeholder of a finding pattern is
checked when the file is read: an unknown one is an error naming the file and the key.
"""

from __future__ import annotations

import string
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

from peelkit import reference
from peelkit.errors import ReferenceDataError
from peelkit.warehouse import insert_rows

if TYPE_CHECKING:
    import duckdb

RULES_FILE = "plausibility.toml"

FINDING_COLUMNS = (
    "load_id",
    "rule",
    "source",
    "force_code",
    "period",
    "period_start",
    "rows",
    "other_load_id",
    "detail",
)

#: The column of each source table that holds the first day of a row's period (as
#: ``load_periods.period_start``).
PERIOD_COLUMN = {
    "police_uk_street": "month",
    "police_uk_outcomes": "month",
    "police_uk_stop_search": "month",
    "recorded_crime": "quarter_start",
    "crime_outcomes": "quarter_start",
}
POLICE_UK = ("police_uk_street", "police_uk_outcomes", "police_uk_stop_search")

#: Placeholders every finding pattern may use, with a sample value of their type (the pattern
#: is formatted with the samples when read, so that a bad format spec is caught then too).
COMMON = {"rows": 1, "force": "a force", "period": "a period", "source": "a source", "file": "f"}


# -- the declared rules -------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """What every rule declares."""

    id: str
    title: str
    sources: tuple[str, ...]
    finding: str


@dataclass(frozen=True)
class LowMonth(Rule):
    share: float
    months: int
    min_months: int


@dataclass(frozen=True)
class Records:
    """How one source's records are identified for the duplicates rule."""

    record: tuple[str, ...]
    within_file: bool
    across_files: bool
    rows_column: str | None
    usual_copies_by: str | None
    usual_copies: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class Duplicates(Rule):
    finding_across: str
    records: tuple[tuple[str, Records], ...]

    def of(self, source: str) -> Records:
        return dict(self.records)[source]


@dataclass(frozen=True)
class OtherForce(Rule):
    row_force: str


@dataclass(frozen=True)
class OtherMonth(Rule):
    month_of: tuple[tuple[str, str], ...]
    time_zone: str


@dataclass(frozen=True)
class QuarterMove(Rule):
    share: float
    totals: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Rules:
    rules: tuple[Rule, ...] = ()

    def titles(self) -> dict[str, str]:
        return {r.id: r.title for r in self.rules}


class _Table:
    """One TOML table of the rules file; every complaint names the file, the rule and the key."""

    def __init__(self, data: object, where: str) -> None:
        if not isinstance(data, dict):
            raise ReferenceDataError(f"{where}: expected a table")
        self.data: dict[str, Any] = data
        self.where = where
        self.used: set[str] = set()

    def fail(self, key: str, problem: str) -> ReferenceDataError:
        return ReferenceDataError(f"{self.where} → {key}: {problem}")

    def get(self, key: str, kind: type | tuple[type, ...], what: str, default: Any = ...) -> Any:
        self.used.add(key)
        if key not in self.data:
            if default is ...:
                raise self.fail(key, f"missing; expected {what}")
            return default
        value = self.data[key]
        is_bool = isinstance(value, bool)  # TOML's true is an int to isinstance
        if not isinstance(value, kind) or (is_bool and kind is not bool):
            raise self.fail(key, f"expected {what}, found {value!r}")
        return value

    def text(self, key: str) -> str:
        value: str = self.get(key, str, "a text")
        if not value.strip():
            raise self.fail(key, "expected a text, found an empty one")
        return value

    def share(self, key: str) -> float:
        value = float(self.get(key, (int, float), "a share between 0 and 1"))
        if not 0 < value < 1:
            raise self.fail(key, f"expected a share between 0 and 1, found {value}")
        return value

    def count(self, key: str) -> int:
        value: int = self.get(key, int, "a whole number of 1 or more")
        if value < 1:
            raise self.fail(key, f"expected a whole number of 1 or more, found {value}")
        return value

    def names(self, key: str) -> tuple[str, ...]:
        value = self.get(key, list, "a list of names")
        if not value or not all(isinstance(v, str) and v for v in value):
            raise self.fail(key, f"expected a non-empty list of names, found {value!r}")
        return tuple(value)

    def mapping(self, key: str, sources: tuple[str, ...]) -> dict[str, Any]:
        """A table keyed by exactly the rule's sources."""
        value: dict[str, Any] = self.get(key, dict, "a table with one entry per source")
        if set(value) != set(sources):
            raise self.fail(
                key,
                f"expected one entry per source of the rule ({', '.join(sources)}), found "
                + (", ".join(value) or "none"),
            )
        return value

    def pattern(self, key: str, placeholders: Mapping[str, object]) -> str:
        pattern = self.text(key)
        known = {**COMMON, **placeholders}
        try:
            fields = [f for _, f, _, _ in string.Formatter().parse(pattern) if f is not None]
        except ValueError as exc:
            raise self.fail(key, f"{exc} (write {{{{ and }}}} for a brace)") from exc
        unknown = sorted(set(fields) - set(known))
        if unknown:
            raise self.fail(
                key,
                f"unknown placeholder(s) {', '.join('{' + u + '}' for u in unknown)}; "
                f"known: {', '.join(sorted(known))}",
            )
        try:
            pattern.format(**known)
        except (ValueError, TypeError) as exc:
            raise self.fail(key, f"{exc}") from exc
        return pattern

    def done(self) -> None:
        unknown = sorted(set(self.data) - self.used)
        if unknown:
            raise self.fail(unknown[0], "not a key of this rule")


def _low_month(t: _Table, head: dict[str, Any]) -> Rule:
    placeholders = {"median": 1.0, "share": 0.5, "threshold": 0.5, "months": 1, "first": "x"}
    rule = LowMonth(
        **head,
        finding=t.pattern("finding", placeholders | {"last": "x"}),
        share=t.share("share"),
        months=t.count("months"),
        min_months=t.count("min_months"),
    )
    if rule.min_months > rule.months:
        raise t.fail("min_months", f"is more than months ({rule.months})")
    return rule


def _duplicates(t: _Table, head: dict[str, Any]) -> Rule:
    within = {"records": 1, "most": 2, "example": "x", "columns": "x"}
    across = {"records": 1, "columns": "x", "other_load": 1, "other_file": "x"}
    records = []
    for source, entry in t.mapping("records", head["sources"]).items():
        r = _Table(entry, f"{t.where} → records.{source}")
        usual = r.get("usual_copies", dict, "a table of value = copies", {})
        if not all(
            isinstance(n, int) and not isinstance(n, bool) and n > 1 for n in usual.values()
        ):
            raise r.fail("usual_copies", f"expected whole numbers of 2 or more, found {usual!r}")
        records.append(
            (
                source,
                Records(
                    record=r.names("record"),
                    within_file=r.get("within_file", bool, "true or false"),
                    across_files=r.get("across_files", bool, "true or false"),
                    rows_column=r.get("rows_column", str, "a column name", None),
                    usual_copies_by=r.get("usual_copies_by", str, "a column name", None),
                    usual_copies=tuple(sorted(usual.items())),
                ),
            )
        )
        if usual and records[-1][1].usual_copies_by is None:
            raise r.fail("usual_copies_by", "missing: the column usual_copies is keyed by")
        r.done()
    return Duplicates(
        **head,
        finding=t.pattern("finding", within),
        finding_across=t.pattern("finding_across", across),
        records=tuple(records),
    )


def _other_force(t: _Table, head: dict[str, Any]) -> Rule:
    return OtherForce(
        **head,
        finding=t.pattern("finding", {"file_force": "x"}),
        row_force=t.text("row_force"),
    )


def _other_month(t: _Table, head: dict[str, Any]) -> Rule:
    month_of = t.mapping("month_of", head["sources"])
    for source, column in month_of.items():
        if not isinstance(column, str):
            raise t.fail(f"month_of.{source}", f"expected a column name, found {column!r}")
    return OtherMonth(
        **head,
        finding=t.pattern("finding", {"rows_month": "x", "file_month": "x"}),
        month_of=tuple(sorted(month_of.items())),
        time_zone=t.text("time_zone"),
    )


def _quarter_move(t: _Table, head: dict[str, Any]) -> Rule:
    totals = t.mapping("totals", head["sources"])
    for source, column in totals.items():
        if not isinstance(column, str):
            raise t.fail(f"totals.{source}", f"expected a column name, found {column!r}")
    placeholders = {"total": 1, "previous": 1, "change": 0.1, "threshold": 0.05}
    return QuarterMove(
        **head,
        finding=t.pattern("finding", placeholders | {"other_load": 1, "other_file": "x"}),
        share=t.share("share"),
        totals=tuple(sorted(totals.items())),
    )


#: Each rule id: the sources it can apply to, and how its table is read.
KINDS: dict[str, tuple[tuple[str, ...], Callable[[_Table, dict[str, Any]], Rule]]] = {
    "low-month": (POLICE_UK, _low_month),
    "duplicates": (tuple(PERIOD_COLUMN), _duplicates),
    "other-force": (("police_uk_street", "police_uk_outcomes"), _other_force),
    "other-month": (POLICE_UK, _other_month),
    "quarter-move": (("recorded_crime", "crime_outcomes"), _quarter_move),
}


def parse_rules(text: str, name: str = RULES_FILE) -> Rules:
    """Read and check a rules file; every error names the file, the rule and the key."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ReferenceDataError(f"{name} is not valid TOML: {exc}") from exc
    top = _Table(data, name)
    entries = top.get("rule", list, "a list of [[rule]] tables", [])
    top.done()
    rules: list[Rule] = []
    for n, entry in enumerate(entries, start=1):
        t = _Table(entry, f"{name}: rule #{n}")
        rule_id = t.text("id")
        if rule_id not in KINDS:
            raise t.fail("id", f"{rule_id!r} is not a rule peelkit runs ({', '.join(KINDS)})")
        if any(r.id == rule_id for r in rules):
            raise t.fail("id", f"{rule_id!r} is declared more than once")
        t.where = f"{name}: rule {rule_id}"
        applies_to, read = KINDS[rule_id]
        sources = t.names("sources")
        other = [s for s in sources if s not in applies_to]
        if other:
            raise t.fail(
                "sources",
                f"{', '.join(other)}: not a source this rule applies to ({', '.join(applies_to)})",
            )
        rules.append(read(t, {"id": rule_id, "title": t.text("title"), "sources": sources}))
        t.done()
    return Rules(tuple(rules))


@cache
def rules() -> Rules:
    """The rules packaged with peelkit (``src/peelkit/plausibility.toml``), read once."""
    text = resources.files("peelkit").joinpath(RULES_FILE).read_text("utf-8")
    return parse_rules(text)


# -- running them ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Found:
    """One query of a rule: each of its rows is a finding, put in words by ``pattern``."""

    rule: str
    pattern: str
    sql: str
    source: str | None = None  # the one source it reads, or None when it reads several


def record_findings(
    con: duckdb.DuckDBPyConnection, load_ids: Iterable[int], declared: Rules | None = None
) -> int:
    """Run every declared rule over the loads ``load_ids`` (just loaded, in the open
    transaction) and insert their findings into ``findings``; returns how many. Findings
    already recorded for these loads are replaced: running the rules again never doubles them
    (a month's low-month finding then counts the rows loaded since)."""
    ids = sorted({int(i) for i in load_ids})
    if not ids:
        return 0
    declared = rules() if declared is None else declared
    in_ids = ", ".join(str(i) for i in ids)
    columns = _table_columns(con)
    # only the rules of the sources these loads hold: each query costs ~10 ms even when it
    # finds nothing (a police.uk street ingest need not ask about Home Office quarters)
    loaded = {
        str(k)
        for (k,) in con.execute(
            f"SELECT DISTINCT kind FROM loads WHERE load_id IN ({in_ids})"
        ).fetchall()
    }
    queries: list[Found] = []
    for rule in declared.rules:  # every rule's queries are made, and its columns checked
        made = RUNNERS[rule.id](rule, in_ids, columns)
        queries += [
            q for q in made if (q.source in loaded if q.source else loaded & set(rule.sources))
        ]
    found: list[dict[str, Any]] = []
    for q in queries:
        cursor = con.execute(_labelled(q.sql))
        names = [d[0] for d in cursor.description or ()]
        found += [
            dict(zip(names, row, strict=True)) | {"rule": q.rule, "pattern": q.pattern}
            for row in cursor.fetchall()
        ]
    files = _file_names(con, {f["load_id"] for f in found} | {f["other_load_id"] for f in found})
    forces = reference.force_by_code()
    rows = []
    for f in found:
        force = forces.get(f["force_code"])
        values = f | {
            "force": force.name if force else f["force_code"],
            "file": files.get(f["load_id"], ""),
            "other_load": f["other_load_id"],
            "other_file": files.get(f["other_load_id"], ""),
        }
        rows.append((*(f[c] for c in FINDING_COLUMNS[:-1]), f["pattern"].format(**values)))
    order = {r.id: n for n, r in enumerate(declared.rules)}
    rows.sort(key=lambda r: (order[r[1]], r[2], r[3], r[5], r[0], r[7] or 0, r[8]))
    con.execute(f"DELETE FROM findings WHERE load_id IN ({in_ids})")
    insert_rows(con, "findings", FINDING_COLUMNS, rows)
    return len(rows)


def _labelled(sql: str) -> str:
    """A rule's findings with the period as ``load_periods`` names it ('2016-03',
    '2017/18 Q1')."""
    return f"""
    SELECT f.*, coalesce(p.period, strftime(f.period_start, '%Y-%m-%d')) AS period
    FROM ({sql}) AS f
    LEFT JOIN (SELECT DISTINCT source, force_code, period_start, period FROM load_periods) AS p
      USING (source, force_code, period_start)
    """


def _table_columns(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, str]]:
    columns: dict[str, dict[str, str]] = {}
    for table, column, data_type in con.execute(
        "SELECT table_name, column_name, data_type FROM duckdb_columns() "
        "WHERE schema_name = 'main' AND NOT internal"
    ).fetchall():
        columns.setdefault(table, {})[column] = data_type
    return columns


def _file_names(con: duckdb.DuckDBPyConnection, load_ids: set[int | None]) -> dict[int, str]:
    ids = sorted(i for i in load_ids if i is not None)
    if not ids:
        return {}
    rows = con.execute(
        "SELECT load_id, coalesce(member, path) FROM loads WHERE load_id IN "
        f"({', '.join(str(int(i)) for i in ids)})"
    ).fetchall()
    return {int(i): PurePath(name.replace("\\", "/")).name for i, name in rows}


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _checked(
    rule: Rule, key: str, table: str, names: Sequence[str], columns: dict[str, dict[str, str]]
) -> list[str]:
    """The declared column names, quoted; an error naming the file and key when one is not a
    column of the table."""
    have = columns.get(table, {})
    missing = [n for n in names if n not in have]
    if missing:
        raise ReferenceDataError(
            f"{RULES_FILE}: rule {rule.id} → {key}: {table} has no column "
            f"{', '.join(map(repr, missing))}; it has: {', '.join(have)}"
        )
    return [_ident(n) for n in names]


def _files_sql(in_ids: str) -> str:
    """The force and month each new load's file name states, in the police.uk archive layout
    (YYYY-MM-<force>-<kind>.csv, as the readers read it): NULL when the name does not."""
    from peelkit.readers.police_uk import ARCHIVE_NAME  # the readers are heavy for `coverage`

    return f"""
    SELECT load_id, fo.code AS file_force, fo.name AS file_force_name,
           CASE WHEN TRY_CAST(p.month AS INTEGER) BETWEEN 1 AND 12
                THEN make_date(CAST(p.year AS INTEGER), CAST(p.month AS INTEGER), 1)
           END AS file_month
    FROM (
        SELECT load_id,
               regexp_extract(regexp_replace(coalesce(member, path), '^.*[/\\\\]', ''),
                              {_sql_text(ARCHIVE_NAME.pattern)},
                              ['year', 'month', 'slug', 'kind']) AS p
        FROM loads WHERE load_id IN ({in_ids})
    )
    LEFT JOIN forces AS fo ON fo.slug = p.slug
    """


def _low_month_sql(rule: Rule, in_ids: str, columns: dict[str, dict[str, str]]) -> list[Found]:
    assert isinstance(rule, LowMonth)
    sources = ", ".join(map(_sql_text, rule.sources))
    sql = f"""
    WITH months AS (
        SELECT source, force_code, period, period_start, sum(rows) AS rows
        FROM load_periods
        WHERE source IN ({sources}) AND period_kind = 'month'
        GROUP BY ALL
    ),
    judged AS (
        SELECT *,
               median(rows) OVER history AS median,
               count(*) OVER history AS months,
               min(period) OVER history AS first,
               max(period) OVER history AS last
        FROM months
        WINDOW history AS (PARTITION BY source, force_code ORDER BY period_start
                           ROWS BETWEEN {rule.months} PRECEDING AND 1 PRECEDING)
    ),
    new AS (  -- the month's new load holding most of its rows
        SELECT load_id, source, force_code, period_start
        FROM load_periods WHERE load_id IN ({in_ids})
        QUALIFY row_number() OVER (PARTITION BY source, force_code, period_start
                                   ORDER BY rows DESC, load_id) = 1
    ),
    flagged AS (  -- a month already found low is not found low again
        SELECT DISTINCT source, force_code, period_start FROM findings
        WHERE rule = {_sql_text(rule.id)} AND load_id NOT IN ({in_ids})
    )
    SELECT new.load_id, source, force_code, period_start, CAST(j.rows AS BIGINT) AS rows,
           CAST(NULL AS INTEGER) AS other_load_id, j.median, j.rows / j.median AS share,
           {rule.share} AS threshold, j.months, j.first, j.last
    FROM judged AS j JOIN new USING (source, force_code, period_start)
    ANTI JOIN flagged USING (source, force_code, period_start)
    WHERE j.months >= {rule.min_months} AND j.rows < {rule.share} * j.median
    """
    return [Found(rule.id, rule.finding, sql)]


def _duplicates_sql(rule: Rule, in_ids: str, columns: dict[str, dict[str, str]]) -> list[Found]:
    assert isinstance(rule, Duplicates)
    out = []
    for source in rule.sources:
        r = rule.of(source)
        period = _ident(PERIOD_COLUMN[source])
        key = f"records.{source}"
        cols = _checked(rule, f"{key}.record", source, r.record, columns)
        counted = (
            f"sum({_checked(rule, f'{key}.rows_column', source, [r.rows_column], columns)[0]})"
            if r.rows_column
            else "count(*)"
        )
        usual = "1"
        if r.usual_copies_by:
            by = _checked(rule, f"{key}.usual_copies_by", source, [r.usual_copies_by], columns)
            cases = " ".join(f"WHEN {_sql_text(v)} THEN {n}" for v, n in r.usual_copies)
            usual = f"CASE CAST({by[0]} AS VARCHAR) {cases} ELSE 1 END" if cases else "1"
        key_list = ", ".join(cols)
        present = " AND ".join(f"{c} IS NOT NULL" for c in cols)
        names = _sql_text(", ".join(r.record))
        # Grouping a million 64-character Crime IDs is the dearest check of an ingest: the
        # loads with any repeated record are found first on a 64-bit hash of it (a collision
        # only means the exact grouping below runs for that load, and finds nothing).
        suspects = f"""
            SELECT DISTINCT load_id FROM (
                SELECT load_id, hash({key_list}) AS h
                FROM {source}
                WHERE load_id IN ({in_ids}) AND {present}
                GROUP BY ALL
                HAVING {counted} > 1
            )
        """
        grouped = f"""
            SELECT load_id, force_code, {period} AS period_start, {key_list},
                   {counted} AS n, {usual} AS usual
            FROM {source}
            WHERE load_id IN ({suspects}) AND {present}
            GROUP BY ALL
        """
        if r.within_file:
            example = "concat_ws(' / ', " + ", ".join(f"CAST({c} AS VARCHAR)" for c in cols) + ")"
            sql = f"""
            SELECT load_id, {_sql_text(source)} AS source, force_code, period_start,
                   CAST(sum(n - usual) AS BIGINT) AS rows, CAST(NULL AS INTEGER) AS other_load_id,
                   count(*) AS records, max(n) AS most,
                   first({example} ORDER BY n DESC, {example}) AS example, {names} AS columns
            FROM ({grouped}) WHERE n > usual
            GROUP BY load_id, force_code, period_start
            """
            out.append(Found(rule.id, rule.finding, sql, source))
        if r.across_files:
            on = " AND ".join(f"e.{c} = m.{c}" for c in cols)
            of_t = ", ".join(f"t.{c}" for c in cols)
            present_in_t = " AND ".join(f"t.{c} IS NOT NULL" for c in cols)
            sql = f"""
            WITH shared AS (  -- force-periods held by more than one load, one of them new
                SELECT force_code, period_start FROM load_periods
                WHERE source = {_sql_text(source)}
                GROUP BY ALL
                HAVING count(DISTINCT load_id) > 1 AND bool_or(load_id IN ({in_ids}))
            ),
            records AS (
                SELECT t.load_id, t.force_code, t.{period} AS period_start, {of_t}
                FROM {source} AS t
                JOIN shared AS s ON s.force_code = t.force_code AND s.period_start = t.{period}
                WHERE {present_in_t}
            ),
            mine AS (
                SELECT *, count(*) AS n FROM records WHERE load_id IN ({in_ids}) GROUP BY ALL
            ),
            earlier AS (SELECT DISTINCT * FROM records)
            SELECT m.load_id, {_sql_text(source)} AS source, m.force_code, m.period_start,
                   CAST(sum(m.n) AS BIGINT) AS rows, e.load_id AS other_load_id,
                   count(*) AS records, {names} AS columns
            FROM mine AS m
            JOIN earlier AS e
              ON e.load_id < m.load_id AND e.force_code = m.force_code
                 AND e.period_start = m.period_start AND {on}
            GROUP BY m.load_id, m.force_code, m.period_start, e.load_id
            """
            out.append(Found(rule.id, rule.finding_across, sql, source))
    return out


def _other_force_sql(rule: Rule, in_ids: str, columns: dict[str, dict[str, str]]) -> list[Found]:
    assert isinstance(rule, OtherForce)
    out = []
    for source in rule.sources:
        [row_force] = _checked(rule, "row_force", source, [rule.row_force], columns)
        period = _ident(PERIOD_COLUMN[source])
        sql = f"""
        SELECT t.load_id, {_sql_text(source)} AS source, t.{row_force} AS force_code,
               t.{period} AS period_start, count(*) AS rows,
               CAST(NULL AS INTEGER) AS other_load_id, any_value(f.file_force_name) AS file_force
        FROM {source} AS t JOIN ({_files_sql(in_ids)}) AS f USING (load_id)
        WHERE t.load_id IN ({in_ids}) AND f.file_force IS NOT NULL
          AND t.{row_force} <> f.file_force
        GROUP BY t.load_id, t.{row_force}, t.{period}
        """
        out.append(Found(rule.id, rule.finding, sql, source))
    return out


def _other_month_sql(rule: Rule, in_ids: str, columns: dict[str, dict[str, str]]) -> list[Found]:
    assert isinstance(rule, OtherMonth)
    out = []
    for source, column in rule.month_of:
        [dated] = _checked(rule, f"month_of.{source}", source, [column], columns)
        kind = columns[source][column]
        if kind == "TIMESTAMP WITH TIME ZONE":
            dated = f"timezone({_sql_text(rule.time_zone)}, t.{dated})"
        elif kind in ("DATE", "TIMESTAMP"):
            dated = f"t.{dated}"
        else:
            raise ReferenceDataError(
                f"{RULES_FILE}: rule {rule.id} → month_of.{source}: {column} is {kind}, not a "
                "date or a timestamp"
            )
        month = f"CAST(date_trunc('month', {dated}) AS DATE)"
        period = _ident(PERIOD_COLUMN[source])
        sql = f"""
        SELECT t.load_id, {_sql_text(source)} AS source, t.force_code,
               t.{period} AS period_start, count(*) AS rows,
               CAST(NULL AS INTEGER) AS other_load_id,
               strftime({month}, '%Y-%m') AS rows_month,
               strftime(any_value(f.file_month), '%Y-%m') AS file_month
        FROM {source} AS t JOIN ({_files_sql(in_ids)}) AS f USING (load_id)
        WHERE t.load_id IN ({in_ids}) AND f.file_month IS NOT NULL AND {month} <> f.file_month
        GROUP BY t.load_id, t.force_code, t.{period}, {month}
        """
        out.append(Found(rule.id, rule.finding, sql, source))
    return out


def _quarter_move_sql(rule: Rule, in_ids: str, columns: dict[str, dict[str, str]]) -> list[Found]:
    assert isinstance(rule, QuarterMove)
    out = []
    for source, column in rule.totals:
        [total] = _checked(rule, f"totals.{source}", source, [column], columns)
        sql = f"""
        WITH touched AS (
            SELECT DISTINCT force_code, quarter_start FROM {source} WHERE load_id IN ({in_ids})
        ),
        totals AS (
            SELECT load_id, force_code, quarter_start, sum({total}) AS total,
                   sum(source_rows) AS rows
            FROM {source} JOIN touched USING (force_code, quarter_start)
            GROUP BY ALL
        ),
        moves AS (
            SELECT *, lag(total) OVER release AS previous, lag(load_id) OVER release AS other
            FROM totals
            WINDOW release AS (PARTITION BY force_code, quarter_start ORDER BY load_id)
        )
        SELECT load_id, {_sql_text(source)} AS source, force_code, quarter_start AS period_start,
               CAST(rows AS BIGINT) AS rows, other AS other_load_id, total, previous,
               CASE WHEN previous <> 0 THEN (total - previous) / abs(previous)
                    ELSE CAST('infinity' AS DOUBLE) END AS change,
               {rule.share} AS threshold
        FROM moves
        WHERE load_id IN ({in_ids}) AND other IS NOT NULL
          AND CASE WHEN previous = 0 THEN total <> 0
                   ELSE abs(total - previous) > {rule.share} * abs(previous) END
        """
        out.append(Found(rule.id, rule.finding, sql, source))
    return out


RUNNERS: dict[str, Callable[[Rule, str, dict[str, dict[str, str]]], list[Found]]] = {
    "low-month": _low_month_sql,
    "duplicates": _duplicates_sql,
    "other-force": _other_force_sql,
    "other-month": _other_month_sql,
    "quarter-move": _quarter_move_sql,
}
