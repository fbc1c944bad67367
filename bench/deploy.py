"""Deploy: `POST /v2/apps/{id}/builds/` (what `deis pull` sends) → first 200 through the router, against
`docker pull` + `docker run -d -p 127.0.0.1::8080` + polling the published port until 200; cold (every local
copy of the image removed first, for both, and checked gone) and warm (pulled first, for both)."""

from __future__ import annotations

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


def raw_once(client: httpx.Client, image: str, name: str) -> float:
    t0 = time.monotonic()
    sh("docker", "pull", "-q", image)
    cid = sh("docker", "run", "-d", "--name", name, "--init", "-p", "127.0.0.1::8080", image).strip()
    port = sh("docker", "port", cid, "8080/tcp").splitlines()[0].rpartition(":")[2]
    wait_200(client, f"http://127.0.0.1:{port}/")
    elapsed = time.monotonic() - t0
    sh("docker", "rm", "-f", cid, check=False)
    return elapsed


def run() -> dict[str, float]:
    print("== deploy: POST builds → first 200 via router  vs  docker pull + run -p + poll", flush=True)
    image = ensure_bench_image()
    ratios = {}
    with Platform("bench-deploy") as platform, httpx.Client() as client:
        platform.start()
        platform.login()
        for mode in ("cold", "warm"):
            ours: list[float] = []
            raw: list[float] = []
            for i in range(RUNS):
                # alternate which goes first, so neither always gets the warmer engine
                order = ("ours", "raw") if i % 2 == 0 else ("raw", "ours")
                for who in order:
                    if mode == "cold":
                        remove_image(image)
                        if local_images(image):
                            raise RuntimeError(f"{image} is still on the engine: a cold sample would not be cold")
                    else:
                        sh("docker", "pull", "-q", image)
                    if who == "ours":
                        ours.append(ours_once(platform, client, f"bench-{mode}-{i}", image))
                    else:
                        raw.append(raw_once(client, image, f"workflow-bench-raw-{mode}-{i}"))
            # issue 12's target: with no reload floor a deploy costs the engine's work plus ~10 %
            ratios[f"deploy {mode}"] = report(f"deploy, {mode}", ours, raw, target=1.10)
    remove_image(image)
    return ratios
