"""CLI unit tests: Typer's CliRunner against a controller mocked with respx. HOME and the profile live in
tmp_path; the working directory is `<tmp>/myapp`, so commands without `-a` act on app `myapp`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import respx
import typer.main
import typer.testing
from typer.testing import CliRunner

from cli.main import app as deis_app

# Building the click command from ~100 Typer commands takes ~0.1 s; do it once for the whole run.
DEIS_COMMAND = typer.main.get_command(deis_app)

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


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=CONTROLLER, assert_all_called=True, assert_all_mocked=True) as router:
        yield router


class Deis:
    def __init__(self) -> None:
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None):
        return self.runner.invoke(deis_app, list(args), input=input, prog_name="deis")


@pytest.fixture
def deis(home: Path, monkeypatch: pytest.MonkeyPatch) -> Deis:
    # Speed only: typer's runner rebuilds the command on every invoke; hand it the cached one.
    monkeypatch.setattr(typer.testing, "_get_command", lambda app: DEIS_COMMAND, raising=False)
    return Deis()


def assert_auth(request: httpx.Request) -> None:
    assert request.headers["Authorization"] == f"token {TOKEN}"
    assert request.headers["Content-Type"] == "application/json"
