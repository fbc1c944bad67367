"""App collaborators (spec §3.13, §5): the users granted `use_app` on an app besides its owner."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from .. import repositories as repo
from ..domain import validation as v
from ..errors import FieldErrors, NotFound, PermissionDenied
from ..models import App, User


def _is_owner_or_admin(app: App, user: User) -> bool:
    return user.is_superuser or app.owner == user.username


async def may_use(session: AsyncSession, app: App, user: User) -> bool:
    """Owner, collaborator or admin."""
    return _is_owner_or_admin(app, user) or await repo.is_collaborator(session, app.id, user.username)


async def collaborators(session: AsyncSession, app: App) -> list[str]:
    """Granted users only: the owner and admins are not listed unless granted."""
    return await repo.collaborators(session, app.id)


async def grant(session: AsyncSession, app: App, caller: User, data: dict[str, Any]) -> None:
    """Owner and admins only; granting twice is harmless."""
    if not _is_owner_or_admin(app, caller):
        raise PermissionDenied()
    errors: dict[str, list[str]] = {}
    username = v.required_string(errors, data, "username", max_length=150)
    if errors:
        raise FieldErrors(errors)
    user = await repo.user_by_name(session, username)
    if user is None:
        raise NotFound("User")
    await repo.add_collaborator(session, app.id, user.username)


async def revoke(session: AsyncSession, app: App, caller: User, username: str) -> None:
    """Owner and admins revoke anyone; a collaborator only themselves (leaving the app)."""
    user = await repo.user_by_name(session, username)
    if user is None:
        raise NotFound("User")
    if not await repo.is_collaborator(session, app.id, user.username):
        raise PermissionDenied()
    if user.username != caller.username and not _is_owner_or_admin(app, caller):
        raise PermissionDenied()
    await repo.remove_collaborator(session, app.id, user.username)
