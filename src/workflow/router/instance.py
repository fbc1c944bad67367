"""`workflow router`: a router instance on its own (a task of the router service in deploy/stack.yml).

The platform's nginx with its static config and no routes: its API hosts go to the controller
(WORKFLOW_ROUTER_API_URL, its name resolved again every few seconds), and the controller writes the routes over
the TCP control endpoint (WORKFLOW_ROUTER_CONTROL_PORT) with the token in WORKFLOW_ROUTER_TOKEN_FILE. Until the
controller has given it the whole table it serves no app and knows of no host that is not one (503 with
Retry-After: a client or a load balancer tries again or elsewhere, where a 404 could be kept as the answer),
never stale routes; when its nginx dies, it is started again empty and the controller, seeing its new boot id,
gives it the table again.
"""

from __future__ import annotations

import asyncio
import logging
import re
import signal
from pathlib import Path

from workflow.config import Settings
from workflow.router.control import api_proof
from workflow.router.live import NginxRouter
from workflow.router.table import RouterError, RouteTable
from workflow.runtime import read_router_token

logger = logging.getLogger("workflow.router")


def nameserver(resolv_conf: Path = Path("/etc/resolv.conf")) -> str:
    """The first IPv4 nameserver (in a swarm task: Docker's embedded DNS, 127.0.0.11)."""
    for line in resolv_conf.read_text().splitlines():
        match = re.fullmatch(r"\s*nameserver\s+([0-9.]{7,15})\s*", line)
        if match:
            return match.group(1)
    raise RouterError(f"no IPv4 nameserver in {resolv_conf}: the router cannot resolve the controller's name")


def build(settings: Settings) -> NginxRouter:
    if settings.router_token_file is None:
        raise RouterError("WORKFLOW_ROUTER_TOKEN_FILE is required: the control endpoint's token")
    trusted = [p.strip() for p in settings.trusted_proxies.split(",") if p.strip()]
    return NginxRouter(
        data_dir=settings.data_dir, listen_port=settings.port, api_socket_path=None,
        api_hosts=[f"deis.{settings.domain}"], tls_port=settings.tls_port, trusted_proxies=trusted,
        api_max_body_bytes=settings.max_body_bytes, control_port=settings.router_control_port,
        control_token_file=settings.router_token_file.resolve(), api_url=settings.router_api_url,
        api_proof=api_proof(read_router_token(settings)),
        resolver=nameserver(), app_connect_timeout=settings.router_connect_timeout, ready_on_start=False)


async def serve(settings: Settings) -> None:
    """Run until SIGTERM or SIGINT; then nginx stops gracefully (requests in flight finish)."""
    router = build(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await router.start(RouteTable())
    logger.info("router serving on port %d, control on port %d; waiting for the controller's routes",
                settings.port, settings.router_control_port)
    try:
        await stop.wait()
    finally:
        await router.stop()
