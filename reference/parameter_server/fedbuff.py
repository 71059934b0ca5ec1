"""FedBuff: buffered asynchronous aggregation with staleness weights.

Nguyen, Malik, Zhan, Yousefpour, Rabbat, Malek, Huba, "Federated learning with buffered
asynchronous aggregation", AISTATS 2022 (reference [3] of seed 001); seed 001
(001_c6590ddcd2705154.txt), "Table 1", row "Random Asynchronous SGD with waiting
(FedBuff)": k_{t+1} ~ Unif[n], and note (c): "If we set η_l = γ/b, η_g = b, Q = 1 in
Theorem 1 [3]".

The paper's full text was not reachable to us line by line: the left column restates its
Algorithm 1 (server and client) from its abstract ("The server aggregates client updates
in a private buffer until K updates have been received, at which point a server model
update is immediately performed"), from the division by K "in Alg 1, L11" (quoted by a
FedScale maintainer, SymbioticLab/FedScale#162), and from seed 001's note (c), which
names its parameters η_l, η_g, Q; the staleness weight 1/√(1 + τ) is the one of Meta's
FLSim (``PolynomialStalenessWeight``, exponent 0.5), whose FedBuff the paper describes.

=============================================================  =============================================
FedBuff, Algorithm 1 (server, client), restated                here (``server``)
=============================================================  =============================================
input: η_g, η_l, local steps Q, concurrency C, buffer size K   params gamma_g, gamma_l, Q, C (default n), K
run C clients; each downloads the current model when it        :func:`initial_clients`; :func:`download`
starts                                                         (``Workers(on_start=download)``), step
                                                               ``downloaded``
client: y_0 = w; y_q = y_{q−1} − η_l g(y_{q−1}), q = 1..Q;      :func:`local_update`: Q steps on worker k's
send Δ = y_0 − y_Q                                             data from the downloaded model
if a client update Δ_i arrives: Δ̄ += s(τ_i) Δ_i, k += 1        ``buffer.append(...)`` with w(s), s = v − v_job
if k == K: Δ̄ = Δ̄ / K (Alg 1, L11); w = w − η_g Δ̄;             step ``normalise`` (:func:`normalise`);
                                                               publish x^(v+1), v += 1
Δ̄ = 0, k = 0
sample a new client (C stay in training)                       k ~ Unif[n] keyed (seed, stream, t): it
                                                               downloads the model when it starts
=============================================================  =============================================

Choices and deviations:

* **Concurrency C** (default n): C clients are in training at any time (jobs assigned
  and not yet received): one new client is sampled per received update.  The first C
  are workers 0, 1, ..., (C − 1) mod n (so C = n starts every worker once, as AsGrad's
  initialisation does); later ones are k ~ Unif[n] (keyed draw
  ``generator(seed, STREAM_POLICY, t)``, the stream AsGrad's random policies use).
  With n workers standing for the paper's large client population, a sampled worker
  that is busy queues the client, first come, first served.
* **The client trains on the model it downloads when it starts** (:func:`download`):
  a client that waited in a busy worker's queue gets the model current when the
  worker takes it up, never one assigned earlier.  That is where FedBuff and AsGrad's
  "random asynchronous SGD with waiting" differ: AsGrad computes a job at the iterate
  of its assignment.  On schedules where no queued client waits across a publish the
  two are the same (note (c) below, tested); elsewhere FedBuff's updates are fresher.
* **Local steps.**  y_q = y_{q−1} − η_l g_k(y_{q−1}; ξ_q) with ξ_q the keyed draw
  (seed, worker, serial·Q + q) from worker k's split, so Q = 1 draws exactly what an
  AsGrad job draws; Δ = y_0 − y_Q is computed as Σ_q η_l g_k(y_{q−1}; ξ_q), summed from
  the first step: equal in exact arithmetic, and it keeps the bits of η_l g for Q = 1
  (w − (w − η_l g) would lose the low bits of a small step).
* **Staleness.**  s = v_now − v_job, the versions published since the model the client
  downloaded; ``weighting="sqrt"`` gives w(s) = 1/sqrt(1 + s) (computed as
  ``1.0 / math.sqrt(1 + s)``), ``"none"`` w = 1.
* **Normalisation.**  ``normalization="K"`` divides the weighted sum by K, as the
  paper's server does (L11).  ``"weights"`` divides by Σ_i w_i instead: that is **not
  FedBuff** (with stale updates Σ w_i < K, so its steps are larger by K / Σ w_i) but a
  deviation found in public codes that claim to divide by K (FedScale's example); it is
  kept selectable so the difference can be shown.  With ``weighting="none"`` both are
  the same.
* **Summation order.**  The buffer is summed **sorted by (worker, serial)**, not in
  arrival order, starting from the first term: Σ_i w_i Δ_i; Σ_i w_i in the same order;
  then divided by Z once, scaled by η_g.
* **AsGrad's counting and note (c).**  Received update t of a client that downloaded
  version v_job has π = K · v_job (x^(v) is AsGrad's x_{Kv}: the model changes every K
  received updates) and τ = t − π.  With ``weighting="none"``, ``normalization="K"``,
  Q = 1, C = n and note (c)'s η_l = γ/b, η_g = b, K = b, FedBuff publishes
  x^(v+1) = x^(v) − (γ/b) Σ of the b gradients: random asynchronous SGD with waiting
  (b, step γ/b per received gradient, i.e. a step γ on the mean of b) up to rounding,
  on every schedule where no client waits in a queue across a publish.
* Updates left in the buffer when T is reached (T not a multiple of K) are not
  applied (``"unpublished"``).
* **Dispatch.**  ``dispatch="update"`` (default) is the paper's asynchronous server: a
  new client after every received update.  ``dispatch="round"`` is the **synchronous
  schedule** (the synchronous FedAvg limit the paper compares with): with K = C = n,
  every worker gets one client right after x^(v) is published and none in between, so
  each buffer holds exactly one update per worker, all of staleness 0.  Then, under any
  order of finishing, FedBuff with Q = 1 is mini-batch SGD on those n samples:
  ``x^(v+1) = x^(v) − η_g (Σ_k η_l g_k(x^(v)))/n`` (a property checks it bit for bit
  against ``minibatch-sgd`` with the same batches).  K != n or C != n is an error there.

Named steps: ``normalise(buffer, normalization: str, K: int)`` returns ``(step, entries, Z)``,
line L11's (Σ_i w_i Δ_i) / Z over the buffer sorted by (worker, serial) (:func:`normalise`; replace it
with ``Steps.replace(normalise=...)``), ``downloaded(published, job)`` the version a starting client
trains on (:func:`newest`), and ``split_of(splits, worker)`` whose local data a client trains on
(:func:`~.common.own_split`).

Recorded (:data:`RECORDS`): ``"received"`` per update (:class:`FedBuffReceived`: ``t``,
``worker``, ``serial``, ``version``, ``pi``, ``tau``, ``version_delay`` s, ``weight`` w(s),
``samples`` (the first local step's), ``gradient`` (the first local step's, at the downloaded
model), ``local_samples`` (every step's), ``delta`` Δ, ``used``), ``"assign"``
(:class:`FedBuffAssign`: ``t``, ``worker``, ``serial``, ``version`` current then),
``"download"`` (:class:`Download`: ``worker``, ``serial``, ``version``) when a client starts,
``"publish"`` per new model (:class:`Publish`: ``version``, ``t``: updates received so far,
``members`` (worker, serial) in summation order, ``weights``, ``Z``), ``"x"`` per publish,
``"unpublished"`` at the end.
"""

from __future__ import annotations

import math

from ..engine import Output, ProcessSpec, System
from ..errors import InputError
from ..records import ITERATE, Record, Value, declare, record
from ..registry import (DICT_BYTES, INT_BYTES, MAX_ITERATIONS, MAX_JOBS, MAX_STEP, Algorithm, Cost, Param, Steps,
                        arrays_cost, bounded_int, positive, records_cost, register)
from ..rng import generator
from ..baselines._common import final_metrics, iterations_param, start_point
from .asgrad import STREAM_POLICY
from .common import (Received, Workers, check_workers, local_gradient, local_splits, own_split, receive_one,
                    received_record, server_memory, sum_in_order, worker_params)


@record("received")
class FedBuffReceived(Received):
    """A client update received (update ``t``), the fields of :class:`~.common.Received` (``pi`` =
    K v_job, ``tau`` = t − π, ``samples`` and ``gradient`` of the first local step, ``used`` True)
    and FedBuff's: the ``version`` v_job the client downloaded, its staleness s = v_now − v_job
    (``version_delay``), the weight w(s) (``weight``), Δ (``delta``), and every local step's
    samples (``local_samples``)."""
    version: int
    version_delay: int
    weight: float
    delta: object
    local_samples: list


@record("download")
class Download(Record):
    """A client starts on worker ``worker`` (its ``serial``-th) and downloads model x^(``version``)."""
    worker: int
    serial: int
    version: int


@record("assign")
class FedBuffAssign(Record):
    """After update ``t``: a new client sampled on worker k ~ Unif[n] (``worker``), its ``serial``-th,
    when the current model was x^(``version``) (recorded, not used: it downloads when it starts)."""
    t: int
    worker: int
    serial: int
    version: int


@record("publish")
class Publish(Record):
    """Model x^(``version``) published after ``t`` updates received: the buffer's ``members``
    (worker, serial) in summation order, their ``weights`` w_i, and the divisor ``Z``."""
    version: int
    t: int
    Z: float
    members: list
    weights: list


#: the (worker, serial) of the updates left in the buffer at the end (T not a multiple of K)
UNPUBLISHED = Value("unpublished", "the updates left in the buffer at the end, (worker, serial)", kinds=(list,))
RECORDS = declare(Download, FedBuffReceived, Publish, ITERATE, FedBuffAssign, UNPUBLISHED)

WEIGHTINGS = {"none": lambda s: 1.0, "sqrt": lambda s: 1.0 / math.sqrt(1 + s)}
NORMALIZATIONS = ("K", "weights")


def normalise(buffer, normalization: str, K: int):
    """Line L11: (Σ_i w_i Δ_i) / Z over the buffer sorted by (worker, serial); Z = K or Σ_i w_i.
    Returns (the step, the entries in summation order, Z)."""
    entries = sorted(buffer, key=lambda e: (e["worker"], e["serial"]))
    num = sum_in_order([e["weight"] * e["delta"] for e in entries])
    Z = float(K) if normalization == "K" else sum_in_order([e["weight"] for e in entries])
    return num / Z, entries, Z


def local_update(problem, split, seed: int, worker: int, serial: int, y0, gamma_l: float, Q: int, batch: int):
    """The client: y_q = y_{q−1} − η_l g(y_{q−1}; ξ_q), q = 1..Q, from the downloaded model y_0;
    Δ = y_0 − y_Q as Σ_q η_l g(y_{q−1}; ξ_q).  Returns (gradients, samples, Δ)."""
    y, steps, grads, samples = y0, [], [], []
    for q in range(Q):
        g, idx = local_gradient(problem, split, seed, worker, serial * Q + q, y, batch)
        step = gamma_l * g
        grads.append(g)
        samples.append(idx)
        steps.append(step)
        if q + 1 < Q:
            y = y - step
    return grads, samples, sum_in_order(steps)


def newest(published, job) -> int:
    """(The step ``downloaded``.)  The model a client downloads when it starts: the one published
    last (not ``job.assigned``, the one current when it was sampled, if it waited in a busy worker's queue)."""
    return len(published) - 1


def initial_clients(C: int, n: int) -> list[int]:
    """The first C clients: workers 0, 1, ..., (C − 1) mod n."""
    return [j % n for j in range(C)]


def server(problem, splits, p: dict, seed: int, x0, steps: Steps):
    """FedBuff's server, with the algorithm's named ``steps``."""
    n, K, T, Q = p["n"], p["K"], p["T"], p["Q"]
    C = p["C"] or n
    weight = WEIGHTINGS[p["weighting"]]

    def body(ctx):
        published = [x0.copy()]                                # x^(0), x^(1), ...

        def compute(job):
            grads, samples, delta = local_update(problem, steps.split_of(splits, job.worker), seed, job.worker,
                                                 job.serial, published[job.version], p["gamma_l"], Q, p["batch"])
            return (grads, delta), samples

        def download(job):                                     # the client starts: it takes the current model
            job.version = steps.downloaded(published, job)
            job.pi = K * job.version                           # AsGrad's π = K v
            ctx.record(Download(worker=job.worker, serial=job.serial, version=job.version))

        workers = Workers(n, compute, on_start=download)
        def sample(k):
            job = workers.new_job(k, None)
            job.assigned = len(published) - 1                  # current when sampled (recorded, not used)
            return job

        for k in initial_clients(C, n):                        # run C clients
            yield from workers.assign(sample(k))
        buffer, pending = [], []
        for t in range(T):
            v = len(published) - 1
            job, (grads, delta), samples = yield from receive_one(workers, pending, f"t={t}")
            s = v - job.version
            rec = received_record(job, t, grads[0], samples[0], True, FedBuffReceived, version=job.version,
                                  version_delay=s, weight=weight(s), delta=delta,
                                  local_samples=[[int(j) for j in idx] for idx in samples])
            ctx.record(rec)
            buffer.append(rec.fields())                        # the step normalise takes the fields
            if len(buffer) == K:
                step, entries, Z = steps.normalise(buffer, p["normalization"], K)
                published.append(published[v] - p["gamma_g"] * step)
                ctx.record(Publish(version=v + 1, t=t + 1, Z=Z, members=[(e["worker"], e["serial"]) for e in entries],
                                   weights=[e["weight"] for e in entries]))
                ctx.record("x", published[v + 1])
                buffer = []
            if p["dispatch"] == "round":
                if not buffer:                                 # x^(v+1) was just published: the next round
                    for i in range(n):
                        yield from workers.assign(sample(i))
                continue
            yield from workers.start_next(job.worker)         # the finished worker's queued client, if any
            k = int(generator(seed, STREAM_POLICY, t).integers(n))     # sample a new client
            new = sample(k)
            ctx.record(FedBuffAssign(t=t, worker=k, serial=new.serial, version=new.assigned))
            yield from workers.assign(new)
        ctx.record("unpublished", [(e["worker"], e["serial"]) for e in buffer])
        yield Output(published[-1])
    return body


def build(problem, params, seed, steps):
    splits = local_splits(problem, params["n"], params["zeta"], seed)
    return System([ProcessSpec(server(problem, splits, params, seed, start_point(problem, params), steps))],
                  seed=seed)


def check(problem, params):
    check_workers(problem, params)
    if params["dispatch"] == "round" and params["K"] != params["n"]:
        raise InputError(f"dispatch='round' gives each of the n = {params['n']} workers one job per round: "
                         f"the buffer size K must equal n, got K = {params['K']}")
    if params["dispatch"] == "round" and params["C"] not in (None, params["n"]):
        raise InputError(f"dispatch='round' keeps one client per worker in training: the concurrency C must "
                         f"equal n = {params['n']}, got C = {params['C']}")
    if params["K"] > params["T"]:
        raise InputError(f"K = {params['K']} > T = {params['T']}: the buffer would never fill, "
                         f"no model would be published")


def metrics(trace, problem, params):
    m = final_metrics(trace, problem, 0)
    m["publishes"] = len(trace.records(Publish))
    recs = trace.records(FedBuffReceived)
    if recs:
        m["max_version_delay"] = max(r.version_delay for r in recs)
    unpublished = trace.records(UNPUBLISHED.key)
    if unpublished:
        m["unpublished"] = len(unpublished[-1])
    return m


def _one_of(name, allowed, why):
    return lambda v: None if v in allowed else f"{name} must be one of {', '.join(map(repr, allowed))} ({why}), " \
                                              f"got {v!r}"


PARAMS = {
    "gamma_l": Param("gamma_l", float, 0.05, "client step size η_l (one local step: the update is η_l g), > 0",
                     positive("gamma_l (client step size)"), lo=0.0, lo_open=True, hi=MAX_STEP,
                     what="gamma_l (client step size)"),
    "gamma_g": Param("gamma_g", float, 1.0, "server step size η_g, > 0", positive("gamma_g (server step size)"),
                     lo=0.0, lo_open=True, hi=MAX_STEP, what="gamma_g (server step size)"),
    "K": bounded_int("K", 2, "buffer size: a new model every K received updates, 1 <= K <= T", 1, MAX_ITERATIONS,
                     "K (buffer size)"),
    "T": iterations_param(),
    # Q gradients per client, computed within one job and held until it is received
    "Q": bounded_int("Q", 1, "local steps of a client, y_q = y_{q-1} − η_l g(y_{q-1}), >= 1", 1, 10_000),
    "C": bounded_int("C", None, "concurrency: clients in training at once (default n), >= 1", 1, MAX_JOBS,
                     "C (concurrency)"),
    "weighting": Param("weighting", str, "sqrt", "staleness weight w(s): 'sqrt' = 1/sqrt(1+s) (the paper's), "
                       "'none' = 1", _one_of("weighting", tuple(WEIGHTINGS), "'sqrt' is 1/sqrt(1+s), the paper's")),
    "normalization": Param("normalization", str, "K", "divide the weighted sum by 'K' (FedBuff) or by "
                           "'weights' = Σ w_i (NOT FedBuff: a deviation of public codes, kept to show it)",
                           _one_of("normalization", NORMALIZATIONS, "'K' is FedBuff's; 'weights' is not")),
    "dispatch": Param("dispatch", str, "update", "'update': a new client after every received update (FedBuff); "
                      "'round': the synchronous schedule, every worker one job per published model (needs K = n)",
                      _one_of("dispatch", ("update", "round"), "'update' is the paper's asynchronous server")),
    **worker_params(),
}


def memory(problem, p):
    """T received updates, three events each, and the C initial clients; per update its delta
    and the Q x batch samples of its local steps recorded, a download and an assignment; a
    model x^(v) every K updates; each client in flight holds its Q gradients."""
    T, C, K, Q, d = p["T"], p["C"] or p["n"], p["K"], p["Q"], problem.d
    return server_memory(
        problem, p, events=3 * T + 2 * C, results=T, iterates=max(1, T // K), jobs=C,
        why=f"3T + 2C, T = {T}, C = {C}", lower=("T", "C"),
        extra=(arrays_cost(T, d, f"T = {T} deltas (d = {d})"),
               records_cost(2 * T + C, DICT_BYTES // 2 + Q * p["batch"] * INT_BYTES // 2,
                            f"2T + C downloads and assignments, Q = {Q} local steps", ("T", "Q")),
               Cost(f"C = {C} clients x Q = {Q} gradients in flight", C * Q * (8 * d + 112), ("C", "Q"))))


# Every received update costs a finish, a receive and a start event; T of them plus the jobs
# still running at the end.
ALGORITHM = register(Algorithm(
    name="fedbuff",
    summary="FedBuff: C clients in training, Q local steps, staleness-weighted buffer of K updates, "
            "x^(v+1) = x^(v) − η_g (Σ w Δ)/K",
    source="Nguyen et al., AISTATS 2022 (seed 001 reference [3]); seed 001 Table 1 'Random Asynchronous SGD with "
           "waiting (FedBuff)'",
    params=PARAMS,
    build=build,
    steps=Steps(normalise=normalise, downloaded=newest, split_of=own_split),
    metrics=metrics,
    default_problem="least-squares",
    max_steps=lambda p: 6 * (p["T"] + (p["C"] or p["n"])) + 20,
    check=check,
    family="parameter-server",
    memory=memory,
    records=RECORDS,
))
