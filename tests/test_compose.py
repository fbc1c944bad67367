"""docker-compose.yml and the Dockerfile (issues #6, #14): the compose file is valid for Debian's docker-compose
and wires what production needs; the images build without Docker Hub or PyPI (scripts/build-platform-image.sh:
a debootstrapped `debian:bookworm-slim`, the host's wheels), and the project really comes up, deploys an app
from the local registry and serves it through the platform's router, then goes down again."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
import uuid

import httpx
import pytest
import yaml

from tests.conftest import ROOT

COMPOSE = shutil.which("docker-compose")
needs_compose = pytest.mark.skipif(COMPOSE is None, reason="docker-compose is not installed "
                                   "(scripts/start-services.sh --test installs it)")


def compose(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    """docker-compose on the project's file; by default with none of the variables the file reads (its
    defaults are what the configuration tests check)."""
    if env is None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("WORKFLOW_", "POSTGRES_"))}
    return subprocess.run([COMPOSE, "-f", str(ROOT / "docker-compose.yml"), *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


@needs_compose
def test_compose_file_is_valid():
    result = compose("config", "-q")
    assert result.returncode == 0, result.stderr


@needs_compose
def test_compose_wires_platform_postgres_socket_volume_and_health_checks():
    result = compose("config")
    assert result.returncode == 0, result.stderr
    config = yaml.safe_load(result.stdout)
    services = config["services"]
    assert services["postgres"]["image"] == "postgres:15"
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    platform = services["workflow"]
    assert platform["build"]["context"] == str(ROOT)
    assert platform["depends_on"]["postgres"]["condition"] == "service_healthy"
    env = platform["environment"]
    assert env["WORKFLOW_DATABASE_URL"].startswith("postgresql+asyncpg://workflow:")
    assert env["WORKFLOW_DATABASE_URL"].endswith("@127.0.0.1:5432/workflow")
    volumes = platform["volumes"]
    assert any(v.startswith("/var/run/docker.sock:/var/run/docker.sock") for v in volumes)
    assert any(v.startswith("data:/data") for v in volumes) and "data" in config["volumes"]
    assert "http://127.0.0.1:8000/healthz" in platform["healthcheck"]["test"]
    # app containers cannot reach each other on their bridge, only the host can: the platform (its nginx
    # and probes) runs in the host's network, and PostgreSQL is published on loopback only
    assert platform["network_mode"] == "host" and "ports" not in platform and "networks" not in platform
    assert env["WORKFLOW_DOCKER_NETWORK"] == "workflow" and "networks" not in config
    assert (env["WORKFLOW_PORT"], env["WORKFLOW_TLS_PORT"]) == ("8000", "8443")
    assert [str(p).split(":")[0] for p in services["postgres"]["ports"]] == ["127.0.0.1"]


def test_dockerfile_runs_migrations_then_the_platform_with_a_health_check():
    text = (ROOT / "Dockerfile").read_text()
    # Debian 12: Hub's image where Hub answers, else the same name made by scripts/debian-base.sh
    assert re.search(r"^FROM debian:bookworm-slim( AS \w+)?$", text, re.M)
    assert "nginx" in text  # the router is the Debian nginx, run by the platform
    assert "libnginx-mod-http-lua" in text  # ... with the Lua module of its live routes
    assert re.search(r"^HEALTHCHECK .*\n?.*127\.0\.0\.1:8000/healthz", text, re.M)
    assert "workflow db upgrade && exec workflow serve" in text
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", "data"} <= set(ignored)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise AssertionError(f"{url}/healthz did not answer within {timeout:.0f} s")


PROJECT = re.compile(r"wfcompose[0-9a-f]{8}")


def remove_project(project: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """`down -v`, then the app containers the platform ran on the project's network, and that network."""
    down = compose("-p", project, "down", "-v", "--timeout", "10", env=env, timeout=120)
    ids = subprocess.run(["docker", "ps", "-aq", "--filter", f"network={project}"], capture_output=True,
                         text=True).stdout.split()
    if ids:
        subprocess.run(["docker", "rm", "-f", *ids], capture_output=True)
    subprocess.run(["docker", "network", "rm", project], capture_output=True)
    return down


def remove_stale_projects() -> None:
    """Projects of this test left by a killed run (`restart: unless-stopped` keeps them up): over an hour old,
    so never one a concurrent run is using."""
    out = subprocess.run(["docker", "ps", "-a", "--filter", "label=com.docker.compose.project", "--format",
                          '{{.Label "com.docker.compose.project"}} {{.CreatedAt}}'],
                         capture_output=True, text=True).stdout
    cutoff = time.time() - 3600
    for line in out.splitlines():
        project, created = line.split(" ", 1)
        stamp = subprocess.run(["date", "-d", created.rsplit(" ", 1)[0], "+%s"], capture_output=True, text=True)
        if PROJECT.fullmatch(project) and stamp.returncode == 0 and int(stamp.stdout) < cutoff:
            remove_project(project)


@pytest.fixture(scope="module")
def platform_images() -> dict[str, str]:
    """WORKFLOW_IMAGE and WORKFLOW_POSTGRES_IMAGE, built from this checkout (layer cache: seconds when fresh)."""
    remove_stale_projects()
    subprocess.run(["bash", str(ROOT / "scripts" / "build-test-images.sh")], check=True)
    out = subprocess.run(["bash", str(ROOT / "scripts" / "build-platform-image.sh")], check=True,
                         capture_output=True, text=True, timeout=1200).stdout
    return dict(line.split("=", 1) for line in out.split())


@pytest.mark.e2e
@needs_compose
def test_compose_up_deploys_an_app_that_answers_through_the_router(platform_images):
    project = f"wfcompose{uuid.uuid4().hex[:8]}"  # its own containers, volumes and app network
    port = free_port()
    env = {**os.environ, **platform_images, "WORKFLOW_HTTP_PORT": str(port),
           "WORKFLOW_HTTPS_PORT": str(free_port()), "WORKFLOW_POSTGRES_PORT": str(free_port()),
           "POSTGRES_PASSWORD": uuid.uuid4().hex, "WORKFLOW_DOCKER_NETWORK": project,
           "WORKFLOW_REGISTRATION_MODE": "enabled", "WORKFLOW_DOMAIN": "localhost"}
    url = f"http://127.0.0.1:{port}"
    try:
        up = compose("-p", project, "up", "-d", "--no-build", env=env, timeout=300)
        assert up.returncode == 0, up.stderr
        wait_healthy(url, 120)

        with httpx.Client(base_url=url, timeout=120) as api:
            r = api.post("/v2/auth/register/", json={"username": "admin", "password": "secret",
                                                     "email": "admin@example.com"})
            assert r.status_code == 201, r.text
            r = api.post("/v2/auth/login/", json={"username": "admin", "password": "secret"})
            assert r.status_code == 200, r.text
            auth = {"Authorization": f"token {r.json()['token']}"}
            r = api.post("/v2/apps/", json={"id": "hello"}, headers=auth)
            assert r.status_code == 201, r.text
            # test/web from the local registry 127.0.0.1:5000 (the host's engine, through the mounted socket)
            r = api.post("/v2/apps/hello/builds/", json={"image": "test/web:latest"}, headers=auth)
            assert r.status_code == 201, r.text

        # the platform's nginx, in the container on the host's network, routes to the app's container
        r = httpx.get(url + "/", headers={"Host": "hello.localhost"}, timeout=10)
        assert r.status_code == 200, r.text
        # the data is in the compose project's PostgreSQL, not a SQLite file in the platform's volume
        ps = compose("-p", project, "exec", "-T", "postgres", "psql", "-U", "workflow", "-d", "workflow",
                     "-tAc", "SELECT id FROM apps", env=env)
        assert ps.stdout.split() == ["hello"], ps.stdout + ps.stderr
    finally:
        logs = compose("-p", project, "logs", "--no-color", "--tail", "50", env=env).stdout
        down = remove_project(project, env)
        print(logs)
    assert down.returncode == 0, down.stderr
    volumes = subprocess.run(["docker", "volume", "ls", "-q", "--filter", f"name={project}"],
                             capture_output=True, text=True).stdout.split()
    assert volumes == []
