"""`python -m bench` runs every benchmark; `python -m bench deploy router` runs the ones named.

BENCH_RUNS (default 5) sets how many times each measurement is repeated.
"""

from __future__ import annotations

import importlib
import sys
import time

from .common import machine

BENCHMARKS = ("deploy", "digest", "scale", "router", "routercost", "routes", "api", "host", "autoscale", "cli",
              "events", "swarm")


def main(argv: list[str]) -> int:
    chosen = argv or list(BENCHMARKS)
    unknown = [name for name in chosen if name not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}", file=sys.stderr)
        return 2
    print(f"# workflow benchmarks — {machine()}", flush=True)
    ratios: dict[str, float] = {}
    t0 = time.monotonic()
    for name in chosen:
        started = time.monotonic()
        module = importlib.import_module(f"bench.{name}")
        ratios.update(module.run() or {})
        print(f"   ({name}: {time.monotonic() - started:.0f} s)\n", flush=True)
    print(f"# summary (ours/raw, medians) after {time.monotonic() - t0:.0f} s")
    for key, value in ratios.items():
        suffix = "" if " ms" in key or key.startswith("api ") or key.endswith("(count)") else "×"
        print(f"  {key:<45} {value:8.2f}{suffix}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
