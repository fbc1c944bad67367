"""The route table, derived from the scheduler's view and the apps' settings, handed to the router.

Which containers receive traffic is decided here: for each app, the running containers of the routable
type (`web`, else `cmd`) of the version that is *serving* (set by the deploy path once a release's
containers are ready), that have passed readiness.
"""

from __future__ import annotations

import logging

from .. import repositories as repo
from ..domain.procfile import ROUTABLE_TYPES
from ..router import AppRoute, RouteTable
from ..scheduler.base import Container

log = logging.getLogger("workflow.routing")


class RouteSync:
    def __init__(self, ctx, router):
        self.ctx = ctx
        self.router = router
        self.serving: dict[str, int] = {}  # app id -> version whose containers receive traffic
        self.ready: set[str] = set()  # container ids that passed readiness

    def routable(self, containers: list[Container], app_id: str) -> list[Container]:
        """The containers of an app the router should send traffic to."""
        version = self.serving.get(app_id)
        live = [c for c in containers if c.app == app_id and c.version == version and c.state == "up"
                and c.id in self.ready and c.port]
        for proc_type in ROUTABLE_TYPES:
            chosen = [c for c in live if c.proc_type == proc_type]
            if chosen:
                return chosen
        return []

    async def table(self) -> RouteTable:
        containers = await self.ctx.scheduler.list() if self.ctx.scheduler else []
        domain = self.ctx.settings.domain
        routes = []
        async with self.ctx.sessions() as session:
            for app_id in await repo.all_app_ids(session):
                settings = await repo.latest_settings(session, app_id)
                tls = await repo.latest_tls(session, app_id)
                hosts = [d.domain if "." in d.domain else f"{d.domain}.{domain}"
                         for d in await repo.app_domains(session, app_id)]
                upstreams = [f"{c.address}:{c.port}" for c in self.routable(containers, app_id) if c.address]
                routes.append(AppRoute(
                    app=app_id, hosts=hosts, upstreams=upstreams,
                    maintenance=bool(settings and settings.maintenance),
                    routable=settings.routable if settings else True,
                    whitelist=list(settings.whitelist) if settings else [],
                    https_enforced=bool(tls and tls.https_enforced),
                ))
        return RouteTable(routes=routes)

    async def sync(self) -> None:
        """Render and apply the whole table; returns once the router serves it."""
        if self.router is not None:
            await self.router.apply(await self.table())

    async def drain(self, timeout: float) -> None:
        """Until requests in flight to containers that left the table have finished (bounded)."""
        if self.router is not None and not await self.router.wait_drained(timeout):
            log.warning("requests still in flight after %.0f s; stopping their containers anyway", timeout)
