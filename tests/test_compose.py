"""docker-compose.yml and the Dockerfile (issue #6): the compose file is valid for Debian's docker-compose
and wires what production needs. The image is built only when its base image is available: there is no
Docker Hub here and no `python:3.11-slim` in the local mirror, so normally that part is skipped."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
import yaml

from tests.conftest import ROOT

COMPOSE = shutil.which("docker-compose")
needs_compose = pytest.mark.skipif(COMPOSE is None, reason="docker-compose is not installed "
                                   "(scripts/start-services.sh --test installs it)")


def compose(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([COMPOSE, "-f", str(ROOT / "docker-compose.yml"), *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


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
    assert re.search(r"^FROM python:3\.11-slim$", text, re.M)
    assert "nginx" in text  # the router is the Debian nginx, run by the platform
    assert re.search(r"^HEALTHCHECK .*\n?.*127\.0\.0\.1:8000/healthz", text, re.M)
    assert "workflow db upgrade && exec workflow serve" in text
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", "data"} <= set(ignored)


def test_image_builds_when_the_base_image_is_available():
    if shutil.which("docker") is None:
        pytest.skip("no docker CLI")
    base = subprocess.run(["docker", "image", "inspect", "python:3.11-slim"], capture_output=True)
    if base.returncode != 0:
        pytest.skip("python:3.11-slim is not available offline (no Docker Hub, not in the local mirror)")
    result = subprocess.run(["docker", "build", "-q", "-t", "workflow-compose-test:latest", str(ROOT)],
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr
    subprocess.run(["docker", "rmi", "workflow-compose-test:latest"], capture_output=True)
