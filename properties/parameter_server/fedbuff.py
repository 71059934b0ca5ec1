"""The guarantees of FedBuff (Nguyen et al., AISTATS 2022, Algorithm 1) and the broken variants they must catch.

* ``fedbuff-aggregation``: a model is published after exactly K received updates, and
  x^(v+1) = x^(v) − η_g (Σ_i w(s_i) η_l g_i)/Z, with s recomputed from the order of the
  records, w(s) = 1/sqrt(1+s) ("sqrt") or 1 ("none"), Z = K ("K", the paper) or Σ w_i
  ("weights").  It must catch ``broken-fedbuff-divides-by-weights``: its parameters say
  ``normalization="K"`` but it divides by Σ_i w_i (design notes, "Known deviations"; the
  ``normalise`` step replaced).
* ``fedbuff-clients``: a client trains on the model published last when it starts, runs
  its Q local steps on its keyed samples, and C clients are in training.  It must catch
  ``broken-fedbuff-queued-model``: a client that waited in a busy worker's queue trains on
  the model current when it was sampled (the ``downloaded`` step replaced).
* ``fedbuff-synchronous-minibatch``: FedBuff with K = n under the synchronous schedule
  (``dispatch="round"``: every worker one job per published model) is mini-batch SGD on
  the same samples, bit for bit, whatever order the round's jobs finish in.  It must catch
  ``broken-fedbuff-round-before-publish``: a starting client downloads the model before
  the one just published (the ``downloaded`` step replaced).
"""

from __future__ import annotations

import math

from hypothesis import strategies as st

from ...reference.parameter_server import fedbuff
from ...reference.parameter_server.common import local_splits
from ...reference.parameter_server.fedbuff import UNPUBLISHED, Download, FedBuffAssign, FedBuffReceived, Publish
from ...reference.schedule import run_algorithm
from ..common import bit_difference
from ..guarantees import Case, Guarantee, register
from ..kernels import documented_local_samples
from ..strategies import problems, seeds, step_sizes
from ..variants import variant
from .common import draw, each_job_once_in_order, finished, in_order, iterates, job_key, recompute, server_records


# --- FedBuff's server: a model per K received updates, their weights, the normalisation ---------


def _client_delta(result, r, xs):
    """A client's Q local steps replayed from its recorded samples and the model it downloaded:
    y_q = y_{q−1} − η_l g(y_{q−1}; ξ_q); returns (the gradients, Δ = Σ_q η_l g(y_{q−1}; ξ_q))."""
    gamma_l = result.params["gamma_l"]
    y, grads, steps = xs[r.version], [], []
    for q, samples in enumerate(r.local_samples):
        g = recompute(result.problem, y, samples)
        grads.append(g)
        steps.append(gamma_l * g)
        y = y - steps[-1]
    return grads, in_order(steps)


def check_fedbuff(result) -> str | None:
    p, xs = result.params, iterates(result)
    K, T = p["K"], p["T"]
    weight = (lambda s: 1.0 / math.sqrt(1 + s)) if p["weighting"] == "sqrt" else (lambda s: 1.0)
    v, since, t, recs = 0, [], 0, []
    for key, val in server_records(result, FedBuffReceived, Publish):
        if key == FedBuffReceived.key:
            r, w, s = val, val.worker, val.serial
            recs.append(r)
            stale = v - r.version                           # models published since the job's
            if r.t != t or r.version > v or r.version_delay != stale:
                return (f"received update {t} (worker {w}'s #{s}, of x^({r.version})) after {v} models: "
                        f"recorded as t = {r.t}, s = {r.version_delay}, not s = {stale}")
            if r.pi != K * r.version or r.tau != t - r.pi:
                return f"received update {t}: π = {r.pi}, τ = {r.tau} for a job of version {r.version}"
            if r.weight != weight(stale):
                return f"received update {t}: weight {r.weight} for staleness {stale}, w(s) = {weight(stale)}"
            since.append(r)
            t += 1
        else:                                                           # Publish
            v += 1
            if len(since) != K or val.version != v or val.t != t:
                return (f"model x^({v}) was published after {len(since)} received updates since the last "
                        f"(recorded version {val.version}, t = {val.t}), not K = {K}")
            buf = sorted(since, key=job_key)
            if [tuple(m) for m in val.members] != [job_key(r) for r in buf]:
                return f"x^({v}): members recorded {val.members}, the buffer holds {[job_key(r) for r in buf]}"
            ws = [weight(v - 1 - r.version) for r in buf]
            num = in_order([wi * _client_delta(result, r, xs)[1] for wi, r in zip(ws, buf)])
            Z = float(K) if p["normalization"] == "K" else in_order(ws)
            diff = bit_difference(xs[v], xs[v - 1] - p["gamma_g"] * (num / Z), f"x^({v})",
                                  f"x^({v - 1}) − η_g (Σ w(s_i) Δ_i)/Z with Z = {Z!r} "
                                  f"(normalization = {p['normalization']!r}), Δ_i recomputed from the "
                                  f"client's local steps")
            if diff:
                return diff
            if val.Z != Z:
                return f"x^({v}): recorded Z = {val.Z!r}, normalization = {p['normalization']!r} means {Z!r}"
            since = []
    msg = each_job_once_in_order(recs, p["n"])
    if msg:
        return msg
    if finished(result):
        left = result.trace.records(UNPUBLISHED.key, 0)
        if t != T or v != T // K:
            return f"the run finished after {t} received updates and {v} models (T = {T}, K = {K})"
        if not left or sorted(tuple(m) for m in left[-1]) != sorted(job_key(r) for r in since):
            return f"the unpublished updates are reported as {left[-1] if left else None}"
    return None


def _stale_weighted_publish(result) -> bool:
    """A published model had a stale update (s >= 1) weighted below 1 in its buffer."""
    return any(w < 1.0 for pub in result.trace.records(Publish) for w in pub.weights)


register(Guarantee(
    name="fedbuff-aggregation",
    statement="FedBuff publishes after exactly K received updates: x^(v+1) = x^(v) − η_g (Σ w(s_i) η_l g_i)/Z, "
              "Z = K ('K') or Σ w_i ('weights'), s from the record order",
    source="Nguyen et al., AISTATS 2022, Algorithm 1; design notes, 'Known deviations'",
    algorithms=("fedbuff",),
    draw=draw,
    check=check_fedbuff,
    hard=_stale_weighted_publish,
    hard_case="a stale update (s >= 1, w < 1) in a published buffer",
    broken={"fedbuff": "broken-fedbuff-divides-by-weights"},
))


def _divided_by_weights(buffer, normalization: str, K: int):
    return fedbuff.normalise(buffer, "weights", K)      # the mistake: Σ_i w_i, whatever the parameters say


variant("broken-fedbuff-divides-by-weights", of="fedbuff",
        mistake="normalization='K', but the weighted sum is divided by the sum of the weights",
        replace={"normalise": _divided_by_weights})


# --- FedBuff's clients: the model they download, their local steps, C in training ---------------


def check_fedbuff_clients(result) -> str | None:
    """From the order of the records alone: a client's ``"download"`` comes when its worker takes it
    up, and it must be the model published last by then (not the one current when it was sampled);
    every received update is of a downloaded client, its Q local steps recompute bit for bit from
    that model and its keyed samples (worker k's (serial·Q + q)-th draws), Δ = Σ_q η_l g_q; and C
    clients are in training (sampled, not yet received) whenever an update arrives."""
    p, xs, seed = result.params, iterates(result), result.schedule.seed
    n, Q = p["n"], p["Q"]
    C = p["C"] or n
    splits = local_splits(result.problem, n, p["zeta"], seed)
    v, downloads, sampled, received = 0, {}, 0, 0
    sampled = C if p["dispatch"] == "update" else n
    for key, val in server_records(result, Download, Publish, FedBuffAssign, FedBuffReceived):
        if key == Download.key:
            if val.version != v:
                return (f"worker {val.worker}'s client #{val.serial} started when x^({v}) was the newest "
                        f"model, but trained on x^({val.version})")
            downloads[job_key(val)] = val.version
        elif key == Publish.key:
            v += 1
            if p["dispatch"] == "round":
                sampled += n
        elif key == FedBuffAssign.key:
            sampled += 1
        else:                                                           # FedBuffReceived
            r, w, srl = val, val.worker, val.serial
            if job_key(r) not in downloads:
                return f"worker {w}'s update #{srl} arrived, but that client never started"
            if r.version != downloads[job_key(r)]:
                return (f"worker {w}'s update #{srl} is recorded of x^({r.version}), but its client downloaded "
                        f"x^({downloads[job_key(r)]})")
            if p["dispatch"] == "update" and sampled - received != C:
                return f"update {r.t} arrived with {sampled - received} clients in training, not C = {C}"
            received += 1
            if len(r.local_samples) != Q:
                return f"worker {w}'s client #{srl} took {len(r.local_samples)} local steps, not Q = {Q}"
            for q, samples in enumerate(r.local_samples):
                drawn = documented_local_samples(splits[w], seed, w, srl * Q + q, p["batch"])
                if samples != drawn:
                    return (f"worker {w}'s client #{srl}, local step {q + 1}: samples {samples}, not its keyed draw "
                            f"{drawn} from worker {w}'s split")
            grads, delta = _client_delta(result, r, xs)
            diff = bit_difference(r.delta, delta, f"worker {w}'s client #{srl}: Δ",
                                  f"Σ_q η_l g(y_(q−1)) from x^({r.version}), Q = {Q}")
            if diff:
                return diff
    return None


def _waited_across_a_publish(result) -> bool:
    """A client sampled while its worker was busy started after a newer model was published."""
    assigned = {job_key(a): a.version for a in result.trace.records(FedBuffAssign)}
    return any(d.version > assigned.get(job_key(d), d.version) for d in result.trace.records(Download))


register(Guarantee(
    name="fedbuff-clients",
    statement="a FedBuff client trains on the model published last when it starts (never one from when it was "
              "sampled), runs Q local steps from it on its keyed samples, Δ = y_0 − y_Q bit for bit; C clients in "
              "training",
    source="Nguyen et al., AISTATS 2022, Algorithm 1 (client: y_q = y_(q−1) − η_l g, Δ = y_0 − y_Q; concurrency C)",
    algorithms=("fedbuff",),
    draw=draw,
    check=check_fedbuff_clients,
    hard=_waited_across_a_publish,
    hard_case="a queued client started after a publish",
    broken={"fedbuff": "broken-fedbuff-queued-model"},
))


def _model_when_sampled(published, job) -> int:
    return job.assigned                     # the mistake: current when sampled, not when the client starts


variant("broken-fedbuff-queued-model", of="fedbuff",
        mistake="a client that waited in a queue trains on the model current when it was sampled",
        replace={"downloaded": _model_when_sampled})


# --- FedBuff with K = n under the synchronous schedule is mini-batch SGD --------------------------


def _draw_synchronous(data, algorithm: str) -> Case:
    n = data.draw(st.integers(1, 4), label="n")
    params = {"n": n, "K": n, "dispatch": "round", "batch": 1, "gamma_l": 1.0,
              "T": n * data.draw(st.integers(1, 4), label="rounds"),
              "zeta": data.draw(st.sampled_from([0.0, 0.5, 1.0]), label="zeta"),
              "gamma_g": data.draw(step_sizes(), label="gamma_g"),
              "weighting": data.draw(st.sampled_from(["sqrt", "none"]), label="weighting"),
              "normalization": data.draw(st.sampled_from(["K", "weights"]), label="normalization")}
    problem = data.draw(problems(names=["least-squares", "logistic", "quadratic"], min_m=n), label="problem")
    return Case(algorithm, problem, params, data.draw(seeds(), label="seed"))


def check_synchronous_minibatch(result) -> str | None:
    """Round v's batch is worker 0's, 1's, ..., (n−1)'s v-th keyed sample (FedBuff sums by worker);
    mini-batch SGD with step η_g on those batches must give FedBuff's last model bit for bit."""
    p, seed = result.params, result.schedule.seed
    n, rounds = p["n"], p["T"] // p["n"]
    splits = local_splits(result.problem, n, p["zeta"], seed)
    batches = [[documented_local_samples(splits[k], seed, k, v, 1)[0] for k in range(n)] for v in range(rounds)]
    mb = run_algorithm("minibatch-sgd", problem=result.schedule.problem, seed=seed,
                       params={"gamma": p["gamma_g"], "T": rounds, "b": n, "n": n, "batches": batches,
                               "x0": p.get("x0")})
    out = result.trace.outputs.get(0)
    return bit_difference(None if not out else out[-1], mb.trace.outputs[0][-1],
                          f"FedBuff (K = n = {n}, synchronous rounds, η_l = 1)", "mini-batch SGD on the same batches")


def _reordered_rounds(result) -> bool:
    """Two rounds, and a round whose updates did not arrive in worker order."""
    n, recs = result.params["n"], result.trace.records(FedBuffReceived, 0)
    rounds = [[r.worker for r in recs[i:i + n]] for i in range(0, len(recs), n)]
    return len(rounds) >= 2 and any(ws != sorted(ws) for ws in rounds)


register(Guarantee(
    name="fedbuff-synchronous-minibatch",
    statement="FedBuff with K = n under the synchronous schedule (dispatch='round') equals mini-batch SGD on the "
              "same samples, bit for bit, whatever the finishing order",
    source="Nguyen et al., AISTATS 2022 (synchronous FedAvg limit); seed 001 Table 1; seed 003 Algorithm 4",
    algorithms=("fedbuff",),
    draw=_draw_synchronous,
    check=check_synchronous_minibatch,
    hard=_reordered_rounds,
    hard_case="two rounds, one finishing out of worker order",
    broken={"fedbuff": "broken-fedbuff-round-before-publish"},
))


def _model_before_the_last(published, job) -> int:
    return max(len(published) - 2, 0)       # the mistake: the model before the one just published


variant("broken-fedbuff-round-before-publish", of="fedbuff",
        mistake="a starting client downloads the model before the one just published",
        replace={"downloaded": _model_before_the_last})
