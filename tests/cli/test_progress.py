"""Deploy progress (cli/progress.py) and `releases:info`'s events against respx: on a terminal each deploying
command follows its release's events and prints each step, a failure with what to do; off a terminal, and with
`--json`, the calls and output are the Workflow CLI's (assert_all_mocked: any extra call fails the test).
Through a real server and a real pseudo-terminal: tests/e2e/test_deploy_events.py and tests/cli/test_live.py."""

from __future__ import annotations

import json
import re

import httpx
import pytest

from cli import output
from tests.cli.conftest import page, reply, sent_json

EVENTS = "/v2/apps/myapp/releases/v5/events/"


def event(seq: int, kind: str, message: str, level: str = "INFO", **data) -> dict:
    return {"seq": seq, "created": f"2026-12-01T10:00:0{seq}Z", "kind": kind, "level": level, "message": message,
            "data": data}


GOOD = [event(1, "image", "image nginx@sha256:1a2b… inspected"), event(2, "plan", "deploying v5: web=2"),
        event(3, "start", "web: 2/2 containers started", n=2, total=2), event(4, "switch", "router switched to v5"),
        event(5, "deployed", "v5 deployed")]
HINT = "The process exited as it started: read its last lines (above, and `deis logs`), fix the image."
FAILED = [event(1, "plan", "deploying v5: web=1"),
          event(2, "crash", "myapp-web-1 exited with code 1: boom", level="ERROR", exit_code=1),
          event(3, "failed", "deploy of v5 failed: myapp-web-1 exited with code 1", level="ERROR",
                reason="myapp-web-1 exited with code 1", hint=HINT)]
DRAWN_GOOD = ("\n  image nginx@sha256:1a2b… inspected\n  deploying v5: web=2\n  web: 2/2 containers started\n"
              "  router switched to v5\n  v5 deployed\n")


def ndjson(items: list[dict]) -> httpx.Response:
    return reply(200, text="".join(json.dumps(e) + "\n" for e in items),
                 headers={"Content-Type": "application/x-ndjson"})


@pytest.fixture
def tty(monkeypatch):
    monkeypatch.setattr(output, "stdout_is_tty", lambda: True)


def releases(api, newest: int = 4, failed: tuple[int, ...] = ()):
    return api.get("/v2/apps/myapp/releases/").mock(return_value=reply(200, page(
        [{"version": v, "failed": v in failed} for v in range(newest, max(newest - 5, 0), -1)])))


class TestOnATerminal:
    def test_pull_follows_the_release_it_makes(self, deis, profile, api, tty):
        listed = releases(api)
        follow = api.get(EVENTS).mock(return_value=ndjson(GOOD))
        api.post("/v2/apps/myapp/builds/").mock(return_value=reply(201, {"uuid": "u"}))
        result = deis("pull", "nginx:latest")
        assert result.exit_code == 0, result.output
        assert result.stdout == "Creating build... " + DRAWN_GOOD + "done\n"
        assert listed.calls[0].request.url.params["limit"] == "5"
        assert dict(follow.calls[0].request.url.params) == {"follow": "true", "since": "0"}

    def test_a_pulls_byte_counts_are_redrawn_in_place(self, deis, profile, api, tty):
        releases(api)
        pulled = [event(1, "image", "image nginx:latest resolved to sha256:1a2b"),
                  event(2, "pull", "pulling nginx: 1.0 MB of 8.0 MB, 1/2 layers", current=1, total=8),
                  event(3, "pull", "pulling nginx: 6.0 MB of 8.0 MB, 1/2 layers", current=6, total=8),
                  event(4, "pull", "pulled layer 2/2 of nginx (ffffffffffff)", layer="f" * 64),
                  event(5, "pull", "pulling nginx: 8.0 MB of 8.0 MB, 2/2 layers", current=8, total=8)]
        api.get(EVENTS).mock(return_value=ndjson(pulled))
        api.post("/v2/apps/myapp/builds/").mock(return_value=reply(201, {"uuid": "u"}))
        result = deis("pull", "nginx:latest")
        assert result.exit_code == 0, result.output
        erase = "\r\x1b[K"
        assert result.stdout == (
            "Creating build... \n  image nginx:latest resolved to sha256:1a2b\n"
            "  pulling nginx: 1.0 MB of 8.0 MB, 1/2 layers" + erase + "  pulling nginx: 6.0 MB of 8.0 MB, 1/2 layers"
            + erase + "  pulled layer 2/2 of nginx (ffffffffffff)\n  pulling nginx: 8.0 MB of 8.0 MB, 2/2 layers"
            + erase + "done\n")

    def test_failed_deploy_prints_the_reason_and_what_to_do(self, deis, profile, api, tty):
        releases(api)
        api.get(EVENTS).mock(return_value=ndjson(FAILED))
        api.post("/v2/apps/myapp/builds/").mock(return_value=reply(400, {"detail": "deploy failed"}))
        result = deis("pull", "nginx:latest")
        assert result.exit_code == 1
        assert result.stdout == (
            "Creating build... \n  deploying v5: web=1\n  myapp-web-1 exited with code 1: boom\n"
            "  deploy of v5 failed: myapp-web-1 exited with code 1\n"
            f"  what to do: {HINT}\n"
        )
        assert result.stderr == 'Error: Unknown Error (400): {"detail":"deploy failed"}\n'
        assert result.output.index("what to do") < result.output.index("Error: ")

    def test_config_set(self, deis, profile, api, tty):
        releases(api)
        follow = api.get(EVENTS).mock(return_value=ndjson(GOOD))
        post = api.post("/v2/apps/myapp/config/").mock(
            return_value=reply(201, {"values": {"A": "1", "WORKFLOW_RELEASE": "v5"}}))
        api.get("/v2/apps/myapp/config/").mock(return_value=reply(200, {"values": {"A": "1"}}))
        result = deis("config:set", "A=1")
        assert result.exit_code == 0, result.output
        assert result.stdout.startswith("Creating config... " + DRAWN_GOOD + "done, v5\n\n=== myapp Config\n")
        assert sent_json(post.calls[0].request) == {"values": {"A": "1"}}
        assert follow.called

    def test_config_unset(self, deis, profile, api, tty):
        releases(api)
        api.get(EVENTS).mock(return_value=ndjson(GOOD))
        api.post("/v2/apps/myapp/config/").mock(return_value=reply(201, {"values": {}}))
        api.get("/v2/apps/myapp/config/").mock(return_value=reply(200, {"values": {}}))
        result = deis("config:unset", "A")
        assert result.exit_code == 0, result.output
        assert result.stdout.startswith("Removing config... " + DRAWN_GOOD + "done\n\n")

    def test_rollback(self, deis, profile, api, tty):
        releases(api)
        api.get(EVENTS).mock(return_value=ndjson(GOOD))
        api.post("/v2/apps/myapp/releases/rollback/").mock(return_value=reply(201, {"version": 5}))
        result = deis("rollback", "v2")
        assert result.exit_code == 0, result.output
        assert result.stdout == "Rolling back to v2... " + DRAWN_GOOD + "done, v5\n"

    @pytest.mark.parametrize("command", [("scale", "web=3"), ("ps:restart", "web")])
    def test_scale_and_restart_follow_the_running_release_from_its_last_step(self, deis, profile, api, tty,
                                                                            command):
        releases(api, newest=6, failed=(6,))  # v6 failed: v5 is the one that runs
        steps = [event(6, "plan", "scaling v5: web=3"), event(7, "start", "web: 3/3 containers started"),
                 event(8, "deployed", "v5 scaled to web=3")]

        def events(request: httpx.Request) -> httpx.Response:
            if request.url.params.get("follow") == "true":
                return ndjson(steps)
            return reply(200, page(GOOD))  # what v5 recorded before: seq 1–5

        follow = api.get(EVENTS).mock(side_effect=events)
        pods = {"count": 0, "results": []}
        if command[0] == "scale":
            api.post("/v2/apps/myapp/scale/").mock(return_value=reply(204))
            api.get("/v2/apps/myapp/pods/").mock(return_value=reply(200, pods))
        else:
            api.post("/v2/apps/myapp/pods/web/restart/").mock(return_value=reply(200, [
                {"name": "myapp-web-1", "state": "up", "type": "web", "release": "v5", "started": "S"}]))
        result = deis(*command)
        assert result.exit_code == 0, result.output
        assert re.search(r"but first, coffee!\n  scaling v5: web=3\n  web: 3/3 containers started\n"
                         r"  v5 scaled to web=3\ndone in \d+s\n", result.stdout), result.stdout
        assert "router switched" not in result.stdout  # v5's deploy is not shown again
        assert dict(follow.calls[-1].request.url.params) == {"follow": "true", "since": "5"}

    def test_a_controller_without_events_gets_the_spinner(self, deis, profile, api, tty, monkeypatch):
        """A Deis controller: no events (404 on the stream); the command's own answer is all there is."""
        monkeypatch.setattr(output, "spinner", lambda: _NoSpinner())
        releases(api)
        api.get(EVENTS).mock(return_value=reply(404, text="Not Found"))
        api.post("/v2/apps/myapp/releases/rollback/").mock(return_value=reply(201, {"version": 5}))
        result = deis("rollback")
        assert result.exit_code == 0, result.output
        assert result.stdout == "Rolling back one release... done, v5\n"
        assert result.stderr == ""

    def test_releases_info_lists_the_events(self, deis, profile, api, tty):
        api.get("/v2/apps/myapp/releases/v5/").mock(return_value=reply(200, {"version": 5, "uuid": "r"}))
        listed = api.get(EVENTS).mock(return_value=reply(200, page(FAILED)))
        result = deis("releases:info", "v5")
        assert result.exit_code == 0, result.output
        assert result.stdout.endswith(
            "uuid:     r\n"
            "events:\n"
            "  2026-12-01T10:00:01Z deploying v5: web=1\n"
            "  2026-12-01T10:00:02Z myapp-web-1 exited with code 1: boom\n"
            "  2026-12-01T10:00:03Z deploy of v5 failed: myapp-web-1 exited with code 1\n"
            f"  what to do: {HINT}\n"
        )
        assert "follow" not in listed.calls[0].request.url.params

    def test_releases_info_json_is_the_answer_alone(self, deis, profile, api, tty):
        body = '{"version":5,"uuid":"r"}'
        api.get("/v2/apps/myapp/releases/v5/").mock(return_value=reply(200, text=body))
        result = deis("releases:info", "v5", "--json")  # no events call: assert_all_mocked would fail it
        assert (result.exit_code, result.stdout) == (0, body + "\n")


class _NoSpinner:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class TestOffATerminal:
    """What the Workflow CLI does: the command's own request, no events call, no steps printed."""

    def test_pull(self, deis, profile, api):
        api.post("/v2/apps/myapp/builds/").mock(return_value=reply(201, {"uuid": "u"}))
        assert deis("pull", "nginx:latest").stdout == "Creating build... done\n"

    def test_rollback(self, deis, profile, api):
        api.post("/v2/apps/myapp/releases/rollback/").mock(return_value=reply(201, {"version": 5}))
        assert deis("rollback").stdout == "Rolling back one release... done, v5\n"

    def test_releases_info(self, deis, profile, api):
        api.get("/v2/apps/myapp/releases/v5/").mock(return_value=reply(200, {"version": 5, "uuid": "r"}))
        assert deis("releases:info", "v5").stdout.endswith("uuid:     r\n")
