"""Deliberately broken serially-equivalent SGD (seed 002): reordered or merged components.

Each variant is a registered algorithm (``broken=True``, hidden from ``asyncproof list``),
:mod:`asyncproof.reference.shared_memory.cyclades` with its ``work_of`` hook (the threads'
work lists of a batch) changed: one realistic mistake each.  The guarantees of
:mod:`.serial_equivalence_properties` must catch them.

============================================  ============================================================
variant                                       the mistake
============================================  ============================================================
``broken-cyclades-reorders-component``        a component's points are processed sorted by sample index
                                              (iterating over the component as a set of sample ids)
                                              instead of in batch order (design notes, "Known
                                              deviations": a "serially equivalent" mode that reorders
                                              points inside a component)
``broken-cyclades-deals-merged-order``        the components' orders are merged into one list (each in
                                              batch order, one component after another) and the list
                                              is dealt out to the threads in turn, for balance: points
                                              of one component land on different threads and race
``broken-cyclades-barrier-off-by-one``        the barrier opens once ``threads − 1`` threads have arrived
                                              (a thread waits for "the others" but its own arrival is
                                              already counted): the last thread of batch b may still be
                                              adding while another reads for batch b + 1.  Only a
                                              conflict *across* batches shows it (tested in
                                              ``tests/test_shared_memory_guarantees.py``)
============================================  ============================================================
"""

from __future__ import annotations

from ..reference.shared_memory import cyclades
from .broken import _variant


def _by_sample_index(batch: cyclades.Batch) -> list[list[int]]:
    j_of = dict(zip(batch.positions, batch.samples))
    return [[t for c in cs for t in sorted(batch.components[c], key=lambda t: j_of[t])] for cs in batch.allocation]


def _dealt(batch: cyclades.Batch) -> list[list[int]]:
    merged = [t for c in batch.components for t in c]
    P = len(batch.allocation)
    return [merged[p::P] for p in range(P)]


_variant(cyclades.NAME, "broken-cyclades-reorders-component",
         "BROKEN serially-equivalent-sgd: a component's points in sample-index order, not batch order",
         lambda problem, params, seed: cyclades.build(problem, params, seed, work_of=_by_sample_index))
_variant(cyclades.NAME, "broken-cyclades-deals-merged-order",
         "BROKEN serially-equivalent-sgd: the components' merged order dealt out to the threads in turn",
         lambda problem, params, seed: cyclades.build(problem, params, seed, work_of=_dealt))
_variant(cyclades.NAME, "broken-cyclades-barrier-off-by-one",
         "BROKEN serially-equivalent-sgd: a batch's barrier opens once threads − 1 have arrived",
         lambda problem, params, seed: cyclades.build(problem, params, seed,
                                                      barrier=lambda arrived, threads: arrived >= threads - 1))
