"""SSH keys (spec §3.12, §4.9): the caller's own; other users' keys do not exist for them (404)."""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from .. import repositories as repo
from ..domain import validation as v
from ..errors import FieldErrors, NotFound
from ..models import Key, User

INVALID_BASE64 = "Key contains invalid base64 chars"


def key_blob(public: str) -> bytes:
    """The decoded second token of `<type> <base64> [comment]`; ValueError when it is not base64."""
    parts = public.strip().split()
    if len(parts) < 2:
        raise ValueError(INVALID_BASE64)
    try:
        return base64.b64decode(parts[1].encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise ValueError(INVALID_BASE64) from exc


def fingerprint(public: str) -> str:
    """MD5 of the key blob as lowercase hex pairs joined by `:` (upstream `utils.fingerprint`)."""
    digest = hashlib.md5(key_blob(public)).hexdigest()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


async def add(session: AsyncSession, owner: User, data: dict[str, Any]) -> Key:
    errors: dict[str, list[str]] = {}
    key_id = v.required_string(errors, data, "id", max_length=128)
    public = v.required_string(errors, data, "public")
    if key_id is not None and not v.KEY_ID_RE.fullmatch(key_id):
        errors.setdefault("id", []).append(v.KEY_ID_TEXT)
        key_id = None
    if key_id is not None and await repo.key_id_taken(session, key_id):
        errors.setdefault("id", []).append("SSH Key with this id already exists.")
    printed = None
    if public is not None:
        public = public.strip()
        try:
            printed = fingerprint(public)
        except ValueError:
            errors.setdefault("public", []).append(INVALID_BASE64)
        else:
            if await repo.public_key_taken(session, public):
                errors.setdefault("public", []).append("Public Key is already in use")
    if errors:
        raise FieldErrors(errors)
    key = Key(id=key_id, owner=owner.username, public=public, fingerprint=printed)
    session.add(key)
    await session.flush()
    return key


async def get(session: AsyncSession, owner: User, key_id: str) -> Key:
    key = await repo.key_of(session, owner.username, key_id)
    if key is None:
        raise NotFound("Key")
    return key


async def remove(session: AsyncSession, owner: User, key_id: str) -> None:
    await session.delete(await get(session, owner, key_id))
