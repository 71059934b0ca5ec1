"""Seed 002's sparse problems: matrix completion and graph cuts (the sparse SVM's objective is
checked against its slide in tests/test_problems.py, ``test_sparse_svm_regulariser_identity``).

Each objective is checked against an independent dense formula of its slide, its
gradients against central differences, its supports and conflict graphs against their
definitions, the simplex projection against its optimality conditions, and every bad
input is a one-line InputError.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import asyncproof
from asyncproof.reference import kernels as K
from asyncproof.reference.data import graph_cut_data, matrix_completion_data
from asyncproof.reference.errors import InputError
from asyncproof.reference.problems import GraphCuts, MatrixCompletion, make_problem
from asyncproof.reference.shared_memory.conflict import conflict_graph, supports_of
from test_problems import central_difference   # noqa: E402  (tests/ is on sys.path under pytest)

MC = dict(n_rows=5, n_cols=4, rank=2, m=12, noise=0.2, mu=0.3, seed=6)
CUTS = dict(nodes=6, m=9, labels=3, seed=7)


# ------------------------------------------------------------------------------------------
# the objectives are the slides'


def test_matrix_completion_is_the_slides_objective():
    p = make_problem("matrix-completion", **MC)
    rows, cols, vals, mu_u, mu_v, nr, r = p.arrays
    x = np.random.default_rng(1).normal(size=p.d)
    L, R = x[:nr * r].reshape(nr, r), x[nr * r:].reshape(p.n_cols, r)
    # slide: sum_(u,v) in E (L_u R_v^T - M_uv)^2 + mu_u ||L_u||^2 + mu_v ||R_v||^2, here divided by |E| = m
    total = sum((L[u] @ R[v] - M) ** 2 + mu_u[u] * L[u] @ L[u] + mu_v[v] * R[v] @ R[v]
                for u, v, M in zip(rows, cols, vals))
    assert p.value(x) == pytest.approx(total / p.m, rel=1e-12)
    # HOGWILD!'s mu_u = mu m / (2 |E_u|): the regulariser adds up to mu/2 (||L||^2 + ||R||^2) over used rows/columns
    used_r, used_c = np.unique(rows), np.unique(cols)
    reg = sum(mu_u[u] * L[u] @ L[u] for u in rows) + sum(mu_v[v] * R[v] @ R[v] for v in cols)
    assert reg / p.m == pytest.approx(0.3 / 2 * (np.sum(L[used_r] ** 2) + np.sum(R[used_c] ** 2)), rel=1e-12)
    assert p.L is None and p.mu is None and not p.constrained


def test_graph_cuts_is_the_slides_objective():
    p = make_problem("graph-cuts", **CUTS)
    eu, ev, w, Kl = p.arrays
    x = p.x0
    X = x.reshape(p.nodes, Kl)
    total = sum(wi * np.sum(np.abs(X[a] - X[b])) for a, b, wi in zip(eu, ev, w))
    assert p.value(x) == pytest.approx(total / p.m, rel=1e-12)
    assert p.constrained and p.G == pytest.approx(np.sqrt(2 * Kl) * w.max())
    # every block of the start is on the simplex; the constant labelling is a minimiser (value 0)
    assert np.allclose(X.sum(axis=1), 1.0) and (X >= 0).all()
    assert p.value(np.tile([1.0, 0.0, 0.0], p.nodes)) == 0.0


@pytest.mark.parametrize("name, params", [("matrix-completion", MC), ("graph-cuts", CUTS)])
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_gradients_match_central_differences(name, params, data):
    p = make_problem(name, **params)
    x = np.array(data.draw(st.lists(st.floats(-2, 2), min_size=p.d, max_size=p.d)), dtype=np.float64)
    if isinstance(p, GraphCuts):        # stay away from the kinks of |x_u - x_v|
        eu, ev, _, Kl = p.arrays
        x = x + 0.01 * np.arange(p.d)
        if any(np.min(np.abs(x[a * Kl:(a + 1) * Kl] - x[b * Kl:(b + 1) * Kl])) < 1e-3 for a, b in zip(eu, ev)):
            return
    j = data.draw(st.integers(0, p.m - 1))
    np.testing.assert_allclose(p.sample_grad(x, j), central_difference(lambda z: p.sample_value(z, j), x),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(p.grad(x), central_difference(p.value, x), rtol=1e-5, atol=1e-6)
    outside = np.setdiff1d(np.arange(p.d), p.support(j))
    assert np.all(p.sample_grad(x, j)[outside] == 0.0)


@pytest.mark.parametrize("name, params", [("matrix-completion", MC), ("graph-cuts", CUTS)])
def test_batches_sum_in_order_specs_and_subsets_round_trip(name, params):
    p = make_problem(name, **params)
    x = p.x0 + 0.3
    idx = [3, 0, 3, 1]
    acc = np.zeros(p.d)
    for j in idx:
        acc = acc + p.sample_grad(x, j)
    assert np.array_equal(p.batch_grad(x, idx), acc / len(idx))
    for q in (p, p.subset([2, 0, 2])):
        spec = json.loads(json.dumps(q.spec()))
        again = make_problem(**spec)
        assert again.spec() == q.spec() and again.grad(x).tobytes() == q.grad(x).tobytes()
        assert again.x0.tobytes() == q.x0.tobytes()
    s = p.subset([2, 0])
    assert np.array_equal(s.sample_grad(x, 0), p.sample_grad(x, 2)) and s.support(1).tolist() == p.support(0).tolist()


def test_generators_are_seeded_and_their_sizes_checked():
    a, b = matrix_completion_data(4, 5, 2, 10, 0.1, 3), matrix_completion_data(4, 5, 2, 10, 0.1, 3)
    assert all(np.array_equal(u, v) for u, v in zip(a, b))
    rows, cols = a[0], a[1]
    assert len(set(zip(rows.tolist(), cols.tolist()))) == 10          # distinct cells: E is a set
    u, v, w, x0 = graph_cut_data(7, 21, 2, 0)                            # all pairs of 7 nodes
    assert sorted(zip(u.tolist(), v.tolist())) == [(i, j) for i in range(7) for j in range(i + 1, 7)]
    assert (w > 0).all() and (w <= 1).all()
    with pytest.raises(InputError, match="do not fit in a 2 x 2 matrix"):
        make_problem("matrix-completion", n_rows=2, n_cols=2, m=5)
    with pytest.raises(InputError, match="at most 3"):
        make_problem("graph-cuts", nodes=3, m=4)


# ------------------------------------------------------------------------------------------
# supports and conflict graphs


def test_supports_and_conflict_graphs_follow_the_definitions():
    mc = make_problem("matrix-completion", **MC)
    rows, cols, *_ = mc.arrays
    for j in range(mc.m):
        r = mc.rank
        assert mc.support(j).tolist() == list(range(rows[j] * r, rows[j] * r + r)) + \
            list(range((mc.n_rows + cols[j]) * r, (mc.n_rows + cols[j]) * r + r))
    # two observed entries conflict iff they share a row or a column
    g = conflict_graph(supports_of(mc))
    want = {(a, b) for a in range(mc.m) for b in range(a + 1, mc.m) if rows[a] == rows[b] or cols[a] == cols[b]}
    assert {tuple(sorted(e)) for e in g.edges()} == want
    # graph cuts: two edges conflict iff they share a node, so the conflict graph is the line graph
    cuts = make_problem("graph-cuts", **CUTS)
    eu, ev, _, _ = cuts.arrays
    G = nx.Graph()
    G.add_edges_from((int(a), int(b), {"j": j}) for j, (a, b) in enumerate(zip(eu, ev)))
    line = nx.line_graph(G)
    j_of = {tuple(sorted((int(a), int(b)))): j for j, (a, b) in enumerate(zip(eu, ev))}
    want = {tuple(sorted((j_of[tuple(sorted(e))], j_of[tuple(sorted(f))]))) for e, f in line.edges()}
    assert {tuple(sorted(e)) for e in conflict_graph(supports_of(cuts)).edges()} == want


# ------------------------------------------------------------------------------------------
# the simplex


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(-5, 5), min_size=1, max_size=6))
def test_simplex_projection_is_the_euclidean_projection(y):
    y = np.array(y, dtype=np.float64)
    out = np.empty_like(y)
    K.simplex_project(y, out)
    assert (out >= 0).all() and abs(out.sum() - 1.0) <= 1e-12
    # KKT: out = max(y - theta, 0) with one theta; every zero entry has y <= theta
    pos = out > 0
    theta = (y - out)[pos]
    assert np.allclose(theta, theta[0], atol=1e-12)
    assert np.all(y[~pos] <= theta[0] + 1e-12)
    # an independent computation: bisection on theta for sum max(y - theta, 0) = 1
    lo, hi = y.min() - 1.0, y.max()
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if np.maximum(y - mid, 0).sum() > 1 else (lo, mid)
    np.testing.assert_allclose(out, np.maximum(y - lo, 0), atol=1e-12)


def test_project_and_project_support():
    p = make_problem("graph-cuts", **CUTS)
    x = p.x0 + np.random.default_rng(2).normal(size=p.d)
    xp = p.project(x)
    p.check_feasible(xp)
    assert np.array_equal(p.project(xp), xp) or np.allclose(p.project(xp), xp, atol=1e-15)
    j = 4
    s = p.support(j)
    assert np.array_equal(p.project_support(j, x[s]), xp[s])


# ------------------------------------------------------------------------------------------
# bad input


@pytest.mark.parametrize("make, match", [
    (lambda: GraphCuts([[0, 1]], [1.0], nodes=2, labels=2, x0=[0.5, 0.5, 0.7, 0.7]),
     "x0 is off the simplex: node 1's block sums to 1.4"),
    (lambda: GraphCuts([[0, 1]], [1.0], nodes=2, labels=2, x0=[1.5, -0.5, 0.5, 0.5]),
     r"x0 is off the simplex: x0\[1\] = -0.5 < 0"),
    (lambda: GraphCuts([[0, 0]], [1.0], nodes=2, labels=2), "edge 0 = \\(0, 0\\) is a self-loop"),
    (lambda: GraphCuts([[0, 3]], [1.0], nodes=2, labels=2), r"edges\[:, 1\] \(v\)\[0\] = 3 is out of range"),
    (lambda: GraphCuts([[0, 1]], [-1.0], nodes=2, labels=2), r"weights\[0\] = -1.0 is negative"),
    (lambda: GraphCuts([], [], nodes=2, labels=2), "non-empty list of \\[u, v\\] node pairs"),
    (lambda: GraphCuts([[0, 1]], [1.0, 2.0], nodes=2, labels=2), "weights has 2 entries but there are 1 edges"),
    (lambda: make_problem("graph-cuts", labels=0), "labels must be >= 1"),
    (lambda: MatrixCompletion([0, 5], [0, 0], [1.0, 2.0], 2, 2, 1), r"rows\[1\] = 5 is out of range 0 .. 1"),
    (lambda: MatrixCompletion([0], [0, 1], [1.0], 2, 2, 1), "cols has 2 entries but rows has 1"),
    (lambda: MatrixCompletion([0], [0], [np.nan], 2, 2, 1), r"values\[0\] = nan is not finite"),
    (lambda: MatrixCompletion([0], [0], [1.0], 2, 2, 1, mu_u=[0.1, 0.1]), "give both mu_u and mu_v"),
    (lambda: MatrixCompletion([0], [0], [1.0], 2, 2, 1, mu_u=[0.1], mu_v=[0.1, 0.1]), "mu_u has 1 entries"),
    (lambda: MatrixCompletion([0], [0], [1.0], 2, 2, 0), "rank must be a positive integer"),
    (lambda: MatrixCompletion([0], [0], [1.0], 2, 2, 1, x0=[1.0]), "x0 has 1 entries, expected"),
    (lambda: make_problem("matrix-completion", mu=-1.0), "mu must be finite and >= 0"),
])
def test_bad_input_is_a_one_line_input_error(make, match):
    with pytest.raises(InputError, match=match) as e:
        make()
    assert "\n" not in str(e.value)


def test_check_feasible_refuses_points_off_the_simplex():
    p = make_problem("graph-cuts", **CUTS)
    p.check_feasible(p.x0)
    with pytest.raises(InputError, match="x is off the simplex: node 0's block sums to"):
        p.check_feasible(p.x0 + 0.1)
    with pytest.raises(InputError, match="x has shape"):
        p.check_feasible(np.zeros(3))


def test_kernels_give_the_same_bits_without_the_jit():
    code = ("import json, numpy as np\n"
            "from asyncproof.reference.problems import make_problem\n"
            "out = {}\n"
            "for name, params in [('matrix-completion', %r), ('graph-cuts', %r)]:\n"
            "    p = make_problem(name, **params)\n"
            "    x = p.x0 + 0.25\n"
            "    out[name] = [p.value(x), p.grad(x).tobytes().hex(), p.sample_grad(x, 1).tobytes().hex()]\n"
            "    if p.constrained: out[name].append(p.project(x).tobytes().hex())\n"
            "print(json.dumps(out))\n") % (MC, CUTS)
    env = {**os.environ, "PYTHONPATH": os.path.dirname(os.path.dirname(asyncproof.__file__))}
    runs = [subprocess.run([sys.executable, "-c", code], env={**env, **extra}, capture_output=True, text=True)
            for extra in ({}, {"NUMBA_DISABLE_JIT": "1"})]
    assert all(r.returncode == 0 for r in runs), [r.stderr for r in runs]
    assert runs[0].stdout == runs[1].stdout
