"""The container backend contract (`scheduler.base.Scheduler`), run against every backend: the Docker engine
and the in-memory one the fast service tests use. A new backend is added to `backend` below and must pass.

What the converge path relies on: started instances carry their (app, type, release) and the routing port;
they are listed, filtered and fetched by those; they report an address and a state (`up`, or `crashed` with
the exit code when their process ends); removing is idempotent, and a removed instance is gone.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from tests.memory_scheduler import MemoryScheduler
from workflow.domain.naming import parse_pod_name
from workflow.scheduler.base import Container, ContainerSpec, Scheduler

WEB_CMD = ["httpd", "-f", "-p", "8080", "-h", "/www"]


@pytest.fixture(params=["docker", "memory"])
def backend(request) -> Iterator[Scheduler]:
    if request.param == "docker":
        request.applymarker(pytest.mark.engine)
        yield request.getfixturevalue("scheduler")
    else:
        memory = MemoryScheduler()
        yield memory
        memory.stop_listening()


def web(app: str, proc_type: str = "web", version: int = 1, **kw) -> ContainerSpec:
    kw.setdefault("env", {})
    return ContainerSpec(app=app, proc_type=proc_type, version=version, image="test/web", command=WEB_CMD,
                         port=8080, **kw)


async def until(backend: Scheduler, container: Container, states: tuple[str, ...], patience: float = 15.0
                ) -> Container:
    deadline = time.monotonic() + patience
    while True:
        current = await backend.get(container.id)
        if current is not None and current.state in states:
            return current
        if time.monotonic() > deadline:
            raise AssertionError(f"{container.name} not in {states}: {current}")
        await asyncio.sleep(0.1)


async def test_started_instances_carry_their_release(backend: Scheduler, app_name: str):
    made = await backend.start(web(app_name, version=3), 2)
    assert len(made) == 2 and len({c.id for c in made}) == 2
    for container in made:
        assert (container.app, container.proc_type, container.version, container.port) == (app_name, "web", 3, 8080)
        parsed = parse_pod_name(container.name, app_name)
        assert parsed is not None and parsed.proc_type == "web"
        running = await until(backend, container, ("up",))
        assert running.address and running.started is not None and running.exit_reason is None


async def test_listed_and_filtered_by_app_type_and_release(backend: Scheduler, app_name: str):
    await backend.start(web(app_name, version=1), 1)
    await backend.start(web(app_name, proc_type="worker", version=2), 1)
    assert {(c.proc_type, c.version) for c in await backend.list(app=app_name)} == {("web", 1), ("worker", 2)}
    assert [c.proc_type for c in await backend.list(app=app_name, version=2)] == ["worker"]
    assert [c.version for c in await backend.list(app=app_name, proc_type="web")] == [1]
    assert await backend.list(app=app_name + "x") == []


async def test_removed_instances_are_gone_and_removing_again_is_fine(backend: Scheduler, app_name: str):
    made = await backend.start(web(app_name), 2)
    await backend.remove(made[:1], grace_seconds=0)
    assert await backend.get(made[0].id) is None
    assert [c.id for c in await backend.list(app=app_name)] == [made[1].id]
    await backend.remove(made, grace_seconds=0)  # one already gone
    assert await backend.list(app=app_name) == []


async def test_an_instance_whose_process_ends_reports_it(backend: Scheduler, app_name: str):
    if isinstance(backend, MemoryScheduler):
        spec = web(app_name, env={"CRASH": "3"})
    else:
        spec = ContainerSpec(app=app_name, proc_type="web", version=1, image="test/web", env={},
                             entrypoint=["/bin/sh", "-c"], command=["exit 3"], port=8080)
    [container] = await backend.start(spec, 1)
    ended = await until(backend, container, ("crashed",))
    assert ended.exit_code == 3 and ended.exit_reason == "crashed with exit code 3"
