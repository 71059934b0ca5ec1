"""MidExtremes contracts a cluster's values by the constant κ = √(6/7) per round.

Seed 000 (``000_3f5163bcd896752f.txt``), slide "MDAA within a Cluster": "Ensures constant
contraction within O(1) rounds"; MidExtremes after Függer and Nowak (DISC 2018), whose
analysis needs every two processes' views to share a value (their "non-split" rounds).
The slides state no constant; this claim derives it.

**The common point.**  In a cluster, every view from which a process computes round
r + 1 contains the first value written with round r, v_u: the process was at round r when
its collect began (it wrote round r itself, or saw a round-r value and skipped to r),
so v_u was written before that collect read u's register, and registers never go back;
a round above r there would have made the process skip instead.  (This is where the
non-atomic collect suffices: no snapshot is needed.)

**The constant.**  Let X, Y be two views sharing a point c, D the diameter of X ∪ Y,
(a, b) the pair realising δ_X = diam X and m_X = (a + b)/2, likewise (e, f), δ_Y, m_Y.

1. Apollonius: |m − p|² = (|a − p|² + |b − p|²)/2 − |a − b|²/4 for any point p.
2. With p = c ∈ X: |a − c|, |b − c| <= δ_X, so |m_X − c| <= (√3/2) δ_X; hence
   |m_X − m_Y| <= (√3/2)(δ_X + δ_Y).
3. With p = m_Y, and Apollonius again for |a − m_Y|² <= D² − δ_Y²/4:
   |m_X − m_Y|² <= D² − (δ_X² + δ_Y²)/4.
4. For a fixed δ_X + δ_Y the second bound is largest at δ_X = δ_Y = δ, so
   |m_X − m_Y| <= D max_δ min(√3 δ, √(1 − δ²/2)), reached where √3 δ = √(1 − δ²/2):
   δ² = 2/7 and κ² = 6/7.

So every round multiplies the diameter of the round's values by at most κ = √(6/7) ≈
0.9258, in every dimension, and K rounds by κ^(K−1): a constant contraction within a
constant number of rounds.  The bound is tight from d = 3 on (an exact configuration:
two equilateral triangles of side √(2/7) through c in orthogonal planes, at distance 1
across), is √3/2 ≈ 0.866 in the plane (the same configuration folded into two
dimensions; a numerical search finds nothing larger), and is 1/2 on the line.

=========================  ==============  ==========================================================
check                      kind            what
=========================  ==============  ==========================================================
``derivation``             symbolic        steps 1-4 with sympy: the identities, the maximisation, κ²
``tight-configuration``    symbolic        the configurations reaching κ (d = 3) and √3/2 (d = 2), in
                                           exact arithmetic; the module's MidExtremes (with its tie-
                                           break) on them
``geometric-search``       counterexample  multi-start SLSQP over (c, a, b, e, f) in d = 1, 2, 3: the
                                           worst ratio found per dimension, never above κ, equal to κ
                                           at d = 3
``schedule-search``        property        Hypothesis over runs of ``cluster-agreement`` (inputs and
                                           schedules, steered by ``target`` toward large factors): no
                                           round contracts by less than κ; the worst factor found
=========================  ==============  ==========================================================

Each check takes the constant it tests as ``kappa`` (default :data:`KAPPA`), so a test can
hand it a wrong one (1/2, the line's; √3/2, the plane's) and see it fail.

>>> KAPPA
sqrt(42)/7
>>> round(float(KAPPA), 6), round(ratio_of_configuration(tight_configuration(3)), 6)
(0.92582, 0.92582)
"""

from __future__ import annotations

import math

import numpy as np
import sympy as sp

from ....reference.agreement.cluster_agreement import KAPPA_CLUSTER, round_factors
from ....reference.agreement.midextremes import diameter, mid_extremes
from ....reference.agreement.provenance import Point
from ....reference.errors import InputError
from ...registry import Check, Claim, check_budget, register

#: the derived constant, exactly
KAPPA = sp.sqrt(sp.Rational(6, 7))
SOURCE = "000_3f5163bcd896752f.txt, slide \"MDAA within a Cluster\" (\"Ensures constant contraction within O(1) rounds\")"


def _vec(name: str, d: int = 3):
    return sp.Matrix(sp.symbols(f"{name}1:{d + 1}", real=True))


def _sq(v) -> sp.Expr:
    return (v.T * v)[0, 0]


def derive_kappa() -> sp.Expr:
    """Step 4: the δ > 0 with √3 δ = √(1 − δ²/2), and κ = √3 δ there."""
    delta = sp.Symbol("delta", positive=True)
    (root,) = sp.solve(sp.Eq(3 * delta ** 2, 1 - delta ** 2 / 2), delta)
    return sp.nsimplify(sp.sqrt(3) * root)


def _check_kappa_arg(kappa) -> sp.Expr:
    k = sp.sympify(kappa)
    if not (k.is_real and 0 < k <= 1):
        raise InputError(f"kappa must be a constant in (0, 1], got {kappa!r}")
    return k


def check_derivation(budget: str, kappa=KAPPA) -> tuple[bool, str]:
    check_budget(budget)
    kappa = _check_kappa_arg(kappa)
    a, b, p, e, f = (_vec(s) for s in "abpef")
    m = (a + b) / 2
    apollonius = sp.expand(_sq(m - p) - ((_sq(a - p) + _sq(b - p)) / 2 - _sq(a - b) / 4))
    # step 2: with |a-c|, |b-c| <= δ = |a-b| the identity gives |m-c|² <= δ² - δ²/4
    d = sp.Symbol("d", positive=True)
    step2 = sp.simplify((d ** 2 + d ** 2) / 2 - d ** 2 / 4 - sp.Rational(3, 4) * d ** 2)
    # step 3: Apollonius with p = m_Y, then |a - m_Y|² <= D² - δ_Y²/4 likewise for b
    mY = (e + f) / 2
    step3 = sp.expand(_sq(m - mY) - ((_sq(a - mY) + _sq(b - mY)) / 2 - _sq(a - b) / 4))
    derived = derive_kappa()
    bad = []
    if apollonius != 0:
        bad.append(f"Apollonius' identity leaves {apollonius}")
    if step2 != 0:
        bad.append(f"step 2 leaves {step2}")
    if step3 != 0:
        bad.append(f"step 3's identity leaves {step3}")
    if sp.simplify(derived ** 2 - sp.Rational(6, 7)) != 0:
        bad.append(f"the maximisation gives κ = {derived}")
    if sp.simplify(kappa - derived) != 0:
        bad.append(f"the claimed κ = {kappa} = {float(kappa):.6f} is not the derived {derived} = {float(derived):.6f}")
    if abs(float(derived) - KAPPA_CLUSTER) > 1e-15:
        bad.append(f"the algorithm's KAPPA_CLUSTER = {KAPPA_CLUSTER!r} is not {float(derived)!r}")
    head = "Apollonius' identity (d = 3, symbolic), steps 2-3, max_δ min(√3δ, √(1−δ²/2)) at δ² = 2/7"
    if bad:
        return False, head + ": " + "; ".join(bad)
    return True, (f"{head}: κ = √3·√(2/7) = {derived} = √(6/7) = {float(derived):.6f}, the claimed constant and "
                  f"the algorithm's KAPPA_CLUSTER")


def tight_configuration(d: int = 3, exact: bool = False):
    """c, a, b, e, f reaching the bound: two equilateral triangles (c, a, b), (c, e, f) of side δ.

    m_X = (√3/2) δ u and m_Y = −(√3/2) δ u; a, b = m_X ± (δ/2) v and e, f = m_Y ± (δ/2) w with
    u, v, w orthonormal (d = 3, δ² = 2/7: every cross distance is 1) or w = v (d = 2, δ = 1/2:
    the largest cross distance, |a − f| = 2δ, is 1).  ``exact``: sympy numbers, else floats.
    """
    if d not in (2, 3):
        raise InputError(f"the tight configurations are in d = 2 or 3, got d = {d!r}")
    sq = sp.sqrt if exact else math.sqrt
    num = (lambda v: v) if exact else float
    delta = sq(num(sp.Rational(2, 7)) if exact else 2 / 7) if d == 3 else num(sp.Rational(1, 2)) if exact else 0.5
    h = sq(3) / 2 * delta
    u = [1, 0, 0][:d]
    v = [0, 1, 0][:d]
    w = [0, 0, 1] if d == 3 else v
    pt = lambda s, t, vec: [s * h * ui + t * delta / 2 * vi for ui, vi in zip(u, vec)]  # noqa: E731
    c = [0] * d
    return [c, pt(1, 1, v), pt(1, -1, v), pt(-1, 1, w), pt(-1, -1, w)]


def ratio_of_configuration(points, spread: float = 1e-7) -> float:
    """|MidExtremes(X) − MidExtremes(Y)| / diam(X ∪ Y) for X = {c, a, b}, Y = {c, e, f}, by the module.

    The exact configurations are equilateral, so every pair of a triangle ties and the
    tie-break, not the geometry, would pick the pair.  ``spread`` moves a and b (e and f)
    apart along their line by that fraction, which keeps their midpoint and makes them the
    strict diameter: the ratio approaches the bound from below as ``spread`` → 0."""
    c, a, b, e, f = (np.asarray(p, dtype=np.float64) for p in points)
    a, b = a + spread * (a - b), b + spread * (b - a)
    e, f = e + spread * (e - f), f + spread * (f - e)
    return _set_ratio([c, a, b, e, f])


def check_tight(budget: str, kappa=KAPPA) -> tuple[bool, str]:
    check_budget(budget)
    kappa = _check_kappa_arg(kappa)
    bad, parts = [], []
    for d, want in ((3, KAPPA), (2, sp.sqrt(3) / 2)):
        c, a, b, e, f = (sp.Matrix(p) for p in tight_configuration(d, exact=True))
        pts = [c, a, b, e, f]
        dist = max(sp.nsimplify(sp.simplify(_sq(p - q))) for i, p in enumerate(pts) for q in pts[i + 1:])
        sides = {sp.simplify(_sq(p - q)) for p, q in ((c, a), (c, b), (a, b), (c, e), (c, f), (e, f))}
        gap = sp.sqrt(sp.simplify(_sq((a + b) / 2 - (e + f) / 2)))
        if sp.simplify(dist - 1) != 0:
            bad.append(f"d = {d}: the diameter² is {dist}, not 1")
        if len(sides) != 1:
            bad.append(f"d = {d}: the triangles are not equilateral: sides² {sides}")
        if sp.simplify(gap - want) != 0:
            bad.append(f"d = {d}: |m_X − m_Y| = {gap}, not {want}")
        measured = ratio_of_configuration(tight_configuration(d))
        if d == 3 and not float(kappa) >= measured - 1e-6:
            bad.append(f"d = 3: the module's MidExtremes contracts by only {measured:.6f} here, more than κ = "
                       f"{float(kappa):.6f} allows")
        if not abs(measured - float(want)) < 1e-5:
            bad.append(f"d = {d}: the module's MidExtremes gives ratio {measured:.6f}, not {float(want):.6f}")
        parts.append(f"d = {d}: triangles of side² {sides.pop() if len(sides) == 1 else '?'}, diameter 1, "
                     f"|m_X − m_Y| = {sp.nsimplify(gap)} = {float(gap):.6f} exactly, the module's MidExtremes "
                     f"{measured:.6f}")
    if float(kappa) < float(KAPPA) - 1e-12:
        bad.append(f"the d = 3 configuration contracts by {float(KAPPA):.6f} > the claimed κ = {float(kappa):.6f}")
    if bad:
        return False, "; ".join(bad)
    return True, "; ".join(parts) + ": the bound κ = √(6/7) is reached (d = 3)"


# --------------------------------------------------------------------------------------
# the numerical search over configurations


def worst_configuration(d: int, starts: int, seed: int = 0) -> tuple[float, np.ndarray]:
    """max |m_X − m_Y| over c, a, b, e, f in R^d with all distances <= 1, (a, b) and (e, f) the
    diameters of {c, a, b} and {c, e, f}: multi-start SLSQP, returning the best ratio found and
    its points (rechecked with the module's MidExtremes on the sets)."""
    from scipy.optimize import minimize
    rng = np.random.default_rng(seed)
    pairs = [(i, j) for i in range(5) for j in range(i + 1, 5)]

    def P(z):
        return z.reshape(5, d)

    cons = [{"type": "ineq", "fun": lambda z, i=i, j=j: 1.0 - np.sum((P(z)[i] - P(z)[j]) ** 2)} for i, j in pairs]
    for p, q in ((1, 2), (3, 4)):
        for o in (p, q):
            cons.append({"type": "ineq", "fun": lambda z, p=p, q=q, o=o:
                         np.sum((P(z)[p] - P(z)[q]) ** 2) - np.sum((P(z)[o] - P(z)[0]) ** 2)})
    best, best_pts = 0.0, None
    for _ in range(starts):
        res = minimize(lambda z: -np.sum(((P(z)[1] + P(z)[2]) / 2 - (P(z)[3] + P(z)[4]) / 2) ** 2),
                       rng.uniform(-0.5, 0.5, 5 * d), constraints=cons, method="SLSQP",
                       options={"maxiter": 300, "ftol": 1e-12})
        pts = P(res.x)
        r = _set_ratio(pts)
        if r > best:
            best, best_pts = r, pts
    return best, best_pts


def _set_ratio(pts) -> float:
    """The module's MidExtremes of {c, a, b} and {c, e, f}, over the diameter of all five."""
    c, a, b, e, f = (np.asarray(p, dtype=np.float64) for p in pts)
    mx = mid_extremes([Point(c), Point(a), Point(b)])
    my = mid_extremes([Point(c), Point(e), Point(f)])
    return float(np.linalg.norm(mx.x - my.x) / diameter([c, a, b, e, f]))


STARTS = {"quick": 12, "ci": 40, "deep": 300}


def check_geometric_search(budget: str, kappa=KAPPA, starts: int | None = None) -> tuple[bool, str]:
    check_budget(budget)
    kappa = float(_check_kappa_arg(kappa))
    n = STARTS[budget] if starts is None else starts
    found = {d: worst_configuration(d, n, seed=d)[0] for d in (1, 2, 3)}
    bad = [f"d = {d}: a configuration contracts by only {r:.6f} > κ = {kappa:.6f}" for d, r in found.items()
           if r > kappa + 1e-6]
    if found[3] < float(KAPPA) - 1e-3:
        bad.append(f"d = 3: the search found at most {found[3]:.6f}, short of √(6/7)")
    text = ", ".join(f"d = {d}: {r:.6f}" for d, r in found.items())
    if bad:
        return False, f"worst ratios over {n} SLSQP starts per dimension: {text}; " + "; ".join(bad)
    return True, (f"worst |MidExtremes(X) − MidExtremes(Y)| / diam over {n} SLSQP starts per dimension (X, Y sharing "
                  f"a point, the module's MidExtremes): {text} (1/2, √3/2 = 0.866025, √(6/7) = 0.925820): never above "
                  f"κ = {kappa:.6f}, equal to it from d = 3")


# --------------------------------------------------------------------------------------
# the adversary's search over schedules


EXAMPLES = {"quick": 60, "ci": 300, "deep": 3000}


def schedule_search(budget: str, examples: int | None = None, algorithm: str = "cluster-agreement") -> dict:
    """Hypothesis over runs of ``algorithm`` (inputs in [-1, 1]^d, every choice of the schedule
    drawn), steered by ``target`` toward the largest per-round factor.  Returns the worst factors
    found: ``round`` (per round: in-cluster for ``cluster-agreement``, per MDAA round for
    ``mdaa``), ``in_cluster`` (every in-cluster round, in MDAA too) and ``overall``
    ((diam out / diam in)^(1/rounds), a per-round rate), and ``where`` (n, d, rounds)."""
    from hypothesis import given, target, strategies as st

    from ....reference.adversaries import HypothesisAdversary
    from ....reference.agreement.mdaa import mdaa_factors
    from ....reference.schedule import run_algorithm
    from ...registry import hypothesis_settings

    worst = {"round": 0.0, "in_cluster": 0.0, "overall": 0.0, "where": None}
    mdaa = algorithm == "mdaa"

    @hypothesis_settings(budget, EXAMPLES[budget] if examples is None else examples)
    @given(st.data())
    def search(data):
        if mdaa:
            clusters = data.draw(st.lists(st.integers(1, 2), min_size=2, max_size=3), label="clusters")
            params = {"clusters": clusters, "T": 2, "K": 2}
        else:
            clusters = [data.draw(st.integers(2, 5), label="n")]
            params = {"clusters": clusters, "T": data.draw(st.integers(2, 4), label="T")}
        n, d = sum(clusters), data.draw(st.integers(1, 3), label="d")
        unit = st.floats(-1, 1, allow_nan=False, width=32).map(float)
        X = data.draw(st.lists(st.lists(unit, min_size=d, max_size=d), min_size=n, max_size=n), label="inputs")
        res = run_algorithm(algorithm, problem={"name": "quadratic", "params": {"d": d}},
                            params={**params, "inputs": X}, adversary=HypothesisAdversary(data))
        inner = max(round_factors(res.trace), default=0.0)
        f = max(mdaa_factors(res.trace), default=0.0) if mdaa else inner
        rounds = params["T"] if mdaa else params["T"] - 1
        outs = [o[-1] for o in res.trace.outputs.values() if o]
        din = diameter(X)
        overall = (diameter(outs) / din) ** (1.0 / rounds) if din > 0 and outs else 0.0
        target(f, label="per-round factor")
        if f > worst["round"]:
            worst.update(round=f, where=(n, d, params["T"]))
        worst["in_cluster"] = max(worst["in_cluster"], inner)
        worst["overall"] = max(worst["overall"], overall)

    search()
    return worst


def check_schedule_search(budget: str, kappa=KAPPA, examples: int | None = None) -> tuple[bool, str]:
    check_budget(budget)
    kappa = float(_check_kappa_arg(kappa))
    w = schedule_search(budget, examples)
    detail = (f"{EXAMPLES[budget] if examples is None else examples} runs of cluster-agreement searched by Hypothesis "
              f"(targeting the factor): worst per-round factor diam(V_(r+1))/diam(V_r) = {w['round']:.6f}"
              + (f" (n = {w['where'][0]}, d = {w['where'][1]}, T = {w['where'][2]})" if w["where"] else "")
              + f", worst overall rate (diam out/diam in)^(1/(T−1)) = {w['overall']:.6f}; κ = {kappa:.6f}")
    ok = w["round"] <= kappa + 1e-9 and w["overall"] <= kappa + 1e-9
    return ok, detail + (": within the constant" if ok else ": ABOVE the constant")


CLAIM = register(Claim(
    id="agreement-cluster-contraction",
    source=SOURCE,
    statement=("In a cluster, every view from which round r+1 is computed contains the first round-r value, and "
               "MidExtremes of two sets sharing a point are within √(6/7) ≈ 0.9258 of their union's diameter "
               "(Apollonius twice, maximised at δ² = 2/7): each round contracts the diameter of the round's values "
               "by κ = √(6/7) in any dimension, K rounds by κ^(K−1). Tight from d = 3 (exact configuration); "
               "√3/2 in the plane, 1/2 on the line."),
    checks=[
        Check("derivation", "symbolic", check_derivation),
        Check("tight-configuration", "symbolic", check_tight),
        Check("geometric-search", "counterexample", check_geometric_search),
        Check("schedule-search", "property", check_schedule_search),
    ],
))
