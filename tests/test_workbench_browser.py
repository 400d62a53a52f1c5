"""The inspection workbench in a real browser (Debian's Chromium through Playwright), served by
uvicorn on loopback from a copy of the demo's published site, under a clock the test moves.

The whole cycle through the pages, one browser context per person: the Met's inspector imports
and edits the Met's judgments (a validation error in the error summary, the live preview), the
lead inspector returns them, the inspector resubmits, the lead moderates and opens the factual
accuracy check, the Met's force liaison comments, a second lead inspector approves, the lead
schedules the release for a set time (UK time), and the public pages change when the clock
passes it — not before. Then axe-core on every workbench page type, the keyboard alone,
JavaScript off, and the Content-Security-Policy: no page may report a violation in the console.
"""

from __future__ import annotations

import re
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Response,
    expect,
    sync_playwright,
)

from peelkit.judgments import demo_folder, demo_judgments
from peelkit.site.app import create_app
from tests.browser import axe_violations, launch
from tests.databases import fresh_database
from tests.workbench_support import KENT, MET, PASSWORD, Team, met_draft, team, to_approved

ESSEX = "E23000028"
HAMPSHIRE = "E23000030"
SURREY = "E23000031"
MET_PAGE = f"/workbench/judgments/2016/{MET}"
# the clock stands in British Summer Time, so that "UK time" and UTC differ by an hour
SUMMER = datetime(2027, 6, 1, 8, 0, tzinfo=UTC)
# what the inspector writes: the placeholders are filled in when the report is rendered
NEW_SUMMARY = "{force} is good at keeping people safe and reducing crime, as the test wrote it."
NEW_SHOWN = "Metropolitan Police Service is good at keeping people safe and reducing crime, as"
TIMEOUT_MS = 30_000
# the live preview renders the whole report (a second or two here; more on a busy machine)
PREVIEW_MS = 30_000
# scheduling makes the release's bundle (records, grades, the Met's report and its PDF) first
SCHEDULE_TIMEOUT_MS = 240_000


# -- the server and the people -----------------------------------------------------------------


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """``app`` served by uvicorn on a free loopback port, in a thread: its base URL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@dataclass
class Bench:
    """A workbench with its team, served with the public site from a copy of the demo's."""

    t: Team
    url: str
    site: Path


@contextmanager
def bench(database: str, demo_site: Path, folder: Path, *, publishing: bool) -> Iterator[Bench]:
    """With ``publishing``, the workbench releases into the site (a release writes a bundle
    into it, hence the copy); without, a release names no bundle and is made at once."""
    site = folder / "site"
    shutil.copytree(demo_site, site)  # previews and releases are written into the site
    t = team(database, site=site if publishing else None)
    try:
        with serving(create_app(site, t.wb)) as url:
            yield Bench(t, url, site)
    finally:
        t.wb.db.dispose()


@dataclass
class Watch:
    """What a browser context's pages report: console messages (a Content-Security-Policy
    violation is one) and resources that failed to load (the pages themselves aside: an error
    page is meant to answer 400 or 404, and so is the live preview's check)."""

    console: list[str] = field(default_factory=list)
    broken: list[str] = field(default_factory=list)

    def attach(self, context: BrowserContext) -> BrowserContext:
        context.on("console", lambda m: self.console.append(f"{m.type}: {m.text}"))
        context.on("weberror", lambda e: self.console.append(f"page error: {e.error}"))
        context.on(
            "requestfailed",
            lambda r: (
                None  # the live preview's check, or its frame's document, cut short by
                # leaving the page or by a newer preview (the browser aborts the load)
                if r.failure == "net::ERR_ABORTED"
                and (
                    r.resource_type == "fetch"
                    or (r.resource_type == "document" and "/workbench/previews/" in r.url)
                )
                else self.broken.append(f"failed {r.url}: {r.failure}")
            ),
        )
        context.on(
            "response",
            lambda r: (
                self.broken.append(f"{r.status} {r.url}")
                if r.status >= 400 and r.request.resource_type not in ("document", "fetch")
                else None
            ),
        )
        return context

    @property
    def csp(self) -> list[str]:
        return [m for m in self.console if "Content Security Policy" in m or "Refused to" in m]

    def assert_clean(self) -> None:
        assert self.csp == [], self.csp
        assert [m for m in self.console if m.startswith("page error")] == []
        assert self.broken == []


@dataclass
class People:
    """One browser context per person (their own cookies), all watched."""

    browser: Browser
    base: str
    watch: Watch = field(default_factory=Watch)
    contexts: list[BrowserContext] = field(default_factory=list)

    def context(self, **options: Any) -> BrowserContext:
        context = self.watch.attach(self.browser.new_context(**options))
        context.set_default_timeout(TIMEOUT_MS)
        self.contexts.append(context)
        return context

    def anonymous(self, **options: Any) -> Page:
        return self.context(**options).new_page()

    def signed_in(self, username: str, **options: Any) -> Page:
        """A person signed in through the sign-in form, on the workbench's home page."""
        page = self.anonymous(**options)
        page.goto(self.base + "/workbench/sign-in")
        page.get_by_label("User name").fill(username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.locator(".peelkit-account")).to_contain_text("Signed in as")
        assert page.url == self.base + "/workbench"
        return page

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


def state_of(page: Page) -> str:
    return page.locator("#state").inner_text().strip()


# -- the public pages, as a reader sees them ------------------------------------------------------


@dataclass(frozen=True)
class Public:
    overall_on_home: str
    overall_on_force_page: str
    good_forces: int
    forces_not_recorded: int
    report: str


def read_public(page: Page, base: str) -> Public:
    """What a reader sees of the Met on the public site: its overall grade on the home page
    and its own page, the national count of forces graded good (and not graded), and the
    report's text."""
    page.goto(base + "/")
    home = page.locator(f'#forces tr[data-force="{MET}"] td').first.inner_text()
    page.goto(base + "/national")
    counts = {
        row.locator("th").inner_text(): int(row.locator("td").first.inner_text())
        for row in page.locator("#distribution tbody tr").all()
    }
    page.goto(base + "/forces/metropolitan")
    own = page.locator("[data-grade=overall]").inner_text()
    page.get_by_role("link", name="The force's report (HTML)").click()
    assert "/reports/2016/metropolitan/" in page.url
    report = page.locator("body").inner_text()
    return Public(home, own, counts["Good"], counts["Not recorded"], report)


# -- the whole cycle ------------------------------------------------------------------------------


@pytest.mark.slow
def test_the_mets_judgments_from_draft_to_publication_at_a_set_time(
    workbench_url, demo_run, tmp_path, browser
):
    with bench(workbench_url, demo_run.site, tmp_path, publishing=True) as b:
        t = b.t
        t.clock.now = SUMMER
        # Kent's draft is in its factual accuracy check too: the Met's liaison must not see it
        t.wb.import_judgments(t.kent_inspector, demo_judgments()[KENT])
        lock = t.wb.draft(t.lead, KENT, 2016).status.lock
        for who, action in (
            (t.kent_inspector, "submit"),
            (t.lead, "moderate"),
            (t.lead, "open factual accuracy check"),
        ):
            lock = t.wb.step(who, KENT, 2016, action, lock=lock).lock
        people = People(browser, b.url)
        try:
            _the_cycle(b, people)
        finally:
            people.close()
        people.watch.assert_clean()


def _the_cycle(b: Bench, people: People) -> None:
    t, base = b.t, b.url
    reader = people.anonymous()
    before = read_public(reader, base)
    assert before.overall_on_home == before.overall_on_force_page == "Requires improvement"
    assert before.forces_not_recorded == 0

    # the inspector imports the Met's judgments file from the home page
    inspector = people.signed_in("inspector")
    inspector.get_by_label("A judgments file (.toml)", exact=False).set_input_files(
        demo_folder() / "metropolitan.toml"
    )
    inspector.get_by_role("button", name="Import").click()
    expect(inspector.locator("h1")).to_have_text("Metropolitan Police Service")
    assert inspector.url == base + MET_PAGE
    assert state_of(inspector) == "draft"
    expect(inspector.locator("#live-preview-status")).to_have_text(
        "The preview shows your unsaved changes.", timeout=PREVIEW_MS
    )

    # an edit that the checks refuse: the year and the force's name typed out
    inspector.get_by_label("Overall grade", exact=True).select_option("good")
    summary = inspector.get_by_label("Overall judgment (one paragraph)")
    summary.fill("The Metropolitan Police Service is good at keeping people safe in 2016.")
    inspector.get_by_role("button", name="Save a new version").click()
    errors = inspector.locator(".govuk-error-summary")
    expect(errors).to_be_visible()
    expect(errors).to_contain_text("types the year 2016")
    expect(errors).to_contain_text("types the force's name")
    assert inspector.title().startswith("Error: ")
    link = errors.get_by_role("link").first
    assert link.get_attribute("href") == "#overall-summary"
    expect(inspector.locator("#overall-summary")).to_have_value(re.compile("in 2016"))
    expect(inspector.locator(".govuk-form-group--error #overall-summary")).to_have_count(1)
    expect(inspector.locator("#overall-grade")).to_have_value("good")  # what was chosen is kept
    expect(inspector.locator("#live-preview-status")).to_contain_text(
        "waits until", timeout=PREVIEW_MS
    )

    # fixed: the live preview shows the new text before anything is saved
    inspector.locator("#overall-summary").fill(NEW_SUMMARY)
    frame = inspector.frame_locator("#live-preview-frame")
    expect(frame.get_by_text(NEW_SHOWN)).to_be_visible(timeout=PREVIEW_MS)
    expect(inspector.locator("#live-preview-status")).to_have_text(
        "The preview shows your unsaved changes.", timeout=PREVIEW_MS
    )
    drawn = frame.locator("img").evaluate_all(
        "imgs => imgs.map(i => i.complete && i.naturalWidth > 0)"
    )
    assert drawn and all(drawn), drawn  # the figures are in the preview too
    assert t.wb.draft(t.lead, MET, 2016).status.version == 1  # nothing saved yet
    inspector.get_by_role("button", name="Save a new version").click()
    expect(inspector.locator(".govuk-notification-banner")).to_contain_text("saved as version 2")
    inspector.get_by_role("button", name="Submit for moderation").click()
    expect(inspector.locator(".govuk-notification-banner")).to_contain_text("Done")
    assert state_of(inspector) == "submitted"
    expect(inspector.locator("#judgments-form")).to_have_count(0)  # no longer editable

    # the lead inspector returns it with a comment
    lead = people.signed_in("lead")
    lead.get_by_role("link", name="Metropolitan Police Service").click()
    lead.get_by_label("Why (shown to the inspector)").fill(
        "Say in the source which edition of the report this is."
    )
    lead.get_by_role("button", name="Return to the inspector with comments").click()
    assert state_of(lead) == "returned"

    # the inspector reads the comment, edits and resubmits
    inspector.goto(base + "/workbench")
    inspector.get_by_role("link", name="Metropolitan Police Service").click()
    expect(inspector.locator("#comments")).to_contain_text("which edition of the report")
    source = inspector.get_by_label("Source", exact=True)
    source.fill(source.input_value() + " (first edition)")
    inspector.get_by_role("button", name="Save a new version").click()
    expect(inspector.locator(".govuk-notification-banner")).to_contain_text("saved as version 3")
    inspector.get_by_role("button", name="Resubmit for moderation").click()
    assert state_of(inspector) == "resubmitted"

    # the lead moderates and opens the factual accuracy check
    lead.reload()
    lead.get_by_role("button", name="Mark as moderated").click()
    assert state_of(lead) == "moderated"
    lead.get_by_role("button", name="Send to the force for the factual accuracy check").click()
    assert state_of(lead) == "factual accuracy check"

    # the Met's force liaison sees the Met's draft only, and comments on it
    liaison = people.signed_in("liaison")
    forces = liaison.locator("main table tbody tr")
    expect(forces).to_have_count(1)
    expect(forces).to_contain_text("Metropolitan Police Service")
    assert liaison.get_by_role("link", name="Kent Police").count() == 0
    kent = liaison.goto(base + f"/workbench/judgments/2016/{KENT}")
    assert kent is not None and kent.status == 404  # Kent's draft, in its check too, is not found
    liaison.goto(base + "/workbench")
    liaison.get_by_role("link", name="Metropolitan Police Service").click()
    expect(liaison.locator("#judgments-form")).to_have_count(0)
    expect(liaison.locator("main")).to_contain_text("as the test wrote it")
    liaison.get_by_label("Your comments on factual accuracy").fill(
        "The force has 32 borough command units, not 30."
    )
    liaison.get_by_role("button", name="Send comments").click()
    expect(liaison.locator(".govuk-notification-banner")).to_contain_text(
        "comment has been recorded"
    )
    expect(liaison.locator("#comments")).to_contain_text("32 borough command units")

    # a second lead inspector approves (the version's author may not approve it)
    lead2 = people.signed_in("lead2")
    lead2.get_by_role("link", name="Metropolitan Police Service").click()
    expect(lead2.locator("#comments")).to_contain_text("32 borough command units")
    lead2.get_by_role("button", name="Approve for publication").click()
    assert state_of(lead2) == "approved"

    # the lead schedules the release for noon UK time (11:00 UTC: it is summer time)
    lead.get_by_role("link", name="Publication").click()
    expect(lead.get_by_label(re.compile("Metropolitan Police Service"))).to_be_checked()
    lead.get_by_label("Date").fill("2027-06-01")
    lead.get_by_label("Time (UK time)").fill("12:00")
    with lead.expect_navigation(timeout=SCHEDULE_TIMEOUT_MS):
        lead.get_by_role("button", name="Schedule the release").click(timeout=SCHEDULE_TIMEOUT_MS)
    row = lead.locator("#releases tbody tr").first
    expect(row).to_contain_text("01 June 2027 12:00 BST")  # UK time, as typed
    expect(row).to_contain_text("Metropolitan Police Service")
    expect(row).to_contain_text("scheduled")

    # before that time the public site is as it was ...
    t.clock.now = datetime(2027, 6, 1, 10, 59, tzinfo=UTC)  # 11:59 in London
    assert read_public(people.anonymous(), base) == before
    # ... and from that time it shows the new judgments, everywhere at once. A new reader: the
    # test's clock jumps in a moment, so a browser's cached copy (max-age at most a minute,
    # never past the release) would still be fresh in real time.
    t.clock.now = datetime(2027, 6, 1, 11, 0, 30, tzinfo=UTC)
    after = read_public(people.anonymous(), base)
    assert after.overall_on_home == after.overall_on_force_page == "Good"
    assert after.good_forces == before.good_forces + 1
    assert after.forces_not_recorded == 0  # no other force lost its grade
    assert NEW_SHOWN in after.report and NEW_SHOWN not in before.report
    lead.goto(base + MET_PAGE)
    assert state_of(lead) == "published"


# -- every page type: axe, the security headers, the console ------------------------------------


@pytest.fixture(scope="module")
def shared(demo_run, tmp_path_factory) -> Iterator[Bench]:
    """One workbench (SQLite) for the page types, the keyboard and JavaScript off: the Met's
    draft; Kent's judgments approved and scheduled for tomorrow (a release to cancel); Essex's
    approved (the schedule form); Hampshire's in its factual accuracy check (a step and a
    comment that need words); Surrey's draft with its own inspector (JavaScript off)."""
    folder = tmp_path_factory.mktemp("workbench-browser")
    with (
        fresh_database("sqlite", folder) as url,
        bench(url, demo_run.site, folder, publishing=False) as b,
    ):
        t = b.t
        met_draft(t)
        t.wb.import_judgments(t.kent_inspector, demo_judgments()[KENT])
        to_approved(t, KENT)
        t.wb.schedule(t.lead, 2016, [KENT], t.clock.now + timedelta(days=1))
        lock = t.wb.import_judgments(t.lead2, demo_judgments()[ESSEX]).lock
        for who, action in (
            (t.lead2, "submit"),
            (t.lead, "moderate"),
            (t.lead, "open factual accuracy check"),
            (t.lead, "approve"),
        ):
            lock = t.wb.step(who, ESSEX, 2016, action, lock=lock).lock
        lock = t.wb.import_judgments(t.lead2, demo_judgments()[HAMPSHIRE]).lock
        for who, action in (
            (t.lead2, "submit"),
            (t.lead, "moderate"),
            (t.lead, "open factual accuracy check"),
        ):
            lock = t.wb.step(who, HAMPSHIRE, 2016, action, lock=lock).lock
        t.wb.add_user(
            None, "surrey_inspector", "Surrey Inspector", "inspector", PASSWORD, assigned=[SURREY]
        )
        t.wb.import_judgments(t.wb.actor("surrey_inspector"), demo_judgments()[SURREY])
        yield b


@pytest.fixture
def people(browser, shared) -> Iterator[People]:
    crowd = People(browser, shared.url)
    yield crowd
    crowd.close()


def submitted(page: Page, button: str) -> Response:
    """Click a form's ``button``: the response the browser lands on."""
    with page.expect_navigation() as landed:
        page.get_by_role("button", name=button).click()
    return landed.value


def went(page: Page, url: str) -> Response:
    answer = page.goto(url)
    assert answer is not None
    return answer


def _sign_in(p: People, b: Bench) -> tuple[Page, Response]:
    page = p.anonymous()
    return page, went(page, b.url + "/workbench/sign-in")


def _sign_in_errors(p: People, b: Bench) -> tuple[Page, Response]:
    page, _ = _sign_in(p, b)
    answer = submitted(page, "Sign in")
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter your user name")
    return page, answer


def _home(p: People, b: Bench) -> tuple[Page, Response]:
    page = p.signed_in("inspector")
    return page, went(page, b.url + "/workbench")


def _form(p: People, b: Bench) -> tuple[Page, Response]:
    page = p.signed_in("inspector")
    answer = went(page, b.url + MET_PAGE)
    expect(page.locator("#live-preview-status")).to_have_text(
        "The preview shows your unsaved changes.", timeout=PREVIEW_MS
    )
    return page, answer


def _form_errors(p: People, b: Bench) -> tuple[Page, Response]:
    page = p.signed_in("inspector")
    went(page, b.url + MET_PAGE)
    page.locator("#overall-summary").fill("In 2016 the force did well.")
    answer = submitted(page, "Save a new version")
    expect(page.locator(".govuk-error-summary")).to_contain_text("types the year 2016")
    assert error_targets(page) == [["TEXTAREA", "Overall judgment (one paragraph)"]]
    return page, answer


def _read_only(p: People, b: Bench) -> tuple[Page, Response]:
    page = p.signed_in("analyst")
    answer = went(page, b.url + MET_PAGE)
    expect(page.locator("#judgments-form")).to_have_count(0)
    expect(page.get_by_role("heading", name="The judgments")).to_be_visible()
    return page, answer


def _conflict(p: People, b: Bench) -> tuple[Page, Response]:
    page = p.signed_in("inspector")
    went(page, b.url + MET_PAGE)
    t = b.t
    draft = t.wb.draft(t.lead, MET, 2016)  # the lead saves meanwhile
    t.wb.save(
        t.lead,
        dict(draft.content, source=draft.content["source"] + " (the lead's)"),
        lock=draft.status.lock,
    )
    source = page.get_by_label("Source", exact=True)
    source.fill(source.input_value() + " (the inspector's)")
    answer = submitted(page, "Save a new version")
    expect(page.locator("#differences")).to_contain_text("the inspector's")
    return page, answer


def _step_without_comment(p: People, b: Bench) -> tuple[Page, Response]:
    page = p.signed_in("lead")
    went(page, b.url + f"/workbench/judgments/2016/{HAMPSHIRE}")
    answer = submitted(page, "Return to the inspector with comments")
    expect(page.locator(".govuk-error-summary")).to_contain_text("say why")
    assert error_targets(page) == [["TEXTAREA", "Why (shown to the inspector)"]]
    return page, answer


def _comment_left_empty(p: People, b: Bench) -> tuple[Page, Response]:
    page = p.signed_in("lead")
    went(page, b.url + f"/workbench/judgments/2016/{HAMPSHIRE}")
    answer = submitted(page, "Send comments")
    expect(page.locator(".govuk-error-summary")).to_contain_text("write a comment")
    assert error_targets(page) == [["TEXTAREA", "Your comments on factual accuracy"]]
    return page, answer


def error_targets(page: Page) -> list[list[str]]:
    """What each link of the error summary leads to: the element's tag and its label."""
    return page.evaluate(
        """() => [...document.querySelectorAll('.govuk-error-summary a')].map(a => {
                 const e = document.getElementById(a.hash.slice(1));
                 if (!e) return ['nothing', a.hash];
                 const label = e.labels && e.labels.length ? e.labels[0].innerText : '';
                 return [e.tagName, label.trim()]; })"""
    )


def _history(p: People, b: Bench) -> tuple[Page, Response]:
    page = p.signed_in("lead")
    return page, went(page, b.url + MET_PAGE + "/history")


def _moderation(p: People, b: Bench) -> tuple[Page, Response]:
    page = p.signed_in("lead")
    return page, went(page, b.url + "/workbench/moderation/2016")


def _publication(p: People, b: Bench) -> tuple[Page, Response]:
    page = p.signed_in("lead")
    answer = went(page, b.url + "/workbench/releases")
    expect(page.get_by_role("button", name=re.compile("Cancel release"))).to_be_visible()
    expect(page.get_by_label("Date")).to_be_visible()
    return page, answer


def _users(p: People, b: Bench) -> tuple[Page, Response]:
    page = p.signed_in("admin")
    return page, went(page, b.url + "/workbench/admin")


def _users_errors(p: People, b: Bench) -> tuple[Page, Response]:
    page, _ = _users(p, b)
    answer = submitted(page, "Add the user")
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    return page, answer


def _not_found(p: People, b: Bench) -> tuple[Page, Response]:
    page = p.signed_in("inspector")  # Kent is not the Met's inspector's
    return page, went(page, b.url + f"/workbench/judgments/2016/{KENT}")


def _nothing_to_check(p: People, b: Bench) -> tuple[Page, Response]:
    page = p.signed_in("liaison")  # the Met's draft is not in its check
    answer = went(page, b.url + "/workbench")
    expect(page.locator("main")).to_contain_text("nothing for your force to check")
    return page, answer


PAGE_TYPES: dict[str, tuple[Callable[[People, Bench], tuple[Page, Response]], int]] = {
    "sign-in": (_sign_in, 200),
    "sign-in with errors": (_sign_in_errors, 400),
    "home": (_home, 200),
    "judgments form": (_form, 200),
    "judgments form with errors": (_form_errors, 400),
    "judgments read only": (_read_only, 200),
    "conflict": (_conflict, 409),
    "a step without its comment": (_step_without_comment, 400),
    "a comment left empty": (_comment_left_empty, 400),
    "history": (_history, 200),
    "moderation": (_moderation, 200),
    "publication": (_publication, 200),
    "users and roles": (_users, 200),
    "users and roles with errors": (_users_errors, 400),
    "not found": (_not_found, 404),
    "nothing to check": (_nothing_to_check, 200),
}


@pytest.mark.parametrize("kind", PAGE_TYPES)
def test_every_workbench_page_type_passes_axe_under_its_policy(shared, people, kind):
    reach, status = PAGE_TYPES[kind]
    page, answer = reach(people, shared)
    assert answer.status == status
    headers = answer.headers
    assert "script-src 'self'" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"
    assert headers["cache-control"] == "private, no-store"
    violations = axe_violations(page)
    assert not violations, str(violations)
    if status == 400:
        summary_leads_to_its_fields(page)
    people.watch.assert_clean()


def summary_leads_to_its_fields(page: Page) -> None:
    """A page with problems: the error summary has the focus when the page opens (so it is
    read first), and each of its links leads to a field that names its error message in its
    aria-describedby."""
    found = page.evaluate(
        """() => {
            const summary = document.querySelector('.govuk-error-summary');
            if (!summary) return null;
            const links = [...summary.querySelectorAll('a')].map(a => {
                const field = document.getElementById(a.hash.slice(1));
                if (!field) return [a.hash, 'nothing', 0];
                const errors = (field.getAttribute('aria-describedby') || '').split(' ')
                    .map(id => document.getElementById(id))
                    .filter(e => e && e.classList.contains('govuk-error-message'));
                return [a.hash, field.tagName, errors.length];
            });
            return {focused: document.activeElement === summary, links};
        }"""
    )
    assert found is not None, "a page with problems and no error summary"
    assert found["focused"], "the error summary does not have the focus"
    assert found["links"]
    for target, tag, errors in found["links"]:
        assert tag in ("INPUT", "SELECT", "TEXTAREA") and errors >= 1, (target, tag, errors)


def test_a_policy_violation_would_be_seen(shared, people):
    """The console check can fail: an inline style, which the policy refuses, is reported."""
    page = people.signed_in("inspector")
    page.evaluate(
        """() => { const s = document.createElement('style');
                   s.textContent = 'body { color: red }'; document.head.appendChild(s); }"""
    )
    page.wait_for_timeout(200)
    assert people.watch.csp, people.watch.console


# -- the keyboard alone ---------------------------------------------------------------------------


def focused(page: Page) -> dict[str, str]:
    return page.evaluate(
        """() => { const e = document.activeElement;
                   return {id: e.id, cls: e.className, text: e.innerText || '',
                           background: getComputedStyle(e).backgroundColor}; }"""
    )


def tab_to(page: Page, wanted: Callable[[dict[str, str]], bool], most: int) -> dict[str, str]:
    for _ in range(most):
        page.keyboard.press("Tab")
        now = focused(page)
        if wanted(now):
            return now
    raise AssertionError(f"not reached in {most} presses of Tab")


def test_signing_in_with_the_keyboard_alone_from_the_skip_link(shared, people):
    page = people.anonymous()
    went(page, shared.url + "/workbench/sign-in")
    page.keyboard.press("Tab")
    assert focused(page)["cls"] == "govuk-skip-link"
    page.keyboard.press("Enter")
    assert page.url.endswith("#main-content")
    page.keyboard.press("Tab")
    assert focused(page)["id"] == "username"  # the skip link went past the header
    page.keyboard.type("inspector")
    page.keyboard.press("Tab")
    assert focused(page)["id"] == "password"
    page.keyboard.type(PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == shared.url + "/workbench"
    expect(page.locator(".peelkit-account")).to_contain_text("Signed in as")
    people.watch.assert_clean()


def test_the_judgments_are_edited_and_saved_with_the_keyboard_alone(shared, people):
    page = people.signed_in("inspector")
    went(page, shared.url + MET_PAGE)
    tab_to(page, lambda e: e["id"] == "source", 80)
    page.keyboard.press("End")
    page.keyboard.type(" (typed)")
    button = tab_to(page, lambda e: e["text"] == "Save a new version", 600)
    assert button["background"] == "rgb(255, 221, 0)"  # GOV.UK's focus colour: it is seen
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Your changes have been")
    t = shared.t
    assert t.wb.draft(t.lead, MET, 2016).content["source"].endswith(" (typed)")
    people.watch.assert_clean()


# -- JavaScript off -------------------------------------------------------------------------------


def test_signing_in_saving_a_step_and_the_preview_work_with_javascript_off(shared, people):
    page = people.signed_in("surrey_inspector", java_script_enabled=False)
    surrey = f"/workbench/judgments/2016/{SURREY}"
    went(page, shared.url + surrey)
    expect(page.locator("#live-preview")).to_be_hidden()  # the live preview needs JavaScript
    page.get_by_label("Source", exact=True).fill("Surrey's judgments, typed without JavaScript")
    assert submitted(page, "Save a new version").status == 200
    expect(page.locator(".govuk-notification-banner")).to_contain_text("saved as version 2")
    # the preview opens in a new tab, from the unsaved form as it is
    page.get_by_label("Overall grade", exact=True).select_option("outstanding")
    with page.context.expect_page() as opened:
        page.get_by_role("button", name="Preview the report (opens in a new tab)").click()
    preview = opened.value
    preview.wait_for_load_state()
    assert "/workbench/previews/" in preview.url
    expect(preview.locator("body")).to_contain_text("Surrey Police")
    expect(preview.locator("body")).to_contain_text("Outstanding")
    preview.close()
    assert submitted(page, "Submit for moderation").status == 200
    assert state_of(page) == "submitted"
    assert submitted(page, "Sign out").url == shared.url + "/workbench/sign-in"
    people.watch.assert_clean()
