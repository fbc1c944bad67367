"""Builds (spec §3.5)."""

from __future__ import annotations

from fastapi import Body, Request

from .. import repositories as repo
from ..deps import AppDep, CtxDep, CurrentUser, SessionDep
from ..errors import NotFound
from ..schemas import BuildIn, BuildOut, Page
from ..services import releases
from .body import data_of
from .pagination import paged
from .wire import DeisRouter

router = DeisRouter(prefix="/v2/apps/{id}/builds", tags=["builds"])


@router.get("/", response_model=Page[BuildOut], operation_id="builds_list")
async def list_builds(request: Request, app: AppDep, session: SessionDep):
    """The app's builds, newest first."""
    return await paged(request, session, repo.builds_query(app.id), lambda rows: [BuildOut.of(b) for b in rows])


@router.post("/", status_code=201, response_model=BuildOut, operation_id="builds_create")
async def create_build(app: AppDep, session: SessionDep, ctx: CtxDep, user: CurrentUser,
                       body: BuildIn | None = Body(None)):
    """Deploy an image: pull, check, release vN, roll out; answers once the release serves."""
    return BuildOut.of(await releases.create_build(session, ctx, app, user, data_of(body)))


@router.get("/{uuid}/", response_model=BuildOut, operation_id="builds_get")
async def get_build(uuid: str, app: AppDep, session: SessionDep):
    """One build."""
    build = await repo.build_by_uuid(session, app.id, uuid)
    if build is None:
        raise NotFound("Build")
    return BuildOut.of(build)
