"""Aggregate rules that output convex combinations keep every value in the convex hull of the inputs.

Seed 000 (``000_3f5163bcd896752f.txt``), slide "Multi-Dimensional Approximate Agreement": the
outputs must be "in the **convex hull** of the inputs"; slides "Multi-Dimensional AA in the
Cluster-Based Model" ("y_{r+1} = Aggregate(received values)") and "MDAA within a Cluster"
(MidExtremes).

**Lemma.**  If every value v_j a rule is given is a convex combination Σ_i w_ji x_i of the
inputs, and the rule outputs Σ_j λ_j v_j with λ_j >= 0, Σ_j λ_j = 1, then the output is
Σ_i (Σ_j λ_j w_ji) x_i with weights >= 0 summing to Σ_j λ_j Σ_i w_ji = 1.  The inputs
are combinations of themselves (w = e_i), every step of MidExtremes, the average and any
rule of that form keeps the form, and every output is one: validity, by induction on
the steps, whatever the schedule, the crashes and the skips (a skip only adopts values
computed the same way).  :mod:`~asyncproof.reference.agreement.provenance` carries the
weights exactly, so each output is certified without an LP; the property suite also
certifies it with one.

The hypothesis is needed: the rule "weigh each message by the size of its cluster, divide
by n" (a plausible reading of "a message represents its cluster") is not convex when a
cluster is heard twice or not at all, and its outputs leave the hull.

=========================  ==============  ==========================================================
check                      kind            what
=========================  ==============  ==========================================================
``composition``            symbolic        the lemma with sympy: k operands over n inputs, the
                                           composed weights and their sum
``rules-are-convex``       property        MidExtremes, the average and a user rule (``softmax``
                                           below) return convex weights on Hypothesis-drawn values
                                           (repeated, collinear, any d); their outputs are certified
                                           by the weights and by the LP
``runs-stay-in-hull``      property        MDAA and cluster-agreement runs (random adversaries, crash-
                                           recovery): every output certified by provenance and LP
``non-convex-rule``        counterexample  MDAA with the cluster-size-over-n rule: an output outside
                                           the hull (LP distance > 0); as a user rule it is refused
=========================  ==============  ==========================================================

The property checks take the rule under test as ``rule`` (default: MidExtremes), so a
test can hand them a non-convex rule and see them fail.

>>> [round(w, 6) for w in softmax(np.array([[0.0], [1.0]]))]      # e^0 : e^1
[0.268941, 0.731059]
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import sympy as sp

from ....reference.agreement.cluster_agreement import DECIDE
from ....reference.agreement.cluster_model import Clusters
from ....reference.agreement.midextremes import RULES, apply_rule
from ....reference.agreement.provenance import Point, certify, combine, hull_distance, input_point
from ....reference.errors import InputError
from ...registry import Check, Claim, check_budget, hypothesis_settings, register

SOURCE = ("000_3f5163bcd896752f.txt, slides \"Multi-Dimensional Approximate Agreement\" (\"In the convex hull of the "
          "inputs\"), \"Multi-Dimensional AA in the Cluster-Based Model\" (\"Aggregate(received values)\")")
LP_TOL = 1e-7


def softmax(X) -> tuple[float, ...]:
    """A user Aggregate rule (``rule=asyncproof.proofs.claims.agreement.agreement_validity:softmax``): weights
    proportional to e^(first coordinate), float weights summing to 1: convex, so valid."""
    z = np.asarray(X, dtype=np.float64)[:, 0]
    e = np.exp(z - z.max())
    return tuple(float(v) for v in e / e.sum())


def cluster_size_over_n(steps):
    """MDAA's ``steps`` with the non-convex rule: a message weighs |its cluster| / n (weights sum
    to 1 only if every cluster is heard exactly once): its received values come with those
    weights (``received_values``), which Aggregate applies (``aggregate``)."""
    def weighed(clusters: Clusters, by_sender):
        return [(by_sender[s], Fraction(len(clusters.members[clusters.cluster_of(s)]), clusters.n))
                for s in sorted(by_sender)]
    return steps.replace(received_values=weighed,
                         aggregate=lambda rule, values: combine([p for p, _ in values], [w for _, w in values]))


def check_composition(budget: str, k: int = 3, n: int = 4) -> tuple[bool, str]:
    check_budget(budget)
    lam = sp.symbols(f"lambda1:{k + 1}", nonnegative=True)
    W = sp.Matrix(k, n, lambda j, i: sp.Symbol(f"w_{j}{i}", nonnegative=True))
    composed = [sum(lam[j] * W[j, i] for j in range(k)) for i in range(n)]
    total = sp.expand(sum(composed))
    # substitute the operands' normalisation Σ_i w_ji = 1 (w_j,n-1 = 1 − the others), then Σ λ = 1
    sub = {W[j, n - 1]: 1 - sum(W[j, i] for i in range(n - 1)) for j in range(k)}
    sub_total = sp.expand(total.subs(sub))
    ok_sum = sp.simplify(sub_total.subs(lam[-1], 1 - sum(lam[:-1])) - 1) == 0
    ok_nonneg = all(c.is_nonnegative for c in composed)
    if not (ok_sum and ok_nonneg):
        return False, (f"k = {k} operands over n = {n} inputs: Σ_i Σ_j λ_j w_ji = {sub_total} "
                       f"({'1' if ok_sum else 'not 1'}), weights nonnegative: {ok_nonneg}")
    return True, (f"k = {k} operands over n = {n} inputs (symbolic): the output's weights Σ_j λ_j w_ji are sums of "
                  f"products of nonnegative symbols, and Σ_i Σ_j λ_j w_ji = Σ_j λ_j Σ_i w_ji = Σ_j λ_j = 1 "
                  f"(sympy, after Σ_i w_ji = 1 and Σ_j λ_j = 1)")


EXAMPLES = {"quick": 80, "ci": 300, "deep": 3000}


def check_rules(budget: str, rule=None, examples: int | None = None) -> tuple[bool, str]:
    """On Hypothesis-drawn inputs and operands (convex combinations of them), the rule's output
    is certified by its weights and by the LP."""
    from hypothesis import given, strategies as st
    check_budget(budget)
    rules = {"midextremes": RULES["midextremes"], "average": RULES["average"], "softmax (user)": softmax} \
        if rule is None else {getattr(rule, "__name__", "rule"): rule}
    failures: list[str] = []
    count = [0]

    @hypothesis_settings(budget, EXAMPLES[budget] if examples is None else examples)
    @given(st.data())
    def search(data):
        d = data.draw(st.integers(1, 3))
        n = data.draw(st.integers(1, 5))
        grid = st.integers(-3, 3).map(float)
        X = np.array(data.draw(st.lists(st.lists(grid, min_size=d, max_size=d), min_size=n, max_size=n)))
        pts = [input_point(x, i, n) for i, x in enumerate(X)]
        k = data.draw(st.integers(1, 5))
        ops = []
        for _ in range(k):          # operands: convex combinations of the inputs (e.g. earlier rounds)
            idx = data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=3))
            ops.append(combine([pts[i] for i in idx], [Fraction(1, len(idx))] * len(idx)))
        for name, r in rules.items():
            count[0] += 1
            try:
                out = apply_rule(r, ops, f"rule {name!r}")
            except InputError as e:
                failures.append(f"{name}: {e}")
                continue
            why = certify(out, X)
            dist = hull_distance(X, out.x)
            if why or dist > LP_TOL * (1 + float(np.max(np.abs(X)))):
                failures.append(f"{name} on {[p.x.tolist() for p in ops]}: {why or f'LP distance {dist:.3g}'}")

    search()
    if failures:
        return False, f"{len(failures)} of {count[0]} outputs not valid; e.g. {failures[0]}"
    return True, (f"{count[0]} outputs of {', '.join(rules)} on Hypothesis-drawn operands (convex combinations of 1-5 "
                  f"grid inputs, d <= 3, repeats and collinear sets included): every weight vector convex, every "
                  f"output certified by its exact weights and by the HiGHS LP")


def _run_outputs(res, inputs) -> list[str]:
    bad = []
    decided = {pid: v for (_, pid, _, v) in res.trace.stepwise(DECIDE)}
    for pid, p in decided.items():
        why = certify(p, inputs)
        dist = hull_distance(inputs, p.x)
        if why or dist > LP_TOL * (1 + float(np.max(np.abs(inputs)))):
            bad.append(f"p{pid}: {why or f'LP distance {dist:.3g}'}")
    return bad


def check_runs(budget: str, rule="midextremes") -> tuple[bool, str]:
    from ....reference.agreement.cluster_model import agreement_inputs, fault_model
    from ....reference.schedule import run_algorithm
    check_budget(budget)
    count = {"quick": 6, "ci": 20, "deep": 100}[budget]
    bad, outs = [], 0
    for s in range(count):
        alg = ("mdaa", "cluster-agreement")[s % 2]
        clusters = [[2, 2, 1], [3, 2], [1, 1, 1]][s % 3]
        params = {"clusters": clusters, "T": 3}
        if alg == "mdaa":
            params.update(K=3, rule=rule)
        model = fault_model(clusters, crashable=[0], f=2, recovery=True).to_json()
        res = run_algorithm(alg, problem={"name": "quadratic", "params": {"d": 2 + s % 2}}, params=params, seed=s,
                            adversary=f"random:seed={s},crash_prob=0.05", model=model)
        X = agreement_inputs(res.problem, res.params, s)
        bad += [f"{alg} seed {s}: {b}" for b in _run_outputs(res, X)]
        outs += len(res.trace.outputs)
    if bad:
        return False, f"{len(bad)} outputs outside the hull; e.g. {bad[0]}"
    return True, (f"{count} runs (mdaa with rule {rule!r}, cluster-agreement; random adversary, crash-recovery of p0): "
                  f"all {outs} outputs certified by provenance and by the LP")


def check_non_convex(budget: str) -> tuple[bool, str]:
    from ....reference.agreement import mdaa
    from ....reference.adversaries import RoundRobin
    from ....reference.engine import run
    from ....reference.problems import make_problem
    check_budget(budget)
    clusters = [2, 1]
    params = {"clusters": clusters, "inputs": [[1.0, 1.0], [2.0, 1.0], [1.0, 2.0]], "T": 1, "K": 2, "q": 0.1,
              "eps": 0.25, "rule": "midextremes", "provenance": True}
    problem = make_problem("quadratic")
    system = mdaa.build(problem, params, 0, cluster_size_over_n(mdaa.ALGORITHM.steps))
    trace = run(system, RoundRobin())
    X = np.array(params["inputs"])
    decided = {pid: v for (_, pid, _, v) in trace.stepwise(DECIDE)}
    dists = {p: hull_distance(X, y.x) for p, y in decided.items()}
    bad = {p: d for p, d in dists.items() if d > LP_TOL}
    refused = ""
    try:
        apply_rule(lambda Z: (Fraction(3, 2), Fraction(-1, 2)), [Point([0.0]), Point([1.0])], "user rule")
    except InputError as e:
        refused = str(e)
    if not bad or not refused:
        return False, (f"the cluster-size-over-n rule stayed in the hull ({dists})" if not bad else
                       "a non-convex user rule was accepted")
    p, d = max(bad.items(), key=lambda kv: kv[1])
    return True, (f"MDAA with the rule 'weigh a message by |cluster|/n' on clusters {clusters}, inputs {params['inputs']}, "
                  f"round-robin: p{p} outputs {np.round(decided[p].x, 6).tolist()}, LP distance {d:.3g} from the hull, "
                  f"its weights summing to {sum(decided[p].w)} (cluster 0 heard twice); as a user rule, non-convex "
                  f"weights are refused: {refused}")


CLAIM = register(Claim(
    id="agreement-convex-aggregate",
    source=SOURCE,
    statement=("If every Aggregate rule (MidExtremes, the average, a user's) outputs Σ_j λ_j v_j with λ >= 0, Σ λ = 1, "
               "every value of the cluster agreement and of MDAA is a convex combination of the inputs (the weights "
               "compose), so every output lies in their convex hull, under any schedule, crashes and skips; a "
               "non-convex rule (|cluster|/n per message) leaves the hull."),
    checks=[
        Check("composition", "symbolic", check_composition),
        Check("rules-are-convex", "property", check_rules),
        Check("runs-stay-in-hull", "property", check_runs),
        Check("non-convex-rule", "counterexample", check_non_convex),
    ],
))
