"""Route table → the routes pushed to nginx's shared memory, one JSON text per app. Pure: no I/O, no await.

Every value is validated here, before anything reaches nginx: host names to `[a-z0-9.*-]` after IDNA (the Lua
side looks them up as they are, so `Example.COM.` must arrive as `example.com`), addresses parsed as IPs,
whitelist networks parsed into bytes and prefix length (matched in Lua against `$binary_remote_addr`).
A host name belongs to one app: the API's names first, then the first route that claims it.

Route isolation: with a `Screening`, what cannot be taken is left out and recorded instead of raising. A host
that is not a valid name is dropped from its route; any other bad value leaves the whole route out, and
`fallback[app]` (the route the app has live, when given) is used instead, with the upstreams of the route
handed in (a deploy still reaches its new containers). Certificates are read by the caller and handed in as
`pems` (path → PEM text, or the reason it could not be read).
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import idna

from workflow.router.table import AppRoute, InvalidRoute, RouteTable

_HOST_RE = re.compile(r"(\*\.)?[a-z0-9-]{1,63}(\.[a-z0-9-]{1,63})*")
_APP_RE = re.compile(r"[a-z0-9][a-z0-9-]*")
_UNSAFE_PATH_CHARS = set('"\\$\n\r\0{};\'')
API_NAMES = ("localhost", "127.0.0.1")


def normalize_host(host: str) -> str:
    """A host name as nginx sees it in `$host`: lower case, ACE (IDNA) labels, an optional leading `*.`.

    Raises `InvalidRoute` for anything that is not a plain DNS name.
    """
    name = host.strip()
    if name.endswith("."):
        name = name[:-1]
    wildcard = name.startswith("*.")
    if wildcard:
        name = name[2:]
    labels = []
    for label in name.split("."):
        if label.isascii():
            labels.append(label.lower())
            continue
        try:
            labels.append(idna.encode(label, uts46=True).decode("ascii"))
        except idna.IDNAError as exc:
            raise InvalidRoute(f"Host {host!r} is not a valid host name: {exc}") from exc
    ace = ("*." if wildcard else "") + ".".join(labels)
    if len(ace) > 253 or not _HOST_RE.fullmatch(ace):
        raise InvalidRoute(f"Host {host!r} is not a valid host name")
    return ace


def parse_upstream(app: str, address: str) -> tuple[str, int, str]:
    """`ip:port` / `[v6]:port` → (ip, port, canonical `ip:port`)."""
    host, sep, port_text = address.rpartition(":")
    try:
        if not sep or not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise ValueError("expected ip:port")
        port = int(port_text)
        if host.startswith("[") and host.endswith("]"):
            ip = str(ipaddress.IPv6Address(host[1:-1]))
            return ip, port, f"[{ip}]:{port}"
        ip = str(ipaddress.IPv4Address(host))
        return ip, port, f"{ip}:{port}"
    except ValueError as exc:
        raise InvalidRoute(f"App {app}: upstream {address!r} is not an ip:port address ({exc})") from exc


def network(what: str, address: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        if "%" in address:  # an IPv6 zone id: Python keeps it in str(), nginx refuses it
            raise ValueError("zone ids are not allowed")
        return ipaddress.ip_network(address.strip(), strict=False)
    except ValueError as exc:
        raise InvalidRoute(f"{what}: {address!r} is not an IP address or network") from exc


def checked_path(what: str, path: str | os.PathLike[str]) -> str:
    text = os.fspath(path)
    if not text or not os.path.isabs(text) or _UNSAFE_PATH_CHARS.intersection(text):
        raise InvalidRoute(f"{what}: {text!r} must be an absolute path without quotes, '$' or braces")
    return text


def route_body(route: AppRoute, hosts: list[str], pems: Mapping[str, str | InvalidRoute]) -> dict:
    """The route as the Lua side reads it (see lua/workflow_router.lua); raises `InvalidRoute`."""
    upstreams = list(dict.fromkeys(parse_upstream(route.app, u) for u in route.upstreams))
    nets = list(dict.fromkeys(network(f"App {route.app}: whitelist", a) for a in route.whitelist))
    certs = {}
    for host, files in route.certificates.items():
        name = normalize_host(host)
        if name not in hosts:
            continue
        texts = []
        for what, path in (("certificate", files.cert_path), ("key", files.key_path)):
            text = pems.get(checked_path(f"App {route.app}: {what} of {name}", path))
            if isinstance(text, InvalidRoute):
                raise text
            if text is None:
                raise InvalidRoute(f"App {route.app}: the {what} of {name} was not read")
            texts.append(text)
        digest = hashlib.sha256("\0".join(texts).encode()).hexdigest()[:32]
        certs[name] = {"hash": digest, "cert": texts[0], "key": texts[1]}
    return {
        "app": route.app,
        "hosts": hosts,
        "upstreams": [list(u) for u in upstreams],
        "maintenance": bool(route.maintenance),
        "whitelist": [[list(n.network_address.packed), n.prefixlen] for n in nets],
        "https": bool(route.https_enforced),
        "certs": certs,
    }


def encode(body: dict) -> str:
    """The canonical text of a route body (compared to tell whether an app's route changed)."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"))


@dataclass
class Screening:
    """What `screen` made of a table: `used[app]` = (the route taken, its encoded body or None for a route
    that is not routable, its hosts) and `rejected[app]` = why something of the app's route was left out."""

    fallback: dict[str, AppRoute] = field(default_factory=dict)
    bad: Mapping[tuple, str] = field(default_factory=dict)  # route_key(route) → reason, known refused by nginx
    rejected: dict[str, str] = field(default_factory=dict)
    used: dict[str, tuple[AppRoute, str | None, list[str]]] = field(default_factory=dict)

    def note(self, app: str, reason: str) -> None:
        known = self.rejected.get(app)
        if known is None:
            self.rejected[app] = reason
        elif reason not in known.split("; "):
            self.rejected[app] = f"{known}; {reason}"


def _hosts(route: AppRoute, names: list[str | InvalidRoute], claimed: set[str],
           screening: Screening | None) -> list[str]:
    hosts: list[str] = []
    for name in names:
        if isinstance(name, InvalidRoute):
            if screening is None:
                raise name
            screening.note(route.app, name.message)
            continue
        if name not in claimed and name not in hosts:
            hosts.append(name)
        elif name in claimed and screening is not None:
            screening.note(route.app, f"Host {name} is already routed to another app")
    return hosts


def _normalized(host: str) -> str | InvalidRoute:
    try:
        return normalize_host(host)
    except InvalidRoute as exc:
        return exc


def route_key(route: AppRoute) -> tuple:
    """Everything a route's body is made of (cheaper than `repr`, which cost 1.5 ms for 500 routes)."""
    return (route.app, tuple(route.hosts), tuple(route.upstreams), route.maintenance, route.routable,
            tuple(route.whitelist), route.https_enforced,
            tuple((h, os.fspath(f.cert_path), os.fspath(f.key_path)) for h, f in route.certificates.items()))


class Prepared:
    """A route's validated parts, kept between screenings while the route is unchanged (a table of 500 apps
    is screened on every change; validating each route again cost ~25 ms)."""

    __slots__ = ("names", "text", "hosts")

    def __init__(self, route: AppRoute):
        self.names = [_normalized(h) for h in route.hosts]
        self.hosts: list[str] | None = None  # the hosts `text` was encoded with
        self.text: str | InvalidRoute = ""

    def body(self, route: AppRoute, hosts: list[str], pems: Mapping[str, str | InvalidRoute]) -> str:
        if self.hosts != hosts:
            try:
                self.text = encode(route_body(route, hosts, pems))
            except InvalidRoute as exc:
                self.text = exc
            self.hosts = hosts
        if isinstance(self.text, InvalidRoute):
            raise self.text
        return self.text


def api_names(api_hosts: list[str] | tuple[str, ...]) -> list[str]:
    names = list(API_NAMES)
    for host in api_hosts:
        name = normalize_host(host)
        if name not in names:
            names.append(name)
    return names


def screen(table: RouteTable, reserved: set[str], pems: Mapping[str, str | InvalidRoute],
           screening: Screening | None = None, cache: dict[tuple, Prepared] | None = None,
           kept: dict[tuple, Prepared] | None = None) -> Screening:
    """Each app's route body; `InvalidRoute` for a bad value unless a `screening` is given (see the module).
    `cache` holds routes prepared by an earlier screening (by `route_key`); those used now are put in `kept`."""
    out = screening if screening is not None else Screening()
    strict = screening is None
    claimed = set(reserved)
    for route in table.routes:
        if not _APP_RE.fullmatch(route.app) or len(route.app) > 63:
            if strict:
                raise InvalidRoute(f"App id {route.app!r} is not valid")
            out.note(route.app, "the app id is not valid")
            continue
        if route.app in out.used:
            raise InvalidRoute(f"App {route.app} appears twice in the route table")
        for attempt in (1, 2):
            candidate = route
            if attempt == 2:  # the route failed: its previous settings, today's containers (made only now)
                previous = out.fallback.get(route.app)
                if previous is None:
                    break
                candidate = replace(previous, upstreams=route.upstreams)
            if not candidate.routable:  # no hosts: a 404, as the owner asked
                out.used[route.app] = (candidate, None, [])
                break
            key = route_key(candidate)
            known = out.bad.get(key) if out.bad else None
            if known is not None:
                out.note(route.app, known)
                continue
            prepared = (cache.get(key) if cache is not None else None) or Prepared(candidate)
            if kept is not None:
                kept[key] = prepared
            try:
                hosts = _hosts(candidate, prepared.names, claimed, None if strict else out)
                body = prepared.body(candidate, hosts, pems)
            except InvalidRoute as exc:
                if strict:
                    raise
                out.note(route.app, exc.message)
                continue
            claimed.update(hosts)
            out.used[route.app] = (candidate, body, hosts)
            break
    return out
