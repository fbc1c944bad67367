"""Faults around a real `workflow serve` process: the controller killed mid-deploy, the database gone.

What a user may expect afterwards: apps that served keep serving, nothing is left half-done (no orphan
containers, no release that is neither current, superseded nor failed), and the API comes back by itself.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .conftest import engine_containers, free_port, running_server

pytestmark = pytest.mark.e2e


def login(server, username: str = "alice") -> dict[str, str]:
    token = httpx.post(f"{server.url}/v2/auth/login/", json={"username": username, "password": "secret"},
                       timeout=10).json()["token"]
    return {"Authorization": f"token {token}"}


def containers_by_version(network: str, app: str) -> dict[str, list[str]]:
    """Running containers of an app on this server's network, by their `deis.version` label."""
    out = subprocess.run(["docker", "ps", "--filter", f"network={network}", "--filter", f"label=deis.app={app}",
                          "--format", '{{.ID}} {{.Label "deis.version"}}'],
                         capture_output=True, text=True, check=True).stdout
    found: dict[str, list[str]] = {}
    for line in out.splitlines():
        cid, version = line.split()
        found.setdefault(version, []).append(cid)
    return found


def wait_for(what: str, check, timeout: float = 20.0, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


def app_status(server, app: str) -> int | None:
    try:
        return httpx.get(server.url + "/", headers={"Host": f"{app}.localhost"}, timeout=3).status_code
    except httpx.HTTPError:
        return None


def test_controller_killed_mid_deploy(server, deis):
    """SIGKILL while a second release's containers are not ready yet: after the restart the previous release
    serves, the half-deployed one is failed (with a reason) and its containers are gone; deploying again
    works."""
    network = server.env["WORKFLOW_DOCKER_NETWORK"]
    deis("register", server.url, "--username=alice", "--password=secret", "--email=a@example.com")
    deis("create", "midway", "--no-remote")
    deis("pull", "test/web:latest", "-a", "midway")
    deis("scale", "cmd=2", "-a", "midway")
    assert app_status(server, "midway") == 200
    assert [len(ids) for ids in containers_by_version(network, "midway").values()] == [2]

    # test/nolisten never listens: the deploy of v3 waits for it, and the controller dies meanwhile.
    pull = deis.popen("pull", "test/nolisten:latest", "-a", "midway")
    try:
        wait_for("a v3 container", lambda: "v3" in containers_by_version(network, "midway"))
        old_nginx = server.nginx_pid()
        server.kill()
    finally:
        pull.wait(30)
    assert pull.returncode != 0  # its controller died under it

    # nginx is not the controller's child process group: it survived and still serves the app meanwhile.
    assert old_nginx is not None and server.nginx_pid() == old_nginx
    assert app_status(server, "midway") == 200

    server.start()  # same data dir, same ports: the leftover nginx must give the port up
    assert server.nginx_pid() not in (None, old_nginx)

    headers = login(server)
    releases = httpx.get(f"{server.url}/v2/apps/midway/releases/", headers=headers).json()["results"]
    by_version = {r["version"]: r for r in releases}
    assert sorted(by_version) == [1, 2, 3]
    assert by_version[3]["failed"] is True, by_version[3]
    assert by_version[2]["failed"] is False
    # Exactly the current release runs, at its scale; no container of v3 is left.
    running = containers_by_version(network, "midway")
    assert {v: len(ids) for v, ids in running.items()} == {"v2": 2}, running
    ps = deis("ps", "-a", "midway").stdout
    assert ps.count("up (v2)") == 2, ps
    assert app_status(server, "midway") == 200
    logs = deis("logs", "-a", "midway").stdout
    assert "deploy of v3 failed" in logs, logs

    # Nothing is stuck: the same deploy goes through now, and v4 serves alone.
    deis("pull", "test/slow:latest", "-a", "midway")
    running = containers_by_version(network, "midway")
    assert {v: len(ids) for v, ids in running.items()} == {"v4": 2}, running
    assert app_status(server, "midway") == 200
    assert len(engine_containers(network, "midway")) == 2


def released_through_router(server, app: str) -> str | None:
    """The release the container answering through the router runs (`WORKFLOW_RELEASE`)."""
    try:
        env = httpx.get(server.url + "/cgi-bin/env", headers={"Host": f"{app}.localhost"}, timeout=3).text
    except httpx.HTTPError:
        return None
    return next((line.partition("=")[2] for line in env.splitlines() if line.startswith("WORKFLOW_RELEASE=")),
                None)


def test_controller_killed_while_the_old_release_stops(server, deis):
    """SIGKILL after the router switched to the new release, while the old containers take their grace period
    to stop: after the restart that deploy is finished, not undone — the new release is current and serves
    alone."""
    network = server.env["WORKFLOW_DOCKER_NETWORK"]
    deis("register", server.url, "--username=alice", "--password=secret", "--email=a@example.com")
    deis("create", "handover", "--no-remote")
    deis("config:set", "KUBERNETES_POD_TERMINATION_GRACE_PERIOD_SECONDS=30", "-a", "handover")  # v2
    headers = login(server)
    # httpd ignoring SIGTERM: a container of this release takes its whole grace period (30 s) to stop.
    procfile = {"web": "trap '' TERM; exec httpd -f -p 8080 -h /www"}
    r = httpx.post(f"{server.url}/v2/apps/handover/builds/", headers=headers, timeout=120,
                   json={"image": "test/web:latest", "procfile": procfile})
    assert r.status_code == 201, r.text
    assert released_through_router(server, "handover") == "v3"

    change = deis.popen("config:set", "A=1", "-a", "handover")  # v4: up, switched to, then v3 stops slowly
    try:
        wait_for("the router to serve v4", lambda: released_through_router(server, "handover") == "v4", timeout=30)
        assert "v3" in containers_by_version(network, "handover")  # still stopping
        server.kill()
    finally:
        change.wait(30)
    server.start()

    releases = httpx.get(f"{server.url}/v2/apps/handover/releases/", headers=login(server)).json()["results"]
    assert [(r["version"], r["failed"]) for r in releases] == [(4, False), (3, False), (2, False), (1, False)]
    assert {v: len(ids) for v, ids in containers_by_version(network, "handover").items()} == {"v4": 1}
    assert released_through_router(server, "handover") == "v4"


def test_controller_killed_mid_first_deploy_and_mid_scale(server, deis):
    """SIGKILL while one app's first deploy and another app's scale-up wait for their containers: after the
    restart the first deploy is failed and nothing of it runs; the scale did not happen (the structure is
    recorded once the containers run) and its extra containers are gone. Both apps work normally again."""
    network = server.env["WORKFLOW_DOCKER_NETWORK"]
    deis("register", server.url, "--username=alice", "--password=secret", "--email=a@example.com")
    deis("create", "firstly", "--no-remote")
    deis("create", "scaler", "--no-remote")
    deis("pull", "test/slow:latest", "-a", "scaler")
    first = deis.popen("pull", "test/slow:latest", "-a", "firstly")
    scale = deis.popen("scale", "cmd=3", "-a", "scaler")
    try:
        wait_for("firstly's container and scaler's new ones", lambda: (
            "v2" in containers_by_version(network, "firstly")
            and len(containers_by_version(network, "scaler").get("v2", [])) == 3))
        server.kill()
    finally:
        first.wait(30)
        scale.wait(30)
    server.start()

    headers = login(server)
    releases = httpx.get(f"{server.url}/v2/apps/firstly/releases/", headers=headers).json()["results"]
    assert [(r["version"], r["failed"]) for r in releases] == [(2, True), (1, False)]
    app = httpx.get(f"{server.url}/v2/apps/scaler/", headers=headers).json()
    assert app["structure"] == {"cmd": 1}
    wait_for("only the containers the structures ask for", lambda: (
        containers_by_version(network, "firstly") == {}
        and len(containers_by_version(network, "scaler").get("v2", [])) == 1))
    assert app_status(server, "scaler") == 200
    assert app_status(server, "firstly") == 503  # an app without a running release

    deis("pull", "test/web:latest", "-a", "firstly")
    deis("scale", "cmd=2", "-a", "scaler")
    assert {v: len(ids) for v, ids in containers_by_version(network, "firstly").items()} == {"v3": 1}
    assert {v: len(ids) for v, ids in containers_by_version(network, "scaler").items()} == {"v2": 2}
    assert app_status(server, "firstly") == 200 and app_status(server, "scaler") == 200


# --- the database goes away ------------------------------------------------------------------------------

PG_BIN = Path(sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))[-1]) \
    if Path("/usr/lib/postgresql").exists() else Path("/nonexistent")


class PrivatePostgres:
    """A PostgreSQL cluster of this test alone (the shared server other tests use is never touched): its
    data and unix socket in a temp dir owned by `postgres`, TCP on a free loopback port, trust auth."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="workflow-pg-"))
        shutil.chown(self.dir, "postgres", "postgres")
        self.data = self.dir / "data"
        self.port = free_port()
        self.url = f"postgresql+asyncpg://workflow:workflow@127.0.0.1:{self.port}/workflow"

    def _as_postgres(self, *args: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", *args], check=True, capture_output=True, timeout=60)

    def init(self) -> None:
        self._as_postgres(str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres")
        self.start()
        for sql in ("CREATE ROLE workflow LOGIN PASSWORD 'workflow'", "CREATE DATABASE workflow OWNER workflow"):
            self._as_postgres(str(PG_BIN / "psql"), "-h", str(self.dir), "-p", str(self.port), "-U", "postgres",
                              "-qc", sql)

    def start(self) -> None:
        self._as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.dir / "log"), "-w",
                          "-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1", "start")

    def stop(self) -> None:
        """Like a crash of the server: no clean shutdown, connections cut."""
        self._as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def running(self) -> bool:
        code = subprocess.run(["runuser", "-u", "postgres", "--", str(PG_BIN / "pg_ctl"), "-D", str(self.data),
                               "status"], capture_output=True).returncode
        return code == 0


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    if not (PG_BIN / "initdb").exists():
        pytest.skip("PostgreSQL server binaries are not installed")
    pg = PrivatePostgres()
    try:
        pg.init()
        yield pg
    finally:
        if pg.data.exists() and pg.running():
            pg.stop()
        shutil.rmtree(pg.dir, ignore_errors=True)


def test_database_down(tmp_path, test_images, private_postgres, deis):
    """PostgreSQL stops (immediate): the API answers 503 {"detail": …}; apps keep serving, and the controller
    neither dies nor takes routes away (even when a container dies meanwhile); PostgreSQL back: the API
    works again without a controller restart, and the dead container is replaced."""
    pg = private_postgres
    with running_server(tmp_path, WORKFLOW_DATABASE_URL=pg.url, WORKFLOW_RECONCILE_INTERVAL="1") as server:
        network = server.env["WORKFLOW_DOCKER_NETWORK"]
        deis("register", server.url, "--username=alice", "--password=secret", "--email=a@example.com")
        deis("create", "steady", "--no-remote")
        deis("pull", "test/web:latest", "-a", "steady")
        deis("scale", "cmd=2", "-a", "steady")
        headers = login(server)
        assert httpx.get(f"{server.url}/v2/apps/steady/releases/", headers=headers).status_code == 200
        assert app_status(server, "steady") == 200

        pg.stop()
        for method, path, body in (("GET", "/v2/apps/", None), ("GET", "/v2/apps/steady/releases/", None),
                                   ("POST", "/v2/apps/steady/config/", {"values": {"A": "1"}}),
                                   ("POST", "/v2/auth/login/", {"username": "alice", "password": "secret"})):
            started = time.monotonic()
            r = httpx.request(method, server.url + path, headers=headers, json=body, timeout=30)
            assert r.status_code == 503, (method, path, r.status_code, r.text)
            assert set(r.json()) == {"detail"} and r.json()["detail"], r.text
            assert time.monotonic() - started < 5, "a 503 must come quickly"

        # A container dies while the database is away: nginx retries the other one, nothing is torn down.
        victim = containers_by_version(network, "steady")["v2"][0]
        subprocess.run(["docker", "kill", victim], check=True, capture_output=True)
        # The router drops the dead address on the engine's event, from the routing settings read last.
        # (Before that, a request may wait for a connect to the vanished address to time out.)
        time.sleep(1.5)
        for _ in range(30):  # three seconds: several reconcile passes and health ticks
            assert app_status(server, "steady") == 200
            time.sleep(0.1)
        assert server.proc.poll() is None, "the controller died with its database"

        pg.start()
        wait_for("the API to answer again",
                 lambda: httpx.get(f"{server.url}/v2/apps/", headers=headers, timeout=10).status_code == 200,
                 timeout=10)
        # The reconciler replaces the container that died during the outage.
        wait_for("the dead container replaced",
                 lambda: len(containers_by_version(network, "steady").get("v2", [])) == 2, timeout=15)
        assert victim not in containers_by_version(network, "steady")["v2"]
        deis("config:set", "A=1", "-a", "steady")  # a write, and a deploy
        assert app_status(server, "steady") == 200
        assert {v: len(ids) for v, ids in containers_by_version(network, "steady").items()} == {"v3": 2}
