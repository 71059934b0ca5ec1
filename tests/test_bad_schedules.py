"""The corpus of bad schedule files (tests/data/bad-schedules/), and a fuzz test of replay.

Every corpus file goes through ``asyncproof replay`` as a user would run it: bad input is
exit 2 with one line naming the field, a changed event list is a divergence (exit 1), a
file without a digest replays and reports the digest it reached (exit 0).  Never a
traceback, never "reproduced" for events that are not the run's.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from asyncproof.cli import main

CORPUS = Path(__file__).parent / "data" / "bad-schedules"
EXPECTED = json.loads((CORPUS / "expected.json").read_text())


def replay_cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["replay", *args])
    return code, out.getvalue(), err.getvalue()


def test_the_corpus_is_complete():
    files = {p.name for p in CORPUS.glob("*.json")} - {"expected.json"}
    assert files == set(EXPECTED), "every corpus file has an expected answer, and every answer a file"
    assert sum(e["exit"] == 2 for e in EXPECTED.values()) >= 50
    assert sum(e["exit"] == 1 for e in EXPECTED.values()) >= 6


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_file(name):
    want = EXPECTED[name]
    code, out, err = replay_cli(str(CORPUS / name))
    assert code == want["exit"], (out, err)
    assert "Traceback" not in out + err
    said = err if code == 2 else out
    assert want["message"] in said, said
    if code == 2:
        assert out == "" and err.count("\n") == 1 and err.startswith("asyncproof replay: error: ")
    if code != 0:
        assert "reproduced" not in out


# ---------------------------------------------------------------------------------------
# fuzz: mutate a valid file, never a traceback, never "reproduced" for a changed event list

FIELDS = ["format", "version", "algorithm", "params", "problem", "seed", "model", "adversary",
          "package_version", "steps", "stopped", "events", "annotations", "digest"]
VALUES = st.one_of(st.none(), st.booleans(), st.integers(-10, 10 ** 6), st.floats(allow_nan=False),
                   st.text(max_size=8), st.lists(st.integers(0, 3), max_size=3),
                   st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))


@pytest.fixture(scope="module")
def valid(tmp_path_factory):
    from asyncproof import run_algorithm
    res = run_algorithm("pure-async-sgd", params={"T": 4, "n": 2}, seed=3, adversary="random:seed=3")
    return res.schedule.to_json()


@st.composite
def mutations(draw, d):
    d = copy.deepcopy(d)
    n = len(d["events"])
    kind = draw(st.sampled_from(["delete-field", "retype-field", "delete-event", "duplicate-event",
                                 "swap-events", "append-events", "rename-event", "several"]))
    kinds = [kind] if kind != "several" else draw(st.lists(st.sampled_from(
        ["delete-field", "retype-field", "delete-event", "duplicate-event", "swap-events", "append-events",
         "rename-event"]), min_size=2, max_size=4))
    for k in kinds:
        ev = d.get("events")
        if k == "delete-field":
            d.pop(draw(st.sampled_from(FIELDS)), None)
        elif k == "retype-field":
            d[draw(st.sampled_from(FIELDS))] = draw(VALUES)
        elif isinstance(ev, list) and ev:
            i = draw(st.integers(0, len(ev) - 1))
            if k == "delete-event":
                del ev[i]
            elif k == "duplicate-event":
                ev.insert(i, ev[i])
            elif k == "swap-events":
                j = draw(st.integers(0, len(ev) - 1))
                ev[i], ev[j] = ev[j], ev[i]
            elif k == "append-events":
                ev += draw(st.lists(st.sampled_from(ev + ["p7 write zzz", "crash p9", "recover p0"]),
                                    min_size=1, max_size=4))
            elif k == "rename-event":
                ev[i] = draw(st.sampled_from(["p0 output", "p1 " + ev[i], ev[i] + " ", "crash p0"]))
            if draw(st.booleans()) and isinstance(d.get("steps"), int):
                d["steps"] = len(ev)            # a consistent hand edit, so the replay itself is tested
    return d


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_fuzzed_schedules(valid, tmp_path, data):
    bad = data.draw(mutations(valid))
    path = tmp_path / "fuzzed.json"
    path.write_text(json.dumps(bad))
    code, out, err = replay_cli(str(path))          # an exception escaping main fails the test
    assert code in (0, 1, 2), (code, out, err)
    assert "Traceback" not in out + err
    changed = bad.get("events") != valid["events"]
    if code == 2:
        assert err.count("\n") == 1 and err.startswith("asyncproof replay: error: "), err
    if changed and bad.get("digest"):
        assert code != 0 and "reproduced" not in out, (out, err)
    if code == 0:
        assert out.startswith("reproduced") or out.startswith("ran to the end; no digest"), out
