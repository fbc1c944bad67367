"""The Swarm scheduler: Deis replica sets as Docker Swarm services, on a swarm of any size (spec/API.md §7).

How Deis concepts map onto Swarm objects:

* A process type at a release (app, type, release) is one service named `<app>-<type>-v<N>`, labelled like
  the Docker backend's containers (`deis.app`, `deis.type`, `deis.version`, `heritage=deis`, `deis.port`),
  its tasks' containers too. Its replica count is the desired count: `scale` raises it, `retire` lowers it
  (Swarm picks which tasks stop) and removes the service at 0.
* A pod is a task: its id is the task id, its name `<app>-<type>-<hash>-<first 5 of the task id>`, its
  address the task's IP on the platform's attachable overlay network (`WORKFLOW_SWARM_NETWORK`), its node
  the hostname of the node it runs on. Services publish nothing and use `dnsrr` endpoints (no VIP: that
  needs IPVS): the router and the health probes reach tasks by their overlay addresses.
* Restart policy on-failure: Swarm replaces a failed task itself; the failed one is history (`get` still
  reads its exit code, `list` shows the tasks Swarm keeps).
* Limits → the service's Resources (memory, CPUs, pids), the grace period → StopGracePeriod, `tags` →
  placement constraints `node.labels.KEY==VALUE`, refused when no node has the labels.

Built on the Docker backend (`DockerScheduler`) for what the manager's own engine does: resolving, pulling
and checking images, one-off `deis run` containers (on the manager, attached to the overlay).
Task logs are read through the manager (`GET /tasks/{id}/logs`). An app's registry credentials (`deis
registry:set`, carried in `ContainerSpec.registry_auth`) go with the service's create/update as X-Registry-Auth:
the manager hands them to the nodes' pulls. Engine events are the manager's own containers only, so `events`
watches the task listing instead (every `WATCH_SECONDS`): a task that Swarm stopped wanting (its node died, it
failed and was replaced) or that changed state is reported as a `changed` event of its app, which the
reconciler converges (the route drops tasks that are gone and takes the ready replacements) within about a
second rather than at its next periodic pass. Not yet on a swarm: exec (and so exec probes), CPU samples for
the autoscaler.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from ...domain.autoscale import CpuSample
from ..base import Container, EngineEvent, SchedulerError
from .services import NoMatchingNodes, Services

__all__ = ["NoMatchingNodes", "SwarmScheduler"]

#: How often `events` lists the tasks: a dead node's tasks leave the route about this long after Swarm
#: stopped wanting them (its heartbeat period decides when that is).
WATCH_SECONDS = 1.0


def _event(c: Container) -> EngineEvent:
    return EngineEvent(action="changed", container_id=c.id, app=c.app, proc_type=c.proc_type, version=c.version,
                       name=c.name, exit_code=c.exit_code, time=datetime.now(UTC))


class SwarmScheduler(Services):
    """`Scheduler` on a Docker Swarm, through one manager's engine. See the package docstring."""

    async def logs(self, container: Container, tail: int) -> list[tuple[datetime, str]]:
        """The task's last `tail` lines (`GET /tasks/{id}/logs`: the manager reads them from the task's node)."""
        if tail <= 0:
            return []
        return self._log_lines(await self._call(f"reading logs of {container.name}", lambda: self._read_output(
            container.id, self.limits.log_read_max_bytes, resource="tasks", timestamps=True, tail=str(tail)),
            absent=(404,)))

    async def exec(self, container: Container, command: list[str], timeout: float) -> int:
        raise SchedulerError("exec in a task is not supported on Swarm yet")

    async def exec_output(self, container: Container, command: list[str], timeout: float) -> tuple[int, str]:
        raise SchedulerError("exec in a task is not supported on Swarm yet")

    #: Swarm's orchestrator replaces a task that failed or whose node died: the reconciler leaves starting
    #: tasks to it (they are not dead) and admits the replacements it made into the router once ready.
    replaces_failed = True

    async def events(self) -> AsyncIterator[EngineEvent]:
        """`changed` events of the apps whose tasks changed (appeared, stopped being wanted, changed state or
        address) since the previous look; raises SchedulerError when the manager cannot be listed (the
        consumer looks at everything again)."""
        previous: dict[str, Container] | None = None
        while True:
            current = {c.id: c for c in await self.list()}
            if previous is not None:
                for cid, c in current.items():
                    before = previous.get(cid)
                    if before is None or (before.state, before.address, before.node) != (c.state, c.address, c.node):
                        yield _event(c)
                for cid, c in previous.items():
                    if cid not in current:
                        yield _event(c)
            previous = current
            await asyncio.sleep(WATCH_SECONDS)

    async def cpu_usage(self, containers: list[Container], concurrency: int = 8) -> dict[str, CpuSample]:
        return {}
