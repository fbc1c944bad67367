"""The routers on the 3-node test swarm (deploy/stack.yml: `workflow router` on every node, driven by the
controller over the TCP control endpoint with the stack's token), checked over HTTP: an app answers through the
router of every node; route changes (scale, maintenance on/off) reach all of them; the control endpoint refuses
calls without the token; a killed router task is replaced by Swarm and serves the current routes again; the
controller's task killed: Swarm restarts it, the app answers through the routers all along, and the data is
all there after."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from tests.swarm.helpers import wait_for
from tests.swarm.stack import Stack, deployed_stack

pytestmark = pytest.mark.swarm


def statuses(stack: Stack, app: str) -> list[int | str | None]:
    """The app's answer through each node's router (None: no answer; "not ready": a router the controller has
    not given the whole table yet, whose 503 is not the app's)."""
    out: list[int | str | None] = []
    for base in stack.bases:
        try:
            r = stack.get(app, base, timeout=5)
        except httpx.HTTPError:
            out.append(None)
            continue
        out.append("not ready" if r.status_code == 503 and r.headers.get("retry-after") else r.status_code)
    return out


def everywhere(stack: Stack, app: str, status: int, timeout: float = 30) -> None:
    """Every node's router answers the app with `status` (the controller writes to all of them)."""
    wait_for(lambda: statuses(stack, app) == [status] * len(stack.bases), timeout,
             f"{app} answering {status} through every router (last: {statuses(stack, app)})")


def deploy(stack: Stack, swarm, app: str) -> None:
    r = stack.api.post(f"/v2/apps/{app}/builds/", json={"image": f"{swarm.registry}/test/web:latest"},
                       headers=stack.auth)
    assert r.status_code == 201, r.text


def task_container(swarm, stack: Stack, service: str, node: int) -> str:
    """The id of the running container of `service`'s task on `node`."""
    ids = swarm.docker(node, "ps", "-q", "--filter",
                       f"label=com.docker.swarm.service.name={stack.name}_{service}").stdout.split()
    assert len(ids) == 1, ids
    return ids[0]


def maintenance(stack: Stack, app: str, on: bool) -> None:
    r = stack.api.post(f"/v2/apps/{app}/settings/", json={"maintenance": on}, headers=stack.auth)
    assert r.status_code == 201, r.text


@pytest.fixture(scope="module")
def stack(swarm, platform_images):
    with deployed_stack(swarm, platform_images) as deployed:
        yield deployed


def test_every_router_serves_the_app_and_takes_every_change(swarm, stack):
    app = stack.create_app()
    deploy(stack, swarm, app)
    everywhere(stack, app, 200)
    for base in stack.bases[1:]:  # the API answers through any router
        r = httpx.get(f"{base}/v2/apps/{app}/", headers=stack.auth, timeout=10)
        assert r.status_code == 200 and r.json()["id"] == app, r.text

    r = stack.api.post(f"/v2/apps/{app}/scale/", json={"cmd": 3}, headers=stack.auth)
    assert r.status_code == 204, r.text
    served_by = set()
    for base in stack.bases:
        for _ in range(6):
            reply = httpx.get(f"{base}/cgi-bin/host", headers={"Host": f"{app}.localhost"}, timeout=10)
            assert reply.status_code == 200, reply.text
            served_by.add(reply.text)
    assert len(served_by) == 3, served_by  # every router reaches the three tasks (each says its hostname)

    maintenance(stack, app, True)
    assert statuses(stack, app) == [503] * 3  # live on every router when the call returns
    maintenance(stack, app, False)
    assert statuses(stack, app) == [200] * 3

    r = stack.api.post(f"/v2/apps/{app}/scale/", json={"cmd": 0}, headers=stack.auth)
    assert r.status_code == 204, r.text
    assert statuses(stack, app) == [503] * 3  # no container
    assert statuses(stack, "nosuchapp") == [404] * 3


def test_the_control_endpoint_refuses_calls_without_the_token(swarm, stack):
    router = task_container(swarm, stack, "router", 1)

    def control(*headers: str) -> str:
        args = ["exec", router, "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}"]
        for header in headers:
            args += ["-H", header]
        return swarm.docker(1, *args, "http://127.0.0.1:9090/apps").stdout

    assert control() == "401"
    assert control("Authorization: Bearer not-the-token-of-this-stack") == "401"
    assert control(f"Authorization: Bearer {stack.router_token}x") == "401"
    assert control(f"Authorization: Bearer {stack.router_token}") == "200"


def test_a_killed_router_task_is_replaced_and_serves_the_current_routes(swarm, stack):
    app = stack.create_app()
    deploy(stack, swarm, app)
    everywhere(stack, app, 200)
    old = task_container(swarm, stack, "router", 2)
    swarm.docker(2, "kill", old)
    maintenance(stack, app, True)  # while node 2 has no router: its next one must get this too
    assert statuses(stack, app)[0] == 503
    wait_for(lambda: swarm.docker(2, "ps", "-q", "--filter",
                                  f"label=com.docker.swarm.service.name={stack.name}_router").stdout.split()
             not in ([], [old]), 60, "a new router task on node 2")
    everywhere(stack, app, 503, timeout=60)
    maintenance(stack, app, False)
    assert statuses(stack, app) == [200] * 3


class Poller:
    """GET the app through the routers of every node in turn, until stopped; counts what is not a 200."""

    def __init__(self, stack: Stack, app: str):
        self.stack, self.app = stack, app
        self.requests, self.failures = 0, []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        clients = [httpx.Client(base_url=base, timeout=10, headers={"Host": f"{self.app}.localhost"})
                   for base in self.stack.bases]
        while not self._stop.is_set():
            client = clients[self.requests % len(clients)]
            try:
                status = client.get("/").status_code
            except httpx.HTTPError as exc:
                status = repr(exc)
            if status != 200:
                self.failures.append((time.monotonic(), str(client.base_url), status))
            self.requests += 1
            time.sleep(0.02)
        for client in clients:
            client.close()

    def __enter__(self) -> Poller:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(30)


def test_the_controllers_task_killed_apps_keep_serving_and_no_data_is_lost(swarm, stack):
    app = stack.create_app()
    deploy(stack, swarm, app)
    r = stack.api.post(f"/v2/apps/{app}/config/", json={"values": {"GREETING": "kept"}}, headers=stack.auth)
    assert r.status_code == 201, r.text
    r = stack.api.post(f"/v2/apps/{app}/scale/", json={"cmd": 2}, headers=stack.auth)
    assert r.status_code == 204, r.text
    everywhere(stack, app, 200)
    releases = stack.api.get(f"/v2/apps/{app}/releases/", headers=stack.auth).json()["results"]
    assert [r["version"] for r in releases] == [3, 2, 1]

    old = task_container(swarm, stack, "controller", 1)
    with Poller(stack, app) as poller:
        time.sleep(2)
        swarm.docker(1, "kill", old)
        wait_for(lambda: swarm.docker(1, "ps", "-q", "--filter",
                                      f"label=com.docker.swarm.service.name={stack.name}_controller").stdout.split()
                 not in ([], [old]), 90, "a new controller task")
        wait_for(lambda: _healthy(stack), 120, "the new controller's /healthz through the router")
        time.sleep(5)  # the new controller has given the routers its table: still serving
    print(f"controller killed: {poller.requests} requests through the routers, {len(poller.failures)} failed")
    assert poller.requests > 100
    assert poller.failures == [], poller.failures[:10]

    # the data is all there: the app, its releases, its config, its processes
    r = stack.api.get(f"/v2/apps/{app}/", headers=stack.auth)
    assert r.status_code == 200, r.text
    again = stack.api.get(f"/v2/apps/{app}/releases/", headers=stack.auth).json()["results"]
    assert [(r["version"], r["summary"]) for r in again] == [(r["version"], r["summary"]) for r in releases]
    config = stack.api.get(f"/v2/apps/{app}/config/", headers=stack.auth).json()
    assert config["values"] == {"GREETING": "kept"}
    pods = stack.api.get(f"/v2/apps/{app}/pods/", headers=stack.auth).json()["results"]
    assert len([p for p in pods if p["state"] == "up"]) == 2, pods

    # and the new controller drives every router
    maintenance(stack, app, True)
    assert statuses(stack, app) == [503] * 3
    maintenance(stack, app, False)
    assert statuses(stack, app) == [200] * 3


def _healthy(stack: Stack) -> bool:
    try:
        return httpx.get(f"{stack.base}/healthz", timeout=3).status_code == 200
    except httpx.HTTPError:
        return False
