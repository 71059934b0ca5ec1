"""Delays degrade gradient descent: x_{k+1} = x_k − γ ∇f(x_{k−τ}) on f(x, y) = x² + 5y².

Seed 004 (``004_5e02a306927ced0b.txt``), slides "Asynchronous SGD can get wild: delays can
degrade performance": f(x, y) = x² + 5y², a picture of "Gradient Descent iterations", then
the same picture with "Delay = 5", where the iterates go wild.  The slides are pictures
without numbers; this claim makes them exact.

Reading of the slides, stated once here and in the claim:

* "Delay = 5" is a constant delay τ = 5: every step uses the gradient at the iterate τ
  steps back, x_{k+1} = x_k − γ ∇f(x_{k−τ}), with x_j = x_0 for j < 0 (the history starts
  at x_0, as when every worker starts from x_0), and x_0 = (1, 1), the start of
  ``make_problem("quadratic")``, which *is* this f (H = diag(2, 10), L = 10, μ = 2);
* ∇f(x, y) = (2x, 10y), so the coordinates separate: with curvature h ∈ {2, 10} each
  follows u_{k+1} = u_k − γh u_{k−τ}, a linear recurrence of order τ + 1;
* the slides print no step size; the claim is about every step γ > 0.

The claim: the recurrence is asymptotically stable (x_k → 0 from every history) iff
0 < γ < γ*(τ) = (2/L) sin(π/(2(2τ+1))), L = 10 (the coordinate h = 10 binds).  At τ = 0
this is the classical 2/L = 0.2; for large τ, γ*(τ) ≈ π/(L(2τ+1)): the largest stable
step shrinks like 1/τ.  At τ = 1 it is already 1/10 and at τ = 5 it is 0.2 sin(π/22) ≈
0.02846, so a step that plain GD takes safely (γ = 0.1) diverges with delay 5 — the
seed's picture.  (This is the stability condition of Levin and May (1976) for
x_{k+1} = x_k − a x_{k−τ}, 0 < a < 2 cos(τπ/(2τ+1)) = 2 sin(π/(2(2τ+1))).)

The derivation, checked piece by piece:

1. substituting u_k = z^k into the recurrence and dividing by z^{k−τ} gives the
   characteristic polynomial p(z) = z^{τ+1} − z^τ + γh, which is also det(zI − A) of the
   recurrence's (τ+1)×(τ+1) companion matrix A;
2. at γh → 0 the roots are 1 − γh + O(γh²) and τ roots near 0, all inside the unit disc;
   they move continuously with γh, so the stable range ends at the smallest γh at which a
   root reaches |z| = 1.  There z = e^{iθ} and z^τ(z − 1) = −γh; as z − 1 =
   2i sin(θ/2) e^{iθ/2}, z^τ(z − 1) = 2 sin(θ/2) e^{i(τθ + θ/2 + π/2)}, so γh = 2 sin(θ/2)
   and τθ + θ/2 + π/2 = π (mod 2π): θ = π(1 + 4m)/(2τ+1), smallest at m = 0.  Hence
   γh* = 2 sin(π/(2(2τ+1))), i.e. γ* = (2/L) sin(π/(2(2τ+1))) for the largest curvature L;
3. the pair e^{±iθ} crosses the circle outward (d|z|/dγh > 0 there), and numerically at
   γ*(1 − 10⁻⁶) every root of both coordinates is strictly inside, at γ*(1 + 10⁻⁶) one is
   outside (mpmath, 50 digits); on a grid of steps below γ* all are inside.

=================================  ==============  ===============================================
check                              kind            what
=================================  ==============  ===============================================
``characteristic-polynomial``      symbolic        step 1 for τ = 0..8: substitution vs companion
                                                   determinant vs z^{τ+1} − z^τ + γh
``largest-stable-step``            symbolic        steps 2 and 3: θ and γ* derived, e^{iθ} a root
                                                   (50 digits), roots at γ*(1 ∓ 10⁻⁶); the table
``iterates-at-0.9-and-1.1``        property        the recurrence in float64 converges at 0.9γ*
                                                   and diverges at 1.1γ*, at the roots' rate
``seed-delay-5``                   counterexample  γ = 0.1 is stable at τ = 0 and diverges at
                                                   τ = 5: roots and iterates
``adversary-finds-delay-5-...``    counterexample  Hypothesis's adversary finds an engine schedule
                                                   of pure-async-sgd with delays <= 5 that diverges
``engine-held-at-delay-5``         counterexample  pure-async-sgd, n = 6, FIFO: every delay 5, the
                                                   iterates equal the recurrence bit for bit,
                                                   diverge, and the saved schedule replays
=================================  ==============  ===============================================

Every check takes what it tests as a keyword parameter — ``polynomial`` (default
:func:`characteristic_polynomial`) and ``step`` (default :func:`largest_stable_step`) —
so a test can hand it a wrong one and see the check fail.

>>> characteristic_polynomial(5, GH)
gamma_h + z**6 - z**5
>>> [largest_stable_step(t) for t in (0, 1, 2)]
[1/5, 1/10, -1/20 + sqrt(5)/20]
>>> round(float(largest_stable_step(5)), 5)
0.02846
>>> xs = delayed_gd(0.1, 5, 300)
>>> xs.shape, bool(abs(xs[-1]).max() > 1e3)
((301, 2), True)
"""

from __future__ import annotations

import functools
import math
import numbers
from typing import NamedTuple

import mpmath
import numpy as np
import sympy as sp

from ....reference.errors import InputError
from ...registry import Check, Claim, check_budget, register

#: the variable of the characteristic polynomial, and the product γh as a symbol
Z = sp.Symbol("z")
GH = sp.Symbol("gamma_h", positive=True)

#: seed 004's f(x, y) = x² + 5y²: the curvatures (diagonal of H), L, and the start x_0
H_SEED = (2, 10)
L_SEED = 10
X0_SEED = (1.0, 1.0)

#: the seed's picture: a step that plain GD (τ = 0) takes safely, and the slide's delay
SEED_GAMMA = 0.1
SEED_TAU = 5

#: the delays checked, 0..MAX_TAU, by budget (the claim's table is τ = 0..8)
MAX_TAU = {"quick": 8, "ci": 12, "deep": 20}

#: iterations of the recurrence per run, by budget (enough for 1.1γ* to pass 1e3 at the largest τ)
STEPS = {"quick": 2000, "ci": 2000, "deep": 3000}

#: the relative distance from γ* at which the roots are checked, and the working precision (digits)
MARGIN = 1e-6
DPS = 50

#: |z| within this of 1 counts as on the circle, neither inside nor outside (50-digit roots)
CIRCLE_TOL = mpmath.mpf("1e-30")

#: the empirical rate (‖x_k‖ envelope over the second half of a run) vs the spectral radius
RATE_TOL = 2e-3

#: a run converges when ‖x_K‖ < CONVERGED·‖x_0‖ and diverges when max ‖x_k‖ > DIVERGED·‖x_0‖
CONVERGED = 1e-3
DIVERGED = 1e3


# --------------------------------------------------------------------------------------
# input checks: one-line InputError naming the field and the value
# --------------------------------------------------------------------------------------


def _tau(tau) -> int:
    if isinstance(tau, bool) or not isinstance(tau, numbers.Integral) or tau < 0:
        raise InputError(f"tau (the delay) must be an integer >= 0, got {tau!r}")
    return int(tau)


def _positive_number(name: str, value) -> float:
    """``value`` as a finite float > 0 (ints, floats, numpy and sympy numbers), else InputError."""
    if isinstance(value, (bool, str, bytes)):
        raise InputError(f"{name} must be a real number > 0, got {value!r}")
    try:
        v = float(value)
    except (TypeError, ValueError, OverflowError):
        raise InputError(f"{name} must be a real number > 0, got {value!r}") from None
    if not math.isfinite(v) or v <= 0:
        raise InputError(f"{name} must be a finite real number > 0, got {value!r}")
    return v


def _positive_symbolic(name: str, value) -> sp.Expr:
    """``value`` as a sympy expression: a number > 0, or a symbol not known to be <= 0."""
    if isinstance(value, (bool, str, bytes)):
        raise InputError(f"{name} must be a positive number or sympy symbol, got {value!r}")
    try:
        v = sp.sympify(value, strict=True)
    except (sp.SympifyError, TypeError):
        raise InputError(f"{name} must be a positive number or sympy symbol, got {value!r}") from None
    if v.is_number:
        if v.is_extended_real is not True or v.is_finite is not True or v.is_positive is not True:
            raise InputError(f"{name} must be a finite real number > 0, got {value!r}")
    elif v.is_positive is False:
        raise InputError(f"{name} must be positive, got {value!r} (known to be <= 0)")
    return v


def _vector(name: str, value, d: int | None = None) -> np.ndarray:
    if isinstance(value, (str, bytes)):
        raise InputError(f"{name} must be a sequence of real numbers, got {value!r}")
    try:
        a = np.asarray(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a sequence of real numbers, got {value!r}") from None
    if a.dtype.kind not in "biuf" or a.ndim != 1 or a.size < 1:
        raise InputError(f"{name} must be a non-empty 1-D sequence of real numbers, got {value!r}")
    a = a.astype(np.float64)
    if not np.all(np.isfinite(a)):
        raise InputError(f"{name} must be finite, got {value!r}")
    if d is not None and a.size != d:
        raise InputError(f"{name} must have {d} coordinates (one per curvature in h), got {a.size}")
    return a


def _curvatures(h) -> np.ndarray:
    h = _vector("h (the curvatures)", h)
    if np.any(h <= 0):
        raise InputError(f"h (the curvatures) must all be > 0, got {h.tolist()}")
    return h


# --------------------------------------------------------------------------------------
# the public helpers
# --------------------------------------------------------------------------------------


def characteristic_polynomial(tau, gamma_h) -> sp.Expr:
    """p(z) of u_{k+1} = u_k − γh u_{k−τ}, derived by substituting u_k = z^k.

    The recurrence's residual u_{k+1} − u_k + γh u_{k−τ} at u_j = z^j, times z^{τ−k}
    (k a symbol), is a polynomial in :data:`Z`: z^{τ+1} − z^τ + γh.  ``gamma_h`` is a
    positive number or a symbol such as :data:`GH`.

    >>> characteristic_polynomial(0, 1)
    z
    """
    tau = _tau(tau)
    gamma_h = _positive_symbolic("gamma_h (the step times the curvature)", gamma_h)
    k = sp.Symbol("k", integer=True)
    u = lambda j: Z ** j                                          # noqa: E731 (the ansatz u_j = z^j)
    residual = u(k + 1) - (u(k) - gamma_h * u(k - tau))           # = 0 along the recurrence
    return sp.expand(sp.powsimp(sp.expand(residual * Z ** (tau - k))))


def largest_stable_step(tau, L=L_SEED) -> sp.Expr:
    """γ*(τ) = (2/L) sin(π/(2(2τ+1))), exact (sympy): the recurrence is stable iff 0 < γ < γ*.

    ``L`` is the largest curvature (10 for seed 004's x² + 5y²).

    >>> largest_stable_step(0, L=2)
    1
    """
    tau = _tau(tau)
    L = _positive_symbolic("L (the largest curvature)", L)
    return 2 / L * sp.sin(sp.pi / (2 * (2 * tau + 1)))


def delayed_gd(gamma, tau, steps, h=H_SEED, x0=X0_SEED) -> np.ndarray:
    """The iterates x_0, ..., x_steps of x_{k+1} = x_k − γ ∇f(x_{k−τ}), x_j = x_0 for j < 0.

    f(x) = Σ_i h_i x_i² / 2, so ∇f(x) = h ∘ x; the default is seed 004's x² + 5y² from
    (1, 1).  Plain float64, one step at a time.  Returns a (steps + 1) × d array; a
    divergent run may overflow to ±inf (silently) if run long enough.
    """
    gamma = _positive_number("gamma (the step size)", gamma)
    tau = _tau(tau)
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 0:
        raise InputError(f"steps must be an integer >= 0, got {steps!r}")
    h = _curvatures(h)
    x0 = _vector("x0", x0, d=h.size)
    xs = np.empty((int(steps) + 1, h.size), dtype=np.float64)
    xs[0] = x0
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(int(steps)):
            stale = xs[k - tau] if k >= tau else xs[0]
            xs[k + 1] = xs[k] - gamma * (h * stale)
    return xs


class StabilityRow(NamedTuple):
    """One row of :func:`STABILITY_TABLE`."""
    tau: int
    exact: sp.Expr
    decimal: float


@functools.lru_cache(maxsize=16)
def _table(taus: tuple, L) -> tuple:
    return tuple(StabilityRow(t, s, float(s)) for t in taus for s in [largest_stable_step(t, L)])


def STABILITY_TABLE(taus=range(9), L=L_SEED) -> tuple[StabilityRow, ...]:   # noqa: N802 (a table, computed on demand)
    """γ*(τ) for each τ in ``taus`` (default 0..8): rows ``(tau, exact, decimal)``, computed on demand.

    >>> STABILITY_TABLE()[0]
    StabilityRow(tau=0, exact=1/5, decimal=0.2)
    """
    try:
        taus = tuple(taus)
    except TypeError:
        raise InputError(f"taus must be a sequence of delays, got {taus!r}") from None
    return _table(tuple(_tau(t) for t in taus), _positive_symbolic("L (the largest curvature)", L))


def _as_expr(p) -> sp.Expr:
    return p.as_expr() if isinstance(p, sp.Poly) else sp.sympify(p)


class _NotPolynomial(Exception):
    """A (wrong) builder whose output is not a polynomial in z."""


class _Lambdified(NamedTuple):
    coeffs: object      # γh -> coefficients in z, highest first (mpmath)
    dz: object          # (z, γh) -> ∂p/∂z
    dg: object          # (z, γh) -> ∂p/∂γh


@functools.lru_cache(maxsize=256)
def _lambdified(polynomial, tau: int) -> _Lambdified | None:
    """``polynomial(tau, GH)`` as mpmath functions of γh; ``None`` if it is not a polynomial in z."""
    try:
        expr = sp.expand(_as_expr(polynomial(tau, GH)))
        poly = sp.Poly(expr, Z)
    except sp.PolynomialError:
        return None
    return _Lambdified(sp.lambdify(GH, poly.all_coeffs(), "mpmath"),
                       sp.lambdify((Z, GH), sp.diff(expr, Z), "mpmath"),
                       sp.lambdify((Z, GH), sp.diff(expr, GH), "mpmath"))


def _coefficients(polynomial, tau: int, gamma_h) -> list:
    fns = _lambdified(polynomial, tau)
    if fns is None:
        raise _NotPolynomial(f"polynomial({tau}, γh) is not a polynomial in z")
    coeffs = list(fns.coeffs(gamma_h))
    while coeffs and coeffs[0] == 0:                              # a wrong builder's leading zeros
        coeffs = coeffs[1:]
    return coeffs


def _mp(value) -> mpmath.mpf:
    """A sympy expression or a Python / numpy number as an mpmath number at the working precision."""
    if isinstance(value, (int, np.integer)):
        return mpmath.mpf(int(value))
    if isinstance(value, (float, np.floating)):
        return mpmath.mpf(float(value))
    return mpmath.mpmathify(sp.N(value, DPS + 10))


def _roots(polynomial, tau: int, gamma_h) -> list:
    coeffs = _coefficients(polynomial, tau, gamma_h)
    if len(coeffs) < 2:
        return []
    return mpmath.polyroots(coeffs, maxsteps=400, extraprec=4 * DPS)


def spectral_radii(tau, gamma, h=H_SEED, polynomial=characteristic_polynomial) -> tuple:
    """max |root| of ``polynomial(tau, γ h_i)`` for each curvature h_i (mpmath, 50 digits).

    ``gamma`` may be a float or an exact sympy expression (e.g. :func:`largest_stable_step`).
    """
    tau = _tau(tau)
    _positive_number("gamma (the step size)", gamma)
    hs = _curvatures(h)
    with mpmath.workdps(DPS):
        g = _mp(gamma)
        return tuple(max((abs(r) for r in _roots(polynomial, tau, g * _mp(float(hi)))), default=mpmath.mpf(0))
                     for hi in hs)


def spectral_radius(tau, gamma, h=H_SEED, polynomial=characteristic_polynomial) -> mpmath.mpf:
    """The largest |root| over every coordinate: < 1 iff the delayed GD iteration is stable.

    >>> float(spectral_radius(0, 0.1))
    0.8
    """
    return max(spectral_radii(tau, gamma, h, polynomial))


def _where(r) -> str:
    """'inside', 'outside' or 'on' the unit circle, with the 50-digit tolerance :data:`CIRCLE_TOL`."""
    with mpmath.workdps(DPS):
        d = mpmath.mpf(r) - 1
        return "inside" if d < -CIRCLE_TOL else "outside" if d > CIRCLE_TOL else "on"


def _show_radius(r) -> str:
    """|z| to 8 digits, or as 1 ± δ when it is that close to the circle."""
    with mpmath.workdps(DPS):
        d = mpmath.mpf(r) - 1
        if d == 0 or abs(d) >= mpmath.mpf("1e-6"):
            return mpmath.nstr(r, 8)
        return f"1 {'+' if d > 0 else '−'} {mpmath.nstr(abs(d), 2)}"


def _taus(budget: str, taus) -> list[int]:
    check_budget(budget)
    return list(range(MAX_TAU[budget] + 1)) if taus is None else [_tau(t) for t in taus]


def _steps(budget: str, steps) -> int:
    steps = STEPS[budget] if steps is None else steps
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 200:
        raise InputError(f"steps must be an integer >= 200, got {steps!r}")
    return int(steps)


def _show_range(taus: list[int]) -> str:
    return f"τ = {taus[0]}..{taus[-1]}" if taus == list(range(taus[0], taus[-1] + 1)) and len(taus) > 1 \
        else "τ ∈ {" + ", ".join(map(str, taus)) + "}"


# --------------------------------------------------------------------------------------
# (a) symbolic: the characteristic polynomial
# --------------------------------------------------------------------------------------


def companion_matrix(tau: int, gamma_h) -> sp.Matrix:
    """A with (u_{k+1}, ..., u_{k+1−τ}) = A (u_k, ..., u_{k−τ}): first row 1, 0, ..., 0, −γh."""
    tau = _tau(tau)
    n = tau + 1
    A = sp.zeros(n, n)
    A[0, 0] += 1
    A[0, tau] += -gamma_h
    for i in range(1, n):
        A[i, i - 1] = 1
    return A


def check_characteristic_polynomial(budget: str, polynomial=characteristic_polynomial,
                                    taus=None) -> tuple[bool, str]:
    """``polynomial(τ, γh)`` = det(zI − A) = z^{τ+1} − z^τ + γh for every τ checked."""
    taus = _taus(budget, taus)
    bad = []
    for tau in taus:
        p = sp.expand(_as_expr(polynomial(tau, GH)))
        A = companion_matrix(tau, GH)
        det = sp.expand((Z * sp.eye(tau + 1) - A).det(method="berkowitz"))
        stated = Z ** (tau + 1) - Z ** tau + GH
        if sp.expand(p - det) != 0 or sp.expand(p - stated) != 0:
            bad.append(f"τ = {tau}: the polynomial is {p}, det(zI − A) = {det}, stated {stated}")
    shown = SEED_TAU if SEED_TAU in taus else taus[-1]
    if bad:
        return False, (f"{len(bad)} of {len(taus)} delays disagree: " + "; ".join(bad[:3])
                       + ("; ..." if len(bad) > 3 else ""))
    return True, (f"for {_show_range(taus)}, substituting u_k = z^k into u_(k+1) = u_k − γh u_(k−τ) and "
                  f"dividing by z^(k−τ) gives p(z) = z^(τ+1) − z^τ + γh, equal to det(zI − A) of the "
                  f"(τ+1)×(τ+1) companion matrix: every difference expands to 0; e.g. τ = {shown}: "
                  f"{sp.expand(_as_expr(polynomial(shown, GH)))}")


# --------------------------------------------------------------------------------------
# (b) symbolic: the largest stable step
# --------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def derived_threshold() -> tuple[sp.Expr, sp.Expr]:
    """(θ(τ), γh*(τ)) derived with sympy, τ a symbol: the first root on the circle and its γh.

    On z = e^{iθ}, z^τ(z − 1) = 2 sin(θ/2) e^{i(τθ + θ/2 + π/2)} (checked); = −γh = γh e^{iπ}
    needs γh = 2 sin(θ/2) and τθ + θ/2 + π/2 = π (the smallest θ > 0: the m = 0 branch).
    """
    th = sp.Symbol("theta", positive=True)
    tau = sp.Symbol("tau", integer=True, nonnegative=True)
    z = sp.exp(sp.I * th)
    polar = 2 * sp.sin(th / 2) * sp.exp(sp.I * (tau * th + th / 2 + sp.pi / 2))
    if sp.simplify((z ** tau * (z - 1) - polar).rewrite(sp.exp)) != 0:
        raise AssertionError("z^τ(z − 1) = 2 sin(θ/2) e^{i(τθ + θ/2 + π/2)} did not simplify to 0")
    (theta,) = sp.solve(sp.Eq(tau * th + th / 2 + sp.pi / 2, sp.pi), th)
    return theta, 2 * sp.sin(theta / 2)


def _numpy_radius(polynomial, tau: int, gamma_h: float) -> float:
    """max |root| in double precision (numpy.roots), for checks away from the threshold."""
    coeffs = [complex(c) for c in _coefficients(polynomial, tau, mpmath.mpf(gamma_h))]
    r = np.roots(coeffs) if len(coeffs) >= 2 else np.zeros(0)
    return float(np.max(np.abs(r))) if r.size else 0.0


def _seed_setup(h, L) -> list[float]:
    hs = _curvatures(h).tolist()
    if _positive_number("L (the largest curvature)", L) != max(hs):
        raise InputError(f"L must be the largest curvature max(h) = {max(hs):g}, got {L!r}")
    return hs


def _problems(bad: list[str]) -> str:
    return f"{len(bad)} problem(s): " + "; ".join(bad[:3]) + ("; ..." if len(bad) > 3 else "")


def check_largest_stable_step(budget: str, step=largest_stable_step, polynomial=characteristic_polynomial,
                              taus=None, L=L_SEED, h=H_SEED) -> tuple[bool, str]:
    """L·``step(τ, L)`` = the derived 2 sin(π/(2(2τ+1))); e^{iπ/(2τ+1)} is a root of ``polynomial``
    there, crossing outward; all roots inside at γ*(1 − 10⁻⁶), one outside at γ*(1 + 10⁻⁶)."""
    taus = _taus(budget, taus)
    hs = _seed_setup(h, L)
    theta_tau, gh_tau = derived_threshold()
    (tau_sym,) = theta_tau.free_symbols
    head = (f"γ*(τ) = (2/L) sin(π/(2(2τ+1))), L = {L}, for {_show_range(taus)}: derived from z = e^(iθ), "
            f"γh = |z − 1| = 2 sin(θ/2), τθ + θ/2 + π/2 = π ⇒ θ = {theta_tau}")
    bad, rows, below, above = [], [], [], []
    eps = sp.Rational(repr(MARGIN))
    for tau in taus:
        claimed = sp.sympify(step(tau, L))
        theta, derived = theta_tau.subs(tau_sym, tau), gh_tau.subs(tau_sym, tau)
        with mpmath.workdps(DPS):
            g = _mp(claimed * L)
            if sp.simplify(claimed * L - derived) != 0 or abs(g - _mp(derived)) > mpmath.mpf("1e-40"):
                bad.append(f"τ = {tau}: L·step = {sp.simplify(claimed * L)} ≈ {mpmath.nstr(g, 10)}, but the "
                           f"derived 2 sin(θ/2) = {derived} ≈ {float(derived):.10g}")
                continue
            try:
                z = mpmath.expj(_mp(theta))                        # e^(iπ/(2τ+1))
                residual = abs(mpmath.polyval(_coefficients(polynomial, tau, g), z))
                if residual > mpmath.mpf("1e-40"):
                    bad.append(f"τ = {tau}: |p(e^(iπ/{2 * tau + 1}))| = {mpmath.nstr(residual, 3)} at "
                               f"γh = L·γ* (not a root)")
                    continue
                fns = _lambdified(polynomial, tau)
                # d|z|²/dγh = 2 Re(conj(z) dz/dγh), with dz/dγh = −(∂p/∂γh)/(∂p/∂z)
                speed = 2 * mpmath.re(mpmath.conj(z) * (-fns.dg(z, g) / fns.dz(z, g)))
                lo = spectral_radii(tau, claimed * (1 - eps), hs, polynomial)
                hi = spectral_radii(tau, claimed * (1 + eps), hs, polynomial)
                grid_lo = {f: max(_numpy_radius(polynomial, tau, float(claimed) * f * v) for v in hs)
                           for f in (0.05, 0.2, 0.4, 0.6, 0.8, 0.95)}
                grid_hi = {f: max(_numpy_radius(polynomial, tau, float(claimed) * f * v) for v in hs)
                           for f in (1.05, 1.5, 3.0)}
            except _NotPolynomial as e:
                bad.append(f"τ = {tau}: {e}")
                continue
            below.append(max(lo) - 1)
            above.append(max(hi) - 1)
            if not speed > 0:
                bad.append(f"τ = {tau}: e^(±iπ/{2 * tau + 1}) does not cross outward (d|z|²/dγh = "
                           f"{mpmath.nstr(speed, 3)})")
            if not all(_where(r) == "inside" for r in lo):
                bad.append(f"τ = {tau}: at γ*(1 − 1e-6) max|z| per coordinate = "
                           + ", ".join(_show_radius(r) for r in lo) + " (not all strictly inside)")
            if _where(max(hi)) != "outside":
                bad.append(f"τ = {tau}: at γ*(1 + 1e-6) max|z| per coordinate = "
                           + ", ".join(_show_radius(r) for r in hi) + " (none outside)")
            elif _where(hi[hs.index(max(hs))]) != "outside":
                bad.append(f"τ = {tau}: at γ*(1 + 1e-6) the coordinate h = {max(hs):g} is still stable")
        bad += [f"τ = {tau}: at {f}·γ* the spectral radius is {r:.9f}, not < 1"
                for f, r in grid_lo.items() if not r < 1 - 1e-9]
        bad += [f"τ = {tau}: at {f}·γ* the spectral radius is {r:.9f}, not > 1"
                for f, r in grid_hi.items() if not r > 1 + 1e-9]
        rows.append(f"τ = {tau}: {claimed} = {float(claimed):.7g}")
    if bad:
        return False, head + "; " + _problems(bad)
    return True, (head + "; L·step equals the derived 2 sin(θ/2) (simplify and 50 digits), e^(iθ) is a root of p "
                  f"at γh = L·γ* (|p| < 1e-40) crossing outward; max|z| − 1 over both coordinates at "
                  f"γ*(1 − 1e-6): [{mpmath.nstr(min(below), 3)}, {mpmath.nstr(max(below), 3)}], at γ*(1 + 1e-6): "
                  f"[{mpmath.nstr(min(above), 3)}, {mpmath.nstr(max(above), 3)}] (h = {max(hs):g} binds); "
                  f"stable at 0.05..0.95·γ*, unstable at 1.05..3·γ*; table: " + "; ".join(rows))


# --------------------------------------------------------------------------------------
# (c) the recurrence in float64
# --------------------------------------------------------------------------------------


def envelope_rate(norms: np.ndarray, window: int) -> float:
    """(M_K / M_{K/2})^{1/(K − K/2)}, M_k = max ‖x_j‖ over j in [k − window, k]: the growth rate.

    The maxima over a window longer than the oscillation's period follow the envelope
    ρ^k of the dominant (possibly complex) mode, so the ratio measures ρ.
    """
    K = len(norms) - 1
    k1 = K // 2
    m1 = float(np.max(norms[max(k1 - window, 0):k1 + 1]))
    m2 = float(np.max(norms[max(K - window, 0):K + 1]))
    if not (m1 > 0 and m2 > 0 and math.isfinite(m1) and math.isfinite(m2)):
        return math.nan
    return math.exp((math.log(m2) - math.log(m1)) / (K - k1))


def norms_of(xs: np.ndarray) -> np.ndarray:
    """‖x_k‖_2 of each row, scaled so that neither 1e-200 nor 1e200 under- or overflows when squared."""
    a = np.abs(np.asarray(xs, dtype=np.float64))
    m = a.max(axis=1)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        scaled = np.where(m[:, None] > 0, a / np.where(m > 0, m, 1.0)[:, None], 0.0)
        out = m * np.sqrt((scaled ** 2).sum(axis=1))
    return np.where(np.isinf(m), np.inf, out)


def _run(iterate, gamma, tau, steps, h, x0) -> tuple[np.ndarray, float]:
    xs = np.asarray(iterate(gamma, tau, steps, h, x0), dtype=np.float64)
    if xs.shape != (steps + 1, len(h)):
        raise AssertionError(f"iterate returned shape {xs.shape}, expected {(steps + 1, len(h))}")
    norms = norms_of(xs)
    return norms, float(norms[0])


def check_iterates(budget: str, step=largest_stable_step, polynomial=characteristic_polynomial, iterate=delayed_gd,
                   taus=None, steps=None, factors=(0.9, 1.1), L=L_SEED, h=H_SEED, x0=X0_SEED) -> tuple[bool, str]:
    """x_k from x_0 = (1, 1): ‖x_K‖ < 1e-3‖x_0‖ at 0.9γ*, max ‖x_k‖ > 1e3‖x_0‖ at 1.1γ*, and the
    measured rate of each run within :data:`RATE_TOL` of the spectral radius of ``polynomial``."""
    taus = _taus(budget, taus)
    steps = _steps(budget, steps)
    hs = _seed_setup(h, L)
    lo_f, hi_f = factors
    if not (0 < lo_f < 1 < hi_f):
        raise InputError(f"factors must be (below 1, above 1), got {factors!r}")
    bad, parts, worst = [], [], 0.0
    for tau in taus:
        gstar = float(sp.sympify(step(tau, L)))
        if not (math.isfinite(gstar) and gstar > 0):
            bad.append(f"τ = {tau}: step = {gstar}, not a positive number")
            continue
        seen = []
        for f in (lo_f, hi_f):
            gamma = f * gstar
            norms, n0 = _run(iterate, gamma, tau, steps, hs, x0)
            rate = envelope_rate(norms, 2 * (2 * tau + 1) + 10)
            try:
                rho = float(spectral_radius(tau, gamma, hs, polynomial))
            except _NotPolynomial as e:
                bad.append(f"τ = {tau}: {e}")
                break
            err = abs(rate - rho) if math.isfinite(rate) else math.inf
            worst = max(worst, err)
            if f < 1:
                ok, what = bool(norms[-1] < CONVERGED * n0), f"‖x_{steps}‖/‖x_0‖ = {norms[-1] / n0:.1e}"
            else:
                past = np.flatnonzero(norms > DIVERGED * n0)
                ok = past.size > 0
                what = (f"‖x_k‖ > 1e3‖x_0‖ from k = {past[0]}" if ok
                        else f"max ‖x_k‖/‖x_0‖ = {np.nanmax(norms) / n0:.3g}")
            if not ok:
                bad.append(f"τ = {tau}: at {f:g}·γ* = {gamma:.6g} the run does not "
                           + ("converge" if f < 1 else "diverge") + f" in {steps} steps ({what})")
            if not err <= RATE_TOL:
                bad.append(f"τ = {tau}, {f:g}·γ*: measured rate {rate:.5f} vs spectral radius of the polynomial "
                           f"{rho:.5f}")
            seen.append(f"{f:g}γ*: {what}, rate {rate:.4f} vs ρ {rho:.4f}")
        if tau in (0, SEED_TAU, taus[-1]) and len(seen) == 2:
            parts.append(f"τ = {tau} ({seen[0]}; {seen[1]})")
    head = (f"x_(k+1) = x_k − γ ∇f(x_(k−τ)) on x² + 5y² from x_0 = {tuple(x0)}, {steps} float64 steps, "
            f"{_show_range(taus)}, at {lo_f:g}γ*(τ) and {hi_f:g}γ*(τ)")
    if bad:
        return False, head + "; " + _problems(bad)
    return True, (head + f": every run at {lo_f:g}γ* converges (‖x_K‖ < 1e-3‖x_0‖) and every run at {hi_f:g}γ* "
                  f"diverges (‖x_k‖ > 1e3‖x_0‖), each at the rate of the largest root (max |rate − ρ| = "
                  f"{worst:.1e} <= {RATE_TOL:g}); e.g. " + "; ".join(parts))


# --------------------------------------------------------------------------------------
# (d) the seed's picture: a step that is safe without delay diverges with delay 5
# --------------------------------------------------------------------------------------


def check_seed_picture(budget: str, step=largest_stable_step, polynomial=characteristic_polynomial,
                       iterate=delayed_gd, gamma=SEED_GAMMA, tau=SEED_TAU, steps=None, L=L_SEED, h=H_SEED,
                       x0=X0_SEED) -> tuple[bool, str]:
    """γ = 0.1 (< γ*(0) = 0.2) is stable at τ = 0 and diverges at τ = 5 (> γ*(5)): by the formula,
    by the roots (and the formula's γ* is where the roots leave the disc), and by the iterates."""
    check_budget(budget)
    steps = _steps(budget, steps)
    hs = _seed_setup(h, L)
    gamma = _positive_number("gamma (the step size)", gamma)
    tau = _tau(tau)
    if tau == 0:
        raise InputError("tau must be >= 1: the picture compares delay tau with no delay")
    bad = []
    g0, gt = sp.sympify(step(0, L)), sp.sympify(step(tau, L))
    if not float(gt) < gamma < float(g0):
        bad.append(f"the formula does not put γ = {gamma:g} between γ*({tau}) = {float(gt):.6g} and "
                   f"γ*(0) = {float(g0):.6g}")
    eps = sp.Rational(repr(MARGIN))
    try:
        for t, g in ((0, g0), (tau, gt)):
            lo = _where(spectral_radius(t, g * (1 - eps), hs, polynomial))
            hi = _where(spectral_radius(t, g * (1 + eps), hs, polynomial))
            if (lo, hi) != ("inside", "outside"):
                bad.append(f"the formula's γ*({t}) = {float(g):.7g} is not where the roots leave the disc: "
                           f"{lo} at γ*(1 − 1e-6), {hi} at γ*(1 + 1e-6)")
        r0, rt = spectral_radius(0, gamma, hs, polynomial), spectral_radius(tau, gamma, hs, polynomial)
    except _NotPolynomial as e:
        return False, f"{e}"
    if _where(r0) != "inside":
        bad.append(f"the roots at τ = 0, γ = {gamma:g}: max|z| = {_show_radius(r0)} ({_where(r0)}), not inside")
    if _where(rt) != "outside":
        bad.append(f"the roots at τ = {tau}, γ = {gamma:g}: max|z| = {_show_radius(rt)} ({_where(rt)}), "
                   "not outside")
    n0s, n0 = _run(iterate, gamma, 0, steps, hs, x0)
    nts, _ = _run(iterate, gamma, tau, steps, hs, x0)
    past = np.flatnonzero(nts > DIVERGED * n0)
    if not n0s[-1] < CONVERGED * n0:
        bad.append(f"the iterates at τ = 0 do not converge: ‖x_{steps}‖/‖x_0‖ = {n0s[-1] / n0:.3g}")
    if past.size == 0:
        bad.append(f"the iterates at τ = {tau} do not diverge: max ‖x_k‖/‖x_0‖ = {np.nanmax(nts) / n0:.3g}")
    # the measured rates against the polynomial's roots (as in the property check)
    for t, norms, r in ((0, n0s, r0), (tau, nts, rt)):
        rate = envelope_rate(norms, 2 * (2 * t + 1) + 10)
        if not abs(rate - float(r)) <= RATE_TOL:
            bad.append(f"τ = {t}: the iterates' rate {rate:.5f} is not the roots' {float(r):.5f}")
    head = f"seed 004's picture, γ = {gamma:g} on x² + 5y² from {tuple(x0)}, no delay vs delay {tau}"
    if bad:
        return False, head + ": " + _problems(bad)
    first = next((t for t in range(1, tau + 1) if float(step(t, L)) < gamma), None)
    return True, (f"{head}: τ = 0: γ < γ*(0) = {g0} = {float(g0):.4g}, roots max|z| = {mpmath.nstr(r0, 6)} "
                  f"(inside), ‖x_{steps}‖/‖x_0‖ = {n0s[-1] / n0:.1e}; τ = {tau}: γ = {gamma / float(gt):.3g}·γ*({tau}) "
                  f"with γ*({tau}) = {gt} = {float(gt):.5g}, roots max|z| = {mpmath.nstr(rt, 6)} (outside), "
                  f"‖x_k‖ > 1e3‖x_0‖ from k = {past[0]}, ‖x_{steps}‖/‖x_0‖ = {nts[-1] / n0:.1e}; both thresholds are "
                  f"where the roots leave the disc; the stable step shrinks {float(g0 / gt):.3g}-fold from τ = 0 to "
                  f"τ = {tau}; γ*(1) = {step(1, L)}, and γ = {gamma:g} > γ*(τ) from τ = {first} on")


def check_adversary_search(budget: str, gamma=0.1, tau=5, directory="failures", iterations=80) -> tuple[bool, str]:
    """The engine's adversary finds a schedule with delays <= τ on which γ diverges; it is saved and replays.

    Pure asynchronous SGD (seed 001, Table 1) with n = τ + 1 workers on the quadratic
    with m = n identical samples (σ = 0, so every worker's gradient is exactly ∇f):
    its update is x_(t+1) = x_t − γ ∇f(x_(t−τ_t)), the delayed recurrence with the
    delays the schedule makes.  Hypothesis's adversary searches the schedules for one
    whose delays stay <= τ and on which ||x_T|| grows past 1e3 ||x_0||; the shrunk
    schedule is written to ``directory`` before the search ends, replayed, and
    re-measured.  With one worker (delay 0) the same γ converges.
    """
    from pathlib import Path

    from hypothesis import given, strategies as st

    from ....reference.adversaries import HypothesisAdversary
    from ....reference.parameter_server.asgrad import AsGradReceived
    from ....reference.schedule import load_schedule, replay, run_algorithm
    from ...registry import hypothesis_settings

    check_budget(budget)
    _tau(tau)
    gamma = _positive_number("gamma", gamma)
    n = tau + 1
    problem = {"name": "quadratic", "params": {"m": n, "sigma": 0.0}}
    params = {"gamma": gamma, "T": iterations, "n": n}
    path = Path(directory) / f"delayed-gd-quadratic-delay{tau}.json"
    found: list = []

    def measure(trace):
        xs = trace.records("x", 0)
        taus = [r.tau for r in trace.records(AsGradReceived)]
        return float(np.linalg.norm(xs[-1])) / float(np.linalg.norm(X0_SEED)), max(taus)

    @hypothesis_settings(budget, max_examples=40)
    @given(st.data())
    def search(data):
        res = run_algorithm("pure-async-sgd", problem=problem, params=params, seed=0,
                            adversary=HypothesisAdversary(data))
        growth, worst = measure(res.trace)
        if worst <= tau and growth > 1e3:
            res.schedule.save(path)            # on disk before the failure is reported
            found.append((growth, worst))
            raise AssertionError(f"diverged: growth {growth:.3g} with delays <= {worst}")

    try:
        search()
    except AssertionError:
        pass
    if not found:
        return False, f"no schedule with delays <= {tau} made γ = {gamma} diverge in the search"
    rep = replay(load_schedule(path))
    growth, worst = measure(rep.trace)
    one = run_algorithm("pure-async-sgd", problem={"name": "quadratic", "params": {"m": 1}},
                        params={**params, "n": 1}, seed=0)
    calm, _ = measure(one.trace)
    stable0 = gamma < float(largest_stable_step(0))
    ok = rep.reproduced and worst == tau and growth > 1e3 and calm < 1e-3 and stable0
    return ok, (f"γ = {gamma} (< γ*(0) = {float(largest_stable_step(0)):.3g}): with one worker (delay 0) "
                f"||x_{iterations}||/||x_0|| = {calm:.3g}; Hypothesis's adversary found a schedule of "
                f"{len(rep.trace.events)} events with max delay {worst} on which it is {growth:.3g}; "
                f"saved to {path}, replay: {'reproduced' if rep.reproduced else 'NOT reproduced'} "
                f"(asyncproof replay {path})")


def check_engine_holds_delay(budget: str, gamma=0.1, tau=5, directory="failures", iterations=None,
                             recurrence=delayed_gd) -> tuple[bool, str]:
    """Pure asynchronous SGD in the engine, held at delay τ: the slides' picture as a real run.

    With n = τ + 1 workers sharing seed 004's x² + 5y² (m = n identical samples, so every
    gradient is exactly ∇f) and the FIFO schedule (the round-robin adversary: the oldest job
    finishes first), every received gradient after the first τ has delay exactly τ, and the
    first ones were computed at x_0: the run *is* the recurrence x_(t+1) = x_t − γ ∇f(x_(t−τ))
    with x_j = x_0 for j < 0.  Its iterates are compared with :func:`delayed_gd` (computed here
    without the engine) to the last bit; at γ = 0.1 both grow past 1e6 ||x_0||, the schedule
    is saved, and replaying it in the engine reproduces the run's digest.
    """
    from pathlib import Path

    from ....reference.parameter_server.asgrad import AsGradReceived
    from ....reference.schedule import load_schedule, replay, run_algorithm

    check_budget(budget)
    tau = _tau(tau)
    gamma = _positive_number("gamma", gamma)
    T = iterations or {"quick": 120, "ci": 160, "deep": 300}[budget]
    n = tau + 1
    res = run_algorithm("pure-async-sgd", problem={"name": "quadratic", "params": {"m": n, "sigma": 0.0}},
                        params={"gamma": gamma, "T": T, "n": n}, seed=0, adversary="roundrobin")
    delays = [r.tau for r in res.trace.records(AsGradReceived)]
    held = delays == [min(t, tau) for t in range(T)]
    xs = np.array([X0_SEED] + list(res.trace.records("x", 0)))
    want = recurrence(gamma, tau, T)
    same = xs.shape == want.shape and xs.tobytes() == want.tobytes()
    growth = float(np.linalg.norm(xs[-1])) / float(np.linalg.norm(X0_SEED))
    path = Path(directory) / f"delayed-gd-quadratic-held-delay{tau}.json"
    res.schedule.save(path)
    rep = replay(load_schedule(path))
    bad = []
    if not held:
        bad.append(f"the delays were {delays[:12]}..., not min(t, {tau})")
    if not same:
        k = next((i for i in range(min(len(xs), len(want))) if xs[i].tobytes() != want[i].tobytes()), None)
        bad.append(f"the engine's x_{k} = {xs[k] if k is not None else '?'} differs from the recurrence's "
                   f"{want[k] if k is not None else '?'}")
    if not growth > 1e6:
        bad.append(f"||x_{T}||/||x_0|| = {growth:.3g}: no divergence")
    if not rep.reproduced:
        bad.append(f"the saved schedule does not replay: {rep.report()}")
    detail = (f"pure-async-sgd, n = {n}, FIFO schedule: delays min(t, {tau}) at all {T} receipts; iterates equal the "
              f"recurrence with τ = {tau} bit for bit; γ = {gamma}: ||x_{T}||/||x_0|| = {growth:.3g}; saved to {path}, "
              f"replay {'reproduced' if rep.reproduced else 'NOT reproduced'} (asyncproof replay {path})")
    return (not bad), detail + ("; " + "; ".join(bad) if bad else "")


CLAIM = register(Claim(
    id="delayed-gd-quadratic",
    source="004_5e02a306927ced0b.txt, slides \"Asynchronous SGD can get wild: delays can degrade performance\" "
           "(\"Gradient Descent iterations\", \"Delay = 5\")",
    statement=("Gradient descent with a constant delay τ, x_(k+1) = x_k − γ ∇f(x_(k−τ)) (x_j = x_0 for j < 0), on "
               "the slides' f(x, y) = x² + 5y² converges for every start iff 0 < γ < γ*(τ) = (2/L) sin(π/(2(2τ+1))), "
               "L = 10: each coordinate u_(k+1) = u_k − γh u_(k−τ) (h = 2, 10) has characteristic polynomial "
               "z^(τ+1) − z^τ + γh, whose first root to reach the unit circle is e^(iπ/(2τ+1)) at γh = "
               "2 sin(π/(2(2τ+1))). γ*(0) = 2/L = 0.2, γ*(5) = 0.2 sin(π/22) ≈ 0.0285, γ*(τ) ≈ π/(L(2τ+1)): "
               "so a step that is safe without delay (γ = 0.1) diverges with the slide's delay 5 (reading: "
               "the slides' pictures have no numbers; 'Delay = 5' is read as a constant delay τ = 5)."),
    checks=[
        Check("characteristic-polynomial", "symbolic", check_characteristic_polynomial),
        Check("largest-stable-step", "symbolic", check_largest_stable_step),
        Check("iterates-at-0.9-and-1.1", "property", check_iterates),
        Check("seed-delay-5", "counterexample", check_seed_picture),
        Check("adversary-finds-delay-5-divergence", "counterexample", check_adversary_search),
        Check("engine-held-at-delay-5", "counterexample", check_engine_holds_delay),
    ],
))
