"""Certificate files for the router: PEM text from the database → files the router reads into the app's route.

File names carry a hash of the content, so a replaced certificate gets a new path (and the router, which
reads each path once, a new route to write). Keys are written 0600. `nginx_refusal` checks a pair at upload
the way nginx loads certificates.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

from workflow.router.table import CertFiles, InvalidRoute

_NAME_RE = re.compile(r"[a-z0-9-]{1,64}")


def _write(path: Path, data: str, mode: int) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as handle:
        handle.write(data)
    os.replace(tmp, path)


def _store(directory: Path, name: str, certificate: str, key: str) -> CertFiles:
    directory = directory.resolve()
    directory.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256((certificate + "\0" + key).encode()).hexdigest()[:16]
    cert_path = directory / f"{name}-{digest}.crt"
    key_path = directory / f"{name}-{digest}.key"
    if not key_path.exists():
        _write(key_path, key, 0o600)
    if not cert_path.exists():
        _write(cert_path, certificate, 0o644)
    return CertFiles(cert_path, key_path)


async def store_certificate(
    directory: str | os.PathLike[str], name: str, certificate: str, key: str
) -> CertFiles:
    """Write a PEM certificate chain and key under `directory` (idempotent); returns their paths."""
    if not _NAME_RE.fullmatch(name):
        raise InvalidRoute(f"Certificate name {name!r} is not valid")
    return await asyncio.to_thread(_store, Path(directory), name, certificate, key)


def _prune(directory: Path, keep: list[CertFiles]) -> int:
    if not directory.is_dir():
        return 0
    kept = {Path(p).resolve() for files in keep for p in (files.cert_path, files.key_path)}
    removed = 0
    for path in directory.iterdir():
        if path.suffix in (".crt", ".key") and path.resolve() not in kept:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


async def prune_certificates(directory: str | os.PathLike[str], keep: Iterable[CertFiles]) -> int:
    """Delete the certificate files under `directory` that `keep` does not name; returns how many.

    Call it after the router applied a table that no longer uses them.
    """
    return await asyncio.to_thread(_prune, Path(directory), list(keep))


def _remove(directory: Path, paths: list[str | os.PathLike[str]]) -> int:
    directory = directory.resolve()
    removed = 0
    for name in paths:
        path = Path(name).resolve()
        if path.parent == directory and path.suffix in (".crt", ".key") and path.exists():
            path.unlink(missing_ok=True)
            removed += 1
    return removed


async def remove_certificates(directory: str | os.PathLike[str], paths: Iterable[str | os.PathLike[str]]) -> int:
    """Delete these certificate files (only `.crt`/`.key` files of `directory`); returns how many. The caller
    checks that no route still names them (content-addressed files are shared by the apps a certificate is
    attached to)."""
    return await asyncio.to_thread(_remove, Path(directory), list(paths))


def _check_config(directory: Path) -> str:
    return "\n".join([
        "daemon off;",
        f'pid "{directory / "nginx.pid"}";',
        "error_log stderr warn;",
        "events { worker_connections 16; }",
        "http {",
        f'    client_body_temp_path "{directory / "tmp"}";',
        f'    proxy_temp_path "{directory / "tmp"}";',
        f'    fastcgi_temp_path "{directory / "tmp"}";',
        f'    uwsgi_temp_path "{directory / "tmp"}";',
        f'    scgi_temp_path "{directory / "tmp"}";',
        "    server {",
        "        listen 127.0.0.1:1 ssl;",  # `nginx -t` binds nothing
        f'        ssl_certificate "{directory / "check.crt"}";',
        f'        ssl_certificate_key "{directory / "check.key"}";',
        "    }",
        "}",
        "",
    ])


def _prepare(directory: Path, certificate: str, key: str) -> Path:
    directory = directory.resolve()
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    work = Path(tempfile.mkdtemp(prefix="check-", dir=directory))
    (work / "logs").mkdir()
    (work / "tmp").mkdir()
    _write(work / "check.crt", certificate, 0o600)
    _write(work / "check.key", key, 0o600)
    _write(work / "nginx.conf", _check_config(work), 0o600)
    return work


async def nginx_refusal(nginx_binary: str, directory: str | os.PathLike[str], certificate: str,
                        key: str) -> str | None:
    """Why nginx would refuse to load this certificate chain and key, or None: `nginx -t` on a config that
    loads just them (OpenSSL's security level, PEM blocks, chain order — as the router would load them), in a
    private directory under `directory` removed afterwards. The answer names no server path."""
    work = await asyncio.to_thread(_prepare, Path(directory), certificate, key)
    try:
        proc = await asyncio.create_subprocess_exec(
            nginx_binary, "-t", "-q", "-p", f"{work}/", "-e", "stderr", "-c", str(work / "nginx.conf"),
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        output, _ = await asyncio.wait_for(proc.communicate(), 30)
    finally:
        await asyncio.to_thread(shutil.rmtree, work, True)
    if proc.returncode == 0:
        return None
    lines = [line for line in output.decode(errors="replace").splitlines() if "[emerg]" in line] or ["nginx -t failed"]
    text = re.sub(r"^\d+#\d+: ", "", lines[0].split("] ", 1)[-1])
    text = re.sub(r" in /\S+:\d+$", "", text)
    text = text.replace(str(work / "check.crt"), "certificate").replace(str(work / "check.key"), "key")
    return text.replace(str(work), "")
