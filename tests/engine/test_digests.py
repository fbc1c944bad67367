"""Images by digest, through the HTTP API on the real engine and real registries (issue 11).

A build resolves its tag to the registry's manifest digest with the app's own credentials; every container
of its releases runs `name@digest`. Test images are made here (test/web with a page of their own), pushed
with `docker push` to a registry the test starts itself or under unique repository names on the shared
127.0.0.1:5000, and their local tags removed, so the engine holds them only when the platform pulled them.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import register

from .conftest import app_name, free_port, host_of

pytestmark = pytest.mark.engine

CREDENTIALS = Path("/var/lib/workflow-test/private-registry/credentials.env")
DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


def docker(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "DOCKER_BUILDKIT": "0"}
    result = subprocess.run(["docker", *args], capture_output=True, text=True, env=env)
    if check and result.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)}: {result.stderr.strip()}")
    return result


def push_image(ref: str, page: str, tmp_path: Path) -> None:
    """test/web serving `page` at /, pushed as `ref`; the local tag is removed again (the test's own)."""
    context = tmp_path / f"ctx-{uuid.uuid4().hex[:6]}"
    context.mkdir()
    (context / "index.html").write_text(page + "\n")
    (context / "Dockerfile").write_text("FROM test/web:latest\nCOPY index.html /www/index.html\n")
    docker("build", "-q", "-t", ref, str(context))
    docker("push", "-q", ref)
    docker("rmi", ref)


def private_registry_env() -> dict[str, str]:
    if not CREDENTIALS.exists():
        pytest.fail(f"{CREDENTIALS} is missing: run scripts/start-services.sh --test (make test does)")
    return dict(line.split("=", 1) for line in CREDENTIALS.read_text().splitlines() if "=" in line)


def engine_has(ref: str) -> bool:
    return docker("image", "inspect", ref, check=False).returncode == 0


class Registry:
    """A registry of the test's own (docker-registry, no auth) on a free loopback port: stoppable."""

    def __init__(self, work: Path):
        self.host = f"127.0.0.1:{free_port()}"
        (work / "config.yml").write_text(
            f"version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {work / 'data'}\nhttp:\n  addr: {self.host}\n")
        self._log = (work / "log").open("w")
        self._proc = subprocess.Popen(["docker-registry", "serve", str(work / "config.yml")],
                                      stdout=self._log, stderr=self._log)
        deadline = time.monotonic() + 10
        while True:
            try:
                urllib.request.urlopen(f"http://{self.host}/v2/", timeout=1)
                break
            except (OSError, urllib.error.URLError):
                if time.monotonic() > deadline or self._proc.poll() is not None:
                    raise RuntimeError(f"registry did not start: {(work / 'log').read_text()}") from None
                time.sleep(0.1)

    def stop(self) -> None:
        if self._proc.poll() is None:
            self._proc.terminate()
            self._proc.wait(10)
        self._log.close()


@pytest.fixture
def own_registry(tmp_path) -> Iterator[Registry]:
    if not shutil.which("docker-registry"):
        pytest.skip("docker-registry is needed")
    work = tmp_path / "registry"
    work.mkdir()
    registry = Registry(work)
    yield registry
    registry.stop()


@pytest.fixture
def removes_images() -> Iterator[list[str]]:
    """References the platform pulled for a test: removed afterwards (the test's own images). First in a test's
    arguments, so that it is torn down after `platform`, which removes the containers using them."""
    refs: list[str] = []
    yield refs
    for ref in refs:
        docker("rmi", ref, check=False)


async def new_app(api, auth) -> str:
    name = app_name()
    assert (await api.post("/v2/apps/", json={"id": name}, headers=auth)).status_code == 201
    return name


async def build(api, auth, name: str, image: str) -> dict:
    r = await api.post(f"/v2/apps/{name}/builds/", json={"image": image}, headers=auth)
    assert r.status_code == 201, r.text
    assert DIGEST.fullmatch(r.json()["digest"]), r.json()
    return r.json()


async def page(router_client, settings, name: str) -> str:
    r = await router_client.get("/", headers=host_of(name, settings))
    assert r.status_code == 200, r.text
    return r.text.strip()


async def running(platform, name: str) -> list:
    return [c for c in await platform.state.ctx.scheduler.list(app=name) if c.state == "up"]


def image_of_container(container_id: str) -> str:
    return docker("inspect", "-f", "{{.Config.Image}}", container_id).stdout.strip()


async def replaced(platform, name: str, old_id: str, patience: float = 30.0):
    """The container the reconciler started for the killed one (up, and another id)."""
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        fresh = [c for c in await running(platform, name) if c.id != old_id]
        if fresh and all(platform.state.ctx.route_state.is_ready(c.id) for c in fresh):
            return fresh[0]
        await asyncio.sleep(0.2)
    raise AssertionError(f"no replacement for {old_id[:12]} within {patience:g} s")


async def test_a_release_runs_its_digest_whatever_the_tag_names(removes_images, api, owner, platform, router_client,
                                                                engine_settings, tmp_path):
    repo = f"127.0.0.1:5000/team-{uuid.uuid4().hex[:8]}/web"
    image = f"{repo}:1"
    name = await new_app(api, owner)

    await asyncio.to_thread(push_image, image, "content A", tmp_path)
    first = await build(api, owner, name, image)
    removes_images.append(f"{repo}@{first['digest']}")
    assert first["image"] == image
    assert await page(router_client, engine_settings, name) == "content A"

    await asyncio.to_thread(push_image, image, "content B", tmp_path)  # the same tag, new content
    second = await build(api, owner, name, image)
    removes_images.append(f"{repo}@{second['digest']}")
    assert second["digest"] != first["digest"]
    assert await page(router_client, engine_settings, name) == "content B"

    releases = (await api.get(f"/v2/apps/{name}/releases/", headers=owner)).json()["results"]
    assert [(r["version"], r["digest"]) for r in releases] == [(3, second["digest"]), (2, first["digest"]), (1, None)]
    assert releases[0]["summary"] == f"owner deployed {image} ({second['digest'][:19]})"

    r = await api.post(f"/v2/apps/{name}/releases/rollback/", json={"version": 2}, headers=owner)
    assert r.status_code == 201, r.text
    assert await page(router_client, engine_settings, name) == "content A"  # although the tag names B
    r = await api.get(f"/v2/apps/{name}/releases/v4/", headers=owner)
    assert r.json()["digest"] == first["digest"]

    [container] = await running(platform, name)
    assert image_of_container(container.id) == f"{repo}@{first['digest']}"
    docker("kill", container.id)
    fresh = await replaced(platform, name, container.id)
    assert fresh.version == 4
    assert image_of_container(fresh.id) == f"{repo}@{first['digest']}"
    assert await page(router_client, engine_settings, name) == "content A"


async def test_docker_hub_names_resolve_through_the_mirror(removes_images, api, owner, router_client, engine_settings,
                                                           tmp_path):
    """With 127.0.0.1:5000 as the engine's Docker Hub mirror, `user/app:latest` resolves offline exactly as it
    would against Docker Hub: a new push under the tag is a new digest."""
    user = f"u{uuid.uuid4().hex[:8]}"
    name = await new_app(api, owner)
    await asyncio.to_thread(push_image, f"127.0.0.1:5000/{user}/app:latest", "mirror A", tmp_path)
    first = await build(api, owner, name, f"{user}/app:latest")
    removes_images.append(f"{user}/app@{first['digest']}")
    assert await page(router_client, engine_settings, name) == "mirror A"
    await asyncio.to_thread(push_image, f"127.0.0.1:5000/{user}/app:latest", "mirror B", tmp_path)
    second = await build(api, owner, name, f"{user}/app")  # no tag: latest
    removes_images.append(f"{user}/app@{second['digest']}")
    assert second["digest"] != first["digest"]
    assert await page(router_client, engine_settings, name) == "mirror B"

    r = await api.post(f"/v2/apps/{name}/builds/", json={"image": f"{user}/nothing:latest"}, headers=owner)
    assert r.status_code == 400
    assert r.json()["detail"].startswith(f"Image {user}/nothing:latest could not be found: ")
    assert "manifest unknown" in r.json()["detail"]


async def test_a_private_image_in_the_engine_is_no_credential(api, owner, platform):
    """App X pulls a private image with its credentials; app Y (another user, none) asking for the same image
    is refused with the registry's reason, and nothing is created, although the engine holds the image."""
    env = private_registry_env()
    host = env["PRIVATE_REGISTRY"]
    image = f"{host}/test/private-web:latest"

    x = await new_app(api, owner)
    r = await api.post(f"/v2/apps/{x}/config/", headers=owner, json={
        "values": {"PORT": "8080"},
        "registry": {"username": env["PRIVATE_REGISTRY_USER"], "password": env["PRIVATE_REGISTRY_PASSWORD"]}})
    assert r.status_code == 201, r.text
    digest = (await build(api, owner, x, image))["digest"]
    # Not removed afterwards: the shared private image; another session's deploy may be using the reference.
    assert engine_has(f"{host}/test/private-web@{digest}")

    _, other = await register(api, "other")
    y = await new_app(api, other)
    r = await api.post(f"/v2/apps/{y}/config/", json={"values": {"PORT": "8080"}}, headers=other)
    assert r.status_code == 201, r.text
    for asked in (image, f"{host}/test/private-web@{digest}"):
        r = await api.post(f"/v2/apps/{y}/builds/", json={"image": asked}, headers=other)
        assert r.status_code == 400, r.text
        detail = r.json()["detail"]
        assert detail.startswith(f"Image {asked} could not be pulled: "), detail
        assert "no basic auth credentials" in detail
    assert (await api.get(f"/v2/apps/{y}/builds/", headers=other)).json()["count"] == 0
    releases = (await api.get(f"/v2/apps/{y}/releases/", headers=other)).json()["results"]
    assert [r["version"] for r in releases] == [2, 1]  # v1, then the PORT config: no build release
    assert await platform.state.ctx.scheduler.list(app=y) == []
    assert engine_has(f"{host}/test/private-web@{digest}")


async def test_registry_stopped(removes_images, api, owner, platform, router_client, engine_settings, own_registry,
                                tmp_path):
    """Once the digest is local the release needs no registry: scale-up, restart and replacement work with the
    registry stopped; a new build cannot resolve and is refused with a clear reason."""
    image = f"{own_registry.host}/team/web:1"
    await asyncio.to_thread(push_image, image, "offline A", tmp_path)
    name = await new_app(api, owner)
    digest = (await build(api, owner, name, image))["digest"]
    removes_images.append(f"{own_registry.host}/team/web@{digest}")
    own_registry.stop()

    r = await api.post(f"/v2/apps/{name}/scale/", json={"cmd": 2}, headers=owner)
    assert r.status_code == 204, r.text
    containers = await running(platform, name)
    assert len(containers) == 2
    assert {image_of_container(c.id) for c in containers} == {f"{own_registry.host}/team/web@{digest}"}

    docker("kill", containers[0].id)
    await replaced(platform, name, containers[0].id)
    r = await api.post(f"/v2/apps/{name}/pods/restart/", headers=owner)
    assert r.status_code == 200, r.text
    assert await page(router_client, engine_settings, name) == "offline A"

    r = await api.post(f"/v2/apps/{name}/builds/", json={"image": image}, headers=owner)
    assert r.status_code == 400, r.text
    detail = r.json()["detail"]
    assert detail.startswith(f"Image {image} could not be pulled: "), detail
    assert "connection refused" in detail
    releases = (await api.get(f"/v2/apps/{name}/releases/", headers=owner)).json()["results"]
    assert [r["version"] for r in releases] == [2, 1]


async def collect(platform) -> list[str]:
    """One image GC run; GC waits while any app's work holds its lock (a reconciler pass may): retried then."""
    ctx = platform.state.ctx
    for _ in range(200):  # 10 s at most
        if not ctx.locks.any_held():
            break
        await asyncio.sleep(0.05)
    return await ctx.reconciler.collect_images()


async def test_image_gc_keeps_the_last_releases_and_what_runs(removes_images, api, owner, platform, own_registry,
                                                              tmp_path):
    """After 12 deploys of distinct images the engine holds the last 10 (WORKFLOW_IMAGE_KEEP_RELEASES) plus
    any image a container uses; removals are events in the app's log; tagged images are never touched."""
    name = await new_app(api, owner)
    refs = []
    for n in range(12):
        image = f"{own_registry.host}/team/web:{n}"
        await asyncio.to_thread(push_image, image, f"gc {n}", tmp_path)
        digest = (await build(api, owner, name, image))["digest"]
        refs.append(f"{own_registry.host}/team/web@{digest}")
    removes_images.extend(refs)
    assert all(engine_has(ref) for ref in refs)
    # Someone else's container on the second image (any container counts: the engine's, not the platform's).
    holder = f"wf-gc-holder-{uuid.uuid4().hex[:8]}"
    docker("create", "--name", holder, refs[1])
    try:
        assert await collect(platform) == [refs[0]]
        assert not engine_has(refs[0])
        assert all(engine_has(ref) for ref in refs[1:])
        assert engine_has("test/web:latest") and engine_has("127.0.0.1:5000/test/web:latest")
    finally:
        docker("rm", "-f", holder)
    assert await collect(platform) == [refs[1]]
    assert not engine_has(refs[1])
    assert all(engine_has(ref) for ref in refs[2:])
    logs = (await api.get(f"/v2/apps/{name}/logs?log_lines=100", headers=owner)).text
    assert logs.count("removed image ") == 2
    assert await collect(platform) == []


async def test_image_pull_policy_always_still_pulls(removes_images, api, owner, platform, own_registry, tmp_path):
    """IMAGE_PULL_POLICY=Always keeps its meaning: every deploy pulls (the release's digest), so with the
    registry stopped a scale-up is refused naming the registry, and what runs keeps running."""
    image = f"{own_registry.host}/team/web:1"
    await asyncio.to_thread(push_image, image, "always", tmp_path)
    name = await new_app(api, owner)
    r = await api.post(f"/v2/apps/{name}/config/", json={"values": {"IMAGE_PULL_POLICY": "Always"}}, headers=owner)
    assert r.status_code == 201, r.text
    digest = (await build(api, owner, name, image))["digest"]
    removes_images.append(f"{own_registry.host}/team/web@{digest}")
    own_registry.stop()
    r = await api.post(f"/v2/apps/{name}/scale/", json={"cmd": 2}, headers=owner)
    assert r.status_code == 400, r.text
    assert r.json()["detail"].startswith(f"Image {own_registry.host}/team/web@{digest} could not be pulled: ")
    assert len(await running(platform, name)) == 1
