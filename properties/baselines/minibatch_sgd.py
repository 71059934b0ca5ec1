"""Mini-batch SGD's guarantees, each with the broken variant it must catch.

Seed 003, "Algorithm 4 Mini-Batch SGD"; seed 000, slides "Mini-Batch SGD" and "Simple
Distributed Mini-Batch SGD" (:mod:`asyncproof.reference.baselines.minibatch_sgd`).

* ``minibatch-b1``: mini-batch SGD with b = 1 is SGD (Algorithm 2), bit for bit, under any
  schedule.

  - ``broken-minibatch-stale-gradient`` takes the batch gradient at x_{t-1} (stale bookkeeping).

* ``minibatch-mean``: against an independent statement of the algorithm (see :mod:`.common`):
  the step is the mean of the b sample gradients of the keyed batch.

  - ``broken-minibatch-divides-by-workers`` divides the batch's sum by the number of workers n,
    not by the batch size b.

That the batch's gradients are summed in batch order, never arrival order, is checked by
``schedule-independence`` (:mod:`asyncproof.properties.every_algorithm`).
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from ...reference.schedule import run_algorithm
from ..common import bit_difference, final_output
from ..guarantees import Guarantee, register
from ..kernels import Oracle, documented_batch, gradient_points
from ..strategies import iterations
from ..variants import variant
from .common import distinct_rows, draw_case, draw_every, iterate_difference, steps_tolerance

# ---------------------------------------------------------------------------------------
# mini-batch SGD with b = 1 is SGD


def check_minibatch_b1(result) -> str | None:
    p = result.params
    sgd = run_algorithm("sgd", problem=result.schedule.problem, seed=result.schedule.seed,
                        params={"gamma": p["gamma"], "T": p["T"], "x0": p.get("x0")})
    return bit_difference(final_output(result, 0), final_output(sgd, 0), "mini-batch SGD(b=1)", "SGD")


def _second_step_sees_moved_iterate(result) -> bool:
    xs = result.trace.records("x", 0)
    x0 = result.problem.x0 if result.params.get("x0") is None else np.asarray(result.params["x0"])
    return len(xs) >= 2 and bool(np.any(xs[0] != x0))


register(Guarantee(
    name="minibatch-b1",
    statement="mini-batch SGD with b = 1 equals SGD bit for bit, under any schedule",
    source="seed 003, Algorithms 2 and 4; seed 000, 'Mini-Batch SGD'",
    algorithms=("minibatch-sgd",),
    draw=lambda data, alg: draw_case(data, alg, b=1),
    check=check_minibatch_b1,
    hard=_second_step_sees_moved_iterate,
    hard_case="T >= 2 and x_1 != x_0",
    broken={"minibatch-sgd": "broken-minibatch-stale-gradient"},
))

variant("broken-minibatch-stale-gradient", of="minibatch-sgd", mistake="gradients at x_{t-1}",
        replace={"point": lambda x, x_prev: x_prev})                   # the mistake: the previous iterate

# ---------------------------------------------------------------------------------------
# the step is the mean of the batch's b sample gradients


def minibatch_batches(result) -> list[np.ndarray]:
    p, batches = result.params, result.params.get("batches")
    if batches is not None:
        return [np.asarray(batches[t % len(batches)], dtype=np.int64) for t in range(p["T"])]
    return [documented_batch(result.schedule.seed, t, result.problem.m, p["b"]) for t in range(p["T"])]


def check_minibatch_mean(result) -> str | None:
    p, o, gamma = result.params, Oracle(result.problem), result.params["gamma"]
    points, batches = gradient_points(result), minibatch_batches(result)
    if len(points) != p["T"]:
        return f"mini-batch SGD recorded {len(points)} steps for T = {p['T']}"
    for (t, x, x_next), M in zip(points, batches):
        if np.any(o.ambiguous(x)[M]):
            continue
        g = o.grads(x)[M].mean(axis=0)              # (1/b) sum_{j in M} grad f_j(x_t), repeats counted
        if msg := iterate_difference(f"x_{t + 1} (mini-batch {M.tolist()}, b = {p['b']})", x_next, x - gamma * g,
                                     steps_tolerance(x, gamma, g)):
            return msg
    out = final_output(result, 0)
    if out is None or not np.array_equal(out, points[-1][2]):
        return "mini-batch SGD's output is not its last iterate"
    return None


def _batch_mattered(result) -> bool:
    p = result.params
    if p["b"] < 2 or p["b"] == p["n"]:
        return False
    o = Oracle(result.problem)
    return any(distinct_rows(o.grads(x), M)
               for (_, x, _), M in zip(gradient_points(result), minibatch_batches(result)))


register(Guarantee(
    name="minibatch-mean",
    statement="mini-batch SGD steps along the mean of its b sample gradients at x_t, the batch being the "
              "documented keyed draw (seed, STREAM_SAMPLER, t), recomputed with numpy gradients",
    source="seed 003, Algorithm 4; seed 000, 'Mini-Batch SGD' (x_{t+1} = x_t - eta/M sum G(x_t, z_i))",
    algorithms=("minibatch-sgd",),
    draw=lambda data, alg: draw_every(data, alg, T=iterations(hi=4), b=st.integers(2, 4), n=st.integers(1, 3)),
    check=check_minibatch_mean,
    hard=_batch_mattered,
    hard_case="b >= 2, b != n, a batch with two different gradients",
    broken={"minibatch-sgd": "broken-minibatch-divides-by-workers"},
))


def _divided_by_workers(delta, b, n):
    return delta / n                                    # the mistake: the number of workers, not of samples


variant("broken-minibatch-divides-by-workers", of="minibatch-sgd", mistake="divides by n, not b",
        replace={"mean": _divided_by_workers})
