"""`workflow serve`: uvicorn on an internal unix socket; the platform's nginx owns the public port."""

from __future__ import annotations

import logging

import uvicorn

from .config import Settings
from .files import bind_private_socket, private_data_dir
from .main import create_app


def run(settings: Settings) -> None:
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    private_data_dir(settings)
    if settings.router_enabled and not settings.router_service:
        sock = bind_private_socket(settings.socket_path)
        config = uvicorn.Config(create_app(settings), log_level=settings.log_level, proxy_headers=True,
                                forwarded_allow_ips="*", timeout_graceful_shutdown=10)
        uvicorn.Server(config).run(sockets=[sock])
    else:  # no nginx here (none, or router instances in other containers): uvicorn answers on the port itself
        uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level=settings.log_level,
                    timeout_graceful_shutdown=10)
