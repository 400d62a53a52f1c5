"""The workbench's API under ``/api/v1/workbench``: every workflow step as an authenticated
call, for scripts and bulk work. It signs in with a bearer token (``POST .../session``) and
never reads the pages' cookie, so a browser cannot be made to call it from another site.
A judgments document's ETag is its lock; a ``PUT`` or a step needs ``If-Match`` with it
(428 without, 412 when stale), so nothing is overwritten unseen."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from peelkit import reference
from peelkit.errors import (
    Forbidden,
    InvalidInput,
    InvalidStep,
    NotFound,
    SignInRefused,
    StaleVersion,
)
from peelkit.workbench import workflow
from peelkit.workbench.accounts import Session
from peelkit.workbench.service import Status, Workbench

PRIVATE = "private, no-store"
Call = Callable[..., Awaitable[Any]]


class Credentials(BaseModel):
    username: str = Field(max_length=64)
    password: str = Field(max_length=1024)


class StepRequest(BaseModel):
    action: str
    comment: str | None = Field(default=None, max_length=20_000)


class CommentRequest(BaseModel):
    comment: str = Field(max_length=20_000)


class ReleaseRequest(BaseModel):
    cycle: int
    forces: list[str] | None = None
    at: datetime | None = None


def _json(data: Any, status: int = 200, etag: int | None = None) -> JSONResponse:
    headers = {"Cache-Control": PRIVATE}
    if etag is not None:
        headers["ETag"] = f'"{etag}"'
    return JSONResponse(data, status_code=status, headers=headers)


def _status(s: Status) -> dict[str, Any]:
    return {
        "force": s.force,
        "cycle": s.cycle,
        "state": s.state,
        "lock": s.lock,
        "version": s.version,
        "author": s.author,
        "updated_at": s.updated_at.isoformat(),
        "published_version": s.published_version,
    }


def add_api(app: FastAPI, workbench: Workbench, call: Call) -> None:
    def bearer(request: Request) -> str | None:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        return token.strip() if scheme.lower() == "bearer" and token.strip() else None

    def api(
        handler: Callable[..., Awaitable[Response]],
    ) -> Callable[..., Awaitable[Response]]:
        import functools

        @functools.wraps(handler)
        async def wrapped(request: Request, *args: Any, **kwargs: Any) -> Response:
            try:
                return await handler(request, *args, **kwargs)
            except _Unauthorised:
                return JSONResponse(
                    {
                        "detail": "sign in: POST /api/v1/workbench/session, then send "
                        "Authorization: Bearer <token>"
                    },
                    401,
                    headers={"Cache-Control": PRIVATE, "WWW-Authenticate": "Bearer"},
                )
            except NotFound:
                return _json({"detail": "not found"}, 404)
            except Forbidden as exc:
                return _json({"detail": str(exc)}, 403)
            except InvalidStep as exc:
                return _json({"detail": str(exc)}, 409)
            except StaleVersion as exc:
                return _json({"detail": str(exc), "lock": exc.found}, 412)
            except InvalidInput as exc:
                return _json({"detail": str(exc), "problems": exc.problems}, 422)

        return wrapped

    async def session_of(request: Request) -> Session:
        token = bearer(request)
        found: Session | None = await call(workbench.session, token) if token else None
        if found is None:
            raise _Unauthorised
        return found

    def if_match(request: Request) -> int:
        given = request.headers.get("if-match", "").strip().strip('"')
        if not given:
            raise _Precondition
        try:
            return int(given)
        except ValueError:
            raise InvalidInput("If-Match is the lock of the version read (its ETag)") from None

    def code_of(force: str) -> str:
        code = reference.force_code_of(force)
        if code is None:
            raise NotFound(force)
        return code

    @app.post("/api/v1/workbench/session", tags=["workbench"])
    @api
    async def sign_in(request: Request, credentials: Credentials) -> Response:
        """Sign in: a bearer token for the other workbench calls (ends after 8 hours, or at
        DELETE)."""
        try:
            user, token, _ = await call(
                workbench.sign_in, credentials.username, credentials.password
            )
        except SignInRefused as exc:
            return _json({"detail": str(exc)}, 401)
        return _json({"token": token, "username": user.username, "role": user.role}, 201)

    @app.delete("/api/v1/workbench/session", tags=["workbench"])
    @api
    async def sign_out(request: Request) -> Response:
        await session_of(request)
        await call(workbench.sign_out, bearer(request) or "")
        return Response(status_code=204, headers={"Cache-Control": PRIVATE})

    @app.get("/api/v1/workbench/judgments", tags=["workbench"])
    @api
    async def statuses(request: Request, cycle: int | None = None) -> Response:
        session = await session_of(request)
        found = await call(workbench.status, session.user.actor(), cycle)
        return _json([_status(s) for s in found])

    @app.get("/api/v1/workbench/judgments/{cycle}/{force}", tags=["workbench"])
    @api
    async def read(request: Request, cycle: int, force: str) -> Response:
        session = await session_of(request)
        draft = await call(workbench.draft, session.user.actor(), code_of(force), cycle)
        return _json(
            {
                "status": _status(draft.status),
                "judgments": draft.content,
                "published": draft.published,
                "comments": [
                    {
                        "author": c.author,
                        "kind": c.kind,
                        "text": c.text,
                        "at": c.at.isoformat(),
                        "version": c.version,
                    }
                    for c in draft.comments
                ],
            },
            etag=draft.status.lock,
        )

    @app.put("/api/v1/workbench/judgments/{cycle}/{force}", tags=["workbench"])
    @api
    async def write(request: Request, cycle: int, force: str) -> Response:
        session = await session_of(request)
        code = code_of(force)
        try:
            body = await request.json()
        except ValueError:
            raise InvalidInput("the body is a judgments document as JSON") from None
        if (
            not isinstance(body, dict)
            or reference.force_code_of(str(body.get("force", ""))) != code
            or body.get("cycle") != cycle
        ):
            raise InvalidInput(
                f"the body is the judgments of {code} in {cycle} (force and cycle as in the URL)"
            )
        try:
            lock: int | None = if_match(request)
        except _Precondition:
            lock = None
            if request.headers.get("if-none-match", "").strip() != "*":
                return _json(
                    {
                        "detail": "send If-Match with the ETag you read "
                        "(or If-None-Match: * to create)"
                    },
                    428,
                )
        status = await call(workbench.save, session.user.actor(), body, lock=lock)
        return _json(_status(status), etag=status.lock)

    @app.post("/api/v1/workbench/judgments/{cycle}/{force}/steps", tags=["workbench"])
    @api
    async def step(request: Request, cycle: int, force: str, body: StepRequest) -> Response:
        session = await session_of(request)
        if body.action not in workflow.STEP_BY_ACTION:
            raise InvalidInput(
                f"no step {body.action!r}; one of: " + ", ".join(workflow.STEP_BY_ACTION)
            )
        try:
            lock = if_match(request)
        except _Precondition:
            return _json({"detail": "send If-Match with the ETag you read"}, 428)
        status = await call(
            workbench.step,
            session.user.actor(),
            code_of(force),
            cycle,
            body.action,
            lock=lock,
            comment=body.comment,
        )
        return _json(_status(status), etag=status.lock)

    @app.post("/api/v1/workbench/judgments/{cycle}/{force}/comments", tags=["workbench"])
    @api
    async def comment(request: Request, cycle: int, force: str, body: CommentRequest) -> Response:
        session = await session_of(request)
        await call(workbench.comment, session.user.actor(), code_of(force), cycle, body.comment)
        return Response(status_code=204, headers={"Cache-Control": PRIVATE})

    @app.get("/api/v1/workbench/judgments/{cycle}/{force}/history", tags=["workbench"])
    @api
    async def history(request: Request, cycle: int, force: str) -> Response:
        from peelkit.workbench.history import rows

        session = await session_of(request)
        entries = await call(workbench.history, session.user.actor(), code_of(force), cycle)
        return _json(rows(entries))

    @app.post("/api/v1/workbench/releases", tags=["workbench"])
    @api
    async def schedule(request: Request, body: ReleaseRequest) -> Response:
        session = await session_of(request)
        release = await call(
            workbench.schedule, session.user.actor(), body.cycle, body.forces, body.at
        )
        return _json({"release": release}, 201)

    @app.delete("/api/v1/workbench/releases/{release}", tags=["workbench"])
    @api
    async def cancel(request: Request, release: int) -> Response:
        session = await session_of(request)
        await call(workbench.unschedule, session.user.actor(), release)
        return Response(status_code=204, headers={"Cache-Control": PRIVATE})


class _Unauthorised(Exception):
    pass


class _Precondition(Exception):
    pass
