"""Users and administrators (spec §3.3)."""

from __future__ import annotations

from fastapi import Body, Request
from fastapi.responses import Response

from .. import repositories as repo
from ..deps import CtxDep, CurrentUser, SessionDep, require_admin
from ..schemas import AdminOut, Page, UsernameIn, UserOut
from ..services import users
from .body import data_of
from .pagination import paged
from .wire import DeisRouter, empty

router = DeisRouter(prefix="/v2", tags=["users"])


@router.get("/users/", response_model=Page[UserOut], operation_id="users_list")
async def list_users(request: Request, session: SessionDep, user: CurrentUser):
    """All users (admins only)."""
    require_admin(user)
    return await paged(request, session, repo.users_query(), lambda rows: [UserOut.of(u) for u in rows])


@router.get("/admin/perms/", response_model=Page[AdminOut], operation_id="admins_list")
async def list_admins(request: Request, session: SessionDep, user: CurrentUser):
    """The administrators (admins only)."""
    require_admin(user)
    return await paged(request, session, repo.admins_query(),
                       lambda rows: [AdminOut(username=u.username, is_superuser=True) for u in rows])


@router.post("/admin/perms/", status_code=201, response_class=Response, operation_id="admins_grant",
             responses={201: {"description": "granted (empty body)"}})
async def grant_admin(session: SessionDep, ctx: CtxDep, user: CurrentUser, body: UsernameIn | None = Body(None)):
    """Make a user an administrator."""
    await users.set_admin(session, ctx, user, data_of(body).get("username"), True)
    return empty(201)


@router.delete("/admin/perms/{username}", status_code=204, response_class=Response, operation_id="admins_revoke")
async def revoke_admin(username: str, session: SessionDep, ctx: CtxDep, user: CurrentUser):
    """Take administrator rights away from a user (never from the last one while other users remain: 409)."""
    await users.set_admin(session, ctx, user, username, False)
    return Response(status_code=204)
