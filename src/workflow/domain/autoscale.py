"""The autoscaling rule (`deis autoscale:set TYPE --min --max --cpu-percent`), pure: no await, no clock.

Kubernetes' HorizontalPodAutoscaler algorithm, which Deis Workflow turned the rule into:
- utilisation = CPU used / CPU limit (`limits:set --cpu`), else / one core, averaged over the type's containers;
- desired = ceil(current × utilisation / target), unchanged within a ±10 % tolerance of the target;
- scale-up is immediate but at most ×2 per step; scale-down waits a stabilisation window: the highest
  recommendation made within the window wins, so a short lull does not drop replicas that a spike needs;
- the result is clamped to [min, max]; a type scaled to 0 is left alone (HPA: scaling disabled).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

TOLERANCE = 0.1
MAX_UP_FACTOR = 2
MAX_CPU_PERCENT = 1000  # a target above one core (10 cores) is not a rule anyone means
KEYS = ("min", "max", "cpu_percent")


@dataclass(frozen=True)
class Rule:
    min: int
    max: int
    cpu_percent: int


@dataclass(frozen=True)
class CpuSample:
    """A container's cumulative CPU time and when the engine read it (both in nanoseconds)."""

    usage_ns: int
    read_ns: int


def rule_problem(rule: dict, quota: int) -> str | None:
    """Why a well-typed `{min, max, cpu_percent}` cannot act (jsonschema-style text), else None."""
    for key in KEYS:
        if rule[key] < 1:
            return f"{rule[key]!r} is less than the minimum of 1"
    if rule["max"] < rule["min"]:
        return f"max {rule['max']} is less than min {rule['min']}"
    if rule["max"] > quota:
        return f"max {rule['max']} is more than the per-app container quota of {quota}"
    if rule["cpu_percent"] > MAX_CPU_PERCENT:
        return f"{rule['cpu_percent']!r} is greater than the maximum of {MAX_CPU_PERCENT}"
    return None


def rule_of(value: object) -> Rule | None:
    """A stored rule as a Rule; None for anything that is not one (rules stored before they were bounded)."""
    if not isinstance(value, dict):
        return None
    numbers = [value.get(key) for key in KEYS]
    if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in numbers):
        return None
    rule = Rule(*numbers)
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
    """The HPA rule before stabilisation: the count that brings usage to the target (tolerance applied)."""
    ratio = usage_percent / rule.cpu_percent
    if abs(ratio - 1.0) <= TOLERANCE + 1e-9:  # 55 / 50 is 1.1000000000000001
        return current
    return max(1, math.ceil(current * ratio - 1e-9))  # 1e-9: 2 × 0.5 must stay 1, not become 2 by rounding


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
