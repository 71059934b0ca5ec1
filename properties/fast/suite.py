"""``asyncproof verify --fast``: the guarantee checkers on the traces of real runs on threads.

For each fast algorithm (default: every one of :func:`~asyncproof.fast.run.fast_algorithms`), each
thread count (1 .. N, then an oversubscribed count: twice the cores, at least 4) and a few seeds,
with and without injected stalls (its suite's stall step; two threads or more), the suite

1. runs it on threads, recorded, on a small crowded problem (conflicts are common);
2. checks the record (:mod:`.registry`: its suite's checks; for a replayable run, the reference run
   rebuilt through the recorded orders, bit for bit, and every reference guarantee of the algorithm
   on it); a reference guarantee violated on a rebuilt run is saved as a counterexample under
   ``failures`` before it is reported;
3. measures whether the row reached the dangerous case (samples in flight at once, writes landing
   between a sample's read and its write, a lock waited for); a stalled row that did not, after a
   few more seeds, is *vacuous* and fails;

then plants each declared bug (a named step replaced): it must be caught, and one that maps to a
broken variant of the reference is rebuilt as that variant, whose run must violate the reference
guarantee that catches the variant there: that schedule is saved under ``failures/fast/``, named
as the reference's counterexamples of broken variants are, and re-checked by replaying it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ...reference.errors import InputError, PropertyViolation
from ..capture import FailureCapture
from ..guarantees import crash_message, get_guarantee, guarantees, recheck
from .registry import FastSuite, Planted, suite_of


@dataclass(frozen=True)
class FastBudget:
    seeds: int                      # runs per row
    samples: int                    # T of a run checked from its rows
    replayed_samples: int           # T of a run rebuilt through the reference (a thousand times slower)
    retries: int                    # more seeds for a stalled row before it is called vacuous


BUDGETS = {"quick": FastBudget(2, 2000, 300, 3), "ci": FastBudget(3, 3000, 600, 3), "deep": FastBudget(5, 3000, 1000, 5)}


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:                   # not Linux
        return os.cpu_count() or 1


def thread_counts(n: int | None = None) -> list[int]:
    """1 .. n (default: the cores), then an oversubscribed count: twice the cores, at least 4."""
    n = cores() if n is None else n
    return sorted(set(range(1, n + 1)) | {max(4, 2 * cores())})


# --------------------------------------------------------------------------------------------
# one run


@dataclass
class RunOutcome:
    seed: int
    checks: list = field(default_factory=list)           # (check name, None or what broke)
    measures: dict = field(default_factory=dict)
    not_applicable: list = field(default_factory=list)   # reference guarantees whose premise the run lacks
    counterexamples: list = field(default_factory=list)  # (guarantee, path) of violations saved

    @property
    def failures(self) -> list:
        return [(n, m) for n, m in self.checks if m]


def _safe(check: Callable, arg, name: str) -> str | None:
    try:
        return check(arg)
    except Exception as e:
        return crash_message(e, f"the check {name}")


def evaluate(suite: FastSuite, run, failures: str | Path | None = None, seed: int = 0) -> RunOutcome:
    """Every check of ``run``: its suite's, and for a replayable run the rebuild and the reference's
    guarantees of its algorithm; with ``failures``, a reference guarantee violated on the rebuilt
    trace is saved there as a counterexample first."""
    out = RunOutcome(seed)
    rebuilt = None
    if run.replayable:
        try:
            rebuilt = run.rebuild()
        except InputError as e:
            out.checks.append(("rebuild", str(e)))
        else:
            out.checks.append(("rebuild", None if rebuilt.same_x else
                               "the reference run through the recorded orders ends at another model"))
    for c in suite.checks:
        out.checks.append((c.name, _safe(c.check, run, c.name)))
    hard = {}
    if rebuilt is not None and rebuilt.same_x:
        result = rebuilt.result
        for g in guarantees():
            if run.algorithm not in g.algorithms:
                continue
            if g.applies is not None and not g.applies(result):
                out.not_applicable.append(g.name)
                continue
            msg = _safe(g.check, result, g.name)
            out.checks.append((g.name, msg))
            hard[g.name] = bool(_safe(g.hard, result, g.name) is True)
            if msg and failures is not None:
                try:
                    FailureCapture(f"{g.name}.{run.algorithm}", failures).fail(
                        result.schedule, msg, {"algorithm_under_test": run.algorithm})
                except PropertyViolation as v:
                    out.counterexamples.append((g.name, v.path))
    if suite.measure is not None:
        out.measures = dict(suite.measure(run, rebuilt))
    out.measures["hard"] = hard
    return out


def _run(algorithm: str, problem: dict | None, T: int, seed: int, threads: int, steps: dict | None):
    from ...fast.run import run_fast
    kw = {"steps": steps} if steps else {}
    return run_fast(algorithm, problem=problem, params={"T": T}, seed=seed, threads=threads, **kw)


def _problem(spec: dict | None, algorithm: str):
    from ...reference.problems import make_problem
    from ...reference.registry import get_algorithm
    spec = spec or {"name": get_algorithm(algorithm).default_problem}
    return make_problem(spec["name"], params=dict(spec.get("params", {})))


# --------------------------------------------------------------------------------------------
# rows


@dataclass
class Row:
    algorithm: str
    threads: int
    stalls: bool
    suite: FastSuite
    outcomes: list = field(default_factory=list)
    errors: list = field(default_factory=list)            # runs that did not finish (FastRunError)
    retried: int = 0

    @property
    def checked(self) -> int:
        return sum(len(o.checks) for o in self.outcomes)

    @property
    def passed(self) -> int:
        return sum(1 for o in self.outcomes for _, m in o.checks if not m)

    def measures(self) -> dict:
        """The largest of each measurement over the row's runs; lost updates summed; per reference
        guarantee, the runs that reached its hard case."""
        agg: dict = {"hard": {}}
        for o in self.outcomes:
            for k, v in o.measures.items():
                if k == "hard":
                    for g, h in v.items():
                        agg["hard"][g] = agg["hard"].get(g, 0) + int(h)
                elif v is not None:
                    agg[k] = agg.get(k, 0) + v if k == "lost_updates" else max(agg.get(k, 0), v)
        return agg

    def missing(self) -> str | None:
        """What the row's runs did not reach: None when they reached the dangerous case."""
        m = self.measures()
        if self.suite.dangerous is not None:
            return self.suite.dangerous(m)
        return None if any(m["hard"].values()) else "no reference guarantee's hard case was reached"

    @property
    def demands_danger(self) -> bool:
        return self.stalls and self.threads >= 2

    @property
    def vacuous(self) -> bool:
        return self.demands_danger and bool(self.outcomes) and self.missing() is not None

    @property
    def ok(self) -> bool:
        return not self.errors and self.passed == self.checked and not self.vacuous

    def danger_text(self) -> str:
        if self.threads == 1:
            return "- (one thread: serial)"
        missing = self.missing()
        if missing is None:
            return "yes" + (f" (after {self.retried} more seeds)" if self.retried else "")
        return f"VACUOUS: {missing}" if self.demands_danger else f"no: {missing} (not required without stalls)"


def run_row(suite: FastSuite, threads: int, stalls: bool, budget: FastBudget, failures: Path | None) -> Row:
    row = Row(suite.algorithm, threads, stalls, suite)
    problem = _problem(suite.problem, suite.algorithm) if stalls else None
    T = budget.replayed_samples if suite.replayed else budget.samples
    seeds = list(range(budget.seeds))
    extra = iter(range(budget.seeds, budget.seeds + budget.retries))
    while seeds:
        seed = seeds.pop(0)
        steps = suite.stalls(problem, seed) if stalls else None
        from ...fast.run import FastRunError
        try:
            run = _run(suite.algorithm, suite.problem, T, seed, threads, steps)
        except FastRunError as e:
            row.errors.append(f"seed {seed}: {e}")
            continue
        row.outcomes.append(evaluate(suite, run, failures, seed))
        if not seeds and row.vacuous:                       # robust: a few more seeds before "vacuous"
            nxt = next(extra, None)
            if nxt is not None:
                seeds.append(nxt)
                row.retried += 1
    return row


# --------------------------------------------------------------------------------------------
# planted bugs


@dataclass
class PlantedRow:
    algorithm: str
    planted: Planted
    tries: int = 0
    caught_at: int | None = None
    caught_by: str = ""
    counterexample: str | None = None
    replays: bool | None = None
    detail: str = ""

    @property
    def caught(self) -> bool:
        return self.caught_at is not None

    @property
    def ok(self) -> bool:
        return self.caught and (self.planted.variant is None or bool(self.replays))


def plant(suite: FastSuite, p: Planted, budget: FastBudget, failures: Path | None) -> PlantedRow:
    """Run ``suite``'s algorithm with the bug ``p`` planted (and the stalls) until its checks catch it;
    for a bug with a reference variant, until the run rebuilt as the variant violates the variant's
    guarantee: saved under ``failures/fast/``, then replayed and re-checked."""
    from ...fast.run import FastRunError
    from ...reference.schedule import load_schedule

    row = PlantedRow(suite.algorithm, p)
    problem = _problem(suite.problem, suite.algorithm)
    T = budget.replayed_samples if suite.replayed else budget.samples
    for seed in range(p.tries):
        row.tries = seed + 1
        steps = {**(suite.stalls(problem, seed) if suite.stalls else {}), **p.steps(problem, seed)}
        run = None
        try:
            run = _run(suite.algorithm, suite.problem, T, seed, p.threads, steps)
        except FastRunError as e:                  # the bug stopped the run: caught, nothing to rebuild
            caught = [("run", str(e))]
        except Exception as e:                     # the planted steps do not fit the kernel: say so, once
            row.detail = crash_message(e, f"the run with {p.name} planted")
            return row
        else:
            caught = evaluate(suite, run).failures
        if not caught:
            continue
        if row.caught_at is None:
            row.caught_at, row.caught_by = seed + 1, f"{caught[0][0]}: {caught[0][1]}"
        if p.variant is None:
            row.detail = f"no counterexample: {p.no_variant}"
            return row
        if run is None:
            continue
        try:
            rb = p.rebuild_as(run, p.variant)
        except InputError as e:
            row.detail = f"run {seed + 1} rebuilt as {p.variant}: {e}"
            continue
        if not rb.same_x:
            row.detail = f"run {seed + 1} rebuilt as {p.variant} ends at another model"
            continue
        g = get_guarantee(p.guarantee)
        msg = _safe(g.check, rb.result, g.name)
        if not msg:
            row.detail = f"run {seed + 1} rebuilt as {p.variant}: {g.name} holds on it"
            continue
        where = Path(failures if failures is not None else "failures") / "fast"
        made = (f"{suite.algorithm} --fast, {p.threads} threads, seed {seed}, T = {T}, with stalls and "
                f"{', '.join(p.steps(problem, seed))} replaced ({p.name}); rebuilt as {p.variant}")
        try:
            FailureCapture(f"{g.name}.{p.variant}", where).fail(
                rb.result.schedule, msg, {"algorithm_under_test": p.variant, "recorded_from": made})
        except PropertyViolation as v:
            row.counterexample = v.path
        row.replays, row.detail = recheck(load_schedule(row.counterexample))
        return row
    return row


# --------------------------------------------------------------------------------------------
# the report


@dataclass
class FastReport:
    budget: str
    threads: list
    rows: list = field(default_factory=list)
    planted: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.rows) and all(p.ok for p in self.planted)

    def table(self) -> str:
        head = ("fast algorithm", "threads", "stalls", "runs", "checks passed", "in flight", "τ", "delay",
                "lost updates", "dangerous case reached")
        lines = []
        for r in self.rows:
            m = r.measures()
            cell = lambda k: "-" if m.get(k) is None else str(m[k])    # noqa: E731
            runs = f"{len(r.outcomes)}" + (f" ({len(r.errors)} FAILED)" if r.errors else "")
            checks = f"{r.passed}/{r.checked}" + ("" if r.passed == r.checked else " FAILED")
            lines.append((r.algorithm, str(r.threads), "yes" if r.stalls else "no", runs, checks, cell("in_flight"),
                          cell("tau"), cell("delay"), cell("lost_updates"), r.danger_text()))
        widths = [max(len(h), *(len(l[i]) for l in lines)) if lines else len(h) for i, h in enumerate(head)]
        fmt = "  ".join(f"{{:<{w}}}" for w in widths)
        out = [fmt.format(*head).rstrip(), fmt.format(*("-" * w for w in widths))]
        out += [fmt.format(*l).rstrip() for l in lines]
        out += ["", "checks of each run:"]
        seen = set()
        for r in self.rows:
            if r.algorithm in seen or not r.outcomes:
                continue
            seen.add(r.algorithm)
            names = list(dict.fromkeys(n for o in r.outcomes for n, _ in o.checks))
            out.append(f"  {r.algorithm}: {', '.join(names)}")
            na = sorted({g for rr in self.rows if rr.algorithm == r.algorithm for o in rr.outcomes
                         for g in o.not_applicable})
            if na:
                out.append(f"    not applicable (their premise does not hold on fast runs): {', '.join(na)}")
            hard: dict = {}
            mine = [o for rr in self.rows if rr.algorithm == r.algorithm for o in rr.outcomes]
            for o in mine:
                for g, h in o.measures.get("hard", {}).items():
                    hard[g] = hard.get(g, 0) + int(h)
            if hard:
                out.append("    hard case reached on the rebuilt runs: "
                           + ", ".join(f"{g} {n}/{len(mine)}" for g, n in hard.items()))
        if self.planted:
            out += ["", "planted bugs (each must be caught):"]
        for p in self.planted:
            out.append(f"  {p.algorithm}: {p.planted.name} ({p.planted.mistake})")
            if p.caught:
                out.append(f"    caught in run {p.caught_at} of at most {p.planted.tries} by {_short(p.caught_by)}")
            else:
                out.append(f"    NOT CAUGHT in {p.tries} runs")
            if p.counterexample:
                state = "replays" if p.replays else "DOES NOT REPLAY"
                out.append(f"    counterexample {p.counterexample} ({p.planted.variant}) {state}: {_short(p.detail)}")
            elif p.caught and p.planted.variant is not None:
                out.append(f"    NO COUNTEREXAMPLE as {p.planted.variant} in {p.tries} runs: {_short(p.detail)}")
            elif p.detail:
                out.append(f"    {_short(p.detail)}")
        return "\n".join(out)

    def violations(self) -> list[str]:
        out = []
        for r in self.rows:
            where = f"{r.algorithm}, {r.threads} thread{'s' if r.threads > 1 else ''}{', stalls' if r.stalls else ''}"
            out += [f"{where}: run did not finish: {e}" for e in r.errors]
            for o in r.outcomes:
                for name, msg in o.failures:
                    out.append(f"{where}, seed {o.seed}: {name}: {msg}")
                for name, path in o.counterexamples:
                    out.append(f"  replay with: asyncproof replay {path}")
            if r.vacuous:
                out.append(f"{where}: vacuous: {r.missing()} in {len(r.outcomes)} runs")
        for p in self.planted:
            if not p.caught:
                out.append(f"planted bug {p.planted.name} in {p.algorithm} was not caught in {p.tries} runs")
            elif not p.ok:
                out.append(f"planted bug {p.planted.name}: no counterexample of {p.planted.variant} replays the "
                           f"violation ({p.detail})")
        return out


def _short(text: str, width: int = 160) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[:width - 3] + "..."


def row_line(r: Row) -> str:
    m = r.measures()
    return (f"{r.algorithm}, {r.threads} thread{'s' if r.threads > 1 else ''}, stalls {'yes' if r.stalls else 'no'}: {r.passed}/{r.checked} checks, "
            f"in flight {m.get('in_flight', '-')}, delay {m.get('delay', '-')}, lost updates "
            f"{m.get('lost_updates', '-')}: {r.danger_text()}")


def check_arguments(selected: list[str] | None, threads: int | None, budget: str) -> list[str]:
    """The fast algorithms to verify (default: all); an :class:`InputError` for a bad argument, before any work."""
    from ...fast.run import fast_algorithms
    if budget not in BUDGETS:
        raise InputError(f"unknown budget {budget!r}; known: {', '.join(BUDGETS)}")
    known = fast_algorithms()
    for a in selected or []:
        if a not in known:
            raise InputError(f"no fast implementation of {a!r}; fast: {', '.join(sorted(known))}")
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int) or not 1 <= threads <= 256):
        raise InputError(f"--threads must be an integer in 1 .. 256, got {threads!r}")
    return list(selected or sorted(known))


def verify_fast(selected: list[str] | None = None, threads: int | None = None, budget: str = "quick",
                failures: str | Path = "failures", progress: Callable[[str], None] | None = None) -> FastReport:
    """Run the fast suite for ``selected`` fast algorithms (default: all) on 1 .. ``threads`` threads
    (default: the cores) and an oversubscribed count; see the module docstring."""
    selected = check_arguments(selected, threads, budget)
    say = progress or (lambda s: None)
    b = BUDGETS[budget]
    counts = thread_counts(threads)
    report = FastReport(budget, counts)
    failures = Path(failures)
    for alg in selected:
        suite = suite_of(alg)
        for n in counts:
            for stalls in ((False, True) if suite.stalls is not None and n >= 2 else (False,)):
                row = run_row(suite, n, stalls, b, failures)
                report.rows.append(row)
                say(row_line(row))
    for alg in selected:
        suite = suite_of(alg)
        for p in suite.planted:
            say(f"{alg}: planting {p.name} ...")
            prow = plant(suite, p, b, failures)
            report.planted.append(prow)
            say(f"{alg}: {p.name}: " + (f"caught in run {prow.caught_at}" if prow.caught else "NOT CAUGHT")
                + (f"; counterexample {prow.counterexample}" if prow.counterexample else ""))
    return report
