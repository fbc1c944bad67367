"""Issue 18 item 2, first half: every validator matches the whole value, so a trailing newline (which `re.match`
with `$` lets through) never reaches the router, the engine or the database; IPv6 zone ids are refused."""

from __future__ import annotations

import pytest

from tests.certgen import make_cert

from .conftest import assert_deis_error, assert_unharmed

pytestmark = pytest.mark.engine


async def test_trailing_newlines_are_refused_everywhere(api, router_client, engine_settings, tenants):
    mallory, victim = tenants
    # The app id: a route named "evil\n" made every later route sync fail (every app's change a 503).
    assert_deis_error(await api.post("/v2/apps/", json={"id": "evil\n"}, headers=mallory.auth), 400, "id")
    r = await api.post("/v2/apps/", json={"id": "evil"}, headers=mallory.auth)
    assert r.status_code == 201, r.text
    pem = make_cert("evil.example.org")
    r = await api.post("/v2/certs/", headers=mallory.auth,
                       json={"name": "evil\n", "certificate": pem.certificate, "key": pem.key})
    assert_deis_error(r, 400, "name")
    r = await api.post("/v2/auth/register/", json={"username": "evil\n", "password": "secret"})
    assert_deis_error(r, 400, "username")
    r = await api.post("/v2/keys/", headers=mallory.auth,
                       json={"id": "evil\n", "public": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDevil mallory"})
    assert_deis_error(r, 400, "id")
    r = await api.post("/v2/apps/evil/builds/", headers=mallory.auth,
                       json={"image": "test/web:latest", "procfile": {"web\n": "httpd -f -p 8080 -h /www"}})
    assert_deis_error(r, 400, "procfile")
    for body in ({"tags": {"zone\n": "a"}}, {"tags": {"zone": "a\n"}}, {"memory": {"web\n": "64M"}},
                 {"memory": {"web": "64M\n"}}, {"values": {"KEY\n": "v"}}, {"values": {"PORT": "8080\n"}},
                 {"values": {"PORT": "²"}}):
        assert_deis_error(await api.post("/v2/apps/evil/config/", json=body, headers=mallory.auth), 400,
                          next(iter(body)))
    assert (await api.get("/v2/apps/", headers=mallory.auth)).json()["count"] == 1
    await assert_unharmed(api, router_client, engine_settings, victim)


async def test_ipv6_zone_ids_are_refused_in_whitelists(api, router_client, engine_settings, tenants):
    mallory, victim = tenants
    assert (await api.post("/v2/apps/", json={"id": "zoned"}, headers=mallory.auth)).status_code == 201
    for address in ("fe80::1%eth0", "fe80::1%eth0/64", "10.0.0.1\n"):
        r = await api.post("/v2/apps/zoned/whitelist/", json={"addresses": [address]}, headers=mallory.auth)
        assert_deis_error(r, 400, "addresses")
        r = await api.post("/v2/apps/zoned/settings/", json={"whitelist": [address]}, headers=mallory.auth)
        assert_deis_error(r, 400, "whitelist")
    assert (await api.get("/v2/apps/zoned/whitelist/", headers=mallory.auth)).json()["addresses"] == []
    await assert_unharmed(api, router_client, engine_settings, victim)
