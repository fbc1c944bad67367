"""API: latency of `GET /v2/apps/{id}/`, `GET /v2/apps/` (paginated) and `GET /v2/apps/{id}/releases/` with
1,000 apps and 10,000 releases inserted straight into a migrated database, on SQLite and on PostgreSQL
(database `workflow_bench`, created and dropped here); the controller's start-up time (process start →
/healthz 200) and idle RSS (VmRSS of `workflow serve`). Requests go through the platform's nginx, one at a
time on a keep-alive connection; `GET /healthz` is the floor (nginx + uvicorn, no database)."""

from __future__ import annotations

import asyncio
import re
import time
from datetime import timedelta

import httpx
from sqlalchemy.ext.asyncio import create_async_engine

from workflow.migrate import upgrade
from workflow.models import TLS, App, AppSettings, Build, Config, Domain, Release, utcnow

from .common import RUNS, Platform, percentile, sh, summary

APPS = 1000
RELEASES = 10_000
BIG_APP = "bench-0000"  # holds the releases the others do not: a paginated list of ~1,000
REQUESTS = 300
PG_ADMIN = "postgresql://workflow:workflow@127.0.0.1:5432/postgres"
PG_URL = "postgresql+asyncpg://workflow:workflow@127.0.0.1:5432/workflow_bench"
OWNER = "bench"


async def _pg(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def pg_reset(create: bool) -> None:
    asyncio.run(_pg("DROP DATABASE IF EXISTS workflow_bench WITH (FORCE)"))
    if create:
        asyncio.run(_pg("CREATE DATABASE workflow_bench OWNER workflow"))


async def populate(url: str) -> None:
    """1,000 apps (with their config, build, settings, tls, domain) and 10,000 releases."""
    from sqlmodel.ext.asyncio.session import AsyncSession

    engine = create_async_engine(url)
    base = utcnow() - timedelta(days=30)
    per_app = RELEASES // APPS - 1
    try:
        async with AsyncSession(engine, expire_on_commit=False) as session:
            rows: list = []
            releases = 0
            for i in range(APPS):
                app_id = f"bench-{i:04d}"
                count = per_app if i else RELEASES - per_app * (APPS - 1)
                config = Config(app_id=app_id, owner=OWNER, values={"GREETING": f"hello {i}"})
                build = Build(app_id=app_id, owner=OWNER, image="bench/web:latest", procfile={})
                rows += [App(id=app_id, owner=OWNER, structure={}, created=base, updated=base), config, build,
                         AppSettings(app_id=app_id, owner=OWNER), TLS(app_id=app_id, owner=OWNER),
                         Domain(app_id=app_id, owner=OWNER, domain=app_id)]
                for v in range(1, count + 1):
                    rows.append(Release(app_id=app_id, owner=OWNER, version=v, config_uuid=config.uuid,
                                        build_uuid=build.uuid if v > 1 else None, summary=f"{OWNER} deployed v{v}",
                                        created=base + timedelta(minutes=v), updated=base + timedelta(minutes=v)))
                    releases += 1
                if len(rows) > 5000:
                    session.add_all(rows)
                    await session.flush()
                    rows = []
            session.add_all(rows)
            await session.commit()
            assert releases == RELEASES, releases
    finally:
        await engine.dispose()


def latencies(client: httpx.Client, path: str, n: int = REQUESTS) -> list[float]:
    for _ in range(10):
        client.get(path).raise_for_status()
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        r = client.get(path)
        out.append(time.perf_counter() - t0)
        r.raise_for_status()
    return out


def wrk_rps(url: str, token: str) -> float:
    out = sh("wrk", "-t1", "-c4", "-d4s", "-H", f"Authorization: token {token}", url, timeout=40)
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def bench_backend(label: str, database_url: str | None) -> dict[str, float]:
    results: dict[str, float] = {}
    with Platform(f"bench-api-{label}", database_url=database_url) as platform:
        t0 = time.monotonic()
        upgrade(platform.database_url)
        platform.migrated = True
        platform.start()
        token = platform.login(OWNER)  # the first user: an administrator
        platform.stop()
        asyncio.run(populate(platform.database_url))
        print(f"  [{label}] migrated and populated ({APPS} apps, {RELEASES} releases) in "
              f"{time.monotonic() - t0:.1f} s", flush=True)
        starts = []
        for i in range(RUNS):
            starts.append(platform.start())
            if i < RUNS - 1:
                platform.stop()
        time.sleep(3)
        rss_idle = platform.rss_kb() / 1024
        headers = {"Authorization": f"token {token}"}
        with httpx.Client(base_url=platform.url, headers=headers, timeout=30) as client:
            paths = {
                "GET /healthz (floor)": "/healthz",
                "GET /v2/apps/{id}/": "/v2/apps/bench-0500/",
                "GET /v2/apps/ (first page of 100)": "/v2/apps/",
                "GET /v2/apps/?offset=900 (last page)": "/v2/apps/?limit=100&offset=900",
                "GET /v2/apps/{id}/releases/ (10)": "/v2/apps/bench-0500/releases/",
                "GET /v2/apps/{id}/releases/ (1,009, page 1)": f"/v2/apps/{BIG_APP}/releases/",
            }
            r = client.get("/v2/apps/")
            assert r.json()["count"] == APPS, r.text[:200]
            print(f"  [{label}] latency, {REQUESTS} sequential requests each through nginx:")
            for name, path in paths.items():
                values = latencies(client, path)
                p50, p99 = percentile(values, 50) * 1000, percentile(values, 99) * 1000
                print(f"    {name:<45} p50 {p50:7.2f} ms   p99 {p99:7.2f} ms", flush=True)
                results[f"api {label} {name} p50 ms"] = p50
                results[f"api {label} {name} p99 ms"] = p99
            rps = wrk_rps(f"{platform.url}/v2/apps/bench-0500/", token)
            print(f"    wrk -c4 GET /v2/apps/{{id}}/: {rps:.0f} req/s")
            results[f"api {label} GET /v2/apps/{{id}}/ req/s (wrk -c4)"] = rps
        rss_after = platform.rss_kb() / 1024
        med, lo, hi = summary(starts)
        print(f"  [{label}] start-up (process start → /healthz 200): median {med:.2f} s (min {lo:.2f}, max {hi:.2f},"
              f" n={len(starts)}); RSS idle {rss_idle:.0f} MB, after the requests {rss_after:.0f} MB", flush=True)
        results[f"api {label} start-up s"] = med
        results[f"api {label} idle RSS MB"] = rss_idle
    return results


def run() -> dict[str, float]:
    print("== api: latency with 1,000 apps / 10,000 releases; start-up time; idle RSS", flush=True)
    results = bench_backend("sqlite", None)
    pg_reset(create=True)
    try:
        results.update(bench_backend("postgres", PG_URL))
    finally:
        pg_reset(create=False)
    return results
