"""config:* — list, set, unset, pull, push."""

from __future__ import annotations

import json
import os

import pytest

from tests.cli.conftest import assert_auth, reply, sent_json

CONFIG = {
    "uuid": "c",
    "app": "myapp",
    "owner": "bob",
    "values": {"PORT": "8080", "DATABASE_URL": "postgres://db/x?a=b", "A": "1"},
    "memory": {},
    "cpu": {},
    "tags": {},
    "registry": {},
    "healthcheck": {},
    "created": "C",
    "updated": "U",
}


@pytest.fixture
def terminal(monkeypatch):
    """stdout is a terminal: config:pull writes ./.env."""
    monkeypatch.setattr("cli.commands.config._is_char_device", lambda stream: True)


LIST = "=== myapp Config\nA                 1\nDATABASE_URL      postgres://db/x?a=b\nPORT              8080\n"


class TestList:
    def test_list(self, deis, profile, api):
        route = api.get("/v2/apps/myapp/config/").mock(return_value=reply(200, CONFIG))
        result = deis("config")
        assert result.exit_code == 0, result.output
        assert result.stdout == LIST
        assert_auth(route.calls[0].request)

    def test_oneline(self, deis, profile, api):
        api.get("/v2/apps/myapp/config/").mock(return_value=reply(200, CONFIG))
        result = deis("config:list", "--oneline")
        assert result.stdout == "A=1 DATABASE_URL=postgres://db/x?a=b PORT=8080\n"

    def test_diff(self, deis, profile, api):
        api.get("/v2/apps/myapp/config/").mock(return_value=reply(200, CONFIG))
        result = deis("config:list", "--diff")
        assert result.stdout == "A=1\nDATABASE_URL=postgres://db/x?a=b\nPORT=8080\n"

    def test_empty(self, deis, profile, api):
        api.get("/v2/apps/myapp/config/").mock(return_value=reply(200, {**CONFIG, "values": {}}))
        assert deis("config").stdout == "=== myapp Config\n"

    def test_json(self, deis, profile, api):
        api.get("/v2/apps/myapp/config/").mock(return_value=reply(200, CONFIG))
        assert json.loads(deis("config", "--json").stdout) == CONFIG


class TestSet:
    def test_set(self, deis, profile, api):
        post = api.post("/v2/apps/myapp/config/").mock(return_value=reply(201, CONFIG))
        api.get("/v2/apps/myapp/config/").mock(return_value=reply(200, CONFIG))
        result = deis("config:set", "DATABASE_URL=postgres://db/x?a=b", "A=1")
        assert result.exit_code == 0, result.output
        assert result.stdout == "Creating config... done\n\n" + LIST
        assert sent_json(post.calls[0].request) == {"values": {"DATABASE_URL": "postgres://db/x?a=b", "A": "1"}}
        assert_auth(post.calls[0].request)

    def test_bad_pair(self, deis, profile):
        result = deis("config:set", "NOPE")
        assert result.exit_code == 1
        assert result.stderr == "Error: 'NOPE' does not match the pattern 'key=var', ex: MODE=test\n\n"

    def test_healthcheck_notice(self, deis, profile, api):
        api.post("/v2/apps/myapp/config/").mock(return_value=reply(201, CONFIG))
        api.get("/v2/apps/myapp/config/").mock(return_value=reply(200, CONFIG))
        result = deis("config:set", "HEALTHCHECK_URL=/healthz")
        assert result.stdout.startswith(
            "Hey there! We've noticed that you're using 'deis config:set HEALTHCHECK_URL'\n"
        )

    def test_changed_nothing(self, deis, profile, api):
        api.post("/v2/apps/myapp/config/").mock(
            return_value=reply(409, {"detail": "bob changed nothing - release stopped"})
        )
        result = deis("config:set", "A=1")
        assert result.stderr == 'Error: Unknown Error (409): {"detail":"bob changed nothing - release stopped"}\n'

    def test_field_error(self, deis, profile, api):
        body = {"values": ["Config keys must start with a letter or underscore and only contain [A-z0-9_]"]}
        api.post("/v2/apps/myapp/config/").mock(return_value=reply(400, body))
        result = deis("config:set", "A=1")
        assert result.stderr == "Error: Unknown Error (400): " + json.dumps(body, separators=(",", ":")) + "\n"


class TestUnset:
    def test_unset(self, deis, profile, api):
        post = api.post("/v2/apps/myapp/config/").mock(return_value=reply(201, CONFIG))
        api.get("/v2/apps/myapp/config/").mock(return_value=reply(200, CONFIG))
        result = deis("config:unset", "FOO", "BAR")
        assert result.exit_code == 0, result.output
        assert result.stdout == "Removing config... done\n\n" + LIST
        assert sent_json(post.calls[0].request) == {"values": {"FOO": None, "BAR": None}}

    def test_missing_key(self, deis, profile, api):
        api.post("/v2/apps/myapp/config/").mock(return_value=reply(422, {"detail": "FOO does not exist under values"}))
        result = deis("config:unset", "FOO")
        assert result.stderr == "Error: Unable to process your request: FOO does not exist under values\n"


class TestPullPush:
    def test_pull_to_a_pipe_prints_env_lines(self, deis, profile, api, home):
        """stdout not a terminal (`deis config:pull > x`): the lines go to stdout, no file is written."""
        api.get("/v2/apps/myapp/config/").mock(return_value=reply(200, CONFIG))
        result = deis("config:pull")
        assert result.exit_code == 0, result.output
        assert result.stdout == "A=1\nDATABASE_URL=postgres://db/x?a=b\nPORT=8080\n"
        assert not (home.parent / "myapp" / ".env").exists()

    def test_pull_writes_env(self, deis, profile, api, home, terminal):
        api.get("/v2/apps/myapp/config/").mock(return_value=reply(200, CONFIG))
        result = deis("config:pull")
        assert result.exit_code == 0, result.output
        env = home.parent / "myapp" / ".env"
        assert env.read_text() == "A=1\nDATABASE_URL=postgres://db/x?a=b\nPORT=8080\n"

    def test_pull_refuses_overwrite(self, deis, profile, api, home, terminal):
        (home.parent / "myapp" / ".env").write_text("X=1\n")
        api.get("/v2/apps/myapp/config/").mock(return_value=reply(200, CONFIG))
        result = deis("config:pull")
        assert result.exit_code == 1
        assert result.stderr == "Error: .env already exists, pass -o to overwrite\n"
        result = deis("config:pull", "--overwrite")
        assert result.exit_code == 0
        assert (home.parent / "myapp" / ".env").read_text().startswith("A=1\n")

    def test_pull_interactive(self, deis, profile, api, home, terminal):
        env = home.parent / "myapp" / ".env"
        env.write_text("A=2\nLOCAL=yes\n")
        api.get("/v2/apps/myapp/config/").mock(return_value=reply(200, CONFIG))
        assert deis("config:pull", "-i").stderr == "Error: .env already exists, pass -o to overwrite\n"
        result = deis("config:pull", "-i", "-o", input="n\n")
        assert result.exit_code == 0, result.output
        assert result.stdout == "A: overwrite 2 with 1? (y/N) "
        assert env.read_text() == "A=2\nDATABASE_URL=postgres://db/x?a=b\nLOCAL=yes\nPORT=8080\n"

    def test_push_crlf_and_equals(self, deis, profile, api, home):
        (home.parent / "myapp" / ".env").write_bytes(b"A=1\r\n# comment\r\n\r\nURL=http://x/?a=b=c\r\n")
        post = api.post("/v2/apps/myapp/config/").mock(return_value=reply(201, CONFIG))
        api.get("/v2/apps/myapp/config/").mock(return_value=reply(200, CONFIG))
        result = deis("config:push")
        assert result.exit_code == 0, result.output
        assert sent_json(post.calls[0].request) == {"values": {"A": "1", "URL": "http://x/?a=b=c"}}
        assert result.stdout.startswith("Creating config... done\n\n")

    def test_push_from_a_pipe(self, deis, profile, api):
        """`deis config:push < .env` / `cat .env | deis config:push`: stdin is read when it is piped."""
        post = api.post("/v2/apps/myapp/config/").mock(return_value=reply(201, CONFIG))
        api.get("/v2/apps/myapp/config/").mock(return_value=reply(200, CONFIG))
        read_end, write_end = os.pipe()
        os.write(write_end, b"PIPED=1\n")
        os.close(write_end)
        with os.fdopen(read_end) as pipe:
            result = deis("config:push", stdin=pipe)
        assert result.exit_code == 0, result.output
        assert sent_json(post.calls[0].request) == {"values": {"PIPED": "1"}}

    def test_push_with_an_empty_pipe_reads_the_file(self, deis, profile, api, home):
        (home.parent / "myapp" / ".env").write_text("FROM_FILE=1\n")
        post = api.post("/v2/apps/myapp/config/").mock(return_value=reply(201, CONFIG))
        api.get("/v2/apps/myapp/config/").mock(return_value=reply(200, CONFIG))
        read_end, write_end = os.pipe()
        os.close(write_end)
        with os.fdopen(read_end) as pipe:
            assert deis("config:push", stdin=pipe).exit_code == 0
        assert sent_json(post.calls[0].request) == {"values": {"FROM_FILE": "1"}}

    def test_push_path(self, deis, profile, api, tmp_path):
        env = tmp_path / "prod.env"
        env.write_text("B=2\n")
        post = api.post("/v2/apps/myapp/config/").mock(return_value=reply(201, CONFIG))
        api.get("/v2/apps/myapp/config/").mock(return_value=reply(200, CONFIG))
        assert deis("config:push", "-p", str(env)).exit_code == 0
        assert sent_json(post.calls[0].request) == {"values": {"B": "2"}}

    def test_push_missing_file(self, deis, profile):
        result = deis("config:push")
        assert result.exit_code == 1
        assert result.stderr == "Error: open .env: no such file or directory\n"
