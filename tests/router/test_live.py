"""Live routes against the real nginx: writes are versioned and live on return, keep-alive clients never see
a change, a route nginx refuses stays its app's problem, requests in flight are counted per container, and
per-app counters are kept in shared memory."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from pathlib import Path

import httpx
import pytest

from workflow.router import AppRoute, Router, RouteTable

from .helpers import free_port, self_signed
from .test_process import web, workers


class SlowApp:
    """An app container whose answers take `pause` seconds."""

    def __init__(self, pause: float):
        self.pause = pause
        self.server: asyncio.Server | None = None
        self.address = ""

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        await asyncio.sleep(self.pause)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nslow\n")
        await writer.drain()
        writer.close()

    async def __aenter__(self) -> SlowApp:
        self.server = await asyncio.start_server(self.handle, "127.0.0.1", 0)
        self.address = f"127.0.0.1:{self.server.sockets[0].getsockname()[1]}"
        return self

    async def __aexit__(self, *exc) -> None:
        self.server.close()


async def test_keep_alive_clients_never_see_a_route_change(client, router, app_servers):
    """One kept-alive connection, requests between 60 changes of the app's route and of another app's."""
    other = AppRoute("other", ["other.example.test"], [app_servers[0].address])
    await router.apply(RouteTable([web(app_servers), other]))
    processes = workers(router)
    changes = [
        RouteTable([web(app_servers[i % 2: i % 2 + 1]), other]) if i % 3 else
        RouteTable([web(app_servers), AppRoute("other", ["other.example.test"], [], maintenance=bool(i % 2))])
        for i in range(60)
    ]
    statuses = []
    for table in changes:
        await router.apply(table)
        for _ in range(3):
            statuses.append((await client.get("/", headers={"Host": "web.example.test"})).status_code)
    assert statuses == [200] * len(statuses)
    assert workers(router) == processes  # no worker generation: nothing was reloaded


def connections_by_worker(router) -> dict[int, int]:
    """The clients' connections to the router's port that each worker process holds."""
    port = f":{router.listen_port:04X}"
    inodes = {fields[9] for fields in (line.split() for line in Path("/proc/net/tcp").read_text().splitlines()[1:])
              if fields[1].endswith(port) and fields[3] == "01"}  # established
    held = {}
    for pid in workers(router):
        links = []
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                links.append(os.readlink(fd))
        held[pid] = sum(1 for link in links if link.startswith("socket:[") and link[8:-1] in inodes)
    return held


async def test_every_worker_sees_a_write_when_it_returns(router, app_servers):
    """Kept-alive connections held by every worker, each asked right after every write: no worker's cached
    answer outlives a write (the generation the workers share is published before the call returns)."""
    await router.apply(RouteTable([web(app_servers)]))
    clients: list[httpx.AsyncClient] = []
    try:
        # new connections until every worker holds some (which worker accepts one is the kernel's choice)
        for _ in range(200):
            client = httpx.AsyncClient(base_url=f"http://127.0.0.1:{router.listen_port}", trust_env=False,
                                       timeout=10)
            clients.append(client)
            assert (await client.get("/", headers={"Host": "web.example.test"})).status_code == 200
            if len(clients) >= 8 and all(connections_by_worker(router).values()):
                break
        assert all(connections_by_worker(router).values()), connections_by_worker(router)
        for i in range(30):
            maintenance = i % 2 == 0
            await router.apply(RouteTable([web(app_servers, maintenance=maintenance)]))
            answers = await asyncio.gather(*(c.get("/", headers={"Host": "web.example.test"}) for c in clients))
            assert {a.status_code for a in answers} == {503 if maintenance else 200}, i
        assert all(connections_by_worker(router).values())  # the same connections throughout
    finally:
        for client in clients:
            await client.aclose()


async def test_apply_route_remove_route_and_snapshot(client, router, app_servers):
    assert isinstance(router, Router)
    await router.apply(RouteTable([web(app_servers)]))
    await router.apply_route(AppRoute("two", ["two.example.test"], [app_servers[1].address]))
    snapshot = await router.snapshot()
    assert sorted(snapshot) == ["two", "web"]
    assert snapshot["two"]["hosts"] == ["two.example.test"]
    assert snapshot["web"]["version"] < snapshot["two"]["version"]
    assert (await client.get("/", headers={"Host": "two.example.test"})).json()["server"] == "app1"
    await router.remove_route("web")
    assert (await client.get("/", headers={"Host": "web.example.test"})).status_code == 404
    assert (await client.get("/", headers={"Host": "two.example.test"})).status_code == 200
    assert sorted(await router.snapshot()) == ["two"]
    await router.apply_route(web(app_servers))  # back, at a newer version than its removal
    assert (await client.get("/", headers={"Host": "web.example.test"})).status_code == 200


async def test_a_write_older_than_the_live_version_is_refused(client, router, app_servers):
    await router.apply(RouteTable([web(app_servers)]))
    live = (await router.snapshot())["web"]
    older = {**live, "version": live["version"] - 1, "maintenance": True}
    result = await router._control.write([{"app": "web", "version": older["version"], "route": json.dumps(older)}])
    assert result["web"].startswith("stale")
    assert (await router.snapshot())["web"] == live
    assert (await client.get("/", headers={"Host": "web.example.test"})).status_code == 200


async def test_a_certificate_nginx_cannot_load_stays_its_apps_problem(client, router, app_servers, tmp_path):
    files, _ = self_signed(tmp_path, "web.example.test")
    await router.apply(RouteTable([web(app_servers)]))
    garbage = tmp_path / "garbage.crt"
    garbage.write_text("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    other = AppRoute("other", ["other.example.test"], [app_servers[1].address])
    bad = web(app_servers, certificates={"web.example.test": type(files)(garbage, files.key_path)})
    await router.apply(RouteTable([bad, other]))
    assert "cannot load certificate" in router.rejected["web"]
    assert "other" not in router.rejected
    assert (await client.get("/", headers={"Host": "web.example.test"})).status_code == 200  # its previous route
    assert (await client.get("/", headers={"Host": "other.example.test"})).status_code == 200
    await router.apply(RouteTable([web(app_servers, certificates={"web.example.test": files}), other]))
    assert router.rejected == {}


async def test_requests_in_flight_are_counted_per_container(router, app_servers):
    async with SlowApp(pause=1.0) as slow:
        await router.apply(RouteTable([web([], upstreams=[slow.address])]))
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{router.listen_port}", trust_env=False,
                                     timeout=10) as c:
            request = asyncio.create_task(c.get("/", headers={"Host": "web.example.test"}))
            await asyncio.sleep(0.3)
            await router.apply(RouteTable([web(app_servers)]))  # the slow container leaves the table
            assert not await router.wait_drained([slow.address], 0.2)  # its request is still in flight
            assert await router.wait_drained([app_servers[0].address], 0.2)  # nothing in flight there
            assert await router.wait_drained([slow.address], 5)
            assert request.done() and (await request).status_code == 200


async def test_a_connect_failure_is_retried_on_another_container_and_released(client, router, app_servers):
    dead = f"127.0.0.1:{free_port()}"
    await router.apply(RouteTable([web(app_servers[:1], upstreams=[dead, app_servers[0].address])]))
    for _ in range(6):
        assert (await client.get("/", headers={"Host": "web.example.test"})).status_code == 200
    assert await router.wait_drained([dead, app_servers[0].address], 0.5)


async def test_per_app_counters(client, router, app_servers):
    await router.apply(RouteTable([web(app_servers), AppRoute("down", ["down.example.test"], [])]))
    for _ in range(5):
        await client.get("/", headers={"Host": "web.example.test"})
    for _ in range(2):
        await client.get("/", headers={"Host": "down.example.test"})
    await client.get("/", headers={"Host": "nobody.example.test"})
    counters = await router.counters()
    assert counters["web"].requests == 5
    assert counters["web"].status == {"2xx": 5}
    assert counters["down"].status == {"5xx": 2}
    assert sum(n for _, n in counters["web"].latency) == 5
    assert counters["web"].percentile(0.95) is not None
    assert "nobody" not in counters


async def test_exact_names_before_the_longest_wildcard(client, router, app_servers):
    one, two = app_servers[0].address, app_servers[1].address
    await router.apply(RouteTable([
        AppRoute("wide", ["*.example.test"], [one]),
        AppRoute("narrow", ["*.b.example.test"], [two]),
        AppRoute("exact", ["x.b.example.test"], [one]),
    ]))
    snapshot = await router.snapshot()

    async def owner(host: str) -> int | str:
        response = await client.get("/", headers={"Host": host})
        return response.status_code if response.status_code != 200 else response.json()["server"]

    assert await owner("x.b.example.test") == "app0" and snapshot["exact"]["hosts"] == ["x.b.example.test"]
    assert await owner("y.b.example.test") == "app1"
    assert await owner("deep.y.b.example.test") == "app1"
    assert await owner("z.example.test") == "app0"
    assert await owner("example.test") == 404
    assert await owner("X.B.Example.Test") == "app0"  # host names are matched in lower case


async def test_whitelist_networks_by_prefix_bits(client, router, app_servers):
    for allowed, expected in ((["127.0.0.0/9"], 200), (["127.128.0.0/9"], 403), (["::1", "127.0.0.2/31"], 403),
                              (["10.0.0.0/8", "127.0.0.1"], 200), (["::/0"], 403), (["0.0.0.0/0"], 200)):
        await router.apply(RouteTable([web(app_servers, whitelist=allowed)]))
        status = (await client.get("/", headers={"Host": "web.example.test"})).status_code
        assert status == expected, (allowed, status)


async def test_the_control_endpoint_refuses_malformed_calls(router):
    from workflow.router import RouterError

    control = router._control
    with pytest.raises(RouterError, match="unknown control call"):
        await control.call("GET", "/nothing")
    with pytest.raises(RouterError, match="expected a JSON list"):
        await control.call("PUT", "/apps", "not a list")
    result = await control.write([{"app": "x", "version": "soon", "route": None},
                                  {"app": "y", "version": 2**40, "route": '{"version": 1}'}])
    assert result == {"x": "malformed write", "y": "malformed route"}
    assert await router.snapshot() == {}
