"""Prometheus metrics, served at `/metrics` (text exposition format).

- `workflow_http_requests_total{method,route,status}` and `workflow_http_request_duration_seconds{method,route}`:
  every API request, by route template (`/v2/apps/{id}`, both slash spellings counted as one), measured
  to the start of the response (a followed log stream is not a slow request).
- `workflow_deploy_duration_seconds{outcome}` and `workflow_scale_duration_seconds{outcome}`: roll-outs
  and scale operations, `ok` or `failed`.
- `workflow_containers{app,state}`: the platform's containers, as last seen by the route sync (which lists
  them on every change and on every reconciler pass).
- `workflow_autoscale_decisions_total{direction,outcome}`: the autoscaler's scale steps (`up`/`down`, `ok` or
  `failed`), and `workflow_autoscale_pass_duration_seconds`: its passes (measuring, without the scaling itself).
- `workflow_reconciler_passes_total`, `workflow_reconciler_corrections_total`,
  `workflow_reconciler_last_pass_seconds` (the latest full pass): read from the process's reconciler when scraped.

The metrics name every app, so reading them takes an administrator's `Authorization: token <key>` or, for
a scraper, `Authorization: Bearer <WORKFLOW_METRICS_TOKEN>`.
"""

from __future__ import annotations

import functools
import hmac
import time
from collections import Counter as Tally
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

from fastapi import APIRouter, Header, Request
from fastapi.responses import Response
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .deps import OptionalUser, require_admin
from .errors import NotAuthenticated

HTTP_REQUESTS = Counter("workflow_http_requests", "API requests", ["method", "route", "status"])
HTTP_LATENCY = Histogram("workflow_http_request_duration_seconds", "API request latency to the response start",
                         ["method", "route"])
OPERATION_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300)
DEPLOY_SECONDS = Histogram("workflow_deploy_duration_seconds", "Roll-out of a release (start, ready, switch, stop)",
                           ["outcome"], buckets=OPERATION_BUCKETS)
SCALE_SECONDS = Histogram("workflow_scale_duration_seconds", "Scale operations", ["outcome"],
                          buckets=OPERATION_BUCKETS)
CONTAINERS = Gauge("workflow_containers", "Platform containers by app and state", ["app", "state"])
AUTOSCALE_DECISIONS = Counter("workflow_autoscale_decisions", "Scale steps the autoscaler took (or tried)",
                              ["direction", "outcome"])
AUTOSCALE_PASS_SECONDS = Histogram("workflow_autoscale_pass_duration_seconds",
                                   "One autoscaler pass: rules read, containers listed and measured",
                                   buckets=(0.05, 0.1, 0.25, 0.5, 1, 1.5, 2, 3, 5, 10, 30))

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])


def timed(histogram: Histogram) -> Callable[[F], F]:
    """Observes an async function's duration under `outcome="ok"` or `"failed"` (it raised)."""

    def wrap(fn: F) -> F:
        @functools.wraps(fn)
        async def run(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            outcome = "failed"
            try:
                result = await fn(*args, **kwargs)
                outcome = "ok"
                return result
            finally:
                histogram.labels(outcome=outcome).observe(time.perf_counter() - start)

        return run  # type: ignore[return-value]

    return wrap


def observe_containers(containers: Iterable[Any]) -> None:
    """Replaces the container gauge with this listing (objects with `.app` and `.state`)."""
    counts = Tally((c.app, c.state) for c in containers)
    CONTAINERS.clear()
    for (app, state), n in counts.items():
        CONTAINERS.labels(app=app or "", state=state or "").set(n)


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


class ReconcilerCollector:
    """The reconciler's own counters, read at scrape time."""

    def __init__(self, reconciler: Any):
        self.reconciler = reconciler

    def collect(self):
        passes = CounterMetricFamily("workflow_reconciler_passes", "Reconciler passes (desired vs actual)")
        corrections = CounterMetricFamily("workflow_reconciler_corrections",
                                          "Containers started or removed by the reconciler")
        last = GaugeMetricFamily("workflow_reconciler_last_pass_seconds",
                                 "Duration of the latest full reconciler pass (all apps)")
        passes.add_metric([], getattr(self.reconciler, "passes", 0))
        corrections.add_metric([], getattr(self.reconciler, "corrections", 0))
        last.add_metric([], getattr(self.reconciler, "last_pass_seconds", 0.0))
        yield passes
        yield corrections
        yield last


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
