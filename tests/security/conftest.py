# ruff: noqa: F811  (the engine fixtures are imported by name, then requested by name)
"""Hostile-tenant tests (issue 18): each attack through the HTTP API on the real engine and the platform's
nginx, asserting the clear 4xx and that another tenant's app still serves and still accepts a routing
change afterwards. The engine fixtures are the ones of tests/engine."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
import uvicorn

from tests.conftest import register
from tests.engine.conftest import (  # noqa: F401  (fixtures)
    api,
    app_name,
    deployed_app,
    engine_settings,
    host_of,
    network,
    owner,
    platform,
    router_client,
    test_images,
)


@pytest.fixture
async def mallory(api, owner) -> dict[str, str]:
    """The hostile tenant: an ordinary signed-in user (`owner` registered first is the administrator)."""
    _, auth = await register(api, "mallory")
    return auth


@pytest.fixture
async def victim(api, owner) -> tuple[dict[str, str], str]:
    """Another tenant's deployed app: (its owner's auth headers, app id)."""
    return owner, await deployed_app(api, owner)


async def assert_tenant_unharmed(api: httpx.AsyncClient, router_client: httpx.AsyncClient, settings,
                                 victim: tuple[dict[str, str], str]) -> None:
    """The victim's app serves through nginx, and a routing change (maintenance on, then off) is applied."""
    auth, app_id = victim
    host = host_of(app_id, settings)
    page = await router_client.get("/", headers=host)
    assert page.status_code == 200 and "Powered by Workflow" in page.text, page.text
    for on, status in ((True, 503), (False, 200)):
        r = await api.post(f"/v2/apps/{app_id}/settings/", json={"maintenance": on}, headers=auth)
        assert r.status_code == 201, r.text
        assert (await router_client.get("/", headers=host)).status_code == status


@pytest.fixture
async def served(platform, engine_settings) -> AsyncIterator[None]:
    """The platform's API also on its unix socket (as `workflow serve` runs it), so requests to the API
    hosts go through the platform's nginx: real HTTP, streaming, the client address nginx passes on."""
    config = uvicorn.Config(platform, uds=str(engine_settings.socket_path), lifespan="off", log_level="warning",
                            proxy_headers=True, forwarded_allow_ips="*", timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(500):
        if server.started:
            break
        await asyncio.sleep(0.01)
    yield
    server.should_exit = True
    await task


def api_host(settings) -> dict[str, str]:
    return {"Host": f"deis.{settings.domain}"}


# --- two ordinary tenants (tenant-routing's tests) --------------------------------------------------------------

@dataclass
class Tenant:
    username: str
    auth: dict[str, str]
    app: str | None = None


@pytest.fixture
async def tenants(api) -> tuple[Tenant, Tenant]:
    """(mallory, victim): two ordinary users (an operator registered first is the administrator); the
    victim has a deployed app."""
    await register(api, "operator")
    mallory = Tenant(*await register(api, "mallory"))
    victim = Tenant(*await register(api, "victim"))
    victim.app = await deployed_app(api, victim.auth)
    return mallory, victim


def assert_deis_error(response: httpx.Response, status: int, *fields: str) -> dict:
    """A clear 4xx in the Deis shapes: `{"detail": ...}` or `{"<field>": ["msg", ...]}`."""
    assert response.status_code == status, response.text
    body = response.json()
    assert isinstance(body, dict) and body, body
    if fields:
        for name in fields:
            assert isinstance(body.get(name), list) and all(isinstance(m, str) and m for m in body[name]), body
    else:
        assert isinstance(body.get("detail"), str) and body["detail"], body
    return body


async def assert_unharmed(api: httpx.AsyncClient, router_client: httpx.AsyncClient, settings, victim: Tenant) -> None:
    """The victim's app serves through the router and takes a routing change (a new custom domain) live."""
    r = await router_client.get("/", headers=host_of(victim.app, settings))
    assert r.status_code == 200, r.text
    domain = f"d{uuid.uuid4().hex[:8]}.{victim.app}.example.org"
    r = await api.post(f"/v2/apps/{victim.app}/domains/", json={"domain": domain}, headers=victim.auth)
    assert r.status_code == 201, r.text
    assert (await router_client.get("/", headers={"Host": domain})).status_code == 200
