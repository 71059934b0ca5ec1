"""Serially-equivalent conflict-free parallel SGD (reference/shared_memory/cyclades.py): the
guarantee on many schedules, and each reading of the module docstring."""

from __future__ import annotations

import itertools
import os
import re
import subprocess
import sys

import numpy as np
import pytest

import asyncproof
from asyncproof.reference.errors import InputError
from asyncproof.reference.problems import SparseSVM, make_problem
from asyncproof.reference.schedule import replay, run_algorithm
from asyncproof.reference.shared_memory.cyclades import NAME, ORDER, BatchPlan, allocate
from asyncproof.reference.shared_memory.hogwild import serial_sgd

PROBLEMS = [{"name": "sparse-svm", "params": {"m": 12, "d": 10, "nnz": 2}},
            {"name": "matrix-completion", "params": {"n_rows": 4, "n_cols": 4, "rank": 1, "m": 8}},
            {"name": "graph-cuts", "params": {"nodes": 8, "m": 6, "labels": 2}}]
ADVERSARIES = ["roundrobin", "random:seed=1", "pct:seed=2,d=3", "timed:model=exp,c=1,lam=0.5,seed=3"]
ACCESS = re.compile(r"p(\d+) (read|add) x\[(\d+)\] t=(\d+)")


def _serial(spec, params, seed):
    """(π, x_T) of serial SGD: the registered sgd's draws and output (its projected loop for graph cuts)."""
    sgd = run_algorithm("sgd", problem=spec, seed=seed, params={k: params[k] for k in ("gamma", "T", "order")
                                                                if k in params})
    pi = [int(j) for j in sgd.trace.records("j")]
    p = make_problem(spec["name"], **spec["params"])
    if p.constrained:
        return pi, serial_sgd(p, pi, p.x0, sgd.schedule.params["gamma"])
    return pi, sgd.trace.outputs[0][-1]


def _accesses(trace):
    """[(step, thread, op, v, t)] of every memory access, in schedule order."""
    return [(i, int(m.group(1)), m.group(2), int(m.group(3)), int(m.group(4)))
            for i, e in enumerate(trace.events) if (m := ACCESS.fullmatch(e))]


@pytest.mark.parametrize("spec", PROBLEMS, ids=lambda s: s["name"])
def test_parallel_equals_serial_for_every_batch_size_thread_count_and_schedule(spec):
    T, seed = 7, 4
    params = {"gamma": 0.1, "T": T}
    _, want = _serial(spec, params, seed)
    for batch, threads, adv in itertools.product((1, 2, 3, T, T + 2), (1, 2, 4), ADVERSARIES):
        r = run_algorithm(NAME, problem=spec, params={**params, "batch": batch, "threads": threads}, seed=seed,
                          adversary=adv)
        got = r.trace.outputs[0][-1]
        assert got.tobytes() == want.tobytes(), (batch, threads, adv)
        assert r.metrics["serially_equivalent"] and r.trace.stopped == "quiescent"


def test_data_order_is_sgds_draws_and_an_explicit_order_may_repeat_points():
    spec = PROBLEMS[0]
    r = run_algorithm(NAME, problem=spec, params={"T": 9, "batch": 4, "threads": 3}, seed=11,
                      adversary="random:seed=5")
    pi, want = _serial(spec, {"T": 9}, 11)
    assert r.trace.records(ORDER.key, 0)[0] == pi
    assert r.trace.outputs[0][-1].tobytes() == want.tobytes()
    order = [3, 3, 1, 3, 0, 1, 1]                   # repeats, also inside a batch; cycled when T > len
    r = run_algorithm(NAME, problem=spec, params={"T": 10, "batch": 5, "threads": 2, "order": order}, seed=0,
                      adversary="random:seed=2")
    pi, want = _serial(spec, {"T": 10, "order": order}, 0)
    assert pi == [order[t % len(order)] for t in range(10)] == r.trace.records(ORDER.key, 0)[0]
    assert r.trace.outputs[0][-1].tobytes() == want.tobytes()


def test_batches_are_consecutive_slices_the_last_one_shorter():
    r = run_algorithm(NAME, problem=PROBLEMS[0], params={"T": 11, "batch": 4, "threads": 2})
    assert [p.positions for p in r.trace.records(BatchPlan)] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10]]


def _components_by_brute_force(supports):
    """Positions 0..B-1 grouped by reachability through supports that meet (no networkx)."""
    comp = list(range(len(supports)))
    changed = True
    while changed:
        changed = False
        for a, b in itertools.combinations(range(len(supports)), 2):
            if set(supports[a]) & set(supports[b]) and comp[a] != comp[b]:
                lo = min(comp[a], comp[b])
                comp = [lo if c in (comp[a], comp[b]) else c for c in comp]
                changed = True
    return sorted(sorted(q for q in range(len(comp)) if comp[q] == c) for c in set(comp))


@pytest.mark.parametrize("spec", PROBLEMS, ids=lambda s: s["name"])
def test_components_are_those_of_the_batch_and_a_repeated_point_joins_its_own(spec):
    p = make_problem(spec["name"], **spec["params"])
    order = [0, 1, 0, 2, 3, 4, 2, 5]
    r = run_algorithm(NAME, problem=spec, params={"T": 16, "batch": 8, "threads": 3, "order": order})
    for plan in r.trace.records(BatchPlan):
        pos = plan.positions
        want = _components_by_brute_force([p.support(j).tolist() for j in plan.samples])
        assert sorted([pos.index(t) for t in c] for c in plan.components) == want
        for c in plan.components:
            assert c == sorted(c)
        same = [[t for t, j in zip(pos, plan.samples) if j == s] for s in set(plan.samples)]
        for ts in same:
            assert any(set(ts) <= set(c) for c in plan.components)


def test_a_point_with_an_empty_support_is_a_component_of_its_own():
    # row 1 of z is empty: f_1 is the constant max(1 - 0, 0); it conflicts with nothing
    spec = {"name": "sparse-svm", "params": {"indptr": [0, 2, 2, 3, 4], "indices": [0, 1, 1, 2],
                                             "data": [1.0, 2.0, -1.0, 0.5], "y": [1.0, -1.0, 1.0, -1.0], "d": 3}}
    order = [0, 1, 2, 1, 3]
    r = run_algorithm(NAME, problem=spec, params={"T": 5, "batch": 5, "threads": 2, "order": order, "gamma": 0.2},
                      adversary="random:seed=3")
    (plan,) = r.trace.records(BatchPlan)
    assert [1] in plan.components and [3] in plan.components
    assert r.trace.outputs[0][-1].tobytes() == _serial(spec, {"T": 5, "order": order, "gamma": 0.2}, 0)[1].tobytes()


def _lpt_bound_holds(sizes, threads):
    alloc = allocate(sizes, threads)
    assert sorted(c for cs in alloc for c in cs) == list(range(len(sizes)))     # each component once
    assert all(cs == sorted(cs) for cs in alloc)
    loads = [sum(sizes[c] for c in cs) for cs in alloc]
    best = min(max(sum(sizes[c] for c in range(len(sizes)) if who[c] == p) for p in range(threads))
               for who in itertools.product(range(threads), repeat=len(sizes)))
    # Graham's bound for largest-first greedy allocation
    assert max(loads) <= (4 / 3 - 1 / (3 * threads)) * best + 1e-12
    assert allocate(sizes, threads) == alloc


@pytest.mark.parametrize("sizes, threads", [([3, 1, 2, 2], 2), ([5, 4, 3, 3, 3], 2), ([1, 1, 1], 3),
                                            ([2, 7, 1, 1, 4, 2], 3), ([4], 3), ([3, 3, 2, 2, 2], 2)])
def test_allocation_is_greedy_largest_first_and_within_grahams_bound(sizes, threads):
    _lpt_bound_holds(sizes, threads)


def test_a_thread_runs_its_components_by_first_position_each_in_batch_order_and_batches_are_separated():
    r = run_algorithm(NAME, problem=PROBLEMS[1], params={"T": 12, "batch": 6, "threads": 2},
                      adversary="pct:seed=5,d=3")
    acc = _accesses(r.trace)
    first = {}
    for step, pid, op, v, t in acc:
        first.setdefault(t, (step, pid))
    for plan in r.trace.records(BatchPlan):
        for pid, cs in enumerate(plan.allocation):
            want = [t for c in sorted(cs, key=lambda c: plan.components[c][0]) for t in plan.components[c]]
            mine = sorted((first[t][0], t) for t in plan.positions if t in first and first[t][1] == pid)
            assert [t for _, t in mine] == want
    # the barrier: every access of batch b + 1 comes after every access of batch b
    batch_of = {t: p.b for p in r.trace.records(BatchPlan) for t in p.positions}
    last = {}
    for step, _, _, _, t in acc:
        last[batch_of[t]] = step
    for step, _, _, _, t in acc:
        assert batch_of[t] == 0 or step > last[batch_of[t] - 1]


def test_graph_cuts_steps_are_projected_and_stay_on_the_simplex():
    spec = PROBLEMS[2]
    p = make_problem(spec["name"], **spec["params"])
    r = run_algorithm(NAME, problem=spec, params={"T": 12, "batch": 4, "threads": 3, "gamma": 0.5},
                      adversary="random:seed=9")
    x = r.trace.outputs[0][-1]
    assert np.abs(p.project(x) - x).max() < 1e-12
    assert r.metrics["serially_equivalent"]


@pytest.mark.parametrize("params, message", [
    ({"batch": 0}, "serially-equivalent-sgd: batch (batch size) must be >= 1, got 0"),
    ({"threads": 0}, "serially-equivalent-sgd: threads must be >= 1, got 0"),
    ({"T": 0}, "serially-equivalent-sgd: T (iterations) must be >= 1, got 0"),
    ({"order": []}, "serially-equivalent-sgd: order must not be empty"),
    ({"order": [0, 99]}, "serially-equivalent-sgd: order holds [99], not sample indices of a problem with m = 40"),
    ({"gamma": -1}, "serially-equivalent-sgd: gamma (step size) must be > 0, got -1.0"),
])
def test_bad_parameters_are_one_line_input_errors(params, message):
    with pytest.raises(InputError) as e:
        run_algorithm(NAME, params=params)
    assert str(e.value) == message


def test_graph_cuts_start_off_the_simplex_is_refused():
    with pytest.raises(InputError, match=r"serially-equivalent-sgd: x0 is off the simplex: node 0's block sums to 2"):
        run_algorithm(NAME, problem={"name": "graph-cuts", "params": {"nodes": 3, "m": 2, "labels": 2}},
                      params={"x0": [1.0, 1.0, 0.5, 0.5, 0.5, 0.5]})


@pytest.mark.parametrize("bad, message", [(lambda p: np.array([0, p.d]), "holds coordinate 10, out of range 0 .. 9"),
                                          (lambda p: np.array([2, 2]), "holds coordinate 2 twice")])
def test_bad_supports_are_input_errors(monkeypatch, bad, message):
    p = make_problem("sparse-svm", m=6, d=10)
    monkeypatch.setattr(p, "support", lambda j, p=p: bad(p) if j == 4 else np.array([j]))
    with pytest.raises(InputError, match=f"the support of sample 4 {message}"):
        run_algorithm(NAME, problem=p, params={"T": 3})


def test_cli_batch_size_zero_exits_2():
    env = {**os.environ, "PYTHONPATH": os.path.dirname(os.path.dirname(asyncproof.__file__))}
    out = subprocess.run([sys.executable, "-m", "asyncproof", "run", NAME, "--param", "batch=0"], env=env,
                         capture_output=True, text=True)
    assert out.returncode == 2
    assert "batch (batch size) must be >= 1, got 0" in out.stderr + out.stdout
    assert "Traceback" not in out.stderr


def test_replay_reproduces_and_a_fresh_process_without_jit_too(tmp_path):
    r = run_algorithm(NAME, problem=PROBLEMS[0], params={"T": 6, "batch": 3, "threads": 3}, seed=2,
                      adversary="random:seed=8")
    assert replay(r.schedule).reproduced
    path = r.schedule.save(tmp_path / "run.json")
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1",
           "PYTHONPATH": os.path.dirname(os.path.dirname(asyncproof.__file__))}
    out = subprocess.run([sys.executable, "-m", "asyncproof", "replay", str(path)], env=env, capture_output=True,
                         text=True)
    assert out.returncode == 0 and f"reproduced {r.trace.digest}" in out.stdout, out.stdout + out.stderr


def test_the_default_problem_is_sparse_svm():
    r = run_algorithm(NAME, params={"T": 4})
    assert r.schedule.problem["name"] == "sparse-svm" and r.metrics["finished"]
    assert isinstance(make_problem(**r.schedule.problem), SparseSVM)
