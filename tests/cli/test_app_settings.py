"""limits, healthchecks, tags, registry (config) and maintenance, routing, whitelist, labels, autoscale, tls
(settings)."""

from __future__ import annotations

import pytest

from tests.cli.conftest import assert_auth, reply, sent_json

CONFIG = {"values": {}, "memory": {}, "cpu": {}, "tags": {}, "registry": {}, "healthcheck": {}}


def config(**fields):
    return reply(200, {**CONFIG, **fields})


class TestLimits:
    def test_list_unlimited(self, deis, profile, api):
        api.get("/v2/apps/myapp/config/").mock(return_value=config())
        result = deis("limits")
        assert result.stdout == "=== myapp Limits\n\n--- Memory\nUnlimited\n\n--- CPU\nUnlimited\n"

    def test_set_memory(self, deis, profile, api):
        post = api.post("/v2/apps/myapp/config/").mock(return_value=reply(201, CONFIG))
        api.get("/v2/apps/myapp/config/").mock(return_value=config(memory={"web": "1G", "worker": "500M/1G"}))
        result = deis("limits:set", "web=1G", "worker=500M/1G")
        assert result.exit_code == 0, result.output
        assert sent_json(post.calls[0].request) == {"memory": {"web": "1G", "worker": "500M/1G"}}
        assert result.stdout == (
            "Applying limits... done\n\n"
            "=== myapp Limits\n\n--- Memory\nweb        1G\nworker     500M/1G\n\n--- CPU\nUnlimited\n"
        )

    def test_set_cpu(self, deis, profile, api):
        post = api.post("/v2/apps/myapp/config/").mock(return_value=reply(201, CONFIG))
        api.get("/v2/apps/myapp/config/").mock(return_value=config(cpu={"web": "500m"}))
        result = deis("limits:set", "--cpu", "web=500m")
        assert result.exit_code == 0, result.output
        assert sent_json(post.calls[0].request) == {"cpu": {"web": "500m"}}
        assert result.stdout.endswith("--- CPU\nweb     500m\n")

    def test_unset(self, deis, profile, api):
        post = api.post("/v2/apps/myapp/config/").mock(return_value=reply(201, CONFIG))
        api.get("/v2/apps/myapp/config/").mock(return_value=config())
        assert deis("limits:unset", "--cpu", "web").exit_code == 0
        assert sent_json(post.calls[0].request) == {"cpu": {"web": None}}

    def test_bad_limit(self, deis, profile):
        result = deis("limits:set", "web=lots")
        assert result.exit_code == 1
        assert result.stderr == (
            "Error: Error parsing limit web=lots: web=lots doesn't fit format type=#unit or type=#\n"
            "Examples: web=2G worker=500M web=300\n"
        )


PROBE = {
    "initialDelaySeconds": 50,
    "timeoutSeconds": 50,
    "periodSeconds": 10,
    "successThreshold": 1,
    "failureThreshold": 3,
}


class TestHealthchecks:
    def test_list_none(self, deis, profile, api):
        api.get("/v2/apps/myapp/config/").mock(return_value=config())
        # The v2.18 parser lists `--type` web/cmd when none is given.
        assert deis("healthchecks").stdout == (
            "=== myapp Healthchecks\n\nweb/cmd:\n--- Liveness\nNo liveness probe configured.\n"
            "\n--- Readiness\nNo readiness probe configured.\n"
        )

    def test_set_http(self, deis, profile, api):
        probe = {**PROBE, "httpGet": {"path": "/healthz", "port": 8080, "httpHeaders": [{"name": "X-A", "value": "b"}]}}
        post = api.post("/v2/apps/myapp/config/").mock(return_value=reply(201, CONFIG))
        api.get("/v2/apps/myapp/config/").mock(return_value=config(healthcheck={"web/cmd": {"livenessProbe": probe}}))
        result = deis("healthchecks:set", "liveness", "httpGet", "8080", "--path", "/healthz", "--header", "X-A:b")
        assert result.exit_code == 0, result.output
        assert sent_json(post.calls[0].request) == {"healthcheck": {"web/cmd": {"livenessProbe": probe}}}
        assert result.stdout == (
            "Applying livenessProbe healthcheck... done\n\n"
            "=== myapp Healthchecks\n\n"
            "web/cmd:\n"
            "--- Liveness\n"
            "Initial Delay (seconds): 50\n"
            "Timeout (seconds): 50\n"
            "Period (seconds): 10\n"
            "Success Threshold: 1\n"
            "Failure Threshold: 3\n"
            "Exec Probe: N/A\n"
            'HTTP GET Probe: Path="/healthz" Port=8080 HTTPHeaders=[X-A=b]\n'
            "TCP Socket Probe: N/A\n"
            "\n--- Readiness\n"
            "No readiness probe configured.\n"
        )

    def test_set_exec_and_tcp(self, deis, profile, api):
        post = api.post("/v2/apps/myapp/config/").mock(return_value=reply(201, CONFIG))
        api.get("/v2/apps/myapp/config/").mock(return_value=config())
        result = deis("healthchecks:set", "readiness", "exec", "--type", "worker", "--", "cat", "/tmp/ok")
        assert result.exit_code == 0, result.output
        assert sent_json(post.calls[0].request) == {
            "healthcheck": {"worker": {"readinessProbe": {**PROBE, "exec": {"command": ["cat", "/tmp/ok"]}}}}
        }
        deis("healthchecks:set", "liveness", "tcpSocket", "5000", "--period-seconds", "3")
        assert sent_json(post.calls[1].request)["healthcheck"]["web/cmd"]["livenessProbe"] == {
            **PROBE,
            "periodSeconds": 3,
            "tcpSocket": {"port": 5000},
        }

    def test_bad_types(self, deis, profile):
        assert deis("healthchecks:set", "alive", "exec", "true").stderr == (
            'Error: Invalid healthcheck type. Must be one of: "liveness", "readiness"\n'
        )
        assert deis("healthchecks:set", "liveness", "grpc", "1").stderr == (
            'Error: Invalid probe type. Must be one of: "httpGet", "exec"\n'
        )

    def test_unset(self, deis, profile, api):
        post = api.post("/v2/apps/myapp/config/").mock(return_value=reply(201, CONFIG))
        api.get("/v2/apps/myapp/config/").mock(return_value=config())
        result = deis("healthchecks:unset", "liveness", "readiness")
        assert result.exit_code == 0, result.output
        assert sent_json(post.calls[0].request) == {
            "healthcheck": {"web/cmd": {"livenessProbe": None, "readinessProbe": None}}
        }
        assert result.stdout.startswith("Removing healthchecks... done\n\n=== myapp Healthchecks\n\nweb/cmd:\n")


class TestTagsRegistry:
    def test_tags(self, deis, profile, api):
        post = api.post("/v2/apps/myapp/config/").mock(return_value=reply(201, CONFIG))
        api.get("/v2/apps/myapp/config/").mock(return_value=config(tags={"rack": "1"}))
        result = deis("tags:set", "rack=1")
        assert result.exit_code == 0, result.output
        assert result.stdout == "Applying tags... done\n\n=== myapp Tags\nrack     1\n"
        assert sent_json(post.calls[0].request) == {"tags": {"rack": "1"}}
        deis("tags:unset", "rack")
        assert sent_json(post.calls[1].request) == {"tags": {"rack": None}}
        assert deis("tags").stdout == "=== myapp Tags\nrack     1\n"

    def test_bad_tag(self, deis, profile):
        assert deis("tags:set", "rack").stderr == (
            "Error: rack is invalid, Must be in format key=value\nExamples: rack=1 evironment=production\n"
        )

    def test_registry(self, deis, profile, api):
        post = api.post("/v2/apps/myapp/config/").mock(return_value=reply(201, CONFIG))
        api.get("/v2/apps/myapp/config/").mock(return_value=config(registry={"username": "bob", "password": "pw"}))
        result = deis("registry:set", "username=bob", "password=p=w")
        assert result.exit_code == 0, result.output
        assert sent_json(post.calls[0].request) == {"registry": {"username": "bob", "password": "p=w"}}
        assert result.stdout == (
            "Applying registry information... done\n\n=== myapp Registry\npassword     pw\nusername     bob\n"
        )
        deis("registry:unset", "username")
        assert sent_json(post.calls[1].request) == {"registry": {"username": None}}

    def test_registry_bad_key(self, deis, profile):
        assert deis("registry:set", "host=x").stderr == (
            'Error: host is invalid. Valid keys are "username" or "password"\n'
        )


SETTINGS = {"maintenance": False, "routable": True, "whitelist": [], "autoscale": {}, "label": {}}


class TestSettings:
    @pytest.mark.parametrize(
        ("command", "body", "text"),
        [
            ("maintenance:on", {"maintenance": True}, "Enabling maintenance mode for myapp... done\n"),
            ("maintenance:off", {"maintenance": False}, "Disabling maintenance mode for myapp... done\n"),
            ("routing:enable", {"routable": True}, "Enabling routing for myapp... done\n"),
            ("routing:disable", {"routable": False}, "Disabling routing for myapp... done\n"),
        ],
    )
    def test_toggles(self, deis, profile, api, command, body, text):
        post = api.post("/v2/apps/myapp/settings/").mock(return_value=reply(201, SETTINGS))
        result = deis(command)
        assert result.exit_code == 0, result.output
        assert result.stdout == text
        assert sent_json(post.calls[0].request) == body
        assert_auth(post.calls[0].request)

    def test_info(self, deis, profile, api):
        api.get("/v2/apps/myapp/settings/").mock(
            side_effect=[reply(200, SETTINGS), reply(200, {**SETTINGS, "maintenance": True, "routable": False})] * 2
        )
        assert deis("maintenance:info").stdout == "Maintenance mode is off.\n"
        assert deis("maintenance").stdout == "Maintenance mode is on.\n"
        assert deis("routing:info").stdout == "Routing is enabled.\n"
        assert deis("routing").stdout == "Routing is disabled.\n"

    def test_whitelist(self, deis, profile, api):
        api.get("/v2/apps/myapp/whitelist/").mock(return_value=reply(200, {"addresses": ["1.2.3.4", "10.0.0.0/8"]}))
        post = api.post("/v2/apps/myapp/whitelist/").mock(return_value=reply(201, {"addresses": ["1.2.3.4"]}))
        delete = api.delete("/v2/apps/myapp/whitelist/").mock(return_value=reply(204))
        # sic: cmd/whitelist.go prints the header without a newline
        assert deis("whitelist").stdout == "=== myapp Whitelisted Addresses1.2.3.4\n10.0.0.0/8\n"
        result = deis("whitelist:add", "1.2.3.4,10.0.0.0/8")
        assert result.stdout == "Adding 1.2.3.4,10.0.0.0/8 to myapp whitelist...\ndone\n"
        assert sent_json(post.calls[0].request) == {"addresses": ["1.2.3.4", "10.0.0.0/8"]}
        result = deis("whitelist:remove", "1.2.3.4")
        assert result.stdout == "Removing 1.2.3.4 from myapp whitelist...\ndone\n"
        assert sent_json(delete.calls[0].request) == {"addresses": ["1.2.3.4"]}

    def test_labels(self, deis, profile, api):
        post = api.post("/v2/apps/myapp/settings/").mock(return_value=reply(201, SETTINGS))
        api.get("/v2/apps/myapp/settings/").mock(return_value=reply(200, {**SETTINGS, "label": {"team": "a"}}))
        assert deis("labels:set", "team=a").stdout == "Applying labels on myapp... done\n"
        assert sent_json(post.calls[0].request) == {"label": {"team": "a"}}
        assert deis("labels:unset", "team").stdout == "Removing labels on myapp... done\n"
        assert sent_json(post.calls[1].request) == {"label": {"team": None}}
        assert deis("labels").stdout == "=== myapp Label\nteam:      a\n"

    def test_autoscale(self, deis, profile, api):
        post = api.post("/v2/apps/myapp/settings/").mock(return_value=reply(201, SETTINGS))
        api.get("/v2/apps/myapp/settings/").mock(
            side_effect=[
                reply(200, SETTINGS),
                reply(200, {**SETTINGS, "autoscale": {"web": {"min": 1, "max": 3, "cpu_percent": 40}}}),
            ]
        )
        result = deis("autoscale:set", "web", "--min", "1", "--max", "3", "--cpu-percent", "40")
        assert result.stdout == "Applying autoscale settings for process type web on myapp... done\n"
        assert sent_json(post.calls[0].request) == {"autoscale": {"web": {"min": 1, "max": 3, "cpu_percent": 40}}}
        assert deis("autoscale:unset", "web").stdout == "Removing autoscale for process type web on myapp... done\n"
        assert sent_json(post.calls[1].request) == {"autoscale": {"web": None}}
        assert deis("autoscale").stdout == "=== myapp Autoscale\n\nNo autoscale rules found.\n"
        api.get("/v2/apps/myapp/autoscale/").mock(return_value=reply(200, {"web": {
            "min": 1, "max": 3, "cpu_percent": 40, "current": 2, "cpu_usage_percent": 85.5,
            "measured": "2026-12-01T22:10:03Z", "last_decision": "autoscaled web 1 → 2: CPU 85 % of target 40 %",
            "last_decision_at": "2026-12-01T22:09:47Z"}}))
        assert deis("autoscale:list").stdout == (
            "=== myapp Autoscale\n\n--- web:\nMin Replicas: 1\nMax Replicas: 3\nCPU: 40%\n"
            "Current Replicas (web): 2, CPU 85.5% at 2026-12-01T22:10:03Z\n"
            "Last Decision (web): 2026-12-01T22:09:47Z autoscaled web 1 → 2: CPU 85 % of target 40 %\n"
        )

    def test_autoscale_list_on_a_controller_without_the_status(self, deis, profile, api):
        api.get("/v2/apps/myapp/settings/").mock(
            return_value=reply(200, {**SETTINGS, "autoscale": {"web": {"min": 1, "max": 3, "cpu_percent": 40}}}))
        api.get("/v2/apps/myapp/autoscale/").mock(return_value=reply(404, {"detail": "Not found."}))
        assert deis("autoscale:list").stdout == (
            "=== myapp Autoscale\n\n--- web:\nMin Replicas: 1\nMax Replicas: 3\nCPU: 40%\n"
        )

    def test_tls(self, deis, profile, api):
        api.get("/v2/apps/myapp/tls/").mock(
            side_effect=[
                reply(200, {"https_enforced": None}),
                reply(200, {"https_enforced": True}),
            ]
        )
        post = api.post("/v2/apps/myapp/tls/").mock(return_value=reply(201, {"https_enforced": True}))
        assert deis("tls").stdout == "=== myapp TLS\nHTTPS Enforced: not set\n"
        assert deis("tls:info").stdout == "=== myapp TLS\nHTTPS Enforced: true\n"
        assert deis("tls:enable").stdout == "Enabling https-only requests for myapp... done\n"
        assert deis("tls:disable").stdout == "Disabling https-only requests for myapp... done\n"
        assert [sent_json(c.request) for c in post.calls] == [{"https_enforced": True}, {"https_enforced": False}]
