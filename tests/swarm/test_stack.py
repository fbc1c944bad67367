"""The platform on the 3-node test swarm from deploy/stack.yml: the controller (on the manager, its engine socket
mounted, WORKFLOW_SCHEDULER=swarm) and PostgreSQL; a user registers, creates an app and deploys test/web
through the API, the app answers through the controller's router (published in host mode), `scale cmd=6` runs
tasks on at least two nodes. The platform image is built from this checkout (scripts/build-platform-image.sh)
and pushed to the local registry, which the nodes pull from."""

from __future__ import annotations

import os
import subprocess
import uuid

import httpx
import pytest

from tests.conftest import ROOT
from tests.swarm.helpers import wait_for

pytestmark = pytest.mark.swarm


@pytest.fixture(scope="module")
def images(swarm) -> dict[str, str]:
    """The platform images, pushed where the nodes pull from: name → the nodes' reference."""
    out = subprocess.run(["bash", str(ROOT / "scripts" / "build-platform-image.sh")], check=True,
                         capture_output=True, text=True, timeout=900).stdout
    built = dict(line.split("=", 1) for line in out.split())
    pushed = {}
    for key in ("WORKFLOW_IMAGE", "WORKFLOW_POSTGRES_IMAGE"):
        local = f"127.0.0.1:5000/{built[key]}"
        subprocess.run(["docker", "tag", built[key], local], check=True)
        subprocess.run(["docker", "push", "-q", local], check=True, capture_output=True)
        pushed[key] = f"{swarm.registry}/{built[key]}"
    return pushed


def test_the_stack_deploys_and_an_app_serves_from_tasks_on_several_nodes(swarm, images):
    stack = f"wf{uuid.uuid4().hex[:6]}"
    env = {**os.environ, **images, "WORKFLOW_DOCKER_SOCKET": swarm.host(1).removeprefix("unix://"),
           "WORKFLOW_SWARM_NETWORK": swarm.network, "WORKFLOW_HTTP_PORT": "8000",
           "WORKFLOW_REGISTRATION_MODE": "enabled"}
    deploy = subprocess.run(["docker", "-H", swarm.host(1), "stack", "deploy", "-c", str(ROOT / "deploy" / "stack.yml"),
                             stack], env=env, capture_output=True, text=True, timeout=120)
    assert deploy.returncode == 0, deploy.stderr
    base = f"http://{swarm.addr(1)}:8000"
    app = f"t{uuid.uuid4().hex[:8]}"
    try:
        def healthy() -> bool:
            try:
                return httpx.get(f"{base}/healthz", timeout=3).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(healthy, 120, "the controller's /healthz")
        with httpx.Client(base_url=base, timeout=120) as api:
            r = api.post("/v2/auth/register/", json={"username": "owner", "password": "secret"})
            assert r.status_code == 201, r.text
            token = api.post("/v2/auth/login/", json={"username": "owner", "password": "secret"}).json()["token"]
            auth = {"Authorization": f"token {token}"}
            assert api.post("/v2/apps/", json={"id": app}, headers=auth).status_code == 201
            r = api.post(f"/v2/apps/{app}/builds/", json={"image": f"{swarm.registry}/test/web:latest"},
                         headers=auth)
            assert r.status_code == 201, r.text
            reply = httpx.get(f"{base}/", headers={"Host": f"{app}.localhost"}, timeout=10)
            assert reply.status_code == 200, reply.text

            r = api.post(f"/v2/apps/{app}/scale/", json={"cmd": 6}, headers=auth)
            assert r.status_code == 204, r.text
            pods = api.get(f"/v2/apps/{app}/pods/", headers=auth).json()["results"]
            assert len([p for p in pods if p["state"] == "up"]) == 6, pods
            nodes = swarm.docker(1, "service", "ps", "--filter", "desired-state=running", "--format", "{{.Node}}",
                                 f"{app}-cmd-v2").stdout.split()
            assert len(nodes) == 6 and len(set(nodes)) >= 2, nodes
            for _ in range(12):
                assert httpx.get(f"{base}/", headers={"Host": f"{app}.localhost"}, timeout=10).status_code == 200
    finally:
        swarm.docker(1, "stack", "rm", stack, check=False)
        services = swarm.docker(1, "service", "ls", "-q", "--filter", f"label=deis.app={app}").stdout.split()
        if services:
            swarm.docker(1, "service", "rm", *services, check=False)
