"""NginxRouter against the real nginx: routing rules, TLS by SNI, reload coalescing, failures, supervision."""

from __future__ import annotations

import asyncio
import os
import signal
import ssl
import stat
from pathlib import Path

import httpx
import pytest

from workflow.router import AppRoute, CertFiles, RouterError, RouteTable

from .helpers import EchoServer, free_port, peer_cert, port_open, self_signed


def web(app_servers: list[EchoServer], **kwargs) -> AppRoute:
    params = {"app": "web", "hosts": ["web.example.test"], "upstreams": [s.address for s in app_servers]}
    params.update(kwargs)
    return AppRoute(**params)


class TestApiHosts:
    @pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "deis.example.test", "10.1.2.3", "[::1]"])
    async def test_api_hosts_reach_the_api_with_the_original_host(self, client, router, host):
        response = await client.get("/v2/", headers={"Host": f"{host}:{router.listen_port}"})
        assert response.status_code == 200
        body = response.json()
        assert body["server"] == "api"
        assert body["path"] == "/v2/"
        assert body["headers"]["host"] == f"{host}:{router.listen_port}"
        assert body["headers"]["x-forwarded-for"] == "127.0.0.1"
        assert body["headers"]["x-forwarded-proto"] == "http"

    async def test_unknown_host_is_404(self, client):
        response = await client.get("/", headers={"Host": "nobody.example.test"})
        assert response.status_code == 404

    async def test_the_control_endpoint_is_the_platform_users_alone(self, client, router):
        assert stat.S_IMODE(router.control_path.parent.stat().st_mode) == 0o700
        assert router.control_path.parent.stat().st_uid == os.geteuid()
        for host in ("localhost", "web.example.test"):  # not on the public port, whatever the host
            response = await client.put("/apps", headers={"Host": host}, json=[])
            assert response.status_code in (404, 405) or response.json().get("server") == "api"


class TestAppRoutes:
    async def test_two_upstreams_are_both_reached(self, client, router, app_servers):
        await router.apply(RouteTable([web(app_servers, hosts=["web.example.test", "*.wild.example.test"])]))
        seen = set()
        for _ in range(10):
            response = await client.get("/path?x=1", headers={"Host": "web.example.test"})
            assert response.status_code == 200
            seen.add(response.json()["server"])
        assert seen == {"app0", "app1"}
        headers = response.json()["headers"]
        assert headers["host"] == "web.example.test"
        assert headers["x-forwarded-host"] == "web.example.test"
        assert headers["x-request-start"].startswith("t=")
        assert "upgrade" not in headers.get("connection", "")
        wild = await client.get("/", headers={"Host": "a.wild.example.test"})
        assert wild.status_code == 200

    async def test_websocket_upgrade_headers_are_passed(self, client, router, app_servers):
        await router.apply(RouteTable([web(app_servers)]))
        response = await client.get(
            "/", headers={"Host": "web.example.test", "Upgrade": "websocket", "Connection": "Upgrade"}
        )
        headers = response.json()["headers"]
        assert headers["upgrade"] == "websocket"
        assert headers["connection"] == "upgrade"

    async def test_a_dead_container_is_skipped(self, client, router, app_servers):
        dead = f"127.0.0.1:{free_port()}"
        await router.apply(RouteTable([web(app_servers[:1], upstreams=[dead, app_servers[0].address])]))
        for _ in range(6):
            response = await client.get("/", headers={"Host": "web.example.test"})
            assert response.status_code == 200

    async def test_no_upstreams_is_503(self, client, router):
        await router.apply(RouteTable([AppRoute("web", ["web.example.test"], [])]))
        response = await client.get("/", headers={"Host": "web.example.test"})
        assert response.status_code == 503
        assert response.headers["content-type"] == "text/plain"
        assert response.text == "No containers of this app are running.\n"

    async def test_maintenance_is_503(self, client, router, app_servers):
        await router.apply(RouteTable([web(app_servers, maintenance=True)]))
        response = await client.get("/", headers={"Host": "web.example.test"})
        assert response.status_code == 503
        assert response.headers["content-type"] == "text/html"
        assert "This app is in maintenance mode" in response.text

    async def test_answers_take_a_body_and_keep_the_connection(self, client, router, app_servers):
        """The answers come from internal servers the balancer picks: a request body goes there and is dropped,
        the client's connection stays open, and each answer is counted for its app."""
        await router.apply(RouteTable([web(app_servers, maintenance=True)]))
        before = (await router.counters()).get("web")
        for _ in range(3):
            for host, status in (("web.example.test", 503), ("nobody.example.test", 404)):
                response = await client.post("/x", content=b"x" * 200_000, headers={"Host": host})
                assert response.status_code == status
                assert response.headers.get("connection") != "close"
        after = (await router.counters())["web"]
        assert after.requests - (before.requests if before else 0) == 3
        assert after.status.get("5xx", 0) - (before.status.get("5xx", 0) if before else 0) == 3

    async def test_not_routable_is_404(self, client, router, app_servers):
        await router.apply(RouteTable([web(app_servers, routable=False)]))
        response = await client.get("/", headers={"Host": "web.example.test"})
        assert response.status_code == 404

    async def test_whitelist(self, client, router, app_servers):
        await router.apply(RouteTable([web(app_servers, whitelist=["10.0.0.0/8"])]))
        assert (await client.get("/", headers={"Host": "web.example.test"})).status_code == 403
        await router.apply(RouteTable([web(app_servers, whitelist=["10.0.0.0/8", "0.0.0.0/0"])]))
        assert (await client.get("/", headers={"Host": "web.example.test"})).status_code == 200

    async def test_https_enforced_redirects(self, client, router, app_servers):
        await router.apply(RouteTable([web(app_servers, https_enforced=True)]))
        response = await client.get("/a/b?c=d", headers={"Host": "web.example.test"})
        assert response.status_code == 301
        assert response.headers["location"] == f"https://web.example.test:{router.tls_port}/a/b?c=d"

    async def test_tls_certificate_is_chosen_by_sni(self, router, app_servers, tmp_path):
        one, one_der = self_signed(tmp_path, "one.example.test")
        two, two_der = self_signed(tmp_path, "two.example.test")
        table = RouteTable([
            web(app_servers, hosts=["one.example.test"], certificates={"one.example.test": one}),
            AppRoute("other", ["two.example.test"], [app_servers[1].address],
                     certificates={"two.example.test": two}),
        ])
        await router.apply(table)
        for host, expected in (("one.example.test", one_der), ("two.example.test", two_der)):
            assert await peer_cert(router.tls_port, host) == expected
        with pytest.raises(ssl.SSLError):
            await peer_cert(router.tls_port, "unknown.example.test")

    async def test_https_request_through_tls(self, router, app_servers, tmp_path):
        files, _ = self_signed(tmp_path, "secure.example.test")
        await router.apply(RouteTable([
            web(app_servers, hosts=["secure.example.test"], https_enforced=True,
                certificates={"secure.example.test": files})
        ]))
        async with httpx.AsyncClient(verify=False, trust_env=False) as tls_client:
            response = await tls_client.get(
                f"https://127.0.0.1:{router.tls_port}/",
                headers={"Host": "secure.example.test"},
                extensions={"sni_hostname": "secure.example.test"},
            )
        assert response.status_code == 200
        assert response.json()["headers"]["x-forwarded-proto"] == "https"


class TestTrustedProxies:
    async def test_client_address_and_proto_from_a_trusted_proxy(self, make_router, app_servers):
        router = make_router(trusted_proxies=["127.0.0.1/32"])
        await router.start(RouteTable([web(app_servers, whitelist=["10.9.9.9"], https_enforced=True)]))
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{router.listen_port}", trust_env=False) as c:
            base = {"Host": "web.example.test"}
            assert (await c.get("/", headers=base)).status_code == 403
            via = {**base, "X-Forwarded-For": "10.9.9.9", "X-Forwarded-Proto": "https"}
            response = await c.get("/", headers=via)
            assert response.status_code == 200
            assert response.json()["headers"]["x-forwarded-proto"] == "https"
            plain = await c.get("/", headers={**base, "X-Forwarded-For": "10.9.9.9"})
            assert plain.status_code == 301

    async def test_forwarded_headers_are_not_trusted_by_default(self, client, router, app_servers):
        await router.apply(RouteTable([web(app_servers, whitelist=["10.9.9.9"])]))
        response = await client.get("/", headers={"Host": "web.example.test", "X-Forwarded-For": "10.9.9.9"})
        assert response.status_code == 403


def workers(router) -> set[int]:
    """The master's worker processes: the same set as long as nginx never reloads."""
    return {int(p) for p in Path(f"/proc/{router.pid}/task/{router.pid}/children").read_text().split()}


class TestLiveRoutes:
    async def test_a_burst_of_applies_never_reloads(self, client, router, app_servers):
        before = workers(router)
        tables = [
            RouteTable([web(app_servers[: 1 + i % 2], hosts=[f"v{i}.example.test"])]) for i in range(20)
        ]
        await asyncio.gather(*(router.apply(t) for t in tables))
        assert workers(router) == before
        assert (await client.get("/", headers={"Host": "v19.example.test"})).status_code == 200
        assert (await client.get("/", headers={"Host": "v18.example.test"})).status_code == 404

    async def test_an_unchanged_table_writes_nothing(self, router, app_servers):
        table = RouteTable([web(app_servers)])
        await router.apply(table)
        before = router.writes
        await router.apply(RouteTable([web(app_servers)]))
        assert router.writes == before

    async def test_a_change_writes_only_the_changed_app(self, client, router, app_servers):
        other = AppRoute("other", ["other.example.test"], [app_servers[1].address])
        await router.apply(RouteTable([web(app_servers[:1]), other]))
        before, processes = router.writes, workers(router)
        await router.apply(RouteTable([web(app_servers), other]))  # a container more
        assert router.writes == before + 1
        seen = {(await client.get("/", headers={"Host": "web.example.test"})).json()["server"] for _ in range(10)}
        assert seen == {"app0", "app1"}
        await router.apply(RouteTable([web(app_servers, hosts=["next.example.test"]), other]))  # a new host
        assert router.writes == before + 2
        await router.apply(RouteTable([web([], hosts=["next.example.test"]), other]))  # no containers
        assert (await client.get("/", headers={"Host": "next.example.test"})).status_code == 503
        assert (await client.get("/", headers={"Host": "web.example.test"})).status_code == 404
        assert (await client.get("/", headers={"Host": "other.example.test"})).status_code == 200
        assert workers(router) == processes

    async def test_a_route_nginx_refuses_keeps_its_previous_route(self, client, router, app_servers, tmp_path):
        """Route isolation: only the refused route's app is affected; the others' changes go live."""
        await router.apply(RouteTable([web(app_servers)]))
        live = router.config_path.read_text()
        missing = CertFiles(tmp_path / "missing.crt", tmp_path / "missing.key")
        broken = RouteTable([web(app_servers, certificates={"web.example.test": missing})])
        before = router.writes
        await router.apply(broken)
        assert "missing.crt" in router.rejected["web"]
        assert str(tmp_path) not in router.rejected["web"]  # no server paths in what a user may read
        assert router.writes == before  # what nginx accepts of it is what serves: nothing written
        assert router.config_path.read_text() == live
        assert (await client.get("/", headers={"Host": "web.example.test"})).status_code == 200
        other = AppRoute(app="other", hosts=["other.example.test"], upstreams=[s.address for s in app_servers])
        await router.apply(RouteTable([*broken.routes, other]))
        assert (await client.get("/", headers={"Host": "other.example.test"})).status_code == 200
        assert (await client.get("/", headers={"Host": "web.example.test"})).status_code == 200
        assert list(router.rejected) == ["web"]
        await router.apply(RouteTable([web(app_servers, hosts=["next.example.test"]), other]))
        assert router.rejected == {}
        assert (await client.get("/", headers={"Host": "next.example.test"})).status_code == 200

    async def test_a_hostile_host_is_refused(self, client, router, app_servers):
        await router.apply(RouteTable([web(app_servers, hosts=["web.example.test", "x.test; return 200 pwned"])]))
        assert "not a valid host name" in router.rejected["web"]
        assert "pwned" not in router.config_path.read_text()
        assert (await client.get("/", headers={"Host": "web.example.test"})).status_code == 200


class TestProcess:
    async def test_stop_closes_the_port(self, make_router):
        router = make_router()
        await router.start(RouteTable())
        assert await port_open(router.listen_port)
        await router.stop()
        assert not await port_open(router.listen_port)
        assert not router.running
        with pytest.raises(RouterError):
            await router.apply(RouteTable())

    async def test_a_killed_master_is_restarted(self, client, router, app_servers):
        await router.apply(RouteTable([web(app_servers)]))
        old = router.pid
        os.kill(old, signal.SIGKILL)
        for _ in range(200):
            if router.restarts == 1 and await port_open(router.listen_port):
                break
            await asyncio.sleep(0.05)
        assert router.pid not in (None, old)
        assert (await client.get("/", headers={"Host": "web.example.test"})).status_code == 200
        # the whole table is back, and the new nginx knows it: an unknown host is absent, not "not ready"
        assert (await client.get("/", headers={"Host": "nope.example.test"})).status_code == 404

    async def test_a_master_left_by_a_previous_run_is_replaced(self, make_router, tmp_path):
        first = make_router()
        await first.start(RouteTable())
        await first.stop()
        # A platform killed without stopping its nginx leaves this behind.
        leftover = await asyncio.create_subprocess_exec(
            "nginx", "-p", f"{first.prefix}/", "-c", str(first.config_path), start_new_session=True,
            stderr=asyncio.subprocess.DEVNULL,
        )
        for _ in range(100):
            if await port_open(first.listen_port):
                break
            await asyncio.sleep(0.05)
        second = make_router(listen_port=first.listen_port, tls_port=first.tls_port)
        await second.start(RouteTable())
        await asyncio.wait_for(leftover.wait(), 5)  # the leftover master is gone...
        async with httpx.AsyncClient(trust_env=False) as client:  # ...and the new one serves
            response = await client.get(f"http://127.0.0.1:{second.listen_port}/v2/")
        assert response.json()["server"] == "api"
        assert second.running

    async def test_a_deep_data_dir_puts_the_sockets_in_a_private_dir(self, make_router, tmp_path, app_servers):
        """A unix socket path holds 108 bytes: under a deep data dir the control socket and the answer servers'
        sockets go to a directory of their own, removed at stop."""
        router = make_router(data_dir=tmp_path / ("d" * 60) / ("e" * 60))
        await router.start(RouteTable([web(app_servers, maintenance=True)]))
        sockets = router.control_path.parent.parent
        assert router.answers_dir.parent == sockets and not sockets.is_relative_to(tmp_path)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{router.listen_port}", trust_env=False) as c:
            assert (await c.get("/", headers={"Host": "web.example.test"})).status_code == 503
            assert (await c.get("/", headers={"Host": "nobody.example.test"})).status_code == 404
        await router.stop()
        assert not sockets.exists()

    async def test_large_logs_are_rotated(self, make_router, app_servers):
        router = make_router(max_log_bytes=1000, housekeeping_interval=0.05)
        await router.start(RouteTable([web(app_servers)]))
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{router.listen_port}", trust_env=False) as c:
            for _ in range(30):
                await c.get("/", headers={"Host": "web.example.test"})
        rotated = router.prefix / "logs" / "access.log.1"
        for _ in range(100):
            if rotated.exists():
                break
            await asyncio.sleep(0.05)
        assert rotated.exists()

    async def test_a_port_in_use_fails_start(self, make_router):
        import socket

        with socket.socket() as busy:
            busy.bind(("0.0.0.0", 0))
            busy.listen()
            router = make_router(listen_port=busy.getsockname()[1], start_timeout=10)
            with pytest.raises(RouterError) as caught:
                await router.start(RouteTable())
        assert "in use" in caught.value.message
        assert not router.running


class SlowApi:
    """A stand-in API whose answer comes in two chunks, `pause` seconds apart."""

    def __init__(self, pause: float):
        self.pause = pause
        self.second_chunk_sent = asyncio.Event()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
        writer.write(b"6\r\nfirst\n\r\n")
        await writer.drain()
        await asyncio.sleep(self.pause)
        self.second_chunk_sent.set()
        writer.write(b"7\r\nsecond\n\r\n0\r\n\r\n")
        await writer.drain()
        writer.close()


class TestApiProxying:
    async def test_api_responses_stream_unbuffered(self, make_router, tmp_path):
        api = SlowApi(pause=1.0)
        server = await asyncio.start_unix_server(api.handle, str(tmp_path / "slow.sock"))
        router = make_router(api_socket_path=tmp_path / "slow.sock")
        await router.start(RouteTable())
        try:
            async with httpx.AsyncClient(trust_env=False, timeout=10) as c:
                url = f"http://127.0.0.1:{router.listen_port}/v2/apps/x/logs"
                async with c.stream("GET", url, headers={"Host": "localhost"}) as response:
                    chunks = response.aiter_text()
                    assert (await anext(chunks)).startswith("first")
                    assert not api.second_chunk_sent.is_set()
                    rest = "".join([chunk async for chunk in chunks])
            assert "second" in rest
        finally:
            server.close()

    async def test_a_request_in_flight_survives_a_reload(self, make_router, tmp_path, app_servers):
        api = SlowApi(pause=1.0)
        server = await asyncio.start_unix_server(api.handle, str(tmp_path / "slow.sock"))
        router = make_router(api_socket_path=tmp_path / "slow.sock")
        await router.start(RouteTable())
        try:
            async with httpx.AsyncClient(trust_env=False, timeout=10) as c:
                url = f"http://127.0.0.1:{router.listen_port}/v2/apps/x/builds/"
                deploy = asyncio.create_task(c.post(url, headers={"Host": "localhost"}))
                await asyncio.sleep(0.2)
                await router.apply(RouteTable([web(app_servers)]))  # the deploy switches the router
                response = await deploy
            assert response.status_code == 200
            assert response.text == "first\nsecond\n"
        finally:
            server.close()
