"""The seams of a controller: what the services may ask of each part the composition root (`runtime.py`)
plugs in. The container backend's contract is `scheduler.base.Scheduler`, the router's `router.base.Router`;
the controller's own workers are here.

A new router mechanism implements `router.base.Router` (plus `start`/`stop` when the controller runs it
itself: `ManagedRouter`) and is built in `runtime.make_router`; the route sync, the reconciler, the health
monitor and the autoscaler are reached through these Protocols so that no service depends on another's class
or reaches into its fields.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from .router.base import Router

if TYPE_CHECKING:
    from collections.abc import Callable

    from .router.base import AppCounters
    from .router.table import RouteTable
    from .scheduler.base import Container

__all__ = ["Autoscaler", "HealthMonitor", "ManagedRouter", "Reconciler", "Router", "Routes", "Worker"]


class ManagedRouter(Router, Protocol):
    """A router the controller runs itself (the platform's nginx): started with the first table, stopped
    when the controller stops."""

    async def start(self, table: RouteTable) -> None: ...
    async def stop(self) -> None: ...


class Routes(Protocol):
    """The route table derived from the routing state and the apps' settings, kept live in the router
    (`services/routing.RouteSync`)."""

    rejected: dict[str, str]

    async def table(self) -> RouteTable: ...
    async def sync(self, app_id: str | None = None) -> None:
        """Returns once the router serves what was changed before this call (one app's route, or all)."""
        ...
    async def drain(self, containers: list[Container], timeout: float,
                    progress: Callable[[int], None] | None = None) -> None: ...
    async def counters(self) -> dict[str, AppCounters]: ...


class Worker(Protocol):
    """A background loop the lifespan starts and stops."""

    def start(self) -> None: ...
    async def stop(self) -> None: ...


class Reconciler(Worker, Protocol):
    """Converges what runs to what the database wants (`reconciler.Reconciler`)."""

    passes: int
    corrections: int
    last_pass_seconds: float

    def request(self, app_id: str) -> None:
        """A pass for this app soon (`"*"`: all apps)."""
        ...
    async def adopt(self) -> None: ...
    async def collect_images(self) -> list[str]: ...


class HealthMonitor(Worker, Protocol):
    """Runs the serving containers' readiness and liveness probes (`services/health.HealthMonitor`)."""


class Autoscaler(Worker, Protocol):
    """Scales process types by their CPU rules (`services/autoscaler.Autoscaler`)."""

    observations: dict
