"""The agreement claims (seed 000): each check fails when handed a wrong constant or formula.

That the claims pass on the quick budget is tested for every claim in tests/test_proofs.py;
here each check is shown able to fail (a failed comparison, not a crash), and the numbers
the closing note quotes are tied to the formulas.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp

from asyncproof.proofs import get_claim
from asyncproof.proofs.claims.agreement import agreement_contraction as ac
from asyncproof.proofs.claims.agreement import agreement_rounds as ar
from asyncproof.proofs.claims.agreement import agreement_validity as av
from asyncproof.reference.agreement import mdaa
from asyncproof.reference.errors import InputError

SEED = "000_3f5163bcd896752f.txt"


def extrapolate(X):
    """A user rule that is not convex: 3/2 of the first value minus 1/2 of the last."""
    lam = [0.0] * len(X)
    lam[0] += 1.5
    lam[-1] -= 0.5
    return lam


def test_the_claims_are_registered_with_their_slides():
    for cid, slide in (("agreement-cluster-contraction", "MDAA within a Cluster"),
                       ("agreement-q-rounds", "Back to Overall MDAA"),
                       ("agreement-convex-aggregate", "Multi-Dimensional Approximate Agreement")):
        c = get_claim(cid)
        assert SEED in c.source and slide in c.source and len(c.checks) >= 4


# --- the in-cluster constant ------------------------------------------------------------------


@pytest.mark.parametrize("wrong", [sp.Rational(1, 2), sp.sqrt(3) / 2, sp.Rational(99, 100)])
def test_derivation_fails_on_a_wrong_constant(wrong):
    r = get_claim("agreement-cluster-contraction").check("derivation").run("quick", kappa=wrong)
    assert not r.passed and "is not the derived" in r.detail


@pytest.mark.parametrize("wrong", [sp.Rational(1, 2), sp.sqrt(3) / 2])
def test_the_tight_configuration_and_the_search_beat_a_smaller_constant(wrong):
    c = get_claim("agreement-cluster-contraction")
    r = c.check("tight-configuration").run("quick", kappa=wrong)
    assert not r.passed and "more than κ" in r.detail
    passed, detail = ac.check_geometric_search("quick", kappa=wrong, starts=4)
    assert not passed and "d = 3: a configuration contracts by only 0.92" in detail


def test_the_schedule_search_measures_factors_and_fails_below_them():
    passed, detail = ac.check_schedule_search("quick", examples=25)
    assert passed and "worst per-round factor" in detail
    worst = float(detail.split("diam(V_(r+1))/diam(V_r) = ")[1].split()[0])
    assert 0 < worst <= float(ac.KAPPA)
    passed, detail = ac.check_schedule_search("quick", kappa=worst / 2, examples=25)
    assert not passed and "ABOVE the constant" in detail


def test_the_exact_configurations():
    pts = [sp.Matrix(p) for p in ac.tight_configuration(3, exact=True)]
    dists = {sp.nsimplify(sp.simplify(((p - q).T * (p - q))[0, 0])) for i, p in enumerate(pts) for q in pts[i + 1:]}
    assert dists == {sp.Rational(2, 7), 1}                       # the triangles' sides, and 1 across
    assert ac.ratio_of_configuration(ac.tight_configuration(2)) == pytest.approx(math.sqrt(3) / 2, abs=1e-6)
    with pytest.raises(InputError, match="d = 2 or 3"):
        ac.tight_configuration(4)
    for bad in (0, 2, "x"):
        with pytest.raises(InputError, match="kappa"):
            ac.check_derivation("quick", kappa=bad)


# --- q-contraction in O(log 1/q) rounds ------------------------------------------------------


WRONG_KAPPAS = {
    "no-eps-term": lambda eps, rule, n: ar.kappa_formula(0.0, rule, n),
    "average-without-n": lambda eps, rule, n: ar.kappa_formula(eps, rule, n) if rule == "midextremes" else (1 + eps) / 2,
}
WRONG_ROUNDS = {
    "floor": lambda q, K, rule, n: max(1, math.floor(math.log(q) / (2 * math.log(ar.kappa_formula(
        mdaa.cluster_precision(K), rule, n))))),
    "no-square": lambda q, K, rule, n: max(1, math.ceil(math.log(q) / math.log(ar.kappa_formula(
        mdaa.cluster_precision(K), rule, n)))),
}


@pytest.mark.parametrize("wrong", WRONG_KAPPAS)
def test_kappa_of_eps_fails_on_a_wrong_formula(wrong):
    passed, detail = ar.check_kappa("quick", kappa_fn=WRONG_KAPPAS[wrong])
    assert not passed and "derived" in detail


@pytest.mark.parametrize("wrong", WRONG_ROUNDS)
def test_rounds_from_q_fails_on_a_wrong_formula(wrong):
    passed, detail = ar.check_rounds("quick", rounds_fn=WRONG_ROUNDS[wrong])
    assert not passed and "the least R with κ^(2R) <= q is" in detail


def test_runs_fail_against_a_too_small_constant():
    passed, detail = ar.check_runs("quick", kappa_fn=lambda eps, rule, n: 0.3)
    assert not passed and "κ(ε) 0.3000" in detail


def test_the_mdaa_schedule_search_fails_against_a_too_small_constant():
    passed, detail = ar.check_schedule_search("quick", examples=15)
    assert passed and "worst MDAA round factor" in detail
    worst = float(detail.split("diam(Y_(r+1))/diam(Y_r) = ")[1].split(",")[0])
    passed, detail = ar.check_schedule_search("quick", kappa_fn=lambda eps, rule, n: worst / 2, examples=15)
    assert not passed and "ABOVE a bound" in detail


def test_the_closing_note_numbers():
    rows = {eps: (K, R) for eps, K, _, R, _ in ar.rounds_table(1e-3)}
    assert rows[0.25] == (19, 80)
    assert ar.least_rounds(1e-3, math.sqrt(6 / 7)) == 45          # the limit ε → 0
    assert all(R >= 45 for _, R in rows.values())


def test_rounds_needed_fails_when_the_bound_is_too_short():
    passed, detail = ar.check_rounds_needed("quick", rounds_fn=lambda q, K, rule, n: 1, q=0.5, eps=0.5)
    assert not passed and "not the least R" in detail


# --- validity of convex Aggregate rules ------------------------------------------------------


def test_a_non_convex_rule_fails_the_rule_check():
    passed, detail = av.check_rules("quick", rule=extrapolate, examples=10)
    assert not passed and "not a convex combination" in detail


def test_a_non_convex_rule_is_refused_in_runs():
    r = get_claim("agreement-convex-aggregate").check("runs-stay-in-hull").run(
        "quick", rule="test_claim_agreement:extrapolate")
    assert not r.passed and "< 0: not a convex combination" in r.detail


def test_the_composition_lemma_for_other_sizes():
    for k, n in ((1, 1), (2, 5), (4, 2)):
        assert av.check_composition("quick", k=k, n=n)[0]


def test_softmax_is_a_convex_user_rule():
    w = av.softmax(np.array([[0.0, 5.0], [1.0, -2.0], [1.0, 0.0]]))
    assert all(v > 0 for v in w) and math.isclose(sum(w), 1.0) and w[1] == w[2]
