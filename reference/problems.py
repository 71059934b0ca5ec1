"""Objectives: finite sums ``f(x) = (1/m) sum_j f_j(x)`` with their samples, supports and constants.

Every problem evaluates through the kernels of :mod:`.kernels` (the same compiled code
``fast/`` runs), validates every input (an :class:`InputError` naming the field and the
value, never a traceback from inside numpy), and can be rebuilt bit for bit from its
:meth:`Problem.spec`.

========================  ==========================================================================
name                      source and definition
========================  ==========================================================================
``"quadratic"``           seed 004 (004_5e02a306927ced0b.txt), slide "Asynchronous SGD can get wild:
                          delays can degrade performance": ``f(x, y) = x^2 + 5y^2`` -- the default
                          instance *is* that function; in general
                          ``f_j(x) = 1/2 (x - x*)^T H (x - x*) + <xi_j, x>``
``"least-squares"``       ``f_j(x) = 1/2 (a_j^T x - b_j)^2``, so ``f = (1/(2m)) ||A x - b||^2``
``"logistic"``            seed 001 (001_c6590ddcd2705154.txt), AsGrad poster, "Experiments":
                          logistic regression with a nonconvex regulariser on w7a (Figure 1:
                          ``lambda = 0.1, d = 300, m = 2505``).  The poster's text breaks off before
                          the regulariser; the design notes give it as ``lambda sum_i x_i^2/(1+x_i^2)``.
                          ``generator="w7a-like"``: on :func:`.data.w7a_like`, a synthetic stand-in
                          with w7a's shape (the experiments ``asgrad-figure1``, ``heterogeneous-compute``)
``"sparse-svm"``          seed 002 (002_34168ee93540180b.txt), slide "Sparse Support Vector Machines"
                          (under "Examples of Sparse Problems"), in HOGWILD!'s per-sample form
``"kmeans"``              seed 003 (003_64bc3d1a200f9b77.txt), Keuper & Pfreundt, "4. Performance"
                          (K-Means, Figures 1 and 8)
``"matrix-completion"``   seed 002, slide "Matrix Completion": ``f_j = (L_u R_v^T - M_uv)^2 +
                          mu_u ||L_u||^2 + mu_v ||R_v||^2`` for the observed entry ``j = (u, v)``
``"graph-cuts"``          seed 002, slide "Graph Cuts": ``f_j = w_uv ||x_u - x_v||_1`` for the edge
                          ``j = (u, v)``, subject to ``1_K^T x_a = 1, x_a >= 0`` (by projection)
========================  ==========================================================================

The three sparse problems of seed 002 (sparse SVM, matrix completion, graph cuts) have
small per-sample supports: ``f = sum_e f_e(x_e)`` with hyperedge ``e`` = ``support(j)``.

Conventions every problem follows:

* ``batch_grad(x, idx)`` is ``(grad f_{idx[0]} + grad f_{idx[1]} + ...) / len(idx)``, the
  sample gradients summed in the order of ``idx`` (repeats count), then divided -- seed
  003's Algorithm 1 (BATCH: "aggregate", then divide by ``|X|``).  ``grad(x)`` and
  ``value(x)`` are that mean over ``0 .. m-1``.  Bit for bit, not just mathematically.
* ``support(j)``: the sorted coordinates ``f_j`` depends on.  All ``d`` for the dense
  problems; for least squares the nonzeros of ``a_j``; for the sparse SVM the stored
  entries of row ``z_j`` (an explicitly stored zero counts: its coordinate carries a
  share of the regulariser); for k-means all ``d`` (which centroid is nearest depends on x);
  for matrix completion the ``2 r`` coordinates of ``L_u`` and ``R_v``; for graph cuts the
  ``2 K`` coordinates of ``x_u`` and ``x_v``.
* ``constrained``: only graph cuts is; ``project(x)`` is its Euclidean projection onto the
  constraint set, ``check_feasible(x)`` refuses a point outside it (an :class:`InputError`);
  ``value``/``grad`` are the finite sum itself, defined everywhere.
* ``G``: a bound on every ``||grad f_j(x)||`` where one holds for all x (graph cuts), else None.
* ``subset(idx)`` keeps the *same* ``f_j`` (so ``f`` is the size-weighted mean of the
  workers' ``f_i``, and ``zeta^2`` of seed 001 is measurable), the same ``x0``, and
  recomputes the constants for the samples kept.
* ``L`` is the smoothness constant of ``f`` (not of each ``f_j``), ``mu`` its strong
  convexity constant; both come from ``numpy.linalg.eigvalsh`` of a Gram matrix summed
  in fixed order, and are meant for step-size bounds and claims, not for bit-exact data.

``spec()`` format (what a schedule file stores under ``"problem"``)::

    {"name": "least-squares", "params": {"seed": 0, "m": 40, "d": 5, "noise": 0.1}}

* built by name: every parameter, defaults resolved, so a later change of a default
  cannot change a replay;
* built from arrays (``LeastSquares(A, b)``): the arrays as nested lists (``float``'s
  ``repr`` round-trips exactly through JSON) -- fine for the small problems tests use;
* loaded from a LIBSVM file: ``{"path": ..., "lam": ..., "sha256": "sha256:<hex>"}``; a
  rebuild checks the digest and refuses a changed file;
* made by a named data generator: ``{"generator": "w7a-like", ...}`` and the generator's
  parameters, defaults resolved;
* a subset adds ``"subset": [original sample indices]`` to its parent's params;
* a logistic problem whose batch gradient is the **full local gradient** of the worker the
  batch comes from (seed 001's "full gradient computation", :class:`LocalFullGradient`)
  adds ``"local_full_gradient": {"n": ..., "zeta": ..., "seed": ...}`` (the split of
  ``local_splits(problem, n, zeta, seed)``, the one the parameter-server algorithms use).

``make_problem(**spec)`` (or ``make_problem(spec["name"], **spec["params"])``) rebuilds it.

>>> p = make_problem("quadratic")                  # seed 004: f(x, y) = x^2 + 5 y^2
>>> p.value([1.0, 1.0]), p.grad([1.0, 1.0]).tolist(), p.L, p.mu
(6.0, [2.0, 10.0], 10.0, 2.0)
>>> q = make_problem(**p.spec())
>>> q.spec() == p.spec()
True
"""

from __future__ import annotations

import copy
import math
import os
from typing import Any, Callable, NamedTuple

import numpy as np

from . import kernels as K
from .data import (binary_labels, blobs, factor_start, file_digest, graph_cut_data, least_squares_data, load_libsvm,
                   logistic_data, matrix_completion_data, quadratic_noise, simplex_start, sparse_svm_data, w7a_like)
from .errors import InputError, NonFinite
from .params import Param, parse_pairs, resolve


class Kernels(NamedTuple):
    """The four kernels of a problem; each takes ``*problem.arrays`` first (see :mod:`.kernels`)."""
    sample_value: Callable
    sample_grad: Callable
    batch_value: Callable
    batch_grad: Callable


# ------------------------------------------------------------------------------------------
# validation helpers (each error names the field and the bad value)


def _float_array(value, field: str, ndim: int | tuple) -> np.ndarray:
    ndims = ndim if isinstance(ndim, tuple) else (ndim,)
    what = " or ".join(f"{n}-D" for n in ndims)
    try:
        a = np.array(value, dtype=np.float64)          # a copy: the problem owns its data
    except (TypeError, ValueError):
        raise InputError(f"{field} must be a {what} array of numbers, got {_short(value)}") from None
    if a.ndim not in ndims:
        raise InputError(f"{field} must be a {what} array, got shape {a.shape}")
    if a.size == 0:
        raise InputError(f"{field} is empty (shape {a.shape})")
    bad = ~np.isfinite(a)
    if bad.any():
        pos = tuple(int(i) for i in np.argwhere(bad)[0])
        raise InputError(f"{field}[{', '.join(map(str, pos))}] = {a[pos]} is not finite")
    return np.ascontiguousarray(a)


def _int_array(value, field: str) -> np.ndarray:
    a = np.asarray(value)
    if a.ndim != 1:
        raise InputError(f"{field} must be a 1-D array of integers, got shape {a.shape}")
    if a.size and a.dtype.kind not in "iu":
        raise InputError(f"{field} must hold integers, got dtype {a.dtype}")
    return np.ascontiguousarray(a, dtype=np.int64)


def _labels(value, field: str, m: int, rows: str) -> np.ndarray:
    y = _float_array(value, field, 1)
    if y.shape != (m,):
        raise InputError(f"{field} has {y.shape[0]} entries but {rows} has {m} rows")
    bad = np.flatnonzero((y != 1.0) & (y != -1.0))
    if bad.size:
        raise InputError(f"{field}[{bad[0]}] = {y[bad[0]]}: labels must be -1 or +1")
    return y


def _lam(value, field: str = "lam") -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InputError(f"{field} must be a number, got {_short(value)}")
    v = float(value)
    if not math.isfinite(v) or v < 0:
        raise InputError(f"{field} (regularisation weight lambda) must be finite and >= 0, got {value!r}")
    return v


def _short(value) -> str:
    s = repr(value)
    return s if len(s) <= 60 else s[:57] + "..."


# ------------------------------------------------------------------------------------------
# the base class


class Problem:
    """``f(x) = (1/m) sum_{j<m} f_j(x)`` over ``x`` in R^d; see the module docstring.

    Subclasses set, through :meth:`_setup`: ``arrays`` (the kernels' data arguments),
    ``d``, ``m``, ``L``, ``mu``, ``sigma`` and the default start ``x0``; and implement
    :meth:`support`, :meth:`_restrict` (the same class on rows ``idx``) and
    :meth:`_array_params` (the data as JSON lists).
    """

    name: str = "problem"
    kernels: Kernels
    constrained: bool = False           # graph cuts: x must stay in a constraint set (see project)
    G: float | None = None              # a bound on ||grad f_j(x)|| for every j and x, where known

    def _setup(self, arrays: tuple, d: int, m: int, x0: np.ndarray, L: float | None,
               mu: float | None, sigma: float | None) -> None:
        self.arrays = arrays
        self.d, self.m = int(d), int(m)
        self.L, self.mu, self.sigma = L, mu, sigma
        self._x0 = np.ascontiguousarray(x0, dtype=np.float64)
        self._all = np.arange(self.m, dtype=np.int64)
        self._spec_params: dict | None = None        # set when built by name or from a file
        self._subset_idx: np.ndarray | None = None   # original sample indices, for a subset

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} d={self.d} m={self.m}>"

    @property
    def x0(self) -> np.ndarray:
        """The default starting point (a fresh copy each time)."""
        return self._x0.copy()

    # -- validation -----------------------------------------------------------------------

    def check_x(self, x, field: str = "x") -> np.ndarray:
        """``x`` as a C-contiguous float64 array of shape ``(d,)``, all finite; else InputError
        (:class:`~.errors.NonFinite` for a NaN or infinite coordinate)."""
        try:
            a = np.asarray(x, dtype=np.float64)
        except (TypeError, ValueError):
            raise InputError(f"{field} must be an array of {self.d} numbers, got {_short(x)}") from None
        if a.shape != (self.d,):
            raise InputError(f"{field} has shape {a.shape}, expected ({self.d},) for problem {self.name!r}")
        bad = np.flatnonzero(~np.isfinite(a))
        if bad.size:
            # NonFinite (an InputError): bad input outside a run, divergence inside one (docs/engine.md)
            with np.errstate(over="ignore", invalid="ignore"):
                norm = float(np.linalg.norm(a))
            raise NonFinite(f"{field}[{bad[0]}] = {a[bad[0]]} is not finite", field=field, index=int(bad[0]),
                            value=float(a[bad[0]]), norm=norm)
        return np.ascontiguousarray(a)

    def check_feasible(self, x, field: str = "x") -> np.ndarray:
        """``x`` checked as by :meth:`check_x`, and inside the constraint set of a constrained problem
        (graph cuts overrides this); an :class:`InputError` otherwise."""
        return self.check_x(x, field)

    def check_j(self, j) -> int:
        if isinstance(j, bool) or not isinstance(j, (int, np.integer)):
            raise InputError(f"sample index j must be an integer, got {_short(j)}")
        if not 0 <= j < self.m:
            raise InputError(f"sample index j = {j} is out of range 0 .. {self.m - 1} (m = {self.m})")
        return int(j)

    def check_idx(self, idx, field: str = "idx") -> np.ndarray:
        try:
            a = np.asarray(idx)
        except (TypeError, ValueError):
            raise InputError(f"{field} must be a 1-D array of sample indices, got {_short(idx)}") from None
        if a.ndim != 1:
            raise InputError(f"{field} must be a 1-D array of sample indices, got shape {a.shape}")
        if a.size == 0:
            raise InputError(f"{field} is empty: a batch needs at least one sample")
        if a.dtype.kind not in "iu":
            raise InputError(f"{field} must hold integer sample indices, got dtype {a.dtype}")
        bad = np.flatnonzero((a < 0) | (a >= self.m))
        if bad.size:
            raise InputError(f"{field}[{bad[0]}] = {a[bad[0]]} is out of range 0 .. {self.m - 1} (m = {self.m})")
        return np.ascontiguousarray(a, dtype=np.int64)

    # -- values and gradients -----------------------------------------------------------------

    def value(self, x) -> float:
        """``f(x) = (1/m) sum_j f_j(x)``, summed over ``j = 0 .. m-1`` in order."""
        return float(self.kernels.batch_value(*self.arrays, self._all, self.check_x(x)))

    def grad(self, x) -> np.ndarray:
        """``grad f(x)`` (a new array): the sample gradients summed in order, divided by m."""
        out = np.empty(self.d)
        self.kernels.batch_grad(*self.arrays, self._all, self.check_x(x), out)
        return out

    def sample_value(self, x, j) -> float:
        """``f_j(x)``."""
        return float(self.kernels.sample_value(*self.arrays, self.check_j(j), self.check_x(x)))

    def sample_grad(self, x, j) -> np.ndarray:
        """``grad f_j(x)`` (a new array)."""
        out = np.empty(self.d)
        self.kernels.sample_grad(*self.arrays, self.check_j(j), self.check_x(x), out)
        return out

    def batch_value(self, x, idx) -> float:
        """``(1/len(idx)) sum_k f_{idx[k]}(x)``, summed in the order of ``idx``."""
        return float(self.kernels.batch_value(*self.arrays, self.check_idx(idx), self.check_x(x)))

    def batch_grad(self, x, idx) -> np.ndarray:
        """``(1/len(idx)) sum_k grad f_{idx[k]}(x)``, summed in the order of ``idx`` (a new array)."""
        out = np.empty(self.d)
        self.kernels.batch_grad(*self.arrays, self.check_idx(idx), self.check_x(x), out)
        return out

    def variance_at(self, x) -> float:
        """``(1/m) sum_j ||grad f_j(x) - grad f(x)||^2`` (the empirical sigma^2 at x), j in order."""
        x = self.check_x(x)
        g = self.grad(x)
        buf = np.empty(self.d)
        s = 0.0
        for j in range(self.m):
            self.kernels.sample_grad(*self.arrays, j, x, buf)
            s += K.sq_dist(buf, g)
        return float(s / self.m)

    # -- structure --------------------------------------------------------------------------

    def support(self, j) -> np.ndarray:
        """Sorted int64 coordinates ``f_j`` depends on (all of them unless overridden)."""
        self.check_j(j)
        return np.arange(self.d, dtype=np.int64)

    def subset(self, idx) -> "Problem":
        """The problem of samples ``idx`` only (a worker's local ``f_i``): same ``f_j``, same ``x0``."""
        idx = self.check_idx(idx)
        sub = self._restrict(idx)
        sub._spec_params = self._spec_base()
        sub._subset_idx = idx.copy() if self._subset_idx is None else self._subset_idx[idx]
        return sub

    def spec(self) -> dict:
        """``{"name": ..., "params": {...}}``, JSON-serialisable; ``make_problem(**spec)`` rebuilds it."""
        params = self._spec_base()
        if self._subset_idx is not None:
            params["subset"] = [int(i) for i in self._subset_idx]
        return {"name": self.name, "params": params}

    def _spec_base(self) -> dict:
        return copy.deepcopy(self._spec_params) if self._spec_params is not None else self._array_params()

    def _restrict(self, idx: np.ndarray) -> "Problem":
        raise NotImplementedError

    def _array_params(self) -> dict:
        raise NotImplementedError


# ------------------------------------------------------------------------------------------
# quadratic (seed 004)


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

    def _restrict(self, idx):
        H, x_star, xi = self.arrays
        return Quadratic(H, x_star, xi[idx])

    def _array_params(self):
        H, x_star, xi = self.arrays
        return {"H": H.tolist(), "x_star": x_star.tolist(), "xi": xi.tolist()}


# ------------------------------------------------------------------------------------------
# least squares


def _gram_eigs(A: np.ndarray) -> np.ndarray:
    return np.linalg.eigvalsh(K.gram(A))


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


# ------------------------------------------------------------------------------------------
# logistic regression with the nonconvex regulariser (seed 001)


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
        """Load a LIBSVM file (labels mapped to -1/+1 by :func:`.data.binary_labels`), stored dense."""
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


class LocalFullGradient(Logistic):
    """``base`` (a logistic problem) whose batch gradients are the **full local gradient**.

    Seed 001's Figure 1 uses "full gradient computation": a job of worker k returns
    ``grad f_k(x_pi)``, the mean over all of worker k's samples.  The AsGrad jobs
    compute ``problem.batch_grad(x, idx)`` over ``batch`` indices drawn from the
    worker's split (with replacement).  This problem answers such a call with the mean
    gradient over the whole split the indices come from (the split
    :func:`~asyncproof.reference.parameter_server.common.local_splits` gives for
    ``(n, zeta, seed)``, summed in ascending sample order), and refuses indices that
    straddle two splits.  Values, full gradients and single-sample gradients are
    ``base``'s.  Run the algorithms with ``batch >= 2`` so that they call ``batch_grad``.
    """

    def __init__(self, base: Logistic, n: int, zeta: float, seed: int):
        from .parameter_server.common import local_splits
        super().__init__(*base.arrays)
        self._splits = [np.ascontiguousarray(s, dtype=np.int64) for s in local_splits(base, n, zeta, seed)]
        self._owner = np.empty(self.m, dtype=np.int64)
        for k, split in enumerate(self._splits):
            self._owner[split] = k
        self._spec_params = {**base._spec_base(), "local_full_gradient": {"n": n, "zeta": zeta, "seed": seed}}

    def batch_grad(self, x, idx):
        idx = self.check_idx(idx)
        k = int(self._owner[idx[0]])
        if not np.all(self._owner[idx] == k):
            raise InputError(f"local_full_gradient: a batch's samples straddle two workers' splits "
                             f"(sample {int(idx[0])} is worker {k}'s)")
        return super().batch_grad(x, self._splits[k])

    def subset(self, idx):
        raise InputError("local_full_gradient: a subset of this problem is not defined (its splits are over the "
                         "whole data set)")


# ------------------------------------------------------------------------------------------
# sparse SVM (seed 002)


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
        """Load a LIBSVM file as CSR rows (labels mapped to -1/+1 by :func:`.data.binary_labels`)."""
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


# ------------------------------------------------------------------------------------------
# k-means (seed 003)


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


# ------------------------------------------------------------------------------------------
# matrix completion (seed 002)


def _index_array(value, field: str, size: int, what: str) -> np.ndarray:
    a = _int_array(value, field)
    if a.size == 0:
        raise InputError(f"{field} is empty: need at least one sample")
    bad = np.flatnonzero((a < 0) | (a >= size))
    if bad.size:
        raise InputError(f"{field}[{bad[0]}] = {a[bad[0]]} is out of range 0 .. {size - 1} ({what} = {size})")
    return a


def _positive_int(value, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise InputError(f"{field} must be a positive integer, got {_short(value)}")
    return int(value)


def _weights(value, field: str, n: int, rows: str) -> np.ndarray:
    a = _float_array(value, field, 1)
    if a.shape != (n,):
        raise InputError(f"{field} has {a.shape[0]} entries but there are {n} {rows}")
    bad = np.flatnonzero(a < 0)
    if bad.size:
        raise InputError(f"{field}[{bad[0]}] = {a[bad[0]]} is negative")
    return a


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
    ``x0`` defaults to :func:`~.data.factor_start` (``x = 0`` is a stationary point).

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


# ------------------------------------------------------------------------------------------
# graph cuts (seed 002)

#: how far a block's sum may be from 1 (and an entry below 0) on the simplex: rounding, not more
SIMPLEX_TOL = 1e-9


def _on_simplex(x: np.ndarray, nodes: int, labels: int, field: str) -> None:
    """InputError naming the first block of ``x`` that is off the simplex (sums in index order)."""
    blocks = x.reshape(nodes, labels)
    for a in range(nodes):
        total = 0.0
        for c in range(labels):
            total += float(blocks[a, c])
        if abs(total - 1.0) > SIMPLEX_TOL:
            raise InputError(f"{field} is off the simplex: node {a}'s block sums to {total:.6g} (must be 1)")
        low = int(np.argmin(blocks[a]))
        if blocks[a, low] < -SIMPLEX_TOL:
            raise InputError(f"{field} is off the simplex: {field}[{a * labels + low}] = {blocks[a, low]:.6g} < 0 "
                             f"(node {a}, label {low})")


class GraphCuts(Problem):
    """Seed 002's ``minimize_x sum_((u,v) in E) w_uv ||x_u - x_v||_1`` subject to ``1_K^T x_a = 1,
    x_a >= 0`` for every node ``a``: sample ``j`` is the edge ``(u, v) = edges[j]``,

        f_j(x) = w_uv ||x_u - x_v||_1,

    with ``x`` the ``nodes`` blocks ``x_a`` of ``labels = K`` entries, row-major (``d = nodes K``);
    ``support(j)`` is the ``2K`` coordinates of ``x_u`` and ``x_v``.  The subgradient is ``w_uv
    sign(x_u - x_v)`` on ``x_u``'s block and its negative on ``x_v``'s, with ``sign(0) = 0``.

    The constraint is kept **by projection** (``constrained = True``): :meth:`project` maps every
    block to its Euclidean projection onto the simplex (:func:`~.kernels.simplex_project`),
    :meth:`project_support` only the blocks of one sample, and :meth:`check_feasible` refuses a
    point off the simplex (a block sum farther than ``SIMPLEX_TOL`` from 1, or an entry below
    ``-SIMPLEX_TOL``) as an :class:`InputError`; the start ``x0`` must be feasible.  ``value``
    and the gradients are the finite sum itself, defined at every x (an algorithm's noisy
    reads may lie off the simplex).  Readings: the slide shows no terminal nodes, so the
    minimum is 0 at every constant labelling (the multiway-cut LP fixes terminals; the
    slide's objective is kept as it is).  A self-loop ``(u, u)`` is refused: its support
    would hold ``x_u``'s coordinates twice.  Convex, nonsmooth: ``L``, ``mu`` are None;
    ``G = sqrt(2K) max w`` bounds every ``||grad f_j||``.  ``x0`` defaults to
    :func:`~.data.simplex_start` with seed 0.

    >>> p = GraphCuts([[0, 1]], [2.0], nodes=2, labels=2, x0=[1.0, 0.0, 0.25, 0.75])
    >>> p.support(0).tolist(), p.value(p.x0), p.sample_grad(p.x0, 0).tolist()
    ([0, 1, 2, 3], 3.0, [2.0, -2.0, -2.0, 2.0])
    >>> p.check_feasible([1.0, 0.0, 0.5, 0.75])
    Traceback (most recent call last):
    ...
    asyncproof.reference.errors.InputError: x is off the simplex: node 1's block sums to 1.25 (must be 1)
    """

    name = "graph-cuts"
    kernels = Kernels(K.cut_sample_value, K.cut_sample_grad, K.cut_batch_value, K.cut_batch_grad)
    constrained = True

    def __init__(self, edges, weights, nodes: int, labels: int, x0=None):
        nodes, labels = _positive_int(nodes, "nodes"), _positive_int(labels, "labels")
        try:
            e = np.asarray(edges)
        except (TypeError, ValueError):
            raise InputError(f"edges must be a list of [u, v] node pairs, got {_short(edges)}") from None
        if e.ndim != 2 or e.shape[1] != 2 or e.shape[0] == 0:
            raise InputError(f"edges must be a non-empty list of [u, v] node pairs, got shape {e.shape}")
        if e.dtype.kind not in "iu":
            raise InputError(f"edges must hold integer node numbers, got dtype {e.dtype}")
        eu = _index_array(e[:, 0], "edges[:, 0] (u)", nodes, "nodes")
        ev = _index_array(e[:, 1], "edges[:, 1] (v)", nodes, "nodes")
        loops = np.flatnonzero(eu == ev)
        if loops.size:
            q = int(loops[0])
            raise InputError(f"edge {q} = ({eu[q]}, {ev[q]}) is a self-loop: its support would hold the "
                             f"coordinates of x_{eu[q]} twice")
        m = len(eu)
        w = _weights(weights, "weights", m, "edges")
        self.nodes, self.labels = nodes, labels
        d = nodes * labels
        x0 = simplex_start(nodes, labels, 0) if x0 is None else _float_array(x0, "x0", (1, 2)).ravel()
        if x0.shape != (d,):
            raise InputError(f"x0 has {x0.size} entries, expected nodes * labels = {nodes} * {labels} = {d}")
        _on_simplex(x0, nodes, labels, "x0")
        self._setup((eu, ev, w, labels), d, m, x0, L=None, mu=None, sigma=None)
        self.G = math.sqrt(2 * labels) * float(w.max())

    def support(self, j):
        eu, ev, _, K_ = self.arrays
        j = self.check_j(j)
        a, b = sorted((int(eu[j]), int(ev[j])))
        return np.concatenate([np.arange(a * K_, (a + 1) * K_), np.arange(b * K_, (b + 1) * K_)]).astype(np.int64)

    def check_feasible(self, x, field: str = "x") -> np.ndarray:
        """``x`` (checked as by :meth:`check_x`) if every block is on the simplex, else InputError."""
        x = self.check_x(x, field)
        _on_simplex(x, self.nodes, self.labels, field)
        return x

    def project(self, x) -> np.ndarray:
        """Every block projected onto the simplex (a new array)."""
        x = self.check_x(x)
        out = np.empty(self.d)
        K_ = self.labels
        for a in range(self.nodes):
            K.simplex_project(x[a * K_:(a + 1) * K_], out[a * K_:(a + 1) * K_])
        return out

    def project_support(self, j, y) -> np.ndarray:
        """``y`` holds values of ``support(j)`` (in its order): the blocks of ``x_u`` and ``x_v``
        projected onto the simplex, in the same order (a new array)."""
        K_ = self.labels
        y = np.ascontiguousarray(y, dtype=np.float64)
        if y.shape != (2 * K_,):
            raise InputError(f"y has shape {y.shape}, expected ({2 * K_},): the support of an edge")
        out = np.empty(2 * K_)
        K.simplex_project(y[:K_], out[:K_])
        K.simplex_project(y[K_:], out[K_:])
        return out

    def _restrict(self, idx):
        eu, ev, w, K_ = self.arrays
        return GraphCuts(np.stack([eu[idx], ev[idx]], axis=1), w[idx], self.nodes, K_, x0=self._x0)

    def _array_params(self):
        eu, ev, w, K_ = self.arrays
        return {"edges": [[int(a), int(b)] for a, b in zip(eu, ev)], "weights": w.tolist(), "nodes": self.nodes,
                "labels": K_, "x0": self._x0.tolist()}


# ------------------------------------------------------------------------------------------
# the registry


def _check(fn, text):
    return lambda v: None if v is None or fn(v) else f"{text}, got {v!r}"


def _int_param(name, default, lo, help_):
    return Param(name, int, default, help_, _check(lambda v: v >= lo, f"{name} must be >= {lo}"))


def _float_param(name, default, help_, ok=lambda v: v >= 0, need="finite and >= 0"):
    return Param(name, float, default, help_, _check(lambda v: math.isfinite(v) and ok(v), f"{name} must be {need}"))


_SEED = _int_param("seed", 0, 0, "seed of the synthetic data")
_LAM = _float_param("lam", 0.1, "regularisation weight lambda")


def _arr(name, help_):
    return Param(name, "list", None, help_)


_MAX_ENTRIES = 50_000_000     # a typo like m=1e9 should be an error, not an out-of-memory


class _Kind(NamedTuple):
    """One problem of the registry: its parameter sets (by mode) and its builders."""
    help: str
    synthetic: dict
    build: Callable
    arrays: dict | None = None           # mode "built from arrays": required + optional params
    required: tuple = ()
    from_arrays: Callable | None = None
    from_file: Callable | None = None    # mode "loaded from a LIBSVM file"
    generators: dict | None = None       # mode "made by a named generator": name -> (params, build)


def _params(*ps: Param) -> dict:
    return {p.name: p for p in ps}


def _build_quadratic(seed, d, cond, sigma, m):
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


def _build_lsq(seed, m, d, noise):
    A, b, _ = least_squares_data(m, d, noise, seed)
    return LeastSquares(A, b), {"seed": seed, "m": m, "d": d, "noise": noise}


def _build_logistic(seed, m, d, density, lam):
    A, y = logistic_data(m, d, density, seed)
    return Logistic(A, y, lam), {"seed": seed, "m": m, "d": d, "density": density, "lam": lam}


def _build_w7a(seed, m, d, nnz, positive, lam):
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


#: w7a's shape by default (seed 001, Figure 1: m = 2505, d = 300, lam = 0.1)
_W7A_PARAMS = _params(
    Param("seed", int, 0, "seed of the synthetic data", lo=0, hi=2 ** 63 - 1),
    Param("m", int, 2505, "number of samples", lo=1, hi=_MAX_ENTRIES),
    Param("d", int, 300, "number of binary features", lo=1, hi=math.isqrt(_MAX_ENTRIES)),
    Param("nnz", float, None, "nonzeros per row on average (default 11.6 d/300, w7a's density)",
          lo=0.0, hi=float(_MAX_ENTRIES), lo_open=True),
    Param("positive", float, 0.03, "fraction of rows labelled +1 (at least one)", lo=0.0, hi=1.0),
    Param("lam", float, 0.1, "regularisation weight lambda", lo=0.0, hi=1e6))


def _build_svm(seed, m, d, nnz, lam):
    if nnz is None:
        nnz = min(3, d)
    if nnz > d:
        raise InputError(f"sparse-svm: nnz = {nnz} nonzeros per row do not fit in d = {d} columns")
    indptr, indices, data, y = sparse_svm_data(m, d, nnz, seed)
    return SparseSVM(indptr, indices, data, y, d, lam), {"seed": seed, "m": m, "d": d, "nnz": nnz, "lam": lam}


def _build_mc(seed, n_rows, n_cols, rank, m, noise, mu):
    if (n_rows + n_cols) * rank > _MAX_ENTRIES:
        raise InputError(f"matrix-completion: (n_rows + n_cols) rank = {(n_rows + n_cols) * rank} unknowns, "
                         f"more than the limit {_MAX_ENTRIES}")
    rows, cols, values, x0 = matrix_completion_data(n_rows, n_cols, rank, m, noise, seed)
    return MatrixCompletion(rows, cols, values, n_rows, n_cols, rank, mu=mu, x0=x0), \
        {"seed": seed, "n_rows": n_rows, "n_cols": n_cols, "rank": rank, "m": m, "noise": noise, "mu": mu}


def _build_cuts(seed, nodes, m, labels):
    if nodes * labels > _MAX_ENTRIES:
        raise InputError(f"graph-cuts: nodes * labels = {nodes * labels} unknowns, more than the limit {_MAX_ENTRIES}")
    u, v, w, x0 = graph_cut_data(nodes, m, labels, seed)
    return GraphCuts(np.stack([u, v], axis=1), w, nodes, labels, x0=x0), \
        {"seed": seed, "nodes": nodes, "m": m, "labels": labels}


def _build_kmeans(seed, m, p, k):
    if m < k:
        raise InputError(f"kmeans: k = {k} centroids start at the first k samples, but m = {m}")
    return KMeans(blobs(m, p, k, seed), k), {"seed": seed, "m": m, "p": p, "k": k}


_KINDS: dict[str, _Kind] = {
    "quadratic": _Kind(
        "seed 004's f(x,y) = x^2 + 5y^2 by default; f_j = 1/2 x^T H x + <xi_j, x>, "
        "H = diag(2 .. 2*cond); params d=2, cond=5, sigma=0 (exact gradient noise), m=1, seed=0",
        _params(_SEED, _int_param("d", 2, 1, "dimension"),
                _float_param("cond", None, "condition number of H (>= 1)", lambda v: v >= 1, "finite and >= 1"),
                _float_param("sigma", 0.0, "gradient noise: (1/m) sum ||xi_j||^2 = sigma^2"),
                _int_param("m", 1, 1, "number of samples")),
        _build_quadratic,
        _params(_arr("H", "symmetric d x d matrix"), _arr("x_star", "centre x*"), _arr("xi", "m x d noise")),
        ("H",), lambda H, x_star=None, xi=None: Quadratic(H, x_star, xi)),
    "least-squares": _Kind(
        "f = 1/(2m) ||Ax - b||^2, Gaussian A, planted x; params m=40, d=5, noise=0.1, seed=0",
        _params(_SEED, _int_param("m", 40, 1, "number of samples"), _int_param("d", 5, 1, "dimension"),
                _float_param("noise", 0.1, "standard deviation of the noise in b")),
        _build_lsq,
        _params(_arr("A", "m x d matrix"), _arr("b", "m targets")), ("A", "b"),
        lambda A, b: LeastSquares(A, b)),
    "logistic": _Kind(
        "seed 001: logistic loss + lam sum x_i^2/(1+x_i^2) (nonconvex); params m=40, d=5, density=1, "
        "lam=0.1, seed=0; or path=FILE (LIBSVM), lam; or generator=w7a-like (binary features shaped like "
        "w7a), m=2505, d=300, nnz=11.6 d/300 per row, positive=0.03, lam=0.1, seed=0",
        _params(_SEED, _int_param("m", 40, 1, "number of samples"), _int_param("d", 5, 1, "dimension"),
                _float_param("density", 1.0, "fraction of nonzero features", lambda v: 0 < v <= 1, "in (0, 1]"),
                _LAM),
        _build_logistic,
        _params(_arr("A", "m x d matrix"), _arr("y", "m labels in {-1, +1}"), _LAM), ("A", "y"),
        lambda A, y, lam=0.1: Logistic(A, y, lam),
        lambda path, lam=0.1: Logistic.from_libsvm(path, lam),
        {"w7a-like": (_W7A_PARAMS, _build_w7a)}),
    "sparse-svm": _Kind(
        "seed 002: hinge loss + lam ||x||^2 split over supports (HOGWILD!); params m=40, d=20, "
        "nnz=min(3,d) per row, lam=0.01, seed=0; or path=FILE (LIBSVM), lam",
        _params(_SEED, _int_param("m", 40, 1, "number of samples"), _int_param("d", 20, 1, "dimension"),
                _int_param("nnz", None, 1, "nonzeros per row"),
                _float_param("lam", 0.01, "regularisation weight lambda")),
        _build_svm,
        _params(_arr("indptr", "CSR row pointers"), _arr("indices", "CSR column indices"),
                _arr("data", "CSR values"), _arr("y", "labels"), Param("d", int, None, "number of columns"),
                _float_param("lam", 0.01, "regularisation weight lambda")),
        ("indptr", "indices", "data", "y", "d"),
        lambda indptr, indices, data, y, d, lam=0.01: SparseSVM(indptr, indices, data, y, d, lam),
        lambda path, lam=0.01: SparseSVM.from_libsvm(path, lam)),
    "kmeans": _Kind(
        "seed 003: 1/2 min_c ||s_j - w_c||^2 over k centroids in R^p (x0 = first k samples); "
        "Gaussian blobs; params m=60, p=2, k=3, seed=0",
        _params(_SEED, _int_param("m", 60, 1, "number of samples"), _int_param("p", 2, 1, "dimension of a sample"),
                _int_param("k", 3, 1, "number of centroids")),
        _build_kmeans,
        _params(_arr("S", "m x p samples"), Param("k", int, None, "number of centroids"),
                _arr("x0", "k x p starting centroids")),
        ("S", "k"), lambda S, k, x0=None: KMeans(S, k, x0)),
    "matrix-completion": _Kind(
        "seed 002: sum over observed (u,v) of (L_u.R_v - M_uv)^2 + mu_u ||L_u||^2 + mu_v ||R_v||^2 (HOGWILD!'s "
        "mu_u = mu m/(2|E_u|)); planted rank-r M; params n_rows=20, n_cols=15, rank=2, m=80 entries, noise=0.1, "
        "mu=0.1, seed=0",
        _params(_SEED, _int_param("n_rows", 20, 1, "rows of M (users)"),
                _int_param("n_cols", 15, 1, "columns of M (items)"), _int_param("rank", 2, 1, "rank r of L, R"),
                _int_param("m", 80, 1, "observed entries |E| (samples)"),
                _float_param("noise", 0.1, "standard deviation of the noise on an observed entry"),
                _float_param("mu", 0.1, "regularisation mu: mu_u = mu m / (2 |E_u|), likewise mu_v")),
        _build_mc,
        _params(_arr("rows", "row u of each observed entry"), _arr("cols", "column v of each observed entry"),
                _arr("values", "observed M_uv"), Param("n_rows", int, None, "rows of M"),
                Param("n_cols", int, None, "columns of M"), Param("rank", int, None, "rank r"),
                _float_param("mu", None, "one mu for HOGWILD!'s mu_u, mu_v"), _arr("mu_u", "per-row mu_u"),
                _arr("mu_v", "per-column mu_v"), _arr("x0", "start (L then R, row-major)")),
        ("rows", "cols", "values", "n_rows", "n_cols", "rank"),
        lambda rows, cols, values, n_rows, n_cols, rank, mu=None, mu_u=None, mu_v=None, x0=None: MatrixCompletion(
            rows, cols, values, n_rows, n_cols, rank, mu=mu, mu_u=mu_u, mu_v=mu_v, x0=x0)),
    "graph-cuts": _Kind(
        "seed 002: sum over edges (u,v) of w_uv ||x_u - x_v||_1, each x_a on the simplex of K labels (kept by "
        "projection); random graph, w in (0,1]; params nodes=30, m=60 edges, labels=3, seed=0",
        _params(_SEED, _int_param("nodes", 30, 2, "nodes D of the graph"),
                _int_param("m", 60, 1, "edges |E| (samples)"), _int_param("labels", 3, 1, "labels K per node")),
        _build_cuts,
        _params(_arr("edges", "list of [u, v] node pairs"), _arr("weights", "edge weights w_uv >= 0"),
                Param("nodes", int, None, "number of nodes"), Param("labels", int, None, "labels K"),
                _arr("x0", "start on the simplex (nodes x labels)")),
        ("edges", "weights", "nodes", "labels"),
        lambda edges, weights, nodes, labels, x0=None: GraphCuts(edges, weights, nodes, labels, x0)),
}


def _resolve(name: str, given: dict, table: dict, mode: str) -> dict:
    out = {}
    for key, value in given.items():
        if key not in table:
            raise InputError(f"{name}: unknown parameter {key!r} = {_short(value)}{mode}; "
                             f"known: {', '.join(table)}")
        p = table[key]
        if p.kind == "list":
            out[key] = value                       # validated by the constructor, field by field
            continue
        try:
            v = p.parse(value)
        except InputError as e:
            raise InputError(f"{name}: {e}") from None
        if p.check is not None and (err := p.check(v)):
            raise InputError(f"{name}: {err}")
        out[key] = v
    return out


def _make(name: str, **params) -> Problem:
    kind = _KINDS[name]
    if "generator" in params:
        gen = params.pop("generator")
        if not isinstance(gen, str) or gen not in (kind.generators or {}):
            raise InputError(f"{name}: generator = {_short(gen)} is not one of its data generators "
                             f"({', '.join(kind.generators or {}) or 'it has none'})")
        table, build = kind.generators[gen]
        prob, spec = build(**resolve(f"{name} generator {gen!r}", table, params))
        prob._spec_params = {"generator": gen, **spec}
        return prob
    if "path" in params:
        if kind.from_file is None:
            raise InputError(f"{name}: unknown parameter 'path'; this problem cannot be loaded from a file")
        path, digest = params.pop("path"), params.pop("sha256", None)
        if not isinstance(path, (str, os.PathLike)):
            raise InputError(f"{name}: path must be a file name, got {_short(path)}")
        p = _resolve(name, params, {"lam": kind.synthetic["lam"]}, " with path=FILE")
        prob = kind.from_file(path, **p)
        if digest is not None and digest != prob._spec_params["sha256"]:
            raise InputError(f"{name}: path {os.fspath(path)!r} has changed since the spec was written "
                             f"(sha256 {prob._spec_params['sha256']} != {digest})")
        return prob
    # array mode is told apart by a parameter only it has (sparse-svm's d and kmeans' k are in both)
    if kind.arrays is not None and any(k in params for k in kind.required if k not in kind.synthetic):
        missing = [k for k in kind.required if k not in params]
        if missing:
            raise InputError(f"{name}: built from arrays, it also needs {', '.join(missing)}")
        p = _resolve(name, params, kind.arrays, " when built from arrays")
        return kind.from_arrays(**p)
    p = _resolve(name, params, kind.synthetic, "")
    for key, param in kind.synthetic.items():
        p.setdefault(key, param.default)
    size = p["m"] * p.get("d", 0) if "d" in p else p["m"] * p.get("p", 1) * p.get("k", 1)
    if size > _MAX_ENTRIES:
        raise InputError(f"{name}: m = {p['m']} samples make {size} entries, more than the limit {_MAX_ENTRIES}")
    if name in _DENSE_CURVATURE and p["d"] ** 2 > _MAX_ENTRIES:
        # L and mu come from the eigenvalues of a d x d matrix (H or the Gram matrix A^T A)
        raise InputError(f"{name}: d = {p['d']} makes a d x d curvature matrix of {p['d'] ** 2} entries, "
                         f"more than the limit {_MAX_ENTRIES} (d <= {math.isqrt(_MAX_ENTRIES)})")
    prob, spec = kind.build(**p)
    prob._spec_params = spec
    return prob


#: the problems whose constants come from a dense d x d matrix
_DENSE_CURVATURE = ("quadratic", "least-squares", "logistic")

#: name -> factory ``(**params) -> Problem``
PROBLEMS: dict[str, Callable[..., Problem]] = {n: (lambda n: lambda **kw: _make(n, **kw))(n) for n in _KINDS}

#: name -> one-line description with the parameters and their defaults
PROBLEM_HELP: dict[str, str] = {n: k.help for n, k in _KINDS.items()}


def make_problem(name: str, seed: int | None = None, params: dict | None = None, **kwargs: Any) -> Problem:
    """Build a registered problem: ``make_problem("least-squares", seed=3, m=20)``.

    ``seed`` defaults to 0 for synthetic data (and must not be given for arrays or a
    file).  ``params`` (a dict) is merged with the keyword arguments, so that
    ``make_problem(**problem.spec())`` rebuilds a problem.  A ``subset`` parameter (a
    list of sample indices) restricts the result (``Problem.subset``).

    >>> make_problem("quadratic", dd=3)
    Traceback (most recent call last):
    ...
    asyncproof.reference.errors.InputError: quadratic: unknown parameter 'dd' = 3; known: seed, d, cond, sigma, m
    """
    if not isinstance(name, str) or name not in PROBLEMS:
        raise InputError(f"unknown problem {name!r}; known: {', '.join(sorted(PROBLEMS))}")
    merged = {}
    if params is not None:
        if not isinstance(params, dict):
            raise InputError(f"params must be a dict of problem parameters, got {_short(params)}")
        merged.update(params)
    for key, value in kwargs.items():
        if key in merged:
            raise InputError(f"{name}: parameter {key!r} given twice (in params and as a keyword)")
        merged[key] = value
    if seed is not None:
        if "seed" in merged:
            raise InputError(f"{name}: parameter 'seed' given twice")
        merged["seed"] = seed
    subset = merged.pop("subset", None)
    local_full = merged.pop("local_full_gradient", None)
    if subset is not None and local_full is not None:
        raise InputError(f"{name}: subset and local_full_gradient cannot be combined")
    prob = PROBLEMS[name](**merged)
    if subset is not None:
        prob = prob.subset(_int_array(subset, "subset") if isinstance(subset, (list, tuple)) else subset)
    if local_full is not None:
        prob = _local_full_gradient(name, prob, local_full)
    return prob


def _local_full_params() -> dict[str, Param]:
    # n and zeta as the parameter-server algorithms declare them: the split must be theirs
    from .parameter_server.common import worker_params
    ps = worker_params()
    return {"n": ps["n"], "zeta": ps["zeta"],
            "seed": Param("seed", int, 0, "the run's seed (the split's)", lo=0, hi=2 ** 64 - 1)}


def _local_full_gradient(name: str, base: Problem, given) -> Problem:
    """``base`` answering batch gradients with the full local gradient (:class:`LocalFullGradient`);
    ``given``: ``{"n": ..., "zeta": ..., "seed": ...}`` or its text ``"n=4,zeta=0,seed=0"``."""
    try:
        if isinstance(given, str):
            given = parse_pairs(given, "local_full_gradient parameter", given)
        p = resolve("local_full_gradient", _local_full_params(), given)
    except InputError as e:
        raise InputError(f"{name}: {e}") from None
    if not isinstance(base, Logistic):
        raise InputError(f"{name}: local_full_gradient: only the logistic problem has it")
    if p["n"] > base.m:
        raise InputError(f"{name}: local_full_gradient: n = {p['n']} workers need at least one sample each; "
                         f"the problem has m = {base.m}")
    return LocalFullGradient(base, p["n"], p["zeta"], p["seed"])
