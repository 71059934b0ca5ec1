"""The quadratic of seed 004 (004_5e02a306927ced0b.txt), slide "Asynchronous SGD can get wild:
delays can degrade performance": ``f(x, y) = x^2 + 5y^2`` -- the default instance *is* that
function; in general::

    f_j(x)      = 1/2 (x - x*)^T H (x - x*) + <xi_j, x>
    grad f_j(x) = H (x - x*) + xi_j

with ``H`` symmetric: ``L`` is the largest ``|eigenvalue|`` of ``H``, ``mu`` the smallest
eigenvalue when it is > 0, and ``sigma`` is exact, since ``grad f_j - grad f = xi_j - mean(xi)``
does not depend on ``x`` (:class:`Quadratic`).  Built by name: ``H = diag(2 .. 2 cond)``
(geometric; ``d = 2, cond = 5`` is the slide's ``diag(2, 10)`` bit for bit), ``x* = 0``, noise
vectors centred exactly with ``(1/m) sum ||xi_j||^2 = sigma^2``
(:func:`~asyncproof.reference.data.quadratic_noise`), and seed 004's start ``(1, 1)``.
"""

from __future__ import annotations

import math

import numpy as np

from .. import kernels as K
from ..data import quadratic_noise
from ..errors import InputError
from .base import _SEED, Kernels, Problem, ProblemKind, _arr, _float_array, _float_param, _int_param, _params, register


class Quadratic(Problem):
    """``f_j(x) = 1/2 (x - x*)^T H (x - x*) + <xi_j, x>`` with symmetric ``H``.

    ``grad f_j(x) - grad f(x) = xi_j - mean(xi)`` does not depend on ``x``, so ``sigma``
    is known exactly: ``sqrt((1/m) sum_j ||xi_j - mean(xi)||^2)``.  ``L`` is the largest
    ``|eigenvalue|`` of ``H``, ``mu`` the smallest eigenvalue when it is > 0 (else None).
    ``x0`` is all ones: seed 004's start ``(1, 1)``.

    >>> Quadratic([[2.0, 0.0], [0.0, 10.0]]).value([1.0, 2.0])     # 1 + 5 * 4
    21.0
    """

    name = "quadratic"
    kernels = Kernels(K.quad_sample_value, K.quad_sample_grad, K.quad_batch_value, K.quad_batch_grad)

    def __init__(self, H, x_star=None, xi=None):
        H = _float_array(H, "H", 2)
        d = H.shape[0]
        if H.shape != (d, d):
            raise InputError(f"H must be square, got shape {H.shape}")
        asym = np.argwhere(H != H.T)
        if asym.size:
            a, c = (int(v) for v in asym[0])
            raise InputError(f"H is not symmetric: H[{a}, {c}] = {H[a, c]} but H[{c}, {a}] = {H[c, a]}")
        x_star = np.zeros(d) if x_star is None else _float_array(x_star, "x_star", 1)
        if x_star.shape != (d,):
            raise InputError(f"x_star has {x_star.shape[0]} entries but H is {d} x {d}")
        xi = np.zeros((1, d)) if xi is None else _float_array(xi, "xi", 2)
        if xi.shape[1] != d:
            raise InputError(f"xi has {xi.shape[1]} columns but H is {d} x {d}")
        eig = np.linalg.eigvalsh(H)
        mean = np.empty(d)
        K.col_mean(xi, mean)
        self._setup((H, x_star, xi), d, xi.shape[0], np.ones(d),
                    L=float(max(abs(eig[0]), abs(eig[-1]))), mu=float(eig[0]) if eig[0] > 0 else None,
                    sigma=math.sqrt(K.mean_sq_row_dist(xi, mean)))

    def minimizer(self) -> np.ndarray:
        """argmin f = x* − H⁻¹ mean(ξ) (x* exactly when the noise is centred, up to its rounding)."""
        H, x_star, xi = self.arrays
        return x_star - np.linalg.solve(H, xi.mean(axis=0))

    def minibatch_sgd_error(self, batch: int, rates, x1=None) -> list[float]:
        """[E‖x_{t+1} − argmin f‖² for t = 1 .. len(rates)] of sequential mini-batch SGD with ``batch``
        samples per step (uniform, with replacement) and steps ``rates`` (η_1, η_2, ...), exactly.

        The gradient noise ξ_j − mean(ξ) is additive and does not depend on x, so per eigendirection
        h of H: e_{t+1} = (1 − η_t h)² e_t + η_t² σ_h²/batch, σ_h² one sample's noise variance along it
        (seed 000, "Strongly Convex Q": the rate of sequential mini-batch SGD with batch M).

        >>> q = Quadratic(np.diag([2.0]), xi=[[1.0], [-1.0]])
        >>> [round(v, 6) for v in q.minibatch_sgd_error(2, [0.5, 0.25], x1=[0.0])]    # σ² = 1, x1 = x*
        [0.125, 0.0625]
        """
        H, _, xi = self.arrays
        h, Q = np.linalg.eigh(H)
        x1 = self.x0 if x1 is None else np.asarray(x1, dtype=np.float64)
        e = (Q.T @ (x1 - self.minimizer())) ** 2
        noise = np.mean(((xi - xi.mean(axis=0)) @ Q) ** 2, axis=0)
        out = []
        for eta in rates:
            e = (1 - eta * h) ** 2 * e + eta * eta * noise / batch
            out.append(float(e.sum()))
        return out

    def _restrict(self, idx):
        H, x_star, xi = self.arrays
        return Quadratic(H, x_star, xi[idx])

    def _array_params(self):
        H, x_star, xi = self.arrays
        return {"H": H.tolist(), "x_star": x_star.tolist(), "xi": xi.tolist()}


PARAMS = _params(_SEED, _int_param("d", 2, 1, "dimension"),
                 _float_param("cond", None, "condition number of H (>= 1)", lambda v: v >= 1, "finite and >= 1"),
                 _float_param("sigma", 0.0, "gradient noise: (1/m) sum ||xi_j||^2 = sigma^2"),
                 _int_param("m", 1, 1, "number of samples"))

ARRAY_PARAMS = _params(_arr("H", "symmetric d x d matrix"), _arr("x_star", "centre x*"), _arr("xi", "m x d noise"))


def build(seed, d, cond, sigma, m):
    if cond is None:
        cond = 5.0 if d > 1 else 1.0
    if d == 1 and cond != 1.0:
        raise InputError(f"quadratic: cond = {cond} needs d >= 2 (one eigenvalue has condition number 1)")
    if sigma > 0 and m < 2:
        raise InputError(f"quadratic: sigma = {sigma} needs m >= 2 samples (a single centred noise vector is 0)")
    # eigenvalues 2 .. 2 cond, geometric: d = 2, cond = 5 is seed 004's H = diag(2, 10), bit for bit
    h = [2.0 * cond ** (i / (d - 1)) for i in range(d)] if d > 1 else [2.0]
    return Quadratic(np.diag(h), None, quadratic_noise(m, d, sigma, seed)), \
        {"seed": seed, "d": d, "cond": cond, "sigma": sigma, "m": m}


register(ProblemKind(
    name=Quadratic.name,
    help="seed 004's f(x,y) = x^2 + 5y^2 by default; f_j = 1/2 x^T H x + <xi_j, x>, "
         "H = diag(2 .. 2*cond); params d=2, cond=5, sigma=0 (exact gradient noise), m=1, seed=0",
    synthetic=PARAMS, build=build,
    arrays=ARRAY_PARAMS, required=("H",), from_arrays=lambda H, x_star=None, xi=None: Quadratic(H, x_star, xi),
    dense_curvature=True))
