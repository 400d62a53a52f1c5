"""The same indicator expressions give the same benchmark records on DuckDB and on Spark."""

from __future__ import annotations

import math

import pytest

from peelkit.indicators.engine import compute
from tests.test_engine import national  # noqa: F401  (the national fixture)

pytestmark = [
    pytest.mark.slow,
    # pyspark 4.0 warns about its own use of pandas and of deprecated APIs: not ours
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::FutureWarning"),
    pytest.mark.filterwarnings("ignore::UserWarning"),
]


def same(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def test_every_record_is_the_same_on_duckdb_and_pyspark(national):  # noqa: F811
    on_duckdb = compute(national)
    on_spark = compute(national, backend="pyspark")
    assert len(on_duckdb) == len(on_spark) > 1000
    for d, s in zip(on_duckdb, on_spark, strict=True):
        key = (d.indicator_id, d.breakdown, d.force_code, d.period)
        assert key == (s.indicator_id, s.breakdown, s.force_code, s.period)
        for field in ("value", "numerator", "denominator", "england_and_wales"):
            assert same(getattr(d, field), getattr(s, field)), (key, field)
        assert (d.coverage, d.note, d.verdict, d.rank, d.rank_verdict, d.load_ids) == (
            s.coverage,
            s.note,
            s.verdict,
            s.rank,
            s.rank_verdict,
            s.load_ids,
        ), key
        assert d.ew_forces == s.ew_forces, key
