"""Asking a registry for a manifest digest (the reference rules themselves are `domain/images.py`).

A build pins its image to the registry's manifest digest (`name@sha256:…`): every container of its release
runs exactly that content, whatever the tag names later. The digest is normally resolved by the engine
(`DockerScheduler.resolve`, the Engine API's distribution inspect, which uses the engine's own registry
settings: mirrors, insecure registries). `manifest_digest` here is the fallback for an engine that cannot
serve that endpoint: `HEAD /v2/<name>/manifests/<tag>` straight to the registry, with its token flow
(Basic or Bearer, as the registry's `WWW-Authenticate` asks), going to the engine's mirrors first for Docker Hub
names, as the engine does.

No aiodocker here; aiohttp for the registry's HTTP API.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import re
from dataclasses import dataclass, field

import aiohttp

from ..domain.images import DEFAULT_REGISTRY, DIGEST_RE, image_reference, split_image
from .base import ImageNotFound, ImagePullFailed, RegistryAuth

DOCKER_HUB_API = "https://registry-1.docker.io"
#: What a `docker pull` accepts, so the registry answers with the digest the engine would pull.
MANIFEST_TYPES = ", ".join((
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
))
_MAX_BODY = 4 * 1024 * 1024  # a manifest or token answer; larger is not a registry answering
_CHALLENGE_RE = re.compile(r'(\w+)="([^"]*)"')


# --- the registry fallback -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RegistrySettings:
    """What the engine knows about registries (`docker info` RegistryConfig) that the fallback needs."""

    mirrors: tuple[str, ...] = ()  # Docker Hub mirrors, as URLs, tried in order before Docker Hub
    insecure: frozenset[str] = frozenset()  # hosts with `Secure: false` in the engine's IndexConfigs
    insecure_networks: tuple = field(default=())  # the engine's InsecureRegistryCIDRs (127.0.0.0/8 by default)

    @classmethod
    def from_engine(cls, registry_config: dict) -> RegistrySettings:
        """From `docker info`'s RegistryConfig."""
        index = registry_config.get("IndexConfigs") or {}
        networks = []
        for cidr in registry_config.get("InsecureRegistryCIDRs") or []:
            try:
                networks.append(ipaddress.ip_network(str(cidr), strict=False))
            except ValueError:
                continue
        return cls(mirrors=tuple(str(m) for m in registry_config.get("Mirrors") or []),
                   insecure=frozenset(n for n, c in index.items() if isinstance(c, dict) and not c.get("Secure")),
                   insecure_networks=tuple(networks))

    def is_insecure(self, host: str) -> bool:
        if host in self.insecure:
            return True
        try:
            address = ipaddress.ip_address(host.rsplit(":", 1)[0] if host.count(":") == 1 else host.strip("[]"))
        except ValueError:
            return False
        return any(address in network for network in self.insecure_networks)

    def endpoints(self, registry: str) -> list[str]:
        """Base URLs to ask, in order: Docker Hub's mirrors then Docker Hub; https, then http for an insecure
        registry (as the engine does)."""
        if registry == DEFAULT_REGISTRY:
            return [m.rstrip("/") for m in self.mirrors] + [DOCKER_HUB_API]
        bases = [f"https://{registry}"]
        if self.is_insecure(registry):
            bases.append(f"http://{registry}")
        return bases


def _basic(auth: RegistryAuth) -> str:
    return "Basic " + base64.b64encode(f"{auth.username}:{auth.password}".encode()).decode()


def _challenge(header: str) -> tuple[str, dict[str, str]]:
    scheme, _, params = header.strip().partition(" ")
    return scheme.lower(), dict(_CHALLENGE_RE.findall(params))


async def _token(session: aiohttp.ClientSession, params: dict[str, str], path: str,
                 auth: RegistryAuth | None) -> str:
    """The registry's token flow: a pull token for `path` from the realm its challenge names."""
    realm = params.get("realm", "")
    if not realm.startswith(("https://", "http://")):
        raise ImagePullFailed(f"the registry's token realm {realm!r} is not an http(s) URL")
    query = {"scope": f"repository:{path}:pull"}
    if params.get("service"):
        query["service"] = params["service"]
    headers = {"Authorization": _basic(auth)} if auth is not None else {}
    async with session.get(realm, params=query, headers=headers) as response:
        body = await response.content.read(_MAX_BODY)
        if response.status != 200:
            raise ImagePullFailed(f"token request to {realm} refused ({response.status}): "
                                  f"{_reason(body, response.reason)}")
    try:
        data = json.loads(body)
        token = data.get("token") or data.get("access_token")
    except (ValueError, AttributeError):
        token = None
    if not isinstance(token, str) or not token:
        raise ImagePullFailed(f"the token service {realm} answered without a token")
    return token


def _reason(body: bytes, fallback: str | None) -> str:
    """The registry's error message (`{"errors": [{"code", "message"}]}`), else the HTTP reason."""
    try:
        errors = json.loads(body).get("errors") or []
        texts = [f"{e.get('code', '').lower().replace('_', ' ')}: {e.get('message', '')}".strip(": ")
                 for e in errors if isinstance(e, dict)]
        if texts:
            return "; ".join(texts)
    except (ValueError, AttributeError):
        pass
    return fallback or "no reason given"


async def _digest_at(session: aiohttp.ClientSession, base: str, path: str, reference: str,
                     auth: RegistryAuth | None) -> str:
    url = f"{base}/v2/{path}/manifests/{reference}"
    headers = {"Accept": MANIFEST_TYPES}
    for attempt in range(2):
        async with session.head(url, headers=headers, allow_redirects=True) as response:
            status, reason = response.status, response.reason
            digest = response.headers.get("Docker-Content-Digest", "")
            challenge = response.headers.get("WWW-Authenticate", "")
        if status == 200:
            if DIGEST_RE.fullmatch(digest):
                return digest
            return await _digest_of_body(session, url, headers)
        if status == 401 and attempt == 0 and challenge:
            scheme, params = _challenge(challenge)
            if scheme == "bearer":
                headers["Authorization"] = "Bearer " + await _token(session, params, path, auth)
                continue
            if scheme == "basic" and auth is not None:
                headers["Authorization"] = _basic(auth)
                continue
            raise ImagePullFailed("no basic auth credentials" if scheme == "basic" else f"unauthorized: {reason}")
        if status == 401:
            raise ImagePullFailed("unauthorized: authentication required")
        if status == 403:
            raise ImagePullFailed(f"denied: {reason}")
        if status == 404:
            raise ImageNotFound("manifest unknown")
        raise ImagePullFailed(f"the registry answered {status} {reason or ''}".strip())
    raise ImagePullFailed("unauthorized: authentication required")


async def _digest_of_body(session: aiohttp.ClientSession, url: str, headers: dict[str, str]) -> str:
    """A registry that sends no Docker-Content-Digest: the digest is the sha256 of the manifest's bytes."""
    async with session.get(url, headers=headers) as response:
        body = await response.content.read(_MAX_BODY + 1)
        if response.status != 200 or len(body) > _MAX_BODY:
            raise ImagePullFailed(f"the registry answered {response.status} to a manifest GET")
    return "sha256:" + hashlib.sha256(body).hexdigest()


async def manifest_digest(image: str, auth: RegistryAuth | None, settings: RegistrySettings,
                          timeout: float) -> str:
    """The manifest digest the registry serves for `image` now (fallback of `DockerScheduler.resolve`).

    ImageNotFound when the registry has no such manifest, ImagePullFailed when it refuses or none of its
    endpoints can be reached (the last reason). A mirror that answers is the answer (like the engine's
    distribution endpoint); the next endpoint is tried only when one cannot be reached.
    """
    registry, path, suffix = split_image(image_reference(image))
    if registry == DEFAULT_REGISTRY and "/" not in path:
        path = "library/" + path
    reference = suffix[1:]
    last: Exception | None = None
    client_timeout = aiohttp.ClientTimeout(total=timeout)
    async with aiohttp.ClientSession(timeout=client_timeout) as session:
        for base in settings.endpoints(registry):
            try:
                return await _digest_at(session, base, path, reference, auth)
            except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                last = exc
    raise ImagePullFailed(f"registry {registry} cannot be reached: {_unreachable(last)}")


def _unreachable(exc: BaseException | None) -> str:
    if exc is None:
        return "no endpoint"
    if isinstance(exc, TimeoutError):
        return "timed out"
    cause = getattr(exc, "os_error", None)
    if isinstance(cause, ConnectionRefusedError):
        return f"dial tcp {getattr(exc, 'host', '')}:{getattr(exc, 'port', '')}: connection refused"
    return str(exc).strip() or type(exc).__name__
