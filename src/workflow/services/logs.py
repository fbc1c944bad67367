"""App logs: the containers' output and the platform's own events, merged in time order (spec §7)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import datetime

from sqlalchemy import select

from .. import repositories as repo
from ..errors import WorkflowError
from ..models import App, Event, ReleaseEvent, User
from ..scheduler.base import Container, SchedulerError
from . import deploy_events

Line = tuple[datetime, str]


def bounded_lines(settings, count: int) -> int:
    """`log_lines` capped at WORKFLOW_MAX_LOG_LINES (each container is read that far back). Capped, not
    refused: like upstream, `deis logs -n N` never fails for a large N; it gets the newest lines there are."""
    return min(count, settings.max_log_lines)


def take_follow(ctx, user: User) -> Callable[[], None]:
    """A `follow` stream slot of the user's (WORKFLOW_MAX_LOG_FOLLOWS_PER_USER): 429 when all are taken.
    Returns what gives it back."""
    limit = ctx.settings.max_log_follows_per_user
    if not ctx.follows.take(user.username, limit):
        raise WorkflowError({"detail": f"{user.username} already follows {limit} log streams, the most this "
                                       f"platform allows at once: close one first"}, 429)
    return lambda: ctx.follows.give(user.username)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _pod_tag(app_id: str, container: Container) -> str:
    suffix = container.name[len(app_id) + len(container.proc_type) + 2:]
    return f"{app_id}[{container.proc_type}.{suffix}]"


async def _container_lines(ctx, app_id: str, tail: int) -> list[Line]:
    if ctx.scheduler is None:
        return []
    lines: list[Line] = []
    try:
        containers = await ctx.scheduler.list(app=app_id)
        outputs = await asyncio.gather(*(ctx.scheduler.logs(c, tail) for c in containers))
    except SchedulerError:
        return []
    for container, output in zip(containers, outputs, strict=True):
        tag = _pod_tag(app_id, container)
        lines += [(moment, f"{_stamp(moment)} {tag}: {text}") for moment, text in output]
    return lines


def _event_line(event: Event) -> Line:
    return event.created, f"{_stamp(event.created)} deis[controller]: {event.level} {event.message}"


async def recent(ctx, app: App, count: int) -> str:
    """The newest `count` lines, oldest first."""
    async with ctx.sessions() as session:
        events = await repo.recent_events(session, app.id, count)
        steps = await deploy_events.recent_for_app(session, app.id, count)
    lines = [_event_line(e) for e in events] + await _container_lines(ctx, app.id, count)
    lines += [deploy_events.log_line(s.version, s) for s in steps]
    lines.sort(key=lambda line: line[0])
    return "".join(text + "\n" for _, text in lines[-count:]) if count > 0 else ""


async def follow(ctx, app: App, count: int, poll: float = 0.25) -> AsyncIterator[str]:
    """The newest `count` lines, then every new line as it appears (until the client goes away)."""
    seen: set[str] = set()
    last_event_id = last_step_id = 0
    first = True
    while True:
        async with ctx.sessions() as session:
            stmt = select(Event).where(Event.app_id == app.id, Event.id > last_event_id).order_by(Event.id)
            events = list((await session.scalars(stmt)).all())
            stmt = (select(ReleaseEvent).where(ReleaseEvent.app_id == app.id, ReleaseEvent.id > last_step_id)
                    .order_by(ReleaseEvent.id).limit(count if first else 1000))
            steps = list((await session.scalars(stmt)).all()) if not first else \
                await deploy_events.recent_for_app(session, app.id, count)
        if events:
            last_event_id = events[-1].id
        if steps:
            last_step_id = max(s.id for s in steps)
        lines = [_event_line(e) for e in events] + await _container_lines(ctx, app.id, count if first else 200)
        lines += [deploy_events.log_line(s.version, s) for s in steps]
        # A deploy under way: its steps as they happen (stored with its outcome; the text dedups them then).
        lines += deploy_events.live_lines(ctx, app.id)
        lines.sort(key=lambda line: line[0])
        if first:
            lines = lines[-count:]
        fresh = [text for _, text in lines if text not in seen]
        seen.update(fresh)
        if len(seen) > 20000:  # forget old lines; their timestamps keep them from repeating
            seen = set(fresh)
        if fresh:
            yield "".join(text + "\n" for text in fresh)
        first = False
        await asyncio.sleep(poll)
