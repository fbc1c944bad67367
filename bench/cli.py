"""CLI start-up: whole-process wall time of `deis --version` and `deis ps` against a local platform (one app,
one container), beside `python -c pass` (the interpreter's own floor, what any Python CLI pays). Medians of
CLI_RUNS (default 15) runs each. There is no Go Workflow CLI binary on this machine to compare with (and no
network to fetch one): the issue's 5 ms figure for it is quoted, not measured.

Runs as an installed CLI runs: with its bytecode compiled (pip compiles it at install). PYTHONDONTWRITEBYTECODE
is dropped from the runs' environment and one untimed run of each writes the `__pycache__` first; with it set
(as in some shells here) every run would compile the CLI's sources again.

CLI_BEFORE=<dir>: also time the CLI whose `cli` package is in <dir> (e.g. `git archive <commit> src/cli | tar -x
-C /tmp/before`, then CLI_BEFORE=/tmp/before/src), run by the same `deis` script with PYTHONPATH=<dir>,
alternating with the current one run by run, so that both see the same machine load."""

from __future__ import annotations

import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from .common import Platform, ensure_bench_image

BIN = Path(sys.executable).parent
CLI_RUNS = max(int(os.environ.get("CLI_RUNS", "15")), 10)


class Runs(list):
    """Wall times of runs, with the CPU time (user + system) each process used beside them in `cpu`: on a
    machine others load, the wall time grows with the load; the CPU a run needs much less."""

    def __init__(self) -> None:
        super().__init__()
        self.cpu: list[float] = []


def timed_runs(argv: list[str], env: dict[str, str], other_env: dict[str, str] | None = None
               ) -> tuple[Runs, Runs]:
    """Runs of `argv` under `env`, and (alternating with it) under `other_env` when given; one untimed run of
    each first (it writes the bytecode caches)."""
    runs = (Runs(), Runs())
    for run_env in (env, other_env):
        if run_env is not None:
            subprocess.run(argv, env=run_env, capture_output=True, stdin=subprocess.DEVNULL, check=True)
    for _ in range(CLI_RUNS):
        for which, run_env in enumerate((env, other_env)):
            if run_env is None:
                continue
            used = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            done = subprocess.run(argv, env=run_env, capture_output=True, stdin=subprocess.DEVNULL)
            runs[which].append(time.perf_counter() - t0)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            runs[which].cpu.append(after.ru_utime + after.ru_stime - used.ru_utime - used.ru_stime)
            assert done.returncode == 0, done.stderr.decode()
    return runs


def line(name: str, values: list[float], target: float | None = None) -> float:
    median = statistics.median(values)
    verdict = "" if target is None else f"  target ≤ {target:.2f} s: {'met' if median <= target else 'MISSED'}"
    cpu = getattr(values, "cpu", None)
    used = f"; CPU median {statistics.median(cpu) * 1000:.0f} ms" if cpu else ""
    print(f"  {name:<28} median {median * 1000:6.0f} ms  (min {min(values) * 1000:.0f}, "
          f"max {max(values) * 1000:.0f}, n={len(values)}{used}){verdict}", flush=True)
    return median


def run() -> dict[str, float]:
    print("== CLI start-up: whole process, stdout a pipe", flush=True)
    deis = shutil.which("deis", path=str(BIN)) or str(BIN / "deis")
    home = Path(tempfile.mkdtemp(prefix="workflow-bench-cli-"))
    env = {**os.environ, "HOME": str(home)}
    env.pop("DEIS_PROFILE", None)
    env.pop("PYTHONPATH", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    before_env = {**env, "PYTHONPATH": os.environ["CLI_BEFORE"]} if os.environ.get("CLI_BEFORE") else None
    results: dict[str, float] = {}
    floor = line("python -c pass", timed_runs([sys.executable, "-c", "pass"], env)[0])
    now, before = timed_runs([deis, "--version"], env, before_env)
    version = line("deis --version", now, target=0.10)
    if before:
        results["cli --version before ms"] = line("  before (CLI_BEFORE)", before) * 1000
    with Platform("bench-cli") as platform:
        platform.start()
        subprocess.run([deis, "register", platform.url, "--username=cli", "--password=cli-password",
                        "--email=cli@example.com"], env=env, check=True, capture_output=True)
        subprocess.run([deis, "create", "clibench", "--no-remote"], env=env, check=True, capture_output=True)
        subprocess.run([deis, "pull", ensure_bench_image(), "-a", "clibench"], env=env, check=True,
                       capture_output=True)
        now, before = timed_runs([deis, "ps", "-a", "clibench"], env, before_env)
        ps = line("deis ps -a clibench", now, target=0.15)
        if before:
            results["cli ps before ms"] = line("  before (CLI_BEFORE)", before) * 1000
        # What of that is the controller's: the same request from a warm client (no process, no imports).
        token = json.loads((home / ".deis" / "client.json").read_text())["token"]
        answers = []
        with httpx.Client(base_url=platform.url, headers={"Authorization": f"token {token}"}) as client:
            for _ in range(CLI_RUNS):
                t0 = time.perf_counter()
                client.get("/v2/apps/clibench/pods/", params={"limit": 1000}).raise_for_status()
                answers.append(time.perf_counter() - t0)
        answer = line("  its answer (warm client)", answers)
    shutil.rmtree(home, ignore_errors=True)
    return {"cli --version ms": version * 1000, "cli ps ms": ps * 1000, "cli ps answer ms": answer * 1000,
            "python -c pass ms": floor * 1000, **results}
