"""Guarantees of FedBuff, Rennala SGD, Malenia SGD and Ringleader ASGD (seeds 001 and 004).

Every check recomputes from what the run recorded ("received" per arriving
gradient, the per-update records "batch", "table", "update", "publish", the
iterates "x", and "discarded", "stored", "unpublished" at the end): rounds,
phases, counts and staleness come from the **order** of the records, updates from
the recorded gradients summed in the documented order, gradients from the
recorded samples and iterates.  Nothing is taken from the algorithm's own
bookkeeping without being recomputed.  The records are read typed
(``trace.records``), each algorithm's own types: :class:`~..reference.parameter_server.common.Received`,
``Batch``, ``Stopped`` (Rennala), ``Table`` (Malenia), ``RingleaderReceived`` and ``Update``,
``FedBuffReceived``, ``Publish``, ``Download`` and ``FedBuffAssign``.

* ``rennala-fresh-only``: Rennala uses only gradients computed at the current
  iterate x_k, exactly S per update, x_{k+1} = x_k − γ (1/S) Σ (sorted by worker,
  serial) bit for bit; every stale one is recorded as discarded, none silently.
* ``malenia-round-condition``: Malenia never updates before every worker contributed
  and (1/n Σ 1/B_i)^{-1} >= S/n holds (and updates as soon as it holds); x_{k+1} =
  x_k − γ (1/n) Σ_i (Σ_j g_ij)/B_i, rows in serial order, workers in order.
* ``ringleader-phases``: Ringleader never updates before every worker has a gradient
  in the table; after that exactly one update per worker (phase 2), the worker that
  completed phase 1 first; each update is the table average of the reconstructed
  table; update delays <= 2n − 2 (``Update.tau``).
* ``ringleader-no-discarded-work``: every received gradient is used by an update or
  still stored at the end ("no discarded work").
* ``fedbuff-aggregation``: a model is published after exactly K received updates, and
  x^(v+1) = x^(v) − η_g (Σ_i w(s_i) η_l g_i)/Z, with s recomputed from the order of the
  records, w(s) = 1/sqrt(1+s) ("sqrt") or 1 ("none"), Z = K ("K", the paper) or Σ w_i
  ("weights").
* ``fedbuff-synchronous-minibatch``: FedBuff with K = n under the synchronous schedule
  (``dispatch="round"``: every worker one job per published model) is mini-batch SGD on
  the same samples, bit for bit, whatever order the round's jobs finish in.
* ``server-attribution``: every received gradient is g_k(x_π) of its worker k: its
  samples are worker k's keyed draw from worker k's split, and it recomputes bit for bit.

Malenia and Ringleader wait for every worker, so cases run under a fairness bound
of the model (``fairness = 20``): the Hypothesis adversary cannot starve a worker.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
from hypothesis import strategies as st

from ..reference.parameter_server.common import local_splits
from ..reference.parameter_server.fedbuff import UNPUBLISHED, Download, FedBuffAssign, FedBuffReceived, Publish
from ..reference.parameter_server.malenia import Table
from ..reference.parameter_server.common import Received
from ..reference.parameter_server.rennala import DISCARDED, Batch, Stopped
from ..reference.parameter_server.ringleader import STORED, RingleaderReceived, Update
from ..reference.schedule import run_algorithm
from . import broken_servers  # noqa: F401  (registers the broken variants)
from .baseline_properties import bit_difference, replay_covers
from .kernel_properties import documented_local_samples
from .guarantees import Case, Guarantee, register
from .strategies import problems, seeds, step_sizes

SERVERS = ("fedbuff", "rennala-sgd", "malenia-sgd", "ringleader-asgd")
FAIRNESS = 20


def _draw(data, algorithm: str, **fixed) -> Case:
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


def _iterates(result) -> list:
    """x_0 and every recorded iterate after it (FedBuff: the published models x^(0), x^(1), ...)."""
    p = result.params
    x0 = result.problem.x0 if p.get("x0") is None else np.asarray(p["x0"], dtype=np.float64)
    return [x0] + list(result.trace.records("x", 0))


def _recompute(problem, x, samples):
    idx = np.asarray(samples, dtype=np.int64)
    return problem.sample_grad(x, int(idx[0])) if len(idx) == 1 else problem.batch_grad(x, idx)


def _in_order(terms):
    """t_1 + t_2 + ... from the first term, in the given order."""
    total = terms[0]
    for x in terms[1:]:
        total = total + x
    return total


def _records(result, *kinds):
    """(key, record) of the server's records of ``kinds`` (typed: the record types of its
    algorithm), in step order."""
    return [(k, v) for (_, _, k, v) in result.trace.stepwise(*kinds, pid=0)]


def _received(result, pid: int | None = 0) -> list:
    """The run's "received" records, each typed by its algorithm's own declaration (Rennala's and
    Malenia's :class:`Received`, :class:`FedBuffReceived`, :class:`RingleaderReceived`)."""
    return result.trace.records((result.trace.declared or {}).get(Received.key, Received), pid)


def _key(r) -> tuple[int, int]:
    return (r.worker, r.serial)


def _each_job_once_in_order(recs, n: int) -> str | None:
    """A worker runs its jobs one after another: its results arrive as #0, #1, #2, ...; a gap
    is a result received and never recorded (silently dropped)."""
    nxt = [0] * n
    for r in recs:
        w, s = _key(r)
        if not 0 <= w < n:
            return f"a gradient from worker {w}, which does not exist (n = {n})"
        if s != nxt[w]:
            return (f"worker {w}'s gradient #{s} arrived after #{nxt[w] - 1}: "
                    f"{'job #' + str(nxt[w]) + ' was never recorded' if s > nxt[w] else 'recorded twice'}")
        nxt[w] += 1
    return None


def _restarts(recs, restart_at: dict) -> str | None:
    """A worker is restarted the moment its result arrives, at the iterate it was restarted at:
    its job #s+1 computes at ``restart_at[(w, s)]``; every job #0 at x_0."""
    for r in recs:
        w, s = _key(r)
        want = 0 if s == 0 else restart_at.get((w, s - 1))
        if r.pi != want:
            return f"worker {w}'s job #{s} computed at x_{r.pi}, but it was started at x_{want}"
    return None


def _finished(result) -> bool:
    return result.trace.stopped == "quiescent"


def _round_loop(result, round_kind: type, enough, rule, aggregate_check) -> str | None:
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
    xs = _iterates(result)
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
    for key, val in _records(result, Received, round_kind, Stopped):
        if key == Received.key:
            r, (w, s) = val, _key(val)
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
                diff = bit_difference(r.gradient, _recompute(result.problem, xs[k], r.samples),
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
    if _finished(result):
        if k != T:
            return f"the run finished after {k} of T = {T} updates"
        rec = result.trace.records(DISCARDED.key, 0)
        if not rec or rec[-1] != discarded:
            return (f"{discarded} gradients were received and not used, but the run reports "
                    f"{rec[-1] if rec else 'no'} discarded")
    return None


# --- Rennala ------------------------------------------------------------------------------------


def check_rennala(result) -> str | None:
    p = result.params
    S, gamma = p["S"], p["gamma"]

    def exactly_S(k, fresh):
        return None if len(fresh) == S else f"round {k} updated with {len(fresh)} fresh gradients, not S = {S}"

    def update(k, fresh, batch, xs):
        members = sorted(_key(r) for r in fresh)
        if [tuple(m) for m in batch.members] != members:
            return f"round {k}'s batch is recorded as {batch.members}, its fresh gradients were {members}"
        by_key = {_key(r): r for r in fresh}
        g = _in_order([by_key[m].gradient for m in members]) / S
        return bit_difference(xs[k + 1], xs[k] - gamma * g, f"x_{k + 1}",
                              f"x_{k} − γ (1/S) Σ of the S fresh gradients (sorted by worker, serial)")

    return _round_loop(result, Batch, lambda fresh: len(fresh) >= S, exactly_S, update)


def _discarded_stale(result) -> bool:
    return any(not r.used and r.tau > 0 for r in result.trace.records(Received))


register(Guarantee(
    name="rennala-fresh-only",
    statement="Rennala updates with exactly S gradients computed at x_k, x_{k+1} = x_k − γ mean bit for bit; "
              "every stale one is recorded discarded",
    source="Tyurin & Richtárik, NeurIPS 2023 (Rennala SGD); Algorithm 1 of Tyurin 2025, lines 4-12",
    algorithms=("rennala-sgd",),
    draw=_draw,
    check=check_rennala,
    hard=_discarded_stale,
    hard_case="a stale gradient discarded",
    broken={"rennala-sgd": "broken-rennala-uses-stale"},
))

# --- Malenia ------------------------------------------------------------------------------------


def _harmonic(counts, S: int) -> bool:
    n = len(counts)
    return all(b >= 1 for b in counts) and Fraction(n * n) >= S * sum(Fraction(1, b) for b in counts)


def check_malenia(result) -> str | None:
    p = result.params
    n, S, gamma = p["n"], p["S"], p["gamma"]

    def counts_of(fresh):
        return [sum(r.worker == i for r in fresh) for i in range(n)]

    def condition(k, fresh):
        counts = counts_of(fresh)
        if not all(counts):
            return (f"round {k} updated before every worker contributed: counts B = {counts} "
                    f"(worker {counts.index(0)} sent nothing)")
        if not _harmonic(counts, S):
            return f"round {k} updated with counts B = {counts}: (1/n Σ 1/B_i)^-1 < S/n = {S}/{n}"
        before = list(counts)
        before[fresh[-1].worker] -= 1
        if _harmonic(before, S):
            return f"round {k} waited past its condition: it already held at B = {before}"
        return None

    def update(k, fresh, table, xs):
        counts = counts_of(fresh)
        rows = [sorted(r.serial for r in fresh if r.worker == i) for i in range(n)]
        if list(table.counts) != counts or [list(m) for m in table.members] != rows:
            return (f"round {k}'s table is recorded as counts {table.counts}, members {table.members}; "
                    f"its fresh gradients give {counts}, {rows}")
        by_key = {_key(r): r for r in fresh}
        means = [_in_order([by_key[(i, s)].gradient for s in rows[i]]) / counts[i] for i in range(n)]
        return bit_difference(xs[k + 1], xs[k] - gamma * (_in_order(means) / n), f"x_{k + 1}",
                              f"x_{k} − γ (1/n) Σ_i (row sum)/B_i (rows in serial order, workers in order)")

    return _round_loop(result, Table, lambda fresh: _harmonic(counts_of(fresh), S), condition, update)


def _a_worker_sent_two(result) -> bool:
    return any(max(t.counts) >= 2 for t in result.trace.records(Table))


register(Guarantee(
    name="malenia-round-condition",
    statement="Malenia never updates before every worker contributed and (1/n Σ 1/B_i)^-1 >= S/n; "
              "the update is the table's per-worker then across-worker average, bit for bit",
    source="seed 004, 'Malenia SGD with Gradient Table'; Algorithm 1 of Tyurin 2025 (w = 1/B)",
    algorithms=("malenia-sgd",),
    draw=_draw,
    check=check_malenia,
    hard=_a_worker_sent_two,
    hard_case="a worker sent >= 2 gradients in a round",
    broken={"malenia-sgd": "broken-malenia-all-but-one"},
))

# --- Ringleader ---------------------------------------------------------------------------------


def check_ringleader(result) -> str | None:
    """Rebuilds the table (G_i, b_i) and the temporary table from the order of the records:
    an arrival before the round's first update fills the table (phase 1), after it the
    table if its worker has not updated this round, else the temporary table; n updates
    end the round and the temporary table becomes the table."""
    p, xs = result.params, _iterates(result)
    n, T, gamma = p["n"], p["T"], p["gamma"]
    table, stored = [[] for _ in range(n)], [[] for _ in range(n)]      # rows of "received" records
    done, rnd, t, trigger = [], 0, 0, None          # done: the workers updated this round, in order
    recs, restart_at, used = [], {}, set()
    for key, val in _records(result, RingleaderReceived, Update):
        if key == RingleaderReceived.key:
            r, w, s = val, val.worker, val.serial
            recs.append(r)
            if trigger is not None:
                return (f"worker {trigger}'s gradient should have triggered update {t}, "
                        f"but worker {w}'s gradient #{s} arrived first")
            if r.t != t or r.round != rnd or r.tau != t - r.pi or r.pi > t:
                return (f"worker {w}'s gradient #{s} arrived after {t} updates in round {rnd}, recorded as "
                        f"t = {r.t}, round {r.round}, π = {r.pi}, τ = {r.tau}")
            if w in done:
                if not r.stored or r.phase != 2:
                    return f"worker {w} had updated in round {rnd}, but its gradient #{s} was not stored"
                stored[w].append(r)
                restart_at[(w, s)] = r.pi                   # computes again at its own point
                continue
            if r.stored or r.phase != (2 if done else 1):
                return (f"round {rnd}: worker {w}'s gradient #{s} belongs in the table (phase "
                        f"{2 if done else 1}), recorded phase {r.phase}, stored = {r.stored}")
            table[w].append(r)
            if done or all(table):
                trigger = w
            # the updater is sent x_(t+1) after its update; any other arrival computes again at its own point
            restart_at[(w, s)] = t + 1 if trigger is not None and t + 1 < T else r.pi
        else:                                                           # Update
            u = val
            if not all(table):
                empty = [i for i in range(n) if not table[i]]
                return f"update {t} before phase 1 of round {rnd} was complete: worker(s) {empty} have no gradient"
            if trigger is None:
                return f"update {t} of round {rnd} without an arrival to trigger it"
            if u.t != t or u.round != rnd or u.worker != trigger or u.position != len(done) + 1:
                return (f"update {t} (round {rnd}, position {len(done) + 1}, triggered by worker {trigger}) "
                        f"was recorded as t = {u.t}, round {u.round}, position {u.position}, "
                        f"worker {u.worker}")
            rows = [sorted(r.serial for r in row) for row in table]
            if [list(m) for m in u.members] != rows or list(u.counts) != [len(row) for row in rows]:
                return f"update {t}: the table is recorded as {u.members}, the arrivals give {rows}"
            delays = [t - min(r.pi for r in row) for row in table]
            if list(u.delays) != delays or u.tau != max(delays):
                return f"update {t}: recorded delays {u.delays} (τ = {u.tau}), recomputed {delays}"
            if max(delays) > 2 * n - 2:
                return f"update {t}: delay {max(delays)} exceeds 2n − 2 = {2 * n - 2}"
            means = [_in_order([r.gradient for r in sorted(row, key=lambda r: r.serial)]) / len(row)
                     for row in table]
            diff = bit_difference(xs[t + 1], xs[t] - gamma * (_in_order(means) / n), f"x_{t + 1}",
                                  f"x_{t} − γ (1/n) Σ_i G_i/b_i of the table rebuilt from the arrivals")
            if diff:
                return diff
            used |= {_key(r) for row in table for r in row}
            done.append(trigger)
            t, trigger = t + 1, None
            if len(done) == n:                                          # the round is over
                table, stored, done, rnd = stored, [[] for _ in range(n)], [], rnd + 1
    msg = _each_job_once_in_order(recs, n) or _restarts(recs, restart_at)
    if msg:
        return msg
    if _finished(result):
        if t != T:
            return f"the run finished after {t} of T = {T} updates"
        left = sorted({_key(r) for row in table + stored for r in row} - used)
        rec = result.trace.records(STORED.key, 0)
        if not rec or sorted(tuple(m) for m in rec[-1]) != left:
            return f"the run reports {rec[-1] if rec else 'nothing'} still stored; the arrivals leave {left}"
    return None


def _delay_beyond_n(result) -> bool:
    """An update used a gradient n or more updates old (a stored one that came back, or a slow
    worker's): beyond what one round of n updates gives, toward the bound 2n − 2."""
    n = result.params["n"]
    return any(u.tau >= n for u in result.trace.records(Update))


register(Guarantee(
    name="ringleader-phases",
    statement="Ringleader updates only once every worker has a gradient in the table, then exactly once per "
              "worker; each update is the rebuilt table's average bit for bit; update delays <= 2n − 2",
    source="seed 004, slides 'Ringleader ASGD: Phase 1 (collect)', 'Phase 2 (update)'; "
           "Maranjyan & Richtárik 2025",
    algorithms=("ringleader-asgd",),
    draw=_draw,
    check=check_ringleader,
    hard=_delay_beyond_n,
    hard_case="an update delay >= n",
    broken={"ringleader-asgd": "broken-ringleader-n-minus-one"},
))


def check_no_discarded_work(result) -> str | None:
    """Every received gradient is a member of an update after its arrival, or in the final
    "stored"; an update's members were all received before it."""
    received, used = {}, set()
    for key, val in _records(result, RingleaderReceived, Update):
        if key == RingleaderReceived.key:
            received[_key(val)] = val
        else:                                                           # Update
            members = {(i, s) for i, row in enumerate(val.members) for s in row}
            phantom = sorted(members - set(received))
            if phantom:
                return f"update {val.t} used gradients {phantom} that had not arrived"
            used |= members
    stored = result.trace.records(STORED.key, 0)
    if not stored:
        return None if not _finished(result) else "the run finished without recording what is still stored"
    left = {tuple(m) for m in stored[-1]}
    both = sorted(left & used)
    if both:
        return f"gradients {both} are reported stored at the end, but were already used"
    lost = sorted(set(received) - used - left)
    if lost:
        w, s = lost[0]
        r = received[(w, s)]
        return (f"worker {w}'s gradient #{s} (received after {r.t} updates, phase {r.phase}, "
                f"stored = {r.stored}) was never used and is not stored: discarded work")
    return _each_job_once_in_order(list(received.values()), result.params["n"])


def _stored_in_phase_2(result) -> bool:
    return any(r.stored for r in result.trace.records(RingleaderReceived))


register(Guarantee(
    name="ringleader-no-discarded-work",
    statement="Ringleader discards no work: every received gradient is used by an update or still stored",
    source="Maranjyan & Richtárik 2025 ('no idle workers, no discarded work'); seed 004, 'Prepare for the "
           "Next Round'",
    algorithms=("ringleader-asgd",),
    draw=_draw,
    check=check_no_discarded_work,
    hard=_stored_in_phase_2,
    hard_case="a gradient stored in phase 2",
    broken={"ringleader-asgd": "broken-ringleader-drops-stored"},
))

# --- FedBuff ------------------------------------------------------------------------------------


def _client_delta(result, r, xs):
    """A client's Q local steps replayed from its recorded samples and the model it downloaded:
    y_q = y_{q−1} − η_l g(y_{q−1}; ξ_q); returns (the gradients, Δ = Σ_q η_l g(y_{q−1}; ξ_q))."""
    gamma_l = result.params["gamma_l"]
    y, grads, steps = xs[r.version], [], []
    for q, samples in enumerate(r.local_samples):
        g = _recompute(result.problem, y, samples)
        grads.append(g)
        steps.append(gamma_l * g)
        y = y - steps[-1]
    return grads, _in_order(steps)


def check_fedbuff(result) -> str | None:
    p, xs = result.params, _iterates(result)
    K, T = p["K"], p["T"]
    weight = (lambda s: 1.0 / math.sqrt(1 + s)) if p["weighting"] == "sqrt" else (lambda s: 1.0)
    v, since, t, recs = 0, [], 0, []
    for key, val in _records(result, FedBuffReceived, Publish):
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
            buf = sorted(since, key=_key)
            if [tuple(m) for m in val.members] != [_key(r) for r in buf]:
                return f"x^({v}): members recorded {val.members}, the buffer holds {[_key(r) for r in buf]}"
            ws = [weight(v - 1 - r.version) for r in buf]
            num = _in_order([wi * _client_delta(result, r, xs)[1] for wi, r in zip(ws, buf)])
            Z = float(K) if p["normalization"] == "K" else _in_order(ws)
            diff = bit_difference(xs[v], xs[v - 1] - p["gamma_g"] * (num / Z), f"x^({v})",
                                  f"x^({v - 1}) − η_g (Σ w(s_i) Δ_i)/Z with Z = {Z!r} "
                                  f"(normalization = {p['normalization']!r}), Δ_i recomputed from the "
                                  f"client's local steps")
            if diff:
                return diff
            if val.Z != Z:
                return f"x^({v}): recorded Z = {val.Z!r}, normalization = {p['normalization']!r} means {Z!r}"
            since = []
    msg = _each_job_once_in_order(recs, p["n"])
    if msg:
        return msg
    if _finished(result):
        left = result.trace.records(UNPUBLISHED.key, 0)
        if t != T or v != T // K:
            return f"the run finished after {t} received updates and {v} models (T = {T}, K = {K})"
        if not left or sorted(tuple(m) for m in left[-1]) != sorted(_key(r) for r in since):
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
    draw=_draw,
    check=check_fedbuff,
    hard=_stale_weighted_publish,
    hard_case="a stale update (s >= 1, w < 1) in a published buffer",
    broken={"fedbuff": "broken-fedbuff-divides-by-weights"},
))

# --- FedBuff's clients: the model they download, their local steps, C in training ---------------


def check_fedbuff_clients(result) -> str | None:
    """From the order of the records alone: a client's ``"download"`` comes when its worker takes it
    up, and it must be the model published last by then (not the one current when it was sampled);
    every received update is of a downloaded client, its Q local steps recompute bit for bit from
    that model and its keyed samples (worker k's (serial·Q + q)-th draws), Δ = Σ_q η_l g_q; and C
    clients are in training (sampled, not yet received) whenever an update arrives."""
    p, xs, seed = result.params, _iterates(result), result.schedule.seed
    n, Q = p["n"], p["Q"]
    C = p["C"] or n
    splits = local_splits(result.problem, n, p["zeta"], seed)
    v, downloads, sampled, received = 0, {}, 0, 0
    sampled = C if p["dispatch"] == "update" else n
    for key, val in _records(result, Download, Publish, FedBuffAssign, FedBuffReceived):
        if key == Download.key:
            if val.version != v:
                return (f"worker {val.worker}'s client #{val.serial} started when x^({v}) was the newest "
                        f"model, but trained on x^({val.version})")
            downloads[_key(val)] = val.version
        elif key == Publish.key:
            v += 1
            if p["dispatch"] == "round":
                sampled += n
        elif key == FedBuffAssign.key:
            sampled += 1
        else:                                                           # FedBuffReceived
            r, w, srl = val, val.worker, val.serial
            if _key(r) not in downloads:
                return f"worker {w}'s update #{srl} arrived, but that client never started"
            if r.version != downloads[_key(r)]:
                return (f"worker {w}'s update #{srl} is recorded of x^({r.version}), but its client downloaded "
                        f"x^({downloads[_key(r)]})")
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
    assigned = {_key(a): a.version for a in result.trace.records(FedBuffAssign)}
    return any(d.version > assigned.get(_key(d), d.version) for d in result.trace.records(Download))


register(Guarantee(
    name="fedbuff-clients",
    statement="a FedBuff client trains on the model published last when it starts (never one from when it was "
              "sampled), runs Q local steps from it on its keyed samples, Δ = y_0 − y_Q bit for bit; C clients in "
              "training",
    source="Nguyen et al., AISTATS 2022, Algorithm 1 (client: y_q = y_(q−1) − η_l g, Δ = y_0 − y_Q; concurrency C)",
    algorithms=("fedbuff",),
    draw=_draw,
    check=check_fedbuff_clients,
    hard=_waited_across_a_publish,
    hard_case="a queued client started after a publish",
    broken={"fedbuff": "broken-fedbuff-queued-model"},
))

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

# --- attribution, all four -----------------------------------------------------------------------


def check_attribution(result) -> str | None:
    p, problem, seed = result.params, result.problem, result.schedule.seed
    splits = local_splits(problem, p["n"], p["zeta"], seed)
    xs = _iterates(result)
    for r in _received(result):
        k, s = _key(r)
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
        diff = bit_difference(r.gradient, _recompute(problem, xs[at], r.samples),
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
    draw=_draw,
    check=check_attribution,
    hard=_gradient_of_an_older_iterate,
    hard_case="a gradient of an older iterate (τ > 0)",
    broken={a: f"broken-{a.split('-')[0]}-other-workers-data" for a in SERVERS},
))

replay_covers(_draw, *SERVERS)
