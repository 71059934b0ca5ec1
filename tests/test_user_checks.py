"""docs/user-checks.md: its examples run as a user runs them (pytest in a fresh directory, with the
plugin), the failure it shows is the real one, the saved schedule replays it, and the plugin leaves
other test sessions alone.  Plus the one-line errors of ``asyncproof.strategies``."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from hypothesis import given, settings

from asyncproof import strategies as aps
from asyncproof.reference.errors import InputError, ReplayDivergence

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "user-checks.md"
EXAMPLES = ROOT / "docs" / "examples"
MDAA_EXAMPLE, FEDBUFF_EXAMPLE = "test_my_mdaa_rule.py", "test_my_fedbuff_normalise.py"
BUG = '    Z = float(len({e["worker"] for e in entries}))      # the planted bug: the clients, not the K updates\n'
FIX = "    Z = float(K)\n"


def _entry_point_installed() -> bool:
    return any(ep.name == "asyncproof" and ep.value == "asyncproof.pytest_plugin"
               for ep in entry_points(group="pytest11"))


#: how the subprocesses load the plugin: by its entry point when asyncproof is installed, else with -p
PLUGIN = [] if _entry_point_installed() else ["-p", "asyncproof.pytest_plugin"]


def _env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HYPOTHESIS", "PYTEST_"))}
    env["PYTHONPATH"] = str(ROOT)
    return env


def _run(cwd: Path, argv: list[str], timeout: int = 300) -> subprocess.CompletedProcess:
    """``argv`` as typed ("python -m pytest ..."), run with this interpreter and the plugin in ``cwd``."""
    assert argv[:3] == ["python", "-m", "pytest"], argv
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *PLUGIN, *argv[3:]], cwd=cwd,
                          capture_output=True, text=True, env=_env(), timeout=timeout)


def _out(r: subprocess.CompletedProcess) -> str:
    """The output with the ``-p asyncproof.pytest_plugin`` a replay command repeats when it was given."""
    return (r.stdout + r.stderr).replace(" -p asyncproof.pytest_plugin", "")


def _doc_block(marker: str) -> str:
    """The fenced block after ``<!-- marker -->`` in docs/user-checks.md."""
    text = DOC.read_text()
    at = text.index(f"<!-- {marker} -->")
    m = re.compile(r"```[a-z]*\n(.*?)```", re.S).search(text, at)
    return m.group(1)


def _copy(tmp_path: Path, *names: str) -> Path:
    for name in names:
        shutil.copy(EXAMPLES / name, tmp_path / name)
    return tmp_path


def _hypothesis_neutral(text: str) -> str:
    """``text`` without what differs between Hypothesis releases in the lines it adds to a failure.

    Hypothesis 6.155 prints ``Falsifying example: test(`` as a plain line; later releases print
    ``Failing test case: test(`` inside the ``E`` block.  The lines asyncproof prints are compared
    exactly; only the ``E`` margin and that header are neutralised.
    """
    lines = (re.sub(r"^E? +", "", line).replace("Falsifying example:", "Failing test case:")
             for line in text.splitlines())
    return "\n".join(lines)


def _replay_line(output: str) -> list[str]:
    lines = [line.split("replay with: ", 1)[1] for line in output.splitlines() if "replay with: " in line]
    assert lines, output[-3000:]
    return shlex.split(lines[-1])


def _saved(output: str) -> Path:
    m = re.findall(r"saved to (\S+\.json)", output)
    assert m, output[-3000:]
    return Path(m[-1])


# --- the page quotes the real files --------------------------------------------------------------


@pytest.mark.parametrize("name", [MDAA_EXAMPLE, FEDBUFF_EXAMPLE])
def test_the_page_quotes_the_example_files(name):
    assert _doc_block(f"example: docs/examples/{name}") == (EXAMPLES / name).read_text()


# --- example 1: the good one passes --------------------------------------------------------------


@pytest.mark.slow
def test_the_mdaa_example_passes(tmp_path):
    _copy(tmp_path, MDAA_EXAMPLE)
    r = _run(tmp_path, ["python", "-m", "pytest", "-q", MDAA_EXAMPLE])
    assert r.returncode == 0 and "1 passed" in r.stdout, _out(r)[-3000:]
    assert not (tmp_path / aps.DEFAULT_FAILURES).exists()


# --- example 2: the planted bug is caught, saved first, replayed; the fix passes on its schedule ----


@pytest.mark.slow
def test_the_planted_bug_is_caught_saved_and_replayed(tmp_path):
    _copy(tmp_path, FEDBUFF_EXAMPLE)
    shown = _doc_block("output: docs/examples/test_my_fedbuff_normalise.py").splitlines()
    command = shlex.split(shown[0].removeprefix("$ "))
    r = _run(tmp_path, command)
    out = _out(r)
    assert r.returncode == 1, out[-3000:]
    printed = _hypothesis_neutral(out)
    for line in shown[1:]:                                 # the failure the page shows is this one
        if line != "...":
            assert _hypothesis_neutral(line) in printed, \
                f"docs/user-checks.md shows {line!r}; the run printed:\n{out[-4000:]}"

    saved = tmp_path / _saved(out)                         # on disk, in the directory pytest started in
    assert saved.is_file() and saved.parent == tmp_path / aps.DEFAULT_FAILURES
    assert [p.name for p in saved.parent.iterdir()] == [saved.name]          # only the reported example
    on_disk = json.loads(saved.read_text())
    assert on_disk["algorithm"] == "my-fedbuff"
    assert on_disk["property"] == json.loads(_doc_block("property: docs/examples/test_my_fedbuff_normalise.py"))

    replay = _replay_line(out)                             # the replay command the failure printed ...
    doc_replay = re.search(r"```console\n\$ (python -m pytest \S+ --asyncproof-replay \S+)\n```", DOC.read_text())
    assert replay == shlex.split(doc_replay.group(1))      # ... is the page's
    again = _run(tmp_path, replay)
    assert again.returncode == 1
    violation = next(line for line in out.splitlines() if "Violation:" in line)
    assert violation in _out(again), _out(again)[-3000:]   # the same violation, from the saved run

    # the Python API replays it too (the algorithm is the user's object, registered nowhere)
    spec = importlib.util.spec_from_file_location("user_fedbuff_example", tmp_path / FEDBUFF_EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    run = aps.replay_run(saved, module.MY_FEDBUFF)
    assert run.trace.digest == on_disk["digest"]
    assert aps.check_guarantee(run, "fedbuff-aggregation") == on_disk["property"]["message"]

    # the failure is the bug's: with the fix, the same schedule replays and the check passes
    source = (tmp_path / FEDBUFF_EXAMPLE).read_text()
    assert source.count(BUG) == 1
    (tmp_path / FEDBUFF_EXAMPLE).write_text(source.replace(BUG, FIX))
    fixed = _run(tmp_path, replay)
    assert fixed.returncode == 0 and "1 passed" in fixed.stdout, _out(fixed)[-3000:]


# --- the failures directory; a check of example 1 that fails; a failing plain assert ---------------

PLAIN = '''
from hypothesis import given, settings
from asyncproof.strategies import check_guarantee, runs
from test_my_fedbuff_normalise import MY_FEDBUFF


@settings(max_examples=30, derandomize=True, database=None, deadline=None)
@given(runs(MY_FEDBUFF, normalization="K"))
def test_plain_assert(run):
    assert check_guarantee(run, "fedbuff-aggregation") is None
'''


@pytest.mark.slow
def test_failures_go_where_the_option_says_and_plain_asserts_are_saved_too(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    _copy(work, FEDBUFF_EXAMPLE)
    halved = "    return Point((X.min(axis=0) + X.max(axis=0)) / 2)\n"
    source = (EXAMPLES / MDAA_EXAMPLE).read_text()
    assert source.count(halved) == 1
    (work / "test_unhalved_midrange.py").write_text(source.replace(
        halved, "    return Point(X.min(axis=0) + X.max(axis=0))\n"))
    (work / "test_plain.py").write_text(PLAIN)
    elsewhere = tmp_path / "saved here"
    r = _run(work, ["python", "-m", "pytest", "-q", "test_unhalved_midrange.py", "test_plain.py",
                    "--asyncproof-failures", str(elsewhere)])
    out = _out(r)
    assert r.returncode == 1 and "2 failed" in out, out[-3000:]
    assert not (work / aps.DEFAULT_FAILURES).exists()
    files = sorted(p.name for p in elsewhere.iterdir())
    assert len(files) == 2 and files[0].startswith("in_the_box.my-midrange-mdaa-"), files
    assert files[1].startswith("test_plain_assert.my-fedbuff-"), files

    # the midrange that forgets to halve leaves the inputs' box; its replay command names the directory
    assert "in_the_box violated by my-midrange-mdaa: p" in out and "outside the box of the inputs" in out
    replay = shlex.split(re.search(r"replay with: (.*test_unhalved_midrange.*)", out).group(1))
    assert replay[replay.index("--asyncproof-failures") + 1] == str(elsewhere)

    # a plain assert: the run is saved after the failure, and the report says where
    section = out[out.index(" asyncproof "):]
    assert f"the failing run of my-fedbuff is saved to {elsewhere / files[1]}" in section, section
    again = _run(work, shlex.split(re.search(r"replay with: (.*test_plain\.py.*)", section).group(1)))
    assert again.returncode == 1 and "assert \"x^(1) and x^(0)" in _out(again), _out(again)[-3000:]


# --- the plugin leaves other sessions alone ------------------------------------------------------


def test_a_session_without_asyncproof_is_unchanged(tmp_path):
    (tmp_path / "test_other.py").write_text("def test_ok():\n    assert 1\n\n\ndef test_bad():\n    assert 0\n")
    r = _run(tmp_path, ["python", "-m", "pytest", "-q", "test_other.py"])
    assert r.returncode == 1 and "1 failed, 1 passed" in r.stdout, _out(r)
    assert "asyncproof" not in r.stdout and not (tmp_path / aps.DEFAULT_FAILURES).exists()


def _imported_by_the_plugin(first: str) -> list[str]:
    code = (f"import sys; {first}; before = set(sys.modules); import asyncproof.pytest_plugin; "
            f"print(' '.join(sorted(set(sys.modules) - before)))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env(), timeout=120)
    assert r.returncode == 0, r.stderr
    return r.stdout.split()


def test_the_plugin_module_imports_only_pytest():
    new = _imported_by_the_plugin("import asyncproof")
    ours = [m for m in new if m.split(".")[0] not in ("pytest", "_pytest", "pluggy", "iniconfig", "packaging")]
    assert "asyncproof.pytest_plugin" in ours
    heavy = [m for m in ours if m.split(".")[0] in ("numpy", "numba", "scipy", "hypothesis", "asyncproof")
             and m != "asyncproof.pytest_plugin"]
    assert not heavy, heavy


def test_loading_the_plugin_does_not_import_numpy():
    """asyncproof/__init__.py imports its public names lazily: the plugin costs other sessions nothing heavy."""
    assert "numpy" not in _imported_by_the_plugin("pass")


# --- one-line errors -------------------------------------------------------------------------------


def test_with_steps_refuses_in_one_line():
    with pytest.raises(InputError, match=r"^with_steps\('fedbuff'\): no step 'normalize' to replace; the steps are: "):
        aps.with_steps("fedbuff", "mine", normalize=abs)
    with pytest.raises(InputError, match="name must be lower-case"):
        aps.with_steps("fedbuff", "My FedBuff", normalise=abs)
    with pytest.raises(InputError, match="give the steps to replace"):
        aps.with_steps("fedbuff", "mine")
    with pytest.raises(InputError, match="step 'normalise' must be a function"):
        aps.with_steps("fedbuff", "mine", normalise=3)
    with pytest.raises(InputError, match="unknown algorithm 'fedbuf'"):
        aps.with_steps("fedbuf", "mine", normalise=abs)


def test_runs_and_checks_refuse_in_one_line():
    mine = aps.with_steps("fedbuff", "mine", normalise=abs)
    with pytest.raises(InputError, match=r"^runs: 'K_' is not a parameter of mine; its parameters are "):
        aps.runs(mine, K_=2)
    with pytest.raises(InputError, match=r"^runs: guarantee 'agreement-validity' is about .*, not 'fedbuff'$"):
        aps.runs(mine, guarantee="agreement-validity")
    with pytest.raises(InputError, match="give q >= 0"):
        aps.check_contraction([[0.0], [1.0]], [[0.5]])
    with pytest.raises(InputError, match="inputs must be n × d"):
        aps.check_validity([1.0, 2.0], [[1.0]])
    with pytest.raises(InputError, match=r"^check_validity: the inputs hold a non-finite value \(row 1\)$"):
        aps.check_validity([[0.0, 0.0], [float("nan"), 1.0]], [[0.0, 0.0]])
    with pytest.raises(InputError, match=r"^check_contraction: inputs must be an n × d array of numbers"):
        aps.check_contraction([["a"]], [[0.0]], q=1.0)
    with pytest.raises(InputError, match=r"^with_steps\('mdaa'\): step 'aggregate' must be a function, got 3$"):
        aps.with_steps("mdaa", "mine-mdaa", aggregate=3)


def test_checks_on_inputs_and_outputs_can_fail():
    X = [[0.0, 0.0], [4.0, 0.0], [0.0, 4.0]]
    assert aps.check_validity(X, [[1.0, 1.0], [2.0, 2.0]]) is None
    assert "p1's output [3, 3] is outside the convex hull" in aps.check_validity(X, {0: [1.0, 1.0], 1: [3.0, 3.0]})
    assert aps.check_validity(X, [[3.0, 3.0]], box=True) is None
    assert aps.check_validity(X, [[4.5, 3.0]], box=True) == ("output 0's output [4.5, 3] is outside the box of the "
                                                              "inputs: coordinate 0 is 4.5, the inputs span [0, 4]")
    assert aps.check_contraction(X, [[1.0, 1.0], [1.0, 2.0]], q=1 / 32) is None
    assert aps.check_contraction(X, [[1.0, 1.0], [1.0, 3.0]], q=1 / 32).startswith("the outputs are not q-contracted")
    # an output that is NaN is a violation of both (it compares false with everything, so it must be named)
    nan = float("nan")
    assert aps.check_validity(X, [[1.0, 1.0], [nan, 1.0]]) == "output 1's output [nan, 1] is not finite"
    assert aps.check_validity(X, [[nan, 1.0]], box=True) == "output 0's output [nan, 1] is not finite"
    assert aps.check_contraction(X, [[1.0, 1.0], [nan, 1.0]], q=1.0) == "output 1's output [nan, 1] is not finite"


def test_a_schedule_replays_only_with_its_algorithm(tmp_path):
    from asyncproof.reference.schedule import run_algorithm
    good = aps.with_steps("fedbuff", "my-normalise", normalise=lambda b, normalization, K: _fedbuff_normalise(
        b, normalization, K))
    res = run_algorithm(good, params={"T": 4, "K": 2, "n": 2}, adversary="random:seed=3")
    path = res.schedule.save(tmp_path / "run.json")
    assert aps.replay_run(path, good).trace.digest == res.trace.digest
    other = aps.with_steps("fedbuff", "other-normalise", normalise=_fedbuff_normalise)
    with pytest.raises(InputError, match=r"is a schedule of 'my-normalise', not of 'other-normalise'$"):
        aps.replay_run(path, other)
    doubled = aps.with_steps("fedbuff", "my-normalise", normalise=lambda b, normalization, K: (
        lambda s, e, Z: (2 * s, e, Z))(*_fedbuff_normalise(b, normalization, K)))
    with pytest.raises(ReplayDivergence, match="digest"):
        aps.replay_run(path, doubled)                      # the values differ: not the recorded run
    assert aps.replay_run(path, doubled, strict=False).trace.events == res.trace.events


@settings(max_examples=5, derandomize=True, database=None, deadline=None)
@given(aps.problems(["least-squares", "quadratic"], min_m=2), aps.models(1), aps.adversaries())
def test_the_pieces_make_runs(problem, model, adversary):
    from asyncproof.reference.schedule import replay, run_algorithm
    res = run_algorithm("minibatch-sgd", problem=problem, params={"T": 2, "b": 2, "n": 2}, adversary=adversary,
                        model=model)
    assert res.trace.stopped == "quiescent" and replay(res.schedule).reproduced


def _fedbuff_normalise(buffer, normalization, K):
    from asyncproof.reference.parameter_server.fedbuff import normalise
    return normalise(buffer, normalization, K)
