"""The HOGWILD! claims (proofs/claims/hogwild_*.py): they pass on quick, and every check fails
when handed a wrong formula (a failed comparison, not a crash); bad input is one line."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp

from asyncproof.proofs import get_claim, run_claim
from asyncproof.proofs.claims import hogwild_conflict_probability as cp
from asyncproof.proofs.claims import hogwild_noise_bound as nb
from asyncproof.proofs.claims import hogwild_theorem_3_4 as t34
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


def test_the_runs_use_tau_within_the_condition_and_draws_independent_of_the_schedule():
    for label, spec, _ in nb.RUN_INSTANCES:
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
    assert ok and "T = 355" in detail and "τ = 1" in detail
    ok, detail = t34.check_runs("quick", iterations=lambda *a: t34.theorem_iterations(*a) / 20)
    assert not ok and "> ε" in detail
    assert not t34.check_runs("quick", step=lambda e, m, M2: e * m / (40 * M2))[0]


def test_the_cycle_problem_has_the_stated_constants():
    p, x_star = t34.cycle_least_squares(8, 0)
    assert p.mu == pytest.approx(1 / 8, rel=1e-12)
    assert np.allclose(p.grad(x_star), 0.0, atol=1e-14)
    A = p.arrays[0]
    assert np.allclose(np.linalg.norm(A, axis=1), 1.0) and np.allclose(A.T @ A, 2 * np.eye(8))
    rng = np.random.default_rng(0)
    for _ in range(20):                     # ||∇f_j(x)|| <= ||x − x*||
        x = rng.normal(size=8)
        j = int(rng.integers(p.m))
        assert np.linalg.norm(p.sample_grad(x, j)) <= np.linalg.norm(x - x_star) * (1 + 1e-12)
    assert math.isclose(conflict_stats(supports_of(p)).avg_degree, 5.0)


def test_bad_budget_is_an_input_error():
    for check in (cp.check_measured, nb.check_measured, t34.check_runs):
        with pytest.raises(InputError, match="unknown budget 'fast'"):
            check("fast")
