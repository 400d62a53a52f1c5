"""The workbench in the site: signing in, the judgments pages, the API, and people trying to
get in where they do not belong. The role × route matrix is generated from the application's
own route table: a route added without a rule fails it."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient

from peelkit.site.app import ROUTES, create_app
from peelkit.site.workbench import PARSED_AT_ONCE, WORKBENCH_ROUTES
from peelkit.workbench import roles
from tests.workbench_support import KENT, MET, PASSWORD, Team, met_draft, team
from tests.workbench_web import csrf_of, form_fields, sign_in

#: a phrase of the Met's draft (its overall judgment), which nobody without the right may read
SECRET = "the importance of involving the public in setting neighbourhood level policing"
XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@dataclass
class Web:
    t: Team
    app: Any

    def client(self, username: str) -> TestClient:
        return sign_in(self.app, username)


@pytest.fixture
def web(workbench_url: str, demo_run) -> Iterator[Web]:
    t = team(workbench_url)
    app = create_app(demo_run.site, t.wb)
    yield Web(t, app)
    t.wb.db.dispose()


def test_every_route_declares_who_may_use_it(web):
    declared = {path for _, path in ROUTES} | {path for _, path in WORKBENCH_ROUTES}
    for route in web.app.routes:
        path = getattr(route, "path", None)
        assert path in declared, f"{path} has no declared permission"
        for method in getattr(route, "methods", None) or ():
            if path.startswith(("/workbench", "/api/v1/workbench")) and method != "HEAD":
                assert (method, path) in WORKBENCH_ROUTES, f"{method} {path} is not declared"
    for rule in WORKBENCH_ROUTES.values():
        assert rule in ("anyone", "signed in", "the step's own action") or rule in roles.PERMISSIONS


# -- signing in --------------------------------------------------------------------------------


def test_pages_ask_to_sign_in_and_the_api_answers_401(web):
    anonymous = TestClient(web.app)
    answer = anonymous.get(f"/workbench/judgments/2016/{MET}", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/workbench/sign-in?next=/workbench/judgments/2016/{MET}"
    assert anonymous.get("/api/v1/workbench/judgments").status_code == 401


def test_the_session_cookie_is_httponly_samesite_and_secure_behind_tls(web):
    for base, secure in (("http://testserver", False), ("https://testserver", True)):
        client = TestClient(web.app, base_url=base)
        token = csrf_of(client.get("/workbench/sign-in").text)
        answer = client.post(
            "/workbench/sign-in",
            data={"csrf_token": token, "username": "lead", "password": PASSWORD},
            follow_redirects=False,
        )
        cookie = next(
            c for c in answer.headers.get_list("set-cookie") if c.startswith("peelkit_session=")
        )
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie
        assert ("Secure" in cookie) is secure


def test_a_wrong_password_is_shown_in_the_error_summary_without_saying_which(web):
    client = TestClient(web.app)
    token = csrf_of(client.get("/workbench/sign-in").text)
    answer = client.post(
        "/workbench/sign-in", data={"csrf_token": token, "username": "lead", "password": "nope"}
    )
    assert answer.status_code == 400
    assert 'class="govuk-error-summary"' in answer.text
    assert "user name or password is wrong" in answer.text


def test_a_session_fixed_before_sign_in_is_not_the_session_after_it(web):
    client = TestClient(web.app)
    client.cookies.set("peelkit_session", "chosen-by-an-attacker", domain="testserver.local")
    assert client.get("/workbench", follow_redirects=False).status_code == 303
    token = csrf_of(client.get("/workbench/sign-in").text)
    client.post(
        "/workbench/sign-in", data={"csrf_token": token, "username": "lead", "password": PASSWORD}
    )
    assert client.cookies.get("peelkit_session") != "chosen-by-an-attacker"
    assert client.get("/workbench", follow_redirects=False).status_code == 200
    assert web.t.wb.session("chosen-by-an-attacker") is None
    fixed = TestClient(web.app)
    fixed.cookies.set("peelkit_session", "chosen-by-an-attacker")
    assert fixed.get("/workbench", follow_redirects=False).status_code == 303


def test_a_session_cannot_be_used_after_sign_out(web):
    client = web.client("lead")
    stolen = client.cookies.get("peelkit_session")
    page = client.get("/workbench")
    client.post("/workbench/sign-out", data={"csrf_token": csrf_of(page.text)})
    replay = TestClient(web.app)
    replay.cookies.set("peelkit_session", stolen)
    assert replay.get("/workbench", follow_redirects=False).status_code == 303


def test_every_workbench_response_is_private_and_not_stored(web):
    met_draft(web.t)
    client = web.client("lead")
    for path in (
        "/workbench",
        f"/workbench/judgments/2016/{MET}",
        "/workbench/sign-in",
        "/workbench/judgments/x/y",
    ):
        assert client.get(path).headers["cache-control"] == "private, no-store"


# -- forms: CSRF, origin, validation, escaping --------------------------------------------------


def test_posts_without_the_csrf_token_or_from_another_site_are_refused(web):
    lock = met_draft(web.t)
    client = web.client("inspector")
    page = client.get(f"/workbench/judgments/2016/{MET}")
    fields = form_fields(page.text)
    fields["source"] = "Changed without a token"
    without = {k: v for k, v in fields.items() if k != "csrf_token"}
    assert client.post(f"/workbench/judgments/2016/{MET}", data=without).status_code == 403
    wrong = dict(fields, csrf_token="forged")
    assert client.post(f"/workbench/judgments/2016/{MET}", data=wrong).status_code == 403
    other = client.post(
        f"/workbench/judgments/2016/{MET}", data=fields, headers={"Origin": "https://evil.example"}
    )
    assert other.status_code == 403
    # another session's token is no good either
    someone = web.client("lead")
    theirs = csrf_of(someone.get("/workbench").text)
    assert (
        client.post(
            f"/workbench/judgments/2016/{MET}", data=dict(fields, csrf_token=theirs)
        ).status_code
        == 403
    )
    for path, data in (
        (f"/workbench/judgments/2016/{MET}/steps", {"action": "submit", "lock": str(lock)}),
        ("/workbench/sign-out", {}),
        ("/workbench/releases", {"cycle": "2016", "when": "now"}),
    ):
        assert client.post(path, data=data).status_code == 403
    assert web.t.wb.draft(web.t.lead, MET, 2016).status.lock == lock  # nothing happened


def test_the_form_saves_what_it_shows_and_shows_problems_next_to_their_fields(web):
    met_draft(web.t)
    client = web.client("inspector")
    fields = form_fields(client.get(f"/workbench/judgments/2016/{MET}").text)
    unchanged = client.post(f"/workbench/judgments/2016/{MET}", data=fields, follow_redirects=False)
    assert unchanged.status_code == 303
    assert web.t.wb.draft(web.t.lead, MET, 2016).status.version == 1  # the same content
    graded = client.post(
        f"/workbench/judgments/2016/{MET}", data=dict(fields, **{"overall.grade": "brilliant"})
    )
    assert graded.status_code == 400
    assert '<a href="#overall-grade">a grade is one of:' in graded.text
    bad = dict(fields)
    bad["q3.summary"] = "The Metropolitan Police Service did {sparkle} in 2016."
    answer = client.post(f"/workbench/judgments/2016/{MET}", data=bad)
    assert answer.status_code == 400
    summary = re.findall(r'<li><a href="#([^"]+)">([^<]+)</a></li>', answer.text)
    targets = {target for target, _ in summary}
    assert targets == {"q3-summary"}
    for target in targets:  # every link of the summary goes to a field on the page
        assert f'id="{target}"' in answer.text
    messages = html.unescape(" ".join(m for _, m in summary))
    assert "unknown placeholder {sparkle}" in messages
    assert "types the year 2016" in messages
    assert "write {force}" in messages
    assert 'class="govuk-error-message"' in answer.text
    # what was typed is kept in the form
    assert "did {sparkle} in 2016" in html.unescape(answer.text)
    assert web.t.wb.draft(web.t.lead, MET, 2016).status.version == 1


def test_a_large_form_is_parsed_off_the_event_loop_and_checked_and_saved_the_same(web):
    """A form body over PARSED_AT_ONCE is parsed in the thread pool, not on the event loop:
    the same fields come out of it, under the same CSRF check."""
    met_draft(web.t)
    client = web.client("inspector")
    fields = form_fields(client.get(f"/workbench/judgments/2016/{MET}").text)
    assert len(urlencode(fields)) <= PARSED_AT_ONCE  # the judgments form: parsed at once
    long = "Inspectors found the work thorough and well led. " * (PARSED_AT_ONCE // 40)
    large = dict(fields, **{"overall.summary": long.strip()})
    assert len(urlencode(large)) > PARSED_AT_ONCE
    path = f"/workbench/judgments/2016/{MET}"
    assert client.post(path, data=dict(large, csrf_token="forged")).status_code == 403
    assert web.t.wb.draft(web.t.lead, MET, 2016).status.version == 1
    assert client.post(path, data=large, follow_redirects=False).status_code == 303
    draft = web.t.wb.draft(web.t.lead, MET, 2016)
    assert draft.status.version == 2
    assert draft.content["overall"]["summary"] == long.strip()


def test_a_stale_save_shows_both_versions_and_overwrites_nothing(web):
    met_draft(web.t)
    first, second = web.client("inspector"), web.client("lead")
    mine = form_fields(first.get(f"/workbench/judgments/2016/{MET}").text)
    theirs = form_fields(second.get(f"/workbench/judgments/2016/{MET}").text)
    theirs["source"] = "The lead inspector's source line"
    assert (
        second.post(
            f"/workbench/judgments/2016/{MET}", data=theirs, follow_redirects=False
        ).status_code
        == 303
    )
    mine["source"] = "The inspector's source line"
    conflict = first.post(f"/workbench/judgments/2016/{MET}", data=mine)
    assert conflict.status_code == 409
    assert "The lead inspector&#39;s source line" in conflict.text
    assert "The inspector&#39;s source line" in conflict.text
    assert (
        web.t.wb.draft(web.t.lead, MET, 2016).content["source"]
        == "The lead inspector's source line"
    )


def test_xss_in_every_text_field_comes_out_escaped_in_the_page_and_the_preview(web):
    met_draft(web.t)
    client = web.client("inspector")
    fields = form_fields(client.get(f"/workbench/judgments/2016/{MET}").text)
    unnamed = {k.split(".")[0] for k, v in fields.items() if k.endswith(".name") and not v}
    texts = [
        k
        for k in fields
        if k.endswith(
            (".summary", ".areas_for_improvement", ".text", ".actions", ".wording", ".note")
        )
        or k == "source"
    ]
    texts = [k for k in texts if k.split(".")[0] not in unnamed]  # a fact needs a name
    assert len(texts) > 20
    for k in texts:
        fields[k] = (fields[k] + " " if fields[k] else "") + XSS
    fields["q1.coc0.text"] = "A cause of concern " + XSS
    fields["q1.coc0.rec0.text"] = "A recommendation " + XSS
    saved = client.post(f"/workbench/judgments/2016/{MET}", data=fields, follow_redirects=False)
    assert saved.status_code == 303, saved.text[:2000]
    page = client.get(f"/workbench/judgments/2016/{MET}").text
    assert "<script>alert" not in page and "<img src=x" not in page
    shown_back = form_fields(page)  # the browser reads the payload back as text, intact
    assert [k for k in texts if XSS not in shown_back.get(k, "")] == []
    preview = client.post(
        f"/workbench/judgments/2016/{MET}/preview",
        data=form_fields(page),
        headers={"Accept": "application/json"},
    )
    assert preview.status_code == 200, preview.text
    shown = client.get(preview.json()["url"])
    assert shown.headers["content-security-policy"].startswith("default-src 'none'")
    assert "<script>alert" not in shown.text and "<img src=x" not in shown.text
    assert "&lt;script&gt;alert(" in shown.text
    # the public never sees a preview, nor another session
    assert TestClient(web.app).get(preview.json()["url"], follow_redirects=False).status_code == 303
    assert web.client("lead").get(preview.json()["url"]).status_code == 404


def test_a_force_liaison_changing_the_force_in_the_url_or_form_gets_404(web):
    met_draft(web.t)
    web.t.wb.import_judgments(
        web.t.kent_inspector, __import__("peelkit.judgments", fromlist=["x"]).demo_judgments()[KENT]
    )
    for force in (MET, KENT):
        lock = web.t.wb.draft(web.t.lead, force, 2016).status.lock
        by = web.t.inspector if force == MET else web.t.kent_inspector
        lock = web.t.wb.step(by, force, 2016, "submit", lock=lock).lock
        lock = web.t.wb.step(web.t.lead, force, 2016, "moderate", lock=lock).lock
        web.t.wb.step(web.t.lead, force, 2016, "open factual accuracy check", lock=lock)
    kent = web.client("kent_liaison")
    assert kent.get(f"/workbench/judgments/2016/{KENT}").status_code == 200
    assert kent.get(f"/workbench/judgments/2016/{MET}").status_code == 404
    assert kent.get("/workbench/judgments/2016/metropolitan").status_code == 404
    token = csrf_of(kent.get(f"/workbench/judgments/2016/{KENT}").text)
    answer = kent.post(
        f"/workbench/judgments/2016/{MET}/comments",
        data={"csrf_token": token, "comment": "Kent writes on the Met"},
    )
    assert answer.status_code == 404
    assert web.t.wb.draft(web.t.lead, MET, 2016).comments == []
    # an inspector posting the Met's form to Kent's address
    inspector = web.client("inspector")
    fields = form_fields(inspector.get(f"/workbench/judgments/2016/{MET}").text) if False else None
    assert fields is None
    for path in (
        f"/workbench/judgments/2016/{MET}/history",
        f"/workbench/judgments/2016/{MET}/judgments.toml",
        f"/workbench/judgments/2016/{MET}/versions/1",
    ):
        assert kent.get(path).status_code == 404
    api = TestClient(web.app)
    token = api.post(
        "/api/v1/workbench/session", json={"username": "kent_liaison", "password": PASSWORD}
    ).json()["token"]
    assert (
        api.get(
            f"/api/v1/workbench/judgments/2016/{MET}", headers={"Authorization": f"Bearer {token}"}
        ).status_code
        == 404
    )


def test_an_edit_posted_to_another_forces_address_is_refused(web):
    met_draft(web.t)
    web.t.wb.import_judgments(
        web.t.lead, __import__("peelkit.judgments", fromlist=["x"]).demo_judgments()[KENT]
    )
    client = web.client("inspector")
    fields = form_fields(client.get(f"/workbench/judgments/2016/{MET}").text)
    assert client.post(f"/workbench/judgments/2016/{KENT}", data=fields).status_code == 404
    fields["force"] = KENT  # the Met's page, Kent's judgments: the inspector is not assigned Kent
    assert client.post(f"/workbench/judgments/2016/{MET}", data=fields).status_code == 404
    assert web.t.wb.draft(web.t.lead, KENT, 2016).status.version == 1


# -- the role × route matrix ----------------------------------------------------------------------


def _fill(path: str) -> str:
    return (
        path.replace("{cycle}", "2016")
        .replace("{force}", MET)
        .replace("{number}", "1")
        .replace("{release}", "{release_id}")
        .replace("{username}", "analyst")
        .replace("{name}", "0" * 32)
        .replace("{file}", f"{MET}-2016.html")
    )


WHO = (
    "anonymous",
    *[u for u, *_ in __import__("tests.workbench_support", fromlist=["USERS"]).USERS],
)


@pytest.mark.parametrize("who", WHO)
def test_the_role_route_matrix(web, who):
    """Every declared route, as every role and as nobody: someone without the permission for the
    Met's draft (in the state it is in) gets 401/303 (not signed in), 403 or 404 — never the
    draft; someone with it is not refused."""
    met_draft(web.t)
    # a release pending (Kent's, far ahead), for the routes about releases
    from peelkit.judgments import demo_judgments
    from tests.workbench_support import to_approved

    web.t.wb.import_judgments(web.t.kent_inspector, demo_judgments()[KENT])
    to_approved(web.t, KENT)
    release = web.t.wb.schedule(
        web.t.lead, 2016, [KENT], web.t.clock.now + __import__("datetime").timedelta(days=30)
    )
    client = TestClient(web.app) if who == "anonymous" else web.client(who)
    token = ""
    if who != "anonymous":
        token = csrf_of(client.get("/workbench").text)
        bearer = (
            TestClient(web.app)
            .post("/api/v1/workbench/session", json={"username": who, "password": PASSWORD})
            .json()["token"]
        )
    actor = None if who == "anonymous" else web.t.actors[who]
    state = web.t.wb.draft(web.t.lead, MET, 2016).status.state
    lock = web.t.wb.draft(web.t.lead, MET, 2016).status.lock
    for (method, template), rule in sorted(WORKBENCH_ROUTES.items()):
        if (
            template in ("/workbench/sign-out", "/api/v1/workbench/session")
            and method in ("POST", "DELETE")
            and rule != "anyone"
        ):
            continue  # signing out is tried elsewhere (it would end this client's session)
        path = _fill(template).replace("{release_id}", str(release))
        api = path.startswith("/api/")
        headers = {"Authorization": f"Bearer {bearer}"} if api and actor else {}
        if api and method in ("PUT", "POST"):
            headers["If-Match"] = str(lock)
        kwargs: dict[str, Any] = {"headers": headers, "follow_redirects": False}
        if method in ("POST", "PUT", "DELETE") and not api:
            kwargs["data"] = {
                "csrf_token": token,
                "lock": str(lock),
                "action": "submit",
                "comment": "x",
                "cycle": "2016",
                "when": "now",
                "change": "enable",
            }
        elif method in ("POST", "PUT"):
            kwargs["json"] = (
                {
                    "action": "submit",
                    "comment": "x",
                    "cycle": 2016,
                    "forces": [MET],
                    "username": who,
                    "password": PASSWORD,
                }
                if "session" in path or "steps" in path or "releases" in path or "comments" in path
                else {"force": MET, "cycle": 2016}
            )
        answer = client.request(method, path, **kwargs)
        code = answer.status_code
        where = f"{who}: {method} {template} -> {code}"
        assert code < 500, where + answer.text[:500]
        if rule == "anyone":
            continue
        if actor is None:
            assert code == (401 if api else 303), where
            continue
        if rule == "signed in":
            assert code not in (401, 403, 404), where
            continue
        if rule == "the step's own action":
            allowed = roles.allows(actor, "submit", MET, state)
        elif template.startswith("/workbench/previews"):
            allowed = False  # a preview of another session
        else:
            force = None if "{force}" not in template else MET
            allowed = roles.allows(actor, rule, force, state)
        if allowed:
            assert code not in (401, 403, 404), where
        else:
            assert code in (403, 404, 422, 409) if api else code in (403, 404), where
            assert SECRET not in answer.text, where  # nothing of the draft's text
        # after a step taken by an allowed role, the state may move on: read it again
        state = web.t.wb.draft(web.t.lead, MET, 2016).status.state
        lock = web.t.wb.draft(web.t.lead, MET, 2016).status.lock


def test_errors_never_show_a_trace(web, monkeypatch):
    client = web.client("lead")

    def broken(*_: Any, **__: Any) -> None:
        raise RuntimeError("secret internals /etc/passwd")

    monkeypatch.setattr(web.t.wb, "status", broken)
    answer = TestClient(web.app, raise_server_exceptions=False)
    answer.cookies.update(client.cookies)
    page = answer.get("/workbench")
    assert page.status_code == 500
    assert "secret internals" not in page.text and "Traceback" not in page.text


# -- the API ----------------------------------------------------------------------------------


def test_the_api_takes_every_step_with_bearer_tokens_and_if_match(web):
    api = TestClient(web.app)

    def token(username: str) -> dict[str, str]:
        answer = api.post(
            "/api/v1/workbench/session", json={"username": username, "password": PASSWORD}
        )
        assert answer.status_code == 201
        return {"Authorization": f"Bearer {answer.json()['token']}"}

    inspector, lead, lead2 = token("inspector"), token("lead"), token("lead2")
    from peelkit.judgments import demo_judgments
    from peelkit.workbench.service import content_of

    body = content_of(demo_judgments()[MET])
    assert (
        api.put(f"/api/v1/workbench/judgments/2016/{MET}", json=body, headers=inspector).status_code
        == 428
    )
    made = api.put(
        f"/api/v1/workbench/judgments/2016/{MET}",
        json=body,
        headers=inspector | {"If-None-Match": "*"},
    )
    assert made.status_code == 200, made.text
    read = api.get(f"/api/v1/workbench/judgments/2016/{MET}", headers=inspector)
    etag = read.headers["etag"]
    assert read.json()["judgments"]["force"] == MET
    assert read.headers["cache-control"] == "private, no-store"
    stale = api.post(
        f"/api/v1/workbench/judgments/2016/{MET}/steps",
        json={"action": "submit"},
        headers=inspector | {"If-Match": '"999"'},
    )
    assert stale.status_code == 412
    for who, action in (
        (inspector, "submit"),
        (lead, "moderate"),
        (lead, "open factual accuracy check"),
        (lead2, "approve"),
    ):
        answer = api.post(
            f"/api/v1/workbench/judgments/2016/{MET}/steps",
            json={"action": action},
            headers=who | {"If-Match": etag},
        )
        assert answer.status_code == 200, answer.text
        etag = answer.headers["etag"]
    released = api.post(
        "/api/v1/workbench/releases", json={"cycle": 2016, "forces": [MET]}, headers=lead
    )
    assert released.status_code == 201
    assert (
        api.get("/api/v1/workbench/judgments?cycle=2016", headers=lead).json()[0]["state"]
        == "published"
    )
    history = api.get(f"/api/v1/workbench/judgments/2016/{MET}/history", headers=lead).json()
    assert [r["action"] for r in history if r["field"] == "state"][-1] == "schedule"
    # the cookie of the pages is no key to the API
    pages = web.client("lead")
    assert pages.get("/api/v1/workbench/judgments").status_code == 401
    assert api.delete("/api/v1/workbench/session", headers=lead).status_code == 204
    assert api.get("/api/v1/workbench/judgments", headers=lead).status_code == 401


def test_an_admin_manages_users_in_the_browser(web):
    admin = web.client("admin")
    page = admin.get("/workbench/admin")
    assert page.status_code == 200
    assert 'id="permissions"' in page.text and "own force (factual accuracy check)" in page.text
    token = csrf_of(page.text)
    added = admin.post(
        "/workbench/admin/users",
        data={
            "csrf_token": token,
            "username": "newbie",
            "display_name": "New Person",
            "role": "inspector",
            "password": "short",
            "assigned": [KENT],
        },
    )
    assert added.status_code == 400 and "at least 12 characters" in added.text
    added = admin.post(
        "/workbench/admin/users",
        data={
            "csrf_token": token,
            "username": "newbie",
            "display_name": "New Person",
            "role": "inspector",
            "password": "a long enough passphrase",
            "assigned": [KENT],
        },
        follow_redirects=False,
    )
    assert added.status_code == 303
    assert web.t.wb.actor("newbie").assigned == frozenset({KENT})
    newbie = sign_in(web.app, "newbie", "a long enough passphrase")
    for change in (
        {"change": "assign", "assigned": [MET, KENT]},
        {"change": "password", "password": "another long passphrase"},
        {"change": "disable"},
    ):
        answer = admin.post(
            "/workbench/admin/users/newbie",
            data={"csrf_token": token, **change},
            follow_redirects=False,
        )
        assert answer.status_code == 303, change
    assert newbie.get("/workbench", follow_redirects=False).status_code == 303  # signed out
    with web.t.wb.db.read() as conn:
        from peelkit.workbench import audit

        actions = [e.action for e in audit.entries(conn) if e.actor == "admin"]
    assert actions[-4:] == ["user added", "assignments changed", "password reset", "user disabled"]


def test_an_uploaded_file_is_closed_once_the_request_is_answered(web):
    """A form read by the route itself is closed by nobody else: an upload left open holds a
    temporary file until the garbage collector finds it, and warns then (an error here)."""
    import gc

    from peelkit.judgments import demo_folder

    client = web.client("inspector")
    token = csrf_of(client.get("/workbench").text)
    toml = (demo_folder() / "metropolitan.toml").read_bytes()
    answer = client.post(
        "/workbench/import/2016",
        data={"csrf_token": token},
        files={"file": ("metropolitan.toml", toml, "application/toml")},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/workbench/judgments/2016/{MET}"
    lock = web.t.wb.draft(web.t.lead, MET, 2016).status.lock
    # a file posted to a form that takes none, and one refused by the CSRF check
    for token_sent in (token, "forged"):
        client.post(
            f"/workbench/judgments/2016/{MET}/comments",
            data={"csrf_token": token_sent, "comment": "x", "lock": str(lock)},
            files={"file": ("x.toml", b"x", "application/toml")},
        )
    gc.collect()


def test_the_preview_is_one_file_with_its_figures_in_it(web):
    """A published report's figures are files beside its page; the preview is one file in
    the session's folder (a figure beside it would be another force's, or not found), so
    its figures are in the page as data: images, which its policy allows."""
    met_draft(web.t)
    client = web.client("inspector")
    page = client.get(f"/workbench/judgments/2016/{MET}").text
    preview = client.post(
        f"/workbench/judgments/2016/{MET}/preview",
        data=form_fields(page),
        headers={"Accept": "application/json"},
    )
    shown = client.get(preview.json()["url"])
    images = re.findall(r'<img src="([^"]*)"', shown.text)
    assert len(images) >= 5
    assert all(src.startswith("data:image/svg+xml;base64,") for src in images), images[:3]
    assert "img-src 'self' data:" in shown.headers["content-security-policy"]


def test_a_missing_comment_is_linked_from_the_error_summary_to_its_own_field(web):
    """A lead inspector's page in the factual accuracy check has two comment fields: a step's
    (return) and the comment form's. Each problem's link must lead to the field it is about."""
    lock = met_draft(web.t)
    t = web.t
    for who, action in (
        (t.inspector, "submit"),
        (t.lead, "moderate"),
        (t.lead, "open factual accuracy check"),
    ):
        lock = t.wb.step(who, MET, 2016, action, lock=lock).lock
    client = web.client("lead")
    token = csrf_of(client.get(f"/workbench/judgments/2016/{MET}").text)
    step = client.post(
        f"/workbench/judgments/2016/{MET}/steps",
        data={"csrf_token": token, "action": "return", "lock": str(lock), "comment": ""},
    )
    comment = client.post(
        f"/workbench/judgments/2016/{MET}/comments", data={"csrf_token": token, "comment": " "}
    )
    for answer, field in ((step, "comment"), (comment, "fac-comment")):
        assert answer.status_code == 400
        links = re.findall(r'<li><a href="#([^"]+)">', answer.text)
        assert links == [field]
        textarea = re.search(rf'<textarea [^>]*id="{field}"[^>]*>', answer.text)
        assert textarea, f"no field {field!r} for the summary's link"
        assert f'aria-describedby="{field}' in textarea.group(0)
        assert f"{field}-error-1" in textarea.group(0)
        assert answer.text.count('class="govuk-error-message"') == 1  # beside its field only


def test_times_are_shown_in_uk_time_and_error_pages_keep_the_menu(web):
    from datetime import UTC, datetime

    from peelkit.judgments import demo_judgments
    from tests.workbench_support import to_approved

    web.t.clock.now = datetime(2027, 6, 1, 8, 0, tzinfo=UTC)  # British Summer Time
    web.t.wb.import_judgments(web.t.kent_inspector, demo_judgments()[KENT])
    to_approved(web.t, KENT)
    web.t.wb.schedule(web.t.lead, 2016, [KENT], datetime(2027, 6, 2, 11, 0, tzinfo=UTC))
    lead = web.client("lead")
    releases = lead.get("/workbench/releases").text
    assert "02 June 2027 12:00 BST" in releases and "Time (UK)" in releases
    assert "01 June 2027 09:00 BST" in lead.get(f"/workbench/judgments/2016/{KENT}").text
    missing = lead.get("/workbench/judgments/2016/nowhere")
    assert missing.status_code == 404
    assert "Sign out" in missing.text and "Signed in as" in missing.text


def test_signing_out_removes_the_sessions_previews(web, demo_run):
    met_draft(web.t)
    client = web.client("inspector")
    page = client.get(f"/workbench/judgments/2016/{MET}").text
    made = client.post(
        f"/workbench/judgments/2016/{MET}/preview",
        data=form_fields(page),
        headers={"Accept": "application/json"},
    ).json()["url"]
    folder = demo_run.site / "previews" / made.split("/")[3]
    assert client.get(made).status_code == 200
    assert (folder / f"{MET}-2016.html").is_file()
    client.post("/workbench/sign-out", data={"csrf_token": csrf_of(page)})
    assert not folder.exists()  # unpublished text does not outlive its session
