"""App collaborators (spec §3.13)."""

from __future__ import annotations

from fastapi import Body
from fastapi.responses import Response

from ..deps import AppDep, CurrentUser, SessionDep
from ..schemas import PermsOut, UsernameIn
from ..services import perms
from .body import data_of
from .wire import DeisRouter, empty

router = DeisRouter(prefix="/v2/apps/{id}/perms", tags=["perms"])


@router.get("/", response_model=PermsOut, operation_id="perms_list")
async def list_collaborators(app: AppDep, session: SessionDep):
    """The users the app is shared with (owner and admins are not listed)."""
    return PermsOut(users=await perms.collaborators(session, app))


@router.post("/", status_code=201, response_class=Response, operation_id="perms_grant",
             responses={201: {"description": "granted (empty body)"}})
async def grant_collaborator(app: AppDep, session: SessionDep, user: CurrentUser,
                             body: UsernameIn | None = Body(None)):
    """Share the app with a user (owner and admins)."""
    await perms.grant(session, app, user, data_of(body))
    return empty(201)


@router.delete("/{username}", status_code=204, response_class=Response, operation_id="perms_revoke")
async def revoke_collaborator(username: str, app: AppDep, session: SessionDep, user: CurrentUser):
    """Stop sharing the app with a user (owner and admins; a collaborator may remove only themselves)."""
    await perms.revoke(session, app, user, username)
    return Response(status_code=204)
