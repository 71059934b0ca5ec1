"""Fast serially-equivalent (CYCLADES) SGD on real threads against serial SGD and the reference
(docs/fast.md, "The serially-equivalent algorithm").

* the compiled plan of every batch (components, their order, the allocation, the threads' work) is
  the reference's ``plan_batch`` and ``Batch.work``, on many small problems, orders, batch sizes and
  thread counts (repeated points and empty supports included);
* the fast final model is serial SGD's on the same data order, bit for bit, for 1, 2 and 4 threads
  (4: more than this machine class's 2 cores), several seeds and batch sizes, rule=gradient and
  rule=v03a; the reference run rebuilt from the recorded tickets ends at the same model and its
  schedule replays as reproduced; the recorded tickets show every barrier held;
* a planted bug, the reference variant's ``work`` step that deals a batch's merged components to the
  threads in turn, is caught: the fast model is not serial SGD's, and the reference variant run
  through the recorded order violates ``serial-equivalence`` too;
* robustness: a raising step, a non-finite update, a barrier that never opens (timeout), a ``work``
  step that drops a position, and refusals, each in one line.

No wall-clock assertion; runs are small.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import njit

from asyncproof.fast.atomics import load_f64_relaxed
from asyncproof.fast.run import FastRunError, run_fast
from asyncproof.fast.shared_memory import cyclades as C
from asyncproof.properties.shared_memory.cyclades import _dealt, check_serial_equivalence
from asyncproof.reference.errors import InputError
from asyncproof.reference.problems import SparseSVM, make_problem
from asyncproof.reference.registry import get_algorithm
from asyncproof.reference.rng import draw_batch
from asyncproof.reference.schedule import load_schedule, replay, run_algorithm
from asyncproof.reference.shared_memory.conflict import supports_of
from asyncproof.reference.shared_memory.cyclades import Batch, plan_batch
from asyncproof.reference.shared_memory.hogwild import serial_sgd

NAME = C.NAME
SMALL = {"name": "sparse-svm", "params": {"m": 40, "d": 30, "nnz": 3}}
#: every two supports (3 of 4 coordinates) meet: every batch is one component, split by a dealt work list
DENSE = {"name": "sparse-svm", "params": {"m": 40, "d": 4, "nnz": 3}}
OFF_BY_ONE = get_algorithm("broken-cyclades-barrier-off-by-one")
V03A = {"name": "sparse-svm", "params": {"generator": "hogwild-bench", "m": 60, "d": 40, "nnz": 4, "rule": "v03a"}}


def bits(a) -> bytes:
    return np.asarray(a, dtype=np.float64).tobytes()


def serial(run) -> np.ndarray:
    """Serial SGD (the reference's loop, its step rule) on the run's data order, from the run's x_0."""
    pi = [int(draw_batch(run.seed, t, run.problem.m, 1)[0]) for t in range(run.params["T"])]
    return serial_sgd(run.problem, pi, run.x0, run.params["gamma"])


def barrier_violations(run) -> list[str]:
    """From the recorded tickets: every position of batch b ended before any of batch b + 1 began."""
    s = run.log[run.log["op"] == C.SAMPLE]
    b = s["k"] // run.params["batch"]
    out = []
    for k in range(int(b.max())):
        ended, began = s["t1"][b == k].max(), s["t0"][b == k + 1].min()
        if began < ended:
            out.append(f"batch {k + 1} began (ticket {began}) before batch {k} ended (ticket {ended})")
    return out


# --------------------------------------------------------------------------------------------
# the plan


@pytest.mark.parametrize("spec", [SMALL, V03A, {"name": "sparse-svm", "params": {
    "indptr": [0, 2, 2, 3], "indices": [1, 4, 0], "data": [1.0, -2.0, 0.5], "y": [1, -1, 1], "d": 5}}])
def test_the_csr_rows_are_the_supports(spec):
    """The fast run reads supports off the CSR arrays directly (supports_of takes seconds on the
    benchmark problem): they are supports_of's, sorted and distinct, empty rows included."""
    prob = make_problem(spec["name"], **spec["params"])
    ptr, idx = C.csr_supports(prob)
    sups = supports_of(prob)
    assert [idx[ptr[j]:ptr[j + 1]].tolist() for j in range(prob.m)] == [s.tolist() for s in sups]
    assert all(np.all(np.diff(s) > 0) for s in sups)


@st.composite
def plans(draw):
    d = draw(st.integers(1, 6))
    m = draw(st.integers(1, 8))
    rows = draw(st.lists(st.lists(st.integers(0, d - 1), unique=True, max_size=min(d, 3)).map(sorted),
                         min_size=m, max_size=m).filter(lambda rs: any(rs)))
    prob = SparseSVM(np.cumsum([0] + [len(r) for r in rows]), [v for r in rows for v in r],
                     [1.0] * sum(map(len, rows)), [1.0] * m, d)
    pi = draw(st.lists(st.integers(0, m - 1), min_size=1, max_size=25))
    return prob, pi, draw(st.integers(1, len(pi) + 2)), draw(st.integers(1, 4))


@settings(max_examples=150)
@given(plans())
def test_compiled_plans_are_the_references(case):
    prob, pi, B, P = case
    ptr, idx = C.csr_supports(prob)
    pi_a = np.array(pi, dtype=np.int64)
    T, nb = len(pi), -(-len(pi) // B)
    sups = supports_of(prob)
    scratch = C.PlanScratch(prob.d, min(B, T), P)
    worder, wptr = np.zeros(T, np.int64), np.zeros((nb, P + 1), np.int64)
    info = np.zeros(3, np.int64)
    assert C.PlanScratch(prob.d, min(B, T), P).plan(ptr, idx, pi_a, B, P, 0, nb, np.zeros(1, np.int64), worder,
                                                    wptr, info) == nb
    for b in range(nb):
        want = plan_batch(sups, pi, b, B, P)
        assert scratch.batch(ptr, idx, pi_a, b, B, P) == want
        base = b * B
        assert [worder[base + wptr[b, p]:base + wptr[b, p + 1]].tolist() for p in range(P)] == Batch.work(want)
    comps = [plan_batch(sups, pi, b, B, P).components for b in range(nb)]
    assert info.tolist() == [sum(map(len, comps)), max(len(c) for cs in comps for c in cs),
                             sum(len(c) >= 2 for cs in comps for c in cs)]


# --------------------------------------------------------------------------------------------
# serial equivalence, bit for bit, and the rebuilt reference run


@pytest.mark.parametrize("threads", [1, 2, 4])
@pytest.mark.parametrize("seed,batch", [(0, 1), (1, 6), (2, 16), (3, 200)])
def test_fast_is_serial_sgd_and_the_rebuilt_reference_replays(threads, seed, batch, tmp_path):
    run = run_fast(NAME, SMALL, {"T": 150, "batch": batch}, seed=seed, threads=threads)
    want = serial(run)
    sgd = run_algorithm("sgd", problem=SMALL, params={"T": 150}, seed=seed).trace.outputs[0][-1]
    assert bits(run.x) == bits(want) == bits(sgd)
    assert barrier_violations(run) == []
    assert run.stats["samples"] == 150 and run.stats["batches"] == -(-150 // batch)
    rb = run.rebuild()
    assert rb.same_x and rb.result.metrics["serially_equivalent"]
    path = rb.schedule.save(tmp_path / "run.json")
    rep = replay(load_schedule(path))
    assert rep.reproduced and rep.digest == rb.result.trace.digest


def test_points_with_empty_supports_are_rebuilt_too():
    """A point of empty support has no read or add: the rebuilt run anchors it at its job's start and finish."""
    spec = {"name": "sparse-svm", "params": {"indptr": [0, 2, 2, 3, 3, 5], "indices": [0, 3, 1, 2, 3],
                                             "data": [1.0, -2.0, 0.5, 1.5, -1.0], "y": [1, -1, 1, -1, 1], "d": 4}}
    run = run_fast(NAME, spec, {"T": 40, "batch": 4}, seed=1, threads=2)
    assert bits(run.x) == bits(serial(run))
    rb = run.rebuild()
    assert rb.same_x and replay(rb.schedule).reproduced


def test_conflicts_really_crossed_threads_in_those_runs():
    """The hard case of the comparison above: batches of several components, one of them of >= 2
    positions, run on several threads (what a run with no conflict, or one thread, would not test)."""
    run = run_fast(NAME, SMALL, {"T": 150, "batch": 16}, seed=2, threads=2)
    assert run.stats["conflicting_components"] > 0 and run.stats["components"] > run.stats["batches"]
    threads_of_batch = {}
    for r in run.log[run.log["op"] == C.SAMPLE]:
        threads_of_batch.setdefault(int(r["k"]) // 16, set()).add(int(r["thread"]))
    assert any(len(ts) == 2 for ts in threads_of_batch.values())


@pytest.mark.parametrize("threads", [2, 4])
def test_rule_v03a_is_serial_v03a(threads):
    run = run_fast(NAME, V03A, {"T": 200, "batch": 10, "gamma": 0.3}, seed=5, threads=threads)
    assert run.problem.rule == "v03a"
    assert bits(run.x) == bits(serial(run)) and run.rebuild().same_x


def test_an_explicit_order_with_repeats_is_followed():
    order = [3, 3, 7, 3, 0, 7, 7, 1]
    run = run_fast(NAME, SMALL, {"T": 40, "batch": 5, "order": order}, seed=0, threads=2)
    pi = [order[t % len(order)] for t in range(40)]
    assert bits(run.x) == bits(serial_sgd(run.problem, pi, run.x0, run.params["gamma"]))
    assert sorted(run.log[run.log["op"] == C.SAMPLE][["k", "v"]].tolist()) == list(enumerate(pi))
    assert run.rebuild().same_x


@pytest.mark.parametrize("threads", [2, 4])
def test_recorder_on_and_off_give_the_same_model(threads):
    on = run_fast(NAME, SMALL, {"T": 2000, "batch": 8}, seed=3, threads=threads, record=True, capacity=16)
    off = run_fast(NAME, SMALL, {"T": 2000, "batch": 8}, seed=3, threads=threads, record=False)
    assert bits(on.x) == bits(off.x) == bits(serial(on))
    assert sorted(on.log[on.log["op"] == C.SAMPLE]["k"].tolist()) == list(range(2000))
    assert (on.log["op"] == C.BARRIER).sum() == threads * on.stats["batches"]
    assert off.log is None and off.schedule is None and "without its recorder" in off.why_not_replayable


def test_oversubscribed_run_completes_and_is_serial_sgd():
    run = run_fast(NAME, SMALL, {"T": 1000, "batch": 12}, seed=4, threads=8, record=False)
    assert bits(run.x) == bits(serial(run))


# --------------------------------------------------------------------------------------------
# planted bugs are caught


def test_components_dealt_across_threads_are_caught_and_the_reference_variant_agrees():
    caught = None
    for seed in range(6):
        run = run_fast(NAME, DENSE, {"T": 240, "batch": 24}, seed=seed, threads=2, steps={"work": _dealt})
        # vacuity: every batch is one component of 24 positions, and dealing it splits it across the threads
        assert run.stats["largest_component"] == 24 and run.stats["components"] == run.stats["batches"]
        if bits(run.x) != bits(serial(run)):
            caught = run
            break
    assert caught is not None, "six runs with components dealt across threads matched serial SGD"
    rb = C.rebuild_cyclades_run(caught, algorithm="broken-cyclades-deals-merged-order")
    assert check_serial_equivalence(rb.result) is not None
    assert caught.rebuild().result.schedule.algorithm == "broken-cyclades-deals-merged-order"
    # the same problem and batches with the real work step: serial
    assert bits(run_fast(NAME, DENSE, {"T": 240, "batch": 24}, seed=0, threads=2).x) == \
        bits(serial(run_fast(NAME, DENSE, {"T": 240, "batch": 24}, seed=0, threads=1)))


@njit(nogil=True)
def slow_step(rule, arrays, rule_arrays, j, x, gamma, out):
    """The real step, then a stall (a slow core), so that a barrier opening early shows."""
    C.sample_step(rule, arrays, rule_arrays, j, x, gamma, out)
    s = 0.0
    for _ in range(20000):
        s += load_f64_relaxed(x, 0)
    return s


def test_the_barrier_check_catches_a_barrier_that_opens_one_thread_early():
    """The variant's barrier (it opens once threads - 1 have arrived), compiled into the fast kernel: a
    thread done with its part of batch b goes on while the other is still in b."""
    found = []
    for seed in range(6):
        run = run_fast(NAME, SMALL, {"T": 120, "batch": 6}, seed=seed, threads=2,
                       steps={"barrier": OFF_BY_ONE.steps["barrier"], "sample_step": slow_step})
        found = barrier_violations(run)
        if found:
            break
    assert found, "six runs with a barrier that opens early held every barrier"


# --------------------------------------------------------------------------------------------
# robustness and refusals


@njit(nogil=True)
def boom(*args):
    raise ValueError("planted")


def test_a_worker_that_raises_names_worker_and_iteration():
    with pytest.raises(FastRunError, match=r"^serially-equivalent-sgd --fast: worker \d raised ValueError: planted "
                                           r"at iteration t = \d+$"):
        run_fast(NAME, SMALL, {"T": 50}, seed=0, threads=2, steps={"sample_step": boom})


def test_a_non_finite_update_stops_the_run():
    with pytest.raises(FastRunError, match=r"worker \d non-finite update of x\[\d+\] at iteration t = \d+$"):
        run_fast(NAME, SMALL, {"T": 100, "gamma": 1e3, "x0": [1e308] * 30}, seed=0, threads=2)


def test_a_barrier_that_never_opens_times_out_cleanly():
    with pytest.raises(FastRunError, match=r"timed out after 0.5 s with \d+ of 50 positions done$"):
        run_fast(NAME, SMALL, {"T": 50}, seed=0, threads=2, steps={"barrier": lambda arrived, threads: False},
                 timeout=0.5)


def test_a_work_step_that_drops_a_position_is_refused_in_one_line():
    with pytest.raises(FastRunError, match=r"worker \d raised InputError: the step work gave 7 positions on 2 threads, "
                                           r"not each of the batch's 8 once on 2 while planning its batches$"):
        run_fast(NAME, SMALL, {"T": 16, "batch": 8}, seed=0, threads=2, steps={"work": lambda b: [b.positions[1:], []]})


@pytest.mark.parametrize("kw,message", [
    ({"assignment": "slices"}, "takes the reference's data order π (assignment 'keyed'), not 'slices'"),
    ({"params": {"threads": 3}}, "the cores are the threads: threads = 3 was given, but the run has threads = 2"),
    ({"problem": "quadratic"}, "runs the problem(s) sparse-svm, not 'quadratic'"),
    ({"steps": {"allocate": abs}}, "has no step 'allocate'; its steps are: work, barrier, sample_step"),
])
def test_refusals_are_one_line(kw, message):
    with pytest.raises(InputError) as e:
        run_fast(NAME, **{"problem": SMALL, "params": {"T": 10}, "threads": 2, **kw})
    assert message in str(e.value) and "\n" not in str(e.value)


def test_a_run_whose_arrays_would_not_fit_is_refused_before_it_starts(monkeypatch):
    import asyncproof.reference.registry as R
    monkeypatch.setattr(R, "memory_limit", lambda: 400_000)
    with pytest.raises(InputError, match=r"this run would need about .* \(T = 4,000, 4,000 batches, 8 threads, d = 30, "
                                         r"36,000 recorded rows\), more than the .* limit; lower T or threads, or raise "
                                         r"batch$"):
        run_fast(NAME, SMALL, {"T": 4000, "batch": 1}, seed=0, threads=8)
    assert run_fast(NAME, SMALL, {"T": 4000, "batch": 1}, seed=0, threads=1, record=False).x.shape == (30,)
