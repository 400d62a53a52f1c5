"""A release onto a real published site (a copy of the demo's): what the public sees after the
release is the site as it was, with only the released force's judgments changed — every other
force keeps its grade, and the released force keeps its report, re-rendered with the new
text."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from peelkit.judgments import demo_judgments
from peelkit.site.app import create_app
from peelkit.workbench.service import content_of
from tests.workbench_support import KENT, MET, Team, team, to_approved

NEW_SUMMARY = "{force} is good at keeping people safe: the released text of the test."


@pytest.fixture
def released(demo_run, tmp_path: Path) -> Iterator[tuple[Team, TestClient]]:
    site = tmp_path / "site"
    shutil.copytree(demo_run.site, site)  # a release writes its bundle into the site
    t = team(f"sqlite:///{tmp_path / 'workbench.sqlite'}", site=site)
    data = content_of(demo_judgments()[MET])
    data["overall"] = dict(data["overall"], grade="good", summary=NEW_SUMMARY)
    t.wb.save(t.inspector, data, lock=None)
    to_approved(t)
    t.wb.schedule(t.lead, 2016, [MET], t.clock.now + timedelta(hours=1))
    yield t, TestClient(create_app(site, t.wb))
    t.wb.db.dispose()


def overall(client: TestClient, slug: str) -> str:
    page = client.get(f"/forces/{slug}").text
    found = re.search(r'data-grade="overall">([^<]*)<', page)
    assert found, page[:500]
    return found.group(1)


def report_text(client: TestClient) -> str:
    page = client.get("/forces/metropolitan").text
    link = re.search(r'href="(/reports/2016/metropolitan/[^"]+\.html)"', page)
    assert link, "the Met's page links no report"
    answer = client.get(link.group(1))
    assert answer.status_code == 200
    return answer.text


def test_a_release_changes_the_released_force_only_and_keeps_its_report(released):
    t, client = released
    assert (overall(client, "metropolitan"), overall(client, "kent")) == (
        "Requires improvement",
        "Good",
    )
    assert "the released text of the test" not in report_text(client)
    t.clock.advance(hours=1, minutes=1)
    assert overall(client, "metropolitan") == "Good"
    assert overall(client, "kent") == "Good"  # not "Not recorded": Kent was not released
    assert "the released text of the test" in report_text(client)
    grades = client.get("/api/v1/grades").json()
    recorded = [g for g in grades["forces"].values() if g["overall"] != "not recorded"]
    assert len(recorded) == 43
    assert grades["forces"][KENT]["overall"] == "good"


def test_a_release_remakes_the_reports_of_judged_forces_and_keeps_the_others_as_they_are(
    tmp_path,
):
    """On a site with every force's report but judgments for two forces only (the Met's
    released, Kent's kept), the new bundle makes again those two forces' reports and links the
    other 41 as they were: a report never borrows grades, and releasing one force never takes
    another's report off the site."""
    import tomli_w

    from peelkit import reference
    from peelkit.publish import BUNDLES
    from peelkit.workbench.release import report_forces
    from peelkit.workbench.service import content_of

    every = [f.code for f in reference.territorial_forces()]
    for code in every:
        (tmp_path / "site" / BUNDLES / "v1" / "reports" / "2016" / code).mkdir(parents=True)
    folder = tmp_path / "judgments"
    folder.mkdir()
    for code in ("E23000001", "E23000032"):
        doc = content_of(demo_judgments()[code])
        (folder / f"{code}-2016.toml").write_text(tomli_w.dumps(doc), encoding="utf-8")
    served = {"version": "v1", "with_reports": True}
    made, kept = report_forces(tmp_path / "site", served, folder, [2016], ["E23000001"])
    assert made == ["E23000001", "E23000032"]
    assert sorted(force for _, force, _ in kept) == sorted(set(every) - set(made))
    # a site with the Met's report only (as peelkit demo publishes it): that one, made again
    partial = {"version": "v1", "with_reports": False}
    for code in every[1:]:
        (tmp_path / "site" / BUNDLES / "v1" / "reports" / "2016" / code).rmdir()
    made, kept = report_forces(tmp_path / "site", partial, folder, [2016], ["E23000032"])
    assert made == ["E23000001", "E23000032"] and kept == []
