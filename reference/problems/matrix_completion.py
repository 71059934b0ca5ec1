"""Matrix completion: seed 002 (002_34168ee93540180b.txt), slide "Matrix Completion", ``minimize_(L, R)
sum_((u,v) in E) (L_u R_v^T - M_uv)^2 + mu_u ||L_u||_F^2 + mu_v ||R_v||_F^2``, one sample per
observed entry ``j = (u, v)``::

    f_j(x)               = (L_u . R_v - M_uv)^2 + mu_u ||L_u||^2 + mu_v ||R_v||^2
    grad_(L_u) f_j(x)    = 2 (L_u . R_v - M_uv) R_v + 2 mu_u L_u
    grad_(R_v) f_j(x)    = 2 (L_u . R_v - M_uv) L_u + 2 mu_v R_v      (0 elsewhere)

over ``x = (L, R)``; given one ``mu``, ``mu_u`` and ``mu_v`` are HOGWILD!'s ``mu m / (2 |E_u|)``
(:class:`MatrixCompletion`).  Nonconvex: ``L`` and ``mu`` are None.  Built by name on ``m``
distinct entries of a planted rank-``r`` matrix with Gaussian noise
(:func:`~asyncproof.reference.data.matrix_completion_data`), starting near, not at, the
stationary point ``x = 0``.
"""

from __future__ import annotations

import numpy as np

from .. import kernels as K
from ..data import factor_start, matrix_completion_data
from ..errors import InputError
from ..params import Param
from .base import (_MAX_ENTRIES, _SEED, Kernels, Problem, ProblemKind, _arr, _float_array, _float_param,
                   _index_array, _int_param, _lam, _params, _positive_int, _weights, register)


class MatrixCompletion(Problem):
    """Seed 002's ``minimize_(L, R) sum_((u,v) in E) (L_u R_v^T - M_uv)^2 + mu_u ||L_u||_F^2 +
    mu_v ||R_v||_F^2``: sample ``j`` is the observed entry ``(u, v) = (rows[j], cols[j])``,

        f_j(x) = (L_u . R_v - M_uv)^2 + mu_u ||L_u||^2 + mu_v ||R_v||^2,

    with ``x = (L, R)``, ``L`` (``n_rows x rank``) then ``R`` (``n_cols x rank``), row-major:
    ``d = (n_rows + n_cols) rank``; ``support(j)`` is the ``2 rank`` coordinates of ``L_u``
    and ``R_v``.  ``mu_u``, ``mu_v`` are per row and per column, as on the slide.  Given a
    single ``mu`` instead, they are HOGWILD!'s choice (Niu et al. 2011, eq. (2.4): the
    regulariser ``mu/2 (||L||_F^2 + ||R||_F^2)`` split over the entries), scaled by ``m`` since
    ``f`` is the mean here: ``mu_u = mu m / (2 |E_u|)`` with ``|E_u|`` the entries of row
    ``u`` (0 for a row with none), likewise ``mu_v``; so ``f = (1/m) sum_j (L_u . R_v -
    M_uv)^2 + mu/2 (||L||^2 + ||R||^2)`` over the rows and columns that have entries.  A
    :meth:`subset` keeps ``mu_u``, ``mu_v`` and ``x0``.  Nonconvex: ``L``, ``mu`` are None.
    ``x0`` defaults to :func:`~asyncproof.reference.data.factor_start` (``x = 0`` is a stationary point).

    >>> p = MatrixCompletion([0, 1], [1, 0], [2.0, -1.0], n_rows=2, n_cols=2, rank=1, mu=0.0,
    ...                      x0=[1.0, 1.0, 1.0, 1.0])
    >>> p.support(0).tolist(), p.value([1.0, 1.0, 1.0, 1.0])        # ((1 - 2)^2 + (1 + 1)^2) / 2
    ([0, 3], 2.5)
    """

    name = "matrix-completion"
    kernels = Kernels(K.mc_sample_value, K.mc_sample_grad, K.mc_batch_value, K.mc_batch_grad)

    def __init__(self, rows, cols, values, n_rows: int, n_cols: int, rank: int, mu: float | None = None,
                 mu_u=None, mu_v=None, x0=None):
        n_rows, n_cols = _positive_int(n_rows, "n_rows"), _positive_int(n_cols, "n_cols")
        rank = _positive_int(rank, "rank")
        rows = _index_array(rows, "rows", n_rows, "n_rows")
        cols = _index_array(cols, "cols", n_cols, "n_cols")
        m = len(rows)
        if cols.shape != (m,):
            raise InputError(f"cols has {len(cols)} entries but rows has {m}")
        values = _float_array(values, "values", 1)
        if values.shape != (m,):
            raise InputError(f"values has {len(values)} entries but rows has {m}")
        if (mu_u is None) != (mu_v is None):
            raise InputError("give both mu_u and mu_v (per row and per column), or neither")
        if mu_u is None:
            mu = _lam(0.1 if mu is None else mu, "mu")
            mu_u, mu_v = np.zeros(n_rows), np.zeros(n_cols)
            for counts, out in ((np.bincount(rows, minlength=n_rows), mu_u), (np.bincount(cols, minlength=n_cols), mu_v)):
                used = counts > 0
                out[used] = (mu * m) / (2.0 * counts[used])
        elif mu is not None:
            raise InputError("give mu or mu_u and mu_v, not both")
        mu_u = _weights(mu_u, "mu_u", n_rows, "rows (n_rows)")
        mu_v = _weights(mu_v, "mu_v", n_cols, "columns (n_cols)")
        d = (n_rows + n_cols) * rank
        if x0 is None:
            x0 = factor_start(d, 0)
        x0 = _float_array(x0, "x0", 1)
        if x0.shape != (d,):
            raise InputError(f"x0 has {x0.size} entries, expected (n_rows + n_cols) rank = {d}")
        self.n_rows, self.n_cols, self.rank = n_rows, n_cols, rank
        self._setup((rows, cols, values, mu_u, mu_v, n_rows, rank), d, m, x0, L=None, mu=None, sigma=None)

    def support(self, j):
        rows, cols, r, nr = self.arrays[0], self.arrays[1], self.rank, self.n_rows
        j = self.check_j(j)
        u, v = int(rows[j]), int(cols[j])
        return np.concatenate([np.arange(u * r, (u + 1) * r), np.arange((nr + v) * r, (nr + v + 1) * r)]).astype(np.int64)

    def _restrict(self, idx):
        rows, cols, values, mu_u, mu_v, nr, r = self.arrays
        return MatrixCompletion(rows[idx], cols[idx], values[idx], nr, self.n_cols, r, mu_u=mu_u, mu_v=mu_v,
                                x0=self._x0)

    def _array_params(self):
        rows, cols, values, mu_u, mu_v, nr, r = self.arrays
        return {"rows": rows.tolist(), "cols": cols.tolist(), "values": values.tolist(), "n_rows": nr,
                "n_cols": self.n_cols, "rank": r, "mu_u": mu_u.tolist(), "mu_v": mu_v.tolist(),
                "x0": self._x0.tolist()}


PARAMS = _params(_SEED, _int_param("n_rows", 20, 1, "rows of M (users)"),
                 _int_param("n_cols", 15, 1, "columns of M (items)"), _int_param("rank", 2, 1, "rank r of L, R"),
                 _int_param("m", 80, 1, "observed entries |E| (samples)"),
                 _float_param("noise", 0.1, "standard deviation of the noise on an observed entry"),
                 _float_param("mu", 0.1, "regularisation mu: mu_u = mu m / (2 |E_u|), likewise mu_v"))

ARRAY_PARAMS = _params(_arr("rows", "row u of each observed entry"), _arr("cols", "column v of each observed entry"),
                       _arr("values", "observed M_uv"), Param("n_rows", int, None, "rows of M"),
                       Param("n_cols", int, None, "columns of M"), Param("rank", int, None, "rank r"),
                       _float_param("mu", None, "one mu for HOGWILD!'s mu_u, mu_v"), _arr("mu_u", "per-row mu_u"),
                       _arr("mu_v", "per-column mu_v"), _arr("x0", "start (L then R, row-major)"))


def build(seed, n_rows, n_cols, rank, m, noise, mu):
    if (n_rows + n_cols) * rank > _MAX_ENTRIES:
        raise InputError(f"matrix-completion: (n_rows + n_cols) rank = {(n_rows + n_cols) * rank} unknowns, "
                         f"more than the limit {_MAX_ENTRIES}")
    rows, cols, values, x0 = matrix_completion_data(n_rows, n_cols, rank, m, noise, seed)
    return MatrixCompletion(rows, cols, values, n_rows, n_cols, rank, mu=mu, x0=x0), \
        {"seed": seed, "n_rows": n_rows, "n_cols": n_cols, "rank": rank, "m": m, "noise": noise, "mu": mu}


register(ProblemKind(
    name=MatrixCompletion.name,
    help="seed 002: sum over observed (u,v) of (L_u.R_v - M_uv)^2 + mu_u ||L_u||^2 + mu_v ||R_v||^2 (HOGWILD!'s "
         "mu_u = mu m/(2|E_u|)); planted rank-r M; params n_rows=20, n_cols=15, rank=2, m=80 entries, noise=0.1, "
         "mu=0.1, seed=0",
    synthetic=PARAMS, build=build,
    arrays=ARRAY_PARAMS, required=("rows", "cols", "values", "n_rows", "n_cols", "rank"),
    from_arrays=lambda rows, cols, values, n_rows, n_cols, rank, mu=None, mu_u=None, mu_v=None, x0=None:
        MatrixCompletion(rows, cols, values, n_rows, n_cols, rank, mu=mu, mu_u=mu_u, mu_v=mu_v, x0=x0)))
