"""Rennala's and Malenia's time per round in the fixed computation model.

Tyurin & Richtárik, "Optimal time complexities of parallel stochastic optimization methods
under a fixed computation model" (NeurIPS 2023): worker i needs τ_i seconds per stochastic
gradient, τ_1 <= ... <= τ_n.  The round bounds are those of Tyurin, "Bridging the gap
between homogeneous and heterogeneous asynchronous optimization is surprisingly difficult"
(2025), which proves both methods' time complexities from them (seed 004,
004_5e02a306927ced0b.txt, shows Malenia: "Malenia SGD with Gradient Table"):

* Rennala, proof of Theorem 3.8 (and F.1): "A sufficient time for that is
  2 min_{m∈[n]} [ (1/m Σ_{i=1}^m 1/τ_i)^{-1} (1 + 4σ²/(m L_max ε μ)) ]", i.e. with the batch
  S = 4σ²/(L_max ε μ): **t_R(S) = 2 min_m [(Σ_{i<=m} 1/τ_i)^{-1} (S + m)]** (citing Theorem 11
  of Freya PAGE, Tyurin, Gruntkowska & Richtárik 2024);
* Malenia, proof of Theorem F.2: "A sufficient time for that is t̄ = 2(τ_n + (1/n Σ τ_i) S/n)
  under the fixed computation model because the number of computed stochastic gradients
  B_i^k >= ⌊t̄/τ_i⌋ and 1/n Σ 1/B_i^k <= 1/n Σ 1/⌊t̄/τ_i⌋ <= 1/n Σ 2τ_i/t̄ < n/S, where we use
  ⌊x⌋ >= x/2 for all x >= 1": **t_M(S) = 2(τ_n + (1/n Σ_i τ_i) S/n)**.

What the proofs rely on is that no worker idles: every worker computes at x^k from the start
of round k (with line 12's "stop"), or after at most one unfinished computation at an older
point (its "ignore" branch: one τ_i lost per worker, which the factor 2 pays for:
Σ_{i<=m} (⌊t/τ_i⌋ − 1) >= t Σ_{i<=m} 1/τ_i − 2m >= S at t = 2(S + m)/Σ_{i<=m} 1/τ_i).
With "stop" the factor is not needed: Σ_{i<=m} ⌊t/τ_i⌋ >= t Σ 1/τ_i − m >= S already at
t = (S + m)/Σ_{i<=m} 1/τ_i, the sharp bound checked here beside the paper's.

==================  ==============  ===============================================================
check               kind            what
==================  ==============  ===============================================================
``algebra``         symbolic        the floor steps of both proofs with sympy: ⌊x⌋ >= x − 1 gives
                                    the stop bound (S + m)/H_m, one lost job per worker needs
                                    (S + 2m)/H_m <= 2(S + m)/H_m; ⌊x⌋ >= x/2 for x >= 1
``exact-times``     property        with exact times τ_i and "stop", every round takes exactly
                                    t*(S) = min{t : Σ_i ⌊t/τ_i⌋ >= S} (Rennala), resp. the first t
                                    with ⌊t/τ_i⌋ >= 1 and n² >= S Σ 1/⌊t/τ_i⌋ (Malenia), computed
                                    here from the τ_i alone; the seed-004 example n = 10, S = 10,
                                    τ_i = i, T = 10: Rennala 50, Malenia 100 (mini-batch SGD 100)
``worst-rounds``    property        Hypothesis draws n, S, τ_i and, job by job, the compute time
                                    in (0, τ_i] (the adversary of the "at most τ_i" model) and
                                    steers toward the longest round (``target``): every round is
                                    within the paper's bound for both branches of line 12 and
                                    within the sharp bound with "stop"; the worst measured/bound
                                    ratios are reported
``idle-worker``     counterexample  the same search on a variant whose one named step lets a worker
                                    idle (line 8 skipped after an ignored result; after a stop,
                                    line 3 restarts only the workers it stopped) finds a round
                                    beyond the paper's bound
==================  ==============  ===============================================================

>>> from fractions import Fraction as F
>>> rennala_exact(S=10, taus=[F(i) for i in range(1, 11)])
Fraction(5, 1)
>>> malenia_exact(S=10, taus=[F(i) for i in range(1, 11)])
Fraction(10, 1)
>>> round(rennala_bound(10, [1.0 * i for i in range(1, 11)]), 4), malenia_bound(10, [1.0 * i for i in range(1, 11)])
(13.0612, 31.0)
"""

from __future__ import annotations

import math
from dataclasses import replace
from fractions import Fraction

import sympy as sp

from ....reference.adversaries import Timed
from ....reference.timing import Chosen
from ....reference.engine import ProcessSpec, System, run
from ....reference.errors import InputError
from ....reference.parameter_server import malenia, rennala
from ....reference.parameter_server.common import local_splits
from ....reference.problems import make_problem
from ...registry import Check, Claim, check_budget, hypothesis_settings, register

#: examples per (method, line-12 branch) of the Hypothesis searches, by budget
SEARCH = {"quick": 60, "ci": 150, "deep": 1500}
#: rounds per run in the searches
ROUNDS = 3
TOLERANCE = 1e-9          # relative: the clock adds float durations


# --- the bounds, from the τ_i alone ---------------------------------------------------------------


def rennala_bound(S, taus):
    """t_R(S) = 2 min_m [(Σ_{i<=m} 1/τ_i)^{-1} (S + m)], τ sorted ascending (Tyurin 2025, Theorem 3.8)."""
    taus = sorted(taus)
    return 2 * min((S + m) / sum(1 / t for t in taus[:m]) for m in range(1, len(taus) + 1))


def rennala_sharp_bound(S, taus):
    """With "stop": (S + m)/Σ_{i<=m} 1/τ_i suffices (⌊x⌋ >= x − 1), the bound without the factor 2."""
    return rennala_bound(S, taus) / 2


def malenia_bound(S, taus):
    """t_M(S) = 2(τ_n + (1/n Σ_i τ_i) S/n) (Tyurin 2025, proof of Theorem F.2)."""
    n = len(taus)
    return 2 * (max(taus) + (sum(taus) / n) * S / n)


BOUNDS = {"rennala-sgd": rennala_bound, "malenia-sgd": malenia_bound}


def _candidate_times(taus, upto):
    """Every time at which some worker finishes a job when all start at 0, up to ``upto``."""
    out = set()
    for t in taus:
        j = 1
        while j * t <= upto:
            out.add(j * t)
            j += 1
    return sorted(out)


def rennala_exact(S, taus):
    """min{t : Σ_i ⌊t/τ_i⌋ >= S}: the round time of Rennala with "stop" and exact times τ_i."""
    for t in _candidate_times(taus, S * min(taus)):
        if sum(math.floor(t / tau) for tau in taus) >= S:
            return t
    raise AssertionError("unreachable: the fastest worker alone makes S gradients by S τ_1")


def malenia_exact(S, taus):
    """The first t with every ⌊t/τ_i⌋ >= 1 and (1/n Σ 1/⌊t/τ_i⌋)^{-1} >= S/n: Malenia's round with "stop"."""
    n = len(taus)
    for t in _candidate_times(taus, max(taus) * max(S, 1)):
        counts = [math.floor(t / tau) for tau in taus]
        if all(counts) and Fraction(n * n) >= S * sum(Fraction(1, b) for b in counts):
            return t
    raise AssertionError("unreachable: by S τ_n every worker has S gradients")


EXACT = {"rennala-sgd": rennala_exact, "malenia-sgd": malenia_exact}


# --- runs -----------------------------------------------------------------------------------------


def _rule(algorithm: str, S: int):
    return rennala.rennala_rule(S) if algorithm == "rennala-sgd" else malenia.malenia_rule(S)


def round_times(trace, T: int) -> list[float]:
    """Simulated time of each round: from the previous update (or 0) to this one; a round that
    never ended (the run went quiet first) takes ``inf``."""
    ends = [trace.annotations[step]["time"] for (step, _, _, _) in trace.stepwise("x")]
    times = [b - a for a, b in zip([0.0] + ends, ends)]
    return times + [math.inf] * (T - len(times))


def run_rounds(algorithm: str, S: int, taus, stale: str, T: int = ROUNDS, fraction=lambda: 1.0,
               rule=None, seed: int = 0) -> list[float]:
    """Round times of one run of ``algorithm`` (or of the loop with ``rule``) with worker i's jobs
    taking a time in [τ_i/1000, τ_i] chosen by ``fraction()`` in [0, 1] (1: exactly τ_i);
    n = len(taus), the quadratic x² + 5y² with noise."""
    n = len(taus)
    problem = make_problem("quadratic", sigma=0.5, m=max(n, 2))
    splits = local_splits(problem, n, 0.0, seed)
    rule = rule or _rule(algorithm, S)
    body = rennala.round_server(problem, splits, 0.01, T, n, 1, seed, problem.x0, rule, stale)
    # worker i needs at most τ_i: each job takes a time in [τ_i/1000, τ_i], the adversary's choice
    adversary = Timed(models={f"w{i}": Chosen(1e-3 * t, float(t), fraction) for i, t in enumerate(taus)}, seed=seed)
    system = System([ProcessSpec(body)], seed=seed)
    system.records, system.name = rennala.round_records(rule.record), algorithm      # its writes checked
    trace = run(system, adversary, max_steps=200 * T * (S + n) + 100)
    return round_times(trace, T)


# --- the checks -----------------------------------------------------------------------------------


def check_algebra(budget: str) -> tuple[bool, str]:
    check_budget(budget)
    t, H, S, m, n, tn, ta = sp.symbols("t H S m n tau_n tau_avg", positive=True)
    k = sp.Symbol("k", integer=True, positive=True)
    bad, parts = [], []
    # stop: every worker starts at x^k, Σ_{i<=m} ⌊t/τ_i⌋ >= Σ (t/τ_i − 1) = tH_m − m
    if sp.simplify(((S + m) / H) * H - m - S) != 0:
        bad.append("t = (S + m)/H does not make tH − m = S")
    parts.append("stop: Σ_{i<=m} ⌊t/τ_i⌋ >= tH_m − m = S at t = (S + m)/H_m")
    # ignore: one unfinished calculation per worker, Σ_{i<=m} (⌊t/τ_i⌋ − 1) >= tH_m − 2m
    slack = sp.simplify((2 * (S + m) / H) * H - 2 * m - S)
    if slack != S:
        bad.append(f"at t = 2(S + m)/H, tH − 2m − S = {slack}, not S")
    parts.append(f"ignore: at t = 2(S + m)/H_m, tH_m − 2m − S = {slack} >= 0")
    # Malenia: ⌊x⌋ >= x/2 for x >= 1 (on [k, k + 1), k − (k + 1)/2 = (k − 1)/2 >= 0) ...
    gap = sp.factor(k - (k + 1) / 2)
    j = sp.Symbol("j", integer=True, nonnegative=True)            # k = j + 1 >= 1
    if sp.simplify(gap - (k - 1) / 2) != 0 or not gap.subs(k, j + 1).is_nonnegative:
        bad.append(f"⌊x⌋ − x/2 >= {gap} is not >= 0 for k >= 1")
    # ... so B_i >= t̄/(2τ_i) and 1/n Σ 1/B_i <= 2 τ_avg/t̄ < n/S at t̄ = 2(τ_n + τ_avg S/n)
    tbar = 2 * (tn + ta * S / n)
    margin = sp.simplify(n / S - 2 * ta / tbar)
    if not margin.is_positive:
        bad.append(f"n/S − 2τ_avg/t̄ = {margin} is not positive")
    parts.append(f"Malenia: ⌊x⌋ − x/2 >= {gap} >= 0 on [k, k + 1), and n/S − 2τ_avg/t̄ = {margin} > 0")
    return (not bad), "; ".join(parts + bad)


def check_exact_times(budget: str, exact=None) -> tuple[bool, str]:
    """``exact``: {algorithm: f(S, taus)}, the predicted round time (a test hands a wrong one)."""
    check_budget(budget)
    exact = exact or EXACT
    cases = [(10, list(range(1, 11)), 10)]            # seed 004's setting of the issue: n = 10, S = 10, τ_i = i
    cases += [(S, taus, ROUNDS) for S, taus in ((1, [1, 1]), (3, [1, 2, 3]), (7, [2, 3, 5]), (4, [1, 4, 4, 9]),
                                                 (2, [3, 7, 11, 13, 17]), (12, [1, 1, 2, 6]))]
    bad, parts = [], []
    for S, taus, T in cases:
        for alg in ("rennala-sgd", "malenia-sgd"):
            want = exact[alg](S, [Fraction(t) for t in taus])
            got = run_rounds(alg, S, taus, "stop", T=T)
            if any(g != float(want) for g in got):
                bad.append(f"{alg}, S = {S}, τ = {taus}: rounds took {got}, predicted {float(want):g} each")
            elif S == 10 and len(taus) == 10:
                parts.append(f"{alg} (n = 10, S = 10, τ_i = i, T = 10): {float(want):g} per round, "
                             f"{sum(got):g} in all (paper's bound {BOUNDS[alg](S, taus):g} per round)")
    tail = f"every round of {2 * len(cases)} runs equals t*(S) computed from the τ_i"
    return (not bad), "; ".join(parts + [tail] + bad)


class _Beyond(Exception):
    """Ends a search that only needs one round beyond the bound."""


def _search(algorithm: str, stale: str, budget: str, bound, rule_of=None, min_n: int = 1, stop_above=None):
    """The worst round (largest round time / ``bound(S, taus)``) Hypothesis finds on ``algorithm``
    (or on the loop with ``rule_of(S)``'s rule): (ratio, where).  With ``stop_above`` the search
    ends at the first ratio beyond it (a counterexample needs one run)."""
    from hypothesis import Phase, given, settings, target
    from hypothesis import strategies as st

    worst = [0.0, ""]
    chosen = hypothesis_settings(budget, SEARCH[budget])
    if stop_above is not None:           # ending the search is not a failure to shrink
        chosen = settings(chosen, phases=[Phase.explicit, Phase.generate, Phase.target])

    @chosen
    @given(st.data())
    def search(data):
        n = data.draw(st.integers(min_n, 5), label="n")
        taus = sorted(data.draw(st.lists(st.integers(1, 12), min_size=n, max_size=n), label="τ"))
        S = data.draw(st.integers(1, 2 * n), label="S")
        fractions = st.one_of(st.just(1.0), st.floats(0.0, 1.0))
        times = run_rounds(algorithm, S, taus, stale, fraction=lambda: data.draw(fractions),
                           rule=None if rule_of is None else rule_of(S))
        b = bound(S, taus)
        ratio = max(times) / b
        target(min(ratio, 1e6), label="round time / bound")
        if ratio > worst[0]:
            worst[0] = ratio
            worst[1] = f"n = {n}, S = {S}, τ = {taus}: round times {[round(x, 3) for x in times]}, bound {b:.4g}"
        if stop_above is not None and ratio > stop_above:
            raise _Beyond

    try:
        search()
    except _Beyond:
        pass
    return worst[0], worst[1]


def check_worst_rounds(budget: str, bounds=None) -> tuple[bool, str]:
    """``bounds``: {algorithm: f(S, taus)} (a test hands a wrong one)."""
    check_budget(budget)
    bounds = bounds or BOUNDS
    bad, parts = [], []
    cases = [(alg, stale, bounds[alg], "paper's") for alg in ("rennala-sgd", "malenia-sgd")
             for stale in ("stop", "ignore")]
    cases.append(("rennala-sgd", "stop", rennala_sharp_bound, "sharp (S + m)/H_m"))
    for alg, stale, bound, name in cases:
        ratio, where = _search(alg, stale, budget, bound)
        parts.append(f"{alg} {stale}: worst round / {name} bound = {ratio:.3f}")
        if ratio > 1 + TOLERANCE:
            bad.append(f"{alg} with stale = {stale!r} exceeds the {name} bound: {where}")
    return (not bad), "; ".join(parts + bad)


# --- the variants: a worker left idle -------------------------------------------------------------


def _again_unless_ignored(workers, job, k, loop_ended, stale):
    """Line 8 skipped for a result that was ignored: the worker idles until the next round."""
    if job.pi != k:
        return
    yield from rennala.ask_again(workers, job, k, loop_ended, stale)


def _restart_the_stopped(workers, k):
    """After a stop, line 3 asks only the workers whose calculations it stopped."""
    for i in sorted(getattr(workers, "last_stopped", range(workers.n))):
        if not workers.busy(i):
            yield from workers.assign(workers.new_job(i, k))


def _stop_and_remember(workers, k):
    stopped = yield from rennala.stop_all(workers, k)
    workers.last_stopped = {j.worker for j in stopped}
    return stopped


IDLE_VARIANTS = {
    "ignore": ("line 8 skipped after an ignored result", {"again": _again_unless_ignored}),
    "stop": ("after a stop line 3 restarts only the stopped workers",
             {"restart": _restart_the_stopped, "stop": _stop_and_remember}),
}


def check_idle_worker(budget: str) -> tuple[bool, str]:
    check_budget(budget)
    parts, missed = [], []
    for stale, (what, steps) in IDLE_VARIANTS.items():
        for alg in ("rennala-sgd", "malenia-sgd"):
            ratio, where = _search(alg, stale, budget, BOUNDS[alg], min_n=2, stop_above=1 + TOLERANCE,
                                   rule_of=lambda S, alg=alg, steps=steps: replace(_rule(alg, S), **steps))
            parts.append(f"{alg} {stale} ({what}): worst round / paper's bound = {ratio:.3g} ({where})")
            if not ratio > 1 + TOLERANCE:
                missed.append(f"{alg} {stale}: the variant stayed within the bound")
    return (not missed), "; ".join(parts + missed)


CLAIM = register(Claim(
    id="rennala-malenia-round-time",
    source="Tyurin 2025 (proofs of Theorems 3.8, F.1, F.2) for Tyurin & Richtárik, NeurIPS 2023; seed 004, "
           "\"Malenia SGD with Gradient Table\"",
    statement=("In the fixed computation model (worker i needs at most τ_i, τ_1 <= ... <= τ_n), every round of "
               "Rennala SGD takes at most 2 min_m [(Σ_{i<=m} 1/τ_i)^{-1} (S + m)] and every round of Malenia SGD at "
               "most 2(τ_n + (1/n Σ_i τ_i) S/n), whether line 12 stops the workers' calculations or ignores them; "
               "with stops Rennala's round is within (S + m)/Σ_{i<=m} 1/τ_i. A worker left idle breaks both."),
    checks=[
        Check("algebra", "symbolic", check_algebra),
        Check("exact-times", "property", check_exact_times),
        Check("worst-rounds", "property", check_worst_rounds),
        Check("idle-worker", "counterexample", check_idle_worker),
    ],
))
