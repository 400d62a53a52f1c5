"""OpenDocument spreadsheets: the Home Office workforce tables, and any table published as ODS.

A Home Office table published as ODS (the recorded crime PFA table, the outcomes table) is read
sheet by sheet: a sheet whose header row is the table's exact header becomes CSV text in memory,
and the same declared CSV reader loads it, with line numbers that are the sheet's row numbers.

The workforce tables are laid out for reading, not loading: a title, a row of "as at" dates,
English regions each followed by their forces, Wales, totals, then footnotes. Footnote digits
are glued to some names (``Wiltshire1``) and ``West Midlands`` is both a region and a force
(the region comes first).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
import zlib
from datetime import date, datetime
from typing import Any

from python_calamine import CalamineWorkbook

from peelkit import reference
from peelkit.errors import UnknownForce, UnreadableFile
from peelkit.readers.base import CsvFormat, Reject
from peelkit.readers.files import SourceFile

ODS_MIMETYPE = b"mimetypeapplication/vnd.oasis.opendocument.spreadsheet"


def is_ods(head: bytes) -> bool:
    return head.startswith(b"PK") and ODS_MIMETYPE in head[:200]


def is_spreadsheet(head: bytes) -> bool:
    """An OpenDocument (.ods), Office Open XML (.xlsx) or legacy Excel (.xls) workbook."""
    xlsx = head.startswith(b"PK") and (b"[Content_Types].xml" in head or b"xl/" in head)
    return is_ods(head) or xlsx or head.startswith(b"\xd0\xcf\x11\xe0")


def open_workbook(source: SourceFile) -> CalamineWorkbook:
    try:
        return CalamineWorkbook.from_filelike(io.BytesIO(source.read_bytes()))
    except Exception as exc:  # calamine raises its own untyped errors for broken files
        raise UnreadableFile(
            f"{source.display} looks like a spreadsheet but cannot be read ({exc}): it may be "
            "damaged. Download it again; or open it in a spreadsheet program and save it again "
            "as .ods or as CSV.",
            path=source.display,
        ) from exc


def container_damage(source: SourceFile) -> str | None:
    """Why a zipped spreadsheet (.ods, .xlsx) is damaged — its container cut short, or a part
    failing its checksum — or None. A download cut short loses the zip's directory at its end."""
    data = source.read_bytes()
    if not data.startswith(b"PK"):
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            bad = archive.testzip()
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError) as exc:
        return f"its zip container is cut short or corrupt ({exc})"
    return f"its part {bad} fails its checksum" if bad else None


def sheet_rows(
    book: CalamineWorkbook, source: SourceFile, name: str, *, skip_empty_area: bool = False
) -> list[list[Any]]:
    """The cells of one sheet. calamine parses a sheet only when it is asked for (an .xlsx
    sheet's XML, for one), so a damaged sheet is found here, not when the workbook opens."""
    try:
        rows: list[list[Any]] = book.get_sheet_by_name(name).to_python(
            skip_empty_area=skip_empty_area
        )
    except Exception as exc:  # calamine raises its own untyped errors for broken sheets
        raise UnreadableFile(
            f"{source.display}: the sheet {name!r} cannot be read ({exc}): the file may be "
            "damaged. Download it again; or open it in a spreadsheet program and save it again "
            "as .ods or as CSV.",
            path=source.display,
        ) from exc
    return rows


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat()
    return str(value)


def sheets_as_csv(source: SourceFile, fmt: CsvFormat) -> list[tuple[str, int, bytes]]:
    """Each sheet whose header row is ``fmt``'s header, as (sheet, rows above header, CSV bytes)."""
    book = open_workbook(source)
    found: list[tuple[str, int, bytes]] = []
    for name in book.sheet_names:
        rows = sheet_rows(book, source, name)
        for index, row in enumerate(rows[:30]):
            cells = tuple(cell_text(c).strip() for c in row[: len(fmt.header)])
            if cells == fmt.header:
                out = io.StringIO()
                writer = csv.writer(out, lineterminator="\n")
                width = len(fmt.header)
                for data_row in rows[index:]:
                    texts = [cell_text(c) for c in data_row[:width]]
                    if not any(t.strip() for t in texts):
                        continue
                    writer.writerow(texts + [""] * (width - len(texts)))
                found.append((name, index, out.getvalue().encode("utf-8")))
                break
    return found


def recognises_sheet_table(source: SourceFile, head: bytes, fmt: CsvFormat) -> bool:
    if not is_ods(head):
        return False
    try:
        return bool(sheets_as_csv(source, fmt))
    except UnreadableFile:
        return False


# -- workforce -------------------------------------------------------------------------------

WORKFORCE_TITLE = re.compile(r"Table (\d): (.+?) by police force area", re.IGNORECASE)
REGIONS = {
    "north east",
    "north west",
    "yorkshire and the humber",
    "east midlands",
    "west midlands",
    "eastern",
    "east of england",
    "london",
    "south east",
    "south west",
    "wales",
    "england",
    "england and wales",
    "total 43 forces",
    "central service secondments",
    "total",
}
FOOTNOTE_DIGITS = re.compile(r"(?<=[a-z])\d+$")


def workforce_recognised(source: SourceFile, head: bytes) -> bool:
    if not is_ods(head):
        return False
    try:
        book = open_workbook(source)
    except UnreadableFile:
        return False
    if "Table_1" not in book.sheet_names:
        return False
    try:
        rows = sheet_rows(book, source, "Table_1", skip_empty_area=True)
    except UnreadableFile:
        return False
    title = cell_text(rows[0][0]) if rows and rows[0] else ""
    return bool(WORKFORCE_TITLE.match(title))


def workforce_rows(
    source: SourceFile, load_id: int
) -> tuple[list[tuple[str, str, str, date, float, int]], list[Reject], int]:
    """(force, worker type, unit, as at, value, load id) rows, rejects, and rows read."""
    book = open_workbook(source)
    out: list[tuple[str, str, str, date, float, int]] = []
    rejects: list[Reject] = []
    read = 0
    aliases = reference.force_aliases()
    for sheet in book.sheet_names:
        rows = sheet_rows(book, source, sheet)
        if not rows or not rows[0]:
            continue
        match = WORKFORCE_TITLE.match(cell_text(rows[0][0]))
        if not match:
            continue
        worker_type = match.group(2).strip().lower()
        unit = (
            "headcount"
            if any("headcount" in cell_text(c).lower() for r in rows[:6] for c in r)
            else "full-time equivalent"
        )
        dates_at = next(
            (i for i, r in enumerate(rows[:12]) if sum(isinstance(c, datetime) for c in r) >= 2),
            None,
        )
        if dates_at is None:
            continue
        date_columns = [
            (j, c.date()) for j, c in enumerate(rows[dates_at]) if isinstance(c, datetime)
        ]
        seen_west_midlands = False
        for i in range(dates_at + 1, len(rows)):
            row = rows[i]
            label = cell_text(row[0]).strip() if row else ""
            if not label:
                if read:
                    break
                continue
            name = FOOTNOTE_DIGITS.sub("", label)
            if name.lower() == "west midlands":
                if not seen_west_midlands:  # the region row comes before the force row
                    seen_west_midlands = True
                    continue
            elif name.lower() in REGIONS:
                continue
            code = aliases.get(name)
            if code is None:
                raise UnknownForce(
                    f"{source.display}, sheet {sheet}, row {i + 1}: {label!r} is neither a force "
                    f"nor a region of the workforce tables. Closest known force names: "
                    f"{', '.join(reference.closest_force_names(name))}. If it is a force's "
                    "spelling, add it to reference/data/force_aliases.csv.",
                    path=source.display,
                    name=label,
                    line=i + 1,
                    closest=reference.closest_force_names(name),
                )
            read += 1
            for j, as_at in date_columns:
                value = row[j] if j < len(row) else None
                if isinstance(value, str):
                    cleaned = value.replace(",", "").strip()
                    if cleaned in ("", "..", "-", ":"):
                        continue  # not given: missing, never zero
                    try:
                        value = float(cleaned)
                    except ValueError:
                        rejects.append(
                            Reject(
                                load_id,
                                i + 1,
                                f"{sheet} {as_at.isoformat()}",
                                f"expected a number; found {value!r}",
                                label,
                            )
                        )
                        continue
                if isinstance(value, (int, float)):
                    out.append((code, worker_type, unit, as_at, float(value), load_id))
    return out, rejects, read
