"""A Python client generated at test time (openapi-python-client) from the live server's `/openapi.json`
drives the main flow — register, create, pull, scale, config, destroy — with every raw response also
checked against the schema. Nothing generated is committed."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys

import httpx
import pytest

from tests.api.test_openapi import SchemaChecker

from .conftest import BIN, engine_containers

pytestmark = pytest.mark.e2e
PACKAGE = "workflow_generated_client"


@pytest.fixture
def generated(server, tmp_path):
    """Generates the client from the served schema and imports it; unloads it afterwards."""
    served = httpx.get(f"{server.url}/openapi.json")
    assert served.status_code == 200
    spec = tmp_path / "openapi.json"
    spec.write_bytes(served.content)
    config = tmp_path / "generator.yaml"
    config.write_text("post_hooks: []\n")  # no formatter runs: faster, and nothing outside the venv
    out = tmp_path / "generated"
    result = subprocess.run([str(BIN / "openapi-python-client"), "generate", "--path", str(spec), "--meta", "none",
                             "--config", str(config), "--output-path", str(out / PACKAGE)],
                            capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Warning" not in result.stdout, result.stdout  # every part of the schema was understood
    sys.path.insert(0, str(out))
    try:
        yield Generated(importlib.import_module(PACKAGE), served.json())
    finally:
        sys.path.remove(str(out))
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(PACKAGE + ".")]:
            del sys.modules[name]


class Generated:
    def __init__(self, package, document: dict):
        self.package = package
        self.document = document
        self.models = importlib.import_module(f"{PACKAGE}.models")

    def op(self, tag: str, operation_id: str):
        return importlib.import_module(f"{PACKAGE}.api.{tag}.{operation_id}")


def test_generated_client_drives_the_main_flow(server, generated: Generated):
    g, m = generated, generated.models
    checker = SchemaChecker(g.document)
    hooks = {"event_hooks": {"response": [checker]}}
    anonymous = g.package.Client(base_url=server.url, raise_on_unexpected_status=True, httpx_args=hooks)

    # register and login need no token (the generated signatures ask for one because they accept it)
    r = g.op("auth", "auth_register").sync_detailed(
        client=anonymous, body=m.RegisterIn.from_dict({"username": "gen", "password": "secret",
                                                      "email": "gen@example.com"}))
    assert r.status_code == 201 and isinstance(r.parsed, m.UserOut) and r.parsed.is_superuser
    token = g.op("auth", "auth_login").sync(client=anonymous, body=m.LoginIn.from_dict(
        {"username": "gen", "password": "secret"}))
    assert isinstance(token, m.TokenOut)

    client = g.package.AuthenticatedClient(base_url=server.url, token=token.token, prefix="token",
                                           raise_on_unexpected_status=True, httpx_args=hooks)
    assert g.op("auth", "auth_whoami").sync(client=client).username == "gen"

    app = g.op("apps", "apps_create").sync(client=client, body=m.AppCreateIn.from_dict({"id": "gen-app"}))
    assert isinstance(app, m.AppOut) and app.id == "gen-app"

    build = g.op("builds", "builds_create").sync(id="gen-app", client=client,
                                                 body=m.BuildIn.from_dict({"image": "test/web:latest"}))
    assert isinstance(build, m.BuildOut) and build.image == "test/web:latest"
    assert httpx.get(f"{server.url}/", headers={"Host": "gen-app.localhost"}).status_code == 200

    pods = g.op("pods", "pods_list").sync(id="gen-app", client=client)
    assert isinstance(pods, m.PodList) and pods.count == 1
    proc_type = pods.results[0].type_  # `type` is renamed by the generator

    r = g.op("pods", "apps_scale").sync_detailed(id="gen-app", client=client,
                                                 body=m.AppsScaleBodyType0.from_dict({proc_type: 2}))
    assert r.status_code == 204
    pods = g.op("pods", "pods_list").sync(id="gen-app", client=client)
    assert pods.count == 2 and {p.state for p in pods.results} == {"up"}
    assert len(engine_containers(server.env["WORKFLOW_DOCKER_NETWORK"], "gen-app")) == 2

    scraped = httpx.get(f"{server.url}/metrics", headers={"Authorization": f"token {token.token}"}).text
    assert re.search(r'^workflow_deploy_duration_seconds_count\{outcome="ok"\} [1-9]', scraped, re.M), scraped
    assert re.search(r'^workflow_scale_duration_seconds_count\{outcome="ok"\} [1-9]', scraped, re.M)
    assert re.search(r'^workflow_containers\{app="gen-app",state="up"\} 2\.0$', scraped, re.M)

    config = g.op("config", "config_set").sync(id="gen-app", client=client,
                                               body=m.ConfigIn.from_dict({"values": {"GREETING": "hi"}}))
    assert isinstance(config, m.ConfigOut) and config.values.to_dict() == {"GREETING": "hi"}
    releases = g.op("releases", "releases_list").sync(id="gen-app", client=client)
    assert isinstance(releases, m.PageReleaseOut)
    assert [r.version for r in releases.results] == [3, 2, 1] and releases.count == 3

    missing = g.op("apps", "apps_get").sync_detailed(id="no-such-app", client=client)
    assert missing.status_code == 404 and missing.parsed == "No App matches the given query."
    unauthorised = g.op("apps", "apps_list").sync_detailed(client=g.package.AuthenticatedClient(
        base_url=server.url, token="0" * 40, prefix="token", httpx_args=hooks))
    assert unauthorised.status_code == 401 and unauthorised.parsed.detail == "Invalid token."

    assert g.op("apps", "apps_destroy").sync_detailed(id="gen-app", client=client).status_code == 204
    assert engine_containers(server.env["WORKFLOW_DOCKER_NETWORK"], "gen-app") == []
    assert g.op("apps", "apps_list").sync(client=client).count == 0
    assert {"apps_create", "builds_create", "apps_scale", "config_set", "apps_destroy"} <= {
        op for op, _status in checker.checked}

