"""HOGWILD! at coordinate granularity: atomic adds, racy read-modify-writes, or locks.

Seed 002 (002_34168ee93540180b.txt), slides "HOGWILD! 2011" and "HOGWILD! as noisy SGD"
(the pseudo-code), "Convergence Rates for Hogwild!" (bounded overlap τ, the perturbed
iterates), "Challenges in Parallel SGD" ("Approach 1: Coordinate or Lock", "Approach 2:
Don't Care (Lock-free Async.)").  Papers: Niu, Recht, Ré & Wright, "HOGWILD!: A Lock-Free
Approach to Parallelizing Stochastic Gradient Descent", NIPS 2011 (Algorithm 1); Mania,
Pan, Papailiopoulos, Recht, Ramchandran & Jordan, "Perturbed Iterate Analysis for
Asynchronous Stochastic Optimization", SIAM J. Optim. 2017.

Each of the ``n`` cores is one engine process; the shared memory is ``d`` cells, and every
access to a cell is one atomic step chosen by the adversary.

=========================================  =================================================
slide ("Each processor in parallel")       here (``core``)
=========================================  =================================================
sample function f_i                        the ``sample`` step: the run's k-th sampling,
                                           s_k drawn from the key ``(seed, STREAM_SAMPLER, k)``
                                           (SGD's draw of iteration k); enabled only while
                                           the bounded-overlap rule allows (below)
x = read shared memory                     one ``read x[v] k=K`` step per coordinate v of the
                                           support of f_{s_k}, in increasing order: x̂_k
g = −γ · ∇f_i(x)                           a job on the core's worker ``w<core>``:
                                           ``g = −γ ∇f_{s_k}(x̂_k)`` on the support
for v in the support of f do               per coordinate, in increasing order:
    x_v ← x_v + g_v                        ``atomic``: one ``add x[v]`` step (fetch-and-add);
                                           ``racy``: ``load x[v]`` then ``store x[v]`` (what a
                                           plain ``x[v] += g`` compiles to: updates can be lost);
                                           ``lock``: ``write x[v]`` under the coordinate's lock
=========================================  =================================================

Named steps (:class:`~asyncproof.reference.registry.Steps`), the lines above where
implementations go wrong: ``sample`` (s_k, :func:`sample_of`), ``bounded_overlap`` (the
``sample`` step's rule, :func:`overlap_below_tau`), ``lock`` (lock mode: :func:`take_lock`),
``read`` (x = read shared memory, one coordinate: :func:`read_coordinate`), ``gradient``
(g = −γ ∇f_i(x): :func:`sample_step`), ``update`` (g_v, the update's entry for coordinate v:
:func:`update_coordinate`) and ``write`` (atomic and lock modes, x_v ← x_v + g_v:
:func:`add_update`; the racy mode's load and store are written out in :func:`core`).

The three write modes are three registered algorithms, ``hogwild-atomic``,
``hogwild-racy`` and ``hogwild-lock``, not one with a ``mode`` parameter: their guarantees
differ (the RAM-content identity holds for atomic adds, updates are never lost with atomic
adds or locks, and are lost under some schedules of the racy mode), so ``asyncproof
verify`` shows one row per mode and guarantee, and ``asyncproof list`` says what each does.

**Bounded overlap τ** (slide "Convergence Rates for Hogwild!": "no more than τ samples
processed, while a core is processing one").  Sample k is *in progress* from its ``sample``
step to its last write (``lock``: its ``unlock`` step); two samples *overlap* when they
are in progress at the same time, and the overlap of a sample is the number of samples it
overlaps.  The engine's :class:`~asyncproof.reference.engine.Model` bounds delays of
messages and jobs, which is not this, so the rule is enforced here, as the enabling
condition of the ``sample`` step (a ``Receive`` that consumes nothing and is enabled only
while its condition holds): a core may start a new sample only while every sample in
progress has overlap < τ.  The new sample overlaps every sample in progress, so after it
starts all overlaps are still <= τ; ``tau = 0`` makes the run serial.  The adversary still
chooses every step among the enabled ones.  Consequence used by the perturbed-iterate
view: if samples i < k overlap, every sample sampled between them overlaps i too, so
k − i <= τ (the slide's window "i >= k − τ", "i <= k + τ").

**The perturbed-iterate view** (slide "HOGWILD! as noisy SGD").  ``s_k`` is the k-th
*sampled* data point (k counts ``sample`` steps, as the slide's "Def: s_k is the k-th
sampled data point"; Mania et al. discuss other orderings, e.g. by the time of the
first read, and Leblond et al. 2017 order by the end of the reads).  The serial iterates
are ``x_{k+1} = x_k + g_k``, ``g_k = −γ ∇f_{s_k}(x̂_k)``, summed in k order, and x̂_k is
what sample k read.  Every sample records ``"sample"`` (:class:`Sample`): its ``k``, ``j`` =
s_k, ``core``, ``support``, ``xhat`` (x̂_k on the support, in its order), ``grad`` =
∇f_{s_k}(x̂_k) and ``g`` (the update written) on the support, ``sampled_at`` and ``done_at``;
the core that completes the last sample records ``"perturbed"`` (:data:`PERTURBED`): x_k on
the support of s_k for every k, computed from x_0 and the recorded ``g`` in k order, and
outputs the RAM.  Outside its support x̂_k is not read; it is taken
to be x_k there (∇f_{s_k} does not depend on those coordinates), so the lecture's identity
``x̂_k − x_k = Σ_{i=k−τ, i≠k}^{k+τ} γ S_i^k ∇f_{s_i}(x̂_i)`` is about the support.  Every
access to memory records ``"mem"`` (:data:`MEM`): ``(op, k, v, value)`` with op one of ``read``,
``add``, ``load``, ``store``, ``write``, and the value read or written.

Readings and deviations (each tested in ``tests/shared_memory/test_hogwild.py``):

* **Reads are of the support, one coordinate at a time** (the issue's coordinate
  granularity; the slide's "x = read shared memory" reads the whole vector, but
  coordinates outside the support cannot change ∇f_{s_k}).  A read is not atomic across
  coordinates: x̂_k can mix values no memory state ever held (Mania et al.: "x̂_k may not
  be equal to any x_j").
* **The slide's g is the scaled step** ``−γ ∇f_i(x)``, and records keep its name ``g``.
  For a constrained problem (``problem.constrained``: graph cuts), the step is the
  projected one, ``g = P(x̂ − γ ∇f_i(x̂)) − x̂`` on the support (P = projection of the two
  nodes' blocks onto the simplex), and what is written is that ``g``, added like any
  other: with races the memory can leave the simplex; ``metrics`` report the loss at
  the projected output and the distance from the simplex.  Niu et al. give no
  projection in Algorithm 1; this is the usual projected reading.
* **Lock mode** ("Approach 1: Coordinate or Lock") is per-coordinate two-phase
  locking: lock every coordinate of the support in increasing order (:func:`take_lock`:
  one ``lock`` step, enabled only while the lock is free, that tests and sets it at once:
  no deadlock, and no other core can take the lock between the test and the set), read,
  compute, write, release all in one ``unlock`` step (:func:`release_locks`).
  Conflicting samples are serialised, others run in parallel.
* **Lost updates** (racy mode) are the updates the memory no longer holds at the end
  (:func:`lost_updates`): a store puts back what its load saw plus its own update, so
  whatever landed on the cell in between is overwritten; an update overwritten that way
  is *not* lost if a later store had loaded it first and puts it back.  Counting, at each
  store, the updates that landed since its load would count an update twice when two
  stores overwrite it, and count one that a later store restored.
* **An update rule of the problem's own** (sparse-svm ``rule="v03a"``, the original HOGWILD!
  code's SVM update: hinge step, then ``w_u *= 1 − γμ/deg_u``): ``g`` is that update computed
  from x̂ as an additive step, ``g_u = (x̂_u + γ y z_u [y z^T x̂ < 1])(1 − γμ/deg_u) − x̂_u``, and
  is added like any other (``reference/problems/sparse_svm.py`` has the table and what it means
  under races: the shrink scales the value read, not updates that landed after the read);
  ``grad`` is still ∇f_j(x̂) of the rule's objective.
* The gradient is a job (``start``, ``finish``, then the core receives it), so the
  timed adversary can give cores compute times; the read of sample k is complete when
  its job starts.
* Cores are not bound to data: any core may draw any sample (shared memory).  ``T``
  counts samples over all cores; a core stops at its ``sample`` step once T have been
  drawn.

>>> from asyncproof.reference.schedule import run_algorithm
>>> r = run_algorithm("hogwild-atomic", params={"n": 2, "T": 6, "tau": 1}, seed=3, adversary="random:seed=1")
>>> r.metrics["max_overlap"] <= 1, len(r.trace.records(Sample))
(True, 6)
>>> r.trace.events[:3]
['p0 receive sample [0 msgs]', 'p0 read x[4] k=0', 'p0 read x[9] k=0']
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import partial
from typing import Callable

import numpy as np

from ..baselines._common import gamma_param, start_point, x0_param
from ..engine import Local, Output, ProcessSpec, Receive, System, compute
from ..errors import InputError
from ..records import Record, Value, declare, record
from ..registry import (DICT_BYTES, INT_BYTES, MAX_ITERATIONS, MAX_PROCESSES, Algorithm, Cost, MemoryEstimate,
                        Steps, arrays_cost, bounded_int, events_cost, records_cost, register)
from ..rng import draw_batch
from .conflict import supports_of

MODES = ("atomic", "racy", "lock")
_WRITE_OP = {"atomic": "add", "lock": "write"}


@record("sample")
class Sample(Record):
    """What sample k did (Niu et al.'s Algorithm 1, one pass of a core's loop; Mania et al.'s
    perturbed iterate x̂_k), recorded once its last write (lock mode: its unlock) is done."""
    k: int                   # the run's k-th sampling (k counts ``sample`` steps)
    j: int                   # s_k: the sampled data point f_{s_k}
    core: int                # the core (process) that processed it
    support: list            # the support of f_{s_k} (the coordinates read and written), increasing
    xhat: np.ndarray         # x̂_k on the support, in its order: what the core read
    grad: np.ndarray         # ∇f_{s_k}(x̂_k) on the support
    g: np.ndarray            # the slide's g = −γ ∇f_{s_k}(x̂_k) (constrained: the projected step), written
    sampled_at: int          # the step of its ``sample`` event (its start)
    done_at: int             # the step of its last write (lock mode: its unlock): its end


#: one access to a memory cell: ``(op, k, v, value)``, op one of read, add, load, store, write (a
#: tuple, not a :class:`Record`: the stored form of every run, and every saved schedule's digest)
MEM = Value("mem", "one access to the shared memory: (op, k, v, the value read or written)", kinds=(tuple,))
#: x_k on the support of s_k, for k = 0 .. T-1 (the serial iterates of the perturbed-iterate view)
PERTURBED = Value("perturbed", "the serial iterates x_k on the support of s_k, k = 0 .. T-1", kinds=(list,))
#: what every HOGWILD! mode records
RECORDS = declare(Sample, MEM, PERTURBED)


def sample_of(seed: int, k: int, m: int) -> int:
    """s_k: the sample of the run's k-th sampling, SGD's draw of iteration k."""
    return int(draw_batch(seed, k, m, 1)[0])


def sample_step(problem, j: int, support: np.ndarray, xhat: np.ndarray, gamma: float):
    """``(∇f_j(x̂) on the support, the slide's g on the support)``: g = −γ ∇f_j(x̂), or for a
    constrained problem the projected step P(x̂ − γ ∇f_j(x̂)) − x̂, or for a problem with an update
    rule of its own (sparse-svm ``rule="v03a"``) its ``rule_step`` at x̂ (x̂ given on the support)."""
    x = np.zeros(problem.d)
    x[support] = xhat
    grad = problem.sample_grad(x, j)[support]
    if problem.constrained:
        return grad, problem.project_support(j, xhat - gamma * grad) - xhat
    if problem.rule != "gradient":
        return grad, problem.rule_step(x, j, gamma)
    return grad, -(gamma * grad)


def overlap_below_tau(overlaps, tau: int) -> bool:
    """The bounded-overlap rule: a new sample may start only while every sample in progress has
    overlap < τ (``overlaps``: theirs so far)."""
    return all(c < tau for c in overlaps)


@dataclass
class SharedMemory:
    """The RAM (``x``) and the run's books: the sampling counter k, the samples in progress
    with their overlap counts, the coordinate locks, and what finished samples recorded."""
    x: np.ndarray
    T: int
    tau: int | None
    next_k: int = 0
    in_progress: dict = field(default_factory=dict)      # k -> overlap so far
    locks: dict = field(default_factory=dict)            # coordinate -> k holding its lock
    finished: dict = field(default_factory=dict)         # k -> its :class:`Sample`

    def may_sample(self, bounded_overlap: Callable) -> bool:
        """The ``sample`` step's enabling condition: the rule ``bounded_overlap`` (the step of that
        name) allows a new sample (or T samples are drawn: the step then lets the core stop)."""
        if self.next_k >= self.T or self.tau is None:
            return True
        return bounded_overlap(self.in_progress.values(), self.tau)

    def begin(self) -> int:
        k = self.next_k
        self.next_k += 1
        for a in self.in_progress:
            self.in_progress[a] += 1
        self.in_progress[k] = len(self.in_progress)
        return k

    def end(self, k: int, done: Sample) -> None:
        del self.in_progress[k]
        self.finished[k] = done


def take_lock(mem: SharedMemory, v: int, k: int):
    """Sample k takes coordinate v's lock: one step, enabled only while the lock is free, that tests
    and sets it (an atomic test-and-set, so no other core can take the lock in between)."""
    yield Receive(until=lambda ms: v not in mem.locks, match=lambda m: False, label=f"lock x[{v}] k={k}")
    mem.locks[v] = k


def release_locks(mem: SharedMemory, support) -> None:
    """Release the support's locks (clearing a lock's flag, as ``locked[v] = false`` does)."""
    for v in support:
        mem.locks.pop(int(v), None)


def read_coordinate(mem: SharedMemory, v: int, local: dict):
    """x = read shared memory, one coordinate: the value cell v holds now (``local`` is the core's
    own memory, which a read of shared memory does not consult)."""
    return mem.x[v]


def update_coordinate(g: np.ndarray, q: int, v: int):
    """g_v: the entry of the core's update g (given on the support) for v, the support's q-th coordinate."""
    return g[q]


def add_update(mem: SharedMemory, v: int, xhat_v, g_v) -> None:
    """x_v ← x_v + g_v: the update added to what the cell holds now (one atomic add, or a write under
    v's lock), not to ``xhat_v``, what the core read of it."""
    mem.x[v] = mem.x[v] + g_v


def core(problem, supports, mem: SharedMemory, gamma: float, seed: int, mode: str, pid: int, x0: np.ndarray,
         steps: Steps):
    """One core: ``while`` samples remain, sample, read, compute, write (the slide, line by line)."""
    def body(ctx):
        local: dict = {}                   # the core's own memory
        while True:
            # sample function f_i: enabled only while the bounded-overlap rule allows
            yield Receive(until=lambda ms: mem.may_sample(steps.bounded_overlap), match=lambda m: False,
                          label="sample")
            if mem.next_k >= mem.T:
                return
            k = mem.begin()
            sampled_at = ctx.step
            j = steps.sample(seed, k, problem.m)
            support = supports[j]
            if mode == "lock":             # in increasing coordinate order: no deadlock
                for v in sorted(support):
                    yield from steps.lock(mem, int(v), k)
            # x = read shared memory: the support, one coordinate at a time
            xhat = np.empty(len(support))
            for q, v in enumerate(support):
                yield Local(f"read x[{v}] k={k}")
                xhat[q] = steps.read(mem, int(v), local)
                ctx.record("mem", ("read", k, int(v), float(xhat[q])))
            # g = −γ ∇f_i(x)
            grad, g = yield from compute(f"w{pid}", f"grad f_{j} k={k}",
                                         lambda j=j, support=support, xhat=xhat.copy():
                                         steps.gradient(problem, j, support, xhat, gamma))
            # for v in the support of f: x_v ← x_v + g_v
            update = partial(steps.update, g)
            for q, v in enumerate(support):
                v = int(v)
                if mode == "racy":
                    yield Local(f"load x[{v}] k={k}")
                    loaded = mem.x[v]
                    ctx.record("mem", ("load", k, v, float(loaded)))
                    yield Local(f"store x[{v}] k={k}")
                    mem.x[v] = loaded + update(q, v)
                    ctx.record("mem", ("store", k, v, float(mem.x[v])))
                else:
                    yield Local(f"{_WRITE_OP[mode]} x[{v}] k={k}")
                    steps.write(mem, v, xhat[q], update(q, v))
                    ctx.record("mem", (_WRITE_OP[mode], k, v, float(mem.x[v])))
            if mode == "lock":
                yield Local(f"unlock k={k}")
                release_locks(mem, support)
            done = Sample(k=k, j=j, core=pid, support=[int(v) for v in support], xhat=xhat, grad=grad, g=g,
                          sampled_at=sampled_at, done_at=ctx.step)
            mem.end(k, done)
            ctx.record(done)
            if len(mem.finished) == mem.T:
                ctx.record(PERTURBED.key, serial_iterates(x0, [mem.finished[i] for i in range(mem.T)]))
                yield Output(mem.x.copy())
    return body


def serial_iterates(x0: np.ndarray, records: list[Sample]) -> list[np.ndarray]:
    """x_k on the support of s_k, for k = 0 .. T-1: x_{k+1} = x_k + g_k, in k order."""
    x = np.array(x0, dtype=np.float64)
    out = []
    for r in records:
        s = np.asarray(r.support, dtype=np.int64)
        out.append(x[s].copy())
        x[s] = x[s] + r.g
    return out


def build(problem, params, seed, steps: Steps, mode: str):
    """The system of ``hogwild-<mode>`` (each registered algorithm binds its ``mode``)."""
    if mode not in MODES:
        raise InputError(f"unknown HOGWILD! write mode {mode!r}; known: {', '.join(MODES)}")
    try:
        x0 = problem.check_feasible(start_point(problem, params), "x0")
    except InputError as e:
        raise InputError(f"hogwild-{mode}: {e}") from None
    supports = supports_of(problem)
    mem = SharedMemory(x0.copy(), params["T"], params["tau"])
    return System([ProcessSpec(core(problem, supports, mem, params["gamma"], seed, mode, p, x0, steps))
                   for p in range(params["n"])], seed=seed)


# --------------------------------------------------------------------------------------------
# reading a run: overlaps, lost updates, the perturbed view, the serial run, metrics


def samples(trace) -> list[Sample]:
    """The :class:`Sample` records in k order."""
    return sorted(trace.records(Sample), key=lambda r: r.k)


def overlaps(trace) -> dict[int, set]:
    """k -> the samples that were in progress at some step while k was (from the steps recorded)."""
    recs = samples(trace)
    out = {r.k: set() for r in recs}
    for a in recs:
        for b in recs:
            if a.k < b.k and b.sampled_at < a.done_at:
                out[a.k].add(b.k)
                out[b.k].add(a.k)
    return out


def lost_updates(trace) -> list[tuple[int, int]]:
    """``(i, v)`` for every update of coordinate v by sample i that the memory no longer holds at the
    end, in increasing order.  Each cell holds a set of updates: a ``load`` takes a copy of it, a
    ``store`` puts back the copy plus its own update (overwriting whatever landed in between), an
    ``add`` or ``write`` adds its update to the cell's set."""
    held: dict[int, frozenset] = {}
    loaded: dict[tuple[int, int], frozenset] = {}
    landed = []
    for op, k, v, _ in trace.records(MEM.key):
        if op == "load":
            loaded[(k, v)] = held.get(v, frozenset())
        elif op in ("store", "add", "write"):
            # a store puts back what its load saw; an add (or a write under the lock) adds to the cell
            base = loaded.pop((k, v), frozenset()) if op == "store" else held.get(v, frozenset())
            held[v] = base | {k}
            landed.append((k, v))
    return sorted((k, v) for k, v in landed if k not in held[v])


def serial_sgd(problem, js: list[int], x0: np.ndarray, gamma: float) -> np.ndarray:
    """Serial SGD on the samples ``js`` (the same step rule: projected for a constrained problem)."""
    x = np.array(x0, dtype=np.float64)
    for j in js:
        s = problem.support(j)
        _, g = sample_step(problem, j, s, x[s], gamma)
        x[s] = x[s] + g
    return x


def noise_terms(trace, gamma: float) -> list[float]:
    """Per sample k, the asynchrony noise ``γ ⟨x̂_k − x_k, ∇f_{s_k}(x̂_k)⟩`` (slide "Asynchrony
    Noise"; on the support, the only coordinates where ∇f_{s_k} is nonzero)."""
    recs = samples(trace)
    per = trace.records(PERTURBED.key)
    if not per:
        return []
    return [gamma * float(np.dot(r.xhat - xk, r.grad)) for r, xk in zip(recs, per[-1])]


def metrics(trace, problem, params) -> dict:
    m = {"steps": len(trace.events), "stopped": trace.stopped}
    outs = [o for out in trace.outputs.values() for o in out]
    recs = samples(trace)
    m["samples"] = len(recs)
    if recs:
        ov = overlaps(trace)
        m["max_overlap"] = max(len(s) for s in ov.values())
        m["noisy_reads"] = sum(1 for r, xk in zip(recs, (trace.records(PERTURBED.key) or [[]])[-1])
                               if not np.array_equal(r.xhat, xk))
    m["lost_updates"] = len(lost_updates(trace))
    if not outs:
        m["finished"] = False
        if trace.stopped == "diverged":     # the loss of the RAM as the last (finite) write left it
            x = start_point(problem, params)
            for op, _, v, value in trace.records(MEM.key):
                if op not in ("read", "load"):
                    x[v] = value
            m["loss"] = float(problem.value(problem.project(x) if problem.constrained else x))
            if x.size <= 6:
                m["x"] = [float(v) for v in x]
        return m
    x = np.asarray(outs[-1], dtype=np.float64)
    m["finished"] = True
    if problem.constrained:
        xp = problem.project(x)
        m["infeasibility"] = float(math.sqrt(float(np.sum((x - xp) ** 2))))
        x = xp
    m["loss"] = float(problem.value(x))
    serial = serial_sgd(problem, [r.j for r in recs], start_point(problem, params), params["gamma"])
    if problem.constrained:
        serial = problem.project(serial)
    m["dist_to_serial"] = float(math.sqrt(float(np.sum((x - serial) ** 2))))
    noise = noise_terms(trace, params["gamma"])
    if noise:
        m["mean_noise"] = float(np.mean(np.abs(noise)))
    if x.size <= 6:
        m["x"] = [float(v) for v in x]
    return m


PARAMS = {
    "gamma": gamma_param(),
    "T": bounded_int("T", 50, "number of samples k = 0 .. T-1, over all cores", 1, MAX_ITERATIONS, "T (samples)"),
    "n": bounded_int("n", 4, "cores: processes sampling and updating in parallel", 1, MAX_PROCESSES, "n (cores)"),
    # a sample overlaps at most the T - 1 others: a larger τ is no bound at all
    "tau": bounded_int("tau", None, "bounded overlap τ: a sample overlaps at most τ others (default: unbounded)",
                       0, MAX_ITERATIONS, "tau (bounded overlap)"),
    "x0": x0_param(),
}


def support_size(problem, probe: int = 256) -> int:
    """The largest support among the first ``probe`` samples (d for a dense problem): the
    coordinates a sample reads and writes, for the memory estimates."""
    return max(len(problem.support(j)) for j in range(min(problem.m, probe)))


def memory(problem, p, mode: str = "atomic") -> MemoryEstimate:
    """Per sample with a support of s coordinates: a sample step, s reads, a job's start and
    finish, s writes (2s: a load and a store when racy; s lock steps and an unlock with locks),
    each read and write recorded; the sample's record (support, x̂, gradient, update) recorded
    and kept, and its serial iterate x_k at the end.  Per core, its process."""
    T, n, s = p["T"], p["n"], support_size(problem)
    writes = 2 if mode == "racy" else 1
    per = 3 + s * (1 + writes) + (s + 1 if mode == "lock" else 0)
    return MemoryEstimate(
        events_cost(T * per + 2 * n, f"T = {T} samples x {per} (support s = {s}, {mode}) + 2n", ("T",)),
        records_cost(T * s * (1 + writes), 100, f"T = {T} samples x {1 + writes}s reads and writes", ("T",)),
        records_cost(2 * T, DICT_BYTES + s * INT_BYTES, f"T = {T} sample records, recorded and kept", ("T",)),
        arrays_cost(8 * T, s, f"T = {T} samples x 8 (x̂, gradient, update, twice; x_k, twice)", ("T",)),
        Cost(f"n = {n} cores", n * 3000 + 8 * problem.d, ("n",)))

_SUMMARY = {
    "atomic": "HOGWILD!, atomic adds: per-coordinate reads, x_v += g_v as one fetch-and-add",
    "racy": "HOGWILD!, racy x_v += g_v: load then store per coordinate, so updates can be lost",
    "lock": "HOGWILD! baseline 'coordinate or lock': per-coordinate locks over the support, in order",
}

#: each mode's named steps: the lock mode takes locks, the racy mode writes by a load and a store (no ``write``)
STEPS = {
    "atomic": Steps(sample=sample_of, bounded_overlap=overlap_below_tau, read=read_coordinate, gradient=sample_step,
                    update=update_coordinate, write=add_update),
    "racy": Steps(sample=sample_of, bounded_overlap=overlap_below_tau, read=read_coordinate, gradient=sample_step,
                  update=update_coordinate),
    "lock": Steps(sample=sample_of, bounded_overlap=overlap_below_tau, lock=take_lock, read=read_coordinate,
                  gradient=sample_step, update=update_coordinate, write=add_update),
}

ALGORITHMS = {mode: register(Algorithm(
    name=f"hogwild-{mode}",
    summary=_SUMMARY[mode],
    source="seed 002, slides 'HOGWILD! 2011', 'HOGWILD! as noisy SGD', 'Convergence Rates for Hogwild!'; "
           "Niu et al. 2011, Algorithm 1; Mania et al. 2017",
    params=PARAMS,
    build=partial(build, mode=mode),
    steps=STEPS[mode],
    metrics=metrics,
    default_problem="sparse-svm",
    max_steps=lambda p: 10_000_000,
    family="shared-memory",
    memory=lambda problem, params, mode=mode: memory(problem, params, mode),
    records=RECORDS,
)) for mode in MODES}
