"""Autoscaling status (not in Deis v2.3: the rules themselves live in the app settings, spec §3.11)."""

from __future__ import annotations

from ..deps import AppDep, CtxDep, SessionDep
from ..schemas import AutoscaleStatus
from ..services import autoscaler
from .wire import DeisRouter

router = DeisRouter(prefix="/v2/apps/{id}", tags=["settings"])


@router.get("/autoscale/", response_model=dict[str, AutoscaleStatus], operation_id="autoscale_status")
async def autoscale_status(app: AppDep, session: SessionDep, ctx: CtxDep):
    """Each autoscale rule with the latest CPU measurement and the latest scale step it took."""
    return await autoscaler.status(session, ctx, app)
