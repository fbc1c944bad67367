"""Digest resolution: what pinning every build to the registry's manifest digest adds to a deploy (issue 11).

The build step's image work, before: `pull` of a present image = one inspect by tag. Now: `resolve` (the
Engine API's distribution inspect, which asks the registry for the manifest) + `pull` of `name@digest`
(an inspect by digest when local). Both on the real engine in this process, alternately, against the local
registry by host (`127.0.0.1:5000/bench/web`) and through the engine's Docker Hub mirror (`bench/web`), and
the registry fallback (`HEAD /v2/<name>/manifests/<tag>` from the controller) for comparison. Target: the
resolution adds ≤ 20 ms. The deploy as a whole (`POST builds` → first 200) is `python -m bench deploy`.
"""

from __future__ import annotations

import asyncio
import statistics
import time

import aiodocker

from workflow.domain.images import pinned
from workflow.scheduler.docker import DockerScheduler

from .common import REGISTRY, RUNS, ensure_bench_image, fmt_times, remove_image, sh

ROUNDS = max(RUNS * 8, 20)  # a step of milliseconds: many samples per variant


async def _measure(image: str) -> tuple[dict[str, list[float]], str]:
    docker = aiodocker.Docker()
    try:
        engine = DockerScheduler(docker, network="unused")
        fallback = DockerScheduler(docker, network="unused")
        fallback.distribution_inspect = False
        digest = await engine.resolve(image)
        await engine.pull(image)
        await engine.pull(pinned(image, digest))  # both forms local before measuring

        async def before() -> None:
            await engine.pull(image)

        async def after(scheduler: DockerScheduler) -> None:
            found = await scheduler.resolve(image)
            await scheduler.pull(pinned(image, found))

        samples: dict[str, list[float]] = {"before": [], "engine": [], "fallback": []}
        steps = {"before": before, "engine": lambda: after(engine), "fallback": lambda: after(fallback)}
        for i in range(ROUNDS):
            order = list(steps) if i % 2 == 0 else list(reversed(steps))
            for name in order:
                t0 = time.perf_counter()
                await steps[name]()
                samples[name].append(time.perf_counter() - t0)
        return samples, digest
    finally:
        await docker.close()


def run() -> dict[str, float]:
    print("== digest: build-step image work, inspect by tag (before) vs resolve + inspect by digest", flush=True)
    image = ensure_bench_image()
    results = {}
    try:
        for label, ref in (("by host", f"{REGISTRY}/{image}"), ("via mirror", image)):
            sh("docker", "pull", "-q", ref)
            samples, digest = asyncio.run(_measure(ref))
            base = statistics.median(samples["before"])
            print(f"-- {label} ({ref}), n={ROUNDS} each, alternating")
            for name, values in samples.items():
                added = (statistics.median(values) - base) * 1000
                extra = "" if name == "before" else f"  added {added:+.1f} ms"
                print(f"   {name:<9} {fmt_times(values, 'ms')}{extra}")
            for name in ("engine", "fallback"):
                results[f"digest {label}, {name} added ms"] = (statistics.median(samples[name]) - base) * 1000
            sh("docker", "rmi", ref, pinned(ref, digest), check=False)
    finally:
        remove_image(image)
    engine_added = max(v for k, v in results.items() if k.endswith("engine added ms"))
    print(f"   target: resolution adds <= 20 ms: {'met' if engine_added <= 20 else 'MISSED'} "
          f"({engine_added:.1f} ms worst)", flush=True)
    return results
