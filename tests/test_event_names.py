"""Event names for hand-written schedules: the generated pages are current, ``asyncproof events``
lists what a run produces, and a file without a digest replays and gets one (``--write-digest``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from asyncproof.reference.pages import pages

DOCS = Path(__file__).resolve().parents[1] / "docs"


@pytest.mark.parametrize("name", ["events.md", "schedule.schema.json"])
def test_generated_pages_are_current(name):
    assert (DOCS / name).read_text() == pages()[name], \
        f"docs/{name} is stale: run 'python -m asyncproof.reference.pages docs'"


def test_every_event_a_run_produces_is_in_the_catalogue():
    # the page is not a hand-written list: a run under another adversary produces only listed templates
    from asyncproof import run_algorithm
    from asyncproof.reference.event_names import template_of
    page = (DOCS / "events.md").read_text()
    section = page.split("## pure-async-sgd\n")[1].split("\n## ")[0]
    res = run_algorithm("pure-async-sgd", params={"T": 6, "n": 3}, adversary="random:seed=11")
    for name in res.trace.events:
        assert f"`{template_of(name)}`" in section, name


def test_events_command(capsys):
    from asyncproof.cli import main
    assert main(["events", "sgd", "--param", "T=2", "--adversary", "roundrobin"]) == 0
    out = capsys.readouterr().out
    assert "finish   finish #N wN grad f_N(x_N)" in out and "crash pN" in out
    assert main(["events", "nope"]) == 2
    assert "unknown algorithm 'nope'" in capsys.readouterr().err


def test_hand_written_schedule_gets_its_digest(tmp_path, capsys):
    from asyncproof.cli import main
    from asyncproof import run_algorithm
    ref = run_algorithm("sgd", problem={"name": "quadratic"}, params={"T": 2}, seed=0)
    f = tmp_path / "hand.json"
    f.write_text(json.dumps({"format": "asyncproof-schedule", "version": 1, "algorithm": "sgd",
                             "problem": {"name": "quadratic"}, "params": {"T": 2}, "events": ref.trace.events}))
    assert main(["replay", str(f)]) == 0
    assert capsys.readouterr().out.strip() == f"ran to the end; no digest to compare; digest {ref.trace.digest}"
    assert main(["replay", str(f), "--write-digest"]) == 0
    assert f"wrote digest {ref.trace.digest}" in capsys.readouterr().out
    d = json.loads(f.read_text())
    assert d["digest"] == ref.trace.digest and d["stopped"] == "quiescent" and d["steps"] == len(ref.trace.events)
    assert main(["replay", str(f)]) == 0
    assert capsys.readouterr().out.strip() == f"reproduced {ref.trace.digest}"
    # a wrong event is not written over: the digest is filled in only for a run that replays to the end
    d.pop("digest")
    d["events"][-1] = "p0 output now"
    f.write_text(json.dumps(d))
    assert main(["replay", str(f), "--write-digest"]) == 1
    assert "digest" not in json.loads(f.read_text())
