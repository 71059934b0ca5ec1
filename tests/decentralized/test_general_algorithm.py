"""seed 000's General Algorithm (reference/decentralized/general_algorithm.py): its readings, bad input,
replay, crashes, and the split of the minority quorum on the double well, found and replayed."""

from __future__ import annotations

import re

import numpy as np
import pytest

from asyncproof.properties import get_guarantee
from asyncproof.properties.decentralized import general_algorithm as G
from asyncproof.reference.adversaries import Adversary
from asyncproof.reference.decentralized.general_algorithm import Averaged, average_by_pid, filed, majority
from asyncproof.reference.errors import InputError
from asyncproof.reference.schedule import replay, run_algorithm

QUAD = {"name": "quadratic", "params": {"d": 2, "sigma": 0.5, "m": 4, "cond": 3.0}}
WELL = {"name": "double-well", "params": {"d": 1, "sigma": 0.3, "m": 8}}
SPLIT = {"T": 8, "eta": 0.6}


class Cut(Adversary):
    """A partition: p0 .. p(c-1) | the others; a link across the cut is delivered only when nothing
    else can happen; otherwise oldest first, except that ``first`` (a pid) steps before the others."""
    name = "cut"

    def __init__(self, c: int, first: int | None = None):
        self.c, self.first = c, first

    def _across(self, e) -> bool:
        if e.kind != "deliver":
            return False
        a, b = (int(x) for x in re.findall(r"p(\d+)", e.actor))
        return (a < self.c) != (b < self.c)

    def choose(self, engine, events) -> int:
        normal = [i for i, e in enumerate(events) if not e.is_fault and not self._across(e)]
        if self.first is not None:
            mine = [i for i in normal if events[i].pid == self.first]
            if mine:
                return mine[0]
        return normal[0] if normal else 0


def first_across(trace, c: int) -> int:
    for k, e in enumerate(trace.events):
        m = re.fullmatch(r"deliver #\d+ p(\d+)->p(\d+) t=\d+", e)
        if m and (int(m.group(1)) < c) != (int(m.group(2)) < c):
            return k
    return len(trace.events)


# --- the readings ---------------------------------------------------------------------------------


def test_the_default_count_is_the_strict_majority_at_even_n():
    assert [majority(n) for n in (1, 2, 3, 4, 5, 6)] == [1, 2, 2, 3, 3, 4]
    for seed in range(4):
        res = run_algorithm("general-sgd", problem=QUAD, params={"n": 4, "T": 3}, adversary=f"random:seed={seed}")
        assert all(len(a.senders) >= 3 for a in res.trace.records(Averaged))
        assert G.check_majority(res) is None and G.check_average(res) is None


def test_the_literal_ceil_half_splits_at_even_n_and_the_majority_does_not():
    broken = run_algorithm("broken-general-ceil-half", problem=QUAD, params={"n": 4, "T": 2}, adversary=Cut(2))
    msg = G.check_majority(broken)
    assert msg and "not a majority" in msg
    assert {tuple(a.senders) for a in broken.trace.records(Averaged)} == {(0, 1), (2, 3)}
    real = run_algorithm("general-sgd", problem=QUAD, params={"n": 4, "T": 2}, adversary=Cut(2))
    assert G.check_majority(real) is None
    # while the halves are apart nobody passes iteration 1: the majority blocks instead of splitting
    assert not [s for s, _, _ in G.averages(real) if s < first_across(real.trace, 2)]
    # odd n: ⌈n/2⌉ is the majority, the literal count is right
    odd = run_algorithm("broken-general-ceil-half", problem=QUAD, params={"n": 5, "T": 2}, adversary=Cut(2))
    assert G.check_majority(odd) is None


def test_stale_messages_are_ignored_and_early_ones_kept():
    assert filed(1, 2) is None and filed(2, 2) == 2 and filed(3, 2) == 3
    # p0 steps first: with M = 2 of n = 3 it and p1 pass iteration 1 without p2, whose model arrives
    # stale at iteration 2; p0's iteration-2 model reaches p2 early, while p2 still waits at iteration 1
    res = run_algorithm("general-sgd", problem=QUAD, params={"n": 3, "T": 3}, adversary=Cut(3, first=0))
    assert G._off_iteration(res)
    assert G.check_average(res) is None
    stale = run_algorithm("broken-general-stale-counted", problem=QUAD, params={"n": 3, "T": 3},
                          adversary=Cut(3, first=0))
    assert "iteration-2 models delivered to it by then came from" in G.check_average(stale)


def test_the_stale_mistake_is_caught_on_a_schedule_that_delivers_a_stale_model():
    caught = []
    for seed in range(12):
        res = run_algorithm("broken-general-stale-counted", problem=QUAD, params={"n": 3, "T": 3},
                            adversary=f"random:seed={seed}")
        caught.append(G.check_average(res))
    assert any(caught), "no random schedule delivered a stale model in time"


def test_the_pid_order_sum_is_bit_for_bit_independent_of_arrival_order():
    a, b, c = np.array([1e16]), np.array([1.0]), np.array([-1e16])
    assert ((a + c) + b)[0] != ((a + b) + c)[0]                     # the order does matter in floats
    by_arrival = [{0: a, 1: b, 2: c}, {2: c, 0: a, 1: b}, {1: b, 2: c, 0: a}]
    got = [average_by_pid(m) for m in by_arrival]
    assert all(np.array_equal(g, got[0]) for g in got)
    assert got[0].tobytes() == (((a + b) + c) / 3).tobytes()


def test_every_average_is_over_all_iteration_t_models_received_in_pid_order():
    for seed in range(6):
        res = run_algorithm("general-sgd", problem=QUAD, params={"n": 5, "T": 3, "b": 2},
                            adversary=f"random:seed={seed}", seed=seed)
        assert G.check_average(res) is None, seed


# --- bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize("params, text", [
    ({"n": 4, "M": 7}, "general-sgd: M = 7 is more than the n = 4 processes: the wait could never end"),
    ({"M": 0}, "M (messages waited for) must be >= 1, got 0"),
    ({"etas": [0.1, -0.2]}, "etas[1] = -0.2 is not positive"),
])
def test_bad_input_is_one_line(params, text):
    with pytest.raises(InputError) as e:
        run_algorithm("general-sgd", params=params)
    assert text in str(e.value) and "\n" not in str(e.value)


@pytest.mark.parametrize("arg, text", [("M=9", "M = 9 is more than the n = 4 processes"),
                                       ("M=0", "must be >= 1"), ("etas=[0.1,0]", "etas[1] = 0 is not positive")])
def test_bad_input_from_the_command_line(arg, text, capsys):
    # the command line's own entry point, in this process (tests/test_cli.py runs it as a subprocess)
    from asyncproof.cli import main
    assert main(["run", "general-sgd", "--param", arg]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and text in err and "Traceback" not in err, err


# --- replay, crashes --------------------------------------------------------------------------------


def test_replay_reproduces_a_run_with_crashes_bit_for_bit():
    res = run_algorithm("general-sgd", problem=QUAD, params={"n": 5, "T": 3}, adversary="random:seed=4",
                        model={"f": 2}, seed=3)
    rep = replay(res.schedule)
    assert rep.reproduced and rep.digest == res.trace.digest


class CrashFirst(Adversary):
    """Crash the processes ``down`` at once, then run oldest first."""
    name = "crash-first"

    def __init__(self, down):
        self.down = list(down)

    def choose(self, engine, events) -> int:
        for i, e in enumerate(events):
            if e.kind == "crash" and self.down and e.pid == self.down[0]:
                self.down.pop(0)
                return i
        return next(i for i, e in enumerate(events) if not e.is_fault)


def test_a_crashed_minority_leaves_progress_and_a_crashed_majority_blocks():
    live = run_algorithm("general-sgd", problem=QUAD, params={"n": 5, "T": 3}, adversary=CrashFirst([3, 4]),
                         model={"f": 2})
    assert sorted(live.trace.crashed) == [3, 4] and sorted(live.trace.outputs) == [0, 1, 2]
    assert G.check_majority(live) is None
    dead = run_algorithm("general-sgd", problem=QUAD, params={"n": 5, "T": 3}, adversary=CrashFirst([2, 3, 4]),
                         model={"f": 3})
    assert dead.trace.stopped == "quiescent" and not dead.trace.outputs and not dead.trace.records(Averaged)
    assert G.check_majority(dead) is None and G._at_the_edge(dead)


# --- the split on the double well ---------------------------------------------------------------------


def test_a_minority_quorum_splits_on_the_double_well_and_the_majority_does_not():
    broken = run_algorithm("broken-general-minority-quorum", problem=WELL, params={"n": 4, **SPLIT}, seed=1,
                           adversary=Cut(2))
    mean, lo, hi, pair = G.split_estimate(broken.schedule)
    assert lo > G.DELTA and pair[0] < 2 <= pair[1], (mean, lo, hi, pair)   # the two sides of the cut
    real = run_algorithm("general-sgd", problem=WELL, params={"n": 4, **SPLIT}, seed=1, adversary=Cut(2))
    mean_r, lo_r, hi_r, _ = G.split_estimate(real.schedule)
    assert hi_r < G.DELTA, (mean_r, lo_r, hi_r)
    assert not [s for s, _, _ in G.averages(real) if s < first_across(real.trace, 2)]   # it blocked


def test_a_replay_with_another_seed_keeps_the_events_and_changes_the_noise():
    res = run_algorithm("general-sgd", problem=WELL, params={"n": 3, "T": 3}, adversary="random:seed=2")
    other = G.replay_with_seed(res.schedule, 7)
    assert other.events == res.trace.events and other.digest != res.trace.digest
    assert G.replay_with_seed(res.schedule, 0).digest == res.trace.digest



def test_the_split_message_names_its_estimate(tmp_path):
    """tests/test_properties.py finds, saves and replays the split; here: what its message says."""
    broken = run_algorithm("broken-general-minority-quorum", problem=WELL, params={"n": 4, **SPLIT}, seed=1,
                           adversary=Cut(2))
    message = get_guarantee("general-nonconvex-split").check(broken)
    assert message and "split brain" in message and "95% CI" in message
