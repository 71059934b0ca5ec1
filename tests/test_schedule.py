"""Schedules: save, replay bit for bit, divergence reports, and every corrupt-file case."""

from __future__ import annotations

import json

import pytest

from asyncproof import InputError, load_schedule, replay, run_algorithm
from asyncproof.reference.adversaries import PrefixThen, SeededRandom


@pytest.fixture
def saved(tmp_path):
    res = run_algorithm("minibatch-sgd", params={"T": 4, "b": 3, "n": 2}, seed=11, adversary="random:seed=4")
    return res, res.schedule.save(tmp_path / "run.json")


@pytest.mark.parametrize("adversary", ["roundrobin", "random:seed=2", "pct:d=3,seed=5", "delay:tau=3",
                                       "timed:model=exp,c=1,lam=0.5,seed=1", "timed:model=fixed,s=1/3"])
@pytest.mark.parametrize("algorithm", ["sgd", "minibatch-sgd", "simu-parallel-sgd", "batch-gd"])
def test_every_adversary_replays_bit_for_bit(tmp_path, algorithm, adversary):
    res = run_algorithm(algorithm, params={"T": 3}, seed=2, adversary=adversary)
    rep = replay(load_schedule(res.schedule.save(tmp_path / "s.json")))
    assert rep.reproduced, rep.report()
    assert rep.digest == res.trace.digest
    assert rep.trace.annotations == res.trace.annotations


def test_timed_adversary_records_increasing_time():
    res = run_algorithm("minibatch-sgd", params={"T": 3, "b": 4, "n": 2}, adversary="timed:model=exp,c=1,lam=0.5")
    times = [res.trace.annotations[i]["time"] for i in range(len(res.trace.events))]
    assert times == sorted(times) and times[-1] > 0


def test_removing_one_event_reports_the_divergence_step(saved, tmp_path):
    res, path = saved
    d = json.loads(path.read_text())
    k = next(i for i, e in enumerate(d["events"]) if e.startswith("finish"))
    del d["events"][k]
    d["steps"] -= 1                     # a consistent hand edit: otherwise the file is refused as bad input
    cut = tmp_path / "cut.json"
    cut.write_text(json.dumps(d))
    rep = replay(load_schedule(cut))
    assert not rep.reproduced
    # Other finishes may still be enabled, so the replay can go on a little past k; it stops at
    # the first step whose recorded event is not enabled and says which one it expected.
    step = rep.divergence.step
    assert step >= k and rep.divergence.expected == d["events"][step]
    assert rep.divergence.expected not in rep.divergence.enabled and rep.divergence.enabled
    assert f"diverged at step {step}" in rep.report()


def test_removing_the_first_event_diverges_at_step_0(saved, tmp_path):
    res, path = saved
    d = json.loads(path.read_text())
    del d["events"][0]
    d["steps"] -= 1
    cut = tmp_path / "cut.json"
    cut.write_text(json.dumps(d))
    rep = replay(load_schedule(cut))
    assert rep.divergence.step == 0 and rep.divergence.enabled == [res.trace.events[0]]


def test_truncating_the_event_list_at_the_end_is_not_reproduced(saved, tmp_path):
    res, path = saved
    d = json.loads(path.read_text())
    d["events"] = d["events"][:-1]
    p = tmp_path / "short.json"
    p.write_text(json.dumps(d))
    with pytest.raises(InputError, match="field 'steps' is 29 but the file holds 28 events"):
        load_schedule(p)                                  # inconsistent with its own count: bad input
    d["steps"] -= 1
    p.write_text(json.dumps(d))
    rep = replay(load_schedule(p))                        # consistent, but the run does not end there
    assert not rep.reproduced and rep.divergence is None
    assert "all 28 events replayed, but then the run could go on (max_steps) where the schedule says it quiescent" \
        in rep.report()
    del d["stopped"], d["digest"]                         # nothing left to say where it ends: a prefix
    p.write_text(json.dumps(d))
    rep = replay(load_schedule(p))
    assert rep.reproduced and not rep.checked_digest and rep.report().startswith("ran to the end; no digest")


@pytest.mark.parametrize("extra", [["p7 write zzz", "crash p9"], "double"])
def test_events_after_the_run_ended_are_a_divergence(saved, tmp_path, extra):
    res, path = saved
    d = json.loads(path.read_text())
    n = len(d["events"])
    d["events"] = d["events"] + (d["events"] if extra == "double" else extra)
    d["steps"] = len(d["events"])
    p = tmp_path / "long.json"
    p.write_text(json.dumps(d))
    rep = replay(load_schedule(p))
    assert not rep.reproduced and rep.divergence.step == n and rep.divergence.enabled == []
    assert rep.divergence.expected == d["events"][n]
    assert f"the run had ended (quiescent) after {n} events, and the schedule holds {len(d['events']) - n} more" \
        in rep.report()


def test_prefix_then_another_adversary(saved):
    res, _ = saved
    from asyncproof.reference.schedule import prepare
    from asyncproof.reference.engine import run
    alg, params, problem = prepare("minibatch-sgd", res.schedule.problem, res.schedule.params, 11)
    k = len(res.trace.events) // 2
    trace = run(alg.system(problem, params, 11), PrefixThen(res.trace.events, k, SeededRandom(seed=99)))
    assert trace.events[:k] == res.trace.events[:k]


@pytest.mark.parametrize("mutate, message", [
    (lambda d: "{\"format\": \"asyncproof-sch", "not valid JSON"),
    (lambda d: {**d, "version": 2}, "format version 2"),
    (lambda d: {**d, "format": "other"}, "not an asyncproof schedule"),
    (lambda d: {k: v for k, v in d.items() if k != "events"}, "lacks field"),
    (lambda d: {**d, "algorithm": "no-such-alg"}, "unknown algorithm 'no-such-alg'"),
    (lambda d: {**d, "algorithm": "sgd"}, "are not parameters of sgd"),
    (lambda d: {**d, "params": {**d["params"], "gamma": -1}}, "gamma (step size) must be > 0"),
    (lambda d: {**d, "events": d["events"][:3] + ["jump p3"] + d["events"][3:]}, "field 'events[3]': 'jump p3' is not an event name"),
    (lambda d: {**d, "events": "p0 output"}, "field 'events': 'p0 output' is not of type 'array'"),
    (lambda d: {**d, "digest": "md5:00"}, "field 'digest': 'md5:00' is not a SHA-256 digest"),
    (lambda d: {**d, "problem": {"name": "nope"}}, "unknown problem 'nope'"),
    (lambda d: {**d, "model": {"f": 1, "bogus": 2}}, "field 'model': unknown field 'bogus'"),
    (lambda d: [1, 2, 3], "not an asyncproof schedule"),
])
def test_bad_schedule_files_are_one_line_input_errors(saved, tmp_path, mutate, message):
    _, path = saved
    d = json.loads(path.read_text())
    bad = mutate(d)
    p = tmp_path / "bad.json"
    p.write_text(bad if isinstance(bad, str) else json.dumps(bad))
    with pytest.raises(InputError) as e:
        load_schedule(p)
    assert message in str(e.value)
    assert "\n" not in str(e.value)


def test_missing_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        load_schedule(tmp_path / "nope.json")
