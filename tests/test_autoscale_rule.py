"""The autoscaling rule (domain/autoscale.py), without engine or clock: the HPA arithmetic and its bounds."""

from __future__ import annotations

import pytest

from workflow.domain.autoscale import (
    CpuSample,
    Rule,
    cores_used,
    decide,
    outside_rules,
    recommend,
    rule_of,
    rule_problem,
    utilisation,
)

RULE = Rule(min=1, max=3, cpu_percent=20)


class TestUsage:
    def test_cores_between_two_samples(self):
        before, after = CpuSample(usage_ns=1_000, read_ns=10**9), CpuSample(usage_ns=10**8 + 1_000, read_ns=2 * 10**9)
        assert cores_used(before, after) == pytest.approx(0.1)

    @pytest.mark.parametrize("after", [CpuSample(5_000, 10**9), CpuSample(500, 2 * 10**9)])
    def test_no_time_or_a_counter_that_went_back_is_no_measurement(self, after):
        assert cores_used(CpuSample(1_000, 10**9), after) is None

    def test_percent_of_the_limit(self):
        assert utilisation([0.1, 0.05], limit_cores=0.1) == pytest.approx(75.0)

    def test_percent_of_one_core_without_a_limit(self):
        assert utilisation([0.5, 1.5], limit_cores=None) == pytest.approx(100.0)


class TestRecommend:
    def test_hpa_formula(self):  # ceil(current × usage / target)
        assert recommend(2, 92, Rule(1, 10, 50)) == 4
        assert recommend(3, 30, Rule(1, 10, 50)) == 2
        assert recommend(1, 100, RULE) == 5

    @pytest.mark.parametrize("usage", [45.0, 50.0, 55.0])
    def test_within_ten_percent_nothing_changes(self, usage):
        assert recommend(4, usage, Rule(1, 10, 50)) == 4

    def test_just_outside_the_tolerance(self):
        assert recommend(4, 56, Rule(1, 10, 50)) == 5
        assert recommend(4, 44, Rule(1, 10, 50)) == 4  # ceil(3.52): scale-down rounds up, as HPA does

    def test_exact_halving_is_not_rounded_up(self):
        assert recommend(2, 25, Rule(1, 10, 50)) == 1

    def test_idle_still_recommends_one(self):
        assert recommend(3, 0.0, RULE) == 1


class TestDecide:
    def test_scale_up_is_immediate_but_at_most_doubles(self):
        assert decide(1, 5, [1], RULE) == 2
        assert decide(2, 5, [1, 5], RULE) == 3  # and never beyond max
        assert decide(2, 3, [], Rule(1, 10, 20)) == 3

    def test_scale_down_takes_the_highest_recommendation_in_the_window(self):
        assert decide(3, 1, [3, 2], RULE) == 3
        assert decide(3, 1, [2, 1], RULE) == 2
        assert decide(3, 1, [], RULE) == 1

    def test_window_cannot_push_a_scale_down_up(self):
        assert decide(2, 1, [5], Rule(1, 10, 20)) == 2

    def test_never_below_min(self):
        assert decide(3, 1, [], Rule(2, 5, 20)) == 2

    def test_a_count_outside_the_rule_is_brought_into_it(self):
        assert decide(5, 5, [], RULE) == 3
        assert decide(1, 1, [], Rule(2, 4, 20)) == 2

    def test_a_type_scaled_to_zero_is_left_alone(self):
        assert decide(0, 4, [], RULE) == 0


class TestRuleBounds:
    @pytest.mark.parametrize("rule, problem", [
        ({"min": 0, "max": 3, "cpu_percent": 20}, "0 is less than the minimum of 1"),
        ({"min": 1, "max": 3, "cpu_percent": 0}, "0 is less than the minimum of 1"),
        ({"min": 4, "max": 3, "cpu_percent": 20}, "max 3 is less than min 4"),
        ({"min": 1, "max": 101, "cpu_percent": 20}, "max 101 is more than the per-app container quota of 100"),
        ({"min": 1, "max": 3, "cpu_percent": 1001}, "1001 is greater than the maximum of 1000"),
    ])
    def test_refused(self, rule, problem):
        assert rule_problem(rule, quota=100) == problem

    def test_accepted(self):
        assert rule_problem({"min": 1, "max": 100, "cpu_percent": 1000}, quota=100) is None

    @pytest.mark.parametrize("stored", [
        None, "x", {"min": 1, "max": 3}, {"min": 0, "max": 3, "cpu_percent": 5},
        {"min": 3, "max": 1, "cpu_percent": 5}, {"min": True, "max": 3, "cpu_percent": 5},
    ])
    def test_stored_values_that_are_not_rules_do_nothing(self, stored):
        assert rule_of(stored) is None

    def test_manual_scale_must_stay_inside_the_rule(self):
        rules = {"cmd": {"min": 1, "max": 3, "cpu_percent": 20}}
        assert outside_rules(rules, {"cmd": 3, "worker": 9}) is None
        assert outside_rules(rules, {"cmd": 4}).startswith("cmd=4 is outside the autoscale rule of cmd (min 1, max 3)")
        assert outside_rules(rules, {"cmd": 0}) is not None
