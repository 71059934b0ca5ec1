"""The math of every objective, written once as Numba kernels.

``reference/`` calls these kernels one sample at a time; ``fast/`` calls the same
compiled functions from real threads (they are compiled with ``nogil=True``).
Because both sides run the same machine code, a gradient computed by a worker in
``fast/`` is the gradient the reference computes for the same job, bit for bit.

Determinism rules (design notes, "Determinism rules"), and how the kernels keep them:

* float64 everywhere, no ``fastmath``: LLVM may then neither reassociate nor fuse
  ``a * b + c`` into an FMA, so the compiled code rounds exactly like the
  interpreted code and ``NUMBA_DISABLE_JIT=1`` gives the same bits.
* every reduction is a scalar ``for`` loop in index order (no ``np.dot``, ``np.sum``,
  ``@``: their blocking and summation order depend on the BLAS and the CPU);
* transcendental functions only as ``math.exp`` / ``math.log1p`` on scalars: both
  the interpreter and the compiled code call the C library's ``exp``/``log1p``, so
  results agree across machines that share a libm (SVML, which would replace them
  by vectorised approximations, is not used: no ``exp`` sits in a vectorisable loop);
* a mini-batch gradient is *defined* as ``(g_{idx[0]} + g_{idx[1]} + ...) / len(idx)``:
  the per-sample gradients summed left to right into a zeroed vector, then each
  entry divided by the batch size.  The full gradient is that mean over
  ``0 .. m-1``.  An implementation that receives the same sample gradients and sums
  them in the same order gets the same bits, whatever order they arrived in.

Every problem ``P`` has four kernels with one calling convention, so callers can
treat them uniformly (``problems.Problem.arrays`` holds the data arguments)::

    P_sample_value(*arrays, j, x) -> float          f_j(x)
    P_sample_grad(*arrays, j, x, out)               out <- grad f_j(x)   (all d entries)
    P_batch_value(*arrays, idx, x) -> float         (sum_k f_{idx[k]}(x)) / len(idx)
    P_batch_grad(*arrays, idx, x, out)              out <- (sum_k grad f_{idx[k]}(x)) / len(idx)

with ``P`` in ``quad`` (quadratic), ``lsq`` (least squares), ``logreg`` (logistic
regression with the nonconvex regulariser), ``svm`` (sparse SVM, CSR rows) and
``kmeans``; the sparse SVM's rule ``v03a`` adds its update,
``svm_v03a_step_support`` (the step a HOGWILD! core writes, reference and ``fast/`` alike); the
``*_local`` forms of the SVM's support kernels take x on the support only (``xs[q]`` for
coordinate ``indices[indptr[j] + q]``: what a HOGWILD! core read), the ``*_support`` forms gather
it from the full x and call them.
``x`` and ``out`` are C-contiguous float64 arrays of length ``d``;
``j`` is an int and ``idx`` an int64 array; nothing is validated here (the
``Problem`` methods validate), so a kernel is safe to call from a hot loop.

>>> import numpy as np
>>> A = np.array([[1.0, 2.0], [3.0, 4.0]]); b = np.array([1.0, 0.0])
>>> out = np.empty(2)
>>> lsq_batch_grad(A, b, np.array([0, 1]), np.array([1.0, 1.0]), out)
>>> out.tolist()                      # ((1+2-1)*[1,2] + (3+4-0)*[3,4]) / 2
[11.5, 16.0]
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit


def kernel(fn):
    """Compile ``fn`` the one way every kernel is compiled: cached, ``nogil``, no fastmath.

    With ``NUMBA_DISABLE_JIT=1`` numba hands back the Python function itself, which
    then runs the very same arithmetic in the interpreter.
    """
    return njit(cache=True, nogil=True, fastmath=False)(fn)


# ------------------------------------------------------------------------------------------
# reductions shared by the problems and the data generators


@kernel
def dot(a, b):
    """``sum_i a[i] * b[i]`` in index order."""
    s = 0.0
    for i in range(a.shape[0]):
        s += a[i] * b[i]
    return s


@kernel
def sq_dist(a, b):
    """``sum_i (a[i] - b[i])**2`` in index order (``||a - b||^2``)."""
    s = 0.0
    for i in range(a.shape[0]):
        t = a[i] - b[i]
        s += t * t
    return s


@kernel
def mat_vec(A, x, out):
    """``out[r] <- sum_c A[r, c] * x[c]``, each row summed in column order."""
    for r in range(A.shape[0]):
        s = 0.0
        for c in range(A.shape[1]):
            s += A[r, c] * x[c]
        out[r] = s


@kernel
def gram(A):
    """``A^T A`` (a new ``d x d`` array), each entry summed over the rows in order."""
    m, d = A.shape
    G = np.zeros((d, d))
    for a in range(d):
        for c in range(a, d):
            s = 0.0
            for r in range(m):
                s += A[r, a] * A[r, c]
            G[a, c] = s
            G[c, a] = s
    return G


@kernel
def col_mean(X, out):
    """``out[c] <- (sum_r X[r, c]) / n_rows``, summed over the rows in order."""
    m, d = X.shape
    for c in range(d):
        s = 0.0
        for r in range(m):
            s += X[r, c]
        out[c] = s / m


@kernel
def mean_sq_row_dist(X, center):
    """``(1/n_rows) sum_r ||X[r] - center||^2``, rows in order, entries in order."""
    m, d = X.shape
    s = 0.0
    for r in range(m):
        q = 0.0
        for c in range(d):
            t = X[r, c] - center[c]
            q += t * t
        s += q
    return s / m


# ------------------------------------------------------------------------------------------
# quadratic (seed 004): f_j(x) = 1/2 (x - x*)^T H (x - x*) + <xi_j, x>


@kernel
def quad_sample_value(H, x_star, xi, j, x):
    d = x.shape[0]
    q = 0.0
    for a in range(d):
        hr = 0.0
        for c in range(d):
            hr += H[a, c] * (x[c] - x_star[c])
        q += (x[a] - x_star[a]) * hr
    lin = 0.0
    for a in range(d):
        lin += xi[j, a] * x[a]
    return 0.5 * q + lin


@kernel
def quad_sample_grad(H, x_star, xi, j, x, out):
    d = x.shape[0]
    for a in range(d):
        hr = 0.0
        for c in range(d):
            hr += H[a, c] * (x[c] - x_star[c])
        out[a] = hr + xi[j, a]


@kernel
def quad_batch_value(H, x_star, xi, idx, x):
    s = 0.0
    for k in range(idx.shape[0]):
        s += quad_sample_value(H, x_star, xi, idx[k], x)
    return s / idx.shape[0]


@kernel
def quad_batch_grad(H, x_star, xi, idx, x, out):
    d = x.shape[0]
    g = np.empty(d)
    out[:] = 0.0
    for k in range(idx.shape[0]):
        quad_sample_grad(H, x_star, xi, idx[k], x, g)
        for a in range(d):
            out[a] += g[a]
    for a in range(d):
        out[a] = out[a] / idx.shape[0]


# ------------------------------------------------------------------------------------------
# least squares: f_j(x) = 1/2 (a_j^T x - b_j)^2


@kernel
def lsq_residual(A, b, j, x):
    """``a_j^T x - b_j``."""
    s = 0.0
    for a in range(x.shape[0]):
        s += A[j, a] * x[a]
    return s - b[j]


@kernel
def lsq_sample_value(A, b, j, x):
    r = lsq_residual(A, b, j, x)
    return 0.5 * (r * r)


@kernel
def lsq_sample_grad(A, b, j, x, out):
    r = lsq_residual(A, b, j, x)
    for a in range(x.shape[0]):
        out[a] = r * A[j, a]


@kernel
def lsq_batch_value(A, b, idx, x):
    s = 0.0
    for k in range(idx.shape[0]):
        s += lsq_sample_value(A, b, idx[k], x)
    return s / idx.shape[0]


@kernel
def lsq_batch_grad(A, b, idx, x, out):
    d = x.shape[0]
    g = np.empty(d)
    out[:] = 0.0
    for k in range(idx.shape[0]):
        lsq_sample_grad(A, b, idx[k], x, g)
        for a in range(d):
            out[a] += g[a]
    for a in range(d):
        out[a] = out[a] / idx.shape[0]


# ------------------------------------------------------------------------------------------
# logistic regression with the nonconvex regulariser (seed 001):
# f_j(x) = log(1 + exp(-y_j a_j^T x)) + lam * sum_i x_i^2 / (1 + x_i^2)

_TWO53 = 9007199254740992.0      # above 2**53, 1 + r == r, so r / (1 + r) is exactly 1.0


@kernel
def log1pexp(z):
    """``log(1 + exp(z))`` without overflow: for ``z > 0`` it is ``z + log(1 + exp(-z))``."""
    if z > 0.0:
        return z + math.log1p(math.exp(-z))
    return math.log1p(math.exp(z))


@kernel
def sigmoid(z):
    """``1 / (1 + exp(-z))``, evaluating ``exp`` only at non-positive arguments."""
    if z >= 0.0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


@kernel
def nonconvex_reg_value(lam, x):
    """``lam * sum_i x_i^2 / (1 + x_i^2)``, summed in index order."""
    s = 0.0
    for i in range(x.shape[0]):
        r = x[i] * x[i]
        # r / (1 + r) is exactly 1.0 once r >= 2**53; saying so keeps r = inf from giving nan
        s += 1.0 if r >= _TWO53 else r / (1.0 + r)
    return lam * s


@kernel
def logreg_sample_value(A, y, lam, j, x):
    t = 0.0
    for a in range(x.shape[0]):
        t += A[j, a] * x[a]
    return log1pexp(-y[j] * t) + nonconvex_reg_value(lam, x)


@kernel
def logreg_sample_grad(A, y, lam, j, x, out):
    t = 0.0
    for a in range(x.shape[0]):
        t += A[j, a] * x[a]
    c = -y[j] * sigmoid(-y[j] * t)
    two_lam = 2.0 * lam
    for a in range(x.shape[0]):
        w = 1.0 + x[a] * x[a]
        # x / (w * w) first: it tends to 0 for huge |x| instead of inf / inf
        out[a] = c * A[j, a] + two_lam * (x[a] / (w * w))


@kernel
def logreg_batch_value(A, y, lam, idx, x):
    s = 0.0
    for k in range(idx.shape[0]):
        s += logreg_sample_value(A, y, lam, idx[k], x)
    return s / idx.shape[0]


@kernel
def logreg_batch_grad(A, y, lam, idx, x, out):
    d = x.shape[0]
    g = np.empty(d)
    out[:] = 0.0
    for k in range(idx.shape[0]):
        logreg_sample_grad(A, y, lam, idx[k], x, g)
        for a in range(d):
            out[a] += g[a]
    for a in range(d):
        out[a] = out[a] / idx.shape[0]


# ------------------------------------------------------------------------------------------
# sparse SVM (seed 002) with the HOGWILD! per-support regulariser:
# f_j(x) = max(1 - y_j z_j^T x, 0) + sum_{u in supp z_j} reg[u] * x_u^2,  reg[u] = lam * m / d_u
# z_j is row j of the CSR matrix (indptr, indices, data).


@kernel
def svm_sample_value(indptr, indices, data, y, reg, j, x):
    t = 0.0
    for k in range(indptr[j], indptr[j + 1]):
        t += data[k] * x[indices[k]]
    h = 1.0 - y[j] * t
    r = 0.0
    for k in range(indptr[j], indptr[j + 1]):
        u = indices[k]
        r += reg[u] * (x[u] * x[u])
    return (h if h > 0.0 else 0.0) + r


@kernel
def svm_sample_grad_local(indptr, indices, data, y, reg, j, xs, out):
    """The subgradient of f_j on its support, from x given on the support only: ``xs[q]`` and
    ``out[q]`` are the entries for coordinate ``indices[indptr[j] + q]`` (what a HOGWILD! core
    read, and what it writes back).  ``xs`` may be ``out`` (each ``xs[q]`` is read before
    ``out[q]`` is written).

    At the kink ``y_j z_j^T x == 1`` the hinge's subgradient is taken to be 0.
    """
    a = indptr[j]
    t = 0.0
    for q in range(indptr[j + 1] - a):
        t += data[a + q] * xs[q]
    active = 1.0 - y[j] * t > 0.0
    for q in range(indptr[j + 1] - a):
        g = 2.0 * reg[indices[a + q]] * xs[q]
        if active:
            g = -y[j] * data[a + q] + g
        out[q] = g


@kernel
def svm_sample_grad_support(indptr, indices, data, y, reg, j, x, out):
    """The subgradient of f_j on its support only, at the full ``x``: ``out[k - indptr[j]]`` is
    the entry for coordinate ``indices[k]`` (:func:`svm_sample_grad_local` at x on the support)."""
    for k in range(indptr[j], indptr[j + 1]):
        out[k - indptr[j]] = x[indices[k]]
    svm_sample_grad_local(indptr, indices, data, y, reg, j, out, out)


@kernel
def svm_sample_grad(indptr, indices, data, y, reg, j, x, out):
    g = np.empty(indptr[j + 1] - indptr[j])
    svm_sample_grad_support(indptr, indices, data, y, reg, j, x, g)
    out[:] = 0.0
    for k in range(indptr[j], indptr[j + 1]):
        out[indices[k]] = g[k - indptr[j]]


@kernel
def svm_batch_value(indptr, indices, data, y, reg, idx, x):
    s = 0.0
    for k in range(idx.shape[0]):
        s += svm_sample_value(indptr, indices, data, y, reg, idx[k], x)
    return s / idx.shape[0]


@kernel
def svm_batch_grad(indptr, indices, data, y, reg, idx, x, out):
    # Adding only the support is the same as adding the dense sample gradient: the
    # skipped terms are +0.0, and out (started at +0.0) can never become -0.0.
    widest = 0
    for k in range(idx.shape[0]):
        widest = max(widest, indptr[idx[k] + 1] - indptr[idx[k]])
    g = np.empty(widest)
    out[:] = 0.0
    for k in range(idx.shape[0]):
        j = idx[k]
        svm_sample_grad_support(indptr, indices, data, y, reg, j, x, g)
        for q in range(indptr[j], indptr[j + 1]):
            out[indices[q]] += g[q - indptr[j]]
    for a in range(x.shape[0]):
        out[a] = out[a] / idx.shape[0]


@kernel
def v03a_factors(deg, gamma, mu, out):
    """``out[u] = 1 - gamma mu / deg_u``: v03a's shrink factor of each coordinate (1 where no sample holds
    u), in the original's arithmetic (``scalar = gamma mu``, then ``1 - scalar / deg_u``).  A factor
    depends only on the run's constant step, so it is computed once per run instead of once per update
    (the same double either way); ``deg`` is int64."""
    scalar = gamma * mu
    for u in range(deg.shape[0]):
        out[u] = 1.0 - scalar / deg[u] if deg[u] > 0 else 1.0


@kernel
def svm_v03a_step_local(indptr, indices, data, y, factors, j, xs, gamma, out):
    """HOGWILD! v03a's SVM update of sample j (the Hazy project's code, Bittorf & Re 2012:
    ``if y s < 1 then w_u += gamma y z_u``, then ``w_u *= 1 - gamma mu / deg_u`` on the support), as
    the additive step a HOGWILD! core writes, from x given on the support only: ``xs[q]`` and
    ``out[q]`` are the entries for coordinate ``u = indices[indptr[j] + q]``, ``out[q] = w_u - x_u``,
    ``w_u = (x_u + gamma y_j z_u [y_j z_j^T x < 1]) factors[u]``, ``factors`` from :func:`v03a_factors`
    at the same gamma.  ``xs`` may be ``out`` (each ``xs[q]`` is read before ``out[q]`` is written).

    The arithmetic in the original's order: ``s = z_j^T x`` (in index order), ``wxy = s y_j``,
    ``e = gamma y_j``, ``x_u + e z_u``, then the product with ``1 - scalar / deg_u``.
    """
    a = indptr[j]
    t = 0.0
    for q in range(indptr[j + 1] - a):
        t += data[a + q] * xs[q]
    active = t * y[j] < 1.0
    e = gamma * y[j]
    for q in range(indptr[j + 1] - a):
        v = xs[q]
        w = v + e * data[a + q] if active else v
        w = w * factors[indices[a + q]]
        out[q] = w - v


@kernel
def svm_v03a_step_support(indptr, indices, data, y, factors, j, x, gamma, out):
    """HOGWILD! v03a's SVM update of sample j at the full ``x`` (:func:`svm_v03a_step_local` at x on
    the support): ``out[k - indptr[j]]`` is the step for coordinate ``indices[k]``."""
    for k in range(indptr[j], indptr[j + 1]):
        out[k - indptr[j]] = x[indices[k]]
    svm_v03a_step_local(indptr, indices, data, y, factors, j, out, gamma, out)


@kernel
def csr_row_dots(indptr, indices, data, w, out):
    """``out[j] <- z_j^T w`` for every CSR row ``z_j``, each summed in stored order."""
    for j in range(indptr.shape[0] - 1):
        s = 0.0
        for q in range(indptr[j], indptr[j + 1]):
            s += data[q] * w[indices[q]]
        out[j] = s


@kernel
def floyd_rows(draws, d, out):
    """Row r of ``out`` <- ``k = draws.shape[1]`` distinct integers of ``0 .. d-1``, a uniformly random
    k-subset (in the order Floyd's algorithm inserts them), from ``draws[r, c]`` uniform in
    ``0 .. d - k + c``: for ``t = d - k + c``, take ``draws[r, c]`` unless it is taken already, else ``t``
    (Floyd's algorithm, Bentley & Floyd, "Programming Pearls: a sample of brilliance", CACM 1987)."""
    m, k = draws.shape
    for r in range(m):
        for c in range(k):
            v = draws[r, c]
            for q in range(c):
                if out[r, q] == v:
                    v = d - k + c
                    break
            out[r, c] = v


# ------------------------------------------------------------------------------------------
# k-means (seed 003): x holds k centroids w_0 .. w_{k-1} of dimension p, row-major;
# f_j(x) = 1/2 min_c ||s_j - w_c||^2


@kernel
def kmeans_nearest(S, k, j, x):
    """``(c, ||s_j - w_c||^2)`` for the nearest centroid; ties go to the lowest index."""
    p = S.shape[1]
    best = 0
    best_d = 0.0
    for c in range(k):
        dist = 0.0
        for a in range(p):
            t = S[j, a] - x[c * p + a]
            dist += t * t
        if c == 0 or dist < best_d:
            best = c
            best_d = dist
    return best, best_d


@kernel
def kmeans_sample_value(S, k, j, x):
    c, dist = kmeans_nearest(S, k, j, x)
    return 0.5 * dist


@kernel
def kmeans_sample_grad(S, k, j, x, out):
    p = S.shape[1]
    c, dist = kmeans_nearest(S, k, j, x)
    out[:] = 0.0
    for a in range(p):
        out[c * p + a] = x[c * p + a] - S[j, a]


@kernel
def kmeans_batch_value(S, k, idx, x):
    s = 0.0
    for q in range(idx.shape[0]):
        s += kmeans_sample_value(S, k, idx[q], x)
    return s / idx.shape[0]


@kernel
def kmeans_batch_grad(S, k, idx, x, out):
    # Only the nearest centroid's block of a sample gradient is nonzero; adding just that
    # block is the dense sum bit for bit (see svm_batch_grad).
    p = S.shape[1]
    out[:] = 0.0
    for q in range(idx.shape[0]):
        j = idx[q]
        c, dist = kmeans_nearest(S, k, j, x)
        for a in range(p):
            out[c * p + a] += x[c * p + a] - S[j, a]
    for a in range(x.shape[0]):
        out[a] = out[a] / idx.shape[0]


# ------------------------------------------------------------------------------------------
# matrix completion (seed 002, "Matrix Completion"): x = (L, R), L = x[:nr r] (nr x r),
# R = x[nr r:] (nc x r), both row-major; sample j is the observed entry (u, v) = (rows[j], cols[j]):
# f_j(x) = (L_u . R_v - M_uv)^2 + mu_u[u] ||L_u||^2 + mu_v[v] ||R_v||^2


@kernel
def mc_residual(rows, cols, vals, mu_u, mu_v, nr, r, j, x):
    """``L_u . R_v - M_uv``, the factors' products summed in index order."""
    a = rows[j] * r
    b = nr * r + cols[j] * r
    t = 0.0
    for c in range(r):
        t += x[a + c] * x[b + c]
    return t - vals[j]


@kernel
def mc_sample_value(rows, cols, vals, mu_u, mu_v, nr, r, j, x):
    e = mc_residual(rows, cols, vals, mu_u, mu_v, nr, r, j, x)
    a = rows[j] * r
    b = nr * r + cols[j] * r
    ln = 0.0
    rn = 0.0
    for c in range(r):
        ln += x[a + c] * x[a + c]
        rn += x[b + c] * x[b + c]
    return e * e + mu_u[rows[j]] * ln + mu_v[cols[j]] * rn


@kernel
def mc_sample_grad_support(rows, cols, vals, mu_u, mu_v, nr, r, j, x, out):
    """The gradient on the support only: ``out[:r]`` for L_u, ``out[r:2r]`` for R_v (the
    support's order, since every L coordinate precedes every R coordinate)."""
    e = mc_residual(rows, cols, vals, mu_u, mu_v, nr, r, j, x)
    a = rows[j] * r
    b = nr * r + cols[j] * r
    mu = mu_u[rows[j]]
    mv = mu_v[cols[j]]
    for c in range(r):
        out[c] = 2.0 * e * x[b + c] + 2.0 * mu * x[a + c]
        out[r + c] = 2.0 * e * x[a + c] + 2.0 * mv * x[b + c]


@kernel
def mc_sample_grad(rows, cols, vals, mu_u, mu_v, nr, r, j, x, out):
    g = np.empty(2 * r)
    mc_sample_grad_support(rows, cols, vals, mu_u, mu_v, nr, r, j, x, g)
    out[:] = 0.0
    a = rows[j] * r
    b = nr * r + cols[j] * r
    for c in range(r):
        out[a + c] = g[c]
        out[b + c] = g[r + c]


@kernel
def mc_batch_value(rows, cols, vals, mu_u, mu_v, nr, r, idx, x):
    s = 0.0
    for k in range(idx.shape[0]):
        s += mc_sample_value(rows, cols, vals, mu_u, mu_v, nr, r, idx[k], x)
    return s / idx.shape[0]


@kernel
def mc_batch_grad(rows, cols, vals, mu_u, mu_v, nr, r, idx, x, out):
    # support-only accumulation is the dense sum bit for bit (see svm_batch_grad)
    g = np.empty(2 * r)
    out[:] = 0.0
    for k in range(idx.shape[0]):
        j = idx[k]
        mc_sample_grad_support(rows, cols, vals, mu_u, mu_v, nr, r, j, x, g)
        a = rows[j] * r
        b = nr * r + cols[j] * r
        for c in range(r):
            out[a + c] += g[c]
            out[b + c] += g[r + c]
    for q in range(x.shape[0]):
        out[q] = out[q] / idx.shape[0]


# ------------------------------------------------------------------------------------------
# graph cuts (seed 002, "Graph Cuts"): x = D blocks x_a of K label weights, row-major;
# sample j is the edge (eu[j], ev[j]) with weight w[j]:  f_j(x) = w_j ||x_u - x_v||_1.
# Its subgradient is w_j sign(x_u - x_v) on x_u's block and the negative on x_v's, with
# sign(0) = 0 (an element of the subdifferential of |.| at 0).


@kernel
def cut_sample_value(eu, ev, w, K, j, x):
    a = eu[j] * K
    b = ev[j] * K
    s = 0.0
    for c in range(K):
        s += abs(x[a + c] - x[b + c])
    return w[j] * s


@kernel
def cut_sample_grad(eu, ev, w, K, j, x, out):
    out[:] = 0.0
    a = eu[j] * K
    b = ev[j] * K
    for c in range(K):
        t = x[a + c] - x[b + c]
        g = w[j] if t > 0.0 else (-w[j] if t < 0.0 else 0.0)
        out[a + c] = g
        out[b + c] = -g


@kernel
def cut_batch_value(eu, ev, w, K, idx, x):
    s = 0.0
    for k in range(idx.shape[0]):
        s += cut_sample_value(eu, ev, w, K, idx[k], x)
    return s / idx.shape[0]


@kernel
def cut_batch_grad(eu, ev, w, K, idx, x, out):
    # support-only accumulation is the dense sum bit for bit (see svm_batch_grad)
    out[:] = 0.0
    for k in range(idx.shape[0]):
        j = idx[k]
        a = eu[j] * K
        b = ev[j] * K
        for c in range(K):
            t = x[a + c] - x[b + c]
            g = w[j] if t > 0.0 else (-w[j] if t < 0.0 else 0.0)
            out[a + c] += g
            out[b + c] += -g
    for q in range(x.shape[0]):
        out[q] = out[q] / idx.shape[0]


@kernel
def simplex_project(y, out):
    """``out <- argmin_{z >= 0, sum z = 1} ||z - y||_2`` (Held, Wolfe & Crowder 1974; Duchi et al. 2008).

    Sort ``y`` decreasingly into ``s``; ``rho`` is the last index with ``s_i > (sum_{q<=i} s_q - 1)/(i+1)``;
    ``theta = (sum_{q<=rho} s_q - 1)/(rho+1)`` and ``out = max(y - theta, 0)``.  Partial sums
    in sorted order, so the result is a function of ``y`` alone, bit for bit.
    """
    n = y.shape[0]
    s = np.sort(y)[::-1]
    total = 0.0
    theta = 0.0
    for i in range(n):
        total += s[i]
        t = (total - 1.0) / (i + 1)
        if s[i] - t > 0.0:
            theta = t
    for i in range(n):
        d = y[i] - theta
        out[i] = d if d > 0.0 else 0.0


def uncached() -> list[str]:
    """The kernels with no compiled code in numba's on-disk cache yet: a first run compiles them
    (seconds each), later runs load them.  Empty with ``NUMBA_DISABLE_JIT=1``."""
    import os
    out = []
    for name, fn in sorted(globals().items()):
        cache = getattr(fn, "_cache", None)
        index = getattr(getattr(cache, "_cache_file", None), "_index_path", None)
        if index is not None and not os.path.exists(index):
            out.append(name)
    return out
