"""The diameter recurrence of Attiya–Schiller's distributed SGD, and the slides' two closed forms.

Seed 000 (``000_3f5163bcd896752f.txt``), slides "Main Correctness Claims" (constant and
decreasing learning rate) and "Correctness Proof".  With m clusters, f = ⌊m/2⌋, the
clusters' iterates x_t = (x_t^1, ..., x_t^m) and D_t = E[Δ^cw(x_t)]:

* constant rate, η_j = η <= 1/(2Ld(f+1)):  D_t <= ηC;
* decreasing rate, η_1 <= 1/(2Ld(f+1)):    D_t <= η_⌊t/2⌋ C + η_1 C q^⌊t/2⌋,
  q = (2f+1)/(2f+2), and so D_t → 0 when η_t → 0;

where C = 4dfσ + 2ε_max(f+1) (L the smoothness constant, d the dimension, σ the gradient
noise, ε_max the agreement's precision).  Through Δ^cw >= Δ_2 (the claim
``coordinatewise-diameter``, proofs/claims/agreement/coordinatewise_diameter.py) a bound on
E[Δ^cw] bounds the expected Euclidean spread of the clusters' iterates too.

**The recurrence is reconstructed from the slides' two closed forms** (the paper is not
reachable here; the slides show only the closed forms):

    D_{t+1} <= q D_t + (1 − q) η_t C,    t >= 1,    D_1 <= η_1 C (D_1 = 0: one common x^1),

one iteration's perturbation phase (y_t = x_t − η_t g_t) followed by its contraction phase
(average, then MultiDimApproxAgree).  It is the form whose unrolling gives both slides:

1. unrolled, D_t <= q^(t−1) D_1 + (1 − q) C Σ_{j=1}^{t−1} q^(t−1−j) η_j; for a constant η,
   D_t <= ηC + (D_1 − ηC) q^(t−1): the fixed point is exactly the slide's ηC, approached
   from below when D_1 <= ηC;
2. for a nonincreasing η, split the sum at s = ⌊t/2⌋: η_j <= η_1 for j < s and η_j <= η_s
   for j >= s, the two geometric sums are q^(t−s) − q^(t−1) and 1 − q^(t−s), so
   D_t <= η_1 C q^⌈t/2⌉ + η_s C (1 − q^⌈t/2⌉) <= η_⌊t/2⌋ C + η_1 C q^⌊t/2⌋ (t >= 2);
3. the constants read as q = f/(f+1) + L d η_max (the averaging over a majority of
   clusters contracts by f/(f+1); the gradients' Lipschitz spread adds L d η <=
   1/(2(f+1)), which is why the rate bound has f+1 in it) and (1 − q) C = 2dσ f/(f+1) +
   ε_max (the noise of the averaged gradients plus the agreement's precision, per unit of
   η_t).  This reading is ours; it reproduces both slide constants exactly.

Reading the recurrence per two iterations instead, D_{t+2} <= q D_t + (1 − q) η_t C (which
the exponent ⌊t/2⌋ might suggest), does *not* give the slide's bound: its trajectories
exceed η_⌊t/2⌋ C + η_1 C q^⌊t/2⌋ (the check ``mistaken-forms`` finds one); ⌊t/2⌋ is where
the sum is split.  Two slide details: the slide "Main Correctness Claims" (decreasing) says
"C ≜ 1/(2Ld(⌊m/2⌋+1))", which repeats the rate bound; we follow "Correctness Proof"'s C.
At t = 1 the bound names η_0; it is read for t >= 2 (D_1 <= η_1 C covers t = 1).

=====================  ==============  ===========================================================
check                  kind            what
=====================  ==============  ===========================================================
``unrolled``           symbolic        rsolve for a constant η: fixed point ηC and the transient;
                                       the explicit sum against the recurrence iterated with
                                       symbols η_1..η_8
``split-at-half``      symbolic        the split of step 2 for t = 2s and 2s+1 (s symbolic): the
                                       geometric sums, then bound − split >= 0 shown by sympy
``decreasing-grid``    property        the recurrence iterated exactly (fractions) on m, t and
                                       η/j, η/√j, η/j², steps: never above the slide's bound
``limit``              symbolic        η_t = η/t, η/√t: the bound → 0 (sympy limits); constant η:
                                       → ηC, the hypothesis η_t → 0 is needed
``q-versus-m``         symbolic        q(m): < 1, depends on ⌊m/2⌋ only, increases to 1 (more
                                       clusters, weaker contraction); the reading of step 3
``mistaken-forms``     counterexample  q^t for q^⌊t/2⌋, η_t for η_⌊t/2⌋, and the per-two-
                                       iterations reading, each refuted by a concrete sequence
=====================  ==============  ===========================================================

Each check takes the formula it tests as a keyword (``step``, ``bound``, ``q``,
``mistakes``, ``readings``), so a test hands it a wrong one and sees it fail.

>>> [str(contraction(m)) for m in (1, 2, 3, 4, 9)]
['1/2', '3/4', '3/4', '5/6', '9/10']
>>> trajectory(lambda j: Fraction(1, j), contraction(3), 1, Fraction(0), 4)
[Fraction(0, 1), Fraction(1, 4), Fraction(5, 16), Fraction(61, 192)]
>>> slide_bound(4, lambda j: Fraction(1, j), contraction(3), 1)
Fraction(17, 16)
"""

from __future__ import annotations

import numbers
from fractions import Fraction
from math import isqrt
from typing import Callable

import sympy as sp

from ....reference.errors import InputError
from ...registry import Check, Claim, check_budget, register

SOURCE = ("000_3f5163bcd896752f.txt, slides \"Main Correctness Claims\" (constant and decreasing learning rate) "
          "and \"Correctness Proof\"")


# --------------------------------------------------------------------------------------
# the slides' constants and the reconstructed recurrence
# --------------------------------------------------------------------------------------


def _check_m(m):
    """``m`` as an int when it is one (>= 1, else :class:`InputError`); a sympy expression as is."""
    if isinstance(m, sp.Expr) and not m.is_Number:
        return m
    if isinstance(m, bool) or not isinstance(m, (numbers.Integral, sp.Integer)):
        raise InputError(f"m (the number of clusters) must be an integer >= 1, got {m!r}")
    if m < 1:
        raise InputError(f"m (the number of clusters) must be >= 1, got {m}")
    return int(m)


def _half(t):
    """⌊t/2⌋, for an int or a sympy integer expression."""
    return t // 2 if isinstance(t, int) else sp.floor(t / 2)


def contraction(m):
    """q = (2⌊m/2⌋+1)/(2⌊m/2⌋+2), the per-iteration contraction ("Correctness Proof").

    ``m`` an int >= 1 (a :class:`Fraction` back) or a sympy integer expression.

    >>> contraction(0)
    Traceback (most recent call last):
    ...
    asyncproof.reference.errors.InputError: m (the number of clusters) must be >= 1, got 0
    """
    m = _check_m(m)
    if isinstance(m, int):
        return Fraction(2 * (m // 2) + 1, 2 * (m // 2) + 2)
    f = sp.floor(m / 2)
    return (2 * f + 1) / (2 * f + 2)


def perturbation_constant(m, d, sigma, eps_max):
    """C = 4d⌊m/2⌋σ + 2ε_max(⌊m/2⌋+1) ("Correctness Proof")."""
    f = _half(_check_m(m))
    return 4 * d * f * sigma + 2 * eps_max * (f + 1)


def eta_max(m, L, d):
    """The rate bound 1/(2Ld(⌊m/2⌋+1)) ("Main Correctness Claims")."""
    return 1 / (2 * L * d * (_half(_check_m(m)) + 1))


def next_diameter(D_t, eta_t, q, C):
    """The reconstructed recurrence: D_{t+1} <= q D_t + (1 − q) η_t C (its right-hand side)."""
    return q * D_t + (1 - q) * eta_t * C


def slide_bound(t, eta: Callable, q, C):
    """η_⌊t/2⌋ C + η_1 C q^⌊t/2⌋, the decreasing-rate bound (t >= 2; ``eta(j)`` is η_j)."""
    h = _half(t)
    return eta(h) * C + eta(1) * C * q ** h


def trajectory(eta: Callable, q, C, D_1, T: int, step=next_diameter) -> list:
    """[D_1, ..., D_T] with the recurrence taken at equality (the largest D_t it allows:
    ``step`` is nondecreasing in D since q >= 0)."""
    D = [D_1]
    for t in range(1, T):
        D.append(step(D[-1], eta(t), q, C))
    return D


# --------------------------------------------------------------------------------------
# (1) the recurrence unrolled
# --------------------------------------------------------------------------------------


def check_unrolled(budget: str, step=next_diameter, constant_bound=lambda eta, C: eta * C) -> tuple[bool, str]:
    """rsolve for a constant η: fixed point == ``constant_bound``, transient (D_1 − ηC) q^(t−1);
    the explicit sum == the recurrence iterated with symbolic η_1..η_8."""
    check_budget(budget)
    t = sp.Symbol("t", integer=True, positive=True)
    q, eta, C, D_1 = sp.symbols("q eta C D_1", positive=True)
    r = sp.Symbol("r", positive=True)            # q = 1/(1+r) ranges over (0, 1)
    D = sp.Function("D")
    sol = sp.rsolve(D(t + 1) - step(D(t), eta, q, C), D(t), {D(1): D_1})
    if sol is None:
        return False, "rsolve found no closed form for the recurrence with a constant η"
    fixed = sp.simplify(sp.limit(sol.subs(q, 1 / (1 + r)), t, sp.oo).subs(r, 1 / q - 1))
    claimed = constant_bound(eta, C)
    transient = sp.simplify(sol - fixed)
    bad = []
    if sp.simplify(fixed - claimed) != 0:
        bad.append(f"the fixed point is {fixed}, not the slide's {claimed}")
    if sp.simplify(transient - (D_1 - fixed) * q ** (t - 1)) != 0:
        bad.append(f"the transient is {transient}, not (D_1 − {fixed})·q^(t−1)")
    # the explicit unrolling, for a general (symbolic) rate sequence
    etas = sp.symbols("eta_1:9", positive=True)
    iterated = D_1
    for n in range(1, 9):
        explicit = q ** (n - 1) * D_1 + (1 - q) * C * sum((q ** (n - 1 - j) * etas[j - 1] for j in range(1, n)),
                                                          sp.Integer(0))
        if sp.expand(iterated - explicit) != 0:
            bad.append(f"t = {n}: the recurrence iterated gives {sp.factor(iterated)}, not the unrolled sum "
                       f"q^(t−1) D_1 + (1−q) C Σ q^(t−1−j) η_j = {sp.factor(explicit)}")
            break
        iterated = sp.expand(step(iterated, etas[n - 1], q, C))
    at = {m: sol.subs({q: contraction(m), D_1: 0, eta: 1, C: 1, t: 11}) for m in (1, 3, 9)}
    nums = ", ".join(f"m = {m}: {float(v):.6f}" for m, v in at.items())
    if bad:
        return False, "; ".join(bad)
    return True, (f"rsolve: D_t = {sp.factor(sol)} = ηC + (D_1 − ηC)·q^(t−1): fixed point {fixed} (the slide's "
                  f"constant-rate bound), approached from below iff D_1 <= ηC; D_11/(ηC) from D_1 = 0: {nums}; "
                  "the explicit sum q^(t−1)D_1 + (1−q)C Σ_(j<t) q^(t−1−j) η_j equals the recurrence iterated with "
                  "symbolic η_1..η_8")


# --------------------------------------------------------------------------------------
# (2) the split at ⌊t/2⌋, symbolically
# --------------------------------------------------------------------------------------


def _powers_of_u(e, q, s, u):
    """q^(k·s + c) → u^k q^c with u = q^s (so a sign can be read off a polynomial)."""
    def rep(p):
        k = sp.expand(p.exp).coeff(s)
        return u ** k * q ** sp.expand(p.exp - k * s)
    return e.replace(lambda x: x.is_Pow and x.base == q and x.exp.has(s), rep)


def check_split_at_half(budget: str, bound=slide_bound) -> tuple[bool, str]:
    """For t = 2s and 2s+1: the two geometric sums, and ``bound`` − split >= 0 shown by sympy.

    The rates are symbols η_t = c, η_s = c + b, η_1 = c + b + a with a, b, c >= 0 (a
    nonincreasing sequence), q = 1/(1+r) with r > 0 after the sums."""
    check_budget(budget)
    q, u, r, C = sp.symbols("q u r C", positive=True)
    a, b, c = sp.symbols("a b c", nonnegative=True)
    s, j = sp.symbols("s j", integer=True, positive=True)
    shown = []
    for parity in (0, 1):
        t = 2 * s + parity
        rates = {1: c + b + a, s: c + b, t: c}

        def eta(k, rates=rates):
            for key, v in rates.items():
                if sp.simplify(sp.sympify(k) - key) == 0:
                    return v
            raise InputError(f"the symbolic split knows η_1, η_s, η_t only, not η_({k})")

        A = sp.summation((1 - q) * q ** (t - 1 - j), (j, 1, s - 1))
        B = sp.summation((1 - q) * q ** (t - 1 - j), (j, s, t - 1))
        if sp.simplify(A - (q ** (t - s) - q ** (t - 1))) != 0 or sp.simplify(B - (1 - q ** (t - s))) != 0:
            return False, f"t = {t}: the geometric sums are {A} and {B}"
        # D_1 <= η_1 C adds q^(t−1) η_1 C to the first part
        split = rates[1] * C * (A + q ** (t - 1)) + rates[s] * C * B
        diff = _powers_of_u(sp.expand(bound(t, eta, q, C) - split), q, s, u)
        gap = sp.factor(sp.together(diff.subs(q, 1 / (1 + r))))
        if gap.is_nonnegative is not True:
            return False, (f"t = {t}: bound − split = {gap} (u = q^s, q = 1/(1+r), η_t = c, η_s = c+b, "
                           f"η_1 = c+b+a): sympy cannot show it is >= 0, so the bound does not follow from the split")
        shown.append(f"t = {t}: {gap}")
    return True, ("D_t <= η_1 C q^⌈t/2⌉ + η_⌊t/2⌋ C (1 − q^⌈t/2⌉) (sums Σ_(j<s) = q^(t−s) − q^(t−1) and "
                  "Σ_(s<=j<t) = 1 − q^(t−s) by sympy, s = ⌊t/2⌋, D_1 <= η_1 C); slide bound − split, with "
                  "u = q^s, q = 1/(1+r), η_s = c+b, η_1 = c+b+a: " + "; ".join(shown) + ", both >= 0")


# --------------------------------------------------------------------------------------
# (3) the grid, exactly
# --------------------------------------------------------------------------------------


def _inv_sqrt(j: int) -> Fraction:
    # 1/√j rounded down to 12 digits: still nonincreasing in j, which is all the claim assumes
    return Fraction(isqrt(10 ** 24 // j), 10 ** 12)


#: nonincreasing rate sequences η_j/η (the bound is linear in η and C, so η = C = 1)
SEQUENCES: dict[str, Callable[[int], Fraction]] = {
    "η/j": lambda j: Fraction(1, j),
    "η/√j": _inv_sqrt,
    "η/j²": lambda j: Fraction(1, j * j),
    "η": lambda j: Fraction(1),
    **{f"η·[j<={k}] + η/100·[j>{k}]": (lambda k: lambda j: Fraction(1) if j <= k else Fraction(1, 100))(k)
       for k in (3, 8, 15)},
}
CLUSTERS = (1, 2, 3, 5, 8, 16)
HORIZON = {"quick": 40, "ci": 120, "deep": 400}


def _grid(budget: str, T: int | None = None):
    """(m, sequence name, D_1 name, eta, q, D) for the grid: D = [D_1..D_T] at equality, η = C = 1."""
    T = HORIZON[budget] if T is None else T
    for m in CLUSTERS:
        q = contraction(m)
        for name, eta in SEQUENCES.items():
            for start, D_1 in (("0", Fraction(0)), ("η_1 C", eta(1))):
                yield m, name, start, eta, q, trajectory(eta, q, 1, D_1, T)


def check_decreasing_grid(budget: str, bound=slide_bound) -> tuple[bool, str]:
    """The recurrence iterated exactly never exceeds ``bound`` (t = 2..T, every grid case)."""
    check_budget(budget)
    worst, where, cases = Fraction(0), None, 0
    for m, name, start, eta, q, D in _grid(budget):
        for t in range(2, len(D) + 1):
            cases += 1
            B = bound(t, eta, q, 1)
            if D[t - 1] > B:
                return False, (f"m = {m} (q = {q}), η_j = {name}, D_1 = {start}, t = {t}: the recurrence reaches "
                               f"D_t = {float(D[t - 1]):.6g}·C > bound {float(B):.6g}·C (ratio {float(D[t - 1] / B):.4f})")
            if D[t - 1] / B > worst:
                worst, where = D[t - 1] / B, (m, name, start, t)
    return True, (f"{cases} (m, η sequence, D_1, t) cases, m in {CLUSTERS}, t = 2..{HORIZON[budget]}, exact fractions: "
                  f"D_t <= η_⌊t/2⌋C + η_1Cq^⌊t/2⌋ always; largest D_t/bound = {float(worst):.6f} at m = {where[0]}, "
                  f"η_j = {where[1]}, D_1 = {where[2]}, t = {where[3]} (nearly tight)")


# --------------------------------------------------------------------------------------
# (4) the limit
# --------------------------------------------------------------------------------------


def check_limit(budget: str, bound=slide_bound) -> tuple[bool, str]:
    """η_t = η/t and η/√t: ``bound`` → 0 along t = 2s and 2s+1; a constant η: → ηC."""
    check_budget(budget)
    eta0, C, r = sp.symbols("eta C r", positive=True)
    s = sp.Symbol("s", integer=True, positive=True)
    q = 1 / (1 + r)                  # any q in (0, 1)
    rates = {"η/t": lambda k: eta0 / k, "η/√t": lambda k: eta0 / sp.sqrt(k)}
    found = []
    for name, eta in rates.items():
        for parity in (0, 1):
            lim = sp.limit(bound(2 * s + parity, eta, q, C), s, sp.oo)
            if sp.simplify(lim) != 0:
                return False, f"η_t = {name}, t = 2s+{parity}: the bound tends to {lim}, not 0"
        found.append(f"η_t = {name}: 0")
    const = sp.limit(bound(2 * s, lambda k: eta0, q, C), s, sp.oo)
    at = {T: float(bound(T, lambda k: sp.Rational(1, k), contraction(3), 1)) for T in (10, 100, 1000)}
    return True, ("lim_(t→∞) of η_⌊t/2⌋C + η_1Cq^⌊t/2⌋ (t = 2s and 2s+1, q = 1/(1+r) in (0,1)): "
                  + ", ".join(found) + f"; constant η: {const} (so η_t → 0 is needed); "
                  f"η_t = 1/t, m = 3, C = 1: " + ", ".join(f"t = {T}: {v:.4g}" for T, v in at.items()))


# --------------------------------------------------------------------------------------
# (5) q against m
# --------------------------------------------------------------------------------------


def check_q_versus_m(budget: str, q=contraction) -> tuple[bool, str]:
    """q(m) in (0, 1), a function of ⌊m/2⌋, increasing to 1; the reading q = f/(f+1) + L d η_max
    and (1 − q) C = 2dσ f/(f+1) + ε_max."""
    check_budget(budget)
    f = sp.Symbol("f", integer=True, nonnegative=True)
    L, d, sigma, eps = sp.symbols("L d sigma epsilon_max", positive=True)
    odd, even = sp.simplify(q(2 * f + 1)), sp.simplify(q(2 * f + 2))   # m = 2f+1 and m = 2f+2
    bad = []
    if not (sp.simplify(1 - odd).is_positive and sp.simplify(odd).is_positive):
        bad.append(f"q(2f+1) = {odd} is not shown in (0, 1)")
    if sp.simplify(q(2 * f + 3) - even) != 0:
        bad.append(f"q(2f+2) = {even} != q(2f+3) = {sp.simplify(q(2 * f + 3))}: q should depend on ⌊m/2⌋ only "
                   "(m and m+1 clusters, m even, have the same majority)")
    if not sp.simplify(q(2 * f + 3) - odd).is_positive:
        bad.append(f"q(2f+3) − q(2f+1) = {sp.simplify(q(2 * f + 3) - odd)} is not shown > 0")
    lim = sp.limit(odd, f, sp.oo)
    if lim != 1:
        bad.append(f"q → {lim} as m → ∞, not 1")
    m = 2 * f + 1
    averaging = f / (f + 1)
    rest = sp.simplify(odd - averaging - L * d * eta_max(m, L, d))
    if rest != 0:
        bad.append(f"q − ⌊m/2⌋/(⌊m/2⌋+1) − L d η_max = {rest}, not 0")
    noise = sp.simplify((1 - odd) * perturbation_constant(m, d, sigma, eps) - (2 * d * sigma * averaging + eps))
    if noise != 0:
        bad.append(f"(1 − q) C − (2dσ⌊m/2⌋/(⌊m/2⌋+1) + ε_max) = {noise}, not 0")
    if bad:
        return False, "; ".join(bad)
    table = ", ".join(f"{k}: {q(k)}" for k in range(1, 10))
    # iterations until the transient q^⌊t/2⌋ is below 1%
    slow = {k: 2 * int(sp.ceiling(sp.log(100) / -sp.log(sp.Rational(q(k))))) for k in (1, 3, 9, 33)}
    return True, (f"q(m) for m = 1..9: {table}; 1 − q = {sp.factor(1 - odd)} > 0, q(2f+2) = q(2f+3), increasing, "
                  f"→ {lim} (more clusters, weaker contraction); t for q^⌊t/2⌋ <= 1%: "
                  + ", ".join(f"m = {k}: {v}" for k, v in slow.items())
                  + "; reading: q = ⌊m/2⌋/(⌊m/2⌋+1) + L d η_max and (1 − q) C = 2dσ⌊m/2⌋/(⌊m/2⌋+1) + ε_max exactly")


# --------------------------------------------------------------------------------------
# (6) mistaken closed forms and the per-two-iterations reading, refuted
# --------------------------------------------------------------------------------------


def _q_to_the_t(t, eta, q, C):
    return eta(_half(t)) * C + eta(1) * C * q ** t


def _eta_t(t, eta, q, C):
    return eta(t) * C + eta(1) * C * q ** _half(t)


#: closed forms one could mistake for the slide's
MISTAKES = {"q^t for q^⌊t/2⌋": _q_to_the_t, "η_t for η_⌊t/2⌋": _eta_t}


def per_two_iterations(eta, q, C, T):
    """D_{t+2} = q D_t + (1 − q) η_t C from D_1 = D_2 = 0 (the most favourable start)."""
    D = [Fraction(0), Fraction(0)]
    for t in range(3, T + 1):
        D.append(q * D[t - 3] + (1 - q) * eta(t - 2) * C)
    return D[:T]


#: recurrences one could reconstruct instead: each maps (eta, q, C, T) to [D_1..D_T]
READINGS = {"per two iterations, D_(t+2) <= q D_t + (1−q) η_t C": per_two_iterations}


def check_mistaken_forms(budget: str, mistakes=None, readings=None) -> tuple[bool, str]:
    """Each mistaken closed form is exceeded by some trajectory of the recurrence, and each other
    reading's trajectories exceed the slide's bound: the largest ratio found for each."""
    check_budget(budget)
    mistakes = MISTAKES if mistakes is None else mistakes
    readings = READINGS if readings is None else readings
    found, missed = [], []
    for label, form in mistakes.items():
        best = None
        for m, name, start, eta, q, D in _grid(budget):
            for t in range(2, len(D) + 1):
                ratio = D[t - 1] / form(t, eta, q, 1)
                if ratio > 1 and (best is None or ratio > best[0]):
                    best = (ratio, m, name, start, t)
        if best is None:
            missed.append(f"'{label}' was never exceeded")
        else:
            found.append(f"'{label}': m = {best[1]}, η_j = {best[2]}, D_1 = {best[3]}, t = {best[4]} gives "
                         f"D_t = {float(best[0]):.3f}× the form")
    T = HORIZON[budget]
    for label, reading in readings.items():
        best = None
        for m in CLUSTERS:
            q = contraction(m)
            for name, eta in SEQUENCES.items():
                D = reading(eta, q, 1, T)
                for t in range(2, T + 1):
                    ratio = D[t - 1] / slide_bound(t, eta, q, 1)
                    if ratio > 1 and (best is None or ratio > best[0]):
                        best = (ratio, m, name, t)
        if best is None:
            missed.append(f"the reading '{label}' stayed within the slide's bound")
        else:
            found.append(f"reading '{label}': m = {best[1]}, η_j = {best[2]}, t = {best[3]} gives "
                         f"{float(best[0]):.3f}× the slide's bound")
    if missed:
        return False, "not refuted: " + "; ".join(missed) + (f" (refuted: {'; '.join(found)})" if found else "")
    return True, "refuted, worst case found for each: " + "; ".join(found)


CLAIM = register(Claim(
    id="diameter-recurrence",
    source=SOURCE,
    statement=("With D_t = E[Δ^cw(x_t)], q = (2⌊m/2⌋+1)/(2⌊m/2⌋+2), C = 4d⌊m/2⌋σ + 2ε_max(⌊m/2⌋+1) and "
               "η_j <= 1/(2Ld(⌊m/2⌋+1)), the recurrence D_(t+1) <= q D_t + (1−q) η_t C (reconstructed from the "
               "slides' closed forms) gives D_t <= ηC for a constant rate (its fixed point) and "
               "D_t <= η_⌊t/2⌋ C + η_1 C q^⌊t/2⌋ for a nonincreasing one, which tends to 0 with η_t; q grows to 1 "
               "with the number of clusters m."),
    checks=[
        Check("unrolled", "symbolic", check_unrolled),
        Check("split-at-half", "symbolic", check_split_at_half),
        Check("decreasing-grid", "property", check_decreasing_grid),
        Check("limit", "symbolic", check_limit),
        Check("q-versus-m", "symbolic", check_q_versus_m),
        Check("mistaken-forms", "counterexample", check_mistaken_forms),
    ],
))
