"""Running health probes (Kubernetes probe JSON, chosen by `domain.plan.probe_for`) from the controller.

`httpGet` passes on 200–399, `tcpSocket` on a connect; `exec` runs the command in the container. The
converge path waits on readiness probes (`wait_probe`); the health monitor runs them periodically.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

import httpx

from ..scheduler.base import Container, SchedulerError
from .deploy_events import PROBE_EVERY, QUIET, DeployEvents

#: Seconds before a deploy's failed readiness attempt is retried the first time; doubled at each further
#: failure, up to the probe's period.
FIRST_RETRY = 0.05


async def run_probe(ctx, container: Container, probe: dict[str, Any], client: httpx.AsyncClient) -> bool:
    return (await probe_once(ctx, container, probe, client))[0]


async def probe_once(ctx, container: Container, probe: dict[str, Any],
                     client: httpx.AsyncClient) -> tuple[bool, int | None, str]:
    """One probe run: (passed, HTTP status if one came back, what happened in words)."""
    timeout = max(float(probe.get("timeoutSeconds") or 1), 0.1)
    try:
        if "httpGet" in probe:
            spec = probe["httpGet"]
            path = spec.get("path") or "/"
            headers = {h["name"]: h["value"] for h in spec.get("httpHeaders") or []}
            if spec.get("host"):
                headers["Host"] = spec["host"]
            url = f"http://{container.address}:{spec['port']}{path if path.startswith('/') else '/' + path}"
            response = await client.get(url, headers=headers, timeout=timeout)
            return 200 <= response.status_code < 400, response.status_code, f"HTTP {response.status_code}"
        if "tcpSocket" in probe:
            _, writer = await asyncio.wait_for(
                asyncio.open_connection(container.address, probe["tcpSocket"]["port"]), timeout)
            writer.close()
            return True, None, "connected"
        if "exec" in probe:
            code = await ctx.scheduler.exec(container, probe["exec"]["command"], timeout)
            return code == 0, None, f"exit code {code}"
    except (ConnectionRefusedError, httpx.ConnectError):
        return False, None, "connection refused"
    except (TimeoutError, httpx.TimeoutException):
        return False, None, f"no answer within {timeout:g} s"
    except (OSError, httpx.HTTPError, SchedulerError) as exc:
        return False, None, type(exc).__name__
    return False, None, "no probe handler"


async def wait_probe(ctx, container: Container, probe: dict[str, Any], deadline: float,
                     events: DeployEvents = QUIET) -> bool:
    """Until the probe passes `successThreshold` times in a row (after its initial delay), or the deadline.

    The first attempt comes as soon as the initial delay has passed; a failed one is retried after
    FIRST_RETRY, then twice as long each time up to the period: an app that answers a moment after it
    accepts connections is not held back a whole period (it was: ≥ 1 s per failed attempt). Successes towards
    `successThreshold` keep the period between them.

    `events` hear the attempts, bounded whatever the timeout: the first, every change of outcome (refused →
    HTTP 503 → HTTP 200), at most one "still" every PROBE_EVERY seconds, and the one that passes."""
    await asyncio.sleep(max(0.0, float(probe["initialDelaySeconds"])
                            - (time.monotonic() - started_monotonic(container))))
    successes = 0
    period = min(float(probe["periodSeconds"]), 1.0)  # during a deploy, look more often than the period
    retry = FIRST_RETRY
    attempt, said, said_at = 0, "", 0.0
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            attempt += 1
            ok, status, detail = await probe_once(ctx, container, probe, client)
            if ok:
                successes += 1
                if successes >= int(probe["successThreshold"]):
                    events.probe(container.name, attempt, "passed", detail, status)
                    return True
            else:
                successes = 0
            now = time.monotonic()
            if detail != said or (not ok and now - said_at >= PROBE_EVERY):
                events.probe(container.name, attempt, "ok" if ok else "failed", detail, status)
                said, said_at = detail, now
            if ok:
                await asyncio.sleep(period)
            else:
                await asyncio.sleep(min(retry, period))
                retry *= 2
    return False


def started_monotonic(container: Container) -> float:
    if container.started is None:
        return time.monotonic()
    age = (datetime.now(UTC) - container.started).total_seconds()
    return time.monotonic() - max(age, 0.0)
