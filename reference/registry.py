"""The algorithm registry: names, parameters with defaults and checks, builders.

An algorithm module registers one :class:`Algorithm`: how to build the
:class:`~asyncproof.reference.engine.System` of processes for a problem, its
parameters (each with a type, a default, a check and a one-line help), the seed
slide it implements, and how to read metrics off a finished trace.  The CLI,
schedules and property suites find algorithms here by name.

>>> from asyncproof.reference import baselines  # registers the baselines
>>> resolve_params("sgd", {"gamma": "0.05", "T": "10"})["gamma"]
0.05
>>> resolve_params("sgd", {"gamma": "-1"})
Traceback (most recent call last):
...
asyncproof.reference.errors.InputError: sgd: gamma (step size) must be > 0, got -1.0
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Callable

from .errors import InputError
from .registries import Registry, modules_of
from .params import Param, at_least, bounded_int, positive, resolve  # noqa: F401  (the algorithms' parameters)


# Upper bounds shared by the algorithms' parameters.  Each is generous for research use and
# keeps one run finite; what a run may allocate within them is checked by check_memory.
MAX_ITERATIONS = 10 ** 7     # iterations, rounds of a server, samples T: >= 3 engine events each, so at
                             # most hours at 10^4 events/s; the memory check refuses most of that range
MAX_WORKERS = 10_000         # workers served by one server (lanes of jobs): a step looks at every running job
MAX_JOBS = 100_000           # jobs in flight, C (the queued ones wait in the workers' queues): 10 per worker
MAX_PROCESSES = 1_000        # engine processes (nodes, cores, threads): a step looks at every process, so
                             # 1000 of them run at 60-300 events/s
MAX_AGREEMENT = 64           # agreement processes: an MDAA round sends n^2 messages and a step looks at
                             # every message in flight: n = 60 runs at ~35 events/s, 3 minutes a round
MAX_ROUNDS = 10_000          # agreement rounds (R, K, the slide's constant): each costs >= n steps
MAX_BATCH = 100_000          # samples per step or per gradient: an event or a sample's gradient each
MAX_STEP = 1e6               # step sizes: any worth trying (a larger one overflows in a step or two)
MAX_ENTRIES = 50_000_000     # list parameters (x0, orders): the problems' own limit on their data


class Steps(Mapping):
    """An algorithm's named steps: the lines of its pseudo-code where implementations go wrong,
    each a small function of the algorithm's module (mini-batch SGD's ``aggregate`` and ``mean``,
    FedBuff's ``normalise``, MDAA's ``represented_majority``).  The algorithm's ``build`` reads
    them from here, never from its module directly, so a broken variant
    (:func:`asyncproof.properties.variants.variant`) is the same algorithm with one step replaced,
    not a copy of its loop.  Read-only; :meth:`replace` returns a new one.

    >>> s = Steps(mean=lambda delta, b: delta / b)
    >>> s.mean(6.0, 3), sorted(s)
    (2.0, ['mean'])
    >>> s.replace(mean=lambda delta, b: delta / 2).mean(6.0, 3)
    3.0
    >>> s.replace(men=abs)
    Traceback (most recent call last):
    ...
    asyncproof.reference.errors.InputError: no step 'men' to replace; the steps are: mean
    >>> s.replace(mean=2)
    Traceback (most recent call last):
    ...
    asyncproof.reference.errors.InputError: step 'mean' must be a function, got 2
    """

    __slots__ = ("_fns",)

    def __init__(self, **fns: Callable):
        object.__setattr__(self, "_fns", dict(fns))

    def __getattr__(self, name: str) -> Callable:
        try:
            return self._fns[name]
        except KeyError:
            raise AttributeError(f"no step {name!r}; the steps are: {', '.join(self._fns) or '(none)'}") from None

    def __setattr__(self, name, value):
        raise AttributeError("Steps are read-only; use .replace(name=fn)")

    def __getitem__(self, name: str) -> Callable:
        return self._fns[name]

    def __iter__(self):
        return iter(self._fns)

    def __len__(self) -> int:
        return len(self._fns)

    def __repr__(self) -> str:
        return f"Steps({', '.join(self._fns)})"

    def replace(self, **fns: Callable) -> "Steps":
        unknown = [k for k in fns if k not in self._fns]
        if unknown:
            raise InputError(f"no step {unknown[0]!r} to replace; the steps are: {', '.join(self._fns) or '(none)'}")
        wrong = [k for k, f in fns.items() if not callable(f)]
        if wrong:
            raise InputError(f"step {wrong[0]!r} must be a function, got {fns[wrong[0]]!r}")
        return Steps(**{**self._fns, **fns})


@dataclass
class Algorithm:
    """A registered algorithm: ``build(problem, params, seed, steps) -> System``, with ``steps``
    its named :class:`Steps` (:meth:`system` passes them)."""
    name: str
    summary: str
    source: str
    params: dict[str, Param]
    build: Callable
    metrics: Callable
    default_problem: str = "quadratic"
    max_steps: Callable[[dict], int] = lambda params: 1_000_000
    check: Callable[[Any, dict], None] | None = None    # cross-parameter / problem checks
    broken: bool = False                                # a deliberately wrong variant (properties.variants)
    family: str = "baselines"
    # bytes the run will allocate, estimated before building it (see check_memory); None: default_memory
    memory: Callable[[Any, dict], int] | None = None
    steps: Steps = field(default_factory=Steps)
    variant_of: str | None = None                       # a broken variant: the algorithm it breaks
    # the records a run writes (reference/records.py: declare(...)), checked at every write
    records: dict[str, Any] | None = None

    def system(self, problem, params: dict, seed: int):
        """The engine :class:`~asyncproof.reference.engine.System` of one run, built from the steps,
        its writes checked against :attr:`records`."""
        system = self.build(problem, params, seed, self.steps)
        system.records, system.name = self.records, self.name
        return system


#: the real algorithms, by name, declared by the modules of ``reference/<family>/`` (the broken
#: variants live in asyncproof.properties.variants)
ALGORITHMS: Registry = Registry("algorithm", lambda: modules_of(__name__.rsplit(".", 1)[0]))

#: modules holding a ``VARIANTS`` dict of broken variants, looked in (imported on first use) for a
#: name that is not a real algorithm, so a counterexample of a variant replays by name.  The
#: reference knows only these names, never the variants' code; a user may add a module of theirs.
VARIANT_SOURCES: list[str] = ["asyncproof.properties.variants"]


def _variants() -> dict[str, Algorithm]:
    import importlib
    out: dict[str, Algorithm] = {}
    for module in VARIANT_SOURCES:
        found = getattr(importlib.import_module(module), "VARIANTS", {})
        out.update(found.load() if isinstance(found, Registry) else found)
    return out


def metrics_up_to_divergence(metrics: Callable) -> Callable:
    """``metrics`` made safe for a run that diverged (``trace.stopped == "diverged"``).

    Such a run is measured as it stood before the step that diverged
    (:meth:`~asyncproof.reference.engine.Trace.finite_part`: no non-finite record or output
    reaches the algorithm's metrics), with numpy's overflow warnings silenced, and the
    metrics gain ``diverged_at`` (the iteration, ``trace.divergence.iteration``),
    ``diverged_step`` (the engine event) and ``diverged_norm`` (``inf``, or ``nan``).
    Metrics of a run that stayed finite are the algorithm's own, unchanged (computed with
    numpy's overflow warnings silenced too: a huge but finite iterate's loss is ``inf``)."""
    if getattr(metrics, "up_to_divergence", False):
        return metrics

    def measured(trace, problem, params):
        import numpy as np
        d = getattr(trace, "divergence", None)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            if d is None:
                return metrics(trace, problem, params)
            m = dict(metrics(trace.finite_part(), problem, params))
        m.update(diverged_at=d.iteration, diverged_step=d.step, diverged_norm=d.norm)
        return m

    measured.up_to_divergence = True
    measured.__wrapped__ = metrics
    measured.__doc__ = metrics.__doc__
    return measured


def register(alg: Algorithm) -> Algorithm:
    alg.metrics = metrics_up_to_divergence(alg.metrics)    # every algorithm's metrics survive a divergence
    return ALGORITHMS.add(alg.name, alg)


def get_algorithm(name: "str | Algorithm") -> Algorithm:
    """The algorithm called ``name``: a real one, else a broken variant (:data:`VARIANT_SOURCES`);
    an :class:`Algorithm` is returned as it is."""
    if isinstance(name, Algorithm):
        return name
    _load_builtin()
    if name in ALGORITHMS:
        return ALGORITHMS[name]
    if isinstance(name, str) and name.startswith("broken-"):
        found = _variants().get(name)
        if found is not None:
            return found
    known = ", ".join(sorted(ALGORITHMS))
    raise InputError(f"unknown algorithm {name!r}; known: {known}")


def algorithms(include_broken: bool = False) -> list[Algorithm]:
    _load_builtin()
    found = dict(ALGORITHMS)
    if include_broken:
        found.update(_variants())
    return [a for _, a in sorted(found.items())]


def resolve_params(name: "str | Algorithm", given: dict) -> dict:
    """Parse, check and complete the parameters of algorithm ``name`` (InputError if bad)."""
    alg = get_algorithm(name)
    return resolve(alg.name, alg.params, given)


# --------------------------------------------------------------------------------------
# memory: an estimate of what a run will allocate, checked before it allocates
#
# The engine keeps, per event, its name, lane, choice and enabled count (and a link and a
# delay for a delivery or a finish, the timed adversary's annotation, the schedule's copy):
# about EVENT_BYTES.  Every ctx.record keeps an observation tuple (RECORD_BYTES) and a frozen
# copy of its value: a float64 array costs array_bytes(length), a small dict DICT_BYTES, an
# int in a list INT_BYTES.  Measured with tracemalloc (tests/test_param_bounds.py): 150-400 B
# per event, the larger with more records per event.

GiB = 2 ** 30
MEMORY_CAP = 4 * GiB            # the most a run may need, whatever the machine has free
EVENT_BYTES = 400
RECORD_BYTES = 120
DICT_BYTES = 700
INT_BYTES = 36
ARRAY_BYTES = 112               # a numpy array's header
JOB_BYTES = 1000                # a job in flight: its Job, closure, the engine's books, its result message


def array_bytes(length: int) -> int:
    """A float64 array of ``length`` entries, header included."""
    return ARRAY_BYTES + 8 * int(length)


@dataclass(frozen=True)
class Cost:
    """One term of a :class:`MemoryEstimate`: what it counts, its bytes, the parameters that scale it."""
    what: str
    bytes: int
    lower: tuple[str, ...] = ("T",)


def events_cost(count: int, why: str, lower: tuple[str, ...] = ("T",)) -> Cost:
    """``count`` engine events (``why``: how they were counted)."""
    count = int(count)
    return Cost(f"{why}: {count:,} events x {EVENT_BYTES} B", count * EVENT_BYTES, lower)


def arrays_cost(count: int, length: int, why: str, lower: tuple[str, ...] = ("T",)) -> Cost:
    """``count`` float64 arrays of ``length`` entries kept (recorded, or held by a process)."""
    count, length = int(count), int(length)
    return Cost(f"{why}: {count:,} arrays of {length:,} floats", count * array_bytes(length), lower)


def records_cost(count: int, each: int, why: str, lower: tuple[str, ...] = ("T",)) -> Cost:
    """``count`` records of ``each`` bytes besides their arrays (dicts, lists of ints)."""
    count, each = int(count), int(each)
    return Cost(f"{why}: {count:,} records x {RECORD_BYTES + each:,} B", count * (RECORD_BYTES + each), lower)


def bytes_text(n: int | float) -> str:
    """``9.3 GiB``, ``512.0 MiB``, ``700 B``."""
    for unit, size in (("GiB", GiB), ("MiB", 2 ** 20), ("KiB", 2 ** 10)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{int(n)} B"


class MemoryEstimate(int):
    """An estimate in bytes (an ``int``) that keeps its :class:`Cost` terms, largest first,
    to say where the bytes go and which parameters to lower.

    >>> m = MemoryEstimate(Cost("x", 3 * GiB, ("b", "T")), Cost("y", 2 ** 20))
    >>> int(m) == 3 * GiB + 2 ** 20, m.lower
    (True, ('b', 'T'))
    """
    costs: tuple[Cost, ...]

    def __new__(cls, *costs: Cost):
        costs = tuple(sorted((c for c in costs if c.bytes > 0), key=lambda c: -c.bytes))
        self = super().__new__(cls, sum(c.bytes for c in costs))
        self.costs = costs
        return self

    @property
    def lower(self) -> tuple[str, ...]:
        """The parameters of the largest term: the ones to lower."""
        return self.costs[0].lower if self.costs else ()

    def explain(self, terms: int = 2) -> str:
        return "; ".join(f"{c.what} = {bytes_text(c.bytes)}" for c in self.costs[:terms])


def default_memory(problem, params: dict) -> MemoryEstimate:
    """The estimate of an algorithm without its own: T iterations (1 without a ``T``) on each
    of n processes (``n``, else ``threads``, else 1), each about 4 engine events and 2
    recorded d-vectors (the iterate, and a gradient or a copy of the iterate)."""
    T = int(params.get("T") or 1)
    n = int(params.get("n") or params.get("threads") or 1)
    d = int(getattr(problem, "d", 1))
    it = T * n
    lower = ("T", "n") if n > 1 else ("T",)
    why = f"T = {T} iterations x n = {n}" if n > 1 else f"T = {T} iterations"
    return MemoryEstimate(events_cost(4 * it, f"{why} x 4", lower),
                          arrays_cost(2 * it, d, f"{why} x 2 recorded d-vectors (d = {d})", lower),
                          records_cost(2 * it, 0, f"{why} x 2", lower))


def memory_limit() -> int:
    """The most one run may need: the smaller of :data:`MEMORY_CAP` and half of the memory
    available now (Linux's MemAvailable, which counts reclaimable page cache; else the free
    physical pages; :data:`MEMORY_CAP` where the system does not say)."""
    free = 0
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    free = int(line.split()[1]) * 1024
                    break
    except (OSError, ValueError, IndexError):
        pass
    if free <= 0:
        try:
            free = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (AttributeError, ValueError, OSError):
            return MEMORY_CAP
    return min(MEMORY_CAP, free // 2) if free > 0 else MEMORY_CAP


def memory_estimate(alg: "Algorithm | str", problem, params: dict) -> int:
    """Bytes a run of ``alg`` on ``problem`` with (resolved) ``params`` will allocate, about."""
    alg = get_algorithm(alg) if isinstance(alg, str) else alg
    return (alg.memory or default_memory)(problem, params)


def check_memory(alg: "Algorithm | str", problem, params: dict, limit: int | None = None) -> int:
    """Refuse (InputError, one line) a run whose memory estimate exceeds ``limit`` (default
    :func:`memory_limit`); return the estimate.  ``params`` are resolved (:func:`resolve_params`)
    and checked (``alg.check``) already.

    >>> from asyncproof.reference.problems import make_problem
    >>> p = resolve_params("minibatch-sgd", {"b": 100000, "T": 1000})
    >>> check_memory("minibatch-sgd", make_problem("least-squares"), p, limit=4 * GiB)
    Traceback (most recent call last):
    ...
    asyncproof.reference.errors.InputError: minibatch-sgd: this run would need about 78.0 GiB (T = 1000 steps x (2b + 1), b = 100000: 200,001,001 events x 400 B = 74.5 GiB; ...), more than the 4.0 GiB limit; lower b or T
    >>> bytes_text(check_memory("minibatch-sgd", make_problem("least-squares"), resolve_params("minibatch-sgd", {})))
    '200.5 KiB'
    """
    alg = get_algorithm(alg) if isinstance(alg, str) else alg
    need = memory_estimate(alg, problem, params)
    cap = MEMORY_CAP if limit is None else int(limit)
    limit = memory_limit() if limit is None else int(limit)
    if need > limit:
        where = f"the {bytes_text(limit)} limit" + (" (half the free memory)" if limit < cap else "")
        why = f" ({need.explain()})" if isinstance(need, MemoryEstimate) and need.costs else ""
        lower = need.lower if isinstance(need, MemoryEstimate) and need.lower else ("its parameters",)
        raise InputError(f"{alg.name}: this run would need about {bytes_text(need)}{why}, more than {where}; "
                         f"lower {' or '.join(lower)}")
    return need


def _load_builtin() -> None:
    ALGORITHMS.load()
