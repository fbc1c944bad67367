"""Apps (spec §3.4)."""

from __future__ import annotations

from fastapi import Body, Request
from fastapi.responses import Response

from .. import repositories as repo
from ..deps import AppDep, CtxDep, CurrentUser, SessionDep, require_owner_or_admin
from ..schemas import AppCreateIn, AppOut, AppUpdateIn, Page
from ..services import apps
from .body import data_of
from .wire import DeisRouter, empty, page_body, page_params

router = DeisRouter(prefix="/v2/apps", tags=["apps"])


@router.get("/", response_model=Page[AppOut], operation_id="apps_list")
async def list_apps(request: Request, session: SessionDep, user: CurrentUser):
    """Apps the caller owns or collaborates on (admins: all)."""
    limit, offset = page_params(request)
    count, rows = await repo.page(session, repo.visible_apps_query(user), limit, offset)
    return page_body(request, count, [AppOut.of(a) for a in rows], limit, offset)


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
