"""Deploy events: what recording costs a deploy. In-process, on the database the service uses (SQLite in a
temp dir; WORKFLOW_BENCH_DATABASE_URL for PostgreSQL): a deploy's outcome commit (the release row updated,
one app-log Event) without events, against the same commit with a recorder opened (its `max(seq)` query),
a typical good deploy's 12 events recorded (list appends, a live-buffer wake-up each) and flushed into that
commit; and the same with the progress events of a pulled image, its probe attempts and a drain (24 events).
Then what the progress listeners cost per call: the Docker backend's PullMeter and the recorder's pull
listener per engine stream message, the drain listener per look at the router. The end-to-end warm deploy
before/after is `python -m bench deploy` on main and on this branch."""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

from workflow.db import make_engine, make_sessionmaker
from workflow.migrate import upgrade
from workflow.models import App, Config, Event, Release
from workflow.services import deploy_events

RUNS = int(os.environ.get("EVENTS_RUNS", "200"))


def record_good_deploy(events: deploy_events.DeployEvents) -> None:
    """The 12 events of a one-container deploy replacing one container."""
    events.resolved("127.0.0.1:5000/test/web:latest", "sha256:" + "0" * 64)
    events.image_ready("127.0.0.1:5000/test/web:latest", [8080])
    events.planned({"cmd": 1})
    events.started("cmd", ["app-cmd-1-x"], 1, 1)
    events.probe("app-cmd-1-x", 1, "refused", "port 8080")
    events.probe("app-cmd-1-x", 3, "accepted", "port 8080")
    events.ready("cmd", 1, 1)
    events.switched()
    events.draining(["app-cmd-0-y"])
    events.stopped(["app-cmd-0-y"], 0.2)
    events.deployed()
    events.deployed()  # (a 12th, as a restart would add)


def record_progressed_deploy(events: deploy_events.DeployEvents) -> None:
    """The 12 events above and 10 of progress: a 5-layer pull (3 byte counts heard within 0.5 s: one
    event; 5 layers), 2 probe attempts, 2 drain counts."""
    from workflow.scheduler.base import PullProgress

    record_good_deploy(events)
    heard = events.pulling("127.0.0.1:5000/test/web@sha256:" + "0" * 64)
    for n in range(3):
        heard(PullProgress(layers_done=n, layers=5, current=n * 1000, total=5000))
    for n in range(5):
        heard(PullProgress(layers_done=n + 1, layers=5, current=5000, total=5000, layer=f"{n:064x}"))
    events.probe("app-cmd-1-x", 1, "failed", "HTTP 404", 404)
    events.probe("app-cmd-1-x", 4, "passed", "HTTP 200", 200)
    drained = events.in_flight()
    drained(2)
    drained(0)


def listener_costs(messages: int = 20000) -> tuple[float, float, int]:
    """Per-call cost (µs) of a pull stream message through PullMeter into the recorder's listener, and of a
    drain count into its listener; and the events the pull's messages made."""
    from workflow.scheduler.docker.images import PullMeter

    events = deploy_events.DeployEvents("bench", 1)
    meter = PullMeter(events.pulling("127.0.0.1:5000/test/web:latest"))
    layers = [f"{n:064x}" for n in range(5)]
    for layer in layers:
        meter.hear({"status": "Pulling fs layer", "id": layer})
    per_layer = messages // len(layers)
    t0 = time.perf_counter()
    for layer in layers:
        for n in range(per_layer):
            meter.hear({"status": "Downloading", "id": layer, "progressDetail": {"current": n, "total": per_layer}})
        meter.hear({"status": "Pull complete", "id": layer})
    pull_us = (time.perf_counter() - t0) / (per_layer * len(layers) + len(layers)) * 1e6
    drain = events.in_flight()
    t0 = time.perf_counter()
    for n in range(messages):
        drain(3 - (n * 3) // messages)
    drain_us = (time.perf_counter() - t0) / messages * 1e6
    return pull_us, drain_us, len(events.items)


VARIANTS = ("outcome commit", "+ recorder, 12 events, flush", "+ recorder, 22 events (progress), flush")


async def measure(url: str) -> list[list[float]]:
    """Seconds of each variant (VARIANTS), RUNS each, the order rotating run by run."""
    await asyncio.to_thread(upgrade, url)
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    ctx = SimpleNamespace(live_events={})
    async with sessions() as session:
        session.add(App(id="bench", owner="bench"))
        await session.flush()
        config = Config(app_id="bench", owner="bench")
        session.add(config)
        await session.flush()
        releases = [Release(app_id="bench", owner="bench", version=v, config_uuid=config.uuid)
                    for v in range(1, 3 * RUNS + 2)]
        session.add_all(releases)
        await session.commit()
    times: list[list[float]] = [[], [], []]
    recorders = (None, record_good_deploy, record_progressed_deploy)
    for i in range(RUNS):
        for k in range(3):
            variant = (i + k) % 3  # rotate which goes first
            release_version = 3 * i + variant + 1
            async with sessions() as session:
                release = await session.get(Release, releases[release_version - 1].uuid)
                t0 = time.perf_counter()
                record = recorders[variant]
                if record is not None:
                    async with deploy_events.recording(ctx, session, "bench", release_version) as events:
                        record(events)
                        release.summary = "deployed"
                        session.add(Event(app_id="bench", message="deployed"))
                        await events.flush(session)
                        await session.commit()
                else:
                    release.summary = "deployed"
                    session.add(Event(app_id="bench", message="deployed"))
                    await session.commit()
                times[variant].append(time.perf_counter() - t0)
    await engine.dispose()
    return times


def run() -> dict[str, float]:
    url = os.environ.get("WORKFLOW_BENCH_DATABASE_URL")
    if not url:
        tmp = tempfile.mkdtemp(prefix="workflow-bench-events-")
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
    print(f"== deploy events: outcome commit without / with a deploy's events ({url.split(':')[0]}, "
          f"{RUNS} runs each)", flush=True)
    times = asyncio.run(measure(url))
    base = statistics.median(times[0])
    p90_base = sorted(times[0])[int(0.9 * RUNS)]
    out = {}
    for name, samples in zip(VARIANTS, times, strict=True):
        median, p90 = statistics.median(samples), sorted(samples)[int(0.9 * RUNS)]
        added = f"  (added {1000 * (median - base):.2f} ms median, {1000 * (p90 - p90_base):.2f} ms at p90)"
        print(f"  {name:<40} median {median * 1000:6.2f} ms" + (added if samples is not times[0] else ""),
              flush=True)
    out["events added ms (median)"] = 1000 * (statistics.median(times[1]) - base)
    out["progress events added ms (median)"] = 1000 * (statistics.median(times[2]) - base)
    pull_us, drain_us, made = listener_costs()
    print(f"  pull stream message through PullMeter + listener: {pull_us:.2f} µs each "
          f"(20000 messages of a 5-layer pull made {made} events)", flush=True)
    print(f"  drain count through its listener: {drain_us:.2f} µs each", flush=True)
    out["pull stream message ms"] = pull_us / 1000
    out["drain look ms"] = drain_us / 1000
    return out
