"""data.police.uk monthly CSVs: street-level crime, outcomes, and stop and search.

Files come singly, in the archive layout ``YYYY-MM/YYYY-MM-<force>-<kind>.csv``, or inside a
monthly archive zip. Street and outcomes rows name their force (``Falls within``); a
stop-and-search file does not, so its force and month come from its file name (or --force).
Unknown outcome wordings are kept as they are: police.uk adds new ones over time.
"""

from __future__ import annotations

import re
from datetime import date

from peelkit import reference
from peelkit.readers.base import IN_SCOPE, Col, CsvFormat, force_name_enum
from peelkit.readers.files import SourceFile

ARCHIVE_NAME = re.compile(r"(\d{4})-(\d{2})-(.+)-(street|outcomes|stop-and-search)\.csv$")

#: Every crime category police.uk has used, including the ones retired in 2013.
CRIME_TYPES = (
    "Anti-social behaviour",
    "Bicycle theft",
    "Burglary",
    "Criminal damage and arson",
    "Drugs",
    "Other crime",
    "Other theft",
    "Possession of weapons",
    "Public disorder and weapons",
    "Public order",
    "Robbery",
    "Shoplifting",
    "Theft from the person",
    "Vehicle crime",
    "Violence and sexual offences",
    "Violent crime",
)
ASB = "Anti-social behaviour"


def archive_context(source: SourceFile) -> tuple[str | None, date | None]:
    """Force code and month from an archive-layout name (2016-01-city-of-london-street.csv)."""
    match = ARCHIVE_NAME.search(source.name)
    if not match:
        return None, None
    year, month, slug, _ = match.groups()
    force = reference.force_by_slug().get(slug)
    if not 1 <= int(month) <= 12:
        return (force.code if force else None), None
    return (force.code if force else None), date(int(year), int(month), 1)


class _PoliceUkFormat(CsvFormat):
    dateformat: str | None = "%Y-%m"
    ends_with_line_break = True
    asb_rows_sql = "NULL"  # SQL counting anti-social behaviour rows, where the kind has them

    def context(self, source: SourceFile) -> tuple[str | None, date | None]:
        return archive_context(source)

    def periods_sql(self) -> str:
        return f"""
        SELECT load_id, '{self.kind}', force_code, strftime(month, '%Y-%m'), month, 'month',
               count(*), {self.asb_rows_sql}, NULL
        FROM {self.table} WHERE {IN_SCOPE} GROUP BY ALL
        """


class _LocatedFormat(_PoliceUkFormat):
    """Street and outcomes files: rows that say where they are and which force they fall within."""

    force_columns = ("Falls within", "Reported by")
    month_column = "Month"
    kind_select: str  # SQL of the kind's own columns, in table order

    def __init__(self, kind_columns: tuple[Col, ...]) -> None:
        forces = force_name_enum()
        self.columns = (
            Col("Crime ID"),
            Col("Month", "DATE", "expected a month as YYYY-MM", required=True),
            Col("Reported by", forces, "expected a police force name", required=True),
            Col("Falls within", forces, "expected a police force name", required=True),
            Col("Longitude", "DOUBLE", "expected a longitude in decimal degrees"),
            Col("Latitude", "DOUBLE", "expected a latitude in decimal degrees"),
            Col("Location"),
            Col("LSOA code"),
            Col("LSOA name"),
            *kind_columns,
        )

    def insert_sql(self, rows: str) -> str:
        return f"""
        INSERT INTO {self.table}
        SELECT "Crime ID", "Month", rb.code, fw.code, "Longitude", "Latitude", "Location",
               "LSOA code", "LSOA name", {self.kind_select}, load_id
        FROM {rows} AS r
        JOIN force_aliases AS rb ON rb.alias = CAST(r."Reported by" AS VARCHAR)
        JOIN force_aliases AS fw ON fw.alias = CAST(r."Falls within" AS VARCHAR)
        """


class PoliceUkStreet(_LocatedFormat):
    kind = "police_uk_street"
    title = "police.uk street-level crime"
    table = "police_uk_street"
    kind_select = 'CAST("Crime type" AS VARCHAR), "Last outcome category", "Context"'
    asb_rows_sql = f"count(*) FILTER (WHERE crime_type = '{ASB}')"

    def __init__(self) -> None:
        crime_types = reference.sql_enum(CRIME_TYPES)
        super().__init__(
            (
                Col(
                    "Crime type", crime_types, "expected a police.uk crime category", required=True
                ),
                Col("Last outcome category"),
                Col("Context"),
            )
        )


class PoliceUkOutcomes(_LocatedFormat):
    kind = "police_uk_outcomes"
    title = "police.uk outcomes"
    table = "police_uk_outcomes"
    kind_select = '"Outcome type"'

    def __init__(self) -> None:
        super().__init__((Col("Outcome type", required=True),))


class PoliceUkStopSearch(_PoliceUkFormat):
    kind = "police_uk_stop_search"
    title = "police.uk stop and search"
    table = "police_uk_stop_search"
    dateformat = None

    def __init__(self) -> None:
        self.columns = (
            Col(
                "Type",
                reference.sql_enum(
                    ("Person search", "Vehicle search", "Person and Vehicle search")
                ),
                "expected Person search, Vehicle search or Person and Vehicle search",
                required=True,
            ),
            Col(
                "Date",
                "TIMESTAMPTZ",
                "expected an ISO 8601 date and time such as 2016-01-31T23:10:00+00:00",
                required=True,
            ),
            Col("Part of a policing operation", "BOOLEAN", "expected True or False"),
            Col("Policing operation"),
            Col("Latitude", "DOUBLE", "expected a latitude in decimal degrees"),
            Col("Longitude", "DOUBLE", "expected a longitude in decimal degrees"),
            Col("Gender"),
            Col("Age range"),
            Col("Self-defined ethnicity"),
            Col("Officer-defined ethnicity"),
            Col("Legislation"),
            Col("Object of search"),
            Col("Outcome"),
            Col("Outcome linked to object of search", "BOOLEAN", "expected True or False"),
            Col("Removal of more than just outer clothing", "BOOLEAN", "expected True or False"),
        )

    def needs_context(self) -> bool:
        return True

    def insert_sql(self, rows: str) -> str:
        return f"""
        INSERT INTO police_uk_stop_search
        SELECT ctx_force_code,
               coalesce(ctx_month,
                        CAST(date_trunc('month', "Date" AT TIME ZONE 'Europe/London') AS DATE)),
               CAST("Type" AS VARCHAR), "Date", "Part of a policing operation",
               "Policing operation", "Latitude", "Longitude", "Gender", "Age range",
               "Self-defined ethnicity", "Officer-defined ethnicity", "Legislation",
               "Object of search", "Outcome", "Outcome linked to object of search",
               "Removal of more than just outer clothing", load_id
        FROM {rows} AS r
        """
