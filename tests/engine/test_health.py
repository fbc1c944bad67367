"""Health checks and limits on the real engine."""

from __future__ import annotations

import asyncio

import pytest

from .conftest import app_name, deployed_app, host_of

pytestmark = pytest.mark.engine




def probe(path: str, **extra) -> dict:
    return {"httpGet": {"path": path, "port": 8080}, "initialDelaySeconds": 0, "timeoutSeconds": 1,
            "periodSeconds": 1, "successThreshold": 1, "failureThreshold": 2, **extra}


async def test_readiness_probe_that_never_passes_fails_the_deploy(api, owner, router_client, engine_settings):
    name = await deployed_app(api, owner)
    r = await api.post(f"/v2/apps/{name}/config/", headers=owner, json={
        "values": {"DEIS_DEPLOY_TIMEOUT": "3"},
        "healthcheck": {"cmd": {"readinessProbe": probe("/missing.html")}}})
    assert r.status_code == 400, r.text
    assert "readiness probe" in r.json()["detail"]
    page = await router_client.get("/", headers=host_of(name, engine_settings))
    assert page.status_code == 200  # v2 still serves


async def test_liveness_failure_replaces_the_container(api, owner, platform):
    name = await deployed_app(api, owner)
    r = await api.post(f"/v2/apps/{name}/config/", headers=owner, json={
        "healthcheck": {"cmd": {"livenessProbe": probe("/index.html")}}})
    assert r.status_code == 201, r.text
    [first] = [c for c in await platform.state.ctx.scheduler.list(app=name) if c.state == "up"]
    proc = await asyncio.create_subprocess_exec("docker", "exec", first.id, "rm", "/www/index.html")
    await proc.wait()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 20
    while True:
        running = [c for c in await platform.state.ctx.scheduler.list(app=name) if c.state == "up"]
        if running and first.id not in {c.id for c in running}:
            break
        assert loop.time() < deadline, "the unhealthy container was not replaced"
        await asyncio.sleep(0.5)
    r = await api.get(f"/v2/apps/{name}/logs", headers=owner)
    assert "failed its liveness probe" in r.text


async def test_limits_reach_the_engine(api, owner, platform):
    name = await deployed_app(api, owner)
    r = await api.post(f"/v2/apps/{name}/config/", headers=owner,
                       json={"memory": {"cmd": "64M/128M"}, "cpu": {"cmd": "250m/500m"}})
    assert r.status_code == 201, r.text
    assert r.json()["memory"] == {"cmd": "64M/128M"}
    [container] = [c for c in await platform.state.ctx.scheduler.list(app=name) if c.state == "up"]
    proc = await asyncio.create_subprocess_exec(
        "docker", "inspect", "-f", "{{.HostConfig.Memory}} {{.HostConfig.MemoryReservation}} "
        "{{.HostConfig.NanoCpus}} {{.HostConfig.CpuShares}}", container.id, stdout=asyncio.subprocess.PIPE)
    out, _ = await proc.communicate()
    assert out.decode().split() == [str(128 * 1024**2), str(64 * 1024**2), "500000000", "256"]
    releases = (await api.get(f"/v2/apps/{name}/releases/", headers=owner)).json()["results"]
    assert releases[0]["summary"] == "owner changed limits for memory, cpu"


async def test_oom_kill_is_reported_in_logs(api, owner):
    name = app_name()
    assert (await api.post("/v2/apps/", json={"id": name}, headers=owner)).status_code == 201
    r = await api.post(f"/v2/apps/{name}/config/", headers=owner, json={"memory": {"hog": "24M"}})
    assert r.status_code == 201, r.text
    r = await api.post(f"/v2/apps/{name}/builds/", headers=owner, json={
        "image": "test/web:latest",
        "procfile": {"web": "httpd -f -p 8080 -h /www", "hog": "sleep 2; head -c 400m /dev/zero | tail"}})
    assert r.status_code == 201, r.text
    assert (await api.post(f"/v2/apps/{name}/scale/", json={"hog": 1}, headers=owner)).status_code == 204
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    while True:
        text = (await api.get(f"/v2/apps/{name}/logs", headers=owner)).text
        if "was OOM-killed" in text:
            break
        assert loop.time() < deadline, text
        await asyncio.sleep(0.5)
