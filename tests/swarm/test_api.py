"""A controller with WORKFLOW_SCHEDULER=swarm, through its HTTP API, on the 3-node test swarm: `tags:set`
checked against the nodes' labels (some node must have them all)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.conftest import register, truncate_all
from workflow.config import Settings
from workflow.main import create_app

pytestmark = pytest.mark.swarm


@pytest.fixture
async def api(swarm, database_url, tmp_path) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(data_dir=tmp_path, database_url=database_url, secret_key="test-secret",
                        registration_mode="enabled", router_enabled=False, scheduler="swarm",
                        docker_host=swarm.host(1), swarm_network=swarm.network)
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        try:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=application),
                                         base_url="http://testserver", timeout=60) as client:
                yield client
        finally:
            await truncate_all(application)


async def test_tags_set_is_checked_against_the_nodes_labels(swarm, api):
    _, owner = await register(api, "owner")
    app = f"t{uuid.uuid4().hex[:8]}"
    assert (await api.post("/v2/apps/", json={"id": app}, headers=owner)).status_code == 201
    zone, disk = f"zone{uuid.uuid4().hex[:6]}", f"disk{uuid.uuid4().hex[:6]}"
    swarm.docker(1, "node", "update", "--label-add", f"{zone}=edge", swarm.hostname(2))
    swarm.docker(1, "node", "update", "--label-add", f"{disk}=ssd", swarm.hostname(3))
    try:
        r = await api.post(f"/v2/apps/{app}/config/", json={"tags": {zone: "edge"}}, headers=owner)
        assert r.status_code == 201, r.text
        assert r.json()["tags"] == {zone: "edge"}

        # each label is on some node, but no node has both: refused, nothing changed
        r = await api.post(f"/v2/apps/{app}/config/", json={"tags": {disk: "ssd"}}, headers=owner)
        assert r.status_code == 400
        assert r.json() == {"detail": f"No nodes matched the provided labels: {disk}=ssd, {zone}=edge - Addition "
                                      f"of {disk}=ssd is the cause"}
        r = await api.post(f"/v2/apps/{app}/config/", json={"tags": {zone: "core"}}, headers=owner)
        assert r.status_code == 400
        assert r.json() == {"detail": f"No nodes matched the provided labels: {zone}=core - Addition of "
                                      f"{zone}=core is the cause"}
        r = await api.get(f"/v2/apps/{app}/config/", headers=owner)
        assert r.json()["tags"] == {zone: "edge"}
    finally:
        swarm.docker(1, "node", "update", "--label-rm", zone, swarm.hostname(2))
        swarm.docker(1, "node", "update", "--label-rm", disk, swarm.hostname(3))
