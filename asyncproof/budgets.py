"""The budgets: one table of how hard every search looks, and the rule that makes a search repeatable.

A budget scales every Hypothesis search and every sample: ``quick`` (seconds per suite or claim),
``ci`` (what CI runs, derandomized) and ``deep`` (long local runs, randomized on purpose).

==========================  =======  =====  ======  ==================================================
quantity                    quick    ci     deep    used by
==========================  =======  =====  ======  ==================================================
``GUARANTEE_EXAMPLES``      12       30     400     each (guarantee, algorithm) search of ``verify``
``BROKEN_FACTOR``           4        4      4       times more for a broken variant (it must be found)
``CLAIM_EXAMPLES``          150      600    5000    a claim's ``property`` check, unless it says other
==========================  =======  =====  ======  ==================================================

>>> check_budget("ci"), GUARANTEE_EXAMPLES["quick"], CLAIM_EXAMPLES["deep"]
('ci', 12, 5000)
>>> check_budget("thorough")
Traceback (most recent call last):
...
asyncproof.reference.errors.InputError: unknown budget 'thorough'; known: quick, ci, deep
"""

from __future__ import annotations

from typing import Any

from .reference.errors import InputError

#: the budgets, from cheapest to most thorough
BUDGETS = ("quick", "ci", "deep")

#: Hypothesis examples per (guarantee, algorithm) of ``asyncproof verify``
GUARANTEE_EXAMPLES = {"quick": 12, "ci": 30, "deep": 400}
#: a broken variant's search gets this many times more examples: it must be found
BROKEN_FACTOR = 4
#: Hypothesis examples per property check of ``asyncproof prove``
CLAIM_EXAMPLES = {"quick": 150, "ci": 600, "deep": 5000}


def check_budget(budget: Any) -> str:
    """Return ``budget`` if it is one of :data:`BUDGETS`, else raise :class:`InputError`."""
    if not isinstance(budget, str) or budget not in BUDGETS:
        raise InputError(f"unknown budget {budget!r}; known: {', '.join(BUDGETS)}")
    return budget


def strategies_alone() -> None:
    """Make Hypothesis draw from the strategies alone, not also from the literals of "local" modules.

    Hypothesis (6.1xx) adds to its draws the constants it finds in every loaded module that is
    not in site-packages or the standard library.  A derandomized search then depends on which
    modules a process happened to import, on whether asyncproof runs from a checkout or from an
    installed copy, on where the interpreter keeps its packages (a distribution's
    ``dist-packages`` counts as "local"), and on every literal anywhere in the code: the same
    ``prove`` printed 0.435 on one machine and 0.400 on another.  Our searches must be a function
    of the code under test and the seed only, so the pool of local constants is empty.  Called
    by both :mod:`asyncproof.properties` and :mod:`asyncproof.proofs` when they load.  The hook
    is Hypothesis-internal; if it moves, this does nothing and the tests that pin counts
    (tests/test_docnumbers.py) say so.
    """
    try:
        from hypothesis.internal.conjecture import providers
    except ImportError:  # pragma: no cover - another Hypothesis layout
        return
    if hasattr(providers, "_get_local_constants") and hasattr(providers, "Constants"):
        empty = providers.Constants()
        providers._get_local_constants = lambda: empty
        cache = getattr(getattr(providers, "CONSTANTS_CACHE", None), "cache", None)
        if cache is not None:
            cache.clear()                   # pools computed before, with local constants in them
