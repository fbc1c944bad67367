"""Apps (spec §3.4, §4.1, §5): create, list visibility, get, transfer, destroy — and the rows
creation makes, read straight from the database."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from tests.conftest import register
from workflow.domain.appnames import ADJECTIVES, NOUNS
from workflow.models import TLS, App, AppPermission, AppSettings, Build, Config, Domain, Release

APP_ID_TEXT = ("App name must start with an alphabetic character, cannot end with a hyphen and can only "
               "contain a-z (lowercase), 0-9 and hyphens.")
FORBIDDEN = {"detail": "You do not have permission to perform this action."}
NO_APP = "No App matches the given query."
NO_USER = "No User matches the given query."
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
APP_ROWS = (Config, Release, AppSettings, TLS, Domain, AppPermission, Build)



@pytest.fixture
async def carol(client, admin):
    return await register(client, "carol")


async def create(client, auth, app_id: str) -> dict:
    r = await client.post("/v2/apps/", json={"id": app_id}, headers=auth)
    assert r.status_code == 201, r.text
    return r.json()


async def share(app, app_id: str, username: str) -> None:
    async with app.state.ctx.sessions() as session:
        session.add(AppPermission(app_id=app_id, username=username))
        await session.commit()


async def rows(app, model, app_id: str) -> list:
    async with app.state.ctx.sessions() as session:
        return list((await session.scalars(select(model).where(model.app_id == app_id))).all())


async def app_row(app, app_id: str) -> App | None:
    async with app.state.ctx.sessions() as session:
        return await session.get(App, app_id)


# --- create ------------------------------------------------------------------------------------------


async def test_create_with_id(client, alice):
    r = await client.post("/v2/apps/", json={"id": "example-go"}, headers=alice[1])
    assert r.status_code == 201
    body = r.json()
    assert list(body) == ["uuid", "id", "owner", "structure", "created", "updated"]
    assert body["id"] == "example-go"
    assert body["owner"] == "alice"
    assert body["structure"] == {}
    assert UUID4.match(body["uuid"])
    assert TIMESTAMP.match(body["created"]) and TIMESTAMP.match(body["updated"])
    assert "url" not in body


@pytest.mark.parametrize("payload", [None, {}])
async def test_create_without_id_generates_adjective_noun(client, alice, payload):
    if payload is None:
        r = await client.post("/v2/apps/", content=b"", headers={**alice[1], "Content-Type": "application/json"})
    else:
        r = await client.post("/v2/apps/", json=payload, headers=alice[1])
    assert r.status_code == 201, r.text
    adjective, noun = r.json()["id"].split("-", 1)
    assert adjective in ADJECTIVES and noun in NOUNS
    r2 = await client.get(f"/v2/apps/{r.json()['id']}/", headers=alice[1])
    assert r2.status_code == 200
    assert r2.json() == r.json()


async def test_generated_names_are_unique(client, alice):
    ids = set()
    for _ in range(8):
        r = await client.post("/v2/apps/", headers=alice[1])
        assert r.status_code == 201
        ids.add(r.json()["id"])
    assert len(ids) == 8


@pytest.mark.parametrize("app_id", ["a", "a1", "a--b", "go-app-2", "x" * 63])
async def test_create_valid_ids(client, alice, app_id):
    assert (await create(client, alice[1], app_id))["id"] == app_id


@pytest.mark.parametrize("app_id", ["Upper", "1abc", "-abc", "abc-", "a_b", "a.b", "a b", "ümlaut", "app/x"])
async def test_create_invalid_ids(client, alice, app_id):
    r = await client.post("/v2/apps/", json={"id": app_id}, headers=alice[1])
    assert r.status_code == 400
    assert r.json() == {"id": [APP_ID_TEXT]}


async def test_create_id_too_long(client, alice):
    r = await client.post("/v2/apps/", json={"id": "x" * 64}, headers=alice[1])
    assert r.status_code == 400
    assert r.json() == {"id": ["Ensure this field has no more than 63 characters."]}


async def test_create_blank_id(client, alice):
    r = await client.post("/v2/apps/", json={"id": ""}, headers=alice[1])
    assert r.status_code == 400
    assert r.json() == {"id": ["This field may not be blank."]}


@pytest.mark.parametrize("app_id", ["deis", "deis-builder", "deis-workflow-manager", "grafana"])
async def test_create_reserved_names(client, alice, app_id):
    r = await client.post("/v2/apps/", json={"id": app_id}, headers=alice[1])
    assert r.status_code == 400
    assert r.json() == {"id": [f"{app_id} is a reserved name."]}


async def test_create_duplicate(client, app, alice, bob):
    await create(client, alice[1], "taken")
    for auth in (alice[1], bob[1]):
        r = await client.post("/v2/apps/", json={"id": "taken"}, headers=auth)
        assert r.status_code == 400
        assert r.json() == {"id": ["Application with this id already exists."]}
    assert (await app_row(app, "taken")).owner == "alice"


async def test_create_side_effects(client, app, alice):
    body = await create(client, alice[1], "sidefx")
    stored = await app_row(app, "sidefx")
    assert stored.uuid == body["uuid"] and stored.owner == "alice" and stored.structure == {}

    configs = await rows(app, Config, "sidefx")
    assert len(configs) == 1
    config = configs[0]
    assert config.owner == "alice"
    assert (config.values, config.memory, config.cpu, config.tags, config.registry_info, config.healthcheck) == (
        {}, {}, {}, {}, {}, {})

    releases = await rows(app, Release, "sidefx")
    assert len(releases) == 1
    release = releases[0]
    assert release.version == 1
    assert release.summary == "alice created initial release"
    assert release.owner == "alice"
    assert release.build_uuid is None
    assert release.config_uuid == config.uuid
    assert release.failed is False

    settings = await rows(app, AppSettings, "sidefx")
    assert len(settings) == 1
    s = settings[0]
    assert (s.owner, s.maintenance, s.routable, s.whitelist, s.autoscale, s.label) == (
        "alice", False, True, [], {}, {})

    tls = await rows(app, TLS, "sidefx")
    assert len(tls) == 1
    assert tls[0].owner == "alice" and tls[0].https_enforced is None

    domains = await rows(app, Domain, "sidefx")
    assert [(d.domain, d.owner) for d in domains] == [("sidefx", "alice")]

    assert await rows(app, Build, "sidefx") == []
    assert await rows(app, AppPermission, "sidefx") == []


async def test_failed_create_leaves_no_rows(client, app, alice):
    await client.post("/v2/apps/", json={"id": "Bad"}, headers=alice[1])
    await client.post("/v2/apps/", json={"id": "deis"}, headers=alice[1])
    async with app.state.ctx.sessions() as session:
        for model in (App, Config, Release, AppSettings, TLS, Domain):
            assert await session.scalar(select(func.count()).select_from(model)) == 0, model


# --- list ------------------------------------------------------------------------------------------------


async def test_list_visibility(client, app, admin, alice, bob, carol):
    await create(client, alice[1], "a-one")
    await create(client, bob[1], "b-two")
    await create(client, alice[1], "a-three")
    await create(client, admin[1], "admins-own")
    await share(app, "a-one", "bob")

    async def ids(auth):
        r = await client.get("/v2/apps/", headers=auth)
        assert r.status_code == 200
        body = r.json()
        assert body["count"] == len(body["results"])
        return [a["id"] for a in body["results"]]

    assert await ids(alice[1]) == ["a-one", "a-three"]
    assert await ids(bob[1]) == ["a-one", "b-two"]
    assert await ids(admin[1]) == ["a-one", "a-three", "admins-own", "b-two"]
    assert await ids(carol[1]) == []
    r = await client.get("/v2/apps/", headers=carol[1])
    assert r.json() == {"count": 0, "next": None, "previous": None, "results": []}

    r = await client.get("/v2/apps/?limit=1", headers=bob[1])
    body = r.json()
    assert body["count"] == 2
    assert [a["id"] for a in body["results"]] == ["a-one"]
    assert body["results"][0]["owner"] == "alice"
    assert body["next"] == "http://testserver/v2/apps/?limit=1&offset=1"


# --- get -------------------------------------------------------------------------------------------------


async def test_get_by_role(client, app, admin, alice, bob, carol):
    created = await create(client, alice[1], "seen")
    await share(app, "seen", "bob")
    for auth in (alice[1], bob[1], admin[1]):
        r = await client.get("/v2/apps/seen/", headers=auth)
        assert r.status_code == 200
        assert r.json() == created
    r = await client.get("/v2/apps/seen/", headers=carol[1])
    assert r.status_code == 403
    assert r.json() == FORBIDDEN


async def test_get_unknown_is_bare_string_404(client, alice):
    r = await client.get("/v2/apps/nothing-here/", headers=alice[1])
    assert r.status_code == 404
    assert r.json() == NO_APP
    assert r.content == b'"No App matches the given query."'


@pytest.mark.parametrize("path", ["/v2/apps/Bad_App/", "/v2/apps/UPPER", "/v2/apps/a.b/", "/v2/apps/a%20b/"])
async def test_get_invalid_id_characters_is_404(client, alice, path):
    r = await client.get(path, headers=alice[1])
    assert r.status_code == 404


async def test_anonymous_gets_401_even_for_missing_app(client, alice):
    await create(client, alice[1], "exists")
    for path in ("/v2/apps/exists/", "/v2/apps/missing/"):
        for method in ("GET", "POST", "DELETE"):
            r = await client.request(method, path)
            assert r.status_code == 401, (method, path)
            assert r.json() == {"detail": "Authentication credentials were not provided."}


async def test_outsider_gets_403_not_404_and_unknown_gets_404(client, alice, bob):
    await create(client, alice[1], "private")
    for method, kwargs in (("GET", {}), ("POST", {"json": {"owner": "bob"}}), ("DELETE", {})):
        r = await client.request(method, "/v2/apps/private/", headers=bob[1], **kwargs)
        assert r.status_code == 403, method
        assert r.json() == FORBIDDEN
        r = await client.request(method, "/v2/apps/unknown-app/", headers=bob[1], **kwargs)
        assert r.status_code == 404, method
        assert r.json() == NO_APP


# --- transfer ---------------------------------------------------------------------------------------------


async def test_transfer_by_owner(client, app, alice, bob, carol):
    await create(client, alice[1], "moving")
    await share(app, "moving", "carol")
    async with app.state.ctx.sessions() as session:  # a row some collaborator made stays theirs
        session.add(Config(app_id="moving", owner="carol"))
        await session.commit()
    await create(client, alice[1], "staying")

    r = await client.post("/v2/apps/moving/", json={"owner": "bob"}, headers=alice[1])
    assert r.status_code == 200
    assert r.content == b""

    assert (await app_row(app, "moving")).owner == "bob"
    assert sorted(c.owner for c in await rows(app, Config, "moving")) == ["bob", "carol"]
    for model in (Release, AppSettings, TLS, Domain):
        assert [row.owner for row in await rows(app, model, "moving")] == ["bob"], model
    # other apps of the old owner are untouched
    assert (await app_row(app, "staying")).owner == "alice"
    for model in (Config, Release, AppSettings, TLS, Domain):
        assert [row.owner for row in await rows(app, model, "staying")] == ["alice"], model

    r = await client.get("/v2/apps/moving/", headers=bob[1])
    assert r.status_code == 200 and r.json()["owner"] == "bob"
    r = await client.get("/v2/apps/moving/", headers=alice[1])
    assert r.status_code == 403
    assert [a["id"] for a in (await client.get("/v2/apps/", headers=alice[1])).json()["results"]] == ["staying"]
    assert [a["id"] for a in (await client.get("/v2/apps/", headers=bob[1])).json()["results"]] == ["moving"]


async def test_transfer_touches_updated(client, app, alice, bob):
    from datetime import UTC, datetime

    from sqlalchemy import update

    await create(client, alice[1], "dated")
    old = datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC)
    async with app.state.ctx.sessions() as session:
        await session.execute(update(App).where(App.id == "dated").values(created=old, updated=old))
        await session.commit()
    assert (await client.post("/v2/apps/dated/", json={"owner": "bob"}, headers=alice[1])).status_code == 200
    body = (await client.get("/v2/apps/dated/", headers=bob[1])).json()
    assert body["created"] == "2020-01-02T03:04:05Z"
    assert body["updated"] != "2020-01-02T03:04:05Z"
    assert TIMESTAMP.match(body["updated"])


async def test_transfer_by_admin(client, app, admin, alice, bob):
    await create(client, alice[1], "seized")
    r = await client.post("/v2/apps/seized", json={"owner": "bob"}, headers=admin[1])
    assert r.status_code == 200
    assert r.content == b""
    assert (await app_row(app, "seized")).owner == "bob"


async def test_transfer_by_collaborator_is_403(client, app, alice, bob, carol):
    await create(client, alice[1], "guarded")
    await share(app, "guarded", "bob")
    r = await client.post("/v2/apps/guarded/", json={"owner": "bob"}, headers=bob[1])
    assert r.status_code == 403
    assert r.json() == FORBIDDEN
    r = await client.post("/v2/apps/guarded/", json={"owner": "carol"}, headers=carol[1])
    assert r.status_code == 403
    assert (await app_row(app, "guarded")).owner == "alice"


async def test_transfer_to_unknown_user_is_404(client, app, alice):
    await create(client, alice[1], "orphan")
    r = await client.post("/v2/apps/orphan/", json={"owner": "ghost"}, headers=alice[1])
    assert r.status_code == 404
    assert r.json() == NO_USER
    assert (await app_row(app, "orphan")).owner == "alice"
    assert [row.owner for row in await rows(app, Release, "orphan")] == ["alice"]


async def test_post_without_owner_changes_nothing(client, app, alice):
    await create(client, alice[1], "still")
    for kwargs in ({"json": {}}, {"content": b"", "headers": {"Content-Type": "application/json"}}):
        headers = {**alice[1], **kwargs.pop("headers", {})}
        r = await client.post("/v2/apps/still/", headers=headers, **kwargs)
        assert r.status_code == 200
        assert r.content == b""
    assert (await app_row(app, "still")).owner == "alice"


# --- destroy ------------------------------------------------------------------------------------------------


async def test_destroy_by_owner_removes_every_row(client, app, alice, bob):
    await create(client, alice[1], "doomed")
    await create(client, alice[1], "survivor")
    await share(app, "doomed", "bob")
    await share(app, "survivor", "bob")

    r = await client.delete("/v2/apps/doomed/", headers=alice[1])
    assert r.status_code == 204
    assert r.content == b""

    assert await app_row(app, "doomed") is None
    for model in APP_ROWS:
        assert await rows(app, model, "doomed") == [], model
    assert await app_row(app, "survivor") is not None
    for model in (Config, Release, AppSettings, TLS, Domain, AppPermission):
        assert len(await rows(app, model, "survivor")) == 1, model

    r = await client.get("/v2/apps/doomed/", headers=alice[1])
    assert r.status_code == 404
    assert r.json() == NO_APP
    r = await client.delete("/v2/apps/doomed/", headers=alice[1])
    assert r.status_code == 404
    # the name is free again
    assert (await create(client, bob[1], "doomed"))["owner"] == "bob"


async def test_destroy_by_admin(client, app, admin, alice):
    await create(client, alice[1], "removed")
    r = await client.delete("/v2/apps/removed", headers=admin[1])
    assert r.status_code == 204
    assert await app_row(app, "removed") is None


async def test_destroy_by_collaborator_or_outsider_is_403(client, app, alice, bob, carol):
    await create(client, alice[1], "kept")
    await share(app, "kept", "bob")
    for auth in (bob[1], carol[1]):
        r = await client.delete("/v2/apps/kept/", headers=auth)
        assert r.status_code == 403
        assert r.json() == FORBIDDEN
    assert await app_row(app, "kept") is not None
    for model in (Config, Release, AppSettings, TLS, Domain, AppPermission):
        assert len(await rows(app, model, "kept")) == 1, model


async def test_put_and_patch_are_405(client, alice):
    await create(client, alice[1], "fixed")
    for method in ("PUT", "PATCH"):
        r = await client.request(method, "/v2/apps/fixed/", json={"owner": "x"}, headers=alice[1])
        assert r.status_code == 405
        assert r.json() == {"detail": f'Method "{method}" not allowed.'}
