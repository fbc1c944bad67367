"""A deploy's progress as events, through the HTTP API on the real engine and the local registry (issue 15):
the image pull (layers done, bytes) of an image the engine does not hold, and the readiness probe's attempts
(failing, then passing; refused until the deploy times out) — each bounded, not one event per engine message
or per probe attempt."""

from __future__ import annotations

import asyncio
import os
import re
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from .conftest import app_name, host_of
from .test_digests import docker

pytestmark = pytest.mark.engine


@pytest.fixture
def pulled() -> Iterator[list[str]]:
    """References the platform pulled for a test, removed afterwards (first in the arguments: torn down after
    `platform`, which removes the containers using them)."""
    refs: list[str] = []
    yield refs
    for ref in refs:
        docker("rmi", ref, check=False)


async def release_events(api, auth, name: str, version: int) -> list[dict]:
    r = await api.get(f"/v2/apps/{name}/releases/v{version}/events/", headers=auth)
    assert r.status_code == 200, r.text
    return r.json()["results"]


async def new_app(api, auth) -> str:
    name = app_name()
    assert (await api.post("/v2/apps/", json={"id": name}, headers=auth)).status_code == 201
    return name


def push_big_image(ref: str, tmp_path: Path) -> None:
    """test/web with a layer of 8 MB of random bytes (so that the pull downloads for a while), pushed as
    `ref`; the local tag removed again."""
    context = tmp_path / f"ctx-{uuid.uuid4().hex[:6]}"
    context.mkdir()
    (context / "blob").write_bytes(os.urandom(8 << 20))
    (context / "Dockerfile").write_text("FROM test/web:latest\nCOPY blob /blob\n")
    docker("build", "-q", "-t", ref, str(context))
    docker("push", "-q", ref)
    docker("rmi", ref)


async def test_a_pull_reports_its_layers_and_bytes(pulled, api, owner, platform, tmp_path):
    # A fresh repository on the shared registry, its local tag removed: the engine must pull it.
    image = f"127.0.0.1:5000/progress-{uuid.uuid4().hex[:8]}/web:v1"
    await asyncio.to_thread(push_big_image, image, tmp_path)
    name = await new_app(api, owner)
    r = await api.post(f"/v2/apps/{name}/builds/", json={"image": image}, headers=owner)
    assert r.status_code == 201, r.text
    pulled.append(f"{image.rsplit(':', 1)[0]}@{r.json()['digest']}")
    events = await release_events(api, owner, name, 2)
    pulls = [e for e in events if e["kind"] == "pull"]
    layers = [e for e in pulls if e["data"].get("layer")]
    assert layers, [e["message"] for e in events]
    # test/web's layers are on the engine already (done, not announced); the blob's layer is downloaded.
    last = layers[-1]["data"]
    assert last["layers_done"] == last["layers"] >= 2
    assert f"pulled layer {last['layers']}/{last['layers']} of {image.split(':v1')[0]}" in layers[-1]["message"]
    assert last["current"] == last["total"] >= 8 << 20
    counts = [e["data"] for e in pulls if not e["data"].get("layer")]
    assert counts and counts[0]["total"] >= 8 << 20, [e["message"] for e in pulls]
    assert all(a["current"] <= b["current"] for a, b in zip(counts, counts[1:], strict=False))
    first = next(e["message"] for e in pulls if not e["data"].get("layer"))
    assert re.fullmatch(r"pulling \S+/web: [0-9.]+ [kM]B of [0-9.]+ MB, \d+/\d+ layers", first), first
    # Bounded: one per downloaded layer, and byte counts at most every half second (not one per message).
    times = [datetime.fromisoformat(e["created"]) for e in pulls]
    assert len(counts) <= 1 + (times[-1] - times[0]).total_seconds() / 0.5
    # After the digest is known and before the image is inspected and the containers start.
    order = [e["kind"] for e in events]
    assert order.index("image") < order.index("pull") < len(order) - order[::-1].index("pull") - 1 \
        < order.index("start")


def probe(path: str, port: int = 8080) -> dict:
    return {"httpGet": {"path": path, "port": port}, "initialDelaySeconds": 0, "timeoutSeconds": 1,
            "periodSeconds": 1, "successThreshold": 1, "failureThreshold": 2}


async def test_probe_attempts_failing_then_passing(api, owner):
    name = await new_app(api, owner)
    # /ready.html appears 2 s after the server starts: the probe fails (404), then passes (200).
    web = ("mkdir -p /tmp/w && cp /www/index.html /tmp/w/ && httpd -p 8080 -h /tmp/w && sleep 2 "
           "&& cp /www/index.html /tmp/w/ready.html && exec sleep 100000")
    r = await api.post(f"/v2/apps/{name}/config/", headers=owner, json={
        "healthcheck": {"web": {"readinessProbe": probe("/ready.html")}}})
    assert r.status_code == 201, r.text
    r = await api.post(f"/v2/apps/{name}/builds/", headers=owner,
                       json={"image": "test/web:latest", "procfile": {"web": web}})
    assert r.status_code == 201, r.text
    version = 3
    attempts = [e for e in await release_events(api, owner, name, version)
                if e["kind"] == "probe" and e["data"].get("detail", "").startswith("HTTP")]
    assert attempts, await release_events(api, owner, name, version)
    first, final = attempts[0]["data"], attempts[-1]["data"]
    assert (first["attempt"], first["result"], first["status"]) == (1, "failed", 404)
    assert (final["result"], final["status"]) == ("passed", 200)
    assert final["attempt"] >= 2
    assert "readiness attempt" in attempts[-1]["message"] and "HTTP 200" in attempts[-1]["message"]
    # The failing attempts between are not each recorded: the first, and a "still" at most every 5 s.
    assert len(attempts) <= 2 + final["attempt"] // 5 + 1

    # A probe on a port nothing listens on: refused until the deploy's timeout, the attempts bounded.
    r = await api.post(f"/v2/apps/{name}/config/", headers=owner, json={
        "values": {"DEIS_DEPLOY_TIMEOUT": "4"}, "healthcheck": {"web": {"readinessProbe": probe("/", 8081)}}})
    assert r.status_code == 400, r.text
    refused = [e for e in await release_events(api, owner, name, version + 1) if e["kind"] == "probe"]
    tries = [e["data"] for e in refused if e["data"].get("detail") == "connection refused"]
    assert tries and tries[0]["attempt"] == 1 and tries[0]["result"] == "failed"
    assert len(tries) <= 2  # 4 s of attempts: the first, and at most one "still" after 5 s
    assert refused[-1]["data"]["result"] == "timeout"


async def test_a_drain_reports_its_requests_in_flight(api, owner, engine_settings):
    name = await new_app(api, owner)
    r = await api.post(f"/v2/apps/{name}/builds/", json={"image": "test/web:latest"}, headers=owner)
    assert r.status_code == 201, r.text
    # A drain of up to 20 s (the tests' default is 2 s): the requests below outlast a deploy on a loaded machine.
    r = await api.post(f"/v2/apps/{name}/config/", headers=owner,
                       json={"values": {"KUBERNETES_POD_TERMINATION_GRACE_PERIOD_SECONDS": "20"}})
    assert r.status_code == 201, r.text
    url = f"http://127.0.0.1:{engine_settings.port}"
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        # Two slow requests (a CGI sleeping 8 s) to v3's container while v4 replaces it.
        slow = [asyncio.create_task(client.get("/cgi-bin/sleep?8", headers=host_of(name, engine_settings)))
                for _ in range(2)]
        await asyncio.sleep(1.0)
        r = await api.post(f"/v2/apps/{name}/config/", json={"values": {"COLOUR": "blue"}}, headers=owner)
        assert r.status_code == 201, r.text
        assert [x.status_code for x in await asyncio.gather(*slow)] == [200, 200]
    drain = [e for e in await release_events(api, owner, name, 4) if e["kind"] == "drain"]
    counts = [e["data"]["in_flight"] for e in drain if "in_flight" in e["data"]]
    assert counts and counts[0] == 2 and counts[-1] == 0, [e["message"] for e in drain]
    assert drain[1]["message"] == "draining: 2 request(s) in flight"
    assert drain[-1]["message"].startswith("drained: no request in flight after ")
    assert len(counts) <= 3  # 2, perhaps 1, then 0: not one per look at the router
