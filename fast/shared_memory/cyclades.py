"""Serially-equivalent (CYCLADES) SGD on real threads, recorded (Pan et al. 2016, Algorithm 1).

The reference (:mod:`asyncproof.reference.shared_memory.cyclades`) is the specification; this is
the same algorithm run by ``threads`` long-lived Python threads.  Each thread first plans a
contiguous block of the batches (draws their part of the data order π, finds their conflict
graphs' connected components, allocates them: :func:`plan_batches`, compiled, ``nogil``), so the
planning runs on every core at once; once every batch is planned (a start barrier), each thread
runs one compiled ``nogil`` kernel (:func:`execute`) over all batches: its allocated positions in
order, then a spin barrier, batch after batch.  Kernels are compiled (or loaded from numba's cache)
and warmed in the main thread before any worker starts.

=========================================  =================================================
Pan et al. 2016, Algorithm 1 / the         here
reference (``thread``, ``plan_batch``)
=========================================  =================================================
Input: G_u, T, B                           the supports are the problem's CSR rows
                                           (:func:`csr_supports`: sorted and distinct, the
                                           supports ``conflict.supports_of`` checks), ``T``,
                                           ``batch`` = B
Sample n_b = T/B subgraphs (the data       π_t = the reference's keyed draw
order π: SGD's keyed draws, or ``order``)  (:func:`asyncproof.fast.rng.draws`), drawn by the
                                           thread that plans position t's batch; or
                                           ``order[t mod len(order)]``
Cores compute in parallel CCs for          :func:`conflict_components`: union-find over the
sampled subgraphs (``plan_batch``:         batch's positions, each coordinate remembering the
networkx connected components, sorted by   last position of the batch that touched it (a stamp
first position)                            per coordinate: the batch's first position); a
                                           component's positions in batch order, components by
                                           first position, exactly ``plan_batch``'s
Allocation of C_1^i .. C_{m_i}^i to P      :func:`allocate_components`: the reference's
cores (``allocate``: largest first, to     :func:`~asyncproof.reference.shared_memory.cyclades.allocate`
the least loaded thread)                   compiled (a counting sort by size, ties by index)
step ``work`` (``Batch.work``: a thread's  :func:`work` (the same rule, compiled); a ``work``
components in order, each in batch order)  given in ``steps`` takes the reference's
                                           :class:`~asyncproof.reference.shared_memory.cyclades.Batch`
                                           and runs per batch in Python, so a variant's step
                                           applies unchanged
for each update j (in order) from C:       in :func:`execute`: ``read``: one relaxed load per
``read x[v]``, ``grad f_j``, ``add x[v]``  coordinate of S_j into x̂; :func:`sample_step`: the
(x_{S_j} = u_j(x_{S_j}, f_j))              reference's ``hogwild.sample_step`` on the kernels of
                                           :mod:`asyncproof.reference.kernels` (rule=gradient:
                                           ``svm_sample_grad_support`` then ``-(γ * grad)``;
                                           rule=v03a: ``svm_v03a_step_support``), bit for bit;
                                           ``add``: x_v ← x_v + g_v as a relaxed load and a plain
                                           (relaxed) store: within a batch no two threads touch a
                                           cell, so no atomic is needed
step ``barrier`` (``barrier b=..``:        an atomic arrival counter per batch (``arrived[b]``,
``barrier_open(arrived, threads)``)        the reference's count), then spinning on the step
                                           :data:`barrier` (the reference's ``barrier_open``,
                                           compiled) reading the stop flag; after
                                           :data:`SPINS` spins the kernel returns and the thread
                                           yields its core (``os.sched_yield``) before spinning
                                           again, so more threads than cores still progress
Output: x                                  the shared array once every thread has passed the
                                           last barrier
=========================================  =================================================

**Recording** (:mod:`asyncproof.fast.recorder`): per position t a ``SAMPLE`` row (k = t, v = π_t,
t0 = the ticket drawn just before its first read, t1 = the ticket drawn just after its last
store: every access of t happened strictly between); per thread and batch a ``BARRIER`` row (k =
b, v = the positions it processed in batch b, t0 = the ticket drawn before its arrival, t1 = the
ticket drawn after the barrier let it on).  :func:`rebuild_cyclades_run` runs the reference
under a :class:`~asyncproof.fast.recorder.Guide` whose one resource is the sequence of those
sample ends in ticket order: position t's first read (``read x[v] t=..`` of the first coordinate
of S_j) is its begin, its last ``add`` its end (for an empty support, its job's start and finish),
each on the thread that ran it.  The correct algorithm's output does not depend on the
interleaving, so the rebuilt run's model is the fast run's bit for bit (and a plan or a thread
assignment that differs from the reference's cannot be replayed: the Guide says so); for a broken
variant the rebuilt run follows the recorded intervals, which decide its values where conflicting
positions on different threads did not overlap in time.  With ``record=False`` no ticket is
drawn and no row written: the same kernels, the same arithmetic.

**Robustness**: every position starts by reading the stop flag, and a barrier spin reads it every
turn; a worker that raises, or computes a non-finite update, sets it, and the run raises
:class:`~asyncproof.fast.run.FastRunError` naming the worker and the iteration t; the main thread
sets it at the timeout.  Threads are daemons.

Deviations from the reference: only problems whose steps the kernels compute run fast (sparse
SVM, rule=gradient or rule=v03a); the thread count is the algorithm's ``threads``; a ``work``
step given in ``steps`` must hand every position of its batch to exactly one thread (the
reference would run a step that drops or repeats one).

>>> from asyncproof.fast.run import run_fast
>>> from asyncproof.reference.schedule import run_algorithm
>>> run = run_fast("serially-equivalent-sgd", params={"T": 60, "batch": 6}, seed=1, threads=2)
>>> sgd = run_algorithm("sgd", params={"T": 60}, problem="sparse-svm", seed=1)
>>> run.x.tobytes() == sgd.trace.outputs[0][-1].tobytes(), run.rebuild().same_x
(True, True)
"""

from __future__ import annotations

import math
import os
import threading
import time
import types
from dataclasses import replace as _replace
from functools import partial

import numpy as np
from numba import njit
from numba.core.registry import CPUDispatcher

from asyncproof.reference import kernels as K
from asyncproof.reference.baselines._common import start_point
from asyncproof.reference.errors import InputError
from asyncproof.reference.registry import algorithms, get_algorithm
from asyncproof.reference.schedule import run_algorithm
from asyncproof.reference.shared_memory import cyclades as ref

from ..atomics import fetch_add_i64, load_f64_relaxed, load_i64, store_f64_relaxed
from ..recorder import LOG_DTYPE, Guide, Recorder, pattern_classifier
from ..rng import draws
from ..run import FastRun, FastRunError, Rebuilt
from ..threads import on_threads, prepare_threads, throughput, timeout_error
from .hogwild import _row

NAME = ref.NAME
SAMPLE, BARRIER = 0, 1
OP_NAMES = {SAMPLE: "sample", BARRIER: "barrier"}
DONE, FULL, STOPPED, NONFINITE, WAIT = 0, 1, 2, 3, 4
GRADIENT, V03A = 0, 1
RULE_CODES = {"gradient": GRADIENT, "v03a": V03A}
#: barrier spins before the kernel returns so that its thread yields the core
SPINS = 1 << 12
#: the kernel's ``state``: rows written this call, positions done, the current t, the cell of a
#: non-finite update, the current batch, the index in the thread's work of it, arrived at its
#: barrier (0/1), the arrival ticket, barrier spins
ROWS, DONE_N, T_NOW, BAD_V, BATCH, INDEX, ARRIVED, ARRIVAL, SPUN = range(9)
#: the named steps: the reference's two (``work``, ``barrier``) and the update rule
STEP_NAMES = ("work", "barrier", "sample_step")


def _kernel(fn):
    return njit(cache=True, nogil=True)(fn)


# --------------------------------------------------------------------------------------------
# planning: conflict graph, components, allocation (the reference's plan_batch, compiled)


@_kernel
def _find(parent, q):
    while parent[q] != q:
        parent[q] = parent[parent[q]]
        q = parent[q]
    return q


@_kernel
def conflict_components(sup_ptr, sup_idx, pi, lo, hi, stamp, last, parent, label, comp_pos, comp_start):
    """The connected components of the conflict graph of positions ``lo .. hi-1`` of ``pi``: returns
    their number c; component i holds ``comp_pos[comp_start[i]:comp_start[i+1]]`` (positions in
    batch order), components in order of their first position.  ``stamp[v] == lo`` marks a
    coordinate touched earlier in this batch, ``last[v]`` the batch index of that position;
    ``parent``, ``label`` are scratch of the batch's length (union-find: a root is its set's
    smallest index)."""
    n = hi - lo
    for q in range(n):
        parent[q] = q
    for q in range(n):
        j = pi[lo + q]
        for a in range(sup_ptr[j], sup_ptr[j + 1]):
            v = sup_idx[a]
            if stamp[v] == lo:
                r1 = _find(parent, q)
                r2 = _find(parent, last[v])
                if r1 < r2:
                    parent[r2] = r1
                elif r2 < r1:
                    parent[r1] = r2
            else:
                stamp[v] = lo
            last[v] = q
    ncomp = 0
    comp_start[0] = 0
    for q in range(n):
        r = _find(parent, q)
        if r == q:                          # the smallest position of its component: a new one
            label[q] = ncomp
            comp_start[ncomp + 1] = 0
            ncomp += 1
        else:
            label[q] = label[r]
        comp_start[label[q] + 1] += 1
    for c in range(ncomp):
        comp_start[c + 1] += comp_start[c]
        parent[c] = comp_start[c]           # now a cursor per component
    for q in range(n):
        c = label[q]
        comp_pos[parent[c]] = lo + q
        parent[c] += 1
    return ncomp


@_kernel
def allocate_components(comp_start, ncomp, P, load, cnt, order, owner):
    """The reference's ``allocate``: components largest first (ties: lower index), each to the
    thread with the fewest positions so far (ties: lower thread); ``owner[c]`` its thread.  Returns
    the largest size.  ``cnt``: scratch of the batch's length + 1, zero on entry and on return."""
    largest = 0
    for c in range(ncomp):
        s = comp_start[c + 1] - comp_start[c]
        cnt[s] += 1
        largest = max(largest, s)
    acc = 0
    for s in range(largest, -1, -1):        # where the components of size s start in ``order``
        k = cnt[s]
        cnt[s] = acc
        acc += k
    for c in range(ncomp):
        s = comp_start[c + 1] - comp_start[c]
        order[cnt[s]] = c
        cnt[s] += 1
    for s in range(largest + 1):
        cnt[s] = 0
    for p in range(P):
        load[p] = 0
    for i in range(ncomp):
        c = order[i]
        best = 0
        for p in range(1, P):
            if load[p] < load[best]:
                best = p
        owner[c] = best
        load[best] += comp_start[c + 1] - comp_start[c]
    return largest


@_kernel
def work(comp_pos, comp_start, ncomp, owner, P, out, ptr, cursor):
    """The step ``work`` (the reference's ``Batch.work``): per thread its components in index order,
    each in batch order: thread p's positions are ``out[ptr[p]:ptr[p+1]]``."""
    for p in range(P + 1):
        ptr[p] = 0
    for c in range(ncomp):
        ptr[owner[c] + 1] += comp_start[c + 1] - comp_start[c]
    for p in range(P):
        ptr[p + 1] += ptr[p]
        cursor[p] = ptr[p]
    for c in range(ncomp):
        p = owner[c]
        for a in range(comp_start[c], comp_start[c + 1]):
            out[cursor[p]] = comp_pos[a]
            cursor[p] += 1


@_kernel
def plan_batches(sup_ptr, sup_idx, pi, B, P, b_lo, b_hi, stop, stamp, last, parent, label, comp_pos, comp_start,
                 load, cnt, order, owner, worder, wptr, info):
    """Plan batches ``b_lo .. b_hi-1``: thread p's positions of batch b are
    ``worder[bB + wptr[b, p] : bB + wptr[b, p+1]]``.  ``info``: components, the largest one's size,
    components of >= 2 positions, accumulated.  Returns the first batch not planned (b_hi unless
    stopped)."""
    T = pi.shape[0]
    for b in range(b_lo, b_hi):
        if load_i64(stop, 0) != 0:
            return b
        lo = b * B
        hi = min(lo + B, T)
        ncomp = conflict_components(sup_ptr, sup_idx, pi, lo, hi, stamp, last, parent, label, comp_pos, comp_start)
        largest = allocate_components(comp_start, ncomp, P, load, cnt, order, owner)
        work(comp_pos, comp_start, ncomp, owner, P, worder[lo:hi], wptr[b], load)
        info[0] += ncomp
        info[1] = max(info[1], largest)
        for c in range(ncomp):
            if comp_start[c + 1] - comp_start[c] >= 2:
                info[2] += 1
    return b_hi


class PlanScratch:
    """One planning thread's scratch: per coordinate the batch stamp and last position; per batch
    position the union-find and component arrays; per thread the loads."""

    def __init__(self, d: int, B: int, P: int):
        self.stamp = np.full(d, -1, dtype=np.int64)
        self.last = np.zeros(d, dtype=np.int64)
        self.parent, self.label, self.comp_pos, self.order, self.owner = (np.zeros(B, np.int64) for _ in range(5))
        self.comp_start = np.zeros(B + 1, dtype=np.int64)
        self.cnt = np.zeros(B + 1, dtype=np.int64)
        self.load = np.zeros(P + 1, dtype=np.int64)

    def plan(self, sup_ptr, sup_idx, pi, B, P, b_lo, b_hi, stop, worder, wptr, info) -> int:
        return plan_batches(sup_ptr, sup_idx, pi, B, P, b_lo, b_hi, stop, self.stamp, self.last, self.parent,
                            self.label, self.comp_pos, self.comp_start, self.load, self.cnt, self.order, self.owner,
                            worder, wptr, info)

    def batch(self, sup_ptr, sup_idx, pi, b: int, B: int, P: int) -> ref.Batch:
        """Batch b's plan as the reference's :class:`~asyncproof.reference.shared_memory.cyclades.Batch`
        (its components and allocation computed compiled)."""
        lo, hi = b * B, min((b + 1) * B, pi.shape[0])
        ncomp = conflict_components(sup_ptr, sup_idx, pi, lo, hi, self.stamp, self.last, self.parent, self.label,
                                    self.comp_pos, self.comp_start)
        allocate_components(self.comp_start, ncomp, P, self.load, self.cnt, self.order, self.owner)
        bounds = self.comp_start[:ncomp + 1].tolist()
        pos = self.comp_pos[:hi - lo].tolist()
        comps = tuple(tuple(pos[bounds[c]:bounds[c + 1]]) for c in range(ncomp))
        owner = self.owner[:ncomp].tolist()
        alloc = tuple(tuple(c for c in range(ncomp) if owner[c] == p) for p in range(P))
        return ref.Batch(b, tuple(range(lo, hi)), tuple(pi[lo:hi].tolist()), comps, alloc)


def csr_supports(problem) -> tuple[np.ndarray, np.ndarray]:
    """``(ptr, idx)``: S_j = ``idx[ptr[j]:ptr[j+1]]``, the problem's CSR rows as they are (a sparse
    SVM refuses rows that are not strictly increasing, so they are ``supports_of``'s supports)."""
    if problem.name not in SUPPORTED:
        raise InputError(f"{NAME} --fast runs the problem(s) {', '.join(SUPPORTED)}, not {problem.name!r}")
    indptr, indices = problem.arrays[0], problem.arrays[1]
    return np.ascontiguousarray(indptr, dtype=np.int64), np.ascontiguousarray(indices, dtype=np.int64)


# --------------------------------------------------------------------------------------------
# execution


@_kernel
def sample_step(rule, arrays, rule_arrays, j, x, gamma, out):
    """The reference's ``hogwild.sample_step`` for a sparse SVM, on the support of f_j at x̂ (``x``
    holds x̂ on it): rule=gradient ``-(γ ∇f_j(x̂))``, rule=v03a the problem's ``rule_step``."""
    if rule == V03A:
        K.svm_v03a_step_support(*rule_arrays, j, x, gamma, out)
    else:
        K.svm_sample_grad_support(*arrays, j, x, out)
        for q in range(out.shape[0]):
            out[q] = -(gamma * out[q])


#: the step ``barrier``: the reference's ``barrier_open(arrived, threads)``, compiled
barrier = _kernel(ref.barrier_open)

#: problems whose steps :func:`sample_step` computes
SUPPORTED = ("sparse-svm",)


@_kernel
def _ticket(ticket, record):
    """The next ticket, or -1 when not recording."""
    return fetch_add_i64(ticket, 0, 1) if record else -1


@_kernel
def _pause(state, rows, b, i, code):
    """Leave the kernel where it is (batch b, index i of the thread's work in it) with ``code``."""
    state[ROWS] = rows
    state[BATCH] = b
    state[INDEX] = i
    return code


def _execute(x, arrays, rule_arrays, rule, sup_ptr, sup_idx, pi, worder, wptr, B, p, P, gamma, arrived, stop,
             ticket, ilog, flog, record, xloc, gbuf, state):
    rows = 0
    b = state[BATCH]
    i = state[INDEX]
    while b < wptr.shape[0]:
        lo = wptr[b, p]
        hi = wptr[b, p + 1]
        while state[ARRIVED] == 0 and lo + i < hi:
            if load_i64(stop, 0) != 0:
                return _pause(state, rows, b, i, STOPPED)
            if record and rows + 1 > ilog.shape[0]:
                return _pause(state, rows, b, i, FULL)
            t = worder[b * B + lo + i]
            state[T_NOW] = t
            j = pi[t]
            t0 = _ticket(ticket, record)
            for a in range(sup_ptr[j], sup_ptr[j + 1]):           # read x̂ on S_j
                xloc[sup_idx[a]] = load_f64_relaxed(x, sup_idx[a])
            g = gbuf[:sup_ptr[j + 1] - sup_ptr[j]]
            sample_step(rule, arrays, rule_arrays, j, xloc, gamma, g)
            for q in range(g.shape[0]):                          # add g on S_j
                v = sup_idx[sup_ptr[j] + q]
                new = load_f64_relaxed(x, v) + g[q]
                if not (abs(g[q]) < math.inf and abs(new) < math.inf):
                    state[BAD_V] = v
                    return _pause(state, rows, b, i, NONFINITE)
                store_f64_relaxed(x, v, new)
            if record:
                _row(ilog, flog, rows, SAMPLE, t, j, t0, fetch_add_i64(ticket, 0, 1), 0.0, 0.0)
                rows += 1
            state[DONE_N] += 1
            i += 1
        if state[ARRIVED] == 0:
            state[ARRIVAL] = _ticket(ticket, record)
            fetch_add_i64(arrived, b, 1)
            state[ARRIVED] = 1
        spins = 0
        while not barrier(load_i64(arrived, b), P):
            if load_i64(stop, 0) != 0 or spins == SPINS:
                state[SPUN] += spins
                return _pause(state, rows, b, i, STOPPED if load_i64(stop, 0) != 0 else WAIT)
            spins += 1
        state[SPUN] += spins
        if record:
            if rows + 1 > ilog.shape[0]:
                return _pause(state, rows, b, i, FULL)
            _row(ilog, flog, rows, BARRIER, b, hi - lo, state[ARRIVAL], fetch_add_i64(ticket, 0, 1), 0.0, 0.0)
            rows += 1
        state[ARRIVED] = 0
        b += 1
        i = 0
    return _pause(state, rows, b, 0, DONE)


#: every thread's loop over the batches, compiled once and cached on disk
execute = _kernel(_execute)


def _compiled(fn):
    return fn if isinstance(fn, CPUDispatcher) else njit(nogil=True)(fn)


_WITH_STEPS: dict = {}


def with_steps(**replace):
    """The execution kernel with named steps replaced (``barrier``: ``(arrived, threads) -> bool``, as
    the reference's; ``sample_step``: the update rule's kernel): the same source compiled against
    other globals, once per process for the same steps, not cached on disk.  A plain function is
    compiled (a variant's ``barrier`` lambda)."""
    unknown = sorted(set(replace) - {"barrier", "sample_step"})
    if unknown:
        raise InputError(f"the {NAME} execution kernel has no step {unknown[0]!r}")
    key = tuple(sorted(replace.items()))
    if key not in _WITH_STEPS:
        compiled = {k: _compiled(fn) for k, fn in replace.items()}
        fn = types.FunctionType(_execute.__code__, {**_execute.__globals__, **compiled}, "execute_with_steps")
        _WITH_STEPS[key] = njit(nogil=True)(fn)
    return _WITH_STEPS[key]


def reference_algorithm(steps: dict):
    """The reference algorithm whose steps are ``steps`` (``work``, ``barrier``): itself, else a
    registered broken variant with exactly those steps, else an unregistered copy."""
    base = get_algorithm(NAME)
    given = {k: fn for k, fn in steps.items() if k in base.steps and fn is not base.steps[k]}
    if not given:
        return base
    want = {**dict(base.steps), **given}
    for alg in algorithms(include_broken=True):
        if alg.variant_of == NAME and dict(alg.steps) == want:
            return alg
    names = ", ".join(sorted(given))
    return _replace(base, name=f"{NAME} (steps {names} replaced)", steps=base.steps.replace(**given))


# --------------------------------------------------------------------------------------------
# the run


def _check_memory(T: int, batches: int, threads: int, d: int, record: bool) -> None:
    """Refuse, in one line, a run whose arrays would not fit: π and the work order (T each), the
    offsets of each thread's work per batch and the barrier counters, per thread three arrays of d
    (the planner's stamps and last positions, x̂), and when recording the rows (one per position,
    one per thread and batch, each held about three times at the end)."""
    from asyncproof.reference.registry import bytes_text, memory_limit
    rows = T + batches * threads
    need = 8 * (2 * T + batches * (threads + 2) + 3 * threads * d) + (3 * rows * LOG_DTYPE.itemsize if record else 0)
    if need > memory_limit():
        raise InputError(f"{NAME} --fast: this run would need about {bytes_text(need)} (T = {T:,}, {batches:,} batches, "
                         f"{threads} threads, d = {d:,}{f', {rows:,} recorded rows' if record else ''}), more than "
                         f"the {bytes_text(memory_limit())} limit; lower T or threads, or raise batch")


def run_cyclades(problem=None, params: dict | None = None, seed: int = 0, threads: int = 2, record: bool = True,
                 timeout: float = 60.0, assignment: str = "keyed", capacity: int = 1 << 16,
                 steps: dict | None = None) -> FastRun:
    """Serially-equivalent SGD on ``threads`` threads (see the module docstring).  ``steps``
    replaces named steps: ``work`` (a function of the reference's ``Batch``, as the reference's
    step), ``barrier`` and ``sample_step`` (:func:`with_steps`); ``capacity``: rows per thread
    buffer.  The data order is the reference's (keyed draws or ``order``): ``assignment`` is
    ``"keyed"``."""
    began = time.perf_counter()
    if assignment != "keyed":
        raise InputError(f"{NAME} --fast takes the reference's data order π (assignment 'keyed'), not {assignment!r}")
    steps = dict(steps or {})
    unknown = sorted(set(steps) - set(STEP_NAMES))
    if unknown:
        raise InputError(f"{NAME} --fast has no step {unknown[0]!r}; its steps are: {', '.join(STEP_NAMES)}")
    alg, p, prob = prepare_threads(NAME, problem, params, seed, threads, timeout, "threads")
    sup_ptr, sup_idx = csr_supports(prob)
    T, B, gamma = p["T"], p["batch"], float(p["gamma"])
    nb = math.ceil(T / B)
    _check_memory(T, nb, threads, prob.d, record)
    x0 = np.array(start_point(prob, p), dtype=np.float64)
    pi = np.zeros(T, dtype=np.int64)
    order = p.get("order")
    if order is not None:
        ref.data_order(prob, 0, seed, order)            # the reference's checks of ``order``
        pi[:] = np.asarray(order, dtype=np.int64)[np.arange(T) % len(order)]
    worder = np.zeros(T, dtype=np.int64)
    wptr = np.zeros((nb, threads + 1), dtype=np.int64)
    arrived = np.zeros(nb, dtype=np.int64)
    stop = np.zeros(1, dtype=np.int64)
    rec = Recorder(threads, max(capacity, 2), OP_NAMES, enabled=record)
    x = x0.copy()
    arrays, rule_arrays = tuple(prob.arrays), prob.rule_arrays_at(gamma)
    rule = RULE_CODES[prob.rule]
    kern_steps = {k: steps[k] for k in ("barrier", "sample_step") if k in steps and steps[k] is not ref.barrier_open}
    kern = with_steps(**kern_steps) if kern_steps else execute
    work_step = steps.get("work", ref.Batch.work)
    work_step = None if work_step is ref.Batch.work else work_step
    smax = int(np.diff(sup_ptr).max())
    scratch = [(PlanScratch(prob.d, min(B, T), threads), np.zeros(prob.d), np.zeros(max(smax, 1)),
                np.zeros(SPUN + 1, np.int64), np.zeros(3, np.int64)) for _ in range(threads)]
    blocks = [q * nb // threads for q in range(threads + 1)]      # thread q plans batches blocks[q] .. blocks[q+1]-1

    def call(p_, lg):
        _, xloc, gbuf, state, _ = scratch[p_]
        return kern(x, arrays, rule_arrays, rule, sup_ptr, sup_idx, pi, worder, wptr, B, p_, threads, gamma, arrived,
                    stop, rec.ticket, lg.ilog, lg.flog, record, xloc, gbuf, state)

    # compile (or load from the cache) and warm in the main thread: plans and runs of zero batches
    warm_from = time.perf_counter()
    warm = PlanScratch(prob.d, 1, threads)
    warm.plan(sup_ptr, sup_idx, pi, B, threads, 0, 0, stop, worder, wptr, np.zeros(3, np.int64))
    draws(seed, np.arange(0), prob.m)
    if work_step is not None:
        warm.batch(sup_ptr, sup_idx, pi[:1], 0, 1, threads)
    kern(x0.copy(), arrays, rule_arrays, rule, sup_ptr, sup_idx, pi, worder, wptr[:0], B, 0, threads, gamma, arrived,
         stop, np.zeros(1, np.int64), rec.logs[0].ilog, rec.logs[0].flog, record, scratch[0][1], scratch[0][2],
         np.zeros(SPUN + 1, np.int64))
    warm_seconds = time.perf_counter() - warm_from
    failures: list = []
    planned = threading.Barrier(threads)          # every batch planned before any is run
    plan_seconds = [0.0] * threads
    yields = [0] * threads
    t_start = time.perf_counter()                 # (on_threads starts the threads next)

    def plan(p_):
        ps, info = scratch[p_][0], scratch[p_][4]
        b_lo, b_hi = blocks[p_], blocks[p_ + 1]
        if order is None and b_lo < b_hi:
            pos = np.arange(b_lo * B, min(b_hi * B, T))
            pi[pos[0]:pos[-1] + 1] = draws(seed, pos, prob.m)
        if work_step is None:
            ps.plan(sup_ptr, sup_idx, pi, B, threads, b_lo, b_hi, stop, worder, wptr, info)
            return
        for b in range(b_lo, b_hi):
            if stop[0]:
                return
            batch = ps.batch(sup_ptr, sup_idx, pi, b, B, threads)
            lists = [list(w) for w in work_step(batch)]
            flat = [t for w in lists for t in w]
            if len(lists) != threads or sorted(flat) != list(batch.positions):
                raise InputError(f"the step work gave {len(flat)} positions on {len(lists)} threads, not each "
                                 f"of the batch's {len(batch.positions)} once on {threads}")
            worder[batch.positions[0]:batch.positions[-1] + 1] = flat
            wptr[b] = np.cumsum([0] + [len(w) for w in lists])
            sizes = [len(c) for c in batch.components]
            info += [len(sizes), 0, sum(s >= 2 for s in sizes)]
            info[1] = max(info[1], max(sizes))

    def worker(p_):
        lg = rec.logs[p_]
        state = scratch[p_][3]
        running = []                              # empty while planning

        def where():
            return f"at iteration t = {int(state[T_NOW])}" if running else "while planning its batches"
        try:
            plan(p_)
            plan_seconds[p_] = time.perf_counter() - t_start
            planned.wait(timeout)
            running.append(True)
            state[BATCH] = 0
            while True:
                code = call(p_, lg)
                if record:
                    lg.flush(int(state[ROWS]))
                if code == FULL:
                    continue
                if code == WAIT:
                    yields[p_] += 1
                    os.sched_yield()
                    continue
                if code == NONFINITE:
                    failures.append((p_, int(state[T_NOW]), f"non-finite update of x[{int(state[BAD_V])}] {where()}"))
                    stop[0] = 1
                break
        except threading.BrokenBarrierError:      # another worker failed while this one waited
            pass
        except BaseException as e:                # the run must end, whatever the worker did
            failures.append((p_, int(state[T_NOW]), f"raised {type(e).__name__}: "
                             f"{str(e).splitlines()[0] if str(e) else ''} {where()}"))
            stop[0] = 1
            planned.abort()

    for st in scratch:
        st[3][T_NOW] = -1
    ran = on_threads(NAME, threads, worker, timeout, stop, on_timeout=planned.abort)
    if ran.timed_out:
        raise timeout_error(NAME, timeout, ran, f"{sum(int(s[3][DONE_N]) for s in scratch)} of {T} positions done")
    if failures:
        p_, t, what = min(failures, key=lambda f: (f[1] < 0, f[1]))
        raise FastRunError(f"{NAME} --fast: worker {p_} {what}")
    info = np.sum([s[4] for s in scratch], axis=0)
    info[1] = max(int(s[4][1]) for s in scratch)
    updates = int(np.diff(sup_ptr)[pi].sum())
    stats = {**throughput(T, updates, ran, warm_from - began, warm_seconds),
             "plan_seconds": max(plan_seconds), "batches": nb, "components": int(info[0]),
             "largest_component": int(info[1]), "conflicting_components": int(info[2]),
             "barrier_spins": int(sum(int(s[3][SPUN]) for s in scratch)), "barrier_yields": sum(yields)}
    run = FastRun(algorithm=NAME, problem=prob, params=p, seed=seed, threads=threads, assignment=assignment,
                  x0=x0, x=x, log=rec.log() if record else None, stats=stats, op_names=OP_NAMES)
    if not record:
        run.why_not_replayable = f"{NAME} --fast ran without its recorder: nothing to replay"
    elif "sample_step" in steps:
        run.why_not_replayable = f"{NAME} --fast ran another sample_step than the reference's: nothing to replay"
    else:
        run._rebuild = partial(rebuild_cyclades_run, algorithm=reference_algorithm(steps))
    return run


# --------------------------------------------------------------------------------------------
# reading a fast run


def sample_ends(log) -> list:
    """The positions' begins and ends in ticket order: ``("begin" | "end", t, thread)``."""
    s = log[log["op"] == SAMPLE]
    ends = [(int(t0), ("begin", int(k), int(p))) for t0, k, p in zip(s["t0"], s["k"], s["thread"])]
    ends += [(int(t1), ("end", int(k), int(p))) for t1, k, p in zip(s["t1"], s["k"], s["thread"])]
    return [tok for _, tok in sorted(ends)]


def sample_classifier(problem, log):
    """``classify`` of the Guide: position t's first read (its job's start for an empty support) is
    ``("begin", t, thread)``, its last add (its job's finish) ``("end", t, thread)``."""
    s = log[log["op"] == SAMPLE]
    ptr, idx = csr_supports(problem)
    first, last = {}, {}
    for t, j in zip(s["k"].tolist(), s["v"].tolist()):
        a, e = int(ptr[j]), int(ptr[j + 1])
        first[t], last[t] = (int(idx[a]), int(idx[e - 1])) if e > a else (-1, -1)

    def at(kind, coords):
        def f(m):
            p, v, t = int(m.group(1)), int(m.group(2)), int(m.group(3))
            return ("samples", (kind, t, p)) if coords.get(t) == v else None
        return f

    def empty(kind):
        return lambda m: ("samples", (kind, int(m.group(2)), int(m.group(1)))) if first.get(int(m.group(2))) == -1 \
            else None

    return pattern_classifier([
        (r"p(\d+) read x\[(\d+)\] t=(\d+)", at("begin", first)),
        (r"p(\d+) add x\[(\d+)\] t=(\d+)", at("end", last)),
        (r"p(\d+) start w\d+ grad f_\d+ t=(\d+)", empty("begin")),
        (r"finish #\d+ w(\d+) grad f_\d+ t=(\d+)", empty("end")),
    ])


def rebuild_cyclades_run(run: FastRun, algorithm=None) -> Rebuilt:
    """Run the reference ``serially-equivalent-sgd`` (or ``algorithm``: a broken variant's name, or an
    :class:`~asyncproof.reference.registry.Algorithm`) through the recorded intervals of a fast run:
    each position begins (its first read) and ends (its last add) on the thread that ran it, in the
    order of the recorded tickets.  Raises :class:`InputError` if the reference's plan puts a
    position on another thread, or the recorded order is not all used."""
    guide = Guide({"samples": sample_ends(run.log)}, sample_classifier(run.problem, run.log))
    res = run_algorithm(algorithm or run.algorithm, problem=run.problem, params=run.params, seed=run.seed,
                        adversary=guide)
    left = guide.leftover()
    if left:
        raise InputError(f"the recorded order was not all used: {left['samples']} begins and ends left")
    out = res.trace.outputs.get(0)
    return Rebuilt(res, bool(out) and np.asarray(out[-1]).tobytes() == run.x.tobytes())


FAST = {NAME: run_cyclades}
#: a recorded run is rebuilt by the reference (``FastRun.rebuild``)
REPLAYABLE = (NAME,)
