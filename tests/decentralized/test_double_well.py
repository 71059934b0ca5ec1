"""The double well (reference/problems/double_well.py): values, gradients, constants, spec, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from asyncproof.reference.errors import InputError
from asyncproof.reference.problems import make_problem
from asyncproof.reference.problems.double_well import DoubleWell


def test_minima_saddle_and_constants():
    p = make_problem("double-well", d=3, sigma=0.0)
    for x in p.minima:
        assert p.value(x) == 0.0 and not np.any(p.grad(x))
    assert p.value(np.zeros(3)) == 0.25 and not np.any(p.grad(p.x0)) and not np.any(p.x0)
    assert p.L == 5.75 and p.mu is None and p.sigma == 0.0
    assert [p.well_of(x) for x in ([-0.3, 1, 1], [0.2, 0, 0], [0.0, 1, 0])] == [-1, 1, 0]


def test_gradient_matches_finite_differences_and_the_noise_is_exact():
    p = make_problem("double-well", d=2, sigma=0.3, m=8, seed=4)
    x = np.array([0.7, -0.4])
    for j in range(p.m):
        g = p.sample_grad(x, j)
        num = [(p.sample_value(x + e, j) - p.sample_value(x - e, j)) / 2e-6 for e in np.eye(2) * 1e-6]
        assert np.allclose(g, num, atol=1e-6)
    assert abs(p.sigma - 0.3) < 1e-12 and abs(p.variance_at(x) - 0.09) < 1e-12
    assert np.allclose(p.batch_grad(x, np.arange(p.m)), p.grad(x))


def test_spec_rebuilds_it_and_arrays_and_subsets_work():
    p = make_problem("double-well", d=2, m=6, seed=2)
    q = make_problem(**p.spec())
    assert q.spec() == p.spec() and np.array_equal(q.arrays[0], p.arrays[0])
    r = DoubleWell(p.arrays[0])
    assert r.value([0.5, 0.5]) == p.value([0.5, 0.5])
    assert p.subset([0, 2]).m == 2


@pytest.mark.parametrize("params, text", [({"sigma": 0.3, "m": 1}, "needs m >= 2"), ({"d": 0}, "d must be >= 1"),
                                          ({"sigma": -1.0}, "sigma must be finite and >= 0")])
def test_bad_parameters(params, text):
    with pytest.raises(InputError, match=text):
        make_problem("double-well", **params)


def test_a_run_from_the_saddle_reaches_a_well():
    from asyncproof.reference.schedule import run_algorithm
    res = run_algorithm("general-sgd", problem={"name": "double-well", "params": {"d": 1}},
                        params={"n": 3, "T": 10, "eta": 0.6}, seed=2)
    assert all(abs(abs(float(o[-1][0])) - 1.0) < 0.3 for o in res.trace.outputs.values())
