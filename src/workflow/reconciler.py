"""Converges what runs (the engine) to what is wanted (the database).

* adopt, at start-up: containers that already run keep running and serve again — a controller restart
  restarts nothing; containers no app or release owns are removed.
* replace: a container of the serving release that died is removed and a new one started (engine
  events trigger a pass for that app; a periodic pass catches anything missed). A backend that replaces
  instances itself (Swarm: `replaces_failed`) is left to do it: its starting instances are not dead, and the
  replacements it made join the router once ready (the deploy path's readiness check).
* route: an app whose route names an instance the scheduler no longer lists (its node died) or lacks a
  routable one is synced (`RouteSync.stale`). Containers run without a
  restart policy, so an engine restart stops them all: while the engine is unavailable a whole pass is
  retried every second, and the apps serve again within seconds of its return.
* image GC (`collect_images`, at most once a minute): the images the platform pulled (by digest) that no
  release among each app's last N (`image_keep_releases`) and no container uses are removed from the engine;
  only references the platform's own builds name, never a tagged image (the operator's, another user's).
* database unavailable: nothing is started or stopped (what to run is there); the router keeps following
  the engine from the routing settings read last, and passes resume when the database answers again.
Work on an app takes the app's lock, so it never races a deploy or a scale.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

import httpx

from . import repositories as repo
from .db import DATABASE_UNAVAILABLE
from .domain import plan as planning
from .domain.images import canonical, pinned
from .domain.plan import DEFAULTS, RUN_TYPE, probe_for
from .errors import first_line
from .models import utcnow
from .scheduler.base import Container, EngineUnavailable, SchedulerError
from .services import rollout
from .services.probing import run_probe
from .services.releases import current_state, pull_image, registry_auth

log = logging.getLogger("workflow.reconciler")

DEAD = ("crashed", "down")
# Outside a deploy or a scale (which hold the app's lock), a container still `created` was left by a start the
# engine never ran (it went down in between): it will not start by itself, so it counts as dead.
NOT_RUNNING = (*DEAD, "starting")
ENGINE_RETRY_SECONDS = 1.0
# How long a pass waits for a replacement the backend made to be ready (under the app's lock: a deploy
# waits that long at most); one that is not is tried again by the next pass.
ADMIT_SECONDS = 10.0
IMAGE_GC_SECONDS = 60.0  # image GC runs after a full pass at most this often


class Reconciler:
    def __init__(self, ctx):
        self.ctx = ctx
        self.passes = 0
        self.corrections = 0
        self.last_pass_seconds = 0.0  # duration of the latest full pass (`reconcile_all`)
        self._tasks: list[asyncio.Task] = []
        self._pending: set[str] = set()
        self._wake = asyncio.Event()
        # Containers the engine reported dead (id → what happened). The engine sends `die` a moment before
        # its listing stops saying "running"; trusting the event saves waiting for the next periodic pass.
        self._died: dict[str, str] = {}
        self._oom: set[str] = set()  # an `oom` event alone does not end a container (a child may have died)
        self._last_gc = time.monotonic()  # the first GC a minute after start-up, not during adoption
        # One task per app being converged: a replacement waits up to the app's deploy timeout for its new
        # containers, and that must not hold back another app's replacement. An app asked for again while its
        # task runs gets one more pass right after (`_again`).
        self._apps: dict[str, asyncio.Task] = {}
        self._again: set[str] = set()

    async def adopt(self) -> None:
        """Take over the containers a previous controller left running.

        A controller killed mid-deploy leaves the new release committed (not failed) with its containers
        starting, or the previous release's containers not yet stopped. When the new containers are all
        there and ready, the router had been (or was about to be) switched to them: the deploy is finished
        (the old containers are stopped). Otherwise what served before keeps serving and the unfinished
        release is marked failed, as a deploy that fails is: no release is left current without running,
        and no half-started container joins the router.
        """
        ctx = self.ctx
        containers = await ctx.scheduler.list()
        async with ctx.sessions() as session:
            app_ids = set(await repo.all_app_ids(session))
            for app_id in app_ids & {c.app for c in containers}:  # an app with no container has nothing to adopt
                app = await repo.app_by_id(session, app_id)
                release = await repo.current_release(session, app_id)
                mine = [c for c in containers if c.app == app_id and c.proc_type != RUN_TYPE]
                versions = {c.version for c in mine if c.state not in DEAD}
                if app is None or release is None or not versions:
                    continue  # nothing runs: the periodic pass starts what the structure asks for
                older = {v for v in versions if v < release.version}
                if older and await self._ready(session, app, release, mine):
                    serving = release.version
                elif older:  # the deploy of `release` (and any after the one serving) did not finish
                    serving = max(older)
                elif release.version in versions and app.structure:
                    serving = release.version  # finished; at most the final bookkeeping was left
                elif release.version in versions:  # a first deploy (no structure recorded yet) did not finish
                    serving = release.version - 1
                else:  # only containers of failed releases: orphans; the current release is started again
                    continue
                for unfinished in await repo.releases_in_force_after(session, app_id, serving):
                    await self._fail_unfinished(session, unfinished)
                if any(c.version == serving for c in mine):
                    ctx.route_state.serve(app_id, serving)
                    ctx.route_state.mark_ready(c for c in mine if c.version == serving and c.state == "up")
            await session.commit()
        orphans = [c for c in containers if c.app not in app_ids
                   or (c.proc_type != RUN_TYPE and c.version != ctx.route_state.serving(c.app))]
        if orphans:
            log.info("removing %d container(s) no release owns", len(orphans))
            await ctx.scheduler.remove(orphans, grace_seconds=ctx.settings.stop_grace_seconds)
        self.request("*")  # a first pass as soon as the loop runs: what died or was half-scaled meanwhile

    async def _ready(self, session, app, release, mine: list[Container]) -> bool:
        """Whether a release's containers are all there (the app's structure) and ready, as the deploy path
        judges it: up, accepting connections on their port, passing their readiness probe."""
        new = [c for c in mine if c.version == release.version and c.state == "up"]
        wanted = {t: n for t, n in (app.structure or {}).items() if n > 0}
        if not wanted or any(sum(c.proc_type == t for c in new) < n for t, n in wanted.items()):
            return False
        config = await repo.get_config(session, release.config_uuid)
        async with httpx.AsyncClient() as client:
            for c in new:
                probes = [{**DEFAULTS, "tcpSocket": {"port": c.port}}] if c.port else []
                probes += [p for p in [probe_for(config.healthcheck or {}, c.proc_type, "readinessProbe")] if p]
                for probe in probes:
                    if not c.address or not await run_probe(self.ctx, c, probe, client):
                        return False
        return True

    @staticmethod
    async def _fail_unfinished(session, release) -> None:
        reason = "the controller stopped before the deploy finished"
        log.warning("%s v%d: %s; marked failed", release.app_id, release.version, reason)
        release.failed = True
        release.failure = reason
        release.updated = utcnow()
        await repo.record_event(session, release.app_id,
                           f"{release.owner} deploy of v{release.version} failed: {reason}", "ERROR")

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._periodic(), name="reconcile-periodic"),
                       asyncio.create_task(self._watch_events(), name="reconcile-events")]

    async def stop(self) -> None:
        tasks = [*self._tasks, *self._apps.values()]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._apps.clear()

    def request(self, app_id: str) -> None:
        self._pending.add(app_id)
        self._wake.set()

    async def _periodic(self) -> None:
        delay = self.ctx.settings.reconcile_interval
        while True:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)
            self._wake.clear()
            pending, self._pending = self._pending, set()
            delay = self.ctx.settings.reconcile_interval
            try:
                if pending - {"*"}:
                    for app_id in pending - {"*"}:
                        self.converge_soon(app_id)
                if "*" in pending or not pending:
                    await self.reconcile_all()
                    if time.monotonic() - self._last_gc >= IMAGE_GC_SECONDS:
                        self._last_gc = time.monotonic()
                        await self.collect_images()
            except EngineUnavailable as exc:
                log.warning("engine unavailable: %s", exc.message)
                # A whole pass again every second until the engine answers: when it comes back from a
                # restart (which stopped every container), the apps are up again within seconds.
                delay = min(delay, ENGINE_RETRY_SECONDS)
            except DATABASE_UNAVAILABLE as exc:
                # Nothing can be replaced without the database (what to run is there). The router still
                # follows the engine, from the routing settings read last: a dead container leaves it.
                log.warning("database unavailable, reconciling later: %s", first_line(exc))
                with contextlib.suppress(Exception):
                    await self.ctx.routes.sync()
            except Exception:  # keep the loop alive; the next pass tries again
                log.exception("reconcile pass failed")

    async def _watch_events(self) -> None:
        while True:
            try:
                async for event in self.ctx.scheduler.events():
                    if event.action in ("die", "oom") and event.proc_type != RUN_TYPE:
                        if event.action == "oom":
                            self._oom.add(event.container_id)
                        else:
                            self._died[event.container_id] = (
                                "was OOM-killed" if event.container_id in self._oom
                                else f"crashed with exit code {event.exit_code}")
                        self.request(event.app)
                    elif event.action == "changed" and event.proc_type != RUN_TYPE:  # a backend's own change
                        self.request(event.app)
            except SchedulerError as exc:
                log.warning("engine events interrupted: %s", exc.message)
            await asyncio.sleep(1.0)
            self.request("*")  # the engine may have restarted: check everything

    async def reconcile_all(self) -> None:
        """One engine listing and one query for all apps; only apps that differ get converged."""
        started = time.perf_counter()
        try:
            await self._reconcile_all()
        finally:
            self.last_pass_seconds = time.perf_counter() - started
            self.passes += 1

    async def collect_images(self) -> list[str]:
        """Image GC: remove the `name@digest` images of this platform's builds that no release among each
        app's last `image_keep_releases` names; the engine keeps any image a container uses, or that carries
        a tag (see `remove_images`). While any app is being deployed or scaled nothing is removed (it may have
        pulled an image its new release is about to name): the next run does it. Each removal is an event in
        the log of the apps whose builds named the image."""
        if self.ctx.locks.any_held():
            return []
        keep_releases = self.ctx.settings.image_keep_releases
        async with self.ctx.sessions() as session:
            by_app = await repo.pinned_images_by_app(session)
        owners: dict[str, set[str]] = {}
        keep: set[str] = set()
        for app_id, releases in by_app.items():
            for index, (image, digest) in enumerate(releases):
                ref = canonical(pinned(image, digest))
                owners.setdefault(ref, set()).add(app_id)
                if index < keep_releases:
                    keep.add(ref)
        candidates = sorted(ref for ref in owners if ref not in keep)
        removed = await self.ctx.scheduler.remove_images(candidates)
        if removed:
            log.info("image GC removed %d image(s)", len(removed))
            async with self.ctx.sessions() as session:
                for ref in removed:
                    for app_id in sorted(owners[ref]):
                        await repo.record_event(session, app_id, f"removed image {ref}: no longer used by the app's "
                                                            f"last {keep_releases} releases")
                await session.commit()
        return removed

    @property
    def _self_healing(self) -> bool:
        """The backend replaces failed instances itself (Swarm)."""
        return self.ctx.scheduler.replaces_failed

    def _is_dead(self, c: Container) -> bool:
        if self._self_healing and c.state == "starting":
            return False  # the backend's own start (a replacement), not a start left undone
        return c.state in NOT_RUNNING or c.id in self._died

    def _unadmitted(self, containers: list[Container]) -> list[Container]:
        """Running instances the backend started itself that no readiness check has judged yet."""
        if not self._self_healing or self.ctx.routes is None:
            return []
        return [c for c in containers if c.state == "up" and not self.ctx.route_state.is_ready(c.id)]

    async def _reconcile_all(self) -> None:
        containers = await self.ctx.scheduler.list()
        listed = {c.id for c in containers}
        self._died = {cid: what for cid, what in self._died.items() if cid in listed}
        self._oom &= listed
        async with self.ctx.sessions() as session:
            structures = await repo.app_structures(session)
        for app_id, structure in structures.items():
            version = self.ctx.route_state.serving(app_id)
            mine = [c for c in containers if c.app == app_id and c.version == version
                    and c.proc_type != RUN_TYPE]
            alive: dict[str, int] = {}
            for c in mine:
                if not self._is_dead(c):
                    alive[c.proc_type] = alive.get(c.proc_type, 0) + 1
            wanted = {t: n for t, n in (structure or {}).items() if n > 0}
            if version is None and not wanted:
                continue
            if (any(self._is_dead(c) for c in mine) or alive != wanted or self._unadmitted(mine)
                    or (self.ctx.routes is not None and self.ctx.routes.stale(app_id, mine))):
                self.converge_soon(app_id)

    def converge_soon(self, app_id: str) -> None:
        """Converge one app in its own task (another pass right after, when one already runs)."""
        task = self._apps.get(app_id)
        if task is not None and not task.done():
            self._again.add(app_id)
            return
        self._apps = {a: t for a, t in self._apps.items() if not t.done()}
        self._apps[app_id] = asyncio.create_task(self._run_app(app_id), name=f"reconcile-{app_id}")

    async def _run_app(self, app_id: str) -> None:
        while True:
            self._again.discard(app_id)
            try:
                await self.reconcile_app(app_id)
            except EngineUnavailable as exc:
                log.warning("engine unavailable while converging %s: %s", app_id, exc.message)
                self.request("*")  # the periodic loop retries whole passes every second until it is back
                return
            except DATABASE_UNAVAILABLE as exc:
                log.warning("database unavailable, converging %s later: %s", app_id, first_line(exc))
                with contextlib.suppress(Exception):
                    await self.ctx.routes.sync()
                return
            except Exception:  # this app's problem: the other apps' tasks go on
                log.exception("converging %s failed", app_id)
                return
            if app_id not in self._again:
                return

    async def reconcile_app(self, app_id: str) -> None:
        if app_id == "*":
            await self.reconcile_all()
            return
        lock = self.ctx.locks(app_id)
        if lock.locked():  # a deploy or scale is converging this app right now
            return
        async with lock:
            await self._converge(app_id)

    async def _admit(self, app_id: str, config, containers: list[Container]) -> None:
        """Into the router, the backend's replacements that pass the deploy path's readiness check (their
        port accepts, their readiness probe passes) within ADMIT_SECONDS; the others wait for the next pass."""
        if not containers:
            return
        checks = [rollout.wait_ready(self.ctx, c, ADMIT_SECONDS,
                                     probe_for((config.healthcheck if config else None) or {}, c.proc_type,
                                               "readinessProbe"))
                  for c in containers]
        results = await asyncio.gather(*checks, return_exceptions=True)
        ready = [c for c, result in zip(containers, results, strict=True) if result is None]
        for c, result in zip(containers, results, strict=True):
            if result is not None:
                log.info("%s: %s not ready yet: %s", app_id, c.name, result)
        self.ctx.route_state.mark_ready(ready)

    async def _converge(self, app_id: str) -> None:
        ctx = self.ctx
        async with ctx.sessions() as session:
            app = await repo.app_by_id(session, app_id)
            if app is None:
                return
            release, config, build = await current_state(session, app)
            version = ctx.route_state.serving(app_id) or release.version
            if build is None or version != release.version:
                return
            containers = [c for c in await ctx.scheduler.list(app=app_id, version=version)
                          if c.proc_type != RUN_TYPE]
            dead = [c for c in containers if self._is_dead(c)]
            alive: dict[str, list[Container]] = {}
            for c in containers:
                if not self._is_dead(c):
                    alive.setdefault(c.proc_type, []).append(c)
            missing = {t: n - len(alive.get(t, [])) for t, n in (app.structure or {}).items()
                       if n > len(alive.get(t, []))}
            # More than the structure asks for: a scale the controller died in the middle of (the structure
            # is recorded once the containers run). The newest go.
            surplus = [c for t, cs in alive.items() for c in cs[:max(len(cs) - (app.structure or {}).get(t, 0), 0)]]
            if not dead and not missing and not surplus:
                await self._admit(app_id, config, self._unadmitted(containers))
                if ctx.routes is not None and ctx.routes.stale(app_id, containers):
                    await ctx.routes.sync(app_id)
                return
            for c in dead:
                what = c.exit_reason or ("was never started" if c.state == "starting" else self._died[c.id])
                await repo.record_event(session, app_id, f"container {c.name} {what}", "ERROR")
            await session.commit()
            the_plan = None
            if missing:
                settings_row = await repo.latest_settings(session, app_id)
                info = await pull_image(ctx, planning.image_of(build), config)
                the_plan = planning.plan(app, release, build, config, info, missing,
                                         settings_row.routable if settings_row else True, ctx.settings,
                                         registry_auth(ctx, config))
            # A replacement that does not come up is logged; the types that did keep their new containers.
            outcome = await rollout.converge(ctx, rollout.Target(
                app_id, the_plan, desired=dict(app.structure or {}), running=[c for cs in alive.values() for c in cs],
                dead=dead, all_or_nothing=False, grace=ctx.settings.stop_grace_seconds))
            for c in dead:
                self._died.pop(c.id, None)
                self._oom.discard(c.id)
            for failure in outcome.failures:
                log.warning("replacement for %s failed: %s", app_id, failure)
            self.corrections += bool(missing) + bool(surplus)
