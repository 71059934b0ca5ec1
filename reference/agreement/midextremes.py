"""MidExtremes and the Aggregate rules: each returns convex weights over the values it is given.

Seed 000 (``000_3f5163bcd896752f.txt``), slide "MDAA within a Cluster": "**MidExtremes**
returns the average of the two values realizing the maximum Euclidean distance"; slide
"Multi-Dimensional AA in the Cluster-Based Model": "y_{r+1} = Aggregate(received values)".
MidExtremes is the algorithm of Függer and Nowak (DISC 2018), which the seed cites.

A rule maps the values X (a k × d float64 array, rows in a fixed order) to k convex
weights λ; the new value is Σ_j λ_j X_j (:func:`~.provenance.convex_combination`) and its
provenance the same combination of the operands' weights (:func:`~.provenance.combine`).
So every rule here outputs a convex combination by construction, and a user's rule is
checked to (:func:`~.provenance.convex_weights`).

**Tie-break (the slide leaves it open).**  Several pairs may realise the maximum
distance (a square's two diagonals), and the midpoints differ.  :func:`diameter_pair`
takes, among the pairs (i, j) with the largest squared distance ``Σ_c (X_ic − X_jc)²``
(float64, coordinates in order), the one whose points, written (lexicographically
smaller, larger), are lexicographically smallest; equal points fall back to the smaller
indices.  The choice depends on the *values* only, never on who holds them, so
MidExtremes is a function of the multiset of values (tested: permuting the rows gives
the same bits).  A single value, or equal values, give that value.

>>> import numpy as np
>>> square = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
>>> diameter_pair(square)          # both diagonals have length √2: (0,0)-(1,1) comes first
(0, 2)
>>> diameter_pair(square[::-1].copy())
(3, 1)
>>> mid_extremes_weights(square)
(Fraction(1, 2), Fraction(0, 1), Fraction(1, 2), Fraction(0, 1))
>>> resolve_rule("median")
Traceback (most recent call last):
...
asyncproof.reference.errors.InputError: unknown aggregate rule 'median'; known: average, midextremes, or 'module:function' (a user rule)
"""

from __future__ import annotations

import importlib
from fractions import Fraction
from typing import Callable, Sequence

import numpy as np

from ..errors import InputError
from ..kernels import kernel, sq_dist
from .provenance import Point, combine, convex_weights


@kernel
def _lex_cmp(a, b):
    """-1, 0 or 1: the lexicographic order of two points."""
    for c in range(a.shape[0]):
        if a[c] < b[c]:
            return -1
        if a[c] > b[c]:
            return 1
    return 0


@kernel
def _index_cmp(i1, j1, i2, j2):
    if i1 != i2:
        return -1 if i1 < i2 else 1
    if j1 != j2:
        return -1 if j1 < j2 else 1
    return 0


@kernel
def _diameter_pair(X):
    k = X.shape[0]
    best, bi, bj = -1.0, 0, 0
    for i in range(k):
        for j in range(i + 1, k):
            s = sq_dist(X[i], X[j])
            lo, hi = (i, j) if _lex_cmp(X[i], X[j]) <= 0 else (j, i)
            if s > best:
                best, bi, bj = s, lo, hi
            elif s == best:
                c = _lex_cmp(X[lo], X[bi])
                if c == 0:
                    c = _lex_cmp(X[hi], X[bj])
                if c == 0:      # equal values: the smaller indices, so provenance is deterministic too
                    c = _index_cmp(min(lo, hi), max(lo, hi), min(bi, bj), max(bi, bj))
                if c < 0:
                    bi, bj = lo, hi
    return bi, bj


def diameter_pair(X) -> tuple[int, int]:
    """Rows (a, b) realising the largest Euclidean distance, X_a <=lex X_b, by the tie-break above."""
    X = np.ascontiguousarray(X, dtype=np.float64)
    if X.shape[0] < 2:
        return (0, 0)
    a, b = _diameter_pair(X)
    return int(a), int(b)


def diameter(X) -> float:
    """max_{i,j} ||X_i - X_j||_2 (0 for fewer than two values)."""
    X = np.ascontiguousarray(X, dtype=np.float64)
    if X.shape[0] < 2:
        return 0.0
    a, b = _diameter_pair(X)
    return float(np.sqrt(sq_dist(X[a], X[b])))


def mid_extremes_weights(X) -> tuple[Fraction, ...]:
    """MidExtremes as weights: 1/2 on each of the two values realising the diameter."""
    k = len(X)
    a, b = diameter_pair(X)
    lam = [Fraction(0)] * k
    if a == b:
        lam[a] = Fraction(1)
    else:
        lam[a] = lam[b] = Fraction(1, 2)
    return tuple(lam)


def average_weights(X) -> tuple[Fraction, ...]:
    """The plain average: 1/k on each value (the slides' "Avg", seed 000 "General Algorithm")."""
    k = len(X)
    return tuple(Fraction(1, k) for _ in range(k))


#: the built-in Aggregate rules, by name
RULES: dict[str, Callable] = {"midextremes": mid_extremes_weights, "average": average_weights}


def resolve_rule(spec) -> Callable:
    """A rule from its name, from ``"module:function"`` (a user rule, imported), or a callable."""
    if callable(spec):
        return spec
    if not isinstance(spec, str) or not spec:
        raise InputError(f"aggregate rule must be a name or 'module:function', got {spec!r}")
    if spec in RULES:
        return RULES[spec]
    mod, colon, fn = spec.partition(":")
    if not colon:
        raise InputError(f"unknown aggregate rule {spec!r}; known: {', '.join(sorted(RULES))}, "
                         f"or 'module:function' (a user rule)")
    try:
        rule = getattr(importlib.import_module(mod), fn)
    except (ImportError, AttributeError, ValueError) as e:
        raise InputError(f"aggregate rule {spec!r} cannot be loaded: {type(e).__name__}: {e}") from None
    if not callable(rule):
        raise InputError(f"aggregate rule {spec!r} is not a function")
    return rule


def rule_name(spec) -> str:
    return spec if isinstance(spec, str) else getattr(spec, "__name__", repr(spec))


def apply_rule(rule, points: Sequence[Point], what: str = "aggregate rule") -> Point:
    """The rule's convex combination of ``points`` (rows in the given order), with provenance."""
    X = np.ascontiguousarray([p.x for p in points], dtype=np.float64)
    lam = convex_weights(resolve_rule(rule)(X), len(points), f"{what} {rule_name(rule)!r}")
    return combine(points, lam)


def mid_extremes(points: Sequence[Point]) -> Point:
    """MidExtremes(X): the midpoint of the two values realising the maximum distance."""
    return apply_rule(mid_extremes_weights, points, "MidExtremes")
