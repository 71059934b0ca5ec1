"""The asynchrony noise of HOGWILD! is at most γ²·2τ·M²·Pr(conflict), and below γ²M² when τ <= n/(2Δ_av).

Seed 002 (``002_34168ee93540180b.txt``), slides "Asynchrony Noise": the term to bound is
``γ E⟨x_k − x̂_k, ∇f_{s_k}(x̂_k)⟩ = γ² E⟨Σ_{i=k−τ, i≠k}^{k+τ} S_i^k ∇f_{s_i}(x̂_i), ∇f_{s_k}(x̂_k)⟩``;
"Cauchy-Schwarz", ``a·b <= (a² + b²)/2``, ``||∇f_s(x)||² <= M²``; "Asynchrony causes error if
sampled grads overlap"; hence ``<= γ² E{Σ M² 1{s_i ∩ s_k ≠ ∅}} <= γ²·2τ·M²·E{1{s_i ∩ s_k ≠ ∅}}``,
``Pr(two samples conflict) = Δ_av/n``, and "The noise term is below γ²M² when τ <= n/(2Δ_av)".
Paper: Mania et al. 2017, Section 3 (Theorem 3.4's proof).

Readings:

* the slide writes ``γE⟨x_k − x̂_k, ∇f⟩ = γ²E⟨Σ S ∇f, ∇f⟩``, while its identity
  ``x̂_k − x_k = Σ γ S ∇f`` gives the opposite sign; the bound is on the absolute value,
  so the sign does not matter: the measured noise is ``|γ⟨x̂_k − x_k, ∇f_{s_k}(x̂_k)⟩|``;
* the slide prints the indicator as ``1_{s_i ∩ s_k = 0}`` and later ``≠ ∅``: it is the event
  that the supports meet, whose probability for SGD's independent draws is (Δ_av + 1)/n
  (the same sample drawn twice meets itself; claim ``hogwild-conflict-probability``).  The
  slide's Δ_av/n leaves that 1/n out; both are checked symbolically, and the runs are
  measured against (Δ_av + 1)/n, the probability of the event the proof uses;
* M² bounds ``||∇f_s(x)||²`` everywhere, from the problem's data (:func:`gradient_bound`),
  never from the run being checked: for the sparse SVM with λ = 0 the hinge's subgradient
  is −y_j z_j or 0, so M² = max_j ||z_j||²; for graph cuts the subgradient has entries
  ±w_uv or 0 on 2K coordinates, so M² = G² = 2K max w² (a projected step is no longer than
  γ times the subgradient).  Matrix completion has no such bound (its gradients grow with
  the factors), so it is not run here;
* τ is the run's overlap bound (``tau`` of the algorithm); the window k − τ .. k + τ has 2τ
  samples besides k.  The interleaving of a run under the adversaries used here does not
  depend on which samples are drawn (every support of an instance has the same size, so
  the enabled sets do not either): the draws are independent of the schedule, as the
  analysis assumes;
* **where the bound binds.**  Cauchy-Schwarz is an equality when the interfering gradients
  are parallel and of norm M, and the count is largest when every overlapping sample's
  update is missed: the first instance has one-hot rows z_j = e_v (d = 8 coordinates, 4
  samples each, so Pr(meet) = 1/8 and τ = n/(2(Δ_av + 1)) = 4 exactly: the bound *is*
  γ²M²), labels +1 and λ = 0, so every gradient is −e_v, of norm M = 1, until a margin
  reaches 1 (the runs stay below); the round-robin adversary runs the τ + 1 = 5 cores in
  lockstep, all reading before any writes, so the i-th sample of a group misses the
  updates of the i samples before it.  Per sample the bound γ² c_k M² is then reached
  exactly (measured/bound = 1 for the last of a group whose samples all meet); the mean
  is γ²·(τ/2)·M²·Pr(meet) against γ²·2τ·M²·Pr(meet): measured/bound = 1/4, the slack of
  the window (2τ samples, of which at most τ overlap) and of the average position in a
  group.  The generated instances, under the seeded random adversary, are one to two
  orders of magnitude below their bounds (random signs, fewer missed updates).

=======================  ===========  ==============================================================
check                    kind         what
=======================  ===========  ==============================================================
``bound-algebra``        symbolic     a·b <= (a² + b²)/2 and Cauchy-Schwarz (Lagrange's identity),
                                      |⟨S u, w⟩| <= M² for S diagonal in {−1, 0, 1}; the window has
                                      2τ terms; γ²·2τ·M²·Δ_av/n <= γ²M² ⟺ τ <= n/(2Δ_av) (sympy
                                      solves it), and with (Δ_av + 1)/n ⟺ τ <= n/(2(Δ_av + 1))
``per-sample``           property     on HOGWILD! runs, every sample's noise is at most γ² c_k M²,
                                      c_k = the samples overlapping k in time whose supports meet
                                      k's (c_k <= τ): the step from the sum to the indicators; the
                                      largest measured/bound is reported (1 on the first instance)
``measured-noise``       monte-carlo  the mean noise over the samples of the runs is at most the
                                      bound γ²·2τ·M²·(Δ_av + 1)/n, which is at most γ²M² at the τ
                                      chosen (measured/bound reported: 1/4 on the first instance);
                                      and overlapping pairs meet with frequency (Δ_av + 1)/n
                                      (|z| < 4.5): the samples do not depend on the interleaving
=======================  ===========  ==============================================================

Each check takes what it tests as parameters: ``bound(gamma, tau, M2, p)`` (default
:func:`slide_bound`), ``threshold(n, avg_degree)`` (default :func:`slide_threshold`) and
``term(gamma, c, M2)`` (default :func:`per_sample_term`); the run checks also take
``algorithm`` (default ``hogwild-atomic``) and ``tau`` (default: the condition's), so a test
can hand them a degraded HOGWILD! (stale reads, lost updates, an overlap beyond the
condition or beyond τ) and see them fail.

>>> round(slide_bound(0.1, 3, 2.0, 0.05), 12)          # γ² · 2τ · M² · p
0.006
>>> slide_threshold(200, 4.0)
25.0
"""

from __future__ import annotations

import functools
import math

import numpy as np
import sympy as sp

from ....reference.errors import InputError
from ....reference.problems import make_problem
from ....reference.schedule import run_algorithm
from ....reference.shared_memory.conflict import conflict_stats, supports_of
from ....reference.shared_memory.hogwild import PERTURBED, noise_terms, overlaps, samples
from ...registry import Check, Claim, check_budget, register
from .hogwild_conflict_probability import Z_BOUND


def _one_hot(d: int, per: int) -> dict:
    """Sparse SVM with rows z_j = e_v, each of the d coordinates in ``per`` rows, labels +1, λ = 0."""
    n = d * per
    return {"name": "sparse-svm", "params": {"indptr": list(range(n + 1)), "indices": [v for v in range(d)
                                                                                       for _ in range(per)],
                                             "data": [1.0] * n, "y": [1.0] * n, "d": d, "lam": 0.0}}


#: the runs: (label, problem spec, γ, adversary); τ is the largest integer <= n/(2(Δ_av + 1)), capped at 4,
#: cores τ + 1; the first instance is where the bound binds (module docstring)
RUN_INSTANCES = [
    ("one-hot SVM, d = 8, 4 rows per coordinate, labels +1, λ = 0, lockstep", _one_hot(8, 4), 0.01, "roundrobin"),
    ("sparse SVM, m = 200, d = 400, 2 per row, λ = 0", {"name": "sparse-svm",
                                                        "params": {"m": 200, "d": 400, "nnz": 2, "lam": 0.0}},
     0.2, "random"),
    ("sparse SVM, m = 200, d = 100, 5 per row, λ = 0", {"name": "sparse-svm",
                                                        "params": {"m": 200, "d": 100, "nnz": 5, "lam": 0.0}},
     0.1, "random"),
    ("graph cuts, 120 nodes, |E| = 200", {"name": "graph-cuts", "params": {"nodes": 120, "m": 200, "labels": 3}},
     0.05, "random"),
]

#: (seeds per instance, samples T per run), by budget
RUNS = {"quick": (1, 200), "ci": (4, 300), "deep": (20, 400)}
TAU_CAP = 4
U = 2.0 ** -53


def gradient_bound(problem) -> float:
    """M² >= ||∇f_j(x)||² for every j and x, from the problem's data alone."""
    if problem.name == "graph-cuts":
        return float(problem.G) ** 2                     # entries ±w_uv or 0 on 2K coordinates
    if problem.name == "sparse-svm" and problem.lam == 0:
        indptr, _, data, _, _ = problem.arrays          # the hinge's subgradient is −y_j z_j or 0
        return float(max(np.sum(data[indptr[j]:indptr[j + 1]] ** 2) for j in range(problem.m)))
    raise InputError(f"no bound on the gradients of {problem.name} from its data alone")


@functools.lru_cache(maxsize=8)
def _instance(label: str):
    """(problem, its conflict statistics, M² from its data) of a run instance."""
    spec = next(r[1] for r in RUN_INSTANCES if r[0] == label)
    problem = make_problem(spec["name"], **spec["params"])
    return problem, conflict_stats(supports_of(problem)), gradient_bound(problem)


def slide_bound(gamma, tau, M2, p):
    """The slide's bound on the noise term: γ²·2τ·M²·Pr(conflict)."""
    return gamma ** 2 * 2 * tau * M2 * p


def slide_threshold(n, avg_degree):
    """The slide's condition τ <= n/(2Δ_av) under which the bound is at most γ²M²."""
    return n / (2 * avg_degree)


def check_algebra(budget: str, bound=slide_bound, threshold=slide_threshold) -> tuple[bool, str]:
    check_budget(budget)
    a, b = sp.symbols("a b", real=True)
    bad, steps = [], []
    amgm = sp.factor((a ** 2 + b ** 2) / 2 - a * b)
    steps.append(f"(a² + b²)/2 − ab = {amgm}")
    if sp.simplify(amgm - (a - b) ** 2 / 2) != 0:
        bad.append("a·b <= (a² + b²)/2 does not follow")
    u, w = sp.symbols("u0:3", real=True), sp.symbols("w0:3", real=True)
    lagrange = sp.expand(sum(x * x for x in u) * sum(y * y for y in w) - sum(x * y for x, y in zip(u, w)) ** 2
                         - sum((u[i] * w[j] - u[j] * w[i]) ** 2 for i in range(3) for j in range(i + 1, 3)))
    steps.append(f"||u||²||w||² − ⟨u, w⟩² − Σ_(i<j) (u_i w_j − u_j w_i)² = {lagrange} (Cauchy-Schwarz)")
    if lagrange != 0:
        bad.append("Lagrange's identity fails")
    k, i, tau = sp.symbols("k i tau", integer=True, positive=True)
    terms = sp.Sum(1, (i, k - tau, k + tau)).doit() - 1
    steps.append(f"#{{i : k − τ <= i <= k + τ, i ≠ k}} = {sp.simplify(terms)}")
    if sp.simplify(terms - 2 * tau) != 0:
        bad.append(f"the window has {terms} terms, not 2τ")
    g, M, n, D, t = sp.symbols("gamma M n Delta t", positive=True)
    for label, p, want in (("Δ_av/n", D / n, n / (2 * D)), ("(Δ_av + 1)/n", (D + 1) / n, n / (2 * (D + 1)))):
        # the bound grows with τ, so it is <= γ²M² exactly up to the τ where they are equal
        excess = sp.sympify(bound(g, t, M ** 2, p)) - g ** 2 * M ** 2
        roots = sp.solve(excess, t)
        growing = sp.simplify(sp.diff(excess, t)).is_positive
        top = roots[0] if len(roots) == 1 and growing else None
        claimed = sp.sympify(threshold(n, D)) if label == "Δ_av/n" else want
        steps.append(f"bound − γ²M² with p = {label} grows with τ and vanishes at τ = {top}")
        if top is None or sp.simplify(top - want) != 0 or sp.simplify(claimed - want) != 0:
            bad.append(f"with p = {label} the bound reaches γ²M² at τ = {roots} (growing: {growing}), the condition "
                       f"says τ <= {claimed}")
    if bad:
        return False, "; ".join(steps) + "; " + "; ".join(bad)
    return True, ("; ".join(steps) + "; so |⟨Σ S_i ∇f_i, ∇f_k⟩| <= Σ_(i in window, supports meet) M², whose mean is "
                  "<= 2τ M² Pr(meet)")


def _tau_of(n: int, avg_degree: float) -> int:
    return max(0, min(TAU_CAP, int(math.floor(n / (2 * (avg_degree + 1))))))


@functools.lru_cache(maxsize=128)
def _run(label: str, seed: int, T: int, algorithm: str = "hogwild-atomic", tau: int | None = None) -> dict:
    """One HOGWILD! run of instance ``label`` (``random:seed=S`` or round-robin), measured."""
    _, spec, gamma, adversary = next(r for r in RUN_INSTANCES if r[0] == label)
    problem, stats, M2 = _instance(label)
    tau = _tau_of(stats.m, stats.avg_degree) if tau is None else tau
    res = run_algorithm(algorithm, problem=spec, params={"n": tau + 1, "T": T, "tau": tau, "gamma": gamma},
                        seed=seed, adversary=f"random:seed={seed}" if adversary == "random" else adversary)
    recs, ov = samples(res.trace), overlaps(res.trace)
    per = res.trace.records(PERTURBED.key)[-1]
    supp = [set(r.support) for r in recs]
    meet_counts = [sum(1 for i in ov[r.k] if supp[i] & supp[r.k]) for r in recs]
    pairs = [(a, b) for a in ov for b in ov[a] if a < b]
    biggest = max(max(float(np.max(np.abs(r.xhat))), float(np.max(np.abs(x)))) for r, x in zip(recs, per))
    return {"tau": tau, "gamma": gamma, "stats": stats, "noise": np.abs(noise_terms(res.trace, gamma)), "M2": M2,
            "largest_grad": max(float(np.dot(r.grad, r.grad)) for r in recs), "meet_counts": meet_counts,
            "grad_l1": [float(np.sum(np.abs(r.grad))) for r in recs], "biggest": biggest, "T": T,
            "overlap": max(len(s) for s in ov.values()), "pairs": len(pairs),
            "pairs_meet": sum(1 for a, b in pairs if supp[a] & supp[b])}


def _runs(budget: str, algorithm: str = "hogwild-atomic", tau: int | None = None):
    seeds, T = RUNS[check_budget(budget)]
    return [(label, [_run(label, s, T, algorithm, tau) for s in range(seeds)]) for label, _, _, _ in RUN_INSTANCES]


def per_sample_term(gamma, c, M2):
    """The bound on one sample's noise: γ² c_k M² (c_k terms of the window meet, each <= M²)."""
    return gamma ** 2 * c * M2


def check_per_sample(budget: str, term=per_sample_term, algorithm: str = "hogwild-atomic",
                     tau: int | None = None) -> tuple[bool, str]:
    """|γ⟨x̂_k − x_k, ∇f_{s_k}(x̂_k)⟩| <= ``term(γ, c_k, M²)`` (+ the rounding of x̂_k and x_k) for every k of
    every run, c_k <= τ, and every gradient within M²."""
    bad, rows = [], []
    for label, runs in _runs(budget, algorithm, tau):
        worst, samples_seen, most = 0.0, 0, 0
        for r in runs:
            if r["largest_grad"] > r["M2"] * (1 + 1e-12):
                bad.append(f"{label}: a gradient had ||∇f||² = {r['largest_grad']:.4g} > M² = {r['M2']:.4g}")
            for k, (noise, c, l1) in enumerate(zip(r["noise"], r["meet_counts"], r["grad_l1"])):
                slack = r["gamma"] * l1 * 4 * U * r["T"] * r["biggest"]
                allowed = float(term(r["gamma"], c, r["M2"]))
                if c > r["tau"]:
                    bad.append(f"{label}: sample {k} has {c} overlapping conflicting samples, more than τ = {r['tau']}")
                if noise > allowed + slack:
                    bad.append(f"{label}: sample {k}'s noise {noise:.3g} > γ² c_k M² = {allowed:.3g} (c_k = {c}, "
                               f"ratio {noise / allowed if allowed else math.inf:.3g})")
                if c:
                    worst = max(worst, noise / allowed)
                most = max(most, c)
                samples_seen += 1
        rows.append(f"{label}: {samples_seen} samples, τ = {runs[0]['tau']}, max c_k = {most}, "
                    f"max measured/bound = {worst:.3f}")
    head = (f"{algorithm}: every sample's |γ⟨x̂_k − x_k, ∇f_(s_k)(x̂_k)⟩| <= γ² c_k M² with c_k <= τ, M² from the "
            f"data")
    return (not bad), (head + ": " + "; ".join(bad[:3]) if bad else head + " holds: " + "; ".join(rows))


def check_measured(budget: str, bound=slide_bound, threshold=slide_threshold, algorithm: str = "hogwild-atomic",
                   tau: int | None = None) -> tuple[bool, str]:
    """Mean noise <= bound(γ, τ, M², (Δ_av + 1)/n) <= γ²M²; overlapping pairs meet at (Δ_av + 1)/n."""
    ok, rows = True, []
    for label, runs in _runs(budget, algorithm, tau):
        stats = runs[0]["stats"]
        n, p = stats.m, (stats.avg_degree + 1) / stats.m
        tau_run, gamma, M2 = runs[0]["tau"], runs[0]["gamma"], runs[0]["M2"]
        mean = float(np.mean(np.concatenate([r["noise"] for r in runs])))
        b = float(bound(gamma, tau_run, M2, p))
        cond = float(threshold(n, stats.avg_degree))
        pairs, meet = sum(r["pairs"] for r in runs), sum(r["pairs_meet"] for r in runs)
        freq = meet / pairs if pairs else math.nan
        se = math.sqrt(p * (1 - p) / pairs) if pairs else math.inf
        z = (freq - p) / se
        fine = mean <= b and b <= gamma ** 2 * M2 * (1 + 1e-12) and tau_run <= cond and abs(z) < Z_BOUND
        ok &= fine
        rows.append(f"{label}: τ = {tau_run} (n/(2Δ_av) = {cond:.3g}), M² = {M2:.3g}, mean noise {mean:.3g} <= bound "
                    f"{b:.3g} (measured/bound = {mean / b if b else math.inf:.3g}) <= γ²M² = {gamma ** 2 * M2:.3g}: "
                    f"{'yes' if fine else 'NO'}; overlapping pairs meeting {meet}/{pairs} = {freq:.4f} vs "
                    f"(Δ_av + 1)/n = {p:.4f} (z = {z:+.2f})")
    return ok, (f"{algorithm}, τ = min(4, ⌊n/(2(Δ_av + 1))⌋) unless given and τ + 1 cores; the bound is "
                f"γ²·2τ·M²·(Δ_av + 1)/n with M² from the problem's data: " + "; ".join(rows))


CLAIM = register(Claim(
    id="hogwild-noise-bound",
    source="002_34168ee93540180b.txt, slides \"Asynchrony Noise\" and \"Hogwild Rates: Proof Recap\"",
    statement=("The asynchrony noise term γ²E⟨Σ_(i=k−τ, i≠k)^(k+τ) S_i^k ∇f_(s_i)(x̂_i), ∇f_(s_k)(x̂_k)⟩ is at most "
               "γ²·2τ·M²·Pr(conflict) (Cauchy-Schwarz, a·b <= (a² + b²)/2, ||∇f||² <= M², and only samples whose "
               "supports meet interfere); with Pr(conflict) = Δ_av/n this is <= γ²M² iff τ <= n/(2Δ_av). "
               "Reading: the event is that the supports meet, probability (Δ_av + 1)/n for SGD's draws, for which "
               "the condition is τ <= n/(2(Δ_av + 1)); the runs are measured against that."),
    checks=[
        Check("bound-algebra", "symbolic", check_algebra),
        Check("per-sample", "property", check_per_sample),
        Check("measured-noise", "monte-carlo", check_measured),
    ],
))
