"""`workflow serve`: uvicorn on an internal unix socket; the platform's nginx owns the public port."""

from __future__ import annotations

import logging

import uvicorn

from .config import Settings
from .main import create_app


def run(settings: Settings) -> None:
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    socket = settings.socket_path
    socket.unlink(missing_ok=True)
    if settings.router_enabled:
        uvicorn.run(create_app(settings), uds=str(socket), log_level=settings.log_level,
                    proxy_headers=True, forwarded_allow_ips="*", timeout_graceful_shutdown=10)
    else:  # no nginx: uvicorn answers on the public port itself
        uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level=settings.log_level,
                    timeout_graceful_shutdown=10)
