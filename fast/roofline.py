"""The roofline of a HOGWILD! run: the least compiled loop that moves the same memory.

``asyncproof bench`` measures HOGWILD! against this loop.  Per sample it does what any HOGWILD!
update of a sparse linear model must do and nothing else: gather x on the sample's support, take
the dot product with the sample's values, and scatter-add a scaled copy of the values back into x
(``x_u += c z_u`` on the support, ``c = γ y`` when ``y z^T x < 1``, else ``0``: a perceptron-like
step, so x stays bounded), prefetching the rows of the samples it takes next as HOGWILD!'s kernel
does.  That is the same memory traffic as one update of the racy mode: the
sample's row of the CSR arrays (its indices and values, once), its label, one read of each x_u
for the dot product and one load and one store of it for the update.  What it leaves out is what
HOGWILD! adds on top: the problem's step kernel (for rule=v03a the per-coordinate ``deg_u`` and its
division), the non-finite checks, the stop flag, the sample counter, atomics and locks, the
recorder.  The loop runs on the same threads (:func:`~asyncproof.fast.threads.on_threads`) with the same
``slices`` assignment (:func:`~asyncproof.fast.shared_memory.hogwild.assignment_of`) over the same
data, so the ratio HOGWILD!/roofline is the cost of those additions, and its plain ``x[u] += ...``
races exactly as the racy mode's load and store do.
"""

from __future__ import annotations

import time

import numpy as np
from numba import njit

from asyncproof.reference.errors import InputError
from asyncproof.reference.schedule import _problem_from

from .run import FastRunError, private
from .threads import on_threads, throughput
from .shared_memory.hogwild import AHEAD, assignment_of, svm_prefetch, svm_step_arrays


@njit(cache=True, nogil=True)
def gather_scatter(arrays, x, js, own, gamma):
    """Samples ``js[own[i]]``, i = 0, 1, ...: gather, dot, scatter-add (the module docstring), with the
    rows of the samples :data:`~asyncproof.fast.shared_memory.hogwild.AHEAD` ahead prefetched as
    HOGWILD!'s kernel does.  ``arrays``: the step arrays of sparse-svm (the CSR rows and labels first)."""
    indptr, indices, data, y = arrays[0], arrays[1], arrays[2], arrays[3]
    n = own.shape[0]
    for i in range(n):
        if i + AHEAD < n:
            svm_prefetch(*arrays, js[own[i + AHEAD]])
        j = js[own[i]]
        a = indptr[j]
        b = indptr[j + 1]
        s = 0.0
        for q in range(a, b):
            s += data[q] * x[indices[q]]
        c = gamma * y[j] if s * y[j] < 1.0 else 0.0
        for q in range(a, b):
            x[indices[q]] += c * data[q]


def run_roofline(problem, T: int, gamma: float, threads: int, seed: int = 0, timeout: float = 600.0,
                 assignment: str = "slices") -> dict:
    """The roofline loop over T samples of a CSR problem (sparse SVM) on ``threads`` threads, each taking
    its slice of one data order per epoch as ``hogwild-* --fast`` with the same ``assignment`` (``"slices"``: a
    shuffled order, ``"stored"``: the stored order).  Returns
    the statistics of a fast run (samples, coordinate updates, seconds, per second, setup and first
    call apart)."""
    began = time.perf_counter()
    prob = _problem_from(problem)
    if prob.name != "sparse-svm":
        raise InputError(f"the roofline loop runs on a sparse-svm problem's CSR rows, not {prob.name!r}")
    if isinstance(T, bool) or not isinstance(T, int) or T < 1:
        raise InputError(f"T must be a positive integer, got {T!r}")
    if isinstance(threads, bool) or not isinstance(threads, int) or not 1 <= threads <= 256:
        raise InputError(f"threads must be an integer in 1 .. 256, got {threads!r}")
    arrays = svm_step_arrays(prob, gamma)
    js, owns = assignment_of(assignment, seed, T, prob.m, threads)
    updates = int(np.diff(arrays[0])[js].sum())
    x = np.zeros(prob.d)
    warm_from = time.perf_counter()
    gather_scatter(arrays, np.zeros(prob.d), js, owns[0][:0], float(gamma))
    warm_seconds = time.perf_counter() - warm_from
    ran = on_threads("roofline", threads, lambda p: gather_scatter(arrays, x, js, owns[p], float(gamma)), timeout,
                     private(1, np.int64))
    if ran.timed_out:
        raise FastRunError(f"roofline: timed out after {timeout:g} s")
    return throughput(T, updates, ran, warm_from - began, warm_seconds)
