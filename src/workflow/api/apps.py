"""Apps (spec §3.4)."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Body, Request
from fastapi.responses import PlainTextResponse, Response, StreamingResponse

from .. import repositories as repo
from ..deps import AppDep, CtxDep, CurrentUser, SessionDep, require_owner_or_admin
from ..schemas import AppCreateIn, AppOut, AppUpdateIn, Page, RunIn, RunOut
from ..services import apps, logs, releases
from .body import data_of
from .pagination import paged
from .wire import DeisRouter, empty, plain

router = DeisRouter(prefix="/v2/apps", tags=["apps"])


class _ReleasingStream(StreamingResponse):
    """A stream that gives its slot back however it ends (finished, client gone, never started)."""

    def __init__(self, content, release: Callable[[], None], **kwargs):
        super().__init__(content, **kwargs)
        self._release = release

    async def __call__(self, scope, receive, send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._release()


@router.get("/", response_model=Page[AppOut], operation_id="apps_list")
async def list_apps(request: Request, session: SessionDep, user: CurrentUser):
    """Apps the caller owns or collaborates on (admins: all)."""
    return await paged(request, session, repo.visible_apps_query(user), lambda rows: [AppOut.of(a) for a in rows])


@router.post("/", status_code=201, response_model=AppOut, operation_id="apps_create")
async def create_app(session: SessionDep, ctx: CtxDep, user: CurrentUser, body: AppCreateIn | None = Body(None)):
    """Create an app (a random name when no `id` is given)."""
    return AppOut.of(await apps.create(session, ctx.settings, user, data_of(body)))


@router.get("/{id}/", response_model=AppOut, operation_id="apps_get")
async def get_app(app: AppDep):
    """One app."""
    return AppOut.of(app)


@router.post("/{id}/", status_code=200, response_class=Response, operation_id="apps_transfer",
             responses={200: {"description": "transferred (empty body)"}})
async def transfer_app(app: AppDep, session: SessionDep, user: CurrentUser, body: AppUpdateIn | None = Body(None)):
    """Give the app to another user (owner or admin)."""
    owner = data_of(body).get("owner")
    if owner:
        require_owner_or_admin(app, user)
        await apps.transfer(session, app, owner)
    return empty(200)


@router.delete("/{id}/", status_code=204, response_class=Response, operation_id="apps_destroy")
async def destroy_app(app: AppDep, session: SessionDep, ctx: CtxDep, user: CurrentUser):
    """Destroy the app: its containers and every row it owns."""
    require_owner_or_admin(app, user)
    await apps.destroy(session, ctx, app)
    return Response(status_code=204)


@router.get("/{id}/logs", response_class=PlainTextResponse, operation_id="apps_logs",
            responses={200: {"content": {"text/plain": {}}, "description": "log lines, oldest first"},
                       204: {"description": "no log lines"}})
async def app_logs(app: AppDep, ctx: CtxDep, user: CurrentUser, log_lines: str | None = None,
                   follow: bool = False):
    """The app's container output and platform events, merged in time order. `follow=true` streams."""
    try:
        count = int(log_lines) if log_lines is not None else 100
    except ValueError:
        count = 100
    count = logs.bounded_lines(ctx.settings, max(count, 0))  # no lines below zero
    if follow:
        release = logs.take_follow(ctx, user)
        return _ReleasingStream(logs.follow(ctx, app, count), release, media_type="text/plain")
    text = await logs.recent(ctx, app, count)
    if not text:
        return Response(status_code=204)
    return plain(text)


@router.post("/{id}/run", response_model=RunOut, operation_id="apps_run")
async def run_command(app: AppDep, session: SessionDep, ctx: CtxDep, user: CurrentUser,
                      body: RunIn | None = Body(None)):
    """Run a one-off command in a new container of the current release; answers with its output."""
    exit_code, output = await releases.run(session, ctx, app, user, data_of(body))
    return RunOut(exit_code=exit_code, output=output)
