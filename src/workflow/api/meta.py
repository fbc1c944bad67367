"""Discovery and health (spec §3.1)."""

from __future__ import annotations

from fastapi.responses import PlainTextResponse
from sqlalchemy import text

from ..deps import CtxDep, OptionalUser
from ..errors import NotAuthenticated
from .wire import DeisRouter, plain

router = DeisRouter(tags=["meta"])
health = DeisRouter(tags=["meta"])  # /healthz and /healthz/ alike, like every route


@health.api_route("/healthz", methods=["GET", "HEAD"], response_class=PlainTextResponse,
                  operation_id="healthz")
async def healthz():
    """Liveness of the controller: always `OK`."""
    return plain("OK")


@health.api_route("/readiness", methods=["GET", "HEAD"], response_class=PlainTextResponse,
                  operation_id="readiness", responses={503: {"description": "database unusable"}})
async def readiness(ctx: CtxDep):
    """Ready when the database answers."""
    try:
        async with ctx.sessions() as session:
            await session.execute(text("SELECT 1"))
    except Exception:  # any driver error means "not ready"
        return plain("Service Unavailable", 503)
    return plain("OK")


@router.get("/v2/", response_model=dict, operation_id="api_root",
            responses={401: {"description": "anonymous (the Deis CLI expects this)"}})
async def api_root(user: OptionalUser):
    """Controller discovery: 401 when anonymous, `{}` when authenticated."""
    if user is None:
        raise NotAuthenticated()
    return {}
