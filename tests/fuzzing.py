"""Fuzzing every reader: real files, mutated, thrown at ``ingest``.

For each fuzz target (one per reader; the nine yearly lookup headers are one reader, and so are
the two population CSVs) this module keeps a few small *seeds* — real files from
``../shared/data/real`` cut to their first lines, or, where no real file exists, files written
in the official layout — and Hypothesis strategies that damage them the way files get damaged:

- bytes: flipped, inserted, deleted; a NUL, a quote, a comma or a line end dropped anywhere; the
  file cut short at any offset (mid-line, mid-quoted-field); lines duplicated, dropped or
  swapped; line ends turned to LF, CRLF or CR; the text re-encoded as UTF-16 or Latin-1; a BOM
  added or doubled; the header's case, spacing or column order changed;
- fields: one field of one row replaced by an edge value (empty, very long, a number for text,
  a date in the wrong format, an unknown force, a negative count, a line break), dropped, or
  one added;
- spreadsheets (ods, xlsx, xls): the XML inside the zip mutated (text, attribute values,
  elements dropped or repeated) and re-zipped, or the container's own bytes damaged;
- placement: a CSV as a plain file or as a member of a monthly archive zip, in the police.uk
  layout ``YYYY-MM/YYYY-MM-<force>-<kind>.csv`` so the file's force and month can be read.

The invariant (``run_case``): ``ingest`` into a copy of a template warehouse either returns with
every file accounted for row by row (rows read = loaded + rejected, in the report and the
``loads`` ledger, one ``rejected_rows`` line per rejected row), or raises a ``PeelkitError``
with a message that is not a "peelkit bug", leaving the warehouse exactly as it was. Anything
else — another exception, a warning (an unclosed file), a ledger that does not add up, a
process that dies or hangs — is a finding.

``python -m tests.fuzzing`` (``scripts/fuzz``) is the dedicated, bounded job; tests/test_fuzz.py
runs a small sample of the same strategies in the normal suite and replays every saved finding
in tests/fuzz_cases/.
"""

from __future__ import annotations

import argparse
import csv
import gc
import hashlib
import io
import json
import os
import re
import shutil
import sys
import tempfile
import time
import traceback
import warnings
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
from hypothesis import strategies as st

from peelkit.errors import PeelkitError

REPO = Path(__file__).resolve().parents[1]
CASES_DIR = REPO / "tests" / "fuzz_cases"

CITY = "police-uk-city-of-london"
STOPS = "police-uk-stop-and-search"
PRC = "home-office-prc/prc-pfa-mar2013-onwards-tables201718.csv"
LOOKUP = (
    "ons-geography/Local_Authority_District_to_Community_Safety_Partnerships_to_Police_Force_"
    "Areas__December_2016__Lookup_in_England_and_Wales.csv"
)
WORKFORCE = (
    "home-office-workforce/police-workforce-tables-sep16.ods",
    "home-office-workforce/police-workforce-tabs-30sep15.ods",
)
#: Districts of the real lookup loaded into the template (the estimates' seeds cover exactly
#: these, so that a mutated estimates file can still be summed through a loaded lookup).
TEMPLATE_DISTRICTS = 10

#: A fixed time stamp for every zip member written here: the same case, the same bytes.
ZIP_TIME = (2016, 1, 1, 0, 0, 0)


# -- seeds -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Seed:
    name: str  # the file name it is given (police.uk archive layout where the reader reads it)
    data: bytes
    container: str  # "csv", "ods", "xlsx" or "xls"

    def __repr__(self) -> str:
        return f"Seed({self.name!r}, {len(self.data)} bytes)"


@dataclass(frozen=True)
class Target:
    name: str
    seeds: tuple[Seed, ...]


TARGET_NAMES = (
    "police_uk_street",
    "police_uk_outcomes",
    "police_uk_stop_search",
    "recorded_crime",
    "crime_outcomes",
    "lad_csp_pfa",
    "population",
    "data_returns",
    "workforce",
    "recorded_crime_ods",
    "crime_outcomes_ods",
    "ons_population",
)


def head_lines(data: bytes, n: int, skip: int = 0) -> bytes:
    """The header line and ``n`` lines after the first ``skip`` data lines, as they are."""
    lines = data.splitlines(keepends=True)
    return b"".join(lines[:1] + lines[1 + skip : 1 + skip + n])


def csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def csv_bytes(rows: Sequence[Sequence[object]], newline: str = "\n") -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator=newline).writerows(rows)
    return out.getvalue().encode("utf-8")


def template_lookup(real: Path) -> bytes:
    return head_lines((real / LOOKUP).read_bytes(), TEMPLATE_DISTRICTS)


def ods_bytes(sheets: dict[str, list[list[object]]]) -> bytes:
    from tests.test_readers import write_ods  # odfpy, a development dependency

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sheet.ods"
        write_ods(path, sheets)
        return path.read_bytes()


def _column(index: int) -> str:
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


def xlsx_bytes(sheets: dict[str, list[list[object]]]) -> bytes:
    """A minimal Office Open XML workbook (shared strings, numbers), as Excel lays one out."""
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    pkg = "http://schemas.openxmlformats.org/package/2006/relationships"
    ct = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    strings: list[str] = []
    index: dict[str, int] = {}
    sheet_xml = []
    for rows in sheets.values():
        out = [
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{main}">'
        ]
        out.append("<sheetData>")
        for r, row in enumerate(rows, start=1):
            out.append(f'<row r="{r}">')
            for c, value in enumerate(row):
                ref = f"{_column(c)}{r}"
                if isinstance(value, (int, float)):
                    out.append(f'<c r="{ref}"><v>{value}</v></c>')
                else:
                    text = str(value)
                    if text not in index:
                        index[text] = len(strings)
                        strings.append(text)
                    out.append(f'<c r="{ref}" t="s"><v>{index[text]}</v></c>')
            out.append("</row>")
        out.append("</sheetData></worksheet>")
        sheet_xml.append("".join(out))
    n = len(sheets)
    members = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{ct}.sheet.main+xml"/>'
            + "".join(
                f'<Override PartName="/xl/worksheets/sheet{i}.xml" '
                f'ContentType="{ct}.worksheet+xml"/>'
                for i in range(1, n + 1)
            )
            + f'<Override PartName="/xl/sharedStrings.xml" ContentType="{ct}.sharedStrings+xml"/>'
            "</Types>"
        ),
        "_rels/.rels": (
            f'{XML_DECLARATION}<Relationships xmlns="{pkg}">'
            f'<Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>"
        ),
        "xl/workbook.xml": (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<workbook xmlns="{main}" xmlns:r="{rel}"><sheets>'
            + "".join(
                f'<sheet name="{_xml(name)}" sheetId="{i}" r:id="rId{i}"/>'
                for i, name in enumerate(sheets, start=1)
            )
            + "</sheets></workbook>"
        ),
        "xl/_rels/workbook.xml.rels": (
            f'{XML_DECLARATION}<Relationships xmlns="{pkg}">'
            + "".join(
                f'<Relationship Id="rId{i}" Type="{rel}/worksheet" '
                f'Target="worksheets/sheet{i}.xml"/>'
                for i in range(1, n + 1)
            )
            + f'<Relationship Id="rId{n + 1}" Type="{rel}/sharedStrings" '
            'Target="sharedStrings.xml"/></Relationships>'
        ),
        "xl/sharedStrings.xml": (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<sst xmlns="{main}" count="{len(strings)}" uniqueCount="{len(strings)}">'
            + "".join(f'<si><t xml:space="preserve">{_xml(s)}</t></si>' for s in strings)
            + "</sst>"
        ),
    }
    for i, text in enumerate(sheet_xml, start=1):
        members[f"xl/worksheets/sheet{i}.xml"] = text
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in members.items():
            zf.writestr(zipfile.ZipInfo(name, ZIP_TIME), text.encode("utf-8"), zipfile.ZIP_DEFLATED)
    return out.getvalue()


def only_table(ods: bytes, keep: str) -> bytes:
    """An .ods file with one sheet of it kept (the real workforce file, 6 tables fewer)."""
    with zipfile.ZipFile(io.BytesIO(ods)) as zf:
        content = zf.read("content.xml").decode("utf-8")
        spans = []
        for m in re.finditer(r"<table:table ", content):
            end = content.index("</table:table>", m.start()) + len("</table:table>")
            name = re.search(r'table:name="([^"]*)"', content[m.start() : m.start() + 400])
            spans.append((m.start(), end, name.group(1) if name else ""))
        kept = next(s for s in spans if s[2] == keep)
        content = content[: spans[0][0]] + content[kept[0] : kept[1]] + content[spans[-1][1] :]
        members = [
            (info, content.encode("utf-8") if info.filename == "content.xml" else zf.read(info))
            for info in zf.infolist()
            if not info.filename.startswith("Thumbnails/")
        ]
    return rezip(members)


def rezip(members: Sequence[tuple[zipfile.ZipInfo, bytes]]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for info, data in members:
            copy = zipfile.ZipInfo(info.filename, ZIP_TIME)
            copy.compress_type = info.compress_type
            zf.writestr(copy, data)
    return out.getvalue()


def _prc_rows(real: Path) -> list[list[str]]:
    rows = csv_rows((real / PRC).read_bytes())
    return rows[:31] + rows[20_000:20_020]


def _outcomes_rows(real: Path) -> list[list[object]]:
    """The crime outcomes table (no real file): real recorded crime keys with real outcome
    types, counts padded as the Home Office writes them."""
    from peelkit import reference
    from tests.conftest import OUTCOMES_HEADER

    types = reference.outcome_types()
    rows: list[list[object]] = [OUTCOMES_HEADER]
    for n, key in enumerate(_prc_rows(real)[1:30]):
        kind = types[n % len(types)]
        counts = [f" {n * 7 % 40} ", "-00" if n % 5 == 0 else f" {n * 3:,} "]
        rows.append([*key[:7], kind.description, kind.figure_4_group, str(kind.number), *counts])
    return rows


def _estimates_rows(real: Path) -> list[list[object]]:
    """The ONS MYE2 table: title rows naming the mid-year, the header, the UK, a country, a
    region, the template's districts, Scotland, a footnote."""
    districts = csv_rows(template_lookup(real))[1:]
    rows: list[list[object]] = [
        [
            "MYE2: Population estimates: Persons by single year of age and sex for local "
            "authorities in the UK, mid-2016"
        ],
        [],
        ["Code", "Name", "Geography1", "All ages", "0", "1", "90+"],
        ["K02000001", "UNITED KINGDOM", "Country", "65,648,054", "1", "1", "1"],
        ["E92000001", "ENGLAND", "Country", "55,268,067", "1", "1", "1"],
        ["E12000006", "EAST", "Region", "6,130,542", "1", "1", "1"],
    ]
    for n, d in enumerate(districts):
        rows.append([d[0], d[1], "Non-metropolitan District", f"{100_000 + n * 7_919:,}", 1, 2, 3])
    rows += [["S12000033", "Aberdeen City", "Council Area", "229,840", 1, 1, 1], [], ["Note: "]]
    return rows


def _myeb_rows(real: Path) -> list[list[object]]:
    districts = csv_rows(template_lookup(real))[1:]
    rows: list[list[object]] = [
        ["ladcode16", "laname16", "country", "sex", "age", "population_2015", "population_2016"]
    ]
    for n, d in enumerate(districts):
        for sex in (1, 2):
            for age in (0, 90):
                rows.append([d[0], d[1], "E", sex, age, 500 + n + age, 510 + n + age])
    rows.append(["S12000033", "Aberdeen City", "S", 1, 0, 1200, 1210])
    return rows


@cache
def targets(real: Path) -> dict[str, Target]:
    """Every fuzz target with its seeds, built from the real files under ``real``."""
    from peelkit.demo.sample import SampleSpec, write_sample

    def police(folder: str, month: str, name: str, n: int) -> Seed:
        path = real / folder / month / f"{month}-{name}.csv"
        return Seed(path.name, head_lines(path.read_bytes(), n), "csv")

    with tempfile.TemporaryDirectory() as tmp:
        spec = SampleSpec(police_uk=False, home_office=False, tidy=True)
        tidy = {p.name: p.read_bytes() for p in write_sample(Path(tmp), spec) if p.suffix == ".csv"}
    population = head_lines(tidy["population-synthetic.csv"], 25)
    pop_rows = csv_rows(population)
    with_basis = csv_bytes(
        [[*pop_rows[0], "basis"]]
        + [
            [*r, "resident" if i % 3 else "resident and transient"]
            for i, r in enumerate(pop_rows[1:])
        ]
    )
    prc = _prc_rows(real)
    outcomes = _outcomes_rows(real)
    lookup = head_lines((real / LOOKUP).read_bytes(), 30)
    lookup_2024 = lookup.replace(b"16CD", b"24CD").replace(b"16NM", b"24NM")
    estimates = _estimates_rows(real)
    workforce = [(real / w).read_bytes() for w in WORKFORCE]
    out = [
        Target(
            "police_uk_street",
            (
                police(CITY, "2016-02", "city-of-london-street", 40),
                police(CITY, "2017-03", "city-of-london-street", 25),
            ),
        ),
        Target(
            "police_uk_outcomes",
            (
                police(CITY, "2016-02", "city-of-london-outcomes", 40),
                police(CITY, "2016-08", "city-of-london-outcomes", 25),
            ),
        ),
        Target(
            "police_uk_stop_search",
            (
                police(STOPS, "2015-12", "metropolitan-stop-and-search", 40),
                police(CITY, "2016-02", "city-of-london-stop-and-search", 25),
            ),
        ),
        Target(
            "recorded_crime",
            (
                Seed("prc-pfa-tables201718.csv", head_lines((real / PRC).read_bytes(), 40), "csv"),
                Seed(
                    "prc-pfa-tables201718-part.csv",
                    head_lines((real / PRC).read_bytes(), 25, skip=20_000),
                    "csv",
                ),
            ),
        ),
        Target("crime_outcomes", (Seed("prc-outcomes.csv", csv_bytes(outcomes), "csv"),)),
        Target(
            "lad_csp_pfa",
            (
                Seed(Path(LOOKUP).name, lookup, "csv"),
                Seed("LAD24_CSP24_PFA24_EW_LU.csv", lookup_2024, "csv"),
            ),
        ),
        Target(
            "population",
            (
                Seed("population.csv", population, "csv"),
                Seed("population-basis.csv", with_basis, "csv"),
            ),
        ),
        Target(
            "data_returns",
            (Seed("data-returns.csv", head_lines(tidy["data-returns-synthetic.csv"], 40), "csv"),),
        ),
        Target(
            "workforce",
            (
                Seed(Path(WORKFORCE[0]).name, workforce[0], "ods"),
                Seed("workforce-table-1.ods", only_table(workforce[0], "Table_1"), "ods"),
                Seed("workforce-2015-table-1.ods", only_table(workforce[1], "Table_1"), "ods"),
            ),
        ),
        Target(
            "recorded_crime_ods",
            (
                Seed(
                    "prc-pfa-tables.ods",
                    ods_bytes(
                        {
                            "Contents": [["Police recorded crime by police force area"]],
                            "Table_P1": [["Police recorded crime"], [], *prc],
                        }
                    ),
                    "ods",
                ),
            ),
        ),
        Target(
            "crime_outcomes_ods",
            (Seed("prc-outcomes.ods", ods_bytes({"Outcomes": outcomes}), "ods"),),
        ),
        Target(
            "ons_population",
            (
                Seed("ukmidyearestimates2016.csv", csv_bytes(estimates), "csv"),
                Seed("MYEB1_detailed_population_estimates.csv", csv_bytes(_myeb_rows(real)), "csv"),
                Seed(
                    "ukmidyearestimates2016.ods",
                    ods_bytes({"Contents": [["Contents"]], "MYE2 - All": estimates}),
                    "ods",
                ),
                Seed(
                    "ukmidyearestimates2016.xlsx",
                    xlsx_bytes({"Contents": [["Contents"]], "MYE2 - All": estimates}),
                    "xlsx",
                ),
            ),
        ),
    ]
    assert tuple(t.name for t in out) == TARGET_NAMES
    return {t.name: t for t in out}


# -- the template warehouse --------------------------------------------------------------------


class Template:
    """A warehouse file with good real loads, copied for every example, and what it holds: its
    snapshot (every ledger and fact row) and a fingerprint of every table (a count and a hash
    sum of its rows: cheap enough to check after every example).

    Not a dataclass: Hypothesis prints the arguments of a failing example, and the snapshot
    is too large to print (pytest turns Hypothesis' warning about that into an error).
    """

    def __init__(self, path: Path, before: dict[str, list[tuple[object, ...]]]) -> None:
        self.path = path
        self.before = before
        con = duckdb.connect(str(path), read_only=True)
        try:
            self.tables = tables(con)
            row = con.execute("SELECT max(load_id) FROM loads").fetchone()
            self.last_load = int(row[0]) if row and row[0] is not None else 0
            self.fingerprint = fingerprint(con, self.tables)
        finally:
            con.close()

    def kept(self, replaced: Replaced) -> list[tuple[Any, ...]]:
        """The fingerprint of what a load that replaced these force-periods must leave."""
        if not replaced:
            return self.fingerprint
        con = duckdb.connect(str(self.path), read_only=True)
        try:
            return fingerprint(con, self.tables, None, replaced)
        finally:
            con.close()

    def __repr__(self) -> str:
        return f"Template({str(self.path)!r})"


def tables(con: duckdb.DuckDBPyConnection) -> tuple[tuple[str, bool], ...]:
    """Every table of the warehouse, and whether its rows carry a load_id."""
    return tuple(
        (str(name), bool(loaded))
        for name, loaded in con.execute(
            """
            SELECT t.table_name, bool_or(c.column_name = 'load_id')
            FROM duckdb_tables() AS t
            JOIN duckdb_columns() AS c USING (database_name, schema_name, table_name)
            WHERE NOT t.temporary AND t.database_name = current_database()
            GROUP BY 1 ORDER BY 1
            """
        ).fetchall()
    )


#: Tables whose rows of a force-month published again are deleted (ingest replaces them).
REPLACED_ROWS = ("police_uk_street", "police_uk_outcomes", "police_uk_stop_search")

Replaced = list[tuple[str, int, str, Any]]  # (source, load_id, force_code, period_start)


def fingerprint(
    con: duckdb.DuckDBPyConnection,
    of: tuple[tuple[str, bool], ...],
    upto: int | None = None,
    without: Replaced = (),  # type: ignore[assignment]
) -> list[tuple[Any, ...]]:
    """Each table's row count and the sum of its rows' hashes; with ``upto``, of the rows of
    loads up to that load_id only (what a successful load must leave as it was). A load may
    replace a force-period published again: ``load_periods.superseded_by`` is left out, and
    ``without`` names the police.uk force-months whose earlier rows it deleted."""
    parts = []
    for name, loaded in of:
        where = [f"load_id <= {upto}"] if upto is not None and loaded else []
        gone = [w for w in without if w[0] == name]
        if gone and name in REPLACED_ROWS:
            keys = ", ".join(f"({i}, '{f}', DATE '{d}')" for _, i, f, d in gone)
            where.append(f"(load_id, force_code, month) NOT IN ({keys})")
        table = (
            "(SELECT * EXCLUDE (superseded_by) FROM load_periods)"
            if name == "load_periods"
            else name
        )
        parts.append(
            f"SELECT '{name}', count(*), sum(hash(x)::HUGEINT) FROM {table} AS x"
            + (" WHERE " + " AND ".join(where) if where else "")
        )
    return con.execute(" UNION ALL ".join(parts) + " ORDER BY 1").fetchall()


def make_template(folder: Path, real: Path) -> Template:
    """The real 2016-01 City of London street file (446 rows) and the first districts of the
    real December 2016 lookup, loaded by open_warehouse."""
    from peelkit.ingest import ingest
    from peelkit.warehouse import open_warehouse, snapshot

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "warehouse.duckdb"
    lookup = folder / "lookup-2016.csv"
    lookup.write_bytes(template_lookup(real))
    con = open_warehouse(path)
    try:
        street = real / CITY / "2016-01" / "2016-01-city-of-london-street.csv"
        report = ingest(con, [street, lookup], strict=True)
        assert [f.rows_loaded for f in report.files] == [446, TEMPLATE_DISTRICTS]
        before = snapshot(con)
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return Template(path, before)


# -- one case ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One input: bytes, the relative path they are given, and whether the load is strict."""

    target: str
    path: str  # e.g. 2016-02/2016-02-city-of-london-street.csv, or 2016-02.zip
    data: bytes
    strict: bool
    how: tuple[str, ...] = ()  # the mutations that made it, for reports

    @property
    def digest(self) -> str:
        h = hashlib.sha256(self.path.encode() + b"\0" + self.data + bytes([self.strict]))
        return h.hexdigest()[:12]

    def __repr__(self) -> str:
        shown = self.data if len(self.data) <= 600 else self.data[:600] + b"..."
        return (
            f"Case({self.target!r}, path={self.path!r}, strict={self.strict}, "
            f"how={list(self.how)}, {len(self.data)} bytes: {shown!r})"
        )


@dataclass(frozen=True)
class Outcome:
    verdict: str  # "loaded", "refused" or "finding"
    detail: str = ""
    signature: str = ""  # findings with the same signature are the same problem


def check_accounted(
    con: duckdb.DuckDBPyConnection, report_files: list[Any], rejects: list[Any], strict: bool
) -> None:
    """Every loaded file accounted for row by row, in the report and in the warehouse."""
    loaded = [f for f in report_files if f.status == "loaded"]
    for f in loaded:
        left_out = 0
        if f.kind == "ons_population":  # rows of areas that are not districts, said in a note
            for (note,) in con.execute(
                "SELECT DISTINCT note FROM load_periods WHERE load_id = ? AND note IS NOT NULL",
                [f.load_id],
            ).fetchall():
                left_out += sum(int(n) for n in re.findall(r"(\d+) rows of ", note))
        assert f.rows_read == f.rows_loaded + f.rows_rejected + left_out, f
        assert con.execute(
            "SELECT rows_read, rows_loaded, rows_rejected FROM loads WHERE load_id = ?",
            [f.load_id],
        ).fetchone() == (f.rows_read, f.rows_loaded, f.rows_rejected)
        lines = con.execute(
            "SELECT count(DISTINCT line), count(*) FROM rejected_rows WHERE load_id = ?",
            [f.load_id],
        ).fetchone()
        assert lines is not None and lines[0] == f.rows_rejected, (f, lines)
        assert lines[1] == len([r for r in rejects if r.load_id == f.load_id])
    for r in rejects:
        assert r.line is not None and r.line >= 2, r
        assert r.reason.strip(), r
    if strict:
        assert rejects == []
    assert {f.status for f in report_files} <= {"loaded", "already loaded"}


def _where(exc: BaseException) -> str:
    """The innermost frame of a traceback, as file:line (site-packages shortened)."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return "?"
    last = frames[-1]
    name = last.filename
    name = name.split("src/", 1)[1] if "src/peelkit/" in name else Path(name).name
    return f"{name}:{last.lineno}"


def _first_line(text: str) -> str:
    return (text.strip().splitlines() or [""])[0][:200]


def materialise(case: Case, folder: Path) -> Path:
    path = folder / case.path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(case.data)
    return path


def run_case(case: Case, template: Template, threads: int | None = None) -> Outcome:
    """Ingest ``case`` into a copy of the template and judge the result (see the module doc)."""
    from peelkit.ingest import ingest

    with tempfile.TemporaryDirectory(prefix="peelkit-fuzz-") as tmp:
        folder = Path(tmp)
        warehouse = folder / "warehouse.duckdb"
        shutil.copyfile(template.path, warehouse)
        path = materialise(case, folder / "in")
        # The template was made by open_warehouse; a plain connect saves its schema refresh.
        con = duckdb.connect(str(warehouse), config={"threads": str(threads)} if threads else {})
        con.execute("PRAGMA disable_checkpoint_on_shutdown")  # the copy is thrown away
        con.execute("SET enable_progress_bar = false")
        outcome: Outcome
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                try:
                    report = ingest(con, [path], strict=case.strict)
                except PeelkitError as error:
                    outcome = _refused(con, template, error)
                else:
                    try:
                        check_accounted(con, report.files, report.rejects, case.strict)
                        replaced: Replaced = con.execute(
                            "SELECT source, load_id, force_code, period_start FROM load_periods "
                            "WHERE superseded_by IS NOT NULL"
                        ).fetchall()
                        kept = fingerprint(con, template.tables, template.last_load, replaced)
                        assert kept == template.kept(replaced), "the load changed earlier loads"
                    except AssertionError as failed:
                        outcome = Outcome(
                            "finding",
                            f"loaded but not accounted for: {failed}\n{traceback.format_exc()}",
                            f"unaccounted at {_where(failed)}",
                        )
                    else:
                        outcome = Outcome("loaded")
            except (KeyboardInterrupt, SystemExit):
                raise
            except BaseException as exc:  # the property: anything else is a finding (a Rust
                # panic in a library is a BaseException)
                outcome = Outcome(
                    "finding",
                    f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}",
                    f"{type(exc).__module__}.{type(exc).__name__} at {_where(exc)}",
                )
            finally:
                con.close()
            gc.collect()  # an archive or file left open warns when it is collected
        if caught and outcome.verdict != "finding":
            w = caught[0]
            return Outcome(
                "finding",
                f"{w.category.__name__}: {w.message} ({w.filename}:{w.lineno}); "
                f"the ingest itself: {outcome.verdict} {outcome.detail}",
                f"{w.category.__name__} at {Path(w.filename).name}:{w.lineno}",
            )
        return outcome


def _refused(con: duckdb.DuckDBPyConnection, template: Template, error: PeelkitError) -> Outcome:
    message = str(error)
    if not message.strip():
        return Outcome(
            "finding", "a PeelkitError without a message", f"no message: {type(error).__name__}"
        )
    if "peelkit bug" in message:
        return Outcome("finding", message, f"peelkit bug: {_first_line(message)[:80]}")
    if fingerprint(con, template.tables) != template.fingerprint:
        return Outcome("finding", f"refused, but the warehouse changed: {message}", "partial load")
    return Outcome("refused", _first_line(message))


# -- mutations ---------------------------------------------------------------------------------

#: Fields as they should not be: empty, long, of the wrong type, out of range, unknown.
EDGE_VALUES = (
    "",
    " ",
    "x" * 300,
    "Ab" * 35_000,  # longer than a 64 KB read of a line
    "0",
    "-1",
    "-5",
    "123",
    "99999999999999999999",
    "1e309",
    "NaN",
    "inf",
    "3.5",
    "1,000",
    " 12 ",
    "-00",
    "2016-13",
    "2016-1",
    "01/2016",
    "2016/01",
    "16/17",
    "2017/19",
    "2016-02-30T25:61:00+00:00",
    "Kentt Police",
    "Atlantis Constabulary",
    "Metropolitan Police Service",
    "city-of-london",
    "E23000001",
    "E23000099",
    "E09000001",
    "W06000001",
    "99Z",
    "True",
    "NULL",
    "é",
    "\u2028",
    "\u00a0",
    "\x00",
    '"',
    "a\nb",
    "a\r\nb",
    "'; DROP TABLE loads; --",
    "could not supply",
    "2015-07-01/2016-06-30",
)
TOKENS = (
    b"\x00",
    b'"',
    b'""',
    b",",
    b"\n",
    b"\r",
    b"\r\n",
    b"\xff",
    b"\xc3",
    b"\xef\xbb\xbf",
    b"\\",
    b" ",
    b"\t",
    b";",
)
XML_TOKENS = (
    b"<",
    b">",
    b"&",
    b'"',
    b"&amp;",
    b"&#0;",
    b"&bogus;",
    b"\x00",
    b"]]>",
    b"<!--",
    b"</",
)
XML_VALUES = (
    "",
    "-1",
    "0",
    "abc",
    "1e309",
    "NaN",
    "2016-13-45",
    "2016-02-30T00:00:00",
    "99999",
    "1048576",
    "65536",
    "1.5",
    "Table_1",
    "Table 1: Police officers by police force area",
    "MYE2 - All",
    "Code",
    "Kentt Police",
    "Atlantis Constabulary",
    "x" * 3000,
    "E06000001",
)

Draw = Callable[..., Any]


def _pos(draw: Draw, data: bytes) -> int:
    return int(draw(st.integers(0, len(data))))


def flip_bit(draw: Draw, data: bytes) -> bytes:
    if not data:
        return data
    i = draw(st.integers(0, len(data) - 1))
    return data[:i] + bytes([data[i] ^ (1 << draw(st.integers(0, 7)))]) + data[i + 1 :]


def insert_bytes(draw: Draw, data: bytes) -> bytes:
    i = _pos(draw, data)
    return data[:i] + draw(st.binary(min_size=1, max_size=8)) + data[i:]


def delete_bytes(draw: Draw, data: bytes) -> bytes:
    i = _pos(draw, data)
    return data[:i] + data[i + draw(st.integers(1, 64)) :]


def insert_token(draw: Draw, data: bytes) -> bytes:
    i = _pos(draw, data)
    return data[:i] + draw(st.sampled_from(TOKENS)) + data[i:]


def truncate(draw: Draw, data: bytes) -> bytes:
    where = draw(st.sampled_from(["anywhere", "mid-line", "in a quoted field", "at a line end"]))
    if where == "in a quoted field" and b'"' in data:
        quotes = [m.start() for m in re.finditer(b'"', data)]
        return data[: draw(st.sampled_from(quotes)) + draw(st.integers(1, 4))]
    if where == "at a line end":
        ends = [m.end() for m in re.finditer(b"\n", data)] or [len(data)]
        return data[: draw(st.sampled_from(ends))]
    if where == "mid-line":
        starts = [m.end() for m in re.finditer(b"\n", data)] or [0]
        return data[: draw(st.sampled_from(starts)) + draw(st.integers(1, 30))]
    return data[: _pos(draw, data)]


def _lines(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True)


def duplicate_line(draw: Draw, data: bytes) -> bytes:
    lines = _lines(data)
    if not lines:
        return data
    i = draw(st.integers(0, len(lines) - 1))
    j = draw(st.integers(0, len(lines)))
    return b"".join([*lines[:j], lines[i], *lines[j:]])


def drop_line(draw: Draw, data: bytes) -> bytes:
    lines = _lines(data)
    if not lines:
        return data
    i = draw(st.integers(0, len(lines) - 1))
    return b"".join(lines[:i] + lines[i + 1 :])


def swap_lines(draw: Draw, data: bytes) -> bytes:
    lines = _lines(data)
    if len(lines) < 2:
        return data
    i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
    lines[i], lines[j] = lines[j], lines[i]
    return b"".join(lines)


def line_endings(draw: Draw, data: bytes) -> bytes:
    ending = draw(st.sampled_from([b"\n", b"\r\n", b"\r", b"mixed", b"none at the end"]))
    lines = [line.rstrip(b"\r\n") for line in _lines(data)]
    if ending == b"none at the end":
        return data.rstrip(b"\r\n")
    if ending == b"mixed":
        return b"".join(line + draw(st.sampled_from([b"\n", b"\r\n", b"\r"])) for line in lines)
    return b"".join(line + ending for line in lines)


def reencode(draw: Draw, data: bytes) -> bytes:
    text = data.decode("utf-8", errors="replace")
    encoding = draw(st.sampled_from(["utf-16", "utf-16-le", "utf-16-be", "latin-1", "cp1252"]))
    if encoding in ("latin-1", "cp1252") and draw(st.booleans()):
        text = text + "Café £5 – “quoted”\n"  # characters that differ from UTF-8
    return text.encode(encoding, errors="replace")


def bom(draw: Draw, data: bytes) -> bytes:
    choice = draw(st.sampled_from(["add", "double", "utf-16 BOM on UTF-8", "strip"]))
    if choice == "strip":
        return data.removeprefix(b"\xef\xbb\xbf")
    if choice == "utf-16 BOM on UTF-8":
        return b"\xff\xfe" + data
    return b"\xef\xbb\xbf" * (2 if choice == "double" else 1) + data


def _header(data: bytes) -> tuple[bytes, bytes, bytes]:
    """(BOM, header text, the rest from its line end) of a CSV file."""
    start = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    end = len(data)
    for m in re.finditer(b"[\r\n]", data[start:]):
        end = start + m.start()
        break
    return data[:start], data[start:end], data[end:]


def header(draw: Draw, data: bytes) -> bytes:
    mark, line, rest = _header(data)
    fields = line.split(b",")
    change = draw(
        st.sampled_from(
            ["upper", "lower", "one field's case", "swap", "spaces", "drop", "add", "quote"]
        )
    )
    i = draw(st.integers(0, len(fields) - 1))
    if change == "upper":
        fields = [f.upper() for f in fields]
    elif change == "lower":
        fields = [f.lower() for f in fields]
    elif change == "one field's case":
        fields[i] = fields[i].swapcase()
    elif change == "swap":
        j = draw(st.integers(0, len(fields) - 1))
        fields[i], fields[j] = fields[j], fields[i]
    elif change == "spaces":
        fields[i] = b" " + fields[i] + b" "
    elif change == "drop":
        del fields[i]
    elif change == "add":
        fields.insert(i, draw(st.sampled_from([b"", b"Extra", fields[i]])))
    else:
        fields[i] = b'"' + fields[i] + b'"'
    return mark + b",".join(fields) + rest


def whole_file(draw: Draw, data: bytes) -> bytes:
    choice = draw(
        st.sampled_from(["empty", "blank lines", "header only", "twice", "binary", "long line"])
    )
    if choice == "empty":
        return b""
    if choice == "blank lines":
        return draw(st.sampled_from([b"\n", b"\r\n\r\n", b"   \n\n", b"\x00\x00"]))
    if choice == "header only":
        mark, line, rest = _header(data)
        return mark + line + rest[: draw(st.integers(0, 2))].rstrip(b"," + bytes(range(33, 256)))
    if choice == "twice":
        return data + data
    if choice == "binary":
        return bytes(draw(st.binary(min_size=1, max_size=200)))
    # wider is slow, not wrong: 50,000 fields take DuckDB 13-20 s (docs/testing.md)
    return data + b"a," * draw(st.sampled_from([10, 1_000, 5_000])) + b"\n"


def _field_line(draw: Draw, data: bytes) -> tuple[list[bytes], int, list[str], str] | None:
    """A data line of the file that is one CSV record, its index and fields, and its end."""
    lines = _lines(data)
    if len(lines) < 2:
        return None
    i = draw(st.integers(1, len(lines) - 1))
    raw = lines[i]
    body = raw.rstrip(b"\r\n")
    try:
        records = list(csv.reader(io.StringIO(body.decode("utf-8"), newline="")))
    except (UnicodeDecodeError, csv.Error):
        return None
    if len(records) != 1:
        return None
    return lines, i, records[0], raw[len(body) :].decode("latin-1") or "\n"


def _write_line(fields: list[str], end: str, quoting: int) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator=end, quoting=quoting).writerow(fields)
    return out.getvalue().encode("utf-8")


def one_field(draw: Draw, data: bytes) -> bytes:
    found = _field_line(draw, data)
    if found is None:
        return data
    lines, i, fields, end = found
    if not fields:
        return data
    j = draw(st.integers(0, len(fields) - 1))
    change = draw(st.sampled_from(["edge"] * 6 + ["text"] * 2 + ["drop", "add", "swap", "raw"]))
    if change == "edge":
        fields[j] = draw(st.sampled_from(EDGE_VALUES))
    elif change == "text":
        fields[j] = draw(st.text(max_size=12))
    elif change == "drop":
        del fields[j]
    elif change == "add":
        fields.insert(j, draw(st.sampled_from(EDGE_VALUES)))
    elif change == "swap":
        k = draw(st.integers(0, len(fields) - 1))
        fields[j], fields[k] = fields[k], fields[j]
    else:  # as typed by hand: no quoting at all
        lines[i] = (
            ",".join([*fields[:j], draw(st.sampled_from(EDGE_VALUES)), *fields[j + 1 :]]) + end
        ).encode("utf-8")
        return b"".join(lines)
    quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_MINIMAL, csv.QUOTE_ALL]))
    lines[i] = _write_line(fields, end, quoting)
    return b"".join(lines)


BYTE_MUTATIONS: dict[str, Callable[[Draw, bytes], bytes]] = {
    "flip a bit": flip_bit,
    "insert bytes": insert_bytes,
    "delete bytes": delete_bytes,
    "insert a token": insert_token,
    "truncate": truncate,
}
CSV_MUTATIONS: dict[str, Callable[[Draw, bytes], bytes]] = {
    **BYTE_MUTATIONS,
    "duplicate a line": duplicate_line,
    "drop a line": drop_line,
    "swap lines": swap_lines,
    "line endings": line_endings,
    "re-encode": reencode,
    "BOM": bom,
    "header": header,
    "whole file": whole_file,
    "field": one_field,
}
#: How often each CSV mutation is drawn (fields most: they reach the row checks).
CSV_WEIGHTS = {"field": 8, "insert a token": 3, "truncate": 2, "duplicate a line": 2}


def _mutations(
    draw: Draw, data: bytes, ops: dict[str, Callable[[Draw, bytes], bytes]], weights: dict[str, int]
) -> tuple[bytes, list[str]]:
    names = [n for n in ops for _ in range(weights.get(n, 1))]
    how = []
    for _ in range(draw(st.sampled_from([1, 1, 1, 2, 2, 3]))):
        name = draw(st.sampled_from(names))
        data = ops[name](draw, data)
        how.append(name)
    return data, how


# spreadsheets: the XML inside the container, and the container itself


def xml_text(draw: Draw, data: bytes) -> bytes:
    """A text node replaced by an edge value (escaped or, sometimes, not)."""
    spans = [m.span(1) for m in re.finditer(rb">([^<]{1,200})<", data)]
    if not spans:
        return data
    start, end = draw(st.sampled_from(spans))
    value = draw(st.sampled_from(XML_VALUES + EDGE_VALUES)).encode("utf-8")
    if draw(st.integers(0, 3)):
        value = value.replace(b"&", b"&amp;").replace(b"<", b"&lt;")
    return data[:start] + value + data[end:]


def xml_attribute(draw: Draw, data: bytes) -> bytes:
    spans = [m.span(2) for m in re.finditer(rb'([\w:-]+)="([^"]*)"', data)]
    wanted = [
        s
        for s in spans
        if re.search(rb"(value|repeated|type|name|r|t|s|ref)=\"$", data[max(0, s[0] - 40) : s[0]])
    ]
    pool = wanted if wanted and draw(st.integers(0, 3)) else spans
    if not pool:
        return data
    start, end = draw(st.sampled_from(pool))
    return data[:start] + draw(st.sampled_from(XML_VALUES)).encode() + data[end:]


def xml_element(draw: Draw, data: bytes) -> bytes:
    """A row or cell dropped, repeated or left unclosed."""
    tags = [
        m
        for m in re.finditer(
            rb"<(table:table-row|table:table-cell|row|c|si)[ >].*?</\1>", data, re.S
        )
    ]
    if not tags:
        return data
    m = draw(st.sampled_from(tags[:2000]))
    change = draw(st.sampled_from(["drop", "repeat", "unclose", "open"]))
    if change == "drop":
        return data[: m.start()] + data[m.end() :]
    if change == "repeat":
        return data[: m.end()] + m.group(0) * draw(st.integers(1, 3)) + data[m.end() :]
    if change == "unclose":
        close = data.rindex(b"</", m.start(), m.end())
        return data[:close] + data[m.end() :]
    return data[: m.start()] + b"<" + m.group(1) + b">" + data[m.start() :]


def xml_token(draw: Draw, data: bytes) -> bytes:
    i = _pos(draw, data)
    return data[:i] + draw(st.sampled_from(XML_TOKENS)) + data[i:]


XML_MUTATIONS: dict[str, Callable[[Draw, bytes], bytes]] = {
    **BYTE_MUTATIONS,
    "XML token": xml_token,
    "XML text": xml_text,
    "XML attribute": xml_attribute,
    "XML element": xml_element,
}
XML_WEIGHTS = {"XML text": 6, "XML attribute": 3, "XML element": 3, "XML token": 2}


def inner_xml(draw: Draw, data: bytes) -> tuple[bytes, list[str]]:
    """Unzip, mutate one XML member (the sheets mostly), zip again in the same order."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        members = [(info, zf.read(info)) for info in zf.infolist()]
    names = [info.filename for info, _ in members]
    sheets = [n for n in names if n == "content.xml" or n.startswith("xl/worksheets/")]
    others = [n for n in names if n.endswith(".xml") and n not in sheets]
    if sheets and (not others or draw(st.integers(0, 4))):
        name = draw(st.sampled_from(sheets))
    elif others:
        name = draw(st.sampled_from(others + [n for n in names if n == "xl/sharedStrings.xml"] * 3))
    else:
        return data, []
    i = names.index(name)
    mutated, how = _mutations(draw, members[i][1], XML_MUTATIONS, XML_WEIGHTS)
    members[i] = (members[i][0], mutated)
    return rezip(members), [f"{name}: {h}" for h in how]


def container(draw: Draw, data: bytes) -> tuple[bytes, list[str]]:
    """The zip or OLE container: bytes damaged, a member dropped, renamed or stored."""
    change = draw(
        st.sampled_from(
            ["bytes", "bytes", "drop a member", "rename a member", "mimetype", "as xls"]
        )
    )
    if change == "bytes":
        mutated, how = _mutations(draw, data, BYTE_MUTATIONS, {"truncate": 2})
        return mutated, [f"container: {h}" for h in how]
    if change == "as xls":  # the legacy Excel signature on other bytes
        return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + data[8:], ["container: OLE signature"]
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            members = [(info, zf.read(info)) for info in zf.infolist()]
    except Exception:  # damaged by an earlier mutation (bad CRC, negative seek, zlib, …)
        return data, []
    i = draw(st.integers(0, len(members) - 1))
    if change == "drop a member":
        return rezip(members[:i] + members[i + 1 :]), [f"container: drop {members[i][0].filename}"]
    if change == "rename a member":
        info, content = members[i]
        renamed = zipfile.ZipInfo(info.filename.upper() + draw(st.sampled_from(["", ".bak"])))
        renamed.compress_type = info.compress_type
        members[i] = (renamed, content)
        return rezip(members), [f"container: rename {info.filename}"]
    for j, (info, content) in enumerate(members):
        if info.filename == "mimetype":
            members[j] = (info, draw(st.sampled_from([b"", b"application/zip", content + b"x"])))
    return rezip(members), ["container: mimetype"]


def _zip_csv(member: str, data: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(zipfile.ZipInfo(member, ZIP_TIME), data, zipfile.ZIP_DEFLATED)
    return out.getvalue()


ARCHIVE_NAME = re.compile(r"^(\d{4}-\d{2})-(.+)-(street|outcomes|stop-and-search)\.csv$")


def renamed(draw: Draw, name: str) -> tuple[str, list[str]]:
    """A police.uk file name whose force or month is wrong, sometimes."""
    m = ARCHIVE_NAME.match(name)
    if not m or draw(st.integers(0, 9)):
        return name, []
    month, force, kind = m.groups()
    change = draw(st.sampled_from(["force", "month", "plain"]))
    if change == "force":
        force = draw(st.sampled_from(["atlantis", "metropolitan", "kent", "city-of-londonn", ""]))
    elif change == "month":
        month = draw(st.sampled_from(["2016-13", "2016-00", "1999-01", "2099-12"]))
    else:
        return f"{kind}.csv", ["name: plain"]
    return f"{month}-{force}-{kind}.csv", [f"name: {change}"]


@st.composite
def fuzz_case(draw: st.DrawFn, target: Target) -> Case:
    """A seed of ``target``, mutated, placed as a plain file or in an archive, strict or not."""
    seed = draw(st.sampled_from(target.seeds))
    data = seed.data
    how: list[str] = [seed.name]
    name = seed.name
    if seed.container == "csv":
        data, done = _mutations(draw, data, CSV_MUTATIONS, CSV_WEIGHTS)
        how += done
        name, done = renamed(draw, name)
        how += done
    else:
        layer = draw(st.sampled_from(["xml", "xml", "xml", "container"]))
        data, done = (inner_xml if layer == "xml" else container)(draw, data)
        how += done
        if draw(st.integers(0, 5)) == 0:  # the sheet's bytes and the XML's, both
            data, done = container(draw, data)
            how += done
        if how[-1] == "container: OLE signature":
            name = Path(name).with_suffix(".xls").name
    m = ARCHIVE_NAME.match(name)
    month = m.group(1) if m else "2016-02"
    if seed.container == "csv" and draw(st.integers(0, 3)) == 0:
        data = _zip_csv(f"{month}/{name}", data)
        path = f"{month}.zip"
        how.append("in a zip")
        if draw(st.integers(0, 19)) == 0:
            data, done = _mutations(draw, data, BYTE_MUTATIONS, {})
            how += [f"archive: {h}" for h in done]
    else:
        path = f"{month}/{name}" if m else name
    return Case(target.name, path, data, draw(st.booleans()), tuple(how))


# -- findings kept as regression cases ---------------------------------------------------------

#: Findings of a kind already known and being fixed elsewhere, by the start of their signature
#: (their kept cases are expected to fail until then). None now: the damaged zip members that
#: escaped as zlib.error, BadZipFile, EOFError and NotImplementedError are UnreadableFile errors
#: naming the member.
KNOWN: dict[str, str] = {}


def known_reason(signature: str) -> str | None:
    return next((why for start, why in KNOWN.items() if signature.startswith(start)), None)


def save_case(case: Case, outcome: Outcome, folder: Path = CASES_DIR) -> Path:
    """The input's bytes as tests/fuzz_cases/<target>/<hash>.<ext>, and beside it what it was
    given as and what happened (<hash>.json)."""
    ext = Path(case.path).suffix.lstrip(".") or "bin"
    where = folder / case.target
    where.mkdir(parents=True, exist_ok=True)
    path = where / f"{case.digest}.{ext}"
    path.write_bytes(case.data)
    meta = {
        "path": case.path,
        "strict": case.strict,
        "how": list(case.how),
        "signature": outcome.signature,
        "found": _first_line(outcome.detail),
    }
    path.with_suffix(".json").write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n")
    return path


def kept(folder: Path, signature: str) -> int:
    """How many inputs of a problem are kept already."""
    return sum(
        json.loads(p.read_text()).get("signature") == signature for p in folder.glob("*.json")
    )


def saved_cases(folder: Path = CASES_DIR) -> list[tuple[Path, Case, dict[str, Any]]]:
    out = []
    for meta_path in sorted(folder.glob("*/*.json")):
        meta = json.loads(meta_path.read_text())
        data_path = meta_path.with_suffix(Path(meta["path"]).suffix or ".bin")
        case = Case(
            meta_path.parent.name,
            meta["path"],
            data_path.read_bytes(),
            meta["strict"],
            tuple(meta.get("how", ())),
        )
        out.append((data_path, case, meta))
    return out


# -- the dedicated job -------------------------------------------------------------------------


@dataclass
class Tally:
    examples: int = 0
    loaded: int = 0
    refused: int = 0
    findings: int = 0
    known: int = 0
    slow: int = 0
    seconds: float = 0.0
    signatures: dict[str, int] = field(default_factory=dict)
    saved: list[str] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        for f in ("examples", "loaded", "refused", "findings", "known", "slow", "seconds"):
            setattr(self, f, getattr(self, f) + getattr(other, f))
        for s, n in other.signatures.items():
            self.signatures[s] = self.signatures.get(s, 0) + n
        self.saved += other.saved


#: An example slower than this (seconds) is reported (not a finding: the machine is shared).
SLOW = 10.0

_WORKER: dict[str, Any] = {}


def _worker_init(real: str, template: str, before: str, status: str) -> None:
    import pickle

    _WORKER["real"] = Path(real)
    with open(before, "rb") as fh:
        _WORKER["template"] = Template(Path(template), pickle.load(fh))
    _WORKER["status"] = Path(status) / f"{os.getpid()}.json"
    try:
        import resource

        limit = 8 << 30  # a spreadsheet that asks for the moon fails here, not on the machine
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, ValueError, OSError):
        pass


def run_chunk(
    target_name: str, examples: int, seed: int, deadline: float, save_to: str, per_signature: int
) -> Tally:
    """``examples`` Hypothesis examples of one target in this worker; findings saved, counted,
    and the run goes on."""
    import faulthandler

    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed

    tally = Tally()
    if time.time() > deadline:
        return tally
    target = targets(_WORKER["real"])[target_name]
    template: Template = _WORKER["template"]
    status: Path = _WORKER["status"]
    started = time.perf_counter()

    @hypothesis_seed(seed)
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def one(data: st.DataObject) -> None:
        if time.time() > deadline:
            return  # the budget is spent: the rest of the chunk draws nothing
        case = data.draw(fuzz_case(target))
        status.write_text(
            json.dumps(
                {
                    "target": case.target,
                    "path": case.path,
                    "strict": case.strict,
                    "how": list(case.how),
                    "data": case.data.hex(),
                }
            )
        )
        faulthandler.dump_traceback_later(120, exit=True)  # a hang ends the worker
        began = time.perf_counter()
        try:
            outcome = run_case(case, template, threads=1)
        finally:
            faulthandler.cancel_dump_traceback_later()
        took = time.perf_counter() - began
        if took > SLOW:
            tally.slow += 1
            print(
                f"\n[{case.target}] SLOW {took:.1f} s ({outcome.verdict}): {case!r}",
                file=sys.stderr,
                flush=True,
            )
        tally.examples += 1
        if outcome.verdict == "loaded":
            tally.loaded += 1
        elif outcome.verdict == "refused":
            tally.refused += 1
        else:
            if known_reason(outcome.signature):
                tally.known += 1
            else:
                tally.findings += 1
            tally.signatures[outcome.signature] = tally.signatures.get(outcome.signature, 0) + 1
            if kept(Path(save_to) / case.target, outcome.signature) < per_signature:
                tally.saved.append(str(save_case(case, outcome, Path(save_to))))
                print(
                    f"\n[{case.target}] FINDING {outcome.signature}\n  {case!r}\n"
                    f"  {outcome.detail[:2000]}",
                    file=sys.stderr,
                    flush=True,
                )

    gc.collect()
    gc.freeze()  # what lives now is never garbage: each example's collection stays quick
    one()
    status.unlink(missing_ok=True)
    tally.seconds = time.perf_counter() - started
    return tally


def _died(status_dir: Path, save_to: Path) -> list[tuple[str, str]]:
    """Cases that were running in a worker that died or hung, saved as findings."""
    found = []
    for path in status_dir.glob("*.json"):
        pid = int(path.stem)
        try:
            os.kill(pid, 0)
            continue  # still alive
        except ProcessLookupError:
            pass
        meta = json.loads(path.read_text())
        case = Case(
            meta["target"],
            meta["path"],
            bytes.fromhex(meta["data"]),
            meta["strict"],
            tuple(meta["how"]),
        )
        outcome = Outcome("finding", "the process died or hung on this input", "process died")
        save_case(case, outcome, save_to)
        found.append((case.target, outcome.signature))
        path.unlink()
    return found


def main(argv: Sequence[str] | None = None) -> int:
    import multiprocessing
    import pickle
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    parser = argparse.ArgumentParser(
        prog="scripts/fuzz",
        description="Fuzz every reader with mutations of the real files, bounded in time.",
    )
    parser.add_argument("--examples", type=int, default=10_000, help="per target (10000)")
    parser.add_argument("--minutes", type=float, default=75.0, help="time budget in all (75)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2, help="worker processes")
    parser.add_argument("--chunk", type=int, default=250, help="examples per Hypothesis run")
    parser.add_argument("--target", action="append", choices=TARGET_NAMES, help="only these")
    parser.add_argument("--seed", type=int, default=None, help="random seed of the first chunk")
    parser.add_argument("--save", type=Path, default=CASES_DIR, help="where findings are kept")
    parser.add_argument(
        "--per-signature", type=int, default=3, help="inputs kept per distinct problem (3)"
    )
    args = parser.parse_args(argv)

    started = time.time()
    deadline = started + args.minutes * 60
    names = args.target or list(TARGET_NAMES)
    shared = Path(os.environ.get("PEELKIT_SHARED") or REPO.parent / "shared")
    real = shared / "data" / "real"
    if not real.is_dir():
        print(f"The real data folder {real} is missing (../shared/data/real).", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="peelkit-fuzz-job-"))
    try:
        template = make_template(work / "template", real)
        targets(real)  # fail early on a missing seed
        before = work / "before.pickle"
        before.write_bytes(pickle.dumps(template.before))
        status = work / "status"
        status.mkdir()
        rng_seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(4), "big")
        chunks = -(-args.examples // args.chunk)
        plan = [
            (name, min(args.chunk, args.examples - i * args.chunk), rng_seed + i * 1000 + k)
            for i in range(chunks)
            for k, name in enumerate(names)
        ]
        print(
            f"fuzzing {len(names)} targets, {args.examples} examples each, in {args.jobs} "
            f"processes, {args.minutes:g} minutes at most (seed {rng_seed}); findings go to "
            f"{args.save}",
            flush=True,
        )
        totals = {name: Tally() for name in names}
        died: list[tuple[str, str]] = []
        context = multiprocessing.get_context("spawn")
        while plan:
            with ProcessPoolExecutor(
                args.jobs,
                mp_context=context,
                initializer=_worker_init,
                initargs=(str(real), str(template.path), str(before), str(status)),
            ) as pool:
                futures = {
                    pool.submit(
                        run_chunk, name, n, s, deadline, str(args.save), args.per_signature
                    ): (name, n, s)
                    for name, n, s in plan
                }
                plan = []
                broken = False
                for future in as_completed(futures):
                    name, n, s = futures[future]
                    try:
                        tally = future.result()
                    except BrokenProcessPool:
                        broken = True
                        plan.append((name, n, s + 7))  # retried with another seed
                        continue
                    except Exception as exc:  # the harness itself: said, counted, not hidden
                        print(f"  {name}: the chunk failed: {exc!r}", file=sys.stderr)
                        totals[name].findings += 1
                        sig = f"chunk failed: {type(exc).__name__}"
                        totals[name].signatures[sig] = totals[name].signatures.get(sig, 0) + 1
                        continue
                    totals[name].add(tally)
                    if not tally.examples:
                        continue
                    done = sum(t.examples for t in totals.values())
                    print(
                        f"  {name}: {totals[name].examples} examples "
                        f"({done} in all, {(time.time() - started) / 60:.1f} min)",
                        flush=True,
                    )
            if broken:
                for target_name, signature in _died(status, args.save):
                    totals[target_name].findings += 1
                    totals[target_name].signatures[signature] = (
                        totals[target_name].signatures.get(signature, 0) + 1
                    )
                    died.append((target_name, signature))
            if time.time() > deadline:
                break
    finally:
        shutil.rmtree(work, ignore_errors=True)

    minutes = (time.time() - started) / 60
    print(
        f"\n{'target':24} {'examples':>9} {'loaded':>8} {'refused':>8} {'findings':>9} "
        f"{'known':>6} {'slow':>5} {'worker min':>11} {'s/example':>10}"
    )
    for name in names:
        t = totals[name]
        rate = t.seconds / t.examples if t.examples else 0.0
        print(
            f"{name:24} {t.examples:9} {t.loaded:8} {t.refused:8} {t.findings:9} {t.known:6} "
            f"{t.slow:5} {t.seconds / 60:11.1f} {rate:10.3f}"
        )
    all_findings = sum(t.findings for t in totals.values())
    print(
        f"\n{sum(t.examples for t in totals.values())} examples in {minutes:.1f} minutes; "
        f"{all_findings} finding(s)"
    )
    for name in names:
        for signature, n in sorted(totals[name].signatures.items()):
            mark = f" (known: {known_reason(signature)})" if known_reason(signature) else ""
            print(f"  {name}: {n} x {signature}{mark}")
    short = [n for n in names if totals[n].examples < args.examples]
    if short:
        print(f"time budget reached before {args.examples} examples for: {', '.join(short)}")
    return 1 if all_findings else 0


if __name__ == "__main__":
    sys.exit(main())
