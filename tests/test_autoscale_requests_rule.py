"""Request-rate autoscaling rules without engine or router: the rate and p95 arithmetic over counter deltas,
the rule's bounds, and the highest recommendation winning (domain/autoscale.py, services/autoscaler.py)."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest

from workflow.domain.autoscale import Rule, latency_quantile, rate_per_container, recommend_ratio, rule_of, rule_problem
from workflow.scheduler.base import Container
from workflow.services.autoscaler import Autoscaler, _Target

INF = math.inf
BOUNDS = [5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, INF]


def histogram(*counts: int) -> list[tuple[float, int]]:
    return list(zip(BOUNDS, [*counts, *[0] * (len(BOUNDS) - len(counts))], strict=True))


class TestRate:
    def test_requests_per_second_per_container(self):
        assert rate_per_container(100, 1000, 15.0, 3) == pytest.approx(20.0)

    @pytest.mark.parametrize("before, after, seconds, containers", [
        (1000, 10, 15.0, 3),  # the router restarted: its counters start again at 0
        (10, 20, 0.0, 3),
        (10, 20, 15.0, 0),
    ])
    def test_no_measurement(self, before, after, seconds, containers):
        assert rate_per_container(before, after, seconds, containers) is None


class TestLatency:
    def test_p95_of_the_interval_only(self):
        before = histogram(0, 0, 0, 0, 0, 0, 1000)  # a slow past does not count
        after = histogram(0, 0, 0, 100, 0, 0, 1000)  # 100 requests between 25 and 50 ms
        assert latency_quantile(before, after) == pytest.approx(25 + 25 * 0.95)

    def test_interpolated_within_the_bucket(self):
        # 90 fast (≤ 5 ms), 10 in (100, 250]: rank 95 is the 5th of the 10 → 100 + 150 × 5/10.
        assert latency_quantile(histogram(), histogram(90, 0, 0, 0, 0, 10)) == pytest.approx(175.0)

    def test_the_open_bucket_reads_as_the_highest_bound(self):
        assert latency_quantile(histogram(), histogram(0, 0, 0, 0, 0, 0, 0, 50)) == 500.0

    def test_no_request_or_a_restart_is_no_measurement(self):
        assert latency_quantile(histogram(3), histogram(3)) is None
        assert latency_quantile(histogram(9, 9), histogram(1)) is None


class TestRecommendRatio:
    def test_hpa_formula_and_tolerance(self):
        assert recommend_ratio(1, 45 / 20) == 3
        assert recommend_ratio(4, 1.1) == 4
        assert recommend_ratio(3, 0.0) == 1


class TestRuleBounds:
    @pytest.mark.parametrize("rule, problem", [
        ({"min": 1, "max": 3, "rps_per_container": 0}, "0 is less than the minimum of 1"),
        ({"min": 1, "max": 3, "rps_per_container": 1_000_001}, "1000001 is greater than the maximum of 1000000"),
        ({"min": 1, "max": 3, "p95_ms": 60_001}, "60001 is greater than the maximum of 60000"),
        ({"min": 1, "max": 101, "p95_ms": 200}, "max 101 is more than the per-app container quota of 100"),
    ])
    def test_refused(self, rule, problem):
        assert rule_problem(rule, quota=100) == problem

    def test_any_metric_or_several(self):
        assert rule_problem({"min": 1, "max": 3, "p95_ms": 60_000}, quota=100) is None
        assert rule_of({"min": 1, "max": 3, "rps_per_container": 20}) == Rule(1, 3, rps_per_container=20)
        assert rule_of({"min": 1, "max": 3, "cpu_percent": 50, "p95_ms": 200}) == Rule(1, 3, 50, p95_ms=200)

    @pytest.mark.parametrize("stored", [
        {"min": 1, "max": 3}, {"min": 1, "max": 3, "p95_ms": 0}, {"min": 1, "max": 3, "rps_per_container": "9"},
        {"min": 1, "max": 3, "cpu_percent": None, "p95_ms": True},
    ])
    def test_stored_values_that_are_not_rules_do_nothing(self, stored):
        assert rule_of(stored) is None


def target(rule: Rule, current: int, receives_requests: bool = True) -> _Target:
    containers = [Container(id=f"c{n}", name=f"c{n}", app="a", proc_type="web", version=2, state="up",
                            started=None, address=None) for n in range(current)]
    return _Target("a", "web", rule, current, 0.1, containers, receives_requests=receives_requests)


class TestDecide:
    def test_rps_scales_up_with_its_reason(self):
        scaler = Autoscaler(SimpleNamespace())
        change = scaler._decide(target(Rule(1, 5, rps_per_container=20), 1), {}, 0.0, 300.0, (45.0, 3.0))
        assert change is not None and change[1:] == (2, "45 requests/s per container, target 20")
        seen = scaler.observations[("a", "web")]
        assert (seen.rps_per_container, seen.p95_ms, seen.cpu_percent) == (45.0, 3.0, None)

    def test_the_highest_recommendation_wins(self):
        scaler = Autoscaler(SimpleNamespace())
        rule = Rule(1, 10, cpu_percent=50, rps_per_container=100, p95_ms=200)
        # CPU at target, rps low (→ 1), p95 at 3× its target (→ 6, ×2 at most: 4).
        change = scaler._decide(target(rule, 2), {"c0": 0.025, "c1": 0.025}, 0.0, 300.0, (20.0, 600.0))
        assert change is not None and change[1:] == (4, "p95 600 ms, target 200 ms")

    def test_rate_is_shared_by_the_running_containers(self):
        scaler = Autoscaler(SimpleNamespace())
        change = scaler._decide(target(Rule(1, 10, rps_per_container=10), 4), {}, 0.0, 300.0, (80.0, None))
        assert change is not None and change[1:] == (8, "20 requests/s per container, target 10")
        assert scaler.observations[("a", "web")].rps_per_container == 20.0

    def test_a_metric_not_measured_never_lets_the_others_scale_down(self):
        scaler = Autoscaler(SimpleNamespace())
        rule, key = Rule(1, 10, cpu_percent=50, rps_per_container=10), ("a", "web")
        idle = {"c0": 0.001, "c1": 0.001}
        assert scaler._decide(target(rule, 2), idle, 0.0, 300.0, None) is None
        scaler._seen[key] = 2
        assert scaler._decide(target(rule, 2), idle, 400.0, 300.0, None) is None  # the router unread: hold
        change = scaler._decide(target(rule, 2), idle, 800.0, 300.0, (0.0, None))
        assert change is not None and change[1] == 1  # both measured, both low: down
        busy = {"c0": 0.1, "c1": 0.1}
        assert scaler._decide(target(rule, 2), busy, 900.0, 300.0, None)[1] == 4  # up on what was measured

    def test_no_counters_yet_changes_nothing(self):
        scaler = Autoscaler(SimpleNamespace())
        assert scaler._decide(target(Rule(1, 3, rps_per_container=5), 2), {}, 0.0, 300.0, None) is None
        assert scaler.observations[("a", "web")].rps_per_container is None

    def test_no_requests_asks_p95_for_the_least(self):
        scaler = Autoscaler(SimpleNamespace())
        key = ("a", "web")
        assert scaler._decide(target(Rule(1, 5, p95_ms=100), 3), {}, 0.0, 300.0, (0.0, None)) is None  # window
        scaler._seen[key] = 3
        change = scaler._decide(target(Rule(1, 5, p95_ms=100), 3), {}, 301.0, 300.0, (0.0, None))
        assert change is not None and change[1:] == (1, "no requests, p95 target 100 ms")


class TestCounters:
    """`_requests`: the router's cumulative counters → (requests/s, p95) per app since the previous pass."""

    @staticmethod
    def scaler(readings: list) -> Autoscaler:
        async def counters():
            reading = readings.pop(0)
            if isinstance(reading, Exception):
                raise reading
            return reading

        return Autoscaler(SimpleNamespace(routes=SimpleNamespace(counters=counters)))

    async def test_deltas_between_passes_and_a_router_that_restarted(self):
        from workflow.router import AppCounters, RouterError

        scaler = self.scaler([
            {"a": AppCounters(requests=100, latency=histogram(100))},
            {"a": AppCounters(requests=600, latency=histogram(100, 0, 500))},
            RouterError("The router is not running"),
            {"a": AppCounters(requests=5, latency=histogram(5))},  # restarted: counters back at 0
            {"a": AppCounters(requests=105, latency=histogram(105))},
        ])
        assert await scaler._requests({"a"}, now=100.0) == {}  # first reading: nothing to compare with
        rate, p95 = (await scaler._requests({"a"}, now=110.0))["a"]
        assert rate == pytest.approx(50.0) and p95 == pytest.approx(10 + 15 * 0.95)
        assert await scaler._requests({"a"}, now=120.0) == {}  # the router is down: the request rules wait
        assert await scaler._requests({"a"}, now=130.0) == {}  # counters went back: measured from the next pass
        rate, p95 = (await scaler._requests({"a"}, now=140.0))["a"]
        assert rate == pytest.approx(10.0) and p95 == pytest.approx(5 * 0.95)
