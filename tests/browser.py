"""Real-browser helpers for the site's tests: Debian's Chromium driven by Playwright, and axe-core.

No browser is downloaded: Playwright drives /usr/bin/chromium (Debian's package, which
scripts/setup installs), and axe-core comes from web/node_modules (scripts/build-web). A missing
piece fails the test with a message saying what to run; nothing is skipped.

    from playwright.sync_api import sync_playwright
    from tests.browser import axe_violations, launch

    with sync_playwright() as playwright:
        browser = launch(playwright)
        page = browser.new_page()
        page.goto(url)
        violations = axe_violations(page)
        assert not violations, str(violations)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Playwright

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
# As checked on this machine kind. The background-networking flags matter: without
# them Chromium keeps trying to reach Google's hosts, which this machine's closed network refuses.
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
AXE = REPO / "web" / "node_modules" / "axe-core" / "axe.min.js"
STATIC = REPO / "src" / "peelkit" / "site" / "static"
IMPACTS = ("minor", "moderate", "serious", "critical")


def launch(playwright: Playwright, **options: Any) -> Browser:
    """Debian's Chromium, headless, through ``playwright`` (the sync API's object)."""
    if not CHROMIUM.is_file():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests drive Debian's Chromium. "
            "Run scripts/setup (it installs the Debian package chromium).",
            pytrace=False,
        )
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=list(CHROMIUM_ARGS), **options
    )


@dataclass(frozen=True)
class Violation:
    """One axe rule that failed, with the elements it failed on."""

    id: str
    impact: str
    help: str
    help_url: str
    targets: tuple[str, ...]

    def __str__(self) -> str:
        where = "\n".join(f"    at {target}" for target in self.targets)
        return f"- {self.id} [{self.impact}] {self.help}\n    {self.help_url}\n{where}"


class Violations(list[Violation]):
    """axe's violations; ``str()`` of it is the readable report for an assert message."""

    def __str__(self) -> str:
        if not self:
            return "no axe violations"
        return f"{len(self)} axe violation(s):\n" + "\n".join(str(v) for v in self)

    __repr__ = __str__


# axe's result, reduced in the page to what a report needs. A target is a list of selectors when
# the element is inside a frame or a shadow root; those are joined with " >> ".
_RUN_AXE = """async (options) => {
    const results = await window.axe.run(document, options);
    return results.violations.map((v) => ({
        id: v.id,
        impact: v.impact || "",
        help: v.help,
        helpUrl: v.helpUrl,
        targets: v.nodes.map((n) => n.target.map((t) => [].concat(t).join(" ")).join(" >> ")),
    }));
}"""


def axe_violations(page: Page, impacts: Iterable[str] = ("serious", "critical")) -> Violations:
    """The axe-core violations on ``page`` whose impact is one of ``impacts``.

    axe is put into the page with ``page.evaluate`` (a DevTools evaluation), which a strict
    Content-Security-Policy does not block, where ``add_script_tag`` would be refused.
    """
    wanted = tuple(impacts)
    unknown = sorted(set(wanted) - set(IMPACTS))
    if unknown:
        raise ValueError(f"unknown axe impact(s) {unknown}; axe's impacts are {IMPACTS}")
    if not AXE.is_file():
        pytest.fail(
            f"{AXE} is missing: run scripts/build-web (scripts/setup runs it).", pytrace=False
        )
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    found = page.evaluate(_RUN_AXE, {"resultTypes": ["violations"]})
    return Violations(
        Violation(
            id=v["id"],
            impact=v["impact"],
            help=v["help"],
            help_url=v["helpUrl"],
            targets=tuple(v["targets"]),
        )
        for v in found
        if v["impact"] in wanted
    )
