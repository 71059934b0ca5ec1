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


def _top_level_commas(text: str) -> list[str]:
    """``"f=1,crashable=[3,4]"`` -> ``["f=1", "crashable=[3,4]"]``: commas inside brackets stay."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += ch in "[(" and 1 or (-1 if ch in "])" else 0)
        if ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    return parts + [text[start:]]


def _kv(items: list[str] | None, what: str) -> dict:
    from .reference.errors import InputError
    out = {}
    for item in items or []:
        for part in _top_level_commas(item) if what == "model" else [item]:
            k, eq, v = part.partition("=")
            if not eq or not k.strip():
                raise InputError(f"{what} {part!r} is not of the form key=value")
            out[k.strip()] = v.strip()
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
    """Progress on stderr, shown only once a run has taken more than a couple of seconds.

    On a terminal one line is rewritten in place; in a log a line is added every 5 s.
    """

    def __init__(self, label: str, after: float = 2.0):
        self.label, self.after, self.t0, self.shown, self.last = label, after, time.monotonic(), False, 0.0
        self.tty = sys.stderr.isatty()

    def __call__(self, step: int, total: int) -> None:
        now = time.monotonic()
        elapsed = now - self.t0
        if elapsed < self.after or (not self.tty and now - self.last < 5.0):
            return
        self.last = now
        cap = f" (cap {total})" if total else ""
        text = f"{self.label}: {step} events{cap}, {elapsed:.0f} s"
        print(("\r" + text) if self.tty else text, end="" if self.tty else "\n", file=sys.stderr, flush=True)
        self.shown = True

    def done(self) -> None:
        if self.shown and self.tty:
            print(file=sys.stderr)


# ------------------------------------------------------------------------------------------
# commands


def cmd_list(args) -> int:
    from .reference.adversaries import ADVERSARY_HELP
    from .reference.problems import PROBLEM_HELP
    from .reference.registry import algorithms
    from . import properties  # noqa: F401  (registers broken variants)
    from .properties import guarantees
    from .proofs.registry import all_claims as claims

    print("algorithms:")
    for a in algorithms(include_broken=args.broken):
        print(f"  {a.name:<34} {a.summary}")
        print(f"  {'':<34} [{a.source}]; params: " +
              ", ".join(f"{p.name}={p.default}" for p in a.params.values()))
    print("problems:")
    for name, text in sorted(PROBLEM_HELP.items()):
        print(f"  {name:<34} {text}")
    print("adversaries:")
    for name, text in sorted(ADVERSARY_HELP.items()):
        print(f"  {name:<34} {text}")
    print("properties:")
    for g in guarantees():
        print(f"  {g.name:<34} {g.statement} [{', '.join(g.algorithms)}]")
    print("claims:")
    for c in claims():
        print(f"  {c.id:<34} {c.statement.splitlines()[0][:100]}")
    return EXIT_OK


def _problem_arg(args) -> dict | None:
    if args.problem is None and not args.problem_param:
        return None
    from .reference.registry import get_algorithm
    name = args.problem or get_algorithm(args.algorithm).default_problem
    return {"name": name, "params": {k: _literal(v) for k, v in _kv(args.problem_param, "problem parameter").items()}}


def _print_metrics(metrics: dict) -> None:
    for k, v in metrics.items():
        if isinstance(v, float):
            print(f"  {k:<12} {v:.10g}")
        elif isinstance(v, list):
            print(f"  {k:<12} [{', '.join(f'{x:.10g}' for x in v)}]")
        else:
            print(f"  {k:<12} {v}")


def cmd_run(args) -> int:
    from .reference.schedule import run_algorithm
    from . import properties  # noqa: F401  (broken variants can be run by name)

    params = _kv(args.param, "parameter")
    if args.steps is not None:
        params["T"] = str(args.steps)
    model = {k: _literal(v) for k, v in _kv(args.model, "model").items()} or None
    prog = _Progress(f"running {args.algorithm}")
    res = run_algorithm(args.algorithm, problem=_problem_arg(args), params=params, seed=args.seed,
                        adversary=args.adversary, model=model, max_steps=args.max_events, progress=prog)
    prog.done()
    print(f"{args.algorithm} on {res.problem.spec()['name']} (d = {res.problem.d}, m = {res.problem.m}), "
          f"adversary {args.adversary}, seed {args.seed}")
    _print_metrics(res.metrics)
    print(f"  {'events':<12} {len(res.trace.events)} ({res.trace.stopped})")
    print(f"digest {res.trace.digest}")
    if args.save:
        print(f"saved schedule to {res.schedule.save(args.save)}")
    if args.plot:
        from .plots import run_figure
        print(f"saved plot to {run_figure(res, args.plot)}")
    return EXIT_OK


def cmd_replay(args) -> int:
    from .reference.schedule import load_schedule, prepare, replay, RunResult
    from . import properties  # noqa: F401
    from .properties import recheck

    status = EXIT_OK
    schedules = [(f, load_schedule(f)) for f in args.files]     # all validated before any replay
    for path, sched in schedules:
        prefix = f"{path}: " if len(schedules) > 1 else ""
        prog = _Progress(f"replaying {path}")
        raised = (sched.property or {}).get("raised")
        try:
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
        print(f"{prefix}reproduced {rep.digest}")
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


# ------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="asyncproof",
        description="Verification-focused reference implementation of asynchronous distributed SGD: "
                    "run algorithms under adversarial schedules, replay them, check their guarantees, "
                    "and check the papers' claims.",
        epilog="exit status: 0 ok, 1 a property violated or a replay diverged, 2 bad input")
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
    s.add_argument("--adversary", metavar="A", default="roundrobin",
                   help="adversary, e.g. roundrobin, random:seed=3, pct:d=3, delay:tau=4, "
                        "timed:model=exp,c=1,lam=0.5 (default: roundrobin)")
    s.add_argument("--seed", metavar="S", type=int, default=0, help="seed of every random draw (default 0)")
    s.add_argument("--steps", metavar="N", type=int, help="iterations T of the algorithm (same as --param T=N)")
    s.add_argument("--max-events", metavar="K", type=int, help="stop after K scheduler events")
    s.add_argument("--param", metavar="K=V", action="append", help="algorithm parameter (repeatable)")
    s.add_argument("--model", metavar="K=V", action="append",
                   help="model constraints, e.g. f=1,majority=true,tau=3,fairness=10")
    s.add_argument("--save", metavar="FILE", help="write the schedule (JSON v1) to FILE")
    s.add_argument("--plot", metavar="FILE.png", help="draw the space-time diagram and loss curve")
    s.set_defaults(fn=cmd_run)

    s = sub.add_parser("replay", help="replay saved schedules step by step",
                       description="Replay schedule files: print 'reproduced <digest>' (exit 0), or where the "
                                   "run diverged (exit 1); a counterexample's property is re-checked.")
    s.add_argument("files", metavar="FILE", nargs="+", help="schedule file(s) written by --save or by verify")
    s.add_argument("--trace", action="store_true", help="print every event and what it recorded")
    s.add_argument("--plot", metavar="FILE.png", help="draw the replayed schedule")
    s.set_defaults(fn=cmd_replay)

    s = sub.add_parser("verify", help="check every guarantee (and that broken variants are caught)",
                       description="Run the property suites: a table of each guarantee per algorithm with the "
                                   "examples tried; exit 1 with replay commands on a violation.")
    s.add_argument("algorithms", metavar="ALG", nargs="*", help="algorithms to verify (default: all)")
    s.add_argument("--budget", choices=["quick", "ci", "deep"], default="quick",
                   help="examples per guarantee: quick (default), ci (derandomized), deep")
    s.add_argument("--failures", metavar="DIR", default="failures",
                   help="where counterexamples are written (default: failures/)")
    s.add_argument("--no-fresh", action="store_true", help="skip the fresh-process replays")
    s.set_defaults(fn=cmd_verify)

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
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
