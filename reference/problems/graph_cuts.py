"""Graph cuts: seed 002 (002_34168ee93540180b.txt), slide "Graph Cuts", ``minimize_x sum_((u,v) in E)
w_uv ||x_u - x_v||_1`` subject to ``1_K^T x_a = 1, x_a >= 0`` for every node ``a``, one sample per
edge ``j = (u, v)``::

    f_j(x)            = w_uv ||x_u - x_v||_1
    grad_(x_u) f_j(x) = w_uv sign(x_u - x_v) = -grad_(x_v) f_j(x)      (sign(0) = 0; 0 elsewhere)

The constraint is kept by projection onto the simplex (:class:`GraphCuts`).  Convex, nonsmooth:
``L`` and ``mu`` are None; ``G = sqrt(2K) max w`` bounds every ``||grad f_j||``.  Built by name
on a random graph of distinct edges with weights in (0, 1], starting on the simplex
(:func:`~asyncproof.reference.data.graph_cut_data`).
"""

from __future__ import annotations

import math

import numpy as np

from .. import kernels as K
from ..data import graph_cut_data, simplex_start
from ..errors import InputError
from ..params import Param
from .base import (_MAX_ENTRIES, _SEED, Kernels, Problem, ProblemKind, _arr, _float_array, _index_array, _int_param,
                   _params, _positive_int, _short, _weights, register)

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
    block to its Euclidean projection onto the simplex (:func:`~asyncproof.reference.kernels.simplex_project`),
    :meth:`project_support` only the blocks of one sample, and :meth:`check_feasible` refuses a
    point off the simplex (a block sum farther than ``SIMPLEX_TOL`` from 1, or an entry below
    ``-SIMPLEX_TOL``) as an :class:`InputError`; the start ``x0`` must be feasible.  ``value``
    and the gradients are the finite sum itself, defined at every x (an algorithm's noisy
    reads may lie off the simplex).  Readings: the slide shows no terminal nodes, so the
    minimum is 0 at every constant labelling (the multiway-cut LP fixes terminals; the
    slide's objective is kept as it is).  A self-loop ``(u, u)`` is refused: its support
    would hold ``x_u``'s coordinates twice.  Convex, nonsmooth: ``L``, ``mu`` are None;
    ``G = sqrt(2K) max w`` bounds every ``||grad f_j||``.  ``x0`` defaults to
    :func:`~asyncproof.reference.data.simplex_start` with seed 0.

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


PARAMS = _params(_SEED, _int_param("nodes", 30, 2, "nodes D of the graph"),
                 _int_param("m", 60, 1, "edges |E| (samples)"), _int_param("labels", 3, 1, "labels K per node"))

ARRAY_PARAMS = _params(_arr("edges", "list of [u, v] node pairs"), _arr("weights", "edge weights w_uv >= 0"),
                       Param("nodes", int, None, "number of nodes"), Param("labels", int, None, "labels K"),
                       _arr("x0", "start on the simplex (nodes x labels)"))


def build(seed, nodes, m, labels):
    if nodes * labels > _MAX_ENTRIES:
        raise InputError(f"graph-cuts: nodes * labels = {nodes * labels} unknowns, more than the limit {_MAX_ENTRIES}")
    u, v, w, x0 = graph_cut_data(nodes, m, labels, seed)
    return GraphCuts(np.stack([u, v], axis=1), w, nodes, labels, x0=x0), \
        {"seed": seed, "nodes": nodes, "m": m, "labels": labels}


register(ProblemKind(
    name=GraphCuts.name,
    help="seed 002: sum over edges (u,v) of w_uv ||x_u - x_v||_1, each x_a on the simplex of K labels (kept by "
         "projection); random graph, w in (0,1]; params nodes=30, m=60 edges, labels=3, seed=0",
    synthetic=PARAMS, build=build,
    arrays=ARRAY_PARAMS, required=("edges", "weights", "nodes", "labels"),
    from_arrays=lambda edges, weights, nodes, labels, x0=None: GraphCuts(edges, weights, nodes, labels, x0)))
