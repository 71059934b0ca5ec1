"""Stochastic gradient descent as one engine process.

Seed 003 (003_64bc3d1a200f9b77.txt), "Algorithm 2 SGD with samples X, iterations T,
steps size ε"; seed 000 (000_3f5163bcd896752f.txt), slide "Stochastic Gradient Descent".

=====  =======================================================  ==========================
line   seed 003, Algorithm 2                                    here
=====  =======================================================  ==========================
1      for all t = 0 ... T do                                   ``for t in range(T)``
2      draw j ∈ {1 ... m} uniformly at random                   step ``sample(seed, t, m)`` (``draw_batch(seed, t, m, 1)``)
3      update w_{t+1} ← w_t − ε ∂_w x_j(w_t)                    a job on worker ``w0``, then step ``update``
4      return w_{T+1}                                           ``Output(x)``
=====  =======================================================  ==========================

Deviations: iterations are ``t = 0 .. T-1`` (T of them, not T+1).  The sample of
iteration ``t`` is drawn from the generator keyed ``(seed, STREAM_SAMPLER, t)``, the
same key mini-batch SGD uses, so mini-batch SGD with ``b = 1`` draws the same
samples.  Optionally ``order`` fixes the sample sequence (``order[t mod len]``):
SimuParallelSGD with one node must equal SGD on its node's shuffled order.
Each gradient is a job on worker ``w0``, so the timed adversary can give SGD
simulated compute times like every other algorithm.  Named steps (:class:`Steps`):
``start`` (the starting point w_0), ``sample`` (line 2), ``update`` (line 3).

>>> from asyncproof.reference.schedule import run_algorithm
>>> r = run_algorithm("sgd", problem="quadratic", params={"gamma": 0.1, "T": 5})
>>> x, y = r.metrics["x"]      # ∇(x² + 5y²) = (2x, 10y): from (1, 1), x ← 0.8x and y ← 0
>>> round(x, 12), y
(0.32768, 0.0)
"""

from __future__ import annotations

from ..engine import Output, ProcessSpec, System, compute
from ..errors import InputError
from ..records import ITERATE, Value, declare
from ..registry import MAX_ENTRIES, MAX_ITERATIONS, Algorithm, Param, Steps, register
from ..rng import draw_batch
from ._common import final_metrics, gamma_param, iterations_param, start_point, x0_param


def sample(seed: int, t: int, m: int) -> int:
    """Line 2: iteration t's sample, uniform over 0 .. m-1, from the key ``(seed, STREAM_SAMPLER, t)``."""
    return int(draw_batch(seed, t, m, 1)[0])


def update(x, g, gamma: float):
    """Line 3: w_{t+1} ← w_t − ε ∂_w x_j(w_t)."""
    return x - gamma * g


def sgd_process(problem, gamma: float, T: int, x0, seed: int, order, steps):
    def body(ctx):
        x = x0.copy()
        for t in range(T):
            # line 2: draw j uniformly (or take the t-th sample of a given order)
            j = int(order[t % len(order)]) if order is not None else steps.sample(seed, t, problem.m)
            ctx.record("j", j)
            # line 3: w_{t+1} ← w_t − ε ∂_w x_j(w_t)
            g = yield from compute("w0", f"grad f_{j}(x_{t})", lambda x=x, j=j: problem.sample_grad(x, j))
            x = steps.update(x, g, gamma)
            ctx.record("x", x)
        yield Output(x)  # line 4
    return body


def build(problem, params, seed, steps):
    order = params.get("order")
    if order is not None:
        if len(order) == 0:
            raise InputError("sgd: order must not be empty")
        bad = [j for j in order if not isinstance(j, int) or isinstance(j, bool) or not 0 <= j < problem.m]
        if bad:
            raise InputError(f"sgd: order holds {bad[:5]}, not sample indices of a problem with m = {problem.m}")
    x0 = steps.start(problem, params)
    return System([ProcessSpec(sgd_process(problem, params["gamma"], params["T"], x0, seed, order, steps))],
                  seed=seed)


ALGORITHM = register(Algorithm(
    name="sgd",
    summary="SGD: one sample per step, w ← w − γ ∇f_j(w)",
    source="seed 003 Algorithm 2; seed 000 slide 'Stochastic Gradient Descent'",
    params={"gamma": gamma_param(), "T": iterations_param(), "x0": x0_param(),
            "order": Param("order", "list", None, "fixed sample order (default: uniform draws)",
                           max_len=MAX_ITERATIONS, items=(0, MAX_ENTRIES - 1))},
    build=build,
    steps=Steps(start=start_point, sample=sample, update=update),
    records=declare(Value("j", "line 2: the sample drawn", kinds=(int,)), ITERATE),
    metrics=lambda trace, problem, params: final_metrics(trace, problem, 0),
    default_problem="least-squares",
    max_steps=lambda p: 4 * p["T"] + 10,
))
