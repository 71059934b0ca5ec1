"""What the baselines' guarantees share: how their cases are drawn, and how recomputed iterates are compared.

The guarantees of :mod:`.sgd`, :mod:`.minibatch_sgd`, :mod:`.simu_parallel_sgd` and :mod:`.batch_gd`
are of two kinds:

* equivalences between the baselines, bit for bit under any schedule (SimuParallelSGD with one
  node, and mini-batch SGD with b = 1, are SGD; seed 003, Algorithms 2 to 4), drawn by
  :func:`draw_case`;
* each baseline against an independent statement of its algorithm: the run is recomputed from the
  seed's pseudo-code with the oracle of :mod:`asyncproof.properties.kernels` (the objective's
  gradients written out with numpy, never the kernels) and the documented keys of the sample
  streams (restated there, never through reference/rng.py), and the recorded iterates are compared
  with it up to what float rounding can move them by; drawn by :func:`draw_every`, on every problem.

Replay determinism (:mod:`asyncproof.properties.every_algorithm`) draws the baselines' cases with
:func:`draw_case`.
"""

from __future__ import annotations

import numpy as np

from ..every_algorithm import replay_covers
from ..guarantees import Case
from ..kernels import every_problem
from ..strategies import baseline_params, iterations, problems, seeds, step_sizes

BASELINES = ("batch-gd", "minibatch-sgd", "sgd", "simu-parallel-sgd")


def draw_case(data, algorithm: str, **fixed) -> Case:
    """A baseline's case: its parameters (``fixed`` ones given), a problem with a sample per worker, a seed."""
    params = data.draw(baseline_params(algorithm, **fixed), label="params")
    problem = data.draw(problems(min_m=params.get("n", 1)), label="problem")
    return Case(algorithm, problem, params, data.draw(seeds(), label="seed"))


def draw_every(data, algorithm: str, **ranges) -> Case:
    """A case on any problem the oracle states (:func:`~asyncproof.properties.kernels.every_problem`):
    a step size, ``T`` (from ``ranges["T"]`` if given) and each other parameter drawn from its range."""
    params = {"gamma": data.draw(step_sizes(), label="gamma"),
              "T": data.draw(ranges.pop("T", iterations()), label="T")}
    for k, s in ranges.items():
        params[k] = data.draw(s, label=k)
    problem = data.draw(every_problem(min_m=params.get("n", 1)), label="problem")
    return Case(algorithm, problem, params, data.draw(seeds(), label="seed"))


def steps_tolerance(x, gamma: float, g) -> np.ndarray:
    """What float rounding can move ``x - gamma g`` by when ``g`` is summed in another order."""
    return 1e-9 * (np.abs(x) + gamma * (1.0 + np.max(np.abs(g), initial=0.0)))


def iterate_difference(what: str, got, want, tol) -> str | None:
    """``None`` if the recorded iterate ``got`` is within ``tol`` of the statement's ``want``, else where not."""
    bad = np.abs(np.asarray(got) - want) > tol
    if not np.any(bad):
        return None
    i = int(np.argmax(bad))
    return (f"{what}: coordinate {i} is {float(np.asarray(got)[i])!r}, the independent statement gives "
            f"{float(want[i])!r} (|difference| {abs(float(np.asarray(got)[i]) - float(want[i])):.3g})")


def distinct_rows(G, rows) -> bool:
    """Two of the sample gradients ``G[rows]`` differ (beyond rounding)."""
    sub = G[list(rows)]
    return bool(np.any(np.abs(sub - sub[0]) > 1e-12 * (1.0 + np.abs(sub[0]))))


replay_covers(draw_case, *BASELINES)
