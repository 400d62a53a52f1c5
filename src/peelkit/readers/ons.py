"""ONS Local Authority District → Community Safety Partnership → Police Force Area lookup.

The file starts with a UTF-8 byte order mark. Every PFA name must be a known name of the force
whose code the row gives.
"""

from __future__ import annotations

from peelkit import reference
from peelkit.readers.base import Check, Col, CsvFormat, force_name_enum


class LadCspPfaLookup(CsvFormat):
    kind = "lad_csp_pfa"
    title = "ONS LAD to CSP to PFA lookup"
    table = "lad_csp_pfa"
    force_columns = ("PFA16NM",)

    def __init__(self) -> None:
        codes = reference.sql_enum(tuple(f.code for f in reference.territorial_forces()))
        self.columns = (
            Col("LAD16CD", required=True),
            Col("LAD16NM", required=True),
            Col("CSP16CD", required=True),
            Col("CSP16NM", required=True),
            Col("PFA16CD", codes, "expected the ONS code of a police force area", required=True),
            Col("PFA16NM", force_name_enum(), "expected a police force area name", required=True),
            Col("FID", "INTEGER", "expected a whole number"),
        )
        self.checks = (
            Check(
                "LAD16CD",
                "NOT regexp_full_match(\"LAD16CD\", '[EW]0[6-9]\\d{6}')",
                "expected an ONS local authority district code such as E09000001",
            ),
            Check(
                "CSP16CD",
                "NOT regexp_full_match(\"CSP16CD\", '(E22|W14)\\d{6}')",
                "expected an ONS community safety partnership code such as E22000004 or W14000001",
            ),
            Check(
                "PFA16NM",
                'CAST("PFA16CD" AS VARCHAR) <> (SELECT code FROM force_aliases '
                'WHERE alias = CAST("PFA16NM" AS VARCHAR))',
                "the PFA name is a name of a different force than the PFA code",
            ),
        )

    def insert_sql(self, rows: str) -> str:
        return f"""
        INSERT INTO lad_csp_pfa
        SELECT "LAD16CD", "LAD16NM", "CSP16CD", "CSP16NM", CAST("PFA16CD" AS VARCHAR),
               CAST("PFA16NM" AS VARCHAR), "FID", load_id
        FROM {rows} AS r
        """

    def periods_sql(self) -> str:
        return f"""
        SELECT load_id, '{self.kind}', pfa_code, 'December 2016', DATE '2016-12-01', 'as at',
               count(*), NULL, NULL
        FROM lad_csp_pfa WHERE load_id IN (SELECT load_id FROM __scope) GROUP BY ALL
        """
