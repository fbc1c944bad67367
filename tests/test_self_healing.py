"""A backend that replaces instances itself (Swarm), as the controller follows it — fast unit tests of the
pieces; tests/swarm/test_failover.py kills a node of a real swarm under load.

* `SwarmScheduler.events` reports the apps whose tasks changed between two listings (`changed`).
* the reconciler leaves a starting instance to such a backend (not dead) and picks out the running ones no
  readiness check has judged (its replacements); on the Docker backend nothing changes.
* `RouteSync.stale`: an app's route names an instance no longer listed, or lacks a routable one.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from types import SimpleNamespace

from workflow.reconciler import Reconciler
from workflow.scheduler import swarm
from workflow.scheduler.base import Container
from workflow.scheduler.docker import DockerScheduler
from workflow.scheduler.swarm import SwarmScheduler
from workflow.services.route_state import RouteState
from workflow.services.routing import RouteSync


def task(tid: str, app: str = "shop", state: str = "up", node: str = "n2", version: int = 3) -> Container:
    return Container(id=tid, name=f"{app}-web-1234567890-{tid[:5]}", app=app, proc_type="web", version=version,
                     state=state, started=datetime.now(UTC), address=f"10.0.0.{len(tid)}", port=8080, node=node)


class Listings(SwarmScheduler):
    """A SwarmScheduler whose task listing is a script of snapshots (no engine)."""

    def __init__(self, snapshots: list[list[Container]]):
        self.snapshots = snapshots

    async def list(self, app=None, proc_type=None, version=None) -> list[Container]:
        return self.snapshots.pop(0)


async def changes(snapshots: list[list[Container]], monkeypatch) -> list[tuple[str, str]]:
    monkeypatch.setattr(swarm, "WATCH_SECONDS", 0)
    seen = []
    events = Listings(snapshots).events()
    try:
        while True:
            event = await anext(events)
            seen.append((event.action, event.container_id))
    except IndexError:  # the script ran out
        return seen


async def test_the_task_watch_reports_what_changed_between_listings(monkeypatch):
    a, b, c = task("aaaaa1"), task("bbbbb2", node="n3"), task("ccccc3", state="starting")
    seen = await changes([
        [a, b],  # the first listing is the baseline: nothing reported
        [a, b],  # nothing changed
        [a, c],  # b's node died (Swarm no longer wants it), c replaces it
        [a, replace(c, state="up")],  # c runs
    ], monkeypatch)
    assert seen == [("changed", "ccccc3"), ("changed", "bbbbb2"), ("changed", "ccccc3")]


def reconciler(backend) -> Reconciler:
    ctx = SimpleNamespace(scheduler=backend, route_state=RouteState(), routes=object())
    return Reconciler(ctx)


def test_a_self_healing_backend_keeps_its_starting_instances_and_its_replacements_are_admitted():
    r = reconciler(SimpleNamespace(replaces_failed=True))
    starting, fresh, ready, dead = task("s1", state="starting"), task("f1"), task("r1"), task("d1", state="crashed")
    r.ctx.route_state.mark_ready([ready])
    assert not r._is_dead(starting) and r._is_dead(dead) and not r._is_dead(fresh)
    assert r._unadmitted([starting, fresh, ready, dead]) == [fresh]


def test_on_the_docker_backend_a_start_left_undone_is_dead_and_nothing_is_admitted_by_the_reconciler():
    r = reconciler(SimpleNamespace(replaces_failed=DockerScheduler.replaces_failed))
    assert r._is_dead(task("s1", state="starting"))
    assert r._unadmitted([task("f1")]) == []


def test_a_route_is_stale_when_a_routed_instance_is_gone_or_a_routable_one_is_missing():
    state = RouteState()
    state.serve("shop", 3)
    a, b, c = task("a1"), task("b1"), task("c1")
    state.mark_ready([a, b, c])
    sync = RouteSync(SimpleNamespace(route_state=state), router=object())
    assert not sync.stale("shop", [a, b])  # no route built yet: nothing to compare
    sync.routed["shop"] = frozenset({"a1", "b1"})
    assert not sync.stale("shop", [a, b, task("x1", version=2)])  # another release's instance is not routed
    assert sync.stale("shop", [a])  # b's node died
    assert sync.stale("shop", [a, b, c])  # c passed readiness
    assert not RouteSync(SimpleNamespace(route_state=state), router=None).stale("shop", [a])  # no router
