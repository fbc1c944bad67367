"""CLI unit tests: `cli.main.run` in-process against a controller mocked with respx. HOME and the profile
live in tmp_path; the working directory is `<tmp>/myapp`, so commands without `-a` act on app `myapp`.

The CLI speaks HTTP with `http.client` (cli/http.py), not httpx: the mock controller stands in at the one
place that touches the network, `cli.http.Client._send`, which hands each request to the respx routes as an
httpx request and returns their answer the way `http.client` would. Everything above it — URLs, headers,
bodies, error texts, streaming — is the CLI's real code; `_send` itself is tested against real servers in
test_http.py."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import respx

from cli import client as cli_client
from cli import http as cli_http
from cli.main import run

CONTROLLER = "http://deis.example.com"
TOKEN = "0123456789abcdef0123456789abcdef01234567"
VERSION_HEADERS = {"DEIS_API_VERSION": "2.3", "DEIS_PLATFORM_VERSION": "2.3.0"}


def reply(status: int = 200, body=None, text: str | None = None, headers: dict | None = None) -> httpx.Response:
    """A controller answer carrying the version headers; `body` is JSON, `text` raw."""
    merged = {**VERSION_HEADERS, **(headers or {})}
    if text is not None:
        return httpx.Response(status, text=text, headers=merged)
    if body is None:
        return httpx.Response(status, headers=merged)
    return httpx.Response(status, json=body, headers=merged)


def page(results: list, count: int | None = None) -> dict:
    return {"count": len(results) if count is None else count, "next": None, "previous": None, "results": results}


def sent_json(request: httpx.Request):
    return json.loads(request.content) if request.content else None


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    workdir = tmp_path / "myapp"
    workdir.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("DEIS_PROFILE", raising=False)
    monkeypatch.delenv("DEIS_DRINK_OF_CHOICE", raising=False)
    monkeypatch.chdir(workdir)
    return home


@pytest.fixture
def profile(home: Path) -> Path:
    """A logged-in profile for `bob` at CONTROLLER."""
    directory = home / ".deis"
    directory.mkdir(mode=0o700)
    path = directory / "client.json"
    path.write_text(
        json.dumps(
            {"username": "bob", "ssl_verify": True, "controller": CONTROLLER, "token": TOKEN, "response_limit": 100}
        )
    )
    return path


class _Answer(io.BytesIO):
    """A respx answer as `http.client.HTTPResponse` offers it to cli/http.py."""

    def __init__(self, response: httpx.Response):
        super().__init__(response.read())
        self.status = response.status_code
        self.will_close = False
        self.length = None  # as http.client's for an answer read until its end: nothing owed
        self._headers = list(response.headers.multi_items())

    def getheaders(self) -> list[tuple[str, str]]:
        return self._headers


def _send_to_respx(self, method: str, url: str, headers: dict[str, str], body: bytes | None) -> _Answer:
    with httpx.Client() as client:  # respx's mock answers: nothing leaves the process
        try:
            return _Answer(client.send(httpx.Request(method, url, headers=headers, content=body)))
        except httpx.TransportError as exc:  # what the socket would have raised
            raise OSError(str(exc)) from None


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[respx.MockRouter]:
    monkeypatch.setattr(cli_http.Client, "_send", _send_to_respx)
    with respx.mock(base_url=CONTROLLER, assert_all_called=True, assert_all_mocked=True) as router:
        yield router


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str
    output: str  # stdout and stderr interleaved, as a terminal shows them


class _Tee(io.StringIO):
    """One of stdout/stderr: keeps its own text and adds it to the interleaved `shared` one."""

    def __init__(self, shared: list[str]):
        super().__init__()
        self.shared = shared

    def write(self, text: str) -> int:
        self.shared.append(text)
        return super().write(text)


class Deis:
    """`deis ARGS` with stdin fed from `input` (not a terminal) and stdout/stderr captured."""

    def __call__(self, *args: str, input: str | None = None, stdin=None) -> Result:
        """`stdin`: a real file object (a pipe, a file) instead of `input`'s text."""
        shared: list[str] = []
        out, err = _Tee(shared), _Tee(shared)
        saved = sys.stdin, sys.stdout, sys.stderr
        sys.stdin, sys.stdout, sys.stderr = stdin or io.StringIO(input or ""), out, err
        cli_client.reset_warning()
        try:
            code = run(list(args))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        finally:
            sys.stdin, sys.stdout, sys.stderr = saved
        return Result(code, out.getvalue(), err.getvalue(), "".join(shared))


@pytest.fixture
def deis(home: Path) -> Deis:
    return Deis()


def assert_auth(request: httpx.Request) -> None:
    assert request.headers["Authorization"] == f"token {TOKEN}"
    assert request.headers["Content-Type"] == "application/json"
