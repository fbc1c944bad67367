"""The composition root: which container backend and which router a controller runs, and the workers
(route sync, reconciler, health monitor, autoscaler) wired to them. The only module that names the concrete
classes; everything else reaches them through `scheduler.base.Scheduler` and the Protocols in `seams.py`.

A new container backend implements `Scheduler` and is registered in `BACKENDS` under the name
`WORKFLOW_SCHEDULER` selects; a new router mechanism implements `router.base.Router` (`seams.ManagedRouter`
when the controller runs it) and is built in `make_router`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AsyncExitStack

from .config import Settings
from .context import Context
from .scheduler.base import Scheduler, SchedulerError
from .seams import ManagedRouter

log = logging.getLogger("workflow")


class ConfigurationError(Exception):
    """A setting names something this controller cannot run: refused at start-up."""


def docker_backend(settings: Settings) -> Scheduler:
    """One Docker engine; app containers are labelled containers on the platform network."""
    from .scheduler.docker import ContainerLimits, DockerScheduler

    limits = ContainerLimits(
        pids_limit=settings.container_pids_limit, log_max_size=settings.container_log_max_size,
        log_max_files=settings.container_log_max_files, max_cpu_shares=settings.max_cpu_shares,
        create_batch_size=settings.create_batch_size, run_output_max_bytes=settings.run_output_max_bytes)
    return DockerScheduler.from_url(settings.docker_host or None, network=settings.docker_network, limits=limits)


def swarm_backend(settings: Settings) -> Scheduler:
    """A Docker Swarm through a manager's engine; each replica set is a service on the overlay network."""
    from .scheduler.docker import ContainerLimits
    from .scheduler.swarm import SwarmScheduler

    limits = ContainerLimits(
        pids_limit=settings.container_pids_limit, log_max_size=settings.container_log_max_size,
        log_max_files=settings.container_log_max_files, max_cpu_shares=settings.max_cpu_shares,
        run_output_max_bytes=settings.run_output_max_bytes)
    return SwarmScheduler.from_url(settings.docker_host or None, network=settings.swarm_network, limits=limits)


# WORKFLOW_SCHEDULER → how that backend is built from the settings.
BACKENDS: dict[str, Callable[[Settings], Scheduler]] = {"docker": docker_backend, "swarm": swarm_backend}


def check_settings(settings: Settings) -> None:
    """Refuse, before anything starts, settings that name no known backend."""
    if settings.scheduler not in BACKENDS:
        known = ", ".join(sorted(BACKENDS))
        raise ConfigurationError(f"WORKFLOW_SCHEDULER={settings.scheduler!r} is not a container backend this "
                                 f"controller knows; choose one of: {known}")
    if settings.router_service and settings.router_enabled:
        if settings.scheduler != "swarm":
            raise ConfigurationError("WORKFLOW_ROUTER_SERVICE names router tasks on a swarm: it needs "
                                     "WORKFLOW_SCHEDULER=swarm")
        read_router_token(settings)


def read_router_token(settings: Settings) -> str:
    """The token of the routers' control endpoints (WORKFLOW_ROUTER_TOKEN_FILE, e.g. a Docker secret)."""
    if settings.router_token_file is None:
        raise ConfigurationError("WORKFLOW_ROUTER_SERVICE needs WORKFLOW_ROUTER_TOKEN_FILE: the routers' token")
    try:
        token = settings.router_token_file.read_text().strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"cannot read WORKFLOW_ROUTER_TOKEN_FILE {settings.router_token_file}: {exc}"
                                 ) from None
    if len(token) < 16 or not token.isprintable() or " " in token:
        raise ConfigurationError("the routers' token must be at least 16 printable characters, no spaces")
    return token


def make_router(settings: Settings, scheduler: Scheduler | None = None) -> ManagedRouter | None:
    """The router serving the public port: the platform's own nginx, router instances on a swarm
    (WORKFLOW_ROUTER_SERVICE), or none (API tests)."""
    if not settings.router_enabled:
        return None
    if settings.router_service:
        from .router.cluster import ClusterRouter

        service = settings.router_service
        return ClusterRouter(discover=lambda: scheduler.task_addresses(service),  # type: ignore[union-attr]
                             control_port=settings.router_control_port, token=read_router_token(settings),
                             api_hosts=[f"deis.{settings.domain}"])
    from .router import NginxRouter

    trusted = [p.strip() for p in settings.trusted_proxies.split(",") if p.strip()]
    return NginxRouter(data_dir=settings.data_dir, listen_port=settings.port, api_socket_path=settings.socket_path,
                       api_hosts=[f"deis.{settings.domain}"], tls_port=settings.tls_port, trusted_proxies=trusted,
                       api_max_body_bytes=settings.max_body_bytes, app_connect_timeout=settings.router_connect_timeout)


async def start_runtime(ctx: Context, stack: AsyncExitStack) -> None:
    """Start the engine-facing parts of a controller; `stack` stops them in reverse order."""
    from .reconciler import Reconciler
    from .services.autoscaler import Autoscaler
    from .services.health import HealthMonitor
    from .services.routing import RouteSync

    settings = ctx.settings
    check_settings(settings)
    scheduler = BACKENDS[settings.scheduler](settings) if settings.scheduler_enabled else None
    if scheduler is not None:
        stack.push_async_callback(scheduler.close)
    router = make_router(settings, scheduler)
    if settings.router_service and router is not None:
        from .router.control import api_proof

        ctx.router_proof = api_proof(read_router_token(settings))
    ctx.routes = RouteSync(ctx, router)

    reconciler = None
    if scheduler is not None:
        ctx.scheduler = scheduler
        reconciler = Reconciler(ctx)
        ctx.reconciler = reconciler
        try:
            await scheduler.ensure_network()
            await reconciler.adopt()
        except SchedulerError as exc:  # the engine may come back later; the reconciler will catch up
            log.warning("container engine unavailable at start-up: %s", exc.message)

    if router is not None:
        await router.start(await ctx.routes.table())
        stack.push_async_callback(router.stop)
    if reconciler is not None:
        reconciler.start()
        stack.push_async_callback(reconciler.stop)
        monitor = HealthMonitor(ctx)
        ctx.health = monitor
        monitor.start()
        stack.push_async_callback(monitor.stop)
        autoscaler = Autoscaler(ctx)
        ctx.autoscaler = autoscaler
        autoscaler.start()
        stack.push_async_callback(autoscaler.stop)
