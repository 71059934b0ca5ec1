"""Parameters: one system for algorithms, problems, adversaries and compute-time models.

A :class:`Param` has a type, a default, a one-line help, a check and a declared range;
:func:`resolve` parses, checks and completes a table of them from user input (the CLI's
``key=value`` text, a schedule file's JSON, the Python API's values alike), and
:func:`parse_pairs` reads the CLI's ``k=v,k=v`` form.  Errors are one-line
:class:`~asyncproof.reference.errors.InputError` s naming the owner and the parameter.

>>> table = {"seed": Param("seed", int, 0, "seed", lo=0, hi=2 ** 63 - 1)}
>>> resolve("adversary 'random'", table, parse_pairs("seed=7", "adversary parameter", "random:seed=7"))
{'seed': 7}
>>> resolve("adversary 'random'", table, {"sead": 7})
Traceback (most recent call last):
...
asyncproof.reference.errors.InputError: adversary 'random': 'sead' is not a parameter of adversary 'random'; its parameters are seed
"""

from __future__ import annotations

import json
import math
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


def bounded_int(name: str, default, help_: str, lo: int, hi: int, what: str | None = None,
                check: Callable | None = None) -> Param:
    """An int parameter in ``lo`` .. ``hi`` (``check`` defaults to ``at_least(lo, what)``)."""
    what = what or name
    return Param(name, int, default, help_, check or at_least(lo, what), lo=lo, hi=hi, what=what)


def resolve(owner: str, table: dict[str, Param], given: dict) -> dict:
    """Parse, check and complete the parameters ``given`` (name: value) of ``owner`` against ``table``
    (InputError, one line, naming ``owner``, if bad): unknown names, types, checks, ranges."""
    if not isinstance(given, dict):
        raise InputError(f"{owner}: parameters must be an object of name: value, got {given!r}")
    unknown = sorted(set(given) - set(table))
    if unknown:
        raise InputError(f"{owner}: {', '.join(repr(u) for u in unknown)} "
                         f"{'is not a parameter' if len(unknown) == 1 else 'are not parameters'} of {owner}; "
                         f"its parameters are {', '.join(sorted(table)) or '(none)'}")
    out = {}
    for pname, p in table.items():
        try:
            v = p.parse(given[pname]) if pname in given else p.default
        except InputError as e:
            raise InputError(f"{owner}: {e}") from None
        # a list's length before its check (which may walk it); a number's check first, its range then
        for test in ((p.range_error, p.check) if p.kind == "list" else (p.check, p.range_error)):
            err = test(v) if test is not None else None
            if err:
                raise InputError(f"{owner}: {err}")
        out[pname] = v
    return out


def parse_pairs(text: str, what: str, source: str | None = None) -> dict[str, str]:
    """``"k=v,k2=[1,2]"`` as ``{"k": "v", "k2": "[1,2]"}`` (values stay text for :func:`resolve` to
    parse; a comma inside brackets belongs to its value); ``what`` names a part in the message for
    one without ``=``, ``source`` the whole text it came from (when it is more than the part).

    >>> parse_pairs("f=1,crashable=[3,4]", "model")
    {'f': '1', 'crashable': '[3,4]'}
    >>> parse_pairs("gamma", "parameter")
    Traceback (most recent call last):
    ...
    asyncproof.reference.errors.InputError: parameter 'gamma' is not of the form key=value
    """
    out = {}
    for part in filter(None, _top_level_commas(text)):
        k, eq, v = part.partition("=")
        if not eq or not k.strip():
            where = f" in {source!r}" if source and source != part else ""
            raise InputError(f"{what} {part!r}{where} is not of the form key=value")
        out[k.strip()] = v.strip()
    return out


def _top_level_commas(text: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += 1 if ch in "[(" else (-1 if ch in "])" else 0)
        if ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    return parts + [text[start:]]
