"""External convergence of the General Algorithm on a strongly convex Q, for any M, even when partitioned.

Seed 000 (``000_3f5163bcd896752f.txt``), the two slides titled "Strongly Convex Q ⇒ 'External'
Convergence": "For any M, any round T, and any node i: E[‖x_T^i − x*‖²] <= O(‖x^1 − x*‖²/(MT) +
σ²/(MT)). Same convergence rate as sequential mini-batch SGD, with batch size M", and "For any M ⇒
the algorithm withstands partitioning, i.e. converges even when communicating with only a minority.
No 'split-brain'".  The algorithm is seed 000's General Algorithm
(:mod:`asyncproof.reference.decentralized.general_algorithm`, ``general-sgd``).  The papers the slides
cite (Ghadimi & Lan 2013; El Mhamdi et al., NeurIPS 2021) are not reachable here: this claim follows
the slides alone; the recurrence of ``sequential-rate`` is the textbook one for strongly convex SGD.

Readings:

* **x_T^i** is the model of node i after T rounds: the ``model`` record of iteration T + 1 (x_1 is
  the common start), so T = 1 is one SGD step plus one average.
* **The step** is η_t = 1/(μt) (``schedule="inverse"``, η_1 = 1/μ): the decreasing rate the O(1/T)
  rate of strongly convex SGD needs; a constant step plateaus at an error of order ησ².
* **The sequential reference.**  On the quadratic f_j(x) = ½(x − x°)ᵀH(x − x°) + ⟨ξ_j, x⟩ the noise
  ξ_j is additive and does not depend on x, so the expected error of sequential mini-batch SGD with
  batch M is computed *exactly* (no sampling) per eigendirection h of H:
  e_{t+1} = (1 − η_t h)² e_t + η_t² σ_h²/M (:func:`sequential_error`).  And the General Algorithm
  is never worse than it: every node's x_{T+1}^i − x* is the common contraction of x_1 − x* plus a
  weighted sum of the drawn noises in which each iteration's weights are nonnegative, sum to 1 and
  are each <= 1/M (every average is over >= M models, later averages only mix), so its variance is
  <= 1/M of one draw's, whatever the schedule; for M = n the bound is attained.  The slide's
  "same convergence rate as sequential mini-batch SGD, with batch size M" is read as this
  comparison, E‖x_{T+1}^i − x*‖² <= seq_M(T), tested up to Monte Carlo error; the slide's constant
  c in E <= c(‖x_1 − x*‖² + σ²)/(MT) is then fitted and reported.
* **"Withstands partitioning"**: with M at most the size of the smaller side of a cut, both sides
  proceed without ever hearing from each other (the "communicating with only a minority" of the
  slide) and each still converges to *the* x*, since on a strongly convex Q there is only one.
  On the double well (``general-nonconvex-split``) the same schedule splits.

The comparison with seq_M needs the noise draws independent across (node, iteration), which
``sample_indices`` keys, and the schedule independent of the drawn values: none of the adversaries
here reads a payload.  The criteria of ``rate``, stated once:

* per family, M, T and node, the mean of ‖x_{T+1}^i − x*‖² over S seeds (budget-scaled) against
  seq_M(T): failed when one-sided z = (mean − seq_M)/SE > Z = 4 (normal approximation of the mean of
  S i.i.d. runs; the worst node is reported);
* per family and M, the slide's ratio r(M, T) = E·MT/(‖x_1 − x*‖² + σ²) may not grow by more than
  GROWTH = 2 from the smallest T of the grid to the largest (a 1/T rate keeps it flat, a plateau
  multiplies it by T_max/T_min = 4);
* reported, not tested: c = max r over the grid (the smallest constant for which the slide's bound
  holds at every grid point: *this* is the fitted constant), exp(mean log r) (least squares in log
  space with the slide's slopes), and the free least-squares exponents E ∝ T^α M^β (α ≈ −1; β
  between 0, when every node hears everybody as under round-robin, and −1).

Not shown: the slide's ‖x_1 − x*‖²/(MT) term on its own: with η_1 = 1/μ and the eigenvalues of H
in [μ, 2μ], x_1 is forgotten within two iterations (the factor 1 − h/(μt) vanishes at t = h/μ), so the
runs measure the σ² term; and Q beyond quadratics (the exact reference needs additive noise).

=====================  ============  ==========================================================
check                  kind          what
=====================  ============  ==========================================================
``rate``               monte-carlo   E‖x_{T+1}^i − x*‖² over seeds, per node, on a (M, T) grid under
                                     three adversary families (round-robin, seeded random, a cut
                                     {p0, p1} | {p2, p3, p4}): not above seq_M(T) (z-test), the
                                     slide's ratio E·MT/(‖x_1−x*‖² + σ²) flat in T (growth <= 2),
                                     the fitted constants and exponents reported
``partition``          property      M below a majority, the processes cut into two sides that never
                                     hear from each other: every node within seq_M(T) of the one x*;
                                     the double well under the same cuts splits
``sequential-rate``    symbolic      from e_{t+1} <= (1 − 2μη_t + L²η_t²) e_t + η_t²σ²/M with
                                     η_t = 1/(μt): e_t <= max(t_0 e_{t_0}, 2σ²/(μ²M))/t for
                                     t >= t_0 >= 2L²/μ² (induction step by sympy), = σ²/(μ²M(t−1))
                                     exactly when L = μ (rsolve): the 1/(MT) form
=====================  ============  ==========================================================

Each check takes what it tests as keywords (``algorithm``, ``rate``, ``recurrence``, ...), so a test
hands it a broken variant (a constant step, an "average" that keeps one model, σ² not divided by M)
and sees it fail.

>>> p = make_problem("quadratic", d=1, sigma=1.0, m=4)         # H = 2: μ = L = 2
>>> [round(v, 6) for v in sequential_error(p, M=2, T=4, rate=RATE_OF(p))]    # σ²/(μ² M T)
[0.125, 0.0625, 0.041667, 0.03125]
"""

from __future__ import annotations

import math

import numpy as np
import sympy as sp

from ....reference.adversaries import Adversary, RoundRobin, SeededRandom
from ....reference.decentralized.common import models_by_iteration, step_size
from ....reference.decentralized.general_algorithm import Averaged
from ....reference.errors import InputError
from ....reference.problems import make_problem
from ....reference.schedule import run_algorithm
from ...registry import Check, Claim, check_budget, register

SOURCE = "000_3f5163bcd896752f.txt, slides \"Strongly Convex Q ⇒ 'External' Convergence\" (both versions)"

#: the strongly convex problem: H = diag(2 .. 4) (μ = 2, L = 4), 32 coordinates so that one run's
#: ‖x − x*‖² is already a sum of many terms (a small relative spread per sample), σ² = 16
PROBLEM = {"name": "quadratic", "params": {"d": 32, "cond": 2.0, "sigma": 4.0, "m": 64}}
#: the nodes, and the counts waited for: 1, a majority, all
N = 5
MS = (1, 3, 5)
#: the cut of the partition family: {p0, p1} | {p2, p3, p4}
CUT = 2
#: grid of rounds T and Monte Carlo seeds per (family, M), by budget
GRID = {"quick": ((4, 8, 16), 8), "ci": ((4, 8, 16), 20), "deep": ((4, 8, 16, 32, 64), 80)}
#: one-sided z above which a mean is significantly above its bound (p < 4e-5 under normality)
Z = 4.0
#: the largest growth of the slide's ratio E·MT/(‖x_1−x*‖²+σ²) from the smallest T to the largest
#: a 1/(MT) rate may show (a plateau at a constant step grows by T_max/T_min = 4 on the quick grid)
GROWTH = 2.0


def RATE_OF(problem) -> dict:
    """η_t = 1/(μt): the ``general-sgd`` learning-rate parameters for ``problem`` (μ its strong convexity)."""
    if problem.mu is None:
        raise InputError(f"problem {problem.name!r} is not strongly convex (no μ): the claim needs one")
    return {"eta": 1.0 / problem.mu, "schedule": "inverse"}


# --------------------------------------------------------------------------------------
# the quadratic's optimum and the exact sequential reference
# --------------------------------------------------------------------------------------


def _quadratic(problem):
    if problem.name != "quadratic":
        raise InputError(f"the claim's exact reference needs the quadratic, got problem {problem.name!r}")
    return problem.arrays


def optimum(problem) -> np.ndarray:
    """x* of the quadratic's mean f (the problem's own :meth:`~asyncproof.reference.problems.Quadratic.minimizer`)."""
    _quadratic(problem)
    return problem.minimizer()


def sequential_error(problem, M: int, T: int, rate: dict, x1=None) -> list[float]:
    """[E‖x_{t+1} − x*‖² for t = 1..T] of sequential mini-batch SGD with batch M, exactly: the quadratic's
    :meth:`~asyncproof.reference.problems.Quadratic.minibatch_sgd_error` with the steps η_t of ``rate``."""
    _quadratic(problem)
    rates = [step_size(rate["eta"], rate.get("schedule", "constant"), t, rate.get("etas")) for t in range(1, T + 1)]
    return problem.minibatch_sgd_error(M, rates, x1)


# --------------------------------------------------------------------------------------
# the adversary families
# --------------------------------------------------------------------------------------


class Cut(Adversary):
    """A partition {p0 .. p(cut−1)} | {p(cut) ..}: deliveries within a side first, process steps and
    finishes next (oldest first), a delivery across the cut only when nothing else can happen (the
    :class:`~asyncproof.properties.agreement.common.PriorityAdversary`'s cut, without priorities or
    faults).  With M at most the smaller side, no side ever waits for the other: a run-long partition."""
    name = "cut"

    def __init__(self, cut: int):
        self.cut = cut
        self._same: dict[str, bool] = {}        # channel "pS->pI" -> both ends on one side

    def _same_side(self, channel: str) -> bool:
        if channel not in self._same:
            src, dst = (int(p) for p in channel.replace("p", "").split("->"))
            self._same[channel] = (src < self.cut) == (dst < self.cut)
        return self._same[channel]

    def choose(self, engine, events) -> int:
        # one scan in canonical (oldest-first) order: the held-back messages pile up, so no sort
        step = across = None
        for i, e in enumerate(events):
            if e.is_fault:
                continue
            if e.kind == "deliver":
                if self._same_side(e.actor):
                    return i
                across = i if across is None else across
            elif step is None:
                step = i
        return step if step is not None else across

    def to_json(self) -> dict:
        return {"name": self.name, "cut": self.cut}


#: the adversary families of ``rate``: seed -> adversary
FAMILIES = {
    "round-robin": lambda s: RoundRobin(),
    "random": lambda s: SeededRandom(seed=s),
    f"partition {{p0..p{CUT - 1}}}|{{p{CUT}..}}": lambda s: Cut(CUT),
}


# --------------------------------------------------------------------------------------
# the runs
# --------------------------------------------------------------------------------------


def one_run(algorithm, problem, params: dict, seed: int, adversary):
    """One run of ``algorithm``: its trace, after checking it finished (every node output)."""
    res = run_algorithm(algorithm, problem=problem, params=params, seed=seed, adversary=adversary)
    if len(res.trace.outputs) != params["n"] or res.trace.stopped != "quiescent":
        raise AssertionError(f"seed {seed}: the run stopped {res.trace.stopped!r} with "
                             f"{len(res.trace.outputs)} of {params['n']} outputs")
    return res


def errors(trace, x_star, Ts) -> np.ndarray:
    """len(Ts) × n array: ‖x_{T+1}^i − x*‖² (the model after T rounds)."""
    by = models_by_iteration(trace)
    return np.array([[float(np.sum((by[T + 1][i] - x_star) ** 2)) for i in sorted(by[T + 1])] for T in Ts])


def estimate(algorithm, problem_spec, params: dict, Ts, seeds: int, adversary) -> dict:
    """Mean and standard error over seeds 0 .. seeds−1 of ‖x_{T+1}^i − x*‖², per T and node; the mean
    number of senders per average; the runs' events (the same for every seed when the adversary
    does not depend on it)."""
    problem = make_problem(problem_spec["name"], **problem_spec.get("params", {}))
    x_star = optimum(problem)
    errs, senders, events, spreads, averaged = [], [], [], [], None
    for s in range(seeds):
        res = one_run(algorithm, problem, params, s, adversary(s))
        errs.append(errors(res.trace, x_star, Ts))
        senders.append(np.mean([len(a.senders) for a in res.trace.records(Averaged)]))
        events.append(res.trace.events)
        X = np.array([res.trace.outputs[p][-1] for p in sorted(res.trace.outputs)])
        spreads.append(float(np.max(np.linalg.norm(X[:, None, :] - X[None, :, :], axis=-1))))
        if averaged is None:
            averaged = [(p, list(a.senders)) for _, p, _, a in res.trace.stepwise(Averaged)]
    a = np.asarray(errs)                               # seeds × T × node
    return {"mean": a.mean(axis=0), "se": a.std(axis=0, ddof=1) / math.sqrt(seeds), "senders": float(np.mean(senders)),
            "events": events, "spread": float(np.mean(spreads)), "averaged": averaged}


def _z(mean, se, bound) -> float:
    return (mean - bound) / se if se > 0 else (math.inf if mean > bound * (1 + 1e-12) else -math.inf)


def _fit_exponents(points) -> tuple[float, float]:
    """(α, β) of the least squares fit log E = a + α log T + β log M over the grid (β nan for one M)."""
    T = np.log([p[1] for p in points])
    Mv = np.log([p[0] for p in points])
    y = np.log([p[2] for p in points])
    if len(set(Mv)) == 1:
        A = np.column_stack([np.ones_like(T), T])
        return float(np.linalg.lstsq(A, y, rcond=None)[0][1]), math.nan
    A = np.column_stack([np.ones_like(T), T, Mv])
    coef = np.linalg.lstsq(A, y, rcond=None)[0]
    return float(coef[1]), float(coef[2])


# --------------------------------------------------------------------------------------
# (1) the rate, Monte Carlo
# --------------------------------------------------------------------------------------


def check_rate(budget: str, algorithm="general-sgd", rate=None, problem=None, families=None, Ms=MS) -> tuple[bool, str]:
    """Per family, M and T: the worst node's E‖x_{T+1}^i − x*‖² (S seeds) against seq_M(T) (z <= Z), and
    the slide's ratio r = E·MT/(‖x_1−x*‖² + σ²) not growing more than GROWTH from the smallest T to the
    largest; reports per family the fitted constant c = max r (the smallest constant for which the
    slide's bound holds at every grid point), its log-space least squares fit exp(mean log r), the
    free fit E ∝ T^α M^β, the mean number of senders per average, and r per (M, T)."""
    check_budget(budget)
    Ts, S = GRID[budget]
    spec = PROBLEM if problem is None else problem
    prob = make_problem(spec["name"], **spec.get("params", {}))
    rate = RATE_OF(prob) if rate is None else rate
    reference = RATE_OF(prob)                       # the claim's η_t = 1/(μt), whatever the run uses
    families = FAMILIES if families is None else families
    D0 = float(np.sum((prob.x0 - optimum(prob)) ** 2))
    scale = D0 + prob.sigma ** 2
    bad, rows, everyone = [], [], None
    for fam, adversary in families.items():
        points, growth, worst_q = [], [], (0.0, None)
        by_M = []
        for M in Ms:
            params = {"n": N, "M": M, "T": max(Ts), **rate}
            if M == N and everyone is not None:
                est = everyone      # every average is over all n models: the schedule cannot change a bit
            else:
                est = estimate(algorithm, spec, params, Ts, S, adversary)
                everyone = est if M == N else everyone
            seq = sequential_error(prob, M, max(Ts), reference)
            rs = []
            for k, T in enumerate(Ts):
                i = int(np.argmax(est["mean"][k]))
                m, se = float(est["mean"][k][i]), float(est["se"][k][i])
                q, z = m / seq[T - 1], _z(m, se, seq[T - 1])
                if q > worst_q[0]:
                    worst_q = (q, f"M = {M}, T = {T}, p{i}: E = {m:.4g} ± {se:.2g}, seq_M = {seq[T - 1]:.4g}, z = {z:.1f}")
                if z > Z:
                    bad.append(f"{fam}, M = {M}, T = {T}: node p{i}'s E‖x_T − x*‖² = {m:.4g} ± {se:.2g} is above "
                               f"sequential mini-batch SGD's {seq[T - 1]:.4g} (measured/bound = {q:.2f}, z = {z:.1f} > {Z})")
                rs.append(m * M * T / scale)
                points.append((M, T, m))
            g = rs[-1] / rs[0]
            growth.append(g)
            if g > GROWTH:
                bad.append(f"{fam}, M = {M}: the slide's ratio E·MT/(‖x_1−x*‖²+σ²) grows {g:.2f}× from T = {Ts[0]} "
                           f"to T = {Ts[-1]} (> {GROWTH}): not a 1/T rate ({' → '.join(f'{r:.3g}' for r in rs)})")
            by_M.append(f"M = {M} (senders {est['senders']:.2f}): r = {'/'.join(f'{r:.3g}' for r in rs)}")
        ratios = [p[2] * p[0] * p[1] / scale for p in points]
        alpha, beta = _fit_exponents(points)
        rows.append(f"{fam}: c = {max(ratios):.3g} (max ratio; log-LS {math.exp(np.mean(np.log(ratios))):.3g}), "
                    f"E ∝ T^{alpha:.2f}" + (f" M^{beta:.2f}" if math.isfinite(beta) else "") + f", growth in T <= {max(growth):.2f}, worst E/seq_M = "
                    f"{worst_q[0]:.2f} ({worst_q[1]}); " + ", ".join(by_M))
    head = (f"n = {N}, quadratic d = {prob.d} (μ = {prob.mu:g}, L = {prob.L:g}, σ² = {prob.sigma ** 2:g}, "
            f"‖x_1−x*‖² = {D0:g}), η_t = {reference['eta']:g}/t, T in {Ts}, {S} seeds, worst node; "
            f"r = E·MT/(‖x_1−x*‖²+σ²), the slide's constant at (M, T)")
    if bad:
        return False, f"{len(bad)} failure(s): " + "; ".join(bad[:4]) + f" | {head} | " + " | ".join(rows)
    return True, head + " | " + " | ".join(rows)


# --------------------------------------------------------------------------------------
# (2) partitioned, below a majority
# --------------------------------------------------------------------------------------


#: (n, cut, M) of ``partition``: M at most the smaller side, so below a majority
CUTS = {"quick": ((5, 2, 2),), "ci": ((5, 2, 2), (4, 2, 2), (5, 3, 2)),
        "deep": ((5, 2, 2), (4, 2, 2), (5, 3, 2), (5, 2, 1), (5, 1, 1), (4, 2, 1))}
#: the rounds of ``partition`` and its double-well contrast (``general-nonconvex-split``'s case)
PARTITION_T = 16
WELL = {"problem": {"name": "double-well", "params": {"d": 1, "sigma": 0.3, "m": 8}}, "T": 8, "eta": 0.6, "seeds": 24}
#: δ of "Non Strongly Convex Functions Require a Majority", as ``general-nonconvex-split`` takes it (the wells
#: are 2 apart; outputs in one well stay within 0.3)
DELTA = 0.3


def well_split(n: int, cut: int, M: int, seeds: int) -> tuple[float, float, float, tuple[int, int]]:
    """The double well under :class:`Cut`: (mean, 95% CI low, high, pair) of ‖out_i − out_j‖ over seeds, for
    the pair across the cut with the largest mean (normal approximation)."""
    dist: dict[tuple[int, int], list[float]] = {}
    for s in range(seeds):
        res = one_run("general-sgd", WELL["problem"], {"n": n, "M": M, "T": WELL["T"], "eta": WELL["eta"]}, s, Cut(cut))
        outs = {p: np.asarray(o[-1]) for p, o in res.trace.outputs.items()}
        for a in range(cut):
            for c in range(cut, n):
                dist.setdefault((a, c), []).append(float(np.linalg.norm(outs[a] - outs[c])))
    pair = max(dist, key=lambda k: float(np.mean(dist[k])))
    v = np.asarray(dist[pair])
    half = 1.96 * float(np.std(v, ddof=1)) / math.sqrt(len(v))
    return float(v.mean()), float(v.mean()) - half, float(v.mean()) + half, pair


def _crossed(averaged, cut: int) -> list:
    """The averages that took a model from the other side of the cut: (pid, senders)."""
    return [(p, s) for p, s in averaged if any((q < cut) != (p < cut) for q in s)]


def check_partition(budget: str, algorithm="general-sgd", rate=None, cuts=None) -> tuple[bool, str]:
    """Each (n, cut, M): the run under :class:`Cut` is a run-long partition (no average takes a model from
    across the cut: otherwise the example is vacuous and fails), the same events in every seed, and
    every node's E‖x_{T+1}^i − x*‖² (S seeds) within sequential mini-batch SGD's seq_M(T) (z <= Z);
    reported with the slide's ratio and E max_(i,j)‖x^i − x^j‖.  The contrast: the double well under the
    same cut (``general-nonconvex-split``'s case) must split, E max‖out_i − out_j‖ > δ, else the cut
    was no partition worth the name."""
    check_budget(budget)
    S = GRID[budget][1]
    prob = make_problem(PROBLEM["name"], **PROBLEM["params"])
    rate = RATE_OF(prob) if rate is None else rate
    reference = RATE_OF(prob)
    D0 = float(np.sum((prob.x0 - optimum(prob)) ** 2))
    Ts = (PARTITION_T // 4, PARTITION_T // 2, PARTITION_T)
    bad, rows = [], []
    for n, cut, M in (CUTS[budget] if cuts is None else cuts):
        if not 1 <= M <= min(cut, n - cut):
            raise InputError(f"partition example (n = {n}, cut = {cut}, M = {M}): M must be in 1 .. the smaller side")
        where = f"n = {n}, {{p0..p{cut - 1}}}|{{p{cut}..p{n - 1}}}, M = {M}"
        est = estimate(algorithm, PROBLEM, {"n": n, "M": M, "T": PARTITION_T, **rate}, Ts, S, lambda s: Cut(cut))
        crossed = _crossed(est["averaged"], cut)
        if crossed:
            bad.append(f"{where}: vacuous, {len(crossed)} averages took a model across the cut (first: p{crossed[0][0]} "
                       f"averaged {crossed[0][1]})")
            continue
        if any(e != est["events"][0] for e in est["events"]):
            bad.append(f"{where}: the seeds' runs took different events: the schedule depends on the values")
        seq = sequential_error(prob, M, PARTITION_T, reference)
        worst = (-math.inf, "")
        for k, T in enumerate(Ts):
            for i in range(n):
                m, se = float(est["mean"][k][i]), float(est["se"][k][i])
                z = _z(m, se, seq[T - 1])
                if z > Z:
                    bad.append(f"{where}, T = {T}: p{i}'s E‖x_T − x*‖² = {m:.4g} ± {se:.2g} above seq_M = "
                               f"{seq[T - 1]:.4g} (measured/bound = {m / seq[T - 1]:.2f}, z = {z:.1f} > {Z})")
                if m / seq[T - 1] > worst[0]:
                    worst = (m / seq[T - 1], f"p{i}, T = {T}, z = {z:.1f}")
        last = est["mean"][-1]
        r = float(np.max(last)) * M * PARTITION_T / (D0 + prob.sigma ** 2)
        mean, lo, hi, (a, c) = well_split(n, cut, M, WELL["seeds"])
        if mean <= DELTA:
            bad.append(f"{where}: the double well under the same cut did not split (E‖out_{a} − out_{c}‖ = {mean:.3f} "
                       f"<= δ = {DELTA}): the schedule is no partition")
        rows.append(f"{where}: {len(est['events'][0])} events, no cross-cut model averaged; T = {PARTITION_T}: "
                    f"E‖x−x*‖² per node {'/'.join(f'{v:.3g}' for v in last)} vs seq_M {seq[-1]:.3g} (worst "
                    f"measured/bound {worst[0]:.2f}, {worst[1]}), slide ratio {r:.3g}, E max‖x^i − x^j‖ = "
                    f"{est['spread']:.3g}; double well, same cut: E‖out_{a} − out_{c}‖ = {mean:.2f} "
                    f"[{lo:.2f}, {hi:.2f}] > δ = {DELTA} (split)")
    head = f"quadratic d = {prob.d}, η_t = {reference['eta']:g}/t, {S} seeds; double well: {WELL['seeds']} seeds, T = {WELL['T']}"
    if bad:
        return False, f"{len(bad)} failure(s): " + "; ".join(bad[:4]) + f" | {head} | " + " | ".join(rows)
    return True, "no split-brain on the strongly convex Q: " + head + " | " + " | ".join(rows)


# --------------------------------------------------------------------------------------
# (3) the sequential rate, symbolically
# --------------------------------------------------------------------------------------


def standard_recurrence(e, eta, mu, L, sigma2, M):
    """The right-hand side of e_{t+1} <= (1 − 2μη_t + L²η_t²) e_t + η_t² σ²/M (μ-strongly convex,
    L-smooth Q, unbiased mini-batch gradients of M i.i.d. samples, each of variance <= σ²)."""
    return (1 - 2 * mu * eta + L ** 2 * eta ** 2) * e + eta ** 2 * sigma2 / M


def check_sequential_rate(budget: str, recurrence=standard_recurrence) -> tuple[bool, str]:
    """With η_t = 1/(μt): (i) the induction step e_t <= A/t ⇒ e_{t+1} <= A/(t+1) for t >= 2κ² (κ = L/μ)
    and A >= 2σ²/(μ²M), shown by sympy (every coefficient of the expanded gap <= 0); (ii) at κ = 1 the
    recurrence at equality solved by rsolve: e_{t+1} = σ²/(μ²Mt), whatever e_1; (iii) the bound's
    elasticities: −1 in M and −1 in T (the 1/(MT) form); (iv) the exact sequential error of the claim's
    quadratic stays below the bound."""
    check_budget(budget)
    t, v, a, s, mu, L, sigma2, M = sp.symbols("t v a s mu L sigma2 M", positive=True)
    bad = []
    # (i): A = 2s + a with s = σ²/(μ²M), κ² = t/2 − v (t >= 2κ²), e_t = A/t
    A = 2 * sigma2 / (mu ** 2 * M) + a
    e_next = recurrence(A / t, 1 / (mu * t), mu, L, sigma2, M)
    gap = e_next - A / (t + 1)
    kappa2 = t / 2 - v
    poly = sp.expand(sp.cancel(gap.subs(L, mu * sp.sqrt(kappa2)) * t ** 3 * (t + 1) * mu ** 2 * M))
    terms = sp.Add.make_args(poly)
    positive = [term for term in terms if not term.is_nonpositive]
    if positive:
        bad.append(f"the induction step does not close: t³(t+1)μ²M·(e_(t+1) − A/(t+1)) = {sp.factor(poly)} has "
                   f"terms not shown <= 0: {positive[:3]} (A = 2σ²/(μ²M) + a, L² = μ²(t/2 − v))")
    # (ii): κ = 1, at equality, from an arbitrary e_1: η_1 = 1/μ makes 1 − 2μη_1 + L²η_1² = 0, so e_2 does
    # not depend on e_1; then u_n = (n − 1)² e_n obeys u_(n+1) = n²·rhs(u_n/(n − 1)²), solved by rsolve
    # (sympy's rsolve on e_n itself returns a wrong closed form for this recurrence, so it is not used)
    e1 = sp.Symbol("e_1", positive=True)
    n = sp.Symbol("n", integer=True, positive=True)
    u = sp.Function("u")
    e2 = sp.simplify(recurrence(e1, 1 / mu, mu, mu, sigma2, M))
    sol = None
    if e2.has(e1):
        bad.append(f"at L = μ, e_2 = {e2} still depends on e_1")
    else:
        step = sp.simplify(n ** 2 * recurrence(u(n) / (n - 1) ** 2, 1 / (mu * n), mu, mu, sigma2, M))
        u_sol = sp.rsolve(u(n + 1) - step, u(n), {u(2): e2})
        if u_sol is None:
            bad.append(f"rsolve could not solve u_(n+1) = {step} (u_n = (n−1)² e_n)")
        else:
            sol = sp.simplify(u_sol / (n - 1) ** 2)
            again = sp.simplify(recurrence(sol, 1 / (mu * n), mu, mu, sigma2, M) - sol.subs(n, n + 1))
            if again != 0 or sp.simplify(sol.subs(n, 2) - e2) != 0:
                bad.append(f"e_n = {sol} does not satisfy the recurrence (residual {again})")
    # (iii): the solution's elasticities: −1 in M (all of it), → −1 in T = n − 1 rounds
    if sol is not None:
        el_M = sp.simplify(M * sp.diff(sol, M) / sol)
        el_T = sp.limit(n * sp.diff(sol, n) / sol, n, sp.oo)
        if el_M != -1 or el_T != -1:
            bad.append(f"at L = μ, e_n = {sol}: its elasticities are {el_M} in M and {el_T} in T, not −1 and −1 "
                       f"(the 1/(MT) form of sequential mini-batch SGD)")
    else:
        el_M = el_T = None
    # the same bound against the recurrence taken at equality, and the quadratic's exact error
    numeric = []
    prob = make_problem(PROBLEM["name"], **PROBLEM["params"])
    kappa = prob.L / prob.mu
    t0 = math.ceil(2 * kappa ** 2)
    for Mv in MS:
        f = sp.lambdify((sp.Symbol("E"), sp.Symbol("H")), recurrence(sp.Symbol("E"), sp.Symbol("H"), prob.mu, prob.L,
                                                                        prob.sigma ** 2, Mv))
        seq = sequential_error(prob, Mv, 64, RATE_OF(prob))
        ev = float(np.sum((prob.x0 - optimum(prob)) ** 2))
        rec = []
        for tt in range(1, 65):
            ev = float(f(ev, 1 / (prob.mu * tt)))
            rec.append(ev)                          # rec[tt−1] = e_(tt+1)
        Av = max(t0 * rec[t0 - 2], 2 * prob.sigma ** 2 / (prob.mu ** 2 * Mv))
        over = [tt for tt in range(t0, 65) if rec[tt - 2] > Av / tt * (1 + 1e-12) or seq[tt - 2] > rec[tt - 2] * (1 + 1e-9)]
        if over:
            bad.append(f"M = {Mv}: at t = {over[0]} the recurrence or the quadratic's exact error exceeds "
                       f"max(t_0 e_(t_0), 2σ²/(μ²M))/t")
        numeric.append(f"M = {Mv}: t·e_t at t = 64: recurrence {64 * rec[62]:.3g}, quadratic {64 * seq[62]:.3g}, "
                       f"A = {Av:.3g}")
    if bad:
        return False, "; ".join(bad)
    return True, (f"η_t = 1/(μt), t >= t_0 >= 2L²/μ²: e_t <= max(t_0 e_(t_0), 2σ²/(μ²M))/t by induction (the gap "
                  f"t³(t+1)μ²M(e_(t+1) − A/(t+1)) = {sp.factor(poly)} <= 0 for A = 2σ²/(μ²M) + a, L² = μ²(t/2 − v)); "
                  f"L = μ: e_n = {sol} from any e_1 (rsolve on (n−1)²e_n; the start forgotten after one step), "
                  f"elasticities {el_M} in M and → {el_T} in T: the 1/(MT) form; "
                  f"quadratic d = {prob.d}, κ = {kappa:g}, t_0 = {t0}: " + "; ".join(numeric))


CLAIM = register(Claim(
    id="external-convergence",
    source=SOURCE,
    statement=("On a strongly convex Q, for any M, round T and node i, the General Algorithm (step, send ⟨t, x⟩, wait "
               "for >= M iteration-t models, average) has E‖x_T^i − x*‖² <= O((‖x_1 − x*‖² + σ²)/(MT)), the rate of "
               "sequential mini-batch SGD with batch M (η_t = 1/(μt)); so it withstands partitioning: with M below a "
               "majority, two sides that never hear from each other both converge to the one x* (no split-brain)."),
    checks=[
        Check("rate", "monte-carlo", check_rate),
        Check("partition", "property", check_partition),
        Check("sequential-rate", "symbolic", check_sequential_rate),
    ],
))
