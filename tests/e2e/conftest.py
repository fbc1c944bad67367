"""A real `workflow serve` process (nginx on a free port, SQLite in a temp dir) and the installed `deis`."""

from __future__ import annotations

import contextlib
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
    def __init__(self, data_dir: Path, network: str, **env: str):
        self.data_dir = data_dir
        self.port = free_port()
        self.env = {**os.environ, "WORKFLOW_DATA_DIR": str(data_dir), "WORKFLOW_PORT": str(self.port),
                    "WORKFLOW_TLS_PORT": str(free_port()), "WORKFLOW_DOCKER_NETWORK": network,
                    "WORKFLOW_DEPLOY_TIMEOUT": "20", "WORKFLOW_STOP_GRACE_SECONDS": "2", **env}
        self.proc: subprocess.Popen | None = None
        self.url = f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        subprocess.run([str(BIN / "workflow"), "db", "upgrade"], env=self.env, check=True, cwd=ROOT)
        log = open(self.data_dir / "serve.log", "ab")
        # Its own session: `kill()` can take out the whole process group, as a crash would, without
        # touching pytest. (nginx runs in a session of its own and survives that, as it would a crash.)
        self.proc = subprocess.Popen([str(BIN / "workflow"), "serve"], env=self.env, stdout=log, stderr=log,
                                     cwd=ROOT, start_new_session=True)
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

    def kill(self) -> None:
        """SIGKILL the controller's process group: no shutdown code runs (a crash, an OOM kill)."""
        assert self.proc is not None and self.proc.poll() is None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def nginx_pid(self) -> int | None:
        """The pid of the nginx master this server's data dir records, when it still runs."""
        try:
            pid = int((self.data_dir / "nginx" / "nginx.pid").read_text().strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (OSError, ValueError):
            return None
        # The pid may have been reused by now: only our master counts.
        return pid if b"nginx: master" in cmdline and str(self.data_dir.resolve()).encode() in cmdline else None

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        # A master left behind by a killed controller (its own process group, see start()).
        pid = self.nginx_pid()
        if pid is not None:
            with contextlib.suppress(OSError):
                os.killpg(pid, signal.SIGKILL)


@contextlib.contextmanager
def running_server(tmp_path: Path, **env: str) -> Iterator[Server]:
    """A started `Server` with its own network (`env`: more `WORKFLOW_*` settings); everything it ran is
    removed afterwards."""
    network = f"workflow-e2e-{tmp_path.name[-8:]}"
    srv = Server(tmp_path / "data", network, **env)
    srv.data_dir.mkdir()
    try:
        srv.start()
        yield srv
    finally:
        srv.stop()
        ids = subprocess.run(["docker", "ps", "-aq", "--filter", f"network={network}"], capture_output=True,
                             text=True).stdout.split()
        if ids:
            subprocess.run(["docker", "rm", "-f", *ids], capture_output=True)
        subprocess.run(["docker", "network", "rm", network], capture_output=True)


@pytest.fixture
def server(tmp_path, test_images) -> Iterator[Server]:
    with running_server(tmp_path) as srv:
        yield srv


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

    env = {**os.environ, "HOME": str(home)}
    env.pop("DEIS_PROFILE", None)

    def run(*args: str, ok: bool = True) -> subprocess.CompletedProcess:
        # stdin not a terminal, as in a CI job: a command that would prompt must say what flag it needs.
        result = subprocess.run([exe, *args], env=env, cwd=workdir, capture_output=True, text=True, timeout=300,
                                stdin=subprocess.DEVNULL)
        if ok:
            assert result.returncode == 0, f"deis {' '.join(args)}: {result.stdout}{result.stderr}"
        return result

    def popen(*args: str) -> subprocess.Popen:
        """`deis ...` in the background (output captured), for commands a test interrupts."""
        return subprocess.Popen([exe, *args], env=env, cwd=workdir, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT)

    run.popen = popen
    run.home = home
    return run


def engine_containers(network: str, app: str) -> list[str]:
    out = subprocess.run(["docker", "ps", "-q", "--filter", f"network={network}", "--filter",
                          f"label=deis.app={app}"], capture_output=True, text=True, check=True).stdout
    return out.split()


def pytest_collection_modifyitems(config, items) -> None:
    """`disruptive` tests restart the Docker engine, which stops every container on the machine (other test
    runs' too): they run only when asked for by name (`-m disruptive`, as `make test-disruptive` does)."""
    if "disruptive" in config.getoption("markexpr", "").replace("not disruptive", ""):
        return
    skip = pytest.mark.skip(reason="restarts the Docker engine: run with `-m disruptive`")
    for item in items:
        if item.get_closest_marker("disruptive"):
            item.add_marker(skip)
