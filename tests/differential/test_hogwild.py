"""Fast HOGWILD! on real threads against the reference (docs/fast.md, "What the differential tests compare").

* lock mode: the recorded orders, run through the reference, give the fast run's final model bit for
  bit, and the reference's x̂_k and g_k of every sample are the ones the fast run recorded; the
  schedule replays as reproduced;
* atomic mode: the final model is x_0 plus the logged deltas within the rounding bound of the number
  of additions, each cell's adds form one chain from x_0 to its final value, and every logged read is
  explained by the perturbed-iterate identity (``explained_reads`` states exactly what is checked);
* racy mode reports the lost updates it measured (atomic and lock modes lose none), and the measure is
  exact on a log where a lost update was planted;
* each check catches a planted bug: an atomic mode whose write is a racy load and store, a lock mode
  whose lock is dropped as soon as it is taken.

The checks are library functions of ``asyncproof.properties.fast.shared_memory.hogwild`` (what
``asyncproof verify --fast`` runs), as are the planted bugs' steps.

The checks restate what they check from the recorded rows; none calls the code under test for its
reference value.  Runs are small (T <= 3000): the whole folder takes seconds.
"""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from asyncproof.fast.run import FastRunError, run_fast
from asyncproof.fast.shared_memory import hogwild as H
from asyncproof.properties.fast.shared_memory.hogwild import (check_one_chain_per_cell, check_reads_explained,
                                                              check_rebuilt_samples, check_rounding_bound,
                                                              dropped_lock, load_stall_store)
from asyncproof.reference.rng import draw_batch
from asyncproof.reference.schedule import replay
from asyncproof.reference.shared_memory.hogwild import serial_sgd

SMALL = {"name": "sparse-svm", "params": {"m": 40, "d": 20, "nnz": 3}}
#: six coordinates: every pair of samples likely shares one, so threads collide often
CROWDED = {"name": "sparse-svm", "params": {"m": 40, "d": 6, "nnz": 3}}
#: every sample reads and writes six of eight coordinates: a long window between a read and its write
DENSE = {"name": "sparse-svm", "params": {"m": 40, "d": 8, "nnz": 6}}
#: the original HOGWILD! (v03a) SVM update instead of the gradient step (reference/problems/sparse_svm.py)
V03A = {"name": "sparse-svm", "params": {"m": 40, "d": 8, "nnz": 4, "rule": "v03a", "mu": 2.0}}
THREADS = (1, 2, 4)                     # 4: more threads than this machine class's 2 cores
SEEDS = (0, 1, 2)


def bits(a) -> bytes:
    return np.asarray(a, dtype=np.float64).tobytes()


# --------------------------------------------------------------------------------------------
# the keyed draw


@pytest.mark.parametrize("seed,m", [(0, 40), (3, 1), (2 ** 33 + 5, 1000), (1, 2 ** 31 + 3), (9, 2 ** 32 - 1)])
def test_fast_keyed_draw_is_the_references(seed, m):
    from asyncproof.fast.rng import draws
    ks = np.arange(200)
    assert draws(seed, ks, m).tolist() == [int(draw_batch(seed, int(k), m, 1)[0]) for k in ks]


# --------------------------------------------------------------------------------------------
# (a) lock mode: the recorded schedule, replayed by the reference


def lock_violations(run) -> list[str]:
    """What differs between a fast lock-mode run and the reference run through its recorded orders."""
    return [m for m in (check_rebuilt_samples(run),) if m]


@pytest.mark.parametrize("threads", THREADS)
@pytest.mark.parametrize("seed", SEEDS)
def test_lock_mode_replays_bit_for_bit(threads, seed):
    run = run_fast("hogwild-lock", SMALL, {"T": 200}, seed=seed, threads=threads)
    assert lock_violations(run) == []
    rep = replay(run.schedule)
    assert rep.reproduced and rep.digest == run.rebuild().result.trace.digest
    out = [o for outs in rep.trace.outputs.values() for o in outs][-1]
    assert bits(out) == bits(run.x)


def first_violations(algorithm, problem, T, steps, violations, tries=12) -> list[str]:
    """The violations of the first of up to ``tries`` seeds whose run with the planted ``steps`` has any
    (a race shows up only when the threads really overlap, which a loaded machine may delay)."""
    for seed in range(tries):
        found = violations(run_fast(algorithm, problem, {"T": T}, seed=seed, threads=2, steps=steps))
        if found:
            return found
    return []


def test_lock_check_catches_a_lock_that_protects_nothing():
    caught = first_violations("hogwild-lock", DENSE, 500, {"take_lock": dropped_lock}, lock_violations)
    assert caught, "twelve runs with a dropped lock all replayed: the check (or the planted bug) is vacuous"


# --------------------------------------------------------------------------------------------
# (b) atomic mode: x = x_0 + Σ deltas within rounding; every read explained


def atomic_violations(run) -> list[str]:
    """The three checks of an atomic-mode run (asyncproof.properties.fast.shared_memory.hogwild says
    exactly what each checks): x = x_0 + Σ deltas within the rounding bound; the adds of each cell form
    one chain from x_0 to its final value; every read is explained by the ticket intervals."""
    return [m for m in (check_rounding_bound(run), check_one_chain_per_cell(run), check_reads_explained(run)) if m]


@pytest.mark.parametrize("threads", THREADS)
@pytest.mark.parametrize("seed", SEEDS)
def test_atomic_mode_is_x0_plus_the_deltas_and_every_read_is_explained(threads, seed):
    run = run_fast("hogwild-atomic", CROWDED, {"T": 2000}, seed=seed, threads=threads)
    assert atomic_violations(run) == []
    assert run.stats["lost_updates"] == 0


@pytest.mark.parametrize("threads", (2, 4))
@pytest.mark.parametrize("seed", (0, 1))
def test_v03a_rule_lock_mode_replays_and_atomic_mode_is_explained(threads, seed):
    """The v03a rule's step (hinge step, then the shrink 1 - γμ/deg_u, as an additive step) on threads:
    locked runs rebuild bit for bit through the reference's rule_step, atomic runs keep every add."""
    run = run_fast("hogwild-lock", V03A, {"T": 200}, seed=seed, threads=threads)
    assert lock_violations(run) == []
    run = run_fast("hogwild-atomic", V03A, {"T": 1500}, seed=seed, threads=threads)
    assert atomic_violations(run) == [] and run.stats["lost_updates"] == 0


def test_atomic_check_catches_a_racy_write():
    caught = first_violations("hogwild-atomic", CROWDED, 3000, {"add": load_stall_store}, atomic_violations)
    assert caught, "twelve runs with a racy write in atomic mode passed: the check (or the planted bug) is vacuous"


def test_a_read_outside_its_interval_is_not_explained():
    run = run_fast("hogwild-atomic", CROWDED, {"T": 300}, seed=4, threads=2)
    assert atomic_violations(run) == []
    log = run.log.copy()
    reads = np.flatnonzero(log["op"] == H.READ)
    late = reads[-1]                       # the last read: claim it happened at the very start
    log["t0"][late], log["t1"][late] = -3, -2
    v = int(log["v"][late])
    if bits(log["value"][late]) == bits(run.x0[v]):
        pytest.skip("the last read saw x_0: moving it earlier explains it just as well")
    run.log = log
    assert any("no state of the cell" in m for m in atomic_violations(run))


# --------------------------------------------------------------------------------------------
# (c) lost updates: measured in the racy mode, none in the others


def test_racy_mode_reports_lost_updates_and_the_others_lose_none():
    for mode in ("atomic", "lock"):
        assert [run_fast(f"hogwild-{mode}", CROWDED, {"T": 3000}, seed=s, threads=t).stats["lost_updates"]
                for s in (0, 1) for t in (2, 4)] == [0] * 4
    racy = []
    for seed in range(12):            # the hard case: real threads on a crowded memory lose some update
        racy.append(run_fast("hogwild-racy", CROWDED, {"T": 20000}, seed=seed, threads=2).stats["lost_updates"])
        if racy[-1]:
            break
    assert all(isinstance(n, int) and n >= 0 for n in racy)
    assert racy[-1] > 0, f"twelve racy runs lost nothing: {racy}"


def test_racy_final_values_are_explained_by_the_surviving_updates():
    run = run_fast("hogwild-racy", CROWDED, {"T": 3000}, seed=2, threads=2)
    found = H.lost_updates(run.log, run.x0, run.x)
    assert found["unexplained"] == [] and len(found["lost"]) == run.stats["lost_updates"]
    stores = run.log[run.log["op"] == H.STORE]
    assert sum(len(c) for c in found["chains"].values()) + len(found["lost"]) == stores.size


def test_lost_update_measure_finds_a_planted_lost_update():
    run = run_fast("hogwild-lock", CROWDED, {"T": 50}, seed=1, threads=1)
    log, x = run.log.copy(), run.x.copy()
    assert H.lost_updates(log, run.x0, x)["lost"] == []
    writes = np.flatnonzero(log["op"] == H.WRITE)
    v = int(np.bincount(log["v"][writes]).argmax())
    mine = writes[log["v"][writes] == v]
    a, b = mine[-2], mine[-1]              # b loads what a loaded, stores after a: a's update is lost
    log["value"][b] = log["value"][a]
    x[v] = np.float64(log["value"][b]) + np.float64(log["aux"][b])
    assert H.lost_updates(log, run.x0, x)["lost"] == [(int(log["k"][a]), v)]


# --------------------------------------------------------------------------------------------
# the recorder changes nothing; slices; robustness


@pytest.mark.parametrize("problem", [SMALL, V03A], ids=["gradient", "v03a"])
@pytest.mark.parametrize("mode", ["lock", "atomic", "racy"])
def test_recorder_does_not_change_the_result_and_one_thread_is_serial_sgd(mode, problem):
    # one thread: the run is deterministic, so recorded and unrecorded runs must agree bit for bit,
    # and both are serial SGD on s_0, s_1, ... (the reference's serial_sgd, which takes the reference's
    # step: -γ∇f_j, or the v03a rule's update)
    on = run_fast(f"hogwild-{mode}", problem, {"T": 500}, seed=3, threads=1, record=True)
    off = run_fast(f"hogwild-{mode}", problem, {"T": 500}, seed=3, threads=1, record=False)
    js = [int(draw_batch(3, k, on.problem.m, 1)[0]) for k in range(500)]
    assert bits(on.x) == bits(off.x) == bits(serial_sgd(on.problem, js, on.x0, on.params["gamma"]))
    assert off.log is None and off.stats["lost_updates"] is None


def test_small_buffers_flush_and_lose_no_row():
    run = run_fast("hogwild-atomic", SMALL, {"T": 400}, seed=0, threads=2, capacity=16)
    samples = run.log[run.log["op"] == H.SAMPLE]
    assert sorted(samples["k"].tolist()) == list(range(400))
    assert (run.log["op"] == H.ADD).sum() == run.stats["updates"]


def test_slices_take_one_data_order_and_are_not_replayable():
    run = run_fast("hogwild-lock", SMALL, {"T": 100}, seed=0, threads=2, assignment="slices")
    samples = run.log[run.log["op"] == H.SAMPLE]
    assert sorted(samples["k"].tolist()) == list(range(100))
    m = run.problem.m
    for r in samples:                      # thread p's samples lie in the p-th half of one permutation
        assert (int(r["k"]) % m) * 2 // m == int(r["thread"])
    assert sorted(set(samples["v"][samples["k"] < m].tolist())) == list(range(m))
    assert run.schedule is None and "slices" in run.why_not_replayable


def test_the_stored_order_is_serial_sgd_over_the_rows_in_sequence_on_one_thread():
    run = run_fast("hogwild-racy", SMALL, {"T": 100}, seed=3, threads=1, assignment="stored")
    m = run.problem.m
    serial = serial_sgd(run.problem, [k % m for k in range(100)], run.x0, run.params["gamma"])
    assert bits(run.x) == bits(serial)
    run = run_fast("hogwild-lock", SMALL, {"T": 100}, seed=0, threads=2, assignment="stored")
    samples = run.log[run.log["op"] == H.SAMPLE]
    assert all(int(r["v"]) == int(r["k"]) % m and int(r["k"]) % m * 2 // m == int(r["thread"]) for r in samples)
    assert run.schedule is None and "stored" in run.why_not_replayable


@njit(nogil=True)
def boom(*args):
    """A gradient step that raises inside the compiled worker loop."""
    raise ValueError("planted")


def test_a_worker_that_raises_stops_the_run_naming_worker_and_iteration():
    with pytest.raises(FastRunError, match=r"worker \d raised ValueError: planted at iteration k = \d+"):
        run_fast("hogwild-atomic", SMALL, {"T": 100}, seed=0, threads=2, steps={"step_support": boom})


def test_a_non_finite_update_stops_the_run():
    x0 = [1e308] * 20
    with pytest.raises(FastRunError, match=r"worker \d non-finite update of x\[\d+\] at iteration k = \d+"):
        run_fast("hogwild-atomic", SMALL, {"T": 100, "gamma": 1e3, "x0": x0}, seed=0, threads=2)


@njit(nogil=True)
def never_free(locks, v, stop):
    """A lock nobody ever releases: the run can only end by its timeout."""
    locks[v] = 1
    return H.spin_lock(locks, v, stop)


def test_a_run_that_cannot_finish_times_out_cleanly():
    steps = {"take_lock": never_free}
    with pytest.raises(FastRunError, match=r"timed out after 0.5 s"):
        run_fast("hogwild-lock", SMALL, {"T": 100}, seed=0, threads=2, steps=steps, timeout=0.5)


def test_oversubscribed_lock_mode_completes():
    run = run_fast("hogwild-lock", CROWDED, {"T": 2000}, seed=0, threads=8)
    assert run.stats["lost_updates"] == 0 and (run.log["op"] == H.SAMPLE).sum() == 2000


def test_a_recorded_run_whose_log_would_not_fit_is_refused_before_it_starts(monkeypatch):
    """The log grows with every access; a long recorded run must be refused in one line, not
    run out of memory in a worker thread."""
    import asyncproof.reference.registry as R
    from asyncproof.reference.errors import InputError
    monkeypatch.setattr(R, "memory_limit", lambda: 100_000)
    spec = {"name": "sparse-svm", "params": {"m": 40, "d": 20}}
    with pytest.raises(InputError, match=r"recording this run would need about .* more than the .* limit; lower T"):
        run_fast("hogwild-atomic", spec, {"T": 2000}, seed=0, threads=2)
    run = run_fast("hogwild-atomic", spec, {"T": 2000}, seed=0, threads=2, record=False)   # unrecorded: no log
    assert run.x.shape == (20,)


@pytest.mark.parametrize("spec", [SMALL, CROWDED, V03A,
                                  {"name": "sparse-svm", "params": {"generator": "hogwild-bench", "m": 300, "d": 50,
                                                                    "nnz": 7, "seed": 5}},
                                  {"name": "sparse-svm", "params": {"indptr": [0, 2, 2, 5, 6], "d": 6, "y": [1, -1, 1, 1],
                                                                    "indices": [1, 4, 0, 2, 5, 3],
                                                                    "data": [1.0, -2.0, 0.5, 1.5, 3.0, -1.0]}}])
def test_supports_from_csr_are_the_references(spec):
    """The kernel's supports are the CSR arrays themselves: the same as the reference's supports_of."""
    from asyncproof.reference.schedule import _problem_from
    from asyncproof.reference.shared_memory.conflict import supports_of
    prob = _problem_from(spec)
    ptr, idx, smax = H._supports(prob, "lock")
    want = supports_of(prob)
    assert [idx[ptr[j]:ptr[j + 1]].tolist() for j in range(prob.m)] == [w.tolist() for w in want]
    assert smax == max(len(w) for w in want)


def test_slices_with_more_threads_than_samples_run_each_sample_once():
    run = run_fast("hogwild-lock", {"name": "sparse-svm", "params": {"m": 3, "d": 6, "nnz": 2}}, {"T": 6}, seed=0,
                   threads=4, assignment="slices")
    samples = run.log[run.log["op"] == H.SAMPLE]
    assert sorted(samples["k"].tolist()) == list(range(6))
    assert {"setup_seconds", "first_call_seconds", "seconds", "samples_per_s"} <= set(run.stats)
