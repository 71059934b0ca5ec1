"""FedBuff: buffered asynchronous aggregation with staleness weights.

Nguyen, Malik, Zhan, Yousefpour, Rabbat, Malek, Huba, "Federated learning with buffered
asynchronous aggregation", AISTATS 2022 (reference [3] of seed 001); seed 001
(001_c6590ddcd2705154.txt), "Table 1", row "Random Asynchronous SGD with waiting
(FedBuff)": k_{t+1} ~ Unif[n], and note (c): "η_l = γ/b, η_g = b, Q = 1 in Theorem 1 [3]".

The left column gives the statements of the paper's Algorithm 1 (server and client) in
order; the line numbers of its pseudo-code are not cited.

=============================================================  =============================================
FedBuff, Algorithm 1 (server, client)                          here (``server``)
=============================================================  =============================================
input: η_g, η_l, local steps Q, concurrency C, buffer size K   params gamma_g, gamma_l, K; Q = 1; C = n
run C clients on the current model                            one job per worker at x^(0) (version 0)
client: y_0 = w; y_q = y_{q−1} − η_l g(y_{q−1}), q = 1..Q;      the job computes g_k at the model of its
send Δ = y_0 − y_Q                                             version; Δ = η_l g (Q = 1, exactly)
if a client update Δ_i arrives: Δ̄ += Δ_i, k += 1; scaled by    ``buffer.append(...)`` with w(s), s = v − v_job
s(τ_i) = 1/√(1 + τ_i) in the paper's experiments               (the received updates t = 0 .. T − 1)
if k == K: Δ̄ = Δ̄ / K; w = w − η_g Δ̄; Δ̄ = 0, k = 0              :func:`aggregate`; publish x^(v+1), v += 1
sample a new client, send it the current model                 k ~ Unif[n] keyed (seed, stream, t); version v
=============================================================  =============================================

Choices and deviations:

* **Assignment** is seed 001's: after each received update t a worker k ~ Unif[n]
  (keyed draw ``generator(seed, STREAM_POLICY, t)``, the stream AsGrad's random
  policies use) gets a job at the model published at that moment; a busy worker
  queues it (first come, first served), and it still computes at the model of its
  assignment.  It computes on **worker k's** data, never on the data of the worker
  that just finished.
* **Staleness.**  s = v_now − v_job, the versions published since the job's model;
  ``weighting="sqrt"`` gives w(s) = 1/sqrt(1 + s) (the paper's experiments; computed as
  ``1.0 / math.sqrt(1 + s)``), ``"none"`` w = 1.
* **Normalisation.**  ``normalization="K"`` divides the weighted sum by K, as the
  paper's server does.  ``"weights"`` divides by Σ_i w_i instead: that is **not
  FedBuff** (with stale updates Σ w_i < K, so its steps are larger by K / Σ w_i) but a
  deviation found in public codes that claim to divide by K; it is kept selectable
  so the difference can be shown, and the tests show it.  With ``weighting="none"``
  both are the same.
* **Summation order.**  The buffer is summed **sorted by (worker, serial)**, not in
  arrival order, starting from the first term: Σ_i w_i (η_l g_i); Σ_i w_i in the
  same order; then divided by Z once, scaled by η_g.
* **AsGrad's counting.**  Received update t of a job of version v_job has
  π = K · v_job (x^(v) is AsGrad's x_{Kv}: the model changes every K received
  updates) and τ = t − π.  With ``weighting="none"``, ``normalization="K"``, η_g = 1
  and η_l = K γ, FedBuff is AsGrad's random asynchronous SGD with waiting (b = K,
  step γ) up to rounding: the same jobs, the same samples, the same x_{Kv}.
* Updates left in the buffer when T is reached (T not a multiple of K) are not
  applied (``"unpublished"``).
* **Dispatch.**  ``dispatch="update"`` (default) is the paper's asynchronous server: a
  new client after every received update, on the model published at that moment.
  ``dispatch="round"`` is the **synchronous schedule** (the synchronous FedAvg limit the
  paper compares with): with K = n, every worker gets one job at x^(v) right after x^(v)
  is published and none in between, so each buffer holds exactly one update per worker,
  all of staleness 0.  Then, under any order of finishing, FedBuff is mini-batch SGD on
  those n samples: ``x^(v+1) = x^(v) − η_g (Σ_k η_l g_k(x^(v)))/n`` (a property checks it
  bit for bit against ``minibatch-sgd`` with the same batches).  K != n is an error there
  (a round has n updates: a buffer of K > n would wait for a round that never comes).

Recorded: ``"received"`` per update (``t``, ``worker``, ``serial``, ``version``, ``pi``, ``tau``,
``version_delay`` s, ``weight`` w(s), ``samples``, ``gradient``, ``used``), ``"assign"``,
``"publish"`` per new model (``version``, ``t``: updates received so far, ``members``
(worker, serial) in summation order, ``weights``, ``Z``), ``"x"`` per publish,
``"unpublished"`` at the end.
"""

from __future__ import annotations

import math

from ..engine import Output, ProcessSpec, System
from ..errors import InputError
from ..registry import Algorithm, Param, positive, register
from ..rng import generator
from ..baselines._common import final_metrics, iterations_param, start_point
from .asgrad import STREAM_POLICY
from .common import Workers, local_gradient, local_splits
from .rennala import check_workers, receive_one, received_record, sum_in_order, worker_params

WEIGHTINGS = {"none": lambda s: 1.0, "sqrt": lambda s: 1.0 / math.sqrt(1 + s)}
NORMALIZATIONS = ("K", "weights")


def aggregate(buffer, gamma_l: float, normalization: str, K: int):
    """(Σ_i w_i η_l g_i) / Z over the buffer sorted by (worker, serial); Z = K or Σ_i w_i."""
    entries = sorted(buffer, key=lambda e: (e["worker"], e["serial"]))
    num = sum_in_order([e["weight"] * (gamma_l * e["gradient"]) for e in entries])
    Z = float(K) if normalization == "K" else sum_in_order([e["weight"] for e in entries])
    return num / Z, entries, Z


def _newest(published) -> int:
    return len(published) - 1          # a round's jobs compute at the model just published


def server(problem, splits, p: dict, seed: int, x0, round_version=_newest):
    """FedBuff's server; ``round_version(published)`` is the version a synchronous round's jobs
    get (the hook a broken variant replaces: the round dispatched before the publish)."""
    n, K, T = p["n"], p["K"], p["T"]
    weight = WEIGHTINGS[p["weighting"]]

    def body(ctx):
        published = [x0.copy()]                                # x^(0), x^(1), ...: a job reads its version's

        def compute(job):
            return local_gradient(problem, splits[job.worker], seed, job.worker, job.serial,
                                  published[job.version], p["batch"])

        workers = Workers(n, compute)

        def new_job(k, version):
            job = workers.new_job(k, K * version)              # AsGrad's π = K v
            job.version = version
            return job

        def dispatch_round(version):                           # dispatch="round": one job per worker
            for i in range(n):
                yield from workers.assign(new_job(i, version))

        yield from dispatch_round(0)                           # concurrency C = n, all at x^(0)
        buffer, pending = [], []
        for t in range(T):
            v = len(published) - 1
            job, g, idx = yield from receive_one(workers, pending, f"t={t}")
            s = v - job.version
            rec = received_record(job, t, g, idx, True, version=job.version, version_delay=s, weight=weight(s))
            ctx.record("received", rec)
            buffer.append(rec)
            if len(buffer) == K:
                step, entries, Z = aggregate(buffer, p["gamma_l"], p["normalization"], K)
                published.append(published[v] - p["gamma_g"] * step)
                ctx.record("publish", {"version": v + 1, "t": t + 1, "Z": Z,
                                       "members": [(e["worker"], e["serial"]) for e in entries],
                                       "weights": [e["weight"] for e in entries]})
                ctx.record("x", published[v + 1])
                buffer = []
            if p["dispatch"] == "round":
                if not buffer:                                 # x^(v+1) was just published
                    yield from dispatch_round(round_version(published))
                continue
            yield from workers.start_next(job.worker)         # the finished worker's queued job, if any
            k = int(generator(seed, STREAM_POLICY, t).integers(n))
            new = new_job(k, len(published) - 1)
            ctx.record("assign", {"t": t, "worker": k, "version": new.version, "pi": new.pi, "serial": new.serial})
            yield from workers.assign(new)
        ctx.record("unpublished", [(e["worker"], e["serial"]) for e in buffer])
        yield Output(published[-1])
    return body


def build(problem, params, seed):
    splits = local_splits(problem, params["n"], params["zeta"], seed)
    return System([ProcessSpec(server(problem, splits, params, seed, start_point(problem, params)))], seed=seed)


def check(problem, params):
    check_workers(problem, params)
    if params["dispatch"] == "round" and params["K"] != params["n"]:
        raise InputError(f"dispatch='round' gives each of the n = {params['n']} workers one job per round: "
                         f"the buffer size K must equal n, got K = {params['K']}")
    if params["K"] > params["T"]:
        raise InputError(f"K = {params['K']} > T = {params['T']}: the buffer would never fill, "
                         f"no model would be published")


def metrics(trace, problem, params):
    m = final_metrics(trace, problem, 0)
    m["publishes"] = len(trace.observed("publish"))
    recs = trace.observed("received")
    if recs:
        m["max_version_delay"] = max(r["version_delay"] for r in recs)
    if trace.observed("unpublished"):
        m["unpublished"] = len(trace.observed("unpublished")[-1])
    return m


def _one_of(name, allowed, why):
    return lambda v: None if v in allowed else f"{name} must be one of {', '.join(map(repr, allowed))} ({why}), " \
                                              f"got {v!r}"


PARAMS = {
    "gamma_l": Param("gamma_l", float, 0.05, "client step size η_l (one local step: the update is η_l g), > 0",
                     positive("gamma_l (client step size)")),
    "gamma_g": Param("gamma_g", float, 1.0, "server step size η_g, > 0", positive("gamma_g (server step size)")),
    "K": Param("K", int, 2, "buffer size: a new model every K received updates, 1 <= K <= T",
               lambda v: None if v >= 1 else f"K (buffer size) must be >= 1, got {v!r}"),
    "T": iterations_param(),
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

# Every received update costs a finish, a receive and a start event; T of them plus the jobs
# still running at the end.
ALGORITHM = register(Algorithm(
    name="fedbuff",
    summary="FedBuff: random workers, staleness-weighted buffer of K updates, x^(v+1) = x^(v) − η_g (Σ w η_l g)/K",
    source="Nguyen et al., AISTATS 2022 (seed 001 reference [3]); seed 001 Table 1 'Random Asynchronous SGD with "
           "waiting (FedBuff)'",
    params=PARAMS,
    build=build,
    metrics=metrics,
    default_problem="least-squares",
    max_steps=lambda p: 6 * (p["T"] + p["n"]) + 20,
    check=check,
    family="parameter-server",
))
