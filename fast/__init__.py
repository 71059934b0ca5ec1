"""Fast implementations on real cores (Numba ``nogil`` kernels driven by threads).

:func:`asyncproof.fast.run.run_fast` runs an algorithm on threads; :mod:`asyncproof.fast.recorder`
records what really happened and rebuilds the reference schedule where the recorded orders
determine the run; :mod:`asyncproof.fast.atomics` holds the CPU atomics the kernels use.  So far:
HOGWILD! in its three modes (:mod:`asyncproof.fast.shared_memory.hogwild`), serially-equivalent
(CYCLADES) SGD (:mod:`asyncproof.fast.shared_memory.cyclades`), and the roofline loop that
``asyncproof bench`` measures them against (:mod:`asyncproof.fast.roofline`); ``docs/fast.md``.
"""
