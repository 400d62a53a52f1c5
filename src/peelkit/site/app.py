"""The public site and its API: every published figure, grade and report, read from the
published bundle (peelkit.publish) and never computed while serving.

One FastAPI application serves the pages (Jinja2 templates in the GOV.UK Design System's
markup, working with JavaScript off) and the API under ``/api/v1``, whose rows are the very
rows the pages and the CSV download show. Every route declares who may use it (``ROUTES``):
today all are public and read-only; the inspectors' workbench will add its own.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, select_autoescape
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from peelkit import display, reference
from peelkit.indicators.periods import known_cycles
from peelkit.publish import rows_csv
from peelkit.site.bundle import Bundle, HighlightedCharts, Published
from peelkit.workbench.clock import system_clock

if TYPE_CHECKING:
    from peelkit.workbench.service import Workbench

STATIC = Path(__file__).parent / "static"

#: Who may use each route (method, path template): the one declared table; a test fails on a
#: route that is not in it.
ROUTES: dict[tuple[str, str], str] = {
    ("GET", "/"): "public",
    ("GET", "/forces/{slug}"): "public",
    ("GET", "/forces/{slug}/indicators/{indicator}"): "public",
    ("GET", "/indicators"): "public",
    ("GET", "/indicators/{indicator}"): "public",
    ("GET", "/charts/{period}/{name}"): "public",
    ("GET", "/reports/{period}/{slug}/{name}"): "public",
    ("GET", "/coverage"): "public",
    ("GET", "/national"): "public",
    ("GET", "/national/{cycle}/{name}"): "public",
    ("GET", "/compare"): "public",
    ("GET", "/api/v1/lineage"): "public",
    ("GET", "/search"): "public",
    ("GET", "/api/v1/forces"): "public",
    ("GET", "/api/v1/cycles"): "public",
    ("GET", "/api/v1/catalogue"): "public",
    ("GET", "/api/v1/records"): "public",
    ("GET", "/api/v1/grades"): "public",
    ("GET", "/api/v1/openapi.json"): "public",
    ("GET", "/api/v1/docs"): "public",
    ("GET", "/static"): "public",
    ("GET", "/favicon.ico"): "public",
}

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
        "frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
}
# an SVG shown as an image runs no script; its drawing uses style attributes
SVG_POLICY = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"
# Swagger UI: its own script files only, but it sets style attributes as it draws
DOCS_POLICY = SECURITY_HEADERS["Content-Security-Policy"].replace(
    "style-src 'self'", "style-src 'self' 'unsafe-inline'"
)
# a published report's HTML is one self-contained file: its own <style> and SVG figures, no
# script at all
REPORT_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
    "script-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
CACHE_SECONDS = 60
CACHE = f"public, max-age={CACHE_SECONDS}"
GRADES = ["outstanding", "good", "requires improvement", "inadequate"]
MAX_COMPARED = 5
CYCLE = Query(
    description="a cycle (default: the latest published; another is a 400)",
    json_schema_extra={"enum": list(known_cycles())},
)
PERIOD_END = Query(
    description="a data profile's period end, e.g. 2018-03-31 (instead of a cycle); one that "
    "is not published is a 404 listing those that are",
)
RENDERED_KEPT = 2048  # pages kept rendered (about 100 MB at most; most pages are 10-50 KB)


class Problem(BaseModel):
    """What the API answers instead of data: what was wrong, and what is accepted."""

    detail: str


#: The answers an API route may give besides its data, declared in the OpenAPI document.
API_ERRORS: dict[int | str, dict[str, Any]] = {
    304: {"description": "Not modified: the client's copy (If-None-Match) is current"},
    400: {"model": Problem, "description": "A cycle that is not published"},
    404: {
        "model": Problem,
        "description": "An unknown force or indicator (the closest named), or a period that "
        "is not published (those that are named)",
    },
    503: {"model": Problem, "description": "Nothing is published yet"},
}


def create_app(site: Path, workbench: Workbench | None = None) -> FastAPI:
    """The application serving the bundle that ``site``'s pointer names — or, with a
    ``workbench``, the bundle its latest due release names, and the workbench's own pages."""
    published = Published(site, workbench.switch if workbench is not None else None)
    clock = workbench.clock if workbench is not None else system_clock
    charts = HighlightedCharts(site)
    app = FastAPI(
        title="peelkit: police effectiveness (PEEL) figures",
        version="1",
        openapi_url=None,  # served below, with an ETag like every response
        docs_url=None,
        redoc_url=None,
        debug=False,
    )
    env = Environment(
        loader=PackageLoader("peelkit.site", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["figure"] = display.figure
    env.globals["NO_VALUE"] = display.NO_VALUE
    env.globals["direction"] = direction
    env.globals["selects"] = selects
    if STATIC.is_dir():
        app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.middleware("http")
    async def security(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        kind = response.headers.get("content-type", "")
        if kind.startswith("image/svg"):
            response.headers["Content-Security-Policy"] = SVG_POLICY
        elif kind.startswith("text/html") and request.url.path.startswith(
            ("/reports/", "/national/")
        ):
            response.headers["Content-Security-Policy"] = REPORT_POLICY
        elif request.url.path == "/api/v1/docs":
            response.headers["Content-Security-Policy"] = DOCS_POLICY
        if request.url.path.startswith(("/workbench", "/api/v1/workbench")):
            # nothing of the workbench is kept by any cache: it shows unpublished material
            response.headers["Cache-Control"] = "private, no-store"
            return response
        switch = published.next_switch
        if switch is not None and response.headers.get("cache-control", "").startswith("public"):
            # no cache may keep a public page past the next release: it must appear at once
            left = int((switch - clock()).total_seconds())
            response.headers["Cache-Control"] = (
                f"public, max-age={max(0, min(CACHE_SECONDS, left))}"
            )
        return response

    def bundle() -> Bundle:
        found = published.current()
        if found is None:
            raise HTTPException(503, "Nothing is published yet: run 'peelkit publish'.")
        return found

    rendered: OrderedDict[tuple[str, str, str], bytes] = OrderedDict()
    rendering = threading.Lock()

    def page(request: Request, b: Bundle | None, template: str, **context: Any) -> Response:
        """A page rendered from bundle ``b``. A bundle never changes once published, so a
        page's bytes depend only on its version and address: they are rendered once and kept
        (the most recent RENDERED_KEPT pages; a new publication starts afresh)."""
        key = (b.version if b else "", request.url.path, request.url.query)
        with rendering:
            body = rendered.get(key)
            if body is not None:
                rendered.move_to_end(key)
        if body is None:
            text = env.get_template(template).render(request=request, bundle=b, **context)
            body = text.encode("utf-8")
            with rendering:
                rendered[key] = body
                while len(rendered) > RENDERED_KEPT:
                    rendered.popitem(last=False)
        return _cached(request, body, "text/html; charset=utf-8", b)

    def force_named(b: Bundle, name: str) -> dict[str, Any]:
        force = b.force_by_slug.get(name)
        if force is None:
            code = reference.force_code_of(name)
            force = b.force_by_code.get(code or "")
        if force is None:
            closest = ", ".join(reference.closest_force_names(name, 3))
            raise HTTPException(404, f"There is no force called {name!r}. Closest: {closest}.")
        return force

    def indicator_named(b: Bundle, indicator: str) -> dict[str, Any]:
        found = b.indicator_by_id.get(indicator)
        if found is None:
            raise HTTPException(404, f"There is no indicator {indicator!r} in the catalogue.")
        return found

    def cycle_of(b: Bundle, cycle: int | None) -> int:
        known = [c["cycle"] for c in b.cycles]
        if cycle is None:
            return b.latest_cycle
        if cycle not in known:
            raise HTTPException(
                400, f"cycle {cycle} is not published; published: {', '.join(map(str, known))}"
            )
        return cycle

    def period_of(
        b: Bundle, cycle: int | None = None, period_end: str | None = None
    ) -> dict[str, Any]:
        """The published period asked for: a data profile by its period end, else a cycle,
        else the latest cycle; a 400 listing what is published otherwise."""
        published = b.periods
        if period_end is not None:
            found = next((p for p in published if p["period_end"] == period_end), None)
            if found is None:
                ends = ", ".join(p["period_end"] for p in published)
                raise HTTPException(
                    404, f"no period ending {period_end!r} is published; published: {ends}"
                )
            return found
        chosen = cycle_of(b, cycle)
        return next(p for p in published if p["cycle"] == chosen)

    def by_key(b: Bundle, key: str) -> dict[str, Any]:
        found = next((p for p in b.periods if p["key"] == key), None)
        if found is None:
            raise HTTPException(404, f"No period {key!r} is published.")
        return found

    # -- pages ----------------------------------------------------------------------------

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def home(
        request: Request,
        grade: str | None = None,
        region: str | None = None,
        sort: str = "name",
    ) -> Response:
        b = bundle()
        cycle = b.latest_cycle
        grades = b.grades(cycle)
        rows = []
        for f in b.forces:
            g = grades["forces"][f["code"]]
            rows.append({"force": f, "overall": g["overall"], "questions": g["questions"]})
        regions = sorted({f["region"] for f in b.forces if f["region"]})
        if region:
            rows = [r for r in rows if r["force"]["region"] == region]
        if grade:
            rows = [r for r in rows if r["overall"] == grade]
        order = GRADES
        if sort == "grade":
            rows.sort(
                key=lambda r: (
                    order.index(r["overall"]) if r["overall"] in order else 9,
                    r["force"]["name"],
                )
            )
        else:
            rows.sort(key=lambda r: r["force"]["name"])
        counts = {
            g: sum(grades["forces"][c]["overall"] == g for c in grades["forces"]) for g in order
        }
        return page(
            request,
            b,
            "home.html",
            rows=rows,
            questions=grades["questions"],
            cycle=cycle,
            regions=regions,
            region=region,
            grade=grade,
            grades=order,
            counts=counts,
            sort=sort,
        )

    @app.get("/forces/{slug}", response_class=HTMLResponse, include_in_schema=False)
    def force_page(
        request: Request, slug: str, cycle: int | None = None, period_end: str | None = None
    ) -> Response:
        b = bundle()
        force = force_named(b, slug)
        period = period_of(b, cycle, period_end)
        grades = b.grades(period["key"]) if period["cycle"] is not None else None
        mine = [r for r in b.records(period["key"]) if r["force_code"] == force["code"]]
        numbers = _latest_rows(mine)
        gaps = [g for g in b.coverage["gaps"] if force["name"] in g["force_names"]]
        report = _report_files(b, period["key"], force["code"])
        return page(
            request,
            b,
            "force.html",
            force=force,
            period=period,
            cycle=period["cycle"],
            grades=grades,
            judged=grades["forces"][force["code"]] if grades else None,
            numbers=numbers,
            indicators=b.indicator_by_id,
            gaps=gaps,
            report=report,
            notices=[
                n
                for n in b.corrections
                if n["force"] == force["code"] and n["cycle"] == period["cycle"]
            ],
        )

    @app.get("/indicators", response_class=HTMLResponse, include_in_schema=False)
    def catalogue_page(request: Request) -> Response:
        b = bundle()
        return page(request, b, "catalogue.html", catalogue=b.catalogue)

    @app.get("/indicators/{indicator}", response_class=HTMLResponse, include_in_schema=False)
    def indicator_page(
        request: Request,
        indicator: str,
        force: str | None = None,
        cycle: int | None = None,
        period_end: str | None = None,
    ) -> Response:
        b = bundle()
        ind = indicator_named(b, indicator)
        period = period_of(b, cycle, period_end)
        subject = force_named(b, force) if force else None
        rows = _ranked([r for r in b.records(period["key"]) if r["indicator_id"] == indicator])
        chart = b.file("charts", period["key"], f"{indicator}.svg")
        return page(
            request,
            b,
            "indicator.html",
            ind=ind,
            period=period,
            cycle=period["cycle"],
            rows=rows,
            subject=subject["code"] if subject else None,
            subject_slug=subject["slug"] if subject else None,
            chart=(
                f"/charts/{period['key']}/{indicator}.svg"
                + (f"?force={subject['slug']}" if subject else "")
                if chart
                else None
            ),
            names=b.force_by_code,
        )

    @app.get(
        "/forces/{slug}/indicators/{indicator}",
        response_class=HTMLResponse,
        include_in_schema=False,
    )
    def how_made(
        request: Request,
        slug: str,
        indicator: str,
        cycle: int | None = None,
        period_end: str | None = None,
    ) -> Response:
        b = bundle()
        force = force_named(b, slug)
        period = period_of(b, cycle, period_end)
        ind = indicator_named(b, indicator)
        text = _lineage(b, period["key"], force["code"], indicator)
        if text is None:
            raise HTTPException(404, f"{indicator} has no published figure for {force['name']}.")
        sql = b.file("sql", period["key"], f"{indicator}.sql")
        return page(
            request,
            b,
            "how-made.html",
            force=force,
            ind=ind,
            period=period,
            cycle=period["cycle"],
            text=text,
            sql=sql.read_text(encoding="utf-8") if sql else None,
        )

    @app.get("/national", response_class=HTMLResponse, include_in_schema=False)
    def national_page(request: Request, cycle: int | None = None) -> Response:
        b = bundle()
        chosen = cycle_of(b, cycle)
        grades = b.grades(chosen)
        order = [*GRADES, "ungraded", "not recorded"]
        columns = [("overall", "Overall")] + [
            (str(q["number"]), f"Q{q['number']} {q['short']}") for q in grades["questions"]
        ]
        counts = {
            key: {
                g: sum(
                    (f["overall"] if key == "overall" else f["questions"].get(key)) == g
                    for f in grades["forces"].values()
                )
                for g in order
            }
            for key, _ in columns
        }
        folder = b.folder / "national" / str(chosen)
        files = (
            {p.suffix: p.name for p in folder.glob("peel-national-*")} if folder.is_dir() else {}
        )
        return page(
            request,
            b,
            "national.html",
            cycle=chosen,
            columns=columns,
            counts=counts,
            order=order,
            files=files,
        )

    @app.get("/national/{cycle}/{name}", include_in_schema=False)
    def national_file(request: Request, cycle: int, name: str) -> Response:
        b = bundle()
        path = b.file("national", str(cycle_of(b, cycle)), name)
        if path is None:
            raise HTTPException(404, f"There is no national overview file {name!r}.")
        return FileResponse(path, headers={"Cache-Control": CACHE, "ETag": _etag(b, name)})

    @app.get("/compare", response_class=HTMLResponse, include_in_schema=False)
    def compare(
        request: Request,
        force: Annotated[list[str] | None, Query()] = None,
        cycle: int | None = None,
        period_end: str | None = None,
    ) -> Response:
        force = [f for f in force or [] if f.strip()]  # the form's unused choices are empty
        b = bundle()
        chosen = period_of(b, cycle, period_end)
        if len(force) > MAX_COMPARED:
            raise HTTPException(400, f"Compare up to {MAX_COMPARED} forces at a time.")
        forces = []
        for name in force:
            found = force_named(b, name)
            if found not in forces:
                forces.append(found)
        codes = [f["code"] for f in forces]
        rows = _latest_rows([r for r in b.records(chosen["key"]) if r["force_code"] in codes])
        table: dict[tuple[str, str | None], dict[str, Any]] = {}
        for r in rows:
            table.setdefault((r["indicator_id"], r["breakdown_key"]), {})[r["force_code"]] = r
        return page(
            request,
            b,
            "compare.html",
            period=chosen,
            cycle=chosen["cycle"],
            forces=forces,
            all_forces=sorted(b.forces, key=lambda f: f["name"]),
            table=table,
            indicators=b.indicator_by_id,
            most=MAX_COMPARED,
        )

    @app.get("/coverage", response_class=HTMLResponse, include_in_schema=False)
    def coverage_page(request: Request) -> Response:
        b = bundle()
        return page(request, b, "coverage.html", coverage=b.coverage)

    @app.get("/search", response_class=HTMLResponse, include_in_schema=False)
    def search(request: Request, q: str = "") -> Response:
        b = bundle()
        text = q.strip()[:100]
        forces = []
        indicators = []
        if text:
            code = reference.force_code_of(text)
            folded = text.casefold()
            forces = [
                f
                for f in b.forces
                if f["code"] == code or folded in f["name"].casefold() or folded == f["slug"]
            ]
            indicators = [
                i
                for i in b.catalogue
                if folded in i["title"].casefold() or folded == i["id"].casefold()
            ]
        return page(request, b, "search.html", q=text, forces=forces, indicators=indicators)

    @app.get("/charts/{period}/{name}", include_in_schema=False)
    def chart(request: Request, period: str, name: str, force: str | None = None) -> Response:
        b = bundle()
        key = by_key(b, period)["key"]
        path = b.file("charts", key, name)
        if path is None or not name.endswith(".svg"):
            raise HTTPException(404, "There is no such chart.")
        if force is None:
            return _cached(request, path.read_bytes(), "image/svg+xml", b)
        subject = force_named(b, force)["code"]
        indicator = name.removesuffix(".svg")
        return _cached(request, charts.highlighted(b, key, indicator, subject), "image/svg+xml", b)

    @app.get("/reports/{period}/{slug}/{name}", include_in_schema=False)
    def report_file(request: Request, period: str, slug: str, name: str) -> Response:
        b = bundle()
        force = force_named(b, slug)
        path = b.file("reports", by_key(b, period)["key"], force["code"], name)
        if path is None:
            raise HTTPException(404, f"There is no report file {name!r} for {force['name']}.")
        return FileResponse(path, headers={"Cache-Control": CACHE, "ETag": _etag(b, name)})

    # -- the API --------------------------------------------------------------------------

    @app.get("/api/v1/forces", tags=["reference"], responses=API_ERRORS)
    def api_forces(request: Request) -> Response:
        """The 43 territorial forces: ONS code, name, police.uk id and region."""
        b = bundle()
        return _json(request, b, {"forces": b.forces})

    @app.get("/api/v1/cycles", tags=["reference"], responses=API_ERRORS)
    def api_cycles(request: Request) -> Response:
        """The published inspection cycles, each with the period end its data run to, and every
        published period (cycles and data profiles)."""
        b = bundle()
        return _json(request, b, {"cycles": b.cycles, "periods": b.periods, "version": b.version})

    @app.get("/api/v1/catalogue", tags=["reference"], responses=API_ERRORS)
    def api_catalogue(request: Request) -> Response:
        """Every indicator: definition, unit, period, Annex A rule, exclusions, caveats."""
        b = bundle()
        return _json(request, b, {"indicators": b.catalogue})

    @app.get(
        "/api/v1/records",
        tags=["records"],
        responses={
            **API_ERRORS,
            200: {
                "description": "The records as JSON, or as CSV (format=csv or Accept: text/csv)",
                "content": {"application/json": {}, "text/csv": {"schema": {"type": "string"}}},
            },
        },
    )
    def api_records(
        request: Request,
        force: str | None = Query(None, description="ONS code, police.uk id or any name"),
        indicator: str | None = Query(None, description="an indicator id, e.g. FIN-2"),
        cycle: Annotated[int | None, CYCLE] = None,
        period_end: Annotated[date | None, PERIOD_END] = None,
        period: str | None = Query(None, description="a period exactly as records name it"),
        page_number: int = Query(1, alias="page", ge=1),
        per_page: int = Query(100, ge=1, le=1000),
        format: str | None = Query(None, pattern="^(json|csv)$"),
    ) -> Response:
        """Benchmark records, the long row: value, numerator, denominator, both intervals,
        verdict, rank, coverage, note, load ids and data label."""
        b = bundle()
        chosen = period_of(b, cycle, period_end.isoformat() if period_end else None)
        rows = b.records(chosen["key"])
        if force:
            code = force_named(b, force)["code"]
            rows = [r for r in rows if r["force_code"] == code]
        if indicator:
            indicator_named(b, indicator)
            rows = [r for r in rows if r["indicator_id"] == indicator]
        if period:
            rows = [r for r in rows if r["period"] == period]
        total = len(rows)
        start = (page_number - 1) * per_page
        shown = rows[start : start + per_page]
        wants_csv = format == "csv" or (
            format is None and "text/csv" in request.headers.get("accept", "")
        )
        if wants_csv:
            return _cached(request, rows_csv(shown).encode("utf-8"), "text/csv; charset=utf-8", b)
        return _json(
            request,
            b,
            {
                "cycle": chosen["cycle"],
                "period_end": chosen["period_end"],
                "total": total,
                "page": page_number,
                "per_page": per_page,
                "records": shown,
            },
        )

    @app.get("/api/v1/grades", tags=["grades"], responses=API_ERRORS)
    def api_grades(
        request: Request,
        cycle: Annotated[int | None, CYCLE] = None,
    ) -> Response:
        """The inspectors' published grades of every force, overall and per question."""
        b = bundle()
        return _json(request, b, b.grades(cycle_of(b, cycle)))

    @app.get("/api/v1/lineage", tags=["records"], responses=API_ERRORS)
    def api_lineage(
        request: Request,
        force: str = Query(description="ONS code, police.uk id or any name"),
        indicator: str = Query(description="an indicator id, e.g. FIN-2"),
        cycle: Annotated[int | None, CYCLE] = None,
        period_end: Annotated[date | None, PERIOD_END] = None,
    ) -> Response:
        """How one record was made: its numbers, the rule, the forces left out and the source
        files with their sha256 and load ids, as ``peelkit explain`` prints it."""
        b = bundle()
        chosen = period_of(b, cycle, period_end.isoformat() if period_end else None)
        found = force_named(b, force)
        text = _lineage(b, chosen["key"], found["code"], indicator)
        if text is None:
            raise HTTPException(
                404, f"There is no published figure {indicator!r} for {found['name']}."
            )
        sql = b.file("sql", chosen["key"], f"{indicator}.sql")
        return _json(
            request,
            b,
            {
                "force": found["code"],
                "indicator": indicator,
                "cycle": chosen["cycle"],
                "period_end": chosen["period_end"],
                "explain": text,
                "sql_every_force": sql.read_text(encoding="utf-8") if sql else None,
            },
        )

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        """No icon (GOV.UK's carry the crown): an empty answer, not a 404 in every log."""
        return Response(status_code=204, headers={"Cache-Control": "public, max-age=86400"})

    @app.get("/api/v1/docs", response_class=HTMLResponse, include_in_schema=False)
    def api_docs(request: Request) -> Response:
        return page(request, published.current(), "api-docs.html")

    @app.get("/api/v1/openapi.json", include_in_schema=False)
    def api_openapi(request: Request) -> Response:
        return _json(request, published.current(), app.openapi())

    # -- errors ---------------------------------------------------------------------------

    if workbench is not None:
        from peelkit.site.workbench import add_workbench

        add_workbench(app, env, workbench, site, published.current)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)
        text = env.get_template("error.html").render(
            request=request, bundle=None, status=exc.status_code, message=str(exc.detail)
        )
        return HTMLResponse(text, status_code=exc.status_code)

    @app.exception_handler(Exception)
    async def server_error(request: Request, exc: Exception) -> Response:
        message = "Something went wrong on our side. Try again later."
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": message}, status_code=500)
        text = env.get_template("error.html").render(
            request=request, bundle=None, status=500, message=message
        )
        return HTMLResponse(text, status_code=500)

    return app


def _latest_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each indicator's rows of its own period (the latest of a series)."""
    latest: dict[str, str] = {}
    for r in rows:
        latest[r["indicator_id"]] = max(latest.get(r["indicator_id"], ""), r["window_end"] or "")
    return [r for r in rows if (r["window_end"] or "") == latest[r["indicator_id"]]]


def _ranked(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The indicator's rows of its own period and first row, highest value first; forces
    without a value last."""
    rows = _latest_rows(rows)
    keys = [r["breakdown_key"] for r in rows]
    if any(k is not None for k in keys):
        first = next(k for k in keys if k is not None)
        rows = [r for r in rows if r["breakdown_key"] == first]
    return sorted(rows, key=lambda r: (r["value"] is None, -(r["value"] or 0)))


def _lineage(b: Bundle, period: str, code: str, indicator: str) -> str | None:
    """The published explanation of one figure (a broken-down indicator's first row)."""
    folder = b.folder / "lineage" / period / code
    path = b.file("lineage", period, code, f"{indicator}.txt")
    if path is None and folder.is_dir():
        rows = sorted(p.name for p in folder.glob(f"{indicator}--*.txt"))
        path = b.file("lineage", period, code, rows[0]) if rows else None
    return path.read_text(encoding="utf-8") if path else None


def selects(period: dict[str, Any] | None) -> str:
    """The query that selects ``period`` on a page: the cycle, or a data profile's period end
    (the names the command line uses: --cycle, --period-end)."""
    if period is None:
        return ""
    if period["cycle"] is not None:
        return f"cycle={period['cycle']}"
    return f"period_end={period['period_end']}"


def direction(previous: str | None, now: str) -> str:
    """How a grade moved since the previous cycle: improved, declined or unchanged."""
    if previous not in GRADES or now not in GRADES:
        return ""
    step = GRADES.index(previous) - GRADES.index(now)
    return "improved" if step > 0 else "declined" if step < 0 else "unchanged"


def _report_files(b: Bundle, period: str, code: str) -> dict[str, str]:
    folder = b.folder / "reports" / period / code
    if not folder.is_dir():
        return {}
    found = {}
    for path in sorted(folder.iterdir()):
        for kind, suffix in (("html", ".html"), ("pdf", ".pdf"), ("csv", ".csv")):
            if path.suffix == suffix:
                found[kind] = path.name
    return found


def _etag(b: Bundle, key: str) -> str:
    return '"' + hashlib.sha256(f"{b.version}:{key}".encode()).hexdigest()[:32] + '"'


def _cached(
    request: Request, body: bytes, media_type: str, b: Bundle | None, status: int = 200
) -> Response:
    """A response with an ETag of its bytes; 304 when the client already has them."""
    tag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {"ETag": tag, "Cache-Control": CACHE}
    if status == 200 and request.headers.get("if-none-match") == tag:
        return Response(status_code=304, headers=headers)
    return Response(body, status_code=status, media_type=media_type, headers=headers)


def _json(request: Request, b: Bundle | None, data: Any) -> Response:
    import json

    body = json.dumps(data, ensure_ascii=False).encode("utf-8")
    return _cached(request, body, "application/json", b)
