"""Every algorithm parameter has a declared range, enforced in one line; a run's memory is
estimated before it allocates (issue 10, item 4)."""

from __future__ import annotations

import gc
import math
import tracemalloc

import pytest

from asyncproof import properties  # noqa: F401  (registers the broken variants)
from asyncproof.cli import main
from asyncproof.reference import engine as engine_module
from asyncproof.reference.errors import InputError
from asyncproof.reference.registry import (GiB, MEMORY_CAP, MemoryEstimate, Param, algorithms, check_memory,
                                           get_algorithm, memory_estimate, memory_limit, resolve_params)
from asyncproof.reference.schedule import prepare, run_algorithm

ALL = algorithms(include_broken=True)


def _corner(alg) -> dict:
    """Every int parameter with a range at its upper end (the defaults for the rest)."""
    return {name: p.hi for name, p in alg.params.items() if p.kind is int and p.hi is not None}


# --- every parameter has a range ----------------------------------------------------------------------


def test_every_parameter_of_every_algorithm_has_a_range():
    missing = [f"{a.name}: {name}" for a in ALL for name, p in a.params.items() if not p.has_range()]
    assert not missing, f"parameters without a declared range: {missing}"


def test_every_number_and_list_parameter_is_bounded_above():
    # bool and str are bounded by their kind and check; a number or a list needs an upper end
    for a in ALL:
        for name, p in a.params.items():
            if p.kind in (int, float):
                assert p.lo is not None and p.hi is not None and math.isfinite(p.hi), (a.name, name)
            elif p.kind == "list":
                assert p.max_len is not None, (a.name, name)
            elif p.kind is str:
                assert p.check is not None and p.check(p.default) is None, (a.name, name)


def test_every_default_is_in_its_range():
    for a in ALL:
        for name, p in a.params.items():
            assert p.range_error(p.default) is None, (a.name, name, p.default)
        resolve_params(a.name, {})


def test_a_parameter_without_a_range_is_found():
    bare = Param("T", int, 50, "iterations")
    assert not bare.has_range()
    assert Param("T", int, 50, "iterations", lo=1, hi=10).has_range()
    assert not Param("x", "list", None, "points").has_range()


# --- the range, enforced in one line ------------------------------------------------------------------


@pytest.mark.parametrize("name,given,message", [
    ("minibatch-sgd", {"b": 10 ** 9}, "minibatch-sgd: b (mini-batch size) must be <= 100000, got 1000000000"),
    ("minibatch-sgd", {"b": "1e9"}, "minibatch-sgd: b (mini-batch size) must be <= 100000, got 1000000000"),
    ("sgd", {"T": 10 ** 12}, "sgd: T (iterations) must be <= 10000000, got 1000000000000"),
    ("sgd", {"gamma": 1e7}, "sgd: gamma (step size) must be <= 1e+06, got 10000000.0"),
    ("sgd", {"order": [0, -1]}, "sgd: order must hold numbers in 0..49999999, got -1"),
    ("hogwild-racy", {"n": 100000}, "hogwild-racy: n (cores) must be <= 1000, got 100000"),
    ("mdaa", {"T": "1e9"}, "mdaa: T (the rounds R) must be <= 10000, got 1000000000"),
    ("mdaa", {"clusters": [100000]}, "mdaa: clusters (sizes or pids) must hold numbers in 0..64, got 100000"),
    ("mdaa", {"clusters": [40, 40]}, "mdaa: clusters must have at most 64 processes in all, got n = 80"),
    ("mdaa", {"clusters": [1] * 65}, "mdaa: clusters (sizes or pids) must have at most 64 elements, got 65"),
    ("mdaa", {"q": 1e-40}, "mdaa: q must be >= 1e-30, got 1e-40"),
    ("fedbuff", {"Q": 10 ** 6}, "fedbuff: Q must be <= 10000, got 1000000"),
    ("pure-async-sgd", {"C": 10 ** 6}, "pure-async-sgd: C (jobs in flight) must be <= 100000, got 1000000"),
    ("serially-equivalent-sgd", {"threads": 5000}, "serially-equivalent-sgd: threads must be <= 1000, got 5000"),
    ("rennala-sgd", {"zeta": 2.0}, "rennala-sgd: zeta must be in [0, 1], got 2.0"),
])
def test_out_of_range_is_one_line_naming_algorithm_parameter_value_and_range(name, given, message):
    with pytest.raises(InputError) as e:
        resolve_params(name, given)
    assert str(e.value) == message


def test_the_ends_of_a_range_are_inclusive_unless_open():
    assert resolve_params("minibatch-sgd", {"b": 100000})["b"] == 100000
    assert resolve_params("sgd", {"gamma": 1e6})["gamma"] == 1e6
    with pytest.raises(InputError, match=r"gamma \(step size\) must be > 0, got 0.0"):
        resolve_params("sgd", {"gamma": 0.0})
    with pytest.raises(InputError, match=r"q must be in \(0, 1\), got 1.0"):
        resolve_params("mdaa", {"q": 1.0})


def test_an_integer_with_an_exponent_parses_and_a_fraction_does_not():
    assert resolve_params("sgd", {"T": "1e3"})["T"] == 1000
    with pytest.raises(InputError, match="T must be of type int, got '2.5e0'"):
        resolve_params("sgd", {"T": "2.5e0"})
    with pytest.raises(InputError, match="T must be of type int, got '2.5'"):
        resolve_params("sgd", {"T": "2.5"})


def test_describe_shows_the_default_and_the_range():
    get = lambda a, p: get_algorithm(a).params[p].describe()     # noqa: E731
    assert get("minibatch-sgd", "b") == "b=4 (1..100000)"
    assert get("sgd", "gamma") == "gamma=0.05 ((0, 1e+06])"
    assert get("mdaa", "q") == "q=0.1 ([1e-30, 1))"
    assert get("mdaa", "T") == "T=None (1..10000)"
    assert get("sgd", "order") == "order=None (list, at most 10000000 elements, each 0..49999999)"
    assert get("mdaa", "provenance") == "provenance=True"
    for a in ALL:
        for p in a.params.values():
            assert p.describe().startswith(f"{p.name}=")


# --- the reported commands are refused before anything runs ------------------------------------------


DEFECTS = [
    (["run", "minibatch-sgd", "--param", "b=1e9"], "b (mini-batch size) must be <= 100000"),
    (["run", "mdaa", "--param", "T=1e9"], "T (the rounds R) must be <= 10000"),
    (["run", "mdaa", "--param", "clusters=[100000]"], "clusters (sizes or pids) must hold numbers in 0..64"),
    (["run", "hogwild-racy", "--param", "n=100000"], "n (cores) must be <= 1000"),
    (["run", "sgd", "--steps", "1000000000000"], "T (iterations) must be <= 10000000"),
]


@pytest.mark.parametrize("argv,message", DEFECTS)
def test_reported_commands_exit_2_with_one_line_before_building(argv, message, capsys, monkeypatch):
    # refused while resolving the parameters: neither the system is built nor the engine run
    def never(*args, **kwargs):
        raise AssertionError("the run was built or started")
    monkeypatch.setattr(engine_module.Engine, "run", never)
    monkeypatch.setattr(get_algorithm(argv[1]), "build", never)
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 2
    assert err.count("\n") == 1 and message in err, err
    assert err.startswith(f"asyncproof run: error: {argv[1]}: ")


# --- the memory estimate ------------------------------------------------------------------------------


def test_memory_limit_is_at_most_the_cap():
    assert 0 < memory_limit() <= MEMORY_CAP == 4 * GiB


def test_every_algorithm_accepts_its_defaults():
    for a in ALL:
        alg, p, prob = prepare(a.name)
        need = check_memory(alg, prob, p)
        assert 0 < need < 64 * 2 ** 20, (a.name, need)


@pytest.mark.parametrize("name,params,lower", [
    ("minibatch-sgd", {"b": 100000, "T": 1000}, "lower b or T"),
    ("sgd", {"T": 10 ** 7}, "lower T"),
    ("hogwild-racy", {"T": 10 ** 6}, "lower T"),
    ("mdaa", {"T": 10000, "K": 10000}, "lower T (or q) or K (or eps) or the clusters"),
    ("pure-async-sgd", {"T": 10 ** 7}, "lower T or C"),
    ("rennala-sgd", {"S": 100000}, "lower T or S or n"),
    ("serially-equivalent-sgd", {"T": 10000, "batch": 10000}, "lower batch"),
    ("cluster-agreement", {"T": 10000, "clusters": [64]}, "lower T or the clusters"),
])
def test_memory_refuses_a_large_run_in_range_with_the_estimate(name, params, lower):
    from asyncproof.reference.problems import make_problem
    from asyncproof.reference.registry import get_algorithm, resolve_params
    alg = get_algorithm(name)
    p = resolve_params(name, params)                     # in range: resolve_params accepts it
    prob = make_problem(alg.default_problem)
    if alg.check is not None:
        alg.check(prob, p)
    need = memory_estimate(alg, prob, p)
    assert isinstance(need, MemoryEstimate) and need > 4 * GiB
    with pytest.raises(InputError) as e:
        check_memory(alg, prob, p, limit=4 * GiB)
    msg = str(e.value)
    assert "\n" not in msg
    assert msg.startswith(f"{name}: this run would need about ")
    assert f"more than the 4.0 GiB limit; {lower}" in msg
    assert need.costs[0].what in msg                     # the largest term, with its numbers
    with pytest.raises(InputError, match="this run would need about"):
        prepare(name, None, params)                      # run, replay and verify all go through prepare


def test_memory_limit_under_the_cap_says_so():
    alg, p, prob = prepare("sgd", None, {"T": 10 ** 5})
    with pytest.raises(InputError, match=r"more than the 1.0 MiB limit; lower T"):
        check_memory(alg, prob, p, limit=2 ** 20)


def test_an_algorithm_without_an_estimate_gets_the_default():
    sgd = get_algorithm("sgd")
    assert sgd.memory is None
    small = memory_estimate(sgd, prepare("sgd")[2], {"T": 10})
    large = memory_estimate(sgd, prepare("sgd")[2], {"T": 10_000})
    assert 0 < small < large and large.lower == ("T",)


def _peak(name: str, params: dict, problem=None) -> tuple[int, int]:
    """(estimate, tracemalloc's peak) of one run, the problem built before measuring."""
    alg, p, prob = prepare(name, problem, params)
    run_algorithm(name, problem=prob, params={**params, "T": 2})       # first-call allocations, not the run's
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        run_algorithm(name, problem=prob, params=params)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    return memory_estimate(alg, prob, p), peak


@pytest.mark.parametrize("name,params,problem", [
    ("minibatch-sgd", {"T": 60, "b": 32}, None),
    ("hogwild-racy", {"T": 200, "n": 8}, None),
    ("mdaa", {"T": 8, "K": 8}, None),
    ("shuffled-async-sgd", {"T": 150, "n": 8, "batch": 4}, {"name": "least-squares", "params": {"d": 400}}),
])
def test_estimate_is_within_a_small_factor_of_the_measured_peak(name, params, problem):
    est, peak = _peak(name, params, problem)
    # measured when written: 1.2, 1.3, 1.5, 1.1 here; 0.8-2.1 over every algorithm on runs 10x longer,
    # round-robin, random and timed adversaries
    # tight enough that an estimate missing its largest term, or counting one twice over, fails
    assert 0.7 <= est / peak <= 3, (name, est, peak, f"estimate/measured = {est / peak:.2f}")


# --- the events bound -------------------------------------------------------------------------------


def test_max_steps_is_finite_at_the_defaults_and_at_the_top_of_every_range():
    for a in ALL:
        for params in ({}, _corner(a)):
            p = resolve_params(a.name, params)
            steps = a.max_steps(p)
            assert isinstance(steps, int) and 0 < steps < 10 ** 15, (a.name, params, steps)


def _resolved(name, problem=None, params=None):
    """What prepare() resolves, without its memory check (the estimate itself is under test)."""
    from asyncproof.reference.problems import make_problem
    from asyncproof.reference.registry import get_algorithm, resolve_params
    alg = get_algorithm(name)
    p = resolve_params(name, dict(params or {}))
    prob = make_problem(problem or alg.default_problem)
    if alg.check is not None:
        alg.check(prob, p)
    return alg, p, prob


def test_the_top_of_every_range_has_a_finite_estimate():
    for a in algorithms():
        alg, p, prob = _resolved(a.name, None, _corner(a) if a.family != "parameter-server" else
                               {k: v for k, v in _corner(a).items() if k not in ("n",)})
        need = memory_estimate(alg, prob, p)
        assert isinstance(need, int) and 0 < need and math.isfinite(float(need)), (a.name, need)
