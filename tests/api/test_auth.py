"""Auth (spec §3.2, §5): register, login, whoami, passwd, tokens, cancel, registration modes, and
that neither passwords nor tokens are stored in clear."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select, update

from tests.conftest import register
from workflow.config import Settings
from workflow.models import App, AppPermission, Config, Key, Token, User

USERNAME_TEXT = ("Enter a valid username. This value may contain only letters, numbers and @/./+/-/_ "
                 "characters.")
BAD_CREDENTIALS = {"non_field_errors": ["Unable to log in with provided credentials."]}
FORBIDDEN = {"detail": "You do not have permission to perform this action."}
NO_USER = "No User matches the given query."
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
USER_KEYS = {"username", "email", "first_name", "last_name", "is_superuser", "is_staff", "is_active",
             "last_login", "date_joined", "groups", "user_permissions"}



@pytest.fixture
def registration_mode() -> str:
    return "enabled"


@pytest.fixture
def settings(database_url, tmp_path, registration_mode) -> Settings:
    return Settings(data_dir=tmp_path, database_url=database_url, secret_key="test-secret",
                    router_enabled=False, scheduler_enabled=False, registration_mode=registration_mode)


def auth_of(token: str) -> dict[str, str]:
    return {"Authorization": f"token {token}"}


async def login(client, username: str, password: str = "secret"):
    return await client.post("/v2/auth/login/", json={"username": username, "password": password})


async def token_of(client, username: str, password: str = "secret") -> str:
    r = await login(client, username, password)
    assert r.status_code == 200, r.text
    return r.json()["token"]


# --- register ----------------------------------------------------------------------------------------


async def test_register_first_user_is_admin(client):
    r = await client.post("/v2/auth/register/", json={
        "username": "first", "password": "pw", "email": "first@example.com", "first_name": "Ada",
        "last_name": "Lovelace"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert set(body) == USER_KEYS
    assert {k: body[k] for k in USER_KEYS - {"last_login", "date_joined"}} == {
        "username": "first", "email": "first@example.com", "first_name": "Ada", "last_name": "Lovelace",
        "is_superuser": True, "is_staff": True, "is_active": True, "groups": [], "user_permissions": []}
    assert TIMESTAMP.match(body["date_joined"])
    assert TIMESTAMP.match(body["last_login"])


async def test_later_users_are_not_admins_even_if_they_ask(client, admin):
    r = await client.post("/v2/auth/register/", json={"username": "sneaky", "password": "pw",
                                                      "is_superuser": True, "is_staff": True})
    assert r.status_code == 201
    assert r.json()["is_superuser"] is False
    assert r.json()["is_staff"] is False
    assert r.json()["email"] == "" and r.json()["first_name"] == "" and r.json()["last_name"] == ""


async def test_first_registration_of_an_empty_platform_is_admin_again(client, admin, alice):
    """The first-user rule holds for an empty user table only: no registration takes over a platform whose
    administrators went away; once every user has cancelled, the next one is the first again."""
    assert (await client.delete("/v2/admin/perms/admin", headers=admin[1])).status_code == 409
    assert (await client.delete("/v2/auth/cancel/", headers=admin[1])).status_code == 409  # alice remains
    assert (await client.delete("/v2/auth/cancel/", headers=alice[1])).status_code == 204
    assert (await client.delete("/v2/auth/cancel/", headers=admin[1])).status_code == 204  # the last user
    r = await client.post("/v2/auth/register/", json={"username": "heir", "password": "pw"})
    assert r.json()["is_superuser"] is True
    r = await client.post("/v2/auth/register/", json={"username": "later", "password": "pw"})
    assert r.json()["is_superuser"] is False


@pytest.mark.parametrize(("payload", "expected"), [
    ({}, {"username": ["This field is required."], "password": ["This field is required."]}),
    ({"password": "pw"}, {"username": ["This field is required."]}),
    ({"username": "someone"}, {"password": ["This field is required."]}),
    ({"username": "", "password": ""}, {"username": ["This field may not be blank."],
                                        "password": ["This field may not be blank."]}),
    ({"username": "bad name", "password": "pw"}, {"username": [USERNAME_TEXT]}),
    ({"username": "bad/name", "password": "pw"}, {"username": [USERNAME_TEXT]}),
    ({"username": "x" * 151, "password": "pw"},
     {"username": ["Ensure this field has no more than 150 characters."]}),
    ({"username": "mail", "password": "pw", "email": "not-an-email"}, {"email": ["Enter a valid email address."]}),
    ({"username": "mail", "password": "pw", "email": "a@b"}, {"email": ["Enter a valid email address."]}),
])
async def test_register_field_errors(client, admin, payload, expected):
    r = await client.post("/v2/auth/register/", json=payload)
    assert r.status_code == 400, r.text
    assert r.json() == expected


async def test_register_accepts_sdk_username_characters_and_blank_email(client, admin):
    r = await client.post("/v2/auth/register/", json={"username": "a.b@c+d-e_f", "password": "pw", "email": ""})
    assert r.status_code == 201, r.text
    assert r.json()["username"] == "a.b@c+d-e_f"
    assert r.json()["email"] == ""
    assert (await login(client, "a.b@c+d-e_f", "pw")).status_code == 200


async def test_register_duplicate(client, alice):
    r = await client.post("/v2/auth/register/", json={"username": "alice", "password": "other"})
    assert r.status_code == 400
    assert r.json() == {"username": ["A user with that username already exists."]}
    assert r.content == b'{"username":["A user with that username already exists."]}'


async def test_register_with_invalid_token_is_anonymous(client, admin):
    r = await client.post("/v2/auth/register/", json={"username": "newbie", "password": "pw"},
                          headers=auth_of("0" * 40))
    assert r.status_code == 201
    assert r.json()["is_superuser"] is False


@pytest.mark.parametrize("registration_mode", ["admin_only"])
async def test_admin_only_registration(client):
    # while no admin exists, anyone may register (and becomes the admin)
    r = await client.post("/v2/auth/register/", json={"username": "boss", "password": "pw"})
    assert r.status_code == 201
    assert r.json()["is_superuser"] is True
    boss = auth_of(await token_of(client, "boss", "pw"))

    r = await client.post("/v2/auth/register/", json={"username": "anon", "password": "pw"})
    assert r.status_code == 403
    assert r.json() == FORBIDDEN

    r = await client.post("/v2/auth/register/", json={"username": "made", "password": "pw"}, headers=boss)
    assert r.status_code == 201
    assert r.json()["is_superuser"] is False
    made = auth_of(await token_of(client, "made", "pw"))

    r = await client.post("/v2/auth/register/", json={"username": "other", "password": "pw"}, headers=made)
    assert r.status_code == 403
    assert r.json() == FORBIDDEN

    # login still works for everyone
    assert (await login(client, "made", "pw")).status_code == 200


@pytest.mark.parametrize("registration_mode", ["disabled"])
async def test_disabled_registration(client):
    r = await client.post("/v2/auth/register/", json={"username": "first", "password": "pw"})
    assert r.status_code == 403
    assert r.json() == {"detail": "Registration is disabled"}
    r = await client.post("/v2/auth/login/", json={"username": "first", "password": "pw"})
    assert r.json() == BAD_CREDENTIALS


# --- login ---------------------------------------------------------------------------------------------


async def test_login_returns_the_same_token_every_time(client, admin):
    r1 = await login(client, "admin")
    r2 = await login(client, "admin")
    assert r1.status_code == r2.status_code == 200
    assert list(r1.json()) == ["token"]
    assert re.fullmatch(r"[0-9a-f]{40}", r1.json()["token"])
    assert r1.json() == r2.json()
    assert r1.json()["token"] == admin[1]["Authorization"].split()[1]


async def test_login_does_not_update_last_login(client, alice):
    before = (await client.get("/v2/auth/whoami/", headers=alice[1])).json()["last_login"]
    await login(client, "alice")
    after = (await client.get("/v2/auth/whoami/", headers=alice[1])).json()["last_login"]
    assert before == after


@pytest.mark.parametrize("payload", [
    {"username": "alice", "password": "wrong"},
    {"username": "ghost", "password": "secret"},
    {"username": "ALICE", "password": "secret"},
])
async def test_login_bad_credentials(client, alice, payload):
    r = await client.post("/v2/auth/login/", json=payload)
    assert r.status_code == 400
    assert r.json() == BAD_CREDENTIALS


async def test_login_inactive_user(client, alice, app):
    async with app.state.ctx.sessions() as session:
        await session.execute(update(User).where(User.username == "alice").values(is_active=False))
        await session.commit()
    r = await login(client, "alice")
    assert r.status_code == 400
    assert r.json() == BAD_CREDENTIALS


@pytest.mark.parametrize(("payload", "expected"), [
    ({}, {"username": ["This field is required."], "password": ["This field is required."]}),
    ({"username": "alice"}, {"password": ["This field is required."]}),
    ({"password": "secret"}, {"username": ["This field is required."]}),
    ({"username": "", "password": ""}, {"username": ["This field may not be blank."],
                                        "password": ["This field may not be blank."]}),
])
async def test_login_required_and_blank(client, alice, payload, expected):
    r = await client.post("/v2/auth/login/", json=payload)
    assert r.status_code == 400
    assert r.json() == expected


async def test_login_with_bad_authorization_header_is_401(client, alice):
    r = await client.post("/v2/auth/login/", json={"username": "alice", "password": "secret"},
                          headers=auth_of("0" * 40))
    assert r.status_code == 401
    assert r.json() == {"detail": "Invalid token."}
    # a valid header (or another scheme) does not matter
    r = await client.post("/v2/auth/login/", json={"username": "alice", "password": "secret"}, headers=alice[1])
    assert r.status_code == 200
    r = await client.post("/v2/auth/login/", json={"username": "alice", "password": "secret"},
                          headers={"Authorization": "Bearer x"})
    assert r.status_code == 200


# --- whoami --------------------------------------------------------------------------------------------


async def test_whoami_shape(client, admin):
    await client.post("/v2/auth/register/", json={"username": "wendy", "password": "pw", "email": "w@x.io",
                                                  "first_name": "Wendy", "last_name": "Who"})
    r = await client.get("/v2/auth/whoami/", headers=auth_of(await token_of(client, "wendy", "pw")))
    assert r.status_code == 200
    body = r.json()
    assert set(body) == USER_KEYS
    assert "id" not in body and "password" not in body
    assert body["username"] == "wendy" and body["email"] == "w@x.io"
    assert body["first_name"] == "Wendy" and body["last_name"] == "Who"
    assert body["is_superuser"] is False and body["is_staff"] is False and body["is_active"] is True
    assert body["groups"] == [] and body["user_permissions"] == []
    assert TIMESTAMP.match(body["date_joined"]) and TIMESTAMP.match(body["last_login"])

    r = await client.get("/v2/auth/whoami/", headers=admin[1])
    assert r.json()["username"] == "admin" and r.json()["is_superuser"] is True and r.json()["is_staff"] is True


# --- passwd --------------------------------------------------------------------------------------------


async def test_passwd_self(client, alice):
    r = await client.post("/v2/auth/passwd/", json={"password": "secret", "new_password": "fresh"},
                          headers=alice[1])
    assert r.status_code == 200
    assert r.json() == {"status": "password set"}
    assert (await login(client, "alice", "secret")).json() == BAD_CREDENTIALS
    assert (await login(client, "alice", "fresh")).status_code == 200
    # the token survives a password change
    assert (await client.get("/v2/auth/whoami/", headers=alice[1])).status_code == 200


async def test_passwd_errors(client, alice, bob):
    cases = [
        ({}, 400, {"detail": "new_password is a required field"}),
        ({"password": "secret"}, 400, {"detail": "new_password is a required field"}),
        ({"password": "secret", "new_password": ""}, 400, {"detail": "new_password is a required field"}),
        ({"new_password": "x"}, 400, {"detail": "password is a required field"}),
        ({"new_password": "x", "password": ""}, 400, {"detail": "password is a required field"}),
        ({"new_password": "x", "password": "wrong"}, 401, {"detail": "Current password does not match"}),
        ({"new_password": "x", "password": "secret", "username": "bob"}, 403, {"detail": FORBIDDEN["detail"]}),
        ({"new_password": "x", "password": "secret", "username": "ghost"}, 403, {"detail": FORBIDDEN["detail"]}),
    ]
    for payload, status, expected in cases:
        r = await client.post("/v2/auth/passwd/", json=payload, headers=alice[1])
        assert r.status_code == status, (payload, r.text)
        assert r.json() == expected, payload
    assert (await login(client, "alice")).status_code == 200
    assert (await login(client, "bob")).status_code == 200


async def test_passwd_naming_oneself_is_fine(client, alice):
    r = await client.post("/v2/auth/passwd/", json={"new_password": "n", "password": "secret", "username": "alice"},
                          headers=alice[1])
    assert r.status_code == 200
    assert (await login(client, "alice", "n")).status_code == 200


async def test_passwd_admin_for_another_user_without_password(client, admin, alice):
    r = await client.post("/v2/auth/passwd/", json={"new_password": "reset", "username": "alice"},
                          headers=admin[1])
    assert r.status_code == 200
    assert r.json() == {"status": "password set"}
    assert (await login(client, "alice", "reset")).status_code == 200
    assert (await login(client, "alice", "secret")).status_code == 400
    assert (await login(client, "admin", "secret")).status_code == 200

    r = await client.post("/v2/auth/passwd/", json={"new_password": "x", "username": "ghost"}, headers=admin[1])
    assert r.status_code == 404
    assert r.json() == NO_USER


# --- tokens --------------------------------------------------------------------------------------------


async def test_regenerate_own_token(client, alice):
    old = alice[1]
    r = await client.post("/v2/auth/tokens/", headers=old)
    assert r.status_code == 200
    new = r.json()["token"]
    assert list(r.json()) == ["token"]
    assert re.fullmatch(r"[0-9a-f]{40}", new)
    assert new != old["Authorization"].split()[1]
    r = await client.get("/v2/auth/whoami/", headers=old)
    assert r.status_code == 401
    assert r.json() == {"detail": "Invalid token."}
    assert (await client.get("/v2/auth/whoami/", headers=auth_of(new))).json()["username"] == "alice"
    assert await token_of(client, "alice") == new
    # naming oneself is the same
    r = await client.post("/v2/auth/tokens/", json={"username": "alice"}, headers=auth_of(new))
    assert r.status_code == 200
    assert r.json()["token"] != new


async def test_admin_regenerates_another_users_token(client, admin, alice):
    r = await client.post("/v2/auth/tokens/", json={"username": "alice"}, headers=admin[1])
    assert r.status_code == 200
    new = r.json()["token"]
    assert (await client.get("/v2/auth/whoami/", headers=alice[1])).status_code == 401
    assert (await client.get("/v2/auth/whoami/", headers=auth_of(new))).json()["username"] == "alice"
    assert (await client.get("/v2/auth/whoami/", headers=admin[1])).status_code == 200


@pytest.mark.parametrize("payload", [{"all": False}, {"all": None}])
async def test_all_false_or_null_regenerates_only_the_callers_token(client, admin, alice, payload):
    """Upstream took the key's presence for `all` (issue 18): false or null is one's own token only."""
    r = await client.post("/v2/auth/tokens/", json=payload, headers=admin[1])
    assert r.status_code == 200
    assert (await client.get("/v2/auth/whoami/", headers=admin[1])).status_code == 401
    assert (await client.get("/v2/auth/whoami/", headers=auth_of(r.json()["token"]))).status_code == 200
    assert (await client.get("/v2/auth/whoami/", headers=alice[1])).status_code == 200


async def test_admin_regenerates_all_tokens(client, admin, alice, bob):
    r = await client.post("/v2/auth/tokens/", json={"all": True}, headers=admin[1])
    assert r.status_code == 200
    assert r.content == b'""'
    assert r.json() == ""
    for old in (admin[1], alice[1], bob[1]):
        r = await client.get("/v2/auth/whoami/", headers=old)
        assert r.status_code == 401
        assert r.json() == {"detail": "Invalid token."}
    for name, old in (("admin", admin[1]), ("alice", alice[1]), ("bob", bob[1])):
        new = await token_of(client, name)
        assert new != old["Authorization"].split()[1]
        assert (await client.get("/v2/auth/whoami/", headers=auth_of(new))).json()["username"] == name


async def test_token_regeneration_permissions(client, alice, bob):
    for payload in ({"all": True}, {"username": "bob"}, {"username": "ghost"}):
        r = await client.post("/v2/auth/tokens/", json=payload, headers=alice[1])
        assert r.status_code == 403, payload
        assert r.json() == FORBIDDEN
    assert (await client.get("/v2/auth/whoami/", headers=bob[1])).status_code == 200
    assert (await client.get("/v2/auth/whoami/", headers=alice[1])).status_code == 200


async def test_token_regeneration_unknown_user(client, admin):
    r = await client.post("/v2/auth/tokens/", json={"username": "ghost"}, headers=admin[1])
    assert r.status_code == 404
    assert r.json() == NO_USER
    assert r.content == b'"No User matches the given query."'


# --- cancel --------------------------------------------------------------------------------------------


async def test_cancel_self(client, alice):
    r = await client.delete("/v2/auth/cancel/", headers=alice[1])
    assert r.status_code == 204
    assert r.content == b""
    r = await client.get("/v2/auth/whoami/", headers=alice[1])
    assert r.status_code == 401
    assert (await login(client, "alice")).json() == BAD_CREDENTIALS
    # the name is free again
    r = await client.post("/v2/auth/register/", json={"username": "alice", "password": "pw"})
    assert r.status_code == 201


async def test_cancel_naming_oneself(client, alice):
    r = await client.request("DELETE", "/v2/auth/cancel/", json={"username": "alice"}, headers=alice[1])
    assert r.status_code == 204
    assert (await login(client, "alice")).status_code == 400


async def test_admin_cancels_another_user(client, admin, alice):
    r = await client.request("DELETE", "/v2/auth/cancel/", json={"username": "alice"}, headers=admin[1])
    assert r.status_code == 204
    assert (await client.get("/v2/auth/whoami/", headers=alice[1])).status_code == 401
    assert (await client.get("/v2/auth/whoami/", headers=admin[1])).status_code == 200


async def test_non_admin_cannot_cancel_another_user(client, alice, bob):
    for name in ("bob", "ghost"):
        r = await client.request("DELETE", "/v2/auth/cancel/", json={"username": name}, headers=alice[1])
        assert r.status_code == 403
        assert r.json() == FORBIDDEN
    assert (await client.get("/v2/auth/whoami/", headers=bob[1])).status_code == 200


async def test_cancel_unknown_user(client, admin):
    r = await client.request("DELETE", "/v2/auth/cancel/", json={"username": "ghost"}, headers=admin[1])
    assert r.status_code == 404
    assert r.json() == NO_USER


async def test_cancel_while_owning_apps_is_409(client, admin, alice):
    assert (await client.post("/v2/apps/", json={"id": "kept"}, headers=alice[1])).status_code == 201
    expected = {"detail": "alice still has applications assigned. Delete or transfer ownership"}
    r = await client.delete("/v2/auth/cancel/", headers=alice[1])
    assert r.status_code == 409
    assert r.json() == expected
    r = await client.request("DELETE", "/v2/auth/cancel/", json={"username": "alice"}, headers=admin[1])
    assert r.status_code == 409
    assert r.json() == expected
    assert (await client.get("/v2/auth/whoami/", headers=alice[1])).status_code == 200
    # after destroying the app it works
    assert (await client.delete("/v2/apps/kept/", headers=alice[1])).status_code == 204
    assert (await client.delete("/v2/auth/cancel/", headers=alice[1])).status_code == 204


async def test_cancel_removes_collaborations(client, app, alice, bob):
    """A later user who takes the cancelled name must not inherit the old user's app access."""
    assert (await client.post("/v2/apps/", json={"id": "shared"}, headers=alice[1])).status_code == 201
    async with app.state.ctx.sessions() as session:
        session.add(AppPermission(app_id="shared", username="bob"))
        await session.commit()
    assert (await client.get("/v2/apps/shared/", headers=bob[1])).status_code == 200
    assert (await client.delete("/v2/auth/cancel/", headers=bob[1])).status_code == 204
    _, new_bob = await register(client, "bob")
    assert (await client.get("/v2/apps/shared/", headers=new_bob)).status_code == 403
    assert (await client.get("/v2/apps/", headers=new_bob)).json()["count"] == 0


async def test_cancel_while_owning_rows_in_other_apps_is_409(client, app, alice, bob):
    """Upstream protects builds, configs, releases … from their owner's deletion (ProtectedError → 409)."""
    assert (await client.post("/v2/apps/", json={"id": "theirs"}, headers=alice[1])).status_code == 201
    async with app.state.ctx.sessions() as session:
        session.add(AppPermission(app_id="theirs", username="bob"))
        session.add(Config(app_id="theirs", owner="bob"))
        await session.commit()
    r = await client.delete("/v2/auth/cancel/", headers=bob[1])
    assert r.status_code == 409
    assert r.json() == {"detail": "bob still owns objects (configs) and cannot be deleted"}
    assert (await client.get("/v2/auth/whoami/", headers=bob[1])).status_code == 200


async def test_cancel_removes_ssh_keys(client, app, alice):
    async with app.state.ctx.sessions() as session:
        session.add(Key(id="alice@laptop", owner="alice", public="ssh-ed25519 AAAAC3Nz alice", fingerprint="00"))
        await session.commit()
    assert (await client.delete("/v2/auth/cancel/", headers=alice[1])).status_code == 204
    async with app.state.ctx.sessions() as session:
        assert (await session.scalars(select(Key))).all() == []


# --- nothing in clear ----------------------------------------------------------------------------------


async def test_passwords_and_tokens_are_not_stored_in_clear(client, app, admin):
    secret_password = "correct horse battery staple"
    name, auth = await register(client, "careful", password=secret_password)
    token = auth["Authorization"].split()[1]
    async with app.state.ctx.sessions() as session:
        user = await session.scalar(select(User).where(User.username == "careful"))
        stored = await session.scalar(select(Token).where(Token.user_id == user.id))
        apps = (await session.scalars(select(App))).all()
    assert apps == []
    assert user.password != secret_password
    assert secret_password not in user.password
    assert user.password.startswith("$argon2")
    assert stored is not None
    assert token not in (stored.digest, stored.encrypted)
    assert token not in stored.encrypted and token not in stored.digest
    assert len(stored.digest) == 64
