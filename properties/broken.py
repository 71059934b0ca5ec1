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

from ..reference.baselines._common import start_point
from ..reference.kernels import kernel, sigmoid
from ..reference.rng import generator
from .variants import variant

_LAST_ITERATE: dict = {}   # the mistake: state that outlives the run
_RUN_KEY: list = [None]    # the problem of the run in progress, set by its start


def _leaky_start(problem, params):
    _RUN_KEY[0] = (problem.name, problem.d)
    return _LAST_ITERATE.get(_RUN_KEY[0], start_point(problem, params))


def _leaky_update(x, g, gamma):
    x = x - gamma * g
    _LAST_ITERATE[_RUN_KEY[0]] = x                       # the next run "warm-starts" from here
    return x


variant("broken-sgd-warm-start-leak", of="sgd", mistake="starts from the previous run's last iterate",
        replace={"start": _leaky_start, "update": _leaky_update})
variant("broken-simu-parallel-drops-last", of="simu-parallel-sgd", mistake="sends w_{T-1}",
        replace={"sent": lambda w_before, w_after: w_before})          # the mistake: the iterate before the update
variant("broken-minibatch-stale-gradient", of="minibatch-sgd", mistake="gradients at x_{t-1}",
        replace={"point": lambda x, x_prev: x_prev})                   # the mistake: the previous iterate


def _aggregate_in_arrival_order(jobs, messages):
    delta = messages[0].payload.copy()
    for m in messages[1:]:
        delta = delta + m.payload          # the mistake: whoever finished first is added first
    return delta


variant("broken-minibatch-arrival-order", of="minibatch-sgd", mistake="sums in arrival order",
        replace={"aggregate": _aggregate_in_arrival_order})


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


def _divided_by_workers(delta, b, n):
    return delta / n                                    # the mistake: the number of workers, not of samples


variant("broken-sgd-sample-stream-swapped", of="sgd", mistake="samples keyed (seed, t, 0)",
        replace={"sample": _sample_keyed_by_stream})
variant("broken-minibatch-divides-by-workers", of="minibatch-sgd", mistake="divides by n, not b",
        replace={"mean": _divided_by_workers})
variant("broken-simu-parallel-one-based-sum", of="simu-parallel-sgd", mistake="sums nodes 1..n-1",
        replace={"average": _sum_nodes_one_based})
variant("broken-batch-gd-unweighted-shards", of="batch-gd", mistake="unweighted mean of shard means",
        replace={"combine": _unweighted_shard_means})

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


variant("broken-sgd-logistic-reg-grad-missing-2", of="sgd", mistake="logistic kernel's regulariser gradient / 2",
        kernels={"logistic": {"sample_grad": _logreg_sample_grad_missing_2}})
variant("broken-batch-gd-cut-grad-sign", of="batch-gd", mistake="graph-cuts kernel's sign error on x_v",
        kernels={"graph-cuts": {"batch_grad": _cut_batch_grad_same_sign}})

