"""The shared-memory guarantees of issue 9 on hand-made schedules: lock mode's mutual exclusion,
the racy mode's lost-update accounting, and the barrier of serially-equivalent SGD, each with the
one realistic mistake it must catch.  (tests/test_properties.py runs them under Hypothesis.)"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from asyncproof.properties import get_guarantee, guarantees, search
from asyncproof.properties.shared_memory import cyclades as SE
from asyncproof.properties.shared_memory import hogwild as SM
from asyncproof.reference.adversaries import PrefixThen, RoundRobin
from asyncproof.reference.problems import SparseSVM
from asyncproof.reference.registry import ALGORITHMS, get_algorithm
from asyncproof.reference.schedule import run_algorithm
from asyncproof.reference.shared_memory import hogwild as H
from asyncproof.reference.shared_memory.cyclades import BatchPlan


def one_cell(samples: int) -> SparseSVM:
    """``samples`` samples that all touch coordinate 0 only (every overlap is a conflict)."""
    return SparseSVM(list(range(samples + 1)), [0] * samples, [1.0] * samples, [1.0] * samples, d=1, lam=0.0)


def ram(result) -> np.ndarray:
    return np.asarray([o for os_ in result.trace.outputs.values() for o in os_][-1])


# --- lost updates in racy mode ---------------------------------------------------------------------


def test_three_stores_over_one_load_lose_two_updates_not_three():
    # round-robin: the three cores load x[0], then store in turn; the last store keeps only its own update
    r = run_algorithm("hogwild-racy", problem=one_cell(3), params={"n": 3, "T": 3, "gamma": 0.5})
    assert [e for e in r.trace.events if " load " in e or " store " in e] == [
        "p0 load x[0] k=0", "p1 load x[0] k=1", "p2 load x[0] k=2",
        "p0 store x[0] k=0", "p1 store x[0] k=1", "p2 store x[0] k=2"]
    assert H.lost_updates(r.trace) == [(0, 0), (1, 0)] and r.metrics["lost_updates"] == 2
    assert ram(r)[0] == H.samples(r.trace)[2].g[0]
    assert SM._overwritten_since_load(r.trace) == [(0, 0), (0, 0), (1, 0)]   # update 0 counted twice
    assert SM.check_racy_lost_updates(r) is None and SM._lost_and_overwritten_twice_or_put_back(r)
    miscounted = dataclasses.replace(r, metrics={**r.metrics, "lost_updates": 3})
    assert "lost_updates metric is 3, but 2 updates were lost" in SM.check_racy_lost_updates(miscounted)


def _put_back_schedule() -> list[str]:
    """Core 0 loads, core 1 loads and stores sample 1, takes sample 2 and loads (seeing sample 1's update),
    core 0 stores (overwriting it), core 1 stores sample 2 (putting it back)."""
    job = lambda p, i, k: [f"p{p} start w{p} grad f_0 k={k}", f"finish #{i} w{p} grad f_0 k={k}",
                           f"p{p} receive job #{i} [1 msg]"]
    return (["p0 receive sample [0 msgs]", "p1 receive sample [0 msgs]", "p0 read x[0] k=0", "p1 read x[0] k=1"]
            + job(0, 0, 0) + job(1, 1, 1) + ["p0 load x[0] k=0", "p1 load x[0] k=1", "p1 store x[0] k=1",
                                            "p1 receive sample [0 msgs]", "p1 read x[0] k=2"]
            + job(1, 2, 2) + ["p1 load x[0] k=2", "p0 store x[0] k=0", "p1 store x[0] k=2"])


def test_an_overwritten_update_that_a_later_store_puts_back_is_not_lost():
    events = _put_back_schedule()
    r = run_algorithm("hogwild-racy", problem=one_cell(1), params={"n": 2, "T": 3, "gamma": 0.5},
                      adversary=PrefixThen(events, len(events), RoundRobin()))
    assert r.trace.events[:len(events)] == events
    g = [rec.g[0] for rec in H.samples(r.trace)]
    assert ram(r)[0] == g[1] + g[2]                          # sample 1's update is in the RAM, sample 0's is not
    assert H.lost_updates(r.trace) == [(0, 0)] and r.metrics["lost_updates"] == 1
    assert sorted(SM._overwritten_since_load(r.trace)) == [(0, 0), (1, 0)]
    assert SM.check_racy_lost_updates(r) is None
    broken = run_algorithm("broken-hogwild-racy-counts-overwrites", problem=one_cell(1),
                           params={"n": 2, "T": 3, "gamma": 0.5}, adversary=PrefixThen(events, len(events), RoundRobin()))
    assert "lost_updates metric is 2, but 1 updates were lost: (sample, coordinate) [(0, 0)]" in \
        SM.check_racy_lost_updates(broken)


def test_a_store_that_is_not_its_load_plus_g_is_caught():
    r = run_algorithm("hogwild-racy", problem=one_cell(3), params={"n": 3, "T": 3, "gamma": 0.5})
    obs = list(r.trace.observations)
    i = next(q for q, (_, _, key, value) in enumerate(obs) if key == "mem" and value[0] == "store")
    step, pid, key, (op, k, v, value) = obs[i]
    obs[i] = (step, pid, key, (op, k, v, value + 1.0))     # the store silently wrote something else
    tampered = dataclasses.replace(r, trace=dataclasses.replace(r.trace, observations=obs))
    assert "a store must write what its load saw plus the update" in SM.check_racy_lost_updates(tampered)


# --- mutual exclusion in lock mode -----------------------------------------------------------------


def test_the_lock_serialises_two_samples_of_one_coordinate_and_one_of_them_waits():
    r = run_algorithm("hogwild-lock", problem=one_cell(2), params={"n": 2, "T": 2, "gamma": 0.5})
    assert SM.check_mutual_exclusion(r) is None and SM._waited_for_a_lock(r)
    locks = [e for e in r.trace.events if "lock" in e]
    assert locks == ["p0 receive lock x[0] k=0 [0 msgs]", "p0 unlock k=0", "p1 receive lock x[0] k=1 [0 msgs]",
                     "p1 unlock k=1"]


def test_a_test_then_set_lock_lets_two_cores_into_one_critical_section():
    r = run_algorithm("broken-hogwild-lock-test-then-set", problem=one_cell(2), params={"n": 2, "T": 2, "gamma": 0.5})
    assert r.trace.events[2:6] == ["p0 receive lock x[0] k=0 [0 msgs]", "p1 receive lock x[0] k=1 [0 msgs]",
                                   "p0 set lock x[0] k=0", "p1 set lock x[0] k=1"]
    msg = SM.check_mutual_exclusion(r)
    assert msg.startswith("two cores inside x[0]'s critical section at once: sample 0 (core 0) took its lock at step 2")
    # the other guarantees of lock mode do not see it: its writes are still atomic adds of its own update
    assert SM.check_no_lost_update(r) is None


def test_mutual_exclusion_is_read_off_the_schedule_not_the_locks_books():
    r = run_algorithm("hogwild-lock", problem=one_cell(2), params={"n": 2, "T": 2, "gamma": 0.5})
    events = list(r.trace.events)
    a, b = events.index("p0 unlock k=0"), events.index("p1 receive lock x[0] k=1 [0 msgs]")
    events[a], events[b] = events[b], events[a]             # the same steps, sample 1 locking before 0 unlocks
    moved = dataclasses.replace(r, trace=dataclasses.replace(r.trace, events=events))
    assert "two cores inside x[0]'s critical section at once" in SM.check_mutual_exclusion(moved)


# --- the barrier of serially-equivalent SGD ----------------------------------------------------------


@pytest.mark.parametrize("guarantee", ["serial-equivalence", "conflicts-in-order"])
def test_a_barrier_that_opens_one_thread_early_is_caught_on_the_quick_budget(tmp_path, guarantee):
    """Only a conflict across batches shows it: the draw puts one in every example (shared_memory/cyclades.py)."""
    stats = search(get_guarantee(guarantee), "serially-equivalent-sgd", budget="quick", failures=tmp_path,
                   variant="broken-cyclades-barrier-off-by-one", examples=12)
    assert stats.violation is not None, f"{guarantee} missed the early barrier in 12 examples"


def test_the_draw_puts_a_conflict_across_every_barrier():
    from hypothesis import given, settings, strategies as st

    seen = []

    @settings(max_examples=30, derandomize=True, database=None, deadline=None)
    @given(st.data())
    def draw(data):
        case = SE._draw(data, "serially-equivalent-sgd")
        p, B_, order = case.params, case.params["batch"], case.params["order"]
        assert p["T"] > B_ >= 3 and p["T"] - B_ >= 2                       # two batches, the second of >= 2 points
        if order is not None:
            assert order[p["T"] - 1] == order[0]                           # batch 0's first point ends batch 1
        seen.append(order is not None)

    draw()
    assert any(seen) and not all(seen)


def test_held_at_a_barrier_needs_the_waiting_thread_to_read_after_the_barrier():
    order = [0, 0, 0, 3, 0]                   # batch 0 one component (thread 1 idle), batch 1: x[...] of point 0 again
    svm = {"name": "sparse-svm", "params": {"m": 6, "d": 6, "nnz": 1, "seed": 0}}
    r = run_algorithm("serially-equivalent-sgd", problem=svm, params={"T": 5, "batch": 3, "threads": 2, "order": order})
    plans = r.trace.records(BatchPlan)
    if len(plans[1].components) < 2:
        pytest.skip("points 3 and 0 of this instance conflict")
    assert SE._held_at_a_barrier(r) and SE.check_conflicts_in_order(r) is None


# --- every shared-memory algorithm has a guarantee with a broken variant of it ---------------------------


def test_every_shared_memory_algorithm_has_a_broken_variant_some_guarantee_catches():
    covered = {a for g in guarantees() for a in g.broken}
    assert {"hogwild-atomic", "hogwild-racy", "hogwild-lock", "serially-equivalent-sgd"} <= covered
    for name in ("broken-hogwild-lock-test-then-set", "broken-hogwild-racy-counts-overwrites",
                 "broken-cyclades-barrier-off-by-one"):
        alg = get_algorithm(name)
        assert name not in ALGORITHMS and alg.broken and alg.summary.startswith("BROKEN ")
