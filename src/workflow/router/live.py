"""The platform's router: one nginx master with a static config, routes written live into its shared memory.

Layout under `<data_dir>/nginx/` (nginx runs with `-p` there and touches nothing else): `nginx.conf` (rendered
at start), `fallback.crt`/`.key` (what the TLS listener needs to exist; never sent), `nginx.pid`,
`logs/error.log`, `logs/access.log`, `tmp/`, `control/control.sock` (mode 0700 directory).

A change: validate the table (entries.py; a bad value stays its app's problem), write each app whose route
changed through the control socket — one versioned write per app, live when the call returns, no reload.
A route the Lua side refuses (a certificate it cannot parse) falls back to the route its app has live.
After nginx starts, or is restarted by the supervisor, the whole table is written before it is reported ready.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import logging
import os
import pwd
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from workflow.router.base import AppCounters
from workflow.router.control import ControlClient
from workflow.router.entries import (
    Prepared,
    Screening,
    api_names,
    checked_path,
    parse_upstream,
    route_key,
    screen,
)
from workflow.router.nginx_config import ANSWER_NAMES, APP_CONNECT_TIMEOUT_S, render
from workflow.router.supervisor import NginxMaster
from workflow.router.table import AppRoute, InvalidRoute, RouterError, RouteTable

logger = logging.getLogger("workflow.router")

_DEFAULT_USER = object()
_SOCKET_PATH_MAX = 100  # sun_path holds 108 bytes


def _platform_user() -> str | None:
    """The user nginx workers run as: the platform's own, so they reach its unix socket and data dir."""
    if os.geteuid() != 0:
        return None  # nginx ignores `user` unless the master is root
    return pwd.getpwuid(os.geteuid()).pw_name


def _fallback_cert(cert_path: Path, key_path: Path) -> None:
    """A self-signed certificate for the TLS listener's config (the Lua certificate phase replaces it for
    known names and refuses the others, so no client ever receives it)."""
    if cert_path.exists() and key_path.exists():
        return
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "workflow-router.invalid")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=3650)).sign(key, hashes.SHA256()))
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def _read_pem(path: str) -> str | InvalidRoute:
    try:
        return Path(path).read_text()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        return InvalidRoute(f"cannot read the file {os.path.basename(path)}: {reason}")


class LiveRoutes:
    """What a router does with routes, whatever runs its nginx: validate a table into live routes and write
    the apps whose route changed through `_control` (a `ControlClient`, or anything answering like one).
    Implements `base.Router`; a subclass starts it (`_started`) and sets `_control`."""

    def __init__(self, api_hosts: Sequence[str] = ()):
        self._reserved = set(api_names(list(api_hosts)))
        self._control: ControlClient | None = None
        self._lock = asyncio.Lock()
        self._started = False
        self._stopping = False
        self._version = int(time.time() * 1000)  # of the writes: ms at start, then +1 each (exact in a double)
        # Route isolation: app → (the route taken, its body or None when it has no hosts, its hosts), as nginx
        # holds them
        self._live: dict[str, tuple[AppRoute, str | None, list[str]]] = {}
        self._bad: dict[tuple, str] = {}  # route_key(route) → the reason nginx refused it
        self._claimed: set[str] = set()  # the hosts of `_live`
        self._pems: dict[str, str | InvalidRoute] = {}  # certificate files read (content-addressed paths)
        self._prepared: dict[tuple, Prepared] = {}  # routes validated by the last table, by route_key
        self.rejected: dict[str, str] = {}
        self.writes = 0  # app routes written

    @property
    def running(self) -> bool:
        return self._started and not self._stopping

    async def apply(self, table: RouteTable) -> None:
        """Make `table` live; returns once it is. Raises `RouterError` when nginx cannot be reached or
        `InvalidRoute` for a table that is wrong as a whole (an app twice). Calls are serialised; coalescing
        the calls made meanwhile into one write of the newest table is the caller's (`RouteSync.sync`, which
        builds that table)."""
        async with self._lock:
            self._check_running()
            await self._apply(table)

    async def apply_route(self, route: AppRoute) -> None:
        """Replace one app's route: only it is validated and written (its hosts after every other app's)."""
        async with self._lock:
            self._check_running()
            await self._apply(RouteTable([route]), only=route.app)

    async def remove_route(self, app: str) -> None:
        async with self._lock:
            self._check_running()
            if app in self._live:
                await self._write([(app, None, None, [])])
            self.rejected.pop(app, None)

    async def snapshot(self) -> dict[str, dict]:
        self._check_running()
        return {app: json.loads(text) for app, text in (await self._control.routes()).items()}

    async def wait_drained(self, upstreams: Sequence[str], timeout: float,
                           progress: Callable[[int], None] | None = None) -> bool:
        """Wait (at most `timeout` s) until no request is in flight to these `ip:port` (containers that left
        the table), as counted by the Lua balancer and log phases. True when drained."""
        targets = []
        for address in upstreams:
            try:
                targets.append(parse_upstream("drain", address)[2])
            except InvalidRoute:
                continue
        if not targets or not self.running:
            return True
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            try:
                counts = await self._control.inflight(targets)
            except RouterError as exc:  # nginx restarting: its requests in flight died with it
                logger.warning("cannot read the requests in flight: %s", exc.message)
                return False
            inflight = sum(max(int(n), 0) for n in counts.values())
            if progress is not None:
                progress(inflight)
            if inflight == 0:
                return True
            if loop.time() >= deadline:
                return False
            await asyncio.sleep(0.02)

    async def counters(self) -> dict[str, AppCounters]:
        self._check_running()
        answer = await self._control.stats()
        bounds = [float(b) for b in answer["buckets"]] + [float("inf")]
        out = {}
        for app, raw in (answer.get("apps") or {}).items():
            latency = raw.get("latency") or {}
            out[app] = AppCounters(
                requests=int(raw.get("requests") or 0),
                status={f"{k}xx": int(v) for k, v in sorted((raw.get("status") or {}).items())},
                latency=[(bound, int(latency.get(str(i + 1), 0))) for i, bound in enumerate(bounds)],
                time_ms=float(raw.get("time_ms") or 0),
            )
        return out

    def _check_running(self) -> None:
        if not self._started or self._stopping:
            raise RouterError("The router is not running")

    async def _read_pems(self, table: RouteTable, prune: bool) -> None:
        wanted = set()
        for route in table.routes:
            for files in route.certificates.values():
                for path in (files.cert_path, files.key_path):
                    try:
                        wanted.add(checked_path("certificate", path))
                    except InvalidRoute:
                        continue  # refused with its route
        for path in wanted - self._pems.keys():
            self._pems[path] = await asyncio.to_thread(_read_pem, path)
        if prune:
            for path in self._pems.keys() - wanted:
                del self._pems[path]

    async def _apply(self, table: RouteTable, only: str | None = None) -> None:
        """Write what changed of `table` (with `only`: a table of that app's route alone, the other apps'
        routes unchanged); a route nginx refuses is retried as its app's live route."""
        await self._read_pems(table, prune=only is None)
        reserved, fallback = self._reserved, {app: r for app, (r, _, _) in self._live.items()}
        if only is not None:  # its hosts come after every other app's
            mine = self._live[only][2] if only in self._live else []
            reserved = (self._claimed - set(mine)) | self._reserved
            fallback = {only: self._live[only][0]} if only in self._live else {}
        for _ in range(3):
            kept: dict[tuple, Prepared] = {}
            screening = screen(table, reserved, self._pems, Screening(fallback=fallback, bad=self._bad),
                               cache=self._prepared, kept=kept)
            if only is None:
                self._prepared = kept  # the routes of this table, nothing older
            writes = [(app, route, body, hosts) for app, (route, body, hosts) in screening.used.items()
                      if app not in self._live or self._live[app][1] != body]
            if only is None:
                writes += [(app, None, None, []) for app in self._live if app not in screening.used]
            refused = await self._write(writes)
            if not refused:
                break
            if len(self._bad) > 1000:
                self._bad.clear()
            self._bad.update(refused)
        rejected = dict(screening.rejected)
        if only is not None:
            rejected = {**{a: r for a, r in self.rejected.items() if a != only}, **rejected}
        for app, reason in rejected.items():
            if self.rejected.get(app) != reason:
                logger.error("route of app %s left out of the router: %s", app, reason)
        self.rejected = rejected

    def _text(self, body: str) -> tuple[int, str]:
        self._version += 1
        return self._version, f'{{"version":{self._version},{body[1:]}'

    async def _write(self, writes: list[tuple[str, AppRoute | None, str | None, list[str]]]) -> dict[tuple, str]:
        """Write app routes (route None: remove the app); updates `_live`; returns route_key → reason for the
        routes nginx refused."""
        items, sent = [], {}
        for app, route, body, hosts in writes:
            if body is None and (app not in self._live or self._live[app][1] is None):
                if route is None:
                    self._live.pop(app, None)
                else:
                    self._live[app] = (route, None, [])
                continue  # nothing of it in nginx: nothing to write
            if body is None:
                self._version += 1
                version, text = self._version, None
            else:
                version, text = self._text(body)
            items.append({"app": app, "version": version, "route": text})
            sent[app] = (route, body, hosts)
        if not items:
            return {}
        results = await self._send(items)
        refused = {}
        for app, (route, body, hosts) in sent.items():
            result = results.get(app)
            if result == "ok":
                self.writes += 1
                if app in self._live:
                    self._claimed.difference_update(self._live[app][2])
                if route is None:
                    self._live.pop(app, None)
                else:
                    self._live[app] = (route, body, hosts) if body is not None else (route, None, [])
                    self._claimed.update(self._live[app][2])
            elif route is not None and result is not None and not result.startswith(("stale", "router memory")):
                refused[route_key(route)] = f"nginx refused this app's route: {result}"
            else:
                raise RouterError(f"The router did not take the route of app {app}: {result}")
        return refused

    async def _send(self, items: list[dict]) -> dict[str, str]:
        return await self._control.write(items)

    async def _write_all(self) -> None:
        items = []
        for app, (_, body, _) in self._live.items():
            if body is not None:
                version, text = self._text(body)
                items.append({"app": app, "version": version, "route": text})
        results = await self._control.write(items) if items else {}
        failed = {app: r for app, r in results.items() if r != "ok"}
        if failed:
            raise RouterError(f"The restarted router did not take every route: {failed}")


class NginxRouter(LiveRoutes):
    """Serves a `RouteTable` on `listen_port` (and `tls_port`, when set), with the nginx it runs itself."""

    def __init__(
        self,
        *,
        data_dir: str | os.PathLike[str],
        listen_port: int,
        api_socket_path: str | os.PathLike[str] | None,
        api_hosts: Sequence[str] = (),
        tls_port: int | None = None,
        trusted_proxies: Sequence[str] = (),
        nginx_binary: str = "nginx",
        worker_user: str | None | object = _DEFAULT_USER,
        access_log: bool = True,
        ipv6: bool = False,
        start_timeout: float = 15.0,
        stop_timeout: float = 10.0,
        max_log_bytes: int = 64 * 1024 * 1024,
        housekeeping_interval: float = 60.0,
        api_max_body_bytes: int = 1024 * 1024,
        control_port: int | None = None,
        control_token_file: str | os.PathLike[str] | None = None,
        api_url: str | None = None,
        resolver: str | None = None,
        app_connect_timeout: float = APP_CONNECT_TIMEOUT_S,
        api_proof: str | None = None,
        ready_on_start: bool = True,
    ):
        """`control_port` and `control_token_file`: the control endpoint on TCP too, with that token (a router
        instance the controller drives from another container); `api_url` and `resolver`: the API hosts go
        to the controller there instead of `api_socket_path`, with `api_proof` (control.api_proof).
        `ready_on_start`: the table given to `start` is the whole table, so an unknown host is a 404 once it is
        written (after a restart too); False for a router instance, whose table a controller elsewhere writes
        and marks whole (`ControlClient.ready`): until then an unknown host is a 503 with Retry-After."""
        super().__init__(api_hosts)
        self._ready_on_start = ready_on_start
        self.prefix = Path(data_dir).resolve() / "nginx"
        self.config_path = self.prefix / "nginx.conf"
        self.listen_port = listen_port
        self.tls_port = tls_port
        self.nginx_binary = nginx_binary
        self.control_path = self.prefix / "control" / "control.sock"
        self.answers_dir = self.prefix / "answers"
        self._render_args = {
            "listen_port": listen_port,
            "tls_port": tls_port,
            "api_socket_path": api_socket_path,
            "api_hosts": list(api_hosts),
            "prefix_dir": self.prefix,
            "trusted_proxies": list(trusted_proxies),
            "api_max_body_bytes": api_max_body_bytes,
            "worker_user": _platform_user() if worker_user is _DEFAULT_USER else worker_user,
            "access_log": access_log,
            "ipv6": ipv6,
            "control_port": control_port,
            "control_token_file": control_token_file,
            "api_url": api_url,
            "resolver": resolver,
            "app_connect_timeout": app_connect_timeout,
            "api_proof": api_proof,
        }
        self._master = NginxMaster(
            prefix=self.prefix, config_path=self.config_path, ready=self._ready, on_restart=self._rewrite_all,
            before_spawn=self._remove_sockets, nginx_binary=nginx_binary, start_timeout=start_timeout,
            stop_timeout=stop_timeout, max_log_bytes=max_log_bytes, housekeeping_interval=housekeeping_interval)
        self._private_dir: str | None = None

    # ---------------------------------------------------------------- lifecycle

    @property
    def pid(self) -> int | None:
        """The master's pid while it runs."""
        return self._master.pid

    @property
    def running(self) -> bool:
        return self.pid is not None

    @property
    def restarts(self) -> int:
        return self._master.restarts

    async def start(self, table: RouteTable) -> None:
        """Start nginx and write `table`; returns once it serves it. Raises `RouterError`."""
        if self._started:
            raise RouterError("The router is already started")
        self._started, self._stopping = True, False
        self._live, self._bad, self._claimed, self.rejected = {}, {}, set(), {}
        try:
            await asyncio.to_thread(self._prepare)
            self._control = ControlClient(self.control_path)
            await self._master.start()
            async with self._lock:
                await self._apply(table)
                await self._whole_table_written()
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        """Stop nginx: requests in flight finish (bounded), then its process group is killed."""
        if not self._started:
            return
        self._stopping = True
        await self._master.stop()
        if self._control is not None:
            self._control.close()
        if self._private_dir is not None:
            await asyncio.to_thread(self._remove_sockets)
            await asyncio.to_thread(shutil.rmtree, self._private_dir, True)
            self._private_dir = None
        self._started = False

    async def rotate_logs(self) -> None:
        await self._master.rotate_logs()

    def _prepare(self) -> None:
        for path in (self.prefix, self.prefix / "logs", self.prefix / "tmp"):
            path.mkdir(parents=True, exist_ok=True)
        sockets = self.prefix
        if len(os.fsencode(sockets / "answers" / f"{max(ANSWER_NAMES, key=len)}.sock")) > _SOCKET_PATH_MAX:
            # A deep data dir: the sockets go to a directory of their own under the temp dir.
            self._private_dir = tempfile.mkdtemp(prefix="workflow-router-")
            sockets = Path(self._private_dir)
            os.chmod(sockets, 0o755)
        control_dir, self.answers_dir = sockets / "control", sockets / "answers"
        control_dir.mkdir(mode=0o700, exist_ok=True)
        os.chmod(control_dir, 0o700)  # nginx makes the socket itself world-writable: the directory guards it
        self.answers_dir.mkdir(exist_ok=True)
        os.chmod(self.answers_dir, 0o755)  # the nginx workers (another user) connect to the answer servers
        self.control_path = control_dir / "control.sock"
        cert, key = self.prefix / "fallback.crt", self.prefix / "fallback.key"
        if self.tls_port is not None:
            _fallback_cert(cert, key)
        text = render(control_socket=self.control_path, answers_dir=self.answers_dir, fallback_cert=(cert, key),
                      **self._render_args)
        candidate = self.prefix / "nginx.conf.next"
        candidate.write_text(text)
        os.replace(candidate, self.config_path)

    def _remove_sockets(self) -> None:
        # A master killed without its exit handlers leaves the socket files; nginx will not bind over them.
        self.control_path.unlink(missing_ok=True)
        for name in ANSWER_NAMES:
            (self.answers_dir / f"{name}.sock").unlink(missing_ok=True)

    async def _ready(self) -> bool:
        return self._control is not None and await self._control.ping()

    async def _send(self, items: list[dict]) -> dict[str, str]:
        try:
            return await self._control.write(items)
        except RouterError:
            if not await self._master.restart_if_dead():
                raise
        await self._write_all()  # a new master: empty shared memory
        await self._whole_table_written()
        return await self._control.write(items)

    async def _rewrite_all(self) -> None:
        """After the supervisor restarted nginx: the live routes into its fresh shared memory."""
        async with self._lock:
            if not self._stopping:
                await self._write_all()
                await self._whole_table_written()

    async def _whole_table_written(self) -> None:
        if self._ready_on_start:
            await self._control.ready()
