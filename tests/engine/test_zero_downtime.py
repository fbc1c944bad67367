"""Zero downtime: a client keeps requesting through the router while the app changes; every answer is 200."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from .conftest import app_name, host_of

pytestmark = pytest.mark.engine


class Load:
    """Several requests per 10 ms through the router, until stopped; counts every status.

    On leaving, it keeps going until at least `min_total` requests were made, so a slow machine still
    sends the count the test promises (the changes themselves all happen inside the window)."""

    def __init__(self, url: str, host: dict[str, str], path: str = "/", workers: int = 4, min_total: int = 0,
                 pause: float = 0.002):
        self.url, self.host, self.path, self.workers, self.pause = url, host, path, workers, pause
        self.min_total = min_total
        self.statuses: dict[int | str, int] = {}
        self._stop = asyncio.Event()
        self._enough = asyncio.Event()
        self._tasks: list[asyncio.Task] = []

    async def _worker(self) -> None:
        # A new connection per request. On a reload, nginx's old workers close their *idle* keep-alive
        # connections; a request racing that close is one real clients retry (RFC 9112 §9.3.1) and httpx
        # does not, so reusing connections would count a client-side retry case as a failure.
        headers = {**self.host, "Connection": "close"}
        async with httpx.AsyncClient(base_url=self.url, timeout=30) as client:
            while not self._stop.is_set():
                try:
                    status: int | str = (await client.get(self.path, headers=headers)).status_code
                except httpx.HTTPError as exc:
                    status = type(exc).__name__
                self.statuses[status] = self.statuses.get(status, 0) + 1
                if self.total >= self.min_total:
                    self._enough.set()
                await asyncio.sleep(self.pause)

    async def __aenter__(self) -> Load:
        self._tasks = [asyncio.create_task(self._worker()) for _ in range(self.workers)]
        await asyncio.sleep(0.3)
        return self

    async def __aexit__(self, *exc) -> None:
        await asyncio.sleep(0.3)
        if exc[0] is None:
            await self._enough.wait()
        self._stop.set()
        await asyncio.gather(*self._tasks)

    @property
    def total(self) -> int:
        return sum(self.statuses.values())


async def test_every_change_under_load_answers_200(api, owner, engine_settings):
    name = app_name()
    assert (await api.post("/v2/apps/", json={"id": name}, headers=owner)).status_code == 201
    r = await api.post(f"/v2/apps/{name}/builds/", json={"image": "test/web:latest"}, headers=owner)
    assert r.status_code == 201, r.text
    assert (await api.post(f"/v2/apps/{name}/scale/", json={"cmd": 3}, headers=owner)).status_code == 204

    url = f"http://127.0.0.1:{engine_settings.port}"
    async with Load(url, host_of(name, engine_settings), workers=6, min_total=2000) as load:
        during_changes = load.total
        r = await api.post(f"/v2/apps/{name}/builds/", json={"image": "gabrtv/example-go:latest"}, headers=owner)
        assert r.status_code == 201, r.text
        r = await api.post(f"/v2/apps/{name}/config/", json={"values": {"COLOUR": "blue"}}, headers=owner)
        assert r.status_code == 201, r.text
        r = await api.post(f"/v2/apps/{name}/releases/rollback/", json={"version": 2}, headers=owner)
        assert r.status_code == 201, r.text
        r = await api.post(f"/v2/apps/{name}/builds/", json={"image": "test/crash:latest"}, headers=owner)
        assert r.status_code == 400, r.text
        r = await api.post(f"/v2/apps/{name}/scale/", json={"cmd": 1}, headers=owner)
        assert r.status_code == 204, r.text
        during_changes = load.total - during_changes
    assert load.statuses == {200: load.total}, load.statuses
    assert load.total >= 2000
    # Most of the traffic must have met the changes, not the quiet time after them.
    assert during_changes >= 1000, during_changes


async def test_slow_request_in_flight_survives_scale_down(api, owner, engine_settings):
    name = app_name()
    assert (await api.post("/v2/apps/", json={"id": name}, headers=owner)).status_code == 201
    r = await api.post(f"/v2/apps/{name}/builds/", json={"image": "test/web:latest"}, headers=owner)
    assert r.status_code == 201, r.text
    assert (await api.post(f"/v2/apps/{name}/scale/", json={"cmd": 3}, headers=owner)).status_code == 204

    url = f"http://127.0.0.1:{engine_settings.port}"
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        slow = [asyncio.create_task(client.get("/cgi-bin/sleep?3", headers=host_of(name, engine_settings)))
                for _ in range(6)]
        await asyncio.sleep(0.5)
        started = time.monotonic()
        r = await api.post(f"/v2/apps/{name}/scale/", json={"cmd": 1}, headers=owner)
        assert r.status_code == 204
        results = await asyncio.gather(*slow)
    assert [x.status_code for x in results] == [200] * 6
    assert time.monotonic() - started < 15
