"""Item 9: failed logins are throttled per username and per client address (429 with Retry-After, before
any password work); unknown users cost the same argon2 work as a wrong password; hashing runs on its own
bounded pool, so a login flood does not take the threads (and cores) deploys use."""

from __future__ import annotations

import asyncio
import statistics
import time

import pytest
from argon2 import PasswordHasher

from workflow import security

from .conftest import api_host, assert_tenant_unharmed

pytestmark = pytest.mark.engine

BAD = {"non_field_errors": ["Unable to log in with provided credentials."]}


async def login(client, username: str, password: str, **headers: str):
    return await client.post("/v2/auth/login/", json={"username": username, "password": password},
                             headers=headers)


async def test_failed_logins_are_throttled_per_username(api, served, router_client, owner, victim,
                                                        engine_settings):
    host = api_host(engine_settings)
    for _ in range(10):
        r = await login(router_client, "owner", "guess", **host)
        assert (r.status_code, r.json()) == (400, BAD)
    # Throttled, even with the right password, and whatever address the client claims to come from.
    for spoof in ({}, {"X-Forwarded-For": "203.0.113.9", "X-Real-IP": "203.0.113.9"}):
        r = await login(router_client, "owner", "secret", **host, **spoof)
        assert r.status_code == 429
        wait = int(r.headers["Retry-After"])
        assert 0 < wait <= 300
        assert r.json() == {"detail": f"Request was throttled. Expected available in {wait} seconds."}
    r = await login(router_client, "OWNER", "secret", **host)  # no way around it by case
    assert r.status_code == 429
    # The user's token still works, and another user signs in from the same address.
    assert (await router_client.get("/v2/auth/whoami/", headers={**owner, **host})).status_code == 200
    r = await login(router_client, "mallory", "secret", **host)
    assert r.status_code == 400  # no such user: an ordinary failure, not throttled
    await assert_tenant_unharmed(api, router_client, engine_settings, victim)


async def test_failed_logins_are_throttled_per_client_address(api, platform, served, router_client, victim,
                                                              engine_settings):
    platform.state.ctx.settings.login_failures_per_address = 5
    host = api_host(engine_settings)
    for attempt in range(5):  # a different username every time
        r = await login(router_client, f"user{attempt}", "guess", **host, **{"X-Real-IP": f"198.51.100.{attempt}"})
        assert r.status_code == 400
    r = await login(router_client, "owner", "secret", **host)
    assert r.status_code == 429 and "Retry-After" in r.headers
    await assert_tenant_unharmed(api, router_client, engine_settings, victim)


async def test_unknown_users_cost_the_same_argon2_work(api, owner, monkeypatch, victim, router_client,
                                                       engine_settings):
    monkeypatch.setattr(security, "_hasher", PasswordHasher())  # the real cost, not the tests' cheap one
    r = await api.post("/v2/auth/passwd/", json={"password": "secret", "new_password": "secret2"}, headers=owner)
    assert r.status_code == 200, r.text

    async def timed(username: str) -> float:
        started = time.perf_counter()
        r = await login(api, username, "wrong")
        assert (r.status_code, r.json()) == (400, BAD)
        return time.perf_counter() - started

    await timed("nobody")  # the dummy hash is made once
    known = statistics.median([await timed("owner") for _ in range(3)])
    unknown = statistics.median([await timed(f"nobody{i}") for i in range(3)])
    assert known > 0.01  # argon2 at its real cost
    assert unknown > known / 2, (known, unknown)
    assert (await login(api, "owner", "secret2")).status_code == 200
    await assert_tenant_unharmed(api, router_client, engine_settings, victim)


async def test_a_login_flood_does_not_take_the_default_threads(api, monkeypatch, victim, router_client,
                                                               engine_settings):
    monkeypatch.setattr(security, "_hasher", PasswordHasher())
    flood = [asyncio.create_task(login(api, f"flood{i}", "wrong")) for i in range(16)]
    await asyncio.sleep(0.05)
    # What deploys use meanwhile (asyncio.to_thread: the default executor) answers at once.
    started = time.perf_counter()
    await asyncio.to_thread(lambda: None)
    assert time.perf_counter() - started < 0.3  # before: queued behind the argon2 work (6 threads here)
    answers = await asyncio.gather(*flood)
    assert {r.status_code for r in answers} == {400}
    await assert_tenant_unharmed(api, router_client, engine_settings, victim)


def test_behind_router_instances_x_real_ip_counts_only_with_their_proof():
    """On a swarm the controller's API port is on the apps' network: a task calling it directly must not pick
    the address its failed logins are counted under."""
    from types import SimpleNamespace

    from starlette.requests import Request

    from workflow.deps import client_address
    from workflow.router.control import api_proof

    proof = api_proof("0123456789abcdef-the-routers-token")
    ctx = SimpleNamespace(settings=SimpleNamespace(router_enabled=True), router_proof=proof)

    def asking(headers: dict[str, str]) -> str:
        scope = {"type": "http", "client": ("10.0.9.7", 40000),
                 "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]}
        return client_address(Request(scope), ctx)

    assert asking({"X-Real-IP": "203.0.113.9", "X-Workflow-Router": proof}) == "203.0.113.9"
    assert asking({"X-Real-IP": "203.0.113.9"}) == "10.0.9.7"
    assert asking({"X-Real-IP": "203.0.113.9", "X-Workflow-Router": "0" * 64}) == "10.0.9.7"
    assert asking({"X-Real-IP": "203.0.113.9", "X-Workflow-Router": proof[:-1]}) == "10.0.9.7"
    one_machine = SimpleNamespace(settings=SimpleNamespace(router_enabled=True), router_proof=None)
    scope = {"type": "http", "client": ("127.0.0.1", 1), "headers": [(b"x-real-ip", b"203.0.113.9")]}
    assert client_address(Request(scope), one_machine) == "203.0.113.9"  # nginx on the private unix socket
