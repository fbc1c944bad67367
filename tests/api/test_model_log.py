"""Deis's own lines in `deis logs`: one per saved config, release, domain and settings row, with upstream's
text and in upstream's order (deis/controller `api/models/__init__.py` signal handlers)."""

from __future__ import annotations

import re

LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z deis\[controller\]: INFO (.*)$")


async def controller_lines(client, auth, app_id: str) -> list[str]:
    r = await client.get(f"/v2/apps/{app_id}/logs?log_lines=100", headers=auth)
    assert r.status_code == 200, r.text
    found = [LINE.match(line) for line in r.text.splitlines()]
    return [m.group(1) for m in found if m]


async def test_create_config_domain_settings_lines(client, alice):
    _, auth = alice
    assert (await client.post("/v2/apps/", json={"id": "shop"}, headers=auth)).status_code == 201
    first_config = (await client.get("/v2/apps/shop/config/", headers=auth)).json()["uuid"]
    first_settings = (await client.get("/v2/apps/shop/settings/", headers=auth)).json()["uuid"]
    assert await controller_lines(client, auth, "shop") == [
        f"config shop-{first_config[:7]} updated",
        "alice created initial release",
        f"appsettings shop-{first_settings[:7]} updated",
        "domain shop added",
    ]

    r = await client.post("/v2/apps/shop/config/", json={"values": {"FOO": "1"}}, headers=auth)
    assert r.status_code == 201, r.text
    config = r.json()["uuid"]
    assert (await client.post("/v2/apps/shop/domains/", json={"domain": "shop.example.com"},
                              headers=auth)).status_code == 201
    r = await client.post("/v2/apps/shop/settings/", json={"maintenance": True}, headers=auth)
    assert r.status_code == 201, r.text
    settings = r.json()["uuid"]
    assert (await client.delete("/v2/apps/shop/domains/shop.example.com", headers=auth)).status_code == 204

    assert (await controller_lines(client, auth, "shop"))[4:] == [
        f"config shop-{config[:7]} updated",
        "alice added FOO",
        "domain shop.example.com added",
        f"appsettings shop-{settings[:7]} updated",
        "domain shop.example.com removed",
    ]


async def test_refused_changes_log_nothing(client, alice):
    _, auth = alice
    assert (await client.post("/v2/apps/", json={"id": "quiet"}, headers=auth)).status_code == 201
    before = await controller_lines(client, auth, "quiet")
    r = await client.post("/v2/apps/quiet/config/", json={"values": {}}, headers=auth)
    assert r.status_code == 409  # changed nothing: no config row, no release, no line
    r = await client.post("/v2/apps/quiet/settings/", json={"maintenance": False}, headers=auth)
    assert r.status_code == 409
    r = await client.post("/v2/apps/quiet/domains/", json={"domain": "bad domain"}, headers=auth)
    assert r.status_code == 400
    assert await controller_lines(client, auth, "quiet") == before
