"""Serially-equivalent conflict-free parallel SGD, CYCLADES-style (seed 002).

Seed 002 (002_34168ee93540180b.txt), slides "Reproducibility" / "Serial Equivalence" (the
lecture's closing question: ``A_serial(S, π) = A_parallel(S, π)`` "for all data sets S, for all
data order π (data points can be arbitrarily repeated)") and "Challenges in Parallel SGD"
("No conflict => 2 parallel iterations = 2 serial iterations").  Paper: Pan, Lam, Tu,
Papailiopoulos, Zhang, Jordan, Ramchandran, Ré & Recht, "Cyclades: Conflict-free
Asynchronous Machine Learning", NIPS 2016, Algorithm 1 (left column below, as we read it;
the lecture gives no pseudo-code of its own).

The threads are engine processes sharing the memory ``x`` (``d`` cells); every access to a
cell is one atomic step chosen by the adversary, as in :mod:`.hogwild`.

=======================================================  ===========================================
Pan et al. 2016, Algorithm 1                             here (``thread``)
=======================================================  ===========================================
Input: G_u, T, B                                         the supports (:func:`.conflict.supports_of`),
                                                         ``T``, ``batch`` = B
Sample n_b = T/B subgraphs G_u^1 .. G_u^{n_b}            the data order π_0 .. π_{T−1} (SGD's keyed
                                                         draws, or ``order``); batch b is
                                                         π_{bB} .. π_{(b+1)B − 1} (:func:`data_order`)
Cores compute in parallel CCs for sampled subgraphs      :func:`plan_batch`: the batch's conflict graph
                                                         (:func:`.conflict.conflict_graph`), its
                                                         connected components (networkx)
for batch i = 1 : n_b do                                 ``for b in range(batches)``
  Allocation of C_1^i .. C_{m_i}^i to P cores            :func:`allocate`: greedy, largest first
  for each core in parallel do                           one engine process per thread
    for each allocated component C do                    ``for t in work``: the thread's components
      for each update j (in order) from C do             one after another, each in batch order
        x_{S_j} = u_j(x_{S_j}, f_j)                      ``read x[v] t=..`` per coordinate of S_j,
                                                         a job ``grad f_j t=..``, ``add x[v] t=..``
                                                         per coordinate
                                                         ``barrier b=..``: every thread waits for all
Output: x                                                thread 0: ``Output(x)`` after the last barrier
=======================================================  ===========================================

**Serial equivalence.**  The serial algorithm is SGD on π: ``x_{t+1} = x_t − γ ∇f_{π_t}(x_t)``,
the registered ``sgd`` with the same ``T``, seed, ``x0`` and ``order`` (for a constrained
problem, graph cuts, the projected step of :func:`.hogwild.sample_step`, whose serial loop is
:func:`.hogwild.serial_sgd`).  Why the parallel run equals it bit for bit under every
schedule: two samples of a batch that share a coordinate are in the same component, so on
the same thread, in batch order; samples on different threads touch disjoint coordinates, so
a sample reads exactly what the serial run reads at its position (every earlier sample of the
batch that touches those coordinates has already written them, no later one has), computes
the same floats, and adds them to the same values; batches are separated by a barrier.
Nothing depends on the interleaving, so ``for every interleaving, batch size and thread
count`` the output is SGD's ``x_T``.

Readings and deviations (each tested in ``tests/shared_memory/test_cyclades.py``):

* **The data order is SGD's.**  π_t is SGD's draw of iteration t, keyed ``(seed,
  STREAM_SAMPLER, t)`` (uniform with replacement, so a point can repeat, also inside a
  batch), or ``order[t mod len(order)]`` when ``order`` is given, exactly as ``sgd`` reads
  them: batch b is a function of ``(seed, b)`` through its iterations bB .. (b+1)B − 1.  Pan
  et al. sample each batch's updates uniformly at random; serial equivalence holds for any
  π, and the property draws explicit orders as well (the lecture's "for all π").
* **The conflict graph of a batch has one node per position**, not per sample: a point
  repeated in a batch conflicts with itself (same support), so both occurrences are in one
  component, in order.  (A point with an empty support is a component of its own.)
* **Batches are consecutive slices of π of size B**; the last one is shorter when B does
  not divide T.  ``batch`` >= 1; ``batch = 1`` is serial SGD with extra barriers.
* **Allocation** (the paper balances load without fixing a rule): components sorted by size,
  largest first (ties: the earlier first position), each given to the thread with the fewest
  samples so far (ties: the lowest thread).  A thread processes its components in the order
  of their first positions, each component's samples in batch order.  Deterministic: a
  function of the batch only.
* **Granularity** is :mod:`.hogwild`'s: the reads of S_j one coordinate at a time, the
  gradient as a job on the thread's worker ``w<thread>`` (so the timed adversary applies),
  the update one atomic ``add`` per coordinate.  Within a batch no two threads touch the
  same cell, so an add and a plain write of x̂ + g are the same; the add keeps the step
  HOGWILD!'s atomic mode takes.
* **The barrier** is a step ``barrier b=..`` of every thread, enabled once every thread has
  finished its work of batch b (:func:`barrier_open`; a thread with no component waits there
  at once).  It is what keeps a point of batch b + 1 from reading a coordinate that a
  conflicting point of batch b, on another thread, has not yet updated.  The
  plan of a batch is computed when the first thread reaches it and recorded by thread 0
  (``"batch"``, :class:`BatchPlan`: its positions, samples, components and allocation).

Named steps (:class:`~asyncproof.reference.registry.Steps`): ``work`` (the allocation read as
each thread's updates, in order: :meth:`Batch.work`) and ``barrier`` (when a batch's barrier
opens: :func:`barrier_open`).

Thread 0 records the data order π (``"order"``, :data:`ORDER`); every point records
``"sample"`` (:class:`Update`): ``t`` (its position in π), ``j`` = π_t, ``batch``, ``thread``,
``support``, ``xhat`` (what it read, in support order) and ``g`` (the update it added), so the
property can compare x̂_t with the serial x_t.

>>> from asyncproof.reference.schedule import run_algorithm
>>> svm = {"name": "sparse-svm", "params": {"m": 20, "d": 40, "nnz": 2}}
>>> r = run_algorithm("serially-equivalent-sgd", problem=svm, params={"T": 12, "batch": 6, "threads": 3}, seed=1,
...                   adversary="random:seed=4")
>>> sgd = run_algorithm("sgd", problem=svm, params={"T": 12}, seed=1)
>>> r.trace.outputs[0][-1].tobytes() == sgd.trace.outputs[0][-1].tobytes()
True
>>> [plan.components for plan in r.trace.records(BatchPlan)]
[[[0], [1, 3], [2], [4], [5]], [[6, 10], [7], [8, 11], [9]]]
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import networkx as nx
import numpy as np

from ..baselines._common import gamma_param, iterations_param, start_point, x0_param
from ..engine import Local, Output, ProcessSpec, Receive, System, compute
from ..errors import InputError
from ..records import Record, Value, declare, record
from ..registry import (DICT_BYTES, INT_BYTES, MAX_BATCH, MAX_ENTRIES, MAX_ITERATIONS, MAX_PROCESSES, Algorithm, Cost,
                        MemoryEstimate, Param, Steps, arrays_cost, bounded_int, events_cost, records_cost, register)
from ..rng import draw_batch
from .conflict import conflict_graph, supports_of
from .hogwild import sample_step, serial_sgd, support_size

NAME = "serially-equivalent-sgd"


@record("batch")
class BatchPlan(Record):
    """Batch b's plan (Pan et al., Algorithm 1: the sampled subgraph G_u^b, its connected
    components C_1^b .. C_{m_b}^b, their allocation to the P cores), recorded by thread 0."""
    b: int                   # the batch index
    positions: list          # its positions t of π, in order
    samples: list            # π_t for each position: the batch's data points
    components: list         # the connected components of its conflict graph (positions, in batch order)
    allocation: list         # per thread, the indices into ``components`` it processes


@record("sample")
class Update(Record):
    """One update j of a component (Pan et al., Algorithm 1: x_{S_j} = u_j(x_{S_j}, f_j)), recorded
    by its thread once it has added it."""
    t: int                   # its position in the data order π
    j: int                   # π_t: the data point
    batch: int               # the batch b holding position t
    thread: int              # the thread (core) that processed it
    support: list            # S_j, increasing
    xhat: np.ndarray         # x̂_t: what the thread read of x_{S_j}, in support order
    g: np.ndarray            # the update it added on S_j (−γ ∇f_j(x̂_t), or the projected step)


#: the data order π_0 .. π_{T−1}, recorded once by thread 0
ORDER = Value("order", "the data order π_0 .. π_{T−1} (a list of sample indices)", kinds=(list,))
#: what a run of serially-equivalent SGD records
RECORDS = declare(ORDER, BatchPlan, Update)


def data_order(problem, T: int, seed: int, order=None) -> list[int]:
    """π_0 .. π_{T−1}: ``order[t mod len(order)]`` if given, else SGD's keyed draw of iteration t."""
    if order is None:
        return [int(draw_batch(seed, t, problem.m, 1)[0]) for t in range(T)]
    if len(order) == 0:
        raise InputError(f"{NAME}: order must not be empty")
    bad = [j for j in order if isinstance(j, bool) or not isinstance(j, int) or not 0 <= j < problem.m]
    if bad:
        raise InputError(f"{NAME}: order holds {bad[:5]}, not sample indices of a problem with m = {problem.m}")
    return [int(order[t % len(order)]) for t in range(T)]


def allocate(sizes: list[int], threads: int) -> list[list[int]]:
    """Per thread, the components (indices into ``sizes``) it gets, in increasing index order:
    largest first (ties: lower index) to the thread with the fewest samples (ties: lower thread)."""
    load = [0] * threads
    out: list[list[int]] = [[] for _ in range(threads)]
    for c in sorted(range(len(sizes)), key=lambda c: (-sizes[c], c)):
        p = min(range(threads), key=lambda p: (load[p], p))
        out[p].append(c)
        load[p] += sizes[c]
    return [sorted(cs) for cs in out]


@dataclass(frozen=True)
class Batch:
    """One batch's plan: positions ``t`` of π and their samples; the components of its conflict
    graph (positions, each in batch order; components by first position); the allocation."""
    index: int
    positions: tuple[int, ...]
    samples: tuple[int, ...]
    components: tuple[tuple[int, ...], ...]
    allocation: tuple[tuple[int, ...], ...]     # per thread: indices into ``components``

    def work(self) -> list[list[int]]:
        """Per thread, the positions it processes, in order: its components in the order of their first
        positions, each component's points in batch order."""
        return [[t for c in cs for t in self.components[c]] for cs in self.allocation]

    def record(self) -> BatchPlan:
        return BatchPlan(b=self.index, positions=list(self.positions), samples=list(self.samples),
                         components=[list(c) for c in self.components],
                         allocation=[list(a) for a in self.allocation])


def plan_batch(supports, pi: list[int], b: int, size: int, threads: int) -> Batch:
    """Batch ``b`` of the data order ``pi``: conflict graph, connected components, allocation."""
    positions = list(range(b * size, min((b + 1) * size, len(pi))))
    g = conflict_graph([supports[pi[t]] for t in positions])       # node q = positions[q]
    comps = sorted((tuple(positions[q] for q in sorted(c)) for c in nx.connected_components(g)),
                   key=lambda c: c[0])
    alloc = allocate([len(c) for c in comps], threads)
    return Batch(b, tuple(positions), tuple(pi[t] for t in positions), tuple(comps), tuple(map(tuple, alloc)))


def barrier_open(arrived: int, threads: int) -> bool:
    """Batch b's barrier lets the threads on once all of them (the waiting thread included) have arrived."""
    return arrived == threads


@dataclass
class Shared:
    """The shared memory ``x``, the data order, the batches' plans (computed once each, with the
    threads' work lists of the step ``work``) and the barrier's arrival counts."""
    x: np.ndarray
    pi: list[int]
    size: int
    threads: int
    supports: list
    steps: Steps
    plans: dict = field(default_factory=dict)
    arrived: dict = field(default_factory=dict)

    @property
    def batches(self) -> int:
        return math.ceil(len(self.pi) / self.size)

    def plan(self, b: int) -> tuple[Batch, list[list[int]]]:
        if b not in self.plans:
            batch = plan_batch(self.supports, self.pi, b, self.size, self.threads)
            self.plans[b] = (batch, self.steps.work(batch))
        return self.plans[b]


def thread(problem, mem: Shared, gamma: float, pid: int):
    """One thread: for every batch, its components' updates in order, then the barrier."""
    def body(ctx):
        if pid == 0:
            ctx.record(ORDER.key, list(mem.pi))
        for b in range(mem.batches):
            batch, work = mem.plan(b)
            if pid == 0:
                ctx.record(batch.record())
            for t in work[pid]:
                j = mem.pi[t]
                support = mem.supports[j]
                # x_{S_j} = u_j(x_{S_j}, f_j): read S_j one coordinate at a time ...
                xhat = np.empty(len(support))
                for q, v in enumerate(support):
                    yield Local(f"read x[{v}] t={t}")
                    xhat[q] = mem.x[v]
                # ... compute the update (a job) ...
                _, g = yield from compute(f"w{pid}", f"grad f_{j} t={t}",
                                          lambda j=j, support=support, xhat=xhat.copy():
                                          sample_step(problem, j, support, xhat, gamma))
                # ... and add it, one coordinate at a time
                for q, v in enumerate(support):
                    yield Local(f"add x[{v}] t={t}")
                    mem.x[v] = mem.x[v] + g[q]
                ctx.record(Update(t=t, j=j, batch=b, thread=pid, support=support.tolist(), xhat=xhat, g=g))
            mem.arrived[b] = mem.arrived.get(b, 0) + 1
            yield Receive(until=lambda ms, b=b: mem.steps.barrier(mem.arrived[b], mem.threads),
                          match=lambda m: False, label=f"barrier b={b}")
        if pid == 0:
            yield Output(mem.x.copy())
    return body


def build(problem, params, seed, steps: Steps):
    """The system: one thread per core sharing ``x``, with the steps ``work`` and ``barrier``."""
    x0 = start_point(problem, params)
    if problem.constrained:
        try:
            problem.check_feasible(x0, "x0")
        except InputError as e:
            raise InputError(f"{NAME}: {e}") from None
    pi = data_order(problem, params["T"], seed, params.get("order"))
    mem = Shared(x0.copy(), pi, params["batch"], params["threads"], supports_of(problem), steps)
    return System([ProcessSpec(thread(problem, mem, params["gamma"], p)) for p in range(params["threads"])],
                  seed=seed)


# --------------------------------------------------------------------------------------------
# metrics


def metrics(trace, problem, params) -> dict:
    m = {"steps": len(trace.events), "stopped": trace.stopped}
    plans = trace.records(BatchPlan)
    if plans:
        sizes = [len(c) for p in plans for c in p.components]
        m["batches"] = len(plans)
        m["components"] = len(sizes)
        m["largest_component"] = max(sizes)
    out = trace.outputs.get(0)
    if not out:
        m["finished"] = False
        return m
    x = np.asarray(out[-1], dtype=np.float64)
    m["finished"] = True
    m["loss"] = float(problem.value(problem.project(x) if problem.constrained else x))
    serial = serial_sgd(problem, trace.records(ORDER.key, 0)[0], start_point(problem, params), params["gamma"])
    m["serially_equivalent"] = x.tobytes() == serial.tobytes()
    if x.size <= 6:
        m["x"] = [float(v) for v in x]
    return m


PARAMS = {
    "gamma": gamma_param(),
    "T": iterations_param(),
    "batch": bounded_int("batch", 8, "batch size B: samples of π per batch (conflict graph, then a barrier)",
                         1, MAX_BATCH, "batch (batch size)"),
    "threads": bounded_int("threads", 4, "threads P processing the components in parallel", 1, MAX_PROCESSES),
    "x0": x0_param(),
    "order": Param("order", "list", None, "fixed data order π (π_t = order[t mod len]); default: SGD's draws",
                   max_len=MAX_ITERATIONS, items=(0, MAX_ENTRIES - 1)),
}


def conflict_fraction(problem, probe: int = 64, entries: int = 1_000_000) -> float:
    """The fraction of pairs among the first ``probe`` samples (fewer once their supports hold
    ``entries`` coordinates) whose supports intersect: an estimate of the conflict graph's
    density, for the memory estimate (1 when fewer than two samples are probed)."""
    supports, held = [], 0
    for j in range(min(problem.m, probe)):
        if held > entries:
            break
        supports.append(np.asarray(problem.support(j)))
        held += len(supports[-1])
    pairs = len(supports) * (len(supports) - 1) // 2
    if not pairs:
        return 1.0
    hits = sum(1 for i, a in enumerate(supports) for b in supports[i + 1:]
               if np.intersect1d(a, b, assume_unique=True).size)
    return hits / pairs


def memory(problem, p) -> MemoryEstimate:
    """Per sample with a support of s coordinates: s reads, a job's start and finish, s adds, and
    its record (support, x̂, update); per batch a barrier step of every thread and its plan
    (recorded and kept); the data order π twice; a batch's conflict graph (B nodes, and an edge
    for each pair of its samples that conflict)."""
    T, B, P, s = p["T"], p["batch"], p["threads"], support_size(problem)
    batches = math.ceil(T / B)
    edges = int(min(B, T) ** 2 / 2 * conflict_fraction(problem))
    return MemoryEstimate(
        events_cost(T * (2 * s + 2) + batches * P + P, f"T = {T} samples x (2s + 2), s = {s}, "
                    f"and {batches:,} barriers x P = {P}", ("T",)),
        records_cost(T, DICT_BYTES + s * INT_BYTES, f"T = {T} sample records", ("T",)),
        arrays_cost(2 * T, s, f"T = {T} samples x 2 (x̂, update)", ("T",)),
        records_cost(2 * batches, DICT_BYTES + 5 * min(B, T) * INT_BYTES, f"{batches:,} batch plans x 2", ("T",)),
        Cost(f"the data order π: T = {T} samples x 2", 2 * T * INT_BYTES, ("T",)),
        Cost(f"a conflict graph of B = {B} samples, about {edges:,} edges", min(B, T) * 500 + edges * 300,
             ("batch",)),
        Cost(f"P = {P} threads", P * 3000, ("threads",)))


ALGORITHM = register(Algorithm(
    name=NAME,
    summary="CYCLADES-style SGD: a batch's conflict graph, components to threads, each in order; = serial SGD",
    source="seed 002, slides 'Reproducibility', 'Serial Equivalence'; Pan et al. 2016 (CYCLADES), Algorithm 1",
    params=PARAMS,
    build=build,
    steps=Steps(work=Batch.work, barrier=barrier_open),
    metrics=metrics,
    default_problem="sparse-svm",
    max_steps=lambda p: 10_000_000,
    family="shared-memory",
    memory=memory,
    records=RECORDS,
))
