"""Hypothesis settings profiles: ``quick`` and ``ci`` (derandomized) and ``deep``.

``ci`` is derandomized so that a CI run is reproducible (the same examples every
time), keeps no example database, and has no deadline (these machines are shared
and noisy; time is never asserted).  ``deep`` is for long local runs: many more
examples, randomized, with the example database so failures are retried first.

>>> budget_settings("ci").derandomize
True
"""

from __future__ import annotations

from hypothesis import HealthCheck, Phase, settings

from ..reference.errors import InputError

_SUPPRESS = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much,
             HealthCheck.function_scoped_fixture]

# Hypothesis's "explain" phase re-runs a failing example many times to annotate it; the saved
# schedule and its replay command say more, and quick/ci searches run several times faster without it
_PHASES = [Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink]

#: examples per guarantee and algorithm; broken variants get ``BROKEN_FACTOR`` times more to be found
EXAMPLES = {"quick": 12, "ci": 30, "deep": 400}
BROKEN_FACTOR = 4

settings.register_profile("quick", max_examples=EXAMPLES["quick"], derandomize=True, database=None,
                          deadline=None, phases=_PHASES, suppress_health_check=_SUPPRESS, print_blob=False,
                          report_multiple_bugs=False)
settings.register_profile("ci", max_examples=EXAMPLES["ci"], derandomize=True, database=None,
                          deadline=None, phases=_PHASES, suppress_health_check=_SUPPRESS, print_blob=False,
                          report_multiple_bugs=False)
settings.register_profile("deep", max_examples=EXAMPLES["deep"], derandomize=False, deadline=None,
                          suppress_health_check=_SUPPRESS, report_multiple_bugs=False)


def _strategies_alone() -> None:
    """Draw from the strategies alone, not also from the literals of "local" modules.

    Hypothesis (6.1xx) adds to its draws the constants it finds in every loaded module that is
    not in site-packages or the standard library.  A derandomized search then depends on which
    modules a process happened to import, on whether asyncproof runs from a checkout or from an
    installed copy (which is not "local"), and on every literal anywhere in the code: the same
    ``verify --budget quick`` printed other hard-case counts in each.  Our searches must be a
    function of the code under test and the seed only, so the pool of local constants is empty.
    The hook is Hypothesis-internal; if it moves, this does nothing and the tests that pin
    counts (tests/test_docnumbers.py) say so.
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


_strategies_alone()


def budget_settings(budget: str, examples: int | None = None) -> settings:
    """The settings of ``budget`` (``quick``, ``ci`` or ``deep``), optionally with another example count."""
    if budget not in EXAMPLES:
        raise InputError(f"unknown budget {budget!r}; known: {', '.join(EXAMPLES)}")
    base = settings.get_profile(budget)
    return settings(base, max_examples=examples) if examples is not None else base
