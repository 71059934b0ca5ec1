"""The AsGrad framework: general asynchronous SGD with an assignment policy.

Seed 001 (001_c6590ddcd2705154.txt), "Algorithm 1: AsGrad framework: General
Asynchronous SGD" and "Table 1" (Islamov, Safaryan, Alistarh, AISTATS 2024).

=====================================================================  ==========================================
seed 001, Algorithm 1                                                  here (``server``)
=====================================================================  ==========================================
Input: x^0, stepsize γ > 0, A_0 = ∅, R_0 = ∅                           ``xs = [x0]``; ``A``, ``R`` as job lists
Initialization: for all jobs (i, 0) ∈ A_1, assign worker i g_i(x_0)    ``policy.initial``: one job per worker
for t = 0, 1, ..., T − 1 do                                            ``for t in range(T)``
  once worker i_t finishes a job (i_t, π_t) ∈ A_{t+1}, it sends        the adversary picks which job finishes;
  g_{i_t}(x_{π_t})                                                     ``Receive`` its result
  server updates x_{t+1} = x_t − γ g_{i_t}(x_{π_t})                    ``xs.append(xs[t] - gamma * g)``
  and R_{t+1} = R_t ∪ {(i_t, π_t)}                                     ``R.append(job)``
  server assigns worker k_{t+1} to compute g_{k_{t+1}}(x_{α_{t+1}})    ``k, alpha = policy(t, i_t)``
  server updates A_{t+2} = A_{t+1} ∪ {(k_{t+1}, α_{t+1})}              ``workers.assign(...)``
=====================================================================  ==========================================

Assignment policies, seed 001's Table 1 (one small function each, below):

==========================================  ===============================================
method                                      (k_{t+1}, α_{t+1})
==========================================  ===============================================
pure asynchronous SGD                       (i_t, t + 1)
pure asynchronous SGD with waiting (b)      (i_t, b ⌊(t + 1)/b⌋)
random asynchronous SGD                     (k ~ Unif[n], t + 1)
random asynchronous SGD with waiting (b)    (k ~ Unif[n], b ⌊(t + 1)/b⌋)   (FedBuff's AsGrad form)
shuffled asynchronous SGD                   (χ(j), t + 1) with j − 1 = t mod n, a fresh
                                            permutation χ of [n] every n assignments
==========================================  ===============================================

The paper's full text was not reachable to us; its authors' public simulator
(github.com/Rustem-Islamov/AsGrad-public, ``nodes.py``, read, not copied) is, and it agrees
with Table 1's rows as implemented here: ``pure`` reassigns ``self.last_idx`` (the worker
that finished), ``random`` draws ``new_idx = self.rng.choice(range(self.num_nodes))``,
``shuffle`` takes ``new_idx = self.permutation[self.iteration % self.num_nodes]`` and
reshuffles the permutation every n iterations.  It differs in one line, the design notes'
known deviation: the random and shuffled jobs compute ``local_gradient(x, self.last_idx, rng)``,
on the data of the worker that just finished, not of ``new_idx``; here that is the broken
variant ``broken-random-async-finished-workers-data``, which ``asgrad-attribution`` catches.
Its parameter ``b`` is stored and never used, so the "with waiting" rows follow the poster.

Readings of what the poster leaves open:

* "with waiting": new jobs are computed at the last iterate whose index is a multiple
  of b, ``α = b⌊(t+1)/b⌋``; the server still takes a step γ per received gradient,
  so the model the workers see changes only every b updates;
* a job assigned to a busy worker waits in that worker's queue (first come, first
  served): random and shuffled policies can assign several jobs to one worker
  (recorded per assignment as ``ahead``, the jobs it waits behind);
* **jobs in flight C** (default n): A_1 holds C initial jobs (i mod n, 0), and each
  received gradient brings one assignment, so |A_{t+1} \\ R_t| = C at every t and
  τ_C = C for every policy (Table 1's "for shuffled asynchronous SGD τ_C = n" is this
  identity at C = n, not a property of the shuffled rule); C < n leaves workers idle
  under the pure policies, C > n queues jobs from the start;
* a job computes on **the assigned worker's** data f_k (seed 001's heterogeneous
  setting), never on the data of the worker that just finished;
* the recorded quantities are the paper's: π_t and τ_t = t − π_t per received
  gradient, the active jobs |A_{t+1} \\ R_t| per iteration, τ_C (their maximum), and
  τ_max = max(max_t τ_t, max over jobs still active at the end of T − π); τ̃, the
  delay of the *assigned* gradient (Theorem 2), is read here as the iterations from a
  job's assignment (iteration 0 for A_1, t + 1 for the job assigned after receipt t) to
  its receipt, T − that for a job still active at the end; it differs from τ only by
  the waiting offset (t + 1) − α_{t+1} <= b − 1 (τ̃_max is recorded).

Recorded (:data:`RECORDS`): ``"assigned"`` A_1 (a list of (i, 0, serial)), ``"received"`` per
iteration (:class:`AsGradReceived`: ``t``, ``worker`` i_t, ``pi``, ``tau``, ``serial``,
``samples``, ``active``, ``used``, ``gradient``), ``"x"`` x_{t+1}, ``"assign"`` per assignment
(:class:`Assign`: ``t``, ``worker`` k_{t+1}, ``pi`` α_{t+1}, ``serial``, ``ahead``), and at the end
``"tau_C"``, ``"tau_max"``, ``"tau_tilde_max"`` (ints).

Named steps (:class:`~asyncproof.reference.registry.Steps`), the lines where implementations go
wrong: ``policy(t, i_t, n, b, seed) -> (k_{t+1}, α_{t+1})`` (the algorithm's Table 1 row),
``data_of(job, finished)`` whose local data a job computes on (``finished``: the worker that just
finished, ``None`` for A_1; :func:`assigned_worker`), ``point_of(job, xs)`` the iterate it is
computed at (:func:`assigned_iterate`), ``count_active(workers)`` |A_{t+1} \\ R_t|
(:func:`running_and_queued`), ``sample_key(job)`` which draw of its worker's sample stream a job
uses (:func:`job_serial`) and ``serve_queue(workers, worker)`` what a worker does when it finishes
a job (:func:`serve_queue`).
"""

from __future__ import annotations

import numpy as np

from ..engine import Output, ProcessSpec, Receive, System
from ..errors import InputError
from ..records import ITERATE, Record, Value, declare, record
from ..registry import (MAX_BATCH, MAX_ITERATIONS, MAX_JOBS, MAX_WORKERS, Algorithm, Param, Steps, bounded_int,
                        records_cost, register)
from ..rng import generator
from ..baselines._common import final_metrics, gamma_param, iterations_param, start_point, x0_param
from .common import Received, Workers, local_gradient, local_splits, server_memory

STREAM_POLICY = 3_000_017   # the random and shuffled policies' draws, keyed by t (or t // n)


# --- the records (seed 001's quantities) ----------------------------------------------------------


@record("received")
class AsGradReceived(Received):
    """Iteration ``t``: the server receives g_{i_t}(x_{π_t}) from worker i_t = ``worker``, the
    job (i_t, π_t) (π_t = ``pi``, its ``serial``-th job) with delay τ_t = t − π_t (``tau``);
    ``samples`` its draws, ``gradient`` the gradient, ``used`` always True (every received
    gradient is applied); and ``active``, |A_{t+1} \\ R_t| before it."""
    active: int


@record("assign")
class Assign(Record):
    """After iteration ``t``: the job (k_{t+1}, α_{t+1}) (``worker``, ``pi``) assigned, the
    ``serial``-th of worker k_{t+1}, waiting behind ``ahead`` jobs on that worker."""
    t: int
    worker: int
    pi: int
    serial: int
    ahead: int


_INT = (int, np.integer)

#: A_1, the initial jobs: a list of (i, π = 0, serial)
ASSIGNED = Value("assigned", "A_1: the initial jobs (worker, π = 0, serial)", kinds=(list,))
#: τ_C = max_t |A_{t+1} \ R_t|, τ_max and τ̃_max (see the module docstring), at the end of a run
TAU_C = Value("tau_C", "τ_C: the most jobs in flight at any iteration", kinds=_INT)
TAU_MAX = Value("tau_max", "τ_max: the largest delay, of a received gradient or a job still active", kinds=_INT)
TAU_TILDE_MAX = Value("tau_tilde_max", "τ̃_max: the most iterations between a job's assignment and its receipt",
                      kinds=_INT)
RECORDS = declare(ASSIGNED, AsGradReceived, ITERATE, Assign, TAU_C, TAU_MAX, TAU_TILDE_MAX)


# --- assignment policies: (t, i_t) -> (k_{t+1}, α_{t+1}) --------------------------------------


def pure(t: int, i_t: int, n: int, b: int, seed: int) -> tuple[int, int]:
    """Pure asynchronous SGD: the worker that just finished computes at the new iterate."""
    return i_t, t + 1


def pure_waiting(t: int, i_t: int, n: int, b: int, seed: int) -> tuple[int, int]:
    """Pure asynchronous SGD with waiting: at the last iterate that is a multiple of b."""
    return i_t, b * ((t + 1) // b)


def random_worker(t: int, i_t: int, n: int, b: int, seed: int) -> tuple[int, int]:
    """Random asynchronous SGD: a uniformly random worker, busy or not."""
    return int(generator(seed, STREAM_POLICY, t).integers(n)), t + 1


def random_waiting(t: int, i_t: int, n: int, b: int, seed: int) -> tuple[int, int]:
    """Random asynchronous SGD with waiting (FedBuff in AsGrad's form)."""
    return int(generator(seed, STREAM_POLICY, t).integers(n)), b * ((t + 1) // b)


def shuffled(t: int, i_t: int, n: int, b: int, seed: int) -> tuple[int, int]:
    """Shuffled asynchronous SGD: χ(j), j − 1 = t mod n, χ a fresh permutation every n assignments."""
    chi = generator(seed, STREAM_POLICY, t // n).permutation(n)
    return int(chi[t % n]), t + 1


POLICIES = {"pure": pure, "pure-waiting": pure_waiting, "random": random_worker,
            "random-waiting": random_waiting, "shuffled": shuffled}


# --- the other named steps ------------------------------------------------------------------------


def assigned_worker(job, finished):
    """``data_of``: whose local data the job computes on."""
    return job.worker                 # a job computes on the data of the worker it was assigned to


def assigned_iterate(job, xs):
    """``point_of``: the iterate the job is computed at."""
    return xs[job.pi]                 # ... at the iterate x_π it was assigned


def job_serial(job):
    """``sample_key``: which draw of its worker's sample stream the job uses."""
    return job.serial                 # the k-th job of a worker draws the k-th sample of its stream


def running_and_queued(workers):
    """``count_active``: the active jobs |A_{t+1} \\ R_t|."""
    return workers.active()           # |A_{t+1} \ R_t| counts queued jobs too


def serve_queue(workers, worker):
    """(``yield from``) The worker that just finished starts its next queued job at once."""
    yield from workers.start_next(worker)


def initial_jobs(C: int, n: int) -> list[int]:
    """A_1: the workers of the C initial jobs (i mod n, 0): one per worker for C = n."""
    return [i % n for i in range(C)]


def server(problem, splits, gamma: float, T: int, n: int, b: int, batch: int, seed: int, x0, steps: Steps,
           C: int | None = None):
    """The server of Algorithm 1 with ``C`` jobs in flight (default n), running the algorithm's
    named ``steps`` (its policy among them)."""
    C = C or n

    def body(ctx):
        xs = [x0.copy()]                                       # x_0, x_1, ...: jobs read x_π

        def compute(job):
            return local_gradient(problem, splits[job.data], seed, job.worker, steps.sample_key(job),
                                  steps.point_of(job, xs), batch)

        workers = Workers(n, compute)
        assigned = []                                          # A: every job ever assigned, in order
        for i in initial_jobs(C, n):                           # Initialization: (i, 0) ∈ A_1
            job = workers.new_job(i, 0)
            job.data = steps.data_of(job, None)
            job.assigned_at = 0
            assigned.append(job)
            yield from workers.assign(job)
        ctx.record("assigned", [(j.worker, j.pi, j.serial) for j in assigned])
        delivered = []                                         # results received, not yet processed
        tau_C, taus, tilde = 0, [], []
        for t in range(T):
            active = steps.count_active(workers)               # |A_{t+1} \ R_t|
            tau_C = max(tau_C, active)
            if not delivered:                                  # once worker i_t finishes a job (i_t, π_t)
                delivered = yield Receive(until=lambda ms: len(ms) >= 1,
                                          match=lambda m: m.job in workers.by_engine_id, label=f"t={t}")
            msg = delivered.pop(0)
            job = workers.finished(msg)
            tilde.append(t - job.assigned_at)                  # τ̃: iterations since its assignment
            g, idx = msg.payload
            tau = t - job.pi                                   # τ_t = t − π_t
            taus.append(tau)
            ctx.record(AsGradReceived(t=t, worker=job.worker, pi=job.pi, tau=tau, serial=job.serial,
                                      samples=[int(j) for j in idx], active=active, used=True, gradient=g))
            xs.append(xs[t] - gamma * g)                       # x_{t+1} = x_t − γ g_{i_t}(x_{π_t})
            ctx.record("x", xs[t + 1])
            yield from steps.serve_queue(workers, job.worker)
            k, alpha = steps.policy(t, job.worker, n, b, seed)  # (k_{t+1}, α_{t+1})
            new = workers.new_job(k, alpha)
            new.data = steps.data_of(new, job.worker)
            new.assigned_at = t + 1                            # (k_{t+1}, α_{t+1}) ∈ A_{t+2}
            assigned.append(new)
            ahead = (k in workers.running) + len(workers.queue[k])      # jobs it waits behind on worker k
            ctx.record(Assign(t=t, worker=k, pi=alpha, serial=new.serial, ahead=ahead))
            yield from workers.assign(new)                     # A_{t+2} = A_{t+1} ∪ {(k_{t+1}, α_{t+1})}
        open_jobs = list(workers.running.values()) + [q for qs in workers.queue.values() for q in qs]
        tau_max = max(taus + [T - j.pi for j in open_jobs], default=0)
        ctx.record("tau_C", tau_C)
        ctx.record("tau_max", tau_max)
        ctx.record("tau_tilde_max", max(tilde + [T - j.assigned_at for j in open_jobs], default=0))
        yield Output(xs[T])
    return body


def build(problem, params, seed, steps):
    """The system for ``params``, with ``steps`` (:func:`steps_of` a Table 1 row)."""
    n, b = params["n"], params.get("b", 1)
    splits = local_splits(problem, n, params["zeta"], seed)
    x0 = start_point(problem, params)
    body = server(problem, splits, params["gamma"], params["T"], n, b, params["batch"], seed, x0, steps,
                  C=params.get("C"))
    return System([ProcessSpec(body)], seed=seed)


def steps_of(policy: str) -> Steps:
    """The named steps of the Table 1 row ``policy`` (a key of :data:`POLICIES`)."""
    return Steps(policy=POLICIES[policy], data_of=assigned_worker, point_of=assigned_iterate,
                 count_active=running_and_queued, sample_key=job_serial, serve_queue=serve_queue)


def _check(problem, params):
    if params["n"] > problem.m:
        raise InputError(f"n = {params['n']} workers need at least one sample each; the problem has m = {problem.m}")


def _params(waiting: bool) -> dict:
    p = {"gamma": gamma_param(), "T": iterations_param(), "x0": x0_param(),
         "n": bounded_int("n", 4, "number of workers, >= 1", 1, MAX_WORKERS, "n (workers)"),
         "zeta": Param("zeta", float, 0.0, "data heterogeneity in [0, 1] (0: i.i.d. split, 1: sorted by label)",
                       lambda v: None if 0.0 <= v <= 1.0 else f"zeta must be in [0, 1], got {v!r}", lo=0.0, hi=1.0),
         "batch": bounded_int("batch", 1, "samples per stochastic gradient, >= 1", 1, MAX_BATCH),
         "C": bounded_int("C", None, "jobs in flight: |A_1| initial jobs (i mod n, 0), one assigned per received "
                          "gradient (default n)", 1, MAX_JOBS, "C (jobs in flight)")}
    if waiting:     # with b > T every job reads x_0: b is meaningful up to T, so it has T's bound
        p["b"] = bounded_int("b", 2, "waiting: jobs use the iterate b⌊(t+1)/b⌋, b >= 1", 1, MAX_ITERATIONS)
    return p


def memory(problem, p):
    """T received gradients, three events each (a finish, a receive, a start), and the C initial
    jobs' starts and finishes; per received gradient the iterate x_{t+1} and an assignment."""
    T, C = p["T"], p["C"] or p["n"]
    return server_memory(problem, p, events=3 * T + 2 * C, results=T, iterates=T, jobs=C,
                         why=f"3T + 2C, T = {T}, C = {C}", lower=("T", "C"),
                         extra=(records_cost(C, 64, f"C = {C} initial assignments", ("C",)),))


_NAMES = {"pure": ("pure-async-sgd", "pure asynchronous SGD: the finished worker computes at x_{t+1}"),
          "pure-waiting": ("pure-async-sgd-waiting",
                           "pure asynchronous SGD with waiting: the finished worker computes at x_{b⌊(t+1)/b⌋}"),
          "random": ("random-async-sgd", "random asynchronous SGD: a uniformly random worker computes at x_{t+1}"),
          "random-waiting": ("random-async-sgd-waiting",
                             "random asynchronous SGD with waiting (FedBuff's AsGrad form), x_{b⌊(t+1)/b⌋}"),
          "shuffled": ("shuffled-async-sgd", "shuffled asynchronous SGD: workers in a fresh random order every n")}

for _policy, (_name, _summary) in _NAMES.items():
    register(Algorithm(
        name=_name, summary=_summary,
        source=f"seed 001 Algorithm 1 and Table 1 ({_policy} policy)",
        params=_params("waiting" in _policy),
        build=build,
        steps=steps_of(_policy),
        metrics=lambda trace, problem, params: {**final_metrics(trace, problem, 0),
                                                **{v.key: trace.records(v.key)[-1]
                                                   for v in (TAU_C, TAU_MAX, TAU_TILDE_MAX) if trace.records(v.key)}},
        default_problem="least-squares",
        max_steps=lambda p: 6 * (p["T"] + (p["C"] or p["n"])) + 20,
        check=_check,
        family="parameter-server",
        memory=memory,
        records=RECORDS,
    ))
