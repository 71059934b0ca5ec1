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
``x0 = 0``.  ``generator="hogwild-bench"`` builds the data of issue 12's benchmark workload
(:func:`~asyncproof.reference.data.hogwild_bench_data`: ``m = 400,000`` samples, ``d = 50,000``
features, ``nnz = 40`` distinct standard normal nonzeros per sample, ``y_j = sign(z_j^T w*)``
for a standard normal ``w*``, by default; refused above ``m nnz = _MAX_ENTRIES`` stored entries).

**The update rule** (``rule``).  ``rule="gradient"`` (the default) is the step every algorithm
takes, ``-gamma grad f_j``.  ``rule="v03a"`` is the SVM update of the original HOGWILD! code
(Niu, Recht, Re & Wright 2011; the Hazy project's C++ release v03a, Bittorf & Re 2012, whose SVM
``ModelUpdate`` reads ``wxy = dot(w, x) * y; if (wxy < 1) ScaleAndAdd(w, x, step * y);`` then
``scalar = step * mu; vals[j] *= 1 - scalar / deg`` over the example's indices -- as issue 12
describes it; the code was read through this project's code search, not run)::

    f_j(x) = max(1 - y_j z_j^T x, 0) + sum_{u in supp z_j} mu x_u^2 / (2 deg_u)
    f(x)   = (1/m) sum_j f_j(x) = (1/m) (sum_j max(1 - y_j z_j^T x, 0) + (mu/2) sum_{u used} x_u^2)

(``deg_u = d_u``; the original's objective report is ``sum_j hinge + 0.5 ||w||^2``, i.e. mu = 1,
its default here) -- the gradient rule's objective with ``lam = mu / (2m)``, and the same kernels
(``reg[u] = mu / (2 deg_u)``), so ``value``, ``grad`` and every metric mean the same.  What changes
is the step a HOGWILD! core writes (:meth:`SparseSVM.rule_step`, the kernel
:func:`~asyncproof.reference.kernels.svm_v03a_step_support`, shared with ``fast/``):

=======================================  ==========================================================
v03a ``ModelUpdate`` (one example)        here, sample j at the values x̂ the core read on its support
=======================================  ==========================================================
``wxy = dot(w, x) * y``                   ``s = z_j^T x̂`` in index order, ``wxy = s y_j``
``if (wxy < 1) w += (step * y) x``        ``w_u = x̂_u + (gamma y_j) z_u`` if ``wxy < 1``, else ``x̂_u``
``vals[j] *= 1 - step * mu / deg[j]``     ``w_u <- w_u (1 - (gamma mu) / deg_u)``
(both write the shared ``w`` in place)    the step ``g_u = w_u - x̂_u``, added like any HOGWILD! step:
                                          ``x_u <- x_u + g_u`` (one atomic add, a load and a store,
                                          or a write under u's lock, by the algorithm's mode)
=======================================  ==========================================================

So ``g_u = (x̂_u + gamma y_j z_u [y_j z_j^T x̂ < 1]) (1 - gamma mu/deg_u) - x̂_u
= -gamma (grad f_j(x̂))_u - gamma^2 (mu/deg_u) y_j z_u [y_j z_j^T x̂ < 1]``: ``-gamma grad f_j`` to first
order in gamma (the shrink applied after the hinge step, a splitting of the same objective).
Why this reading: HOGWILD!'s model (seed 002's pseudo-code, ``reference/shared_memory/hogwild.py``)
is "read x̂ on the support, compute g from x̂, add g_v to each coordinate", and an additive step is
what its atomic, racy and locked modes, its records and its perturbed-iterate identity are about.
With no other core writing in between, ``x̂_u + g_u`` is v03a's ``w_u`` up to the rounding of the
subtraction ``w_u - x̂_u`` and of the add-back (exactly ``w_u`` when ``x̂_u = 0`` or ``w_u / 2 <=
x̂_u <= 2 w_u``, Sterbenz).  Under races the two differ: v03a reads each coordinate again for its
``+=`` and again for its ``*=`` (two racy read-modify-writes per coordinate), so its shrink also
scales whatever other cores added since its dot product; here the shrink scales only the x̂_u this
sample read, and updates that landed in between are kept unshrunk (atomic and locked modes) or
overwritten (racy mode: a lost update, as for the gradient rule).  ``deg_u`` is counted once from
the whole data set (:attr:`SparseSVM.deg`; a :meth:`~SparseSVM.subset` keeps it).  Algorithms that
ask the problem for a gradient (SGD, the parameter servers) descend the rule's objective ``f`` with
``-gamma grad f_j``; the rule is the step of the shared-memory algorithms, which take theirs from
:func:`~asyncproof.reference.shared_memory.hogwild.sample_step`.
"""

from __future__ import annotations

import os

import numpy as np

from .. import kernels as K
from ..data import binary_labels, file_digest, hogwild_bench_data, load_libsvm, sparse_svm_data
from ..errors import InputError
from ..params import Param
from .base import (_MAX_ENTRIES, _SEED, Kernels, Problem, ProblemKind, _arr, _check, _float_array, _float_param,
                   _int_array, _int_param, _labels, _lam, _params, _short, register)

#: the update rules: the gradient step, or the original HOGWILD! (v03a) SVM update
RULES = ("gradient", "v03a")
#: lam's default (rule=gradient's regulariser); rule=v03a refuses any other lam
LAM_DEFAULT = 0.01
#: mu's default under rule=v03a (the original reports its objective as hinge + 0.5 ||w||^2)
MU_DEFAULT = 1.0


def _rule(rule, mu, lam, who: str = "sparse-svm"):
    """``(rule, mu, lam)`` checked: mu belongs to rule=v03a (default 1.0 there), lam to rule=gradient."""
    if rule not in RULES:
        raise InputError(f"{who}: rule must be one of {', '.join(RULES)}, got {_short(rule)}")
    if rule == "gradient":
        if mu is not None:
            raise InputError(f"{who}: mu = {_short(mu)} is the v03a rule's regularisation (rule=v03a); "
                             f"rule=gradient is regularised by lam")
        return rule, None, lam
    if lam is not None and lam != LAM_DEFAULT:
        raise InputError(f"{who}: lam = {_short(lam)} is rule=gradient's regularisation; rule=v03a is regularised "
                         f"by mu (leave lam out)")
    mu = MU_DEFAULT if mu is None else mu
    if isinstance(mu, bool) or not isinstance(mu, (int, float, np.integer, np.floating)) \
            or not np.isfinite(mu) or mu < 0:
        raise InputError(f"{who}: mu (v03a regularisation) must be a finite number >= 0, got {_short(mu)}")
    return rule, float(mu), None


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

    rule_kernel = staticmethod(K.svm_v03a_step_support)   # the update of rule=v03a (reference and fast/)

    def __init__(self, indptr, indices, data, y, d: int, lam: float | None = LAM_DEFAULT, *, rule: str = "gradient",
                 mu: float | None = None, _reg=None, _deg=None):
        rule, mu, lam = _rule(rule, mu, lam)
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
        if lam is not None:
            lam = _lam(lam)
        if _deg is None:
            _deg = np.bincount(indices, minlength=d).astype(np.int64)
        if _reg is None:
            counts = _deg
            _reg = np.zeros(d)
            used = counts > 0
            if rule == "gradient":
                _reg[used] = (lam * m) / counts[used]
            else:                                   # v03a: mu x_u^2 / (2 deg_u) per sample
                _reg[used] = mu / (2 * counts[used])
        self.lam = lam
        self.rule = rule
        self.rule_mu = mu          # v03a's mu (None for rule=gradient; ``mu`` is the strong convexity constant)
        self._deg = _deg
        self._setup((indptr, indices, data, y, _reg), d, m, np.zeros(d), L=None, mu=None, sigma=None)
        self._factors: dict = {}

    @classmethod
    def from_libsvm(cls, path, lam: float = 0.01) -> "SparseSVM":
        """Load a LIBSVM file as CSR rows (labels mapped to -1/+1 by :func:`~asyncproof.reference.data.binary_labels`)."""
        f = load_libsvm(path)
        prob = cls(f.indptr, f.indices, f.values, binary_labels(f.labels, os.fspath(path)), f.n_features, lam)
        prob._spec_params = {"path": os.fspath(path), "lam": prob.lam, "sha256": file_digest(path)}
        return prob

    @property
    def reg(self) -> np.ndarray:
        """``reg[u] = lam m / d_u`` (rule=v03a: ``mu / (2 d_u)``) of the full data set (0 for unused
        coordinates); a copy."""
        return self.arrays[4].copy()

    @property
    def deg(self) -> np.ndarray:
        """``deg[u] = d_u``, the number of samples of the full data set whose support holds ``u``; a copy."""
        return self._deg.copy()

    def rule_arrays_at(self, gamma: float) -> tuple:
        """The data arguments of the rule kernel at step ``gamma``: the CSR rows, the labels and v03a's
        shrink factors ``1 - gamma mu / deg_u`` (:func:`~asyncproof.reference.kernels.v03a_factors`; all
        ones under rule=gradient), computed once per step size (the reference's and ``fast/``'s alike)."""
        gamma = float(gamma)
        if gamma not in self._factors:
            if len(self._factors) >= 8:                 # a few step sizes at a time, not one array per call
                self._factors.clear()
            out = np.ones(self.d)
            if self.rule == "v03a":
                K.v03a_factors(self._deg, gamma, float(self.rule_mu), out)
            self._factors[gamma] = out
        indptr, indices, data, y = self.arrays[:4]
        return (indptr, indices, data, y, self._factors[gamma])

    def rule_step(self, x, j, gamma) -> np.ndarray:
        """rule=v03a: the step ``g`` a HOGWILD! core adds for sample ``j`` when it read ``x`` (given in
        full; only the support of ``z_j`` is used), on the support in its order (see the module)."""
        if self.rule != "v03a":
            raise InputError(f"sparse-svm: rule = {self.rule!r} has no update of its own (its step is -gamma grad f_j)")
        j, x = self.check_j(j), self.check_x(x)
        if isinstance(gamma, bool) or not isinstance(gamma, (int, float, np.integer, np.floating)) \
                or not np.isfinite(gamma):
            raise InputError(f"gamma must be a finite number, got {_short(gamma)}")
        indptr = self.arrays[0]
        out = np.empty(indptr[j + 1] - indptr[j])
        self.rule_kernel(*self.rule_arrays_at(gamma), j, x, float(gamma), out)
        return out

    def support(self, j):
        indptr, indices = self.arrays[0], self.arrays[1]
        j = self.check_j(j)
        return indices[indptr[j]:indptr[j + 1]].copy()

    def _restrict(self, idx):
        indptr, indices, data, y, reg = self.arrays
        rows = [np.arange(indptr[j], indptr[j + 1]) for j in idx]
        take = np.concatenate(rows)
        new_ptr = np.concatenate([[0], np.cumsum([len(r) for r in rows])])
        return SparseSVM(new_ptr, indices[take], data[take], y[idx], self.d, self.lam, rule=self.rule,
                         mu=self.rule_mu, _reg=reg, _deg=self._deg)

    def _array_params(self):
        indptr, indices, data, y, _ = self.arrays
        return {"indptr": indptr.tolist(), "indices": indices.tolist(), "data": data.tolist(),
                "y": y.tolist(), "d": self.d, **self._rule_params()}

    def _rule_params(self) -> dict:
        """The regulariser's spec entries: ``lam`` (rule=gradient: as before the rule existed, so every
        spec written then still reads the same), or ``rule`` and ``mu``."""
        return {"lam": self.lam} if self.rule == "gradient" else {"rule": self.rule, "mu": self.rule_mu}


_RULE = Param("rule", str, "gradient",
               "update rule: gradient (-gamma grad f_j) or v03a (the original HOGWILD! SVM update: hinge step, then "
               "w_u *= 1 - gamma mu/deg_u on the support; HOGWILD! adds it as a step)",
               _check(lambda v: v in RULES, f"rule must be one of {', '.join(RULES)}"))
_MU = Param("mu", float, None, "rule=v03a's regularisation mu: shrink 1 - gamma mu/deg_u, objective term "
            "mu x_u^2/(2 deg_u) per sample (default 1.0; rule=gradient uses lam)",
            _check(lambda v: np.isfinite(v) and v >= 0, "mu must be finite and >= 0"), lo=0.0, hi=1e6)
_LAM = _float_param("lam", LAM_DEFAULT, "regularisation weight lambda (rule=gradient)")

PARAMS = _params(_SEED, _int_param("m", 40, 1, "number of samples"), _int_param("d", 20, 1, "dimension"),
                 _int_param("nnz", None, 1, "nonzeros per row"), _LAM, _RULE, _MU)

ARRAY_PARAMS = _params(_arr("indptr", "CSR row pointers"), _arr("indices", "CSR column indices"),
                       _arr("data", "CSR values"), _arr("y", "labels"), Param("d", int, None, "number of columns"),
                       _LAM, _RULE, _MU)

#: issue 12's benchmark workload by default: n = 400,000 samples, d = 50,000 features, 40 nonzeros each
BENCH_PARAMS = _params(
    Param("seed", int, 0, "seed of the synthetic data", lo=0, hi=2 ** 63 - 1),
    Param("m", int, 400_000, "number of samples", lo=1, hi=_MAX_ENTRIES),
    Param("d", int, 50_000, "number of features", lo=1, hi=_MAX_ENTRIES),
    Param("nnz", int, 40, "distinct nonzeros per sample (standard normal values)", lo=1, hi=_MAX_ENTRIES),
    Param("lam", float, LAM_DEFAULT, "regularisation weight lambda (rule=gradient)", lo=0.0, hi=1e6),
    _RULE, _MU)


def _spec(seed, m, d, nnz, prob: SparseSVM) -> dict:
    return {"seed": seed, "m": m, "d": d, "nnz": nnz, **prob._rule_params()}


def build(seed, m, d, nnz, lam, rule, mu):
    rule, mu, lam = _rule(rule, mu, lam)
    if nnz is None:
        nnz = min(3, d)
    if nnz > d:
        raise InputError(f"sparse-svm: nnz = {nnz} nonzeros per row do not fit in d = {d} columns")
    indptr, indices, data, y = sparse_svm_data(m, d, nnz, seed)
    prob = SparseSVM(indptr, indices, data, y, d, lam, rule=rule, mu=mu)
    return prob, _spec(seed, m, d, nnz, prob)


def build_bench(seed, m, d, nnz, lam, rule, mu):
    """Issue 12's benchmark data (:func:`~asyncproof.reference.data.hogwild_bench_data`), refused beyond
    ``_MAX_ENTRIES`` stored entries (the CSR arrays hold ``m nnz`` indices and values)."""
    who = "sparse-svm generator 'hogwild-bench'"
    rule, mu, lam = _rule(rule, mu, lam, who)
    if nnz > d:
        raise InputError(f"{who}: nnz = {nnz} distinct nonzeros per sample do not fit in d = {d} features")
    if m * nnz > _MAX_ENTRIES:
        raise InputError(f"{who}: m = {m} samples of nnz = {nnz} nonzeros make {m * nnz} entries, "
                         f"more than the limit {_MAX_ENTRIES}")
    indptr, indices, data, y, _ = hogwild_bench_data(m, d, nnz, seed)
    prob = SparseSVM(indptr, indices, data, y, d, lam, rule=rule, mu=mu)
    return prob, _spec(seed, m, d, nnz, prob)


register(ProblemKind(
    name=SparseSVM.name,
    help="seed 002: hinge loss + lam ||x||^2 split over supports (HOGWILD!); params m=40, d=20, "
         "nnz=min(3,d) per row, lam=0.01, seed=0, rule=gradient (or rule=v03a: the original HOGWILD! SVM "
         "update, hinge step then w_u *= 1 - gamma mu/deg_u, objective mu x_u^2/(2 deg_u) per sample, mu=1); "
         "or path=FILE (LIBSVM), lam; or generator=hogwild-bench (issue 12's workload data: m=400000, "
         "d=50000, nnz=40 distinct N(0,1) per row, y = sign z^T w*), seed=0, lam, rule, mu",
    synthetic=PARAMS, build=build,
    arrays=ARRAY_PARAMS, required=("indptr", "indices", "data", "y", "d"),
    from_arrays=lambda indptr, indices, data, y, d, lam=LAM_DEFAULT, rule="gradient", mu=None:
        SparseSVM(indptr, indices, data, y, d, lam, rule=rule, mu=mu),
    from_file=lambda path, lam=LAM_DEFAULT: SparseSVM.from_libsvm(path, lam),
    generators={"hogwild-bench": (BENCH_PARAMS, build_bench)}))
