"""Swarm (issue 14): deploy (first 200 from a task) and scale 1 → 10 (all ten tasks answering) on a 3-node test
swarm, the controller with WORKFLOW_SCHEDULER=swarm against the Engine API's raw `POST /services/create` and
`POST /services/{id}/update` (what `docker service create`/`scale` send), alternating samples in one run.

The host cannot reach overlay addresses, and the controller's readiness checks must (they connect to each task's
overlay address), so the measuring side runs inside the cluster: `run()` (on the host) starts its own cluster
with scripts/swarm-nodes.sh, pushes the platform image (its Python dependencies; the code is this checkout,
mounted read-only) where the nodes pull, and runs `python -m bench.swarm inside` in a container on node 1 (the
manager), on the apps' overlay, with node 1's engine socket mounted: the same place as the stack's controller.
There, `inside()` starts `workflow serve` (WORKFLOW_SCHEDULER=swarm, router disabled: this measures the
controller and the backend, not the router; SQLite) and drives both sides. One poller, the same for both,
lists the services' running tasks (2 Engine API calls) every POLL_S and GETs each task's overlay address until
200. A side's time ends when its call returned (ours: the API answers once the release is ready) and its tasks
answered.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from .common import ROOT, RUNS, free_port, report, sh

N = 10
POLL_S = 0.05
SCRIPT = ROOT / "scripts" / "swarm-nodes.sh"
INSIDE_ROOT = "/bench"  # where the checkout is mounted in the measuring container


# --- inside the cluster ---------------------------------------------------------------------------------


class Poller:
    """Running tasks of the services matching a filter, by overlay address, until `want` answer 200."""

    def __init__(self, engine: httpx.AsyncClient, network_id: str):
        self.engine = engine
        self.network_id = network_id
        self.http = httpx.AsyncClient(timeout=1)

    async def _addresses(self, service_filter: dict) -> list[str]:
        services = (await self.engine.get("/services", params={"filters": json.dumps(service_filter)})).json()
        if not services:
            return []
        tasks = (await self.engine.get("/tasks", params={"filters": json.dumps(
            {"service": [s["ID"] for s in services], "desired-state": ["running"]})})).json()
        found = []
        for task in tasks:
            if (task.get("Status") or {}).get("State") != "running":
                continue
            for attachment in task.get("NetworksAttachments") or []:
                if attachment["Network"]["ID"] == self.network_id and attachment.get("Addresses"):
                    found.append(attachment["Addresses"][0].partition("/")[0])
        return found

    async def _ok(self, address: str) -> bool:
        try:
            return (await self.http.get(f"http://{address}:8080/")).status_code == 200
        except httpx.HTTPError:
            return False

    async def answering(self, service_filter: dict, want: int, timeout: float = 120) -> None:
        answered: set[str] = set()
        deadline = time.monotonic() + timeout
        while True:
            pending = [a for a in await self._addresses(service_filter) if a not in answered]
            for address, ok in zip(pending, await asyncio.gather(*(self._ok(a) for a in pending)), strict=True):
                if ok:
                    answered.add(address)
            if len(answered) >= want:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(answered)} of {want} tasks of {service_filter} answered")
            await asyncio.sleep(POLL_S)

    async def gone(self, service_filter: dict, timeout: float = 60) -> None:
        """Untimed clean-up between samples: until no service matches."""
        deadline = time.monotonic() + timeout
        while (await self.engine.get("/services", params={"filters": json.dumps(service_filter)})).json():
            if time.monotonic() > deadline:
                raise TimeoutError(f"services {service_filter} still there")
            await asyncio.sleep(0.2)


async def timed_pair(call, poll) -> tuple[float, float]:
    """Seconds until the call returned and until the poll saw its tasks answer (the sample: the later one)."""
    t0 = time.monotonic()

    async def clocked(step) -> float:
        await step()
        return time.monotonic() - t0

    returned, answered = await asyncio.gather(clocked(call), clocked(poll))
    return returned, answered


class Raw:
    def __init__(self, engine: httpx.AsyncClient, poller: Poller, image: str, network: str):
        self.engine, self.poller, self.image, self.network = engine, poller, image, network

    async def once(self, name: str) -> tuple[tuple[float, float], tuple[float, float]]:
        by_name = {"name": [name]}
        body = {"Name": name, "Labels": {"workflow-bench": "raw"},
                "TaskTemplate": {"ContainerSpec": {"Image": self.image, "Init": True},
                                 "Networks": [{"Target": self.network}]},
                "Mode": {"Replicated": {"Replicas": 1}}, "EndpointSpec": {"Mode": "dnsrr"}}
        service_id = ""

        async def create():
            nonlocal service_id
            r = await self.engine.post("/services/create", json=body)
            r.raise_for_status()
            service_id = r.json()["ID"]

        async def scale():
            service = (await self.engine.get(f"/services/{service_id}")).json()
            spec = service["Spec"]
            spec["Mode"] = {"Replicated": {"Replicas": N}}
            r = await self.engine.post(f"/services/{service_id}/update",
                                       params={"version": str(service["Version"]["Index"])}, json=spec)
            r.raise_for_status()

        try:
            deploy = await timed_pair(create, lambda: self.poller.answering(by_name, 1))
            up = await timed_pair(scale, lambda: self.poller.answering(by_name, N))
        finally:
            await self.engine.delete(f"/services/{name}")
            await self.poller.gone(by_name)
        return deploy, up


class Ours:
    def __init__(self, api: httpx.AsyncClient, poller: Poller, image: str):
        self.api, self.poller, self.image = api, poller, image

    async def call(self, method: str, path: str, **kw) -> None:
        r = await self.api.request(method, path, **kw)
        if r.status_code >= 400:
            raise RuntimeError(f"{method} {path}: {r.status_code} {r.text}")

    async def once(self, app: str) -> tuple[tuple[float, float], tuple[float, float]]:
        by_app = {"label": [f"deis.app={app}"]}
        await self.call("POST", "/v2/apps/", json={"id": app})
        try:
            deploy = await timed_pair(lambda: self.call("POST", f"/v2/apps/{app}/builds/", json={"image": self.image}),
                                      lambda: self.poller.answering(by_app, 1))
            up = await timed_pair(lambda: self.call("POST", f"/v2/apps/{app}/scale/", json={"cmd": N}),
                                  lambda: self.poller.answering(by_app, N))
        finally:
            await self.call("DELETE", f"/v2/apps/{app}/")
            await self.poller.gone(by_app)
        return deploy, up


def start_controller(network: str) -> tuple[subprocess.Popen, str, Path]:
    data = Path(tempfile.mkdtemp(prefix="workflow-bench-swarm-"))
    port = free_port()
    env = {**os.environ, "WORKFLOW_SCHEDULER": "swarm", "WORKFLOW_SWARM_NETWORK": network,
           "WORKFLOW_ROUTER_ENABLED": "false", "WORKFLOW_HOST": "127.0.0.1", "WORKFLOW_PORT": str(port),
           "WORKFLOW_DATA_DIR": str(data), "WORKFLOW_REGISTRATION_MODE": "enabled",
           "WORKFLOW_STOP_GRACE_SECONDS": "2", "WORKFLOW_LOG_LEVEL": "warning"}
    subprocess.run([sys.executable, "-m", "workflow", "db", "upgrade"], env=env, check=True, capture_output=True)
    log = open(data / "serve.log", "ab")
    proc = subprocess.Popen([sys.executable, "-m", "workflow", "serve"], env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return proc, url, data
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError((data / "serve.log").read_text()[-3000:])
        time.sleep(0.05)


async def measure(url: str, image: str, network: str) -> dict[str, list[float]]:
    engine = httpx.AsyncClient(transport=httpx.AsyncHTTPTransport(uds="/var/run/docker.sock"),
                               base_url="http://docker", timeout=60)
    api = httpx.AsyncClient(base_url=url, timeout=300)
    r = await api.post("/v2/auth/register/", json={"username": "bench", "password": "bench-password",
                                                   "email": "bench@example.com"})
    r.raise_for_status()
    token = (await api.post("/v2/auth/login/", json={"username": "bench", "password": "bench-password"})).json()
    api.headers["Authorization"] = f"token {token['token']}"
    network_id = (await engine.get(f"/networks/{network}")).json()["Id"]
    poller = Poller(engine, network_id)
    raw, ours = Raw(engine, poller, image, network), Ours(api, poller, image)
    times: dict[str, list[float]] = {"ours deploy": [], "ours up": [], "raw deploy": [], "raw up": []}
    tag = uuid.uuid4().hex[:5]
    # a first round of each, not counted: every node pulls the image, the controller's engine too
    await raw.once(f"bench-raw-{tag}-w")
    await ours.once(f"bench-{tag}-w")
    for i in range(RUNS):
        order = ("ours", "raw") if i % 2 == 0 else ("raw", "ours")  # neither always goes first
        for who in order:
            if who == "ours":
                deploy, up = await ours.once(f"bench-{tag}-{i}")
            else:
                deploy, up = await raw.once(f"bench-raw-{tag}-{i}")
            times[f"{who} deploy"].append(max(deploy))
            times[f"{who} up"].append(max(up))
            # when the call returned / when the tasks answered: where a side's time goes
            print(f"    {who:4} #{i}: deploy {max(deploy):.3f} s (call {deploy[0]:.3f}, 200 {deploy[1]:.3f}), "
                  f"scale 1 → {N} {max(up):.3f} s (call {up[0]:.3f}, all 200 {up[1]:.3f})", flush=True)
    await api.aclose()
    await engine.aclose()
    await poller.http.aclose()
    return times


def inside(registry: str, network: str) -> None:
    """In the measuring container: the figures as JSON on the last line."""
    proc, url, data = start_controller(network)
    try:
        times = asyncio.run(measure(url, f"{registry}/test/web:latest", network))
    except BaseException:
        print((data / "serve.log").read_text()[-3000:], file=sys.stderr)
        raise
    finally:
        proc.terminate()
        proc.wait(30)
    print(json.dumps(times))


# --- on the host ----------------------------------------------------------------------------------------


def platform_image(registry: str) -> str:
    """The platform image (for its Python and dependencies), pushed where the nodes pull; its reference there."""
    built = dict(line.split("=", 1) for line in sh("bash", str(ROOT / "scripts" / "build-platform-image.sh"),
                                                   timeout=900).split())
    local = f"127.0.0.1:5000/{built['WORKFLOW_IMAGE']}"
    sh("docker", "tag", built["WORKFLOW_IMAGE"], local)
    sh("docker", "push", "-q", local, timeout=600)
    return f"{registry}/{built['WORKFLOW_IMAGE']}"


def run() -> dict[str, float]:
    print(f"== swarm: deploy → first 200 and scale 1 → {N} (all answering) on 3 nodes  vs  raw service create/"
          f"update, the same poller over the overlay", flush=True)
    print(f"   load before: {Path('/proc/loadavg').read_text().strip()}", flush=True)
    sh("bash", str(ROOT / "scripts" / "build-test-images.sh"), timeout=900)
    sh("bash", str(SCRIPT), "gc")
    up = subprocess.run(["bash", str(SCRIPT), "up", "3"], capture_output=True, text=True, timeout=300,
                        env={**os.environ, "SWARM_OWNER_PID": str(os.getpid())})
    if up.returncode != 0:
        raise RuntimeError(up.stderr)
    cluster = dict(line.split("=", 1) for line in up.stdout.split())
    try:
        image = platform_image(cluster["SWARM_REGISTRY"])
        node1 = cluster["SWARM_NODE1_HOST"]
        sh("docker", "-H", node1, "pull", "-q", image, timeout=600)
        result = subprocess.run(
            ["docker", "-H", node1, "run", "--rm", "--name", f"bench-swarm-{os.getpid()}",
             "--network", cluster["SWARM_NETWORK"], "-v", f"{ROOT}:{INSIDE_ROOT}:ro",
             "-v", f"{node1.removeprefix('unix://')}:/var/run/docker.sock", "-w", INSIDE_ROOT,
             "-e", f"PYTHONPATH={INSIDE_ROOT}/src:{INSIDE_ROOT}", "-e", f"BENCH_RUNS={RUNS}",
             image, "python", "-m", "bench.swarm", "inside", cluster["SWARM_REGISTRY"], cluster["SWARM_NETWORK"]],
            stdout=subprocess.PIPE, stderr=sys.stderr, text=True, timeout=3600)
        lines = result.stdout.splitlines()
        print("\n".join(lines[:-1]), flush=True)
        if result.returncode != 0:
            raise RuntimeError(f"the measuring container failed ({result.returncode})")
        times = json.loads(lines[-1])
    finally:
        sh("bash", str(SCRIPT), "down", cluster["SWARM_NAME"], check=False)
    print(f"   load after: {Path('/proc/loadavg').read_text().strip()}", flush=True)
    return {
        "swarm deploy": report("swarm deploy → first 200", times["ours deploy"], times["raw deploy"], target=1.25),
        f"swarm scale 1→{N}": report(f"swarm scale 1 → {N}, all answering", times["ours up"], times["raw up"],
                                     target=1.25),
    }


if __name__ == "__main__" and sys.argv[1:2] == ["inside"]:
    inside(*sys.argv[2:4])
