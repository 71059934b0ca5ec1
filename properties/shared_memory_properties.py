"""Guarantees of HOGWILD! (seed 002, "HOGWILD! as noisy SGD", "Convergence Rates for Hogwild!").

Every check rebuilds what happened from the run's own record of it: the **schedule**
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
"""

from __future__ import annotations

import re
from fractions import Fraction

import numpy as np
from hypothesis import strategies as st

from ..reference.rng import draw_batch
from ..reference.schedule import run_algorithm
from ..reference.shared_memory.hogwild import sample_step, serial_sgd
from . import broken_shared_memory  # noqa: F401  (registers the broken variants)
from .baseline_properties import bit_difference, replay_covers
from .guarantees import Case, Guarantee, register
from .strategies import seeds, step_sizes

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

#: unit roundoff of float64 and the bound on one addition's error relative to its result
U = Fraction(1, 2 ** 53)
C = U / (1 - U)


def _draw(data, algorithm: str, tau=None, kinds=SPARSE, samples=st.integers(2, 4)) -> Case:
    name = data.draw(st.sampled_from(sorted(kinds)), label="problem")
    params = {"n": data.draw(st.integers(2, 3), label="n"), "T": data.draw(samples, label="T"),
              "gamma": data.draw(step_sizes(), label="gamma"),
              "tau": data.draw(tau if tau is not None else st.one_of(st.none(), st.integers(1, 3)), label="tau")}
    problem = {"name": name, "params": data.draw(kinds[name], label="problem params")}
    return Case(algorithm, problem, params, data.draw(seeds(), label="seed"))


# --- what the run did, rebuilt from its schedule and records ---------------------------------------

_WRITE = re.compile(r"p\d+ (?:add|store|write) x\[(\d+)\] k=(\d+)")
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
        self.recs = sorted(tr.observed("sample"), key=lambda r: r["k"])
        self.mem = tr.observed("mem")
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
        if [r["k"] for r in self.recs] != list(range(self.T)):
            return f"the run finished with samples {[r['k'] for r in self.recs]} recorded, not 0 .. {self.T - 1}"
        for r in self.recs:
            k, j = r["k"], r["j"]
            want = int(draw_batch(self.result.schedule.seed, k, self.problem.m, 1)[0])
            if j != want:
                return f"sample k = {k} is f_{j}, but the k-th keyed draw is f_{want}"
            if r["support"] != self.problem.support(j).tolist():
                return f"sample k = {k} recorded support {r['support']}, f_{j}'s is {self.problem.support(j).tolist()}"
            grad, g = sample_step(self.problem, j, np.asarray(r["support"]), r["xhat"], self.gamma)
            diff = (bit_difference(r["grad"], grad, f"∇f_{j}(x̂_{k}) as recorded", "its recomputation from x̂_k")
                    or bit_difference(r["g"], g, f"the update g_{k} as recorded", "−γ ∇f_{s_k}(x̂_k) recomputed"))
            if diff:
                return diff
        return None

    def overlapping(self, i: int, k: int) -> bool:
        (a, b), (c, d) = self.span[min(i, k)], self.span[max(i, k)]
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
            s = np.asarray(r["support"], dtype=np.int64)
            x[s] = x[s] + r["g"]
            xs.append(x)
        return xs


def _replay_memory(run: _Run) -> str | None:
    """The cells rebuilt from the access log: a read sees the cell; a write (add, write, store) of
    sample k leaves the cell at its value just before plus g_k[v]; every (k, v) lands once; the
    output is the memory."""
    ram = run.x0.copy()
    g = {(r["k"], v): r["g"][q] for r in run.recs for q, v in enumerate(r["support"])}
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
    per = result.trace.observed("perturbed")
    for r, xk in zip(run.recs, per[-1] if per else []):
        diff = bit_difference(xk, xs[r["k"]][r["support"]], f"x_{r['k']} as recorded", "x_0 + g_0 + ... + g_(k-1)")
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
        k = r["k"]
        for q, v in enumerate(r["support"]):
            read_at = reads[(k, v)]
            rhs, used = Fraction(0), []
            for o in run.recs:
                i = o["k"]
                if i == k or v not in o["support"]:
                    continue
                before = landed[(i, v)] < read_at
                S = 1 if (i < k and not before) else (-1 if (i > k and before) else 0)
                if S == 0:
                    continue
                if not run.overlapping(i, k) or abs(i - k) > omega or (tau is not None and abs(i - k) > tau):
                    return (f"S_{i}^{k}[{v}] = {S}, but samples {i} and {k} "
                            + ("do not overlap in time" if not run.overlapping(i, k)
                               else f"are {abs(i - k)} apart, more than τ = {tau if tau is not None else omega}"))
                rhs += S * -Fraction(float(o["g"][o["support"].index(v)]))
                used.append((i, S))
            lhs = Fraction(float(r["xhat"][q])) - Fraction(float(xs[k][v]))
            slack = C * (sum(abs(Fraction(float(val))) for pos, val in after.get(v, []) if pos < read_at)
                         + sum(abs(Fraction(float(xs[i + 1][v]))) for i in range(k) if v in run.recs[i]["support"]))
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
            for v in set(r["support"]) & set(o["support"]):
                i, k = o["k"], r["k"]
                if i != k and (landed[(i, v)] < reads[(k, v)]) == (i > k) and o["g"][o["support"].index(v)] != 0:
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
        exact = Fraction(float(run.x0[v])) + sum((Fraction(float(r["g"][r["support"].index(v)]))
                                                  for r in run.recs if v in r["support"]), Fraction(0))
        if abs(Fraction(float(ram[v])) - exact) > slack_of.get(v, Fraction(0)):
            return (f"RAM x[{v}] = {float(ram[v])!r}, but x_0 − γ Σ_k ∇f_(s_k)(x̂_k) = {float(exact)!r} "
                    f"(rounding allows {float(slack_of.get(v, 0)):.3g})")
    return None


def _adds_out_of_order(result) -> bool:
    """Some coordinate's updates landed out of sample order (commutativity is needed)."""
    last: dict[int, int] = {}
    for op, k, v, _ in result.trace.observed("mem"):
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
            if a["k"] < b["k"] and run.overlapping(a["k"], b["k"]) and set(a["support"]) & set(b["support"]):
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

# --- hogwild-no-conflict-serial --------------------------------------------------------------------


def _conflict_free(run: _Run) -> bool:
    return not any(run.overlapping(a["k"], b["k"]) and set(a["support"]) & set(b["support"])
                   for a in run.recs for b in run.recs if a["k"] < b["k"])


def check_no_conflict_serial(result) -> str | None:
    run = _run_of(result)
    msg = run.problems_with_records()
    if msg or not run.finished or not _conflict_free(run):
        return msg
    xs = run.serial()
    for r in run.recs:
        diff = bit_difference(r["xhat"], xs[r["k"]][r["support"]], f"x̂_{r['k']} (no conflict)", f"x_{r['k']}")
        if diff:
            return diff
    s = result.schedule
    out = np.asarray([o for os in result.trace.outputs.values() for o in os][-1], dtype=np.float64)
    if run.problem.constrained:
        serial, what = serial_sgd(run.problem, [r["j"] for r in run.recs], run.x0, run.gamma), "serial projected SGD"
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
))

replay_covers(_draw, *HOGWILD)
