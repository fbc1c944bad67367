"""The platform deployed on the test swarm from deploy/stack.yml, for the tests that need it whole: a context
manager that deploys a stack of its own (the controller, a router on every node, PostgreSQL), waits for the
controller through node 1's router and for every router to be given the routes, registers a user, and removes
the stack (waiting until its containers are gone: its routers hold the nodes' host ports) and the apps'
services after the test. WORKFLOW_TEST_STACK_LOGS=DIR keeps the controller's and routers' logs there; a test
that fails prints the controller's last lines (CI keeps the output of a failed run only)."""

from __future__ import annotations

import os
import secrets
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx

from tests.conftest import ROOT
from tests.swarm.helpers import wait_for

STACK_FILE = ROOT / "deploy" / "stack.yml"
HTTP_PORT = 8000
HTTPS_PORT = 8443


@dataclass
class Stack:
    """A deployed stack: its name, the API client (a registered user's token in `auth`), and the apps made
    through it (their services are removed with the stack)."""

    name: str
    base: str  # the router/API on node 1, http://ADDR:PORT
    api: httpx.Client
    auth: dict[str, str]
    apps: list[str]
    bases: list[str]  # the router on each node, http://ADDR:PORT (node 1's is `base`)
    router_token: str  # the routers' control token (the stack's secret)

    def create_app(self) -> str:
        app = f"t{uuid.uuid4().hex[:8]}"
        r = self.api.post("/v2/apps/", json={"id": app}, headers=self.auth)
        assert r.status_code == 201, r.text
        self.apps.append(app)
        return app

    def get(self, app: str, base: str | None = None, timeout: float = 10) -> httpx.Response:
        """GET / of the app through the router at `base` (default: node 1's)."""
        return httpx.get(f"{base or self.base}/", headers={"Host": f"{app}.localhost"}, timeout=timeout)


def controller_healthy(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=3).status_code == 200
    except httpx.HTTPError:
        return False


def routes_given(base: str) -> bool:
    """The router at `base` holds the controller's whole table: a host no app has is a 404 there."""
    try:
        return httpx.get(f"{base}/", headers={"Host": "no-app.localhost"}, timeout=3).status_code == 404
    except httpx.HTTPError:
        return False


@contextmanager
def deployed_stack(swarm, images: dict[str, str], **env: str) -> Iterator[Stack]:
    """`docker stack deploy -c deploy/stack.yml` on node 1 with the images pushed for the nodes; extra
    environment for the stack file in `env`."""
    name = f"wf{uuid.uuid4().hex[:6]}"
    router_token = secrets.token_hex(24)
    with tempfile.NamedTemporaryFile("w", prefix="router-token-", delete=False) as token_file:
        token_file.write(router_token)  # read by `docker stack deploy` into the stack's secret
    environ = {**os.environ, **images, "WORKFLOW_DOCKER_SOCKET": swarm.host(1).removeprefix("unix://"),
               "WORKFLOW_SWARM_NETWORK": swarm.network, "WORKFLOW_HTTP_PORT": str(HTTP_PORT),
               "WORKFLOW_HTTPS_PORT": str(HTTPS_PORT), "WORKFLOW_REGISTRATION_MODE": "enabled",
               "WORKFLOW_ROUTER_TOKEN": token_file.name, **env}
    try:
        deploy = subprocess.run(["docker", "-H", swarm.host(1), "stack", "deploy", "-c", str(STACK_FILE), name],
                                env=environ, capture_output=True, text=True, timeout=120)
    finally:
        os.unlink(token_file.name)
    assert deploy.returncode == 0, deploy.stderr
    bases = [f"http://{swarm.addr(i)}:{HTTP_PORT}" for i in range(1, swarm.size + 1)]
    base = bases[0]
    apps: list[str] = []
    try:
        wait_for(lambda: controller_healthy(base), 120, "the controller's /healthz")
        # and every node's router given the table by the controller (before, it answers every app 503)
        wait_for(lambda: all(routes_given(b) for b in bases), 60, "every router given the routes")
        with httpx.Client(base_url=base, timeout=120) as api:
            r = api.post("/v2/auth/register/", json={"username": "owner", "password": "secret"})
            assert r.status_code == 201, r.text
            token = api.post("/v2/auth/login/", json={"username": "owner", "password": "secret"}).json()["token"]
            yield Stack(name, base, api, {"Authorization": f"token {token}"}, apps, bases, router_token)
    except BaseException:
        logs = swarm.docker(1, "service", "logs", "-t", "--tail", "150", f"{name}_controller", check=False)
        print(f"--- the last lines of {name}_controller's log ---\n{logs.stdout}{logs.stderr}")
        raise
    finally:
        if logs_dir := os.environ.get("WORKFLOW_TEST_STACK_LOGS"):  # what the platform said, to look into
            for service in ("controller", "router"):
                logs = swarm.docker(1, "service", "logs", "-t", f"{name}_{service}", check=False)
                with open(os.path.join(logs_dir, f"{name}-{service}.log"), "w") as out:
                    out.write(logs.stdout + logs.stderr)
        swarm.docker(1, "stack", "rm", name, check=False)
        for app in apps:
            services = swarm.docker(1, "service", "ls", "-q", "--filter", f"label=deis.app={app}").stdout.split()
            if services:
                swarm.docker(1, "service", "rm", *services, check=False)
        # `stack rm` returns before the tasks stop: the next stack of the session would find this one's
        # routers still holding the host-mode ports, sending the API to its controller (its database, its users).
        wait_for(lambda: not stack_containers(swarm, name), 120, f"stack {name}'s containers gone")


def stack_containers(swarm, name: str) -> list[str]:
    """The stack's running containers on the nodes that answer (a killed node's are gone with it)."""
    found = []
    for node in range(1, swarm.size + 1):
        listed = swarm.docker(node, "ps", "-q", "--filter", f"label=com.docker.stack.namespace={name}",
                              check=False, timeout=30)
        if listed.returncode == 0:
            found += listed.stdout.split()
    return found
