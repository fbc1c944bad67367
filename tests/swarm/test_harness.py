"""The swarm test harness itself (issue 14): three nodes ready, a service spread over them, and the overlay
network carrying traffic from a container on node 1 to a task on node 2."""

from __future__ import annotations

import time
import uuid

import pytest

pytestmark = pytest.mark.swarm


def running_tasks(swarm, service: str) -> list[str]:
    """The nodes (hostnames) of the service's tasks that are running now."""
    out = swarm.docker(1, "service", "ps", service, "--filter", "desired-state=running",
                       "--format", "{{.Node}} {{.CurrentState}}").stdout
    return [line.split()[0] for line in out.splitlines() if line.split()[1:2] == ["Running"]]


def test_three_nodes_run_a_spread_service_reachable_over_the_overlay(swarm):
    nodes = swarm.docker(1, "node", "ls", "--format", "{{.Hostname}} {{.Status}} {{.Availability}}").stdout
    assert sorted(nodes.splitlines()) == [f"{swarm.hostname(i)} Ready Active" for i in range(1, swarm.size + 1)]

    service = f"web-{uuid.uuid4().hex[:6]}"
    image = f"{swarm.registry}/test/web:latest"
    swarm.docker(1, "service", "create", "--detach", "--name", service, "--replicas", "4",
                 "--network", swarm.network, image)
    try:
        deadline = time.monotonic() + 90
        while len(placed := running_tasks(swarm, service)) < 4 and time.monotonic() < deadline:
            time.sleep(1)
        assert len(placed) == 4, swarm.docker(1, "service", "ps", "--no-trunc", service).stdout
        assert len(set(placed)) >= 2 and swarm.hostname(2) in placed, placed

        # a task on node 2, by its address on the overlay, from a container on node 1 (busybox nc: its
        # static wget needs NSS, which a FROM-scratch image lacks)
        task = swarm.docker(2, "ps", "-q", "--filter", f"label=com.docker.swarm.service.name={service}").stdout
        address = swarm.docker(2, "inspect", "--format",
                               f'{{{{(index .NetworkSettings.Networks "{swarm.network}").IPAddress}}}}',
                               task.split()[0]).stdout.strip()
        assert address
        request = f"printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 5 {address} 8080"
        reply = swarm.docker(1, "run", "--rm", "--network", swarm.network, image, "sh", "-c", request).stdout
        assert reply.startswith("HTTP/1.1 200 OK"), reply
    finally:
        swarm.docker(1, "service", "rm", service, check=False)
