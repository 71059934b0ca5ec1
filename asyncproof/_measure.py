"""Recorded measurements of the commands whose output and durations the docs quote.

``python -m asyncproof.docnumbers --measure NAME`` runs the command of :data:`MEASUREMENTS`
``NAME`` and writes ``docs/numbers/NAME.json``: the exact command, the date, the commit (and
the files changed since), the machine (cores, load average before, during and after) and per
run the wall-clock and CPU times (``os.wait4``: the command and every process it waited for,
as ``/usr/bin/time`` counts them) and its standard output.  Nothing compares a duration with
the clock in a test; the docs' timing sentences are rendered from these files by
:mod:`asyncproof.docnumbers`.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NUMBERS = ROOT / "docs" / "numbers"


@dataclass(frozen=True)
class Measurement:
    """One documented command: ``argv`` (``{python}``, ``{root}``, ``{tmp}`` substituted)."""

    argv: tuple[str, ...]
    shown: str                          # the command as the docs write it
    runs: tuple[str, ...] = ("run",)    # labels; the runs share one fresh folder and one Numba cache
    fresh_numba_cache: bool = False     # True: an empty NUMBA_CACHE_DIR at the first run, as in a fresh clone
    cwd: str = "{tmp}"
    compare: tuple[tuple[str, str], ...] = ()   # (file written under {tmp}, committed file): same bytes?
    written_as: tuple[str, str] = ("", "")      # in written text files, this (substituted) reads as that
    outputs: tuple[str, ...] = ()               # files the command writes in the copy: kept in the record
    note: str = ""


_EXP = "{python} -m asyncproof.experiments {name} --out {tmp}/out --jobs 2"

MEASUREMENTS: dict[str, Measurement] = {
    "verify-quick": Measurement(
        ("{python}", "-m", "asyncproof", "verify", "--budget", "quick"), "asyncproof verify --budget quick",
        runs=("first", "next"), fresh_numba_cache=True,
        note="two runs in one new folder with an empty Numba cache: the first compiles the kernels"),
    "prove": Measurement(("{python}", "-m", "asyncproof", "prove"), "asyncproof prove",
                         runs=("first", "next"), fresh_numba_cache=True,
                         note="two runs with an empty Numba cache: the first compiles the kernels"),
    "bench": Measurement(("{python}", "-m", "asyncproof", "bench"), "asyncproof bench",
                         note="issue 12's workload on this machine, nothing else running; the README quotes the "
                              "table (speeds are this machine's at this load: no test compares them)"),
    **{f"experiment-{name}": Measurement(
        tuple(_EXP.format(python="{python}", name=name, tmp="{tmp}").split()),
        f"python -m asyncproof.experiments {name} --out docs/experiments --jobs 2",
        compare=((f"out/{name}.md", f"docs/experiments/{name}.md"),
                 (f"out/{name}.png", f"docs/experiments/{name}.png")),
        written_as=("--out {tmp}/out", "--out docs/experiments"),
        note="written to a scratch folder and compared byte for byte with the committed files (the Markdown's "
             "'Reproduce' line names the folder it was written to: read as docs/experiments)")
       for name in ("asgrad-figure1", "heterogeneous-compute", "hogwild-sparsity", "decentralized-sgd",
                    "asgd-kmeans")},
    **{f"mutation-{b}": Measurement(
        ("{python}", "tests/mutation/run.py", "--budget", b, "--jobs", "2"),
        f"python tests/mutation/run.py --budget {b} --jobs 2", cwd="{root}",
        outputs=(f"tests/mutation/results-{b}.json",),
        note=f"writes tests/mutation/results-{b}.json: kept here under 'outputs' (the kill counts the docs quote) "
             "and copied to the checkout")
       for b in ("quick", "ci")},
}


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def _dirty() -> list[str]:
    return sorted(line[3:] for line in _git("status", "--porcelain").splitlines() if line.strip())


@dataclass
class _Loads:
    samples: list = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self.stop.wait(5.0):
            self.samples.append(round(os.getloadavg()[0], 2))


def _one_run(argv: list[str], cwd: Path, env: dict) -> dict:
    loads = _Loads()
    sampler = threading.Thread(target=loads.run, daemon=True)
    before = [round(x, 2) for x in os.getloadavg()]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.monotonic()
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=out, stderr=err)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.monotonic() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        loads.stop.set()
        sampler.join()
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    during = loads.samples or [round(os.getloadavg()[0], 2)]
    return {"exit": proc.returncode, "wall_s": round(wall, 1), "cpu_user_s": round(usage.ru_utime, 1),
            "cpu_sys_s": round(usage.ru_stime, 1), "max_rss_mib": round(usage.ru_maxrss / 1024),
            "load_before": before,
            "load_during_1min": {"min": min(during), "mean": round(sum(during) / len(during), 2), "max": max(during)},
            "load_after": [round(x, 2) for x in os.getloadavg()],
            "stdout": stdout, "stderr_tail": stderr.strip().splitlines()[-5:]}


def _export(commit: str, dest: Path) -> str:
    """Write the tree of ``commit`` to ``dest`` (``git archive``: nothing in the checkout changes); its short id."""
    dest.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", "--format=tar", commit], cwd=ROOT, capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True)
    return _git("rev-parse", "--short", commit)


def measure(name: str, out_dir: Path = NUMBERS, worktree: bool = False) -> Path:
    """Run measurement ``name`` and write ``out_dir/NAME.json``; return the path.

    By default the command runs on a copy of the last commit (``git archive HEAD``), so that
    edits made in the checkout while it runs (minutes) cannot change what it measures;
    ``worktree=True`` runs the checkout itself, uncommitted changes included (they are listed).
    """
    m = MEASUREMENTS[name]
    tmp = Path(tempfile.mkdtemp(prefix=f"asyncproof-{name}-"))
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    if worktree:
        src, commit, dirty = ROOT, _git("rev-parse", "--short", "HEAD"), _dirty()
    else:
        src, dirty = tmp / "src", []
        commit = _export("HEAD", src)
        env["PYTHONPATH"] = str(src)          # ahead of the editable install's finder
    subst = {"python": sys.executable, "root": str(src), "tmp": str(tmp)}
    argv = [a.format(**subst) for a in m.argv]
    if m.fresh_numba_cache:
        env["NUMBA_CACHE_DIR"] = str(tmp / "numba-cache")
    runs = []
    for label in m.runs:
        print(f"measuring {name} ({label}): {' '.join(argv)}", file=sys.stderr, flush=True)
        r = _one_run(argv, Path(m.cwd.format(**subst)), env)
        print(f"  exit {r['exit']}, {r['wall_s']} s wall, {r['cpu_user_s'] + r['cpu_sys_s']:.1f} s CPU",
              file=sys.stderr, flush=True)
        runs.append({"label": label, **r})
    same, differences = {}, {}
    for written, committed in m.compare:
        got = (tmp / written).read_bytes() if (tmp / written).is_file() else b""
        if written.endswith(".md") and m.written_as[0]:
            got = got.replace(m.written_as[0].format(**subst).encode(), m.written_as[1].encode())
        want = (src / committed).read_bytes()
        same[committed] = got == want
        if not same[committed] and written.endswith(".md"):
            import difflib
            differences[committed] = list(difflib.unified_diff(want.decode().splitlines(), got.decode().splitlines(),
                                                               "committed", "written", lineterm="", n=0))[:60]
    outputs = {}
    for rel in m.outputs:
        path = src / rel
        outputs[rel] = json.loads(path.read_text()) if path.is_file() and rel.endswith(".json") else None
        if path.is_file() and src != ROOT:
            shutil.copy(path, ROOT / rel)
    record = {
        "name": name, "command": m.shown,
        "argv": [a.replace(str(src), ".").replace(str(tmp), "$TMP").replace(sys.executable, "python")
                 for a in argv],
        "cwd": "the checkout" if m.cwd == "{root}" else "a new empty folder",
        "code": ("the checkout, with its uncommitted changes" if worktree
                 else "the commit below, exported with git archive (uncommitted changes not included)"),
        "numba_cache": "empty at the first run (NUMBA_CACHE_DIR set to a new folder)" if m.fresh_numba_cache
        else "the checkout's",
        "note": m.note,
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": _git("rev-parse", "--short", "HEAD"),
        "uncommitted_changes": {"before": dirty, "after": _dirty()} if worktree else "not included",
        "machine": {"nproc": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "same_as_committed": same,
        **({"differences": differences} if differences else {}),
        **({"outputs": outputs} if outputs else {}),
        "runs": runs,
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{name}.json"
    from .reference.schedule import write_atomically
    write_atomically(path, json.dumps(record, indent=1, ensure_ascii=False) + "\n")
    shutil.rmtree(tmp, ignore_errors=True)
    return path
