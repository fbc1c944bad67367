"""App containers on the engine: the platform network, create/start/list/remove by labels, logs, exec and
one-off runs. See the package docstring for how Deis pods map onto containers."""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from datetime import UTC, datetime
from typing import Any

from aiodocker.exceptions import DockerError
from aiodocker.multiplexed import multiplexed_result_stream

from ...domain import naming
from ..base import HERITAGE, LABEL_APP, LABEL_HERITAGE, Container, ContainerSpec, OwnContainers, SchedulerError
from .conversion import create_config, parse_time, summary_info, to_container
from .engine import NO_ICC, TRANSLATED, engine_message, translate
from .images import Images


class Containers(OwnContainers, Images):
    def _to_container(self, info: dict[str, Any]) -> Container | None:
        """Contract view of an inspected container; None unless it is a deis container on our network."""
        return to_container(info, self.network, self._terminating)

    async def ensure_network(self) -> None:
        """Create the platform bridge network (labelled heritage=deis, inter-container traffic off) when it
        does not exist. One of ours from before ICC was turned off is migrated (`_migrate_network`); a
        network of that name that is not ours and lets containers reach each other is refused."""
        async with self._network_lock:
            if self._network_ready:
                return
            doing = f"creating network {self.network}"
            try:
                async with asyncio.timeout(self._api_timeout):
                    try:
                        info = await (await self._docker.networks.get(self.network)).show()
                    except DockerError as exc:
                        if exc.status != 404:
                            raise
                        info = None
                    if info is None:
                        await self._create_network()
                if info is not None and (info.get("Options") or {}).get(NO_ICC) != "false":
                    if (info.get("Labels") or {}).get(LABEL_HERITAGE) != HERITAGE:
                        raise SchedulerError(
                            f"network {self.network} is not the platform's and lets containers reach each "
                            f"other: remove it, or set WORKFLOW_DOCKER_NETWORK to a name the platform may create")
                    doing = f"migrating network {self.network}"
                    async with asyncio.timeout(self._api_timeout * 4):
                        await self._migrate_network(info)
            except TRANSLATED as exc:
                raise translate(exc, doing) from exc
            self._network_ready = True

    async def _create_network(self) -> None:
        try:
            await self._docker.networks.create({
                "Name": self.network,
                "Driver": "bridge",
                "CheckDuplicate": True,
                "Labels": {LABEL_HERITAGE: HERITAGE},
                "Options": {NO_ICC: "false"},
            })
        except DockerError as exc:
            if exc.status != 409:  # created meanwhile by another process
                raise

    async def _migrate_network(self, info: dict[str, Any]) -> None:
        """Recreate our network with inter-container traffic off (an option fixed at creation): its running
        containers are disconnected, the network removed and created again, and the containers reconnected.
        Runs at start-up, before the route table is built from the listing, so the router follows the
        containers' new addresses; a container that cannot be reconnected is removed (off the network it
        would be invisible to the platform) and the reconciler replaces it."""
        members = list((info.get("Containers") or {}).keys())
        old = await self._docker.networks.get(info["Id"])
        for container_id in members:
            with contextlib.suppress(DockerError):
                await old.disconnect({"Container": container_id, "Force": True})
        await old.delete()
        await self._create_network()
        new = await self._docker.networks.get(self.network)
        for container_id in members:
            try:
                await new.connect({"Container": container_id})
            except DockerError:
                labels = ((await self._inspect_container(container_id) or {}).get("Config") or {}).get("Labels")
                if (labels or {}).get(LABEL_HERITAGE) == HERITAGE and LABEL_APP in labels:
                    await self._discard(container_id)

    async def _inspect_container(self, ref: str) -> dict[str, Any] | None:
        """`docker inspect` of a container; None when it does not exist."""
        info = await self._call(f"inspecting container {ref}", lambda: self._docker.containers.container(ref).show(),
                                absent=(404,))
        if info is None:
            return None
        state = info.get("State") or {}
        if state.get("Status") == "running" and state.get("StartedAt"):
            self._started_at[info["Id"]] = state["StartedAt"]
        else:
            self._started_at.pop(info["Id"], None)
        return info

    async def _create(self, spec: ContainerSpec) -> str:
        """Create one container of `spec` (pulling its image once if the engine lost it); its id."""
        await self.ensure_network()
        name = naming.pod_name(spec.app, spec.proc_type, spec.version)
        config = create_config(spec, name, self.network, self.limits)
        doing = f"creating {name}"
        for attempt in range(2):
            try:
                async with asyncio.timeout(self._api_timeout):
                    created = await self._docker.containers.create(config, name=name)
                return created.id
            except DockerError as exc:
                low = engine_message(exc).lower()
                if attempt == 0 and exc.status == 404 and "no such image" in low:
                    await self.pull(spec.image, auth=spec.registry_auth)
                    continue
                if attempt == 0 and exc.status == 404 and "network" in low:
                    self._network_ready = False
                    await self.ensure_network()
                    continue
                if exc.status == 409:  # name clash: a new random suffix
                    name = naming.pod_name(spec.app, spec.proc_type, spec.version)
                    config = create_config(spec, name, self.network, self.limits)
                    continue
                raise self._start_error(exc, doing) from exc
            except TRANSLATED as exc:
                raise translate(exc, doing) from exc
        raise SchedulerError(f"could not create a container for {spec.app}-{spec.proc_type}")

    @staticmethod
    def _start_error(exc: DockerError, doing: str) -> SchedulerError:
        if exc.status == 400 or exc.status == 404 or (exc.status == 500 and "oci runtime" in str(exc).lower()):
            # The image/command cannot run ("No command specified", "executable file not found"...).
            return SchedulerError(f"{doing}: {engine_message(exc)}")
        return translate(exc, doing)

    async def _create_and_start(self, spec: ContainerSpec) -> Container:
        container_id = await self._create(spec)
        try:
            try:
                async with asyncio.timeout(self._api_timeout):
                    await self._docker.containers.container(container_id).start()
            except DockerError as exc:
                raise self._start_error(exc, f"starting {spec.app}-{spec.proc_type}") from exc
            except TRANSLATED as exc:
                raise translate(exc, f"starting {spec.app}-{spec.proc_type}") from exc
            info = await self._inspect_container(container_id)
            container = self._to_container(info) if info else None
            if container is None:
                raise SchedulerError(f"container {container_id[:12]} vanished right after starting")
            return container
        except BaseException:
            await self._discard(container_id)
            raise

    async def _discard(self, container_id: str) -> None:
        """Force-remove a container, ignoring engine errors. Cleanup path: when the caller is cancelled
        meanwhile, the removal still completes (bounded by `api_timeout`) before the cancellation goes on."""

        async def go() -> None:
            with contextlib.suppress(*TRANSLATED):
                async with asyncio.timeout(self._api_timeout):
                    await self._docker.containers.container(container_id).delete(force=True, v=True)

        task = asyncio.ensure_future(go())
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            await task
            raise

    async def start(self, spec: ContainerSpec, count: int) -> list[Container]:
        """Create and start `count` new containers of `spec`, `limits.create_batch_size` at a time (1,000 at
        once made the engine time out for everyone). All or nothing: when one fails the others are removed
        and the first error is raised."""
        started: list[Container] = []
        try:
            while len(started) < count:
                size = min(self.limits.create_batch_size, count - len(started))
                results = await asyncio.gather(*(self._create_and_start(spec) for _ in range(size)),
                                               return_exceptions=True)
                started += [r for r in results if isinstance(r, Container)]
                errors = [r for r in results if isinstance(r, BaseException)]
                if errors:
                    first = errors[0]
                    if isinstance(first, Exception) and not isinstance(first, SchedulerError):
                        raise translate(first, f"starting {spec.app}-{spec.proc_type}") from first
                    raise first
        except BaseException:  # a failure or a cancellation: nothing of this call stays behind
            await asyncio.gather(*(self._discard(c.id) for c in started))
            raise
        return started

    async def list(
        self, app: str | None = None, proc_type: str | None = None, version: int | None = None
    ) -> list[Container]:
        """Deis containers (any state), narrowed by the labels given; newest start first."""
        # Only this platform's containers: several platforms (or test sessions) may share one engine, each
        # with its own network, and must not see (or reconcile away) each other's containers.
        filters = {"label": naming.label_filter(app, proc_type, version), "network": [self.network]}
        listed = await self._call(
            "listing containers", lambda: self._docker.containers.list(all=True, filters=filters)
        )
        # One engine call for the whole listing. Only containers the listing cannot describe exactly are
        # inspected: stopped ones (exit code, OOM flag) and running ones not seen before (start time).
        summaries = [c._container for c in listed]
        infos: list[dict[str, Any] | None] = []
        inspect: list[str] = []
        for summary in summaries:
            status = summary.get("State", "")
            if status == "created":
                infos.append(summary_info(summary, None))
            elif status == "running" and summary["Id"] in self._started_at:
                infos.append(summary_info(summary, self._started_at[summary["Id"]]))
            else:
                inspect.append(summary["Id"])
        infos += await asyncio.gather(*(self._inspect_container(cid) for cid in inspect))
        if app is None and proc_type is None and version is None:  # a full listing: forget what is gone
            present = {s["Id"] for s in summaries}
            for cid in [cid for cid in self._started_at if cid not in present]:
                del self._started_at[cid]
        containers = [c for c in (self._to_container(i) for i in infos if i) if c is not None]
        epoch = datetime.min.replace(tzinfo=UTC)
        containers.sort(key=lambda c: (c.started or epoch, c.name), reverse=True)
        return containers

    async def get(self, container_id: str) -> Container | None:
        """One deis container by id or name; None when missing or not ours."""
        info = await self._inspect_container(container_id)
        return self._to_container(info) if info else None

    async def _remove_one(self, container: Container, grace_seconds: int) -> None:
        handle = self._docker.containers.container(container.id)
        self._terminating.add(container.id)
        doing = f"removing {container.name}"
        try:
            # 304, 404, 409: already stopped / gone / being removed
            await self._call(doing, lambda: handle.stop(t=grace_seconds), absent=(304, 404, 409),
                             timeout=grace_seconds + self._api_timeout)
            await self._call(doing, lambda: handle.delete(force=True, v=True), absent=(404, 409))  # and its volumes
        finally:
            self._terminating.discard(container.id)
            self._started_at.pop(container.id, None)

    async def remove(self, containers: list[Container], grace_seconds: int = 30) -> None:
        """Stop (SIGTERM, SIGKILL after `grace_seconds`) and remove, concurrently; gone already is fine."""
        results = await asyncio.gather(
            *(self._remove_one(c, grace_seconds) for c in containers), return_exceptions=True
        )
        for r in results:
            if isinstance(r, BaseException):
                raise r

    async def _read_output(self, container_id: str, max_bytes: int, resource: str = "containers",
                           **params: str | bool) -> tuple[str, bool]:
        """stdout+stderr of a container as the engine streams it, never more than the newest `max_bytes`
        in memory (a tenant's output can be as large as its log files); (text, whether older output was
        dropped). Our containers have no TTY, so the stream is multiplexed."""
        query = {"stdout": True, "stderr": True, "follow": False, **params}
        kept: deque[bytes] = deque()
        size = 0
        truncated = False
        async with self._docker._query(f"{resource}/{container_id}/logs", method="GET", params=query) as response:
            async for chunk in multiplexed_result_stream(response, is_tty=False):
                data = chunk.encode() if isinstance(chunk, str) else bytes(chunk)
                kept.append(data)
                size += len(data)
                while size - len(kept[0]) >= max_bytes:  # whole chunks that fall outside the newest bytes
                    size -= len(kept.popleft())
                    truncated = True
        data = b"".join(kept)
        if len(data) > max_bytes:
            data, truncated = data[-max_bytes:], True
        return data.decode(errors="replace"), truncated

    async def logs(self, container: Container, tail: int) -> list[tuple[datetime, str]]:
        """The last `tail` lines of stdout+stderr with their engine timestamps (UTC), oldest first."""
        if tail <= 0:
            return []
        read = await self._call(f"reading logs of {container.name}", lambda: self._read_output(
            container.id, self.limits.log_read_max_bytes, timestamps=True, tail=str(tail)), absent=(404,))
        return self._log_lines(read)

    @staticmethod
    def _log_lines(read: tuple[str, bool] | None) -> list[tuple[datetime, str]]:
        """Timestamped engine output (`_read_output(..., timestamps=True)`) as (time, line), oldest first."""
        if read is None:
            return []
        text, truncated = read
        if truncated:  # the first line is cut: drop it
            text = text.partition("\n")[2]
        lines: list[tuple[datetime, str]] = []
        for raw in text.splitlines():
            stamp, _, text = raw.partition(" ")
            when = parse_time(stamp)
            if when is None:  # a continuation without timestamp: keep it with the previous time
                when = lines[-1][0] if lines else datetime.now(UTC)
                text = raw
            lines.append((when, text))
        # The engine interleaves stdout and stderr per stream; order them by time (stable for equal times).
        lines.sort(key=lambda line: line[0])
        return lines

    async def exec(self, container: Container, command: list[str], timeout: float) -> int:
        """Run a command inside a running container (exec probes); its exit code."""
        handle = self._docker.containers.container(container.id)
        try:
            async with asyncio.timeout(timeout):
                execution = await handle.exec(cmd=command, stdout=True, stderr=True)
                async with execution.start(detach=False) as stream:
                    while await stream.read_out() is not None:
                        pass
                info = await execution.inspect()
        except TimeoutError as exc:
            raise SchedulerError(f"exec in {container.name} timed out after {timeout:g} s") from exc
        except TRANSLATED as exc:
            raise translate(exc, f"exec in {container.name}") from exc
        return int(info.get("ExitCode") or 0)

    async def exec_output(self, container: Container, command: list[str], timeout: float,
                          limit: int = 65536) -> tuple[int, str]:
        """Like `exec`, with the command's stdout (the first `limit` bytes): deploy diagnosis reads
        /proc/net/tcp of a container that does not answer on its port."""
        handle = self._docker.containers.container(container.id)
        chunks: list[bytes] = []
        size = 0
        try:
            async with asyncio.timeout(timeout):
                execution = await handle.exec(cmd=command, stdout=True, stderr=False)
                async with execution.start(detach=False) as stream:
                    while (message := await stream.read_out()) is not None:
                        if size < limit:
                            chunks.append(message.data[:limit - size])
                            size += len(chunks[-1])
                info = await execution.inspect()
        except TimeoutError as exc:
            raise SchedulerError(f"exec in {container.name} timed out after {timeout:g} s") from exc
        except TRANSLATED as exc:
            raise translate(exc, f"exec in {container.name}") from exc
        return int(info.get("ExitCode") or 0), b"".join(chunks).decode("utf-8", "replace")

    async def run_once(self, spec: ContainerSpec, timeout: float) -> tuple[int, str]:  # noqa: ASYNC109
        """Run one ephemeral container to completion: (exit code, combined stdout+stderr).

        The container is removed afterwards in every case. On timeout it is killed and SchedulerError raised.
        """
        container_id = await self._create(spec)
        handle = self._docker.containers.container(container_id)
        try:
            try:
                async with asyncio.timeout(self._api_timeout):
                    await handle.start()
            except DockerError as exc:
                raise self._start_error(exc, f"starting {spec.app}-{spec.proc_type}") from exc
            try:
                async with asyncio.timeout(timeout):
                    result = await handle.wait()
            except TimeoutError as exc:
                raise SchedulerError(f"command timed out after {timeout:g} seconds and was killed") from exc
            exit_code = int(result.get("StatusCode", -1))
            limit = self.limits.run_output_max_bytes
            async with asyncio.timeout(self._api_timeout):
                output, truncated = await self._read_output(container_id, limit)
            if truncated:
                output = f"[output truncated: only its last {limit} bytes are kept]\n" + output
            return exit_code, output
        except TRANSLATED as exc:
            raise translate(exc, f"running {spec.app}-{spec.proc_type}") from exc
        finally:
            await self._discard(container_id)
