"""Mini-batch SGD: a server process and n workers computing the batch's gradients.

Seed 003 (003_64bc3d1a200f9b77.txt), "Algorithm 4 Mini-Batch SGD with ... number of
threads n and mini-batch size b"; seed 000 (000_3f5163bcd896752f.txt), slides
"Mini-Batch SGD" and "Simple Distributed Mini-Batch SGD".

=====  ====================================================  ====================================
line   seed 003, Algorithm 4                                 here
=====  ====================================================  ====================================
1      for all t = 0 ... T do                                ``for t in range(T)``
2      draw mini-batch M ← b samples from X                  ``draw_batch(seed, t, m, b)``
3      Init Δw_t = 0                                         (the first gradient starts the sum)
4-5    for all x ∈ M: aggregate Δw ← ∂_w x_j(w_t)            b jobs, sample k on worker ``w{k mod n}``
6      update w_{t+1} ← w_t − ε Δw_t                         ``x − γ batch_mean(Δw, b)`` (Δw / b)
7      return w_{T+1}                                        ``Output(x)``
=====  ====================================================  ====================================

Named steps (:class:`Steps`): ``point`` (where lines 4-5 take the gradients), ``aggregate``
(lines 4-5's sum) and ``mean`` (line 6's normalisation).

Deviations and choices:

* The update divides by b (seed 000: ``x_{t+1} = x_t − (η/M) Σ G(x_t, z_i)``); seed
  003's line 6 leaves the normalisation implicit.
* The gradients are summed **in the batch's order, not in arrival order**: float
  addition is not associative, and the sum must not depend on which worker the
  adversary lets finish first.  The sum starts from the first gradient rather
  than from 0 so that ``b = 1`` reproduces SGD bit for bit (``0.0 + (-0.0)`` is ``+0.0``).
* The batch of iteration t is drawn from the same key as SGD's sample, so with
  ``b = 1`` mini-batch SGD and SGD see the same samples.
* ``batches`` fixes the batches instead (batch t is ``batches[t mod len]``, each of b
  sample indices): mini-batch SGD on the samples another algorithm drew, the reference
  FedBuff's synchronous schedule is compared with.
"""

from __future__ import annotations

from functools import partial

from ..engine import Job, Output, ProcessSpec, Receive, Start, System
from ..errors import InputError
from ..records import ARRIVAL, ITERATE, declare
from ..registry import (INT_BYTES, JOB_BYTES, MAX_BATCH, MAX_ENTRIES, MAX_ITERATIONS, MAX_WORKERS, Algorithm, Cost,
                        MemoryEstimate, Param, Steps, arrays_cost, bounded_int, events_cost, records_cost, register)
from ..rng import draw_batch
from ._common import final_metrics, gamma_param, iterations_param, start_point, x0_param


def aggregate_in_batch_order(jobs, messages):
    """Δw = Σ_k g_k over the batch in the order the jobs were started."""
    by_job = {m.job: m.payload for m in messages}
    delta = by_job[jobs[0]].copy()
    for jid in jobs[1:]:
        delta = delta + by_job[jid]
    return delta


def batch_mean(delta, b: int, n: int):
    """Line 6's normalisation: the sum of the batch's b gradients (computed by n workers) divided by b
    (seed 000's ``η/M Σ``)."""
    return delta / b


def server_process(problem, gamma, T, b, n, x0, seed, batches, steps):
    def body(ctx):
        x = x0.copy()
        x_prev = x0
        for t in range(T):
            M = draw_batch(seed, t, problem.m, b) if batches is None else batches[t % len(batches)]   # line 2
            jobs = []
            at = steps.point(x, x_prev)
            for k, j in enumerate(M):                                   # lines 4-5, one job per sample
                jid = yield Start(Job(f"w{k % n}", f"grad f_{int(j)}(x_{t})",
                                      partial(problem.sample_grad, at, int(j))))
                jobs.append(jid)
            mine = set(jobs)
            got = yield Receive(until=lambda ms: len(ms) >= b, match=lambda m: m.job in mine,
                                label=f"batch t={t}")
            ctx.record("arrival", [jobs.index(m.job) for m in got])
            delta = steps.aggregate(jobs, got)
            x_prev, x = x, x - gamma * steps.mean(delta, b, n)              # line 6
            ctx.record("x", x)
        yield Output(x)                                                  # line 7
    return body


def gradient_point(x, x_prev):
    """Lines 4-5: the batch's gradients are taken at w_t, the iterate of this step."""
    return x


def build(problem, params, seed, steps):
    x0 = start_point(problem, params)
    return System([ProcessSpec(server_process(problem, params["gamma"], params["T"], params["b"],
                                              params["n"], x0, seed, params.get("batches"), steps))],
                  seed=seed)


def check(problem, params) -> None:
    batches = params.get("batches")
    if batches is None:
        return
    if len(batches) == 0:
        raise InputError("minibatch-sgd: batches must not be empty")
    for t, M in enumerate(batches):
        if not isinstance(M, (list, tuple)) or len(M) != params["b"]:
            raise InputError(f"minibatch-sgd: batches[{t}] must be a list of b = {params['b']} sample indices, "
                             f"got {M!r}")
        bad = [j for j in M if not isinstance(j, int) or isinstance(j, bool) or not 0 <= j < problem.m]
        if bad:
            raise InputError(f"minibatch-sgd: batches[{t}] holds {bad[:5]}, not sample indices of a problem "
                             f"with m = {problem.m}")


PARAMS = {"gamma": gamma_param(), "T": iterations_param(), "x0": x0_param(),
          "b": bounded_int("b", 4, "mini-batch size b (M in seed 000), >= 1", 1, MAX_BATCH, "b (mini-batch size)"),
          "n": bounded_int("n", 2, "number of workers (threads) computing the batch, >= 1", 1, MAX_WORKERS,
                           "n (workers)"),
          "batches": Param("batches", "list", None, "fixed batches, b sample indices each (default: uniform draws)",
                           max_len=MAX_ITERATIONS, items=(0, MAX_ENTRIES - 1))}


def memory(problem, p) -> MemoryEstimate:
    """T steps of 2b + 1 events (b starts, b finishes, a receive); per step the arrival order of
    the b samples and x_t recorded; a step's b jobs and their gradients in flight."""
    T, b, d = p["T"], p["b"], problem.d
    return MemoryEstimate(
        events_cost(T * (2 * b + 1) + 1, f"T = {T} steps x (2b + 1), b = {b}", ("b", "T")),
        records_cost(T, b * INT_BYTES, f"T = {T} arrival orders of b = {b} samples", ("b", "T")),
        arrays_cost(T, d, f"T = {T} iterates x_t (d = {d})", ("T",)),
        Cost(f"b = {b} jobs in flight", b * (JOB_BYTES + 8 * d), ("b",)))

ALGORITHM = register(Algorithm(
    name="minibatch-sgd",
    summary="mini-batch SGD: b sample gradients at x_t on n workers, summed in batch order",
    source="seed 003 Algorithm 4; seed 000 slides 'Mini-Batch SGD', 'Simple Distributed Mini-Batch SGD'",
    params=PARAMS,
    build=build,
    steps=Steps(point=gradient_point, aggregate=aggregate_in_batch_order, mean=batch_mean),
    records=declare(ARRIVAL, ITERATE),
    metrics=lambda trace, problem, params: final_metrics(trace, problem, 0),
    default_problem="least-squares",
    max_steps=lambda p: p["T"] * (2 * p["b"] + 3) + 10,
    check=check,
    memory=memory,
))
