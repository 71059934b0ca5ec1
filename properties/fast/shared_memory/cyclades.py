"""Checks of fast serially-equivalent SGD (``fast/shared_memory/cyclades.py``), declared once that
fast algorithm exists (until then, this module declares nothing).

Its runs are replayable, so every run is rebuilt through the reference and checked by the
reference's guarantees of ``serially-equivalent-sgd`` (``serial-equivalence``,
``conflicts-in-order``, replay determinism) without anything declared here (:mod:`..registry`).
What is declared: a problem sparse enough that a batch splits into several components (the
reference's hard case), and the planted bug of the reference's ``broken-cyclades-deals-merged-order``:
the ``work`` step replaced by that variant's, which deals the components' merged order out to the
threads in turn, so one component is split across two threads; the fast run rebuilt as the variant
must violate ``serial-equivalence``.
"""

from __future__ import annotations

from ....fast.run import fast_algorithms
from ....fast.shared_memory.cyclades import rebuild_cyclades_run
from ....reference.registry import get_algorithm
from ..registry import FastSuite, Planted, declare

NAME = "serially-equivalent-sgd"
VARIANT = "broken-cyclades-deals-merged-order"
#: forty points over twenty coordinates, supports of two: batches split into several components
SPARSE = {"name": "sparse-svm", "params": {"m": 40, "d": 20, "nnz": 2}}


def _variant_steps(problem, seed) -> dict:
    return {"work": get_algorithm(VARIANT).steps.work}


def _rebuild_as(run, variant: str):
    return rebuild_cyclades_run(run, variant)


if NAME in fast_algorithms():
    declare(FastSuite(
        algorithm=NAME, problem=SPARSE, replayed=True,
        planted=(Planted(name="components-split-across-threads",
                         mistake="work deals the components' merged order out to the threads in turn",
                         steps=_variant_steps, variant=VARIANT, guarantee="serial-equivalence",
                         rebuild_as=_rebuild_as, tries=6),)))
