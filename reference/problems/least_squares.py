"""Least squares::

    f_j(x)      = 1/2 (a_j^T x - b_j)^2,      so  f = (1/(2m)) ||A x - b||^2
    grad f_j(x) = (a_j^T x - b_j) a_j

``L = lambda_max(A^T A)/m``, ``mu = lambda_min(A^T A)/m`` (None when ``A^T A`` is singular, e.g.
``m < d``); ``f_j`` depends on the nonzeros of ``a_j`` only (:class:`LeastSquares`).  Built by
name on a Gaussian ``A``, a planted ``x`` and ``b = A x + noise N(0, 1)``
(:func:`~asyncproof.reference.data.least_squares_data`), starting at ``x0 = 0``.
"""

from __future__ import annotations

import numpy as np

from .. import kernels as K
from ..data import least_squares_data
from ..errors import InputError
from .base import (_SEED, Kernels, Problem, ProblemKind, _arr, _float_array, _float_param, _gram_eigs, _int_param,
                   _params, register)


def _mu_or_none(lo: float, hi: float) -> float | None:
    # eigvalsh returns ~1e-16 * hi instead of 0 for a singular Gram matrix
    return float(lo) if lo > 1e-10 * max(hi, 0.0) and lo > 0 else None


class LeastSquares(Problem):
    """``f_j(x) = 1/2 (a_j^T x - b_j)^2``; ``L = lambda_max(A^T A)/m``, ``mu = lambda_min(A^T A)/m``
    (None when ``A^T A`` is singular, e.g. ``m < d``); ``x0 = 0``.

    >>> LeastSquares([[1.0, 0.0], [0.0, 2.0]], [1.0, 2.0]).value([0.0, 0.0])   # (1 + 4) / 4
    1.25
    """

    name = "least-squares"
    kernels = Kernels(K.lsq_sample_value, K.lsq_sample_grad, K.lsq_batch_value, K.lsq_batch_grad)

    def __init__(self, A, b):
        A = _float_array(A, "A", 2)
        b = _float_array(b, "b", 1)
        m, d = A.shape
        if b.shape != (m,):
            raise InputError(f"b has {b.shape[0]} entries but A has {m} rows")
        eig = _gram_eigs(A) / m
        self._setup((A, b), d, m, np.zeros(d), L=float(eig[-1]), mu=_mu_or_none(eig[0], eig[-1]), sigma=None)

    def support(self, j):
        return np.flatnonzero(self.arrays[0][self.check_j(j)]).astype(np.int64)

    def _restrict(self, idx):
        A, b = self.arrays
        return LeastSquares(A[idx], b[idx])

    def _array_params(self):
        A, b = self.arrays
        return {"A": A.tolist(), "b": b.tolist()}


PARAMS = _params(_SEED, _int_param("m", 40, 1, "number of samples"), _int_param("d", 5, 1, "dimension"),
                 _float_param("noise", 0.1, "standard deviation of the noise in b"))

ARRAY_PARAMS = _params(_arr("A", "m x d matrix"), _arr("b", "m targets"))


def build(seed, m, d, noise):
    A, b, _ = least_squares_data(m, d, noise, seed)
    return LeastSquares(A, b), {"seed": seed, "m": m, "d": d, "noise": noise}


register(ProblemKind(
    name=LeastSquares.name,
    help="f = 1/(2m) ||Ax - b||^2, Gaussian A, planted x; params m=40, d=5, noise=0.1, seed=0",
    synthetic=PARAMS, build=build,
    arrays=ARRAY_PARAMS, required=("A", "b"), from_arrays=lambda A, b: LeastSquares(A, b),
    dense_curvature=True))
