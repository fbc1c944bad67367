"""Releases (spec §3.6)."""

from __future__ import annotations

from fastapi import Body, Request

from .. import repositories as repo
from ..deps import AppDep, CtxDep, CurrentUser, SessionDep
from ..errors import NotFound
from ..schemas import Page, ReleaseEventsOut, ReleaseOut, RollbackIn, VersionOut
from ..services import deploy_events, logs, releases
from .apps import _ReleasingStream
from .body import data_of
from .pagination import paged
from .wire import DeisRouter

router = DeisRouter(prefix="/v2/apps/{id}/releases", tags=["releases"])


@router.get("/", response_model=Page[ReleaseOut], operation_id="releases_list")
async def list_releases(request: Request, app: AppDep, session: SessionDep):
    """The app's releases, newest first (failed ones included)."""

    async def shape(rows) -> list[ReleaseOut]:
        digests = await repo.build_digests(session, [r.build_uuid for r in rows])
        return [ReleaseOut.of(r, digests.get(r.build_uuid or "")) for r in rows]

    return await paged(request, session, repo.releases_query(app.id), shape)


def _number(version: str) -> int | None:
    # ASCII digits only: `isdigit` also takes `²`, which `int` refuses
    return int(version) if version.isascii() and version.isdigit() and len(version) < 10 else None


@router.get("/v{version}/", response_model=ReleaseOut, operation_id="releases_get")
async def get_release(version: str, app: AppDep, session: SessionDep):
    """One release, by `v<N>`."""
    number = _number(version)
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


@router.get("/v{version}/events/", response_model=ReleaseEventsOut, operation_id="releases_events",
            responses={200: {"content": {"application/x-ndjson": {}},
                             "description": "the events, oldest first; with `follow=true` a stream of "
                                            "ReleaseEventOut objects, one JSON object a line"}})
async def release_events(version: str, app: AppDep, session: SessionDep, ctx: CtxDep, user: CurrentUser,
                         follow: bool = False, since: int = 0):
    """The steps of the release's deploy runs (not in Deis): image, containers started, readiness, router
    switch, old containers drained and stopped, or the failure and its reason. `follow=true` streams them
    while the deploy runs (as `logs?follow=true` streams lines), also for the release being made (the
    latest version + 1); `since` skips events up to that `seq`."""
    number = _number(version)
    release = await repo.release_by_version(session, app.id, number) if number is not None else None
    if release is None:
        latest = await repo.latest_release(session, app.id)
        if not (follow and number is not None and number == (latest.version if latest else 0) + 1):
            raise NotFound("Release")
    since = min(max(since, 0), 2**31 - 1)
    if follow:
        give_back = logs.take_follow(ctx, user)
        return _ReleasingStream(deploy_events.follow(ctx, app.id, number, since), give_back,
                                media_type="application/x-ndjson")
    rows = await deploy_events.stored(session, app.id, number, since)
    return ReleaseEventsOut(count=len(rows), results=[deploy_events.row_out(r) for r in rows])
