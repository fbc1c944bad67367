"""`deis autoscale:set` with the request-rate options (not in the Go CLI): `--rps-per-container` and `--p95-ms`
beside or instead of `--cpu-percent`, both spellings of a valued option; `autoscale:list` shows them."""

from __future__ import annotations

import pytest

from tests.cli.conftest import reply, sent_json

SETTINGS = {"maintenance": False, "routable": True, "whitelist": [], "autoscale": {}, "label": {}}
APPLYING = "Applying autoscale settings for process type web on myapp... done\n"


@pytest.mark.parametrize("argv, rule", [
    (["--rps-per-container=20"], {"rps_per_container": 20}),
    (["--p95-ms", "300"], {"p95_ms": 300}),
    (["--cpu-percent=50", "--rps-per-container", "20", "--p95-ms=300"],
     {"cpu_percent": 50, "rps_per_container": 20, "p95_ms": 300}),
])
def test_set_with_request_metrics(deis, profile, api, argv, rule):
    post = api.post("/v2/apps/myapp/settings/").mock(return_value=reply(201, SETTINGS))
    result = deis("autoscale:set", "web", "--min=1", "--max=3", *argv)
    assert (result.exit_code, result.stdout) == (0, APPLYING), result.output
    assert sent_json(post.calls[0].request) == {"autoscale": {"web": {"min": 1, "max": 3, **rule}}}


def test_no_metric_is_still_the_go_cli_usage_error(deis, profile, api):
    result = deis("autoscale:set", "web", "--min=1", "--max=3")
    assert result.exit_code == 1 and result.stdout == "" and result.stderr.startswith("Usage: deis autoscale:set")


def test_a_bad_number_is_refused_before_any_call(deis, profile, api):
    result = deis("autoscale:set", "web", "--min=1", "--max=3", "--p95-ms=fast")
    assert result.exit_code == 1 and "could not convert fast to int" in result.stderr


def test_help_stays_the_go_cli_text(deis, profile, api):
    assert "--rps-per-container" not in deis("autoscale:set", "--help").stdout


def test_list_shows_request_rules_and_their_measures(deis, profile, api):
    rule = {"min": 1, "max": 3, "rps_per_container": 20, "p95_ms": 300}
    api.get("/v2/apps/myapp/settings/").mock(return_value=reply(200, {**SETTINGS, "autoscale": {"web": rule}}))
    api.get("/v2/apps/myapp/autoscale/").mock(return_value=reply(200, {"web": {
        **rule, "cpu_percent": None, "current": 2, "cpu_usage_percent": None, "requests_per_container": 45.2,
        "p95_latency_ms": 12.5, "measured": "2026-12-01T22:10:03Z",
        "last_decision": "autoscaled web 1 → 2: 45 requests/s per container, target 20",
        "last_decision_at": "2026-12-01T22:09:47Z"}}))
    assert deis("autoscale:list").stdout == (
        "=== myapp Autoscale\n\n--- web:\nMin Replicas: 1\nMax Replicas: 3\n"
        "Requests/s per container: 20\np95 latency: 300 ms\n"
        "Current Replicas (web): 2, 45.2 requests/s per container, p95 12.5 ms at 2026-12-01T22:10:03Z\n"
        "Last Decision (web): 2026-12-01T22:09:47Z autoscaled web 1 → 2: 45 requests/s per container, target 20\n"
    )
