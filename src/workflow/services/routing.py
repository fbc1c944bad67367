"""The route table, derived from the scheduler's view and the apps' settings, handed to the router.

Which containers receive traffic is the routing state's answer (`services/route_state.py`): for each app,
the running containers of the routable type (`web`, else `cmd`) of the version that is *serving*, that have
passed readiness.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

from .. import repositories as repo
from ..db import DATABASE_UNAVAILABLE
from ..domain.hostnames import platform_host
from ..errors import ServiceUnavailable
from ..metrics import observe_containers
from ..models import Certificate
from ..router import (
    AppCounters,
    AppRoute,
    CertFiles,
    RouterError,
    RouteTable,
    prune_certificates,
    remove_certificates,
    store_certificate,
    without_paths,
)
from ..scheduler.base import Container

log = logging.getLogger("workflow.routing")


class RouteSync:
    def __init__(self, ctx, router):
        self.ctx = ctx
        self.router = router
        self._lock = asyncio.Lock()
        self._requested = 0  # sync() calls made
        self._done = 0  # the latest call whose table (built after it) went live
        self._last_rows: tuple | None = None  # see _routing_rows
        # Apps whose route the router left out of the live table (app id → reason): a bad route stays its
        # own app's problem (router/entries.py, route isolation).
        self.rejected: dict[str, str] = {}
        self._conflicts: dict[str, str] = {}  # the part of `rejected` `table()` found
        # The certificate files each app's route names (app id → paths), known once a whole table was built:
        # a per-app sync deletes the files its app stopped naming that no other app names.
        self._cert_paths: dict[str, set[str]] | None = None
        # The instances each app's route was last built with (app id → their ids): the reconciler compares
        # them with what the scheduler shows, and syncs the app when a routed one is gone (its node died).
        self.routed: dict[str, frozenset[str]] = {}

    @property
    def cert_dir(self) -> Path:
        return self.ctx.settings.data_dir.resolve() / "certs"

    async def table(self) -> RouteTable:
        containers = await self.ctx.scheduler.list() if self.ctx.scheduler else []
        observe_containers(containers)
        domain = self.ctx.settings.domain
        routes = []
        app_ids, all_settings, all_tls, all_domains, certs = await self._routing_rows()
        # APP.DOMAIN is app APP's, whatever order the apps come in: a domains row of another app naming it
        # (stored before such rows were refused) is left out and reported, never given the host.
        names = {f"{app_id}.{domain}": app_id for app_id in app_ids}
        conflicts: dict[str, str] = {}
        for app_id in app_ids:
            route, conflict = await self._route(app_id, all_settings.get(app_id), all_tls.get(app_id),
                                                all_domains.get(app_id, []), certs, containers, names.get)
            if conflict:
                conflicts[app_id] = conflict
            routes.append(route)
        self._conflicts = conflicts
        self._cert_paths = {route.app: _paths(route) for route in routes}
        return RouteTable(routes=routes)

    async def _route(self, app_id: str, settings, tls, domains: list, certs: dict, containers: list[Container],
                     owner) -> tuple[AppRoute, str | None]:
        """An app's route from its rows and containers, and why a domain of it was left out (or None).
        `owner(host)` names the app whose default host `host` is (or None)."""
        domain = self.ctx.settings.domain
        app_domains, conflict = [], None
        for d in domains:
            # APP.DOMAIN is app APP's: a domains row of another app naming it (stored before such rows were
            # refused) is left out and reported, never given the host.
            if (owner(platform_host(d.domain, domain)) or app_id) == app_id:
                app_domains.append(d)
            else:
                conflict = f"Host {platform_host(d.domain, domain)} is another app's name"
        hosts = [platform_host(d.domain, domain) for d in app_domains]
        certificates = {}
        for host, d in zip(hosts, app_domains, strict=True):
            if d.certificate_id in certs:
                files = await self._files(certs[d.certificate_id])
                if files is not None:
                    certificates[host] = files
        routable = [c for c in self.ctx.route_state.routable(containers, app_id) if c.address]
        self.routed[app_id] = frozenset(c.id for c in routable)
        upstreams = [f"{c.address}:{c.port}" for c in routable]
        return AppRoute(
            app=app_id, hosts=hosts, upstreams=upstreams,
            maintenance=bool(settings and settings.maintenance),
            routable=settings.routable if settings else True,
            whitelist=list(settings.whitelist) if settings else [],
            https_enforced=bool(tls and tls.https_enforced),
            certificates=certificates,
        ), conflict

    def stale(self, app_id: str, containers: list[Container]) -> bool:
        """Whether the app's route, once built, names other instances than `containers` (the scheduler's
        listing of the app) give it now: a routed one is gone (its node died) or another became routable."""
        if self.router is None or app_id not in self.routed:
            return False
        now = frozenset(c.id for c in self.ctx.route_state.routable(containers, app_id) if c.address)
        return now != self.routed[app_id]

    async def _app_route(self, app_id: str) -> tuple[AppRoute | None, str | None]:
        """One app's route read from the database and the engine (None: the app is gone)."""
        domain = self.ctx.settings.domain
        async with self.ctx.sessions() as session:
            if not await repo.app_exists(session, app_id):
                self._remember_rows(app_id, None)
                self.routed.pop(app_id, None)
                observe_containers([], app=app_id)
                return None, None
            settings = await repo.latest_settings(session, app_id)
            tls = await repo.latest_tls(session, app_id)
            domains = await repo.app_domains(session, app_id)
            certs = await repo.certificates_by_id(session, sorted(
                {d.certificate_id for d in domains if d.certificate_id is not None}))
            owners = {}
            for d in domains:
                host = platform_host(d.domain, domain)
                label, dot, rest = host.partition(".")
                if dot and rest == domain and label != app_id and await repo.app_exists(session, label):
                    owners[host] = label
        self._remember_rows(app_id, (settings, tls, domains, certs))
        containers = await self.ctx.scheduler.list(app=app_id) if self.ctx.scheduler else []
        observe_containers(containers, app=app_id)
        return await self._route(app_id, settings, tls, domains, certs, containers, owners.get)

    def _remember_rows(self, app_id: str, rows: tuple | None) -> None:
        """Keep the rows read last (the whole table's fallback while the database is unreachable) up to date
        with one app's, read by a per-app sync; None: the app is gone. Without this, an app created or
        changed since the last whole table would lose its route, or get its old one, when the database
        goes away."""
        if self._last_rows is None:
            return
        app_ids, all_settings, all_tls, all_domains, certs = self._last_rows
        app_ids = [a for a in app_ids if a != app_id]
        for rows_by_app in (all_settings, all_tls, all_domains):
            rows_by_app.pop(app_id, None)
        if rows is not None:
            settings, tls, domains, app_certs = rows
            app_ids.append(app_id)
            if settings is not None:
                all_settings[app_id] = settings
            if tls is not None:
                all_tls[app_id] = tls
            all_domains[app_id] = list(domains)
            certs = {**certs, **app_certs}
        self._last_rows = (app_ids, all_settings, all_tls, all_domains, certs)

    async def _routing_rows(self) -> tuple:
        """Apps and their routing settings, domains and certificates from the database. While the database
        cannot be reached, the rows read last: the router still follows the engine (a container that died
        leaves it) instead of keeping a dead address until the database is back."""
        try:
            async with self.ctx.sessions() as session:
                app_ids = await repo.all_app_ids(session)
                all_settings = await repo.latest_settings_by_app(session)
                all_tls = await repo.latest_tls_by_app(session)
                all_domains = await repo.domains_by_app(session)
                certs = await repo.certificates_by_id(session, sorted(
                    {d.certificate_id for ds in all_domains.values() for d in ds if d.certificate_id is not None}))
        except DATABASE_UNAVAILABLE:
            if self._last_rows is None:
                raise
            log.warning("database unavailable: routing from the settings read last")
            return self._last_rows
        self._last_rows = (app_ids, all_settings, all_tls, all_domains, certs)
        return self._last_rows

    async def _files(self, cert: Certificate) -> CertFiles | None:
        """The certificate's PEM files for nginx (content-addressed, written once)."""
        try:
            key = self.ctx.cipher.decrypt(cert.key)
        except ValueError:  # the secret key changed: serve the domain without TLS rather than nothing
            log.warning("certificate %s: its private key cannot be decrypted; not served", cert.name)
            return None
        return await store_certificate(self.cert_dir, cert.name[:64], cert.certificate, key)

    async def sync(self, app_id: str | None = None) -> None:
        """Build and apply the whole table; returns once the router serves a table built after this call
        (the router writes only the apps whose route changed, live when it returns).

        Serialised, so an older table never replaces a newer one; calls waiting meanwhile share one
        rebuild. Certificate files no longer in the live table are removed afterwards.

        With `app_id` (a change that touches that app alone: its settings, TLS, domains, an attached
        certificate), only that app's route is read and written, whatever the number of apps; the certificate
        files it stopped naming are deleted unless another app's route names them. While the database is
        unreachable, the whole table.
        """
        if self.router is None:
            return
        if app_id is not None and hasattr(self.router, "apply_route"):
            async with self._lock:
                try:
                    route, conflict = await self._app_route(app_id)
                except DATABASE_UNAVAILABLE:
                    route = conflict = None
                    app_id = None  # the whole table, from the rows read last
                if app_id is not None:
                    if route is None:
                        await self.router.remove_route(app_id)
                    else:
                        await self.router.apply_route(route)
                    await self._forget_certificates(app_id, route)
                    self._conflicts.pop(app_id, None)
                    if conflict:
                        self._conflicts[app_id] = conflict
                    self.rejected = {**self._conflicts, **self.router.rejected}
                    return
        self._requested += 1
        seq = self._requested
        async with self._lock:
            if self._done >= seq:
                return
            seq = self._requested
            table = await self.table()
            await self.router.apply(table)
            self._done = seq
            self.rejected = {**self._conflicts, **getattr(self.router, "rejected", {})}
            keep = [files for route in table.routes for files in route.certificates.values()]
            await prune_certificates(self.cert_dir, keep)

    async def _forget_certificates(self, app_id: str, route: AppRoute | None) -> None:
        """After `app_id`'s route was written: delete the files it stopped naming that no route names (the
        router read the PEM text into the live route when writing it, so nothing serves from the files)."""
        if self._cert_paths is None:  # no whole table built yet: which files other apps name is unknown
            return
        old = self._cert_paths.get(app_id, set())
        new = _paths(route) if route is not None else set()
        if app_id in self.router.rejected:  # its previous route stays live, and may be rebuilt from its files
            self._cert_paths[app_id] = old | new
            return
        if route is None:
            self._cert_paths.pop(app_id, None)
        else:
            self._cert_paths[app_id] = new
        named = set().union(*self._cert_paths.values())
        gone = [p for p in old - new if p not in named]
        if gone:
            await remove_certificates(self.cert_dir, gone)

    async def counters(self) -> dict[str, AppCounters]:
        """Per-app request counters the router keeps (requests, status classes, latency histogram); empty
        without a router. For request-rate autoscaling."""
        return await self.router.counters() if self.router is not None else {}

    async def drain(self, containers: list[Container], timeout: float,
                    progress: Callable[[int], None] | None = None) -> None:
        """Until requests in flight to these containers (out of the table) have finished (bounded): the
        router counts them per container address; `progress` hears their number."""
        upstreams = [f"{c.address}:{c.port}" for c in containers if c.address and c.port]
        if self.router is not None and not await self.router.wait_drained(upstreams, timeout, progress):
            log.warning("requests still in flight after %.0f s; stopping their containers anyway", timeout)


def _paths(route: AppRoute) -> set[str]:
    return {str(p) for files in route.certificates.values() for p in (files.cert_path, files.key_path)}


async def commit_and_sync(session, ctx, app_id: str | None = None) -> None:
    """Commit a routing change (settings, TLS, certificates) and make the router serve it before answering.

    Should the router leave `app_id`'s route out (a value nginx refuses), the change stays recorded, that app
    keeps the route it had, and the client learns it with a 503 carrying its own route's reason; every other
    app's route is applied. Should nginx refuse the config as a whole, the previous config keeps serving.
    """
    await session.commit()
    if ctx.routes is None:
        return
    try:
        await ctx.routes.sync(app_id)
    except RouterError as exc:
        log.error("router did not take the change: %s", exc.message)
        raise ServiceUnavailable(f"The router could not apply the change: {without_paths(exc.message)}") from exc
    if app_id is not None and app_id in ctx.routes.rejected:
        raise ServiceUnavailable(f"The router could not apply this app's route: {ctx.routes.rejected[app_id]}")
