"""MDAA across clusters (seed 000): the readings of its docstring, recovery, the API, R from q.

Each scenario is a hand-made schedule (an adversary that picks events by name or slows a
process down), so the test states exactly which interleaving it is about.
"""

from __future__ import annotations

import json
import re
import os
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest

import asyncproof
import asyncproof.properties  # noqa: F401  (registers the broken variants)
from asyncproof.properties import get_guarantee
from asyncproof.properties.agreement.mdaa import check_mdaa_rounds
from asyncproof.reference.adversaries import Adversary, RoundRobin
from asyncproof.reference.agreement import mdaa
from asyncproof.reference.agreement.cluster_model import Clusters, Member, fault_model
from asyncproof.reference.agreement.provenance import certify, input_point
from asyncproof.reference.engine import Output, ProcessSpec, System, run
from asyncproof.reference.problems import make_problem
from asyncproof.reference.schedule import replay, run_algorithm

from test_agreement import Scripted

LINE = {"name": "quadratic", "params": {"d": 1}}


class Slow(Adversary):
    """Benign, except that the processes in ``slow`` step only when nothing else can happen;
    ``crash`` is a list of (pid, after which of its own events) to crash."""

    def __init__(self, *slow: int, crash=()):
        self.slow, self.crash, self.count = set(slow), dict(crash), {}

    def choose(self, engine, events):
        for i, e in enumerate(events):
            if e.kind == "crash" and self.count.get(e.pid, 0) >= self.crash.get(e.pid, 1 << 30):
                self.crash.pop(e.pid)
                return i
        normal = [i for i, e in enumerate(events) if not e.is_fault]
        fast = [i for i in normal if events[i].kind != "step" or events[i].pid not in self.slow]
        pick = (fast or normal or [0])[0]
        e = events[pick]
        if e.kind == "step":
            self.count[e.pid] = self.count.get(e.pid, 0) + 1
        return pick


def outputs(res) -> dict:
    return {p: o[-1].tolist() for p, o in sorted(res.trace.outputs.items())}


# --------------------------------------------------------------------------------------
# the readings


def test_a_majority_of_processes_not_of_clusters():
    # clusters [3, 1, 1]: p3 and p4 crash first; cluster 0 alone represents 3 of 5 processes
    params = {"clusters": [3, 1, 1], "T": 2, "K": 2, "inputs": [[0.0], [1.0], [2.0], [8.0], [9.0]]}
    model = fault_model([3, 1, 1], crashable=[3, 4], f=2).to_json()
    real = run_algorithm("mdaa", problem=LINE, params=params, model=model, adversary=Scripted("crash p3", "crash p4"))
    assert set(outputs(real)) == {0, 1, 2} and real.trace.stopped == "quiescent"
    broken = run_algorithm("broken-mdaa-majority-of-clusters", problem=LINE, params=params, model=model,
                           adversary=Scripted("crash p3", "crash p4"))
    assert outputs(broken) == {} and broken.trace.stopped == "quiescent"         # 1 of 3 clusters: blocked
    msg = get_guarantee("agreement-termination").check(broken)
    assert "p0, p1, p2 are up and never decided" in msg


def test_values_are_aggregated_by_sender_pid_never_by_arrival():
    # the average of 1e16, 1, -1e16 depends on the order of the sum; deliveries in opposite orders
    params = {"clusters": [1, 1, 1], "T": 1, "K": 1, "rule": "average", "inputs": [[1e16], [1.0], [-1e16]]}
    first = ["p0", "p1", "p2"] * 3                              # write, checkpoint, broadcast (K = 1)
    fifo = Scripted(*first, *[f"deliver #{k} " for k in range(9)])
    reverse = Scripted(*first, *[f"deliver #{k} " for k in reversed(range(9))])
    a = run_algorithm("mdaa", problem=LINE, params=params, adversary=fifo)
    b = run_algorithm("mdaa", problem=LINE, params=params, adversary=reverse)
    assert [x.senders for x in a.trace.records(mdaa.Aggregated)] == [[0, 1, 2]] * 3
    assert [x.senders for x in b.trace.records(mdaa.Aggregated)] == [[0, 1, 2]] * 3
    assert a.trace.events != b.trace.events and outputs(a) == outputs(b)
    third = float(Fraction(1, 3))
    want = (third * 1e16 + third * 1.0) + third * -1e16                  # in pid order
    assert outputs(a)[0] == [want]


def test_skipping_aggregates_the_later_round_instead_of_keeping_the_old_value():
    params = {"clusters": [1, 1, 1], "T": 2, "K": 1, "inputs": [[0.0], [4.0], [100.0]]}
    res = run_algorithm("mdaa", problem=LINE, params=params, adversary=Slow(2))
    skip = [a for a in res.trace.records(mdaa.Aggregated) if a.skip]
    assert len(skip) == 1 and skip[0].from_ == 1 and skip[0].r == 2
    assert len({tuple(v) for v in outputs(res).values()}) == 1                  # p2 decides what the others did
    assert get_guarantee("agreement-contraction").check(res) is None
    broken = run_algorithm("broken-mdaa-skip-keeps-value", problem=LINE, params=params, adversary=Slow(2))
    assert outputs(broken)[2] == [100.0]                                        # its input, kept through the skip
    # its Aggregate is not MidExtremes of what the round-2 senders sent (and MDAA round 2 does not contract)
    assert "p2's Aggregate of round 2 [100] is not MidExtremes of the view's 2 values [2], [2]" in \
        get_guarantee("agreement-contraction").check(broken)
    assert "MDAA round 2" in check_mdaa_rounds(broken)


def test_without_a_majority_nobody_decides_and_nothing_splits():
    params = {"clusters": [1, 1, 1, 1, 1], "T": 1, "K": 1}
    model = fault_model([1] * 5, crashable=[2, 3, 4], f=3, need_majority=False).to_json()
    res = run_algorithm("mdaa", params=params, model=model, adversary=Scripted("crash p2", "crash p3", "crash p4"))
    assert res.trace.stopped == "quiescent" and outputs(res) == {}              # safety without liveness
    assert get_guarantee("agreement-no-split").check(res) is None
    with pytest.raises(asyncproof.InputError, match="no correct majority"):
        fault_model([1] * 5, crashable=[2, 3, 4], f=3)                          # where the run needs one


def test_half_is_not_a_majority_the_partition_splits():
    params = {"clusters": [1, 1], "T": 1, "K": 1, "inputs": [[0.0], [1.0]]}
    solo = ["p0"] * 3 + ["p1"] * 3 + ["deliver #0 p0->p0", "deliver #3 p1->p1"]     # write, checkpoint, broadcast
    adv = Scripted(*solo, "p0 receive", "p1 receive")
    res = run_algorithm("broken-mdaa-waits-for-half", problem=LINE, params=params, adversary=adv)
    assert outputs(res) == {0: [0.0], 1: [1.0]}
    assert "split: in round 1" in get_guarantee("agreement-no-split").check(res)
    real = run_algorithm("mdaa", problem=LINE, params=params, adversary=Scripted(*solo))
    assert outputs(real) == {0: [0.5], 1: [0.5]}


# --------------------------------------------------------------------------------------
# recovery


def _lost_messages(**replace):
    """p2 has the round-1 messages of p0 and p1 in its inbox, crashes before receiving them, and
    recovers after p0 and p1 decided: the messages it waits for are gone.  ``replace``: named steps
    of ``mdaa`` replaced (``help_request``, ``answer``); tests/agreement/test_agreement_faults.py runs it too."""
    params = {"clusters": [1, 1, 1], "T": 1, "K": 1, "inputs": [[0.0], [3.0], [9.0]], "q": 0.1, "eps": 0.25,
              "rule": "midextremes", "provenance": True}
    system = mdaa.build(make_problem("quadratic", d=1), params, 0, mdaa.ALGORITHM.steps.replace(**replace))

    class Adv(Adversary):
        def choose(self, engine, events):
            names = [e.name for e in events]
            done = {0, 1} <= set(engine.trace.outputs)
            if done and "crash p2" in names and not engine.trace.crashed:
                return names.index("crash p2")
            normal = [i for i, e in enumerate(events) if not e.is_fault
                      and not (e.name.startswith("p2 receive") and not engine.trace.crashed)]
            return normal[0] if normal else len(events) - 1

    return run(system, Adv(), fault_model([1, 1, 1], crashable=[2], f=1, recovery=True))


def test_a_recovered_process_asks_for_help_and_rejoins_by_skipping():
    trace = _lost_messages()
    assert trace.crashed == [2] and "recover p2" in trace.events and 2 in trace.outputs
    assert "p2 broadcast help" in trace.events
    assert any(e.startswith("p0 send ->p2 round 1") for e in trace.events)     # answered after deciding
    assert len({o[-1].tolist()[0] for o in trace.outputs.values()}) == 1


def test_without_the_help_request_a_recovered_process_waits_forever():
    trace = _lost_messages(help_request=lambda r: None)      # no help request
    assert trace.stopped == "quiescent" and "recover p2" in trace.events and 2 not in trace.outputs


def test_recovery_resumes_from_the_checkpoint_and_never_moves_back():
    params = {"clusters": [2, 1], "T": 2, "K": 2, "inputs": [[0.0], [2.0], [6.0]]}
    # one crash (with crashes left in the budget the engine keeps offering them after everybody decided)
    model = fault_model([2, 1], crashable=[1], f=1, recovery=True).to_json()
    res = run_algorithm("mdaa", problem=LINE, params=params, model=model, adversary=Slow(1, crash=[(1, 6)]))
    assert res.trace.crashed == [1] and 1 in res.trace.outputs
    rounds = res.trace.records(mdaa.ROUND.key, 1)
    assert rounds == sorted(rounds)
    assert get_guarantee("agreement-recovery").check(res) is None
    broken = run_algorithm("broken-mdaa-restarts", problem=LINE, params=params, model=model,
                           adversary=Slow(1, crash=[(1, 6)]))
    assert "back" in get_guarantee("agreement-recovery").check(broken) or \
        "same round again" in get_guarantee("agreement-recovery").check(broken)
    assert replay(res.schedule).reproduced


# --------------------------------------------------------------------------------------
# typed records: a write is checked at the writer


def test_a_misspelt_or_missing_field_is_an_error_at_the_writer():
    """A step that writes the cluster agreement's ``"skip"`` record with a misspelt field (``form``
    for ``from``), or without one, is an UndeclaredRecord raised by its ``ctx.record`` in the run,
    not a KeyError (or a silent miss) in a reader later; so is the attribute name ``from_`` as a
    stored key, a plain value of the wrong type, and a reader asking for a record MDAA never writes."""
    from asyncproof.reference.agreement.cluster_agreement import ClusterOutput, Skipped
    from asyncproof.reference.records import UndeclaredRecord, check_write
    from asyncproof.strategies import with_steps

    def misspelt_skip(ctx, clusters, me, r):
        ctx.record("skip", {"inst": 0, "c": me.cluster, "form": r, "to": r + 1})
        yield from ()

    def skip_without_to(ctx, clusters, me, r):
        ctx.record("skip", {"inst": 0, "c": me.cluster, "from": r})
        yield from ()

    params = {"clusters": [2, 1], "T": 1, "K": 2}
    names = r" \(declared: inst, c, from, to\)"
    for step, match in ((misspelt_skip, r"my-mdaa records 'skip' with unknown field form" + names),
                        (skip_without_to, r"my-mdaa records 'skip' without field to" + names)):
        with pytest.raises(UndeclaredRecord, match=match) as e:
            run_algorithm(with_steps("mdaa", "my-mdaa", proceed=step), params=params)
        assert [entry for entry in e.traceback if entry.name == step.__name__], "not raised at the writer"
        assert e.value.partial_schedule.events[-1] == "p0 write c0.r1.A[0]"     # at the step of the first write
    declared = mdaa.ALGORITHM.records
    with pytest.raises(UndeclaredRecord, match="'aggregate' with unknown field from_"):
        check_write(declared, "aggregate", {"r": 1, "from_": 1, "senders": [0], "skip": False, "y": None}, "mdaa")
    with pytest.raises(UndeclaredRecord, match="records 'round' as float, declared int"):
        check_write(declared, "round", 1.0, "mdaa")
    with pytest.raises(UndeclaredRecord, match="records 'cluster_output' as Skipped, declared ClusterOutput"):
        check_write(declared, "cluster_output", Skipped(inst=0, c=0, from_=1, to=2), "mdaa")
    # the typed form is stored as the fields, "from" under its own name
    out = ClusterOutput(inst=1, c=0, round=2, from_=1)
    assert check_write(declared, out, None, "mdaa") == {"inst": 1, "c": 0, "round": 2, "from": 1}
    res = run_algorithm("cluster-agreement", params={"clusters": [2], "T": 2})
    with pytest.raises(UndeclaredRecord, match="a run of cluster-agreement has no record 'aggregate'"):
        res.trace.records(mdaa.Aggregated)


# --------------------------------------------------------------------------------------
# R from q, rules, the process-level API


def test_rounds_are_derived_from_q_and_eps():
    res = run_algorithm("mdaa", params={"q": 0.5, "eps": 0.5, "clusters": [1, 1, 1]}, seed=3)
    K = mdaa.inner_rounds_for(0.5)
    kappa = mdaa.kappa_round("midextremes", mdaa.cluster_precision(K), 3)
    R = res.metrics["R"]
    assert res.metrics["K"] == K == 10
    assert kappa ** (2 * R) <= 0.5 < kappa ** (2 * (R - 1))
    assert res.metrics["q_guaranteed"] <= 0.5 and res.metrics["contraction"] <= 0.5
    # the average's constant 1 − (1 − ε)/n grows with n, MidExtremes' does not: the bounds cross near n = 25
    assert mdaa.rounds_for(0.5, K, "average", 3) < R < mdaa.rounds_for(0.5, K, "average", 50)


def test_a_user_rule_from_the_command_line(capsys):
    from asyncproof.cli import main
    assert main(["run", "mdaa", "--param", "rule=asyncproof.proofs.claims.agreement.agreement_validity:softmax",
                 "--param", "T=2", "--param", "K=2", "--adversary", "random:seed=1"]) == 0
    assert re.search(r"\n  outputs +5\n", capsys.readouterr().out)


def test_the_process_level_api_runs_two_instances_in_one_process():
    clusters = Clusters.parse([2, 1])
    first = mdaa.MDAA(clusters, R=2, K=2, name="t1")
    second = mdaa.MDAA(clusters, R=1, K=2, rule="average", name="t2")
    X = [[0.0, 0.0], [4.0, 0.0], [0.0, 4.0]]

    def body(pid):
        def gen(ctx):
            me = Member.of(clusters, pid)
            y, _ = yield from first.agree(ctx, me, input_point(X[pid], pid, 3))
            z, _ = yield from second.agree(ctx, me, y)
            yield Output(z)
        return gen

    trace = run(System([ProcessSpec(body(p)) for p in range(3)], registers={**first.registers(), **second.registers()}),
                RoundRobin())
    assert sorted(first.registers())[:2] == ["t1.c0.r1.A[0]", "t1.c0.r1.A[1]"]
    assert any(e.endswith("t2 round 1") for e in trace.events)
    zs = [o[-1] for o in trace.outputs.values()]
    assert len(zs) == 3 and all(certify(z, X) is None for z in zs)
    assert len({z.x.tobytes() for z in zs}) == 1


@pytest.mark.slow
def test_both_algorithms_replay_in_a_fresh_process_without_the_jit(tmp_path):
    paths = []
    model = fault_model([2, 1, 2], crashable=[1, 4], f=3, recovery=True).to_json()
    for alg in ("cluster-agreement", "mdaa"):
        params = {"clusters": [2, 1, 2], "T": 2} | ({"K": 3} if alg == "mdaa" else {})
        res = run_algorithm(alg, params=params, seed=5, adversary="random:seed=7,crash_prob=0.05", model=model)
        paths.append(str(res.schedule.save(tmp_path / f"{alg}.json")))
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1",
           "PYTHONPATH": str(Path(asyncproof.__file__).resolve().parents[1])}
    out = subprocess.run([sys.executable, "-m", "asyncproof", "replay", *paths], env=env, cwd=tmp_path,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    for p in paths:
        assert f"{p}: reproduced {json.loads(Path(p).read_text())['digest']}" in out.stdout
