"""cli/http.py against real servers on loopback (no mocks): requests as sent on the wire, keep-alive, chunked
streams read line by line as they arrive, connection failures, TLS verification, proxies from the environment.
The other CLI tests stand their mock controller in at `Client._send`; this is what runs below it."""

from __future__ import annotations

import datetime
import http.server
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from cli import http as cli_http
from cli.client import Client as CLIClient
from cli.errors import CLIError

PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY",
              "NO_PROXY", "SSL_CERT_FILE", "SSL_CERT_DIR")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)


class Recorder(http.server.BaseHTTPRequestHandler):
    """Answers every request with JSON naming what it received; `/close` answers and closes the connection,
    `/stream` sends chunked lines, one at a time, each after the test let it go."""

    protocol_version = "HTTP/1.1"
    seen: list[dict]
    gates: list[threading.Event]

    def log_message(self, *args) -> None:  # quiet
        pass

    def _record(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.seen.append({"method": self.command, "target": self.path, "headers": dict(self.headers),
                                 "body": body, "peer": self.client_address[1]})
        return body

    def do_GET(self) -> None:
        self._record()
        if self.path.startswith("/stream"):
            self.send_response(200)
            self.send_header("Content-Type", "application/x-ndjson")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i, gate in enumerate(self.server.gates):
                assert gate.wait(10)
                data = f'{{"n": {i}}}\n'.encode()
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
            return
        payload = b'{"ok": "\xc3\xa9t\xc3\xa9"}'
        self.send_response(404 if self.path.startswith("/missing") else 200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("DEIS_API_VERSION", "2.3")
        self.send_header("X-Twice", "a")
        self.send_header("X-Twice", "b")
        self.send_header("Content-Length", str(len(payload)))
        if self.path.startswith("/close"):
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(payload)

    do_POST = do_DELETE = do_GET


def serve(tls: ssl.SSLContext | None = None) -> http.server.ThreadingHTTPServer:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    server.daemon_threads = True
    server.seen, server.gates = [], []
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def server() -> Iterator[http.server.ThreadingHTTPServer]:
    srv = serve()
    yield srv
    srv.shutdown()
    srv.server_close()


def base(srv, scheme: str = "http", host: str = "127.0.0.1") -> str:
    return f"{scheme}://{host}:{srv.server_address[1]}"


def test_request_as_sent_and_answer_as_read(server):
    client = cli_http.Client(base(server))
    answer = client.request("POST", "/v2/apps/", {"Content-Type": "application/json", "Authorization": "token t"},
                            b'{"id": "x"}', params={"limit": 5, "q": "a b"})
    assert answer.status_code == 200
    assert answer.json() == {"ok": "été"} and answer.text == '{"ok": "été"}'
    assert answer.headers.get("deis_api_version") == "2.3" and answer.headers["DEIS_API_VERSION"] == "2.3"
    assert answer.headers.get("x-twice") == "a, b"
    [seen] = server.seen
    assert (seen["method"], seen["target"], seen["body"]) == ("POST", "/v2/apps/?limit=5&q=a%20b", b'{"id": "x"}')
    assert seen["headers"]["Authorization"] == "token t"
    assert seen["headers"]["Host"] == f"127.0.0.1:{server.server_address[1]}"


def test_bodies_and_lengths(server):
    client = cli_http.Client(base(server))
    client.request("GET", "/a", {})
    client.request("POST", "/b", {})
    client.request("DELETE", "/c", {}, b'{"k": 1}')
    get, post, delete = server.seen
    assert "Content-Length" not in get["headers"]  # a GET carries no body
    assert post["headers"]["Content-Length"] == "0"
    assert (delete["headers"]["Content-Length"], delete["body"]) == ("8", b'{"k": 1}')


def test_path_is_percent_encoded_once(server):
    client = cli_http.Client(base(server))
    client.request("GET", "/v2/certs/a%2Fb/", {})
    client.request("GET", "/v2/x y/é/", {})
    assert [s["target"] for s in server.seen] == ["/v2/certs/a%2Fb/", "/v2/x%20y/%C3%A9/"]


def test_keep_alive_and_reconnect(server):
    client = cli_http.Client(base(server))
    client.request("GET", "/one", {})
    client.request("GET", "/two", {})
    client.request("GET", "/close", {})  # the server closes after answering
    client.request("GET", "/three", {})
    peers = [s["peer"] for s in server.seen]
    assert peers[0] == peers[1] == peers[2]  # one connection for the first three
    assert peers[3] != peers[2]


def test_idle_connection_closed_by_the_server(server):
    client = cli_http.Client(base(server))
    client.request("GET", "/one", {})
    client._conn.sock.shutdown(socket.SHUT_RD)  # reads as EOF, as a connection the server closed does
    assert client.request("GET", "/two", {}).status_code == 200
    assert server.seen[0]["peer"] != server.seen[1]["peer"]


def test_stream_lines_arrive_one_by_one(server):
    server.gates = [threading.Event() for _ in range(3)]
    client = cli_http.Client(base(server))
    server.gates[0].set()
    with client.stream("GET", "/stream", {}, params={"follow": "true"}) as answer:
        assert answer.status_code == 200
        lines = answer.iter_lines()
        assert next(lines) == '{"n": 0}'  # read before the server may send the next
        server.gates[1].set()
        assert next(lines) == '{"n": 1}'
        server.gates[2].set()
        assert list(lines) == ['{"n": 2}']
    assert server.seen[0]["target"] == "/stream?follow=true"


def test_error_answers_are_answers(server):
    answer = cli_http.Client(base(server)).request("GET", "/missing", {})
    assert answer.status_code == 404


def test_connection_refused():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, not listening: refused
        with pytest.raises(cli_http.HTTPError, match=r"\[Errno 111\] Connection refused"):
            cli_http.Client(f"http://127.0.0.1:{port}").request("GET", "/v2/", {})
        with pytest.raises(CLIError) as failed:
            CLIClient(f"http://127.0.0.1:{port}").get("/v2/apps/")
    assert failed.value.message == (
        f"could not reach the controller at http://127.0.0.1:{port}: [Errno 111] Connection refused\n"
        "Make sure that the Controller URI is correct and the server is running."
    )


@pytest.mark.parametrize("url", ["http://host:port", "ftp://host", "http://"])
def test_invalid_urls(url):
    with pytest.raises(cli_http.InvalidURL):
        cli_http.Client(url).request("GET", "/", {})
    with pytest.raises(CLIError, match="is not a valid controller URL"):
        CLIClient(url).get("/v2/")


# --- TLS -------------------------------------------------------------------------------------------


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[http.server.ThreadingHTTPServer, Path]]:
    """An https server for `localhost` whose certificate is its own CA (in `ca.pem`)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "workflow test CA")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    ca = tmp_path / "ca.pem"
    ca.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path = tmp_path / "key.pem"
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(ca, key_path)
    srv = serve(context)
    yield srv, ca
    srv.shutdown()
    srv.server_close()


def test_tls_is_verified(tls_server, monkeypatch):
    srv, ca = tls_server
    url = base(srv, "https", "localhost")
    with pytest.raises(cli_http.HTTPError, match="CERTIFICATE_VERIFY_FAILED"):
        cli_http.Client(url).request("GET", "/v2/", {})  # certifi's bundle does not know this CA
    assert cli_http.Client(url, verify=False).request("GET", "/v2/", {}).status_code == 200
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))
    assert cli_http.Client(url).request("GET", "/v2/", {}).json() == {"ok": "été"}
    with pytest.raises(cli_http.HTTPError, match="CERTIFICATE_VERIFY_FAILED|match"):
        cli_http.Client(base(srv, "https", "127.0.0.1")).request("GET", "/v2/", {})  # not the certificate's name


# --- proxies ---------------------------------------------------------------------------------------


def test_http_proxy_from_the_environment(server, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", f"http://user:p%40ss@127.0.0.1:{server.server_address[1]}")
    cli_http.Client("http://deis.example.com").request("GET", "/v2/apps/", {}, params={"limit": 1})
    [seen] = server.seen
    assert seen["target"] == "http://deis.example.com/v2/apps/?limit=1"  # an absolute URL: to the proxy
    assert seen["headers"]["Host"] == "deis.example.com"
    assert seen["headers"]["Proxy-Authorization"] == "Basic dXNlcjpwQHNz"  # user:p@ss


def test_lowercase_names_first_and_all_proxy(server, monkeypatch):
    port = server.server_address[1]
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # discard: would fail
    monkeypatch.setenv("http_proxy", f"127.0.0.1:{port}")  # no scheme: http://
    cli_http.Client("http://a.example").request("GET", "/", {})
    monkeypatch.delenv("HTTP_PROXY")
    monkeypatch.delenv("http_proxy")
    monkeypatch.setenv("ALL_PROXY", f"http://127.0.0.1:{port}")
    cli_http.Client("http://b.example").request("GET", "/", {})
    assert [s["target"] for s in server.seen] == ["http://a.example/", "http://b.example/"]


def test_https_through_a_proxy_is_a_tunnel(monkeypatch):
    """The proxy sees `CONNECT host:port` (with the credentials), never the request inside."""
    listener = socket.create_server(("127.0.0.1", 0))
    seen: list[bytes] = []

    def proxy() -> None:
        conn, _ = listener.accept()
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(4096)
            seen.append(data)
            conn.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")

    threading.Thread(target=proxy, daemon=True).start()
    monkeypatch.setenv("HTTPS_PROXY", f"http://u:p@127.0.0.1:{listener.getsockname()[1]}")
    with pytest.raises(cli_http.HTTPError, match="403"):
        cli_http.Client("https://deis.example.com").request("GET", "/v2/", {})
    listener.close()
    assert seen[0].startswith(b"CONNECT deis.example.com:443 HTTP/1.")
    assert b"Proxy-Authorization: Basic dTpw\r\n" in seen[0]


def test_no_proxy(server, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("NO_PROXY", "example.com, 127.0.0.1")
    assert cli_http.Client(base(server)).request("GET", "/direct", {}).status_code == 200
    assert server.seen[0]["target"] == "/direct"


@pytest.mark.parametrize(
    ("no_proxy", "host", "bypassed"),
    [
        ("*", "anything.io", True),
        ("example.com", "example.com", True),
        ("example.com", "www.example.com", True),
        ("example.com", "wwwexample.com", False),
        (".example.com", "www.example.com", True),
        (".example.com", "example.com", False),
        ("localhost,127.0.0.1", "127.0.0.1", True),
        ("127.0.0.1", "127.0.0.2", False),
        ("example.com:8000", "example.com", True),  # port 8000 below
        ("example.com:9000", "example.com", False),
        ("https://example.com", "example.com", False),  # scheme http below
        ("http://example.com", "example.com", True),
        ("[::1]", "::1", True),
        ("", "example.com", False),
    ],
)
def test_no_proxy_names(no_proxy, host, bypassed):
    assert cli_http._bypassed("http", host, 8000, no_proxy) is bypassed


def test_unsupported_proxy(monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "socks5://127.0.0.1:1080")
    with pytest.raises(cli_http.InvalidURL, match="unsupported proxy"):
        cli_http.Client("http://deis.example.com").request("GET", "/", {})


# --- answers as they come on the wire ----------------------------------------------------------------


def canned(*answers: bytes) -> tuple[str, list[bytes]]:
    """A server that answers each connection's first request with the next of `answers`, then closes it."""
    listener = socket.create_server(("127.0.0.1", 0))
    requests: list[bytes] = []

    def run() -> None:
        for answer in answers:
            conn, _ = listener.accept()
            with conn:
                data = b""
                while b"\r\n\r\n" not in data:
                    data += conn.recv(65536)
                requests.append(data)
                conn.sendall(answer)
        listener.close()

    threading.Thread(target=run, daemon=True).start()
    return f"http://127.0.0.1:{listener.getsockname()[1]}", requests


def test_chunked_with_extensions_and_trailers():
    url, _ = canned(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                    b"4;name=value\r\nab\nc\r\n3\r\nde\n\r\n0\r\nX-Trailer: t\r\n\r\n")
    assert cli_http.Client(url).request("GET", "/", {}).content == b"ab\ncde\n"


def test_stream_lines_across_chunk_boundaries():
    url, _ = canned(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                    b"3\r\nab\n\r\n5\r\ncd\r\ne\r\n2\r\nf\n\r\n1\r\ng\r\n0\r\n\r\n")
    with cli_http.Client(url).stream("GET", "/", {}) as answer:
        assert list(answer.iter_lines()) == ["ab", "cd", "ef", "g"]


def test_http10_answer_read_until_close_and_informational_answers_skipped():
    url, _ = canned(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it",
                    b"HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n")
    client = cli_http.Client(url)
    first = client.request("GET", "/", {})
    assert (first.status_code, first.text) == (200, "all of it")
    second = client.request("GET", "/", {})  # a new connection: the first ended with its close
    assert (second.status_code, second.content, second.headers["x-a"]) == (204, b"", "1")


@pytest.mark.parametrize(
    "answer",
    [
        b"",
        b"SSH-2.0-OpenSSH_9.2\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffff\r\nab",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1" + b"0" * 20 + b"\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999\r\n\r\nab",
        b"HTTP/1.1 200 OK\r\n" + b"X: y\r\n" * 101 + b"\r\n",
        b"HTTP/1.1 200 OK\r\nX: " + b"y" * 70000 + b"\r\n\r\n",
    ],
)
def test_broken_answers_are_errors(answer):
    """Cut short, not HTTP, malformed framing, unbounded heads: each an HTTPError (the CLI's 'cannot reach')."""
    url, _ = canned(answer)
    with pytest.raises(cli_http.HTTPError):
        cli_http.Client(url).request("GET", "/", {})


def test_request_head_is_sent_as_written():
    url, requests = canned(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    cli_http.Client(url).request("POST", "/v2/x/", {"Content-Type": "application/json"}, b"{}")
    port = url.rsplit(":", 1)[1]
    head = requests[0].split(b"\r\n\r\n")[0].decode().split("\r\n")
    assert head[0] == "POST /v2/x/ HTTP/1.1"
    assert sorted(head[1:]) == sorted([f"Host: 127.0.0.1:{port}", "Accept-Encoding: identity",
                                       "Content-Type: application/json", "Content-Length: 2"])


def test_headers_cannot_smuggle_lines():
    with pytest.raises(cli_http.InvalidURL):
        cli_http.Client("http://127.0.0.1:9").request("GET", "/", {"Authorization": "token x\r\nX-Evil: 1"})
    with pytest.raises(cli_http.InvalidURL):
        cli_http.Client("http://127.0.0.1:9").request("GET", "/", {"Authorization": "token é\u20ac"})


def test_internationalised_host_names_go_out_in_ascii(server, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", base(server))
    cli_http.Client("http://bücher.example").request("GET", "/", {})
    assert server.seen[0]["headers"]["Host"] == "xn--bcher-kva.example"
    assert server.seen[0]["target"] == "http://xn--bcher-kva.example/"


def test_stream_lines_end_only_at_line_ends():
    body = "a\r\nb\rc\n\nform\x0cfeed\u2028kept\nlast"
    url, _ = canned(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + body.encode())
    with cli_http.Client(url).stream("GET", "/", {}) as answer:
        assert list(answer.iter_lines()) == ["a", "b", "c", "", "form\x0cfeed\u2028kept", "last"]
