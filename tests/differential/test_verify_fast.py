"""``asyncproof verify --fast`` (docs/fast.md, "verify --fast"): the table, the planted bugs, vacuity, bad input.

* the CLI prints one row per (algorithm, threads, stalls), the checks run, and the planted bugs, and
  exits 0 when everything holds;
* the catching works both ways: a real kernel's run passes every check (the reference's guarantees of
  ``hogwild-lock`` on its rebuilt trace included), the same run with a planted bug fails one, and the
  planted-bug mechanism fed a "bug" that is none reports it NOT CAUGHT (exit 1);
* a planted bug that maps to a reference variant leaves a counterexample that ``asyncproof replay``
  re-checks: the violation again, exit 1;
* a stalled row that never reached the dangerous case is retried, then reported vacuous, and fails;
* bad input is one line, exit 2, before any work.
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from asyncproof.cli import main
from asyncproof.fast.run import run_fast
from asyncproof.fast.shared_memory import hogwild as H
from asyncproof.properties.fast import registry as R
from asyncproof.properties.fast import suite as S
from asyncproof.properties.fast.shared_memory import hogwild as FH


def cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_verify_fast_prints_the_table_and_exits_0(tmp_path, capsys):
    code, out, err = cli(capsys, "verify", "--fast", "hogwild-atomic", "--threads", "2", "--failures", str(tmp_path))
    assert code == 0, out + err
    head, *rows = [l for l in out.splitlines() if l.startswith("hogwild-atomic ")]
    assert "fast algorithm  threads  stalls  runs  checks passed  in flight" in out
    over = S.thread_counts(2)[-1]                     # oversubscribed: twice the cores, at least 4
    assert [tuple(l.split()[1:3]) for l in [head, *rows]] == [("1", "no"), ("2", "no"), ("2", "yes"),
                                                              (str(over), "no"), (str(over), "yes")]
    for l in (rows[1], rows[3]):                      # stalled rows: two samples in flight, writes in between
        assert l.split()[4] == "8/8" and l.rstrip().endswith("yes") and int(l.split()[7]) >= 1
    assert "hogwild-atomic: rounding-bound, one-chain-per-cell, reads-explained, no-lost-update" in out
    assert "planted bugs (each must be caught):" in out and "caught in run" in out
    assert out.rstrip().splitlines()[-1].startswith("all checks hold; every stalled row reached its dangerous case")
    assert err.count("hogwild-atomic, ") >= 5         # progress, a line per row as it completes


def test_a_real_run_passes_every_check_and_a_planted_bug_fails_one():
    lock = R.suite_of("hogwild-lock")
    run = run_fast("hogwild-lock", FH.CROWDED, {"T": 200}, seed=1, threads=2)
    real = S.evaluate(lock, run)
    names = [n for n, _ in real.checks]
    assert real.failures == [] and names[:2] == ["rebuild", "recorded-samples"]
    assert {"replay-determinism", "hogwild-perturbed-iterate", "hogwild-lock-mutual-exclusion"} <= set(names)
    assert real.not_applicable == ["hogwild-bounded-overlap"]        # its premise: a bound τ, which fast runs lack
    atomic = R.suite_of("hogwild-atomic")
    assert S.evaluate(atomic, run_fast("hogwild-atomic", FH.CROWDED, {"T": 1000}, seed=1, threads=2)).failures == []
    caught = []
    for seed in range(6):
        bad = run_fast("hogwild-atomic", FH.CROWDED, {"T": 1000}, seed=seed, threads=2,
                       steps={"add": FH.load_stall_store})
        caught = S.evaluate(atomic, bad).failures
        if caught:
            break
    assert caught and caught[0][0] in ("rounding-bound", "one-chain-per-cell")


def test_a_planted_bug_that_is_none_is_not_caught_and_fails_the_suite(tmp_path, capsys, monkeypatch):
    atomic = R.suite_of("hogwild-atomic")
    harmless = R.Planted("add-as-add", "the real atomic add (no mistake)", lambda problem, seed: {"add": H.atomic_add},
                         no_variant="-", tries=2)
    monkeypatch.setitem(R.FAST, "hogwild-atomic", dataclasses.replace(atomic, planted=(harmless,)))
    monkeypatch.setitem(S.BUDGETS, "quick", S.FastBudget(1, 300, 100, 0))
    code, out, err = cli(capsys, "verify", "--fast", "hogwild-atomic", "--threads", "1", "--failures", str(tmp_path))
    assert code == 1
    assert "NOT CAUGHT in 2 runs" in out and "planted bug add-as-add in hogwild-atomic was not caught in 2 runs" in out


def test_the_planted_lock_bug_leaves_a_counterexample_that_replays_the_violation(tmp_path, capsys):
    lock = R.suite_of("hogwild-lock")
    planted = next(p for p in lock.planted if p.variant == "broken-hogwild-lock-test-then-set")
    row = S.plant(lock, planted, S.FastBudget(1, 300, 200, 0), tmp_path)
    assert row.caught and row.ok, (row.caught_by, row.detail)
    path = row.counterexample
    assert path.startswith(str(tmp_path / "fast" / "hogwild-lock-mutual-exclusion.broken-hogwild-lock-test-then-set-"))
    saved = json.loads(open(path).read())
    assert saved["algorithm"] == "broken-hogwild-lock-test-then-set"
    assert saved["property"]["algorithm_under_test"] == "broken-hogwild-lock-test-then-set"
    assert "hogwild-lock --fast, 2 threads" in saved["property"]["recorded_from"]
    code, out, err = cli(capsys, "replay", path)
    assert code == 1
    assert out.startswith("reproduced sha256:") and "violated again: two cores inside x[" in out


def test_serially_equivalent_rows_and_the_split_component_replays_its_violation(tmp_path, capsys):
    code, out, err = cli(capsys, "verify", "--fast", "serially-equivalent-sgd", "--threads", "2",
                         "--failures", str(tmp_path))
    assert code == 0, out + err
    assert "serially-equivalent-sgd: rebuild, replay-determinism, serial-equivalence, conflicts-in-order" in out
    assert "components-split-across-threads" in out and "caught in run" in out
    path = next((tmp_path / "fast").glob("serial-equivalence.broken-cyclades-deals-merged-order-*.json"))
    assert f"counterexample {path} (broken-cyclades-deals-merged-order) replays" in out
    code, out, err = cli(capsys, "replay", str(path))
    assert code == 1 and out.startswith("reproduced sha256:") and "violated again: " in out


def test_the_variant_rebuild_follows_the_recorded_values_bit_for_bit():
    """A lock-mode run rebuilt as the reference variant whose lock is a test then a set, through the
    cells' orders the recorded values give (fast/recorder's Guide, steered by the tickets), ends at the
    fast run's model bit for bit (the planted-bug test above does it for a run with the bug)."""
    run = run_fast("hogwild-lock", FH.CROWDED, {"T": 150}, seed=2, threads=2)
    assert FH.rebuild_as_variant(run, "broken-hogwild-lock-test-then-set").same_x


def test_a_stalled_row_that_never_reaches_the_danger_is_retried_then_vacuous(monkeypatch):
    never = dataclasses.replace(R.suite_of("hogwild-atomic"), stalls=lambda problem, seed: {},
                                dangerous=lambda m: "the danger never came")
    row = S.run_row(never, 2, True, S.FastBudget(1, 200, 100, 2), None)
    assert len(row.outcomes) == 3 and row.retried == 2
    assert row.vacuous and not row.ok and row.danger_text() == "VACUOUS: the danger never came"
    report = S.FastReport("quick", [2], rows=[row])
    assert not report.ok
    assert "hogwild-atomic, 2 threads, stalls: vacuous: the danger never came in 3 runs" in report.violations()
    assert "VACUOUS: the danger never came" in report.table()
    calm = S.run_row(never, 2, False, S.FastBudget(1, 200, 100, 2), None)     # without stalls: reported, not failed
    assert len(calm.outcomes) == 1 and calm.ok and calm.danger_text().endswith("(not required without stalls)")


def test_racy_reads_are_explained_by_their_intervals_and_a_moved_read_is_not():
    run = run_fast("hogwild-racy", FH.CROWDED, {"T": 1000}, seed=3, threads=2)
    assert FH.check_reads_within_intervals(run) is None and FH.check_final_values_explained(run) is None
    log = run.log.copy()
    reads = np.flatnonzero(log["op"] == H.READ)
    late = reads[-1]                       # the last read: claim it happened before every update
    if log["value"][late] == run.x0[int(log["v"][late])]:
        pytest.skip("the last read saw x_0: moving it earlier explains it just as well")
    log["t0"][late], log["t1"][late] = -3, -2
    run.log = log
    assert "is no value the cell could hold" in FH.check_reads_within_intervals(run)


@pytest.mark.parametrize("argv,message", [
    (["nope"], "no fast implementation of 'nope'"),
    (["sgd"], "no fast implementation of 'sgd'"),
    (["--threads", "0"], "--threads must be an integer in 1 .. 256, got 0"),
    (["--no-fresh"], "--no-fresh is for the reference's verify"),
])
def test_bad_input_is_one_line_exit_2(tmp_path, capsys, argv, message):
    code, out, err = cli(capsys, "verify", "--fast", *argv, "--failures", str(tmp_path / "f"))
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1 and message in err, err
    assert not (tmp_path / "f").exists()                    # refused before any work


def test_threads_without_fast_is_bad_input(capsys):
    code, out, err = cli(capsys, "verify", "sgd", "--threads", "2")
    assert code == 2 and "--threads is for verify --fast" in err


def test_a_reference_guarantee_violated_on_a_rebuilt_run_is_saved_before_it_is_reported(tmp_path, monkeypatch):
    from asyncproof.properties.guarantees import get_guarantee
    real = get_guarantee("hogwild-no-lost-update")
    strict = dataclasses.replace(real, check=lambda result: "planted: every run fails")
    monkeypatch.setattr(S, "guarantees", lambda: [strict])
    run = run_fast("hogwild-lock", FH.CROWDED, {"T": 60}, seed=0, threads=2)
    out = S.evaluate(R.suite_of("hogwild-lock"), run, tmp_path)
    assert ("hogwild-no-lost-update", "planted: every run fails") in out.failures
    [(name, path)] = out.counterexamples
    saved = json.loads(open(path).read())
    assert saved["algorithm"] == "hogwild-lock" and saved["property"]["name"] == "hogwild-no-lost-update.hogwild-lock"
    assert saved["property"]["message"] == "planted: every run fails"
