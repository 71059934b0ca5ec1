"""``asyncproof run ALG --fast``: a saved lock-mode run replays as reproduced; what cannot be saved says so."""

from __future__ import annotations

import json

import pytest

from asyncproof.cli import main


def cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_fast_lock_run_saved_replays_as_reproduced(tmp_path, capsys):
    f = tmp_path / "run.json"
    code, out, err = cli(capsys, "run", "hogwild-lock", "--fast", "--threads", "2", "-T", "150", "--seed", "4",
                         "--save", str(f))
    assert code == 0, err
    assert "2 threads" in out and "lost updates   0" in out and "saved schedule to" in out
    digest = out.split("digest ")[1].split()[0]
    saved = json.loads(f.read_text())
    assert saved["algorithm"] == "hogwild-lock" and saved["params"]["n"] == 2 and saved["digest"] == digest
    code, out, err = cli(capsys, "replay", str(f))
    assert code == 0 and out.strip() == f"reproduced {digest}"


def test_fast_serially_equivalent_run_saved_replays_as_reproduced(tmp_path, capsys):
    f = tmp_path / "run.json"
    code, out, err = cli(capsys, "run", "serially-equivalent-sgd", "--fast", "--threads", "2", "-T", "120",
                         "--param", "batch=6", "--save", str(f))
    assert code == 0, err
    assert "2 threads" in out and "components (largest" in out and "lost updates" not in out
    digest = out.split("digest ")[1].split()[0]
    saved = json.loads(f.read_text())
    assert saved["algorithm"] == "serially-equivalent-sgd" and saved["params"]["threads"] == 2
    code, out, err = cli(capsys, "replay", str(f))
    assert code == 0 and out.strip() == f"reproduced {digest}"


@pytest.mark.parametrize("mode", ["atomic", "racy"])
def test_fast_lock_free_runs_run_and_refuse_to_save(tmp_path, capsys, mode):
    code, out, err = cli(capsys, "run", f"hogwild-{mode}", "--fast", "--threads", "4", "-T", "300")
    assert code == 0 and "lost updates" in out
    f = tmp_path / "x.json"
    code, out, err = cli(capsys, "run", f"hogwild-{mode}", "--fast", "--save", str(f))
    assert code == 2 and not f.exists()
    assert len(err.strip().splitlines()) == 1 and "cannot be replayed bit for bit" in err


@pytest.mark.parametrize("argv,message", [
    (["sgd", "--fast"], "--fast runs hogwild-atomic"),
    (["hogwild-lock", "--threads", "2"], "--threads is for --fast runs"),
    (["hogwild-lock", "--fast", "--threads", "0"], "--threads must be at least 1"),
    (["hogwild-lock", "--fast", "--adversary", "random:seed=1"], "--adversary is not for --fast runs"),
    (["hogwild-lock", "--fast", "--param", "tau=2"], "does not enforce the bounded overlap tau"),
    (["hogwild-lock", "--fast", "--threads", "2", "--param", "n=3"], "the cores are the threads"),
    (["hogwild-lock", "--fast", "--problem", "quadratic"], "--fast runs the problem(s) sparse-svm"),
])
def test_fast_bad_input_is_one_line_exit_2(capsys, argv, message):
    code, out, err = cli(capsys, "run", *argv)
    assert code == 2 and len(err.strip().splitlines()) == 1 and message in err, err
