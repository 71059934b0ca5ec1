"""Guarantees of serially-equivalent conflict-free parallel SGD (seed 002, CYCLADES-style),
each followed by the broken variants it must catch.

The algorithm is :mod:`asyncproof.reference.shared_memory.cyclades`.  The serial side is
computed without the algorithm's books: the data order π is what the
registered ``sgd`` draws (or reads from ``order``) for the same seed and ``T``, the serial
iterates x_0 .. x_T are ``sgd``'s (for a constrained problem, the projected step of
:func:`~asyncproof.reference.shared_memory.hogwild.serial_sgd` on sgd's π), and who touched
which coordinate when is read off the schedule's event names (``pN read x[v] t=..``,
``pN add x[v] t=..``).

* ``serial-equivalence``: ``A_parallel(S, π) = A_serial(S, π)`` bit for bit (slide "Serial
  Equivalence"): the output is SGD's x_T, and every point t read exactly the serial x_t
  on its support (x̂_t = x_t), whatever the interleaving, batch size and thread count.
* ``conflicts-in-order``: every two points t1 < t2 of π whose supports share a coordinate v
  access it in π order: t1's ``add x[v]`` comes before t2's ``read x[v]`` in the schedule;
  and every point reads and adds each coordinate of its support exactly once.  This is
  what makes the parallel run serial (Pan et al.: all conflicting updates of a batch on one
  core, in order; a barrier between batches), checked on the schedule itself.

Vacuity: for ``serial-equivalence``, some batch's conflict graph has >= 2 components and one
of size >= 2, and two threads really interleaved on it (two of its points on different threads
in progress at the same time); for ``conflicts-in-order``, a conflict *across* batches that
the barrier kept in order: a thread waited at batch b's barrier while a point of batch b on
another thread had still to add a coordinate that the waiting thread reads for a later batch.

The draw steers toward both: two batches, the first of >= 3 points and the second of >= 2,
and (or SGD's draws) an explicit π in which the first point of a batch is drawn again as the
last point of the next batch, after points that share no coordinate with it (the lecture's
"data points can be arbitrarily repeated"): the copy is a component of its own, which the
allocation gives to another thread than the original's, so a conflict crosses the barrier
between two threads.  Without that, such conflicts were rare enough that a barrier opening
one thread early (``broken-cyclades-barrier-off-by-one``) was caught only at the ``deep``
budget; both guarantees now catch it in the first example
(``tests/shared_memory/test_shared_memory_guarantees.py``).

The broken variants (:func:`~asyncproof.properties.variants.variant`) replace one named step of
the algorithm, ``work`` (the threads' work lists of a batch) or ``barrier``: one realistic
mistake each, reordered or merged components or a barrier that opens early.

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

import math
import re

import numpy as np
from hypothesis import strategies as st

from ...reference.baselines._common import start_point
from ...reference.problems import make_problem
from ...reference.records import ITERATE
from ...reference.schedule import run_algorithm
from ...reference.shared_memory.conflict import supports_of
from ...reference.shared_memory.cyclades import NAME, Batch, BatchPlan, Update
from ...reference.shared_memory.hogwild import serial_sgd
from ..common import bit_difference
from ..every_algorithm import replay_covers
from ..guarantees import Case, Guarantee, register
from ..strategies import seeds, step_sizes
from ..variants import variant

#: small sparse instances with short supports (1 .. 4 coordinates: runs stay short, so a
#: counterexample shrinks quickly) and enough samples that a batch often splits into several
#: components (the hard case)
SMALL = {
    "sparse-svm": st.fixed_dictionaries({"m": st.integers(6, 10), "d": st.integers(6, 10), "nnz": st.integers(1, 2),
                                         "seed": st.integers(0, 50)}),
    "matrix-completion": st.fixed_dictionaries({"n_rows": st.integers(3, 4), "n_cols": st.integers(3, 4),
                                                "rank": st.just(1), "m": st.integers(3, 6), "seed": st.integers(0, 50)}),
    "graph-cuts": st.fixed_dictionaries({"nodes": st.integers(6, 8), "m": st.integers(3, 5), "labels": st.just(2),
                                         "seed": st.integers(0, 50)}),
}


def _order(data, problem: dict, T: int, B: int) -> list[int]:
    """π_0 .. π_(T−1) with repeats, in which the first point of every batch is drawn again as the last
    point of the next batch, after points that share no coordinate with it: the copy is then a
    component of its own, which the allocation (largest first, ties by position) gives to another
    thread than the first one, while the original was on the first thread: a conflict across the
    barrier between two threads."""
    pi = data.draw(st.lists(st.integers(0, problem["params"]["m"] - 1), min_size=T, max_size=T), label="order")
    supports = [set(s.tolist()) for s in supports_of(make_problem(problem["name"], **problem["params"]))]
    for b in range(1, math.ceil(T / B)):
        copy, last = pi[(b - 1) * B], min((b + 1) * B, T) - 1
        apart = [j for j in range(len(supports)) if not supports[j] & supports[copy]]
        for t in range(b * B, last):
            if apart and supports[pi[t]] & supports[copy]:
                pi[t] = apart[pi[t] % len(apart)]
        pi[last] = copy
    return pi


def _draw(data, algorithm: str) -> Case:
    name = data.draw(st.sampled_from(sorted(SMALL)), label="problem")
    problem = data.draw(SMALL[name], label="problem params")
    T = data.draw(st.sampled_from([6, 5]), label="T")
    # two batches, the first of >= 3 points (a batch of 1 or 2 points cannot hold two components one of
    # which has 2 points: serial-equivalence's hard case), the second of >= 2 (two components, so the
    # repeated point can go to another thread); tests/shared_memory/test_cyclades.py runs other sizes under many schedules
    B = data.draw(st.sampled_from(list(range(3, T - 1))), label="batch")
    params = {"gamma": data.draw(step_sizes(), label="gamma"), "T": T, "batch": B,
              "threads": data.draw(st.integers(2, 3), label="threads"),
              # "for all data order π (data points can be arbitrarily repeated)": an explicit order
              # first, so a counterexample shrinks to a short order rather than a search over seeds
              "order": (_order(data, {"name": name, "params": problem}, T, B)
                        if data.draw(st.sampled_from(["explicit", "sgd"]), label="order") == "explicit" else None)}
    return Case(algorithm, {"name": name, "params": problem}, params, data.draw(seeds(), label="seed"))


# --- the serial side and the schedule's accesses ---------------------------------------------------

_ACCESS = re.compile(r"p(\d+) (read|add) x\[(\d+)\] t=(\d+)")


def _serial(result) -> tuple[list[int], list[np.ndarray]]:
    """(π, [x_0, ..., x_T]) of SGD on the run's problem, seed, T, x0 and order (cached on ``result``)."""
    if getattr(result, "_serial", None) is None:
        p, s = result.params, result.schedule
        sgd = run_algorithm("sgd", problem=s.problem, seed=s.seed,
                            params={"gamma": p["gamma"], "T": p["T"], "x0": p.get("x0"), "order": p.get("order")})
        pi = [int(j) for j in sgd.trace.records("j")]
        xs = [start_point(result.problem, p)]
        if result.problem.constrained:
            for j in pi:
                xs.append(serial_sgd(result.problem, [j], xs[-1], p["gamma"]))
        else:
            xs += [np.asarray(x) for x in sgd.trace.records(ITERATE.key)]
        result._serial = (pi, xs)
    return result._serial


def _accesses(result) -> dict[tuple[str, int, int], tuple[int, int]]:
    """(op, t, v) -> (schedule position, thread) of that access; a repeated access is kept as -1."""
    out: dict = {}
    for pos, e in enumerate(result.trace.events):
        m = _ACCESS.fullmatch(e)
        if m:
            key = (m.group(2), int(m.group(4)), int(m.group(3)))
            out[key] = (-1, -1) if key in out else (pos, int(m.group(1)))
    return out


def _finished(result) -> str | None:
    tr = result.trace
    if tr.stopped != "quiescent" or not tr.outputs.get(0):
        return f"the run did not finish with an output of thread 0 (stopped: {tr.stopped!r})"
    return None


# --- serial-equivalence ----------------------------------------------------------------------------


def check_serial_equivalence(result) -> str | None:
    if msg := _finished(result):
        return msg
    pi, xs = _serial(result)
    recs = sorted(result.trace.records(Update), key=lambda r: r.t)
    if [r.t for r in recs] != list(range(len(pi))):
        return f"the points processed are t = {[r.t for r in recs]}, not 0 .. {len(pi) - 1} once each"
    for r in recs:
        t, j = r.t, r.j
        if j != pi[t]:
            return f"position t = {t} processed f_{j}, but π_{t} = {pi[t]} (SGD's draw)"
        diff = bit_difference(r.xhat, xs[t][result.problem.support(j)], f"x̂_{t} (what point t = {t} read)",
                              f"the serial x_{t} on its support")
        if diff:
            return diff
    return bit_difference(result.trace.outputs[0][-1], xs[-1], "A_parallel(S, π)", "A_serial(S, π) (SGD on π)")


def _threads_interleaved(result) -> bool:
    """A batch with >= 2 components, one of size >= 2, on which two threads were in progress at once."""
    span: dict[int, list[int]] = {}                 # t -> [first access, last access, thread]
    for (op, t, v), (pos, pid) in _accesses(result).items():
        if pos < 0:                                 # an access made twice (a broken run): no span
            continue
        s = span.setdefault(t, [pos, pos, pid])
        s[0], s[1] = min(s[0], pos), max(s[1], pos)
    for plan in result.trace.records(BatchPlan):
        sizes = [len(c) for c in plan.components]
        if len(sizes) < 2 or max(sizes) < 2:
            continue
        ts = [t for t in plan.positions if t in span]
        if any(span[a][2] != span[b][2] and span[a][0] < span[b][1] and span[b][0] < span[a][1]
               for a in ts for b in ts):
            return True
    return False


_HARD = "two threads interleaved on a batch with >= 2 components, one of size >= 2"

register(Guarantee(
    name="serial-equivalence",
    statement="A_parallel(S, π) = A_serial(S, π): the output is SGD's x_T on the same data order, and every point t "
              "read the serial x_t on its support, bit for bit, for every interleaving, batch size and thread count",
    source="seed 002, 'Serial Equivalence' (A_serial(S, π) = A_parallel(S, π)); Pan et al. 2016 (CYCLADES)",
    algorithms=(NAME,),
    draw=_draw,
    check=check_serial_equivalence,
    hard=_threads_interleaved,
    hard_case=_HARD,
    broken={NAME: "broken-cyclades-reorders-component"},
))


def _by_sample_index(batch: Batch) -> list[list[int]]:
    j_of = dict(zip(batch.positions, batch.samples))
    return [[t for c in cs for t in sorted(batch.components[c], key=lambda t: j_of[t])] for cs in batch.allocation]


variant("broken-cyclades-reorders-component", of=NAME,
        mistake="a component's points in sample-index order, not batch order",
        replace={"work": _by_sample_index})


# --- conflicts-in-order ----------------------------------------------------------------------------


def check_conflicts_in_order(result) -> str | None:
    if msg := _finished(result):
        return msg
    pi, _ = _serial(result)
    acc = _accesses(result)
    supports = [result.problem.support(j).tolist() for j in pi]
    for t, s in enumerate(supports):
        for op in ("read", "add"):
            done = sorted(v for (o, u, v) in acc if o == op and u == t)
            if done != sorted(s):
                return f"point t = {t} (f_{pi[t]}) did {op} coordinates {done}, its support is {sorted(s)}"
            twice = [v for v in s if acc[(op, t, v)][0] < 0]
            if twice:
                return f"point t = {t} did {op} x[{twice[0]}] more than once"
    holders: dict[int, list[int]] = {}              # v -> the points whose support holds v, in π order
    for t, s in enumerate(supports):
        for v in s:
            holders.setdefault(v, []).append(t)
    for v, ts in sorted(holders.items()):
        for t1, t2 in zip(ts, ts[1:]):
            (added, p1), (read, p2) = acc[("add", t1, v)], acc[("read", t2, v)]
            if read < added:
                return (f"points t = {t1} < {t2} share x[{v}], but t = {t2} (thread {p2}) read it at step {read}, "
                        f"before t = {t1} (thread {p1}) added to it at step {added}")
    return None


_BARRIER = re.compile(r"p(\d+) receive barrier b=(\d+) \[0 msgs\]")
_STEP = re.compile(r"p(\d+) ")


def _held_at_a_barrier(result) -> bool:
    """A thread arrived at batch b's barrier (its last step before the barrier) before a point t1 of
    batch b on another thread added a coordinate v that the waiting thread reads for a point t2 of a
    later batch: without the barrier, t2 could have read v before t1's update."""
    arrived: dict[tuple[int, int], int] = {}        # (thread, b) -> its last step before its barrier b
    last: dict[int, int] = {}
    for pos, e in enumerate(result.trace.events):
        if m := _STEP.match(e):
            p = int(m.group(1))
            if mb := _BARRIER.fullmatch(e):
                arrived[(p, int(mb.group(2)))] = last.get(p, -1)
            last[p] = pos
    acc = _accesses(result)
    B = result.params["batch"]
    holders: dict[int, list[int]] = {}
    for (op, t, v) in acc:
        if op == "add":
            holders.setdefault(v, []).append(t)
    for (op, t2, v), (read, p2) in acc.items():
        if op != "read" or read < 0:
            continue
        for t1 in holders.get(v, []):
            added, p1 = acc[("add", t1, v)]
            if t1 // B < t2 // B and p1 != p2 and added >= 0 and arrived.get((p2, t1 // B), added) < added:
                return True
    return False


register(Guarantee(
    name="conflicts-in-order",
    statement="points sharing a coordinate access it in data order (the earlier one's add before the later one's "
              "read), and every point reads and adds each coordinate of its support once",
    source="seed 002, 'Challenges in Parallel SGD' (conflicts); Pan et al. 2016 (CYCLADES): conflicting updates on "
           "one core, in order, batches separated",
    algorithms=(NAME,),
    draw=_draw,
    check=check_conflicts_in_order,
    hard=_held_at_a_barrier,
    hard_case="a thread waited at a barrier for a conflicting point of the previous batch on another thread "
              "(a cross-batch conflict the barrier kept in order)",
    broken={NAME: "broken-cyclades-deals-merged-order"},
))


def _dealt(batch: Batch) -> list[list[int]]:
    merged = [t for c in batch.components for t in c]
    P = len(batch.allocation)
    return [merged[p::P] for p in range(P)]


variant("broken-cyclades-deals-merged-order", of=NAME,
        mistake="the components' merged order dealt out to the threads in turn",
        replace={"work": _dealt})

# caught by both guarantees above, and only through a conflict across a barrier: _order puts one in
# every explicit order it draws (tests/shared_memory/test_shared_memory_guarantees.py)
variant("broken-cyclades-barrier-off-by-one", of=NAME,
        mistake="a batch's barrier opens once threads − 1 have arrived",
        replace={"barrier": lambda arrived, threads: arrived >= threads - 1})    # the mistake: its own arrival counted

replay_covers(_draw, NAME)
