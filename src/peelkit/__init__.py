"""peelkit: the indicators of the inspectorate's PEEL effectiveness reports, from the official
police data of the 43 forces of England and Wales, benchmarked against England and Wales, with
the inspectors' judgments and the force reports.

Data flows one way: reference data (``reference``) → readers, one per official source format
(``readers``) → the warehouse, DuckDB with its load ledger, coverage and plausibility findings
(``warehouse``, ``ingest``, ``plausibility``) → the indicators, a declarative catalogue computed
as Ibis expressions (``indicators``) → benchmark records (value, intervals, verdicts, ranks,
coverage, the loads behind them) → outputs that render records and never recompute a statistic:
the command line (``cli``, ``present``), the force reports and the national overview
(``report``), with every figure written by ``display``. ``judgments`` holds the inspectors'
graded judgments, ``demo`` the synthetic data, and ``docs/methodology.md`` the method.
"""

__version__ = "0.1.0"
