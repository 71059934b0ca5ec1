"""The HOGWILD! claims (proofs/claims/shared_memory/hogwild_*.py): they pass on quick, every check fails when
handed a wrong formula or run on a degraded HOGWILD! (a failed comparison, not a crash), the
reference values (M²) come from the problems' data, not from the runs checked; bad input is one
line."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp

from asyncproof.proofs import get_claim, run_claim
from asyncproof.proofs.claims.shared_memory import hogwild_conflict_probability as cp
from asyncproof.proofs.claims.shared_memory import hogwild_noise_bound as nb
from asyncproof.proofs.claims.shared_memory import hogwild_theorem_3_4 as t34
from asyncproof.reference.errors import InputError
from asyncproof.reference.problems import make_problem
from asyncproof.reference.shared_memory.conflict import conflict_stats, supports_of

IDS = ["hogwild-conflict-probability", "hogwild-noise-bound", "hogwild-theorem-3.4"]


@pytest.mark.parametrize("claim_id", IDS)
def test_registered_with_the_seed_and_passing_on_quick(claim_id):
    claim = get_claim(claim_id)
    assert "002_34168ee93540180b.txt" in claim.source
    for r in run_claim(claim_id, budget="quick"):
        assert r.passed, f"{r.name}: {r.detail}"
        assert r.detail and "\n" not in r.detail


def test_the_slides_formula_is_exact_for_adjacency_and_the_readings_differ():
    ok, detail = cp.check_handshake("quick")
    assert ok and "Pr(edge) = 392/40000 = 0.00980 = Δ_av/n" in detail
    stats = cp.instance_stats(cp.INSTANCES[0][1])
    assert stats.conflict_probability == pytest.approx(stats.avg_degree / stats.m)


@pytest.mark.parametrize("wrong", [lambda a, n: a / (n - 1), lambda a, n: (a + 1) / n, lambda a, n: 2 * a / n])
def test_conflict_probability_fails_on_a_wrong_formula(wrong):
    ok, detail = cp.check_handshake("quick", formula=wrong)
    assert not ok and "the formula" in detail


def test_measured_frequency_fails_on_a_formula_off_by_more_than_noise():
    assert cp.check_measured("quick")[0]
    ok, detail = cp.check_measured("quick", formula=lambda a, n: 2 * a / n)
    assert not ok and "z = " in detail


def test_noise_bound_algebra_and_its_wrong_variants():
    ok, detail = nb.check_algebra("quick")
    assert ok and "vanishes at τ = n/(2*Delta)" in detail
    assert not nb.check_algebra("quick", threshold=lambda n, D: n / D)[0]
    assert not nb.check_algebra("quick", bound=lambda g, t, M2, p: g ** 2 * t * M2 * p)[0]


def test_noise_bound_runs_and_their_wrong_variants():
    assert nb.check_per_sample("quick")[0] and nb.check_measured("quick")[0]
    ok, detail = nb.check_per_sample("quick", term=lambda g, c, M2: g ** 2 * c * M2 / 10)
    assert not ok and "noise" in detail
    assert not nb.check_measured("quick", bound=lambda g, t, M2, p: g ** 2 * M2 * p / 100)[0]


def test_the_noise_bound_binds_where_the_claim_says():
    """Lockstep cores on one-hot rows: the per-sample bound is reached, the mean is a quarter of the bound."""
    ok, detail = nb.check_per_sample("quick")
    assert ok and "lockstep: 200 samples, τ = 4, max c_k = 2, max measured/bound = 1.000" in detail
    ok, detail = nb.check_measured("quick")
    first = detail.split("M² from the problem's data: ")[1].split("; ")[0]
    assert ok and "lockstep: τ = 4" in first
    ratio = float(first.split("measured/bound = ")[1].split(")")[0])
    assert 0.2 <= ratio <= 0.25 + 1e-9


@pytest.mark.parametrize("variant", ["broken-hogwild-stale-read", "hogwild-racy"])
def test_noise_bound_fails_on_a_degraded_hogwild(variant):
    """Reads from a core's stale copy, or lost updates: x̂_k − x_k is no longer a sum over the window."""
    ok, detail = nb.check_per_sample("quick", algorithm=variant)
    assert not ok and "> γ² c_k M²" in detail
    ok, detail = nb.check_measured("quick", algorithm=variant)
    assert not ok and "lockstep" in detail and ": NO" in detail


def test_noise_bound_fails_on_an_overlap_beyond_tau_or_the_condition():
    ok, detail = nb.check_per_sample("quick", algorithm="broken-hogwild-overlap-off-by-one")
    assert not ok and "more than τ" in detail
    ok, detail = nb.check_measured("quick", tau=6)          # n/(2(Δ_av + 1)) = 4 on the one-hot instance
    assert not ok and "τ = 6" in detail and ": NO" in detail


def test_m2_comes_from_the_data_and_bounds_every_gradient():
    rng = np.random.default_rng(0)
    for label, spec, _, _ in nb.RUN_INSTANCES:
        problem, _, M2 = nb._instance(label)
        assert M2 == nb.gradient_bound(make_problem(spec["name"], **spec["params"]))   # no run involved
        for _ in range(50):
            x = rng.normal(size=problem.d) * 3
            j = int(rng.integers(problem.m))
            assert float(np.sum(problem.sample_grad(x, j) ** 2)) <= M2 * (1 + 1e-12)
    with pytest.raises(InputError, match="no bound on the gradients of matrix-completion"):
        nb.gradient_bound(make_problem("matrix-completion"))


def test_the_runs_use_tau_within_the_condition_and_draws_independent_of_the_schedule():
    for label, spec, _, _ in nb.RUN_INSTANCES:
        run = nb._run(label, 0, nb.RUNS["quick"][1])
        stats = conflict_stats(supports_of(make_problem(spec["name"], **spec["params"])))
        assert run["tau"] <= stats.m / (2 * (stats.avg_degree + 1)) and run["overlap"] <= run["tau"]
        assert run["pairs"] > 0


def test_theorem_symbolic_and_its_wrong_variants():
    ok, detail = t34.check_unrolled("quick")
    assert ok and "the floor γM²/m = epsilon/2" in detail
    assert not t34.check_unrolled("quick", step=lambda e, m, M2: e * m / M2)[0]
    assert not t34.check_unrolled("quick", iterations=lambda M2, a0, e, m: M2 * sp.log(a0 / e) / (e * m ** 2))[0]


def test_theorem_runs_and_their_wrong_variants():
    ok, detail = t34.check_runs("quick")
    assert ok and "T = 671" in detail and "τ = 1" in detail and "(from the data)" in detail
    ratio = float(detail.split("measured/bound = ")[1].split(" ")[0])
    assert 0.15 <= ratio <= t34.CEILING                     # where the theorem's bound binds most
    ok, detail = t34.check_runs("quick", iterations=lambda *a: t34.theorem_iterations(*a) / 20)
    assert not ok and "> ε" in detail
    assert not t34.check_runs("quick", step=lambda e, m, M2: e * m / (40 * M2))[0]


def test_theorem_fails_when_the_O1_is_read_as_1():
    """T = M² log(a_0/ε)/(εm²), the theorem's order with its constant dropped: a quarter of the T needed."""
    ok, detail = t34.check_runs("quick", iterations=lambda M2, a0, e, m: M2 * math.log(a0 / e) / (e * m ** 2))
    assert not ok and "> ε" in detail


def test_theorem_fails_when_M2_bounds_the_full_gradient_instead_of_the_samples():
    """γ from a bound on ||∇f(x)||² = m²||x − x*||² (the objective's gradient) rather than on the stochastic
    gradients ||∇f_s(x)||²: a step ~50 times too large, whose floor is far above ε."""
    problem, x_star = t34._instance()
    full = (problem.mu * t34.REGION * float(np.linalg.norm(x_star))) ** 2
    ok, detail = t34.check_runs("quick", step=lambda e, m, M2: e * m / (2 * full))
    assert not ok and "> ε" in detail and "the assumption fails" in detail


def test_the_theorem_problem_has_the_stated_constants():
    p, x_star = t34.coordinate_observations(2, 4, 4.0, 0)
    assert p.mu == pytest.approx(1 / 2, rel=1e-12) and p.L == pytest.approx(p.mu, rel=1e-12)
    assert np.allclose(p.grad(x_star), 0.0, atol=1e-14)      # x* is the minimiser
    R = float(np.linalg.norm(x_star))
    A, b = p.arrays
    assert np.allclose(np.abs(b - A @ x_star), 4.0 * R)      # every residual at x* is r = 4R
    M2 = t34.gradient_bound(p, x_star, 1.5 * R)
    assert M2 == pytest.approx((1.5 * R + 4.0 * R) ** 2, rel=1e-12)
    rng = np.random.default_rng(0)
    for _ in range(50):                                      # ||∇f_j(x)||² <= M² on the region
        u = rng.normal(size=2)
        x = x_star + u / np.linalg.norm(u) * 1.5 * R * rng.uniform()
        assert float(np.sum(p.sample_grad(x, int(rng.integers(p.m))) ** 2)) <= M2 * (1 + 1e-12)
    assert math.isclose(conflict_stats(supports_of(p)).avg_degree, 3.0)


def test_bad_budget_is_an_input_error():
    for check in (cp.check_measured, nb.check_measured, t34.check_runs):
        with pytest.raises(InputError, match="unknown budget 'fast'"):
            check("fast")
