"""Pr(two samples conflict) = Δ_av / n, on the conflict graphs of generated sparse problems.

Seed 002 (``002_34168ee93540180b.txt``), slide "Asynchrony Noise": "Samples might be
concurrently processed, but they only 'interfere' if they are talking to the same
variables", then ``Pr(two samples conflict) = Δ_av / n``.  Mania et al. 2017, Section 3,
define the conflict graph (one node per sample, an edge when two supports share a
variable) and its average degree Δ̄_C.

Readings (those of :mod:`asyncproof.reference.shared_memory.conflict`, which computes
the statistics with networkx):

* n is the number of samples (slide "Matrix Completion": "|E| = n"), ``m`` here;
* Δ_av = 2|edges| / n, the average degree;
* the two samples are SGD's: s_i and s_k independent and uniform on the n samples.
  "Conflict" as an edge of the graph (two *different* samples sharing a variable) then
  has probability Σ_a deg(a) / n² = Δ_av / n **exactly** — the slide's formula.  The
  event the noise bound needs is that the supports intersect, which also happens when
  the same sample is drawn twice: (Δ_av + 1) / n.  Over distinct pairs the frequency is
  Δ_av / (n − 1).  All three are the slide's Δ_av / n up to a factor 1 + O(1/n).

=======================  ===========  ==============================================================
check                    kind         what
=======================  ===========  ==============================================================
``handshake``            symbolic     Σ deg = 2|edges| makes the three probabilities Δ_av/n,
                                      (Δ_av + 1)/n and Δ_av/(n − 1) (sympy); on every instance the
                                      exact frequencies over all n² ordered pairs (an incidence
                                      matrix product, not the graph) equal them as fractions, and
                                      the conflict module's statistics agree
``measured-frequency``   monte-carlo  keyed draws of pairs (s_i, s_k) on each instance: frequency of
                                      an edge vs the formula, of intersecting supports vs
                                      (Δ_av + 1)/n, |z| < 4.5
=======================  ===========  ==============================================================

Each check takes the formula as a parameter ``formula(avg_degree, n)`` (default
:func:`slide_formula`), so a test can hand it a wrong one and see it fail.

>>> slide_formula(4.0, 200)
0.02
>>> [round(s.avg_degree, 3) for s in (instance_stats(spec) for _, spec in INSTANCES[:2])]
[1.96, 45.58]
"""

from __future__ import annotations

import functools
import math
from fractions import Fraction

import numpy as np
import sympy as sp

from ....reference.problems import make_problem
from ....reference.rng import STREAM_SAMPLER, generator
from ....reference.shared_memory.conflict import conflict_stats, supports_of
from ...registry import Check, Claim, check_budget, register

#: generated sparse instances (label, problem spec): every kind of seed 002, sparse and denser
INSTANCES = [
    ("sparse SVM, m = 200, d = 400, 2 per row", {"name": "sparse-svm", "params": {"m": 200, "d": 400, "nnz": 2}}),
    ("sparse SVM, m = 200, d = 100, 5 per row", {"name": "sparse-svm", "params": {"m": 200, "d": 100, "nnz": 5}}),
    ("matrix completion, 30 x 30, |E| = 200", {"name": "matrix-completion",
                                               "params": {"n_rows": 30, "n_cols": 30, "rank": 2, "m": 200}}),
    ("graph cuts, 120 nodes, |E| = 200", {"name": "graph-cuts", "params": {"nodes": 120, "m": 200, "labels": 3}}),
]

#: pairs drawn per instance, by budget
PAIRS = {"quick": 20_000, "ci": 200_000, "deep": 2_000_000}

#: a z-score this large has probability < 1e-5 under the formula: wide enough never to flake
Z_BOUND = 4.5


def slide_formula(avg_degree, n):
    """The slide's Pr(two samples conflict) = Δ_av / n."""
    return avg_degree / n


@functools.lru_cache(maxsize=8)
def _instance(name: str, items: tuple) -> tuple:
    problem = make_problem(name, **dict(items))
    supports = supports_of(problem)
    incidence = np.zeros((problem.m, problem.d), dtype=np.int64)
    for j, s in enumerate(supports):
        incidence[j, s] = 1
    meets = (incidence @ incidence.T) > 0          # meets[i, k]: supports i and k share a variable
    meets.setflags(write=False)
    return conflict_stats(supports), meets


def instance_stats(spec: dict):
    """The conflict statistics of the problem ``spec`` (cached)."""
    return _instance(spec["name"], tuple(sorted(spec["params"].items())))[0]


def _meets(spec: dict) -> np.ndarray:
    return _instance(spec["name"], tuple(sorted(spec["params"].items())))[1]


def check_handshake(budget: str, formula=slide_formula) -> tuple[bool, str]:
    """The algebra (sympy) and the exact frequencies over all ordered pairs of every instance."""
    check_budget(budget)
    n, e = sp.symbols("n edges", positive=True)
    delta = 2 * e / n                                    # Δ_av, by the handshake lemma Σ deg = 2|edges|
    adjacent = 2 * e / n ** 2                            # Σ_a deg(a) / n² over ordered pairs (i, k)
    bad = []
    if sp.simplify(adjacent - formula(delta, n)) != 0:
        bad.append(f"Σ deg / n² = {sp.simplify(adjacent)} but the formula gives {sp.simplify(formula(delta, n))}")
    meet = (2 * e + n) / n ** 2                          # plus the n pairs (a, a)
    distinct = e / sp.binomial(n, 2)
    algebra = [sp.simplify(meet - (delta + 1) / n), sp.simplify(sp.expand_func(distinct) - delta / (n - 1))]
    if any(a != 0 for a in algebra):
        bad.append(f"(Δ_av + 1)/n or Δ_av/(n − 1) do not follow: residues {algebra}")
    ratio = sp.limit(sp.expand_func(distinct) / formula(delta, n), n, sp.oo)
    rows = []
    for label, spec in INSTANCES:
        stats, meets = instance_stats(spec), _meets(spec)
        m = stats.m
        pairs = m * m
        inter = int(meets.sum())
        adj = inter - m                                  # the diagonal is the same sample twice
        exact_adj = Fraction(adj, pairs)
        want = Fraction(formula(Fraction(2 * stats.edges, m), m))
        if exact_adj != want:
            bad.append(f"{label}: {adj} of {pairs} ordered pairs are adjacent = {float(exact_adj):.6g}, the formula "
                       f"says {float(want):.6g}")
        if adj != 2 * stats.edges or inter != 2 * stats.edges + m:
            bad.append(f"{label}: the incidence matrix counts {adj} adjacent ordered pairs, networkx 2 x "
                       f"{stats.edges} edges")
        for name, value, exact in (("conflict_probability", stats.conflict_probability, Fraction(adj, pairs)),
                                   ("collision_probability", stats.collision_probability, Fraction(inter, pairs)),
                                   ("pair_conflict_probability", stats.pair_conflict_probability,
                                    Fraction(adj, m * (m - 1)))):
            if not math.isclose(value, float(exact), rel_tol=1e-12):
                bad.append(f"{label}: conflict_stats.{name} = {value!r}, the exact frequency is {float(exact)!r}")
        rows.append(f"{label}: Δ_av = {stats.avg_degree:.4g}, Δ_max = {stats.max_degree}, Pr(edge) = {adj}/{pairs} = "
                    f"{float(exact_adj):.5f} = Δ_av/n, Pr(supports meet) = {float(Fraction(inter, pairs)):.5f}")
    head = ("Σ_a deg(a) = 2|edges| gives Pr(edge) = Δ_av/n, Pr(supports meet) = (Δ_av + 1)/n, Pr(edge | distinct) = "
            f"Δ_av/(n − 1) = (n/(n − 1)) Δ_av/n, ratio → {ratio}")
    if bad:
        return False, head + "; " + "; ".join(bad)
    return True, head + "; exact over all ordered pairs: " + "; ".join(rows)


def check_measured(budget: str, formula=slide_formula, pairs: int | None = None) -> tuple[bool, str]:
    """Pairs (s_i, s_k) drawn from keyed generators: the frequencies vs the formulas, |z| < :data:`Z_BOUND`."""
    check_budget(budget)
    count = PAIRS[budget] if pairs is None else pairs
    ok, rows = True, []
    for q, (label, spec) in enumerate(INSTANCES):
        stats, meets = instance_stats(spec), _meets(spec)
        m = stats.m
        ik = generator(q, STREAM_SAMPLER, 0).integers(0, m, size=(count, 2))
        hit = meets[ik[:, 0], ik[:, 1]]
        edge = hit & (ik[:, 0] != ik[:, 1])
        parts = []
        for what, freq, p in (("edge", edge.mean(), float(formula(stats.avg_degree, m))),
                              ("supports meet", hit.mean(), (stats.avg_degree + 1) / m)):
            se = math.sqrt(p * (1 - p) / count) if 0 < p < 1 else math.inf
            z = (freq - p) / se if se > 0 else math.inf
            ok &= bool(abs(z) < Z_BOUND)
            parts.append(f"{what} {freq:.5f} vs {p:.5f} (z = {z:+.2f})")
        rows.append(f"{label}: " + ", ".join(parts))
    return ok, (f"{count} keyed draws of (s_i, s_k) per instance, frequency vs Δ_av/n (an edge) and (Δ_av + 1)/n "
                f"(supports meet), pass if |z| < {Z_BOUND}: " + "; ".join(rows))


CLAIM = register(Claim(
    id="hogwild-conflict-probability",
    source="002_34168ee93540180b.txt, slide \"Asynchrony Noise\" (\"Pr( two samples conflict ) = Δ_av / n\")",
    statement=("For SGD's samples s_i, s_k (independent, uniform on the n samples) and the conflict graph of the "
               "supports (an edge when two different samples share a variable, average degree Δ_av), "
               "Pr(s_i, s_k adjacent) = Δ_av / n exactly; the supports meet (the same sample counts) with "
               "probability (Δ_av + 1)/n, and two distinct samples are adjacent with probability Δ_av/(n − 1)."),
    checks=[
        Check("handshake", "symbolic", check_handshake),
        Check("measured-frequency", "monte-carlo", check_measured),
    ],
))
