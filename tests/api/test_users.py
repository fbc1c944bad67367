"""Users and administrators (spec §3.3): users list, admin perms list/grant/revoke."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.conftest import register
from workflow.models import User

FORBIDDEN = {"detail": "You do not have permission to perform this action."}
NO_USER = "No User matches the given query."
USER_KEYS = {"username", "email", "first_name", "last_name", "is_superuser", "is_staff", "is_active",
             "last_login", "date_joined", "groups", "user_permissions"}



async def flags(app, username: str) -> tuple[bool, bool]:
    async with app.state.ctx.sessions() as session:
        user = await session.scalar(select(User).where(User.username == username))
        return user.is_superuser, user.is_staff


# --- users list ----------------------------------------------------------------------------------------


async def test_users_list_admin_only(client, admin, alice):
    r = await client.get("/v2/users/", headers=alice[1])
    assert r.status_code == 403
    assert r.json() == FORBIDDEN


async def test_users_list_shape_and_order(client, admin):
    for name in ("zed", "bob", "mallory", "Carl"):
        await register(client, name)
    r = await client.get("/v2/users/", headers=admin[1])
    assert r.status_code == 200
    body = r.json()
    assert body["count"] == 5
    assert body["next"] is None and body["previous"] is None
    assert [u["username"] for u in body["results"]] == sorted(["admin", "zed", "bob", "mallory", "Carl"])
    for user in body["results"]:
        assert set(user) == USER_KEYS
        assert user["groups"] == [] and user["user_permissions"] == []
    admin_row = next(u for u in body["results"] if u["username"] == "admin")
    assert admin_row["is_superuser"] is True and admin_row["is_staff"] is True
    bob_row = next(u for u in body["results"] if u["username"] == "bob")
    assert bob_row["is_superuser"] is False and bob_row["is_staff"] is False


async def test_users_list_paginated(client, admin):
    for name in ("u1", "u2", "u3"):
        await register(client, name)
    r = await client.get("/v2/users/?limit=2", headers=admin[1])
    body = r.json()
    assert body["count"] == 4
    assert [u["username"] for u in body["results"]] == ["admin", "u1"]
    assert body["next"] == "http://testserver/v2/users/?limit=2&offset=2"
    r = await client.get("/v2/users?limit=2&offset=2", headers=admin[1])
    body = r.json()
    assert [u["username"] for u in body["results"]] == ["u2", "u3"]
    assert body["next"] is None
    assert body["previous"] == "http://testserver/v2/users?limit=2"


# --- admin perms ---------------------------------------------------------------------------------------


async def test_admin_perms_list(client, admin, alice, bob):
    r = await client.get("/v2/admin/perms/", headers=admin[1])
    assert r.status_code == 200
    assert r.json() == {"count": 1, "next": None, "previous": None,
                        "results": [{"username": "admin", "is_superuser": True}]}
    r = await client.get("/v2/admin/perms/", headers=alice[1])
    assert r.status_code == 403
    assert r.json() == FORBIDDEN


async def test_admin_grant_and_revoke(client, app, admin, alice, bob):
    r = await client.post("/v2/admin/perms/", json={"username": "bob"}, headers=admin[1])
    assert r.status_code == 201
    assert r.content == b""
    assert await flags(app, "bob") == (True, True)
    r = await client.get("/v2/admin/perms/?limit=1", headers=admin[1])
    body = r.json()
    assert body["count"] == 2
    assert body["results"] == [{"username": "admin", "is_superuser": True}]
    assert body["next"] == "http://testserver/v2/admin/perms/?limit=1&offset=1"
    r = await client.get(body["next"], headers=admin[1])
    assert r.json()["results"] == [{"username": "bob", "is_superuser": True}]

    # bob is now an admin: he sees all users and may grant others
    r = await client.get("/v2/users/", headers=bob[1])
    assert r.status_code == 200 and r.json()["count"] == 3
    r = await client.get("/v2/auth/whoami/", headers=bob[1])
    assert r.json()["is_superuser"] is True and r.json()["is_staff"] is True

    # granting twice is fine
    r = await client.post("/v2/admin/perms", json={"username": "bob"}, headers=admin[1])
    assert r.status_code == 201

    r = await client.delete("/v2/admin/perms/bob", headers=admin[1])
    assert r.status_code == 204
    assert r.content == b""
    assert await flags(app, "bob") == (False, False)
    assert (await client.get("/v2/users/", headers=bob[1])).status_code == 403
    r = await client.get("/v2/admin/perms/", headers=admin[1])
    assert [a["username"] for a in r.json()["results"]] == ["admin"]


async def test_admin_may_revoke_self_while_another_admin_remains(client, app, admin, alice):
    assert (await client.post("/v2/admin/perms/", json={"username": "alice"}, headers=admin[1])).status_code == 201
    r = await client.delete("/v2/admin/perms/admin", headers=admin[1])
    assert r.status_code == 204
    assert await flags(app, "admin") == (False, False)
    assert (await client.get("/v2/admin/perms/", headers=admin[1])).status_code == 403


async def test_the_last_admin_cannot_be_revoked(client, app, admin, alice):
    """Upstream let the last admin go, leaving a platform nobody administers (issue 18): 409."""
    r = await client.delete("/v2/admin/perms/admin", headers=admin[1])
    assert r.status_code == 409
    assert r.json() == {"detail": "admin is the last administrator: make another user an administrator first "
                                  "(the last user of all may cancel their account)"}
    assert await flags(app, "admin") == (True, True)


async def test_admin_perms_non_admin_forbidden(client, app, alice, bob):
    r = await client.post("/v2/admin/perms/", json={"username": "alice"}, headers=alice[1])
    assert r.status_code == 403
    assert r.json() == FORBIDDEN
    r = await client.delete("/v2/admin/perms/admin", headers=alice[1])
    assert r.status_code == 403
    assert r.json() == FORBIDDEN
    assert await flags(app, "alice") == (False, False)
    assert await flags(app, "admin") == (True, True)


async def test_admin_perms_unknown_user(client, admin):
    r = await client.post("/v2/admin/perms/", json={"username": "ghost"}, headers=admin[1])
    assert r.status_code == 404
    assert r.json() == NO_USER
    r = await client.delete("/v2/admin/perms/ghost", headers=admin[1])
    assert r.status_code == 404
    assert r.json() == NO_USER


@pytest.mark.parametrize("payload", [{}, {"username": ""}, {"username": None}])
async def test_admin_grant_missing_username(client, admin, payload):
    r = await client.post("/v2/admin/perms/", json=payload, headers=admin[1])
    assert r.status_code == 400
    assert set(r.json()) == {"username"}
    assert r.json()["username"] in (["This field is required."], ["This field may not be blank."],
                                    ["This field may not be null."])


async def test_admin_grant_empty_body(client, admin):
    r = await client.post("/v2/admin/perms/", content=b"",
                          headers={**admin[1], "Content-Type": "application/json"})
    assert r.status_code == 400
    assert r.json() == {"username": ["This field is required."]}


async def test_usernames_with_dots_and_at_in_paths(client, app, admin):
    await register(client, "first.last@example.com")
    r = await client.post("/v2/admin/perms/", json={"username": "first.last@example.com"}, headers=admin[1])
    assert r.status_code == 201
    assert await flags(app, "first.last@example.com") == (True, True)
    r = await client.delete("/v2/admin/perms/first.last@example.com", headers=admin[1])
    assert r.status_code == 204
    assert await flags(app, "first.last@example.com") == (False, False)
