"""Config (spec §3.7)."""

from __future__ import annotations

from fastapi import Body

from ..deps import AppDep, CtxDep, CurrentUser, SessionDep
from ..schemas import ConfigIn, ConfigOut
from ..services import config
from .body import data_of
from .wire import DeisRouter

router = DeisRouter(prefix="/v2/apps/{id}/config", tags=["config"])


@router.get("/", response_model=ConfigOut, operation_id="config_get")
async def get_config(app: AppDep, session: SessionDep, ctx: CtxDep):
    """The config of the release in force."""
    return await config.current_config(session, ctx, app)


@router.post("/", status_code=201, response_model=ConfigOut, operation_id="config_set")
async def set_config(app: AppDep, session: SessionDep, ctx: CtxDep, user: CurrentUser,
                     body: ConfigIn | None = Body(None)):
    """Set or unset (`null`) config keys: a new release, redeployed when the app has a build."""
    return await config.change(session, ctx, app, user, data_of(body))
