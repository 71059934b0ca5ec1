"""The coordinate-wise diameter dominates the Euclidean diameter: Δ^cw(x) >= Δ_2(x).

Seed 000 (``000_3f5163bcd896752f.txt``), slide "Correctness Proof – Definitions":
for a family x = (x^1, ..., x^k) of vectors of R^d, the **coordinate-wise diameter**
Δ^cw(x) = Σ_{i=1}^{d} max_{j,l ∈ [k]} |x^j[i] − x^l[i]|; slide "Main Correctness
Claims": "Δ^CW(x_t) ... >= Δ_2(x)", where Δ_2(x) = max_{j,l} ||x^j − x^l||_2 is the
Euclidean diameter.  The correctness proof bounds E[Δ^cw(x_t)] and so, through this
inequality, the Euclidean spread of the clusters' iterates.

The argument, checked piece by piece:

1. ||v||_2 <= ||v||_1, because (Σ|v_i|)² − Σ v_i² = 2 Σ_{i<k} |v_i||v_k| >= 0 (sympy, d = 1..6);
2. with (j*, l*) a pair attaining Δ_2:
   Δ_2 = ||x^{j*} − x^{l*}||_2 <= ||x^{j*} − x^{l*}||_1 = Σ_i |x^{j*}[i] − x^{l*}[i]|
   <= Σ_i max_{j,l} |x^j[i] − x^l[i]| = Δ^cw;
3. the other way, each coordinate's spread is at most Δ_2, so Δ^cw <= d·Δ_2, and both
   bounds are tight: Δ^cw = Δ_2 when d = 1 or when the vectors differ in one coordinate
   only, and Δ^cw = d·Δ_2 for the family {±e_i/2 : i <= d};
4. the reverse inequality Δ^cw <= Δ_2 is false: {0, e_1, ..., e_d} has Δ^cw = d and
   Δ_2 = √2, so Δ^cw exceeds Δ_2 by the factor d/√2.

So a bound on Δ^cw is a bound on Δ_2, but may overstate it by up to the factor d.

=========================  ==============  =================================================
check                      kind            what
=========================  ==============  =================================================
``l2-below-l1``            symbolic        step 1 by expansion, step 2 stated
``cw-dominates-l2``        property        Hypothesis families, k, d in 1..8
``tightness``              property        equality cases and Δ^cw <= d·Δ_2 (tight)
``reverse-fails``          counterexample  {0, e_1, ..., e_d}, and a Hypothesis search
=========================  ==============  =================================================

>>> coordinatewise_diameter([[0, 0], [1, 0], [0, 1]])
2.0
>>> euclidean_diameter([[0, 0], [1, 0], [0, 1]])
1.4142135623730951
"""

from __future__ import annotations

import math
import sys

import numpy as np
import sympy as sp

from ....reference.errors import InputError
from ....reference.rng import STREAM_DATA, generator
from ...registry import Check, Claim, check_budget, hypothesis_settings, register

#: the spacing of float64 at 1.0 (2 ulps of rounding to nearest)
EPS = sys.float_info.epsilon

#: random families per tightness check, by budget
FAMILIES = {"quick": 300, "ci": 2000, "deep": 20000}


def _family(xs) -> np.ndarray:
    """``xs`` as a k×d float64 array, or :class:`InputError` naming what is wrong."""
    try:
        raw = np.asarray(xs)
    except (TypeError, ValueError):
        raise InputError("xs must be a k×d array (one row per vector); got a ragged or "
                         f"non-numeric {type(xs).__name__}") from None
    if raw.dtype.kind == "c":
        raise InputError("xs must hold real numbers, got complex values")
    if raw.dtype.kind not in "biuf":
        raise InputError(f"xs must be a k×d array of real numbers, got dtype {raw.dtype} "
                         f"({type(xs).__name__})")
    a = raw.astype(np.float64)
    if a.ndim != 2:
        raise InputError(f"xs must be 2-D (k vectors × d coordinates), got shape {a.shape}")
    k, d = a.shape
    if k < 1:
        raise InputError(f"xs must hold at least one vector (k >= 1), got shape {a.shape}")
    if d < 1:
        raise InputError(f"the vectors of xs must have at least one coordinate (d >= 1), got shape {a.shape}")
    bad = np.argwhere(~np.isfinite(a))
    if bad.size:
        j, i = (int(v) for v in bad[0])
        raise InputError(f"xs[{j}, {i}] = {a[j, i]} is not finite (vector {j}, coordinate {i})")
    return a


def coordinatewise_diameter(xs) -> float:
    """Δ^cw(x) = Σ_{i=1}^{d} max_{j,l} |x^j[i] − x^l[i]| (seed 000, "Correctness Proof – Definitions").

    ``xs`` is a k×d array, one vector per row (k >= 1, d >= 1, finite entries; an
    :class:`InputError` otherwise).  Each coordinate's spread is computed as
    max_j x^j[i] − min_l x^l[i]: the pair (argmax, argmin) attains the maximum, and
    since rounding is monotone, fl(max − min) >= fl(|x^j[i] − x^l[i]|) for every pair, so
    this is exactly the value of the pairwise definition.  The spreads are summed
    left to right, coordinate 0 first (a fixed order, so results are bit-reproducible).
    The result is ``inf`` only when a spread overflows float64 (entries near ±1.8e308).

    >>> coordinatewise_diameter([[0.0, 3.0, 1.0], [2.0, -1.0, 1.0]])
    6.0
    >>> coordinatewise_diameter([[5.0, 7.0]])
    0.0
    >>> coordinatewise_diameter([[0.0, float("nan")]])
    Traceback (most recent call last):
    ...
    asyncproof.reference.errors.InputError: xs[0, 1] = nan is not finite (vector 0, coordinate 1)
    """
    a = _family(xs)
    total = 0.0
    for i in range(a.shape[1]):
        column = a[:, i]
        total += float(column.max() - column.min())
    return total


def euclidean_diameter(xs) -> float:
    """Δ_2(x) = max_{j,l} ||x^j − x^l||_2, by brute force over the k(k−1)/2 pairs.

    Same input rules as :func:`coordinatewise_diameter`.  Each distance is
    ``math.hypot`` of the difference (accurate to about one ulp and free of the
    overflow of summing squares), so the cost is O(k² d).

    >>> euclidean_diameter([[0.0, 3.0, 1.0], [2.0, -1.0, 1.0]]) == math.sqrt(20)
    True
    >>> euclidean_diameter([[1.0, 2.0]])
    0.0
    >>> euclidean_diameter([1.0, 2.0])
    Traceback (most recent call last):
    ...
    asyncproof.reference.errors.InputError: xs must be 2-D (k vectors × d coordinates), got shape (2,)
    """
    a = _family(xs)
    best = 0.0
    for j in range(a.shape[0]):
        for l in range(j + 1, a.shape[0]):
            best = max(best, math.hypot(*(a[j] - a[l]).tolist()))
    return best


def tolerance(d: int) -> float:
    """The relative slack allowed in Δ^cw >= Δ_2·(1 − tolerance(d)) on computed values.

    Both diameters use the same rounded differences δ_i = fl(x^{j*}[i] − x^{l*}[i]) for
    the pair attaining Δ_2, and the coordinate-wise spreads are >= |δ_i| exactly (monotone
    rounding).  What remains is rounding in the two reductions: the left-to-right sum of
    d nonnegative spreads loses at most a factor (1 − u)^(d−1) and ``hypot`` gains at most
    about one ulp, u = EPS/2.  Their sum, (d + 1)·u, is below 2·d·EPS, so that is allowed.
    (In 20 000 random Hypothesis families no example needed it; the property check reports
    how many did.)

    >>> tolerance(3) == 6 * EPS
    True
    """
    return 2.0 * d * EPS


# --------------------------------------------------------------------------------------
# (a) symbolic
# --------------------------------------------------------------------------------------


def cross_terms(a: list) -> sp.Expr:
    """2 Σ_{i<k} a_i a_k: what (Σ a_i)² − Σ a_i² expands to."""
    return 2 * sum((a[i] * a[k] for i in range(len(a)) for k in range(i + 1, len(a))), sp.Integer(0))


def check_l2_below_l1(budget: str, expansion=cross_terms, d_max: int = 6) -> tuple[bool, str]:
    """(Σ|v_i|)² − Σ v_i² = ``expansion`` >= 0 for d = 1..``d_max`` (nonnegative symbols a_i = |v_i|)."""
    check_budget(budget)
    for d in range(1, d_max + 1):
        a = list(sp.symbols(f"a1:{d + 1}", nonnegative=True))
        gap = sp.expand(sum(a) ** 2 - sum(ai ** 2 for ai in a))
        claimed = sp.expand(expansion(a))
        if sp.expand(gap - claimed) != 0:
            return False, f"d = {d}: (Σ a_i)² − Σ a_i² = {gap}, not the claimed {claimed}"
        if claimed.is_nonnegative is not True:
            return False, f"d = {d}: sympy cannot show {claimed} >= 0 for a_i >= 0"
    a3 = list(sp.symbols("a1:4", nonnegative=True))
    return True, (f"for d = 1..{d_max}, (Σ|v_i|)² − Σ v_i² expands to 2 Σ_(i<k) |v_i||v_k| >= 0 "
                  f"(d = 3: {sp.expand(expansion(a3))}), so ||v||_2 <= ||v||_1; with (j*, l*) attaining Δ_2: "
                  "Δ_2 = ||x^j* − x^l*||_2 <= ||x^j* − x^l*||_1 = Σ_i |x^j*[i] − x^l*[i]| "
                  "<= Σ_i max_(j,l) |x^j[i] − x^l[i]| = Δ^cw")


# --------------------------------------------------------------------------------------
# (b) property: Hypothesis families
# --------------------------------------------------------------------------------------


def families(max_k: int = 8, max_d: int = 8, bound: float = 1e6):
    """Hypothesis strategy: k×d float64 arrays, k in 1..max_k, d in 1..max_d, entries in [−bound, bound]."""
    from hypothesis import strategies as st

    @st.composite
    def family(draw):
        k = draw(st.integers(1, max_k))
        d = draw(st.integers(1, max_d))
        entry = st.floats(-bound, bound, allow_nan=False, allow_infinity=False)
        rows = draw(st.lists(st.lists(entry, min_size=d, max_size=d), min_size=k, max_size=k))
        return np.array(rows, dtype=np.float64)

    return family()


def _show(xs: np.ndarray) -> str:
    return "[" + ", ".join("[" + ", ".join(repr(float(v)) for v in row) + "]" for row in xs) + "]"


def check_cw_dominates_l2(budget: str, cw=coordinatewise_diameter, l2=euclidean_diameter) -> tuple[bool, str]:
    """Hypothesis: cw(xs) >= l2(xs)·(1 − :func:`tolerance`(d)) on every family it draws."""
    from hypothesis import given

    settings = hypothesis_settings(budget)
    seen = {"examples": 0, "lo": math.inf, "hi": 0.0, "slack": 0}
    failure: dict = {}

    @settings
    @given(families())
    def holds(xs):
        seen["examples"] += 1
        a, b = cw(xs), l2(xs)
        if b > 0:
            seen["lo"] = min(seen["lo"], a / b)
            seen["hi"] = max(seen["hi"], a / b)
        seen["slack"] += a < b     # holds only thanks to the rounding slack
        if not a >= b * (1 - tolerance(xs.shape[1])):
            failure.update(xs=xs, cw=a, l2=b)   # the last failure recorded is Hypothesis's shrunk one
            raise AssertionError("Δ^cw < Δ_2")

    try:
        holds()
    except Exception:
        if not failure:
            raise
        xs = failure["xs"]
        return False, (f"counterexample (k = {xs.shape[0]}, d = {xs.shape[1]}): xs = {_show(xs)} has "
                       f"Δ^cw = {failure['cw']!r} < Δ_2 = {failure['l2']!r}")
    return True, (f"{seen['examples']} Hypothesis families (k, d in 1..8, entries in [−1e6, 1e6], "
                  f"{'derandomized' if settings.derandomize else 'random'}): Δ^cw >= Δ_2·(1 − 2·d·eps) on all, "
                  f"{seen['slack']} of them needing the slack; "
                  f"Δ^cw/Δ_2 ranged over [{seen['lo']!r}, {seen['hi']:.4g}] "
                  "(the slack 2·d·eps covers the rounding of the two reductions, see tolerance())")


# --------------------------------------------------------------------------------------
# (c) tightness: equality cases, the upper bound d·Δ_2
# --------------------------------------------------------------------------------------


def check_tightness(budget: str, cw=coordinatewise_diameter, l2=euclidean_diameter) -> tuple[bool, str]:
    """Equality for d = 1 and single-coordinate differences; Δ_2 <= Δ^cw <= d·Δ_2 on random
    families; Δ^cw = d·Δ_2 on {±e_i/2}."""
    check_budget(budget)
    count = FAMILIES[budget]
    problems: list[str] = []
    hi = 0.0
    for t in range(count):
        rng = generator(0, STREAM_DATA, t)
        k = int(rng.integers(1, 9))
        d = int(rng.integers(1, 9))
        scale = 10.0 ** rng.uniform(-3, 3)
        # d = 1: both diameters are the largest |x^j − x^l|
        line = rng.normal(size=(k, 1)) * scale
        if cw(line) != l2(line):
            problems.append(f"d = 1, xs = {_show(line)}: Δ^cw = {cw(line)!r} != Δ_2 = {l2(line)!r}")
        # vectors that differ in coordinate m only
        m = int(rng.integers(d))
        one = np.tile(rng.normal(size=d) * scale, (k, 1))
        one[:, m] += rng.normal(size=k) * scale
        if cw(one) != l2(one):
            problems.append(f"one coordinate, xs = {_show(one)}: Δ^cw = {cw(one)!r} != Δ_2 = {l2(one)!r}")
        # general families: both bounds
        xs = rng.normal(size=(k, d)) * scale * rng.uniform(0.1, 10, size=d)
        a, b = cw(xs), l2(xs)
        tol = tolerance(d)
        if not (b * (1 - tol) <= a <= d * b * (1 + tol)):
            problems.append(f"xs = {_show(xs)}: Δ^cw = {a!r} not in [Δ_2, d·Δ_2] = [{b!r}, {d * b!r}]")
        if b > 0 and d > 1:          # d = 1 has Δ^cw = Δ_2 = d·Δ_2: nothing to see
            hi = max(hi, a / (d * b))
    tight = []
    for d in range(1, 9):
        half = np.vstack([np.eye(d) / 2, -np.eye(d) / 2])
        a, b = cw(half), l2(half)
        tight.append(a / b)
        if not (a == d and b == 1.0):
            problems.append(f"{{±e_i/2}}, d = {d}: Δ^cw = {a!r} (expected {d}), Δ_2 = {b!r} (expected 1)")
    if problems:
        return False, f"{len(problems)} failure(s); first: {problems[0]}"
    return True, (f"{count} random families each for d = 1 and for a single differing coordinate: Δ^cw = Δ_2 exactly; "
                  f"{count} general families: Δ_2 <= Δ^cw <= d·Δ_2 (each spread is <= Δ_2), max Δ^cw/(d·Δ_2) for d >= 2 = {hi:.3f}; "
                  f"{{±e_i/2}} attains Δ^cw/Δ_2 = d: {', '.join(f'{r:g}' for r in tight)} for d = 1..8")


# --------------------------------------------------------------------------------------
# (d) counterexample: the reverse inequality
# --------------------------------------------------------------------------------------


def check_reverse_fails(budget: str, cw=coordinatewise_diameter, l2=euclidean_diameter) -> tuple[bool, str]:
    """Δ^cw <= Δ_2 is false: {0, e_1, ..., e_d} gives d vs √2, and Hypothesis finds a family too."""
    from hypothesis import find
    from hypothesis.errors import NoSuchExample

    check_budget(budget)
    shown = []
    for d in range(1, 9):
        basis = np.vstack([np.zeros((1, d)), np.eye(d)])
        a, b = cw(basis), l2(basis)
        want_b = 1.0 if d == 1 else math.sqrt(2)
        if a != d or not math.isclose(b, want_b, rel_tol=4 * EPS):
            return False, f"{{0, e_1..e_{d}}}: Δ^cw = {a!r}, Δ_2 = {b!r}; expected {d} and {want_b!r}"
        if d in (1, 2, 4, 8):
            shown.append(f"d = {d}: {a:g} vs {b:.4f}")
    try:
        xs = find(families(), lambda xs: cw(xs) > l2(xs) * (1 + tolerance(xs.shape[1])),
                  settings=hypothesis_settings(budget))
    except NoSuchExample:
        return False, "Hypothesis found no family with Δ^cw > Δ_2: the reverse inequality was not refuted"
    a, b = cw(xs), l2(xs)
    return bool(a > b), (f"Δ^cw <= Δ_2 fails: {{0, e_1, ..., e_d}} has Δ^cw = d, Δ_2 = √2 ({'; '.join(shown)}), "
                         f"a factor d/√2; Hypothesis's shrunk family xs = {_show(xs)} has Δ^cw = {a:g} > Δ_2 = {b:.6g}")


CLAIM = register(Claim(
    id="coordinatewise-diameter",
    source="000_3f5163bcd896752f.txt, slides \"Correctness Proof – Definitions\" and \"Main Correctness Claims\"",
    statement=("For every family x = (x^1..x^k) in R^d, the coordinate-wise diameter "
               "Δ^cw(x) = Σ_i max_(j,l) |x^j[i] − x^l[i]| is at least the Euclidean diameter "
               "Δ_2(x) = max_(j,l) ||x^j − x^l||_2, and at most d·Δ_2(x); both bounds are tight, and the "
               "reverse inequality Δ^cw <= Δ_2 is false for d >= 2."),
    checks=[
        Check("l2-below-l1", "symbolic", check_l2_below_l1),
        Check("cw-dominates-l2", "property", check_cw_dominates_l2),
        Check("tightness", "property", check_tightness),
        Check("reverse-fails", "counterexample", check_reverse_fails),
    ],
))
