"""ONS Local Authority District → Community Safety Partnership → Police Force Area lookup.

The file starts with a UTF-8 byte order mark. Every PFA name must be a known name of the force
whose code the row gives.
"""

from __future__ import annotations

from peelkit import reference
from peelkit.readers.base import Check, Col, CsvFormat, force_name_enum

#: The years of the lookup peelkit reads: ONS publishes it each December with the year's codes
#: in its column names (LAD16CD … PFA16NM for December 2016).
LOOKUP_YEARS = tuple(range(2016, 2025))


class LadCspPfaLookup(CsvFormat):
    """The lookup of one year; its year is in its header (``LAD16CD``) and kept with its rows,
    so that estimates are aggregated through the lookup of their own geography."""

    kind = "lad_csp_pfa"
    title = "ONS LAD to CSP to PFA lookup"
    table = "lad_csp_pfa"

    def __init__(self, year: int = 2016) -> None:
        self.year = year
        yy = f"{year % 100:02d}"
        self.lad, self.lad_name = f"LAD{yy}CD", f"LAD{yy}NM"
        self.csp, self.csp_name = f"CSP{yy}CD", f"CSP{yy}NM"
        self.pfa, self.pfa_name = f"PFA{yy}CD", f"PFA{yy}NM"
        self.title = f"ONS LAD to CSP to PFA lookup (December {year})"
        self.force_columns = (self.pfa_name,)
        codes = reference.sql_enum(tuple(f.code for f in reference.territorial_forces()))
        self.columns = (
            Col(self.lad, required=True),
            Col(self.lad_name, required=True),
            Col(self.csp, required=True),
            Col(self.csp_name, required=True),
            Col(self.pfa, codes, "expected the ONS code of a police force area", required=True),
            Col(
                self.pfa_name, force_name_enum(), "expected a police force area name", required=True
            ),
            Col("FID", "INTEGER", "expected a whole number"),
        )
        self.checks = (
            Check(
                self.lad,
                f"NOT regexp_full_match(\"{self.lad}\", '[EW]0[6-9]\\d{{6}}')",
                "expected an ONS local authority district code such as E09000001",
            ),
            Check(
                self.csp,
                f"NOT regexp_full_match(\"{self.csp}\", '(E22|W14)\\d{{6}}')",
                "expected an ONS community safety partnership code such as E22000004 or W14000001",
            ),
            Check(
                self.pfa_name,
                f'CAST("{self.pfa}" AS VARCHAR) <> (SELECT code FROM force_aliases '
                f'WHERE alias = CAST("{self.pfa_name}" AS VARCHAR))',
                "the PFA name is a name of a different force than the PFA code",
            ),
        )

    def insert_sql(self, rows: str) -> str:
        return f"""
        INSERT INTO lad_csp_pfa
            (lad_code, lad_name, csp_code, csp_name, pfa_code, pfa_name, fid, year, load_id)
        SELECT "{self.lad}", "{self.lad_name}", "{self.csp}", "{self.csp_name}",
               CAST("{self.pfa}" AS VARCHAR), CAST("{self.pfa_name}" AS VARCHAR), "FID",
               {self.year}, load_id
        FROM {rows} AS r
        """

    def periods_sql(self) -> str:
        return f"""
        SELECT load_id, '{self.kind}', pfa_code, 'December ' || CAST(year AS VARCHAR),
               make_date(year, 12, 1), 'as at', count(*), NULL, NULL
        FROM lad_csp_pfa WHERE load_id IN (SELECT load_id FROM __scope) GROUP BY ALL
        """
