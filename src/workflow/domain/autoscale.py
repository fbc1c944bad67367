"""The autoscaling rule (`deis autoscale:set TYPE --min --max` with `--cpu-percent`, `--rps-per-container` and/or
`--p95-ms`), pure: no await, no clock.

Kubernetes' HorizontalPodAutoscaler algorithm, which Deis Workflow turned the rule into:
- utilisation = CPU used / CPU limit (`limits:set --cpu`), else / one core, averaged over the type's containers;
- desired = ceil(current × utilisation / target), unchanged within a ±10 % tolerance of the target;
- scale-up is immediate but at most ×2 per step; scale-down waits a stabilisation window: the highest
  recommendation made within the window wins, so a short lull does not drop replicas that a spike needs;
- the result is clamped to [min, max]; a type scaled to 0 is left alone (HPA: scaling disabled).

Beyond CPU, two metrics from the router's per-app counters, for the routable type only (the one receiving
requests): requests per second per container over the interval, and the 95th percentile latency over the
interval (from the histogram's deltas, interpolated within its bucket as Prometheus' histogram_quantile does).
Each metric set recommends a count by the same rule; the highest recommendation wins, as with HPA's metrics.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

TOLERANCE = 0.1
MAX_UP_FACTOR = 2
MAX_CPU_PERCENT = 1000  # a target above one core (10 cores) is not a rule anyone means
MAX_RPS_PER_CONTAINER = 1_000_000
MAX_P95_MS = 60_000  # nginx gives up on an upstream long before a minute
BOUNDS = {"min": None, "max": None, "cpu_percent": MAX_CPU_PERCENT, "rps_per_container": MAX_RPS_PER_CONTAINER,
          "p95_ms": MAX_P95_MS}
KEYS = tuple(BOUNDS)
METRICS = ("cpu_percent", "rps_per_container", "p95_ms")  # at least one per rule
REQUEST_METRICS = ("rps_per_container", "p95_ms")  # only for the routable type


@dataclass(frozen=True)
class Rule:
    min: int
    max: int
    cpu_percent: int | None = None
    rps_per_container: int | None = None
    p95_ms: int | None = None

    @property
    def metrics(self) -> int:
        """How many metrics the rule sets."""
        return sum(value is not None for value in (self.cpu_percent, self.rps_per_container, self.p95_ms))

    @property
    def on_requests(self) -> bool:
        return self.rps_per_container is not None or self.p95_ms is not None


@dataclass(frozen=True)
class CpuSample:
    """A container's cumulative CPU time and when the engine read it (both in nanoseconds)."""

    usage_ns: int
    read_ns: int


def rule_problem(rule: dict, quota: int) -> str | None:
    """Why a well-typed rule (`min`, `max` and at least one metric, integers) cannot act (jsonschema-style
    text), else None."""
    present = [key for key in KEYS if key in rule]
    for key in present:
        if rule[key] < 1:
            return f"{rule[key]!r} is less than the minimum of 1"
    if rule["max"] < rule["min"]:
        return f"max {rule['max']} is less than min {rule['min']}"
    if rule["max"] > quota:
        return f"max {rule['max']} is more than the per-app container quota of {quota}"
    for key in present:
        if BOUNDS[key] is not None and rule[key] > BOUNDS[key]:
            return f"{rule[key]!r} is greater than the maximum of {BOUNDS[key]}"
    return None


def _count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def rule_of(value: object) -> Rule | None:
    """A stored rule as a Rule; None for anything that is not one (rules stored before they were bounded)."""
    if not isinstance(value, dict) or not (_count(value.get("min")) and _count(value.get("max"))):
        return None
    metrics = {key: value.get(key) for key in METRICS}
    if not any(metrics.values()) or not all(v is None or _count(v) for v in metrics.values()):
        return None
    rule = Rule(value["min"], value["max"], **metrics)
    return rule if rule.min <= rule.max else None


def cores_used(before: CpuSample, after: CpuSample) -> float | None:
    """Average cores used between two samples; None when they do not span time (same read, a restart)."""
    elapsed = after.read_ns - before.read_ns
    used = after.usage_ns - before.usage_ns
    if elapsed <= 0 or used < 0:
        return None
    return used / elapsed


def utilisation(cores: list[float], limit_cores: float | None) -> float:
    """Mean usage in percent of the CPU limit (of one core without a limit)."""
    per_container = limit_cores if limit_cores and limit_cores > 0 else 1.0
    return 100.0 * sum(cores) / (per_container * len(cores))


def recommend(current: int, usage_percent: float, rule: Rule) -> int:
    """The HPA rule before stabilisation: the count that brings CPU usage to the target (tolerance applied)."""
    return recommend_ratio(current, usage_percent / rule.cpu_percent)


def recommend_ratio(current: int, ratio: float) -> int:
    """The HPA rule for any metric: `ratio` is the measured value over its target."""
    if abs(ratio - 1.0) <= TOLERANCE + 1e-9:  # 55 / 50 is 1.1000000000000001
        return current
    return max(1, math.ceil(current * ratio - 1e-9))  # 1e-9: 2 × 0.5 must stay 1, not become 2 by rounding


def rate_per_container(requests_before: int, requests_after: int, seconds: float, containers: int) -> float | None:
    """Requests per second per container between two readings of the router's counter; None when they do not
    span time, nothing serves, or the counter went back (the router restarted: its counters start at 0)."""
    delta = requests_after - requests_before
    if seconds <= 0 or containers <= 0 or delta < 0:
        return None
    return delta / seconds / containers


def latency_quantile(before: list[tuple[float, int]], after: list[tuple[float, int]],
                     fraction: float = 0.95) -> float | None:
    """The `fraction` quantile (ms) of the requests answered between two readings of a cumulative latency
    histogram (`[(upper bound ms, count)]`, the last bound `inf`), interpolated linearly within its bucket
    (Prometheus' histogram_quantile; in the open last bucket: the highest finite bound). None when no request
    was answered in between or the histogram went back (a router restart)."""
    old = dict(before)
    deltas = [(bound, count - old.get(bound, 0)) for bound, count in after]
    if any(count < 0 for _, count in deltas):
        return None
    total = sum(count for _, count in deltas)
    if total == 0:
        return None
    rank = fraction * total
    seen, lower = 0, 0.0
    for bound, count in deltas:
        if count and seen + count >= rank:
            if math.isinf(bound):
                return lower
            return lower + (bound - lower) * (rank - seen) / count
        seen += count
        if not math.isinf(bound):
            lower = bound
    return lower


def decide(current: int, recommendation: int, window: list[int], rule: Rule) -> int:
    """The count to run now. `window`: the recommendations made within the stabilisation window (this one
    included by the caller or not: it is added here)."""
    if current == 0:
        return 0
    if current < rule.min or current > rule.max:  # a rule set on a count outside it: into the range
        return min(max(current, rule.min), rule.max)
    if recommendation > current:
        wanted = min(recommendation, current * MAX_UP_FACTOR)
    else:
        wanted = min(current, max([recommendation, *window]))
    return min(max(wanted, rule.min), rule.max)


def outside_rules(rules: dict, wanted: dict[str, int]) -> str | None:
    """Why a manual scale is refused: a count outside its type's rule (`deis scale` with a rule in force)."""
    for proc_type, count in sorted(wanted.items()):
        rule = rule_of(rules.get(proc_type))
        if rule is not None and not rule.min <= count <= rule.max:
            return (f"{proc_type}={count} is outside the autoscale rule of {proc_type} (min {rule.min}, "
                    f"max {rule.max}): scale within it, change it with `deis autoscale:set {proc_type}` or "
                    f"remove it with `deis autoscale:unset {proc_type}`")
    return None
