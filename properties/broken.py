"""Deliberately broken variants, so that every property is shown able to fail.

Each variant is a registered algorithm (``broken=True``, hidden from ``asyncproof
list``) that differs from a real one by a single realistic mistake.  The test
suite and ``asyncproof verify`` assert that Hypothesis finds a counterexample for
each, and that the saved schedule replays the failure.

=====================================  ============================================================
variant                                the mistake
=====================================  ============================================================
``broken-sgd-warm-start-leak``         starts from the last iterate of the previous run in the
                                       same process (module state that outlives the run), so a
                                       replay starts elsewhere
``broken-simu-parallel-drops-last``    each node sends w_{T-1}: its last update is lost
``broken-minibatch-stale-gradient``    the batch gradient is taken at x_{t-1} (stale bookkeeping)
``broken-minibatch-arrival-order``     gradients summed in arrival order, so the result depends
                                       on the schedule (float addition is not associative)
``broken-sgd-sample-stream-swapped``   draws iteration t's sample from ``generator(seed, t)``: t lands
                                       in the *stream* argument, the key is (seed, t, 0), not
                                       the documented (seed, STREAM_SAMPLER, t)
``broken-minibatch-divides-by-         divides the batch's sum by the number of workers n, not
workers``                              by the batch size b
``broken-simu-parallel-one-based-     the slide's ``sum_{i=1..n}`` read as ``range(1, n)``: node 0's
sum``                                  model is left out of the sum, which is still divided by n
``broken-batch-gd-unweighted-shards``  averages the shards' mean gradients with equal weights, so
                                       with unequal shards a sample counts more in a small shard
``broken-sgd-logistic-reg-grad-        SGD on a logistic problem whose ``sample_grad`` kernel drops
missing-2``                            the 2 of the regulariser's derivative ``2x/(1+x^2)^2``
``broken-batch-gd-cut-grad-sign``      batch GD on a graph-cuts problem whose ``batch_grad`` kernel
                                       adds the edge's subgradient to x_v with x_u's sign
``broken-random-async-finished-        computes a new job on the data of the worker that just
workers-data``                         finished, not the assigned one (design notes)
``broken-pure-async-current-iterate``  computes a job at the iterate current when it runs, while
                                       recording the assigned π (stale-gradient bookkeeping)
``broken-random-async-uncounted-queue``  counts only running jobs as active, not queued ones
``broken-pure-async-serial-offset``    numbers a worker's jobs from 1: its samples are shifted
=====================================  ============================================================
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial

import copy

from ..reference.baselines import batch_gd, minibatch_sgd, sgd, simu_parallel_sgd
from ..reference.baselines._common import start_point
from ..reference.engine import Job, Output, ProcessSpec, Receive, Send, Start, System, compute
from ..reference.kernels import kernel, sigmoid
from ..reference.registry import ALGORITHMS, register
from ..reference.rng import draw_batch, generator

_LAST_ITERATE: dict = {}   # the mistake: state that outlives the run


def _sgd_warm_start_leak_build(problem, params, seed):
    x0 = _LAST_ITERATE.get((problem.name, problem.d), start_point(problem, params))

    def body(ctx):
        x = x0.copy()
        for t in range(params["T"]):
            j = int(draw_batch(seed, t, problem.m, 1)[0])
            g = yield from compute("w0", f"grad f_{j}(x_{t})", lambda x=x, j=j: problem.sample_grad(x, j))
            x = x - params["gamma"] * g
            ctx.record("x", x)
        _LAST_ITERATE[(problem.name, problem.d)] = x     # the next run "warm-starts" from here
        yield Output(x)
    return System([ProcessSpec(body)], seed=seed)


def _drops_last_node(problem, i, n, gamma, T, x0, seed, local):
    def body(ctx):
        order = simu_parallel_sgd.shuffle(seed, i, local)
        ctx.record("order", order)
        w = x0.copy()
        sent = w
        for t in range(T):
            j = int(order[t % len(order)])
            g = yield from compute(f"w{i}", f"grad f_{j}(w^{i}_{t})", lambda w=w, j=j: problem.sample_grad(w, j))
            sent = w                      # the mistake: remembers the iterate before the update
            w = w - gamma * g
            ctx.record("x", w)
        yield Send(n, sent, tag=f"w^{i}_T")
    return body


def _stale_server(problem, gamma, T, b, n, x0, seed, aggregate=minibatch_sgd.aggregate_in_batch_order):
    def body(ctx):
        x = x0.copy()
        x_prev = x0.copy()
        for t in range(T):
            M = draw_batch(seed, t, problem.m, b)
            jobs = []
            for k, j in enumerate(M):
                # the mistake: the snapshot the workers see is the previous iterate
                jid = yield Start(Job(f"w{k % n}", f"grad f_{int(j)}(x_{t})",
                                      partial(problem.sample_grad, x_prev, int(j))))
                jobs.append(jid)
            mine = set(jobs)
            got = yield Receive(until=lambda ms: len(ms) >= b, match=lambda m: m.job in mine,
                                label=f"batch t={t}")
            ctx.record("arrival", [jobs.index(m.job) for m in got])
            delta = aggregate(jobs, got)
            x_prev = x
            x = x - gamma * (delta / b)
            ctx.record("x", x)
        yield Output(x)
    return body


def _aggregate_in_arrival_order(jobs, messages):
    delta = messages[0].payload.copy()
    for m in messages[1:]:
        delta = delta + m.payload          # the mistake: whoever finished first is added first
    return delta


def _variant(base: str, name: str, summary: str, build) -> None:
    alg = ALGORITHMS[base]
    register(replace(alg, name=name, summary=summary, build=build, broken=True, family="broken"))


_variant("sgd", "broken-sgd-warm-start-leak", "BROKEN sgd: starts from the previous run's last iterate",
         _sgd_warm_start_leak_build)
_variant("simu-parallel-sgd", "broken-simu-parallel-drops-last", "BROKEN simu-parallel-sgd: sends w_{T-1}",
         lambda problem, params, seed: simu_parallel_sgd.build(problem, params, seed, node=_drops_last_node))
_variant("minibatch-sgd", "broken-minibatch-stale-gradient", "BROKEN minibatch-sgd: gradients at x_{t-1}",
         lambda problem, params, seed: System([ProcessSpec(_stale_server(
             problem, params["gamma"], params["T"], params["b"], params["n"],
             start_point(problem, params), seed))], seed=seed))
_variant("minibatch-sgd", "broken-minibatch-arrival-order", "BROKEN minibatch-sgd: sums in arrival order",
         lambda problem, params, seed: minibatch_sgd.build(problem, params, seed,
                                                           aggregate=_aggregate_in_arrival_order))


# -- baselines against their independent statements (properties/baseline_properties.py) ----------


def _sample_keyed_by_stream(seed, t, m):
    return int(generator(seed, t).integers(0, m))      # the mistake: t passed as the stream, not the iteration


def _sum_nodes_one_based(messages, n):
    by_node = {m.src_pid: m.payload for m in messages}
    v = 0.0 * by_node[0]
    for i in range(1, n):                               # the mistake: the slide's i = 1..n as range(1, n)
        v = v + by_node[i]
    return v / n


def _unweighted_shard_means(means, sizes, m):
    g = means[0]
    for k in range(1, len(means)):
        g = g + means[k]
    return g / len(means)                               # the mistake: a mean of means, whatever the shard sizes


_variant("sgd", "broken-sgd-sample-stream-swapped", "BROKEN sgd: samples keyed (seed, t, 0)",
         lambda problem, params, seed: sgd.build(problem, params, seed, draw=_sample_keyed_by_stream))
_variant("minibatch-sgd", "broken-minibatch-divides-by-workers", "BROKEN minibatch-sgd: divides by n, not b",
         lambda problem, params, seed: minibatch_sgd.build(problem, params, seed,
                                                           mean=lambda delta, b: delta / params["n"]))
_variant("simu-parallel-sgd", "broken-simu-parallel-one-based-sum", "BROKEN simu-parallel-sgd: sums nodes 1..n-1",
         lambda problem, params, seed: simu_parallel_sgd.build(problem, params, seed, average=_sum_nodes_one_based))
_variant("batch-gd", "broken-batch-gd-unweighted-shards", "BROKEN batch-gd: unweighted mean of shard means",
         lambda problem, params, seed: batch_gd.build(problem, params, seed, combine=_unweighted_shard_means))

# -- kernels against their objective (properties/kernel_properties.py) ------------------------------


@kernel
def _logreg_sample_grad_missing_2(A, y, lam, j, x, out):
    t = 0.0
    for a in range(x.shape[0]):
        t += A[j, a] * x[a]
    c = -y[j] * sigmoid(-y[j] * t)
    for a in range(x.shape[0]):
        w = 1.0 + x[a] * x[a]
        out[a] = c * A[j, a] + lam * (x[a] / (w * w))    # the mistake: d/dx x^2/(1+x^2) is 2x/(1+x^2)^2


@kernel
def _cut_batch_grad_same_sign(eu, ev, w, K, idx, x, out):
    out[:] = 0.0
    for k in range(idx.shape[0]):
        j = idx[k]
        a = eu[j] * K
        b = ev[j] * K
        for c in range(K):
            t = x[a + c] - x[b + c]
            g = w[j] if t > 0.0 else (-w[j] if t < 0.0 else 0.0)
            out[a + c] += g
            out[b + c] += g                             # the mistake: x_v's entry is -g
    for q in range(x.shape[0]):
        out[q] = out[q] / idx.shape[0]


def _with_kernels(problem, name: str, **kernels):
    """``problem`` itself, or (a problem called ``name``) a copy computing with ``kernels`` replaced."""
    if problem.name != name:
        return problem
    buggy = copy.copy(problem)
    buggy.kernels = problem.kernels._replace(**kernels)
    return buggy


_variant("sgd", "broken-sgd-logistic-reg-grad-missing-2", "BROKEN sgd: logistic kernel's regulariser gradient / 2",
         lambda problem, params, seed: sgd.build(
             _with_kernels(problem, "logistic", sample_grad=_logreg_sample_grad_missing_2), params, seed))
_variant("batch-gd", "broken-batch-gd-cut-grad-sign", "BROKEN batch-gd: graph-cuts kernel's sign error on x_v",
         lambda problem, params, seed: batch_gd.build(
             _with_kernels(problem, "graph-cuts", batch_grad=_cut_batch_grad_same_sign), params, seed))


def _asgrad_variant(base: str, name: str, summary: str, policy: str, **hooks) -> None:
    from ..reference.parameter_server import asgrad
    _variant(base, name, summary, lambda problem, params, seed: asgrad.build(problem, params, seed, policy, **hooks))


_asgrad_variant("random-async-sgd", "broken-random-async-finished-workers-data",
                "BROKEN random-async-sgd: a new job uses the data of the worker that just finished", "random",
                data_of=lambda job, finished: job.worker if finished is None else finished)
_asgrad_variant("pure-async-sgd", "broken-pure-async-current-iterate",
                "BROKEN pure-async-sgd: computes at the iterate current when the job runs", "pure",
                point_of=lambda job, xs: xs[-1])
_asgrad_variant("random-async-sgd", "broken-random-async-uncounted-queue",
                "BROKEN random-async-sgd: queued jobs are not counted as active", "random",
                count_active=lambda workers: len(workers.running))
_asgrad_variant("pure-async-sgd", "broken-pure-async-serial-offset",
                "BROKEN pure-async-sgd: a worker's jobs are numbered from 1", "pure",
                sample_key=lambda job: job.serial + 1)
