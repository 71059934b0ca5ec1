"""What every parameter-server algorithm shares: local data, local gradients, workers' queues.

Seed 001 (001_c6590ddcd2705154.txt), "Notation and Convergence Theory": worker i holds
its own function f_i and returns stochastic gradients g_i(x) = ∇f_i(x, ξ) of it; a job
``(i, π)`` is worker i computing g_i(x_π).  Seed 004 (004_5e02a306927ced0b.txt): the
workers' compute times differ ("Client Compute Heterogeneity is Real").

* :func:`local_splits` gives each worker its samples, with heterogeneity ζ ∈ [0, 1]
  (``zeta = 0``: i.i.d. split; ``zeta = 1``: sorted by label or target, one block each), so a job
  assigned to worker k computes on worker k's data;
* :func:`own_split` is that lookup, worker k's split (a named step: mixing up the workers'
  splits is a realistic mistake);
* :func:`local_gradient` is g_k(x): the mean of ``batch`` samples of worker k's split,
  drawn from the generator keyed ``(seed, k, serial)`` where ``serial`` counts worker
  k's jobs: the sample never depends on the interleaving, and the gradient of a job is
  fixed by (worker, its serial, the iterate it is computed at).  Stream k = 0 is the
  one SGD draws from, so one worker holding all the data draws exactly SGD's samples;
* :class:`Workers` runs each worker's jobs one after another, first come first served:
  a job assigned to a busy worker waits in that worker's queue (seed 001's random and
  shuffled policies can assign a job to a busy worker).  Jobs are engine jobs, so the
  adversary (or the timed adversary's clock) decides which running job finishes next.

Every algorithm records, per received gradient, the observation ``"received"``: at least
``{"t": t, "worker": i, "pi": π, "tau": t - π, "serial": s, "used": bool}``, and the
properties read delays, attribution and discarded work from it.  Its typed layout is each
algorithm's own (``reference/records.py``): :class:`~.asgrad.AsGradReceived`,
:class:`~.common.Received` (Rennala, Malenia), and its extensions
:class:`~.fedbuff.FedBuffReceived` and :class:`~.ringleader.RingleaderReceived`.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from ..data import split_workers
from ..engine import Job, Receive, Start, Stop
from ..errors import InputError
from ..registry import (DICT_BYTES, INT_BYTES, JOB_BYTES, MAX_BATCH, MAX_WORKERS, Cost, MemoryEstimate, Param,
                        arrays_cost, bounded_int, events_cost,
                        records_cost)
from ..rng import generator
from ..records import Record, record
from ..baselines._common import x0_param

STREAM_LOCAL = 0     # + worker index: the samples of a worker's jobs (worker 0 draws as SGD does)


def split_keys(problem) -> np.ndarray | None:
    """The sort key of a heterogeneous split: the labels (logistic, sparse SVM) or the targets
    (least squares) of the samples; ``None`` (sample order) for a problem without them.

    The problems keep these in their kernel arrays, so the key is read from there by class:
    a ``zeta = 1`` split of a classification problem then gives each worker one label block,
    the data heterogeneity seed 004's "heterogeneity on" setting means.
    """
    from ..problems import LeastSquares, Logistic, SparseSVM
    if isinstance(problem, (LeastSquares, Logistic)):
        return np.asarray(problem.arrays[1], dtype=np.float64)
    if isinstance(problem, SparseSVM):
        return np.asarray(problem.arrays[3], dtype=np.float64)
    return None


def local_splits(problem, n: int, zeta: float, seed: int) -> list[np.ndarray]:
    """Worker k's sample indices, sorted by :func:`split_keys` before the ζ-shuffle."""
    if problem.m < n:
        raise InputError(f"n = {n} workers need at least one sample each; the problem has m = {problem.m}")
    return split_workers(problem.m, n, zeta, seed, keys=split_keys(problem))


def local_samples(split: np.ndarray, seed: int, worker: int, serial: int, batch: int = 1) -> np.ndarray:
    """The samples of worker ``worker``'s job number ``serial``: ``batch`` uniform draws from its split."""
    return split[generator(seed, STREAM_LOCAL + worker, serial).integers(0, len(split), size=batch, dtype=np.int64)]


def own_split(splits, worker: int):
    """Whose local data worker ``worker``'s jobs compute on: its own split (the named step
    ``split_of`` of FedBuff, Rennala, Malenia and Ringleader)."""
    return splits[worker]


def local_gradient(problem, split: np.ndarray, seed: int, worker: int, serial: int, x, batch: int = 1):
    """g_k(x): the mean sample gradient over ``batch`` draws from worker ``worker``'s split."""
    idx = local_samples(split, seed, worker, serial, batch)
    if batch == 1:      # exactly SGD's arithmetic (batch_grad would add the gradient to a zero vector)
        return problem.sample_grad(x, int(idx[0])), idx
    return problem.batch_grad(x, idx), idx


@dataclass
class Assigned:
    """One job ``(i, π)``: worker ``i`` computes g_i(x_π); ``serial`` numbers worker i's jobs."""
    worker: int
    pi: int
    serial: int
    engine_id: int | None = None
    data: int | None = None          # whose local data the job computes on (the assigned worker's)


class Workers:
    """Per-worker FIFO queues on top of engine jobs.

    ``assign`` and ``finished`` are generators (use ``yield from``): they start the
    engine job of a worker that is free.  ``compute(job) -> (gradient, samples)`` is
    supplied by the algorithm and is evaluated when the engine job finishes.
    """

    def __init__(self, n: int, compute, on_start=None):
        self.n = n
        self.compute = compute
        self.on_start = on_start            # called with a job when its worker starts it (FedBuff's download)
        self.queue = {k: deque() for k in range(n)}
        self.running: dict[int, Assigned] = {}          # worker -> its running job
        self.by_engine_id: dict[int, Assigned] = {}
        self.serials = [0] * n

    def new_job(self, worker: int, pi: int) -> Assigned:
        if not 0 <= worker < self.n:
            raise InputError(f"worker {worker} does not exist (n = {self.n})")
        job = Assigned(worker, pi, self.serials[worker])
        self.serials[worker] += 1
        return job

    def assign(self, job: Assigned):
        self.queue[job.worker].append(job)
        yield from self._start_next(job.worker)

    def _start_next(self, worker: int):
        if worker in self.running or not self.queue[worker]:
            return
        job = self.queue[worker].popleft()
        self.running[worker] = job
        if self.on_start is not None:
            self.on_start(job)
        job.engine_id = yield Start(Job(f"w{worker}", f"g_{worker}(x_{job.pi}) #{job.serial}",
                                        lambda job=job: self.compute(job)))
        self.by_engine_id[job.engine_id] = job

    def finished(self, message) -> Assigned:
        """The job whose result ``message`` is; frees its worker (then call ``start_next``).

        After :meth:`stop_all` a result of a job that had finished before the stop can
        still arrive; its worker may be running a newer job by then, which stays."""
        job = self.by_engine_id.pop(message.job)
        if self.running.get(job.worker) is job:
            del self.running[job.worker]
        return job

    def stop_all(self, label: str):
        """(``yield from``) Stop every running job and drop every queued one: all workers
        are free.  Returns the jobs stopped (running or queued, in worker order); a job
        that had already finished is not among them, its result can still be received."""
        running = [self.running[k] for k in sorted(self.running)]
        queued = [j for k in range(self.n) for j in self.queue[k]]
        for q in self.queue.values():
            q.clear()
        self.running.clear()
        stopped_ids = set()
        if running:
            stopped_ids = set((yield Stop(tuple(j.engine_id for j in running), label=label)))
        for j in running:
            if j.engine_id in stopped_ids:
                del self.by_engine_id[j.engine_id]
        return sorted([j for j in running if j.engine_id in stopped_ids] + queued, key=lambda j: (j.worker, j.serial))

    def busy(self, worker: int) -> bool:
        """Whether the worker is computing a job or has one waiting in its queue."""
        return worker in self.running or bool(self.queue[worker])

    def start_next(self, worker: int):
        yield from self._start_next(worker)

    def idle(self) -> list[int]:
        return [k for k in range(self.n) if k not in self.running and not self.queue[k]]

    def active(self) -> int:
        """Jobs assigned and not yet received: running plus queued."""
        return len(self.running) + sum(len(q) for q in self.queue.values())


def server_memory(problem, p: dict, *, events: int, results: int, iterates: int, jobs: int, why: str,
                  lower: tuple[str, ...] = ("T",), extra=()):
    """The memory estimate of a parameter server (see ``registry.check_memory``): ``events``
    engine events (``why``: how they were counted), ``results`` gradients received (each
    recorded with its gradient and its ``batch`` samples), ``iterates`` iterates (kept by the
    server and recorded: two copies, and a record of the update), ``jobs`` in flight (with
    their results), one queue per worker, and the ``extra`` costs of the algorithm."""
    d, batch, n = problem.d, p.get("batch", 1), p["n"]
    return MemoryEstimate(
        events_cost(events, why, lower),
        arrays_cost(results + 2 * iterates, d, f"{results:,} gradients received and {iterates:,} iterates x 2 "
                    f"(d = {d})", lower),
        records_cost(results, DICT_BYTES + batch * INT_BYTES, f"{results:,} received, batch = {batch}",
                     lower + (("batch",) if batch > 1 else ())),
        records_cost(iterates, DICT_BYTES, f"{iterates:,} updates", lower),
        Cost(f"{jobs:,} jobs in flight", jobs * (JOB_BYTES + 8 * (d + batch)), ("C", "n") if "C" in p else ("n",)),
        Cost(f"n = {n} worker queues", n * 700, ("n",)),
        *extra)


# --- pieces the parameter servers of seed 004 and FedBuff share ---------------------------------------


def worker_params() -> dict:
    """n, ζ, batch and x0: the parameters every parameter-server algorithm here takes."""
    return {"x0": x0_param(),
            "n": bounded_int("n", 4, "number of workers, >= 1", 1, MAX_WORKERS, "n (workers)"),
            "zeta": Param("zeta", float, 0.0, "data heterogeneity in [0, 1] (0: i.i.d. split, 1: sorted by label)",
                          lambda v: None if 0.0 <= v <= 1.0 else f"zeta must be in [0, 1], got {v!r}",
                          lo=0.0, hi=1.0),
            "batch": bounded_int("batch", 1, "samples per stochastic gradient, >= 1", 1, MAX_BATCH)}


def check_workers(problem, params) -> None:
    if params["n"] > problem.m:
        raise InputError(f"n = {params['n']} workers need at least one sample each; the problem has m = {problem.m}")


def receive_one(workers: Workers, pending: list, label: str):
    """The next finished job of ``workers`` (``yield from``): (job, gradient, samples).

    One ``Receive`` may hand over several results (all those delivered so far); they
    are processed one at a time in delivery order, the order the adversary chose.
    """
    if not pending:
        pending.extend((yield Receive(until=lambda ms: len(ms) >= 1,
                                      match=lambda m: m.job in workers.by_engine_id, label=label)))
    msg = pending.pop(0)
    job = workers.finished(msg)
    g, idx = msg.payload
    return job, g, idx


@record("received")
class Received(Record):
    """A gradient received by the server (Rennala, Malenia; FedBuff and Ringleader add fields): in
    AsGrad's counting, the job (i, π) of worker i = ``worker``, its ``serial``-th, computed at x_π
    (π = ``pi``) and received at iteration (Rennala, Malenia: round k) ``t``, with delay
    τ = t − π (``tau``); ``samples`` its draws from worker i's split, ``gradient`` g_i(x_π), and
    ``used``: whether it entered the update (False: a stale result, line 12's "ignore")."""
    t: int
    worker: int
    pi: int
    tau: int
    serial: int
    samples: list
    used: bool
    gradient: object


def received_record(job, t: int, g, idx, used: bool, kind: "type[Received]" = Received, **extra) -> Received:
    """The record of job ``job``'s gradient ``g`` (samples ``idx``) received at ``t``: a ``kind``
    (the algorithm's :class:`Received`) with its ``extra`` fields."""
    return kind(t=t, worker=job.worker, pi=job.pi, tau=t - job.pi, serial=job.serial,
                samples=[int(j) for j in idx], used=used, gradient=g, **extra)


def sum_in_order(gradients):
    """g_1 + g_2 + ... in the given order, starting from the first (0.0 + (-0.0) would be +0.0)."""
    total = gradients[0]
    for g in gradients[1:]:
        total = total + g
    return total
