"""Apps: create (with the rows §4.1 says creation makes), transfer, destroy."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from .. import repositories as repo
from ..config import Settings
from ..domain.appnames import generate_app_name
from ..errors import FieldErrors, NotFound
from ..models import TLS, App, AppSettings, Config, Domain, Release, User, utcnow
from .domains import app_name_error
from .routing import commit_and_sync
from .serial import app_work

APP_ID_RE = re.compile(r"[a-z]([a-z0-9-]*[a-z0-9])?")
APP_ID_TEXT = ("App name must start with an alphabetic character, cannot end with a hyphen and can only "
               "contain a-z (lowercase), 0-9 and hyphens.")


def validate_app_id(value: Any, settings: Settings) -> str:
    if value is None or (isinstance(value, str) and value == ""):
        raise FieldErrors.one("id", "This field may not be blank." if value == "" else "This field may not be null.")
    if not isinstance(value, str):
        raise FieldErrors.one("id", "Not a valid string.")
    if len(value) > 63:
        raise FieldErrors.one("id", "Ensure this field has no more than 63 characters.")
    if not APP_ID_RE.fullmatch(value):
        raise FieldErrors.one("id", APP_ID_TEXT)
    if value in settings.reserved:
        raise FieldErrors.one("id", f"{value} is a reserved name.")
    return value


async def create(session: AsyncSession, settings: Settings, owner: User, data: dict[str, Any]) -> App:
    if "id" in data:
        app_id = validate_app_id(data["id"], settings)
        if await repo.app_exists(session, app_id):
            raise FieldErrors.one("id", "Application with this id already exists.")
        if (problem := await app_name_error(session, app_id, settings.domain)) is not None:
            raise FieldErrors.one("id", problem)
    else:
        app_id = generate_app_name()
        while app_id in settings.reserved or await repo.app_exists(session, app_id) \
                or await app_name_error(session, app_id, settings.domain) is not None:
            app_id = generate_app_name()

    app = App(id=app_id, owner=owner.username, structure={})
    config = Config(app_id=app_id, owner=owner.username)
    session.add_all([app, config])
    await session.flush()
    session.add_all([
        Release(app_id=app_id, owner=owner.username, version=1, config_uuid=config.uuid, build_uuid=None,
                summary=f"{owner.username} created initial release"),
        AppSettings(app_id=app_id, owner=owner.username),
        TLS(app_id=app_id, owner=owner.username),
        Domain(app_id=app_id, owner=owner.username, domain=app_id),
    ])
    await session.flush()
    return app


async def transfer(session: AsyncSession, app: App, new_owner: str) -> None:
    user = await repo.user_by_name(session, new_owner)
    if user is None:
        raise NotFound("User")
    old = app.owner
    await repo.transfer_owned_rows(session, app.id, old, user.username)
    app.owner = user.username
    app.updated = utcnow()  # upstream's auto_now


async def destroy(session: AsyncSession, ctx, app: App) -> None:
    """Forget the app (rows, then the router's route), then remove every container it had."""
    async with app_work(session, ctx, app):
        await repo.delete_app(session, app.id)
        ctx.route_state.forget_app(app.id)
        await commit_and_sync(session, ctx)
        if ctx.scheduler is not None:
            containers = await ctx.scheduler.list(app=app.id)
            await ctx.scheduler.remove(containers, grace_seconds=ctx.settings.stop_grace_seconds)
            ctx.route_state.withdraw(containers)
