"""A run or a check that raises is a reported violation with a saved schedule, never a traceback."""

from __future__ import annotations

from dataclasses import replace

import pytest

from asyncproof.cli import main
from asyncproof.properties import get_guarantee, recheck, search
from asyncproof.properties.variants import VARIANTS, variant
from asyncproof.reference.parameter_server import rennala
from asyncproof.reference.schedule import load_schedule


def _aggregate_that_indexes_past_the_end(fresh, n):
    """An off-by-one that only bites once a round holds two fresh gradients."""
    if len(fresh) >= 2:
        fresh[len(fresh)]
    return rennala.rennala_aggregate(fresh, n)


@pytest.fixture
def raising_variant():
    """Rennala with a line 10 that raises, declared for the test only (no guarantee lists it)."""
    variant("broken-rennala-test-raises", of="rennala-sgd", mistake="raises IndexError in its aggregate",
            replace={"aggregate": _aggregate_that_indexes_past_the_end})
    yield "broken-rennala-test-raises"
    VARIANTS.pop("broken-rennala-test-raises", None)


def test_an_exception_in_the_run_is_a_violation_whose_schedule_raises_it_again(tmp_path, capsys, raising_variant):
    stats = search(get_guarantee("rennala-fresh-only"), "rennala-sgd", "quick", tmp_path, variant=raising_variant)
    assert stats.violation is not None
    assert "raised IndexError" in str(stats.violation) and "asyncproof replay" in str(stats.violation)
    sched = load_schedule(stats.path)
    assert sched.property["raised"] == "IndexError" and sched.stopped == "raised"
    still, message = recheck(sched)
    assert still and "again" in message
    assert main(["replay", stats.path]) == 1
    out = capsys.readouterr().out
    assert "violated again" in out and "Traceback" not in out


def test_an_exception_in_the_check_is_a_violation(tmp_path):
    g = get_guarantee("rennala-fresh-only")
    broken_check = replace(g, check=lambda result: result.trace.observed("no-such-record")[0])
    stats = search(broken_check, "rennala-sgd", "quick", tmp_path)
    assert stats.violation is not None and "the check raised IndexError" in str(stats.violation)
