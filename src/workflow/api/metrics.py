"""`GET /metrics` (Prometheus text format) and the middleware counting API requests; the instruments
themselves are in `workflow/metrics.py`."""

from __future__ import annotations

import hmac
import time

from fastapi import APIRouter, Header, Request
from fastapi.responses import Response
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..deps import OptionalUser, require_admin
from ..errors import NotAuthenticated
from ..metrics import HTTP_LATENCY, HTTP_REQUESTS, ReconcilerCollector


def route_label(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path_format", None) or getattr(route, "path", None)
    if not path:
        return "<unmatched>"
    return path.rstrip("/") or "/"


KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def method_label(scope: Scope) -> str:
    """The request method, any other one folded into `other`: clients choose it, labels must stay few."""
    method = scope.get("method", "")
    return method if method in KNOWN_METHODS else "other"


class MetricsMiddleware:
    """Pure ASGI: counts each HTTP request by method, route template and status, with its latency."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        recorded = False

        def record(status: int) -> None:
            nonlocal recorded
            if recorded:
                return
            recorded = True
            route, method = route_label(scope), method_label(scope)
            HTTP_REQUESTS.labels(method=method, route=route, status=str(status)).inc()
            HTTP_LATENCY.labels(method=method, route=route).observe(time.perf_counter() - start)

        async def send_and_record(message: Message) -> None:
            if message["type"] == "http.response.start":
                record(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_and_record)
        except Exception:
            record(500)
            raise


router = APIRouter(include_in_schema=False)


def scraper_token_matches(authorization: str | None, expected: str) -> bool:
    scheme, _, token = (authorization or "").partition(" ")
    # compared as bytes: compare_digest refuses non-ASCII str (that was a 500)
    return bool(expected) and scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(),
                                                                                 expected.encode())


@router.get("/metrics")
async def metrics(request: Request, user: OptionalUser,
                  authorization: str | None = Header(default=None)) -> Response:
    """Prometheus text format: the process-wide metrics, then this app's reconciler."""
    if not scraper_token_matches(authorization, request.app.state.ctx.settings.metrics_token):
        if user is None:
            raise NotAuthenticated()
        require_admin(user)
    per_app = CollectorRegistry(auto_describe=False)
    per_app.register(ReconcilerCollector(getattr(request.app.state.ctx, "reconciler", None)))
    body = generate_latest(REGISTRY) + generate_latest(per_app)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
