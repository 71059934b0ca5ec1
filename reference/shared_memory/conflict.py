"""The conflict graph of a sparse problem (seed 002): samples sharing a variable.

Seed 002 (002_34168ee93540180b.txt), slides "Challenges in Parallel SGD" (data points,
shared variables: "No conflict => 2 parallel iterations = 2 serial iterations") and
"Asynchrony Noise" (``Pr(two samples conflict) = Δ_av / n``, the condition ``τ <= n /
(2 Δ_av)``).  Papers: Mania et al., "Perturbed Iterate Analysis for Asynchronous Stochastic
Optimization", SIAM J. Optim. 2017 (Section 3: the conflict graph, Δ̄_C); Pan et al.,
"Cyclades: Conflict-free Asynchronous Machine Learning", NIPS 2016 (the conflict graph of a
batch, its connected components).

The **conflict graph** has one node per sample ``0 .. m-1`` and an edge ``{a, b}`` (a ≠ b)
when the supports of ``f_a`` and ``f_b`` share a coordinate.  It is built from the index
coordinate -> samples whose support holds it: the samples of one coordinate form a clique,
so the work is the number of (coordinate, sample, sample) triples, not ``m^2`` support
intersections.

**Readings of the slide's** ``Pr(two samples conflict) = Δ_av / n``:

* ``n`` on the slide is the number of samples (slide "Matrix Completion": "Entries
  Specified on set E (with |E| = n)"); it is ``m`` here, every problem's sample count.
* ``Δ_av`` is the average degree of the conflict graph, ``2 |edges| / m``.
* the two samples are ``s_i`` and ``s_k``, drawn independently and uniformly *with
  replacement* (SGD's draws), and "conflict" is "adjacent in the conflict graph".  Then
  ``Pr = Σ_a deg(a) / m^2 = Δ_av / m`` exactly: that is :attr:`ConflictStats.conflict_probability`.
  A draw of the same sample twice (probability ``1/m``) is not an edge, so it does not count;
  counting it too (the two supports meet) gives ``(Δ_av + 1) / m``
  (:attr:`ConflictStats.collision_probability`; exactly ``(2 |edges| + m') / m^2`` with ``m'``
  the samples of nonempty support, since an empty support meets nothing, not even itself).
* over *distinct* pairs the exact frequency is ``|edges| / C(m, 2) = Δ_av / (m - 1)``
  (:attr:`ConflictStats.pair_conflict_probability`), which the slide's ``Δ_av / n`` under-
  states by the factor ``(m - 1) / m``.

>>> g = conflict_graph([[0, 1], [1, 2], [3], [0]])
>>> sorted(g.edges())
[(0, 1), (0, 3)]
>>> s = conflict_stats([[0, 1], [1, 2], [3], [0]])
>>> s.avg_degree, s.max_degree, s.conflict_probability, s.pair_conflict_probability
(1.0, 2, 0.25, 0.3333333333333333)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import networkx as nx
import numpy as np

from ..errors import InputError


def check_supports(supports: Sequence[Sequence[int]], d: int) -> list[np.ndarray]:
    """The supports as int64 arrays, each checked: 1-D integer coordinates in ``0 .. d-1``, no
    coordinate twice (order kept).  A defect is an :class:`InputError` naming the sample (the first
    defective sample; within it, a coordinate out of range before a repeated one).  The checks are
    vectorised over all supports at once (a support whose entries increase holds no coordinate
    twice), so hundreds of thousands of supports take a fraction of a second; the arrays returned
    are consecutive slices of one array.

    >>> check_supports([[0, 2], [2, 2]], d=3)
    Traceback (most recent call last):
    ...
    asyncproof.reference.errors.InputError: the support of sample 1 holds coordinate 2 twice
    """
    arrays, misshapen = [], None
    for j, raw in enumerate(supports):
        s = np.asarray(raw)
        if s.ndim != 1 or (s.size and s.dtype.kind not in "iu"):
            misshapen = InputError(f"the support of sample {j} must be a 1-D array of integer coordinates, got {raw!r}")
            break
        arrays.append(s)
    starts = np.zeros(len(arrays) + 1, dtype=np.int64)
    np.cumsum([s.size for s in arrays], out=starts[1:])
    flat = np.concatenate(arrays).astype(np.int64) if arrays else np.zeros(0, np.int64)
    errors = []                                   # (sample, precedence within it, the error)
    out_of_range = np.flatnonzero((flat < 0) | (flat >= d))
    if out_of_range.size:
        i = int(out_of_range[0])
        j = int(np.searchsorted(starts, i, side="right") - 1)
        errors.append((j, 0, InputError(f"the support of sample {j} holds coordinate {flat[i]}, out of range "
                                        f"0 .. {d - 1} (d = {d})")))
    inside = np.ones(max(flat.size - 1, 0), dtype=bool)     # flat[i], flat[i + 1] in the same support
    ends = starts[1:-1]
    inside[ends[(ends > 0) & (ends < flat.size)] - 1] = False
    unsorted = np.flatnonzero(inside & (np.diff(flat) <= 0))
    for j in np.unique(np.searchsorted(starts, unsorted, side="right") - 1).tolist():
        uniq, counts = np.unique(flat[starts[j]:starts[j + 1]], return_counts=True)
        if uniq.size != starts[j + 1] - starts[j]:
            errors.append((j, 1, InputError(f"the support of sample {j} holds coordinate "
                                            f"{uniq[np.argmax(counts > 1)]} twice")))
            break
    if errors:
        raise min(errors, key=lambda e: e[:2])[2]
    if misshapen is not None:
        raise misshapen
    return [flat[starts[j]:starts[j + 1]] for j in range(len(arrays))]


def supports_of(problem) -> list[np.ndarray]:
    """``problem.support(j)`` for ``j = 0 .. m-1``, checked by :func:`check_supports`."""
    return check_supports([problem.support(j) for j in range(problem.m)], problem.d)


def conflict_graph(supports: Sequence[Sequence[int]]) -> nx.Graph:
    """The conflict graph: node ``j`` for ``supports[j]``, ``j = 0 .. len(supports)-1``, and an edge
    when two supports share a coordinate.  (A batch passes its points' supports, in batch order.)"""
    g = nx.Graph()
    g.add_nodes_from(range(len(supports)))
    holders: dict[int, list[int]] = {}          # coordinate -> samples whose support holds it
    for j in g.nodes:
        for v in supports[j]:
            holders.setdefault(int(v), []).append(j)
    for samples in holders.values():
        for q, a in enumerate(samples):
            g.add_edges_from((a, b) for b in samples[q + 1:])
    return g


@dataclass(frozen=True)
class ConflictStats:
    """Statistics of a conflict graph (see the module docstring for the readings)."""
    m: int                              # samples (the slide's n)
    edges: int
    avg_degree: float                   # Δ_av = 2 |edges| / m
    max_degree: int
    conflict_probability: float         # the slide's Δ_av / n: two independent uniform draws adjacent
    pair_conflict_probability: float    # exact over distinct pairs: |edges| / C(m, 2); 0 when m = 1
    collision_probability: float        # Pr(the supports of two uniform draws meet): (Δ_av + 1) / m if none is empty


def conflict_stats(supports: Sequence[Sequence[int]]) -> ConflictStats:
    """:class:`ConflictStats` of the conflict graph of ``supports`` (every sample ``0 .. m-1``)."""
    g = conflict_graph(supports)
    m = g.number_of_nodes()
    if m == 0:
        raise InputError("conflict statistics need at least one sample; the supports are empty")
    e = g.number_of_edges()
    avg = 2.0 * e / m
    nonempty = sum(1 for j in g.nodes if len(supports[j]) > 0)
    return ConflictStats(
        m=m, edges=e, avg_degree=avg, max_degree=max(d for _, d in g.degree()),
        conflict_probability=avg / m,
        pair_conflict_probability=(e / (m * (m - 1) / 2.0)) if m > 1 else 0.0,
        collision_probability=(2.0 * e + nonempty) / (m * m))
