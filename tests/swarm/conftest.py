"""A Docker Swarm of three nodes on this machine (scripts/swarm-nodes.sh): one dockerd per network namespace,
joined by veths to a bridge, with a registry the nodes pull the test images from. Session-scoped: started once
for the tests marked `swarm` (`make test-swarm`), always torn down, and what a killed run left is removed first."""

from __future__ import annotations

import os
import subprocess
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest

from tests.conftest import ROOT

SCRIPT = ROOT / "scripts" / "swarm-nodes.sh"


@dataclass(frozen=True)
class Swarm:
    """The cluster as swarm-nodes.sh describes it (its SWARM_* assignments)."""

    env: dict[str, str]

    @property
    def name(self) -> str:
        return self.env["SWARM_NAME"]

    @property
    def size(self) -> int:
        return int(self.env["SWARM_NODES"])

    @property
    def registry(self) -> str:
        """ADDR:5000, reachable from the nodes (their mirror and insecure registry)."""
        return self.env["SWARM_REGISTRY"]

    @property
    def network(self) -> str:
        """The attachable overlay network."""
        return self.env["SWARM_NETWORK"]

    def host(self, node: int) -> str:
        """The node's engine, for `docker -H` or aiodocker.Docker(url=...)."""
        return self.env[f"SWARM_NODE{node}_HOST"]

    def addr(self, node: int) -> str:
        """The node's address on the bridge (the host reaches it too)."""
        return self.env[f"SWARM_NODE{node}_ADDR"]

    def hostname(self, node: int) -> str:
        return self.env[f"SWARM_NODE{node}_HOSTNAME"]

    def kill_node(self, node: int) -> None:
        """The node dies at once (its engine, containerd and containers get SIGKILL)."""
        result = swarm_nodes("kill-node", self.name, str(node))
        assert result.returncode == 0, result.stderr

    def start_node(self, node: int) -> None:
        """A killed node's engine starts again (it rejoins the swarm with its state)."""
        result = swarm_nodes("start-node", self.name, str(node))
        assert result.returncode == 0, result.stderr

    def node_status(self) -> dict[str, str]:
        """hostname → Ready / Down, as the manager (node 1) sees them."""
        out = self.docker(1, "node", "ls", "--format", "{{.Hostname}} {{.Status}}").stdout
        return dict(line.split() for line in out.splitlines())

    def docker(self, node: int, *args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
        """`docker -H <node> ARGS`; output captured; a failure shows what docker said."""
        result = subprocess.run(["docker", "-H", self.host(node), *args], capture_output=True, text=True,
                                timeout=timeout)
        if check:
            assert result.returncode == 0, f"docker {' '.join(args)} on node {node}: {result.stderr}"
        return result


def swarm_nodes(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(SCRIPT), *args], capture_output=True, text=True, timeout=300, env=env)


@pytest.fixture(scope="session")
def swarm_test_images() -> None:
    """The test images in the local registry, whose storage the cluster's registry serves."""
    subprocess.run(["bash", str(ROOT / "scripts" / "build-test-images.sh")], check=True)


@pytest.fixture(scope="session")
def swarm(swarm_test_images) -> Iterator[Swarm]:
    swarm_nodes("gc")  # clusters of killed runs (their owner process is gone); live ones are left alone
    result = swarm_nodes("up", "3", env={**os.environ, "SWARM_OWNER_PID": str(os.getpid())})
    assert result.returncode == 0, result.stderr
    cluster = Swarm(dict(line.split("=", 1) for line in result.stdout.split()))
    try:
        yield cluster
    finally:
        down = swarm_nodes("down", cluster.name)
        assert down.returncode == 0, down.stderr


@pytest.fixture(scope="session")
async def swarm_scheduler(swarm) -> AsyncIterator:
    """A `SwarmScheduler` on the test swarm's manager (node 1) and its attachable overlay network."""
    from workflow.scheduler.swarm import SwarmScheduler

    sched = SwarmScheduler.from_url(swarm.host(1), network=swarm.network, api_timeout=60)
    await sched.ensure_network()
    yield sched
    await sched.close()


@pytest.fixture(scope="session")
def platform_images(swarm) -> dict[str, str]:
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
