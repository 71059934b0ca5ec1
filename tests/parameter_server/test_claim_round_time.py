"""Rennala's and Malenia's time per round (claim ``rennala-malenia-round-time``)."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

import pytest

from asyncproof.proofs import get_claim, run_claim
from asyncproof.proofs.claims.parameter_server import rennala_malenia_round_time as rt
from asyncproof.reference.schedule import run_algorithm


def test_the_claim_names_its_source_and_checks():
    """(It passes on quick in tests/test_proofs.py, with every claim.)"""
    claim = get_claim("rennala-malenia-round-time")
    assert "Tyurin" in claim.source and "seed 004" in claim.source
    assert [c.name for c in claim.checks] == ["algebra", "exact-times", "worst-rounds", "idle-worker"]
    assert all(r.passed for r in run_claim("rennala-malenia-round-time", "quick")[:2])


def test_the_issue_example_through_the_registry():
    """n = 10, S = 10, τ_i = i, T = 10: Rennala 50 and Malenia 100 with stops, as the model gives."""
    adv = "timed:model=fixed,s=" + "/".join(str(i) for i in range(1, 11))
    times = {}
    for alg in ("rennala-sgd", "malenia-sgd", "minibatch-sgd"):
        params = {"n": 10, "T": 10, **({"b": 10} if alg == "minibatch-sgd" else {"S": 10})}
        times[alg] = run_algorithm(alg, problem={"name": "least-squares", "params": {"m": 40}}, params=params,
                                   adversary=adv).metrics["time"]
    assert times == {"rennala-sgd": 50.0, "malenia-sgd": 100.0, "minibatch-sgd": 100.0}
    taus = [Fraction(i) for i in range(1, 11)]
    assert rt.rennala_exact(10, taus) == 5 and rt.malenia_exact(10, taus) == 10


def test_a_wrong_prediction_of_the_round_time_fails():
    off_by_one = {"rennala-sgd": lambda S, taus: rt.rennala_exact(S + 1, taus), "malenia-sgd": rt.malenia_exact}
    passed, detail = rt.check_exact_times("quick", exact=off_by_one)
    assert not passed and "predicted" in detail


def test_the_bound_without_its_factor_2_fails_when_calculations_are_ignored():
    """Without line 12's stops a worker can lose one compute time per round: the factor 2 is needed."""
    ratio, where = rt._search("rennala-sgd", "ignore", "quick", rt.rennala_sharp_bound)
    assert ratio > 1, where
    ratio, where = rt._search("malenia-sgd", "ignore", "quick", lambda S, taus: rt.malenia_bound(S, taus) / 2)
    assert ratio > 1, where


def test_the_worst_case_for_two_workers_reaches_two_thirds_of_the_bound():
    """With ignore, n = 2, S = 1 and equal times τ = 1, the third round takes 2τ (both workers one
    stale job behind) against the bound 2 min_m (1 + m)/H_m = 3: the supremum 2m/(2(m + 1)) at m = 2."""
    times = rt.run_rounds("rennala-sgd", 1, [1, 1], "ignore")
    assert times == [1.0, 1.0, 2.0]
    assert max(times) / rt.rennala_bound(1, [1, 1]) == 2 / 3


def test_an_idle_worker_breaks_the_bound():
    passed, detail = rt.check_idle_worker("quick")
    assert passed and detail.count("= inf") + detail.count("bound = ") >= 4, detail


def test_round_times_read_off_the_annotations():
    times = rt.run_rounds("rennala-sgd", 3, [1, 2, 3], "stop", T=2)
    assert times == [2.0, 2.0]                 # ⌊2/1⌋ + ⌊2/2⌋ = 3
    never = rt.run_rounds("rennala-sgd", 1, [1, 1], "ignore", T=3,
                          rule=replace(rt._rule("rennala-sgd", 1), again=rt._again_unless_ignored))
    assert never[-1] == float("inf")


@pytest.mark.parametrize("bad", ["quick!", None])
def test_a_bad_budget_is_an_input_error(bad):
    from asyncproof.reference.errors import InputError
    with pytest.raises(InputError):
        rt.check_algebra(bad)
