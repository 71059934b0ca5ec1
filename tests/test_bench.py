"""``asyncproof bench``: one table with every row and the targets, its JSON, and bad input.

No assertion on a time or a throughput: what a run measures depends on the machine and its load.
"""

from __future__ import annotations

import json

import pytest

from asyncproof.cli import main

ROWS = ["roofline loop", "HOGWILD! racy", "HOGWILD! atomic", "HOGWILD! lock", "roofline loop, stored order",
        "HOGWILD! racy, stored order", "serially-equivalent",
        "recorder off", "recorder on", "HOGWILD! racy, keyed draw", "reference hogwild-racy"]
TARGETS = [f"racy >= 1.1x the C++ original on {t} ({cpp} M samples/s), {order} order"
           for order in ("shuffled", "stored") for t, cpp in (("1 thread", "1.85"), ("2 threads", "3.19"))] + [
           "racy within 1.2x of the roofline loop", "parallel efficiency", "atomic >= 60% of racy",
           "serially-equivalent >= 70% of racy", "fast >= 1000x the reference"]


def cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_quick_bench_prints_every_row_and_the_targets_and_writes_its_json(tmp_path, capsys):
    f = tmp_path / "bench.json"
    code, out, err = cli(capsys, "bench", "--quick", "--threads", "2", "--json", str(f))
    assert code == 0, err
    table = out.split("targets (issue 12)")[0]
    for name in ROWS:
        assert name in table, name
    for t in (1, 2):                     # the thread-count rows at 1 and 2 threads
        for name in ROWS[:4]:
            assert any(line.startswith(name) and line.split()[len(name.split())] == str(t)
                       for line in table.splitlines()), (name, t)
    block = out.split("targets (issue 12)")[1]
    for target in TARGETS:
        line = next(x for x in block.splitlines() if target in x)
        assert line.split()[-1] in ("pass", "GAP", "-"), line
    assert "first calls" in out and "setup of a" in out
    assert "bench: [1/" in err                                # progress, as each measurement starts
    data = json.loads(f.read_text())
    assert {"command", "machine", "workload", "units", "rows", "first_call_seconds", "setup_seconds",
            "targets"} <= set(data)
    assert data["workload"]["rule"] == "v03a" and data["workload"]["assignment"] == "slices"
    names = {r["measurement"] for r in data["rows"]}
    assert {"roofline loop", "HOGWILD! racy", "HOGWILD! atomic", "HOGWILD! lock"} <= names
    racy2 = next(r for r in data["rows"] if r["measurement"] == "HOGWILD! racy" and r["threads"] == 2)
    assert {"roofline", "efficiency", "cpp"} <= set(racy2["ratios"]) and racy2["samples_per_s"] > 0
    assert len(data["targets"]) == len(TARGETS)
    assert all(t["passed"] in (True, False, None) for t in data["targets"])


@pytest.mark.parametrize("argv,message", [
    (["--threads", "0"], "--threads must be an integer in 1 .. 256, got 0"),
    (["--epochs", "-1"], "--epochs must be an integer in 1 .. 25"),
    (["--json", "/nonexistent-dir/b.json"], "does not exist"),
])
def test_bad_input_is_one_line_exit_2_before_any_work(capsys, argv, message):
    code, out, err = cli(capsys, "bench", "--quick", *argv)
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1 and message in err, err
