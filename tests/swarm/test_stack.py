"""The platform on the 3-node test swarm from deploy/stack.yml: the controller (on the manager, its engine socket
mounted, WORKFLOW_SCHEDULER=swarm), a router on every node and PostgreSQL; a user registers, creates an app and
deploys test/web through the API, the app answers through node 1's router (published in host mode), `scale
cmd=6` runs tasks on at least two nodes (test_routers.py: the routers of every node). The platform image is
built from this checkout (scripts/build-platform-image.sh) and pushed to the local registry, which the nodes
pull from."""

from __future__ import annotations

import pytest

from tests.swarm.stack import deployed_stack

pytestmark = pytest.mark.swarm


def test_the_stack_deploys_and_an_app_serves_from_tasks_on_several_nodes(swarm, platform_images):
    with deployed_stack(swarm, platform_images) as stack:
        app = stack.create_app()
        r = stack.api.post(f"/v2/apps/{app}/builds/", json={"image": f"{swarm.registry}/test/web:latest"},
                           headers=stack.auth)
        assert r.status_code == 201, r.text
        reply = stack.get(app)
        assert reply.status_code == 200, reply.text

        r = stack.api.post(f"/v2/apps/{app}/scale/", json={"cmd": 6}, headers=stack.auth)
        assert r.status_code == 204, r.text
        pods = stack.api.get(f"/v2/apps/{app}/pods/", headers=stack.auth).json()["results"]
        assert len([p for p in pods if p["state"] == "up"]) == 6, pods
        nodes = swarm.docker(1, "service", "ps", "--filter", "desired-state=running", "--format", "{{.Node}}",
                             f"{app}-cmd-v2").stdout.split()
        assert len(nodes) == 6 and len(set(nodes)) >= 2, nodes
        for _ in range(12):
            assert stack.get(app).status_code == 200
