"""Shared fixtures: a migrated real database (SQLite, or PostgreSQL when WORKFLOW_TEST_DATABASE_URL is
set), the real app behind httpx.AsyncClient(ASGITransport), and small async factories."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlmodel import SQLModel

from workflow import models  # noqa: F401
from workflow.config import Settings
from workflow.main import create_app
from workflow.migrate import upgrade

ROOT = Path(__file__).resolve().parents[1]


async def _recreate_postgres_database(url: str) -> None:
    import asyncpg

    plain = url.replace("postgresql+asyncpg://", "postgresql://")
    base, name = plain.rsplit("/", 1)
    conn = await asyncpg.connect(base + "/postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


def make_database(url: str | None, directory: Path) -> str:
    """A freshly migrated database: the given PostgreSQL one recreated, else a new SQLite file."""
    if url and url.startswith("postgresql"):
        asyncio.run(_recreate_postgres_database(url))
    else:
        url = f"sqlite+aiosqlite:///{directory / 'test.db'}"
    upgrade(url)
    return url


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch):
    """Still argon2, with minimal cost: registration and login would dominate the run time otherwise."""
    from argon2 import PasswordHasher

    from workflow import security

    monkeypatch.setattr(security, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    return make_database(os.environ.get("WORKFLOW_TEST_DATABASE_URL"), tmp_path_factory.mktemp("db"))


@pytest.fixture
def settings(database_url, tmp_path) -> Settings:
    """API-only settings: no engine, no nginx. Engine tests build their own."""
    return Settings(data_dir=tmp_path, database_url=database_url, secret_key="test-secret",
                    router_enabled=False, scheduler_enabled=False, registration_mode="enabled")


async def truncate_all(app) -> None:
    async with app.state.ctx.sessions() as session:
        for table in reversed(SQLModel.metadata.sorted_tables):
            await session.execute(text(f'DELETE FROM "{table.name}"'))
        await session.commit()


@pytest.fixture
async def app(settings) -> AsyncIterator:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        try:
            yield application
        finally:
            await truncate_all(application)


@pytest.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


def unique(prefix: str = "u") -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


async def register(client: httpx.AsyncClient, username: str | None = None, password: str = "secret",
                   **extra) -> tuple[str, dict[str, str]]:
    """Registers and logs in a user; returns (username, auth headers)."""
    username = username or unique()
    r = await client.post("/v2/auth/register/", json={"username": username, "password": password, **extra})
    assert r.status_code == 201, r.text
    r = await client.post("/v2/auth/login/", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return username, {"Authorization": f"token {r.json()['token']}"}


@pytest.fixture
async def admin(client) -> tuple[str, dict[str, str]]:
    """The first registered user, hence an administrator."""
    return await register(client, "admin")


@pytest.fixture
async def alice(client, admin) -> tuple[str, dict[str, str]]:
    return await register(client, "alice")


@pytest.fixture
async def bob(client, admin) -> tuple[str, dict[str, str]]:
    return await register(client, "bob")
