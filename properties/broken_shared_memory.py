"""Deliberately broken HOGWILD! variants (seed 002), one per guarantee (see :mod:`.broken`).

Each is a :func:`~.variants.variant` of a mode of
:mod:`asyncproof.reference.shared_memory.hogwild` with one of its named steps replaced (the
shared gradient buffer: two, ``gradient`` and ``update``): one realistic mistake each.  The
guarantees of :mod:`.shared_memory_properties` must catch them (and the racy mode, a real
algorithm, must be caught losing an update).  The racy mode's lost-update count is read off
the run by its metrics, not computed by a step, so its variant replaces the metrics.

===========================================  ============================================================
variant                                      the mistake
===========================================  ============================================================
``broken-hogwild-stale-read``                a core keeps a thread-local copy of every coordinate it
                                             has read and serves later reads from it: x̂_k is not what
                                             memory held at the read (perturbed-iterate identity)
``broken-hogwild-writes-copy``               the write is ``x[v] = x̂_k[v] + g[v]`` (the core writes back
                                             its updated local copy) instead of an add: concurrent
                                             updates of v are overwritten (RAM content)
``broken-hogwild-shared-gradient-buffer``    one gradient buffer shared by all cores (a ``static``
                                             scratch array): a core writes whatever the buffer holds
                                             when it writes, which another core's gradient may have
                                             replaced (no conflict ⇒ serial)
``broken-hogwild-overlap-off-by-one``        the bounded-overlap rule lets a sample start while a sample
                                             in progress has overlap τ (``<=`` for ``<``): overlaps reach
                                             τ + 1 (bounded overlap)
``broken-hogwild-lock-test-then-set``        lock mode: the lock is taken by a test (``while locked[v]:
                                             spin``) and then, one step later, a set (``locked[v] =
                                             true``), not one atomic test-and-set: two cores can both
                                             pass the test and enter the critical section of x[v]
                                             (mutual exclusion)
``broken-hogwild-racy-counts-overwrites``    racy mode: the lost-update count adds, at every store, the
                                             updates that landed on the cell since its load (the rule
                                             this module's ``lost_updates`` used before issue 9): an
                                             update two stores overwrite is counted twice, one that a
                                             later store put back is counted although the RAM holds
                                             it (racy lost-update accounting)
===========================================  ============================================================
"""

from __future__ import annotations

import numpy as np

from ..reference.engine import Local, Receive
from ..reference.shared_memory import hogwild
from .variants import variant


def _stale_read(mem, v, local):
    if v not in local:                  # the mistake: read shared memory once, then trust the copy
        local[v] = mem.x[v]
    return local[v]


def _write_local_copy(mem, v, xhat_v, g_v):
    mem.x[v] = xhat_v + g_v             # the mistake: x̂_k[v] + g_v written over whatever x[v] holds now


_STATIC_BUFFER = np.zeros(0)            # the mistake: one scratch array for the gradients of all cores


def _gradient_into_static_buffer(problem, j, support, xhat, gamma):
    global _STATIC_BUFFER
    grad, g = hogwild.sample_step(problem, j, support, xhat, gamma)
    if _STATIC_BUFFER.shape[0] < problem.d:
        _STATIC_BUFFER = np.zeros(problem.d)
    _STATIC_BUFFER[:] = 0.0
    _STATIC_BUFFER[support] = g
    return grad, g


def _update_from_static_buffer(g, q, v):
    return _STATIC_BUFFER[v]            # whatever the last gradient computed (by any core) left there


def _test_then_set(mem, v, k):
    # the mistake: the test and the set of the lock flag are two steps; another core may pass the
    # test between them (the step keeps the real lock's name: the test is where the core gets in)
    yield Receive(until=lambda ms: v not in mem.locks, match=lambda m: False, label=f"lock x[{v}] k={k}")
    yield Local(f"set lock x[{v}] k={k}")
    mem.locks[v] = k


def _overwritten_since_load(trace) -> list[tuple[int, int]]:
    """The mistake: at every store, every update that landed on the cell since the store's load is
    counted lost, once per store that overwrites it, whether or not a later store puts it back."""
    writes: dict[int, list[tuple[int, int]]] = {}
    loaded_at: dict[tuple[int, int], int] = {}
    lost = []
    for pos, (op, k, v, _) in enumerate(trace.records(hogwild.MEM.key)):
        if op == "load":
            loaded_at[(k, v)] = pos
        elif op in ("store", "add", "write"):
            if op == "store":
                lost += [(i, v) for p, i in writes.get(v, []) if p > loaded_at[(k, v)]]
            writes.setdefault(v, []).append((pos, k))
    return lost


def _metrics_counting_overwrites(trace, problem, params) -> dict:
    m = hogwild.metrics(trace, problem, params)
    m["lost_updates"] = len(_overwritten_since_load(trace))
    return m


variant("broken-hogwild-stale-read", of="hogwild-atomic",
        mistake="reads are served from a core's copy of what it read before",
        replace={"read": _stale_read})
variant("broken-hogwild-writes-copy", of="hogwild-atomic",
        mistake="writes x[v] = x̂[v] + g[v] (its local copy) instead of adding g[v]",
        replace={"write": _write_local_copy})
variant("broken-hogwild-shared-gradient-buffer", of="hogwild-atomic",
        mistake="one gradient buffer for all cores, read at write time",
        replace={"gradient": _gradient_into_static_buffer, "update": _update_from_static_buffer})
variant("broken-hogwild-overlap-off-by-one", of="hogwild-atomic",
        mistake="a sample may start while another in progress has overlap τ",
        replace={"bounded_overlap": lambda overlaps, tau: all(c <= tau for c in overlaps)})   # the mistake: <=
variant("broken-hogwild-lock-test-then-set", of="hogwild-lock",
        mistake="the lock is a test, then a set one step later (not an atomic test-and-set)",
        replace={"lock": _test_then_set})
# the run is the racy mode's, step for step; what differs is how its metrics count the lost updates
# (no step of the run computes them, so there is no step to replace: the variant's metrics are its own)
variant("broken-hogwild-racy-counts-overwrites", of="hogwild-racy",
        mistake="counts at every store the updates landed since its load", metrics=_metrics_counting_overwrites)
