"""The engine: atomic actions, canonical enabled sets, model filters, crashes and recovery."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from asyncproof.reference.adversaries import BoundedDelay, HypothesisAdversary, RoundRobin, SeededRandom
from asyncproof.reference.engine import (Broadcast, Checkpoint, Collect, Engine, Job, Local, Model, Output,
                                         ProcessSpec, Read, Receive, Send, Start, System, Write, event_kind, run)
from asyncproof.reference.errors import InputError


def writer(value):
    def body(ctx):
        yield Write(f"R{ctx.pid}", value)
        view = yield Collect(("R0", "R1"))
        yield Output(tuple(view))
    return body


def two_writers():
    return System([ProcessSpec(writer(10)), ProcessSpec(writer(20))], registers={"R0": None, "R1": None})


def test_collect_is_one_read_per_step_and_interleavable():
    trace = run(two_writers(), RoundRobin())
    collect_steps = [e for e in trace.events if "collect" in e]
    assert len(collect_steps) == 4          # two registers, two processes, one read each
    # Under round-robin both writes happen before any collect reads, so both see both values.
    assert trace.outputs[0] == [(10, 20)] and trace.outputs[1] == [(10, 20)]


def test_a_collect_can_miss_a_write_that_happens_between_its_reads():
    """Exhaustively enumerate schedules: some collect sees R1 unwritten though p1 wrote it before p0 finished."""
    seen = set()

    def explore(prefix):
        class Fixed:
            def choose(self, engine, events):
                k = engine.step_index
                return prefix[k] if k < len(prefix) else 0
        eng = Engine(two_writers(), Fixed())
        trace = eng.run()
        seen.add(tuple(trace.outputs[0]))
        # branch on every step after the prefix where more than one event was enabled
        for k in range(len(prefix), len(trace.events)):
            for c in range(1, trace.enabled_counts[k]):
                explore(tuple(trace.choices[:k]) + (c,))

    explore(())
    assert ((10, None),) in seen and ((10, 20),) in seen


def test_enabled_order_is_oldest_first_and_faults_last():
    def chatty(ctx):
        for i in range(3):
            yield Send(1 - ctx.pid, i, tag=f"m{i}")
        yield Receive(until=lambda ms: len(ms) >= 3)
    eng = Engine(System([ProcessSpec(chatty), ProcessSpec(chatty)]), RoundRobin(), Model(f=1))
    eng.execute(eng.enabled()[0])
    eng.step_index += 1
    events = eng.enabled()
    kinds = [e.kind for e in events]
    assert kinds[-2:] == ["crash", "crash"]
    since = [e.since for e in events if not e.is_fault]
    assert since == sorted(since)


def test_receive_is_enabled_only_when_its_condition_holds():
    def waiter(ctx):
        got = yield Receive(until=lambda ms: len(ms) >= 2, label="two")
        yield Output(sorted(m.payload for m in got))

    def sender(ctx):
        yield Send(0, 1)
        yield Send(0, 2)
    trace = run(System([ProcessSpec(waiter), ProcessSpec(sender)]), RoundRobin())
    i = trace.events.index("p0 receive two [2 msgs]")
    assert sum(1 for e in trace.events[:i] if e.startswith("deliver")) == 2
    assert trace.outputs[0] == [[1, 2]]


def test_jobs_deliver_their_result_to_the_owner():
    def owner(ctx):
        jid = yield Start(Job("w3", "square", lambda: 7 * 7))
        (msg,) = yield Receive(match=lambda m: m.job == jid)
        yield Output(msg.payload)
    trace = run(System([ProcessSpec(owner)]), RoundRobin())
    assert trace.events == ["p0 start w3 square", "finish #0 w3 square", "p0 receive [1 msg]", "p0 output"]
    assert trace.outputs[0] == [49]


def test_crash_budget_and_majority_filter():
    def idle(ctx):
        for i in range(5):
            yield Local(f"tick {i}")
    procs = [ProcessSpec(idle) for _ in range(5)]
    with pytest.raises(InputError, match="no correct majority"):
        Engine(System(procs), RoundRobin(), Model(f=3, majority=True))
    # f = 2 of 5 keeps a majority; the random adversary crashing eagerly stops at 2.
    trace = run(System(procs), SeededRandom(seed=1, crash_prob=1.0), Model(f=2, majority=True))
    assert len(trace.crashed) == 2


def test_crash_recovery_restarts_from_the_checkpoint():
    def counter(ctx):
        start = 0
        for i in range(start, 4):
            yield Checkpoint(i)
            yield Local(f"work {i}")
        yield Output("done")

    def recover(ctx, checkpoint):
        for i in range(checkpoint, 4):
            yield Checkpoint(i)
            yield Local(f"work {i}")
        yield Output(f"recovered at {checkpoint}")

    class CrashOnce:
        def choose(self, engine, events):
            names = [e.name for e in events]
            if engine.step_index == 3 and "crash p0" in names:
                return names.index("crash p0")
            if "recover p0" in names:
                return names.index("recover p0")
            return 0
    trace = run(System([ProcessSpec(counter, recover)]), CrashOnce(), Model(f=1, recovery=True))
    assert trace.crashed == [0] and "recover p0" in trace.events
    assert trace.outputs[0] == ["recovered at 1"]


def test_bounded_delay_filter_forces_overdue_deliveries():
    def sender(ctx):
        for i in range(6):
            yield Send(1, i)
            yield Local(f"busy {i}")

    def receiver(ctx):
        yield Receive(until=lambda ms: len(ms) >= 6)
    tau = 3
    trace = run(System([ProcessSpec(sender), ProcessSpec(receiver)]), BoundedDelay(tau=tau), Model(tau=tau))
    ages = [a for _, kind, a in trace.delays if kind == "deliver"]
    assert max(ages) == tau          # the adversary used the whole bound and never exceeded it


@settings(max_examples=40, deadline=None, derandomize=True, database=None)
@given(st.data(), st.integers(0, 4), st.integers(3, 5))
def test_model_constraints_hold_under_any_adversary(data, tau, n):
    from dataclasses import replace
    from asyncproof.properties.strategies import fault_models

    def sender(ctx):
        yield Broadcast(ctx.pid, tag="hello")
        yield Receive(until=lambda ms: len(ms) >= ctx.n // 2 + 1)
        yield Output("ok")
    model = replace(data.draw(fault_models(n)), tau=tau)
    trace = run(System([ProcessSpec(sender) for _ in range(n)]), HypothesisAdversary(data), model)
    assert len(trace.crashed) <= model.f and (n - len(trace.crashed)) * 2 > n
    # every correct process terminates: a majority is up and receives from a majority
    assert all(trace.outputs.get(p) == ["ok"] for p in range(n) if p not in trace.crashed)
    # crashes do not advance the delay clock, so every delivered message met the bound
    late = [(step, age) for step, kind, age in trace.delays if age > tau]
    assert not late, late


def test_model_validation_errors_are_one_line():
    for model, text in [(Model(f=-1), "f must be"), (Model(tau=-2), "tau must be"),
                        (Model(fairness=0), "fairness"), (Model(crashable=(7,)), "crashable")]:
        with pytest.raises(InputError, match=text) as e:
            Engine(System([ProcessSpec(writer(1))], registers={"R0": 0, "R1": 0}), RoundRobin(), model)
        assert "\n" not in str(e.value)


def test_fairness_bounds_starvation():
    def spinner(ctx):
        for i in range(30):
            yield Local(f"spin {i}")

    def once(ctx):
        yield Local("go")
    trace = run(System([ProcessSpec(spinner), ProcessSpec(once)]), _Newest(), Model(fairness=4))
    assert trace.events.index("p1 go") <= 4


class _Newest:
    def choose(self, engine, events):
        return 0 if events[0].name.startswith("p0") else len(events) - 1


def test_digest_is_bit_sensitive():
    def out(v):
        def body(ctx):
            yield Output(np.array([v]))
        return body
    a = run(System([ProcessSpec(out(0.1 + 0.2))]), RoundRobin()).digest
    b = run(System([ProcessSpec(out(0.3))]), RoundRobin()).digest
    assert a != b and a.startswith("sha256:")


def test_event_names_grammar():
    assert event_kind("p3 write x") == "step"
    assert event_kind("deliver #4 p1->p2 round 2") == "deliver"
    assert event_kind("finish #0 w1 grad") == "finish"
    assert event_kind("crash p2") == "crash" and event_kind("recover p10") == "recover"
    assert event_kind("jump p3") is None and event_kind("") is None


def test_read_of_unknown_register_is_a_clear_error():
    def bad(ctx):
        yield Read("nope")
    with pytest.raises(InputError, match="register 'nope' does not exist"):
        run(System([ProcessSpec(bad)]), RoundRobin())


def test_stop_ends_running_jobs_and_frees_the_timed_workers():
    """``Stop``: a running job never finishes and is reported stopped; a job whose result already
    arrived is not (its result stays receivable); the timed adversary frees the stopped worker at
    once, so its next job starts at the time of the stop, not when the stopped one would have ended."""
    from asyncproof.reference.adversaries import Timed
    from asyncproof.reference.engine import Stop
    from asyncproof.reference.timing import Fixed

    def body(ctx):
        fast = yield Start(Job("w0", "fast", lambda: "fast"))
        slow = yield Start(Job("w1", "slow", lambda: "slow"))
        (msg,) = yield Receive(until=lambda ms: len(ms) >= 1, label="first")
        stopped = yield Stop((fast, slow), label="both")
        yield Output((msg.payload, stopped))
        again = yield Start(Job("w1", "again", lambda: "again"))
        (msg,) = yield Receive(until=lambda ms: len(ms) >= 1, match=lambda m: m.job == again, label="again")
        yield Output(msg.payload)

    adv = Timed(models={"w0": Fixed(1.0), "w1": Fixed(10.0)})
    trace = run(System([ProcessSpec(body)]), adv)
    assert trace.outputs[0][0] == ("fast", [1])             # job #0 had finished: only #1 stopped
    assert "p0 stop both" in trace.events
    assert not any(e.startswith("finish #1") for e in trace.events)
    assert [v for (_, _, k, v) in trace.observations if k == "job_stopped"] == [1]
    assert trace.outputs[0][1] == "again"
    assert trace.annotations[len(trace.events) - 1]["time"] == 11.0    # started at 1 (the stop), took 10
