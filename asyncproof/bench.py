"""``asyncproof bench``: fast HOGWILD! against its roofline, the C++ original and the reference.

Issue 12's workload: a sparse SVM on the ``hogwild-bench`` data (n = 400,000 samples, d = 50,000
features, 40 distinct standard normal nonzeros per sample, labels from a random w*), the original
HOGWILD! (v03a) update (``rule="v03a"``: if y·s < 1 then w_u += γ y z_u; then always
w_u *= 1 − γμ/deg_u), constant step γ = 0.05, 5 epochs (T = 5n samples), each thread taking its
slice of one data order per epoch (``assignment="slices"``, the C++ original's rule).  One run of
the command measures, side by side (``docs/fast.md``, "Benchmarks", says what each row means):

* the roofline loop (:mod:`asyncproof.fast.roofline`) and HOGWILD! racy, atomic and locked, at 1 .. N
  threads, with the ratios the issue's targets are about;
* serially-equivalent SGD (CYCLADES) at the same thread counts (its batch B = d / (2 nnz²));
* the recorder on and off, on a run whose log fits in memory;
* the reference on a prefix of the same run, as a throughput ratio;
* the first call of each kernel (compiling it, or loading it from numba's cache) and the setup of a
  run, apart from the runs.

Each throughput is the median of ``reps`` repetitions, the repetitions interleaved (every row once,
then every row again) so that a burst of load on a shared machine spreads over the rows.  An
*update* is one coordinate update (a sample updates the coordinates of its support); *samples/s*
counts samples.  The C++ original's figures are samples per second: its "updates" are one
example's update each (``docs/fast.md`` says why that is the reading).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import Callable

from .reference.adversaries import SeededRandom

#: the C++ original (HOGWILD! v03a) on this 2-core machine class, samples per second by threads (issue 12)
CPP_SAMPLES_PER_S = {1: 1.85e6, 2: 3.19e6}
CYCLADES = "serially-equivalent-sgd"
#: the rows over the data in its stored order (``assignment="stored"``): the rows arrive in sequence
STORED_ROOF = "roofline loop, stored order"
STORED_RACY = "HOGWILD! racy, stored order"


@dataclass(frozen=True)
class Workload:
    """What one bench runs: the data (``hogwild-bench``), the rule, the run, and the sizes of the parts
    that cannot run the whole of it (the reference's prefix, the recorded run)."""
    m: int = 400_000
    d: int = 50_000
    nnz: int = 40
    epochs: int = 5
    gamma: float = 0.05
    mu: float = 1.0
    seed: int = 0
    reps: int = 3
    reference_T: int = 100          # the reference's prefix: seconds of its engine
    record_T: int = 20_000          # the recorded run: ~2.4 M rows, ~400 MB at the end, checked below

    @property
    def T(self) -> int:
        return self.epochs * self.m

    def problem(self) -> dict:
        return {"name": "sparse-svm", "params": {"generator": "hogwild-bench", "m": self.m, "d": self.d,
                                                 "nnz": self.nnz, "seed": self.seed, "rule": "v03a", "mu": self.mu}}

    @property
    def batch(self) -> int:
        """CYCLADES's batch size B: half the size at which a batch's conflict graph gets a giant
        component (two samples meet with probability about nnz²/d; Pan et al. take B = (1 − ε) n/Δ)."""
        return max(1, self.d // (2 * self.nnz * self.nnz))


FULL = Workload()
#: seconds, for tests and CI: a twentieth of the samples, one epoch, one repetition
QUICK = Workload(m=20_000, epochs=1, reps=1, reference_T=20, record_T=2_000)


@dataclass
class Row:
    """One line of the table: a measurement at a thread count, its repetitions and its ratios."""
    measurement: str
    threads: int
    runs: list = field(default_factory=list)          # the stats of each repetition
    ratios: dict = field(default_factory=dict)
    note: str = ""

    def median(self, key: str) -> float | None:
        vals = [r[key] for r in self.runs if r.get(key) is not None]
        return statistics.median(vals) if vals else None

    @property
    def rate(self) -> float | None:
        return self.median("samples_per_s")

    def to_json(self) -> dict:
        return {"measurement": self.measurement, "threads": self.threads, "samples_per_s": self.rate,
                "updates_per_s": self.median("updates_per_s"), "cores": self._cores(), "ratios": self.ratios,
                "note": self.note, "runs": self.runs}

    def _cores(self) -> float | None:
        cores = [r["cpu_seconds"] / r["seconds"] for r in self.runs if r.get("cpu_seconds") and r.get("seconds")]
        return statistics.median(cores) if cores else None


@dataclass
class Target:
    target: str
    measured: float | None           # None: not measured (no such thread count)
    threshold: float
    text: str                        # the measured value as printed
    at_least: bool = True

    @property
    def passed(self) -> bool | None:
        if self.measured is None:
            return None
        return self.measured >= self.threshold if self.at_least else self.measured <= self.threshold


@dataclass
class Bench:
    workload: Workload
    threads: int
    quick: bool
    rows: list = field(default_factory=list)
    first_calls: dict = field(default_factory=dict)  # kernel -> (seconds, "compiled" | "loaded from cache")
    build_seconds: float = 0.0
    setup_seconds: float | None = None
    load_average: float | None = None
    record_T: int = 0
    targets: list = field(default_factory=list)

    def row(self, measurement: str, threads: int) -> Row | None:
        return next((r for r in self.rows if r.measurement == measurement and r.threads == threads), None)


def check_args(threads, epochs) -> None:
    """One-line errors for what the bench cannot run, before any work."""
    from .reference.errors import InputError
    if isinstance(threads, bool) or not isinstance(threads, int) or not 1 <= threads <= 256:
        raise InputError(f"--threads must be an integer in 1 .. 256, got {threads!r}")
    if isinstance(epochs, bool) or not isinstance(epochs, int) or not 1 <= epochs <= 25:
        raise InputError(f"--epochs must be an integer in 1 .. 25 (T = epochs x n samples), got {epochs!r}")


def _how(dispatcher) -> str:
    st = getattr(dispatcher, "stats", None)
    if st is None:
        return "not compiled (NUMBA_DISABLE_JIT)"
    return "compiled" if sum(st.cache_misses.values()) else "loaded from numba's cache"


@dataclass
class Stopwatch(SeededRandom):
    """The reference's random adversary, noting when its engine starts stepping and when it last chose:
    the reference's run without building its system (the supports of every sample) or its metrics."""
    started: float = 0.0
    last: float = 0.0

    def reset(self, engine) -> None:
        self.started = self.last = time.perf_counter()

    def choose(self, engine, events) -> int:
        self.last = time.perf_counter()
        return super().choose(engine, events)


def _per_second(stats: dict) -> dict:
    """A fast runner's statistics with samples/s and updates/s (from its counts where it gives none)."""
    s = stats.get("seconds") or 0.0
    for key, count in (("samples_per_s", "samples"), ("updates_per_s", "updates")):
        if stats.get(key) is None and stats.get(count) is not None and s > 0:
            stats[key] = stats[count] / s
    stats.pop("lost_updates", None)
    return stats


def run(threads: int | None = None, epochs: int | None = None, quick: bool = False,
        say: Callable[[str], None] = lambda s: None) -> Bench:
    """Measure everything (the module docstring); ``say`` gets a progress line as each part starts."""
    import numpy as np

    from .fast.roofline import gather_scatter, run_roofline
    from .fast.run import run_fast
    from .fast.shared_memory import hogwild as H
    from .reference.registry import memory_limit
    from .reference.schedule import _problem_from, run_algorithm

    threads = (os.cpu_count() or 1) if threads is None else threads
    base = QUICK if quick else FULL
    check_args(threads, base.epochs if epochs is None else epochs)
    w = base if epochs is None else Workload(**{**asdict(base), "epochs": epochs})
    b = Bench(workload=w, threads=threads, quick=quick)
    b.load_average = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    say(f"building the workload: sparse-svm hogwild-bench, n = {w.m:,}, d = {w.d:,}, {w.nnz} nonzeros per sample")
    t0 = time.perf_counter()
    prob = _problem_from(w.problem())
    b.build_seconds = time.perf_counter() - t0
    params = {"T": w.T, "gamma": w.gamma}
    timeout = 600.0

    say("first calls: each kernel compiled, or loaded from numba's cache, once")
    st = run_roofline(prob, threads, w.gamma, 1, w.seed)
    b.first_calls["roofline loop"] = (st["first_call_seconds"], _how(gather_scatter))
    st = run_fast("hogwild-racy", prob, {"T": threads, "gamma": w.gamma}, w.seed, threads=1, record=False).stats
    b.first_calls["HOGWILD! worker (every mode)"] = (st["first_call_seconds"], _how(H.work))
    st = run_fast(CYCLADES, prob, {"T": threads, "gamma": w.gamma, "batch": w.batch}, w.seed, threads=1,
                  record=False).stats
    b.first_calls["serially-equivalent planner and worker"] = (st["first_call_seconds"], "")
    t0 = time.perf_counter()
    prob.rule_step(np.zeros(prob.d), 0, w.gamma)
    prob.sample_grad(np.zeros(prob.d), 0)
    b.first_calls["reference kernels"] = (time.perf_counter() - t0, "")

    per_sample = 1 + H.ROWS_PER_COORD * w.nnz
    fits = int(memory_limit() // (3 * per_sample * H.LOG_DTYPE.itemsize))
    b.record_T = max(1, min(w.T, w.record_T, fits))
    counts = range(1, threads + 1)

    def fast(alg, t, T=None, record=False, assignment="slices", extra=None):
        return lambda: _per_second(run_fast(alg, prob, {**params, "T": T or w.T, **(extra or {})}, w.seed,
                                            threads=t, record=record, timeout=timeout, assignment=assignment).stats)

    plan: list[tuple[str, int, Callable[[], dict]]] = []
    plan += [("roofline loop", t, lambda t=t: run_roofline(prob, w.T, w.gamma, t, w.seed, timeout)) for t in counts]
    for mode in ("racy", "atomic", "lock"):
        plan += [(f"HOGWILD! {mode}", t, fast(f"hogwild-{mode}", t)) for t in counts]
    plan += [(STORED_ROOF, t, lambda t=t: run_roofline(prob, w.T, w.gamma, t, w.seed, timeout, "stored"))
             for t in counts]
    plan += [(STORED_RACY, t, fast("hogwild-racy", t, assignment="stored")) for t in counts]
    plan += [("serially-equivalent", t, fast(CYCLADES, t, assignment="keyed", extra={"batch": w.batch}))
             for t in counts]
    rec = f"(racy, T = {b.record_T:,})"
    plan += [(f"recorder off {rec}", threads, fast("hogwild-racy", threads, T=b.record_T)),
             (f"recorder on {rec}", threads, fast("hogwild-racy", threads, T=b.record_T, record=True)),
             ("HOGWILD! racy, keyed draw", threads, fast("hogwild-racy", threads, assignment="keyed"))]
    for name, t, _ in plan:
        b.rows.append(Row(name, t))
    n = len(plan) * w.reps + 1
    i = 0
    for rep in range(w.reps):
        for name, t, measure in plan:
            i += 1
            say(f"[{i}/{n}] {name}, {t} thread{'s' if t > 1 else ''}"
                + (f" (repetition {rep + 1} of {w.reps})" if w.reps > 1 else ""))
            b.row(name, t).runs.append(measure())

    i += 1
    say(f"[{i}/{n}] reference hogwild-racy, {threads} cores, the first {w.reference_T} samples (its engine, "
        f"one event at a time)")
    watch = Stopwatch(seed=w.seed)
    run_algorithm("hogwild-racy", problem=prob, params={"T": w.reference_T, "gamma": w.gamma, "n": threads},
                  seed=w.seed, adversary=watch)
    seconds = watch.last - watch.started
    ref = Row(f"reference hogwild-racy (T = {w.reference_T})", threads)
    ref.runs.append({"samples": w.reference_T, "seconds": seconds,
                     "samples_per_s": w.reference_T / seconds if seconds > 0 else None,
                     "updates_per_s": w.reference_T * w.nnz / seconds if seconds > 0 else None})
    ref.note = "its engine's steps only (not building the system or the metrics); one run"
    b.rows.append(ref)
    setups = [r["setup_seconds"] for r in b.row("HOGWILD! racy", threads).runs]
    b.setup_seconds = statistics.median(setups)
    _ratios(b)
    b.targets = _targets(b)
    return b


def _ratios(b: Bench) -> None:
    racy1 = b.row("HOGWILD! racy", 1).rate
    for t in range(1, b.threads + 1):
        roof, racy = b.row("roofline loop", t).rate, b.row("HOGWILD! racy", t)
        racy.ratios["roofline"] = racy.rate / roof
        racy.ratios["efficiency"] = racy.rate / (t * racy1)
        if t in CPP_SAMPLES_PER_S:
            racy.ratios["cpp"] = racy.rate / CPP_SAMPLES_PER_S[t]
        for name in ("HOGWILD! atomic", "HOGWILD! lock", "serially-equivalent"):
            r = b.row(name, t)
            if r is not None and r.rate:
                r.ratios["racy"] = r.rate / racy.rate
        b.row("roofline loop", t).ratios["efficiency"] = roof / (t * b.row("roofline loop", 1).rate)
        stored = b.row(STORED_RACY, t)
        stored.ratios["roofline"] = stored.rate / b.row(STORED_ROOF, t).rate
        stored.ratios["efficiency"] = stored.rate / (t * b.row(STORED_RACY, 1).rate)
        if t in CPP_SAMPLES_PER_S:
            stored.ratios["cpp"] = stored.rate / CPP_SAMPLES_PER_S[t]
    rec = next(r for r in b.rows if r.measurement.startswith("recorder on"))
    off = next(r for r in b.rows if r.measurement.startswith("recorder off"))
    rec.ratios["recorder_off"] = rec.rate / off.rate
    ref = b.rows[-1]
    keyed = b.row("HOGWILD! racy, keyed draw", b.threads)
    if ref.rate:
        ref.ratios["fast_over_reference"] = keyed.rate / ref.rate


def _targets(b: Bench) -> list[Target]:
    out = []
    for order, name in (("shuffled", "HOGWILD! racy"), ("stored", STORED_RACY)):
        for t, cpp in CPP_SAMPLES_PER_S.items():
            r = b.row(name, t)
            v = r.ratios["cpp"] if r else None
            out.append(Target(f"racy >= 1.1x the C++ original on {t} thread{'s' if t > 1 else ''} "
                              f"({cpp / 1e6:.2f} M samples/s), {order} order", v, 1.1,
                              f"{v:.2f}x ({r.rate / 1e6:.2f} M/s)" if r else f"not measured (--threads {b.threads})"))
    worst = max(range(1, b.threads + 1), key=lambda t: 1 / b.row("HOGWILD! racy", t).ratios["roofline"])
    gap = 1 / b.row("HOGWILD! racy", worst).ratios["roofline"]
    out.append(Target("racy within 1.2x of the roofline loop (its worst thread count)", gap, 1.2,
                      f"roofline {gap:.2f}x racy at {worst} thread{'s' if worst > 1 else ''}", at_least=False))
    r2 = b.row("HOGWILD! racy", 2)
    eff = r2.ratios["efficiency"] if r2 else None
    out.append(Target("parallel efficiency thr(2) / (2 thr(1)) >= 85%", eff, 0.85,
                      f"{eff:.0%}" if r2 else f"not measured (--threads {b.threads})"))
    for name, share in (("HOGWILD! atomic", 0.6), ("serially-equivalent", 0.7)):
        rows = [b.row(name, t) for t in range(1, b.threads + 1)]
        low = min(rows, key=lambda r: r.ratios["racy"])
        out.append(Target(f"{name.removeprefix('HOGWILD! ')} >= {share:.0%} of racy (every thread count)",
                          low.ratios["racy"], share, f"{low.ratios['racy']:.0%} at {low.threads} "
                                                     f"thread{'s' if low.threads > 1 else ''} (the lowest)"))
    ratio = b.rows[-1].ratios.get("fast_over_reference")
    out.append(Target("fast >= 1000x the reference (throughput, same problem and parameters)", ratio, 1000.0,
                      f"{ratio:,.0f}x" if ratio else "not measured"))
    return out


# --------------------------------------------------------------------------------------------
# the report


def _si(v: float | None) -> str:
    if v is None:
        return "-"
    for div, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= div:
            return f"{v / div:.3g} {unit}"
    return f"{v:.3g}"


def _vs(r: Row) -> str:
    q = r.ratios
    parts = []
    if "roofline" in q:
        parts.append(f"{q['roofline']:.2f}x roofline")
    if "cpp" in q:
        parts.append(f"{q['cpp']:.2f}x C++ ({CPP_SAMPLES_PER_S[r.threads] / 1e6:.2f} M)")
    if "efficiency" in q and r.threads > 1:
        parts.append(f"efficiency {q['efficiency']:.0%}")
    if "racy" in q:
        parts.append(f"{q['racy']:.2f}x racy")
    if "recorder_off" in q:
        parts.append(f"{q['recorder_off']:.2f}x recorder off")
    if "fast_over_reference" in q:
        parts.append(f"fast (keyed) = {q['fast_over_reference']:,.0f}x reference")
    return "; ".join(parts) or "-"


def table(b: Bench) -> str:
    """The report: the workload, one table, the first calls and setup, the targets block."""
    w = b.workload
    lines = [f"asyncproof bench{' --quick' if b.quick else ''}: sparse SVM, hogwild-bench data (n = {w.m:,} samples, "
             f"d = {w.d:,} features, {w.nnz} nonzeros per sample), rule v03a (mu = {w.mu:g}), gamma = {w.gamma:g}, "
             f"T = {w.T:,} samples ({w.epochs} epoch{'s' if w.epochs > 1 else ''}), each thread its slice of a shuffled "
             f"data order (of the stored order where a row says so); "
             f"median of {w.reps} repetition{'s' if w.reps > 1 else ''}",
             f"machine: {os.cpu_count()} CPUs, load average {b.load_average:.2f} at the start"
             if b.load_average is not None else f"machine: {os.cpu_count()} CPUs",
             f"units: an update is one coordinate update ({w.nnz} per sample); the C++ original's figures are "
             f"samples/s (its 'updates' are one example's update each); cores = CPU time / wall clock",
             ""]
    head = ("measurement", "threads", "samples/s", "updates/s", "cores", "vs")
    body = []
    for r in b.rows:
        body.append((r.measurement, str(r.threads), _si(r.rate), _si(r.median("updates_per_s")),
                     f"{r._cores():.2f}" if r._cores() is not None else "-", _vs(r)))
    widths = [max(len(row[c]) for row in [head, *body]) for c in range(len(head) - 1)]
    for row in [head, *body]:
        lines.append("  ".join(cell.ljust(wd) for cell, wd in zip(row, widths)) + "  " + row[-1])
    lines.append("")
    lines.append("first calls (apart from the runs): " + "; ".join(
        f"{k} {v[0]:.2f} s" + (f" ({v[1]})" if v[1] else "") for k, v in b.first_calls.items()))
    lines.append(f"setup of a {w.T:,}-sample run (supports, draws, buffers; median): {b.setup_seconds:.2f} s; "
                 f"building the problem: {b.build_seconds:.1f} s")
    lines.append(f"recorder: on a run of T = {b.record_T:,} samples, so that its log (up to "
                 f"{1 + 3 * w.nnz} rows per sample) fits in memory")
    lines.append(f"reference: {b.rows[-1].note}; the ratio is of throughputs on the same problem and parameters")
    lines.append("")
    lines.append("targets (issue 12)" + (" -- on the --quick workload, not the issue's" if b.quick else ""))
    tw = max(len(t.target) for t in b.targets)
    vw = max(len(t.text) for t in b.targets)
    for t in b.targets:
        mark = {True: "pass", False: "GAP", None: "-"}[t.passed]
        lines.append(f"  {t.target.ljust(tw)}  {t.text.ljust(vw)}  {mark}")
    return "\n".join(lines)


def to_json(b: Bench, command: str) -> dict:
    import platform
    return {"command": command, "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "machine": {"cpus": os.cpu_count(), "load_average": b.load_average, "platform": platform.platform(),
                        "python": platform.python_version()},
            "workload": {**asdict(b.workload), "T": b.workload.T, "rule": "v03a", "assignment": "slices",
                         "cyclades_batch": b.workload.batch},
            "threads": b.threads, "quick": b.quick,
            "units": {"updates_per_s": "coordinate updates per second", "samples_per_s": "samples per second",
                      "cpp": "the C++ original's figures, read as samples per second",
                      "cores": "the threads' CPU time over the wall clock"},
            "cpp_samples_per_s": {str(k): v for k, v in CPP_SAMPLES_PER_S.items()},
            "rows": [r.to_json() for r in b.rows],
            "first_call_seconds": {k: v[0] for k, v in b.first_calls.items()},
            "setup_seconds": b.setup_seconds, "build_seconds": b.build_seconds, "record_T": b.record_T,
            "targets": [{"target": t.target, "measured": t.measured, "threshold": t.threshold,
                         "at_least": t.at_least, "passed": t.passed, "text": t.text} for t in b.targets]}


def progress(line: str) -> None:
    print(f"bench: {line}", file=sys.stderr, flush=True)
