"""Router instances driven over their TCP control endpoints (multi-host), against real nginx processes on
loopback: the endpoint refuses calls without the token, and `ClusterRouter` keeps every instance it finds
serving the same routes — a new instance and a restarted one get the whole table before they count, routes the
controller no longer has are removed from them, counters are summed over all. Until a controller has given an
instance the whole table, every host it does not know is a 503 with Retry-After, never a 404."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from workflow.router import AppRoute, Router, RouteTable
from workflow.router.cluster import ClusterRouter, Fleet, Instance
from workflow.router.control import ControlClient
from workflow.router.table import RouterError

from .helpers import free_port
from .test_process import web

TOKEN = "0123456789abcdef-the-routers-token"


@pytest.fixture
def token_file(tmp_path):
    path = tmp_path / "router-token"
    path.write_text(TOKEN + "\n")
    return path


@pytest.fixture
def make_instance(make_router, tmp_path, token_file):
    """A router instance: its own nginx with the TCP control endpoint; returns (router, 'ip:port')."""
    count = 0

    def make():
        nonlocal count
        count += 1
        router = make_router(data_dir=tmp_path / f"r{count}", control_port=free_port(),
                             control_token_file=token_file, tls_port=None, ready_on_start=False)
        return router, f"127.0.0.1:{router._render_args['control_port']}"

    return make


async def status(router, host: str) -> tuple[int, str | None]:
    r = await get(router, host)
    return r.status_code, (r.json()["server"] if r.status_code == 200 else None)


async def get(router, host: str) -> httpx.Response:
    async with httpx.AsyncClient(trust_env=False, timeout=10) as client:
        return await client.get(f"http://127.0.0.1:{router.listen_port}/", headers={"Host": host})


async def until(predicate, timeout: float = 10.0) -> None:
    for _ in range(int(timeout / 0.05)):
        if await predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("not within the time")


async def test_the_tcp_control_endpoint_refuses_calls_without_the_token(make_instance, app_servers):
    router, address = make_instance()
    await router.start(RouteTable([web(app_servers[:1])]))
    host, port = address.split(":")
    before = await router.snapshot()
    removal = [{"app": "web", "version": 2 ** 50, "route": None}]
    for token in (None, "wrong-token-of-the-right-length!!", TOKEN + "x", TOKEN[:-1]):
        client = ControlClient(address=(host, int(port)), token=token)
        for call in (client.routes(), client.write(removal), client.boot(), client.ready()):
            with pytest.raises(RouterError, match="a valid control token is required"):
                await call
        client.close()
    assert await router.snapshot() == before  # nothing changed
    assert await status(router, "web.example.test") == (200, "app0")
    good = ControlClient(address=(host, int(port)), token=TOKEN)
    assert sorted(await good.routes()) == ["web"]
    assert await good.write(removal) == {"web": "ok"}
    assert (await status(router, "web.example.test"))[0] == 503  # no controller has said the table is whole
    await good.ready()
    assert (await status(router, "web.example.test"))[0] == 404
    good.close()


async def test_every_instance_serves_the_same_routes(make_instance, app_servers):
    (one, a), (two, b) = make_instance(), make_instance()
    await one.start(RouteTable())
    await two.start(RouteTable())
    found = {a: "one"}

    async def discover():
        return dict(found)

    cluster = ClusterRouter(discover=discover, control_port=1, token=TOKEN, api_hosts=["deis.example.test"],
                            interval=0.05)
    assert isinstance(cluster, Router)
    try:
        await cluster.start(RouteTable([web(app_servers[:1])]))
        assert cluster.instances == {a: True}
        assert await status(one, "web.example.test") == (200, "app0")
        assert (await status(two, "web.example.test"))[0] == 503  # not given the table yet: no routes at all

        # a new instance that holds a route the controller does not have: it gets the table, without it
        stale = ControlClient(address=("127.0.0.1", int(b.split(":")[1])), token=TOKEN)
        assert await stale.write([{"app": "gone", "version": 1, "route": (
            '{"version":1,"hosts":["gone.example.test"],"upstreams":[],"maintenance":false}')}]) == {"gone": "ok"}
        stale.close()
        found[b] = "two"
        await until(lambda: _counted(cluster, 2))
        assert await status(two, "web.example.test") == (200, "app0")
        assert (await status(two, "gone.example.test"))[0] == 404

        # every change reaches both
        await cluster.apply_route(web(app_servers[1:]))
        for router in (one, two):
            assert await status(router, "web.example.test") == (200, "app1")
        await cluster.apply(RouteTable([web(app_servers[1:]), AppRoute("down", ["down.example.test"], [],
                                                                        maintenance=True)]))
        for router in (one, two):
            assert (await status(router, "down.example.test"))[0] == 503
        await cluster.remove_route("down")
        for router in (one, two):
            assert (await status(router, "down.example.test"))[0] == 404
        assert sorted(await cluster.snapshot()) == ["web"]

        # counters: the requests through both, summed
        counters = await cluster.counters()
        assert counters["web"].requests >= 3  # app0 once on each, app1 once on each; 4 in all

        # an instance whose nginx restarted (empty shared memory) gets the table again
        syncs = cluster.syncs
        await two.stop()
        await two.start(RouteTable())
        # empty until the cluster's loop (every 50 ms) finds its new boot id and gives it the table: looked at
        # under the lock every push holds, unless that push was quicker than this (seen once in CI)
        async with cluster._lock:
            if cluster.syncs == syncs:
                assert (await status(two, "web.example.test"))[0] == 503
        await until(lambda: _synced_again(cluster, syncs))
        assert await status(two, "web.example.test") == (200, "app1")

        # an instance that went away: writes go on to the others; when it is gone it is forgotten
        await two.stop()
        await cluster.apply_route(web(app_servers[:1]))
        assert await status(one, "web.example.test") == (200, "app0")
        del found[b]
        await until(lambda: _counted(cluster, 1))
        assert cluster.instances == {a: True}
    finally:
        await cluster.stop()


async def test_an_instance_with_another_token_is_never_counted_in(make_instance, app_servers):
    router, address = make_instance()
    await router.start(RouteTable())

    async def discover():
        return {address: "it"}

    cluster = ClusterRouter(discover=discover, control_port=1, token="another-token-0123456789", interval=0.05)
    try:
        await cluster.start(RouteTable([web(app_servers[:1])]))
        await asyncio.sleep(0.3)
        assert cluster.instances == {address: False}
        assert await router.snapshot() == {}
        assert (await status(router, "web.example.test"))[0] == 503
    finally:
        await cluster.stop()


async def test_an_instance_not_given_the_whole_table_answers_503_to_come_back_never_404(make_instance,
                                                                                        app_servers):
    """A router instance serves from the moment its nginx starts, before the controller has reached it: a 404
    then would tell clients (and caches in front) that an app which exists does not. Until the controller has
    pushed the whole table and said so, an unknown host is a 503 with Retry-After; after, a 404."""
    router, address = make_instance()
    await router.start(RouteTable())
    for host in ("web.example.test", "no-such-app.example.test"):
        r = await get(router, host)
        assert (r.status_code, r.headers.get("retry-after")) == (503, "1"), r.text
        assert "not been given the routes" in r.text
    # the API hosts are not the apps' router: unaffected
    r = await get(router, "deis.example.test")
    assert r.status_code == 200, r.text

    async def discover():
        return {address: "it"}

    cluster = ClusterRouter(discover=discover, control_port=1, token=TOKEN, interval=0.05)
    try:
        await cluster.start(RouteTable([web(app_servers[:1])]))
        assert cluster.instances == {address: True}
        assert await status(router, "web.example.test") == (200, "app0")
        r = await get(router, "no-such-app.example.test")
        assert (r.status_code, r.headers.get("retry-after")) == (404, None)
    finally:
        await cluster.stop()


async def test_only_a_failed_write_counts_an_instance_out():
    """A unit test (fake control clients): an instance that fails a read (its workers slow to report on a
    loaded node) missed no write and stays counted in — counting it out would have the next writes skip it, and
    its node serve stale routes, until the next round; one that fails a write is counted out."""

    class Client:
        def __init__(self, name: str):
            self.name, self.fail = name, False

        async def stats(self):
            if self.fail:
                raise RouterError("workers did not report in 1 s")
            return {"buckets": [5], "apps": {"web": {"requests": 2, "status": {"2": 2}}}}

        async def write(self, items):
            if self.fail:
                raise RouterError("did not answer")
            return {item["app"]: "ok" for item in items}

        def close(self):
            pass

    fleet = Fleet()
    for name in ("a", "b"):
        instance = Instance(f"10.0.0.{len(fleet.instances) + 1}", 9090, TOKEN, 1, 1)
        instance.client, instance.synced = Client(name), True
        fleet.instances[name] = instance
    fleet.instances["b"].client.fail = True
    assert (await fleet.stats())["apps"]["web"]["requests"] == 2  # a's alone
    assert [i.client.name for i in fleet.counted()] == ["a", "b"]
    assert await fleet.write([{"app": "web", "version": 1, "route": None}]) == {"web": "ok"}
    assert [i.client.name for i in fleet.counted()] == ["a"]


async def _counted(cluster: ClusterRouter, n: int) -> bool:
    return list(cluster.instances.values()) == [True] * n


async def _synced_again(cluster: ClusterRouter, syncs: int) -> bool:
    return cluster.syncs > syncs and all(cluster.instances.values())


def test_a_router_instance_config_sends_the_api_to_the_controller_by_name(tmp_path):
    from workflow.router.nginx_config import render
    from workflow.router.table import InvalidRoute

    args = {"listen_port": 8000, "tls_port": None, "api_socket_path": None, "api_hosts": ["deis.example.test"],
            "prefix_dir": tmp_path, "control_socket": tmp_path / "c.sock", "answers_dir": tmp_path}
    proof = "0f" * 32
    text = render(**args, control_port=9090, control_token_file="/run/secrets/router_token",
                  api_url="http://controller:8000", resolver="127.0.0.11", api_proof=proof)
    assert f"proxy_set_header X-Workflow-Router {proof};" in text
    assert "resolver 127.0.0.11 valid=5s ipv6=off;" in text
    assert "set $workflow_api http://controller:8000;" in text and "upstream workflow_api" not in text
    assert "listen 9090;" in text and "workflow_control.handle(true)" in text
    assert "token_file = [[/run/secrets/router_token]]" in text
    for bad in ({"api_url": "http://controller:8000/x", "resolver": "127.0.0.11", "api_proof": proof},
                {"api_url": "http://controller:8000;", "resolver": "127.0.0.11", "api_proof": proof},
                {"api_url": "http://controller:8000", "resolver": "dns;", "api_proof": proof},
                {"api_url": "http://controller:8000", "api_proof": proof},
                {"api_url": "http://controller:8000", "resolver": "127.0.0.11"},
                {"api_url": "http://controller:8000", "resolver": "127.0.0.11", "api_proof": proof + ";"}):
        with pytest.raises(InvalidRoute):
            render(**args, **bad)
    with pytest.raises(InvalidRoute):  # a TCP control endpoint without a token
        render(**{**args, "api_socket_path": "/a.sock"}, control_port=9090)
    with pytest.raises(InvalidRoute):
        render(**{**args, "api_socket_path": "/a.sock"}, control_port=9090, control_token_file="/x]].lua")


async def test_a_router_instance_proves_to_the_controller_that_it_forwarded_the_api_request(
        make_router, tmp_path, token_file, app_servers):
    """The controller shares the apps' network on a swarm: only the proof a router adds (derived from the token)
    lets it believe X-Real-IP; a client's own proof header is replaced, and app requests never carry it."""
    from workflow.router.control import api_proof

    controller = app_servers[0]  # answers with the headers it got
    router = make_router(data_dir=tmp_path / "r", control_port=free_port(), control_token_file=token_file,
                         tls_port=None, api_socket_path=None, api_url=f"http://{controller.address}",
                         resolver="127.0.0.11", api_proof=api_proof(TOKEN))
    await router.start(RouteTable([web(app_servers[1:])]))
    async with httpx.AsyncClient(trust_env=False, timeout=10) as client:
        forged = {"X-Workflow-Router": "f" * 64, "X-Real-IP": "203.0.113.9"}
        r = await client.get(f"http://127.0.0.1:{router.listen_port}/v2/", headers={"Host": "deis.example.test",
                                                                                    **forged})
        assert r.status_code == 200 and r.json()["server"] == controller.name
        assert r.json()["headers"]["x-workflow-router"] == api_proof(TOKEN)
        assert r.json()["headers"]["x-real-ip"] == "127.0.0.1"
        r = await client.get(f"http://127.0.0.1:{router.listen_port}/", headers={"Host": "web.example.test"})
        assert r.status_code == 200 and "x-workflow-router" not in r.json()["headers"]
