"""The seed walk-through, end to end: a real `workflow serve` process and the installed `deis` CLI."""

from __future__ import annotations

import re

import httpx
import pytest

from .conftest import engine_containers

pytestmark = pytest.mark.e2e


def test_register_create_pull_scale_destroy(server, deis):
    network = server.env["WORKFLOW_DOCKER_NETWORK"]
    out = deis("register", server.url, "--username=alice", "--password=secret", "--email=a@example.com").stdout
    assert "Registered alice" in out and "Logged in as alice" in out
    assert deis("whoami").stdout.strip() == f"You are alice at {server.url}"

    out = deis("create", "example-go", "--no-remote").stdout
    assert out.startswith("Creating Application... done, created example-go\n")
    assert "example-go" in deis("apps").stdout.splitlines()

    pulled = deis("pull", "gabrtv/example-go:latest", "-a", "example-go").stdout.strip()
    assert re.fullmatch("Creating build... done, v2 \\(sha256:[0-9a-f]{8}\u2026 new\\)", pulled), pulled
    releases = deis("releases", "-a", "example-go").stdout
    summary = r"alice deployed gabrtv/example-go:latest \(sha256:[0-9a-f]{12}\)"
    assert re.search(rf"^v2\t\S+\t{summary}$", releases, re.M), releases
    host = {"Host": "example-go.localhost"}
    assert httpx.get(server.url + "/", headers=host).status_code == 200
    assert len(engine_containers(network, "example-go")) == 1

    out = deis("scale", "cmd=3", "-a", "example-go").stdout
    assert out.startswith("Scaling processes... but first, coffee!\ndone in ")
    ps = deis("ps", "-a", "example-go").stdout
    pods = re.findall(r"^example-go-cmd-\d{10}-[a-z0-9]{5} up \(v2\)$", ps, re.M)
    assert len(pods) == 3, ps
    assert len(engine_containers(network, "example-go")) == 3

    seen = set()
    for _ in range(30):
        r = httpx.get(server.url + "/cgi-bin/host", headers=host)
        assert r.status_code == 200
        seen.add(r.text.strip())
    assert len(seen) > 1

    info = deis("info", "-a", "example-go").stdout
    assert "=== example-go Application" in info and "=== example-go Domains" in info

    deis("scale", "cmd=0", "-a", "example-go")
    assert httpx.get(server.url + "/", headers=host).status_code == 503
    assert engine_containers(network, "example-go") == []

    deis("destroy", "-a", "example-go", "--confirm", "example-go")
    assert httpx.get(server.url + "/", headers=host).status_code == 404
    assert engine_containers(network, "example-go") == []


def test_controller_restart_keeps_containers(server, deis):
    network = server.env["WORKFLOW_DOCKER_NETWORK"]
    deis("register", server.url, "--username=alice", "--password=secret", "--email=a@example.com")
    deis("create", "keeper", "--no-remote")
    deis("pull", "test/web:latest", "-a", "keeper")
    deis("scale", "cmd=2", "-a", "keeper")
    before = sorted(engine_containers(network, "keeper"))
    assert len(before) == 2

    server.stop()
    server.start()

    assert sorted(engine_containers(network, "keeper")) == before
    ps = deis("ps", "-a", "keeper").stdout
    assert len(re.findall(r"^keeper-cmd-\d{10}-[a-z0-9]{5} up \(v2\)$", ps, re.M)) == 2, ps
    assert httpx.get(server.url + "/", headers={"Host": "keeper.localhost"}).status_code == 200
