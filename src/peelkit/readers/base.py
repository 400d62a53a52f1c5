"""What every reader declares, and the machinery that loads a declared CSV format into DuckDB.

A reader is data: the exact header, the DuckDB type of every column (ENUM types for controlled
vocabularies such as force names or offence codes, so an unknown value is caught while
reading), row checks written as SQL, and the INSERT that maps the file's columns to the
warehouse table. Type sniffing is never used.

Loading a batch of files of one format is one ``INSERT ... SELECT ... FROM read_csv(...)``:
DuckDB parses, types and validates in parallel, and its rejects table gives the file, line and
column of every value that does not parse. Rows that parse but fail a check are left out by the
INSERT's WHERE clause; when a file's line count shows that rows were left out, a slow path
re-reads that file alone to name the line and reason of each.
"""

from __future__ import annotations

import contextlib
import csv
import io
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Protocol

from peelkit import reference
from peelkit.errors import InputError
from peelkit.readers.files import Digest, SourceFile

if TYPE_CHECKING:
    import duckdb

    from peelkit.readers.ons_population import MidYearEstimates


@dataclass(frozen=True)
class Col:
    """One column of a source file, by its exact header name."""

    name: str
    type: str = "VARCHAR"
    expect: str = ""  # what a valid value looks like, in words, for reject reasons
    required: bool = False  # an empty value is rejected


@dataclass(frozen=True)
class Check:
    """A row rule: ``bad_when`` is SQL over the file's raw columns, true for a bad row."""

    column: str
    bad_when: str
    reason: str


@dataclass
class Part:
    """One CSV text that DuckDB reads for a load (a file, a zip member, or a spreadsheet sheet)."""

    duck_path: str
    line_offset: int = 0  # added to line numbers (a sheet whose header is not on its first row)
    data_rows: int | None = None  # number of data lines, when known without reading
    label: str = ""


@dataclass
class PlannedLoad:
    """A file accepted for loading, with the load id it will carry."""

    source: SourceFile
    checksum: Digest | Future[Digest]  # a Future while it is computed beside the load
    load_id: int
    fmt: Format
    force_code: str | None = None  # from the file name or --force, when the rows do not say
    month: date | None = None
    parts: list[Part] = field(default_factory=list)
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    damage: str | None = None  # where the file looks damaged, when loaded with --accept-damaged

    @property
    def digest(self) -> Digest:
        """The file's sha256 and line count, waiting for them when still being computed."""
        if isinstance(self.checksum, Future):
            self.checksum = self.checksum.result()
        return self.checksum


@dataclass(frozen=True)
class Reject:
    load_id: int
    line: int | None
    field: str | None
    reason: str
    raw: str | None
    force_code: str | None = None  # the force the row belongs to, when its fields say so
    period_start: date | None = None  # the period it belongs to, when its fields say so


class Loader(Protocol):
    """What ingest offers a format to load its files with, inside the load's transaction."""

    def load_csv(
        self, fmt: CsvFormat, plans: list[PlannedLoad], sheets: bool = False
    ) -> list[Reject]: ...

    def load_workforce(self, plans: list[PlannedLoad]) -> list[Reject]: ...

    def load_estimates(self, fmt: MidYearEstimates, plans: list[PlannedLoad]) -> list[Reject]: ...


class Format(ABC):
    """A source format: how to recognise a file of it and how to load it."""

    kind: str  # the loads.kind value
    title: str
    table: str
    #: Formats load in this order within one ingest (ONS estimates are summed to force areas
    #: through a lookup, so they load after the lookups of the same ingest).
    load_order: int = 0

    @abstractmethod
    def load(self, loader: Loader, plans: list[PlannedLoad]) -> list[Reject]:
        """Load the files ``plans`` of this format; the rows rejected."""

    def csv_reader(self) -> CsvFormat | None:
        """The CSV reader whose declared columns load this format's rows, if one does."""
        return None

    @abstractmethod
    def recognises(self, source: SourceFile, head: bytes) -> bool: ...

    @abstractmethod
    def expected(self) -> str:
        """What a file of this format starts with, for error messages."""

    def context(self, source: SourceFile) -> tuple[str | None, date | None]:
        """Force code and month the file covers, when its name says so."""
        return None, None

    def needs_context(self) -> bool:
        return False


def csv_fields(line: str) -> tuple[str, ...]:
    return tuple(next(csv.reader([line]), []))


def first_line(head: bytes) -> str:
    text = head.decode("utf-8-sig", errors="replace")
    return text.splitlines()[0] if text else ""


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class CsvFormat(Format):
    """A CSV source format declared by its exact header, column types and row checks."""

    def load(self, loader: Loader, plans: list[PlannedLoad]) -> list[Reject]:
        return loader.load_csv(self, plans)

    def csv_reader(self) -> CsvFormat | None:
        return self

    columns: tuple[Col, ...]
    checks: tuple[Check, ...] = ()
    dateformat: str | None = None
    force_columns: tuple[str, ...] = ()
    #: The column that gives each row's month, where the file covers one month (police.uk):
    #: a row of another month than the file's name and folder say makes the file damaged.
    month_column: str | None = None
    #: As published, every file ends with a line break (police.uk's exports do): a file
    #: without one was cut short, even when its last line happens to parse.
    ends_with_line_break: bool = False

    @property
    def header(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def reject_context(self, raw: str | None, load: PlannedLoad) -> tuple[str | None, date | None]:
        """The force and period start a rejected row belongs to, when the file (its name) or
        the row's own fields say so. A row of the wrong shape is read as far as it goes: an
        unquoted comma late in a row leaves its force and period fields in place."""
        force, period = load.force_code, load.month
        if raw is None or (force is not None and period is not None):
            return force, period
        fields = next(csv.reader(io.StringIO(raw, newline="")), [])
        named = {name: value.strip() for name, value in zip(self.header, fields, strict=False)}
        if force is None:
            for column in self.force_columns:
                code = reference.force_code_of(named.get(column, ""))
                if code is not None:
                    force = code
                    break
        return force, period if period is not None else self.period_of(named)

    def period_of(self, fields: Mapping[str, str]) -> date | None:
        """The start of the period a row's fields name, where the format has one per row."""
        return None

    def recognises(self, source: SourceFile, head: bytes) -> bool:
        return not head.startswith(b"PK") and csv_fields(first_line(head)) == self.header

    def expected(self) -> str:
        return ",".join(self.header)

    def all_checks(self) -> tuple[Check, ...]:
        required = tuple(
            Check(c.name, f"{quote_ident(c.name)} IS NULL", "a value is required here")
            for c in self.columns
            if c.required
        )
        return required + self.checks

    def ok_predicate(self) -> str:
        """SQL true for a row that passes every check.

        It also names every column, so that DuckDB reads and type-checks each one: when a
        query leaves a column unused, DuckDB prunes it from the scan and its rejects table then
        misses or misnames the bad values of the columns around it.
        """
        every_column = [
            f"({quote_ident(c.name)} IS NULL OR {quote_ident(c.name)} IS NOT NULL)"
            for c in self.columns
        ]
        checks = [f"NOT coalesce(({c.bad_when}), FALSE)" for c in self.all_checks()]
        return " AND ".join(checks + every_column)

    def read_csv_sql(
        self, paths: Sequence[str], rejects: str, named_types: Mapping[str, str] | None = None
    ) -> str:
        """``named_types`` maps a column type (e.g. a force-name ``ENUM(...)``) to the name of
        the same type created beforehand: DuckDB parses a type written out in full again for
        every file read, about 1 ms a file for the force-name ENUMs, but looks a name up."""
        named = named_types or {}
        columns = ", ".join(
            f"{sql_str(c.name)}: {sql_str(named.get(c.type, c.type))}" for c in self.columns
        )
        options = [
            "header = true",
            "auto_detect = false",
            "delim = ','",
            "quote = '\"'",
            "escape = '\"'",
            f"columns = {{{columns}}}",
            "filename = '__file'",
            "store_rejects = true",
            f"rejects_table = '{rejects}_errors'",
            f"rejects_scan = '{rejects}_scans'",
            "parallel = true",
        ]
        if self.dateformat:
            options.append(f"dateformat = {sql_str(self.dateformat)}")
        path_list = "[" + ", ".join(sql_str(p) for p in paths) + "]"
        return f"read_csv({path_list}, {', '.join(options)})"

    @abstractmethod
    def insert_sql(self, rows: str) -> str:
        """INSERT into the table from ``rows``: the file's columns plus load_id, ctx_force_code
        and ctx_month, already filtered to rows that pass every check."""

    def accepted_rows_sql(self) -> str:
        """Rows of the files accepted, per load in __scope (a table may merge repeated rows)."""
        return f"SELECT load_id, count(*) FROM {self.table} WHERE {IN_SCOPE} GROUP BY load_id"

    @abstractmethod
    def periods_sql(self) -> str:
        """load_periods rows for the loads in the temporary table __scope."""

    def cast_reason(self, column: str, value: str | None) -> str:
        col = next((c for c in self.columns if c.name == column), None)
        expect = (
            col.expect
            if col and col.expect
            else f"expected a value of type {col.type if col else '?'}"
        )
        if value == "":
            return f"{expect}; the field is empty"
        return f"{expect}; found {value!r}"

    # -- the slow path: exact lines of rows that failed a check ------------------------------
    def locate_failed_checks(
        self, con: duckdb.DuckDBPyConnection, load: PlannedLoad, read_part: Callable[[Part], bytes]
    ) -> tuple[int, list[Reject]]:
        """Re-read the load's text alone; return its number of records and the check failures."""
        import duckdb
        import pyarrow as pa

        header = self.header
        lines: list[int] = []
        raws: list[str] = []
        values: list[list[str | None]] = [[] for _ in header]
        records = 0
        for part in load.parts:
            text = read_part(part).decode("utf-8-sig", errors="replace")
            reader = csv.reader(io.StringIO(text, newline=""))
            previous_end = 0
            for index, row in enumerate(reader):
                start = previous_end + 1
                previous_end = reader.line_num
                if index == 0:
                    continue
                if not row:
                    continue  # DuckDB skips blank lines too
                records += 1
                if len(row) == len(header) + 1 and row[-1] == "":
                    row = row[:-1]  # DuckDB reads a trailing comma as the end of the row
                if len(row) != len(header):
                    continue  # DuckDB's rejects already name this line
                lines.append(start + part.line_offset)
                raws.append(",".join(row))
                for i, v in enumerate(row):
                    values[i].append(v if v != "" else None)  # as DuckDB reads an empty field
        rejects: list[Reject] = []
        if not lines or not self.all_checks():
            return records, rejects

        table = pa.table(
            {"__line": pa.array(lines, pa.int64()), "__raw": pa.array(raws, pa.string())}
            | {name: pa.array(values[i], pa.string()) for i, name in enumerate(header)}
        )
        con.register("__slow_rows", table)
        try:
            for check in self.all_checks():
                found = con.execute(
                    "SELECT __line, __raw FROM __slow_rows "
                    f"WHERE coalesce(({check.bad_when}), FALSE) "
                    "ORDER BY __line"
                ).fetchall()
                rejects.extend(
                    Reject(load.load_id, int(line), check.column, check.reason, str(raw))
                    for line, raw in found
                )
        except duckdb.Error as exc:
            raise InputError(
                f"{load.source.display}: a row check of the {self.title} reader failed while "
                f"naming the rejected lines ({str(exc).splitlines()[0]}); nothing was loaded. "
                "This is a peelkit bug; please report it with the file.",
                path=load.source.display,
            ) from exc
        finally:
            with contextlib.suppress(duckdb.Error):
                con.unregister("__slow_rows")
        return records, rejects


# Vocabularies shared by several readers --------------------------------------------------------


def force_name_enum() -> str:
    return reference.sql_enum(tuple(reference.force_aliases()))


def force_any_name_enum() -> str:
    """Any alias, code or police.uk id of a force (for peelkit's own tidy formats)."""
    names = list(reference.force_aliases())
    names += [f.code for f in reference.forces()] + [f.slug for f in reference.forces()]
    return reference.sql_enum(names)


def offence_code_enum() -> str:
    return reference.sql_enum(tuple(o.code for o in reference.offences()))


def outcome_type_enum() -> str:
    return reference.sql_enum(tuple(str(o.number) for o in reference.outcome_types()))


IN_SCOPE = "load_id IN (SELECT load_id FROM __scope)"

COUNT_PATTERN = r"\s*-?(\d+|\d{1,3}(,\d{3})+)\s*"


def count_check(column: str) -> Check:
    """Counts as the Home Office exports them: padded with spaces, '-00' for zero.

    Negative counts are real: a quarter's figure can be a net reduction after crimes recorded
    earlier were cancelled or reclassified, so they are kept as published.
    """
    col = quote_ident(column)
    return Check(
        column,
        f"{col} IS NOT NULL AND NOT regexp_full_match({col}, '{COUNT_PATTERN}')",
        "expected a whole number (spaces around it and '-00' for zero are accepted)",
    )


def count_value(column: str) -> str:
    """SQL turning a checked count into a BIGINT ('-00' is zero)."""
    return f"CAST(replace(trim({quote_ident(column)}), ',', '') AS BIGINT)"


FINANCIAL_YEAR_RE = re.compile(r"(\d{4})/(\d{2})")


def financial_year_check(column: str) -> Check:
    col = quote_ident(column)
    return Check(
        column,
        f"NOT regexp_full_match({col}, '\\d{{4}}/\\d{{2}}') OR "
        f"(TRY_CAST(left({col}, 4) AS INTEGER) + 1) % 100 <> TRY_CAST(right({col}, 2) AS INTEGER)",
        "expected a financial year such as 2016/17",
    )


def quarter_check(column: str) -> Check:
    return Check(
        column,
        f"NOT regexp_full_match({quote_ident(column)}, '\\s*[1-4]\\s*')",
        "expected a financial quarter 1, 2, 3 or 4 (1 = April to June)",
    )


def quarter_start_sql(year_col: str, quarter_col: str) -> str:
    return (
        f"CAST(make_date(CAST(left({quote_ident(year_col)}, 4) AS INTEGER), 4, 1) "
        f"+ INTERVAL (3 * (CAST(trim({quote_ident(quarter_col)}) AS INTEGER) - 1)) MONTH AS DATE)"
    )
