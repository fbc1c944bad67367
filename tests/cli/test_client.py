"""The HTTP layer: SDK error texts, API version warning, request shape; profile file rules; meta commands."""

from __future__ import annotations

import io
import json

import httpx
import pytest

from cli import output
from cli import profile as profiles
from cli.client import api_version_mismatch, error_message
from tests.cli.conftest import CONTROLLER, TOKEN, page, reply

USERNAME_TEXT = "Enter a valid username. This value may contain only letters, numbers and @/./+/-/_ characters."


@pytest.mark.parametrize(
    ("status", "body", "text"),
    [
        (400, {"username": ["This field may not be blank."]}, USERNAME_TEXT),
        (400, {"username": [USERNAME_TEXT]}, USERNAME_TEXT),
        (400, {"username": ["A user with that username already exists."]}, "A user with that username already exists."),
        (400, {"password": ["This field may not be blank."]}, "A Password is required"),
        (
            400,
            {"non_field_errors": ["Unable to log in with provided credentials."]},
            "Unable to log in with provided credentials.",
        ),
        (400, {"id": ["Application with this id already exists."]}, "Application with this id already exists."),
        (400, {"public": ["This field may not be blank."]}, "A key is required"),
        (400, {"key": ["This field may not be blank."]}, "A key is required"),
        (400, {"certificate": ["Could not load certificate: [('PEM routines', ...)]"]}, "Could not load certificate"),
        (
            400,
            {"name": ["Can only contain a-z (lowercase), 0-9 and hyphens"]},
            "Name can only contain a-z (lowercase), 0-9 and hyphens",
        ),
        (400, {"domain": ["Hostname does not look valid."]}, "Hostname does not look valid."),
        (400, {"image": ["This field may not be blank."]}, "The given image is invalid"),
        (400, {"id": ["This field may not be blank."]}, "An id is required"),
        (400, {"email": ["Enter a valid email address."]}, "Enter a valid email address."),
        (400, {"detail": "version cannot be below 0"}, "The given version is invalid"),
        (400, {"detail": "No nodes matched the provided labels: a=b"}, "No nodes matched the provided labels"),
        (400, {"detail": "multi\\nline"}, 'Unknown Error (400): {"detail":"multi\nline"}'),
        (401, {"detail": "Invalid token."}, "Unauthorized: Missing or Invalid Token"),
        (403, {"detail": "Registration is disabled"}, "You do not have permission to perform this action."),
        (404, "No App matches the given query.", '"No App matches the given query."'),
        (
            404,
            {"detail": "Container type x does not exist in application"},
            '{"detail":"Container type x does not exist in application"}',
        ),
        (405, {"detail": 'Method "PUT" not allowed.'}, "Method Not Allowed"),
        (
            409,
            {"detail": "bob still has applications assigned. Delete or transfer ownership"},
            "Failed to delete user because the user still has applications assigned. Delete or transfer ownership.",
        ),
        (409, {"detail": "x"}, 'Unknown Error (409): {"detail":"x"}'),
        (
            422,
            {"detail": "FOO does not exist under values"},
            "Unable to process your request: FOO does not exist under values",
        ),
        (500, {"detail": "Server Error"}, "Internal Server Error"),
        (
            503,
            {"detail": "Service temporarily unavailable, try again later."},
            'Unknown Error (503): {"detail":"Service temporarily unavailable, try again later."}',
        ),
    ],
)
def test_error_message(status, body, text):
    raw = json.dumps(body, separators=(",", ":"), ensure_ascii=False).replace("\\\\n", "\\n")
    assert error_message(status, raw) == text


def test_error_message_not_json():
    text = error_message(400, "<html>")
    assert text.startswith("Unknown Error (400): error decoding json response (")
    assert text.endswith("): <html>")
    assert error_message(404, "") == "Not Found"


@pytest.mark.parametrize(
    ("server", "mismatch"),
    [("2.3", False), ("2.4", False), ("2.10", True), ("2.2", True), ("3.3", True), ("2", True), (None, True)],
)
def test_api_version_rule(server, mismatch):
    assert api_version_mismatch(server) is mismatch


def test_api_version_warning_once(deis, profile, api):
    api.get("/v2/apps/").mock(return_value=httpx.Response(200, json=page([]), headers={"DEIS_API_VERSION": "2.2"}))
    result = deis("apps")
    assert result.exit_code == 0
    assert result.stdout == "=== Apps\n"
    assert result.stderr == (
        "!    WARNING: Client and server API versions do not match. Please consider upgrading.\n"
        "!    Client version: 2.3\n"
        "!    Server version: 2.2\n"
    )


def test_request_shape(deis, profile, api):
    route = api.get("/v2/apps/").mock(return_value=reply(200, page([])))
    deis("apps")
    request = route.calls[0].request
    assert request.headers["Authorization"] == f"token {TOKEN}"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["User-Agent"].startswith("Deis Client v")
    assert str(request.url) == f"{CONTROLLER}/v2/apps/?limit=100"


def test_response_limit_from_profile(deis, profile, api):
    data = json.loads(profile.read_text())
    profile.write_text(json.dumps({**data, "response_limit": 5}))
    route = api.get("/v2/apps/").mock(return_value=reply(200, page([])))
    deis("apps")
    assert route.calls[0].request.url.params["limit"] == "5"
    profile.write_text(json.dumps({**data, "response_limit": 0}))
    deis("apps")
    assert route.calls[1].request.url.params["limit"] == "100"


def test_unauthorized(deis, profile, api):
    api.get("/v2/apps/myapp/pods/").mock(return_value=reply(401, {"detail": "Invalid token."}))
    result = deis("ps")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == "Error: Unauthorized: Missing or Invalid Token\n"


def test_connection_refused(deis, profile, api):
    api.get("/v2/apps/").mock(side_effect=httpx.ConnectError("[Errno 111] Connection refused"))
    result = deis("apps")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: could not reach the controller at {CONTROLLER}: ")


def test_bad_controller_url(deis, home):
    result = deis("login", "http://", "--username", "u", "--password", "p")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ")


def test_app_defaults_to_lowercased_cwd(deis, profile, api, tmp_path, monkeypatch):
    upper = tmp_path / "MyService"
    upper.mkdir()
    monkeypatch.chdir(upper)
    route = api.get("/v2/apps/myservice/pods/").mock(return_value=reply(200, {"count": 0, "results": []}))
    assert deis("ps").stdout == "=== myservice Processes\n"
    assert route.called


class TestProfilePaths:
    def test_precedence(self, home, monkeypatch):
        assert profiles.profile_path() == str(home / ".deis" / "client.json")
        monkeypatch.setenv("DEIS_PROFILE", "env")
        assert profiles.profile_path() == str(home / ".deis" / "env.json")
        monkeypatch.setattr(profiles, "config_option", "flag")
        assert profiles.profile_path() == str(home / ".deis" / "flag.json")
        monkeypatch.setattr(profiles, "config_option", "./x/prod.json")
        assert profiles.profile_path() == "./x/prod.json"
        monkeypatch.setattr(profiles, "config_option", "prod.json")
        assert profiles.profile_path() == str(home / ".deis" / "prod.json.json")

    @pytest.mark.parametrize(
        ("given", "stored"),
        [
            ("deis.Example.COM", "http://deis.example.com"),
            ("http://deis.example.com/", "http://deis.example.com"),
            ("https://Deis.example.com:8443", "https://deis.example.com:8443"),
            ("localhost:8000", "http://localhost:8000"),
            ("http://deis.example.com/some/prefix", "http://deis.example.com"),
        ],
    )
    def test_normalize(self, given, stored):
        assert profiles.normalize_controller(given) == stored


def test_version(deis):
    result = deis("version")
    assert result.exit_code == 0
    assert result.stdout == "2.3.0\n"
    assert deis("--version").stdout == "2.3.0\n"


def test_version_all(deis, profile, api):
    api.get("/healthz").mock(return_value=reply(200, text="OK"))
    assert deis("version", "--all").stdout == (
        "Workflow CLI Version:            2.3.0\n"
        "Workflow CLI API Version:        2.3\n"
        "Workflow Controller API Version: 2.3\n"
    )


def test_help(deis, monkeypatch):
    result = deis("help")
    assert result.exit_code == 0
    assert "Subcommands, use 'deis help [subcommand]' to learn more::" in result.stdout
    result = deis("help", "ps:scale")
    assert result.exit_code == 0
    assert "Scales an application's processes" in result.stdout
    monkeypatch.setenv("PATH", "/nonexistent")
    result = deis("help", "nope")
    assert result.exit_code == 1
    assert result.stderr == "Found no matching command, try 'deis help'\nUsage: deis <command> [<args>...]\n"


def test_shortcuts_are_registered(deis):
    for name in (
        "create",
        "apps",
        "info",
        "pull",
        "scale",
        "ps",
        "releases",
        "rollback",
        "config",
        "logs",
        "run",
        "destroy",
        "open",
        "login",
        "logout",
        "register",
        "whoami",
        "sharing:add",
    ):
        assert deis(name, "--help").exit_code == 0, name


def test_spinner_on_a_tty(monkeypatch):
    buffer = io.StringIO()
    monkeypatch.setattr(output.sys, "stdout", buffer)
    monkeypatch.setattr(output, "stdout_is_tty", lambda: True)
    import time

    with output.spinner(interval=0.01):
        time.sleep(0.05)
    text = buffer.getvalue()
    assert text.startswith("...\b\b\bo..\b\b\b")
    assert text.endswith("\b\b\b")


def test_no_spinner_when_piped(monkeypatch):
    buffer = io.StringIO()
    monkeypatch.setattr(output.sys, "stdout", buffer)
    with output.spinner(interval=0.01):
        pass
    assert buffer.getvalue() == ""


def test_shortcuts_list(deis):
    result = deis("shortcuts")
    assert result.exit_code == 0
    assert "create -> apps:create\n" in result.stdout
    assert "pull -> builds:create\n" in result.stdout
    assert "scale -> ps:scale\n" in result.stdout
    assert result.stdout.endswith("\n\n")


def test_malformed_answer(deis, profile, api):
    api.get("/v2/apps/myapp/").mock(return_value=reply(200, text="not json"))
    result = deis("info")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: unexpected answer from the controller: ")


def test_commands_import_only_what_they_need():
    """Start-up time is imports: no command module pulls in httpx, typer, pydantic, rich, the server, or (for
    a plain request) `ssl`'s context or threads. Run in a fresh interpreter: this process has them all."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from cli import main, usage\n"
        "from cli.commands import _common\n"
        "import cli.commands.ps, cli.commands.apps, cli.commands.builds, cli.commands.config, cli.commands.releases\n"
        "usage.topic('ps')\n"
        "heavy = ('httpx', 'typer', 'pydantic', 'rich', 'click', 'workflow', 'dataclasses', 'typing', 'threading',"
        " 'certifi', 'yaml')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout == "[]\n", done.stdout
