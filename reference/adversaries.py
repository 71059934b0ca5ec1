"""Adversaries: who picks the next event.

Every nondeterministic choice of a run is made here and recorded (by event name)
in the trace, so any run can be replayed.  The engine hands an adversary the
enabled events already filtered by the model (crash budget, majority, delay bound,
fairness) and in canonical order, with the benign, longest-waiting event first.

==============  =====================================================================
name            behaviour
==============  =====================================================================
``roundrobin``  always choice 0: oldest enabled event first (FIFO, fair, no crashes)
``random``      uniform among non-fault events; a fault with probability ``crash_prob``
``pct``         PCT (Burckhardt et al., ASPLOS 2010): random actor priorities and
                ``d - 1`` priority change points; never crashes anyone
``delay``       delays every message and job to the bound ``tau`` (steps), then lets it go
``timed``       simulated clock: process steps take no time, each job takes the compute
                time its worker's model draws; the earliest finish goes first
``replay``      the events of a recorded schedule, by name
==============  =====================================================================

The Hypothesis adversary (:class:`HypothesisAdversary`) draws each choice from
``st.data()``; since choice 0 is the round-robin one, Hypothesis shrinks a
failure toward the benign schedule.

>>> make_adversary("pct:d=3,seed=1")
PCT(seed=1, d=3, horizon=1000)
"""

from __future__ import annotations

import math
import re
import zlib
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .errors import InputError, ReplayDivergence
from .params import Param, at_least, bounded_int, parse_pairs, resolve
from .rng import STREAM_ADVERSARY, STREAM_TIMING, generator
from .timing import Fixed, parse_timing, timing_from_json


class Adversary:
    """Base class.  ``choose`` returns the index of the event to run."""
    name = "adversary"

    def reset(self, engine) -> None:
        pass

    def choose(self, engine, events) -> int:  # pragma: no cover - abstract
        raise NotImplementedError

    def annotate(self, engine, event) -> dict | None:
        return None

    def to_json(self) -> dict:
        return {"name": self.name}


@dataclass
class RoundRobin(Adversary):
    """The benign default: the event that has waited longest (choice 0)."""
    name = "roundrobin"

    def choose(self, engine, events) -> int:
        return 0

    def to_json(self) -> dict:
        return {"name": self.name}


@dataclass
class SeededRandom(Adversary):
    """Uniform among non-fault events; with probability ``crash_prob`` a fault event instead.

    Draws are keyed by ``(seed, step)``, so the same seed gives the same schedule.
    """
    seed: int = 0
    crash_prob: float = 0.0
    name = "random"

    def __post_init__(self):
        _check_int("seed", self.seed)
        if not (0.0 <= float(self.crash_prob) <= 1.0):
            raise InputError(f"crash_prob must be in [0, 1], got {self.crash_prob!r}")

    def choose(self, engine, events) -> int:
        rng = generator(self.seed, STREAM_ADVERSARY, engine.step_index)
        normal = [i for i, e in enumerate(events) if not e.is_fault]
        faults = [i for i, e in enumerate(events) if e.is_fault]
        if faults and (not normal or rng.random() < self.crash_prob):
            return faults[int(rng.integers(len(faults)))]
        return normal[int(rng.integers(len(normal)))]

    def to_json(self) -> dict:
        return {"name": self.name, "seed": self.seed, "crash_prob": self.crash_prob}


def highest_priority(candidates: list[int], rank: Callable[[int], float]) -> int:
    """PCT's choice (Burckhardt et al., ASPLOS 2010): the enabled event of highest ``rank``, ties going
    to the canonical order (the lowest index, the oldest).  :class:`PCT` ranks by seeded priorities;
    the agreement suites' Hypothesis adversary by drawn ones."""
    return max(candidates, key=lambda i: (rank(i), -i))


@dataclass
class PCT(Adversary):
    """Probabilistic concurrency testing with ``d`` priority change points.

    Each actor (process, worker, channel) gets a random initial priority ``>= d``;
    at each of ``d - 1`` change points drawn uniformly in ``[0, horizon)`` the actor
    that just ran drops to priority ``d - 1 - i``.  The highest-priority enabled
    event runs; PCT finds any bug of depth ``d`` with probability at least
    ``1 / (n k^(d-1))`` (Burckhardt, Kothari, Musuvathi, Nagarakatte, ASPLOS 2010).
    """
    seed: int = 0
    d: int = 3
    horizon: int = 1000
    name = "pct"
    _prio: dict = field(default_factory=dict, repr=False)
    _changes: list = field(default_factory=list, repr=False)

    def __post_init__(self):
        _check_int("seed", self.seed)
        _check_int("d", self.d, minimum=1)
        _check_int("horizon", self.horizon, minimum=1)

    def reset(self, engine) -> None:
        rng = generator(self.seed, STREAM_ADVERSARY, 0)
        k = min(self.d - 1, self.horizon)
        self._changes = sorted(int(c) for c in rng.choice(self.horizon, size=k, replace=False))
        self._prio = {}

    def _priority(self, actor: str) -> float:
        if actor not in self._prio:
            self._prio[actor] = self.d + generator(self.seed, STREAM_ADVERSARY, 1 + zlib.crc32(actor.encode())).random()
        return self._prio[actor]

    def choose(self, engine, events) -> int:
        normal = [i for i, e in enumerate(events) if not e.is_fault]
        best = highest_priority(normal, lambda i: self._priority(events[i].actor))
        step = engine.step_index
        if step in self._changes:
            self._prio[events[best].actor] = self.d - 1 - self._changes.index(step)
        return best

    def to_json(self) -> dict:
        return {"name": self.name, "seed": self.seed, "d": self.d, "horizon": self.horizon}


@dataclass
class BoundedDelay(Adversary):
    """Delays every message and job as long as the bound ``tau`` allows.

    Process steps go first (oldest first); a delivery or finish happens only when
    nothing else can, and then the *newest* one, so older ones keep aging until the
    bound forces them (an item pending while ``tau`` process steps were taken must
    go next; see :class:`~asyncproof.reference.engine.Model`).  Under this
    adversary the observed delays reach ``tau`` whenever the run is long enough.
    """
    tau: int = 1
    name = "delay"

    def __post_init__(self):
        _check_int("tau", self.tau)

    def choose(self, engine, events) -> int:
        now = engine.clock
        normal = [i for i, e in enumerate(events) if not e.is_fault]
        overdue = [i for i in normal if events[i].created is not None and now - events[i].created >= self.tau]
        if overdue:
            return min(overdue, key=lambda i: (events[i].created, i))
        steps = [i for i in normal if events[i].kind == "step"]
        if steps:
            return steps[0]
        return max(normal, key=lambda i: (events[i].created, -i))

    def to_json(self) -> dict:
        return {"name": self.name, "tau": self.tau}


def _worker_stream(worker: str) -> int:
    digits = worker.lstrip("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
    return int(digits) if digits.isdigit() else zlib.crc32(worker.encode())


@dataclass
class Timed(Adversary):
    """A simulated clock with per-worker compute-time models.

    Process steps and message deliveries take no time and run first (oldest first);
    when only job finishes are enabled, the job with the earliest finish time
    finishes.  A worker computes its jobs one after another, in the order they
    were started: a job begins when it is started or when the worker's previous
    job ends, whichever is later, and takes the duration its model draws and the clock jumps to it.  The duration
    of worker ``w``'s ``k``-th job is drawn from ``models[w]`` (or ``default``) with
    the generator keyed ``(seed, STREAM_TIMING + w, k)``.  Every event is annotated
    with the clock, which lands in the schedule and is replayed with it.

    A stopped job (:class:`~asyncproof.reference.engine.Stop`) frees its worker at
    once: the worker's next job begins at the time of the stop (or when the stopped
    job would have begun, if it was waiting behind another), as when a real worker
    drops a calculation.

    ``faults``: crashes and recoveries at simulated times, ``(time, "crash" | "recover",
    pid)``; each is taken at the first step at or after its time when the model enables it
    (a crash of a process that is down waits until it is up again), in the order given.
    On the command line: ``timed:...,faults=crash@3:p2;recover@6.5:p2``.

    >>> make_adversary("timed:model=fixed,s=1,faults=crash@3:p2;recover@6.5:p2").faults
    ((3.0, 'crash', 2), (6.5, 'recover', 2))
    """
    models: dict = field(default_factory=dict)
    default: Any = field(default_factory=lambda: Fixed(1.0))
    seed: int = 0
    faults: tuple = ()
    name = "timed"

    def __post_init__(self):
        _check_int("seed", self.seed)
        if isinstance(self.models, (list, tuple)):
            self.models = {f"w{i}": m for i, m in enumerate(self.models)}
        self.faults = check_faults(self.faults)

    def reset(self, engine) -> None:
        self.clock = 0.0
        self._finish: dict[int, float] = {}
        self._count: dict[str, int] = {}
        self._free: dict[str, float] = {}   # a worker computes its jobs one after another
        self._begin: dict[int, float] = {}
        self._faults = list(self.faults)     # the planned faults not taken yet

    def model_of(self, worker: str):
        return self.models.get(worker, self.default)

    def _finish_time(self, e) -> float:
        if e.job not in self._finish:
            k = self._count.get(e.worker, 0)
            self._count[e.worker] = k + 1
            rng = generator(self.seed, STREAM_TIMING + _worker_stream(e.worker), k)
            begin = max(self.clock, self._free.get(e.worker, 0.0))
            self._begin[e.job] = begin
            self._finish[e.job] = self._free[e.worker] = begin + float(self.model_of(e.worker).sample(rng))
        return self._finish[e.job]

    def stopped(self, engine, job: int, worker: str) -> None:
        finish = self._finish.pop(job, None)
        begin = self._begin.pop(job, None)
        if finish is not None and self._free.get(worker) == finish:     # the worker's last job: free it now
            self._free[worker] = max(self.clock, begin)

    def choose(self, engine, events) -> int:
        for i, e in enumerate(events):   # register start times of new jobs at the current clock
            if e.kind == "finish":
                self._finish_time(e)
        normal = [i for i, e in enumerate(events) if not e.is_fault]
        if self._faults and (self._faults[0][0] <= self.clock or not normal):
            at, kind, pid = self._faults[0]
            hit = [i for i, e in enumerate(events) if e.kind == kind and e.pid == pid]
            if hit:                          # due, or nothing else can happen before it: the clock jumps
                self._faults.pop(0)
                self.clock = max(self.clock, at)
                return hit[0]
        if not normal:                       # only faults the model allows, none planned: as round-robin
            return 0
        instant = [i for i in normal if events[i].kind != "finish"]
        if instant:
            return instant[0]
        return min(normal, key=lambda i: (self._finish[events[i].job], i))

    def annotate(self, engine, event) -> dict:
        if event.kind == "finish":
            self.clock = self._finish.pop(event.job)
            self._begin.pop(event.job, None)
        return {"time": self.clock}

    def to_json(self) -> dict:
        out = {"name": self.name, "seed": self.seed, "default": self.default.to_json(),
               "models": {w: m.to_json() for w, m in sorted(self.models.items())}}
        if self.faults:                      # only then: the files of runs without faults are unchanged
            out["faults"] = [list(f) for f in self.faults]
        return out


def check_faults(faults) -> tuple:
    """``faults`` as a tuple of ``(time, kind, pid)`` (from tuples, lists or the command line's
    ``crash@3:p2;recover@6.5:p2``); InputError naming the bad entry."""
    if isinstance(faults, str):
        entries = []
        for part in filter(None, (p.strip() for p in faults.split(";"))):
            m = re.fullmatch(r"(crash|recover)@([^:]+):p(\d+)", part)
            if not m:
                raise InputError(f"faults entry {part!r} must read crash@TIME:pN or recover@TIME:pN")
            entries.append((m.group(2), m.group(1), int(m.group(3))))
        faults = entries
    out = []
    for f in faults or ():
        if not isinstance(f, (list, tuple)) or len(f) != 3:
            raise InputError(f"a planned fault must be (time, 'crash' | 'recover', pid), got {f!r}")
        time_, kind, pid = f
        try:
            time_ = float(time_)
        except (TypeError, ValueError):
            raise InputError(f"planned fault {list(f)!r}: the time {time_!r} is not a number") from None
        if not math.isfinite(time_) or time_ < 0:
            raise InputError(f"planned fault {list(f)!r}: the time must be finite and >= 0")
        if kind not in ("crash", "recover"):
            raise InputError(f"planned fault {list(f)!r}: the kind must be 'crash' or 'recover'")
        if isinstance(pid, bool) or not isinstance(pid, (int, np.integer)) or pid < 0:
            raise InputError(f"planned fault {list(f)!r}: the pid must be a non-negative integer")
        out.append((time_, kind, int(pid)))
    return tuple(out)


@dataclass
class Replay(Adversary):
    """Replays recorded event names; raises :class:`ReplayDivergence` on the first mismatch."""
    events: list
    annotations: dict = field(default_factory=dict)
    name = "replay"

    def choose(self, engine, events) -> int:
        step = engine.step_index
        expected = self.events[step]
        for i, e in enumerate(events):
            if e.name == expected:
                return i
        raise ReplayDivergence(step, expected, [e.name for e in events])

    def annotate(self, engine, event) -> dict | None:
        return self.annotations.get(engine.step_index)

    def to_json(self) -> dict:
        return {"name": self.name}


@dataclass
class PrefixThen(Adversary):
    """Replay the first ``k`` recorded events, then continue with another adversary."""
    events: list
    k: int
    then: Adversary
    annotations: dict = field(default_factory=dict)
    name = "prefix"

    def __post_init__(self):
        _check_int("k", self.k)
        if self.k > len(self.events):
            raise InputError(f"prefix length k = {self.k} exceeds the schedule's {len(self.events)} events")
        self._replay = Replay(self.events[: self.k], self.annotations)

    def reset(self, engine) -> None:
        self.then.reset(engine)

    def choose(self, engine, events) -> int:
        if engine.step_index < self.k:
            return self._replay.choose(engine, events)
        return self.then.choose(engine, events)

    def annotate(self, engine, event):
        if engine.step_index < self.k:
            return self._replay.annotate(engine, event)
        return self.then.annotate(engine, event)

    def stopped(self, engine, job: int, worker: str) -> None:
        if engine.step_index >= self.k and hasattr(self.then, "stopped"):
            self.then.stopped(engine, job, worker)

    def to_json(self) -> dict:
        return {"name": self.name, "k": self.k, "then": self.then.to_json()}


class HypothesisAdversary(Adversary):
    """Draws every choice from Hypothesis's ``st.data()``.

    Choice 0 is the benign, round-robin event, so shrinking moves a failing
    schedule toward the least adversarial one.  ``max_faults`` caps how many
    fault events it may choose (the model's ``f`` still applies).
    """
    name = "hypothesis"

    def __init__(self, data, max_faults: int | None = None):
        self.data = data
        self.max_faults = max_faults
        self.faults = 0

    def reset(self, engine) -> None:
        self.faults = 0

    def choose(self, engine, events) -> int:
        from hypothesis import strategies as st
        allowed = len(events)
        if self.max_faults is not None and self.faults >= self.max_faults:
            allowed = sum(1 for e in events if not e.is_fault) or allowed
        if allowed == 1:
            return 0
        i = self.data.draw(st.integers(0, allowed - 1), label=f"choice@{engine.step_index}")
        if events[i].is_fault:
            self.faults += 1
        return i

    def to_json(self) -> dict:
        return {"name": self.name}


def _check_int(name: str, v, minimum: int = 0) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < minimum:
        raise InputError(f"{name} must be an integer >= {minimum}, got {v!r}")
    return v


ADVERSARY_HELP = {
    "roundrobin": "benign default: oldest enabled event first (choice 0)",
    "random": "seeded uniform choice; params seed=0, crash_prob=0",
    "pct": "PCT priority change points; params seed=0, d=3, horizon=1000",
    "delay": "delay every message/job to the bound; param tau=1",
    "timed": "simulated compute times; params model=fixed|exp|lognormal with its own params "
             "(s, c, lam, mu, sigma; s may list one time per worker as s=1/2/4), seed=0, "
             "faults=crash@TIME:pN;recover@TIME:pN (planned crashes and recoveries)",
}


#: the parameters of each adversary named on the command line or in a schedule (``timed`` takes its
#: seed here and its compute-time model's own parameters, see :mod:`.timing`)
_SEED = Param("seed", int, 0, "the adversary's seed", check=at_least(0, "seed"), lo=0, hi=2 ** 63 - 1)
ADVERSARY_PARAMS: dict[str, dict[str, Param]] = {
    "roundrobin": {},
    "random": {"seed": _SEED,
               "crash_prob": Param("crash_prob", float, 0.0, "probability of crashing a process where it may",
                                   lo=0.0, hi=1.0)},
    "pct": {"seed": _SEED,
            "d": bounded_int("d", 3, "the bug depth: d - 1 priority change points", 1, 10_000),
            "horizon": bounded_int("horizon", 1000, "the steps the change points are drawn from", 1, 10 ** 9)},
    "delay": {"tau": bounded_int("tau", 1, "every message and job delayed by tau steps", 0, 10 ** 6)},
}


def make_adversary(spec: str | dict) -> Adversary:
    """Build an adversary from ``"name:k=v,..."`` (CLI form) or its JSON description.

    >>> make_adversary("pct:seed=3,d=2").to_json()
    {'name': 'pct', 'seed': 3, 'd': 2, 'horizon': 1000}
    >>> make_adversary("random:crash_prob=2")
    Traceback (most recent call last):
    ...
    asyncproof.reference.errors.InputError: adversary 'random': crash_prob must be <= 1, got 2.0
    """
    if isinstance(spec, dict):
        d = dict(spec)
        name = d.pop("name", None)
        if name == "timed":
            return Timed(models={w: timing_from_json(m) for w, m in d.get("models", {}).items()},
                         default=timing_from_json(d.get("default", {"model": "fixed", "s": 1.0})),
                         seed=int(d.get("seed", 0)), faults=d.get("faults", ()))
        params = d
    else:
        if not isinstance(spec, str) or not spec.strip():
            raise InputError(f"adversary must be a name such as 'roundrobin', got {spec!r}")
        name, _, rest = spec.partition(":")
        params = parse_pairs(rest, "adversary parameter", spec)
    name = (name or "").strip()
    if name not in ADVERSARY_HELP:
        raise InputError(f"unknown adversary {name!r}; known: {', '.join(sorted(ADVERSARY_HELP))}")
    try:
        if name != "timed":
            p = resolve(f"adversary {name!r}", ADVERSARY_PARAMS[name], params)
            return {"roundrobin": RoundRobin, "random": SeededRandom, "pct": PCT, "delay": BoundedDelay}[name](**p)
        params = dict(params)
        seed = resolve("adversary 'timed'", {"seed": _SEED}, {"seed": params.pop("seed", 0)})["seed"]
        model = params.pop("model", "fixed")
        faults = check_faults(params.pop("faults", ""))
        per_worker = {k: str(v).split("/") for k, v in params.items() if "/" in str(v)}
        if per_worker:
            counts = {len(v) for v in per_worker.values()}
            if len(counts) != 1:
                raise InputError(f"per-worker lists {per_worker} have different lengths")
            n = counts.pop()
            models = {}
            for i in range(n):
                p = {k: (v[i] if k in per_worker else params[k]) for k, v in
                     {**{k: None for k in params}, **per_worker}.items()}
                models[f"w{i}"] = parse_timing(model + ":" + ",".join(f"{k}={v}" for k, v in p.items()))
            return Timed(models=models, default=models["w0"], seed=seed, faults=faults)
        default = parse_timing(model + ":" + ",".join(f"{k}={v}" for k, v in params.items()))
        return Timed(default=default, seed=seed, faults=faults)
    except InputError:
        raise
    except (TypeError, ValueError) as e:
        raise InputError(f"bad adversary {spec!r}: {e}") from None
