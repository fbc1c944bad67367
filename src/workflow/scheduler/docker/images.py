"""Images on the engine: pull (with registry credentials), inspect, resolve a tag to the registry's digest,
check credentials (`docker login`), and image GC of references the platform pulled."""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Any

from aiodocker.exceptions import DockerError

from ...domain.images import DEFAULT_REGISTRY, DIGEST_RE, canonical, image_reference, split_image, valid_reference
from .. import images
from ..base import (
    ImageInfo,
    ImageNotFound,
    ImagePullFailed,
    PullListener,
    PullProgress,
    RegistryAuth,
    SchedulerError,
    scrub,
)
from .conversion import image_info
from .engine import TRANSLATED, Engine, engine_message, translate

_DEFAULT_REGISTRY = DEFAULT_REGISTRY
_NOT_FOUND_HINTS = ("manifest unknown", "not found", "no such image", "repository does not exist")
_AUTH_HINTS = ("unauthorized", "denied", "authentication required", "no basic auth credentials", "forbidden")


class Images(Engine):
    async def inspect_image(self, image: str) -> ImageInfo | None:
        """ImageInfo of a local image; None when the engine does not have it."""
        ref = image_reference(image)
        data = await self._call(f"inspecting image {ref}", lambda: self._docker.images.inspect(ref), absent=(404,))
        return image_info(ref, data) if data is not None else None

    async def pull(self, image: str, auth: RegistryAuth | None = None, always: bool = False,
                   progress: PullListener | None = None) -> ImageInfo:
        """Pull `image` unless the engine has it (`always`: pull anyway), then inspect it.

        `auth` is sent as X-Registry-Auth; its hostname defaults to the image's registry host. `progress`
        hears the engine's progress stream, summed over the layers (`PullMeter`).
        """
        ref = image_reference(image)
        if not always:
            info = await self.inspect_image(ref)
            if info is not None:
                return info
        registry, _, _ = split_image(ref)
        pull_ref = ref
        auth_config = None
        if auth is not None:
            # aiodocker takes the registry from the reference: make it explicit for Docker Hub images.
            if not ref.startswith(registry + "/"):
                pull_ref = f"{registry}/{ref}"
            auth_config = {
                "username": auth.username,
                "password": auth.password,
                "serveraddress": auth.hostname or registry,
            }
        try:
            async with asyncio.timeout(self._pull_timeout):
                if progress is None:
                    await self._docker.images.pull(pull_ref, auth=auth_config)
                else:
                    meter = PullMeter(progress)
                    async for message in self._docker.images.pull(pull_ref, auth=auth_config, stream=True):
                        meter.hear(message)
        except DockerError as exc:
            raise await self._pull_error(ref, exc, auth_config) from exc
        except TRANSLATED as exc:
            raise translate(exc, f"pulling {ref}") from exc
        info = await self.inspect_image(ref)
        if info is None:
            raise ImageNotFound(f"image {ref} not found after pulling it")
        return info

    async def login(self, auth: RegistryAuth) -> None:
        """Check credentials against their registry from the engine (`POST /auth`, what `docker login` does).

        The engine does the registry's auth dance itself (basic or token, https then http for insecure
        registries), from where pulls will happen; it stores nothing. Refused or unreachable registry:
        ImagePullFailed with the registry's reason, the password scrubbed from it.
        """
        server = auth.hostname or _DEFAULT_REGISTRY
        try:
            async with asyncio.timeout(self._api_timeout):
                await self._docker.auth(username=auth.username, password=auth.password, serveraddress=server)
        except DockerError as exc:
            if exc.status == 900:
                raise translate(exc, f"logging in to {server}") from None
            raise ImagePullFailed(scrub(engine_message(exc), auth)) from None
        except TimeoutError:
            raise ImagePullFailed(f"registry {server} did not answer within {self._api_timeout:g} s") from None
        except TRANSLATED as exc:
            raise translate(exc, f"logging in to {server}") from None

    async def _pull_error(self, ref: str, exc: DockerError, auth: dict[str, Any] | None) -> SchedulerError:
        """Classify a failed pull: engine down, image missing, or registry refusing/unreachable."""
        if exc.status == 900:
            return translate(exc, f"pulling {ref}")
        reason = engine_message(exc)
        low = reason.lower()
        if any(h in low for h in _AUTH_HINTS) and "repository does not exist" not in low:
            return ImagePullFailed(f"cannot pull {ref}: {reason}")
        if exc.status == 404 or any(h in low for h in _NOT_FOUND_HINTS):
            return ImageNotFound(f"image {ref} not found: {reason}")
        # A registry that cannot be reached may hide a plain "not found": with a registry mirror the engine
        # falls back to the (unreachable) upstream after the mirror's 404. Ask the engine's distribution
        # endpoint, which consults the mirror, before blaming the network.
        if await self._manifest_missing(ref, auth):
            return ImageNotFound(f"image {ref} not found: manifest unknown")
        return ImagePullFailed(f"cannot pull {ref}: {reason}")

    async def _manifest_missing(self, ref: str, auth: dict[str, Any] | None) -> bool:
        headers = {}
        if auth is not None:
            from aiodocker.utils import compose_auth_header

            headers["X-Registry-Auth"] = compose_auth_header(auth)
        try:
            async with asyncio.timeout(self._api_timeout):
                # Not wrapped by aiodocker: GET /distribution/{name}/json.
                await self._docker._query_json(f"distribution/{ref}/json", "GET", headers=headers)
        except DockerError as exc:
            low = engine_message(exc).lower()
            return exc.status == 404 or "manifest unknown" in low
        except TRANSLATED:
            return False
        return False

    @staticmethod
    def _auth_config(ref: str, auth: RegistryAuth | None) -> dict[str, Any] | None:
        if auth is None:
            return None
        registry, _, _ = split_image(ref)
        return {"username": auth.username, "password": auth.password, "serveraddress": auth.hostname or registry}

    async def resolve(self, image: str, auth: RegistryAuth | None = None) -> str:
        """The manifest digest (`sha256:…`) the registry serves for `image` now, asked with `auth`.

        Never answered from the engine's cache: a copy the engine holds stands in neither for the registry's
        current content nor for the credentials (another app may have pulled it with its own). Through the
        engine's distribution inspect, which needs no pull and uses the engine's mirrors and insecure
        registries; an engine without that endpoint: the registry's `HEAD /v2/<name>/manifests/<tag>`.
        ImageNotFound / ImagePullFailed with the registry's reason, the password scrubbed from it.
        """
        if not valid_reference(image):
            raise ImageNotFound(f"invalid reference format: {image!r}")
        ref = image_reference(image)
        if self.distribution_inspect:
            auth_config = self._auth_config(ref, auth)
            headers = {}
            if auth_config is not None:
                from aiodocker.utils import compose_auth_header

                headers["X-Registry-Auth"] = compose_auth_header(auth_config)
            try:
                # A short call (the engine asks the registry for one manifest), bounded like one.
                async with asyncio.timeout(self._api_timeout):
                    # Not wrapped by aiodocker: GET /distribution/{name}/json.
                    data = await self._docker._query_json(f"distribution/{ref}/json", "GET", headers=headers)
            except DockerError as exc:
                if exc.status == 900:
                    raise translate(exc, f"resolving {ref}") from None
                reason = scrub(engine_message(exc), auth)
                endpoint_missing = exc.status == 501 or (exc.status == 404 and "page not found" in reason.lower())
                if not endpoint_missing:
                    raise self._resolve_error(ref, exc.status, reason) from None
                self.distribution_inspect = False  # an engine older than API 1.30
            except TimeoutError:
                raise ImagePullFailed(f"cannot resolve {ref}: the registry did not answer within "
                                      f"{self._api_timeout:g} s") from None
            except TRANSLATED as exc:
                raise translate(exc, f"resolving {ref}") from None
            else:
                digest = str(((data or {}).get("Descriptor") or {}).get("digest") or "")
                if not DIGEST_RE.fullmatch(digest):
                    raise ImagePullFailed(f"cannot resolve {ref}: the engine reported no sha256 digest")
                return digest
        try:
            return await images.manifest_digest(ref, auth, await self._registry_settings(), self._api_timeout)
        except (ImageNotFound, ImagePullFailed) as exc:
            message = scrub(exc.message, auth)
            if isinstance(exc, ImageNotFound):
                raise ImageNotFound(f"image {ref} not found: {message}") from None
            raise ImagePullFailed(f"cannot pull {ref}: {message}") from None

    @staticmethod
    def _resolve_error(ref: str, status: int, reason: str) -> SchedulerError:
        low = reason.lower()
        if status in (401, 403) or (any(h in low for h in _AUTH_HINTS) and "repository does not exist" not in low):
            return ImagePullFailed(f"cannot pull {ref}: {reason}")
        if status == 404 or any(h in low for h in _NOT_FOUND_HINTS):
            return ImageNotFound(f"image {ref} not found: {reason}")
        return ImagePullFailed(f"cannot pull {ref}: {reason}")

    async def _registry_settings(self) -> images.RegistrySettings:
        if self._registries is None:
            info = await self._call("reading engine info", lambda: self._docker.system.info())
            self._registries = images.RegistrySettings.from_engine(info.get("RegistryConfig") or {})
        return self._registries

    async def remove_images(self, refs: list[str]) -> list[str]:
        """Remove digest references (`name@sha256:…`) the platform pulled, when nothing else holds them.

        Left alone: a reference the engine does not hold, an image that carries a tag (someone tagged it:
        the platform itself only pulls by digest) and an image any container uses, in any state and of
        whoever. A reference is removed, not the image by id: content another reference names stays.
        Returns the references removed.
        """
        if not refs:
            return []
        listed = await self._call("listing images", lambda: self._docker.images.list(digests=1))
        containers = await self._call("listing containers", lambda: self._docker.containers.list(all=True))
        in_use = {c._container.get("ImageID") for c in containers}
        by_ref: dict[str, dict[str, Any]] = {}
        for entry in listed:
            for repo_digest in entry.get("RepoDigests") or []:
                by_ref[canonical(repo_digest)] = entry
        removed = []
        for ref in refs:
            entry = by_ref.get(canonical(ref))
            if entry is None or entry.get("Id") in in_use:
                continue
            if [t for t in entry.get("RepoTags") or [] if t != "<none>:<none>"]:
                continue
            # 404, 409: gone meanwhile / a container started using it
            if await self._call(f"removing image {ref}", partial(self._delete_image, ref), absent=(404, 409)):
                removed.append(ref)
        return removed

    async def _delete_image(self, ref: str) -> bool:
        await self._docker.images.delete(ref)
        return True


class PullMeter:
    """The engine's pull stream (one JSON message per layer step: `Pulling fs layer`, `Downloading` with
    `progressDetail` bytes, `Download complete`, `Pull complete`, `Already exists`, ...) summed over the
    image's layers and passed on as PullProgress. The listener is called for each byte update and each
    downloaded layer; it decides what to keep. Layers the engine already has count as done, unannounced: the
    engine lists every layer (`Already exists` or `Pulling fs layer`) before the first completes, so the count
    of layers is whole by then."""

    _DONE = ("Pull complete", "Already exists")

    def __init__(self, listener: PullListener) -> None:
        self._listener = listener
        self._layers: dict[str, tuple[int, int]] = {}  # layer id -> (bytes downloaded, bytes in all)
        self._done: set[str] = set()
        self._current = self._total = 0  # the sums over the layers, kept as they change

    def hear(self, message: dict[str, Any]) -> None:
        layer, status = str(message.get("id") or ""), str(message.get("status") or "")
        # Messages without a layer ("Pulling from …", "Digest: …", "Status: …") carry no progress.
        if not layer or status.startswith(("Pulling from", "Digest:", "Status:")):
            return
        before = current, total = self._layers.get(layer, (0, 0))
        detail = message.get("progressDetail") or {}
        if status == "Downloading" and isinstance(detail.get("current"), int):
            current = detail["current"]
            total = detail["total"] if isinstance(detail.get("total"), int) else total
        elif status in ("Download complete", "Pull complete"):
            current = total
        self._current += current - before[0]
        self._total += total - before[1]
        self._layers[layer] = (current, total)
        if status in self._DONE:
            self._done.add(layer)
        finished = status == "Pull complete"
        if not finished and status != "Downloading":
            return  # Already exists, Waiting, Verifying Checksum, Extracting: no news for the user
        self._listener(PullProgress(
            layers_done=len(self._done), layers=len(self._layers),
            current=self._current, total=self._total, layer=layer if finished else ""))
