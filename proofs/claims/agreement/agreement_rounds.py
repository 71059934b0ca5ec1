"""MDAA reaches q-contraction in O(log 1/q) rounds: q = κ(ε)^(2R), with ε the clusters' precision.

Seed 000 (``000_3f5163bcd896752f.txt``), slides "Multi-Dimensional AA in the Cluster-Based
Model" ("Tune to get q-contraction in O(log q) rounds") and "Back to Overall MDAA" ("Can
pick ε to ensure q-contraction in O(log q) rounds").  The slides give neither ε's meaning
nor the relation; this claim states and checks ours.

**ε.**  After K in-cluster rounds a cluster's outputs lie within ε = κ^(K−1) times the
diameter of its inputs of each other (``agreement-cluster-contraction``, κ = √(6/7)); its
inputs are y's of the round, so within εD of each other, D = diam(Y_r).

**One MDAA round.**  Two processes aggregate sets Z_p, Z_q of round-r values that each
represent a majority; two majorities share a process, hence a cluster, so Z_p holds a z
of that cluster and Z_q one within εD of it.  With MidExtremes as Aggregate the proof of
``agreement-cluster-contraction`` goes through with the common point replaced by two
points εD apart: |m_p − m_q| <= (√3/2)(δ_p + δ_q) + εD and |m_p − m_q|² <= D² −
(δ_p² + δ_q²)/4, so

    κ(ε) = max_δ min(√3 δ + ε, √(1 − δ²/2)) = √3 δ* + ε,  δ* = (√(14 − 2ε²) − 2√3 ε)/7,

which is √(6/7) at ε = 0, increases with ε and stays below 1 for ε < 1.  With the
average as Aggregate, a point of weight >= 1/n on the common cluster gives κ(ε) = 1 −
(1 − ε)/n.  Skipping processes aggregate a majority of some round like everybody else.

**R rounds** multiply the diameter by κ(ε)^R, the squared diameter by κ(ε)^(2R), so

    R = ⌈ln q / (2 ln κ(ε))⌉ <= ln(1/q) / (2 (1 − κ(ε))) + 1 = O(log 1/q) for a fixed ε,

and the slides' trade-off: smaller ε costs K = 1 + ⌈ln ε / ln κ⌉ in-cluster rounds per
round and saves MDAA rounds (κ(ε) → √(6/7)).  For q = 10⁻³ (the closing note's number):
R >= 45 whatever ε, R = 80 at ε = 1/4 (K = 19).

=========================  ==============  ==========================================================
check                      kind            what
=========================  ==============  ==========================================================
``kappa-of-eps``           symbolic        κ(ε) solved with sympy equals the module's
                                           ``kappa_round``; κ(0) = √(6/7), κ(1) = 1, κ' > 0; the
                                           average's 1 − (1 − ε)/n
``rounds-from-q``          symbolic        R is the least integer with κ^(2R) <= q on a grid of q, K,
                                           n, both rules; R = O(log 1/q); the table for q = 10⁻³
``runs-contract``          property        MDAA runs with R from q, under random, PCT and crashing
                                           adversaries: every round contracts by <= κ(ε), the outputs
                                           by <= q; the worst factors found
``schedule-search``        property        Hypothesis over MDAA schedules, steered by ``target``
                                           toward the largest round factor: the worst factors found
``rounds-needed-1e-3``     monte-carlo     q = 10⁻³: the rounds the bound prescribes vs the rounds
                                           the runs needed (the first r with diam² <= q diam_in²)
=========================  ==============  ==========================================================

The checks take ``kappa_fn`` (ε, rule, n -> κ) and ``rounds_fn`` (q, K, rule, n -> R) as
parameters, so a test can hand them wrong formulas and see them fail.

>>> round(kappa_formula(0.25, "midextremes", 5), 6), rounds_for(1e-3, 19, "midextremes", 5)
(0.957392, 80)
"""

from __future__ import annotations

import math

import sympy as sp

from ....reference.agreement.cluster_agreement import KAPPA_CLUSTER, round_factors
from ....reference.agreement.mdaa import (cluster_precision, inner_rounds_for, kappa_round, mdaa_factors,
                                         rounds_for)
from ....reference.agreement.midextremes import diameter
from ...registry import Check, Claim, check_budget, register

SOURCE = ("000_3f5163bcd896752f.txt, slides \"Multi-Dimensional AA in the Cluster-Based Model\" (\"Tune to get "
          "q-contraction in O(log q) rounds\") and \"Back to Overall MDAA\" (\"Can pick ε to ensure q-contraction\")")

EPS = sp.Symbol("epsilon", nonnegative=True)
DELTA = sp.Symbol("delta", positive=True)


def kappa_formula(eps: float, rule: str, n: int) -> float:
    """The module's per-round contraction (the default ``kappa_fn`` of the checks)."""
    return kappa_round(rule, eps, n)


def derive_kappa_of_eps() -> sp.Expr:
    """δ* from √3 δ + ε = √(1 − δ²/2) (squared: 3δ² + 2√3εδ + ε² = 1 − δ²/2), and κ = √3 δ* + ε."""
    roots = sp.solve(sp.Eq((sp.sqrt(3) * DELTA + EPS) ** 2, 1 - DELTA ** 2 / 2), DELTA)
    # the positive root at ε = 0 is the one that continues the in-cluster maximiser
    (root,) = [r for r in roots if float(r.subs(EPS, 0)) > 0]
    return sp.simplify(sp.sqrt(3) * root + EPS)


def check_kappa(budget: str, kappa_fn=kappa_formula) -> tuple[bool, str]:
    check_budget(budget)
    kappa = derive_kappa_of_eps()
    closed = sp.sqrt(3) * (sp.sqrt(14 - 2 * EPS ** 2) - 2 * sp.sqrt(3) * EPS) / 7 + EPS
    bad = []
    if sp.simplify(kappa - closed) != 0:
        bad.append(f"the derived κ(ε) = {kappa} is not the closed form {closed}")
    if sp.simplify(kappa.subs(EPS, 0) - sp.sqrt(sp.Rational(6, 7))) != 0:
        bad.append(f"κ(0) = {kappa.subs(EPS, 0)}, not √(6/7)")
    if sp.simplify(kappa.subs(EPS, 1) - 1) != 0:
        bad.append(f"κ(1) = {kappa.subs(EPS, 1)}, not 1")
    grid = [i / 50 for i in range(50)]
    slope = sp.lambdify(EPS, sp.diff(kappa, EPS))
    if not all(slope(e) > 0 for e in grid):
        bad.append("κ(ε) is not increasing on [0, 1)")
    f = sp.lambdify(EPS, kappa)
    worst = 0.0
    for e in grid:
        for rule, n in (("midextremes", 5), ("average", 3), ("average", 7)):
            want = f(e) if rule == "midextremes" else 1 - (1 - e) / n
            got = kappa_fn(e, rule, n)
            worst = max(worst, abs(got - want))
            if not abs(got - want) <= 1e-12:
                bad.append(f"{rule}, n = {n}, ε = {e:g}: κ = {got!r}, derived {want!r}")
                break
        if bad:
            break
    if bad:
        return False, "; ".join(bad[:3])
    return True, (f"√3δ + ε = √(1 − δ²/2) solved: κ(ε) = √3(√(14 − 2ε²) − 2√3ε)/7 + ε, κ(0) = √(6/7) = "
                  f"{math.sqrt(6 / 7):.6f}, κ(1/4) = {f(0.25):.6f}, κ(1) = 1, increasing; average: 1 − (1 − ε)/n; the "
                  f"module's kappa_round agrees on 50 ε × 3 (rule, n) within {worst:.1e}")


def least_rounds(q: float, kappa: float) -> int:
    """The least R >= 1 with κ^(2R) <= q, by counting (the check's independent reference)."""
    R, v = 1, kappa * kappa
    while v > q:
        R, v = R + 1, v * kappa * kappa
    return R


def rounds_table(q: float = 1e-3, n: int = 5, eps_grid=(0.5, 0.25, 0.1, 0.05, 0.01)) -> list[tuple]:
    """(ε, K, κ(ε), R, R·K) for MidExtremes: the closing note's trade-off for q."""
    rows = []
    for eps in eps_grid:
        K = inner_rounds_for(eps)
        kappa = kappa_round("midextremes", cluster_precision(K), n)
        R = rounds_for(q, K, "midextremes", n)
        rows.append((eps, K, kappa, R, R * K))
    return rows


def check_rounds(budget: str, rounds_fn=rounds_for, kappa_fn=kappa_formula) -> tuple[bool, str]:
    check_budget(budget)
    bad, cases = [], 0
    for rule in ("midextremes", "average"):
        for n in (3, 5, 9):
            for K in (2, 3, 5, 10, 19, 40):
                for q in (0.9, 0.5, 0.1, 1e-2, 1e-3, 1e-6):
                    kappa = kappa_fn(cluster_precision(K), rule, n)
                    want = least_rounds(q, kappa)
                    got = rounds_fn(q, K, rule, n)
                    cases += 1
                    if got != want:
                        bad.append(f"{rule}, n = {n}, K = {K}, q = {q:g}: R = {got}, the least R with κ^(2R) <= q is "
                                   f"{want}")
                    elif got > math.log(1 / q) / (2 * (1 - kappa)) + 1:
                        bad.append(f"{rule}, n = {n}, K = {K}, q = {q:g}: R = {got} exceeds ln(1/q)/(2(1 − κ)) + 1")
    # O(log 1/q): squaring q at most doubles R (plus one)
    for K in (5, 19):
        for q in (0.1, 1e-3):
            if rounds_fn(q * q, K, "midextremes", 5) > 2 * rounds_fn(q, K, "midextremes", 5) + 1:
                bad.append(f"K = {K}: R(q²) > 2R(q) + 1 at q = {q:g}")
    limit = least_rounds(1e-3, math.sqrt(6 / 7))
    rows = rounds_table()
    table = "; ".join(f"ε = {e:g}: K = {K}, κ = {k:.4f}, R = {R} (R·K = {RK})" for e, K, k, R, RK in rows)
    if bad:
        return False, f"{len(bad)} of {cases} cases: " + "; ".join(bad[:3])
    return True, (f"R = ⌈ln q/(2 ln κ(ε))⌉ is the least R with κ^(2R) <= q in all {cases} cases (2 rules, n = 3, 5, 9, "
                  f"K = 2..40, q = 0.9..1e-6), below ln(1/q)/(2(1 − κ)) + 1, and R(q²) <= 2R(q) + 1; for q = 1e-3: "
                  f"R >= {limit} as ε → 0; {table}")


# --------------------------------------------------------------------------------------
# runs


def _runs(budget: str):
    """(adversary, params, model) of the runs the property and Monte Carlo checks make."""
    from ....reference.agreement.cluster_model import fault_model
    count = {"quick": 4, "ci": 12, "deep": 60}[budget]
    out = []
    for s in range(count):
        clusters = [[2, 2, 1], [3, 1, 1], [1, 1, 1, 1, 1], [2, 1, 2]][s % 4]
        adv = [f"random:seed={s}", f"pct:seed={s},d=4,horizon=600", f"random:seed={s},crash_prob=0.05"][s % 3]
        model = fault_model(clusters, crashable=[0, sum(clusters) - 1], f=2,
                            recovery=s % 2 == 1).to_json() if "crash" in adv else None
        out.append((adv, {"clusters": clusters, "d": 1 + s % 3}, model))
    return out


def _measure(res):
    """(worst in-cluster factor, worst MDAA factor, outputs' diameter² / inputs' diameter²)."""
    from ....reference.agreement.cluster_agreement import recorded_inputs
    outs = [o[-1] for o in res.trace.outputs.values() if o]
    din = diameter(recorded_inputs(res.trace))
    return (max(round_factors(res.trace), default=0.0), max(mdaa_factors(res.trace), default=0.0),
            (diameter(outs) / din) ** 2 if outs and din > 0 else 0.0)


def check_runs(budget: str, kappa_fn=kappa_formula, q: float = 0.5, K: int = 10) -> tuple[bool, str]:
    from ....reference.schedule import run_algorithm
    check_budget(budget)
    bad, worst = [], [0.0, 0.0, 0.0]
    for adv, setup, model in _runs(budget):
        n = sum(setup["clusters"])
        params = {"clusters": setup["clusters"], "q": q, "K": K}
        res = run_algorithm("mdaa", problem={"name": "quadratic", "params": {"d": setup["d"]}}, params=params,
                            seed=7, adversary=adv, model=model)
        inner, outer, overall = _measure(res)
        kappa = kappa_fn(cluster_precision(K), "midextremes", n)
        worst = [max(a, b) for a, b in zip(worst, (inner, outer, overall))]
        if res.trace.stopped != "quiescent" or not res.trace.outputs:
            bad.append(f"{adv}: the run did not finish ({res.trace.stopped})")
        if inner > KAPPA_CLUSTER + 1e-9 or outer > kappa + 1e-9 or overall > q + 1e-12:
            bad.append(f"{adv}, clusters {setup['clusters']}: factors in-cluster {inner:.4f} (κ {KAPPA_CLUSTER:.4f}), "
                       f"per round {outer:.4f} (κ(ε) {kappa:.4f}), overall {overall:.3g} (q {q:g})")
    R = rounds_for(q, K, "midextremes", 5)
    head = (f"{len(_runs(budget))} MDAA runs (q = {q:g}, K = {K}: ε = {cluster_precision(K):.3f}, R = {R}; random, "
            f"PCT, crash-stop and crash-recovery adversaries)")
    if bad:
        return False, head + ": " + "; ".join(bad[:3])
    return True, (f"{head}: worst in-cluster round factor {worst[0]:.4f} <= √(6/7) = {KAPPA_CLUSTER:.4f}, worst "
                  f"MDAA round factor {worst[1]:.4f} <= κ(ε), worst overall diam²_out/diam²_in {worst[2]:.3g} <= q")


def check_schedule_search(budget: str, kappa_fn=kappa_formula, examples: int | None = None) -> tuple[bool, str]:
    """The adversary's search over MDAA schedules (two rounds of two in-cluster rounds, every choice
    drawn by Hypothesis, steered toward the largest MDAA round factor): no factor above κ(ε)."""
    from .agreement_contraction import EXAMPLES, schedule_search
    check_budget(budget)
    K = 2
    w = schedule_search(budget, examples, algorithm="mdaa")
    kappa = min(kappa_fn(cluster_precision(K), "midextremes", n) for n in (2, 3, 4, 5, 6))
    detail = (f"{EXAMPLES[budget] if examples is None else examples} MDAA runs (2 or 3 clusters of 1-2, R = 2, K = 2) "
              f"searched by Hypothesis (targeting the round factor): worst MDAA round factor diam(Y_(r+1))/diam(Y_r) = "
              f"{w['round']:.6f}, worst in-cluster round factor {w['in_cluster']:.6f}, worst overall rate "
              f"(diam out/diam in)^(1/R) = {w['overall']:.6f}; κ(ε) = {kappa:.6f} at K = {K}")
    ok = w["round"] <= kappa + 1e-9 and w["in_cluster"] <= KAPPA_CLUSTER + 1e-9
    return ok, detail + (": within the bounds" if ok else ": ABOVE a bound")


def rounds_needed(res, q: float) -> int | None:
    """The first MDAA round r after which the y's satisfy diam(Y_(r+1))² <= q diam(inputs)²."""
    from ....reference.agreement.mdaa import mdaa_values
    Y = mdaa_values(res.trace)
    d0 = diameter(Y[1])
    for r in sorted(Y)[1:]:
        if diameter(Y[r]) ** 2 <= q * d0 * d0:
            return r - 1
    return None


def check_rounds_needed(budget: str, rounds_fn=rounds_for, q: float = 1e-3, eps: float = 0.25) -> tuple[bool, str]:
    """q = 10⁻³ at ε = 1/4: the rounds the bound prescribes, and the rounds the runs needed."""
    from ....reference.schedule import run_algorithm
    check_budget(budget)
    K = inner_rounds_for(eps)
    R = rounds_fn(q, K, "midextremes", 5)
    needed, bad = [], []
    runs = _runs(budget)[: {"quick": 2, "ci": 6, "deep": 30}[budget]]
    for adv, setup, model in runs:
        params = {"clusters": setup["clusters"], "q": q, "eps": eps}
        res = run_algorithm("mdaa", problem={"name": "quadratic", "params": {"d": setup["d"]}}, params=params,
                            seed=11, adversary=adv, model=model)
        k = rounds_needed(res, q)
        needed.append(k)
        if k is None or k > R:
            bad.append(f"{adv}: not q-contracted after R = {R} rounds")
    kappa = kappa_round("midextremes", cluster_precision(K), 5)
    if R != least_rounds(q, kappa):
        bad.append(f"the bound's R = {R} is not the least R with κ(ε)^(2R) <= q ({least_rounds(q, kappa)})")
    head = (f"q = {q:g}, ε = {eps:g}: K = {K} in-cluster rounds, κ(ε) = {kappa:.4f}, the bound prescribes R = {R} "
            f"rounds ({R * K} in-cluster rounds); {len(runs)} runs (random, PCT) needed {needed} rounds")
    if bad:
        return False, head + ": " + "; ".join(bad)
    return True, head + " (the first r with diam(Y_(r+1))² <= q diam²_in): the bound holds with room"


CLAIM = register(Claim(
    id="agreement-q-rounds",
    source=SOURCE,
    statement=("With clusters ε-agreed after K = 1 + ⌈ln ε/ln √(6/7)⌉ in-cluster rounds, one MDAA round with "
               "MidExtremes contracts the y's by κ(ε) = √3(√(14 − 2ε²) − 2√3ε)/7 + ε < 1 (two majorities share a "
               "cluster), with the average by 1 − (1 − ε)/n; R = ⌈ln q/(2 ln κ(ε))⌉ = O(log 1/q) rounds give "
               "max||y_i − y_j||² <= q max||x_i − x_j||²: q = κ(ε)^(2R). For q = 1e-3: R >= 45, R = 80 at ε = 1/4."),
    checks=[
        Check("kappa-of-eps", "symbolic", check_kappa),
        Check("rounds-from-q", "symbolic", check_rounds),
        Check("runs-contract", "property", check_runs),
        Check("schedule-search", "property", check_schedule_search),
        Check("rounds-needed-1e-3", "monte-carlo", check_rounds_needed),
    ],
))
