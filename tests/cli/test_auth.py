"""auth:* — register, login, logout, whoami, passwd, regenerate, cancel."""

from __future__ import annotations

import json
import os
import stat

import httpx

from cli import output
from tests.cli.conftest import CONTROLLER, TOKEN, assert_auth, reply, sent_json

NEW_TOKEN = "f" * 40


class TestRegister:
    def test_register_then_login_writes_profile(self, deis, home, api):
        check = api.get("/v2/").mock(
            return_value=reply(401, {"detail": "Authentication credentials were not provided."})
        )
        reg = api.post("/v2/auth/register/").mock(return_value=reply(201, {"username": "bob"}))
        login = api.post("/v2/auth/login/").mock(return_value=reply(200, {"token": TOKEN}))

        result = deis("register", "deis.Example.com", "--username", "bob", "--password", "pw", "--email", "b@x.io")

        assert result.exit_code == 0, result.output
        path = home / ".deis" / "client.json"
        assert result.stdout == (f"Registered bob\nLogged in as bob\nConfiguration file written to {path}\n")
        assert check.call_count == 2
        assert "Authorization" not in check.calls[0].request.headers
        assert sent_json(reg.calls[0].request) == {"username": "bob", "password": "pw", "email": "b@x.io"}
        assert sent_json(login.calls[0].request) == {"username": "bob", "password": "pw"}
        assert json.loads(path.read_text()) == {
            "username": "bob",
            "ssl_verify": True,
            "controller": CONTROLLER,
            "token": TOKEN,
            "response_limit": 100,
        }
        assert path.read_text().startswith('{"username":"bob","ssl_verify":true,')
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700

    def test_not_a_controller(self, deis, api):
        api.get("/v2/").mock(return_value=reply(200, {}))
        result = deis("register", CONTROLLER, "--username", "bob", "--password", "pw", "--email", "e@x.io")
        assert result.exit_code == 1
        assert result.stderr == (
            f"Error: {CONTROLLER} does not appear to be a valid Deis controller.\n"
            "Make sure that the Controller URI is correct, the server is running and\n"
            "your deis version is correct.\n"
        )

    def test_register_failure_prefix(self, deis, api):
        api.get("/v2/").mock(return_value=reply(401))
        api.post("/v2/auth/register/").mock(
            return_value=reply(400, {"username": ["A user with that username already exists."]})
        )
        result = deis("register", CONTROLLER, "--username", "bob", "--password", "pw", "--email", "e@x.io")
        assert result.exit_code == 1
        assert result.stderr == "Registration failed: Error: A user with that username already exists.\n"

    def test_admin_registering_sends_own_token(self, deis, profile, api):
        api.get("/v2/").mock(return_value=reply(401))
        reg = api.post("/v2/auth/register/").mock(return_value=reply(201, {"username": "carol"}))
        result = deis(
            "register", CONTROLLER, "--username", "carol", "--password", "pw", "--email", "c@x.io", "--login=false"
        )
        assert result.exit_code == 0, result.output
        assert result.stdout == "Registered carol\n"
        assert reg.calls[0].request.headers["Authorization"] == f"token {TOKEN}"

    def test_missing_username_without_tty(self, deis, api):
        api.get("/v2/").mock(return_value=reply(401))
        result = deis("register", CONTROLLER, "--password", "pw", "--email", "e@x.io")
        assert result.exit_code == 1
        assert result.stderr == "Error: --username is required when stdin is not a terminal\n"


class TestLogin:
    def test_login(self, deis, home, api):
        api.get("/v2/").mock(return_value=reply(401))
        login = api.post("/v2/auth/login/").mock(return_value=reply(200, {"token": TOKEN}))
        result = deis("login", "http://deis.example.com/", "--username", "bob", "--password", "pw")
        assert result.exit_code == 0, result.output
        path = home / ".deis" / "client.json"
        assert result.stdout == f"Logged in as bob\nConfiguration file written to {path}\n"
        assert "Authorization" not in login.calls[0].request.headers
        assert json.loads(path.read_text())["controller"] == CONTROLLER

    def test_bad_credentials(self, deis, api):
        api.get("/v2/").mock(return_value=reply(401))
        api.post("/v2/auth/login/").mock(
            return_value=reply(400, {"non_field_errors": ["Unable to log in with provided credentials."]})
        )
        result = deis("login", CONTROLLER, "--username", "bob", "--password", "nope")
        assert result.exit_code == 1
        assert result.stderr == "Error: Unable to log in with provided credentials.\n"

    def test_prompts_on_a_tty(self, deis, api, monkeypatch):
        monkeypatch.setattr(output, "stdin_is_tty", lambda: True)
        monkeypatch.setattr("getpass.getpass", lambda prompt="": "pw")
        api.get("/v2/").mock(return_value=reply(401))
        login = api.post("/v2/auth/login/").mock(return_value=reply(200, {"token": TOKEN}))
        result = deis("login", CONTROLLER, input="bob\n")
        assert result.exit_code == 0, result.output
        assert result.stdout.startswith("username: password: \nLogged in as bob\n")
        assert sent_json(login.calls[0].request) == {"username": "bob", "password": "pw"}

    def test_connection_refused(self, deis, api):
        api.get("/v2/").mock(side_effect=httpx.ConnectError("[Errno 111] Connection refused"))
        result = deis("login", CONTROLLER, "--username", "bob", "--password", "pw")
        assert result.exit_code == 1
        assert result.stderr == (
            f"Error: could not reach the controller at {CONTROLLER}: [Errno 111] Connection refused\n"
            "Make sure that the Controller URI is correct and the server is running.\n"
        )

    def test_profile_flag_and_env(self, deis, home, api, monkeypatch):
        api.get("/v2/").mock(return_value=reply(401))
        api.post("/v2/auth/login/").mock(return_value=reply(200, {"token": TOKEN}))
        monkeypatch.setenv("DEIS_PROFILE", "envprof")
        result = deis("login", CONTROLLER, "--username", "bob", "--password", "pw")
        assert (home / ".deis" / "envprof.json").exists(), result.output
        result = deis("-c", "other", "login", CONTROLLER, "--username", "bob", "--password", "pw")
        assert (home / ".deis" / "other.json").exists(), result.output
        target = home / "custom" / "p.json"
        result = deis("--config", str(target), "login", CONTROLLER, "--username", "bob", "--password", "pw")
        assert result.exit_code == 0, result.output
        assert target.exists()


def test_logout(deis, profile):
    result = deis("logout")
    assert result.exit_code == 0
    assert result.stdout == "Logged out\n"
    assert not profile.exists()


def test_not_logged_in(deis, home):
    result = deis("whoami")
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: Client configuration file not found at: {home / '.deis' / 'client.json'}\n"
        "Are you logged in? Use 'deis login' or 'deis register' to get started.\n"
    )


class TestWhoami:
    def test_plain(self, deis, profile):
        result = deis("whoami")
        assert result.stdout == f"You are bob at {CONTROLLER}\n"

    def test_all(self, deis, profile, api):
        route = api.get("/v2/auth/whoami/").mock(
            return_value=reply(
                200,
                {
                    "username": "bob",
                    "email": "b@x.io",
                    "first_name": "",
                    "last_name": "",
                    "is_superuser": True,
                    "is_staff": True,
                    "is_active": True,
                    "last_login": "2018-03-01T09:50:13Z",
                    "date_joined": "2018-03-01T09:50:13Z",
                    "groups": [],
                    "user_permissions": [],
                },
            )
        )
        result = deis("whoami", "--all")
        assert result.exit_code == 0, result.output
        assert_auth(route.calls[0].request)
        assert result.stdout == (
            "ID: 0\nUsername: bob\nEmail: b@x.io\nFirst Name: \nLast Name: \n"
            "Last Login: 2018-03-01T09:50:13Z\nIs Superuser: true\nIs Staff: true\nIs Active: true\n"
            "Date Joined: 2018-03-01T09:50:13Z\n"
        )


class TestPasswd:
    def test_change(self, deis, profile, api):
        route = api.post("/v2/auth/passwd/").mock(return_value=reply(200, {"status": "password set"}))
        result = deis("auth:passwd", "--password", "old", "--new-password", "new")
        assert result.exit_code == 0, result.output
        assert result.stdout == "Password change succeeded.\n"
        assert sent_json(route.calls[0].request) == {"new_password": "new", "password": "old"}
        assert_auth(route.calls[0].request)

    def test_admin_for_other_user(self, deis, profile, api):
        route = api.post("/v2/auth/passwd/").mock(return_value=reply(200, {"status": "password set"}))
        result = deis("passwd", "--username", "carol", "--new-password", "new")
        assert result.exit_code == 0, result.output
        assert sent_json(route.calls[0].request) == {"new_password": "new", "username": "carol"}

    def test_wrong_password(self, deis, profile, api):
        api.post("/v2/auth/passwd/").mock(return_value=reply(401, {"detail": "Current password does not match"}))
        result = deis("auth:passwd", "--password", "bad", "--new-password", "new")
        assert result.exit_code == 1
        assert result.stderr == "Password change failed: Error: Unauthorized: Missing or Invalid Token\n"


class TestRegenerate:
    def test_own_token_is_saved(self, deis, profile, api):
        route = api.post("/v2/auth/tokens/").mock(return_value=reply(200, {"token": NEW_TOKEN}))
        result = deis("auth:regenerate")
        assert result.exit_code == 0, result.output
        assert result.stdout == "Token Regenerated\n"
        assert route.calls[0].request.content == b""
        assert json.loads(profile.read_text())["token"] == NEW_TOKEN

    def test_other_user(self, deis, profile, api):
        route = api.post("/v2/auth/tokens/").mock(return_value=reply(200, {"token": NEW_TOKEN}))
        result = deis("auth:regenerate", "-u", "carol")
        assert result.exit_code == 0
        assert sent_json(route.calls[0].request) == {"username": "carol"}
        assert json.loads(profile.read_text())["token"] == TOKEN

    def test_all(self, deis, profile, api):
        route = api.post("/v2/auth/tokens/").mock(return_value=reply(200, text='""'))
        result = deis("auth:regenerate", "--all")
        assert result.exit_code == 0
        assert sent_json(route.calls[0].request) == {"all": True}


class TestCancel:
    """`cmd/auth.go Cancel`: without a username, or with a password, it logs in again first."""

    def login_routes(self, api):
        api.get("/v2/").mock(return_value=reply(401))
        return api.post("/v2/auth/login/").mock(return_value=reply(200, {"token": NEW_TOKEN}))

    def test_ci_teardown_logs_in_then_cancels(self, deis, profile, api):
        login = self.login_routes(api)
        route = api.delete("/v2/auth/cancel/").mock(return_value=reply(204))
        result = deis("auth:cancel", "--username=carol", "--password=pw", "--yes")
        assert result.exit_code == 0, result.output
        assert result.stdout == (
            "Please log in again in order to cancel this account\n"
            f"Logged in as carol\nConfiguration file written to {profile}\n"
            "Account cancelled\n"
        )
        assert sent_json(login.calls[0].request) == {"username": "carol", "password": "pw"}
        assert sent_json(route.calls[0].request) == {"username": "carol"}
        assert route.calls[0].request.headers["Authorization"] == f"token {NEW_TOKEN}"
        assert not profile.exists()  # carol cancelled herself: logged out

    def test_other_user_keeps_profile(self, deis, profile, api):
        route = api.delete("/v2/auth/cancel/").mock(return_value=reply(204))
        result = deis("auth:cancel", "--username", "carol", "--yes")
        assert result.exit_code == 0
        assert result.stdout == "Account cancelled\n"
        assert sent_json(route.calls[0].request) == {"username": "carol"}
        assert_auth(route.calls[0].request)
        assert profile.exists()

    def test_still_owns_apps(self, deis, profile, api):
        api.delete("/v2/auth/cancel/").mock(
            return_value=reply(409, {"detail": "bob still has applications assigned. Delete or transfer ownership"})
        )
        result = deis("auth:cancel", "--username", "bob", "--yes")
        assert result.exit_code == 1
        assert result.stderr == (
            "Error: Failed to delete user because the user still has applications assigned. "
            "Delete or transfer ownership.\n"
        )
        assert profile.exists()

    def test_prompt_declined(self, deis, profile, monkeypatch):
        monkeypatch.setattr(output, "stdin_is_tty", lambda: True)
        result = deis("auth:cancel", "--username", "bob", input="n\n")
        assert result.exit_code == 0
        assert result.stdout == f"cancel account bob at {CONTROLLER}? (y/N): "
        assert result.stderr == "Account not changed\n"

    def test_without_username_asks_to_log_in_again(self, deis, profile, api):
        api.get("/v2/").mock(return_value=reply(401))
        result = deis("auth:cancel", "--yes")
        assert result.exit_code == 1
        assert result.stdout == "Please log in again in order to cancel this account\n"
        assert result.stderr == "Error: --username is required when stdin is not a terminal\n"
        assert profile.exists()

    def test_needs_yes_without_tty(self, deis, profile):
        result = deis("auth:cancel", "--username", "bob")
        assert result.exit_code == 1
        assert result.stderr == "Error: --yes is required when stdin is not a terminal\n"
