"""The nginx master the platform runs: start, stop, restart when it dies, log rotation. Nothing about routes.

nginx runs in its own process group and session (Ctrl-C on the platform does not reach it; its workers can be
killed with it). A supervision task restarts the master when it dies unexpectedly and then calls
`on_restart` (the router pushes the whole route table again: shared memory died with the master). A master
left over by a platform that was killed is found through the pid file and stopped before a new one starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import signal
from collections import deque
from collections.abc import Awaitable, Callable
from pathlib import Path

from workflow.router.table import RouterError

logger = logging.getLogger("workflow.router")

_LOG_PREFIX = re.compile(r"^(nginx: )?(\d{4}/\d\d/\d\d \d\d:\d\d:\d\d )?")
_IN_FILE = re.compile(r" in /\S+:\d+$")
_PATH = re.compile(r'(?<![^\s"\'(])/(?:[^\s"/]+/)*([^\s"/:]+)')


def without_paths(text: str) -> str:
    """nginx's message for a user: no `in <config>:<line>` and no server directories (basenames only)."""
    return "; ".join(_PATH.sub(r"\1", _IN_FILE.sub("", part)) for part in text.split("; "))


def _clean(line: str) -> str:
    return _LOG_PREFIX.sub("", line.strip())


class NginxMaster:
    """One nginx master on `config_path`, prefix `prefix`; `ready()` says when it serves."""

    def __init__(
        self,
        *,
        prefix: Path,
        config_path: Path,
        ready: Callable[[], Awaitable[bool]],
        on_restart: Callable[[], Awaitable[None]],
        before_spawn: Callable[[], None] = lambda: None,
        nginx_binary: str = "nginx",
        start_timeout: float = 15.0,
        stop_timeout: float = 10.0,
        max_log_bytes: int = 64 * 1024 * 1024,
        housekeeping_interval: float = 60.0,
    ):
        self.prefix = prefix
        self.config_path = config_path
        self.nginx_binary = nginx_binary
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.max_log_bytes = max_log_bytes
        self.housekeeping_interval = housekeeping_interval
        self._ready = ready
        self._on_restart = on_restart
        self._before_spawn = before_spawn
        self.restarts = 0  # masters started again after an unexpected exit (and given the routes again)
        self._proc: asyncio.subprocess.Process | None = None
        self._stderr_task: asyncio.Task[None] | None = None
        self._drains: set[asyncio.Task[None]] = set()
        self._stderr_tail: deque[str] = deque(maxlen=40)
        self._supervisor: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._stopping = False

    @property
    def pid(self) -> int | None:
        proc = self._proc
        return proc.pid if proc is not None and proc.returncode is None else None

    async def start(self) -> None:
        """Start the master; returns once `ready()`. Raises `RouterError`."""
        self._stopping = False
        try:
            await self._stop_leftover_master()
            async with self._lock:
                await self._spawn()
        except BaseException:
            await self._kill_group(self._proc)
            raise
        self._supervisor = asyncio.create_task(self._supervise(), name="nginx-supervisor")

    async def stop(self) -> None:
        """Graceful (SIGQUIT: requests in flight finish), then SIGTERM, then SIGKILL of the process group."""
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

    async def restart_if_dead(self) -> bool:
        """Start the master again when it is not running (a route push found no one answering); True if so."""
        async with self._lock:
            if self._stopping or self.pid is not None:
                return False
            await self._restart()
            self.restarts += 1  # the caller writes the routes again before going on
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

    # ---------------------------------------------------------------- process

    async def _spawn(self) -> None:
        """Start a master and wait until it serves."""
        self._stderr_tail.clear()
        await asyncio.to_thread(self._before_spawn)
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
            await self._wait_ready(proc)
        except BaseException:
            await self._kill_group(proc)
            raise
        logger.info("nginx master %s started", proc.pid)

    async def _wait_ready(self, proc: asyncio.subprocess.Process) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.start_timeout
        while True:
            if proc.returncode is not None:
                await self._settle_stderr()
                raise RouterError(f"nginx exited during start (code {proc.returncode}){self._tail()}")
            if await self._ready():
                return
            if loop.time() > deadline:
                raise RouterError(f"nginx did not start within {self.start_timeout:.0f} s{self._tail()}")
            await asyncio.sleep(0.01)

    async def _restart(self) -> None:
        await self._kill_group(self._proc)  # its workers may outlive it and hold the ports
        await self._spawn()

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
            restarted = False
            async with self._lock:
                if self._stopping:
                    return
                if self._proc is not proc:
                    continue  # already replaced (by a push that found it dead)
                logger.error("nginx master %s exited unexpectedly (%s); restarting it", proc.pid, code)
                try:
                    await self._restart()
                    restarted = True
                except RouterError as exc:
                    logger.error("Restarting nginx failed: %s", exc.message)
            if restarted:
                backoff = 0.5
                try:
                    await self._on_restart()
                except RouterError as exc:
                    logger.error("Pushing the routes to the restarted nginx failed: %s", exc.message)
                self.restarts += 1  # counted once it serves its routes again
                continue
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 10.0)

    def _logs_too_large(self) -> bool:
        sizes = []
        for name in ("access.log", "error.log"):
            with contextlib.suppress(OSError):
                sizes.append((self.prefix / "logs" / name).stat().st_size)
        return any(size > self.max_log_bytes for size in sizes)

    async def _drain(self, read_fd: int) -> None:
        loop = asyncio.get_running_loop()
        stream = asyncio.StreamReader(loop=loop)
        pipe = os.fdopen(read_fd, "rb", buffering=0)
        transport, _ = await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stream), pipe)
        try:
            while line := await stream.readline():
                text = _clean(line.decode(errors="replace"))
                if text:
                    self._stderr_tail.append(text)
                    logger.log(logging.INFO if "[notice]" in text else logging.WARNING, "nginx: %s", text)
        finally:
            transport.close()

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
