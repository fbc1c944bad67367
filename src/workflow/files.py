"""What the platform keeps on disk is its own: the data dir (database, secret key, nginx config and
certificate keys, the API socket) is readable by the platform's user only."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from .config import Settings


def private_data_dir(settings: Settings) -> None:
    """Owner-only from now on (umask 077 for everything this process creates), and for what an older
    install left world-readable: the data dir and the SQLite database files."""
    os.umask(0o077)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    _restrict(settings.data_dir, 0o700)
    if settings.database_url.startswith("sqlite"):
        database = Path(settings.database_url.split(":///", 1)[-1])
        for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm"), Path(f"{database}-journal")):
            _restrict(path, 0o600)


def _restrict(path: Path, mode: int) -> None:
    """chmod what exists and is ours (an operator's own layout, owned by someone else, is left alone)."""
    try:
        if path.stat().st_uid == os.geteuid():
            os.chmod(path, mode)
    except FileNotFoundError:
        pass


def bind_private_socket(path: Path) -> socket.socket:
    """The API's unix socket, owner-only from the moment it exists (uvicorn's own `uds` makes it 0666). Only
    nginx, whose workers run as the platform's user, connects to it."""
    path.unlink(missing_ok=True)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o177)
    try:
        sock.bind(str(path))
    finally:
        os.umask(old)
    os.chmod(path, 0o600)
    return sock
