"""The inspection workbench's pages and API, on the site's application (same look).

Every route is declared in ``WORKBENCH_ROUTES`` with who may use it; the decision itself is
the service's (``roles.authorize``), so the pages and the API cannot disagree with the command
line. Pages sign in with a session cookie (``HttpOnly``, ``SameSite=Lax``, ``Secure`` behind
TLS) and every form carries a session-bound CSRF token (WTForms) and is refused from another
origin; the API signs in with a bearer token instead (``POST /api/v1/workbench/session``) and
never reads the cookie, so no other site can make a browser call it. Every workbench response
is ``Cache-Control: private, no-store``."""

from __future__ import annotations

import functools
import hashlib
import json
import secrets
import shutil
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qsl, quote, urlsplit

from fastapi import FastAPI, Request
from fastapi.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from jinja2 import Environment
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from wtforms import Form
from wtforms.csrf.session import SessionCSRF

from peelkit import reference
from peelkit.errors import (
    Forbidden,
    InvalidInput,
    InvalidStep,
    NotFound,
    SignInRefused,
    StaleVersion,
    WorkbenchError,
)
from peelkit.judgments import COUNTED, GRADED, question_set
from peelkit.judgments.model import Grade
from peelkit.site import fields as fields_html
from peelkit.workbench import form as judgments_form
from peelkit.workbench import roles, workflow
from peelkit.workbench.accounts import Session
from peelkit.workbench.service import Workbench, changes

T = TypeVar("T")

SESSION_COOKIE = "peelkit_session"
PRESESSION_COOKIE = "peelkit_presession"
PRIVATE = "private, no-store"
# the preview of a report is framed by the workbench's own page (and by nothing else)
PREVIEW_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
    "script-src 'none'; frame-ancestors 'self'; base-uri 'none'; form-action 'none'"
)
GRADES: tuple[str, ...] = Grade.__args__  # type: ignore[attr-defined]

#: Who may use each workbench route: an action of ``roles.PERMISSIONS`` (checked by the
#: service for the force and state at hand), "signed in", or "anyone" (signing in).
WORKBENCH_ROUTES: dict[tuple[str, str], str] = {
    ("GET", "/workbench/sign-in"): "anyone",
    ("POST", "/workbench/sign-in"): "anyone",
    ("POST", "/workbench/sign-out"): "signed in",
    ("GET", "/workbench"): "signed in",
    ("GET", "/workbench/moderation/{cycle}"): "view moderation",
    ("GET", "/workbench/judgments/{cycle}/{force}"): "read judgments",
    ("POST", "/workbench/judgments/{cycle}/{force}"): "edit judgments",
    ("POST", "/workbench/judgments/{cycle}/{force}/preview"): "read judgments",
    ("GET", "/workbench/previews/{name}/{file}"): "read judgments",
    ("POST", "/workbench/judgments/{cycle}/{force}/steps"): "the step's own action",
    ("POST", "/workbench/judgments/{cycle}/{force}/comments"): "comment on factual accuracy",
    ("GET", "/workbench/judgments/{cycle}/{force}/versions/{number}"): "read judgments",
    ("GET", "/workbench/judgments/{cycle}/{force}/judgments.toml"): "read judgments",
    ("GET", "/workbench/judgments/{cycle}/{force}/history"): "read audit",
    ("GET", "/workbench/judgments/{cycle}/{force}/history.csv"): "read audit",
    ("POST", "/workbench/import/{cycle}"): "import judgments",
    ("GET", "/workbench/releases"): "view releases",
    ("POST", "/workbench/releases"): "schedule",
    ("POST", "/workbench/releases/{release}/cancel"): "unschedule",
    ("GET", "/workbench/admin"): "manage users",
    ("POST", "/workbench/admin/users"): "manage users",
    ("POST", "/workbench/admin/users/{username}"): "manage users",
    ("POST", "/api/v1/workbench/session"): "anyone",
    ("DELETE", "/api/v1/workbench/session"): "signed in",
    ("GET", "/api/v1/workbench/judgments"): "signed in",
    ("GET", "/api/v1/workbench/judgments/{cycle}/{force}"): "read judgments",
    ("PUT", "/api/v1/workbench/judgments/{cycle}/{force}"): "edit judgments",
    ("POST", "/api/v1/workbench/judgments/{cycle}/{force}/steps"): "the step's own action",
    ("POST", "/api/v1/workbench/judgments/{cycle}/{force}/comments"): (
        "comment on factual accuracy"
    ),
    ("GET", "/api/v1/workbench/judgments/{cycle}/{force}/history"): "read audit",
    ("POST", "/api/v1/workbench/releases"): "schedule",
    ("DELETE", "/api/v1/workbench/releases/{release}"): "unschedule",
}


class CsrfForm(Form):  # type: ignore[misc]
    """A form carrying the session's CSRF token (WTForms' SessionCSRF, valid 8 hours)."""

    class Meta:
        csrf = True
        csrf_class = SessionCSRF
        csrf_time_limit = timedelta(hours=8)


def csrf_form(secret: str, formdata: Any = None) -> CsrfForm:
    key = hashlib.sha256(("peelkit csrf " + secret).encode()).digest()
    return CsrfForm(formdata, meta={"csrf_secret": key, "csrf_context": {"csrf": secret}})


class Refused(Exception):
    """A response to send instead (a redirect to sign in, an error page)."""

    def __init__(self, response: Response) -> None:
        self.response = response


def add_workbench(
    app: FastAPI,
    env: Environment,
    workbench: Workbench,
    site: Path,
    current_bundle: Callable[[], Any],
) -> None:
    """Add the workbench's routes to the site's ``app``."""

    previews = site / "previews"
    env.filters.setdefault("fromjson", json.loads)
    env.filters.setdefault("uk_time", _uk_time)

    async def call(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """A service call, off the event loop (database, argon2)."""
        return await run_in_threadpool(fn, *args, **kwargs)

    async def render(
        request: Request, template: str, status: int = 200, **context: Any
    ) -> HTMLResponse:
        """A workbench page, rendered off the event loop: the judgments form (some 270
        fields) takes milliseconds of CPU, which on the loop would hold up every request the
        server has in hand, the public site's too."""
        return await run_in_threadpool(_page, request, template, status, context)

    def _page(
        request: Request, template: str, status: int, context: dict[str, Any]
    ) -> HTMLResponse:
        """A workbench page; a signed-in one carries its session's CSRF token for its forms."""
        session = context.get("session")
        context.setdefault("csrf", _token(session) if isinstance(session, Session) else "")
        text = env.get_template(template).render(
            request=request,
            bundle=None,
            grade_words=GRADES,
            force_name=force_name,
            **context,
        )
        return HTMLResponse(text, status_code=status, headers={"Cache-Control": PRIVATE})

    def force_name(code: str) -> str:
        force = reference.force_by_code().get(code)
        return force.name if force else code

    async def message(
        request: Request, status: int, title: str, text: str, session: Session | None
    ) -> HTMLResponse:
        return await render(
            request,
            "wb-message.html",
            status,
            title=title,
            message=text,
            session=session,
        )

    def _token(session: Session | None) -> str:
        return str(csrf_form(session.csrf_secret).csrf_token.current_token) if session else ""

    async def signed_in(request: Request) -> Session:
        return await call(_signed_in, request)

    def _signed_in(request: Request) -> Session:
        """The request's session, else a refusal that sends it to sign in (in the thread
        pool: a page may go on there without a trip back to the event loop)."""
        token = request.cookies.get(SESSION_COOKIE)
        session = workbench.session(token) if token else None
        if session is None:
            target = quote(request.url.path, safe="/")
            raise Refused(
                RedirectResponse(
                    f"/workbench/sign-in?next={target}", 303, headers={"Cache-Control": PRIVATE}
                )
            )
        return session

    async def maybe_signed_in(request: Request) -> Session | None:
        """The session, if any, so that an error page keeps the menu and sign-out."""
        token = request.cookies.get(SESSION_COOKIE)
        return await call(workbench.session, token) if token else None

    def same_origin(request: Request) -> bool:
        """A form post comes from this site: its Origin (or, failing that, its Referer) is
        this site's own; a browser that sends neither is let through to the CSRF check."""
        own = f"{request.url.scheme}://{request.url.netloc}"
        origin = request.headers.get("origin")
        if origin is not None:
            return origin == own
        referer = request.headers.get("referer")
        if referer:
            parts = urlsplit(referer)
            return f"{parts.scheme}://{parts.netloc}" == own
        return True

    async def posted(request: Request, secret: str, *, files: bool = False) -> Any:
        """The form of a POST, after the Origin and CSRF checks (a refusal otherwise). Its
        uploaded files are closed here unless the route takes ``files`` (and then closes the
        form itself): nothing else closes a form read with ``request.form()``, and an open
        upload holds a temporary file until the garbage collector finds it."""
        form = await _form(request)
        checked = csrf_form(secret, form)
        accepted = same_origin(request) and checked.validate()
        if not accepted or not files:
            await form.close()
        if not accepted:
            raise Refused(
                PlainTextResponse(
                    "This form has expired or did not come from this site. Go back, reload "
                    "the page and try again.",
                    status_code=403,
                    headers={"Cache-Control": PRIVATE},
                )
            )
        return form

    def handles(
        page: Callable[..., Awaitable[Response]],
    ) -> Callable[..., Awaitable[Response]]:
        """Turn the service's refusals into pages: not found (also for what is out of the
        user's scope), forbidden, a step the workflow refuses, a stale version."""

        @functools.wraps(page)
        async def wrapped(request: Request, *args: Any, **kwargs: Any) -> Response:
            try:
                return await page(request, *args, **kwargs)
            except Refused as refused:
                return refused.response
            except NotFound:
                found = await maybe_signed_in(request)
                return await message(
                    request,
                    404,
                    "Page not found",
                    "There is nothing here, or nothing you may see.",
                    found,
                )
            except Forbidden as exc:
                found = await maybe_signed_in(request)
                return await message(request, 403, "You cannot do that", str(exc), found)
            except InvalidStep as exc:
                found = await maybe_signed_in(request)
                return await message(request, 409, "That step is not possible now", str(exc), found)
            except InvalidInput as exc:
                found = await maybe_signed_in(request)
                return await message(request, 400, "There is a problem", str(exc), found)

        return wrapped

    # -- signing in and out ------------------------------------------------------------------

    def _next(request: Request, given: str | None) -> str:
        target = given or "/workbench"
        return target if target.startswith("/workbench") and "//" not in target else "/workbench"

    @app.get("/workbench/sign-in", include_in_schema=False)
    async def sign_in_page(request: Request, next: str | None = None) -> Response:
        presession = request.cookies.get(PRESESSION_COOKIE) or secrets.token_hex(32)
        response = await render(
            request,
            "wb-sign-in.html",
            csrf=csrf_form(presession).csrf_token.current_token,
            next=_next(request, next),
            errors={},
            username="",
            session=None,
        )
        _set_cookie(request, response, PRESESSION_COOKIE, presession)
        return response

    @app.post("/workbench/sign-in", include_in_schema=False)
    @handles
    async def sign_in(request: Request) -> Response:
        presession = request.cookies.get(PRESESSION_COOKIE) or ""
        form = await posted(request, presession)
        username = str(form.get("username", "")).strip().lower()[:64]
        password = str(form.get("password", ""))
        errors: dict[str, str] = {}
        if not username:
            errors["username"] = "Enter your user name"
        if not password:
            errors["password"] = "Enter your password"
        if not errors:
            try:
                address = request.client.host if request.client else None
                _user, token, _csrf = await call(workbench.sign_in, username, password, address)
            except SignInRefused:
                errors["password"] = (
                    "The user name or password is wrong, or the account is locked. Try again "
                    "in 15 minutes or ask an administrator."
                )
            else:
                response = RedirectResponse(
                    _next(request, str(form.get("next") or "")),
                    303,
                    headers={"Cache-Control": PRIVATE},
                )
                _set_cookie(request, response, SESSION_COOKIE, token)
                response.delete_cookie(PRESESSION_COOKIE, path="/")
                return response
        return await render(
            request,
            "wb-sign-in.html",
            400,
            csrf=csrf_form(presession).csrf_token.current_token,
            next=_next(request, str(form.get("next") or "")),
            errors=errors,
            username=username,
            session=None,
        )

    @app.post("/workbench/sign-out", include_in_schema=False)
    @handles
    async def sign_out(request: Request) -> Response:
        session = await signed_in(request)
        await posted(request, session.csrf_secret)
        await call(workbench.sign_out, request.cookies.get(SESSION_COOKIE, ""))
        # the session's previews (unpublished text) go with it
        shutil.rmtree(
            previews / hashlib.sha256(session.csrf_secret.encode()).hexdigest()[:32],
            ignore_errors=True,
        )
        response = RedirectResponse("/workbench/sign-in", 303, headers={"Cache-Control": PRIVATE})
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    # -- the pages ---------------------------------------------------------------------------

    def cycle_of(cycle: str) -> int:
        try:
            found = int(cycle)
            question_set(found)
        except Exception:
            raise NotFound(f"no cycle {cycle!r}") from None
        return found

    def code_of(force: str) -> str:
        code = reference.force_code_of(force)
        if code is None:
            raise NotFound(force)
        return code

    @app.get("/workbench", include_in_schema=False)
    @handles
    async def home(request: Request, cycle: int | None = None) -> Response:
        session = await signed_in(request)
        actor = session.user.actor()
        chosen = cycle or max(_cycles())
        statuses = (
            await call(workbench.status, actor, chosen)
            if roles.allows(actor, "read judgments")
            else []
        )
        return await render(
            request,
            "wb-home.html",
            session=session,
            cycle=chosen,
            statuses=statuses,
            may=lambda action: roles.allows(actor, action),
        )

    @app.get("/workbench/moderation/{cycle}", include_in_schema=False)
    @handles
    async def moderation(request: Request, cycle: str) -> Response:
        from peelkit.workbench.moderation import table

        session = await signed_in(request)
        chosen = cycle_of(cycle)
        actor = session.user.actor()
        roles.authorize(actor, "view moderation")
        rows = await call(table, workbench, actor, chosen)
        return await render(
            request,
            "wb-moderation.html",
            session=session,
            cycle=chosen,
            rows=rows,
            questions=question_set(chosen),
        )

    @app.post("/workbench/import/{cycle}", include_in_schema=False)
    @handles
    async def import_file(request: Request, cycle: str) -> Response:
        session = await signed_in(request)
        form = await posted(request, session.csrf_secret, files=True)
        try:
            roles.authorize(session.user.actor(), "import judgments")
            upload = form.get("file")
            if upload is None or isinstance(upload, str):
                raise InvalidInput("choose a judgments file (.toml) to import")
            raw = await upload.read(2_000_001)
        finally:
            await form.close()
        if len(raw) > 2_000_000:
            raise InvalidInput("a judgments file is at most 2 MB")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInput("the file is not UTF-8 text; save it as UTF-8 TOML") from None
        status = await call(
            workbench.import_toml, session.user.actor(), text, upload.filename or "the file"
        )
        return RedirectResponse(
            f"/workbench/judgments/{status.cycle}/{status.force}",
            303,
            headers={"Cache-Control": PRIVATE},
        )

    @app.get("/workbench/judgments/{cycle}/{force}", include_in_schema=False)
    @handles
    async def judgments_page(request: Request, cycle: str, force: str) -> Response:
        def page() -> HTMLResponse:  # signed in, read and rendered in one trip to the pool
            session = _signed_in(request)
            chosen, code = cycle_of(cycle), code_of(force)
            return _judgments_html(request, session, chosen, code, None, None, 200, None)

        return await call(page)

    async def _judgments_page(
        request: Request,
        session: Session,
        cycle: int,
        code: str,
        *,
        values: Mapping[str, str] | None = None,
        problems: Mapping[str, list[str]] | None = None,
        status: int = 200,
        notice: str | None = None,
    ) -> Response:
        """A force's judgments page: read and rendered in one trip to the thread pool (each
        trip costs milliseconds under load)."""
        return await call(
            _judgments_html, request, session, cycle, code, values, problems, status, notice
        )

    def _judgments_html(
        request: Request,
        session: Session,
        cycle: int,
        code: str,
        values: Mapping[str, str] | None,
        problems: Mapping[str, list[str]] | None,
        status: int,
        notice: str | None,
    ) -> HTMLResponse:
        actor = session.user.actor()
        draft = workbench.draft(actor, code, cycle)
        state = draft.status.state
        editable = state in workflow.EDITABLE and roles.allows(actor, "edit judgments", code, state)
        content = draft.content
        steps = [
            s
            for s in workflow.steps_from(state)
            if s.action not in ("schedule", "unschedule")
            and roles.allows(actor, s.action, code, state)
        ]
        fields = dict(values) if values is not None else judgments_form.fields(content)
        return _page(
            request,
            "wb-judgments.html",
            status,
            dict(
                session=session,
                draft=draft,
                cycle=cycle,
                code=code,
                questions=question_set(cycle),
                editable=editable,
                steps=steps,
                fields=fields,
                slots=judgments_form.slots(
                    judgments_form.document(fields, cycle) if values else content, cycle
                ),
                problems=problems or {},
                field_id=judgments_form.field_id,
                grade=fields_html.grade,
                area=fields_html.area,
                line=fields_html.line,
                notice=notice,
                may_comment=roles.allows(actor, "comment on factual accuracy", code, state),
                may_history=roles.allows(actor, "read audit", code, state),
                counted=COUNTED,
                graded=GRADED,
            ),
        )

    @app.post("/workbench/judgments/{cycle}/{force}", include_in_schema=False)
    @handles
    async def save(request: Request, cycle: str, force: str) -> Response:
        session = await signed_in(request)
        form = await posted(request, session.csrf_secret)
        chosen, code = cycle_of(cycle), code_of(force)
        values = {k: str(v) for k, v in form.items()}
        doc = judgments_form.document(values, chosen)
        if doc["force"] and reference.force_code_of(doc["force"]) != code:
            raise NotFound(doc["force"])  # the form names another force than its address
        doc["force"] = code
        try:
            lock = int(values.get("lock", ""))
        except ValueError:
            raise InvalidInput("the form has no version; reload the page") from None
        try:
            await call(workbench.save, session.user.actor(), doc, lock=lock)
        except InvalidInput as exc:
            problems = judgments_form.by_field(exc.problems, doc)
            return await _judgments_page(
                request, session, chosen, code, values=values, problems=problems, status=400
            )
        except StaleVersion:
            draft = await call(workbench.draft, session.user.actor(), code, chosen)
            theirs = draft.content
            try:
                yours = workbench.check(doc)
                mine = judgments_form.fields(yours.model_dump(mode="json", exclude_none=True))
            except InvalidInput:
                mine = values
            return await render(
                request,
                "wb-conflict.html",
                409,
                session=session,
                draft=draft,
                cycle=chosen,
                code=code,
                differences=changes(theirs, judgments_form.document(mine, chosen)),
                yours=judgments_form.document(values, chosen),
            )
        return RedirectResponse(
            f"/workbench/judgments/{chosen}/{code}?saved=1", 303, headers={"Cache-Control": PRIVATE}
        )

    @app.post("/workbench/judgments/{cycle}/{force}/preview", include_in_schema=False)
    @handles
    async def preview(request: Request, cycle: str, force: str) -> Response:
        session = await signed_in(request)
        form = await posted(request, session.csrf_secret)
        chosen, code = cycle_of(cycle), code_of(force)
        await call(workbench.draft, session.user.actor(), code, chosen)  # may read it
        doc = judgments_form.document({k: str(v) for k, v in form.items()}, chosen)
        try:
            judgments = workbench.check(doc)
        except InvalidInput as exc:
            problems = judgments_form.by_field(exc.problems, doc)
            if request.headers.get("accept", "").startswith("application/json"):
                return JSONResponse({"problems": problems}, 400, headers={"Cache-Control": PRIVATE})
            return await _judgments_page(
                request,
                session,
                chosen,
                code,
                values={k: str(v) for k, v in form.items()},
                problems=problems,
                status=400,
            )
        html = await call(_preview_html, judgments, chosen)
        name = hashlib.sha256(session.csrf_secret.encode()).hexdigest()[:32]
        folder = previews / name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{code}-{chosen}.html").write_text(html, encoding="utf-8")
        _prune(previews, keep=folder)
        url = f"/workbench/previews/{name}/{code}-{chosen}.html"
        if request.headers.get("accept", "").startswith("application/json"):
            return JSONResponse({"url": url}, headers={"Cache-Control": PRIVATE})
        return RedirectResponse(url, 303, headers={"Cache-Control": PRIVATE})

    def _preview_html(judgments: Any, cycle: int) -> str:
        """The report as it will be published, in one file: its figures, which a published
        report has beside its page, are put in the page as data: images (the preview is one
        file per force in the session's folder, and its policy allows data: images only)."""
        import base64
        from types import SimpleNamespace

        from peelkit.report.build import build_report
        from peelkit.report.charts import svg
        from peelkit.report.render import html

        b = current_bundle()
        rows = [SimpleNamespace(**r) for r in b.records(cycle)] if b is not None else []
        report = build_report(rows, judgments, cycle)  # type: ignore[arg-type]
        page = html(report)
        for figure in report.figures():
            if figure.chart is not None:
                drawn = svg(figure.chart, report.force_name).encode("utf-8")
                page = page.replace(
                    f'src="figure-{figure.number}.svg"',
                    f'src="data:image/svg+xml;base64,{base64.b64encode(drawn).decode("ascii")}"',
                )
        return page

    @app.get("/workbench/previews/{name}/{file}", include_in_schema=False)
    @handles
    async def preview_file(request: Request, name: str, file: str) -> Response:
        session = await signed_in(request)
        if name != hashlib.sha256(session.csrf_secret.encode()).hexdigest()[:32]:
            raise NotFound(name)  # another session's preview
        if file.endswith(".html"):
            path = (previews / name / file).resolve()
            if not path.is_relative_to(previews.resolve()) or not path.is_file():
                raise NotFound(file)
            return HTMLResponse(
                path.read_text(encoding="utf-8"),
                headers={
                    "Cache-Control": PRIVATE,
                    "Content-Security-Policy": PREVIEW_POLICY,
                    "X-Frame-Options": "SAMEORIGIN",
                },
            )
        raise NotFound(file)

    @app.post("/workbench/judgments/{cycle}/{force}/steps", include_in_schema=False)
    @handles
    async def step(request: Request, cycle: str, force: str) -> Response:
        session = await signed_in(request)
        form = await posted(request, session.csrf_secret)
        chosen, code = cycle_of(cycle), code_of(force)
        action = str(form.get("action", ""))
        if action not in workflow.STEP_BY_ACTION:
            raise InvalidInput(f"there is no step {action!r}")
        try:
            lock = int(str(form.get("lock", "")))
        except ValueError:
            raise InvalidInput("the form has no version; reload the page") from None
        try:
            await call(
                workbench.step,
                session.user.actor(),
                code,
                chosen,
                action,
                lock=lock,
                comment=str(form.get("comment", "")) or None,
            )
        except InvalidInput as exc:
            return await _judgments_page(
                request, session, chosen, code, problems={"comment": [str(exc)]}, status=400
            )
        except StaleVersion:
            return await _judgments_page(
                request,
                session,
                chosen,
                code,
                status=409,
                notice="The judgments changed since you loaded this page, so the step was "
                "not taken. Look again and try once more.",
            )
        try:
            return await _judgments_page(
                request,
                session,
                chosen,
                code,
                notice=f"Done: {workflow.step(action).wording.lower()}.",
            )
        except NotFound:  # the step ended this user's sight of the draft (the liaison's check)
            return RedirectResponse("/workbench", 303, headers={"Cache-Control": PRIVATE})

    @app.post("/workbench/judgments/{cycle}/{force}/comments", include_in_schema=False)
    @handles
    async def comment(request: Request, cycle: str, force: str) -> Response:
        session = await signed_in(request)
        form = await posted(request, session.csrf_secret)
        chosen, code = cycle_of(cycle), code_of(force)
        try:
            await call(
                workbench.comment, session.user.actor(), code, chosen, str(form.get("comment", ""))
            )
        except InvalidInput as exc:
            # the comment form's own field: a lead inspector's page also has a step's comment
            return await _judgments_page(
                request, session, chosen, code, problems={"fac-comment": [str(exc)]}, status=400
            )
        return await _judgments_page(
            request, session, chosen, code, notice="Your comment has been recorded."
        )

    @app.get("/workbench/judgments/{cycle}/{force}/versions/{number}", include_in_schema=False)
    @handles
    async def version(request: Request, cycle: str, force: str, number: int) -> Response:
        session = await signed_in(request)
        content = await call(
            workbench.version, session.user.actor(), code_of(force), cycle_of(cycle), number
        )
        return PlainTextResponse(_toml(content), headers={"Cache-Control": PRIVATE})

    @app.get("/workbench/judgments/{cycle}/{force}/judgments.toml", include_in_schema=False)
    @handles
    async def export(request: Request, cycle: str, force: str) -> Response:
        session = await signed_in(request)
        code = code_of(force)
        text = await call(workbench.export_toml, session.user.actor(), code, cycle_of(cycle))
        return Response(
            text,
            media_type="application/toml; charset=utf-8",
            headers={
                "Cache-Control": PRIVATE,
                "Content-Disposition": f'attachment; filename="{code}-{cycle}.toml"',
            },
        )

    @app.get("/workbench/judgments/{cycle}/{force}/history", include_in_schema=False)
    @handles
    async def history(request: Request, cycle: str, force: str) -> Response:
        from peelkit.workbench.history import rows

        session = await signed_in(request)
        chosen, code = cycle_of(cycle), code_of(force)
        entries = await call(workbench.history, session.user.actor(), code, chosen)
        return await render(
            request,
            "wb-history.html",
            session=session,
            cycle=chosen,
            code=code,
            rows=rows(entries),
        )

    @app.get("/workbench/judgments/{cycle}/{force}/history.csv", include_in_schema=False)
    @handles
    async def history_csv(request: Request, cycle: str, force: str) -> Response:
        import io

        from peelkit.workbench.history import write_csv

        session = await signed_in(request)
        chosen, code = cycle_of(cycle), code_of(force)
        entries = await call(workbench.history, session.user.actor(), code, chosen)
        out = io.StringIO()
        write_csv(entries, out)
        return Response(
            out.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={
                "Cache-Control": PRIVATE,
                "Content-Disposition": f'attachment; filename="{code}-{chosen}-history.csv"',
            },
        )

    # -- releases ----------------------------------------------------------------------------

    @app.get("/workbench/releases", include_in_schema=False)
    @handles
    async def releases_page(request: Request) -> Response:
        session = await signed_in(request)
        actor = session.user.actor()
        found = await call(workbench.releases, actor)
        approved = [s for s in await call(workbench.status, actor, None) if s.state == "approved"]
        return await render(
            request,
            "wb-releases.html",
            session=session,
            releases=found,
            approved=approved,
            now=workbench.clock(),
            may_schedule=roles.allows(actor, "schedule"),
            cycles=sorted(_cycles()),
            errors={},
        )

    @app.post("/workbench/releases", include_in_schema=False)
    @handles
    async def schedule(request: Request) -> Response:
        from peelkit.workbench.clock import london

        session = await signed_in(request)
        form = await posted(request, session.csrf_secret)
        actor = session.user.actor()
        cycle = cycle_of(str(form.get("cycle", "")))
        forces = [str(f) for f in form.getlist("forces")] or None
        at: datetime | None = None
        if form.get("when") != "now":
            try:
                at = london(
                    datetime.fromisoformat(f"{form.get('date', '')}T{form.get('time', '')}")
                )
            except ValueError:
                raise InvalidInput(
                    "give the publication date (YYYY-MM-DD) and time (HH:MM, UK time)"
                ) from None
        await call(workbench.schedule, actor, cycle, forces, at)
        return RedirectResponse("/workbench/releases", 303, headers={"Cache-Control": PRIVATE})

    @app.post("/workbench/releases/{release}/cancel", include_in_schema=False)
    @handles
    async def cancel(request: Request, release: int) -> Response:
        session = await signed_in(request)
        await posted(request, session.csrf_secret)
        await call(workbench.unschedule, session.user.actor(), release)
        return RedirectResponse("/workbench/releases", 303, headers={"Cache-Control": PRIVATE})

    # -- administration ----------------------------------------------------------------------

    @app.get("/workbench/admin", include_in_schema=False)
    @handles
    async def admin(request: Request) -> Response:
        session = await signed_in(request)
        users = await call(workbench.list_users, session.user.actor())
        return await _admin(request, session, users)

    async def _admin(
        request: Request,
        session: Session,
        users: Any,
        errors: Mapping[str, list[str]] | None = None,
        values: Mapping[str, str] | None = None,
        status: int = 200,
    ) -> Response:
        return await render(
            request,
            "wb-admin.html",
            status,
            session=session,
            users=users,
            permissions=roles.table(),
            roles_=roles.ROLES,
            role_wording=roles.ROLE_WORDING,
            forces=reference.territorial_forces(),
            errors=errors or {},
            values=values or {},
        )

    @app.post("/workbench/admin/users", include_in_schema=False)
    @handles
    async def add_user(request: Request) -> Response:
        session = await signed_in(request)
        form = await posted(request, session.csrf_secret)
        actor = session.user.actor()
        values = {k: str(v) for k, v in form.items() if k != "password"}
        try:
            await call(
                workbench.add_user,
                actor,
                values.get("username", "").strip(),
                values.get("display_name", ""),
                values.get("role", ""),
                str(form.get("password", "")),
                force=values.get("force") or None,
                assigned=[str(f) for f in form.getlist("assigned")],
            )
        except InvalidInput as exc:
            users = await call(workbench.list_users, actor)
            return await _admin(request, session, users, exc.problems, values, 400)
        return RedirectResponse("/workbench/admin", 303, headers={"Cache-Control": PRIVATE})

    @app.post("/workbench/admin/users/{username}", include_in_schema=False)
    @handles
    async def change_user(request: Request, username: str) -> Response:
        session = await signed_in(request)
        form = await posted(request, session.csrf_secret)
        actor = session.user.actor()
        what = str(form.get("change", ""))
        if what == "disable":
            await call(workbench.disable_user, actor, username)
        elif what == "enable":
            await call(workbench.enable_user, actor, username)
        elif what == "password":
            await call(workbench.reset_password, actor, username, str(form.get("password", "")))
        elif what == "assign":
            await call(
                workbench.assign, actor, username, [str(f) for f in form.getlist("assigned")]
            )
        else:
            raise InvalidInput(f"no change {what!r}")
        return RedirectResponse("/workbench/admin", 303, headers={"Cache-Control": PRIVATE})

    # -- the API -----------------------------------------------------------------------------

    from peelkit.site.workbench_api import add_api

    add_api(app, workbench, call)


def _prune(previews: Path, keep: Path) -> None:
    """Remove the previews of sessions that have ended by now (a session lasts 8 hours):
    folders untouched for longer, other than ``keep``."""
    import time

    from peelkit.workbench.accounts import SESSION_FOR

    limit = time.time() - SESSION_FOR.total_seconds()
    for folder in previews.iterdir():
        try:
            if folder != keep and folder.is_dir() and folder.stat().st_mtime < limit:
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            continue


#: at most this many fields in a form (Starlette's own limit for request.form())
MAX_FIELDS = 1000
URLENCODED = "application/x-www-form-urlencoded"
#: an urlencoded form body up to this size is parsed on the event loop (``_form``)
PARSED_AT_ONCE = 64 * 1024


async def _form(request: Request) -> FormData:
    """The form of a POST. An urlencoded one (every form but an upload's) of up to
    ``PARSED_AT_ONCE`` bytes is parsed on the event loop: the judgments form (about 28 kB,
    250 fields) takes 0.5 ms, less than a trip to the thread pool and back costs under load
    (4 ms at the median). A larger one is parsed off the loop, which it would hold up."""
    if request.headers.get("content-type", "").split(";")[0].strip() != URLENCODED:
        return await request.form(max_fields=MAX_FIELDS)
    body = await request.body()
    parse = functools.partial(
        parse_qsl,
        body.decode("latin-1"),
        keep_blank_values=True,
        max_num_fields=MAX_FIELDS,
        encoding="utf-8",
        errors="replace",
    )
    try:
        pairs = parse() if len(body) <= PARSED_AT_ONCE else await run_in_threadpool(parse)
    except ValueError:  # more fields than MAX_FIELDS
        raise InvalidInput(f"a form has at most {MAX_FIELDS} fields") from None
    fields: list[tuple[str, str | UploadFile]] = [*pairs]
    return FormData(fields)


def _uk_time(when: datetime | str, form: str = "%d %B %Y %H:%M") -> str:
    """A time as people in the UK read it: Europe/London (GMT or BST), with its zone. The
    workbench stores UTC (an ISO text is read as it says)."""
    from zoneinfo import ZoneInfo

    if isinstance(when, str):
        when = datetime.fromisoformat(when)
    local = when.astimezone(ZoneInfo("Europe/London"))
    return local.strftime(form) + " " + (local.tzname() or "")


def _cycles() -> list[int]:
    from peelkit.indicators.periods import known_cycles

    return sorted(known_cycles())


def _toml(content: Mapping[str, Any]) -> str:
    import tomli_w

    return tomli_w.dumps(dict(content), multiline_strings=True)


def _set_cookie(request: Request, response: Response, name: str, value: str) -> None:
    response.set_cookie(
        name, value, httponly=True, samesite="lax", secure=request.url.scheme == "https", path="/"
    )


def problem_json(status: int, detail: str, **extra: Any) -> JSONResponse:
    return JSONResponse(
        {"detail": detail, **extra}, status_code=status, headers={"Cache-Control": PRIVATE}
    )


__all__ = ["WORKBENCH_ROUTES", "WorkbenchError", "add_workbench", "json", "problem_json"]
