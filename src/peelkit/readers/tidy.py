"""peelkit's own tidy CSV formats, for data no official table carries in a stable layout.

Population and households (``docs/formats.md#population``)::

    code,year,population,households,source
    E23000001,2015,8650000,3480000,ONS mid-2015 estimates (approximation)

An optional sixth column ``basis`` says what the population counts: ``resident`` (the default)
or ``resident and transient`` (City of London, as HMIC uses it).

Force data returns (``docs/formats.md#data-returns``)::

    force,item,period,value,unit,note
    Metropolitan Police,ocgs_active,2016-07-01,727,groups,
    Durham,domestic_abuse_arrests,2015-07-01/2016-06-30,could not supply,arrests,no custody data

``period`` is an ISO date ("as at") or an ISO interval of two dates. ``value`` is a number, or
the words ``could not supply`` — a recorded state, never a zero. ``item`` is one of the data
return items; two take a qualifier after a colon (``ocgs_predominant_type:drug activity``,
``domestic_abuse_outcomes:1``).
"""

from __future__ import annotations

from peelkit import reference
from peelkit.readers.base import Check, Col, CsvFormat, force_any_name_enum

FORCE_BY_ANY_NAME = (
    "(SELECT code FROM forces WHERE code = CAST({col} AS VARCHAR) OR slug = CAST({col} AS VARCHAR) "
    "UNION SELECT code FROM force_aliases WHERE alias = CAST({col} AS VARCHAR) LIMIT 1)"
)


def _force_code(column: str) -> str:
    return FORCE_BY_ANY_NAME.format(col=f'r."{column}"')


class Population(CsvFormat):
    kind = "population"
    title = "population and households by police force area (peelkit tidy CSV)"
    table = "population"
    force_columns = ("code",)
    with_basis = False

    def __init__(self) -> None:
        self.columns = (
            Col(
                "code",
                force_any_name_enum(),
                "expected an ONS PFA code or force name",
                required=True,
            ),
            Col("year", required=True),
            Col("population", "UBIGINT", "expected a whole number of people", required=True),
            Col(
                "households",
                "UBIGINT",
                "expected a whole number of households, or empty if unknown",
            ),
            Col("source", required=True),
        )
        self.checks = (
            Check(
                "year",
                "NOT regexp_full_match(year, '(19|20)\\d{2}')",
                "expected a year such as 2015",
            ),
        )
        if self.with_basis:
            self.columns = (*self.columns, Col("basis", required=True))
            self.checks = (
                *self.checks,
                Check(
                    "basis",
                    "basis NOT IN ('resident', 'resident and transient')",
                    "expected 'resident' or 'resident and transient'",
                ),
            )

    def insert_sql(self, rows: str) -> str:
        basis = "basis" if self.with_basis else "'resident'"
        return f"""
        INSERT INTO population
        SELECT {_force_code("code")}, CAST(year AS SMALLINT), population, households,
               {basis}, source, load_id
        FROM {rows} AS r
        """

    def periods_sql(self) -> str:
        # households are a source of their own in coverage: a file may give population only
        return """
        SELECT load_id, 'population', force_code, 'mid-' || CAST(year AS VARCHAR),
               make_date(year, 6, 30), 'year', count(*), NULL, NULL
        FROM population WHERE load_id IN (SELECT load_id FROM __scope) GROUP BY ALL
        UNION ALL
        SELECT load_id, 'households', force_code, 'mid-' || CAST(year AS VARCHAR),
               make_date(year, 6, 30), 'year', count(*), NULL, NULL
        FROM population
        WHERE load_id IN (SELECT load_id FROM __scope) AND households IS NOT NULL
        GROUP BY ALL
        """


class PopulationWithBasis(Population):
    kind = "population"
    with_basis = True


PERIOD_DATE = r"\d{4}-\d{2}-\d{2}"


class DataReturns(CsvFormat):
    kind = "data_returns"
    title = "force data returns (peelkit tidy CSV)"
    table = "data_returns"
    force_columns = ("force",)

    def __init__(self) -> None:
        items = ", ".join(f"'{i.item}'" for i in reference.data_return_items())
        self.columns = (
            Col(
                "force",
                force_any_name_enum(),
                "expected a police force name or code",
                required=True,
            ),
            Col("item", required=True),
            Col("period", required=True),
            Col("value", required=True),
            Col("unit", required=True),
            Col("note"),
        )
        self.checks = (
            Check(
                "item",
                f"split_part(item, ':', 1) NOT IN ({items})",
                "expected a data return item of reference/data/data_return_items.csv",
            ),
            Check(
                "period",
                f"NOT (regexp_full_match(period, '{PERIOD_DATE}')"
                " AND TRY_CAST(period AS DATE) IS NOT NULL"
                f" OR regexp_full_match(period, '{PERIOD_DATE}/{PERIOD_DATE}')"
                " AND TRY_CAST(split_part(period, '/', 1) AS DATE)"
                " <= TRY_CAST(split_part(period, '/', 2) AS DATE))",
                "expected an 'as at' date (2016-07-01) or an interval (2015-07-01/2016-06-30)",
            ),
            Check(
                "value",
                "TRY_CAST(value AS DOUBLE) IS NULL AND lower(trim(value)) <> 'could not supply'"
                " OR TRY_CAST(value AS DOUBLE) < 0 OR NOT isfinite(TRY_CAST(value AS DOUBLE))",
                "expected a number of 0 or more, or the words 'could not supply'",
            ),
        )

    def insert_sql(self, rows: str) -> str:
        return f"""
        INSERT INTO data_returns
        SELECT {_force_code("force")},
               split_part(item, ':', 1),
               CASE WHEN contains(item, ':') THEN trim(substr(item, strpos(item, ':') + 1)) END,
               CASE WHEN contains(period, '/') THEN CAST(split_part(period, '/', 1) AS DATE) END,
               CAST(CASE WHEN contains(period, '/') THEN split_part(period, '/', 2)
                         ELSE period END AS DATE),
               CASE WHEN lower(trim(value)) = 'could not supply' THEN 'could not supply'
                    ELSE 'supplied' END,
               TRY_CAST(value AS DOUBLE), unit, note, load_id
        FROM {rows} AS r
        """

    def periods_sql(self) -> str:
        return """
        SELECT load_id, 'data_return:' || item, force_code,
               coalesce(CAST(period_start AS VARCHAR) || '/', '') || CAST(period_end AS VARCHAR),
               coalesce(period_start, period_end),
               CASE WHEN period_start IS NULL THEN 'as at' ELSE 'interval' END,
               count(*) FILTER (WHERE status = 'supplied'), NULL,
               CASE WHEN bool_and(status = 'could not supply') THEN 'could not supply' END
        FROM data_returns WHERE load_id IN (SELECT load_id FROM __scope)
        GROUP BY load_id, item, force_code,
             period_start, period_end
        """
