"""Seeds 000 and 003: decentralized asynchronous SGD with a crash and a recovery injected.

Attiya–Schiller's distributed SGD (seed 000, "Distributed SGD Algorithm": averaging, then MDAA)
against seed 000's "General Algorithm" (averaging only), Keuper–Pfreundt ASGD (seed 003,
Algorithm 5: states sent to random recipients, external buffers, the Parzen window) and
SimuParallelSGD (seed 003, Algorithm 3: no communication until the final average), on a
strongly convex and on a nonconvex problem.  The seeds claim that the agreement keeps the
models together ("Main Correctness Claims": E[Δ^cw(x_t)] <= ηC) and that recovery through
skipping lets a crashed process rejoin ("Recovery through Skipping"); this experiment shows
both on the same schedules for all four methods.

=====================================  =======================================================
the seeds                              here
=====================================  =======================================================
n processes, fully connected           n = 5 (Attiya–Schiller: clusters [2, 2, 1])
compute times                          the timed adversary, every gradient ``1 + Exp(1)``
a crash, non-volatile memory,          p1 crashes at simulated time ``crash_at`` and recovers at
recovery                               ``recover_at`` (``timed:...,faults=...``), where the
                                       algorithm can recover; crash-stop elsewhere
strongly convex Q                      ``quadratic``: d = 4, H = diag(2 .. 10), m = 40 samples with
                                       gradient noise σ = 1 (seed 004's x² + 5y², widened)
nonconvex Q with two minima            ``double-well``: d = 2, σ = 0.3, m = 40, x0 the saddle
loss, Δ^cw against iterations          the mean of f(x_t^i) over the processes that reached
and simulated time                     iteration t, Δ^cw(x_t) over them; the time of iteration t
                                       is the mean clock at which they reached it
=====================================  =======================================================

Every quantity is averaged over ``seeds`` run seeds (the gradient noise and the compute times
change with the seed, the fault plan does not).  The verdict (:func:`decentralized_verdict`) is
computed from the table alone.
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path
from typing import Callable

import numpy as np

from ..reference.errors import InputError
from .common import (EXPERIMENTS, ExperimentResult, command, finish, fmt, plan_schedules, quiet, run_tasks, save_schedule,
                     stderr, write_schedule_index)

METHODS = {"Attiya–Schiller": "attiya-schiller-sgd", "General Algorithm": "general-sgd",
           "Keuper–Pfreundt ASGD": "keuper-pfreundt-asgd", "SimuParallelSGD": "simu-parallel-sgd"}
SETTINGS = {"strongly convex (quadratic)": {"name": "quadratic", "params": {"d": 4, "sigma": 1.0, "m": 40}},
            "nonconvex (double well)": {"name": "double-well", "params": {"d": 2, "sigma": 0.3, "m": 40}}}
LABELS = ("setting", "method", "seed")
N = 5
CLUSTERS = [2, 2, 1]
CRASHED = 1


def method_params(alg: str, eta: float, T: int) -> dict:
    """Each method's parameters for n = 5 processes and step η (seed 003's ε, Zinkevich's γ)."""
    if alg == "attiya-schiller-sgd":
        return {"clusters": CLUSTERS, "T": T, "eta": eta}
    if alg == "general-sgd":
        return {"n": N, "T": T, "eta": eta}
    if alg == "keuper-pfreundt-asgd":
        return {"n": N, "T": T, "eps": eta, "k": 1, "N": 2}
    return {"n": N, "T": T, "gamma": eta}


def decentralized_sgd(out: str | os.PathLike = "docs/experiments", quick: bool = False, data: str | None = None,
                      seed: int = 0, jobs: int = 1, log: Callable[[str], None] | None = stderr,
                      schedules: str | os.PathLike | None = None) -> ExperimentResult:
    """Seeds 000 and 003: Attiya–Schiller vs the General Algorithm vs Keuper–Pfreundt ASGD vs SimuParallelSGD.

    n = 5 processes, compute times 1 + Exp(1) (the timed adversary), p1 crashing at a simulated
    time and recovering later where the algorithm can; a strongly convex (``quadratic``) and a
    nonconvex (``double-well``) problem; loss and Δ^cw against iterations and simulated time,
    averaged over seeds.  ``schedules``: a folder for every run's schedule file.
    """
    if data is not None:
        raise InputError("decentralized-sgd runs on its two synthetic problems; --data is not supported")
    t_start = time.monotonic()
    log = log or quiet
    out = Path(out)
    T, seeds, eta = (12, 2, 0.1) if quick else (50, 6, 0.1)
    crash_at, recover_at = (4.0, 9.0) if quick else (8.0, 20.0)
    faults = f"crash@{crash_at:g}:p{CRASHED};recover@{recover_at:g}:p{CRASHED}"
    tasks = [{"setting": s, "method": m, "alg": alg, "seed": seed + k, "problem": spec,
              "params": method_params(alg, eta, T),
              "adversary": f"timed:model=exp,c=1,lam=1,seed={seed + k},faults={faults}",
              "model": {"f": 2, "crashable": [CRASHED], "recovery": True}}
             for s, spec in SETTINGS.items() for m, alg in METHODS.items() for k in range(seeds)]
    folder = plan_schedules(tasks, schedules, LABELS)
    log(f"[decentralized-sgd] {len(tasks)} runs on {jobs} process{'es' if jobs > 1 else ''}")

    def note(done: int, r: dict, elapsed: float) -> None:
        log(f"[decentralized-sgd] {done}/{len(tasks)} {r['setting']}: {r['method']} seed={r['seed']} -> "
            f"{r['iterations']} iterations, final loss {fmt(r['final_loss'])}, Δ^cw {fmt(r['final_dcw'])} "
            f"({r['wall']:.1f} s; {elapsed:.0f} s elapsed)")

    results = run_tasks(tasks, jobs, decentralized_task, note)
    write_schedule_index(folder, results, LABELS)
    rows, curves = [], {}
    for s in SETTINGS:
        curves[s] = {}
        for m in METHODS:
            mine = [r for r in results if r["setting"] == s and r["method"] == m]
            its = min(r["iterations"] for r in mine)
            mean = lambda key: float(np.mean([r[key] for r in mine]))          # noqa: E731
            rows.append({"setting": s, "method": m, "iterations": its, "final_loss": mean("final_loss"),
                         "final_Δcw": mean("final_dcw"), "max_Δcw": mean("max_dcw"), "time": mean("time"),
                         "outputs": min(r["outputs"] for r in mine), "recovered": all(r["recovered"] for r in mine)})
            ts = np.arange(1, its + 1)
            curves[s][m] = {"t": ts,
                            "loss": np.mean([r["loss"][:its] for r in mine], axis=0),
                            "dcw": np.mean([r["dcw"][:its] for r in mine], axis=0),
                            "time": np.mean([r["times"][:its] for r in mine], axis=0)}
    verdicts, summary = decentralized_verdict(rows)
    res = ExperimentResult(
        name="decentralized-sgd",
        title=f"seeds 000, 003: decentralized SGD, n = {N}, T = {T}, η = {eta:g}, p{CRASHED} crashes at "
              f"t = {crash_at:g} and recovers at t = {recover_at:g} (simulated time)",
        columns=["setting", "method", "iterations", "final_loss", "final_Δcw", "max_Δcw", "time", "outputs",
                 "recovered"],
        rows=rows, verdicts=verdicts, summary=summary, curves=curves,
        config={"n": N, "T": T, "eta": eta, "seeds": seeds, "seed": seed, "quick": quick, "crash_at": crash_at,
                "recover_at": recover_at, "runs": len(tasks)},
        schedules=folder)
    notes = [f"n = {N} processes (Attiya–Schiller: clusters {CLUSTERS}, one MDAA round of K = 2 in-cluster "
             f"rounds per iteration), step η = {eta:g} (ε in seed 003, γ for SimuParallelSGD), T = {T} "
             f"iterations, mini-batch b = 1; the General Algorithm waits for a majority, ASGD sends each state to "
             f"k = 1 random recipient and keeps N = 2 external buffers",
             f"the timed adversary: every gradient takes 1 + Exp(1) simulated time units; p{CRASHED} crashes at "
             f"{crash_at:g} and recovers at {recover_at:g} where the algorithm has a recovery (non-volatile "
             f"checkpoints); an algorithm without one keeps p{CRASHED} down (recovered = no)",
             "iterations: the iterations every run of the row completed on all its processes that were up; "
             "final_loss: the mean over processes of f(x_t^i) at that iteration; final_Δcw: Δ^cw(x_t) there "
             "(Σ_k max_ij |x_t^i[k] − x_t^j[k]|, seed 000 'Correctness Proof – Definitions'); max_Δcw its largest "
             "value over the run; time: the simulated time the run ended; outputs: the processes that output",
             f"averaged over {seeds} seeds ({seed} .. {seed + seeds - 1}): the noise of the gradients and the compute "
             "times change with the seed, the fault plan does not"]
    return finish(res, out, notes, command("decentralized-sgd", out, quick, None, seed), t_start, log,
                  decentralized_figure)


def models_at(trace) -> dict[int, dict[int, tuple[int, np.ndarray]]]:
    """t -> pid -> (step, x_t^pid): the ``model`` records of seed 000's iterates, or a SimuParallelSGD
    node's iterates (its k-th ``x`` is x_{k+1})."""
    out: dict[int, dict[int, tuple[int, np.ndarray]]] = {}
    declared = trace.declared or {}
    if "model" in declared:
        from ..reference.decentralized.common import ModelAt
        for step, pid, _, m in trace.stepwise(ModelAt):
            out.setdefault(m.t, {})[pid] = (step, np.asarray(m.x))
    else:
        counts: dict[int, int] = {}
        for step, pid, key, x in trace.observations:
            if key == "x":
                counts[pid] = counts.get(pid, 0) + 1
                out.setdefault(counts[pid] + 1, {})[pid] = (step, np.asarray(x))
    return out


def decentralized_task(task: dict) -> dict:
    """One run, measured per iteration (top level, for a process pool)."""
    from ..experiments.common import clock
    from ..reference.decentralized.common import coordinatewise_diameter
    from ..reference.schedule import run_algorithm
    t0 = time.monotonic()
    res = run_algorithm(task["alg"], problem=task["problem"], params=task["params"], seed=task["seed"],
                        adversary=task["adversary"], model=task["model"])
    out = {k: v for k, v in task.items()}
    save_schedule(out, res.schedule)
    problem, trace = res.problem, res.trace
    at = models_at(trace)
    times = clock(trace)
    ts = sorted(t for t in at if t >= 2 and len(at[t]) >= 2)
    loss = [float(np.mean([problem.value(x) for _, x in at[t].values()])) for t in ts]
    dcw = [coordinatewise_diameter([at[t][p][1] for p in sorted(at[t])]) for t in ts]
    when = [float(np.mean([times[s] for s, _ in at[t].values()])) for t in ts]
    out.update(iterations=len(ts), loss=np.array(loss), dcw=np.array(dcw), times=np.array(when),
               final_loss=loss[-1] if loss else math.nan, final_dcw=dcw[-1] if dcw else math.nan,
               max_dcw=max(dcw, default=math.nan), time=float(times[-1]) if len(times) else 0.0,
               outputs=len([p for p, o in trace.outputs.items() if o]),
               recovered=any(e == f"recover p{CRASHED}" for e in trace.events), wall=time.monotonic() - t0)
    return out


def decentralized_verdict(rows: list[dict]) -> tuple[list[str], dict]:
    """What the table says, per setting: which methods finished despite the crash, which recovered, which
    kept the models closest (the smallest final Δ^cw) and reached the lowest loss."""
    verdicts, summary = [], {}
    for s in dict.fromkeys(r["setting"] for r in rows):
        mine = [r for r in rows if r["setting"] == s]
        low = min(r["final_Δcw"] for r in mine)
        closest = [r for r in mine if r["final_Δcw"] == low]
        lowest = min(mine, key=lambda r: r["final_loss"])
        silent = [r["method"] for r in mine if r["outputs"] < N - 1]
        rec = [r["method"] for r in mine if r["recovered"]]
        others = ", ".join(r["method"] + " " + fmt(r["final_Δcw"]) for r in mine if r not in closest)
        verdicts.append(
            f"{s}: the models stay closest with {' and '.join(r['method'] for r in closest)} (final Δ^cw "
            f"{fmt(low)}, against {others}); "
            f"the lowest loss is {lowest['method']}'s ({fmt(lowest['final_loss'])}); p{CRASHED} recovered and "
            f"rejoined under {', '.join(rec) or 'none'}"
            + (f"; {', '.join(silent)} did not output on every correct process" if silent else ""))
        summary[s] = {"closest": [r["method"] for r in closest], "lowest_loss": lowest["method"], "recovered": rec,
                      "not_finished": silent}
    return verdicts, summary


def decentralized_figure(res: ExperimentResult, out: Path) -> Path:
    """Per setting a row of four panels: loss and Δ^cw against iterations, then against simulated time."""
    from .. import plots
    settings = list(res.curves)
    fig = plots._figure(19.0, 4.0 * len(settings) + 0.5)
    axes = fig.subplots(len(settings), 4, squeeze=False)
    for row, s in zip(axes, settings):
        c = res.curves[s]
        plots._draw_curves(row[0], plots._check_curves({m: (v["t"], v["loss"]) for m, v in c.items()}),
                           "iteration t", "mean f(x_t^i)", logy=True)
        plots._draw_curves(row[1], plots._check_curves({m: (v["t"], v["dcw"]) for m, v in c.items()}),
                           "iteration t", "Δ^cw(x_t)", logy=True)
        plots._draw_curves(row[2], plots._check_curves({m: (v["time"], v["loss"]) for m, v in c.items()}),
                           "simulated time", "mean f(x_t^i)", logy=True)
        plots._draw_curves(row[3], plots._check_curves({m: (v["time"], v["dcw"]) for m, v in c.items()}),
                           "simulated time", "Δ^cw(x_t)", logy=True)
        for ax, what in zip(row, ("loss", "Δ^cw", "loss against time", "Δ^cw against time")):
            ax.set_title(f"{s}: {what}", loc="left", fontsize=9)
            ax.legend(fontsize=7, frameon=False)
        for ax in row[2:]:                     # the crash (dotted) and the recovery (dashed)
            ax.axvline(res.config["crash_at"], color="0.3", ls=":", lw=1.0)
            ax.axvline(res.config["recover_at"], color="0.3", ls="--", lw=1.0)
    fig.suptitle(res.title, x=0.01, ha="left", fontsize=11)
    fig.tight_layout()
    return plots._save(fig, plots._check_path(out / f"{res.name}.png"))


EXPERIMENTS.add("decentralized-sgd", decentralized_sgd)
