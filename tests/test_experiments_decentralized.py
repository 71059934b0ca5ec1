"""The decentralized experiments (seeds 000 and 003) in their quick mode: decentralized-sgd (four methods,
a crash and a recovery, loss and Δ^cw against iterations and time) and asgd-kmeans (seed 003, Figure 14)."""

from __future__ import annotations

import copy
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

import asyncproof
from asyncproof import experiments as E
from asyncproof.experiments.common import replay_hint

ROOT = Path(asyncproof.__file__).resolve().parents[1]
NAMES = ("decentralized-sgd", "asgd-kmeans")


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("experiments")
    return out, {name: E.EXPERIMENTS[name](out=out, quick=True, jobs=1, log=None, schedules=out / "schedules" / name)
                 for name in NAMES}


@pytest.mark.parametrize("name", NAMES)
def test_quick_run_writes_its_figure_table_and_verdicts(quick, name):
    out, results = quick
    res = results[name]
    assert res.png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and res.png.stat().st_size > 20_000
    text = res.markdown.read_text()
    assert res.table_markdown() in text and all(v in text for v in res.verdicts)
    assert f"python -m asyncproof.experiments {name} --out" in text
    index = json.loads((res.schedules / "runs.json").read_text())
    assert len(index) == res.config["runs"] and all(e["digest"].startswith("sha256:") for e in index)


def test_decentralized_rows_the_crash_and_the_recovery(quick):
    res = quick[1]["decentralized-sgd"]
    assert [(r["setting"], r["method"]) for r in res.rows] == [(s, m) for s in E.decentralized_sgd.__globals__[
        "SETTINGS"] for m in E.decentralized_sgd.__globals__["METHODS"]]
    by = {(r["setting"].split(" (")[0], r["method"]): r for r in res.rows}
    for s in ("strongly convex", "nonconvex"):
        # Attiya–Schiller recovers p1 through skipping and every process outputs; SimuParallelSGD's
        # aggregator waits for the crashed node forever
        assert by[(s, "Attiya–Schiller")]["recovered"] and by[(s, "Attiya–Schiller")]["outputs"] == 5
        assert by[(s, "SimuParallelSGD")]["outputs"] == 0
        for r in res.rows:
            assert math.isfinite(r["final_loss"]) and r["final_Δcw"] >= 0 and r["iterations"] >= 10
    curves = res.curves["strongly convex (quadratic)"]["Keuper–Pfreundt ASGD"]
    assert len(curves["t"]) == len(curves["loss"]) == len(curves["dcw"]) == len(curves["time"])


def test_the_verdicts_are_computed_from_the_table(quick):
    res = quick[1]["decentralized-sgd"]
    rows = copy.deepcopy(res.rows)
    rows[2]["final_Δcw"] = -1.0                   # ASGD on the first setting: now the closest
    verdicts, summary = E.decentralized_verdict(rows)
    assert summary[rows[2]["setting"]]["closest"] == [rows[2]["method"]]
    assert verdicts[0].startswith(f"{rows[2]['setting']}: the models stay closest with {rows[2]['method']} ")
    km = copy.deepcopy(quick[1]["asgd-kmeans"].rows)
    km[0]["final_loss"], km[1]["final_loss"] = 5.0, 1.0
    assert E.asgd_kmeans_verdict(km)[1][km[0]["nodes"]]["asgd_lower"] is False


def test_asgd_uses_external_states_and_silent_none(quick):
    rows = quick[1]["asgd-kmeans"].rows
    asgd, silent = (next(r for r in rows if r["variant"] == v) for v in ("ASGD", "silent"))
    assert asgd["states_used"] > 0 and silent["states_used"] == 0
    assert asgd["start_loss"] == silent["start_loss"]
    assert asgd["final_loss"] < asgd["start_loss"] and silent["final_loss"] < silent["start_loss"]


def test_their_runs_replay_in_a_fresh_process(quick, tmp_path):
    files, digests = [], []
    for res in quick[1].values():
        files.append(replay_hint(res).rsplit("python -m asyncproof replay ", 1)[1])
        digests.append(next(e["digest"] for e in json.loads((res.schedules / "runs.json").read_text())
                            if e["file"] == Path(files[-1]).name))
    r = subprocess.run([sys.executable, "-m", "asyncproof", "replay", *files], cwd=tmp_path, capture_output=True,
                       text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [f"{f}: reproduced {d}" for f, d in zip(files, digests)]


@pytest.mark.parametrize("name", NAMES)
def test_data_files_are_refused_in_one_line(name, tmp_path):
    r = subprocess.run([sys.executable, "-m", "asyncproof.experiments", name, "--out", str(tmp_path), "--data",
                        "w7a"], capture_output=True, text=True)
    assert r.returncode == 2 and "--data is not supported" in r.stderr and len(r.stderr.strip().splitlines()) == 1
