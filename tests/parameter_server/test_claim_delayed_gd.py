"""The claim ``delayed-gd-quadratic`` (seed 004: delays degrade GD on x² + 5y²).

The claim passes on quick; every check fails when handed a wrong step formula or a
wrong characteristic polynomial (a failed comparison, not a crash); the threshold
agrees with an independent brute-force search on the companion matrix's spectral
radius; the iterates agree with the reference problem's gradient; bad input is a
one-line :class:`InputError`.
"""

from __future__ import annotations

import itertools

import math

import numpy as np
import pytest
import sympy as sp

import asyncproof
from asyncproof.proofs import get_claim, run_claim
from asyncproof.proofs.claims.parameter_server import delayed_gd_quadratic as dg
from asyncproof.reference.errors import InputError
from asyncproof.reference.problems import make_problem

CLAIM_ID = "delayed-gd-quadratic"
Z = dg.Z


def test_the_claim_is_registered_with_its_seed_and_passes_on_quick():
    claim = get_claim(CLAIM_ID)
    assert "004_5e02a306927ced0b.txt" in claim.source
    assert "Asynchronous SGD can get wild" in claim.source and "Delay = 5" in claim.source
    assert [c.kind for c in claim.checks] == ["symbolic", "symbolic", "property", "counterexample", "counterexample",
                                              "counterexample"]
    results = run_claim(CLAIM_ID, budget="quick")
    for r in results:
        assert r.passed, f"{r.name}: {r.detail}"
        assert r.detail and "\n" not in r.detail
    table = claim.check("largest-stable-step").run("quick").detail
    assert "τ = 0: 1/5 = 0.2" in table and "τ = 5: sin(pi/22)/5 = 0.02846297" in table


# --------------------------------------------------------------------------------------
# every check fails on a wrong formula
# --------------------------------------------------------------------------------------


WRONG_STEPS = {
    # the brief's off-by-one in the phase: π/(2(2τ+2)) for π/(2(2τ+1))
    "sin-pi-over-2(2tau+2)": lambda tau, L=10: 2 / sp.sympify(L) * sp.sin(sp.pi / (2 * (2 * tau + 2))),
    # "divide the step by τ + 1": right at τ = 0 and τ = 1, wrong from τ = 2
    "2-over-L(tau+1)": lambda tau, L=10: 2 / (sp.sympify(L) * (tau + 1)),
    # the factor 2 of 2/L forgotten
    "1-over-L": lambda tau, L=10: 1 / sp.sympify(L) * sp.sin(sp.pi / (2 * (2 * tau + 1))),
}

WRONG_POLYNOMIALS = {
    # the exponent one too high: the recurrence of delay τ + 1
    "delay-one-too-long": lambda tau, gh: Z ** (tau + 2) - Z ** (tau + 1) + gh,
    # the gradient term one exponent too high: u_{k−τ+1}, the recurrence of delay τ − 1
    "delay-one-too-short": lambda tau, gh: Z ** tau * (Z - 1) + gh * Z,
    # the sign of the gradient step flipped (ascent)
    "plus-gamma-h": lambda tau, gh: Z ** (tau + 1) - Z ** tau - gh,
}

USES = {   # check name -> the overrides it takes
    "characteristic-polynomial": ("polynomial",),
    "largest-stable-step": ("step", "polynomial"),
    "iterates-at-0.9-and-1.1": ("step", "polynomial"),
    "seed-delay-5": ("step", "polynomial"),
}

CASES = [(check, "step", w) for check, kws in USES.items() if "step" in kws for w in WRONG_STEPS] + \
        [(check, "polynomial", w) for check, kws in USES.items() if "polynomial" in kws for w in WRONG_POLYNOMIALS]


def test_every_check_is_covered_by_the_wrong_variants():
    # the adversary search's failing variant is a step below γ*(5), in
    # test_adversary_search_finds_nothing_below_the_threshold; the engine run's, a wrong recurrence or a
    # stable step, in test_the_engine_check_fails_on_a_wrong_recurrence_or_a_stable_step
    assert set(USES) | {"adversary-finds-delay-5-divergence", "engine-held-at-delay-5"} == \
        {c.name for c in get_claim(CLAIM_ID).checks}


@pytest.mark.parametrize("check, kw, wrong", CASES)
def test_checks_fail_on_a_wrong_formula(check, kw, wrong):
    c = get_claim(CLAIM_ID).check(check)
    fn = (WRONG_STEPS if kw == "step" else WRONG_POLYNOMIALS)[wrong]
    r = c.run("quick", **{kw: fn})
    assert not r.passed, r.detail
    assert not r.detail.startswith("raised"), r.detail              # a failed comparison, not a crash
    assert "\n" not in r.detail


def test_a_wrong_step_is_reported_with_its_delay_and_both_values():
    r = get_claim(CLAIM_ID).check("largest-stable-step").run("quick", step=WRONG_STEPS["sin-pi-over-2(2tau+2)"])
    assert "τ = 0: L·step = sqrt(2)" in r.detail and "derived 2 sin(θ/2) = 2" in r.detail


def test_a_non_polynomial_builder_is_a_failed_check_not_a_crash():
    inverse = lambda tau, gh: Z ** tau - Z ** (tau - 1) + gh      # z^{-1} at τ = 0
    for name in ("largest-stable-step", "iterates-at-0.9-and-1.1", "seed-delay-5", "characteristic-polynomial"):
        r = get_claim(CLAIM_ID).check(name).run("quick", polynomial=inverse)
        assert not r.passed and not r.detail.startswith("raised"), (name, r.detail)


# --------------------------------------------------------------------------------------
# the threshold against an independent brute force
# --------------------------------------------------------------------------------------


def _companion(tau: int, gamma_h: float) -> np.ndarray:
    """State (u_k, ..., u_{k−τ}) -> (u_{k+1}, ..., u_{k+1−τ}) for u_{k+1} = u_k − γh u_{k−τ}."""
    A = np.zeros((tau + 1, tau + 1))
    A[0, 0] += 1.0
    A[0, tau] -= gamma_h
    A[np.arange(1, tau + 1), np.arange(tau)] = 1.0
    return A


def _radius(tau: int, gamma: float) -> float:
    """Spectral radius of the block-diagonal iteration of x² + 5y² (curvatures 2 and 10)."""
    return max(float(np.max(np.abs(np.linalg.eigvals(_companion(tau, gamma * h))))) for h in (2.0, 10.0))


def _brute_force_threshold(tau: int) -> float:
    """The first unstable step on a grid over (0, 0.25], then bisection between it and the last stable one."""
    grid = np.linspace(0.25 / 4000, 0.25, 4000)
    stable = np.array([_radius(tau, g) < 1 for g in grid])
    first = int(np.argmin(stable))
    assert stable[0] and not stable[first] and stable[:first].all() and not stable[first:].any()
    lo, hi = float(grid[first - 1]), float(grid[first])
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        if _radius(tau, mid) < 1:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


@pytest.mark.parametrize("tau", range(9))
def test_the_threshold_matches_a_brute_force_bisection_on_the_companion_matrix(tau):
    found = _brute_force_threshold(tau)
    assert math.isclose(float(dg.largest_stable_step(tau)), found, rel_tol=1e-6, abs_tol=0.0)
    row = dg.STABILITY_TABLE()[tau]
    assert row.tau == tau and math.isclose(row.decimal, found, rel_tol=1e-6, abs_tol=0.0)
    assert row.exact == dg.largest_stable_step(tau)


def test_the_companion_matrix_of_the_module_is_the_tests_one():
    for tau in range(9):
        A = np.array(dg.companion_matrix(tau, sp.Rational(3, 7)).tolist(), dtype=float)
        np.testing.assert_array_equal(A, _companion(tau, 3 / 7))


def test_spectral_radius_agrees_with_the_companion_eigenvalues():
    for tau, gamma in itertools.product(range(9), (0.003, 0.02, 0.1, 0.3)):
        assert math.isclose(float(dg.spectral_radius(tau, gamma)), _radius(tau, gamma), rel_tol=1e-9)


# --------------------------------------------------------------------------------------
# the helpers
# --------------------------------------------------------------------------------------


def test_characteristic_polynomial_is_derived_for_numbers_and_symbols():
    g = sp.Symbol("g", positive=True)
    for tau in range(9):
        assert sp.expand(dg.characteristic_polynomial(tau, g) - (Z ** (tau + 1) - Z ** tau + g)) == 0
    assert dg.characteristic_polynomial(2, sp.Rational(1, 2)) == Z ** 3 - Z ** 2 + sp.Rational(1, 2)


def test_largest_stable_step_exact_values():
    assert dg.largest_stable_step(0) == sp.Rational(1, 5)              # 2/L, the classic GD bound
    assert dg.largest_stable_step(1) == sp.Rational(1, 10)
    assert sp.simplify(dg.largest_stable_step(2) - (sp.sqrt(5) - 1) / 20) == 0
    assert dg.largest_stable_step(0, L=2) == 1
    assert abs(float(dg.largest_stable_step(5)) - 0.2 * math.sin(math.pi / 22)) < 1e-15


def test_delayed_gd_matches_the_reference_problem_of_seed_004():
    p = make_problem("quadratic")
    for gamma, tau in ((0.1, 0), (0.1, 5), (0.02, 3), (0.05, 8)):
        xs = [p.x0.copy()]
        for k in range(300):
            stale = xs[max(k - tau, 0)]                              # x_j = x_0 for j < 0
            xs.append(xs[k] - gamma * p.grad(stale))
        np.testing.assert_allclose(dg.delayed_gd(gamma, tau, 300), np.array(xs), rtol=1e-12, atol=0)
    assert dg.delayed_gd(0.1, 2, 0).tolist() == [[1.0, 1.0]]
    # by hand, γh = 1/2 and τ = 2: x_1 = 2 − x_0/2, x_2 = x_1 − x_0/2 (x_{−1} = x_0), x_3 = x_2 − x_0/2
    assert dg.delayed_gd(0.125, 2, 4, h=(4.0,), x0=(2.0,)).ravel().tolist() == [2.0, 1.0, 0.0, -1.0, -1.5]


def test_the_seed_picture_from_the_helpers():
    # a step that plain GD takes safely diverges at delay 5, and is already marginal at delay 1
    assert float(dg.spectral_radius(0, 0.1)) < 1 < float(dg.spectral_radius(5, 0.1))
    assert abs(dg.spectral_radius(1, sp.Rational(1, 10)) - 1) < 1e-40
    assert np.abs(dg.delayed_gd(0.1, 0, 500)[-1]).max() < 1e-20
    assert np.abs(dg.delayed_gd(0.1, 5, 500)[-1]).max() > 1e20


def test_stability_table_is_computed_on_demand():
    rows = dg.STABILITY_TABLE()
    assert [r.tau for r in rows] == list(range(9))
    assert rows[0].exact == sp.Rational(1, 5) and rows[0].decimal == 0.2
    assert all(a.decimal > b.decimal for a, b in zip(rows, rows[1:]))      # γ* shrinks with the delay
    assert dg.STABILITY_TABLE(range(3), L=2)[2].decimal == pytest.approx(5 * rows[2].decimal)


# --------------------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------------------


BAD = [
    (dg.characteristic_polynomial, (-1, 1), {}, "tau"),
    (dg.characteristic_polynomial, (1.5, 1), {}, "tau"),
    (dg.characteristic_polynomial, (2.0, 1), {}, "tau"),
    (dg.characteristic_polynomial, (True, 1), {}, "tau"),
    (dg.characteristic_polynomial, ("2", 1), {}, "tau"),
    (dg.characteristic_polynomial, (2, 0), {}, "gamma_h"),
    (dg.characteristic_polynomial, (2, -0.5), {}, "gamma_h"),
    (dg.characteristic_polynomial, (2, float("nan")), {}, "gamma_h"),
    (dg.characteristic_polynomial, (2, sp.Symbol("a", negative=True)), {}, "gamma_h"),
    (dg.characteristic_polynomial, (2, "0.1"), {}, "gamma_h"),
    (dg.largest_stable_step, (-1,), {}, "tau"),
    (dg.largest_stable_step, (2.5,), {}, "tau"),
    (dg.largest_stable_step, (3,), {"L": 0}, "L"),
    (dg.largest_stable_step, (3,), {"L": -10}, "L"),
    (dg.delayed_gd, (0, 1, 10), {}, "gamma"),
    (dg.delayed_gd, (-0.1, 1, 10), {}, "gamma"),
    (dg.delayed_gd, (float("nan"), 1, 10), {}, "gamma"),
    (dg.delayed_gd, (float("inf"), 1, 10), {}, "gamma"),
    (dg.delayed_gd, ("0.1", 1, 10), {}, "gamma"),
    (dg.delayed_gd, (0.1, -1, 10), {}, "tau"),
    (dg.delayed_gd, (0.1, 1.5, 10), {}, "tau"),
    (dg.delayed_gd, (0.1, 1, -1), {}, "steps"),
    (dg.delayed_gd, (0.1, 1, 2.0), {}, "steps"),
    (dg.delayed_gd, (0.1, 1, 10), {"h": (2, -10)}, "h (the curvatures)"),
    (dg.delayed_gd, (0.1, 1, 10), {"h": "ab"}, "h (the curvatures)"),
    (dg.delayed_gd, (0.1, 1, 10), {"x0": (1, 1, 1)}, "x0"),
    (dg.delayed_gd, (0.1, 1, 10), {"x0": (1, float("nan"))}, "x0"),
    (dg.spectral_radius, (-1, 0.1), {}, "tau"),
    (dg.spectral_radius, (1, 0), {}, "gamma"),
    (dg.STABILITY_TABLE, ([0, -1],), {}, "tau"),
    (dg.STABILITY_TABLE, (3,), {}, "taus"),
]


@pytest.mark.parametrize("fn, args, kwargs, text", BAD, ids=[f"{f.__name__}-{i}" for i, (f, *_) in enumerate(BAD)])
def test_bad_input_is_a_one_line_input_error(fn, args, kwargs, text):
    with pytest.raises(InputError) as e:
        fn(*args, **kwargs)
    assert text in str(e.value) and "\n" not in str(e.value), str(e.value)


def test_bad_check_parameters_are_failed_lines_naming_the_field():
    claim = get_claim(CLAIM_ID)
    r = claim.check("iterates-at-0.9-and-1.1").run("quick", taus=[0, -2])
    assert not r.passed and r.detail.startswith("raised InputError") and "tau" in r.detail
    r = claim.check("largest-stable-step").run("quick", L=2)
    assert not r.passed and "largest curvature" in r.detail


def test_adversary_search_saves_a_divergent_delay_5_schedule_that_replays(tmp_path):
    import json
    import subprocess
    import sys
    passed, detail = dg.check_adversary_search("quick", directory=tmp_path)
    assert passed, detail
    path = tmp_path / "delayed-gd-quadratic-delay5.json"
    d = json.loads(path.read_text())
    assert d["algorithm"] == "pure-async-sgd" and d["params"]["gamma"] == 0.1
    r = subprocess.run([sys.executable, "-m", "asyncproof", "replay", str(path)], capture_output=True, text=True,
                       env={**__import__("os").environ,
                            "PYTHONPATH": str(__import__("pathlib").Path(asyncproof.__file__).resolve().parents[1])})
    assert r.returncode == 0 and r.stdout.startswith("reproduced"), r.stdout + r.stderr


def test_adversary_search_finds_nothing_below_the_threshold(tmp_path):
    # γ = 0.02 < γ*(5) ≈ 0.0285: no schedule with delays <= 5 diverges, and the check says so
    passed, detail = dg.check_adversary_search("quick", gamma=0.02, directory=tmp_path)
    assert not passed and "no schedule" in detail


def test_the_engine_held_at_delay_5_is_the_recurrence_and_diverges(tmp_path):
    passed, detail = dg.check_engine_holds_delay("quick", directory=tmp_path)
    assert passed and "bit for bit" in detail and "reproduced" in detail, detail
    assert (tmp_path / "delayed-gd-quadratic-held-delay5.json").exists()


def test_the_engine_check_fails_on_a_wrong_recurrence_or_a_stable_step(tmp_path):
    one_off = lambda g, t, s: dg.delayed_gd(g, t - 1, s)          # noqa: E731  (delay 4 read as 5)
    passed, detail = dg.check_engine_holds_delay("quick", directory=tmp_path, recurrence=one_off)
    assert not passed and "differs from the recurrence" in detail
    passed, detail = dg.check_engine_holds_delay("quick", directory=tmp_path, gamma=0.02)   # γ < γ*(5)
    assert not passed and "no divergence" in detail
