"""The deploy path through the HTTP API on the real engine, with the platform's nginx in front."""

from __future__ import annotations

import asyncio
import re

import pytest

from .conftest import app_name, host_of

pytestmark = pytest.mark.engine


async def create(api, auth) -> str:
    name = app_name()
    r = await api.post("/v2/apps/", json={"id": name}, headers=auth)
    assert r.status_code == 201, r.text
    return name


async def engine_containers(platform, name: str):
    return [c for c in await platform.state.ctx.scheduler.list(app=name) if c.state == "up"]


async def test_pull_scale_and_route(api, owner, platform, router_client, engine_settings):
    name = await create(api, owner)
    r = await api.post(f"/v2/apps/{name}/builds/", json={"image": "test/web:latest"}, headers=owner)
    assert r.status_code == 201, r.text
    assert r.json()["image"] == "test/web:latest"

    r = await api.get(f"/v2/apps/{name}/releases/", headers=owner)
    releases = r.json()["results"]
    assert [x["version"] for x in releases] == [2, 1]
    assert re.fullmatch(r"owner deployed test/web:latest \(sha256:[0-9a-f]{12}\)", releases[0]["summary"])
    r = await api.get(f"/v2/apps/{name}/", headers=owner)
    assert r.json()["structure"] == {"cmd": 1}

    page = await router_client.get("/", headers=host_of(name, engine_settings))
    assert page.status_code == 200
    assert "hello" in page.text.lower() or page.text

    r = await api.post(f"/v2/apps/{name}/scale/", json={"cmd": 3}, headers=owner)
    assert r.status_code == 204, r.text
    assert len(await engine_containers(platform, name)) == 3
    r = await api.get(f"/v2/apps/{name}/pods/", headers=owner)
    body = r.json()
    assert body["count"] == 3
    assert {p["state"] for p in body["results"]} == {"up"}
    assert {p["release"] for p in body["results"]} == {"v2"}
    # one machine: exactly Deis's pod (`node` only on a swarm)
    assert all(set(p) == {"name", "state", "type", "release", "started"} for p in body["results"]), body

    hosts = set()
    for _ in range(30):
        page = await router_client.get("/cgi-bin/host", headers=host_of(name, engine_settings))
        assert page.status_code == 200
        hosts.add(page.text.strip())
    assert len(hosts) > 1

    r = await api.post(f"/v2/apps/{name}/scale/", json={"cmd": 0}, headers=owner)
    assert r.status_code == 204
    assert await engine_containers(platform, name) == []
    page = await router_client.get("/", headers=host_of(name, engine_settings))
    assert page.status_code == 503

    r = await api.delete(f"/v2/apps/{name}/", headers=owner)
    assert r.status_code == 204
    assert await platform.state.ctx.scheduler.list(app=name) == []


@pytest.mark.parametrize("image, message", [
    ("test/noexpose:latest", "Expose a port"),
    ("test/twoexpose:latest", "config:set PORT="),
    ("test/nocmd:latest", "no CMD or ENTRYPOINT"),
    ("test/doesnotexist:latest", "test/doesnotexist:latest"),
])
async def test_refused_images_create_nothing(api, owner, platform, image, message):
    name = await create(api, owner)
    r = await api.post(f"/v2/apps/{name}/builds/", json={"image": image}, headers=owner)
    assert r.status_code == 400, r.text
    assert message in r.json()["detail"]
    r = await api.get(f"/v2/apps/{name}/releases/", headers=owner)
    assert r.json()["count"] == 1
    r = await api.get(f"/v2/apps/{name}/builds/", headers=owner)
    assert r.json()["count"] == 0
    assert await platform.state.ctx.scheduler.list(app=name) == []


@pytest.mark.parametrize("image, message", [
    ("test/crash:latest", "exited with code 1"),
    ("test/nolisten:latest", "nothing listens on port 8080"),
])
async def test_failed_deploy_keeps_previous_release_serving(api, owner, platform, router_client,
                                                            engine_settings, image, message):
    name = await create(api, owner)
    r = await api.post(f"/v2/apps/{name}/builds/", json={"image": "test/web:latest"}, headers=owner)
    assert r.status_code == 201, r.text
    before = {c.id for c in await engine_containers(platform, name)}

    r = await api.post(f"/v2/apps/{name}/builds/", json={"image": image}, headers=owner)
    assert r.status_code == 400, r.text
    assert message in r.json()["detail"]

    r = await api.get(f"/v2/apps/{name}/releases/v3/", headers=owner)
    assert r.json()["failed"] is True
    assert r.json()["summary"].endswith("which failed")
    assert {c.id for c in await engine_containers(platform, name)} == before
    page = await router_client.get("/", headers=host_of(name, engine_settings))
    assert page.status_code == 200


async def test_slow_start_is_waited_for(api, owner, router_client, engine_settings):
    name = await create(api, owner)
    r = await api.post(f"/v2/apps/{name}/builds/", json={"image": "test/slow:latest"}, headers=owner)
    assert r.status_code == 201, r.text
    page = await router_client.get("/", headers=host_of(name, engine_settings))
    assert page.status_code == 200


async def test_killed_container_is_replaced(api, owner, platform, router_client, engine_settings):
    name = await create(api, owner)
    r = await api.post(f"/v2/apps/{name}/builds/", json={"image": "test/web:latest"}, headers=owner)
    assert r.status_code == 201
    [victim] = await engine_containers(platform, name)
    proc = await asyncio.create_subprocess_exec("docker", "kill", victim.id)
    await proc.wait()
    deadline = asyncio.get_running_loop().time() + 2
    while True:
        running = await engine_containers(platform, name)
        if running and running[0].id != victim.id:
            page = await router_client.get("/", headers=host_of(name, engine_settings))
            if page.status_code == 200:
                break
        assert asyncio.get_running_loop().time() < deadline, "no replacement served within 2 s"
        await asyncio.sleep(0.1)


async def test_parallel_scales_end_with_the_last_count(api, owner, platform):
    name = await create(api, owner)
    r = await api.post(f"/v2/apps/{name}/builds/", json={"image": "test/web:latest"}, headers=owner)
    assert r.status_code == 201
    counts = [3, 1, 4, 2, 5, 1, 2, 3, 1, 2]
    results = await asyncio.gather(*(api.post(f"/v2/apps/{name}/scale/", json={"cmd": n}, headers=owner)
                                     for n in counts))
    assert all(r.status_code == 204 for r in results)
    r = await api.get(f"/v2/apps/{name}/", headers=owner)
    final = r.json()["structure"]["cmd"]
    assert len(await engine_containers(platform, name)) == final


async def test_concurrent_scale_and_config_end_consistent(api, owner, platform):
    name = await create(api, owner)
    r = await api.post(f"/v2/apps/{name}/builds/", json={"image": "test/web:latest"}, headers=owner)
    assert r.status_code == 201

    async def scale(n):
        return await api.post(f"/v2/apps/{name}/scale/", json={"cmd": n}, headers=owner)

    async def config(i):
        return await api.post(f"/v2/apps/{name}/config/", json={"values": {f"K{i}": str(i)}}, headers=owner)

    calls = [scale(i % 4 + 1) if i % 2 else config(i) for i in range(20)]
    results = await asyncio.gather(*calls)
    assert {r.status_code for r in results} <= {201, 204}, [r.text for r in results if r.status_code >= 300]

    releases = (await api.get(f"/v2/apps/{name}/releases/?limit=100", headers=owner)).json()["results"]
    versions = [r["version"] for r in releases]
    assert len(versions) == len(set(versions)) == 2 + 10
    app = (await api.get(f"/v2/apps/{name}/", headers=owner)).json()
    running = await engine_containers(platform, name)
    assert len(running) == app["structure"]["cmd"]
    assert {c.version for c in running} == {max(versions)}
    config_values = (await api.get(f"/v2/apps/{name}/config/", headers=owner)).json()["values"]
    assert set(config_values) == {f"K{i}" for i in range(0, 20, 2)}
