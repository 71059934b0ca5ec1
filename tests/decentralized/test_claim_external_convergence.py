"""The external-convergence claim (seed 000): each check fails on a realistic mistake.

That the claim passes on the quick budget is tested for every claim in tests/test_proofs.py;
here each check is shown able to fail (a failed comparison, not a crash) on a broken variant
handed through its keywords, on a cut-down grid so that the whole file stays cheap in CI, and
the module's helpers are tied to independent computations.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import sympy as sp

from asyncproof.proofs import get_claim
from asyncproof.proofs.claims.decentralized import external_convergence as ec
from asyncproof.reference.decentralized.general_algorithm import Averaged
from asyncproof.reference.errors import InputError
from asyncproof.reference.problems import make_problem
from asyncproof.reference.registry import get_algorithm
from asyncproof.reference.schedule import run_algorithm

SEED = "000_3f5163bcd896752f.txt"
RR = {"round-robin": ec.FAMILIES["round-robin"]}


def check(name):
    return get_claim("external-convergence").check(name)


def keeps_one_model():
    """step 5 "x ← Avg(received models)" written as "x ← one received model" (the lowest pid's): each node
    follows a single SGD chain, no 1/M variance reduction (the mistake the M-dependence must catch)."""
    base = get_algorithm("general-sgd")
    return replace(base, name="broken-general-keeps-one-model", broken=True,
                   steps=base.steps.replace(average=lambda models: models[min(models)].copy()))


def test_the_claim_is_registered_with_its_slides_and_kinds():
    c = get_claim("external-convergence")
    assert SEED in c.source and "Strongly Convex Q" in c.source and "External" in c.source
    assert [(ch.name, ch.kind) for ch in c.checks] == [("rate", "monte-carlo"), ("partition", "property"),
                                                       ("sequential-rate", "symbolic")]
    assert "follows\nthe slides alone" in ec.__doc__ or "follows the slides alone" in " ".join(ec.__doc__.split())


# --- the helpers against independent computations ---------------------------------------------


@pytest.mark.parametrize("d, M, T", [(1, 1, 7), (3, 2, 5), (2, 5, 9)])
def test_the_sequential_error_is_sigma2_over_mu2_M_T_when_H_is_mu_I(d, M, T):
    # η_1 = 1/μ forgets x_1 at once; then t e_(t+1) = (t−1) e_t + σ²/(μ²M): e_(t+1) = σ²/(μ²Mt)
    p = make_problem("quadratic", d=d, cond=1.0, sigma=1.5, m=8)
    got = ec.sequential_error(p, M, T, ec.RATE_OF(p))
    assert got == pytest.approx([1.5 ** 2 / (p.mu ** 2 * M * t) for t in range(1, T + 1)], rel=1e-12)


def test_a_constant_step_plateaus_at_its_fixed_point():
    # e = (1 − ηh)² e + η²σ_h²/M has the fixed point η²σ_h²/(M(1 − (1 − ηh)²)) per direction
    p = make_problem("quadratic", d=1, sigma=2.0, m=8)
    eta, M = 0.1, 3
    got = ec.sequential_error(p, M, 400, {"eta": eta, "schedule": "constant"})
    h = 2.0
    assert got[-1] == pytest.approx(eta ** 2 * 4.0 / (M * (1 - (1 - eta * h) ** 2)), rel=1e-9)


def test_the_optimum_zeroes_the_mean_gradient():
    p = make_problem(ec.PROBLEM["name"], **ec.PROBLEM["params"])
    x = ec.optimum(p)
    assert np.max(np.abs(p.grad(x))) < 1e-12 and np.max(np.abs(x)) < 1e-12


def test_the_decentralized_run_matches_the_sequential_error_when_every_model_is_averaged():
    # M = n: every node averages all n models, which is sequential mini-batch SGD with batch n
    # bit for bit in expectation; 40 seeds of d = 32 put the mean within a few percent
    p = make_problem(ec.PROBLEM["name"], **ec.PROBLEM["params"])
    est = ec.estimate("general-sgd", ec.PROBLEM, {"n": 3, "M": 3, "T": 4, **ec.RATE_OF(p)}, (4,), 40,
                      lambda s: ec.RoundRobin())
    seq = ec.sequential_error(p, 3, 4, ec.RATE_OF(p))[-1]
    assert np.all(np.abs(est["mean"][0] - seq) <= 4 * est["se"][0])
    assert est["senders"] == 3.0


def test_the_cut_keeps_both_sides_apart_when_M_fits_the_smaller_side():
    p = make_problem("quadratic", d=1, sigma=1.0, m=4)
    res = run_algorithm("general-sgd", problem=p, params={"n": 5, "M": 2, "T": 3}, adversary=ec.Cut(2))
    avgs = [(q, list(a.senders)) for _, q, _, a in res.trace.stepwise(Averaged)]
    assert len(avgs) == 15 and ec._crossed(avgs, 2) == []
    assert {tuple(s) for q, s in avgs if q < 2} == {(0, 1)}
    assert res.schedule.adversary == {"name": "cut", "cut": 2}
    # a majority wait must cross: the minority side hears the other one
    res = run_algorithm("general-sgd", problem=p, params={"n": 5, "M": 3, "T": 2}, adversary=ec.Cut(2))
    assert ec._crossed([(q, list(a.senders)) for _, q, _, a in res.trace.stepwise(Averaged)], 2)


@pytest.mark.parametrize("call, text", [
    (lambda: ec.RATE_OF(make_problem("double-well")), "not strongly convex"),
    (lambda: ec.optimum(make_problem("double-well")), "needs the quadratic"),
])
def test_a_problem_outside_the_claim_is_a_one_line_input_error(call, text):
    with pytest.raises(InputError, match=text):
        call()


# --- each check fails on a realistic mistake ---------------------------------------------------


@pytest.mark.parametrize("eta", [0.25, 0.5])          # 1/L (stable) and the claim's own η_1 = 1/μ
def test_rate_fails_on_a_constant_step(eta):
    r = check("rate").run("quick", rate={"eta": eta, "schedule": "constant"}, families=RR, Ms=(5,))
    assert not r.passed
    assert "grows" in r.detail and "not a 1/T rate" in r.detail and "above sequential mini-batch SGD" in r.detail


@pytest.mark.parametrize("family", ["round-robin", "random"])
def test_rate_fails_when_the_average_keeps_one_model(family):
    r = check("rate").run("quick", algorithm=keeps_one_model(), families={family: ec.FAMILIES[family]}, Ms=(3,))
    assert not r.passed and "M = 3" in r.detail and "above sequential mini-batch SGD" in r.detail
    assert "not a 1/T rate" not in r.detail          # the T shape is right: only the 1/M gain is lost


def test_partition_fails_when_the_average_keeps_one_model():
    r = check("partition").run("quick", algorithm=keeps_one_model(), cuts=((4, 2, 2),))
    assert not r.passed and "above seq_M" in r.detail


def test_partition_fails_on_a_constant_step():
    r = check("partition").run("quick", rate={"eta": 0.25, "schedule": "constant"}, cuts=((4, 2, 2),))
    assert not r.passed and "above seq_M" in r.detail


def test_partition_is_vacuous_when_the_cut_does_not_hold(monkeypatch):
    monkeypatch.setattr(ec.Cut, "choose", lambda self, engine, events: 0)    # round-robin: everybody hears everybody
    r = check("partition").run("quick", cuts=((5, 2, 2),))
    assert not r.passed and "vacuous" in r.detail and "across the cut" in r.detail


def test_partition_refuses_M_above_the_smaller_side():
    r = check("partition").run("quick", cuts=((5, 2, 3),))
    assert not r.passed and "InputError" in r.detail and "M = 3" in r.detail


def _sigma_not_divided_by_M(e, eta, mu, L, sigma2, M):
    return (1 - 2 * mu * eta + L ** 2 * eta ** 2) * e + eta ** 2 * sigma2


def _divided_by_M_twice(e, eta, mu, L, sigma2, M):
    return (1 - 2 * mu * eta + L ** 2 * eta ** 2) * e + eta ** 2 * sigma2 / M ** 2


def test_sequential_rate_fails_when_sigma2_is_not_divided_by_M():
    r = check("sequential-rate").run("quick", recurrence=_sigma_not_divided_by_M)
    assert not r.passed and "does not close" in r.detail and "0 in M" in r.detail


def test_sequential_rate_fails_when_sigma2_is_divided_by_M_twice():
    r = check("sequential-rate").run("quick", recurrence=_divided_by_M_twice)
    assert not r.passed and "-2 in M" in r.detail


def test_the_standard_recurrence_dominates_the_quadratics_exact_one():
    # (1 − ηh)² <= 1 − 2μη + L²η² for μ <= h <= L: the exact per-direction step is below the standard one
    eta, mu, L, h = sp.symbols("eta mu L h", positive=True)
    gap = ec.standard_recurrence(1, eta, mu, L, 0, 1) - (1 - eta * h) ** 2
    # = 2η(h − μ) + η²(L² − h²) >= 0
    assert sp.expand(gap - (2 * eta * (h - mu) + eta ** 2 * (L ** 2 - h ** 2))) == 0
