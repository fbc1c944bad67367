"""Route table → a complete nginx.conf. Pure: no I/O, no await.

How the Deis router concepts map onto nginx (spec/API.md §7):

* API hosts (`deis.<domain>`, `localhost`, any IP literal, or no Host at all) → the platform API on its unix
  socket, unbuffered (log streaming) and with a long read timeout (deploys answer when they are done).
* any other host no route claims → 404 (the `default_server` of the public port).
* an app route → one `server` block for its hosts, proxying to `upstream app_<app>` (keep-alive, retry on
  another container when a connect fails, websocket upgrade). In this order: outside the whitelist → 403,
  plain http with `https_enforced` → 301 to https, maintenance → 503 page, no container → 503.
  `routable=False` → no block (404).
* certificates → one `listen <tls_port> ssl` block per certified host, picked by SNI; an unknown SNI name
  has its handshake refused.

Every value written into the config is validated first (host names to `[a-z0-9.*-]` after IDNA, addresses
parsed as IPs, paths free of quotes and `$`), so a hostile domain cannot inject directives: `InvalidRoute`.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import idna

from workflow.router.table import AppRoute, InvalidRoute, RouteTable

GENERATION_PATH = "/__workflow_router_generation"
TOO_LARGE_LOCATION = "@workflow_body_too_large"  # the API's 413, in the Deis error shape

API_READ_TIMEOUT_S = 1200
APP_READ_TIMEOUT_S = 1200
CONNECT_TIMEOUT_S = 5
WORKER_CONNECTIONS = 4096
# Old workers finish in-flight requests after a reload; a deploy is itself a request that reloads the
# router, so this must outlast the longest API request.
WORKER_SHUTDOWN_TIMEOUT_S = API_READ_TIMEOUT_S + 100

MAINTENANCE_PAGE = (
    "<!DOCTYPE html><html><head><title>Maintenance</title></head><body>"
    "<h1>Down for maintenance</h1><p>This app is in maintenance mode. Please try again later.</p>"
    "</body></html>\\n"
)
NO_CONTAINERS_TEXT = "No containers of this app are running.\\n"

_HOST_RE = re.compile(r"(\*\.)?[a-z0-9-]{1,63}(\.[a-z0-9-]{1,63})*")
_APP_RE = re.compile(r"[a-z0-9][a-z0-9-]*")
_UNSAFE_PATH_CHARS = set('"\\$\n\r\0{};\'')
_API_NAME_PATTERNS = ('"~^[0-9.]+$"', '"~^\\[[0-9a-f:.]+\\]$"')


def normalize_host(host: str) -> str:
    """A host name as nginx should see it: lower case, ACE (IDNA) labels, an optional leading `*.`.

    Raises `InvalidRoute` for anything that is not a plain DNS name, so nothing else reaches the config.
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


def _upstream(app: str, address: str) -> str:
    host, sep, port_text = address.rpartition(":")
    try:
        if not sep or not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise ValueError("expected ip:port")
        if host.startswith("[") and host.endswith("]"):
            return f"[{ipaddress.IPv6Address(host[1:-1])}]:{int(port_text)}"
        return f"{ipaddress.IPv4Address(host)}:{int(port_text)}"
    except ValueError as exc:
        raise InvalidRoute(f"App {app}: upstream {address!r} is not an ip:port address ({exc})") from exc


def _network(what: str, address: str) -> str:
    try:
        if "%" in address:  # an IPv6 zone id: Python keeps it in str(), nginx's geo block refuses it
            raise ValueError("zone ids are not allowed")
        return str(ipaddress.ip_network(address.strip(), strict=False))
    except ValueError as exc:
        raise InvalidRoute(f"{what}: {address!r} is not an IP address or network") from exc


def _path(what: str, path: str | os.PathLike[str]) -> str:
    text = os.fspath(path)
    if not text or not os.path.isabs(text) or _UNSAFE_PATH_CHARS.intersection(text):
        raise InvalidRoute(f"{what}: {text!r} must be an absolute path without quotes, '$' or braces")
    return f'"{text}"'


def _var_suffix(app: str) -> str:
    return app.replace("-", "_")  # app ids are [a-z0-9-]: the mapping is one-to-one


class _Conf:
    """Indented nginx config lines."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.depth = 0

    def line(self, text: str = "") -> None:
        self.lines.append(("    " * self.depth + text) if text else "")

    def open(self, text: str) -> None:
        self.line(text + " {")
        self.depth += 1

    def close(self) -> None:
        self.depth -= 1
        self.line("}")

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


class _Route:
    """An `AppRoute` validated and normalized for rendering."""

    def __init__(self, route: AppRoute, hosts: list[str]):
        self.app = route.app
        self.hosts = hosts
        self.upstreams = list(dict.fromkeys(_upstream(route.app, u) for u in route.upstreams))
        self.maintenance = route.maintenance
        self.whitelist = list(
            dict.fromkeys(_network(f"App {route.app}: whitelist", a) for a in route.whitelist)
        )
        self.https_enforced = route.https_enforced
        self.certificates: dict[str, tuple[str, str]] = {}
        for host, files in route.certificates.items():
            name = normalize_host(host)
            if name in hosts:
                self.certificates[name] = (
                    _path(f"App {route.app}: certificate of {name}", files.cert_path),
                    _path(f"App {route.app}: key of {name}", files.key_path),
                )


@dataclass
class Screening:
    """Asked of `render`: leave out what cannot be written instead of raising, and say what was left out.

    A host that is not a valid name is dropped from its route; any other bad value leaves the whole route
    out, and `fallback[app]` (the route the app had, when given) is rendered instead, with the upstreams of
    the route handed in (a deploy still reaches its new containers). A host already claimed
    by an earlier route is dropped from the later one. Each is recorded in `rejected` (app → reason), and
    `used` lists the routes rendered as they were handed in (a fallback in place of its app's route).
    """

    fallback: dict[str, AppRoute] = field(default_factory=dict)
    rejected: dict[str, str] = field(default_factory=dict)
    used: list[AppRoute] = field(default_factory=list)


    def note(self, app: str, reason: str) -> None:
        known = self.rejected.get(app)
        if known is None:
            self.rejected[app] = reason
        elif reason not in known.split("; "):
            self.rejected[app] = f"{known}; {reason}"


def _hosts(route: AppRoute, claimed: set[str], screening: Screening | None) -> list[str]:
    hosts: list[str] = []
    for host in route.hosts:
        try:
            name = normalize_host(host)
        except InvalidRoute as exc:
            if screening is None:
                raise
            screening.note(route.app, exc.message)
            continue
        if name not in claimed and name not in hosts:
            hosts.append(name)
        elif name in claimed and screening is not None:
            screening.note(route.app, f"Host {name} is already routed to another app")
    return hosts


def _routes(table: RouteTable, reserved: set[str], screening: Screening | None) -> list[_Route]:
    """Validated routes (`InvalidRoute` for a value unsafe to write, unless `screening`); a host already
    claimed (by the API or an earlier route) stays with its first owner."""
    claimed = set(reserved)
    seen_apps: set[str] = set()
    routes = []
    for route in table.routes:
        if not _APP_RE.fullmatch(route.app) or len(route.app) > 63:
            if screening is None:
                raise InvalidRoute(f"App id {route.app!r} is not valid")
            screening.note(route.app, "the app id is not valid")
            continue
        if route.app in seen_apps:
            raise InvalidRoute(f"App {route.app} appears twice in the route table")
        seen_apps.add(route.app)
        fallback = screening.fallback.get(route.app) if screening else None
        if fallback is not None:  # its previous settings, today's containers (addresses are always writable)
            fallback = replace(fallback, upstreams=route.upstreams)
        for candidate in (route, fallback):
            if candidate is None:
                break
            if not candidate.routable:  # no server block: a 404, as the owner asked
                if screening is not None:
                    screening.used.append(candidate)
                break
            try:
                hosts = _hosts(candidate, claimed, screening)
                if hosts:
                    routes.append(_Route(candidate, hosts))
                    claimed.update(hosts)
            except InvalidRoute as exc:
                if screening is None:
                    raise
                screening.note(route.app, exc.message)
                continue  # its fallback, if any
            if screening is not None:
                screening.used.append(candidate)
            break
    return routes


def _bucket_size(names: Iterable[str]) -> int:
    longest = max((len(n) for n in names), default=0)
    size = 64
    while size < longest + 32:
        size *= 2
    return size


def _listen(conf: _Conf, port: int, ipv6: bool, extra: str = "") -> None:
    suffix = f" {extra}" if extra else ""
    conf.line(f"listen {port}{suffix};")
    if ipv6:
        conf.line(f"listen [::]:{port}{suffix};")


def _app_body(conf: _Conf, route: _Route, *, plain: bool, https_port: int | None) -> None:
    """What an app's server block does, in order: whitelist, https redirect, maintenance, proxy."""
    if route.whitelist:
        conf.open(f"if ($workflow_allow_{_var_suffix(route.app)} = 0)")
        conf.line("return 403;")
        conf.close()
    if plain and route.https_enforced:
        port = f":{https_port}" if https_port not in (None, 443) else ""
        conf.open('if ($workflow_forwarded_proto = "http")')
        conf.line(f"return 301 https://$host{port}$request_uri;")
        conf.close()
    if route.maintenance:
        conf.line("default_type text/html;")
        conf.line(f'return 503 "{MAINTENANCE_PAGE}";')
    elif not route.upstreams:
        conf.line("default_type text/plain;")
        conf.line(f'return 503 "{NO_CONTAINERS_TEXT}";')
    else:
        conf.open("location /")
        conf.line(f"proxy_pass http://app_{route.app};")
        conf.close()


def render(
    table: RouteTable,
    *,
    listen_port: int,
    tls_port: int | None,
    api_socket_path: str | os.PathLike[str],
    api_hosts: Sequence[str],
    prefix_dir: str | os.PathLike[str],
    trusted_proxies: Sequence[str] = (),
    generation: int = 0,
    worker_user: str | None = None,
    access_log: bool = True,
    ipv6: bool = False,
    http2: bool = True,
    api_max_body_bytes: int = 1024 * 1024,
    screening: Screening | None = None,
) -> str:
    """The complete nginx.conf serving `table`; raises `InvalidRoute` for a value unsafe to write.

    `prefix_dir` holds the pid file, logs and temp dirs, so nginx touches nothing outside it (run it with
    `-p prefix_dir`). `generation` is answered at `GENERATION_PATH` on the API hosts from loopback, so a
    caller can tell when a reload is live. `worker_user` becomes the `user` directive (only meaningful when
    the master runs as root). `tls_port=None` serves no TLS at all. `api_max_body_bytes` bounds request
    bodies on the API hosts (413 in the Deis error shape, before the controller reads anything). With a
    `screening`, what cannot be written is left out and recorded there instead of raising (see `Screening`).
    """
    prefix = Path(prefix_dir)
    api_names = ["localhost", "127.0.0.1"]
    for host in api_hosts:
        name = normalize_host(host)
        if name not in api_names:
            api_names.append(name)
    routes = _routes(table, set(api_names), screening)
    proxies = list(dict.fromkeys(_network("Trusted proxy", p) for p in trusted_proxies))
    if worker_user is not None and not re.fullmatch(r"[a-z_][a-z0-9_-]*", worker_user):
        raise InvalidRoute(f"Worker user {worker_user!r} is not a valid user name")
    all_names = api_names + [h for r in routes for h in r.hosts]

    conf = _Conf()
    conf.line(f"# Generated by workflow.router, generation {generation}. Do not edit: rewritten on change.")
    conf.line("daemon off;")
    conf.line("master_process on;")
    conf.line("worker_processes auto;")
    if worker_user is not None:
        conf.line(f"user {worker_user};")
    conf.line(f"pid {_path('pid file', prefix / 'nginx.pid')};")
    conf.line(f"error_log {_path('error log', prefix / 'logs' / 'error.log')} warn;")
    conf.line("error_log stderr warn;")
    conf.line(f"worker_shutdown_timeout {WORKER_SHUTDOWN_TIMEOUT_S}s;")
    conf.line(f"worker_rlimit_nofile {2 * WORKER_CONNECTIONS + 2048};  # a proxied request holds two fds")
    conf.line()
    conf.open("events")
    conf.line(f"worker_connections {WORKER_CONNECTIONS};")
    conf.close()
    conf.line()
    conf.open("http")
    conf.line("server_tokens off;")
    conf.line("default_type application/octet-stream;")
    conf.line("keepalive_timeout 65s;")
    conf.line(f"server_names_hash_bucket_size {_bucket_size(all_names)};")
    conf.line("server_names_hash_max_size 65536;")
    for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        conf.line(f"{kind}_temp_path {_path('temp path', prefix / 'tmp' / kind)};")
    if access_log:
        conf.line(
            "log_format workflow '$remote_addr [$time_local] \"$host\" \"$request\" $status "
            "$body_bytes_sent $request_time \"$upstream_addr\" \"$http_user_agent\"';"
        )
        conf.line(f"access_log {_path('access log', prefix / 'logs' / 'access.log')} workflow "
                  "buffer=64k flush=1s;")
    else:
        conf.line("access_log off;")
    conf.line()

    conf.line("# The client address: from X-Forwarded-For only when the peer is a trusted proxy.")
    for proxy in proxies:
        conf.line(f"set_real_ip_from {proxy};")
    if proxies:
        conf.line("real_ip_header X-Forwarded-For;")
        conf.line("real_ip_recursive on;")
    conf.open("geo $realip_remote_addr $workflow_from_proxy")
    conf.line("default 0;")
    for proxy in proxies:
        conf.line(f"{proxy} 1;")
    conf.close()
    conf.open('map "$workflow_from_proxy:$http_x_forwarded_proto" $workflow_forwarded_proto')
    conf.line("default $scheme;")
    conf.line('"~^1:(?<proto>https?)$" $proto;')
    conf.close()
    conf.open("map $realip_remote_addr $workflow_loopback")
    conf.line("default 0;")
    conf.line("127.0.0.1 1;")
    conf.line("::1 1;")
    conf.close()
    conf.open("map $http_host $workflow_host")
    conf.line('"" $host;')
    conf.line("default $http_host;")
    conf.close()
    conf.line("# Connection: upgrade for websockets, empty otherwise so upstream connections stay alive.")
    conf.open("map $http_upgrade $workflow_connection")
    conf.line("default upgrade;")
    conf.line('"" "";')
    conf.close()
    for route in routes:
        if route.whitelist:
            conf.open(f"geo $workflow_allow_{_var_suffix(route.app)}")
            conf.line("default 0;")
            for network in route.whitelist:
                conf.line(f"{network} 1;")
            conf.close()
    conf.line()

    conf.line("proxy_http_version 1.1;")
    conf.line("proxy_set_header Host $workflow_host;")
    conf.line("proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;")
    conf.line("proxy_set_header X-Forwarded-Proto $workflow_forwarded_proto;")
    conf.line("proxy_set_header X-Forwarded-Host $workflow_host;")
    conf.line("proxy_set_header X-Real-IP $remote_addr;")
    conf.line('proxy_set_header X-Request-Start "t=${msec}";')
    conf.line("proxy_set_header Upgrade $http_upgrade;")
    conf.line("proxy_set_header Connection $workflow_connection;")
    conf.line('proxy_set_header Proxy "";')
    conf.line(f"proxy_connect_timeout {CONNECT_TIMEOUT_S}s;")
    conf.line(f"proxy_read_timeout {APP_READ_TIMEOUT_S}s;")
    conf.line(f"proxy_send_timeout {APP_READ_TIMEOUT_S}s;")
    conf.line("proxy_next_upstream error timeout;")
    conf.line("proxy_next_upstream_tries 3;")
    conf.line("client_max_body_size 100m;")
    if tls_port is not None:
        conf.line("ssl_protocols TLSv1.2 TLSv1.3;")
        conf.line("ssl_session_cache shared:workflow_ssl:10m;")
        conf.line("ssl_session_timeout 10m;")
    conf.line()

    conf.open("upstream workflow_api")
    conf.line(f'server "unix:{_path("API socket", api_socket_path)[1:-1]}";')
    conf.line("keepalive 16;")
    conf.close()
    for route in routes:
        if route.upstreams:
            conf.open(f"upstream app_{route.app}")
            for address in route.upstreams:
                conf.line(f"server {address};")
            conf.line("keepalive 32;")
            # Idle connections to a container close quickly, so one leaving the table drains fast.
            conf.line("keepalive_timeout 2s;")
            conf.close()
    conf.line()

    conf.line("# Unknown hosts.")
    conf.open("server")
    _listen(conf, listen_port, ipv6, "default_server")
    conf.line("server_name _;")
    conf.line("return 404;")
    conf.close()
    conf.line()

    conf.line("# The platform API.")
    conf.open("server")
    _listen(conf, listen_port, ipv6)
    conf.line("server_name " + " ".join([*api_names, '""', *_API_NAME_PATTERNS]) + ";")
    conf.line(f"client_max_body_size {int(api_max_body_bytes)};")
    conf.line(f"error_page 413 {TOO_LARGE_LOCATION};")
    conf.line("proxy_buffering off;")
    conf.line(f"proxy_read_timeout {API_READ_TIMEOUT_S}s;")
    conf.line(f"proxy_send_timeout {API_READ_TIMEOUT_S}s;")
    conf.open(f"location = {GENERATION_PATH}")
    conf.line("default_type text/plain;")
    conf.open("if ($workflow_loopback = 0)")
    conf.line("return 404;")
    conf.close()
    conf.line(f'return 200 "{generation}\\n";')
    conf.close()
    conf.open("location /")
    conf.line("proxy_pass http://workflow_api;")
    conf.close()
    conf.open(f"location {TOO_LARGE_LOCATION}")
    conf.line("default_type application/json;")
    conf.line('add_header DEIS_API_VERSION "2.3" always;')
    conf.line('add_header DEIS_PLATFORM_VERSION "2.3.0" always;')
    detail = f"Request body is too large: at most {int(api_max_body_bytes)} bytes are accepted."
    conf.line(f"return 413 '{{\"detail\":\"{detail}\"}}\\n';")
    conf.close()
    conf.close()

    for route in routes:
        conf.line()
        conf.line(f"# App {route.app}.")
        conf.open("server")
        _listen(conf, listen_port, ipv6)
        conf.line("server_name " + " ".join(route.hosts) + ";")
        _app_body(conf, route, plain=True, https_port=tls_port)
        conf.close()

    if tls_port is not None:
        conf.line()
        conf.line("# TLS: certificates by SNI; a name without a certificate has its handshake refused.")
        conf.open("server")
        _listen(conf, tls_port, ipv6, "ssl default_server" + (" http2" if http2 else ""))
        conf.line("ssl_reject_handshake on;")
        conf.close()
        for route in routes:
            for host, (cert, key) in route.certificates.items():
                conf.line()
                conf.line(f"# App {route.app}, TLS for {host}.")
                conf.open("server")
                _listen(conf, tls_port, ipv6, "ssl")
                conf.line(f"server_name {host};")
                conf.line(f"ssl_certificate {cert};")
                conf.line(f"ssl_certificate_key {key};")
                _app_body(conf, route, plain=False, https_port=tls_port)
                conf.close()
    conf.close()
    return conf.text()
