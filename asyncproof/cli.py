"""The ``asyncproof`` command line.

Exit status: 0 when everything held or reproduced, 1 when a property is violated
or a replay diverges, 2 on bad input (an unknown name, an invalid parameter, an
unreadable or mismatched schedule file).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from . import __version__

EXIT_OK, EXIT_VIOLATION, EXIT_BAD_INPUT = 0, 1, 2


def _kv(items: list[str] | None, what: str) -> dict:
    """Repeated ``--param k=v`` (or ``k=v,k2=v2``) options as one dict, by the parameter system's reader."""
    from .reference.params import parse_pairs
    out = {}
    for item in items or []:
        out.update(parse_pairs(item, what))
    return out


def _literal(v: str):
    """'3' -> 3, '0.5' -> 0.5, '[1,2]' -> [1, 2], 'true' -> True, anything else stays a string."""
    for conv in (int, float):
        try:
            return conv(v)
        except ValueError:
            pass
    if v.lower() in ("true", "false"):
        return v.lower() == "true"
    try:
        return json.loads(v)
    except json.JSONDecodeError:
        return v


class _Progress:
    """Progress on stderr from the first second of a run, compile phase included.

    A background ticker prints what the run is doing once a second on a terminal (one line
    rewritten in place) and every 5 s in a log; the engine's callback only updates the
    counts, so a long single event (compiling the kernels on a first run) still shows.
    """

    def __init__(self, label: str, first: float = 1.0):
        import threading
        self.label, self.t0, self.shown = label, time.monotonic(), False
        self.tty = sys.stderr.isatty()
        self.step, self.total, self.phase = 0, 0, "running"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._tick, args=(first,), daemon=True)
        self._thread.start()

    def compiling(self) -> None:
        """Say at once, not after a second, that kernels are being compiled (first run only)."""
        from .reference.kernels import uncached
        missing = uncached()
        if missing:
            self.phase = "compiling kernels (first run only)"
            print(f"{self.label}: compiling kernels (first run only: {len(missing)} not in numba's cache yet)",
                  file=sys.stderr, flush=True)

    def __call__(self, step: int, total: int) -> None:
        self.step, self.total, self.phase = step, total, "running"

    def _tick(self, first: float) -> None:
        wait = first
        while not self._stop.wait(wait):
            elapsed = time.monotonic() - self.t0
            cap = f" of at most {self.total}" if self.total else ""
            text = (f"{self.label}: {self.phase}, {self.step} events{cap}, {elapsed:.0f} s"
                    if self.step else f"{self.label}: {self.phase}, {elapsed:.0f} s")
            print(("\r" + text + "\033[K") if self.tty else text, end="" if self.tty else "\n",
                  file=sys.stderr, flush=True)
            self.shown = True
            wait = 1.0 if self.tty else 5.0

    def done(self) -> None:
        self._stop.set()
        self._thread.join()
        if self.shown and self.tty:
            print(file=sys.stderr)


# ------------------------------------------------------------------------------------------
# commands


def _wrapped(name: str, text: str, width: int) -> None:
    """``name`` then ``text`` wrapped at word boundaries under a hanging indent (never cut mid-word)."""
    import textwrap
    indent = " " * 37
    first = f"  {name:<34} "
    if len(first) > len(indent):
        print(first.rstrip())
        first = indent
    print(textwrap.fill(" ".join(text.split()), width=max(width, 60), initial_indent=first,
                        subsequent_indent=indent, break_long_words=False, break_on_hyphens=False))


def cmd_list(args) -> int:
    import shutil
    from .reference.adversaries import ADVERSARY_HELP
    from .reference.problems import PROBLEM_HELP
    from .reference.registry import algorithms
    from .properties import guarantees
    from .proofs.registry import all_claims as claims

    width = shutil.get_terminal_size((100, 24)).columns - 1
    print("algorithms:")
    for a in algorithms(include_broken=args.broken):
        _wrapped(a.name, a.summary, width)
        _wrapped("", f"[{a.source}]; params: " + ", ".join(_param_text(p) for p in a.params.values()), width)
    print("problems:")
    for name, text in sorted(PROBLEM_HELP.items()):
        _wrapped(name, text, width)
    print("adversaries:")
    for name, text in sorted(ADVERSARY_HELP.items()):
        _wrapped(name, text, width)
    print("properties:")
    for g in guarantees():
        _wrapped(g.name, f"{g.statement} [{', '.join(g.algorithms)}]", width)
    print("claims:")
    for c in claims():
        _wrapped(c.id, c.statement.split("\n\n")[0], width)
    return EXIT_OK


def _param_text(p) -> str:
    describe = getattr(p, "describe", None)
    return describe() if describe is not None else f"{p.name}={p.default}"


def _problem_arg(args) -> dict | None:
    if args.problem is None and not args.problem_param:
        return None
    from .reference.registry import get_algorithm
    name = args.problem or get_algorithm(args.algorithm).default_problem
    return {"name": name, "params": {k: _literal(v) for k, v in _kv(args.problem_param, "problem parameter").items()}}


def divergence_text(trace) -> str:
    """'diverged at iteration k (|x| = inf, step s, p0)' for a run whose iterate stopped being finite, else ''.

    A divergence is a finding, not bad input: the run's exit status stays 0, its metrics are those of
    the last finite iterate, and its schedule (``--save``) replays to the same divergence."""
    d = getattr(trace, "divergence", None) if trace is not None else None
    return d.describe() if d is not None else ""


_SHOWN_ELSEWHERE = ("steps", "stopped")     # printed as "engine events" with their names


def _print_metrics(metrics: dict, width: int = 14) -> None:
    for k, v in metrics.items():
        if k in _SHOWN_ELSEWHERE:
            continue
        if isinstance(v, float):
            print(f"  {k:<{width}} {v:.10g}")
        elif isinstance(v, list) and all(isinstance(x, (int, float)) for x in v):
            print(f"  {k:<{width}} [{', '.join(f'{x:.10g}' for x in v)}]")
        else:
            print(f"  {k:<{width}} {v}")


def _print_run(res, adversary: str) -> None:
    print(f"{res.schedule.algorithm} on {res.problem.spec()['name']} (d = {res.problem.d}, m = {res.problem.m}), "
          f"adversary {adversary}, seed {res.schedule.seed}")
    width = max([14] + [len(k) for k in res.metrics])
    if "T" in res.params:
        print(f"  {'iterations':<{width}} T = {res.params['T']}")
    _print_metrics(res.metrics, width)
    print(f"  {'engine events':<{width}} {len(res.trace.events)} ({res.trace.stopped})")
    if res.trace.stopped == "max_steps":
        print(f"stopped after {len(res.trace.events)} engine events, the bound for this run "
              f"(--max-events, or the algorithm's own bound for its parameters): the algorithm had not finished")
    text = divergence_text(res.trace)
    if text:
        print(text)


def cmd_run(args) -> int:
    from .reference.schedule import check_output_path, run_algorithm

    if args.fast:
        return cmd_run_fast(args)
    if args.threads is not None:
        from .reference.errors import InputError
        raise InputError("--threads is for --fast runs (real threads); the reference's cores are --param n=...")
    # every output path is checked before any work: a run of minutes must not end in "cannot write"
    if args.save:
        check_output_path(args.save, "--save file")
    if args.plot:
        from .plots import check_plot_path
        check_plot_path(args.plot)
    params = _kv(args.param, "parameter")
    if args.iterations is not None:
        if "T" in params:
            from .reference.errors import InputError
            raise InputError("give the iterations once: --iterations or --param T=..., not both")
        params["T"] = str(args.iterations)
    model = {k: _literal(v) for k, v in _kv(args.model, "model").items()} or None
    from .reference.adversaries import make_adversary
    from .reference.schedule import checkpoint_dir, prepare
    # every bad name, value, adversary or checkpoint directory is one line, before any progress line
    alg, resolved, problem = prepare(args.algorithm, _problem_arg(args), params, args.seed)
    adversary = make_adversary(args.adversary or "roundrobin")
    store = checkpoint_dir(args.checkpoints, alg, resolved, problem, args.seed)
    prog = _Progress(f"running {args.algorithm}")
    try:
        prog.compiling()
        res = run_algorithm(alg, problem=problem, params=params, seed=args.seed, adversary=adversary, model=model,
                            max_steps=args.max_events, progress=prog, checkpoints=store)
    finally:
        prog.done()
    _print_run(res, args.adversary or "roundrobin")
    print(f"digest {res.trace.digest}")
    if args.save:
        print(f"saved schedule to {res.schedule.save(args.save)}")
    if args.plot:
        from .plots import run_figure
        print(f"saved plot to {run_figure(res, args.plot)}")
    return EXIT_OK


def cmd_run_fast(args) -> int:
    """``run ALG --fast``: the algorithm on real threads (``asyncproof.fast``); ``--save`` writes the
    reference schedule its recorder rebuilt, after checking that it reproduces the fast run."""
    from .fast.run import FastRunError, fast_algorithms, replayable_algorithms, run_fast
    from .reference.errors import InputError
    from .reference.schedule import check_output_path

    fast = fast_algorithms()
    if args.algorithm not in fast:
        raise InputError(f"--fast runs {', '.join(sorted(fast))}; not {args.algorithm!r}")
    for flag, given in (("--adversary", args.adversary), ("--model", args.model), ("--plot", args.plot),
                        ("--max-events", args.max_events), ("--checkpoints", args.checkpoints)):
        if given is not None:
            raise InputError(f"{flag} is not for --fast runs: the operating system interleaves the threads")
    if args.save:
        if args.algorithm not in replayable_algorithms():
            raise InputError(f"--save: {args.algorithm} --fast cannot be replayed bit for bit (its lock-free reads "
                             f"and writes are recorded as ticket intervals, not one memory order); "
                             f"{' and '.join(replayable_algorithms())} --fast can")
        check_output_path(args.save, "--save file")
    params = _kv(args.param, "parameter")
    if args.iterations is not None:
        if "T" in params:
            raise InputError("give the iterations once: --iterations or --param T=..., not both")
        params["T"] = str(args.iterations)
    from .reference.registry import resolve_params
    resolved = resolve_params(args.algorithm, params)
    threads = args.threads if args.threads is not None else resolved.get("n", resolved.get("threads"))
    if threads < 1:
        raise InputError(f"--threads must be at least 1, got {threads}")
    try:
        run = run_fast(args.algorithm, problem=_problem_arg(args), params=params, seed=args.seed,
                       threads=threads, record=True, timeout=args.timeout)
    except FastRunError as e:
        print(f"asyncproof run: {e}", file=sys.stderr)
        return EXIT_VIOLATION
    prob = run.problem
    print(f"{run.algorithm} --fast on {prob.spec()['name']} (d = {prob.d}, m = {prob.m}), {threads} threads, "
          f"seed {run.seed}")
    st = run.stats
    print(f"  {'iterations':<14} T = {st['samples']} samples, {st['updates']} coordinate updates")
    print(f"  {'loss':<14} {prob.value(run.x):.6g}")
    if st.get("lost_updates") is not None:
        print(f"  {'lost updates':<14} {st['lost_updates']}")
    if "components" in st:
        print(f"  {'batches':<14} {st['batches']}, {st['components']} components (largest {st['largest_component']})")
    print(f"  {'updates/s':<14} {st['updates_per_s']:.3g} (wall clock, this machine, this load)")
    if args.save:
        rebuilt = run.rebuild()
        if not rebuilt.same_x:
            print("asyncproof run: the rebuilt schedule does not reproduce the fast run's final model; not saved",
                  file=sys.stderr)
            return EXIT_VIOLATION
        print(f"digest {rebuilt.result.trace.digest}")
        print(f"saved schedule to {rebuilt.schedule.save(args.save)} (the reference replays it to the fast run's "
              f"final model, bit for bit)")
    return EXIT_OK


def _check_property(sched, where: str) -> None:
    """A counterexample's property must be one this version knows, or re-checking it is impossible."""
    from .reference.errors import InputError
    from .properties.guarantees import get_guarantee
    if sched.property:
        try:
            get_guarantee(sched.property["name"].split(".")[0])
        except InputError:
            raise InputError(f"{where}: field 'property.name': {sched.property['name']!r} is not a property "
                             f"of this asyncproof (see 'asyncproof list')") from None


def cmd_replay(args) -> int:
    from .reference.schedule import check_output_path, load_schedule, prepare, replay, RunResult
    from .properties import recheck

    if args.plot:
        from .plots import check_plot_path
        check_plot_path(args.plot)
    status = EXIT_OK
    schedules = []
    for f in args.files:                                          # all validated before any replay
        sched = load_schedule(f)
        _check_property(sched, f"schedule file {str(f)!r}")
        if args.write_digest:
            check_output_path(f, "schedule file")
        schedules.append((f, sched))
    for path, sched in schedules:
        prefix = f"{path}: " if len(schedules) > 1 else ""
        prog = _Progress(f"replaying {path}")
        raised = (sched.property or {}).get("raised")
        try:
            prog.compiling()
            rep = replay(sched, progress=prog)
        except Exception as e:
            prog.done()
            if not raised or type(e).__name__ != raised:
                raise
            # a counterexample whose run raised: the replay raises the same exception at the same step
            still, msg = recheck(sched)
            print(f"{prefix}reproduced: {msg} (step {len(sched.events) - 1}, as recorded)")
            print(f"{prefix}property {sched.property['name']}: violated again: {sched.property['message']}")
            status = EXIT_VIOLATION
            continue
        prog.done()
        if args.trace and rep.trace is not None:
            _print_trace(rep.trace)
        if not rep.reproduced:
            print(f"{prefix}{rep.report()}")
            status = EXIT_VIOLATION
            continue
        print(f"{prefix}{rep.report()}")
        if args.write_digest:
            if sched.digest:
                print(f"{prefix}the file already holds this digest; left as it is")
            else:
                sched.digest, sched.stopped = rep.digest, rep.trace.stopped
                sched.save(path)
                print(f"{prefix}wrote digest {rep.digest} and stopped '{rep.trace.stopped}' into {path}")
        text = divergence_text(rep.trace)
        if text:
            print(f"{prefix}{text}")
        if sched.property:
            still, msg = recheck(sched)
            print(f"{prefix}property {sched.property['name']}: "
                  f"{'violated again: ' if still else ''}{msg}")
            if still:
                status = EXIT_VIOLATION
        if args.plot:
            from .plots import run_figure
            alg, params, problem = prepare(sched.algorithm, sched.problem, sched.params, sched.seed)
            print(f"saved plot to {run_figure(RunResult(rep.trace, sched, problem, params, rep.metrics or {}), args.plot)}")
    return status


def cmd_events(args) -> int:
    from .reference.event_names import EXPLORING, GENERIC, event_templates

    params = _kv(args.param, "parameter")
    adversaries = args.adversary or list(EXPLORING)
    from .reference.registry import resolve_params
    resolve_params(args.algorithm, params)     # a bad name or value is one line, before any progress line
    prog = _Progress(f"running {args.algorithm} under {len(adversaries)} adversaries")
    try:
        prog.compiling()
        templates = event_templates(args.algorithm, params=params, problem=_problem_arg(args), seed=args.seed,
                                    adversaries=adversaries)
    finally:
        prog.done()
    print(f"event names of {args.algorithm} (numbers shown as N), from runs under {', '.join(adversaries)}:")
    w = max(len(t.template) for t in templates)
    print(f"  {'kind':<8} {'template':<{w}}  {'count':>6}  first seen")
    for t in templates:
        print(f"  {t.kind:<8} {t.template:<{w}}  {t.count:>6}  {t.example}")
    print("with a model that allows them, every algorithm may also see:")
    for kind, t, why in GENERIC:
        print(f"  {kind:<8} {t:<{w}}  {'':>6}  {why}")
    print("a schedule file lists such names in 'events' (docs/schedule-format.md); "
          "'asyncproof run ... --save FILE' writes one to start from")
    return EXIT_OK


def _print_trace(trace) -> None:
    obs: dict[int, list] = {}
    for step, pid, key, value in trace.observations:
        obs.setdefault(step, []).append((pid, key, value))
    for i, name in enumerate(trace.events):
        t = trace.annotations.get(i, {}).get("time")
        when = f" t={t:.4g}" if t is not None else ""
        print(f"{i:>6}{when}  {name}")
        for pid, key, value in obs.get(i, []):
            print(f"{'':>8}p{pid}.{key} = {_short(value)}")


def _short(v) -> str:
    import numpy as np
    if isinstance(v, np.ndarray):
        if v.size <= 6:
            return "[" + ", ".join(f"{float(x):.6g}" for x in v.ravel()) + "]"
        return f"array(shape={v.shape}, |v|={float(np.linalg.norm(v.astype(float))):.6g})"
    s = repr(v)
    return s if len(s) <= 100 else s[:97] + "..."


def cmd_verify(args) -> int:
    from .properties import verify
    from .reference.schedule import check_output_dir

    check_output_dir(args.failures, "--failures directory")      # before any work, not after a violation
    t0 = time.monotonic()
    report = verify(args.algorithms or None, budget=args.budget, failures=args.failures,
                    fresh_process=not args.no_fresh,
                    progress=lambda s: print(f"[{time.monotonic() - t0:6.1f} s] {s}", file=sys.stderr, flush=True))
    print(report.table())
    if report.ok:
        print(f"all guarantees hold; every broken variant was caught ({time.monotonic() - t0:.0f} s, budget {args.budget})")
        return EXIT_OK
    print("\nVIOLATIONS:")
    for v in report.violations():
        print(f"- {v}")
    return EXIT_VIOLATION


def cmd_verify_fast(args) -> int:
    """``verify --fast``: the guarantee checkers on the traces of real runs on threads
    (:mod:`asyncproof.properties.fast.suite`); without ``--fast``, the reference's ``verify``."""
    from .reference.errors import InputError
    if not args.fast:
        if args.threads is not None:
            raise InputError("--threads is for verify --fast (real threads); the reference's cores are drawn")
        return cmd_verify(args)
    if args.no_fresh:
        raise InputError("--no-fresh is for the reference's verify: verify --fast replays its counterexamples "
                         "in this process")
    from .properties.fast.suite import check_arguments, verify_fast
    from .reference.schedule import check_output_dir

    check_arguments(args.algorithms or None, args.threads, args.budget)       # bad input: one line, no work
    check_output_dir(args.failures, "--failures directory")
    t0 = time.monotonic()
    report = verify_fast(args.algorithms or None, threads=args.threads, budget=args.budget, failures=args.failures,
                         progress=lambda s: print(f"[{time.monotonic() - t0:6.1f} s] {s}", file=sys.stderr, flush=True))
    print(report.table())
    if report.ok:
        print(f"all checks hold; every stalled row reached its dangerous case; every planted bug was caught "
              f"({time.monotonic() - t0:.0f} s, budget {args.budget})")
        return EXIT_OK
    print("\nVIOLATIONS:")
    for v in report.violations():
        print(f"- {v}")
    return EXIT_VIOLATION


def cmd_prove(args) -> int:
    from .proofs.registry import all_claims as claims, get_claim, run_claim

    ids = args.claims or [c.id for c in claims()]
    for cid in ids:
        get_claim(cid)                         # unknown ids are bad input before any work
    failed = 0
    for cid in ids:
        c = get_claim(cid)
        print(f"{c.id}  [{c.source}]")
        print(f"  {c.statement}")
        t0 = time.monotonic()
        say = lambda line: print(f"[{time.monotonic() - t0:6.1f} s] {line}", file=sys.stderr, flush=True)  # noqa: E731
        for r in run_claim(cid, budget=args.budget, progress=say if args.budget != "quick" else None):
            mark = "checked" if r.passed else "FAILED"
            print(f"  {mark:<8} {r.kind:<14} {r.name}: {r.detail}")
            failed += not r.passed
    print(f"{len(ids)} claim(s): " + ("all checks passed" if not failed else f"{failed} check(s) FAILED"))
    return EXIT_OK if not failed else EXIT_VIOLATION


def cmd_bench(args) -> int:
    """``bench``: issue 12's benchmark, one table (``asyncproof.bench``)."""
    import os

    from . import bench
    from .fast.run import FastRunError
    from .reference.schedule import check_output_path, write_atomically

    bench.check_args(args.threads if args.threads is not None else os.cpu_count() or 1,
                     args.epochs if args.epochs is not None else (bench.QUICK if args.quick else bench.FULL).epochs)
    if args.json:
        check_output_path(args.json, "--json file")
    try:
        result = bench.run(threads=args.threads, epochs=args.epochs, quick=args.quick, say=bench.progress)
    except FastRunError as e:
        print(f"asyncproof bench: {e}", file=sys.stderr)
        return EXIT_VIOLATION
    print(bench.table(result))
    if args.json:
        command = "asyncproof " + " ".join(sys.argv[1:]) if sys.argv[1:2] == ["bench"] else "asyncproof bench"
        write_atomically(args.json, json.dumps(bench.to_json(result, command), indent=1,
                                               default=lambda v: v.item() if hasattr(v, "item") else str(v)) + "\n")
        print(f"wrote {args.json}")
    return EXIT_OK


# ------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="asyncproof",
        description="Verification-focused reference implementation of asynchronous distributed SGD: "
                    "run algorithms under adversarial schedules, replay them, check their guarantees, "
                    "and check the papers' claims.",
        epilog="exit status: 0 ok (a run whose iterates diverge is a result: exit 0, and the output says "
               "where), 1 a property violated or a replay diverged from its schedule, 2 bad input")
    p.add_argument("--version", action="version", version=f"asyncproof {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)

    s = sub.add_parser("list", help="list algorithms, problems, adversaries, properties and claims",
                       description="List algorithms, problems, adversaries, properties and claims.")
    s.add_argument("--broken", action="store_true", help="also list the deliberately broken variants")
    s.set_defaults(fn=cmd_list)

    s = sub.add_parser("run", help="run one algorithm under an adversary",
                       description="Run one algorithm under an adversary; print the final metrics and the "
                                   "trace digest; optionally save the schedule and plot it.")
    s.add_argument("algorithm", metavar="ALG", help="algorithm name (see 'asyncproof list')")
    s.add_argument("--problem", metavar="P", help="problem name (default: the algorithm's)")
    s.add_argument("--problem-param", metavar="K=V", action="append", help="problem parameter (repeatable)")
    s.add_argument("--adversary", metavar="A",
                   help="adversary, e.g. roundrobin, random:seed=3, pct:d=3, delay:tau=4, "
                        "timed:model=exp,c=1,lam=0.5 (default: roundrobin)")
    s.add_argument("--seed", metavar="S", type=int, default=0, help="seed of every random draw (default 0)")
    s.add_argument("--iterations", "-T", metavar="T", type=int,
                   help="iterations T of the algorithm (same as --param T=...); the engine takes several "
                        "events per iteration")
    s.add_argument("--steps", dest="iterations", type=int, help=argparse.SUPPRESS)   # the old name
    s.add_argument("--max-events", metavar="K", type=int,
                   help="stop after K engine events (default: the algorithm's bound for its parameters)")
    s.add_argument("--param", metavar="K=V", action="append", help="algorithm parameter (repeatable)")
    s.add_argument("--model", metavar="K=V", action="append",
                   help="model constraints, e.g. f=1,majority=true,tau=3,fairness=10")
    s.add_argument("--save", metavar="FILE", help="write the schedule (JSON v1) to FILE (atomically)")
    s.add_argument("--plot", metavar="FILE.png", help="draw the space-time diagram and loss curve")
    s.add_argument("--checkpoints", metavar="DIR",
                   help="keep the processes' non-volatile memory in DIR (one file per process, written "
                        "atomically); a recovered process restarts from its file")
    s.add_argument("--fast", action="store_true",
                   help="run on real threads (hogwild-atomic, hogwild-racy, hogwild-lock), recording what happened; "
                        "with --save (hogwild-lock) the recorded schedule, which 'asyncproof replay' reproduces")
    s.add_argument("--threads", metavar="N", type=int, help="--fast: number of threads (default: the parameter n)")
    s.add_argument("--timeout", metavar="S", type=float, default=600.0,
                   help="--fast: stop the run with an error after S seconds (default 600)")
    s.set_defaults(fn=cmd_run)

    s = sub.add_parser("replay", help="replay saved schedules step by step",
                       description="Replay schedule files strictly: every recorded event must replay and the run "
                                   "must end where the file says.  Prints 'reproduced <digest>' (exit 0), or where "
                                   "the run diverged (exit 1); a file without a digest reports the digest it "
                                   "reached (exit 0); a counterexample's property is re-checked.")
    s.add_argument("files", metavar="FILE", nargs="+", help="schedule file(s) written by --save or by verify, "
                                                             "or by hand (docs/schedule-format.md)")
    s.add_argument("--trace", action="store_true", help="print every event and what it recorded")
    s.add_argument("--plot", metavar="FILE.png", help="draw the replayed schedule")
    s.add_argument("--write-digest", action="store_true",
                   help="fill in the digest (and 'stopped') of a file that has none, once it replays to the end")
    s.set_defaults(fn=cmd_replay)

    s = sub.add_parser("events", help="list the event names an algorithm produces (to write schedules by hand)",
                       description="Run an algorithm under several adversaries and list every event name it "
                                   "produced, numbers shown as N: the names a schedule file may hold.")
    s.add_argument("algorithm", metavar="ALG", help="algorithm name (see 'asyncproof list')")
    s.add_argument("--param", metavar="K=V", action="append", help="algorithm parameter (repeatable)")
    s.add_argument("--problem", metavar="P", help="problem name (default: the algorithm's)")
    s.add_argument("--problem-param", metavar="K=V", action="append", help="problem parameter (repeatable)")
    s.add_argument("--seed", metavar="S", type=int, default=0, help="seed (default 0)")
    s.add_argument("--adversary", metavar="A", action="append",
                   help="adversary to run under (repeatable; default: roundrobin, random, pct and timed ones)")
    s.set_defaults(fn=cmd_events)

    s = sub.add_parser("verify", help="check every guarantee (and that broken variants are caught)",
                       description="Run the property suites: a table of each guarantee per algorithm with the "
                                   "examples tried; exit 1 with replay commands on a violation.")
    s.add_argument("algorithms", metavar="ALG", nargs="*", help="algorithms to verify (default: all)")
    s.add_argument("--budget", choices=["quick", "ci", "deep"], default="quick",
                   help="examples per guarantee: quick (default), ci (derandomized), deep")
    s.add_argument("--failures", metavar="DIR", default="failures",
                   help="directory where counterexamples are written (default: failures/; created if missing)")
    s.add_argument("--no-fresh", action="store_true", help="skip the fresh-process replays")
    s.add_argument("--fast", action="store_true",
                   help="check the fast implementations instead: real runs on 1 .. N threads and oversubscribed, "
                        "with and without injected stalls, checked by the reference's guarantees (replayable runs) "
                        "and their recorded rows, and planted bugs that must be caught (docs/fast.md)")
    s.add_argument("--threads", metavar="N", type=int,
                   help="--fast: thread counts 1 .. N, plus an oversubscribed one (default N: the cores)")
    s.set_defaults(fn=cmd_verify_fast)

    from . import experiments
    s = sub.add_parser("experiment", help="re-run a seed's experiment: a plot and a table",
                       description="Run a reproducible experiment of the seeds and write its PNG and Markdown "
                                   "table (docs/experiments.md lists them).",
                       epilog=experiments.describe())
    experiments.add_arguments(s)
    s.set_defaults(fn=lambda args: experiments.run_from_args(args, "asyncproof experiment"))

    s = sub.add_parser("prove", help="check the papers' claims (sympy, Monte Carlo, properties)",
                       description="Run the claims of the proofs registry and print each check.")
    s.add_argument("claims", metavar="CLAIM", nargs="*", help="claim ids (default: all)")
    s.add_argument("--budget", choices=["quick", "ci", "deep"], default="quick",
                   help="sample sizes of the empirical checks (default quick)")
    s.set_defaults(fn=cmd_prove)

    s = sub.add_parser("bench", help="measure fast HOGWILD! against its roofline, the C++ original and the reference",
                       description="Issue 12's benchmark: sparse SVM on the hogwild-bench data (n = 400,000 samples, "
                                   "d = 50,000 features, 40 nonzeros each), the original HOGWILD! (v03a) update, "
                                   "gamma = 0.05, 5 epochs, each thread its slice of one shuffled data order.  Prints one "
                                   "table: the roofline loop and HOGWILD! racy, atomic and locked at 1 .. N threads "
                                   "(samples/s, coordinate updates/s, the cores the threads got, ratios to the "
                                   "roofline, the C++ original's samples/s and racy), the roofline and racy over the "
                                   "data in its stored order, serially-equivalent SGD, the recorder on and off, "
                                   "the reference on a prefix of the same "
                                   "run; the kernels' first calls and a run's setup apart; then the issue's "
                                   "targets, each with its measured value and pass or GAP.  Each figure is the "
                                   "median of 3 repetitions (--quick: 1).  Progress goes to stderr.",
                       epilog="docs/fast.md, 'Benchmarks', says what each row measures.  The full bench takes a "
                              "few minutes on 2 cores; its numbers mean little on a machine busy with other work.")
    from os import cpu_count
    s.add_argument("--threads", metavar="N", type=int,
                   help=f"measure at 1 .. N threads (default: os.cpu_count(), here {cpu_count() or 1})")
    s.add_argument("--epochs", metavar="E", type=int,
                   help="passes over the data: T = E x n samples (default 5; --quick: 1)")
    s.add_argument("--quick", action="store_true",
                   help="a small workload that finishes in seconds (n = 20,000 samples, one repetition), for "
                        "tests and CI: its numbers are not the issue's")
    s.add_argument("--json", metavar="FILE", help="also write every measurement to FILE (JSON, atomically)")
    s.set_defaults(fn=cmd_bench)
    return p


def main(argv: list[str] | None = None) -> int:
    from .reference.errors import InputError, PropertyViolation

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.fn(args)
    except InputError as e:
        print(f"asyncproof {args.command}: error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except PropertyViolation as e:
        print(str(e), file=sys.stderr)
        return EXIT_VIOLATION
    except MemoryError as e:
        # the memory estimate refuses what it foresees; this is the last line for what it did not
        print(f"asyncproof {args.command}: error: out of memory ({e or 'MemoryError'}); "
              f"lower the sizes (parameters, problem, --max-events)", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:
        # the reader went away (asyncproof list | head): not an error, and no second one at exit
        import os
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
