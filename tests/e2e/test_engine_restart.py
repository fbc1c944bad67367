"""The Docker engine restarts under a running platform (`disruptive`: it stops every container on the machine,
so it runs alone, after the main suite — see the Makefile).

A restart stops the apps' containers (they run without a restart policy: the reconciler owns replacing
them). A user expects the apps back by themselves, quickly, and nothing in the database lost.
"""

from __future__ import annotations

import subprocess
import time

import httpx
import pytest

from tests.conftest import ROOT

from .test_faults import app_status, containers_by_version, login, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.disruptive]

DOCKERD = ROOT / "scripts" / "dockerd.sh"


def engine_up() -> bool:
    return subprocess.run(["docker", "info"], capture_output=True).returncode == 0


def snapshot(server, headers) -> dict:
    """What the API knows: users, apps, releases and config (the parts a restart must not lose)."""
    get = lambda path: httpx.get(server.url + path, headers=headers, timeout=10).json()  # noqa: E731
    return {
        "users": [u["username"] for u in get("/v2/users/")["results"]],
        "apps": [(a["id"], a["structure"]) for a in get("/v2/apps/")["results"]],
        "releases": [(r["version"], r["failed"], r["summary"]) for r in get("/v2/apps/phoenix/releases/")["results"]],
        "config": get("/v2/apps/phoenix/config/")["values"],
    }


def test_apps_serve_again_after_engine_restart(server, deis):
    network = server.env["WORKFLOW_DOCKER_NETWORK"]
    deis("register", server.url, "--username=alice", "--password=secret", "--email=a@example.com")
    deis("create", "phoenix", "--no-remote")
    deis("pull", "test/web:latest", "-a", "phoenix")
    deis("scale", "cmd=2", "-a", "phoenix")
    deis("config:set", "GREETING=hello", "-a", "phoenix")
    headers = login(server)
    before = snapshot(server, headers)
    assert before["apps"] == [("phoenix", {"cmd": 2})] and before["config"] == {"GREETING": "hello"}
    assert [v for v, _, _ in before["releases"]] == [3, 2, 1]
    assert app_status(server, "phoenix") == 200

    try:
        subprocess.run(["bash", str(DOCKERD), "stop"], check=True, timeout=90)
        assert not engine_up()
        assert app_status(server, "phoenix") != 200  # its containers went with the engine
    finally:  # whatever happened: the machine keeps its engine
        if not engine_up():
            subprocess.run(["bash", str(DOCKERD), "start"], check=True, timeout=90)
    engine_back = time.monotonic()  # `docker info` answers

    wait_for("the app to answer through the router", lambda: app_status(server, "phoenix") == 200, timeout=30,
             interval=0.05)
    elapsed = time.monotonic() - engine_back
    print(f"serving again {elapsed:.2f} s after the engine answered")
    assert elapsed <= 10, f"the app served again only {elapsed:.1f} s after the engine was back"

    # Both containers are back (fresh ones of the same release), and the router balances over them.
    running = wait_for("two v3 containers", lambda: (r := containers_by_version(network, "phoenix"))
                       .get("v3") and len(r["v3"]) == 2 and r, timeout=10)
    assert list(running) == ["v3"]
    hosts = {httpx.get(server.url + "/cgi-bin/host", headers={"Host": "phoenix.localhost"}, timeout=5).text
             for _ in range(20)}
    assert len(hosts) == 2, hosts
    assert server.proc.poll() is None
    assert snapshot(server, headers) == before
