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
from .registry import Algorithm, check_memory, get_algorithm, resolve_params

from .schedule_schema import FORMAT, VERSION


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
             "package_version": self.package_version, "steps": len(self.events)}
        if self.stopped:
            d["stopped"] = self.stopped
        d["events"] = self.events
        d["annotations"] = {str(k): v for k, v in sorted(self.annotations.items())}
        if self.digest:
            d["digest"] = self.digest
        if self.property is not None:
            d["property"] = self.property
        return d

    def save(self, path: str | os.PathLike) -> Path:
        """Write the file atomically (a counterexample is never half on disk, and a failed
        write leaves no temporary file behind)."""
        path = Path(path)
        if path.parent and not path.parent.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, json.dumps(self.to_json(), indent=1, default=_json_default) + "\n")
        return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _probe(directory: Path, what: str, path: Path) -> None:
    """Create and remove a temporary file in ``directory``: the one honest test that it can be written."""
    import tempfile
    try:
        fd, tmp = tempfile.mkstemp(prefix=".asyncproof-probe.", dir=directory)
        os.close(fd)
        os.unlink(tmp)
    except OSError as e:
        raise InputError(f"{what} {str(path)!r}: cannot write in {str(directory)!r} ({e.strerror})") from None


def check_output_path(path: str | os.PathLike, what: str = "output file") -> Path:
    """Refuse, before any work, a file path that cannot be written: a directory, a missing
    parent, a parent that is a file, no permission.  One-line InputError."""
    path = Path(path)
    if str(path) in ("", "."):
        raise InputError(f"{what} path is empty")
    if path.is_dir():
        raise InputError(f"{what} {str(path)!r} is a directory; give a file name")
    parent = path.parent
    if not parent.exists():
        raise InputError(f"{what} {str(path)!r}: the directory {str(parent)!r} does not exist")
    if not parent.is_dir():
        raise InputError(f"{what} {str(path)!r}: {str(parent)!r} is not a directory")
    _probe(parent, what, path)
    if path.exists() and not os.access(path, os.W_OK):
        raise InputError(f"{what} {str(path)!r} exists and is not writable")
    return path


def check_output_dir(path: str | os.PathLike, what: str = "output directory") -> Path:
    """Create ``path`` if missing and check it can be written, before any work (one-line InputError)."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise InputError(f"{what} {str(path)!r} exists and is not a directory")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InputError(f"{what} {str(path)!r} cannot be created ({e.strerror})") from None
    _probe(path, what, path)
    return path


def write_atomically(path: str | os.PathLike, data: str | bytes) -> Path:
    """Write ``data`` to a temporary file beside ``path``, then rename it over ``path``."""
    import tempfile
    path = Path(path)
    if path.is_dir():
        raise InputError(f"cannot write {str(path)!r}: it is a directory")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent if str(path.parent) else ".")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
            f.flush()
            os.fsync(f.fileno())             # on disk before the rename: a crash leaves the old file or the new
        os.chmod(tmp, 0o666 & ~_umask())          # mkstemp makes 0600; a saved file reads like any other
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
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


def prepare(algorithm: "str | Algorithm", problem=None, params: dict | None = None, seed: int = 0):
    """Resolve an algorithm (a name, or an :class:`~asyncproof.reference.registry.Algorithm` such as a
    broken variant), its parameters and its problem (all errors are InputError)."""
    alg = get_algorithm(algorithm)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InputError(f"seed must be a non-negative integer, got {seed!r}")
    p = resolve_params(alg, dict(params or {}))
    prob = _problem_from(problem if problem is not None else {"name": alg.default_problem})
    if alg.check is not None:
        alg.check(prob, p)
    check_memory(alg, prob, p)          # refuse, with the estimate, what would not fit: before allocating
    return alg, p, prob


def checkpoint_dir(checkpoints, alg, params: dict, problem, seed: int):
    """The :class:`~asyncproof.reference.checkpoints.CheckpointDir` of a run (None without one): a
    directory is checked (another run's checkpoints refused) before the run starts."""
    from .checkpoints import CheckpointDir
    if checkpoints is None or isinstance(checkpoints, CheckpointDir):
        return checkpoints
    return CheckpointDir(checkpoints, {"algorithm": alg.name, "params": _jsonable(params), "problem": problem.spec(),
                                       "seed": seed})


def run_algorithm(algorithm: "str | Algorithm", problem=None, params: dict | None = None, seed: int = 0,
                  adversary: Adversary | str | None = None, model: Model | dict | None = None,
                  max_steps: int | None = None, progress=None, checkpoints=None) -> RunResult:
    """Run an algorithm (by name, or an :class:`~asyncproof.reference.registry.Algorithm`) once and
    return its trace, schedule and metrics.  ``checkpoints``: a directory holding the processes'
    non-volatile memory (:mod:`~asyncproof.reference.checkpoints`), one file per process (or the
    :class:`~asyncproof.reference.checkpoints.CheckpointDir` :func:`checkpoint_dir` made for this run)."""
    alg, p, prob = prepare(algorithm, problem, params, seed)
    algorithm = alg.name
    adv = make_adversary(adversary) if isinstance(adversary, (str, dict)) else (adversary or RoundRobin())
    mdl = Model.from_json(model) if isinstance(model, dict) else (model or Model())
    system = alg.system(prob, p, seed)
    steps = alg.max_steps(p) if max_steps is None else max_steps
    from .engine import Engine
    engine = Engine(system, adv, mdl, checkpoint_dir(checkpoints, alg, p, prob, seed))
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
    """What a replay found.

    ``reproduced``: every recorded event replayed, the run ended where the file says
    (after ``steps`` events, for the reason ``stopped``) and the digest matches.  A file
    without a digest (written by hand) has ``checked_digest = False``: ``reproduced``
    then means the events replayed and the run ended as recorded, and ``digest`` is the
    one it reached."""
    reproduced: bool
    digest: str
    expected_digest: str
    trace: Trace | None
    divergence: ReplayDivergence | None = None
    metrics: dict | None = None
    ended: str = ""                     # a run that ended differently from the file: why

    @property
    def checked_digest(self) -> bool:
        return bool(self.expected_digest)

    def report(self) -> str:
        if self.reproduced:
            if not self.checked_digest:
                return f"ran to the end; no digest to compare; digest {self.digest}"
            return f"reproduced {self.digest}"
        if self.divergence is not None:
            return str(self.divergence)
        if self.ended:
            return self.ended
        n = len(self.trace.events) if self.trace else 0
        return (f"diverged after {n} steps: every event replayed and the run ended as recorded "
                f"({self.trace.stopped if self.trace else '?'}), but its digest {self.digest} differs "
                f"from the recorded {self.expected_digest}")


def replay(schedule: Schedule, progress=None) -> ReplayResult:
    """Rebuild the run of ``schedule`` and replay its events by name, strictly.

    Every recorded event must be replayed: a run that ends (nothing enabled) before the
    schedule's last event diverges at the first event it did not consume.  The run must
    also end for the recorded reason (``stopped``): a schedule cut short of a quiescent
    run replays all its events but ends at ``max_steps``, which is a divergence."""
    alg, p, prob = prepare(schedule.algorithm, schedule.problem, schedule.params, schedule.seed)
    mdl = Model.from_json(schedule.model)
    system = alg.system(prob, p, schedule.seed)
    adv = Replay(list(schedule.events), dict(schedule.annotations))
    from .engine import Engine
    engine = Engine(system, adv, mdl)
    n = len(schedule.events)
    try:
        trace = engine.run(max_steps=n, progress=progress)
    except ReplayDivergence as d:
        return ReplayResult(False, "", schedule.digest, engine.trace, divergence=d)
    if len(trace.events) < n:
        k = len(trace.events)
        d = ReplayDivergence(k, schedule.events[k], [],
                             f"the run had ended ({trace.stopped}) after {k} events, "
                             f"and the schedule holds {n - k} more")
        return ReplayResult(False, trace.digest, schedule.digest, trace, divergence=d)
    metrics = alg.metrics(trace, prob, p)
    if schedule.stopped and trace.stopped != schedule.stopped:
        why = {"max_steps": "could go on", "quiescent": "had nothing left to do"}.get(trace.stopped, trace.stopped)
        ended = (f"diverged at the end: all {n} events replayed, but then the run {why} ({trace.stopped}) "
                 f"where the schedule says it {schedule.stopped}")
        return ReplayResult(False, trace.digest, schedule.digest, trace, metrics=metrics, ended=ended)
    ok = trace.digest == schedule.digest if schedule.digest else True
    return ReplayResult(ok, trace.digest, schedule.digest, trace, metrics=metrics)


def read_schedule_file(path: str | os.PathLike) -> tuple[Any, str]:
    """The parsed JSON of a schedule file (bounded: size, nesting, numbers) and the file's name for
    messages; every defect is a one-line :class:`InputError`."""
    from .schedule_schema import MAX_FILE_BYTES, parse_text
    path = Path(path)
    where = f"schedule file {str(path)!r}"
    try:
        if path.is_dir():
            raise InputError(f"{where} is a directory")
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise InputError(f"{where} is {size} bytes; a schedule file is at most {MAX_FILE_BYTES}")
        text = path.read_text()
    except FileNotFoundError:
        raise InputError(f"{where} does not exist") from None
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{where} cannot be read: {e}") from None
    return parse_text(text, where), where


def load_schedule(path: str | os.PathLike) -> Schedule:
    """Read and validate a schedule file; every defect is a one-line :class:`InputError`.

    The text is bounded and parsed, checked against the declared schema
    (:data:`~asyncproof.reference.schedule_schema.SCHEMA`), then for meaning
    (:func:`schedule_from_json`)."""
    d, where = read_schedule_file(path)
    return schedule_from_json(d, where)


def schedule_from_json(d: Any, where: str = "schedule") -> Schedule:
    """A :class:`Schedule` from a parsed file: the schema first, then what it means."""
    from .schedule_schema import validate
    validate(d, where)
    events = d["events"]
    for i, e in enumerate(events):
        if event_kind(e) is None:
            raise InputError(f"{where}: field 'events[{i}]': {e[:80]!r} is not an event name "
                             f"(expected 'pN <action>', 'deliver #K ...', 'finish #K ...', 'crash pN' or 'recover pN')")
    if "steps" in d and d["steps"] != len(events):
        raise InputError(f"{where}: field 'steps' is {d['steps']} but the file holds {len(events)} events "
                         f"(truncated, doubled or hand-edited?)")
    ann = {int(k): v for k, v in d.get("annotations", {}).items()}
    late = sorted(k for k in ann if k >= len(events))
    if late:
        raise InputError(f"{where}: field 'annotations' annotates step {late[0]}, "
                         f"but the file holds only {len(events)} events")
    alg_name = d["algorithm"]
    problem = d.get("problem")
    if problem is None:
        try:
            problem = {"name": get_algorithm(alg_name).default_problem}
        except InputError as e:
            raise InputError(f"{where}: {e}") from None
    sched = Schedule(algorithm=alg_name, params=d.get("params", {}), problem=problem, seed=d.get("seed", 0),
                     model=d.get("model", {}), events=events, annotations=ann,
                     adversary=d.get("adversary", {"name": "unknown"}), digest=d.get("digest") or "",
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
