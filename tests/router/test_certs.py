"""Certificate files: content-addressed, keys private, pruned when unused."""

from __future__ import annotations

import asyncio
import stat
from pathlib import Path

import pytest

from workflow.router import InvalidRoute, prune_certificates, store_certificate


def mode(path) -> int:
    return stat.S_IMODE(Path(path).stat().st_mode)


async def test_store_is_idempotent_and_content_addressed(tmp_path):
    first = await store_certificate(tmp_path / "certs", "web-cert", "CERT-1", "KEY-1")
    again = await store_certificate(tmp_path / "certs", "web-cert", "CERT-1", "KEY-1")
    other = await store_certificate(tmp_path / "certs", "web-cert", "CERT-2", "KEY-2")
    assert first == again
    assert first.cert_path != other.cert_path
    contents = await asyncio.to_thread(Path(first.cert_path).read_text)
    assert contents == "CERT-1"
    assert await asyncio.to_thread(mode, first.key_path) == 0o600


async def test_prune_keeps_only_the_named_files(tmp_path):
    used = await store_certificate(tmp_path, "a", "C1", "K1")
    await store_certificate(tmp_path, "b", "C2", "K2")
    assert await prune_certificates(tmp_path, [used]) == 2
    names = sorted(p.name for p in await asyncio.to_thread(lambda: list(tmp_path.iterdir())))
    assert names == sorted([Path(used.cert_path).name, Path(used.key_path).name])
    assert await prune_certificates(tmp_path / "missing", []) == 0


async def test_bad_names_are_refused(tmp_path):
    with pytest.raises(InvalidRoute):
        await store_certificate(tmp_path, "../evil", "C", "K")
