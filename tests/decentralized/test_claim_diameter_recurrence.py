"""The diameter-recurrence claim (seed 000): each check fails when handed a wrong formula.

That the claim passes on the quick budget is tested for every claim in tests/test_proofs.py;
here each check is shown able to fail (a failed comparison, not a crash), and the module's
helpers are tied to independent computations.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import sympy as sp

from asyncproof.proofs import get_claim
from asyncproof.proofs.claims.decentralized import diameter_recurrence as dr
from asyncproof.reference.errors import InputError

SEED = "000_3f5163bcd896752f.txt"


def check(name):
    return get_claim("diameter-recurrence").check(name)


def test_the_claim_is_registered_with_its_slides_and_every_kind():
    c = get_claim("diameter-recurrence")
    assert SEED in c.source and "Main Correctness Claims" in c.source and "Correctness Proof" in c.source
    assert {ch.kind for ch in c.checks} == {"symbolic", "property", "counterexample"}
    assert "coordinatewise_diameter.py" in dr.__doc__ and "reconstructed" in dr.__doc__


# --- the helpers against independent computations ---------------------------------------------


def test_the_constants_read_from_the_slides():
    assert [dr.contraction(m) for m in range(1, 7)] == [Fraction(1, 2), Fraction(3, 4), Fraction(3, 4),
                                                        Fraction(5, 6), Fraction(5, 6), Fraction(7, 8)]
    assert dr.contraction(np.int64(5)) == Fraction(5, 6)
    assert dr.perturbation_constant(5, 3, 2, 1) == 4 * 3 * 2 * 2 + 2 * 1 * 3
    assert dr.eta_max(5, 2, 3) == pytest.approx(1 / 36)
    f = sp.Symbol("f", integer=True, nonnegative=True)
    assert sp.simplify(dr.contraction(2 * f + 1) - (2 * f + 1) / (2 * f + 2)) == 0


@pytest.mark.parametrize("bad, text", [(0, "must be >= 1, got 0"), (-3, "got -3"), (2.0, "integer >= 1, got 2.0"),
                                       (True, "got True"), ("3", "got '3'")])
def test_bad_cluster_counts_are_one_line_input_errors(bad, text):
    for fn in (dr.contraction, lambda m: dr.perturbation_constant(m, 1, 1, 1), lambda m: dr.eta_max(m, 1, 1)):
        with pytest.raises(InputError, match=text):
            fn(bad)


def test_the_trajectory_is_the_unrolled_sum():
    # independently: D_t = q^(t−1) D_1 + (1−q) C Σ_(j<t) q^(t−1−j) η_j, for an irregular rate sequence
    rng = np.random.default_rng(0)
    etas = sorted((Fraction(int(v), 1000) for v in rng.integers(1, 1000, size=12)), reverse=True)
    eta = lambda j: etas[j - 1]
    q, C, D_1 = Fraction(5, 6), Fraction(7, 3), Fraction(1, 9)
    D = dr.trajectory(eta, q, C, D_1, 12)
    for t in range(1, 13):
        assert D[t - 1] == q ** (t - 1) * D_1 + (1 - q) * C * sum(q ** (t - 1 - j) * eta(j) for j in range(1, t))
        if t >= 2:
            assert D[t - 1] <= dr.slide_bound(t, eta, q, C)


def test_the_per_two_reading_steps_two_at_a_time():
    # D_1 = D_2 = 0, D_(t+2) = q D_t + (1 − q) η_t C with q = 1/2, η_j = 1/j, C = 1
    D = dr.per_two_iterations(lambda j: Fraction(1, j), Fraction(1, 2), 1, 6)
    assert D == [0, 0, Fraction(1, 2), Fraction(1, 4), Fraction(5, 12), Fraction(1, 4)]


# --- each check fails on a realistic mistake ---------------------------------------------------


@pytest.mark.parametrize("step, text", [
    (lambda D, eta, q, C: q * D + eta * C, "not the slide's"),                     # the (1 − q) forgotten
    (lambda D, eta, q, C: q * D + (1 - q) * eta * C * q, "not the slide's"),       # η_t C shrunk by q once more
])
def test_unrolled_fails_on_a_wrong_recurrence(step, text):
    r = check("unrolled").run("quick", step=step)
    assert not r.passed and text in r.detail


def test_unrolled_fails_on_a_wrong_constant_rate_bound():
    r = check("unrolled").run("quick", constant_bound=lambda eta, C: 2 * eta * C)
    assert not r.passed and "not the slide's 2*C*eta" in r.detail


@pytest.mark.parametrize("mistake", dr.MISTAKES)
def test_split_at_half_cannot_prove_a_mistaken_form(mistake):
    r = check("split-at-half").run("quick", bound=dr.MISTAKES[mistake])
    assert not r.passed and "sympy cannot show it is >= 0" in r.detail


@pytest.mark.parametrize("mistake", dr.MISTAKES)
def test_the_grid_refutes_a_mistaken_form(mistake):
    r = check("decreasing-grid").run("quick", bound=dr.MISTAKES[mistake])
    assert not r.passed and "the recurrence reaches" in r.detail and "> bound" in r.detail


def test_the_limit_fails_when_the_rates_are_swapped():
    swapped = lambda t, eta, q, C: eta(1) * C + eta(dr._half(t)) * C * q ** dr._half(t)
    r = check("limit").run("quick", bound=swapped)
    assert not r.passed and "tends to C*eta, not 0" in r.detail


@pytest.mark.parametrize("q, text", [
    (lambda m: (2 * m + 1) / (2 * m + 2), "depend on ⌊m/2⌋ only"),               # m for ⌊m/2⌋
    (lambda m: sp.floor(m / 2) / (sp.floor(m / 2) + 1), "L d η_max"),            # the averaging factor alone
    (lambda m: sp.Rational(3, 4), "not shown > 0"),                              # one q for every m
])
def test_q_versus_m_fails_on_a_wrong_contraction(q, text):
    r = check("q-versus-m").run("quick", q=q)
    assert not r.passed and text in r.detail


def test_mistaken_forms_fails_when_handed_the_slides_bound_or_the_right_reading():
    r = check("mistaken-forms").run("quick", mistakes={"the slide's own": dr.slide_bound})
    assert not r.passed and "'the slide's own' was never exceeded" in r.detail
    per_step = lambda eta, q, C, T: dr.trajectory(eta, q, C, Fraction(0), T)
    r = check("mistaken-forms").run("quick", mistakes={}, readings={"per step": per_step})
    assert not r.passed and "'per step' stayed within the slide's bound" in r.detail


def test_the_grid_bound_is_nearly_attained_by_a_step_sequence():
    # the split is tight: a rate that drops just before ⌊t/2⌋ brings D_t within 0.1% of the bound
    q = dr.contraction(1)
    eta = dr.SEQUENCES["η·[j<=15] + η/100·[j>15]"]
    D = dr.trajectory(eta, q, 1, eta(1), 40)
    assert max(D[t - 1] / dr.slide_bound(t, eta, q, 1) for t in range(2, 41)) > Fraction(999, 1000)
