"""Item 4: operator-set quotas, refused with a clear 400 (containers per app, concurrent one-off runs);
containers created in bounded batches; every container held to a process limit, rotated json-file logs, a
bounded CPU weight; anonymous volumes go with their containers."""

from __future__ import annotations

import asyncio
import dataclasses

import aiodocker
import pytest

from .conftest import app_name, assert_tenant_unharmed, deployed_app

pytestmark = pytest.mark.engine


def refusal(count: int) -> dict:
    return {"detail": f"Scaling to {count} containers is refused: this platform runs at most 100 containers per app"}


async def running(platform, app_id: str) -> list:
    return [c for c in await platform.state.ctx.scheduler.list(app=app_id) if c.state == "up"]


async def test_scaling_above_the_container_quota_is_400_and_changes_nothing(api, platform, mallory, victim,
                                                                           router_client, engine_settings):
    app_id = await deployed_app(api, mallory)
    for count in (1000, 101, 2**31 - 1):
        r = await api.post(f"/v2/apps/{app_id}/scale/", json={"cmd": count}, headers=mallory)
        assert (r.status_code, r.json()) == (400, refusal(count))
    r = await api.get(f"/v2/apps/{app_id}/", headers=mallory)
    assert r.json()["structure"] == {"cmd": 1}
    assert len(await running(platform, app_id)) == 1
    await assert_tenant_unharmed(api, router_client, engine_settings, victim)


async def test_the_quota_counts_every_process_type(api, platform, mallory, victim, router_client,
                                                   engine_settings):
    app_id = app_name()
    assert (await api.post("/v2/apps/", json={"id": app_id}, headers=mallory)).status_code == 201
    procfile = {"web": "httpd -f -p 8080 -h /www", "worker": "sleep 600"}
    r = await api.post(f"/v2/apps/{app_id}/builds/", json={"image": "test/web:latest", "procfile": procfile},
                       headers=mallory)
    assert r.status_code == 201, r.text
    r = await api.post(f"/v2/apps/{app_id}/scale/", json={"web": 60, "worker": 41}, headers=mallory)
    assert (r.status_code, r.json()) == (400, refusal(101))
    assert [c.proc_type for c in await running(platform, app_id)] == ["web"]
    await assert_tenant_unharmed(api, router_client, engine_settings, victim)


async def test_containers_are_created_in_bounded_batches(api, platform, mallory, victim, router_client,
                                                         engine_settings):
    scheduler = platform.state.ctx.scheduler
    scheduler.limits = dataclasses.replace(scheduler.limits, create_batch_size=3)
    in_flight = peak = 0
    original = scheduler._create_and_start

    async def counted(spec):
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        try:
            return await original(spec)
        finally:
            in_flight -= 1

    scheduler._create_and_start = counted
    app_id = await deployed_app(api, mallory)
    r = await api.post(f"/v2/apps/{app_id}/scale/", json={"cmd": 8}, headers=mallory)
    assert r.status_code == 204, r.text
    assert len(await running(platform, app_id)) == 8
    assert peak == 3
    await assert_tenant_unharmed(api, router_client, engine_settings, victim)


async def test_concurrent_one_off_runs_are_bounded_per_app(api, platform, mallory, victim, router_client,
                                                           engine_settings):
    app_id = await deployed_app(api, mallory)
    ctx = platform.state.ctx
    runs = [asyncio.create_task(api.post(f"/v2/apps/{app_id}/run", json={"command": "sleep 3; echo done"},
                                         headers=mallory)) for _ in range(3)]
    for _ in range(200):
        if ctx.runs.held(app_id) == 3:
            break
        await asyncio.sleep(0.05)
    r = await api.post(f"/v2/apps/{app_id}/run", json={"command": "echo one too many"}, headers=mallory)
    assert r.status_code == 400
    assert r.json() == {"detail": f"{app_id} already runs 3 one-off commands, the most this platform allows at "
                                  f"once: wait for one to finish"}
    # another tenant's runs are not counted against this app
    victim_auth, victim_app = victim
    r = await api.post(f"/v2/apps/{victim_app}/run", json={"command": "echo mine"}, headers=victim_auth)
    assert r.status_code == 200 and r.json() == {"exit_code": 0, "output": "mine\n"}
    for answer in await asyncio.gather(*runs):
        assert answer.status_code == 200 and answer.json()["output"] == "done\n"
    assert ctx.runs.held(app_id) == 0
    r = await api.post(f"/v2/apps/{app_id}/run", json={"command": "echo again"}, headers=mallory)
    assert r.status_code == 200 and r.json()["output"] == "again\n"
    await assert_tenant_unharmed(api, router_client, engine_settings, victim)


async def test_containers_are_held_to_process_log_and_cpu_limits(api, platform, mallory, victim, router_client,
                                                                 engine_settings):
    app_id = await deployed_app(api, mallory)
    # A CPU request of 64 cores would weigh 64 times any other tenant's container under contention.
    r = await api.post(f"/v2/apps/{app_id}/config/", json={"cpu": {"cmd": "64/1"}}, headers=mallory)
    assert r.status_code == 201, r.text
    [container] = await running(platform, app_id)
    async with aiodocker.Docker() as docker:
        info = await docker.containers.container(container.id).show()
    host = info["HostConfig"]
    assert host["CpuShares"] == 1024
    assert host["NanoCpus"] == 10**9
    assert host["PidsLimit"] == 1024
    assert host["LogConfig"] == {"Type": "json-file", "Config": {"max-size": "10m", "max-file": "3"}}
    # Seen from inside: the process limit of the container's cgroup.
    r = await api.post(f"/v2/apps/{app_id}/run", json={"command": "cat /sys/fs/cgroup/pids/pids.max "
                                                                  "/sys/fs/cgroup/pids.max 2>/dev/null"},
                       headers=mallory)
    assert r.status_code == 200 and r.json()["output"].split() == ["1024"], r.text
    await assert_tenant_unharmed(api, router_client, engine_settings, victim)


async def test_anonymous_volumes_are_removed_with_their_containers(api, platform, mallory, victim,
                                                                   router_client, engine_settings):
    app_id = await deployed_app(api, mallory, image="test/volume:latest")
    [container] = await running(platform, app_id)
    async with aiodocker.Docker() as docker:
        info = await docker.containers.container(container.id).show()
        [volume] = [m["Name"] for m in info["Mounts"] if m["Type"] == "volume"]
        await docker.volumes.get(volume)  # exists
        r = await api.post(f"/v2/apps/{app_id}/scale/", json={"cmd": 0}, headers=mallory)
        assert r.status_code == 204, r.text
        with pytest.raises(aiodocker.DockerError) as gone:
            await docker.volumes.get(volume)
        assert gone.value.status == 404
    await assert_tenant_unharmed(api, router_client, engine_settings, victim)
