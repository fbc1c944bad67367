"""Real nginx on free ports, a stand-in API on a unix socket and stand-in app containers on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from workflow.router import NginxRouter, RouteTable

from .helpers import EchoServer, free_port


@pytest.fixture
async def api_server(tmp_path: Path) -> AsyncIterator[EchoServer]:
    server = await EchoServer("api").start_unix(tmp_path / "api.sock")
    yield server
    await server.close()


@pytest.fixture
async def app_servers() -> AsyncIterator[list[EchoServer]]:
    servers = [await EchoServer(f"app{i}").start_tcp() for i in range(2)]
    yield servers
    for server in servers:
        await server.close()


@pytest.fixture
async def make_router(tmp_path: Path, api_server: EchoServer):
    """Builds NginxRouters on free ports under tmp_path; stops every one at teardown."""
    routers: list[NginxRouter] = []

    def make(**kwargs) -> NginxRouter:
        listen_port = free_port()
        tls_port = free_port()
        while tls_port == listen_port:  # two looks at free ports may find the same one (seen in CI)
            tls_port = free_port()
        params = {
            "data_dir": tmp_path / "data",
            "listen_port": listen_port,
            "tls_port": tls_port,
            "api_socket_path": api_server.address,
            "api_hosts": ["deis.example.test"],
        }
        params.update(kwargs)
        router = NginxRouter(**params)
        routers.append(router)
        return router

    yield make
    for router in routers:
        await router.stop()


@pytest.fixture
async def router(make_router) -> NginxRouter:
    router = make_router()
    await router.start(RouteTable())
    return router


@pytest.fixture
async def client(router: NginxRouter) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{router.listen_port}", trust_env=False, timeout=10
    ) as client:
        yield client
