"""Router instances in other containers (`workflow router` tasks on a swarm), driven by the controller over
their authenticated TCP control endpoints and kept consistent.

`ClusterRouter` is the controller's one `Router` for all of them: the route logic of `LiveRoutes` (validation,
versioned per-app writes, certificate refusals) over a `Fleet`, which sends each write to every instance
counted in. The instances are discovered again every `interval` (the router service's running tasks and their
overlay addresses). An instance is counted in only once it holds the whole table: a new one, one whose nginx
restarted (its shared memory's id, `GET /boot`, changed) and one a write failed on are first given every live
route, the routes the controller no longer has are removed from it, and it is told the table is whole
(`ready`). Until then it serves what it had — a new instance nothing: 503 with Retry-After for every host — and
no write waits on it. A failed read (counters, requests in flight) only leaves the instance out of that answer.
Counters are summed and drains waited on all.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Sequence

from workflow.router.control import ControlClient
from workflow.router.live import LiveRoutes
from workflow.router.table import RouterError, RouteTable

logger = logging.getLogger("workflow.router")

# The router instances' addresses (an IP, the control port being the configured one, or IP:PORT) → a name
# for messages (the task id).
Discover = Callable[[], Awaitable[dict[str, str]]]


class Instance:
    def __init__(self, address: str, port: int, token: str, timeout: float, connect_timeout: float):
        self.address = address
        host, _, given = address.rpartition(":")
        host, port = (host, int(given)) if host and given.isdigit() else (address, port)
        self.client = ControlClient(address=(host, port), token=token, timeout=timeout,
                                    connect_timeout=connect_timeout)
        self.boot: str | None = None  # the id of the shared memory it was given the table in
        self.synced = False  # holds the whole table: writes go to it


class Fleet:
    """Answers like one `ControlClient` for all the instances counted in."""

    def __init__(self) -> None:
        self.instances: dict[str, Instance] = {}

    def counted(self) -> list[Instance]:
        return [i for i in self.instances.values() if i.synced]

    async def _each(self, call: Callable[[ControlClient], Awaitable[object]], write: bool = False) -> list[object]:
        """The answers of the instances counted in. One that fails a write is counted out (it may have missed
        it: the next round gives it the whole table again); one that fails a read is only left out of the
        answers (it missed no write, and counting it out would have writes skip it until that round)."""
        instances = self.counted()
        answers = await asyncio.gather(*(call(i.client) for i in instances), return_exceptions=True)
        out = []
        for instance, answer in zip(instances, answers, strict=True):
            if isinstance(answer, RouterError) and not write:
                logger.warning("router instance %s left out of a read: %s", instance.address, answer.message)
            elif isinstance(answer, RouterError):
                logger.warning("router instance %s counted out until it is in sync again: %s",
                               instance.address, answer.message)
                instance.synced = False
            elif isinstance(answer, BaseException):
                raise answer
            else:
                out.append(answer)
        return out

    async def write(self, items: list[dict]) -> dict[str, str]:
        """Every instance gets the writes; an app's result is "ok" when every instance took it, else a refusal
        one gave (the caller retries with the app's previous route on all). No instance: all "ok" (the
        controller's table is the reference; instances get it when they are counted in)."""
        results = {item["app"]: "ok" for item in items}
        for answer in await self._each(lambda c: c.write(items), write=True):
            for app, result in answer.items():
                if result != "ok":
                    results[app] = result
        return results

    async def routes(self) -> dict[str, str]:
        answers = await self._each(lambda c: c.routes())
        return answers[0] if answers else {}

    async def inflight(self, upstreams: list[str]) -> dict[str, int]:
        out = dict.fromkeys(upstreams, 0)
        for answer in await self._each(lambda c: c.inflight(upstreams)):
            for upstream, count in answer.items():
                out[upstream] = out.get(upstream, 0) + max(int(count), 0)
        return out

    async def stats(self) -> dict:
        buckets, apps = [], {}
        for answer in await self._each(lambda c: c.stats()):
            buckets = answer.get("buckets") or buckets
            for app, raw in (answer.get("apps") or {}).items():
                total = apps.setdefault(app, {"requests": 0, "status": {}, "latency": {}, "time_ms": 0.0})
                total["requests"] += int(raw.get("requests") or 0)
                total["time_ms"] += float(raw.get("time_ms") or 0)
                for kind in ("status", "latency"):
                    for key, count in (raw.get(kind) or {}).items():
                        total[kind][key] = total[kind].get(key, 0) + int(count)
        return {"buckets": buckets, "apps": apps}

    def close(self) -> None:
        for instance in self.instances.values():
            instance.client.close()


class ClusterRouter(LiveRoutes):
    """The routes of every router instance `discover` finds, reached on `control_port` with `token`."""

    def __init__(self, *, discover: Discover, control_port: int, token: str, api_hosts: Sequence[str] = (),
                 interval: float = 1.0, timeout: float = 10.0, connect_timeout: float = 2.0):
        """`connect_timeout`: an instance on a dead node never answers a connect, and a write waits for it
        that long before it is counted out; `timeout`: a live one on a loaded node may take long to answer."""
        super().__init__(api_hosts)
        self._discover = discover
        self._port = control_port
        self._token = token
        self._interval = interval
        self._timeout = timeout
        self._connect_timeout = connect_timeout
        self._fleet = Fleet()
        self._control = self._fleet  # type: ignore[assignment]  # answers like a ControlClient
        self._task: asyncio.Task[None] | None = None
        self.syncs = 0  # instances given the whole table

    @property
    def instances(self) -> dict[str, bool]:
        """address → counted in."""
        return {address: i.synced for address, i in self._fleet.instances.items()}

    async def start(self, table: RouteTable) -> None:
        """Take `table` and give it to the instances found now; later ones get it when they appear."""
        if self._started:
            raise RouterError("The router is already started")
        self._started, self._stopping = True, False
        async with self._lock:
            await self._apply(table)
        await self.refresh()
        self._task = asyncio.create_task(self._watch(), name="router-instances")

    async def stop(self) -> None:
        self._stopping = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self._fleet.close()
        self._started = False

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self.refresh()
            except Exception:  # the next round tries again; the loop must outlive any one failure
                logger.exception("checking the router instances failed")

    async def refresh(self) -> None:
        """Find the instances; count in, with the whole table, those that are new, restarted or out."""
        try:
            found = await self._discover()
        except Exception as exc:  # the engine may be away a moment: keep the instances known
            logger.warning("cannot list the router instances: %s", exc)
            return
        fleet = self._fleet.instances
        for address in fleet.keys() - found.keys():
            logger.info("router instance %s is gone", address)
            fleet.pop(address).client.close()
        for address in found.keys() - fleet.keys():
            fleet[address] = Instance(address, self._port, self._token, self._timeout,
                                      self._connect_timeout)
        await asyncio.gather(*(self._check(i) for i in list(fleet.values())))

    async def _check(self, instance: Instance) -> None:
        try:
            boot = await instance.client.boot()
        except RouterError as exc:
            # Not counted out for this: it missed no write (a write that fails counts it out).
            logger.warning("router instance %s does not answer: %s", instance.address, exc.message)
            return
        if instance.synced and boot == instance.boot:
            return
        async with self._lock:  # no write in between: it gets the table as it is now, then every write after
            if self._stopping:
                return
            try:
                await self._push_all(instance)
            except RouterError as exc:
                logger.warning("router instance %s did not take the table: %s", instance.address, exc.message)
                instance.synced = False
                return
            instance.boot, instance.synced = boot, True
            self.syncs += 1
            logger.info("router instance %s serves the whole table (%d apps)", instance.address, len(self._live))

    async def _push_all(self, instance: Instance) -> None:
        """Every live route to `instance`, and the removal of the apps it holds that are not live here."""
        held = {app: json.loads(text) for app, text in (await instance.client.routes()).items()}
        # Its versions may be another controller's (before a restart): write above them.
        self._version = max([self._version, *(int(r.get("version") or 0) for r in held.values())])
        items = []
        for app, (_, body, _) in self._live.items():
            if body is not None:
                version, text = self._text(body)
                items.append({"app": app, "version": version, "route": text})
        for app in held.keys() - {a for a, (_, body, _) in self._live.items() if body is not None}:
            self._version += 1
            items.append({"app": app, "version": self._version, "route": None})
        results = await instance.client.write(items) if items else {}
        failed = {app: r for app, r in results.items() if r != "ok"}
        if failed:  # refused where the others took it (they agree on what nginx loads): not the same table
            raise RouterError(f"routes not taken: {failed}")
        await instance.client.ready()
