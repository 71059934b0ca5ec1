"""The atomics of asyncproof.fast from real threads: exact sums, mutual exclusion, unique tickets."""

from __future__ import annotations

import threading

import numpy as np
from numba import njit

from asyncproof.fast.atomics import (cas_i64, fetch_add_f64, fetch_add_i64, load_f64_relaxed, load_i64,
                                     store_f64_relaxed, store_i64)

N = 100_000


@njit(nogil=True, cache=True)
def _adds(a, n):
    for _ in range(n):
        fetch_add_f64(a, 0, 1.0)


@njit(nogil=True, cache=True)
def _racy_adds(a, n):
    for _ in range(n):
        store_f64_relaxed(a, 0, load_f64_relaxed(a, 0) + 1.0)


@njit(nogil=True, cache=True)
def _locked_increments(lock, cell, inside, n):
    for _ in range(n):
        while not cas_i64(lock, 0, 0, 1):
            pass
        # a plain read-modify-write, made safe only by the lock; inside[0] counts holders
        if fetch_add_i64(inside, 0, 1) != 0:
            inside[1] += 1
        cell[0] = cell[0] + 1
        fetch_add_i64(inside, 0, -1)
        store_i64(lock, 0, 0)


@njit(nogil=True, cache=True)
def _tickets(counter, out):
    for i in range(out.shape[0]):
        out[i] = fetch_add_i64(counter, 0, 1)


def _threads(fn, args_of, n):
    ts = [threading.Thread(target=fn, args=args_of(p)) for p in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()


def test_fetch_add_f64_sums_exactly_from_several_threads():
    _adds(np.zeros(1), 1)                        # compiled before the threads start
    for threads in (2, 4):
        a = np.zeros(1)
        _threads(_adds, lambda p: (a, N), threads)
        assert a[0] == threads * N


def test_relaxed_racy_adds_compile_to_a_real_load_and_store():
    # not a guarantee (the OS may never interleave), only that the racy loop is a loop of memory accesses:
    # one thread alone counts exactly, as a loop kept in a register would too; see the HOGWILD! tests for
    # lost updates measured on real runs
    a = np.zeros(1)
    _racy_adds(a, N)
    assert a[0] == N


def test_cas_spinlock_gives_mutual_exclusion():
    lock, cell, inside = np.zeros(1, np.int64), np.zeros(1, np.int64), np.zeros(2, np.int64)
    _locked_increments(lock, cell, inside, 1)
    cell[0] = 0
    _threads(_locked_increments, lambda p: (lock, cell, inside, N), 4)
    assert cell[0] == 4 * N and inside[1] == 0 and load_i64_value(lock) == 0


def load_i64_value(a):
    return int(_load(a))


@njit(cache=True)
def _load(a):
    return load_i64(a, 0)


def test_ticket_counter_gives_each_ticket_once():
    counter = np.zeros(1, np.int64)
    _tickets(counter, np.zeros(1, np.int64))
    counter[0] = 0
    outs = [np.empty(N, np.int64) for _ in range(4)]
    _threads(_tickets, lambda p: (counter, outs[p]), 4)
    got = np.sort(np.concatenate(outs))
    assert np.array_equal(got, np.arange(4 * N)) and counter[0] == 4 * N
    # each thread's tickets increase: the counter is read-modify-written in program order
    assert all(np.all(np.diff(o) > 0) for o in outs)
