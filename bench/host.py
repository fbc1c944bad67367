"""Scale of one host: 200 running containers (20 apps × 10, the busybox `bench/web` image) under one
`workflow serve`; then

- the time of one full reconciler pass (`reconcile_all`: one engine listing, one query, compare), read from
  `workflow_reconciler_last_pass_seconds` in /metrics with the pass interval set to 1 s, against the raw
  floor of a pass: one Engine API `GET /containers/json` of the same 200 containers (unix socket);
- `deis ps -a APP` (the real CLI, a process per call) against `docker ps` of the same app's containers,
  and `GET /v2/apps/{id}/pods/` through nginx (keep-alive) against the Engine API listing of that app;
- `docker ps` of all 200 and the Engine API listing of all 200, for scale.

All containers are removed afterwards (the platform's network is emptied by `Platform.close`), also on
failure.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import statistics
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import aiodocker
import httpx

from .common import BIN, Platform, ensure_bench_image, percentile, remove_image, report, sh

APPS = int(os.environ.get("BENCH_HOST_APPS", "20"))
PER_APP = int(os.environ.get("BENCH_HOST_PER_APP", "10"))
PASSES = 10  # reconciler passes sampled
CLI_CALLS = 20  # `deis ps` / `docker ps` processes each
API_CALLS = 200  # keep-alive requests each


def engine() -> httpx.Client:
    return httpx.Client(transport=httpx.HTTPTransport(uds="/var/run/docker.sock"), base_url="http://docker",
                        timeout=30)


def metric(text: str, name: str) -> float:
    m = re.search(rf"^{name} ([0-9.e+-]+)$", text, re.M)
    if m is None:
        raise RuntimeError(f"{name} not in /metrics")
    return float(m.group(1))


def reconcile_passes(platform: Platform, n: int) -> list[float]:
    """Durations of the next `n` full reconciler passes (the controller runs one every second here)."""
    out: list[float] = []
    last = metric(platform.call("GET", "/metrics").text, "workflow_reconciler_passes_total")
    deadline = time.monotonic() + 30 + 5 * n
    while len(out) < n:
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {len(out)} reconciler passes seen")
        time.sleep(0.05)
        text = platform.call("GET", "/metrics").text
        passes = metric(text, "workflow_reconciler_passes_total")
        if passes > last:
            last = passes
            out.append(metric(text, "workflow_reconciler_last_pass_seconds"))
    return out


def timed_calls(fn, n: int) -> list[float]:
    fn()  # warm
    values = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        values.append(time.perf_counter() - t0)
    return values


def p50_p99(values: list[float]) -> str:
    return f"p50 {statistics.median(values) * 1000:7.1f} ms   p99 {percentile(values, 99) * 1000:7.1f} ms"


async def listing_with_inspects(network: str, n: int) -> list[float]:
    """How the scheduler listed containers before (workflow 41eb017): the listing, then one inspect per
    container, concurrently — for comparison with the single listing it does now."""
    docker = aiodocker.Docker()
    try:
        values = []
        for _ in range(n + 1):
            t0 = time.perf_counter()
            listed = await docker.containers.list(all=True, filters={"network": [network]})
            await asyncio.gather(*(docker.containers.container(c.id).show() for c in listed))
            values.append(time.perf_counter() - t0)
        return values[1:]
    finally:
        await docker.close()


def populate(platform: Platform, image: str, apps: list[str]) -> None:
    def one(app: str) -> None:
        platform.create_app(app)
        platform.deploy(app, image)
        platform.scale(app, cmd=PER_APP)

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(one, apps))


def run() -> dict[str, float]:
    total = APPS * PER_APP
    print(f"== host: {total} running containers ({APPS} apps × {PER_APP}); one reconciler pass; `deis ps` "
          f"latency  vs  Engine API / docker ps listings", flush=True)
    image = ensure_bench_image()
    sh("docker", "pull", "-q", image)
    results: dict[str, float] = {}
    profile_dir = Path(tempfile.mkdtemp(prefix="bench-host-profile-"))
    try:
        with Platform("bench-host", extra_env={"WORKFLOW_RECONCILE_INTERVAL": "1"}) as platform, \
                engine() as docker:
            platform.start()
            token = platform.login()
            apps = [f"bench-host-{i:02d}" for i in range(APPS)]
            t0 = time.monotonic()
            populate(platform, image, apps)
            running = sh("docker", "ps", "-q", "--filter", f"network={platform.network}").split()
            print(f"  {len(running)} containers running after {time.monotonic() - t0:.0f} s "
                  f"(create + deploy + scale to {PER_APP}, 4 apps at a time); controller RSS "
                  f"{platform.rss_kb() / 1024:.0f} MB", flush=True)
            assert len(running) == total, f"{len(running)} running, wanted {total}"

            all_filter = json.dumps({"network": [platform.network]})

            def engine_list_all() -> None:
                r = docker.get("/containers/json", params={"all": "1", "filters": all_filter})
                assert len(r.json()) == total

            passes = reconcile_passes(platform, PASSES)
            raw_list = timed_calls(engine_list_all, PASSES * 5)
            results[f"host reconcile pass ({total})"] = report(
                f"one full reconciler pass over {total} containers  vs  Engine API GET /containers/json of them",
                passes, raw_list, unit="ms")
            n_plus_one = asyncio.run(listing_with_inspects(platform.network, PASSES))
            print(f"    (before 41eb017 the scheduler inspected every container on each listing: listing + {total} "
                  f"inspects, Engine API via aiodocker: {p50_p99(n_plus_one)})", flush=True)
            results[f"host listing + {total} inspects (old N+1) ms"] = statistics.median(n_plus_one) * 1000
            docker_ps_all = timed_calls(lambda: sh("docker", "ps", "-a", "--filter", f"network={platform.network}"),
                                        CLI_CALLS)
            print(f"    (for scale: `docker ps -a` of all {total}: {p50_p99(docker_ps_all)})", flush=True)

            app = apps[len(apps) // 2]
            profile = profile_dir / "client.json"
            profile.write_text(json.dumps({"username": "bench", "ssl_verify": False, "controller": platform.url,
                                           "token": token, "response_limit": 100}))
            env = {**os.environ, "DEIS_PROFILE": str(profile)}

            def deis_ps() -> None:
                out = subprocess.run([str(BIN / "deis"), "ps", "-a", app], env=env, capture_output=True, text=True,
                                     timeout=60)
                if out.returncode != 0 or out.stdout.count(f"{app}-cmd-") != PER_APP:
                    raise RuntimeError(f"deis ps: {out.returncode} {out.stdout}{out.stderr}")

            def docker_ps() -> None:
                out = sh("docker", "ps", "-a", "--filter", f"network={platform.network}", "--filter",
                         f"label=deis.app={app}")
                assert out.count(f"{app}-cmd-") == PER_APP

            def deis_version() -> None:  # the CLI's start-up alone (interpreter + imports), no request
                subprocess.run([str(BIN / "deis"), "--version"], env=env, capture_output=True, check=True, timeout=60)

            ours_cli, raw_cli, floor_cli = [], [], []
            deis_ps()
            docker_ps()
            for i in range(CLI_CALLS):  # alternately
                for who in (("ours", "raw", "floor") if i % 2 == 0 else ("floor", "raw", "ours")):
                    fn, out = {"ours": (deis_ps, ours_cli), "raw": (docker_ps, raw_cli),
                               "floor": (deis_version, floor_cli)}[who]
                    t0 = time.perf_counter()
                    fn()
                    out.append(time.perf_counter() - t0)
            results["host deis ps"] = report(f"`deis ps -a APP` ({PER_APP} pods, {total} on the host)  vs  "
                                             f"`docker ps --filter label=deis.app=APP`", ours_cli, raw_cli, unit="ms")
            print(f"    ours {p50_p99(ours_cli)};  raw {p50_p99(raw_cli)}")
            print(f"    `deis --version` (CLI start-up, no request): {p50_p99(floor_cli)}", flush=True)

            app_filter = json.dumps({"network": [platform.network], "label": [f"deis.app={app}"]})
            assert platform.api is not None
            api = platform.api

            def pods() -> None:
                r = api.get(f"/v2/apps/{app}/pods/")
                r.raise_for_status()
                assert r.json()["count"] == PER_APP

            def engine_list_app() -> None:
                r = docker.get("/containers/json", params={"all": "1", "filters": app_filter})
                assert len(r.json()) == PER_APP

            ours_api, raw_api = [], []
            pods()
            engine_list_app()
            for i in range(API_CALLS):
                for who in (("ours", "raw") if i % 2 == 0 else ("raw", "ours")):
                    t0 = time.perf_counter()
                    (pods if who == "ours" else engine_list_app)()
                    (ours_api if who == "ours" else raw_api).append(time.perf_counter() - t0)
            results["host GET pods"] = report(
                f"GET /v2/apps/{{id}}/pods/ via nginx ({PER_APP} pods)  vs  Engine API GET /containers/json "
                f"(that app)", ours_api, raw_api, unit="ms")
            print(f"    ours {p50_p99(ours_api)};  raw {p50_p99(raw_api)}")
            results["host GET pods p99 ms"] = percentile(ours_api, 99) * 1000
            results["host deis ps p50 ms"] = statistics.median(ours_cli) * 1000
            results["host deis --version p50 ms"] = statistics.median(floor_cli) * 1000
            results["host reconcile pass ms"] = statistics.median(passes) * 1000
            t0 = time.monotonic()
            platform.stop()  # the controller leaves its containers running; Platform.close removes them
            print(f"  controller stopped in {time.monotonic() - t0:.1f} s; removing {total} containers", flush=True)
    finally:
        sh("rm", "-rf", str(profile_dir), check=False)
        remove_image(image)
    return results
