"""The Docker-engine scheduler: Deis pods as plain containers on one engine (spec/API.md §7).

How Deis concepts map onto Docker objects:

* A pod is a container named `<app>-<type>-<10-digit hash>-<5 rand>` (see `domain.naming`), labelled
  `deis.app`, `deis.type`, `deis.version=v<N>` and `heritage=deis`. The labels are the only record of
  ownership: the engine is the source of truth, nothing is cached here.
* A process type at a release is the set of containers sharing (app, type, version) labels. Scaling and
  rolling replaces are done by the services with `start` / `remove`; there is no engine-side replica object.
* Every app container joins the platform's bridge network (default `workflow`, labelled heritage=deis) and
  publishes no host port: the router and the health probes reach it at its address on that network.
* Containers run with the engine's init as PID 1 (`HostConfig.Init`) so SIGTERM reaches the app, with
  `StopTimeout` = the grace period and no restart policy (the reconciler replaces dead containers).
* `deis run` is a container of type `run` that is waited for and removed.

This is the only module that imports aiodocker. Every public method translates engine errors into the
`SchedulerError` family of `base.py`: nothing from aiodocker or aiohttp leaves it.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import aiodocker
import aiohttp
from aiodocker.events import DockerEvents
from aiodocker.exceptions import DockerError
from aiodocker.multiplexed import multiplexed_result_stream

from workflow.domain import naming
from workflow.domain.autoscale import CpuSample

from . import images
from .base import (
    HERITAGE,
    LABEL_APP,
    LABEL_HERITAGE,
    LABEL_PORT,
    LABEL_TYPE,
    LABEL_VERSION,
    Container,
    ContainerSpec,
    EngineEvent,
    EngineUnavailable,
    ImageInfo,
    ImageNotFound,
    ImagePullFailed,
    RegistryAuth,
    SchedulerError,
    scrub,
)
from .images import DIGEST_RE, image_reference, split_image

__all__ = ["DockerScheduler", "deis_state", "image_reference", "split_image"]

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

#: Engine container events passed on by `events()`.
EVENT_ACTIONS = ("start", "die", "oom", "kill", "destroy")

#: Engine state -> Deis pod state (spec §7, "Pods" row). `exited` depends on the exit code.
_STATES = {
    "created": "starting",
    "running": "up",
    "restarting": "crashed",
    "removing": "terminating",
    "paused": "down",
    "dead": "crashed",
}

_DEFAULT_REGISTRY = images.DEFAULT_REGISTRY
_NOT_FOUND_HINTS = ("manifest unknown", "not found", "no such image", "repository does not exist")
_AUTH_HINTS = ("unauthorized", "denied", "authentication required", "no basic auth credentials", "forbidden")


# --- error translation -----------------------------------------------------------------------------------


def _engine_message(exc: BaseException) -> str:
    if isinstance(exc, DockerError):
        return str(exc.message).strip()
    return str(exc).strip() or type(exc).__name__


def _translate(exc: BaseException, doing: str) -> SchedulerError:
    """An engine/transport exception as a SchedulerError (`doing`: what we were doing, for the message)."""
    if isinstance(exc, SchedulerError):
        return exc
    if isinstance(exc, TimeoutError):
        return EngineUnavailable(f"Docker engine timed out while {doing}")
    if isinstance(exc, DockerError):
        # aiodocker reports connection failures as status 900.
        if exc.status == 900 or exc.status in (502, 503, 504):
            return EngineUnavailable(f"Docker engine unavailable while {doing}: {_engine_message(exc)}")
        return SchedulerError(f"Docker engine error while {doing}: {_engine_message(exc)}")
    if isinstance(exc, aiohttp.ClientError | OSError):
        return EngineUnavailable(f"Docker engine unavailable while {doing}: {_engine_message(exc)}")
    return SchedulerError(f"unexpected error while {doing}: {_engine_message(exc)}")


_TRANSLATED = (DockerError, aiohttp.ClientError, OSError, TimeoutError, ValueError, KeyError)


def _is_status(exc: BaseException, *statuses: int) -> bool:
    return isinstance(exc, DockerError) and exc.status in statuses


# --- engine JSON -> contract dataclasses ----------------------------------------------------------------


def _parse_time(value: str | None) -> datetime | None:
    """Engine RFC 3339 (nanoseconds) -> aware UTC datetime; the zero time -> None."""
    if not value or value.startswith("0001-01-01"):
        return None
    m = re.fullmatch(r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})", value)
    if m is None:
        return None
    frac = (m.group(2) or "0")[:6].ljust(6, "0")
    tz = "+00:00" if m.group(3) == "Z" else m.group(3)
    return datetime.fromisoformat(f"{m.group(1)}.{frac}{tz}").astimezone(UTC)


def _as_list(value: Any) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def deis_state(engine_state: str, exit_code: int | None) -> str:
    """Engine `State.Status` -> Deis pod state (spec §7)."""
    if engine_state == "exited":
        return "down" if exit_code == 0 else "crashed"
    return _STATES.get(engine_state, "error")


# --- the scheduler ---------------------------------------------------------------------------------------


class DockerScheduler:
    """`Scheduler` on one Docker engine. See the module docstring for the mapping.

    `docker` is the process-wide client opened by the app's lifespan (closed by its owner; `from_url` makes
    one this object owns, closed by `close()`). `api_timeout` bounds each short engine call,
    `pull_timeout` a whole pull.
    """

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
    def from_url(cls, url: str | None = None, network: str = "workflow", **kwargs: Any) -> DockerScheduler:
        """A scheduler with its own client for `url` (`unix:///var/run/docker.sock`, `tcp://…`; None = default)."""
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

    # -- plumbing

    async def _call(self, doing: str, make: Callable[[], Awaitable[T]]) -> T:
        """Run one short engine call under `api_timeout`, translating its errors."""
        try:
            async with asyncio.timeout(self._api_timeout):
                return await make()
        except _TRANSLATED as exc:
            raise _translate(exc, doing) from exc

    async def _inspect_container(self, ref: str) -> dict[str, Any] | None:
        """`docker inspect` of a container; None when it does not exist."""
        try:
            async with asyncio.timeout(self._api_timeout):
                info = await self._docker.containers.container(ref).show()
        except DockerError as exc:
            if exc.status == 404:
                return None
            raise _translate(exc, f"inspecting container {ref}") from exc
        except _TRANSLATED as exc:
            raise _translate(exc, f"inspecting container {ref}") from exc
        state = info.get("State") or {}
        if state.get("Status") == "running" and state.get("StartedAt"):
            self._started_at[info["Id"]] = state["StartedAt"]
        else:
            self._started_at.pop(info["Id"], None)
        return info

    @staticmethod
    def _summary_info(summary: dict[str, Any], started_at: str | None) -> dict[str, Any]:
        """A `GET /containers/json` entry in the shape of an inspect, for `_to_container` (running or created
        containers only: the listing has no exit code and no OOM flag)."""
        names = summary.get("Names") or [""]
        name = next((n for n in names if n.count("/") == 1), names[0])  # not a legacy link alias
        return {
            "Id": summary["Id"],
            "Name": name,
            "Config": {"Labels": summary.get("Labels") or {}},
            "NetworkSettings": summary.get("NetworkSettings") or {},
            "HostConfig": summary.get("HostConfig") or {},
            "State": {"Status": summary.get("State", ""), "StartedAt": started_at},
        }

    def _to_container(self, info: dict[str, Any]) -> Container | None:
        """Contract view of an inspected container; None unless it is a deis container on our network."""
        labels = (info.get("Config") or {}).get("Labels") or {}
        if labels.get(LABEL_HERITAGE) != HERITAGE or LABEL_APP not in labels:
            return None
        networks = (info.get("NetworkSettings") or {}).get("Networks") or {}
        if self.network not in networks and (info.get("HostConfig") or {}).get("NetworkMode") != self.network:
            return None
        state = info.get("State") or {}
        status = state.get("Status", "")
        running = status in ("running", "restarting", "paused")
        exit_code = None if running or status == "created" else state.get("ExitCode")
        deis = deis_state(status, exit_code)
        if info["Id"] in self._terminating and deis in ("up", "starting"):
            deis = "terminating"
        address = (networks.get(self.network) or {}).get("IPAddress") or None
        return Container(
            id=info["Id"],
            name=info.get("Name", "").lstrip("/"),
            app=labels[LABEL_APP],
            proc_type=labels.get(LABEL_TYPE, ""),
            version=naming.parse_version(labels.get(LABEL_VERSION, "")) or 0,
            state=deis,
            started=_parse_time(state.get("StartedAt")),
            address=address,
            exit_code=exit_code,
            oom_killed=bool(state.get("OOMKilled")),
            port=int(labels[LABEL_PORT]) if labels.get(LABEL_PORT, "").isdigit() else None,
        )

    # -- engine and network

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
            except _TRANSLATED as exc:
                raise _translate(exc, doing) from exc
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

    # -- images

    async def inspect_image(self, image: str) -> ImageInfo | None:
        """ImageInfo of a local image; None when the engine does not have it."""
        ref = image_reference(image)
        try:
            async with asyncio.timeout(self._api_timeout):
                data = await self._docker.images.inspect(ref)
        except DockerError as exc:
            if exc.status == 404:
                return None
            raise _translate(exc, f"inspecting image {ref}") from exc
        except _TRANSLATED as exc:
            raise _translate(exc, f"inspecting image {ref}") from exc
        config = data.get("Config") or {}
        ports = sorted(
            int(port)
            for port, proto in (key.partition("/")[::2] for key in (config.get("ExposedPorts") or {}))
            if (proto or "tcp") == "tcp" and port.isdigit()
        )
        return ImageInfo(
            image=ref,
            exposed_ports=ports,
            entrypoint=_as_list(config.get("Entrypoint")),
            cmd=_as_list(config.get("Cmd")),
        )

    async def pull(self, image: str, auth: RegistryAuth | None = None, always: bool = False) -> ImageInfo:
        """Pull `image` unless the engine has it (`always`: pull anyway), then inspect it.

        `auth` is sent as X-Registry-Auth; its hostname defaults to the image's registry host.
        """
        ref = image_reference(image)
        if not always:
            info = await self.inspect_image(ref)
            if info is not None:
                return info
        registry, _, _ = split_image(ref)
        pull_ref = ref
        auth_config = None
        if auth is not None:
            # aiodocker takes the registry from the reference: make it explicit for Docker Hub images.
            if not ref.startswith(registry + "/"):
                pull_ref = f"{registry}/{ref}"
            auth_config = {
                "username": auth.username,
                "password": auth.password,
                "serveraddress": auth.hostname or registry,
            }
        try:
            async with asyncio.timeout(self._pull_timeout):
                await self._docker.images.pull(pull_ref, auth=auth_config)
        except DockerError as exc:
            raise await self._pull_error(ref, exc, auth_config) from exc
        except _TRANSLATED as exc:
            raise _translate(exc, f"pulling {ref}") from exc
        info = await self.inspect_image(ref)
        if info is None:
            raise ImageNotFound(f"image {ref} not found after pulling it")
        return info

    async def login(self, auth: RegistryAuth) -> None:
        """Check credentials against their registry from the engine (`POST /auth`, what `docker login` does).

        The engine does the registry's auth dance itself (basic or token, https then http for insecure
        registries), from where pulls will happen; it stores nothing. Refused or unreachable registry:
        ImagePullFailed with the registry's reason, the password scrubbed from it.
        """
        server = auth.hostname or _DEFAULT_REGISTRY
        try:
            async with asyncio.timeout(self._api_timeout):
                await self._docker.auth(username=auth.username, password=auth.password, serveraddress=server)
        except DockerError as exc:
            if exc.status == 900:
                raise _translate(exc, f"logging in to {server}") from None
            raise ImagePullFailed(scrub(_engine_message(exc), auth)) from None
        except TimeoutError:
            raise ImagePullFailed(f"registry {server} did not answer within {self._api_timeout:g} s") from None
        except _TRANSLATED as exc:
            raise _translate(exc, f"logging in to {server}") from None

    async def _pull_error(self, ref: str, exc: DockerError, auth: dict[str, Any] | None) -> SchedulerError:
        """Classify a failed pull: engine down, image missing, or registry refusing/unreachable."""
        if exc.status == 900:
            return _translate(exc, f"pulling {ref}")
        reason = _engine_message(exc)
        low = reason.lower()
        if any(h in low for h in _AUTH_HINTS) and "repository does not exist" not in low:
            return ImagePullFailed(f"cannot pull {ref}: {reason}")
        if exc.status == 404 or any(h in low for h in _NOT_FOUND_HINTS):
            return ImageNotFound(f"image {ref} not found: {reason}")
        # A registry that cannot be reached may hide a plain "not found": with a registry mirror the engine
        # falls back to the (unreachable) upstream after the mirror's 404. Ask the engine's distribution
        # endpoint, which consults the mirror, before blaming the network.
        if await self._manifest_missing(ref, auth):
            return ImageNotFound(f"image {ref} not found: manifest unknown")
        return ImagePullFailed(f"cannot pull {ref}: {reason}")

    async def _manifest_missing(self, ref: str, auth: dict[str, Any] | None) -> bool:
        headers = {}
        if auth is not None:
            from aiodocker.utils import compose_auth_header

            headers["X-Registry-Auth"] = compose_auth_header(auth)
        try:
            async with asyncio.timeout(self._api_timeout):
                # Not wrapped by aiodocker: GET /distribution/{name}/json.
                await self._docker._query_json(f"distribution/{ref}/json", "GET", headers=headers)
        except DockerError as exc:
            low = _engine_message(exc).lower()
            return exc.status == 404 or "manifest unknown" in low
        except _TRANSLATED:
            return False
        return False

    @staticmethod
    def _auth_config(ref: str, auth: RegistryAuth | None) -> dict[str, Any] | None:
        if auth is None:
            return None
        registry, _, _ = split_image(ref)
        return {"username": auth.username, "password": auth.password, "serveraddress": auth.hostname or registry}

    async def resolve(self, image: str, auth: RegistryAuth | None = None) -> str:
        """The manifest digest (`sha256:…`) the registry serves for `image` now, asked with `auth`.

        Never answered from the engine's cache: a copy the engine holds stands in neither for the registry's
        current content nor for the credentials (another app may have pulled it with its own). Through the
        engine's distribution inspect, which needs no pull and uses the engine's mirrors and insecure
        registries; an engine without that endpoint: the registry's `HEAD /v2/<name>/manifests/<tag>`.
        ImageNotFound / ImagePullFailed with the registry's reason, the password scrubbed from it.
        """
        if not images.valid_reference(image):
            raise ImageNotFound(f"invalid reference format: {image!r}")
        ref = image_reference(image)
        if self.distribution_inspect:
            auth_config = self._auth_config(ref, auth)
            headers = {}
            if auth_config is not None:
                from aiodocker.utils import compose_auth_header

                headers["X-Registry-Auth"] = compose_auth_header(auth_config)
            try:
                # A short call (the engine asks the registry for one manifest), bounded like one.
                async with asyncio.timeout(self._api_timeout):
                    # Not wrapped by aiodocker: GET /distribution/{name}/json.
                    data = await self._docker._query_json(f"distribution/{ref}/json", "GET", headers=headers)
            except DockerError as exc:
                if exc.status == 900:
                    raise _translate(exc, f"resolving {ref}") from None
                reason = scrub(_engine_message(exc), auth)
                endpoint_missing = exc.status == 501 or (exc.status == 404 and "page not found" in reason.lower())
                if not endpoint_missing:
                    raise self._resolve_error(ref, exc.status, reason) from None
                self.distribution_inspect = False  # an engine older than API 1.30
            except TimeoutError:
                raise ImagePullFailed(f"cannot resolve {ref}: the registry did not answer within "
                                      f"{self._api_timeout:g} s") from None
            except _TRANSLATED as exc:
                raise _translate(exc, f"resolving {ref}") from None
            else:
                digest = str(((data or {}).get("Descriptor") or {}).get("digest") or "")
                if not DIGEST_RE.fullmatch(digest):
                    raise ImagePullFailed(f"cannot resolve {ref}: the engine reported no sha256 digest")
                return digest
        try:
            return await images.manifest_digest(ref, auth, await self._registry_settings(), self._api_timeout)
        except (ImageNotFound, ImagePullFailed) as exc:
            message = scrub(exc.message, auth)
            if isinstance(exc, ImageNotFound):
                raise ImageNotFound(f"image {ref} not found: {message}") from None
            raise ImagePullFailed(f"cannot pull {ref}: {message}") from None

    @staticmethod
    def _resolve_error(ref: str, status: int, reason: str) -> SchedulerError:
        low = reason.lower()
        if status in (401, 403) or (any(h in low for h in _AUTH_HINTS) and "repository does not exist" not in low):
            return ImagePullFailed(f"cannot pull {ref}: {reason}")
        if status == 404 or any(h in low for h in _NOT_FOUND_HINTS):
            return ImageNotFound(f"image {ref} not found: {reason}")
        return ImagePullFailed(f"cannot pull {ref}: {reason}")

    async def _registry_settings(self) -> images.RegistrySettings:
        if self._registries is None:
            info = await self._call("reading engine info", lambda: self._docker.system.info())
            self._registries = images.RegistrySettings.from_engine(info.get("RegistryConfig") or {})
        return self._registries

    async def remove_images(self, refs: list[str]) -> list[str]:
        """Remove digest references (`name@sha256:…`) the platform pulled, when nothing else holds them.

        Left alone: a reference the engine does not hold, an image that carries a tag (someone tagged it:
        the platform itself only pulls by digest) and an image any container uses, in any state and of
        whoever. A reference is removed, not the image by id: content another reference names stays.
        Returns the references removed.
        """
        if not refs:
            return []
        listed = await self._call("listing images", lambda: self._docker.images.list(digests=1))
        containers = await self._call("listing containers", lambda: self._docker.containers.list(all=True))
        in_use = {c._container.get("ImageID") for c in containers}
        by_ref: dict[str, dict[str, Any]] = {}
        for entry in listed:
            for repo_digest in entry.get("RepoDigests") or []:
                by_ref[images.canonical(repo_digest)] = entry
        removed = []
        for ref in refs:
            entry = by_ref.get(images.canonical(ref))
            if entry is None or entry.get("Id") in in_use:
                continue
            if [t for t in entry.get("RepoTags") or [] if t != "<none>:<none>"]:
                continue
            try:
                async with asyncio.timeout(self._api_timeout):
                    await self._docker.images.delete(ref)
            except DockerError as exc:
                if exc.status in (404, 409):  # gone meanwhile / a container started using it
                    continue
                raise _translate(exc, f"removing image {ref}") from exc
            except _TRANSLATED as exc:
                raise _translate(exc, f"removing image {ref}") from exc
            removed.append(ref)
        return removed

    # -- containers

    def _create_config(self, spec: ContainerSpec, name: str) -> dict[str, Any]:
        res = spec.resources
        limits = self.limits
        host_config: dict[str, Any] = {
            "Init": True,
            "NetworkMode": self.network,
            "RestartPolicy": {"Name": "no"},
            "PortBindings": {},
            "PublishAllPorts": False,
            # Tenants share the engine: bounded processes and log files, no raw sockets (ARP/ICMP spoofing on
            # the bridge), no privilege gained through setuid binaries.
            "PidsLimit": limits.pids_limit,
            "LogConfig": {"Type": "json-file",
                          "Config": {"max-size": limits.log_max_size, "max-file": str(limits.log_max_files)}},
            "CapDrop": ["NET_RAW"],
            "SecurityOpt": ["no-new-privileges"],
        }
        for key, value in (
            ("Memory", res.memory_limit),
            ("MemoryReservation", res.memory_reservation),
            ("NanoCpus", res.nano_cpus),
            # A CPU request is a weight against every other tenant's containers: bounded.
            ("CpuShares", min(res.cpu_shares, limits.max_cpu_shares) if res.cpu_shares is not None else None),
        ):
            if value is not None:
                host_config[key] = int(value)
        config: dict[str, Any] = {
            "Image": image_reference(spec.image),
            "Env": [f"{k}={v}" for k, v in spec.env.items()],
            "Labels": {
                **naming.pod_labels(spec.app, spec.proc_type, spec.version),
                **({LABEL_PORT: str(spec.port)} if spec.port else {}),
            },
            "StopTimeout": int(spec.stop_grace_seconds),
            "HostConfig": host_config,
            "NetworkingConfig": {"EndpointsConfig": {self.network: {}}},
        }
        if len(name) <= 63:  # like a Kubernetes pod, the hostname is the pod name when it fits
            config["Hostname"] = name
        if spec.entrypoint is not None:
            config["Entrypoint"] = list(spec.entrypoint)
        if spec.command is not None:
            config["Cmd"] = list(spec.command)
        return config

    async def _create(self, spec: ContainerSpec) -> str:
        """Create one container of `spec` (pulling its image once if the engine lost it); its id."""
        await self.ensure_network()
        name = naming.pod_name(spec.app, spec.proc_type, spec.version)
        config = self._create_config(spec, name)
        doing = f"creating {name}"
        for attempt in range(2):
            try:
                async with asyncio.timeout(self._api_timeout):
                    created = await self._docker.containers.create(config, name=name)
                return created.id
            except DockerError as exc:
                low = _engine_message(exc).lower()
                if attempt == 0 and exc.status == 404 and "no such image" in low:
                    await self.pull(spec.image)
                    continue
                if attempt == 0 and exc.status == 404 and "network" in low:
                    self._network_ready = False
                    await self.ensure_network()
                    continue
                if exc.status == 409:  # name clash: a new random suffix
                    name = naming.pod_name(spec.app, spec.proc_type, spec.version)
                    config = self._create_config(spec, name)
                    continue
                raise self._start_error(exc, doing) from exc
            except _TRANSLATED as exc:
                raise _translate(exc, doing) from exc
        raise SchedulerError(f"could not create a container for {spec.app}-{spec.proc_type}")

    @staticmethod
    def _start_error(exc: DockerError, doing: str) -> SchedulerError:
        if exc.status == 400 or exc.status == 404 or (exc.status == 500 and "oci runtime" in str(exc).lower()):
            # The image/command cannot run ("No command specified", "executable file not found"...).
            return SchedulerError(f"{doing}: {_engine_message(exc)}")
        return _translate(exc, doing)

    async def _create_and_start(self, spec: ContainerSpec) -> Container:
        container_id = await self._create(spec)
        try:
            try:
                async with asyncio.timeout(self._api_timeout):
                    await self._docker.containers.container(container_id).start()
            except DockerError as exc:
                raise self._start_error(exc, f"starting {spec.app}-{spec.proc_type}") from exc
            except _TRANSLATED as exc:
                raise _translate(exc, f"starting {spec.app}-{spec.proc_type}") from exc
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
            with contextlib.suppress(*_TRANSLATED):
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
                        raise _translate(first, f"starting {spec.app}-{spec.proc_type}") from first
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
                infos.append(self._summary_info(summary, None))
            elif status == "running" and summary["Id"] in self._started_at:
                infos.append(self._summary_info(summary, self._started_at[summary["Id"]]))
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
        try:
            try:
                async with asyncio.timeout(grace_seconds + self._api_timeout):
                    await handle.stop(t=grace_seconds)
            except DockerError as exc:
                if exc.status not in (304, 404, 409):  # already stopped / gone / being removed
                    raise
            try:
                async with asyncio.timeout(self._api_timeout):
                    await handle.delete(force=True, v=True)  # with its anonymous volumes
            except DockerError as exc:
                if exc.status not in (404, 409):
                    raise
        except _TRANSLATED as exc:
            raise _translate(exc, f"removing {container.name}") from exc
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

    async def _read_output(self, container_id: str, max_bytes: int, **params: str | bool) -> tuple[str, bool]:
        """stdout+stderr of a container as the engine streams it, never more than the newest `max_bytes`
        in memory (a tenant's output can be as large as its log files); (text, whether older output was
        dropped). Our containers have no TTY, so the stream is multiplexed."""
        query = {"stdout": True, "stderr": True, "follow": False, **params}
        kept: deque[bytes] = deque()
        size = 0
        truncated = False
        async with self._docker._query(f"containers/{container_id}/logs", method="GET", params=query) as response:
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
        try:
            async with asyncio.timeout(self._api_timeout):
                text, truncated = await self._read_output(container.id, self.limits.log_read_max_bytes,
                                                          timestamps=True, tail=str(tail))
        except DockerError as exc:
            if exc.status == 404:
                return []
            raise _translate(exc, f"reading logs of {container.name}") from exc
        except _TRANSLATED as exc:
            raise _translate(exc, f"reading logs of {container.name}") from exc
        if truncated:  # the first line is cut: drop it
            text = text.partition("\n")[2]
        lines: list[tuple[datetime, str]] = []
        for raw in text.splitlines():
            stamp, _, text = raw.partition(" ")
            when = _parse_time(stamp)
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
        except _TRANSLATED as exc:
            raise _translate(exc, f"exec in {container.name}") from exc
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
        except _TRANSLATED as exc:
            raise _translate(exc, f"exec in {container.name}") from exc
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
        except _TRANSLATED as exc:
            raise _translate(exc, f"running {spec.app}-{spec.proc_type}") from exc
        finally:
            await self._discard(container_id)

    # -- events

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
                    detail = f": {_engine_message(cause)}" if cause else ""
                    raise EngineUnavailable(f"Docker engine event stream closed{detail}")
                try:
                    event = self._to_event(data)
                except (KeyError, ValueError, TypeError):  # a malformed event is skipped, not fatal
                    continue
                if event is not None:
                    yield event
        finally:
            with contextlib.suppress(*_TRANSLATED, asyncio.CancelledError):
                await stream.stop()

    @staticmethod
    def _to_event(data: dict[str, Any]) -> EngineEvent | None:
        actor = data.get("Actor") or {}
        attrs = actor.get("Attributes") or {}
        if attrs.get(LABEL_HERITAGE) != HERITAGE or LABEL_APP not in attrs:
            return None
        if "timeNano" in data:
            when = datetime.fromtimestamp(int(data["timeNano"]) / 1e9, UTC)
        else:
            when = datetime.now(UTC)
        exit_code = attrs.get("exitCode")
        return EngineEvent(
            action=str(data.get("Action") or data.get("status") or ""),
            container_id=str(actor.get("ID") or data.get("id") or ""),
            app=attrs[LABEL_APP],
            proc_type=attrs.get(LABEL_TYPE, ""),
            version=naming.parse_version(attrs.get(LABEL_VERSION, "")) or 0,
            name=attrs.get("name", ""),
            exit_code=int(exit_code) if exit_code is not None and str(exit_code).lstrip("-").isdigit() else None,
            time=when,
        )

    # -- statistics

    async def _cpu_sample(self, container: Container) -> CpuSample | None:
        """One-shot stats (`one-shot=true`, API 1.41): the engine's next reading, without a second one. Without
        it `stream=false` waits for two readings of the engine's 1 s stats collector (1–2 s, dockerd 20.10.24);
        with it the answer comes at the collector's next tick (0–1 s; at once when the collector was idle).
        The autoscaler keeps the previous pass's sample instead. None when the container is gone or stopped."""
        try:
            async with asyncio.timeout(self._api_timeout):
                stats = await self._docker._query_json(
                    f"containers/{container.id}/stats", params={"stream": "false", "one-shot": "true"})
        except DockerError as exc:
            if exc.status in (404, 409):
                return None
            raise _translate(exc, f"reading CPU use of {container.name}") from exc
        except _TRANSLATED as exc:
            raise _translate(exc, f"reading CPU use of {container.name}") from exc
        read = _parse_time(stats.get("read"))
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
