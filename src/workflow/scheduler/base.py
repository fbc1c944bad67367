"""The scheduler contract: what the services may ask of a container backend.

Deis concepts map onto the backend as follows (see spec/API.md §7):
an app's process type at a release is a replica set: identical instances ("pods"), each carrying labels
`deis.app`, `deis.type`, `deis.version` (`v<N>`) and `heritage=deis`. The converge path tells the backend how
many replicas a set should have (`scale` up, `retire` down) and reads the instances it reports (`list`: id,
address, state, start time, exit reason); the backend may keep the replicas itself (Swarm services) or
start and stop labelled containers (the Docker engine). The backend is the source of truth for what runs;
nothing here is cached in the database. `tests/scheduler/test_contract.py` holds every backend to this.

Errors leave this package only as `SchedulerError` subclasses: `EngineUnavailable` (transient, 503),
`ImageNotFound` / `ImagePullFailed` (the user's image or registry, 400), `SchedulerError` (other).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from ..domain.autoscale import CpuSample

LABEL_APP = "deis.app"
LABEL_TYPE = "deis.type"
LABEL_VERSION = "deis.version"
LABEL_HERITAGE = "heritage"
LABEL_PORT = "deis.port"  # the port the router and probes use, when the type is routable
HERITAGE = "deis"


class SchedulerError(Exception):
    """A backend operation failed for a reason that is not the user's input."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class EngineUnavailable(SchedulerError):
    """The engine cannot be reached or timed out: transient, answered with 503."""


class ImageNotFound(SchedulerError):
    """The image (or its tag) does not exist in its registry."""


class ImagePullFailed(SchedulerError):
    """The registry refused or could not be reached while pulling (auth, network...)."""


@dataclass(frozen=True)
class RegistryAuth:
    username: str
    password: str
    hostname: str | None = None


def scrub(text: str, auth: RegistryAuth | None) -> str:
    """`text` without the registry password: engine and registry messages go to users, events and logs."""
    return text.replace(auth.password, "********") if auth is not None and auth.password else text


def unmatched(tags: dict[str, str], labels: dict[str, str]) -> list[str]:
    """`KEY=VALUE` of the tags one node's `labels` lack, sorted."""
    return [f"{k}={v}" for k, v in sorted(tags.items()) if labels.get(k) != str(v)]


@dataclass(frozen=True)
class PullProgress:
    """Where an image pull stands, as a backend reports it while it pulls (the whole image, not one layer):
    `layer` is the layer that just finished ("" for a byte update), `layers_done`/`layers` count the image's
    layers (already present ones count as done), `current`/`total` the bytes downloaded and to download."""

    layers_done: int
    layers: int
    current: int
    total: int
    layer: str = ""


PullListener = Callable[[PullProgress], None]


@dataclass(frozen=True)
class ImageInfo:
    """What deploy validation needs from `docker image inspect`."""

    image: str
    exposed_ports: list[int]  # sorted ascending, tcp only
    entrypoint: list[str] | None
    cmd: list[str] | None


@dataclass(frozen=True)
class Resources:
    memory_limit: int | None = None  # bytes -> HostConfig.Memory
    memory_reservation: int | None = None  # bytes -> HostConfig.MemoryReservation
    nano_cpus: int | None = None  # HostConfig.NanoCpus
    cpu_shares: int | None = None  # HostConfig.CpuShares


@dataclass(frozen=True)
class ContainerSpec:
    """Everything needed to create one container of (app, type, release)."""

    app: str
    proc_type: str
    version: int
    image: str
    env: dict[str, str]
    entrypoint: list[str] | None = None  # None: the image's own
    command: list[str] | None = None  # None: the image's own CMD
    resources: Resources = field(default_factory=Resources)
    stop_grace_seconds: int = 30
    port: int | None = None  # recorded as the `deis.port` label
    tags: dict[str, str] = field(default_factory=dict)  # node labels it must run on (Swarm: placement)
    # The app's registry credentials (`deis registry:set`), decrypted: for pulls the backend makes later (Swarm:
    # the nodes' pulls). Kept out of repr and comparisons: a spec may be logged.
    registry_auth: RegistryAuth | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class ReplicaSet:
    """An app's process type at one release: what the controller sets a replica count for."""

    app: str
    proc_type: str
    version: int

    @classmethod
    def of(cls, item: ContainerSpec | Container) -> ReplicaSet:
        return cls(item.app, item.proc_type, item.version)


ENDED = ("crashed", "down")  # instance states that no longer count as replicas


@dataclass(frozen=True)
class Container:
    """One container as the engine reports it, in Deis vocabulary."""

    id: str
    name: str  # the pod name, <app>-<type>-<10 digits>-<5 alnum>
    app: str
    proc_type: str
    version: int
    state: str  # up | starting | crashed | down | terminating | ... (spec §4.10); "up" = running
    started: datetime | None  # UTC
    address: str | None  # IP on the platform network
    exit_code: int | None = None
    oom_killed: bool = False
    port: int | None = None  # from the `deis.port` label
    node: str | None = None  # the machine it runs on, when the backend has several (Swarm: the node's hostname)
    error: str | None = None  # why the backend could not run it (Swarm: a task's Status.Err), when it says

    @property
    def exit_reason(self) -> str | None:
        """Why the instance's process ended, as the app's log says it; None while it has not ended."""
        if self.oom_killed:
            return "was OOM-killed"
        if self.state in ("crashed", "down") and self.exit_code is None and self.error:
            return self.error
        if self.state in ("crashed", "down"):
            return f"crashed with exit code {self.exit_code}"
        return None


@dataclass(frozen=True)
class EngineEvent:
    """A container lifecycle event of a deis-labelled container (die, oom, start, destroy...)."""

    action: str
    container_id: str
    app: str
    proc_type: str
    version: int
    name: str
    exit_code: int | None
    time: datetime


class Scheduler(Protocol):
    #: The backend replaces an instance that failed or whose node died by itself (Swarm): the reconciler
    #: leaves its starting instances to it and admits its replacements into the router once they are ready.
    replaces_failed: bool

    async def ensure_network(self) -> None:
        """Create what the backend needs before apps run (the platform network); idempotent."""
        ...
    async def close(self) -> None: ...
    async def ping(self) -> None: ...
    async def engine_labels(self) -> dict[str, str]: ...
    async def unmatched_tags(self, tags: dict[str, str]) -> list[str]:
        """`KEY=VALUE` of the `tags` keeping every node from running the app, sorted; [] when some node has
        them all (one engine: its own labels; a swarm: its nodes' labels)."""
        ...
    async def resolve(self, image: str, auth: RegistryAuth | None = None) -> str:
        """The registry's manifest digest for `image` now (never the engine's cached copy)."""
        ...
    async def pull(self, image: str, auth: RegistryAuth | None = None, always: bool = False,
                   progress: PullListener | None = None) -> ImageInfo:
        """Pull unless present (`always`: anyway), then inspect. `progress`, if given, is called as the pull
        goes (any number of times; the caller throttles) — not at all when nothing is pulled."""
    async def remove_images(self, refs: list[str]) -> list[str]:
        """Remove these `name@sha256:…` references unless tagged or used by a container; those removed."""
        ...
    async def login(self, auth: RegistryAuth) -> None:
        """Check credentials against `auth.hostname` (default Docker Hub); ImagePullFailed when refused."""
        ...
    async def scale(self, spec: ContainerSpec, replicas: int) -> list[Container]:
        """At least `replicas` instances of the spec's replica set: the missing ones are started and returned
        (they may still be starting: readiness is the caller's). Instances that ended (`ENDED`) do not count.
        Never stops an instance (`retire` does). All or nothing: when one cannot start, none of this call's
        stay and the error is raised."""
        ...
    async def retire(self, replica_set: ReplicaSet, replicas: int, drained: list[Container],
                     grace_seconds: int = 30) -> None:
        """Down to `replicas` running instances of the set: the `drained` ones (the caller took them out of
        the router and drained them) go first, SIGTERM then SIGKILL after the grace period. A backend that
        picks its own victims may stop others in their place."""
        ...
    async def list(
        self, app: str | None = None, proc_type: str | None = None, version: int | None = None
    ) -> list[Container]: ...
    async def get(self, container_id: str) -> Container | None: ...
    async def remove(self, containers: list[Container], grace_seconds: int = 30) -> None:
        """Remove these instances whatever their replica set wants (dead ones, a start that failed, an app
        destroyed); gone already is fine."""
        ...
    async def logs(self, container: Container, tail: int) -> list[tuple[datetime, str]]: ...
    async def run_once(self, spec: ContainerSpec, timeout: float) -> tuple[int, str]: ...
    async def exec(self, container: Container, command: list[str], timeout: float) -> int: ...
    async def exec_output(self, container: Container, command: list[str], timeout: float) -> tuple[int, str]: ...
    def events(self) -> AsyncIterator[EngineEvent]: ...
    async def cpu_usage(self, containers: list[Container], concurrency: int = 8) -> dict[str, CpuSample]:
        """Cumulative CPU time of the running ones among `containers`, by id (autoscaling)."""
        ...


class OwnContainers:
    """`Scheduler.scale` and `Scheduler.retire` for a backend whose replicas are containers it starts and
    removes one by one (the Docker engine backend; the in-memory test backend), in terms of its `list`,
    `start` and `remove`. A backend that keeps its own replica count (Swarm services) sets it instead."""

    replaces_failed = False  # a container that dies stays dead: the reconciler replaces it

    async def scale(self, spec: ContainerSpec, replicas: int) -> list[Container]:
        """The set's containers that have not ended are counted; the missing ones are created and started."""
        have = [c for c in await self.list(app=spec.app, proc_type=spec.proc_type, version=spec.version)
                if c.state not in ENDED]
        return await self.start(spec, replicas - len(have)) if replicas > len(have) else []

    async def retire(self, replica_set: ReplicaSet, replicas: int, drained: list[Container],
                     grace_seconds: int = 30) -> None:
        """The drained containers first, then the newest of the set while more than `replicas` run.

        The drained ones are stopped at once, while the set is listed for any others beyond `replicas`
        (the listing, 3-50 ms on a busy engine, is off a scale-down's critical path)."""
        mine = [c for c in drained if ReplicaSet.of(c) == replica_set]
        going = asyncio.ensure_future(self.remove(mine, grace_seconds))
        try:
            running = await self.list(app=replica_set.app, proc_type=replica_set.proc_type,
                                      version=replica_set.version)
            others = [c for c in running if c.state not in ENDED and c.id not in {d.id for d in mine}]
            await self.remove(others[:max(len(others) - replicas, 0)], grace_seconds)
        finally:
            await going
