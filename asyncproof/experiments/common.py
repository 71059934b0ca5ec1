"""What the experiments share: the result, problems, timed runs measured against simulated time,
step-size tuning, the process pool, the figure, the Markdown file and the saved schedules.

How a timed run is measured (``asgrad-figure1`` and ``heterogeneous-compute``):

* a run is taken to the **time horizon** ``H``: a short pilot run gives the number of
  iterations per unit of simulated time, the run's ``T`` is set from it with a margin
  and raised until the last recorded iterate lies past ``H`` (the prefix of a run
  does not depend on ``T``: every draw is keyed by the iteration);
* the model **the server holds at time t** is the last iterate ``"x"`` recorded at a
  step whose clock is ``<= t`` (``x_0`` before the first update); ``f`` and
  ``||grad f||^2`` are evaluated at that model at ``points`` evenly spaced times
  ``0 .. H`` (60 in the full mode), so every method is seen at the same times;
* **time to target** is when the server's model first gets below the target: the first
  evaluation time below it, refined to the first iterate below it since the evaluation
  time before; ``None`` when it is not reached by ``H``;
* the **final** ``||grad f||^2`` is the geometric mean over the last :data:`END_POINTS`
  evaluation times;
* a step size is **tuned** per (setting, method) on a small grid (:func:`tune`); a run
  whose iterates turn non-finite is *diverged*;
* everything is seeded (data, splits, samples, policies, compute times), so two runs
  of an experiment give the same table, bit for bit, serial or in parallel.

Every run goes through :func:`~asyncproof.reference.schedule.run_algorithm` on a problem
:func:`~asyncproof.reference.problems.make_problem` rebuilds from its spec, so with
``schedules=DIR`` (``--schedules DIR``) each run's schedule is saved as a file that
``asyncproof replay FILE`` reproduces bit for bit (:func:`plan_schedules`).
"""

from __future__ import annotations

import json
import math
import os
import re
import sys
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable

import numpy as np

from ..reference.errors import InputError
from ..reference.registries import Registry, modules_of
from ..reference.schedule import write_atomically

#: every experiment, by name: each module of this package declares its own (``EXPERIMENTS.add``)
EXPERIMENTS: Registry = Registry("experiment", lambda: modules_of(__name__.rsplit(".", 1)[0], families=None))

POINTS_FULL, POINTS_QUICK = 60, 25
END_POINTS = 5      # "final" ||grad f||^2: the geometric mean over the last 5 evaluation times
INDEX = "runs.json"  # in a schedules folder: which run each file holds


# ------------------------------------------------------------------------------------------
# the result object and its table


@dataclass
class ExperimentResult:
    """What an experiment produced: its table, verdicts, curves and files."""
    name: str
    title: str
    columns: list[str]                  # the table's columns, in order
    rows: list[dict]                    # one per (setting, method)
    verdicts: list[str]                 # sentences computed from ``rows``
    summary: dict                       # the verdicts as data (e.g. the winner of each setting)
    config: dict                        # everything needed to say what was run
    curves: dict = field(default_factory=dict)   # {setting: {method: (times, grad_norm2)}}
    png: Path | None = None
    markdown: Path | None = None
    seconds: float = 0.0
    schedules: Path | None = None       # the folder of the runs' schedules, if they were saved

    def table_markdown(self) -> str:
        return markdown_table(self.columns, self.rows)


def fmt(v) -> str:
    if v is None:
        return "not reached"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        if not math.isfinite(v):
            return "diverged" if math.isnan(v) else "inf"
        if v == 0.0:
            return "0"
        a = abs(v)
        return f"{v:.3g}" if 1e-3 <= a < 1e5 else f"{v:.2e}"
    return str(v)


def markdown_table(columns: list[str], rows: list[dict]) -> str:
    """A GitHub-flavoured Markdown table of ``rows`` (dicts) over ``columns``."""
    lines = ["| " + " | ".join(columns) + " |", "| " + " | ".join("---" for _ in columns) + " |"]
    for r in rows:
        lines.append("| " + " | ".join(fmt(r.get(c)) for c in columns) + " |")
    return "\n".join(lines) + "\n"


def num(v: float) -> str:
    """A value for the notes: thousands as whole numbers with separators (14,190), else 4 digits."""
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.4g}"


# ------------------------------------------------------------------------------------------
# problems: specs make_problem rebuilds (and a schedule file stores)


def problem_spec(data: str | None, seed: int, quick: bool, lam: float = 0.1) -> dict:
    """Seed 001's objective on the LIBSVM file ``data``, or on the w7a-shaped synthetic data."""
    if data is not None:
        if not Path(data).is_file():
            raise InputError(f"--data {data!r}: no such file (expected a LIBSVM file such as w7a)")
        return {"name": "logistic", "params": {"path": os.fspath(data), "lam": lam}}
    m, d = (600, 60) if quick else (2505, 300)
    return {"name": "logistic", "params": {"generator": "w7a-like", "m": m, "d": d, "lam": lam, "seed": seed}}


def with_local_full_gradient(spec: dict, n: int, zeta: float, seed: int) -> dict:
    """``spec`` whose jobs get their worker's full local gradient (problems.LocalFullGradient)."""
    return {"name": spec["name"],
            "params": {**spec["params"], "local_full_gradient": {"n": n, "zeta": zeta, "seed": seed}}}


def spec_key(spec: dict) -> str:
    """A hashable, exact form of a spec (JSON round-trips floats)."""
    return json.dumps(spec, sort_keys=True)


def build_problem(spec: dict):
    """The problem of ``spec``, built once per process (parallel workers build it once each)."""
    return _built(spec_key(spec))


@lru_cache(maxsize=4)
def _built(key: str):
    from ..reference.problems import make_problem
    spec = json.loads(key)
    return make_problem(spec["name"], **spec.get("params", {}))


def describe_problem(spec: dict, problem) -> str:
    p = spec["params"]
    if "path" in p:
        return (f"logistic regression with the nonconvex regulariser, lam = {p['lam']}, on the LIBSVM file "
                f"`{p['path']}` (m = {problem.m}, d = {problem.d})")
    return (f"logistic regression with the nonconvex regulariser (lam = {p['lam']}) on a w7a-shaped synthetic data "
            f"set (`w7a_like`: m = {p['m']}, d = {p['d']}, binary features, density "
            f"{float((problem.arrays[0] != 0).mean()):.3f}, {float((problem.arrays[1] > 0).mean()):.1%} positive "
            f"labels, seed {p['seed']}); L = {problem.L:.3g}")


def grad_norm2(problem, x) -> float:
    g = problem.grad(x)
    return float(np.dot(g, g))


# ------------------------------------------------------------------------------------------
# one timed run, measured against simulated time


def timed_adversary(timing: tuple[str, ...], seed: int):
    """A fresh timed adversary; ``timing[i]``: worker i's compute-time model, e.g. ``"exp:c=1.0,lam=0.25"``."""
    from ..reference.adversaries import Timed
    from ..reference.timing import parse_timing
    return Timed(models={f"w{i}": parse_timing(s) for i, s in enumerate(timing)}, seed=seed)


def clock(trace) -> np.ndarray:
    """The simulated clock at every step (a step without a reading is at the last one)."""
    out = np.zeros(len(trace.events))
    t = 0.0
    ann = trace.annotations
    for i in range(len(out)):
        a = ann.get(i)
        if a is not None and "time" in a:
            t = float(a["time"])
        out[i] = t
    return out


def iterates(trace) -> tuple[np.ndarray, list]:
    """``(times, xs)`` of the iterates ``"x"`` the (lowest-numbered) recording process holds."""
    obs = [(s, p, v) for (s, p, k, v) in trace.observations if k == "x"]
    if not obs:
        raise InputError("the run recorded no iterates 'x': nothing to measure")
    pid = min(p for _, p, _ in obs)
    steps = [s for s, p, _ in obs if p == pid]
    return clock(trace)[np.asarray(steps, dtype=np.int64)], [v for _, p, v in obs if p == pid]


class Diverged(Exception):
    """A run whose iterates turned non-finite; ``schedule``: its schedule, when the engine ended it."""

    def __init__(self, message: str, schedule=None):
        super().__init__(message)
        self.schedule = schedule


def run_once(alg: str, problem, params: dict, timing: tuple, seed: int, T: int):
    from ..reference.schedule import run_algorithm
    try:
        with np.errstate(all="ignore"):
            res = run_algorithm(alg, problem=problem, params={**params, "T": int(T)}, seed=seed,
                                adversary=timed_adversary(timing, seed))
    except (InputError, FloatingPointError, OverflowError) as e:
        # A gradient at a non-finite iterate is refused by the problem: the run diverged.
        if "not finite" in str(e) or not isinstance(e, InputError):
            raise Diverged(str(e)) from None
        raise
    if res.trace.stopped == "diverged":         # the engine ended the run at its first non-finite value
        raise Diverged(res.trace.divergence.describe(), res.schedule)
    return res


def run_to_horizon(alg: str, problem, params: dict, timing: tuple, seed: int, horizon: float):
    """Run ``alg`` long enough that its last recorded iterate is past ``horizon``: ``(times, xs, T, result)``."""
    n = len(timing)
    T = max(5 * n, 20)
    res = run_once(alg, problem, params, timing, seed, T)
    for _ in range(8):
        times, xs = iterates(res.trace)
        last = float(times[-1]) if len(times) else 0.0
        if last >= horizon:
            return times, xs, T, res
        rate = len(xs) / max(last, 1e-12)
        T = int(math.ceil(max(T * 1.5, horizon * rate * 1.15))) + n
        res = run_once(alg, problem, params, timing, seed, T)
    times, xs = iterates(res.trace)
    return times, xs, T, res


def evaluate(problem, x0: np.ndarray, times: np.ndarray, xs: list, horizon: float, points: int):
    """``f`` and ``||grad f||^2`` of the model held at ``points`` evenly spaced times in ``[0, H]``."""
    grid = np.linspace(0.0, horizon, points)
    # index into [x0, x_1, x_2, ...]: the number of iterates recorded at a clock <= t
    which = np.searchsorted(times, grid, side="right")
    cache: dict[int, tuple[float, float]] = {}
    f, g2 = np.empty(points), np.empty(points)
    for k, i in enumerate(which.tolist()):
        if i not in cache:
            x = np.asarray(x0 if i == 0 else xs[i - 1], dtype=np.float64)
            if not np.all(np.isfinite(x)):
                cache[i] = (math.nan, math.nan)
            else:
                with np.errstate(all="ignore"):
                    g = problem.grad(x)
                    cache[i] = (float(problem.value(x)), float(np.dot(g, g)))
        f[k], g2[k] = cache[i]
    return grid, f, g2, which


def first_time_below(problem, times: np.ndarray, xs: list, grid: np.ndarray, which: np.ndarray, g2: np.ndarray,
                     target: float) -> float | None:
    """When the server's model first has ``||grad f||^2 <= target``, to the iterate.

    The coarse grid finds the first evaluation time ``grid[k]`` below the target; the
    iterates recorded in ``(grid[k-1], grid[k]]`` are then checked in order and the
    clock of the first one below the target is returned.  (A dip below the target
    between two earlier grid times that both lie above it is not looked for.)
    """
    hit = np.flatnonzero(np.isfinite(g2) & (g2 <= target))
    if not hit.size:
        return None
    k = int(hit[0])
    if k == 0:
        return 0.0
    for i in range(int(which[k - 1]) + 1, int(which[k]) + 1):      # iterate i is xs[i-1], recorded at times[i-1]
        x = np.asarray(xs[i - 1], dtype=np.float64)
        if np.all(np.isfinite(x)):
            with np.errstate(all="ignore"):
                g = problem.grad(x)
            if float(np.dot(g, g)) <= target:
                return float(times[i - 1])
    return float(grid[k])


def timed_task(task: dict) -> dict:
    """One tuning run, measured (top level, so a process pool can run it)."""
    t0 = time.monotonic()
    problem = build_problem(task["problem"])
    out = dict(task)
    try:
        times, xs, T, res = run_to_horizon(task["alg"], problem, task["params"], task["timing"], task["seed"],
                                           task["horizon"])
        save_schedule(out, res.schedule)
        grid, f, g2, which = evaluate(problem, problem.x0, times, xs, task["horizon"], task["points"])
        ttt = first_time_below(problem, times, xs, grid, which, g2, task["target"])
        out.update(grid=grid, f=f, g2=g2, iterations=int(which[-1]), T=T, diverged=not np.isfinite(g2[-1]),
                   time_to_target=ttt)
    except Diverged as e:
        save_schedule(out, e.schedule)
        nan = np.full(task["points"], math.nan)
        out.update(grid=np.linspace(0.0, task["horizon"], task["points"]), f=nan, g2=nan, iterations=0, T=0,
                   diverged=True, time_to_target=None)
    out["wall"] = time.monotonic() - t0
    return out


# ------------------------------------------------------------------------------------------
# the process pool


def run_tasks(tasks: list[dict], jobs: int, fn: Callable[[dict], dict],
              note: Callable[[int, dict, float], None]) -> list[dict]:
    """``fn`` of every task, serially or on ``jobs`` processes; results in the order of ``tasks``.
    ``note(done, result, elapsed)`` is called as each finishes (for the progress lines)."""
    results: list[dict | None] = [None] * len(tasks)
    t0 = time.monotonic()
    if jobs <= 1 or len(tasks) <= 1:
        for k, t in enumerate(tasks):
            results[k] = fn(t)
            note(k + 1, results[k], time.monotonic() - t0)
        return results   # type: ignore[return-value]
    from concurrent.futures import ProcessPoolExecutor, as_completed
    import multiprocessing
    ctx = multiprocessing.get_context("spawn" if sys.platform == "darwin" else "fork")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx) as pool:
        futs = {pool.submit(fn, t): k for k, t in enumerate(tasks)}
        for done, fut in enumerate(as_completed(futs), 1):
            k = futs[fut]
            results[k] = fut.result()
            note(done, results[k], time.monotonic() - t0)
    return results   # type: ignore[return-value]


def stderr(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def quiet(msg: str) -> None:
    pass


# ------------------------------------------------------------------------------------------
# saved schedules: one file per run, and an index


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9.]+", "-", text.lower()).strip("-")


def _label(task: dict, key: str):
    """A task's label ``key``: its own field, or its algorithm's parameter (``gamma``)."""
    return task[key] if key in task else task["params"][key]


def plan_schedules(tasks: list[dict], folder: str | os.PathLike | None, labels: tuple[str, ...]) -> Path | None:
    """Give each task the file its run's schedule goes to: ``NNN-<labels>.json`` in ``folder`` (created);
    nothing when ``folder`` is None."""
    if folder is None:
        return None
    from ..reference.schedule import check_output_dir
    folder = check_output_dir(folder, "schedules directory")
    for k, t in enumerate(tasks):
        values = {key: _label(t, key) for key in labels}
        name = "-".join(_slug(f"{key} {v}" if isinstance(v, (int, float)) else str(v)) for key, v in values.items())
        t["schedule_file"] = os.fspath(folder / f"{k:03d}-{name}.json")
    return folder


def save_schedule(task: dict, schedule) -> None:
    """Write ``schedule`` where :func:`plan_schedules` said (atomically); note its digest in ``task``."""
    if task.get("schedule_file") and schedule is not None:
        schedule.save(task["schedule_file"])
        task.update(digest=schedule.digest, stopped=schedule.stopped)


def write_schedule_index(folder: Path | None, results: list[dict], labels: tuple[str, ...],
                         shown: list[dict] | None = None) -> None:
    """``folder/runs.json``: per run its file, labels, digest and how it ended; ``row``: the run is one
    a table row shows (``shown``: those results)."""
    if folder is None:
        return
    index = []
    for r in results:
        entry = {"file": Path(r["schedule_file"]).name if r.get("digest") else None,
                 **{k: _label(r, k) for k in labels},
                 "digest": r.get("digest"), "stopped": r.get("stopped")}
        if shown is not None:
            entry["row"] = any(r is x for x in shown)
        index.append(entry)
    write_atomically(folder / INDEX, json.dumps(index, indent=1) + "\n")


def replay_hint(res: ExperimentResult) -> str:
    """How to replay a saved run (the first table row's, where the index says which)."""
    index = [e for e in json.loads((res.schedules / INDEX).read_text()) if e["file"]]
    if not index:
        return f"no schedule to save in {res.schedules}: every run raised before it ended"
    pick = next((e for e in index if e.get("row")), index[0])
    return (f"wrote {len(index)} schedules to {res.schedules} ({INDEX} says which run each holds); replay one "
            f"with: python -m asyncproof replay {res.schedules / pick['file']}")


# ------------------------------------------------------------------------------------------
# tuning the step size, and reading the table


def final(g2: np.ndarray) -> float:
    """The end level of a curve: geometric mean of its last END_POINTS values (inf if any is not finite).

    One value at ``H`` alone would let a single oscillation decide the tuning.
    """
    tail = np.asarray(g2[-END_POINTS:], dtype=np.float64)
    if not np.all(np.isfinite(tail)):
        return math.inf
    return float(np.exp(np.mean(np.log(np.maximum(tail, 1e-300)))))


def score(final_: float, ttt: float | None, by: str) -> tuple:
    """Smaller is better.  ``by = "final"``: the end level; ``"time"``: time to target, then end level."""
    if by == "final":
        return (final_,)
    return (ttt is None, ttt if ttt is not None else 0.0, final_)


def tune(results: list[dict], by: str) -> dict:
    """``{(setting, method): best run}`` by :func:`score` (ties: the smaller γ)."""
    best: dict = {}
    for r in results:
        key = (r["setting"], r["method"])
        cand = (score(final(r["g2"]), r["time_to_target"], by), r["params"]["gamma"])
        if key not in best or cand < best[key][0]:
            best[key] = (cand, r)
    return {k: v[1] for k, v in best.items()}


def row_score(row: dict, by: str) -> tuple:
    return score(row["final_grad_norm2"], row["time_to_target"], by)


def winners(rows: list[dict], settings: list[str], by: str) -> dict[str, str]:
    """The best method of each setting, computed from the table's rows."""
    out = {}
    for s in settings:
        mine = [r for r in rows if r["setting"] == s]
        out[s] = min(mine, key=lambda r: row_score(r, by))["method"]
    return out


def first_to_target(rows: list[dict], settings: list[str]) -> dict[str, str | None]:
    """The method that reached the target first in each setting (None if none did; ties: table order)."""
    out = {}
    for s in settings:
        hits = [r for r in rows if r["setting"] == s and r["time_to_target"] is not None]
        out[s] = min(hits, key=lambda r: r["time_to_target"])["method"] if hits else None
    return out


def settings_of(rows: list[dict]) -> list[str]:
    return list(dict.fromkeys(r["setting"] for r in rows))


def methods_of(rows: list[dict]) -> list[str]:
    return list(dict.fromkeys(r["method"] for r in rows))


def sweep(label: str, settings: dict, methods: dict, gammas: list[float], task_of: Callable, tune_by: str,
          jobs: int, log, schedules: str | os.PathLike | None) -> tuple[list[dict], dict, int, Path | None]:
    """Run every (setting, method, γ), tune γ per (setting, method): the table's rows, the curves, the
    number of runs and the folder of their schedules (None unless ``schedules``)."""
    tasks = [task_of(s, method, alg, gamma) for s in settings for method, alg in methods.items() for gamma in gammas]
    folder = plan_schedules(tasks, schedules, ("setting", "method", "gamma"))
    log(f"[{label}] {len(tasks)} runs: {len(settings)} settings x {len(methods)} methods x {len(gammas)} step sizes "
        f"on {jobs} process{'es' if jobs > 1 else ''}")

    def note(done: int, r: dict, elapsed: float) -> None:
        log(f"[{label}] {done}/{len(tasks)} {r['setting']}: {r['method']} gamma={r['params']['gamma']:g} "
            f"-> ||grad f||^2 at H = {fmt(float(r['g2'][-1]))}, {r['iterations']} iterations "
            f"({r['wall']:.1f} s; {elapsed:.0f} s elapsed)")

    results = run_tasks(tasks, jobs, timed_task, note)
    best = tune(results, tune_by)
    write_schedule_index(folder, results, ("setting", "method", "gamma"), shown=list(best.values()))
    rows, curves = [], {}
    for s in settings:
        curves[s] = {}
        for method in methods:
            r = best[(s, method)]
            g2 = r["g2"]
            rows.append({"setting": s, "method": method, "gamma": r["params"]["gamma"],
                         "time_to_target": r["time_to_target"],
                         "final_grad_norm2": final(g2), "final_loss": float(r["f"][-1]),
                         "iterations": r["iterations"]})
            curves[s][f"{method} (γ={r['params']['gamma']:g})"] = (r["grid"], g2)
    return rows, curves, len(tasks), folder


# ------------------------------------------------------------------------------------------
# figure and files


def timed_figure(res: ExperimentResult, out: Path, marks: dict | None = None) -> Path:
    """One panel per setting of ``res.curves``; the target as a dotted horizontal line.

    ``marks``: ``{panel: (t, label)}``, a labelled vertical dotted line at simulated time
    ``t`` in that panel.  A mark beyond the curves' last time puts the time axis on a
    log scale, from the first positive evaluation time to past the mark, so that the
    curves and the mark can be read in one panel.
    """
    from .. import plots
    panels, target = res.curves, res.config["target"]
    keys = list(panels)
    cols = 2 if len(keys) > 1 else 1
    rows = math.ceil(len(keys) / cols)
    fig = plots._figure(6.4 * cols, 4.0 * rows + 0.5)
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    for ax, key in zip(axes, keys):
        curves = plots._check_curves(panels[key])
        mark = (marks or {}).get(key)
        xs = np.concatenate([np.asarray(t, dtype=np.float64) for t, _ in curves.values()])
        log_x = mark is not None and mark[0] > float(np.nanmax(xs))
        plots._draw_curves(ax, curves, "simulated time" + (" (log scale)" if log_x else ""), "||∇f(x)||²",
                           logy=True)
        ax.axhline(target, color="0.4", ls=":", lw=1.0)
        if mark is not None:
            t, label = mark
            if log_x:
                ax.set_xscale("log")
                ax.set_xlim(float(np.min(xs[xs > 0])) * 0.8, t * 1.6)
            ax.axvline(t, color="0.15", ls=":", lw=1.4)
            ax.text(t, 0.97, label + " ", transform=ax.get_xaxis_transform(), rotation=90, ha="right", va="top",
                    fontsize=8, color="0.15")
        ax.set_title(key, loc="left", fontsize=10)
    for ax in axes[len(keys):]:
        ax.set_axis_off()
    fig.suptitle(res.title, x=0.01, ha="left", fontsize=11)
    fig.tight_layout()
    return plots._save(fig, plots._check_path(out / f"{res.name}.png"))


def write_markdown(res: ExperimentResult, out: Path, command: str, notes: list[str]) -> Path:
    path = out / f"{res.name}.md"
    lines = [f"# {res.title}", "", f"Reproduce: `{command}`", "", f"![{res.name}]({res.name}.png)", ""]
    lines += [f"* {n}" for n in notes]
    lines += ["", res.table_markdown(), "## Verdict", ""]
    lines += [f"* {v}" for v in res.verdicts]
    lines += ["", f"({len(res.rows)} rows from {res.config.get('runs', '?')} runs, "
                  f"{'quick' if res.config.get('quick') else 'full'} mode; the file is the same on every run of the "
                  f"command)", ""]
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_atomically(path, "\n".join(lines))


def finish(res: ExperimentResult, out: Path, notes: list[str], command: str, t_start: float, log,
           draw: Callable[[ExperimentResult, Path], Path]) -> ExperimentResult:
    """Draw the figure (``draw(res, out)``), write the Markdown file, log where they went."""
    out.mkdir(parents=True, exist_ok=True)
    res.png = draw(res, out)
    res.seconds = time.monotonic() - t_start
    res.markdown = write_markdown(res, out, command, notes)
    log(f"[{res.name}] done in {res.seconds:.0f} s: {res.png}, {res.markdown}")
    if res.schedules is not None:
        log(f"[{res.name}] {replay_hint(res)}")
    return res


def command(name: str, out: Path, quick: bool, data: str | None, seed: int) -> str:
    return (f"python -m asyncproof.experiments {name} --out {os.fspath(out)}" + (" --quick" if quick else "")
            + (f" --data {data}" if data else "") + (f" --seed {seed}" if seed else ""))


def measurement_notes(gammas, tune_by: str, horizon: float, target: float, g0: float, points: int) -> list[str]:
    how = ("the smallest final ||∇f||²" if tune_by == "final"
           else "the earliest time to target (then the smallest final ||∇f||²)")
    return [f"step sizes tuned over {{{', '.join(f'{g:g}' for g in gammas)}}} per (setting, method), by {how}; "
            f"ties go to the smaller γ",
            f"the server's model is evaluated at {points} evenly spaced simulated times in [0, H], H = {horizon:g} "
            f"(the last iterate recorded at a step whose clock is <= t); final_grad_norm2 is the geometric mean of "
            f"||∇f||² at the last {END_POINTS} of them, final_loss is f at H, iterations the server's updates by H",
            f"target: ||∇f(x)||² <= {target:.3g} ({target / g0:.0e} × ||∇f(x_0)||²); time_to_target is the simulated "
            f"time at which the server's model first gets below it: the first evaluation time below it, refined to "
            f"the first iterate below it since the evaluation time before"]
