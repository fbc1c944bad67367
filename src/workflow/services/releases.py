"""Releases: made from a build, a config change or a rollback, then deployed (spec §4.2–§4.4).

Persist intent → act → record outcome: the release row is committed before its containers start; a
failed deploy marks it failed (with the reason) and the previous release keeps serving.
"""

from __future__ import annotations

import logging
from typing import Any, NoReturn

from sqlalchemy.ext.asyncio import AsyncSession

from .. import repositories as repo
from ..domain import plan as planning
from ..domain.images import pinned, split_image, valid_reference
from ..domain.procfile import ProcfileError, next_structure, parse_procfile
from ..domain.summaries import build_summary
from ..errors import BadRequest, FieldErrors, NotFound
from ..models import App, Build, Config, Release, User, utcnow
from ..scheduler.base import (
    ContainerSpec,
    EngineUnavailable,
    ImageInfo,
    ImageNotFound,
    ImagePullFailed,
    RegistryAuth,
    SchedulerError,
    scrub,
)
from . import deploy, deploy_events, rollout
from .deploy_events import QUIET, DeployEvents
from .rollout import DeployError
from .serial import app_work

log = logging.getLogger("workflow.releases")


def registry_auth(ctx, config: Config) -> RegistryAuth | None:
    registry = config.registry_info or {}
    if not registry.get("username"):
        return None
    password = ctx.cipher.decrypt_or_stored(registry.get("password", ""))
    return RegistryAuth(username=registry["username"], password=password, hostname=registry.get("hostname"))


async def check_registry(ctx, registry: dict[str, Any], image: str | None) -> None:
    """Credentials being set are checked against their registry before they are stored (`docker login` from
    the engine); refused → 400 with the registry's reason. The hostname defaults to the registry of the app's
    current build image; with neither (no build yet), the first pull checks them."""
    username, password = registry.get("username"), registry.get("password")
    hostname = registry.get("hostname") or (split_image(image)[0] if image else None)
    if not username or not password or not hostname:
        return
    deploy.require_scheduler(ctx)
    auth = RegistryAuth(username=str(username), password=str(password), hostname=str(hostname))
    try:
        await ctx.scheduler.login(auth)
    except EngineUnavailable as exc:
        raise_unavailable(exc)
    except SchedulerError as exc:
        raise BadRequest(scrub(exc.message, auth)) from None


async def pull_image(ctx, image: str, config: Config, events: DeployEvents = QUIET) -> ImageInfo:
    """Pull through the engine (with the app's registry credentials) unless the engine has the image; its
    inspect. `image` is normally a build's pinned `name@digest` (`planning.image_of`), which needs no registry
    once local. A deploy's `events` get the pull's progress. User-facing failures are 400."""
    always = (config.values or {}).get("IMAGE_PULL_POLICY") == "Always"
    auth = registry_auth(ctx, config)
    progress = events.pulling(image) if events is not QUIET else None
    try:
        return await ctx.scheduler.pull(image, auth=auth, always=always, progress=progress)
    except SchedulerError as exc:
        image_error(exc, image, auth)


async def resolve_image(ctx, image: str, config: Config, events: DeployEvents = QUIET) -> tuple[str, ImageInfo]:
    """Build time: the digest the registry serves for `image` now, asked with the app's own credentials
    (refused or missing → 400 with the registry's reason, although the engine may hold a copy another app
    pulled), then the image by that digest (pulled when the engine lacks it)."""
    auth = registry_auth(ctx, config)
    try:
        digest = await ctx.scheduler.resolve(image, auth)
    except SchedulerError as exc:
        image_error(exc, image, auth)
    events.resolved(image, digest)
    return digest, await pull_image(ctx, pinned(image, digest), config, events)


def image_error(exc: SchedulerError, image: str, auth: RegistryAuth | None) -> NoReturn:
    """A failed resolve or pull as the user sees it: 400 naming the image and the registry's reason; 503
    when the engine is down."""
    if isinstance(exc, EngineUnavailable):
        raise_unavailable(exc)
    if isinstance(exc, ImageNotFound):
        raise BadRequest(f"Image {image} could not be found: {scrub(exc.message, auth)}") from None
    hint = ""
    if isinstance(exc, ImagePullFailed):
        low = exc.message.lower()
        refused = any(word in low for word in ("auth", "denied", "forbidden"))
        hint = " (a private registry? set its credentials with `deis registry:set`)" if refused and not auth else ""
    raise BadRequest(f"Image {image} could not be pulled: {scrub(exc.message, auth)}{hint}") from None


def raise_unavailable(exc: SchedulerError) -> NoReturn:
    raise rollout.engine_unavailable(exc) from exc


async def next_version(session: AsyncSession, app_id: str) -> int:
    latest = await repo.latest_release(session, app_id)
    return (latest.version if latest else 0) + 1


async def current_state(session: AsyncSession, app: App) -> tuple[Release, Config, Build | None]:
    release = await repo.current_release(session, app.id)
    if release is None:  # every app has v1; only a damaged database lacks it
        raise NotFound("Release")
    config = await repo.get_config(session, release.config_uuid)
    build = await repo.get_build(session, release.build_uuid)
    return release, config, build


async def deploy_release(session: AsyncSession, ctx, app: App, release: Release, build: Build, config: Config,
                         structure: dict[str, int], image: ImageInfo | None, failure_summary: str,
                         events: DeployEvents = QUIET) -> None:
    """Roll out a committed release. On failure: mark it failed with the reason, answer 400. Its deploy
    events are written with the outcome (one commit)."""
    app_settings = await repo.latest_settings(session, app.id)
    routable = app_settings.routable if app_settings else True
    try:
        the_plan = planning.plan(app, release, build, config, image, structure, routable, ctx.settings,
                                 registry_auth(ctx, config))
        await deploy.roll_out(ctx, app.id, the_plan, events)
    except (DeployError, BadRequest, SchedulerError) as exc:
        reason = exc.detail if isinstance(exc, BadRequest) else str(exc)
        release.failed = True
        release.summary = failure_summary
        release.failure = reason
        release.updated = utcnow()
        await repo.record_event(session, app.id, f"{release.owner} deploy of v{release.version} failed: {reason}",
                           "ERROR")
        events.failed(reason)
        await events.flush(session)
        await session.commit()
        if isinstance(exc, BadRequest):
            raise BadRequest(reason) from exc
        raise rollout.user_error(exc, BadRequest) from exc
    app.structure = structure
    app.updated = utcnow()
    await repo.record_event(session, app.id, f"{release.owner} deployed v{release.version}: {release.summary}")
    events.deployed()
    await events.flush(session)
    await session.commit()


async def create_build(session: AsyncSession, ctx, app: App, user: User, data: dict[str, Any]) -> Build:
    image = data.get("image")
    if image is None or "image" not in data:
        raise FieldErrors.one("image", "This field is required.")
    if not isinstance(image, str) or not image.strip():
        raise FieldErrors.one("image", "This field may not be blank.")
    if not valid_reference(image):
        raise FieldErrors.one("image", "Enter a valid Docker image reference ([registry/]name[:tag][@sha256:…]; "
                                       "lower-case name).")
    try:
        procfile = parse_procfile(data.get("procfile"))
    except ProcfileError as exc:
        raise FieldErrors.one("procfile", str(exc)) from exc
    sha = str(data.get("sha") or "")
    dockerfile = str(data.get("dockerfile") or "")
    deploy.require_scheduler(ctx)

    async with app_work(session, ctx, app):
        version = await next_version(session, app.id)
        async with deploy_events.recording(ctx, session, app.id, version) as events:
            current, config, previous_build = await current_state(session, app)
            digest, info = await resolve_image(ctx, image, config, events)
            events.image_ready(image, info.exposed_ports)
            structure = next_structure(app.structure or {}, previous_build.procfile if previous_build else {},
                                       procfile, sha, dockerfile)
            build = Build(app_id=app.id, owner=user.username, image=image, digest=digest, sha=sha,
                          procfile=procfile, dockerfile=dockerfile)
            release = Release(app_id=app.id, owner=user.username, version=version,
                              config_uuid=config.uuid, build_uuid=build.uuid,
                              summary=build_summary(user.username, image, sha, digest))
            # Check what can be checked before anything is stored: nothing is created on a 400 here.
            app_settings = await repo.latest_settings(session, app.id)
            planning.plan(app, release, build, config, info, structure,
                        app_settings.routable if app_settings else True, ctx.settings)
            session.add(build)
            await session.flush()
            session.add(release)
            await session.commit()
            await deploy_release(session, ctx, app, release, build, config, structure, info,
                                 f"{user.username} deployed {build.uuid[:7]} which failed", events)
    return build


async def rollback(session: AsyncSession, ctx, app: App, user: User, data: dict[str, Any]) -> int:
    """A new release copying the target's build and config; redeployed when the app runs a build."""
    async with app_work(session, ctx, app):
        current, _, current_build = await current_state(session, app)
        raw = data.get("version")
        try:
            target_version = int(raw) if raw is not None else current.version - 1
        except (TypeError, ValueError) as exc:
            raise BadRequest(f"version must be an integer: {raw!r}") from exc
        if target_version < 1:
            raise BadRequest("version cannot be below 0")
        if target_version == 1:
            raise BadRequest("Cannot roll back to initial release.")
        target = await repo.release_by_version(session, app.id, target_version)
        if target is None:
            raise BadRequest("Release matching query does not exist.")
        if target.failed:
            raise BadRequest("Cannot roll back to failed release.")
        config = await repo.get_config(session, target.config_uuid)
        build = await repo.get_build(session, target.build_uuid)
        release = Release(app_id=app.id, owner=user.username, version=await next_version(session, app.id),
                          config_uuid=target.config_uuid, build_uuid=target.build_uuid,
                          summary=f"{user.username} rolled back to v{target_version}")
        info = None
        if current_build is not None and build is not None:
            deploy.require_scheduler(ctx)
            info = await pull_image(ctx, planning.image_of(build), config)
        session.add(release)
        await session.commit()
        if current_build is not None and build is not None:
            async with deploy_events.recording(ctx, session, app.id, release.version) as events:
                await deploy_release(session, ctx, app, release, build, config, dict(app.structure or {}), info,
                                     f"{current.owner} performed roll back to a release that failed", events)
        return release.version


async def run(session: AsyncSession, ctx, app: App, user: User, data: dict[str, Any]) -> tuple[int, str]:
    """`deis run`: an ephemeral container of the current release running `/bin/bash -c <command>`."""
    command = data.get("command")
    if not command or not isinstance(command, str):
        raise BadRequest("command is a required field")
    release, config, build = await current_state(session, app)
    if build is None:
        raise BadRequest("No build associated with this release to run this command")
    deploy.require_scheduler(ctx)
    limit = ctx.settings.max_runs_per_app
    if not ctx.runs.take(app.id, limit):
        raise BadRequest(f"{app.id} already runs {limit} one-off commands, the most this platform allows at "
                         f"once: wait for one to finish")
    try:
        return await _run(session, ctx, app, user, command, release, config, build)
    finally:
        ctx.runs.give(app.id)


async def _run(session: AsyncSession, ctx, app: App, user: User, command: str, release: Release,
               config: Config, build: Build) -> tuple[int, str]:
    info = await pull_image(ctx, planning.image_of(build), config)
    port = None
    try:
        port = planning.release_port(config, info, False)
    except BadRequest:
        pass
    spec = ContainerSpec(
        app=app.id, proc_type=planning.RUN_TYPE, version=release.version, image=planning.image_of(build),
        env=planning.env_for(app, release, build, config, port), entrypoint=["/bin/bash", "-c"], command=[command],
        resources=planning.resources_for(config, "cmd"), stop_grace_seconds=0)
    await repo.record_event(session, app.id, f"{user.username} runs '{command}'")
    await session.commit()
    try:
        return await ctx.scheduler.run_once(spec, ctx.settings.run_timeout)
    except SchedulerError as exc:
        raise_unavailable(exc)
