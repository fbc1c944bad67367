"""Issue 18 item 7: timeouts a tenant sets are finite and bounded, malformed probes are refused, and one app's
slow probes or slow replacements never delay another app's (each app is checked and converged in its own task)."""

from __future__ import annotations

import asyncio
import time

import pytest

from .conftest import assert_deis_error, assert_unharmed, deployed_app

pytestmark = pytest.mark.engine


def http_probe(path: str, **extra) -> dict:
    return {"httpGet": {"path": path, "port": 8080}, "periodSeconds": 1, **extra}


async def test_unbounded_timeouts_and_malformed_probes_are_refused(api, router_client, engine_settings, tenants):
    mallory, victim = tenants
    app = await deployed_app(api, mallory.auth)
    bad = [
        {"values": {"DEIS_DEPLOY_TIMEOUT": "inf"}},  # was a 500 at the next deploy
        {"values": {"DEIS_DEPLOY_TIMEOUT": "1e9"}},
        {"values": {"DEIS_DEPLOY_TIMEOUT": "100000"}},
        {"values": {"DEIS_DEPLOY_BATCHES": "0"}},
        {"values": {"KUBERNETES_POD_TERMINATION_GRACE_PERIOD_SECONDS": "99999999"}},
        {"values": {"HEALTHCHECK_URL": "/", "HEALTHCHECK_TIMEOUT": "86400"}},
        {"healthcheck": {"web/cmd": {"livenessProbe": http_probe("/", timeoutSeconds=86400)}}},
        {"healthcheck": {"web/cmd": {"readinessProbe": http_probe("/", initialDelaySeconds=10**9)}}},
        {"healthcheck": {"web/cmd": {"livenessProbe": {"httpGet": {"path": 5, "port": 8080}}}}},  # aborted every pass
        {"healthcheck": {"web/cmd": {"livenessProbe": {"httpGet": {"path": "/ x", "port": 8080}}}}},
        {"healthcheck": {"web/cmd": {"livenessProbe": {"httpGet": {"path": "/", "port": 8080, "host": ["a"]}}}}},
        {"healthcheck": {"web/cmd": {"livenessProbe": {"httpGet": {
            "path": "/", "port": 8080, "httpHeaders": [{"name": "X", "value": "a\r\nInjected: 1"}]}}}}},
        {"healthcheck": {"web/cmd": {"livenessProbe": {"httpGet": {
            "path": "/", "port": 8080, "httpHeaders": [{"name": 1, "value": 2}]}}}}},
    ]
    before = (await api.get(f"/v2/apps/{app}/releases/", headers=mallory.auth)).json()["count"]
    for body in bad:
        r = await api.post(f"/v2/apps/{app}/config/", json=body, headers=mallory.auth)
        assert_deis_error(r, 400, next(iter(body)))
    assert (await api.get(f"/v2/apps/{app}/releases/", headers=mallory.auth)).json()["count"] == before
    await assert_unharmed(api, router_client, engine_settings, victim)


async def pod_names(api, tenant) -> set[str]:
    r = await api.get(f"/v2/apps/{tenant.app}/pods/", headers=tenant.auth)
    assert r.status_code == 200, r.text
    return {p["name"] for p in r.json()["results"] if p["state"] == "up"}


async def wait_replaced(api, tenant, before: set[str], within: float) -> float:
    """Seconds until none of `before` is among the running pods any more and one runs."""
    started = time.monotonic()
    while True:
        names = await pod_names(api, tenant)
        if names and not names & before:
            return time.monotonic() - started
        assert time.monotonic() - started < within, f"not replaced within {within} s: {names}"
        await asyncio.sleep(0.25)


async def test_slow_probes_of_one_app_do_not_delay_another_apps(api, platform, router_client, engine_settings,
                                                                tenants):
    mallory, victim = tenants
    mallory.app = await deployed_app(api, mallory.auth)
    # Every liveness probe of mallory's app hangs for 55 s (a CGI that sleeps; timeout 60 s): a monitor probing
    # the apps one after another would not look at any other app for that long.
    r = await api.post(f"/v2/apps/{mallory.app}/config/", headers=mallory.auth, json={"healthcheck": {
        "web/cmd": {"livenessProbe": http_probe("/cgi-bin/sleep?55", timeoutSeconds=60, failureThreshold=100)}}})
    assert r.status_code == 201, r.text
    await asyncio.sleep(2.5)  # mallory's first probes are running
    r = await api.post(f"/v2/apps/{victim.app}/config/", headers=victim.auth, json={"healthcheck": {
        "web/cmd": {"livenessProbe": http_probe("/index.html", failureThreshold=1)}}})
    assert r.status_code == 201, r.text
    before = await pod_names(api, victim)
    [container] = [c for c in await platform.state.ctx.scheduler.list(app=victim.app) if c.state == "up"]
    proc = await asyncio.create_subprocess_exec("docker", "exec", container.id, "rm", "/www/index.html")
    await proc.wait()
    assert await wait_replaced(api, victim, before, within=20) < 20
    r = await api.post(f"/v2/apps/{victim.app}/config/", headers=victim.auth,
                       json={"healthcheck": {"web/cmd": {"livenessProbe": None}}})
    assert r.status_code == 201, r.text
    await assert_unharmed(api, router_client, engine_settings, victim)


async def test_slow_replacement_of_one_app_does_not_delay_another_apps(api, platform, router_client,
                                                                       engine_settings, tenants):
    mallory, victim = tenants
    mallory.app = await deployed_app(api, mallory.auth)
    # Mallory's readiness probe passes for 20 s more, then never: a replacement started after that waits for
    # its whole deploy timeout (300 s).
    deadline = int(time.time()) + 20
    r = await api.post(f"/v2/apps/{mallory.app}/config/", headers=mallory.auth, json={
        "values": {"DEIS_DEPLOY_TIMEOUT": "300"},
        "healthcheck": {"web/cmd": {"readinessProbe": {
            "exec": {"command": ["sh", "-c", f"test $(date +%s) -lt {deadline}"]}, "periodSeconds": 1}}}})
    assert r.status_code == 201, r.text
    await asyncio.sleep(max(0.0, deadline - time.time()) + 1)
    scheduler = platform.state.ctx.scheduler
    kill = []
    for app in (mallory.app, victim.app):  # mallory's first: a reconciler converging apps in turn waits for it
        kill += [c.id for c in await scheduler.list(app=app) if c.state == "up"]
    victim_before = await pod_names(api, victim)
    proc = await asyncio.create_subprocess_exec("docker", "kill", kill[0], stdout=asyncio.subprocess.DEVNULL)
    await proc.wait()
    await asyncio.sleep(1.5)  # mallory's replacement is under way
    proc = await asyncio.create_subprocess_exec("docker", "kill", *kill[1:], stdout=asyncio.subprocess.DEVNULL)
    await proc.wait()
    assert await wait_replaced(api, victim, victim_before, within=25) < 25
    await assert_unharmed(api, router_client, engine_settings, victim)
