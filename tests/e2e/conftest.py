"""A real `workflow serve` process (nginx on a free port, SQLite in a temp dir) and the installed `deis`."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.e2e
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, data_dir: Path, network: str):
        self.data_dir = data_dir
        self.port = free_port()
        self.env = {**os.environ, "WORKFLOW_DATA_DIR": str(data_dir), "WORKFLOW_PORT": str(self.port),
                    "WORKFLOW_TLS_PORT": str(free_port()), "WORKFLOW_DOCKER_NETWORK": network,
                    "WORKFLOW_DEPLOY_TIMEOUT": "20", "WORKFLOW_STOP_GRACE_SECONDS": "2"}
        self.proc: subprocess.Popen | None = None
        self.url = f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        subprocess.run([str(BIN / "workflow"), "db", "upgrade"], env=self.env, check=True, cwd=ROOT)
        log = open(self.data_dir / "serve.log", "ab")
        self.proc = subprocess.Popen([str(BIN / "workflow"), "serve"], env=self.env, stdout=log, stderr=log,
                                     cwd=ROOT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            assert self.proc.poll() is None, (self.data_dir / "serve.log").read_text()
            time.sleep(0.2)
        raise AssertionError("workflow serve did not answer /healthz within 30 s")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def server(tmp_path, test_images) -> Iterator[Server]:
    network = f"workflow-e2e-{tmp_path.name[-8:]}"
    srv = Server(tmp_path / "data", network)
    srv.data_dir.mkdir()
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()
        ids = subprocess.run(["docker", "ps", "-aq", "--filter", f"network={network}"], capture_output=True,
                             text=True).stdout.split()
        if ids:
            subprocess.run(["docker", "rm", "-f", *ids], capture_output=True)
        subprocess.run(["docker", "network", "rm", network], capture_output=True)


@pytest.fixture(scope="session")
def test_images() -> None:
    subprocess.run(["bash", str(ROOT / "scripts" / "build-test-images.sh")], check=True)


@pytest.fixture
def deis(tmp_path):
    """Runs the installed `deis` binary with its own HOME; returns (exit code, stdout, stderr)."""
    home = tmp_path / "home"
    home.mkdir()
    workdir = tmp_path / "work"
    workdir.mkdir()
    exe = shutil.which("deis", path=str(BIN)) or str(BIN / "deis")

    def run(*args: str, ok: bool = True) -> subprocess.CompletedProcess:
        env = {**os.environ, "HOME": str(home)}
        env.pop("DEIS_PROFILE", None)
        result = subprocess.run([exe, *args], env=env, cwd=workdir, capture_output=True, text=True, timeout=300)
        if ok:
            assert result.returncode == 0, f"deis {' '.join(args)}: {result.stdout}{result.stderr}"
        return result

    return run


def engine_containers(network: str, app: str) -> list[str]:
    out = subprocess.run(["docker", "ps", "-q", "--filter", f"network={network}", "--filter",
                          f"label=deis.app={app}"], capture_output=True, text=True, check=True).stdout
    return out.split()
