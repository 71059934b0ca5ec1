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

import json
import math
import os
from dataclasses import dataclass, field
from typing import Any, Callable

from .errors import InputError


@dataclass(frozen=True)
class Param:
    """One parameter: ``kind`` is int, float, bool, str or "list" (a JSON list).

    Its declared range, enforced by :func:`resolve_params` (a number's after its ``check``, a
    list's before; a value of ``None``, "use the default rule", is not range-checked):

    * int and float: ``lo`` .. ``hi``, inclusive (``lo_open`` / ``hi_open`` exclude the end:
      a step size is in (0, 1e6]);
    * "list": at most ``max_len`` elements, and with ``items = (lo, hi)`` every number in it
      (in nested lists too) within ``lo`` .. ``hi``;
    * bool has its two values; a str is bounded by its ``check`` (a fixed set of names).

    ``what`` names the parameter in messages, e.g. ``"b (mini-batch size)"`` (default: its name).

    >>> b = Param("b", int, 4, "mini-batch size", lo=1, hi=100_000, what="b (mini-batch size)")
    >>> b.describe()
    'b=4 (1..100000)'
    >>> b.range_error(10 ** 9)
    'b (mini-batch size) must be <= 100000, got 1000000000'
    """
    name: str
    kind: Any
    default: Any
    help: str
    check: Callable[[Any], str | None] | None = None   # returns an error text, or None if fine
    lo: int | float | None = field(default=None, kw_only=True)
    hi: int | float | None = field(default=None, kw_only=True)
    lo_open: bool = field(default=False, kw_only=True)
    hi_open: bool = field(default=False, kw_only=True)
    max_len: int | None = field(default=None, kw_only=True)
    items: tuple | None = field(default=None, kw_only=True)
    what: str | None = field(default=None, kw_only=True)

    def has_range(self) -> bool:
        """Is a range declared (or implied by the kind: bool; a str with its ``check``)?"""
        if self.kind in (int, float):
            return self.lo is not None and self.hi is not None
        if self.kind == "list":
            return self.max_len is not None
        if self.kind is bool:
            return True
        return self.check is not None

    def range_error(self, v) -> str | None:
        """The one-line reason ``v`` is outside the declared range, or None."""
        if v is None:
            return None
        what = self.what or self.name
        if self.kind in (int, float) and not isinstance(v, bool) and isinstance(v, (int, float)):
            lo_ok = self.lo is None or (v > self.lo if self.lo_open else v >= self.lo)
            hi_ok = self.hi is None or (v < self.hi if self.hi_open else v <= self.hi)
            if lo_ok and hi_ok:
                return None
            if self.lo is not None and self.hi is not None and not (lo_ok or hi_ok):     # NaN
                return f"{what} must be in {self._interval()}, got {v!r}"
            if not hi_ok:
                return f"{what} must be {'<' if self.hi_open else '<='} {_num(self.hi)}, got {v!r}"
            return f"{what} must be {'>' if self.lo_open else '>='} {_num(self.lo)}, got {v!r}"
        if self.kind == "list" and isinstance(v, (list, tuple)):
            if self.max_len is not None and len(v) > self.max_len:
                return f"{what} must have at most {self.max_len} elements, got {len(v)}"
            if self.items is not None:
                lo, hi = self.items
                bad = _first_outside(v, lo, hi)
                if bad is not None:
                    return f"{what} must hold numbers in {_num(lo)}..{_num(hi)}, got {bad!r}"
        return None

    def _interval(self) -> str:
        if self.kind is int and not (self.lo_open or self.hi_open):
            return f"{_num(self.lo)}..{_num(self.hi)}"
        return f"{'(' if self.lo_open else '['}{_num(self.lo)}, {_num(self.hi)}{')' if self.hi_open else ']'}"

    def describe(self) -> str:
        """``name=default (range)`` for listings: ``b=4 (1..100000)``, ``gamma=0.05 ((0, 1e+06])``,
        ``x0=None (list, at most 50000000 elements)``; a bool or str shows its default only."""
        text = f"{self.name}={self.default}"
        if self.kind in (int, float) and self.lo is not None and self.hi is not None:
            return f"{text} ({self._interval()})"
        if self.kind == "list" and self.max_len is not None:
            each = f", each {_num(self.items[0])}..{_num(self.items[1])}" if self.items is not None else ""
            return f"{text} (list, at most {self.max_len} elements{each})"
        return text

    def parse(self, value):
        if value is None:
            return None
        k = self.kind
        try:
            if k is bool:
                if isinstance(value, bool):
                    return value
                if str(value).lower() in ("1", "true", "yes", "on"):
                    return True
                if str(value).lower() in ("0", "false", "no", "off"):
                    return False
                raise ValueError
            if k is int:
                if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                    raise ValueError
                if isinstance(value, str):
                    try:
                        return int(value, 10)
                    except ValueError:      # "1e9": an integer written with an exponent
                        f = float(value)
                        if not (f.is_integer() and "e" in value.lower()):
                            raise
                        return int(f)
                return int(value)
            if k is float:
                if isinstance(value, bool):
                    raise ValueError
                return float(value)
            if k is str:
                return str(value)
            if k == "list":
                v = json.loads(value) if isinstance(value, str) else value
                if not isinstance(v, (list, tuple)):
                    raise ValueError
                return list(v)
        except (TypeError, ValueError, json.JSONDecodeError):
            if k == "list":
                raise InputError(f"{self.name} must be a JSON list such as [1, 2.5] or [[0, 1], [2]], "
                                 f"got {value!r}") from None
            kind = k if isinstance(k, str) else k.__name__
            raise InputError(f"{self.name} must be of type {kind}, got {value!r}") from None
        raise AssertionError(k)


def _num(v) -> str:
    """A bound as written in messages: ints in full, floats in ``%g``."""
    return str(v) if isinstance(v, int) and not isinstance(v, bool) else f"{v:g}"


def _first_outside(v, lo, hi):
    """The first number (depth first, nested lists included) of ``v`` outside lo..hi, or None."""
    stack = [v]
    while stack:
        x = stack.pop()
        if isinstance(x, (list, tuple)):
            stack.extend(reversed(x))
        elif isinstance(x, (int, float)) and not isinstance(x, bool) and not lo <= x <= hi:
            return x
    return None


def positive(what: str):
    def check(v):
        if v is None:
            return None
        if isinstance(v, float) and not math.isfinite(v):
            return f"{what} must be finite, got {v!r}"
        return None if v > 0 else f"{what} must be > 0, got {v!r}"
    return check


def at_least(k: int, what: str):
    return lambda v: None if v is None or v >= k else f"{what} must be >= {k}, got {v!r}"


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


def bounded_int(name: str, default, help_: str, lo: int, hi: int, what: str | None = None,
                check: Callable | None = None) -> Param:
    """An int parameter in ``lo`` .. ``hi`` (``check`` defaults to ``at_least(lo, what)``)."""
    what = what or name
    return Param(name, int, default, help_, check or at_least(lo, what), lo=lo, hi=hi, what=what)


@dataclass
class Algorithm:
    """A registered algorithm.  ``build(problem, params, seed) -> System``."""
    name: str
    summary: str
    source: str
    params: dict[str, Param]
    build: Callable
    metrics: Callable
    default_problem: str = "quadratic"
    max_steps: Callable[[dict], int] = lambda params: 1_000_000
    check: Callable[[Any, dict], None] | None = None    # cross-parameter / problem checks
    broken: bool = False                                # a deliberately wrong variant for the test suite
    family: str = "baselines"
    # bytes the run will allocate, estimated before building it (see check_memory); None: default_memory
    memory: Callable[[Any, dict], int] | None = None


ALGORITHMS: dict[str, Algorithm] = {}


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
    ALGORITHMS[alg.name] = alg
    return alg


def get_algorithm(name: str) -> Algorithm:
    _load_builtin()
    if name not in ALGORITHMS:
        known = ", ".join(sorted(a for a, v in ALGORITHMS.items() if not v.broken))
        raise InputError(f"unknown algorithm {name!r}; known: {known}")
    return ALGORITHMS[name]


def algorithms(include_broken: bool = False) -> list[Algorithm]:
    _load_builtin()
    return [a for _, a in sorted(ALGORITHMS.items()) if include_broken or not a.broken]


def resolve_params(name: str, given: dict) -> dict:
    """Parse, check and complete the parameters of algorithm ``name`` (InputError if bad)."""
    alg = get_algorithm(name)
    if not isinstance(given, dict):
        raise InputError(f"{name}: parameters must be an object of name: value, got {given!r}")
    unknown = sorted(set(given) - set(alg.params))
    if unknown:
        raise InputError(f"{name}: {', '.join(repr(u) for u in unknown)} "
                         f"{'is not a parameter' if len(unknown) == 1 else 'are not parameters'} of {name}; "
                         f"its parameters are {', '.join(sorted(alg.params))}")
    out = {}
    for pname, p in alg.params.items():
        try:
            v = p.parse(given[pname]) if pname in given else p.default
        except InputError as e:
            raise InputError(f"{name}: {e}") from None
        # a list's length before its check (which may walk it); a number's check first, its range then
        for test in ((p.range_error, p.check) if p.kind == "list" else (p.check, p.range_error)):
            err = test(v) if test is not None else None
            if err:
                raise InputError(f"{name}: {err}")
        out[pname] = v
    return out


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
    # Importing the algorithm modules registers them; done lazily to avoid import cycles.
    from . import baselines  # noqa: F401
    from . import parameter_server  # noqa: F401
    from . import shared_memory  # noqa: F401
    from . import agreement  # noqa: F401
