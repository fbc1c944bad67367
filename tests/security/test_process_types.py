"""Issue 18 item 5: `run` is the type of one-off `deis run` containers (hidden from `ps`, never retired), so it
cannot be a procfile process type: the reconciler would start more of them on every pass."""

from __future__ import annotations

import pytest

from .conftest import assert_deis_error, assert_unharmed

pytestmark = pytest.mark.engine


async def test_run_is_reserved(api, platform, router_client, engine_settings, tenants):
    mallory, victim = tenants
    assert (await api.post("/v2/apps/", json={"id": "runner"}, headers=mallory.auth)).status_code == 201
    r = await api.post("/v2/apps/runner/builds/", headers=mallory.auth, json={
        "image": "test/web:latest", "procfile": {"web": "httpd -f -p 8080 -h /www", "run": "sleep 1000"}})
    body = assert_deis_error(r, 400, "procfile")
    assert "reserved" in body["procfile"][0]
    assert (await api.get("/v2/apps/runner/builds/", headers=mallory.auth)).json()["count"] == 0
    r = await api.post("/v2/apps/runner/builds/", headers=mallory.auth, json={
        "image": "test/web:latest", "procfile": {"web": "httpd -f -p 8080 -h /www"}})
    assert r.status_code == 201, r.text
    assert "reserved" in assert_deis_error(
        await api.post("/v2/apps/runner/scale/", json={"run": 3}, headers=mallory.auth), 400)["detail"]
    assert not [c for c in await platform.state.ctx.scheduler.list(app="runner") if c.proc_type == "run"]
    await assert_unharmed(api, router_client, engine_settings, victim)
