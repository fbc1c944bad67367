"""The engine connection every part of the Docker backend shares: the client, the limits app containers are
held to, and `_call`, the one way a short engine call is bounded in time and its errors translated into the
`SchedulerError` family (nothing from aiodocker or aiohttp leaves this package)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import aiodocker
import aiohttp
from aiodocker.exceptions import DockerError

from .. import images
from ..base import EngineUnavailable, SchedulerError, unmatched

T = TypeVar("T")


@dataclass(frozen=True)
class ContainerLimits:
    """What every app container is held to, whatever its tenant asks for (README "Security model")."""

    pids_limit: int = 1024  # processes (a fork bomb stops there)
    log_max_size: str = "10m"  # json-file rotation: at most log_max_files files of log_max_size each
    log_max_files: int = 3
    max_cpu_shares: int = 1024  # CPU weight under contention (1024 = Docker's default, one core's worth)
    create_batch_size: int = 10  # containers one `start` creates at once
    run_output_max_bytes: int = 1024 * 1024  # `run_once` keeps the last bytes of the output
    log_read_max_bytes: int = 1024 * 1024  # `logs` reads at most this much of one container's newest output


#: Network option that keeps containers on the platform bridge from reaching each other (the host — the
#: router and the controller's probes — still reaches every container).
NO_ICC = "com.docker.network.bridge.enable_icc"


def engine_message(exc: BaseException) -> str:
    if isinstance(exc, DockerError):
        return str(exc.message).strip()
    return str(exc).strip() or type(exc).__name__


def translate(exc: BaseException, doing: str) -> SchedulerError:
    """An engine/transport exception as a SchedulerError (`doing`: what we were doing, for the message)."""
    if isinstance(exc, SchedulerError):
        return exc
    if isinstance(exc, TimeoutError):
        return EngineUnavailable(f"Docker engine timed out while {doing}")
    if isinstance(exc, DockerError):
        # aiodocker reports connection failures as status 900.
        if exc.status == 900 or exc.status in (502, 503, 504):
            return EngineUnavailable(f"Docker engine unavailable while {doing}: {engine_message(exc)}")
        return SchedulerError(f"Docker engine error while {doing}: {engine_message(exc)}")
    if isinstance(exc, aiohttp.ClientError | OSError):
        return EngineUnavailable(f"Docker engine unavailable while {doing}: {engine_message(exc)}")
    return SchedulerError(f"unexpected error while {doing}: {engine_message(exc)}")


TRANSLATED = (DockerError, aiohttp.ClientError, OSError, TimeoutError, ValueError, KeyError)


class Engine:
    """The engine client and what every call needs. See `DockerScheduler` for the parts built on it."""

    def __init__(
        self,
        docker: aiodocker.Docker,
        network: str = "workflow",
        *,
        api_timeout: float = 30.0,
        pull_timeout: float = 600.0,
        limits: ContainerLimits | None = None,
    ) -> None:
        self._docker = docker
        self.network = network
        self.limits = limits or ContainerLimits()
        self._api_timeout = api_timeout
        self._pull_timeout = pull_timeout
        self._owns_docker = False
        self._network_ready = False
        self._network_lock = asyncio.Lock()
        # Containers this process is stopping: reported as `terminating` until gone.
        self._terminating: set[str] = set()
        # Container id -> `State.StartedAt` of a running container, learned from an inspect. The listing
        # (`GET /containers/json`) has everything else a Container needs but only whole-second creation times,
        # so a running container is inspected once, not on every listing (see `list`).
        self._started_at: dict[str, str] = {}
        # Whether the engine serves `GET /distribution/{name}/json` (API 1.30+); when not, `resolve` asks the
        # registry itself, with the engine's registry settings (read once).
        self.distribution_inspect = True
        self._registries: images.RegistrySettings | None = None

    @classmethod
    def from_url(cls, url: str | None = None, network: str = "workflow", **kwargs: Any) -> Any:
        """A backend with its own client for `url` (`unix:///var/run/docker.sock`, `tcp://…`; None = default)."""
        try:
            docker = aiodocker.Docker(url=url)
        except (ValueError, OSError, DockerError) as exc:
            raise EngineUnavailable(f"cannot open Docker engine {url or '(default)'}: {exc}") from exc
        scheduler = cls(docker, network, **kwargs)
        scheduler._owns_docker = True
        return scheduler

    async def close(self) -> None:
        """Close the engine client if this object created it (`from_url`)."""
        if self._owns_docker:
            await self._docker.close()

    async def _call(self, doing: str, make: Callable[[], Awaitable[T]], *, absent: tuple[int, ...] = (),
                    timeout: float | None = None) -> T | None:
        """Run one engine call under a timeout (`api_timeout` unless given), its errors translated; None when the
        engine answers with a status in `absent` (the object is not there, or the change is already done)."""
        try:
            async with asyncio.timeout(self._api_timeout if timeout is None else timeout):
                return await make()
        except DockerError as exc:
            if exc.status in absent:
                return None
            raise translate(exc, doing) from exc
        except TRANSLATED as exc:
            raise translate(exc, doing) from exc

    async def ping(self) -> None:
        """Raise EngineUnavailable unless the engine answers."""
        await self._call("pinging the engine", self._docker.version)

    async def engine_labels(self) -> dict[str, str]:
        """The engine's own labels (`docker info` Labels, `key=value`): what config `tags` select on."""
        info = await self._call("reading engine info", lambda: self._docker.system.info())
        labels: dict[str, str] = {}
        for label in info.get("Labels") or []:
            key, _, value = str(label).partition("=")
            labels[key] = value
        return labels

    async def unmatched_tags(self, tags: dict[str, str]) -> list[str]:
        """One engine: every tag must be one of its labels."""
        return unmatched(tags, await self.engine_labels())
