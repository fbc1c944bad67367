"""Deploy events: what recording costs a deploy. In-process, on the database the service uses (SQLite in a
temp dir; WORKFLOW_BENCH_DATABASE_URL for PostgreSQL): a deploy's outcome commit (the release row updated,
one app-log Event) without events, against the same commit with a recorder opened (its `max(seq)` query),
a typical good deploy's 12 events recorded (list appends, a live-buffer wake-up each) and flushed into that
commit. The end-to-end warm deploy before/after is `python -m bench deploy` on main and on this branch."""

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


async def measure(url: str) -> tuple[list[float], list[float]]:
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
                    for v in range(1, 2 * RUNS + 2)]
        session.add_all(releases)
        await session.commit()
    without, with_events = [], []
    for i in range(RUNS):
        for recorded in (i % 2 == 0, i % 2 == 1):  # alternate which goes first
            release_version = 2 * i + (2 if recorded else 1)
            async with sessions() as session:
                release = await session.get(Release, releases[release_version - 1].uuid)
                t0 = time.perf_counter()
                if recorded:
                    async with deploy_events.recording(ctx, session, "bench", release_version) as events:
                        record_good_deploy(events)
                        release.summary = "deployed"
                        session.add(Event(app_id="bench", message="deployed"))
                        await events.flush(session)
                        await session.commit()
                    with_events.append(time.perf_counter() - t0)
                else:
                    release.summary = "deployed"
                    session.add(Event(app_id="bench", message="deployed"))
                    await session.commit()
                    without.append(time.perf_counter() - t0)
    await engine.dispose()
    return without, with_events


def run() -> dict[str, float]:
    url = os.environ.get("WORKFLOW_BENCH_DATABASE_URL")
    tmp = None
    if not url:
        tmp = tempfile.mkdtemp(prefix="workflow-bench-events-")
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
    print(f"== deploy events: outcome commit without / with a deploy's 12 events ({url.split(':')[0]}, "
          f"{RUNS} runs each)", flush=True)
    without, with_events = asyncio.run(measure(url))
    base, rec = statistics.median(without), statistics.median(with_events)
    p90 = sorted(with_events)[int(0.9 * len(with_events))] - sorted(without)[int(0.9 * len(without))]
    print(f"  outcome commit               median {base * 1000:6.2f} ms", flush=True)
    print(f"  + recorder, 12 events, flush median {rec * 1000:6.2f} ms  (added {1000 * (rec - base):.2f} ms "
          f"median, {1000 * p90:.2f} ms at p90)", flush=True)
    return {"events added ms (median)": 1000 * (rec - base)}
