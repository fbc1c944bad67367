"""`logs -f`: a line printed by the app appears on the stream within a second (real server, real HTTP)."""

from __future__ import annotations

import re
import subprocess
import time

import httpx
import pytest

pytestmark = pytest.mark.e2e


def test_follow_streams_new_lines(server, deis):
    deis("register", server.url, "--username=alice", "--password=secret", "--email=a@example.com")
    deis("create", "tail", "--no-remote")
    deis("pull", "test/web:latest", "-a", "tail")
    token = httpx.post(f"{server.url}/v2/auth/login/", json={"username": "alice", "password": "secret"}).json()
    headers = {"Authorization": f"token {token['token']}"}
    container = subprocess.run(["docker", "ps", "-q", "--filter", "label=deis.app=tail"], capture_output=True,
                               text=True, check=True).stdout.split()[0]
    with httpx.stream("GET", f"{server.url}/v2/apps/tail/logs?log_lines=5&follow=true", headers=headers,
                      timeout=10) as stream:
        lines = stream.iter_lines()
        # The stream opens with the newest lines: here the platform's (the deploy's steps and its outcome).
        assert re.search(r" deis\[(controller|deploy\.v2)\]: INFO ", next(lines))
        marker = f"marker-{time.time()}"
        subprocess.run(["docker", "exec", container, "sh", "-c", f"echo {marker} > /proc/1/fd/1"], check=True)
        started = time.monotonic()
        for line in lines:
            if marker in line:
                break
        assert time.monotonic() - started < 1.5
        assert line.endswith(marker) and "tail[cmd." in line
