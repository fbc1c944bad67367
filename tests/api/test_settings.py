"""App settings, whitelist and TLS (spec §3.11): versioned rows, merges, validation, 409/422, access."""

from __future__ import annotations

import pytest

FORBIDDEN = {"detail": "You do not have permission to perform this action."}


@pytest.fixture
async def app_id(client, alice) -> str:
    r = await client.post("/v2/apps/", json={"id": "tuned"}, headers=alice[1])
    assert r.status_code == 201, r.text
    return "tuned"


async def post(client, auth, body, path: str = "settings"):
    return await client.post(f"/v2/apps/tuned/{path}/", json=body, headers=auth)


async def current(client, auth) -> dict:
    r = await client.get("/v2/apps/tuned/settings/", headers=auth)
    assert r.status_code == 200
    return r.json()


class TestSettings:
    async def test_initial_row(self, client, alice, app_id):
        body = await current(client, alice[1])
        assert list(body) == ["uuid", "app", "owner", "maintenance", "routable", "whitelist", "autoscale",
                              "label", "created", "updated"]
        assert (body["maintenance"], body["routable"], body["whitelist"], body["autoscale"], body["label"]) == (
            False, True, [], {}, {})

    async def test_maintenance_and_routable_new_row(self, client, alice, bob, app_id):
        first = await current(client, alice[1])
        await client.post("/v2/apps/tuned/perms/", json={"username": "bob"}, headers=alice[1])
        r = await post(client, bob[1], {"maintenance": True})
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["maintenance"] is True and body["routable"] is True
        assert body["owner"] == "bob"
        assert body["uuid"] != first["uuid"]
        r = await post(client, alice[1], {"routable": "false"})  # DRF boolean spellings
        assert r.status_code == 201
        assert (r.json()["maintenance"], r.json()["routable"]) == (True, False)
        assert (await current(client, alice[1]))["routable"] is False

    @pytest.mark.parametrize("body", [{}, {"maintenance": False}, {"routable": True}, {"whitelist": []},
                                      {"autoscale": {}}, {"label": {}}, {"maintenance": None}])
    async def test_changed_nothing_409(self, client, alice, app_id, body):
        r = await post(client, alice[1], body)
        assert (r.status_code, r.json()) == (409, {"detail": "alice changed nothing"})

    @pytest.mark.parametrize("field, value, shown", [("maintenance", "x", "x"), ("routable", 5, "5"),
                                                     ("maintenance", [1], "[1]")])
    async def test_not_a_boolean(self, client, alice, app_id, field, value, shown):
        r = await post(client, alice[1], {field: value})
        assert (r.status_code, r.json()) == (400, {field: [f'"{shown}" is not a valid boolean.']})

    async def test_whitelist_replaces(self, client, alice, app_id):
        r = await post(client, alice[1], {"whitelist": ["10.0.0.0/8", "1.2.3.4"]})
        assert r.status_code == 201
        r = await post(client, alice[1], {"whitelist": ["::1"]})
        assert r.json()["whitelist"] == ["::1"]
        r = await post(client, alice[1], {"whitelist": ["2.2.2.2"], "maintenance": None})
        assert r.json()["whitelist"] == ["2.2.2.2"]
        r = await post(client, alice[1], {"whitelist": ["nope"]})
        assert (r.status_code, r.json()) == (400, {"whitelist": ["The address nope is not valid"]})

    async def test_autoscale_merge_and_remove(self, client, alice, app_id):
        r = await post(client, alice[1], {"autoscale": {"web": {"min": 1, "max": 3, "cpu_percent": 50}}})
        assert r.status_code == 201, r.text
        r = await post(client, alice[1], {"autoscale": {"worker": {"min": 2, "max": 4, "cpu_percent": 80}}})
        assert r.json()["autoscale"] == {"web": {"min": 1, "max": 3, "cpu_percent": 50},
                                         "worker": {"min": 2, "max": 4, "cpu_percent": 80}}
        r = await post(client, alice[1], {"autoscale": {"web": None}})
        assert r.json()["autoscale"] == {"worker": {"min": 2, "max": 4, "cpu_percent": 80}}
        r = await post(client, alice[1], {"autoscale": {"web": None}})
        assert (r.status_code, r.json()) == (422, {"detail": "web does not exist under autoscale"})
        r = await post(client, alice[1], {"autoscale": '{"worker": {"min": 2, "max": 4, "cpu_percent": 80}}'})
        assert r.status_code == 409  # a string holding JSON is accepted; same value: nothing changed

    @pytest.mark.parametrize("rule, reason", [
        ({"min": 1, "max": 3}, "'cpu_percent' is a required property"),
        ({"max": 3, "cpu_percent": 50}, "'min' is a required property"),
        ({"min": "1", "max": 3, "cpu_percent": 50}, "'1' is not of type 'integer'"),
        ({"min": 1, "max": 3.5, "cpu_percent": 50}, "3.5 is not of type 'integer'"),
        ({"min": 1, "max": 3, "cpu_percent": True}, "True is not of type 'integer'"),
        ("fast", "'fast' is not of type 'object'"),
        ({"min": 0, "max": 3, "cpu_percent": 50}, "0 is less than the minimum of 1"),
        ({"min": 3, "max": 2, "cpu_percent": 50}, "max 2 is less than min 3"),
        ({"min": 1, "max": 101, "cpu_percent": 50}, "max 101 is more than the per-app container quota of 100"),
        ({"min": 1, "max": 3, "cpu_percent": 5000}, "5000 is greater than the maximum of 1000"),
    ])
    async def test_autoscale_validation(self, client, alice, app_id, rule, reason):
        r = await post(client, alice[1], {"autoscale": {"web": rule}})
        assert (r.status_code, r.json()) == (400, {"autoscale": [f"could not validate {rule!r}: {reason}"]})

    async def test_label_merge_and_remove(self, client, alice, app_id):
        r = await post(client, alice[1], {"label": {"team": "core", "tier": 1}})
        assert r.json()["label"] == {"team": "core", "tier": 1}
        r = await post(client, alice[1], {"label": {"team": None, "env": "prod"}})
        assert r.json()["label"] == {"tier": 1, "env": "prod"}
        r = await post(client, alice[1], {"label": {"team": None}})
        assert (r.status_code, r.json()) == (422, {"detail": "team does not exist under label"})
        r = await post(client, alice[1], {"label": ["x"]})
        assert r.status_code == 400 and list(r.json()) == ["label"]

    async def test_outsider_403_unknown_404(self, client, alice, bob, app_id):
        r = await post(client, bob[1], {"maintenance": True})
        assert (r.status_code, r.json()) == (403, FORBIDDEN)
        r = await client.post("/v2/apps/nope/settings/", json={"maintenance": True}, headers=alice[1])
        assert (r.status_code, r.json()) == (404, "No App matches the given query.")


class TestWhitelist:
    async def test_add_union_get_remove(self, client, alice, app_id):
        r = await client.get("/v2/apps/tuned/whitelist/", headers=alice[1])
        assert (r.status_code, r.json()) == (200, {"addresses": []})
        r = await post(client, alice[1], {"addresses": ["1.2.3.4", "10.0.0.0/8"]}, "whitelist")
        assert (r.status_code, r.json()) == (201, {"addresses": ["1.2.3.4", "10.0.0.0/8"]})
        r = await post(client, alice[1], {"addresses": ["10.0.0.0/8", "fe80::1", "192.168.0.1/24"]}, "whitelist")
        assert r.json() == {"addresses": ["1.2.3.4", "10.0.0.0/8", "fe80::1", "192.168.0.1/24"]}
        assert (await current(client, alice[1]))["whitelist"] == r.json()["addresses"]
        r = await client.request("DELETE", "/v2/apps/tuned/whitelist/", json={"addresses": ["1.2.3.4", "fe80::1"]},
                                 headers=alice[1])
        assert r.status_code == 204 and r.content == b""
        r = await client.get("/v2/apps/tuned/whitelist", headers=alice[1])
        assert r.json() == {"addresses": ["10.0.0.0/8", "192.168.0.1/24"]}

    async def test_all_present_409(self, client, alice, app_id):
        await post(client, alice[1], {"addresses": ["1.2.3.4"]}, "whitelist")
        r = await post(client, alice[1], {"addresses": ["1.2.3.4"]}, "whitelist")
        assert (r.status_code, r.json()) == (409, {"detail": "alice changed nothing"})

    @pytest.mark.parametrize("body, errors", [
        ({"addresses": ["1.2.3.4", "999.1.1.1"]}, {"addresses": ["The address 999.1.1.1 is not valid"]}),
        ({"addresses": ["example.com"]}, {"addresses": ["The address example.com is not valid"]}),
        ({"addresses": [5]}, {"addresses": ["The address 5 is not valid"]}),
        ({"addresses": "1.2.3.4"}, {"addresses": ['Expected a list of items but got type "str".']}),
        ({}, {"addresses": ["This field is required."]}),
    ])
    async def test_invalid(self, client, alice, app_id, body, errors):
        r = await post(client, alice[1], body, "whitelist")
        assert (r.status_code, r.json()) == (400, errors)
        r = await client.request("DELETE", "/v2/apps/tuned/whitelist/", json=body, headers=alice[1])
        assert (r.status_code, r.json()) == (400, errors)

    async def test_remove_missing_422(self, client, alice, app_id):
        await post(client, alice[1], {"addresses": ["1.2.3.4"]}, "whitelist")
        r = await client.request("DELETE", "/v2/apps/tuned/whitelist/", json={"addresses": ["1.2.3.4", "5.6.7.8"]},
                                 headers=alice[1])
        assert (r.status_code, r.json()) == (422, {"detail": "addresses {'5.6.7.8'} does not exist in whitelist"})

    async def test_collaborator_adds_but_cannot_remove(self, client, alice, bob, admin, app_id):
        await client.post("/v2/apps/tuned/perms/", json={"username": "bob"}, headers=alice[1])
        assert (await post(client, bob[1], {"addresses": ["1.2.3.4"]}, "whitelist")).status_code == 201
        r = await client.request("DELETE", "/v2/apps/tuned/whitelist/", json={"addresses": ["1.2.3.4"]},
                                 headers=bob[1])
        assert (r.status_code, r.json()) == (403, FORBIDDEN)
        r = await client.request("DELETE", "/v2/apps/tuned/whitelist/", json={"addresses": ["1.2.3.4"]},
                                 headers=admin[1])
        assert r.status_code == 204


class TestTLS:
    async def test_initially_null_then_set(self, client, alice, app_id):
        r = await client.get("/v2/apps/tuned/tls/", headers=alice[1])
        assert r.status_code == 200
        body = r.json()
        assert list(body) == ["uuid", "app", "owner", "https_enforced", "created", "updated"]
        assert body["https_enforced"] is None
        r = await post(client, alice[1], {"https_enforced": True}, "tls")
        assert r.status_code == 201, r.text
        assert r.json()["https_enforced"] is True and r.json()["uuid"] != body["uuid"]
        r = await post(client, alice[1], {"https_enforced": True}, "tls")
        assert (r.status_code, r.json()) == (409, {"detail": "alice changed nothing"})
        r = await post(client, alice[1], {"https_enforced": False}, "tls")
        assert r.status_code == 201
        assert (await client.get("/v2/apps/tuned/tls", headers=alice[1])).json()["https_enforced"] is False

    async def test_false_first_is_a_change(self, client, alice, app_id):
        r = await post(client, alice[1], {"https_enforced": False}, "tls")
        assert r.status_code == 201
        assert r.json()["https_enforced"] is False

    @pytest.mark.parametrize("value, shown", [("maybe", "maybe"), (7, "7")])
    async def test_not_a_boolean(self, client, alice, app_id, value, shown):
        r = await post(client, alice[1], {"https_enforced": value}, "tls")
        assert (r.status_code, r.json()) == (400, {"https_enforced": [f'"{shown}" is not a valid boolean.']})

    async def test_access(self, client, alice, bob, app_id):
        r = await post(client, bob[1], {"https_enforced": True}, "tls")
        assert (r.status_code, r.json()) == (403, FORBIDDEN)
        await client.post("/v2/apps/tuned/perms/", json={"username": "bob"}, headers=alice[1])
        r = await post(client, bob[1], {"https_enforced": True}, "tls")
        assert r.status_code == 201
        assert r.json()["owner"] == "bob"


async def test_router_refusal_is_a_503_and_the_change_is_kept(client, app, alice, app_id, monkeypatch):
    from workflow.router import RouterError

    async def refuse(*_app_id):
        raise RouterError("nginx: [emerg] something")

    monkeypatch.setattr(app.state.ctx.routes, "sync", refuse)
    r = await post(client, alice[1], {"maintenance": True})
    assert r.status_code == 503
    assert r.json() == {"detail": "The router could not apply the change: nginx: [emerg] something"}
    assert (await current(client, alice[1]))["maintenance"] is True  # the next sync carries it
