"""Non-volatile memory on disk (reference/checkpoints.py): the files a recovery really reads, written
atomically, and refused with one line when corrupt or from another run (issue 13, "Bad input")."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from asyncproof.reference.checkpoints import CheckpointDir
from asyncproof.reference.errors import InputError
from asyncproof.reference.schedule import run_algorithm

MDAA = {"clusters": [2, 2, 1], "T": 2, "K": 2}
RECOVERY = {"f": 4, "recovery": True, "crashable": [1, 3], "fairness": 12}
ADVERSARY = "random:seed=0"          # crashes p1 and p3 and recovers each twice (checked below)


def _run(tmp_path=None, seed=0, adversary=ADVERSARY):
    return run_algorithm("mdaa", params=MDAA, seed=seed, adversary=adversary, model=RECOVERY,
                         checkpoints=tmp_path)


def test_a_run_with_its_memory_on_disk_is_the_same_run_and_recovers_from_the_files(tmp_path, monkeypatch):
    loads = []
    real = CheckpointDir.load
    monkeypatch.setattr(CheckpointDir, "load", lambda self, pid: loads.append(pid) or real(self, pid))
    in_memory, on_disk = _run(), _run(tmp_path)
    assert [e for e in in_memory.trace.events if e.startswith("recover")] == \
        ["recover p3", "recover p1", "recover p3", "recover p1"]
    assert on_disk.trace.digest == in_memory.trace.digest
    assert loads == [3, 1, 3, 1], "every recovery read its state back from its file"
    assert sorted(f.name for f in tmp_path.iterdir()) == [f"p{p}.ckpt" for p in range(5)]


class CorruptOnRecovery:
    """The random adversary, but the file of a process is damaged just before it recovers."""

    def __init__(self, damage):
        from asyncproof.reference.adversaries import make_adversary
        self.inner, self.damage = make_adversary(ADVERSARY), damage

    def reset(self, engine):
        self.inner.reset(engine)

    def choose(self, engine, events):
        i = self.inner.choose(engine, events)
        if events[i].kind == "recover":
            self.damage(engine.checkpoints.file(events[i].pid))
        return i

    def to_json(self):
        return {"name": "corrupt-on-recovery"}


@pytest.mark.parametrize("damage, says", [
    (lambda f: f.write_bytes(f.read_bytes()[:-5]), "is corrupt: its payload is"),
    (lambda f: f.write_bytes(b"garbage"), "is corrupt: it does not start with 'asyncproof-checkpoint v1'"),
    (lambda f: f.write_bytes(f.read_bytes()[:-1] + bytes([f.read_bytes()[-1] ^ 1])),
     "is corrupt: its payload's SHA-256 differs"),
    (lambda f: f.unlink(), "is missing: p3 checkpointed in this run"),
])
def test_a_damaged_checkpoint_is_refused_at_the_recovery_with_one_line(tmp_path, damage, says):
    with pytest.raises(InputError) as e:
        _run(tmp_path, adversary=CorruptOnRecovery(damage))
    assert says in str(e.value) and "p3.ckpt" in str(e.value) and "\n" not in str(e.value)


def test_a_checkpoint_of_another_run_is_refused(tmp_path):
    _run(tmp_path, seed=0)
    with pytest.raises(InputError, match=r"holds checkpoints of another run \(p0.ckpt: mdaa, seed 0; this run: "
                                         r"mdaa, seed 1\): remove them or pick an empty directory"):
        _run(tmp_path, seed=1)
    other = CheckpointDir(tmp_path / "x", {"algorithm": "general-sgd", "seed": 5})
    other.save(3, {"t": 1})
    mine = CheckpointDir(tmp_path / "y", {"algorithm": "mdaa", "seed": 0})
    mine.saved.add(3)
    (tmp_path / "y" / "p3.ckpt").write_bytes((tmp_path / "x" / "p3.ckpt").read_bytes())
    with pytest.raises(InputError, match=r"p3.ckpt' is from another run \(general-sgd, seed 5\), not this one "
                                         r"\(mdaa, seed 0\)"):
        mine.load(3)


def test_a_crash_during_the_write_never_loses_the_previous_checkpoint(tmp_path, monkeypatch):
    d = CheckpointDir(tmp_path, {"algorithm": "demo", "seed": 0})
    d.save(2, {"t": 4, "x": [1.0]})

    def crash(*args):
        raise OSError("the machine lost power during the rename")
    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        d.save(2, {"t": 5, "x": [2.0]})
    monkeypatch.undo()
    assert d.load(2) == {"t": 4, "x": [1.0]}
    assert [f.name for f in tmp_path.iterdir()] == ["p2.ckpt"], "no half-written temporary file is left"


def test_the_cli_takes_a_checkpoint_directory_and_refuses_another_runs(tmp_path):
    def cli(*args):
        return subprocess.run([sys.executable, "-m", "asyncproof", "run", "mdaa", "--param", "clusters=[2,2,1]",
                               "--param", "T=1", "--adversary", ADVERSARY, "--model",
                               "f=2,recovery=true,crashable=[1,3]", *args], capture_output=True, text=True)
    ok = cli("--checkpoints", str(tmp_path))
    assert ok.returncode == 0, ok.stderr
    assert (tmp_path / "p0.ckpt").exists()
    bad = cli("--checkpoints", str(tmp_path), "--seed", "4")
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1
    assert "holds checkpoints of another run" in bad.stderr
    (tmp_path / "file").write_text("x")
    bad = cli("--checkpoints", str(tmp_path / "file"))
    assert bad.returncode == 2 and "--checkpoints directory" in bad.stderr and "not a directory" in bad.stderr


def test_fast_runs_refuse_a_checkpoint_directory(tmp_path):
    out = subprocess.run([sys.executable, "-m", "asyncproof", "run", "hogwild-atomic", "--fast", "--checkpoints",
                          str(tmp_path)], capture_output=True, text=True)
    assert out.returncode == 2 and "--checkpoints is not for --fast runs" in out.stderr
