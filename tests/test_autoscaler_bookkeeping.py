"""The autoscaler's memory between passes (services/autoscaler.py `_decide`), without engine or database:
which recommendations the stabilisation window holds, and what a count changed from outside does to it."""

from __future__ import annotations

from types import SimpleNamespace

from workflow.domain.autoscale import Rule
from workflow.scheduler.base import Container
from workflow.services.autoscaler import Autoscaler, _Target

RULE = Rule(min=1, max=10, cpu_percent=50)
WINDOW = 300.0


def target(current: int, ids: list[str]) -> _Target:
    containers = [Container(id=i, name=i, app="a", proc_type="cmd", version=2, state="up", started=None,
                            address=None) for i in ids]
    return _Target("a", "cmd", RULE, current, 0.1, containers)


def decide(scaler: Autoscaler, current: int, usage_cores: float, now: float) -> int | None:
    ids = [f"c{n}" for n in range(current)]
    change = scaler._decide(target(current, ids), dict.fromkeys(ids, usage_cores), now, WINDOW)
    return None if change is None else change[1]


def test_up_at_once_down_only_after_the_window():
    scaler = Autoscaler(SimpleNamespace())
    assert decide(scaler, 2, 0.1, now=0.0) == 4  # 100 % of a 50 % target: ×2
    scaler._seen[("a", "cmd")] = 4  # the step was applied
    assert decide(scaler, 4, 0.01, now=15.0) is None  # idle, but 4 (and the 4 wanted at t=0) stand
    assert decide(scaler, 4, 0.01, now=299.0) is None
    assert decide(scaler, 4, 0.01, now=316.0) == 1  # every recommendation in the window is now 1


def test_a_count_changed_from_outside_starts_a_new_window():
    scaler = Autoscaler(SimpleNamespace())
    assert decide(scaler, 2, 0.01, now=0.0) is None  # first sight: the count stands for a window
    assert decide(scaler, 2, 0.01, now=301.0) == 1
    # Not applied (a user scaled to 3 meanwhile): 3 is a new fact, with a window of its own.
    assert decide(scaler, 3, 0.01, now=316.0) is None
    assert decide(scaler, 3, 0.01, now=600.0) is None
    assert decide(scaler, 3, 0.01, now=617.0) == 1


def test_no_measurement_changes_nothing_inside_the_rule():
    scaler = Autoscaler(SimpleNamespace())
    change = scaler._decide(target(3, ["x"]), {}, 0.0, WINDOW)
    assert change is None
    assert scaler.observations[("a", "cmd")].cpu_percent is None
