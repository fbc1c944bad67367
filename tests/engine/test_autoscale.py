"""Autoscaling that acts: a CPU-burning process type scales up between min and max and back down after the
load stops and the stabilisation window passes, every step served through the router.

The load is test/burn (busybox httpd plus, with `BURN=1` in the config, one spinning shell) under a 100m CPU
limit, so usage of the limit is ~100 % while the machine only spends 0.1 core per container; `BURN=0` stops it.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from .conftest import app_name, host_of
from .test_zero_downtime import Load

pytestmark = pytest.mark.engine

INTERVAL = 2.0
WINDOW = 20.0
RULE = {"min": 1, "max": 3, "cpu_percent": 20}


@pytest.fixture
def engine_settings(engine_settings):
    return engine_settings.model_copy(update={"autoscale_interval": INTERVAL,
                                              "autoscale_downscale_window": WINDOW})


async def count_of(api, auth, name: str) -> int:
    r = await api.get(f"/v2/apps/{name}/", headers=auth)
    assert r.status_code == 200, r.text
    return r.json()["structure"].get("cmd", 0)


async def wait_count(api, auth, name: str, count: int, within: float, history: list[int]) -> float:
    """Seconds until the app's cmd count is `count`; every count seen is appended to `history`."""
    start = time.monotonic()
    while time.monotonic() - start < within:
        seen = await count_of(api, auth, name)
        if not history or history[-1] != seen:
            history.append(seen)
        if seen == count:
            return time.monotonic() - start
        await asyncio.sleep(0.2)
    raise AssertionError(f"cmd never reached {count} within {within} s: counts seen {history}")


async def test_cpu_rule_scales_up_to_max_and_down_after_the_window(api, owner, engine_settings, platform):
    name = app_name()
    assert (await api.post("/v2/apps/", json={"id": name}, headers=owner)).status_code == 201
    r = await api.post(f"/v2/apps/{name}/config/", json={"values": {"BURN": "1"}, "cpu": {"cmd": "100m"}},
                       headers=owner)
    assert r.status_code == 201, r.text
    r = await api.post(f"/v2/apps/{name}/builds/", json={"image": "test/burn:latest"}, headers=owner)
    assert r.status_code == 201, r.text
    assert await count_of(api, owner, name) == 1

    seen: list[int] = []
    url = f"http://127.0.0.1:{engine_settings.port}"
    # A light load (≤ 7 requests/s): an idle container must read below 6.7 % of its 100m limit for 3 → 1, and
    # busybox forks a process per request: ~20 requests/s over 3 containers read 5-8 % on a slow machine
    # (seen: 3 → 2 → 1 in a CI run).
    async with Load(url, host_of(name, engine_settings), workers=1, min_total=200, pause=0.15) as load:
        r = await api.post(f"/v2/apps/{name}/settings/", json={"autoscale": {"cmd": RULE}}, headers=owner)
        assert r.status_code == 201, r.text
        # The first pass comes one interval after start-up at the latest and decides 1 → 2 (5 wanted, ×2 per
        # step); the scale itself waits for the new container to be ready (up to a few seconds here).
        up = await wait_count(api, owner, name, 2, within=2 * INTERVAL + 10, history=seen)
        await wait_count(api, owner, name, 3, within=2 * INTERVAL + 10, history=seen)
        # Still burning: ceil(3 × 100 / 20) = 15 is wanted, max is 3.
        await asyncio.sleep(3 * INTERVAL)
        assert await count_of(api, owner, name) == 3
        r = await api.get(f"/v2/apps/{name}/pods/cmd/", headers=owner)
        assert r.json()["count"] == 3

        # The load stops: a new release without BURN (the same three containers' worth, replaced).
        stopped = time.monotonic()
        r = await api.post(f"/v2/apps/{name}/config/", json={"values": {"BURN": "0"}}, headers=owner)
        assert r.status_code == 201, r.text
        assert await count_of(api, owner, name) == 3
        try:
            down = await wait_count(api, owner, name, 1, within=WINDOW + 4 * INTERVAL + 15, history=seen)
        except AssertionError:
            print(platform.state.ctx.autoscaler.observations)
            raise
        down_after = time.monotonic() - stopped
    assert load.total >= 200
    assert set(load.statuses) == {200}, load.statuses  # every step served
    assert seen == [1, 2, 3, 1], seen  # up one doubling at a time, never beyond max, down once
    assert up <= 2 * INTERVAL + 10
    # The last high recommendation was made at most one pass before the load stopped: the scale-down
    # waited for the window to pass after it.
    assert down_after >= WINDOW - INTERVAL - 1.5, (down, down_after)

    r = await api.get(f"/v2/apps/{name}/logs", headers=owner)
    logs = r.text
    assert "autoscaled cmd 1 → 2: CPU" in logs and "of target 20 %" in logs, logs
    assert "autoscaled cmd 2 → 3: CPU" in logs, logs
    assert "autoscaled cmd 3 → 1: CPU" in logs, logs
    status = (await api.get(f"/v2/apps/{name}/autoscale/", headers=owner)).json()["cmd"]
    assert (status["min"], status["max"], status["cpu_percent"], status["current"]) == (1, 3, 20, 1)
    assert status["last_decision"].startswith("autoscaled cmd 3 → 1: CPU") and status["last_decision_at"]
    assert status["cpu_usage_percent"] is not None and status["measured"]
    metrics = (await api.get("/metrics", headers=owner)).text
    assert 'workflow_autoscale_decisions_total{direction="up",outcome="ok"}' in metrics
    assert 'workflow_autoscale_decisions_total{direction="down",outcome="ok"}' in metrics


async def test_manual_scale_with_a_rule_and_removing_the_rule(api, owner, engine_settings):
    name = app_name()
    assert (await api.post("/v2/apps/", json={"id": name}, headers=owner)).status_code == 201
    r = await api.post(f"/v2/apps/{name}/builds/", json={"image": "test/burn:latest"}, headers=owner)
    assert r.status_code == 201, r.text
    r = await api.post(f"/v2/apps/{name}/settings/", json={"autoscale": {"cmd": {**RULE, "min": 2}}},
                       headers=owner)
    assert r.status_code == 201, r.text
    # A count set before the rule is brought into it by the next pass (1 < min 2).
    await wait_count(api, owner, name, 2, within=2 * INTERVAL + 10, history=[])

    r = await api.post(f"/v2/apps/{name}/scale/", json={"cmd": 4}, headers=owner)
    assert r.status_code == 400, r.text
    assert r.json()["detail"].startswith("cmd=4 is outside the autoscale rule of cmd (min 2, max 3)")
    assert await count_of(api, owner, name) == 2
    r = await api.post(f"/v2/apps/{name}/scale/", json={"cmd": 3}, headers=owner)
    assert r.status_code == 204, r.text
    # Idle, but a count set by hand stands for the window before anything scales it down.
    await asyncio.sleep(2 * INTERVAL + 1)
    assert await count_of(api, owner, name) == 3

    r = await api.post(f"/v2/apps/{name}/settings/", json={"autoscale": {"cmd": None}}, headers=owner)
    assert r.status_code == 201, r.text
    r = await api.post(f"/v2/apps/{name}/scale/", json={"cmd": 5}, headers=owner)
    assert r.status_code == 204, r.text  # no rule, no bounds but the quota's
    await asyncio.sleep(2 * INTERVAL + 1)
    assert await count_of(api, owner, name) == 5  # removing the rule left the count to the user


async def test_a_step_the_quota_refuses_is_logged_once(api, owner, engine_settings, platform):
    platform.state.ctx.settings.max_containers_per_app = 3
    name = app_name()
    assert (await api.post("/v2/apps/", json={"id": name}, headers=owner)).status_code == 201
    r = await api.post(f"/v2/apps/{name}/config/", json={"values": {"BURN": "1"}, "cpu": {"cmd": "100m"}},
                       headers=owner)
    assert r.status_code == 201, r.text
    r = await api.post(f"/v2/apps/{name}/builds/", json={"image": "test/burn:latest",
                                                         "procfile": {"worker": "httpd -f -p 8080 -h /www"}},
                       headers=owner)
    assert r.status_code == 201, r.text
    assert (await api.post(f"/v2/apps/{name}/scale/", json={"worker": 2}, headers=owner)).status_code == 204
    r = await api.post(f"/v2/apps/{name}/settings/", json={"autoscale": {"cmd": RULE}}, headers=owner)
    assert r.status_code == 201, r.text
    await asyncio.sleep(4 * INTERVAL + 2)  # several passes, each wanting cmd 1 → 2 (4 containers, quota 3)
    assert await count_of(api, owner, name) == 1
    logs = (await api.get(f"/v2/apps/{name}/logs", headers=owner)).text
    assert logs.count("autoscaling cmd 1 → 2 failed: Scaling to 4 containers is refused") == 1, logs
    status = (await api.get(f"/v2/apps/{name}/autoscale/", headers=owner)).json()["cmd"]
    assert status["last_decision"].startswith("autoscaling cmd 1 → 2 failed"), status
    metrics = (await api.get("/metrics", headers=owner)).text
    assert 'workflow_autoscale_decisions_total{direction="up",outcome="failed"}' in metrics
