"""The autoscaler's cost at 200 running containers (20 apps × 10, the busybox `bench/web` image, as in `host`):

- one autoscaler pass with a CPU rule on every app (`min=max=10`, so nothing scales: the pass is read rules,
  list each app's containers, one-shot stats of all 200, decide), from `workflow_autoscale_pass_duration_seconds`
  in /metrics (its sum grows by one pass's duration per pass; interval 1 s), against the raw floor: the same
  200 one-shot Engine API stats calls, as many at a time as the autoscaler makes, plus the 20 per-app listings;
- the reconciler's full pass without rules and while the autoscaler runs every second (it must not be delayed);
- one pass with request-rate rules instead (`rps_per_container`, `p95_ms` on every app, each app's host
  requested through the router first so that its counters exist): rules, listings, one read of the router's
  counters through its control endpoint, decide — no stats call — against the same 20 listings.

All containers are removed afterwards (`Platform.close`), also on failure.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import statistics
import time
from pathlib import Path

import httpx

from workflow.services.autoscaler import STATS_CONCURRENCY

from .common import Platform, ensure_bench_image, remove_image, report, sh, wait_200
from .host import populate, reconcile_passes

APPS = int(os.environ.get("BENCH_HOST_APPS", "20"))
PER_APP = int(os.environ.get("BENCH_HOST_PER_APP", "10"))
PASSES = 10
CONCURRENCY = STATS_CONCURRENCY
CPU_WINDOW = 40.0  # seconds


def _histogram(text: str, name: str) -> tuple[float, float]:
    found = {}
    for suffix in ("sum", "count"):
        m = re.search(rf"^{name}_{suffix} ([0-9.e+-]+)$", text, re.M)
        if m is None:
            raise RuntimeError(f"{name}_{suffix} not in /metrics")
        found[suffix] = float(m.group(1))
    return found["sum"], found["count"]


def cpu_seconds(platform: Platform) -> float:
    """The controller process's user + system CPU time."""
    assert platform.proc is not None
    fields = Path(f"/proc/{platform.proc.pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_per_second(platform: Platform) -> tuple[float, int]:
    """The controller's CPU use (cores) over CPU_WINDOW seconds with no request, and the autoscaler passes in it."""
    name = "workflow_autoscale_pass_duration_seconds"
    _, count0 = _histogram(platform.call("GET", "/metrics").text, name)
    cpu0, t0 = cpu_seconds(platform), time.monotonic()
    time.sleep(CPU_WINDOW)
    cpu, wall = cpu_seconds(platform) - cpu0, time.monotonic() - t0
    _, count = _histogram(platform.call("GET", "/metrics").text, name)
    return cpu / wall, int(count - count0)


def autoscale_passes(platform: Platform, n: int) -> list[float]:
    """Durations of the next `n` autoscaler passes (a scrape that saw exactly one new pass: its duration)."""
    name = "workflow_autoscale_pass_duration_seconds"
    out: list[float] = []
    total, count = _histogram(platform.call("GET", "/metrics").text, name)
    deadline = time.monotonic() + 60 + 30 * n  # a pass is ~8 s at 200 containers, more on a loaded machine
    while len(out) < n:
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {len(out)} autoscaler passes seen")
        time.sleep(0.05)
        new_total, new_count = _histogram(platform.call("GET", "/metrics").text, name)
        if new_count == count + 1:
            out.append(new_total - total)
            print(f"    pass {len(out)}: {out[-1] * 1000:.0f} ms", flush=True)
        elif new_count > count + 1:
            print(f"    {new_count - count:.0f} passes between two scrapes (not counted)", flush=True)
        total, count = new_total, new_count
    return out


async def raw_pass(network: str, apps: list[str]) -> float:
    """The floor of a pass: the per-app listings and one one-shot stats call per running container, 8 at a time."""
    transport = httpx.AsyncHTTPTransport(uds="/var/run/docker.sock")
    async with httpx.AsyncClient(transport=transport, base_url="http://docker", timeout=30) as docker:
        t0 = time.perf_counter()
        ids = []
        for app in apps:
            filters = json.dumps({"network": [network], "label": [f"deis.app={app}"]})
            listed = (await docker.get("/containers/json", params={"all": "1", "filters": filters})).json()
            ids += [c["Id"] for c in listed if c["State"] == "running"]
        gate = asyncio.Semaphore(CONCURRENCY)

        async def stats(cid: str) -> None:
            async with gate:
                r = await docker.get(f"/containers/{cid}/stats", params={"stream": "false", "one-shot": "true"})
                assert r.json()["cpu_stats"]["cpu_usage"]["total_usage"] > 0

        await asyncio.gather(*(stats(cid) for cid in ids))
        assert len(ids) == len(apps) * PER_APP, len(ids)
        return time.perf_counter() - t0


async def raw_listings(network: str, apps: list[str]) -> float:
    """The floor of a request-rule pass: the per-app listings (the counters' read is ours alone)."""
    transport = httpx.AsyncHTTPTransport(uds="/var/run/docker.sock")
    async with httpx.AsyncClient(transport=transport, base_url="http://docker", timeout=30) as docker:
        t0 = time.perf_counter()
        for app in apps:
            filters = json.dumps({"network": [network], "label": [f"deis.app={app}"]})
            assert (await docker.get("/containers/json", params={"all": "1", "filters": filters})).status_code == 200
        return time.perf_counter() - t0


def run() -> dict[str, float]:
    total = APPS * PER_APP
    print(f"== autoscale: one autoscaler pass over {total} running containers ({APPS} apps × {PER_APP}, a CPU rule "
          f"on each)  vs  the Engine API calls it makes; the reconciler pass with and without it", flush=True)
    image = ensure_bench_image()
    sh("docker", "pull", "-q", image)
    results: dict[str, float] = {}
    try:
        env = {"WORKFLOW_RECONCILE_INTERVAL": "1", "WORKFLOW_AUTOSCALE_INTERVAL": "1",
               "WORKFLOW_AUTOSCALE_DOWNSCALE_WINDOW": "3600"}
        with Platform("bench-autoscale", extra_env=env) as platform:
            platform.start()
            platform.login()
            apps = [f"bench-as-{i:02d}" for i in range(APPS)]
            t0 = time.monotonic()
            populate(platform, image, apps)
            running = sh("docker", "ps", "-q", "--filter", f"network={platform.network}").split()
            print(f"  {len(running)} containers running after {time.monotonic() - t0:.0f} s", flush=True)
            assert len(running) == total, f"{len(running)} running, wanted {total}"

            idle, _ = cpu_per_second(platform)
            before = reconcile_passes(platform, PASSES)
            rule = {"cmd": {"min": PER_APP, "max": PER_APP, "cpu_percent": 50}}
            for app in apps:
                platform.call("POST", f"/v2/apps/{app}/settings/", json={"autoscale": rule})
            time.sleep(3)  # every container read once already: the passes measured read each one once
            passes = autoscale_passes(platform, PASSES)
            busy, busy_passes = cpu_per_second(platform)
            during = reconcile_passes(platform, PASSES)
            raw = [asyncio.run(raw_pass(platform.network, apps)) for _ in range(PASSES)]
            results[f"autoscale pass ({total})"] = report(
                f"one autoscaler pass over {total} containers  vs  {APPS} listings + {total} one-shot stats "
                f"({CONCURRENCY} at a time), Engine API", passes, raw, unit="ms")
            results[f"reconcile pass with autoscaler ({total})"] = report(
                "reconciler pass while the autoscaler runs every second  vs  the same without rules",
                during, before, unit="ms")
            results["autoscale pass ms"] = statistics.median(passes) * 1000
            per_pass = (busy - idle) * CPU_WINDOW / busy_passes
            print(f"  controller CPU, {CPU_WINDOW:.0f} s without requests: {100 * idle:.1f} % of one core without "
                  f"rules (reconciler, health monitor), {100 * busy:.1f} % with them "
                  f"({busy_passes} autoscaler passes): "
                  f"{1000 * per_pass:.0f} ms of CPU per pass over {total} containers", flush=True)
            results["autoscale controller CPU ms per pass"] = 1000 * per_pass
            structures = {platform.call("GET", f"/v2/apps/{app}/").json()["structure"]["cmd"] for app in apps}
            assert structures == {PER_APP}, structures  # the rule held every count

            # Request-rate rules instead: targets far above a few requests, min = max, so nothing scales.
            with httpx.Client(timeout=10) as client:
                for app in apps:
                    wait_200(client, platform.url + "/", host=f"{app}.localhost")
            rule = {"cmd": {"min": PER_APP, "max": PER_APP, "rps_per_container": 1000, "p95_ms": 5000}}
            for app in apps:
                platform.call("POST", f"/v2/apps/{app}/settings/", json={"autoscale": rule})
            time.sleep(3)
            on_requests = autoscale_passes(platform, PASSES)
            raw = [asyncio.run(raw_listings(platform.network, apps)) for _ in range(PASSES)]
            results[f"autoscale request-rule pass ({total})"] = report(
                f"one autoscaler pass with request-rate rules over {total} containers  vs  {APPS} listings, "
                "Engine API", on_requests, raw, unit="ms")
            structures = {platform.call("GET", f"/v2/apps/{app}/").json()["structure"]["cmd"] for app in apps}
            assert structures == {PER_APP}, structures
            print(f"  controller RSS {platform.rss_kb() / 1024:.0f} MB", flush=True)
            platform.stop()
    finally:
        remove_image(image)
    return results
