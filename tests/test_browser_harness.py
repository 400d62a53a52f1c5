"""The browser harness itself, before the site exists: Debian's Chromium loads a page written in
GOV.UK Frontend's documented markup with the CSS that scripts/build-web built, under a strict
Content-Security-Policy like the site's, and axe-core checks it.

The page is served over HTTP on 127.0.0.1 by http.server in a thread; /static/ is the package's
built static folder (src/peelkit/site/static). A page with known faults proves the axe check can
fail.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Response, sync_playwright

from tests.browser import STATIC, axe_violations, launch

CSS = STATIC / "govuk" / "govuk-frontend.min.css"
# What the site will send: nothing inline, nothing from elsewhere. axe still gets in (see
# tests.browser.axe_violations).
CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; object-src 'none'"

HEAD = """<!DOCTYPE html>
<html lang="en" class="govuk-template">
<head>
  <meta charset="utf-8">
  <title>{title}</title>
  <meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">
  <link rel="stylesheet" href="/static/govuk/govuk-frontend.min.css">
</head>
<body class="govuk-template__body">
"""

# GOV.UK Frontend 6.6.0's page template and components, written out as HTML: the generic
# header (no crown: peelkit is not on GOV.UK), a heading, a table, a link, a footer (no crest).
GOOD = (
    HEAD.format(title="Crime outcomes - peelkit")
    + """  <a href="#main-content" class="govuk-skip-link">Skip to main content</a>
  <header class="govuk-template__header">
    <div class="govuk-generic-header">
      <div class="govuk-generic-header__container govuk-width-container">
        <div class="govuk-generic-header__logo">
          <a href="/" class="govuk-generic-header__homepage-link">peelkit</a>
        </div>
      </div>
    </div>
  </header>
  <div class="govuk-width-container">
    <main class="govuk-main-wrapper" id="main-content">
      <h1 class="govuk-heading-l">Crime outcomes</h1>
      <p class="govuk-body">Charge or summons rates by force.
        <a class="govuk-link" href="/methodology">How the figures are made</a>.</p>
      <table class="govuk-table">
        <caption class="govuk-table__caption govuk-table__caption--m">Charge or summons rate,
          year to March</caption>
        <thead class="govuk-table__head">
          <tr class="govuk-table__row">
            <th scope="col" class="govuk-table__header">Force</th>
            <th scope="col" class="govuk-table__header govuk-table__header--numeric">Rate</th>
          </tr>
        </thead>
        <tbody class="govuk-table__body">
          <tr class="govuk-table__row">
            <th scope="row" class="govuk-table__header">Avon and Somerset</th>
            <td class="govuk-table__cell govuk-table__cell--numeric">7.1%</td>
          </tr>
          <tr class="govuk-table__row">
            <th scope="row" class="govuk-table__header">Bedfordshire</th>
            <td class="govuk-table__cell govuk-table__cell--numeric">6.4%</td>
          </tr>
        </tbody>
      </table>
    </main>
  </div>
  <footer class="govuk-template__footer">
    <div class="govuk-footer">
      <div class="govuk-width-container">
        <div class="govuk-footer__meta">
          <div class="govuk-footer__meta-item govuk-footer__meta-item--grow">
            <h2 class="govuk-visually-hidden">Support links</h2>
            <ul class="govuk-footer__inline-list">
              <li class="govuk-footer__inline-list-item">
                <a class="govuk-footer__link" href="/accessibility">Accessibility</a>
              </li>
            </ul>
          </div>
        </div>
      </div>
    </div>
  </footer>
</body>
</html>
"""
)

# Two faults axe rates critical: an image with no text alternative, an input with no label.
BAD = (
    HEAD.format(title="Faults - peelkit")
    + """  <main class="govuk-main-wrapper" id="main-content">
    <h1 class="govuk-heading-l">Faults</h1>
    <img src="/picture.svg" id="unexplained">
    <input class="govuk-input" type="text" name="force" id="unlabelled">
  </main>
</body>
</html>
"""
)


class _Handler(SimpleHTTPRequestHandler):
    """Files from the page folder (where static/ links to the package's static folder), each
    sent with the site's Content-Security-Policy."""

    def end_headers(self) -> None:
        self.send_header("Content-Security-Policy", CSP)
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of a static server on 127.0.0.1 serving GOOD, BAD and /static/."""
    if not CSS.is_file():
        pytest.fail(f"{CSS} is missing: run scripts/build-web (scripts/setup runs it).")
    pages = tmp_path_factory.mktemp("pages")
    (pages / "index.html").write_text(GOOD, encoding="utf-8")
    (pages / "bad.html").write_text(BAD, encoding="utf-8")
    (pages / "picture.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40">'
        '<rect width="40" height="40"/></svg>',
        encoding="utf-8",
    )
    (pages / "static").symlink_to(STATIC, target_is_directory=True)
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Handler, directory=str(pages)))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="static-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = launch(playwright)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    try:
        yield context.new_page()
    finally:
        context.close()


def load(page: Page, url: str) -> Response:
    """Open ``url`` and fail if it, or anything it asked for, did not come back 200."""
    failed: list[str] = []
    page.on("requestfailed", lambda request: failed.append(f"{request.url}: failed"))
    page.on(
        "response",
        lambda r: failed.append(f"{r.url}: HTTP {r.status}") if r.status != 200 else None,
    )
    response = page.goto(url)
    assert response is not None
    page.wait_for_load_state("load")
    assert not failed, "\n".join(failed)
    return response


def test_page_loads_under_strict_csp(site: str, page: Page) -> None:
    response = load(page, f"{site}/")
    assert response.headers["content-security-policy"] == CSP
    assert page.title() == "Crime outcomes - peelkit"
    assert page.locator("h1").inner_text() == "Crime outcomes"
    assert page.locator("table.govuk-table tbody tr").count() == 2


def test_no_gds_transport_font(site: str, page: Page) -> None:
    load(page, f"{site}/")
    families: list[str] = page.evaluate(
        """() => [document.body, ...document.querySelectorAll("body *")]
            .map((e) => getComputedStyle(e).fontFamily)"""
    )
    assert not [f for f in families if "GDS Transport" in f], sorted(set(families))
    # No @font-face at all: the build turned the GDS Transport ones off.
    assert page.evaluate("() => [...document.fonts].map((f) => f.family)") == []
    heading = page.locator("h1").evaluate("(e) => getComputedStyle(e).fontFamily")
    assert heading == "arial, sans-serif"


def test_govuk_css_applies(site: str, page: Page) -> None:
    load(page, f"{site}/")

    def style(selector: str, prop: str) -> str:
        return str(page.locator(selector).first.evaluate(f"(e) => getComputedStyle(e).{prop}"))

    # The header's black bar and the heading's size come only from GOV.UK Frontend's CSS.
    assert style(".govuk-generic-header", "backgroundColor") == "rgb(11, 12, 12)"
    assert style(".govuk-heading-l", "fontWeight") == "700"
    assert style(".govuk-footer", "borderTopStyle") == "solid"
    # The skip link is off screen until it has focus.
    assert page.locator(".govuk-skip-link").bounding_box() is not None
    assert page.locator(".govuk-skip-link").evaluate("(e) => getComputedStyle(e).position") in (
        "absolute",
        "fixed",
    )


def test_tab_moves_focus_to_the_first_link(site: str, page: Page) -> None:
    load(page, f"{site}/")
    page.keyboard.press("Tab")
    focused = page.evaluate(
        "() => [document.activeElement.tagName, document.activeElement.textContent.trim()]"
    )
    assert focused == ["A", "Skip to main content"]
    # Focused, the skip link is shown on the page (GOV.UK's focus style).
    assert page.locator(".govuk-skip-link").evaluate("(e) => getComputedStyle(e).position") == (
        "static"
    )
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.textContent.trim()") == "peelkit"


def test_axe_finds_nothing_serious_on_the_page(site: str, page: Page) -> None:
    load(page, f"{site}/")
    violations = axe_violations(page)
    assert not violations, str(violations)


def test_axe_catches_a_bad_page(site: str, page: Page) -> None:
    load(page, f"{site}/bad.html")
    violations = axe_violations(page)
    assert {v.id for v in violations} >= {"image-alt", "label"}, str(violations)
    report = str(violations)
    assert "#unexplained" in report
    assert "#unlabelled" in report
    assert "Images must have alternative text" in report


def test_axe_rejects_an_unknown_impact(site: str, page: Page) -> None:
    load(page, f"{site}/")
    with pytest.raises(ValueError, match="unknown axe impact"):
        axe_violations(page, impacts=("severe",))
