"""Deploy events (services/deploy_events.py) through a real `workflow serve`, the real engine and the
installed `deis`: a good image, a crashing one and one listening on the wrong port; the stream delivers
steps while the deploy runs; the CLI draws them on a terminal and prints the same as before off one."""

from __future__ import annotations

import json
import os
import pty
import re
import shutil
import subprocess
import threading
import time

import httpx
import pytest

from tests.e2e.conftest import BIN, running_server

pytestmark = pytest.mark.e2e


@pytest.fixture
def server(tmp_path, test_images):
    # A short deploy timeout: the wrong-port deploy fails when it runs out.
    with running_server(tmp_path, WORKFLOW_DEPLOY_TIMEOUT="4", WORKFLOW_REGISTRATION_MODE="enabled") as srv:
        yield srv


def tty(deis, *args: str) -> tuple[int, str]:
    """`deis ...` with stdout on a pseudo-terminal (as a user runs it); (exit code, what it drew)."""
    exe = shutil.which("deis", path=str(BIN)) or str(BIN / "deis")
    master, slave = pty.openpty()
    env = {**os.environ, "HOME": str(deis.home)}
    proc = subprocess.Popen([exe, *args], env=env, cwd=deis.home, stdin=subprocess.DEVNULL, stdout=slave,
                            stderr=slave)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(60)
    os.close(master)
    return proc.returncode, b"".join(chunks).decode().replace("\r\n", "\n")


@pytest.fixture
def deis_home(deis, tmp_path):
    deis.home = tmp_path / "home"
    return deis


def login(server) -> dict[str, str]:
    token = httpx.post(f"{server.url}/v2/auth/login/", json={"username": "alice", "password": "secret"}).json()
    return {"Authorization": f"token {token['token']}"}


def events(server, headers, app: str, version: int) -> list[dict]:
    r = httpx.get(f"{server.url}/v2/apps/{app}/releases/v{version}/events/", headers=headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["count"] == len(body["results"])
    return body["results"]


def kinds(items: list[dict]) -> list[str]:
    return [e["kind"] for e in items]


def test_good_crashing_and_wrong_port_deploys(server, deis_home):
    deis = deis_home
    deis("register", server.url, "--username=alice", "--password=secret", "--email=a@example.com")
    deis("create", "ev", "--no-remote")
    headers = login(server)

    # Good: off a terminal the output is what it was (no steps drawn).
    out = deis("pull", "test/web:latest", "-a", "ev")
    assert re.fullmatch(r"Creating build\.\.\. done, v2 \(sha256:[0-9a-f]{8}\u2026 new\)\n", out.stdout), out.stdout
    good = events(server, headers, "ev", 2)
    assert kinds(good)[:3] == ["image", "image", "plan"]
    assert kinds(good)[-2:] == ["switch", "deployed"]
    assert [e["seq"] for e in good] == list(range(1, len(good) + 1))
    assert good[0]["data"]["digest"].startswith("sha256:")
    [started] = [e for e in good if e["kind"] == "start"]
    assert (started["data"]["n"], started["data"]["total"], started["data"]["proc_type"]) == (1, 1, "cmd")
    assert [e["data"]["result"] for e in good if e["kind"] == "probe"][-1] == "accepted"
    assert all(e["level"] == "INFO" for e in good)

    # Crashing: exit code and last lines, then the failure with what to do.
    out = deis("pull", "test/crash:latest", "-a", "ev", ok=False)
    assert out.returncode == 1 and "exited with code 1" in out.stderr
    crash = events(server, headers, "ev", 3)
    [crashed] = [e for e in crash if e["kind"] == "crash"]
    assert crashed["data"]["exit_code"] == 1 and not crashed["data"]["oom_killed"]
    assert "fatal: crash image exits at once" in crashed["data"]["tail"]
    assert crash[-1]["kind"] == "failed" and crash[-1]["level"] == "ERROR"
    assert "exited with code 1" in crash[-1]["data"]["reason"]
    assert "fix the image" in crash[-1]["data"]["hint"]
    assert "switch" not in kinds(crash)

    # Wrong port: EXPOSE 8080, the process listens on 9999; the diagnosis names both.
    out = deis("pull", "test/wrongport:latest", "-a", "ev", ok=False)
    assert out.returncode == 1
    assert "nothing listens on port 8080 after 4 s" in out.stderr and "it listens on 9999" in out.stderr
    wrong = events(server, headers, "ev", 4)
    [port] = [e for e in wrong if e["kind"] == "port"]
    assert (port["data"]["port"], port["data"]["listening"]) == (8080, [9999])
    assert [e["data"]["result"] for e in wrong if e["kind"] == "probe"] == ["refused"]
    assert "deis config:set PORT=9999" in wrong[-1]["data"]["hint"]

    # releases:info on a terminal lists the steps and what to do; off one it prints what it did.
    code, drawn = tty(deis, "releases:info", "v4", "-a", "ev")
    assert code == 0, drawn
    assert "events:\n" in drawn
    assert "deploy of v4 failed: nothing listens on port 8080" in drawn
    assert "what to do: The process listens on 9999, not on 8080: run `deis config:set PORT=9999`" in drawn
    assert "events:" not in deis("releases:info", "v4", "-a", "ev").stdout

    # The steps are in `deis logs` too.
    logged = deis("logs", "-a", "ev").stdout
    assert "deis[deploy.v3]: ERROR deploy of v3 failed: " in logged
    assert "deis[deploy.v2]: INFO router switched to v2" in logged

    # On a terminal `deis pull` draws the steps live, then its usual last line.
    code, drawn = tty(deis, "pull", "test/web:latest", "-a", "ev")
    assert code == 0, drawn
    lines = drawn.splitlines()
    assert lines[0] == "Creating build... "
    assert "  deploying v5: cmd=1" in lines and "  router switched to v5" in lines
    assert lines.index("  router switched to v5") < lines.index("  v5 deployed")
    assert re.fullmatch(r"done, v5 \(sha256:[0-9a-f]{8}\u2026 new\)", lines[-1]), drawn

    # A failed deploy drawn on a terminal: the reason and what to do, then the error as before.
    code, drawn = tty(deis, "pull", "test/crash:latest", "-a", "ev")
    assert code == 1
    assert "  deploy of v6 failed: container ev-cmd-" in drawn
    assert "  what to do: The process exited as it started" in drawn
    assert drawn.rstrip().splitlines()[-1].startswith("Error: ")

    # scale on a terminal: only the scale's own steps (not v5's deploy again).
    code, drawn = tty(deis, "scale", "cmd=2", "-a", "ev")
    assert code == 0, drawn
    assert "  cmd: 1/1 containers started" in drawn and "  v5 scaled to cmd=2" in drawn
    assert "router switched" not in drawn
    out = deis("scale", "cmd=1", "-a", "ev")
    assert "  v5 " not in out.stdout  # off a terminal: as before


def test_follow_streams_while_the_deploy_runs(server, deis_home):
    deis = deis_home
    deis("register", server.url, "--username=alice", "--password=secret", "--email=a@example.com")
    deis("create", "live", "--no-remote")
    deis("pull", "test/web:latest", "-a", "live")  # v2 runs: the next deploy stops it (grace 2 s)
    headers = login(server)
    arrived: list[tuple[float, dict]] = []
    opened = threading.Event()

    def follow() -> None:  # v3 does not exist yet: it is the release being made
        with httpx.stream("GET", f"{server.url}/v2/apps/live/releases/v3/events/?follow=true", headers=headers,
                          timeout=30) as stream:
            assert stream.status_code == 200
            assert stream.headers["content-type"].startswith("application/x-ndjson")
            opened.set()
            for line in stream.iter_lines():
                if line:
                    arrived.append((time.monotonic(), json.loads(line)))
                    if arrived[-1][1]["kind"] in ("deployed", "failed"):
                        return

    reader = threading.Thread(target=follow, daemon=True)
    reader.start()
    assert opened.wait(10)
    r = httpx.post(f"{server.url}/v2/apps/live/builds/", json={"image": "test/web:latest"}, headers=headers,
                   timeout=60)
    returned = time.monotonic()
    assert r.status_code == 201, r.text
    reader.join(10)
    got = [e for _, e in arrived]
    assert [e["seq"] for e in got] == list(range(1, len(got) + 1))
    assert got[-1]["kind"] == "deployed"
    at = {e["kind"]: moment for moment, e in reversed(arrived)}  # the first arrival of each kind
    # Delivered while the deploy ran: the steps came before the answer, one by one as they happened (the
    # container's start and readiness lie between the image step and the router switch), not in one batch.
    assert at["image"] < at["start"] < at["switch"] < returned
    assert at["switch"] - at["image"] > 0.05
    assert at["deployed"] - returned < 1.0
    # The stored events are the streamed ones.
    assert events(server, headers, "live", 3) == got


def test_events_of_a_release_are_permission_checked(server, deis_home):
    deis = deis_home
    deis("register", server.url, "--username=alice", "--password=secret", "--email=a@example.com")
    deis("create", "mine", "--no-remote")
    headers = login(server)
    other = httpx.post(f"{server.url}/v2/auth/register/", json={"username": "eve", "password": "secret",
                                                                 "email": "e@example.com"})
    assert other.status_code == 201
    token = httpx.post(f"{server.url}/v2/auth/login/", json={"username": "eve", "password": "secret"}).json()
    eve = {"Authorization": f"token {token['token']}"}
    base = f"{server.url}/v2/apps/mine/releases"
    assert httpx.get(f"{base}/v1/events/", headers=eve).status_code == 403
    assert httpx.get(f"{base}/v1/events/?follow=true", headers=eve).status_code == 403
    assert httpx.get(f"{base}/v1/events/", headers=headers).json() == {"count": 0, "results": []}
    assert httpx.get(f"{base}/v9/events/", headers=headers).status_code == 404
    assert httpx.get(f"{base}/v9/events/?follow=true", headers=headers).status_code == 404  # not the next one
    assert httpx.get(f"{base}/vx/events/", headers=headers).status_code == 404
