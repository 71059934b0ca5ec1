"""properties/decentralized/common.py: estimates over seeds of one schedule are only of that schedule."""

from __future__ import annotations

import pytest

from asyncproof.properties.decentralized.common import NotThisSchedule, replay_with_seed, t_interval
from asyncproof.reference.schedule import run_algorithm


def test_a_value_independent_schedule_replays_under_another_seed_with_other_noise():
    res = run_algorithm("general-sgd", problem={"name": "quadratic", "params": {"sigma": 1.0, "m": 8}},
                        params={"n": 3, "T": 3}, adversary="random:seed=4")
    other = replay_with_seed(res.schedule, 11)
    assert other.events == res.trace.events and other.digest != res.trace.digest
    assert replay_with_seed(res.schedule, res.schedule.seed).digest == res.trace.digest


def test_a_schedule_whose_events_depend_on_the_seed_is_refused():
    # ASGD draws its recipients from the seed: under another seed the recorded sends are not enabled
    res = run_algorithm("keuper-pfreundt-asgd", params={"n": 4, "T": 3, "k": 1}, adversary="random:seed=2")
    with pytest.raises(NotThisSchedule, match="the control flow depends on the values"):
        for seed in range(1, 6):
            replay_with_seed(res.schedule, seed)


def test_the_interval_is_a_point_without_spread_and_widens_with_it():
    assert t_interval([2.0]) == (2.0, 2.0, 2.0) and t_interval([3.0, 3.0, 3.0]) == (3.0, 3.0, 3.0)
    mean, lo, hi = t_interval([1.0, 2.0, 3.0, 4.0])
    assert lo < mean == 2.5 < hi and t_interval([1.0, 2.0, 3.0, 4.0], 0.99)[1] < lo
