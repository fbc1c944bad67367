"""A release's deploy, step by step: structured events kept with the release, and delivered live.

One `DeployEvents` recorder per deploy run (a release's first deploy, a scale, a restart), made by
`recording()` and passed into the deploy path, which calls its intent-named methods
(`resolved`, `started`, `probe`, `switched`, `failed`, ...). The recorder keeps the events in memory — that
is what `?follow=true` streams read while the deploy runs — and `flush()` adds them to the session of the
deploy's outcome commit: one batched write, nothing on the deploy's critical path but a list append
(bench/RESULTS.md, "Deploy events"). A run whose release is never stored (a 400 before the commit) stores
nothing.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..models import ReleaseEvent, utcnow
from ..scheduler.base import PullListener, PullProgress

PULL_EVERY = 0.5  # seconds between two byte-count events of a pull (each finished layer is one event besides)
PROBE_EVERY = 5.0  # seconds between two "still failing" events of a readiness probe (changes are recorded at once)

# A run's events are bounded whatever the tenant does (100 containers × many probe attempts): past this,
# only the terminal events are kept, and the count of those left out is said.
MAX_EVENTS_PER_RUN = 500
TERMINAL = ("deployed", "failed")


def _size(count: int) -> str:
    return f"{count / 1e6:.1f} MB" if count >= 100_000 else f"{count / 1e3:.1f} kB"


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class DeployEvents:
    """The events of one deploy run of release `version` of `app_id` (see the module docstring)."""

    def __init__(self, app_id: str, version: int, first_seq: int = 1) -> None:
        self.app_id = app_id
        self.version = version
        self.first_seq = first_seq
        self.items: list[dict[str, Any]] = []
        self.done = False
        self._dropped = 0
        self._stored = 0
        self._changed = asyncio.Event()

    # --- what the deploy path says -----------------------------------------------------------------

    def resolved(self, image: str, digest: str) -> None:
        self._add("image", f"image {image} resolved to {digest}", image=image, digest=digest)

    def image_ready(self, image: str, exposed_ports: list[int]) -> None:
        ports = ", ".join(str(p) for p in exposed_ports) or "none"
        self._add("image", f"image {image} is on the engine (exposes {ports})", image=image,
                  exposed_ports=list(exposed_ports))

    def pulling(self, image: str) -> PullListener:
        """A listener for the backend's pull progress of `image`: an event per finished layer and, at most
        every PULL_EVERY seconds, one with the bytes so far — not one per engine message."""
        last = [0.0]
        image = image.split("@")[0]  # the name: the digest is in the `image` event already

        def heard(p: PullProgress) -> None:
            now = time.monotonic()
            if p.layer:
                self._add("pull", f"pulled layer {p.layers_done}/{p.layers} of {image} ({p.layer[:12]})",
                          image=image, layer=p.layer, layers_done=p.layers_done, layers=p.layers,
                          current=p.current, total=p.total)
            elif now - last[0] >= PULL_EVERY:
                self._add("pull", f"pulling {image}: {_size(p.current)} of {_size(p.total)}, "
                                  f"{p.layers_done}/{p.layers} layers", image=image, layers_done=p.layers_done,
                          layers=p.layers, current=p.current, total=p.total)
            else:
                return
            last[0] = now
        return heard

    def planned(self, structure: dict[str, int]) -> None:
        counts = " ".join(f"{t}={n}" for t, n in sorted(structure.items()) if n > 0) or "no containers"
        self._add("plan", f"deploying v{self.version}: {counts}", structure=dict(structure))

    def started(self, proc_type: str, names: list[str], n: int, total: int) -> None:
        self._add("start", f"{proc_type}: {n}/{total} containers started ({', '.join(names)})",
                  proc_type=proc_type, containers=names, n=n, total=total)

    def probe(self, name: str, attempt: int, result: str, detail: str = "", status: int | None = None) -> None:
        """A readiness check of container `name`: `result` is `refused` or `accepted` (its port), `failed`, `ok`
        (not yet `successThreshold` in a row) or `passed` (its probe)."""
        self._add("probe", f"{name}: readiness attempt {attempt}: {result}" + (f" ({detail})" if detail else ""),
                  container=name, attempt=attempt, result=result, status=status, detail=detail)

    def ready(self, proc_type: str, n: int, total: int) -> None:
        self._add("ready", f"{proc_type}: {n}/{total} containers ready", proc_type=proc_type, n=n, total=total)

    def switched(self) -> None:
        self._add("switch", f"router switched to v{self.version}")

    def draining(self, names: list[str]) -> None:
        self._add("drain", f"draining {len(names)} old container(s) of their in-flight requests",
                  containers=names, count=len(names))

    def in_flight(self) -> Callable[[int], None]:
        """A listener for the router's count of requests in flight to the draining containers: an event for
        the first count above none, then for a changed count at most every PULL_EVERY seconds, and one when
        none is left — not one per look (the router is read every 20 ms)."""
        state = {"said": 0, "at": 0.0, "began": time.monotonic()}

        def heard(count: int) -> None:
            now = time.monotonic()
            if count == 0:
                if state["said"]:
                    self._add("drain", f"drained: no request in flight after {now - state['began']:.1f} s",
                              in_flight=0, seconds=round(now - state["began"], 3))
                    state["said"] = 0
            elif count != state["said"] and (not state["said"] or now - state["at"] >= PULL_EVERY):
                self._add("drain", f"draining: {count} request(s) in flight", in_flight=count)
                state["said"], state["at"] = count, now
        return heard

    def stopped(self, names: list[str], seconds: float) -> None:
        self._add("stop", f"stopped {len(names)} old container(s) in {seconds:.1f} s", containers=names,
                  count=len(names), seconds=round(seconds, 3))

    def crashed(self, name: str, exit_code: Any, tail: str, oom: bool) -> None:
        what = ("was killed for lack of memory (OOM)" if oom else "could not start" if exit_code is None
                else f"exited with code {exit_code}")
        self._add("crash", f"{name} {what}" + (f": {tail}" if tail else ""), level="ERROR", container=name,
                  exit_code=exit_code, oom_killed=oom, tail=tail)

    def not_listening(self, name: str, port: int, listening: list[int], timeout: float) -> None:
        seen = f"; it listens on {', '.join(str(p) for p in listening)}" if listening else ""
        self._add("port", f"{name}: nothing listens on port {port} after {timeout:g} s{seen}", level="ERROR",
                  container=name, port=port, listening=listening, timeout=timeout)

    def probe_timeout(self, name: str, timeout: float) -> None:
        self._add("probe", f"{name}: readiness probe did not pass within {timeout:g} s", level="ERROR",
                  container=name, result="timeout", timeout=timeout)

    def deployed(self, what: str = "deployed") -> None:
        self._add("deployed", f"v{self.version} {what}")

    def failed(self, reason: str) -> None:
        """The terminal event of a failed run: the reason, and what to do about the error that caused it."""
        cause = next((e for e in reversed(self.items) if e["level"] == "ERROR"), None)
        hint = hint_for(cause["kind"], cause["data"]) if cause else ""
        self._add("failed", f"deploy of v{self.version} failed: {reason}", level="ERROR", reason=reason,
                  hint=hint)

    # --- keeping and delivering --------------------------------------------------------------------

    def _add(self, kind: str, message: str, level: str = "INFO", **data: Any) -> None:
        if len(self.items) >= MAX_EVENTS_PER_RUN - 2 and kind not in (*TERMINAL, "note"):
            self._dropped += 1
            return
        if self._dropped and kind in TERMINAL:
            dropped, self._dropped = self._dropped, 0
            self._add("note", f"{dropped} event(s) left out (more than {MAX_EVENTS_PER_RUN} in one deploy)")
        self.items.append({"seq": self.first_seq + len(self.items), "created": utcnow(), "kind": kind,
                           "level": level, "message": message, "data": data})
        self._notify()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def after(self, seq: int) -> list[dict[str, Any]]:
        start = max(seq - self.first_seq + 1, 0)
        return self.items[start:]

    async def wait(self, timeout: float) -> None:
        """Until the next event (or the end of the run), at most `timeout` seconds."""
        if self.done:
            return
        changed = self._changed
        try:
            await asyncio.wait_for(changed.wait(), timeout)
        except TimeoutError:
            pass

    async def flush(self, session: AsyncSession) -> None:
        """Write the events not yet stored in the session's transaction (its commit keeps them): one
        multi-row INSERT, not an ORM object per event."""
        fresh = self.items[self._stored:]
        self._stored = len(self.items)
        if fresh:
            await session.execute(insert(ReleaseEvent), [
                {"app_id": self.app_id, "version": self.version, "seq": e["seq"], "created": e["created"],
                 "kind": e["kind"], "level": e["level"], "message": e["message"], "data": e["data"]}
                for e in fresh])


class QuietEvents(DeployEvents):
    """What callers outside a user's deploy pass (the reconciler's replacements): records nothing."""

    def __init__(self) -> None:
        super().__init__("", 0)

    def _add(self, kind: str, message: str, level: str = "INFO", **data: Any) -> None:
        return

    async def flush(self, session: AsyncSession) -> None:
        return


QUIET = QuietEvents()


@asynccontextmanager
async def recording(ctx, session: AsyncSession, app_id: str, version: int,
                    new_release: bool = True) -> AsyncIterator[DeployEvents]:
    """A recorder for a deploy run of `version`, visible to followers until the block ends. A scale or
    restart (`new_release=False`) continues the numbering of the release's events."""
    last = None if new_release else await session.scalar(select(func.max(ReleaseEvent.seq)).where(
        ReleaseEvent.app_id == app_id, ReleaseEvent.version == version))
    events = DeployEvents(app_id, version, (last or 0) + 1)
    runs = ctx.live_events
    runs[(app_id, version)] = events
    started, ctx.live_started = ctx.live_started, asyncio.Event()
    started.set()  # followers waiting for this run see it at once, not on their next poll
    try:
        yield events
    finally:
        events.done = True
        events._notify()
        if runs.get((app_id, version)) is events:
            del runs[(app_id, version)]


# --- reading -------------------------------------------------------------------------------------------


def row_out(row: ReleaseEvent | dict[str, Any]) -> dict[str, Any]:
    get = row.get if isinstance(row, dict) else lambda key: getattr(row, key)
    return {"seq": get("seq"), "created": _stamp(get("created")), "kind": get("kind"), "level": get("level"),
            "message": get("message"), "data": get("data") or {}}


async def stored(session: AsyncSession, app_id: str, version: int, since: int = 0,
                 limit: int = 10 * MAX_EVENTS_PER_RUN) -> list[ReleaseEvent]:
    stmt = (select(ReleaseEvent).where(ReleaseEvent.app_id == app_id, ReleaseEvent.version == version,
                                       ReleaseEvent.seq > since).order_by(ReleaseEvent.seq).limit(limit))
    return list((await session.scalars(stmt)).all())


async def recent_for_app(session: AsyncSession, app_id: str, count: int) -> list[ReleaseEvent]:
    stmt = (select(ReleaseEvent).where(ReleaseEvent.app_id == app_id)
            .order_by(ReleaseEvent.created.desc(), ReleaseEvent.id.desc()).limit(count))
    return list(reversed((await session.scalars(stmt)).all()))


def log_line(version: int, event: ReleaseEvent | dict[str, Any]) -> tuple[datetime, str]:
    """An event as a `deis logs` line: `<time> deis[deploy.v3]: INFO <message>`."""
    out = row_out(event)
    created = event["created"] if isinstance(event, dict) else event.created
    return created, f"{out['created']} deis[deploy.v{version}]: {out['level']} {out['message']}"


def live_lines(ctx, app_id: str) -> list[tuple[datetime, str]]:
    """The steps of the app's deploys under way (not stored until their outcome), as `deis logs` lines."""
    return [log_line(run.version, e) for (owner, _), run in list(ctx.live_events.items()) if owner == app_id
            for e in run.items]


async def follow(ctx, app_id: str, version: int, since: int = 0, poll: float = 0.25) -> AsyncIterator[str]:
    """The release's events after `since` as JSON lines, then every new one as the deploy records it (at
    once, from the live recorder), until the client goes away — the logs stream's shape, one JSON object a
    line."""
    last = since
    seen_run = None
    while True:
        run = ctx.live_events.get((app_id, version))
        if run is not None and run is not seen_run:
            # A new run. One refused before its release was stored (a 400 after the image was resolved)
            # stored nothing, and the next attempt at this version numbers from 1 again: show it whole.
            seen_run = run
            last = min(last, run.first_seq - 1)
        fresh: list[dict[str, Any]] = []
        if run is None or last < run.first_seq - 1:
            async with ctx.sessions() as session:
                fresh += [row_out(r) for r in await stored(session, app_id, version, last)]
            if fresh:
                last = fresh[-1]["seq"]
        if run is not None:
            fresh += [row_out(e) for e in run.after(last)]
        if fresh:
            last = fresh[-1]["seq"]
            yield "".join(json.dumps(e) + "\n" for e in fresh)
        if run is not None and not run.done:
            await run.wait(poll * 40)
        else:  # stored events are read every `poll`; a run that starts is seen at once
            started = ctx.live_started
            try:
                await asyncio.wait_for(started.wait(), poll)
            except TimeoutError:
                pass


# --- diagnosis -----------------------------------------------------------------------------------------

# `sl: local_address:port remote_address:port st ...`, LISTEN is state 0A
_LISTEN = re.compile(r"\s*\d+:\s+([0-9A-Fa-f]{8}|[0-9A-Fa-f]{32}):([0-9A-Fa-f]{4})\s+[0-9A-Fa-f:]+\s+0A\s")
_IPV6_LOOPBACK = "00000000000000000000000001000000"


def _loopback(address: str) -> bool:
    # /proc prints an IPv4 address as the little-endian hex of its network-order bytes: 127.x.y.z ends `7F`
    return address.upper().endswith("7F") if len(address) == 8 else address == _IPV6_LOOPBACK


def listening_ports(proc_net_tcp: str) -> list[int]:
    """The TCP ports in LISTEN state in `/proc/net/tcp` + `/proc/net/tcp6` text, reachable from outside the
    container: loopback listeners (Docker's embedded DNS on 127.0.0.11 among them) are left out."""
    return sorted({int(m.group(2), 16) for line in proc_net_tcp.splitlines()
                   if (m := _LISTEN.match(line)) and not _loopback(m.group(1))})


def hint_for(kind: str, data: dict[str, Any]) -> str:
    """What the user can do about the error event that failed a deploy (the release before keeps serving)."""
    if kind == "crash" and data.get("oom_killed"):
        return "Raise the memory limit (`deis limits:set cmd=<size>`) or make the process use less."
    if kind == "crash":
        return ("The process exited as it started: read its last lines (above, and `deis logs`), fix the image "
                "or its command, then deploy again.")
    if kind == "port" and data.get("listening"):
        port = data["listening"][0]
        return (f"The process listens on {port}, not on {data.get('port')}: run `deis config:set PORT={port}`, "
                f"or make it listen on $PORT.")
    if kind == "port":
        return ("Nothing accepted connections in time: make the process listen on $PORT, or give it longer with "
                "`deis config:set DEIS_DEPLOY_TIMEOUT=<seconds>`.")
    if kind == "probe":
        return "The readiness probe never passed: check it with `deis healthchecks:list` and `deis logs`."
    return ""
