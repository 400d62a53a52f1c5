"""The public site and API on the demo's published bundle: every page type answers, the pages
show the API's numbers, bad parameters get clear errors, nothing user-supplied is executed,
every route declares who may use it, and a new publication is served at once."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from peelkit import display, reference
from peelkit.publish import current, publish
from peelkit.site.app import ROUTES, create_app

PAGES = [
    "/",
    "/?region=London&grade=good&sort=grade",
    "/forces/metropolitan",
    "/forces/E23000032",
    "/indicators",
    "/indicators/FIN-5",
    "/indicators/FIN-5?force=kent",
    "/forces/kent/indicators/FIN-5",
    "/forces/kent/indicators/FIG-4",
    "/coverage",
    "/national",
    "/compare?force=kent&force=essex&force=&force=",
    "/search?q=Devon",
    "/charts/2016/FIN-5.svg",
    "/api/v1/forces",
    "/api/v1/cycles",
    "/api/v1/catalogue",
    "/api/v1/records?force=kent&indicator=FIN-5",
    "/api/v1/grades",
    "/api/v1/lineage?force=kent&indicator=FIN-5",
    "/api/v1/openapi.json",
]
PAYLOADS = ["<script>alert(1)</script>", "'\"><img src=x onerror=alert(1)>", "'; DROP TABLE x;--"]


@pytest.fixture(scope="module")
def site(demo_run, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("site")
    publish(demo_run.warehouse, folder, reports=False)
    return folder


@pytest.fixture(scope="module")
def client(site) -> TestClient:
    return TestClient(create_app(site))


@pytest.mark.parametrize("url", PAGES)
def test_every_page_type_answers_with_the_security_headers(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.text[:300]
    csp = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp.replace(
        "style-src 'unsafe-inline'", ""
    )
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"]
    assert response.headers["etag"]
    if response.headers["content-type"].startswith("text/html"):
        assert "<script>" not in response.text  # no inline script anywhere
        assert 'style="' not in response.text


def test_the_force_page_shows_the_apis_numbers_for_every_force_and_indicator(client):
    catalogue = {i["id"]: i for i in client.get("/api/v1/catalogue").json()["indicators"]}
    checked = 0
    for force in reference.territorial_forces():
        page = client.get(f"/forces/{force.slug}").text
        rows = client.get("/api/v1/records", params={"force": force.code, "per_page": 1000}).json()[
            "records"
        ]
        shown = {
            (m.group(1), m.group(2)): unescape(m.group(3)).strip()
            for m in re.finditer(
                r'data-indicator="([^"]+)" data-row-key="([^"]*)">.*?'
                r'data-value="force">([^<]*)</td>',
                page,
                re.S,
            )
        }
        latest: dict[str, str] = {}
        for r in rows:
            latest[r["indicator_id"]] = max(latest.get(r["indicator_id"], ""), r["window_end"])
        for r in rows:
            if r["window_end"] != latest[r["indicator_id"]]:
                continue
            decimals = catalogue[r["indicator_id"]]["decimals"]
            key = (r["indicator_id"], r["breakdown_key"] or "")
            assert shown[key] == display.figure(r["value"], decimals), (force.name, key)
            checked += 1
    assert checked > 43 * 20


def test_the_indicator_page_ranks_every_force_and_names_those_without_a_value(client):
    page = client.get("/indicators/FIN-5").text
    forces = re.findall(r'data-force="([^"]+)"', page)
    assert len(forces) == 43 and len(set(forces)) == 43
    rows = client.get("/api/v1/records", params={"indicator": "FIN-5", "per_page": 1000}).json()
    dorset = next(r for r in rows["records"] if r["force_code"] == "E23000039")
    assert dorset["value"] is None  # excluded in 2016: named with its reason, not drawn as 0
    assert "No value:" in page


def test_unknown_force_is_a_404_naming_the_closest_and_a_bad_cycle_a_400(client):
    response = client.get("/forces/kentt")
    assert response.status_code == 404
    assert "Kent" in response.text and "Traceback" not in response.text
    api = client.get("/api/v1/records", params={"force": "Nowhere Constabulary"})
    assert api.status_code == 404 and "Closest" in api.json()["detail"]
    bad = client.get("/api/v1/records", params={"cycle": 2099})
    assert bad.status_code == 400 and "published: 2016" in bad.json()["detail"]
    assert client.get("/indicators/NOPE-1").status_code == 404
    assert client.get("/api/v1/records", params={"format": "xml"}).status_code == 422


@pytest.mark.parametrize("payload", PAYLOADS)
def test_user_input_is_escaped_everywhere(client, payload):
    for url, params in [
        ("/search", {"q": payload}),
        (f"/forces/{payload}", {}),
        ("/indicators/FIN-5", {"force": payload}),
        ("/api/v1/records", {"force": payload}),
        ("/api/v1/records", {"period": payload}),
    ]:
        response = client.get(url, params=params)
        assert response.status_code in (200, 404), (url, response.status_code)
        assert "Traceback" not in response.text
        if response.headers["content-type"].startswith("text/html"):
            assert "<script>alert" not in response.text and "<img src=x" not in response.text
        else:  # JSON, never sniffed as HTML
            assert response.headers["content-type"] == "application/json"
            assert response.headers["x-content-type-options"] == "nosniff"


def test_a_client_with_the_etag_gets_304(client):
    first = client.get("/api/v1/grades")
    again = client.get("/api/v1/grades", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


def test_csv_and_json_give_the_same_rows(client):
    params = {"indicator": "FIN-2", "per_page": 1000}
    rows = client.get("/api/v1/records", params=params).json()["records"]
    text = client.get("/api/v1/records", params=params | {"format": "csv"}).text
    lines = text.strip().splitlines()
    assert len(lines) == len(rows) + 1
    negotiated = client.get("/api/v1/records", params=params, headers={"Accept": "text/csv"})
    assert negotiated.text == text


def test_every_route_declares_who_may_use_it(client):
    declared = {path for _, path in ROUTES}
    for route in client.app.routes:
        path = getattr(route, "path", None)
        assert path in declared, f"{path} has no declared permission in site.app.ROUTES"


def test_a_new_publication_is_served_at_once_and_whole(demo_run, site, client):
    first = client.get("/api/v1/cycles").json()["version"]
    second = publish(demo_run.warehouse, site, reports=False)
    assert second.version != first
    assert current(site) == second.folder
    assert client.get("/api/v1/cycles").json()["version"] == second.version
    assert not [p for p in (site / "bundles").iterdir() if p.name.startswith(".")]


def test_nothing_published_is_a_clear_503(tmp_path):
    client = TestClient(create_app(tmp_path / "empty"))
    response = client.get("/")
    assert response.status_code == 503 and "peelkit publish" in response.text


def test_the_site_draws_the_reports_own_chart_for_a_chosen_force(demo_run):
    """One chart definition: with the Met chosen, the indicator's chart is byte for byte the
    ranked bar figure of the Met's report (the demo publishes that report)."""
    client = TestClient(create_app(demo_run.site))
    report = current(demo_run.site) / "reports" / "2016" / "E23000001"
    figures = {p.name: p.read_bytes() for p in report.glob("figure-*.svg")}
    matched = {}
    for ind in client.get("/api/v1/catalogue").json()["indicators"]:
        chart = client.get(f"/charts/2016/{ind['id']}.svg", params={"force": "metropolitan"})
        if chart.status_code == 200:
            assert chart.headers["content-type"] == "image/svg+xml"
            matched.update({name: ind["id"] for name, b in figures.items() if b == chart.content})
    # the report's five ranked bar figures (3, 5, 6, 7, 9), each of its own indicator
    assert len(matched) >= 5 and len(set(matched.values())) == len(matched)
    page = client.get("/indicators/FIN-5", params={"force": "metropolitan"}).text
    assert 'src="/charts/2016/FIN-5.svg?force=metropolitan"' in page
    assert 'class="govuk-table__row peelkit-subject" data-force="E23000001"' in page


def test_compare_shows_each_chosen_force_beside_england_and_wales(client):
    page = client.get("/compare", params={"force": ["kent", "Essex Police", "E23000001"]}).text
    for code in ("E23000032", "E23000028", "E23000001"):
        assert f'data-force="{code}"' in page
    too_many = client.get("/compare", params={"force": ["kent"] * 3 + ["essex"] * 3})
    assert too_many.status_code == 400 and "up to 5" in too_many.text


def test_the_national_overview_counts_every_forces_grade(client):
    grades = client.get("/api/v1/grades").json()
    page = client.get("/national").text
    rows = re.findall(
        r'<th scope="row" class="govuk-table__header">([^<]+)</th>(.*?)</tr>', page, re.S
    )
    counted = {name.lower(): re.findall(r">(\d+)<", cells) for name, cells in rows}
    overall = [f["overall"] for f in grades["forces"].values()]
    assert int(counted["good"][0]) == overall.count("good")
    assert sum(int(c[0]) for c in counted.values()) == 43
    html = re.search(r'href="(/national/2016/[^"]+\.html)"', page).group(1)
    served = client.get(html)
    assert (
        served.status_code == 200
        and "script-src 'none'" in served.headers["content-security-policy"]
    )


def test_a_figures_lineage_is_the_same_in_the_api_and_on_its_page(client):
    api = client.get("/api/v1/lineage", params={"force": "kent", "indicator": "FIN-5"}).json()
    page = client.get("/forces/kent/indicators/FIN-5").text
    assert "Source files:" in api["explain"]
    assert (
        unescape(
            re.search(r'<pre class="peelkit-explain" id="explain">(.*?)</pre>', page, re.S).group(1)
        )
        == api["explain"]
    )


def test_the_force_page_says_how_each_grade_moved(demo_run):
    client = TestClient(create_app(demo_run.site))
    page = client.get("/forces/metropolitan").text
    moved = re.findall(r"\((improved|declined|unchanged)\)", page)
    grades = client.get("/api/v1/grades").json()["forces"]["E23000001"]
    assert len(moved) == 1 + len(grades["previous"])


def test_ingest_publishes_again_a_site_published_from_its_warehouse(real_data, tmp_path):
    from typer.testing import CliRunner

    from peelkit import cli

    warehouse, site = tmp_path / "w.duckdb", tmp_path / "site"
    prc = real_data / "home-office-prc"
    runner = CliRunner()
    city = real_data / "police-uk-city-of-london"
    first = runner.invoke(cli.app, ["ingest", str(city), "-w", str(warehouse), "--site", str(site)])
    assert first.exit_code == 0, first.output
    published = publish(warehouse, site, reports=False)
    again = runner.invoke(cli.app, ["ingest", str(prc), "-w", str(warehouse), "--site", str(site)])
    assert again.exit_code == 0, again.output
    assert "published again" in again.output
    assert current(site) != published.folder
    records = TestClient(create_app(site)).get("/api/v1/cycles").json()
    assert records["version"] == current(site).name
    # nothing new loaded: nothing published
    same = runner.invoke(cli.app, ["ingest", str(prc), "-w", str(warehouse), "--site", str(site)])
    assert same.exit_code == 0 and "published again" not in same.output
    # a site published from another warehouse is left alone
    elsewhere = tmp_path / "elsewhere.duckdb"
    moved = runner.invoke(cli.app, ["ingest", str(city), "-w", str(elsewhere), "--site", str(site)])
    assert moved.exit_code == 0 and "published again" not in moved.output


def test_the_published_sql_reproduces_the_forces_numerator(demo_run, client):
    import duckdb

    lineage = client.get("/api/v1/lineage", params={"force": "kent", "indicator": "FIN-5"}).json()
    sql = lineage["sql_every_force"].split("SQL of the numerator (run it with peelkit query):\n")[1]
    sql = sql.split("\nSQL of the denominator")[0]
    [record] = client.get("/api/v1/records", params={"force": "kent", "indicator": "FIN-5"}).json()[
        "records"
    ]
    con = duckdb.connect(str(demo_run.warehouse), read_only=True)
    try:
        rows = con.execute(sql).fetchall()
    finally:
        con.close()
    kent = [row for row in rows if row[0] == "E23000032"]
    assert len(rows) >= 43 and len(kent) == 1
    assert kent[0][2] == record["numerator"]
    page = client.get("/forces/kent/indicators/FIN-5").text
    assert "force_code = 'E23000032'" in page and 'id="sql"' in page


def test_a_server_fault_is_a_500_page_in_the_sites_design_without_a_trace(demo_run, tmp_path):
    import shutil

    site = tmp_path / "site"
    publish(demo_run.warehouse, site, reports=False)
    (current(site) / "records" / "2016.json").unlink()  # a bundle damaged on disk
    client = TestClient(create_app(site), raise_server_exceptions=False)
    page = client.get("/forces/kent")
    assert page.status_code == 500
    assert "Sorry, there is a problem with the service" in page.text
    assert "Traceback" not in page.text and "FileNotFoundError" not in page.text
    api = client.get("/api/v1/records")
    assert api.status_code == 500 and api.json() == {
        "detail": "Something went wrong on our side. Try again later."
    }
    shutil.rmtree(site)
