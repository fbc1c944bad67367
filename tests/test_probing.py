"""A deploy's readiness probe (`services/probing.wait_probe`) against a small HTTP server on loopback: when its
attempts come. The probe through the API against the real engine is tests/engine/test_deploy_progress.py."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from workflow.scheduler.base import Container
from workflow.services.probing import FIRST_RETRY, wait_probe


class Answers:
    """An HTTP server answering each request with the next status of `statuses` (the last one from then on),
    keeping the moment of each request."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.times: list[float] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        self.times.append(time.monotonic())
        status = self.statuses[min(len(self.times) - 1, len(self.statuses) - 1)]
        writer.write(f"HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
        writer.close()


@pytest.fixture
async def serve() -> AsyncIterator:
    servers = []

    async def start(statuses: list[int]) -> tuple[Answers, int]:
        answers = Answers(statuses)
        server = await asyncio.start_server(answers.handle, "127.0.0.1", 0)
        servers.append(server)
        return answers, server.sockets[0].getsockname()[1]

    yield start
    for server in servers:
        server.close()
        await server.wait_closed()


def container() -> Container:
    return Container(id="c1", name="shop-web-1234567890-abcde", app="shop", proc_type="web", version=2,
                     state="up", started=None, address="127.0.0.1", port=None)


def probe(port: int, period: float, success: int = 1) -> dict:
    return {"httpGet": {"path": "/ready", "port": port}, "initialDelaySeconds": 0, "timeoutSeconds": 1,
            "periodSeconds": period, "successThreshold": success, "failureThreshold": 3}


async def test_a_failed_attempt_is_retried_soon_not_a_period_later(serve):
    answers, port = await serve([503, 503, 200])
    started = time.monotonic()
    assert await wait_probe(None, container(), probe(port, period=10), time.monotonic() + 10)
    # Two failures then a pass: FIRST_RETRY + 2 × FIRST_RETRY (the period, 10 s here and 1 s at most during a
    # deploy, would be 2 s).
    assert len(answers.times) == 3
    assert time.monotonic() - started < 1.0
    gaps = [b - a for a, b in zip(answers.times, answers.times[1:], strict=False)]
    assert gaps[0] >= FIRST_RETRY * 0.9 and gaps[1] >= 2 * FIRST_RETRY * 0.9


async def test_failing_attempts_back_off_to_the_period(serve):
    answers, port = await serve([503])
    assert not await wait_probe(None, container(), probe(port, period=0.4), time.monotonic() + 2.0)
    gaps = [b - a for a, b in zip(answers.times, answers.times[1:], strict=False)]
    # 0.05, 0.1, 0.2, then the period: never more often, so bounded however long it fails.
    assert len(gaps) >= 4, gaps
    assert all(gap >= 0.9 * min(FIRST_RETRY * 2 ** i, 0.4) for i, gap in enumerate(gaps)), gaps
    assert len(answers.times) <= 3 + 2.0 / 0.4 + 1


async def test_successes_towards_the_threshold_keep_the_period(serve):
    answers, port = await serve([503, 200, 200])
    assert await wait_probe(None, container(), probe(port, period=0.5, success=2), time.monotonic() + 5)
    assert len(answers.times) == 3
    assert answers.times[1] - answers.times[0] < 0.45  # the failure: retried soon (not the period)
    assert answers.times[2] - answers.times[1] >= 0.5 * 0.9  # between two successes: the period
