"""Properties: Hypothesis strategies and the checkers of each stated guarantee.

Layering: imports :mod:`asyncproof.reference` only.  Importing this package
registers the deliberately broken variants used to show each property can fail.
"""

from . import broken  # noqa: F401  (registers the broken variants)
from . import broken_servers  # noqa: F401
from . import broken_shared_memory  # noqa: F401
from . import broken_serial_equivalence  # noqa: F401
from . import broken_agreement  # noqa: F401
from .guarantees import GUARANTEES, Guarantee, get_guarantee, guarantees, recheck, search
from .suite import Report, verify

__all__ = ["GUARANTEES", "Guarantee", "Report", "get_guarantee", "guarantees", "recheck", "search", "verify"]
