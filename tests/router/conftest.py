"""Real nginx on free ports, a stand-in API on a unix socket and stand-in app containers on loopback."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from workflow.router import NginxRouter, RouteTable


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class EchoServer:
    """A minimal HTTP server answering JSON `{"server": name, "path", "headers"}` and counting requests."""

    def __init__(self, name: str):
        self.name = name
        self.requests = 0
        self.server: asyncio.Server | None = None
        self.address = ""

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            writer.close()
            return
        lines = head.decode("latin-1").split("\r\n")
        method, path, _ = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                key, value = line.split(":", 1)
                headers[key.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        if length:
            await reader.readexactly(length)
        self.requests += 1
        body = json.dumps({"server": self.name, "method": method, "path": path, "headers": headers}).encode()
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        try:
            await writer.drain()
        finally:
            writer.close()

    async def start_tcp(self) -> EchoServer:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        self.address = f"127.0.0.1:{port}"
        return self

    async def start_unix(self, path: Path) -> EchoServer:
        self.server = await asyncio.start_unix_server(self._handle, str(path))
        self.address = str(path)
        return self

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


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
        params = {
            "data_dir": tmp_path / "data",
            "listen_port": free_port(),
            "tls_port": free_port(),
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
