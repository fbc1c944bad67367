"""Work on one app is serialised: a lock that waits, never an error (spec §4.4)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.ext.asyncio import AsyncSession

from ..errors import NotFound
from ..models import App


@asynccontextmanager
async def app_work(session: AsyncSession, ctx, app: App) -> AsyncIterator[None]:
    """Hold the app's lock. The request's database connection goes back to the pool while it waits (20
    queued requests must not hold 20 connections), and the app row is re-read once the lock is held."""
    await session.commit()
    async with ctx.locks(app.id):
        try:
            await session.refresh(app)
        except InvalidRequestError as exc:  # destroyed while this request waited
            raise NotFound("App") from exc
        yield
