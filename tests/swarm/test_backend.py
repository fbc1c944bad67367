"""The swarm backend (`WORKFLOW_SCHEDULER=swarm`) on the 3-node test swarm: replicas spread over the nodes,
`tags` pinning a replica set to labelled nodes, and tags no node has refused. (The backend contract suite,
tests/scheduler/test_contract.py, runs against it too.)"""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest

from workflow.scheduler.base import ContainerSpec, ReplicaSet
from workflow.scheduler.swarm import NoMatchingNodes

pytestmark = pytest.mark.swarm

WEB_CMD = ["httpd", "-f", "-p", "8080", "-h", "/www"]


def web(app: str, **kw) -> ContainerSpec:
    return ContainerSpec(app=app, proc_type="web", version=1, image="test/web", env={}, command=WEB_CMD,
                         port=8080, **kw)


@pytest.fixture
def app(swarm):
    name = f"t{uuid.uuid4().hex[:10]}"
    yield name
    listed = swarm.docker(1, "service", "ls", "-q", "--filter", f"label=deis.app={name}").stdout.split()
    if listed:
        swarm.docker(1, "service", "rm", *listed, check=False)


async def all_up(scheduler, app: str, count: int, patience: float = 60):
    deadline = time.monotonic() + patience
    while True:
        running = [c for c in await scheduler.list(app=app) if c.state == "up"]
        if len(running) == count:
            return running
        assert time.monotonic() < deadline, f"{len(running)} of {count} up: {await scheduler.list(app=app)}"
        await asyncio.sleep(0.5)


async def test_six_replicas_run_on_several_nodes_at_their_overlay_addresses(swarm, swarm_scheduler, app):
    made = await swarm_scheduler.scale(web(app), 6)
    assert len(made) == 6
    running = await all_up(swarm_scheduler, app, 6)
    nodes = {c.node for c in running}
    assert len(nodes) >= 2 and nodes <= {swarm.hostname(i) for i in range(1, swarm.size + 1)}, nodes
    assert all(c.address and c.started for c in running)
    # a task's overlay address answers from a container on the overlay (on the manager)
    request = f"printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 5 {running[0].address} 8080"
    reply = swarm.docker(1, "run", "--rm", "--network", swarm.network, f"{swarm.registry}/test/web:latest",
                         "sh", "-c", request).stdout
    assert reply.startswith("HTTP/1.1 200 OK"), reply

    await swarm_scheduler.retire(ReplicaSet(app, "web", 1), 2, [], grace_seconds=1)
    assert len([c for c in await swarm_scheduler.list(app=app) if c.state == "up"]) == 2
    await swarm_scheduler.retire(ReplicaSet(app, "web", 1), 0, [], grace_seconds=1)
    assert await swarm_scheduler.list(app=app) == []
    assert swarm.docker(1, "service", "ls", "-q", "--filter", f"label=deis.app={app}").stdout.split() == []


async def test_tags_pin_a_replica_set_to_the_labelled_node(swarm, swarm_scheduler, app):
    key, value = f"zone{uuid.uuid4().hex[:6]}", "edge"
    swarm.docker(1, "node", "update", "--label-add", f"{key}={value}", swarm.hostname(2))
    try:
        await swarm_scheduler.scale(web(app, tags={key: value}), 3)
        running = await all_up(swarm_scheduler, app, 3)
        assert {c.node for c in running} == {swarm.hostname(2)}
        assert (await swarm_scheduler.engine_labels())[key] == value
    finally:
        swarm.docker(1, "node", "update", "--label-rm", key, swarm.hostname(2))


async def test_tags_no_node_has_are_refused_and_nothing_is_created(swarm, swarm_scheduler, app):
    with pytest.raises(NoMatchingNodes, match="No nodes matched the provided labels: nowhere=true"):
        await swarm_scheduler.scale(web(app, tags={"nowhere": "true"}), 1)
    assert await swarm_scheduler.list(app=app) == []
    assert swarm.docker(1, "service", "ls", "-q", "--filter", f"label=deis.app={app}").stdout.split() == []


async def test_a_tasks_logs_are_read_through_the_manager_whatever_its_node(swarm, swarm_scheduler, app):
    spec = ContainerSpec(app=app, proc_type="worker", version=1, image="test/web", env={"WORD": "hello"},
                         entrypoint=["/bin/sh", "-c"], command=['for i in 1 2 3; do echo "$WORD $i"; done; sleep 60'])
    made = await swarm_scheduler.scale(spec, 3)
    await all_up(swarm_scheduler, app, 3)
    for task in made:
        deadline = time.monotonic() + 20
        while [line for _, line in await swarm_scheduler.logs(task, 2)] != ["hello 2", "hello 3"]:
            assert time.monotonic() < deadline, await swarm_scheduler.logs(task, 10)
            await asyncio.sleep(0.5)
    assert len({c.node for c in await swarm_scheduler.list(app=app)}) >= 2


async def test_a_task_that_never_ran_has_no_exit_code_and_says_why(swarm, swarm_scheduler, app):
    """Its node could not pull the image: Swarm rejects the task; its Status.Err is the reason (a deploy says
    '… could not start: No such image …'), not an exit code 0 no process returned."""
    image = f"{swarm.registry}/test/missing-{uuid.uuid4().hex[:8]}:1"
    made = await swarm_scheduler.scale(ContainerSpec(app=app, proc_type="web", version=1, image=image, env={},
                                                     port=8080), 1)
    deadline = time.monotonic() + 60
    while (task := await swarm_scheduler.get(made[0].id)).state not in ("crashed", "down"):
        assert time.monotonic() < deadline, task
        await asyncio.sleep(0.5)
    assert task.state == "crashed" and task.exit_code is None, task
    assert "No such image" in (task.error or "") and task.exit_reason == task.error, task
