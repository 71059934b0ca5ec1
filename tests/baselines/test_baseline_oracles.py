"""The independent oracles behind the baselines' guarantees, and the kernels' checks in both JIT modes.

* the oracle's own analytic gradients agree with central differences of its values
  (so the oracle that the iterate guarantees use is itself checked, without the kernels);
* ``check_kernels_at`` passes on the real kernels of every problem and reports a
  kernel bug, whether it is in the compiled kernel or only in its interpreted twin;
* ``kernel-gradients`` holds and catches its broken variants with ``NUMBA_DISABLE_JIT=1``
  too (a fresh process: the JIT setting is read when numba is imported);
* every baseline has a guarantee with a broken variant.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import asyncproof
from asyncproof.properties import get_guarantee, guarantees, search
from asyncproof.properties import kernels as kp
from asyncproof.properties.variants import with_kernels
from asyncproof.reference.problems import make_problem
from asyncproof.reference.schedule import run_algorithm

BASELINES = ("sgd", "minibatch-sgd", "simu-parallel-sgd", "batch-gd")


@pytest.mark.parametrize("name", sorted(kp.SPOT_SPECS))
def test_the_oracles_gradients_are_the_derivatives_of_its_values(name):
    checked = 0
    for seed in range(6):
        p = make_problem(name, seed=seed, **kp.SPOT_SPECS[name])
        o = kp.Oracle(p)
        for scale in (0.0, 0.3, 3.0):
            x = p.x0 + scale * np.random.default_rng([seed, 11]).standard_normal(p.d)
            D, tol, safe = kp.derivatives(o, x)
            ok = safe & ~o.ambiguous(x)[:, None]
            bad = (np.abs(o.grads(x) - D) > tol) & ok
            assert not bad.any(), f"{name}, seed {seed}, x = {x.tolist()}: {np.argwhere(bad)[:3].tolist()}"
            checked += int(ok.sum())
    assert checked > 0


@pytest.mark.parametrize("seed", range(8))
def test_every_problems_kernels_agree_with_the_oracle(seed):
    assert kp.check_every_kernel(seed) is None


def _with(problem, **kernels):
    return with_kernels(problem, **kernels)


def test_a_kernel_bug_is_reported_by_the_kernel_check():
    p = make_problem("logistic", seed=2, **kp.SPOT_SPECS["logistic"])
    x = p.x0 + 0.5
    assert kp.check_kernels_at(p, kp.Oracle(p), x, "x") is None
    msg = kp.check_kernels_at(_with(p, sample_grad=kp._logreg_sample_grad_missing_2), kp.Oracle(p), x, "x")
    assert msg is not None and "kernel sample_grad" in msg, msg
    q = make_problem("graph-cuts", seed=2, **kp.SPOT_SPECS["graph-cuts"])
    msg = kp.check_kernels_at(_with(q, batch_grad=kp._cut_batch_grad_same_sign), kp.Oracle(q), q.x0, "x0")
    assert msg is not None and "kernel batch_grad" in msg, msg


def test_a_bug_only_in_the_interpreted_kernels_is_reported(monkeypatch):
    interp = kp.interpreted_kernels()
    if interp is None:
        pytest.skip("the JIT is off in this process: the kernels in use are the interpreted ones")
    p = make_problem("logistic", seed=3, **kp.SPOT_SPECS["logistic"])
    x = p.x0 + 0.5
    assert [mode for mode, _ in kp.kernel_modes(p)] == ["compiled", "NUMBA_DISABLE_JIT=1"]
    monkeypatch.setattr(interp, "logreg_sample_grad", kp._logreg_sample_grad_missing_2.py_func)
    msg = kp.check_kernels_at(p, kp.Oracle(p), x, "x")
    assert msg is not None and "(NUMBA_DISABLE_JIT=1)" in msg, msg


def test_the_oracle_refuses_a_subset():
    p = make_problem("sparse-svm", seed=1, m=6, d=4).subset([0, 2, 4])
    with pytest.raises(ValueError):
        kp.Oracle(p)


def test_each_broken_baseline_differs_where_its_guarantee_says():
    spec = {"name": "least-squares", "params": {"m": 5, "d": 2, "seed": 1}}
    params = {"n": 2, "T": 3}
    g = get_guarantee("batch-gd-full-gradient")
    real = run_algorithm("batch-gd", problem=spec, params=params, seed=1)
    assert g.check(real) is None and g.hard(real)
    assert "shards of sizes [3, 2]" in g.check(run_algorithm("broken-batch-gd-unweighted-shards", problem=spec,
                                                             params=params, seed=1))
    g = get_guarantee("minibatch-mean")
    params = {"b": 3, "n": 2, "T": 2}
    assert g.check(run_algorithm("minibatch-sgd", problem=spec, params=params, seed=4)) is None
    assert "b = 3" in g.check(run_algorithm("broken-minibatch-divides-by-workers", problem=spec, params=params, seed=4))


@pytest.mark.parametrize("guarantee, algorithm, variant", [
    ("minibatch-mean", "minibatch-sgd", "broken-minibatch-stale-gradient"),
    ("simu-parallel-average", "simu-parallel-sgd", "broken-simu-parallel-drops-last"),
])
def test_the_independent_statements_also_catch_the_older_variants(tmp_path, guarantee, algorithm, variant):
    stats = search(get_guarantee(guarantee), algorithm, budget="quick", failures=tmp_path, examples=48,
                   variant=variant)
    assert stats.violation is not None


def test_every_baseline_has_a_guarantee_with_a_broken_variant():
    covered = {a for g in guarantees() for a in g.broken}
    assert set(BASELINES) <= covered, set(BASELINES) - covered


SCRIPT = textwrap.dedent("""
    import tempfile
    from asyncproof.properties import get_guarantee, search
    from asyncproof.properties import kernels as kp
    assert kp.interpreted_kernels() is None
    assert [mode for mode, _ in kp.kernel_modes(kp.spot_problems(0)[0][0])] == ["NUMBA_DISABLE_JIT=1"]
    g = get_guarantee("kernel-gradients")
    for alg in g.algorithms:
        st = search(g, alg, "quick", tempfile.mkdtemp())
        assert st.violation is None and st.hard >= 1, (alg, st)
        bst = search(g, alg, "quick", tempfile.mkdtemp(), examples=48, variant=g.broken[alg])
        assert bst.violation is not None, (alg, g.broken[alg])
        print("ok", alg, st.examples, st.hard, g.broken[alg], bst.found_at)
""")


def test_the_kernel_guarantee_with_the_jit_disabled(tmp_path):
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1",
           "PYTHONPATH": os.path.dirname(os.path.dirname(asyncproof.__file__))}
    out = subprocess.run([sys.executable, "-c", SCRIPT], env=env, cwd=tmp_path, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.count("ok ") == 2, out.stdout
