"""Config changes: validate, merge, new release, redeploy (spec §3.7, §4.2, §4.6)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ..domain import configrules
from ..domain import plan as planning
from ..domain.summaries import config_summary
from ..errors import BadRequest, Conflict, FieldErrors, Unprocessable
from ..models import App, Config, Release, User
from ..scheduler.base import SchedulerError
from ..schemas import ConfigOut
from . import deploy, deploy_events
from .releases import check_registry, current_state, deploy_release, next_version, pull_image, raise_unavailable
from .serial import app_work


def _plain(ctx, config: Config) -> dict[str, dict[str, Any]]:
    """The config's fields with the registry password decrypted (it is stored encrypted)."""
    registry = dict(config.registry_info or {})
    if "password" in registry:
        registry["password"] = ctx.cipher.decrypt_or_stored(registry["password"])
    return {"values": dict(config.values or {}), "memory": dict(config.memory or {}),
            "cpu": dict(config.cpu or {}), "tags": dict(config.tags or {}), "registry": registry,
            "healthcheck": dict(config.healthcheck or {})}


def config_out(ctx, config: Config) -> ConfigOut:
    plain = _plain(ctx, config)
    strings = {f: {k: configrules.stringify(v) for k, v in plain[f].items()}
               for f in ("values", "memory", "cpu", "tags", "registry")}
    return ConfigOut(uuid=config.uuid, app=config.app_id, owner=config.owner, healthcheck=plain["healthcheck"],
                     created=config.created, updated=config.updated, **strings)


async def current_config(session: AsyncSession, ctx, app: App) -> ConfigOut:
    _, config, _ = await current_state(session, app)
    return config_out(ctx, config)


async def check_tags(ctx, old: dict[str, Any], tags: dict[str, Any]) -> None:
    """Tags select nodes by their labels: some node must have them all (the backend knows its nodes)."""
    try:
        unmatched = await ctx.scheduler.unmatched_tags({k: str(v) for k, v in tags.items()})
    except SchedulerError as exc:
        raise_unavailable(exc)
    if unmatched:
        added = [f"{k}={v}" for k, v in sorted(tags.items()) if old.get(k) != v and f"{k}={v}" in unmatched]
        cause = f" - Addition of {', '.join(added)} is the cause" if added else ""
        raise BadRequest(f"No nodes matched the provided labels: {', '.join(unmatched)}{cause}")


async def change(session: AsyncSession, ctx, app: App, user: User, data: dict[str, Any]) -> ConfigOut:
    try:
        changes = configrules.validate(data)
    except configrules.ConfigError as exc:
        raise FieldErrors.one(exc.field, exc.message) from exc
    async with app_work(session, ctx, app):
        current, old_config, build = await current_state(session, app)
        old = _plain(ctx, old_config)
        try:
            merged = configrules.merge(old, changes)
        except configrules.MissingKey as exc:
            raise Unprocessable(exc.text) from exc
        if merged["registry"] and "PORT" not in merged["values"]:
            raise BadRequest("PORT needs to be set in the config when using a private registry")
        if "tags" in changes and merged["tags"] and ctx.scheduler is not None:
            await check_tags(ctx, old["tags"], merged["tags"])
        phrases = config_summary(user.username, old, merged)
        if not phrases:
            raise Conflict(f"{user.username} changed nothing - release stopped")

        if any(v is not None for v in changes.get("registry", {}).values()):
            await check_registry(ctx, merged["registry"], build.image if build else None)
        registry = dict(merged["registry"])
        if "password" in registry:
            registry["password"] = ctx.cipher.encrypt(str(registry["password"]))
        config = Config(app_id=app.id, owner=user.username, values=merged["values"], memory=merged["memory"],
                        cpu=merged["cpu"], tags=merged["tags"], registry_info=registry,
                        healthcheck=merged["healthcheck"])
        release = Release(app_id=app.id, owner=user.username, version=await next_version(session, app.id),
                          config_uuid=config.uuid, build_uuid=build.uuid if build else None,
                          summary=" and ".join(phrases))
        info = None
        if build is not None:
            deploy.require_scheduler(ctx)
            info = await pull_image(ctx, planning.image_of(build), config)
        session.add(config)
        await session.flush()
        session.add(release)
        await session.commit()
        if build is not None:
            async with deploy_events.recording(ctx, session, app.id, release.version) as events:
                await deploy_release(session, ctx, app, release, build, config, dict(app.structure or {}), info,
                                     f"{user.username} deployed a config that failed", events)
        return config_out(ctx, config)
