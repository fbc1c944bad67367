"""App settings, whitelist and TLS (spec §3.11). Changes reach the router before the answer."""

from __future__ import annotations

from fastapi import Body
from fastapi.responses import Response

from ..deps import AppDep, CtxDep, CurrentUser, SessionDep, require_owner_or_admin
from ..schemas import AppSettingsIn, AppSettingsOut, TLSIn, TLSOut, WhitelistIn, WhitelistOut
from ..services import appsettings
from .body import data_of
from .wire import DeisRouter

router = DeisRouter(prefix="/v2/apps/{id}", tags=["settings"])


@router.get("/settings/", response_model=AppSettingsOut, operation_id="settings_get")
async def get_settings(app: AppDep, session: SessionDep):
    """The app's settings in force (maintenance, routable, whitelist, autoscale, label)."""
    return AppSettingsOut.of(await appsettings.latest(session, app))


@router.post("/settings/", status_code=201, response_model=AppSettingsOut, operation_id="settings_set")
async def set_settings(app: AppDep, session: SessionDep, ctx: CtxDep, user: CurrentUser,
                       body: AppSettingsIn | None = Body(None)):
    """Change maintenance, routable, whitelist (replaced), autoscale or label (merged; `null` removes)."""
    return AppSettingsOut.of(await appsettings.change(session, ctx, app, user, data_of(body)))


@router.get("/whitelist/", response_model=WhitelistOut, operation_id="whitelist_get")
async def get_whitelist(app: AppDep, session: SessionDep):
    """The addresses allowed to reach the app (empty: everyone)."""
    return WhitelistOut(addresses=await appsettings.whitelist(session, app))


@router.post("/whitelist/", status_code=201, response_model=WhitelistOut, operation_id="whitelist_add")
async def add_to_whitelist(app: AppDep, session: SessionDep, ctx: CtxDep, user: CurrentUser,
                           body: WhitelistIn | None = Body(None)):
    """Allow more addresses or networks; answers the whole whitelist."""
    return WhitelistOut(addresses=await appsettings.whitelist_add(session, ctx, app, user, data_of(body)))


@router.delete("/whitelist/", status_code=204, response_class=Response, operation_id="whitelist_remove")
async def remove_from_whitelist(app: AppDep, session: SessionDep, ctx: CtxDep, user: CurrentUser,
                                body: WhitelistIn | None = Body(None)):
    """Remove addresses from the whitelist (owner and admins)."""
    require_owner_or_admin(app, user)
    await appsettings.whitelist_remove(session, ctx, app, user, data_of(body))
    return Response(status_code=204)


@router.get("/tls/", response_model=TLSOut, operation_id="tls_get")
async def get_tls(app: AppDep, session: SessionDep):
    """Whether HTTPS is enforced (`null` until first set)."""
    return TLSOut.of(await appsettings.latest_tls(session, app))


@router.post("/tls/", status_code=201, response_model=TLSOut, operation_id="tls_set")
async def set_tls(app: AppDep, session: SessionDep, ctx: CtxDep, user: CurrentUser, body: TLSIn | None = Body(None)):
    """Enforce HTTPS (`{"https_enforced": true}`: plain http gets a 301) or stop enforcing it."""
    return TLSOut.of(await appsettings.set_tls(session, ctx, app, user, data_of(body)))
