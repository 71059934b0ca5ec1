"""The CLI's edges (issue 10): output paths checked before any work, iterations named as such,
descriptions never cut mid-word, progress from the first second."""

from __future__ import annotations

import os
import time

import pytest

from asyncproof.cli import _Progress, main


def cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_save_to_a_directory_is_refused_before_the_run(capsys, tmp_path):
    code, out, err = cli(capsys, "run", "sgd", "--save", str(tmp_path))
    assert code == 2 and out == "" and "is a directory; give a file name" in err and err.count("\n") == 1
    assert os.listdir(tmp_path) == []                          # no stray temporary file


@pytest.mark.parametrize("flag, make, message", [
    ("--save", lambda t: t / "missing" / "out.json", "does not exist"),
    ("--save", lambda t: (t / "f").write_text("") or t / "f" / "out.json", "is not a directory"),
    ("--plot", lambda t: t / "missing" / "out.png", "does not exist"),
    ("--plot", lambda t: t / "out.jpg", "must end in .png, .svg or .pdf"),
])
def test_bad_output_paths_of_run(capsys, tmp_path, flag, make, message):
    code, out, err = cli(capsys, "run", "sgd", flag, str(make(tmp_path)))
    assert code == 2 and out == "" and message in err and "Traceback" not in err


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_no_permission_is_refused(capsys, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir(mode=0o500)
    code, _, err = cli(capsys, "run", "sgd", "--save", str(ro / "out.json"))
    assert code == 2 and "cannot write in" in err


@pytest.mark.parametrize("make, message", [
    (lambda t: (t / "f").write_text("") or t / "f", "exists and is not a directory"),
    (lambda t: (t / "f").write_text("") or t / "f" / "sub", "cannot be created"),
])
def test_failures_that_is_not_a_directory_is_bad_input(capsys, tmp_path, make, message):
    code, out, err = cli(capsys, "verify", "sgd", "--failures", str(make(tmp_path)))
    assert code == 2 and out == "" and message in err and err.count("\n") == 1


def test_a_failed_write_leaves_no_temporary_file(tmp_path, monkeypatch):
    from asyncproof.reference import schedule as sch
    target = tmp_path / "out.json"

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(sch.os, "replace", broken_replace)
    with pytest.raises(OSError):
        sch.write_atomically(target, "x")
    assert os.listdir(tmp_path) == []


def test_iterations_and_engine_events_are_named(capsys):
    code, out, _ = cli(capsys, "run", "minibatch-sgd", "--iterations", "3", "--param", "b=2")
    assert code == 0
    assert "  iterations     T = 3\n" in out and "  engine events  " in out
    assert "\n  steps " not in out                              # the engine's count is not called steps
    code, out2, _ = cli(capsys, "run", "minibatch-sgd", "--steps", "3", "--param", "b=2")   # the old spelling
    assert code == 0 and out2 == out
    code, _, err = cli(capsys, "run", "minibatch-sgd", "--iterations", "3", "--param", "T=4")
    assert code == 2 and "give the iterations once" in err


def test_list_never_cuts_a_description(capsys, monkeypatch):
    from asyncproof.proofs.registry import all_claims
    monkeypatch.setenv("COLUMNS", "80")
    code, out, _ = cli(capsys, "list")
    assert code == 0
    flat = " ".join(out.split())
    for c in all_claims():
        assert " ".join(c.statement.split("\n\n")[0].split()) in flat, c.id
    assert max(len(line) for line in out.splitlines()) <= 80 or all(
        " " not in line.strip() for line in out.splitlines() if len(line) > 80)


def _until(cond, limit: float = 30.0) -> None:
    """Wait for the ticker thread (a loaded machine may be slow to schedule it; nothing is timed)."""
    end = time.monotonic() + limit
    while not cond() and time.monotonic() < end:
        time.sleep(0.01)
    assert cond()


def test_progress_shows_from_the_first_second_and_says_when_it_compiles(capsys, monkeypatch):
    from asyncproof.reference import kernels
    monkeypatch.setattr(kernels, "uncached", lambda: ["dot", "sq_dist"])
    prog = _Progress("running x", first=0.05)
    prog.compiling()
    _until(lambda: prog.shown)                          # no engine callback at all: the ticker still speaks
    prog.done()
    err = capsys.readouterr().err
    assert "running x: compiling kernels (first run only: 2 not in numba's cache yet)" in err
    assert "running x: compiling kernels (first run only), " in err and " s" in err.splitlines()[-1]
    prog = _Progress("running y", first=0.05)
    prog(120, 400)
    _until(lambda: prog.shown)
    prog.done()
    assert "running y: running, 120 events of at most 400" in capsys.readouterr().err
