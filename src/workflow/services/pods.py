"""Pods (containers) of an app: list, scale, restart (spec §3.8, §4.5, §4.10)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from .. import repositories as repo
from ..domain import autoscale, naming
from ..domain import plan as planning
from ..domain.plan import RUN_TYPE, Plan
from ..domain.procfile import ProcfileError, parse_scale
from ..errors import BadRequest, NotFoundDetail, WorkflowError
from ..metrics import SCALE_SECONDS, timed
from ..models import App, User, utcnow
from ..scheduler.base import Container, EngineUnavailable, SchedulerError
from ..schemas import PodOut
from . import deploy, deploy_events, rollout
from .deploy_events import QUIET, DeployEvents
from .releases import current_state, pull_image, raise_unavailable, registry_auth
from .serial import app_work

HIDDEN_STATES = ("down", "crashed")


def pod_out(ctx, container: Container) -> PodOut:
    state = container.state
    if state == "up" and ctx.routes is not None and not ctx.route_state.is_ready(container.id):
        state = "starting"
    return PodOut(name=container.name, state=state, type=container.proc_type, release=f"v{container.version}",
                  started=container.started or utcnow(), node=container.node)


async def serving_version(session: AsyncSession, ctx, app: App) -> int:
    version = ctx.route_state.serving(app.id) if ctx.routes is not None else None
    if version is not None:
        return version
    release, _, _ = await current_state(session, app)
    return release.version


async def list_pods(session: AsyncSession, ctx, app: App, proc_type: str | None = None,
                    name: str | None = None) -> list[PodOut]:
    """The current release's containers, newest first; no `run` containers, no dead ones."""
    if ctx.scheduler is None:
        return []
    version = await serving_version(session, ctx, app)
    try:
        containers = await ctx.scheduler.list(app=app.id, proc_type=proc_type)
    except SchedulerError as exc:
        raise_unavailable(exc)
    pods = [c for c in containers if c.version == version and c.proc_type != RUN_TYPE
            and c.state not in HIDDEN_STATES and (name is None or c.name == name)]
    pods.sort(key=lambda c: c.started or utcnow(), reverse=True)
    return [pod_out(ctx, c) for c in pods]


@timed(SCALE_SECONDS)
async def scale(session: AsyncSession, ctx, app: App, user: User | None, body: dict, *, event: str | None = None,
                if_current: dict[str, int] | None = None) -> bool:
    """`deis scale`; the autoscaler's decisions too: `event` is their log line, `if_current` the counts they
    were made from (a user's scale in between wins: nothing is done). True when the structure changed."""
    try:
        wanted = parse_scale(body)
    except ProcfileError as exc:
        raise BadRequest(f"Invalid scaling format: {exc}") from exc
    deploy.require_scheduler(ctx)
    async with app_work(session, ctx, app):
        release, config, build = await current_state(session, app)
        if build is None:
            raise BadRequest("No build associated with this release")
        for proc_type in wanted:
            if proc_type != "cmd" and proc_type not in (build.procfile or {}):
                raise NotFoundDetail(f"Container type {proc_type} does not exist in application")
        app_settings = await repo.latest_settings(session, app.id)  # autoscale rules and routable: one read
        rules = (app_settings.autoscale if app_settings else None) or {}
        if problem := autoscale.outside_rules(rules, wanted):
            raise BadRequest(problem)
        if if_current is not None and any((app.structure or {}).get(t, 0) != n for t, n in if_current.items()):
            return False
        structure = {**(app.structure or {}), **wanted}
        if structure == app.structure:
            return False
        check_container_quota(ctx.settings, app.structure or {}, structure)
        info = await pull_image(ctx, planning.image_of(build), config)
        routable = app_settings.routable if app_settings else True
        the_plan = planning.plan(app, release, build, config, info, structure, routable, ctx.settings,
                                 registry_auth(ctx, config))
        counts = " ".join(f"{t}={n}" for t, n in sorted(wanted.items()))
        async with deploy_events.recording(ctx, session, app.id, release.version, new_release=False) as events:
            events.planned(wanted)
            try:
                await converge(ctx, app.id, the_plan, events)
            except WorkflowError as exc:
                await _record_failure(session, events, exc)
                raise
            app.structure = structure
            app.updated = utcnow()
            await repo.record_event(session, app.id, event or f"{user.username} scaled pods {counts}")
            events.deployed(f"scaled to {counts}")
            await events.flush(session)
            await session.commit()
        return True


async def _record_failure(session: AsyncSession, events: DeployEvents, exc: WorkflowError) -> None:
    """A failed scale or restart changes nothing else, but its events are kept with the release."""
    events.failed(str(exc.body.get("detail", exc)) if isinstance(exc.body, dict) else str(exc))
    await events.flush(session)
    await session.commit()


def check_container_quota(settings, current: dict[str, int], structure: dict[str, int]) -> None:
    """An app runs at most WORKFLOW_MAX_CONTAINERS_PER_APP containers (all types); an app already above a
    lowered limit may still scale down."""
    total, limit = sum(structure.values()), settings.max_containers_per_app
    if total > limit and total > sum(current.values()):
        raise BadRequest(f"Scaling to {total} containers is refused: this platform runs at most {limit} "
                         f"containers per app")


async def _routable(session: AsyncSession, app: App) -> bool:
    app_settings = await repo.latest_settings(session, app.id)
    return app_settings.routable if app_settings else True


async def converge(ctx, app_id: str, the_plan: Plan, events: DeployEvents = QUIET) -> None:
    """Make the running containers of the plan's version match its structure: start what is missing
    (and wait until ready), then take surplus containers out of the router and stop them."""
    try:
        running = [c for c in await ctx.scheduler.list(app=app_id, version=the_plan.version)
                   if c.proc_type != RUN_TYPE and c.state not in HIDDEN_STATES]
        await rollout.converge(ctx, rollout.Target(app_id, the_plan, desired=the_plan.structure, running=running),
                               events)
    except (rollout.DeployError, EngineUnavailable) as exc:
        raise rollout.user_error(exc) from exc


async def restart(session: AsyncSession, ctx, app: App, proc_type: str | None, name: str | None) -> list[PodOut]:
    """Replace containers by new ones (new names), ready before the old ones leave the router."""
    deploy.require_scheduler(ctx)
    async with app_work(session, ctx, app):
        release, config, build = await current_state(session, app)
        version = await serving_version(session, ctx, app)
        full_name = naming.full_pod_name(app.id, name) if name else None
        old = [c for c in await ctx.scheduler.list(app=app.id, proc_type=proc_type, version=version)
               if c.proc_type != RUN_TYPE and (full_name is None or c.name == full_name)]
        if not old or build is None:
            return []
        info = await pull_image(ctx, planning.image_of(build), config)
        structure = {}
        for container in old:
            structure[container.proc_type] = structure.get(container.proc_type, 0) + 1
        app_settings = await _routable(session, app)
        the_plan = planning.plan(app, release, build, config, info, structure, app_settings, ctx.settings,
                                 registry_auth(ctx, config))
        async with deploy_events.recording(ctx, session, app.id, release.version, new_release=False) as events:
            events.planned(structure)
            try:
                outcome = await rollout.converge(
                    ctx, rollout.Target(app.id, the_plan, desired=structure, replaced=old), events)
            except rollout.DeployError as exc:
                failure = rollout.user_error(exc)
                await _record_failure(session, events, failure)
                raise failure from exc
            await repo.record_event(session, app.id, f"restarted {len(old)} pod(s)")
            events.deployed(f"restarted {len(old)} pod(s)")
            await events.flush(session)
            await session.commit()
        fresh = {c.id for c in outcome.started}
        return [pod_out(ctx, c) for c in await ctx.scheduler.list(app=app.id) if c.id in fresh]
