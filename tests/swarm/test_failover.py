"""A node dies under load: on the 3-node test swarm with the platform deployed from deploy/stack.yml, an app
pinned (by `tags`) to nodes 2 and 3 serves a keep-alive load through the router on node 1 while node 3's
engine is killed. Swarm reschedules the tasks on node 2, the controller drops the dead tasks from the route
and admits the replacements, and the requests that fail are counted (target 0: the router retries another
upstream when a connect fails or times out, after its short app connect timeout: a dead node's tasks stay
silent). `deis ps` (the pods API) names each task's node."""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field

import httpx
import pytest

from tests.swarm.helpers import wait_for
from tests.swarm.stack import deployed_stack

pytestmark = pytest.mark.swarm

REPLICAS = 4
CONNECTIONS = 4  # client connections to the router, each reused for the whole episode
CONNECT_TIMEOUT = 1.0  # the router's app connect timeout (Settings.router_connect_timeout, the default)
FAST = 0.8 * CONNECT_TIMEOUT  # a request slower than this went to a dead task first
# Two dead tasks tried before a live one (3 tries, 2 of 4 tasks on the dead node), and the answer.
SLOWEST = 2 * CONNECT_TIMEOUT + 1.5


@pytest.fixture(scope="module")
def stack(swarm, platform_images):
    with deployed_stack(swarm, platform_images) as deployed:
        yield deployed


@pytest.fixture
def pinned_app(swarm, stack):
    """An app running test/web with REPLICAS tasks on nodes 2 and 3 only (a node label of this test, set as
    the app's tags), and the name of its service."""
    key = f"failover{uuid.uuid4().hex[:6]}"
    for node in (2, 3):
        swarm.docker(1, "node", "update", "--label-add", f"{key}=yes", swarm.hostname(node))
    try:
        app = stack.create_app()
        r = stack.api.post(f"/v2/apps/{app}/config/", json={"tags": {key: "yes"}}, headers=stack.auth)
        assert r.status_code == 201, r.text
        r = stack.api.post(f"/v2/apps/{app}/builds/", json={"image": f"{swarm.registry}/test/web:latest"},
                           headers=stack.auth)
        assert r.status_code == 201, r.text
        r = stack.api.post(f"/v2/apps/{app}/scale/", json={"cmd": REPLICAS}, headers=stack.auth)
        assert r.status_code == 204, r.text
        yield app
    finally:
        for node in (2, 3):
            swarm.docker(1, "node", "update", "--label-rm", key, swarm.hostname(node), check=False)


def running_tasks(swarm, app: str) -> list[tuple[str, str]]:
    """(node hostname, current state) of the app's tasks Swarm wants running."""
    services = swarm.docker(1, "service", "ls", "-q", "--filter", f"label=deis.app={app}").stdout.split()
    out = swarm.docker(1, "service", "ps", "--filter", "desired-state=running", "--format",
                       "{{.Node}}|{{.CurrentState}}", *services).stdout
    return [tuple(line.split("|", 1)) for line in out.splitlines()]


def pods(stack, app: str) -> list[dict]:
    r = stack.api.get(f"/v2/apps/{app}/pods/", headers=stack.auth)
    assert r.status_code == 200, r.text
    return r.json()["results"]


def test_deis_ps_names_the_node_of_each_task(swarm, stack, pinned_app):
    listed = pods(stack, pinned_app)
    assert len(listed) == REPLICAS and all(p["state"] == "up" for p in listed), listed
    assert {p["node"] for p in listed} == {swarm.hostname(2), swarm.hostname(3)}, listed
    swarm_view = sorted(node for node, _ in running_tasks(swarm, pinned_app))
    assert sorted(p["node"] for p in listed) == swarm_view


def containers_on(swarm, node: int, app: str) -> set[str]:
    """The short ids (the hostnames) of the app's containers running on the node."""
    out = swarm.docker(node, "ps", "-q", "--filter", f"label=deis.app={app}").stdout
    return set(out.split())


@dataclass
class Load:
    """Keep-alive clients looping GET /cgi-bin/host (the answering container's hostname) of the app through
    the router until stopped; every request's end time, latency and outcome (a status code, or the
    exception's name), and the hostname that answered."""

    base: str
    app: str
    samples: list[tuple[float, float, str]] = field(default_factory=list)
    hosts: list[tuple[float, str]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        with httpx.Client(base_url=self.base, headers={"Host": f"{self.app}.localhost"}, timeout=60) as client:
            while not self.stop.is_set():
                began = time.monotonic()
                try:
                    response = client.get("/cgi-bin/host")
                    outcome = str(response.status_code)
                except httpx.HTTPError as exc:
                    outcome = type(exc).__name__
                ended = time.monotonic()
                self.samples.append((ended, ended - began, outcome))
                if outcome == "200":
                    self.hosts.append((ended, response.text.strip()))

    def since(self, t: float) -> list[tuple[float, float, str]]:
        return [s for s in list(self.samples) if s[0] >= t]


def test_a_node_dies_under_keep_alive_load(swarm, stack, pinned_app):
    app = pinned_app
    assert {node for node, _ in running_tasks(swarm, app)} == {swarm.hostname(2), swarm.hostname(3)}
    load = Load(stack.base, app)
    threads = [threading.Thread(target=load.run, daemon=True) for _ in range(CONNECTIONS)]
    for thread in threads:
        thread.start()
    killed = False
    try:
        time.sleep(3)
        began = time.monotonic()
        swarm.kill_node(3)
        killed = True
        wait_for(lambda: swarm.node_status().get(swarm.hostname(3)) == "Down", 60, "node 3 seen down")
        down = time.monotonic() - began

        def rescheduled() -> bool:
            tasks = running_tasks(swarm, app)
            return (len(tasks) == REPLICAS and all(n == swarm.hostname(2) for n, _ in tasks)
                    and all(s.startswith("Running") for _, s in tasks))
        wait_for(rescheduled, 120, "the tasks rescheduled on node 2")
        moved = time.monotonic() - began

        def only_live_upstreams() -> bool:
            """The last 3 s of requests were all answered without a connect timeout first (the router no
            longer picks a dead task) by exactly the app's containers on node 2 (the replacements joined the
            route), and the pods API lists the tasks on node 2, all up."""
            now = time.monotonic()
            recent = load.since(now - 3)
            answered = {host for t, host in list(load.hosts) if t >= now - 3}
            listed = pods(stack, app)
            return (now - began > 3 and len(recent) > 20 and all(lat < FAST for _, lat, _ in recent)
                    and answered == containers_on(swarm, 2, app) and len(answered) == REPLICAS
                    and len(listed) == REPLICAS and all(p["state"] == "up" and p["node"] == swarm.hostname(2)
                                                        for p in listed))
        wait_for(only_live_upstreams, 120, "the router serving the live tasks only")
        served = time.monotonic() - began - 3
        time.sleep(2)
    finally:
        load.stop.set()
        for thread in threads:
            thread.join(70)
        if killed:
            swarm.start_node(3)

    during = load.since(began)
    failed = [s for s in load.samples if s[2] != "200"]
    slow = [s for s in during if s[1] >= FAST]
    kinds: dict[str, int] = {}
    for _, _, outcome in failed:
        kinds[outcome] = kinds.get(outcome, 0) + 1
    print(f"\nfailover: {len(load.samples)} requests on {CONNECTIONS} keep-alive connections, "
          f"{len(during)} after the kill; failed {len(failed)} {kinds}; slower than {FAST:g} s: {len(slow)} "
          f"(max {max(lat for _, lat, _ in during):.2f} s); node down after {down:.1f} s, tasks rescheduled "
          f"after {moved:.1f} s, router on live tasks only from {served:.1f} s")
    assert not failed, kinds
    assert max(lat for _, lat, _ in during) < SLOWEST
    wait_for(lambda: swarm.node_status().get(swarm.hostname(3)) == "Ready", 120, "node 3 back")
