"""K-means as a finite sum: seed 003 (003_64bc3d1a200f9b77.txt), Keuper & Pfreundt, "4. Performance"
(K-Means, Figures 1 and 8), over ``x`` = the ``k`` centroids ``w_0 .. w_{k-1}`` in R^p::

    f_j(x)      = 1/2 min_c ||s_j - w_c||^2
    grad f_j(x) = w_c - s_j in the block of the nearest centroid c (ties: the lowest c), 0 elsewhere

Nonconvex and nonsmooth: ``L`` and ``mu`` are None (:class:`KMeans`).  Built by name on Gaussian
blobs (:func:`~asyncproof.reference.data.blobs`), starting at the first ``k`` samples.
"""

from __future__ import annotations

import numpy as np

from .. import kernels as K
from ..data import blobs
from ..errors import InputError
from ..params import Param
from .base import _SEED, Kernels, Problem, ProblemKind, _arr, _float_array, _int_param, _params, _short, register


class KMeans(Problem):
    """``x`` = k centroids ``w_0 .. w_{k-1}`` in R^p, row-major (``d = k p``);
    ``f_j(x) = 1/2 min_c ||s_j - w_c||^2``.

    ``grad f_j`` is ``w_c - s_j`` in the block of the nearest centroid ``c`` and 0 elsewhere;
    ties go to the lowest index (where ``f_j`` is not differentiable, this is one
    element of its Clarke subdifferential).  ``support(j)`` is all ``d`` coordinates: the
    nearest centroid depends on ``x``.  ``x0`` is the first ``k`` samples (the common
    seeding "k samples as initial centroids"; reproducible without drawing), unless
    given.  ``L``, ``mu`` are None.

    >>> p = KMeans([[0.0, 0.0], [4.0, 0.0]], k=2)
    >>> p.x0.tolist(), p.sample_grad([1.0, 0.0, 3.0, 0.0], 1).tolist()
    ([0.0, 0.0, 4.0, 0.0], [0.0, 0.0, -1.0, 0.0])
    """

    name = "kmeans"
    kernels = Kernels(K.kmeans_sample_value, K.kmeans_sample_grad, K.kmeans_batch_value, K.kmeans_batch_grad)

    def __init__(self, S, k: int, x0=None):
        S = _float_array(S, "S", 2)
        m, p = S.shape
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise InputError(f"k (number of centroids) must be a positive integer, got {_short(k)}")
        k = int(k)
        if x0 is None:
            if m < k:
                raise InputError(f"k = {k} centroids start at the first k samples, but there are only m = {m}")
            x0 = S[:k].ravel()
            self._x0_given = False
        else:
            x0 = _float_array(x0, "x0", (1, 2)).ravel()
            if x0.shape != (k * p,):
                raise InputError(f"x0 has {x0.size} entries, expected k * p = {k} * {p} = {k * p}")
            self._x0_given = True
        self.k, self.p = k, p
        self._setup((S, k), k * p, m, x0, L=None, mu=None, sigma=None)

    def _restrict(self, idx):
        return KMeans(self.arrays[0][idx], self.k, x0=self._x0)

    def _array_params(self):
        params = {"S": self.arrays[0].tolist(), "k": self.k}
        if self._x0_given:
            params["x0"] = self._x0.tolist()
        return params


PARAMS = _params(_SEED, _int_param("m", 60, 1, "number of samples"), _int_param("p", 2, 1, "dimension of a sample"),
                 _int_param("k", 3, 1, "number of centroids"))

ARRAY_PARAMS = _params(_arr("S", "m x p samples"), Param("k", int, None, "number of centroids"),
                       _arr("x0", "k x p starting centroids"))


def build(seed, m, p, k):
    if m < k:
        raise InputError(f"kmeans: k = {k} centroids start at the first k samples, but m = {m}")
    return KMeans(blobs(m, p, k, seed), k), {"seed": seed, "m": m, "p": p, "k": k}


register(ProblemKind(
    name=KMeans.name,
    help="seed 003: 1/2 min_c ||s_j - w_c||^2 over k centroids in R^p (x0 = first k samples); "
         "Gaussian blobs; params m=60, p=2, k=3, seed=0",
    synthetic=PARAMS, build=build,
    arrays=ARRAY_PARAMS, required=("S", "k"), from_arrays=lambda S, k, x0=None: KMeans(S, k, x0)))
