"""Checks on fast runs (``asyncproof verify --fast``): the reference's guarantees, and checks of the
recorded rows, run on the traces of real runs on threads.

The tree mirrors ``fast/``: the checks of ``fast/<family>/<algorithm>.py`` (its modes' checks of the
recorded rows, the measurements that show a run reached the dangerous case, its stall step and its
planted bugs) are declared in ``properties/fast/<family>/<algorithm>.py`` into :data:`.registry.FAST`;
:mod:`.registry` also holds what every replayable fast run gets without a declaration (the reference
run rebuilt through its recorded orders, bit for bit, then every guarantee the reference states for
its algorithm), and :mod:`.suite` runs them (``asyncproof verify --fast``, ``docs/fast.md``).
"""
