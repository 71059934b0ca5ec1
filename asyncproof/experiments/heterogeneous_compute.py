"""Seed 004 (004_5e02a306927ced0b.txt), Ringleader ASGD: Ringleader vs Malenia vs Rennala vs
asynchronous SGD vs mini-batch SGD under heterogeneous compute times.

Seed 004 motivates the method with "Client Compute Heterogeneity is Real", compares it with
the baselines ("Minibatch SGD: Each worker does one job only") and concludes that Ringleader
ASGD "outperforms existing baselines".

==========================================  =================================================
seed 004                                    here
==========================================  =================================================
heterogeneous compute times                 the timed adversary: (a) fixed ``s_i = i + 1``,
                                            (b) stragglers, every job ``1 + Exp(0.25)``
workers with their own data                 an i.i.d. (``zeta = 0``) and a label-sorted
                                            (``zeta = 1``) split of the w7a-shaped data
                                            (problem ``"w7a-like"``)
Ringleader ASGD and the baselines           ``ringleader-asgd``, ``malenia-sgd``, ``rennala-sgd``
                                            (``S = n``), ``pure-async-sgd``, ``minibatch-sgd``
                                            (``b = n``: one job per worker)
"outperforms", read as time to the target   γ tuned per (setting, method) by the time to the
                                            target, then the final ``||grad f||^2``
==========================================  =================================================

Beside the runs, per setting, the optimal time ``t*`` of Tyurin & Richtarik (NeurIPS 2023),
heterogeneous setting, with its universal constant set to 1
(:func:`optimal_time_heterogeneous`, inputs from :func:`reference_constants`): a vertical
line in each panel and the columns ``t_star`` and ``time_to_target / t_star``.  The verdict
(:func:`hetero_verdict`) names the fastest method of each setting, from the table alone.
"""

from __future__ import annotations

import json
import math
import os
import time
from functools import lru_cache
from pathlib import Path
from typing import Callable

import numpy as np

from .common import (EXPERIMENTS, POINTS_FULL, POINTS_QUICK, ExperimentResult, build_problem, command, describe_problem,
                     finish, fmt, grad_norm2, measurement_notes, methods_of, num, problem_spec, quiet, row_score,
                     settings_of, spec_key, stderr, sweep, timed_figure, winners)

METHODS = {"Ringleader ASGD": "ringleader-asgd", "Malenia SGD": "malenia-sgd", "Rennala SGD": "rennala-sgd",
           "asynchronous SGD": "pure-async-sgd", "mini-batch SGD": "minibatch-sgd"}


def method_params(alg: str, gamma: float, n: int, zeta: float, S: int, batch: int) -> dict:
    if alg == "minibatch-sgd":          # seed 004: "Minibatch SGD: Each worker does one job only"
        return {"gamma": gamma, "n": n, "b": n}
    p = {"gamma": gamma, "n": n, "zeta": zeta, "batch": batch}
    if alg in ("rennala-sgd", "malenia-sgd"):
        p["S"] = S
    return p


def heterogeneous_compute(out: str | os.PathLike = "docs/experiments", quick: bool = False, data: str | None = None,
                          seed: int = 0, jobs: int = 1, log: Callable[[str], None] | None = stderr,
                          methods: dict | None = None,
                          schedules: str | os.PathLike | None = None) -> ExperimentResult:
    """Seed 004: Ringleader ASGD vs Malenia, Rennala, asynchronous and mini-batch SGD.

    ``n = 10`` workers (4 in the quick mode) with (a) fixed heterogeneous times
    ``s_i = i + 1`` and (b) stragglers, every job ``1 + Exp(lam = 0.25)``; data split
    i.i.d. (``zeta = 0``) or sorted by label (``zeta = 1``); stochastic gradients of
    one sample per job.  Rennala and Malenia collect ``S = n`` gradients per step.
    Mini-batch SGD is seed 004's "each worker does one job only": ``b = n`` jobs per
    round, one on each worker, samples drawn from the whole data set (it has no
    local data, so ``zeta`` does not apply to it).  Step sizes are tuned by the time
    to the target; the verdict names the fastest method of each setting.  ``schedules``:
    a folder for every run's schedule file.
    """
    t_start = time.monotonic()
    log = log or quiet
    out = Path(out)
    methods = dict(METHODS if methods is None else methods)
    spec = problem_spec(data, seed, quick)
    problem = build_problem(spec)
    n = 4 if quick else 10
    S, batch = n, 1
    points = POINTS_QUICK if quick else POINTS_FULL
    gammas = [0.1, 0.4] if quick else [2.0 ** k for k in range(-6, 1)]
    horizon = 60.0 if quick else 400.0
    g0 = grad_norm2(problem, problem.x0)
    target = g0 * (1e-1 if quick else 1e-2)

    # the settings: two compute-time models x two splits
    lam = 0.25
    timings = {"fixed s_i = i+1": tuple(f"fixed:s={float(i + 1)!r}" for i in range(n)),
               f"stragglers 1 + Exp({lam:g})": tuple(f"exp:c=1.0,lam={lam!r}" for _ in range(n))}
    zetas = {"iid split": 0.0, "label-sorted split": 1.0}
    settings = {f"{t}, {z}": (timing, zeta) for t, timing in timings.items() for z, zeta in zetas.items()}

    def task_of(s, method, alg, gamma):
        timing, zeta = settings[s]
        return {"setting": s, "method": method, "alg": alg, "timing": timing, "seed": seed, "horizon": horizon,
                "points": points, "target": target, "problem": spec,
                "params": method_params(alg, gamma, n, zeta, S, batch)}

    rows, curves, runs, folder = sweep("heterogeneous-compute", settings, methods, gammas, task_of, "time", jobs, log,
                                       schedules)

    # t*: the optimal time's expression (constant 1) per setting, from the workers' mean compute times
    from ..reference.timing import parse_timing
    ref = reference_constants(spec)
    taus = {s: [parse_timing(model).mean for model in timing] for s, (timing, _) in settings.items()}
    t_star = {s: optimal_time_heterogeneous(taus[s], ref["L"], ref["delta"], target, ref["sigma2"])
              for s in settings}
    t_star_hom = {s: optimal_time_homogeneous(taus[s], ref["L"], ref["delta"], target, ref["sigma2"])
                  for s, (_, zeta) in settings.items() if zeta == 0.0}
    for r in rows:
        r["t_star"] = t_star[r["setting"]]
        r["time_to_target / t_star"] = (None if r["time_to_target"] is None
                                        else r["time_to_target"] / r["t_star"])

    verdicts, summary = hetero_verdict(rows)
    res = ExperimentResult(
        name="heterogeneous-compute",
        title=f"seed 004: Ringleader ASGD and baselines under heterogeneous compute times, n = {n}, tuned γ "
              f"(dotted: target; vertical: t*)",
        columns=["setting", "method", "gamma", "time_to_target", "t_star", "time_to_target / t_star",
                 "final_grad_norm2", "final_loss", "iterations"],
        rows=rows, verdicts=verdicts,
        summary=summary,
        config={"problem": spec, "n": n, "S": S, "batch": batch, "gammas": gammas, "horizon": horizon,
                "target": target, "grad_norm2_x0": g0, "points": points, "seed": seed, "quick": quick,
                "runs": runs, "methods": methods, "tune_by": "time", "t_star": t_star,
                "t_star_homogeneous": {s: v for s, (v, _) in t_star_hom.items()},
                "t_star_constants": {**ref, "taus": taus}},
        curves=curves, schedules=folder)
    t_terms = {s: (max(taus[s]) * ref["L"] * ref["delta"] / target,
                   t_star[s] - max(taus[s]) * ref["L"] * ref["delta"] / target) for s in settings}
    star_notes = [
        "t* (vertical dotted line; columns t_star and time_to_target / t_star) is the time-complexity lower bound "
        "of Tyurin & Richtárik (NeurIPS 2023, \"Optimal time complexities of parallel stochastic optimization "
        "methods under a fixed computation model\"), heterogeneous setting, which Malenia SGD and Ringleader ASGD "
        "attain up to constants: t* = τ_n LΔ/ε + (1/n Σ_i τ_i) σ² LΔ/(n ε²), **with its universal constant set "
        "to 1: an order of magnitude, not a prediction** (a bound over the worst functions of the class, which "
        "this objective need not be)",
        f"t*'s inputs: L = {ref['L']:.4g} (the problem's smoothness bound); Δ = f(x_0) − f* = {ref['f0']:.4g} − "
        f"{ref['f_star']:.4g} = {ref['delta']:.4g}, f* at the stationary point x̂ that L-BFGS reaches from x_0 "
        f"(||∇f(x̂)||² = {ref['grad_norm2_x_hat']:.1e}; the objective is nonconvex, so f* is not certified "
        f"global); ε = the target {target:.3g}; σ² = {ref['sigma2']:.4g}, the variance of a one-sample gradient "
        f"over the whole data set, (1/m) Σ_j ||∇f_j(x) − ∇f(x)||², the maximum over x = x_0 + s (x̂ − x_0), "
        f"s ∈ {{{', '.join(f'{v:g}' for v in SIGMA_POINTS)}}} ("
        + ", ".join(f"{v:.3g} at s = {k:g}" for k, v in ref["sigma2_points"].items())
        + "; the same σ² for both splits); τ_i = s_i for the fixed times and the mean 1 + 1/λ = "
        f"{1 + 1 / lam:g} for every worker with stragglers",
        "t* per setting (τ_n LΔ/ε + the σ² term): " + "; ".join(
            f"{s}: {num(t_star[s])} ({num(a)} + {num(b)})" for s, (a, b) in t_terms.items()),
        "the homogeneous expression of the same paper (every worker samples the same distribution; Rennala SGD "
        "attains it), min_m [(1/m Σ_{i≤m} 1/τ_i)^-1 (LΔ/ε + σ² LΔ/(m ε²))] with τ_1 ≤ … ≤ τ_n, for the i.i.d. "
        "splits: " + "; ".join(f"{s}: {num(v)} (m = {m})" for s, (v, m) in t_star_hom.items())]
    notes = [describe_problem(spec, problem) + f"; ||∇f(x_0)||² = {g0:.3g}",
             f"n = {n} workers; compute times: (a) fixed s_i = i + 1 (i = 0 .. {n - 1}), (b) every job 1 + Exp(λ = "
             f"{lam:g}) (mean {1 + 1 / lam:g}: i.i.d. stragglers); data split i.i.d. (zeta = 0) or sorted by label "
             f"(zeta = 1: the positive labels sit on the last workers)",
             f"stochastic gradients of batch = {batch} sample per job; Rennala and Malenia with S = {S}; mini-batch "
             f"SGD is minibatch-sgd with b = n = {n}, one job per worker per round (seed 004: \"each worker does "
             f"one job only\"), its samples drawn from the whole data set (it has no local data: zeta does not "
             f"apply); asynchronous SGD is pure-async-sgd",
             *measurement_notes(gammas, "time", horizon, target, g0, points),
             *star_notes,
             "verdict: per setting, the earliest time_to_target wins (if nobody reaches it, the smallest "
             "final_grad_norm2); the method that ends lowest (smallest final_grad_norm2) is named beside it"]
    marks = {s: (t_star[s], f"t* = {num(t_star[s])}") for s in settings}
    return finish(res, out, notes, command("heterogeneous-compute", out, quick, data, seed), t_start, log,
                  lambda res, out: timed_figure(res, out, marks))


# ------------------------------------------------------------------------------------------
# the optimal time t* of Tyurin & Richtarik (NeurIPS 2023), a reference line


def optimal_time_heterogeneous(taus, L: float, delta: float, eps: float, sigma2: float) -> float:
    """``t* = tau_n L Delta / eps + (1/n sum_i tau_i) sigma^2 L Delta / (n eps^2)``.

    The lower bound of Tyurin & Richtarik (NeurIPS 2023, "Optimal time complexities of
    parallel stochastic optimization methods under a fixed computation model") in the
    heterogeneous setting (worker ``i`` holds its own ``f_i``), attained up to constants
    by Malenia SGD and Ringleader ASGD, **with its universal constant set to 1**: an
    order of magnitude, not a prediction.  ``taus``: the workers' compute times (tau_n
    the largest); ``eps``: the target on ``||grad f||^2``; ``delta = f(x_0) - f*``.
    """
    t = np.sort(np.asarray(taus, dtype=np.float64))
    n = len(t)
    if n == 0 or not np.all(t > 0) or min(L, delta, eps) <= 0 or sigma2 < 0:
        raise ValueError("optimal_time_heterogeneous: needs taus > 0, L, delta, eps > 0 and sigma2 >= 0")
    return float(t[-1] * L * delta / eps + t.mean() * sigma2 * L * delta / (n * eps ** 2))


def optimal_time_homogeneous(taus, L: float, delta: float, eps: float, sigma2: float) -> tuple[float, int]:
    """``(t*, m)``: ``min_m [(1/m sum_{i<=m} 1/tau_i)^-1 (L Delta/eps + sigma^2 L Delta/(m eps^2))]``.

    The same paper's lower bound when every worker samples from the same distribution
    (attained up to constants by Rennala SGD), ``tau_1 <= ... <= tau_n`` sorted, with its
    universal constant set to 1; ``m`` is the number of fastest workers that minimises it.
    """
    t = np.sort(np.asarray(taus, dtype=np.float64))
    if len(t) == 0 or not np.all(t > 0) or min(L, delta, eps) <= 0 or sigma2 < 0:
        raise ValueError("optimal_time_homogeneous: needs taus > 0, L, delta, eps > 0 and sigma2 >= 0")
    best = None
    for m in range(1, len(t) + 1):
        v = float(m / np.sum(1.0 / t[:m]) * (L * delta / eps + sigma2 * L * delta / (m * eps ** 2)))
        if best is None or v < best[0]:
            best = (v, m)
    return best


SIGMA_POINTS = (0.0, 0.25, 0.5, 0.75, 1.0)


def reference_constants(spec: dict) -> dict:
    """``L``, ``f(x_0)``, ``f*``, ``Delta`` and ``sigma^2`` of the problem of ``spec``, for t*.

    * ``f*``: the value at the stationary point ``x_hat`` that L-BFGS (scipy, from
      ``x_0``, to a projected gradient <= 1e-12) reaches; the objective is nonconvex, so
      this is not a certified global minimum (a lower ``f*`` would raise ``Delta``);
    * ``sigma^2``: the variance of a one-sample stochastic gradient over the whole data
      set, ``(1/m) sum_j ||grad f_j(x) - grad f(x)||^2``, the maximum over the points
      ``x_0 + s (x_hat - x_0)``, ``s`` in :data:`SIGMA_POINTS`.
    """
    return _reference_constants(spec_key(spec))


@lru_cache(maxsize=4)
def _reference_constants(key: str) -> dict:
    from scipy.optimize import minimize
    problem = build_problem(json.loads(key))
    x0 = np.asarray(problem.x0, dtype=np.float64)
    r = minimize(problem.value, x0, jac=problem.grad, method="L-BFGS-B",
                 options={"gtol": 1e-12, "ftol": 0.0, "maxiter": 10_000, "maxfun": 20_000})
    x_hat = np.asarray(r.x, dtype=np.float64)
    f0, f_hat = float(problem.value(x0)), float(problem.value(x_hat))

    def variance(x):
        G = np.array([problem.sample_grad(x, j) for j in range(problem.m)])
        return float(np.mean(np.sum((G - G.mean(axis=0)) ** 2, axis=1)))

    sig = [variance(x0 + s * (x_hat - x0)) for s in SIGMA_POINTS]
    k = int(np.argmax(sig))
    return {"L": float(problem.L), "f0": f0, "f_star": min(f_hat, f0), "delta": f0 - min(f_hat, f0),
            "grad_norm2_x_hat": grad_norm2(problem, x_hat), "sigma2": sig[k], "sigma2_at": SIGMA_POINTS[k],
            "sigma2_points": dict(zip(SIGMA_POINTS, sig))}


# ------------------------------------------------------------------------------------------
# the verdict: computed from the table's rows only


def hetero_verdict(rows: list[dict], lead: str | None = None) -> tuple[list[str], dict]:
    """Seed 004's claim, judged from the table: is ``lead`` (default: the first method) fastest to the target?

    Per setting, the earliest ``time_to_target`` wins (nobody reached it: the smallest
    ``final_grad_norm2``); the method that ends lowest is named beside it.  Rows that
    carry ``t_star`` add a sentence on the range of ``time_to_target / t_star``.
    """
    names, methods = settings_of(rows), methods_of(rows)
    lead = lead or methods[0]
    fastest = winners(rows, names, "time")
    lowest = winners(rows, names, "final")
    wins = sum(w == lead for w in fastest.values())
    ends = sum(w == lead for w in lowest.values())
    counts = {m: sum(w == m for w in fastest.values()) for m in methods}
    verdicts = []
    for s, w in fastest.items():
        reached = any(r["time_to_target"] is not None for r in rows if r["setting"] == s)
        verdicts.append(f"{s}: {w} {'is fastest to the target' if reached else 'does best'}" + _runner_up(rows, s)
                        + f"; lowest final ||∇f||²: {lowest[s]}")
    claim = "holds" if wins == len(names) else ("holds only partly" if wins else "is not reproduced")
    verdicts.append(f"{lead} is the fastest to the target in {wins} of {len(names)} settings"
                    + ("" if wins == len(names) else
                       " (fastest per setting: " + ", ".join(f"{m} {c}" for m, c in counts.items() if c) + ")")
                    + f" and ends with the lowest ||∇f||² in {ends} of {len(names)}"
                    + (f": seed 004's \"Ringleader ASGD outperforms existing baselines\", read as time to the "
                       f"target, {claim} here." if lead == "Ringleader ASGD" else "."))
    summary = {"winners": fastest, "lowest_final": lowest, "wins": counts, "lead": lead, "lead_wins": wins,
               "lead_lowest": ends, "settings": len(names), "claim": claim}
    ratios = [(r["time_to_target"] / r["t_star"], r) for r in rows
              if r.get("t_star") and r["time_to_target"] is not None]
    if ratios:
        lo, hi = min(ratios, key=lambda q: q[0]), max(ratios, key=lambda q: q[0])
        mine = [q for q, r in ratios if r["method"] == lead]
        verdicts.append(
            f"Against t* (the optimal time's expression with its constant set to 1, an order of magnitude): the "
            f"times to the target are {lo[0]:.2g} × t* ({lo[1]['method']}, {lo[1]['setting']}) to {hi[0]:.2g} × "
            f"t* ({hi[1]['method']}, {hi[1]['setting']})"
            + (f"; {lead}'s {min(mine):.2g} to {max(mine):.2g} × t*" if mine else "") + ".")
        summary["ratio_to_t_star"] = {"min": lo[0], "max": hi[0], "lead": (min(mine), max(mine)) if mine else None}
    return verdicts, summary


def _runner_up(rows: list[dict], setting: str) -> str:
    mine = sorted((r for r in rows if r["setting"] == setting), key=lambda r: row_score(r, "time"))
    if len(mine) < 2:
        return ""
    a, b = mine[0], mine[1]
    if a["time_to_target"] is None:
        return f" (nobody reaches the target; final ||∇f||² {fmt(a['final_grad_norm2'])})"
    if b["time_to_target"] is None:
        return f" (target at t = {fmt(a['time_to_target'])}; nobody else reaches it)"
    if b["time_to_target"] == a["time_to_target"]:
        return (f" (target at t = {fmt(a['time_to_target'])}, tied with {b['method']}, which ends higher: "
                f"final ||∇f||² {fmt(b['final_grad_norm2'])} vs {fmt(a['final_grad_norm2'])})")
    ratio = b["time_to_target"] / a["time_to_target"] if a["time_to_target"] > 0 else math.inf
    return (f" (target at t = {fmt(a['time_to_target'])}; next {b['method']} at {fmt(b['time_to_target'])}, "
            f"{ratio:.2g}x)")


EXPERIMENTS.add("heterogeneous-compute", heterogeneous_compute)
