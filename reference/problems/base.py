"""What every problem shares: :class:`Problem`, its :class:`Kernels`, the input validators, the
parameter helpers, and :data:`PROBLEMS`, into which each problem module declares itself.

A problem module holds its class (a :class:`Problem` evaluated by its :class:`Kernels`), its
parameter tables (:class:`~asyncproof.reference.params.Param`) and its build function, and ends
with ``register(ProblemKind(...))``.  :class:`ProblemKind` builds the problem by name in each of
its modes -- synthetic data (the parameters' defaults resolved), arrays, a LIBSVM file, a named
data generator -- with the same checks and messages for every problem.

:data:`PROBLEMS` is a :class:`~asyncproof.reference.registries.Registry` of the modules of this
package, read in :data:`_ORDER` (the order the problems have always been listed in), a module
not listed there after them, by name.  The package imports it whole when it is imported (the
problem classes are its public names), so ``PROBLEMS`` is complete as soon as it can be read.
"""

from __future__ import annotations

import copy
import math
import os
from dataclasses import dataclass
from typing import Callable, NamedTuple

import numpy as np

from .. import kernels as K
from ..errors import InputError, NonFinite
from ..params import Param, resolve
from ..registries import Registry, modules_of


class Kernels(NamedTuple):
    """The four kernels of a problem; each takes ``*problem.arrays`` first (see :mod:`asyncproof.reference.kernels`)."""
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


def _gram_eigs(A: np.ndarray) -> np.ndarray:
    return np.linalg.eigvalsh(K.gram(A))


# ------------------------------------------------------------------------------------------
# the base class


class Problem:
    """``f(x) = (1/m) sum_{j<m} f_j(x)`` over ``x`` in R^d; see :mod:`asyncproof.reference.problems`.

    Subclasses set, through :meth:`_setup`: ``arrays`` (the kernels' data arguments),
    ``d``, ``m``, ``L``, ``mu``, ``sigma`` and the default start ``x0``; and implement
    :meth:`support`, :meth:`_restrict` (the same class on rows ``idx``) and
    :meth:`_array_params` (the data as JSON lists).
    """

    name: str = "problem"
    kernels: Kernels
    constrained: bool = False           # graph cuts: x must stay in a constraint set (see project)
    G: float | None = None              # a bound on ||grad f_j(x)|| for every j and x, where known
    rule: str = "gradient"              # the step HOGWILD! writes: -gamma grad f_j, or the problem's rule_step

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
        (:class:`~asyncproof.reference.errors.NonFinite` for a NaN or infinite coordinate)."""
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

    def rule_step(self, x, j, gamma) -> np.ndarray:
        """A problem whose ``rule`` is not ``"gradient"``: the step a HOGWILD! core adds for sample ``j``
        when it read ``x``, on the support (sparse-svm's ``rule="v03a"``)."""
        raise InputError(f"{self.name}: rule = {self.rule!r} has no update of its own (its step is -gamma grad f_j)")

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
# parameter helpers (each problem's tables are made of these)


def _check(fn, text):
    return lambda v: None if v is None or fn(v) else f"{text}, got {v!r}"


def _int_param(name, default, lo, help_):
    return Param(name, int, default, help_, _check(lambda v: v >= lo, f"{name} must be >= {lo}"))


def _float_param(name, default, help_, ok=lambda v: v >= 0, need="finite and >= 0"):
    return Param(name, float, default, help_, _check(lambda v: math.isfinite(v) and ok(v), f"{name} must be {need}"))


_SEED = _int_param("seed", 0, 0, "seed of the synthetic data")


def _arr(name, help_):
    return Param(name, "list", None, help_)


def _params(*ps: Param) -> dict:
    return {p.name: p for p in ps}


_MAX_ENTRIES = 50_000_000     # a typo like m=1e9 should be an error, not an out-of-memory


# ------------------------------------------------------------------------------------------
# the registry: each problem module declares a ProblemKind


@dataclass(frozen=True)
class ProblemKind:
    """One problem of :data:`PROBLEMS`: its parameter sets (by mode) and its builders; called with
    the parameters, it builds the problem (``PROBLEMS["quadratic"](d=3)``)."""
    name: str                            # the problem's name, its class's ``name``
    help: str                            # one line: what it is, its parameters and their defaults
    synthetic: dict                      # mode "built by name": the parameters of ``build``
    build: Callable                      # (**synthetic) -> (problem, its spec params, defaults resolved)
    arrays: dict | None = None           # mode "built from arrays": required + optional params
    required: tuple = ()
    from_arrays: Callable | None = None
    from_file: Callable | None = None    # mode "loaded from a LIBSVM file"
    generators: dict | None = None       # mode "made by a named generator": name -> (params, build)
    dense_curvature: bool = False        # L and mu come from the eigenvalues of a dense d x d matrix

    def __call__(self, **params) -> Problem:
        return _make(self, **params)


#: PROBLEMS' order, by module: the order the problems were added in and are documented in (the table of
#: ``__init__.py``), which their names would not give; a module not listed comes after these, by name
_ORDER = ("quadratic", "least_squares", "logistic", "sparse_svm", "kmeans", "matrix_completion", "graph_cuts",
          "double_well")


def _modules() -> list[str]:
    found = modules_of(__package__, families=None)
    listed = [m for m in (f"{__package__}.{name}" for name in _ORDER) if m in found]
    return listed + [m for m in found if m not in listed]


#: name -> :class:`ProblemKind` (a factory ``(**params) -> Problem``), declared by the modules of this package
PROBLEMS: Registry = Registry("problem", _modules)


def register(kind: ProblemKind) -> ProblemKind:
    """Declare ``kind`` into :data:`PROBLEMS` under its name (called at the top level of its module)."""
    return PROBLEMS.add(kind.name, kind)


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


def _make(kind: ProblemKind, **params) -> Problem:
    name = kind.name
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
    if kind.dense_curvature and p["d"] ** 2 > _MAX_ENTRIES:
        # L and mu come from the eigenvalues of a d x d matrix (H or the Gram matrix A^T A)
        raise InputError(f"{name}: d = {p['d']} makes a d x d curvature matrix of {p['d'] ** 2} entries, "
                         f"more than the limit {_MAX_ENTRIES} (d <= {math.isqrt(_MAX_ENTRIES)})")
    prob, spec = kind.build(**p)
    prob._spec_params = spec
    return prob
