"""Fixtures for the engine tests: the test images (built once per session), one aiodocker client, a
scheduler on a throw-away network, and a random app name per test whose containers are removed afterwards.

These tests talk to the real Docker engine and the local registry; nothing is mocked."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import AsyncIterator
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
