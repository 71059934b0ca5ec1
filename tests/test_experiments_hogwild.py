"""The experiment ``hogwild-sparsity`` (asyncproof/experiments/hogwild_sparsity.py) in its quick mode.

The full run's files are docs/experiments/hogwild-sparsity.{png,md}; they are not
repeated here.
"""

from __future__ import annotations

import copy
import json
import math

import pytest

from asyncproof import experiments as E
from asyncproof.reference.schedule import load_schedule, replay

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("hogwild")
    return out, E.hogwild_sparsity(out=out, quick=True, jobs=1, log=None, schedules=out / "schedules")


def test_registered():
    assert E.EXPERIMENTS["hogwild-sparsity"] is E.hogwild_sparsity


def test_quick_run_writes_png_and_markdown(quick):
    out, res = quick
    assert res.png == out / "hogwild-sparsity.png" and res.markdown == out / "hogwild-sparsity.md"
    assert res.png.read_bytes()[:8] == PNG_SIGNATURE and res.png.stat().st_size > 10_000
    text = res.markdown.read_text()
    assert text.startswith("# ") and "![hogwild-sparsity](hogwild-sparsity.png)" in text
    assert res.table_markdown() in text and all(v in text for v in res.verdicts)
    assert "python -m asyncproof.experiments hogwild-sparsity" in text and "--quick" in text


def test_one_row_per_sparsity_and_tau_measured_from_the_runs(quick):
    res = quick[1]
    cfg = res.config
    assert [(r["nnz"], r["tau"]) for r in res.rows] == [(nz, t) for nz in cfg["nnz"] for t in cfg["taus"]]
    for r in res.rows:
        assert set(res.columns) <= set(r)
        assert all(isinstance(r[c], (int, float)) and math.isfinite(r[c]) for c in res.columns)
        assert r["max_overlap"] <= r["tau"]
        assert r["mean_noise"] <= r["noise_bound"] or r["tau"] == 0
        if r["tau"] == 0:            # serial: nothing overlaps, nothing is lost, HOGWILD! is SGD
            assert r["dist_to_serial"] == r["mean_noise"] == r["lost_updates_racy"] == 0
            assert r["final_loss"] == r["serial_loss"]
    denser = [r for r in res.rows if r["nnz"] == max(cfg["nnz"])]
    sparser = [r for r in res.rows if r["nnz"] == min(cfg["nnz"])]
    assert denser[0]["Δ_av"] > sparser[0]["Δ_av"]
    assert any(r["lost_updates_racy"] > 0 for r in res.rows)


def test_verdict_is_computed_from_the_table(quick):
    res = quick[1]
    assert E.hogwild_verdict(res.rows) == (res.verdicts, res.summary)
    assert res.summary["serial_at_tau0"] and res.summary["noise_below_bound"] == len(res.rows)
    rows = copy.deepcopy(res.rows)
    for r in rows:
        r["mean_noise"] = 2 * r["noise_bound"] + 1.0
        r["lost_updates_racy"] = 0
        if r["tau"] == 0:
            r["dist_to_serial"] = 1.0
    v, sm = E.hogwild_verdict(rows)
    assert not sm["serial_at_tau0"] and "did NOT reproduce serial SGD" in v[0]
    assert sm["noise_below_bound"] == 0 and sm["racy_lossy"] == 0


def test_every_run_is_saved_and_replays(quick):
    res = quick[1]
    index = json.loads((res.schedules / "runs.json").read_text())
    assert len(index) == res.config["runs"]
    assert {(e["nnz"], e["tau"], e["mode"]) for e in index} == {
        (nz, t, mode) for nz in res.config["nnz"] for t in res.config["taus"] for mode in ("atomic", "racy")}
    for e in (index[0], index[-1]):            # a serial (τ = 0) run and a racy one at the largest τ
        rep = replay(load_schedule(res.schedules / e["file"]))
        assert rep.reproduced and rep.digest == e["digest"]


def test_parallel_runs_give_the_same_table(quick, tmp_path):
    again = E.hogwild_sparsity(out=tmp_path, quick=True, jobs=2, log=None)
    assert again.rows == quick[1].rows


def test_data_files_are_refused_with_exit_2(tmp_path, capsys):
    assert E.main(["hogwild-sparsity", "--quick", "--data", str(tmp_path / "rcv1.svm"), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--data is not supported" in err[0]
