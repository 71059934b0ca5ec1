"""Running a registered algorithm, and schedule files (JSON format v1).

A schedule is the sequence of events an adversary chose, stored **by name**
(``"p3 write x"``, ``"deliver #4 p1->p2 round 2"``, ``"crash p2"``), together with
everything needed to rebuild the run: algorithm, parameters, problem, seed, model,
package version, and the final trace digest.  :func:`replay` rebuilds the run and
replays the events by name; it either reproduces the digest bit for bit or stops
at the first step whose named event is not enabled.

File layout (version 1)::

    {
      "format": "asyncproof-schedule", "version": 1,
      "algorithm": "minibatch-sgd", "params": {...}, "problem": {"name": ..., "params": {...}},
      "seed": 0, "model": {"f": 0, ...}, "adversary": {"name": "random", ...},
      "package_version": "0.1.0", "steps": 42, "stopped": "quiescent",
      "events": ["p0 start w0 grad f_3(x_0)", ...], "annotations": {"7": {"time": 1.5}},
      "digest": "sha256:...",
      "property": {"name": ..., "message": ...}          (only in counterexamples)
    }

>>> from asyncproof.reference.adversaries import make_adversary
>>> res = run_algorithm("sgd", problem={"name": "quadratic"}, params={"T": 3}, seed=1)
>>> rep = replay(res.schedule)
>>> rep.reproduced, rep.digest == res.trace.digest
(True, True)
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .adversaries import Adversary, Replay, RoundRobin, make_adversary
from .engine import Model, Trace, event_kind, run
from .errors import InputError, ReplayDivergence
from .registry import get_algorithm, resolve_params

FORMAT = "asyncproof-schedule"
VERSION = 1


def package_version() -> str:
    try:
        from importlib.metadata import version
        return version("asyncproof")
    except Exception:  # not installed (running from a source tree)
        return "0+unknown"


@dataclass
class Schedule:
    """An in-memory schedule file."""
    algorithm: str
    params: dict
    problem: dict
    seed: int
    model: dict
    events: list[str]
    annotations: dict[int, dict] = field(default_factory=dict)
    adversary: dict = field(default_factory=lambda: {"name": "roundrobin"})
    digest: str = ""
    stopped: str = ""
    package_version: str = field(default_factory=package_version)
    property: dict | None = None

    def to_json(self) -> dict:
        d = {"format": FORMAT, "version": VERSION, "algorithm": self.algorithm, "params": self.params,
             "problem": self.problem, "seed": self.seed, "model": self.model, "adversary": self.adversary,
             "package_version": self.package_version, "steps": len(self.events), "stopped": self.stopped,
             "events": self.events, "annotations": {str(k): v for k, v in sorted(self.annotations.items())},
             "digest": self.digest}
        if self.property is not None:
            d["property"] = self.property
        return d

    def save(self, path: str | os.PathLike) -> Path:
        """Write the file atomically (a counterexample is never half on disk)."""
        path = Path(path)
        if path.parent and not path.parent.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(self.to_json(), indent=1, default=_json_default) + "\n")
        os.replace(tmp, path)
        return path


def _json_default(o):
    import numpy as np
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    raise TypeError(f"{type(o).__name__} is not JSON-serialisable")


@dataclass
class RunResult:
    trace: Trace
    schedule: Schedule
    problem: Any
    params: dict
    metrics: dict


def _problem_from(problem) -> Any:
    from .problems import Problem, make_problem
    if isinstance(problem, Problem):
        return problem
    if problem is None:
        problem = {}
    if isinstance(problem, str):
        problem = {"name": problem}
    if not isinstance(problem, dict) or "name" not in problem:
        raise InputError(f"problem must be a name or {{'name': ..., 'params': {{...}}}}, got {problem!r}")
    extra = sorted(set(problem) - {"name", "params", "seed"})
    if extra:
        raise InputError(f"problem has unknown field(s) {extra}")
    params = problem.get("params") or {}
    if not isinstance(params, dict):
        raise InputError(f"problem params must be an object, got {params!r}")
    return make_problem(problem["name"], **params)


def prepare(algorithm: str, problem=None, params: dict | None = None, seed: int = 0):
    """Resolve an algorithm, its parameters and its problem (all errors are InputError)."""
    alg = get_algorithm(algorithm)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InputError(f"seed must be a non-negative integer, got {seed!r}")
    p = resolve_params(algorithm, dict(params or {}))
    prob = _problem_from(problem if problem is not None else {"name": alg.default_problem})
    if alg.check is not None:
        alg.check(prob, p)
    return alg, p, prob


def run_algorithm(algorithm: str, problem=None, params: dict | None = None, seed: int = 0,
                  adversary: Adversary | str | None = None, model: Model | dict | None = None,
                  max_steps: int | None = None, progress=None) -> RunResult:
    """Run a registered algorithm once and return its trace, schedule and metrics."""
    alg, p, prob = prepare(algorithm, problem, params, seed)
    adv = make_adversary(adversary) if isinstance(adversary, (str, dict)) else (adversary or RoundRobin())
    mdl = Model.from_json(model) if isinstance(model, dict) else (model or Model())
    system = alg.build(prob, p, seed)
    steps = alg.max_steps(p) if max_steps is None else max_steps
    from .engine import Engine
    engine = Engine(system, adv, mdl)
    try:
        trace = engine.run(max_steps=steps, progress=progress)
    except Exception as e:
        # the run raised mid-way (a bug in the algorithm, or a value it refuses): the schedule up to
        # and including the step that raised goes with the exception, so a property suite can save
        # it as a counterexample and a replay can raise it again at the same step
        partial = engine.trace
        e.partial_schedule = Schedule(algorithm=algorithm, params=_jsonable(p), problem=prob.spec(), seed=seed,
                                      model=mdl.to_json(), events=list(partial.events),
                                      annotations=dict(partial.annotations), adversary=adv.to_json(),
                                      digest=partial.compute_digest(), stopped="raised")
        raise
    sched = Schedule(algorithm=algorithm, params=_jsonable(p), problem=prob.spec(), seed=seed,
                     model=mdl.to_json(), events=list(trace.events), annotations=dict(trace.annotations),
                     adversary=adv.to_json(), digest=trace.digest, stopped=trace.stopped)
    return RunResult(trace, sched, prob, p, alg.metrics(trace, prob, p))


def _jsonable(params: dict) -> dict:
    return json.loads(json.dumps(params, default=_json_default))


@dataclass
class ReplayResult:
    reproduced: bool
    digest: str
    expected_digest: str
    trace: Trace | None
    divergence: ReplayDivergence | None = None
    metrics: dict | None = None

    def report(self) -> str:
        if self.reproduced:
            return f"reproduced {self.digest}"
        if self.divergence is not None:
            return str(self.divergence)
        n = len(self.trace.events) if self.trace else 0
        return (f"diverged after {n} steps: every event replayed, but the run "
                f"{'stopped' if self.trace and self.trace.stopped == 'quiescent' else 'could go on'} "
                f"and its digest {self.digest} differs from the recorded {self.expected_digest}")


def replay(schedule: Schedule, progress=None) -> ReplayResult:
    """Rebuild the run of ``schedule`` and replay its events by name."""
    alg, p, prob = prepare(schedule.algorithm, schedule.problem, schedule.params, schedule.seed)
    mdl = Model.from_json(schedule.model)
    system = alg.build(prob, p, schedule.seed)
    adv = Replay(list(schedule.events), dict(schedule.annotations))
    from .engine import Engine
    engine = Engine(system, adv, mdl)
    try:
        trace = engine.run(max_steps=len(schedule.events), progress=progress)
    except ReplayDivergence as d:
        return ReplayResult(False, "", schedule.digest, engine.trace, divergence=d)
    ok = trace.digest == schedule.digest
    return ReplayResult(ok, trace.digest, schedule.digest, trace, metrics=alg.metrics(trace, prob, p))


_REQUIRED = ("algorithm", "params", "problem", "seed", "model", "events", "digest")


def load_schedule(path: str | os.PathLike) -> Schedule:
    """Read and validate a schedule file; every defect is a one-line :class:`InputError`."""
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise InputError(f"schedule file {str(path)!r} does not exist") from None
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"schedule file {str(path)!r} cannot be read: {e}") from None
    try:
        d = json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(f"schedule file {str(path)!r} is not valid JSON (truncated or corrupt?): "
                         f"{e.msg} at line {e.lineno} column {e.colno}") from None
    return schedule_from_json(d, str(path))


def schedule_from_json(d: Any, where: str = "schedule") -> Schedule:
    if not isinstance(d, dict) or d.get("format") != FORMAT:
        raise InputError(f"{where} is not an asyncproof schedule (expected \"format\": \"{FORMAT}\")")
    if d.get("version") != VERSION:
        raise InputError(f"{where} has schedule format version {d.get('version')!r}; "
                         f"this asyncproof ({package_version()}) reads version {VERSION}")
    missing = [k for k in _REQUIRED if k not in d]
    if missing:
        raise InputError(f"{where} lacks field(s) {missing} (truncated or hand-edited?)")
    events = d["events"]
    if not isinstance(events, list):
        raise InputError(f"{where}: 'events' must be a list of event names")
    for i, e in enumerate(events):
        if not isinstance(e, str) or event_kind(e) is None:
            raise InputError(f"{where}: event {i} {e!r} is not an event name "
                             f"(expected 'pN <action>', 'deliver #K ...', 'finish #K ...', 'crash pN' or 'recover pN')")
    if "steps" in d and (isinstance(d["steps"], bool) or not isinstance(d["steps"], int)):
        raise InputError(f"{where}: 'steps' must be an integer, got {d['steps']!r}")
    ann = d.get("annotations", {})
    if not isinstance(ann, dict) or not all(str(k).isdigit() and isinstance(v, dict) for k, v in ann.items()):
        raise InputError(f"{where}: 'annotations' must map step numbers to objects")
    if not isinstance(d["digest"], str) or not d["digest"].startswith("sha256:"):
        raise InputError(f"{where}: 'digest' must be a 'sha256:...' string, got {d['digest']!r}")
    sched = Schedule(algorithm=d["algorithm"], params=d["params"], problem=d["problem"], seed=d["seed"],
                     model=d["model"], events=events, annotations={int(k): v for k, v in ann.items()},
                     adversary=d.get("adversary", {"name": "unknown"}), digest=d["digest"],
                     stopped=d.get("stopped", ""), package_version=d.get("package_version", "?"),
                     property=d.get("property"))
    # Resolve everything now, so a schedule of another algorithm or with foreign parameters
    # is rejected as bad input before any replay starts.
    try:
        prepare(sched.algorithm, sched.problem, sched.params, sched.seed)
        Model.from_json(sched.model)
    except InputError as e:
        raise InputError(f"{where}: {e}") from None
    return sched
