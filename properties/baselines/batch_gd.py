"""Batch GD's guarantee, and the broken variant it must catch.

Seed 003, "Algorithm 1 BATCH optimization" (:mod:`asyncproof.reference.baselines.batch_gd`).

* ``batch-gd-full-gradient``: against an independent statement of the algorithm (see
  :mod:`.common`): the step is the full gradient, however unequal the shards.

  - ``broken-batch-gd-unweighted-shards`` averages the shards' mean gradients with equal weights,
    so with unequal shards a sample counts more in a small shard.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from ..common import final_output
from ..guarantees import Guarantee, register
from ..kernels import Oracle, gradient_points
from ..strategies import iterations
from ..variants import variant
from .common import draw_every, iterate_difference, steps_tolerance

# ---------------------------------------------------------------------------------------
# the full gradient, however unequal the shards


def _shard_sizes(m: int, n: int) -> list[int]:
    return [m // n + (1 if k < m % n else 0) for k in range(n)]     # contiguous, the first m mod n longer


def check_batch_gd_full_gradient(result) -> str | None:
    p, o, gamma = result.params, Oracle(result.problem), result.params["gamma"]
    points = gradient_points(result)
    if len(points) != p["T"]:
        return f"batch GD recorded {len(points)} steps for T = {p['T']}"
    for t, x, x_next in points:
        if np.any(o.ambiguous(x)):
            continue
        g = o.grads(x).mean(axis=0)                  # (1/m) sum_j grad f_j(x_t)
        what = f"x_{t + 1} (n = {p['n']} shards of sizes {_shard_sizes(result.problem.m, p['n'])})"
        if msg := iterate_difference(what, x_next, x - gamma * g, steps_tolerance(x, gamma, g)):
            return msg
    out = final_output(result, 0)
    if out is None or not np.array_equal(out, points[-1][2]):
        return "batch GD's output is not its last iterate"
    return None


def _unequal_shards_mattered(result) -> bool:
    """n >= 2 unequal shards, and at some x_t the unweighted mean of the shard means is not the mean."""
    m, n = result.problem.m, result.params["n"]
    if n < 2 or m % n == 0:
        return False
    o, sizes = Oracle(result.problem), _shard_sizes(m, n)
    bounds = np.cumsum([0] + sizes)
    for _, x, _ in gradient_points(result):
        G = o.grads(x)
        unweighted = np.mean([G[bounds[k]:bounds[k + 1]].mean(axis=0) for k in range(n)], axis=0)
        if np.any(np.abs(unweighted - G.mean(axis=0)) > 1e-9 * (1.0 + np.abs(G).max())):
            return True
    return False


register(Guarantee(
    name="batch-gd-full-gradient",
    statement="batch GD steps along the full gradient (1/m) sum_j grad f_j(x_t), recomputed with numpy "
              "gradients: the shards' means weighted by their sizes",
    source="seed 003, Algorithm 1 (aggregate over X, divide by |X|)",
    algorithms=("batch-gd",),
    draw=lambda data, alg: draw_every(data, alg, T=iterations(hi=4), n=st.integers(2, 3)),
    check=check_batch_gd_full_gradient,
    hard=_unequal_shards_mattered,
    hard_case="n >= 2 unequal shards whose unweighted mean of means differs",
    broken={"batch-gd": "broken-batch-gd-unweighted-shards"},
))


def _unweighted_shard_means(means, sizes, m):
    g = means[0]
    for k in range(1, len(means)):
        g = g + means[k]
    return g / len(means)                               # the mistake: a mean of means, whatever the shard sizes


variant("broken-batch-gd-unweighted-shards", of="batch-gd", mistake="unweighted mean of shard means",
        replace={"combine": _unweighted_shard_means})
