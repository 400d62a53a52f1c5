"""One reader per source format, and recognition of a file's format from its header.

Every reader declares the exact header it accepts; a file is matched on that header alone
(never on its name), so a renamed file still loads and a changed layout is caught.
"""

from __future__ import annotations

from functools import cache

from peelkit.errors import DamagedFile, UnknownFormat
from peelkit.readers.base import (
    CsvFormat,
    Format,
    Loader,
    PlannedLoad,
    Reject,
    csv_fields,
    first_line,
)
from peelkit.readers.files import SourceFile
from peelkit.readers.home_office import CrimeOutcomes, RecordedCrime
from peelkit.readers.ons import LOOKUP_YEARS, LadCspPfaLookup
from peelkit.readers.ons_population import MidYearEstimates
from peelkit.readers.police_uk import PoliceUkOutcomes, PoliceUkStopSearch, PoliceUkStreet
from peelkit.readers.spreadsheets import (
    container_damage,
    is_spreadsheet,
    open_workbook,
    recognises_sheet_table,
    workforce_recognised,
)
from peelkit.readers.tidy import DataReturns, Population, PopulationWithBasis


class SheetTable(Format):
    """A Home Office table published as ODS: loaded by its CSV reader, sheet by sheet."""

    def __init__(self, csv_format: CsvFormat) -> None:
        self.csv = csv_format
        self.kind = csv_format.kind
        self.title = csv_format.title + " (ODS spreadsheet)"
        self.table = csv_format.table

    def recognises(self, source: SourceFile, head: bytes) -> bool:
        return recognises_sheet_table(source, head, self.csv)

    def expected(self) -> str:
        return "an .ods spreadsheet with a sheet whose header row is " + self.csv.expected()

    def load(self, loader: Loader, plans: list[PlannedLoad]) -> list[Reject]:
        return loader.load_csv(self.csv, plans, sheets=True)

    def csv_reader(self) -> CsvFormat | None:
        return self.csv


class WorkforceTables(Format):
    kind = "workforce"
    title = "Home Office police workforce tables (ODS spreadsheet)"
    table = "workforce"

    def recognises(self, source: SourceFile, head: bytes) -> bool:
        return workforce_recognised(source, head)

    def expected(self) -> str:
        return (
            "an .ods spreadsheet whose Table_1 is 'Table 1: Police officers by police force area…'"
        )

    def load(self, loader: Loader, plans: list[PlannedLoad]) -> list[Reject]:
        return loader.load_workforce(plans)


@cache
def csv_formats() -> tuple[CsvFormat, ...]:
    return (
        PoliceUkStreet(),
        PoliceUkOutcomes(),
        PoliceUkStopSearch(),
        RecordedCrime(),
        CrimeOutcomes(),
        *(LadCspPfaLookup(year) for year in LOOKUP_YEARS),
        Population(),
        PopulationWithBasis(),
        DataReturns(),
    )


@cache
def spreadsheet_formats() -> tuple[Format, ...]:
    by_kind = {f.kind: f for f in csv_formats()}
    return (
        WorkforceTables(),
        SheetTable(by_kind["recorded_crime"]),
        SheetTable(by_kind["crime_outcomes"]),
        MidYearEstimates(),
    )


@cache
def laid_out_formats() -> tuple[Format, ...]:
    """CSV files laid out for reading (title rows above the header), tried before the CSV
    formats whose header is the first line."""
    return (MidYearEstimates(),)


def all_formats() -> tuple[Format, ...]:
    return csv_formats() + spreadsheet_formats()


def _check_text(source: SourceFile, head: bytes) -> None:
    """An empty file, or text that is not UTF-8, said as such (not as an unknown header)."""
    if not head.strip():
        raise UnknownFormat(
            f"{source.display} is empty (no header, no rows). Download it again, or leave it out.",
            path=source.display,
        )
    if is_spreadsheet(head) or head.startswith(b"PK"):
        return
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in head[:512]:
        raise UnknownFormat(
            f"{source.display} is UTF-16 encoded (as Excel saves 'Unicode Text'). Save it as "
            "UTF-8 ('CSV UTF-8 (Comma delimited)') and load it again.",
            path=source.display,
        )
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not a character cut by the end of the head
            line = head[: exc.start].count(b"\n") + 1
            raise UnknownFormat(
                f"{source.display}, line {line}: byte 0x{head[exc.start]:02x} is not UTF-8 "
                "(the file looks saved as Windows-1252 or Latin-1). Save it as UTF-8 ('CSV "
                "UTF-8') and load it again.",
                path=source.display,
            ) from None


def recognise(source: SourceFile) -> Format:
    """The format of ``source``, from its header; UnknownFormat says what was expected."""
    head = source.head()
    _check_text(source, head)
    if is_spreadsheet(head):
        damage = container_damage(source)
        if damage is not None:
            raise DamagedFile(
                f"{source.display} is a damaged spreadsheet: {damage}. Download it again.",
                path=source.display,
            )
        open_workbook(source)  # a spreadsheet that cannot be opened is said so, not "unknown"
        for fmt in spreadsheet_formats():
            if fmt.recognises(source, head):
                return fmt
        raise UnknownFormat(
            f"{source.display} is a spreadsheet peelkit does not recognise.\n"
            "Expected one of:\n"
            + "\n".join(f"  - {f.title}: {f.expected()}" for f in spreadsheet_formats())
            + "\nIf it is one of these, check that the sheet's header row is exactly as shown; "
            "otherwise export the table to CSV with one of the CSV headers (peelkit formats).",
            path=source.display,
        )
    for fmt in (*laid_out_formats(), *csv_formats()):
        if fmt.recognises(source, head):
            return fmt
    found = first_line(head)
    found_fields = set(csv_fields(found))
    closest = max(
        csv_formats(),
        key=lambda f: len(found_fields & set(f.header)) / len(found_fields | set(f.header) or {""}),
    )
    missing = [c for c in closest.header if c not in found_fields]
    extra = [c[:40] for c in csv_fields(found) if c not in closest.header]
    if len(extra) > 6:  # a message names a few, never a whole line of junk
        extra = [*extra[:5], f"… {len(extra) - 5} more"]
    detail = ""
    if missing or extra:
        detail = (
            f"\nCompared with the {closest.title} header: "
            + (f"missing {', '.join(repr(m) for m in missing)}" if missing else "")
            + ("; " if missing and extra else "")
            + (f"unexpected {', '.join(repr(e) for e in extra)}" if extra else "")
            + "."
        )
    elif csv_fields(found) != closest.header:
        detail = f"\nThe columns of the {closest.title} header are all there but in another order."
    raise UnknownFormat(
        f"{source.display}: the header is not one peelkit reads.\n"
        f"  found:    {found[:300]!r}\n"
        f"  expected: {closest.expected()}  ({closest.title})"
        f"{detail}\n"
        "peelkit matches files on their exact header. If this is an official file whose layout "
        "has changed, a reader must be updated; if it was edited, restore the original header. "
        "Run 'peelkit formats' to list every header peelkit reads.",
        path=source.display,
    )
