"""The site on real, partial data: only the official files in ../shared/data/real/ loaded. Every
figure without a value is the no-value mark with the reason from its record (what is missing
and what to load), never a zero; grades are "not recorded"; coverage names the gaps."""

from __future__ import annotations

import re
from datetime import date
from html import unescape

import pytest
from fastapi.testclient import TestClient

from peelkit import display, reference
from peelkit.ingest import ingest
from peelkit.publish import publish
from peelkit.site.app import create_app
from peelkit.warehouse import open_warehouse


@pytest.fixture(scope="module")
def client(real_data, tmp_path_factory) -> TestClient:
    folder = tmp_path_factory.mktemp("real-site")
    con = open_warehouse(folder / "w.duckdb")
    try:
        ingest(con, [real_data])
    finally:
        con.close()
    publish(folder / "w.duckdb", folder / "site", reports=False, period_ends=[date(2018, 3, 31)])
    return TestClient(create_app(folder / "site"))


def test_every_missing_figure_says_why_and_none_is_shown_as_zero(client):
    catalogue = {i["id"]: i for i in client.get("/api/v1/catalogue").json()["indicators"]}
    missing = 0
    for force in reference.territorial_forces():
        page = client.get(f"/forces/{force.slug}").text
        cells = {
            (m.group(1), m.group(2)): (unescape(m.group(3)).strip(), unescape(m.group(4)))
            for m in re.finditer(
                r'data-indicator="([^"]+)" data-row-key="([^"]*)">.*?'
                r'data-value="force">([^<]*)</td>.*?data-value="ew">[^<]*</td>\s*'
                r'<td class="govuk-table__cell">([^<]*)</td>',
                page,
                re.S,
            )
        }
        rows = client.get("/api/v1/records", params={"force": force.code, "per_page": 1000}).json()[
            "records"
        ]
        latest: dict[str, str] = {}
        for r in rows:
            latest[r["indicator_id"]] = max(latest.get(r["indicator_id"], ""), r["window_end"])
        for r in rows:
            if r["window_end"] != latest[r["indicator_id"]]:
                continue  # an earlier year of a series: the page shows the latest
            key = (r["indicator_id"], r["breakdown_key"] or "")
            shown, said = cells[key]
            if r["value"] is None:
                assert shown == display.NO_VALUE, (force.name, key, shown)
                assert said == f"No value: {r['note'] or r['coverage']}"
                missing += 1
            else:
                decimals = catalogue[r["indicator_id"]]["decimals"]
                assert shown == display.figure(r["value"], decimals)
    assert missing > 43 * 10
    home = client.get("/").text
    assert home.count("Not recorded") >= 43


def test_what_is_missing_names_the_input_and_what_to_load(client):
    rows = client.get("/api/v1/records", params={"force": "kent", "indicator": "FIN-2"}).json()[
        "records"
    ]
    note = rows[-1]["note"]
    assert "recorded crime for Kent Police lacks" in note and "load the Home Office" in note
    coverage = client.get("/coverage").text
    assert "absent" in coverage or "partial" in coverage


def test_a_data_profile_is_published_beside_the_inspection_without_grades(client):
    periods = client.get("/api/v1/cycles").json()["periods"]
    assert [(p["key"], p["cycle"]) for p in periods] == [("2016", 2016), ("2018-03-31", None)]
    page = client.get("/forces/kent", params={"period_end": "2018-03-31"}).text
    assert "A data profile, not an inspection" in page and ">Grades<" not in page
    rows = client.get(
        "/api/v1/records", params={"force": "kent", "period_end": "2018-03-31", "per_page": 1000}
    ).json()
    assert rows["period_end"] == "2018-03-31" and rows["cycle"] is None
    assert {r["period_end"] for r in rows["records"]} == {"2018-03-31"}
    fin2 = next(r for r in rows["records"] if r["indicator_id"] == "FIN-2")
    assert fin2["window"] == "12 months to 31 March 2018"
    # the profile's own figure page, and the inspection's page of the same force
    made = client.get("/forces/kent/indicators/FIN-2", params={"period_end": "2018-03-31"})
    assert made.status_code == 200 and "31 March 2018" in made.text
    assert ">Grades<" in client.get("/forces/kent").text
    absent = client.get("/api/v1/records", params={"period_end": "2019-03-31"})
    assert absent.status_code == 404 and "2018-03-31" in absent.json()["detail"]
    assert client.get("/api/v1/records", params={"period_end": "March 2018"}).status_code == 422
