"""Independent oracles for the problems' kernels, and the guarantee that checks the kernels with them.

The kernels (:mod:`asyncproof.reference.kernels`) are the one place every algorithm gets
its values and gradients from, so a check that recomputes a gradient *with the kernels*
cannot see a bug in them.  This module states every objective a second time, in a
different style (vectorised numpy over all samples, from the definitions in
:mod:`asyncproof.reference.problems`' docstrings, never calling a kernel), and derives
the gradients that matter from **values** by central differences:

* :class:`Oracle` -- ``values(x)`` (every ``f_j(x)``), ``grads(x)`` (every ``grad f_j(x)``,
  the analytic formula written out with numpy), and where the nonsmooth problems
  (sparse SVM's hinge, k-means' nearest centroid, graph cuts' ``|.|``) have kinks:
  ``safe(x, h)`` (the finite-difference stencil stays on one smooth piece) and
  ``ambiguous(x)`` (``x`` sits, up to rounding, on a kink: the subgradient convention
  cannot be told from rounding there);
* :func:`central_differences` -- the gradients of every ``f_j`` by central differences
  at two steps ``h`` and ``h/2``, with a tolerance derived from them: the difference
  of the two estimates bounds the truncation error, ``64 eps (1 + |f_j|) / h`` the
  rounding error of the values;
* :func:`documented_generator` -- the sample streams' documented key ``(seed, stream,
  iteration)`` of :mod:`asyncproof.reference.rng`, restated with numpy (the stream
  numbers are written here, not imported).

The guarantee ``kernel-gradients`` (on ``sgd`` and ``batch-gd``) checks, at every point a
run took a gradient at, and at a point keyed by the run's seed on one small instance of
each of the seven problems (so every example covers every problem, whichever one
Hypothesis drew): the kernels' values against the oracle's values, the kernels'
``sample_grad``, ``grad`` and ``batch_grad`` and the oracle's own analytic gradients
against central differences of the oracle's values; and the step the run took
(``(x_t - x_{t+1}) / gamma``) against the central difference of the function it
descends.  An update rule of a problem's own (sparse-svm ``rule="v03a"``, the original HOGWILD! SVM update)
is checked at a seed-keyed point of a small instance too (:func:`check_update_at`): the kernel's
step against the oracle's numpy statement of the rule, and that statement against the oracle's
gradient (the rule is ``-gamma grad f_j`` to first order in gamma).
Each kernel is checked twice: as compiled by Numba, and as plain Python
(the kernels' module executed again with the JIT disabled), so both ways the project
runs are covered in every process.

>>> from asyncproof.reference.problems import make_problem
>>> p = make_problem("logistic", m=3, d=2, seed=1)
>>> o = Oracle(p)
>>> x = np.array([0.5, -1.0])
>>> bool(np.allclose(o.values(x), [p.sample_value(x, j) for j in range(3)], rtol=1e-12))
True
>>> fd, tol = central_differences(o.values, x)
>>> bool(np.all(np.abs(fd - o.grads(x)) <= tol))
True
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache

import numpy as np
from hypothesis import strategies as st

from ..reference import kernels as K
from ..reference.kernels import kernel, sigmoid
from .guarantees import Case, Guarantee, register
from .strategies import SMALL_PROBLEMS, iterations, seeds, step_sizes
from .variants import variant

EPS = float(np.finfo(np.float64).eps)

# ---------------------------------------------------------------------------------------
# the documented keying of the sample streams (reference/rng.py), restated

#: ``STREAM_SAMPLER``: the samples iteration t uses (SGD, mini-batch SGD)
SAMPLER_STREAM = 0
#: ``STREAM_SPLIT``: SimuParallelSGD's partition (iteration 0) and node i's shuffle (iteration 1 + i)
SPLIT_STREAM = 1_000_033


def documented_generator(seed: int, stream: int, iteration: int) -> np.random.Generator:
    """PCG64 seeded by ``SeedSequence([seed, stream, iteration])``: the documented key of every draw."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([int(seed), int(stream), int(iteration)])))


def documented_batch(seed: int, t: int, m: int, b: int) -> np.ndarray:
    """Iteration t's ``b`` samples, uniform with replacement over ``0 .. m-1``."""
    return documented_generator(seed, SAMPLER_STREAM, t).integers(0, m, size=b)


#: the parameter-server workers' streams: worker k draws from stream LOCAL_STREAM + k
LOCAL_STREAM = 0


def documented_local_samples(split, seed: int, worker: int, key: int, batch: int) -> list[int]:
    """Worker ``worker``'s draw number ``key`` (its job serial, or serial·Q + q for FedBuff's local
    steps): ``batch`` uniform positions in its split, from the key (seed, LOCAL_STREAM + worker, key),
    as ``reference/parameter_server/common.py`` documents (not computed with its helper)."""
    pos = documented_generator(seed, LOCAL_STREAM + worker, key).integers(0, len(split), size=batch)
    return [int(split[i]) for i in pos]


# ---------------------------------------------------------------------------------------
# the objectives, stated again with numpy


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))          # 1 / (1 + exp(-z)), without overflow


class Oracle:
    """Every ``f_j`` of ``problem``, written out with numpy from the problems' definitions.

    Only the problem's *data* is read (``problem.arrays``: matrices, labels, edges) and
    the parameters it was built from (``lam``, ``mu``); derived constants (the sparse SVM's
    ``reg[u] = lam m / d_u``, matrix completion's ``mu_u = mu m / (2 |E_u|)``) are
    recomputed here from their definitions.
    """

    def __init__(self, problem):
        self.problem = problem
        self.name = problem.name
        self.m, self.d = problem.m, problem.d
        a = problem.arrays
        spec = problem.spec()["params"]
        if "subset" in spec:      # a subset keeps its parent's reg / mu_u, mu_v: state the parent instead
            raise ValueError("the oracle states whole problems; build it for the parent of a subset")
        if self.name == "quadratic":
            self.H, self.x_star, self.xi = a
        elif self.name == "least-squares":
            self.A, self.b = a
        elif self.name == "logistic":
            self.A, self.y, self.lam = a
        elif self.name == "sparse-svm":
            indptr, indices, data, self.y, _ = a
            self.Z = np.zeros((self.m, self.d))
            self.on = np.zeros((self.m, self.d), dtype=bool)       # the stored entries (explicit zeros too)
            for j in range(self.m):
                cols = indices[indptr[j]:indptr[j + 1]]
                self.Z[j, cols] = data[indptr[j]:indptr[j + 1]]
                self.on[j, cols] = True
            used = self.on.sum(axis=0)                              # d_u: samples whose support holds u
            self.deg = used
            self.rule = spec.get("rule", "gradient")
            if self.rule == "v03a":                                 # mu x_u^2 / (2 d_u) per sample: v03a's shrink
                self.rule_mu = spec["mu"]
                self.reg = np.where(used > 0, self.rule_mu / (2.0 * np.maximum(used, 1)), 0.0)
            else:
                lam = spec["lam"] if "lam" in spec else problem.lam
                self.reg = np.where(used > 0, lam * self.m / np.maximum(used, 1), 0.0)
        elif self.name == "kmeans":
            self.S, self.k = a
            self.p = self.S.shape[1]
        elif self.name == "matrix-completion":
            self.rows, self.cols, self.vals, mu_u, mu_v, self.nr, self.r = a
            self.nc = problem.n_cols
            if "mu" in spec:                                        # HOGWILD!'s split of mu/2 (|L|^2 + |R|^2)
                mu = spec["mu"]
                cu = np.bincount(self.rows, minlength=self.nr)
                cv = np.bincount(self.cols, minlength=self.nc)
                self.mu_u = np.where(cu > 0, mu * self.m / (2.0 * np.maximum(cu, 1)), 0.0)
                self.mu_v = np.where(cv > 0, mu * self.m / (2.0 * np.maximum(cv, 1)), 0.0)
            else:                                                   # given per row and column: data
                self.mu_u, self.mu_v = mu_u, mu_v
        elif self.name == "graph-cuts":
            self.eu, self.ev, self.w, self.K = a
            self.nodes = problem.nodes
        else:
            raise ValueError(f"no oracle for problem {self.name!r}")

    # -- values and analytic gradients ------------------------------------------------------

    def values(self, x) -> np.ndarray:
        """``[f_0(x), ..., f_{m-1}(x)]``."""
        x = np.asarray(x, dtype=np.float64)
        n = self.name
        if n == "quadratic":
            e = x - self.x_star
            return 0.5 * (e @ self.H @ e) + self.xi @ x
        if n == "least-squares":
            return 0.5 * (self.A @ x - self.b) ** 2
        if n == "logistic":
            return np.logaddexp(0.0, -self.y * (self.A @ x)) + self.lam * np.sum(x * x / (1.0 + x * x))
        if n == "sparse-svm":
            hinge = np.maximum(1.0 - self.y * (self.Z @ x), 0.0)
            return hinge + (self.on * (self.reg * x * x)).sum(axis=1)
        if n == "kmeans":
            return 0.5 * self._dists(x).min(axis=1)
        if n == "matrix-completion":
            L, R = self._factors(x)
            Lu, Rv = L[self.rows], R[self.cols]
            e = (Lu * Rv).sum(axis=1) - self.vals
            return e * e + self.mu_u[self.rows] * (Lu * Lu).sum(axis=1) + self.mu_v[self.cols] * (Rv * Rv).sum(axis=1)
        X = x.reshape(self.nodes, self.K)                            # graph cuts
        return self.w * np.abs(X[self.eu] - X[self.ev]).sum(axis=1)

    def grads(self, x) -> np.ndarray:
        """Row j is ``grad f_j(x)`` (the subgradient conventions of the problems' docstrings at kinks)."""
        x = np.asarray(x, dtype=np.float64)
        n = self.name
        if n == "quadratic":
            return (self.H @ (x - self.x_star))[None, :] + self.xi
        if n == "least-squares":
            return (self.A @ x - self.b)[:, None] * self.A
        if n == "logistic":
            z = -self.y * (self.A @ x)
            return (-self.y * _sigmoid(z))[:, None] * self.A + 2.0 * self.lam * x / (1.0 + x * x) ** 2
        if n == "sparse-svm":
            active = 1.0 - self.y * (self.Z @ x) > 0.0
            return np.where(active[:, None], -self.y[:, None] * self.Z, 0.0) + self.on * (2.0 * self.reg * x)
        g = np.zeros((self.m, self.d))
        if n == "kmeans":
            c = self._dists(x).argmin(axis=1)                        # ties: the lowest index
            for j in range(self.m):
                g[j, c[j] * self.p:(c[j] + 1) * self.p] = x[c[j] * self.p:(c[j] + 1) * self.p] - self.S[j]
            return g
        if n == "matrix-completion":
            L, R = self._factors(x)
            r, off = self.r, self.nr * self.r
            for j in range(self.m):
                u, v = self.rows[j], self.cols[j]
                e = L[u] @ R[v] - self.vals[j]
                g[j, u * r:(u + 1) * r] = 2.0 * e * R[v] + 2.0 * self.mu_u[u] * L[u]
                g[j, off + v * r:off + (v + 1) * r] = 2.0 * e * L[u] + 2.0 * self.mu_v[v] * R[v]
            return g
        X = x.reshape(self.nodes, self.K)                            # graph cuts: w sign(x_u - x_v), sign(0) = 0
        s = self.w[:, None] * np.sign(X[self.eu] - X[self.ev])
        for j in range(self.m):
            g[j, self.eu[j] * self.K:(self.eu[j] + 1) * self.K] += s[j]
            g[j, self.ev[j] * self.K:(self.ev[j] + 1) * self.K] -= s[j]
        return g

    def v03a_steps(self, x, gamma) -> np.ndarray:
        """Row j: the original HOGWILD! (v03a) SVM update of sample j at ``x`` as the step ``w - x`` on the
        support of ``z_j`` (0 elsewhere), ``w = (x + gamma y_j z_j [y_j z_j^T x < 1]) * (1 - gamma mu / d)``
        (sparse-svm with ``rule="v03a"``; the issue's "if y s < 1 then w_j += x_j gamma y; then always
        w_j *= 1 - gamma mu / deg_j")."""
        x = np.asarray(x, dtype=np.float64)
        active = self.y * (self.Z @ x) < 1.0
        shrink = 1.0 - gamma * self.rule_mu / np.maximum(self.deg, 1)
        w = (x[None, :] + np.where(active[:, None], gamma * self.y[:, None] * self.Z, 0.0)) * shrink[None, :]
        return np.where(self.on, w - x[None, :], 0.0)

    def _dists(self, x):
        W = x.reshape(self.k, self.p)
        return ((self.S[:, None, :] - W[None, :, :]) ** 2).sum(axis=2)

    def _factors(self, x):
        off = self.nr * self.r
        return x[:off].reshape(self.nr, self.r), x[off:].reshape(self.nc, self.r)

    # -- kinks ----------------------------------------------------------------------------

    def safe(self, x, h) -> np.ndarray:
        """``safe[j, i]``: ``f_j`` is smooth on ``[x - h_i e_i, x + h_i e_i]`` (or, for ``|t|`` at
        exactly ``t = 0``, symmetric there, so the central difference is the convention 0)."""
        x = np.asarray(x, dtype=np.float64)
        ok = np.ones((self.m, self.d), dtype=bool)
        if self.name == "sparse-svm":
            margin = np.abs(1.0 - self.y * (self.Z @ x))
            ok = (self.Z == 0.0) | (margin[:, None] > 2.0 * np.abs(self.Z) * h[None, :])
        elif self.name == "kmeans" and self.k > 1:
            D = np.sort(self._dists(x), axis=1)
            gap = D[:, 1] - D[:, 0]
            W = x.reshape(self.k, self.p)
            for j in range(self.m):
                move = 2.0 * np.abs(W - self.S[j]).ravel() * h + h * h        # how far d_c can move
                ok[j] = gap[j] > 4.0 * move
        elif self.name == "graph-cuts":
            X = x.reshape(self.nodes, self.K)
            t = np.abs(X[self.eu] - X[self.ev])
            for j in range(self.m):
                for blk in (self.eu[j], self.ev[j]):
                    sl = slice(blk * self.K, (blk + 1) * self.K)
                    ok[j, sl] = (t[j] == 0.0) | (t[j] > 2.0 * h[sl])
        return ok

    def ambiguous(self, x) -> np.ndarray:
        """``f_j`` is on a kink at ``x`` up to rounding: which subgradient the convention picks
        depends on the last bit of a sum, so a comparison there proves nothing."""
        x = np.asarray(x, dtype=np.float64)
        if self.name == "sparse-svm":
            t = self.Z @ x
            return np.abs(1.0 - self.y * t) <= 1e-9 * (1.0 + np.abs(self.Z) @ np.abs(x))
        if self.name == "kmeans" and self.k > 1:
            D = np.sort(self._dists(x), axis=1)
            return D[:, 1] - D[:, 0] <= 1e-9 * (1.0 + D[:, 1])
        return np.zeros(self.m, dtype=bool)


def fd_steps(x) -> np.ndarray:
    """The central-difference step of each coordinate: ``2^-17 max(1, |x_i|)`` (about ``eps^(1/3)``)."""
    return 2.0 ** -17 * np.maximum(1.0, np.abs(np.asarray(x, dtype=np.float64)))


def central_differences(values, x, h=None) -> tuple[np.ndarray, np.ndarray]:
    """``(D, tol)``: ``D[j, i]`` the central difference of ``f_j`` in coordinate ``i`` (step
    ``h_i / 2``), and the tolerance of ``|grad f_j - D|``: four times its distance from the
    estimate with step ``h_i`` (the truncation error), plus the rounding error of the
    values, ``64 eps (1 + |f_j|) / h_i``, plus ``1e-9 |D|``.
    """
    x = np.asarray(x, dtype=np.float64)
    h = fd_steps(x) if h is None else h
    f0 = np.abs(values(x))
    ests = []
    for step in (h, h / 2):
        D = np.empty((f0.shape[0], x.shape[0]))
        for i in range(x.shape[0]):
            xp, xm = x.copy(), x.copy()
            xp[i] += step[i]
            xm[i] -= step[i]
            D[:, i] = (values(xp) - values(xm)) / (xp[i] - xm[i])
        ests.append(D)
    coarse, fine = ests
    tol = 4.0 * np.abs(coarse - fine) + 64.0 * EPS * (1.0 + f0)[:, None] / h[None, :] + 1e-9 * np.abs(fine)
    return fine, tol


# ---------------------------------------------------------------------------------------
# the kernels as plain Python, beside the compiled ones


@lru_cache(maxsize=1)
def interpreted_kernels():
    """:mod:`asyncproof.reference.kernels` executed again with ``NUMBA_DISABLE_JIT`` in force:
    the same source as plain Python functions (what a run with ``NUMBA_DISABLE_JIT=1`` executes).
    ``None`` where the JIT is already off (then the kernels in use are these)."""
    from numba.core import config
    if config.DISABLE_JIT:
        return None
    spec = importlib.util.spec_from_file_location("asyncproof_kernels_interpreted", K.__file__)
    mod = importlib.util.module_from_spec(spec)
    config.DISABLE_JIT = True
    try:
        spec.loader.exec_module(mod)
    finally:
        config.DISABLE_JIT = False
    return mod


def kernel_modes(problem) -> list[tuple[str, object]]:
    """``[(mode, kernels)]``: the problem's kernels as it runs them, and their interpreted twins."""
    from numba.core import config
    used = problem.kernels
    out = [("NUMBA_DISABLE_JIT=1" if config.DISABLE_JIT else "compiled", used)]
    interp = interpreted_kernels()
    if interp is not None:
        out.append(("NUMBA_DISABLE_JIT=1", type(used)(*(_interpreted(interp, f) for f in used))))
    return out


def _interpreted(interp, f):
    """The plain-Python twin of kernel ``f``: from the re-executed module if ``f`` is one of the
    reference's kernels, else its own ``py_func`` (a kernel compiled elsewhere)."""
    if getattr(K, f.__name__, None) is f:
        return getattr(interp, f.__name__)
    return getattr(f, "py_func", f)


# ---------------------------------------------------------------------------------------
# small instances of every problem (the baselines' strategies plus the two seed-002 ones)


def _mc(draw):
    nr, nc = draw(st.integers(2, 3)), draw(st.integers(2, 3))
    return {"n_rows": nr, "n_cols": nc, "rank": draw(st.integers(1, 2)),
            "m": min(draw(st.integers(2, 6)), nr * nc), "seed": draw(st.integers(0, 50))}


def _cuts(draw):
    nodes = draw(st.integers(3, 5))
    return {"nodes": nodes, "m": min(draw(st.integers(2, 6)), nodes * (nodes - 1) // 2),
            "labels": draw(st.integers(2, 3)), "seed": draw(st.integers(0, 50))}


#: the seven problems, the ones with a nonlinear or nonsmooth gradient first: Hypothesis starts
#: from (and shrinks toward) the first, so the simplest example already exercises a regulariser
ORACLE_PROBLEMS = ["logistic", "graph-cuts", "matrix-completion", "sparse-svm", "kmeans", "least-squares", "quadratic"]


@st.composite
def every_problem(draw, min_m: int = 1) -> dict:
    """A small instance of any of the seven problems, with ``m >= min_m`` samples (``min_m <= 3``)."""
    from ..reference.problems import make_problem
    name = draw(st.sampled_from(ORACLE_PROBLEMS))
    if name == "matrix-completion":
        params = _mc(draw)
    elif name == "graph-cuts":
        params = _cuts(draw)
    else:
        params = dict(draw(SMALL_PROBLEMS[name]))
    if "m" in params:
        params["m"] = max(params["m"], min_m)
    elif name == "quadratic" and min_m > 1:
        params["m"] = min_m
    make_problem(name, **params)
    return {"name": name, "params": params}


# ---------------------------------------------------------------------------------------
# the guarantee


def _start(result) -> np.ndarray:
    x0 = result.params.get("x0")
    return result.problem.x0 if x0 is None else np.asarray(x0, dtype=np.float64)


def gradient_points(result) -> list[tuple[int, np.ndarray, np.ndarray | None]]:
    """``[(t, x_t, x_{t+1})]`` for every gradient step the run recorded (process 0's ``x``)."""
    xs = [_start(result)] + [np.asarray(v) for v in result.trace.records("x", 0)]
    return [(t, xs[t], xs[t + 1]) for t in range(len(xs) - 1)]


def _compare(what: str, got, want, tol, mask=None) -> str | None:
    bad = np.abs(np.asarray(got) - want) > tol
    if mask is not None:
        bad &= mask
    if not np.any(bad):
        return None
    idx = tuple(int(i) for i in np.argwhere(bad)[0])
    g, w, tl = np.asarray(got)[idx], np.asarray(want)[idx], np.broadcast_to(tol, np.shape(want))[idx]
    at = f" {', '.join(map(str, idx))}" if idx else ""
    return (f"{what}{at}: {float(g)!r}, but the oracle says {float(w)!r} "
            f"(|difference| {abs(g - w):.3g} > tolerance {tl:.3g})")


def derivatives(oracle, x) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(D, tol, safe)`` at ``x``: the oracle's central differences of every ``f_j``, their
    tolerance, and where the stencils (of both steps) stay on one smooth piece."""
    h = fd_steps(x)
    D, tol = central_differences(oracle.values, x, h)
    return D, tol, oracle.safe(x, h) & oracle.safe(x, h / 2)


def check_kernels_at(problem, oracle, x, label: str, derivs=None) -> str | None:
    """The problem's kernels (compiled and interpreted) at ``x`` against the oracle."""
    m, d = problem.m, problem.d
    D, tol, safe = derivs or derivatives(oracle, x)
    fv = oracle.values(x)
    vtol = 1e-10 * (1.0 + np.abs(fv))
    if msg := _compare(f"{problem.name}: the oracle's analytic grad f_j at {label}, [j, i] =", oracle.grads(x), D,
                       tol, safe & ~oracle.ambiguous(x)[:, None]):
        return msg + " (central difference)"
    every = np.arange(m, dtype=np.int64)
    idx = np.array([m - 1, 0, m - 1], dtype=np.int64)                   # a batch with a repeat
    x = np.ascontiguousarray(x, dtype=np.float64)
    for mode, kern in kernel_modes(problem):
        where = f"{problem.name}: kernel {{}} ({mode}) at {label}"
        vals = np.array([kern.sample_value(*problem.arrays, j, x) for j in range(m)])
        if msg := _compare(where.format("sample_value") + ", f_j for j =", vals, fv, vtol):
            return msg
        batch = np.asarray(kern.batch_value(*problem.arrays, idx, x))
        if msg := _compare(where.format("batch_value") + f" over {idx.tolist()}", batch,
                           np.asarray(fv[idx].mean()), vtol[idx].mean()):
            return msg
        G = np.empty((m, d))
        for j in range(m):
            kern.sample_grad(*problem.arrays, j, x, G[j])
        if msg := _compare(where.format("sample_grad") + ", grad f_j [j, i] =", G, D, tol, safe):
            return msg + " (central difference of the oracle's f_j)"
        for what, rows in (("over all samples (grad f)", every), (f"over {idx.tolist()}", idx)):
            out = np.empty(d)
            kern.batch_grad(*problem.arrays, rows, x, out)
            if msg := _compare(where.format("batch_grad") + f" {what}, coordinate", out, D[rows].mean(axis=0),
                               tol[rows].mean(axis=0), safe[rows].all(axis=0)):
                return msg + " (central difference of the oracle's mean)"
    return None


def rule_kernel_modes(problem) -> list[tuple[str, object]]:
    """``[(mode, kernel)]``: the problem's update-rule kernel as it runs it, and its interpreted twin."""
    from numba.core import config
    used = problem.rule_kernel
    out = [("NUMBA_DISABLE_JIT=1" if config.DISABLE_JIT else "compiled", used)]
    interp = interpreted_kernels()
    if interp is not None:
        out.append(("NUMBA_DISABLE_JIT=1", _interpreted(interp, used)))
    return out


def check_update_at(problem, oracle, x, gamma: float, label: str, rule_kernel=None) -> str | None:
    """A problem's update rule (sparse-svm ``rule="v03a"``) at ``x`` with step ``gamma``: the oracle's
    statement against its own gradient (``-g/gamma = grad f_j + gamma (mu/d_u) y_j z_j`` where the hinge
    is active, else ``grad f_j``: the rule is ``-gamma grad f_j`` to first order), then the problem's kernel
    (compiled and interpreted; or ``rule_kernel`` alone) against the oracle's step on every support.
    Samples on the hinge's kink (up to rounding) are skipped: which branch rounding picks is no bug."""
    x = np.ascontiguousarray(x, dtype=np.float64)
    want = oracle.v03a_steps(x, gamma)
    skip = oracle.ambiguous(x)
    ok = oracle.on & ~skip[:, None]
    active = oracle.y * (oracle.Z @ x) < 1.0
    extra = np.where(active[:, None], gamma * (oracle.rule_mu / np.maximum(oracle.deg, 1)) * oracle.y[:, None]
                     * oracle.Z, 0.0)
    scale = np.abs(x)[None, :] + np.abs(want + x[None, :])
    gtol = 16.0 * EPS * scale / gamma + 1e-12 * (1.0 + np.abs(extra))
    if msg := _compare(f"{problem.name}: the oracle's v03a step at {label}, gamma = {gamma!r}, "
                       f"(-g/gamma - grad f_j - gamma (mu/d) y z [active]) [j, i] =",
                       -want / gamma - oracle.grads(x) - extra, np.zeros_like(want), gtol, ok):
        return msg
    tol = 8.0 * EPS * scale + 1e-300
    indptr = problem.arrays[0]
    modes = [("given", rule_kernel)] if rule_kernel is not None else rule_kernel_modes(problem)
    for mode, kern in modes:
        got = np.zeros_like(want)
        for j in range(problem.m):
            out = np.empty(indptr[j + 1] - indptr[j])
            kern(*problem.rule_arrays_at(gamma), j, x, float(gamma), out)
            got[j, problem.support(j)] = out
        if msg := _compare(f"{problem.name}: kernel rule_step ({mode}) at {label}, gamma = {gamma!r}, the step "
                           f"g [j, i] =", got, want, tol, ok):
            return msg + " (the oracle's v03a update)"
    return None


#: one small instance of every problem, its data seeded by the run's seed (see :func:`spot_problems`)
SPOT_SPECS = {
    "quadratic": {"d": 3, "sigma": 0.5, "m": 3},
    "least-squares": {"m": 5, "d": 3},
    "logistic": {"m": 5, "d": 3},
    "sparse-svm": {"m": 6, "d": 4},
    "kmeans": {"m": 6, "p": 2, "k": 2},
    "matrix-completion": {"n_rows": 2, "n_cols": 3, "rank": 2, "m": 5},
    "graph-cuts": {"nodes": 4, "m": 5, "labels": 3},
}


@lru_cache(maxsize=64)
def spot_problems(seed: int) -> tuple:
    """``((problem, x), ...)``: every problem of :data:`SPOT_SPECS` with data seed ``seed mod 51``, and a
    point ``x0 + s z`` (``z`` standard normal, ``s`` in 0.1, 1, 4) drawn from the key ``(seed, 7, k)``."""
    from ..reference.problems import make_problem
    out = []
    for k, (name, params) in enumerate(SPOT_SPECS.items()):
        p = make_problem(name, seed=seed % 51, **params)
        g = np.random.default_rng([seed, 7, k])
        out.append((p, p.x0 + (0.1, 1.0, 4.0)[seed % 3] * g.standard_normal(p.d)))
    return tuple(out)


#: one small instance of every update rule other than the gradient step, checked by :func:`check_update_at`
SPOT_RULES = {"sparse-svm": {"m": 6, "d": 4, "rule": "v03a", "mu": 0.5}}


@lru_cache(maxsize=64)
def spot_rule_problems(seed: int) -> tuple:
    """``((problem, x, gamma), ...)``: every instance of :data:`SPOT_RULES` with data seed ``seed mod 51``,
    a point drawn as by :func:`spot_problems` (keys ``(seed, 7, k)`` after theirs) and gamma in 0.05, 0.5, 1.5."""
    from ..reference.problems import make_problem
    out = []
    for k, (name, params) in enumerate(SPOT_RULES.items(), start=len(SPOT_SPECS)):
        p = make_problem(name, seed=seed % 51, **params)
        g = np.random.default_rng([seed, 7, k])
        out.append((p, p.x0 + (0.1, 1.0, 4.0)[seed % 3] * g.standard_normal(p.d), (0.05, 0.5, 1.5)[seed // 3 % 3]))
    return tuple(out)


def check_every_kernel(seed: int) -> str | None:
    """Every problem's kernels against the oracle at the point :func:`spot_problems` keys by ``seed``, and
    every update rule's (:func:`spot_rule_problems`)."""
    for p, x in spot_problems(seed):
        if msg := check_kernels_at(p, Oracle(p), x, f"a point keyed by seed {seed}"):
            return msg
    for p, x, gamma in spot_rule_problems(seed):
        o = Oracle(p)
        label = f"a point keyed by seed {seed}"
        if msg := check_kernels_at(p, o, x, label) or check_update_at(p, o, x, gamma, label):
            return msg
    return None


def check_kernel_gradients(result) -> str | None:
    if msg := check_every_kernel(result.schedule.seed):
        return msg
    problem = result.problem
    oracle = Oracle(problem)
    gamma = result.params["gamma"]
    js = result.trace.records("j", 0) if "j" in (result.trace.declared or {}) else []   # SGD declares its samples
    for t, x, x_next in gradient_points(result):
        D, tol, safe = derivs = derivatives(oracle, x)
        if msg := check_kernels_at(problem, oracle, x, f"x_{t}", derivs):
            return msg
        # the step the run took is -gamma times the derivative of the function it descends
        if js:                                     # SGD: f_{j_t}
            j = int(js[t])
            want, tl, ok, of = D[j], tol[j], safe[j], f"f_{j}"
        else:                                      # batch GD: f
            want, tl, ok, of = D.mean(axis=0), tol.mean(axis=0), safe.all(axis=0), "f"
        step = (x - x_next) / gamma
        tl = tl + 4.0 * EPS * np.maximum(np.abs(x), np.abs(x_next)) / gamma
        if msg := _compare(f"{problem.name}: the step of iteration {t}, (x_{t} - x_{t + 1}) / gamma, coordinate",
                           step, want, tl, ok):
            return msg + f" (central difference of {of} at x_{t})"
    return None


#: problems whose gradient has a nonlinear or nonsmooth part (least squares and the quadratic are linear)
NONLINEAR = ("logistic", "sparse-svm", "kmeans", "matrix-completion", "graph-cuts")


def _nonlinear_step_checked(result) -> bool:
    """T >= 2 on a problem with a nonlinear or nonsmooth gradient, and x_1 != x_0 (a point the
    start did not choose), with every coordinate of the descended function smooth there."""
    p = result.problem
    pts = gradient_points(result)
    if p.name not in NONLINEAR or (p.name == "kmeans" and p.k < 2) or len(pts) < 2:
        return False
    _, x1, _ = pts[1]
    if not np.any(x1 != pts[0][1]):
        return False
    o = Oracle(p)
    h = fd_steps(x1)
    return bool(o.safe(x1, h).all())


def _draw_kernels(data, algorithm: str) -> Case:
    params = {"gamma": data.draw(step_sizes(), label="gamma"), "T": data.draw(iterations(lo=2), label="T")}
    if algorithm == "batch-gd":
        params["n"] = data.draw(st.integers(1, 3), label="n")
    problem = data.draw(every_problem(min_m=params.get("n", 1)), label="problem")
    return Case(algorithm, problem, params, data.draw(seeds(), label="seed"))


register(Guarantee(
    name="kernel-gradients",
    statement="at every point a run took a gradient, and at a seed-keyed point of each of the seven problems, "
              "the kernels' values equal an independent numpy statement of the objective and their gradients "
              "(compiled and interpreted) its central differences; the step taken is -gamma times the "
              "derivative of the function descended",
    source="reference/problems/ definitions; seed 003 Algorithms 1-2; design notes, 'Problems'",
    algorithms=("sgd", "batch-gd"),
    draw=_draw_kernels,
    check=check_kernel_gradients,
    hard=_nonlinear_step_checked,
    hard_case="a nonlinear/nonsmooth problem checked at x_1 != x_0, no kink in the stencil",
    broken={"sgd": "broken-sgd-logistic-reg-grad-missing-2", "batch-gd": "broken-batch-gd-cut-grad-sign"},
))

# ---------------------------------------------------------------------------------------
# the broken variants kernel-gradients must catch: a kernel with one mistake in its formula


@kernel
def _logreg_sample_grad_missing_2(A, y, lam, j, x, out):
    t = 0.0
    for a in range(x.shape[0]):
        t += A[j, a] * x[a]
    c = -y[j] * sigmoid(-y[j] * t)
    for a in range(x.shape[0]):
        w = 1.0 + x[a] * x[a]
        out[a] = c * A[j, a] + lam * (x[a] / (w * w))    # the mistake: d/dx x^2/(1+x^2) is 2x/(1+x^2)^2


@kernel
def _cut_batch_grad_same_sign(eu, ev, w, K, idx, x, out):
    out[:] = 0.0
    for k in range(idx.shape[0]):
        j = idx[k]
        a = eu[j] * K
        b = ev[j] * K
        for c in range(K):
            t = x[a + c] - x[b + c]
            g = w[j] if t > 0.0 else (-w[j] if t < 0.0 else 0.0)
            out[a + c] += g
            out[b + c] += g                             # the mistake: x_v's entry is -g
    for q in range(x.shape[0]):
        out[q] = out[q] / idx.shape[0]


variant("broken-sgd-logistic-reg-grad-missing-2", of="sgd", mistake="logistic kernel's regulariser gradient / 2",
        kernels={"logistic": {"sample_grad": _logreg_sample_grad_missing_2}})
variant("broken-batch-gd-cut-grad-sign", of="batch-gd", mistake="graph-cuts kernel's sign error on x_v",
        kernels={"graph-cuts": {"batch_grad": _cut_batch_grad_same_sign}})

