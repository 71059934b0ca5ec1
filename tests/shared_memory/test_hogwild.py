"""HOGWILD! at coordinate granularity (reference/shared_memory/hogwild.py): the readings of its
docstring, the three write modes, bounded overlap, the perturbed-iterate records, bad input."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

import asyncproof
from asyncproof.reference.adversaries import Replay
from asyncproof.reference.engine import Engine, Model, ProcessSpec
from asyncproof.reference.errors import InputError
from asyncproof.reference.problems import SparseSVM, make_problem
from asyncproof.reference.records import UndeclaredRecord, check_write
from asyncproof.reference.registry import algorithms, get_algorithm
from asyncproof.reference.schedule import replay, run_algorithm
from asyncproof.reference.shared_memory import hogwild as H

MODES = ["atomic", "racy", "lock"]
SVM = {"name": "sparse-svm", "params": {"m": 12, "d": 10, "nnz": 3, "seed": 1}}


def one_coordinate():
    """Two samples that both touch coordinate 0 only: every overlap is a conflict."""
    return SparseSVM([0, 1, 2], [0, 0], [1.0, -1.0], [1.0, 1.0], d=1, lam=0.0)


def ram(result) -> np.ndarray:
    return np.asarray([o for os_ in result.trace.outputs.values() for o in os_][-1])


def test_three_registered_modes():
    names = {a.name for a in algorithms()}
    assert {"hogwild-atomic", "hogwild-racy", "hogwild-lock"} <= names
    for mode in MODES:
        r = run_algorithm(f"hogwild-{mode}", params={"T": 5, "n": 2}, seed=1)
        assert r.problem.name == "sparse-svm" and r.metrics["samples"] == 5 and r.metrics["finished"]


def test_reads_are_per_coordinate_then_a_job_then_per_coordinate_writes():
    r = run_algorithm("hogwild-atomic", problem=SVM, params={"n": 1, "T": 1}, seed=2)
    rec = H.samples(r.trace)[0]
    sup = rec.support
    assert sup == sorted(sup) and rec.j == H.sample_of(2, 0, 12)
    assert r.trace.events == (["p0 receive sample [0 msgs]"] + [f"p0 read x[{v}] k=0" for v in sup]
                              + [f"p0 start w0 grad f_{rec.j} k=0", f"finish #0 w0 grad f_{rec.j} k=0",
                                 "p0 receive job #0 [1 msg]"] + [f"p0 add x[{v}] k=0" for v in sup]
                              + ["p0 output", "p0 receive sample [0 msgs]"])


def test_racy_mode_loses_an_update_under_round_robin_and_the_schedule_replays():
    p = one_coordinate()
    racy = run_algorithm("hogwild-racy", problem=p, params={"n": 2, "T": 2, "gamma": 0.5}, seed=0)
    assert H.lost_updates(racy.trace) != []
    recs = H.samples(racy.trace)
    assert [r.xhat[0] for r in recs] == [0.0, 0.0]                          # both read x_0 = 0
    total = recs[0].g[0] + recs[1].g[0]
    assert ram(racy)[0] in (recs[0].g[0], recs[1].g[0]) and ram(racy)[0] != total
    assert racy.metrics["lost_updates"] == 1
    rep = replay(racy.schedule)
    assert rep.reproduced and np.array_equal(ram(rep), ram(racy))
    # the atomic mode, with every choice the same (round-robin), keeps both updates
    atomic = run_algorithm("hogwild-atomic", problem=p, params={"n": 2, "T": 2, "gamma": 0.5}, seed=0)
    assert ram(atomic)[0] == total and H.lost_updates(atomic.trace) == [] and atomic.metrics["lost_updates"] == 0


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("adversary", ["roundrobin", "random:seed=3", "pct:seed=2,d=4", "timed:model=exp,c=1,lam=1"])
def test_tau_zero_is_serial_sgd_bit_for_bit(mode, adversary):
    r = run_algorithm(f"hogwild-{mode}", problem=SVM, params={"n": 3, "T": 12, "tau": 0, "gamma": 0.3}, seed=4,
                      adversary=adversary)
    sgd = run_algorithm("sgd", problem=SVM, params={"T": 12, "gamma": 0.3}, seed=4)
    assert ram(r).tobytes() == sgd.trace.outputs[0][-1].tobytes()
    assert r.metrics["max_overlap"] == 0 and r.metrics["dist_to_serial"] == 0.0 and r.metrics["noisy_reads"] == 0


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("tau", [1, 2, 3])
def test_overlap_never_exceeds_tau_and_overlapping_samples_are_within_tau(mode, tau):
    seen = 0
    for seed in range(4):
        r = run_algorithm(f"hogwild-{mode}", problem=SVM, params={"n": 5, "T": 20, "tau": tau}, seed=seed,
                          adversary=f"random:seed={seed}")
        ov = H.overlaps(r.trace)
        assert all(len(s) <= tau for s in ov.values())
        assert all(abs(i - k) <= tau for k, s in ov.items() for i in s)
        seen = max(seen, max(len(s) for s in ov.values()))
    assert seen == tau                        # the random adversary reaches the bound


def test_unbounded_overlap_can_exceed_any_small_tau():
    r = run_algorithm("hogwild-atomic", problem=SVM, params={"n": 6, "T": 30}, seed=0, adversary="random:seed=1")
    assert r.metrics["max_overlap"] >= 4


def test_the_perturbed_records_follow_the_definitions():
    r = run_algorithm("hogwild-atomic", problem=SVM, params={"n": 3, "T": 15, "tau": 2, "gamma": 0.2}, seed=5,
                      adversary="random:seed=8")
    recs = H.samples(r.trace)
    per = r.trace.records(H.PERTURBED.key)[-1]
    x = r.problem.x0
    for rec, xk in zip(recs, per):
        s = np.asarray(rec.support)
        assert np.array_equal(xk, x[s])                                  # x_k on the support
        full = np.zeros(r.problem.d)
        full[s] = rec.xhat
        grad = r.problem.sample_grad(full, rec.j)[s]
        assert np.array_equal(rec.grad, grad) and np.array_equal(rec.g, -(0.2 * grad))
        x = x.copy()
        x[s] = x[s] + rec.g                                              # x_(k+1) = x_k − γ ∇f_(s_k)(x̂_k)
    # atomic writes + commutativity: the RAM is x_T up to the rounding of the adds
    np.testing.assert_allclose(ram(r), x, rtol=0, atol=1e-15)
    assert r.metrics["noisy_reads"] > 0 and r.metrics["mean_noise"] > 0


def test_lock_mode_reads_are_consistent_and_locks_are_taken_in_order():
    for seed in range(5):
        r = run_algorithm("hogwild-lock", problem=SVM, params={"n": 4, "T": 15}, seed=seed,
                          adversary=f"random:seed={seed}")
        mem = r.trace.records(H.MEM.key)
        landed = {(k, v): pos for pos, (op, k, v, _) in enumerate(mem) if op == "write"}
        reads = {(k, v): pos for pos, (op, k, v, _) in enumerate(mem) if op == "read"}
        recs = H.samples(r.trace)
        for a in recs:
            for b in recs:
                shared = set(a.support) & set(b.support)
                if a.k != b.k and shared:             # b's writes all before or all after a's reads
                    assert len({landed[(b.k, v)] < reads[(a.k, v)] for v in shared}) == 1
        for k in range(15):
            locked = [int(m.group(1)) for e in r.trace.events if (m := re.fullmatch(rf"p\d+ receive lock x\[(\d+)\] "
                                                                                   rf"k={k} \[0 msgs\]", e))]
            assert locked == sorted(locked) and len(locked) == 3
        assert r.metrics["lost_updates"] == 0


def test_a_lock_is_taken_by_one_test_and_set_step_and_released_by_the_unlock():
    mem = H.SharedMemory(np.zeros(2), T=1, tau=None)
    steps = H.take_lock(mem, 1, k=0)
    action = next(steps)
    assert action.label == "lock x[1] k=0" and action.until([]) and 1 not in mem.locks
    with pytest.raises(StopIteration):
        next(steps)                                   # the set is part of the same step: nothing else to do
    assert mem.locks == {1: 0} and not action.until([])
    H.release_locks(mem, np.array([1]))
    assert mem.locks == {}


def test_lost_updates_are_what_the_ram_no_longer_holds():
    # three cores load x[0], then store in turn (round-robin): the last store keeps only its own update
    p = SparseSVM([0, 1, 2, 3], [0, 0, 0], [1.0, 1.0, 1.0], [1.0, 1.0, 1.0], d=1, lam=0.0)
    r = run_algorithm("hogwild-racy", problem=p, params={"n": 3, "T": 3, "gamma": 0.5}, seed=0)
    g = [rec.g[0] for rec in H.samples(r.trace)]
    assert ram(r)[0] == g[2] and H.lost_updates(r.trace) == [(0, 0), (1, 0)] and r.metrics["lost_updates"] == 2


def test_lock_mode_runs_non_conflicting_samples_in_parallel():
    sparse = {"name": "sparse-svm", "params": {"m": 20, "d": 40, "nnz": 1, "seed": 3}}
    r = run_algorithm("hogwild-lock", problem=sparse, params={"n": 3, "T": 10}, seed=1)
    assert r.metrics["max_overlap"] >= 1


def test_a_misspelt_or_missing_field_is_an_undeclared_record_at_the_writer():
    alg = get_algorithm("hogwild-atomic")
    assert set(alg.records) == {"sample", "mem", "perturbed"} and alg.records["sample"] is H.Sample
    (done,) = H.samples(run_algorithm(alg, problem=SVM, params={"n": 1, "T": 1}, seed=0).trace)
    fields = done.fields()
    assert list(fields) == ["k", "j", "core", "support", "xhat", "grad", "g", "sampled_at", "done_at"]
    assert check_write(alg.records, "sample", fields, alg.name) == fields            # what the writer writes
    misspelt = {("xhats" if f == "xhat" else f): v for f, v in fields.items()}
    with pytest.raises(UndeclaredRecord, match="'sample' with unknown field xhats"):
        check_write(alg.records, "sample", misspelt, alg.name)
    with pytest.raises(UndeclaredRecord, match="'sample' without field done_at"):
        check_write(alg.records, "sample", {f: v for f, v in fields.items() if f != "done_at"}, alg.name)
    with pytest.raises(UndeclaredRecord, match="records 'samples', which it does not declare"):
        check_write(alg.records, "samples", fields, alg.name)
    with pytest.raises(UndeclaredRecord, match="records 'mem' as list, declared tuple"):
        check_write(alg.records, "mem", ["read", 0, 4, 0.0], alg.name)

    # in a run: the real cores, whose write of sample k stores x̂_k as "xhats" (a writer's typo)
    class Typo:
        def __init__(self, ctx):
            self._ctx = ctx

        def __getattr__(self, name):
            return getattr(self._ctx, name)

        def record(self, key, value=None):
            if isinstance(key, H.Sample):
                key, value = "sample", {("xhats" if f == "xhat" else f): v for f, v in key.fields().items()}
            self._ctx.record(key, value)

    def build(problem, params, seed, steps):
        system = H.build(problem, params, seed, steps, mode="atomic")
        system.processes = [ProcessSpec(lambda ctx, body=p.body: body(Typo(ctx))) for p in system.processes]
        return system

    with pytest.raises(UndeclaredRecord, match="hogwild-atomic records 'sample' with unknown field xhats") as e:
        run_algorithm(dataclasses.replace(alg, build=build), problem=SVM, params={"n": 2, "T": 3}, seed=0)
    # raised at the step of the write, the first sample's last add: no reader ever sees the record
    assert e.value.partial_schedule.events[-1] == f"p0 add x[{fields['support'][-1]}] k=0"
    with pytest.raises(UndeclaredRecord, match="has no record 'samples'"):
        run_algorithm(alg, problem=SVM, params={"n": 1, "T": 1}, seed=0).trace.records("samples")


def test_graph_cuts_steps_are_projected_and_locks_keep_the_simplex():
    cuts = {"name": "graph-cuts", "params": {"nodes": 6, "m": 8, "labels": 3, "seed": 2}}
    r = run_algorithm("hogwild-lock", problem=cuts, params={"n": 3, "T": 20, "gamma": 0.3}, seed=1,
                      adversary="random:seed=4")
    p = r.problem
    for rec in H.samples(r.trace):
        step = p.project_support(rec.j, rec.xhat - 0.3 * rec.grad) - rec.xhat
        assert np.array_equal(rec.g, step)
    p.check_feasible(ram(r))                  # consistent reads: every projected step lands on the simplex
    assert r.metrics["infeasibility"] < 1e-12
    racy = run_algorithm("hogwild-racy", problem=cuts, params={"n": 4, "T": 30, "gamma": 0.3}, seed=1,
                         adversary="random:seed=4")
    assert racy.metrics["infeasibility"] >= 0 and "loss" in racy.metrics


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("problem", [SVM, {"name": "matrix-completion", "params": {"n_rows": 4, "n_cols": 4, "m": 10}},
                                     {"name": "graph-cuts", "params": {"nodes": 6, "m": 8}},
                                     {"name": "least-squares", "params": {"m": 8, "d": 3}}], ids=lambda p: p["name"])
def test_replay_reproduces_every_mode_on_every_problem(mode, problem):
    r = run_algorithm(f"hogwild-{mode}", problem=problem, params={"n": 3, "T": 8, "tau": 2}, seed=3,
                      adversary="random:seed=5")
    rep = replay(r.schedule)
    assert rep.reproduced, rep.report()


@pytest.mark.slow
def test_replay_in_a_fresh_process_without_the_jit(tmp_path):
    paths = []
    for mode in MODES:
        for k, problem in enumerate([SVM, {"name": "graph-cuts", "params": {"nodes": 6, "m": 8}}]):
            r = run_algorithm(f"hogwild-{mode}", problem=problem, params={"n": 3, "T": 6, "tau": 2}, seed=3,
                              adversary="random:seed=5")
            paths.append(str(r.schedule.save(tmp_path / f"{mode}-{k}.json")))
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1",
           "PYTHONPATH": os.path.dirname(os.path.dirname(asyncproof.__file__))}
    out = subprocess.run([sys.executable, "-m", "asyncproof", "replay", *paths], env=env, cwd=tmp_path,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    for p in paths:
        assert f"{p}: reproduced {json.loads(open(p).read())['digest']}" in out.stdout


def test_the_overlap_rule_is_a_filter_the_adversary_chooses_within():
    # with tau = 1 and 3 cores, after two samples start the third core's sample step is not enabled
    r = run_algorithm("hogwild-atomic", problem=SVM, params={"n": 3, "T": 3, "tau": 1}, seed=0)
    engine = Engine(get_algorithm("hogwild-atomic").system(r.problem, r.params, 0), Replay(r.trace.events[:2]), Model())
    engine.run(max_steps=2)
    names = [e.name for e in engine.enabled()]
    assert engine.trace.events == ["p0 receive sample [0 msgs]", "p1 receive sample [0 msgs]"]
    assert "p2 receive sample [0 msgs]" not in names and any(n.startswith("p0 read") for n in names)


# ------------------------------------------------------------------------------------------
# bad input


@pytest.mark.parametrize("params, match", [
    ({"tau": -1}, "tau \\(bounded overlap\\) must be >= 0, got -1"),
    ({"n": 0}, "n \\(cores\\) must be >= 1, got 0"),
    ({"T": 0}, "T \\(samples\\) must be >= 1, got 0"),
    ({"gamma": 0.0}, "gamma \\(step size\\) must be > 0"),
    ({"tau": "x"}, "tau must be of type int"),
])
def test_bad_parameters(params, match):
    with pytest.raises(InputError, match=match) as e:
        run_algorithm("hogwild-atomic", params=params)
    assert "\n" not in str(e.value)


def test_a_graph_cut_start_off_the_simplex_is_refused():
    cuts = {"name": "graph-cuts", "params": {"nodes": 3, "m": 2, "labels": 2}}
    with pytest.raises(InputError, match="hogwild-lock: x0 is off the simplex: node 0's block sums to 2"):
        run_algorithm("hogwild-lock", problem=cuts, params={"x0": [1.0, 1.0, 0.5, 0.5, 0.5, 0.5]})


class _BadSupport(SparseSVM):
    def __init__(self, support):
        super().__init__([0, 1, 2], [0, 1], [1.0, 1.0], [1.0, -1.0], d=2)
        self._bad = support

    def support(self, j):
        return np.asarray(self._bad) if j == 1 else super().support(j)


@pytest.mark.parametrize("support, match", [
    ([1, 5], "the support of sample 1 holds coordinate 5, out of range 0 .. 1"),
    ([1, 1], "the support of sample 1 holds coordinate 1 twice"),
    ([-1], "the support of sample 1 holds coordinate -1, out of range"),
])
def test_bad_supports_are_refused(support, match):
    with pytest.raises(InputError, match=match):
        run_algorithm("hogwild-atomic", problem=_BadSupport(support), params={"T": 2})


def test_unknown_mode():
    with pytest.raises(InputError, match="unknown HOGWILD! write mode 'sloppy'; known: atomic, racy, lock"):
        H.build(make_problem("sparse-svm"), {"T": 1, "tau": None, "n": 1, "gamma": 0.1}, 0, H.STEPS["atomic"],
                mode="sloppy")
