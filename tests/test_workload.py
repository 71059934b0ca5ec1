"""Issue 12's benchmark workload in the reference: the ``hogwild-bench`` data generator of sparse-svm
and the original HOGWILD! (v03a) SVM update as ``rule="v03a"`` (reference/problems/sparse_svm.py,
reference/kernels.py ``svm_v03a_step_support``), checked against the oracle (properties/kernels.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from asyncproof.properties import kernels as kp
from asyncproof.reference import kernels as K
from asyncproof.reference.data import hogwild_bench_data
from asyncproof.reference.errors import InputError
from asyncproof.reference.kernels import kernel
from asyncproof.reference.problems import PROBLEM_HELP, SparseSVM, make_problem
from asyncproof.reference.problems.base import _MAX_ENTRIES
from asyncproof.reference.rng import STREAM_DATA, generator
from asyncproof.reference.schedule import replay, run_algorithm
from asyncproof.reference.shared_memory import hogwild as H

SMALL = {"m": 200, "d": 50, "nnz": 5}
BENCH = {"generator": "hogwild-bench", **SMALL}


def ram(result) -> np.ndarray:
    return np.asarray([o for out in result.trace.outputs.values() for o in out][-1])


def rows(indptr, indices):
    return [indices[indptr[j]:indptr[j + 1]] for j in range(len(indptr) - 1)]


# --- the data generator -------------------------------------------------------------------------------


def test_every_row_has_exactly_nnz_distinct_sorted_columns():
    indptr, indices, data, y, w = hogwild_bench_data(seed=3, **SMALL)
    assert indptr.tolist() == list(range(0, 200 * 5 + 1, 5))
    assert indices.dtype == np.int64 and data.dtype == np.float64 and len(data) == len(indices) == 1000
    for r in rows(indptr, indices):
        assert len(set(r.tolist())) == 5 and r.tolist() == sorted(r.tolist())
        assert 0 <= r.min() and r.max() < 50


def test_nnz_equal_to_d_fills_every_row():
    indptr, indices, *_ = hogwild_bench_data(m=4, d=3, nnz=3, seed=0)
    assert indices.tolist() == [0, 1, 2] * 4


def test_the_column_sets_are_uniform_over_subsets():
    # d = 4, nnz = 2: six 2-subsets, each with probability 1/6; 6000 rows -> 1000 each, sd ~29
    indptr, indices, *_ = hogwild_bench_data(m=6000, d=4, nnz=2, seed=5)
    pairs = indices.reshape(-1, 2)
    counts = {}
    for a, b in pairs.tolist():
        counts[(a, b)] = counts.get((a, b), 0) + 1
    assert sorted(counts) == [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)]
    assert all(abs(c - 1000) < 5 * math.sqrt(6000 * (1 / 6) * (5 / 6)) for c in counts.values()), counts


def test_values_and_w_star_are_standard_normal_and_labels_are_the_sign_of_the_planted_model():
    indptr, indices, data, y, w = hogwild_bench_data(m=4000, d=300, nnz=5, seed=1)
    n = len(data)                                                     # 20000 values: sd of the mean 0.007
    assert abs(data.mean()) < 0.035 and abs(data.var() - 1.0) < 0.05
    assert abs(np.mean(data > 0) - 0.5) < 0.02 and abs(np.mean(np.abs(data) < 1.0) - 0.6827) < 0.02
    assert abs(w.mean()) < 0.3 and abs(w.var() - 1.0) < 0.3 and n == 20000
    # the convention: y_j = +1 iff z_j^T w* >= 0, no noise (dense numpy here, not the kernel)
    Z = np.zeros((4000, 300))
    for j, r in enumerate(rows(indptr, indices)):
        Z[j, r] = data[indptr[j]:indptr[j + 1]]
    assert np.array_equal(y, np.where(Z @ w >= 0.0, 1.0, -1.0))
    assert 0.45 < np.mean(y > 0) < 0.55


def test_each_quantity_comes_from_its_own_documented_key():
    indptr, indices, data, y, w = hogwild_bench_data(seed=7, **SMALL)
    assert np.array_equal(data, generator(7, STREAM_DATA, 45).standard_normal(1000))
    assert np.array_equal(w, generator(7, STREAM_DATA, 46).standard_normal(50))
    # Floyd's algorithm on the documented draws: column c uniform in 0 .. d - nnz + c, a taken one replaced by d - nnz + c
    draws = generator(7, STREAM_DATA, 44).integers(0, np.arange(46, 51), size=(200, 5))
    for j, r in enumerate(rows(indptr, indices)):
        chosen = []
        for c in range(5):
            v = int(draws[j, c])
            chosen.append(45 + c if v in chosen else v)
        assert r.tolist() == sorted(chosen)


def test_the_data_is_a_function_of_the_seed():
    a = make_problem("sparse-svm", seed=2, **BENCH)
    b = make_problem("sparse-svm", seed=2, **BENCH)
    c = make_problem("sparse-svm", seed=3, **BENCH)
    assert all(np.array_equal(u, v) for u, v in zip(a.arrays, b.arrays))
    assert not np.array_equal(a.arrays[1], c.arrays[1])
    assert make_problem(**a.spec()).spec() == a.spec()
    assert a.spec() == {"name": "sparse-svm", "params": {"generator": "hogwild-bench", "seed": 2, "m": 200, "d": 50,
                                                         "nnz": 5, "lam": 0.01}}


def test_deg_counts_the_samples_holding_each_coordinate_once_for_the_whole_data():
    p = make_problem("sparse-svm", rule="v03a", **BENCH)
    indptr, indices = p.arrays[0], p.arrays[1]
    want = np.zeros(50, dtype=np.int64)
    for r in rows(indptr, indices):
        for u in r:
            want[u] += 1
    assert np.array_equal(p.deg, want) and p.deg.sum() == 1000
    sub = p.subset([0, 1, 2])
    assert np.array_equal(sub.deg, want) and np.array_equal(sub.reg, p.reg)       # the full data's d_u
    assert np.array_equal(p.reg[want > 0], 1.0 / (2 * want[want > 0]))


def test_the_workload_defaults_and_the_memory_limit():
    table = __import__("asyncproof.reference.problems.sparse_svm", fromlist=["BENCH_PARAMS"]).BENCH_PARAMS
    assert {k: table[k].default for k in ("m", "d", "nnz")} == {"m": 400_000, "d": 50_000, "nnz": 40}
    assert 400_000 * 40 <= _MAX_ENTRIES                                   # the workload itself is allowed
    with pytest.raises(InputError, match=r"^sparse-svm generator 'hogwild-bench': m = 2000000 samples of nnz = 40 "
                                         r"nonzeros make 80000000 entries, more than the limit 50000000$"):
        make_problem("sparse-svm", generator="hogwild-bench", m=2_000_000)
    with pytest.raises(InputError, match="nnz = 6 distinct nonzeros per sample do not fit in d = 5"):
        make_problem("sparse-svm", generator="hogwild-bench", m=3, d=5, nnz=6)
    with pytest.raises(InputError, match="m must be <= 50000000"):
        make_problem("sparse-svm", generator="hogwild-bench", m=10 ** 9)


# --- the v03a rule --------------------------------------------------------------------------------------


def two_samples(**kw) -> SparseSVM:
    """z_0 = (1, 0, -2), y_0 = +1; z_1 = (0, 0, 0.5), y_1 = -1: deg = (1, 0, 2)."""
    return SparseSVM([0, 2, 3], [0, 2, 2], [1.0, -2.0, 0.5], [1.0, -1.0], d=3, rule="v03a", **kw)


def test_the_rule_step_is_the_v03a_update_by_hand():
    p = two_samples(mu=1.0)
    assert p.deg.tolist() == [1, 0, 2] and p.reg.tolist() == [0.5, 0.0, 0.25]
    x = np.array([0.25, 9.0, 0.5])
    # sample 0: s = 0.25 - 1 = -0.75, y s < 1: w_0 = (0.25 + 0.5)(1 - 0.5/1) = 0.375, w_2 = (0.5 - 1)(1 - 0.5/2) = -0.375
    assert p.rule_step(x, 0, 0.5).tolist() == [0.125, -0.875]
    # sample 1: s = 0.25, y s = -0.25 < 1: w_2 = (0.5 - 0.5 * 0.5)(0.75) = 0.1875
    assert p.rule_step(x, 1, 0.5).tolist() == [-0.3125]
    # hinge inactive (y s = 3 >= 1): the shrink alone, w_0 = 3 * 0.5, w_2 = 0 * 0.75
    assert p.rule_step(np.array([3.0, 0.0, 0.0]), 0, 0.5).tolist() == [-1.5, 0.0]
    # y s == 1 exactly: inactive, as v03a's `if (wxy < 1)`
    assert p.rule_step(np.array([1.0, 0.0, 0.0]), 0, 0.5).tolist() == [-0.5, 0.0]
    # HOGWILD!'s step is the rule's, its gradient the objective's
    grad, g = H.sample_step(p, 0, np.array([0, 2]), x[[0, 2]], 0.5)
    assert g.tolist() == [0.125, -0.875] and grad.tolist() == p.sample_grad(x, 0)[[0, 2]].tolist()


def test_the_objective_is_hinge_plus_mu_over_2_deg():
    p = two_samples(mu=0.5)
    x = np.array([0.25, 9.0, 0.5])
    hinge = max(1 - (0.25 - 1.0), 0) + max(1 + 0.25, 0)
    assert p.value(x) == pytest.approx((hinge + 0.5 / 2 * (0.25 ** 2 + 0.5 ** 2)) / 2, rel=1e-15)
    assert p.sample_value(x, 0) == pytest.approx(1.75 + 0.5 / 2 * 0.25 ** 2 + 0.5 / 4 * 0.5 ** 2, rel=1e-15)


def test_serial_hogwild_with_the_rule_is_the_original_loop():
    prob = {"name": "sparse-svm", "params": {"m": 30, "d": 8, "nnz": 3, "seed": 4, "rule": "v03a", "mu": 0.7}}
    r = run_algorithm("hogwild-atomic", problem=prob, params={"n": 1, "T": 40, "gamma": 0.05}, seed=9)
    p = r.problem
    indptr, indices, data, y, *_ = p.arrays
    deg = p.deg
    w = np.zeros(8)
    for rec in H.samples(r.trace):                  # v03a's ModelUpdate, in place, as the C++ does it
        j = rec.j
        cols, vals = indices[indptr[j]:indptr[j + 1]], data[indptr[j]:indptr[j + 1]]
        if sum(vals[q] * w[cols[q]] for q in range(len(cols))) * y[j] < 1:
            for q in range(len(cols)):
                w[cols[q]] += 0.05 * y[j] * vals[q]
        for q in reversed(range(len(cols))):
            w[cols[q]] *= 1 - 0.05 * 0.7 / deg[cols[q]]
    out = ram(r)
    assert np.allclose(out, w, rtol=1e-13, atol=1e-15) and r.metrics["dist_to_serial"] == 0.0


def test_a_short_hogwild_run_on_the_workload_replays_bit_for_bit():
    for alg, prob in (("hogwild-atomic", {"name": "sparse-svm", "params": {**SMALL, "rule": "v03a"}}),
                      ("hogwild-racy", {"name": "sparse-svm", "params": {**BENCH, "rule": "v03a", "mu": 0.5}})):
        r = run_algorithm(alg, problem=prob, params={"n": 3, "T": 25, "gamma": 0.05}, seed=2, adversary="random:seed=1")
        assert r.metrics["finished"] and r.metrics["samples"] == 25 and r.metrics["max_overlap"] >= 1
        assert r.schedule.problem["params"]["rule"] == "v03a"
        rep = replay(r.schedule)
        assert rep.reproduced and rep.digest == r.trace.digest
        # the loss reported is the rule's objective at the RAM
        assert r.metrics["loss"] == r.problem.value(ram(r))


def test_the_serially_equivalent_algorithm_runs_the_rule_and_stays_serially_equivalent():
    prob = {"name": "sparse-svm", "params": {"m": 60, "d": 40, "nnz": 3, "rule": "v03a"}}
    r = run_algorithm("serially-equivalent-sgd", problem=prob, params={}, seed=1)
    assert r.metrics["finished"] and r.metrics["serially_equivalent"] and replay(r.schedule).reproduced


def test_the_gradient_rule_is_unchanged_and_its_spec_has_no_rule():
    p = make_problem("sparse-svm", m=12, d=10, nnz=3, seed=1)
    assert p.rule == "gradient" and p.spec()["params"] == {"seed": 1, "m": 12, "d": 10, "nnz": 3, "lam": 0.01}
    q = make_problem("sparse-svm", m=12, d=10, nnz=3, seed=1, rule="gradient", lam=0.01)
    assert q.spec() == p.spec() and all(np.array_equal(a, b) for a, b in zip(p.arrays, q.arrays))
    with pytest.raises(InputError, match="rule = 'gradient' has no update of its own"):
        p.rule_step(np.zeros(10), 0, 0.1)


@pytest.mark.parametrize("params, message", [
    ({"rule": "v3"}, "sparse-svm: rule must be one of gradient, v03a, got 'v3'"),
    ({"rule": "v03a", "mu": -1.0}, "sparse-svm: mu must be finite and >= 0, got -1.0"),
    ({"mu": 0.5}, "sparse-svm: mu = 0.5 is the v03a rule's regularisation (rule=v03a); rule=gradient is regularised by lam"),
    ({"rule": "v03a", "lam": 0.1}, "sparse-svm: lam = 0.1 is rule=gradient's regularisation; rule=v03a is regularised by mu"),
    ({"generator": "hogwild-bench", "m": 5, "d": 5, "nnz": 2, "rule": "V03A"}, "rule must be one of gradient, v03a"),
    ({"generator": "hogwild-bench", "m": 5, "d": 5, "nnz": 2, "rule": "v03a", "mu": -2.0}, "mu"),
    ({"indptr": [0, 1], "indices": [0], "data": [1.0], "y": [1.0], "d": 1, "rule": "v03a", "mu": float("nan")}, "mu"),
])
def test_bad_parameters_are_one_line_errors_naming_the_parameter(params, message):
    with pytest.raises(InputError) as e:
        make_problem("sparse-svm", **params)
    assert message in str(e.value) and "\n" not in str(e.value)


def test_the_listing_shows_the_rule_and_the_generator():
    text = PROBLEM_HELP["sparse-svm"]
    assert "rule=gradient" in text and "rule=v03a" in text and "generator=hogwild-bench" in text and "mu=1" in text


# --- the oracle checks the rule's kernel, and catches a planted mistake --------------------------------


@kernel
def _v03a_shrink_only_when_active(indptr, indices, data, y, factors, j, x, gamma, out):
    t = 0.0
    for k in range(indptr[j], indptr[j + 1]):
        t += data[k] * x[indices[k]]
    active = t * y[j] < 1.0
    e = gamma * y[j]
    for k in range(indptr[j], indptr[j + 1]):
        u = indices[k]
        v = x[u]
        w = v
        if active:                                  # the mistake: v03a shrinks always, not only on an active hinge
            w = (v + e * data[k]) * factors[u]
        out[k - indptr[j]] = w - v


@kernel
def _v03a_shrink_by_mu_over_2deg(indptr, indices, data, y, factors, j, x, gamma, out):
    t = 0.0
    for k in range(indptr[j], indptr[j + 1]):
        t += data[k] * x[indices[k]]
    active = t * y[j] < 1.0
    for k in range(indptr[j], indptr[j + 1]):
        u = indices[k]
        v = x[u]
        w = v + gamma * y[j] * data[k] if active else v
        out[k - indptr[j]] = w * (1.0 - (1.0 - factors[u]) / 2.0) - v     # the mistake: the objective's 2 deg


@pytest.mark.parametrize("seed", range(6))
def test_the_oracle_holds_for_the_rule_kernel(seed):
    for p, x, gamma in kp.spot_rule_problems(seed):
        o = kp.Oracle(p)
        assert kp.check_kernels_at(p, o, x, "x") is None
        assert kp.check_update_at(p, o, x, gamma, "x") is None
    assert kp.check_every_kernel(seed) is None


@pytest.mark.parametrize("broken", [_v03a_shrink_only_when_active, _v03a_shrink_by_mu_over_2deg])
def test_the_oracle_catches_a_planted_mistake_in_the_rule_kernel(broken):
    caught = []
    for seed in range(6):
        for p, x, gamma in kp.spot_rule_problems(seed):
            caught.append(kp.check_update_at(p, kp.Oracle(p), x, gamma, "x", rule_kernel=broken))
    assert sum(m is not None for m in caught) >= 4, caught
    assert any(m is not None and "kernel rule_step (given)" in m and "the oracle's v03a update" in m for m in caught)


def test_the_oracle_states_the_rule_for_a_hand_built_problem():
    p = two_samples(mu=1.0)
    o = kp.Oracle(p)
    x = np.array([0.25, 9.0, 0.5])
    assert o.v03a_steps(x, 0.5).tolist() == [[0.125, 0.0, -0.875], [0.0, 0.0, -0.3125]]
    assert kp.check_update_at(p, o, x, 0.5, "x") is None


def test_the_rule_kernel_is_shared_and_nogil():
    assert SparseSVM.rule_kernel is K.svm_v03a_step_support
    assert K.svm_v03a_step_support.targetoptions.get("nogil") is True
