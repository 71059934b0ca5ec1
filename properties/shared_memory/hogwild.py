"""Guarantees of HOGWILD! (seed 002, "HOGWILD! as noisy SGD", "Convergence Rates for Hogwild!"),
each followed by the broken variants it must catch.

The algorithm is :mod:`asyncproof.reference.shared_memory.hogwild`, in its three modes
(``hogwild-atomic``, ``hogwild-lock``, ``hogwild-racy``).  Every check rebuilds what happened
from the run's own record of it: the **schedule**
(the event names say which core sampled, read, added, loaded, stored, wrote or unlocked
which coordinate for which sample k, and in which order), the per-access log
``"mem"`` (the values read and written), and the per-sample records (x̂_k, the gradient,
the update g_k).  The sample s_k is recomputed from its key, every ∇f_{s_k}(x̂_k) and g_k
from the recorded x̂_k, the serial iterates x_k from x_0, and the memory from the
accesses in schedule order; nothing is taken from the algorithm's books (its overlap
counts, its serial iterates) without being recomputed.

* ``hogwild-perturbed-iterate`` (atomic, lock): for every sample k and coordinate v of
  its support, ``x̂_k[v] − x_k[v] = Σ_{i≠k} S_i^k[v] γ ∇f_{s_i}(x̂_i)[v]`` with ``S_i^k[v] =
  +1`` if i < k and i's update of v landed after k read v, ``−1`` if i > k and it landed
  before, else 0 (the lecture's identity, ``S`` diagonal in {−1, 0, 1}); nonzero only for
  samples i that overlap k in time, so ``|i − k| <= τ`` with τ the run's largest overlap
  (the window ``k − τ .. k + τ``).  Exact in real arithmetic; checked in exact rationals to
  within the rounding of the float additions that made x̂_k and x_k, bounded from the
  partial sums (each ``fl(a + b)`` is off by at most ``u/(1 − u) |fl(a + b)|``, u = 2^-53).
* ``hogwild-ram-content`` (atomic): after T samples the RAM is ``x_0 − γ Σ_k ∇f_{s_k}(x̂_k)``
  ("atomic writes + commutativity"): bit for bit with the sum taken in the order the
  adds landed, and the k-order sum of the slide within the rounding of the adds.
* ``hogwild-no-lost-update`` (atomic, lock): every write of an update leaves the cell at
  its value just before plus g_k[v]: no update is ever overwritten.  The racy mode is
  its "broken variant": the adversary must find the schedule that loses an update.
* ``hogwild-no-conflict-serial`` (all modes): if no two samples that overlap in time
  share a coordinate, the run is serial SGD on s_0, s_1, ...: every x̂_k = x_k and the
  RAM is SGD's x_T, bit for bit (the registered ``sgd``, which draws the same samples;
  for a constrained problem, the serial loop with the same projected step) — "No
  conflict ⇒ 2 parallel iterations = 2 serial iterations".
* ``hogwild-bounded-overlap`` (all modes, τ given): every sample overlaps at most τ others,
  and overlapping samples i, k have |i − k| <= τ.
* ``hogwild-lock-mutual-exclusion`` (lock): no two samples are ever inside the critical
  section of one coordinate at once — the section of (k, v) runs from k's ``lock x[v]``
  step to its ``unlock`` step, read off the schedule, not the locks' own books — every
  sample locks exactly its support, and every read and write of x[v] lies inside the
  section of v.
* ``hogwild-racy-lost-updates`` (racy): the RAM is x_0 plus every update except exactly
  those the run reports lost (``lost_updates``, the ``lost_updates`` metric).  From the
  access log: every load sees the cell, every store writes what its load saw plus g_k[v]
  (bit for bit), and an update is lost iff it is not on the chain "stored what it loaded
  from" that runs back from the cell's last store to x_0; the run's report must be that
  set, and ``RAM = x_0 + Σ_k g_k − Σ_(lost) g_k`` within the stores' rounding.

The broken variants (:func:`~asyncproof.properties.variants.variant`) are modes of HOGWILD!
with one of their named steps replaced (the shared gradient buffer: two, ``gradient`` and
``update``): one realistic mistake each.  The racy mode's lost-update count is read off the
run by its metrics, not computed by a step, so its variant replaces the metrics.

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
                                             the reference's ``lost_updates`` used before issue 9): an
                                             update two stores overwrite is counted twice, one that a
                                             later store put back is counted although the RAM holds
                                             it (racy lost-update accounting)
===========================================  ============================================================
"""

from __future__ import annotations

import re
from fractions import Fraction

import numpy as np
from hypothesis import strategies as st

from ...reference.engine import Local, Receive
from ...reference.rng import draw_batch
from ...reference.schedule import run_algorithm
from ...reference.shared_memory import hogwild
from ...reference.shared_memory.hogwild import sample_step, serial_sgd
from ..common import bit_difference
from ..every_algorithm import replay_covers
from ..guarantees import Case, Guarantee, register
from ..strategies import seeds, step_sizes
from ..variants import variant

HOGWILD = ("hogwild-atomic", "hogwild-racy", "hogwild-lock")

#: small sparse instances: every example runs in milliseconds, supports overlap often
SPARSE = {
    "sparse-svm": st.fixed_dictionaries({"m": st.integers(3, 8), "d": st.integers(3, 10),
                                         "nnz": st.integers(1, 3), "seed": st.integers(0, 50)}),
    "matrix-completion": st.fixed_dictionaries({"n_rows": st.integers(2, 3), "n_cols": st.integers(2, 3),
                                                "rank": st.integers(1, 2), "m": st.integers(2, 4),
                                                "seed": st.integers(0, 50)}),
    "graph-cuts": st.fixed_dictionaries({"nodes": st.integers(3, 5), "m": st.integers(2, 3),
                                         "labels": st.integers(2, 3), "seed": st.integers(0, 50)}),
}
#: sparser still: overlapping samples often share nothing (the premise of no-conflict-serial)
VERY_SPARSE = {
    "sparse-svm": st.fixed_dictionaries({"m": st.integers(8, 20), "d": st.integers(12, 30), "nnz": st.just(1),
                                         "seed": st.integers(0, 50)}),
    "graph-cuts": st.fixed_dictionaries({"nodes": st.integers(8, 12), "m": st.integers(2, 4),
                                         "labels": st.integers(2, 3), "seed": st.integers(0, 50)}),
}

#: contended: few coordinates, so that three samples in flight often share one (a store can then
#: overwrite an update that another store also overwrites, or that a later store puts back)
CONTENDED = {
    "sparse-svm": st.fixed_dictionaries({"m": st.integers(3, 6), "d": st.integers(1, 2), "nnz": st.just(1),
                                         "seed": st.integers(0, 50)}),
    "matrix-completion": st.fixed_dictionaries({"n_rows": st.just(2), "n_cols": st.just(2),
                                                "rank": st.just(1), "m": st.integers(2, 4),
                                                "seed": st.integers(0, 50)}),
}

#: unit roundoff of float64 and the bound on one addition's error relative to its result
U = Fraction(1, 2 ** 53)
C = U / (1 - U)


def _draw(data, algorithm: str, tau=None, kinds=SPARSE, samples=st.integers(2, 4), cores=st.integers(2, 3)) -> Case:
    name = data.draw(st.sampled_from(sorted(kinds)), label="problem")
    params = {"n": data.draw(cores, label="n"), "T": data.draw(samples, label="T"),
              "gamma": data.draw(step_sizes(), label="gamma"),
              "tau": data.draw(tau if tau is not None else st.one_of(st.none(), st.integers(1, 3)), label="tau")}
    problem = {"name": name, "params": data.draw(kinds[name], label="problem params")}
    return Case(algorithm, problem, params, data.draw(seeds(), label="seed"))


# --- what the run did, rebuilt from its schedule and records ---------------------------------------

_END = re.compile(r"p\d+ (?:(?:add|store|write) x\[\d+\]|unlock) k=(\d+)")


def _run_of(result) -> "_Run":
    """The :class:`_Run` of ``result``, built once (the check and the hard predicate share it)."""
    if getattr(result, "_hogwild_run", None) is None:
        result._hogwild_run = _Run(result)
    return result._hogwild_run


class _Run:
    """A finished HOGWILD! run as the checks see it."""

    def __init__(self, result):
        p, tr = result.params, result.trace
        self.result, self.problem, self.gamma, self.T = result, result.problem, p["gamma"], p["T"]
        self.x0 = (result.problem.x0 if p.get("x0") is None else np.asarray(p["x0"], dtype=np.float64))
        self.finished = tr.stopped == "quiescent" and bool(tr.outputs)
        self.recs = sorted(tr.records(hogwild.Sample), key=lambda r: r.k)
        self.mem = tr.records(hogwild.MEM.key)
        # sample k starts at the k-th "sample" step and ends at its last write (or unlock)
        starts = [i for i, e in enumerate(tr.events) if e.endswith(" receive sample [0 msgs]")][:self.T]
        ends: dict[int, int] = {}
        for i, e in enumerate(tr.events):
            m = _END.fullmatch(e)
            if m:
                ends[int(m.group(1))] = i
        self.span = {k: (s, ends.get(k, len(tr.events))) for k, s in enumerate(starts)}

    def problems_with_records(self) -> str | None:
        """The records are those of samples 0 .. T-1, each of its keyed sample and support,
        its gradient and update recomputed bit for bit from the x̂_k it read."""
        if not self.finished:
            return None
        if [r.k for r in self.recs] != list(range(self.T)):
            return f"the run finished with samples {[r.k for r in self.recs]} recorded, not 0 .. {self.T - 1}"
        for r in self.recs:
            k, j = r.k, r.j
            want = int(draw_batch(self.result.schedule.seed, k, self.problem.m, 1)[0])
            if j != want:
                return f"sample k = {k} is f_{j}, but the k-th keyed draw is f_{want}"
            if r.support != self.problem.support(j).tolist():
                return f"sample k = {k} recorded support {r.support}, f_{j}'s is {self.problem.support(j).tolist()}"
            grad, g = sample_step(self.problem, j, np.asarray(r.support), r.xhat, self.gamma)
            diff = (bit_difference(r.grad, grad, f"∇f_{j}(x̂_{k}) as recorded", "its recomputation from x̂_k")
                    or bit_difference(r.g, g, f"the update g_{k} as recorded", "−γ ∇f_{s_k}(x̂_k) recomputed"))
            if diff:
                return diff
        return None

    def overlapping(self, i: int, k: int) -> bool:
        (_, b), (c, _) = self.span[min(i, k)], self.span[max(i, k)]
        return c < b

    def overlap_counts(self) -> dict[int, int]:
        return {k: sum(1 for i in self.span if i != k and self.overlapping(i, k)) for k in self.span}

    def landed(self) -> dict[tuple[int, int], int]:
        """(k, v) -> the position in the access log where k's update of v landed."""
        return {(k, v): pos for pos, (op, k, v, _) in enumerate(self.mem) if op in ("add", "store", "write")}

    def serial(self) -> list[np.ndarray]:
        """x_0, x_1, ..., x_T (full vectors): x_{k+1} = x_k + g_k, in k order."""
        xs = [self.x0.copy()]
        for r in self.recs:
            x = xs[-1].copy()
            s = np.asarray(r.support, dtype=np.int64)
            x[s] = x[s] + r.g
            xs.append(x)
        return xs


def _replay_memory(run: _Run) -> str | None:
    """The cells rebuilt from the access log: a read sees the cell; a write (add, write, store) of
    sample k leaves the cell at its value just before plus g_k[v]; every (k, v) lands once; the
    output is the memory."""
    ram = run.x0.copy()
    g = {(r.k, v): r.g[q] for r in run.recs for q, v in enumerate(r.support)}
    seen = set()
    loaded: dict[tuple[int, int], int] = {}
    last: dict[int, tuple[int, int]] = {}
    for pos, (op, k, v, value) in enumerate(run.mem):
        if op in ("read", "load"):
            if value != ram[v] or np.signbit(value) != np.signbit(ram[v]):
                return f"sample {k} read x[{v}] = {value!r} at access {pos}, but the cell held {float(ram[v])!r}"
            if op == "load":
                loaded[(k, v)] = pos
            continue
        if (k, v) in seen:
            return f"sample {k}'s update of x[{v}] landed twice"
        seen.add((k, v))
        if op == "store" and v in last and last[v][0] > loaded.get((k, v), -1):
            i = last[v][1]
            return (f"sample {i}'s update of x[{v}] was lost: sample {k} loaded x[{v}] at access {loaded.get((k, v))}, "
                    f"sample {i} wrote it at access {last[v][0]}, then sample {k} stored its loaded value + g "
                    f"at access {pos}")
        want = ram[v] + g[(k, v)]
        if value != want:
            return (f"sample {k}'s write of x[{v}] at access {pos} left {value!r}; the cell held "
                    f"{float(ram[v])!r} and g_{k}[{v}] = {float(g[(k, v)])!r}: an update is lost")
        ram[v] = want
        last[v] = (pos, k)
    missing = sorted(set(g) - seen)
    if missing:
        return f"updates never landed: (sample, coordinate) {missing[:5]}"
    out = [o for os in run.result.trace.outputs.values() for o in os]
    return bit_difference(out[-1], ram, "the output", "the memory rebuilt from the accesses") if out else None


# --- hogwild-perturbed-iterate ----------------------------------------------------------------------


def check_perturbed_iterate(result) -> str | None:
    run = _run_of(result)
    msg = run.problems_with_records()
    if msg or not run.finished:
        return msg
    xs = run.serial()
    per = result.trace.records(hogwild.PERTURBED.key)
    for r, xk in zip(run.recs, per[-1] if per else []):
        diff = bit_difference(xk, xs[r.k][r.support], f"x_{r.k} as recorded", "x_0 + g_0 + ... + g_(k-1)")
        if diff:
            return diff
    landed = run.landed()
    reads = {(k, v): pos for pos, (op, k, v, _) in enumerate(run.mem) if op == "read"}
    after = {}                                       # v -> [(position, value after)] of its writes
    for pos, (op, k, v, value) in enumerate(run.mem):
        if op in ("add", "store", "write"):
            after.setdefault(v, []).append((pos, value))
    omega = max(run.overlap_counts().values(), default=0)
    tau = result.params.get("tau")
    for r in run.recs:
        k = r.k
        for q, v in enumerate(r.support):
            read_at = reads[(k, v)]
            rhs, used = Fraction(0), []
            for o in run.recs:
                i = o.k
                if i == k or v not in o.support:
                    continue
                before = landed[(i, v)] < read_at
                S = 1 if (i < k and not before) else (-1 if (i > k and before) else 0)
                if S == 0:
                    continue
                if not run.overlapping(i, k) or abs(i - k) > omega or (tau is not None and abs(i - k) > tau):
                    return (f"S_{i}^{k}[{v}] = {S}, but samples {i} and {k} "
                            + ("do not overlap in time" if not run.overlapping(i, k)
                               else f"are {abs(i - k)} apart, more than τ = {tau if tau is not None else omega}"))
                rhs += S * -Fraction(float(o.g[o.support.index(v)]))
                used.append((i, S))
            lhs = Fraction(float(r.xhat[q])) - Fraction(float(xs[k][v]))
            slack = C * (sum(abs(Fraction(float(val))) for pos, val in after.get(v, []) if pos < read_at)
                         + sum(abs(Fraction(float(xs[i + 1][v]))) for i in range(k) if v in run.recs[i].support))
            if abs(lhs - rhs) > slack:
                return (f"x̂_{k}[{v}] − x_{k}[{v}] = {float(lhs):.17g}, but Σ S_i γ∇f_(s_i)(x̂_i)[{v}] over "
                        f"(i, S_i) = {used} is {float(rhs):.17g} (rounding allows {float(slack):.3g})")
    return None


def _noisy_read(result) -> bool:
    """Some x̂_k[v] misses a nonzero update of an overlapping sample, or sees one of a later sample."""
    run = _run_of(result)
    if not run.finished or not run.recs:
        return False
    landed = run.landed()
    reads = {(k, v): pos for pos, (op, k, v, _) in enumerate(run.mem) if op == "read"}
    for r in run.recs:
        for o in run.recs:
            for v in set(r.support) & set(o.support):
                i, k = o.k, r.k
                if i != k and (landed[(i, v)] < reads[(k, v)]) == (i > k) and o.g[o.support.index(v)] != 0:
                    return True
    return False


register(Guarantee(
    name="hogwild-perturbed-iterate",
    statement="x̂_k − x_k = Σ_{i=k−τ, i≠k}^{k+τ} γ S_i^k ∇f_{s_i}(x̂_i), S_i^k diagonal in {−1, 0, 1} read off the "
              "schedule, nonzero only for samples overlapping k (exact up to the additions' rounding)",
    source="seed 002, 'Convergence Rates for Hogwild!'; Mania et al. 2017, Section 2",
    algorithms=("hogwild-atomic", "hogwild-lock"),
    # locks make a noisy read rarer (a later sample must take every shared lock first): more samples
    draw=lambda data, alg: _draw(data, alg, samples=st.integers(3, 6) if alg == "hogwild-lock" else st.integers(2, 4)),
    check=check_perturbed_iterate,
    hard=_noisy_read,
    hard_case="a read missed (or saw) an overlapping sample's nonzero update",
    broken={"hogwild-atomic": "broken-hogwild-stale-read"},
))


def _stale_read(mem, v, local):
    if v not in local:                  # the mistake: read shared memory once, then trust the copy
        local[v] = mem.x[v]
    return local[v]


variant("broken-hogwild-stale-read", of="hogwild-atomic",
        mistake="reads are served from a core's copy of what it read before",
        replace={"read": _stale_read})

# --- hogwild-ram-content ---------------------------------------------------------------------------


def check_ram_content(result) -> str | None:
    run = _run_of(result)
    msg = run.problems_with_records() or (_replay_memory(run) if run.finished else None)
    if msg or not run.finished:
        return msg
    ram = np.asarray([o for os in result.trace.outputs.values() for o in os][-1], dtype=np.float64)
    slack_of = {}
    for op, k, v, value in run.mem:
        if op in ("add", "store", "write"):
            slack_of[v] = slack_of.get(v, Fraction(0)) + C * abs(Fraction(float(value)))
    for v in range(run.problem.d):
        exact = Fraction(float(run.x0[v])) + sum((Fraction(float(r.g[r.support.index(v)]))
                                                  for r in run.recs if v in r.support), Fraction(0))
        if abs(Fraction(float(ram[v])) - exact) > slack_of.get(v, Fraction(0)):
            return (f"RAM x[{v}] = {float(ram[v])!r}, but x_0 − γ Σ_k ∇f_(s_k)(x̂_k) = {float(exact)!r} "
                    f"(rounding allows {float(slack_of.get(v, 0)):.3g})")
    return None


def _adds_out_of_order(result) -> bool:
    """Some coordinate's updates landed out of sample order (commutativity is needed)."""
    last: dict[int, int] = {}
    for op, k, v, _ in result.trace.records(hogwild.MEM.key):
        if op in ("add", "store", "write"):
            if last.get(v, -1) > k:
                return True
            last[v] = k
    return False


register(Guarantee(
    name="hogwild-ram-content",
    statement="after T samples the RAM is x_0 − γ Σ_k ∇f_{s_k}(x̂_k): bit for bit in the order the adds landed, "
              "and the k-order sum within the adds' rounding (atomic writes + commutativity)",
    source="seed 002, 'HOGWILD! as noisy SGD' (\"After T processed samples, the contents of RAM are\")",
    algorithms=("hogwild-atomic",),
    draw=_draw,
    check=check_ram_content,
    hard=_adds_out_of_order,
    hard_case="updates of a coordinate landed out of sample order",
    broken={"hogwild-atomic": "broken-hogwild-writes-copy"},
))


def _write_local_copy(mem, v, xhat_v, g_v):
    mem.x[v] = xhat_v + g_v             # the mistake: x̂_k[v] + g_v written over whatever x[v] holds now


variant("broken-hogwild-writes-copy", of="hogwild-atomic",
        mistake="writes x[v] = x̂[v] + g[v] (its local copy) instead of adding g[v]",
        replace={"write": _write_local_copy})

# --- hogwild-no-lost-update ------------------------------------------------------------------------


def check_no_lost_update(result) -> str | None:
    run = _run_of(result)
    msg = run.problems_with_records()
    return msg or (_replay_memory(run) if run.finished else None)


def _concurrent_writers(result) -> bool:
    """Two samples that overlap in time both update some coordinate."""
    run = _run_of(result)
    for a in run.recs:
        for b in run.recs:
            if a.k < b.k and run.overlapping(a.k, b.k) and set(a.support) & set(b.support):
                return True
    return False


register(Guarantee(
    name="hogwild-no-lost-update",
    statement="every update lands: each write of sample k leaves x[v] at its value just before plus g_k[v], "
              "so the RAM holds every update exactly once",
    source="seed 002, 'HOGWILD! as noisy SGD' (atomic writes); design notes, 'Known deviations' (a Hogwild whose "
           "x[j] += g is not atomic and loses updates)",
    algorithms=("hogwild-atomic", "hogwild-lock"),
    draw=_draw,
    check=check_no_lost_update,
    hard=_concurrent_writers,
    hard_case="two overlapping samples updated the same coordinate",
    broken={"hogwild-atomic": "hogwild-racy"},
))

# no variant is declared for it: a non-atomic add is the racy mode, a real algorithm (its lost updates
# are counted by hogwild-racy-lost-updates below); the adversary must find the schedule that loses one

# --- hogwild-no-conflict-serial --------------------------------------------------------------------


def _conflict_free(run: _Run) -> bool:
    return not any(run.overlapping(a.k, b.k) and set(a.support) & set(b.support)
                   for a in run.recs for b in run.recs if a.k < b.k)


def check_no_conflict_serial(result) -> str | None:
    run = _run_of(result)
    msg = run.problems_with_records()
    if msg or not run.finished or not _conflict_free(run):
        return msg
    xs = run.serial()
    for r in run.recs:
        diff = bit_difference(r.xhat, xs[r.k][r.support], f"x̂_{r.k} (no conflict)", f"x_{r.k}")
        if diff:
            return diff
    s = result.schedule
    out = np.asarray([o for os in result.trace.outputs.values() for o in os][-1], dtype=np.float64)
    if run.problem.constrained:
        serial, what = serial_sgd(run.problem, [r.j for r in run.recs], run.x0, run.gamma), "serial projected SGD"
    else:
        sgd = run_algorithm("sgd", problem=s.problem, seed=s.seed,
                            params={"gamma": run.gamma, "T": run.T, "x0": s.params.get("x0")})
        serial, what = sgd.trace.outputs[0][-1], "SGD on the same samples"
    return bit_difference(out, serial, "the RAM after a conflict-free parallel run", what)


def _parallel_without_conflict(result) -> bool:
    run = _run_of(result)
    return run.finished and _conflict_free(run) and any(c > 0 for c in run.overlap_counts().values())


register(Guarantee(
    name="hogwild-no-conflict-serial",
    statement="if no two samples overlapping in time share a coordinate, every x̂_k = x_k and the RAM is serial SGD's "
              "x_T on s_0, s_1, ..., bit for bit",
    source="seed 002, 'Challenges in Parallel SGD' (\"No conflict => 2 parallel iterations = 2 serial iterations\")",
    algorithms=HOGWILD,
    draw=lambda data, alg: _draw(data, alg, kinds=VERY_SPARSE),
    check=check_no_conflict_serial,
    hard=_parallel_without_conflict,
    hard_case="samples overlapped in time, none in conflict",
    broken={"hogwild-atomic": "broken-hogwild-shared-gradient-buffer"},
))


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


variant("broken-hogwild-shared-gradient-buffer", of="hogwild-atomic",
        mistake="one gradient buffer for all cores, read at write time",
        replace={"gradient": _gradient_into_static_buffer, "update": _update_from_static_buffer})

# --- hogwild-bounded-overlap -----------------------------------------------------------------------


def check_bounded_overlap(result) -> str | None:
    run = _run_of(result)
    tau = result.params["tau"]
    for k, c in sorted(run.overlap_counts().items()):
        if c > tau:
            others = [i for i in run.span if i != k and run.overlapping(i, k)]
            return f"sample {k} overlaps {c} samples {others}, more than τ = {tau}"
        far = [i for i in run.span if run.overlapping(i, k) and abs(i - k) > tau]
        if far:
            return f"samples {k} and {far[0]} overlap but are {abs(far[0] - k)} apart, more than τ = {tau}"
    return None


def _overlap_at_bound(result) -> bool:
    tau = result.params["tau"]
    return tau >= 1 and any(c == tau for c in _run_of(result).overlap_counts().values())


register(Guarantee(
    name="hogwild-bounded-overlap",
    statement="with bounded overlap τ, every sample overlaps at most τ others in time, and overlapping samples "
              "i, k have |i − k| <= τ",
    source="seed 002, 'Convergence Rates for Hogwild!' (\"no more than τ samples processed, while a core is "
           "processing one\")",
    algorithms=HOGWILD,
    draw=lambda data, alg: _draw(data, alg, tau=st.integers(0, 2)),
    check=check_bounded_overlap,
    hard=_overlap_at_bound,
    hard_case="a sample overlapped exactly τ >= 1 others",
    broken={"hogwild-atomic": "broken-hogwild-overlap-off-by-one"},
    applies=lambda result: result.params.get("tau") is not None,     # a run without a bound τ states nothing
))

variant("broken-hogwild-overlap-off-by-one", of="hogwild-atomic",
        mistake="a sample may start while another in progress has overlap τ",
        replace={"bounded_overlap": lambda overlaps, tau: all(c <= tau for c in overlaps)})   # the mistake: <=


# --- hogwild-lock-mutual-exclusion ---------------------------------------------------------------

_LOCK = re.compile(r"p(\d+) receive lock x\[(\d+)\] k=(\d+) \[0 msgs\]")
_LOCKED_ACCESS = re.compile(r"p\d+ (read|write) x\[(\d+)\] k=(\d+)")
_UNLOCK = re.compile(r"p\d+ unlock k=(\d+)")


class _Sections:
    """The critical sections of a lock-mode run, from the schedule's event names alone: (k, v) is
    inside from k's ``lock x[v]`` step to its ``unlock`` step."""

    def __init__(self, events: list[str]):
        self.events = events
        self.lock: dict[tuple[int, int], int] = {}      # (k, v) -> the step that took v's lock
        self.core: dict[tuple[int, int], int] = {}
        self.unlock: dict[int, int] = {}                 # k -> its unlock step
        self.access: list[tuple[int, str, int, int]] = []
        self.twice: list[str] = []
        for pos, e in enumerate(events):
            if m := _LOCK.fullmatch(e):
                key = (int(m.group(3)), int(m.group(2)))
                if key in self.lock:
                    self.twice.append(f"sample {key[0]} took the lock of x[{key[1]}] twice")
                self.lock[key], self.core[key] = pos, int(m.group(1))
            elif m := _UNLOCK.fullmatch(e):
                if int(m.group(1)) in self.unlock:
                    self.twice.append(f"sample {m.group(1)} unlocked twice")
                self.unlock[int(m.group(1))] = pos
            elif m := _LOCKED_ACCESS.fullmatch(e):
                self.access.append((pos, m.group(1), int(m.group(3)), int(m.group(2))))

    def section(self, k: int, v: int) -> tuple[int, int]:
        return self.lock[(k, v)], self.unlock.get(k, len(self.events))


def _sections_of(result) -> _Sections:
    if getattr(result, "_hogwild_sections", None) is None:
        result._hogwild_sections = _Sections(result.trace.events)
    return result._hogwild_sections


def check_mutual_exclusion(result) -> str | None:
    run = _run_of(result)
    msg = run.problems_with_records()
    if msg or not run.finished:
        return msg
    sec = _sections_of(result)
    if sec.twice:
        return sec.twice[0]
    for r in run.recs:
        k = r.k
        locked = sorted(v for (i, v) in sec.lock if i == k)
        if locked != sorted(r.support):
            return f"sample {k} took the locks of {locked}, its support is {sorted(r.support)}"
        if k not in sec.unlock:
            return f"sample {k} never released its locks"
    for pos, op, k, v in sec.access:
        if (k, v) not in sec.lock:
            return f"sample {k}'s {op} of x[{v}] at step {pos} without taking x[{v}]'s lock"
        start, end = sec.section(k, v)
        if not start < pos < end:
            return (f"sample {k}'s {op} of x[{v}] at step {pos} lies outside its critical section "
                    f"(steps {start} .. {end})")
    inside: dict[int, tuple[int, int]] = {}             # v -> (the section's end, k) of the last one to enter
    for (k, v), start in sorted(sec.lock.items(), key=lambda item: item[1]):
        if v in inside and inside[v][0] > start:
            end, i = inside[v]
            return (f"two cores inside x[{v}]'s critical section at once: sample {i} (core {sec.core[(i, v)]}) took "
                    f"its lock at step {sec.lock[(i, v)]} and released it at step {end}, sample {k} (core "
                    f"{sec.core[(k, v)]}) took it at step {start}")
        inside[v] = max(inside.get(v, (-1, -1)), (sec.section(k, v)[1], k))
    return None


def _waited_for_a_lock(result) -> bool:
    """A core was ready to take a lock (its previous step done) while another sample held it."""
    sec = _sections_of(result)
    last_step: dict[int, int] = {}                      # core -> its previous step
    previous: dict[tuple[int, int], int] = {}
    for pos, e in enumerate(sec.events):
        core = e.split(" ", 1)[0]
        if core.startswith("p") and core[1:].isdigit():
            if m := _LOCK.fullmatch(e):
                previous[(int(m.group(3)), int(m.group(2)))] = last_step.get(int(core[1:]), -1)
            last_step[int(core[1:])] = pos
    for (k, v), taken in sec.lock.items():
        ready = previous.get((k, v), -1)
        if any(i != k and w == v and sec.lock[(i, w)] < taken and sec.section(i, w)[1] > ready
               for (i, w) in sec.lock):
            return True
    return False


register(Guarantee(
    name="hogwild-lock-mutual-exclusion",
    statement="lock mode: no two samples are ever inside the critical section of the same coordinate at once (from "
              "its lock step to its unlock step, read off the schedule); every sample locks exactly its support and "
              "reads and writes x[v] only inside v's section",
    source="seed 002, 'Challenges in Parallel SGD' (\"Approach 1: Coordinate or Lock\")",
    algorithms=("hogwild-lock",),
    draw=_draw,
    check=check_mutual_exclusion,
    hard=_waited_for_a_lock,
    hard_case="a core was ready to take a lock another sample held (the lock made it wait)",
    broken={"hogwild-lock": "broken-hogwild-lock-test-then-set"},
))


def _test_then_set(mem, v, k):
    # the mistake: the test and the set of the lock flag are two steps; another core may pass the
    # test between them (the step keeps the real lock's name: the test is where the core gets in)
    yield Receive(until=lambda ms: v not in mem.locks, match=lambda m: False, label=f"lock x[{v}] k={k}")
    yield Local(f"set lock x[{v}] k={k}")
    mem.locks[v] = k


variant("broken-hogwild-lock-test-then-set", of="hogwild-lock",
        mistake="the lock is a test, then a set one step later (not an atomic test-and-set)",
        replace={"lock": _test_then_set})

# --- hogwild-racy-lost-updates ---------------------------------------------------------------------


def _lost_by_chain(run: _Run) -> tuple[str | None, list[tuple[int, int]], np.ndarray]:
    """Replay the racy accesses: ``(problem, lost, RAM)``.  Every load must see the cell and every
    store must write what its load saw plus g_k[v] (bit for bit); a store *builds on* the store whose
    value its load saw.  The cell holds exactly the updates on the chain from its last store back to
    x_0; every other update of it is lost."""
    g = {(r.k, v): r.g[q] for r in run.recs for q, v in enumerate(r.support)}
    ram = run.x0.copy()
    last: dict[int, int] = {}                           # v -> the sample whose store the cell holds
    loaded: dict[tuple[int, int], tuple[float, int | None]] = {}
    builds_on: dict[tuple[int, int], int | None] = {}
    run.overwrites = 0                                  # (store, update it overwrote) pairs, for the hard case
    stored_at: dict[int, list[int]] = {}
    load_at: dict[tuple[int, int], int] = {}
    for pos, (op, k, v, value) in enumerate(run.mem):
        if op in ("read", "load"):
            if value != ram[v] or np.signbit(value) != np.signbit(ram[v]):
                return (f"sample {k}'s {op} of x[{v}] at access {pos} saw {value!r}, but the cell held "
                        f"{float(ram[v])!r}"), [], ram
            if op == "load":
                loaded[(k, v)] = (value, last.get(v))
                load_at[(k, v)] = pos
            continue
        if op != "store":
            return f"sample {k} updated x[{v}] with {op!r}, not a load and a store", [], ram
        if (k, v) not in loaded or (k, v) in builds_on:
            return f"sample {k}'s store of x[{v}] at access {pos} has no load of its own before it", [], ram
        base, seen = loaded.pop((k, v))
        want = base + g[(k, v)]
        if value != want:
            return (f"sample {k} stored x[{v}] = {value!r} at access {pos}, but its load saw {base!r} and g_{k}[{v}] = "
                    f"{float(g[(k, v)])!r}: a store must write what its load saw plus the update"), [], ram
        ram[v] = value
        builds_on[(k, v)] = seen
        last[v] = k
        run.overwrites += sum(1 for p in stored_at.get(v, []) if p > load_at[(k, v)])
        stored_at.setdefault(v, []).append(pos)
    missing = sorted(set(g) - set(builds_on))
    if missing:
        return f"updates never stored: (sample, coordinate) {missing[:5]}", [], ram
    kept = set()
    for v, k in last.items():
        while k is not None:
            kept.add((k, v))
            k = builds_on[(k, v)]
    return None, sorted(set(builds_on) - kept), ram


def check_racy_lost_updates(result) -> str | None:
    run = _run_of(result)
    msg = run.problems_with_records()
    if msg or not run.finished:
        return msg
    msg, lost, ram = _lost_by_chain(run)
    if msg:
        return msg
    reported = hogwild.lost_updates(result.trace)
    if reported != lost:
        return f"the run reports lost updates (sample, coordinate) {reported}; the accesses show {lost}"
    count = result.metrics.get("lost_updates")
    if count != len(lost):
        return (f"the run's lost_updates metric is {count}, but {len(lost)} updates were lost: "
                f"(sample, coordinate) {lost}")
    out = np.asarray([o for os in result.trace.outputs.values() for o in os][-1], dtype=np.float64)
    diff = bit_difference(out, ram, "the output", "the memory rebuilt from the accesses")
    if diff:
        return diff
    # the slide's form: x_0 plus every update but the reported lost ones, within the stores' rounding
    gone = set(reported)
    for v in range(run.problem.d):
        exact = Fraction(float(run.x0[v])) + sum((Fraction(float(r.g[r.support.index(v)])) for r in run.recs
                                                  if v in r.support and (r.k, v) not in gone), Fraction(0))
        slack = C * sum((abs(Fraction(value)) for op, k, w, value in run.mem if op == "store" and w == v), Fraction(0))
        if abs(Fraction(float(ram[v])) - exact) > slack:
            return (f"RAM x[{v}] = {float(ram[v])!r}, but x_0 + Σ g_k over the updates not reported lost = "
                    f"{float(exact)!r} (rounding allows {float(slack):.3g})")
    return None


def _lost_and_overwritten_twice_or_put_back(result) -> bool:
    """An update was lost, and the overwrites (a store over an update landed since its load) were not
    one per lost update: one was overwritten by two stores, or overwritten and then put back."""
    run = _run_of(result)
    if not run.finished or run.problems_with_records():
        return False
    msg, lost, _ = _lost_by_chain(run)
    return not msg and bool(lost) and run.overwrites != len(lost)


register(Guarantee(
    name="hogwild-racy-lost-updates",
    statement="racy mode: the RAM is x_0 plus every update except exactly those the run reports lost; each store "
              "writes what its load saw plus g_k[v], and an update is lost iff the cell's chain of stores back to x_0 "
              "does not hold it (recomputed from the access log)",
    source="seed 002, 'HOGWILD! as noisy SGD' (\"After T processed samples, the contents of RAM are\"); design notes, "
           "'Known deviations' (a Hogwild whose x[j] += g is not atomic and loses updates)",
    algorithms=("hogwild-racy",),
    # three or four cores (three stores in flight on one cell), and an overlap bound that allows it
    draw=lambda data, alg: _draw(data, alg, tau=st.one_of(st.none(), st.integers(2, 3)), kinds=CONTENDED,
                                 samples=st.integers(3, 5), cores=st.integers(3, 4)),
    check=check_racy_lost_updates,
    hard=_lost_and_overwritten_twice_or_put_back,
    hard_case="an update was lost, and one was overwritten by two stores or overwritten and put back",
    broken={"hogwild-racy": "broken-hogwild-racy-counts-overwrites"},
))


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


# the run is the racy mode's, step for step; what differs is how its metrics count the lost updates
# (no step of the run computes them, so there is no step to replace: the variant's metrics are its own)
variant("broken-hogwild-racy-counts-overwrites", of="hogwild-racy",
        mistake="counts at every store the updates landed since its load", metrics=_metrics_counting_overwrites)

replay_covers(_draw, *HOGWILD)
