"""Whole-number allocation: splitting counts so that every total is kept exactly.

The demo's figures are counts. A rate that must come out at a stated value fixes a total; the
total is then split among forces, quarters, offence codes and outcome types, and every split
must add up exactly (a quarter's offences by outcome type add to the offences recorded).
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def apportion(total: int, weights: Sequence[float]) -> list[int]:
    """Split ``total`` into whole parts in proportion to ``weights`` (largest remainder)."""
    if total < 0:
        raise ValueError(f"cannot split a negative total {total}")
    weight = sum(weights)
    if weight <= 0:
        if total:
            raise ValueError(f"cannot split {total} by weights that add to {weight}")
        return [0] * len(weights)
    ideal = [total * w / weight for w in weights]
    parts = [math.floor(x) for x in ideal]
    short = total - sum(parts)
    order = sorted(range(len(ideal)), key=lambda i: (parts[i] - ideal[i], i))
    for i in order[:short]:
        parts[i] += 1
    return parts


def transport(
    rows: Sequence[int], cols: Sequence[int], ideal: Sequence[Sequence[float]] | None = None
) -> list[list[int]]:
    """A whole-number table with the given row and column totals (which must add to the same
    number), close to ``ideal`` (by default proportional: row total × column total / total).

    ``ideal`` must itself have those row and column totals. Each cell is its ideal rounded
    down; the few units left over go out by the north-west corner rule.
    """
    total = sum(rows)
    if total != sum(cols):
        raise ValueError(f"row totals add to {total}, column totals to {sum(cols)}")
    if ideal is None:
        ideal = [[r * c / total if total else 0.0 for c in cols] for r in rows]
    table = [[max(0, math.floor(x + 1e-9)) for x in line] for line in ideal]
    row_short = [r - sum(line) for r, line in zip(rows, table, strict=True)]
    col_short = [c - sum(line[j] for line in table) for j, c in enumerate(cols)]
    if min(row_short, default=0) < 0 or min(col_short, default=0) < 0:
        raise ValueError("the ideal table does not have the given totals")
    i = j = 0
    while i < len(rows) and j < len(cols):
        if row_short[i] == 0:
            i += 1
            continue
        if col_short[j] == 0:
            j += 1
            continue
        step = min(row_short[i], col_short[j])
        table[i][j] += step
        row_short[i] -= step
        col_short[j] -= step
    return table
