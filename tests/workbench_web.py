"""Browsing the workbench in tests: a signed-in client per user, and the judgments form as a
browser would submit it (every field the page shows, with its value)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

from fastapi.testclient import TestClient

from tests.workbench_support import PASSWORD

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def sign_in(app: Any, username: str, password: str = PASSWORD) -> TestClient:
    client = TestClient(app, base_url="http://testserver")
    page = client.get("/workbench/sign-in")
    token = csrf_of(page.text)
    answer = client.post(
        "/workbench/sign-in",
        data={"csrf_token": token, "username": username, "password": password},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    return client


def csrf_of(page: str) -> str:
    found = CSRF.search(page)
    assert found, "the page has no CSRF token"
    return found.group(1)


class _Form(HTMLParser):
    """The fields of one form as a browser submits them (selects: the selected option, else
    the first; text areas: their text)."""

    def __init__(self, form_id: str) -> None:
        super().__init__()
        self.form_id = form_id
        self.inside = False
        self.fields: dict[str, str] = {}
        self._area: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("id") == self.form_id:
            self.inside = True
        if not self.inside:
            return
        if tag == "input" and a.get("name") and a.get("type") not in ("submit", "file"):
            self.fields[a["name"]] = a.get("value", "")
        elif tag == "textarea":
            self._area = a["name"]
            self.fields[self._area] = ""
        elif tag == "select":
            self._select = a["name"]
        elif (
            tag == "option"
            and self._select
            and ("selected" in a or self._select not in self.fields)
        ):
            self.fields[self._select] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._area = None
        elif tag == "select":
            self._select = None
        elif tag == "form":
            self.inside = False

    def handle_data(self, data: str) -> None:
        if self._area:
            self.fields[self._area] += data


def form_fields(page: str, form_id: str = "judgments-form") -> dict[str, str]:
    parser = _Form(form_id)
    parser.feed(page)
    parser.close()
    assert parser.fields, f"the page has no form {form_id!r}"
    return parser.fields
