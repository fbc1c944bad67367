"""The one converge path: deploy, scale, restart, replacement and the reconciler all go through `converge`.

    remove the dead → start the missing (in batches) → wait until ready → route (serve the release, sync the
    router) → drain the retiring out of the router → stop them with their grace period

A `Target` says what one app should run once the step is done: the release (its `Plan`: how instances are
made, how long they may take), the desired count per process type, the instances of that release already
running, and what goes once the new ones serve. Failures to start come out as `DeployError` (the new instances
are removed first, so nothing that served before stops serving); `user_error` is how every operation turns one
into what the user sees.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field

from ..domain.plan import RUN_TYPE, Plan
from ..errors import ServiceUnavailable, WorkflowError
from ..models import utcnow
from ..scheduler.base import ENDED, Container, ContainerSpec, EngineUnavailable, ReplicaSet, SchedulerError
from .deploy_events import QUIET, DeployEvents, listening_ports
from .probing import wait_probe

log = logging.getLogger("workflow.rollout")


class DeployError(Exception):
    """The new release's containers did not come up; the message says why."""


@dataclass
class Target:
    """What one app runs once a converge step is done.

    `plan` is None for a step that only removes (a container that failed its liveness probe). `running` are
    the alive instances of the plan's release: kept up to `desired` per type (the newest beyond it retire).
    `replaced` retire once the new instances serve (a restart); `dead` are removed at once, before anything
    starts. `switch` serves the plan's release once its instances are ready and retires every other
    release's (a deploy); otherwise the release already serving keeps serving.
    """

    app_id: str
    plan: Plan | None = None
    desired: dict[str, int] = field(default_factory=dict)
    running: list[Container] = field(default_factory=list)
    replaced: list[Container] = field(default_factory=list)
    dead: list[Container] = field(default_factory=list)
    switch: bool = False
    all_or_nothing: bool = True  # a type failing removes every new instance; else the others stay (reconciler)
    grace: int | None = None  # for the retiring; None: the plan's


@dataclass
class Outcome:
    started: list[Container] = field(default_factory=list)
    retired: list[Container] = field(default_factory=list)
    failures: list[BaseException] = field(default_factory=list)  # types that failed (not all_or_nothing)


async def converge(ctx, target: Target, events: DeployEvents = QUIET) -> Outcome:
    """Run one converge step of an app (see the module docstring). The app's lock is the caller's."""
    state = ctx.route_state
    outcome = Outcome()
    if target.dead:
        await ctx.scheduler.remove(target.dead, grace_seconds=0)
        state.withdraw(target.dead)
    the_plan = target.plan
    starts, surplus = _difference(target)
    if starts:
        assert the_plan is not None
        results = await asyncio.gather(
            *(start_ready(ctx, the_plan.specs[t], n, the_plan.timeout, the_plan.batches, the_plan.readiness.get(t),
                          events, replicas=base) for t, n, base in starts),
            return_exceptions=True)
        outcome.started = [c for r in results if isinstance(r, list) for c in r]
        outcome.failures = [r for r in results if isinstance(r, BaseException)]
        fatal = [f for f in outcome.failures if target.all_or_nothing or not isinstance(f, DeployError)]
        if fatal:
            await ctx.scheduler.remove(outcome.started, grace_seconds=0)
            state.withdraw(outcome.started)
            raise fatal[0]
    retiring = [*surplus, *target.replaced]
    state.withdraw(retiring)
    older: list[Container] = []
    if target.switch:
        assert the_plan is not None
        if ctx.routes is not None:
            state.serve(target.app_id, the_plan.version)
            await ctx.routes.sync(target.app_id)
            events.switched()
        older = [c for c in await ctx.scheduler.list(app=target.app_id)
                 if c.version != the_plan.version and c.proc_type != RUN_TYPE]
    else:
        if the_plan is not None and ctx.routes is not None:
            state.keep_serving(target.app_id, the_plan.version)
        if ctx.routes is not None:
            await ctx.routes.sync(target.app_id)
    grace = target.grace if target.grace is not None else the_plan.grace if the_plan else 0
    # What each replica set keeps once the retiring go: the release converged to keeps its desired count;
    # every other release of the app (a deploy's switch) keeps none.
    replicas = {ReplicaSet.of(c): max(target.desired.get(c.proc_type, 0), 0) for c in retiring}
    replicas.update({ReplicaSet.of(c): 0 for c in older})
    outcome.retired = [*retiring, *older]
    await retire(ctx, outcome.retired, grace, events, replicas)
    return outcome


def _difference(target: Target) -> tuple[list[tuple[str, int, int]], list[Container]]:
    """(type, how many to start, how many replicas its set has before) and the surplus instances: the
    newest of a type beyond its desired count. A restart's replaced instances still run while their
    successors start: they count among the set's replicas until they retire."""
    by_type: dict[str, list[Container]] = {}
    for container in target.running:
        by_type.setdefault(container.proc_type, []).append(container)
    staying = {}
    for container in target.replaced:
        if container.state not in ENDED and target.plan and container.version == target.plan.version:
            staying[container.proc_type] = staying.get(container.proc_type, 0) + 1
    starts: list[tuple[str, int, int]] = []
    surplus: list[Container] = []
    for proc_type in sorted(set(target.desired) | set(by_type)):
        have = sorted(by_type.get(proc_type, []), key=lambda c: c.started or utcnow())
        want = max(target.desired.get(proc_type, 0), 0)
        if want > len(have):
            starts.append((proc_type, want - len(have), len(have) + staying.get(proc_type, 0)))
        else:
            surplus += have[want:]
    return starts, surplus


def user_error(exc: DeployError | SchedulerError, failed: type[WorkflowError] = ServiceUnavailable) -> WorkflowError:
    """How a failed converge step reads to the user: the reason, with the operation's status for new
    instances that did not come up (`failed`: 400 for a deploy, whose release is then marked failed; 503 for
    a scale or a restart); 503 when the engine cannot be reached outside starting them."""
    if isinstance(exc, EngineUnavailable):
        return engine_unavailable(exc)
    return failed(exc.message if isinstance(exc, SchedulerError) else str(exc))


def engine_unavailable(exc: SchedulerError) -> ServiceUnavailable:
    """The engine could not be reached (or timed out): 503, the client may retry."""
    return ServiceUnavailable(f"The container engine is unavailable: {exc.message}")


# --- starting and retiring ---------------------------------------------------------------------------


async def start_ready(ctx, spec: ContainerSpec, count: int, timeout: float, batches: int | None = None,
                      probe: dict | None = None, events: DeployEvents = QUIET, replicas: int = 0) -> list[Container]:
    """Scale the spec's replica set from `replicas` up by `count` (in batches) and wait until each new
    instance is ready. On failure the new instances are removed and DeployError is raised."""
    started: list[Container] = []
    try:
        remaining = count
        while remaining > 0:
            size = min(batches or remaining, remaining)
            batch = await ctx.scheduler.scale(spec, replicas + len(started) + size)
            started += batch
            events.started(spec.proc_type, [c.name for c in batch], len(started), count)
            await asyncio.gather(*(wait_ready(ctx, c, timeout, probe, events) for c in batch))
            remaining -= size
            events.ready(spec.proc_type, len(started), count)
    except (DeployError, SchedulerError, asyncio.CancelledError) as exc:
        await ctx.scheduler.remove(started, grace_seconds=0)
        if isinstance(exc, SchedulerError):
            raise DeployError(exc.message) from exc
        raise
    if ctx.routes is not None:
        ctx.route_state.mark_ready(started)
    return started


async def retire(ctx, containers: list[Container], grace: int, events: DeployEvents = QUIET,
                 replicas: dict[ReplicaSet, int] | None = None) -> None:
    """Instances already out of the router: drained of in-flight requests, then their replica sets scaled
    down to `replicas` (default none) with these going (SIGTERM, then SIGKILL after the grace period)."""
    if not containers:
        return
    began = time.monotonic()
    if ctx.routes is not None:
        events.draining([c.name for c in containers])
        await ctx.routes.drain(containers, grace, events.in_flight())
    sets: dict[ReplicaSet, list[Container]] = {}
    for container in containers:
        sets.setdefault(ReplicaSet.of(container), []).append(container)
    results = await asyncio.gather(*(ctx.scheduler.retire(key, (replicas or {}).get(key, 0), drained, grace)
                                     for key, drained in sets.items()), return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    events.stopped([c.name for c in containers], time.monotonic() - began)
    ctx.route_state.withdraw(containers)


async def wait_ready(ctx, container: Container, timeout: float, probe: dict | None = None,
                     events: DeployEvents = QUIET) -> None:
    """Until the container's process accepts TCP connections on its port at its network address (or, for
    a container without a port, until it has stayed up for a moment), and its readiness probe passes.
    Raises DeployError."""
    scheduler = ctx.scheduler
    deadline = time.monotonic() + timeout
    settle = time.monotonic() + 1.0
    delay = 0.01  # most processes listen within tens of ms of their start: poll fast first, then back off
    attempt = 0
    while True:
        current = await scheduler.get(container.id)
        if current is not None and current.state in ENDED and current.exit_code is None and current.error:
            # it never ran (a swarm node could not pull the image, ...): the backend's reason
            events.crashed(container.name, None, current.error, False)
            raise DeployError(f"container {container.name} could not start: {current.error}")
        if current is None or current.state in ("crashed", "down"):
            code = current.exit_code if current else "unknown"
            tail = await _tail(scheduler, current or container)
            events.crashed(container.name, code, tail, bool(current and current.oom_killed))
            raise DeployError(f"container {container.name} exited with code {code}"
                              + (f": {tail}" if tail else ""))
        if container.port is None:
            if time.monotonic() >= settle and current.state == "up":
                break
        elif current.address:
            attempt += 1
            if await _accepts(current.address, container.port):
                events.probe(container.name, attempt, "accepted", f"port {container.port}")
                break
            if attempt == 1:  # the first refusal, not every poll: the next event says how many it took
                events.probe(container.name, attempt, "refused", f"port {container.port}")
        if time.monotonic() >= deadline:
            if not container.port:
                raise DeployError(f"container is not running after {timeout:g} s ({container.name})")
            listening = await _listening(scheduler, current)
            events.not_listening(container.name, container.port, listening, timeout)
            seen = f": it listens on {', '.join(map(str, listening))}" if listening else ""
            raise DeployError(f"nothing listens on port {container.port} after {timeout:g} s ({container.name})"
                              + seen)
        await asyncio.sleep(delay)
        delay = min(delay * 1.5, 0.1)
    if probe is not None and current.address:
        if not await wait_probe(ctx, current, probe, deadline, events):
            events.probe_timeout(container.name, timeout)
            raise DeployError(f"readiness probe of {container.name} did not pass within {timeout:g} s")


async def _accepts(address: str, port: int) -> bool:
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(address, port), 1.0)
    except (OSError, TimeoutError):
        return False
    writer.close()
    try:
        await writer.wait_closed()
    except OSError:
        pass
    return True


async def _tail(scheduler, container: Container, lines: int = 5) -> str:
    try:
        return " ".join(line for _, line in await scheduler.logs(container, lines)).strip()
    except SchedulerError:
        return ""


async def _listening(scheduler, container: Container) -> list[int]:
    """The TCP ports the container's processes listen on (wrong-port diagnosis); [] when unknown."""
    try:
        _, text = await scheduler.exec_output(container, ["cat", "/proc/net/tcp", "/proc/net/tcp6"], 2.0)
    except (SchedulerError, AttributeError):
        return []
    return listening_ports(text)
