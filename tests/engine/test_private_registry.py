"""Private registry credentials per app (config `registry`), end to end: checked against the real registry
with htpasswd auth on 127.0.0.1:5001 (scripts/start-services.sh --test) when set, used by the engine's pulls,
encrypted at rest, never in logs.

The registry holds `test/private-web` (a copy of test/web, pushed by scripts/build-test-images.sh); the
local copy is removed before each pull that matters, so the engine really asks the registry."""

from __future__ import annotations

import logging
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text

from .conftest import app_name, host_of

pytestmark = pytest.mark.engine

CREDENTIALS = Path("/var/lib/workflow-test/private-registry/credentials.env")


@dataclass(frozen=True)
class Registry:
    host: str
    username: str
    password: str

    @property
    def image(self) -> str:
        return f"{self.host}/test/private-web:latest"


@pytest.fixture(scope="session")
def registry(test_images) -> Registry:
    if not CREDENTIALS.exists():
        pytest.fail(f"{CREDENTIALS} is missing: run scripts/start-services.sh --test (make test does)")
    env = dict(line.split("=", 1) for line in CREDENTIALS.read_text().splitlines() if "=" in line)
    return Registry(env["PRIVATE_REGISTRY"], env["PRIVATE_REGISTRY_USER"], env["PRIVATE_REGISTRY_PASSWORD"])


def forget_local_copy(image: str) -> None:
    """Untag the engine's copy so the next pull goes to the registry (test/web keeps the layers)."""
    subprocess.run(["docker", "rmi", image], capture_output=True)
    probe = subprocess.run(["docker", "image", "inspect", image], capture_output=True)
    assert probe.returncode != 0, f"{image} is still in the engine"


async def new_app(api, auth) -> str:
    name = app_name()
    assert (await api.post("/v2/apps/", json={"id": name}, headers=auth)).status_code == 201
    return name


async def versions(api, auth, name) -> list[int]:
    r = await api.get(f"/v2/apps/{name}/releases/", headers=auth)
    return [rel["version"] for rel in r.json()["results"]]


async def stored_registry_rows(platform) -> list[str]:
    async with platform.state.ctx.sessions() as session:
        return [str(row[0]) for row in (await session.execute(text("SELECT registry FROM configs"))).all()]


async def test_pull_without_credentials_is_refused_naming_the_image(api, owner, registry):
    name = await new_app(api, owner)
    forget_local_copy(registry.image)
    r = await api.post(f"/v2/apps/{name}/builds/", json={"image": registry.image}, headers=owner)
    assert r.status_code == 400, r.text
    detail = r.json()["detail"]
    assert detail.startswith(f"Image {registry.image} could not be pulled: ")
    assert "no basic auth credentials" in detail and "deis registry:set" in detail
    assert await versions(api, owner, name) == [1]
    assert (await api.get(f"/v2/apps/{name}/builds/", headers=owner)).json()["count"] == 0


async def test_registry_needs_port(api, owner, registry):
    name = await new_app(api, owner)
    body = {"registry": {"username": registry.username, "password": registry.password}}
    r = await api.post(f"/v2/apps/{name}/config/", json=body, headers=owner)
    assert r.status_code == 400
    assert r.json() == {"detail": "PORT needs to be set in the config when using a private registry"}


async def test_credentials_checked_at_set_time_then_used_by_pulls(
        api, owner, registry, platform, router_client, engine_settings, caplog):
    caplog.set_level(logging.DEBUG)
    wrong = f"wrong-{uuid.uuid4().hex}"
    name = await new_app(api, owner)
    config_url = f"/v2/apps/{name}/config/"
    assert (await api.post(config_url, json={"values": {"PORT": "8080"}}, headers=owner)).status_code == 201

    # A wrong password is refused by the registry when set: 400 with its reason, nothing stored.
    body = {"registry": {"Username": registry.username, "Password": wrong, "Hostname": registry.host}}
    r = await api.post(config_url, json=body, headers=owner)
    assert r.status_code == 400, r.text
    assert "401 Unauthorized" in r.json()["detail"] and wrong not in r.json()["detail"]
    assert await versions(api, owner, name) == [2, 1]
    assert (await api.get(config_url, headers=owner)).json()["registry"] == {}

    # The right ones are accepted (keys lower-cased; the password echoed as upstream does) ...
    body["registry"]["Password"] = registry.password
    r = await api.post(config_url, json=body, headers=owner)
    assert r.status_code == 201, r.text
    expected = {"username": registry.username, "password": registry.password, "hostname": registry.host}
    assert r.json()["registry"] == expected
    assert await versions(api, owner, name) == [3, 2, 1]

    # ... and the engine pulls the image with them; the app serves through the router.
    forget_local_copy(registry.image)
    r = await api.post(f"/v2/apps/{name}/builds/", json={"image": registry.image}, headers=owner)
    assert r.status_code == 201, r.text
    page = await router_client.get("/", headers=host_of(name, engine_settings))
    assert page.status_code == 200 and "Powered by Workflow" in page.text

    # Scaling pulls again when the engine lost the image: with the credentials too.
    forget_local_copy(registry.image)
    r = await api.post(f"/v2/apps/{name}/scale/", json={"cmd": 2}, headers=owner)
    assert r.status_code == 204, r.text
    assert len(await platform.state.ctx.scheduler.list(app=name)) == 2

    # At rest the password is encrypted; the API echoes it.
    rows = await stored_registry_rows(platform)
    assert any(registry.username in row for row in rows)
    assert not any(registry.password in row or wrong in row for row in rows)
    assert (await api.get(config_url, headers=owner)).json()["registry"] == expected

    # Without a hostname the registry of the current build's image is asked: still refused, nothing changes.
    r = await api.post(config_url, json={"registry": {"hostname": None, "password": wrong}}, headers=owner)
    assert r.status_code == 400, r.text
    assert f"http://{registry.host}/v2/" in r.json()["detail"]
    assert await versions(api, owner, name) == [4, 3, 2, 1]
    page = await router_client.get("/", headers=host_of(name, engine_settings))
    assert page.status_code == 200

    logs = (await api.get(f"/v2/apps/{name}/logs?log_lines=200", headers=owner)).text
    for secret in (registry.password, wrong):
        assert secret not in logs
        assert secret not in caplog.text
