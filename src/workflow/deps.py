"""FastAPI dependencies as Annotated aliases: a route reads
`async def scale(app: AppDep, body: ScaleIn, session: SessionDep, ctx: CtxDep)`."""

from __future__ import annotations

import hmac
import re
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader
from sqlalchemy.ext.asyncio import AsyncSession

from . import repositories as repo
from .context import Context
from .db import session_scope
from .errors import DatabaseUnavailable, NotAuthenticated, NotFound, PermissionDenied
from .models import App, User
from .router.control import API_PROOF_HEADER
from .security import digests_match, token_digest

APP_ID = re.compile(r"[a-z0-9-]+")

# Declared so the OpenAPI schema (and Swagger UI's "Authorize") knows `Authorization: token <key>`.
token_scheme = APIKeyHeader(name="Authorization", auto_error=False,
                            description="`token <key>` as returned by /v2/auth/login/")


def get_context(request: Request) -> Context:
    return request.app.state.ctx


CtxDep = Annotated[Context, Depends(get_context)]


async def get_session(ctx: CtxDep) -> AsyncIterator[AsyncSession]:
    try:
        async for session in session_scope(ctx.sessions):
            yield session
    except OSError as exc:  # the database server went away
        raise DatabaseUnavailable() from exc


# scope="function": committed before the response is sent, so a client's next request sees the change.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


async def _authenticate(header: str | None, session: AsyncSession) -> User | None:
    """DRF TokenAuthentication: other schemes mean anonymous; malformed `token` headers are 401."""
    if not header:
        return None
    parts = header.split()
    if not parts or parts[0].lower() != "token":
        return None
    if len(parts) == 1:
        raise NotAuthenticated("Invalid token header. No credentials provided.")
    if len(parts) > 2:
        raise NotAuthenticated("Invalid token header. Token string should not contain spaces.")
    digest = token_digest(parts[1])
    found = await repo.user_by_token_digest(session, digest)
    if found is None or not digests_match(found[1].digest, digest):
        raise NotAuthenticated("Invalid token.")
    user = found[0]
    if not user.is_active:
        raise NotAuthenticated("User inactive or deleted.")
    return user


async def optional_user(session: SessionDep, authorization: str | None = Depends(token_scheme)) -> User | None:
    return await _authenticate(authorization, session)


async def lenient_user(session: SessionDep, authorization: str | None = Depends(token_scheme)) -> User | None:
    """Registration treats an invalid token as anonymous."""
    try:
        return await _authenticate(authorization, session)
    except NotAuthenticated:
        return None


async def current_user(user: User | None = Depends(optional_user)) -> User:
    if user is None:
        raise NotAuthenticated()
    return user


OptionalUser = Annotated[User | None, Depends(optional_user)]
LenientUser = Annotated[User | None, Depends(lenient_user)]
CurrentUser = Annotated[User, Depends(current_user)]


def client_address(request: Request, ctx: Context) -> str:
    """Who is asking, for throttling. Behind the platform's nginx (on the owner-only unix socket) that is
    `X-Real-IP`, which nginx always sets to the peer (trusted proxies resolved) — a client's own
    X-Forwarded-For or X-Real-IP cannot choose it. Behind router instances on a swarm, whose API port app
    tasks can reach too, X-Real-IP counts only with the routers' proof (router/control.py). Without the
    router: the peer address."""
    if ctx.settings.router_enabled:
        real = request.headers.get("x-real-ip")
        proven = ctx.router_proof is None or hmac.compare_digest(
            request.headers.get(API_PROOF_HEADER, "").encode(), ctx.router_proof.encode())
        if real and proven:
            return real
    return request.client.host if request.client else "unknown"


def require_admin(user: User) -> None:
    if not user.is_superuser:
        raise PermissionDenied()


async def can_use_app(session: AsyncSession, app: App, user: User) -> bool:
    return user.is_superuser or app.owner == user.username or await repo.is_collaborator(
        session, app.id, user.username)


async def get_app(id: str, user: CurrentUser, session: SessionDep) -> App:
    """The app in the path, loaded and permission-checked (owner, collaborator or admin)."""
    app = await repo.app_by_id(session, id) if APP_ID.fullmatch(id) else None
    if app is None:
        raise NotFound("App")
    if not await can_use_app(session, app, user):
        raise PermissionDenied()
    return app


AppDep = Annotated[App, Depends(get_app)]


def require_owner_or_admin(app: App, user: User) -> None:
    """DELETEs, transfer and granting are for the owner and admins, not collaborators."""
    if not (user.is_superuser or app.owner == user.username):
        raise PermissionDenied()
