"""Small helpers several test modules share."""

from __future__ import annotations

from datetime import date

import duckdb

from peelkit import service
from peelkit.indicators.engine import BenchmarkRecord
from peelkit.indicators.periods import for_date
from peelkit.report.check import Fresh


def fresh(con: duckdb.DuckDBPyConnection) -> Fresh:
    """The records ``report check`` holds a report against, computed from ``con``."""

    def computed(end: date) -> list[BenchmarkRecord]:
        return service.compute_records(con, for_date(end))

    return computed
