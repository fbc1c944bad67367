"""Item 6: containers of different tenants cannot reach each other on the platform network (only the
router and the controller's probes, on the host, reach them); no raw sockets, no privilege escalation."""

from __future__ import annotations

import asyncio
import re
import uuid

import aiodocker
import pytest

from workflow.scheduler.base import HERITAGE, LABEL_HERITAGE
from workflow.scheduler.docker import NO_ICC, DockerScheduler

from .conftest import assert_tenant_unharmed, deployed_app

pytestmark = pytest.mark.engine

NET_RAW = 1 << 13  # capability bit


def exit_code(output: str) -> int:
    return int(re.search(r"^rc=(\d+)$", output, re.M).group(1))


async def run(api, auth, app_id: str, command: str) -> str:
    r = await api.post(f"/v2/apps/{app_id}/run", json={"command": command}, headers=auth)
    assert r.status_code == 200, r.text
    return r.json()["output"]


async def test_a_tenant_cannot_reach_another_tenants_containers(api, platform, mallory, victim, router_client,
                                                                engine_settings):
    victim_auth, victim_app = victim
    [target] = [c for c in await platform.state.ctx.scheduler.list(app=victim_app) if c.state == "up"]
    # The host (router, probes) reaches the victim's container directly.
    _, writer = await asyncio.wait_for(asyncio.open_connection(target.address, 8080), 5)
    writer.close()
    mallory_app = await deployed_app(api, mallory)
    async with aiodocker.Docker() as docker:
        network = await (await docker.networks.get(engine_settings.docker_network)).show()
    assert network["Options"][NO_ICC] == "false"
    gateway = network["IPAM"]["Config"][0]["Gateway"]
    # From mallory's containers: the router's public port on the host answers, the victim's container does not.
    probe = "nc -w 2 {} {} </dev/null; echo rc=$?"
    assert exit_code(await run(api, mallory, mallory_app, probe.format(gateway, engine_settings.port))) == 0
    assert exit_code(await run(api, mallory, mallory_app, probe.format(target.address, 8080))) == 1
    # A one-off container of the victim's own app cannot reach it either: only the router may.
    assert exit_code(await run(api, victim_auth, victim_app, probe.format(target.address, 8080))) == 1
    await assert_tenant_unharmed(api, router_client, engine_settings, victim)


async def test_no_raw_sockets_and_no_new_privileges(api, mallory, victim, router_client, engine_settings):
    app_id = await deployed_app(api, mallory)
    status = await run(api, mallory, app_id, "grep -E '^(CapBnd|CapEff|NoNewPrivs):' /proc/self/status")
    fields = dict(line.split(":\t") for line in status.splitlines())
    assert int(fields["CapBnd"], 16) & NET_RAW == 0
    assert int(fields["CapEff"], 16) & NET_RAW == 0
    assert fields["NoNewPrivs"] == "1"
    output = await run(api, mallory, app_id, "ping -c 1 -W 1 127.0.0.1 2>&1; echo rc=$?")
    assert exit_code(output) != 0, output
    await assert_tenant_unharmed(api, router_client, engine_settings, victim)


async def test_a_network_from_before_is_migrated_with_its_containers(test_images):
    """A platform network created without the ICC option is recreated at start-up; its running containers
    are reconnected and still reachable from the host."""
    name = f"wf-migrate-{uuid.uuid4().hex[:8]}"
    async with aiodocker.Docker() as docker:
        await docker.networks.create({"Name": name, "Driver": "bridge", "Labels": {LABEL_HERITAGE: HERITAGE}})
        container = await docker.containers.create(
            {"Image": "test/web:latest", "Labels": {LABEL_HERITAGE: HERITAGE, "deis.app": name},
             "HostConfig": {"NetworkMode": name}}, name=f"{name}-web")
        try:
            await container.start()
            scheduler = DockerScheduler(docker, network=name)
            await scheduler.ensure_network()
            info = await (await docker.networks.get(name)).show()
            assert info["Options"][NO_ICC] == "false"
            [listed] = await scheduler.list(app=name)
            assert listed.id == container.id and listed.state == "up" and listed.address
            for _ in range(50):
                try:
                    _, writer = await asyncio.wait_for(asyncio.open_connection(listed.address, 8080), 2)
                    writer.close()
                    break
                except OSError:
                    await asyncio.sleep(0.1)
            else:
                pytest.fail("the migrated container is not reachable from the host")
        finally:
            await container.delete(force=True)
            await (await docker.networks.get(name)).delete()


async def test_a_foreign_network_that_allows_inter_container_traffic_is_refused(test_images):
    name = f"wf-foreign-{uuid.uuid4().hex[:8]}"
    async with aiodocker.Docker() as docker:
        await docker.networks.create({"Name": name, "Driver": "bridge"})
        try:
            scheduler = DockerScheduler(docker, network=name)
            with pytest.raises(Exception, match="is not the platform's and lets containers reach each other"):
                await scheduler.ensure_network()
        finally:
            await (await docker.networks.get(name)).delete()
