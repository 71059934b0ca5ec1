"""The mutation catalogue (tests/mutation/) stays applicable: every mutant's line is in the code, once.

The kill rates themselves come from ``python tests/mutation/run.py`` (minutes per mutant,
outside CI); here only what keeps the catalogue honest."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from asyncproof.reference.registry import algorithms

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "mutation"))
from catalogue import MUTANTS, apply  # noqa: E402


@pytest.mark.parametrize("m", MUTANTS, ids=[m.id for m in MUTANTS])
def test_each_mutant_applies_once_and_changes_the_code(m):
    text = (ROOT / m.path).read_text()
    mutated = apply(m, text)
    assert mutated != text and m.before != m.after
    known = {a.name for a in algorithms()}
    assert m.algorithms and set(m.algorithms) <= known, m.algorithms
    compile(mutated, m.path, "exec")                      # a mutant is a program, not a syntax error


def test_ids_are_unique():
    ids = [m.id for m in MUTANTS]
    assert len(ids) == len(set(ids))
