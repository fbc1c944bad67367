"""Item 3: request bodies are bounded (1 MiB by default) before anything parses or authenticates them,
both at the platform's nginx and in the controller itself: 413 in the Deis error shape."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from workflow.config import Settings
from workflow.main import create_app

from .conftest import assert_tenant_unharmed

pytestmark = pytest.mark.engine

MIB = 1024 * 1024
DETAIL = f"Request body is too large: at most {MIB} bytes are accepted."


def big_login(size: int) -> bytes:
    return json.dumps({"username": "x" * size, "password": "p"}).encode()


async def raw_chunked_post(port: int, path: str, body: bytes, chunk: int = 64 * 1024) -> tuple[int, bytes]:
    """POST with Transfer-Encoding: chunked (no Content-Length to refuse up front); status and body."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(f"POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                     "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n".encode())
        try:
            for start in range(0, len(body), chunk):
                part = body[start:start + chunk]
                writer.write(b"%x\r\n%s\r\n" % (len(part), part))
                await writer.drain()
            writer.write(b"0\r\n\r\n")
            await writer.drain()
        except ConnectionError:
            pass  # refused half-way: the answer is already there
        answer = await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()
    head, _, payload = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), payload


async def test_oversized_anonymous_bodies_are_413_at_the_router(api, router_client, engine_settings, victim):
    # Declared by Content-Length: refused by nginx before the controller reads a byte.
    r = await router_client.post("/v2/auth/login/", content=big_login(2 * MIB),
                                 headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    assert r.json() == {"detail": DETAIL}
    assert r.headers["DEIS_API_VERSION"] == "2.3"
    # Chunked, so nginx only knows once the limit is crossed.
    status, payload = await raw_chunked_post(engine_settings.port, "/v2/apps/", big_login(3 * MIB))
    assert status == 413
    assert json.loads(payload) == {"detail": DETAIL}
    await assert_tenant_unharmed(api, router_client, engine_settings, victim)


async def test_oversized_bodies_are_413_in_the_controller_before_authentication(api, victim, router_client,
                                                                              engine_settings):
    auth, app_id = victim
    # A valid token does not get a bigger body through; no token does not get a 401 first.
    for headers in (auth, {"Authorization": "token not-a-token"}):
        r = await api.post(f"/v2/apps/{app_id}/config/", content=json.dumps({"values": {"A": "x" * (2 * MIB)}}),
                           headers={**headers, "Content-Type": "application/json"})
        assert r.status_code == 413, r.text
        assert r.json() == {"detail": DETAIL}

    async def chunks():  # no Content-Length: counted as it arrives
        for _ in range(40):
            yield b" " * (64 * 1024)

    r = await api.post("/v2/auth/login/", content=chunks(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and r.json() == {"detail": DETAIL}
    # Just under the limit is still parsed: bad credentials, not a size refusal.
    r = await api.post("/v2/auth/login/", content=big_login(MIB - 100), headers={"Content-Type": "application/json"})
    assert r.status_code == 400, r.text
    r = await api.get(f"/v2/apps/{app_id}/config/", headers=auth)
    assert r.status_code == 200 and "A" not in r.json()["values"]
    await assert_tenant_unharmed(api, router_client, engine_settings, victim)


async def test_the_limit_is_configurable(database_url, tmp_path):
    settings = Settings(data_dir=tmp_path, database_url=database_url, secret_key="test-secret",
                        router_enabled=False, scheduler_enabled=False, max_body_bytes=4096)
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=application),
                                     base_url="http://testserver") as client:
            r = await client.post("/v2/auth/login/", json={"username": "u" * 5000, "password": "p"})
            assert r.status_code == 413
            assert r.json() == {"detail": "Request body is too large: at most 4096 bytes are accepted."}
            r = await client.post("/v2/auth/login/", json={"username": "u" * 3000, "password": "p"})
            assert r.status_code == 400
