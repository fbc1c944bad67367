"""The §5 access matrix over every app route: owner, collaborator, admin, outsider and anonymous.

Each request runs against a fresh app (owned by alice, shared with bob and dave, with a custom domain and a
whitelist entry). This fixture has no container engine, so routes that need one answer 503 to the roles
that may use them; what matters here is who gets 401/403/404. Any app route added later must be listed
(test_every_app_route_is_listed).
"""

from __future__ import annotations

import itertools

import pytest

from tests.conftest import register

FORBIDDEN = {"detail": "You do not have permission to perform this action."}
NO_APP = "No App matches the given query."
POD = "{a}-cmd-1234567890-abcde"

OWNER, COLLABORATOR, ADMIN, OUTSIDER, ANONYMOUS = "owner", "collaborator", "admin", "outsider", "anonymous"
USERS = {OWNER: "alice", COLLABORATOR: "bob", ADMIN: "admin", OUTSIDER: "carol"}
EVERYONE = (OWNER, COLLABORATOR, ADMIN)
OWNER_OR_ADMIN = (OWNER, ADMIN)


# (method, path with {a} = the app, status for permitted roles, body, permitted roles)
ROUTES = [
    ("GET", "/v2/apps/{a}/", 200, None, EVERYONE),
    ("POST", "/v2/apps/{a}/", 200, {"owner": "admin"}, OWNER_OR_ADMIN),  # transfer
    ("DELETE", "/v2/apps/{a}/", 204, None, OWNER_OR_ADMIN),
    ("GET", "/v2/apps/{a}/logs", 200, None, EVERYONE),  # a new app has Deis's creation lines
    ("POST", "/v2/apps/{a}/run", 400, {"command": "ls"}, EVERYONE),  # no build yet
    ("GET", "/v2/apps/{a}/builds/", 200, None, EVERYONE),
    ("POST", "/v2/apps/{a}/builds/", 503, {"image": "test/web:latest"}, EVERYONE),
    ("GET", "/v2/apps/{a}/builds/x/", 404, None, EVERYONE),  # "No Build matches ..."
    ("GET", "/v2/apps/{a}/releases/", 200, None, EVERYONE),
    ("GET", "/v2/apps/{a}/releases/v1/", 200, None, EVERYONE),
    ("GET", "/v2/apps/{a}/releases/v1/events/", 200, None, EVERYONE),
    ("POST", "/v2/apps/{a}/releases/rollback/", 400, None, EVERYONE),  # nothing to roll back to
    ("GET", "/v2/apps/{a}/pods/", 200, None, EVERYONE),
    ("GET", "/v2/apps/{a}/pods/cmd/", 200, None, EVERYONE),
    ("GET", "/v2/apps/{a}/pods/cmd/" + POD + "/", 200, None, EVERYONE),
    ("POST", "/v2/apps/{a}/pods/restart/", 503, None, EVERYONE),
    ("POST", "/v2/apps/{a}/pods/cmd/restart/", 503, None, EVERYONE),
    ("POST", "/v2/apps/{a}/pods/cmd/" + POD + "/restart/", 503, None, EVERYONE),
    ("POST", "/v2/apps/{a}/scale/", 503, {"cmd": 1}, EVERYONE),
    ("GET", "/v2/apps/{a}/config/", 200, None, EVERYONE),
    ("POST", "/v2/apps/{a}/config/", 201, {"values": {"A": "1"}}, EVERYONE),
    ("GET", "/v2/apps/{a}/domains/", 200, None, EVERYONE),
    ("POST", "/v2/apps/{a}/domains/", 201, {"domain": "new-{a}.example.com"}, EVERYONE),
    ("DELETE", "/v2/apps/{a}/domains/d-{a}.example.com", 204, None, OWNER_OR_ADMIN),
    ("GET", "/v2/apps/{a}/settings/", 200, None, EVERYONE),
    ("POST", "/v2/apps/{a}/settings/", 201, {"maintenance": True}, EVERYONE),
    ("GET", "/v2/apps/{a}/autoscale/", 200, None, EVERYONE),
    ("GET", "/v2/apps/{a}/whitelist/", 200, None, EVERYONE),
    ("POST", "/v2/apps/{a}/whitelist/", 201, {"addresses": ["5.6.7.8"]}, EVERYONE),
    ("DELETE", "/v2/apps/{a}/whitelist/", 204, {"addresses": ["1.2.3.4"]}, OWNER_OR_ADMIN),
    ("GET", "/v2/apps/{a}/tls/", 200, None, EVERYONE),
    ("POST", "/v2/apps/{a}/tls/", 201, {"https_enforced": True}, EVERYONE),
    ("GET", "/v2/apps/{a}/perms/", 200, None, EVERYONE),
    ("POST", "/v2/apps/{a}/perms/", 201, {"username": "carol"}, OWNER_OR_ADMIN),
    ("DELETE", "/v2/apps/{a}/perms/bob", 204, None, EVERYONE),  # the collaborator removing themselves
    ("DELETE", "/v2/apps/{a}/perms/dave", 204, None, OWNER_OR_ADMIN),  # ... but not another one
]

# The schema spelling of each route above, to check the list is complete.
SCHEMA_PATHS = {
    "/v2/apps/{a}/builds/x/": "/v2/apps/{id}/builds/{uuid}/",
    "/v2/apps/{a}/releases/v1/": "/v2/apps/{id}/releases/v{version}/",
    "/v2/apps/{a}/releases/v1/events/": "/v2/apps/{id}/releases/v{version}/events/",
    "/v2/apps/{a}/pods/cmd/": "/v2/apps/{id}/pods/{type}/",
    "/v2/apps/{a}/pods/cmd/" + POD + "/": "/v2/apps/{id}/pods/{type}/{name}/",
    "/v2/apps/{a}/pods/cmd/restart/": "/v2/apps/{id}/pods/{type}/restart/",
    "/v2/apps/{a}/pods/cmd/" + POD + "/restart/": "/v2/apps/{id}/pods/{type}/{name}/restart/",
    "/v2/apps/{a}/domains/d-{a}.example.com": "/v2/apps/{id}/domains/{domain}",
    "/v2/apps/{a}/perms/bob": "/v2/apps/{id}/perms/{username}",
    "/v2/apps/{a}/perms/dave": "/v2/apps/{id}/perms/{username}",
}

_counter = itertools.count()


@pytest.fixture
async def people(client, admin) -> dict[str, dict[str, str]]:
    auth = {ADMIN: admin[1], ANONYMOUS: {}}
    for role in (OWNER, COLLABORATOR, OUTSIDER):
        auth[role] = (await register(client, USERS[role]))[1]
    await register(client, "dave")
    return auth


async def fresh_app(client, owner_auth: dict[str, str]) -> str:
    app_id = f"m{next(_counter)}"
    calls = [
        ("/v2/apps/", {"id": app_id}),
        (f"/v2/apps/{app_id}/perms/", {"username": "bob"}),
        (f"/v2/apps/{app_id}/perms/", {"username": "dave"}),
        (f"/v2/apps/{app_id}/domains/", {"domain": f"d-{app_id}.example.com"}),
        (f"/v2/apps/{app_id}/whitelist/", {"addresses": ["1.2.3.4"]}),
    ]
    for path, body in calls:
        r = await client.post(path, json=body, headers=owner_auth)
        assert r.status_code == 201, (path, r.text)
    return app_id


async def call(client, method: str, path: str, body, auth: dict[str, str]):
    if body is None:  # the SDK's empty body with a JSON content type
        return await client.request(method, path, content=b"", headers={**auth, "Content-Type": "application/json"})
    return await client.request(method, path, json=body, headers=auth)


def fill(value, app_id: str):
    if isinstance(value, str):
        return value.replace("{a}", app_id)
    if isinstance(value, dict):
        return {k: fill(v, app_id) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, app_id) for v in value]
    return value


@pytest.mark.parametrize("role", [OWNER, COLLABORATOR, ADMIN, OUTSIDER, ANONYMOUS])
async def test_matrix(client, people, role):
    failures = []
    for method, path, status, body, allowed in ROUTES:
        app_id = await fresh_app(client, people[OWNER])
        r = await call(client, method, fill(path, app_id), fill(body, app_id), people[role])
        if role == ANONYMOUS:
            expected = 401
        elif role in allowed:
            expected = status
        else:
            expected = 403
        if r.status_code != expected:
            failures.append(f"{method} {path}: {r.status_code} {r.text[:120]} (expected {expected})")
        elif expected == 403 and r.json() != FORBIDDEN:
            failures.append(f"{method} {path}: 403 body {r.text}")
        elif expected == 404 and r.json() == NO_APP:
            failures.append(f"{method} {path}: the app itself was not found")
    assert not failures, "\n".join(failures)


async def test_unknown_app_is_404_for_everyone_401_for_anonymous(client, people):
    failures = []
    for method, path, _status, body, _allowed in ROUTES:
        for role in (OWNER, ADMIN, OUTSIDER, ANONYMOUS):
            r = await call(client, method, fill(path, "nosuchapp"), fill(body, "nosuchapp"), people[role])
            expected = (401, None) if role == ANONYMOUS else (404, NO_APP)
            if r.status_code != expected[0] or (expected[1] and r.json() != expected[1]):
                failures.append(f"{role} {method} {path}: {r.status_code} {r.text[:120]}")
    assert not failures, "\n".join(failures)


async def test_collaborator_rights_end_with_the_grant(client, people):
    app_id = await fresh_app(client, people[OWNER])
    assert (await client.get(f"/v2/apps/{app_id}/config/", headers=people[COLLABORATOR])).status_code == 200
    r = await client.delete(f"/v2/apps/{app_id}/perms/bob", headers=people[OWNER])
    assert r.status_code == 204
    r = await client.get(f"/v2/apps/{app_id}/config/", headers=people[COLLABORATOR])
    assert (r.status_code, r.json()) == (403, FORBIDDEN)
    r = await client.get("/v2/apps/", headers=people[COLLABORATOR])
    assert app_id not in [a["id"] for a in r.json()["results"]]


def test_every_app_route_is_listed(app):
    listed = {(method.lower(), SCHEMA_PATHS.get(path, path.replace("{a}", "{id}")))
              for method, path, *_ in ROUTES}
    served = {(method, path) for path, operations in app.openapi()["paths"].items()
              if path.startswith("/v2/apps/{id}") for method in operations}
    assert served == listed
