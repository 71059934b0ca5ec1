"""The command line: every command, its exit status, and every bad input as a one-line error."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

import asyncproof
from asyncproof.cli import main


# Subprocesses import the same asyncproof as this test process (installed, or the source checkout).
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(
    [os.path.dirname(os.path.dirname(asyncproof.__file__)), os.environ.get("PYTHONPATH", "")])}


def cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_help_of_every_command():
    for cmd in ([], ["list"], ["run"], ["replay"], ["verify"], ["prove"]):
        r = subprocess.run([sys.executable, "-m", "asyncproof", *cmd, "--help"], capture_output=True, text=True,
                           env=ENV)
        assert r.returncode == 0 and "usage: asyncproof" in r.stdout


def test_console_script_is_installed():
    exe = shutil.which("asyncproof")
    if exe is None:
        pytest.skip("the package is not installed (running from a source checkout)")
    r = subprocess.run([exe, "--version"], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.startswith("asyncproof ")


def test_list_names_everything(capsys):
    code, out, _ = cli(capsys, "list")
    assert code == 0
    for name in ("sgd", "minibatch-sgd", "simu-parallel-sgd", "batch-gd", "quadratic", "least-squares",
                 "logistic", "sparse-svm", "kmeans", "roundrobin", "pct", "timed",
                 "straggler-order-statistics", "coordinatewise-diameter", "replay-determinism"):
        assert name in out, name
    assert "broken-" not in out
    assert "broken-minibatch-arrival-order" in cli(capsys, "list", "--broken")[1]


def test_run_save_replay_plot(capsys, tmp_path):
    f, png = tmp_path / "run.json", tmp_path / "run.png"
    code, out, _ = cli(capsys, "run", "minibatch-sgd", "--problem", "least-squares", "--param", "b=3",
                       "--steps", "5", "--seed", "3", "--adversary", "random:seed=2", "--save", str(f),
                       "--plot", str(png))
    assert code == 0 and "loss" in out and "digest sha256:" in out
    digest = out.split("digest ")[1].split()[0]
    assert json.loads(f.read_text())["digest"] == digest
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    code, out, _ = cli(capsys, "replay", str(f))
    assert code == 0 and out.strip() == f"reproduced {digest}"
    code, out, _ = cli(capsys, "replay", str(f), "--trace")
    assert code == 0 and "finish #" in out and "p0.x = " in out


def test_replay_in_new_process_with_jit_off(tmp_path):
    f = tmp_path / "run.json"
    r = subprocess.run([sys.executable, "-m", "asyncproof", "run", "sgd", "--problem", "logistic", "--steps", "4",
                        "--save", str(f)], capture_output=True, text=True, cwd=tmp_path, env=ENV)
    assert r.returncode == 0, r.stderr
    digest = r.stdout.split("digest ")[1].split()[0]
    r = subprocess.run([sys.executable, "-m", "asyncproof", "replay", str(f)], capture_output=True, text=True,
                       cwd=tmp_path, env={**ENV, "NUMBA_DISABLE_JIT": "1"})
    assert r.returncode == 0 and r.stdout.strip() == f"reproduced {digest}", r.stdout + r.stderr


def test_one_event_removed_exits_1_with_the_step(capsys, tmp_path):
    f = tmp_path / "run.json"
    assert cli(capsys, "run", "minibatch-sgd", "--steps", "3", "--save", str(f))[0] == 0
    d = json.loads(f.read_text())
    first = d["events"].pop(0)
    d["steps"] -= 1
    f.write_text(json.dumps(d))
    code, out, _ = cli(capsys, "replay", str(f))
    assert code == 1 and "diverged at step 0" in out
    assert f"the enabled events are [{first!r}]" in out


def _schedule(tmp_path, capsys):
    f = tmp_path / "ok.json"
    assert cli(capsys, "run", "sgd", "--steps", "3", "--save", str(f))[0] == 0
    return json.loads(f.read_text())


@pytest.mark.parametrize("edit, text", [
    (lambda d: json.dumps(d)[:40], "not valid JSON"),
    (lambda d: json.dumps({**d, "version": 7}), "format version 7"),
    (lambda d: json.dumps({**d, "algorithm": "minibatch-sgd", "params": {"order": None, **d["params"]}}),
     "is not a parameter of minibatch-sgd"),
    (lambda d: json.dumps({**d, "algorithm": "hogwash"}), "unknown algorithm 'hogwash'"),
    (lambda d: json.dumps({**d, "events": ["p0 frobnicate"] + d["events"][1:]}), None),
    (lambda d: json.dumps({**d, "events": ["warp p0"] + d["events"]}), "is not an event name"),
])
def test_bad_schedule_files_exit_2(capsys, tmp_path, edit, text):
    d = _schedule(tmp_path, capsys)
    f = tmp_path / "bad.json"
    f.write_text(edit(d))
    code, out, err = cli(capsys, "replay", str(f))
    if text is None:      # a well-formed event name that is not enabled: a divergence, exit 1
        assert code == 1 and "diverged at step 0" in out
        return
    assert code == 2, (out, err)
    assert text in err and err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize("argv, text", [
    (["run", "nosuch"], "unknown algorithm 'nosuch'"),
    (["run", "sgd", "--problem", "nosuch"], "unknown problem 'nosuch'"),
    (["run", "sgd", "--adversary", "chaos"], "unknown adversary 'chaos'"),
    (["run", "sgd", "--param", "gamma=0"], "gamma (step size) must be > 0"),
    (["run", "sgd", "--param", "gamma=-0.5"], "gamma (step size) must be > 0"),
    (["run", "sgd", "--param", "gamma=nan"], "gamma"),
    (["run", "sgd", "--param", "T=0"], "T (iterations) must be >= 1"),
    (["run", "sgd", "--param", "bogus=1"], "'bogus' is not a parameter of sgd"),
    (["run", "sgd", "--param", "gamma"], "not of the form key=value"),
    (["run", "sgd", "--problem", "quadratic", "--param", "x0=[1,2,3]"], "x0"),
    (["run", "sgd", "--problem", "quadratic", "--param", "x0=[NaN,1]"], "x0"),
    (["run", "sgd", "--problem", "least-squares", "--problem-param", "m=0"], "m"),
    (["run", "minibatch-sgd", "--param", "b=0"], "b (mini-batch size) must be >= 1"),
    (["run", "simu-parallel-sgd", "--param", "n=4", "--model", "f=3,majority=true"], "no correct majority"),
    (["run", "sgd", "--model", "tau=-1"], "tau must be a non-negative integer"),
    (["run", "sgd", "--model", "warp=1"], "unknown model field"),
    (["run", "sgd", "--adversary", "timed:model=exp,lam=-1"], "lam"),
    (["run", "sgd", "--adversary", "timed:model=fixed,s=inf"], "never finishes"),
    (["run", "sgd", "--adversary", "delay:tau=-1"], "adversary 'delay': tau must be >= 0, got -1"),
    (["replay", "/no/such/file.json"], "does not exist"),
    (["verify", "nosuch"], "unknown algorithm 'nosuch'"),
    (["prove", "nosuch"], "nosuch"),
])
def test_bad_input_is_one_line_and_exit_2(capsys, argv, text):
    code, out, err = cli(capsys, *argv)
    assert code == 2, (out, err)
    assert text in err, err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_prove_prints_the_claims_it_checked(capsys):
    # every claim passing on the quick budget is tests/test_proofs.py's; this checks the command's output
    code, out, _ = cli(capsys, "prove", "straggler-order-statistics", "coordinatewise-diameter")
    assert code == 0, out
    assert "straggler-order-statistics" in out and "coordinatewise-diameter" in out
    assert "FAILED" not in out and "checked" in out


def test_verify_one_algorithm_prints_the_table(capsys, tmp_path):
    # every guarantee and variant of every algorithm is tests/test_properties.py's; this checks the command
    code, out, _ = cli(capsys, "verify", "sgd", "--budget", "quick", "--failures", str(tmp_path), "--no-fresh")
    assert code == 0, out
    assert "sgd-iterates" in out and "replay-determinism" in out and "yes, broken-" in out


@pytest.mark.parametrize("content, text", [
    ("+1 1:0.5 2:nan\n-1 1:1\n", "nan"),
    ("+1 1:0.5 2:inf\n-1 1:1\n", "inf"),
    ("", "empty"),
    ("+1 2:0.5 1:1\n", "increasing"),
])
def test_bad_data_files_exit_2(capsys, tmp_path, content, text):
    f = tmp_path / "data.svm"
    f.write_text(content)
    code, out, err = cli(capsys, "run", "sgd", "--problem", "logistic", "--problem-param", f"path={f}")
    assert code == 2, (out, err)
    assert text in err.lower() and err.count("\n") == 1


def test_experiment_subcommand_is_the_experiments_command(tmp_path, capsys):
    from asyncproof import experiments
    from asyncproof.cli import main
    assert main(["experiment", "nope"]) == 2
    err = capsys.readouterr().err
    assert "unknown experiment 'nope'" in err and err.count("\n") == 1
    with pytest.raises(SystemExit) as e:
        main(["experiment", "--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert all(name in out for name in experiments.EXPERIMENTS)
    assert main(["experiment", "heterogeneous-compute", "--quick", "--jobs", "1", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "heterogeneous-compute.png").exists() and (tmp_path / "heterogeneous-compute.md").exists()


def test_model_lists_keep_their_commas():
    from asyncproof.cli import _kv
    assert _kv(["f=2,crashable=[3,4],recovery=true", "tau=3"], "model") == \
        {"f": "2", "crashable": "[3,4]", "recovery": "true", "tau": "3"}


def test_a_list_parameter_that_is_not_json_says_what_a_list_looks_like(capsys):
    from asyncproof.cli import main
    assert main(["run", "sgd", "--param", "x0=[1,nan]"]) == 2
    err = capsys.readouterr().err
    assert "x0 must be a JSON list" in err and "'[1,nan]'" in err and err.count("\n") == 1
