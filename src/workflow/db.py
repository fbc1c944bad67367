"""The database engine (one per process) and the per-request session."""

from __future__ import annotations

from collections.abc import AsyncIterator

from sqlalchemy import event
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from .model_log import ModelLogSession

#: What a database that cannot be reached raises: the driver's connection errors as SQLAlchemy wraps them,
#: and the OS errors asyncpg raises as they are when it cannot connect (refused, timed out, no socket).
DATABASE_UNAVAILABLE: tuple[type[BaseException], ...] = (OperationalError, InterfaceError, OSError)


def make_engine(url: str) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # pragma: no cover - driver hook
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    # pool_pre_ping: connections pooled before a database restart are found dead and replaced, not handed
    # out. A bounded connect timeout (asyncpg waits 60 s by default): an unreachable server is a quick 503.
    return create_async_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20,
                               connect_args={"timeout": 5} if "asyncpg" in url else {})


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, sync_session_class=ModelLogSession)


async def session_scope(maker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One session per request: committed when the request succeeds, rolled back otherwise."""
    async with maker() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise
