"""The autoscaler: acts on `deis autoscale:set` rules (app settings `autoscale`), like the HorizontalPodAutoscaler
Deis Workflow created for them. The rule itself is pure (`domain/autoscale.py`); this module measures and acts.

Every `autoscale_interval` seconds, for each app with rules and each process type with a rule: the CPU time of
the type's running containers of the serving release is read from the engine (one-shot stats, a bounded number
at a time) and compared with the previous pass's reading, so usage is the average over the interval; a
container seen for the first time is read twice, one second apart. Decisions go through `pods.scale` — the path
of `deis scale`: same per-app lock, new containers ready before they are routed, surplus drained — and are
platform events in `deis logs` (`autoscaled cmd 2 → 4: CPU 92 % of target 50 %`), counted in /metrics.

Request-rate rules (`rps_per_container`, `p95_ms`; the routable type only) read the router's per-app counters
(`RouteSync.counters()`: one control call per pass, made only while such a rule exists) and compare them with
the previous pass's: requests per second per running container, and the p95 latency of the requests answered
in between. An app seen for the first time (or after a router restart, when its counters went back) is
measured from the next pass on. Every metric a rule sets recommends a count; the highest wins.

An app whose lock is held (a deploy, a scale, a restart) is left for the next pass: a decision made from
containers that are being replaced would be wrong, and waiting would hold the measurement for as long.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from .. import repositories as repo
from ..db import DATABASE_UNAVAILABLE
from ..domain import autoscale
from ..domain import plan as planning
from ..domain.autoscale import CpuSample, Rule
from ..domain.procfile import routable_type
from ..errors import WorkflowError, first_line
from ..metrics import AUTOSCALE_DECISIONS, AUTOSCALE_PASS_SECONDS
from ..models import utcnow
from ..router import RouterError
from ..scheduler.base import Container, SchedulerError
from ..schemas import AutoscaleStatus
from . import pods

log = logging.getLogger("workflow.autoscaler")

FIRST_SAMPLE_GAP = 1.0  # seconds at least between the two readings of a container seen for the first time
# Engine stats calls at a time. dockerd 20.10 answers even a one-shot stats call at its stats collector's next
# tick (once a second; all calls waiting then are answered together): a pass takes about
# ceil(containers / STATS_CONCURRENCY) seconds, 7 s for 200 (bench/RESULTS.md). 32 of the client's 100
# connections (aiohttp's default pool): the rest stays free for deploys, the reconciler and the API.
STATS_CONCURRENCY = 32


def _reason(exc: Exception) -> str:
    if isinstance(exc, WorkflowError) and isinstance(exc.body, dict) and "detail" in exc.body:
        return str(exc.body["detail"])
    return exc.message if isinstance(exc, SchedulerError) else first_line(exc)


@dataclass
class Observation:
    """The latest pass's view of one rule, for `deis autoscale:list`."""

    current: int
    cpu_percent: float | None  # mean usage, percent of the limit (of one core without one); None: not measured
    measured: Any  # datetime of the pass
    desired: int
    rps_per_container: float | None = None  # requests/s per container over the interval; None: not measured
    p95_ms: float | None = None  # p95 latency of the interval's requests; None: none answered / not measured


@dataclass
class _Target:
    app_id: str
    proc_type: str
    rule: Rule
    current: int
    limit_cores: float | None
    containers: list[Container]
    receives_requests: bool = False  # the app's routable type: the router's counters are its requests


@dataclass
class Autoscaler:
    ctx: Any
    passes: int = 0
    last_pass_seconds: float = 0.0
    observations: dict[tuple[str, str], Observation] = field(default_factory=dict)
    _samples: dict[str, CpuSample] = field(default_factory=dict)  # container id -> previous pass's reading
    _counters: dict[str, tuple[float, Any]] = field(default_factory=dict)  # app -> (when, AppCounters) last read
    _history: dict[tuple[str, str], deque[tuple[float, int]]] = field(default_factory=dict)
    _seen: dict[tuple[str, str], int] = field(default_factory=dict)  # the count each recommendation was made at
    _failed: dict[tuple[str, str], str] = field(default_factory=dict)  # the last failed step's log line
    _task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="autoscaler")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.ctx.settings.autoscale_interval)
            try:
                await self.run_pass()
            except SchedulerError as exc:
                log.warning("autoscaling paused: %s", exc.message)
            except DATABASE_UNAVAILABLE as exc:
                log.warning("autoscaling paused: database unavailable: %s", first_line(exc))
            except Exception:
                log.exception("autoscaler pass failed")

    async def run_pass(self) -> None:
        """Measure every rule's containers, then act on the decisions (apps concurrently)."""
        started = time.perf_counter()
        targets = await self._targets()
        rates = await self._measure([c for t in targets if t.rule.cpu_percent is not None for c in t.containers])
        requests = await self._requests({t.app_id for t in targets if t.rule.on_requests and t.receives_requests})
        now = time.monotonic()
        window = self.ctx.settings.autoscale_downscale_window
        changes = []
        for target in targets:
            change = self._decide(target, rates, now, window, requests.get(target.app_id))
            if change is not None:
                changes.append(change)
        live = {(t.app_id, t.proc_type) for t in targets}
        for table in (self._history, self._seen, self._failed, self.observations):
            for key in [k for k in table if k not in live]:
                del table[key]
        self.passes += 1
        self.last_pass_seconds = time.perf_counter() - started
        AUTOSCALE_PASS_SECONDS.observe(self.last_pass_seconds)
        await asyncio.gather(*(self._apply(*change) for change in changes))

    async def _targets(self) -> list[_Target]:
        """The rules in force, with the containers they measure: those of the serving release, running."""
        ctx = self.ctx
        targets: list[_Target] = []
        async with ctx.sessions() as session:
            settings_by_app = await repo.latest_settings_by_app(session)
            rules_by_app = {app_id: {t: r for t, v in (row.autoscale or {}).items() if (r := autoscale.rule_of(v))}
                            for app_id, row in settings_by_app.items()}
            rules_by_app = {app_id: rules for app_id, rules in rules_by_app.items() if rules}
            if not rules_by_app:
                return []
            structures = await repo.app_structures(session)
            for app_id, rules in sorted(rules_by_app.items()):
                if ctx.locks(app_id).locked():
                    continue
                version = ctx.route_state.serving(app_id)
                release = (await repo.release_by_version(session, app_id, version) if version is not None
                           else await repo.current_release(session, app_id))
                config = await repo.get_config(session, release.config_uuid) if release else None
                if release is None or config is None:
                    continue
                running = [c for c in await ctx.scheduler.list(app=app_id, version=release.version)
                           if c.state == "up"]
                structure = structures.get(app_id, {})
                for proc_type, rule in sorted(rules.items()):
                    nano = planning.resources_for(config, proc_type).nano_cpus
                    targets.append(_Target(app_id, proc_type, rule, structure.get(proc_type, 0),
                                           nano / 1e9 if nano else None,
                                           [c for c in running if c.proc_type == proc_type],
                                           receives_requests=routable_type(structure) == proc_type))
        return targets

    async def _measure(self, containers: list[Container]) -> dict[str, float]:
        """Cores used by each container since its previous reading (this pass's second reading for new ones)."""
        if not containers:
            self._samples.clear()
            return {}
        scheduler = self.ctx.scheduler
        started = time.monotonic()
        now = await scheduler.cpu_usage(containers, concurrency=STATS_CONCURRENCY)
        previous = {cid: self._samples[cid] for cid in now if cid in self._samples}
        new = [c for c in containers if c.id in now and c.id not in previous]
        if new:
            await asyncio.sleep(max(0.0, FIRST_SAMPLE_GAP - (time.monotonic() - started)))
            again = await scheduler.cpu_usage(new, concurrency=STATS_CONCURRENCY)
            for cid, sample in again.items():
                previous[cid] = now[cid]
                now[cid] = sample
        self._samples = now
        rates = {cid: autoscale.cores_used(previous[cid], sample) for cid, sample in now.items() if cid in previous}
        return {cid: rate for cid, rate in rates.items() if rate is not None}

    async def _requests(self, app_ids: set[str], now: float | None = None) -> dict[str, tuple[float, float | None]]:
        """(requests/s, p95 ms) of each app's hosts since the previous pass; absent: not measured yet. `now`:
        when the counters are read (tests give it)."""
        if not app_ids or self.ctx.routes is None:
            self._counters.clear()
            return {}
        now = time.monotonic() if now is None else now
        try:
            counters = await self.ctx.routes.counters()
        except RouterError as exc:  # the CPU rules still act; the request rules wait for the router
            log.warning("request-rate autoscaling paused: %s", exc.message)
            return {}
        out = {}
        for app_id in app_ids:
            current = counters.get(app_id)
            previous = self._counters.get(app_id)
            if current is None:
                continue
            if previous is not None:
                (then, before) = previous
                # The app's rate (containers=1): _recommendations shares it out over the type's containers.
                rate = autoscale.rate_per_container(before.requests, current.requests, now - then, 1)
                if rate is not None:  # counters that went back (a router restart): measured from the next pass
                    out[app_id] = (rate, autoscale.latency_quantile(before.latency, current.latency, 0.95))
        self._counters = {app_id: (now, counters[app_id]) for app_id in app_ids if app_id in counters}
        return out

    def _recommendations(self, target: _Target, usage: float | None,
                         requests: tuple[float, float | None] | None) -> tuple[list[tuple[int, str]], Any]:
        """What each measured metric of the rule recommends (count, reason); and per-container rps, p95."""
        rule, current = target.rule, target.current
        found: list[tuple[int, str]] = []
        if rule.cpu_percent is not None and usage is not None:
            found.append((autoscale.recommend(current, usage, rule),
                          f"CPU {usage:.0f} % of target {rule.cpu_percent} %"))
        per_container = p95 = None
        if requests is not None and target.containers:
            rate, p95 = requests
            per_container = rate / len(target.containers)
            if rule.rps_per_container is not None:
                found.append((autoscale.recommend_ratio(current, per_container / rule.rps_per_container),
                              f"{per_container:.0f} requests/s per container, target {rule.rps_per_container}"))
            if rule.p95_ms is not None:
                # No request answered in the interval: nothing was slow, the metric asks for the least.
                found.append((autoscale.recommend_ratio(current, (p95 or 0.0) / rule.p95_ms),
                              f"p95 {p95:.0f} ms, target {rule.p95_ms} ms" if p95 is not None
                              else f"no requests, p95 target {rule.p95_ms} ms"))
        return found, (per_container, p95)

    def _decide(self, target: _Target, rates: dict[str, float], now: float, window: float,
                requests: tuple[float, float | None] | None = None) -> tuple[_Target, int, str] | None:
        """The count this rule wants now (and why), or None to leave it."""
        key = (target.app_id, target.proc_type)
        rule, current = target.rule, target.current
        history = self._history.get(key)
        if history is None or self._seen.get(key) != current:
            # First sight, or a count set from outside (`deis scale`, a rule changed): it stands for a window
            # before anything scales it down.
            history = self._history[key] = deque([(now, current)])
        self._seen[key] = current
        cores = [rates[c.id] for c in target.containers if c.id in rates]
        usage = autoscale.utilisation(cores, target.limit_cores) if cores else None
        found, (per_container, p95) = self._recommendations(target, usage, requests)
        if not found or current == 0:
            desired = autoscale.decide(current, current, [], rule)
            reason = f"outside the rule (min {rule.min}, max {rule.max})"
        else:
            recommendation, reason = max(found, key=lambda pair: pair[0])  # the first of equals: CPU, rps, p95
            if len(found) < rule.metrics:  # one not measured this pass (HPA: then never down)
                recommendation = max(recommendation, current)
            while history and history[0][0] < now - window:
                history.popleft()
            desired = autoscale.decide(current, recommendation, [r for _, r in history], rule)
            history.append((now, recommendation))
        self.observations[key] = Observation(current=current, cpu_percent=usage, measured=utcnow(), desired=desired,
                                             rps_per_container=per_container, p95_ms=p95)
        if desired == current:
            return None
        return target, desired, reason

    async def _apply(self, target: _Target, desired: int, reason: str) -> None:
        key = (target.app_id, target.proc_type)
        direction = "up" if desired > target.current else "down"
        step = f"{target.proc_type} {target.current} → {desired}"
        async with self.ctx.sessions() as session:
            app = await repo.app_by_id(session, target.app_id)
            if app is None:
                return
            try:
                changed = await pods.scale(session, self.ctx, app, None, {target.proc_type: desired},
                                           event=f"autoscaled {step}: {reason}",
                                           if_current={target.proc_type: target.current})
            except (WorkflowError, SchedulerError) as exc:
                await session.rollback()
                message = _reason(exc)
                log.warning("autoscaling %s of %s failed: %s", step, target.app_id, message)
                AUTOSCALE_DECISIONS.labels(direction=direction, outcome="failed").inc()
                line = f"autoscaling {step} failed: {message}"
                # The same refusal every pass (the app's container quota, say) is logged once, not every 15 s.
                if self._failed.get(key) != line and await repo.app_by_id(session, target.app_id) is not None:
                    await repo.record_event(session, target.app_id, line, "ERROR")
                    await session.commit()
                self._failed[key] = line
                return
        if changed:
            self._failed.pop(key, None)
            self._seen[key] = desired
            AUTOSCALE_DECISIONS.labels(direction=direction, outcome="ok").inc()
            log.info("autoscaled %s of %s: %s", step, target.app_id, reason)


async def status(session, ctx, app) -> dict[str, AutoscaleStatus]:
    """Each rule of the app with the latest pass's measurement and the latest decision (from the events, so it
    survives a restart)."""
    settings_row = await repo.latest_settings(session, app.id)
    rules = {t: r for t, v in ((settings_row.autoscale if settings_row else None) or {}).items()
             if (r := autoscale.rule_of(v))}
    latest: dict[str, Any] = {}
    for event in await repo.autoscale_events(session, app.id):
        words = event.message.split(" ", 2)
        if len(words) > 1:
            latest.setdefault(words[1], event)
    observations = ctx.autoscaler.observations if ctx.autoscaler is not None else {}
    result: dict[str, AutoscaleStatus] = {}
    for proc_type, rule in sorted(rules.items()):
        seen = observations.get((app.id, proc_type))
        event = latest.get(proc_type)
        result[proc_type] = AutoscaleStatus(
            min=rule.min, max=rule.max, cpu_percent=rule.cpu_percent, rps_per_container=rule.rps_per_container,
            p95_ms=rule.p95_ms, current=(app.structure or {}).get(proc_type, 0),
            cpu_usage_percent=round(seen.cpu_percent, 1) if seen and seen.cpu_percent is not None else None,
            requests_per_container=(round(seen.rps_per_container, 1)
                                    if seen and seen.rps_per_container is not None else None),
            p95_latency_ms=round(seen.p95_ms, 1) if seen and seen.p95_ms is not None else None,
            measured=seen.measured if seen else None,
            last_decision=event.message if event else None, last_decision_at=event.created if event else None)
    return result
