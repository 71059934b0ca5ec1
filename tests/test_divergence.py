"""A diverging run is a result, not bad input (issue 10, item 5).

The engine ends a run at its first non-finite value with ``trace.stopped == "diverged"``
and says where (``trace.divergence``); metrics are those of the run up to there; the
schedule replays to the same stop, bit for bit; no numpy warning reaches the user; a
run that stays finite is exactly what it was (its digest is pinned from before).
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

from asyncproof.reference.adversaries import RoundRobin
from asyncproof.reference.engine import Local, ProcessSpec, System, Trace, run
from asyncproof.reference.errors import InputError, NonFinite
from asyncproof.reference.problems import make_problem
from asyncproof.reference.schedule import load_schedule, replay, run_algorithm

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SGD_BLOWUP = dict(problem="quadratic", params={"gamma": 1.5, "T": 2000}, seed=0)

BIG = [1e200] * 5            # a far start point (least-squares has d = 5)


def _no_runtime_warnings(caught) -> list[str]:
    return [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]


def test_sgd_with_too_large_a_step_diverges_at_the_stated_iteration():
    # x² + 5y², ∇ = (2x, 10y), γ = 1.5: y_{t+1} = y_t − 15 y_t, so y_t = (−14)^t from y_0 = 1, and the
    # update of iteration t overflows when 15·14^t exceeds the largest double (γ·g overflows first)
    first = next(t for t in range(400) if 15 * 14 ** t > int(sys.float_info.max))
    res = run_algorithm("sgd", **SGD_BLOWUP)
    tr, d = res.trace, res.trace.divergence
    assert tr.stopped == "diverged"
    assert (d.iteration, d.pid, d.key, d.field, d.detected) == (first, 0, "x", "", "record")
    assert d.norm == math.inf
    # the event that diverged is the last one recorded: SGD takes 3 events per iteration
    assert d.step == len(tr.events) - 1 == 3 * first + 2
    xs = tr.observed("x")
    assert len(xs) == first + 1 and not np.isfinite(xs[-1]).all() and all(np.isfinite(x).all() for x in xs[:-1])
    # metrics: those of the last finite iterate x_first, and where it diverged
    m = res.metrics
    assert m["stopped"] == "diverged" and m["finished"] is False
    assert m["last_finite_iterate"] == first and m["x"] == [float(v) for v in xs[-2]]
    assert m["x"][0] == 2.0 ** first and m["x"][1] == pytest.approx(14.0 ** first, rel=1e-12)
    assert m["loss"] == math.inf          # 5y² of y ≈ 1.45e307 overflows: reported, not refused
    assert (m["diverged_at"], m["diverged_step"], m["diverged_norm"]) == (first, d.step, math.inf)
    assert d.describe() == f"diverged at iteration {first} (|x| = inf, step {d.step}, p0)"


def test_a_step_stable_without_delay_diverges_under_delay_5():
    # seed 004's picture in the engine: pure asynchronous SGD with n = τ + 1 workers sharing x² + 5y² (exact
    # gradients) under the FIFO schedule is x_{t+1} = x_t − γ ∇f(x_{t−5}) (proofs/claims/parameter_server/delayed_gd_quadratic.py);
    # γ = 0.18 < 2/L = 0.2 converges with one worker and diverges with six.  Started at 1e300 to overflow soon.
    from asyncproof.proofs.claims.parameter_server.delayed_gd_quadratic import delayed_gd
    x0 = [1e300, 1e300]

    def engine(n, T):
        return run_algorithm("pure-async-sgd", problem={"name": "quadratic", "params": {"m": n, "sigma": 0.0}},
                             params={"gamma": 0.18, "T": T, "n": n, "x0": x0}, seed=0, adversary="roundrobin")

    calm = engine(1, 60)
    assert calm.trace.stopped == "quiescent" and calm.trace.divergence is None
    assert np.abs(calm.trace.outputs[0][-1]).max() < 1e300       # shrinking (|1 − γh| < 1 for h = 2, 10)
    res = engine(6, 400)
    want = delayed_gd(0.18, 5, 400, x0=tuple(x0))
    first_inf = next(k for k in range(len(want)) if not np.isfinite(want[k]).all())
    got = np.array([x0] + list(res.trace.observed("x", 0)))
    assert got.tobytes() == want[:first_inf + 1].tobytes()        # the recurrence, to the last bit, up to there
    d = res.trace.divergence
    assert res.trace.stopped == "diverged" and (d.iteration, d.key) == (first_inf - 1, "x")
    assert res.metrics["diverged_at"] == first_inf - 1 and res.metrics["last_finite_iterate"] == first_inf - 1
    assert res.metrics["x"] == [float(v) for v in want[first_inf - 1]]
    assert max(r["tau"] for r in res.trace.observed("received")) == 5


def test_replay_of_a_diverged_run_stops_at_the_same_step_with_the_same_digest(tmp_path):
    res = run_algorithm("sgd", **SGD_BLOWUP)
    assert res.schedule.stopped == "diverged" and len(res.schedule.events) == res.trace.divergence.step + 1
    rep = replay(res.schedule)
    assert rep.reproduced and rep.digest == res.trace.digest
    assert rep.trace.stopped == "diverged" and rep.trace.divergence == res.trace.divergence
    assert rep.trace.events == res.trace.events and rep.metrics == res.metrics
    # from the file, in a fresh process, with the JIT and without it
    path = res.schedule.save(tmp_path / "diverged.json")
    assert replay(load_schedule(path)).reproduced
    for env in ({}, {"NUMBA_DISABLE_JIT": "1"}):
        p = subprocess.run([sys.executable, "-m", "asyncproof", "replay", str(path)], cwd=ROOT,
                           capture_output=True, text=True, env={**os.environ, **env}, timeout=300)
        assert p.returncode == 0, p.stdout + p.stderr
        assert "reproduced" in p.stdout and res.trace.digest in p.stdout
        assert "RuntimeWarning" not in p.stderr and "Traceback" not in p.stderr


def test_the_cli_run_of_a_diverging_step_prints_no_numpy_warning():
    p = subprocess.run([sys.executable, "-m", "asyncproof", "run", "sgd", "--problem", "quadratic",
                        "--param", "gamma=1.5", "--steps", "2000"], cwd=ROOT, capture_output=True, text=True,
                       timeout=300)
    assert "RuntimeWarning" not in p.stderr and "Traceback" not in p.stderr and "not finite" not in p.stderr
    assert "diverged" in p.stdout, p.stdout + p.stderr


def test_no_runtime_warning_in_the_run_its_metrics_and_its_replay():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = run_algorithm("sgd", **SGD_BLOWUP)
        replay(res.schedule)
    assert res.trace.stopped == "diverged"
    assert _no_runtime_warnings(caught) == []


def test_a_non_finite_start_is_still_bad_input():
    for alg, problem in (("sgd", "quadratic"), ("pure-async-sgd", "least-squares"), ("hogwild-atomic", "quadratic")):
        with pytest.raises(InputError) as e:
            run_algorithm(alg, problem=problem, params={"x0": [float("nan")] + [1.0] * (make_problem(problem).d - 1)})
        assert "x0" in str(e.value) and "nan is not finite" in str(e.value) and "\n" not in str(e.value)
    # outside a run, a problem's refusal is an ordinary InputError
    p = make_problem("quadratic")
    with pytest.raises(InputError, match=r"x\[1\] = inf is not finite") as e:
        p.sample_grad(np.array([1.0, np.inf]), 0)
    assert isinstance(e.value, NonFinite) and e.value.norm == math.inf and e.value.index == 1


def test_the_safety_net_a_non_finite_point_given_to_a_problem_inside_a_run():
    # the point is never recorded: the problem refuses it, the engine ends the run there
    problem = make_problem("quadratic")

    def body(ctx):
        x = np.array([1.0, 1.0])
        for t in range(1000):
            yield Local(f"update t={t}")
            x = x - 1.5 * problem.sample_grad(x, 0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tr = run(System([ProcessSpec(body)]), RoundRobin())
    d = tr.divergence
    assert tr.stopped == "diverged" and d.detected == "problem" and d.key == "x" and d.norm == math.inf
    # x_269 is the first non-finite iterate (as in SGD above); iteration 269 is refused at its start
    assert d.step == len(tr.events) - 1 == 269 and d.iteration == 269 and tr.events[-1] == "p0 update t=269"
    assert _no_runtime_warnings(caught) == []


def test_a_run_that_stops_short_of_the_divergence_is_not_diverged():
    res = run_algorithm("sgd", **SGD_BLOWUP, max_steps=300)
    assert res.trace.stopped == "max_steps" and res.trace.divergence is None
    assert "diverged_at" not in res.metrics and res.metrics["finished"] is False


def test_finite_part_drops_the_diverging_step_only():
    res = run_algorithm("sgd", **SGD_BLOWUP)
    tr = res.trace
    part = tr.finite_part()
    assert [o for o in tr.observations if o[0] < tr.divergence.step] == part.observations
    assert part.events == tr.events and part.stopped == "diverged"
    assert Trace().finite_part().stopped == ""          # a trace that did not diverge is its own finite part


# every family: the run diverges, its metrics are computed up to there, and the schedule replays
FAMILIES = [
    # γ at the top of its range (1e6) from a far start point, so that every family overflows within T
    ("minibatch-sgd", "least-squares", {"gamma": 1e6, "x0": BIG, "T": 30}, "roundrobin"),
    ("batch-gd", "least-squares", {"gamma": 1e6, "x0": BIG, "T": 30}, "roundrobin"),
    ("simu-parallel-sgd", "least-squares", {"gamma": 1e6, "x0": BIG, "T": 30}, "random:seed=2"),
    ("random-async-sgd", "least-squares", {"gamma": 1e6, "x0": BIG, "T": 60}, "random:seed=2"),
    ("rennala-sgd", "least-squares", {"gamma": 1e6, "x0": BIG, "T": 30}, "random:seed=2"),
    ("ringleader-asgd", "least-squares", {"gamma": 1e6, "x0": BIG, "T": 200}, "random:seed=2"),
    ("fedbuff", "least-squares", {"gamma_l": 1e6, "x0": BIG, "T": 100}, "random:seed=2"),
    ("hogwild-racy", "quadratic", {"gamma": 1.5, "T": 200, "n": 3, "x0": [1e300, 1e300]}, "random:seed=2"),
    ("serially-equivalent-sgd", "quadratic", {"gamma": 1.5, "T": 200, "x0": [1e300, 1e300]}, "roundrobin"),
]


@pytest.mark.parametrize("alg, problem, params, adversary", FAMILIES, ids=[f[0] for f in FAMILIES])
def test_every_family_diverges_measurably_and_replays(alg, problem, params, adversary):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = run_algorithm(alg, problem=problem, params=params, seed=1, adversary=adversary)
        rep = replay(res.schedule)
    d = res.trace.divergence
    assert res.trace.stopped == "diverged" and d is not None and d.step == len(res.trace.events) - 1
    assert isinstance(d.iteration, int) and d.iteration >= 0 and not math.isfinite(d.norm)
    assert res.metrics["diverged_at"] == d.iteration and res.metrics["finished"] is False
    assert rep.reproduced and rep.trace.divergence == d and rep.metrics == res.metrics
    assert _no_runtime_warnings(caught) == []
    if alg.startswith("hogwild"):        # the sample whose write overflowed; the RAM as the last write left it
        assert d.key == "mem" and d.iteration in {r[1] for r in res.trace.observed("mem")}
        assert all(math.isfinite(v) for v in res.metrics["x"])
    elif "x" in {k for (_, _, k, _) in res.trace.observations}:
        assert d.iteration == res.metrics["last_finite_iterate"]
        assert all(math.isfinite(v) for v in res.metrics["x"])


def test_an_agreement_round_is_the_iteration():
    import asyncproof.properties  # noqa: F401  (registers the broken variants)
    # weights by n instead of a convex combination: values of 1.7e308 leave the hull and overflow
    big = 1.7e308
    res = run_algorithm("broken-mdaa-weights-by-n", params={"inputs": [[big, -big], [big, big], [-big, big],
                                                                       [big, big], [big, -big]]},
                        seed=1, adversary="random:seed=2")
    d = res.trace.divergence
    assert res.trace.stopped == "diverged" and d.key == "aggregate" and d.field == "y"
    rec = [v for (s, p, k, v) in res.trace.observations if s == d.step and p == d.pid and k == "aggregate"][0]
    assert d.iteration == rec["r"]
    assert replay(res.schedule).reproduced


# digests computed before divergence detection existed (commit 574613e): finite runs are unchanged
PINNED = [
    ("sgd", dict(problem="quadratic", params={"gamma": 0.1, "T": 20}, seed=0),
     "sha256:8de316e57b455aea356e7ae40e51de3f0e7df9eb0a079c136ce1f6cde6ffa0de"),
    ("pure-async-sgd", dict(problem="least-squares", params={"gamma": 0.05, "T": 30, "n": 3}, seed=2,
                            adversary="random:seed=5"),
     "sha256:29d9f84d4809d1122da59a0db122008435d43ace6716b05ca32faf7e9eb99656"),
    ("hogwild-atomic", dict(problem="least-squares", params={"gamma": 0.05, "T": 20, "n": 3}, seed=1,
                            adversary="random:seed=4"),
     "sha256:dbcca6cc4fe250e5155a242d74ea50322c0342a3742d06be8219fecb3791ac11"),
    ("pure-async-sgd", dict(problem="least-squares", params={"gamma": 0.05, "T": 20, "n": 3}, seed=0,
                            adversary="timed:model=exp,c=1,lam=0.5,seed=2"),
     "sha256:0240768aa0860bbea1a1a36481a61f20c96018b58888327130bf6b3fe333700e"),
]


@pytest.mark.parametrize("alg, kw, digest", PINNED, ids=[f"{p[0]}-{i}" for i, p in enumerate(PINNED)])
def test_a_run_that_stays_finite_is_unchanged(alg, kw, digest):
    res = run_algorithm(alg, **kw)
    assert res.trace.stopped == "quiescent" and res.trace.divergence is None
    assert res.trace.digest == digest
    assert not any(k.startswith("diverged") for k in res.metrics)


def test_a_property_discards_a_diverged_case_instead_of_reporting_it(tmp_path):
    from hypothesis.errors import HypothesisDeprecationWarning, UnsatisfiedAssumption

    from asyncproof.properties.capture import FailureCapture
    from asyncproof.properties.guarantees import Case, SearchStats, get_guarantee, run_case
    g = get_guarantee("sgd-iterates")
    stats = SearchStats(g.name, "sgd")
    capture = FailureCapture(g.name, tmp_path)
    case = Case("sgd", {"name": "quadratic"}, {"gamma": 1.5, "T": 400}, 0)
    with pytest.raises(UnsatisfiedAssumption), warnings.catch_warnings():
        warnings.simplefilter("ignore", HypothesisDeprecationWarning)     # reject() outside @given, here only
        run_case(g, case, RoundRobin(), capture, stats)
    assert stats.diverged == 1 and stats.examples == 0 and capture.written == []
    # a finite case of the same guarantee is checked as before
    run_case(g, Case("sgd", {"name": "quadratic"}, {"gamma": 0.1, "T": 5}, 0), RoundRobin(), capture, stats)
    assert stats.examples == 1 and stats.violation is None


def test_experiments_still_read_a_diverged_run_as_diverged():
    from asyncproof.experiments.common import Diverged, run_once
    with pytest.raises(Diverged, match="diverged at iteration") as e:
        run_once("sgd", make_problem("quadratic"), {"gamma": 1.5}, ("fixed:s=1.0",), 0, 2000)
    assert e.value.schedule.stopped == "diverged"          # kept, so an experiment can save it
