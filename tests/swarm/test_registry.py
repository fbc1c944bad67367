"""An app whose image is in a registry that requires credentials (`deis registry:set`) deploys on the swarm: the
service carries them (X-Registry-Auth on its create), so a node that has never pulled the image pulls it. The
registry: the harness's read-only copy of scripts/start-services.sh's htpasswd registry (SWARM_PRIVATE_REGISTRY,
same credentials, holding test/private-web). The app is pinned by a node label to node 2, whose engine has
not pulled the image (the controller's own pull runs on node 1, the manager). Through the stack's API and
router; the password appears neither in the service as the manager shows it nor in the controller's logs."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from tests.swarm.stack import deployed_stack

pytestmark = pytest.mark.swarm

CREDENTIALS = Path("/var/lib/workflow-test/private-registry/credentials.env")


def test_a_private_registry_app_runs_on_a_node_that_pulls_with_the_apps_credentials(swarm, platform_images):
    registry = swarm.env.get("SWARM_PRIVATE_REGISTRY")
    assert registry and CREDENTIALS.exists(), "no private registry: run scripts/start-services.sh --test"
    creds = dict(line.split("=", 1) for line in CREDENTIALS.read_text().splitlines() if "=" in line)
    username, password = creds["PRIVATE_REGISTRY_USER"], creds["PRIVATE_REGISTRY_PASSWORD"]
    image = f"{registry}/test/private-web:latest"
    label = f"pin{uuid.uuid4().hex[:6]}"
    swarm.docker(1, "node", "update", "--label-add", f"{label}=yes", swarm.hostname(2))
    try:
        with deployed_stack(swarm, platform_images) as stack:
            app = stack.create_app()
            builds = f"/v2/apps/{app}/builds/"
            r = stack.api.post(builds, json={"image": image}, headers=stack.auth)
            assert r.status_code == 400, r.text  # the registry really asks for credentials
            assert image in r.json()["detail"]

            r = stack.api.post(f"/v2/apps/{app}/config/", json={"tags": {label: "yes"}}, headers=stack.auth)
            assert r.status_code == 201, r.text
            r = stack.api.post(f"/v2/apps/{app}/config/", json={"values": {"PORT": "8080"},  # as in Deis
                                                                   "registry": {"username": username,
                                                                                "password": password}},
                               headers=stack.auth)
            assert r.status_code == 201, r.text
            r = stack.api.post(builds, json={"image": image}, headers=stack.auth)
            assert r.status_code == 201, r.text
            reply = stack.get(app)
            assert reply.status_code == 200, reply.text

            services = swarm.docker(1, "service", "ls", "-q", "--filter", f"label=deis.app={app}").stdout.split()
            assert len(services) == 1, services
            nodes = swarm.docker(1, "service", "ps", "--filter", "desired-state=running", "--format",
                                 "{{.Node}} {{.CurrentState}}", services[0]).stdout.splitlines()
            assert [line.split()[:2] for line in nodes] == [[swarm.hostname(2), "Running"]], nodes
            # node 2 pulled it itself (the manager is node 1)
            assert swarm.docker(2, "image", "ls", "-q", f"{registry}/test/private-web").stdout.strip()

            inspect = swarm.docker(1, "service", "inspect", services[0]).stdout
            assert password not in inspect
            logs = swarm.docker(1, "service", "logs", "--raw", f"{stack.name}_controller", check=False)
            assert password not in logs.stdout + logs.stderr
    finally:
        swarm.docker(1, "node", "update", "--label-rm", label, swarm.hostname(2))
