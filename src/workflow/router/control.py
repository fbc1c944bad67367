"""The controller's side of the control endpoint (lua/workflow_control.lua): HTTP/1.1 over the local router's
unix socket, or over TCP with a bearer token to a router instance in another container (multi-host).

A few kept-alive connections, one request at a time on each; a connection that fails is dropped and the call
tried once more on a new one (every call is idempotent: a write carries its version).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import os

from workflow.router.table import RouterError

# A router instance adds this header to the API requests it forwards to the controller (deploy/stack.yml): the
# controller shares the apps' overlay network, so a tenant's task could call it directly, and only this shows
# that X-Real-IP is a router's word (the client address the login throttle counts), not the caller's.
API_PROOF_HEADER = "X-Workflow-Router"


def api_proof(token: str) -> str:
    """The header's value: derived from the control token, which it does not reveal (it sits in nginx.conf)."""
    return hmac.new(token.encode(), b"workflow router: a forwarded API request", hashlib.sha256).hexdigest()


class ControlClient:
    """`path`: a unix socket; or `address` (host, port) with `token` (the TCP endpoint refuses calls without)."""

    def __init__(self, path: str | os.PathLike[str] | None = None, timeout: float = 10.0, pool: int = 4, *,
                 address: tuple[str, int] | None = None, token: str | None = None,
                 connect_timeout: float | None = None):
        if (path is None) == (address is None):
            raise ValueError("a control endpoint is a unix socket path or a TCP address")
        self.path = os.fspath(path) if path is not None else None
        self.address = address
        self.timeout = timeout
        self.connect_timeout = timeout if connect_timeout is None else connect_timeout
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self._pool = pool
        self._auth = f"Authorization: Bearer {token}\r\n" if token else ""

    def __str__(self) -> str:
        return self.path if self.path is not None else f"{self.address[0]}:{self.address[1]}"

    def _connect(self):
        if self.path is not None:
            return asyncio.open_unix_connection(self.path)
        return asyncio.open_connection(*self.address)

    async def call(self, method: str, path: str, body: object = None) -> object:
        """The decoded JSON answer of a 200; `RouterError` otherwise."""
        data = b"" if body is None else json.dumps(body, separators=(",", ":")).encode()
        request = (f"{method} {path} HTTP/1.1\r\nHost: control\r\nContent-Length: {len(data)}\r\n"
                   f"Content-Type: application/json\r\n{self._auth}\r\n").encode() + data
        for attempt in (1, 2):
            conn = self._idle.pop() if self._idle else None
            fresh = conn is None
            try:
                if conn is None:
                    conn = await asyncio.wait_for(self._connect(), self.connect_timeout)
                status, payload = await asyncio.wait_for(self._exchange(conn, request), self.timeout)
            except (OSError, EOFError, TimeoutError, asyncio.IncompleteReadError, ValueError) as exc:
                if conn is not None:
                    conn[1].close()
                if fresh or attempt == 2:
                    raise RouterError(f"The router's control endpoint {self} did not answer: "
                                      f"{exc or type(exc).__name__}") from exc
                continue  # a kept-alive connection nginx had closed: once more on a new one
            if len(self._idle) < self._pool:
                self._idle.append(conn)
            else:
                conn[1].close()
            answer = json.loads(payload) if payload else None
            if status != 200:
                raise RouterError(f"The router refused {method} {path}: {answer}")
            return answer
        raise AssertionError("unreachable")

    @staticmethod
    async def _exchange(conn, request: bytes) -> tuple[int, bytes]:
        reader, writer = conn
        writer.write(request)
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        length = None
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
        if length is None:
            raise ValueError("no Content-Length in the control answer")
        return status, await reader.readexactly(length)

    async def ping(self) -> bool:
        try:
            return await self.call("GET", "/ping") == "ok"
        except RouterError:
            return False

    async def boot(self) -> str:
        """The id of the router's shared memory: another one means a new nginx, with no routes."""
        return await self.call("GET", "/boot")  # type: ignore[return-value]

    async def ready(self) -> None:
        """Tell the router it holds the whole table: an unknown host is a 404 from now on (before: 503)."""
        await self.call("PUT", "/ready")

    async def write(self, items: list[dict]) -> dict[str, str]:
        """[{app, version, route: JSON text | None}] → {app: "ok" | reason}."""
        return await self.call("PUT", "/apps", items)  # type: ignore[return-value]

    async def routes(self) -> dict[str, str]:
        return await self.call("GET", "/apps")  # type: ignore[return-value]

    async def inflight(self, upstreams: list[str]) -> dict[str, int]:
        return await self.call("POST", "/inflight", upstreams)  # type: ignore[return-value]

    async def stats(self) -> dict:
        return await self.call("GET", "/stats")  # type: ignore[return-value]

    def close(self) -> None:
        while self._idle:
            _, writer = self._idle.pop()
            with contextlib.suppress(Exception):
                writer.close()
