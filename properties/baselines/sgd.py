"""SGD's guarantee, and the broken variant it must catch.

Seed 003, "Algorithm 2 SGD"; seed 000, slide "Stochastic Gradient Descent"
(:mod:`asyncproof.reference.baselines.sgd`).

* ``sgd-iterates``: against an independent statement of the algorithm (see :mod:`.common`):
  ``x_{t+1} = x_t - gamma grad f_{i_t}(x_t)``, ``i_t`` keyed ``(seed, 0, t)``.

  - ``broken-sgd-sample-stream-swapped`` draws iteration t's sample from ``generator(seed, t)``:
    t lands in the *stream* argument, the key is (seed, t, 0), not the documented
    (seed, STREAM_SAMPLER, t).

Mini-batch SGD with b = 1 and SimuParallelSGD with one node are checked against SGD in
:mod:`.minibatch_sgd` and :mod:`.simu_parallel_sgd`.
"""

from __future__ import annotations

import numpy as np

from ...reference.rng import generator
from ..common import final_output
from ..guarantees import Guarantee, register
from ..kernels import Oracle, documented_batch, gradient_points
from ..strategies import iterations
from ..variants import variant
from .common import distinct_rows, draw_every, iterate_difference, steps_tolerance

# ---------------------------------------------------------------------------------------
# x_{t+1} = x_t - gamma grad f_{i_t}(x_t), i_t from the key (seed, STREAM_SAMPLER, t)


def sgd_samples(result) -> list[int]:
    """The documented sample sequence of an SGD run (its ``order``, else the keyed draws)."""
    p, order = result.params, result.params.get("order")
    if order is not None:
        return [int(order[t % len(order)]) for t in range(p["T"])]
    return [int(documented_batch(result.schedule.seed, t, result.problem.m, 1)[0]) for t in range(p["T"])]


def check_sgd_iterates(result) -> str | None:
    p, o, gamma = result.params, Oracle(result.problem), result.params["gamma"]
    want_js, js = sgd_samples(result), [int(j) for j in result.trace.records("j", 0)]
    for t, (j, w) in enumerate(zip(js, want_js)):
        if j != w:
            return (f"iteration {t} used sample {j}; the documented key (seed {result.schedule.seed}, stream "
                    f"STREAM_SAMPLER = 0, iteration {t}) draws {w}")
    points = gradient_points(result)
    if len(js) != p["T"] or len(points) != p["T"]:
        return f"SGD recorded {len(js)} samples and {len(points)} steps for T = {p['T']}"
    for t, x, x_next in points:
        j = want_js[t]
        if o.ambiguous(x)[j]:
            continue
        g = o.grads(x)[j]
        if msg := iterate_difference(f"x_{t + 1} (SGD on sample {j})", x_next, x - gamma * g,
                                     steps_tolerance(x, gamma, g)):
            return msg
    out = final_output(result, 0)
    if out is None or not np.array_equal(out, points[-1][2]):
        return "SGD's output is not its last iterate x_T"
    return None


def _sample_choice_mattered(result) -> bool:
    """T >= 2, and at some t >= 1 another sample's gradient at x_t differs from the one drawn."""
    o, js = Oracle(result.problem), sgd_samples(result)
    return any(t >= 1 and distinct_rows(o.grads(x), [js[t], *range(result.problem.m)])
               for t, x, _ in gradient_points(result))


register(Guarantee(
    name="sgd-iterates",
    statement="SGD's iterates are x_{t+1} = x_t - gamma grad f_{i_t}(x_t) with i_t the documented keyed draw "
              "(seed, STREAM_SAMPLER, t), recomputed with numpy gradients",
    source="seed 003, Algorithm 2; seed 000, 'Stochastic Gradient Descent'; reference/rng.py",
    algorithms=("sgd",),
    draw=lambda data, alg: draw_every(data, alg, T=iterations(lo=2)),
    check=check_sgd_iterates,
    hard=_sample_choice_mattered,
    hard_case="T >= 2 and at some t >= 1 another sample had another gradient",
    broken={"sgd": "broken-sgd-sample-stream-swapped"},
))


def _sample_keyed_by_stream(seed, t, m):
    return int(generator(seed, t).integers(0, m))      # the mistake: t passed as the stream, not the iteration


variant("broken-sgd-sample-stream-swapped", of="sgd", mistake="samples keyed (seed, t, 0)",
        replace={"sample": _sample_keyed_by_stream})
