"""The CLI's HTTP/1.1 client, on the standard library's `socket` (and `ssl` for https).

Why not httpx (which the CLI used before): importing it cost ~60 ms, a third of `deis ps`'s whole run; nor
`http.client`, which imports the `email` package to parse headers (~20 ms, most of what was left), for what
the CLI needs: one request at a time to one controller. What httpx did for the CLI, this does the same way:
TLS verified against certifi's bundle (or `SSL_CERT_FILE` / `SSL_CERT_DIR`), `ssl_verify=false` turning
verification off; proxies from `HTTP_PROXY` / `HTTPS_PROXY` / `ALL_PROXY` and `NO_PROXY` (lower-case names
first, as urllib reads them; `NO_PROXY` names as curl reads them); no timeout (a deploy answers when it is
done); one kept-alive connection per client. Answers are read as HTTP/1.1 says: by Content-Length, chunked,
or until the server closes; 1xx answers skipped; status and header lines bounded as in `http.client`. Every
failure to reach the controller, or to read its answer, is an `HTTPError`.
"""

from __future__ import annotations

import json
import os
import select
import socket
from contextlib import contextmanager
from urllib.parse import quote, unquote, urlencode, urlsplit

MAX_LINE = 65536  # a status or header line (http.client's _MAXLINE)
MAX_HEADERS = 100  # http.client's _MAXHEADERS


class HTTPError(Exception):
    """The controller could not be reached, or broke off its answer."""


class InvalidURL(HTTPError):
    """The controller URL cannot be requested (no host, a port that is not a number, an unknown scheme)."""


class Headers(dict):
    """Response headers by lower-cased name; repeated headers joined with `, ` (as httpx's `get`)."""

    def __init__(self, items: list[tuple[str, str]]) -> None:
        super().__init__()
        for name, value in items:
            key = name.lower()
            super().__setitem__(key, f"{self[key]}, {value}" if key in self else value)

    def get(self, name: str, default=None):  # type: ignore[override]
        return super().get(name.lower(), default)

    def __getitem__(self, name: str) -> str:
        return super().__getitem__(name.lower())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and super().__contains__(name.lower())


class Response:
    """A whole answer: status, headers, body."""

    def __init__(self, status_code: int, headers: Headers, content: bytes) -> None:
        self.status_code = status_code
        self.headers = headers
        self.content = content

    @property
    def text(self) -> str:
        return self.content.decode(_charset(self.headers), errors="replace")

    def json(self):
        return json.loads(self.content)


class StreamResponse:
    """An answer read as it arrives (`iter_lines`), or whole (`read`)."""

    def __init__(self, raw) -> None:
        self.raw = raw
        self.status_code = raw.status
        self.headers = Headers(raw.getheaders())
        self.content = b""

    def read(self) -> bytes:
        self.content = _read_all(self.raw)
        return self.content

    @property
    def text(self) -> str:
        return self.content.decode(_charset(self.headers), errors="replace")

    def iter_lines(self):
        """Each line as soon as its end arrives (`\\n`, `\\r\\n` or `\\r` ends one, as in httpx)."""
        charset = _charset(self.headers)
        while True:
            try:
                chunk = self.raw.readline()
            except OSError as exc:
                raise HTTPError(_reason(exc)) from None
            if not chunk:
                return
            text = chunk.decode(charset, errors="replace").replace("\r\n", "\n").replace("\r", "\n")
            lines = text.split("\n")  # not splitlines(): a form feed or U+2028 inside a log line ends nothing
            yield from lines[:-1] if text.endswith("\n") else lines


def _charset(headers: Headers) -> str:
    for param in (headers.get("content-type") or "").split(";")[1:]:
        name, _, value = param.strip().partition("=")
        if name.lower() == "charset" and value:
            value = value.strip('"')
            try:
                "".encode(value)
                return value
            except LookupError:
                break
    return "utf-8"


def _reason(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


def _read_all(raw) -> bytes:
    try:
        return raw.read()
    except OSError as exc:
        raise HTTPError(_reason(exc)) from None


# --- the wire -----------------------------------------------------------------------------------------


class ProtocolError(HTTPError):
    """The answer is not the HTTP/1.x it should be, or stops short."""


def _line(fp) -> bytes:
    line = fp.readline(MAX_LINE + 1)
    if len(line) > MAX_LINE:
        raise ProtocolError("status or header line too long")
    return line


def _status_line(fp) -> tuple[str, int, str]:
    line = _line(fp)
    if not line:
        raise ProtocolError("Remote end closed connection without response")
    parts = line.decode("iso-8859-1").rstrip("\r\n").split(None, 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not (len(parts[1]) == 3 and parts[1].isdigit()):
        raise ProtocolError(f"not an HTTP/1.x answer: {line[:60]!r}")
    return parts[0], int(parts[1]), parts[2] if len(parts) > 2 else ""


def _header_lines(fp) -> list[tuple[str, str]]:
    """Header (or trailer) lines up to the blank line."""
    headers: list[tuple[str, str]] = []
    while True:
        line = _line(fp)
        if line in (b"\r\n", b"\n"):
            return headers
        if not line:
            raise ProtocolError("answer cut short in its headers")
        if len(headers) >= MAX_HEADERS:
            raise ProtocolError(f"got more than {MAX_HEADERS} headers")
        text = line.decode("iso-8859-1").rstrip("\r\n")
        if text[:1] in (" ", "\t") and headers:  # an obsolete folded continuation
            name, value = headers[-1]
            headers[-1] = (name, f"{value} {text.strip()}")
            continue
        name, colon, value = text.partition(":")
        if not colon or not name.strip():
            raise ProtocolError(f"not a header line: {line[:60]!r}")
        headers.append((name.strip(), value.strip()))


class RawResponse:
    """One answer on a connection, its body not read yet: what `Client._send` returns (the members
    `http.client.HTTPResponse` has too: status, getheaders, read, readline, close, will_close)."""

    def __init__(self, fp, method: str) -> None:
        self.fp = fp
        version, status, _ = _status_line(fp)
        headers = _header_lines(fp)
        while 100 <= status < 200:  # informational answers (100 Continue, 103) come before the real one
            version, status, _ = _status_line(fp)
            headers = _header_lines(fp)
        self.status = status
        self._headers = headers
        named = Headers(headers)
        self.chunked = "chunked" in (named.get("transfer-encoding") or "").lower()
        self.length: int | None = None
        if not self.chunked and named.get("content-length") is not None:
            text = named["content-length"].split(",")[0].strip()
            if not text.isdigit():
                raise ProtocolError(f"bad Content-Length {text[:20]!r}")
            self.length = int(text)
        if status in (204, 304) or method == "HEAD":
            self.chunked, self.length = False, 0
        connection = (named.get("connection") or "").lower()
        self.will_close = ("close" in connection or (version == "HTTP/1.0" and "keep-alive" not in connection)
                           or (not self.chunked and self.length is None))
        self._chunk_left = 0  # bytes left in the current chunk; 0: a chunk-size line comes next
        self._done = self.length == 0

    def getheaders(self) -> list[tuple[str, str]]:
        return self._headers

    def _next_chunk(self) -> None:
        line = _line(self.fp)
        size_text = line.split(b";", 1)[0].strip()
        if not 0 < len(size_text) <= 16 or any(c not in b"0123456789abcdefABCDEF" for c in size_text):
            raise ProtocolError(f"bad chunk size line {line[:40]!r}")
        self._chunk_left = int(size_text, 16)
        if self._chunk_left == 0:
            _header_lines(self.fp)  # trailers, up to the blank line
            self._done = True

    def _end_chunk(self) -> None:
        if self.fp.readline(3) not in (b"\r\n", b"\n"):
            raise ProtocolError("a chunk not followed by its CRLF")

    def readline(self) -> bytes:
        """The body's next line as soon as its end arrives (b"": the body ended)."""
        if self._done:
            return b""
        if self.chunked:
            parts = []
            while not self._done:
                if not self._chunk_left:
                    self._next_chunk()
                    continue
                piece = self.fp.readline(self._chunk_left)
                if not piece:
                    raise ProtocolError("answer cut short in a chunk")
                self._chunk_left -= len(piece)
                if not self._chunk_left:
                    self._end_chunk()
                parts.append(piece)
                if piece.endswith(b"\n"):
                    break
            return b"".join(parts)
        if self.length is None:  # until the server closes
            line = self.fp.readline()
            self._done = not line
            return line
        line = self.fp.readline(self.length)
        if not line:
            raise ProtocolError(f"answer cut short: {self.length} more bytes were announced")
        self.length -= len(line)
        self._done = not self.length
        return line

    def read(self) -> bytes:
        """The rest of the body."""
        if self._done:
            return b""
        if self.chunked:
            parts = []
            while not self._done:
                if not self._chunk_left:
                    self._next_chunk()
                    continue
                piece = self._read_exact(self._chunk_left)
                self._chunk_left = 0
                self._end_chunk()
                parts.append(piece)
            return b"".join(parts)
        if self.length is None:
            data = self.fp.read()
        else:
            data = self._read_exact(self.length)
        self._done = True
        return data

    def _read_exact(self, size: int) -> bytes:
        """`size` bytes, read a MiB at a time: a buffered read of n allocates n at once, and n is the server's
        word (a chunk size line, a Content-Length)."""
        parts, got = [], 0
        while got < size:
            piece = self.fp.read(min(size - got, 1 << 20))
            if not piece:
                raise ProtocolError(f"answer cut short: {got} of {size} bytes")
            parts.append(piece)
            got += len(piece)
        return b"".join(parts)

    def close(self) -> None:
        if not self._done:  # the rest is still on the connection: it cannot carry another request
            self.will_close = True
            self._done = True


class _Connection:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.fp = sock.makefile("rb")

    def close(self) -> None:
        self.fp.close()
        self.sock.close()


def _authority(host: str, port: int, default: int | None = None) -> str:
    name = f"[{host}]" if ":" in host else host
    return name if port == default else f"{name}:{port}"


def _tunnel(sock: socket.socket, host: str, port: int, headers: dict[str, str]) -> None:
    """`CONNECT host:port` through an http proxy; afterwards the socket is a pipe to the controller."""
    authority = _authority(host, port)
    head = [f"CONNECT {authority} HTTP/1.1", f"Host: {authority}", *(f"{k}: {v}" for k, v in headers.items())]
    sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
    fp = sock.makefile("rb", buffering=0)  # unbuffered: what follows the answer is the controller's TLS
    try:
        _, status, reason = _status_line(fp)
        _header_lines(fp)
    finally:
        fp.close()
    if status != 200:
        raise OSError(f"Tunnel connection failed: {status} {reason}".rstrip())


# --- proxies ------------------------------------------------------------------------------------------


def _env(name: str) -> str:
    return os.environ.get(name.lower()) or os.environ.get(name.upper()) or ""


def _bypassed(scheme: str, host: str, port: int, no_proxy: str) -> bool:
    """httpx's reading of NO_PROXY: `*` is everything; `.x.org` its subdomains; `x.org` it and them; an entry
    with `://` or a port matches those too; IPs and `localhost` match exactly."""
    for entry in (e.strip().lower() for e in no_proxy.split(",")):
        if not entry:
            continue
        if entry == "*":
            return True
        want_scheme = ""
        if "://" in entry:
            want_scheme, entry = entry.split("://", 1)
        name, want_port = entry, None
        if entry.startswith("["):  # [v6]:port
            name, _, rest = entry[1:].partition("]")
            want_port = rest[1:] or None
        elif entry.count(":") == 1:
            name, want_port = entry.split(":")
        if want_scheme and want_scheme not in ("all", scheme):
            continue
        if want_port is not None and want_port != str(port):
            continue
        name = name.strip("[]")
        if name.startswith("*"):
            name = name[1:]
        if name.startswith("."):
            if host.endswith(name):
                return True
        elif host == name or host.endswith("." + name):
            return True
    return False


def proxy_for(scheme: str, host: str, port: int) -> str:
    """The proxy URL the environment names for this target, or `` (connect directly)."""
    proxy = _env(f"{scheme}_proxy") or _env("all_proxy")
    if not proxy or _bypassed(scheme, host, port, _env("no_proxy")):
        return ""
    return proxy if "://" in proxy else "http://" + proxy


# --- TLS ----------------------------------------------------------------------------------------------


def ssl_context(verify: bool):
    """httpx's context: verified against SSL_CERT_FILE, SSL_CERT_DIR or certifi's bundle; or not verified."""
    import ssl  # here: a plain-http controller never needs it

    if not verify:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    if os.environ.get("SSL_CERT_FILE"):
        return ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
    if os.environ.get("SSL_CERT_DIR"):
        return ssl.create_default_context(capath=os.environ["SSL_CERT_DIR"])
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


# --- the client ---------------------------------------------------------------------------------------


class Client:
    """Requests to one base URL over one kept-alive connection. Not for use by two threads at once."""

    def __init__(self, base_url: str, verify: bool = True) -> None:
        self.base_url = base_url.rstrip("/")
        self.verify = verify
        self._conn: _Connection | None = None
        self._proxy_headers: dict[str, str] | None = None  # set: the connection is to an http proxy
        self._context = None

    # URL of a request: the base URL's scheme and host, the path percent-encoded as httpx does.
    def url(self, path: str, params: dict | None = None) -> str:
        url = self.base_url + quote(path, safe="/:@!$&'()*+,;=%?~")
        if params:
            url += ("&" if "?" in url else "?") + urlencode(params, quote_via=quote)
        return url

    def _target(self) -> tuple[str, str, int]:
        try:
            parts = urlsplit(self.base_url)
            port = parts.port
        except ValueError as exc:
            raise InvalidURL(str(exc)) from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidURL(f"no {'host' if parts.scheme in ('http', 'https') else 'http(s) scheme'} in it")
        host = parts.hostname
        if not host.isascii():  # an internationalised name: its ASCII form, for DNS, the Host header and TLS
            try:
                host = host.encode("idna").decode()
            except UnicodeError as exc:
                raise InvalidURL(f"host {host!r}: {exc}") from None
        return parts.scheme, host, port or (443 if parts.scheme == "https" else 80)

    def _tls(self, sock: socket.socket, host: str):
        if self._context is None:
            self._context = ssl_context(self.verify)
        return self._context.wrap_socket(sock, server_hostname=host)

    def _connect(self) -> tuple[_Connection, dict[str, str] | None]:
        """A connection to the controller, or to the http proxy that forwards to it (then also the headers
        each request must carry for the proxy)."""
        scheme, host, port = self._target()
        proxy = proxy_for(scheme, host, port)
        if not proxy:
            sock = socket.create_connection((host, port))
            try:
                return _Connection(self._tls(sock, host) if scheme == "https" else sock), None
            except BaseException:
                sock.close()
                raise
        p = urlsplit(proxy)
        try:
            proxy_port = p.port or 80
        except ValueError as exc:
            raise InvalidURL(f"proxy {proxy!r}: {exc}") from None
        if p.scheme != "http" or not p.hostname:
            raise InvalidURL(f"unsupported proxy {proxy!r} (an http:// proxy is needed)")
        auth = {}
        if p.username is not None:
            import base64

            pair = f"{unquote(p.username)}:{unquote(p.password or '')}".encode()
            auth = {"Proxy-Authorization": "Basic " + base64.b64encode(pair).decode()}
        sock = socket.create_connection((p.hostname, proxy_port))
        try:
            if scheme == "https":  # a CONNECT tunnel, TLS inside it: the proxy sees no request
                _tunnel(sock, host, port, auth)
                return _Connection(self._tls(sock, host)), None
            return _Connection(sock), auth
        except BaseException:
            sock.close()
            raise

    def _idle_connection_closed(self) -> bool:
        """A kept-alive connection the server has closed reads as ready (EOF): open a new one instead."""
        try:
            return bool(select.select([self._conn.sock], [], [], 0)[0])
        except (OSError, ValueError):
            return True

    def _send(self, method: str, url: str, headers: dict[str, str], body: bytes | None) -> RawResponse:
        """Send one request; the answer's status and headers read, its body not yet. The one place that
        talks to the network (tests of the CLI stand their mock controller in here)."""
        if any(c <= " " or c == "\x7f" for c in url):
            raise InvalidURL(f"{url!r} has spaces or control characters")
        for name, value in headers.items():  # nothing may end the header block early, or add a line to it
            if any(c in "\r\n" for c in name + value) or ":" in name:
                raise InvalidURL(f"header {name!r} cannot be sent")
            value.encode("latin-1")
        if self._conn is not None and self._idle_connection_closed():
            self.close()
        if self._conn is None:
            self._conn, self._proxy_headers = self._connect()
        scheme, host, port = self._target()
        authority = _authority(host, port, 443 if scheme == "https" else 80)
        parts = urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        if self._proxy_headers is not None:  # to a proxy: the whole URL
            target, headers = f"{scheme}://{authority}{target}", {**headers, **self._proxy_headers}
        head = [f"{method} {target} HTTP/1.1", f"Host: {authority}", "Accept-Encoding: identity"]
        head += [f"{name}: {value}" for name, value in headers.items()]
        if body is not None or method in ("POST", "PUT", "PATCH"):
            head.append(f"Content-Length: {len(body or b'')}")
        self._conn.sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + (body or b""))
        return RawResponse(self._conn.fp, method)

    def _open(self, method: str, path: str, headers: dict[str, str], body: bytes | None, params: dict | None):
        url = self.url(path, params)
        try:
            return self._send(method, url, headers, body or None)
        except InvalidURL:
            raise
        except HTTPError:
            self.close()
            raise
        except UnicodeError as exc:
            self.close()
            raise InvalidURL(str(exc)) from None
        except OSError as exc:
            self.close()
            raise HTTPError(_reason(exc)) from None

    def request(self, method: str, path: str, headers: dict[str, str], body: bytes | None = None,
                params: dict | None = None) -> Response:
        raw = self._open(method, path, headers, body, params)
        try:
            content = _read_all(raw)
        except HTTPError:
            self.close()
            raise
        if raw.will_close:
            self.close()
        return Response(raw.status, Headers(raw.getheaders()), content)

    @contextmanager
    def stream(self, method: str, path: str, headers: dict[str, str], params: dict | None = None):
        raw = self._open(method, path, headers, None, params)
        try:
            yield StreamResponse(raw)
        finally:
            raw.close()
            self.close()  # a stream left before its end leaves the connection unusable

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
