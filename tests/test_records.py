"""Typed trace records: a write the algorithm does not declare fails at the writer, a read of an
undeclared key fails at the reader, and the stored form (so every digest) is the plain dict."""

from __future__ import annotations

import pytest

from asyncproof.reference.engine import Output, ProcessSpec, System, run
from asyncproof.reference.adversaries import RoundRobin
from asyncproof.reference.records import ABSENT, ITERATE, Record, UndeclaredRecord, Value, declare, record
from asyncproof.reference.registry import algorithms
from asyncproof.reference.schedule import run_algorithm


@record("round")
class Round(Record):
    r: int
    y: float
    skipped: bool = ABSENT


def _system(write):
    def body(ctx):
        write(ctx)
        yield Output(0.0)
    return System([ProcessSpec(body)], records=declare(Round, Value("note", "a word", kinds=(str,))), name="demo")


def test_a_declared_write_is_stored_as_its_fields_and_read_back_typed():
    trace = run(_system(lambda ctx: (ctx.record(Round(r=1, y=0.5)), ctx.record("round", {"r": 2, "y": 1.0,
                                                                                        "skipped": True}))),
                RoundRobin())
    assert trace.observed("round") == [{"r": 1, "y": 0.5}, {"r": 2, "y": 1.0, "skipped": True}]   # ABSENT not stored
    assert [(x.r, x.skipped) for x in trace.records(Round)] == [(1, ABSENT), (2, True)]


@pytest.mark.parametrize("write, message", [
    (lambda ctx: ctx.record("rond", {"r": 1, "y": 0.5}), "demo records 'rond', which it does not declare"),
    (lambda ctx: ctx.record("round", {"r": 1}), "demo records 'round' without field y"),
    (lambda ctx: ctx.record("round", {"r": 1, "y": 0.5, "why": 2}), "with unknown field why"),
    (lambda ctx: ctx.record("note", 3), "demo records 'note' as int, declared str"),
    (lambda ctx: ctx.record("round", [1, 0.5]), "demo records 'round' as list, not its fields"),
])
def test_a_wrong_write_fails_at_the_writer(write, message):
    with pytest.raises(UndeclaredRecord, match=message):
        run(_system(write), RoundRobin())


def test_a_misspelt_read_fails_at_the_reader():
    trace = run_algorithm("sgd", params={"T": 3}).trace
    assert len(trace.records(ITERATE.key)) == 3 and len(trace.records("j")) == 3
    with pytest.raises(UndeclaredRecord, match=r"a run of sgd has no record 'jj' \(it declares: j, x\)"):
        trace.records("jj")
    assert trace.observed("jj") == []          # the lenient reader, for checks over algorithms of any kind


def test_every_registered_algorithm_declares_its_records():
    undeclared = [a.name for a in algorithms() if a.records is None]
    assert not undeclared, f"no record declaration: {undeclared}"
