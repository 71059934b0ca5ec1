"""Logistic regression with a nonconvex regulariser: seed 001 (001_c6590ddcd2705154.txt), AsGrad
poster, "Experiments", on w7a (Figure 1: ``lambda = 0.1, d = 300, m = 2505``)::

    f_j(x)      = log(1 + exp(-y_j a_j^T x)) + lambda sum_i x_i^2/(1+x_i^2),     y_j in {-1, +1}
    grad f_j(x) = -y_j s(-y_j a_j^T x) a_j + 2 lambda (x_i/(1+x_i^2)^2)_i,     s(t) = 1/(1+exp(-t))

The poster's text breaks off before the regulariser; the design notes give it as
``lambda sum_i x_i^2/(1+x_i^2)``.  ``L = lambda_max(A^T A)/(4m) + 2 lambda`` (derived in
:class:`Logistic`); ``mu = None``: the regulariser is nonconvex.

The data: synthetic rows with a fraction ``density`` of Gaussian nonzeros and a planted linear
model (:func:`~asyncproof.reference.data.logistic_data`); a LIBSVM file (``path=FILE``: w7a
itself); or ``generator="w7a-like"``: :func:`~asyncproof.reference.data.w7a_like`, a synthetic
stand-in with w7a's shape (binary features, 11.6 nonzeros per row of 300 on average, 3% of the
labels +1), on which the experiments ``asgrad-figure1`` and ``heterogeneous-compute`` run.
"""

from __future__ import annotations

import math
import os

import numpy as np

from .. import kernels as K
from ..data import binary_labels, file_digest, load_libsvm, logistic_data, w7a_like
from ..errors import InputError
from ..params import Param
from .base import (_MAX_ENTRIES, _SEED, Kernels, Problem, ProblemKind, _arr, _float_array, _float_param, _gram_eigs,
                   _int_param, _labels, _lam, _params, register)


class Logistic(Problem):
    """``f_j(x) = log(1 + exp(-y_j a_j^T x)) + lam sum_i x_i^2 / (1 + x_i^2)``, ``y_j`` in {-1, +1}.

    Smoothness, ``L = lambda_max(A^T A) / (4m) + 2 lam``:

    * loss part: its Hessian is ``(1/m) sum_j s'(t_j) a_j a_j^T`` with the logistic
      function's derivative ``s' = s (1 - s) <= 1/4``, so its norm is at most
      ``lambda_max(A^T A) / (4m)``;
    * regulariser: it is separable, ``r(t) = t^2/(1+t^2) = 1 - 1/(1+t^2)``, with
      ``r'(t) = 2t/(1+t^2)^2`` and ``r''(t) = (2 - 6t^2)/(1+t^2)^3``.  With ``s = t^2``,
      ``h(s) = (2 - 6s)/(1+s)^3`` has ``h'(s) = 12(s - 1)/(1+s)^4``: it falls from
      ``h(0) = 2`` to its minimum ``h(1) = -1/2`` and then rises toward 0, so
      ``|r''| <= 2`` and the regulariser's Hessian (diagonal) has norm ``<= 2 lam``
      (checked with sympy in ``tests/test_problems.py``).

    ``mu = None``: the regulariser is nonconvex.  ``x0 = 0``.

    >>> p = Logistic([[1.0, 0.0]], [1.0], lam=0.0)
    >>> round(p.value([0.0, 0.0]), 12) == round(math.log(2.0), 12)
    True
    """

    name = "logistic"
    kernels = Kernels(K.logreg_sample_value, K.logreg_sample_grad, K.logreg_batch_value, K.logreg_batch_grad)

    def __init__(self, A, y, lam: float = 0.1):
        A = _float_array(A, "A", 2)
        m, d = A.shape
        y = _labels(y, "y", m, "A")
        lam = _lam(lam)
        L = float(_gram_eigs(A)[-1]) / (4 * m) + 2 * lam
        self._setup((A, y, lam), d, m, np.zeros(d), L=L, mu=None, sigma=None)

    @classmethod
    def from_libsvm(cls, path, lam: float = 0.1) -> "Logistic":
        """Load a LIBSVM file (labels mapped to -1/+1 by :func:`~asyncproof.reference.data.binary_labels`), stored dense."""
        f = load_libsvm(path)
        prob = cls(f.dense(), binary_labels(f.labels, os.fspath(path)), lam)
        prob._spec_params = {"path": os.fspath(path), "lam": prob.arrays[2], "sha256": file_digest(path)}
        return prob

    def _restrict(self, idx):
        A, y, lam = self.arrays
        return Logistic(A[idx], y[idx], lam)

    def _array_params(self):
        A, y, lam = self.arrays
        return {"A": A.tolist(), "y": y.tolist(), "lam": lam}


_LAM = _float_param("lam", 0.1, "regularisation weight lambda")

PARAMS = _params(_SEED, _int_param("m", 40, 1, "number of samples"), _int_param("d", 5, 1, "dimension"),
                 _float_param("density", 1.0, "fraction of nonzero features", lambda v: 0 < v <= 1, "in (0, 1]"),
                 _LAM)

ARRAY_PARAMS = _params(_arr("A", "m x d matrix"), _arr("y", "m labels in {-1, +1}"), _LAM)

#: w7a's shape by default (seed 001, Figure 1: m = 2505, d = 300, lam = 0.1)
W7A_PARAMS = _params(
    Param("seed", int, 0, "seed of the synthetic data", lo=0, hi=2 ** 63 - 1),
    Param("m", int, 2505, "number of samples", lo=1, hi=_MAX_ENTRIES),
    Param("d", int, 300, "number of binary features", lo=1, hi=math.isqrt(_MAX_ENTRIES)),
    Param("nnz", float, None, "nonzeros per row on average (default 11.6 d/300, w7a's density)",
          lo=0.0, hi=float(_MAX_ENTRIES), lo_open=True),
    Param("positive", float, 0.03, "fraction of rows labelled +1 (at least one)", lo=0.0, hi=1.0),
    Param("lam", float, 0.1, "regularisation weight lambda", lo=0.0, hi=1e6))


def build(seed, m, d, density, lam):
    A, y = logistic_data(m, d, density, seed)
    return Logistic(A, y, lam), {"seed": seed, "m": m, "d": d, "density": density, "lam": lam}


def build_w7a_like(seed, m, d, nnz, positive, lam):
    if m * d > _MAX_ENTRIES:
        raise InputError(f"logistic generator 'w7a-like': m = {m} samples of d = {d} features make {m * d} entries, "
                         f"more than the limit {_MAX_ENTRIES}")
    if nnz is None:
        nnz = 11.6 * d / 300                 # w7a's 11.6 nonzeros per row of 300 features
    if nnz > 0.9 * d:
        raise InputError(f"logistic generator 'w7a-like': nnz = {nnz:g} nonzeros per row do not fit in d = {d} "
                         f"features, each on in at most 90% of the rows (need nnz <= {0.9 * d:g})")
    A, y = w7a_like(m=m, d=d, nnz=nnz, positive=positive, seed=seed)
    return Logistic(A, y, lam), {"seed": seed, "m": m, "d": d, "nnz": nnz, "positive": positive, "lam": lam}


register(ProblemKind(
    name=Logistic.name,
    help="seed 001: logistic loss + lam sum x_i^2/(1+x_i^2) (nonconvex); params m=40, d=5, density=1, "
         "lam=0.1, seed=0; or path=FILE (LIBSVM), lam; or generator=w7a-like (binary features shaped like "
         "w7a), m=2505, d=300, nnz=11.6 d/300 per row, positive=0.03, lam=0.1, seed=0",
    synthetic=PARAMS, build=build,
    arrays=ARRAY_PARAMS, required=("A", "y"), from_arrays=lambda A, y, lam=0.1: Logistic(A, y, lam),
    from_file=lambda path, lam=0.1: Logistic.from_libsvm(path, lam),
    generators={"w7a-like": (W7A_PARAMS, build_w7a_like)},
    dense_curvature=True))
