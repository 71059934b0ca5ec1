"""The General Algorithm of seed 000: step, send, wait for >= M iteration-t models, average.

Seed 000 (``000_3f5163bcd896752f.txt``), the slides titled "General Algorithm" (seven versions) and
"Non Strongly Convex Functions Require a Majority".  The papers they cite (Ghadimi & Lan 2013;
El Mhamdi et al., NeurIPS 2021; Goren, Moses & Spiegelman, DISC 2021) are not reachable here: this
module follows the slides alone.

==========================================================  ===================================================
seed 000, "General Algorithm"                               here (process ``p{i}``, :func:`node`)
==========================================================  ===================================================
For iteration t = 1, ..., T:                                ``for t in range(1, T + 1)``
1. Compute the stochastic gradient g_t^i at x_t^i           a job on worker ``w{i}``: ``stochastic_gradient``
                                                            on ``sample_indices(seed, i, t, m, b)``
2. x_t^i ← x_t^i − η_t · g_t^i                              ``x = x - rate_of(params, t) * g``
3. Send ⟨t, x_t^i⟩                                          ``yield Broadcast((t, x), tag=f"t={t}")`` (itself
                                                            included)
4. Wait to receive >= M iteration-t messages                ``yield Receive(until=...)``: until ``steps.enough``
                                                            of the iteration-t senders filed (``steps.filed``)
5. x_{t+1}^i ← Avg(received models)                         ``x = steps.average(book.pop(t))``: every
                                                            iteration-t model received, summed by sender pid
(output x_{T+1}^i)                                          ``yield Output(x)``
==========================================================  ===================================================

Readings (each tested in ``tests/decentralized/test_general_algorithm.py``):

* **M, the count waited for.**  The first slides say "Wait to receive >= M iteration-t messages"
  and "This algorithm needs communication with a majority"; the later ones "Proceed to the next
  iteration, only after receiving current-iteration messages from a majority" above the line
  "Wait to receive >= ⌈n/2⌉ iteration-t messages".  For even n, ⌈n/2⌉ = n/2 is *not* a majority:
  two disjoint halves could each proceed with their own messages and never hear from each other
  (the split-brain of "Non Strongly Convex Functions Require a Majority").  The default M is
  therefore the strict majority ⌊n/2⌋ + 1 (:func:`majority`; the process's own message counts, it
  is sent to itself), which equals ⌈n/2⌉ for odd n; any two sets of M senders then intersect.  The
  literal ⌈n/2⌉ is the broken variant ``broken-general-ceil-half`` (properties module), caught at
  even n.  An explicit ``M`` (1 <= M <= n) is the slides' "≥ M" and is taken as given: M below a
  majority is the "for any M" of the strongly convex slide, and may split on a nonconvex Q.
* **Which messages count.**  An iteration-t wait counts iteration-t messages only, one per sender.
  A message of a *later* iteration t' > t (a faster process) is kept and counts when this process
  reaches t'; a message of an *earlier* iteration is stale (its wait has ended) and is dropped
  (:func:`filed`).
* **Avg(received models).**  The wait takes every delivered model message at once (the engine's
  Receive), so the average is over *all* iteration-t models received when the wait ends, M or
  more, not the first M; summed in sender-pid order and then divided by their number
  (:func:`average_by_pid`), never in arrival order, so the bits do not depend on the schedule.
* **Crashes** are crash-stop (the case's engine ``Model``; no ``recover`` hook).  With at least M
  processes correct every correct process finishes; with fewer, every process still waiting at
  the first iteration some crashed process did not send blocks there: nobody passes it with
  fewer than M models.

Records: ``model`` (t, x_t^i) when iteration t begins and (T + 1, x) at the end, ``gradient``
(t, samples, g_t^i), ``x`` after each average, and ``averaged`` (:class:`Averaged`: t, the
senders in pid order, x_{t+1}^i).

Named steps (:class:`~asyncproof.reference.registry.Steps`): ``quorum`` (the default M),
``filed`` (which iteration a received message counts for), ``enough`` (the wait's condition),
``average`` (step 5).

>>> from asyncproof.reference.schedule import run_algorithm
>>> res = run_algorithm("general-sgd", params={"n": 4, "T": 2}, problem={"name": "quadratic"})
>>> [a.senders for a in res.trace.records(Averaged, 0)]      # the benign schedule: all four arrive first
[[0, 1, 2, 3], [0, 1, 2, 3]]
>>> majority(4), majority(5)
(3, 3)
"""

from __future__ import annotations

import numpy as np

from ..engine import Broadcast, Output, ProcessSpec, Receive, System, compute
from ..errors import InputError
from ..records import ITERATE, Record, declare, record
from ..registry import MAX_ITERATIONS, MAX_PROCESSES, Algorithm, Param, Steps, at_least, bounded_int, register
from ..baselines._common import start_point, x0_param
from .common import (GradientAt, ModelAt, batch_param, rate_of, rate_params, sample_indices,
                     stochastic_gradient)


@record("averaged")
class Averaged(Record):
    """Step 5 of iteration t: the senders whose iteration-t models were averaged (pid order) and x_{t+1}^i."""
    t: int
    senders: list
    x: np.ndarray


# --------------------------------------------------------------------------------------
# the named steps


def majority(n: int) -> int:
    """The default M: the strict majority ⌊n/2⌋ + 1 (the slides' "from a majority"; see the docstring)."""
    return n // 2 + 1


def filed(tm: int, t: int) -> int | None:
    """The iteration a message ⟨tm, x⟩ received during iteration t's wait counts for: its own when it
    is current or early (kept for later), None when stale (tm < t: that wait has ended)."""
    return tm if tm >= t else None


def enough(count: int, M: int) -> bool:
    """Step 4's condition: >= M iteration-t messages (distinct senders)."""
    return count >= M


def average_by_pid(models: dict) -> np.ndarray:
    """Step 5: Avg(received models), summed in sender-pid order, then divided by their number."""
    pids = sorted(models)
    s = models[pids[0]].copy()
    for p in pids[1:]:
        s = s + models[p]
    return s / len(pids)


# --------------------------------------------------------------------------------------
# the process


def _is_model(m) -> bool:
    return m.job is None and m.tag.startswith("t=")


def _file(steps, book: dict, tm: int, sender: int, x, t: int) -> None:
    k = steps.filed(tm, t)
    if k is not None:
        book.setdefault(k, {}).setdefault(sender, x)      # one model per sender: the first heard


def _senders_if_received(steps, book: dict, ms, t: int) -> int:
    heard = set(book.get(t, ()))
    heard.update(m.src_pid for m in ms if steps.filed(m.payload[0], t) == t)
    return len(heard)


def node(problem, i: int, M: int, params: dict, x0: np.ndarray, seed: int, steps):
    T, b = params["T"], params["b"]

    def body(ctx):
        x = x0.copy()
        book: dict[int, dict[int, np.ndarray]] = {}     # iteration -> sender -> model, kept until that wait
        for t in range(1, T + 1):
            ctx.record(ModelAt(t=t, x=x))
            samples = sample_indices(seed, i, t, problem.m, b)                                        # 1.
            g = yield from compute(f"w{i}", f"grad g^{i}_{t}", lambda x=x, s=samples: stochastic_gradient(problem, x, s))
            ctx.record(GradientAt(t=t, samples=[int(j) for j in samples], g=g))
            x = x - rate_of(params, t) * g                                                            # 2.
            yield Broadcast((t, x), tag=f"t={t}")                                                     # 3.
            got = yield Receive(until=lambda ms, t=t: steps.enough(_senders_if_received(steps, book, ms, t), M),
                                match=_is_model, label=f"t={t}")                                      # 4.
            for m in got:
                _file(steps, book, m.payload[0], m.src_pid, m.payload[1], t)
            received = book.pop(t)
            x = steps.average(received)                                                               # 5.
            ctx.record(Averaged(t=t, senders=sorted(received), x=x))
            ctx.record(ITERATE.key, x)
            book = {k: v for k, v in book.items() if k > t}
        ctx.record(ModelAt(t=T + 1, x=x))
        yield Output(x)
    return body


def build(problem, params, seed, steps):
    n = params["n"]
    M = params["M"] if params["M"] is not None else steps.quorum(n)
    x0 = start_point(problem, params)
    return System([ProcessSpec(node(problem, i, M, params, x0, seed, steps)) for i in range(n)], seed=seed)


def check(problem, params) -> None:
    n, M = params["n"], params["M"]
    if M is not None and M > n:
        raise InputError(f"general-sgd: M = {M} is more than the n = {n} processes: the wait could never end")


def metrics(trace, problem, params) -> dict:
    outs = {p: np.asarray(o[-1]) for p, o in trace.outputs.items() if o}
    m = {"steps": len(trace.events), "stopped": trace.stopped, "finished": len(outs), "crashed": len(trace.crashed)}
    if outs:
        xs = [outs[p] for p in sorted(outs)]
        m["loss"] = float(problem.value(xs[0]))
        m["spread"] = float(max(np.linalg.norm(a - c) for a in xs for c in xs))
        if problem.d <= 6:
            m["x"] = [float(v) for v in xs[0]]
    return m


ALGORITHM = register(Algorithm(
    name="general-sgd",
    summary="seed 000's General Algorithm: SGD step, send ⟨t, x⟩, wait for >= M (a majority) iteration-t "
            "models, average them",
    source="seed 000, 'General Algorithm' (and 'Non Strongly Convex Functions Require a Majority')",
    params={"n": bounded_int("n", 4, "number of processes, >= 1", 1, MAX_PROCESSES, "n (processes)"),
            "M": Param("M", int, None, "iteration-t messages waited for, 1 <= M <= n (default: the majority "
                       "⌊n/2⌋+1)", at_least(1, "M (messages waited for)"), lo=1, hi=MAX_PROCESSES,
                       what="M (messages waited for)"),
            **rate_params(0.1), "b": batch_param(),
            "T": Param("T", int, 10, "iterations t = 1 .. T", at_least(1, "T (iterations)"), lo=1,
                       hi=MAX_ITERATIONS, what="T (iterations)"),
            "x0": x0_param()},
    build=build,
    check=check,
    steps=Steps(quorum=majority, filed=filed, enough=enough, average=average_by_pid),
    records=declare(ModelAt, GradientAt, ITERATE, Averaged),
    metrics=metrics,
    default_problem="double-well",
    family="decentralized",
    max_steps=lambda p: p["n"] * p["T"] * (2 * p["n"] + 8) + 20,
))
