"""An app instance that stays silent (a task on a node that died: no RST, its SYNs go unanswered) costs a
request the router's app connect timeout (Settings.router_connect_timeout), then the request is served by
another instance. Real nginx; the silent instance is a loopback listener whose accept queue is full."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from workflow.router import AppRoute, RouteTable


@pytest.fixture
def silent() -> Iterator[str]:
    """ADDR:PORT where connects hang: a listener that never accepts, its queue filled (SYNs are dropped)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    address = listener.getsockname()
    queued = []
    for _ in range(3):
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex(address)
        queued.append(s)
    probe = socket.socket()
    probe.settimeout(0.5)
    with pytest.raises(TimeoutError):
        probe.connect(address)
    probe.close()
    yield f"{address[0]}:{address[1]}"
    for s in [*queued, listener]:
        s.close()


@pytest.mark.parametrize("timeout", [None, 0.3])
async def test_a_silent_instance_costs_the_connect_timeout_then_another_serves(make_router, app_servers, silent,
                                                                               timeout):
    router = make_router(**({} if timeout is None else {"app_connect_timeout": timeout}))
    await router.start(RouteTable([AppRoute("web", ["web.example.test"], [silent, app_servers[0].address])]))
    limit = timeout or 1.0  # the default: Settings.router_connect_timeout
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{router.listen_port}", trust_env=False,
                                 timeout=30) as client:
        took = []
        for _ in range(6):
            began = time.monotonic()
            response = await client.get("/", headers={"Host": "web.example.test"})
            took.append(time.monotonic() - began)
            assert response.status_code == 200
            assert response.json()["server"] == "app0"
    slow = [t for t in took if t >= limit * 0.8]
    assert slow, took  # round robin sent some to the silent one first
    assert max(took) < limit + 0.7, took
