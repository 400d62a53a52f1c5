"""The placeholder language of peelkit's texts: ``{name}`` or ``{name:argument[:argument]}``.

Judgments prose, the fixed texts of a report (``texts-<cycle>.toml``) and the layouts' titles
and sentence patterns are written with placeholders that the report fills from data, so that
no number or force name is ever typed into prose. This is the one parser: each kind of text
declares the names it allows, every text is checked when it is read, and an unknown
placeholder is an error naming the file and the key — never silently left out.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

#: One placeholder: {force}, {fact:case_files_reviewed}, {indicator:FIN-2:ew}.
PLACEHOLDER = re.compile(r"\{([^{}]*)\}")

#: What the fixed texts of a report may use (docs/judgments.md lists their meaning).
PROSE = frozenset(
    {
        "force",
        "cycle",
        "previous_cycle",
        "period_end",
        "population_year",
        "population_rule",
        "year",
        "fact",
        "indicator",
    }
)


def found(text: str) -> Iterator[tuple[str, ...]]:
    """Each placeholder of ``text`` as its name and arguments: ('indicator', 'FIN-2', 'ew')."""
    for match in PLACEHOLDER.finditer(text):
        yield tuple(match.group(1).split(":"))


def unknown(text: str, allowed: frozenset[str]) -> list[str]:
    """The placeholders of ``text`` whose name is not ``allowed``, as written."""
    return sorted({"{" + ":".join(p) + "}" for p in found(text) if p[0] not in allowed})


def check(text: str, allowed: frozenset[str], where: str) -> None:
    """ValueError naming ``where`` when ``text`` has a placeholder not ``allowed``."""
    bad = unknown(text, allowed)
    if bad:
        raise ValueError(
            f"{where}: unknown placeholder(s) {', '.join(bad)}; "
            f"known: {', '.join('{' + a + '}' for a in sorted(allowed))}"
        )
