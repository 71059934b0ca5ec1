"""The AsGrad framework (seed 001, Algorithm 1): policies, recorded quantities, bad input."""

from __future__ import annotations

import pytest

from asyncproof.properties.parameter_server.asgrad import ASGRAD, check_attribution, check_delays
from asyncproof.reference.errors import InputError
from asyncproof.reference.parameter_server import asgrad
from asyncproof.reference.parameter_server.asgrad import AsGradReceived
from asyncproof.reference.schedule import replay, run_algorithm


def test_policies_follow_table_1():
    n, b = 5, 3
    for t in range(20):
        assert asgrad.pure(t, 2, n, b, 0) == (2, t + 1)
        k, alpha = asgrad.pure_waiting(t, 2, n, b, 0)
        assert k == 2 and alpha % b == 0 and t + 1 - b < alpha <= t + 1
        k, alpha = asgrad.random_worker(t, 2, n, b, 7)
        assert 0 <= k < n and alpha == t + 1
    for block in range(4):    # every n consecutive assignments of shuffled SGD visit every worker once
        assert sorted(asgrad.shuffled(t, 0, n, b, 3)[0] for t in range(block * n, block * n + n)) == list(range(n))


@pytest.mark.parametrize("algorithm", ASGRAD)
@pytest.mark.parametrize("adversary", ["roundrobin", "random:seed=4", "pct:d=3,seed=2", "delay:tau=6",
                                       "timed:model=exp,c=1,lam=0.5", "timed:model=fixed,s=1/2/4/8"])
def test_runs_replay_and_keep_the_books(algorithm, adversary):
    params = {"n": 4, "T": 25, "zeta": 0.5, **({"b": 2} if "waiting" in algorithm else {})}
    res = run_algorithm(algorithm, params=params, seed=3, adversary=adversary)
    assert res.metrics["finished"] and len(res.trace.records(AsGradReceived)) == 25
    assert replay(res.schedule).reproduced
    assert check_attribution(res) is None and check_delays(res) is None


def test_round_robin_pure_async_has_delay_n_minus_1():
    res = run_algorithm("pure-async-sgd", params={"n": 5, "T": 30}, seed=1)
    taus = [r.tau for r in res.trace.records(AsGradReceived)]
    assert taus[5:] == [4] * 25 and res.metrics["tau_C"] == 5


def test_bounded_delay_adversary_reaches_its_bound():
    """Under ``delay:tau=K`` with the model's bound K, every engine delay is <= K and some reach K."""
    K = 5
    res = run_algorithm("random-async-sgd", params={"n": 3, "T": 30}, adversary=f"delay:tau={K}",
                        model={"tau": K})
    ages = [age for _, kind, age in res.trace.delays if kind == "finish"]
    assert max(ages) == K
    assert check_delays(res) is None


def test_a_job_computes_on_the_assigned_workers_data():
    res = run_algorithm("random-async-sgd", params={"n": 4, "T": 30, "zeta": 1.0}, seed=2,
                        adversary="random:seed=9")
    from asyncproof.reference.parameter_server.common import local_splits
    splits = local_splits(res.problem, 4, 1.0, 2)
    for r in res.trace.records(AsGradReceived):
        assert set(r.samples) <= set(int(j) for j in splits[r.worker])


@pytest.mark.parametrize("params, text", [
    ({"n": 0}, "n (workers) must be >= 1"),
    ({"n": 500}, "need at least one sample each"),
    ({"zeta": 1.5}, "zeta must be in [0, 1]"),
    ({"batch": 0}, "batch must be >= 1"),
    ({"gamma": -1}, "gamma (step size) must be > 0"),
])
def test_bad_parameters(params, text):
    with pytest.raises(InputError) as e:
        run_algorithm("random-async-sgd", params=params)
    assert text in str(e.value) and "\n" not in str(e.value)


def test_waiting_b_below_1_is_rejected():
    with pytest.raises(InputError, match="b must be >= 1"):
        run_algorithm("pure-async-sgd-waiting", params={"b": 0})


@pytest.mark.parametrize("adversary, text", [("timed:model=exp,c=-1,lam=1", "must be >= 0"),
                                             ("timed:model=fixed,s=inf", "never finishes"),
                                             ("timed:model=lognormal,mu=800,sigma=1", "never finishes"),
                                             ("timed:model=fixed,s=0", "must be > 0")])
def test_bad_compute_models(adversary, text):
    with pytest.raises(InputError, match=text):
        run_algorithm("shuffled-async-sgd", adversary=adversary)
