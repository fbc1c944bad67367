"""What the services ask of a router, whatever runs it: one nginx here, later router instances elsewhere
driven through the same control protocol (multi-host)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from workflow.router.table import AppRoute, RouteTable


@dataclass
class AppCounters:
    """Requests an app's hosts answered since the router started: by status class ("2", "4", ...), and a
    latency histogram (upper bound in ms, `inf` for the last bucket → count)."""

    requests: int = 0
    status: dict[str, int] = field(default_factory=dict)
    latency: list[tuple[float, int]] = field(default_factory=list)
    time_ms: float = 0.0

    def percentile(self, fraction: float) -> float | None:
        """The upper bound (ms) of the bucket holding that fraction of the requests; None without any."""
        total = sum(count for _, count in self.latency)
        if total == 0:
            return None
        seen = 0
        for bound, count in self.latency:
            seen += count
            if seen >= fraction * total:
                return bound
        return math.inf


@runtime_checkable
class Router(Protocol):
    """Routes apps' hosts to their containers. Every method raises `RouterError` when the router cannot be
    reached; a route it cannot take is recorded in `rejected` (app → reason) and leaves the app's live route."""

    rejected: dict[str, str]

    async def apply(self, table: RouteTable) -> None:
        """Make the router serve exactly `table` (apps absent from it: 404); only changed apps are written."""

    async def apply_route(self, route: AppRoute) -> None:
        """Replace one app's route, the others unchanged."""

    async def remove_route(self, app: str) -> None:
        """Stop routing an app (its hosts answer 404)."""

    async def snapshot(self) -> dict[str, dict]:
        """What the router serves, app → route as it holds it."""

    async def wait_drained(self, upstreams: Sequence[str], timeout: float,
                           progress: Callable[[int], None] | None = None) -> bool:
        """Wait (at most `timeout` s) until no request is in flight to these `ip:port`; True when none is.
        `progress` hears the number in flight at each look (the caller throttles)."""

    async def counters(self) -> dict[str, AppCounters]:
        """Per-app request counters (for request-rate autoscaling)."""
