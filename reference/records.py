"""Typed trace records: the contract between what an algorithm writes and what its checks read.

An algorithm writes observations with ``ctx.record(key, value)``; its guarantees, claims, plots
and experiments read them back from the trace.  Each algorithm declares the records it writes
(``Algorithm.records``), each one either

* a :class:`Record`: a small frozen dataclass naming its ``key`` and its fields, for a value
  that is a set of named fields (Rennala's ``received``: worker, serial, π, k, ...), or
* a :class:`Value`: a key and the type of a plain value (the iterate ``x``, an arrival order).

The engine checks every write of a run built from a registered algorithm against that
declaration, *at the writer*: an undeclared (misspelt) key, a field missing or unknown, a value
of the wrong type is an :class:`UndeclaredRecord` error at the ``ctx.record`` line, not a silent
``None`` or an empty list at a reader.  A writer may pass the dataclass itself
(``ctx.record(Received(...))``) or its fields as a dict; either way the trace stores the dict
of fields (so digests, and every schedule saved before, are unchanged).  A reader asks for
typed values with :meth:`~asyncproof.reference.engine.Trace.records`, which refuses a key the
run's algorithm does not declare.

>>> @record("tick")
... class Tick(Record):
...     k: int
...     at: float
>>> spec = declare(Tick, Value("x", "the iterate", kinds=(list,)))
>>> check_write(spec, "tick", {"k": 1, "at": 0.5}, "demo")
{'k': 1, 'at': 0.5}
>>> check_write(spec, "tick", {"k": 1}, "demo")
Traceback (most recent call last):
...
asyncproof.reference.records.UndeclaredRecord: demo records 'tick' without field at (declared: k, at)
>>> check_write(spec, "tock", 3, "demo")
Traceback (most recent call last):
...
asyncproof.reference.records.UndeclaredRecord: demo records 'tock', which it does not declare (it declares: tick, x)
"""

from __future__ import annotations

import dataclasses
import keyword
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

#: an optional field that is absent from the stored record (not stored as None: the digest of a
#: run whose record never had the field stays what it was)
ABSENT: Any = type("Absent", (), {"__repr__": lambda self: "ABSENT"})()


class UndeclaredRecord(TypeError):
    """A run wrote a record its algorithm does not declare, or with other fields: a bug in the writer."""


def stored_name(attribute: str) -> str:
    """The key a field is stored under: its name, but ``from_`` is stored as ``"from"`` (a Python
    keyword cannot be an attribute; the stored key, and so every digest, stays the paper's)."""
    return attribute[:-1] if attribute.endswith("_") and keyword.iskeyword(attribute[:-1]) else attribute


class Record:
    """Base of a record type: a frozen dataclass (made by :func:`record`) with a class-level ``key``.

    >>> @record("skip")
    ... class Skip(Record):
    ...     from_: int
    ...     to: int
    >>> Skip.of({"from": 2, "to": 4}).from_, Skip(2, 4).fields()
    (2, {'from': 2, 'to': 4})
    >>> Skip.of({"from_": 2, "to": 4}, "p0")
    Traceback (most recent call last):
    ...
    asyncproof.reference.records.UndeclaredRecord: p0 records 'skip' with unknown field from_ (declared: from, to)
    """
    key: ClassVar[str] = ""

    def fields(self) -> dict:
        """The stored form: the fields in declaration order (by their stored names), without those
        left :data:`ABSENT`."""
        return {stored_name(f.name): getattr(self, f.name) for f in dataclasses.fields(self)
                if getattr(self, f.name) is not ABSENT}

    @classmethod
    def of(cls, value: dict, where: str = "") -> "Record":
        """The typed record of a stored (or written) dict; a missing or unknown field is an error."""
        if type(value) is cls:
            return value
        if not isinstance(value, dict):
            raise UndeclaredRecord(f"{where} records {cls.key!r} as {type(value).__name__}, not its fields "
                                   f"({', '.join(cls.names())})")
        by_name = {stored_name(f.name): f for f in dataclasses.fields(cls)}
        extra = [k for k in value if k not in by_name]
        if extra:
            raise UndeclaredRecord(f"{where} records {cls.key!r} with unknown field {', '.join(map(str, extra))} "
                                   f"(declared: {', '.join(by_name)})")
        missing = [k for k, f in by_name.items() if k not in value
                   and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
        if missing:
            raise UndeclaredRecord(f"{where} records {cls.key!r} without field {', '.join(missing)} "
                                   f"(declared: {', '.join(by_name)})")
        return cls(**{by_name[k].name: v for k, v in value.items()})

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """The stored names of the fields."""
        return tuple(stored_name(f.name) for f in dataclasses.fields(cls))


def record(key: str):
    """Class decorator: a frozen dataclass record stored under ``key``."""
    def make(cls):
        cls = dataclass(frozen=True)(cls)
        cls.key = key
        return cls
    return make


@dataclass(frozen=True)
class Value:
    """A record holding one plain value: ``key``, what it is, the accepted Python types (None: any)."""
    key: str
    help: str
    kinds: tuple[type, ...] | None = None


Spec = "type[Record] | Value"


def declare(*specs) -> dict[str, Any]:
    """The declaration of an algorithm's records, by key (a key declared twice is an error)."""
    out: dict[str, Any] = {}
    for s in specs:
        key = s.key
        if not key or key in out:
            raise ValueError(f"record key {key!r} declared {'twice' if key else 'empty'}")
        out[key] = s
    return out


def check_write(declared: dict[str, Any] | None, key, value, who: str):
    """The value to store for ``ctx.record(key, value)`` by a run of ``who`` declaring ``declared``
    (None: nothing declared, nothing checked); ``key`` may be a :class:`Record` (then no value)."""
    if isinstance(key, Record):
        key, value = type(key).key, key
    if declared is None:
        return value.fields() if isinstance(value, Record) else value
    spec = declared.get(key)
    if spec is None:
        raise UndeclaredRecord(f"{who} records {key!r}, which it does not declare "
                               f"(it declares: {', '.join(sorted(declared)) or 'nothing'})")
    if isinstance(spec, Value):
        if spec.kinds is not None and not isinstance(value, spec.kinds):
            raise UndeclaredRecord(f"{who} records {key!r} as {type(value).__name__}, declared "
                                   f"{' or '.join(k.__name__ for k in spec.kinds)}")
        return value
    if isinstance(value, Record) and type(value) is not spec:      # a subclass would store other fields
        raise UndeclaredRecord(f"{who} records {key!r} as {type(value).__name__}, declared {spec.__name__}")
    return spec.of(value, who).fields()


#: the iterate after an update, recorded under ``"x"`` by every optimisation algorithm (the engine
#: ends a run at its first non-finite one: a divergence)
ITERATE = Value("x", "the iterate after an update (a float64 vector)", kinds=(np.ndarray,))
#: the order in which a step's results arrived (indices into the step's jobs, or sender pids)
ARRIVAL = Value("arrival", "the order in which a step's results arrived (a list of indices)", kinds=(list,))
