"""Mutation check of the property suite: apply each one-line mutant, run ``verify``, count the kills.

The catalogue (:mod:`catalogue`, beside this file) lists realistic one-line mistakes in the
reference, each with the algorithms whose guarantees must catch it.  For every mutant this
script copies the checkout's sources to a scratch folder (a fixed slot per parallel job, so
Numba's cache survives from one mutant to the next), applies the edit, runs

    python -m asyncproof verify ALG ... --budget BUDGET --no-fresh

there, and reads the exit status: 1 is a kill (a guarantee violated on the mutated algorithm,
or a row vacuous), 0 a survivor, anything else an error.  It prints a table and the kill rate
and writes them to ``tests/mutation/results-BUDGET.json``.  Not part of CI (minutes per mutant
at ``ci``); run it by hand:

    python tests/mutation/run.py --budget quick --jobs 2
    python tests/mutation/run.py --budget ci --only asgrad-pure-alpha
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
from catalogue import MUTANTS, Mutant, apply  # noqa: E402

SOURCES = ("asyncproof", "reference", "properties", "proofs", "fast", "pyproject.toml")


def _prepare_slot(slot: Path) -> None:
    """A fresh copy of the sources with their modification times (Numba's cache keys on them)."""
    for name in SOURCES:
        src, dst = ROOT / name, slot / name
        if dst.is_dir():
            shutil.rmtree(dst)
        elif dst.exists():
            dst.unlink()
        if src.is_dir():
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(src, dst)


def run_one(m: Mutant, budget: str, slot: Path, timeout: float) -> dict:
    _prepare_slot(slot)
    target = slot / m.path
    target.write_text(apply(m, target.read_text()))
    failures = slot / "failures"
    shutil.rmtree(failures, ignore_errors=True)
    env = {**os.environ, "NUMBA_CACHE_DIR": str(slot / "numba-cache"), "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("PYTHONPATH", None)
    t0 = time.monotonic()
    try:
        proc = subprocess.run([sys.executable, "-m", "asyncproof", "verify", *m.algorithms, "--budget", budget,
                               "--no-fresh", "--failures", str(failures)], cwd=slot, env=env,
                              capture_output=True, text=True, timeout=timeout)
        code, out = proc.returncode, proc.stdout + proc.stderr
    except subprocess.TimeoutExpired:
        code, out = -1, f"timed out after {timeout:.0f} s"
    seconds = time.monotonic() - t0
    caught = [line.strip("- ").split(":")[0] for line in out.splitlines() if line.startswith("- ")]
    verdict = {1: "killed", 0: "SURVIVED"}.get(code, f"error (exit {code})")
    return {"id": m.id, "path": m.path, "algorithms": list(m.algorithms), "verdict": verdict, "caught_by": caught,
            "seconds": round(seconds, 1), "why": m.why, "tail": out.strip().splitlines()[-3:] if code not in (0, 1)
            else []}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Apply each mutant of the catalogue and run asyncproof verify on it.")
    ap.add_argument("--budget", choices=("quick", "ci", "deep"), default="quick")
    ap.add_argument("--jobs", type=int, default=max(1, min(2, os.cpu_count() or 1)))
    ap.add_argument("--only", nargs="*", help="mutant ids (default: all)")
    ap.add_argument("--timeout", type=float, default=1800.0, help="seconds per mutant")
    ap.add_argument("--out", help="results file (default: tests/mutation/results-BUDGET.json)")
    args = ap.parse_args(argv)
    chosen = [m for m in MUTANTS if not args.only or m.id in args.only]
    unknown = sorted(set(args.only or []) - {m.id for m in MUTANTS})
    if unknown:
        print(f"error: unknown mutant(s) {unknown}", file=sys.stderr)
        return 2
    scratch = Path(tempfile.gettempdir()) / "asyncproof-mutants"
    slots = [scratch / f"slot{j}" for j in range(args.jobs)]
    for s in slots:
        s.mkdir(parents=True, exist_ok=True)
    free = list(slots)
    results = []

    def work(m):
        slot = free.pop()
        try:
            r = run_one(m, args.budget, slot, args.timeout)
        finally:
            free.append(slot)
        print(f"{r['verdict']:<10} {m.id:<44} {r['seconds']:>7.1f} s  {', '.join(r['caught_by'][:2])}", flush=True)
        return r

    t0 = time.monotonic()
    with ThreadPoolExecutor(args.jobs) as pool:
        results = list(pool.map(work, chosen))
    killed = sum(r["verdict"] == "killed" for r in results)
    rate = killed / len(results) if results else 0.0
    summary = {"budget": args.budget, "mutants": len(results), "killed": killed, "kill_rate": rate,
               "survivors": [r["id"] for r in results if r["verdict"] != "killed"],
               "minutes": round((time.monotonic() - t0) / 60, 1), "results": results}
    out = Path(args.out) if args.out else HERE / f"results-{args.budget}.json"
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(summary, indent=1, ensure_ascii=False) + "\n")
    os.replace(tmp, out)
    print(f"\nkill rate at --budget {args.budget}: {killed}/{len(results)} = {100 * rate:.1f}% "
          f"({summary['minutes']} min); survivors: {summary['survivors'] or 'none'}; written to {out}")
    return 0 if killed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
