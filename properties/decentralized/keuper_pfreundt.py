"""Keuper & Pfreundt ASGD's guarantees, each with the broken variant it must catch.

Seed 003 (``003_64bc3d1a200f9b77.txt``), Algorithm 5 and the slides "ASGD updating"
(:mod:`asyncproof.reference.decentralized.keuper_pfreundt`).  Every check recomputes from the
records (``update``, ``model``, ``gradient``) and the schedule's own events, with δ, λ, the update
and the keyed draws restated here (the stream numbers written out, not imported), under the
default Hypothesis adversary (:func:`~asyncproof.properties.strategies.schedules`: every choice
drawn, so states are delayed, reordered, and overwrite each other in the buffers).

* ``asgd-parzen-window``: an external state is used only when the local step moves toward it.

  - ``broken-asgd-window-reversed``: the window's inequality reversed (``>``: the states the step
    moves away from are the ones kept).

* ``asgd-update``: every update is the generalised update of the recorded buffers, w_t and Δ, with
  |N| the non-empty accepted slots; every buffer holds what its sender sent, in its slot.

  - ``broken-asgd-divides-by-slots``: divides by N + 1 (the buffer slots) instead of |N| + 1.

* ``asgd-recipients``: each state goes to k distinct recipients ≠ the sender, the keyed draw.

  - ``broken-asgd-recipients-any-node``: the draw over all n nodes, the sender included.

* ``asgd-silent``: with k = 0 each node's final w is its own mini-batch SGD, bit for bit.

  - ``broken-asgd-zero-buffer-counts``: λ dropped: an empty (zero) buffer counts as a state, so
    the origin pulls every silent node whose step moves toward it.
"""

from __future__ import annotations

import math
import re

import numpy as np
from hypothesis import strategies as st

from ...reference.decentralized.common import GradientAt, ModelAt
from ...reference.decentralized.keuper_pfreundt import Update
from ..common import bit_difference, final_output, nonbenign
from ..every_algorithm import replay_covers
from ..guarantees import Case
from .common import register_for
from ..kernels import SPLIT_STREAM, documented_generator
from ..strategies import problems, seeds, step_sizes
from ..variants import variant

ASGD = "keuper-pfreundt-asgd"
SOURCE = "seed 003, Algorithm 5 and 'ASGD updating' (Keuper & Pfreundt, MLHP 2015)"
#: the documented streams: node i's samples (seed, NODES_STREAM + i, t), recipients (seed, RECIPIENTS_STREAM + i, t)
NODES_STREAM = 3_000_017
RECIPIENTS_STREAM = 3_100_019
#: relative slack for float rounding (a distance comparison this close to a tie is not judged)
ROUND = 1e-12


def draw_case(data, algorithm: str, k=None) -> Case:
    """n <= 4 nodes, T <= 4, b <= 2, N <= 3 buffers, k recipients (drawn in 1 .. n−1 unless fixed), and
    crash-stop faults: up to n − 1 nodes may crash, anywhere (a crashed node's states stop arriving; the
    others go on, so every guarantee is stated for the updates and sends that happened)."""
    n = data.draw(st.integers(2, 4), label="n")
    b = data.draw(st.integers(1, 2), label="b")
    params = {"n": n, "b": b, "T": data.draw(st.integers(2, 4), label="T"),
              "eps": data.draw(step_sizes(0.01, 0.1), label="eps"),
              "N": data.draw(st.integers(1, 3), label="N"),
              "k": data.draw(st.integers(1, n - 1), label="k") if k is None else k}
    problem = data.draw(problems(names=["kmeans", "least-squares"], min_m=n * b), label="problem")
    f = data.draw(st.integers(0, n - 1), label="f")
    model = {"f": f, "crashable": None, "recovery": False, "majority": False, "tau": None, "fairness": None}
    return Case(algorithm, problem, params, data.draw(seeds(), label="seed"), model=model)


# --- restated: δ, λ, the update ------------------------------------------------------------------


def _sq(v) -> float:
    return math.fsum(float(c) * float(c) for c in np.asarray(v).ravel())


def window_restated(w, delta, eps, wj) -> tuple[bool, bool]:
    """(δ(i, j), whether the comparison is within rounding of a tie)."""
    w, delta, wj = (np.asarray(a, dtype=np.float64) for a in (w, delta, wj))
    after = _sq((w - eps * delta) - wj)
    before = _sq(w - wj)
    return after < before, abs(after - before) <= ROUND * (after + before + 1e-300)


def filled(v) -> bool:
    return _sq(v) > 0.0 or bool(np.any(np.asarray(v) != 0.0))


def expected_result(u: Update, eps: float, accepted) -> np.ndarray:
    """w − ε(w − mean({w} ∪ accepted states) + Δ)."""
    states = [np.asarray(u.w)] + [np.asarray(b) for b, ok in zip(u.buffers, accepted) if ok]
    mean = np.mean(np.stack(states), axis=0)
    return np.asarray(u.w) - eps * ((np.asarray(u.w) - mean) + np.asarray(u.delta))


def _close(got, want, scale) -> bool:
    return bool(np.all(np.abs(np.asarray(got) - want) <= 1e-12 * scale))


def _off(got, want, scale) -> str:
    """How far ``got`` is from ``want``, against the rounding tolerance 1e-12·scale."""
    d = float(np.max(np.abs(np.asarray(got) - want)))
    return f"max |difference| {d:.3g}, {d / (1e-12 * scale):.3g} x the rounding tolerance"


def _scale(u: Update, eps: float) -> float:
    return 1.0 + float(np.max(np.abs(np.concatenate([np.ravel(u.w), np.ravel(u.delta)] +
                                                    [np.ravel(b) for b in u.buffers]))))


# ---------------------------------------------------------------------------------------
# asgd-parzen-window


def check_parzen_window(result) -> str | None:
    eps = result.params["eps"]
    for _, pid, _, u in result.trace.stepwise(Update):
        accepted = []
        for s, (b, rec) in enumerate(zip(u.buffers, u.window)):
            if not filled(b):
                accepted.append(False)
                continue
            delta_ij, tie = window_restated(u.w, u.delta, eps, b)
            if not tie and bool(rec) != delta_ij:
                return (f"node {pid}, t = {u.t}, slot {s} (state {u.senders[s]}): the window says δ = {int(bool(rec))}, "
                        f"but the local step moves {'toward' if delta_ij else 'away from'} the state "
                        f"(||w − εΔ − w^j||² {'<' if delta_ij else '>='} ||w − w^j||²)")
            accepted.append(delta_ij)
        want = expected_result(u, eps, accepted)
        if not _close(u.result, want, _scale(u, eps)):
            return (f"node {pid}, t = {u.t}: w_(t+1) = {np.asarray(u.result).tolist()} is not the update with the "
                    f"states the window accepts ({sum(accepted)} of them): {want.tolist()} "
                    f"({_off(u.result, want, _scale(u, eps))})")
    return None


def _rejected_and_accepted(result) -> bool:
    eps, seen = result.params["eps"], set()
    for u in result.trace.records(Update):
        for b in u.buffers:
            if filled(b):
                d, tie = window_restated(u.w, u.delta, eps, b)
                if not tie:
                    seen.add(d)
    return seen == {True, False}


register_for(
    ASGD,
    name="asgd-parzen-window",
    statement="an external state contributes to an update only when the local step w − εΔ moves toward it "
              "(δ restated from the recorded w_t, Δ and buffers)",
    source=SOURCE + ", the Parzen window (Figure 4, II)",
    draw=draw_case,
    check=check_parzen_window,
    hard=_rejected_and_accepted,
    hard_case="a state rejected by the window and one accepted in the same run",
    broken="broken-asgd-window-reversed",
)


def _window_reversed(w, local, wj):
    after, before = local - wj, w - wj
    return float(np.dot(after, after)) > float(np.dot(before, before))      # the mistake: > for <


variant("broken-asgd-window-reversed", of=ASGD, mistake="keeps the states the local step moves away from",
        replace={"window": _window_reversed})

# ---------------------------------------------------------------------------------------
# asgd-update


def _sent_states(result) -> dict:
    """(j, t') -> the state node j began iteration t' with (its ``model`` record)."""
    return {(pid, m.t): np.asarray(m.x) for _, pid, _, m in result.trace.stepwise(ModelAt)}


def check_update(result) -> str | None:
    p, tr = result.params, result.trace
    eps, N = p["eps"], p["N"]
    sent = _sent_states(result)
    grads = {(pid, g.t): np.asarray(g.g) for _, pid, _, g in tr.stepwise(GradientAt)}
    for _, pid, _, u in tr.stepwise(Update):
        if len(u.buffers) != N:
            return f"node {pid}, t = {u.t}: {len(u.buffers)} buffers recorded, N = {N}"
        if bit_difference(u.w, sent.get((pid, u.t)), "the update's w_t", "the model record") or \
                bit_difference(u.delta, grads.get((pid, u.t)), "the update's Δ", "the gradient record"):
            return f"node {pid}, t = {u.t}: the update's w_t or Δ is not the one recorded for iteration {u.t}"
        for s, (b, who) in enumerate(zip(u.buffers, u.senders)):
            if who is None:
                if filled(b):
                    return f"node {pid}, t = {u.t}: slot {s} holds a state but no sender"
                continue
            j, tj = who
            if j == pid:
                return f"node {pid}, t = {u.t}: slot {s} holds the node's own state w_{tj}"
            if j % N != s:
                return f"node {pid}, t = {u.t}: the state of node {j} is in slot {s}, not j mod N = {j % N}"
            diff = bit_difference(b, sent.get((j, tj)), f"slot {s}", f"node {j}'s state w_{tj}")
            if diff:
                return f"node {pid}, t = {u.t}: {diff}"
        accepted = [filled(b) and bool(d) for b, d in zip(u.buffers, u.window)]
        if u.count != sum(accepted):
            return f"node {pid}, t = {u.t}: |N| = {u.count} recorded, {sum(accepted)} slots are filled and accepted"
        want = expected_result(u, eps, accepted)
        if not _close(u.result, want, _scale(u, eps)):
            return (f"node {pid}, t = {u.t}: w_(t+1) = {np.asarray(u.result).tolist()}, the generalised update with "
                    f"|N| = {sum(accepted)} of N = {N} slots gives {want.tolist()} "
                    f"({_off(u.result, want, _scale(u, eps))})")
    return None


def _partial_average(result) -> bool:
    return any(0 < u.count < len(u.buffers) for u in result.trace.records(Update))


register_for(
    ASGD,
    name="asgd-update",
    statement="every update is w_t − ε(w_t − (Σ accepted + w_t)/(|N| + 1) + Δ), |N| the filled slots the window "
              "accepts, from the recorded w_t, Δ and buffers; every buffer holds its sender's state, in slot j mod N",
    source=SOURCE + " (the generalisation of equation (2))",
    draw=draw_case,
    check=check_update,
    hard=_partial_average,
    hard_case="an update that used an external state while another slot was empty or rejected (0 < |N| < N)",
    broken="broken-asgd-divides-by-slots",
)


def _divide_by_slots(w, delta, buffers, accepted):
    total = w
    for b, ok in zip(buffers, accepted):
        if ok:
            total = total + b
    return (w - total / (len(buffers) + 1)) + delta       # the mistake: N + 1, the slots, not |N| + 1


variant("broken-asgd-divides-by-slots", of=ASGD, mistake="divides by N + 1 (the buffer slots), not |N| + 1",
        replace={"update": _divide_by_slots})

# ---------------------------------------------------------------------------------------
# asgd-recipients

_SEND = re.compile(r"p(\d+) send ->p(\d+) w\^(\d+)_(\d+)$")


def recipients_restated(seed: int, i: int, t: int, n: int, k: int) -> list[int]:
    if k == 0:
        return []
    others = np.array([j for j in range(n) if j != i], dtype=np.int64)
    return documented_generator(seed, RECIPIENTS_STREAM + i, t).choice(others, size=k, replace=False).tolist()


def check_recipients(result) -> str | None:
    p, seed = result.params, result.schedule.seed
    n, k, T = p["n"], p["k"], p["T"]
    sent: dict = {}
    for e in result.trace.events:
        m = _SEND.match(e)
        if m:
            i, j, _, t1 = (int(g) for g in m.groups())
            sent.setdefault((i, t1 - 1), []).append(j)
    crashed = set(result.trace.crashed)
    for i in range(n):
        for t in range(1, T + 1):
            got = sent.get((i, t), [])
            if i in got:
                return f"node {i} sent its state w_{t + 1} to itself (recipients {got})"
            want = recipients_restated(seed, i, t, n, k)
            if i in crashed and len(got) < k:
                # a node that crashed stopped between two of its sends: what it sent is a prefix of the draw
                want = want[:len(got)]
            elif len(set(got)) != k or len(got) != k:
                return f"node {i} sent w_{t + 1} to {got}: k = {k} distinct recipients expected"
            if got != want:
                return (f"node {i} sent w_{t + 1} to {got}; the keyed draw (seed, {RECIPIENTS_STREAM} + {i}, {t}) "
                        f"gives {want}")
    return None


register_for(
    ASGD,
    name="asgd-recipients",
    statement="every state w_(t+1)^i is sent to k distinct recipients other than i, the draw keyed by "
              "(seed, i, t), whatever the schedule",
    source=SOURCE + ", line 9 ('send w_(t+1)^i to random node ≠ i')",
    draw=draw_case,
    check=check_recipients,
    hard=lambda r: r.params["k"] < r.params["n"] - 1 and nonbenign(r),
    hard_case="k < n − 1 (a real choice of recipients) under a non-benign schedule",
    broken="broken-asgd-recipients-any-node",
)


def _recipients_any_node(seed, i, t, n, k):
    from ...reference.decentralized.keuper_pfreundt import STREAM_RECIPIENTS
    from ...reference.rng import generator
    if k == 0:
        return []
    # the mistake: drawn from all n nodes, so the sender may pick itself
    return [int(j) for j in generator(seed, STREAM_RECIPIENTS + i, t).choice(n, size=k, replace=False)]


variant("broken-asgd-recipients-any-node", of=ASGD, mistake="draws recipients over all n nodes, the sender included",
        replace={"recipients": _recipients_any_node})

# ---------------------------------------------------------------------------------------
# asgd-silent


def silent_run(result, i: int, T: int | None = None) -> np.ndarray:
    """Node i's mini-batch SGD after ``T`` updates (default: the run's T), restated: its shard (lines
    1-2) and shuffle (line 4) keyed as SimuParallelSGD's, positions keyed (seed, NODES_STREAM + i, t),
    w ← w − ε·mean of the gradients."""
    p, prob, seed = result.params, result.problem, result.schedule.seed
    n, b = p["n"], p["b"]
    H = prob.m // n
    perm = documented_generator(seed, SPLIT_STREAM, 0).permutation(prob.m)
    order = perm[i * H:(i + 1) * H][documented_generator(seed, SPLIT_STREAM, 1 + i).permutation(H)]
    w = prob.x0.copy() if p.get("x0") is None else np.asarray(p["x0"], dtype=np.float64)
    for t in range(1, (p["T"] if T is None else T) + 1):
        M = order[documented_generator(seed, NODES_STREAM + i, t).integers(0, H, size=b)]
        g = prob.sample_grad(w, int(M[0])).copy()
        for j in M[1:]:
            g = g + prob.sample_grad(w, int(j))
        w = w - p["eps"] * (g / b)
    return w


def check_silent(result) -> str | None:
    crashed = set(result.trace.crashed)
    for i in range(result.params["n"]):
        if i in crashed:                 # a crashed node: its last update so far, against as many SGD steps
            xs = result.trace.records("x", i)
            if not xs:
                continue
            got, want, what = xs[-1], silent_run(result, i, len(xs)), f"after {len(xs)} updates (it crashed)"
        else:
            got, want, what = final_output(result, i), silent_run(result, i), "at the end"
        diff = bit_difference(got, want, f"silent ASGD node {i} {what}", f"node {i}'s own mini-batch SGD")
        if diff:
            return diff
    return None


def _empty_buffer_would_pass(result) -> bool:
    """A node's local step moved toward the origin, where an empty (zero) buffer sits."""
    eps = result.params["eps"]
    return nonbenign(result) and any(_sq(np.asarray(u.w) - eps * np.asarray(u.delta)) < _sq(u.w)
                                     for u in result.trace.records(Update))


register_for(
    ASGD,
    name="asgd-silent",
    statement="with k = 0 (silent, Figure 14) each node's final w equals its own mini-batch SGD on its shard and "
              "keyed draws, bit for bit, whatever the schedule",
    source=SOURCE + ", Figure 14 ('with and without asynchronous communication (silent)')",
    draw=lambda data, alg: draw_case(data, alg, k=0),
    check=check_silent,
    hard=_empty_buffer_would_pass,
    hard_case="a non-benign schedule in which a local step moved toward the origin (where an empty buffer sits)",
    broken="broken-asgd-zero-buffer-counts",
)

variant("broken-asgd-zero-buffer-counts", of=ASGD, mistake="λ dropped: an empty (zero) buffer counts as a state",
        replace={"nonempty": lambda w: True})

replay_covers(draw_case, ASGD)
