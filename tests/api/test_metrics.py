"""`/metrics` (Prometheus text format): API requests by route template and status with latency, deploy and
scale durations, containers per app and state, the reconciler's counters."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import register
from workflow import metrics
from workflow.services import deploy, pods


def samples(text: str) -> dict[tuple[str, frozenset], float]:
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


@pytest.fixture
async def admin(client) -> dict[str, str]:
    _user, auth = await register(client, "admin")  # the first user is the administrator
    return auth


async def scrape(client, auth: dict[str, str]) -> dict[tuple[str, frozenset], float]:
    r = await client.get("/metrics", headers=auth)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain; version=")
    return samples(r.text)


def value(found, name: str, **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


async def test_api_requests_counted_by_route_template_and_status(client, admin):
    auth = admin
    before = await scrape(client, auth)
    for _ in range(3):
        assert (await client.get("/v2/apps/nope/", headers=auth)).status_code == 404
    assert (await client.get("/v2/apps/nope", headers=auth)).status_code == 404  # the other spelling
    assert (await client.get("/v2/apps/", headers=auth)).status_code == 200
    after = await scrape(client, auth)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("workflow_http_requests_total", method="GET", route="/v2/apps/{id}", status="404") == 4
    assert delta("workflow_http_requests_total", method="GET", route="/v2/apps", status="200") == 1
    assert delta("workflow_http_request_duration_seconds_count", method="GET", route="/v2/apps/{id}") == 4
    assert delta("workflow_http_request_duration_seconds_sum", method="GET", route="/v2/apps/{id}") > 0


async def test_unknown_paths_share_one_label(client, admin):
    before = await scrape(client, admin)
    await client.get("/no/such/path/1")
    await client.get("/no/such/path/2")
    after = await scrape(client, admin)
    key = ("workflow_http_requests_total", frozenset({"method": "GET", "route": "<unmatched>",
                                                      "status": "404"}.items()))
    assert after[key] - before.get(key, 0) == 2


async def test_reconciler_counters_exposed(client, app, admin):
    found = await scrape(client, admin)
    assert value(found, "workflow_reconciler_passes_total") == 0  # API-only settings: no reconciler
    app.state.ctx.reconciler = SimpleNamespace(passes=7, corrections=2)
    found = await scrape(client, admin)
    assert value(found, "workflow_reconciler_passes_total") == 7
    assert value(found, "workflow_reconciler_corrections_total") == 2


async def test_metrics_need_an_admin_or_the_scraper_token(client, app, admin):
    r = await client.get("/metrics")
    assert r.status_code == 401 and r.json() == {"detail": "Authentication credentials were not provided."}
    _user, someone = await register(client, "someone")
    r = await client.get("/metrics", headers=someone)
    assert r.status_code == 403 and "detail" in r.json()
    assert (await client.get("/metrics", headers={"Authorization": "Bearer guess"})).status_code == 401
    app.state.ctx.settings.metrics_token = "scrape-secret"
    assert (await client.get("/metrics", headers={"Authorization": "Bearer guess"})).status_code == 401
    r = await client.get("/metrics", headers={"Authorization": "Bearer scrape-secret"})
    assert r.status_code == 200 and "workflow_http_requests_total" in r.text


async def test_metrics_not_in_the_api_schema(app):
    assert "/metrics" not in app.openapi()["paths"]


async def test_timed_observes_outcome():
    histogram = Histogram("t_seconds", "test", ["outcome"], registry=CollectorRegistry())

    @metrics.timed(histogram)
    async def works():
        return 42

    @metrics.timed(histogram)
    async def fails():
        raise ValueError("no")

    assert await works() == 42
    with pytest.raises(ValueError):
        await fails()
    assert histogram.labels(outcome="ok")._sum.get() >= 0
    counts = {s.labels["outcome"]: s.value for family in histogram.collect() for s in family.samples
              if s.name == "t_seconds_count"}
    assert counts == {"ok": 1, "failed": 1}


def test_deploy_and_scale_are_timed():
    assert deploy.roll_out.__wrapped__ and pods.scale.__wrapped__


async def test_containers_gauge_replaced_by_each_listing(client, admin):
    c = SimpleNamespace
    metrics.observe_containers([c(app="a", state="up"), c(app="a", state="up"), c(app="b", state="crashed")])
    found = await scrape(client, admin)
    assert value(found, "workflow_containers", app="a", state="up") == 2
    assert value(found, "workflow_containers", app="b", state="crashed") == 1
    metrics.observe_containers([c(app="a", state="up")])
    found = await scrape(client, admin)
    assert value(found, "workflow_containers", app="a", state="up") == 1
    assert ("workflow_containers", frozenset({"app": "b", "state": "crashed"}.items())) not in found
