"""Parameters and metrics shared by the baseline algorithms."""

from __future__ import annotations

import math

import numpy as np

from ..errors import InputError
from ..registry import MAX_ENTRIES, MAX_ITERATIONS, MAX_STEP, Param, at_least, positive


def gamma_param(default: float = 0.05) -> Param:
    return Param("gamma", float, default, "step size γ (ε in seed 003, η in seed 000), > 0",
                 positive("gamma (step size)"), lo=0.0, lo_open=True, hi=MAX_STEP, what="gamma (step size)")


def iterations_param(default: int = 50) -> Param:
    return Param("T", int, default, "number of iterations t = 0 .. T-1", at_least(1, "T (iterations)"),
                 lo=1, hi=MAX_ITERATIONS, what="T (iterations)")


def x0_param() -> Param:
    # d entries: no longer than a problem's data (problem.check_x checks the length and finiteness)
    return Param("x0", "list", None, "starting point (default: the problem's x0)", None, max_len=MAX_ENTRIES)


def start_point(problem, params) -> np.ndarray:
    if params.get("x0") is None:
        return problem.x0
    try:
        return problem.check_x(np.asarray(params["x0"], dtype=np.float64))
    except InputError as e:
        raise InputError(f"x0: {e}") from None
    except (TypeError, ValueError):
        raise InputError(f"x0 must be a list of {problem.d} numbers, got {params['x0']!r}") from None


def last_finite_iterate(trace, pid: int) -> tuple[np.ndarray | None, int]:
    """``(x_k, k)``: the last finite iterate ``"x"`` recorded, and how many updates led to it.

    The iterates of process ``pid`` if it recorded any, else of the process that diverged
    (``trace.divergence.pid``: a SimuParallelSGD node), else of the lowest-numbered process
    that recorded iterates; ``(None, 0)`` when no finite iterate was recorded."""
    from ..engine import first_nonfinite
    div = getattr(trace, "divergence", None)
    owners = sorted({p for (_, p, k, _) in trace.observations if k == "x"})
    for p in [pid, getattr(div, "pid", None)] + owners:
        if p in owners:
            xs = trace.observed("x", p)
            k = next((i for i, x in enumerate(xs) if first_nonfinite(x) is not None), len(xs))
            return (np.asarray(xs[k - 1], dtype=np.float64), k) if k else (None, 0)
    return None, 0


def final_metrics(trace, problem, pid: int) -> dict:
    """Loss and gradient norm at the process's last output, plus the run's size.

    A run that diverged has no output: its loss and gradient norm are those of the last finite
    iterate ``x_k`` (:func:`last_finite_iterate`; ``last_finite_iterate`` is that k), and
    ``finished`` is False."""
    out = trace.outputs.get(pid)
    m = {"steps": len(trace.events), "stopped": trace.stopped}
    if trace.annotations:       # the timed adversary ran: how long the run took in simulated time
        m["time"] = float(trace.annotations[max(trace.annotations)].get("time", 0.0))
    if not out:
        m["finished"] = False
        x, k = last_finite_iterate(trace, pid) if trace.stopped == "diverged" else (None, 0)
        if x is None:
            return m
        m["last_finite_iterate"] = k
    else:
        x = np.asarray(out[-1], dtype=np.float64)
        m["finished"] = True
    m["loss"] = float(problem.value(x))
    g = problem.grad(x)
    m["grad_norm"] = math.sqrt(float(sum(float(v) * float(v) for v in g)))
    if x.size <= 6:
        m["x"] = [float(v) for v in x]
    return m


def loss_curve(trace, problem, key: str = "x", pid: int | None = None, points: int = 60) -> tuple[list, list]:
    """(iteration, f(x_t)) at up to ``points`` evenly spaced iterations, for plots (NaN at a
    non-finite iterate: a run that diverged)."""
    xs = trace.observed(key, pid)
    if not xs:
        return [], []
    idx = sorted(set(np.linspace(0, len(xs) - 1, min(points, len(xs))).astype(int).tolist()))
    with np.errstate(over="ignore", invalid="ignore"):
        return [i + 1 for i in idx], [float(problem.value(xs[i])) if np.all(np.isfinite(xs[i])) else math.nan
                                      for i in idx]
