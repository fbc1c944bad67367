"""Health probes (Kubernetes probe JSON in config `healthcheck`), run by the controller.

Readiness gates deploys (a new container joins the router only when ready) and router membership
afterwards (a container that stops being ready leaves the router until it recovers). Liveness failures
(`failureThreshold` in a row) replace the container. `httpGet` passes on 200–399, `tcpSocket` on a
connect; `exec` runs the command in the container.
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
from ..domain.configrules import probe_error
from ..domain.procfile import ROUTABLE_TYPES
from ..errors import first_line
from ..scheduler.base import Container, SchedulerError

log = logging.getLogger("workflow.health")

DEFAULTS = {"initialDelaySeconds": 0, "timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1,
            "failureThreshold": 3}


_WARNED: set[tuple[str, str, str]] = set()  # malformed stored probes already logged (once each)


def probe_for(healthcheck: dict[str, Any], proc_type: str, kind: str) -> dict[str, Any] | None:
    """The probe of a kind for a process type: its own key, else `web/cmd` for web and cmd."""
    probes = healthcheck.get(proc_type)
    if probes is None and proc_type in ROUTABLE_TYPES:
        probes = healthcheck.get("web/cmd")
    probe = probes.get(kind) if isinstance(probes, dict) else None
    if not probe:
        return None
    problem = probe_error(probe)
    if problem:  # stored before the rules were as strict as they are (the API refuses it today): not run
        if len(_WARNED) < 1000 and (kind, proc_type, problem) not in _WARNED:
            _WARNED.add((kind, proc_type, problem))
            log.warning("%s of %s not run: %s", kind, proc_type, problem)
        return None
    return {**DEFAULTS, **probe}


async def run_probe(ctx, container: Container, probe: dict[str, Any], client: httpx.AsyncClient) -> bool:
    timeout = max(float(probe.get("timeoutSeconds") or 1), 0.1)
    try:
        if "httpGet" in probe:
            spec = probe["httpGet"]
            path = spec.get("path") or "/"
            headers = {h["name"]: h["value"] for h in spec.get("httpHeaders") or []}
            if spec.get("host"):
                headers["Host"] = spec["host"]
            url = f"http://{container.address}:{spec['port']}{path if path.startswith('/') else '/' + path}"
            response = await client.get(url, headers=headers, timeout=timeout)
            return 200 <= response.status_code < 400
        if "tcpSocket" in probe:
            _, writer = await asyncio.wait_for(
                asyncio.open_connection(container.address, probe["tcpSocket"]["port"]), timeout)
            writer.close()
            return True
        if "exec" in probe:
            code = await ctx.scheduler.exec(container, probe["exec"]["command"], timeout)
            return code == 0
    except (OSError, TimeoutError, httpx.HTTPError, SchedulerError):
        return False
    return False


async def wait_probe(ctx, container: Container, probe: dict[str, Any], deadline: float) -> bool:
    """Until the probe passes `successThreshold` times in a row (after its initial delay), or the deadline."""
    await asyncio.sleep(max(0.0, float(probe["initialDelaySeconds"])
                            - (time.monotonic() - _started_monotonic(container))))
    successes = 0
    period = min(float(probe["periodSeconds"]), 1.0)  # during a deploy, look more often than the period
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            if await run_probe(ctx, container, probe, client):
                successes += 1
                if successes >= int(probe["successThreshold"]):
                    return True
            else:
                successes = 0
            await asyncio.sleep(period)
    return False


def _started_monotonic(container: Container) -> float:
    if container.started is None:
        return time.monotonic()
    from datetime import UTC, datetime

    age = (datetime.now(UTC) - container.started).total_seconds()
    return time.monotonic() - max(age, 0.0)


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
            for app_id, version in list(ctx.routes.serving.items()):
                # The serving release's probes: a deploy in progress must not judge old containers by
                # the new release's rules.
                release = await repo.release_by_version(session, app_id, version)
                config = await repo.get_config(session, release.config_uuid) if release else None
                if config is not None and config.healthcheck:
                    configs[app_id] = config.healthcheck
        if not configs:
            return
        containers = [c for c in await ctx.scheduler.list() if c.app in configs and c.state == "up"
                      and ctx.routes.serving.get(c.app) == c.version]
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
                await self.ctx.routes.sync()
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
            if now - _started_monotonic(container) < float(probe["initialDelaySeconds"]):
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
                return True
        return changed

    def _readiness(self, container: Container, probe: dict[str, Any], state: _State) -> bool:
        ready = self.ctx.routes.ready
        if container.id in ready and state.failures >= int(probe["failureThreshold"]):
            ready.discard(container.id)
            log.info("%s is not ready: out of the router", container.name)
            return True
        if container.id not in ready and state.successes >= int(probe["successThreshold"]):
            ready.add(container.id)
            return True
        return False

    async def _replace(self, container: Container, failures: int) -> None:
        from .releases import record_event

        async with self.ctx.sessions() as session:
            await record_event(session, container.app,
                               f"container {container.name} failed its liveness probe {failures} times; replacing it",
                               "ERROR")
            await session.commit()
        self.ctx.routes.ready.discard(container.id)
        await self.ctx.scheduler.remove([container], grace_seconds=0)
        if self.ctx.reconciler is not None:
            self.ctx.reconciler.request(container.app)
