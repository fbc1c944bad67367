"""App settings and TLS, read side (spec §3.11); changes arrive with the router features."""

from __future__ import annotations

from .. import repositories as repo
from ..deps import AppDep, SessionDep
from ..errors import NotFound
from ..schemas import AppSettingsOut, TLSOut
from .wire import DeisRouter

router = DeisRouter(prefix="/v2/apps/{id}", tags=["settings"])


@router.get("/settings/", response_model=AppSettingsOut, operation_id="settings_get")
async def get_settings(app: AppDep, session: SessionDep):
    """The app's settings in force (maintenance, routable, whitelist, autoscale, label)."""
    row = await repo.latest_settings(session, app.id)
    if row is None:
        raise NotFound("AppSettings")
    return AppSettingsOut.of(row)


@router.get("/tls/", response_model=TLSOut, operation_id="tls_get")
async def get_tls(app: AppDep, session: SessionDep):
    """Whether HTTPS is enforced (`null` until first set)."""
    row = await repo.latest_tls(session, app.id)
    if row is None:
        raise NotFound("TLS")
    return TLSOut.of(row)
