"""Problems and kernels: gradients, batch semantics, constants, specs, JIT bits, bad input."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from asyncproof.reference.errors import InputError
from asyncproof.reference.problems import (PROBLEM_HELP, PROBLEMS, GraphCuts, KMeans, LeastSquares, Logistic, Problem,
                                           Quadratic, SparseSVM, make_problem)

# small instances of every problem, away from the defaults where that exercises more code
SMALL = {
    "quadratic": dict(d=4, cond=10.0, sigma=0.5, m=5, seed=1),
    "least-squares": dict(m=12, d=4, noise=0.3, seed=2),
    "logistic": dict(m=15, d=4, density=0.7, lam=0.2, seed=3),
    "sparse-svm": dict(m=15, d=8, nnz=3, lam=0.05, seed=4),
    "kmeans": dict(m=12, p=2, k=3, seed=5),
    "matrix-completion": dict(n_rows=5, n_cols=4, rank=2, m=12, noise=0.2, mu=0.3, seed=6),
    "graph-cuts": dict(nodes=6, m=9, labels=3, seed=7),
    "double-well": dict(d=2, sigma=0.3, m=6, seed=8),
}
NAMES = sorted(SMALL)
CACHE: dict[str, Problem] = {}


def small(name: str) -> Problem:
    if name not in CACHE:
        CACHE[name] = make_problem(name, **SMALL[name])
    return CACHE[name]


def points(d: int):
    return st.lists(st.floats(-2.0, 2.0, allow_nan=False), min_size=d, max_size=d).map(
        lambda v: np.array(v, dtype=np.float64))


def away_from_kinks(p: Problem, x: np.ndarray, gap: float = 1e-3) -> bool:
    """No hinge at its kink (sparse SVM) and no tie for the nearest centroid (k-means) near x."""
    if isinstance(p, SparseSVM):
        indptr, indices, data, y, _ = p.arrays
        for j in range(p.m):
            t = sum(data[q] * x[indices[q]] for q in range(indptr[j], indptr[j + 1]))
            if abs(1.0 - y[j] * t) < gap:
                return False
    if isinstance(p, KMeans):
        S, k = p.arrays
        W = x.reshape(k, p.p)
        for s in S:
            dist = np.sort(((W - s) ** 2).sum(axis=1))
            if k > 1 and dist[1] - dist[0] < gap:
                return False
    if isinstance(p, GraphCuts):                # |x_u - x_v| has a kink at 0, coordinate by coordinate
        eu, ev, _, labels = p.arrays
        X = x.reshape(-1, labels)
        if np.any(np.abs(X[eu] - X[ev]) < gap):
            return False
    return True


def central_difference(f, x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    g = np.empty_like(x)
    for i in range(len(x)):
        e = np.zeros_like(x)
        e[i] = h
        g[i] = (f(x + e) - f(x - e)) / (2 * h)
    return g


def in_order_mean(p: Problem, x, idx) -> np.ndarray:
    """The documented batch semantics, written independently: sum in idx order, then divide."""
    acc = np.zeros(p.d)
    for j in idx:
        acc = acc + p.sample_grad(x, int(j))
    return acc / len(idx)


# ------------------------------------------------------------------------------------------
# gradients


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_gradients_match_central_differences(name, data):
    p = small(name)
    x = data.draw(points(p.d), label="x")
    assume(away_from_kinks(p, x))
    np.testing.assert_allclose(p.grad(x), central_difference(p.value, x), rtol=1e-5, atol=1e-6)
    j = data.draw(st.integers(0, p.m - 1), label="j")
    np.testing.assert_allclose(p.sample_grad(x, j), central_difference(lambda z: p.sample_value(z, j), x),
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_full_gradient_is_the_in_order_mean_of_sample_gradients(name, data):
    p = small(name)
    x = data.draw(points(p.d), label="x")
    g = p.grad(x)
    assert np.array_equal(g, in_order_mean(p, x, range(p.m)))                      # bit for bit
    np.testing.assert_allclose(np.mean([p.sample_grad(x, j) for j in range(p.m)], axis=0), g,
                               rtol=1e-12, atol=1e-14)
    total = 0.0
    for j in range(p.m):
        total += p.sample_value(x, j)
    assert p.value(x) == total / p.m


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_batch_grad_sums_in_the_given_order_then_divides(name, data):
    p = small(name)
    x = data.draw(points(p.d), label="x")
    idx = data.draw(st.lists(st.integers(0, p.m - 1), min_size=1, max_size=8), label="idx")
    assert np.array_equal(p.batch_grad(x, idx), in_order_mean(p, x, idx))
    assert np.array_equal(p.batch_grad(x, np.array(idx, dtype=np.int32)), p.batch_grad(x, idx))
    assert np.array_equal(p.batch_grad(x, [idx[0]]), p.sample_grad(x, idx[0]))
    vals = 0.0
    for j in idx:
        vals += p.sample_value(x, j)
    assert p.batch_value(x, idx) == vals / len(idx)


def test_batch_order_is_part_of_the_definition():
    # the same multiset in another order may round differently; batch_grad must follow the order
    p = make_problem("least-squares", m=30, d=3, seed=11)
    x = np.array([0.3, -1.7, 2.2])
    rng = np.random.default_rng(0)
    for _ in range(20):
        idx = rng.integers(0, p.m, size=7)
        assert np.array_equal(p.batch_grad(x, idx[::-1]), in_order_mean(p, x, idx[::-1]))


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_sample_gradient_vanishes_outside_the_support(name, data):
    p = small(name)
    x = data.draw(points(p.d), label="x")
    j = data.draw(st.integers(0, p.m - 1), label="j")
    sup = p.support(j)
    assert sup.dtype == np.int64 and np.all(np.diff(sup) > 0)
    outside = np.setdiff1d(np.arange(p.d), sup)
    assert np.all(p.sample_grad(x, j)[outside] == 0.0)
    # moving x outside the support does not change f_j
    y = x.copy()
    y[outside] += 1.0
    assert p.sample_value(y, j) == p.sample_value(x, j)


def test_supports_of_sparse_problems():
    p = LeastSquares([[0.0, 2.0, 0.0], [1.0, 0.0, 3.0]], [1.0, 2.0])
    assert p.support(0).tolist() == [1] and p.support(1).tolist() == [0, 2]
    q = SparseSVM([0, 2, 3], [1, 4, 0], [1.0, -2.0, 0.5], [1.0, -1.0], d=5)
    assert q.support(0).tolist() == [1, 4] and q.support(1).tolist() == [0]


# ------------------------------------------------------------------------------------------
# the seed instances and the constants


@settings(max_examples=30, deadline=None)
@given(st.floats(-50, 50, allow_nan=False), st.floats(-50, 50, allow_nan=False))
def test_default_quadratic_is_seed_004(x, y):
    p = make_problem("quadratic")
    assert (p.d, p.m, p.L, p.mu, p.sigma) == (2, 1, 10.0, 2.0, 0.0)
    assert p.x0.tolist() == [1.0, 1.0]
    assert math.isclose(p.value([x, y]), x * x + 5.0 * y * y, rel_tol=1e-14, abs_tol=1e-300)
    assert p.grad([x, y]).tolist() == [2.0 * x, 10.0 * y]


@settings(max_examples=10, deadline=None)
@given(st.integers(2, 6), st.floats(0.1, 3.0), st.integers(2, 8), st.integers(0, 100), st.data())
def test_quadratic_sigma_is_the_measured_variance(d, sigma, m, seed, data):
    p = make_problem("quadratic", d=d, sigma=sigma, m=m, seed=seed)
    x = data.draw(points(d))
    assert math.isclose(p.sigma, sigma, rel_tol=1e-12)
    assert math.isclose(p.variance_at(x), p.sigma ** 2, rel_tol=1e-9)
    xi = p.arrays[2]
    np.testing.assert_allclose(xi.sum(axis=0), 0.0, atol=1e-12)        # centred


def test_quadratic_constants_against_eigvalsh():
    p = make_problem("quadratic", d=5, cond=100.0)
    ev = np.linalg.eigvalsh(p.arrays[0])
    assert math.isclose(p.L, ev.max(), rel_tol=1e-12) and math.isclose(p.mu, ev.min(), rel_tol=1e-12)
    assert math.isclose(p.L / p.mu, 100.0, rel_tol=1e-12)
    indefinite = Quadratic([[1.0, 0.0], [0.0, -3.0]])
    assert indefinite.L == 3.0 and indefinite.mu is None


@pytest.mark.parametrize("m,d", [(12, 4), (30, 2), (3, 5)])
def test_least_squares_constants_against_eigvalsh(m, d):
    p = make_problem("least-squares", m=m, d=d, seed=7)
    A = p.arrays[0]
    ev = np.linalg.eigvalsh(A.T @ A / m)
    assert math.isclose(p.L, ev.max(), rel_tol=1e-10)
    if m < d:
        assert p.mu is None
    else:
        assert math.isclose(p.mu, ev.min(), rel_tol=1e-8)


def test_logistic_L_against_eigvalsh():
    p = make_problem("logistic", **SMALL["logistic"])
    A, _, lam = p.arrays
    assert math.isclose(p.L, np.linalg.eigvalsh(A.T @ A).max() / (4 * p.m) + 2 * lam, rel_tol=1e-10)
    assert p.mu is None


def test_nonconvex_regulariser_curvature_bound_with_sympy():
    sp = pytest.importorskip("sympy")
    t = sp.symbols("t", real=True)
    r = t ** 2 / (1 + t ** 2)
    r2 = sp.diff(r, t, 2)
    assert sp.simplify(r2 - (2 - 6 * t ** 2) / (1 + t ** 2) ** 3) == 0
    critical = sp.solve(sp.diff(r2, t), t)
    candidates = [abs(r2.subs(t, c)) for c in critical] + [abs(sp.limit(r2, t, sp.oo))]
    assert sp.Max(*candidates) == 2                     # sup |r''| = 2, attained at t = 0


@pytest.mark.parametrize("name", ["quadratic", "least-squares", "logistic"])
@settings(max_examples=20, deadline=None)
@given(data=st.data())
def test_gradient_is_L_lipschitz(name, data):
    p = small(name)
    x, y = data.draw(points(p.d)), data.draw(points(p.d))
    assume(np.linalg.norm(x - y) > 1e-6)
    assert np.linalg.norm(p.grad(x) - p.grad(y)) <= p.L * np.linalg.norm(x - y) * (1 + 1e-9)


def test_sparse_svm_regulariser_identity():
    p = make_problem("sparse-svm", m=25, d=12, nnz=3, lam=0.3, seed=9)
    indptr, indices, data, y, _ = p.arrays
    Z = np.zeros((p.m, p.d))
    for j in range(p.m):
        Z[j, indices[indptr[j]:indptr[j + 1]]] = data[indptr[j]:indptr[j + 1]]
    used = np.unique(indices)
    rng = np.random.default_rng(1)
    for _ in range(10):
        x = rng.normal(size=p.d)
        expected = np.maximum(1 - y * (Z @ x), 0).mean() + 0.3 * (x[used] ** 2).sum()
        assert math.isclose(p.value(x), expected, rel_tol=1e-12)
        active = (1 - y * (Z @ x)) > 0
        g = -(Z * (y * active)[:, None]).mean(axis=0)
        g[used] += 2 * 0.3 * x[used]
        np.testing.assert_allclose(p.grad(x), g, rtol=1e-12, atol=1e-14)


def test_sparse_svm_subgradient_at_the_kink_is_the_regulariser_only():
    p = SparseSVM([0, 1], [0], [2.0], [1.0], d=1, lam=0.0)
    assert p.sample_grad([0.5], 0).tolist() == [0.0]           # y z x = 1 exactly
    assert p.sample_grad([0.25], 0).tolist() == [-2.0]


def test_kmeans_nearest_centroid_and_ties():
    p = KMeans([[0.0, 0.0], [10.0, 10.0], [1.0, 0.0]], k=2)
    assert p.x0.tolist() == [0.0, 0.0, 10.0, 10.0]              # the first k samples
    tied = np.array([1.0, 1.0, 1.0, 1.0])                       # both centroids at (1, 1)
    assert p.sample_grad(tied, 0).tolist() == [1.0, 1.0, 0.0, 0.0]   # lowest index wins
    assert p.sample_value(tied, 0) == 1.0
    assert p.support(0).tolist() == [0, 1, 2, 3]


def test_logistic_is_stable_at_large_margins():
    # x_1 = 1e200 overflows x_1^2 to inf: the regulariser term must be its limit 1, not inf/inf
    p = Logistic([[1.0, 0.0], [-1.0, 0.0]], [1.0, 1.0], lam=0.1)
    with np.errstate(over="ignore"):                             # the interpreter warns on x_1^2
        v = p.sample_value([800.0, 1e200], 1)                    # loss log(1 + e^800) = 800
        g = p.sample_grad([800.0, 1e200], 1)
    assert math.isclose(v, 800.0 + 0.1 * (640000.0 / 640001.0 + 1.0), rel_tol=1e-12)
    assert np.all(np.isfinite(g)) and math.isclose(g[0], 1.0, rel_tol=1e-8) and g[1] == 0.0
    assert math.isclose(p.sample_value([-800.0, 0.0], 0), 800.0 + 0.1 * 640000.0 / 640001.0, rel_tol=1e-12)


# ------------------------------------------------------------------------------------------
# subsets and specs


@pytest.mark.parametrize("name", NAMES)
def test_subset_keeps_the_sample_functions(name):
    p = small(name)
    idx = np.array([p.m - 1, 0, 2])
    s = p.subset(idx)
    assert type(s) is type(p) and s.m == 3 and s.d == p.d
    assert np.array_equal(s.x0, p.x0)
    x = p.x0 + 0.37
    for k, j in enumerate(idx):
        assert np.array_equal(s.sample_grad(x, k), p.sample_grad(x, j))
        assert s.sample_value(x, k) == p.sample_value(x, j)
        assert np.array_equal(s.support(k), p.support(j))
    assert np.array_equal(s.grad(x), p.batch_grad(x, idx))
    ss = s.subset([2, 1])
    assert ss.spec()["params"]["subset"] == [2, 0]
    assert np.array_equal(ss.grad(x), p.batch_grad(x, [2, 0]))


def spec_round_trip(p: Problem) -> Problem:
    spec = json.loads(json.dumps(p.spec()))
    q = make_problem(**spec)
    assert type(q) is type(p) and q.spec() == p.spec()
    assert (q.d, q.m, q.L, q.mu, q.sigma) == (p.d, p.m, p.L, p.mu, p.sigma)
    for a, b in zip(p.arrays, q.arrays):
        assert np.asarray(a).tobytes() == np.asarray(b).tobytes()
    rng = np.random.default_rng(3)
    for _ in range(3):
        x = rng.normal(size=p.d)
        assert p.grad(x).tobytes() == q.grad(x).tobytes() and p.value(x) == q.value(x)
        assert p.sample_grad(x, p.m - 1).tobytes() == q.sample_grad(x, q.m - 1).tobytes()
    assert q.x0.tobytes() == p.x0.tobytes()
    return q


@pytest.mark.parametrize("name", NAMES)
def test_spec_round_trips_bit_for_bit(name):
    p = small(name)
    spec_round_trip(p)
    spec_round_trip(make_problem(name))
    spec_round_trip(p.subset([1, 0, 1]))
    assert make_problem(name, **SMALL[name]).spec() == p.spec()
    assert make_problem(p.spec()["name"], **p.spec()["params"]).spec() == p.spec()


def test_array_built_problems_round_trip():
    rng = np.random.default_rng(5)
    A = rng.normal(size=(6, 3))
    A[0, 0] = -0.0
    made = [
        Quadratic([[2.0, 0.5], [0.5, 1.0]], [0.1, -0.2], [[0.1, 0.2], [-0.1, -0.2], [0.3, 0.0]]),
        LeastSquares(A, rng.normal(size=6)),
        Logistic(A, [1.0, -1.0, 1.0, 1.0, -1.0, -1.0], lam=0.25),
        SparseSVM([0, 2, 3, 5], [0, 2, 1, 0, 3], rng.normal(size=5), [1.0, -1.0, 1.0], d=4, lam=0.2),
        KMeans(rng.normal(size=(5, 2)), k=2),
        KMeans(rng.normal(size=(5, 2)), k=2, x0=[[0.0, 1.0], [2.0, 3.0]]),
    ]
    for p in made:
        q = spec_round_trip(p)
        spec_round_trip(p.subset([2, 0]))
        assert q.spec()["params"].keys() == p.spec()["params"].keys()


def test_sparse_svm_subset_keeps_the_full_data_regulariser():
    p = small("sparse-svm")
    s = p.subset([0, 1])
    assert np.array_equal(s.reg, p.reg)
    assert np.array_equal(spec_round_trip(s).reg, p.reg)


def test_x0_is_a_fresh_copy():
    p = make_problem("quadratic")
    x = p.x0
    x[0] = 99.0
    assert p.x0.tolist() == [1.0, 1.0]


def test_logistic_and_svm_from_libsvm(tmp_path):
    path = tmp_path / "tiny.svm"
    path.write_text("1 1:0.5 3:1.5\n0 2:-1\n1 1:1 2:1 3:1\n0 3:-0.5  # last\n")
    p = make_problem("logistic", path=str(path), lam=0.2)
    assert (p.m, p.d) == (4, 3) and p.arrays[1].tolist() == [1.0, -1.0, 1.0, -1.0]
    assert p.arrays[0][0].tolist() == [0.5, 0.0, 1.5]
    assert Logistic.from_libsvm(path, lam=0.2).spec() == p.spec()
    spec_round_trip(p)
    q = make_problem("sparse-svm", path=str(path))
    assert q.support(2).tolist() == [0, 1, 2] and q.support(1).tolist() == [1]
    spec_round_trip(q)
    spec = p.spec()
    path.write_text("1 1:0.5 3:1.5\n0 2:-1\n")
    with pytest.raises(InputError, match="has changed"):
        make_problem(**spec)


# ------------------------------------------------------------------------------------------
# JIT and interpreter give the same bits

_PROBE = textwrap.dedent("""
    import json, sys
    import numpy as np
    from asyncproof.reference.problems import make_problem
    out = {}
    for name, params in json.loads(sys.argv[1]).items():
        p = make_problem(name, **params)
        x = p.x0 + np.linspace(-0.7, 0.9, p.d)
        out[name] = [p.grad(x).tobytes().hex(), p.sample_grad(x, 1).tobytes().hex(),
                     p.batch_grad(x, [2, 0, 2, 1]).tobytes().hex(), p.value(x).hex(),
                     p.batch_value(x, [1, 1, 0]).hex(), p.variance_at(x).hex(), p.L.hex() if p.L else None]
    print(json.dumps(out))
""")


def _probe(jit_off: str | None) -> dict:
    import asyncproof
    root = os.path.dirname(os.path.dirname(os.path.abspath(asyncproof.__file__)))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([root] + [q for q in env.get("PYTHONPATH", "").split(os.pathsep) if q])
    if jit_off is None:
        env.pop("NUMBA_DISABLE_JIT", None)
    else:
        env["NUMBA_DISABLE_JIT"] = jit_off
    res = subprocess.run([sys.executable, "-c", _PROBE, json.dumps(SMALL)], env=env, capture_output=True,
                         text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


@pytest.mark.slow
def test_jit_and_interpreter_agree_bit_for_bit():
    jit, interp = _probe(None), _probe("1")
    assert jit == interp
    here = {}
    for name, params in SMALL.items():
        p = make_problem(name, **params)
        x = p.x0 + np.linspace(-0.7, 0.9, p.d)
        here[name] = [p.grad(x).tobytes().hex(), p.sample_grad(x, 1).tobytes().hex(),
                      p.batch_grad(x, [2, 0, 2, 1]).tobytes().hex(), p.value(x).hex(),
                      p.batch_value(x, [1, 1, 0]).hex(), p.variance_at(x).hex(), p.L.hex() if p.L else None]
    assert here == jit


# ------------------------------------------------------------------------------------------
# bad input: always InputError, naming the field

BAD_BUILDS = [
    (lambda: LeastSquares(np.ones((5, 2)), np.ones(4)), "b has 4 entries but A has 5 rows"),
    (lambda: LeastSquares([[1.0, np.nan]], [1.0]), r"A\[0, 1\] = nan"),
    (lambda: LeastSquares([[1.0, 2.0]], [np.inf]), r"b\[0\] = inf"),
    (lambda: LeastSquares(np.ones((0, 3)), []), "A is empty"),
    (lambda: LeastSquares(np.ones((3, 0)), np.ones(3)), "A is empty"),
    (lambda: LeastSquares([1.0, 2.0], [1.0, 2.0]), "A must be a 2-D array"),
    (lambda: LeastSquares([[1.0, 2.0], [3.0]], [1.0, 2.0]), "A must be a 2-D array of numbers"),
    (lambda: LeastSquares([["a", "b"]], [1.0]), "A must be a 2-D array of numbers"),
    (lambda: Quadratic([[1.0, 2.0], [0.0, 1.0]]), r"H is not symmetric: H\[0, 1\]"),
    (lambda: Quadratic(np.ones((2, 3))), "H must be square"),
    (lambda: Quadratic(np.eye(2), [0.0, 0.0, 0.0]), "x_star has 3 entries"),
    (lambda: Quadratic(np.eye(2), None, np.ones((3, 4))), "xi has 4 columns"),
    (lambda: Logistic([[1.0]], [0.5]), r"y\[0\] = 0.5: labels must be -1 or \+1"),
    (lambda: Logistic([[1.0]], [1.0], lam=-0.1), "lam .* >= 0, got -0.1"),
    (lambda: Logistic([[1.0]], [1.0], lam=float("nan")), "lam"),
    (lambda: Logistic([[1.0], [2.0]], [1.0]), "y has 1 entries but A has 2 rows"),
    (lambda: SparseSVM([0, 1], [3], [1.0], [1.0], d=3), r"indices\[0\] = 3 is out of range"),
    (lambda: SparseSVM([0, 2], [1, 1], [1.0, 1.0], [1.0], d=3), "row 0 are not strictly increasing"),
    (lambda: SparseSVM([0, 2, 1], [0, 1], [1.0, 1.0], [1.0, 1.0], d=3), "indptr decreases at row 1"),
    (lambda: SparseSVM([1, 2], [0, 1], [1.0, 1.0], [1.0], d=3), r"indptr\[0\] = 1"),
    (lambda: SparseSVM([0, 1], [0, 1], [1.0, 1.0], [1.0], d=3), r"indptr\[-1\] = 1 but indices has 2"),
    (lambda: SparseSVM([0, 2], [0, 1], [1.0], [1.0], d=3), "data has 1 entries but indices has 2"),
    (lambda: SparseSVM([0, 1], [0], [np.nan], [1.0], d=3), r"data\[0\] = nan"),
    (lambda: SparseSVM([0, 1], [0], [1.0], [1.0], d=0), "d .* positive integer, got 0"),
    (lambda: SparseSVM([0, 1], [0], [1.0], [1.0], d=2, lam=-1), "lam"),
    (lambda: SparseSVM([0], [], [], [], d=2), "indptr has 1 entries"),
    (lambda: SparseSVM([0, 1], [0.5], [1.0], [1.0], d=2), "indices must hold integers"),
    (lambda: KMeans([[0.0, 0.0]], k=2), "k = 2 centroids .* only m = 1"),
    (lambda: KMeans([[0.0, 0.0]], k=0), "k .* positive integer, got 0"),
    (lambda: KMeans([[0.0, 0.0]], k=1, x0=[1.0]), "x0 has 1 entries, expected k"),
    (lambda: KMeans([[0.0, np.inf]], k=1), r"S\[0, 1\] = inf"),
]


@pytest.mark.parametrize("build,match", BAD_BUILDS)
def test_bad_data_is_an_input_error_naming_the_field(build, match):
    with pytest.raises(InputError, match=match):
        build()


BAD_PARAMS = [
    ("foo", {}, "unknown problem 'foo'; known: double-well, graph-cuts, kmeans, least-squares, logistic, matrix-completion, quadratic, sparse-svm"),
    ("quadratic", {"dd": 3}, "unknown parameter 'dd' = 3; known: seed, d, cond, sigma, m"),
    ("quadratic", {"sigma": -1.0}, "sigma must be finite and >= 0, got -1.0"),
    ("quadratic", {"sigma": 0.5}, "sigma = 0.5 needs m >= 2"),
    ("quadratic", {"cond": 0.5}, "cond must be finite and >= 1, got 0.5"),
    ("quadratic", {"d": 1, "cond": 3.0}, "cond = 3.0 needs d >= 2"),
    ("quadratic", {"d": 0}, "d must be >= 1, got 0"),
    ("quadratic", {"m": True}, "m must be of type int, got True"),
    ("least-squares", {"m": 0}, "m must be >= 1, got 0"),
    ("least-squares", {"d": "abc"}, "d must be of type int, got 'abc'"),
    ("least-squares", {"noise": float("inf")}, "noise must be finite"),
    ("least-squares", {"m": 10 ** 9}, "more than the limit"),
    ("least-squares", {"seed": -1}, "seed must be >= 0, got -1"),
    ("least-squares", {"A": [[1.0]]}, "also needs b"),
    ("least-squares", {"A": [[1.0]], "b": [1.0], "noise": 0.1}, "unknown parameter 'noise' .* built from arrays"),
    ("logistic", {"lam": -0.5}, "lam must be finite and >= 0, got -0.5"),
    ("logistic", {"density": 0.0}, "density must be in \\(0, 1\\], got 0.0"),
    ("logistic", {"path": 3}, "path must be a file name"),
    ("logistic", {"path": "/nonexistent/file.svm"}, "cannot read LIBSVM file '/nonexistent/file.svm'"),
    ("sparse-svm", {"nnz": 5, "d": 3}, "nnz = 5 nonzeros per row do not fit in d = 3"),
    ("sparse-svm", {"lam": -1.0}, "lam must be finite and >= 0, got -1.0"),
    ("kmeans", {"m": 2, "k": 3}, "k = 3 centroids .* but m = 2"),
    ("kmeans", {"p": 0}, "p must be >= 1, got 0"),
    ("kmeans", {"path": "x.svm"}, "cannot be loaded from a file"),
]


@pytest.mark.parametrize("name,params,match", BAD_PARAMS)
def test_bad_parameters_are_input_errors_naming_the_parameter(name, params, match):
    with pytest.raises(InputError, match=match):
        make_problem(name, **params)


def test_seed_with_arrays_and_duplicate_params_are_refused():
    with pytest.raises(InputError, match="unknown parameter 'seed'"):
        make_problem("least-squares", seed=1, A=[[1.0]], b=[1.0])
    with pytest.raises(InputError, match="'m' given twice"):
        make_problem("least-squares", params={"m": 3}, m=4)
    with pytest.raises(InputError, match="params must be a dict"):
        make_problem("least-squares", params=[1, 2])


@pytest.mark.parametrize("name", NAMES)
def test_bad_points_and_indices_are_input_errors(name):
    p = small(name)
    x = p.x0
    cases = [
        (lambda: p.value(np.zeros(p.d + 1)), f"x has shape \\({p.d + 1},\\), expected \\({p.d},\\)"),
        (lambda: p.grad(np.zeros((p.d, 1))), "x has shape"),
        (lambda: p.grad(np.full(p.d, np.nan)), r"x\[0\] = nan is not finite"),
        (lambda: p.sample_grad(np.full(p.d, np.inf), 0), r"x\[0\] = inf is not finite"),
        (lambda: p.grad("abc"), "x must be an array of"),
        (lambda: p.sample_grad(x, p.m), f"j = {p.m} is out of range 0 .. {p.m - 1}"),
        (lambda: p.sample_value(x, -1), "j = -1 is out of range"),
        (lambda: p.sample_grad(x, 1.0), "j must be an integer, got 1.0"),
        (lambda: p.sample_grad(x, True), "j must be an integer"),
        (lambda: p.support(p.m + 3), "out of range"),
        (lambda: p.batch_grad(x, []), "idx is empty"),
        (lambda: p.batch_grad(x, [0, p.m]), rf"idx\[1\] = {p.m} is out of range"),
        (lambda: p.batch_grad(x, [0.0, 1.0]), "idx must hold integer"),
        (lambda: p.batch_value(x, [[0, 1]]), "idx must be a 1-D array"),
        (lambda: p.subset([-1]), r"idx\[0\] = -1"),
        (lambda: p.variance_at(np.zeros(p.d + 2)), "x has shape"),
    ]
    for call, match in cases:
        with pytest.raises(InputError, match=match):
            call()


def test_registry_help_covers_every_problem():
    assert set(PROBLEM_HELP) == set(PROBLEMS) == set(SMALL)
    for name, text in PROBLEM_HELP.items():
        assert "=" in text and "\n" not in text, name


def test_problems_are_listed_in_their_documented_order_and_a_new_module_after_them(tmp_path, monkeypatch):
    """PROBLEMS is the registry of this package's modules, read in ``base._ORDER`` (the table's order,
    not the modules' names), then any other module by name: one dropped in is registered by being there."""
    from asyncproof.reference import problems
    from asyncproof.reference.problems import base
    from asyncproof.reference.registries import Registry
    order = ["quadratic", "least-squares", "logistic", "sparse-svm", "kmeans", "matrix-completion", "graph-cuts",
             "double-well"]
    assert list(PROBLEMS) == list(PROBLEM_HELP) == [k.name for k in PROBLEMS.all()] == order
    (tmp_path / "aaa_cubic.py").write_text(textwrap.dedent("""
        from asyncproof.reference.problems.base import ProblemKind, register
        register(ProblemKind(name="cubic", help="f_j = x^3", synthetic={}, build=None))
        """))
    monkeypatch.setattr(problems, "__path__", [*problems.__path__, str(tmp_path)])
    fresh = Registry("problem", base._modules)
    monkeypatch.setattr(base, "PROBLEMS", fresh)            # what register() declares into
    try:
        fresh.load()
    finally:
        sys.modules.pop("asyncproof.reference.problems.aaa_cubic", None)
        vars(problems).pop("aaa_cubic", None)
    modules = [m.rsplit(".", 1)[1] for m in base._modules()]
    assert modules == ["quadratic", "least_squares", "logistic", "sparse_svm", "kmeans", "matrix_completion",
                       "graph_cuts", "double_well", "aaa_cubic", "base", "local_full_gradient"]
    assert list(fresh) == ["cubic"] and fresh.origin("cubic") == "asyncproof.reference.problems.aaa_cubic"
