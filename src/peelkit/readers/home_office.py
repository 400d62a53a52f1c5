"""Home Office open data tables: police recorded crime (PFA table) and crime outcomes.

Both come as CSV exported from the published spreadsheets, or as the ODS spreadsheet itself.
Quirks handled here, as the Home Office publishes them: counts padded with spaces and ``-00``
for zero; offences listed more than once for the same force, quarter and code (Homicide
appears four times) whose counts are summed; British Transport Police and the fraud bodies
(Action Fraud, CIFAS, UK Finance, Financial Fraud Action UK) listed as forces. The outcomes
table keeps both of its counts: outcomes for offences *recorded in the quarter* (tracked, as
Figure 4 needs) and outcomes *recorded in the quarter* whatever the offence date (untracked).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date

from peelkit.readers.base import (
    IN_SCOPE,
    Col,
    CsvFormat,
    count_check,
    count_value,
    financial_year_check,
    force_name_enum,
    offence_code_enum,
    outcome_type_enum,
    quarter_check,
    quarter_start_sql,
)


def _offence_columns() -> tuple[Col, ...]:
    return (
        Col("Financial Year", required=True),
        Col("Financial Quarter", required=True),
        Col("Force Name", force_name_enum(), "expected a police force name", required=True),
        Col("Offence Description"),
        Col("Offence Group"),
        Col("Offence Subgroup"),
        Col(
            "Offence Code",
            offence_code_enum(),
            "expected an offence code of the Home Office offence classification",
            required=True,
        ),
    )


class _QuarterlyTable(CsvFormat):
    """A Home Office table of force x quarter x offence rows; repeated rows are summed."""

    force_columns = ("Force Name",)
    ends_with_line_break = True

    def period_of(self, fields: Mapping[str, str]) -> date | None:
        """The quarter's first day from "Financial Year" (2017/18) and "Financial Quarter"."""
        year = re.fullmatch(r"(\d{4})/\d{2}", fields.get("Financial Year", ""))
        quarter = fields.get("Financial Quarter", "")
        if year is None or quarter not in ("1", "2", "3", "4"):
            return None
        month = 4 + 3 * (int(quarter) - 1)  # Q1 starts in April
        return date(int(year[1]) + (month > 12), (month - 1) % 12 + 1, 1)

    def accepted_rows_sql(self) -> str:
        return f"SELECT load_id, sum(source_rows) FROM {self.table} WHERE {IN_SCOPE} GROUP BY 1"

    def periods_sql(self) -> str:
        return f"""
        SELECT load_id, '{self.kind}', force_code,
               financial_year || ' Q' || CAST(financial_quarter AS VARCHAR), quarter_start,
               'quarter', sum(source_rows), NULL, NULL
        FROM {self.table} WHERE {IN_SCOPE} GROUP BY ALL
        """


class RecordedCrime(_QuarterlyTable):
    kind = "recorded_crime"
    title = "Home Office police recorded crime, Police Force Area table"
    table = "recorded_crime"

    def __init__(self) -> None:
        self.columns = (*_offence_columns(), Col("Number of Offences", required=True))
        self.checks = (
            financial_year_check("Financial Year"),
            quarter_check("Financial Quarter"),
            count_check("Number of Offences"),
        )

    def insert_sql(self, rows: str) -> str:
        return f"""
        INSERT INTO recorded_crime
        SELECT "Financial Year", CAST(trim("Financial Quarter") AS TINYINT),
               {quarter_start_sql("Financial Year", "Financial Quarter")},
               fa.code, CAST("Offence Code" AS VARCHAR),
               sum({count_value("Number of Offences")}), count(*), load_id
        FROM {rows} AS r
        JOIN force_aliases AS fa ON fa.alias = CAST(r."Force Name" AS VARCHAR)
        GROUP BY ALL
        """


class CrimeOutcomes(_QuarterlyTable):
    kind = "crime_outcomes"
    title = "Home Office crime outcomes open data table"
    table = "crime_outcomes"
    TRACKED = "Force outcomes for offences recorded in quarter"
    UNTRACKED = "Force outcomes recorded in quarter"

    def __init__(self) -> None:
        self.columns = (
            *_offence_columns(),
            Col("Outcome Description"),
            Col("Outcome Group"),
            Col(
                "Outcome Type",
                outcome_type_enum(),
                "expected a Home Office outcome type number from 0 to 22",
                required=True,
            ),
            Col(self.TRACKED),
            Col(self.UNTRACKED),
        )
        self.checks = (
            financial_year_check("Financial Year"),
            quarter_check("Financial Quarter"),
            count_check(self.TRACKED),
            count_check(self.UNTRACKED),
        )

    def insert_sql(self, rows: str) -> str:
        return f"""
        INSERT INTO crime_outcomes
        SELECT "Financial Year", CAST(trim("Financial Quarter") AS TINYINT),
               {quarter_start_sql("Financial Year", "Financial Quarter")},
               fa.code, CAST("Offence Code" AS VARCHAR),
               CAST(CAST("Outcome Type" AS VARCHAR) AS TINYINT),
               sum({count_value(self.TRACKED)}), sum({count_value(self.UNTRACKED)}),
               count(*), load_id
        FROM {rows} AS r
        JOIN force_aliases AS fa ON fa.alias = CAST(r."Force Name" AS VARCHAR)
        GROUP BY ALL
        """
