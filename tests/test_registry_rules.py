"""The rule for every guarantee, now and later: it can fail on a realistic mistake.

A guarantee earns its row in ``asyncproof verify`` only with a broken variant that it must
catch (``tests/test_properties.py`` then searches for the violation, saves it and replays it).
These tests scan the registries, so a guarantee or an algorithm added later without one fails
here, not silently in a green table.
"""

from __future__ import annotations

from asyncproof.properties import guarantees
from asyncproof.properties.variants import VARIANTS
from asyncproof.reference.registry import ALGORITHMS, algorithms, get_algorithm


def test_every_guarantee_has_a_broken_variant_of_one_of_its_algorithms():
    for g in guarantees():
        assert g.broken, f"{g.name} has no broken variant: nothing shows it can fail"
        stray = sorted(set(g.broken) - set(g.algorithms))
        assert not stray, f"{g.name} lists variants of {stray}, which it does not check"


def test_every_variant_is_declared_and_breaks_the_algorithm_it_is_listed_under():
    for g in guarantees():
        for base, variant in g.broken.items():
            if variant in ALGORITHMS:           # a real algorithm that lacks what ``base`` has (hogwild-racy)
                continue
            assert variant in VARIANTS, f"{g.name}: variant {variant!r} is not declared"
            alg = get_algorithm(variant)
            assert alg.broken and alg.variant_of == base, f"{g.name}: {variant!r} breaks {alg.variant_of!r}, not {base!r}"
            assert not get_algorithm(base).broken, f"{g.name}: {base!r} is itself a broken variant"


def test_variants_stay_out_of_the_reference_registry_and_break_a_real_algorithm():
    assert not [a for a in ALGORITHMS.values() if a.broken], "a broken variant was written into the reference registry"
    for name, alg in VARIANTS.items():
        assert alg.broken and alg.variant_of in ALGORITHMS and alg.summary.startswith(f"BROKEN {alg.variant_of}: "), name


def test_every_algorithm_has_a_guarantee_that_catches_a_variant_of_it():
    """An algorithm whose only rows are replay determinism or self-comparisons is unguarded."""
    covered = {base for g in guarantees() for base in g.broken}
    unguarded = sorted(a.name for a in algorithms() if a.name not in covered)
    assert not unguarded, f"no guarantee catches a broken variant of {unguarded}"


def test_every_guarantee_states_its_hard_case_and_source():
    for g in guarantees():
        assert g.hard_case and g.statement and g.source, g.name
        assert g.algorithms, g.name


def test_replay_determinism_covers_every_registered_algorithm():
    """A cross-cutting guarantee is owed by every algorithm, whether or not its family asked for it."""
    replay = next(g for g in guarantees() if g.name == "replay-determinism")
    missing = sorted(a.name for a in algorithms() if a.name not in replay.algorithms)
    assert not missing, f"replay determinism does not cover {missing}"
