"""Private registry credentials through the installed `deis` CLI and a real `workflow serve`: the CLI sends
only username/password (as the Workflow CLI does); the hostname comes from the app's image."""

from __future__ import annotations

import re
import subprocess
import uuid
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.e2e

CREDENTIALS = Path("/var/lib/workflow-test/private-registry/credentials.env")


def test_registry_set_pull_and_refused_change(server, deis):
    if not CREDENTIALS.exists():
        pytest.fail(f"{CREDENTIALS} is missing: run scripts/start-services.sh --test (make test does)")
    env = dict(line.split("=", 1) for line in CREDENTIALS.read_text().splitlines() if "=" in line)
    user, password = env["PRIVATE_REGISTRY_USER"], env["PRIVATE_REGISTRY_PASSWORD"]
    image = f"{env['PRIVATE_REGISTRY']}/test/private-web:latest"
    wrong = f"wrong-{uuid.uuid4().hex}"

    deis("register", server.url, "--username=alice", "--password=secret", "--email=a@example.com")
    deis("create", "secret-web", "--no-remote")
    deis("config:set", "PORT=8080", "-a", "secret-web")

    # No build yet: nothing to check the credentials against; the pull does, and names the image.
    deis("registry:set", f"username={user}", f"password={wrong}", "-a", "secret-web")
    subprocess.run(["docker", "rmi", image], capture_output=True)
    failed = deis("pull", image, "-a", "secret-web", ok=False)
    assert failed.returncode != 0 and image in failed.stderr and "unauthorized" in failed.stderr, failed

    out = deis("registry:set", f"password={password}", "-a", "secret-web").stdout
    assert f"password     {password}\n" in out and f"username     {user}\n" in out
    pulled = deis("pull", image, "-a", "secret-web").stdout.strip()
    assert re.fullmatch(r"Creating build\.\.\. done, v\d+ \(sha256:[0-9a-f]{8}\u2026 new\)", pulled), pulled
    assert httpx.get(server.url + "/", headers={"Host": "secret-web.localhost"}).status_code == 200

    # Now the registry of the build's image checks a change before it is stored.
    refused = deis("registry:set", f"password={wrong}", "-a", "secret-web", ok=False)
    assert refused.returncode != 0 and "401 Unauthorized" in refused.stderr, refused
    assert f"password     {password}\n" in deis("registry:list", "-a", "secret-web").stdout

    log = (server.data_dir / "serve.log").read_text()
    assert password not in log and wrong not in log
