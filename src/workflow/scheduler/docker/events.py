"""What the engine reports as it happens: container lifecycle events of deis containers, and CPU statistics
(the autoscaler's measurements)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from aiodocker.events import DockerEvents

from ...domain.autoscale import CpuSample
from ..base import HERITAGE, LABEL_HERITAGE, Container, EngineEvent, EngineUnavailable
from .conversion import parse_time, to_event
from .engine import TRANSLATED, Engine, engine_message

#: Engine container events passed on by `events()`.
EVENT_ACTIONS = ("start", "die", "oom", "kill", "destroy")


class Events(Engine):
    async def events(self) -> AsyncIterator[EngineEvent]:
        """Engine container events (`EVENT_ACTIONS`) of deis containers, as they happen.

        Runs until the consumer stops iterating; when the engine connection drops it raises
        EngineUnavailable (the consumer reconnects and reconciles, as events may have been missed).
        """
        filters = {
            "type": ["container"],
            "label": [f"{LABEL_HERITAGE}={HERITAGE}"],
            "event": list(EVENT_ACTIONS),
        }
        stream = DockerEvents(self._docker)
        subscriber = stream.subscribe(filters=filters)
        try:
            while True:
                data = await subscriber.get()
                if data is None:
                    cause = None
                    task = stream.task
                    if task is not None:
                        with contextlib.suppress(asyncio.CancelledError, Exception):
                            await task
                        if task.done() and not task.cancelled():
                            cause = task.exception()
                    detail = f": {engine_message(cause)}" if cause else ""
                    raise EngineUnavailable(f"Docker engine event stream closed{detail}")
                try:
                    event = to_event(data)
                except (KeyError, ValueError, TypeError):  # a malformed event is skipped, not fatal
                    continue
                if event is not None:
                    yield event
        finally:
            with contextlib.suppress(*TRANSLATED, asyncio.CancelledError):
                await stream.stop()

    async def _cpu_sample(self, container: Container) -> CpuSample | None:
        """One-shot stats (`one-shot=true`, API 1.41): the engine's next reading, without a second one. Without
        it `stream=false` waits for two readings of the engine's 1 s stats collector (1–2 s, dockerd 20.10.24);
        with it the answer comes at the collector's next tick (0–1 s; at once when the collector was idle).
        The autoscaler keeps the previous pass's sample instead. None when the container is gone or stopped."""
        stats = await self._call(f"reading CPU use of {container.name}", lambda: self._docker._query_json(
            f"containers/{container.id}/stats", params={"stream": "false", "one-shot": "true"}), absent=(404, 409))
        if stats is None:
            return None
        read = parse_time(stats.get("read"))
        usage = ((stats.get("cpu_stats") or {}).get("cpu_usage") or {}).get("total_usage")
        if read is None or not isinstance(usage, int) or usage <= 0:  # a stopped container reads as zeros
            return None
        return CpuSample(usage_ns=usage, read_ns=int(read.timestamp()) * 10**9 + read.microsecond * 1000)

    async def cpu_usage(self, containers: list[Container], concurrency: int = 8) -> dict[str, CpuSample]:
        """Cumulative CPU time of each running container, by id (`concurrency` engine calls at a time);
        containers that are gone or stopped are left out."""
        gate = asyncio.Semaphore(concurrency)

        async def one(container: Container) -> tuple[str, CpuSample | None]:
            async with gate:
                return container.id, await self._cpu_sample(container)

        results = await asyncio.gather(*(one(c) for c in containers))
        return {cid: sample for cid, sample in results if sample is not None}
