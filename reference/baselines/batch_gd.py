"""Batch gradient descent: the full gradient, computed in shards by n workers.

Seed 003 (003_64bc3d1a200f9b77.txt), "Algorithm 1 BATCH optimization with samples X,
iterations T and states w"; the MapReduce BATCH baseline of seed 003's Figure 1.

=====  ====================================================  ============================================
line   seed 003, Algorithm 1                                 here
=====  ====================================================  ============================================
1      for all t = 0 ... T do                                ``for t in range(T)``
2      Init w_{t+1} = 0                                      (the first shard starts the sum)
3-4    for all x_j ∈ X: aggregate w_{t+1} += ∂_w x_j(w_t)    worker ``w{k}`` computes shard k's mean gradient
5      w_{t+1} = w_{t+1} / |X|                               ``combine_shard_means``: shard means weighted by
                                                             |shard|/|X|, in shard order
=====  ====================================================  ============================================

Deviation: the slide's Algorithm 1 sets the new state to the mean gradient itself;
we take the step ``w_{t+1} = w_t − ε · (mean gradient)``, which is what BATCH
optimisation means.  Shards are contiguous index ranges; the shard results are
combined in shard order, so the result does not depend on the schedule, and
with ``n = 1`` it is exactly full-gradient descent with the problem's ``grad``.
Named step (:class:`Steps`): ``combine`` (line 5).
"""

from __future__ import annotations

import numpy as np

from ..engine import Job, Output, ProcessSpec, Receive, Start, System
from ..errors import InputError
from ..records import ARRIVAL, ITERATE, declare
from ..registry import (INT_BYTES, JOB_BYTES, MAX_WORKERS, Algorithm, Cost, MemoryEstimate, Steps, arrays_cost,
                        bounded_int, events_cost, records_cost, register)
from ._common import final_metrics, gamma_param, iterations_param, start_point, x0_param


def shards_of(m: int, n: int) -> list[np.ndarray]:
    """Contiguous index ranges, the first ``m mod n`` of them one sample longer (``numpy.array_split``)."""
    return np.array_split(np.arange(m, dtype=np.int64), n)


def combine_shard_means(means: list, sizes: list[int], m: int):
    """Line 5: the full mean gradient from the shards' means, each weighted by ``|shard| / |X|``,
    added in shard order (so unequal shards count by their size)."""
    g = (sizes[0] / m) * means[0]
    for k in range(1, len(means)):
        g = g + (sizes[k] / m) * means[k]
    return g


def server_process(problem, gamma, T, n, x0, steps):
    shards = shards_of(problem.m, n)
    sizes = [len(s) for s in shards]

    def body(ctx):
        x = x0.copy()
        for t in range(T):                                                  # line 1
            jobs = []
            for k, shard in enumerate(shards):                              # lines 3-4, by shard
                jid = yield Start(Job(f"w{k}", f"shard {k} grad(x_{t})",
                                      lambda x=x, shard=shard: problem.batch_grad(x, shard)))
                jobs.append(jid)
            mine = set(jobs)
            got = yield Receive(until=lambda ms: len(ms) >= n, match=lambda m: m.job in mine,
                                label=f"shards t={t}")
            ctx.record("arrival", [jobs.index(m.job) for m in got])
            by_job = {m.job: m.payload for m in got}
            g = steps.combine([by_job[jid] for jid in jobs], sizes, problem.m)    # line 5, in shard order
            x = x - gamma * g
            ctx.record("x", x)
        yield Output(x)
    return body


def build(problem, params, seed, steps):
    if problem.m < params["n"]:
        raise InputError(f"batch-gd: n = {params['n']} workers need at least n samples, the problem has m = {problem.m}")
    x0 = start_point(problem, params)
    return System([ProcessSpec(server_process(problem, params["gamma"], params["T"], params["n"], x0, steps))],
                  seed=seed)


def memory(problem, p) -> MemoryEstimate:
    """T steps of 2n + 1 events (n starts, n finishes, a receive); per step the arrival order and
    x_t recorded; the n shard gradients of a step in flight."""
    T, n, d = p["T"], p["n"], problem.d
    return MemoryEstimate(
        events_cost(T * (2 * n + 1) + 1, f"T = {T} steps x (2n + 1), n = {n}", ("T", "n")),
        arrays_cost(T, d, f"T = {T} iterates x_t (d = {d})", ("T",)),
        records_cost(2 * T, n * INT_BYTES // 2, f"T = {T} x 2 (x_t, the arrival of n = {n})", ("T", "n")),
        Cost(f"n = {n} shard jobs in flight", n * (JOB_BYTES + 8 * d), ("n",)))


ALGORITHM = register(Algorithm(
    name="batch-gd",
    summary="batch GD: the mean gradient over all samples, computed in n shards",
    source="seed 003 Algorithm 1",
    params={"gamma": gamma_param(), "T": iterations_param(), "x0": x0_param(),
            "n": bounded_int("n", 1, "number of workers (shards), >= 1", 1, MAX_WORKERS, "n (workers)")},
    build=build,
    steps=Steps(combine=combine_shard_means),
    records=declare(ARRIVAL, ITERATE),
    metrics=lambda trace, problem, params: final_metrics(trace, problem, 0),
    default_problem="least-squares",
    max_steps=lambda p: p["T"] * (2 * p["n"] + 3) + 10,
    memory=memory,
))
