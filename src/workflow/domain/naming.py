"""Pod names and ownership labels (pure: no I/O, no async).

A pod name looks like a Kubernetes Deployment pod, because the Workflow CLI parses the process type out of
it (`CLI/cmd/ps.go parseType`, spec/API.md §4.10): `<app>-<type>-<10 digits>-<5 [a-z0-9]>`. The digit block is
a stable hash of (app, type, release version), like a ReplicaSet's pod-template hash; the suffix is random
per container. Labels record ownership on every engine object (spec §7): `deis.app`, `deis.type`,
`deis.version=v<N>` and `heritage=deis`.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from typing import NamedTuple

from workflow.scheduler.base import HERITAGE, LABEL_APP, LABEL_HERITAGE, LABEL_TYPE, LABEL_VERSION

SUFFIX_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
SUFFIX_LENGTH = 5
HASH_DIGITS = 10

_TYPE = r"[a-z0-9]+(?:-[a-z0-9]+)*"  # spec §4.7
_TAIL = r"(?P<hash>[0-9]{8,10})-(?P<suffix>[a-z0-9]{5})"  # the CLI accepts 8-10 digits
_SHORT_RE = re.compile(rf"(?P<type>{_TYPE})-{_TAIL}")
_VERSION_RE = re.compile(r"v([0-9]+)")


class PodName(NamedTuple):
    app: str
    proc_type: str
    hash: str
    suffix: str


def version_label(version: int) -> str:
    """Release number as Workflow shows it: 3 -> `v3`."""
    return f"v{version}"


def parse_version(label: str) -> int | None:
    """`v3` -> 3; anything else -> None."""
    m = _VERSION_RE.fullmatch(label or "")
    return int(m.group(1)) if m else None


def release_hash(app: str, proc_type: str, version: int) -> str:
    """The stable 10-digit block shared by every pod of (app, type, version)."""
    digest = hashlib.sha256(f"{app}\0{proc_type}\0{version}".encode()).digest()
    return str(int.from_bytes(digest[:8], "big") % 10**HASH_DIGITS).zfill(HASH_DIGITS)


def random_suffix() -> str:
    return "".join(secrets.choice(SUFFIX_ALPHABET) for _ in range(SUFFIX_LENGTH))


def pod_name(app: str, proc_type: str, version: int, suffix: str | None = None) -> str:
    """A new pod name; `suffix` (5 of [a-z0-9]) is random unless given."""
    suffix = random_suffix() if suffix is None else suffix
    if len(suffix) != SUFFIX_LENGTH or any(c not in SUFFIX_ALPHABET for c in suffix):
        raise ValueError(f"pod name suffix must be {SUFFIX_LENGTH} of [a-z0-9], got {suffix!r}")
    return f"{app}-{proc_type}-{release_hash(app, proc_type, version)}-{suffix}"


def parse_pod_name(name: str, app: str | None = None) -> PodName | None:
    """Split a full pod name; None when it does not have the pod-name shape.

    Process types may contain dashes, so the split is only certain when `app` is given (the name must then
    start with `<app>-`). Without it the app is taken to be everything before the last dash-free segment
    preceding the digits, which is right whenever the type has no dash.
    """
    if app is not None:
        if not name.startswith(app + "-"):
            return None
        m = _SHORT_RE.fullmatch(name[len(app) + 1 :])
        if m is None:
            return None
        return PodName(app, m["type"], m["hash"], m["suffix"])
    m = re.fullmatch(rf"(?P<app>.+)-(?P<type>[a-z0-9]+)-{_TAIL}", name)
    if m is None:
        return None
    return PodName(m["app"], m["type"], m["hash"], m["suffix"])


def parse_short_pod_name(name: str) -> tuple[str, str, str] | None:
    """`<type>-<digits>-<suffix>` -> (type, hash, suffix); None for any other shape."""
    m = _SHORT_RE.fullmatch(name)
    return (m["type"], m["hash"], m["suffix"]) if m else None


def full_pod_name(app: str, name: str) -> str | None:
    """Accept a pod name with or without its app prefix and return the full one (None if neither).

    `web-1234567890-abcde` for app `foo` -> `foo-web-1234567890-abcde`; a full name is returned unchanged.
    A full name wins when both readings are possible.
    """
    if parse_pod_name(name, app) is not None:
        return name
    if parse_short_pod_name(name) is not None:
        return f"{app}-{name}"
    return None


def short_pod_name(name: str, app: str) -> str:
    """The pod name without its `<app>-` prefix (unchanged if it lacks the prefix)."""
    return name[len(app) + 1 :] if name.startswith(app + "-") else name


def pod_labels(app: str, proc_type: str, version: int) -> dict[str, str]:
    """Ownership labels of a container of (app, type, version)."""
    return {
        LABEL_APP: app,
        LABEL_TYPE: proc_type,
        LABEL_VERSION: version_label(version),
        LABEL_HERITAGE: HERITAGE,
    }


def label_filter(app: str | None = None, proc_type: str | None = None, version: int | None = None) -> list[str]:
    """Engine `label=` filter terms selecting deis containers, narrowed by whatever is given."""
    terms = [f"{LABEL_HERITAGE}={HERITAGE}"]
    if app is not None:
        terms.append(f"{LABEL_APP}={app}")
    if proc_type is not None:
        terms.append(f"{LABEL_TYPE}={proc_type}")
    if version is not None:
        terms.append(f"{LABEL_VERSION}={version_label(version)}")
    return terms
