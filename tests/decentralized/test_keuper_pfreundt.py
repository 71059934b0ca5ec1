"""Keuper & Pfreundt ASGD (seed 003, Algorithm 5): the readings of the slides, their limits bit for
bit, the buffers' slot rule and clearing, bad input, replay, the broken variants, the docs page, and
the k-means curves of Figure 14."""

from __future__ import annotations

import doctest
import re
from pathlib import Path

import numpy as np
import pytest

from asyncproof import run_algorithm
from asyncproof.properties import get_guarantee
from asyncproof.reference.decentralized.common import GradientAt, ModelAt
from asyncproof.reference.decentralized.keuper_pfreundt import (Update, draw_recipients, generalised_update,
                                                               nonempty, parzen_window)
from asyncproof.reference.errors import InputError
from asyncproof.reference.schedule import replay

ASGD = "keuper-pfreundt-asgd"
DOC = Path(__file__).resolve().parents[2] / "docs" / "keuper-pfreundt-asgd.md"


def _run(adversary="random:seed=3", seed=1, **params):
    p = {"n": 4, "T": 4, "k": 2, "N": 2, "eps": 0.1, "b": 2, **params}
    return run_algorithm(ASGD, params=p, seed=seed, adversary=adversary)


def _bits(a, b) -> bool:
    return np.asarray(a).tobytes() == np.asarray(b).tobytes()


# --- the readings and their limits ----------------------------------------------------------------


def test_no_external_state_is_plain_minibatch_sgd_bit_for_bit():
    w, delta = np.array([0.3, -1.7, 2.5]), np.array([0.11, 0.9, -0.4])
    empty = [np.zeros(3), np.zeros(3)]
    assert _bits(w - 0.05 * generalised_update(w, delta, empty, [False, False]), w - 0.05 * delta)
    r = _run()
    plain = [u for u in r.trace.records(Update) if u.count == 0]
    assert plain and all(_bits(u.result, np.asarray(u.w) - 0.1 * np.asarray(u.delta)) for u in plain)


def test_one_accepted_state_moves_toward_the_average_of_the_two():
    w, wj, delta = np.array([2.0, -1.0]), np.array([4.0, 3.0]), np.array([0.25, 0.5])
    eps = 0.1
    got = w - eps * generalised_update(w, delta, [wj], [True])
    assert _bits(got, w - eps * ((w - (w + wj) / 2) + delta))
    # without the gradient step it goes a fraction ε of the way to (w + wj)/2
    still = w - eps * generalised_update(w, np.zeros(2), [wj], [True])
    avg = (w + wj) / 2
    assert np.allclose(still - w, eps * (avg - w), rtol=1e-15)
    # equation (2) read literally (½(w + w^j) + Δ, no "w −") would pull toward the origin instead
    literal = w - eps * ((w + wj) / 2 + delta)
    assert np.linalg.norm(literal - avg) > np.linalg.norm(got - avg)
    r = _run()
    one = [u for u in r.trace.records(Update) if u.count == 1]
    assert one
    for u in one:
        s = next(s for s, (lam, d) in enumerate(zip(u.lam, u.window)) if lam and d)
        want = np.asarray(u.w) - 0.1 * ((np.asarray(u.w) - (np.asarray(u.w) + u.buffers[s]) / 2) + np.asarray(u.delta))
        assert _bits(u.result, want)


def test_lambda_and_the_parzen_window():
    assert not nonempty(np.zeros(3)) and nonempty(np.array([0.0, 1e-300, 0.0]))
    w = np.array([1.0, 0.0])
    local = np.array([0.9, 0.0])                   # the local step goes left
    assert parzen_window(w, local, np.array([0.0, 0.0]))          # toward: accepted
    assert not parzen_window(w, local, np.array([2.0, 0.0]))      # away: rejected
    assert not parzen_window(w, w, np.array([0.0, 0.0]))          # no move: strict <, rejected


def test_records_agree_with_each_other():
    r = _run()
    models = {(pid, m.t): m.x for _, pid, _, m in r.trace.stepwise(ModelAt)}
    grads = {(pid, g.t): g for _, pid, _, g in r.trace.stepwise(GradientAt)}
    for _, pid, _, u in r.trace.stepwise(Update):
        assert _bits(u.w, models[pid, u.t]) and _bits(u.result, models[pid, u.t + 1])
        assert _bits(u.delta, grads[pid, u.t].g) and len(grads[pid, u.t].samples) == 2
        assert u.count == sum(a and d for a, d in zip(u.lam, u.window))
    assert r.trace.records("x", 0)[-1].tolist() == r.trace.outputs[0][-1].tolist()


def test_minibatches_come_from_the_node_own_shard():
    r = _run(n=3, b=2)
    shards = [{j for g in r.trace.records(GradientAt, i) for j in g.samples} for i in range(3)]
    assert all(not (shards[a] & shards[b]) for a in range(3) for b in range(a + 1, 3))


def test_recipients_are_keyed_distinct_and_never_the_sender():
    for t in range(1, 20):
        got = draw_recipients(7, 2, t, 5, 3)
        assert len(set(got)) == 3 and 2 not in got and got == draw_recipients(7, 2, t, 5, 3)
    assert draw_recipients(7, 2, 1, 5, 0) == []
    a, b = _run(adversary="random:seed=1"), _run(adversary="random:seed=2")
    sends = [sorted(e for e in x.trace.events if " send ->" in e) for x in (a, b)]
    assert sends[0] == sends[1] and a.trace.events != b.trace.events


# --- the buffers: slot j mod N, the later delivery overwrites, cleared after use ------------------------

_DELIVER = re.compile(r"deliver #\d+ p(\d+)->p(\d+) w\^\d+_(\d+)")
_READ = re.compile(r"p(\d+) receive buffers t=(\d+) \[(\d+) msgs?\]")


def test_a_later_delivery_overwrites_the_slot_and_buffers_are_cleared_after_use():
    overwritten = 0
    for seed in range(4):
        r = _run(adversary=f"random:seed={seed}", n=4, k=3, N=1, T=4)
        pending: dict = {}
        updates = {(pid, u.t): u for _, pid, _, u in r.trace.stepwise(Update)}
        for e in r.trace.events:
            m = _DELIVER.match(e)
            if m:
                src, dst, t1 = (int(g) for g in m.groups())
                pending.setdefault(dst, []).append([src, t1])
            m = _READ.match(e)
            if m:
                pid, t, count = (int(g) for g in m.groups())
                got = pending.pop(pid, [])
                assert len(got) == count
                u = updates[pid, t]
                assert u.senders[0] == (got[-1] if got else None)     # the last delivered wins slot 0
                overwritten += count >= 2
        seen = {}
        for _, pid, _, u in r.trace.stepwise(Update):            # each state is read once, at most
            for who in u.senders:
                if who is not None:
                    assert seen.setdefault((pid, tuple(who)), u.t) == u.t
    assert overwritten >= 1


def test_slot_is_sender_mod_N():
    r = _run(N=2, n=4, k=3)
    for u in r.trace.records(Update):
        for s, who in enumerate(u.senders):
            assert who is None or who[0] % 2 == s


# --- the silent variant -----------------------------------------------------------------------------


def test_silent_nodes_are_independent_minibatch_sgd_runs():
    g = get_guarantee("asgd-silent")
    for adversary in ("roundrobin", "random:seed=5"):
        r = _run(adversary=adversary, k=0)
        assert g.check(r) is None
        assert not [e for e in r.trace.events if " send ->" in e]
        assert all(u.count == 0 and u.senders == [None, None] for u in r.trace.records(Update))


# --- bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize("params, message", [
    ({"n": 1}, "keuper-pfreundt-asgd: n (nodes) must be >= 2, got 1"),
    ({"n": 3, "k": 3}, "keuper-pfreundt-asgd: k = 3 recipients must be < n = 3"),
    ({"N": 0}, "keuper-pfreundt-asgd: N (external buffers) must be >= 1, got 0"),
    ({"eps": 0.0}, "keuper-pfreundt-asgd: eps (step size ε) must be > 0, got 0.0"),
    ({"eps": -1.0}, "keuper-pfreundt-asgd: eps (step size ε) must be > 0, got -1.0"),
    ({"n": 4, "b": 16}, "keuper-pfreundt-asgd: b = 16 exceeds H = ⌊m/n⌋ = 15"),
])
def test_bad_input_is_one_line(params, message):
    with pytest.raises(InputError) as e:
        run_algorithm(ASGD, params={"T": 2, **params})
    assert str(e.value).startswith(message) and "\n" not in str(e.value)


# --- replay, broken variants ------------------------------------------------------------------------


def test_replay_reproduces_the_run_bit_for_bit():
    r = _run(adversary="random:seed=9")
    rep = replay(r.schedule)
    assert rep.reproduced, rep.report()


@pytest.mark.parametrize("guarantee, variant, params", [
    ("asgd-parzen-window", "broken-asgd-window-reversed", {}),
    ("asgd-update", "broken-asgd-divides-by-slots", {}),
    ("asgd-recipients", "broken-asgd-recipients-any-node", {}),
    ("asgd-silent", "broken-asgd-zero-buffer-counts", {"k": 0}),
])
def test_each_broken_variant_is_caught_where_the_algorithm_passes(guarantee, variant, params):
    g = get_guarantee(guarantee)
    p = {"n": 4, "T": 4, "k": 2, "N": 2, "eps": 0.1, "b": 2, **params}
    real = run_algorithm(ASGD, params=p, seed=1, adversary="random:seed=3")
    bad = run_algorithm(variant, params=p, seed=1, adversary="random:seed=3")
    assert g.check(real) is None and g.hard(real)
    assert g.check(bad) is not None


# --- the docs page ------------------------------------------------------


def test_docs_page_examples_run():
    result = doctest.testfile(str(DOC), module_relative=False,
                              optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0

