"""The platform's nginx.conf: static, rendered at start from the platform settings. Pure: no I/O, no await.

Routes are not in it: they live in nginx's shared memory, written through the control socket
(lua/workflow_control.lua) and read per request by lua/workflow_router.lua. What the config holds:

* API hosts (`deis.<domain>`, `localhost`, any IP literal, or no Host at all) → the platform API on its unix
  socket, unbuffered (log streaming), with a long read timeout (deploys answer when they are done) and a
  bounded request body (413 in the Deis error shape).
* every other host → one catch-all server per port, proxying to `upstream workflow_apps`, whose
  `balancer_by_lua` routes the request (the only Lua before the log phase: each phase costs every request):
  unknown host 404 (503 with Retry-After while the router has not been given the whole table), outside the
  whitelist 403, plain http with https enforced 301, maintenance 503, no container 503 — each sent by an
  internal server on a unix socket in `answers_dir`, the peer the balancer picks for it —, else the app's
  container (round robin, another one when a connect fails). Keep-alive to the containers, websockets,
  forwarded headers as before.
* the TLS port: certificates chosen by SNI in `ssl_certificate_by_lua`; an unknown name has its handshake
  refused (the fallback certificate in the config is never sent).
* the control socket: a unix socket in a directory only the platform's user can open; for a router instance
  the controller drives from another container, also a TCP port (`control_port`) where every call carries the
  token read from `control_token_file` (lua/workflow_control.lua).
* in a router instance, the API hosts go to the controller at `api_url` (http://NAME:PORT), its name resolved
  again every few seconds (`resolver`: the controller's address changes when its task is replaced).

Every value written into the config is validated first (paths free of quotes and `$`, networks parsed).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

from workflow.router.control import API_PROOF_HEADER
from workflow.router.entries import api_names, checked_path, network
from workflow.router.table import InvalidRoute

TOO_LARGE_LOCATION = "@workflow_body_too_large"  # the API's 413, in the Deis error shape
LUA_DIR = Path(__file__).resolve().parent / "lua"
MODULES_DIR = "/usr/lib/nginx/modules"

API_READ_TIMEOUT_S = 1200
APP_READ_TIMEOUT_S = 1200
CONNECT_TIMEOUT_S = 5
# App instances are on the platform's own network, where a connect takes well under a millisecond: one that
# takes a second is to a task whose node died (its address stays silent, no RST), and the request moves on to
# another instance (`proxy_next_upstream timeout`). Settings.router_connect_timeout.
APP_CONNECT_TIMEOUT_S = 1.0
WORKER_CONNECTIONS = 4096
# Workers only stop on a stop or restart of the platform (route changes never reload): let requests in flight
# finish, up to the longest API request.
WORKER_SHUTDOWN_TIMEOUT_S = API_READ_TIMEOUT_S + 100
ROUTES_DICT_SIZE = "64m"  # 500 apps with certificates take a few MB
STATS_DICT_SIZE = "16m"

# Any IPv4 or bracketed IPv6 literal is an API host. One regex: nginx runs the server names' regexes on every
# request whose host is no exact name (every app request), one PCRE call each (bench/routercost.py).
_API_NAME_PATTERN = '"~^(?:[0-9.]+|\\[[0-9a-f:.]+\\])$"'

MAINTENANCE_PAGE = (
    "<!DOCTYPE html><html><head><title>Maintenance</title></head><body>"
    "<h1>Down for maintenance</h1><p>This app is in maintenance mode. Please try again later.</p>"
    "</body></html>\n"
)
NO_CONTAINERS = "No containers of this app are running.\n"
# A router instance started but not yet given the routes by the controller: no host is known to be absent yet.
NOT_READY = "This router has not been given the routes yet. Please try again in a moment.\n"
# What the router sends without proxying to an app, each from an internal server (its directives:
# _answer_directives) listening on `<answers_dir>/<name>.sock`; lua/workflow_router.lua knows them by these names.
ANSWER_NAMES = ("not_found", "not_ready", "forbidden", "to_https", "maintenance", "no_containers")


def _path(what: str, path: str | os.PathLike[str]) -> str:
    return f'"{checked_path(what, path)}"'


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


def _listen(conf: _Conf, port: int, ipv6: bool, extra: str = "") -> None:
    suffix = f" {extra}" if extra else ""
    conf.line(f"listen {port}{suffix};")
    if ipv6:
        conf.line(f"listen [::]:{port}{suffix};")


def _proxy_headers(conf: _Conf, proxies: bool) -> None:
    """The headers every proxied request gets (a client's own values of these are replaced). Without trusted
    proxies the forwarded scheme is always nginx's own: `$scheme` saves every request the geo and two maps."""
    conf.line("proxy_set_header Host $workflow_host;")
    conf.line("proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;")
    conf.line(f"proxy_set_header X-Forwarded-Proto {'$workflow_forwarded_proto' if proxies else '$scheme'};")
    conf.line("proxy_set_header X-Forwarded-Host $workflow_host;")
    conf.line("proxy_set_header X-Real-IP $remote_addr;")
    conf.line('proxy_set_header X-Request-Start "t=${msec}";')
    conf.line("proxy_set_header Upgrade $http_upgrade;")
    conf.line("proxy_set_header Connection $workflow_connection;")
    conf.line('proxy_set_header Proxy "";')


def _app_location(conf: _Conf, connect_timeout: float) -> None:
    conf.open("location /")
    conf.line(f"proxy_connect_timeout {max(int(connect_timeout * 1000), 1)}ms;")
    conf.line("proxy_pass http://workflow_apps;")
    conf.line("log_by_lua_block { workflow_router.log() }")
    conf.close()


def _text(text: str) -> str:
    """A constant nginx string (single-quoted; nothing in it is read as a variable)."""
    if "$" in text:
        raise InvalidRoute(f"{text!r} would be read as nginx variables")
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n") + "'"


def _answer_directives(name: str, tls_port: int | None) -> list[str]:
    if name == "not_found":
        return ["return 404;"]
    if name == "forbidden":
        return ["return 403;"]
    if name == "to_https":  # $host: the proxied Host header's name, without a port
        suffix = "" if tls_port in (None, 443) else f":{int(tls_port)}"
        return [f"return 301 https://$host{suffix}$request_uri;"]
    if name == "maintenance":
        return ["default_type text/html;", f"return 503 {_text(MAINTENANCE_PAGE)};"]
    if name == "no_containers":
        return ["default_type text/plain;", f"return 503 {_text(NO_CONTAINERS)};"]
    if name == "not_ready":
        return ["default_type text/plain;", "add_header Retry-After 1 always;", f"return 503 {_text(NOT_READY)};"]
    raise ValueError(name)


def _lua_path(what: str, path: str | os.PathLike[str], scheme: str = "") -> str:
    """A path as a Lua long string (`scheme` before it, e.g. "unix:")."""
    text = checked_path(what, path)
    if "]" in text:
        raise InvalidRoute(f"{what}: {text!r} must not contain ']'")
    return f"[[{scheme}{text}]]"


def render(
    *,
    listen_port: int,
    tls_port: int | None,
    api_socket_path: str | os.PathLike[str] | None,
    api_hosts: Sequence[str],
    prefix_dir: str | os.PathLike[str],
    control_socket: str | os.PathLike[str],
    answers_dir: str | os.PathLike[str],
    fallback_cert: tuple[str | os.PathLike[str], str | os.PathLike[str]] | None = None,
    trusted_proxies: Sequence[str] = (),
    worker_user: str | None = None,
    access_log: bool = True,
    ipv6: bool = False,
    http2: bool = True,
    api_max_body_bytes: int = 1024 * 1024,
    lua_dir: str | os.PathLike[str] = LUA_DIR,
    modules_dir: str | os.PathLike[str] = MODULES_DIR,
    control_port: int | None = None,
    control_token_file: str | os.PathLike[str] | None = None,
    api_url: str | None = None,
    resolver: str | None = None,
    app_connect_timeout: float = APP_CONNECT_TIMEOUT_S,
    api_proof: str | None = None,
) -> str:
    """The complete nginx.conf; raises `InvalidRoute` for a value unsafe to write.

    `prefix_dir` holds the pid file, logs and temp dirs, so nginx touches nothing outside it (run it with
    `-p prefix_dir`). `worker_user` becomes the `user` directive (only meaningful when the master runs as
    root). `tls_port=None` serves no TLS at all; otherwise `fallback_cert` (cert, key) satisfies nginx's
    demand for a certificate on an ssl listener (the Lua certificate phase refuses names it does not know).
    `api_max_body_bytes` bounds request bodies on the API hosts (413 in the Deis error shape, before the
    controller reads anything). `app_connect_timeout` (seconds) bounds a connect to an app instance, after
    which the request goes to another one. `answers_dir` holds the internal servers' sockets (see ANSWER_NAMES):
    the nginx workers' user must be able to open it.
    """
    prefix = Path(prefix_dir)
    names = api_names(list(api_hosts))
    proxies = list(dict.fromkeys(str(network("Trusted proxy", p)) for p in trusted_proxies))
    if worker_user is not None and not re.fullmatch(r"[a-z_][a-z0-9_-]*", worker_user):
        raise InvalidRoute(f"Worker user {worker_user!r} is not a valid user name")
    if tls_port is not None and fallback_cert is None:
        raise InvalidRoute("A TLS port needs a fallback certificate")
    if (control_port is None) != (control_token_file is None):
        raise InvalidRoute("A TCP control port needs a token file, and a token file a port")
    if (api_url is None) == (api_socket_path is None):
        raise InvalidRoute("The API is either on a unix socket or at a URL")
    if api_url is not None and not re.fullmatch(r"http://[a-z0-9]([a-z0-9.-]{0,253}[a-z0-9])?:[0-9]{1,5}", api_url):
        raise InvalidRoute(f"API URL {api_url!r} is not http://NAME:PORT")
    if (api_url is None) != (api_proof is None) or (api_proof is not None and not re.fullmatch(r"[0-9a-f]{64}",
                                                                                               api_proof)):
        raise InvalidRoute("An API URL goes with a proof (64 hex digits) for the requests forwarded there")
    if api_url is not None and (resolver is None or not re.fullmatch(r"[0-9.]{7,15}", resolver)):
        raise InvalidRoute(f"An API URL needs the IPv4 address of a DNS resolver, not {resolver!r}")
    token_file = "nil"
    if control_token_file is not None:
        token_file = _lua_path("control token file", control_token_file)
    answer_sockets = {name: Path(answers_dir) / f"{name}.sock" for name in ANSWER_NAMES}
    answer_peers = ", ".join(f"{name} = {_lua_path('answer socket', path, 'unix:')}"
                             for name, path in answer_sockets.items())

    conf = _Conf()
    conf.line("# Generated by workflow.router at start. Routes are not here: they live in shared memory.")
    for module in ("ndk_http_module.so", "ngx_http_lua_module.so"):
        conf.line(f"load_module {_path('nginx module', Path(modules_dir) / module)};")
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
    conf.line("server_names_hash_bucket_size 128;")
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

    conf.line("# Live routes: Lua over shared memory (routes, and counters of requests).")
    conf.line(f'lua_package_path "{checked_path("Lua dir", lua_dir)}/?.lua;;";')
    conf.line(f"lua_shared_dict workflow_routes {ROUTES_DICT_SIZE};")
    conf.line(f"lua_shared_dict workflow_stats {STATS_DICT_SIZE};")
    conf.open("init_by_lua_block")
    conf.line('workflow_router = require "workflow_router"')
    conf.line('workflow_control = require "workflow_control"')
    conf.line(f"workflow_router.configure({{ answers = {{ {answer_peers} }} }})")
    conf.line(f"workflow_control.configure({{ token_file = {token_file} }})")
    conf.close()
    conf.line("init_worker_by_lua_block { workflow_router.start() }")
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
    # Exact (case-insensitive) map keys instead of a regex: hash lookups, no PCRE run per request.
    conf.open("map $http_x_forwarded_proto $workflow_proxy_proto")
    conf.line("default $scheme;")
    conf.line("http http;")
    conf.line("https https;")
    conf.close()
    conf.open("map $workflow_from_proxy $workflow_forwarded_proto")
    conf.line("default $scheme;")
    conf.line("1 $workflow_proxy_proto;")
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
    conf.line()

    conf.line("proxy_http_version 1.1;")
    _proxy_headers(conf, bool(proxies))
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

    if api_socket_path is not None:
        conf.open("upstream workflow_api")
        conf.line(f'server "unix:{_path("API socket", api_socket_path)[1:-1]}";')
        conf.line("keepalive 16;")
        conf.close()
    else:
        conf.line(f"resolver {resolver} valid=5s ipv6=off;")
    conf.open("upstream workflow_apps")
    conf.line("server 0.0.0.1;  # never used: the balancer sets every peer")
    conf.line("balancer_by_lua_block { workflow_router.balance() }")
    # Cached per container address; idle ones close quickly, so a container leaving the table drains fast.
    conf.line("keepalive 32;")
    conf.line("keepalive_timeout 2s;")
    conf.close()
    conf.line()

    conf.line("# Apps: every host the API does not own.")
    conf.open("server")
    _listen(conf, listen_port, ipv6, "default_server")
    conf.line("server_name _;")
    _app_location(conf, app_connect_timeout)
    conf.close()
    conf.line()

    conf.line("# The platform API.")
    conf.open("server")
    _listen(conf, listen_port, ipv6)
    conf.line("server_name " + " ".join([*names, '""', _API_NAME_PATTERN]) + ";")
    conf.line(f"client_max_body_size {int(api_max_body_bytes)};")
    conf.line(f"error_page 413 {TOO_LARGE_LOCATION};")
    conf.line("proxy_buffering off;")
    conf.line(f"proxy_read_timeout {API_READ_TIMEOUT_S}s;")
    conf.line(f"proxy_send_timeout {API_READ_TIMEOUT_S}s;")
    conf.open("location /")
    if api_url is None:
        conf.line("proxy_pass http://workflow_api;")
    else:  # a variable: the name is resolved when requests come, not once at start
        conf.line(f"set $workflow_api {api_url};")
        conf.line("proxy_pass $workflow_api;")
        # The controller shares the apps' network, so a tenant's task could call it directly with an X-Real-IP
        # of its choosing; the proof tells it a router forwarded this one. (A proxy_set_header here replaces
        # the inherited ones: all are repeated.)
        _proxy_headers(conf, bool(proxies))
        conf.line(f"proxy_set_header {API_PROOF_HEADER} {api_proof};")
    conf.close()
    conf.open(f"location {TOO_LARGE_LOCATION}")
    conf.line("default_type application/json;")
    conf.line('add_header DEIS_API_VERSION "2.3" always;')
    conf.line('add_header DEIS_PLATFORM_VERSION "2.3.0" always;')
    detail = f"Request body is too large: at most {int(api_max_body_bytes)} bytes are accepted."
    conf.line(f"return 413 '{{\"detail\":\"{detail}\"}}\\n';")
    conf.close()
    conf.close()

    if tls_port is not None:
        cert, key = fallback_cert
        conf.line()
        conf.line("# TLS: certificates by SNI; a name without a certificate has its handshake refused.")
        conf.open("server")
        _listen(conf, tls_port, ipv6, "ssl default_server" + (" http2" if http2 else ""))
        conf.line("server_name _;")
        conf.line(f"ssl_certificate {_path('fallback certificate', cert)};")
        conf.line(f"ssl_certificate_key {_path('fallback key', key)};")
        conf.line("ssl_certificate_by_lua_block { workflow_router.certificate() }")
        _app_location(conf, app_connect_timeout)
        conf.close()

    conf.line()
    conf.line("# What is not proxied to an app: internal servers, the peers the balancer picks for these answers.")
    for name, path in answer_sockets.items():
        conf.open("server")
        conf.line(f"listen unix:{_path('answer socket', path)[1:-1]};")
        conf.line("access_log off;")
        for directive in _answer_directives(name, tls_port):
            conf.line(directive)
        conf.close()
    conf.line()
    conf.line("# The controller's control endpoint (its directory is the platform user's alone).")
    conf.open("server")
    conf.line(f"listen unix:{_path('control socket', control_socket)[1:-1]};")
    conf.line("access_log off;")
    conf.line("client_max_body_size 64m;")
    conf.line("client_body_buffer_size 64m;  # bodies stay in memory, where the Lua side reads them")
    conf.open("location /")
    conf.line("content_by_lua_block { workflow_control.handle() }")
    conf.close()
    conf.close()
    if control_port is not None:
        conf.line()
        conf.line("# The control endpoint for a controller in another container: every call carries the token.")
        conf.open("server")
        _listen(conf, int(control_port), ipv6)
        conf.line("access_log off;")
        conf.line("client_max_body_size 64m;")
        conf.line("client_body_buffer_size 64m;")
        conf.open("location /")
        conf.line("content_by_lua_block { workflow_control.handle(true) }")
        conf.close()
        conf.close()
    conf.close()
    return conf.text()
