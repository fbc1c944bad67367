"""Wire conventions (spec §1, §3.1): version headers, both slash spellings, `//`, empty bodies,
Deis error shapes, compact JSON, pagination, timestamps, token header parsing, health."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.conftest import register
from workflow.config import Settings

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
NOT_PROVIDED = {"detail": "Authentication credentials were not provided."}



def assert_versions(r) -> None:
    assert r.headers.get("DEIS_API_VERSION") == "2.3", (r.request.method, r.request.url, dict(r.headers))
    assert r.headers.get("DEIS_PLATFORM_VERSION") == "2.3.0"
    # underscores, never hyphens; no release header
    assert "deis-api-version" not in r.headers
    assert "x-deis-release" not in r.headers and "deis-release" not in r.headers


# --- version headers -------------------------------------------------------------------------------


async def test_version_headers_on_every_kind_of_response(client, alice):
    _, auth = alice
    responses = [
        await client.get("/healthz"),
        await client.head("/healthz"),
        await client.get("/readiness"),
        await client.get("/v2/"),  # 401
        await client.get("/v2/", headers=auth),  # 200
        await client.get("/v2/no/such/route/", headers=auth),  # 404
        await client.put("/v2/apps/", headers=auth),  # 405
        await client.post("/v2/apps/", content=b"{", headers={**auth, "Content-Type": "application/json"}),  # 400
        await client.get("/v2/apps/missing/", headers=auth),  # 404 lookup miss
        await client.get("/v2/users/", headers=auth),  # 403
        await client.delete("/v2/auth/cancel/", headers={"Authorization": "token nope"}),  # 401 bad token
        await client.post("/v2/apps/", json={"id": "hdr"}, headers=auth),  # 201
        await client.post("/v2/apps/hdr/", json={"owner": "alice"}, headers=auth),  # 200 empty
        await client.delete("/v2/apps/hdr/", headers=auth),  # 204
        await client.post("/v2/auth/register/", json={}),  # 400 field errors
    ]
    assert [r.status_code for r in responses] == [200, 200, 200, 401, 200, 404, 405, 400, 404, 403, 401,
                                                  201, 200, 204, 400]
    for r in responses:
        assert_versions(r)


# --- discovery and health -----------------------------------------------------------------------------


async def test_root_anonymous_is_401_with_www_authenticate(client):
    r = await client.get("/v2/")
    assert r.status_code == 401
    assert r.json() == NOT_PROVIDED
    assert r.content == b'{"detail":"Authentication credentials were not provided."}'
    assert r.headers["WWW-Authenticate"] == "Token"
    assert r.headers["content-type"].startswith("application/json")


async def test_root_authenticated_is_empty_object(client, alice):
    r = await client.get("/v2/", headers=alice[1])
    assert r.status_code == 200
    assert r.json() == {}
    assert r.content == b"{}"


@pytest.mark.parametrize("path", ["/healthz", "/readiness"])
async def test_health_endpoints_are_plain_ok(client, path):
    r = await client.get(path)
    assert r.status_code == 200
    assert r.text == "OK"
    assert r.headers["content-type"].startswith("text/plain")
    r = await client.head(path)
    assert r.status_code == 200
    assert r.content == b""


async def test_healthz_other_methods_405(client):
    r = await client.post("/healthz")
    assert r.status_code == 405
    assert r.json() == {"detail": 'Method "POST" not allowed.'}
    assert_versions(r)


async def test_readiness_is_503_when_the_database_is_unusable(tmp_path):
    from workflow.main import create_app

    broken = Settings(data_dir=tmp_path, database_url=f"sqlite+aiosqlite:///{tmp_path}/missing/dir/x.db",
                      secret_key="s", router_enabled=False, scheduler_enabled=False)
    application = create_app(broken)
    async with application.router.lifespan_context(application):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=application),
                                     base_url="http://testserver") as c:
            r = await c.get("/readiness")
            assert r.status_code == 503
            assert r.headers["content-type"].startswith("text/plain")
            assert_versions(r)
            assert (await c.get("/healthz")).status_code == 200


async def test_unexpected_error_is_500_server_error(app):
    async def boom():
        raise RuntimeError("kaput")

    app.add_api_route("/v2/test-boom/", boom)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        r = await c.get("/v2/test-boom/")
    assert r.status_code == 500
    assert r.json() == {"detail": "Server Error"}
    assert "kaput" not in r.text
    assert_versions(r)


# --- routing: slashes, `//`, 404, 405 --------------------------------------------------------------


async def test_every_route_answers_with_and_without_slash(client, alice, bob):
    name, auth = alice
    r = await client.post("/v2/apps/", json={"id": "slashy"}, headers=auth)
    assert r.status_code == 201
    r = await client.post("/v2/apps", json={"id": "slashy2"}, headers=auth)
    assert r.status_code == 201
    admin_auth = (await client.post("/v2/auth/login/", json={"username": "admin", "password": "secret"})).json()
    admin_auth = {"Authorization": f"token {admin_auth['token']}"}

    checks = [
        ("GET", "/v2/", auth, 200),
        ("GET", "/v2/auth/whoami/", auth, 200),
        ("GET", "/v2/users/", admin_auth, 200),
        ("GET", "/v2/admin/perms/", admin_auth, 200),
        ("GET", "/v2/apps/", auth, 200),
        ("GET", "/v2/apps/slashy/", auth, 200),
    ]
    for method, path, headers, status in checks:
        for spelling in (path, path.rstrip("/")):
            r = await client.request(method, spelling, headers=headers)
            assert r.status_code == status, (spelling, r.status_code, r.text)
            assert not r.is_redirect
    # the login and register routes, without the slash
    r = await client.post("/v2/auth/login", json={"username": name, "password": "secret"})
    assert r.status_code == 200
    r = await client.post("/v2/auth/register", json={"username": "carol", "password": "pw"})
    assert r.status_code == 201
    # POST/DELETE without slashes
    r = await client.post("/v2/apps/slashy", json={"owner": "bob"}, headers=auth)
    assert r.status_code == 200
    r = await client.delete("/v2/apps/slashy2", headers=auth)
    assert r.status_code == 204
    r = await client.post("/v2/admin/perms", json={"username": "carol"}, headers=admin_auth)
    assert r.status_code == 201
    r = await client.delete("/v2/admin/perms/carol/", headers=admin_auth)
    assert r.status_code == 204
    r = await client.post("/v2/auth/passwd", json={"password": "secret", "new_password": "n"}, headers=auth)
    assert r.status_code == 200
    r = await client.post("/v2/auth/tokens", headers=auth)
    assert r.status_code == 200
    auth = {"Authorization": f"token {r.json()['token']}"}
    r = await client.delete("/v2/auth/cancel", headers=auth)
    assert r.status_code == 204


@pytest.mark.parametrize("path", ["/healthz/", "/readiness/"])
async def test_health_with_trailing_slash(client, path):
    r = await client.get(path)
    assert r.status_code == 200
    assert r.text == "OK"


async def test_double_leading_slash_is_collapsed(client, alice):
    r = await client.get("http://testserver//v2/")
    assert r.status_code == 401
    assert r.json() == NOT_PROVIDED
    r = await client.get("http://testserver//v2/", headers=alice[1])
    assert r.status_code == 200
    assert r.json() == {}
    r = await client.post("http://testserver//v2/apps/", json={"id": "dbl"}, headers=alice[1])
    assert r.status_code == 201
    r = await client.get("http://testserver//v2/apps/dbl", headers=alice[1])
    assert r.status_code == 200
    assert r.json()["id"] == "dbl"


async def test_unknown_url_is_404(client, alice):
    r = await client.get("/v2/nothing-here/", headers=alice[1])
    assert r.status_code == 404
    assert_versions(r)
    r = await client.get("/nope")
    assert r.status_code == 404
    assert_versions(r)


@pytest.mark.parametrize(("method", "path"), [
    ("PUT", "/v2/apps/"),
    ("PATCH", "/v2/apps/"),
    ("DELETE", "/v2/apps/"),
    ("PUT", "/v2/apps/someapp/"),
    ("PATCH", "/v2/apps/someapp"),
    ("GET", "/v2/auth/login/"),
    ("GET", "/v2/auth/register/"),
    ("PUT", "/v2/auth/whoami/"),
    ("GET", "/v2/auth/tokens/"),
    ("POST", "/v2/"),
    ("DELETE", "/v2/users/"),
    ("PUT", "/v2/admin/perms/"),
])
async def test_method_not_allowed(client, alice, method, path):
    r = await client.request(method, path, headers=alice[1])
    assert r.status_code == 405
    assert r.json() == {"detail": f'Method "{method}" not allowed.'}
    assert r.content == f'{{"detail":"Method \\"{method}\\" not allowed."}}'.encode()
    assert_versions(r)


# --- request bodies -------------------------------------------------------------------------------------

JSON = {"Content-Type": "application/json"}


async def test_empty_body_is_empty_object_for_app_create(client, alice):
    r = await client.post("/v2/apps/", content=b"", headers={**alice[1], **JSON})
    assert r.status_code == 201, r.text
    assert re.fullmatch(r"[a-z]+-[a-z]+", r.json()["id"])


async def test_empty_body_is_empty_object_for_token_regeneration(client, alice):
    _, auth = alice
    old = auth["Authorization"].split()[1]
    r = await client.post("/v2/auth/tokens/", content=b"", headers={**auth, **JSON})
    assert r.status_code == 200, r.text
    assert re.fullmatch(r"[0-9a-f]{40}", r.json()["token"])
    assert r.json()["token"] != old


async def test_empty_body_is_empty_object_for_self_cancel(client, alice):
    _, auth = alice
    r = await client.request("DELETE", "/v2/auth/cancel/", content=b"", headers={**auth, **JSON})
    assert r.status_code == 204, r.text
    assert r.content == b""


async def test_get_and_delete_with_json_content_type_and_no_body(client, alice):
    _, auth = alice
    await client.post("/v2/apps/", json={"id": "ctype"}, headers=auth)
    r = await client.get("/v2/apps/ctype/", headers={**auth, **JSON})
    assert r.status_code == 200
    r = await client.delete("/v2/apps/ctype/", headers={**auth, **JSON})
    assert r.status_code == 204


@pytest.mark.parametrize(("method", "path"), [
    ("POST", "/v2/apps/"),
    ("POST", "/v2/auth/register/"),
    ("POST", "/v2/auth/login/"),
    ("POST", "/v2/auth/tokens/"),
    ("POST", "/v2/auth/passwd/"),
    ("DELETE", "/v2/auth/cancel/"),
    ("POST", "/v2/admin/perms/"),
])
async def test_malformed_json_is_400_parse_error(client, alice, admin, method, path):
    headers = {**(admin[1] if "admin" in path else alice[1]), **JSON}
    r = await client.request(method, path, content=b'{"id": ', headers=headers)
    assert r.status_code == 400, r.text
    body = r.json()
    assert set(body) == {"detail"}
    assert body["detail"].startswith("JSON parse error - ")
    assert len(body["detail"]) > len("JSON parse error - ")


@pytest.mark.parametrize(("payload", "kind"), [(b"[1, 2]", "list"), (b'"text"', "str"), (b"42", "int")])
async def test_non_object_json_is_never_fastapi_422(client, alice, payload, kind):
    r = await client.post("/v2/apps/", content=payload, headers={**alice[1], **JSON})
    assert r.status_code == 400, r.text
    assert r.json() == {"non_field_errors": [f"Invalid data. Expected a dictionary, but got {kind}."]}


async def test_wrong_field_types_are_deis_field_errors(client, alice):
    _, auth = alice
    cases = [
        ("POST", "/v2/apps/", {"id": 5}, {"id": ["Not a valid string."]}),
        ("POST", "/v2/apps/", {"id": True}, {"id": ["Not a valid string."]}),
        ("POST", "/v2/apps/", {"id": None}, {"id": ["This field may not be null."]}),
        ("POST", "/v2/auth/passwd/", {"new_password": ["x"]}, {"new_password": ["Not a valid string."]}),
        ("POST", "/v2/auth/tokens/", {"username": 5}, {"username": ["Not a valid string."]}),
        ("DELETE", "/v2/auth/cancel/", {"username": {}}, {"username": ["Not a valid string."]}),
    ]
    for method, path, payload, expected in cases:
        r = await client.request(method, path, json=payload, headers=auth)
        assert r.status_code == 400, (path, payload, r.text)
        assert r.json() == expected, (path, payload)


# --- JSON encoding --------------------------------------------------------------------------------------


async def test_compact_separators_and_utf8(client, admin):
    r = await client.post("/v2/auth/register/", json={"username": "zoe", "password": "pw", "first_name": "Zoë"})
    assert r.status_code == 201
    assert b", " not in r.content and b'": ' not in r.content
    assert '"first_name":"Zoë"'.encode() in r.content
    assert b"\\u" not in r.content
    r = await client.get("/v2/users/", headers=admin[1])
    assert r.content.startswith(b'{"count":2,"next":null,"previous":null,"results":[{')
    r = await client.post("/v2/auth/register/", json={"username": "zoe", "password": "pw"})
    assert r.content == b'{"username":["A user with that username already exists."]}'


# --- pagination ----------------------------------------------------------------------------------------


async def test_pagination_envelope_and_links(client, alice):
    _, auth = alice
    for i in range(5):
        assert (await client.post("/v2/apps/", json={"id": f"page-{i}"}, headers=auth)).status_code == 201

    r = await client.get("/v2/apps/", headers=auth)
    body = r.json()
    assert list(body) == ["count", "next", "previous", "results"]
    assert body["count"] == 5 and body["next"] is None and body["previous"] is None
    assert [a["id"] for a in body["results"]] == [f"page-{i}" for i in range(5)]

    r = await client.get("/v2/apps/?limit=2", headers=auth)
    body = r.json()
    assert body["count"] == 5
    assert [a["id"] for a in body["results"]] == ["page-0", "page-1"]
    assert body["previous"] is None
    assert body["next"] == "http://testserver/v2/apps/?limit=2&offset=2"

    r = await client.get(body["next"], headers=auth)
    body = r.json()
    assert [a["id"] for a in body["results"]] == ["page-2", "page-3"]
    assert body["next"] == "http://testserver/v2/apps/?limit=2&offset=4"
    assert body["previous"] == "http://testserver/v2/apps/?limit=2"

    r = await client.get(body["next"], headers=auth)
    body = r.json()
    assert [a["id"] for a in body["results"]] == ["page-4"]
    assert body["next"] is None
    assert body["previous"] == "http://testserver/v2/apps/?limit=2&offset=2"

    r = await client.get("/v2/apps/?limit=2&offset=50", headers=auth)
    body = r.json()
    assert body["count"] == 5 and body["results"] == [] and body["next"] is None
    assert body["previous"] is not None


async def test_bad_offset_means_0(client, alice):
    for i in range(2):
        await client.post("/v2/apps/", json={"id": f"off-{i}"}, headers=alice[1])
    for offset in ("-5", "abc"):
        r = await client.get(f"/v2/apps/?limit=1&offset={offset}", headers=alice[1])
        body = r.json()
        assert [a["id"] for a in body["results"]] == ["off-0"]
        assert body["previous"] is None


@pytest.mark.parametrize("limit", ["0", "-3", "abc", ""])
async def test_bad_limit_means_100(client, alice, limit):
    _, auth = alice
    for i in range(3):
        await client.post("/v2/apps/", json={"id": f"lim-{i}"}, headers=auth)
    r = await client.get(f"/v2/apps/?limit={limit}", headers=auth)
    assert r.status_code == 200
    body = r.json()
    assert body["count"] == 3
    assert len(body["results"]) == 3
    assert body["next"] is None


async def test_page_size_defaults_to_100(client, alice, app):
    from workflow.models import App

    async with app.state.ctx.sessions() as session:
        session.add_all([App(id=f"bulk-{i:03d}", owner="alice", structure={}) for i in range(102)])
        await session.commit()
    r = await client.get("/v2/apps", headers=alice[1])
    body = r.json()
    assert body["count"] == 102
    assert isinstance(body["count"], int)
    assert len(body["results"]) == 100
    assert body["next"] == "http://testserver/v2/apps?limit=100&offset=100"
    r = await client.get("/v2/apps?limit=1000", headers=alice[1])
    assert len(r.json()["results"]) == 102


async def test_empty_list_results_is_array(client, alice):
    r = await client.get("/v2/apps/?limit=100", headers=alice[1])
    assert r.json() == {"count": 0, "next": None, "previous": None, "results": []}
    assert r.content == b'{"count":0,"next":null,"previous":null,"results":[]}'


# --- timestamps ---------------------------------------------------------------------------------------


async def test_timestamps_format(client, alice):
    _, auth = alice
    app = (await client.post("/v2/apps/", json={"id": "stamps"}, headers=auth)).json()
    me = (await client.get("/v2/auth/whoami/", headers=auth)).json()
    for value in (app["created"], app["updated"], me["date_joined"], me["last_login"]):
        assert TIMESTAMP.match(value), value


# --- Authorization header parsing ---------------------------------------------------------------------


async def test_token_keyword_is_case_insensitive(client, alice):
    key = alice[1]["Authorization"].split()[1]
    for keyword in ("token", "Token", "TOKEN", "tOkEn"):
        r = await client.get("/v2/auth/whoami/", headers={"Authorization": f"{keyword} {key}"})
        assert r.status_code == 200, keyword
        assert r.json()["username"] == "alice"


async def test_other_schemes_are_anonymous(client, alice):
    key = alice[1]["Authorization"].split()[1]
    for header in (f"Bearer {key}", f"Basic {key}", key):
        r = await client.get("/v2/auth/whoami/", headers={"Authorization": header})
        assert r.status_code == 401, header
        assert r.json() == NOT_PROVIDED
        assert r.headers["WWW-Authenticate"] == "Token"
    r = await client.get("/v2/", headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 401
    assert r.json() == NOT_PROVIDED


async def test_token_without_key(client):
    for header in ("token", "Token"):
        r = await client.get("/v2/apps/", headers={"Authorization": header})
        assert r.status_code == 401
        assert r.json() == {"detail": "Invalid token header. No credentials provided."}
        assert r.headers["WWW-Authenticate"] == "Token"


async def test_token_with_spaces(client, alice):
    key = alice[1]["Authorization"].split()[1]
    r = await client.get("/v2/apps/", headers={"Authorization": f"token {key} extra"})
    assert r.status_code == 401
    assert r.json() == {"detail": "Invalid token header. Token string should not contain spaces."}


async def test_wrong_token(client, alice):
    for key in ("0" * 40, "nonsense", alice[1]["Authorization"].split()[1][:-1]):
        r = await client.get("/v2/apps/", headers={"Authorization": f"token {key}"})
        assert r.status_code == 401
        assert r.json() == {"detail": "Invalid token."}
        assert r.headers["WWW-Authenticate"] == "Token"
    # also on the discovery route
    r = await client.get("/v2/", headers={"Authorization": "token nope"})
    assert r.status_code == 401
    assert r.json() == {"detail": "Invalid token."}


async def test_inactive_user_token(client, alice, app):
    from workflow.models import User

    async with app.state.ctx.sessions() as session:
        from sqlalchemy import update

        await session.execute(update(User).where(User.username == "alice").values(is_active=False))
        await session.commit()
    r = await client.get("/v2/apps/", headers=alice[1])
    assert r.status_code == 401
    assert r.json() == {"detail": "User inactive or deleted."}


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/v2/apps/"),
    ("POST", "/v2/apps/"),
    ("GET", "/v2/apps/anything/"),
    ("POST", "/v2/apps/anything/"),
    ("DELETE", "/v2/apps/anything/"),
    ("GET", "/v2/auth/whoami/"),
    ("POST", "/v2/auth/passwd/"),
    ("POST", "/v2/auth/tokens/"),
    ("DELETE", "/v2/auth/cancel/"),
    ("GET", "/v2/users/"),
    ("GET", "/v2/admin/perms/"),
    ("POST", "/v2/admin/perms/"),
    ("DELETE", "/v2/admin/perms/someone"),
])
async def test_protected_routes_require_auth(client, admin, method, path):
    r = await client.request(method, path)
    assert r.status_code == 401, r.text
    assert r.json() == NOT_PROVIDED
    assert r.headers["WWW-Authenticate"] == "Token"
    assert_versions(r)


async def test_register_and_login_need_no_auth(client):
    name, auth = await register(client, "first")
    assert (await client.get("/v2/", headers=auth)).status_code == 200
