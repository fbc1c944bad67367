"""Prometheus instruments; `api/metrics.py` serves them at `/metrics` (text exposition format).

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
import time
from collections import Counter as Tally
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

from prometheus_client import Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

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


def observe_containers(containers: Iterable[Any], app: str | None = None) -> None:
    """Replaces the container gauge with this listing (objects with `.app` and `.state`); with `app`, only
    that app's series, from a listing of its containers (a change that touched that app alone)."""
    counts = Tally((c.app, c.state) for c in containers)
    if app is None:
        CONTAINERS.clear()
    else:
        for metric in CONTAINERS.collect():
            for sample in metric.samples:
                if sample.labels.get("app") == app:
                    CONTAINERS.remove(app, sample.labels["state"])
    for (owner, state), n in counts.items():
        CONTAINERS.labels(app=owner or "", state=state or "").set(n)


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
