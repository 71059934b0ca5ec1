"""Data: seeded synthetic generators, a LIBSVM loader, and per-worker splits.

Synthetic data is a pure function of ``(seed, parameters)``: every quantity is drawn
from its own generator ``rng.generator(seed, STREAM_DATA, key)`` (``key`` fixed per
quantity below), so e.g. changing the noise level of a least-squares instance keeps
its matrix ``A``, and since matrices are filled row by row, adding samples keeps the
first ones.  Reductions go through the kernels' ordered loops, so the same seed gives
the same bits on every machine with the same numpy (numpy reserves the right to
change its ``Generator`` streams between feature releases).

Splits (:func:`split_workers`) give each worker of a parameter server its local
samples, with a heterogeneity knob ``zeta``; :func:`heterogeneity` measures the
``zeta^2`` of seed 001 (001_c6590ddcd2705154.txt, AsGrad poster, assumption
"Bounded heterogeneity": ``||grad f_i(x) - grad f(x)||^2 <= zeta^2``).

>>> parts = split_workers(7, 3, zeta=1.0, seed=0)
>>> [p.tolist() for p in parts]
[[0, 1, 2], [3, 4], [5, 6]]
"""

from __future__ import annotations

import hashlib
import math
import os
from typing import NamedTuple

import numpy as np

from . import kernels as K
from .errors import InputError
from .rng import STREAM_DATA, STREAM_SPLIT, generator

# keys of the synthetic quantities (iteration argument of rng.generator under STREAM_DATA)
KEY_QUAD_XI = 10
KEY_LSQ_A, KEY_LSQ_X, KEY_LSQ_NOISE = 20, 21, 22
KEY_LOG_MASK, KEY_LOG_A, KEY_LOG_W, KEY_LOG_NOISE = 30, 31, 32, 33
KEY_SVM_SUPPORT, KEY_SVM_DATA, KEY_SVM_W, KEY_SVM_NOISE = 40, 41, 42, 43
KEY_BENCH_SUPPORT, KEY_BENCH_DATA, KEY_BENCH_W = 44, 45, 46
KEY_BLOB_CENTERS, KEY_BLOB_LABELS, KEY_BLOB_NOISE = 50, 51, 52
KEY_MC_ENTRIES, KEY_MC_L, KEY_MC_R, KEY_MC_NOISE, KEY_MC_INIT = 60, 61, 62, 63, 64
KEY_CUT_EDGES, KEY_CUT_WEIGHTS, KEY_CUT_INIT = 70, 71, 72
# w7a_like draws from a stream of its own (it was written before the keys above were shared), with keys 0, 1, 2
STREAM_W7A = STREAM_DATA + 1
KEY_W7A_A, KEY_W7A_W, KEY_W7A_NOISE = 0, 1, 2


# ------------------------------------------------------------------------------------------
# synthetic generators


def quadratic_noise(m: int, d: int, sigma: float, seed: int) -> np.ndarray:
    """``m x d`` noise vectors ``xi_j``: Gaussian, centred exactly, scaled to ``sigma``.

    Centring subtracts the column means, so ``sum_j xi_j = 0`` up to rounding and the
    sample gradients stay unbiased; scaling makes ``(1/m) sum_j ||xi_j||^2 = sigma^2``
    (up to rounding), which is then the exact gradient variance of the quadratic.
    ``sigma = 0`` gives zeros without drawing.
    """
    if sigma == 0.0:
        return np.zeros((m, d))
    xi = generator(seed, STREAM_DATA, KEY_QUAD_XI).standard_normal((m, d))
    mean = np.empty(d)
    K.col_mean(xi, mean)
    xi = xi - mean
    spread = math.sqrt(K.mean_sq_row_dist(xi, np.zeros(d)))
    return xi * (sigma / spread)


def least_squares_data(m: int, d: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(A, b, x_true)``: Gaussian ``A`` (m x d), planted ``x_true``, ``b = A x_true + noise * N(0, 1)``."""
    A = generator(seed, STREAM_DATA, KEY_LSQ_A).standard_normal((m, d))
    x_true = generator(seed, STREAM_DATA, KEY_LSQ_X).standard_normal(d)
    b = np.empty(m)
    K.mat_vec(A, x_true, b)
    b = b + noise * generator(seed, STREAM_DATA, KEY_LSQ_NOISE).standard_normal(m)
    return A, b, x_true


def logistic_data(m: int, d: int, density: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``(A, y)``: rows with a fraction ``density`` of Gaussian nonzeros, labels in {-1, +1}.

    Labels come from a planted linear model with a threshold one standard deviation
    above the mean score: ``y_j = +1`` iff ``a_j^T w + 0.5 eps_j > s`` with
    ``s^2 = density ||w||^2 + 0.25`` (the score's variance), so about 16% are positive.
    Without the threshold the two classes would be mirror images (``y_j a_j``, all the
    logistic loss sees, has the same law in both) and splitting the samples by label
    would create no heterogeneity; with it, the positive class is the minority, as in
    w7a (seed 001 runs on w7a: d = 300, m = 2505, about 3% positive and 4% nonzero;
    ``m=2505, d=300, density=0.04`` gives that shape).
    """
    mask = generator(seed, STREAM_DATA, KEY_LOG_MASK).random((m, d)) < density
    A = np.where(mask, generator(seed, STREAM_DATA, KEY_LOG_A).standard_normal((m, d)), 0.0)
    w = generator(seed, STREAM_DATA, KEY_LOG_W).standard_normal(d)
    score = np.empty(m)
    K.mat_vec(A, w, score)
    score = score + 0.5 * generator(seed, STREAM_DATA, KEY_LOG_NOISE).standard_normal(m)
    threshold = math.sqrt(density * K.dot(w, w) + 0.25)
    return A, np.where(score > threshold, 1.0, -1.0)


def sparse_svm_data(m: int, d: int, nnz: int, seed: int):
    """``(indptr, indices, data, y)``: CSR rows with ``nnz`` Gaussian entries at distinct
    random coordinates (sorted), labels ``y_j = sign(z_j^T w + 0.1 eps_j)`` (0 -> +1)."""
    g = generator(seed, STREAM_DATA, KEY_SVM_SUPPORT)
    indices = np.empty(m * nnz, dtype=np.int64)
    for j in range(m):
        indices[j * nnz:(j + 1) * nnz] = np.sort(g.choice(d, size=nnz, replace=False))
    indptr = np.arange(0, m * nnz + 1, nnz, dtype=np.int64)
    data = generator(seed, STREAM_DATA, KEY_SVM_DATA).standard_normal(m * nnz)
    w = generator(seed, STREAM_DATA, KEY_SVM_W).standard_normal(d)
    noise = generator(seed, STREAM_DATA, KEY_SVM_NOISE).standard_normal(m)
    y = np.empty(m)
    for j in range(m):
        t = 0.0
        for q in range(indptr[j], indptr[j + 1]):
            t += float(data[q]) * float(w[indices[q]])
        y[j] = 1.0 if t + 0.1 * float(noise[j]) >= 0.0 else -1.0
    return indptr, indices, data, y


def hogwild_bench_data(m: int, d: int, nnz: int, seed: int):
    """``(indptr, indices, data, y, w_star)``: the benchmark workload's data (issue 12, "Benchmarks").

    Every row ``z_j`` has exactly ``nnz`` nonzeros at distinct columns, a uniformly random
    ``nnz``-subset of ``0 .. d-1`` (Floyd's algorithm, :func:`~asyncproof.reference.kernels.floyd_rows`,
    from ``draws[j, c]`` uniform in ``0 .. d - nnz + c``), stored sorted; the values are standard
    normal, row by row; ``w_star`` is standard normal, and the labels are its signs without noise:
    ``y_j = +1`` if ``z_j^T w_star >= 0`` else ``-1`` (a tie, probability 0, is +1), the dot product
    summed in stored order.  Each quantity has its own key (``KEY_BENCH_*``) under ``STREAM_DATA``.
    Memory: about 5 ``m nnz`` 8-byte words at its peak (the caller checks ``m nnz``).

    >>> indptr, indices, data, y, w = hogwild_bench_data(m=3, d=6, nnz=2, seed=0)
    >>> indptr.tolist(), [sorted(set(indices[2 * j:2 * j + 2].tolist())) == indices[2 * j:2 * j + 2].tolist()
    ...                   for j in range(3)]
    ([0, 2, 4, 6], [True, True, True])
    """
    if nnz > d:
        raise InputError(f"nnz = {nnz} distinct nonzeros per sample do not fit in d = {d} features")
    highs = np.arange(d - nnz + 1, d + 1, dtype=np.int64)         # column c draws from 0 .. d - nnz + c
    draws = generator(seed, STREAM_DATA, KEY_BENCH_SUPPORT).integers(0, highs, size=(m, nnz), dtype=np.int64)
    cols = np.empty((m, nnz), dtype=np.int64)
    K.floyd_rows(draws, d, cols)
    del draws
    cols.sort(axis=1)
    indices = cols.reshape(-1)
    indptr = np.arange(0, m * nnz + 1, nnz, dtype=np.int64)
    data = generator(seed, STREAM_DATA, KEY_BENCH_DATA).standard_normal(m * nnz)
    w_star = generator(seed, STREAM_DATA, KEY_BENCH_W).standard_normal(d)
    score = np.empty(m)
    K.csr_row_dots(indptr, indices, data, w_star, score)
    return indptr, indices, data, np.where(score >= 0.0, 1.0, -1.0), w_star


def blobs(m: int, p: int, k: int, seed: int, spread: float = 4.0) -> np.ndarray:
    """``m x p`` samples from ``k`` Gaussian blobs: centres ``spread * N(0, I)``, each
    sample's blob uniform at random, unit-variance noise around its centre."""
    centers = spread * generator(seed, STREAM_DATA, KEY_BLOB_CENTERS).standard_normal((k, p))
    which = generator(seed, STREAM_DATA, KEY_BLOB_LABELS).integers(0, k, size=m)
    return centers[which] + generator(seed, STREAM_DATA, KEY_BLOB_NOISE).standard_normal((m, p))


def matrix_completion_data(n_rows: int, n_cols: int, rank: int, m: int, noise: float, seed: int):
    """``(rows, cols, values, x0)``: ``m`` distinct entries of a planted rank-``rank`` matrix.

    ``M = L* R*^T`` with ``L*``, ``R*`` Gaussian scaled by ``rank^(-1/4)`` (so an entry has
    variance 1), plus ``noise * N(0, 1)`` per observed entry.  The observed set E (seed 002,
    "Matrix Completion": "Entries Specified on set E (with |E| = n)") is ``m`` distinct
    cells drawn uniformly without replacement, kept in the order drawn: sample ``j`` is the
    ``j``-th cell.  ``x0`` (the factors ``L``, ``R`` stacked row-major) is :func:`factor_start`.
    """
    if m > n_rows * n_cols:
        raise InputError(f"matrix-completion: m = {m} distinct entries do not fit in a "
                         f"{n_rows} x {n_cols} matrix ({n_rows * n_cols} cells)")
    cells = generator(seed, STREAM_DATA, KEY_MC_ENTRIES).choice(n_rows * n_cols, size=m, replace=False)
    rows, cols = (cells // n_cols).astype(np.int64), (cells % n_cols).astype(np.int64)
    scale = rank ** -0.25
    Ls = scale * generator(seed, STREAM_DATA, KEY_MC_L).standard_normal((n_rows, rank))
    Rs = scale * generator(seed, STREAM_DATA, KEY_MC_R).standard_normal((n_cols, rank))
    values = np.empty(m)
    for q in range(m):
        values[q] = K.dot(Ls[rows[q]], Rs[cols[q]])
    values = values + noise * generator(seed, STREAM_DATA, KEY_MC_NOISE).standard_normal(m)
    return rows, cols, values, factor_start((n_rows + n_cols) * rank, seed)


def factor_start(d: int, seed: int) -> np.ndarray:
    """``0.1 N(0, I_d)``: a start for factored objectives, for which ``x = 0`` is stationary."""
    return 0.1 * generator(seed, STREAM_DATA, KEY_MC_INIT).standard_normal(d)


def graph_cut_data(nodes: int, edges: int, labels: int, seed: int):
    """``(u, v, w, x0)``: ``edges`` distinct undirected edges ``u < v`` on ``nodes`` nodes drawn
    uniformly without replacement (kept in the order drawn), weights uniform in (0, 1], and
    a start ``x0`` with each node's block uniform on the probability simplex of ``labels``
    entries (normalised standard exponentials; seed 002, "Graph Cuts": ``1_K^T x_v = 1``,
    ``x_v >= 0``).
    """
    pairs = nodes * (nodes - 1) // 2
    if edges > pairs:
        raise InputError(f"graph-cuts: {edges} distinct edges do not fit in a simple graph on {nodes} nodes "
                         f"(at most {pairs})")
    flat = generator(seed, STREAM_DATA, KEY_CUT_EDGES).choice(pairs, size=edges, replace=False)
    # pair number f is (a, b), a < b, in row-major order: row a starts at a (nodes - 1) - a (a - 1) / 2
    starts = np.array([a * (nodes - 1) - a * (a - 1) // 2 for a in range(nodes)], dtype=np.int64)
    u = (np.searchsorted(starts, flat, side="right") - 1).astype(np.int64)
    v = (flat - starts[u] + u + 1).astype(np.int64)
    w = 1.0 - generator(seed, STREAM_DATA, KEY_CUT_WEIGHTS).random(edges)       # in (0, 1]
    return u, v, w, simplex_start(nodes, labels, seed)


def simplex_start(nodes: int, labels: int, seed: int) -> np.ndarray:
    """``nodes`` blocks, each uniform on the probability simplex of ``labels`` entries (normalised
    standard exponentials, summed in index order), row-major."""
    e = generator(seed, STREAM_DATA, KEY_CUT_INIT).standard_exponential((nodes, labels))
    x0 = np.empty((nodes, labels))
    for a in range(nodes):
        total = 0.0
        for c in range(labels):
            total += e[a, c]
        for c in range(labels):
            x0[a, c] = e[a, c] / total
    return x0.ravel()


def w7a_like(m: int = 2505, d: int = 300, nnz: float = 11.6, positive: float = 0.03, seed: int = 0):
    """``(A, y)``: binary features and labels shaped like LIBSVM's w7a (seed 001, Figure 1).

    w7a has ``m = 2505`` training rows of ``d = 300`` binary features, about 11.6
    nonzeros per row (density 0.04) with a few very frequent features and a long tail
    of rare ones, and about 3% positive labels.  Here feature ``j`` is on with
    probability ``p_j`` proportional to ``(j + 1)^-0.9`` (capped at 0.9, scaled to
    ``nnz`` per row on average), and the label is +1 for the ``positive`` fraction of
    rows with the highest score ``a_j^T w + logistic noise`` (``w`` Gaussian).  The
    problem ``"w7a-like"`` of :mod:`.problems` is logistic regression on it.

    (:func:`logistic_data` draws Gaussian features; at w7a's size and density with
    ``lam = 0.1`` its objective is regulariser-dominated: condition number about 1.1,
    ``f(0) - f_min`` about 0.008, and gradient descent is done in 10 steps, so it
    cannot separate the methods of seed 001's Figure 1.)

    >>> A, y = w7a_like(m=200, d=30, nnz=4, seed=1)
    >>> A.shape, sorted(set(A.ravel().tolist())), sorted(set(y.tolist()))
    ((200, 30), [0.0, 1.0], [-1.0, 1.0])
    """
    # numpy's reductions (p.sum(), A @ w), not the kernels': the experiments' tables were computed with them
    p = 1.0 / np.arange(1, d + 1, dtype=np.float64) ** 0.9
    for _ in range(100):                       # scale to nnz per row on average, capping at 0.9
        p = np.minimum(p * (nnz / p.sum()), 0.9)
    A = (generator(seed, STREAM_W7A, KEY_W7A_A).random((m, d)) < p).astype(np.float64)
    w = generator(seed, STREAM_W7A, KEY_W7A_W).standard_normal(d)
    score = A @ w + generator(seed, STREAM_W7A, KEY_W7A_NOISE).logistic(size=m)
    k = max(1, int(round(positive * m)))
    y = -np.ones(m)
    y[np.argsort(-score, kind="stable")[:k]] = 1.0
    return A, y


# ------------------------------------------------------------------------------------------
# LIBSVM format


class LibSVM(NamedTuple):
    """A LIBSVM file as CSR arrays (0-based ``indices``) and its raw labels.

    Unpacks as ``indptr, indices, values, labels, n_features = load_libsvm(path)``.
    """
    indptr: np.ndarray
    indices: np.ndarray
    values: np.ndarray
    labels: np.ndarray
    n_features: int

    def dense(self) -> np.ndarray:
        return to_dense(self.indptr, self.indices, self.values, self.n_features)


def load_libsvm(path, n_features: int | None = None) -> LibSVM:
    """Parse ``label idx:val idx:val ...`` lines (indices 1-based and strictly increasing).

    Text after ``#`` is a comment; blank lines are skipped.  Every malformed line is an
    :class:`InputError` naming the file and the line number.  ``n_features`` defaults
    to the largest index in the file; when given, a larger index is an error.
    Explicitly stored zeros (``3:0``) are kept: they belong to the row's support.

    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "tiny.svm"
    >>> _ = p.write_text("+1 1:0.5 3:2  # first sample\\n\\n-1 2:1\\n")
    >>> f = load_libsvm(p)
    >>> f.indptr.tolist(), f.indices.tolist(), f.values.tolist(), f.labels.tolist(), f.n_features
    ([0, 2, 3], [0, 2, 1], [0.5, 2.0, 1.0], [1.0, -1.0], 3)
    """
    name = os.fspath(path)
    if n_features is not None and (isinstance(n_features, bool) or not isinstance(n_features, (int, np.integer))
                                   or n_features < 1):
        raise InputError(f"n_features must be a positive integer, got {n_features!r}")
    try:
        with open(name, "rb") as fh:
            raw = fh.read()
        text = raw.decode("utf-8")
    except OSError as e:
        raise InputError(f"cannot read LIBSVM file {name!r}: {e.strerror or e}") from None
    except UnicodeDecodeError as e:
        raise InputError(f"{name}: not a text file (byte {e.start} is not UTF-8)") from None
    indptr, indices, values, labels = [0], [], [], []
    for lineno, line in enumerate(text.splitlines(), start=1):
        body = line.split("#", 1)[0].split()
        if not body:
            continue
        where = f"{name}:{lineno}"
        label = _number(body[0], f"{where}: label")
        last = 0
        for tok in body[1:]:
            idx_s, colon, val_s = tok.partition(":")
            if not colon:
                raise InputError(f"{where}: {tok!r} is not of the form index:value")
            if not (idx_s.isascii() and idx_s.isdigit()):
                raise InputError(f"{where}: index {idx_s!r} is not a positive integer")
            idx = int(idx_s)
            if idx < 1:
                raise InputError(f"{where}: index {idx} is not a positive integer (LIBSVM indices start at 1)")
            if idx <= last:
                raise InputError(f"{where}: index {idx} after {last}: indices must be strictly increasing")
            if n_features is not None and idx > n_features:
                raise InputError(f"{where}: index {idx} is beyond n_features = {n_features}")
            values.append(_number(val_s, f"{where}: value of index {idx}"))
            indices.append(idx - 1)
            last = idx
        labels.append(label)
        indptr.append(len(indices))
    if not labels:
        raise InputError(f"{name}: no samples (the file is empty or only comments)")
    n = int(n_features) if n_features is not None else (max(indices) + 1 if indices else 0)
    if n == 0:
        raise InputError(f"{name}: no features (no line has an index:value pair)")
    return LibSVM(np.array(indptr, dtype=np.int64), np.array(indices, dtype=np.int64),
                  np.array(values, dtype=np.float64), np.array(labels, dtype=np.float64), n)


def _number(s: str, what: str) -> float:
    try:
        v = float(s)
    except ValueError:
        raise InputError(f"{what} {s!r} is not a number") from None
    if not math.isfinite(v):
        raise InputError(f"{what} is {s!r}, not a finite number")
    return v


def to_dense(indptr, indices, values, n_features: int) -> np.ndarray:
    """The ``m x n_features`` float64 matrix of CSR rows (``m = len(indptr) - 1``).

    >>> to_dense([0, 1, 3], [1, 0, 2], [5.0, 6.0, 7.0], 3).tolist()
    [[0.0, 5.0, 0.0], [6.0, 0.0, 7.0]]
    """
    indptr = np.asarray(indptr, dtype=np.int64)
    indices = np.asarray(indices, dtype=np.int64)
    values = np.asarray(values, dtype=np.float64)
    if indptr.ndim != 1 or len(indptr) < 1 or indptr[0] != 0 or np.any(np.diff(indptr) < 0) \
            or indptr[-1] != len(indices) or len(indices) != len(values):
        raise InputError(f"to_dense: inconsistent CSR arrays (indptr of length {len(indptr)}, "
                         f"{len(indices)} indices, {len(values)} values)")
    if len(indices) and (indices.min() < 0 or indices.max() >= n_features):
        raise InputError(f"to_dense: an index is outside 0 .. n_features - 1 = {n_features - 1}")
    out = np.zeros((len(indptr) - 1, n_features))
    for j in range(len(indptr) - 1):
        out[j, indices[indptr[j]:indptr[j + 1]]] = values[indptr[j]:indptr[j + 1]]
    return out


def binary_labels(labels, source: str = "labels") -> np.ndarray:
    """Map two distinct label values to -1 (the smaller) and +1 (the larger).

    LIBSVM binary files use {-1, +1}, {0, 1} or {1, 2}; a file with one class keeps its
    sign (``> 0`` is +1).  More than two classes is an :class:`InputError`.

    >>> binary_labels([0.0, 1.0, 1.0, 0.0]).tolist()
    [-1.0, 1.0, 1.0, -1.0]
    """
    labels = np.asarray(labels, dtype=np.float64)
    classes = np.unique(labels)
    if len(classes) > 2:
        shown = ", ".join(f"{c:g}" for c in classes[:5]) + (", ..." if len(classes) > 5 else "")
        raise InputError(f"{source}: {len(classes)} classes ({shown}); a binary problem needs at most 2")
    if len(classes) == 1:
        return np.where(labels > 0, 1.0, -1.0)
    return np.where(labels == classes[1], 1.0, -1.0)


def file_digest(path) -> str:
    """``sha256:<hex>`` of a file's bytes (stored in a problem's spec to detect a changed file)."""
    try:
        with open(os.fspath(path), "rb") as fh:
            return "sha256:" + hashlib.sha256(fh.read()).hexdigest()
    except OSError as e:
        raise InputError(f"cannot read {os.fspath(path)!r}: {e.strerror or e}") from None


# ------------------------------------------------------------------------------------------
# per-worker splits


def _int(v, name: str, lo: int) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
        raise InputError(f"{name} must be an integer >= {lo}, got {v!r}")
    return int(v)


def split_workers(m: int, n: int, zeta: float, seed: int, keys=None) -> list[np.ndarray]:
    """Split samples ``0 .. m-1`` among ``n`` workers, with heterogeneity ``zeta`` in [0, 1].

    Worker ``i`` owns the block of slots ``i`` of ``0 .. m-1`` cut into ``n`` contiguous
    blocks whose sizes differ by at most 1 (the first ``m mod n`` blocks are one larger).
    The samples are first laid on the slots sorted by ``keys`` (stable, so ties keep
    index order; the default key is the sample index itself, i.e. the data's own
    order -- pass labels or a feature to split by those).  Then ``round((1 - zeta) m)``
    slots, chosen uniformly at random, have their samples shuffled among themselves:

    * ``zeta = 1``: nothing moves, each worker gets a contiguous block of the sorted order;
    * ``zeta = 0``: every slot is shuffled, a uniformly random split (i.i.d. workers);
    * in between: a fraction ``zeta`` of the samples stays where the sorted order put it.

    Every sample lands exactly once, every worker gets at least one sample (so ``m >= n``
    is required), the result depends only on the arguments (randomness from
    ``rng.generator(seed, STREAM_SPLIT, 0)``), and each worker's indices are returned
    sorted ascending (a local data set is a set; the order of use is the algorithm's).

    >>> [p.tolist() for p in split_workers(6, 2, zeta=1.0, seed=0, keys=[1, 0, 1, 0, 1, 0])]
    [[1, 3, 5], [0, 2, 4]]
    """
    m = _int(m, "m (number of samples)", 1)
    n = _int(n, "n (number of workers)", 1)
    if m < n:
        raise InputError(f"cannot give each of n = {n} workers a sample: only m = {m} samples")
    if isinstance(zeta, bool) or not isinstance(zeta, (int, float, np.floating, np.integer)) \
            or not math.isfinite(zeta) or not 0.0 <= zeta <= 1.0:
        raise InputError(f"zeta (heterogeneity) must be a number in [0, 1], got {zeta!r}")
    seed = _int(seed, "seed", 0)
    if keys is None:
        order = np.arange(m, dtype=np.int64)
    else:
        try:
            k = np.asarray(keys, dtype=np.float64)
        except (TypeError, ValueError):
            raise InputError("keys must be an array of m numbers") from None
        if k.shape != (m,):
            raise InputError(f"keys has shape {k.shape}, expected ({m},) (one key per sample)")
        if not np.all(np.isfinite(k)):
            raise InputError(f"keys[{int(np.flatnonzero(~np.isfinite(k))[0])}] is not finite")
        order = np.argsort(k, kind="stable").astype(np.int64)
    moved = int(math.floor((1.0 - float(zeta)) * m + 0.5))
    g = generator(seed, STREAM_SPLIT, 0)
    slots = np.sort(g.choice(m, size=moved, replace=False)) if moved else np.empty(0, dtype=np.int64)
    placed = order.copy()
    placed[slots] = order[slots][g.permutation(moved)]
    sizes = [m // n + (1 if i < m % n else 0) for i in range(n)]
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    return [np.sort(placed[bounds[i]:bounds[i + 1]]) for i in range(n)]


def heterogeneity(problem, splits, x) -> float:
    """``max_i ||grad f_i(x) - grad f(x)||^2``: the ``zeta^2`` of seed 001 at the point ``x``.

    ``f_i`` is ``problem.subset(splits[i])`` (the mean of worker i's samples) and ``f``
    is the whole problem (the mean over all samples, which is the mean of the ``f_i``
    when the splits have equal sizes).  A point estimate: the assumption asks for a
    bound over all ``x``.
    """
    x = problem.check_x(x)
    if len(splits) == 0:
        raise InputError("splits is empty: need at least one worker's indices")
    g = problem.grad(x)
    return max(float(K.sq_dist(problem.subset(s).grad(x), g)) for s in splits)
