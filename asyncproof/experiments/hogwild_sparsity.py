"""Seed 002 (002_34168ee93540180b.txt), HOGWILD!: sparse SVM as the overlap bound τ and the
sparsity vary.

The slides read HOGWILD! as serial SGD on noisy iterates ("HOGWILD! as noisy SGD") and bound
the noise ("Asynchrony Noise"): ``γ²·2τ·M²·E{1[s_i ∩ s_k ≠ ∅]}`` with ``Pr(two samples
conflict) = Δ_av/n``, and "The noise term is below γ²M² when τ <= n/(2Δ_av)".  This
experiment measures that noise, the distance to serial SGD and the updates a racy write
loses, on "Sparse Support Vector Machines" ("Examples of Sparse Problems") of varying density.

==============================  ===========================================================
the slides                      here
==============================  ===========================================================
sparse SVM                      problem ``"sparse-svm"``, ``nnz`` nonzeros per sample
cores, overlap bound τ          ``hogwild-atomic`` with 9 cores (5 quick) under the seeded
                                random adversary and ``tau``
serial SGD on the same samples  ``serial_sgd`` of the run's samples
the noise and its bound         ``noise_terms`` of the trace; Δ_av from the conflict graph
lost updates                    ``hogwild-racy`` (load, then store) on the same schedule seed
==============================  ===========================================================

The verdict (:func:`hogwild_verdict`) is computed from the table alone.  Synthetic data
only (the sparsity is what varies).
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

LABELS = ("nnz", "tau", "seed", "mode")     # what a run's schedule file is named after


def hogwild_sparsity(out: str | os.PathLike = "docs/experiments", quick: bool = False, data: str | None = None,
                     seed: int = 0, jobs: int = 1, log: Callable[[str], None] | None = stderr,
                     schedules: str | os.PathLike | None = None) -> ExperimentResult:
    """Seed 002: HOGWILD! on sparse SVM as the overlap bound τ and the sparsity vary.

    Sparse SVM (seed 002, "Sparse Support Vector Machines") with ``nnz`` nonzeros per sample
    in ``d`` features; atomic HOGWILD! with 9 cores (5 in the quick mode) under the seeded
    random adversary and the overlap bound τ; the same samples run serially give the serial
    iterate.  Per (nnz, τ): the distance to serial SGD, the final losses, the measured
    asynchrony noise against the bound γ²·2τ·M²·(Δ_av + 1)/n, and the updates the racy mode
    loses on the same schedule seed.  Synthetic data only (the sparsity is varied).
    ``schedules``: a folder for every run's schedule file.
    """
    from ..reference.problems import make_problem
    from ..reference.shared_memory.conflict import conflict_stats, supports_of
    if data is not None:
        raise InputError("hogwild-sparsity generates its data (it varies the sparsity); --data is not supported")
    t_start = time.monotonic()
    log = log or quiet
    out = Path(out)
    m, d = (60, 60) if quick else (400, 400)
    nnzs = [2, 6] if quick else [2, 8, 32]
    taus = [0, 2, 4] if quick else [0, 1, 2, 4, 8]
    cores, T, seeds, gamma, lam = (5, 100, 1, 0.05, 0.01) if quick else (9, 1000, 2, 0.05, 0.01)

    # the runs: atomic and racy HOGWILD! per (nnz, τ, schedule seed)
    tasks = [{"mode": mode, "nnz": nz, "tau": tau, "seed": seed + s, "problem": {"m": m, "d": d, "nnz": nz, "lam": lam,
                                                                                 "seed": seed},
              "params": {"n": cores, "T": T, "tau": tau, "gamma": gamma}}
             for nz in nnzs for tau in taus for s in range(seeds) for mode in ("atomic", "racy")]
    folder = plan_schedules(tasks, schedules, LABELS)
    log(f"[hogwild-sparsity] {len(tasks)} runs on {jobs} process{'es' if jobs > 1 else ''}")

    def note(done: int, r: dict, elapsed: float) -> None:
        log(f"[hogwild-sparsity] {done}/{len(tasks)} nnz={r['nnz']} tau={r['tau']} {r['mode']} seed={r['seed']}: "
            f"distance to serial {fmt(r['dist'])} ({r['wall']:.1f} s; {elapsed:.0f} s elapsed)")

    results = run_tasks(tasks, jobs, hogwild_task, note)
    write_schedule_index(folder, results, LABELS)

    # one row per (nnz, τ): the atomic runs' measurements, the racy runs' lost updates
    rows = []
    for nz in nnzs:
        stats = conflict_stats(supports_of(make_problem("sparse-svm", m=m, d=d, nnz=nz, lam=lam, seed=seed)))
        p = (stats.avg_degree + 1) / m
        for tau in taus:
            mine = [r for r in results if r["nnz"] == nz and r["tau"] == tau]
            atomic, racy = [r for r in mine if r["mode"] == "atomic"], [r for r in mine if r["mode"] == "racy"]
            M2 = max(r["M2"] for r in atomic)
            mean = lambda rs, k: float(np.mean([r[k] for r in rs]))   # noqa: E731
            rows.append({"nnz": nz, "Δ_av": stats.avg_degree, "tau": tau, "n/(2Δ_av)": m / (2 * stats.avg_degree),
                         "max_overlap": max(r["overlap"] for r in atomic), "noisy_reads": mean(atomic, "noisy"),
                         "dist_to_serial": mean(atomic, "dist"), "rel_dist": mean(atomic, "rel_dist"),
                         "final_loss": mean(atomic, "loss"), "serial_loss": mean(atomic, "serial_loss"),
                         "mean_noise": mean(atomic, "noise"), "noise_bound": gamma ** 2 * 2 * tau * M2 * p,
                         "γ²M²": gamma ** 2 * M2, "lost_updates_racy": mean(racy, "lost"),
                         "dist_racy": mean(racy, "dist")})
    verdicts, summary = hogwild_verdict(rows)
    res = ExperimentResult(
        name="hogwild-sparsity",
        title=f"seed 002: HOGWILD! (atomic) on sparse SVM, m = d = {m}, {cores} cores, T = {T} samples, γ = {gamma:g}, "
              f"as τ and the sparsity vary",
        columns=["nnz", "Δ_av", "tau", "n/(2Δ_av)", "max_overlap", "noisy_reads", "dist_to_serial", "rel_dist",
                 "final_loss", "serial_loss", "mean_noise", "noise_bound", "γ²M²", "lost_updates_racy", "dist_racy"],
        rows=rows, verdicts=verdicts, summary=summary,
        config={"m": m, "d": d, "nnz": nnzs, "taus": taus, "cores": cores, "T": T, "seeds": seeds, "gamma": gamma,
                "lam": lam, "seed": seed, "quick": quick, "runs": len(tasks)},
        schedules=folder)
    notes = [f"sparse SVM (seed 002, \"Sparse Support Vector Machines\", HOGWILD!'s per-sample split) with m = {m} "
             f"samples, d = {d} features, nnz nonzeros per sample at random coordinates, λ = {lam:g}; Δ_av is the "
             f"conflict graph's average degree (networkx), n = m",
             f"atomic HOGWILD! with {cores} cores, T = {T} samples, γ = {gamma:g}, overlap bound τ (a sample overlaps at "
             f"most τ others), the seeded random adversary (seeds {seed} .. {seed + seeds - 1}, averaged); "
             f"max_overlap is the largest overlap seen, noisy_reads the fraction of samples with x̂_k ≠ x_k",
             "dist_to_serial = ||x_T − x_T^serial|| with x_T^serial serial SGD on the same samples s_0 .. s_(T−1); "
             "rel_dist divides by ||x_T^serial||; final_loss and serial_loss are f at the two",
             "mean_noise = mean over k of |γ⟨x̂_k − x_k, ∇f_(s_k)(x̂_k)⟩| (x_k the perturbed serial iterate); "
             "noise_bound = γ²·2τ·M²·(Δ_av + 1)/n with M² the largest ||∇f_(s_k)(x̂_k)||² of the runs (claim "
             "hogwild-noise-bound); γ²M² is the level below which the noise does not affect the rate",
             "lost_updates_racy: updates the racy mode (load, then store) lost on the same schedule seeds; dist_racy "
             "its distance to serial SGD"]
    return finish(res, out, notes, command("hogwild-sparsity", out, quick, None, seed), t_start, log, hogwild_figure)


def hogwild_task(task: dict) -> dict:
    """One HOGWILD! run and its serial twin on the same samples, measured (top level, for a process pool)."""
    from ..reference.schedule import run_algorithm
    from ..reference.shared_memory.hogwild import noise_terms, samples, serial_sgd
    t0 = time.monotonic()
    res = run_algorithm(f"hogwild-{task['mode']}", problem={"name": "sparse-svm", "params": task["problem"]},
                        params=task["params"], seed=task["seed"], adversary=f"random:seed={task['seed']}")
    out = dict(task)
    save_schedule(out, res.schedule)
    problem, gamma, recs = res.problem, task["params"]["gamma"], samples(res.trace)
    serial = serial_sgd(problem, [r.j for r in recs], problem.x0, gamma)
    out.update(dist=res.metrics["dist_to_serial"], rel_dist=res.metrics["dist_to_serial"] / math.sqrt(
        max(float(np.dot(serial, serial)), 1e-300)), loss=res.metrics["loss"], serial_loss=float(problem.value(serial)),
        noise=float(np.mean(np.abs(noise_terms(res.trace, gamma)))), overlap=res.metrics["max_overlap"],
        M2=max(float(np.dot(r.grad, r.grad)) for r in recs), lost=res.metrics["lost_updates"],
        noisy=res.metrics["noisy_reads"] / len(recs), wall=time.monotonic() - t0)
    return out


def hogwild_verdict(rows: list[dict]) -> tuple[list[str], dict]:
    """Seed 002's claims about HOGWILD!, judged from the table's rows.

    * τ = 0 is serial: the distance to the serial iterate is 0;
    * the asynchrony noise stays below its bound γ²·2τ·M²·(Δ_av + 1)/n, and below γ²M²
      where τ <= n/(2Δ_av) ("noise does not affect convergence");
    * the distance to serial SGD grows with τ and with the density of the samples;
    * the racy mode loses updates, the atomic one never does.
    """
    taus = sorted({r["tau"] for r in rows})
    nnzs = sorted({r["nnz"] for r in rows})
    serial_ok = all(r["dist_to_serial"] == 0.0 for r in rows if r["tau"] == 0)
    below = [r for r in rows if r["mean_noise"] <= r["noise_bound"]]
    inside = [r for r in rows if r["tau"] <= r["n/(2Δ_av)"]]
    inside_ok = [r for r in inside if r["mean_noise"] <= r["γ²M²"]]
    top = max(taus)
    grows_tau = [nz for nz in nnzs if [r["dist_to_serial"] for r in rows if r["nnz"] == nz] ==
                 sorted(r["dist_to_serial"] for r in rows if r["nnz"] == nz)]
    at_top = [r["dist_to_serial"] for r in rows if r["tau"] == top]
    grows_nnz = at_top == sorted(at_top)
    lossy = [r for r in rows if r["tau"] > 0 and r["lost_updates_racy"] > 0]
    worst = max((r["mean_noise"] / r["noise_bound"] for r in rows if r["noise_bound"] > 0), default=0.0)
    gap = max((abs(r["final_loss"] - r["serial_loss"]) / r["serial_loss"] for r in inside), default=0.0)
    verdicts = [
        ("τ = 0 runs serially: the distance to serial SGD on the same samples is 0 for every sparsity"
         if serial_ok else "τ = 0 did NOT reproduce serial SGD"),
        f"the measured noise is below the bound γ²·2τ·M²·(Δ_av + 1)/n in {len(below)} of {len(rows)} settings "
        f"(largest measured/bound {worst:.3g}); where τ <= n/(2Δ_av) ({len(inside)} settings) it is below γ²M² in "
        f"{len(inside_ok)}, and the final loss is within {gap:.2%} of serial SGD's",
        f"the distance to serial SGD grows with τ for {len(grows_tau)} of {len(nnzs)} sparsities (nnz "
        f"{', '.join(map(str, grows_tau)) or 'none'}), and at τ = {top} it "
        + ("grows with the nonzeros per sample" if grows_nnz else "does not grow monotonically with the nonzeros "
           "per sample") + f" ({', '.join(f'nnz {r}: {fmt(v)}' for r, v in zip(nnzs, at_top))})",
        f"the racy mode (x_v += g_v as load then store) lost updates in {len(lossy)} of "
        f"{sum(1 for r in rows if r['tau'] > 0)} settings with τ > 0 (the atomic mode's fetch-and-adds cannot: "
        "guarantee hogwild-no-lost-update)"]
    summary = {"serial_at_tau0": serial_ok, "noise_below_bound": len(below), "settings": len(rows),
               "below_gamma2M2_inside": len(inside_ok), "inside": len(inside), "grows_with_tau": grows_tau,
               "grows_with_nnz_at_top": grows_nnz, "racy_lossy": len(lossy), "worst_noise_ratio": worst,
               "loss_gap_inside": gap}
    return verdicts, summary


def hogwild_figure(res: ExperimentResult, out: Path) -> Path:
    """Three panels against τ, one colour per sparsity: distance to serial SGD, final losses, noise vs bound."""
    from .. import plots
    rows, nnzs = res.rows, sorted({r["nnz"] for r in res.rows})
    fig = plots._figure(15.0, 4.4)
    axes = fig.subplots(1, 3)
    pick = lambda nz, col: ([r["tau"] for r in rows if r["nnz"] == nz and r["tau"] > 0],   # noqa: E731
                            [r[col] for r in rows if r["nnz"] == nz and r["tau"] > 0])
    plots._draw_curves(axes[0], plots._check_curves({f"nnz = {nz}": pick(nz, "dist_to_serial") for nz in nnzs}),
                       "τ (overlap bound)", "||x_T − x_T^serial|| (0 at τ = 0)", logy=True)
    loss = {f"nnz = {nz}": ([r["tau"] for r in rows if r["nnz"] == nz], [r["final_loss"] for r in rows if r["nnz"] == nz])
            for nz in nnzs}
    loss.update({f"serial, nnz = {nz}": ([r["tau"] for r in rows if r["nnz"] == nz],
                                         [r["serial_loss"] for r in rows if r["nnz"] == nz]) for nz in nnzs})
    plots._draw_curves(axes[1], plots._check_curves(loss), "τ (overlap bound)", "final loss f(x_T)", logy=False)
    noise = {}
    for nz in nnzs:
        noise[f"measured, nnz = {nz}"] = pick(nz, "mean_noise")
        noise[f"bound, nnz = {nz}"] = pick(nz, "noise_bound")
    plots._draw_curves(axes[2], plots._check_curves(noise), "τ (overlap bound)", "|γ⟨x̂_k − x_k, ∇f(x̂_k)⟩|, mean over k",
                       logy=True)
    for ax in axes:                        # one colour per sparsity; the serial loss and the bound dashed
        for line in ax.get_lines():
            label = line.get_label()
            line.set_color(f"C{nnzs.index(int(label.rsplit('= ', 1)[1]))}")
            if label.startswith(("serial", "bound")):
                line.set_linestyle("--")
        ax.legend(fontsize=8, frameon=False)
    for ax, t in zip(axes, ("distance to serial SGD", "final loss (HOGWILD! and serial)", "asynchrony noise vs bound")):
        ax.set_title(t, loc="left", fontsize=10)
    fig.suptitle(res.title, x=0.01, ha="left", fontsize=11)
    fig.tight_layout()
    return plots._save(fig, plots._check_path(out / f"{res.name}.png"))


EXPERIMENTS.add("hogwild-sparsity", hogwild_sparsity)
