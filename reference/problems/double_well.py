"""The double well: a nonconvex objective with two minima, for seed 000's slide "Non Strongly Convex
Functions Require a Majority" (000_3f5163bcd896752f.txt; Goren, Moses & Spiegelman, DISC 2021)::

    f_j(x)      = (x_1^2 - 1)^2 / 4 + 1/2 sum_{k>=2} x_k^2 + <xi_j, x>
    grad f_j(x) = (x_1 (x_1^2 - 1), x_2, ..., x_d) + xi_j

The slide says only "for some non-convex cost function Q"; this Q is the smallest one where the
statement shows: ``f`` (the mean over j, with ``sum_j xi_j = 0``) has its two minima at
``(±1, 0, ..., 0)`` (:attr:`DoubleWell.minima`) and a saddle at the origin, the start ``x0``.  A
process that leaves the saddle is pushed into one well by the noise of the samples it drew, so
two groups of processes that never hear from each other can end in different wells.

Constants: ``sigma`` is exact, since ``grad f_j - grad f = xi_j - mean(xi)`` does not depend on x
(as for the quadratic, whose centred noise vectors this problem reuses,
:func:`~asyncproof.reference.data.quadratic_noise`).  The quartic is not globally smooth:
``L`` is the smoothness constant on the box ``|x_1| <= 1.5`` where the runs stay (``f''`` of the
first coordinate is ``3 x_1^2 - 1 <= 5.75`` there; the other coordinates have curvature 1), and
``mu`` is None (nonconvex: ``f'' = -1`` at the saddle).

>>> p = make_double_well(sigma=0.0)      # no noise: the minima and the saddle exactly
>>> p.value([1.0, 0.0]), p.value([0.0, 0.0]), p.grad([0.0, 0.0]).tolist()
(0.0, 0.25, [0.0, 0.0])
>>> p.minima.tolist(), p.L, p.mu
([[-1.0, 0.0], [1.0, 0.0]], 5.75, None)
"""

from __future__ import annotations

import math

import numpy as np

from .. import kernels as K
from ..data import quadratic_noise
from ..errors import InputError
from ..kernels import kernel
from .base import _SEED, Kernels, Problem, ProblemKind, _arr, _float_array, _float_param, _int_param, _params, register

#: the box |x_1| <= BOX where L holds
BOX = 1.5


# ------------------------------------------------------------------------------------------
# kernels (reference/kernels.py's conventions: scalar loops in index order, float64, no fastmath)


@kernel
def well_sample_value(xi, j, x):
    a = x[0] * x[0] - 1.0
    q = 0.0
    for k in range(1, x.shape[0]):
        q += x[k] * x[k]
    lin = 0.0
    for k in range(x.shape[0]):
        lin += xi[j, k] * x[k]
    return 0.25 * a * a + 0.5 * q + lin


@kernel
def well_sample_grad(xi, j, x, out):
    out[0] = x[0] * (x[0] * x[0] - 1.0) + xi[j, 0]
    for k in range(1, x.shape[0]):
        out[k] = x[k] + xi[j, k]


@kernel
def well_batch_value(xi, idx, x):
    s = 0.0
    for k in range(idx.shape[0]):
        s += well_sample_value(xi, idx[k], x)
    return s / idx.shape[0]


@kernel
def well_batch_grad(xi, idx, x, out):
    d = x.shape[0]
    g = np.empty(d)
    out[:] = 0.0
    for k in range(idx.shape[0]):
        well_sample_grad(xi, idx[k], x, g)
        for a in range(d):
            out[a] += g[a]
    for a in range(d):
        out[a] = out[a] / idx.shape[0]


class DoubleWell(Problem):
    """``f_j(x) = (x_1^2 - 1)^2/4 + 1/2 sum_{k>=2} x_k^2 + <xi_j, x>``; x0 = 0, the saddle.

    >>> DoubleWell([[0.5, 0.0], [-0.5, 0.0]]).sample_grad([0.0, 1.0], 0).tolist()
    [0.5, 1.0]
    """

    name = "double-well"
    kernels = Kernels(well_sample_value, well_sample_grad, well_batch_value, well_batch_grad)

    def __init__(self, xi):
        xi = _float_array(xi, "xi", 2)
        d = xi.shape[1]
        mean = np.empty(d)
        K.col_mean(xi, mean)
        self._setup((xi,), d, xi.shape[0], np.zeros(d), L=max(3.0 * BOX * BOX - 1.0, 1.0), mu=None,
                    sigma=math.sqrt(K.mean_sq_row_dist(xi, mean)))

    @property
    def minima(self) -> np.ndarray:
        """The two minimisers of f, ``(-1, 0, ...)`` and ``(1, 0, ...)`` (exact for centred noise)."""
        m = np.zeros((2, self.d))
        m[0, 0], m[1, 0] = -1.0, 1.0
        return m

    def well_of(self, x) -> int:
        """-1 or +1: the well whose basin (the sign of x_1) holds ``x``; 0 on the ridge x_1 = 0."""
        return int(np.sign(self.check_x(x)[0]))

    def _restrict(self, idx):
        return DoubleWell(self.arrays[0][idx])

    def _array_params(self):
        return {"xi": self.arrays[0].tolist()}


PARAMS = _params(_SEED, _int_param("d", 2, 1, "dimension (x_1 the double well, the others quadratic)"),
                 _float_param("sigma", 0.3, "gradient noise: (1/m) sum ||xi_j||^2 = sigma^2"),
                 _int_param("m", 8, 1, "number of samples"))


def build(seed, d, sigma, m):
    if sigma > 0 and m < 2:
        raise InputError(f"double-well: sigma = {sigma} needs m >= 2 samples (a single centred noise vector is 0)")
    return DoubleWell(quadratic_noise(m, d, sigma, seed)), {"seed": seed, "d": d, "sigma": sigma, "m": m}


def make_double_well(**params) -> DoubleWell:
    """The problem built by name (``make_problem("double-well", ...)``)."""
    from . import make_problem
    return make_problem("double-well", **params)


register(ProblemKind(
    name=DoubleWell.name,
    help="seed 000's nonconvex Q with two minima (±1, 0, ...) and a saddle at x0 = 0: "
         "f_j = (x_1^2-1)^2/4 + 1/2 sum_{k>=2} x_k^2 + <xi_j, x>; params d=2, sigma=0.3, m=8, seed=0",
    synthetic=PARAMS, build=build,
    arrays=_params(_arr("xi", "m x d noise")), required=("xi",), from_arrays=lambda xi: DoubleWell(xi)))
