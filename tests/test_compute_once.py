"""Every command computes the benchmark records once, and only through the service layer.

``peelkit.service.compute_records`` is the one caller of the indicator engine; a command asks
it once and hands the records on (to a table, a report, an explanation). ``report check``
computes afresh on purpose — it holds a rendered report against new records — and says so.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from typer.testing import CliRunner

from peelkit import cli
from peelkit.indicators import engine

SRC = Path(__file__).resolve().parents[1] / "src" / "peelkit"


@pytest.fixture
def computes(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The period end of every run of the engine while the test runs."""
    calls: list[object] = []
    real = engine.compute

    def counted(*args: object, **kwargs: object) -> object:
        calls.append(kwargs.get("period_end"))
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(engine, "compute", counted)
    return calls


def run(*args: str) -> str:
    result = CliRunner().invoke(cli.app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (["indicators", "--force", "metropolitan", "--format", "csv"], 1),
        (
            [
                "indicators",
                "--period-end",
                "2016-06-30",
                "--indicator",
                "FIN-2",
                "--format",
                "json",
            ],
            1,
        ),
        (["explain", "metropolitan", "FIG-1", "12 months to 30 June 2014"], 1),
        (["explain", "kent", "FIG-4", "--row", "1 Charged/Summonsed"], 1),
        (["coverage"], 0),
        (["query", "SELECT count(*) FROM loads"], 0),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else str(v),
)
def test_a_command_computes_at_most_once(demo_run, computes, command, expected):
    run(*command, "-w", str(demo_run.warehouse))
    assert len(computes) == expected


def test_a_report_and_the_national_overview_each_compute_once(demo_run, computes, tmp_path):
    run("report", "kent", "-w", str(demo_run.warehouse), "--out", str(tmp_path), "--no-pdf")
    assert len(computes) == 1
    out = tmp_path / "national"
    run("national", "-w", str(demo_run.warehouse), "--out", str(out), "--no-pdf")
    assert len(computes) == 2


def test_report_check_computes_afresh_once_and_says_so(demo_run, computes, tmp_path):
    run("report", "kent", "-w", str(demo_run.warehouse), "--out", str(tmp_path), "--no-pdf")
    result = CliRunner().invoke(
        cli.app, ["report", "check", str(tmp_path / "kent"), "-w", str(demo_run.warehouse)]
    )
    assert result.exit_code == 0, result.output
    assert "computed afresh" in result.output
    assert len(computes) == 2  # the report's, and the check's own


def test_the_demo_computes_once_and_its_report_uses_those_records(computes, tmp_path):
    run(
        "demo",
        "--out",
        str(tmp_path / "data"),
        "-w",
        str(tmp_path / "w.duckdb"),
        "--reports",
        str(tmp_path / "reports"),
        "--site",
        str(tmp_path / "site"),
    )
    assert len(computes) == 1  # the report and the published site use the same records
    assert (tmp_path / "reports" / "metropolitan").is_dir()
    assert (tmp_path / "site" / "current").is_file()


def test_only_the_service_layer_runs_the_engine():
    """No module but peelkit.service imports or calls the engine's compute."""
    callers = []
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            imported = isinstance(node, ast.ImportFrom) and any(
                a.name == "compute" for a in node.names
            )
            called = isinstance(node, ast.Attribute) and node.attr == "compute"
            if imported or called:
                callers.append(str(path.relative_to(SRC)))
    assert sorted(set(callers)) == ["service.py"]
