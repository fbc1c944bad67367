"""App collaborators (spec §3.13, §5): list, grant, revoke and what a collaborator may then do."""

from __future__ import annotations

import pytest

from tests.conftest import register

FORBIDDEN = {"detail": "You do not have permission to perform this action."}
NO_APP = "No App matches the given query."
NO_USER = "No User matches the given query."


@pytest.fixture
async def carol(client, admin):
    return await register(client, "carol")


@pytest.fixture
async def app_id(client, alice) -> str:
    r = await client.post("/v2/apps/", json={"id": "shared"}, headers=alice[1])
    assert r.status_code == 201, r.text
    return "shared"


async def grant(client, auth, username: str, app: str = "shared"):
    return await client.post(f"/v2/apps/{app}/perms/", json={"username": username}, headers=auth)


async def users(client, auth, app: str = "shared") -> list[str]:
    r = await client.get(f"/v2/apps/{app}/perms/", headers=auth)
    assert r.status_code == 200, r.text
    return r.json()["users"]


class TestList:
    async def test_empty_at_first_owner_not_listed(self, client, alice, app_id):
        r = await client.get("/v2/apps/shared/perms", headers=alice[1])
        assert r.status_code == 200
        assert r.json() == {"users": []}

    async def test_lists_collaborators_sorted(self, client, alice, bob, carol, app_id):
        assert (await grant(client, alice[1], "carol")).status_code == 201
        assert (await grant(client, alice[1], "bob")).status_code == 201
        assert await users(client, alice[1]) == ["bob", "carol"]
        assert await users(client, bob[1]) == ["bob", "carol"]  # a collaborator may list

    async def test_outsider_403_admin_200(self, client, admin, alice, bob, app_id):
        r = await client.get("/v2/apps/shared/perms/", headers=bob[1])
        assert (r.status_code, r.json()) == (403, FORBIDDEN)
        assert await users(client, admin[1]) == []

    async def test_unknown_app_and_anonymous(self, client, alice):
        r = await client.get("/v2/apps/nope/perms/", headers=alice[1])
        assert (r.status_code, r.json()) == (404, NO_APP)
        r = await client.get("/v2/apps/nope/perms/")
        assert r.status_code == 401


class TestGrant:
    async def test_owner_grants_with_empty_body(self, client, alice, bob, app_id):
        r = await grant(client, alice[1], "bob")
        assert r.status_code == 201
        assert r.content == b""
        # the collaborator now sees and uses the app
        r = await client.get("/v2/apps/", headers=bob[1])
        assert [a["id"] for a in r.json()["results"]] == ["shared"]
        assert (await client.get("/v2/apps/shared/", headers=bob[1])).status_code == 200

    async def test_granting_twice_is_harmless(self, client, alice, bob, app_id):
        assert (await grant(client, alice[1], "bob")).status_code == 201
        assert (await grant(client, alice[1], "bob")).status_code == 201
        assert await users(client, alice[1]) == ["bob"]

    async def test_admin_grants(self, client, admin, alice, bob, app_id):
        assert (await grant(client, admin[1], "bob")).status_code == 201
        assert await users(client, alice[1]) == ["bob"]

    async def test_collaborator_and_outsider_cannot_grant(self, client, alice, bob, carol, app_id):
        r = await grant(client, carol[1], "carol")
        assert (r.status_code, r.json()) == (403, FORBIDDEN)
        await grant(client, alice[1], "bob")
        r = await grant(client, bob[1], "carol")
        assert (r.status_code, r.json()) == (403, FORBIDDEN)
        assert await users(client, alice[1]) == ["bob"]

    async def test_unknown_user_404(self, client, alice, app_id):
        r = await grant(client, alice[1], "ghost")
        assert (r.status_code, r.json()) == (404, NO_USER)

    @pytest.mark.parametrize("body, errors", [
        ({}, {"username": ["This field is required."]}),
        (None, {"username": ["This field is required."]}),
        ({"username": ""}, {"username": ["This field may not be blank."]}),
        ({"username": None}, {"username": ["This field may not be null."]}),
        ({"username": ["bob"]}, {"username": ["Not a valid string."]}),
    ])
    async def test_username_required(self, client, alice, app_id, body, errors):
        if body is None:
            r = await client.post("/v2/apps/shared/perms/", content=b"",
                                  headers={**alice[1], "Content-Type": "application/json"})
        else:
            r = await client.post("/v2/apps/shared/perms/", json=body, headers=alice[1])
        assert (r.status_code, r.json()) == (400, errors)

    async def test_unknown_app_404(self, client, alice):
        r = await grant(client, alice[1], "alice", app="nope")
        assert (r.status_code, r.json()) == (404, NO_APP)


class TestRevoke:
    async def test_owner_revokes(self, client, alice, bob, app_id):
        await grant(client, alice[1], "bob")
        r = await client.delete("/v2/apps/shared/perms/bob", headers=alice[1])
        assert r.status_code == 204
        assert r.content == b""
        assert await users(client, alice[1]) == []
        r = await client.get("/v2/apps/shared/", headers=bob[1])
        assert (r.status_code, r.json()) == (403, FORBIDDEN)

    async def test_trailing_slash_and_admin(self, client, admin, alice, bob, app_id):
        await grant(client, alice[1], "bob")
        r = await client.delete("/v2/apps/shared/perms/bob/", headers=admin[1])
        assert r.status_code == 204

    async def test_collaborator_may_leave_but_not_remove_others(self, client, alice, bob, carol, app_id):
        await grant(client, alice[1], "bob")
        await grant(client, alice[1], "carol")
        r = await client.delete("/v2/apps/shared/perms/carol", headers=bob[1])
        assert (r.status_code, r.json()) == (403, FORBIDDEN)
        r = await client.delete("/v2/apps/shared/perms/bob", headers=bob[1])
        assert r.status_code == 204
        assert await users(client, alice[1]) == ["carol"]

    async def test_target_not_a_collaborator_403(self, client, alice, bob, app_id):
        r = await client.delete("/v2/apps/shared/perms/bob", headers=alice[1])
        assert (r.status_code, r.json()) == (403, FORBIDDEN)
        r = await client.delete("/v2/apps/shared/perms/alice", headers=alice[1])  # the owner is not granted
        assert (r.status_code, r.json()) == (403, FORBIDDEN)

    async def test_outsider_403(self, client, alice, bob, carol, app_id):
        await grant(client, alice[1], "bob")
        r = await client.delete("/v2/apps/shared/perms/bob", headers=carol[1])
        assert (r.status_code, r.json()) == (403, FORBIDDEN)

    async def test_unknown_user_and_app_404(self, client, alice, app_id):
        r = await client.delete("/v2/apps/shared/perms/ghost", headers=alice[1])
        assert (r.status_code, r.json()) == (404, NO_USER)
        r = await client.delete("/v2/apps/nope/perms/alice", headers=alice[1])
        assert (r.status_code, r.json()) == (404, NO_APP)

    async def test_usernames_with_dots_and_at(self, client, alice, app_id):
        await register(client, "d.o+t@x-y")
        assert (await grant(client, alice[1], "d.o+t@x-y")).status_code == 201
        r = await client.delete("/v2/apps/shared/perms/d.o+t@x-y", headers=alice[1])
        assert r.status_code == 204

    async def test_put_405(self, client, alice, app_id):
        r = await client.put("/v2/apps/shared/perms/", json={}, headers=alice[1])
        assert r.status_code == 405
