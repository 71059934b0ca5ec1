"""Deliberately broken serially-equivalent SGD (seed 002): reordered or merged components.

Each variant is a :func:`~.variants.variant` of
:mod:`asyncproof.reference.shared_memory.cyclades` with one named step replaced, ``work`` (the
threads' work lists of a batch) or ``barrier``: one realistic mistake each.  The guarantees of
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
                                              ``tests/shared_memory/test_shared_memory_guarantees.py``)
============================================  ============================================================
"""

from __future__ import annotations

from ..reference.shared_memory import cyclades
from .variants import variant


def _by_sample_index(batch: cyclades.Batch) -> list[list[int]]:
    j_of = dict(zip(batch.positions, batch.samples))
    return [[t for c in cs for t in sorted(batch.components[c], key=lambda t: j_of[t])] for cs in batch.allocation]


def _dealt(batch: cyclades.Batch) -> list[list[int]]:
    merged = [t for c in batch.components for t in c]
    P = len(batch.allocation)
    return [merged[p::P] for p in range(P)]


variant("broken-cyclades-reorders-component", of=cyclades.NAME,
        mistake="a component's points in sample-index order, not batch order",
        replace={"work": _by_sample_index})
variant("broken-cyclades-deals-merged-order", of=cyclades.NAME,
        mistake="the components' merged order dealt out to the threads in turn",
        replace={"work": _dealt})
variant("broken-cyclades-barrier-off-by-one", of=cyclades.NAME,
        mistake="a batch's barrier opens once threads − 1 have arrived",
        replace={"barrier": lambda arrived, threads: arrived >= threads - 1})    # the mistake: its own arrival counted
