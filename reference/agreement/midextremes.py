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

:func:`diameter_pair` is the named step ``diameter_pair`` of ``cluster-agreement`` and
``mdaa``; its distance and its tie-break are :func:`pair_distance` and :func:`pair_rank`
(the broken variants change one each); :func:`diameter` takes the largest distance
directly, without choosing a pair.

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
from functools import partial
from typing import Callable, Sequence

import numpy as np

from ..errors import InputError
from ..kernels import kernel, sq_dist
from .provenance import Point, combine, convex_weights


def pair_distance(a, b) -> float:
    """The distance MidExtremes maximises: the squared Euclidean distance Σ_c (a_c − b_c)²
    (float64, coordinates in order).  Measuring it in L1 (Σ |a_c − b_c|) picks another pair
    wherever the two norms disagree: the broken variant ``broken-mdaa-l1-diameter``."""
    return sq_dist(a, b)


def pair_rank(X, lo: int, hi: int) -> tuple:
    """The tie-break among pairs at the same distance: the pair's values, written (smaller,
    larger), lexicographically; equal values fall back to the indices.  Ranking by the
    indices alone (the first pair found) makes MidExtremes depend on who holds the values:
    the broken variant ``broken-cluster-agreement-tie-by-index``."""
    return tuple(X[lo]), tuple(X[hi]), min(lo, hi), max(lo, hi)


def diameter_pair(X) -> tuple[int, int]:
    """MidExtremes' pair: rows (a, b) realising the largest Euclidean distance, X_a <=lex X_b, ties
    broken by the values (:func:`pair_rank`)."""
    return farthest_pair(X, pair_distance, pair_rank)


def farthest_pair(X, distance: Callable, rank: Callable) -> tuple[int, int]:
    """Rows (a, b) realising the largest ``distance``, X_a <=lex X_b, ties broken by ``rank``:
    :func:`diameter_pair` under another metric or tie rule (docs/agreement.md compares them)."""
    X = np.ascontiguousarray(X, dtype=np.float64)
    k = X.shape[0]
    if k < 2:
        return (0, 0)
    best = None
    for i in range(k):
        for j in range(i + 1, k):
            lo, hi = (i, j) if tuple(X[i]) <= tuple(X[j]) else (j, i)
            key = (-distance(X[lo], X[hi]), rank(X, lo, hi))
            if best is None or key < best[0]:
                best = (key, lo, hi)
    return best[1], best[2]


@kernel
def _max_sq_dist(X):
    best = 0.0
    for i in range(X.shape[0]):
        for j in range(i + 1, X.shape[0]):
            s = sq_dist(X[i], X[j])
            if s > best:
                best = s
    return best


def diameter(X) -> float:
    """max_{i,j} ||X_i - X_j||_2 (0 for fewer than two values); no pair and no tie-break involved."""
    X = np.ascontiguousarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] < 2:
        return 0.0
    return float(np.sqrt(_max_sq_dist(X)))


def mid_extremes_weights(X, pair: Callable = diameter_pair) -> tuple[Fraction, ...]:
    """MidExtremes as weights: 1/2 on each of the two values realising the diameter (``pair``)."""
    k = len(X)
    a, b = pair(X)
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


def mid_extremes(points: Sequence[Point], pair: Callable = diameter_pair) -> Point:
    """MidExtremes(X): the midpoint of the two values realising the maximum distance (``pair``)."""
    return apply_rule(partial(mid_extremes_weights, pair=pair), points, "MidExtremes")
