"""The PEEL indicators: the declarative catalogue (``catalogue.toml``, ``catalogue.py``), the
periods and population rules (``cycles.toml``, ``periods.py``), the measures as Ibis expressions
(``measures.py``) and the engine that computes every indicator for every force into benchmark
records (``engine.py``), with why a value is missing (``gaps.py``) or incomplete
(``incomplete.py``), and how one figure was made (``explain.py``)."""
