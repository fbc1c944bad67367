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
from workflow.scheduler.base import Container, ContainerSpec, ReplicaSet, Scheduler

WEB_CMD = ["httpd", "-f", "-p", "8080", "-h", "/www"]


@pytest.fixture(params=["docker", "memory", pytest.param("swarm", marks=pytest.mark.swarm)])
def backend(request) -> Iterator[Scheduler]:
    if request.param == "docker":
        request.applymarker(pytest.mark.engine)
        yield request.getfixturevalue("scheduler")
    elif request.param == "swarm":
        name, swarm = request.getfixturevalue("app_name"), request.getfixturevalue("swarm")
        yield request.getfixturevalue("swarm_scheduler")
        # the test's services (its app's), whatever it left
        listed = swarm.docker(1, "service", "ls", "-q", "--filter", f"label=deis.app={name}").stdout.split()
        if listed:
            swarm.docker(1, "service", "rm", *listed, check=False)
    else:
        memory = MemoryScheduler()
        yield memory
        memory.stop_listening()


def picks_victims(backend: Scheduler) -> bool:
    """Swarm keeps the replicas itself: lowering a count, it picks which tasks stop (the contract allows it)."""
    return type(backend).__name__ == "SwarmScheduler"


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
    made = await backend.scale(web(app_name, version=3), 2)
    assert len(made) == 2 and len({c.id for c in made}) == 2
    for container in made:
        assert (container.app, container.proc_type, container.version, container.port) == (app_name, "web", 3, 8080)
        parsed = parse_pod_name(container.name, app_name)
        assert parsed is not None and parsed.proc_type == "web"
        running = await until(backend, container, ("up",))
        assert running.address and running.started is not None and running.exit_reason is None


async def test_listed_and_filtered_by_app_type_and_release(backend: Scheduler, app_name: str):
    await backend.scale(web(app_name, version=1), 1)
    await backend.scale(web(app_name, proc_type="worker", version=2), 1)
    assert {(c.proc_type, c.version) for c in await backend.list(app=app_name)} == {("web", 1), ("worker", 2)}
    assert [c.proc_type for c in await backend.list(app=app_name, version=2)] == ["worker"]
    assert [c.version for c in await backend.list(app=app_name, proc_type="web")] == [1]
    assert await backend.list(app=app_name + "x") == []


async def test_removed_instances_are_gone_and_removing_again_is_fine(backend: Scheduler, app_name: str):
    made = await backend.scale(web(app_name), 2)
    await backend.remove(made[:1], grace_seconds=0)
    if picks_victims(backend):  # one of the two is gone, Swarm picked which
        assert [c.id for c in await backend.list(app=app_name)] in ([made[0].id], [made[1].id])
    else:
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
    [container] = await backend.scale(spec, 1)
    ended = await until(backend, container, ("crashed",))
    assert ended.exit_code == 3 and ended.exit_reason == "crashed with exit code 3"


def crashing(app: str, code: int, backend: Scheduler) -> ContainerSpec:
    if isinstance(backend, MemoryScheduler):
        return web(app, env={"CRASH": str(code)})
    return ContainerSpec(app=app, proc_type="web", version=1, image="test/web", env={},
                         entrypoint=["/bin/sh", "-c"], command=[f"exit {code}"], port=8080)


async def test_scale_starts_only_the_missing_replicas(backend: Scheduler, app_name: str):
    first = await backend.scale(web(app_name), 2)
    assert len(first) == 2
    assert await backend.scale(web(app_name), 2) == []  # already there: nothing started
    [third] = await backend.scale(web(app_name), 3)
    assert third.id not in {c.id for c in first}
    assert await backend.scale(web(app_name, version=2), 1) != []  # another release is another replica set
    assert len(await backend.list(app=app_name, version=1)) == 3


async def test_an_ended_instance_is_no_replica(backend: Scheduler, app_name: str):
    [ended] = await backend.scale(crashing(app_name, 4, backend), 1)
    await until(backend, ended, ("crashed",))
    [fresh] = await backend.scale(web(app_name), 1)
    assert fresh.id != ended.id


async def test_retire_stops_the_drained_first_then_down_to_the_count(backend: Scheduler, app_name: str):
    made = await backend.scale(web(app_name), 3)
    drained = made[0]
    await backend.retire(ReplicaSet.of(drained), 1, [drained], grace_seconds=0)
    left = await backend.list(app=app_name)
    assert len(left) == 1 and (left[0].id != drained.id or picks_victims(backend))
    await backend.retire(ReplicaSet(app_name, "web", 1), 0, [], grace_seconds=0)
    assert await backend.list(app=app_name) == []
