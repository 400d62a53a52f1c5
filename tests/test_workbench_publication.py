"""Publication through the workbench on a real site: the release's bundle carries the reports
of the forces it releases (made before, with the new judgments), a correction is published as
a new version with a public notice, and the command line schedules and publishes."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from peelkit.judgments import demo_judgments
from peelkit.site.app import create_app
from peelkit.workbench.service import content_of
from tests.workbench_support import MET, Team, team, to_approved

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@pytest.fixture
def released(demo_run, tmp_path: Path) -> Iterator[tuple[Team, TestClient, Path]]:
    site = tmp_path / "site"
    shutil.copytree(demo_run.site, site, symlinks=True)
    t = team(f"sqlite:///{tmp_path}/workbench.sqlite", site=site)
    t.wb.import_judgments(t.inspector, demo_judgments()[MET])
    yield t, TestClient(create_app(site, t.wb)), site
    t.wb.db.dispose()


def test_a_release_carries_the_released_forces_report_and_a_correction_its_notice(released):
    t, public, _site = released
    data = content_of(demo_judgments()[MET])
    data["overall"]["summary"] = (
        data["overall"]["summary"] + " A sentence added for this test. " + XSS
    )
    lock = t.wb.draft(t.lead, MET, 2016).status.lock
    t.wb.save(t.inspector, data, lock=lock)
    to_approved(t)
    t.wb.schedule(t.lead, 2016, [MET], t.clock.now + timedelta(hours=1))
    report = "/reports/2016/metropolitan/peel-effectiveness-2016.html"
    assert "A sentence added for this test." not in public.get(report).text
    t.clock.advance(hours=1)
    page = public.get(report)
    assert page.status_code == 200
    assert "A sentence added for this test." in page.text
    # the payload is text in the published report and its PDF, never markup
    assert "<script>alert" not in page.text and "<img src=x" not in page.text
    assert "&lt;script&gt;alert(" in page.text
    pdf = public.get("/reports/2016/metropolitan/peel-effectiveness-2016.pdf")
    assert pdf.status_code == 200
    (_site / "met.pdf").write_bytes(pdf.content)
    text = subprocess.run(
        ["pdftotext", str(_site / "met.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "<script>alert" in " ".join(text.split())  # shown as the characters typed
    # a correction: a new version, through the workflow again, published with its notice
    lock = t.wb.draft(t.lead, MET, 2016).status.lock
    t.wb.step(t.lead, MET, 2016, "correct", lock=lock, comment="We corrected the added sentence.")
    data["overall"]["summary"] = data["overall"]["summary"].replace("added", "corrected")
    t.wb.save(t.inspector, data, lock=t.wb.draft(t.lead, MET, 2016).status.lock)
    assert "A sentence corrected" not in public.get(report).text  # still the published one
    to_approved(t)
    t.wb.schedule(t.lead, 2016, [MET], None)
    force = public.get("/forces/metropolitan").text
    assert "We corrected the added sentence." in force
    assert "Correction," in force
    assert "A sentence corrected for this test." in public.get(report).text
    draft = t.wb.draft(t.lead, MET, 2016)
    assert (draft.status.state, draft.status.version, draft.status.published_version) == (
        "published",
        4,  # imported, saved, the correction opened, the correction written
        4,
    )


def test_the_command_line_schedules_and_publishes_on_the_site(released, monkeypatch):
    from typer.testing import CliRunner

    from peelkit.cli import app

    t, public, site = released
    monkeypatch.setenv("PEELKIT_NOW", t.clock.now.isoformat())  # the command's clock is ours
    to_approved(t)
    run = CliRunner().invoke
    db = ["--database", str(t.wb.db.url)]
    result = run(app, ["judgments", "publish", "--as", "lead", "--site", str(site), *db])
    assert result.exit_code == 0, result.output
    assert "Published (release" in result.output
    result = run(app, ["judgments", "status", "--as", "analyst", *db])
    assert "published" in result.output
    grades = public.get("/api/v1/grades").json()
    met = grades["forces"][MET] if "forces" in grades else grades
    assert "requires improvement" in str(met)


def test_new_data_is_published_through_a_release_keeping_the_public_judgments(
    released, demo_run, monkeypatch
):
    from typer.testing import CliRunner

    from peelkit.cli import app

    t, public, site = released
    monkeypatch.setenv("PEELKIT_NOW", t.clock.now.isoformat())  # the command's clock is ours
    data = content_of(demo_judgments()[MET])
    data["overall"]["grade"] = "good"
    t.wb.save(t.inspector, data, lock=t.wb.draft(t.lead, MET, 2016).status.lock)
    to_approved(t)
    t.wb.schedule(t.lead, 2016, [MET], None)
    before = public.get("/api/v1/cycles").json()["version"]
    db = ["--database", str(t.wb.db.url)]
    run = CliRunner().invoke
    refused = run(
        app,
        [
            "publish",
            "-w",
            str(demo_run.warehouse),
            "--site",
            str(site),
            "--no-reports",
            "--as",
            "inspector",
            *db,
        ],
    )
    assert refused.exit_code != 0  # an inspector does not publish data
    assert public.get("/api/v1/cycles").json()["version"] == before
    result = run(
        app,
        [
            "publish",
            "-w",
            str(demo_run.warehouse),
            "--site",
            str(site),
            "--no-reports",
            "--as",
            "analyst",
            *db,
        ],
    )
    assert result.exit_code == 0, result.output
    after = public.get("/api/v1/cycles").json()["version"]
    assert after != before
    grades = public.get("/api/v1/grades").json()
    assert grades["forces"][MET]["overall"] == "good"  # the released grade, kept
