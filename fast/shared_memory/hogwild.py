"""HOGWILD! on real threads: racy, atomic and locked writes, recorded (Niu, Recht, Ré & Wright 2011).

The reference (:mod:`asyncproof.reference.shared_memory.hogwild`) is the specification; this is
the same loop run by ``threads`` long-lived Python threads, each calling one compiled ``nogil``
kernel (:data:`work`) that processes samples until the run is done or its record buffer
is full.  Kernels are compiled and warmed in the main thread before any worker starts; there
is no ``prange``: the operating system interleaves the threads.

=========================================  =================================================
reference step (``Steps``)                 here, in the kernel
=========================================  =================================================
``sample``: s_k = ``sample_of(seed, k, m)`` k from the sample counter (an atomic fetch-add), s_k
                                           = ``js[k]``, drawn before the run by the
                                           reference's keyed draw restated compiled
                                           (:func:`asyncproof.fast.rng.draws`); ``slices``:
                                           the thread's own next k (below)
``lock`` (lock mode)                       :func:`spin_lock` on each coordinate of the support,
                                           in increasing order (a CAS spinlock per coordinate)
``read``: x̂_k[v] = x[v]                    one relaxed atomic load per coordinate (a plain
                                           ``mov``, really issued), into ``xs[q]`` (x̂_k on the
                                           support, in its order)
``gradient``: g = −γ ∇f_{s_k}(x̂_k), or     the step ``step_support(*arrays, j, xs, γ, g)``
the problem's rule (sample_step)           (:func:`svm_step_support`): the kernels of
                                           :mod:`asyncproof.reference.kernels` (the math exists
                                           once) on x̂ given on the support: the support
                                           gradient, then ``-(γ * grad)`` as the reference, or
                                           rule=v03a's update (``svm_v03a_step_local``, the
                                           kernel of the reference's ``rule_step``)
``write``: x_v ← x_v + g_v                 ``atomic``: :func:`~asyncproof.fast.atomics.fetch_add_f64`;
                                           ``racy``: one relaxed load and one relaxed store (what
                                           the C++ original's ``w[j] += ...`` compiles to);
                                           ``lock``: load and store under the lock, all locks
                                           released after the last write (two-phase)
=========================================  =================================================

**Which thread takes which sample: the keyed draw, or slices of one data order.**  The issue
asks for both, and they answer different questions, so both exist (``assignment``):

* ``"keyed"`` (default): k comes from one global atomic counter, so the k-th sample started is
  sample k wherever it runs, and s_k is the reference's ``sample_of(seed, k, m)``.  A replay by
  the reference draws the same s_k for the same k, which is what makes a recorded lock-mode run
  replayable bit for bit, and what the perturbed-iterate view (k = the k-th sampling) reads.
* ``"slices"``: the C++ original's rule: one data order (a permutation π of the m samples keyed by
  ``(seed, STREAM_SPLIT, 0)``), repeated each epoch; in every epoch thread p processes the p-th
  contiguous slice of π, and the samples are numbered k = epoch·m + position.  No counter is
  shared, so it is the benchmark's rule against the original; it draws other samples than the
  reference, so its runs have no reference schedule (``FastRun.why_not_replayable`` says so).
  A thread that knows its next samples prefetches the rows of the one :data:`AHEAD` of the
  current one (``prefetch_sample``, a cache hint: no value read, no order implied), so that the
  random rows of a large data set arrive while it works on the current sample.
* ``"stored"``: the same slices of the data in its stored order (π the identity).  The C++
  original reads its examples through a permutation array ``perm`` (``examps[perm[i]]``); whether
  that array is shuffled decides whether its rows arrive at random or in sequence, and the rows'
  order, not the update, dominates this workload's speed (``asyncproof bench`` measures both).

**Recording** (:mod:`asyncproof.fast.recorder`): per sample a ``SAMPLE`` row (k, v = s_k, t0 =
ticket at its start, t1 = ticket after its last write or unlock); atomic and racy modes bracket
every access with the ticket before and after it (``READ`` value x̂_k[v]; ``ADD`` value = what
the fetch-add returned, aux = g_v; racy: ``LOAD`` value loaded, ``STORE`` value loaded, aux =
g_v, so the store wrote value + aux); the lock mode draws one ticket per coordinate while holding
its lock (``READ`` and ``WRITE`` rows of (k, v) carry it as t0 = t1): the order of those tickets on
v is the order in which samples held v's lock.  With ``record=False`` no ticket is drawn and no
row written: the same kernel, the same arithmetic (the recorder only reads values the run
computes anyway).

**Robustness**: every sample starts by reading the stop flag, and a spinning lock reads it every
4096 failed attempts; a worker that raises, or computes a non-finite update, sets it, and the
run raises :class:`~asyncproof.fast.run.FastRunError` naming the worker and the iteration k; the
main thread sets it at the timeout.  Threads are daemons, so even a kernel that ignored the flag
could not keep the process alive.

**Named steps** (``steps={...}`` of :func:`run_hogwild`, :func:`with_steps`), as an algorithm's steps
in the reference: ``take_lock``, ``add``, ``step_support`` (g from x̂ on the support) and
``prefetch_sample``.  **Setup** takes the supports from the problem's CSR arrays (no copy) and draws
the assignment vectorised, so a run of millions of samples starts in a fraction of a second;
``stats`` reports the setup, the kernel's first call (compiling, or loading from numba's cache) and
the run apart, and ``cpu_seconds``, the CPU time the threads got.

Deviations from the reference: the bounded-overlap rule τ is not enforced (real threads
overlap as the machine makes them; ``tau`` must be left unset), and only the problems of
:data:`PROBLEMS` run fast (sparse SVM, both its rules).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from functools import partial
from typing import Callable

import numpy as np
from numba import njit

from asyncproof.reference import kernels as K
from asyncproof.reference.baselines._common import start_point
from asyncproof.reference.errors import InputError
from asyncproof.reference.rng import STREAM_SPLIT, generator
from asyncproof.reference.registry import resolve_params
from asyncproof.reference.schedule import run_algorithm

from ..atomics import (cas_i64, fetch_add_f64, fetch_add_i64, load_f64_relaxed, load_i64, prefetch,
                       store_f64_relaxed, store_i64)
from ..recorder import LOG_DTYPE, Guide, Recorder, pattern_classifier
from ..rng import draws
from ..run import PAD, FastRun, FastRunError, Rebuilt, private
from ..threads import on_threads, prepare_threads, throughput, timeout_error

ATOMIC, RACY, LOCK = 0, 1, 2
MODE_CODES = {"atomic": ATOMIC, "racy": RACY, "lock": LOCK}
SAMPLE, READ, ADD, LOAD, STORE, WRITE = 0, 1, 2, 3, 4, 5
OP_NAMES = {SAMPLE: "sample", READ: "read", ADD: "add", LOAD: "load", STORE: "store", WRITE: "write"}
UPDATE_OPS = (ADD, STORE, WRITE)            # the rows whose value is what an update was applied to
DONE, FULL, STOPPED, NONFINITE = 0, 1, 2, 3
ASSIGNMENTS = ("keyed", "slices", "stored")
ROWS_PER_COORD = 3                          # racy: read, load, store (the most of any mode)

GRADIENT, V03A = 0, 1
RULE_CODES = {"gradient": GRADIENT, "v03a": V03A}


def _kernel(fn):
    return njit(cache=True, nogil=True)(fn)


@_kernel
def svm_step_support(indptr, indices, data, y, reg, factors, rule, j, xs, gamma, out):
    """The step g of sparse-svm sample j from the x̂ a core read (``xs[q]``: coordinate ``indices[indptr[j]
    + q]``), into ``out`` in the same order: rule=v03a's update (the reference's ``rule_step``), else
    ``-(γ ∇f_j(x̂))`` (the reference's :func:`~asyncproof.reference.shared_memory.hogwild.sample_step`),
    both from the kernels of :mod:`asyncproof.reference.kernels`."""
    if rule == V03A:
        K.svm_v03a_step_local(indptr, indices, data, y, factors, j, xs, gamma, out)
    else:
        K.svm_sample_grad_local(indptr, indices, data, y, reg, j, xs, out)
        for q in range(indptr[j + 1] - indptr[j]):
            out[q] = -(gamma * out[q])


@_kernel
def svm_prefetch(indptr, indices, data, y, reg, factors, rule, j):
    """Hint the cache lines of sample j's row (its indices and values), which its step will read."""
    a = indptr[j]
    b = indptr[j + 1]
    if b > a:
        for q in range(a, b, 8):
            prefetch(indices, q)
            prefetch(data, q)
        prefetch(indices, b - 1)
        prefetch(data, b - 1)


def svm_step_arrays(problem, gamma: float) -> tuple:
    """The data arguments of :func:`svm_step_support` at step ``gamma``: the CSR rows, labels, the
    gradient rule's ``reg``, v03a's shrink factors (the reference's ``rule_arrays_at(gamma)``), and the
    rule's code."""
    indptr, indices, data, y, reg = problem.arrays
    factors = problem.rule_arrays_at(gamma)[4]
    return (indptr, indices, data, y, reg, factors, np.int64(RULE_CODES[problem.rule]))


def csr_supports(problem) -> tuple[np.ndarray, np.ndarray]:
    """``(ptr, idx)``: the supports as CSR, sample j's being ``idx[ptr[j]:ptr[j + 1]]`` in
    ``problem.support(j)``'s order: a CSR problem's own row pointers and column indices (no copy)."""
    indptr, indices = problem.arrays[0], problem.arrays[1]
    return np.ascontiguousarray(indptr, dtype=np.int64), np.ascontiguousarray(indices, dtype=np.int64)


@dataclass(frozen=True)
class FastProblem:
    """What the worker kernel needs of a problem: its step ``(*arrays, j, xs, gamma, out)``, the step's
    data arguments at a step size (``arrays(problem, gamma)``), its supports as CSR, and
    ``prefetch(*arrays, j)``, a hint of the memory sample j's step reads (issued :data:`AHEAD` samples
    early)."""
    step: Callable
    arrays: Callable
    supports: Callable
    prefetch: Callable


#: the problems that run fast
PROBLEMS = {"sparse-svm": FastProblem(svm_step_support, svm_step_arrays, csr_supports, svm_prefetch)}
#: how many samples ahead a thread that knows its next samples (``slices``) prefetches their rows
AHEAD = 2


@_kernel
def spin_lock(locks, v, stop):
    """Take coordinate v's lock (CAS 0 -> 1); False if the run was stopped while waiting."""
    n = 0
    while not cas_i64(locks, v, 0, 1):
        n += 1
        if (n & 4095) == 0 and load_i64(stop, 0) != 0:
            return False
    return True


@_kernel
def unlock(locks, v):
    store_i64(locks, v, 0)


@_kernel
def atomic_add(x, v, g):
    """x_v ← x_v + g_v in one atomic step; returns what x_v held before."""
    return fetch_add_f64(x, v, g)


@_kernel
def _row(ilog, flog, r, op, k, v, t0, t1, value, aux):
    ilog[r, 0] = op
    ilog[r, 1] = k
    ilog[r, 2] = v
    ilog[r, 3] = t0
    ilog[r, 4] = t1
    flog[r, 0] = value
    flog[r, 1] = aux


@_kernel
def _bracketed(ilog, flog, r, op, k, v, t, ticket, value, aux):
    """Row r for a lock-free access done since ticket t: the ticket after it closes its interval
    (and opens the next one, which the return value is)."""
    t1 = fetch_add_i64(ticket, 0, 1)
    _row(ilog, flog, r, op, k, v, t, t1, value, aux)
    return t1


@_kernel
def _release(locks, sup_idx, a, upto):
    for q in range(upto):
        unlock(locks, sup_idx[a + q])


@_kernel
def _leave(state, rows, done, code):
    """Return ``code`` to the thread's loop, with the rows written and the samples done."""
    state[0] = rows
    state[1] = done
    return code


@_kernel
def _stop_nonfinite(mode, locks, sup_idx, a, s, v, state, rows, done):
    """Sample stopped by a non-finite update of x[v]: its locks released, v kept for the error."""
    if mode == LOCK:
        _release(locks, sup_idx, a, s)
    state[3] = v
    return _leave(state, rows, done, NONFINITE)


#: the kernel's steps, looked up by name in its globals (:func:`with_steps` replaces one)
take_lock = spin_lock
add = atomic_add
step_support = svm_step_support
prefetch_sample = svm_prefetch
STEP_NAMES = ("take_lock", "add", "step_support", "prefetch_sample")


def _work(mode, x, arrays, sup_ptr, sup_idx, js, counters, cidx, keyed, own, T, gamma, locks, stop, ticket,
          ilog, flog, record, smax, xs, gbuf, tk, state):
    rows = 0
    done = 0
    need = 1 + ROWS_PER_COORD * smax
    last = T if keyed else own.shape[0]
    while True:
        if load_i64(stop, 0) != 0:
            return _leave(state, rows, done, STOPPED)
        if record and rows + need > ilog.shape[0]:
            return _leave(state, rows, done, FULL)
        pos = fetch_add_i64(counters, cidx, 1)
        if pos >= last:
            break
        if keyed:
            k = pos
        else:
            k = own[pos]
            if pos + AHEAD < last:                          # its own next samples are known
                prefetch_sample(*arrays, js[own[pos + AHEAD]])
        state[2] = k
        j = js[k]
        a = sup_ptr[j]
        s = sup_ptr[j + 1] - a
        t = -1
        if record:
            t = fetch_add_i64(ticket, 0, 1)
        t_start = t
        if mode == LOCK:
            for q in range(s):
                if not take_lock(locks, sup_idx[a + q], stop):
                    _release(locks, sup_idx, a, q)
                    return _leave(state, rows, done, STOPPED)
                if record:
                    tk[q] = fetch_add_i64(ticket, 0, 1)     # while holding the lock: its order
        for q in range(s):
            v = sup_idx[a + q]
            xv = load_f64_relaxed(x, v)
            xs[q] = xv
            if record:
                if mode == LOCK:
                    _row(ilog, flog, rows, READ, k, v, tk[q], tk[q], xv, 0.0)
                else:
                    t = _bracketed(ilog, flog, rows, READ, k, v, t, ticket, xv, 0.0)
                rows += 1
        step_support(*arrays, j, xs, gamma, gbuf)
        for q in range(s):
            v = sup_idx[a + q]
            g = gbuf[q]
            if not (abs(g) < math.inf):
                return _stop_nonfinite(mode, locks, sup_idx, a, s, v, state, rows, done)
            if mode == ATOMIC:
                old = add(x, v, g)
                if record:
                    t = _bracketed(ilog, flog, rows, ADD, k, v, t, ticket, old, g)
                    rows += 1
            elif mode == RACY:
                old = load_f64_relaxed(x, v)
                if record:
                    t = _bracketed(ilog, flog, rows, LOAD, k, v, t, ticket, old, 0.0)
                    rows += 1
                store_f64_relaxed(x, v, old + g)
                if record:
                    t = _bracketed(ilog, flog, rows, STORE, k, v, t, ticket, old, g)
                    rows += 1
            else:
                old = load_f64_relaxed(x, v)
                store_f64_relaxed(x, v, old + g)
                if record:
                    _row(ilog, flog, rows, WRITE, k, v, tk[q], tk[q], old, g)
                    rows += 1
            if not (abs(old + g) < math.inf):
                return _stop_nonfinite(mode, locks, sup_idx, a, s, v, state, rows, done)
        if mode == LOCK:
            _release(locks, sup_idx, a, s)
        if record:
            _row(ilog, flog, rows, SAMPLE, k, j, t_start, fetch_add_i64(ticket, 0, 1), 0.0, 0.0)
            rows += 1
        done += 1
    return _leave(state, rows, done, DONE)

#: the worker loop of every mode, compiled once and cached on disk
work = _kernel(_work)


def with_steps(**replace):
    """The worker kernel with named steps replaced (``take_lock``, ``add``, ``step_support``): the
    same source compiled against other globals, not cached (a step of yours, a broken variant's, or
    another problem's step)."""
    unknown = sorted(set(replace) - set(STEP_NAMES))
    if unknown:
        raise InputError(f"the HOGWILD! worker kernel has no step {unknown[0]!r}")
    import types
    fn = types.FunctionType(_work.__code__, {**_work.__globals__, **replace}, "work_with_steps")
    return njit(nogil=True)(fn)


def worker_kernel(problem_name: str):
    """The worker kernel for a problem: the cached one for sparse SVM, else one compiled with its steps."""
    fp = PROBLEMS[problem_name]
    if fp.step is step_support and fp.prefetch is prefetch_sample:
        return work
    return with_steps(step_support=fp.step, prefetch_sample=fp.prefetch)


# --------------------------------------------------------------------------------------------
# the run


def _supports(problem, mode: str):
    """``(ptr, idx, smax)``: the supports as CSR (the problem's own arrays, :class:`FastProblem`) and
    the largest; the lock mode needs each support increasing (it takes the locks in that order)."""
    ptr, idx = PROBLEMS[problem.name].supports(problem)
    sizes = np.diff(ptr)
    if mode == "lock" and idx.size > 1:
        inside = np.ones(idx.size - 1, dtype=bool)           # idx[i], idx[i + 1] in the same support
        ends = ptr[1:-1][(ptr[1:-1] > 0) & (ptr[1:-1] < idx.size)]
        inside[ends - 1] = False
        if np.any(inside & (np.diff(idx) <= 0)):
            raise InputError("hogwild-lock --fast takes locks in support order, so supports must be increasing")
    return ptr, idx, int(sizes.max(initial=0))


def assignment_of(assignment: str, seed: int, T: int, m: int, threads: int):
    """``(js, owns)``: s_k for k = 0 .. T-1, and each thread's own k's (empty arrays: all draw from
    the shared counter)."""
    if assignment == "keyed":
        return draws(seed, np.arange(T), m), [np.zeros(0, np.int64) for _ in range(threads)]
    if assignment == "stored":
        perm = np.arange(m, dtype=np.int64)
    else:
        perm = generator(seed, STREAM_SPLIT, 0).permutation(m).astype(np.int64)
    ks = np.arange(T, dtype=np.int64)
    js = perm[ks % m]
    bounds = np.array([p * m // threads for p in range(threads + 1)])
    owner = np.searchsorted(bounds, ks % m, side="right") - 1
    return js, [ks[owner == p] for p in range(threads)]


def _prepare(name: str, problem, params: dict, seed: int):
    """The reference's resolution of algorithm, parameters and problem, without its memory estimate
    (that counts the reference engine's events and records, which a fast run does not keep)."""
    from asyncproof.reference.registry import get_algorithm
    from asyncproof.reference.schedule import _problem_from
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InputError(f"seed must be a non-negative integer, got {seed!r}")
    alg = get_algorithm(name)
    p = resolve_params(alg, dict(params))
    prob = _problem_from(problem if problem is not None else {"name": alg.default_problem})
    if alg.check is not None:
        alg.check(prob, p)
    return alg, p, prob


def _check_log_memory(name: str, T: int, accesses: int) -> None:
    """Refuse, in one line, a recorded run whose log would not fit: at most one ``SAMPLE`` row per
    sample and :data:`ROWS_PER_COORD` rows per coordinate access, each held about three times at the
    end (the threads' chunks, their concatenation, the run's)."""
    from asyncproof.reference.registry import bytes_text, memory_limit
    need = 3 * (T + ROWS_PER_COORD * accesses) * LOG_DTYPE.itemsize
    limit = memory_limit()
    if need > limit:
        raise InputError(f"{name} --fast: recording this run would need about {bytes_text(need)} "
                         f"({T:,} samples, {accesses:,} coordinate accesses, up to {ROWS_PER_COORD} rows of "
                         f"{LOG_DTYPE.itemsize} B each), more than the {bytes_text(limit)} limit; lower T")


def run_hogwild(mode: str, problem=None, params: dict | None = None, seed: int = 0, threads: int = 2,
                record: bool = True, timeout: float = 60.0, assignment: str = "keyed", capacity: int = 1 << 16,
                steps: dict | None = None) -> FastRun:
    """HOGWILD! ``mode`` on ``threads`` threads (see the module docstring).  ``steps`` replaces named
    steps of the worker kernel (``take_lock``, ``add``, ``step_support``: :func:`with_steps`), as an
    algorithm's steps are replaced in the reference (your own step, or a broken variant's);
    ``capacity``: rows per thread buffer.  ``stats`` keeps the setup (everything before the kernel is
    called: resolving, supports, the draws, buffers), the first call (compiling the kernel, or loading
    it from numba's cache, and warming it) and the run (the threads) apart."""
    began = time.perf_counter()
    name = f"hogwild-{mode}"
    if assignment not in ASSIGNMENTS:
        raise InputError(f"assignment must be one of {', '.join(ASSIGNMENTS)}, got {assignment!r}")
    alg, p, prob = prepare_threads(name, problem, params, seed, threads, timeout, "n")
    if p["tau"] is not None:
        raise InputError(f"{name} --fast does not enforce the bounded overlap tau: leave it unset")
    if prob.name not in PROBLEMS:
        raise InputError(f"{name} --fast runs the problem(s) {', '.join(PROBLEMS)}, not {prob.name!r}")
    if prob.constrained:
        raise InputError(f"{name} --fast has no projected step for the constrained problem {prob.name!r}")
    T, gamma = p["T"], float(p["gamma"])
    x0 = np.array(start_point(prob, p), dtype=np.float64)
    sup_ptr, sup_idx, smax = _supports(prob, mode)
    js, owns = assignment_of(assignment, seed, T, prob.m, threads)
    updates = int(np.diff(sup_ptr)[js].sum())
    if record:
        _check_log_memory(name, T, updates)
    keyed = assignment == "keyed"
    counters = np.zeros(threads * PAD, dtype=np.int64)      # slices: thread p counts in its own cache line
    cidx = [0 if keyed else p_ * PAD for p_ in range(threads)]
    rec = Recorder(threads, max(capacity, 1 + ROWS_PER_COORD * smax), OP_NAMES, enabled=record)
    x = x0.copy()
    locks = np.zeros(prob.d, dtype=np.int64)
    stop = private(1, np.int64)
    fp = PROBLEMS[prob.name]
    arrays = fp.arrays(prob, gamma)
    kern = (with_steps(**{"step_support": fp.step, "prefetch_sample": fp.prefetch, **steps}) if steps
            else worker_kernel(prob.name))
    code = MODE_CODES[mode]
    scratch = [(private(max(smax, 1)), private(max(smax, 1)), private(max(smax, 1), np.int64), private(4, np.int64))
               for _ in range(threads)]

    def call(p_, lg):
        xs, gbuf, tk, state = scratch[p_]
        return kern(code, x, arrays, sup_ptr, sup_idx, js, counters, cidx[p_], keyed, owns[p_], T, gamma, locks,
                    stop, rec.ticket, lg.ilog, lg.flog, record, smax, xs, gbuf, tk, state)

    # compile (or load from the cache) and warm in the main thread: a run of zero samples
    warm_from = time.perf_counter()
    if hasattr(kern, "py_func"):          # a compiled kernel (NUMBA_DISABLE_JIT=1 gives the plain function)
        kern(code, x0.copy(), arrays, sup_ptr, sup_idx, js, np.full(1, T, np.int64), 0, True, owns[0], T,
             gamma, locks, stop, np.zeros(1, np.int64), rec.logs[0].ilog, rec.logs[0].flog, record, smax,
             scratch[0][0], scratch[0][1], scratch[0][2], np.zeros(4, np.int64))
    warm_seconds = time.perf_counter() - warm_from
    failures: list = []

    def worker(p_):
        lg = rec.logs[p_]
        state = scratch[p_][3]
        try:
            while True:
                code = call(p_, lg)
                if record:
                    lg.flush(int(state[0]))
                if code == FULL:
                    continue
                if code == NONFINITE:
                    failures.append((p_, int(state[2]), f"non-finite update of x[{int(state[3])}]"))
                    stop[0] = 1
                break
        except BaseException as e:           # the run must end, whatever the worker did
            first = str(e).splitlines()[0] if str(e) else ""
            failures.append((p_, int(state[2]), f"raised {type(e).__name__}: {first}"))
            stop[0] = 1

    ran = on_threads(name, threads, worker, timeout, stop)
    if ran.timed_out:
        raise timeout_error(name, timeout, ran, f"{int(min(counters.sum(), T))} of {T} samples started")
    if failures:
        p_, k, what = min(failures, key=lambda f: (f[1] < 0, f[1]))
        raise FastRunError(f"{name} --fast: worker {p_} {what} at iteration k = {k}")
    log = rec.log() if record else None
    stats = {**throughput(T, updates, ran, warm_from - began, warm_seconds),
             "lost_updates": len(lost_updates(log, x0, x)["lost"]) if record else None}
    run = FastRun(algorithm=name, problem=prob, params=p, seed=seed, threads=threads, assignment=assignment,
                  x0=x0, x=x, log=log, stats=stats, op_names=OP_NAMES)
    if mode != "lock":
        run.why_not_replayable = (f"{name} --fast cannot be replayed bit for bit: its lock-free reads and writes are "
                                  f"recorded as ticket intervals, not as one memory order (hogwild-lock can)")
    elif not record:
        run.why_not_replayable = f"{name} --fast ran without its recorder: nothing to replay"
    elif assignment != "keyed":
        run.why_not_replayable = (f"{name} --fast with the {assignment} assignment draws other samples than the "
                                  f"reference's keyed s_k: nothing to replay")
    else:
        run._rebuild = rebuild_lock_run
    return run


# --------------------------------------------------------------------------------------------
# reading a fast run


def rows_of(log, op) -> np.ndarray:
    return log[log["op"] == op]


def lock_orders(log) -> dict:
    """The recorded orders of a lock-mode run: ``"sample"`` -> the thread that drew k, for k = 0,
    1, ...; ``("lock", v)`` -> the samples k in the order they held v's lock."""
    samples = np.sort(rows_of(log, SAMPLE), order="k")
    orders = {"sample": [int(t) for t in samples["thread"]]}
    reads = rows_of(log, READ)
    reads = reads[np.lexsort((reads["t0"], reads["v"]))]
    for v in np.unique(reads["v"]):
        orders[("lock", int(v))] = [int(k) for k in reads["k"][reads["v"] == v]]
    return orders


LOCK_EVENTS = pattern_classifier([
    (r"p(\d+) receive sample \[0 msgs\]", lambda m: ("sample", int(m.group(1)))),
    (r"p\d+ receive lock x\[(\d+)\] k=(\d+) \[0 msgs\]", lambda m: (("lock", int(m.group(1))), int(m.group(2)))),
])


def rebuild_lock_run(run: FastRun, algorithm=None) -> Rebuilt:
    """Run the reference ``hogwild-lock`` (or ``algorithm``) through the recorded orders of a fast
    lock-mode run: each k is sampled by the thread that drew it, each coordinate's lock is taken
    by the samples in the recorded order.  Under those orders every read and write of the
    reference is determined, so its final model must be the fast run's, bit for bit."""
    guide = Guide(lock_orders(run.log), LOCK_EVENTS, open_after=frozenset({"sample"}))
    res = run_algorithm(algorithm or run.algorithm, problem=run.problem, params=run.params, seed=run.seed,
                        adversary=guide)
    left = guide.leftover()
    if left:
        raise InputError(f"the recorded orders were not all used: {sorted(left.items(), key=str)[:3]}")
    outs = [o for out in res.trace.outputs.values() for o in out]
    same = bool(outs) and np.asarray(outs[-1]).tobytes() == run.x.tobytes()
    return Rebuilt(res, same)


def lost_updates(log, x0: np.ndarray, x: np.ndarray) -> dict:
    """Per cell, the updates the memory still holds and those it lost, from the recorded values.

    Every update row says what value it was applied to (``value``) and what it added (``aux``);
    it left the cell holding ``value + aux``.  Walking back from the cell's final value, the
    update that left that value is found, then the one that left the value it was applied to,
    and so on down to x_0: that chain is the cell's surviving updates in the order they took
    effect (for an atomic add, the cell's modification order), and every other update of the
    cell was overwritten: lost (a racy store puts back its load plus its own update).  Where
    several updates left the same value (a zero update, or values that coincide exactly), the
    one with the latest ticket interval is taken: the count is exact when no two states of a
    cell coincide.  Returns ``{"chains": {v: [row indices, in effect order]}, "lost": [(k, v)],
    "unexplained": [v]}`` (a cell whose final value no chain from x_0 explains)."""
    chains, lost, unexplained = {}, [], []
    if log is None or log.size == 0:
        return {"chains": chains, "lost": lost, "unexplained": unexplained}
    upd = np.flatnonzero(np.isin(log["op"], UPDATE_OPS))
    rows = log[upd]
    cell = rows["v"]
    left_bits = (rows["value"] + rows["aux"]).view(np.int64)     # the value each update left (its bits)
    read_bits = rows["value"].view(np.int64)                      # the value it was applied to
    order = np.lexsort((rows["t0"], rows["t1"], cell))            # by cell, then (t1, t0), then log order
    cells, starts = np.unique(cell[order], return_index=True)
    groups = dict(zip(cells.tolist(), np.split(order, starts[1:])))
    _, first = np.unique(cell, return_index=True)
    for v in cell[np.sort(first)].tolist():                       # the cells in the order of their first update
        g = groups[v]
        left: dict = {}                  # bits of a value -> the updates that left it, latest (t1, t0) last
        for pos, bits_ in zip(g.tolist(), left_bits[g].tolist()):
            left.setdefault(bits_, []).append(pos)
        cur = int(np.float64(x[v]).view(np.int64))
        chain: list = []
        while left.get(cur):
            pos = left[cur].pop()        # each update is in one list: the last one left is the latest unused
            chain.append(int(upd[pos]))
            cur = int(read_bits[pos])
        if cur != int(np.float64(x0[v]).view(np.int64)):
            unexplained.append(v)
        chain.reverse()
        chains[v] = chain
        lost.extend((int(rows["k"][pos]), v) for rest in left.values() for pos in rest)
    return {"chains": chains, "lost": sorted(lost), "unexplained": sorted(unexplained)}


FAST = {f"hogwild-{mode}": partial(run_hogwild, mode) for mode in MODE_CODES}
#: the modes whose recorded orders determine the run (the lock-free modes record ticket intervals)
REPLAYABLE = ("hogwild-lock",)
