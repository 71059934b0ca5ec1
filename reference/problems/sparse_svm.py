"""The sparse support vector machine of seed 002 (002_34168ee93540180b.txt), slide "Sparse Support
Vector Machines" (under "Examples of Sparse Problems"): ``minimize_x sum_alpha max(1 - y_alpha
x^T z_alpha, 0) + lam ||x||^2``, in HOGWILD!'s per-sample form::

    f_j(x)      = max(1 - y_j z_j^T x, 0) + lam m sum_{u in supp z_j} x_u^2 / d_u
    grad f_j(x) = -y_j z_j [y_j z_j^T x < 1] + (2 lam m x_u / d_u)_{u in supp z_j}

with ``d_u`` the number of samples whose support contains ``u``, so that ``f_j`` touches only the
support of ``z_j`` and ``f`` is the slide's objective as a mean (:class:`SparseSVM` has the
deviations).  Nonsmooth: ``L`` and ``mu`` are None.  Built by name on CSR rows of ``nnz``
Gaussian entries at distinct columns and labels from a planted ``w``
(:func:`~asyncproof.reference.data.sparse_svm_data`), or from a LIBSVM file (``path=FILE``);
``x0 = 0``.
"""

from __future__ import annotations

import os

import numpy as np

from .. import kernels as K
from ..data import binary_labels, file_digest, load_libsvm, sparse_svm_data
from ..errors import InputError
from ..params import Param
from .base import (_SEED, Kernels, Problem, ProblemKind, _arr, _float_array, _float_param, _int_array, _int_param,
                   _labels, _lam, _params, _short, register)


class SparseSVM(Problem):
    """Seed 002's ``minimize_x sum_alpha max(1 - y_alpha x^T z_alpha, 0) + lam ||x||^2``, split
    per sample the way HOGWILD! does, so that ``f_j`` touches only the support of ``z_j``::

        f_j(x) = max(1 - y_j z_j^T x, 0) + lam m sum_{u in supp z_j} x_u^2 / d_u

    where ``d_u`` is the number of samples whose support contains ``u``.  Summing over
    ``j`` counts each used ``u`` exactly ``d_u`` times, so

        f(x) = (1/m) sum_j f_j(x) = (1/m) sum_j max(1 - y_j z_j^T x, 0) + lam sum_{u used} x_u^2.

    Deviations from the slide, and why: the mean instead of the sum (every problem here
    is a mean); coordinates no sample uses are left unregularised (gradient methods never
    move them, and an ``f_j`` touching them would make every sample dense).  ``reg[u] =
    lam m / d_u`` is fixed by the full data set: a :meth:`subset` keeps it, so the local
    ``f_i`` are means of the same ``f_j``.  The hinge's subgradient at its kink
    ``y_j z_j^T x = 1`` is taken to be 0.  ``L`` and ``mu`` are None (nonsmooth); ``x0 = 0``.

    ``z_j`` is row ``j`` of the CSR arrays ``(indptr, indices, data)`` with ``d`` columns
    (indices strictly increasing within a row).

    >>> p = SparseSVM([0, 1, 3], [0, 0, 2], [1.0, 2.0, -1.0], [1.0, -1.0], d=3, lam=0.5)
    >>> p.support(1).tolist(), p.value([0.0, 0.0, 0.0])
    ([0, 2], 1.0)
    """

    name = "sparse-svm"
    kernels = Kernels(K.svm_sample_value, K.svm_sample_grad, K.svm_batch_value, K.svm_batch_grad)

    def __init__(self, indptr, indices, data, y, d: int, lam: float = 0.01, *, _reg=None):
        if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 1:
            raise InputError(f"d (number of features) must be a positive integer, got {_short(d)}")
        d = int(d)
        indptr = _int_array(indptr, "indptr")
        indices = _int_array(indices, "indices")
        if len(indptr) < 2:
            raise InputError(f"indptr has {len(indptr)} entries: need m + 1 >= 2 (at least one sample)")
        m = len(indptr) - 1
        if indptr[0] != 0:
            raise InputError(f"indptr[0] = {indptr[0]}, must be 0")
        steps = np.flatnonzero(np.diff(indptr) < 0)
        if steps.size:
            r = int(steps[0])
            raise InputError(f"indptr decreases at row {r}: indptr[{r}] = {indptr[r]} > indptr[{r + 1}] = {indptr[r + 1]}")
        if indptr[-1] != len(indices):
            raise InputError(f"indptr[-1] = {indptr[-1]} but indices has {len(indices)} entries")
        if len(indices) == 0:
            raise InputError("indices is empty: every sample z_j is zero")
        data = _float_array(data, "data", 1)
        if data.shape != indices.shape:
            raise InputError(f"data has {len(data)} entries but indices has {len(indices)}")
        out = np.flatnonzero((indices < 0) | (indices >= d))
        if out.size:
            raise InputError(f"indices[{out[0]}] = {indices[out[0]]} is out of range 0 .. {d - 1} (d = {d})")
        same_row = np.ones(max(len(indices) - 1, 0), dtype=bool)
        starts = indptr[1:-1]
        same_row[starts[(starts > 0) & (starts < len(indices))] - 1] = False
        bad = np.flatnonzero(same_row & (np.diff(indices) <= 0))
        if bad.size:
            j = int(np.searchsorted(indptr, bad[0], side="right") - 1)
            row = indices[indptr[j]:indptr[j + 1]]
            raise InputError(f"indices of row {j} are not strictly increasing: {row.tolist()[:10]}")
        y = _labels(y, "y", m, "the CSR matrix (len(indptr) - 1)")
        lam = _lam(lam)
        if _reg is None:
            counts = np.bincount(indices, minlength=d)
            _reg = np.zeros(d)
            used = counts > 0
            _reg[used] = (lam * m) / counts[used]
        self.lam = lam
        self._setup((indptr, indices, data, y, _reg), d, m, np.zeros(d), L=None, mu=None, sigma=None)

    @classmethod
    def from_libsvm(cls, path, lam: float = 0.01) -> "SparseSVM":
        """Load a LIBSVM file as CSR rows (labels mapped to -1/+1 by :func:`~asyncproof.reference.data.binary_labels`)."""
        f = load_libsvm(path)
        prob = cls(f.indptr, f.indices, f.values, binary_labels(f.labels, os.fspath(path)), f.n_features, lam)
        prob._spec_params = {"path": os.fspath(path), "lam": prob.lam, "sha256": file_digest(path)}
        return prob

    @property
    def reg(self) -> np.ndarray:
        """``reg[u] = lam m / d_u`` of the full data set (0 for unused coordinates); a copy."""
        return self.arrays[4].copy()

    def support(self, j):
        indptr, indices = self.arrays[0], self.arrays[1]
        j = self.check_j(j)
        return indices[indptr[j]:indptr[j + 1]].copy()

    def _restrict(self, idx):
        indptr, indices, data, y, reg = self.arrays
        rows = [np.arange(indptr[j], indptr[j + 1]) for j in idx]
        take = np.concatenate(rows)
        new_ptr = np.concatenate([[0], np.cumsum([len(r) for r in rows])])
        return SparseSVM(new_ptr, indices[take], data[take], y[idx], self.d, self.lam, _reg=reg)

    def _array_params(self):
        indptr, indices, data, y, _ = self.arrays
        return {"indptr": indptr.tolist(), "indices": indices.tolist(), "data": data.tolist(),
                "y": y.tolist(), "d": self.d, "lam": self.lam}


PARAMS = _params(_SEED, _int_param("m", 40, 1, "number of samples"), _int_param("d", 20, 1, "dimension"),
                 _int_param("nnz", None, 1, "nonzeros per row"),
                 _float_param("lam", 0.01, "regularisation weight lambda"))

ARRAY_PARAMS = _params(_arr("indptr", "CSR row pointers"), _arr("indices", "CSR column indices"),
                       _arr("data", "CSR values"), _arr("y", "labels"), Param("d", int, None, "number of columns"),
                       _float_param("lam", 0.01, "regularisation weight lambda"))


def build(seed, m, d, nnz, lam):
    if nnz is None:
        nnz = min(3, d)
    if nnz > d:
        raise InputError(f"sparse-svm: nnz = {nnz} nonzeros per row do not fit in d = {d} columns")
    indptr, indices, data, y = sparse_svm_data(m, d, nnz, seed)
    return SparseSVM(indptr, indices, data, y, d, lam), {"seed": seed, "m": m, "d": d, "nnz": nnz, "lam": lam}


register(ProblemKind(
    name=SparseSVM.name,
    help="seed 002: hinge loss + lam ||x||^2 split over supports (HOGWILD!); params m=40, d=20, "
         "nnz=min(3,d) per row, lam=0.01, seed=0; or path=FILE (LIBSVM), lam",
    synthetic=PARAMS, build=build,
    arrays=ARRAY_PARAMS, required=("indptr", "indices", "data", "y", "d"),
    from_arrays=lambda indptr, indices, data, y, d, lam=0.01: SparseSVM(indptr, indices, data, y, d, lam),
    from_file=lambda path, lam=0.01: SparseSVM.from_libsvm(path, lam)))
