"""The timed adversary's planned faults: crashes and recoveries at simulated times (issue 13's
experiments inject them), replayable, and bad plans refused in one line."""

from __future__ import annotations

import subprocess
import sys

import pytest

from asyncproof.reference.adversaries import Timed, check_faults, make_adversary
from asyncproof.reference.errors import InputError
from asyncproof.reference.schedule import replay, run_algorithm


def _times(res, kind):
    return [res.trace.annotations[i]["time"] for i, e in enumerate(res.trace.events) if e.startswith(kind)]


def test_a_planned_crash_and_recovery_happen_at_their_simulated_times_and_replay():
    res = run_algorithm("simu-parallel-sgd", params={"n": 3, "T": 8}, seed=1,
                        adversary="timed:model=fixed,s=1,faults=crash@2.5:p0", model={"f": 1})
    assert [e for e in res.trace.events if e.startswith("crash")] == ["crash p0"]
    assert _times(res, "crash") == [3.0], "the first step at or after t = 2.5 (job ends fall on whole times)"
    assert replay(res.schedule).reproduced
    res = run_algorithm("mdaa", params={"clusters": [2, 2, 1], "T": 2}, seed=1,
                        adversary="timed:model=fixed,s=1,faults=crash@0:p1;recover@0:p1",
                        model={"f": 1, "recovery": True, "crashable": [1]})
    assert [e for e in res.trace.events if e.startswith(("crash", "recover"))] == ["crash p1", "recover p1"]
    assert replay(res.schedule).reproduced
    assert res.schedule.adversary["faults"] == [[0.0, "crash", 1], [0.0, "recover", 1]]


def test_without_faults_the_schedule_file_is_unchanged():
    assert "faults" not in make_adversary("timed:model=fixed,s=1").to_json()
    assert make_adversary(make_adversary("timed:model=fixed,s=1,faults=crash@1:p2").to_json()).faults == ((1.0, "crash", 2),)


def test_a_fault_due_while_nothing_else_can_happen_jumps_the_clock():
    res = run_algorithm("mdaa", params={"clusters": [2, 2, 1], "T": 1}, adversary=Timed(faults=((50.0, "crash", 4),)),
                        model={"f": 1, "crashable": [4]})
    assert res.trace.events[-1] == "crash p4" and _times(res, "crash") == [50.0]


@pytest.mark.parametrize("spec, says", [
    ("crash@x:p1", "the time 'x' is not a number"),
    ("crash@-1:p1", "the time must be finite and >= 0"),
    ("explode@1:p1", "must read crash@TIME:pN or recover@TIME:pN"),
    ("crash@1:q1", "must read crash@TIME:pN or recover@TIME:pN"),
])
def test_bad_fault_plans_are_one_line_errors(spec, says, capsys):
    from asyncproof.cli import main
    with pytest.raises(InputError, match=says):
        make_adversary(f"timed:model=fixed,s=1,faults={spec}")
    with pytest.raises(InputError, match="a planned fault must be"):
        check_faults([(1.0, "crash")])
    assert main(["run", "sgd", "--adversary", f"timed:model=fixed,s=1,faults={spec}"]) == 2
    err = capsys.readouterr().err
    assert says in err and err.count("\n") == 1


def test_the_command_line_refuses_a_bad_plan_before_any_work():
    out = subprocess.run([sys.executable, "-m", "asyncproof", "run", "sgd", "--adversary",
                          "timed:model=fixed,s=1,faults=crash@x:p1"], capture_output=True, text=True)
    assert out.returncode == 2 and out.stderr.strip().splitlines() == [
        "asyncproof run: error: planned fault ['x', 'crash', 1]: the time 'x' is not a number"]
