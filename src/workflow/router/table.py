"""The route table: what the router should serve, as plain data.

The service layer builds a complete `RouteTable` from the scheduler's view (routable containers of each
app's current release) and the app's settings, and hands the whole table to the router; the router never
edits it. Hosts are full host names: the service layer expands the bare app id into
`<app>.<platform domain>` and adds the app's custom domains (`*.example.com` wildcards allowed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


class RouterError(Exception):
    """The router could not apply a table or could not run nginx; the previous config keeps serving."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class InvalidRoute(RouterError, ValueError):
    """A route holds a value that cannot be written into the nginx config (host, address, path...)."""


@dataclass(frozen=True)
class CertFiles:
    """A certificate chain and its private key, as PEM files nginx can read."""

    cert_path: Path | str
    key_path: Path | str


@dataclass
class AppRoute:
    """How one app is reached.

    `upstreams` are `"ip:port"` (`"[v6]:port"`) of the app's routable containers; empty → 503.
    `routable=False` → no route at all (404). `whitelist` holds addresses or networks; when non-empty,
    other clients get 403. `certificates` maps a host of this route to its certificate files, served by SNI.
    """

    app: str
    hosts: list[str]
    upstreams: list[str] = field(default_factory=list)
    maintenance: bool = False
    routable: bool = True
    whitelist: list[str] = field(default_factory=list)
    https_enforced: bool = False
    certificates: dict[str, CertFiles] = field(default_factory=dict)


@dataclass
class RouteTable:
    """Every app route the router serves; apps absent from the table answer 404."""

    routes: list[AppRoute] = field(default_factory=list)
