"""Seed 003 (003_64bc3d1a200f9b77.txt), Keuper & Pfreundt: ASGD against its silent variant on
k-means, k = 10 centroids in d = 10 dimensions.

Seed 003's Figure 14: "Convergence speed of ASGD optimization (synthetic dataset, k = 10,
d = 10) with and without asynchronous communication (silent)"; Figure 8 reports ASGD
outperforming "communication free SGD".  The seed ran ~1 TB on 1024 CPUs; here the same
setting runs at a scale the reference engine takes in seconds.

==========================================  =========================================================
seed 003                                    here
==========================================  =========================================================
synthetic k-means data, k = 10, d = 10      problem ``kmeans`` (m samples of p = 10 dimensions,
                                            k = 10 centroids, its generator's Gaussian blobs)
ASGD (Algorithm 5) on n nodes               ``keuper-pfreundt-asgd``, each state sent to k = 2
                                            random recipients, N = 2 external buffers
silent: "without asynchronous               the same algorithm with k = 0 recipients (every node runs
communication"                              mini-batch SGD alone on its shard)
asynchronous cluster                        the timed adversary: every mini-batch gradient takes
                                            ``1 + Exp(1)`` time units, per node its own draws
convergence speed                           the k-means loss f(w) of node p0's model (the slide's
                                            ``return w_I^1``) against iterations and simulated time
==========================================  =========================================================

Every run of a (nodes, variant) pair is averaged over ``seeds`` run seeds; the verdict
(:func:`asgd_kmeans_verdict`) is computed from the table alone.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Callable

import numpy as np

from ..reference.errors import InputError
from .common import (EXPERIMENTS, ExperimentResult, clock, command, finish, fmt, plan_schedules, quiet, run_tasks,
                     save_schedule, stderr, write_schedule_index)

LABELS = ("nodes", "variant", "seed")
VARIANTS = {"ASGD": 2, "silent": 0}        # recipients k of each state


def kmeans_problem(m: int, seed: int) -> dict:
    """Seed 003's setting: k = 10 centroids in d = 10 (the problem's p), m samples."""
    return {"name": "kmeans", "params": {"m": m, "p": 10, "k": 10, "seed": seed}}


def asgd_kmeans(out: str | os.PathLike = "docs/experiments", quick: bool = False, data: str | None = None,
                seed: int = 0, jobs: int = 1, log: Callable[[str], None] | None = stderr,
                schedules: str | os.PathLike | None = None) -> ExperimentResult:
    """Seed 003, Figure 14: ASGD against silent (no communication) on k-means, k = 10, d = 10.

    ``keuper-pfreundt-asgd`` with k = 2 recipients and with k = 0 on the synthetic k-means
    problem, under the timed adversary (gradients take 1 + Exp(1)); node p0's loss against
    iterations and simulated time, averaged over seeds.  ``schedules``: a folder for every run's
    schedule file.
    """
    if data is not None:
        raise InputError("asgd-kmeans generates seed 003's synthetic k-means data; --data is not supported")
    t_start = time.monotonic()
    log = log or quiet
    out = Path(out)
    m, T, nodes, seeds, eps, b = (400, 15, [4], 2, 0.2, 10) if quick else (2000, 60, [4, 8], 4, 0.2, 10)
    tasks = [{"nodes": n, "variant": v, "seed": seed + s, "problem": kmeans_problem(m, seed),
              "params": {"n": n, "T": T, "eps": eps, "b": b, "N": 2, "k": k},
              "adversary": f"timed:model=exp,c=1,lam=1,seed={seed + s}"}
             for n in nodes for v, k in VARIANTS.items() for s in range(seeds)]
    folder = plan_schedules(tasks, schedules, LABELS)
    log(f"[asgd-kmeans] {len(tasks)} runs on {jobs} process{'es' if jobs > 1 else ''}")

    def note(done: int, r: dict, elapsed: float) -> None:
        log(f"[asgd-kmeans] {done}/{len(tasks)} n={r['nodes']} {r['variant']} seed={r['seed']}: final loss "
            f"{fmt(r['loss'][-1])} ({r['wall']:.1f} s; {elapsed:.0f} s elapsed)")

    results = run_tasks(tasks, jobs, kmeans_task, note)
    write_schedule_index(folder, results, LABELS)
    rows, curves = [], {}
    for n in nodes:
        curves[f"n = {n} nodes"] = {}
        for v in VARIANTS:
            mine = [r for r in results if r["nodes"] == n and r["variant"] == v]
            loss = np.mean([r["loss"] for r in mine], axis=0)
            when = np.mean([r["times"] for r in mine], axis=0)
            half = loss[0] - 0.5 * (loss[0] - loss[-1])
            rows.append({"nodes": n, "variant": v, "start_loss": float(loss[0]), "final_loss": float(loss[-1]),
                         "final_loss_sd": float(np.std([r["loss"][-1] for r in mine])),
                         "time": float(when[-1]), "states_used": float(np.mean([r["used"] for r in mine])),
                         "iterations_to_half": int(np.argmax(loss <= half)) + 1})
            curves[f"n = {n} nodes"][v] = {"t": np.arange(1, len(loss) + 1), "loss": loss, "time": when}
    verdicts, summary = asgd_kmeans_verdict(rows)
    res = ExperimentResult(
        name="asgd-kmeans",
        title=f"seed 003, Figure 14: ASGD vs silent on k-means (k = 10, d = 10, m = {m}), T = {T}, ε = {eps:g}, "
              f"b = {b}",
        columns=["nodes", "variant", "start_loss", "final_loss", "final_loss_sd", "iterations_to_half", "time",
                 "states_used"],
        rows=rows, verdicts=verdicts, summary=summary, curves=curves,
        config={"m": m, "T": T, "nodes": nodes, "seeds": seeds, "eps": eps, "b": b, "seed": seed, "quick": quick,
                "runs": len(tasks)},
        schedules=folder)
    notes = [f"problem `kmeans`: m = {m} samples in d = 10 dimensions, k = 10 centroids (its generator's Gaussian "
             f"blobs, seed {seed}); the loss is f at node p0's model (the slide's `return w_I^1`)",
             f"`keuper-pfreundt-asgd` with ε = {eps:g}, mini-batches of b = {b} from the node's own shard, N = 2 "
             f"external buffers; ASGD sends each new state to k = {VARIANTS['ASGD']} random recipients, silent to "
             "none (k = 0)",
             "the timed adversary: every mini-batch gradient takes 1 + Exp(1) time units; time is the mean simulated "
             "time at which node p0 reached its last iteration",
             f"averaged over {seeds} seeds ({seed} .. {seed + seeds - 1}); final_loss_sd is the spread over them; "
             "iterations_to_half: the first iteration at which the mean loss has made half its way from the start "
             "to its final value; states_used: external states that passed the Parzen window, per run"]
    return finish(res, out, notes, command("asgd-kmeans", out, quick, None, seed), t_start, log, asgd_kmeans_figure)


def kmeans_task(task: dict) -> dict:
    """One run: node p0's loss at each iteration and the simulated time it got there (for a process pool)."""
    from ..reference.decentralized.common import ModelAt
    from ..reference.decentralized.keuper_pfreundt import Update
    from ..reference.schedule import run_algorithm
    t0 = time.monotonic()
    res = run_algorithm("keuper-pfreundt-asgd", problem=task["problem"], params=task["params"], seed=task["seed"],
                        adversary=task["adversary"])
    out = dict(task)
    save_schedule(out, res.schedule)
    times = clock(res.trace)
    at = res.trace.stepwise(ModelAt, pid=0)
    out.update(loss=np.array([float(res.problem.value(mdl.x)) for _, _, _, mdl in at]),
               times=np.array([float(times[step]) for step, _, _, _ in at]),
               used=sum(u.count for u in res.trace.records(Update)), wall=time.monotonic() - t0)
    return out


def asgd_kmeans_verdict(rows: list[dict]) -> tuple[list[str], dict]:
    """Per number of nodes: does ASGD end below silent, and by how many of silent's spreads."""
    verdicts, summary = [], {}
    for n in dict.fromkeys(r["nodes"] for r in rows):
        a = next(r for r in rows if r["nodes"] == n and r["variant"] == "ASGD")
        s = next(r for r in rows if r["nodes"] == n and r["variant"] == "silent")
        gap = s["final_loss"] - a["final_loss"]
        spread = max(a["final_loss_sd"], s["final_loss_sd"], 1e-12)
        better = gap > 0
        verdicts.append(
            f"n = {n}: ASGD ends at loss {fmt(a['final_loss'])}, silent at {fmt(s['final_loss'])} "
            f"({'ASGD lower' if better else 'silent lower or equal'} by {fmt(abs(gap))}, {abs(gap) / spread:.2g} "
            f"spreads over the seeds); halfway after {a['iterations_to_half']} iterations against "
            f"{s['iterations_to_half']}; {fmt(a['states_used'])} external states passed the Parzen window per run")
        summary[n] = {"asgd_lower": better, "gap": gap, "gap_in_spreads": abs(gap) / spread}
    return verdicts, summary


def asgd_kmeans_figure(res: ExperimentResult, out: Path) -> Path:
    """Per number of nodes: the loss against iterations and against simulated time, ASGD and silent."""
    from .. import plots
    panels = list(res.curves)
    fig = plots._figure(12.0, 4.0 * len(panels) + 0.5)
    axes = fig.subplots(len(panels), 2, squeeze=False)
    for row, key in zip(axes, panels):
        c = res.curves[key]
        plots._draw_curves(row[0], plots._check_curves({v: (d["t"], d["loss"]) for v, d in c.items()}),
                           "iteration t", "k-means loss f(w_t) of node p0", logy=True)
        plots._draw_curves(row[1], plots._check_curves({v: (d["time"], d["loss"]) for v, d in c.items()}),
                           "simulated time", "k-means loss f(w_t) of node p0", logy=True)
        for ax, what in zip(row, ("against iterations", "against simulated time")):
            ax.set_title(f"{key}: {what}", loc="left", fontsize=10)
            ax.legend(fontsize=8, frameon=False)
    fig.suptitle(res.title, x=0.01, ha="left", fontsize=11)
    fig.tight_layout()
    return plots._save(fig, plots._check_path(out / f"{res.name}.png"))


EXPERIMENTS.add("asgd-kmeans", asgd_kmeans)

