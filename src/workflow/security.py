"""Passwords (argon2), API tokens (digest + encrypted copy) and encryption of stored secrets."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.fernet import Fernet, InvalidToken

T = TypeVar("T")

_hasher = PasswordHasher()
# Hashing runs on its own bounded pool (WORKFLOW_PASSWORD_HASH_WORKERS): a login flood queues there instead
# of taking every thread of the default executor, and every core, from deploys.
_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="argon2")
_dummy: tuple[PasswordHasher, str] | None = None  # a hash made with the current hasher's parameters


def set_hash_workers(workers: int) -> None:
    global _pool
    if _pool._max_workers != workers:
        old, _pool = _pool, ThreadPoolExecutor(max_workers=workers, thread_name_prefix="argon2")
        old.shutdown(wait=False)


async def _on_pool(fn: Callable[[], T]) -> T:
    return await asyncio.get_running_loop().run_in_executor(_pool, fn)


async def hash_password(password: str) -> str:
    # argon2 is deliberately slow: keep it off the event loop.
    return await _on_pool(lambda: _hasher.hash(password))


async def verify_password(hashed: str | None, password: str) -> bool:
    """`hashed` None (no such user): the same argon2 work against a dummy hash, and False — the answer's
    timing does not tell which usernames exist."""

    def _verify() -> bool:
        global _dummy
        target = hashed
        if target is None:
            if _dummy is None or _dummy[0] is not _hasher:
                _dummy = (_hasher, _hasher.hash(secrets.token_hex(16)))
            target = _dummy[1]
        try:
            return _hasher.verify(target, password) and hashed is not None
        except (VerificationError, InvalidHashError):
            return False

    return await _on_pool(_verify)


def new_token() -> str:
    """40 lowercase hex characters, like Django REST framework's tokens."""
    return secrets.token_hex(20)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def digests_match(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


class Cipher:
    """Symmetric encryption of secrets at rest, keyed from WORKFLOW_SECRET_KEY."""

    def __init__(self, secret_key: str):
        key = base64.urlsafe_b64encode(hashlib.sha256(secret_key.encode()).digest())
        self._fernet = Fernet(key)

    def encrypt(self, plain: str) -> str:
        return self._fernet.encrypt(plain.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as exc:  # the key changed: the secret cannot be recovered
            raise ValueError("stored secret cannot be decrypted with the current secret key") from exc

    def decrypt_or_stored(self, token: str) -> str:
        """The secret decrypted; the stored text itself when it cannot be (kept from before it was encrypted,
        or the key changed): registry passwords are used as they are then, and the registry says if wrong."""
        try:
            return self.decrypt(token)
        except ValueError:
            return token
