"""Judgments files on disk: one TOML file per force and cycle, a folder of them (with
``overall-grades.csv`` for forces graded only overall), the demo's, and which a report uses by
default (the demo's only on the demo's warehouse: a report never borrows grades)."""

from __future__ import annotations

import csv
import tomllib
from collections.abc import Iterable
from functools import cache
from importlib import resources
from pathlib import Path

from peelkit import reference
from peelkit.errors import InvalidJudgments
from peelkit.judgments.checks import parse_judgments
from peelkit.judgments.model import Judgments


def load_judgments(path: Path) -> Judgments:
    """Read and validate one judgments file; every problem names the key and the fix."""
    name = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InvalidJudgments(f"{name} does not exist", path=name, problems=[]) from exc
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InvalidJudgments(
            f"{name} is not valid UTF-8 TOML: {exc}. Fix the syntax at that line.",
            path=name,
            problems=[str(exc)],
        ) from exc
    return parse_judgments(data, name)


def demo_folder(cycle: int = 2016) -> Path:
    """Where the demo's judgments of ``cycle`` are (``peelkit/demo/judgments/<cycle>/``)."""
    return Path(str(resources.files("peelkit.demo").joinpath("judgments", str(cycle))))


def load_folder(folder: Path, cycle: int) -> dict[str, Judgments]:
    """Every force's judgments in ``folder``: a ``<force>.toml`` file each, and, for forces
    without one, the overall grade from ``overall-grades.csv`` (force,name,overall_grade)."""
    found: dict[str, Judgments] = {}
    for path in sorted(folder.glob("*.toml")):
        j = load_judgments(path)
        if j.cycle != cycle:
            continue
        if j.force in found:
            raise InvalidJudgments(
                f"{path}: a second judgments file for {j.force} in {cycle}; keep one",
                path=str(path),
                problems=[],
            )
        found[j.force] = j
    grades = folder / "overall-grades.csv"
    if grades.is_file():
        with grades.open(encoding="utf-8", newline="") as fh:
            for line, row in enumerate(csv.DictReader(fh), start=2):
                code = reference.force_code_of(row.get("force") or "")
                if code is None:
                    raise InvalidJudgments(
                        f"{grades} line {line}: force {row.get('force')!r} is not a known force",
                        path=str(grades),
                        problems=[],
                    )
                if code in found:
                    if found[code].overall.grade != row.get("overall_grade"):
                        raise InvalidJudgments(
                            f"{grades} line {line}: overall grade {row.get('overall_grade')!r} "
                            f"disagrees with {code}'s judgments file "
                            f"({found[code].overall.grade!r}); make them agree",
                            path=str(grades),
                            problems=[],
                        )
                    continue
                found[code] = parse_judgments(
                    {
                        "force": code,
                        "cycle": cycle,
                        "source": f"{grades.name}: published overall grade only",
                        "overall": {"grade": row.get("overall_grade")},
                    },
                    f"{grades} line {line}",
                )
    return found


@cache
def demo_judgments(cycle: int = 2016) -> dict[str, Judgments]:
    """The judgments shipped with the demo: the Metropolitan Police's in full, and the
    published overall grade of every other force."""
    return load_folder(demo_folder(cycle), cycle)


def default_judgments(cycle: int, labels: Iterable[str]) -> dict[str, Judgments]:
    """The judgments a report uses when no folder is given: the demo's, but only on a warehouse
    holding the demo dataset (its loads carry ``peelkit.demo.sample.LABEL``, see
    ``warehouse.data_labels``); none on any other warehouse, whose reports then say that no
    judgments were loaded. A report never borrows the demo's grades."""
    from peelkit.demo.sample import LABEL

    return demo_judgments(cycle) if LABEL in labels else {}
