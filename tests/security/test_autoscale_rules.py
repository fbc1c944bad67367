"""Hostile autoscale rules (issue 16, request-rate rules): every rule is matched whole — known keys only,
integers only, bounded, a request-rate metric only on the type receiving requests — and a refusal is a 400 in the
Deis shape that changes nothing."""

from __future__ import annotations

import pytest

from .conftest import assert_deis_error, assert_unharmed

pytestmark = pytest.mark.engine

HOSTILE = [
    {"web": {"min": 1, "max": 3, "rps_per_container": 10, "script": "x" * 1000}},  # unknown key
    {"web": {"min": 1, "max": 3, "rps_per_container": "10\n"}},
    {"web": {"min": 1, "max": 3, "rps_per_container": 10.5}},
    {"web": {"min": 1, "max": 3, "p95_ms": True}},
    {"web": {"min": 1, "max": 3, "p95_ms": None}},  # a metric that is null is no metric
    {"web": {"min": 1, "max": 3, "p95_ms": 10**30}},
    {"web": {"min": 1, "max": 3, "rps_per_container": -1}},
    {"web": {"min": 1, "max": 3, "p95_ms": {"$gt": 0}}},
    {"web": {"min": 1, "max": 10**6, "rps_per_container": 10}},  # beyond the per-app quota
    {"web": {"min": 1, "max": 3}},  # no metric at all
    {"worker": {"min": 1, "max": 3, "rps_per_container": 10}},  # a type that receives no requests
    {"web\n": {"min": 1, "max": 3, "p95_ms": 200}},
    {"cmd": {"min": 1, "max": 3, "p95_ms": 200}},  # web runs: cmd is not the routable type
    {"web": {"min": 1, "max": 2, "p95_ms": 200}, "worker": {"min": 1, "max": 2, "p95_ms": 200}},  # one bad: none
]


async def test_hostile_request_rules_are_refused_and_change_nothing(api, router_client, engine_settings, tenants):
    mallory, victim = tenants
    assert (await api.post("/v2/apps/", json={"id": "greedy"}, headers=mallory.auth)).status_code == 201
    r = await api.post("/v2/apps/greedy/builds/", headers=mallory.auth,
                       json={"image": "test/web:latest", "procfile": {"web": "httpd -f -p 8080 -h /www"}})
    assert r.status_code == 201, r.text
    before = (await api.get("/v2/apps/greedy/settings/", headers=mallory.auth)).json()
    for body in HOSTILE:
        r = await api.post("/v2/apps/greedy/settings/", json={"autoscale": body}, headers=mallory.auth)
        assert_deis_error(r, 400, "autoscale")
        assert r.json()["autoscale"][0].startswith("could not validate "), r.text
    assert (await api.get("/v2/apps/greedy/settings/", headers=mallory.auth)).json() == before
    # The same rule on another tenant's app: not theirs to set.
    r = await api.post(f"/v2/apps/{victim.app}/settings/", headers=mallory.auth,
                       json={"autoscale": {"web": {"min": 1, "max": 2, "rps_per_container": 1}}})
    assert r.status_code == 403, r.text
    await assert_unharmed(api, router_client, engine_settings, victim)
