"""Properties: Hypothesis strategies and the checkers of each stated guarantee.

Layering: imports :mod:`asyncproof.reference` only.  The deliberately broken variants that
show each property can fail are in :mod:`.variants` (the algorithms with one step replaced),
outside the reference registry.
"""

from .guarantees import GUARANTEES, Guarantee, get_guarantee, guarantees, recheck, search
from .suite import Report, verify

__all__ = ["GUARANTEES", "Guarantee", "Report", "get_guarantee", "guarantees", "recheck", "search", "verify"]
