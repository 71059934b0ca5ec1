"""Deliberately broken HOGWILD! variants (seed 002), one per guarantee (see :mod:`.broken`).

Each is a registered algorithm (``broken=True``, hidden from ``asyncproof list``), built
from :mod:`asyncproof.reference.shared_memory.hogwild` with one of its hooks changed: one
realistic mistake each.  The guarantees of :mod:`.shared_memory_properties` must catch
them (and the racy mode, a real algorithm, must be caught losing an update).

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

from dataclasses import replace

from ..reference.engine import Local, Receive
from ..reference.registry import ALGORITHMS, register
from ..reference.shared_memory import hogwild
from .broken import _variant


def _stale_read(mem, v, cache):
    if v not in cache:                  # the mistake: read shared memory once, then trust the copy
        cache[v] = mem.x[v]
    return cache[v]


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
    for pos, (op, k, v, _) in enumerate(trace.observed("mem")):
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


def _hooked(hooks: hogwild.Hooks = hogwild.Hooks(), slack: int = 0, mode: str = "atomic"):
    return lambda problem, params, seed: hogwild.build(problem, params, seed, mode, hooks, slack)


_variant("hogwild-atomic", "broken-hogwild-stale-read",
         "BROKEN hogwild-atomic: reads are served from a core's copy of what it read before",
         _hooked(hogwild.Hooks(read=_stale_read)))
_variant("hogwild-atomic", "broken-hogwild-writes-copy",
         "BROKEN hogwild-atomic: writes x[v] = x̂[v] + g[v] (its local copy) instead of adding g[v]",
         _hooked(hogwild.Hooks(write_base=lambda mem, v, xhat_v: xhat_v)))
_variant("hogwild-atomic", "broken-hogwild-shared-gradient-buffer",
         "BROKEN hogwild-atomic: one gradient buffer for all cores, read at write time",
         _hooked(hogwild.Hooks(shared_buffer=True)))
_variant("hogwild-atomic", "broken-hogwild-overlap-off-by-one",
         "BROKEN hogwild-atomic: a sample may start while another in progress has overlap τ",
         _hooked(slack=1))
_variant("hogwild-lock", "broken-hogwild-lock-test-then-set",
         "BROKEN hogwild-lock: the lock is a test, then a set one step later (not an atomic test-and-set)",
         _hooked(hogwild.Hooks(take_lock=_test_then_set), mode="lock"))
# the run is the racy mode's; what differs is how its lost updates are counted
register(replace(ALGORITHMS["hogwild-racy"], name="broken-hogwild-racy-counts-overwrites",
                 summary="BROKEN hogwild-racy: counts at every store the updates landed since its load",
                 metrics=_metrics_counting_overwrites, broken=True, family="broken"))
