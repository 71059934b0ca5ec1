"""Checks of fast HOGWILD! runs (:mod:`asyncproof.fast.shared_memory.hogwild`), its stall step and
its planted bugs: what ``asyncproof verify --fast`` runs for ``hogwild-atomic``, ``hogwild-racy``
and ``hogwild-lock`` (``docs/fast.md``, "verify --fast").

Every check restates what it checks from the recorded rows (``run.log``: op, k, v, value, aux and a
ticket interval) and never asks the code under test for a reference value.

* **lock** (replayable): the reference run through the recorded orders gives the final model bit for
  bit, and every reference guarantee of ``hogwild-lock`` holds on it (both from
  :mod:`..registry`, for every replayable fast run); here, in addition, every sample's x̂_k and g_k
  recorded by the fast run are the rebuilt reference's, bit for bit (:func:`check_rebuilt_samples`).
* **atomic**: per coordinate, x = x_0 + Σ deltas within the rounding bound of its number of additions
  (:func:`check_rounding_bound`); the adds of each cell form one chain from x_0 to its final value
  (:func:`check_one_chain_per_cell`); every read returned a state of its cell that could have been
  current during its ticket interval (:func:`check_reads_explained`); no update lost.
* **racy**: every final value is explained by a chain of surviving stores from x_0
  (:func:`check_final_values_explained`), and every read by the intervals
  (:func:`check_reads_within_intervals`); the lost updates are measured, not a failure.

Measurements (:func:`measure`): the most samples in flight at once (from the samples' ticket
intervals), the most samples one sample overlapped (τ), the longest delay (other samples whose
writes landed between a sample's first read and its last write: from the tickets, or for the lock
mode, whose accesses are ticketed at lock time, from the rebuilt trace), the lost updates.

**Stalls** (:func:`stall_steps`): the step that computes a sample's gradient, between its reads and
its writes, is wrapped by a compiled spin on the samples f_j that a keyed draw of (seed, j) makes
slow, so a slow sample's reads and writes are far apart and other threads write in between, on a
loaded machine too.  Stalls are a named-step replacement, as a planted bug is: normal runs have none.

**Planted bugs** (:data:`PLANTED`), each a named step replaced:

* atomic mode whose ``add`` is a plain load, a stall, and a store: caught by the chain and rounding
  checks.  No counterexample: atomic runs are not replayable (the reference's stand-in for the
  mistake is the racy mode, ``hogwild-no-lost-update``'s broken variant);
* lock mode whose ``take_lock`` is a test, a stall, then a set (not one atomic test-and-set): the
  reference's ``broken-hogwild-lock-test-then-set`` makes the same mistake.  Caught by the rebuild
  (the correct reference through the recorded lock order does not give the fast run's model, or
  cannot follow the order); the fast run rebuilt as the variant (:func:`rebuild_as_variant`) gives
  its model bit for bit and violates ``hogwild-lock-mutual-exclusion``: that schedule is the
  counterexample ``asyncproof replay`` re-checks;
* lock mode whose ``take_lock`` releases the lock as soon as it has it: caught by the rebuild; no
  reference variant makes this mistake (the reference's lock is one step, held until ``unlock``),
  so it has no counterexample.
"""

from __future__ import annotations

import math
import re

import numpy as np
from numba import njit

from ....fast.atomics import load_f64_relaxed, load_i64, store_f64_relaxed, store_i64
from ....fast.recorder import Guide, pattern_classifier
from ....fast.run import Rebuilt
from ....fast.shared_memory import hogwild as H
from ....reference.errors import InputError
from ....reference.rng import generator
from ....reference.schedule import run_algorithm
from ....reference.shared_memory.hogwild import Sample
from ..registry import FastCheck, FastSuite, Planted, declare

#: six coordinates, supports of three: every pair of samples likely shares one, so threads collide
CROWDED = {"name": "sparse-svm", "params": {"m": 40, "d": 6, "nnz": 3}}
U = 2.0 ** -53
#: the key of the draw that makes samples slow (a stream of its own, beside reference/rng.py's)
STREAM_STALLS = 1_000_081


def bits(a) -> bytes:
    return np.asarray(a, dtype=np.float64).tobytes()


def _rows(run, op):
    return run.log[run.log["op"] == op]


# --------------------------------------------------------------------------------------------
# lock mode: the recorded samples are the rebuilt reference's


def check_rebuilt_samples(run) -> str | None:
    """Every READ row's x̂_k[v] and WRITE row's g_k[v] is the reference's, rebuilt through the
    recorded orders, bit for bit; and its final model is the fast run's."""
    try:
        rb = run.rebuild()
    except InputError as e:
        return str(e)
    if not rb.same_x:
        return "the final model differs from the reference's rebuilt through the recorded orders"
    ref = {r.k: r for r in rb.result.trace.records(Sample)}
    for op, field in ((H.READ, "xhat"), (H.WRITE, "g")):
        for r in _rows(run, op):
            s = ref[int(r["k"])]
            q = s.support.index(int(r["v"]))
            got = r["value"] if op == H.READ else r["aux"]
            if bits(got) != bits(getattr(s, field)[q]):
                return (f"sample {int(r['k'])} x[{int(r['v'])}]: {field} {got!r} vs the reference's "
                        f"{getattr(s, field)[q]!r}")
    return None


# --------------------------------------------------------------------------------------------
# atomic mode: x = x_0 + Σ deltas within rounding; one chain per cell; every read explained


def update_chains(run, op=H.ADD) -> dict:
    """Per cell, its updates ``(value, aux, t0, t1, k)`` in the order they took effect, rebuilt from
    the recorded values: the update applied to x_0, then the one applied to the value that one left,
    ...  (ties: the earliest ticket interval first).  ``None`` for a cell whose updates do not form one
    such chain ending at its final value."""
    rows_of_op = _rows(run, op)
    chains = {}
    for v in np.unique(rows_of_op["v"]).tolist():
        rows = rows_of_op[rows_of_op["v"] == v]
        rows = rows[np.lexsort((rows["t1"], rows["t0"]))]
        applied_to: dict = {}                       # the value an update was applied to -> those updates
        for r in zip(rows["value"].tolist(), rows["aux"].tolist(), rows["t0"].tolist(), rows["t1"].tolist(),
                     rows["k"].tolist()):
            applied_to.setdefault(bits(r[0]), []).append(r)
        for q in applied_to.values():
            q.reverse()                             # pop() takes the earliest
        state, chain = np.float64(run.x0[v]), []
        while applied_to.get(bits(state)):
            r = applied_to[bits(state)].pop()
            chain.append(r)
            state = np.float64(r[0]) + np.float64(r[1])
        complete = not any(applied_to.values()) and bits(state) == bits(run.x[v])
        chains[v] = chain if complete else None
    return chains


def check_rounding_bound(run) -> str | None:
    """Per coordinate v with n adds g_1..g_n: |x[v] − (x_0[v] + Σ g_i)| <= γ_{n+1} (|x_0[v]| + Σ|g_i|),
    γ_n = n u / (1 − n u), u = 2^-53 (n roundings of a sum, plus the rounding of math.fsum's exact sum)."""
    adds = _rows(run, H.ADD)
    for v in range(run.x.size):
        g = adds["aux"][adds["v"] == v]
        exact = math.fsum([float(run.x0[v]), *g.tolist()])
        n = g.size + 1
        bound = n * U / (1 - n * U) * (abs(run.x0[v]) + float(np.abs(g).sum()))
        if abs(run.x[v] - exact) > bound:
            return f"x[{v}] = {float(run.x[v])!r} is not x_0 + Σ deltas = {exact!r} within {bound:.3g}"
    return None


def check_one_chain_per_cell(run) -> str | None:
    """The adds of each cell form one chain (each applied to the value the previous one left, from
    x_0 to x[v]): no add was lost or applied to a stale value."""
    broken = [v for v, c in update_chains(run).items() if c is None]
    return f"the adds of x[{broken[0]}] do not form one chain from x_0 to x[{broken[0]}]" if broken else None


def check_reads_explained(run) -> str | None:
    """The perturbed-iterate identity, per read: a read of x[v] by sample k with ticket interval
    (r0, r1) returned the state s_i = x_0[v] + g_1 + ... + g_i (summed in the chain's order, rounded as
    the adds rounded) for some prefix such that every add of the prefix began before the read ended
    (t0 < r1) and every add after it ended after the read began (t1 > r0)."""
    chains = update_chains(run)
    cells = {}
    for v, chain in chains.items():
        if chain is None:
            continue
        states = [np.float64(run.x0[v])] + [np.float64(r[0]) + np.float64(r[1]) for r in chain]
        at: dict = {}
        for i, st in enumerate(states):
            at.setdefault(bits(st), []).append(i)
        began = np.maximum.accumulate([-math.inf] + [r[2] for r in chain])        # max t0 of the prefix
        ended = np.minimum.accumulate(([r[3] for r in chain] + [math.inf])[::-1])[::-1]   # min t1 after it
        cells[v] = (at, began, ended)
    reads = _rows(run, H.READ)
    for k, v, value, r0, r1 in zip(reads["k"].tolist(), reads["v"].tolist(), reads["value"].tolist(),
                                   reads["t0"].tolist(), reads["t1"].tolist()):
        if v not in cells and chains.get(v, ()) is None:
            continue                                # no chain: check_one_chain_per_cell says so
        at, began, ended = cells.get(v, ({bits(run.x0[v]): [0]}, [-math.inf], [math.inf]))
        if not any(began[i] < r1 and ended[i] > r0 for i in at.get(bits(value), [])):
            return (f"the read of x[{v}] by sample {k} (value {value!r}) is no state of the cell "
                    f"that could have been current during its interval ({r0}, {r1})")
    return None


def check_no_lost_update(run) -> str | None:
    lost = H.lost_updates(run.log, run.x0, run.x)["lost"]
    return f"{len(lost)} updates lost, (sample, coordinate) {lost[:3]}" if lost else None


# --------------------------------------------------------------------------------------------
# racy mode: final values and reads explained; lost updates measured


def check_final_values_explained(run) -> str | None:
    """Every cell's final value is x_0 plus a chain of its stores, each applied to the value the
    previous one left (the surviving updates; the others are the lost ones)."""
    bad = H.lost_updates(run.log, run.x0, run.x)["unexplained"]
    return f"the final value of x[{bad[0]}] is no chain of its stores from x_0" if bad else None


def check_reads_within_intervals(run) -> str | None:
    """Every read of x[v] returned x_0[v] or what some update of v left (load + update), by an update
    that began before the read ended and that no other update of v surely followed (began after it
    ended, and ended before the read began): the cell's coherence, seen through the tickets."""
    log = run.log
    upd = log[np.isin(log["op"], H.UPDATE_OPS)]
    reads = _rows(run, H.READ)
    for v in np.unique(reads["v"]).tolist():
        mine = upd[upd["v"] == v]
        t0 = np.concatenate([[-1], mine["t0"]])              # x_0: a write before every ticket
        t1 = np.concatenate([[-1], mine["t1"]])
        left = np.concatenate([[np.float64(run.x0[v])], mine["value"] + mine["aux"]])
        order = np.argsort(t0, kind="stable")
        sorted_t0 = t0[order]
        later_end = np.minimum.accumulate(t1[order][::-1])[::-1]     # min t1 over updates starting at or after
        later_end = np.append(later_end, np.iinfo(np.int64).max)
        by_value: dict = {}
        for i, x in enumerate(left.tolist()):
            by_value.setdefault(bits(x), []).append(i)
        rv = reads[reads["v"] == v]
        for k, value, r0, r1 in zip(rv["k"].tolist(), rv["value"].tolist(), rv["t0"].tolist(), rv["t1"].tolist()):
            ok = False
            for c in by_value.get(bits(value), []):
                after = int(np.searchsorted(sorted_t0, t1[c], side="right"))
                if t0[c] < r1 and not later_end[after] < r0:
                    ok = True
                    break
            if not ok:
                return (f"the read of x[{v}] by sample {k} (value {value!r}) is no value the cell could "
                        f"hold during its interval ({r0}, {r1})")
    return None


# --------------------------------------------------------------------------------------------
# measurements: did the run reach the dangerous case?


_ACCESS = re.compile(r"p\d+ (read|write) x\[(\d+)\] k=(\d+)")


def _delay_from_tickets(run) -> int:
    """The most other samples whose update landed (its whole ticket interval) between the end of a
    sample's first read and the start of its last update."""
    log = run.log
    upd = log[np.isin(log["op"], H.UPDATE_OPS)]
    reads = _rows(run, H.READ)
    if upd.size == 0 or reads.size == 0:
        return 0
    upd = upd[np.argsort(upd["t0"], kind="stable")]
    first_read: dict = {}
    for k, t in zip(reads["k"].tolist(), reads["t1"].tolist()):
        first_read[k] = min(t, first_read.get(k, t))
    last_write: dict = {}
    for k, t in zip(upd["k"].tolist(), upd["t0"].tolist()):
        last_write[k] = max(t, last_write.get(k, t))
    worst = 0
    for k, start in first_read.items():
        end = last_write.get(k)
        if end is None or end <= start:
            continue
        a, b = np.searchsorted(upd["t0"], [start, end], side="right")
        window = upd[a:b]
        others = window["k"][(window["t1"] < end) & (window["k"] != k)]
        worst = max(worst, int(np.unique(others).size))
    return worst


def _delay_from_trace(events) -> int:
    """The same, read off a trace's event order (the rebuilt run of a lock-mode run)."""
    first_read: dict = {}
    last_write: dict = {}
    writes: list = []
    for pos, e in enumerate(events):
        m = _ACCESS.fullmatch(e)
        if m:
            k = int(m.group(3))
            if m.group(1) == "read":
                first_read.setdefault(k, pos)
            else:
                last_write[k] = pos
                writes.append((pos, k))
    worst = 0
    pos_w = np.array([p for p, _ in writes], dtype=np.int64)
    k_w = np.array([k for _, k in writes], dtype=np.int64)
    for k, start in first_read.items():
        end = last_write.get(k, start)
        a, b = np.searchsorted(pos_w, [start, end])
        worst = max(worst, int(np.unique(k_w[a:b][k_w[a:b] != k]).size))
    return worst


def in_flight_and_overlap(run) -> tuple[int, int]:
    """``(most samples in flight at once, most other samples one sample overlapped)`` from the
    samples' ticket intervals (a sample is in flight from the ticket drawn at its start to the one
    drawn after its last write or unlock)."""
    s = _rows(run, H.SAMPLE)
    if s.size == 0:
        return 0, 0
    t0, t1 = s["t0"], s["t1"]
    times = np.concatenate([t0, t1])
    step = np.concatenate([np.ones(t0.size, np.int64), -np.ones(t1.size, np.int64)])
    flight = int(np.cumsum(step[np.argsort(times, kind="stable")]).max())
    st0, st1 = np.sort(t0), np.sort(t1)
    overlap = np.searchsorted(st0, t1) - np.searchsorted(st1, t0) - 1
    return flight, int(overlap.max())


def measure(run, rebuilt=None) -> dict:
    flight, tau = in_flight_and_overlap(run)
    if run.algorithm == "hogwild-lock":         # its accesses are ticketed at lock time: read the rebuilt trace
        delay = _delay_from_trace(rebuilt.result.trace.events) if rebuilt is not None and rebuilt.same_x else None
    else:
        delay = _delay_from_tickets(run)
    return {"in_flight": flight, "tau": tau, "delay": delay, "lost_updates": run.stats["lost_updates"]}


def _overlap_and_delay(m: dict) -> str | None:
    if m.get("in_flight", 0) < 2:
        return "no two samples in flight at once"
    if not m.get("delay"):
        return "no write landed between a sample's read and its write"
    return None


def _overlap_and_a_lock_waited_for(m: dict) -> str | None:
    # under locks a write of v never lands between a read and a write of v: the dangerous case is a core
    # made to wait, the hard case of the reference's mutual exclusion (ready to take a lock another held)
    if m.get("in_flight", 0) < 2:
        return "no two samples in flight at once"
    return None if m.get("hard", {}).get("hogwild-lock-mutual-exclusion") else "no core waited for a lock"


# --------------------------------------------------------------------------------------------
# stalls: the one place that knows which kernel step to wrap and where its j is

#: the worker kernel's step between a sample's reads and its writes, and the position of the sample
#: index j among its arguments (a constant: Numba indexes the argument tuple statically)
STALL_STEP = "step_support"
J_AT = -4                         # step_support(*arrays, j, xs, gamma, out)


def _plain_step(problem):
    """The step the kernel runs for ``problem`` at :data:`STALL_STEP`, which the stall wraps."""
    return H.PROBLEMS[problem.name].step


@njit(nogil=True)
def spin(n):
    """n relaxed loads of one cell: time spent without a system call (the compiler must issue them)."""
    z = np.zeros(1)
    s = 0.0
    for _ in range(n):
        s += load_f64_relaxed(z, 0)
    return s


def _stalled(inner, slow, spins):
    @njit(nogil=True)
    def stalled(*args):
        if slow[args[J_AT]]:
            spin(spins)
        return inner(*args)
    return stalled


def slow_samples(seed: int, m: int, fraction: float = 0.25) -> np.ndarray:
    """Which of f_0 .. f_(m−1) stall: a keyed draw of (seed, j), the same on every run of the seed."""
    return generator(seed, STREAM_STALLS, 0).random(m) < fraction


def stall_steps(problem, seed: int, fraction: float = 0.25, spins: int = 20000) -> dict:
    """The named steps that inject stalls: the step between a sample's reads and its writes spins
    ``spins`` loads first when its f_j is one of the slow samples (:func:`slow_samples`)."""
    return {STALL_STEP: _stalled(_plain_step(problem), slow_samples(seed, problem.m, fraction), spins)}


# --------------------------------------------------------------------------------------------
# planted bugs


@njit(nogil=True)
def load_stall_store(x, v, g):
    """The atomic mode's add as a plain load and store, a stall between them (the mistake)."""
    old = load_f64_relaxed(x, v)
    spin(5000)
    store_f64_relaxed(x, v, old + g)
    return old


@njit(nogil=True)
def test_then_set(locks, v, stop):
    """The lock as a test (spin while it is held), then a set one stall later, not one atomic
    test-and-set: two threads can both pass the test (the mistake)."""
    n = 0
    while load_i64(locks, v) != 0:
        n += 1
        if (n & 4095) == 0 and load_i64(stop, 0) != 0:
            return False
    spin(100000)                  # long: the other thread, running or preempting, tests v meanwhile
    store_i64(locks, v, 1)
    return True


@njit(nogil=True)
def dropped_lock(locks, v, stop):
    """The lock released as soon as it is taken: it protects nothing (the mistake); a stall after it."""
    ok = H.spin_lock(locks, v, stop)
    H.unlock(locks, v)
    spin(20000)
    return ok


_STEERED = pattern_classifier([
    (r"p(\d+) receive sample \[0 msgs\]", lambda m: ("sample", int(m.group(1)))),
    (r"p\d+ (read|write) x\[(\d+)\] k=(\d+)", lambda m: (("cell", int(m.group(2))), (m.group(1), int(m.group(3))))),
])
_TEST = re.compile(r"p\d+ receive lock x\[(\d+)\] k=(\d+) \[0 msgs\]")
_SET = re.compile(r"p\d+ set lock x\[(\d+)\] k=(\d+)")
_UNLOCK = re.compile(r"p\d+ unlock k=(\d+)")


def lock_times(run) -> dict:
    """When each lock step of a fast lock-mode run happened, as far as its tickets say: sample k drew
    a ticket at its start, one after taking each lock (in support order), one after its unlock.  So
    k's test of v (the q-th coordinate) came after the ticket before it (the start, or the lock of the
    (q−1)-th), its set just before the ticket of v, its unlock just before its last ticket.  Returns
    ``{("test", k, v): earliest, ("set", k, v): latest, ("unlock", k): latest}``, in ticket units."""
    times: dict = {}
    starts = {int(k): (int(t0), int(t1)) for k, t0, t1 in zip(*(_rows(run, H.SAMPLE)[c] for c in ("k", "t0", "t1")))}
    reads = _rows(run, H.READ)
    tk: dict = {}
    for k, v, t in zip(reads["k"].tolist(), reads["v"].tolist(), reads["t0"].tolist()):
        tk.setdefault(k, []).append((v, t))
    for k, (t0, t1) in starts.items():
        before = t0
        for v, t in sorted(tk.get(k, [])):
            times[("test", k, v)] = before
            times[("set", k, v)] = t - 0.5
            before = t
        times[("unlock", k)] = t1 - 0.5
    return times


class _InTicketOrder(Guide):
    """A :class:`Guide` that, among the events the recorded orders allow, takes the one its tickets
    place first: a lock's test at the earliest moment it can have happened, its set at the latest (a
    test and a set one step apart, as a thread passing the test, then stalling before the set, does);
    any other step at once (the cells' orders decide the reads and writes)."""

    def __init__(self, *a, times: dict, **kw):
        super().__init__(*a, **kw)
        self.times = times

    def _when(self, name: str) -> float:
        if m := _TEST.fullmatch(name):
            return self.times.get(("test", int(m.group(2)), int(m.group(1))), -math.inf)
        if m := _SET.fullmatch(name):
            return self.times.get(("set", int(m.group(2)), int(m.group(1))), -math.inf)
        if m := _UNLOCK.fullmatch(name):
            return self.times.get(("unlock", int(m.group(1))), -math.inf)
        return -math.inf

    def choose(self, engine, events) -> int:
        allowed = [i for i, e in enumerate(events) if self._may(e.name)]
        if not allowed:
            return super().choose(engine, events)          # the one-line error
        i = min(allowed, key=lambda i: (self._when(events[i].name), i))
        c = self.classify(events[i].name)
        if c is not None and self._queues.get(c[0]):
            self._queues[c[0]].popleft()
        return i


def cell_orders(run) -> dict:
    """``("cell", v)`` -> the reads and writes of x[v] (``("read", k)``, ``("write", k)``) in the order
    the recorded values say they happened: the writes as the chain of values each left for the
    next, each read at the latest state before its own write that holds the value it read."""
    chains = update_chains(run, H.WRITE)
    reads = _rows(run, H.READ)
    orders = {}
    for v, chain in chains.items():
        if chain is None:
            raise InputError(f"the writes of x[{v}] do not form one chain of values: no reference run has them")
        states = [np.float64(run.x0[v])] + [np.float64(r[0]) + np.float64(r[1]) for r in chain]
        where: dict = {}
        for i, st in enumerate(states):
            where.setdefault(bits(st), []).append(i)
        own = {r[4]: i for i, r in enumerate(chain)}
        at: dict = {}
        rv = reads[reads["v"] == v]
        for k, value, t in zip(rv["k"].tolist(), rv["value"].tolist(), rv["t0"].tolist()):
            fits = [i for i in where.get(bits(value), []) if i <= own[k]]
            if not fits:
                raise InputError(f"sample {k}'s read of x[{v}] is no state of the cell before its write")
            at.setdefault(fits[-1], []).append((t, k))
        order = []
        for i in range(len(states)):
            order += [("read", k) for _, k in sorted(at.get(i, []))]
            if i < len(chain):
                order.append(("write", chain[i][4]))
        orders[("cell", v)] = order
    return orders


def rebuild_as_variant(run, variant: str) -> Rebuilt:
    """The reference ``variant`` of ``hogwild-lock`` (one whose lock test and set are two steps) steered
    through a fast lock-mode run: each k sampled by the thread that drew it, every cell's reads and
    writes in the order the recorded values say (:func:`cell_orders`), and the lock steps in the order
    of their tickets (:func:`lock_times`).  When it completes, its final model is the fast run's, bit for bit, by construction of
    the orders; ``same_x`` says so."""
    orders = {"sample": H.lock_orders(run.log)["sample"], **cell_orders(run)}
    guide = _InTicketOrder(orders, _STEERED, open_after=frozenset({"sample"}), times=lock_times(run))
    res = run_algorithm(variant, problem=run.problem, params=run.params, seed=run.seed, adversary=guide)
    left = guide.leftover()
    if left:
        raise InputError(f"the recorded orders were not all used: {sorted(left.items(), key=str)[:3]}")
    outs = [o for out in res.trace.outputs.values() for o in out]
    return Rebuilt(res, bool(outs) and bits(outs[-1]) == bits(run.x))


PLANTED_ATOMIC = Planted(
    name="atomic-add-as-load-store",
    mistake="add is a plain load, a stall, then a store (not one atomic add)",
    steps=lambda problem, seed: {"add": load_stall_store},
    no_variant="atomic runs are not replayable (lock-free accesses have no recorded total order); the reference's "
               "stand-in for this mistake is the racy mode",
    tries=6)

PLANTED_TEST_THEN_SET = Planted(
    name="lock-test-then-set",
    mistake="take_lock tests the lock, stalls, then sets it (not one atomic test-and-set)",
    steps=lambda problem, seed: {"take_lock": test_then_set},
    variant="broken-hogwild-lock-test-then-set", guarantee="hogwild-lock-mutual-exclusion",
    rebuild_as=rebuild_as_variant, tries=10)

PLANTED_DROPPED_LOCK = Planted(
    name="lock-dropped",
    mistake="take_lock releases the lock as soon as it has it",
    steps=lambda problem, seed: {"take_lock": dropped_lock},
    no_variant="no reference variant drops a lock it took (the reference's lock is one step, held until unlock)",
    tries=6)

ATOMIC = declare(FastSuite(
    algorithm="hogwild-atomic",
    checks=(FastCheck("rounding-bound", "x = x_0 + Σ deltas per coordinate within the rounding of its additions",
                      check_rounding_bound),
            FastCheck("one-chain-per-cell", "the adds of each cell form one chain of values from x_0 to its final value",
                      check_one_chain_per_cell),
            FastCheck("reads-explained", "every read is a state of its cell current during its ticket interval",
                      check_reads_explained),
            FastCheck("no-lost-update", "no update is overwritten", check_no_lost_update)),
    measure=measure, dangerous=_overlap_and_delay, stalls=stall_steps, problem=CROWDED, replayed=False,
    planted=(PLANTED_ATOMIC,)))

RACY = declare(FastSuite(
    algorithm="hogwild-racy",
    checks=(FastCheck("final-values-explained", "every final value is x_0 plus a chain of surviving stores",
                      check_final_values_explained),
            FastCheck("reads-explained", "every read is a value its cell could hold during its ticket interval",
                      check_reads_within_intervals)),
    measure=measure, dangerous=_overlap_and_delay, stalls=stall_steps, problem=CROWDED, replayed=False))

LOCK = declare(FastSuite(
    algorithm="hogwild-lock",
    checks=(FastCheck("recorded-samples", "every sample's recorded x̂_k and g_k are the rebuilt reference's",
                      check_rebuilt_samples),),
    measure=measure, dangerous=_overlap_and_a_lock_waited_for, stalls=stall_steps, problem=CROWDED, replayed=True,
    planted=(PLANTED_TEST_THEN_SET, PLANTED_DROPPED_LOCK)))
