"""Running the indicator expressions on Apache Spark (``--backend pyspark``, optional extra).

The same Ibis functions of :mod:`peelkit.indicators.measures` run unchanged on Spark: the
warehouse tables they read are written to Parquet and registered as Spark views. On one
2-core machine Spark is far slower than DuckDB; it is here for clusters, and a parity test
keeps the two backends giving the same records.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import duckdb
import ibis

from peelkit.errors import PeelkitError

#: The warehouse tables the measures read.
TABLES = (
    "recorded_crime",
    "offence_classification",
    "crime_outcomes",
    "population",
    "data_returns",
)


def spark_backend(con: duckdb.DuckDBPyConnection, folder: Path | None = None) -> ibis.BaseBackend:
    """An Ibis backend on a local Spark session holding the warehouse tables the measures read."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise PeelkitError(
            "The pyspark backend needs the optional Spark extra and Java 17: "
            "pip install 'peelkit[spark]' (scripts/setup installs it)."
        ) from exc
    folder = Path(folder or tempfile.mkdtemp(prefix="peelkit-spark-"))
    session: Any = (
        SparkSession.builder.master("local[2]")
        .appName("peelkit")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    for table in TABLES:
        path = folder / f"{table}.parquet"
        con.execute(f"COPY {table} TO '{path}' (FORMAT parquet)")
        session.read.parquet(str(path)).createOrReplaceTempView(table)
    return ibis.pyspark.connect(session)
