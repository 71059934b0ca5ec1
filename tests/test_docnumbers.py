"""Every number README.md and docs/*.md quote is its source's (``python -m asyncproof.docnumbers --check``).

The sources: the registries, the committed experiment tables (``docs/experiments/*.md``, written
byte for byte the same by every run of the experiment), and the recorded command outputs
``docs/numbers/*.json`` (``--measure``).  Where a recorded output is deterministic and cheap to
recompute, a test recomputes part of it here, so a recording that no longer matches the code
fails too.  Durations are never compared with the clock: they are quoted from the recordings.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from asyncproof import docnumbers as dn
from asyncproof import _measure

ROOT = Path(dn.__file__).resolve().parents[1]


def _text(problems) -> str:
    return "\n".join(str(p) for p in problems) + f"\nrewrite the docs with: {dn.HINT}"


# ------------------------------------------------------------------------------------------
# the docs as they are


def test_every_quoted_number_is_its_sources():
    problems = dn.check()
    assert not problems, _text(problems)


def test_every_template_is_used_and_every_region_exists():
    for q in dn.QUOTES:
        assert q.file in dn.FILES and q.keys(), q
    for f in dn.FACTS:
        assert f.file in dn.FILES, f
    texts = {f: (ROOT / f).read_text() for f in dn.FILES}
    for name, region in dn.REGIONS.items():
        assert f"<!-- numbers: {name} -->" in texts[region.file], name


# ------------------------------------------------------------------------------------------
# the check can fail


def _readme() -> str:
    return (ROOT / "README.md").read_text()


def test_an_edited_verdict_fails():
    text = _readme()
    phrase = re.search(r"reaches the target first in (\d) of (\d)\.", text)
    wrong = str(int(phrase.group(1)) % 4 + 1)
    edited = text[:phrase.start(1)] + wrong + text[phrase.end(1):]
    problems = dn.check(texts={"README.md": edited})
    assert len(problems) == 1, _text(problems)
    assert problems[0].file == "README.md" and f"the text says '{wrong}'" in problems[0].what


def test_an_edited_region_fails():
    text = _readme()
    start = text.index("<!-- numbers: verify-quick -->")
    row = re.compile(r"^(fedbuff +fedbuff-clients +12 +)(\d+)", re.M).search(text, start)
    edited = text[:row.start(2)] + str(int(row.group(2)) + 1) + text[row.end(2):]
    problems = dn.check(texts={"README.md": edited})
    assert [p.file for p in problems] == ["README.md"] and "region verify-quick differs" in problems[0].what, \
        _text(problems)


def test_a_reworded_phrase_or_a_removed_region_fails():
    text = _readme().replace("reaches the target first in", "is first to the target in", 1)
    text = re.sub(r"<!-- numbers: mutation-readme -->.*?<!-- /numbers -->", "", text, flags=re.S)
    what = " | ".join(p.what for p in dn.check(texts={"README.md": text}))
    assert "phrase not found" in what and "mutation-readme" in what and "is missing" in what, what


def test_a_fact_that_no_longer_holds_fails(monkeypatch):
    values = dict(dn.Values().group("asgrad"), _asgrad_only_shuffled_reaches="False")
    monkeypatch.setitem(dn.GROUPS, "asgrad", lambda root: values)
    what = " | ".join(p.what for p in dn.check())
    assert "no longer holds" in what and "the only method to reach the target" in what, what


def test_a_new_result_without_a_source_fails():
    page = "docs/worked-example.md"
    text = (ROOT / page).read_text() + "\nThe whole example takes 4.2 s on 2 cores.\n"
    what = " | ".join(p.what for p in dn.check(texts={page: text}) if p.file == page)
    assert "'4.2 s'" in what and "a result with no source" in what, what


def _copy_sources(dest: Path) -> None:
    for f in dn.FILES:
        (dest / f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / f, dest / f)
    for folder in (dn.EXPERIMENTS_DIR, dn.NUMBERS, "tests/mutation"):
        shutil.copytree(ROOT / folder, dest / folder, dirs_exist_ok=True)


def test_update_rewrites_the_numbers_and_keeps_the_wording(tmp_path):
    _copy_sources(tmp_path)
    readme = tmp_path / "README.md"
    original = readme.read_text()
    text = re.sub(r"(reaches the target first in )\d( of )\d", r"\g<1>9\g<2>9", original, count=1)
    text = text.replace("# 44 of 44 killed", "# 1 of 2 killed")
    readme.write_text(text)
    assert len(dn.check(root=tmp_path)) >= 2
    changed, remaining = dn.update(root=tmp_path)
    assert changed == ["README.md"] and not remaining, _text(remaining)
    assert readme.read_text() == original


def test_a_changed_experiment_table_changes_the_docs(tmp_path):
    """The README's verdict follows the committed table: a different table, a different sentence."""
    _copy_sources(tmp_path)
    table = tmp_path / dn.EXPERIMENTS_DIR / "heterogeneous-compute.md"
    rows = table.read_text().replace("| fixed s_i = i+1, iid split | asynchronous SGD | 0.0625 | 16 |",
                                     "| fixed s_i = i+1, iid split | asynchronous SGD | 0.0625 | 17 |")
    table.write_text(rows)
    what = " | ".join(p.what for p in dn.check(root=tmp_path) if p.file == "README.md")
    assert "the text says '16 / 18 / 19.4 / 35.6'" in what and "'17 / 18 / 19.4 / 35.6'" in what, what


# ------------------------------------------------------------------------------------------
# the recordings: complete, and (where cheap) what the code gives now


def test_recordings_say_what_was_run_where_and_how_long():
    files = sorted((ROOT / dn.NUMBERS).glob("*.json"))
    assert {f.stem for f in files} == set(_measure.MEASUREMENTS)
    for f in files:
        rec = json.loads(f.read_text())
        assert rec["command"] == _measure.MEASUREMENTS[f.stem].shown
        assert rec["date"] and rec["commit"] and rec["machine"]["nproc"] >= 1, f.name
        for run in rec["runs"]:
            assert run["exit"] == 0 and run["wall_s"] > 0 and run["cpu_user_s"] > 0, (f.name, run["label"])
            assert {"min", "mean", "max"} <= set(run["load_during_1min"]), f.name


def test_recorded_experiments_wrote_the_committed_files():
    for name in ("asgrad-figure1", "heterogeneous-compute", "hogwild-sparsity"):
        rec = dn.recorded(f"experiment-{name}")
        assert rec["same_as_committed"] == {f"docs/experiments/{name}.md": True,
                                            f"docs/experiments/{name}.png": True}, name


def test_recorded_verify_rows_are_the_registries():
    from asyncproof import properties  # noqa: F401
    from asyncproof.properties import guarantees
    from asyncproof.reference.registry import algorithms

    head, rows, tail = dn.verify_table(dn.recorded("verify-quick")["runs"][0]["stdout"])
    want = {(a.name, g.name) for a in algorithms() for g in guarantees() if a.name in g.algorithms}
    assert {(r[0], r[1]) for r in rows} == want
    broken = {(a, g.name): v for g in guarantees() for a, v in g.broken.items()}
    for r in rows:
        caught = re.match(r"yes, (\S+) \(", r[5])
        assert (caught.group(1) if caught else None) == broken.get((r[0], r[1])), r


def _cli(*args: str, cwd: Path) -> str:
    """``python -m asyncproof ARGS`` in a fresh process, as the recordings ran it (see below)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    r = subprocess.run([sys.executable, "-m", "asyncproof", *args], cwd=cwd, env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


# Why fresh processes: the rows are what a user's `asyncproof verify` prints, so they are recomputed
# by the command line itself.  (Hypothesis >= 6.131 also draws constants found in loaded local
# modules, which made a search depend on the imports; properties/profiles.py empties that pool.)

#: algorithms whose rows of the recorded `verify --budget quick` are recomputed here (about 10 s)
VERIFY_SAMPLE = ("batch-gd", "shuffled-async-sgd")


def test_recorded_verify_rows_are_what_verify_prints_now(tmp_path):
    _, recorded, _ = dn.verify_table(dn.recorded("verify-quick")["runs"][0]["stdout"])
    _, fresh, _ = dn.verify_table(_cli("verify", *VERIFY_SAMPLE, "--budget", "quick", "--no-fresh",
                                       "--failures", str(tmp_path / "failures"), cwd=tmp_path))
    want = [r for r in recorded if r[0] in VERIFY_SAMPLE]
    assert fresh == want, ("the recorded verify output is not what the code prints now; measure again: "
                           "python -m asyncproof.docnumbers --measure verify-quick")


#: claims whose recorded `prove` lines are recomputed here (about 50 s): those the docs quote, but
#: delayed-gd-quadratic (95 s) and the agreement claims (30 s), whose quoted checks below need no search
PROVE_SAMPLE = ("straggler-order-statistics", "rennala-malenia-round-time", "hogwild-noise-bound",
                "hogwild-theorem-3.4", "asgrad-theorem1")

#: checks without Hypothesis (sympy, fixed schedules): the same in any process, so run here
PLAIN_CHECKS = [("delayed-gd-quadratic", "largest-stable-step"), ("delayed-gd-quadratic", "engine-held-at-delay-5"),
                ("agreement-cluster-contraction", "derivation"), ("agreement-q-rounds", "rounds-from-q")]


def test_recorded_prove_lines_are_what_prove_prints_now(tmp_path):
    recorded = dn.prove_checks(dn.recorded("prove")["runs"][0]["stdout"])
    fresh = dn.prove_checks(_cli("prove", *PROVE_SAMPLE, cwd=tmp_path))
    assert {c for c, _ in fresh} == set(PROVE_SAMPLE)
    stale = [f"{c} / {k}:\n  now:      {v}\n  recorded: {recorded.get((c, k))}" for (c, k), v in fresh.items()
             if recorded.get((c, k)) != v]
    assert not stale, "\n".join(stale) + "\nmeasure again: python -m asyncproof.docnumbers --measure prove"


@pytest.mark.parametrize("claim, check", PLAIN_CHECKS, ids=[f"{c}:{k}" for c, k in PLAIN_CHECKS])
def test_recorded_prove_details_of_plain_checks_are_what_they_give_now(claim, check, tmp_path, monkeypatch):
    from asyncproof.proofs.registry import get_claim

    monkeypatch.chdir(tmp_path)                  # a check may save its schedule under failures/
    recorded = dn.prove_checks(dn.recorded("prove")["runs"][0]["stdout"])
    result = next(c for c in get_claim(claim).checks if c.name == check).run("quick")
    assert result.passed and result.detail == recorded[(claim, check)]


def test_recorded_prove_lists_every_claim():
    from asyncproof.proofs.registry import all_claims
    claims = {c for c, _ in dn.prove_checks(dn.recorded("prove")["runs"][0]["stdout"])}
    assert claims == {c.id for c in all_claims()}


# ------------------------------------------------------------------------------------------
# the measuring itself


def test_measure_records_a_command(tmp_path, monkeypatch):
    m = _measure.Measurement(("{python}", "-c", "print(sum(range(10 ** 6)))"), "python -c ...", runs=("a", "b"))
    monkeypatch.setitem(_measure.MEASUREMENTS, "tiny", m)
    path = _measure.measure("tiny", out_dir=tmp_path, worktree=True)
    rec = json.loads(path.read_text())
    assert [r["label"] for r in rec["runs"]] == ["a", "b"]
    assert all(r["stdout"] == f"{sum(range(10 ** 6))}\n" and r["exit"] == 0 for r in rec["runs"])
    assert rec["machine"]["nproc"] == os.cpu_count() and rec["uncommitted_changes"]["before"] is not None


@pytest.mark.skipif(not os.environ.get("ASYNCPROOF_RERUN_EXPERIMENTS"),
                    reason="minutes: set ASYNCPROOF_RERUN_EXPERIMENTS=1 to re-run hogwild-sparsity in full")
def test_hogwild_sparsity_rerun_writes_the_committed_table(tmp_path):
    from asyncproof.experiments import EXPERIMENTS
    res = EXPERIMENTS["hogwild-sparsity"](out=tmp_path, jobs=os.cpu_count() or 1)
    written = Path(res.markdown).read_text().replace(f"--out {tmp_path}", "--out docs/experiments")
    assert written == (ROOT / dn.EXPERIMENTS_DIR / "hogwild-sparsity.md").read_text()
    assert Path(res.png).read_bytes() == (ROOT / dn.EXPERIMENTS_DIR / "hogwild-sparsity.png").read_bytes()
