"""Passwords (argon2), API tokens (digest + encrypted copy) and encryption of stored secrets."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.fernet import Fernet, InvalidToken

_hasher = PasswordHasher()


async def hash_password(password: str) -> str:
    # argon2 is deliberately slow: keep it off the event loop.
    return await asyncio.to_thread(_hasher.hash, password)


async def verify_password(hashed: str, password: str) -> bool:
    def _verify() -> bool:
        try:
            return _hasher.verify(hashed, password)
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(_verify)


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
