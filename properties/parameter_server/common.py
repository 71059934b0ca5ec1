"""What the guarantees of FedBuff, Rennala SGD, Malenia SGD and Ringleader ASGD share (seeds 001 and 004).

Every check of :mod:`.fedbuff`, :mod:`.rennala`, :mod:`.malenia` and :mod:`.ringleader`
recomputes from what the run recorded ("received" per arriving gradient, the per-update
records "batch", "table", "update", "publish", the iterates "x", and "discarded", "stored",
"unpublished" at the end): rounds, phases, counts and staleness come from the **order** of
the records, updates from the recorded gradients summed in the documented order, gradients
from the recorded samples and iterates.  Nothing is taken from the algorithm's own
bookkeeping without being recomputed.  The records are read typed (``trace.records``), each
algorithm's own types: :class:`~asyncproof.reference.parameter_server.common.Received`,
``Batch``, ``Stopped`` (Rennala), ``Table`` (Malenia), ``RingleaderReceived`` and ``Update``,
``FedBuffReceived``, ``Publish``, ``Download`` and ``FedBuffAssign``.

Here: the draw of a case (:func:`draw`), the recomputations the servers' checks share
(Rennala's and Malenia's rounds in :func:`round_loop`), and the guarantee all four owe:

* ``server-attribution``: every received gradient is g_k(x_π) of its worker k: its
  samples are worker k's keyed draw from worker k's split, and it recomputes bit for bit.
  It must catch ``broken-<alg>-other-workers-data`` (fedbuff, rennala, malenia, ringleader):
  worker k's jobs compute on worker k + 1's local data (the splits indexed from 1; the
  ``split_of`` step replaced).

Malenia and Ringleader wait for every worker, so cases run under a fairness bound
of the model (``fairness = 20``): the Hypothesis adversary cannot starve a worker.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from ...reference.parameter_server.common import Received, local_splits
from ...reference.parameter_server.fedbuff import FedBuffReceived
from ...reference.parameter_server.rennala import DISCARDED, Stopped
from ..common import bit_difference
from ..every_algorithm import replay_covers
from ..guarantees import Case, Guarantee, register
from ..kernels import documented_local_samples
from ..strategies import problems, seeds, step_sizes
from ..variants import variant

SERVERS = ("fedbuff", "rennala-sgd", "malenia-sgd", "ringleader-asgd")
FAIRNESS = 20


def draw(data, algorithm: str, **fixed) -> Case:
    n = data.draw(st.integers(2, 4), label="n")
    params = {"n": n, "zeta": data.draw(st.sampled_from([0.0, 0.5, 1.0]), label="zeta"),
              "batch": data.draw(st.integers(1, 2), label="batch")}
    if algorithm == "fedbuff":
        T = data.draw(st.integers(2, 8), label="T")
        params.update(T=T, K=data.draw(st.integers(1, min(T, 3)), label="K"),
                      Q=data.draw(st.integers(1, 3), label="Q"),
                      C=data.draw(st.one_of(st.none(), st.integers(1, n + 2)), label="C"),
                      gamma_l=data.draw(step_sizes(), label="gamma_l"),
                      gamma_g=data.draw(st.sampled_from([1.0, 0.5, 2.0]), label="gamma_g"),
                      weighting=data.draw(st.sampled_from(["sqrt", "none"]), label="weighting"),
                      normalization=data.draw(st.sampled_from(["K", "weights"]), label="normalization"))
    else:
        params["gamma"] = data.draw(step_sizes(), label="gamma")
        if algorithm == "ringleader-asgd":          # at least two rounds: stored gradients come back
            params["T"] = data.draw(st.integers(n + 1, 3 * n), label="T")
        else:
            params["T"] = data.draw(st.integers(1, 4), label="T")
            params["S"] = data.draw(st.integers(1, 2 * n), label="S")
            params["stale"] = data.draw(st.sampled_from(["stop", "ignore"]), label="stale")
    params.update(fixed)
    problem = data.draw(problems(names=["least-squares", "logistic", "quadratic"], min_m=n), label="problem")
    return Case(algorithm, problem, params, data.draw(seeds(), label="seed"), model={"fairness": FAIRNESS})


# --- shared recomputations ----------------------------------------------------------------------


def iterates(result) -> list:
    """x_0 and every recorded iterate after it (FedBuff: the published models x^(0), x^(1), ...)."""
    p = result.params
    x0 = result.problem.x0 if p.get("x0") is None else np.asarray(p["x0"], dtype=np.float64)
    return [x0] + list(result.trace.records("x", 0))


def recompute(problem, x, samples):
    idx = np.asarray(samples, dtype=np.int64)
    return problem.sample_grad(x, int(idx[0])) if len(idx) == 1 else problem.batch_grad(x, idx)


def in_order(terms):
    """t_1 + t_2 + ... from the first term, in the given order."""
    total = terms[0]
    for x in terms[1:]:
        total = total + x
    return total


def server_records(result, *kinds):
    """(key, record) of the server's records of ``kinds`` (typed: the record types of its
    algorithm), in step order."""
    return [(k, v) for (_, _, k, v) in result.trace.stepwise(*kinds, pid=0)]


def _received(result, pid: int | None = 0) -> list:
    """The run's "received" records, each typed by its algorithm's own declaration (Rennala's and
    Malenia's :class:`Received`, :class:`FedBuffReceived`, :class:`RingleaderReceived`)."""
    return result.trace.records((result.trace.declared or {}).get(Received.key, Received), pid)


def job_key(r) -> tuple[int, int]:
    return (r.worker, r.serial)


def each_job_once_in_order(recs, n: int) -> str | None:
    """A worker runs its jobs one after another: its results arrive as #0, #1, #2, ...; a gap
    is a result received and never recorded (silently dropped)."""
    nxt = [0] * n
    for r in recs:
        w, s = job_key(r)
        if not 0 <= w < n:
            return f"a gradient from worker {w}, which does not exist (n = {n})"
        if s != nxt[w]:
            return (f"worker {w}'s gradient #{s} arrived after #{nxt[w] - 1}: "
                    f"{'job #' + str(nxt[w]) + ' was never recorded' if s > nxt[w] else 'recorded twice'}")
        nxt[w] += 1
    return None


def finished(result) -> bool:
    return result.trace.stopped == "quiescent"


def round_loop(result, round_kind: type, enough, rule, aggregate_check) -> str | None:
    """Rennala's and Malenia's rounds, from the order of the records: the "received" records
    between round k − 1's update record and round k's are round k's.  The server's bookkeeping
    is simulated from the records alone (Algorithm 1 of Tyurin 2025): line 3 gives every free
    worker a job at x^k; a result frees its worker, and line 8 gives it a job at x^k unless it
    is computing already or, with ``stale="stop"``, the loop has just ended; line 12 stops every
    running job (the ``"stopped"`` record may leave out a job that had finished: its result
    arrives later).  So every result is checked against the iterate the paper's server started
    it at.  ``round_kind`` is the update's record type (:class:`Batch`, :class:`Table`),
    ``enough(fresh)`` is line 4's exit test, ``rule(k, fresh)`` reports a round that ended too
    early or too late, ``aggregate_check(k, fresh, rec, xs)`` its update."""
    p, n, T = result.params, result.params["n"], result.params["T"]
    stop = p["stale"] == "stop"
    xs = iterates(result)
    started, running, serial = {}, {}, [0] * n      # (w, s) -> π; worker -> its job; next serial
    arrived, stopped, recs = set(), set(), []

    def start(w, at):
        started[(w, serial[w])] = at
        running[w] = (w, serial[w])
        serial[w] += 1

    def line3(at):
        for w in range(n):
            if w not in running:
                start(w, at)

    k, fresh, discarded, last = 0, [], 0, None
    line3(0)
    for key, val in server_records(result, Received, round_kind, Stopped):
        if key == Received.key:
            r, (w, s) = val, job_key(val)
            recs.append(r)
            if (w, s) not in started or (w, s) in stopped or (w, s) in arrived:
                what = ("was stopped" if (w, s) in stopped else "arrived before" if (w, s) in arrived
                        else "was never started by the server")
                return f"round {k}: worker {w}'s gradient #{s} arrived, but that job {what}"
            arrived.add((w, s))
            if running.get(w) == (w, s):
                del running[w]
            pi = started[(w, s)]
            if r.pi != pi:
                return f"round {k}: worker {w}'s job #{s} computed at x_{r.pi}, but the server started it at x_{pi}"
            if r.t != k:
                return f"worker {w}'s gradient #{s} arrived in round {k} but was recorded in round {r.t}"
            if r.tau != k - pi:
                return f"round {k}: worker {w}'s gradient #{s} of x_{pi} was recorded with delay {r.tau}"
            if r.used != (pi == k):
                what = "used" if r.used else "discarded"
                return f"round {k}: worker {w}'s gradient #{s}, computed at x_{pi} (delay {k - pi}), was {what}"
            if r.used:
                diff = bit_difference(r.gradient, recompute(result.problem, xs[k], r.samples),
                                      f"worker {w}'s gradient #{s} used in round {k}",
                                      f"its samples' gradient at x_{k}")
                if diff:
                    return diff
                fresh.append(r)
            else:
                discarded += 1
            if w not in running and not (stop and enough(fresh)):         # line 8
                start(w, k)
            last = r
        elif key == round_kind.key:
            if val.k != k:
                return f"the update of round {k} was recorded as round {val.k}"
            if last is None or not fresh or fresh[-1] is not last:
                return f"round {k} updated without a fresh gradient arriving just before"
            msg = rule(k, fresh) or aggregate_check(k, fresh, val, xs)
            if msg:
                return msg
            k, fresh, last = k + 1, [], None
            if not stop and k < T:
                line3(k)
        else:                                                           # Stopped
            if not stop or val.k != k - 1:
                return f"a stop recorded after round {val.k}, where the server (stale = {p['stale']!r}) stops none"
            listed = {(w, s) for w, s, _ in val.jobs}
            if not listed <= set(running.values()):
                return f"after round {k - 1} the jobs {sorted(listed - set(running.values()))} were stopped, " \
                       f"but they were not running"
            stopped |= listed
            running.clear()
            if k < T:
                line3(k)
    if finished(result):
        if k != T:
            return f"the run finished after {k} of T = {T} updates"
        rec = result.trace.records(DISCARDED.key, 0)
        if not rec or rec[-1] != discarded:
            return (f"{discarded} gradients were received and not used, but the run reports "
                    f"{rec[-1] if rec else 'no'} discarded")
    return None


# --- attribution, all four -----------------------------------------------------------------------


def check_attribution(result) -> str | None:
    p, problem, seed = result.params, result.problem, result.schedule.seed
    splits = local_splits(problem, p["n"], p["zeta"], seed)
    xs = iterates(result)
    for r in _received(result):
        k, s = job_key(r)
        split = splits[k]
        drawn = documented_local_samples(split, seed, k, s * p.get("Q", 1), p["batch"])   # FedBuff: 1st local step
        if r.samples != drawn:
            outside = sorted(set(r.samples) - set(int(j) for j in split))
            if outside:
                return f"worker {k}'s gradient #{s} used samples {outside[:5]}, which are not worker {k}'s data"
            return f"worker {k}'s gradient #{s} used samples {r.samples}, not its keyed draw {drawn}"
        versioned = isinstance(r, FedBuffReceived)
        at = r.version if versioned else r.pi                     # FedBuff: the model of the job's version
        if not 0 <= at < len(xs):
            return f"worker {k}'s gradient #{s} claims the iterate {at}, which was never computed"
        name = f"x^({at})" if versioned else f"x_{at}"
        diff = bit_difference(r.gradient, recompute(problem, xs[at], r.samples),
                              f"worker {k}'s gradient #{s}", f"g_{k}({name}) recomputed from its samples")
        if diff:
            return diff
    return None


def _gradient_of_an_older_iterate(result) -> bool:
    return any((r.version_delay if isinstance(r, FedBuffReceived) else r.tau) > 0
               for r in _received(result, None))


register(Guarantee(
    name="server-attribution",
    statement="every received gradient is g_k(x_π) on worker k's data (its keyed draw), bit for bit",
    source="seed 001, 'Notation and Convergence Theory'; design notes, 'Known deviations'",
    algorithms=SERVERS,
    draw=draw,
    check=check_attribution,
    hard=_gradient_of_an_older_iterate,
    hard_case="a gradient of an older iterate (τ > 0)",
    broken={a: f"broken-{a.split('-')[0]}-other-workers-data" for a in SERVERS},
))


def _next_workers_split(splits, worker: int):
    return splits[(worker + 1) % len(splits)]     # the mistake: workers numbered from 1 in the lookup


for _base in SERVERS:
    variant(f"broken-{_base.split('-')[0]}-other-workers-data", of=_base,
            mistake="worker k computes on worker k + 1's local data", replace={"split_of": _next_workers_split})

replay_covers(draw, *SERVERS)
