"""Engine fixtures: the real Docker engine, the local registry's test images, the platform's own nginx
on free ports, and the API through ASGITransport."""

from __future__ import annotations

import os
import socket
import subprocess
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT, register, truncate_all
from workflow.config import Settings
from workflow.main import create_app

pytestmark = pytest.mark.engine


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def test_images() -> None:
    subprocess.run(["bash", str(ROOT / "scripts" / "build-test-images.sh")], check=True)


@pytest.fixture(scope="session")
def network() -> str:
    """One platform network per test session: the reconciler of one session must not see another's."""
    name = f"workflow-test-{os.getpid()}"
    yield name
    subprocess.run(["docker", "network", "rm", name], capture_output=True)


@pytest.fixture
def engine_settings(database_url, tmp_path: Path, test_images, network) -> Settings:
    return Settings(data_dir=tmp_path, database_url=database_url, secret_key="test-secret",
                    registration_mode="enabled", port=free_port(), tls_port=free_port(),
                    docker_network=network, deploy_timeout=8, stop_grace_seconds=2,
                    reconcile_interval=1.0)


@pytest.fixture
async def platform(engine_settings) -> AsyncIterator:
    application = create_app(engine_settings)
    async with application.router.lifespan_context(application):
        try:
            yield application
        finally:
            ctx = application.state.ctx
            # Stopped first: they would start replacements for the containers removed here, and a start
            # cut short by the shutdown leaves a container behind.
            for worker in (ctx.autoscaler, ctx.health, ctx.reconciler):
                await worker.stop()
            await ctx.scheduler.remove(await ctx.scheduler.list(), grace_seconds=0)
            await truncate_all(application)


@pytest.fixture
async def api(platform) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=platform), base_url="http://testserver",
                                 timeout=120) as c:
        yield c


@pytest.fixture
async def owner(api) -> dict[str, str]:
    _, auth = await register(api, "owner")
    return auth


@pytest.fixture
async def router_client(engine_settings) -> AsyncIterator[httpx.AsyncClient]:
    """Talks to the platform's nginx; set the Host header to reach an app."""
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{engine_settings.port}", timeout=10) as c:
        yield c


def app_name() -> str:
    return f"t{uuid.uuid4().hex[:8]}"


def host_of(app_id: str, settings: Settings) -> dict[str, str]:
    return {"Host": f"{app_id}.{settings.domain}"}


async def deployed_app(api: httpx.AsyncClient, auth: dict[str, str], image: str = "test/web:latest") -> str:
    """A new app with `image` deployed (release v2); returns its id."""
    name = app_name()
    assert (await api.post("/v2/apps/", json={"id": name}, headers=auth)).status_code == 201
    r = await api.post(f"/v2/apps/{name}/builds/", json={"image": image}, headers=auth)
    assert r.status_code == 201, r.text
    return name
