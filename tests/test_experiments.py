"""The reproducible experiments (asyncproof/experiments/) in their quick mode.

Each quick run takes a few seconds; the full runs (docs/experiments/) are not repeated here.
"""

from __future__ import annotations

import copy
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import asyncproof
from asyncproof import experiments as E
from asyncproof.experiments.common import replay_hint
from asyncproof.reference.problems import make_problem

ROOT = Path(asyncproof.__file__).resolve().parents[1]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TIMED = ("asgrad-figure1", "heterogeneous-compute")     # hogwild-sparsity: tests/test_experiments_hogwild.py


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("experiments")
    return out, {name: E.EXPERIMENTS[name](out=out, quick=True, jobs=1, log=None, schedules=out / "schedules" / name)
                 for name in TIMED}


def test_registry():
    assert set(E.EXPERIMENTS) == {*TIMED, "hogwild-sparsity", "decentralized-sgd", "asgd-kmeans"}


@pytest.mark.parametrize("name", ["asgrad-figure1", "heterogeneous-compute"])
def test_quick_run_writes_png_and_markdown(quick, name):
    out, results = quick
    res = results[name]
    assert res.png == out / f"{name}.png" and res.markdown == out / f"{name}.md"
    assert res.png.read_bytes()[:8] == PNG_SIGNATURE
    assert res.png.stat().st_size > 10_000
    text = res.markdown.read_text()
    assert text.startswith("# ") and f"![{name}]({name}.png)" in text
    assert res.table_markdown() in text
    assert "| " + " | ".join(res.columns) + " |" in text
    for v in res.verdicts:
        assert v in text
    assert f"python -m asyncproof.experiments {name}" in text


@pytest.mark.parametrize("name", ["asgrad-figure1", "heterogeneous-compute"])
def test_table_has_one_row_per_setting_and_method_with_finite_numbers(quick, name):
    res = quick[1][name]
    settings = list(dict.fromkeys(r["setting"] for r in res.rows))
    methods = list(dict.fromkeys(r["method"] for r in res.rows))
    assert len(settings) == 4
    assert len(methods) == (3 if name == "asgrad-figure1" else 5)
    pairs = [(r["setting"], r["method"]) for r in res.rows]
    assert len(pairs) == len(set(pairs)) == len(settings) * len(methods)
    for r in res.rows:
        assert set(res.columns) <= set(r)
        assert r["gamma"] in res.config["gammas"]
        for col in ("gamma", "final_grad_norm2", "final_loss"):
            assert isinstance(r[col], float) and math.isfinite(r[col]), (r, col)
        assert r["final_grad_norm2"] > 0
        assert r["time_to_target"] is None or (0.0 <= r["time_to_target"] <= res.config["horizon"])
        assert isinstance(r["iterations"], int) and r["iterations"] > 0
    # the plotted curves are those of the tuned step sizes, one panel per setting
    assert list(res.curves) == settings
    for s in settings:
        assert len(res.curves[s]) == len(methods)
        for label, (t, g2) in res.curves[s].items():
            assert len(t) == len(g2) == res.config["points"] and t[0] == 0.0 and t[-1] == res.config["horizon"]


def test_quick_runs_reach_the_target_somewhere(quick):
    # Otherwise the time-to-target columns would be vacuous.
    for res in quick[1].values():
        assert any(r["time_to_target"] is not None for r in res.rows), res.name


def test_asgrad_verdict_is_computed_from_the_table(quick):
    res = quick[1]["asgrad-figure1"]
    verdicts, summary = E.asgrad_verdict(res.rows)
    assert (verdicts, summary) == (res.verdicts, res.summary)
    for s, w in summary["winners"].items():
        mine = [r for r in res.rows if r["setting"] == s]
        assert w == min(mine, key=lambda r: r["final_grad_norm2"])["method"]
    # make shuffled the best everywhere, then the worst everywhere: the verdict follows the table
    rows = copy.deepcopy(res.rows)
    for r in rows:
        r["final_grad_norm2"] = 1e-9 if r["method"] == "shuffled" else 1.0
        r["time_to_target"] = 1.0 if r["method"] == "shuffled" else None
    v, sm = E.asgrad_verdict(rows)
    assert sm["claimant_wins"] == sm["claimant_first"] == 4 and sm["claim"] == "reproduced"
    assert "is reproduced here" in v[-1]
    for r in rows:
        r["final_grad_norm2"] = 1.0 if r["method"] == "shuffled" else 1e-9
        r["time_to_target"] = None
    v, sm = E.asgrad_verdict(rows)
    assert sm["claimant_wins"] == sm["claimant_first"] == 0 and sm["claim"] == "not reproduced"
    assert "first to the target: nobody" in v[0]


def test_hetero_verdict_is_computed_from_the_table(quick):
    res = quick[1]["heterogeneous-compute"]
    verdicts, summary = E.hetero_verdict(res.rows)
    assert (verdicts, summary) == (res.verdicts, res.summary)
    assert summary["lead"] == "Ringleader ASGD"
    rows = copy.deepcopy(res.rows)
    for r in rows:
        r["time_to_target"] = {"Ringleader ASGD": 5.0, "Malenia SGD": 7.0}.get(r["method"])
    v, sm = E.hetero_verdict(rows)
    assert sm["lead_wins"] == 4 and sm["claim"] == "holds"
    assert "next Malenia SGD at 7, 1.4x" in v[0]
    for r in rows:
        r["time_to_target"] = 3.0 if r["method"] == "mini-batch SGD" else None
    v, sm = E.hetero_verdict(rows)
    assert sm["lead_wins"] == 0 and sm["wins"]["mini-batch SGD"] == 4 and sm["claim"] == "is not reproduced"


@pytest.mark.parametrize("name", TIMED)
def test_every_run_is_saved_and_the_index_marks_the_table_s_runs(quick, name):
    res = quick[1][name]
    index = json.loads((res.schedules / "runs.json").read_text())
    assert len(index) == res.config["runs"] == len(list(res.schedules.glob("[0-9]*.json")))
    assert all((res.schedules / e["file"]).is_file() and e["digest"].startswith("sha256:") for e in index)
    shown = [(e["setting"], e["method"], e["gamma"]) for e in index if e["row"]]
    assert sorted(shown) == sorted((r["setting"], r["method"], r["gamma"]) for r in res.rows)


def test_a_table_row_s_run_replays_in_a_fresh_process(quick, tmp_path):
    # the first row of each experiment, by the command the experiment prints
    files, digests = [], []
    for res in quick[1].values():
        hint = replay_hint(res)
        files.append(hint.rsplit("python -m asyncproof replay ", 1)[1])
        digests.append(next(e["digest"] for e in json.loads((res.schedules / "runs.json").read_text())
                            if e["file"] == Path(files[-1]).name))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    r = subprocess.run([sys.executable, "-m", "asyncproof", "replay", *files], cwd=tmp_path, capture_output=True,
                       text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [f"{f}: reproduced {d}" for f, d in zip(files, digests)]


def test_parallel_runs_give_the_same_table(quick, tmp_path):
    again = E.heterogeneous_compute(out=tmp_path, quick=True, jobs=2, log=None)
    assert again.rows == quick[1]["heterogeneous-compute"].rows


def test_markdown_table_formats():
    text = E.markdown_table(["a", "b", "c"], [{"a": "x", "b": 0.000123456, "c": None}, {"a": "y", "b": 2.5, "c": 3}])
    assert text.splitlines() == ["| a | b | c |", "| --- | --- | --- |", "| x | 1.23e-04 | not reached |",
                                 "| y | 2.5 | 3 |"]


def test_w7a_like_is_w7a_shaped():
    A, y = E.w7a_like(seed=0)
    assert A.shape == (2505, 300)
    assert 0.03 < (A != 0).mean() < 0.05
    assert abs((y > 0).mean() - 0.03) < 0.005
    # the registry's logistic problem on it, by default at w7a's size: the full mode's problem
    prob = make_problem("logistic", generator="w7a-like")
    assert np.array_equal(prob.arrays[0], A) and np.array_equal(prob.arrays[1], y) and prob.arrays[2] == 0.1


def _cli(*args, cwd):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "asyncproof.experiments", *args], cwd=cwd, capture_output=True,
                          text=True, env=env, timeout=120)


def test_cli_unknown_experiment_exits_2_with_one_line(tmp_path):
    r = _cli("no-such-experiment", "--out", str(tmp_path), cwd=tmp_path)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "unknown experiment 'no-such-experiment'" in lines[0] and "asgrad-figure1" in lines[0]
    assert not any(tmp_path.iterdir())


def test_main_bad_input_exits_2(tmp_path, capsys):
    assert E.main(["nope"]) == 2
    with pytest.raises(SystemExit) as e:
        E.main(["asgrad-figure1", "--bogus"])
    assert e.value.code == 2
    assert E.main(["asgrad-figure1", "--jobs", "0"]) == 2
    assert E.main(["asgrad-figure1", "--data", str(tmp_path / "missing.svm")]) == 2
    (tmp_path / "afile").write_text("")
    assert E.main(["asgrad-figure1", "--quick", "--out", str(tmp_path / "afile")]) == 2   # checked before any run
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 5 and all("error:" in line for line in err)
    assert "--out directory" in err[-1] and "exists and is not a directory" in err[-1]


def test_cli_help(tmp_path):
    r = _cli("--help", cwd=tmp_path)
    assert r.returncode == 0 and "--quick" in r.stdout and "heterogeneous-compute" in r.stdout


def test_cli_quick_run(tmp_path):
    r = _cli("heterogeneous-compute", "--out", "figs", "--quick", "--jobs", "1", "--schedules", "runs", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "figs" / "heterogeneous-compute.png").read_bytes()[:8] == PNG_SIGNATURE
    assert "| setting | method |" in r.stdout
    assert "[heterogeneous-compute]" in r.stderr       # progress lines on stderr
    last = r.stdout.strip().splitlines()[-1]
    assert last.startswith("wrote 40 schedules to runs/heterogeneous-compute (runs.json says which run each holds); "
                           "replay one with: python -m asyncproof replay runs/heterogeneous-compute/0"), last
    assert (tmp_path / last.rsplit(" ", 1)[1]).is_file()


def test_hetero_t_star_is_computed(quick):
    # t*, the optimal time's expression (Tyurin & Richtarik 2023, constant 1), per setting: in the
    # config, in every row, in the notes and as a line in the figure.
    out, results = quick
    res = results["heterogeneous-compute"]
    cfg = res.config
    settings = list(dict.fromkeys(r["setting"] for r in res.rows))
    assert list(cfg["t_star"]) == settings
    c = cfg["t_star_constants"]
    for k in ("L", "delta", "sigma2"):
        assert math.isfinite(c[k]) and c[k] > 0, k
    assert c["delta"] == pytest.approx(c["f0"] - c["f_star"]) and c["grad_norm2_x_hat"] < 1e-10
    assert c["sigma2"] == max(c["sigma2_points"].values())
    # f* is below every tuned run's final loss (otherwise it would not be a minimum)
    assert min(r["final_loss"] for r in res.rows) >= c["f_star"] - 1e-9
    eps, n = cfg["target"], cfg["n"]
    for s in settings:
        t = cfg["t_star"][s]
        assert isinstance(t, float) and math.isfinite(t) and t > 0
        taus = c["taus"][s]
        assert len(taus) == n
        if s.startswith("stragglers"):
            assert taus == [5.0] * n        # the mean 1 + 1/lam of 1 + Exp(0.25), for every worker
        else:
            assert taus == [float(i + 1) for i in range(n)]
        LD = c["L"] * c["delta"]
        assert t == pytest.approx(max(taus) * LD / eps + sum(taus) / n * c["sigma2"] * LD / (n * eps ** 2))
        if "iid" in s:
            assert 0 < cfg["t_star_homogeneous"][s] <= t
    assert set(cfg["t_star_homogeneous"]) == {s for s in settings if "iid" in s}
    for r in res.rows:
        assert r["t_star"] == cfg["t_star"][r["setting"]]
        ratio = r["time_to_target / t_star"]
        assert (ratio is None) if r["time_to_target"] is None else ratio == r["time_to_target"] / r["t_star"]
    text = res.markdown.read_text()
    assert "t* = τ_n LΔ/ε" in text and "constant set to 1" in text and "t_star" in text
    assert res.png.is_file() and res.png.read_bytes()[:8] == PNG_SIGNATURE
    assert any(v.startswith("Against t*") for v in res.verdicts)


def test_optimal_time_expressions():
    L, delta, eps, sigma2 = 0.9, 0.4, 0.006, 2.3
    # equal times: the homogeneous minimum uses every worker and equals the heterogeneous expression
    het = E.optimal_time_heterogeneous([5.0] * 10, L, delta, eps, sigma2)
    hom, m = E.optimal_time_homogeneous([5.0] * 10, L, delta, eps, sigma2)
    assert m == 10 and hom == pytest.approx(het)
    # unequal times: the homogeneous bound is never above the heterogeneous one (harmonic <= arithmetic mean <= max)
    taus = [float(i + 1) for i in range(10)]
    assert E.optimal_time_homogeneous(taus, L, delta, eps, sigma2)[0] <= E.optimal_time_heterogeneous(
        taus, L, delta, eps, sigma2)
    # without noise the fastest worker alone is optimal in the homogeneous setting
    assert E.optimal_time_homogeneous(taus, L, delta, eps, 0.0) == (pytest.approx(L * delta / eps), 1)
    with pytest.raises(ValueError):
        E.optimal_time_heterogeneous([0.0, 1.0], L, delta, eps, sigma2)


def test_hetero_verdict_ratio_to_t_star_follows_the_table(quick):
    rows = copy.deepcopy(quick[1]["heterogeneous-compute"].rows)
    for r in rows:
        r["t_star"] = 100.0
        r["time_to_target"] = {"Ringleader ASGD": 5.0, "Malenia SGD": 20.0}.get(r["method"])
    v, sm = E.hetero_verdict(rows)
    assert sm["ratio_to_t_star"] == {"min": 0.05, "max": 0.2, "lead": (0.05, 0.05)}
    assert v[-1].startswith("Against t*") and "0.05 × t* (Ringleader ASGD" in v[-1]
    for r in rows:
        del r["t_star"]
    v, sm = E.hetero_verdict(rows)
    assert "ratio_to_t_star" not in sm and not v[-1].startswith("Against t*")
