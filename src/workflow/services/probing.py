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


async def run_probe(ctx, container: Container, probe: dict[str, Any], client: httpx.AsyncClient) -> bool:
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
            return 200 <= response.status_code < 400
        if "tcpSocket" in probe:
            _, writer = await asyncio.wait_for(
                asyncio.open_connection(container.address, probe["tcpSocket"]["port"]), timeout)
            writer.close()
            return True
        if "exec" in probe:
            code = await ctx.scheduler.exec(container, probe["exec"]["command"], timeout)
            return code == 0
    except (OSError, TimeoutError, httpx.HTTPError, SchedulerError):
        return False
    return False


async def wait_probe(ctx, container: Container, probe: dict[str, Any], deadline: float) -> bool:
    """Until the probe passes `successThreshold` times in a row (after its initial delay), or the deadline."""
    await asyncio.sleep(max(0.0, float(probe["initialDelaySeconds"])
                            - (time.monotonic() - started_monotonic(container))))
    successes = 0
    period = min(float(probe["periodSeconds"]), 1.0)  # during a deploy, look more often than the period
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            if await run_probe(ctx, container, probe, client):
                successes += 1
                if successes >= int(probe["successThreshold"]):
                    return True
            else:
                successes = 0
            await asyncio.sleep(period)
    return False


def started_monotonic(container: Container) -> float:
    if container.started is None:
        return time.monotonic()
    age = (datetime.now(UTC) - container.started).total_seconds()
    return time.monotonic() - max(age, 0.0)
