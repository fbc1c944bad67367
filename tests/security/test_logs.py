"""Item 8: logs and run output are bounded — `log_lines` capped, `deis run` output kept to its last MiB,
concurrent `follow` streams per user capped (429) — and read as streams, never whole into memory."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from .conftest import api_host, app_name, assert_tenant_unharmed

pytestmark = pytest.mark.engine

MIB = 1024 * 1024


async def test_log_lines_are_capped(api, platform, mallory, victim, router_client, engine_settings):
    platform.state.ctx.settings.max_log_lines = 40
    app_id = app_name()
    assert (await api.post("/v2/apps/", json={"id": app_id}, headers=mallory)).status_code == 201
    chatty = "i=0; while [ $i -lt 500 ]; do echo line-$i; i=$((i+1)); done; exec sleep 600"
    r = await api.post(f"/v2/apps/{app_id}/builds/", json={"image": "test/web:latest", "procfile": {
        "web": "httpd -f -p 8080 -h /www", "worker": chatty}}, headers=mallory)
    assert r.status_code == 201, r.text
    assert (await api.post(f"/v2/apps/{app_id}/scale/", json={"worker": 1}, headers=mallory)).status_code == 204
    for _ in range(50):
        r = await api.get(f"/v2/apps/{app_id}/logs?log_lines=1000000000", headers=mallory)
        if "line-499" in r.text:
            break
        await asyncio.sleep(0.1)
    assert r.status_code == 200
    lines = r.text.splitlines()
    assert len(lines) == 40  # the newest ones
    assert any(line.endswith(": line-499") for line in lines)
    assert not any(line.endswith(": line-0") for line in lines)
    await assert_tenant_unharmed(api, router_client, engine_settings, victim)


async def test_run_output_is_kept_to_its_last_mib(api, mallory, victim, router_client, engine_settings):
    victim_auth, app_id = victim
    flood = "head -c 5000000 /dev/zero | tr '\\0' a; echo; echo END"
    r = await api.post(f"/v2/apps/{app_id}/run", json={"command": flood}, headers=victim_auth)
    assert r.status_code == 200, r.text
    output = r.json()["output"]
    notice = f"[output truncated: only its last {MIB} bytes are kept]\n"
    assert output.startswith(notice) and output.endswith("a\nEND\n")
    assert len(output) == len(notice) + MIB
    await assert_tenant_unharmed(api, router_client, engine_settings, victim)


async def test_follow_streams_per_user_are_capped(api, platform, served, mallory, victim, router_client,
                                                  engine_settings):
    victim_auth, victim_app = victim
    ctx = platform.state.ctx
    mallory_app = app_name()
    assert (await api.post("/v2/apps/", json={"id": mallory_app}, headers=mallory)).status_code == 201
    url = f"/v2/apps/{mallory_app}/logs?follow=true"
    headers = {**mallory, **api_host(engine_settings)}
    async with contextlib.AsyncExitStack() as streams:
        opened = []
        for _ in range(4):
            response = await streams.enter_async_context(router_client.stream("GET", url, headers=headers))
            assert response.status_code == 200
            opened.append(response)
        r = await router_client.get(url, headers=headers)
        assert r.status_code == 429
        assert r.json() == {"detail": "mallory already follows 4 log streams, the most this platform allows at "
                                      "once: close one first"}
        # another user's streams are their own
        async with router_client.stream("GET", f"/v2/apps/{victim_app}/logs?follow=true",
                                        headers={**victim_auth, **api_host(engine_settings)}) as theirs:
            assert theirs.status_code == 200
            assert "deis[controller]" in await anext(theirs.aiter_lines())
        await opened[0].aclose()  # a client that goes away gives its slot back
        for _ in range(100):
            if ctx.follows.held("mallory") == 3:
                break
            await asyncio.sleep(0.05)
        assert ctx.follows.held("mallory") == 3
        async with router_client.stream("GET", url, headers=headers) as again:
            assert again.status_code == 200
    for _ in range(100):
        if ctx.follows.held("mallory") == 0:
            break
        await asyncio.sleep(0.05)
    assert ctx.follows.held("mallory") == 0
    await assert_tenant_unharmed(api, router_client, engine_settings, victim)
