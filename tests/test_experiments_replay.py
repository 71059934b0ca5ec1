"""Experiment runs replay: their problems are specs ``make_problem`` rebuilds (issue 11, item 3).

A run of ``asgrad-figure1`` (the w7a-shaped data, jobs answered with the full local gradient)
and one of ``heterogeneous-compute`` (the same data, stochastic gradients, stragglers) are
saved and replayed by ``python -m asyncproof replay`` in a fresh process, which must reach
the same digest; bad parameters of the new problem spec are one-line errors naming them.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import asyncproof
from asyncproof.cli import main as cli_main
from asyncproof.experiments import common
from asyncproof.experiments.heterogeneous_compute import method_params
from asyncproof.reference.errors import InputError
from asyncproof.reference.parameter_server.common import local_splits
from asyncproof.reference.problems import LocalFullGradient, make_problem
from asyncproof.reference.schedule import load_schedule

ROOT = Path(asyncproof.__file__).resolve().parents[1]
N = 4
SPEC = common.problem_spec(None, seed=0, quick=True)      # the quick mode's data: m = 600, d = 60


def _task(name: str, alg: str, problem: dict, timing: tuple, params: dict, folder: Path) -> dict:
    return {"setting": name, "method": alg, "alg": alg, "timing": timing, "seed": 0, "horizon": 20.0, "points": 5,
            "target": 1e-3, "problem": problem, "params": params, "schedule_file": str(folder / f"{name}.json")}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("runs")
    fixed = tuple(f"fixed:s={float(i + 1)!r}" for i in range(N))
    stragglers = tuple("exp:c=1.0,lam=0.25" for _ in range(N))
    tasks = [_task("asgrad", "shuffled-async-sgd", common.with_local_full_gradient(SPEC, N, 1.0, 0), fixed,
                   {"gamma": 0.5, "n": N, "zeta": 1.0, "batch": 2}, folder),
             _task("hetero", "ringleader-asgd", SPEC, stragglers,
                   method_params("ringleader-asgd", 0.1, N, 1.0, N, 1), folder)]
    return [common.timed_task(t) for t in tasks]


def _replay_in_a_fresh_process(*files, cwd) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "asyncproof", "replay", *map(str, files)], cwd=cwd,
                          capture_output=True, text=True, env=env, timeout=120)


def test_saved_runs_store_the_problem_spec_not_its_data(runs):
    asgrad, hetero = (load_schedule(r["schedule_file"]) for r in runs)
    assert asgrad.problem == {"name": "logistic", "params": {
        "generator": "w7a-like", "seed": 0, "m": 600, "d": 60, "nnz": 11.6 * 60 / 300, "positive": 0.03, "lam": 0.1,
        "local_full_gradient": {"n": N, "zeta": 1.0, "seed": 0}}}
    assert hetero.problem == {"name": "logistic", "params": {k: v for k, v in asgrad.problem["params"].items()
                                                              if k != "local_full_gradient"}}
    for r in runs:
        assert r["digest"].startswith("sha256:") and r["stopped"] and r["iterations"] > 0


def test_experiment_runs_replay_bit_for_bit_in_a_fresh_process(runs, tmp_path):
    r = _replay_in_a_fresh_process(*(run["schedule_file"] for run in runs), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    for run in runs:
        assert f"{run['schedule_file']}: reproduced {run['digest']}" in r.stdout.splitlines()


def test_the_local_full_gradient_is_the_mean_over_the_worker_s_split():
    base = make_problem(**SPEC)
    prob = make_problem(**common.with_local_full_gradient(SPEC, N, 1.0, 0))
    assert isinstance(prob, LocalFullGradient) and prob.spec() == make_problem(**prob.spec()).spec()
    splits = local_splits(base, N, 1.0, 0)
    x = np.linspace(-1.0, 1.0, base.d)
    for split in splits:
        idx = np.array([split[-1], split[0]])             # any samples of one worker: its whole split
        assert np.array_equal(prob.batch_grad(x, idx), base.batch_grad(x, np.sort(split)))
    assert np.array_equal(prob.grad(x), base.grad(x))
    assert np.array_equal(prob.sample_grad(x, 3), base.sample_grad(x, 3))
    with pytest.raises(InputError, match="straddle two workers' splits"):
        prob.batch_grad(x, np.array([splits[0][0], splits[1][0]]))


@pytest.mark.parametrize("params, named", [
    ({"nnz": -1}, "nnz must be > 0, got -1"),
    ({"nnz": 100}, "nnz = 100 nonzeros per row do not fit in d = 60"),
    ({"positive": 1.5}, "positive must be <= 1, got 1.5"),
    ({"m": 0}, "m must be >= 1, got 0"),
    ({"d": "sixty"}, "d must be of type int, got 'sixty'"),
    ({"lam": float("nan")}, "lam must be in [0, 1e+06], got nan"),
    ({"density": 0.5}, "'density' is not a parameter of logistic generator 'w7a-like'"),
    ({"generator": "w8a"}, "generator = 'w8a' is not one of its data generators (w7a-like)"),
    ({"local_full_gradient": {"n": 0}}, "local_full_gradient: n (workers) must be >= 1, got 0"),
    ({"local_full_gradient": {"zeta": 2}}, "local_full_gradient: zeta must be in [0, 1], got 2.0"),
    ({"local_full_gradient": {"n": 4, "workers": 4}}, "'workers' is not a parameter of local_full_gradient"),
    ({"local_full_gradient": "n=4,zeta"}, "local_full_gradient parameter 'zeta' in 'n=4,zeta' is not of the form"),
    ({"local_full_gradient": {"n": 601}}, "n = 601 workers need at least one sample each; the problem has m = 600"),
])
def test_bad_parameters_of_the_new_problem_spec_are_one_line_errors(params, named):
    with pytest.raises(InputError) as e:
        make_problem(**{"name": "logistic", "params": {**SPEC["params"], **params}})
    assert named in str(e.value) and "\n" not in str(e.value)


def test_a_schedule_with_a_bad_problem_parameter_is_refused_in_one_line(runs, tmp_path, capsys):
    d = json.loads(Path(runs[0]["schedule_file"]).read_text())
    d["problem"]["params"]["local_full_gradient"]["zeta"] = 1.5
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(d))
    assert cli_main(["replay", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and re.search(r"local_full_gradient: zeta must be in \[0, 1\], got 1\.5", err[0]), err
