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

from ..budgets import BROKEN_FACTOR, strategies_alone
from ..budgets import GUARANTEE_EXAMPLES as EXAMPLES
from ..reference.errors import InputError

_SUPPRESS = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much,
             HealthCheck.function_scoped_fixture]

# Hypothesis's "explain" phase re-runs a failing example many times to annotate it; the saved
# schedule and its replay command say more, and quick/ci searches run several times faster without it
_PHASES = [Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink]

strategies_alone()      # derandomized searches depend on the code and the seed only (see budgets)

settings.register_profile("quick", max_examples=EXAMPLES["quick"], derandomize=True, database=None,
                          deadline=None, phases=_PHASES, suppress_health_check=_SUPPRESS, print_blob=False,
                          report_multiple_bugs=False)
settings.register_profile("ci", max_examples=EXAMPLES["ci"], derandomize=True, database=None,
                          deadline=None, phases=_PHASES, suppress_health_check=_SUPPRESS, print_blob=False,
                          report_multiple_bugs=False)
settings.register_profile("deep", max_examples=EXAMPLES["deep"], derandomize=False, deadline=None,
                          suppress_health_check=_SUPPRESS, report_multiple_bugs=False)


def budget_settings(budget: str, examples: int | None = None) -> settings:
    """The settings of ``budget`` (``quick``, ``ci`` or ``deep``), optionally with another example count."""
    if budget not in EXAMPLES:
        raise InputError(f"unknown budget {budget!r}; known: {', '.join(EXAMPLES)}")
    base = settings.get_profile(budget)
    return settings(base, max_examples=examples) if examples is not None else base
