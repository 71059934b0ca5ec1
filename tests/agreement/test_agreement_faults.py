"""The agreement suite's blind spots, closed (issue 9): MidExtremes value by value, the fault model.

* MidExtremes' diameter pair (the named step ``diameter_pair``) with its distance and
  tie-break (``pair_distance``, ``pair_rank``) and the two mistakes they stand for, each
  shown on the configuration that exposes it and caught by ``agreement-midextremes``;
* the fault-model guarantees: ``agreement-crash-budget`` and ``agreement-correct-majority``
  on hand-made runs, their broken variants, and -- since the engine's filters cannot be
  swapped per algorithm -- the engine's own filter broken in place (monkeypatched), which
  the guarantees must catch within the quick budget;
* the schedules searched: :class:`PriorityAdversary`'s fault plans (a crash right after an
  Aggregate and its checkpoint, a wave down to a bare majority) on scripted draws.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

import asyncproof.properties  # noqa: F401  (registers the guarantees and broken variants)
from asyncproof.properties import get_guarantee, search
from asyncproof.properties.agreement.cluster_agreement import _cluster_rounds
from asyncproof.properties.agreement.cluster_model import _crashes_after_durable_steps
from asyncproof.properties.agreement.common import DANGEROUS, PriorityAdversary
from asyncproof.properties.agreement.mdaa import check_overall
from asyncproof.properties.agreement.midextremes import _midextremes_views, _view_kind
from asyncproof.reference.agreement import mdaa
from asyncproof.reference.agreement.cluster_model import fault_model
from asyncproof.reference.agreement import midextremes as me
from asyncproof.reference.agreement.midextremes import diameter, diameter_pair, mid_extremes_weights, pair_rank
from asyncproof.reference.engine import Engine, Event, Model, run
from asyncproof.reference.problems import make_problem
from asyncproof.reference.schedule import replay, run_algorithm

from test_agreement import Scripted
from test_agreement_mdaa import _lost_messages as lost_messages

PLANE = {"name": "quadratic", "params": {"d": 2}}
LINE = {"name": "quadratic", "params": {"d": 1}}
#: a DANGEROUS triple in an order where the first tied pair by index is not the documented one
TRIPLE = [[0.0, 1.0], [-2.0, -1.0], [1.0, -2.0]]


# --------------------------------------------------------------------------------------
# MidExtremes: the diameter pair and the views that expose them


def test_the_documented_pair_is_neither_the_first_tied_pair_nor_the_l1_pair():
    X = np.array(TRIPLE)
    # ||x0 − x2||² = ||x1 − x2||² = 10 > ||x0 − x1||² = 8: a tie with different midpoints
    assert diameter_pair(X) == (1, 2)                                  # values (−2, −1) <lex (0, 1)
    assert me.farthest_pair(X, me.pair_distance, lambda X, lo, hi: (min(lo, hi), max(lo, hi))) == (0, 2)
    # in L1 all three pairs measure 4: the lexicographically first pair of values is another one
    assert me.farthest_pair(X, lambda a, b: float(np.abs(a - b).sum()), me.pair_rank) == (1, 0)
    assert diameter(X) == pytest.approx(10 ** 0.5)
    assert mid_extremes_weights(X) == (0, 0.5, 0.5)
    assert pair_rank(X, 1, 2)[:2] == ((-2.0, -1.0), (1.0, -2.0))


def test_every_dangerous_triple_needs_the_tie_break_and_splits_l1_from_l2():
    for triple in DANGEROUS:
        for const in ((), (-2.0,), (2.0,)):                         # the third coordinate, constant
            assert _view_kind([np.array(p + const, dtype=float) for p in triple]) == (True, True)
    assert _view_kind([np.array([0.0, 0.0]), np.array([4.0, 0.0]), np.array([0.0, 2.0])]) == (False, False)


@pytest.mark.parametrize("real, broken, params", [
    ("cluster-agreement", "broken-cluster-agreement-tie-by-index", {"clusters": [3], "T": 2}),
    ("mdaa", "broken-mdaa-l1-diameter", {"clusters": [1, 1, 1], "T": 1, "K": 2}),
])
def test_a_changed_midextremes_shows_on_the_triple_and_is_caught(real, broken, params):
    g = get_guarantee("agreement-midextremes")
    ok = run_algorithm(real, problem=PLANE, params={**params, "inputs": TRIPLE})
    assert g.check(ok) is None and g.hard(ok)
    assert {tuple(o[-1].tolist()) for o in ok.trace.outputs.values()} == {(-0.5, -1.5)}
    bad = run_algorithm(broken, problem=PLANE, params={**params, "inputs": TRIPLE})
    msg = g.check(bad)
    assert "is not MidExtremes of the view's 3 values [0, 1], [-2, -1], [1, -2]" in msg
    assert "midpoint [-0.5, -1.5]" in msg
    # the contraction bounds alone do not see it: the wrong midpoints contract as well
    assert _cluster_rounds(bad) is None and check_overall(bad) is None


def test_mdaa_aggregates_are_checked_against_what_the_senders_sent():
    res = run_algorithm("mdaa", problem=PLANE, params={"clusters": [1, 1, 1], "T": 1, "K": 2, "inputs": TRIPLE})
    views, error = _midextremes_views(res)
    assert error is None
    aggregates = [(where, X) for where, X, _ in views if "Aggregate" in where]
    assert len(aggregates) == 3 and all(len(X) == 3 for _, X in aggregates)
    sent = res.trace.records(mdaa.Sent)
    assert [s.r for s in sent] == [1, 1, 1] and {s.to for s in sent} == {None}


# --------------------------------------------------------------------------------------
# the fault model: hand-made runs


def _lost_messages(answer=mdaa.last_message):
    """p2 loses its round-1 messages to a crash and asks for help after p0 and p1 decided
    (the run of tests/agreement/test_agreement_mdaa.py), answered by ``answer``."""
    return lost_messages(answer=answer)


def _result(trace, params, model):
    """A RunResult-like object for the checks (they read the trace, the params and the model)."""
    class R:
        pass
    r = R()
    r.trace, r.params = trace, params
    r.schedule = type("S", (), {"model": model.to_json()})()
    return r


def test_a_recovered_process_answered_with_its_z_speaks_with_one_voice():
    g = get_guarantee("agreement-crash-budget")
    model = fault_model([1, 1, 1], crashable=[2], f=1, recovery=True)
    params = {"clusters": [1, 1, 1], "K": 1}
    real = _lost_messages()
    assert 2 in real.outputs and g.check(_result(real, params, model)) is None
    broken = _lost_messages(answer=lambda last, y: (last[0], y))
    msg = g.check(_result(broken, params, model))
    # p0 broadcast z_1 = its input 0; after deciding 4.5 = MidExtremes(0, 3, 9) it answers with that, as round 1
    assert msg == "p0's round-1 message carried [0] (step 3) and [4.5] (step 35): one process spoke with two voices"


def test_the_broken_variant_answers_with_its_current_value():
    real = _lost_messages()
    helped = [s for s in real.records(mdaa.Sent) if s.to == 2]
    assert helped and all(s.z.tolist() in ([0.0], [3.0]) for s in helped)      # the z's they broadcast


def test_crash_budget_is_recomputed_from_the_events():
    g = get_guarantee("agreement-crash-budget")
    res = run_algorithm("cluster-agreement", params={"clusters": [3], "T": 2}, model={"f": 1, "crashable": [1]},
                        adversary=Scripted("p0 write", "crash p1"))
    assert g.check(res) is None and res.trace.crashed == [1] and res.trace.events[1] == "crash p1"
    # the same events read against other patterns (the check reads the schedule's model, not the engine)
    for model, text in (({"f": 0, "crashable": [1]}, "step 1 (crash p1) is crash number 1; the fault pattern allows "
                                                    "at most f = 0"),
                        ({"f": 1, "crashable": [2]}, "step 1 (crash p1): the fault pattern lets only [2] crash")):
        res.schedule.model = Model.from_json(model).to_json()
        assert g.check(res) == text
    res.trace.events.insert(2, "p1 write c0.A[1]")
    res.schedule.model = Model.from_json({"f": 1, "crashable": [1]}).to_json()
    assert g.check(res) == "step 2 (p1 write c0.A[1]): p1 stepped while down"


def test_a_bare_majority_is_reached_and_kept():
    g = get_guarantee("agreement-correct-majority")
    params = {"clusters": [2, 2, 1], "T": 1, "K": 2}
    model = {"majority": True, "f": 2, "fairness": 12}
    res = run_algorithm("mdaa", params=params, model=model, adversary=Scripted("crash p0", "crash p2", "crash p4"))
    assert res.trace.crashed == [0, 2]                          # p4's crash would leave 2 of 5: never offered
    assert g.check(res) is None and g.hard(res)


def test_a_cluster_counted_once_per_message_is_no_majority():
    g = get_guarantee("agreement-correct-majority")
    params = {"clusters": [2, 1, 1, 1], "T": 1, "K": 1, "inputs": [[0.0], [1.0], [2.0], [3.0], [9.0]]}
    order = ["p0 write", "p0 checkpoint", "p0 broadcast", "p1 write", "p1 checkpoint", "p1 broadcast",
             "p4 write", "p4 checkpoint", "p4 broadcast", "deliver #4 ", "deliver #9 ", "p4 receive"]
    model = {"majority": True, "f": 2, "fairness": 12}
    real = run_algorithm("mdaa", problem=LINE, params=params, adversary=Scripted(*order), model=model)
    assert g.check(real) is None
    broken = run_algorithm("broken-mdaa-counts-messages", problem=LINE, params=params, adversary=Scripted(*order),
                           model=model)
    assert "p4 receive round 1 [2 msgs]" in broken.trace.events
    assert g.check(broken) == ("p4 aggregated round 1 on the messages of p0, p1, representing 2 of n = 5 processes: "
                               "not a majority")


# --------------------------------------------------------------------------------------
# the engine's filters, broken in place: the guarantees must catch them


_REAL = Engine._fault_events


def _budget_plus_one(self):
    self.crash_count -= 1                     # the mistake: `crash_count <= f`
    try:
        return _REAL(self)
    finally:
        self.crash_count += 1


def _crashable_ignored(self):
    model = self.model
    self.model = replace(model, crashable=None)
    try:
        return _REAL(self)
    finally:
        self.model = model


def _half_is_a_majority(self):
    events, m, n = _REAL(self), self.model, len(self.procs)
    up = [p for p in self.procs if p.status != "crashed"]
    if m.majority and self.crash_count < m.f and (len(up) - 1) * 2 == n:   # `(up - 1) * 2 < n`
        offered = {e.pid for e in events if e.kind == "crash"}
        events += [Event(f"crash p{p.pid}", "crash", f"p{p.pid}", ("crash", p.pid), 0, pid=p.pid)
                   for p in self.procs if p.status == "up" and p.pid not in offered]
    return events


def _recovery_always(self):
    model = self.model
    self.model = replace(model, recovery=True)
    try:
        return _REAL(self)
    finally:
        self.model = model


@pytest.mark.parametrize("mistake, guarantee, algorithm, text", [
    (_budget_plus_one, "agreement-crash-budget", "cluster-agreement", "the fault pattern allows at most f"),
    (_crashable_ignored, "agreement-crash-budget", "mdaa", "the fault pattern lets only"),
    (_recovery_always, "agreement-crash-budget", "cluster-agreement", "a recovery under crash-stop"),
    (_half_is_a_majority, "agreement-correct-majority", "mdaa", "no majority"),
])
def test_a_broken_engine_filter_is_caught(monkeypatch, tmp_path, mistake, guarantee, algorithm, text):
    monkeypatch.setattr(Engine, "_fault_events", mistake)
    stats = search(get_guarantee(guarantee), algorithm, "quick", tmp_path, examples=48)
    assert stats.violation is not None, f"{guarantee} did not see {mistake.__name__}"
    assert text in str(stats.violation)


# --------------------------------------------------------------------------------------
# the fault plans of the adversary


class Draws:
    """Stands in for Hypothesis's ``data``: each draw answers by its label (default: the benign one)."""

    def __init__(self, **answers):
        self.answers = answers

    def draw(self, strategy, label=""):
        key = label.replace(" ", "_").replace("'", "")
        if key in self.answers:
            return self.answers[key]
        return {"cut": 0, "priorities": None, "wave": None}.get(key, [])


def _adversary(n, **answers):
    return PriorityAdversary(Draws(priorities=[0] * n, **answers))


def test_a_crash_right_after_an_aggregate_and_its_checkpoint():
    params = {"clusters": [1, 1, 1], "T": 2, "K": 1}
    model = fault_model([1, 1, 1], crashable=[2], f=1, recovery=True).to_json()
    res = run_algorithm("mdaa", params=params, model=model,
                        adversary=_adversary(3, crashes_right_after_a_durable_step=[("checkpoint", 1)]))
    (crash,) = [i for i, e in enumerate(res.trace.events) if e == "crash p2"]
    mine = [e for e in res.trace.events[:crash] if e.startswith("p2 ")]
    assert res.trace.events[crash - 1] == "p2 checkpoint" and mine[-2] == "p2 receive round 1 [3 msgs]"
    assert _crashes_after_durable_steps(res) == [(2, crash)]
    assert "recover p2" in res.trace.events[crash:] and 2 in res.trace.outputs
    assert get_guarantee("agreement-recovery").check(res) is None
    assert replay(res.schedule).reproduced


def test_a_wave_takes_down_as_many_as_the_majority_allows():
    model = Model(f=2, majority=True, fairness=12).to_json()
    res = run_algorithm("mdaa", params={"clusters": [2, 2, 1], "T": 1, "K": 2}, model=model,
                        adversary=_adversary(5, wave=(3, 0)))
    assert res.trace.events[3:5] == ["crash p0", "crash p1"] and len(res.trace.crashed) == 2
    assert get_guarantee("agreement-correct-majority").hard(res)
    assert get_guarantee("agreement-correct-majority").check(res) is None


@pytest.mark.parametrize("guarantee", ["agreement-midextremes", "agreement-crash-budget",
                                       "agreement-correct-majority", "agreement-recovery"])
def test_the_hard_cases_are_drawn_on_purpose_at_the_quick_budget(tmp_path, guarantee):
    g = get_guarantee(guarantee)
    for alg in g.algorithms:
        stats = search(g, alg, "quick", tmp_path)
        assert stats.violation is None and stats.hard >= 2, (alg, stats.hard)
