"""The embargo, tested by crawling the public site: until its publication time nothing of a
judgment (grades, text, report HTML/PDF, the national overview's counts, API rows, search
results, downloads, caches, ETags) is visible without a role; at that time it appears
everywhere at once, and a release cancelled before its time never appears.

The site is the demo's, published with every force's report (HTML: 43 PDFs would take 75-130 s;
the PDF's embargo is tested on a site published as ``peelkit demo`` publishes it, with the
Met's report and its PDF). A workbench on a fresh database releases the demo's judgments of all
43 forces, then the Met's are changed — a marker in their text, the overall grade raised — and
scheduled for T = now + 1 hour; then changed again with another marker, scheduled, and
cancelled before its time. Every route of the application is crawled (a route the crawler
cannot fill in fails the test), its parameters expanded from the bundles on disk: the one
served and the one waiting. Measured on the shared 2-core machine (load 2-3), both databases:
4 min 30 s to 5 min 30 s, of which the demo and the full site 80-90 s, the crawl test 80-115 s
on each database (three releases prepared, about 12 s each; seven crawls of 1,200-1,700
addresses, 4-10 s each), the PDF test 15-18 s on each."""

from __future__ import annotations

import asyncio
import copy
import re
import shutil
import subprocess
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.routing import Mount

from peelkit.judgments import demo_judgments
from peelkit.publish import BUNDLES, publish
from peelkit.site.app import GRADES, ROUTES, STATIC, create_app
from peelkit.site.bundle import Bundle
from peelkit.site.workbench import WORKBENCH_ROUTES
from peelkit.workbench.service import content_of
from tests.workbench_support import MET, Team, team

MARKER = "EMBARGO-7f3a9c"  # in the Met's judgments scheduled for T
CANCELLED = "EMBARGO-c4nc31"  # in the Met's judgments of a release cancelled before its time
UNKNOWN = "NOTHING-0000000"  # a search for it finds nothing: the marker's search must match
HOUR = timedelta(hours=1)


# -- the site and the workbench ----------------------------------------------------------------


@pytest.fixture(scope="module")
def full_site(demo_run, tmp_path_factory) -> Path:
    """The demo published with every force's report (HTML, no PDF): a pristine copy per test."""
    site = tmp_path_factory.mktemp("embargo") / "site"
    publish(demo_run.warehouse, site, reports=True, pdf=False)
    return site


@pytest.fixture
def make_team(workbench_url: str) -> Iterator[Callable[[Path], Team]]:
    """The workbench's users on a fresh database, publishing to a site; disposed after."""
    made: list[Team] = []

    def make(site: Path) -> Team:
        made.append(team(workbench_url, site))
        return made[-1]

    yield make
    for t in made:
        t.wb.db.dispose()  # before the database is dropped


def copied(site: Path, folder: Path) -> Path:
    target = folder / "site"
    shutil.copytree(site, target)  # files, not links: nothing here reaches the pristine site
    return target


def walk_to_approved(t: Team, force: str) -> None:
    """The lead inspector takes ``force``'s judgments from draft to approved (the second
    lead approving: a lead does not approve what they wrote)."""
    lock = t.wb.draft(t.lead, force, 2016).status.lock
    for by, action in (
        (t.lead, "submit"),
        (t.lead, "moderate"),
        (t.lead, "open factual accuracy check"),
        (t.lead2, "approve"),
    ):
        lock = t.wb.step(by, force, 2016, action, lock=lock).lock


def release_all_now(t: Team) -> int:
    """The demo's judgments of the 43 forces imported, approved and released at once, so the
    public site is the workbench's from now on."""
    judgments = demo_judgments()
    assert len(judgments) == 43
    for force, j in judgments.items():
        t.wb.import_judgments(t.lead, j)
        walk_to_approved(t, force)
    return t.wb.schedule(t.lead, 2016, None, None)


def marked(data: dict[str, Any], marker: str, grade: str) -> dict[str, Any]:
    """Judgments with ``marker`` in the overall summary, a question's summary and area for
    improvement, and the source line, and the overall grade set to ``grade``."""
    data = copy.deepcopy(data)
    data["overall"]["grade"] = grade
    data["overall"]["summary"] += f" Reference {marker} (overall)."
    data["source"] += f" Reference {marker}."
    question = data["questions"][0]
    question["summary"] = [*question["summary"], f"Reference {marker} (question 1)."]
    question["areas_for_improvement"] = [
        *question["areas_for_improvement"],
        f"The force should act on reference {marker} (area for improvement).",
    ]
    return data


def change_the_met(t: Team, marker: str, grade: str) -> None:
    """A correction of the Met's published judgments, ``marked``, approved again."""
    draft = t.wb.draft(t.lead, MET, 2016)
    lock = t.wb.step(
        t.lead, MET, 2016, "correct", lock=draft.status.lock, comment=f"Corrected ({marker})."
    ).lock
    t.wb.save(t.lead, marked(t.wb.draft(t.lead, MET, 2016).content, marker, grade), lock=lock)
    walk_to_approved(t, MET)


def served_version(client: TestClient) -> str:
    return str(client.get("/api/v1/cycles").json()["version"])


def bundle_of(site: Path, version: str) -> Bundle:
    import json

    folder = site / BUNDLES / version
    return Bundle(folder, json.loads((folder / "manifest.json").read_text(encoding="utf-8")))


# -- the crawler -------------------------------------------------------------------------------


def _q(**params: Any) -> str:
    return "?" + urlencode(params, doseq=True)


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []


def _home(b: Bundle) -> Iterable[str]:
    yield "/"
    yield "/" + _q(sort="grade")
    for g in [*GRADES, "not recorded"]:
        yield "/" + _q(grade=g)
        yield "/" + _q(grade=g, sort="grade")
    for region in sorted({f["region"] for f in b.forces if f["region"]}):
        yield "/" + _q(region=region)


def _choices(b: Bundle) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Every way a period is chosen, with the period chosen: none (the latest cycle), each
    cycle by its number, each period (a cycle too) by its period end."""
    latest = next(p for p in b.periods if p["cycle"] == b.latest_cycle)
    out: list[tuple[dict[str, Any], dict[str, Any]]] = [(latest, {})]
    out += [(p, {"cycle": p["cycle"]}) for p in b.periods if p["cycle"] is not None]
    return out + [(p, {"period_end": p["period_end"]}) for p in b.periods]


def _period_params(b: Bundle) -> list[dict[str, Any]]:
    return [params for _, params in _choices(b)]


def _forces(b: Bundle) -> Iterable[str]:
    for f in b.forces:
        for params in _period_params(b):
            yield f"/forces/{f['slug']}" + (_q(**params) if params else "")
    yield f"/forces/{MET}"  # by its code too


def _how_made(b: Bundle) -> Iterable[str]:
    """Every indicator for the Met (the force whose judgments change), and every force with
    one indicator in turn: every force and every indicator, without all 1,290 pairs."""
    ids = [i["id"] for i in b.catalogue]
    for i in ids:
        for params in _period_params(b):
            yield f"/forces/metropolitan/indicators/{i}" + (_q(**params) if params else "")
    for n, f in enumerate(b.forces):
        yield f"/forces/{f['slug']}/indicators/{ids[n % len(ids)]}"


def _indicators(b: Bundle) -> Iterable[str]:
    for i in b.catalogue:
        yield f"/indicators/{i['id']}"
        yield f"/indicators/{i['id']}" + _q(force="metropolitan")
        for params in _period_params(b)[1:]:
            yield f"/indicators/{i['id']}" + _q(**params)


def _charts(b: Bundle) -> Iterable[str]:
    for p in b.periods:
        for name in _files(b.folder / "charts" / p["key"]):
            yield f"/charts/{p['key']}/{name}"
            yield f"/charts/{p['key']}/{name}" + _q(force="metropolitan")  # drawn on request


def _reports(b: Bundle) -> Iterable[str]:
    slugs = {f["code"]: f["slug"] for f in b.forces}
    for p in b.periods:
        folder = b.folder / "reports" / p["key"]
        for force in sorted(x.name for x in folder.iterdir()) if folder.is_dir() else []:
            for name in _files(folder / force):
                yield f"/reports/{p['key']}/{slugs[force]}/{name}"
                if force == MET:  # by the force's code too
                    yield f"/reports/{p['key']}/{force}/{name}"


def _national(b: Bundle) -> Iterable[str]:
    yield "/national"
    for c in b.cycles:
        yield "/national" + _q(cycle=c["cycle"])


def _national_files(b: Bundle) -> Iterable[str]:
    for c in b.cycles:
        for name in _files(b.folder / "national" / str(c["cycle"])):
            yield f"/national/{c['cycle']}/{name}"


def _compare(b: Bundle) -> Iterable[str]:
    yield "/compare"
    for f in b.forces:
        yield "/compare" + _q(force=["metropolitan", f["slug"]])
    for params in _period_params(b)[1:]:
        yield "/compare" + _q(force=["metropolitan", "kent"], **params)


def _search(b: Bundle) -> Iterable[str]:
    yield "/search"
    for q in (MARKER, CANCELLED, UNKNOWN, "EMBARGO", "Metropolitan", MET, "good", "Police"):
        yield "/search" + _q(q=q)
    for f in b.forces:
        yield "/search" + _q(q=f["name"])


def _records(b: Bundle) -> Iterable[str]:
    api = "/api/v1/records"
    yield api
    for p, params in _choices(b):
        for page in range(1, len(b.records(p["key"])) // 1000 + 2):
            for fmt in ("json", "csv"):
                yield api + _q(per_page=1000, page=page, format=fmt, **params)
    yield api + _q(page=2)
    for f in b.forces:
        yield api + _q(force=f["slug"], per_page=1000)
    for fmt in ("json", "csv"):
        yield api + _q(force=MET, per_page=1000, format=fmt)
    for i in b.catalogue:
        yield api + _q(indicator=i["id"], per_page=1000)
    yield api + _q(force="metropolitan", indicator=b.catalogue[0]["id"])


def _grades(b: Bundle) -> Iterable[str]:
    yield "/api/v1/grades"
    for c in b.cycles:
        yield "/api/v1/grades" + _q(cycle=c["cycle"])


def _lineage(b: Bundle) -> Iterable[str]:
    for i in b.catalogue:
        for params in _period_params(b):
            yield "/api/v1/lineage" + _q(force="metropolitan", indicator=i["id"], **params)
    ids = [i["id"] for i in b.catalogue]
    for n, f in enumerate(b.forces):
        yield "/api/v1/lineage" + _q(force=f["slug"], indicator=ids[n % len(ids)])


def _static(b: Bundle) -> Iterable[str]:
    for path in sorted(STATIC.rglob("*")):
        if path.is_file():
            yield "/static/" + path.relative_to(STATIC).as_posix()


#: How the crawler fills in each route of the application, from a bundle: (method, path) as in
#: site.app.ROUTES. A route missing here fails the crawl test: teach the crawler.
CRAWL: dict[tuple[str, str], Callable[[Bundle], Iterable[str]]] = {
    ("GET", "/"): _home,
    ("GET", "/forces/{slug}"): _forces,
    ("GET", "/forces/{slug}/indicators/{indicator}"): _how_made,
    ("GET", "/indicators"): lambda b: ["/indicators"],
    ("GET", "/indicators/{indicator}"): _indicators,
    ("GET", "/charts/{period}/{name}"): _charts,
    ("GET", "/reports/{period}/{slug}/{name}"): _reports,
    ("GET", "/coverage"): lambda b: ["/coverage"],
    ("GET", "/national"): _national,
    ("GET", "/national/{cycle}/{name}"): _national_files,
    ("GET", "/compare"): _compare,
    ("GET", "/api/v1/lineage"): _lineage,
    ("GET", "/search"): _search,
    ("GET", "/api/v1/forces"): lambda b: ["/api/v1/forces"],
    ("GET", "/api/v1/cycles"): lambda b: ["/api/v1/cycles"],
    ("GET", "/api/v1/catalogue"): lambda b: ["/api/v1/catalogue"],
    ("GET", "/api/v1/records"): _records,
    ("GET", "/api/v1/grades"): _grades,
    ("GET", "/api/v1/openapi.json"): lambda b: ["/api/v1/openapi.json"],
    ("GET", "/api/v1/docs"): lambda b: ["/api/v1/docs"],
    ("GET", "/static"): _static,
    ("GET", "/favicon.ico"): lambda b: ["/favicon.ico"],
}


def routes_of(app: FastAPI) -> set[tuple[str, str]]:
    """Every (method, path template) the application answers."""
    found = set()
    for route in app.routes:
        if isinstance(route, Mount):
            found.add(("GET", route.path))
        else:
            for method in getattr(route, "methods", None) or {"GET"}:
                if method != "HEAD":
                    found.add((method, route.path))  # type: ignore[attr-defined]
    return found


def public_routes(app: FastAPI) -> set[tuple[str, str]]:
    """The application's routes but the workbench's (declared in WORKBENCH_ROUTES)."""
    return routes_of(app) - WORKBENCH_ROUTES.keys()


def workbench_addresses(app: FastAPI) -> list[str]:
    """The workbench's pages and API as anyone may request them, signed out: each must answer
    with a way to sign in (303, 401), the same before and after a release, never content.
    (The sign-in page itself is left out: each answer carries a new CSRF token.)"""
    out = []
    for method, path in sorted(routes_of(app) & WORKBENCH_ROUTES.keys()):
        if method != "GET" or WORKBENCH_ROUTES[(method, path)] == "anyone":
            continue
        out.append(
            path.replace("{cycle}", "2016")
            .replace("{force}", "E23000001")
            .replace("{number}", "1")
            .replace("{name}", "0" * 32)
            .replace("{file}", "E23000001-2016.html")
        )
    return out


def addresses(app: FastAPI, bundles: Iterable[Bundle]) -> list[str]:
    """Every public address of ``app``, its parameters expanded from each of ``bundles``, and
    the workbench's signed out."""
    routes = public_routes(app)
    unknown = routes - CRAWL.keys()
    assert not unknown, f"the crawler does not know how to fill in {sorted(unknown)}"
    assert routes <= ROUTES.keys(), "a route without a declared permission (site.app.ROUTES)"
    urls: dict[str, None] = {}
    for b in bundles:
        for route in sorted(routes):
            urls.update(dict.fromkeys(CRAWL[route](b)))
    urls.update(dict.fromkeys(workbench_addresses(app)))
    return list(urls)


def probes(site: Path, served: str) -> list[str]:
    """Addresses that try to reach a bundle other than the one served: its version in place
    of a period or cycle, and paths climbing out of the served bundle into it."""
    out = []
    for folder in sorted((site / BUNDLES).iterdir()):
        v = folder.name
        if v == served:
            continue
        for report in sorted((folder / "reports").glob(f"*/{MET}/*")):  # the one changed
            key, code, name = report.parts[-3:]
            out += [
                f"/reports/{v}/metropolitan/{name}",
                f"/reports/{key}/{v}/{name}",
                f"/reports/{key}/metropolitan/" + quote(f"../../../../{v}/reports/{key}/{code}/"),
                "/reports/" + quote(f"../bundles/{v}/reports/{key}", safe="") + f"/{code}/{name}",
                f"/reports/{key}/metropolitan/"
                + quote(f"../../../../{v}/reports/{key}/{code}/{name}", safe=""),
            ]
        for chart in sorted((folder / "charts").glob("*/*.svg")):
            out += [
                f"/charts/{v}/{chart.name}",
                f"/charts/{chart.parts[-2]}/"
                + quote(f"../../../{v}/charts/x/{chart.name}", safe=""),
            ]
        for name in _files(folder / "national" / "2016"):
            out += [
                f"/national/{v}/{name}",
                "/national/2016/" + quote(f"../../../{v}/national/2016/{name}", safe=""),
            ]
        out += [
            f"/forces/metropolitan?period_end={v}",
            f"/api/v1/records?period={v}",
            f"/api/v1/records?period_end={v}",
            f"/static/../bundles/{v}/grades/2016.json",
            "/static/" + quote(f"../../../../{v}/grades/2016.json", safe=""),
            f"/bundles/{v}/grades/2016.json",
            f"/{BUNDLES}/{v}/manifest.json",
        ]
    return out


@dataclass(frozen=True)
class Seen:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")

    def max_age(self) -> int | None:
        found = re.search(r"max-age=(\d+)", self.headers.get("cache-control", ""))
        return int(found.group(1)) if found else None

    def shows(self, text: str) -> bool:
        needle = text.encode()
        return needle in self.body or any(text in v or text in k for k, v in self.headers.items())


def crawl(app: FastAPI, urls: Iterable[str]) -> dict[str, Seen]:
    """Each address's answer from ``app`` (in one event loop: a TestClient starts a thread for
    every request, and the crawl makes thousands)."""

    async def run() -> dict[str, Seen]:
        seen = {}
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            for url in urls:
                response = await c.get(url)
                assert response.status_code < 500, (url, response.status_code, response.text)
                headers = {k.lower(): v for k, v in response.headers.items()}
                seen[url] = Seen(response.status_code, headers, response.content)
        return seen

    return asyncio.run(run())


def leaks(seen: dict[str, Seen], marker: str) -> list[str]:
    """The addresses whose answer shows ``marker``. A search for the marker shows it as the
    words searched: that page must be, but for them, the page of a search finding nothing."""
    searched = "/search" + _q(q=marker)
    nothing = seen["/search" + _q(q=UNKNOWN)]
    assert seen[searched].body.replace(marker.encode(), UNKNOWN.encode()) == nothing.body
    return [u for u, s in seen.items() if u != searched and s.shows(marker)]


# -- what the pages say ------------------------------------------------------------------------


def met_grade(seen: dict[str, Seen]) -> str:
    import json

    return str(json.loads(seen["/api/v1/grades"].body)["forces"][MET]["overall"])


def force_page_grade(seen: dict[str, Seen]) -> str:
    found = re.search(r'data-grade="overall">([^<]*)<', seen["/forces/metropolitan"].body.decode())
    assert found is not None
    return found.group(1).strip().lower()


def national_counts(seen: dict[str, Seen]) -> dict[str, int]:
    """The national overview's number of forces by overall grade."""
    rows = re.findall(
        r'<th scope="row" class="govuk-table__header">([^<]+)</th>(.*?)</tr>',
        seen["/national"].body.decode(),
        re.S,
    )
    return {name.lower(): int(re.findall(r">(\d+)<", cells)[0]) for name, cells in rows}


def home_counts(seen: dict[str, Seen]) -> dict[str, int]:
    table = seen["/"].body.decode().split('id="distribution"')[1].split("</table>")[0]
    rows = re.findall(r">([^<]+)</th><td[^>]*>(\d+)</td>", table)
    return {name.lower(): int(n) for name, n in rows}


def met_report(seen: dict[str, Seen]) -> str:
    [url] = [u for u in seen if u.startswith("/reports/2016/metropolitan/") and u.endswith(".html")]
    return url


def answer(s: Seen) -> tuple[int, bytes, str | None]:
    return s.status, s.body, s.etag


def nothing_at(url: str, s: Seen) -> bool:
    """An address the served bundle does not have answers with nothing: not found (or a
    period filter that matches no row)."""
    if url.startswith("/api/v1/records?period=") and s.status == 200:
        return b'"total": 0,' in s.body
    return s.status in (404, 422)


def fresh_app(site: Path, t: Team) -> FastAPI:
    """The public site as started now: nothing kept from an earlier answer."""
    return create_app(site, t.wb)


def with_max_age_within(seen: dict[str, Seen], now: datetime, switch: datetime) -> None:
    """No cache may keep an answer past the switch: each max-age ends at ``switch`` or before;
    an answer without one is an error, a static file or the workbench's (private, no-store:
    kept by no cache), never a page of the bundle."""
    for url, s in seen.items():
        age = s.max_age()
        if url.startswith(("/workbench", "/api/v1/workbench")):
            assert s.headers["cache-control"] == "private, no-store", url
            assert s.status in (303, 401), (url, s.status)  # signed out: a way to sign in
            continue
        if age is None:
            assert s.status >= 400 or url.startswith("/static/"), (url, s.headers)
            assert s.status < 400 or "etag" not in s.headers, url
        else:
            assert now + timedelta(seconds=age) <= switch, (url, s.headers["cache-control"])


# -- the tests ---------------------------------------------------------------------------------


def test_the_crawler_knows_every_route_of_the_site_and_fails_on_one_it_does_not(
    workbench_url, tmp_path
):
    from peelkit.workbench.database import open_database
    from peelkit.workbench.service import Workbench

    db = open_database(workbench_url)
    try:
        for app in (create_app(tmp_path), create_app(tmp_path, Workbench(db, site=tmp_path))):
            assert public_routes(app) <= CRAWL.keys()
            assert public_routes(app) <= ROUTES.keys()

            @app.get("/new/{thing}")
            def new(thing: str) -> str:
                return thing

            with pytest.raises(AssertionError, match="does not know how to fill in"):
                addresses(app, [])
    finally:
        db.dispose()


@pytest.mark.slow
def test_nothing_shows_before_its_time_everything_at_it_and_a_cancelled_release_never(
    make_team, full_site, tmp_path
):
    site = copied(full_site, tmp_path)
    t = make_team(site)
    app = create_app(site, t.wb)
    client = TestClient(app)
    pointed = served_version(client)
    release_all_now(t)
    first = served_version(client)
    assert first != pointed  # the site is the workbench's now
    urls = addresses(app, [bundle_of(site, first)])
    before = crawl(app, urls)
    old_grade, old_counts = met_grade(before), national_counts(before)
    assert old_grade == "requires improvement" and force_page_grade(before) == old_grade
    assert home_counts(before)[old_grade] == old_counts[old_grade] == 13
    assert not leaks(before, MARKER)

    change_the_met(t, MARKER, "good")
    at = t.clock.now + HOUR
    t.wb.schedule(t.lead, 2016, [MET], at)
    [waiting] = [p.name for p in (site / BUNDLES).iterdir() if p.name not in (pointed, first)]
    assert MARKER in (site / BUNDLES / waiting / "grades" / "2016.json").read_text()
    urls = addresses(app, [bundle_of(site, first), bundle_of(site, waiting)])
    tried = probes(site, first)
    assert len(urls) > 900 and len(tried) > 50

    # one second before T, on the running site and on one started now: what was served before
    # the schedule, byte for byte, ETag for ETag, and no cache kept past T
    t.clock.now = at - timedelta(seconds=1)
    for name, served in (("the running site", app), ("a site started now", fresh_app(site, t))):
        seen = crawl(served, [*urls, *tried])
        leaked = leaks(seen, MARKER)
        assert not leaked, f"{name} shows the marker before T at {leaked[:5]}"
        for url, s in seen.items():
            was = before.get(url)
            if was is None:  # an address only the waiting bundle has, or a probe
                assert nothing_at(url, s), (name, url, s.status)
                continue
            assert (s.status, s.body) == (was.status, was.body), (name, "changed before T", url)
            assert s.etag == was.etag, (name, "ETag changed before T", url)
            assert s.headers.get("last-modified") == was.headers.get("last-modified"), url
        assert met_grade(seen) == old_grade and force_page_grade(seen) == old_grade
        assert national_counts(seen) == old_counts and home_counts(seen)[old_grade] == 13
        with_max_age_within(seen, t.clock.now, at)

    # at T exactly: everywhere at once, and the running site serves what a new one does
    t.clock.now = at
    assert served_version(client) == waiting
    after = crawl(app, urls)
    fresh = crawl(fresh_app(site, t), urls)
    stale = [u for u in urls if answer(after[u]) != answer(fresh[u])]
    assert not stale, f"the old bundle is still served at T at {stale[:5]}"
    assert met_grade(after) == "good" and force_page_grade(after) == "good"
    counts = dict(old_counts, good=old_counts["good"] + 1)
    counts["requires improvement"] -= 1
    assert national_counts(after) == counts
    assert home_counts(after)["good"] == counts["good"]
    report = met_report(after)
    for url in ("/forces/metropolitan", "/api/v1/grades", report):
        assert after[url].shows(MARKER), url
    assert b"(question 1)" in after[report].body
    assert b"(area for improvement)" in after[report].body
    changed = [u for u in urls if u in before and after[u].body != before[u].body]
    assert {"/", "/national", "/api/v1/grades", "/forces/metropolitan", report} <= set(changed)
    for url in changed:
        assert after[url].etag != before[url].etag, ("the old ETag on a new answer", url)
        assert after[url].status == before[url].status, url
        if before[url].etag:  # a client holding the old ETag is given the new answer
            again = client.get(url, headers={"If-None-Match": before[url].etag})
            assert again.status_code == 200, url

    # then a release cancelled before its time: it never shows, at its time or later
    change_the_met(t, CANCELLED, "inadequate")
    cancelled_at = t.clock.now + HOUR
    release = t.wb.schedule(t.lead, 2016, [MET], cancelled_at)
    [cancelled] = [
        p.name for p in (site / BUNDLES).iterdir() if p.name not in (pointed, first, waiting)
    ]
    t.clock.now = cancelled_at - timedelta(minutes=10)
    t.wb.unschedule(t.lead, release)
    urls = addresses(app, [bundle_of(site, waiting), bundle_of(site, cancelled)])
    tried = probes(site, waiting)
    for name, served, when in (
        ("the running site", app, cancelled_at),
        ("a site started a day later", fresh_app(site, t), cancelled_at + timedelta(days=1)),
    ):
        t.clock.now = when
        seen = crawl(served, [*urls, *tried])
        leaked = leaks(seen, CANCELLED)
        assert not leaked, f"{name} shows a cancelled release at {leaked[:5]}"
        for url, s in seen.items():
            if url in after:
                assert answer(s) == answer(after[url]), (name, url)
            else:
                assert nothing_at(url, s), (name, url, s.status)
        assert met_grade(seen) == "good"
    assert {s.force: s.state for s in t.wb.status(t.lead, 2016)}[MET] == "approved"


def pdf_words(pdf: bytes, folder: Path) -> str:
    """The text of a PDF (pdftotext) without white space, so a word broken over lines is whole."""
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext (poppler-utils) is missing: scripts/setup installs it")
    path = folder / "answer.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    return re.sub(r"\s+", "", text)


@pytest.mark.slow
def test_the_mets_report_pdf_is_released_with_its_judgments_and_not_before(
    make_team, demo_run, tmp_path
):
    """On a site published as ``peelkit demo`` publishes it (the Met's report with its PDF,
    no other report; no release yet), the Met's judgments are released with their report —
    its PDF too — at T, and not before."""
    site = copied(demo_run.site, tmp_path)
    t = make_team(site)
    app = create_app(site, t.wb)
    pointed = served_version(TestClient(app))
    urls = [u for u in addresses(app, [bundle_of(site, pointed)]) if u.startswith("/reports/")]
    pdf = "/reports/2016/metropolitan/peel-effectiveness-2016.pdf"
    assert pdf in urls and len(urls) >= 10
    before = crawl(app, urls)
    assert before[pdf].status == 200 and MARKER not in pdf_words(before[pdf].body, tmp_path)

    t.wb.save(t.lead, marked(content_of(demo_judgments()[MET]), MARKER, "good"), lock=None)
    walk_to_approved(t, MET)
    at = t.clock.now + HOUR
    t.wb.schedule(t.lead, 2016, [MET], at)
    t.clock.now = at - timedelta(seconds=1)
    for served in (app, fresh_app(site, t)):
        seen = crawl(served, urls)
        assert {u: answer(s) for u, s in seen.items()} == {u: answer(s) for u, s in before.items()}
        with_max_age_within(seen, t.clock.now, at)

    t.clock.now = at
    for served in (app, fresh_app(site, t)):
        seen = crawl(served, urls)
        assert seen[pdf].status == 200 and seen[pdf].etag != before[pdf].etag
        words = pdf_words(seen[pdf].body, tmp_path)
        assert MARKER in words and "(question1)" in words and "(areaforimprovement)" in words
        assert seen[met_report(seen)].shows(MARKER)
