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
from dataclasses import dataclass, field
from typing import Any, Callable

from .errors import InputError


@dataclass(frozen=True)
class Param:
    """One parameter: ``kind`` is int, float, bool, str or "list" (a JSON list)."""
    name: str
    kind: Any
    default: Any
    help: str
    check: Callable[[Any], str | None] | None = None   # returns an error text, or None if fine

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
                return int(value) if not isinstance(value, str) else int(value, 10)
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


ALGORITHMS: dict[str, Algorithm] = {}


def register(alg: Algorithm) -> Algorithm:
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
        if p.check is not None:
            err = p.check(v)
            if err:
                raise InputError(f"{name}: {err}")
        out[pname] = v
    return out


def _load_builtin() -> None:
    # Importing the algorithm modules registers them; done lazily to avoid import cycles.
    from . import baselines  # noqa: F401
    from . import parameter_server  # noqa: F401
    from . import shared_memory  # noqa: F401
    from . import agreement  # noqa: F401
