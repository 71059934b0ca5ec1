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
===========================================  ============================================================
"""

from __future__ import annotations

from ..reference.shared_memory import hogwild
from .broken import _variant


def _stale_read(mem, v, cache):
    if v not in cache:                  # the mistake: read shared memory once, then trust the copy
        cache[v] = mem.x[v]
    return cache[v]


def _hooked(hooks: hogwild.Hooks = hogwild.Hooks(), slack: int = 0):
    return lambda problem, params, seed: hogwild.build(problem, params, seed, "atomic", hooks, slack)


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
