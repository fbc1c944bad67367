"""Builds (spec §3.5)."""

from __future__ import annotations

from fastapi import Body, Request

from .. import repositories as repo
from ..deps import AppDep, CtxDep, CurrentUser, SessionDep
from ..errors import NotFound
from ..schemas import BuildIn, BuildOut, Page
from ..services import releases
from .body import data_of
from .wire import DeisRouter, page_body, page_params

router = DeisRouter(prefix="/v2/apps/{id}/builds", tags=["builds"])


@router.get("/", response_model=Page[BuildOut], operation_id="builds_list")
async def list_builds(request: Request, app: AppDep, session: SessionDep):
    """The app's builds, newest first."""
    limit, offset = page_params(request)
    count, rows = await repo.page(session, repo.builds_query(app.id), limit, offset)
    return page_body(request, count, [BuildOut.of(b) for b in rows], limit, offset)


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
