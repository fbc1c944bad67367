"""The one converge path (`services/rollout.py`) on the in-memory backend: the order of its steps, what it
keeps, what it retires, and what a failure leaves. The same paths run against the real engine and nginx in
tests/engine/ (deploy, scale, restart, replacement, zero downtime)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tests.memory_scheduler import MemoryScheduler
from workflow.domain.plan import Plan
from workflow.errors import BadRequest, ServiceUnavailable
from workflow.scheduler.base import ContainerSpec, EngineUnavailable
from workflow.services import rollout
from workflow.services.route_state import RouteState

APP = "shop"


class RecordingRoutes:
    """The route sync as the converge path sees it: what would be routed at each sync, and what drained."""

    def __init__(self, ctx) -> None:
        self.ctx = ctx
        self.rejected: dict[str, str] = {}
        self.synced: list[set[str]] = []
        self.drained: list[tuple[set[str], float]] = []

    async def table(self):
        raise NotImplementedError

    async def sync(self, app_id: str | None = None) -> None:
        assert app_id in (None, APP)
        listed = await self.ctx.scheduler.list()
        self.synced.append({c.id for c in self.ctx.route_state.routable(listed, APP)})

    async def drain(self, containers, timeout: float, progress=None) -> None:
        self.drained.append(({c.id for c in containers}, timeout))

    async def counters(self) -> dict:
        return {}


@pytest.fixture
async def ctx():
    context = SimpleNamespace(scheduler=MemoryScheduler(), route_state=RouteState())
    context.routes = RecordingRoutes(context)
    yield context
    context.scheduler.stop_listening()


def plan(version: int, structure: dict[str, int], crash: str | None = None, grace: int = 7) -> Plan:
    env = {"CRASH": crash} if crash else {}
    specs = {t: ContainerSpec(app=APP, proc_type=t, version=version, image="test/web", env=env if t == "web" else {},
                              port=8080 if t == "web" else None) for t, n in structure.items() if n > 0}
    return Plan(version=version, specs=specs, structure=structure, timeout=5.0, batches=None, grace=grace)


async def deploy(ctx, version: int, structure: dict[str, int], **kw) -> rollout.Outcome:
    return await rollout.converge(ctx, rollout.Target(APP, plan(version, structure, **kw), desired=structure,
                                                      switch=True))


async def test_deploy_routes_the_new_release_then_drains_and_stops_the_old(ctx):
    first = await deploy(ctx, 1, {"web": 2})
    assert ctx.route_state.serving(APP) == 1 and ctx.routes.synced[-1] == {c.id for c in first.started}
    second = await deploy(ctx, 2, {"web": 2})
    new, old = {c.id for c in second.started}, {c.id for c in first.started}
    # the router switched to the new ones while the old still ran; then the old were drained and stopped
    assert ctx.routes.synced[-1] == new
    assert ctx.routes.drained[-1] == (old, 7)
    assert sorted(ctx.scheduler.removed) == sorted((cid, 7) for cid in old)  # with the plan's grace period
    assert {c.id for c in await ctx.scheduler.list(app=APP)} == new
    assert ctx.route_state.serving(APP) == 2
    assert not any(ctx.route_state.is_ready(cid) for cid in old)


async def test_a_failed_deploy_removes_its_new_instances_and_changes_no_route(ctx):
    first = await deploy(ctx, 1, {"web": 1})
    syncs = len(ctx.routes.synced)
    with pytest.raises(rollout.DeployError, match="exited with code 2"):
        await deploy(ctx, 2, {"web": 1, "worker": 1}, crash="2")
    assert {c.id for c in await ctx.scheduler.list(app=APP)} == {first.started[0].id}  # the worker went too
    assert ctx.route_state.serving(APP) == 1 and len(ctx.routes.synced) == syncs


async def test_an_instance_that_never_ran_fails_the_deploy_with_the_backends_reason(ctx):
    """A swarm task rejected on its node (its image could not be pulled there) has no exit code: the deploy
    says why it could not start, not 'exited with code None'."""
    with pytest.raises(rollout.DeployError, match="could not start: No such image: reg:5001/web@sha256:1"):
        await deploy(ctx, 1, {"web": 1}, crash="No such image: reg:5001/web@sha256:1")
    assert await ctx.scheduler.list(app=APP) == []


async def test_scale_starts_the_missing_and_retires_the_newest_surplus(ctx):
    await deploy(ctx, 1, {"web": 1})
    up = await rollout.converge(ctx, rollout.Target(APP, plan(1, {"web": 3}), desired={"web": 3},
                                                    running=await ctx.scheduler.list(app=APP)))
    assert len(up.started) == 2 and up.retired == []
    running = await ctx.scheduler.list(app=APP)
    oldest = min(running, key=lambda c: c.started)
    down = await rollout.converge(ctx, rollout.Target(APP, plan(1, {"web": 1}), desired={"web": 1}, running=running))
    assert [c.id for c in await ctx.scheduler.list(app=APP)] == [oldest.id]
    assert {c.id for c in down.retired} == {c.id for c in running} - {oldest.id}
    assert ctx.routes.synced[-1] == {oldest.id}  # the surplus left the router before it was drained


async def test_restart_replaces_instances_ready_before_the_old_leave(ctx):
    first = await deploy(ctx, 1, {"web": 2})
    outcome = await rollout.converge(ctx, rollout.Target(APP, plan(1, {"web": 2}), desired={"web": 2},
                                                         replaced=first.started))
    assert ctx.routes.synced[-1] == {c.id for c in outcome.started}
    assert {c.id for c in await ctx.scheduler.list(app=APP)} == {c.id for c in outcome.started}


async def test_dead_instances_go_first_and_a_failed_replacement_keeps_the_others(ctx):
    first = await deploy(ctx, 1, {"web": 1, "worker": 1})
    web = next(c for c in first.started if c.proc_type == "web")
    worker = next(c for c in first.started if c.proc_type == "worker")
    ctx.scheduler.crash(worker.id)
    ctx.scheduler.crash(web.id)
    dead = [await ctx.scheduler.get(web.id), await ctx.scheduler.get(worker.id)]
    # the reconciler's step: the web replacement cannot come up, the worker's can
    replacements = plan(1, {"web": 1, "worker": 1}, crash="1")
    outcome = await rollout.converge(ctx, rollout.Target(APP, replacements, desired={"web": 1, "worker": 1},
                                                         dead=dead, all_or_nothing=False, grace=3))
    assert ctx.scheduler.removed[:2] == [(web.id, 0), (worker.id, 0)]
    assert [type(f) for f in outcome.failures] == [rollout.DeployError]
    assert [(c.proc_type, c.state) for c in await ctx.scheduler.list(app=APP)] == [("worker", "up")]


def test_one_error_mapping():
    failed = rollout.DeployError("container x exited with code 1")
    assert rollout.user_error(failed, BadRequest).status_code == 400
    unavailable = rollout.user_error(failed)
    assert isinstance(unavailable, ServiceUnavailable) and unavailable.body == {"detail": str(failed)}
    down = rollout.user_error(EngineUnavailable("no socket"), BadRequest)
    assert down.status_code == 503 and "The container engine is unavailable: no socket" in str(down.body)
