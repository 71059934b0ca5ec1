"""Rennala SGD: synchronous rounds at x_k, asynchronous collection of exactly S fresh gradients.

Tyurin & Richtárik, "Optimal time complexities of parallel stochastic optimization
methods under a fixed computation model", NeurIPS 2023 (arXiv:2305.12387): Rennala
SGD is the optimal method of the *homogeneous* setting.  Seed 004
(004_5e02a306927ced0b.txt) shows its heterogeneous sibling, "Malenia SGD with
Gradient Table" (:mod:`.malenia`), from the same paper.  The line numbers and the
quoted lines below are those of Algorithm 1 in Tyurin, "Bridging the gap between
homogeneous and heterogeneous asynchronous optimization is surprisingly difficult"
(2025), which restates both methods in one loop ("Algorithm 1 Malenia SGD or Rennala
SGD when w_i^k = 1/B_i^k or w_i^k = n/Σ_i B_i^k, respectively"); :func:`round_server`
is that loop, shared with Malenia.  (The 2023 paper's own Method 4 was not reachable
to us line by line; a third-party implementation citing it resends x^k after a stale
result and discards the result, which is this loop with ``stale="ignore"``.)

=====  ================================================================  ==========================================
line   Algorithm 1, quoted (Rennala: w_i^k = n / Σ_i B_i^k)              here (``round_server`` + ``rennala_*``)
=====  ================================================================  ==========================================
1      "Input: point x^0, stepsize γ, parameter S, weights {w_i^k}"      ``xs = [x0]``; params gamma, S
2      "for k = 0, 1, …, K − 1 do"                                       ``for k in range(T)``
3      "Ask all workers to calculate stochastic gradients at x^k;        :func:`ask_all`: every free worker gets a
       init g_i^k = 0 and B_i^k = 0 ∀i ∈ [n]"                            job at x^k; ``fresh, counts = [], [0]*n``
4      "while (1/n Σ_i (w_i^k)² B_i^k)^{-1} ≤ S/n do", i.e.              ``while not rule.enough(counts)`` with
       while Σ_i B_i^k ≤ S (see "exactly S")                             :func:`rennala_enough`: Σ B >= S
5      "Wait for the next worker j"                                      the adversary picks which job finishes
6-7    "Update B_j^k = B_j^k + 1"; "Receive stochastic gradient          :func:`computed_at_current` (k' = k):
       ∇f_j(x^k; ξ) and update g_j^k = g_j^k + ∇f_j(x^k; ξ)"             ``fresh.append``, ``counts[j] += 1``
8      "Ask this worker to calculate a stochastic gradient at x^k"       :func:`ask_again`: worker j, at x^k
10     "g_w^k := 1/n Σ_i w_i^k g_i^k"  = (1/S) Σ of the S gradients      :func:`rennala_aggregate`
11     "x^{k+1} = x^k − γ g_w^k"                                         ``xs.append(xs[k] - gamma * g)``
12     "Stop all the workers' calculations (or ignore the unfinished     ``stale="stop"`` (default): an engine
       calculations in the next iterations)"                             ``Stop`` of every running job, so line 3
                                                                         restarts every worker at x^{k+1};
                                                                         ``stale="ignore"``: they finish, their
                                                                         results are recorded ``used: False``
=====  ================================================================  ==========================================

Readings and deviations (each is tested in ``tests/parameter_server/test_parameter_server_algorithms.py``):

* **Stop or ignore (line 12).**  Both branches of line 12 are here, ``stale="stop"``
  by default, the first one the line names and the one whose round time the proof
  bounds directly (every worker starts the round at x^k: "the number of computed
  stochastic gradients B_i^k >= ⌊t̄/τ_i⌋").  With ``"ignore"`` a worker still busy at
  x^{k'}, k' < k, finishes first, loses up to one compute time, and its result is
  discarded; the paper's bound 2 min_m [(Σ_{i<=m} 1/τ_i)^{-1} (S + m)] covers both
  (claim ``rennala-malenia-round-time``).  With n = 10, S = 10, τ_i = i and T = 10,
  every round takes 5 with stops (x^10 at time 50); when ignored, rounds take 5 to 7
  (x^10 at time 64).
* **Exactly S.**  The 2023 paper's Rennala collects a batch of S gradients at x^k
  (its update is g_R^k = (1/Σ_i B_i^k) Σ_i Σ_j ∇f(x^k; ξ_ij) with Σ_i B_i^k = S).  The
  restated line 4 would continue while Σ B ≤ S, i.e. take S + 1; we take exactly S.
* **Line 8 and the end of the loop.**  Line 8 runs for every arrival, also the one
  that ends the loop.  With ``"ignore"`` that worker therefore computes at x^k once
  more (a result line 12 ignores), read literally.  With ``"stop"`` that job would be
  started and stopped at the same instant, so it is not started: the worker is free
  when line 3 restarts everyone at x^{k+1}.  A worker already computing at x^k (after
  a stop, a result that had finished before the stop can still arrive) is not asked
  twice.
* **Summation order.**  Lines 7 and 10 accumulate in arrival order; float addition
  is not associative, so here the S gradients are summed **sorted by (worker,
  serial)**, starting from the first one, and the sum is divided by S once.  The
  arrival order is the adversary's; (worker, serial) is not.
* Data: worker i computes on its own split (``zeta`` sets heterogeneity; Rennala is
  the method for ζ = 0), with the sample keyed by (seed, worker, serial) (see
  :mod:`.common`).  Delays are AsGrad's: π is the round whose iterate a job used,
  τ = k − π; Rennala uses only τ = 0.

Named steps (:class:`~asyncproof.reference.registry.Steps`, shared with Malenia, which replaces
``enough`` and ``aggregate``): ``restart(workers, k)`` (line 3, :func:`ask_all`), ``enough(S)``
(line 4: returns the exit test on the counts, :func:`rennala_enough`), ``fresh(job, k)``
(lines 6-7, :func:`computed_at_current`), ``again(workers, job, k, loop_ended, stale)`` (line 8,
:func:`ask_again`), ``aggregate(fresh, n)`` (line 10, :func:`rennala_aggregate`), ``stop(workers,
k)`` (line 12, :func:`stop_all`) and ``split_of(splits, worker)`` (whose data a job computes on,
:func:`~.common.own_split`); :func:`round_rule` binds them to S as the :class:`RoundRule` the loop runs.

Recorded (declared: :func:`round_records`): ``"received"`` per arriving gradient
(:class:`Received`: ``t`` = the round k it arrived in, ``pi``, ``tau``, ``used``, ``samples``,
``gradient``), ``"batch"`` per update (:class:`Batch`: ``k``, ``members``: the S (worker,
serial) pairs in summation order), ``"x"`` per update, ``"stopped"`` per stop
(:class:`Stopped`: ``k``, ``jobs``: the (worker, serial, π) stopped), ``"discarded"`` at the
end (:data:`DISCARDED`, an int).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..engine import Output, ProcessSpec, System
from ..records import ITERATE, Record, Value, declare, record
from ..registry import (DICT_BYTES, MAX_BATCH, Algorithm, Param, Steps, bounded_int, records_cost,
                        register)
from ..baselines._common import final_metrics, gamma_param, iterations_param, start_point
from .common import (Received, Workers, check_workers, local_gradient, local_splits, own_split, receive_one,
                     received_record, server_memory, sum_in_order, worker_params)


# --- pieces Rennala and Malenia share (those of every parameter server are in common.py) ----------


def stale_param() -> Param:
    """Line 12 of Algorithm 1 (Rennala, Malenia): stop the calculations at an old x^k, or ignore them."""
    return Param("stale", str, "stop", "line 12: 'stop' the workers' calculations at an old x^k when x^{k+1} "
                 "is made (the default) or 'ignore' them (they finish; their results are discarded)",
                 lambda v: None if v in ("stop", "ignore") else
                 f"stale must be 'stop' or 'ignore' (Algorithm 1, line 12), got {v!r}")


def S_param(help_: str) -> Param:
    """S, the fresh gradients per round (Rennala) or the table's target (Malenia): a round takes
    about S + n results, three events each."""
    return bounded_int("S", 8, help_, 1, MAX_BATCH)


def rounds_memory(problem, p):
    """Rennala's and Malenia's rounds: about S + n results per round (S fresh, and the stale or
    extra ones of the other workers: more when compute times differ a lot), three events each,
    a stop and a restart of the n workers; per round the batch or table and the stopped jobs."""
    T, S, n = p["T"], p["S"], p["n"]
    per = S + n
    return server_memory(problem, p, events=T * (3 * per + 2 * n), results=T * per, iterates=T, jobs=n,
                         why=f"T = {T} rounds x (3(S + n) + 2n), S = {S}, n = {n}", lower=("T", "S", "n"),
                         extra=(records_cost(T, DICT_BYTES + 72 * per, f"T = {T} batch/table and stop records",
                                             ("T", "S", "n")),))


@record("batch")
class Batch(Record):
    """Rennala's line 10 of round ``k``: the S gradients of g^k, as ``members`` (worker, serial)
    in summation order."""
    k: int
    members: list


@record("stopped")
class Stopped(Record):
    """Line 12, "stop", after round ``k``: the ``jobs`` (worker, serial, π) stopped."""
    k: int
    jobs: list


#: the results received and discarded (computed at an older x^k') in the whole run
DISCARDED = Value("discarded", "results received and discarded (stale) in the whole run", kinds=(int,))


# --- the round loop of Algorithm 1 (Rennala and Malenia) -----------------------------------------


def ask_all(workers, k: int):
    """Line 3, "Ask all workers to calculate stochastic gradients at x^k" (``yield from``): every
    worker not already computing gets a job at x^k (a worker still busy at an older iterate
    under ``stale="ignore"`` goes on with it: that is what ignoring means)."""
    for i in range(workers.n):
        if not workers.busy(i):
            yield from workers.assign(workers.new_job(i, k))


def computed_at_current(job, k: int) -> bool:
    """Lines 6-7 receive "∇f_j(x^k; ξ)": only a gradient computed at x^k enters the round."""
    return job.pi == k


def ask_again(workers, job, k: int, loop_ended: bool, stale: str):
    """Line 8, "Ask this worker to calculate a stochastic gradient at x^k" (``yield from``).

    Not when the worker is already computing (a result that finished before a stop), nor,
    under ``"stop"``, after the arrival that ends the loop: line 12 would stop that job at
    the instant it starts."""
    if workers.busy(job.worker) or (loop_ended and stale == "stop"):
        return
    yield from workers.assign(workers.new_job(job.worker, k))


def stop_all(workers, k: int):
    """Line 12, "Stop all the workers' calculations" (``yield from``): returns the jobs stopped."""
    return (yield from workers.stop_all(f"after x_{k + 1}"))


@dataclass(frozen=True)
class RoundRule:
    """The steps the loop runs, with S bound (built by :func:`round_rule` from an algorithm's
    steps): what Rennala and Malenia do differently is line 4's exit test on the counts B_i^k,
    line 10's aggregate of the round's fresh gradients (returns g^k and the fields of its record
    besides ``k``), and the type of that record (:class:`Batch`, Malenia's ``Table``)."""
    enough: Callable[[list], bool]
    aggregate: Callable
    record: type
    fresh: Callable
    again: Callable
    restart: Callable
    stop: Callable
    split_of: Callable


def round_server(problem, splits, gamma: float, T: int, n: int, batch: int, seed: int, x0, rule: RoundRule,
                 stale: str = "stop"):
    """Algorithm 1's loop with ``rule``; ``stale`` is line 12's branch, "stop" or "ignore"."""

    def body(ctx):
        xs = [x0.copy()]

        def compute(job):
            return local_gradient(problem, rule.split_of(splits, job.worker), seed, job.worker, job.serial,
                                  xs[job.pi], batch)

        workers = Workers(n, compute)
        pending, discarded = [], 0
        for k in range(T):                                     # line 2
            yield from rule.restart(workers, k)                # line 3
            fresh, counts = [], [0] * n
            while not rule.enough(counts):                     # line 4
                job, g, idx = yield from receive_one(workers, pending, f"k={k}")     # line 5
                used = rule.fresh(job, k)
                ctx.record(received_record(job, k, g, idx, used))
                if used:
                    fresh.append((job.worker, job.serial, g))  # lines 6-7
                    counts[job.worker] += 1
                else:
                    discarded += 1                             # line 12, "ignore"
                yield from rule.again(workers, job, k, rule.enough(counts), stale)   # line 8
            g_k, summary = rule.aggregate(fresh, n)            # line 10
            xs.append(xs[k] - gamma * g_k)                     # line 11
            ctx.record(rule.record.key, {"k": k, **summary})   # the step's fields, checked against the type
            ctx.record("x", xs[k + 1])
            if stale == "stop":                                # line 12, "stop"
                stopped = yield from rule.stop(workers, k)
                ctx.record(Stopped(k=k, jobs=[(j.worker, j.serial, j.pi) for j in stopped]))
        ctx.record("discarded", discarded)
        yield Output(xs[T])
    return body


# --- Rennala ------------------------------------------------------------------------------------


def rennala_enough(S: int):
    """Line 4 with "exactly S" (a step that returns the test on the counts B_i^k): the round
    ends once Σ_i B_i^k reaches S."""
    return lambda counts: sum(counts) >= S


def rennala_aggregate(fresh, n):
    """(1/S) Σ of the batch, summed sorted by (worker, serial), not in arrival order."""
    batch = sorted(fresh, key=lambda e: (e[0], e[1]))
    g = sum_in_order([e[2] for e in batch]) / len(batch)
    return g, {"members": [(w, s) for w, s, _ in batch]}


def round_rule(steps: Steps, S: int, record: type) -> RoundRule:
    """The :class:`RoundRule` of an algorithm's ``steps`` with S bound; ``record`` is line 10's
    record type (:class:`Batch`, Malenia's ``Table``)."""
    return RoundRule(enough=steps.enough(S), aggregate=steps.aggregate, record=record, fresh=steps.fresh,
                     again=steps.again, restart=steps.restart, stop=steps.stop, split_of=steps.split_of)


def build_rounds(problem, params, seed, rule: RoundRule):
    """The system of :func:`round_server` for ``params`` and ``rule``."""
    n = params["n"]
    splits = local_splits(problem, n, params["zeta"], seed)
    body = round_server(problem, splits, params["gamma"], params["T"], n, params["batch"], seed,
                        start_point(problem, params), rule, params["stale"])
    return System([ProcessSpec(body)], seed=seed)


STEPS = Steps(restart=ask_all, enough=rennala_enough, fresh=computed_at_current, again=ask_again,
              aggregate=rennala_aggregate, stop=stop_all, split_of=own_split)


def rennala_rule(S: int) -> RoundRule:
    """Rennala's own steps (:data:`STEPS`) with S bound."""
    return round_rule(STEPS, S, Batch)


def build(problem, params, seed, steps):
    return build_rounds(problem, params, seed, round_rule(steps, params["S"], Batch))


def metrics(trace, problem, params):
    m = final_metrics(trace, problem, 0)
    discarded = trace.records(DISCARDED.key)
    if discarded:
        m["discarded"] = discarded[-1]
    if params.get("stale") == "stop":
        m["stopped_jobs"] = sum(len(s.jobs) for s in trace.records(Stopped))
    return m


def round_records(update: type) -> dict:
    """The records :func:`round_server` writes, with line 10's record ``update`` (:class:`Batch`,
    Malenia's ``Table``)."""
    return declare(Received, update, ITERATE, Stopped, DISCARDED)


PARAMS = {"gamma": gamma_param(), "T": iterations_param(),
          "S": S_param("batch: fresh gradients (computed at x_k) per update, >= 1"),
          "stale": stale_param(), **worker_params()}

# Each round takes S fresh results and discards at most n stale ones (one per worker still
# busy at an older iterate); a result costs a finish, a receive and a start event, a round a stop.
ALGORITHM = register(Algorithm(
    name="rennala-sgd",
    summary="Rennala SGD: S fresh gradients at x_k from any workers, stale ones discarded, x_{k+1} = x_k − γ mean",
    source="Tyurin & Richtárik, NeurIPS 2023 (Rennala SGD); Algorithm 1 of Tyurin 2025 (w = n/ΣB)",
    params=PARAMS,
    build=build,
    steps=STEPS,
    metrics=metrics,
    default_problem="least-squares",
    max_steps=lambda p: 4 * p["T"] * (p["S"] + p["n"]) + 4 * p["n"] + 50,
    check=check_workers,
    family="parameter-server",
    memory=rounds_memory,
    records=round_records(Batch),
))
