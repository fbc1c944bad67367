"""builds:*, ps:*, releases:*."""

from __future__ import annotations

import pytest

from cli.commands.ps import parse_type
from tests.cli.conftest import assert_auth, page, reply, sent_json

PODS = {
    "count": 3,
    "results": [
        {
            "name": "myapp-web-1234567890-zzzzz",
            "state": "up",
            "type": "web",
            "release": "v3",
            "started": "2018-03-01T09:51:00Z",
        },
        {
            "name": "myapp-cmd-1234567890-bbbbb",
            "state": "starting",
            "type": "cmd",
            "release": "v3",
            "started": "2018-03-01T09:51:00Z",
        },
        {
            "name": "myapp-cmd-1234567890-aaaaa",
            "state": "up",
            "type": "cmd",
            "release": "v3",
            "started": "2018-03-01T09:52:00Z",
        },
    ],
}
PS_OUTPUT = (
    "=== myapp Processes\n"
    "--- cmd:\n"
    "myapp-cmd-1234567890-aaaaa up (v3)\n"
    "myapp-cmd-1234567890-bbbbb starting (v3)\n"
    "--- web:\n"
    "myapp-web-1234567890-zzzzz up (v3)\n"
)


class TestBuilds:
    def test_pull(self, deis, profile, api):
        route = api.post("/v2/apps/myapp/builds/").mock(return_value=reply(201, {"uuid": "u"}))
        result = deis("pull", "nginx:latest")
        assert result.exit_code == 0, result.output
        assert result.stdout == "Creating build... done\n"
        assert sent_json(route.calls[0].request) == {"image": "nginx:latest"}
        assert_auth(route.calls[0].request)

    @pytest.mark.parametrize("previous, said", [("sha256:" + "9" * 64, "new"), (None, "new"),
                                                ("sha256:1a2b3c4d" + "0" * 56, "unchanged")])
    def test_pull_says_what_the_digest_did(self, deis, profile, api, previous, said):
        digest = "sha256:1a2b3c4d" + "0" * 56
        api.post("/v2/apps/myapp/builds/").mock(return_value=reply(201, {"uuid": "b5", "digest": digest}))
        route = api.get("/v2/apps/myapp/releases/").mock(return_value=reply(200, page([
            {"version": 5, "build": "b5", "digest": digest}, {"version": 4, "build": "b4", "digest": previous}])))
        result = deis("pull", "team/web:1")
        assert result.exit_code == 0, result.output
        assert result.stdout == f"Creating build... done, v5 (sha256:1a2b3c4d\u2026 {said})\n"
        assert route.calls[0].request.url.params["limit"] == "2"

    def test_procfile_option(self, deis, profile, api):
        route = api.post("/v2/apps/x/builds/").mock(return_value=reply(201, {}))
        result = deis("builds:create", "img", "-a", "x", "--procfile", "web: ./server\nworker: ./work --hard")
        assert result.exit_code == 0, result.output
        assert sent_json(route.calls[0].request) == {
            "image": "img",
            "procfile": {"web": "./server", "worker": "./work --hard"},
        }

    def test_procfile_file(self, deis, profile, api, home):
        (home.parent / "myapp" / "Procfile").write_text("web: httpd -f -p 8080\n")
        route = api.post("/v2/apps/myapp/builds/").mock(return_value=reply(201, {}))
        deis("pull", "img")
        assert sent_json(route.calls[0].request)["procfile"] == {"web": "httpd -f -p 8080"}

    def test_deploy_failure(self, deis, profile, api):
        api.post("/v2/apps/myapp/builds/").mock(
            return_value=reply(
                400, {"detail": "Expose a port or make the app non routable by changing the process type"}
            )
        )
        result = deis("pull", "img")
        assert result.exit_code == 1
        assert result.stderr == (
            'Error: Unknown Error (400): {"detail":"Expose a port or make the app non routable by changing the '
            'process type"}\n'
        )

    def test_image_blank(self, deis, profile, api):
        api.post("/v2/apps/myapp/builds/").mock(return_value=reply(400, {"image": ["This field may not be blank."]}))
        result = deis("pull", "")
        assert result.stderr == "Error: The given image is invalid\n"

    def test_list(self, deis, profile, api):
        route = api.get("/v2/apps/myapp/builds/").mock(
            return_value=reply(
                200,
                page(
                    [
                        {"uuid": "b2", "created": "2018-03-01T09:52:00Z"},
                        {"uuid": "b1", "created": "2018-03-01T09:51:00Z"},
                    ],
                    count=5,
                ),
            )
        )
        result = deis("builds")
        assert result.exit_code == 0, result.output
        assert result.stdout == ("=== myapp Builds (2 of 5)\nb2 2018-03-01T09:52:00Z\nb1 2018-03-01T09:51:00Z\n")
        assert route.calls[0].request.url.params["limit"] == "100"


class TestPs:
    def test_list(self, deis, profile, api):
        route = api.get("/v2/apps/myapp/pods/").mock(return_value=reply(200, PODS))
        result = deis("ps")
        assert result.exit_code == 0, result.output
        assert result.stdout == PS_OUTPUT
        assert_auth(route.calls[0].request)

    def test_scale(self, deis, profile, api, monkeypatch):
        monkeypatch.setenv("DEIS_DRINK_OF_CHOICE", "tea")
        route = api.post("/v2/apps/myapp/scale/").mock(return_value=reply(204))
        api.get("/v2/apps/myapp/pods/").mock(return_value=reply(200, PODS))
        result = deis("scale", "cmd=2", "web=1", "worker-test1=0")
        assert result.exit_code == 0, result.output
        assert result.stdout == "Scaling processes... but first, tea!\ndone in 0s\n" + PS_OUTPUT
        assert sent_json(route.calls[0].request) == {"cmd": 2, "web": 1, "worker-test1": 0}

    @pytest.mark.parametrize("target", ["web", "web=x", "Web=1", "worker_test=1", "web-=2"])
    def test_scale_rejects_bad_targets(self, deis, profile, target):
        result = deis("ps:scale", target)
        assert result.exit_code == 1
        assert result.stderr == f"Error: '{target}' does not match the pattern 'type=num', ex: web=2\n\n"

    def test_scale_unknown_type(self, deis, profile, api):
        api.post("/v2/apps/myapp/scale/").mock(
            return_value=reply(404, {"detail": "Container type foo does not exist in application"})
        )
        result = deis("scale", "foo=1")
        assert result.exit_code == 1
        assert result.stderr == 'Error: {"detail":"Container type foo does not exist in application"}\n'

    def test_restart_all(self, deis, profile, api):
        route = api.post("/v2/apps/myapp/pods/restart/").mock(return_value=reply(200, PODS["results"]))
        result = deis("ps:restart")
        assert result.exit_code == 0, result.output
        assert result.stdout == "Restarting processes... but first, coffee!\ndone in 0s\n" + PS_OUTPUT
        assert route.calls[0].request.content == b""

    def test_restart_type(self, deis, profile, api):
        api.post("/v2/apps/myapp/pods/web/restart/").mock(return_value=reply(200, []))
        result = deis("ps:restart", "web")
        assert result.exit_code == 0, result.output
        assert result.stdout == (
            "Restarting processes... but first, coffee!\nCould not find any processes to restart\n"
        )

    def test_restart_pod(self, deis, profile, api):
        name = "myapp-cmd-1234567890-aaaaa"
        route = api.post(f"/v2/apps/myapp/pods/cmd/{name}/restart/").mock(return_value=reply(200, [PODS["results"][2]]))
        result = deis("ps:restart", name)
        assert result.exit_code == 0, result.output
        assert route.called

    def test_parse_type(self):
        assert parse_type("web", "app") == ("web", "")
        assert parse_type("app-cmd-1234567890-ab3de", "app") == ("cmd", "app-cmd-1234567890-ab3de")
        assert parse_type("my-app-worker-12345678-ab3de", "my-app") == ("worker", "my-app-worker-12345678-ab3de")
        assert parse_type("other-web-x", "app") == ("web", "other-web-x")


RELEASES = [
    {"version": 3, "created": "2018-03-01T09:52:00Z", "summary": "bob added FOO"},
    {"version": 2, "created": "2018-03-01T09:51:00Z", "summary": "bob deployed nginx:latest"},
    {"version": 1, "created": "2018-03-01T09:50:00Z", "summary": "bob created initial release"},
]


class TestReleases:
    def test_list(self, deis, profile, api):
        api.get("/v2/apps/myapp/releases/").mock(return_value=reply(200, page(RELEASES)))
        result = deis("releases")
        assert result.exit_code == 0, result.output
        assert result.stdout == (
            "=== myapp Releases\n"
            "v3\t2018-03-01T09:52:00Z\tbob added FOO\n"
            "v2\t2018-03-01T09:51:00Z\tbob deployed nginx:latest\n"
            "v1\t2018-03-01T09:50:00Z\tbob created initial release\n"
        )

    def test_list_tab_stops(self, deis, profile, api):
        rows = [
            {"version": 10, "created": "2018-03-01T09:52:00Z", "summary": "s"},
            {"version": 9, "created": "later-and-longer-than-eight", "summary": "t"},
        ]
        api.get("/v2/apps/myapp/releases/").mock(return_value=reply(200, page(rows)))
        result = deis("releases:list")
        assert result.stdout == (
            "=== myapp Releases\nv10\t2018-03-01T09:52:00Z\t\ts\nv9\tlater-and-longer-than-eight\tt\n"
        )

    def test_info(self, deis, profile, api):
        route = api.get("/v2/apps/myapp/releases/v2/").mock(
            return_value=reply(
                200,
                {
                    "uuid": "r-uuid",
                    "app": "myapp",
                    "owner": "bob",
                    "version": 2,
                    "summary": "bob deployed nginx",
                    "failed": False,
                    "config": "c-uuid",
                    "build": "b-uuid",
                    "digest": "sha256:abc",
                    "created": "C",
                    "updated": "U",
                },
            )
        )
        result = deis("releases:info", "v2")
        assert result.exit_code == 0, result.output
        assert result.stdout == (
            "=== myapp Release v2\n"
            "build:    b-uuid\n"
            "digest:   sha256:abc\n"
            "config:   c-uuid\n"
            "owner:    bob\n"
            "created:  C\n"
            "summary:  bob deployed nginx\n"
            "updated:  U\n"
            "uuid:     r-uuid\n"
        )
        assert route.called

    def test_info_missing(self, deis, profile, api):
        api.get("/v2/apps/myapp/releases/v9/").mock(return_value=reply(404, "No Release matches the given query."))
        result = deis("releases:info", "v9")
        assert result.stderr == 'Error: "No Release matches the given query."\n'

    def test_rollback_one(self, deis, profile, api):
        route = api.post("/v2/apps/myapp/releases/rollback/").mock(return_value=reply(201, {"version": 4}))
        result = deis("rollback")
        assert result.exit_code == 0, result.output
        assert result.stdout == "Rolling back one release... done, v4\n"
        assert route.calls[0].request.content == b""

    def test_rollback_to(self, deis, profile, api):
        route = api.post("/v2/apps/myapp/releases/rollback/").mock(return_value=reply(201, {"version": 5}))
        result = deis("releases:rollback", "v2")
        assert result.stdout == "Rolling back to v2... done, v5\n"
        assert sent_json(route.calls[0].request) == {"version": 2}

    def test_rollback_initial(self, deis, profile, api):
        api.post("/v2/apps/myapp/releases/rollback/").mock(
            return_value=reply(400, {"detail": "Cannot roll back to initial release."})
        )
        result = deis("rollback", "v1")
        assert result.stderr == 'Error: Unknown Error (400): {"detail":"Cannot roll back to initial release."}\n'

    def test_bad_version(self, deis, profile):
        result = deis("rollback", "two")
        assert result.exit_code == 1
        assert result.stderr == 'Error: strconv.Atoi: parsing "two": invalid syntax\n'
        assert deis("rollback", "v").stderr == "Error: v is not in the form 'v#'\n"
