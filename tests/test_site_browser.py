"""The site in a real browser (Debian's Chromium through Playwright), served by uvicorn on
loopback from the demo's publication: a reader's path from the home page to a figure's
lineage and its CSV, the keyboard alone, JavaScript off, and axe-core on every page type."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, sync_playwright

from peelkit.site.app import create_app
from tests.browser import axe_violations, launch

PAGE_TYPES = [
    "/",
    "/forces/kent",
    "/indicators",
    "/indicators/FIN-5?force=kent",
    "/forces/kent/indicators/FIN-5",
    "/coverage",
    "/national",
    "/compare?force=kent&force=essex",
    "/search?q=Devon",
    "/nowhere",
]


@pytest.fixture(scope="module")
def server(demo_run) -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(
        create_app(demo_run.site), host="127.0.0.1", port=port, log_level="warning"
    )
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not running.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    running.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    page = context.new_page()
    yield page
    context.close()


def test_a_reader_goes_from_the_forces_to_a_figures_lineage_and_its_csv(server, page):
    page.goto(server + "/")
    assert page.locator("h1").inner_text().startswith("Police effectiveness")
    page.get_by_role("link", name="Kent Police").click()
    assert page.locator("h1").inner_text() == "Kent Police"
    assert page.locator("[data-grade=overall]").inner_text()
    page.locator('tr[data-indicator="FIN-5"] a').first.click()
    assert "/indicators/FIN-5" in page.url
    assert page.locator("tr.peelkit-subject").get_attribute("data-force") == "E23000032"
    page.wait_for_function("() => document.querySelector('img.peelkit-chart').complete")
    drawn = page.locator("img.peelkit-chart").evaluate("img => img.naturalWidth")
    assert drawn > 0  # the highlighted SVG loaded and was drawn
    page.locator('tr[data-force="E23000032"] a').click()
    assert "/forces/kent/indicators/FIN-5" in page.url
    assert "Source files:" in page.locator("#explain").inner_text()
    page.go_back()
    with page.expect_download() as download:
        page.get_by_role("link", name="Every force's records (CSV)").click()
    lines = download.value.path().read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("indicator_id,") and len(lines) == 44  # header + 43 forces


def test_every_link_and_control_is_reached_with_the_keyboard(server, page):
    page.goto(server + "/")
    wanted = page.evaluate(
        """() => [...document.querySelectorAll('a[href], button, input, select')]
                 .filter(e => e.offsetParent !== null || e.classList.contains('govuk-skip-link'))
                 .length"""
    )
    seen = set()
    for _ in range(wanted + 5):
        page.keyboard.press("Tab")
        seen.add(page.evaluate("() => document.activeElement.outerHTML.slice(0, 200)"))
    assert len(seen) >= wanted
    # the first Tab reaches the skip link, which takes the focus past the header
    page.goto(server + "/forces/kent")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.className") == "govuk-skip-link"
    page.keyboard.press("Enter")
    assert page.url.endswith("#main-content")


def test_the_site_works_with_javascript_off(server, browser):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(server + "/")
        page.select_option("#filter-region", "London")
        page.get_by_role("button", name="Show forces").click()
        forces = page.locator("#forces tbody tr").evaluate_all(
            "rows => rows.map(r => r.dataset.force)"
        )
        assert sorted(forces) == ["E23000001", "E23000034"]  # the Met and the City of London
        page.fill("#search-q", "Devon & Cornwall")
        page.get_by_role("button", name="Search").click()
        assert page.get_by_role("link", name="Devon and Cornwall Police").is_visible()
    finally:
        context.close()


@pytest.mark.parametrize("path", PAGE_TYPES)
def test_axe_finds_nothing_serious_on_any_page_type(server, page, path):
    response = page.goto(server + path)
    assert response is not None and response.status == (404 if path == "/nowhere" else 200)
    violations = axe_violations(page)
    assert not violations, str(violations)


def test_a_published_report_opens_styled_with_no_blocked_resource(server, page):
    blocked: list[str] = []
    page.on("console", lambda m: blocked.append(m.text) if m.type == "error" else None)
    page.goto(server + "/forces/metropolitan")
    page.get_by_role("link", name="The force's report (HTML)").click()
    assert "/reports/2016/metropolitan/" in page.url
    assert page.locator("h1").first.inner_text()
    assert blocked == []  # the report's own style and figures are allowed, nothing else


def test_the_api_documentation_works_offline_under_the_sites_policy(server, page):
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if m.type == "error" else None)
    outside: list[str] = []
    page.on(
        "request",
        lambda r: outside.append(r.url) if not r.url.startswith(server) else None,
    )
    page.goto(server + "/api/v1/docs")
    page.get_by_text("/api/v1/records", exact=True).wait_for(timeout=15000)
    assert refused == [] and outside == []
