"""apps:* — create, list, info, open, logs, run, destroy, transfer."""

from __future__ import annotations

import time

import httpx

from cli import output
from tests.cli.conftest import assert_auth, page, reply, sent_json

APP = {
    "uuid": "0f5c8e4e-1111-4222-8333-444455556666",
    "id": "myapp",
    "owner": "bob",
    "structure": {"cmd": 1},
    "created": "2018-03-01T09:50:00Z",
    "updated": "2018-03-01T09:51:00Z",
}
POD = {
    "name": "myapp-cmd-1234567890-ab3de",
    "state": "up",
    "type": "cmd",
    "release": "v2",
    "started": "2018-03-01T09:51:00Z",
}


class TestCreate:
    def test_named(self, deis, profile, api):
        route = api.post("/v2/apps/").mock(return_value=reply(201, {**APP, "id": "foo"}))
        result = deis("create", "foo", "--no-remote")
        assert result.exit_code == 0, result.output
        assert result.stdout == (
            "Creating Application... done, created foo\n"
            "If you want to add a git remote for this app later, use `deis git:remote -a foo`\n"
        )
        assert sent_json(route.calls[0].request) == {"id": "foo"}
        assert_auth(route.calls[0].request)

    def test_generated_name_sends_empty_body(self, deis, profile, api):
        route = api.post("/v2/apps/").mock(return_value=reply(201, {**APP, "id": "happy-hippo"}))
        result = deis("apps:create")
        assert result.exit_code == 0, result.output
        assert route.calls[0].request.content == b""
        assert "done, created happy-hippo\n" in result.stdout

    def test_duplicate(self, deis, profile, api):
        api.post("/v2/apps/").mock(return_value=reply(400, {"id": ["Application with this id already exists."]}))
        result = deis("create", "foo")
        assert result.exit_code == 1
        assert result.stdout == "Creating Application... "
        assert result.stderr == "Error: Application with this id already exists.\n"


class TestList:
    def test_list(self, deis, profile, api):
        route = api.get("/v2/apps/").mock(return_value=reply(200, page([{**APP, "id": "a"}, {**APP, "id": "b"}])))
        result = deis("apps")
        assert result.exit_code == 0, result.output
        assert result.stdout == "=== Apps\na\nb\n"
        assert str(route.calls[0].request.url).endswith("/v2/apps/?limit=100")
        assert_auth(route.calls[0].request)

    def test_partial_page_and_limit(self, deis, profile, api):
        route = api.get("/v2/apps/").mock(return_value=reply(200, page([{**APP, "id": "a"}], count=3)))
        result = deis("apps:list", "-l", "1")
        assert result.stdout == "=== Apps (1 of 3)\na\n"
        assert route.calls[0].request.url.params["limit"] == "1"

    def test_json(self, deis, profile, api):
        body = page([{**APP, "id": "a"}])
        api.get("/v2/apps/").mock(return_value=reply(200, body))
        result = deis("apps", "--json")
        assert result.exit_code == 0
        import json

        assert json.loads(result.stdout) == body


class TestInfo:
    def test_info(self, deis, profile, api):
        api.get("/v2/apps/myapp/").mock(return_value=reply(200, APP))
        domains = api.get("/v2/apps/myapp/domains/").mock(
            side_effect=[
                reply(200, page([{"domain": "myapp"}])),
                reply(200, page([{"domain": "myapp"}, {"domain": "www.example.org"}])),
            ]
        )
        api.get("/v2/apps/myapp/pods/").mock(return_value=reply(200, {"count": 1, "results": [POD]}))
        api.get("/v2/apps/myapp/settings/").mock(return_value=reply(200, {"label": {}}))
        result = deis("info")
        assert result.exit_code == 0, result.output
        assert result.stdout == (
            "=== myapp Application\n"
            "updated:  2018-03-01T09:51:00Z\n"
            "uuid:     0f5c8e4e-1111-4222-8333-444455556666\n"
            "created:  2018-03-01T09:50:00Z\n"
            "url:      myapp.example.com\n"
            "owner:    bob\n"
            "id:       myapp\n"
            "\n"
            "=== myapp Processes\n"
            "--- cmd:\n"
            "myapp-cmd-1234567890-ab3de up (v2)\n"
            "\n"
            "=== myapp Domains\n"
            "myapp\n"
            "www.example.org\n"
            "\n"
            "=== myapp Label\n"
            "No labels found.\n"
            "\n"
        )
        assert domains.calls[0].request.url.params["limit"] == "1"

    def test_info_no_domain_and_labels(self, deis, profile, api):
        api.get("/v2/apps/other/").mock(return_value=reply(200, {**APP, "id": "other"}))
        api.get("/v2/apps/other/domains/").mock(return_value=reply(200, page([])))
        api.get("/v2/apps/other/pods/").mock(return_value=reply(200, {"count": 0, "results": []}))
        api.get("/v2/apps/other/settings/").mock(
            return_value=reply(200, {"label": {"team": "frontend", "git_repo": "https://x/y"}})
        )
        result = deis("apps:info", "-a", "other")
        assert result.exit_code == 0, result.output
        assert "url:      No domain assigned to other\n" in result.stdout
        assert result.stdout.endswith("=== other Label\ngit_repo:      https://x/y\nteam:          frontend\n\n")

    def test_missing_app_prints_quoted_body(self, deis, profile, api):
        api.get("/v2/apps/myapp/").mock(return_value=reply(404, "No App matches the given query."))
        result = deis("info")
        assert result.exit_code == 1
        assert result.stderr == 'Error: "No App matches the given query."\n'


def test_open_runs_the_opener(deis, profile, api, tmp_path, monkeypatch):
    """`pkg/webbrowser`: xdg-open (from PATH) gets the URL; nothing is printed."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    seen = tmp_path / "opened"
    opener = bin_dir / "xdg-open"
    opener.write_text(f'#!/bin/sh\necho "$@" > {seen}\n')
    opener.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setattr("cli.commands.apps.sys.platform", "linux")
    api.get("/v2/apps/myapp/domains/").mock(return_value=reply(200, page([{"domain": "myapp"}])))
    result = deis("open")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    for _ in range(100):
        if seen.exists() and seen.read_text():
            break
        time.sleep(0.05)
    assert seen.read_text() == "http://myapp.example.com\n"


def test_open_on_macos_runs_open(deis, profile, api, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr("cli.commands.apps.sys.platform", "darwin")
    api.get("/v2/apps/myapp/domains/").mock(return_value=reply(200, page([{"domain": "myapp.io"}])))
    assert deis("open").stderr == 'Error: exec: "open": executable file not found in $PATH\n'


def test_open_without_an_opener(deis, profile, api, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr("cli.commands.apps.sys.platform", "linux")
    api.get("/v2/apps/myapp/domains/").mock(return_value=reply(200, page([{"domain": "myapp.io"}])))
    result = deis("open")
    assert result.exit_code == 1
    assert result.stderr == 'Error: exec: "xdg-open": executable file not found in $PATH\n'


class TestLogs:
    def test_logs(self, deis, profile, api):
        route = api.get("/v2/apps/myapp/logs").mock(
            return_value=reply(200, text="2018 myapp[cmd.ab3de]: one\n2018 myapp[cmd.ab3de]: two\n")
        )
        result = deis("logs", "-n", "2")
        assert result.exit_code == 0, result.output
        assert result.stdout == "2018 myapp[cmd.ab3de]: one\n2018 myapp[cmd.ab3de]: two\n"
        assert str(route.calls[0].request.url).endswith("/v2/apps/myapp/logs?log_lines=2")
        assert_auth(route.calls[0].request)

    def test_no_lines_param_by_default(self, deis, profile, api):
        route = api.get("/v2/apps/myapp/logs").mock(return_value=reply(200, text="x\n"))
        deis("apps:logs")
        assert str(route.calls[0].request.url).endswith("/v2/apps/myapp/logs")

    def test_empty(self, deis, profile, api):
        api.get("/v2/apps/myapp/logs").mock(return_value=reply(204))
        result = deis("logs")
        assert result.exit_code == 1
        assert result.stderr.startswith("Error: There are currently no log messages.")

    def test_follow_streams(self, deis, profile, api):
        route = api.get("/v2/apps/myapp/logs").mock(return_value=reply(200, text="a\nb\nc\n"))
        result = deis("logs", "-f", "-n", "5")
        assert result.exit_code == 0, result.output
        assert result.stdout == "a\nb\nc\n"
        params = route.calls[0].request.url.params
        assert params["follow"] == "true" and params["log_lines"] == "5"


class TestRun:
    def test_success(self, deis, profile, api):
        route = api.post("/v2/apps/myapp/run").mock(return_value=reply(200, {"exit_code": 0, "output": "total 0\n"}))
        result = deis("run", "--", "ls", "-alh")
        assert result.exit_code == 0, result.output
        assert result.stdout == "Running 'ls -alh'...\ntotal 0\n"
        assert sent_json(route.calls[0].request) == {"command": "ls -alh"}
        assert_auth(route.calls[0].request)

    def test_without_double_dash_and_exit_code(self, deis, profile, api):
        route = api.post("/v2/apps/x/run").mock(return_value=reply(200, {"exit_code": 3, "output": "boom\n"}))
        result = deis("apps:run", "-a", "x", "--", "sh", "-c", "exit 3")
        assert result.exit_code == 3
        assert result.stdout == "Running 'sh -c exit 3'...\n"
        assert result.stderr == "boom\n"
        assert sent_json(route.calls[0].request) == {"command": "sh -c exit 3"}


class TestDestroy:
    def test_confirm(self, deis, profile, api):
        route = api.delete("/v2/apps/myapp/").mock(return_value=reply(204))
        result = deis("destroy", "--confirm", "myapp")
        assert result.exit_code == 0, result.output
        assert result.stdout == "Destroying myapp...\ndone in 0s\n"
        assert_auth(route.calls[0].request)

    def test_mismatch(self, deis, profile):
        result = deis("apps:destroy", "-a", "myapp", "--confirm", "other")
        assert result.exit_code == 1
        assert result.stderr == "Error: App myapp does not match confirm other, aborting.\n"

    def test_prompt(self, deis, profile, api, monkeypatch):
        monkeypatch.setattr(output, "stdin_is_tty", lambda: True)
        api.delete("/v2/apps/myapp/").mock(return_value=reply(204))
        result = deis("destroy", input="myapp\n")
        assert result.exit_code == 0, result.output
        assert result.stdout == (
            " !    WARNING: Potentially Destructive Action\n"
            " !    This command will destroy the application: myapp\n"
            ' !    To proceed, type "myapp" or re-run this command with --confirm=myapp\n\n'
            "> Destroying myapp...\ndone in 0s\n"
        )

    def test_no_tty_needs_confirm(self, deis, profile):
        result = deis("destroy")
        assert result.exit_code == 1
        assert result.stderr == "Error: --confirm=myapp is required when stdin is not a terminal\n"

    def test_collaborator_forbidden(self, deis, profile, api):
        api.delete("/v2/apps/myapp/").mock(
            return_value=reply(403, {"detail": "You do not have permission to perform this action."})
        )
        result = deis("destroy", "--confirm", "myapp")
        assert result.exit_code == 1
        assert result.stderr == "Error: You do not have permission to perform this action.\n"


def test_transfer(deis, profile, api):
    route = api.post("/v2/apps/myapp/").mock(return_value=httpx.Response(200, headers={"DEIS_API_VERSION": "2.3"}))
    result = deis("apps:transfer", "carol")
    assert result.exit_code == 0, result.output
    assert result.stdout == "Transferring myapp to carol... done\n"
    assert sent_json(route.calls[0].request) == {"owner": "carol"}


def test_expand_url():
    from cli.commands.apps import expand_url

    assert expand_url("deis.example.com", "myapp") == "myapp.example.com"
    assert expand_url("deis.example.com:8000", "myapp") == "myapp.example.com:8000"
    assert expand_url("localhost:8000", "myapp") == "myapp.localhost:8000"
    assert expand_url("deis.example.com", "www.x.org") == "www.x.org"
