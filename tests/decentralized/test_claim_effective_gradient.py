"""The effective-gradient claim (seed 000): each check fails on a broken run or a wrong formula.

That the claim passes on the quick budget is tested for every claim in tests/test_proofs.py; here
each check is shown able to fail (a failed comparison, not a crash) on what its keywords hand it, on
one problem and family at a time (the module caches the real algorithm's runs, so the tests share
them), and the module's quantities are tied to independent computations on the reference's records.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from asyncproof.proofs import get_claim
from asyncproof.proofs.claims.decentralized import effective_gradient as eg
from asyncproof.reference.decentralized.common import GradientAt, models_by_iteration
from asyncproof.reference.errors import InputError
from asyncproof.reference.problems import make_problem
from asyncproof.reference.schedule import run_algorithm

SEED = "000_3f5163bcd896752f.txt"


def check(name):
    return get_claim("effective-gradient").check(name)


def only(problem, family):
    return {"problems": {problem: eg.PROBLEMS[problem]}, "families": {family: eg.FAMILIES[family]}}


def test_the_claim_is_registered_with_its_slide_and_readings():
    c = get_claim("effective-gradient")
    assert SEED in c.source and "Main Correctness Claims" in c.source and "third version" in c.source
    assert [(ch.name, ch.kind) for ch in c.checks] == [("lemma-on-runs", "monte-carlo"),
                                                       ("fails-on-a-broken-run", "counterexample"),
                                                       ("cw-dominates-l2-on-runs", "property")]
    doc = " ".join(eg.__doc__.split())
    for reading in ("x_t^{c+1} is read x_{t+1}^c", "n is the number of processes", "process's own model x_t^i",
                    "follows the slide alone", "σ = problem.sigma/√b", "left out"):
        assert reading in doc, reading


# --- the quantities against independent computations -------------------------------------------


def test_the_bound_and_the_effective_gradient():
    # n = 3, d = 1, σ = 0.5, L = 2, η = 0.1, D² = 0.01: 76·0.25 + (400 + 16 + 48)·0.01
    assert eg.lemma_bound(3, 1, 0.5, 2.0, 0.1, 0.01) == pytest.approx(19.0 + 4.64)
    assert eg.without_eta_term(3, 1, 0.5, 2.0, 0.1, 0.01) == pytest.approx(19.0 + 0.64)
    assert eg.effective_gradient(np.array([3.0]), np.array([2.0]), 0.25).tolist() == [4.0]
    params = {"eta": 0.3, "schedule": "inverse", "etas": None}
    assert eg.eta_of_run(params, 2) == pytest.approx(0.15) and eg.eta_next(params, 2) == pytest.approx(0.1)


def test_sigma_is_the_problems_over_root_b_and_least_squares_has_none():
    p = make_problem("quadratic", d=2, sigma=1.5, m=8)
    assert eg.sigma_of(p, {"b": 4}) == pytest.approx(0.75)
    # E‖G − ∇Q‖² = σ² exactly for one sample of the quadratic's additive noise
    x = np.array([0.3, -0.2])
    assert np.mean([np.sum((p.sample_grad(x, j) - p.grad(x)) ** 2) for j in range(8)]) == pytest.approx(1.5 ** 2)
    with pytest.raises(InputError, match="states no σ"):
        eg.sigma_of(make_problem("least-squares"), {"b": 1})


def test_with_everybody_on_one_model_G_minus_grad_Q_is_the_mean_noise_of_the_models_averaged():
    # round-robin, clusters [1, 1, 1]: every process averages all three models, the agreement has nothing to do,
    # so G_t − ∇Q(x_t) = (1/3) Σ_j (g_t^j − ∇Q(x_t)) from the recorded gradients
    p = make_problem("quadratic", d=2, sigma=1.0, m=8)
    res = run_algorithm("attiya-schiller-sgd", problem=p, params={"clusters": [1, 1, 1], "T": 3, "eta": 0.05}, seed=2)
    by = models_by_iteration(res.trace)
    grads = {(pid, g.t): np.asarray(g.g) for _, pid, _, g in res.trace.stepwise(GradientAt)}
    for t in (1, 2, 3):
        for i in range(3):
            G = eg.effective_gradient(by[t][i], by[t + 1][i], 0.05)
            noise = sum(grads[(j, t)] - p.grad(by[t][j]) for j in range(3)) / 3
            assert np.allclose(G - p.grad(by[t][i]), noise, atol=1e-9)
    rows, out = eg.lemma_rows(p, [eg.Run(by, res.params, 3, 0, 0)])
    assert out == 0 and [r.t for r in rows] == [1, 2, 3] and all(r.positive == 0 for r in rows)
    assert rows[0].right == pytest.approx(148.0)                      # (24·3·2 + 4)σ², no Δ term


def test_a_skip_from_round_t_leaves_out_exactly_that_pair():
    problem, rs = eg.runs(eg.ALGORITHM, "quadratic", "pct", 6)
    for r in rs:
        assert eg.lemma_rows(problem, [r])[1] == r.skips
    assert sum(r.skips for r in rs) > 0


def test_the_timed_family_crashes_and_recovers_p1_and_every_process_outputs():
    _, rs = eg.runs(eg.ALGORITHM, "quadratic", "timed+crash/recover", 2)
    assert [r.recoveries for r in rs] == [1, 1]
    assert all(len(r.models[r.params["T"] + 1]) == 5 for r in rs)


def test_a_double_well_run_outside_the_box_of_L_is_refused():
    p = make_problem("double-well", d=2, sigma=0.3)
    run = eg.Run({1: {0: np.zeros(2), 1: np.array([1.7, 0.0])}, 2: {0: np.zeros(2), 1: np.zeros(2)}},
                 {"b": 1, "eta": 0.01, "schedule": "constant", "etas": None}, 2, 0, 0)
    with pytest.raises(InputError, match="outside the box"):
        eg.lemma_rows(p, [run])


# --- each check fails on a broken run or a wrong formula ----------------------------------------


def test_lemma_fails_on_a_step_that_applies_eta_g_twice():
    r = check("lemma-on-runs").run("quick", algorithm=eg.double_step(), **only("quadratic", "round-robin"))
    assert not r.passed and "quadratic/round-robin, t = 1" in r.detail and "> bound" in r.detail


def test_lemma_fails_when_G_is_divided_by_the_next_rate():
    r = check("lemma-on-runs").run("quick", eta_of=eg.eta_next, **only("quadratic", "round-robin"))
    assert not r.passed and "t = 1" in r.detail


def test_lemma_fails_without_its_eta_term_where_the_rate_drops():
    r = check("lemma-on-runs").run("ci", bound=eg.without_eta_term, **only("double-well", "random"))
    assert not r.passed and "double-well/random, t = 4" in r.detail
    ratio = float(r.detail.split("measured/bound ")[1].split(";")[0])
    assert ratio > 10
    # the same runs with the slide's formula: the t = 4 ratio that the 4/η_t² term brings down
    r = check("lemma-on-runs").run("ci", **only("double-well", "random"))
    assert r.passed and "double-well/random: max 0.0" in r.detail


def test_the_eta_term_is_not_needed_without_a_rate_drop():
    # a weakness the module docstring states: with η_t = 0.03/t the disagreement is of order η_t σ and the noise
    # term alone covers the left side, so the formula without its 4/η_t² term passes where processes disagree
    r = check("lemma-on-runs").run("quick", bound=eg.without_eta_term, **only("quadratic", "random"))
    assert r.passed and "quadratic/random: max 0.00" in r.detail
    problem, rs = eg.runs(eg.ALGORITHM, "quadratic", "random", eg.SEEDS["quick"])
    assert any(row.positive for row in eg.lemma_rows(problem, rs)[0])


def test_broken_run_is_not_refuted_when_handed_the_correct_lemma():
    right = {"the slide's formula": eg.Mistake("bound", eg.lemma_bound, "double-well", "random"),
             "the run's own rate": eg.Mistake("eta_of", eg.eta_of_run, "quadratic", "round-robin")}
    r = check("fails-on-a-broken-run").run("quick", mistakes=right)
    assert not r.passed and "not refuted" in r.detail
    assert "'the slide's formula' passed" in r.detail and "'the run's own rate' passed" in r.detail


def test_broken_run_refuses_an_unknown_kind_of_mistake():
    r = check("fails-on-a-broken-run").run("quick", mistakes={"x": eg.Mistake("schedule", None, "quadratic", "pct")})
    assert not r.passed and "InputError" in r.detail and "what must be" in r.detail


def test_cw_dominates_fails_when_handed_the_reverse_inequality():
    r = check("cw-dominates-l2-on-runs").run("quick", holds=lambda cw, l2, d: cw <= l2 * (1 + eg.tolerance(d)))
    assert not r.passed and "the inequality does not hold" in r.detail
    ratio = float(r.detail.split("(ratio ")[1].split(")")[0])
    assert 1 < ratio <= 2 + 1e-12 and math.isfinite(ratio)


def test_the_runs_skip_and_disagree_where_the_lemma_is_measured():
    # the dangerous cases were reached: skips (pairs left out) and Δ^cw(x_t) > 0
    problem, rs = eg.runs(eg.ALGORITHM, "double-well", "random", 6)
    rows, out = eg.lemma_rows(problem, rs)
    assert out > 0 and any(r.positive for r in rows)
