"""Image references and registry host names, by Docker's grammar (github.com/distribution/reference), matched
in full before they reach the engine or a registry: `valid_reference`, `valid_registry_host` (`serveraddress`
of a login, the registry part of pulls); and the pure rules on references (`split_image`, `pinned`, `canonical`
…). Asking a registry for a digest is `scheduler/images.py`."""

from __future__ import annotations

import re

_LABEL = r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)"
REGISTRY_HOST_RE = re.compile(rf"(?:{_LABEL}(?:\.{_LABEL})*|\[[0-9a-fA-F:]+\])(?::[0-9]{{1,5}})?")
MAX_HOST = 255

HOSTNAME_TEXT = "Not a valid registry host name: expected host[:port], e.g. registry.example.com:5000"


def valid_registry_host(hostname: str) -> bool:
    return REGISTRY_HOST_RE.fullmatch(hostname) is not None and len(hostname) <= MAX_HOST


DEFAULT_REGISTRY = "docker.io"
DIGEST_RE = re.compile(r"sha256:[0-9a-f]{64}")


# Docker's reference grammar (distribution/reference), matched in full: an image reference goes into Engine API
# paths (`/distribution/{name}/json`) and registry URLs, and is a tenant's input.
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_DOMAIN = r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]{1,5})?"
REFERENCE_RE = re.compile(
    rf"(?:(?P<domain>{_DOMAIN})/)?(?P<path>{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*)"
    r"(?::(?P<tag>[\w][\w.-]{0,127}))?(?:@(?P<digest>sha256:[0-9a-f]{64}))?"
)
MAX_REFERENCE = 512  # the builds.image column


def valid_reference(image: str) -> bool:
    """Whether `image` is a Docker image reference (`[host[:port]/]path[:tag][@sha256:…]`)."""
    match = REFERENCE_RE.fullmatch(image) if len(image) <= MAX_REFERENCE else None
    if match is None:
        return False
    domain = match["domain"]
    # Docker's rule (split_image): a first part without `.` or `:` that is not localhost is a path component.
    return not domain or "." in domain or ":" in domain or domain == "localhost" or \
        re.fullmatch(_PATH_COMPONENT, domain) is not None


# --- references ------------------------------------------------------------------------------------------


def split_image(image: str) -> tuple[str, str, str]:
    """`[registry/]repo[:tag|@digest]` -> (registry host, repository path, `:tag` or `@digest`).

    Same rule as the Docker CLI: the first path component is a registry host when it contains `.` or `:`
    or is `localhost`; otherwise the image is on Docker Hub. A missing tag means `:latest`.
    """
    name, at, digest = image.partition("@")
    first, slash, rest = name.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        registry, path = first, rest
    else:
        registry, path = DEFAULT_REGISTRY, name
    if at:
        return registry, path, "@" + digest
    repo, colon, tag = path.rpartition(":")
    if colon and "/" not in tag:
        return registry, repo, ":" + tag
    return registry, path, ":latest"


def image_reference(image: str) -> str:
    """The image as given, with `:latest` added when it carries neither tag nor digest."""
    name, at, _ = image.partition("@")
    if at or ":" in name.rpartition("/")[2]:
        return image
    return image + ":latest"


def repository(image: str) -> str:
    """The image's name as given, without its tag or digest (`127.0.0.1:5000/team/web:1` -> `…/team/web`)."""
    name = image.partition("@")[0]
    head, slash, last = name.rpartition("/")
    return f"{head}{slash}{last.partition(':')[0]}"


def pinned(image: str, digest: str) -> str:
    """`name@sha256:…`: the image's repository at exactly this manifest."""
    return f"{repository(image)}@{digest}"


def canonical(image: str) -> str:
    """A fully qualified form, for comparing references: `docker.io/library/busybox@sha256:…`."""
    registry, path, suffix = split_image(image)
    if registry == DEFAULT_REGISTRY and "/" not in path:
        path = "library/" + path
    return f"{registry}/{path}{suffix}"


def short_digest(digest: str, length: int = 12) -> str:
    """`sha256:1a2b3c4d5e6f` (the algorithm and the first `length` hex digits)."""
    algorithm, _, hexdigits = digest.partition(":")
    return f"{algorithm}:{hexdigits[:length]}"
