"""Releases (spec §3.6)."""

from __future__ import annotations

from fastapi import Body, Request

from .. import repositories as repo
from ..deps import AppDep, CtxDep, CurrentUser, SessionDep
from ..errors import NotFound
from ..schemas import Page, ReleaseOut, RollbackIn, VersionOut
from ..services import releases
from .body import data_of
from .wire import DeisRouter, page_body, page_params

router = DeisRouter(prefix="/v2/apps/{id}/releases", tags=["releases"])


@router.get("/", response_model=Page[ReleaseOut], operation_id="releases_list")
async def list_releases(request: Request, app: AppDep, session: SessionDep):
    """The app's releases, newest first (failed ones included)."""
    limit, offset = page_params(request)
    count, rows = await repo.page(session, repo.releases_query(app.id), limit, offset)
    digests = await repo.build_digests(session, [r.build_uuid for r in rows])
    return page_body(request, count, [ReleaseOut.of(r, digests.get(r.build_uuid or "")) for r in rows],
                     limit, offset)


@router.get("/v{version}/", response_model=ReleaseOut, operation_id="releases_get")
async def get_release(version: str, app: AppDep, session: SessionDep):
    """One release, by `v<N>`."""
    # ASCII digits only: `isdigit` also takes `²`, which `int` refuses
    number = int(version) if version.isascii() and version.isdigit() else None
    release = await repo.release_by_version(session, app.id, number) if number is not None else None
    if release is None:
        raise NotFound("Release")
    digests = await repo.build_digests(session, [release.build_uuid])
    return ReleaseOut.of(release, digests.get(release.build_uuid or ""))


@router.post("/rollback/", status_code=201, response_model=VersionOut, operation_id="releases_rollback")
async def rollback(app: AppDep, session: SessionDep, ctx: CtxDep, user: CurrentUser,
                   body: RollbackIn | None = Body(None)):
    """Roll back to a release (default: the one before the current): a new release, redeployed."""
    return VersionOut(version=await releases.rollback(session, ctx, app, user, data_of(body)))
