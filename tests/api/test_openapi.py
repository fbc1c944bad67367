"""The OpenAPI document (issue #6): valid, complete enough for a generator, and true — every response
the main flows produce has its status declared and a body that matches the declared schema."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from tests.conftest import register

NOT_SENT = "HTTPValidationError"  # FastAPI's 422 body: this API answers 400 in the Deis shapes instead


class SchemaChecker:
    """Finds the operation of a response (method + path template, either slash spelling) and checks
    the status is declared and the body matches that status's declared content."""

    def __init__(self, document: dict[str, Any]):
        self.document = document
        self.routes: list[tuple[re.Pattern[str], str]] = []
        for template in document["paths"]:
            parts = re.split(r"\{[^}]+\}", template.rstrip("/"))
            pattern = "[^/]+".join(re.escape(part) for part in parts)
            self.routes.append((re.compile(f"^{pattern}/?$"), template))
        self.checked: set[tuple[str, int | str]] = set()

    def operation(self, method: str, path: str) -> dict[str, Any]:
        for pattern, template in self.routes:
            if pattern.match(path) and method.lower() in self.document["paths"][template]:
                return self.document["paths"][template][method.lower()]
        raise AssertionError(f"{method} {path}: no operation in the schema")

    def __call__(self, response: httpx.Response) -> None:
        request = response.request
        op = self.operation(request.method, request.url.path)
        status = str(response.status_code)
        declared = op["responses"].get(status) or op["responses"].get("default")
        where = f"{request.method} {request.url.path} → {status} ({op['operationId']})"
        assert declared is not None, f"{where}: status not declared"
        self.checked.add((op["operationId"], response.status_code))
        content = declared.get("content")
        body = response.read()
        if not content:
            assert body == b"", f"{where}: declared without content, sent {body[:200]!r}"
            return
        media = response.headers.get("content-type", "").split(";")[0].strip()
        assert media in content, f"{where}: sent {media}, declared {list(content)}"
        if media != "application/json":
            return
        schema = {**content[media]["schema"], "components": self.document["components"]}
        errors = sorted(Draft202012Validator(schema).iter_errors(response.json()), key=str)
        assert not errors, f"{where}: {errors[0].message} in {response.text[:300]}"


@pytest.fixture
def document(app) -> dict[str, Any]:
    return app.openapi()


@pytest.fixture
def checked(client, document) -> SchemaChecker:
    checker = SchemaChecker(document)

    async def hook(response: httpx.Response) -> None:
        await response.aread()
        checker(response)

    client.event_hooks["response"].append(hook)
    return checker


def operations(document: dict[str, Any]):
    for path, ops in document["paths"].items():
        for method, op in ops.items():
            yield path, method, op


class TestDocument:
    def test_valid_openapi(self, document):
        validate(document)

    async def test_served_document_is_the_same(self, client, document):
        r = await client.get("/openapi.json")
        assert r.status_code == 200
        assert r.json() == document

    def test_operation_ids_are_unique_and_stable(self, document):
        ids = [op["operationId"] for _path, _method, op in operations(document)]
        assert len(ids) == len(set(ids))
        for expected in ("auth_register", "auth_login", "auth_whoami", "apps_list", "apps_create", "apps_get",
                         "apps_destroy", "apps_logs", "apps_scale", "builds_create", "config_get", "config_set",
                         "releases_list", "releases_rollback", "pods_list", "domains_create", "healthz"):
            assert expected in ids

    def test_every_operation_tagged_and_summarised(self, document):
        for path, method, op in operations(document):
            assert op.get("tags"), (method, path)
            assert op.get("summary"), (method, path)

    def test_token_scheme_declared_and_referenced(self, document):
        schemes = document["components"]["securitySchemes"]
        [(name, scheme)] = [(n, s) for n, s in schemes.items() if s.get("in") == "header"]
        assert scheme["type"] == "apiKey" and scheme["name"] == "Authorization"
        for path, method, op in operations(document):
            if path.startswith("/v2/"):
                assert {name: []} in op.get("security", []), (method, path)
            else:
                assert "security" not in op, (method, path)

    def test_error_shapes_declared_and_no_422_validation_body(self, document):
        assert NOT_SENT not in document["components"]["schemas"]
        schemas = document["components"]["schemas"]
        assert schemas["ErrorDetail"]["required"] == ["detail"]
        assert schemas["FieldErrors"]["additionalProperties"] == {"type": "array", "items": {"type": "string"}}
        assert schemas["NotFoundMessage"]["type"] == "string"
        for path, method, op in operations(document):
            if not path.startswith("/v2/"):
                continue
            for status in ("400", "401", "403", "404", "default"):
                assert "application/json" in op["responses"][status]["content"], (method, path, status)
            assert "422" not in op["responses"], (method, path)

    def test_paginated_lists_declare_limit_and_offset(self, document):
        paginated = [(path, op) for path, method, op in operations(document)
                     if method == "get" and "Page" in json.dumps(op["responses"]["200"])]
        assert {"/v2/apps/", "/v2/apps/{id}/releases/", "/v2/users/", "/v2/certs/"} <= {p for p, _ in paginated}
        for path, op in paginated:
            names = [p["name"] for p in op.get("parameters", []) if p["in"] == "query"]
            assert names.count("limit") == 1 and names.count("offset") == 1, path

    def test_non_json_answers_declared_as_such(self, document):
        paths = document["paths"]
        assert list(paths["/v2/apps/{id}/logs"]["get"]["responses"]["200"]["content"]) == ["text/plain"]
        assert "content" not in paths["/v2/apps/{id}/logs"]["get"]["responses"]["204"]
        assert list(paths["/healthz"]["get"]["responses"]["200"]["content"]) == ["text/plain"]
        for path, method, status in (("/v2/apps/{id}/", "delete", "204"), ("/v2/apps/{id}/scale/", "post", "204"),
                                     ("/v2/apps/{id}/", "post", "200"), ("/v2/admin/perms/", "post", "201")):
            assert "content" not in paths[path][method]["responses"][status], (method, path)


class TestResponsesMatchTheSchema:
    """The main flows without the engine (API-only settings), every response checked by the hook."""

    async def test_auth_flow(self, client, checked):
        r = await client.get("/v2/")
        assert r.status_code == 401
        user, auth = await register(client, "admin")
        assert (await client.get("/v2/", headers=auth)).status_code == 200
        assert (await client.get("/v2/auth/whoami/", headers=auth)).status_code == 200
        r = await client.post("/v2/auth/register/", json={"username": user, "password": "x"})
        assert r.status_code == 400  # field errors
        assert (await client.post("/v2/auth/passwd/", json={"password": "secret", "new_password": "n"},
                                  headers=auth)).status_code == 200
        assert (await client.get("/v2/users/", headers=auth)).status_code == 200
        assert (await client.get("/v2/admin/perms/", headers=auth)).status_code == 200
        _bob, bob_auth = await register(client, "bob")
        assert (await client.get("/v2/users/", headers=bob_auth)).status_code == 403
        assert (await client.post("/v2/admin/perms/", json={"username": "bob"}, headers=auth)).status_code == 201
        assert (await client.delete("/v2/admin/perms/bob", headers=auth)).status_code == 204
        assert (await client.post("/v2/auth/tokens/", headers=bob_auth)).status_code == 200
        assert (await client.get("/v2/auth/whoami/", headers={"Authorization": "token nope"})).status_code == 401
        assert (await client.post("/v2/auth/tokens/", json={"all": True}, headers=auth)).status_code == 200
        assert ("auth_tokens", 200) in checked.checked

    async def test_app_flow(self, client, checked):
        _admin, auth = await register(client, "admin")
        await register(client, "bob")
        r = await client.post("/v2/apps/", json={"id": "schema-app"}, headers=auth)
        assert r.status_code == 201
        assert (await client.post("/v2/apps/", json={"id": "schema-app"}, headers=auth)).status_code == 400
        assert (await client.post("/v2/apps/", content=b"{oops", headers={**auth, "Content-Type":
                                                                               "application/json"})).status_code == 400
        assert (await client.get("/v2/apps/", headers=auth)).status_code == 200
        assert (await client.get("/v2/apps/schema-app", headers=auth)).status_code == 200
        assert (await client.get("/v2/apps/nope/", headers=auth)).status_code == 404  # bare string
        assert (await client.get("/v2/apps/schema-app/config/", headers=auth)).status_code == 200
        r = await client.post("/v2/apps/schema-app/config/", json={"values": {"A": "1"}}, headers=auth)
        assert r.status_code == 201, r.text
        assert (await client.get("/v2/apps/schema-app/releases/", headers=auth)).status_code == 200
        assert (await client.get("/v2/apps/schema-app/releases/v1/", headers=auth)).status_code == 200
        assert (await client.get("/v2/apps/schema-app/releases/v99/", headers=auth)).status_code == 404
        assert (await client.get("/v2/apps/schema-app/builds/", headers=auth)).status_code == 200
        assert (await client.post("/v2/apps/schema-app/builds/", json={}, headers=auth)).status_code == 400
        r = await client.post("/v2/apps/schema-app/domains/", json={"domain": "schema.example.com"}, headers=auth)
        assert r.status_code == 201, r.text
        assert (await client.get("/v2/apps/schema-app/domains/", headers=auth)).status_code == 200
        assert (await client.delete("/v2/apps/schema-app/domains/schema.example.com", headers=auth)).status_code == 204
        assert (await client.get("/v2/apps/schema-app/settings/", headers=auth)).status_code == 200
        assert (await client.get("/v2/apps/schema-app/tls/", headers=auth)).status_code == 200
        assert (await client.post("/v2/apps/schema-app/", json={"owner": "bob"}, headers=auth)).status_code == 200
        assert (await client.delete("/v2/apps/schema-app/", headers=auth)).status_code == 204
        assert {("apps_get", 404), ("apps_create", 400), ("apps_transfer", 200)} <= checked.checked

    async def test_health(self, client, checked):
        assert (await client.get("/healthz")).status_code == 200
        assert (await client.get("/readiness")).status_code == 200


class TestDocsPagesOffline:
    """Swagger UI and ReDoc load only files this server serves (the browser test drives them)."""

    @pytest.mark.parametrize("page", ["/docs", "/redoc"])
    async def test_page_loads_only_local_assets(self, client, page):
        r = await client.get(page)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
        urls = re.findall(r"""(?:src|href)=["']([^"']+)["']""", r.text)
        urls += re.findall(r"""url:\s*['"]([^'"]+)['"]""", r.text)
        assert urls and all(u.startswith("/") for u in urls), urls
        for url in urls:
            asset = await client.get(url)
            assert asset.status_code == 200, url
            assert len(asset.content) > 100, url

    async def test_docs_not_in_schema(self, document):
        assert not any(p.startswith(("/docs", "/redoc", "/static")) for p in document["paths"])
