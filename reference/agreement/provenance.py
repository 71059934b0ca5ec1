"""Exact provenance: every agreement value carries its convex-combination weights over the inputs.

Seed 000 (``000_3f5163bcd896752f.txt``), slide "Multi-Dimensional Approximate Agreement":
the outputs must lie "in the **convex hull** of the inputs".  Every rule this package
applies to values (MidExtremes, the average, a user's Aggregate rule) outputs a convex
combination of the values it was given, so every value any process ever holds is a
convex combination Σ_i w_i x_i of the n inputs.  A :class:`Point` carries both:

* ``x``: the value itself, float64, computed by the one kernel
  :func:`convex_combination` (Σ_j λ_j v_j, summed in the order of the operands);
* ``w``: its weights over the inputs as exact :class:`fractions.Fraction` s (the
  weights of a combination are the same combination of the operands' weights,
  computed exactly), or ``None`` when provenance is switched off.

Validity is then certified without an LP (:func:`certify`): the weights are >= 0 and
sum to exactly 1, and the float value lies within rounding of Σ_i w_i x_i, which is
computed exactly (a float64 is a dyadic rational).  The property suite checks the
same outputs independently with an LP (scipy's HiGHS).

Denominators grow with the depth of the computation (MidExtremes halves, an average
over k values divides by k), so exact provenance is meant for small instances: a run
with R rounds of K in-cluster rounds has denominators up to about 2^(R K) n^R, which
Python's integers hold easily for the instances of the tests and the CLI; switch it off
(``provenance=false``) for long runs.

Registers and messages hold :class:`Point` s themselves: they are immutable, so the
engine's deep copies share them, and their ``repr`` (which the trace digest hashes) is exact.

>>> a = input_point([0.0, 0.0], 0, 3); b = input_point([2.0, 4.0], 2, 3)
>>> m = combine([a, b], (Fraction(1, 2), Fraction(1, 2)))
>>> m.x.tolist(), m.w
([1.0, 2.0], (Fraction(1, 2), Fraction(0, 1), Fraction(1, 2)))
>>> certify(m, [[0.0, 0.0], [9.0, 9.0], [2.0, 4.0]]) is None
True
>>> m
Point([0x1.0000000000000p+0, 0x1.0000000000000p+1], (1/2, 0, 1/2))
>>> certify(Point(m.x * 1.5, m.w), [[0.0, 0.0], [9.0, 9.0], [2.0, 4.0]])
'the value [1.5, 3] differs by 1 (largest coordinate) from its exact combination Σ w_i x_i = [1, 2]'
"""

from __future__ import annotations

from fractions import Fraction
from typing import Sequence

import numpy as np

from ..errors import InputError
from ..kernels import kernel

#: relative distance a float value may be from its exact combination (rounding, not mistakes)
ROUNDING = 1e-9


class Point:
    """A value ``x`` (float64, shape (d,), read-only) and its exact weights ``w`` over the n inputs (or None).

    Immutable, so the engine's copies of registers and messages share it (``__deepcopy__``
    returns it), and its ``repr`` is exact (the float bits in hex, the weights as
    fractions), which is what the trace digest hashes.
    """
    __slots__ = ("x", "w")

    def __init__(self, x, w: tuple[Fraction, ...] | None = None):
        a = np.array(x, dtype=np.float64, copy=True).reshape(-1)
        a.setflags(write=False)
        object.__setattr__(self, "x", a)
        object.__setattr__(self, "w", None if w is None else tuple(w))

    def __setattr__(self, name, value):
        raise AttributeError("a Point is immutable")

    def __deepcopy__(self, memo):
        return self

    def __copy__(self):
        return self

    def __reduce__(self):
        # pickled into a checkpoint file (reference/checkpoints.py): rebuilt through __init__, the
        # same bits and weights
        return (Point, (self.x, self.w))

    def __eq__(self, other):
        return isinstance(other, Point) and self.x.tobytes() == other.x.tobytes() and self.w == other.w

    def __hash__(self):
        return hash((self.x.tobytes(), self.w))

    def __repr__(self):
        w = "None" if self.w is None else "(" + ", ".join(str(f) for f in self.w) + ")"
        return f"Point([{', '.join(float(v).hex() for v in self.x)}], {w})"


@kernel
def convex_combination(X, lam, out):
    """``out <- Σ_j lam[j] X[j]``, the rows summed in index order (rows with weight 0 skipped).

    The one definition of the float value of every combination (MidExtremes, average,
    user rules), so the reference and a later fast version round alike: with weights
    1/2, 1/2 it is ``0.5 a + 0.5 b``, which is exactly ``(a + b) / 2`` (halving is exact).
    """
    for c in range(X.shape[1]):
        out[c] = 0.0
    for j in range(X.shape[0]):
        if lam[j] != 0.0:
            for c in range(X.shape[1]):
                out[c] += lam[j] * X[j, c]


def input_point(x, i: int, n: int, exact: bool = True) -> Point:
    """Input x_i of process i among n: weight 1 on itself."""
    x = np.ascontiguousarray(x, dtype=np.float64)
    w = tuple(Fraction(int(j == i)) for j in range(n)) if exact else None
    return Point(x, w)


def combine(points: Sequence[Point], lam: Sequence[Fraction]) -> Point:
    """Σ_j λ_j p_j: the value by :func:`convex_combination`, the weights exactly.

    ``lam`` must already be exact convex weights (see :func:`convex_weights`).
    """
    X = np.ascontiguousarray([p.x for p in points], dtype=np.float64)
    out = np.empty(X.shape[1])
    convex_combination(X, np.array([float(l) for l in lam]), out)
    if any(p.w is None for p in points):
        return Point(out, None)
    n = len(points[0].w)
    w = [Fraction(0)] * n
    for l, p in zip(lam, points):
        if l:
            for i in range(n):
                w[i] += l * p.w[i]
    return Point(out, tuple(w))


def convex_weights(lam, k: int, what: str) -> tuple[Fraction, ...]:
    """``lam`` as k exact convex weights; InputError naming ``what`` if they are not convex.

    Fractions and ints must be >= 0 and sum to exactly 1.  Floats (a user's rule may
    compute in floats) must be finite, >= 0 and sum to 1 within 1e-12; they are then
    taken exactly (every float is a rational) and divided by their exact sum, so the
    provenance stays an exact convex combination.
    """
    try:
        lam = list(lam)
    except TypeError:
        raise InputError(f"{what} must return a sequence of {k} weights, got {lam!r}") from None
    if len(lam) != k:
        raise InputError(f"{what} returned {len(lam)} weights for {k} values")
    out = []
    floats = False
    for j, l in enumerate(lam):
        if isinstance(l, (bool, np.bool_)) or not isinstance(l, (int, float, Fraction, np.integer, np.floating)):
            raise InputError(f"{what} returned weight {j} = {l!r}, not a number")
        if isinstance(l, (float, np.floating)):
            floats = True
            if not np.isfinite(l):
                raise InputError(f"{what} returned weight {j} = {l!r}, not finite")
        f = Fraction(l) if not isinstance(l, np.integer) else Fraction(int(l))
        if f < 0:
            raise InputError(f"{what} returned weight {j} = {l!r} < 0: not a convex combination")
        out.append(f)
    total = sum(out, Fraction(0))
    if floats:
        if abs(float(total) - 1.0) > 1e-12 or total == 0:
            raise InputError(f"{what} returned weights summing to {float(total)!r}, not 1")
        out = [f / total for f in out]
    elif total != 1:
        raise InputError(f"{what} returned weights summing to {total}, not 1: not a convex combination")
    return tuple(out)


def exact_combination(w: Sequence[Fraction], inputs) -> list[Fraction]:
    """Σ_i w_i x_i computed exactly (each float64 input taken as the rational it is)."""
    X = np.asarray(inputs, dtype=np.float64)
    d = X.shape[1]
    return [sum((w_i * Fraction(float(X[i, c])) for i, w_i in enumerate(w) if w_i), Fraction(0))
            for c in range(d)]


def _show(v) -> str:
    return "[" + ", ".join(f"{float(t):.6g}" for t in v) + "]"


def certify(point: Point, inputs) -> str | None:
    """``None`` if ``point``'s weights certify it in the convex hull of ``inputs``, else why not.

    The weights must be n numbers >= 0 summing to exactly 1, and the float value must be
    within rounding (:data:`ROUNDING` times the inputs' scale) of Σ_i w_i x_i.
    """
    X = np.asarray(inputs, dtype=np.float64)
    if point.w is None:
        return "the value carries no provenance weights"
    if len(point.w) != X.shape[0]:
        return f"the value has {len(point.w)} weights for {X.shape[0]} inputs"
    neg = [i for i, w in enumerate(point.w) if w < 0]
    if neg:
        return f"weight w_{neg[0]} = {point.w[neg[0]]} < 0"
    total = sum(point.w, Fraction(0))
    if total != 1:
        return f"the weights sum to {total} = {float(total):.6g}, not 1"
    exact = exact_combination(point.w, X)
    err = max(abs(float(Fraction(float(v)) - e)) for v, e in zip(np.asarray(point.x), exact))
    scale = 1.0 + float(np.max(np.abs(X)))
    if err > ROUNDING * scale:
        return (f"the value {_show(point.x)} differs by {err:.3g} (largest coordinate) from its exact combination "
                f"Σ w_i x_i = {_show(exact)}")
    return None


def hull_distance(X, y) -> float:
    """min over convex weights λ of max_c |(Σ_i λ_i X_i − y)_c|: 0 iff y is in the hull of the rows of X.

    The certificate that needs no provenance: a linear program (scipy's HiGHS) over the
    weights λ >= 0, Σ λ = 1 and the slack t, minimising t subject to −t <= Σ_i λ_i X_i − y <= t.
    HiGHS solves to about 1e-7, so compare the result with a tolerance of that order.

    >>> hull_distance([[0.0, 0.0], [2.0, 0.0], [0.0, 2.0]], [0.5, 0.5]) < 1e-9
    True
    >>> round(hull_distance([[0.0, 0.0], [2.0, 0.0], [0.0, 2.0]], [2.0, 2.0]), 6)
    1.0
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n, d = X.shape
    # variables (λ_1 .. λ_n, t); minimise t subject to ±(X^T λ − y) <= t, Σ λ = 1, λ >= 0, t >= 0
    c = np.zeros(n + 1)
    c[-1] = 1.0
    A_ub = np.vstack([np.hstack([X.T, -np.ones((d, 1))]), np.hstack([-X.T, -np.ones((d, 1))])])
    b_ub = np.concatenate([y, -y])
    A_eq = np.hstack([np.ones((1, n)), np.zeros((1, 1))])
    from scipy.optimize import linprog
    res = linprog(c, A_ub=A_ub, b_ub=b_ub, A_eq=A_eq, b_eq=[1.0], bounds=[(0, None)] * (n + 1), method="highs")
    if res.status != 0:
        raise AssertionError(f"the hull LP did not solve: {res.message}")
    return float(res.fun)
