"""Rolling out a release (DESIGN.md "Deploy, step by step"): its new containers through the converge path.

start the new containers → wait until the routable ones accept connections at their network address →
switch the router → stop the previous containers with their grace period. On failure the new containers
are removed and nothing that served before stops serving.
"""

from __future__ import annotations

from ..domain.plan import Plan
from ..errors import ServiceUnavailable
from ..metrics import DEPLOY_SECONDS, timed
from . import rollout
from .deploy_events import QUIET, DeployEvents


@timed(DEPLOY_SECONDS)
async def roll_out(ctx, app_id: str, deploy_plan: Plan, events: DeployEvents = QUIET) -> None:
    """Bring up the release's containers, switch the router to them, then stop every older container."""
    events.planned(deploy_plan.structure)
    desired = {t: n for t, n in deploy_plan.structure.items() if n > 0 and t in deploy_plan.specs}
    await rollout.converge(ctx, rollout.Target(app_id, deploy_plan, desired=desired, switch=True), events)


def require_scheduler(ctx) -> None:
    if ctx.scheduler is None:
        raise ServiceUnavailable("No container engine is configured for this controller")
