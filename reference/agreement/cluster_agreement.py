"""Cluster approximate agreement: MidExtremes rounds over the cluster's shared array A, with skipping.

Seed 000 (``000_3f5163bcd896752f.txt``), slides "MDAA within a Cluster" ("An array **A**
of ⟨value, round#⟩ for each cluster"; "Ensures constant contraction within O(1)
rounds") and "Skipping"; MidExtremes after Függer and Nowak (DISC 2018).

==========================================  ==========================================================
the slide, line by line                     :func:`cluster_agreement`
==========================================  ==========================================================
``r ← 1 ; A[i] ← ⟨x, r⟩``                   ``r = 1``; ``yield Write(A[i], (x, r))``
``while r < constant do``                   ``while r < rounds:``
``let rmax be the largest round number      ``view = yield Collect(A)``: one ``Read`` per register,
in A``                                      in index order, which the adversary can interleave with
                                            other processes' writes; ``rmax = max(rounds read)``
``if r = rmax then``                        ``if r == rmax:``
``X ← values in A with round rmax``         ``X = [v for v, rd in view if rd == rmax]``
``A[i] ← ⟨MidExtremes(X), r+1⟩``            ``yield Write(A[i], (mid_extremes(X), r + 1))``
``r ← r + 1``                               ``r += 1``
``else r ← rmax``  (skipping)               ``r = rmax``
``return some xj s.t. A[j] = ⟨xj, r+1⟩``    :func:`returned_value`: the own value if A[i] holds
                                            round r, else the lowest j of the last view with round r
==========================================  ==========================================================

Readings of the slide (each tested in ``tests/agreement/test_agreement.py``):

* **The return line.**  When the loop ends, r = constant, and no register ever holds a
  round above ``constant`` (round r + 1 is written only while r < constant), so "A[j] =
  ⟨x_j, r+1⟩" cannot mean the final r: it is the r of the last iteration, before ``r ← r
  + 1``.  We return a value of the final round r = constant: the process's own, if its
  last write was of round r; otherwise (it skipped to r) the value of the lowest j
  holding round r in its last view, which exists because rmax = r there.  No extra
  collect is taken.  With ``constant = 1`` the loop never runs and x itself is returned.
* **X excludes a skipped process's own old value**: after ``r ← rmax`` its own register
  holds an older round, so the next MidExtremes is over the others' round-rmax values.
* **The collect** is not atomic (seed: shared read/write registers, no snapshot): the
  view mixes reads from different moments.  Every view that leads to a MidExtremes of
  round r contains the *first* value written with round r (its writer wrote before any
  process at round r started that collect, and registers never go back), the common
  point on which the contraction bound rests (``proofs/claims/agreement/agreement_contraction.py``).
* **Recovery** (slide "Recovery through Skipping"): the registers are shared memory and
  survive a crash, and the input is the process's non-volatile input.  A recovered
  process (``resume=True``) reads its own register first (the step ``resume_register``): if
  it holds ⟨v, r⟩ it resumes the loop at round r (the next collect skips it forward if the
  others moved on); only if it is still empty does it start from ``A[i] ← ⟨x, 1⟩``.  So no
  register ever moves a round backwards (the ``agreement-recovery`` property; its broken
  variant restarts from round 1).
* **The MidExtremes tie-break** is :mod:`~asyncproof.reference.agreement.midextremes`'s.

Named steps (:class:`~asyncproof.reference.registry.Steps`, read by :func:`cluster_agreement`
and :func:`build`): ``diameter_pair(X)`` (MidExtremes' pair of values realising the
diameter), ``proceed(ctx, clusters, me, r)`` (after writing round r: go on, waiting for
nobody), ``resume_register(register)`` (a recovered process's read of its own register)
and ``initial_register(d, n, provenance)`` (the registers' ⟨⊥, 0⟩).

Recorded (``ctx.record``; declared in :data:`RECORDS`, read back typed with
``trace.records(Written)``): :data:`INPUT` ``"input"`` (x_i), :class:`Written` ``"write"`` after
each write, :class:`Skipped` ``"skip"``, :class:`ClusterOutput` ``"cluster_output"`` and, for the
registered algorithm, :data:`DECIDE` ``"decide"`` (the output :class:`~.provenance.Point`, with
its weights).  A field stored under a Python keyword (``"from"``) is the attribute ``from_``
(:class:`Fields`).

Under round-robin every process sees all three inputs; the diameter is realised by (4, 0)
and (0, 2), so everybody writes (2, 1) in round 2 and returns it.  Under PCT the first
process runs alone to the last round with its own input, and the others skip to it:

>>> from asyncproof import run_algorithm
>>> params = {"clusters": [3], "T": 3, "inputs": [[0.0, 0.0], [4.0, 0.0], [0.0, 2.0]]}
>>> r = run_algorithm("cluster-agreement", params=params)
>>> [o[-1].tolist() for _, o in sorted(r.trace.outputs.items())], r.metrics["skips"]
([[2.0, 1.0], [2.0, 1.0], [2.0, 1.0]], 0)
>>> r = run_algorithm("cluster-agreement", params=params, adversary="pct:seed=3")
>>> [o[-1].tolist() for _, o in sorted(r.trace.outputs.items())], r.metrics["skips"]
([[4.0, 0.0], [4.0, 0.0], [4.0, 0.0]], 2)
"""

from __future__ import annotations

import math

import numpy as np

from ..engine import Collect, Output, ProcessSpec, Read, System, Write
from ..records import Record, Value, declare, record
from ..registry import (DICT_BYTES, INT_BYTES, MAX_ROUNDS, Algorithm, Cost, MemoryEstimate, Param, Steps,
                        arrays_cost, bounded_int, events_cost, records_cost, register)
from .cluster_model import Clusters, Member, agreement_inputs, cluster_params
from .midextremes import diameter, diameter_pair, mid_extremes
from .provenance import Point, input_point

#: the in-cluster contraction constant every round of MidExtremes guarantees, in any dimension:
#: diam(V_{r+1}) <= sqrt(6/7) diam(V_r) (derived and checked in proofs/claims/agreement/agreement_contraction.py)
KAPPA_CLUSTER = math.sqrt(6.0 / 7.0)


# --------------------------------------------------------------------------------------
# the records (reference/records.py): what a run writes, and what the checks read back


@record("write")
class Written(Record):
    """A write A[j] ← ⟨x, round⟩ to the array of cluster c, in instance ``inst`` (the MDAA round;
    0 for a cluster alone)."""
    inst: int
    c: int                          # the cluster
    j: int                          # the register written: the writer's index in its cluster
    round: int                      # the round number r written with the value
    x: np.ndarray                   # the value
    view: list[int] | None          # the rounds of the collect it was computed from (0: ⟨⊥, 0⟩); None: the input


@record("skip")
class Skipped(Record):
    """Skipping: ``r ← rmax``, from round ``from_`` to round ``to``, in instance ``inst`` of cluster c."""
    inst: int
    c: int
    from_: int                      # stored as "from"
    to: int


@record("cluster_output")
class ClusterOutput(Record):
    """The return line: the value of round ``round`` held by A[``from_``] (the own index, or the lowest j)."""
    inst: int
    c: int
    round: int
    from_: int                      # stored as "from": the index j whose value is returned


#: x_i, the process's input (a float64 vector), recorded at each start (a recovery too)
INPUT = Value("input", "x_i: the process's input (a float64 vector), at each start", kinds=(np.ndarray,))
#: the output with its exact weights over the inputs
DECIDE = Value("decide", "the output Point, with its exact weights over the inputs", kinds=(Point,))

#: the records of ``cluster-agreement``
RECORDS = declare(INPUT, Written, Skipped, ClusterOutput, DECIDE)


# --------------------------------------------------------------------------------------
# the process


def _entries(view) -> list[tuple[Point | None, int]]:
    """A collect's reads as (point, round), round 0 for an empty register (⟨⊥, 0⟩)."""
    return [(None, 0) if e is None else (e[0], int(e[1])) for e in view]


def returned_value(me: Member, r: int, own_round: int, own: Point, view) -> tuple[Point, int]:
    """"return some x_j s.t. A[j] = ⟨x_j, r⟩" (see the readings): own value first, else the lowest j."""
    if own_round == r or view is None:
        return own, me.index
    for j, (p, rd) in enumerate(_entries(view)):
        if rd == r:
            return p, j
    raise AssertionError(f"p{me.pid} ended at round {r} without seeing a value of round {r}")


def proceed(ctx, clusters: Clusters | None, me: Member, r: int):
    """After writing round r, go on at once (``yield from``; no step): the rounds are
    asynchronous, a process waits for nobody.  Waiting for every member of the cluster here
    (a barrier) blocks on a single crash: the broken variant ``broken-cluster-agreement-barrier``."""
    return
    yield


def resume_register(register: str):
    """Recovery (``yield from``): the registers survive a crash, so a recovered process reads
    its own, A[i], once and resumes at the round it holds: ⟨v, r⟩ as (v, r), ⟨⊥, 0⟩ as
    (None, 0) (then it starts over from ⟨x, 1⟩).  Starting over without reading is the broken
    variant ``broken-cluster-agreement-restarts``."""
    cell = yield Read(register)
    return (None, 0) if cell is None else (cell[0], int(cell[1]))


def initial_register(d: int, n: int, provenance: bool):
    """Every register's initial value, ⟨⊥, 0⟩: ``None`` (read as round 0 by a collect), for
    values in R^d of n processes (with exact weights if ``provenance``)."""
    return None


def cluster_agreement(ctx, me: Member, x: Point, A: tuple[str, ...], rounds: int, inst: int = 0,
                      resume: bool = False, steps: Steps | None = None, clusters: Clusters | None = None):
    """The slide's process (``yield from``): returns the output :class:`Point`.

    ``A``: the cluster's register names, A[me.index] being this process's; ``rounds``:
    the slide's ``constant``; ``inst``: the instance (the MDAA round) the records name;
    ``resume``: recovering from a crash (resume at the own register's round); ``steps``:
    the named steps (default :data:`STEPS`), ``clusters`` the model they are given.
    """
    steps = STEPS if steps is None else steps
    i = me.index
    own, r = None, 0
    if resume:
        own, r = yield from steps.resume_register(A[i])
    if own is None:
        own, r = x, 1                                             # r ← 1 ; A[i] ← ⟨x, r⟩
        yield Write(A[i], (own, r))
        _record_write(ctx, me, inst, r, own, None)
        yield from steps.proceed(ctx, clusters, me, r)
    own_round, view = r, None
    while r < rounds:                                             # while r < constant do
        view = yield Collect(A)
        entries = _entries(view)
        rmax = max(rd for _, rd in entries)                       # the largest round number in A
        if r == rmax:
            X = [p for p, rd in entries if rd == rmax]            # values in A with round rmax
            own = mid_extremes(X, pair=steps.diameter_pair)
            yield Write(A[i], (own, r + 1))                       # A[i] ← ⟨MidExtremes(X), r+1⟩
            _record_write(ctx, me, inst, r + 1, own, [rd for _, rd in entries])
            r += 1
            yield from steps.proceed(ctx, clusters, me, r)
            own_round = r
        else:
            ctx.record(Skipped(inst=inst, c=me.cluster, from_=r, to=rmax))
            r = rmax                                              # skipping
    out, j = returned_value(me, r, own_round, own, view)
    ctx.record(ClusterOutput(inst=inst, c=me.cluster, round=r, from_=j))
    return out


def _record_write(ctx, me: Member, inst: int, r: int, p: Point, view) -> None:
    ctx.record(Written(inst=inst, c=me.cluster, j=me.index, round=r, x=p.x, view=view))


# --------------------------------------------------------------------------------------
# the registered algorithm: every cluster runs one instance on its processes' inputs


def build(problem, params, seed, steps):
    clusters = Clusters.parse(params["clusters"])
    X = agreement_inputs(problem, params, seed)
    n, T = clusters.n, params["T"]

    def process(pid: int, resume: bool):
        me = Member.of(clusters, pid)

        def body(ctx, checkpoint=None):
            ctx.record(INPUT.key, X[pid])
            x = input_point(X[pid], pid, n, params["provenance"])
            out = yield from cluster_agreement(ctx, me, x, clusters.array(me.cluster), T, resume=resume, steps=steps,
                                               clusters=clusters)
            ctx.record(DECIDE.key, out)
            yield Output(out.x)
        return body

    specs = [ProcessSpec(process(p, False), recover=process(p, True)) for p in range(n)]
    initial = steps.initial_register(problem.d, n, params["provenance"])
    registers = {name: initial for c in range(len(clusters.members)) for name in clusters.array(c)}
    return System(specs, registers=registers, seed=seed)


def recorded_inputs(trace) -> list:
    """x_0 .. x_{n-1} as the processes recorded them (:data:`INPUT`, once per start)."""
    xs = {}
    for _, pid, _, x in trace.stepwise(INPUT):
        xs.setdefault(pid, x)
    return [xs[p] for p in sorted(xs)]


def in_cluster_values(trace) -> dict:
    """V[(inst, c, round)]: every value written to a cluster's array with that round number."""
    V: dict = {}
    for w in trace.records(Written):
        V.setdefault((w.inst, w.c, w.round), []).append(w.x)
    return V


def round_factors(trace) -> list[float]:
    """diam(V_{k+1}) / diam(V_k) of every instance, cluster and round k with diam(V_k) > 0."""
    V = in_cluster_values(trace)
    out = []
    for (inst, c, k), vals in sorted(V.items()):
        nxt = V.get((inst, c, k + 1))
        if nxt and diameter(vals) > 0:
            out.append(diameter(nxt) / diameter(vals))
    return out


def metrics(trace, problem, params):
    """The diameters are per cluster (each runs its own instance), the largest over the clusters."""
    clusters = Clusters.parse(params["clusters"])
    X = recorded_inputs(trace)
    outs = {p: o[-1] for p, o in trace.outputs.items() if o}
    d_in = max(diameter([X[p] for p in c]) for c in clusters.members)
    d_out = max((diameter([outs[p] for p in c if p in outs]) for c in clusters.members), default=math.nan)
    return {"outputs": len(outs), "diameter_in": d_in, "diameter_out": d_out if outs else math.nan,
            "worst_factor": max(round_factors(trace), default=0.0), "kappa": KAPPA_CLUSTER,
            "skips": len(trace.records(Skipped)), "crashes": len(trace.crashed)}


def rounds_param(default: int) -> Param:
    return bounded_int("T", default, "the slide's constant: in-cluster rounds (>= 1)", 1, MAX_ROUNDS, "T (rounds)")


def provenance_bytes(points: int, n: int, rounds: int) -> int:
    """``points`` values carrying exact weights: n Fractions each, whose numerators and
    denominators grow by about a bit per MidExtremes (a midpoint halves), ``rounds`` of them."""
    return points * n * (130 + rounds // 4)


def memory(problem, p) -> MemoryEstimate:
    """T rounds in which each process of a cluster of c writes and collects (c + 1 steps), each
    write recorded with its value and view; the registers, the processes and their values
    (with n exact weights each when ``provenance``)."""
    clusters = Clusters.parse(p["clusters"])
    T, n, d = p["T"], clusters.n, problem.d
    steps = sum(c * (c + 1) for c in clusters.sizes)
    return MemoryEstimate(
        events_cost(T * steps + 4 * n, f"T = {T} rounds x Σ c(c + 1) = {steps}", ("T", "the clusters")),
        records_cost(T * n, DICT_BYTES + max(clusters.sizes) * INT_BYTES, f"T = {T} rounds x n = {n} writes",
                     ("T", "the clusters")),
        arrays_cost(T * n + 4 * n, d, f"T = {T} rounds x n = {n} values written (d = {d})", ("T",)),
        Cost(f"n = {n} processes, their registers and values (with exact weights unless provenance=false)",
             n * 5000 + (provenance_bytes(4 * n, n, T) if p["provenance"] else 0), ("the clusters",)))


def check(problem, params) -> None:
    agreement_inputs(problem, params, 0)


PARAMS = {**cluster_params([3]), "T": rounds_param(4)}

#: the named steps of the slide's process (MDAA's steps include them: it runs this process)
STEPS = Steps(diameter_pair=diameter_pair, proceed=proceed, resume_register=resume_register,
              initial_register=initial_register)

ALGORITHM = register(Algorithm(
    name="cluster-agreement",
    summary="cluster approximate agreement: MidExtremes rounds on the cluster's registers, with skipping",
    source="seed 000, slide 'MDAA within a Cluster' (and 'Skipping', 'Recovery through Skipping')",
    params=PARAMS,
    build=build,
    steps=STEPS,
    metrics=metrics,
    default_problem="quadratic",
    max_steps=lambda p: 4 * Clusters.parse(p["clusters"]).n * (p["T"] + 2) * (Clusters.parse(p["clusters"]).n + 2) + 1000,
    check=check,
    family="agreement",
    memory=memory,
    records=RECORDS,
))
