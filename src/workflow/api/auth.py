"""Auth (spec §3.2)."""

from __future__ import annotations

from fastapi import Body, Request
from fastapi.responses import Response

from ..deps import CtxDep, CurrentUser, LenientUser, OptionalUser, SessionDep, client_address
from ..schemas import CancelIn, LoginIn, PasswdIn, RegisterIn, StatusOut, TokenOut, TokensIn, UserOut
from ..services import users
from .body import data_of
from .wire import DeisRouter

router = DeisRouter(prefix="/v2/auth", tags=["auth"])


@router.post("/register/", status_code=201, response_model=UserOut, operation_id="auth_register")
async def register(session: SessionDep, ctx: CtxDep, caller: LenientUser, body: RegisterIn | None = Body(None)):
    """Create a user; the first user becomes an administrator."""
    user = await users.register(session, ctx, caller, data_of(body))
    return UserOut.of(user)


@router.post("/login/", response_model=TokenOut, operation_id="auth_login")
async def login(request: Request, session: SessionDep, ctx: CtxDep, _caller: OptionalUser,
                body: LoginIn | None = Body(None)):
    """Exchange username and password for the user's API token (failures are throttled: 429)."""
    # DRF authenticates every request: a bad `Authorization: token` header is a 401 here too.
    return TokenOut(token=await users.login(session, ctx, data_of(body), client_address(request, ctx)))


@router.get("/whoami/", response_model=UserOut, operation_id="auth_whoami")
async def whoami(user: CurrentUser):
    """The authenticated user."""
    return UserOut.of(user)


@router.delete("/cancel/", status_code=204, response_class=Response, operation_id="auth_cancel")
async def cancel(session: SessionDep, ctx: CtxDep, user: CurrentUser, body: CancelIn | None = Body(None)):
    """Delete one's own account (or, for admins, another user's); never the last administrator's while
    other users remain (409)."""
    await users.cancel(session, ctx, user, data_of(body))
    return Response(status_code=204)


@router.post("/passwd/", response_model=StatusOut, operation_id="auth_passwd")
async def passwd(session: SessionDep, user: CurrentUser, body: PasswdIn | None = Body(None)):
    """Change a password."""
    await users.passwd(session, user, data_of(body))
    return StatusOut(status="password set")


@router.post("/tokens/", response_model=TokenOut | str, operation_id="auth_tokens")
async def regenerate(session: SessionDep, ctx: CtxDep, user: CurrentUser, body: TokensIn | None = Body(None)):
    """Replace a token: one's own, a named user's, or everyone's (`all`, answered with `""`)."""
    token = await users.regenerate(session, ctx.cipher, user, data_of(body))
    return "" if token is None else TokenOut(token=token)
