"""ONS mid-year population estimates, as ONS publishes them, aggregated to police force areas.

Two layouts of the local-authority table are read, each recognised by its header:

- **MYE2** — the "MYE2 - All" (mid-2016 to mid-2018 editions) or "MYE2 - Persons" (mid-2019
  on) sheet of the ``ukmidyearestimates…`` workbook (.xls, .xlsx or .ods), or that sheet saved
  as CSV: a few title rows (one says "Mid-2017"), then the header ``Code, Name, Geography1``
  (``Geography`` in later editions) ``, All ages, 0, 1, …, 90+``, then one row per area.
- **MYEB** — the long CSV of the detailed series: ``ladcodeYY, lanameYY, country, sex, age,
  population_YYYY, …`` (one row per local authority, sex and single year of age; one column
  per year).

Only local authority districts are kept: codes E06–E09 (England) and W06 (Wales). Countries,
regions and counties (whose rows would count people twice) and Scotland and Northern Ireland
(outside PEEL) are left out, and the load says how many. The districts' populations are then
summed to police force areas through the ONS LAD → CSP → PFA lookup (``lad_csp_pfa``) of the
nearest year that covers every district, and written to ``population``; the City of London
also gets its transient population (``reference/data/population_adjustments.csv``, Annex A).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from peelkit.errors import InputError, UnreadableFile
from peelkit.readers.base import Format, Loader, PlannedLoad, Reject
from peelkit.readers.files import SourceFile
from peelkit.readers.spreadsheets import cell_text, is_spreadsheet, open_workbook, sheet_rows

MYE2_SHEETS = ("MYE2 - All", "MYE2 - Persons")
MYE2_HEADER = re.compile(r"^Geography1?$")
MYEB_CODE = re.compile(r"^ladcode(\d{2})$")
LAD_CODE = re.compile(r"^(E0[6-9]|W06)\d{6}$")
YEAR_IN_TITLE = re.compile(r"\bmid[- ]?(\d{4})\b", re.IGNORECASE)
YEAR_IN_NAME = re.compile(r"(?:mid|estimates)[-_ ]?(\d{4})", re.IGNORECASE)
#: More people than any area has: a count above it is damage, not an estimate (and sums of
#: such counts would overflow the warehouse's BIGINT).
MAX_PEOPLE = 1_000_000_000


@dataclass(frozen=True)
class DistrictRow:
    line: int  # the row of the sheet or line of the file
    lad_code: str
    lad_name: str
    year: int
    population: int


@dataclass
class Estimates:
    rows: list[DistrictRow]
    read: int  # area rows read (districts and others)
    left_out: dict[str, int]  # why rows were left out, and how many


def _is_mye2_header(cells: list[str]) -> bool:
    return (
        len(cells) >= 4
        and cells[0] == "Code"
        and cells[1] == "Name"
        and bool(MYE2_HEADER.match(cells[2]))
        and cells[3] == "All ages"
    )


def _mye2_at(rows: list[list[str]]) -> int | None:
    """The index of the MYE2 header row among a table's first rows."""
    return next((i for i, r in enumerate(rows[:15]) if _is_mye2_header(r)), None)


def _text_rows(source: SourceFile) -> list[list[str]] | None:
    """A CSV file's rows as text, or None when it is not UTF-8 CSV."""
    try:
        text = source.read_bytes().decode("utf-8-sig")
        return [[c.strip() for c in row] for row in csv.reader(io.StringIO(text, newline=""))]
    except (UnicodeDecodeError, csv.Error):
        return None


def _sheet_rows(source: SourceFile) -> tuple[str, list[list[str]]] | None:
    book = open_workbook(source)
    for name in book.sheet_names:
        if name.strip() in MYE2_SHEETS:
            rows = sheet_rows(book, source, name)
            return name, [[cell_text(c).strip() for c in row] for row in rows]
    return None


class MidYearEstimates(Format):
    kind = "ons_population"
    title = "ONS mid-year population estimates, local authorities (MYE2 or MYEB)"
    table = "lad_population"
    load_order = 1  # summed to force areas through the lookups, which load first

    def load(self, loader: Loader, plans: list[PlannedLoad]) -> list[Reject]:
        return loader.load_estimates(self, plans)

    def recognises(self, source: SourceFile, head: bytes) -> bool:
        if is_spreadsheet(head):
            try:
                found = _sheet_rows(source)
            except UnreadableFile:
                return False
            return found is not None and _mye2_at(found[1]) is not None
        # only the first lines can hold the header: the rest of the head is not parsed
        text = "\n".join(head[:8192].decode("utf-8-sig", errors="replace").splitlines()[:15])
        try:
            lines = [[c.strip() for c in r] for r in csv.reader(io.StringIO(text, newline=""))]
        except csv.Error:
            return False  # not CSV this reader can read: the CSV formats will say why
        if lines and lines[0] and MYEB_CODE.match(lines[0][0]):
            return _myeb_years(lines[0]) is not None
        return _mye2_at(lines) is not None

    def expected(self) -> str:
        return (
            "the ONS MYE2 table (sheet 'MYE2 - All' or 'MYE2 - Persons', or that sheet as CSV): "
            "title rows naming 'Mid-YYYY', then Code,Name,Geography1,All ages,0,1,…,90+; or the "
            "MYEB long CSV: ladcodeYY,lanameYY,country,sex,age,population_YYYY,…"
        )

    def read(self, source: SourceFile) -> Estimates:
        """The district rows of the file, with every row left out counted by reason."""
        estimates = self._read(source)
        if estimates.read and not estimates.rows:
            # what was left out is said with the districts' sums; with none, it would be lost
            raise InputError(
                f"{source.display}: none of its {estimates.read} area rows is a local authority "
                "district (E06-E09 or W06 codes), so there is nothing to sum to police force "
                "areas. The estimates must be loaded as ONS published them, districts included; "
                "download the file again.",
                path=source.display,
            )
        return estimates

    def _read(self, source: SourceFile) -> Estimates:
        if is_spreadsheet(source.head()):
            found = _sheet_rows(source)
            if found is None:
                raise UnreadableFile(f"{source.display}: no MYE2 sheet", path=source.display)
            sheet, sheet_rows = found
            return _mye2(source, sheet_rows, f"sheet {sheet!r}")
        rows = _text_rows(source)
        if rows is None:
            raise UnreadableFile(
                f"{source.display} is not UTF-8 CSV that can be read (an encoding or a stray "
                "line break inside a field); save it as CSV UTF-8 and load it again.",
                path=source.display,
            )
        if rows and rows[0] and MYEB_CODE.match(rows[0][0]):
            return _myeb(source, rows)
        return _mye2(source, rows, "the file")


def _year(source: SourceFile, title_rows: list[list[str]], where: str) -> int:
    for row in title_rows:
        for cell in row:
            match = YEAR_IN_TITLE.search(cell)
            if match:
                return int(match.group(1))
    match = YEAR_IN_NAME.search(Path(source.name).name)
    if match:
        return int(match.group(1))
    raise InputError(
        f"{source.display}: which mid-year the estimates are for is not said — neither the "
        f"title rows above the header of {where} nor the file name name it. Keep ONS's title "
        "row (e.g. 'Population estimates … mid-2017') or name the file like "
        "ukmidyearestimates2017.xls, and load it again.",
        path=source.display,
    )


def _count(value: str, source: SourceFile, line: int, field: str) -> int:
    cleaned = value.replace(",", "").strip()
    try:
        number = float(cleaned)
    except ValueError:
        number = -1.0
    if number < 0 or not number.is_integer() or number > MAX_PEOPLE:
        raise InputError(
            f"{source.display}, line {line}, field {field!r}: expected a whole number of people, "
            f"found {value[:40]!r}. The estimates must be loaded as ONS published them; "
            "download the file again.",
            path=source.display,
        )
    return int(number)


def _repeated(source: SourceFile, what: str, line: int, first: int) -> InputError:
    """A row that repeats an earlier one would be counted twice in the force areas' sums."""
    return InputError(
        f"{source.display}, line {line}: {what} is given twice (first on line {first}), so its "
        "people would be counted twice. The estimates must be loaded as ONS published them; "
        "download the file again.",
        path=source.display,
    )


def _left_out(code: str) -> str | None:
    if LAD_CODE.match(code):
        return None
    if code[:1] in ("S", "N"):
        return "Scotland and Northern Ireland (outside PEEL)"
    return "countries, regions and counties (their districts are counted)"


def _mye2(source: SourceFile, rows: list[list[str]], where: str) -> Estimates:
    at = _mye2_at(rows)
    if at is None:
        raise UnreadableFile(f"{source.display}: no MYE2 header row", path=source.display)
    year = _year(source, rows[:at], where)
    out: list[DistrictRow] = []
    left: dict[str, int] = {}
    read = 0
    seen: dict[str, int] = {}
    for index in range(at + 1, len(rows)):
        row = rows[index]
        code = row[0] if row else ""
        if not code:
            continue  # blank rows and footnotes below the table
        if not re.match(r"^[EKNSW]\d{8}$", code):
            continue  # a footnote
        if code in seen:
            raise _repeated(source, f"the area {code}", index + 1, seen[code])
        seen[code] = index + 1
        read += 1
        reason = _left_out(code)
        if reason:
            left[reason] = left.get(reason, 0) + 1
            continue
        people = _count(row[3] if len(row) > 3 else "", source, index + 1, "All ages")
        out.append(DistrictRow(index + 1, code, row[1] if len(row) > 1 else "", year, people))
    return Estimates(out, read, left)


def _myeb_years(header: list[str]) -> dict[int, int] | None:
    """Column index of each population_YYYY of a MYEB header, or None if it is not one."""
    if len(header) < 6 or [h.lower() for h in header[2:5]] != ["country", "sex", "age"]:
        return None
    if not re.match(r"^laname\d{2}$", header[1]):
        return None
    years = {}
    for i, name in enumerate(header[5:], start=5):
        match = re.fullmatch(r"population_(\d{4})", name)
        if not match:
            return None
        years[int(match.group(1))] = i
    return years or None


def _myeb(source: SourceFile, rows: list[list[str]]) -> Estimates:
    years = _myeb_years(rows[0])
    if years is None:
        raise UnreadableFile(f"{source.display}: not a MYEB header", path=source.display)
    totals: dict[tuple[str, int], int] = {}
    names: dict[str, str] = {}
    first_line: dict[str, int] = {}
    left: dict[str, int] = {}
    seen: set[str] = set()
    keys: dict[tuple[str, ...], int] = {}
    for line, row in enumerate(rows[1:], start=2):
        if not row or not row[0]:
            continue
        code = row[0]
        if len(row) < len(rows[0]):
            raise InputError(
                f"{source.display}, line {line}: expected {len(rows[0])} fields as in the "
                f"header, found {len(row)}. The estimates must be loaded as ONS published them; "
                "download the file again.",
                path=source.display,
            )
        key = (code, row[3], row[4])  # district, sex, age
        if key in keys:
            raise _repeated(source, f"{code}, sex {row[3]}, age {row[4]}", line, keys[key])
        keys[key] = line
        if code not in seen:
            seen.add(code)
            reason = _left_out(code)
            if reason:
                left[reason] = left.get(reason, 0) + 1
        if _left_out(code):
            continue
        names[code] = row[1]
        first_line.setdefault(code, line)
        for year, column in years.items():
            value = row[column] if column < len(row) else ""
            people = _count(value, source, line, f"population_{year}")
            totals[(code, year)] = totals.get((code, year), 0) + people
    out = [
        DistrictRow(first_line[code], code, names[code], year, people)
        for (code, year), people in sorted(totals.items())
    ]
    return Estimates(out, len(seen), left)
