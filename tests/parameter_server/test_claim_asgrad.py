"""The AsGrad claims: Theorem 1's step-size conditions over runs, and τ_C = n for shuffled SGD."""

from __future__ import annotations

import math

import pytest
import sympy as sp

from asyncproof.proofs import get_claim, run_claim
from asyncproof.proofs.claims.parameter_server import asgrad_theorem1 as a1
from asyncproof.proofs.claims.parameter_server import shuffled_assignment as sa
from asyncproof.reference.errors import InputError
from asyncproof.reference.parameter_server.asgrad import AsGradReceived
from asyncproof.reference.schedule import run_algorithm


@pytest.mark.parametrize("claim", ["asgrad-theorem1", "shuffled-assignment"])
def test_claims_pass(claim):
    results = run_claim(claim, "quick")
    assert results and all(r.passed for r in results), [r.detail for r in results]


def test_wrong_step_size_formula_fails():
    L, tm, tc = sp.symbols("L tau_max tau_C", positive=True)
    wrong = lambda: sp.Min(1 / (6 * L), 1 / (20 * L * tm * tc))          # forgot the square root
    passed, detail = a1.check_largest_step("quick", derive=wrong)
    assert not passed, detail


def test_wrong_conditions_fail_on_runs():
    wrong = lambda L, g, tm, tc: 6 * L * g <= 1 and 20 * L * g * tm * tc <= 1
    passed, detail = a1.check_on_runs("quick", conditions=wrong)
    assert not passed, detail


def test_the_shuffled_statement_is_refuted_on_random_asgrad():
    passed, detail = sa.check_blocks("quick", algorithm="random-async-sgd")
    assert not passed and "counterexample" in detail
    assert sa.block_violation([0, 1, 2, 2, 2, 0], 3) and sa.block_violation([0, 1, 0], 3)
    assert sa.block_violation([0, 1, 2, 2, 0, 1], 3) is None            # two blocks, each a permutation


def test_the_rate_check_fails_when_the_run_outside_the_conditions_does_not_break_the_rate():
    """With γ = 0.02 the delay-5 run is stable (γ*(5) = 0.0285): inside the conditions' spirit, and it
    does not stand out from the fitted constant, so the check must say so."""
    passed, detail = a1.check_rate_on_runs("quick", outside_gamma=0.02)
    assert not passed, detail


def test_the_rate_check_reports_the_fitted_constant_and_the_divergence():
    """The detail carries the numbers compared: c, the held-out ratio in units of c (<= 2), and the
    run outside the conditions in units of c (beyond 100, or ∞ if it overflowed)."""
    import re
    passed, detail = a1.check_rate_on_runs("quick")
    assert passed, detail
    c = float(re.search(r"^c = ([0-9.e+-]+) fitted", detail).group(1))
    held = float(re.search(r"largest ratio [0-9.e+-]+ = ([0-9.]+)c", detail).group(1))
    outside = re.search(r": ([0-9.e+]+|∞)c?$", detail).group(1)
    assert 0 < c and held <= 2 and (outside == "∞" or float(outside) > 100), detail


def test_predicate_against_the_formula():
    for L, tm, tc in [(1.0, 1, 1), (3.0, 7, 4)]:
        g = 1 / (20 * L * math.sqrt(tm * tc))
        assert a1.step_size_conditions(L, g * 0.999, tm, tc)
        assert not a1.step_size_conditions(L, g * 1.001, tm, tc)


def test_ingredients_are_measured_from_the_run():
    res = run_algorithm("random-async-sgd", problem={"name": "least-squares", "params": {"m": 20, "d": 2}},
                        params={"n": 3, "T": 12, "zeta": 1.0, "gamma": 0.02}, seed=4, adversary="random:seed=2")
    ing = a1.ingredients(res)
    taus = [r.tau for r in res.trace.records(AsGradReceived)]
    assert ing["tau_max"] >= max(taus) and ing["tau_C"] == 3            # C = n jobs in flight
    assert ing["nu2"] >= 0 and len(ing["sigma2"]) == math.ceil(12 / ing["period"])
    assert ing["nu2"] > 0     # heterogeneous data (ζ = 1) and stale gradients: a nonzero delay variance


def test_ingredients_need_a_smoothness_constant():
    res = run_algorithm("pure-async-sgd", problem={"name": "kmeans", "params": {"m": 12}}, params={"n": 2, "T": 3})
    with pytest.raises(InputError, match="no known smoothness constant"):
        a1.ingredients(res)
    with pytest.raises(InputError):
        a1.step_size_conditions(0.0, 0.1, 1, 1)


def test_claims_are_registered_with_sources():
    for cid in ("asgrad-theorem1", "shuffled-assignment"):
        assert "001_c6590ddcd2705154.txt" in get_claim(cid).source
