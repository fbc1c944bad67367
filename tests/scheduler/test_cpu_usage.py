"""`DockerScheduler.cpu_usage`: one-shot stats against the real engine (the autoscaler's measurement)."""

from __future__ import annotations

import asyncio

import pytest

from workflow.domain.autoscale import cores_used
from workflow.scheduler.base import Resources
from workflow.scheduler.docker import DockerScheduler

from .test_docker import spec

pytestmark = pytest.mark.engine


async def test_a_burning_container_reads_its_cpu_limit_and_an_idle_one_nearly_nothing(
        scheduler: DockerScheduler, app_name: str):
    limited = Resources(nano_cpus=100_000_000)  # 100m
    [burning] = await scheduler.start(spec(app_name, image="test/burn", env={"BURN": "1"}, resources=limited), 1)
    [idle] = await scheduler.start(spec(app_name, image="test/burn", env={"BURN": "0"}, resources=limited), 1)
    await asyncio.sleep(0.5)
    first = await scheduler.cpu_usage([burning, idle])
    await asyncio.sleep(2)
    second = await scheduler.cpu_usage([burning, idle])
    assert set(first) == set(second) == {burning.id, idle.id}
    assert 0.06 <= cores_used(first[burning.id], second[burning.id]) <= 0.13  # the 0.1-core quota, not more
    assert cores_used(first[idle.id], second[idle.id]) < 0.01


async def test_gone_or_stopped_containers_are_left_out(scheduler: DockerScheduler, app_name: str):
    [gone, stopped] = await scheduler.start(spec(app_name, image="test/burn"), 2)
    await scheduler.remove([gone], grace_seconds=0)
    await scheduler._docker.containers.container(stopped.id).stop(t=0)
    assert await scheduler.cpu_usage([gone, stopped]) == {}
