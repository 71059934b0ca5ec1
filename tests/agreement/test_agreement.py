"""MidExtremes, provenance, the cluster model and the cluster agreement (seed 000).

The readings written in the modules' docstrings are each tested here: the MidExtremes
tie-break, the return line, a skipping process's X, recovery from the own register; and
every kind of bad input is a one-line InputError (exit status 2 from the CLI).
"""

from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from asyncproof.cli import main as cli
from asyncproof.reference.adversaries import Adversary, RoundRobin
from asyncproof.reference.agreement.cluster_agreement import ClusterOutput, Skipped, Written
from asyncproof.reference.agreement.cluster_model import Clusters, Member, fault_model, worst_crashes
from asyncproof.reference.agreement.midextremes import (apply_rule, average_weights, diameter, diameter_pair,
                                                       mid_extremes, mid_extremes_weights, resolve_rule)
from asyncproof.reference.agreement.provenance import Point, certify, combine, convex_weights, hull_distance, input_point
from asyncproof.reference.engine import Model
from asyncproof.reference.errors import InputError
from asyncproof.reference.schedule import replay, run_algorithm

GRID = st.integers(-3, 3).map(float)


def points(X):
    return [input_point(x, i, len(X)) for i, x in enumerate(X)]


# --------------------------------------------------------------------------------------
# MidExtremes and its tie-break


def test_midextremes_is_the_midpoint_of_the_diameter():
    X = [[0.0, 0.0], [4.0, 0.0], [0.0, 2.0], [1.0, 1.0]]
    out = mid_extremes(points(X))
    assert out.x.tolist() == [2.0, 1.0]                            # (4, 0)-(0, 2) realise the diameter √20
    assert out.w == (0, Fraction(1, 2), Fraction(1, 2), 0)


def test_tie_break_takes_the_lexicographically_smallest_pair_of_values():
    square = [[1.0, 1.0], [0.0, 1.0], [0.0, 0.0], [1.0, 0.0]]     # both diagonals have length √2
    a, b = diameter_pair(np.array(square))
    assert sorted((tuple(square[a]), tuple(square[b]))) == [(0.0, 0.0), (1.0, 1.0)]
    assert mid_extremes(points(square)).x.tolist() == [0.5, 0.5]


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_midextremes_depends_on_the_values_only(data):
    d = data.draw(st.integers(1, 3))
    X = data.draw(st.lists(st.lists(GRID, min_size=d, max_size=d), min_size=1, max_size=6))
    perm = data.draw(st.permutations(range(len(X))))
    a = mid_extremes([Point(x) for x in X]).x
    b = mid_extremes([Point(X[i]) for i in perm]).x
    assert a.tobytes() == b.tobytes()                              # bit for bit, whatever the order
    i, j = diameter_pair(np.array(X))
    best = max(sum((u - v) ** 2 for u, v in zip(p, q)) for p, q in itertools.combinations(X, 2)) if len(X) > 1 else 0
    assert sum((u - v) ** 2 for u, v in zip(X[i], X[j])) == best
    assert diameter(X) == pytest.approx(best ** 0.5)


def test_one_value_or_equal_values_give_that_value():
    assert mid_extremes([Point([3.0, -1.0])]).x.tolist() == [3.0, -1.0]
    assert mid_extremes([Point([2.0]), Point([2.0]), Point([2.0])]).x.tolist() == [2.0]
    assert mid_extremes_weights(np.zeros((1, 2))) == (1,)


def test_average_and_user_rules():
    X = points([[0.0], [3.0], [6.0]])
    assert apply_rule("average", X).x.tolist() == [3.0]
    assert average_weights(np.zeros((3, 1))) == (Fraction(1, 3),) * 3
    user = apply_rule("asyncproof.proofs.claims.agreement.agreement_validity:softmax", X)
    assert certify(user, [[0.0], [3.0], [6.0]]) is None and 3.0 < user.x[0] < 6.0


@pytest.mark.parametrize("spec, text", [
    ("median", "unknown aggregate rule 'median'"),
    ("no.such.module:f", "cannot be loaded"),
    ("asyncproof.reference.agreement.midextremes:RULES", "is not a function"),
    (3, "must be a name"),
])
def test_bad_rules(spec, text):
    with pytest.raises(InputError, match=text):
        resolve_rule(spec)


@pytest.mark.parametrize("lam, text", [
    ((Fraction(1, 2),), "returned 1 weights for 2 values"),
    ((Fraction(3, 2), Fraction(-1, 2)), "< 0: not a convex combination"),
    ((Fraction(1, 2), Fraction(1, 3)), "summing to 5/6"),
    ((0.5, float("nan")), "not finite"),
    ((0.7, 0.7), "summing to 1.4"),
    (("a", 1), "not a number"),
    (None, "must return a sequence"),
])
def test_non_convex_weights_are_refused(lam, text):
    with pytest.raises(InputError, match=text) as e:
        convex_weights(lam, 2, "rule 'r'")
    assert "\n" not in str(e.value)


def test_float_weights_are_taken_exactly_and_normalised():
    w = convex_weights((0.1, 0.2, 0.7), 3, "rule")
    assert sum(w) == 1 and all(isinstance(v, Fraction) for v in w)


# --------------------------------------------------------------------------------------
# provenance


def test_points_are_immutable_and_shared_by_copies():
    import copy
    p = Point([1.0, 2.0], (Fraction(1),))
    assert copy.deepcopy(p) is p
    with pytest.raises(AttributeError):
        p.x = np.zeros(2)
    with pytest.raises(ValueError):
        p.x[0] = 5.0
    src = np.array([1.0, 2.0])
    q = Point(src)
    src[0] = 9.0                                   # the caller's array is copied
    assert q.x.tolist() == [1.0, 2.0]
    assert repr(Point([0.5], (Fraction(1, 3),))) == "Point([0x1.0000000000000p-1], (1/3))"


def test_certify_catches_every_kind_of_invalid_value():
    X = [[0.0], [2.0]]
    assert certify(combine(points(X), (Fraction(1, 4), Fraction(3, 4))), X) is None
    assert "sum to 1/2" in certify(Point([0.5], (Fraction(1, 4), Fraction(1, 4))), X)
    assert "< 0" in certify(Point([-2.0], (Fraction(2), Fraction(-1))), X)
    assert "no provenance" in certify(Point([1.0]), X)
    assert "3 weights for 2 inputs" in certify(Point([1.0], (1, 0, 0)), X)
    assert "differs by" in certify(Point([1.5], (Fraction(1, 2), Fraction(1, 2))), X)


def test_hull_distance_agrees_with_the_geometry():
    tri = [[0.0, 0.0], [4.0, 0.0], [0.0, 4.0]]
    assert hull_distance(tri, [1.0, 1.0]) < 1e-9
    assert hull_distance(tri, [3.0, 3.0]) == pytest.approx(1.0, abs=1e-7)   # ∞-norm to (2, 2)
    assert hull_distance([[1.0, 1.0]], [1.0, 1.0 + 1e-3]) == pytest.approx(1e-3, rel=1e-4)


# --------------------------------------------------------------------------------------
# the cluster model


@pytest.mark.parametrize("spec, text", [
    ([], "non-empty list"),
    ([2, 0, 1], "cluster 1 is empty"),
    ([[0, 1], []], "cluster 1 is empty"),
    ([[0, 1], [1, 2]], "clusters overlap: p1 is in cluster 0 and in cluster 1"),
    ([[0, 2]], "p1 is in no cluster"),
    ([[0], 1], "all sizes or all pid lists"),
    ([[0, -1]], "non-negative integer pids"),
    ("3", "non-empty list"),
])
def test_bad_clusters(spec, text):
    with pytest.raises(InputError, match=text) as e:
        Clusters.parse(spec)
    assert "\n" not in str(e.value)


def test_representation_and_majority():
    c = Clusters.parse([[0, 3], [1], [2, 4, 5]])
    assert c.n == 6 and c.cluster_of(5) == 2 and c.index_of(3) == 1
    assert c.represented([2]) == 3 and not c.majority([2]) and c.majority([2, 1])
    assert c.array(2) == ("c2.A[0]", "c2.A[1]", "c2.A[2]") and c.array(0, 4) == ("c0.r4.A[0]", "c0.r4.A[1]")
    assert Member.of(c, 4) == Member(4, 2, 1)


def test_fault_patterns_follow_representation_not_process_counts():
    c = Clusters.parse([4, 1, 1])
    # three crashes in the big cluster leave 4 of 6 represented: allowed, though 3 of 6 processes are down
    m = fault_model(c, crashable=[1, 2, 3], f=3)
    assert isinstance(m, Model) and m.f == 3 and m.crashable == (1, 2, 3) and not m.majority
    assert worst_crashes(c, [0, 1, 2, 3, 4], 4) == (0, 1, 2, 3)          # the big cluster, not two singletons
    assert worst_crashes(c, [0, 1, 2, 3, 4], 5) == (0, 1, 2, 3, 4)
    with pytest.raises(InputError, match="no correct majority: crashing p0, p1, p2, p3"):
        fault_model(c, crashable=[0, 1, 2, 3], f=4)
    fault_model(c, crashable=[0, 1, 2, 3], f=4, need_majority=False)      # the "no majority" properties' pattern
    with pytest.raises(InputError, match="not processes"):
        fault_model(c, crashable=[7])
    with pytest.raises(InputError, match="non-negative integer"):
        fault_model(c, crashable=[1], f=-1)


# --------------------------------------------------------------------------------------
# the cluster agreement, line by line


class Scripted(Adversary):
    """Picks, at each step, the first enabled event whose name starts with one of ``order``
    (in the list's order), else the benign one."""

    def __init__(self, *order: str):
        self.order = list(order)

    def choose(self, engine, events):
        names = [e.name for e in events]
        while self.order:
            want = self.order[0]
            hits = [i for i, n in enumerate(names) if n.startswith(want)]
            if hits:
                self.order.pop(0)
                return hits[0]
            break
        normal = [i for i, e in enumerate(events) if not e.is_fault]
        return normal[0] if normal else 0


INPUTS3 = [[0.0], [10.0], [4.0]]


def run3(adversary, T=3, **kw):
    return run_algorithm("cluster-agreement", problem={"name": "quadratic", "params": {"d": 1}},
                         params={"clusters": [3], "T": T, "inputs": INPUTS3, **kw}, adversary=adversary)


def test_a_solo_process_runs_to_the_last_round_and_the_others_skip_and_return_its_value():
    # p2 writes, collects an array where only its own value is set, and repeats: MidExtremes of {x2}
    res = run3(Scripted(*["p2"] * 9))
    writes = [w for w in res.trace.records(Written)]
    assert [(w.j, w.round) for w in writes[:3]] == [(2, 1), (2, 2), (2, 3)]
    assert {o[-1].tolist()[0] for o in res.trace.outputs.values()} == {4.0}
    skips = res.trace.records(Skipped)
    assert {(s.from_, s.to) for s in skips} == {(1, 3)}
    # the return line: a process that skipped to the last round returns the value of the lowest j with that round
    outs = {(o.round, o.from_) for o in res.trace.records(ClusterOutput)}
    assert outs == {(3, 2)}


def test_the_return_line_is_the_last_rounds_value_own_value_first():
    res = run3(RoundRobin())
    assert [o.from_ for o in res.trace.records(ClusterOutput)] == [0, 1, 2]    # each its own, round 3
    assert {o.round for o in res.trace.records(ClusterOutput)} == {3}


def test_one_round_returns_the_input():
    res = run3(RoundRobin(), T=1)
    assert [o[-1].tolist() for _, o in sorted(res.trace.outputs.items())] == INPUTS3
    assert not res.trace.records(Skipped)


def test_a_skipped_process_computes_midextremes_of_the_others_values_without_its_own():
    # p0, p1 write and reach round 2 on {x0, x1}; p2 writes x2 = 4 late, sees round 2 and skips;
    # its next MidExtremes is over the round-2 values only: its own x2 is not in X
    res = run3(Scripted("p0 write", "p1 write", "p0 collect", "p1 collect", "p0 collect", "p1 collect",
                        "p0 collect", "p1 collect", "p0 write", "p1 write", "p2 write", "p2 collect",
                        "p2 collect", "p2 collect", "p2 collect", "p2 collect", "p2 collect", "p2 write"), T=3)
    w2 = [w for w in res.trace.records(Written) if w.j == 2 and w.round == 3]
    assert res.trace.records(Skipped)[0] == Skipped(inst=0, c=0, from_=1, to=2)
    assert w2 and w2[0].view == [2, 2, 1] and w2[0].x.tolist() == [5.0]


def test_the_collect_is_a_sequence_of_single_reads_the_adversary_interleaves():
    res = run3(RoundRobin())
    collects = [e for e in res.trace.events if " collect " in e]
    assert collects[:3] == ["p0 collect c0.A[0] (1/3)", "p1 collect c0.A[0] (1/3)", "p2 collect c0.A[0] (1/3)"]


def test_recovery_resumes_from_the_own_register_and_never_writes_a_lower_round():
    # p0 reaches round 2, crashes, and recovers after the others reached round 3
    res = run_algorithm("cluster-agreement", problem={"name": "quadratic", "params": {"d": 1}},
                        params={"clusters": [3], "T": 3, "inputs": INPUTS3}, model={"f": 1, "recovery": True},
                        adversary=Scripted("p0 write", "p1 write", "p2 write", *["p0 collect"] * 3, "p0 write",
                                           "crash p0", *["p1"] * 7, *["p2"] * 7, "recover p0"))
    assert res.trace.crashed == [0] and "recover p0" in res.trace.events
    mine = [w.round for w in res.trace.records(Written) if w.j == 0]
    assert mine == sorted(set(mine))                                   # strictly increasing: no rewrite of round 1
    after = res.trace.events.index("recover p0")
    assert res.trace.events[after + 1] == "p0 read c0.A[0]"           # it reads its own register first
    assert 0 in res.trace.outputs and len({o[-1].tolist()[0] for o in res.trace.outputs.values()}) == 1
    assert replay(res.schedule).reproduced


# --------------------------------------------------------------------------------------
# bad input: one line, exit status 2


BAD_PARAMS = [
    ("cluster-agreement", {"clusters": [2, 0]}, "cluster 1 is empty"),
    ("mdaa", {"clusters": [[0, 1], [1, 2]]}, "clusters overlap"),
    ("mdaa", {"clusters": [2, 1], "inputs": [[0.0, 1.0], [1.0], [2.0, 2.0]]}, "different dimensions"),
    ("mdaa", {"clusters": [2, 1], "inputs": [[0.0, 1.0], [float("nan"), 1.0], [2.0, 2.0]]}, "is not finite"),
    ("mdaa", {"clusters": [2, 1], "inputs": [[0.0, 1.0], [1.0, 1.0]]}, "gives 2 vectors"),
    ("mdaa", {"clusters": [2, 1], "inputs": [[0.0], [1.0], [2.0]]}, "pass --problem-param d=1"),
    ("mdaa", {"q": 1.5}, "q must be in (0, 1)"),
    ("mdaa", {"q": 0.0}, "q must be in (0, 1)"),
    ("mdaa", {"eps": 1.0}, "eps (the in-cluster precision) must be in (0, 1)"),
    ("mdaa", {"K": 1}, "contracts nothing per round"),
    ("mdaa", {"rule": "median"}, "unknown aggregate rule"),
    ("mdaa", {"rule": "asyncproof.proofs.claims.agreement.agreement_validity:softmax"}, "no known contraction constant: give T"),
    ("mdaa", {"T": 0}, "T (the rounds R) must be >= 1"),
    ("cluster-agreement", {"T": 0}, "T (rounds) must be >= 1"),
]


@pytest.mark.parametrize("alg, params, text", BAD_PARAMS)
def test_bad_parameters_are_one_line_input_errors(alg, params, text):
    with pytest.raises(InputError) as e:
        run_algorithm(alg, params=params)
    assert text in str(e.value) and "\n" not in str(e.value), str(e.value)


def test_the_cli_exits_2_with_the_message(capsys):
    assert cli(["run", "mdaa", "--param", "q=2"]) == 2
    assert "q must be in (0, 1), got 2.0" in capsys.readouterr().err
    assert cli(["run", "cluster-agreement", "--param", "clusters=[[0,1],[1]]"]) == 2
    assert "clusters overlap" in capsys.readouterr().err
    assert cli(["run", "mdaa", "--param", "inputs=[[0,0],[1],[2,2],[3,3],[4,4]]"]) == 2
    assert "different dimensions" in capsys.readouterr().err
    assert cli(["run", "mdaa", "--param", "inputs=[[0,0],[NaN,1],[2,2],[3,3],[4,4]]"]) == 2
    assert "is not finite" in capsys.readouterr().err


def test_the_cli_runs_and_saves_a_schedule_that_replays(tmp_path, capsys):
    path = tmp_path / "ca.json"
    assert cli(["run", "cluster-agreement", "--adversary", "random:seed=2", "--save", str(path)]) == 0
    out = capsys.readouterr().out
    assert "worst_factor" in out and "kappa" in out
    assert cli(["replay", str(path)]) == 0 and "reproduced" in capsys.readouterr().out
