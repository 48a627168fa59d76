"""The access matrix: every route of the application, for every role and for a caller not signed in, is let
through or refused exactly as the policy table says.

The routes are read from the application itself, so a route added without an action in the policy fails
here. Oracle: :data:`magcycle.app.policy.POLICY` (the table), restated below as the issue states the roles, so
that an edit of the table that breaks the issue's rules fails too.
"""

from __future__ import annotations

import re

import pytest

from magcycle.app.policy import POLICY, ROLES, allowed
from magcycle.app.server import route_action

# the issue's rules, restated: what each role may do besides reading
ISSUE_RULES = {
    "viewer": {"read", "session", "public"},
    "engineer": {"read", "session", "public", "simulate"},
    "planner": {"read", "session", "public", "plan"},
    "compliance": {"read", "session", "public", "receive", "campaign", "certify", "audit"},
    "admin": set(POLICY),
}


def test_the_policy_table_says_what_the_issue_says():
    for role in ROLES:
        assert {a for a in POLICY if allowed(role, a)} == ISSUE_RULES[role], role
    assert {a for a in POLICY if allowed(None, a)} == {"public"}


def _routes(app):
    out = []
    for route in app.routes:
        for method in sorted(getattr(route, "methods", None) or ()):
            if method != "HEAD":
                out.append((method, route.path, route))
    return out


def test_every_route_names_an_action_of_the_policy(site):
    routes = _routes(site.app)
    assert len(routes) >= 15
    for method, path, route in routes:
        action = route_action(route)
        assert action in POLICY, f"{method} {path} has no action of the policy table ({action!r})"


def _request(site, method: str, path: str, role: str | None):
    url = re.sub(r"\{[^}]+\}", "X-NO-SUCH-LOT", path)
    return site.http.request(method, url, headers=site.auth(role), follow_redirects=False)


def _refused_as_anonymous(r, path: str) -> bool:
    """The policy's answer to a caller not signed in (a wrong password on the sign-in routes is not this)."""
    if path.startswith("/api/"):
        return r.status_code == 401 and r.json()["detail"].startswith("sign in first")
    return r.status_code == 303 and r.headers["location"].startswith("/login?next=")


def _refused_for_role(r) -> bool:
    return r.status_code == 403 and "may not" in r.json().get("detail", "")


def test_every_route_for_every_role_and_anonymous(site):
    checked = 0
    for method, path, route in _routes(site.app):
        action = route_action(route)
        for role in (None, *ROLES):
            r = _request(site, method, path, role)
            if allowed(role, action):
                assert not _refused_as_anonymous(r, path) and not _refused_for_role(r), \
                    (method, path, role, r.status_code, r.text[:200])
                assert r.status_code < 500, (method, path, role, r.status_code, r.text[:200])
            elif role is None:
                assert _refused_as_anonymous(r, path), (method, path, r.status_code, r.text[:200])
            else:
                assert _refused_for_role(r), (method, path, role, r.status_code, r.text[:200])
            if path.endswith("/token/revoke") and r.status_code == 200:
                site.forget(role)  # that role's token was just revoked: the next request gets a new one
            checked += 1
    assert checked == len(_routes(site.app)) * (len(ROLES) + 1)


@pytest.mark.parametrize("role", ROLES)
def test_the_api_reference_lists_every_route_with_its_roles(site, role):
    r = site.http.get("/api/docs", headers=site.auth(role))
    assert r.status_code == 200
    spec = site.http.get("/api/openapi.json").json()
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            assert op["x-magcycle-action"] in POLICY, (method, path)
            assert f"<td>{method.upper()}</td><td>{path}</td>" in r.text


@pytest.mark.parametrize("path, name", [("/api/v1/plans", "plan"), ("/api/v1/sx/solve", "cascade"),
                                        ("/api/v1/sx/design", "cascade"), ("/api/v1/uq", "study"),
                                        ("/api/v1/lots", "receipt"), ("/api/v1/campaigns", "campaign")])
def test_request_bodies_are_the_input_documents_schemas(site, path, name):
    """The OpenAPI document declares each body as the file's own schema (``magcycle schema NAME``)."""
    from magcycle.report.reference import json_schema

    spec = site.http.get("/api/openapi.json").json()
    body = spec["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]
    want = json_schema(name)
    if "$ref" in body:  # a pydantic body model: FastAPI's components hold it
        got = spec["components"]["schemas"][body["$ref"].rsplit("/", 1)[-1]]
        assert got["title"] == want["title"] and set(got["properties"]) == set(want["properties"])
    else:  # the document's schema itself (FastAPI may drop null defaults from it)
        assert body["$id"] == want["$id"] and body["title"] == want["title"]
        assert set(body["properties"]) == set(want["properties"]) and set(body["$defs"]) == set(want["$defs"])
        assert body.get("required") == want.get("required")
