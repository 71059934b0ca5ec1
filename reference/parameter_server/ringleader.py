"""Ringleader ASGD: a gradient table, phase 1 (collect), phase 2 (one update per worker).

Seed 004 (004_5e02a306927ced0b.txt), slides "Yes — Ringleader ASGD can: Make It Less
Wild" ("Phase 1 (collect): Wait to receive at least one gradient from each worker";
"Phase 2 (update): Perform a single update per worker"), "Ringleader ASGD: Phase 1
(collect)", "Phase 2 (update)", "Prepare for the Next Round: Move the stored ones back
to the original table", "Start with Phase 1".  Paper: Maranjyan & Richtárik,
"Ringleader ASGD: The First Asynchronous SGD with Optimal Time Complexity under Data
Heterogeneity" (arXiv:2509.22860, ICLR 2026).

The paper's Algorithm 1 was not reachable to us line by line.  The middle column quotes
the authors' own ICLR 2026 poster (its algorithm box, verbatim: "Repeat until convergence
— Phase 1 (collect): Accumulate gradients until the gradient table is full. Phase 2
(update): Perform a single model update per worker (store the intermediate gradients in a
temporary table). Transition Step: Remove old gradients from the table.") and its worked
example and workshop slides (artomaranjyan.github.io: ``Ringleader_ICLR.pdf``,
``ICLR2026_Workshop.pdf`` slides 16–19), and the paper's statements as its summaries
quote them ("G_i is the sum of gradients for worker i currently in the table, and b_i is
the count of those gradients"; rounds of "exactly n model updates … ensuring each worker
receives a new model at most once per round"; "δ_i^k <= 2n − 2").  The earlier version of
this module followed an unattributed simulation where it restarted workers at the
current iterate; that is not what the poster's timelines show (see "restarts" below).

=============================================  =============================================  ===========================
slide (seed 004)                               paper (poster / statements)                   here (``server``)
=============================================  =============================================  ===========================
all workers start computing at x^0             "x^0 sent to every worker"                    one job (i, π = 0) each
table (G_i, b_i); temporary table              "G_i is the sum of gradients for worker i     ``table``, ``stored``: per
(G_i^+, b_i^+)                                 currently in the table, and b_i is the        worker, its gradients
                                               count"; "(G_i^+, b_i^+)"
"Phase 1 (collect): Wait to receive at least   "Accumulate gradients until the gradient      ``while True``:
one gradient from each worker"                 table is full" (repeat arrivals of a worker   every arrival into
                                               join its row: b = (2, 1, 1))                  ``table`` until
                                                                                             :func:`phase1_done`
"Phase 2 (update): Perform a single update     "Perform a single model update per worker";   the arrival that fills
per worker"                                    the arrival that fills the last empty row     the table triggers update
                                               triggers the first                            1; then each first arrival
                                                                                             of a worker not yet updated
x^{k+1} = x^k − γ (1/n) Σ_i G_i/b_i            the estimator over the whole table            :func:`~.malenia.table_average`
a worker already updated this round: store     "(store the intermediate gradients in a       :func:`store` into
                                               temporary table)"; "Store it for later use!"  ``stored[j]``
"Prepare for the Next Round: Move the stored   "Transition Step: Remove old gradients from   ``table, stored = stored,
ones back to the original table"               the table"; the temporary table becomes the   empty``
                                               table of the next round
"Start with Phase 1"                           "Repeat until convergence"                    ``while t < T``
(restarts: not on the slides)                  a worker is sent a new point only with the    :func:`keep_computing`:
                                               update it triggers: "each worker receives a   at its own last point;
                                               new model at most once per round"             the updater: at x^{t+1}
=============================================  =============================================  ===========================

Readings (each tested in ``tests/parameter_server/test_parameter_server_algorithms.py``):

* **The estimator is the whole table, not the latest gradient.**  Every update of
  phase 2 uses ḡ = (1/n) Σ_i G_i/b_i over *all* gradients in the table: per worker
  the mean of its b_i stored gradients (those moved back from the last round's
  temporary table, those of phase 1, and its own phase-2 arrival), then the plain
  mean over workers.  It is not IA²SGD's "latest gradient of every worker", and
  not one step per arriving gradient: arrivals of already-updated workers wait in
  the temporary table.  The table is cleared after phase 2 (its gradients have been
  used), and the temporary table becomes the next round's table.
* **Restarts** (:func:`keep_computing`).  A worker computes without pause: the moment
  its gradient arrives it starts another.  The worker whose gradient triggers an update
  is sent the new iterate x^{t+1} after the update; every other arrival (in phase 1, or
  stored in phase 2) computes again at the point that worker was last sent, as in the
  poster's timelines ("worker 2 computes at x^2 twice"; a phone keeps computing at x^1
  while the iterate moves on).  So every worker receives one new model per round, the
  one of its own update.
* **Delay.**  In AsGrad's counting (t = updates so far, job (i, π) computes at x_π)
  worker i's point is the iterate after its update of the previous round, so every
  gradient in the table of round r's updates has π >= t_{r−1} + 1 (t_{r−1} the first
  update of round r − 1) and every delay t − π <= 2n − 2 (the paper's bound, reached:
  the poster's update x^5 → x^6 with n = 3 uses a gradient of x^1), recorded per update
  as ``tau`` = max over the table.
* **Nothing is discarded**: every received gradient enters the table of some
  update, or is still stored when the run stops after T updates (``"stored"``).
* **Stepsize.**  The paper's theory takes γ = min{1/(8nL), εB/(10Lσ²)} with B the
  harmonic mean of the table's counts, inf_k (1/n Σ_i 1/b_i^k)^{-1} (as quoted by its
  summaries); here γ is a parameter, constant, as in the paper's method.
* **Summation order** is :func:`~.malenia.table_average`'s: a row in its worker's
  serial order (the stored ones are older, so they come first), rows in worker order.
* T counts updates; a run may stop inside phase 2.

Named steps: ``phase1_done(table)`` ends phase 1 (:func:`phase1_done`: every row filled),
``store(stored, worker, entry)`` puts an already-updated worker's phase-2 arrival into the temporary
table (:func:`store`), ``keep_computing(workers, job)`` restarts a worker whose gradient did not
trigger an update (:func:`keep_computing`), and ``split_of(splits, worker)`` is whose local data a
job computes on (:func:`~.common.own_split`).

Recorded (:data:`RECORDS`): ``"received"`` per arrival (:class:`RingleaderReceived`: ``t`` =
updates so far, ``pi``, ``tau`` = t − π: the delay on arrival, which is the delay of its first use
unless it is stored; ``phase`` 1 or 2, ``stored``: True if it went to the temporary table,
``round``, ``used`` True), ``"update"`` per update (:class:`Update`: ``t``, ``round``, ``phase`` 2,
``position`` 1..n in the round, ``worker`` that triggered it, ``counts`` b_i, ``members``: each
row's serials, ``delays``: per worker t − (the oldest π in its row), the largest delay of its
entries, and ``tau``: their maximum, the delay the paper bounds by 2n − 2), ``"x"`` per update,
``"stored"`` at the end (the (worker, serial) pairs received but not yet used).  A gradient is
used by every update of its round after it entered the table, so its delay grows by one per
update: the bound is a property of ``update.tau``, and ``received.tau`` only shows the delays on
arrival (what the run's delay histogram plots).
"""

from __future__ import annotations

from ..engine import Output, ProcessSpec, System
from ..records import ITERATE, Record, Value, declare, record
from ..registry import Algorithm, Steps, arrays_cost, register
from ..baselines._common import final_metrics, gamma_param, iterations_param, start_point
from .common import (Received, Workers, check_workers, local_gradient, local_splits, own_split, receive_one,
                    received_record, server_memory, worker_params)
from .malenia import table_average


@record("received")
class RingleaderReceived(Received):
    """An arrival, the fields of :class:`~.common.Received` (``t`` = updates so far, ``used``
    True) and Ringleader's: its ``phase`` (1 collect, 2 update), whether it went to the temporary
    table (``stored``), and its ``round``."""
    phase: int
    stored: bool
    round: int


@record("update")
class Update(Record):
    """Update ``t`` (x^t → x^{t+1}), the ``position``-th (1..n) of round ``round`` (``phase`` 2),
    triggered by ``worker``: the table's ``counts`` b_i and ``members`` (each row's serials),
    ``delays`` per worker t − (the oldest π in its row) (None for an empty row) and ``tau``, their
    maximum."""
    t: int
    round: int
    phase: int
    position: int
    worker: int
    counts: list
    members: list
    delays: list
    tau: int


#: the (worker, serial) pairs received and not yet used when the run stops
STORED = Value("stored", "the (worker, serial) received and not yet used at the end", kinds=(list,))
RECORDS = declare(RingleaderReceived, Update, ITERATE, STORED)


def keep_computing(workers, job):
    """(``yield from``) A worker whose gradient did not trigger an update computes again at the point
    it was last sent: "each worker receives a new model at most once per round", when its own
    update is made."""
    yield from workers.assign(workers.new_job(job.worker, job.pi))


def phase1_done(table) -> bool:
    """Phase 1 (collect) ends when "at least one gradient from each worker" is in the table:
    every row filled."""
    return all(table)


def store(stored, worker: int, entry) -> None:
    """Phase 2: the arrival of a worker already updated this round goes to the temporary table
    (G_i^+, b_i^+), for the next round ("Store it for later use!"): no work is discarded."""
    stored[worker].append(entry)


def server(problem, splits, gamma: float, T: int, n: int, batch: int, seed: int, x0, steps: Steps):
    """The Ringleader server, with the algorithm's named ``steps``."""

    def body(ctx):
        xs = [x0.copy()]

        def compute(job):
            return local_gradient(problem, steps.split_of(splits, job.worker), seed, job.worker, job.serial,
                                  xs[job.pi], batch)

        workers = Workers(n, compute)
        for i in range(n):                                     # every worker starts at x^0
            yield from workers.assign(workers.new_job(i, 0))
        table = [[] for _ in range(n)]                         # (G_i, b_i) as lists of (serial, π, g)
        stored = [[] for _ in range(n)]                        # (G_i^+, b_i^+)
        pending = []
        t, r = 0, 0
        while t < T:
            # Phase 1 (collect): no update until every row of the table is filled.
            if all(table):   # impossible: the round's last updater restarted after its update
                raise AssertionError(f"round {r} starts with a full table: phase 1 has no finisher")
            while True:
                job, g, idx = yield from receive_one(workers, pending, f"round {r} collect")
                table[job.worker].append((job.serial, job.pi, g))
                ctx.record(received_record(job, t, g, idx, True, RingleaderReceived, phase=1, stored=False, round=r))
                if steps.phase1_done(table):
                    trigger = job.worker
                    break
                yield from steps.keep_computing(workers, job)                  # nobody idles
            # Phase 2 (update): one update per worker, the one that completed phase 1 first.
            todo = set(range(n))
            while True:
                xs.append(xs[t] - gamma * table_average([[g for _, _, g in row] for row in table if row]))
                delays = [t - min(pi for _, pi, _ in row) if row else None      # per worker, its oldest entry's
                          for row in table]
                ctx.record(Update(t=t, round=r, phase=2, position=n - len(todo) + 1, worker=trigger,
                                  counts=[len(row) for row in table], members=[[s for s, _, _ in row] for row in table],
                                  delays=delays, tau=max(d for d in delays if d is not None)))
                t += 1
                ctx.record("x", xs[t])
                todo.discard(trigger)
                if t == T:
                    break
                yield from workers.assign(workers.new_job(trigger, t))           # at the new iterate
                if not todo:
                    break
                while True:
                    job, g, idx = yield from receive_one(workers, pending, f"round {r} update")
                    if job.worker in todo:
                        table[job.worker].append((job.serial, job.pi, g))
                        ctx.record(received_record(job, t, g, idx, True, RingleaderReceived, phase=2,
                                                   stored=False, round=r))
                        trigger = job.worker
                        break
                    steps.store(stored, job.worker, (job.serial, job.pi, g))        # already updated this round
                    ctx.record(received_record(job, t, g, idx, True, RingleaderReceived, phase=2, stored=True,
                                               round=r))
                    yield from steps.keep_computing(workers, job)
            if t < T:                                          # prepare for the next round
                table, stored = stored, [[] for _ in range(n)]
                r += 1
        ctx.record("stored", sorted((w, s) for w, row in enumerate(stored) for s, _, _ in row))
        yield Output(xs[T])
    return body


def build(problem, params, seed, steps):
    n = params["n"]
    splits = local_splits(problem, n, params["zeta"], seed)
    body = server(problem, splits, params["gamma"], params["T"], n, params["batch"], seed,
                  start_point(problem, params), steps)
    return System([ProcessSpec(body)], seed=seed)


def metrics(trace, problem, params):
    m = final_metrics(trace, problem, 0)
    updates = trace.records(Update)
    if updates:
        m["max_delay"] = max(u.tau for u in updates)
        m["rounds"] = updates[-1].round + 1
    stored = trace.records(STORED.key)
    if stored:
        m["stored"] = len(stored[-1])
    return m


PARAMS = {"gamma": gamma_param(), "T": iterations_param(), **worker_params()}


def memory(problem, p):
    """About 3T + n results (phase 1 collects one from every worker, phase 2 one per update, and
    the ones stored for the next round: 2 per update when compute times are equal, 3 with
    stragglers), three events each; the table and the stored rows hold up to 2n gradients."""
    T, n = p["T"], p["n"]
    results = 3 * T + n
    return server_memory(problem, p, events=3 * results + 2 * n, results=results, iterates=T, jobs=n,
                         why=f"3 (3T + n) + 2n, T = {T}, n = {n}", lower=("T", "n"),
                         extra=(arrays_cost(2 * n, problem.d, f"the table and the stored rows of n = {n} workers",
                                            ("n",)),))


# Phase 1 waits for the slowest worker, so the results per update are not bounded by the
# parameters (they grow with the ratio of compute times, about 2 τ_max/τ_min per update);
# 200 events per update (three per result) leave room for a ratio of about 30.  An unfair
# adversary (PCT without a fairness bound) can starve a worker: the run then stops here.
ALGORITHM = register(Algorithm(
    name="ringleader-asgd",
    summary="Ringleader ASGD: gradient table, phase 1 collects from every worker, phase 2 one update per worker",
    source="seed 004, slides 'Ringleader ASGD: Phase 1 (collect)', 'Phase 2 (update)', 'Prepare for the Next "
           "Round'; Maranjyan & Richtárik 2025 (arXiv:2509.22860)",
    params=PARAMS,
    build=build,
    steps=Steps(phase1_done=phase1_done, store=store, keep_computing=keep_computing, split_of=own_split),
    metrics=metrics,
    default_problem="least-squares",
    max_steps=lambda p: 200 * (p["T"] + p["n"]) + 100,
    check=check_workers,
    family="parameter-server",
    memory=memory,
    records=RECORDS,
))
