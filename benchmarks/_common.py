"""What the benchmark scripts share: the folder they work in."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path


def work_folder(keep: Path | None, prefix: str, parser: argparse.ArgumentParser) -> Path:
    """``keep`` (which must be empty, and is kept), or a new temporary folder."""
    if keep is None:
        return Path(tempfile.mkdtemp(prefix=prefix))
    work = keep.resolve()
    if work.exists() and any(work.iterdir()):
        parser.error(f"--keep {work}: the folder is not empty")
    work.mkdir(parents=True, exist_ok=True)
    return work
