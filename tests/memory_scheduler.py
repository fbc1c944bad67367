"""An in-memory container backend for fast service tests: the `Scheduler` Protocol without an engine.

Each instance of a spec with a port is a real TCP listener on its own loopback address (127.0.0.N), so the
converge path's readiness check (a connect to address:port) runs unchanged; a spec whose env has `CRASH=<code>`
makes instances that exit at once with that code. `tests/scheduler/test_contract.py` holds it to the same
contract as the Docker engine backend; never a stand-in for the engine tests.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime

from workflow.domain.naming import pod_name
from workflow.scheduler.base import (
    Container,
    ContainerSpec,
    EngineEvent,
    ImageInfo,
    OwnContainers,
    PullListener,
    PullProgress,
    RegistryAuth,
    unmatched,
)

_ADDRESSES = itertools.count(2)


class MemoryScheduler(OwnContainers):
    def __init__(self) -> None:
        self.containers: dict[str, Container] = {}
        self.removed: list[tuple[str, int]] = []  # (container id, grace seconds), in order
        self.started: list[str] = []  # container ids, in order
        self.pulled: set[str] = set()  # image references "pulled" (the first pull reports progress)
        self._servers: dict[str, asyncio.AbstractServer] = {}

    # --- lifecycle ---------------------------------------------------------------------------------

    async def ensure_network(self) -> None:
        return None

    async def close(self) -> None:
        self.stop_listening()

    def stop_listening(self) -> None:
        for server in self._servers.values():
            server.close()
        self._servers.clear()

    async def ping(self) -> None:
        return None

    async def engine_labels(self) -> dict[str, str]:
        return {}

    async def unmatched_tags(self, tags: dict[str, str]) -> list[str]:
        return unmatched(tags, await self.engine_labels())

    # --- images ------------------------------------------------------------------------------------

    async def resolve(self, image: str, auth: RegistryAuth | None = None) -> str:
        return "sha256:" + "0" * 64

    async def pull(self, image: str, auth: RegistryAuth | None = None, always: bool = False,
                   progress: PullListener | None = None) -> ImageInfo:
        if image not in self.pulled or always:  # a one-layer "pull" of an image it lacks, as an engine would
            self.pulled.add(image)
            if progress is not None:
                progress(PullProgress(layers_done=0, layers=1, current=0, total=1000))
                progress(PullProgress(layers_done=1, layers=1, current=1000, total=1000, layer="memory"))
        return ImageInfo(image=image, exposed_ports=[8080], entrypoint=None, cmd=["httpd"])

    async def remove_images(self, refs: list[str]) -> list[str]:
        return []

    async def login(self, auth: RegistryAuth) -> None:
        return None

    # --- containers --------------------------------------------------------------------------------

    async def start(self, spec: ContainerSpec, count: int) -> list[Container]:
        made = []
        for _ in range(count):
            address = f"127.0.0.{next(_ADDRESSES) % 250 + 2}"
            crash = spec.env.get("CRASH")
            container = Container(
                id=uuid.uuid4().hex, name=pod_name(spec.app, spec.proc_type, spec.version), app=spec.app,
                proc_type=spec.proc_type, version=spec.version, state="crashed" if crash else "up",
                started=datetime.now(UTC), address=address, port=spec.port,
                # CRASH=<code>: the process exited; CRASH=<text>: it never ran, the backend says why
                exit_code=int(crash) if crash and crash.isdigit() else None,
                error=crash if crash and not crash.isdigit() else None)
            if spec.port is not None and not crash:
                self._servers[container.id] = await asyncio.start_server(_answer, address, spec.port)
            self.containers[container.id] = container
            self.started.append(container.id)
            made.append(container)
        return made

    async def list(self, app: str | None = None, proc_type: str | None = None,
                   version: int | None = None) -> list[Container]:
        found = [c for c in self.containers.values() if (app is None or c.app == app)
                 and (proc_type is None or c.proc_type == proc_type) and (version is None or c.version == version)]
        return sorted(found, key=lambda c: c.started or datetime.min.replace(tzinfo=UTC), reverse=True)

    async def get(self, container_id: str) -> Container | None:
        return self.containers.get(container_id)

    async def remove(self, containers: list[Container], grace_seconds: int = 30) -> None:
        for container in containers:
            self.removed.append((container.id, grace_seconds))
            self.containers.pop(container.id, None)
            server = self._servers.pop(container.id, None)
            if server is not None:
                server.close()

    def crash(self, container_id: str, exit_code: int = 1) -> None:
        """The instance's process exits (what a `die` event reports)."""
        server = self._servers.pop(container_id, None)
        if server is not None:
            server.close()
        self.containers[container_id] = replace(self.containers[container_id], state="crashed", exit_code=exit_code)

    async def logs(self, container: Container, tail: int) -> list[tuple[datetime, str]]:
        return []

    async def run_once(self, spec: ContainerSpec, timeout: float) -> tuple[int, str]:
        return 0, ""

    async def exec(self, container: Container, command: list[str], timeout: float) -> int:
        return 0

    async def exec_output(self, container: Container, command: list[str], timeout: float) -> tuple[int, str]:
        return 0, ""

    async def events(self) -> AsyncIterator[EngineEvent]:
        await asyncio.Event().wait()
        yield  # pragma: no cover

    async def cpu_usage(self, containers: list[Container], concurrency: int = 8) -> dict:
        return {}


async def _answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.close()
