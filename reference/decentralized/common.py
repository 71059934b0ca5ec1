"""What the decentralized algorithms share (seeds 000 and 003): learning-rate schedules, the
keyed stochastic gradient of a node, the records every one of them writes, and Δ^cw.

Seed 000 (``000_3f5163bcd896752f.txt``), slides "Stochastic Gradient Descent (SGD)" ("x_{t+1} =
x_t − η_t G(x_t, z)", "Learning rate"), "Main Correctness Claims" (constant η_j = η, and a
decreasing sequence with lim η_t = 0), "Correctness Proof – Definitions" (the coordinate-wise
diameter Δ^cw).  Seed 003 (``003_64bc3d1a200f9b77.txt``), Algorithm 5 (ε, the mini-batch b).

The contract between these algorithms and their checks (guarantees, claims, experiments): every
process records

* :class:`ModelAt` ``"model"`` (t, x): x_t^i, the model process i holds when iteration t begins
  (t = 1 .. T), and once more with t = T + 1 when it finishes: the iterates of seed 000's
  analysis, read by :func:`models_by_iteration`, :func:`diameters` (Δ^cw(x_t)) and the
  effective-gradient lemma (G_t^i = (x_t^i − x_{t+1}^i)/η_t);
* :class:`GradientAt` ``"gradient"`` (t, samples, g): the stochastic gradient it used at
  iteration t, drawn by :func:`sample_indices` from the key (seed, STREAM_NODES + pid, t), never
  from the interleaving;
* :data:`~asyncproof.reference.records.ITERATE` ``"x"`` after each update (the engine's
  divergence detection reads it).

>>> step_size(0.1, "constant", 7), step_size(0.1, "inverse", 4), step_size(0.1, "inverse-sqrt", 4)
(0.1, 0.025, 0.05)
>>> coordinatewise_diameter([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
2.0
>>> check_rates([0.1, 0.0])
'etas[1] = 0.0 is not positive: a learning rate must be > 0'
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np

from ..records import Record, record
from ..registry import MAX_BATCH, MAX_ENTRIES, MAX_STEP, Param, bounded_int, positive
from ..rng import draw_batch

#: the stream base of the nodes' sample draws: node i draws from stream STREAM_NODES + i
STREAM_NODES = 3_000_017

#: the learning-rate schedules: η_t for t = 1, 2, ...
SCHEDULES = {
    "constant": lambda eta, t: eta,                       # seed 000: η_j = η
    "inverse": lambda eta, t: eta / t,                    # decreasing, Σ η_t = ∞, lim η_t = 0
    "inverse-sqrt": lambda eta, t: eta / math.sqrt(t),    # decreasing, slower
}


def step_size(eta: float, schedule: str, t: int, etas=None) -> float:
    """η_t (t counted from 1): ``etas[t-1]`` when an explicit list is given (its last entry repeats),
    else ``schedule``'s rule applied to η_1 = ``eta``."""
    if etas:
        return float(etas[min(t, len(etas)) - 1])
    return float(SCHEDULES[schedule](eta, t))


def check_schedule(v) -> str | None:
    return None if v in SCHEDULES else f"schedule must be one of {', '.join(SCHEDULES)}, got {v!r}"


def check_rates(v) -> str | None:
    """The error text for an explicit learning-rate list that is not a list of positive numbers."""
    if v is None:
        return None
    if not isinstance(v, (list, tuple)) or not v:
        return f"etas must be a non-empty list of learning rates, got {v!r}"
    for i, e in enumerate(v):
        if isinstance(e, bool) or not isinstance(e, (int, float)) or not math.isfinite(e):
            return f"etas[{i}] = {e!r} is not a finite number"
        if e <= 0:
            return f"etas[{i}] = {e!r} is not positive: a learning rate must be > 0"
        if e > MAX_STEP:
            return f"etas[{i}] = {e!r} must be <= {MAX_STEP:g}"
    return None


def rate_params(default_eta: float = 0.05, default_schedule: str = "constant") -> dict[str, Param]:
    """``eta`` (η_1), ``schedule`` and the optional explicit list ``etas``."""
    return {
        "eta": Param("eta", float, default_eta, "learning rate η (η_1 of a decreasing schedule), > 0",
                     positive("eta (learning rate)"), lo=0.0, lo_open=True, hi=MAX_STEP, what="eta (learning rate)"),
        "schedule": Param("schedule", str, default_schedule,
                          f"learning-rate schedule: {', '.join(SCHEDULES)} (η_t = η, η/t, η/√t)", check_schedule),
        "etas": Param("etas", "list", None, "explicit learning rates η_1, η_2, ... (the last repeats); "
                      "overrides eta and schedule", check_rates, max_len=MAX_ENTRIES),
    }


def batch_param(default: int = 1) -> Param:
    return bounded_int("b", default, "samples per stochastic gradient (mini-batch size)", 1, MAX_BATCH,
                       "b (mini-batch size)")


def rate_of(params: dict, t: int) -> float:
    """η_t of a run with these (resolved) parameters."""
    return step_size(params["eta"], params["schedule"], t, params.get("etas"))


# --------------------------------------------------------------------------------------
# the stochastic gradient of a node


def sample_indices(seed: int, pid: int, t: int, m: int, b: int) -> np.ndarray:
    """The b samples (uniform, with replacement) node ``pid`` draws at iteration t: keyed by
    (seed, STREAM_NODES + pid, t), so the same whatever the schedule."""
    return draw_batch(seed, t, m, b, stream=STREAM_NODES + pid)


def stochastic_gradient(problem, x: np.ndarray, samples) -> np.ndarray:
    """G(x, z): the mean of the samples' gradients, summed in the order drawn."""
    g = problem.sample_grad(x, int(samples[0])).copy()
    for j in samples[1:]:
        g = g + problem.sample_grad(x, int(j))
    return g / len(samples) if len(samples) > 1 else g


# --------------------------------------------------------------------------------------
# the records


@record("model")
class ModelAt(Record):
    """x_t^i: the model a process holds when iteration t begins (t = T + 1: when it finishes)."""
    t: int
    x: np.ndarray


@record("gradient")
class GradientAt(Record):
    """The stochastic gradient g_t^i used at iteration t, and the samples it was computed on."""
    t: int
    samples: list
    g: np.ndarray


def models_by_iteration(trace) -> dict[int, dict[int, np.ndarray]]:
    """t -> pid -> x_t^pid (the last one a process recorded for t: a recovered process that redoes
    iteration t restarts from its checkpoint, so it records x_t again)."""
    out: dict[int, dict[int, np.ndarray]] = defaultdict(dict)
    for _, pid, _, m in trace.stepwise(ModelAt):
        out[m.t][pid] = np.asarray(m.x)
    return dict(out)


def coordinatewise_diameter(xs) -> float:
    """Δ^cw(x) = Σ_k max_{i,j} |x^i[k] − x^j[k]| (seed 000, "Correctness Proof – Definitions");
    0 for fewer than two vectors."""
    a = np.asarray(xs, dtype=np.float64)
    if a.ndim != 2 or a.shape[0] < 2:
        return 0.0
    return float(np.sum(a.max(axis=0) - a.min(axis=0)))


def diameters(trace, min_models: int = 2) -> dict[int, float]:
    """t -> Δ^cw(x_t) over the processes that reached iteration t (at least ``min_models`` of them)."""
    return {t: coordinatewise_diameter([by[p] for p in sorted(by)])
            for t, by in sorted(models_by_iteration(trace).items()) if len(by) >= min_models}
