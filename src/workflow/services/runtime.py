"""Starts the engine-facing parts of a controller: scheduler, route sync + nginx, reconciler."""

from __future__ import annotations

import logging
from contextlib import AsyncExitStack

from ..context import Context
from ..reconciler import Reconciler
from ..router import NginxRouter
from ..scheduler.base import SchedulerError
from ..scheduler.docker import ContainerLimits, DockerScheduler
from .autoscaler import Autoscaler
from .health import HealthMonitor
from .routing import RouteSync

log = logging.getLogger("workflow")


async def start_runtime(ctx: Context, stack: AsyncExitStack) -> None:
    settings = ctx.settings
    router = None
    if settings.router_enabled:
        trusted = [p.strip() for p in settings.trusted_proxies.split(",") if p.strip()]
        router = NginxRouter(data_dir=settings.data_dir, listen_port=settings.port,
                             api_socket_path=settings.socket_path, api_hosts=[f"deis.{settings.domain}"],
                             tls_port=settings.tls_port, trusted_proxies=trusted,
                             api_max_body_bytes=settings.max_body_bytes)
    ctx.routes = RouteSync(ctx, router)

    reconciler = None
    if settings.scheduler_enabled:
        limits = ContainerLimits(
            pids_limit=settings.container_pids_limit, log_max_size=settings.container_log_max_size,
            log_max_files=settings.container_log_max_files, max_cpu_shares=settings.max_cpu_shares,
            create_batch_size=settings.create_batch_size, run_output_max_bytes=settings.run_output_max_bytes)
        scheduler = DockerScheduler.from_url(settings.docker_host or None, network=settings.docker_network,
                                             limits=limits)
        stack.push_async_callback(scheduler.close)
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
