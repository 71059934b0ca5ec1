"""The reference engine: processes as generators of atomic actions, run by an adversary.

A process is a Python generator that reads like the paper's pseudo-code.  Each
``yield`` is one **atomic action** (:class:`Read`, :class:`Write`, :class:`Collect`,
:class:`Send`, :class:`Broadcast`, :class:`Receive`, :class:`Start`, :class:`Stop`,
:class:`Checkpoint`, :class:`Output`, :class:`Local`); the engine sends back the
action's result.  The code between two yields runs as part of the step that
precedes it, so the granularity of atomicity is exactly the granularity of yields.

At every step the engine lists the **enabled events** in a canonical order:

* a process's next action (``"p2 write x"``),
* the delivery of an in-flight message (``"deliver #7 p1->p4 round 2"``),
* the finish of a running job (``"finish #3 w1 grad f_5(x_2)"``),
* a recovery (``"recover p2"``) or a crash (``"crash p2"``) the fault model allows.

Non-fault events are ordered oldest-enabled first (ties: step, deliver, finish, then
by key), so choice 0 is always the event that has waited longest: a round-robin,
FIFO, benign schedule.  Recoveries and then crashes come last, so the most
adversarial choices have the largest indices, and a Hypothesis adversary that
shrinks choices toward 0 shrinks toward the benign schedule.  The model's
constraints (:class:`Model`: at most ``f`` crashes, a correct majority, delay
bound τ, weak fairness) filter the enabled set before the adversary sees it, so
every adversary produces only legal schedules.

Jobs model timed computation on workers (seed 001's jobs ``(i, π)``; seed 002's
straggler times): :class:`Start` returns a handle at once; the job's result
arrives in the owner's inbox as a message when the adversary picks its
``finish`` event.  The timed adversary picks finishes by simulated compute time.

A run whose values stop being finite (a NaN or ±inf recorded, output, or refused by a
problem) ends right after that step with ``trace.stopped == "diverged"`` and says where
in ``trace.divergence`` (:class:`Divergence`; ``docs/engine.md``, "Divergence").

Example: two processes exchange a message under the benign schedule.

>>> def ping(ctx):
...     yield Send(1, "hello", tag="ping")
...     (reply,) = yield Receive(until=lambda ms: len(ms) >= 1, label="pong")
...     yield Output(reply.payload)
>>> def pong(ctx):
...     (msg,) = yield Receive(until=lambda ms: len(ms) >= 1, label="ping")
...     yield Send(msg.src_pid, msg.payload.upper(), tag="pong")
>>> from asyncproof.reference.adversaries import RoundRobin
>>> trace = run(System([ProcessSpec(ping), ProcessSpec(pong)]), RoundRobin())
>>> trace.events
['p0 send ->p1 ping', 'deliver #0 p0->p1 ping', 'p1 receive ping [1 msg]', 'p1 send ->p0 pong', 'deliver #1 p1->p0 pong', 'p0 receive pong [1 msg]', 'p0 output']
>>> trace.outputs[0]
['HELLO']
"""

from __future__ import annotations

import copy
import hashlib
import math
import re
import struct
import time
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Callable, Generator, Iterable

import numpy as np

from .errors import InputError, NonFinite
from .records import Record, UndeclaredRecord, check_write

# --------------------------------------------------------------------------------------
# Atomic actions
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Read:
    """Read one shared register; the result is its value."""
    register: str


@dataclass(frozen=True)
class Write:
    """Write one shared register (the value is copied, so later mutation cannot leak)."""
    register: str
    value: Any
    label: str = ""


@dataclass(frozen=True)
class Collect:
    """Read several registers one at a time: a *non-atomic* scan.

    Each register read is its own step, so the adversary can interleave other
    processes' writes between them; the result is the list of values read.
    """
    registers: tuple[str, ...]


@dataclass(frozen=True)
class Send:
    """Put a message to process ``dst`` in flight; the adversary decides when it arrives."""
    dst: int
    payload: Any
    tag: str = ""


@dataclass(frozen=True)
class Broadcast:
    """Send to every process (itself included unless ``include_self`` is false), in pid order."""
    payload: Any
    tag: str = ""
    include_self: bool = True


@dataclass(frozen=True)
class Receive:
    """Wait until ``until(messages)`` holds on the delivered messages that ``match``.

    Enabled only while the condition holds.  The result is the list of matching
    messages in delivery order; they are removed from the inbox.
    """
    until: Callable[[list], bool] = lambda ms: len(ms) >= 1
    match: Callable[[Any], bool] | None = None
    label: str = ""


@dataclass(frozen=True)
class Job:
    """A timed computation on a worker: ``fn()`` is evaluated when the job finishes."""
    worker: str
    label: str
    fn: Callable[[], Any]


@dataclass(frozen=True)
class Start:
    """Start a job; returns a job id at once, the result arrives later as a message."""
    job: Job


@dataclass(frozen=True)
class Stop:
    """Stop running jobs: they never finish and their results never arrive.

    Tyurin & Richtárik's "Stop all the workers' calculations" (Rennala and Malenia SGD,
    line 12 of Algorithm 1 in Tyurin 2025).  The result is the list of the ids that
    were still running; a job that already finished is not affected (its result may be
    in the owner's inbox).  The adversary hears of each stopped job (``stopped``), so
    the timed adversary frees the worker at the current time.
    """
    jobs: tuple[int, ...]
    label: str = ""


@dataclass(frozen=True)
class Checkpoint:
    """Save ``state`` to the process's non-volatile memory (survives a crash)."""
    state: Any


@dataclass(frozen=True)
class Output:
    """Record an output value of the process."""
    value: Any


@dataclass(frozen=True)
class Local:
    """A named local step with no shared effect (a scheduling point, e.g. ``"update t=3"``)."""
    label: str


@dataclass
class Message:
    """A message in flight or delivered.  Job results are messages with ``job`` set."""
    id: int
    src: str
    dst: int
    payload: Any
    tag: str
    sent_at: int
    job: int | None = None
    sent_clock: int = 0

    @property
    def src_pid(self) -> int | None:
        return int(self.src[1:]) if self.src.startswith("p") and self.src[1:].isdigit() else None


def compute(worker: str, label: str, fn: Callable[[], Any]):
    """Start a job and wait for its result: ``g = yield from compute("w0", "grad", f)``."""
    jid = yield Start(Job(worker, label, fn))
    (msg,) = yield Receive(until=lambda ms: len(ms) >= 1, match=lambda m, jid=jid: m.job == jid,
                           label=f"job #{jid}")
    return msg.payload


# --------------------------------------------------------------------------------------
# Systems, processes, context
# --------------------------------------------------------------------------------------


@dataclass
class ProcessSpec:
    """How to start a process, and (optionally) how to restart it after a crash.

    ``body(ctx)`` returns the generator.  ``recover(ctx, checkpoint)`` returns the
    generator of a recovered process; ``checkpoint`` is the last :class:`Checkpoint`
    state, or ``None`` if it never checkpointed.  Without ``recover`` the process
    cannot recover (crash-stop).
    """
    body: Callable[["Context"], Generator]
    recover: Callable[["Context", Any], Generator] | None = None


@dataclass
class System:
    """The processes of a run and the initial values of the shared registers."""
    processes: list[ProcessSpec]
    registers: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    # the records its processes may write (reference/records.py), set by Algorithm.system for a
    # registered algorithm called ``name``; None: a hand-built system, whose writes are not checked
    records: dict[str, Any] | None = field(default=None, compare=False)
    name: str = field(default="", compare=False)

    def __post_init__(self):
        if not self.processes:
            raise InputError("a system needs at least one process, got 0")


class Context:
    """What a process may know about itself: pid, n, seed, its observations, its checkpoint."""

    def __init__(self, engine: "Engine", pid: int):
        self._engine = engine
        self.pid = pid
        self.name = f"p{pid}"
        self.n = len(engine.system.processes)
        self.seed = engine.system.seed

    @property
    def step(self) -> int:
        """Index of the step being executed (the step that led to this code running)."""
        return self._engine.step_index

    @property
    def checkpoint(self):
        return copy.deepcopy(self._engine.nvm.get(self.pid))

    def record(self, key: "str | Record", value: Any = None) -> None:
        """Attach an observation to the current step (delays, rounds, iterates, ...): ``record(key,
        value)``, or ``record(r)`` with ``r`` a typed :class:`~asyncproof.reference.records.Record`.
        Checked against the records the algorithm declares (an undeclared key or a field missing is
        an :class:`~asyncproof.reference.records.UndeclaredRecord` here, at the writer)."""
        system = self._engine.system
        value = check_write(system.records, key, value, system.name or "this system")
        key = type(key).key if isinstance(key, Record) else key
        self._engine.trace.observations.append((self._engine.step_index, self.pid, key, _frozen(value)))


def _frozen(value):
    """Copy arrays so that observations cannot change after they are recorded."""
    if isinstance(value, np.ndarray):
        v = value.copy()
        v.setflags(write=False)
        return v
    if isinstance(value, (list, tuple)):
        return type(value)(_frozen(v) for v in value)
    if isinstance(value, dict):
        return {k: _frozen(v) for k, v in value.items()}
    return value


# --------------------------------------------------------------------------------------
# Model: constraints as filters on the enabled set
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    """One enabled event, as an adversary sees it."""
    name: str
    kind: str          # "step" | "deliver" | "finish" | "recover" | "crash"
    actor: str         # "p3", "w1", or "p1->p4" for a channel
    key: tuple
    since: int         # the step at which it became (continuously) enabled
    created: int | None = None   # deliver/finish: the delay clock when its message or job was created
    worker: str | None = None
    job: int | None = None
    pid: int | None = None

    @property
    def is_fault(self) -> bool:
        return self.kind in ("crash", "recover")


@dataclass(frozen=True)
class Model:
    """The model's constraints on schedules.

    Parameters
    ----------
    f : int
        At most ``f`` crash events in a run.
    crashable : tuple of int or None
        The pids allowed to crash (default: all).
    recovery : bool
        Crash-recovery: a crashed process with a ``recover`` hook may be restarted
        from its checkpoint.  Without it, crashes are crash-stop.
    majority : bool
        A correct majority must remain: a crash is enabled only while more than
        half of the processes would still be up, and ``f`` must leave a majority.
    tau : int or None
        Delay bound: a message in flight or a job running while ``tau`` process steps
        were taken must be delivered/finished before any other process steps.
        Delays are counted in process steps (the *delay clock*), not in events, so
        that the deliveries of one broadcast do not delay each other.
    fairness : int or None
        Weak fairness: an event enabled for ``fairness`` consecutive steps is taken next.
    """
    f: int = 0
    crashable: tuple[int, ...] | None = None
    recovery: bool = False
    majority: bool = False
    tau: int | None = None
    fairness: int | None = None

    def validate(self, n: int) -> "Model":
        for name in ("f",):
            v = getattr(self, name)
            if not isinstance(v, int) or v < 0:
                raise InputError(f"f must be a non-negative integer number of crashes, got {v!r}")
        if self.tau is not None and (not isinstance(self.tau, int) or self.tau < 0):
            raise InputError(f"tau must be a non-negative integer delay bound, got {self.tau!r}")
        if self.fairness is not None and (not isinstance(self.fairness, int) or self.fairness < 1):
            raise InputError(f"fairness must be a positive integer bound, got {self.fairness!r}")
        if self.crashable is not None:
            bad = [p for p in self.crashable if not (isinstance(p, int) and 0 <= p < n)]
            if bad:
                raise InputError(f"crashable pids {bad} are not processes of this system (n = {n})")
        if self.majority and self.f > (n - 1) // 2 and not self.recovery:
            raise InputError(
                f"f = {self.f} crashes of n = {n} processes leave no correct majority "
                f"(a majority needs f <= {(n - 1) // 2})")
        return self

    def to_json(self) -> dict:
        return {"f": self.f, "crashable": list(self.crashable) if self.crashable is not None else None,
                "recovery": self.recovery, "majority": self.majority, "tau": self.tau,
                "fairness": self.fairness}

    @classmethod
    def from_json(cls, d: dict) -> "Model":
        if not isinstance(d, dict):
            raise InputError(f"model must be an object, got {type(d).__name__}")
        known = {"f", "crashable", "recovery", "majority", "tau", "fairness"}
        unknown = sorted(set(d) - known)
        if unknown:
            raise InputError(f"unknown model field(s) {unknown}; known: {sorted(known)}")
        d = dict(d)
        if d.get("crashable") is not None:
            d["crashable"] = tuple(d["crashable"])
        return cls(**d)


# --------------------------------------------------------------------------------------
# Trace
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Divergence:
    """Where a run's values stopped being finite: ``trace.divergence`` of a run that ``stopped == "diverged"``.

    ``step``: the step (index into ``trace.events``) that produced the first non-finite value;
    it is the run's last step.  ``pid``: the process that recorded (or computed) it.
    ``key``: the observation key that holds it (``"x"``, ``"mem"``, ``"received"``, ...),
    ``"output"`` for an :class:`Output`, or the name the problem gave the point
    (``"x"``) when the problem refused it (``detected == "problem"``).  ``field``: where
    inside the record (``"gradient"``, ``"3"``; ``""`` for the value itself).
    ``iteration``: the algorithm's iteration that produced it (see :func:`iteration_of`;
    ``None`` when the trace does not tell).  ``norm``: the Euclidean norm of the non-finite
    value (``inf``, or ``nan`` when a coordinate is NaN).  ``detected``: ``"record"`` (an
    observation), ``"output"`` or ``"problem"`` (a problem's :class:`~.errors.NonFinite`).
    """
    step: int
    pid: int | None
    key: str
    iteration: int | None
    norm: float
    field: str = ""
    detected: str = "record"

    def to_json(self) -> dict:
        return {"step": self.step, "pid": self.pid, "key": self.key, "iteration": self.iteration,
                "norm": self.norm, "field": self.field, "detected": self.detected}

    def describe(self) -> str:
        """One line: ``diverged at iteration 12 (|x| = inf, step 47, p0)``."""
        at = f"iteration {self.iteration}" if self.iteration is not None else f"step {self.step}"
        name = self.key + (f".{self.field}" if self.field else "")
        where = f"step {self.step}" + (f", p{self.pid}" if self.pid is not None else "")
        return f"diverged at {at} (|{name}| = {self.norm:g}, {where})"


#: Observation keys whose values may legitimately be non-finite: never read as a divergence.
#: (A process's return value is whatever it returns; job bookkeeping holds ids.)
UNCHECKED_KEYS = frozenset({"return", "job_lost", "job_stopped"})

#: The record fields that name an iteration, in order of preference (see :func:`iteration_of`).
ITERATION_FIELDS = ("k", "t", "r", "round")


def first_nonfinite(value, path: str = "") -> tuple[str, float] | None:
    """``(where, norm)`` of the first non-finite float in ``value``, or ``None`` if all are finite.

    Walks dicts, lists and tuples; looks at float (and complex) arrays and scalars only, so
    integers, strings, Fractions and other objects never count.  ``where`` is the path
    inside ``value`` (``"gradient"``, ``"3"``, ``""`` for the value itself), ``norm`` the
    Euclidean norm of the array (the absolute value of the scalar) that holds it."""
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "fc" and not np.isfinite(value).all():
            with np.errstate(over="ignore", invalid="ignore"):
                return path, float(np.linalg.norm(value))
        return None
    if isinstance(value, (float, np.floating)):
        return None if math.isfinite(value) else (path, abs(float(value)))
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, (list, tuple)):
        items = enumerate(value)
    else:
        return None
    for k, v in items:
        if isinstance(v, (np.ndarray, float, np.floating, dict, list, tuple)):
            hit = first_nonfinite(v, f"{path}.{k}" if path else str(k))
            if hit is not None:
                return hit
    return None


def _label(value) -> int | None:
    """The iteration a record names: a dict's ``k``/``t``/``r``/``round`` field, or the ``k`` of an
    operation record ``(op, k, ...)`` (HOGWILD!'s memory operations)."""
    def whole(v):
        return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))
    if isinstance(value, dict):
        for f in ITERATION_FIELDS:
            if whole(value.get(f)):
                return int(value[f])
    elif isinstance(value, tuple) and len(value) >= 2 and isinstance(value[0], str) and whole(value[1]):
        return int(value[1])
    return None


_NAMED_ITERATION = re.compile(r"(?:^|[\s(])(?:[kt]=|round )(\d+)\b")


def iteration_of(key: str, value, earlier_x: int | None, earlier_same: int) -> int | None:
    """The iteration a non-finite record belongs to (``Divergence.iteration``).

    * an iterate ``"x"``: the number of earlier ``"x"`` records of its process, so ``k`` when
      ``x_{k+1}`` (the result of iteration ``k``, counted from 0) is the first non-finite
      iterate: SGD's and mini-batch SGD's ``t``, a parameter server's update ``t`` (Rennala's
      and Malenia's round ``k``, FedBuff's published version), a SimuParallelSGD node's ``t``;
    * any other record of a process that records iterates (a received gradient, an update's
      summary): the number of its ``"x"`` records so far, the iteration in progress;
    * a record of a process without iterates: the iteration it names (a ``k``, ``t``, ``r`` or
      ``round`` field: the round of an agreement message, the sample ``t`` of CYCLADES; the
      ``k`` of a HOGWILD! memory operation ``(op, k, v, x_v)``: the sample ``k``);
    * otherwise the number of earlier records of the same key by the same process.
    """
    if key == "x":
        return earlier_same
    if earlier_x:
        return earlier_x
    label = _label(value)
    return label if label is not None else earlier_same


@dataclass
class Trace:
    """Everything a run produced: the schedule, observations, outputs and a stable digest."""
    events: list[str] = field(default_factory=list)
    annotations: dict[int, dict] = field(default_factory=dict)   # adversary metadata per step (e.g. time)
    observations: list[tuple[int, int, str, Any]] = field(default_factory=list)
    outputs: dict[int, list] = field(default_factory=dict)
    registers: dict[str, Any] = field(default_factory=dict)
    stopped: str = ""                     # "quiescent" | "max_steps" | "diverged"
    crashed: list[int] = field(default_factory=list)
    enabled_counts: list[int] = field(default_factory=list)   # how many events the adversary chose from
    choices: list[int] = field(default_factory=list)          # the index it chose
    delays: list[tuple[int, str, int]] = field(default_factory=list)
    # (step, "deliver"/"finish", delay: process steps taken while the message/job was pending)
    lanes: list[str] = field(default_factory=list)    # per step: the lane it happened on ("p2", "w0")
    links: list[tuple[int, int, str, str, str]] = field(default_factory=list)
    # (from step, to step, from lane, to lane, "message" | "job" | "result") for space-time diagrams
    digest: str = ""
    divergence: Divergence | None = None   # where the run diverged (stopped == "diverged"), else None
    declared: dict[str, Any] | None = None  # the records the run's algorithm declares (None: unchecked)
    algorithm: str = ""

    def records(self, kind: "type[Record] | str", pid: int | None = None) -> list:
        """The records ``kind`` (a :class:`~asyncproof.reference.records.Record` type, typed values
        back; or a key, plain values back), by ``pid`` if given, in step order.  Refuses a key the
        run's algorithm does not declare (a misspelt key is an error here, not an empty list)."""
        key = kind if isinstance(kind, str) else kind.key
        self._declares(key)
        values = self.observed(key, pid)
        if isinstance(kind, str):
            return values
        return [kind.of(v, self.algorithm) for v in values]

    def _declares(self, key: str) -> None:
        """Refuse (UndeclaredRecord) a key the run's algorithm does not declare (the engine's own aside)."""
        if self.declared is not None and key not in self.declared and key not in UNCHECKED_KEYS:
            raise UndeclaredRecord(f"a run of {self.algorithm or 'this system'} has no record {key!r} "
                                   f"(it declares: {', '.join(sorted(self.declared))})")

    def stepwise(self, *kinds, pid: int | None = None) -> list[tuple[int, int, str, Any]]:
        """``(step, pid, key, record)`` of every record of ``kinds`` (Record types: typed back; a
        :class:`~asyncproof.reference.records.Value` or a key: as stored), by ``pid`` if given,
        interleaved in step order: for the readers that need a record's step or writer, or rebuild
        books from the order of several records.  Refuses an undeclared key as :meth:`records` does."""
        by_key = {}
        for kind in kinds:
            key = kind if isinstance(kind, str) else kind.key
            self._declares(key)
            by_key[key] = kind
        return [(step, p, key, kind.of(v, self.algorithm) if isinstance(kind, type) else v)
                for step, p, key, v in self.observations
                if (kind := by_key.get(key)) is not None and (pid is None or p == pid)]

    def observed(self, key: str, pid: int | None = None) -> list:
        """The values recorded under ``key`` (by ``pid`` if given), in step order."""
        return [v for (_, p, k, v) in self.observations if k == key and (pid is None or p == pid)]

    def compute_digest(self) -> str:
        h = hashlib.sha256()
        _feed(h, ("events", self.events))
        _feed(h, ("annotations", sorted(self.annotations.items())))
        _feed(h, ("observations", self.observations))
        _feed(h, ("outputs", sorted(self.outputs.items())))
        _feed(h, ("registers", sorted(self.registers.items())))
        _feed(h, ("stopped", self.stopped))
        if self.divergence is not None:     # only then: the digest of a run that stays finite is unchanged
            d = self.divergence
            _feed(h, ("divergence", (d.step, d.pid, d.key, d.iteration, d.norm, d.field, d.detected)))
        return "sha256:" + h.hexdigest()

    def finite_part(self) -> "Trace":
        """The run as it stood before the step that diverged (``self`` if it did not diverge).

        A shallow copy without the observations of the diverging step and without non-finite
        outputs; everything else (events, ``stopped``, ``divergence``) is kept.  Metrics of a
        diverged run are computed on it (``reference/registry.py``, :func:`register`)."""
        d = self.divergence
        if d is None:
            return self
        part = copy.copy(self)
        part.observations = [o for o in self.observations if o[0] < d.step]
        part.outputs = {p: [v for v in vs if first_nonfinite(v) is None] for p, vs in self.outputs.items()}
        return part


def _feed(h, v) -> None:
    """Canonical, type-tagged serialisation: equal digests mean bit-identical contents."""
    if v is None:
        h.update(b"N")
    elif isinstance(v, (bool, np.bool_)):
        h.update(b"B1" if v else b"B0")
    elif isinstance(v, (int, np.integer)):
        s = str(int(v)).encode()
        h.update(b"I" + struct.pack("<I", len(s)) + s)
    elif isinstance(v, (float, np.floating)):
        h.update(b"F" + struct.pack("<d", float(v)))
    elif isinstance(v, str):
        s = v.encode()
        h.update(b"S" + struct.pack("<I", len(s)) + s)
    elif isinstance(v, Fraction):
        _feed(h, ("Q", v.numerator, v.denominator))
    elif isinstance(v, np.ndarray):
        a = np.ascontiguousarray(v)
        meta = f"{a.dtype.str}{a.shape}".encode()
        h.update(b"A" + struct.pack("<I", len(meta)) + meta)
        h.update(a.tobytes())
    elif isinstance(v, (list, tuple)):
        h.update(b"L" + struct.pack("<I", len(v)))
        for x in v:
            _feed(h, x)
    elif isinstance(v, dict):
        _feed(h, sorted(((str(k), x) for k, x in v.items()), key=lambda kv: kv[0]))
    elif isinstance(v, Message):
        _feed(h, ("M", v.id, v.src, v.dst, v.payload, v.tag, v.sent_at, v.job))
    else:
        s = repr(v).encode()
        h.update(b"R" + struct.pack("<I", len(s)) + s)


# --------------------------------------------------------------------------------------
# Engine
# --------------------------------------------------------------------------------------

_UP, _DONE, _CRASHED = "up", "done", "crashed"


class _Proc:
    def __init__(self, pid: int):
        self.pid = pid
        self.gen: Generator | None = None
        self.action: Any = None          # the pending action
        self.status = _UP
        self.inbox: list[Message] = []
        self.collect_values: list = []   # partial result of a pending Collect


@dataclass
class _RunningJob:
    id: int
    owner: int
    job: Job
    started: int
    started_clock: int = 0


class Engine:
    """Runs one :class:`System` under an adversary and a :class:`Model`; see :func:`run`."""

    def __init__(self, system: System, adversary, model: Model | None = None, checkpoints=None):
        self.system = system
        # non-volatile memory on disk (reference/checkpoints.py): every Checkpoint is also written
        # there, and a recovered process restarts from what is read back
        self.checkpoints = checkpoints
        self.model = (model or Model()).validate(len(system.processes))
        self.adversary = adversary
        self.trace = Trace(declared=system.records, algorithm=system.name)
        self.step_index = 0
        self.registers = {k: copy.deepcopy(v) for k, v in system.registers.items()}
        self.nvm: dict[int, Any] = {}
        self.procs = [_Proc(i) for i in range(len(system.processes))]
        self.contexts = [Context(self, i) for i in range(len(system.processes))]
        self.in_flight: dict[int, Message] = {}
        self.jobs: dict[int, _RunningJob] = {}
        self._next_msg = 0
        self._next_job = 0
        self.crash_count = 0
        self.clock = 0                   # the delay clock: process steps taken so far
        self._since: dict[tuple, int] = {}
        self._scanned = 0                # observations already checked for non-finite values
        self._counts: dict[tuple[int, str], int] = {}    # (pid, key) -> records so far
        self._step_outputs: list[tuple[int, Any]] = []   # outputs of the step being executed
        for p in self.procs:
            self._start(p, self.system.processes[p.pid].body(self.contexts[p.pid]))

    # -- process lifecycle -------------------------------------------------------------
    def _start(self, p: _Proc, gen) -> None:
        p.gen = gen
        p.status = _UP
        p.collect_values = []
        self._advance(p, None, first=True)

    def _advance(self, p: _Proc, result, first: bool = False) -> None:
        try:
            action = p.gen.send(None) if first else p.gen.send(result)
        except StopIteration as stop:
            p.status = _DONE
            p.action = None
            if stop.value is not None:
                self.trace.observations.append((self.step_index, p.pid, "return", _frozen(stop.value)))
            return
        if not isinstance(action, (Read, Write, Collect, Send, Broadcast, Receive, Start, Stop,
                                   Checkpoint, Output, Local)):
            raise TypeError(f"process p{p.pid} yielded {action!r}, which is not an atomic action")
        p.action = action
        p.status = _UP

    # -- enabled events ----------------------------------------------------------------
    def _step_name(self, p: _Proc) -> str | None:
        a = p.action
        if isinstance(a, Read):
            return f"read {a.register}"
        if isinstance(a, Write):
            return f"write {a.register}" + (f" {a.label}" if a.label else "")
        if isinstance(a, Collect):
            i = len(p.collect_values)
            return f"collect {a.registers[i]} ({i + 1}/{len(a.registers)})"
        if isinstance(a, Send):
            return f"send ->p{a.dst}" + (f" {a.tag}" if a.tag else "")
        if isinstance(a, Broadcast):
            return "broadcast" + (f" {a.tag}" if a.tag else "")
        if isinstance(a, Receive):
            got = self._matching(p, a)
            if not a.until(got):
                return None
            return f"receive{' ' + a.label if a.label else ''} [{len(got)} msg{'s' if len(got) != 1 else ''}]"
        if isinstance(a, Start):
            return f"start {a.job.worker} {a.job.label}"
        if isinstance(a, Stop):
            return "stop " + (a.label or " ".join(f"#{j}" for j in a.jobs))
        if isinstance(a, Checkpoint):
            return "checkpoint"
        if isinstance(a, Output):
            return "output"
        if isinstance(a, Local):
            return a.label
        raise AssertionError(a)

    @staticmethod
    def _matching(p: _Proc, a: Receive) -> list[Message]:
        return [m for m in p.inbox if a.match is None or a.match(m)]

    def enabled(self) -> list[Event]:
        """The events enabled now, filtered by the model, in canonical order."""
        raw: list[tuple[tuple, str, str, str, dict]] = []
        for p in self.procs:
            if p.status == _UP and p.action is not None:
                label = self._step_name(p)
                if label is not None:
                    raw.append((("step", p.pid), f"p{p.pid} {label}", "step", f"p{p.pid}", {"pid": p.pid}))
        for mid, m in self.in_flight.items():
            if self.procs[m.dst].status == _UP:
                raw.append((("deliver", mid), f"deliver #{mid} {m.src}->p{m.dst}" + (f" {m.tag}" if m.tag else ""),
                            "deliver", f"{m.src}->p{m.dst}", {"created": m.sent_clock, "pid": m.dst}))
        for jid, j in self.jobs.items():
            raw.append((("finish", jid), f"finish #{jid} {j.job.worker} {j.job.label}", "finish", j.job.worker,
                        {"created": j.started_clock, "worker": j.job.worker, "job": jid, "pid": j.owner}))
        keys = {r[0] for r in raw}
        for k in list(self._since):
            if k not in keys:
                del self._since[k]
        for k in keys:
            self._since.setdefault(k, self.step_index)
        rank = {"step": 0, "deliver": 1, "finish": 2}
        events = [Event(name, kind, actor, key, self._since[key], **extra) for key, name, kind, actor, extra in raw]
        events.sort(key=lambda e: (e.since, rank[e.kind], e.key))
        events = self._constrain(events)
        return events + self._fault_events()

    def _fault_events(self) -> list[Event]:
        m = self.model
        out: list[Event] = []
        n = len(self.procs)
        if m.recovery:
            for p in self.procs:
                if p.status == _CRASHED and self.system.processes[p.pid].recover is not None:
                    out.append(Event(f"recover p{p.pid}", "recover", f"p{p.pid}", ("recover", p.pid), 0, pid=p.pid))
        if self.crash_count < m.f:
            up = sum(1 for p in self.procs if p.status != _CRASHED)
            for p in self.procs:
                if p.status != _UP or (m.crashable is not None and p.pid not in m.crashable):
                    continue
                if m.majority and (up - 1) * 2 <= n:
                    continue
                out.append(Event(f"crash p{p.pid}", "crash", f"p{p.pid}", ("crash", p.pid), 0, pid=p.pid))
        return out

    def _constrain(self, events: list[Event]) -> list[Event]:
        m = self.model
        if m.tau is not None:
            overdue = [e for e in events if e.created is not None and self.clock - e.created >= m.tau]
            if overdue:
                overdue.sort(key=lambda e: (e.created, e.key))
                events = overdue
        if m.fairness is not None:
            starving = [e for e in events if self.step_index - e.since >= m.fairness]
            if starving:
                events = starving
        return events

    # -- executing one event -----------------------------------------------------------
    def execute(self, ev: Event) -> None:
        # A process that has just stepped waits its turn again: its next action counts as newly enabled.
        self._since.pop(ev.key, None)
        if ev.kind == "step":
            self.clock += 1
            self._execute_step(self.procs[ev.key[1]])
        elif ev.kind == "deliver":
            msg = self.in_flight.pop(ev.key[1])
            self.trace.delays.append((self.step_index, "deliver", self.clock - msg.sent_clock))
            self.trace.links.append((msg.sent_at, self.step_index, msg.src, f"p{msg.dst}", "message"))
            self.procs[msg.dst].inbox.append(msg)
        elif ev.kind == "finish":
            j = self.jobs.pop(ev.key[1])
            self.trace.delays.append((self.step_index, "finish", self.clock - j.started_clock))
            self.trace.links.append((j.started, self.step_index, f"p{j.owner}", j.job.worker, "job"))
            owner = self.procs[j.owner]
            if owner.status == _UP:
                result = j.job.fn()
                owner.inbox.append(Message(self._new_msg_id(), j.job.worker, j.owner, result,
                                           j.job.label, self.step_index, job=j.id))
            else:   # the owner crashed: its volatile state, including this result, is gone
                self.trace.observations.append((self.step_index, j.owner, "job_lost", j.id))
        elif ev.kind == "crash":
            p = self.procs[ev.pid]
            if p.gen is not None:
                p.gen.close()
            p.status, p.action, p.inbox, p.collect_values = _CRASHED, None, [], []
            self.crash_count += 1
            self.trace.crashed.append(ev.pid)
        elif ev.kind == "recover":
            p = self.procs[ev.pid]
            spec = self.system.processes[ev.pid]
            saved = self.checkpoints.load(ev.pid) if self.checkpoints is not None else copy.deepcopy(self.nvm.get(ev.pid))
            self._start(p, spec.recover(self.contexts[ev.pid], saved))
        else:  # pragma: no cover
            raise AssertionError(ev.kind)

    def _new_msg_id(self) -> int:
        self._next_msg += 1
        return self._next_msg - 1

    def _execute_step(self, p: _Proc) -> None:
        a = p.action
        result = None
        if isinstance(a, Read):
            result = copy.deepcopy(self._register(a.register))
        elif isinstance(a, Write):
            self._register(a.register)
            self.registers[a.register] = copy.deepcopy(a.value)
        elif isinstance(a, Collect):
            p.collect_values.append(copy.deepcopy(self._register(a.registers[len(p.collect_values)])))
            if len(p.collect_values) < len(a.registers):
                return          # the scan is not finished: the process stays on this action
            result, p.collect_values = p.collect_values, []
        elif isinstance(a, (Send, Broadcast)):
            n = len(self.procs)
            if isinstance(a, Send):
                if not (isinstance(a.dst, (int, np.integer)) and 0 <= a.dst < n):
                    raise InputError(f"p{p.pid} sends to p{a.dst}, which is not a process (n = {n})")
                dsts = [int(a.dst)]
            else:
                dsts = [q for q in range(n) if a.include_self or q != p.pid]
            for q in dsts:
                mid = self._new_msg_id()
                self.in_flight[mid] = Message(mid, f"p{p.pid}", q, copy.deepcopy(a.payload), a.tag, self.step_index,
                                              sent_clock=self.clock)
        elif isinstance(a, Receive):
            got = self._matching(p, a)
            ids = {id(m) for m in got}
            p.inbox = [m for m in p.inbox if id(m) not in ids]
            result = got
        elif isinstance(a, Start):
            jid = self._next_job
            self._next_job += 1
            self.jobs[jid] = _RunningJob(jid, p.pid, a.job, self.step_index, self.clock)
            result = jid
        elif isinstance(a, Stop):
            result = []
            for jid in a.jobs:
                j = self.jobs.get(jid)
                if j is None or j.owner != p.pid:
                    continue            # finished already (or not this process's): nothing to stop
                del self.jobs[jid]
                result.append(jid)
                self.trace.observations.append((self.step_index, p.pid, "job_stopped", jid))
                if hasattr(self.adversary, "stopped"):
                    self.adversary.stopped(self, jid, j.job.worker)
        elif isinstance(a, Checkpoint):
            self.nvm[p.pid] = copy.deepcopy(a.state)
            if self.checkpoints is not None:
                self.checkpoints.save(p.pid, a.state)
        elif isinstance(a, Output):
            self.trace.outputs.setdefault(p.pid, []).append(_frozen(a.value))
            self._step_outputs.append((p.pid, a.value))
        elif isinstance(a, Local):
            pass
        self._advance(p, result)

    # -- divergence --------------------------------------------------------------------
    def _divergence(self, ev: Event, refused: NonFinite | None) -> Divergence | None:
        """Did the step just executed produce a non-finite value?  Scans its new observations
        (keys in :data:`UNCHECKED_KEYS` aside) and outputs, in the order they were made, and
        prefers an iterate ``"x"`` among them; a problem's refusal (``refused``) counts too."""
        found: list[Divergence] = []
        obs = self.trace.observations
        for i in range(self._scanned, len(obs)):
            _, pid, key, value = obs[i]
            earlier = self._counts.get((pid, key), 0)
            self._counts[(pid, key)] = earlier + 1
            if key in UNCHECKED_KEYS:
                continue
            hit = first_nonfinite(value)
            if hit is not None:
                it = iteration_of(key, value, self._counts.get((pid, "x"), 0) if key != "x" else None, earlier)
                found.append(Divergence(self.step_index, pid, key, it, hit[1], hit[0]))
        self._scanned = len(obs)
        for pid, value in self._step_outputs:
            earlier = self._counts.get((pid, "output"), 0)
            self._counts[(pid, "output")] = earlier + 1
            hit = first_nonfinite(value)
            if hit is not None:
                it = iteration_of("output", value, self._counts.get((pid, "x"), 0), earlier)
                found.append(Divergence(self.step_index, pid, "output", it, hit[1], hit[0], "output"))
        self._step_outputs = []
        if found:
            return next((d for d in found if d.key == "x"), found[0])
        if refused is None:
            return None
        # the safety net: a non-finite point reached a problem without being recorded first
        pid = ev.pid
        xs = self._counts.get((pid, "x"), 0)
        named = _NAMED_ITERATION.search(ev.name)
        it = xs if xs else int(named.group(1)) if named else None
        return Divergence(self.step_index, pid, refused.field, it, refused.norm, "", "problem")

    def _register(self, name: str):
        if name not in self.registers:
            raise InputError(f"register {name!r} does not exist (known: {sorted(self.registers)[:10]})")
        return self.registers[name]

    # -- the run loop ------------------------------------------------------------------
    def run(self, max_steps: int = 100_000, progress: Callable[[int, int], None] | None = None) -> Trace:
        if not isinstance(max_steps, int) or max_steps < 0:
            raise InputError(f"max_steps must be a non-negative integer, got {max_steps!r}")
        if hasattr(self.adversary, "reset"):
            self.adversary.reset(self)
        t0 = time.monotonic()
        last = t0
        while True:
            events = self.enabled()
            if not events:
                self.trace.stopped = "quiescent"
                break
            if self.step_index >= max_steps:
                self.trace.stopped = "max_steps"
                break
            i = self.adversary.choose(self, events)
            if not (isinstance(i, (int, np.integer)) and 0 <= i < len(events)):
                raise AssertionError(f"adversary {self.adversary!r} chose {i!r} of {len(events)} events")
            ev = events[int(i)]
            note = self.adversary.annotate(self, ev) if hasattr(self.adversary, "annotate") else None
            self.trace.events.append(ev.name)
            self.trace.lanes.append(ev.actor if ev.kind in ("step", "finish", "crash", "recover") else f"p{ev.pid}")
            self.trace.enabled_counts.append(len(events))
            self.trace.choices.append(int(i))
            if note:
                self.trace.annotations[self.step_index] = dict(note)
            # Overflow is detected explicitly (a non-finite value recorded or output, or refused by
            # a problem), so numpy's warnings about it are silenced, not shown to the user.
            refused = None
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                try:
                    self.execute(ev)
                except NonFinite as e:       # a problem refused a non-finite point: the run diverged
                    refused = e
            divergence = self._divergence(ev, refused)
            self.step_index += 1
            if divergence is not None:
                self.trace.stopped = "diverged"
                self.trace.divergence = divergence
                break
            if progress is not None:
                now = time.monotonic()
                if now - last >= 0.5:
                    progress(self.step_index, max_steps)
                    last = now
        self.trace.registers = {k: _frozen(v) for k, v in self.registers.items()}
        self.trace.digest = self.trace.compute_digest()
        return self.trace


def run(system: System, adversary, model: Model | None = None, max_steps: int = 100_000,
        progress: Callable[[int, int], None] | None = None, checkpoints=None) -> Trace:
    """Run ``system`` to quiescence (or ``max_steps``) under ``adversary`` and ``model``; with
    ``checkpoints`` (a :class:`~asyncproof.reference.checkpoints.CheckpointDir`) the processes'
    non-volatile memory is on disk."""
    return Engine(system, adversary, model, checkpoints).run(max_steps=max_steps, progress=progress)


def event_kind(name: str) -> str | None:
    """The kind of a well-formed event name, or ``None`` if it is not one (used to validate files)."""
    import re
    for kind, pat in (("step", r"p\d+ \S.*"), ("deliver", r"deliver #\d+ \S+->p\d+( .*)?"),
                      ("finish", r"finish #\d+ \S+ .*"), ("crash", r"crash p\d+"), ("recover", r"recover p\d+")):
        if re.fullmatch(pat, name):
            return kind
    return None


def iter_names(events: Iterable[Event]) -> list[str]:
    return [e.name for e in events]
