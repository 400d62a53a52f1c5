"""A report is not rebuilt when nothing it is made from has changed.

Each report folder keeps a manifest, ``.peelkit-report.json``: the digest of the report's
inputs — the benchmark records of every force (its charts compare forces), the force's
judgments, the data label, whether a PDF was asked for, and peelkit's own code, layouts,
texts, glossary and templates — and the sha256 of every file written. A second run with the
same inputs, whose files are all still there unchanged, skips the report; any change, a
missing or edited file, or ``--rebuild`` makes it again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from functools import cache
from pathlib import Path

import peelkit
from peelkit.report.render import ReportFiles

MANIFEST = ".peelkit-report.json"


@cache
def code_digest() -> str:
    """peelkit's code and the report's data files (layouts, texts, glossary, templates): a
    report made by other code is made again."""
    root = Path(peelkit.__file__).parent
    h = hashlib.sha256(peelkit.__version__.encode())
    for path in sorted(root.rglob("*")):
        if path.suffix in (".py", ".toml", ".csv", ".j2", ".css", ".sql") and path.is_file():
            h.update(str(path.relative_to(root)).encode())
            h.update(path.read_bytes())
    return h.hexdigest()


def inputs_digest(parts: Iterable[str]) -> str:
    h = hashlib.sha256(code_digest().encode())
    for part in parts:
        h.update(hashlib.sha256(part.encode()).digest())
    return h.hexdigest()


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def unchanged(folder: Path, digest: str) -> ReportFiles | None:
    """The files of the report in ``folder`` if it was made from these inputs and every file is
    as written; else None (make it again)."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if manifest.get("inputs") != digest or not manifest.get("files"):
        return None
    for name, sha in manifest["files"].items():
        path = folder / name
        if not path.is_file() or _file_digest(path) != sha:
            return None
    return ReportFiles(
        html=folder / manifest["html"],
        pdf=folder / manifest["pdf"] if manifest["pdf"] else None,
        svgs=tuple(folder / n for n in manifest["svgs"]),
        numbers=folder / manifest["numbers"],
        pages=manifest["pages"],
    )


def record(folder: Path, digest: str, files: ReportFiles) -> None:
    """Write the manifest of a report just made."""
    written = [files.html, files.numbers, *files.svgs] + ([files.pdf] if files.pdf else [])
    manifest = {
        "inputs": digest,
        "html": files.html.name,
        "pdf": files.pdf.name if files.pdf else None,
        "svgs": [p.name for p in files.svgs],
        "numbers": files.numbers.name,
        "pages": files.pages,
        "files": {p.name: _file_digest(p) for p in sorted(written)},
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
