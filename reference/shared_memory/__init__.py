"""Shared-memory asynchrony (seed 002, "Lifting Synchronization Barriers").

* :mod:`.conflict` — the conflict graph of a sparse problem's samples (networkx) and its statistics;
* :mod:`.hogwild` — HOGWILD! at coordinate granularity (atomic add, racy read-modify-write, locking);
* :mod:`.cyclades` — serially-equivalent conflict-free parallel SGD (CYCLADES-style).

Importing this package registers its algorithms.
"""

from . import conflict  # noqa: F401
from . import hogwild  # noqa: F401
from . import cyclades  # noqa: F401
