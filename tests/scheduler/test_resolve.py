"""Resolving an image to the registry's manifest digest: through the engine's distribution inspect, and the
registry fallback (`HEAD /v2/<name>/manifests/<tag>`), against the real local registries (127.0.0.1:5000 is
the engine's Docker Hub mirror; the private one has htpasswd auth). The Bearer token flow, which no local
registry speaks, against a small aiohttp registry of the test's own."""

from __future__ import annotations

import asyncio
import base64
import time

import aiodocker
import httpx
import pytest
from aiohttp import web

from workflow.domain.images import canonical, pinned, repository, short_digest, valid_reference
from workflow.scheduler.base import ImageNotFound, ImagePullFailed, RegistryAuth
from workflow.scheduler.docker import DockerScheduler
from workflow.scheduler.images import RegistrySettings, manifest_digest

from .conftest import PrivateRegistry

pytestmark = pytest.mark.engine

MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json"


class TestReferences:
    @pytest.mark.parametrize("image, repo", [
        ("test/web", "test/web"),
        ("test/web:1", "test/web"),
        ("127.0.0.1:5000/team/web:1", "127.0.0.1:5000/team/web"),
        ("127.0.0.1:5000/team/web", "127.0.0.1:5000/team/web"),
        ("quay.io/a/b@sha256:abc", "quay.io/a/b"),
    ])
    def test_repository(self, image, repo):
        assert repository(image) == repo
        assert pinned(image, "sha256:ff") == f"{repo}@sha256:ff"

    @pytest.mark.parametrize("image", ["busybox", "test/web:latest", "127.0.0.1:5000/team/web:1", "Quay.IO/a/b",
                                       "localhost/x:y", "a/b:t@sha256:" + "b" * 64, "docker.io/library/busybox:1.36"])
    def test_valid(self, image):
        assert valid_reference(image)

    @pytest.mark.parametrize("image", ["Test/web", "a/B", "a/../../containers/json", "a/b:t?x=1", "a b", "x:",
                                       "a//b", "-a", "a/b@sha256:abc", "x/" + "a" * 600])
    def test_invalid(self, image):
        assert not valid_reference(image)

    def test_canonical(self):
        assert canonical("busybox@sha256:ab") == "docker.io/library/busybox@sha256:ab"
        assert canonical("test/web@sha256:ab") == canonical("docker.io/test/web@sha256:ab")
        assert canonical("127.0.0.1:5000/x/y@sha256:ab") == "127.0.0.1:5000/x/y@sha256:ab"

    def test_short(self):
        assert short_digest("sha256:" + "1a2b3c4d5e6f7a8b" * 4) == "sha256:1a2b3c4d5e6f"

    def test_endpoints(self):
        settings = RegistrySettings.from_engine({
            "Mirrors": ["http://127.0.0.1:5000/"], "InsecureRegistryCIDRs": ["127.0.0.0/8"],
            "IndexConfigs": {"docker.io": {"Secure": True}, "reg.lan:5000": {"Secure": False}}})
        assert settings.endpoints("docker.io") == ["http://127.0.0.1:5000", "https://registry-1.docker.io"]
        assert settings.endpoints("127.0.0.1:5001") == ["https://127.0.0.1:5001", "http://127.0.0.1:5001"]
        assert settings.endpoints("reg.lan:5000") == ["https://reg.lan:5000", "http://reg.lan:5000"]
        assert settings.endpoints("quay.io") == ["https://quay.io"]


def registry_digest(url: str, auth: tuple[str, str] | None = None) -> str:
    r = httpx.head(url, headers={"Accept": MANIFEST_V2}, auth=auth)
    assert r.status_code == 200, r.status_code
    return r.headers["Docker-Content-Digest"]


@pytest.fixture
def fallback(docker: aiodocker.Docker) -> DockerScheduler:
    """A scheduler that asks the registries itself, as on an engine without the distribution endpoint."""
    sched = DockerScheduler(docker, network="unused", api_timeout=10)
    sched.distribution_inspect = False
    return sched


@pytest.fixture(params=["engine", "fallback"])
def resolver(request, scheduler: DockerScheduler, fallback: DockerScheduler) -> DockerScheduler:
    return scheduler if request.param == "engine" else fallback


class TestResolve:
    async def test_registry_by_host(self, resolver: DockerScheduler):
        expected = registry_digest("http://127.0.0.1:5000/v2/test/web/manifests/latest")
        assert await resolver.resolve("127.0.0.1:5000/test/web") == expected
        assert await resolver.resolve(f"127.0.0.1:5000/test/web@{expected}") == expected

    async def test_docker_hub_name_goes_to_the_mirror(self, resolver: DockerScheduler):
        expected = registry_digest("http://127.0.0.1:5000/v2/test/web/manifests/latest")
        assert await resolver.resolve("test/web:latest") == expected
        assert await resolver.resolve("docker.io/test/web") == expected

    @pytest.mark.parametrize("image", ["test/does-not-exist", "test/web:no-such-tag", "127.0.0.1:5000/test/nope"])
    async def test_missing(self, resolver: DockerScheduler, image):
        with pytest.raises(ImageNotFound) as err:
            await resolver.resolve(image)
        assert "manifest unknown" in err.value.message

    async def test_unreachable_registry(self, resolver: DockerScheduler):
        with pytest.raises(ImagePullFailed) as err:
            await resolver.resolve("127.0.0.1:5999/test/web")
        assert "connection refused" in err.value.message.lower()

    async def test_private(self, resolver: DockerScheduler, private_registry: PrivateRegistry):
        reg = private_registry
        expected = registry_digest(f"http://{reg.host}/v2/private/web/manifests/latest", (reg.username, reg.password))
        assert await resolver.resolve(reg.image, RegistryAuth(reg.username, reg.password)) == expected
        with pytest.raises(ImagePullFailed) as err:
            await resolver.resolve(reg.image)
        assert "no basic auth credentials" in err.value.message
        with pytest.raises(ImagePullFailed) as err:
            await resolver.resolve(reg.image, RegistryAuth(reg.username, "wrong"))
        assert "unauthorized" in err.value.message and "wrong" not in err.value.message
        with pytest.raises(ImageNotFound):
            await resolver.resolve(f"{reg.host}/private/nope", RegistryAuth(reg.username, reg.password))


class TokenRegistry:
    """A registry that answers 401 with a Bearer challenge and hands out tokens for one user (Docker Hub's
    flow), on a free port; records the token requests."""

    digest = "sha256:" + "ab" * 32

    def __init__(self) -> None:
        self.token_requests: list[dict[str, str]] = []
        self.app = web.Application()
        self.app.router.add_route("HEAD", "/v2/{name:.+}/manifests/{ref}", self.manifest)
        self.app.router.add_get("/token", self.token)
        self.base = ""

    async def manifest(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != "Bearer tok-for-alice":
            challenge = f'Bearer realm="{self.base}/token",service="test-registry",scope="repository:x:pull"'
            return web.Response(status=401, headers={"WWW-Authenticate": challenge})
        if request.match_info["name"] != "team/web":
            return web.Response(status=404)
        return web.Response(headers={"Docker-Content-Digest": self.digest})

    async def token(self, request: web.Request) -> web.Response:
        self.token_requests.append(dict(request.query))
        expected = "Basic " + base64.b64encode(b"alice:pw").decode()
        if request.headers.get("Authorization") != expected:
            return web.json_response({"errors": [{"code": "UNAUTHORIZED", "message": "bad credentials"}]},
                                     status=401)
        return web.json_response({"token": "tok-for-alice"})


@pytest.fixture
async def token_registry():
    registry = TokenRegistry()
    runner = web.AppRunner(registry.app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    registry.base = f"http://127.0.0.1:{port}"
    yield registry, f"127.0.0.1:{port}"
    await runner.cleanup()


class TestTokenFlow:
    async def test_bearer(self, token_registry):
        registry, host = token_registry
        settings = RegistrySettings(insecure=frozenset({host}))
        digest = await manifest_digest(f"{host}/team/web:1", RegistryAuth("alice", "pw"), settings, 5)
        assert digest == registry.digest
        assert registry.token_requests == [{"scope": "repository:team/web:pull", "service": "test-registry"}]
        with pytest.raises(ImagePullFailed) as err:
            await manifest_digest(f"{host}/team/web:1", RegistryAuth("alice", "nope"), settings, 5)
        assert "bad credentials" in err.value.message
        with pytest.raises(ImageNotFound):
            await manifest_digest(f"{host}/team/other:1", RegistryAuth("alice", "pw"), settings, 5)


@pytest.fixture
async def silent_registry():
    """A port that accepts connections and never answers."""
    held = []

    async def hold(reader, writer):
        held.append(writer)
        await reader.read()  # until the client gives up

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    yield f"127.0.0.1:{server.sockets[0].getsockname()[1]}"
    for writer in held:
        writer.close()
    server.close()


@pytest.mark.parametrize("through_engine", [True, False])
async def test_a_registry_that_never_answers_is_bounded(docker, silent_registry, through_engine):
    sched = DockerScheduler(docker, network="unused", api_timeout=1.5)
    sched.distribution_inspect = through_engine
    started = time.monotonic()
    with pytest.raises(ImagePullFailed) as err:
        await sched.resolve(f"{silent_registry}/team/web:1")
    assert time.monotonic() - started < 5  # https then http in the fallback: two timeouts at most
    assert "did not answer" in err.value.message or "timed out" in err.value.message


@pytest.fixture
async def engine_without_distribution(tmp_path):
    """A stand-in for an engine older than API 1.30 (fast unit test): `/distribution/…` is the engine's
    'page not found'; `/info` reports the real machine's registry settings (127.0.0.0/8 insecure)."""

    async def version(request):
        return web.json_response({"ApiVersion": "1.29", "Version": "17.05.0-ce"})

    async def info(request):
        return web.json_response({"RegistryConfig": {"InsecureRegistryCIDRs": ["127.0.0.0/8"], "IndexConfigs": {},
                                                     "Mirrors": ["http://127.0.0.1:5000/"]}})

    async def not_found(request):
        return web.json_response({"message": "page not found"}, status=404)

    app = web.Application()
    app.router.add_get("/version", version)
    app.router.add_get("/{v}/info", info)
    app.router.add_route("*", "/{tail:.*}", not_found)
    runner = web.AppRunner(app)
    await runner.setup()
    sock = tmp_path / "engine.sock"
    await web.UnixSite(runner, str(sock)).start()
    client = aiodocker.Docker(url=f"unix://{sock}")
    yield client
    await client.close()
    await runner.cleanup()


async def test_an_engine_without_the_endpoint_falls_back_to_the_registry(engine_without_distribution):
    sched = DockerScheduler(engine_without_distribution, network="unused", api_timeout=5)
    expected = registry_digest("http://127.0.0.1:5000/v2/test/web/manifests/latest")
    assert await sched.resolve("127.0.0.1:5000/test/web:latest") == expected
    assert sched.distribution_inspect is False  # asked once; the registry directly from then on
    assert await sched.resolve("test/web") == expected  # Docker Hub name: the mirror from the engine's info
