"""The rule for every guarantee, now and later: it can fail on a realistic mistake.

A guarantee earns its row in ``asyncproof verify`` only with a broken variant that it must
catch (``tests/test_properties.py`` then searches for the violation, saves it and replays it).
These tests scan the registries, so a guarantee or an algorithm added later without one fails
here, not silently in a green table.
"""

from __future__ import annotations

from asyncproof.properties import guarantees
from asyncproof.reference.registry import ALGORITHMS, algorithms


def test_every_guarantee_has_a_broken_variant_of_one_of_its_algorithms():
    for g in guarantees():
        assert g.broken, f"{g.name} has no broken variant: nothing shows it can fail"
        stray = sorted(set(g.broken) - set(g.algorithms))
        assert not stray, f"{g.name} lists variants of {stray}, which it does not check"


def test_every_variant_is_a_registered_broken_algorithm():
    for g in guarantees():
        for base, variant in g.broken.items():
            assert variant in ALGORITHMS, f"{g.name}: variant {variant!r} is not registered"
            alg = ALGORITHMS[variant]
            assert alg.broken or variant in {a.name for a in algorithms()}, variant
            assert not ALGORITHMS[base].broken, f"{g.name}: {base!r} is itself a broken variant"


def test_every_algorithm_has_a_guarantee_that_catches_a_variant_of_it():
    """An algorithm whose only rows are replay determinism or self-comparisons is unguarded."""
    covered = {base for g in guarantees() for base in g.broken}
    unguarded = sorted(a.name for a in algorithms() if a.name not in covered)
    assert not unguarded, f"no guarantee catches a broken variant of {unguarded}"


def test_every_guarantee_states_its_hard_case_and_source():
    for g in guarantees():
        assert g.hard_case and g.statement and g.source, g.name
        assert g.algorithms, g.name
