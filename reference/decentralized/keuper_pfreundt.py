"""ASGD (Keuper & Pfreundt, MLHP 2015): local mini-batch steps corrected by the states other nodes sent.

Seed 003 (``003_64bc3d1a200f9b77.txt``), slides "3. ASGD" (Algorithm 5), "ASGD updating: handling of
multiple updates in one iteration at node i" (equation (2), its generalisation to N external buffers,
λ and the Parzen window δ), "ASGD updating: illustration" (Figure 4), "Asynchronous SGD" (Figure 2)
and "Convergence Speed" (Figure 14: with and without communication, "silent").  The paper itself
("Asynchronous parallel stochastic gradient descent -- a numeric core for scalable distributed
machine learning algorithms") is not reachable here: this module follows the slides only, and
every reading below is ours where the slides leave it open.

=====  =====================================================  ==============================================
line   seed 003, Algorithm 5 ASGD(X, T, ε, w_0, b)             here
=====  =====================================================  ==============================================
req.   Require ε > 0, n > 1                                    Params ``eps`` (> 0), ``n`` (>= 2)
1      define H = ⌊m/n⌋                                         ``H = problem.m // n``
2      randomly partition X, H samples to each node            ``partition(seed, m, n)`` (SimuParallelSGD's)
3      for all i ∈ {1..n} parallel do                          one process ``p{i}`` per node, i = 0 .. n-1
4      randomly shuffle samples on node i                      ``shuffle(seed, i, shard)``
5      init w_0^i = 0                                          ``w = x0`` (the problem's x0 unless given)
6      for all t = 0 ... T do                                  ``for t in range(1, T + 1)`` (T updates)
7      draw mini-batch M ← b samples from X                    ``steps.minibatch(seed, i, t, order, b)``
8      update w_{t+1}^i ← w_t^i − ε Δ_M(w_{t+1}^i)             Δ: a job on worker ``w{i}``; then the
       with Δ̄ of "ASGD updating"                               buffers are read, ``steps.window`` (δ),
                                                               ``steps.nonempty`` (λ), ``steps.update`` (Δ̄),
                                                               ``w = w − eps Δ̄``
9      send w_{t+1}^i to random node ≠ i                       ``steps.recipients(seed, i, t, n, k)``, one
                                                               ``Send`` each; the receiver writes the state
                                                               into slot ``steps.slot(j, N)``
10     return w_I^1                                            every node outputs its last w; the
                                                               algorithm's answer is node p0's (the slide's
                                                               node 1), as ``metrics`` reports
=====  =====================================================  ==============================================

The update, "ASGD updating" (paper | code)::

    Δ̄_t(w_{t+1}^i) = w_t^i − 1/(|N|+1) (Σ_{n=1}^N w_{t'}^n + w_t^i) + Δ_t(w_{t+1}^i)
        | generalised_update(w, delta, buffers, accepted):
        |   total = w; total = total + buffers[s] for each accepted slot s, in slot order
        |   return (w - total / (|N| + 1)) + delta
    |N| := Σ_n λ(w_{t'}^n)          | count = sum(accepted), accepted[s] = λ(b_s) and δ(i, b_s)
    λ(w) = 1 iff ||w||_2 > 0         | nonempty(w): bool(np.any(w != 0))
    δ(i,j) = 1 iff ||(w_t^i − εΔw_t^i) − w_{t'}^j||^2 < ||w_t^i − w_{t'}^j||^2
                                     | parzen_window(w, local, wj) with local = w - eps * delta
    w_{t+1}^i ← w_t^i − ε Δ̄          | w - eps * bar_delta

Readings (each tested in ``tests/decentralized/test_keuper_pfreundt.py``):

* **Δ_t(w_{t+1}^i)** names the mini-batch update that *produces* w_{t+1}^i; it is computed at w_t^i
  (the mean of the b sample gradients at w_t^i, summed in the order drawn: seed 003's Algorithm 4
  "aggregate update Δw").  Read literally (a gradient at w_{t+1}) line 8 would be implicit.
* **Equation (2)** reads Δ̄ = ½(w_t^i + w_{t'}^j) + Δ: with w_{t+1} = w_t − εΔ̄ that would shrink every
  model toward the origin whatever the states.  The generalisation has the missing ``w_t^i −`` and
  is the one implemented; with N = 1 it gives Δ̄ = ½(w_t^i − w_{t'}^j) + Δ, i.e. eq. (2) with a minus.
  Two limits pin the reading down and are tested bit for bit: with no external state (|N| = 0) the
  total is w_t, w_t − w_t/1 = 0 exactly, so Δ̄ = Δ and the step is plain mini-batch SGD w − εΔ;
  with one accepted state w^j the step is w_t − ε(w_t − (w_t + w^j)/2) − εΔ: the model moves a
  fraction ε of the way toward the average of the two states, plus its own gradient step
  (Figure 4, III-IV).
* **Which buffers count.**  The sum is over the slots that are both non-empty (λ) and accepted by the
  Parzen window (δ): Figure 4, II, "Only if the condition of equation (4) is met, w_t^j will
  contribute to the local update".  |N| counts those; the slide's |N| counts λ only, but a rejected
  state in the sum without its count (or the reverse) would not be an average.
* **Empty buffers are zero vectors** (λ's "||w||_2 > 0"): a slot holds ``zeros(d)`` until a state is
  written into it.  A state that is exactly 0 is therefore indistinguishable from an empty slot
  and is not counted (the slide's λ, kept literally).
* **Slot rule (the "data race" III of Figure 2, made explicit).**  A state from node j is written
  into slot ``j mod N`` when the receiver reads its buffers, in delivery order: a later delivery
  overwrites an earlier one in the same slot, whichever iteration each came from (an older state
  delivered late replaces a newer one).  The receiver reads its buffers once per iteration, right
  after its mini-batch update is ready (Figure 2, II: "When its local mini-batch update is ready, it
  will use the external buffer"); the read and the update are one atomic step, so this equals a
  one-sided put into the slot at delivery.
* **Buffers are cleared after use**: every slot is zeroed after each update, whether its state was
  accepted or rejected.  λ exists to tell an empty buffer from a filled one, which means buffers
  become empty again (Figure 2, I: "The external buffer is empty. Hence it executes the update
  locally"); a state kept would be used again at every later iteration, ever staler (Figure 3:
  "a process can only be informed about past states").
* **Line 7**: the b samples are drawn uniformly with replacement from the node's own shard (line 2
  gives each node H samples; drawing from all of X would make the partition pointless), as b
  positions in node i's shuffled order keyed by (seed, STREAM_NODES + i, t)
  (:func:`~asyncproof.reference.decentralized.common.sample_indices` over H).  b > H is refused.
* **Line 9**: ``k`` recipients (the slide's "random node", Figure 2's "a few random recipients"),
  distinct and ≠ i, drawn from the key (seed, STREAM_RECIPIENTS + i, t), so the same whatever the
  schedule; ``k = 0`` is the silent variant (Figure 14), n independent mini-batch SGD runs.
* **Iterations** are numbered t = 1 .. T as in the family's records (``common.ModelAt``: x_1 = w_0);
  the slide's "for t = 0 ... T" is read as T updates.  A state sent after update t is w_{t+1}, sent
  with t' = t + 1 (the iteration it begins).

Named steps (:class:`Steps`): ``minibatch`` (line 7), ``nonempty`` (λ), ``window`` (δ), ``update`` (Δ̄),
``recipients`` (line 9), ``slot`` (where a received state goes).

>>> from asyncproof import run_algorithm
>>> r = run_algorithm("keuper-pfreundt-asgd", params={"n": 3, "T": 2, "k": 1, "N": 2})
>>> [u["count"] for u in r.trace.observed("update", 1)]
[0, 1]
>>> generalised_update(np.array([2.0]), np.array([0.5]), [np.array([4.0]), np.zeros(1)], [True, False])
array([-0.5])
"""

from __future__ import annotations

import numpy as np

from ..baselines._common import start_point, x0_param
from ..baselines.simu_parallel_sgd import partition, shuffle
from ..engine import Output, ProcessSpec, Receive, Send, System, compute
from ..errors import InputError
from ..records import ITERATE, Record, declare, record
from ..registry import (MAX_ITERATIONS, MAX_PROCESSES, MAX_STEP, Algorithm, MemoryEstimate, Param, Steps,
                        arrays_cost, bounded_int, events_cost, positive, records_cost, register)
from ..rng import generator
from .common import GradientAt, ModelAt, batch_param, sample_indices

#: the stream base of the recipients' draws: node i draws its recipients of iteration t from
#: the key (seed, STREAM_RECIPIENTS + i, t)
STREAM_RECIPIENTS = 3_100_019


# --------------------------------------------------------------------------------------
# the named steps


def draw_minibatch(seed: int, i: int, t: int, order: np.ndarray, b: int) -> list[int]:
    """Line 7: b samples of node i's own shard, uniform with replacement, at positions keyed (seed, i, t)."""
    return [int(order[p]) for p in sample_indices(seed, i, t, len(order), b)]


def nonempty(w: np.ndarray) -> bool:
    """λ(w) = 1 iff ||w||_2 > 0: an empty buffer is a zero vector (a coordinate test: the norm of a
    tiny state could underflow to 0)."""
    return bool(np.any(w != 0.0))


def parzen_window(w: np.ndarray, local: np.ndarray, wj: np.ndarray) -> bool:
    """δ(i, j) = 1 iff ||(w_t^i − εΔ) − w_{t'}^j||^2 < ||w_t^i − w_{t'}^j||^2: the local step
    ``local`` = w − εΔ moves toward the external state."""
    after, before = local - wj, w - wj
    return float(np.dot(after, after)) < float(np.dot(before, before))


def generalised_update(w: np.ndarray, delta: np.ndarray, buffers: list, accepted: list) -> np.ndarray:
    """Δ̄ = w − (Σ_{accepted} b_s + w)/(|N| + 1) + Δ, the sum from w in slot order."""
    total = w
    for b, ok in zip(buffers, accepted):
        if ok:
            total = total + b
    return (w - total / (sum(accepted) + 1)) + delta


def draw_recipients(seed: int, i: int, t: int, n: int, k: int) -> list[int]:
    """Line 9: k distinct recipients ≠ i, keyed (seed, STREAM_RECIPIENTS + i, t)."""
    if k == 0:
        return []
    others = np.array([j for j in range(n) if j != i], dtype=np.int64)
    return [int(j) for j in generator(seed, STREAM_RECIPIENTS + i, t).choice(others, size=k, replace=False)]


def buffer_slot(sender: int, N: int) -> int:
    """The slot a state from ``sender`` is written into (a later delivery overwrites it)."""
    return sender % N


# --------------------------------------------------------------------------------------
# the record of an update


@record("update")
class Update(Record):
    """One update of node i at iteration t: what its N buffers held, λ and δ of each, |N|, the result."""
    t: int
    w: np.ndarray          # w_t^i
    delta: np.ndarray      # Δ_M(w_t^i), the mini-batch update
    buffers: list          # the N slots as read (zeros: empty), slot order
    senders: list          # per slot: [j, t'] of the state in it, None when empty
    lam: list              # λ of each slot
    window: list           # δ(i, ·) of each slot
    count: int             # |N|: slots with λ and δ
    result: np.ndarray     # w_{t+1}^i


def node_process(problem, i, params, seed, shard, steps):
    n, T, eps, b, N, k = (params[p] for p in ("n", "T", "eps", "b", "N", "k"))
    x0 = start_point(problem, params)

    def body(ctx):
        order = shuffle(seed, i, shard)                                                   # line 4
        w = x0.copy()                                                                     # line 5
        empty = [np.zeros_like(w) for _ in range(N)]
        buffers, senders = list(empty), [None] * N
        for t in range(1, T + 1):                                                         # line 6
            ctx.record(ModelAt(t, w))
            M = steps.minibatch(seed, i, t, order, b)                                     # line 7
            delta = yield from compute(f"w{i}", f"Δ_M(w^{i}_{t}) t={t}",
                                       lambda w=w, M=M: _mean_gradient(problem, w, M))
            ctx.record(GradientAt(t, M, delta))
            got = yield Receive(until=lambda ms: True, match=lambda m: m.job is None, label=f"buffers t={t}")
            for m in got:                                    # delivery order: the later overwrites
                s = steps.slot(m.payload["j"], N)
                buffers[s], senders[s] = m.payload["w"], [m.payload["j"], m.payload["t"]]
            local = w - eps * delta
            lam = [steps.nonempty(v) for v in buffers]
            window = [steps.window(w, local, v) for v in buffers]
            accepted = [a and d for a, d in zip(lam, window)]
            bar_delta = steps.update(w, delta, buffers, accepted)                         # line 8
            w_next = w - eps * bar_delta
            ctx.record(Update(t, w, delta, list(buffers), list(senders), lam, window, sum(accepted), w_next))
            ctx.record("x", w_next)
            buffers, senders = list(empty), [None] * N       # consumed: see "Buffers are cleared"
            w = w_next
            for j in steps.recipients(seed, i, t, n, k):                                  # line 9
                yield Send(j, {"j": i, "t": t + 1, "w": w}, tag=f"w^{i}_{t + 1}")
        ctx.record(ModelAt(T + 1, w))
        yield Output(w)                                                                   # line 10
    return body


def _mean_gradient(problem, w, M):
    g = problem.sample_grad(w, M[0]).copy()
    for j in M[1:]:
        g = g + problem.sample_grad(w, j)
    return g / len(M)


def build(problem, params, seed, steps):
    n, b = params["n"], params["b"]
    H = problem.m // n                                                                    # line 1
    if b > H:
        raise InputError(f"keuper-pfreundt-asgd: b = {b} exceeds H = ⌊m/n⌋ = {H}, the samples of a node's "
                         f"shard (m = {problem.m}, n = {n})")
    shards = partition(seed, problem.m, n)                                                # line 2
    return System([ProcessSpec(node_process(problem, i, params, seed, shards[i], steps)) for i in range(n)],
                  seed=seed)


def check(problem, params) -> None:
    if params["k"] >= params["n"]:
        raise InputError(f"keuper-pfreundt-asgd: k = {params['k']} recipients must be < n = {params['n']} "
                         f"(distinct nodes other than the sender)")


def metrics(trace, problem, params) -> dict:
    """The slide's answer, node p0's last w (``return w_I^1``), its loss and gradient norm; and the
    loss of every node's last model (``node_losses``)."""
    from ..baselines._common import final_metrics
    m = final_metrics(trace, problem, 0)
    m["node_losses"] = [float(problem.value(np.asarray(trace.outputs[p][-1])))
                        for p in sorted(trace.outputs) if trace.outputs[p]]
    return m


def memory(problem, params) -> MemoryEstimate:
    n, T, k, N, b = (int(params[p]) for p in ("n", "T", "k", "N", "b"))
    d = int(problem.d)
    it, lower = n * T, ("T", "n")
    why = f"T = {T} iterations x n = {n}"
    return MemoryEstimate(events_cost(it * (4 + 2 * k), f"{why} x (4 + 2k), k = {k}", lower),
                          arrays_cost(it * (6 + N + k), d, f"{why} x (6 + N + k) d-vectors, N = {N}, d = {d}",
                                      lower + ("N",)),
                          records_cost(it, 400 + 36 * b + 100 * N, f"{why} updates and gradients", lower))


ALGORITHM = register(Algorithm(
    name="keuper-pfreundt-asgd",
    summary="ASGD: local mini-batch steps, states sent to k random nodes, N external buffers, Parzen window",
    source="seed 003, Algorithm 5 and 'ASGD updating' (Keuper & Pfreundt, MLHP 2015)",
    params={
        "n": bounded_int("n", 4, "number of nodes, >= 2 (Require n > 1)", 2, MAX_PROCESSES, "n (nodes)"),
        "T": bounded_int("T", 50, "iterations (updates) per node", 1, MAX_ITERATIONS, "T (iterations)"),
        "eps": Param("eps", float, 0.05, "step size ε, > 0", positive("eps (step size ε)"), lo=0.0, lo_open=True,
                     hi=MAX_STEP, what="eps (step size ε)"),
        "b": batch_param(1),
        "N": bounded_int("N", 2, "external buffers per node, >= 1", 1, MAX_PROCESSES, "N (external buffers)"),
        "k": bounded_int("k", 1, "recipients of each state, 0 <= k < n (0: silent, no communication)", 0,
                         MAX_PROCESSES - 1, "k (recipients)"),
        "x0": x0_param(),
    },
    build=build,
    check=check,
    family="decentralized",
    steps=Steps(minibatch=draw_minibatch, nonempty=nonempty, window=parzen_window, update=generalised_update,
                recipients=draw_recipients, slot=buffer_slot),
    records=declare(ModelAt, GradientAt, ITERATE, Update),
    metrics=metrics,
    memory=memory,
    default_problem="kmeans",
    max_steps=lambda p: p["n"] * (p["T"] * (6 + 2 * p["k"]) + 4) + 10,
))

