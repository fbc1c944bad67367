"""The nginx master the platform runs, configures and supervises.

Layout under `<data_dir>/nginx/` (nginx runs with `-p` there and touches nothing else): `nginx.conf` (live),
`nginx.conf.next` (candidate under test), `nginx.pid`, `logs/error.log`, `logs/access.log`, `tmp/`.

A change is: render the table → write the candidate → `nginx -t` on it (rejected: `RouterError` carrying
nginx's message; the live file and the running config are untouched) → rename it over the live file →
SIGHUP to the master → wait until the loopback probe (`GENERATION_PATH`) answers the new generation number,
i.e. the new config is the one serving. `apply` is single-flight: while a reload runs, later callers queue,
and the first one to get its turn reloads with the newest table, which also serves every caller queued
behind it; so a burst of N calls costs about two reloads, and each call returns only once a config holding
its table (or a newer one) is live.

nginx runs in its own process group (Ctrl-C on the platform does not reach it; its workers can be killed
with it). A supervision task restarts the master when it dies unexpectedly; a master left over by a
platform that was killed is found through the pid file and stopped before a new one starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import pwd
import re
import signal
import socket
from collections import deque
from collections.abc import Sequence
from pathlib import Path

from workflow.router.nginx_config import GENERATION_PATH, render
from workflow.router.table import RouterError, RouteTable

logger = logging.getLogger("workflow.router")

_DEFAULT_USER = object()
_LOG_PREFIX = re.compile(r"^(nginx: )?(\d{4}/\d\d/\d\d \d\d:\d\d:\d\d )?")
_LEVEL = re.compile(r"^\[\w+\] (\d+#\d+: )?")


def _platform_user() -> str | None:
    """The user nginx workers run as: the platform's own, so they reach its unix socket and data dir."""
    if os.geteuid() != 0:
        return None  # nginx ignores `user` unless the master is root
    return pwd.getpwuid(os.geteuid()).pw_name


def _children(pid: int) -> set[int]:
    """The pids of a process's children (the master's workers)."""
    try:
        return {int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()}
    except OSError:
        pass
    children = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[1] == str(pid):
            children.add(int(stat.parent.name))
    return children


def _accepting(pid: int) -> bool:
    """Whether an nginx worker may still accept connections: alive and not shutting down."""
    try:
        title = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"worker process" in title and b"shutting down" not in title


def _clean(line: str) -> str:
    return _LOG_PREFIX.sub("", line.strip())


class NginxRouter:
    """Runs one nginx master serving a `RouteTable` on `listen_port` (and `tls_port`, when set)."""

    def __init__(
        self,
        *,
        data_dir: str | os.PathLike[str],
        listen_port: int,
        api_socket_path: str | os.PathLike[str],
        api_hosts: Sequence[str] = (),
        tls_port: int | None = None,
        trusted_proxies: Sequence[str] = (),
        nginx_binary: str = "nginx",
        worker_user: str | None | object = _DEFAULT_USER,
        access_log: bool = True,
        ipv6: bool = False,
        start_timeout: float = 15.0,
        reload_timeout: float = 15.0,
        stop_timeout: float = 10.0,
        max_log_bytes: int = 64 * 1024 * 1024,
        housekeeping_interval: float = 60.0,
    ):
        self.prefix = Path(data_dir).resolve() / "nginx"
        self.config_path = self.prefix / "nginx.conf"
        self.listen_port = listen_port
        self.tls_port = tls_port
        self.nginx_binary = nginx_binary
        self._render_args = {
            "listen_port": listen_port,
            "tls_port": tls_port,
            "api_socket_path": api_socket_path,
            "api_hosts": list(api_hosts),
            "prefix_dir": self.prefix,
            "trusted_proxies": list(trusted_proxies),
            "worker_user": _platform_user() if worker_user is _DEFAULT_USER else worker_user,
            "access_log": access_log,
            "ipv6": ipv6,
        }
        self.start_timeout = start_timeout
        self.reload_timeout = reload_timeout
        self.stop_timeout = stop_timeout
        self.max_log_bytes = max_log_bytes
        self.housekeeping_interval = housekeeping_interval

        self.reloads = 0  # graceful reloads that went live
        self.restarts = 0  # masters started again after an unexpected exit
        self.generation = 0  # the generation of the config file in place (and serving)
        self._next_generation = 0
        self._live_text: str | None = None
        self._proc: asyncio.subprocess.Process | None = None
        self._stderr_task: asyncio.Task[None] | None = None
        self._drains: set[asyncio.Task[None]] = set()
        self._stderr_tail: deque[str] = deque(maxlen=40)
        self._supervisor: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._requested = 0  # sequence number of the newest table handed in
        self._latest: RouteTable | None = None
        self._applied = 0  # newest sequence number that is live
        self._failed = 0  # newest sequence number whose reload failed ...
        self._failure: RouterError | None = None  # ... and why
        self._started = False
        self._stopping = False

    # ---------------------------------------------------------------- public

    @property
    def pid(self) -> int | None:
        """The master's pid while it runs."""
        proc = self._proc
        return proc.pid if proc is not None and proc.returncode is None else None

    @property
    def running(self) -> bool:
        return self.pid is not None

    async def start(self, table: RouteTable) -> None:
        """Start nginx serving `table`; returns once the port answers. Raises `RouterError`."""
        if self._started:
            raise RouterError("The router is already started")
        self._started = True
        self._stopping = False
        try:
            await asyncio.to_thread(self._make_dirs)
            await self._stop_leftover_master()
            async with self._lock:
                self._requested += 1
                seq = self._requested
                self._latest = table
                await self._install(table)
                await self._spawn()
                self._applied = seq
        except BaseException:
            self._started = False
            await self._kill_group(self._proc)
            raise
        self._supervisor = asyncio.create_task(self._supervise(), name="nginx-supervisor")

    async def apply(self, table: RouteTable) -> None:
        """Make `table` live; returns once a config holding it (or a newer table) serves.

        Calls during a running reload are coalesced into one following reload. Raises `RouterError` when
        nginx rejects the config (the previous one keeps serving) or does not pick it up in time.
        """
        if not self._started or self._stopping:
            raise RouterError("The router is not running")
        self._requested += 1
        seq = self._requested
        self._latest = table
        async with self._lock:
            if self._applied >= seq:
                return  # a reload that started after our call went live
            if self._failed >= seq and self._failure is not None:
                raise type(self._failure)(self._failure.message)  # our table went down with that reload
            if self._stopping:
                raise RouterError("The router is not running")
            seq, latest = self._requested, self._latest
            try:
                await self._reload(latest)
            except RouterError as exc:
                self._failed, self._failure = seq, exc
                raise
            self._applied = seq

    async def stop(self) -> None:
        """Stop nginx: graceful (SIGQUIT), then SIGTERM, then SIGKILL of its process group on timeout."""
        if not self._started:
            return
        self._stopping = True
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
            self._supervisor = None
        async with self._lock:
            proc = self._proc
            if proc is not None and proc.returncode is None:
                for sig, timeout in ((signal.SIGQUIT, self.stop_timeout), (signal.SIGTERM, 5.0)):
                    with contextlib.suppress(ProcessLookupError):
                        proc.send_signal(sig)
                    try:
                        await asyncio.wait_for(proc.wait(), timeout)
                        break
                    except TimeoutError:
                        logger.warning("nginx did not stop on %s within %.0f s", sig.name, timeout)
            await self._kill_group(proc)
            if self._stderr_task is not None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stderr_task, 5)
            self._proc = None
            self._started = False

    async def wait_drained(self, upstreams: Sequence[str], timeout: float) -> bool:
        """Wait (at most `timeout` s) until no connection to these `ip:port` upstreams (containers that
        left the table) is open, so they can be stopped without cutting a request. Idle keep-alive
        connections close within the upstreams' short `keepalive_timeout`. True when drained."""
        targets = set(upstreams)
        if not targets:
            return True
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while await asyncio.to_thread(_open_connections_to, targets):
            if loop.time() >= deadline:
                return False
            await asyncio.sleep(0.05)
        return True

    async def rotate_logs(self) -> None:
        """Move `logs/*.log` aside to `*.log.1` (dropping the previous ones) and have nginx reopen them."""
        pid = self.pid
        if pid is None:
            return
        logs = self.prefix / "logs"
        for name in ("access.log", "error.log"):
            with contextlib.suppress(FileNotFoundError):
                await asyncio.to_thread(os.replace, logs / name, logs / f"{name}.1")
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGUSR1)

    # ---------------------------------------------------------------- config

    def _make_dirs(self) -> None:
        for path in (self.prefix, self.prefix / "logs", self.prefix / "tmp"):
            path.mkdir(parents=True, exist_ok=True)

    def _render(self, table: RouteTable, generation: int) -> str:
        return render(table, generation=generation, **self._render_args)

    async def _install(self, table: RouteTable) -> tuple[str | None, int]:
        """Render, test and put in place a new config; returns the previous text and generation."""
        self._next_generation = max(self._next_generation, self.generation) + 1
        generation = self._next_generation
        text = self._render(table, generation)
        candidate = self.prefix / "nginx.conf.next"
        await asyncio.to_thread(candidate.write_text, text)
        code, output = await self._run_nginx("-t", "-c", str(candidate))
        if code != 0:
            await asyncio.to_thread(candidate.unlink, True)
            errors = [
                _LEVEL.sub("", _clean(line)) for line in output.splitlines() if "[emerg]" in line or "[crit]" in line
            ]
            detail = "; ".join(errors) or _clean(output.strip().splitlines()[-1] if output.strip() else "")
            raise RouterError(f"nginx rejected the configuration: {detail}")
        await asyncio.to_thread(os.replace, candidate, self.config_path)
        previous = (self._live_text, self.generation)
        self._live_text, self.generation = text, generation
        return previous

    async def _restore(self, previous: tuple[str | None, int]) -> None:
        """Put the previous config file back after nginx refused to load the new one."""
        text, generation = previous
        if text is None:
            return
        candidate = self.prefix / "nginx.conf.next"
        await asyncio.to_thread(candidate.write_text, text)
        await asyncio.to_thread(os.replace, candidate, self.config_path)
        self._live_text, self.generation = text, generation

    async def _run_nginx(self, *args: str) -> tuple[int, str]:
        try:
            proc = await asyncio.create_subprocess_exec(
                self.nginx_binary, "-p", f"{self.prefix}/", *args,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
            )
        except OSError as exc:
            raise RouterError(f"Cannot run {self.nginx_binary}: {exc}") from exc
        out, _ = await proc.communicate()
        return proc.returncode or 0, out.decode(errors="replace")

    # ---------------------------------------------------------------- process

    async def _reload(self, table: RouteTable) -> None:
        if self._live_text is not None and self._render(table, self.generation) == self._live_text:
            return  # nothing changed: no reload
        previous = await self._install(table)
        proc = self._proc
        try:
            if proc is None or proc.returncode is not None:
                await self._restart()
                return
            old_workers = await asyncio.to_thread(_children, proc.pid)
            proc.send_signal(signal.SIGHUP)
            deadline = asyncio.get_running_loop().time() + self.reload_timeout
            await self._wait_live(proc, self.generation, self.reload_timeout, "reload")
            await self._wait_retired(old_workers, deadline)
        except RouterError:
            await self._restore(previous)
            raise
        self.reloads += 1

    async def _spawn(self) -> None:
        """Start a master on the live config and wait until it serves it."""
        self._stderr_tail.clear()
        # Our own pipe rather than PIPE: workers inherit it, and asyncio's Process.wait() would wait for
        # every holder to close it, i.e. would not notice a master that died leaving its workers behind.
        read_fd, write_fd = os.pipe()
        try:
            proc = await asyncio.create_subprocess_exec(
                self.nginx_binary, "-p", f"{self.prefix}/", "-c", str(self.config_path),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=write_fd,
                start_new_session=True,
            )
        except OSError as exc:
            os.close(read_fd)
            raise RouterError(f"Cannot run {self.nginx_binary}: {exc}") from exc
        finally:
            os.close(write_fd)
        self._proc = proc
        self._stderr_task = asyncio.create_task(self._drain(read_fd), name="nginx-stderr")
        self._drains.add(self._stderr_task)
        self._stderr_task.add_done_callback(self._drains.discard)
        try:
            await self._wait_live(proc, self.generation, self.start_timeout, "start")
        except BaseException:
            await self._kill_group(proc)
            raise
        logger.info("nginx master %s serving port %s", proc.pid, self.listen_port)

    async def _restart(self) -> None:
        old = self._proc
        await self._kill_group(old)  # its workers may outlive it and hold the port
        await self._spawn()
        self.restarts += 1

    async def _supervise(self) -> None:
        backoff = 0.5
        while not self._stopping:
            proc = self._proc
            if proc is None:
                return
            waiter = asyncio.ensure_future(proc.wait())
            while not waiter.done():
                await asyncio.wait({waiter}, timeout=self.housekeeping_interval)
                if not waiter.done() and await asyncio.to_thread(self._logs_too_large):
                    await self.rotate_logs()
            code = waiter.result()
            if self._stopping:
                return
            async with self._lock:
                if self._stopping:
                    return
                if self._proc is not proc:
                    continue  # already replaced (by a reload that found it dead)
                logger.error("nginx master %s exited unexpectedly (%s); restarting it", proc.pid, code)
                try:
                    await self._restart()
                    backoff = 0.5
                    continue
                except RouterError as exc:
                    logger.error("Restarting nginx failed: %s", exc.message)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 10.0)

    def _logs_too_large(self) -> bool:
        sizes = []
        for name in ("access.log", "error.log"):
            with contextlib.suppress(OSError):
                sizes.append((self.prefix / "logs" / name).stat().st_size)
        return any(size > self.max_log_bytes for size in sizes)

    async def _wait_live(
        self, proc: asyncio.subprocess.Process, generation: int, timeout: float, what: str
    ) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        delay = 0.005
        while True:
            if proc.returncode is not None:
                await self._settle_stderr()
                raise RouterError(f"nginx exited during {what} (code {proc.returncode}){self._tail()}")
            if await self._probe() == generation:
                return
            if loop.time() > deadline:
                raise RouterError(f"nginx did not serve the new configuration within {timeout:.0f} s"
                                  f" ({what}){self._tail()}")
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.05)

    async def _wait_retired(self, workers: set[int], deadline: float) -> None:
        """Wait until the old workers stopped accepting: until then a new connection may still get the
        old config even though the probe already saw the new one."""
        loop = asyncio.get_running_loop()
        while workers and loop.time() < deadline:
            workers = {pid for pid in workers if await asyncio.to_thread(_accepting, pid)}
            if workers:
                await asyncio.sleep(0.005)
        # A worker retitles itself, then closes its listening sockets in the same breath.
        await asyncio.sleep(0.005)

    async def _probe(self) -> int | None:
        """The generation the loopback probe answers, or None."""
        writer = None
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection("127.0.0.1", self.listen_port), 1.0
            )
            writer.write(f"GET {GENERATION_PATH} HTTP/1.0\r\nHost: localhost\r\n\r\n".encode())
            data = await asyncio.wait_for(reader.read(4096), 2.0)
        except (OSError, TimeoutError):
            return None
        finally:
            if writer is not None:
                writer.close()
                with contextlib.suppress(OSError):
                    await writer.wait_closed()
        head, _, body = data.partition(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 200") or not body.strip().isdigit():
            return None
        return int(body.strip())

    async def _drain(self, read_fd: int) -> None:
        loop = asyncio.get_running_loop()
        stream = asyncio.StreamReader(loop=loop)
        pipe = os.fdopen(read_fd, "rb", buffering=0)
        transport, _ = await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stream), pipe)
        try:
            await self._read_lines(stream)
        finally:
            transport.close()

    async def _read_lines(self, stream: asyncio.StreamReader) -> None:
        while line := await stream.readline():
            text = _clean(line.decode(errors="replace"))
            if text:
                self._stderr_tail.append(text)
                logger.log(logging.INFO if "[notice]" in text else logging.WARNING, "nginx: %s", text)

    async def _settle_stderr(self) -> None:
        if self._stderr_task is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._stderr_task), 1.0)

    def _tail(self) -> str:
        lines = [line for line in self._stderr_tail if "[notice]" not in line]
        return (": " + "; ".join(lines[-5:])) if lines else ""

    async def _kill_group(self, proc: asyncio.subprocess.Process | None) -> None:
        """SIGKILL what is left of a master's process group (workers outlive a killed master)."""
        if proc is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(proc.wait(), 5)
        # Orphaned workers are reaped by init a moment later; until then they hold the listening ports.
        for _ in range(100):
            if not self._group_alive(proc.pid):
                break
            await asyncio.sleep(0.02)

    async def _stop_leftover_master(self) -> None:
        """Stop a master a previous run of the platform left behind (found through our pid file)."""
        pid = await asyncio.to_thread(self._leftover_pid)
        if pid is None:
            return
        logger.warning("Stopping nginx master %s left over by a previous run", pid)
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, sig)
            for _ in range(50):
                if not await asyncio.to_thread(self._group_alive, pid):
                    return
                await asyncio.sleep(0.1)

    def _leftover_pid(self) -> int | None:
        try:
            pid = int((self.prefix / "nginx.pid").read_text().strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
            if os.getpgid(pid) != pid:
                return None
        except (OSError, ValueError):
            return None
        if "nginx: master process" in cmdline and str(self.config_path) in cmdline:
            return pid
        return None

    @staticmethod
    def _group_alive(pgid: int) -> bool:
        try:
            os.killpg(pgid, 0)
        except (ProcessLookupError, PermissionError):
            return False
        return True


def _open_connections_to(targets: set[str]) -> bool:
    """Whether an established TCP connection (in this network namespace) goes to one of `ip:port`."""
    for path, family in (("/proc/net/tcp", socket.AF_INET), ("/proc/net/tcp6", socket.AF_INET6)):
        try:
            with open(path) as table:
                rows = table.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if len(fields) < 4 or fields[3] != "01":  # 01 = ESTABLISHED
                continue
            address, _, port = fields[2].partition(":")
            raw = bytes.fromhex(address)
            if family == socket.AF_INET:
                ip = socket.inet_ntop(family, raw[::-1])
                remote = f"{ip}:{int(port, 16)}"
            else:
                ip = socket.inet_ntop(family, b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4)))
                remote = f"[{ip}]:{int(port, 16)}"
            if remote in targets:
                return True
    return False
