"""Registry host names, checked before they reach the Docker engine (`serveraddress` of a login, the
registry part of pulls): host[:port] by Docker's grammar (github.com/distribution/reference), matched in
full. Image references are checked by `scheduler.images.valid_reference`."""

from __future__ import annotations

import re

_LABEL = r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)"
REGISTRY_HOST_RE = re.compile(rf"(?:{_LABEL}(?:\.{_LABEL})*|\[[0-9a-fA-F:]+\])(?::[0-9]{{1,5}})?")
MAX_HOST = 255

HOSTNAME_TEXT = "Not a valid registry host name: expected host[:port], e.g. registry.example.com:5000"


def valid_registry_host(hostname: str) -> bool:
    return REGISTRY_HOST_RE.fullmatch(hostname) is not None and len(hostname) <= MAX_HOST
