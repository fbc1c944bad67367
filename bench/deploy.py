"""Deploy: `POST /v2/apps/{id}/builds/` (what `deis pull` sends) → first 200 through the router, against
`docker pull` + `docker run -d -p 127.0.0.1::8080` + polling the published port until 200; cold (every local
copy of the image removed first, for both, and checked gone) and warm (pulled first, for both).

A third side, for information: the raw path with `docker run --network` on a bridge network of the bench's
own made like the platform's (inter-container traffic off). The engine starts a container on a user-defined
network more slowly than on its default bridge (it sets up the embedded DNS resolver in the container's
namespace: a re-exec of dockerd running iptables there); the platform's containers must be on such a network
(tenants do not reach each other), so this side shows how much of the gap is that engine work.
"""

from __future__ import annotations

import os
import time

import httpx

from .common import (
    RUNS,
    Platform,
    ensure_bench_image,
    local_images,
    remove_image,
    report,
    sh,
    summary,
    wait_200,
)


def ours_once(platform: Platform, client: httpx.Client, app: str, image: str) -> float:
    platform.create_app(app)
    t0 = time.monotonic()
    platform.deploy(app, image)
    wait_200(client, platform.url + "/", host=f"{app}.localhost")
    elapsed = time.monotonic() - t0
    platform.destroy(app)
    return elapsed


def paired(name: str, ours: list[float], raw: list[float]) -> float:
    """The median of each round's ratio (ours and raw measured one after the other): steadier than the ratio of
    the medians when the machine's load changes between rounds (other sessions' suites on the 2 cores)."""
    med, lo, hi = summary([o / r for o, r in zip(ours, raw, strict=True)])
    print(f"    {name}: median of the per-round ratios {med:.2f}× (min {lo:.2f}, max {hi:.2f})", flush=True)
    return med


def raw_once(client: httpx.Client, image: str, name: str, network: str | None = None) -> float:
    t0 = time.monotonic()
    sh("docker", "pull", "-q", image)
    on = ["--network", network] if network else []
    cid = sh("docker", "run", "-d", "--name", name, "--init", *on, "-p", "127.0.0.1::8080", image).strip()
    port = sh("docker", "port", cid, "8080/tcp").splitlines()[0].rpartition(":")[2]
    wait_200(client, f"http://127.0.0.1:{port}/")
    elapsed = time.monotonic() - t0
    sh("docker", "rm", "-f", cid, check=False)
    return elapsed


def run() -> dict[str, float]:
    print("== deploy: POST builds → first 200 via router  vs  docker pull + run -p + poll", flush=True)
    image = ensure_bench_image()
    network = f"workflow-bench-rawnet-{os.getpid()}"
    sh("docker", "network", "create", "-o", "com.docker.network.bridge.enable_icc=false", network)
    ratios = {}
    try:
        with Platform("bench-deploy") as platform, httpx.Client() as client:
            platform.start()
            platform.login()
            for mode in ("cold", "warm"):
                times: dict[str, list[float]] = {"ours": [], "raw": [], "raw-net": []}
                sides = list(times)
                for i in range(RUNS):
                    # rotate which goes first, so none always gets the warmer engine
                    for who in sides[i % 3:] + sides[:i % 3]:
                        if mode == "cold":
                            remove_image(image)
                            if local_images(image):
                                raise RuntimeError(f"{image} is still on the engine: a cold sample would not be cold")
                        else:
                            sh("docker", "pull", "-q", image)
                        if who == "ours":
                            sample = ours_once(platform, client, f"bench-{mode}-{i}", image)
                        else:
                            sample = raw_once(client, image, f"workflow-bench-{who}-{mode}-{i}-{os.getpid()}",
                                              network if who == "raw-net" else None)
                        times[who].append(sample)
                # issue 12's target: with no reload floor a deploy costs the engine's work plus ~10 %
                ratios[f"deploy {mode}"] = report(f"deploy, {mode}", times["ours"], times["raw"], target=1.10)
                ratios[f"deploy {mode} (per-round)"] = paired("ours/raw", times["ours"], times["raw"])
                ratios[f"deploy {mode} vs raw on a user network"] = report(
                    f"deploy, {mode}, against the raw path on a user-defined network (information)",
                    times["ours"], times["raw-net"])
                ratios[f"deploy {mode} vs raw on a user network (per-round)"] = paired(
                    "ours/raw-net", times["ours"], times["raw-net"])
    finally:
        sh("docker", "network", "rm", network, check=False)
        remove_image(image)
    return ratios
