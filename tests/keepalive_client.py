"""A keep-alive HTTP/1.1 load client (issue 12), shared by tests/engine/test_keepalive.py and bench/router.py.

Each `Connection` sends `GET /` after `GET /` on one socket for as long as the server keeps it open: a new
socket only after the server answered `Connection: close` or after an error, and every socket opened is
counted — so a test can prove the connections were really reused. Every answer is kept (send and answer times,
status, body) and every socket error (reset, close without an answer, bad framing, timeout) with where it
happened. `Load` runs the connections in a thread with its own event loop, so a controller running in the
caller's loop and the client do not delay each other.
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field

PAUSE = 0.003  # between two requests on a connection, by default: it is idle now and then, as real clients are
REQUEST_TIMEOUT = 10.0


class ProtocolError(Exception):
    pass


async def read_response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("closed by the server before the status line")
    parts = status_line.split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
        raise ProtocolError(f"bad status line {status_line!r}")
    headers: dict[str, str] = {}
    while True:
        line = await reader.readline()
        if not line.endswith(b"\n"):
            raise ConnectionError("closed by the server inside the headers")
        if line in (b"\r\n", b"\n"):
            break
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        chunks = []
        while True:
            size = int((await reader.readline()).split(b";")[0].strip() or b"x", 16)
            if size == 0:
                while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                    pass
                break
            chunks.append(await reader.readexactly(size))
            await reader.readexactly(2)
        body = b"".join(chunks)
    else:
        raise ProtocolError(f"an answer without a length: {status_line!r} {headers}")
    return int(parts[1]), headers, body


@dataclass
class Answer:
    sent: float
    done: float
    status: int
    body: bytes


@dataclass
class SocketError:
    at: float
    connection: str
    socket: int  # the n-th socket of this connection
    nth: int  # the n-th request on that socket
    idle: float  # seconds the socket was idle before this request (0 for the first one)
    error: str


@dataclass
class Connection:
    """One client connection: requests one after the other on a socket, a new socket only when the server
    closes the old one gracefully (`Connection: close`) or after an error."""

    name: str
    kind: str  # "app", "domain" or "untouched"
    port: int
    host: str
    answers: list[Answer] = field(default_factory=list)
    errors: list[SocketError] = field(default_factory=list)
    pause: float = PAUSE
    sockets: int = 0
    graceful_closes: int = 0

    async def run(self, stopping: threading.Event) -> None:
        request = f"GET / HTTP/1.1\r\nHost: {self.host}\r\nUser-Agent: keepalive-test\r\n\r\n".encode()
        writer = None
        nth = 0
        last = 0.0
        while not stopping.is_set():
            sent = time.monotonic()
            idle = 0.0
            try:
                if writer is None:
                    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", self.port),
                                                            REQUEST_TIMEOUT)
                    self.sockets += 1
                    nth, last = 0, 0.0
                nth += 1
                if last:
                    idle = sent - last
                writer.write(request)
                await writer.drain()
                status, headers, body = await asyncio.wait_for(read_response(reader), REQUEST_TIMEOUT)
            except (OSError, EOFError, TimeoutError, ProtocolError, ValueError) as exc:
                self.errors.append(SocketError(sent, self.name, self.sockets, nth, idle,
                                               f"{type(exc).__name__}: {exc}"))
                if writer is not None:
                    writer.close()
                writer = None
                continue
            last = time.monotonic()
            self.answers.append(Answer(sent, last, status, body))
            if headers.get("connection", "").lower() == "close":
                self.graceful_closes += 1
                writer.close()
                writer = None
            await asyncio.sleep(self.pause)
        if writer is not None:
            writer.close()


class Load:
    """The connections, run in a thread of their own until stopped."""

    def __init__(self, connections: list[Connection]):
        self.connections = connections
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._main, name="keepalive-load", daemon=True)

    def _main(self) -> None:
        async def all_of_them() -> None:
            await asyncio.gather(*(c.run(self._stopping) for c in self.connections))

        asyncio.run(all_of_them())

    def start(self) -> None:
        self._thread.start()

    async def stop(self) -> None:
        self._stopping.set()
        await asyncio.to_thread(self._thread.join, REQUEST_TIMEOUT + 5)
        assert not self._thread.is_alive()


