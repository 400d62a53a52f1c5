"""peelkit: PEEL police effectiveness indicators from official police data.

Data flows one way: reference data -> readers -> the warehouse (DuckDB) -> indicators ->
benchmark records -> outputs. This package currently holds the data spine: reference data,
one reader per official source format, and the warehouse with its load ledger and coverage.
"""

__version__ = "0.1.0"
