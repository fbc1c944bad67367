"""Fixtures for the engine tests: the test images (built once per session), one aiodocker client, a
scheduler on a throw-away network, and a random app name per test whose containers are removed afterwards.

These tests talk to the real Docker engine and the local registry; nothing is mocked."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import aiodocker
import pytest

from workflow.scheduler.docker import DockerScheduler

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def test_images() -> None:
    """Build and push the test images unless the registry already has them (fast when it does)."""
    subprocess.run([str(ROOT / "scripts" / "build-test-images.sh")], check=True)


@pytest.fixture(scope="session")
async def docker() -> AsyncIterator[aiodocker.Docker]:
    client = aiodocker.Docker()
    yield client
    await client.close()


@pytest.fixture(scope="session")
async def scheduler(docker: aiodocker.Docker, test_images: None) -> AsyncIterator[DockerScheduler]:
    network = f"wf-test-{uuid.uuid4().hex[:8]}"
    sched = DockerScheduler(docker, network=network, api_timeout=30)
    await sched.ensure_network()
    yield sched
    for c in await docker.containers.list(all=True, filters={"network": [network]}):
        await c.delete(force=True)
    net = await docker.networks.get(network)
    await net.delete()


@pytest.fixture
async def app_name(docker: aiodocker.Docker) -> AsyncIterator[str]:
    """A fresh app id; every container labelled with it is force-removed after the test."""
    name = f"t{uuid.uuid4().hex[:10]}"
    yield name
    for c in await docker.containers.list(all=True, filters={"label": [f"deis.app={name}"]}):
        try:
            await c.delete(force=True)
        except aiodocker.DockerError as exc:
            if exc.status != 404:
                raise


@dataclass(frozen=True)
class PrivateRegistry:
    host: str  # 127.0.0.1:<port>
    username: str
    password: str
    image: str  # <host>/private/web, a copy of test/web


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def private_registry(test_images: None, tmp_path_factory) -> Iterator[PrivateRegistry]:
    """A registry with htpasswd auth on a free loopback port (the engine treats 127.0.0.0/8 as insecure),
    holding a copy of test/web pushed with a throw-away Docker client config."""
    if not (shutil.which("docker-registry") and shutil.which("htpasswd")):
        pytest.skip("docker-registry and htpasswd (apache2-utils) are needed")
    work = tmp_path_factory.mktemp("private-registry")
    user, password = "wfuser", uuid.uuid4().hex
    host = f"127.0.0.1:{_free_port()}"
    htpasswd = subprocess.run(["htpasswd", "-Bbn", user, password], check=True, capture_output=True, text=True)
    (work / "htpasswd").write_text(htpasswd.stdout)
    (work / "config.yml").write_text(
        f"""version: 0.1
storage:
  filesystem:
    rootdirectory: {work / "data"}
http:
  addr: {host}
auth:
  htpasswd:
    realm: workflow-test
    path: {work / "htpasswd"}
"""
    )
    log = (work / "log").open("w")
    proc = subprocess.Popen(["docker-registry", "serve", str(work / "config.yml")], stdout=log, stderr=log)
    image = f"{host}/private/web"
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                urllib.request.urlopen(f"http://{host}/v2/", timeout=1)
            except urllib.error.HTTPError as exc:
                if exc.code == 401:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError(f"private registry did not start: {(work / 'log').read_text()}")
            time.sleep(0.1)
        env = {**os.environ, "DOCKER_CONFIG": str(work / "docker-config")}
        subprocess.run(
            ["docker", "login", "-u", user, "--password-stdin", host],
            input=password,
            text=True,
            check=True,
            env=env,
            capture_output=True,
        )
        subprocess.run(["docker", "tag", "test/web:latest", f"{image}:latest"], check=True)
        subprocess.run(["docker", "push", "-q", f"{image}:latest"], check=True, env=env, capture_output=True)
        subprocess.run(["docker", "rmi", f"{image}:latest"], check=True, capture_output=True)
        yield PrivateRegistry(host, user, password, image)
    finally:
        subprocess.run(["docker", "rmi", f"{image}:latest"], capture_output=True)
        proc.terminate()
        proc.wait(10)
        log.close()



# The swarm of tests/swarm (three dockerd nodes in network namespaces), for the contract suite's swarm backend.
from tests.swarm.conftest import swarm, swarm_scheduler, swarm_test_images  # noqa: E402,F401
