"""The CLI's HTTP/1.1 client, on the standard library's `http.client`.

Why not httpx (which the CLI used before): importing it costs ~60 ms, a third of `deis ps`'s whole run, for
what the CLI needs, which is one request at a time to one controller. What httpx did for the CLI, this does
the same way: TLS verified against certifi's bundle (or `SSL_CERT_FILE` / `SSL_CERT_DIR`), `ssl_verify=false`
turning verification off; proxies from `HTTP_PROXY` / `HTTPS_PROXY` / `ALL_PROXY` and `NO_PROXY` (lower-case
names first, as urllib reads them; `NO_PROXY` names as curl reads them); no timeout (a deploy answers when it is
done); one kept-alive connection per client. Every failure to reach the controller is an `HTTPError`.
"""

from __future__ import annotations

import http.client
import json
import os
import select
from contextlib import contextmanager
from urllib.parse import quote, unquote, urlencode, urlsplit


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
            except (OSError, http.client.HTTPException) as exc:
                raise HTTPError(_reason(exc)) from None
            if not chunk:
                return
            text = chunk.decode(charset, errors="replace")
            text = text[:-2] if text.endswith("\r\n") else text[:-1] if text.endswith("\n") else text
            # a lone CR ends a line too; form feeds and U+2028 inside a log line do not (str.splitlines
            # would split on them)
            yield from text.split("\r")


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
    """The whole body, a MiB at a time: one read of a Content-Length the server claims would allocate all of
    it up front."""
    parts = []
    try:
        while chunk := raw.read(1 << 20):
            parts.append(chunk)
    except (OSError, http.client.HTTPException) as exc:
        raise HTTPError(_reason(exc)) from None
    if raw.length:  # a read in parts stops at the close without saying the answer was cut short
        raise HTTPError(f"answer cut short: {raw.length} bytes missing")
    return b"".join(parts)


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
        self._conn: http.client.HTTPConnection | None = None
        self._absolute = False  # the connection is to a proxy: request lines carry the whole URL
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
        return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80)

    def _connect(self) -> tuple[http.client.HTTPConnection, bool]:
        """A connection to the controller (or its proxy); True when requests must carry absolute URLs."""
        scheme, host, port = self._target()
        proxy = proxy_for(scheme, host, port)
        if scheme == "https" and self._context is None:
            self._context = ssl_context(self.verify)
        if not proxy:
            if scheme == "https":
                return http.client.HTTPSConnection(host, port, context=self._context), False
            return http.client.HTTPConnection(host, port), False
        p = urlsplit(proxy)
        if p.scheme != "http" or not p.hostname:
            raise InvalidURL(f"unsupported proxy {proxy!r} (an http:// proxy is needed)")
        auth = {}
        if p.username is not None:
            import base64

            pair = f"{unquote(p.username)}:{unquote(p.password or '')}".encode()
            auth = {"Proxy-Authorization": "Basic " + base64.b64encode(pair).decode()}
        if scheme == "https":  # a CONNECT tunnel, TLS inside it
            conn = http.client.HTTPSConnection(p.hostname, p.port or 80, context=self._context)
            conn.set_tunnel(host, port, headers=auth)
            return conn, False
        conn = http.client.HTTPConnection(p.hostname, p.port or 80)
        conn._workflow_proxy_headers = auth  # type: ignore[attr-defined]
        return conn, True

    def _idle_connection_closed(self) -> bool:
        """A kept-alive connection the server has closed reads as ready (EOF): open a new one instead."""
        sock = self._conn.sock if self._conn else None
        if sock is None:
            return True
        try:
            return bool(select.select([sock], [], [], 0)[0])
        except (OSError, ValueError):
            return True

    def _send(self, method: str, url: str, headers: dict[str, str], body: bytes | None):
        """Send one request; the `http.client` response, its body still unread. The one place that talks to
        the network (tests of the CLI stand their mock controller in here)."""
        if self._conn is not None and self._idle_connection_closed():
            self.close()
        if self._conn is None:
            self._conn, self._absolute = self._connect()
        conn = self._conn
        if self._absolute:  # the proxy is given the whole URL, its host name in ASCII (IDNA)
            netloc = urlsplit(url).netloc
            target = url.replace(netloc, netloc.encode("idna").decode("ascii"), 1)
            headers = {**headers, **conn._workflow_proxy_headers}  # type: ignore[attr-defined]
        else:
            parts = urlsplit(url)
            target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        conn.request(method, target, body=body, headers=headers)
        return conn.getresponse()

    def _open(self, method: str, path: str, headers: dict[str, str], body: bytes | None, params: dict | None):
        url = self.url(path, params)
        try:
            return self._send(method, url, headers, body or None)
        except InvalidURL:
            raise
        except (http.client.InvalidURL, ValueError) as exc:  # ValueError: a header value that would add a line
            self.close()
            raise InvalidURL(str(exc)) from None
        except (OSError, http.client.HTTPException) as exc:
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
