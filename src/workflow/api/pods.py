"""Pods and scaling (spec §3.8)."""

from __future__ import annotations

from typing import Any

from fastapi import Body
from fastapi.responses import Response

from ..deps import AppDep, CtxDep, CurrentUser, SessionDep
from ..errors import BadRequest
from ..schemas import PodList, PodOut
from ..services import pods
from .wire import DeisRouter

# A pod carries `node` only where the backend has several (Swarm): on one machine it is exactly Deis's pod.

router = DeisRouter(prefix="/v2/apps/{id}", tags=["pods"])


@router.get("/pods/", response_model=PodList, operation_id="pods_list",
            response_model_exclude_none=True)
async def list_pods(app: AppDep, session: SessionDep, ctx: CtxDep):
    """The current release's running containers, newest first."""
    results = await pods.list_pods(session, ctx, app)
    return PodList(count=len(results), results=results)


@router.get("/pods/{type}/", response_model=PodList, operation_id="pods_list_type",
            response_model_exclude_none=True)
async def list_pods_of_type(type: str, app: AppDep, session: SessionDep, ctx: CtxDep):
    """The containers of one process type."""
    results = await pods.list_pods(session, ctx, app, proc_type=type)
    return PodList(count=len(results), results=results)


@router.get("/pods/{type}/{name}/", response_model=PodList, operation_id="pods_get",
            response_model_exclude_none=True)
async def get_pod(type: str, name: str, app: AppDep, session: SessionDep, ctx: CtxDep):
    """One container, by name."""
    results = await pods.list_pods(session, ctx, app, proc_type=type, name=name)
    return PodList(count=len(results), results=results)


@router.post("/pods/restart/", response_model=list[PodOut], operation_id="pods_restart",
             response_model_exclude_none=True)
async def restart_all(app: AppDep, session: SessionDep, ctx: CtxDep):
    """Replace every container of the app; returns the new ones."""
    return await pods.restart(session, ctx, app, None, None)


@router.post("/pods/{type}/restart/", response_model=list[PodOut], operation_id="pods_restart_type",
             response_model_exclude_none=True)
async def restart_type(type: str, app: AppDep, session: SessionDep, ctx: CtxDep):
    """Replace the containers of one process type."""
    return await pods.restart(session, ctx, app, type, None)


@router.post("/pods/{type}/{name}/restart/", response_model=list[PodOut], operation_id="pods_restart_one",
             response_model_exclude_none=True)
async def restart_one(type: str, name: str, app: AppDep, session: SessionDep, ctx: CtxDep):
    """Replace one container (full or short name)."""
    return await pods.restart(session, ctx, app, type, name)


@router.post("/scale/", status_code=204, response_class=Response, operation_id="apps_scale")
async def scale(app: AppDep, session: SessionDep, ctx: CtxDep, user: CurrentUser,
                body: dict[str, Any] | None = Body(None, examples=[{"cmd": 3}])):
    """Run N containers per process type; answers once they run."""
    if body is not None and not isinstance(body, dict):
        raise BadRequest("Invalid scaling format: expected an object of process type to count")
    await pods.scale(session, ctx, app, user, body or {})
    return Response(status_code=204)
