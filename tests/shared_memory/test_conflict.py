"""The conflict graph and its statistics (reference/shared_memory/conflict.py), against brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asyncproof.reference.errors import InputError
from asyncproof.reference.problems import make_problem
from asyncproof.reference.shared_memory.conflict import check_supports, conflict_graph, conflict_stats, supports_of

supports_lists = st.integers(1, 8).flatmap(
    lambda d: st.lists(st.lists(st.integers(0, d - 1), max_size=d, unique=True), min_size=1, max_size=12))


def _meet(a, b) -> bool:
    return bool(set(a) & set(b))


@settings(max_examples=60, deadline=None, derandomize=True)
@given(supports_lists)
def test_edges_are_exactly_the_pairs_whose_supports_meet(supports):
    g = conflict_graph(supports)
    want = {(a, b) for a, b in itertools.combinations(range(len(supports)), 2) if _meet(supports[a], supports[b])}
    assert sorted(g.nodes) == list(range(len(supports)))
    assert {tuple(sorted(e)) for e in g.edges} == want


@settings(max_examples=60, deadline=None, derandomize=True)
@given(supports_lists)
def test_stats_are_the_exact_frequencies_over_pairs(supports):
    s = conflict_stats(supports)
    m = len(supports)
    ordered = [(a, b) for a in range(m) for b in range(m)]
    adjacent = sum(1 for a, b in ordered if a != b and _meet(supports[a], supports[b]))
    meeting = sum(1 for a, b in ordered if _meet(supports[a], supports[b]))
    degrees = [sum(1 for b in range(m) if b != a and _meet(supports[a], supports[b])) for a in range(m)]
    assert s.m == m and s.edges * 2 == adjacent
    assert s.avg_degree == pytest.approx(sum(degrees) / m, rel=1e-15) and s.max_degree == max(degrees)
    # the slide's Pr(two samples conflict) = Δ_av / n: two independent uniform draws, adjacent
    assert s.conflict_probability == pytest.approx(adjacent / (m * m), rel=1e-15)
    assert s.conflict_probability == pytest.approx(s.avg_degree / m, rel=1e-15)
    assert s.collision_probability == pytest.approx(meeting / (m * m), rel=1e-15)
    if m > 1:
        assert s.pair_conflict_probability == pytest.approx(adjacent / (m * (m - 1)), rel=1e-15)
        assert s.pair_conflict_probability == pytest.approx(s.avg_degree / (m - 1), rel=1e-15)
    else:
        assert s.pair_conflict_probability == 0.0


def test_collision_probability_is_delta_plus_one_over_n_without_empty_supports():
    s = conflict_stats(supports_of(make_problem("sparse-svm", m=30, d=12, nnz=2)))
    assert s.collision_probability == pytest.approx((s.avg_degree + 1) / s.m, rel=1e-14)


def test_the_measured_frequency_of_conflicts_matches_the_formula():
    """SGD-style draws (uniform, with replacement) of two samples: the fraction adjacent in the
    conflict graph is within a few standard errors of Δ_av / n."""
    p = make_problem("sparse-svm", m=60, d=40, nnz=3, seed=2)
    sup = supports_of(p)
    s = conflict_stats(sup)
    rng = np.random.Generator(np.random.PCG64(7))
    n = 20_000
    pairs = rng.integers(0, p.m, size=(n, 2))
    hits = sum(1 for a, b in pairs if a != b and _meet(sup[a], sup[b]))
    q = s.conflict_probability
    assert abs(hits / n - q) <= 5 * (q * (1 - q) / n) ** 0.5


@pytest.mark.parametrize("spec", [{"name": "sparse-svm", "params": {"m": 12, "d": 9}},
                                  {"name": "matrix-completion", "params": {"n_rows": 4, "n_cols": 3, "m": 9}},
                                  {"name": "graph-cuts", "params": {"nodes": 6, "m": 8, "labels": 3}}])
def test_supports_of_is_the_problems_per_sample_support(spec):
    p = make_problem(spec["name"], **spec["params"])
    sup = supports_of(p)
    assert len(sup) == p.m
    for j, s in enumerate(sup):
        assert s.dtype == np.int64 and s.tolist() == p.support(j).tolist()
    assert conflict_stats(sup).m == p.m


@pytest.mark.parametrize("supports, d, message", [
    ([[0, 1], [3]], 3, "the support of sample 1 holds coordinate 3, out of range 0 .. 2 (d = 3)"),
    ([[-1]], 3, "the support of sample 0 holds coordinate -1, out of range 0 .. 2 (d = 3)"),
    ([[0, 2], [1, 2, 1]], 3, "the support of sample 1 holds coordinate 1 twice"),
    ([[0.5]], 3, "the support of sample 0 must be a 1-D array of integer coordinates, got [0.5]"),
    ([[[0, 1]]], 3, "the support of sample 0 must be a 1-D array of integer coordinates, got [[0, 1]]"),
    # the first defective sample is named, whatever its defect; within one, a coordinate out of range first
    ([[2, 0, 2], [], [5]], 3, "the support of sample 0 holds coordinate 2 twice"),
    ([[1], [], [2, 2, 7]], 3, "the support of sample 2 holds coordinate 7, out of range 0 .. 2 (d = 3)"),
    ([[0], [4], [0.5]], 3, "the support of sample 1 holds coordinate 4, out of range 0 .. 2 (d = 3)"),
    ([[0], [1, 0], [2, 1, 1], [0.5]], 3, "the support of sample 2 holds coordinate 1 twice"),
])
def test_bad_supports_are_input_errors_naming_the_sample(supports, d, message):
    """(The checks are vectorised over all supports; these cases pin the order in which a per-sample
    loop meets the defects.)"""
    with pytest.raises(InputError) as e:
        check_supports(supports, d)
    assert str(e.value) == message


def test_supports_of_refuses_a_problem_whose_support_is_out_of_range(monkeypatch):
    p = make_problem("sparse-svm", m=5, d=4)
    monkeypatch.setattr(p, "support", lambda j: np.array([0, p.d]) if j == 3 else np.array([0]))
    with pytest.raises(InputError, match="sample 3 holds coordinate 4, out of range 0 .. 3"):
        supports_of(p)


def test_no_samples_is_an_input_error():
    with pytest.raises(InputError, match="at least one sample"):
        conflict_stats([])


def test_a_coordinate_shared_by_many_samples_makes_a_clique():
    # the index coordinate -> samples: every sample holding coordinate 0 conflicts with every other
    supports = [[0, 1 + j] for j in range(7)]
    g = conflict_graph(supports)
    assert g.number_of_edges() == 7 * 6 // 2 and conflict_stats(supports).max_degree == 6
