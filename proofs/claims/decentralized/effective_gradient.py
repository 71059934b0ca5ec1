"""The effective-gradient lemma of Attiya–Schiller's distributed SGD, measured on runs.

Seed 000 (``000_3f5163bcd896752f.txt``), slide "Main Correctness Claims" (its third version):
"For iteration t >= 1 and cluster c, define the **effective gradient** G_t^c = (x_t^c − x_t^{c+1})/η_t.
For every iteration t >= 1:

    E[‖G_t^c − ∇Q(x_t^c)‖²] <= (24nd + 4)σ² + (4/η_t² + 4L² + 12L²d) E[(Δ^cw(x_t))²]"

"Using this lemma, we can prove convergence for smooth convex and non-convex cost functions."  The
algorithm is :mod:`asyncproof.reference.decentralized.attiya_schiller` (``attiya-schiller-sgd``: step,
send, average enough round-t models, MDAA, skip; recovery).  The paper is not reachable here: this
claim follows the slide alone, with these readings (each one visible in the code and the tests):

* **The slide's x_t^{c+1} is read x_{t+1}^c**: G_t^c = (x_t^c − x_{t+1}^c)/η_t, the step that took
  the process from iteration t to t+1, divided by its learning rate (the superscript is the cluster;
  x_t^{c+1} would be another cluster's model, which makes no effective gradient).
* **n is the number of processes** (``Clusters.n``), m the number of clusters, d the dimension.
* **x_t^c, for a process in cluster c, is that process's own model x_t^i** (the ``model`` record
  :class:`~asyncproof.reference.decentralized.common.ModelAt`): in this implementation the
  processes of a cluster keep their own models (the in-cluster agreement is approximate), so the
  lemma is read for every process i.  Δ^cw(x_t) is over every process that recorded an x_t: that
  is the family the lemma's |x_t^i[k] − x_t^j[k]| <= Δ^cw needs, since any of them may be averaged.
* **Skipping.**  A process that skipped from round t to t' > t recorded x_t but no x_{t+1} (its next
  model is x_{t'+1}, after a jump of several iterations the lemma does not describe), and one that
  skipped into round t recorded no x_t: such (t, i) have no effective gradient and are left out of
  the left side (counted in the detail lines); they stay in Δ^cw(x_t) when they recorded x_t.  A
  recovered process records x_t again from its checkpoint (the same value; the last one is used).
* **σ = problem.sigma/√b**, as ``properties/decentralized/attiya_schiller.py`` reads it (restated
  here, since a claim does not import properties/): the problems state σ² = (1/m) Σ_j ‖∇f_j − ∇f‖²
  and G is the mean of b samples drawn with replacement.  The slide's "E‖G − ∇Q‖ <= σ" is read as
  the variance bound E‖G − ∇Q‖² <= σ² the lemma's σ² needs.  Both problems used have additive noise
  (∇f_j − ∇f = ξ_j does not depend on x), so σ is exact everywhere; least squares is not used: it
  states no σ (its noise grows with ‖x − x*‖).
* **L = problem.L**: H's largest eigenvalue for the quadratic; for the double well the smoothness
  constant on the box |x_1| <= 1.5, so the check verifies that every recorded model stays in it.
* **E** is over the seeds, i.e. the samples drawn (the gradient noise).  The random, PCT and timed
  families draw their schedule from the same seed: a mixture of schedules, none of which reads a
  value, and the bound is linear in the expectations, so the mixture's left side must stay below
  the mixture's right side too.  Both sides are estimated on the same runs.

**The estimate and its margin.**  Per problem, family and t, per seed s: L_s(t) = the mean over the
processes of ‖G_t^i − ∇Q(x_t^i)‖², R_s(t) = (24nd+4)σ² + (4/η_t² + 4L² + 12L²d)·Δ^cw(x_t)² of that
run; the lemma fails when the paired mean of L_s − R_s exceeds t_(0.999, S−1) times its standard
error (one-sided Student t on S seeds).  Reported: measured/bound = mean L / mean R, its maximum and
median over t per family.

**How loose the bound is (measured).**  On runs of the real algorithm the disagreement is made by
the gradient noise alone (one common x_1, values never steer control flow), so Δ^cw(x_t) is of order
η·σ and (Δ^cw/η_t)² is a few σ² when η is constant: the noise term (24nd + 4)σ² alone covers the left
side, which is about σ²/(the number of models averaged); measured/bound ratios are about 1e-3.  The
4/η_t² term matters only when η_t falls below the rate at which the disagreement was made: the
double-well problem runs a step decay, η = 0.02 for t <= 3 then η/1000 (a final fine-tuning
phase).  At the drop the left side is about ‖x_t^i − x_{t+1}^i‖²/η_t², dominated by Δ^cw(x_t)/η_t,
the ratio rises to about 0.03, and the lemma without its 4/η_t² term is refuted (left side 10 to 80
times that formula).  (On the quadratic's η_t = 0.03/t, η_1 = 2η_2, so a step applying η_1 g twice and
G_1 divided by η_2 give the same G_1 = 2 × the right one: the two refutations report the same ratio.)
No run comes near the bound itself: the factor 4 and the worst-case
(24nd + 4)σ² are far from what the schedules drawn here produce.

=============================  ==============  ===============================================================
check                          kind            what
=============================  ==============  ===============================================================
``lemma-on-runs``              monte-carlo     a quadratic (constant η) and the double well (step decay) under
                                               round-robin, seeded random, PCT and the timed adversary with a
                                               planned crash and recovery: the left side against the right
                                               side per t (paired one-sided t-test); the ratios per family
``fails-on-a-broken-run``      counterexample  the lemma's comparison refutes: a step applying η_t g twice; G
                                               computed with η_(t+1); the formula without its 4/η_t² term
                                               (at the step decay, where Δ^cw > 0); each passes correctly
                                               on the same problem and family
``cw-dominates-l2-on-runs``    property        Δ^cw(x_t) >= Δ_2(x_t) at every t of the same runs (the functions
                                               of ``coordinatewise-diameter``); the ratio Δ^cw/Δ_2 reported
=============================  ==============  ===============================================================

Each check takes what it tests as keywords (``algorithm``, ``bound``, ``eta_of``, ``problems``,
``families``, ``mistakes``, ``holds``), so a test hands it a broken variant or a wrong formula and
sees it fail.

>>> lemma_bound(n=5, d=2, sigma=1.0, L=4.0, eta_t=0.5, D2=0.0)       # (24·5·2 + 4)σ²
244.0
>>> effective_gradient(np.array([1.0, 2.0]), np.array([0.5, 2.5]), 0.5).tolist()
[1.0, -1.0]
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Callable

import numpy as np

from ....reference.adversaries import PCT, RoundRobin, SeededRandom, make_adversary
from ....reference.agreement.cluster_model import Clusters
from ....reference.decentralized.attiya_schiller import IterationSkip, Recovered
from ....reference.decentralized.common import models_by_iteration, rate_of
from ....reference.errors import InputError
from ....reference.problems import make_problem
from ....reference.registry import Algorithm, get_algorithm
from ....reference.schedule import run_algorithm
from ...registry import Check, Claim, check_budget, register
from ..agreement.coordinatewise_diameter import coordinatewise_diameter, euclidean_diameter, tolerance

SOURCE = "000_3f5163bcd896752f.txt, slide \"Main Correctness Claims\" (third version: the effective gradient)"
ALGORITHM = "attiya-schiller-sgd"

#: the problems the runs use: a name -> (problem spec, the algorithm's parameters).  Clusters [1, 2, 2]:
#: n = 5 processes, m = 3 clusters; R = 1 MDAA round of K = 1 in-cluster round (the weakest
#: agreement, so the processes disagree most); every η_1 below the slides' 1/(2Ld(⌊m/2⌋+1)).
PROBLEMS = {
    # H = diag(2, 4) (L = 4: η_1 <= 1/32), σ = 1, η_t = 0.03/t, started far away (‖∇Q(x_1)‖² ≈ 8000 >>
    # (24nd+4)σ² = 244) so that a step of the wrong length shows
    "quadratic": ({"name": "quadratic", "params": {"d": 2, "cond": 2.0, "sigma": 1.0, "m": 8}},
                  {"clusters": [1, 2, 2], "T": 4, "eta": 0.03, "schedule": "inverse", "x0": [20.0, 20.0],
                   "R": 1, "K": 1}),
    # L = 5.75 on |x_1| <= 1.5 (η_1 <= 0.0217), σ = 0.3, from the saddle; a step decay to η/1000 at t = 4
    "double-well": ({"name": "double-well", "params": {"d": 2, "sigma": 0.3, "m": 8}},
                    {"clusters": [1, 2, 2], "T": 4, "etas": [0.02, 0.02, 0.02, 2e-5], "R": 1, "K": 1}),
}

#: the planned faults of the timed family: p1 crashes during iteration 2 and recovers a little later
FAULTS = "crash@1.5:p1;recover@3:p1"


def _timed(s: int):
    return make_adversary(f"timed:model=exp,lam=1,seed={s},faults={FAULTS}")


#: the adversary families: name -> (seed -> adversary, the fault model)
FAMILIES: dict[str, tuple[Callable, dict | None]] = {
    "round-robin": (lambda s: RoundRobin(), None),
    "random": (lambda s: SeededRandom(seed=s), None),
    "pct": (lambda s: PCT(seed=s, d=3, horizon=500), None),
    "timed+crash/recover": (_timed, {"f": 1, "recovery": True, "crashable": [1]}),
}

#: Monte Carlo seeds per (problem, family), by budget
SEEDS = {"quick": 6, "ci": 16, "deep": 64}
#: seeds of a refutation (``fails-on-a-broken-run``: one problem and family), by budget: the left side
#: at the step decay is a squared disagreement, whose spread over seeds is about its mean
REFUTE_SEEDS = {"quick": 16, "ci": 24, "deep": 96}
#: the one-sided confidence level of the paired t-test
LEVEL = 0.99
#: the box of the double well's L (reference/problems/double_well.py)
WELL_BOX = 1.5


# --------------------------------------------------------------------------------------
# the slide's quantities
# --------------------------------------------------------------------------------------


def effective_gradient(x_t: np.ndarray, x_next: np.ndarray, eta_t: float) -> np.ndarray:
    """G_t = (x_t − x_{t+1})/η_t (the slide's x_t^{c+1} read x_{t+1}^c)."""
    return (x_t - x_next) / eta_t


def lemma_bound(n: int, d: int, sigma: float, L: float, eta_t: float, D2: float) -> float:
    """(24nd + 4)σ² + (4/η_t² + 4L² + 12L²d)·D2, D2 standing for (an estimate of) E[(Δ^cw(x_t))²]."""
    return (24 * n * d + 4) * sigma ** 2 + (4 / eta_t ** 2 + 4 * L ** 2 + 12 * L ** 2 * d) * D2


def sigma_of(problem, params: dict) -> float:
    """σ = problem.sigma/√b (module docstring)."""
    if problem.sigma is None:
        raise InputError(f"problem {problem.name!r} states no σ (its gradient noise is not bounded by a constant "
                         "it knows): the lemma needs one")
    return float(problem.sigma) / math.sqrt(params["b"])


def eta_of_run(params: dict, t: int) -> float:
    """The η_t that divides the step of iteration t: the run's own rate of iteration t."""
    return rate_of(params, t)


# --------------------------------------------------------------------------------------
# the runs (kept as their models only; cached, since the three checks share them)
# --------------------------------------------------------------------------------------


@dataclass
class Run:
    """What a check needs of one run: t -> pid -> x_t, the resolved parameters, its faults and skips."""
    models: dict
    params: dict
    n: int
    skips: int
    recoveries: int


_RUNS: dict = {}


def one_run(algorithm, problem, params: dict, seed: int, family: str, families=None) -> Run:
    """One run of ``algorithm`` under ``family``'s adversary for ``seed``; every process must output."""
    adversary, model = (FAMILIES if families is None else families)[family]
    res = run_algorithm(algorithm, problem=problem, params=params, seed=seed, adversary=adversary(seed), model=model)
    n = Clusters.parse(res.params["clusters"]).n
    if len(res.trace.outputs) != n or res.trace.stopped != "quiescent":
        raise AssertionError(f"{family}, seed {seed}: the run stopped {res.trace.stopped!r} with "
                             f"{len(res.trace.outputs)} of {n} outputs")
    return Run(models_by_iteration(res.trace), res.params, n, len(res.trace.records(IterationSkip)),
               len(res.trace.records(Recovered)))


def runs(algorithm, name: str, family: str, S: int, problems=None, families=None) -> tuple:
    """(problem, [Run for seeds 0 .. S−1]); the real algorithm's runs of the module's problems and families
    are cached (the same seeds on every budget)."""
    probs, fams = PROBLEMS if problems is None else problems, FAMILIES if families is None else families
    spec, params = probs[name]
    problem = make_problem(spec["name"], **spec.get("params", {}))
    # the module's own problem and family (the same objects, whatever dict holds them)
    cache = algorithm == ALGORITHM and probs[name] is PROBLEMS.get(name) and fams[family] is FAMILIES.get(family)
    out = []
    for s in range(S):
        key = (name, family, s)
        if cache and key in _RUNS:
            out.append(_RUNS[key])
            continue
        r = one_run(algorithm, problem, params, s, family, families)
        if cache:
            _RUNS[key] = r
        out.append(r)
    return problem, out


def _in_box(problem, run: Run) -> None:
    if problem.name != "double-well":
        return
    for t, by in run.models.items():
        for p, x in by.items():
            if abs(float(x[0])) > WELL_BOX:
                raise InputError(f"x_{t} of p{p} has |x_1| = {abs(float(x[0])):.3g} > {WELL_BOX}: outside the box "
                                 f"where the double well's L = {problem.L} holds")


# --------------------------------------------------------------------------------------
# the lemma on a set of runs
# --------------------------------------------------------------------------------------


@dataclass
class Row:
    """One iteration t of one (problem, family): the seeds' means and the paired test."""
    t: int
    left: float            # mean over seeds of L_s(t)
    right: float           # mean over seeds of R_s(t)
    excess: float          # mean of L_s − R_s
    margin: float          # t quantile × its standard error
    positive: int          # runs in which Δ^cw(x_t) > 0

    @property
    def ratio(self) -> float:
        return self.left / self.right

    @property
    def failed(self) -> bool:
        return self.excess > self.margin


def lemma_rows(problem, rs: list, bound=lemma_bound, eta_of=eta_of_run) -> tuple[list, int]:
    """([Row per t], pairs left out): the left and right sides per t on the runs ``rs`` (same problem)."""
    from scipy import stats
    per_t: dict[int, list] = {}
    left_out = 0
    for r in rs:
        _in_box(problem, r)
        sigma, d = sigma_of(problem, r.params), problem.d
        for t in sorted(r.models):
            if t + 1 not in r.models:
                continue
            by, nxt = r.models[t], r.models[t + 1]
            eta = eta_of(r.params, t)
            D = coordinatewise_diameter([by[p] for p in sorted(by)]) if len(by) > 1 else 0.0
            terms = []
            for p in sorted(by):
                if p not in nxt:
                    left_out += 1                   # skipped from round t (or crashed for good)
                    continue
                G = effective_gradient(by[p], nxt[p], eta)
                terms.append(float(np.sum((G - problem.grad(by[p])) ** 2)))
            if terms:
                per_t.setdefault(t, []).append((float(np.mean(terms)),
                                                float(bound(r.n, d, sigma, problem.L, eta, D * D)), D > 0))
    rows = []
    for t, vals in sorted(per_t.items()):
        a = np.array([(lft, rgt) for lft, rgt, _ in vals])
        diff = a[:, 0] - a[:, 1]
        k = len(diff)
        se = float(diff.std(ddof=1)) / math.sqrt(k) if k > 1 else 0.0
        margin = float(stats.t.ppf(LEVEL, k - 1)) * se if k > 1 and se > 0 else 0.0
        rows.append(Row(t, float(a[:, 0].mean()), float(a[:, 1].mean()), float(diff.mean()), margin,
                        sum(1 for *_, pos in vals if pos)))
    return rows, left_out


def _ratios(rows) -> str:
    rat = [r.ratio for r in rows]
    return f"max {max(rat):.3g}, median {float(np.median(rat)):.3g}"


def verdict(name: str, family: str, rows) -> str | None:
    """A one-line failure for the first t whose left side is significantly above the right, else None."""
    for r in rows:
        if r.failed:
            return (f"{name}/{family}, t = {r.t}: E‖G − ∇Q‖² ≈ {r.left:.4g} > bound ≈ {r.right:.4g} (measured/bound "
                    f"{r.ratio:.3g}; mean excess {r.excess:.3g} > margin {r.margin:.3g})")
    return None


# --------------------------------------------------------------------------------------
# (1) the lemma, Monte Carlo
# --------------------------------------------------------------------------------------


def check_lemma_on_runs(budget: str, algorithm=ALGORITHM, bound=lemma_bound, eta_of=eta_of_run, problems=None,
                        families=None) -> tuple[bool, str]:
    """Per problem, family and t: the left side within the right side (paired one-sided t-test over the
    seeds); measured/bound ratios per family; vacuous (failed) if no run had Δ^cw(x_t) > 0, no pair was
    left out for a skip, or no process recovered."""
    check_budget(budget)
    S = SEEDS[budget]
    probs = PROBLEMS if problems is None else problems
    fams = FAMILIES if families is None else families
    bad, parts, positive, left_out, recoveries, skips = [], [], 0, 0, 0, 0
    for name in probs:
        for family in fams:
            problem, rs = runs(algorithm, name, family, S, problems, families)
            rows, out = lemma_rows(problem, rs, bound, eta_of)
            left_out += out
            positive += sum(r.positive for r in rows)
            recoveries += sum(r.recoveries for r in rs)
            skips += sum(r.skips for r in rs)
            msg = verdict(name, family, rows)
            if msg:
                bad.append(msg)
            parts.append(f"{name}/{family}: {_ratios(rows)}")
    head = (f"{S} seeds per problem and family, t-test at {LEVEL}; measured/bound over t: " + "; ".join(parts)
            + f" | runs with Δ^cw(x_t) > 0: {positive} (run, t); (t, process) left out for skips: {left_out} "
            f"({skips} skips); recoveries: {recoveries}")
    if bad:
        return False, f"{len(bad)} failure(s): " + "; ".join(bad[:3]) + " | " + head
    vacuous = [what for what, n in (("no run had Δ^cw(x_t) > 0", positive), ("no process skipped", skips),
                                    ("no process recovered", recoveries)) if n == 0]
    if vacuous and problems is None and families is None:
        return False, "vacuous: " + ", ".join(vacuous) + " | " + head
    return True, "E‖G_t − ∇Q(x_t)‖² within the lemma's bound everywhere: " + head


# --------------------------------------------------------------------------------------
# (2) broken runs and wrong formulas, refuted
# --------------------------------------------------------------------------------------


def _twice(x: np.ndarray, eta: float, g: np.ndarray) -> np.ndarray:
    # the update applied twice (in the job and again in step 2): x − 2η_t g
    return x - eta * g - eta * g


def double_step() -> Algorithm:
    """``attiya-schiller-sgd`` whose step 2 applies η_t g twice (``perturb`` replaced)."""
    base = get_algorithm(ALGORITHM)
    return replace(base, name="broken-attiya-schiller-double-step", broken=True,
                   steps=base.steps.replace(perturb=_twice))


def eta_next(params: dict, t: int) -> float:
    """The mistake: the step of iteration t divided by η_(t+1), the rate of the iteration it led to."""
    return rate_of(params, t + 1)


def without_eta_term(n, d, sigma, L, eta_t, D2):
    """The lemma's formula with its 4/η_t² term dropped."""
    return (24 * n * d + 4) * sigma ** 2 + (4 * L ** 2 + 12 * L ** 2 * d) * D2


@dataclass(frozen=True)
class Mistake:
    """What to break (``what``: "algorithm", "eta_of" or "bound", and the thing), and where it shows."""
    what: str
    thing: object
    problem: str
    family: str


#: the mistakes the lemma's comparison must refute
MISTAKES = {
    "step 2 applies η_t g twice": Mistake("algorithm", double_step, "quadratic", "round-robin"),
    "G_t divided by η_(t+1)": Mistake("eta_of", eta_next, "quadratic", "round-robin"),
    "the 4/η_t² term dropped": Mistake("bound", without_eta_term, "double-well", "random"),
}


def check_fails_on_a_broken_run(budget: str, mistakes=None) -> tuple[bool, str]:
    """Each mistake makes the lemma's comparison fail on its problem and family, where the correct
    algorithm and formula pass on the same runs (the failure is the mistake's, not the runs')."""
    check_budget(budget)
    S = REFUTE_SEEDS[budget]
    mistakes = MISTAKES if mistakes is None else mistakes
    found, missed = [], []
    for label, m in mistakes.items():
        if m.what not in ("algorithm", "eta_of", "bound"):
            raise InputError(f"mistake {label!r}: what must be 'algorithm', 'eta_of' or 'bound', got {m.what!r}")
        problem, rs = runs(ALGORITHM, m.problem, m.family, S)
        rows, _ = lemma_rows(problem, rs)
        if verdict(m.problem, m.family, rows):
            raise AssertionError(f"the correct lemma fails on {m.problem}/{m.family}: {verdict(m.problem, m.family, rows)}")
        if m.what == "algorithm":
            alg = m.thing() if callable(m.thing) and not isinstance(m.thing, Algorithm) else m.thing
            problem, rs = runs(alg, m.problem, m.family, S)
            rows = lemma_rows(problem, rs)[0]
        else:
            rows = lemma_rows(problem, rs, **{{"eta_of": "eta_of", "bound": "bound"}[m.what]: m.thing})[0]
        msg = verdict(m.problem, m.family, rows)
        if msg:
            worst = max(rows, key=lambda r: r.ratio)
            found.append(f"'{label}': {m.problem}/{m.family} t = {worst.t}, measured/bound {worst.ratio:.3g}")
        else:
            missed.append(f"'{label}' passed on {m.problem}/{m.family} (measured/bound {_ratios(rows)})")
    if missed:
        return False, "not refuted: " + "; ".join(missed) + (f" (refuted: {'; '.join(found)})" if found else "")
    return True, f"refuted on {S} seeds each, the correct lemma passing on the same problem and family: " + "; ".join(found)


# --------------------------------------------------------------------------------------
# (3) Δ^cw >= Δ_2 on the runs
# --------------------------------------------------------------------------------------


def dominates(cw: float, l2: float, d: int) -> bool:
    """Δ^cw >= Δ_2, up to the rounding ``coordinatewise-diameter`` allows."""
    return cw >= l2 * (1 - tolerance(d))


def check_cw_dominates_l2_on_runs(budget: str, holds=dominates) -> tuple[bool, str]:
    """At every t of the lemma's runs (every family and problem, >= 2 models): ``holds(Δ^cw, Δ_2, d)``."""
    check_budget(budget)
    S = SEEDS[budget]
    ratios, zero, total, d_max = [], 0, 0, 0
    for name in PROBLEMS:
        for family in FAMILIES:
            problem, rs = runs(ALGORITHM, name, family, S)
            d_max = max(d_max, problem.d)
            for s, r in enumerate(rs):
                for t, by in sorted(r.models.items()):
                    if len(by) < 2:
                        continue
                    X = [by[p] for p in sorted(by)]
                    cw, l2 = coordinatewise_diameter(X), euclidean_diameter(X)
                    total += 1
                    if not holds(cw, l2, problem.d):
                        return False, (f"{name}/{family}, seed {s}, t = {t}: Δ^cw = {cw:.6g}, Δ_2 = {l2:.6g} "
                                       f"(ratio {cw / l2 if l2 else math.inf:.6g}): the inequality does not hold")
                    if l2 > 0:
                        ratios.append(cw / l2)
                    else:
                        zero += 1
    if not ratios:
        return False, f"vacuous: Δ_2(x_t) = 0 at all {total} (run, t): every process held the same model"
    return True, (f"{total} (run, t) of {len(PROBLEMS)} problems × {len(FAMILIES)} families × {S} seeds: Δ^cw(x_t) >= "
                  f"Δ_2(x_t) always; Δ^cw/Δ_2 in [{min(ratios):.4f}, {max(ratios):.4f}] (<= d = {d_max}) where Δ_2 > 0 "
                  f"({len(ratios)}), both 0 at {zero}")


CLAIM = register(Claim(
    id="effective-gradient",
    source=SOURCE,
    statement=("For a process i (in cluster c) and iteration t >= 1, the effective gradient G_t = (x_t − x_(t+1))/η_t "
               "(the slide's x_t^(c+1) read x_(t+1)^c) satisfies E‖G_t − ∇Q(x_t)‖² <= (24nd + 4)σ² + (4/η_t² + 4L² + "
               "12L²d)·E[(Δ^cw(x_t))²], n the number of processes; measured on runs of attiya-schiller-sgd, where "
               "Δ^cw(x_t) >= Δ_2(x_t) too."),
    checks=[
        Check("lemma-on-runs", "monte-carlo", check_lemma_on_runs),
        Check("fails-on-a-broken-run", "counterexample", check_fails_on_a_broken_run),
        Check("cw-dominates-l2-on-runs", "property", check_cw_dominates_l2_on_runs),
    ],
))
