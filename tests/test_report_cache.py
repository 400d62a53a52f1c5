"""A report whose inputs are unchanged is not made again; any change makes it again."""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

import pytest

from peelkit import service
from peelkit.indicators.periods import for_cycle
from peelkit.report.cache import MANIFEST

MET, KENT = "E23000001", "E23000032"


def mtimes(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in folder.iterdir() if p.name != MANIFEST}


@pytest.fixture
def judgments(tmp_path) -> Path:
    """A copy of the demo's judgments, to change."""
    source = resources.files("peelkit.demo").joinpath("judgments", "2016")
    folder = tmp_path / "judgments"
    folder.mkdir()
    for name in ("metropolitan.toml", "overall-grades.csv"):
        (folder / name).write_text(source.joinpath(name).read_text("utf-8"), encoding="utf-8")
    return folder


def test_unchanged_inputs_are_not_rebuilt_and_any_change_is(demo_run, tmp_path, judgments):
    out = tmp_path / "reports"
    forces = [MET, KENT]

    def run(**options):
        return {
            r.force: r
            for r in service.reports(
                demo_run.warehouse,
                forces,
                out,
                for_cycle(2016),
                judgments_folder=judgments,
                pdf=False,
                **options,
            )
        }

    first = run()
    assert not any(r.unchanged for r in first.values())
    met, kent = out / "metropolitan", out / "kent"
    before = {MET: mtimes(met), KENT: mtimes(kent)}
    second = run()
    assert all(r.unchanged for r in second.values())
    assert {MET: mtimes(met), KENT: mtimes(kent)} == before  # no file rewritten
    assert second[MET].files.html == first[MET].files.html

    # a changed judgment makes that force's report again, and only that one
    toml = judgments / "metropolitan.toml"
    text = toml.read_text("utf-8")
    assert 'previous_grade = "requires improvement"' in text
    toml.write_text(
        text.replace('previous_grade = "requires improvement"', 'previous_grade = "good"', 1),
        "utf-8",
    )
    third = run()
    assert not third[MET].unchanged and third[KENT].unchanged
    assert mtimes(kent) == before[KENT]

    # a file missing or edited since: made again
    third[KENT].files.numbers.unlink()
    (met / third[MET].files.html.name).write_text("edited", encoding="utf-8")
    fourth = run()
    assert not fourth[KENT].unchanged and not fourth[MET].unchanged
    assert third[KENT].files.numbers.is_file()
    assert "edited" not in third[MET].files.html.read_text(encoding="utf-8")

    # --rebuild makes everything again
    assert not any(r.unchanged for r in run(rebuild=True).values())


def test_a_changed_record_makes_every_report_again(demo_run, tmp_path, judgments):
    """Every report compares its force with all the others: new data, new reports."""
    out = tmp_path / "reports"
    warehouse = tmp_path / "copy.duckdb"
    shutil.copy(demo_run.warehouse, warehouse)
    service.reports(warehouse, [KENT], out, for_cycle(2016), judgments_folder=judgments, pdf=False)
    from peelkit.warehouse import open_warehouse

    con = open_warehouse(warehouse)
    con.execute("UPDATE population SET population = population + 1000 WHERE force_code = ?", [MET])
    con.close()
    [again] = service.reports(
        warehouse, [KENT], out, for_cycle(2016), judgments_folder=judgments, pdf=False
    )
    assert not again.unchanged


def test_the_run_hands_its_work_to_spawned_workers_too(demo_run, tmp_path, judgments):
    # spawn (Python 3.14's default on Linux) starts workers with nothing of the parent's
    # memory: the reports must come out as they do in one process
    forces = [MET, KENT]
    spawned = service.reports(
        demo_run.warehouse,
        forces,
        tmp_path / "spawned",
        for_cycle(2016),
        judgments_folder=judgments,
        pdf=False,
        workers=2,
        start_method="spawn",
    )
    alone = service.reports(
        demo_run.warehouse,
        forces,
        tmp_path / "alone",
        for_cycle(2016),
        judgments_folder=judgments,
        pdf=False,
        workers=1,
    )
    assert [r.force for r in spawned] == forces
    for a, b in zip(spawned, alone, strict=True):
        assert not a.unchanged
        assert a.files.html.read_bytes() == b.files.html.read_bytes()
