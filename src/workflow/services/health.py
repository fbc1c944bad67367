"""The health monitor: the serving containers' probes (`services/probes.py`), run periodically.

Readiness gates deploys (a new container joins the router only when ready) and router membership
afterwards (a container that stops being ready leaves the router until it recovers). Liveness failures
(`failureThreshold` in a row) replace the container: the converge path removes it, the reconciler starts
its successor.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from .. import repositories as repo
from ..db import DATABASE_UNAVAILABLE
from ..domain.plan import probe_for
from ..errors import first_line
from ..scheduler.base import Container, SchedulerError
from . import rollout
from .probing import run_probe, started_monotonic

log = logging.getLogger("workflow.health")


@dataclass
class _State:
    failures: int = 0
    successes: int = 0
    last: float = 0.0


@dataclass
class HealthMonitor:
    """Runs readiness and liveness probes of the serving containers, every second at most."""

    ctx: Any
    tick: float = 1.0
    _states: dict[tuple[str, str], _State] = field(default_factory=dict)
    _task: asyncio.Task | None = None
    # One task per app whose probes run: an app whose probes are slow (timeouts up to 60 s) only delays its own
    # next check, never another app's; its next check starts when its previous one has finished.
    _apps: dict[str, asyncio.Task] = field(default_factory=dict)

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="health-monitor")

    async def stop(self) -> None:
        tasks = [t for t in (self._task, *self._apps.values()) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._apps.clear()

    async def _loop(self) -> None:
        async with httpx.AsyncClient() as client:
            while True:
                try:
                    await self.check_all(client)
                except SchedulerError as exc:
                    log.warning("health checks paused: %s", exc.message)
                except DATABASE_UNAVAILABLE as exc:  # the serving containers keep their router membership
                    log.warning("health checks paused: database unavailable: %s", first_line(exc))
                except Exception:
                    log.exception("health check pass failed")
                await asyncio.sleep(self.tick)

    async def check_all(self, client: httpx.AsyncClient) -> None:
        ctx = self.ctx
        configs: dict[str, dict[str, Any]] = {}
        async with ctx.sessions() as session:
            for app_id, version in ctx.route_state.serving_apps().items():
                # The serving release's probes: a deploy in progress must not judge old containers by
                # the new release's rules.
                release = await repo.release_by_version(session, app_id, version)
                config = await repo.get_config(session, release.config_uuid) if release else None
                if config is not None and config.healthcheck:
                    configs[app_id] = config.healthcheck
        if not configs:
            return
        containers = [c for c in await ctx.scheduler.list() if c.app in configs and c.state == "up"
                      and ctx.route_state.serving(c.app) == c.version]
        live = {c.id for c in containers}
        self._states = {k: v for k, v in self._states.items() if k[0] in live}
        self._apps = {app_id: task for app_id, task in self._apps.items() if not task.done()}
        for app_id, healthcheck in configs.items():
            if app_id in self._apps:
                continue  # its previous check still runs
            mine = [c for c in containers if c.app == app_id]
            if mine:
                self._apps[app_id] = asyncio.create_task(self._check_app(app_id, healthcheck, mine, client),
                                                         name=f"health-{app_id}")

    async def _check_app(self, app_id: str, healthcheck: dict[str, Any], containers: list[Container],
                         client: httpx.AsyncClient) -> None:
        """The due probes of one app's containers, run side by side; its own errors stay its own."""
        try:
            results = await asyncio.gather(*(self._check(healthcheck, c, client) for c in containers))
            if any(results):
                await self.ctx.routes.sync(app_id)
        except asyncio.CancelledError:
            raise
        except SchedulerError as exc:
            log.warning("health checks of %s paused: %s", app_id, exc.message)
        except DATABASE_UNAVAILABLE as exc:
            log.warning("health checks of %s paused: database unavailable: %s", app_id, first_line(exc))
        except Exception:
            log.exception("health checks of %s failed", app_id)

    async def _check(self, healthcheck: dict[str, Any], container: Container, client: httpx.AsyncClient) -> bool:
        """Run the container's due probes; True when its router membership changed or it was replaced."""
        changed = False
        for kind in ("readinessProbe", "livenessProbe"):
            probe = probe_for(healthcheck, container.proc_type, kind)
            if probe is None:
                continue
            now = time.monotonic()
            if now - started_monotonic(container) < float(probe["initialDelaySeconds"]):
                continue
            state = self._states.setdefault((container.id, kind), _State())
            if now - state.last < float(probe["periodSeconds"]):
                continue
            state.last = now
            ok = await run_probe(self.ctx, container, probe, client)
            state.failures = 0 if ok else state.failures + 1
            state.successes = state.successes + 1 if ok else 0
            if kind == "readinessProbe":
                changed |= self._readiness(container, probe, state)
            elif state.failures >= int(probe["failureThreshold"]):
                await self._replace(container, state.failures)
                return changed  # the replacement synced the router itself
        return changed

    def _readiness(self, container: Container, probe: dict[str, Any], state: _State) -> bool:
        routes = self.ctx.route_state
        ready = routes.is_ready(container.id)
        if ready and state.failures >= int(probe["failureThreshold"]):
            routes.withdraw([container])
            log.info("%s is not ready: out of the router", container.name)
            return True
        if not ready and state.successes >= int(probe["successThreshold"]):
            routes.mark_ready([container])
            return True
        return False

    async def _replace(self, container: Container, failures: int) -> None:
        async with self.ctx.sessions() as session:
            await repo.record_event(session, container.app, f"container {container.name} failed its liveness "
                                                            f"probe {failures} times; replacing it", "ERROR")
            await session.commit()
        await rollout.converge(self.ctx, rollout.Target(container.app, dead=[container]))
        if self.ctx.reconciler is not None:
            self.ctx.reconciler.request(container.app)
