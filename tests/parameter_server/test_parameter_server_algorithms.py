"""FedBuff, Rennala SGD, Malenia SGD and Ringleader ASGD: runs, replays and invariants.

Every invariant is checked from what the run recorded, recomputed here independently
(gradients from the recorded samples and iterates, sample draws from the keyed
generator, staleness from the order of the records), never from values the test chose.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from asyncproof.properties.parameter_server import fedbuff as fedbuff_properties
from asyncproof.properties.parameter_server import malenia as malenia_properties
from asyncproof.properties.parameter_server import rennala as rennala_properties
from asyncproof.reference.errors import InputError
from asyncproof.reference.parameter_server.asgrad import AsGradReceived
from asyncproof.reference.parameter_server.common import STREAM_LOCAL, local_splits
from asyncproof.reference.parameter_server.fedbuff import (UNPUBLISHED, Download, FedBuffAssign, FedBuffReceived,
                                                           Publish)
from asyncproof.reference.parameter_server.malenia import Table
from asyncproof.reference.parameter_server.common import Received
from asyncproof.reference.parameter_server.rennala import DISCARDED, Batch
from asyncproof.reference.parameter_server.ringleader import STORED, RingleaderReceived, Update
from asyncproof.reference.rng import generator
from asyncproof.reference.schedule import load_schedule, replay, run_algorithm

ADVERSARIES = ["roundrobin", "random:seed=3", "pct:seed=2", "timed:model=fixed,s=1/2/4/8",
               "timed:model=exp,c=1,lam=0.5"]
STRAGGLERS = "timed:model=exp,c=1,lam=0.5"
BASE = {"n": 4, "zeta": 1.0}
PARAMS = {"fedbuff": {**BASE, "T": 24, "K": 3},
          "rennala-sgd": {**BASE, "T": 12, "S": 6},
          "malenia-sgd": {**BASE, "T": 10, "S": 8},
          "ringleader-asgd": {**BASE, "T": 20}}
#: each algorithm's own type of its "received" records
RECEIVED = {"fedbuff": FedBuffReceived, "rennala-sgd": Received, "malenia-sgd": Received,
            "ringleader-asgd": RingleaderReceived}
# Malenia and Ringleader wait for every worker: an unfair PCT schedule can starve one forever,
# so under PCT they run with a fairness bound (see test_unfair_pct_is_safe_but_may_not_be_live).
NEEDS_FAIRNESS = {"malenia-sgd", "ringleader-asgd"}


def run(alg, params=None, adversary="roundrobin", seed=0, model=None, problem=None):
    if model is None and adversary.startswith("pct") and alg in NEEDS_FAIRNESS:
        model = {"fairness": 20}
    return run_algorithm(alg, problem=problem, params={**PARAMS[alg], **(params or {})}, seed=seed,
                         adversary=adversary, model=model)


def iterates(res):
    """x_0 (the problem's start) and every recorded iterate after it."""
    p = res.params
    x0 = res.problem.x0 if p.get("x0") is None else np.asarray(p["x0"], dtype=np.float64)
    return [x0] + list(res.trace.records("x", 0))


def recompute(problem, x, samples):
    idx = np.asarray(samples, dtype=np.int64)
    return problem.sample_grad(x, int(idx[0])) if len(idx) == 1 else problem.batch_grad(x, idx)


def in_order(gs):
    total = gs[0]
    for g in gs[1:]:
        total = total + g
    return total


def same_bits(a, b, what):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape and a.tobytes() == b.tobytes(), f"{what}: {a} vs {b}"


def received(res, pid=None):
    """The run's "received" records, typed by its algorithm's own declaration."""
    return res.trace.records(RECEIVED[res.schedule.algorithm], pid)


def received_by_key(res):
    return {(r.worker, r.serial): r for r in received(res)}


# --- what every algorithm must satisfy -----------------------------------------------------------


def check_attribution(res):
    """Each received gradient is g_k(x_π) on worker k's data: its samples are worker k's
    serial-th keyed draw from worker k's split, and the gradient recomputes bit for bit."""
    p, problem = res.params, res.problem
    splits = local_splits(problem, p["n"], p["zeta"], res.schedule.seed)
    xs = iterates(res)
    for r in received(res):
        k, s = r.worker, r.serial
        split = splits[k]
        draw = generator(res.schedule.seed, STREAM_LOCAL + k, s).integers(0, len(split), size=p["batch"],
                                                                          dtype=np.int64)
        assert r.samples == [int(j) for j in split[draw]], f"job ({k}, #{s}) drew other samples"
        assert set(r.samples) <= set(int(j) for j in split), f"job ({k}, #{s}) used another worker's data"
        x = xs[r.version] if isinstance(r, FedBuffReceived) else xs[r.pi]
        same_bits(r.gradient, recompute(problem, x, r.samples), f"gradient of job ({k}, #{s})")
        assert r.tau == r.t - r.pi


def check_restarts(res, enders):
    """Ringleader: a worker restarts the moment its result arrives: at x_{t+1} when that result
    triggered an update (it is sent the new iterate after the update), else at its own last point."""
    by_key = received_by_key(res)
    for (w, s), r in by_key.items():
        nxt = by_key.get((w, s + 1))
        if nxt is not None:
            want = r.t + 1 if (w, s) in enders else r.pi
            assert nxt.pi == want, f"worker {w}'s job #{s + 1} computes at x_{nxt.pi}, not x_{want}"


def check_rennala(res):
    p, xs = res.params, iterates(res)
    recs, batches = res.trace.records(Received), res.trace.records(Batch)
    assert len(batches) == p["T"]
    for r in recs:
        assert r.used == (r.tau == 0), r                           # only delay-0 gradients count
        assert r.tau >= 0
    by_key = received_by_key(res)
    used = sorted((r.worker, r.serial) for r in recs if r.used)
    assert sorted(m for b in batches for m in b.members) == used  # each used one in exactly one batch
    for b in batches:
        k = b.k
        assert len(b.members) == p["S"] and b.members == sorted(b.members)
        assert all(by_key[m].t == k and by_key[m].pi == k for m in b.members)
        g = in_order([by_key[m].gradient for m in b.members]) / p["S"]
        same_bits(xs[k + 1], xs[k] - p["gamma"] * g, f"x_{k + 1}")
    assert res.trace.records(DISCARDED.key)[-1] == sum(not r.used for r in recs)
    assert rennala_properties.check_rennala(res) is None     # where each job was started, line by line


def harmonic_ok(counts, S):
    n = len(counts)
    return all(b >= 1 for b in counts) and Fraction(n * n) >= S * sum(Fraction(1, b) for b in counts)


def check_malenia(res):
    p, xs, n = res.params, iterates(res), res.params["n"]
    recs, tables = res.trace.records(Received), res.trace.records(Table)
    assert len(tables) == p["T"]
    by_key = received_by_key(res)
    for r in recs:
        assert r.used == (r.pi == r.t), r
    for tab in tables:
        k, counts = tab.k, tab.counts
        fresh = [r for r in recs if r.t == k and r.used]
        assert counts == [sum(r.worker == i for r in fresh) for i in range(n)]
        assert [sorted(r.serial for r in fresh if r.worker == i) for i in range(n)] == tab.members
        # never before every worker contributed and the batch rule holds, and not a gradient later
        assert harmonic_ok(counts, p["S"]), f"round {k} updated with counts {counts}"
        before = list(counts)
        before[fresh[-1].worker] -= 1
        assert not harmonic_ok(before, p["S"]), f"round {k} waited past the rule: {counts}"
        means = [in_order([by_key[(i, s)].gradient for s in tab.members[i]]) / counts[i] for i in range(n)]
        same_bits(xs[k + 1], xs[k] - p["gamma"] * (in_order(means) / n), f"x_{k + 1}")
    assert malenia_properties.check_malenia(res) is None


def check_ringleader(res):
    p, xs, n = res.params, iterates(res), res.params["n"]
    recs, updates = res.trace.records(RingleaderReceived), res.trace.records(Update)
    stored = res.trace.records(STORED.key)[-1]
    by_key = received_by_key(res)
    assert len(updates) == p["T"] and [u.t for u in updates] == list(range(p["T"]))
    assert all(r.used for r in recs)
    used = set()
    for u in updates:
        t = u.t
        assert all(c >= 1 for c in u.counts), f"update {t} before phase 1 was complete: {u.counts}"
        assert u.counts == [len(row) for row in u.members] and u.phase == 2
        members = [(i, s) for i, row in enumerate(u.members) for s in row]
        used.update(members)
        delays = [t - min(by_key[(i, s)].pi for s in row) for i, row in enumerate(u.members)]
        assert u.delays == delays and u.tau == max(delays)
        assert u.tau <= 2 * n - 2, f"update {t}: delay {u.tau}, bound {2 * n - 2}"
        means = [in_order([by_key[(i, s)].gradient for s in row]) / len(row) for i, row in enumerate(u.members)]
        same_bits(xs[t + 1], xs[t] - p["gamma"] * (in_order(means) / n), f"x_{t + 1}")
    rounds = {}
    for u in updates:
        rounds.setdefault(u.round, []).append(u)
    for r, us in sorted(rounds.items()):
        complete = r < max(rounds) or p["T"] % n == 0
        assert [u.position for u in us] == list(range(1, len(us) + 1))
        if complete:       # exactly one update per worker
            assert sorted(u.worker for u in us) == list(range(n)), f"round {r}: {[u.worker for u in us]}"
        first_phase2 = [x for x in recs if x.round == r and x.phase == 1][-1]
        assert us[0].worker == first_phase2.worker     # the worker that completed phase 1 goes first
    check_restarts(res, {(u.worker, u.members[u.worker][-1]) for u in updates})
    everything = {(r.worker, r.serial) for r in recs}
    assert everything == used | set(stored) and not used & set(stored), "a received gradient was discarded"
    assert all(by_key[m].stored for m in stored)


def check_fedbuff(res):
    p, xs, n, K = res.params, iterates(res), res.params["n"], res.params["K"]
    recs, pubs = res.trace.records(FedBuffReceived), res.trace.records(Publish)
    assert len(pubs) == p["T"] // K and len(res.trace.records(UNPUBLISHED.key)[-1]) == p["T"] % K
    v, since = 0, []
    for _, _, key, val in res.trace.stepwise(FedBuffReceived, Publish):   # staleness from the order alone
        if key == FedBuffReceived.key:
            assert val.version_delay == v - val.version and val.pi == K * val.version
            w = 1.0 / math.sqrt(1 + val.version_delay) if p["weighting"] == "sqrt" else 1.0
            assert val.weight == w
            since.append(val)
        else:
            v += 1
            assert val.version == v and val.t == K * v and len(since) == K    # every K received updates
            buf = sorted(since, key=lambda r: (r.worker, r.serial))
            assert val.members == [(r.worker, r.serial) for r in buf]
            if p["Q"] == 1:                                # one local step: Δ = η_l g, bit for bit
                assert all(r.delta.tobytes() == (p["gamma_l"] * r.gradient).tobytes() for r in buf)
            num = in_order([r.weight * r.delta for r in buf])
            Z = float(K) if p["normalization"] == "K" else in_order([r.weight for r in buf])
            assert val.Z == Z
            same_bits(xs[v], xs[v - 1] - p["gamma_g"] * (num / Z), f"x^({v})")
            since = []
    for a in res.trace.records(FedBuffAssign):       # k ~ Unif[n], keyed by t, never the finished worker's choice
        assert a.worker == int(generator(res.schedule.seed, 3_000_017, a.t).integers(n))
    assert [r.t for r in recs] == list(range(p["T"]))


CHECKS = {"fedbuff": check_fedbuff, "rennala-sgd": check_rennala, "malenia-sgd": check_malenia,
          "ringleader-asgd": check_ringleader}


@pytest.mark.parametrize("adversary", ADVERSARIES)
@pytest.mark.parametrize("alg", sorted(CHECKS))
def test_runs_replays_and_invariants(alg, adversary, tmp_path):
    res = run(alg, adversary=adversary, seed=5)
    assert res.trace.stopped == "quiescent" and res.metrics["finished"], res.metrics
    path = res.schedule.save(tmp_path / "s.json")          # through the file: params, strings and all
    rep = replay(load_schedule(path))
    assert rep.reproduced, rep.report()
    assert rep.trace.outputs[0][-1].tobytes() == res.trace.outputs[0][-1].tobytes()
    check_attribution(res)
    CHECKS[alg](res)


def test_hard_cases_occur_under_stragglers():
    """The invariants above are not vacuous: under stragglers the interesting cases happen."""
    ren = run("rennala-sgd", adversary=STRAGGLERS, seed=1)
    assert ren.metrics["stopped_jobs"] > 0 and ren.metrics["discarded"] == 0      # line 12, "stop"
    ign = run("rennala-sgd", {"stale": "ignore"}, adversary=STRAGGLERS, seed=1)
    assert ign.metrics["discarded"] > 0 and "stopped_jobs" not in ign.metrics   # line 12, "ignore"
    mal = run("malenia-sgd", adversary=STRAGGLERS, seed=1)
    assert mal.metrics["stopped_jobs"] > 0 and any(max(t.counts) > 1 for t in mal.trace.records(Table))
    mig = run("malenia-sgd", {"stale": "ignore"}, adversary=STRAGGLERS, seed=1)
    assert mig.metrics["discarded"] > 0
    ring = run("ringleader-asgd", {"T": 40}, adversary=STRAGGLERS, seed=1)
    assert any(r.stored for r in ring.trace.records(RingleaderReceived))          # kept for the next round
    assert ring.metrics["max_delay"] > ring.params["n"] - 1                   # stored ones do get older
    fb = run("fedbuff", adversary=STRAGGLERS, seed=1)
    assert fb.metrics["max_version_delay"] > 0
    for res in (ren, ign, mal, mig, ring, fb):
        CHECKS[res.schedule.algorithm](res)


def test_ringleader_delay_bound_is_reached_but_never_exceeded():
    worst = 0
    for seed in range(4):
        for n in (2, 3, 5):
            res = run("ringleader-asgd", {"n": n, "T": 6 * n}, adversary="timed:model=exp,c=0.1,lam=0.5", seed=seed)
            check_ringleader(res)
            worst = max(worst, res.metrics["max_delay"] - (2 * n - 2))
    assert worst == 0      # every run <= 2n - 2 (checked above), and some run hits it


def test_ringleader_one_worker_is_sgd_on_its_own_data():
    res = run("ringleader-asgd", {"n": 1, "T": 8}, adversary="random:seed=1")
    assert [u.counts for u in res.trace.records(Update)] == [[1]] * 8
    check_ringleader(res)


def test_unfair_pct_is_safe_but_may_not_be_live():
    """Malenia and Ringleader wait for every worker: a PCT schedule without a fairness bound
    can starve one, and the run stops at its step bound, unfinished, with every invariant
    intact for the updates it made (safety without liveness)."""
    stalled = {"ringleader-asgd": 0, "malenia-sgd": 0}
    for alg, seeds in (("ringleader-asgd", range(6)), ("malenia-sgd", range(3))):
        for seed in seeds:
            res = run(alg, {"T": 6}, adversary=f"pct:seed={seed}", model={})
            if res.trace.stopped == "max_steps":
                stalled[alg] += 1
                assert not res.metrics["finished"]
                continue
            CHECKS[alg](res)
    assert all(stalled.values()), stalled


def test_rennala_and_fedbuff_are_live_under_unfair_pct():
    for seed in range(3):
        for alg in ("rennala-sgd", "fedbuff"):
            res = run(alg, adversary=f"pct:seed={seed}", model={})
            assert res.metrics["finished"]
            CHECKS[alg](res)


def test_malenia_with_S_at_most_n_ends_a_round_when_the_last_worker_first_reports():
    res = run("malenia-sgd", {"S": 4}, adversary="timed:model=fixed,s=1/2/4/8")
    recs = res.trace.records(Received)
    for tab in res.trace.records(Table):
        last = [r for r in recs if r.t == tab.k and r.used][-1]
        assert tab.counts[last.worker] == 1, tab.counts
    assert any(max(t.counts) > 1 for t in res.trace.records(Table))     # the fast ones did not wait
    check_malenia(res)


# --- FedBuff's options ----------------------------------------------------------------------------


def test_fedbuff_normalization_by_weights_is_the_documented_deviation():
    params = {"weighting": "sqrt", "K": 4, "T": 40}
    fb = run("fedbuff", {**params, "normalization": "K"}, adversary=STRAGGLERS, seed=2)
    dev = run("fedbuff", {**params, "normalization": "weights"}, adversary=STRAGGLERS, seed=2)
    assert fb.trace.events == dev.trace.events          # the schedule does not depend on the values
    check_fedbuff(fb)
    check_fedbuff(dev)
    xs, recs = iterates(dev), dev.trace.records(FedBuffReceived)
    larger = 0
    for v, pub in enumerate(dev.trace.records(Publish)):
        ws = pub.weights
        assert pub.Z == in_order(ws) <= 4
        by_key = {(r.worker, r.serial): r for r in recs}
        num = in_order([by_key[m].weight * (0.05 * by_key[m].gradient) for m in pub.members])
        fedbuff_step = num / 4                          # what FedBuff would do from the same buffer
        np.testing.assert_allclose(xs[v] - xs[v + 1], fedbuff_step * (4 / pub.Z), rtol=1e-12, atol=1e-15)
        larger += pub.Z < 4
    assert larger > 0                                  # stale updates made the steps larger by K / Σ w


def test_fedbuff_without_weights_both_normalizations_agree_bit_for_bit():
    a = run("fedbuff", {"weighting": "none", "normalization": "K"}, adversary=STRAGGLERS)
    b = run("fedbuff", {"weighting": "none", "normalization": "weights"}, adversary=STRAGGLERS)
    assert all(r.weight == 1.0 for r in a.trace.records(FedBuffReceived))
    assert a.trace.digest == b.trace.digest
    check_fedbuff(a)


def _published_at_assignment(res):
    """For each FedBuff client sampled after an update: the version current when it was sampled,
    and the one it downloaded when its worker took it up (from the order of the records)."""
    v, out, assigned = 0, [], {}
    for _, _, key, val in res.trace.stepwise(Publish, FedBuffAssign, Download):
        if key == Publish.key:
            v += 1
        elif key == FedBuffAssign.key:
            assigned[(val.worker, val.serial)] = v
        elif (val.worker, val.serial) in assigned:                # Download
            out.append((assigned[(val.worker, val.serial)], val.version))
    return out


def test_fedbuff_note_c_is_asgrad_random_waiting_unless_a_client_waits_across_a_publish():
    """Seed 001, Table 1, note (c): FedBuff with η_l = γ/b, η_g = b, Q = 1, K = b (w = 1, divide by K,
    C = n) publishes x^(v) = x_{bv} of random asynchronous SGD with waiting b, step γ/b per received
    gradient (a step γ on the mean of b), up to rounding: the same schedule replays on both, with the
    same jobs and samples.  Where a sampled client waits in a busy worker's queue across a publish,
    FedBuff's client downloads the newer model when it starts while AsGrad's job computes at the
    iterate of its assignment: the replay on AsGrad then diverges at that job's start."""
    from asyncproof.reference.adversaries import Replay
    from asyncproof.reference.errors import ReplayDivergence
    b, gamma, n = 3, 0.06, 4
    same = differ = 0
    cases = [(adv.format(s=seed), seed) for seed in range(8)
             for adv in ("roundrobin", "random:seed={s}", "timed:model=fixed,s=1/1/1/1")]
    for adversary, seed in cases:     # short runs: with n = 4 random clients, long ones nearly always queue
        fb = run("fedbuff", {"weighting": "none", "K": b, "gamma_l": gamma / b, "gamma_g": float(b), "Q": 1, "T": 6},
                 adversary=adversary, seed=seed)
        waited = [(a, d) for a, d in _published_at_assignment(fb) if d > a]
        try:
            ag = run_algorithm("random-async-sgd-waiting", params={"n": n, "zeta": 1.0, "b": b, "gamma": gamma / b,
                                                                   "T": 6},
                               adversary=Replay(list(fb.trace.events)), seed=seed)
        except ReplayDivergence as e:
            assert waited, f"seed {seed}: the replay diverged ({e}) though no client waited across a publish"
            assert "start" in e.expected                  # at a client's start: the model it downloaded
            differ += 1
            continue
        assert not waited, f"seed {seed}: a client waited across a publish, yet AsGrad ran the same jobs"
        key = lambda r: (r.worker, r.serial, r.pi, r.samples)  # noqa: E731
        assert [key(r) for r in fb.trace.records(FedBuffReceived)] == \
            [key(r) for r in ag.trace.records(AsGradReceived)]
        ag_x = ag.trace.records("x")
        for v, x in enumerate(fb.trace.records("x"), start=1):
            np.testing.assert_allclose(x, ag_x[b * v - 1], rtol=1e-12, atol=1e-15)
        same += 1
    assert same and differ, (same, differ)          # both cases were met


def test_fedbuff_local_steps_and_concurrency():
    """Q local steps from the downloaded model (Δ = Σ_q η_l g(y_(q−1))), and C clients in training."""
    for C in (1, 2, 6):
        res = run("fedbuff", {"Q": 3, "C": C, "T": 20, "K": 2}, adversary=STRAGGLERS, seed=C)
        assert fedbuff_properties.check_fedbuff_clients(res) is None
        recs = res.trace.records(FedBuffReceived)
        assert all(len(r.local_samples) == 3 for r in recs)
        if C == 1:                                     # one client at a time: every update is fresh
            assert max(r.version_delay for r in recs) == 0
        if C == 6:                                     # more clients than workers: some wait in a queue
            assert any(d > a for a, d in _published_at_assignment(res))


# --- convergence on an easy problem ---------------------------------------------------------------


@pytest.mark.parametrize("alg,params", [("fedbuff", {"gamma_l": 0.05, "T": 60, "K": 2}),
                                        ("rennala-sgd", {"gamma": 0.05, "T": 30}),
                                        ("malenia-sgd", {"gamma": 0.05, "T": 30}),
                                        ("ringleader-asgd", {"gamma": 0.02, "T": 60})])
def test_loss_decreases_with_a_small_step(alg, params):
    res = run(alg, {**params, "zeta": 0.5}, adversary=STRAGGLERS, seed=3)
    values = [res.problem.value(x) for x in iterates(res)]
    assert values[-1] < 0.25 * values[0], values[::10]


# --- bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize("alg,params,adversary,needle", [
    ("rennala-sgd", {"S": 0}, "roundrobin", "S must be >= 1"),
    ("malenia-sgd", {"S": -2}, "roundrobin", "S must be >= 1"),
    ("fedbuff", {"K": 0}, "roundrobin", "K (buffer size) must be >= 1"),
    ("fedbuff", {"K": 30, "T": 24}, "roundrobin", "never fill"),
    ("fedbuff", {"weighting": "cubic"}, "roundrobin", "weighting must be one of"),
    ("fedbuff", {"normalization": "sum"}, "roundrobin", "normalization must be one of"),
    ("fedbuff", {"gamma_l": -0.1}, "roundrobin", "gamma_l"),
    ("fedbuff", {"dispatch": "round", "K": 5}, "roundrobin", "K must equal n"),
    ("fedbuff", {"dispatch": "round", "K": 3}, "roundrobin", "K must equal n"),
    ("fedbuff", {"dispatch": "sync"}, "roundrobin", "dispatch must be one of"),
    ("ringleader-asgd", {"n": 0}, "roundrobin", "n (workers) must be >= 1"),
    ("malenia-sgd", {"n": 41}, "roundrobin", "need at least one sample each"),
    ("ringleader-asgd", {"n": 41}, "roundrobin", "need at least one sample each"),
    ("rennala-sgd", {"gamma": 0.0}, "roundrobin", "gamma (step size) must be > 0"),
    ("ringleader-asgd", {}, "timed:model=fixed,s=1/-2/4/8", "compute time"),
    ("fedbuff", {}, "timed:model=exp,c=-1,lam=0.5", "compute time"),
])
def test_bad_input_is_one_line(alg, params, adversary, needle):
    with pytest.raises(InputError) as e:
        run(alg, params, adversary=adversary)
    assert needle in str(e.value) and "\n" not in str(e.value), str(e.value)


# --- FedBuff's synchronous schedule, mini-batch SGD's fixed batches, ζ splits by label ----------


@pytest.mark.parametrize("adversary", ["roundrobin", "random:seed=5", "timed:model=exp,c=1,lam=0.5"])
def test_fedbuff_synchronous_rounds_have_one_fresh_update_per_worker(adversary):
    res = run("fedbuff", {"dispatch": "round", "K": 4, "T": 12}, adversary=adversary)
    recs = res.trace.records(FedBuffReceived, 0)
    assert len(recs) == 12
    for v in range(3):                                   # round v: every worker once, all at x^(v)
        rnd = recs[4 * v:4 * v + 4]
        assert sorted(r.worker for r in rnd) == [0, 1, 2, 3]
        assert all(r.version == v and r.version_delay == 0 and r.weight == 1.0 for r in rnd)
    assert len(res.trace.records(Publish, 0)) == 3


def test_minibatch_sgd_fixed_batches_of_one_are_sgd_on_that_order():
    order = [3, 0, 7, 7, 1]
    mb = run_algorithm("minibatch-sgd", params={"T": 5, "b": 1, "n": 2, "batches": [[j] for j in order]}, seed=4)
    sgd = run_algorithm("sgd", params={"T": 5, "order": order}, seed=4)
    drawn = run_algorithm("minibatch-sgd", params={"T": 5, "b": 1, "n": 2}, seed=4)
    assert np.array_equal(mb.trace.outputs[0][-1], sgd.trace.outputs[0][-1])
    assert not np.array_equal(mb.trace.outputs[0][-1], drawn.trace.outputs[0][-1])


@pytest.mark.parametrize("batches, needle", [([], "must not be empty"), ([[0]], "list of b = 2"),
                                              ([[0, 99]], "not sample indices"), ([[0, True]], "not sample indices")])
def test_minibatch_sgd_bad_batches(batches, needle):
    with pytest.raises(InputError, match=needle):
        run_algorithm("minibatch-sgd", params={"T": 2, "b": 2, "batches": batches})


@pytest.mark.parametrize("name", ["logistic", "least-squares", "sparse-svm"])
def test_zeta_one_splits_by_label_or_target(name):
    from asyncproof.reference.parameter_server.common import split_keys
    from asyncproof.reference.problems import make_problem
    problem = make_problem(name, seed=3)
    keys = split_keys(problem)
    assert keys is not None and keys.shape == (problem.m,)
    parts = local_splits(problem, 3, 1.0, seed=0)
    for a, b in zip(parts, parts[1:]):                   # blocks of the sorted order: no overlap of keys
        assert keys[a].max() <= keys[b].min()
    assert len(set(np.unique(keys))) > 1                 # ... and the key really varies


# --- typed records: a write is checked at the writer ----------------------------------------------


def test_a_misspelt_field_is_an_error_at_the_writer():
    """Rennala's line 10 step returns the fields of its ``"batch"`` record; one that misspells a
    field (``memebers``) is an UndeclaredRecord raised by the server's ``ctx.record``, in the run,
    not a KeyError (or a silent miss) in some reader later; and so is a write of the wrong type."""
    from asyncproof.reference.parameter_server import rennala
    from asyncproof.reference.records import UndeclaredRecord, check_write
    from asyncproof.strategies import with_steps

    def misspelt(fresh, n):
        g, summary = rennala.rennala_aggregate(fresh, n)
        return g, {"memebers": summary["members"]}

    alg = with_steps("rennala-sgd", "my-rennala", aggregate=misspelt)
    with pytest.raises(UndeclaredRecord, match=r"my-rennala records 'batch' with unknown field memebers "
                                               r"\(declared: k, members\)") as e:
        run_algorithm(alg, params={**PARAMS["rennala-sgd"], "T": 2})
    writer = [entry for entry in e.traceback if entry.name == "body" and entry.path.name == "rennala.py"]
    assert writer, "not raised in the server's loop"          # at the ctx.record of round_server
    declared = rennala.ALGORITHM.records
    with pytest.raises(UndeclaredRecord, match="'stopped' without field jobs"):
        check_write(declared, "stopped", {"k": 0}, "rennala-sgd")
    with pytest.raises(UndeclaredRecord, match="records 'batch' as Table, declared Batch"):
        check_write(declared, "batch", Table(k=0, counts=[1], members=[[0]]), "rennala-sgd")     # Malenia's
    with pytest.raises(UndeclaredRecord, match="records 'discarded' as float, declared int"):
        check_write(declared, "discarded", 1.0, "rennala-sgd")
    assert check_write(declared, Batch(k=0, members=[(0, 0)]), None, "rennala-sgd") == {"k": 0, "members": [(0, 0)]}
