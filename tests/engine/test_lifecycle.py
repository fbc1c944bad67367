"""Config, rollback, run and logs through the HTTP API on the real engine."""

from __future__ import annotations

import pytest

from .conftest import app_name, deployed_app, host_of

pytestmark = pytest.mark.engine




async def test_config_values_reach_containers_and_rollback_restores(api, owner, router_client, engine_settings):
    name = await deployed_app(api, owner)
    tricky = 'two words\nsecond line "quoted" ünïcødé ✓'
    r = await api.post(f"/v2/apps/{name}/config/", json={"values": {"GREETING": tricky, "N": 1}}, headers=owner)
    assert r.status_code == 201, r.text
    assert r.json()["values"] == {"GREETING": tricky, "N": "1"}

    releases = (await api.get(f"/v2/apps/{name}/releases/", headers=owner)).json()["results"]
    assert releases[0]["version"] == 3
    assert releases[0]["summary"] == "owner added GREETING, N"

    r = await api.post(f"/v2/apps/{name}/run", json={"command": "printf '%s' \"$GREETING\""}, headers=owner)
    assert r.status_code == 200, r.text
    assert r.json() == {"exit_code": 0, "output": tricky}

    page = await router_client.get("/cgi-bin/env", headers=host_of(name, engine_settings))
    assert "N=1" in page.text and "WORKFLOW_RELEASE=v3" in page.text

    r = await api.post(f"/v2/apps/{name}/config/", json={"values": {"N": 1}}, headers=owner)
    assert r.status_code == 409
    assert r.json() == {"detail": "owner changed nothing - release stopped"}
    r = await api.post(f"/v2/apps/{name}/config/", json={"values": {"MISSING": None}}, headers=owner)
    assert r.status_code == 422
    assert r.json() == {"detail": "MISSING does not exist under values"}
    r = await api.post(f"/v2/apps/{name}/config/", json={"values": {"1BAD": "x"}}, headers=owner)
    assert r.status_code == 400
    assert r.json() == {"values": ["Config keys must start with a letter or underscore and only contain [A-z0-9_]"]}

    r = await api.post(f"/v2/apps/{name}/releases/rollback/", json={"version": 2}, headers=owner)
    assert r.status_code == 201, r.text
    assert r.json() == {"version": 4}
    r = await api.get(f"/v2/apps/{name}/config/", headers=owner)
    assert r.json()["values"] == {}
    r = await api.post(f"/v2/apps/{name}/run", json={"command": "echo \"[$GREETING]\""}, headers=owner)
    assert r.json()["output"].strip() == "[]"

    for body, text in (({"version": 1}, "Cannot roll back to initial release."),
                       ({"version": 0}, "version cannot be below 0"),
                       ({"version": 99}, "Release matching query does not exist.")):
        r = await api.post(f"/v2/apps/{name}/releases/rollback/", json=body, headers=owner)
        assert r.status_code == 400 and r.json() == {"detail": text}


async def test_run_errors(api, owner):
    name = app_name()
    await api.post("/v2/apps/", json={"id": name}, headers=owner)
    r = await api.post(f"/v2/apps/{name}/run", json={"command": "ls"}, headers=owner)
    assert r.status_code == 400
    assert r.json() == {"detail": "No build associated with this release to run this command"}
    r = await api.post(f"/v2/apps/{name}/run", json={}, headers=owner)
    assert r.json() == {"detail": "command is a required field"}


async def test_run_exit_code(api, owner):
    name = await deployed_app(api, owner)
    r = await api.post(f"/v2/apps/{name}/run", json={"command": "echo out; exit 3"}, headers=owner)
    assert r.json() == {"exit_code": 3, "output": "out\n"}


async def test_logs_merge_events(api, owner):
    name = await deployed_app(api, owner)
    r = await api.get(f"/v2/apps/{name}/logs?log_lines=50", headers=owner)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    assert "deis[controller]: INFO owner deployed v2" in r.text
    r = await api.get(f"/v2/apps/{name}/logs?log_lines=1", headers=owner)
    assert len(r.text.splitlines()) == 1


async def test_tags_must_match_engine_labels(api, owner):
    name = await deployed_app(api, owner)
    r = await api.post(f"/v2/apps/{name}/config/", json={"tags": {"disk": "ssd"}}, headers=owner)
    assert r.status_code == 400
    assert r.json() == {"detail": "No nodes matched the provided labels: disk=ssd - Addition of disk=ssd is the cause"}
    r = await api.get(f"/v2/apps/{name}/releases/", headers=owner)
    assert r.json()["count"] == 2
