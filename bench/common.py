"""Shared pieces of the benchmarks: a real `workflow serve` process, timing statistics, docker helpers.

Every benchmark runs the platform as a subprocess with its own temp data dir, free ports and its own Docker
network (`workflow-bench-<pid>`), and removes only the containers on that network afterwards.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
REGISTRY = "127.0.0.1:5000"
# A copy of test/web with a layer of its own, so that `docker rmi` makes a pull really cold without
# touching test/web (which the test suites of other sessions use).
BENCH_IMAGE = "bench/web:latest"
RUNS = int(os.environ.get("BENCH_RUNS", "5"))
POLL_S = 0.01


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sh(*args: str, check: bool = True, timeout: float = 300) -> str:
    result = subprocess.run(list(args), capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)}: {result.stdout}{result.stderr}")
    return result.stdout


# --- statistics and printing ---------------------------------------------------------------------------


def summary(values: Sequence[float]) -> tuple[float, float, float]:
    return statistics.median(values), min(values), max(values)


def fmt_times(values: Sequence[float], unit: str = "s") -> str:
    med, lo, hi = summary(values)
    if unit == "ms":
        return f"median {med * 1000:8.1f} ms  (min {lo * 1000:.1f}, max {hi * 1000:.1f}, n={len(values)})"
    return f"median {med:7.3f} s  (min {lo:.3f}, max {hi:.3f}, n={len(values)})"


def report(name: str, ours: Sequence[float], raw: Sequence[float], target: float | None = None,
           unit: str = "s", higher_is_better: bool = False) -> float:
    """Print ours, raw and the ratio of medians (ours/raw); return the ratio."""
    ratio = statistics.median(ours) / statistics.median(raw)
    print(f"  {name}")
    print(f"    ours  {fmt_times(ours, unit)}")
    print(f"    raw   {fmt_times(raw, unit)}")
    verdict = ""
    if target is not None:
        ok = ratio >= target if higher_is_better else ratio <= target
        verdict = f"  target {'≥' if higher_is_better else '≤'} {target:.2f}×: {'met' if ok else 'MISSED'}"
    print(f"    ratio ours/raw {ratio:.2f}×{verdict}", flush=True)
    return ratio


def percentile(values: Sequence[float], p: float) -> float:
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def machine() -> str:
    docker = sh("docker", "version", "--format", "{{.Server.Version}}", check=False).strip()
    return (f"{time.strftime('%Y-%m-%d %H:%M %Z')}; nproc {os.cpu_count()}; kernel {os.uname().release}; "
            f"docker {docker}; nginx {_nginx_version()}")


def _nginx_version() -> str:
    out = subprocess.run(["nginx", "-v"], capture_output=True, text=True)
    return (out.stderr or out.stdout).strip().rpartition("/")[2]


# --- docker ---------------------------------------------------------------------------------------------


def ensure_bench_image() -> str:
    """Build bench/web (test/web's content under a fresh first layer) and push it to the local registry."""
    ctx = Path(tempfile.mkdtemp(prefix="bench-image-"))
    try:
        (ctx / "bench-id").write_text(uuid.uuid4().hex + "\n")
        shutil.copy("/bin/busybox", ctx / "busybox")
        shutil.copytree(ROOT / "tests" / "images" / "www", ctx / "www")
        (ctx / "Dockerfile").write_text(
            "FROM scratch\nCOPY bench-id /bench-id\nCOPY busybox /bin/busybox\n"
            'RUN ["/bin/busybox", "--install", "-s", "/bin"]\nCOPY www /www\nEXPOSE 8080\n'
            'CMD ["httpd", "-f", "-p", "8080", "-h", "/www"]\n')
        env = {**os.environ, "DOCKER_BUILDKIT": "0"}
        subprocess.run(["docker", "build", "-q", "-t", f"{REGISTRY}/{BENCH_IMAGE}", str(ctx)], env=env,
                       check=True, capture_output=True)
        sh("docker", "push", "-q", f"{REGISTRY}/{BENCH_IMAGE}")
        sh("docker", "rmi", f"{REGISTRY}/{BENCH_IMAGE}", check=False)
    finally:
        shutil.rmtree(ctx, ignore_errors=True)
    return BENCH_IMAGE


def local_images(image: str) -> list[str]:
    """Ids of every local image of `image`'s repository, by the mirror's name and by the registry's, tagged or
    not (`name@sha256:…` only, as the platform pulls)."""
    name = image.rpartition(":")[0] if ":" in image.rpartition("/")[2] else image
    ids: set[str] = set()
    for repo in (name, f"{REGISTRY}/{name}"):
        ids.update(sh("docker", "images", "-q", "--no-trunc", repo, check=False).split())
    return sorted(ids)


def remove_image(image: str) -> None:
    """Remove every local copy of `image` (`local_images`), so that the next pull of it is cold. By id: the
    platform pulls by digest, a reference without a tag, which `docker rmi name:tag` left behind — and the
    raw side's "cold" `docker pull` that followed found every layer (RESULTS.md, "Cold deploy")."""
    ids = local_images(image)
    if ids:
        sh("docker", "rmi", "-f", *ids, check=False)


def network_containers(network: str) -> list[str]:
    return sh("docker", "ps", "-aq", "--filter", f"network={network}", check=False).split()


def cleanup_network(network: str) -> None:
    ids = network_containers(network)
    if ids:
        sh("docker", "rm", "-f", *ids, check=False)
    sh("docker", "network", "rm", network, check=False)


def container_ips(ids: Sequence[str], network: str) -> list[str]:
    fmt = "{{(index .NetworkSettings.Networks \"" + network + "\").IPAddress}}"
    return [line.strip() for line in sh("docker", "inspect", "-f", fmt, *ids).splitlines() if line.strip()]


def wait_200(client: httpx.Client, url: str, host: str | None = None, timeout: float = 60) -> None:
    headers = {"Host": host} if host else {}
    deadline = time.monotonic() + timeout
    while True:
        try:
            if client.get(url, headers=headers, timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} ({host}) did not answer 200 within {timeout} s")
        time.sleep(POLL_S)


# --- the platform ---------------------------------------------------------------------------------------


class Platform:
    """A real `workflow serve` (its own data dir, ports and Docker network) and an admin API client."""

    def __init__(self, name: str = "bench", database_url: str | None = None, extra_env: dict | None = None):
        self.tmp = Path(tempfile.mkdtemp(prefix=f"workflow-{name}-"))
        self.data_dir = self.tmp / "data"
        self.data_dir.mkdir()
        self.network = f"workflow-{name}-{os.getpid()}"
        self.port = free_port()
        self.env = {**os.environ, "WORKFLOW_DATA_DIR": str(self.data_dir), "WORKFLOW_PORT": str(self.port),
                    "WORKFLOW_TLS_PORT": str(free_port()), "WORKFLOW_DOCKER_NETWORK": self.network,
                    "WORKFLOW_DEPLOY_TIMEOUT": "60", "WORKFLOW_STOP_GRACE_SECONDS": "2",
                    "WORKFLOW_REGISTRATION_MODE": "enabled", **(extra_env or {})}
        if database_url:
            self.env["WORKFLOW_DATABASE_URL"] = database_url
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        self.api: httpx.Client | None = None
        self.direct: httpx.Client | None = None
        self.start_seconds = 0.0
        self.migrated = False

    @property
    def database_url(self) -> str:
        return self.env.get("WORKFLOW_DATABASE_URL") or f"sqlite+aiosqlite:///{self.data_dir / 'workflow.db'}"

    def migrate(self) -> None:
        subprocess.run([str(BIN / "workflow"), "db", "upgrade"], env=self.env, check=True, cwd=ROOT,
                       capture_output=True)
        self.migrated = True

    def start(self) -> float:
        """Start `workflow serve`; return seconds from process start to the first /healthz 200."""
        if not self.migrated:
            self.migrate()
        log = open(self.data_dir / "serve.log", "ab")
        t0 = time.monotonic()
        self.proc = subprocess.Popen([str(BIN / "workflow"), "serve"], env=self.env, stdout=log, stderr=log,
                                     cwd=ROOT)
        with httpx.Client() as probe:
            deadline = t0 + 60
            while time.monotonic() < deadline:
                try:
                    if probe.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                        self.start_seconds = time.monotonic() - t0
                        return self.start_seconds
                except httpx.HTTPError:
                    pass
                if self.proc.poll() is not None:
                    raise RuntimeError((self.data_dir / "serve.log").read_text()[-3000:])
                time.sleep(0.01)
        raise RuntimeError("workflow serve did not answer /healthz within 60 s")

    def login(self, username: str = "bench", password: str = "bench-password") -> str:
        client = httpx.Client(base_url=self.url, timeout=300)
        r = client.post("/v2/auth/register/", json={"username": username, "password": password,
                                                    "email": f"{username}@example.com"})
        assert r.status_code in (201, 400, 409), r.text
        r = client.post("/v2/auth/login/", json={"username": username, "password": password})
        r.raise_for_status()
        token = r.json()["token"]
        client.headers["Authorization"] = f"token {token}"
        self.api = client
        # the same API on uvicorn's unix socket, bypassing nginx (diagnostics)
        self.direct = httpx.Client(transport=httpx.HTTPTransport(uds=str(self.data_dir / "api.sock")),
                                   base_url="http://localhost", timeout=300,
                                   headers={"Authorization": f"token {token}"})
        return token

    def call(self, method: str, path: str, direct: bool = False, **kw) -> httpx.Response:
        assert self.api is not None
        r = (self.direct if direct else self.api).request(method, path, **kw)
        if r.status_code >= 400:
            raise RuntimeError(f"{method} {path}: {r.status_code} {r.text}")
        return r

    def create_app(self, app: str) -> None:
        self.call("POST", "/v2/apps/", json={"id": app})

    def deploy(self, app: str, image: str) -> None:
        self.call("POST", f"/v2/apps/{app}/builds/", json={"image": image})

    def scale(self, app: str, direct: bool = False, **counts: int) -> None:
        self.call("POST", f"/v2/apps/{app}/scale/", direct=direct, json=counts)

    def destroy(self, app: str) -> None:
        self.call("DELETE", f"/v2/apps/{app}/")
        ids = sh("docker", "ps", "-aq", "--filter", f"network={self.network}", "--filter", f"label=deis.app={app}",
                 check=False).split()
        if ids:
            sh("docker", "rm", "-f", *ids, check=False)

    def app_containers(self, app: str) -> list[str]:
        return sh("docker", "ps", "-q", "--filter", f"network={self.network}", "--filter",
                  f"label=deis.app={app}").split()

    def rss_kb(self) -> int:
        assert self.proc is not None
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def stop(self) -> None:
        if self.api is not None:
            self.api.close()
            self.direct.close()
            self.api = None
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def close(self) -> None:
        self.stop()
        cleanup_network(self.network)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self) -> Platform:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def timed(fn: Callable[[], object]) -> float:
    t0 = time.monotonic()
    fn()
    return time.monotonic() - t0
