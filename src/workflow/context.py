"""What one running controller holds: built once in the lifespan, reached by routes through deps."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .config import Settings
from .limits import FailureThrottle, Slots
from .security import Cipher
from .services.route_state import RouteState

if TYPE_CHECKING:
    from .scheduler.base import Scheduler
    from .seams import Autoscaler, HealthMonitor, Reconciler, Routes
    from .services.deploy_events import DeployEvents


class AppLocks:
    """All work that changes an app's containers is serialised per app: a lock that waits."""

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    def __call__(self, app_id: str) -> asyncio.Lock:
        return self._locks[app_id]

    def any_held(self) -> bool:
        """Whether some app's work is under way (image GC waits for a quiet moment)."""
        return any(lock.locked() for lock in self._locks.values())


@dataclass
class Context:
    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    cipher: Cipher
    scheduler: Scheduler | None = None
    route_state: RouteState = field(default_factory=RouteState)  # which release serves, which instances are ready
    routes: Routes | None = None  # set by the composition root (runtime.py), with or without a router
    reconciler: Reconciler | None = None  # these three when a container backend is configured
    health: HealthMonitor | None = None
    autoscaler: Autoscaler | None = None
    locks: AppLocks = field(default_factory=AppLocks)
    runs: Slots = field(default_factory=Slots)  # `deis run` containers per app
    follows: Slots = field(default_factory=Slots)  # `logs?follow=true` streams per user
    live_events: dict[tuple[str, int], DeployEvents] = field(default_factory=dict)  # deploys under way
    live_started: asyncio.Event = field(default_factory=asyncio.Event)  # set (and replaced) as one starts
    logins: FailureThrottle | None = None  # failed logins per username and per client address
    # router instances elsewhere (a swarm): what they add to the API requests they forward (router/control.py)
    router_proof: str | None = None
    user_lock: asyncio.Lock = field(default_factory=asyncio.Lock)  # registrations and administrator changes
