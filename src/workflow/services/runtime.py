"""Starts the engine-facing parts of a controller: scheduler, router, reconciler (when enabled)."""

from __future__ import annotations

from contextlib import AsyncExitStack

from ..context import Context


async def start_runtime(ctx: Context, stack: AsyncExitStack) -> None:
    """Filled in as the scheduler and router land; API-only controllers skip it."""
    return None
