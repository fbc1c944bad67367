"""The swarm test harness itself (issue 14): three nodes ready, a service spread over them, the overlay network
carrying traffic from a container on node 1 to a task on node 2, ports published in host mode reached from the
host, and a node that dies and comes back."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest

from tests.swarm.helpers import wait_for

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


def test_ports_published_in_host_mode_answer_on_every_node_address(swarm):
    """What the router will do (80/443 on the nodes): reached from the host through its veth to the bridge.
    (The ingress routing mesh needs IPVS, which this kernel lacks.)"""
    service = f"edge-{uuid.uuid4().hex[:6]}"
    swarm.docker(1, "service", "create", "--detach", "--name", service, "--mode", "global",
                 "--publish", "mode=host,target=8080,published=8080", f"{swarm.registry}/test/web:latest")
    try:
        wait_for(lambda: len(running_tasks(swarm, service)) == swarm.size, 90, "a task on every node")

        def answers(node: int) -> bool:
            try:
                return httpx.get(f"http://{swarm.addr(node)}:8080/", timeout=3).status_code == 200
            except httpx.HTTPError:
                return False

        for node in range(1, swarm.size + 1):
            wait_for(lambda node=node: answers(node), 30, f"port 8080 on node {node}")
    finally:
        swarm.docker(1, "service", "rm", service, check=False)


def test_a_killed_node_goes_down_its_tasks_move_and_it_rejoins(swarm):
    service = f"moving-{uuid.uuid4().hex[:6]}"
    swarm.docker(1, "service", "create", "--detach", "--name", service, "--replicas", "3",
                 f"{swarm.registry}/test/web:latest")
    last = swarm.hostname(swarm.size)
    try:
        def all_running() -> list[str] | None:
            placed = running_tasks(swarm, service)
            return placed if len(placed) == 3 else None

        def all_running_elsewhere() -> list[str] | None:
            placed = all_running()
            return placed if placed and last not in placed else None

        placed = wait_for(all_running, 90, "3 tasks")
        assert last in placed, placed  # spread: one on each node

        swarm.kill_node(swarm.size)
        wait_for(lambda: swarm.node_status()[last] == "Down", 60, f"{last} seen down")
        moved = wait_for(all_running_elsewhere, 90, "its task replaced on the other nodes")
        assert set(moved) <= {swarm.hostname(i) for i in range(1, swarm.size)}
    finally:
        swarm.start_node(swarm.size)
        wait_for(lambda: swarm.node_status()[last] == "Ready", 90, f"{last} ready again")
        swarm.docker(1, "service", "rm", service, check=False)
