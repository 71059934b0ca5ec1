"""Properties: the guarantees each algorithm states, checked by Hypothesis, each with the broken
variants it must catch.

The tree mirrors ``reference/``: the guarantees of ``reference/<family>/<algorithm>.py`` and the
broken variants they must catch (the algorithm with one named step replaced,
:mod:`.variants`) are in ``properties/<family>/<algorithm>.py``; the guarantees every algorithm
owes (replay determinism, schedule independence) in :mod:`.every_algorithm`; the kernels'
oracle in :mod:`.kernels`.  :mod:`.guarantees` and :mod:`.variants` are the registries (they
import those modules on first use), :mod:`.suite` runs them (``asyncproof verify``).

Layering: imports :mod:`asyncproof.reference` only; the variants never enter the reference registry.
"""

from .guarantees import GUARANTEES, Guarantee, get_guarantee, guarantees, recheck, search
from .suite import Report, verify

__all__ = ["GUARANTEES", "Guarantee", "Report", "get_guarantee", "guarantees", "recheck", "search", "verify"]
